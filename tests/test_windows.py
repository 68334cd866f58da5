"""Parsing since/until and splitting ranges into windows."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from recanalytics.errors import ConfigError
from recanalytics.windows import (
    add_month,
    parse_range,
    parse_when,
    split_even,
    split_max_span,
    split_months,
)

UTC = dt.UTC


def test_parse_when_forms() -> None:
    assert parse_when("2025-01-31", "since") == dt.datetime(2025, 1, 31, tzinfo=UTC)
    assert parse_when("2025-01-31T12:00:00Z", "since") == dt.datetime(2025, 1, 31, 12, tzinfo=UTC)
    assert parse_when("2025-01-31T12:00:00+02:00", "since") == dt.datetime(
        2025, 1, 31, 10, tzinfo=UTC
    )
    assert parse_when(dt.date(2025, 1, 31), "since") == dt.datetime(2025, 1, 31, tzinfo=UTC)
    assert parse_when(dt.datetime(2025, 1, 31, 5), "since") == dt.datetime(
        2025, 1, 31, 5, tzinfo=UTC
    )
    assert parse_when(None, "since") is None
    for bad in ("31/01/2025", "", "2025-02-30", 20250131):
        with pytest.raises(ConfigError) as info:
            parse_when(bad, "until")  # type: ignore[arg-type]
        assert info.value.parameter == "until" and "ISO 8601" in info.value.expected


def test_parse_range_requires_since_before_until() -> None:
    assert parse_range("2025-01-01", None)[1] is None
    with pytest.raises(ConfigError, match="since earlier than until"):
        parse_range("2025-01-02", "2025-01-01")


def test_split_even_covers_the_range_without_overlap() -> None:
    start, end = dt.datetime(2025, 1, 1, tzinfo=UTC), dt.datetime(2025, 1, 1, 0, 0, 7, tzinfo=UTC)
    windows = split_even(start, end, 3)
    assert windows[0].start == start and windows[-1].end == end
    assert all(a.end == b.start for a, b in itertools.pairwise(windows))
    assert len(split_even(start, end, 100)) == 7  # never below one second


def test_split_max_span_and_months() -> None:
    start = dt.datetime(2025, 1, 1, tzinfo=UTC)
    windows = split_max_span(start, start + dt.timedelta(days=65), dt.timedelta(days=30))
    assert [(w.end - w.start).days for w in windows] == [30, 30, 5]
    assert add_month(dt.date(2025, 1, 31)) == dt.date(2025, 2, 28)
    assert split_months(dt.date(2025, 1, 15), dt.date(2025, 3, 20)) == [
        (dt.date(2025, 1, 15), dt.date(2025, 2, 14)),
        (dt.date(2025, 2, 15), dt.date(2025, 3, 14)),
        (dt.date(2025, 3, 15), dt.date(2025, 3, 20)),
    ]
