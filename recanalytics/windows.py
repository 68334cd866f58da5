"""User-given instants and splitting ``[since, until)`` into provider-legal windows."""

from __future__ import annotations

import calendar
import datetime as dt
import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass

from recanalytics.errors import ConfigError

UTC = dt.UTC

WhenLike = str | dt.date | dt.datetime
EARLIEST = dt.datetime(1970, 1, 1, tzinfo=UTC)
LATEST = dt.datetime(9999, 1, 1, tzinfo=UTC)
# No recording predates the epoch, and the window splitters step whole months and 30 days past
# the range: instants outside it would overflow datetime there, or reach a provider as a
# malformed year ("1-01-01"), after requests have started.
DATE_FORMS = (
    "an ISO 8601 date or date-time (e.g. '2025-01-31' or '2025-01-31T12:00:00Z'), "
    "a date or a datetime from 1970-01-01 to 9999-01-01 UTC; naive values are UTC"
)


# Python's fromisoformat takes any character between the date and the time ("2025-01-019123000"
# read as 12:30, "2025-06-15Z10:00" as 10:00) and any length: ISO 8601 has a T (RFC 3339 allows
# a space), and the time holds only digits, separators and a zone. The rest fromisoformat checks.
ISO_SHAPE = re.compile(
    r"\d{4}(?:-\d{2}-\d{2}|\d{4}|-?W\d{2}(?:-?\d)?)(?:[Tt ]\d{2}[0-9:.,+\-Zz]{0,30})?",
    re.ASCII,
)


def parse_when(
    value: WhenLike | None,
    parameter: str,
    *,
    bounds: tuple[dt.datetime, dt.datetime] = (EARLIEST, LATEST),
) -> dt.datetime | None:
    """Parse a user-given instant to an aware UTC datetime (naive means UTC), within
    ``bounds`` (a provider's range by default; a filter over rows in memory passes wider ones).

    Examples
    --------
    >>> parse_when("2025-01-01", "since")
    datetime.datetime(2025, 1, 1, 0, 0, tzinfo=datetime.timezone.utc)
    """
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, dt.date):
        moment = dt.datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        text = value.strip()
        try:
            if not ISO_SHAPE.fullmatch(text):
                raise ValueError(text)
            # RFC 3339 allows a lower-case "t" and "z"; Python 3.11's fromisoformat takes only
            # the "t". The shape admits no other letter than the week's "W".
            moment = dt.datetime.fromisoformat(text.upper())
        except ValueError:
            raise ConfigError(parameter, DATE_FORMS, value) from None
    else:
        raise ConfigError(parameter, DATE_FORMS, value)
    try:
        moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except OverflowError:  # an offset that moves year 1 or 9999 past datetime's range
        raise ConfigError(parameter, DATE_FORMS, value) from None
    if not bounds[0] <= moment <= bounds[1]:
        low, high = (f"{b:%Y-%m-%d}".zfill(10) for b in bounds)
        form = DATE_FORMS.replace("1970-01-01 to 9999-01-01", f"{low} to {high}")
        raise ConfigError(parameter, form, value)
    return moment


def parse_range(
    since: WhenLike | None, until: WhenLike | None
) -> tuple[dt.datetime | None, dt.datetime | None]:
    """Parse ``since``/``until`` and check ``since < until`` when both are given."""
    start = parse_when(since, "since")
    end = parse_when(until, "until")
    if start is not None and end is not None and start >= end:
        raise ConfigError(
            "since/until", "since earlier than until (until is exclusive)", (since, until)
        )
    return start, end


DAY_FORM = "a calendar day (UTC): a datetime.date or 'YYYY-MM-DD', from 1970-01-01 to 9998-12-31"


def day_range(day: str | dt.date, parameter: str = "created_on") -> tuple[dt.datetime, dt.datetime]:
    """``[day's midnight, the next midnight)`` in UTC: a filter by the day a record was created
    (an API's ``DateCreated=YYYY-MM-DD``) as a range.

    Examples
    --------
    >>> [f"{t:%Y-%m-%d %H:%M}" for t in day_range("2025-03-01")]
    ['2025-03-01 00:00', '2025-03-02 00:00']
    """
    if isinstance(day, str):
        try:
            day = dt.date.fromisoformat(day.strip())
        except ValueError:
            raise ConfigError(parameter, DAY_FORM, day) from None
    if isinstance(day, dt.datetime) or not isinstance(day, dt.date):
        # A datetime is a date too, but its hours would be dropped without a word.
        raise ConfigError(parameter, DAY_FORM, day)
    start = dt.datetime(day.year, day.month, day.day, tzinfo=UTC)
    if not EARLIEST <= start < LATEST:
        raise ConfigError(parameter, DAY_FORM, day)
    return start, start + dt.timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Window:
    """A half-open interval ``[start, end)``; either side may be open (None)."""

    start: dt.datetime | None
    end: dt.datetime | None


def split_even(start: dt.datetime, end: dt.datetime, parts: int) -> list[Window]:
    """Split ``[start, end)`` into ``parts`` contiguous windows of equal length (whole seconds).

    Twilio's date filters take whole seconds, so edges are rounded to the second; windows
    share edges exactly, so no instant falls into two windows or none.
    """
    total = int((end - start).total_seconds())
    parts = max(1, min(parts, max(total, 1)))
    edges = [start + dt.timedelta(seconds=total * i // parts) for i in range(parts)] + [end]
    return [Window(a, b) for a, b in itertools.pairwise(edges) if a < b]


def split_max_span(start: dt.datetime, end: dt.datetime, span: dt.timedelta) -> list[Window]:
    """Split ``[start, end)`` into consecutive windows no longer than ``span``."""
    windows = []
    cursor = start
    while cursor < end:
        nxt = min(cursor + span, end)
        windows.append(Window(cursor, nxt))
        cursor = nxt
    return windows


def add_month(day: dt.date) -> dt.date:
    """The same day next month, clamped to that month's last day."""
    year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
    return day.replace(
        year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1])
    )


def overlapping_spans(first: dt.date, last: dt.date, days: int) -> list[tuple[dt.date, dt.date]]:
    """As :func:`overlapping_months`, with ranges of at most ``days`` days.

    Examples
    --------
    >>> overlapping_spans(dt.date(2025, 1, 1), dt.date(2025, 1, 20), 7)
    [(datetime.date(2025, 1, 1), datetime.date(2025, 1, 8)), (datetime.date(2025, 1, 8), datetime.date(2025, 1, 15)), (datetime.date(2025, 1, 15), datetime.date(2025, 1, 20))]
    """

    def step(day: dt.date) -> dt.date:
        try:
            return day + dt.timedelta(days=days)
        except OverflowError:
            return last

    return _overlapping(first, last, step)


def overlapping_months(first: dt.date, last: dt.date) -> list[tuple[dt.date, dt.date]]:
    """Cover ``first`` to ``last`` with ranges of exactly one month at most, each ending on the
    day the next one starts.

    Each range ``(a, b)`` has ``b <= add_month(a)``; the next starts on ``b``. So the days are
    covered whether a server reads ``b`` as inclusive or exclusive.

    Examples
    --------
    >>> overlapping_months(dt.date(2025, 1, 15), dt.date(2025, 3, 20))
    [(datetime.date(2025, 1, 15), datetime.date(2025, 2, 15)), (datetime.date(2025, 2, 15), datetime.date(2025, 3, 15)), (datetime.date(2025, 3, 15), datetime.date(2025, 3, 20))]
    """
    return _overlapping(first, last, add_month)


def _overlapping(
    first: dt.date, last: dt.date, step: Callable[[dt.date], dt.date]
) -> list[tuple[dt.date, dt.date]]:
    """``first`` to ``last`` in ranges ``(a, min(step(a), last))``, each starting where the
    one before it ends."""
    ranges = []
    cursor = first
    while True:
        end = min(step(cursor), last)
        ranges.append((cursor, end))
        if end >= last:
            return ranges
        cursor = end
