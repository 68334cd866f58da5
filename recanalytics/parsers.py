"""Tolerant value parsers for provider records: a value that does not parse raises
:class:`Invalid`; :func:`bounded` also rejects values that do not fit their column.

:mod:`recanalytics.fields` builds typed frames with them, and :mod:`recanalytics.typedpage`
recognises them to pick its vectorised path.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import math
import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

import msgspec

from recanalytics import jsonbody
from recanalytics.redact import REDACTED

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
LONG_INT = "<integers too long for Python, kept as text>"


class Invalid(Exception):
    """Raised by a parser for a value it cannot read."""


INT_DIGITS_MAX = 30
"""The most digits an integer is read with, checked before it is converted: far past every
integer column (``Int64`` holds 19), where ``int(Decimal("1e999999999"))`` would build a
billion-digit integer (``"1e1000000"`` took 32 s)."""

FAILURES: tuple[type[Exception], ...] = (
    Invalid,
    ValueError,
    TypeError,
    ArithmeticError,  # OverflowError, and decimal's errors (Overflow past Emax, …)
    RecursionError,
)
"""What a parser may raise on a value it cannot read: the value becomes null and is counted."""


def as_str(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, dict | list):
        return json_text(value)
    raise Invalid


_encode_sorted = msgspec.json.Encoder(order="sorted").encode


def json_text(value: dict[str, Any] | list[Any]) -> str:
    """Compact JSON with sorted keys: one spelling for one value, so rows compare as text."""
    try:
        return _encode_sorted(value).decode()
    except (OverflowError, TypeError, msgspec.EncodeError):
        # Integers wider than 64 bits, which the stdlib decoder (tolerant path) keeps exact.
        return json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False)


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
        if not value.isascii():
            raise Invalid  # Decimal reads any script's digits: "٣" would be 3
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            raise Invalid from None
        if not number.is_finite():
            raise Invalid
        return number
    raise Invalid


def as_int(value: Any) -> int:
    """Integers, integral floats and decimal strings (``"4"``, ``"345100.00000"``, ``"1e3"``).

    A fractional value (``2.5``) is unreadable rather than rounded, and so is one of more than
    :data:`INT_DIGITS_MAX` digits (``"1e999999999"``), which no integer column holds.

    Examples
    --------
    >>> as_int("345100.00000"), as_int(4.0), as_int("1e3")
    (345100, 4, 1000)
    >>> as_int("1e999999999")
    Traceback (most recent call last):
    ...
    recanalytics.parsers.Invalid
    """
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    number = as_decimal(value)
    if number.adjusted() >= INT_DIGITS_MAX or number != number.to_integral_value():
        raise Invalid
    return int(number)


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


def as_fractional_seconds(value: Any) -> float:
    """A non-negative number of seconds that fits a ``Duration("ms")``, fraction kept
    (``"4.5"`` is 4.5 s: the unified ``duration`` keeps its milliseconds).

    Examples
    --------
    >>> as_fractional_seconds("4.5"), as_fractional_seconds(60)
    (4.5, 60.0)
    """
    number = as_float(value)
    if not 0 <= number <= MAX_MILLISECONDS // 1000:
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


# What twilio-python's strptime("%Y-%m-%dT%H:%M:%SZ") also reads: one-digit fields and a
# lower-case "t" or "z" (RFC 3339 allows both letters in either case); digits past the
# microsecond are cut, as datetime.fromisoformat cuts them.
_ISO_LOOSE = re.compile(
    r"(\d{4})-(\d{1,2})-(\d{1,2})[Tt ](\d{1,2}):(\d{1,2}):(\d{1,2})(\.\d+)?"
    r"([Zz]|[+-]\d{2}:?\d{2})?"
)
# More than the eight digits of a compact date (YYYYMMDD): Python 3.11's fromisoformat reads
# epoch milliseconds ("1734081441409") as a date in 1734 followed by a time.
_DIGITS_PAST_A_DATE = re.compile(r"[0-9]{9}")


def as_iso_time(value: Any) -> dt.datetime:
    """ISO 8601 with ``Z``, an offset or none (UTC), ``T`` or space separated; also one-digit
    fields and a lower-case ``t``/``z``, as the official Twilio SDK reads them. A leap second
    (``:60``) is not read (no datetime holds it), nor a number (``"1734081441409"``, epoch
    milliseconds, is no date: of all-digit text only a compact ``YYYYMMDD`` is).

    Examples
    --------
    >>> as_iso_time("2024-12-13t09:17:21.123456789z").isoformat()
    '2024-12-13T09:17:21.123456+00:00'
    >>> as_iso_time("1734081441409")
    Traceback (most recent call last):
    ...
    recanalytics.parsers.Invalid
    """
    if not isinstance(value, str) or not value.strip():
        raise Invalid
    text = value.strip()
    if _DIGITS_PAST_A_DATE.match(text):
        raise Invalid
    try:
        return _utc(dt.datetime.fromisoformat(text))
    except OverflowError:  # year 1 or 9999 moved past the calendar by its offset
        raise Invalid from None
    except ValueError:
        pass
    loose = _ISO_LOOSE.fullmatch(text)
    if loose is None:
        raise Invalid
    year, month, day, hour, minute, second = (int(loose[i]) for i in range(1, 7))
    zone = (loose[8] or "Z").upper()
    try:
        micro = int((loose[7] or ".0")[1:7].ljust(6, "0"))
        moment = dt.datetime(year, month, day, hour, minute, second, micro)
        if zone != "Z":
            hours, minutes = int(zone[1:3]), int(zone[-2:])
            offset = dt.timedelta(hours=hours, minutes=minutes) * (1 if zone[0] == "+" else -1)
            moment = moment.replace(tzinfo=dt.timezone(offset))
        return _utc(moment)
    except (ValueError, OverflowError):
        raise Invalid from None


# The day, month and year of an RFC 2822 date: the year as written.
_RFC2822_YEAR = re.compile(r"\b\d{1,2}\s+[A-Za-z]{3,9}\s+(\d+)\b")
# "Sept": the stdlib reads a month's three letters or its full name, not this.
_SEPT = re.compile(r"\bsept\b", re.IGNORECASE)


def as_rfc2822_time(value: Any) -> dt.datetime:
    """``Wed, 26 Sep 2018 00:00:00 +0000``; ISO 8601 is accepted too."""
    if not isinstance(value, str) or not value.strip():
        raise Invalid
    value = _SEPT.sub("Sep", value)
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return as_iso_time(value)
    # RFC 2822 4.3: a two-digit year is 1950-2049, a three-digit one 1900 + it, four digits
    # the year as written. The stdlib reads any year below 100 as two-digit (0001 -> 2001), and
    # "Mon, 01 Jan 0001 ..." is a common "no date" placeholder, not 2001.
    written = _RFC2822_YEAR.search(value)
    digits = written.group(1) if written else ""
    year = int(digits) + (1900 if len(digits) == 3 else 0) if len(digits) > 2 else moment.year
    if year != moment.year:
        try:
            moment = moment.replace(year=year)
        except ValueError:  # 29 February of a year that has none
            raise Invalid from None
    try:
        return _utc(moment)
    except OverflowError:
        raise Invalid from None


def as_epoch_ms_time(value: Any) -> dt.datetime:
    """Epoch milliseconds as a number or decimal string (``"1407235163907.00000"``)."""
    millis = as_decimal(value)
    if millis.adjusted() >= INT_DIGITS_MAX:  # years past 9999, and past Decimal's Emax
        raise Invalid
    micros = int((millis * 1000).to_integral_value())
    try:
        return dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(microseconds=micros)
    except OverflowError:
        raise Invalid from None


def as_json(value: Any) -> str:
    """Compact JSON with sorted keys; containers nested deeper than
    :data:`~recanalytics.jsonbody.MAX_DEPTH` levels become ``"…"``.

    Examples
    --------
    >>> as_json({"b": 1, "a": [[[2]]]})
    '{"a":[[[2]]],"b":1}'
    """
    try:
        text = json.dumps(value, separators=(",", ":"), sort_keys=True)
    except RecursionError:  # where it is raised depends on the Python version: not the cut
        text = None
    if text is None or jsonbody.deeper_than(text, jsonbody.MAX_DEPTH):
        return json.dumps(_truncated(value, jsonbody.MAX_DEPTH), separators=(",", ":"))
    return text


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


def extra_json(value: Any) -> str:
    """What the ``extra`` column keeps of ``value`` (a record's undeclared fields, the values
    it could not read): :func:`as_json` of it :func:`without_secrets`. Both page paths
    (:mod:`recanalytics.fields`' per-record one and :mod:`recanalytics.typedpage`) write
    ``extra`` with it, so a record's ``extra`` is the same whichever path its page takes.

    Examples
    --------
    >>> extra_json({"_unparsed": {"price": {"amount": 1, "api_key": "k3y"}}})
    '{"_unparsed":{"price":{"amount":1,"api_key":"REDACTED"}}}'
    """
    return as_json(without_secrets(value))


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
