"""Parsing since/until and splitting ranges into windows."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from recanalytics.errors import ConfigError
from recanalytics.windows import (
    add_month,
    overlapping_months,
    parse_range,
    parse_when,
    split_even,
    split_max_span,
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


def test_parse_when_takes_a_lower_case_t_and_z() -> None:
    # RFC 3339 (5.6) allows both letters in lower case, and the shape check admitted them;
    # Python 3.11's fromisoformat takes a "t" but not a "z": a valid instant ending in "z"
    # was refused as not ISO 8601.
    noon = dt.datetime(2025, 1, 31, 12, tzinfo=UTC)
    for text in ("2025-01-31T12:00:00z", "2025-01-31t12:00:00z", "2025-01-31t12:00:00Z"):
        assert parse_when(text, "since") == noon
    assert parse_range("2025-01-31t12:00:00z", "2025-02-01T00:00:00z") == (
        noon,
        dt.datetime(2025, 2, 1, tzinfo=UTC),
    )


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
    # Zoom's month windows: each ends on the day the next starts (to inclusive or not).
    assert overlapping_months(dt.date(2025, 1, 15), dt.date(2025, 3, 20)) == [
        (dt.date(2025, 1, 15), dt.date(2025, 2, 15)),
        (dt.date(2025, 2, 15), dt.date(2025, 3, 15)),
        (dt.date(2025, 3, 15), dt.date(2025, 3, 20)),
    ]


@pytest.mark.parametrize("provider", ["plivo", "zoom"])
def test_an_until_years_ahead_costs_no_request_past_now(provider: str) -> None:
    """Plivo (30 days) and Zoom (a month) cap each query's span, so an until in 2100 used to
    cost a request for each of some 900 empty windows. Windows past now are not asked for:
    the load costs what one without until costs (give or take the window holding now), and
    returns the same rows."""
    import warnings

    import recanalytics as ra
    from recanalytics.sandbox import Sandbox

    box = Sandbox(seed=7, size=300)
    load = {"plivo": ra.load_plivo_recordings, "zoom": ra.load_zoom_recordings}[provider]

    def run(**span: str) -> tuple[int, set[str]]:
        before = box.requests
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Zoom's duration-unit notice
            frame = load(**span, **box.options(provider))
        return box.requests - before, set(frame.get_column("recording_id").to_list())

    open_requests, open_ids = run(since="2024-01-01")
    far_requests, far_ids = run(since="2024-01-01", until="2100-01-01")
    assert far_ids == open_ids and open_ids
    assert far_requests <= open_requests + 1
    assert run(since="2099-01-01", until="2100-01-01") == (0, set())


def test_a_horizon_keeps_a_past_end_and_caps_a_future_one() -> None:
    from recanalytics.clock import Horizon

    now = dt.datetime(2026, 11, 30, 12, tzinfo=UTC)
    hour = dt.timedelta(hours=1)

    def end(until: dt.datetime) -> dt.datetime:
        return Horizon(until, hour, dt.timedelta(0), planned=now).end()

    assert end(now - hour) == now - hour
    assert end(now + 2 * hour) == now + hour
    assert end(dt.datetime(9999, 1, 1, tzinfo=UTC)) == now + hour


async def test_when_every_choice_is_refused_the_attempt_that_got_furthest_is_raised() -> None:
    # SignalWire fell back to ISO dates, which loaded rows until a 400 on a later page: the
    # first refusal ("must be an ISO 8601 date", no rows) was raised, those rows thrown away.
    import polars as pl

    from recanalytics.errors import ProviderError
    from recanalytics.providers.common import first_accepted

    async def attempt(choice: str) -> pl.DataFrame:
        error = ProviderError("signalwire", f"refused {choice}", status=400)
        if choice == "iso":
            error.partial = pl.DataFrame({"recording_id": ["a", "b"]})
        raise error

    with pytest.raises(ProviderError) as info:
        await first_accepted(attempt, ["rfc2822", "iso"], lambda e: e.status == 400, "signalwire")
    assert "refused iso" in str(info.value) and info.value.partial.height == 2

    async def none_loaded(choice: str) -> pl.DataFrame:
        raise ProviderError("signalwire", f"refused {choice}", status=400)

    with pytest.raises(ProviderError, match="refused rfc2822"):
        await first_accepted(none_loaded, ["rfc2822", "iso"], lambda e: e.status == 400, "sw")
