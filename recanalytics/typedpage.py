"""The fast path of :meth:`recanalytics.fields.RecordSpec.decode_page`: a page's bytes decoded by
msgspec straight into typed structs, then into columns without a Python loop per field value.

The structs are generated from a record's :class:`~recanalytics.fields.Field` tuple and are
strict: an unknown key (which belongs in ``extra``), a value of another JSON type than the
column's, a number outside the column's range, a nested object that is null, anything that is
not clean raises :class:`Miss`, and the caller parses the page with the tolerant per-record path
instead. So on every page this path accepts, its frame is the one the tolerant path would build,
with ``extra`` null (nothing left over, nothing unreadable).

How each field is read, by its parser:

* ``as_str``: strings as they are; objects and lists as the tolerant path renders them.
* ``as_lower``: polars ``strip_chars``/``to_lowercase`` on ASCII columns (Python's own
  ``strip().lower()`` otherwise, which differs from Unicode's on a few characters).
* integer parsers (``as_int``, ``as_count``, ``as_seconds``): JSON integers within the bounds of
  the parser and the dtype; a column with strings among them is read by the field's parser
  (floats send the page the tolerant way).
* ``as_iso_time``: ``YYYY-MM-DDThh:mm:ssZ`` parsed by polars; any other form by the field's own
  parser, value by value.
* any other parser: the field's own parser, value by value (fields of low-volume endpoints).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from operator import attrgetter
from typing import TYPE_CHECKING, Annotated, Any

import msgspec
import polars as pl

from recanalytics.parsers import (
    EXTRA,
    MAX_MILLISECONDS,
    Invalid,
    as_count,
    as_int,
    as_iso_time,
    as_json,
    as_lower,
    as_seconds,
    as_str,
    bounded,
    int_bounds,
)

if TYPE_CHECKING:
    from recanalytics.fields import Field
ISO_Z_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
# Python's str.strip() removes these ASCII characters; polars' strip_chars() would not remove
# the four information separators (U+001C..U+001F), so they are named.
ASCII_SPACE = " \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f"


class Miss(Exception):
    """The page is not clean enough for the typed path; parse it tolerantly."""


_ENVELOPE = msgspec.json.Decoder(dict[str, msgspec.Raw])
_ANY = msgspec.json.Decoder()


Finished = tuple[pl.Series, dict[int, Any]]  # the column, and row -> value it could not read


@dataclass(frozen=True)
class Column:
    """One field: how to get its values from the structs, and how to finish the column."""

    field: Field
    get: Callable[[Any], Any]
    finish: Callable[[list[Any]], Finished]


def _int_type(field: Field) -> Any:
    """``int`` within the bounds of the field's parser and dtype, or None for other parsers."""
    limits = int_bounds(field.dtype)
    if limits is None or field.parse not in (as_int, as_count, as_seconds):
        return None
    low, high = limits
    if field.parse is not as_int:
        low = max(low, 0)
    if field.parse is as_seconds:
        high = min(high, MAX_MILLISECONDS // 1000)
    # Decimal strings (Plivo sends numbers as text) are read by the field's parser.
    return Annotated[int, msgspec.Meta(ge=low, le=high)] | str | None


def _struct_type(field: Field) -> tuple[Any, str]:
    """The msgspec type a field's value must have, and how its column is finished."""
    dtype = field.dtype() if isinstance(field.dtype, type) else field.dtype
    if field.parse is as_str and dtype == pl.String:
        return str | dict | list | None, "text"
    if field.parse is as_lower and dtype == pl.String:
        return str | None, "lower"
    if dtype.is_integer():
        typed = _int_type(field)
        if typed is not None:
            return typed, "plain"
    if field.parse is as_iso_time and isinstance(dtype, pl.Datetime):
        return str | None, "iso"
    return Any, "python"


def _series(field: Field, values: Any) -> pl.Series:
    return pl.Series(field.name, values, dtype=field.dtype, strict=True)


def _by_parser(field: Field, values: list[Any], rows: Sequence[int] | None = None) -> Finished:
    """The tolerant reading of a column (of only ``rows`` of it, the others being null): an
    unreadable value is null and reported, exactly as the per-record path does."""
    parse = bounded(field.parse, field.dtype)
    out: list[Any] = [None] * len(values)
    failed: dict[int, Any] = {}
    for row in range(len(values)) if rows is None else rows:
        value = values[row]
        if value is None or (value == "" and field.parse is not as_str):
            continue
        try:
            out[row] = parse(value)
        except (Invalid, ValueError, TypeError, OverflowError, RecursionError):
            failed[row] = value
    return _series(field, out), failed


def _finisher(field: Field, how: str) -> Callable[[list[Any]], Finished]:
    def text(values: list[Any]) -> Finished:
        try:
            return _series(field, values), {}
        except (TypeError, pl.exceptions.PolarsError):  # objects or lists among the strings
            return _by_parser(field, values)

    def lower(values: list[Any]) -> Finished:
        series = _series(field, values)
        if series.str.contains(r"[^\x00-\x7f]").any():
            return _by_parser(field, values)
        lowered = series.str.strip_chars(ASCII_SPACE).str.to_lowercase()
        if (series == "").any():  # the tolerant path reads "" as absent
            lowered = pl.select(pl.when(series != "").then(lowered)).to_series()
        return lowered.alias(field.name), {}

    def iso(values: list[Any]) -> Finished:
        raw = pl.Series(field.name, values, dtype=pl.String)
        parsed = raw.str.to_datetime(ISO_Z_FORMAT, time_unit="us", strict=False)
        moments = parsed.dt.replace_time_zone("UTC").cast(field.dtype)
        if moments.null_count() == raw.null_count():
            return moments, {}
        # Other forms (offsets, fractions, a space) and unreadable values: the field's parser.
        missed = (moments.is_null() & raw.is_not_null()).arg_true().to_list()
        others, failed = _by_parser(field, values, missed)
        return moments.zip_with(moments.is_not_null(), others), failed

    def plain(values: list[Any]) -> Finished:
        try:
            return _series(field, values), {}
        except (TypeError, pl.exceptions.PolarsError):  # strings among the numbers
            return _by_parser(field, values)

    def python(values: list[Any]) -> Finished:
        return _by_parser(field, values)

    return {"text": text, "lower": lower, "iso": iso, "plain": plain, "python": python}[how]


class TypedPage:
    """Decodes pages of one record shape into column values; :meth:`decode` raises
    :class:`Miss` on a page that is not clean, and :meth:`frame` turns the values of any
    number of pages into one typed frame.

    Examples
    --------
    >>> from recanalytics.fields import F, RecordSpec
    >>> from recanalytics.parsers import as_int
    >>> spec = RecordSpec([F("sid"), F("size", pl.Int64, as_int)])
    >>> typed = TypedPage(spec.fields, spec.schema)
    >>> body, values = typed.decode(b'{"items": [{"sid": "a", "size": 3}], "next": null}', "items")
    >>> typed.frame(values, spec.issues).row(0), body["next"]
    (('a', 3, None), None)
    """

    def __init__(self, fields: Sequence[Field], schema: pl.Schema) -> None:
        self.schema = schema
        tree: dict[str, Any] = {}
        for f in fields:
            node = tree
            *parents, leaf = f.where
            for key in parents:
                node = node.setdefault(key, {})
                if not isinstance(node, dict):
                    raise ValueError(f"field {f.name} nests under another field")
            if leaf in node:
                raise ValueError(f"two fields read {'.'.join(f.where)}")
            node[leaf] = f
        self.columns: list[Column] = []
        record = self._struct("Record", tree, ())
        self.records = msgspec.json.Decoder(list[record])  # type: ignore[valid-type]

    def _struct(self, name: str, tree: dict[str, Any], prefix: tuple[str, ...]) -> Any:
        spec: list[tuple[str, Any, Any]] = []
        rename: dict[str, str] = {}
        for i, (key, node) in enumerate(tree.items()):
            attr = f"f{i}"
            rename[attr] = key
            if isinstance(node, dict):
                # Not optional: a null object leaves {"key": null} in extra on the tolerant path.
                nested = self._struct(f"{name}_{i}", node, (*prefix, attr))
                spec.append((attr, nested, msgspec.field(default_factory=nested)))
            else:
                typed, how = _struct_type(node)
                spec.append((attr, typed, None))
                path = ".".join((*prefix, attr))
                self.columns.append(Column(node, attrgetter(path), _finisher(node, how)))
        return msgspec.defstruct(
            name, spec, rename=rename, forbid_unknown_fields=True, gc=False, frozen=True
        )

    def getter(self, name: str) -> Callable[[Any], Any]:
        """Reads field ``name``'s value (as sent) from a record struct."""
        for column in self.columns:
            if column.field.name == name:
                return column.get
        raise KeyError(name)

    def empty_values(self) -> list[list[Any]]:
        return [[] for _ in self.columns]

    def decode(
        self, content: bytes, list_key: str, into: list[list[Any]] | None = None
    ) -> tuple[dict[str, Any], list[list[Any]]]:
        """(the body with its list as structs, each column's values appended to ``into``)."""
        try:
            envelope = _ENVELOPE.decode(content)
            items = envelope.get(list_key)
            if items is None:
                raise Miss
            records = self.records.decode(items)
            body: dict[str, Any] = {k: _ANY.decode(v) for k, v in envelope.items() if k != list_key}
        except (msgspec.DecodeError, RecursionError):
            raise Miss from None
        body[list_key] = records
        values = self.empty_values() if into is None else into
        for column, target in zip(self.columns, values, strict=True):
            target.extend(map(column.get, records))
        return body, values

    def frame(self, values: list[list[Any]], issues: Counter[str]) -> pl.DataFrame:
        """The typed frame of decoded column values; unreadable values are counted in
        ``issues`` and kept in ``extra`` (as ``_unparsed``), as on the tolerant path."""
        series = []
        unparsed: dict[int, dict[str, Any]] = {}
        for column, column_values in zip(self.columns, values, strict=True):
            finished, failed = column.finish(column_values)
            series.append(finished)
            if failed:
                issues[column.field.name] += len(failed)
                path = ".".join(column.field.where)
                for row, value in failed.items():
                    unparsed.setdefault(row, {})[path] = value
        n = len(values[0]) if values else 0
        extra: list[str | None] = [None] * n
        for row, failed_values in unparsed.items():
            extra[row] = as_json({"_unparsed": failed_values})
        return pl.DataFrame([*series, pl.Series(EXTRA, extra, dtype=pl.String)])
