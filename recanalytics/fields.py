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

import asyncio
import contextlib
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import polars as pl

from recanalytics import jsonbody
from recanalytics.parsers import (
    EXTRA,
    FAILURES,
    LONG_INT,
    NOT_AN_OBJECT,
    TOO_DEEP,
    UNDECODABLE,
    Parser,
    as_str,
    bounded,
    extra_json,
)
from recanalytics.typedpage import CleanPage, Miss, TypedPage


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


# RecordSpec.empty's frames, by schema.
_EMPTY: dict[tuple[tuple[str, pl.DataType], ...], pl.DataFrame] = {}


@dataclass
class RecordSpec:
    """The typed shape of one provider record, and the parser of pages of them.

    ``issues`` counts, per column, the values that could not be read, plus the repairs made
    to whole bodies (:data:`UNDECODABLE`, :data:`TOO_DEEP`, :data:`LONG_INT`); :meth:`warning`
    words them.
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
        self._rows: Rows | None = None

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
        >>> from recanalytics.parsers import as_count
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
        """A :class:`PageBatch` for the pages of one query; the batches of one spec (one load)
        share its :class:`Rows`, so clean pages of every query are framed together."""
        if self._rows is None:
            self._rows = Rows(self)
        return PageBatch(self, self._rows)

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
        """A frame of no rows in this record's schema: a copy of one made once per schema
        (making one cost a millisecond or two, on every empty page of a load in month
        windows; a copy costs microseconds, and a caller changing it in place changes no
        other load's)."""
        key = tuple(self.schema.items())
        made = _EMPTY.get(key)
        if made is None:
            made = _EMPTY[key] = pl.DataFrame(schema=self.schema)
        return made.clone()

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
        if body.long_ints:
            self.issues[LONG_INT] += body.long_ints
        return body.value

    def frame(self, records: Sequence[Any]) -> pl.DataFrame:
        """Parse a page of records. Non-object records are kept whole in ``extra``."""
        if not records:
            return self.empty()
        columns: dict[str, list[Any]] = {f.name: [] for f in self.fields}
        extras: list[str | None] = []
        fields = list(zip(self.fields, self._parsers, strict=True))
        for record in records:
            if not isinstance(record, dict):
                for values in columns.values():
                    values.append(None)
                extras.append(extra_json({"_record": record}))
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
                except FAILURES:
                    columns[f.name].append(None)
                    failed[".".join(f.where)] = value
                    self.issues[f.name] += 1
            rest = _leftover(record, self._tree)
            if failed:
                rest["_unparsed"] = failed
            extras.append(extra_json(rest) if rest else None)
        return pl.DataFrame({**columns, EXTRA: extras}, schema=self.schema)

    def issue_summary(self) -> str:
        return ", ".join(f"{name}: {count}" for name, count in sorted(self.issues.items()))

    def warning(self, provider: str) -> str | None:
        """What a :class:`~recanalytics.errors.LoadWarning` should say, or None if all was read.

        Examples
        --------
        >>> from recanalytics.parsers import as_count
        >>> spec = RecordSpec([F("size", pl.Int64, as_count)])
        >>> spec.frame([{"size": -1}]).item(0, "size") is None
        True
        >>> spec.warning("twilio")  # doctest: +ELLIPSIS
        "twilio: 1 values could not be read and are null in the frame (size: 1); ..."
        """
        if not self.issues:
            return None
        repaired = {UNDECODABLE, TOO_DEEP, LONG_INT}
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
        if self.issues[LONG_INT]:
            parts.append(
                f"{self.issues[LONG_INT]} integers of more digits than Python reads "
                f"({sys.get_int_max_str_digits()}) are kept as strings of their digits"
            )
        return f"{provider}: " + "; ".join(parts)


class Rows:
    """The records of clean pages, from every query of a load, framed together.

    A page's record structs join (:meth:`add` says which rows they became); every
    :attr:`LIMIT` records, and when rows are asked for, the pending ones become one frame by
    :meth:`~recanalytics.typedpage.TypedPage.frame`, so a load costs one frame build per
    :attr:`LIMIT` records however many queries and pages it has.

    Examples
    --------
    >>> spec = RecordSpec([F("sid")])
    >>> rows = Rows(spec)
    >>> rows.add(spec.typed().decode(b'{"items": [{"sid": "a"}, {"sid": "b"}]}', "items"))
    (0, 2)
    >>> [f.height for f in rows.slice(1, 2)]
    [1]
    """

    # Records held as structs before they are framed: small enough that framing happens while
    # requests are in flight (a load's end waits only for its last few pages), large enough that
    # the fixed cost of a frame build stays small (5,000: +3 % CPU against 20,000).
    LIMIT = 5_000
    # When no page has come for IDLE seconds and at least IDLE_LIMIT records are held, they
    # are framed then, while the load waits on the network: what is left to frame after the
    # last response is at most a few pages (framing up to LIMIT records there took 40-65 ms of
    # a 3.3 s load). Fewer records a frame would cost more CPU: 2.5 ms a frame of one page,
    # 0.5 ms a page at ten.
    IDLE = 0.01
    IDLE_LIMIT = 1_000

    def __init__(self, spec: RecordSpec) -> None:
        self.spec = spec
        self._typed = spec.typed()
        self._pages: list[list[Any]] = []
        self._pending = 0
        self._starts: list[int] = []
        self._chunks: list[pl.DataFrame] = []
        self._framed = 0
        self._idle: asyncio.TimerHandle | None = None

    def add(self, page: CleanPage) -> tuple[int, int]:
        """Hold one clean page's records; the range of row numbers they take."""
        start = self._framed + self._pending
        self._pages.append(page.records)
        self._pending += len(page.records)
        end = self._framed + self._pending
        if self._pending >= self.LIMIT:
            self.flush()
        elif self._pending >= self.IDLE_LIMIT:
            self._flush_when_idle()
        return start, end

    def _flush_when_idle(self) -> None:
        if self._idle is not None:
            self._idle.cancel()
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # not in a load's event loop: framed when asked for
            return
        self._idle = loop.call_later(self.IDLE, self._flush_quietly)

    def _flush_quietly(self) -> None:
        # From a timer, an error would only reach asyncio's log; the records stay held and the
        # next flush, in the load's own code, raises it where it is handled.
        with contextlib.suppress(Exception):
            self.flush()

    def flush(self) -> None:
        """Frame the records held so far."""
        if self._idle is not None:
            self._idle.cancel()
            self._idle = None
        if not self._pending:
            return
        frame = self._typed.frame(self._typed.values(self._pages), self.spec.issues)
        self._starts.append(self._framed)
        self._chunks.append(frame)
        self._framed += frame.height
        self._pages = []
        self._pending = 0

    def slice(self, start: int, end: int) -> list[pl.DataFrame]:
        """Rows ``start`` to ``end`` (exclusive), framed."""
        self.flush()
        out = []
        for first, chunk in zip(self._starts, self._chunks, strict=True):
            low, high = max(start, first), min(end, first + chunk.height)
            if low < high:
                out.append(chunk.slice(low - first, high - low))
        return out


class PageBatch:
    """The pages of one query, decoded in order.

    Clean pages' records join the load's :class:`Rows` (framed together, many pages at once);
    a page that needs the tolerant path becomes its own frame, between the others, so
    :meth:`frames` gives the rows in the pages' order.

    Examples
    --------
    >>> spec = RecordSpec([F("sid")])
    >>> batch = spec.batch()
    >>> page = batch.decode(b'{"items": [{"sid": "a"}], "next": "x"}', "items")
    >>> page = batch.decode(b'{"items": [{"sid": "b"}, "odd"]}', "items")
    >>> [f.height for f in batch.frames()]
    [1, 2]
    """

    def __init__(self, spec: RecordSpec, rows: Rows | None = None) -> None:
        self.spec = spec
        self._typed = spec.typed()
        self._rows = Rows(spec) if rows is None else rows
        self._parts: list[tuple[int, int] | pl.DataFrame] = []

    def decode(
        self, content: bytes, list_key: str, records: Callable[[Any], list[Any]] | None = None
    ) -> Page:
        """Decode one page (see :meth:`RecordSpec.decode_page`); its rows join the batch."""
        try:
            if not self.spec.fast:
                raise Miss
            page = self._typed.decode(content, list_key)
        except Miss:
            return self.tolerant(content, list_key, records)
        start, end = self._rows.add(page)
        last = self._parts[-1] if self._parts else None
        if isinstance(last, tuple) and last[1] == start:
            self._parts[-1] = (last[0], end)
        elif end > start:
            self._parts.append((start, end))
        return Page(page.body, None, end - start)

    def tolerant(
        self, content: bytes, list_key: str, records: Callable[[Any], list[Any]] | None = None
    ) -> Page:
        """Decode one page by the per-record path (its frame joins the batch in page order)."""
        page = self.spec.decode_page_tolerant(content, list_key, records)
        if page.frame is not None:
            self._parts.append(page.frame)
        return page

    def drop(self, page: Page) -> None:
        """Forget the rows of ``page``, the last one decoded: it is asked for again (an answer
        to another query, or one that is no progress), and its answer's rows are the ones."""
        if not self._parts:
            return
        last = self._parts[-1]
        if page.frame is not None:
            if last is page.frame:
                self._parts.pop()
        elif isinstance(last, tuple) and page.count:
            start, end = last
            if end - start > page.count:
                self._parts[-1] = (start, end - page.count)
            else:
                self._parts.pop()

    def getter(self, name: str) -> Callable[[Any], Any]:
        """Reads column ``name``'s raw value from a record struct of the typed path."""
        return self._typed.getter(name)

    def read(self, name: str, values: list[Any]) -> pl.Series:
        """Column ``name`` of raw values from record structs, read as the frame reads it."""
        return self._typed.read(name, values)

    def frames(self) -> list[pl.DataFrame]:
        """Every page's rows so far, in page order."""
        out: list[pl.DataFrame] = []
        for part in self._parts:
            out.extend(self._rows.slice(*part) if isinstance(part, tuple) else [part])
        return out
