"""The fast path of :meth:`recanalytics.fields.RecordSpec.decode_page`: a page checked by msgspec
against typed structs, its records kept as JSON bytes, and the records of many pages read into
columns at once by polars' NDJSON reader and polars expressions.

The structs are generated from a record's :class:`~recanalytics.fields.Field` tuple and are
strict: an unknown key (which belongs in ``extra``), a value of another JSON type than the
column's, a number outside the column's range, a nested object that is null, anything that is
not clean raises :class:`Miss`, and the caller parses the page with the tolerant per-record path
instead. So on every page this path accepts, its frame is the one the tolerant path would build,
with ``extra`` null unless a value could not be read (then it is kept under ``_unparsed``).

The structs also give the pager what it needs per page (ids, creation times) as the page
arrives; the columns are built only when :class:`Rows` holds enough records (or the load ends),
so a load costs one NDJSON read and one polars ``select`` per :attr:`Rows.LIMIT` records.

How each field is read, by its parser (polars reads every value as text: a JSON string as it
is, a number as its decimal digits):

* ``as_str``: strings as they are; a value that reads as an object or a list (``{…``/``[…``) is
  taken from its record's JSON and rendered as the tolerant path renders it.
* ``as_lower``: polars ``strip_chars``/``to_lowercase`` on ASCII values (Python's own
  ``strip().lower()`` otherwise, which differs from Unicode's on a few characters).
* integer parsers (``as_int``, ``as_count``, ``as_seconds``): JSON integers within the bounds of
  the parser and the dtype, and integer strings within them, by polars; any other string by the
  field's parser (floats send the page the tolerant way).
* ``as_iso_time``: ``YYYY-MM-DDThh:mm:ssZ`` parsed by polars; any other form by the field's own
  parser, value by value.
* any other parser: the values as msgspec decoded them, each by the field's own parser (fields
  of low-volume endpoints).
"""

from __future__ import annotations

import json
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
_SPLIT = msgspec.json.Decoder(list[msgspec.Raw])


Failed = dict[int, Any]  # row -> the value as sent, which could not be read


@dataclass(frozen=True)
class Column:
    """One field: where its value sits, how it is read, and how to get it from a struct."""

    field: Field
    how: str
    get: Callable[[Any], Any]

    @property
    def text(self) -> pl.Expr:
        """The field's values as polars read them (text), from the read frame."""
        key, *rest = self.field.where
        expr = pl.col(key)
        for name in rest:
            expr = expr.struct.field(name)
        return expr


def _int_type(field: Field) -> Any:
    """``int`` within the bounds of the field's parser and dtype, or None for other parsers."""
    bounds = _int_bounds(field)
    if bounds is None:
        return None
    low, high = bounds
    # Decimal strings (Plivo sends numbers as text) are read by the field's parser.
    return Annotated[int, msgspec.Meta(ge=low, le=high)] | str | None


def _int_bounds(field: Field) -> tuple[int, int] | None:
    limits = int_bounds(field.dtype)
    if limits is None or field.parse not in (as_int, as_count, as_seconds):
        return None
    low, high = limits
    if field.parse is not as_int:
        low = max(low, 0)
    if field.parse is as_seconds:
        high = min(high, MAX_MILLISECONDS // 1000)
    return low, high


def _struct_type(field: Field) -> tuple[Any, str]:
    """The msgspec type a field's value must have, and how its column is read."""
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


def _by_parser(
    field: Field, values: Sequence[Any], rows: Sequence[int] | None = None
) -> tuple[pl.Series, Failed]:
    """The tolerant reading of a column (of only ``rows`` of it, the others being null): an
    unreadable value is null and reported, exactly as the per-record path does."""
    parse = bounded(field.parse, field.dtype)
    out: list[Any] = [None] * len(values)
    failed: Failed = {}
    for row in range(len(values)) if rows is None else rows:
        value = values[row]
        if value is None or (value == "" and field.parse is not as_str):
            continue
        try:
            out[row] = parse(value)
        except (Invalid, ValueError, TypeError, OverflowError, RecursionError):
            failed[row] = value
    return pl.Series(field.name, out, dtype=field.dtype, strict=True), failed


def _vectorized(column: Column) -> tuple[pl.Expr, pl.Expr]:
    """(the column's value by polars expressions, where the field's parser must read it
    instead) for a column that is not read value by value."""
    f = column.field
    text = column.text
    if column.how == "text":
        # An object or a list arrives as polars' rendering of it; its record says what it was.
        return text, text.str.starts_with("{") | text.str.starts_with("[")
    if column.how == "lower":
        lowered = text.str.strip_chars(ASCII_SPACE).str.to_lowercase()
        return pl.when(text != "").then(lowered), text.str.contains(r"[^\x00-\x7f]")
    if column.how == "plain":
        bounds = _int_bounds(f)
        assert bounds is not None
        number = text.str.to_integer(strict=False)
        fits = number.is_between(*bounds)
        readable = text.is_not_null() & (text != "")
        return pl.when(fits).then(number).cast(f.dtype), readable & fits.not_().fill_null(True)
    # iso
    moments = text.str.to_datetime(ISO_Z_FORMAT, time_unit="us", strict=False)
    utc = moments.dt.replace_time_zone("UTC").cast(f.dtype)
    return utc, moments.is_null() & text.is_not_null()


class TypedPage:
    """Checks pages of one record shape (:meth:`decode` raises :class:`Miss` on a page that is
    not clean) and reads the records of any number of them into one typed frame
    (:meth:`frame`).

    Examples
    --------
    >>> from recanalytics.fields import F, RecordSpec
    >>> from recanalytics.parsers import as_int
    >>> spec = RecordSpec([F("sid"), F("size", pl.Int64, as_int)])
    >>> typed = TypedPage(spec.fields, spec.schema)
    >>> page = typed.decode(b'{"items": [{"sid": "a", "size": 3}], "next": null}', "items")
    >>> typed.frame(page.records, page.python, spec.issues).row(0), page.body["next"]
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
        self.text_schema = _text_schema(tree)
        by_name = {c.field.name: c for c in self.columns}
        self.columns = [by_name[f.name] for f in fields]  # the frame's column order
        self.python = [c for c in self.columns if c.how == "python"]

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
                self.columns.append(Column(node, how, attrgetter(path)))
        return msgspec.defstruct(
            name, spec, rename=rename, forbid_unknown_fields=True, gc=False, frozen=True
        )

    def getter(self, name: str) -> Callable[[Any], Any]:
        """Reads field ``name``'s value (as sent) from a record struct."""
        for column in self.columns:
            if column.field.name == name:
                return column.get
        raise KeyError(name)

    def decode(self, content: bytes, list_key: str) -> CleanPage:
        """Check one page; its body (with its list as structs) and its records as JSON.

        Raises
        ------
        Miss
            The page is not clean: parse it by the tolerant path.
        """
        try:
            envelope = _ENVELOPE.decode(content)
            items = envelope.get(list_key)
            if items is None:
                raise Miss
            structs = self.records.decode(items)
            body: dict[str, Any] = {k: _ANY.decode(v) for k, v in envelope.items() if k != list_key}
            # A record spans one NDJSON line: outside strings (where a strict decoder allows
            # none) a line break is only whitespace.
            listed = bytes(items).replace(b"\n", b" ") if b"\n" in content else items
            records = _SPLIT.decode(listed)
        except (msgspec.DecodeError, RecursionError):
            raise Miss from None
        body[list_key] = structs
        python = [list(map(c.get, structs)) for c in self.python]
        return CleanPage(body, records, python)

    def frame(
        self, records: Sequence[Any], python: Sequence[Sequence[Any]], issues: Counter[str]
    ) -> pl.DataFrame:
        """The typed frame of clean records (JSON bytes, one each) and of the values of the
        :attr:`python` columns; unreadable values are counted in ``issues`` and kept in
        ``extra`` (as ``_unparsed``), as on the tolerant path."""
        if not records:
            return pl.DataFrame(schema=self.schema)
        read = pl.read_ndjson(b"\n".join(records), schema=self.text_schema)
        vectorized = [c for c in self.columns if c.how != "python"]
        exprs = []
        for i, column in enumerate(vectorized):
            value, other = _vectorized(column)
            exprs += [column.text.alias(f"t{i}"), value.alias(f"v{i}"), other.alias(f"o{i}")]
        done = read.select(exprs)
        series: dict[str, pl.Series] = {}
        unparsed: dict[int, dict[str, Any]] = {}
        decoded: dict[int, Any] = {}  # row -> its record as Python values, when needed

        def fail(column: Column, failed: Failed) -> None:
            if failed:
                issues[column.field.name] += len(failed)
                path = ".".join(column.field.where)
                for row, value in failed.items():
                    unparsed.setdefault(row, {})[path] = value

        for i, column in enumerate(vectorized):
            read_value = done.get_column(f"v{i}").alias(column.field.name)
            rows = done.get_column(f"o{i}").arg_true().to_list()
            if rows:
                if column.how == "text":
                    sent = [_dig(decoded, records, row, column.field.where) for row in rows]
                    others = pl.Series([None if v is None else as_str(v) for v in sent])
                else:
                    texts = done.get_column(f"t{i}").gather(rows).to_list()
                    others, failed = _by_parser(column.field, texts)
                    fail(column, {rows[j]: sent for j, sent in failed.items()})
                read_value = read_value.scatter(rows, others.cast(read_value.dtype))
            series[column.field.name] = read_value
        for column, values in zip(self.python, python, strict=True):
            series[column.field.name], failed = _by_parser(column.field, values)
            fail(column, failed)
        extra: list[str | None] = [None] * len(records)
        for row, failed_values in unparsed.items():
            extra[row] = as_json({"_unparsed": failed_values})
        ordered = [series[c.field.name] for c in self.columns]
        return pl.DataFrame([*ordered, pl.Series(EXTRA, extra, dtype=pl.String)])


@dataclass(frozen=True)
class CleanPage:
    """A page :meth:`TypedPage.decode` accepted.

    Attributes
    ----------
    body : dict
        The decoded body, its list holding the records as structs.
    records : list
        Each record's JSON (bytes-like), for :meth:`TypedPage.frame`.
    python : list of list
        The values of the columns read value by value (:attr:`TypedPage.python`), in order.
    """

    body: dict[str, Any]
    records: list[Any]
    python: list[list[Any]]


def _text_schema(tree: dict[str, Any]) -> pl.Schema:
    """What polars reads of a record: every field as text, nested objects as structs."""
    return pl.Schema(
        {
            key: pl.Struct(_text_schema(node)) if isinstance(node, dict) else pl.String
            for key, node in tree.items()
        }
    )


def _dig(decoded: dict[int, Any], records: Sequence[Any], row: int, where: Sequence[str]) -> Any:
    if row not in decoded:
        decoded[row] = json.loads(bytes(records[row]))
    value = decoded[row]
    for key in where:
        value = value.get(key) if isinstance(value, dict) else None
    return value
