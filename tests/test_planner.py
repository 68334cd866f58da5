"""The load planner: windows that follow the data, and nothing lost at their edges."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import itertools
import logging
import math
import random
import time
import warnings
from types import SimpleNamespace
from typing import Any

import httpx
import polars as pl
import pytest

import recanalytics as ra
from recanalytics.providers.planner import Plan, geometric_edges
from recanalytics.providers.twilio import VIDEO_EPOCH
from recanalytics.sandbox import Sandbox
from recanalytics.windows import Window
from tests.conftest import FAST_RETRY
from tests.test_audit_paging import TwilioServer, twilio_track

UTC = dt.UTC
DAY = dt.timedelta(days=1)


def test_an_empty_range_costs_one_request() -> None:
    box = Sandbox(seed=4, size=300, providers=["twilio"])
    df = ra.load_twilio_recordings(since="2016-01-01", until="2017-01-01", **box.options("twilio"))
    assert df.height == 0 and box.requests == 1


class Capped(httpx.AsyncBaseTransport):
    """The sandbox, refusing every request past ``cap``: a load going round in circles ends."""

    def __init__(self, inner: httpx.AsyncBaseTransport, cap: int) -> None:
        self.inner, self.cap, self.sent = inner, cap, 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.sent += 1
        if self.sent > self.cap:
            return httpx.Response(400, json={"code": 20001, "message": "past the test's cap"})
        return await self.inner.handle_async_request(request)


@pytest.mark.parametrize("page_size", [3, 5])
def test_small_pages_cost_few_requests_beyond_the_pages(page_size: int) -> None:
    # A page of a few rows is often one room's tracks, created within a second: it read as
    # thousands of pages a day, and every piece was split again on its first page (300 tracks:
    # 1,062 requests for 100 pages of 3, 241 for 60 pages of 5). Densities are now read from
    # DENSITY_ROWS rows, and pieces hold that many at least.
    box = Sandbox(seed=7, size=300, latency=0.05, providers=["twilio"])
    truth = {r.sid for r in box["twilio"].tracks.records}
    pages = -(-len(truth) // page_size)  # what a sequential walk needs
    options = box.options("twilio") | {"transport": Capped(box.transport, 4 * pages)}
    try:
        df = ra.load_twilio_recordings(
            page_size=page_size, since="2024-01-01", until="2027-01-01", **options
        )
    except ra.errors.ProviderError as error:
        pytest.fail(f"{box.requests} requests or more for {pages} pages: {error}")
    assert set(df["recording_id"]) == truth and df.height == len(truth)
    assert box.requests <= 1.5 * pages, (box.requests, pages)


@pytest.mark.parametrize("parts", [2, 5, 24, 1000])
@pytest.mark.parametrize("first", [1.0, 60.0, 86_400.0, 1e9])
@pytest.mark.parametrize("growth", [1.0001, 1.05, 2.0, math.inf])
def test_geometric_edges_cover_the_range_newest_piece_shortest(
    parts: int, first: float, growth: float
) -> None:
    low, high = VIDEO_EPOCH, dt.datetime(2026, 11, 1, tzinfo=UTC)
    edges = geometric_edges(low, high, parts, first, growth)
    assert edges[0] == low and edges[-1] == high and edges == sorted(set(edges))
    lengths = [(b - a).total_seconds() for a, b in itertools.pairwise(edges)]
    assert len(lengths) == parts
    assert all(later <= earlier + 1 for earlier, later in itertools.pairwise(lengths))
    newer = lengths[1:]  # all but the oldest grow by ``growth`` at most
    assert all(older <= newer_ * growth + 2 for older, newer_ in itertools.pairwise(newer))


async def test_the_plan_ends_when_every_worker_is_idle_even_after_one_fails() -> None:
    plan = Plan([Window(None, None)], 3)
    taken = []

    async def worker(fail: bool) -> None:
        try:
            while (window := await plan.take()) is not None:
                taken.append(window)
                if fail:
                    raise RuntimeError("boom")
                await asyncio.sleep(0)
        finally:
            await plan.leave()

    outcomes = await asyncio.wait_for(
        asyncio.gather(worker(True), worker(False), worker(False), return_exceptions=True), 5
    )
    assert len(taken) == 1 and sum(isinstance(o, RuntimeError) for o in outcomes) <= 1


@pytest.mark.parametrize(
    "kwargs", [{}, {"since": "2015-01-01"}, {"since": "2025-01-01", "until": "2026-11-01"}]
)
def test_skewed_data_loads_whole_and_the_dense_end_is_split(kwargs: dict[str, str]) -> None:
    box = Sandbox(seed=4, size=3000, skew=0.03, providers=["twilio"])
    truth = {r.sid for r in box["twilio"].tracks.records}
    df = ra.load_twilio_recordings(
        page_size=20, max_concurrency=6, **kwargs, **box.options("twilio")
    )
    assert set(df["recording_id"]) == truth and df.height == len(truth)
    firsts = [q for _, _, q in box.app.log if "PageToken" not in q and "/Recordings?" in q]
    assert len(firsts) > 6  # the first windows, then pieces of the dense ones


def test_a_recording_older_than_the_epoch_is_still_loaded() -> None:
    start = dt.datetime(2013, 6, 1, tzinfo=UTC)
    box = Sandbox(seed=2, size=300, start=start, providers=["twilio"])
    oldest = min(r.created for r in box["twilio"].tracks.records)
    assert oldest < VIDEO_EPOCH  # the dataset reaches back before Programmable Video's epoch
    df = ra.load_twilio_recordings(**box.options("twilio"))
    assert df.height == 300


def test_density_is_read_from_the_rows_not_from_now() -> None:
    """An open window over data that stopped a month ago: the month above the newest row is
    empty, so the first piece holds a few pages at the rows' own density, not a season."""
    from recanalytics.providers.base import Page
    from recanalytics.providers.planner import NEAR_PAGES, rest_of

    now = dt.datetime(2026, 11, 30, tzinfo=UTC)
    newest = dt.datetime(2026, 10, 28, tzinfo=UTC)
    page = Page(
        body={}, size=100, ids=frozenset(), newest_first=True, oldest=newest - dt.timedelta(days=3)
    )
    pieces = rest_of(Window(None, None), page, 100, VIDEO_EPOCH, 23, now, 100, newest)
    assert len(pieces) == 24
    assert pieces[0].start is None and pieces[-1].end is not None
    assert pieces[-1].end - pieces[-1].start <= dt.timedelta(days=3 * NEAR_PAGES + 1)
    # Without the newest row, the empty month would make the data look ten times thinner.
    thin = rest_of(Window(None, None), page, 100, VIDEO_EPOCH, 23, now, 100)
    assert thin[-1].end - thin[-1].start > dt.timedelta(days=10 * NEAR_PAGES)


def test_a_small_rest_that_the_rate_allows_at_once_is_split_into_half_pages() -> None:
    """The rest of a small load fits in what the rate limit lets start now: pieces of about
    half a page come back in one round trip, where larger pieces would need two or more.
    Without room (a large load's later splits) a piece holds MIN_PIECE_PAGES pages or more."""
    from recanalytics.providers.base import Page
    from recanalytics.providers.planner import MIN_PIECE_PAGES, rest_of

    now = dt.datetime(2026, 11, 1, tzinfo=UTC)
    since = dt.datetime(2025, 11, 1, tzinfo=UTC)
    # 100 rows over the newest 30 days of a year: about 11 more pages at that density.
    page = Page(
        body={}, size=100, ids=frozenset(), newest_first=True, oldest=now - dt.timedelta(days=30)
    )
    window = Window(since, now)
    plain = rest_of(window, page, 100, VIDEO_EPOCH, 23, now, 100, now, room=0)
    fine = rest_of(window, page, 100, VIDEO_EPOCH, 23, now, 100, now, room=79)
    tight = rest_of(window, page, 100, VIDEO_EPOCH, 23, now, 100, now, room=12)
    assert len(plain) == len(tight) == 11 // MIN_PIECE_PAGES  # each piece two pages or more
    assert len(fine) == 23
    for pieces in (plain, fine):
        assert pieces[0].start == since and pieces[-1].end is not None
        assert all(a.end == b.start for a, b in itertools.pairwise(pieces))


def test_windows_are_split_only_as_far_as_the_rate_needs() -> None:
    """Each window walks one page at a time: rate × page time windows keep the rate busy. At a
    few milliseconds a page (a server next door) the one window walking is enough, and every
    piece more would end on a partial page the rate must pay for; at 250 ms Twilio's 80 per
    second need about twenty."""
    from recanalytics.providers.planner import SPARE_FACTOR, Plan

    plan = Plan([], workers=24)
    plan.waiting = 23  # one window walking, the other workers idle
    assert plan.spare(80.0) == 23  # no page seen yet: nothing to judge by
    plan.observe(0.005)
    assert plan.spare(80.0) == 0
    plan.observe(0.25)  # page times are averaged: one slow page moves it a quarter of the way
    assert plan.page_time is not None and 0.06 < plan.page_time < 0.07
    for _ in range(30):
        plan.observe(0.25)
    assert plan.spare(80.0) == min(23, math.ceil(80 * 0.25 * SPARE_FACTOR) - 1)
    plan.waiting = 3  # 21 walking: 30 wanted
    assert plan.spare(80.0) == 3


def test_a_windowed_load_comes_newest_first_whatever_order_its_windows_finish() -> None:
    """Windows finish in an order that depends on timing; the frame is in the provider's own
    order (newest first, then by id), so two loads of the same data are the same frame."""
    box = Sandbox(seed=6, size=800, latency=0.01, providers=["twilio"])
    options = box.options("twilio") | {"rate_limit": 10_000.0}
    first = ra.load_twilio_recordings(since="2025-01-01", **options)
    raw = ra.load_twilio_recordings(since="2025-01-01", raw=True, **options)
    assert first.height == len(box["twilio"].tracks.records)
    key = first.select(pl.col("created_at").dt.epoch("us").neg(), "recording_id")
    assert key.rows() == sorted(key.rows())
    assert raw["sid"].to_list() == first["recording_id"].to_list()


def test_only_a_page_that_runs_newest_first_is_split() -> None:
    """The split assumes the rest of a window is older than its page. A server that lists
    oldest first (or in no order) would lose every newer row: such a window is walked whole."""
    from recanalytics.providers.base import Page, descending_span
    from recanalytics.providers.planner import rest_of

    def moments(*days: int | None) -> pl.Series:
        return pl.Series(
            [None if d is None else dt.datetime(2026, 1, d, tzinfo=UTC) for d in days],
            dtype=pl.Datetime("us", "UTC"),
        )

    assert descending_span(moments(3, 2, 1))[2] is True
    assert descending_span(moments(3, None, 2, 2, 1)) == (
        dt.datetime(2026, 1, 1, tzinfo=UTC),
        dt.datetime(2026, 1, 3, tzinfo=UTC),
        True,
        True,  # a row without a date
        dt.datetime(2026, 1, 2, tzinfo=UTC),  # the oldest but one, where a rest is cut from
        True,  # no row newer than the one before it
    )
    assert descending_span(moments(3, 2)).undated is False
    for unknown in (moments(1, 2, 3), moments(2, 2), moments(3, 1, 2), moments(5), moments()):
        assert descending_span(unknown)[2] is False
    # Rows sharing a time, or one row, do not contradict a newest-first list (a window's
    # pages are checked against one another with it); rows going up do.
    for fits, days in ((True, (2, 2)), (True, (5,)), (False, (1, 2, 3)), (False, (3, 1, 2))):
        assert descending_span(moments(*days)).descending is fits
    now = dt.datetime(2026, 11, 1, tzinfo=UTC)
    for newest_first, split in ((True, True), (False, False)):
        page = Page(
            body={},
            size=100,
            ids=frozenset(),
            oldest=now - dt.timedelta(days=30),
            newest_first=newest_first,
        )
        pieces = rest_of(Window(None, now), page, 100, VIDEO_EPOCH, 23, now, 100, now)
        assert bool(pieces) is split


def rooms_of_tracks(n: int, seed: int, days: int = 60) -> list[dict[str, object]]:
    """``n`` tracks at random seconds over ``days`` days, in three rooms in turn."""
    rng = random.Random(seed)
    start = dt.datetime(2025, 3, 1, tzinfo=UTC)
    records = []
    for i in range(n):
        made = start + dt.timedelta(seconds=rng.randint(0, days * 86_400))
        record = twilio_track(i, made.strftime("%Y-%m-%dT%H:%M:%SZ"))
        record["grouping_sids"] = {"room_sid": "RM" + "abc"[i % 3] * 32}
        records.append(record)
    return records


def test_a_list_newest_first_only_within_each_room_loses_no_row() -> None:
    """api-contracts.md states no order for Twilio's lists. A server listing by room, newest
    first within each, shows pages that run newest first, one after the other too: the window
    was split on its first page and stopped, and the other rooms' rows newer than that page's
    oldest, listed on its later pages, were never asked for (1,127 of 1,500 rows, no warning).
    The part a split takes as read is now read again: its other rows come back."""

    class ByRoom(TwilioServer):
        def order(self, record: dict[str, Any]) -> Any:
            return (record["grouping_sids"]["room_sid"], self.created(record))

    records = rooms_of_tracks(1500, seed=3)
    server = ByRoom(records)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        df = ra.load_twilio_recordings(**server.options())
    assert sorted(df["recording_id"]) == sorted(str(r["sid"]) for r in records)


@pytest.mark.parametrize("page_size", [2, 3])
def test_a_list_in_sid_order_loses_no_row_with_small_pages(page_size: int) -> None:
    """A list in SID order, which says nothing of time: a page of two or three rows runs
    newest first by chance (one in two, one in six), and the window was split on it and
    stopped (286 and 232 of 400 rows). A window is now split only while all its pages run
    newest first, across pages too, over DENSITY_ROWS rows at least."""

    class BySid(TwilioServer):
        def order(self, record: dict[str, Any]) -> Any:
            return record["sid"]

    rng = random.Random(7)
    start = dt.datetime(2025, 1, 1, tzinfo=UTC)
    made = [start + dt.timedelta(minutes=rng.randint(0, 60 * 24 * 60)) for _ in range(400)]
    records = [twilio_track(i, t.strftime("%Y-%m-%dT%H:%M:%SZ")) for i, t in enumerate(made)]
    server = BySid(records)
    df = ra.load_twilio_recordings(page_size=page_size, **server.options())
    assert sorted(df["recording_id"]) == sorted(str(r["sid"]) for r in records)


Filters = tuple[str | None, str | None]


def pages_by_window(
    seen: list[httpx.Request],
) -> tuple[dict[Filters, int], dict[str | None, list[str | None]]]:
    """Pages asked for per window (a window is its date filters: its next links keep them),
    and the windows' starts (``DateCreatedAfter``) by their end (``DateCreatedBefore``)."""
    pages: dict[Filters, int] = {}
    for request in seen:
        params = request.url.params
        window = (params.get("DateCreatedAfter"), params.get("DateCreatedBefore"))
        pages[window] = pages.get(window, 0) + 1
    by_end: dict[str | None, list[str | None]] = {}
    for after, before in pages:
        by_end.setdefault(before, []).append(after)
    return pages, by_end


def test_a_newest_first_list_costs_a_request_a_split_made_on_a_first_page() -> None:
    """Each split reads again the part above its cut, which its window's pages took as read.
    On a newest-first list those are rows already read: one request for a window split on its
    first page, and never more than the pages the window had read."""
    start = dt.datetime(2025, 1, 1, tzinfo=UTC)
    records = minutes_apart(3000, start)
    server = TwilioServer(records)

    class Slow(httpx.AsyncBaseTransport):  # a round trip long enough for the load to split
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            await asyncio.sleep(0.02)
            return server.handle(request)

    df = ra.load_twilio_recordings(**(server.options() | {"transport": Slow()}))
    assert sorted(df["recording_id"]) == sorted(str(r["sid"]) for r in records)
    # A window is its date filters (its next links keep them). Rows 7 minutes apart: no
    # window is cut at its own end, so only a check shares its end with another window.
    # A check ends where its window did (the window's DateCreatedBefore) and starts later.
    pages, by_end = pages_by_window(server.seen)
    checks = 0
    for before, afters in by_end.items():
        assert len(afters) <= 2, (before, afters)  # a window and its check
        if len(afters) == 2:
            split, check = sorted(afters, key=lambda a: a or "")
            checks += 1
            read = pages[split, before]
            assert pages[check, before] <= read
            if read == 1:
                assert pages[check, before] == 1
    assert checks >= 3  # the load was split, and every split was checked


def test_only_signalwire_is_split_on_the_order_its_pages_show() -> None:
    """api-contracts.md documents SignalWire's list as newest first, and neither Twilio list's
    order: only SignalWire's splits are not checked."""
    from recanalytics.providers import signalwire, twilio, twilio_compositions

    assert signalwire.RECORDINGS.documented_newest_first
    assert not twilio.TRACK_RECORDINGS.documented_newest_first
    assert not twilio_compositions.COMPOSITIONS.documented_newest_first


def test_the_rate_s_room_is_spent_only_while_it_is_mostly_unspent() -> None:
    """Half-page pieces cost a partial page each: worth it at a load's start and in its tail,
    where the rate is idle, not in the middle of a large load, where the rate is the
    bottleneck and every request is the rest of the load's."""
    from recanalytics.engine import Limits, RateLimiter
    from recanalytics.providers.planner import unspent

    limiter = RateLimiter(Limits(rate=80.0, concurrency=24, period=1.0))
    assert unspent(limiter) == 80  # a load's first split
    for _ in range(30):
        limiter.reserve()
    assert unspent(limiter) == 50  # most of the rate unspent: a tail
    for _ in range(20):
        limiter.reserve()
    assert unspent(limiter) == 0  # 30 left of 80: the rate is being used, keep whole pages


def test_every_idle_worker_may_take_a_piece_when_the_rate_allows_the_whole_rest_at_once() -> None:
    """Beyond the windows that keep the rate busy (``idle``), the other idle workers take
    pieces only when every piece can start now: then the rest arrives in one round trip
    (compositions at 50 ms: two round trips instead of three). Otherwise they would only wait
    for the limiter, each piece ending on a partial page the rate pays for."""
    from recanalytics.providers.base import Page
    from recanalytics.providers.planner import rest_of

    now = dt.datetime(2026, 11, 1, tzinfo=UTC)
    since = dt.datetime(2025, 11, 1, tzinfo=UTC)
    page = Page(
        body={}, size=100, ids=frozenset(), newest_first=True, oldest=now - dt.timedelta(days=30)
    )
    window = Window(since, now)
    spread = rest_of(window, page, 100, VIDEO_EPOCH, 3, now, 100, now, room=79, waiting=23)
    paced = rest_of(window, page, 100, VIDEO_EPOCH, 3, now, 100, now, room=0, waiting=23)
    assert len(spread) == 23  # about 11 pages left, in half pages
    assert len(paced) == 4  # idle + 1


def test_a_page_timed_at_no_time_does_not_divide_by_zero() -> None:
    """Two readings of a coarse clock within one tick are equal (time.monotonic on Windows
    before Python 3.13: 15.6 ms): a page answered that fast was timed at 0 s, and Plan.lanes
    divided the workers by it (ZeroDivisionError out of the load, no rows in .partial)."""
    plan = Plan([], workers=24)
    plan.observe(0.0)
    plan.left = {1: 40.0, 2: 3.0}
    plan.waiting = 23
    assert plan.lanes(40.0, 80.0) == 0  # a server that fast needs no more windows
    assert plan.spare(80.0) == 0


def test_a_load_whose_pages_a_coarse_clock_times_at_no_time_completes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The planner's clock ticking coarsely, as time.monotonic does on Windows before Python
    3.13: a tick longer than the load (Windows' 15.6 ms failed one load in five) times every
    page at 0 s."""
    from recanalytics.providers import planner

    tick = 60.0

    def coarse() -> float:
        return math.floor(time.perf_counter() / tick) * tick

    monkeypatch.setattr(planner, "time", SimpleNamespace(monotonic=coarse, perf_counter=coarse))
    start = dt.datetime(2025, 1, 1, tzinfo=UTC)
    server = TwilioServer(minutes_apart(3000, start))
    df = ra.load_twilio_recordings(
        since="2025-01-01", until="2025-03-01", **(server.options() | {"rate_limit": 80.0})
    )
    assert df.height == 3000


def test_a_window_that_would_end_after_the_rest_of_the_load_goes_on_in_pieces() -> None:
    """A load ends when its last window does. A window that needs more round trips than the
    rate needs for everything left is a straggler: it is split (its pieces wait for workers as
    others finish), into half pages when all that is left fits in one page time."""
    plan = Plan([], workers=24)
    assert plan.lanes(40.0, 80.0) == 0  # no page time yet: nothing to judge by
    for _ in range(40):
        plan.observe(0.25)
    assert plan.page_time == pytest.approx(0.25)
    plan.left = {1: 40.0, 2: 3.0}  # 43 pages left: 0.54 s at 80/s
    assert plan.lanes(40.0, 80.0) == math.ceil(40 * 0.25 / (43 / 80))
    assert plan.lanes(3.0, 80.0) == 2  # 0.75 s alone against 0.54 s for everything
    plan.left = {1: 2.0, 2: 100.0}
    assert plan.lanes(2.0, 80.0) == 0  # ends well before the rest: walks on
    assert plan.lanes(1.0, 80.0) == 0  # one page is one round trip however it is cut
    plan.left = {1: 3.0, 2: 1.0}  # the load's tail: 8 half pages fit in one page time
    assert plan.lanes(3.0, 80.0) == 6
    assert plan.lanes(3.0, 80.0, room=5) == 3  # no room for 8 half pages now: a page each
    assert plan.lanes(3.0, 10.0) == 2  # a slow rate: whole pages, as many as the rate allows
    # A rate far above what 24 workers get through at 250 ms a page (96 pages/s): the load
    # goes at that instead, and pieces beyond it would only take turns.
    plan.left = {1: 40.0, 2: 3.0}
    assert plan.lanes(40.0, 1e6) == math.ceil(40 * 0.25 / (43 / 96))
    assert plan.lanes(3.0, 1e6) == 2  # 0.75 s alone against 0.45 s for everything


def test_a_window_alone_in_the_load_goes_into_one_piece_a_worker_at_most() -> None:
    """The last window of a load, at a rate above what the workers get through a page time at
    a time: as many pieces as workers (more would only take turns), however the division of
    page times reads (24.000000000000004 workers' worth is not 25 pieces)."""
    for page_time, pages in itertools.product((0.05, 0.25, 0.532), range(24, 400, 3)):
        plan = Plan([], workers=24)
        plan.observe(page_time)
        plan.left = {1: float(pages)}  # the window's own estimate: all that is left
        assert plan.lanes(float(pages), 1e6) == 24, (page_time, pages)


def test_a_straggler_is_split_without_idle_workers() -> None:
    from recanalytics.providers.base import Page
    from recanalytics.providers.planner import rest_of, unread

    now = dt.datetime(2026, 11, 1, tzinfo=UTC)
    since = now - dt.timedelta(days=40)
    # 100 rows in the window's newest 10 days: about 3 pages left in the 30 below.
    page = Page(
        body={}, size=100, ids=frozenset(), newest_first=True, oldest=now - dt.timedelta(days=10)
    )
    window = Window(since, now)
    rest = unread(window, page, 100, VIDEO_EPOCH, now, 100, now)
    assert rest is not None and rest.pages == pytest.approx(3.0, rel=0.01)
    assert rest_of(window, page, 100, VIDEO_EPOCH, 0, now, 100, now) == []
    pieces = rest_of(window, page, 100, VIDEO_EPOCH, 0, now, 100, now, lanes=6)
    assert len(pieces) == 6
    assert pieces[0].start == since and pieces[-1].end is not None
    assert pieces[-1].end > page.oldest  # the edge second is read again, not lost
    assert all(a.end == b.start for a, b in itertools.pairwise(pieces))  # no gap, no overlap
    partial = Page(body={}, size=40, ids=frozenset(), newest_first=True, oldest=since)
    assert unread(window, partial, 100, VIDEO_EPOCH, now, 140, now) is None  # the last page


def test_the_years_before_the_data_cost_one_empty_request_not_one_a_piece() -> None:
    """No ``since``: the load reaches down to the epoch (2015), and data starting in 2025 leaves
    a decade empty. Pieces grow by a few percent at most going back, and the oldest one takes
    all that is left: one request answers for the empty years however many workers there are.
    """
    from recanalytics.providers.base import Page
    from recanalytics.providers.planner import MAX_GROWTH, rest_of

    now = dt.datetime(2026, 11, 1, tzinfo=UTC)
    page = Page(
        body={}, size=100, ids=frozenset(), newest_first=True, oldest=now - dt.timedelta(days=3)
    )
    pieces = rest_of(Window(None, None), page, 100, VIDEO_EPOCH, 23, now, 100, now)
    assert len(pieces) == 24 and pieces[0].start is None
    lengths = [(p.end - (p.start or VIDEO_EPOCH)).total_seconds() for p in pieces]
    newer = lengths[1:]  # every piece but the oldest, oldest first
    assert all(a <= b * MAX_GROWTH + 2 for a, b in itertools.pairwise(newer))  # edges: whole s
    assert lengths[0] > 2 * sum(newer)  # the oldest piece holds the far past

    # Loaded whole through the catch-all (how far the newest pieces reach depends on the page
    # times the load measures, so which requests come back empty is not pinned here).
    box = Sandbox(seed=4, size=2000, providers=["twilio"])
    truth = {r.sid for r in box["twilio"].tracks.records}
    assert min(r.created for r in box["twilio"].tracks.records) > VIDEO_EPOCH + 3000 * DAY
    df = ra.load_twilio_recordings(page_size=20, max_concurrency=12, **box.options("twilio"))
    assert df.height == len(truth) and set(df["recording_id"]) == truth
    firsts = [q for _, _, q in box.app.log if "/Recordings?" in q and "PageToken" not in q]
    assert any("Before" in q and "After" not in q for q in firsts)  # the oldest piece: open below


class IgnoringFilters(httpx.AsyncBaseTransport):
    """The sandbox, as a server that does not apply some of Twilio's date filters."""

    def __init__(self, inner: httpx.AsyncBaseTransport, ignored: tuple[str, ...]) -> None:
        self.inner, self.ignored = inner, ignored

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        kept = [(k, v) for k, v in request.url.params.multi_items() if k not in self.ignored]
        stripped = httpx.Request(
            request.method, request.url.copy_with(params=kept), headers=request.headers
        )
        return await self.inner.handle_async_request(stripped)


@pytest.mark.parametrize(
    "ignored",
    [("DateCreatedAfter", "DateCreatedBefore"), ("DateCreatedAfter",), ("DateCreatedBefore",)],
    ids=["both", "after", "before"],
)
def test_a_server_ignoring_date_filters_loses_no_row_and_ends(ignored: tuple[str, ...]) -> None:
    # Every piece of a split was answered with the whole list (or all of it below its end),
    # looked dense, and was split again: the load did not end. Once a page lies wholly outside
    # its window, the list is read once, whole and unfiltered, and trimmed to since/until.
    box = Sandbox(seed=12, size=3000, providers=["twilio"])
    span = {"since": "2025-06-01", "until": "2026-06-01", "rate_limit": 10_000.0}
    want = ra.load_twilio_recordings(**span, **box.options("twilio"))
    box.app.reset_counts()
    options = box.options("twilio") | {"transport": IgnoringFilters(box.transport, ignored)}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        got = ra.load_twilio_recordings(**span, **options)
    assert got["recording_id"].sort().equals(want["recording_id"].sort())
    pages = -(-len(box["twilio"].tracks.records) // 100)
    assert box.requests <= 3 * pages, box.requests
    if "DateCreatedBefore" in ignored:
        # The first page shows it (rows past until): its window stops there, and the list is
        # read once, by the window without filters.
        assert box.requests == 1 + pages, box.requests
    said = [str(w.message) for w in caught]
    assert said and all("does not apply the date filters" in m for m in said), said


def minutes_apart(n: int, start: dt.datetime, minutes: int = 7) -> list[dict[str, object]]:
    """``n`` tracks ``minutes`` apart from ``start``, as Twilio lists them."""
    made = (start + dt.timedelta(minutes=minutes * i) for i in range(n))
    return [twilio_track(i, t.strftime("%Y-%m-%dT%H:%M:%SZ")) for i, t in enumerate(made)]


@pytest.mark.parametrize(
    "ignored",
    [("DateCreatedAfter", "DateCreatedBefore"), ("DateCreatedBefore",)],
    ids=["both", "before"],
)
def test_a_server_ignoring_date_filters_near_the_window_ends_too(ignored: tuple[str, ...]) -> None:
    # All rows within a day of the window: its pages lay outside it, yet less than a day, so
    # they proved nothing, and their rows above the window's end made its density look
    # unbounded: pieces were split again and again (thousands of requests for a 4-page list).
    start = dt.datetime(2025, 1, 1, tzinfo=UTC)
    server = TwilioServer(minutes_apart(400, start))
    since, until = start + dt.timedelta(hours=5), start + dt.timedelta(hours=20)
    want = sorted(
        r["sid"]
        for r in server.records
        if since <= server.created(r) < until  # type: ignore[operator]
    )
    options = server.options() | {
        "transport": IgnoringFilters(httpx.MockTransport(server.handle), ignored),
        "rate_limit": 10_000.0,
    }
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        got = ra.load_twilio_recordings(since=since, until=until, page_size=100, **options)
    assert sorted(got["recording_id"]) == want
    assert len(server.seen) <= 3 * 4, len(server.seen)  # 4 pages hold the whole list
    assert any("does not apply the date filters" in str(w.message) for w in caught)


def test_rows_within_a_minute_outside_a_window_do_not_make_it_look_dense() -> None:
    # A server that widens each filter by 30 s (inside the proof's minute): pages of a piece
    # may lie wholly above it; they say nothing of its density and are not split points.
    start = dt.datetime(2025, 1, 1, tzinfo=UTC)
    server = TwilioServer([])
    server.records = [
        twilio_track(i, (start + dt.timedelta(seconds=i)).strftime("%Y-%m-%dT%H:%M:%SZ"))
        for i in range(2000)
    ]
    margin = dt.timedelta(seconds=30)

    class Widening(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            params = []
            first = "PageToken" not in request.url.params  # its next links carry the widened
            for key, value in request.url.params.multi_items():
                dated = first and key.startswith("DateCreated")
                moment = dt.datetime.fromisoformat(value) if dated else None
                if moment is not None:
                    moment += margin if key == "DateCreatedBefore" else -margin
                    value = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
                params.append((key, value))
            widened = httpx.Request(request.method, request.url.copy_with(params=params))
            return server.handle(widened)

    since, until = start + dt.timedelta(seconds=100), start + dt.timedelta(seconds=1900)
    got = ra.load_twilio_recordings(
        since=since,
        until=until,
        page_size=20,
        **(server.options() | {"transport": Widening(), "rate_limit": 10_000.0}),
    )
    assert sorted(got["recording_id"]) == sorted(r["sid"] for r in server.records[100:1900])
    assert len(server.seen) <= 3 * 90, len(server.seen)  # 90 pages hold the range


@pytest.mark.parametrize("loader", ["tracks", "compositions"])
def test_rows_dated_at_the_end_of_the_calendar_are_loaded(loader: str) -> None:
    # Pieces of a window reaching 9999-12-31T23:59:59 once ended one second past it: an
    # OverflowError, outside the error tree and without the rows loaded.
    far = dt.datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)
    dates = [far - dt.timedelta(seconds=k) for k in range(13)]
    dates += [dt.datetime(2025, 1, 1, tzinfo=UTC) - dt.timedelta(minutes=i) for i in range(100)]
    records = [twilio_track(i, d.strftime("%Y-%m-%dT%H:%M:%SZ")) for i, d in enumerate(dates)]
    if loader == "compositions":
        for record in records:
            record["sid"] = "CJ" + str(record["sid"])[2:]
    server = TwilioServer(records, key="recordings" if loader == "tracks" else "compositions")
    load = ra.load_twilio_recordings if loader == "tracks" else ra.load_twilio_compositions

    class Slow(httpx.AsyncBaseTransport):  # a round trip long enough for the load to split
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            await asyncio.sleep(0.02)
            return server.handle(request)

    options = server.options() | {"transport": Slow()}
    got = load(page_size=10, **options)
    assert sorted(got["recording_id"]) == sorted(str(r["sid"]) for r in records)


def test_one_worker_walks_the_list_unfiltered_and_finds_rows_without_a_date() -> None:
    # Date windows cannot hold a row without a creation date; a server may list such rows
    # last. With one worker the load never splits (documented in docs/loading.md).
    start = dt.datetime(2025, 1, 1, tzinfo=UTC)
    records = minutes_apart(300, start)
    records += [twilio_track(1000 + i, None) for i in range(10)]

    class NullsLast(TwilioServer):  # undated rows listed after every dated one
        def created(self, record: dict[str, object]) -> dt.datetime | None:
            return super().created(record) or dt.datetime.min.replace(tzinfo=UTC)

    server = NullsLast(records)
    got = ra.load_twilio_recordings(max_concurrency=1, **server.options())
    assert sorted(got["recording_id"]) == sorted(str(r["sid"]) for r in records)
    assert not any("DateCreated" in str(r.url) for r in server.seen)


def test_a_list_showing_a_row_without_a_date_on_its_first_page_is_walked_unsplit() -> None:
    # A server that lists undated rows among the dated ones, and in no date window: the load
    # without since/until split after its first page, and a later undated row was never read.
    start = dt.datetime(2025, 1, 1, tzinfo=UTC)
    records = minutes_apart(300, start)[::-1]  # newest first, as listed
    for position in (10, 150):  # on the first 20-row page, and far below it
        records[position] = twilio_track(1000 + position, None)
    listed = {str(r["sid"]): i for i, r in enumerate(records)}

    class ListedInPlace(TwilioServer):
        def handle(self, request: httpx.Request) -> httpx.Response:
            dated = any(k.startswith("DateCreated") for k in request.url.params)
            self.records = [r for r in records if r.get("date_created") is not None or not dated]
            return super().handle(request)

        def created(self, record: dict[str, object]) -> dt.datetime | None:
            # Sorted where it is listed: between its neighbours' dates.
            if record.get("date_created") is not None:
                return super().created(record)
            return start + dt.timedelta(minutes=7 * (299 - listed[str(record["sid"])]), seconds=1)

    server = ListedInPlace(records)

    class Slow(httpx.AsyncBaseTransport):  # a round trip long enough for the load to split
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            await asyncio.sleep(0.02)
            return server.handle(request)

    got = ra.load_twilio_recordings(page_size=20, **(server.options() | {"transport": Slow()}))
    assert sorted(got["recording_id"]) == sorted(str(r["sid"]) for r in records)


@pytest.mark.parametrize(
    ("count", "spacing", "page_size"),
    [(6, 1.0, 2), (300, 2 / 300, 100)],
    ids=["six-a-second-apart", "300-in-two-seconds"],
)
def test_a_burst_near_a_windows_end_does_not_split_the_window_into_itself(
    count: int, spacing: float, page_size: int
) -> None:
    # The rest of a window after its first page was asked up to a minute past the page's
    # oldest row, past the window's own end: its pieces covered the window again, whose
    # first page said the same, and the load never ended (1,520 requests for 6 rows in 20 s).
    from provider_cases import CREDENTIALS

    first = dt.datetime(2026, 1, 5, 10, tzinfo=dt.UTC)
    records = [
        twilio_track(i, (first + dt.timedelta(seconds=i * spacing)).strftime("%Y-%m-%dT%H:%M:%SZ"))
        for i in range(count)
    ]  # fmt: skip
    server = TwilioServer(records)
    cap = 2000  # far above what the load needs: past it, the load is going round in circles

    async def slow(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(0.05)  # answered like a real API: the workers overlap
        if len(server.seen) >= cap:
            return httpx.Response(400, json={"code": 20001, "message": "too many requests"})
        return server.handle(request)

    df = ra.load_twilio_recordings(
        page_size=page_size,
        transport=httpx.MockTransport(slow),
        credentials=CREDENTIALS["twilio"],
        base_url=server.host,
        retry=FAST_RETRY,
    )
    assert df.height == count and len(server.seen) < cap


@pytest.mark.parametrize(
    "skew", [dt.timedelta(days=2), dt.timedelta(hours=5), dt.timedelta(minutes=5)]
)
def test_one_record_whose_time_reads_too_old_does_not_hide_the_rows_after_it(
    skew: dt.timedelta,
) -> None:
    """The last row of a window's first full page showed a date_created older than its place in
    the newest-first list (a mislabelled zone): the rest was cut from it, and the rows listed
    after it were never asked for: 13 of 60 rows came back, without a warning."""
    from provider_cases import CREDENTIALS, twilio_track

    base = dt.datetime(2026, 1, 10, tzinfo=UTC)
    true_times = [base - dt.timedelta(seconds=30 * i) for i in range(60)]
    shown = list(true_times)
    shown[9] = true_times[9] - skew  # the 10th row, the last of the first page of 10

    def record(i: int) -> dict[str, object]:
        return twilio_track(i) | {"date_created": shown[i].strftime("%Y-%m-%dT%H:%M:%SZ")}

    def handle(request: httpx.Request) -> httpx.Response:
        params = request.url.params
        after = params.get("DateCreatedAfter")
        before = params.get("DateCreatedBefore")
        keep = [
            i
            for i, t in enumerate(true_times)  # the server filters by its own true times
            if (after is None or t >= dt.datetime.fromisoformat(after))
            and (before is None or t < dt.datetime.fromisoformat(before))
        ]
        size, page = int(params.get("PageSize", 50)), int(params.get("Page", 0))
        rows = keep[page * size : (page + 1) * size]
        nxt = None
        if (page + 1) * size < len(keep):
            nxt = str(request.url.copy_set_param("Page", str(page + 1)))
        meta = {"next_page_url": nxt, "page_size": size, "url": str(request.url)}
        return httpx.Response(200, json={"recordings": [record(i) for i in rows], "meta": meta})

    df = ra.load_twilio_recordings(
        since="2025-12-01", until="2026-02-01", page_size=10, rate_limit=1e6,
        credentials=CREDENTIALS["twilio"], transport=httpx.MockTransport(handle),
    )  # fmt: skip
    assert df.height == 60


async def test_the_plan_ends_when_a_worker_fails_while_the_others_wait() -> None:
    """The others are idle, waiting for the pieces the walking worker may hand out, when it
    fails: its leaving ends the plan for them, or they would wait for ever."""
    plan = Plan([Window(None, None)], 3)

    async def worker(fail: bool) -> None:
        try:
            while (window := await plan.take()) is not None:
                assert fail, window
                while plan.waiting < 2:  # the other two wait for what this one hands out
                    await asyncio.sleep(0)
                raise RuntimeError("boom")
        finally:
            await plan.leave()

    outcomes = await asyncio.wait_for(
        asyncio.gather(worker(True), worker(False), worker(False), return_exceptions=True), 2
    )
    assert plan.done and [type(o) for o in outcomes] == [RuntimeError, type(None), type(None)]


def test_each_piece_of_a_split_of_small_pages_holds_density_rows_at_least() -> None:
    """Pages of five rows: the rest, 60 rows at the density read, is twelve pages, six pieces
    of two pages; but a piece of ten rows is as likely empty as not, and costs a request
    whatever it holds. The pieces hold DENSITY_ROWS rows at that density."""
    from recanalytics.providers.base import Page
    from recanalytics.providers.planner import DENSITY_ROWS, rest_of

    now = dt.datetime(2026, 11, 1, tzinfo=UTC)
    page = Page(body={}, size=5, ids=frozenset(), newest_first=True, oldest=now - DAY)
    window = Window(now - 4 * DAY, now)
    pieces = rest_of(window, page, 5, VIDEO_EPOCH, 23, now, 20, now)  # 20 rows in its newest day
    assert len(pieces) == 60 // DENSITY_ROWS
    assert pieces[0].start == window.start and pieces[-1].end is not None


def test_a_page_has_listed_its_window_from_the_second_after_its_oldest_row_but_one() -> None:
    """The pieces of a split from there up hold only rows the window's pages listed (an empty
    answer there is no doubt after a retirement); not from the oldest row itself, whose time
    may read too old (a mislabelled zone), the rows listed after it newer than it says."""
    from recanalytics.providers.base import Page
    from recanalytics.providers.planner import listed_above

    but_one = dt.datetime(2026, 1, 10, 12, 0, 0, 250_000, tzinfo=UTC)
    page = Page(
        body={},
        size=20,
        ids=frozenset(),
        oldest=but_one - dt.timedelta(hours=5),  # the last row, reading five hours too old
        newest=but_one + dt.timedelta(minutes=10),
        newest_first=True,
        oldest_but_one=but_one,
        descending=True,
    )
    # Rows sharing the oldest but one's second may be on the next page: the second after it.
    assert listed_above(page) == dt.datetime(2026, 1, 10, 12, 0, 2, tzinfo=UTC)
    whole = dataclasses.replace(page, oldest_but_one=but_one.replace(microsecond=0))
    assert listed_above(whole) == dt.datetime(2026, 1, 10, 12, 0, 1, tzinfo=UTC)
    one_row = Page(body={}, size=1, ids=frozenset(), oldest=but_one, newest=but_one)
    assert listed_above(one_row) == dt.datetime(2026, 1, 10, 12, 0, 2, tzinfo=UTC)
    undated = Page(body={}, size=3, ids=frozenset(), undated=True)
    assert listed_above(undated) == dt.datetime.max.replace(tzinfo=UTC)


class ByRoom(TwilioServer):
    """A list by room, newest first within each (api-contracts.md states no order for
    Twilio's lists)."""

    def order(self, record: dict[str, Any]) -> Any:
        return (record["grouping_sids"]["room_sid"], self.created(record))


def test_a_window_whose_next_page_lists_a_newer_row_is_walked_whole() -> None:
    """Each page runs newest first, but the second lists rows newer than the first's oldest
    (the room listed first ends with the first page): the list is not newest first across
    pages, and the window is not split on what its two pages showed."""
    start = dt.datetime(2025, 3, 1, tzinfo=UTC)
    records = []
    for i in range(200):  # ten in the room listed first, within an hour; the rest over 60 days
        if i < 10:
            room, made = "RM" + "b" * 32, start + dt.timedelta(days=30, minutes=-6 * i)
        else:
            room, made = "RM" + "a" * 32, start + dt.timedelta(hours=7 * i)
        record = twilio_track(i, made.strftime("%Y-%m-%dT%H:%M:%SZ"))
        record["grouping_sids"] = {"room_sid": room}
        records.append(record)
    server = ByRoom(records)
    df = ra.load_twilio_recordings(page_size=10, **server.options())
    assert sorted(df["recording_id"]) == sorted(str(r["sid"]) for r in records)
    assert not any("DateCreated" in str(r.url) for r in server.seen)  # one window, unfiltered
    assert len(server.seen) == 20


def test_pages_sharing_a_second_at_their_edge_run_newest_first() -> None:
    """Three rows a second, pages of ten: each page's newest row shares a second with the
    previous page's oldest, which is no row newer than the ones listed before it. Ten rows say
    nothing of a density: the window's second page is asked for, then it is split."""
    start = dt.datetime(2025, 3, 1, tzinfo=UTC)
    records = [
        twilio_track(i, (start + dt.timedelta(seconds=i // 3)).strftime("%Y-%m-%dT%H:%M:%SZ"))
        for i in range(120)
    ]
    server = TwilioServer(records)
    until = start + dt.timedelta(hours=1)
    df = ra.load_twilio_recordings(since=start, until=until, page_size=10, **server.options())
    assert df.height == 120
    assert server.seen[1].url.params["PageToken"] == "PA1"
    assert sum("PageToken" not in r.url.params for r in server.seen) > 2  # its pieces, check


def test_once_a_check_finds_the_list_out_of_order_no_window_is_split_again(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The first split's check lists a row the window's pages had not shown after one they
    had: the list is not newest first (a debug log says so), and the first split's pieces are
    walked whole. A window split again shares an edge with its pieces (its check ends where it
    did, its oldest piece starts where it did): no two windows do."""
    records = rooms_of_tracks(600, seed=3)
    server = ByRoom(records)

    class CheckFirst(httpx.AsyncBaseTransport):  # the check, open at its end, answers first
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            if "DateCreatedBefore" in request.url.params:
                await asyncio.sleep(0.02)
            return server.handle(request)

    caplog.set_level(logging.DEBUG, logger="recanalytics")
    df = ra.load_twilio_recordings(**(server.options() | {"transport": CheckFirst()}))
    assert sorted(df["recording_id"]) == sorted(str(r["sid"]) for r in records)
    said = [r for r in caplog.records if "does not come newest first" in r.getMessage()]
    assert len(said) == 1
    windows = {
        (r.url.params.get("DateCreatedAfter"), r.url.params.get("DateCreatedBefore"))
        for r in server.seen
        if "DateCreatedAfter" in r.url.params or "DateCreatedBefore" in r.url.params
    }
    assert len(windows) > 2  # the first window (without filters) was split, and checked
    for edge in (0, 1):
        edges = [w[edge] for w in windows]
        assert len(set(edges)) == len(edges), sorted(windows, key=str)


def test_a_check_of_a_newest_first_list_keeps_splitting_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Pages of three: a window reads seven before its density is read, and is split. Its
    check lists the rows of all seven, those of the pages before the last ones (which it is
    compared with) first: that proves nothing, and the list is split on."""
    caplog.set_level(logging.DEBUG, logger="recanalytics")
    start = dt.datetime(2025, 1, 1, tzinfo=UTC)
    server = TwilioServer(minutes_apart(120, start, minutes=1))
    until = start + dt.timedelta(minutes=120)
    df = ra.load_twilio_recordings(since=start, until=until, page_size=3, **server.options())
    assert df.height == 120
    assert not [r for r in caplog.records if "does not come newest first" in r.getMessage()]


def test_a_window_that_has_read_pages_walks_on_when_its_rest_is_worth_no_check() -> None:
    """Pages of 15: the window's density is read on its second page, and its rest is three
    pages more. A split would have its two pages read again (Twilio's order is not documented)
    to save at most those three: the window walks on, alone."""
    start = dt.datetime(2025, 3, 1, tzinfo=UTC)
    server = TwilioServer(minutes_apart(75, start, minutes=1))
    until = start + dt.timedelta(minutes=75)
    df = ra.load_twilio_recordings(since=start, until=until, page_size=15, **server.options())
    assert df.height == 75
    assert len(server.seen) == 5  # the five pages of the one window
    assert len({r.url.params["DateCreatedAfter"] for r in server.seen}) == 1


def test_a_window_is_split_on_its_first_page_however_small_its_rest() -> None:
    """The check of a split made on a first page reads one page again: a rest of a page and a
    half is worth it, in half-page pieces that arrive at once."""
    start = dt.datetime(2025, 3, 1, tzinfo=UTC)
    server = TwilioServer(minutes_apart(250, start, minutes=1))
    until = start + dt.timedelta(minutes=250)
    df = ra.load_twilio_recordings(since=start, until=until, page_size=100, **server.options())
    assert df.height == 250
    assert "PageToken" not in server.seen[1].url.params  # a piece, not the window's page 2


def test_a_split_that_takes_nothing_as_read_asks_for_no_empty_check() -> None:
    """Rows four a second up to until: the first page reaches less than a minute below the
    window's end, where its rest is then cut (never past the end). The split takes nothing as
    read, so there is nothing to check: no request for the empty range [until, until)."""
    start = dt.datetime(2025, 3, 1, tzinfo=UTC)
    records = [
        twilio_track(i, (start + dt.timedelta(seconds=i // 4)).strftime("%Y-%m-%dT%H:%M:%SZ"))
        for i in range(600)
    ]
    server = TwilioServer(records)
    until = start + dt.timedelta(seconds=150)
    df = ra.load_twilio_recordings(since=start, until=until, **server.options())
    assert df.height == 600
    windows = set()
    for request in server.seen:
        params = request.url.params
        after, before = params["DateCreatedAfter"], params["DateCreatedBefore"]
        # Sent a second early and 30 s late (twilio.date_params): the window asked for.
        first = dt.datetime.fromisoformat(after) + dt.timedelta(seconds=1)
        end = dt.datetime.fromisoformat(before) - dt.timedelta(seconds=30)
        windows.add((first, end))
    assert len(windows) > 2  # the first window was split
    assert all(first < end for first, end in windows), sorted(windows)


def test_three_workers_split_a_newest_first_list_for_few_requests_beyond_its_pages() -> None:
    """Each piece of a split is given its share of its window's estimate (Plan.left), from
    which a window judges whether it would end after the rest of the load. Given the whole
    estimate each, the load looked many times longer than it was: 70 requests for these 50
    pages."""
    start = dt.datetime(2025, 1, 1, tzinfo=UTC)
    server = TwilioServer(minutes_apart(1000, start))
    df = ra.load_twilio_recordings(max_concurrency=3, page_size=20, **server.options())
    assert df.height == 1000
    assert len(server.seen) <= 1.25 * 50, len(server.seen)


def test_a_row_at_a_windows_start_is_in_it_and_one_at_its_end_is_not() -> None:
    """Windows are ``[start, end)``: a page whose newest row is at its window's start has a row
    of the window (its density is read from it), one whose oldest row is at the end has none."""
    from recanalytics.providers.base import Page
    from recanalytics.providers.planner import outside

    start, end = dt.datetime(2026, 1, 10, tzinfo=UTC), dt.datetime(2026, 1, 11, tzinfo=UTC)
    window, tick = Window(start, end), dt.timedelta(microseconds=1)

    def page(newest: dt.datetime, oldest: dt.datetime) -> Page:
        return Page(body={}, size=2, ids=frozenset(), oldest=oldest, newest=newest)

    assert not outside(window, page(start, start - DAY))
    assert outside(window, page(start - tick, start - DAY))
    assert outside(window, page(end + DAY, end))
    assert not outside(window, page(end + DAY, end - tick))


def test_the_empty_years_below_the_data_once_answered_are_no_pages_still_to_come() -> None:
    """No ``since``: the oldest piece of the first split reaches down to the epoch, and at the
    density the first page read the decade below the data holds thousands of pages. That piece
    answers empty at once, and from then on those pages are not to come: the pieces holding
    the data are split for the idle workers, and none walks more than a few pages (two, or
    three with the machine busy). Had they been left in the load's estimate, every window
    would have looked short beside it and walked its pages one round trip after another
    (eight)."""
    start = dt.datetime(2025, 1, 1, tzinfo=UTC)
    server = TwilioServer(minutes_apart(2000, start))

    class Slow(httpx.AsyncBaseTransport):  # a round trip long enough for the load to split
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            await asyncio.sleep(0.03)
            return server.handle(request)

    df = ra.load_twilio_recordings(
        page_size=50, max_concurrency=12, **(server.options() | {"transport": Slow()})
    )
    assert df.height == 2000
    assert any("DateCreatedAfter" not in r.url.params for r in server.seen[1:])  # the oldest
    assert max(int(r.url.params.get("Page", 0)) for r in server.seen) < 4  # Page counts from 0


def test_a_check_is_walked_whole_though_workers_are_idle_when_it_starts() -> None:
    """A check reads again what a split took as read, so it is not split on that order again.
    Here the server answers each check's first page last, once no other request is in flight:
    the check of the window split on its second page holds two pages, and workers are idle
    when its first arrives. Split, it cost a check of its own (three windows sharing an end)
    and two requests more."""
    start = dt.datetime(2025, 1, 1, tzinfo=UTC)
    server = TwilioServer(minutes_apart(1500, start))
    ends: dict[str | None, str | None] = {}
    flight = {"sent": 0, "held": 0, "last": 0.0}

    class ChecksLast(httpx.AsyncBaseTransport):
        """Holds the first page of a window that ends where one seen before did and starts
        later (rows 7 minutes apart: only a check does) until the others have been answered
        50 ms ago."""

        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            loop = asyncio.get_running_loop()
            params = request.url.params
            flight["sent"] += 1
            flight["last"] = loop.time()
            try:
                if "PageToken" not in params:
                    after = params.get("DateCreatedAfter")
                    if ends.setdefault(params.get("DateCreatedBefore"), after) != after:
                        flight["held"] += 1
                        while (
                            flight["sent"] > flight["held"] or loop.time() - flight["last"] < 0.05
                        ):
                            await asyncio.sleep(0.01)
                        flight["held"] -= 1
                await asyncio.sleep(0.005)
                return server.handle(request)
            finally:
                flight["sent"] -= 1
                flight["last"] = loop.time()

    df = ra.load_twilio_recordings(
        since="2024-12-01",
        until="2025-06-01",
        page_size=50,
        max_concurrency=6,
        **(server.options() | {"transport": ChecksLast()}),
    )
    assert df.height == 1500
    pages, by_end = pages_by_window(server.seen)
    assert all(len(afters) <= 2 for afters in by_end.values()), by_end  # a window, its check
    checks = [(max(afters), before) for before, afters in by_end.items() if len(afters) == 2]
    assert max(pages[check] for check in checks) == 2  # the case this test is about
