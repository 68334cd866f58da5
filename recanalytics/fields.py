"""Turning a page of provider JSON records into a typed polars frame, tolerantly.

A provider module declares its record as a tuple of :class:`Field` (column name, dtype, where
the value sits, how to parse it). Parsing never raises on provider data: a value that does not
parse becomes null, is counted, and is kept as sent in the ``extra`` column together with every
field the module does not declare, so nothing the provider sent is lost.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import math
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

import polars as pl

EXTRA = "extra"


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
    if isinstance(value, float | int) and not isinstance(value, bool):
        return float(value)
    return float(as_decimal(value))


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
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


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


@dataclass
class RecordSpec:
    """The typed shape of one provider record, and the parser of pages of them."""

    fields: Sequence[Field]
    issues: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self._tree = _consumed_tree(self.fields)
        self.schema = pl.Schema({f.name: f.dtype for f in self.fields} | {EXTRA: pl.String})

    def empty(self) -> pl.DataFrame:
        return pl.DataFrame(schema=self.schema)

    def frame(self, records: Sequence[Any]) -> pl.DataFrame:
        """Parse a page of records. Non-object records are kept whole in ``extra``."""
        columns: dict[str, list[Any]] = {f.name: [] for f in self.fields}
        extras: list[str | None] = []
        for record in records:
            if not isinstance(record, dict):
                for values in columns.values():
                    values.append(None)
                extras.append(as_json({"_record": record}))
                self.issues["<not an object>"] += 1
                continue
            failed: dict[str, Any] = {}
            for f in self.fields:
                value: Any = record
                for key in f.where:
                    value = value.get(key) if isinstance(value, dict) else None
                if value is None or (value == "" and f.parse is not as_str):
                    columns[f.name].append(None)
                    continue
                try:
                    columns[f.name].append(f.parse(value))
                except (Invalid, ValueError, TypeError, OverflowError):
                    columns[f.name].append(None)
                    failed[".".join(f.where)] = value
                    self.issues[f.name] += 1
            rest = _leftover(record, self._tree)
            if failed:
                rest["_unparsed"] = failed
            extras.append(as_json(rest) if rest else None)
        return pl.DataFrame({**columns, EXTRA: extras}, schema=self.schema)

    def issue_summary(self) -> str:
        return ", ".join(f"{name}: {count}" for name, count in sorted(self.issues.items()))
