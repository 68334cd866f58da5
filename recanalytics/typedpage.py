"""The fast path of :meth:`recanalytics.fields.RecordSpec.decode_page`: a page's bytes decoded by
msgspec straight into typed structs, then the records of many pages into columns at once, with
one polars ``select`` for every conversion and no Python loop per field value.

The structs are generated from a record's :class:`~recanalytics.fields.Field` tuple and are
strict: an unknown key (which belongs in ``extra``), a value of another JSON type than the
column's, a number outside the column's range, a nested object that is null, a value nested
deeper than :data:`~recanalytics.jsonbody.MAX_DEPTH` (the tolerant path cuts it there), anything
that is not clean raises :class:`Miss`, and the caller parses the page with the tolerant
per-record path instead. So on every page this path accepts, its frame is the one the tolerant
path would build, with ``extra`` null unless a value could not be read (then it is kept under
``_unparsed``, written by :func:`~recanalytics.parsers.extra_json` as on the tolerant path).

The records have fixed shapes except where a free-form field (a text field, a field of another
parser) holds an object or a list: those, and the values beside the record list, are all the
depth check reads, not the page (which would cost about as much as decoding it).

The structs give the pager what it needs per page (ids, creation times) as the page arrives;
:class:`~recanalytics.fields.Rows` gathers the records of every query of a load and frames them
every :attr:`~recanalytics.fields.Rows.LIMIT` records and at the end.

How each field is read, by its parser:

* ``as_str``: strings as they are; objects and lists as the tolerant path renders them.
* ``as_lower``: polars ``strip_chars``/``to_lowercase`` on ASCII values (Python's own
  ``strip().lower()`` otherwise, which differs from Unicode's on a few characters).
* integer parsers (``as_int``, ``as_count``, ``as_seconds``): JSON integers within the bounds of
  the parser and the dtype; a column sent as text (Plivo's numbers, SignalWire's ``channels``)
  is read by polars where a value is plain ASCII digits within those bounds, by the field's
  parser otherwise; a column mixing integers and strings is read by the field's parser (floats
  send the page the tolerant way).
* ``as_fractional_seconds`` (a ``Float64`` column): JSON numbers within its bounds as they are;
  a column sent as text (SignalWire's ``duration``) read by polars where a value is plain
  decimal digits, by the field's parser otherwise.
* ``as_iso_time``: ``YYYY-MM-DDThh:mm:ssZ`` parsed by polars; any other form by the field's own
  parser, value by value.
* ``as_rfc2822_time``: ``Wed, 26 Sep 2018 00:00:00 +0000`` (day, month and weekday names in
  English title case, two-digit day, four-digit year, numeric offset) parsed by polars; any
  other form (a leap second, ``GMT``, a two-digit year …) by the field's own parser, which
  reads a few of them differently from polars.
* any other parser: the field's own parser, value by value (fields of low-volume endpoints).
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import chain
from operator import attrgetter
from typing import TYPE_CHECKING, Annotated, Any

import msgspec
import polars as pl

from recanalytics import jsonbody
from recanalytics.parsers import (
    EXTRA,
    FAILURES,
    MAX_MILLISECONDS,
    as_count,
    as_fractional_seconds,
    as_int,
    as_iso_time,
    as_lower,
    as_rfc2822_time,
    as_seconds,
    as_str,
    bounded,
    extra_json,
    int_bounds,
)

if TYPE_CHECKING:
    from recanalytics.fields import Field
ISO_Z_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
# Only this exact form goes to polars: it also reads one-digit fields and turns a leap second
# into the next minute, where the field's parser (the tolerant path's) reads them its own way,
# and a page must give the same frame whichever path it takes.
ISO_Z_PLAIN = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:[0-5]\dZ$"
RFC2822_FORMAT = "%a, %d %b %Y %H:%M:%S %z"
# Only the form polars and the stdlib read alike goes to polars (see the module docstring).
RFC2822_PLAIN = (
    r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), (0[1-9]|[12]\d|3[01]) "
    r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [1-9]\d{3} "
    r"([01]\d|2[0-3]):[0-5]\d:[0-5]\d [+-]([01]\d|2[0-3])[0-5]\d$"
)
# Python's str.strip() removes these ASCII characters; polars' strip_chars() would not remove
# the four information separators (U+001C..U+001F), so they are named.
ASCII_SPACE = " \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f"
# An integer as text that polars reads as Python's Decimal would: ASCII digits, below 2**63.
DIGITS = r"^[0-9]{1,18}$"
# A number of seconds as text that polars reads as the field's parser would: ASCII digits, a
# fraction or not (both read it correctly rounded to the nearest float).
DECIMAL_DIGITS = r"^[0-9]{1,18}(\.[0-9]{1,18})?$"
SECONDS_MAX = MAX_MILLISECONDS // 1000


class Miss(Exception):
    """The page is not clean enough for the typed path; parse it tolerantly."""


_ENVELOPE = msgspec.json.Decoder(dict[str, msgspec.Raw])
_ANY = msgspec.json.Decoder()


Failed = dict[int, Any]  # row -> the value as sent, which could not be read


@dataclass(frozen=True)
class Column:
    """One field: where its value sits, how it is read, and how to get it from a struct."""

    field: Field
    how: str
    get: Callable[[Any], Any]


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


# What a free-form field (read "text" or "python") holds when it holds no object or list.
_SCALAR = str | int | float | bool | None
# How the columns are read whose values may be any JSON, objects and lists too.
_FREE_FORM = ("text", "python")


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
    if field.parse is as_fractional_seconds and dtype == pl.Float64:
        return Annotated[float, msgspec.Meta(ge=0, le=SECONDS_MAX)] | str | None, "seconds"
    if field.parse is as_iso_time and isinstance(dtype, pl.Datetime):
        return str | None, "iso"
    if field.parse is as_rfc2822_time and isinstance(dtype, pl.Datetime):
        return str | None, "rfc2822"
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
        except FAILURES:
            failed[row] = value
    return pl.Series(field.name, out, dtype=field.dtype, strict=True), failed


def _vectorized(column: Column, raw: pl.Expr, dtype: pl.DataType) -> tuple[pl.Expr, pl.Expr] | None:
    """(the column's value by polars expressions on its raw values (of ``dtype``), where the
    field's parser must read it instead), or None when the raw values are the column as they
    are."""
    if column.how == "plain":
        if dtype != pl.String:
            return None
        # Integers sent as text (Plivo, SignalWire's channels): plain digits within the
        # column's bounds are read here, anything else ("4.0", " 7", "-1") by the parser.
        low, high = _int_bounds(column.field) or (0, -1)
        number = pl.when(raw.str.contains(DIGITS)).then(raw.str.to_integer(strict=False))
        value = pl.when(number.is_between(low, high)).then(number).cast(column.field.dtype)
        return value, value.is_null() & raw.is_not_null()
    if column.how == "seconds":
        if dtype != pl.String:
            return None
        number = pl.when(raw.str.contains(DECIMAL_DIGITS)).then(raw.cast(pl.Float64, strict=False))
        value = pl.when(number <= SECONDS_MAX).then(number)
        return value, value.is_null() & raw.is_not_null()
    if column.how == "lower":
        lowered = raw.str.strip_chars(ASCII_SPACE).str.to_lowercase()
        return pl.when(raw != "").then(lowered), raw.str.contains(r"[^\x00-\x7f]")
    if column.how == "iso":
        parsed = raw.str.to_datetime(ISO_Z_FORMAT, time_unit="us", strict=False)
        moments = pl.when(raw.str.contains(ISO_Z_PLAIN) & _in_calendar(parsed)).then(parsed)
        utc = moments.dt.replace_time_zone("UTC").cast(column.field.dtype)
        return utc, moments.is_null() & raw.is_not_null()
    if column.how == "rfc2822":
        plain = raw.str.contains(RFC2822_PLAIN)
        parsed = raw.str.to_datetime(RFC2822_FORMAT, time_unit="us", strict=False)
        utc = parsed.dt.convert_time_zone("UTC")
        moments = pl.when(plain & _in_calendar(utc)).then(utc)
        return moments.cast(column.field.dtype), moments.is_null() & raw.is_not_null()
    return None


def _in_calendar(moments: pl.Expr) -> pl.Expr:
    """Whether polars' times fall in years 1 to 9999: it reads year 0 (and 10000 onwards
    with more digits), which Python's datetime cannot hold, so a frame holding one fails
    wherever a value is taken out (``min()``). The field's parser reads the rest."""
    return moments.dt.year().is_between(1, 9999)


def _raw_series(column: Column, values: list[Any]) -> pl.Series | None:
    """A column's values as sent, typed (strings, or integers of the field's dtype, or strings
    for an integer column sent as text); None when they do not fit one type (objects among
    strings, strings among integers)."""
    first = next((v for v in values if v is not None), None)
    text = column.how not in ("plain", "seconds") or isinstance(first, str)
    dtype = pl.String if text else column.field.dtype
    if isinstance(first, dict | list):
        # Nested JSON (a layout object, a list of sources) is the parser's to write as text;
        # polars would try every element before giving up (40 ms per 1,000 rows).
        return None
    try:
        return pl.Series(column.field.name, values, dtype=dtype, strict=True)
    except (TypeError, pl.exceptions.PolarsError):
        return None


class _Layout:
    """The struct types and columns of one record shape, made once per shape: a load makes a
    :class:`TypedPage` per endpoint, and defining its structs cost a small load a few
    milliseconds each time."""

    def __init__(self, fields: tuple[Field, ...]) -> None:
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
        self._tree = tree
        columns: list[Column] = []
        self._struct("Record", tree, (), None, columns)
        by_name = {c.field.name: c for c in columns}
        self.columns = tuple(by_name[f.name] for f in fields)  # the frame's column order
        self._decoders: dict[frozenset[str], msgspec.json.Decoder[Any]] = {}

    def decoder(self, containers: frozenset[str]) -> msgspec.json.Decoder[Any]:
        """Decodes a record list; only the free-form fields named in ``containers`` may hold
        objects or lists."""
        made = self._decoders.get(containers)
        if made is None:
            record = self._struct("Record", self._tree, (), containers, None)
            made = msgspec.json.Decoder(list[record])  # type: ignore[valid-type]
            self._decoders[containers] = made
        return made

    def _struct(
        self,
        name: str,
        tree: dict[str, Any],
        prefix: tuple[str, ...],
        containers: frozenset[str] | None,
        columns: list[Column] | None,
    ) -> Any:
        spec: list[tuple[str, Any, Any]] = []
        rename: dict[str, str] = {}
        for i, (key, node) in enumerate(tree.items()):
            attr = f"f{i}"
            rename[attr] = key
            if isinstance(node, dict):
                # Not optional: a null object leaves {"key": null} in extra on the tolerant path.
                nested = self._struct(f"{name}_{i}", node, (*prefix, attr), containers, columns)
                spec.append((attr, nested, msgspec.field(default_factory=nested)))
            else:
                typed, how = _struct_type(node)
                if how in _FREE_FORM and containers is not None and node.name not in containers:
                    typed = _SCALAR
                spec.append((attr, typed, None))
                if columns is not None:
                    path = ".".join((*prefix, attr))
                    columns.append(Column(node, how, attrgetter(path)))
        return msgspec.defstruct(
            name, spec, rename=rename, forbid_unknown_fields=True, gc=False, frozen=True
        )


@functools.lru_cache(maxsize=64)
def _layout(fields: tuple[Field, ...]) -> _Layout:
    return _Layout(fields)


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
    >>> values = typed.values([page.body["items"]])
    >>> typed.frame(values, spec.issues).row(0), page.body["next"]
    (('a', 3, None), None)
    """

    def __init__(self, fields: Sequence[Field], schema: pl.Schema) -> None:
        self.schema = schema
        self._layout = _layout(tuple(fields))
        self.columns = list(self._layout.columns)
        self._free = [c for c in self.columns if c.how in _FREE_FORM]
        # Objects and lists in free-form fields are what can nest past MAX_DEPTH. The records
        # are decoded with scalars only in the free-form fields that have held neither on an
        # earlier page (where none do, nothing is left to check); a page that holds one
        # where none was yet is decoded with any value there (self._any), and its fields
        # that held one are the ones checked from then on (self._held).
        self._held: list[Column] = []
        self._any = self._decoder({c.field.name for c in self._free})
        self.records = self._decoder(set())

    def _decoder(self, containers: set[str]) -> msgspec.json.Decoder[Any]:
        """Decodes a record list; only the free-form fields named in ``containers`` may hold
        objects or lists."""
        return self._layout.decoder(frozenset(containers))

    def _too_deep(self, structs: list[Any]) -> bool:
        """Whether an object or a list in a free-form field of ``structs`` nests deeper than
        the tolerant path keeps (:data:`~recanalytics.jsonbody.MAX_DEPTH`, counted from the
        body's top: the body, its list and the record are 3 levels, each key of the field's
        path above its own one more)."""
        deep: dict[int, list[Any]] = {}
        for column in self._held:
            values = [v for v in map(column.get, structs) if isinstance(v, dict | list)]
            deep.setdefault(len(column.field.where), []).extend(values)
        # The list the values are encoded in is a level of its own, as the field's key is.
        return any(
            jsonbody.deeper_than(msgspec.json.encode(values), jsonbody.MAX_DEPTH - 1 - keys)
            for keys, values in deep.items()
            if values
        )

    def _learn(self, structs: list[Any]) -> None:
        """Decode pages allowing objects and lists in the free-form fields where ``structs``
        (decoded by ``self._any``) hold one, and check them from now on."""
        names = {c.field.name for c in self._held} | {
            c.field.name
            for c in self._free
            if any(isinstance(v, dict | list) for v in map(c.get, structs))
        }
        if len(names) > len(self._held):
            self._held = [c for c in self._free if c.field.name in names]
            self.records = self._decoder(names)

    def getter(self, name: str) -> Callable[[Any], Any]:
        """Reads field ``name``'s value (as sent) from a record struct."""
        for column in self.columns:
            if column.field.name == name:
                return column.get
        raise KeyError(name)

    def decode(self, content: bytes, list_key: str) -> CleanPage:
        """Check one page; its body, with its list as record structs.

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
            try:
                structs = self.records.decode(items)
            except msgspec.ValidationError:
                # An object or a list in a free-form field that held none so far (or a page
                # that is not clean, which fails here too).
                structs = self._any.decode(items)
                self._learn(structs)
            # msgspec reads ~1,000 levels; the tolerant path cuts past MAX_DEPTH (counted from
            # the body's top), and a page must give the same frame whichever path it takes.
            if self._held and self._too_deep(structs):
                raise Miss
            rest = [(k, bytes(v)) for k, v in envelope.items() if k != list_key]
            # A value beside the list sits a level down (in the body).
            if any(jsonbody.deeper_than(v, jsonbody.MAX_DEPTH - 1) for _, v in rest):
                raise Miss
            body: dict[str, Any] = {k: _ANY.decode(v) for k, v in rest}
        except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):
            # msgspec before 0.23 raised UnicodeDecodeError for text that is not UTF-8.
            raise Miss from None
        body[list_key] = structs
        return CleanPage(body, structs)

    def values(self, pages: Sequence[Sequence[Any]]) -> list[list[Any]]:
        """Each column's values (as sent) in the record structs of ``pages``."""
        structs = list(chain.from_iterable(pages))
        return [list(map(column.get, structs)) for column in self.columns]

    def frame(self, values: Sequence[list[Any]], issues: Counter[str]) -> pl.DataFrame:
        """The typed frame of the columns' values (:meth:`values`); unreadable values are
        counted in ``issues`` and kept in ``extra`` (as ``_unparsed``), as on the tolerant
        path."""
        height = len(values[0]) if values else 0
        unparsed: dict[int, dict[str, Any]] = {}
        series = self._read(list(zip(self.columns, values, strict=True)))
        for column in self.columns:
            failed = series[column.field.name][1]
            if failed:
                issues[column.field.name] += len(failed)
                path = ".".join(column.field.where)
                for row, value in failed.items():
                    unparsed.setdefault(row, {})[path] = value
        if unparsed:
            texts: list[str | None] = [None] * height
            for row, failed_values in unparsed.items():
                texts[row] = extra_json({"_unparsed": failed_values})
            extra = pl.Series(EXTRA, texts, dtype=pl.String)
        else:
            extra = pl.repeat(None, height, dtype=pl.String, eager=True).alias(EXTRA)
        ordered = [series[c.field.name][0] for c in self.columns]
        return pl.DataFrame([*ordered, extra])

    def read(self, name: str, values: list[Any]) -> pl.Series:
        """Field ``name``'s column of ``values`` (as sent), read as :meth:`frame` reads it; an
        unreadable value is null."""
        (column,) = (c for c in self.columns if c.field.name == name)
        return self._read([(column, values)])[name][0]

    def _read(
        self, columns: Sequence[tuple[Column, list[Any]]]
    ) -> dict[str, tuple[pl.Series, Failed]]:
        """Each column's typed values and the rows its parser could not read, with one polars
        ``select`` for every vectorized conversion."""
        series: dict[str, tuple[pl.Series, Failed]] = {}
        raw: list[pl.Series] = []  # raw values that polars expressions convert, in one select
        converted: dict[int, tuple[pl.Expr, pl.Expr]] = {}
        for i, (column, column_values) in enumerate(columns):
            typed = None if column.how == "python" else _raw_series(column, column_values)
            if typed is None:
                series[column.field.name] = _by_parser(column.field, column_values)
                continue
            conversion = _vectorized(column, pl.col(f"r{i}"), typed.dtype)
            if conversion is None:
                series[column.field.name] = typed, {}
            else:
                raw.append(typed.alias(f"r{i}"))
                converted[i] = conversion
        if not converted:
            return series
        exprs = [e for i, (v, o) in converted.items() for e in (v.alias(f"v{i}"), o.alias(f"o{i}"))]
        done = pl.DataFrame(raw).select(exprs)
        for i in converted:
            column, column_values = columns[i]
            value = done.get_column(f"v{i}").alias(column.field.name)
            others_mask = done.get_column(f"o{i}")
            # Series.any() is one call into Rust; arg_true() would run a query per column.
            rows = others_mask.arg_true().to_list() if others_mask.any() else []
            failed: Failed = {}
            if rows:
                sent = [column_values[row] for row in rows]
                others, bad = _by_parser(column.field, sent)
                failed = {rows[j]: value_ for j, value_ in bad.items()}
                value = value.scatter(rows, others)
            series[column.field.name] = value, failed
        return series


@dataclass(frozen=True)
class CleanPage:
    """A page :meth:`TypedPage.decode` accepted: its decoded body, and its records as structs
    (also in the body, under the list key)."""

    body: dict[str, Any]
    records: list[Any]
