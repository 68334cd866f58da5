"""Turning a page of provider JSON records into a typed polars frame, tolerantly.

A provider module declares its record as a tuple of :class:`Field` (column name, dtype, where
the value sits, how to parse it). Parsing never raises on provider data: a value that does not
parse, or does not fit its column (an integer out of the dtype's range, a non-finite float),
becomes null, is counted, and is kept as sent in the ``extra`` column together with every field
the module does not declare, so nothing the provider sent is lost. The one exception is a
credential: a key that names a token, password or secret (:data:`SECRET_KEY_RE`) is never kept
in ``extra``, whatever the provider.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar

import polars as pl

from recanalytics import jsonbody
from recanalytics.redact import REDACTED
from recanalytics.typedpage import Miss, TypedPage

EXTRA = "extra"

SECRET_KEY_RE = re.compile(
    r"(?i)(token|secret|passw(or)?d|pwd|credential|api_?key|private_?key|authori[sz]ation|"
    r"signature)"
)
"""Keys whose values are credentials (``access_token``, ``download_access_token``,
``password``, ``client_secret`` …): their values are replaced with ``REDACTED`` in ``extra``."""

MAX_MILLISECONDS = 2**53
"""The longest duration read, in ms (about 285,000 years): every count of seconds or
milliseconds below it converts exactly to a ``Duration("ms")``; a larger one is unreadable."""

# Issue names for repairs made to a whole body (not to one field's value).
UNDECODABLE = "<undecodable text, replaced with U+FFFD>"
TOO_DEEP = f"<nested deeper than {jsonbody.MAX_DEPTH} levels, kept as text>"
NOT_AN_OBJECT = "<not an object>"


class Invalid(Exception):
    """Raised by a parser for a value it cannot read."""


def as_str(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"), sort_keys=True)
    raise Invalid


def as_decimal(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise Invalid
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise Invalid
        return Decimal(repr(value))
    if isinstance(value, str):
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            raise Invalid from None
        if not number.is_finite():
            raise Invalid
        return number
    raise Invalid


def as_int(value: Any) -> int:
    """Integers, integral floats and decimal strings (``"4"``, ``"345100.00000"``)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    number = as_decimal(value)
    return int(number.to_integral_value())


def as_float(value: Any) -> float:
    """Finite numbers and decimal strings; NaN and infinities are unreadable."""
    if isinstance(value, float | int) and not isinstance(value, bool):
        number = float(value)
    else:
        number = float(as_decimal(value))
    if not math.isfinite(number):
        raise Invalid
    return number


def as_count(value: Any) -> int:
    """A non-negative integer (a size in bytes, a number of items)."""
    number = as_int(value)
    if number < 0:
        raise Invalid
    return number


def as_seconds(value: Any) -> int:
    """A non-negative whole number of seconds that fits a ``Duration("ms")``."""
    number = as_count(value)
    if number > MAX_MILLISECONDS // 1000:
        raise Invalid
    return number


def as_milliseconds(value: Any) -> float:
    """A non-negative number of milliseconds that fits a ``Duration("ms")``."""
    number = as_float(value)
    if not 0 <= number <= MAX_MILLISECONDS:
        raise Invalid
    return number


def as_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false", "1", "0"):
        return value.strip().lower() in ("true", "1")
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise Invalid


def as_lower(value: Any) -> str:
    return as_str(value).strip().lower()


def _utc(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC)


def as_iso_time(value: Any) -> dt.datetime:
    """ISO 8601 with ``Z``, an offset or none (UTC), ``T`` or space separated."""
    if not isinstance(value, str) or not value.strip():
        raise Invalid
    try:
        return _utc(dt.datetime.fromisoformat(value.strip()))
    except ValueError:
        raise Invalid from None


def as_rfc2822_time(value: Any) -> dt.datetime:
    """``Wed, 26 Sep 2018 00:00:00 +0000``; ISO 8601 is accepted too."""
    if not isinstance(value, str) or not value.strip():
        raise Invalid
    try:
        return _utc(email.utils.parsedate_to_datetime(value))
    except (TypeError, ValueError, IndexError):
        return as_iso_time(value)


def as_epoch_ms_time(value: Any) -> dt.datetime:
    """Epoch milliseconds as a number or decimal string (``"1407235163907.00000"``)."""
    millis = as_decimal(value)
    micros = int((millis * 1000).to_integral_value())
    try:
        return dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(microseconds=micros)
    except OverflowError:
        raise Invalid from None


def as_json(value: Any) -> str:
    """Compact JSON with sorted keys; a value nested too deep to encode is kept truncated."""
    try:
        return json.dumps(value, separators=(",", ":"), sort_keys=True)
    except RecursionError:
        return json.dumps(_truncated(value, jsonbody.MAX_DEPTH), separators=(",", ":"))


def _truncated(value: Any, depth: int) -> Any:
    if not isinstance(value, dict | list):
        return value
    if depth <= 0:
        return "…"
    if isinstance(value, dict):
        items = sorted(value.items(), key=lambda item: str(item[0]))
        return {str(k): _truncated(v, depth - 1) for k, v in items}
    return [_truncated(v, depth - 1) for v in value]


def without_secrets(value: Any, depth: int = jsonbody.MAX_DEPTH) -> Any:
    """``value`` with the value of every credential-like key (:data:`SECRET_KEY_RE`), at any
    depth, replaced with ``REDACTED``; containers nested deeper than ``depth`` become ``"…"``.

    Examples
    --------
    >>> without_secrets({"id": 1, "download_access_token": "eyJ...", "files": [{"password": 2}]})
    {'id': 1, 'download_access_token': 'REDACTED', 'files': [{'password': 'REDACTED'}]}
    """
    if not isinstance(value, dict | list):
        return value
    if depth <= 0:
        return "…"
    if isinstance(value, list):
        return [without_secrets(v, depth - 1) for v in value]
    return {
        k: REDACTED
        if isinstance(k, str) and SECRET_KEY_RE.search(k)
        else without_secrets(v, depth - 1)
        for k, v in value.items()
    }


def int_bounds(dtype: Any) -> tuple[int, int] | None:
    """The range of an integer dtype, or None for any other dtype."""
    dtype = dtype() if isinstance(dtype, type) else dtype
    if not dtype.is_integer():
        return None
    bits = int(re.sub(r"\D", "", str(dtype)))
    if dtype.is_unsigned_integer():
        return 0, 2**bits - 1
    return -(2 ** (bits - 1)), 2 ** (bits - 1) - 1


def bounded(parse: Parser, dtype: Any) -> Parser:
    """``parse`` rejecting what the column's dtype cannot hold (which would fail the whole
    frame): integers outside its range, non-finite floats."""
    limits = int_bounds(dtype)
    if limits is not None:
        low, high = limits

        def integer(value: Any) -> Any:
            number = parse(value)
            if not (isinstance(number, int) and low <= number <= high):
                raise Invalid
            return number

        return integer
    dtype = dtype() if isinstance(dtype, type) else dtype
    if dtype.is_float():

        def finite(value: Any) -> Any:
            number = parse(value)
            if not (isinstance(number, float | int) and math.isfinite(number)):
                raise Invalid
            return number

        return finite
    return parse


Parser = Callable[[Any], Any]


@dataclass(frozen=True)
class Field:
    """One typed column of a provider's raw frame.

    Parameters
    ----------
    name : str
        Column name in the raw frame.
    dtype : polars data type
    path : tuple of str
        Keys leading to the value in the record; defaults to ``(name,)``.
    parse : callable
        Turns a non-null JSON value into the column's Python value or raises :class:`Invalid`.
    """

    name: str
    dtype: pl.DataType | type[pl.DataType]
    path: tuple[str, ...] = ()
    parse: Parser = as_str

    @property
    def where(self) -> tuple[str, ...]:
        return self.path or (self.name,)


def F(name: str, dtype: Any = pl.String, parse: Parser = as_str, path: str = "") -> Field:
    """Short constructor: ``path`` is dotted (``"grouping_sids.room_sid"``)."""
    return Field(name, dtype, tuple(path.split(".")) if path else (), parse)


def _consumed_tree(fields: Iterable[Field]) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    for f in fields:
        node = tree
        *parents, leaf = f.where
        for key in parents:
            node = node.setdefault(key, {})
            if node is True:
                break
        else:
            node[leaf] = True
    return tree


def _leftover(record: dict[str, Any], tree: dict[str, Any]) -> dict[str, Any]:
    rest: dict[str, Any] = {}
    for key, value in record.items():
        sub = tree.get(key)
        if sub is True:
            continue
        if isinstance(sub, dict) and isinstance(value, dict):
            inner = _leftover(value, sub)
            if inner:
                rest[key] = inner
        else:
            rest[key] = value
    return rest


@dataclass(frozen=True)
class Page:
    """One decoded page.

    Attributes
    ----------
    body : Any
        The decoded body, for the pager (on the fast path its list holds msgspec structs).
    frame : polars.DataFrame or None
        The page's records as a typed frame (:attr:`RecordSpec.schema`); None when a
        :class:`PageBatch` keeps them for one frame of many pages.
    count : int
        How many records the page held.
    """

    body: Any
    frame: pl.DataFrame | None
    count: int


@dataclass
class RecordSpec:
    """The typed shape of one provider record, and the parser of pages of them.

    ``issues`` counts, per column, the values that could not be read, plus the repairs made
    to whole bodies (:data:`UNDECODABLE`, :data:`TOO_DEEP`); :meth:`warning` words them.
    """

    fields: Sequence[Field]
    issues: Counter[str] = field(default_factory=Counter)
    fast: ClassVar[bool] = True
    """False sends every page through the tolerant path (to compare the two, or measure)."""

    def __post_init__(self) -> None:
        self._tree = _consumed_tree(self.fields)
        self._parsers = [bounded(f.parse, f.dtype) for f in self.fields]
        self.schema = pl.Schema({f.name: f.dtype for f in self.fields} | {EXTRA: pl.String})
        self._typed: TypedPage | None = None

    def decode_page(
        self, content: bytes, list_key: str, records: Callable[[Any], list[Any]] | None = None
    ) -> Page:
        """A response body to a :class:`Page`: its typed frame, fast when the page is clean.

        A page that decodes cleanly into the record's typed structs (no unknown key, every
        value of its column's type and range) is read column by column without a Python loop
        per value (:mod:`recanalytics.typedpage`); any other page, by the tolerant per-record
        path (:meth:`decode_page_tolerant`). Both give the same frame for a clean page.

        Parameters
        ----------
        content : bytes
            The response body.
        list_key : str
            The key of the record list in the body.
        records : callable, optional
            The records of a decoded body, for the tolerant path (default: the list at
            ``list_key``, or none).

        Raises
        ------
        ValueError
            The body is not JSON (a truncated transfer: the engine retries it).

        Examples
        --------
        >>> spec = RecordSpec([F("sid"), F("size", pl.Int64, as_count)])
        >>> page = spec.decode_page(b'{"items": [{"sid": "a", "size": 3}], "next": "x"}', "items")
        >>> page.frame.row(0), page.count, page.body["next"]
        (('a', 3, None), 1, 'x')
        """
        batch = PageBatch(self)
        page = batch.decode(content, list_key, records)
        frames = batch.frames()
        return Page(page.body, frames[0] if frames else self.empty(), page.count)

    def typed(self) -> TypedPage:
        """The fast path's decoder for this record (built once)."""
        if self._typed is None:
            self._typed = TypedPage(self.fields, self.schema)
        return self._typed

    def batch(self) -> PageBatch:
        """A :class:`PageBatch` for the pages of one query."""
        return PageBatch(self)

    def decode_page_tolerant(
        self, content: bytes, list_key: str, records: Callable[[Any], list[Any]] | None = None
    ) -> Page:
        """:meth:`decode_page` by the per-record path: every value through its field's parser."""
        body = self.loads(content)
        if records is None:
            found = body.get(list_key) if isinstance(body, dict) else None
            items = found if isinstance(found, list) else []
        else:
            items = records(body)
        return Page(body, self.frame(items), len(items))

    def empty(self) -> pl.DataFrame:
        return pl.DataFrame(schema=self.schema)

    def loads(self, content: bytes) -> Any:
        """Decode a response body (see :func:`recanalytics.jsonbody.loads`), counting repairs.

        Raises
        ------
        ValueError
            The body is not JSON (a truncated transfer: the engine retries it).
        """
        body = jsonbody.loads(content)
        if body.replaced:
            self.issues[UNDECODABLE] += body.replaced
        if body.flattened:
            self.issues[TOO_DEEP] += body.flattened
        return body.value

    def frame(self, records: Sequence[Any]) -> pl.DataFrame:
        """Parse a page of records. Non-object records are kept whole in ``extra``."""
        columns: dict[str, list[Any]] = {f.name: [] for f in self.fields}
        extras: list[str | None] = []
        fields = list(zip(self.fields, self._parsers, strict=True))
        for record in records:
            if not isinstance(record, dict):
                for values in columns.values():
                    values.append(None)
                extras.append(as_json(without_secrets({"_record": record})))
                self.issues[NOT_AN_OBJECT] += 1
                continue
            failed: dict[str, Any] = {}
            for f, parse in fields:
                value: Any = record
                for key in f.where:
                    value = value.get(key) if isinstance(value, dict) else None
                if value is None or (value == "" and f.parse is not as_str):
                    columns[f.name].append(None)
                    continue
                try:
                    columns[f.name].append(parse(value))
                except (Invalid, ValueError, TypeError, OverflowError, RecursionError):
                    columns[f.name].append(None)
                    failed[".".join(f.where)] = value
                    self.issues[f.name] += 1
            rest = _leftover(record, self._tree)
            if failed:
                rest["_unparsed"] = failed
            extras.append(as_json(without_secrets(rest)) if rest else None)
        return pl.DataFrame({**columns, EXTRA: extras}, schema=self.schema)

    def issue_summary(self) -> str:
        return ", ".join(f"{name}: {count}" for name, count in sorted(self.issues.items()))

    def warning(self, provider: str) -> str | None:
        """What a :class:`~recanalytics.errors.LoadWarning` should say, or None if all was read.

        Examples
        --------
        >>> spec = RecordSpec([F("size", pl.Int64, as_count)])
        >>> spec.frame([{"size": -1}]).item(0, "size") is None
        True
        >>> spec.warning("twilio")  # doctest: +ELLIPSIS
        "twilio: 1 values could not be read and are null in the frame (size: 1); ..."
        """
        if not self.issues:
            return None
        repaired = {UNDECODABLE, TOO_DEEP}
        unread = {k: n for k, n in self.issues.items() if k not in repaired}
        parts = []
        if unread:
            summary = ", ".join(f"{k}: {n}" for k, n in sorted(unread.items()))
            parts.append(
                f"{sum(unread.values())} values could not be read and are null in the frame "
                f"({summary}); each is kept as sent in the raw frame's '{EXTRA}' column "
                "(raw=True)"
            )
        if self.issues[UNDECODABLE]:
            parts.append(
                f"{self.issues[UNDECODABLE]} undecodable characters in the responses were "
                "replaced with U+FFFD"
            )
        if self.issues[TOO_DEEP]:
            parts.append(
                f"{self.issues[TOO_DEEP]} values nested deeper than {jsonbody.MAX_DEPTH} levels "
                f"are kept as truncated JSON text"
            )
        return f"{provider}: " + "; ".join(parts)


class PageBatch:
    """The pages of one query, decoded in order into as few frames as possible.

    Rows of clean pages are gathered as column values and framed together (a polars frame per
    100-record page would cost more than decoding it); a page that needs the tolerant path
    becomes its own frame, between the others, so the row order is the pages' order.

    Examples
    --------
    >>> spec = RecordSpec([F("sid")])
    >>> batch = spec.batch()
    >>> page = batch.decode(b'{"items": [{"sid": "a"}], "next": "x"}', "items")
    >>> page = batch.decode(b'{"items": [{"sid": "b"}, "odd"]}', "items")
    >>> [f.height for f in batch.frames()]
    [1, 2]
    """

    ROWS = 50_000  # rows gathered before they are framed (bounds the values held as objects)

    def __init__(self, spec: RecordSpec) -> None:
        self.spec = spec
        self._typed = spec.typed()
        self._values = self._typed.empty_values()
        self._rows = 0
        self._frames: list[pl.DataFrame] = []

    def decode(
        self, content: bytes, list_key: str, records: Callable[[Any], list[Any]] | None = None
    ) -> Page:
        """Decode one page (see :meth:`RecordSpec.decode_page`); its rows join the batch."""
        try:
            if not self.spec.fast:
                raise Miss
            body, _ = self._typed.decode(content, list_key, self._values)
        except Miss:
            return self.tolerant(content, list_key, records)
        count = len(body[list_key])
        self._rows += count
        if self._rows >= self.ROWS:
            self._flush()
        return Page(body, None, count)

    def tolerant(
        self, content: bytes, list_key: str, records: Callable[[Any], list[Any]] | None = None
    ) -> Page:
        """Decode one page by the per-record path (its frame joins the batch in page order)."""
        page = self.spec.decode_page_tolerant(content, list_key, records)
        self._flush()
        if page.frame is not None:
            self._frames.append(page.frame)
        return page

    def getter(self, name: str) -> Callable[[Any], Any]:
        """Reads column ``name``'s raw value from a record struct of the typed path."""
        return self._typed.getter(name)

    def _flush(self) -> None:
        if self._rows:
            self._frames.append(self._typed.frame(self._values, self.spec.issues))
            self._values = self._typed.empty_values()
            self._rows = 0

    def frames(self) -> list[pl.DataFrame]:
        """Every page's rows so far, in page order."""
        self._flush()
        return self._frames
