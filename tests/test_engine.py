"""Engine pieces that need no server: Retry-After parsing, backoff bounds, error details."""

from __future__ import annotations

import asyncio
import email.utils
import gc
import itertools
import math
import time

import httpx
import pytest

import recanalytics as ra
from recanalytics.engine import (
    Limits,
    RateLimiter,
    RetryPolicy,
    Session,
    error_details,
    parse_retry_after,
    shared_limiter,
)
from recanalytics.errors import ConfigError


def test_retry_after_in_seconds_and_as_dates() -> None:
    now = 1_700_000_000.0
    assert parse_retry_after("7", now) == 7.0
    assert parse_retry_after("0.5", now) == 0.5
    assert parse_retry_after(email.utils.formatdate(now + 30, usegmt=True), now) == pytest.approx(
        30, abs=1
    )
    assert parse_retry_after("2023-11-15T00:13:20Z", now) == pytest.approx(7200, abs=1)
    assert parse_retry_after("Thu, 01 Jan 1970 00:00:00 GMT", now) == 0.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    assert parse_retry_after("-3", now) == 0.0


def test_backoff_is_capped_with_jitter() -> None:
    policy = RetryPolicy(backoff_base=1.0, backoff_cap=8.0)
    for attempt in range(10):
        wait = policy.backoff(attempt)
        ceiling = min(8.0, 2**attempt)
        assert ceiling / 2 <= wait <= ceiling


def test_invalid_policies_and_limits() -> None:
    with pytest.raises(ConfigError, match="max_retries"):
        RetryPolicy(max_retries=-1)
    with pytest.raises(ConfigError, match="rate_limit"):
        Limits(rate=0, concurrency=1)
    with pytest.raises(ConfigError, match="max_concurrency"):
        Limits(rate=1, concurrency=0)


def test_error_details_of_every_provider_shape() -> None:
    assert error_details({"code": 20404, "message": "nope", "status": 404}) == ("nope", 20404)
    assert error_details({"api_id": "x", "error": "not found"}) == ("not found", None)
    assert error_details({"errors": [{"code": "20429", "message": "slow down"}]}) == (
        "slow down",
        "20429",
    )
    assert error_details({"code": 124, "message": "Invalid access token."}) == (
        "Invalid access token.",
        124,
    )
    assert error_details("text") == ("", None)


def test_error_details_of_a_gateway_s_detail() -> None:
    # A gateway or framework in front of an API (FastAPI, Django REST) says it in "detail":
    # an error showing only the status phrase hid why.
    assert error_details({"detail": "Authentication credentials were not provided."}) == (
        "Authentication credentials were not provided.",
        None,
    )


def test_limiter_without_a_period_paces_requests_evenly() -> None:
    async def run() -> float:
        limiter = RateLimiter(Limits(rate=200.0, concurrency=1))
        started = time.monotonic()
        for _ in range(21):
            await limiter.acquire()
        return time.monotonic() - started

    # 21 acquisitions at 200/s need at least 20 intervals of 5 ms (a lower bound, not a timing
    # assertion: pacing can only make it slower).
    assert asyncio.run(run()) >= 0.095


def most_in_any_window(starts: list[float], period: float) -> int:
    """The largest number of ``starts`` inside any half-open window ``[t, t + period)``."""
    starts = sorted(starts)
    best, first = 0, 0
    for last, start in enumerate(starts):
        while start - starts[first] >= period:
            first += 1
        best = max(best, last - first + 1)
    return best


def test_limiter_with_a_period_lets_a_period_s_worth_start_early_and_never_more() -> None:
    limiter = RateLimiter(Limits(rate=80.0, concurrency=24, period=1.0))
    starts = [limiter.reserve(now=0.0) for _ in range(500)]
    gap = 1 / (RateLimiter.PEAK * 80.0)
    # Half the first second's worth goes at once, the rest at PEAK times the rate: early, but
    # not all in one instant.
    assert starts[:40] == [0.0] * 40
    assert starts[40:80] == pytest.approx([(i + 1) * gap for i in range(40)])
    assert starts[79] < 1.0
    assert min(b - a for a, b in itertools.pairwise(starts[40:])) >= gap - 1e-12
    assert starts[80] >= 1.0  # the 81st waits for the first to leave the window
    assert most_in_any_window(starts, 1.0) == 80
    # Sustained, it still keeps to 80 per second (less the margin for the server's clock).
    assert starts[-1] >= (500 - 80) / 80.0
    assert most_in_any_window(starts, 1.0 + RateLimiter.JITTER - 1e-9) <= 80


def test_limiter_paces_evenly_after_a_429() -> None:
    limiter = RateLimiter(Limits(rate=80.0, concurrency=24, period=1.0))
    limiter.calm()
    now = time.monotonic()
    starts = [limiter.reserve(now=now) for _ in range(5)]
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert all(gap == pytest.approx(1 / 80.0) for gap in gaps)


def test_limiter_after_evenly_paced_starts_keeps_the_window() -> None:
    """Leaving the calm period, the starts made while calm still count in the window."""
    limiter = RateLimiter(Limits(rate=10.0, concurrency=4, period=1.0))
    starts = [limiter.reserve(now=t / 10) for t in range(10)]  # evenly, 10 in the first second
    starts += [limiter.reserve(now=1.0) for _ in range(15)]
    assert most_in_any_window(starts, 1.0) <= 10


def test_one_limiter_per_account_and_server() -> None:
    limits = Limits(rate=80.0, concurrency=24, period=1.0)
    assert shared_limiter(("twilio", "a"), limits) is shared_limiter(("twilio", "a"), limits)
    assert shared_limiter(("twilio", "a"), limits) is not shared_limiter(("twilio", "b"), limits)
    slower = Limits(rate=10.0, concurrency=24, period=1.0)
    # One account, one limiter, whatever the rate a load asks for (RateLimiter.join).
    assert shared_limiter(("twilio", "a"), limits) is shared_limiter(("twilio", "a"), slower)
    transport = httpx.MockTransport(lambda request: httpx.Response(200))
    own = shared_limiter(("twilio", "a"), limits, transport=transport)
    assert own is not shared_limiter(("twilio", "a"), limits)
    assert own is shared_limiter(("twilio", "a"), limits, transport=transport)
    import recanalytics.engine as engine

    gc.collect()  # transports earlier tests dropped go first: count only this one
    count = len(engine._LIMITERS)
    del transport
    gc.collect()
    assert len(engine._LIMITERS) == count - 1  # dropped with its transport


def test_a_429_calms_the_session_limiter() -> None:
    answers = iter(
        [httpx.Response(429, json={"message": "slow down"}), httpx.Response(200, json={})]
    )
    transport = httpx.MockTransport(lambda request: next(answers))
    limits = Limits(rate=1000.0, concurrency=2, period=1.0)
    retry = RetryPolicy(backoff_base=0.0, backoff_cap=0.0)

    async def run() -> RateLimiter:
        async with Session(
            "twilio", auth=None, limits=limits, retry=retry, transport=transport
        ) as s:
            assert await s.get_json("https://video.twilio.com/v1/Recordings") == {}
            return s.limiter

    limiter = asyncio.run(run())
    assert limiter.calm_until > time.monotonic()


def test_loads_against_one_account_share_its_rate() -> None:
    """Tracks and compositions (or an archive's three loads) run at once: one budget, not two."""
    from recanalytics.options import resolve
    from recanalytics.providers.registry import SPECS
    from recanalytics.sandbox import Sandbox

    for name, spec in SPECS.items():
        box = Sandbox(seed=1, size=10, providers=[name])
        first, second = resolve(spec, box.options(name)), resolve(spec, box.options(name))
        assert first.session().limiter is second.session(label="other").limiter
        other = Sandbox(seed=1, size=10, providers=[name])
        assert resolve(spec, other.options(name)).session().limiter is not first.session().limiter


def test_one_limiter_per_account_and_host_reached() -> None:
    """An Auth Token and an API key of one account, any rate asked for and a transport that
    reaches the host share one limiter; another host, another account or a transport that
    answers in this process do not."""
    from recanalytics.options import resolve
    from recanalytics.providers.registry import SPECS
    from recanalytics.providers.twilio import TwilioCredentials
    from recanalytics.sandbox.twilio import API_KEY, CREDENTIALS

    token = TwilioCredentials(**CREDENTIALS)
    key = TwilioCredentials(account_sid=CREDENTIALS["account_sid"], **API_KEY)
    stranger = TwilioCredentials(account_sid="AC" + "9" * 32, auth_token="another")

    def limiter(**options: object) -> RateLimiter:
        given = {"credentials": token, "base_url": "https://video.twilio.com"} | options
        return resolve(SPECS["twilio"], given).session().limiter

    account = limiter()
    assert limiter(credentials=key) is account
    assert limiter(rate_limit=20.0) is account
    assert limiter(transport=httpx.AsyncHTTPTransport()) is account

    class Proxying(httpx.AsyncBaseTransport):  # of a class the engine does not know
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            raise AssertionError("not sent")

    assert limiter(transport=Proxying()) is account
    assert limiter(base_url="https://proxy.example.com") is not account
    assert limiter(credentials=stranger) is not account
    mock = httpx.MockTransport(lambda request: httpx.Response(200))
    assert limiter(transport=mock) is not account
    assert limiter(transport=mock) is limiter(transport=mock)
    nowhere = Proxying()  # a host only a transport in this process answers
    assert limiter(transport=nowhere, base_url="http://sandbox.invalid") is not limiter(
        transport=Proxying(), base_url="http://sandbox.invalid"
    )


def test_a_shared_limiter_runs_at_the_highest_rate_its_loads_ask() -> None:
    limiter = RateLimiter(Limits(rate=20.0, concurrency=8, period=1.0))
    limiter.join(20.0)
    limiter.join(60.0)  # a Zoom Business account: 60 a second
    assert (limiter.rate, limiter.capacity) == (60.0, 60)
    limiter.join(10.0)
    assert limiter.rate == 60.0
    limiter.leave(60.0)
    assert (limiter.rate, limiter.capacity) == (20.0, 20)


def test_a_load_asking_less_than_the_account_keeps_to_its_own_rate() -> None:
    shared = RateLimiter(Limits(rate=80.0, concurrency=4, period=1.0))
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json={}))
    retry = RetryPolicy(max_retries=0)

    def session(rate: float) -> Session:
        limits = Limits(rate=rate, concurrency=4, period=1.0)
        return Session(
            "twilio", auth=None, limits=limits, retry=retry, transport=transport, limiter=shared
        )

    async def run() -> tuple[int, int]:
        async with session(80.0), session(1000.0) as fastest, session(10.0) as slow:
            assert shared.rate == 1000.0
            for s in (fastest, slow):
                await s.get_json("https://video.twilio.com/v1/Recordings")
            assert fastest.own is not None and slow.own is not None
            return len(fastest.own.starts), len(slow.own.starts)

    assert asyncio.run(run()) == (0, 1)  # only the load asking less than the account's
    assert shared.asked == {}  # every load left


def test_a_session_that_fails_to_build_leaves_no_rate_on_the_shared_limiter(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # It joined the account's limiter before building its client: a client that failed (a
    # transport in use by another loop, a bad proxy setting) left its rate there for good,
    # and every later load of the account ran at 1000 requests/s.
    shared = RateLimiter(Limits(rate=80.0, concurrency=4, period=1.0))

    def broken(*args: object, **kwargs: object) -> httpx.AsyncClient:
        raise ra.ConfigError("transport", "a transport no other event loop uses", "x")

    monkeypatch.setattr(httpx, "AsyncClient", broken)
    limits = Limits(rate=1000.0, concurrency=4, period=1.0)
    with pytest.raises(ra.ConfigError):
        Session("twilio", auth=None, limits=limits, retry=RetryPolicy(), limiter=shared)
    assert shared.asked == {} and shared.rate == 80.0


def test_the_limiter_says_how_many_requests_could_start_now() -> None:
    limiter = RateLimiter(Limits(rate=80.0, concurrency=24, period=1.0))
    assert limiter.room(now=0.0) == 80
    for _ in range(3):
        limiter.reserve(now=0.0)
    assert limiter.room(now=0.5) == 77
    assert limiter.room(now=1.2) == 80  # those starts left the window
    limiter.calm()
    assert limiter.room() == 1  # paced evenly after a 429: one at a time


class CalmClock:
    """A limiter on a clock the test moves, and the gap between its paced starts."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, limits: Limits) -> None:
        self.now = 1000.0
        monkeypatch.setattr(time, "monotonic", lambda: self.now)
        self.limiter = RateLimiter(limits)

    def gap(self) -> float:
        starts = [self.limiter.reserve(now=self.now) for _ in range(3)]
        self.limiter.starts.clear()
        return starts[2] - starts[1]

    def refused_after(self, seconds: float) -> None:
        """A 429 ``seconds`` from the last moment."""
        self.now += seconds
        self.limiter.calm()


def test_each_further_429_while_calm_halves_the_pace(monkeypatch: pytest.MonkeyPatch) -> None:
    """A server that allows less than the configured rate is met instead of retried against:
    a burst of 429s (the requests in flight together, or everything sent while the server's
    period is full) slows once, each later one halves, at most once a period."""
    clock = CalmClock(monkeypatch, Limits(rate=80.0, concurrency=24, period=1.0))
    period = clock.limiter.settle + 1e-6
    assert clock.limiter.settle == pytest.approx(1.0 + RateLimiter.JITTER)
    clock.refused_after(0)
    assert clock.gap() == pytest.approx(1 / 80)
    for _ in range(10):  # the rest of the burst, and of the server's full period
        clock.refused_after(0.1)
    assert clock.gap() == pytest.approx(1 / 80)
    clock.refused_after(period)
    assert clock.gap() == pytest.approx(1 / 40)
    for _ in range(20):
        clock.refused_after(period)
    assert clock.gap() == pytest.approx(64 / 80)  # never slower than 1/64 of the rate
    clock.now += RateLimiter.CALM + 1
    assert clock.gap() < 1 / 80  # calm over: the window again
    clock.refused_after(0)
    assert clock.gap() == pytest.approx(1 / 80)  # and a new 429 starts from the full rate


def test_each_period_without_a_429_doubles_the_pace_back(monkeypatch: pytest.MonkeyPatch) -> None:
    """A fresh process meeting a server whose period is already full (a kernel restarted right
    after a large load) is refused until the period ends; the pace it fell to then would hold
    for the whole calm minute. Plivo counts 300 per 5 s: each quiet 5 s doubles the pace."""
    clock = CalmClock(monkeypatch, Limits(rate=60.0, concurrency=8, period=5.0))
    period = clock.limiter.settle + 1e-6
    assert clock.limiter.settle == pytest.approx(5.0 + RateLimiter.JITTER)
    clock.refused_after(0)
    for _ in range(3):
        clock.refused_after(period)
    assert clock.gap() == pytest.approx(8 / 60)  # halved three times
    clock.now += period - 0.01
    assert clock.gap() == pytest.approx(8 / 60)  # not a whole period quiet yet
    clock.now += 0.01
    assert clock.gap() == pytest.approx(4 / 60)
    clock.now += 2 * period
    assert clock.gap() == pytest.approx(1 / 60)  # two more quiet periods: the full rate, evenly
    clock.now += 5 * period  # still within the calm minute
    assert clock.gap() == pytest.approx(1 / 60) and clock.limiter.pace == 1.0  # never above
    clock.refused_after(0)  # a 429 again, still within the calm minute: half the pace
    assert clock.gap() == pytest.approx(2 / 60)


@pytest.mark.parametrize("seed", range(20))
def test_limiter_never_exceeds_a_period_s_worth_however_requests_come(seed: int) -> None:
    """Requests asked for at random moments (bursts, lulls, a clock that only moves forward)
    never start more than a period's worth in any period plus the margin, never before they
    are asked for, and in the order they were asked for."""
    import random

    rng = random.Random(seed)
    rate, period = rng.choice([(80.0, 1.0), (55.0, 5.0), (20.0, 1.0), (10.0, 1.0)])
    limiter = RateLimiter(Limits(rate=rate, concurrency=24, period=period))
    now, starts = 0.0, []
    for _ in range(600):
        now += rng.choice([0.0, 0.0, 0.001, 0.01, 0.2, rng.random() * 2 * period])
        starts.append(limiter.reserve(now=now))
        assert starts[-1] >= now  # never in the past
    assert most_in_any_window(starts, period + RateLimiter.JITTER - 1e-9) <= limiter.capacity
    assert starts == sorted(starts)


@pytest.mark.parametrize("status", [408, 520, 522, 524, 529])
def test_gateway_and_request_timeout_statuses_are_retried(status: int) -> None:
    # One of these on page 2 failed the whole load at once, although it is as transient as a 503.
    from provider_cases import CREDENTIALS, twilio_track

    from tests.conftest import FAST_RETRY

    calls = {"n": 0}

    def handle(request: httpx.Request) -> httpx.Response:
        calls["n"] += 1
        if calls["n"] == 1:
            return httpx.Response(status, text="upstream busy")
        return httpx.Response(200, json={"recordings": [twilio_track(1)], "meta": {}})

    df = ra.load_twilio_recordings(
        credentials=CREDENTIALS["twilio"], transport=httpx.MockTransport(handle), retry=FAST_RETRY
    )
    assert df.height == 1 and calls["n"] == 2


def test_a_retry_after_date_past_any_timestamp_is_no_crash() -> None:
    assert parse_retry_after("Mon, 01 Jan 99999999999999999999 00:00:00 GMT") in (None, math.inf)


def test_a_next_link_to_a_host_idna_cannot_read_is_a_pagination_error() -> None:
    # httpx let the idna codec's error through: a raw IDNAError instead of a named one.
    from provider_cases import CREDENTIALS, twilio_track

    def handle(request: httpx.Request) -> httpx.Response:
        meta = {"next_page_url": "https://xn--/v1/Recordings?Page=1", "page_size": 1}
        return httpx.Response(200, json={"recordings": [twilio_track(1)], "meta": meta})

    with pytest.raises(ra.PaginationError) as info:
        ra.load_twilio_recordings(
            page_size=1, credentials=CREDENTIALS["twilio"], transport=httpx.MockTransport(handle)
        )
    assert info.value.partial.height == 1


def load_zoom_from_a_dead_server(max_concurrency: int) -> tuple[int, ra.TransportError]:
    """A Zoom load without since (84 month windows) against a server refusing every
    connection: the requests sent, and the load's error."""
    from provider_cases import CREDENTIALS

    from tests.conftest import FAST_RETRY

    sent = 0

    def handle(request: httpx.Request) -> httpx.Response:
        nonlocal sent
        sent += 1
        raise httpx.ConnectError("connection refused", request=request)

    with pytest.raises(ra.TransportError) as info:
        ra.load_zoom_recordings(
            credentials=CREDENTIALS["zoom"],
            transport=httpx.MockTransport(handle),
            retry=FAST_RETRY,
            rate_limit=1000,
            max_concurrency=max_concurrency,
        )
    return sent, info.value


def test_a_server_that_cannot_be_reached_fails_the_load_without_every_window_retrying() -> None:
    # A dead server: each of Zoom's 84 month windows (no since) spent every retry, about 40
    # minutes at the default timeout before the load failed.
    from tests.conftest import FAST_RETRY

    sent, error = load_zoom_from_a_dead_server(max_concurrency=8)
    # 84 windows x 9 tries before: 756 requests. Now the failures of every request in flight
    # retrying to the end (at least one retry budget long), then none.
    assert sent <= 84 + 8 * (FAST_RETRY.max_retries + 1), sent
    assert "connection refused" in str(error)


def test_requests_refused_as_unreachable_do_not_wait_for_the_rate_limiter(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Once the API counted as unreachable, each window's request still waited for the rate
    # limiter before being refused: at Zoom's 20 requests/s, 80-odd windows spent four
    # seconds asking nothing.
    from recanalytics.engine import RateLimiter

    paced = 0
    acquire = RateLimiter.acquire

    async def counted(self: RateLimiter) -> None:
        nonlocal paced
        paced += 1
        await acquire(self)

    monkeypatch.setattr(RateLimiter, "acquire", counted)
    sent, _ = load_zoom_from_a_dead_server(max_concurrency=1)
    assert paced == sent, (paced, sent)


def test_a_start_a_whole_span_ago_has_left_the_window() -> None:
    # The window is half-open, as reserve() counts it: a request may start exactly a span
    # after the one it replaces, so at that instant room() no longer counts the old start.
    limiter = RateLimiter(Limits(rate=80.0, concurrency=24, period=1.0))
    starts = [limiter.reserve(now=0.0) for _ in range(80)]
    assert starts[:40] == [0.0] * 40
    assert limiter.room(now=limiter.span) == 40
    assert limiter.reserve(now=limiter.span) == limiter.span


def refused_then_answered(failures: int) -> httpx.MockTransport:
    """A transport that cannot connect ``failures`` times per request, then answers."""
    seen: dict[str, int] = {}

    def handle(request: httpx.Request) -> httpx.Response:
        url = str(request.url)
        seen[url] = seen.get(url, 0) + 1
        if seen[url] <= failures:
            raise httpx.ConnectError("connection refused", request=request)
        return httpx.Response(200, json={"url": url})

    return httpx.MockTransport(handle)


def test_requests_answered_on_their_last_retry_are_not_refused_as_unreachable() -> None:
    # With no wait between tries (a zero retry budget), only the count of failures in a row
    # tells a dead API from a flaky one: each request failing all but its last try, one after
    # another, is answered every time; none is refused as "not asked".
    retry = RetryPolicy(max_retries=3, backoff_base=0.0, backoff_cap=0.0)
    limits = Limits(rate=1000.0, concurrency=1)
    transport = refused_then_answered(failures=3)

    async def run() -> list[object]:
        async with Session(
            "twilio", auth=None, limits=limits, retry=retry, transport=transport
        ) as session:
            base = "https://video.twilio.com/v1/Recordings"
            got = [await session.get_json(f"{base}?Page={page}") for page in range(3)]
            assert session.unreachable is None
            return got

    assert len(asyncio.run(run())) == 3


def test_no_request_goes_out_once_the_api_counts_as_unreachable() -> None:
    # A request that waited for the rate limiter while the others' failures made the API
    # unreachable is refused when its turn comes, not sent.
    retry = RetryPolicy(max_retries=1, backoff_base=0.0, backoff_cap=0.0)
    limits = Limits(rate=50.0, concurrency=4)  # evenly paced, 20 ms apart
    sent_when_unreachable: list[bool] = []
    sessions: list[Session] = []

    def handle(request: httpx.Request) -> httpx.Response:
        sent_when_unreachable.append(sessions[0].unreachable is not None)
        raise httpx.ConnectError("connection refused", request=request)

    async def run() -> list[object]:
        async with Session(
            "twilio",
            auth=None,
            limits=limits,
            retry=retry,
            transport=httpx.MockTransport(handle),
        ) as session:
            sessions.append(session)
            base = "https://video.twilio.com/v1/Recordings"
            jobs = [session.get_json(f"{base}?Page={page}") for page in range(8)]
            return await asyncio.gather(*jobs, return_exceptions=True)

    outcomes = asyncio.run(run())
    assert all(isinstance(outcome, ra.TransportError) for outcome in outcomes)
    assert any("not asked" in str(outcome) for outcome in outcomes)
    assert sent_when_unreachable.count(True) == 0, sent_when_unreachable


def test_a_retry_after_of_exactly_max_retry_after_is_waited_for() -> None:
    # "honoured when it asks for at most max_retry_after seconds"
    answers = iter(
        [httpx.Response(429, headers={"Retry-After": "0"}), httpx.Response(200, json={})]
    )
    transport = httpx.MockTransport(lambda request: next(answers))
    retry = RetryPolicy(backoff_base=0.0, backoff_cap=0.0, max_retry_after=0.0)
    limits = Limits(rate=1000.0, concurrency=1)

    async def run() -> object:
        async with Session(
            "twilio", auth=None, limits=limits, retry=retry, transport=transport
        ) as session:
            return await session.get_json("https://video.twilio.com/v1/Recordings")

    assert asyncio.run(run()) == {}


def test_a_retry_after_shorter_than_the_backoff_waits_the_backoff() -> None:
    # The server's Retry-After is a floor: a second 503 asking for 10 ms still waits the
    # policy's backoff (from half of one second here), not 10 ms.
    from recanalytics.engine import Retry, with_retries

    policy = RetryPolicy(max_retries=2, backoff_base=1.0, backoff_cap=1.0)
    busy = ra.ProviderError("twilio", "busy", status=503)
    tries = iter([Retry(busy, 0.01), Retry(busy, 5.0)])
    waits: list[float] = []

    async def attempt() -> str:
        retry = next(tries, None)
        if retry is not None:
            raise retry
        return "done"

    async def pause(seconds: float) -> None:
        waits.append(seconds)

    assert asyncio.run(with_retries(policy, attempt, pause=pause)) == "done"
    assert 0.5 <= waits[0] <= 1.0 and waits[1] == 5.0, waits


@pytest.mark.skipif(not hasattr(time, "tzset"), reason="time.tzset is POSIX")
def test_a_retry_after_date_without_a_zone_is_read_as_utc(monkeypatch: pytest.MonkeyPatch) -> None:
    # An HTTP date is GMT; "-0000" and an ISO date without an offset carry no zone, and were
    # read in the machine's zone: five hours early in New York, a wait of none.
    now = 1_700_000_000.0  # 2023-11-14 22:13:20 UTC
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        assert parse_retry_after("2023-11-15T00:13:20", now) == pytest.approx(7200, abs=1)
        assert parse_retry_after("Wed, 15 Nov 2023 00:13:20 -0000", now) == pytest.approx(
            7200, abs=1
        )
    finally:
        monkeypatch.undo()
        time.tzset()
