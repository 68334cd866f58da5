"""Fault audit: every public list loader and getter against an independent fault-injecting
transport (:mod:`tests.faults`) wrapped around the in-process sandbox.

The sandbox's own faults were written with the loaders; these are not. For every fault and
loader the same invariants hold:

1. the load returns a frame equal to the fault-free load (same ids, same row count), or it
   raises a named :class:`~recanalytics.errors.ProviderError` whose ``partial`` holds only rows
   of the fault-free load, never a short frame as if whole nor a bare httpx/JSON/Key/TypeError;
2. transient faults (a few 5xx, 429, resets, damaged bodies) are retried to a complete result;
3. permanent faults end in a bounded number of requests (the transport has a hard cap) and
   raise;
4. no credential the load sent appears in the error's message, repr, URL or ``partial``;
5. any warning is a :class:`~recanalytics.errors.LoadWarning` (a complete load warns of
   nothing).

Loads run with ``max_concurrency=1`` so "the 3rd request" is a known page; a second matrix
repeats the every-page faults at the default concurrency, where the planner splits windows.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
import json
import logging
import re
import time
import traceback
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import polars as pl
import pytest
from provider_cases import loader_id, registered_loaders

import recanalytics as ra
from recanalytics.engine import RetryPolicy
from recanalytics.errors import (
    AuthError,
    LoadWarning,
    NotFoundError,
    PaginationError,
    ProviderError,
    RateLimitError,
    TransportError,
)
from recanalytics.paging import MAX_REPEATS
from recanalytics.sandbox import Sandbox
from tests.faults import (
    BadGzip,
    Body,
    Fault,
    FaultTransport,
    Json,
    MidBody,
    Raise,
    Replay,
    Rule,
    State,
    Status,
    first_pages,
    first_visits,
    from_,
    nth,
    once,
    paging_requests,
    run,
    truncate,
)

RETRIES = 3
RETRY = RetryPolicy(
    max_retries=RETRIES, backoff_base=0.001, backoff_cap=0.004, max_retry_after=30.0
)
FAST = {"rate_limit": 1e6, "retry": RETRY, "progress": False}
SPAN = {"since": "2026-01-01", "until": "2026-03-01"}
UTC = dt.UTC


@pytest.fixture(scope="module")
def box() -> Sandbox:
    """A small dataset over seven weeks: a few pages per loader, two Plivo and Zoom windows."""
    return Sandbox(
        seed=3,
        size=100,
        start=dt.datetime(2026, 1, 1, tzinfo=UTC),
        end=dt.datetime(2026, 2, 20, tzinfo=UTC),
    )


# --- the loaders ---------------------------------------------------------------------------


def loop_twilio(body: Any, request: httpx.Request) -> None:
    body["meta"]["next_page_url"] = str(request.url)


def loop_plivo(body: Any, request: httpx.Request) -> None:
    body["meta"]["next"] = request.url.raw_path.decode()


def loop_zoom(body: Any, request: httpx.Request) -> None:
    body["next_page_token"] = request.url.params["next_page_token"]


def loop_signalwire(body: Any, request: httpx.Request) -> None:
    body["next_page_uri"] = request.url.raw_path.decode()


@dataclass(frozen=True)
class Case:
    """One public loader, its getter, and what a fault needs to know of its pages."""

    provider: str
    load: Callable[..., pl.DataFrame]
    options: dict[str, Any]
    list_key: str
    #: make a page's next link point at the page itself
    loop: Callable[[Any, httpx.Request], None]
    get: Callable[..., pl.DataFrame]
    #: the unified column a getter takes its argument from
    get_by: str
    #: queries a max_concurrency=1 load runs (date windows)
    queries: int


CASES = {
    "twilio_recordings": Case(
        "twilio", ra.load_twilio_recordings, {"page_size": 10}, "recordings", loop_twilio,
        ra.get_twilio_recording, "recording_id", 1,
    ),
    "twilio_compositions": Case(
        "twilio", ra.load_twilio_compositions, {"page_size": 2}, "compositions", loop_twilio,
        ra.get_twilio_composition, "recording_id", 1,
    ),
    "plivo_recordings": Case(
        # SPAN's 59 days asked 14 hours wider at each end (plivo.ZONE_MARGIN): three windows.
        "plivo", ra.load_plivo_recordings, {"page_size": 5}, "objects", loop_plivo,
        ra.get_plivo_recording, "recording_id", 3,
    ),
    "zoom_recordings": Case(
        # SPAN's days asked as 2025-12-31..01-31, 01-31..02-28, 02-28..03-01 (a day past each
        # end, each window ending on the day the next starts): three windows.
        "zoom", ra.load_zoom_recordings, {"page_size": 3}, "sessions", loop_zoom,
        ra.get_zoom_session_recordings, "group_id", 3,
    ),
    "signalwire_recordings": Case(
        "signalwire", ra.load_signalwire_recordings, {"page_size": 5}, "recordings",
        loop_signalwire, ra.get_signalwire_recording, "recording_id", 1,
    ),
}  # fmt: skip


def test_every_registered_loader_is_audited() -> None:
    assert sorted(CASES) == sorted(loader_id(loader) for loader in registered_loaders())


# --- running a load through a fault ----------------------------------------------------------


@dataclass
class Outcome:
    frame: pl.DataFrame | None
    error: BaseException | None
    transport: FaultTransport
    warned: list[warnings.WarningMessage] = field(default_factory=list)


def attempt(call: Callable[..., pl.DataFrame], transport: FaultTransport, **kwargs: Any) -> Outcome:
    """Run ``call`` through ``transport``; keep its frame or whatever it raised, and warnings."""
    frame = error = None
    with warnings.catch_warnings(record=True) as warned:
        warnings.simplefilter("always")
        try:
            frame = call(transport=transport, **kwargs)
        except Exception as exc:  # the invariants below judge what it was
            error = exc
    return Outcome(frame, error, transport, list(warned))


def load_through(
    box: Sandbox,
    case: Case,
    fault: Fault,
    when: Rule,
    *,
    concurrency: int | None = 1,
    cap: int = 400,
    **extra: Any,
) -> Outcome:
    transport = FaultTransport(box.transport, fault, when, cap=cap, list_key=case.list_key)
    options = box.options(case.provider) | FAST | {"max_concurrency": concurrency}
    options.pop("transport")
    return attempt(case.load, transport, **SPAN, **(case.options | options | extra))


_BASELINES: dict[str, pl.DataFrame] = {}


def baseline(box: Sandbox, name: str) -> pl.DataFrame:
    """The fault-free load (through the same transport, injecting nothing)."""
    if name not in _BASELINES:
        outcome = load_through(box, CASES[name], Status(500), lambda seen: False)
        assert outcome.error is None and outcome.frame is not None, outcome.error
        assert outcome.frame.height > 0
        _BASELINES[name] = outcome.frame
    return _BASELINES[name]


def ids(frame: pl.DataFrame) -> list[Any]:
    return sorted(frame["recording_id"].to_list())


def secrets_of(box: Sandbox, case: Case, transport: FaultTransport) -> set[str]:
    return set(box.credentials(case.provider).secrets()) | transport.secrets()


def assert_no_secret(error: BaseException, secrets: set[str]) -> None:
    # What a notebook shows: the traceback with every exception it chains.
    shown = [
        str(error),
        repr(error),
        *map(str, error.args),
        "".join(traceback.format_exception(error)),
    ]
    shown += [str(getattr(error, name, "")) for name in ("url", "message", "code")]
    for secret in secrets:
        assert not any(secret in text for text in shown), f"a credential is in {error!r}"
    partial = getattr(error, "partial", None)
    if partial is not None and partial.height:
        for secret in secrets:
            leaked = partial.select(
                pl.any_horizontal(pl.col(pl.String).str.contains(secret, literal=True))
            ).to_series()
            assert not leaked.any(), "a credential is in .partial"


def check(
    box: Sandbox,
    name: str,
    outcome: Outcome,
    expect: str | type[ProviderError],
    *,
    bound: int | None = None,
) -> None:
    """The invariants. ``expect``: ``"complete"``, ``"either"`` (complete or a named error) or
    the error class; ``bound``: the most requests allowed from the first fault on."""
    case = CASES[name]
    full = baseline(box, name)
    transport = outcome.transport
    assert not transport.overrun, f"{name}: the load did not stop ({transport.count} requests)"
    assert transport.injected, f"{name}: the rule picked no request; the test tests nothing"
    assert all(issubclass(w.category, LoadWarning) for w in outcome.warned), [
        str(w.message) for w in outcome.warned
    ]
    if outcome.error is None:
        assert outcome.frame is not None
        assert expect in ("complete", "either"), (
            f"{name}: returned {outcome.frame.height} rows where {expect} was expected "
            f"(fault-free: {full.height})"
        )
        assert outcome.frame.height == full.height, (
            f"{name}: a short frame returned as if whole: {outcome.frame.height} of {full.height}"
        )
        assert ids(outcome.frame) == ids(full)
        assert not outcome.warned, [str(w.message) for w in outcome.warned]
    else:
        error = outcome.error
        assert isinstance(error, ProviderError), (
            f"{name}: a bare {type(error).__module__}.{type(error).__name__}: {error}"
        )
        assert expect != "complete", f"{name}: a transient fault was not retried: {error!r}"
        if isinstance(expect, type):
            assert isinstance(error, expect), f"{name}: {error!r} is not a {expect.__name__}"
        partial = error.partial
        if partial is not None:
            assert partial.columns == full.columns
            assert set(partial["recording_id"]) <= set(full["recording_id"])
            assert partial["recording_id"].n_unique() == partial.height
        assert_no_secret(error, secrets_of(box, case, transport))
    if bound is not None:
        assert transport.after_first_fault <= bound, (
            f"{name}: {transport.after_first_fault} requests after the first fault, "
            f"more than {bound}"
        )


# --- the faults ------------------------------------------------------------------------------


def http_date(seconds_from_now: float) -> str:
    return email.utils.formatdate(time.time() + seconds_from_now, usegmt=True)


def iso_date(seconds_from_now: float) -> str:
    moment = dt.datetime.now(UTC) + dt.timedelta(seconds=seconds_from_now)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


HTML = b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>"
DEEP = b"[" * 3000 + b"]" * 3000  # a hostile proxy's error page: deeper than Python recurses
ERROR_200 = b'{"code": 20404, "message": "The requested resource was not found", "status": 404}'
ERROR_JSON = {"code": 20500, "message": "Internal Server Error", "status": 500}


def drop_list(key: str) -> Callable[[Any, httpx.Request, State], Any]:
    def change(body: Any, request: httpx.Request, state: State) -> Any:
        body.pop(key, None)
        return body

    return change


def duplicate_from_previous_page(key: str) -> Callable[[Any, httpx.Request, State], Any]:
    """A record of the page before listed again on this one (paging drift)."""

    def change(body: Any, request: httpx.Request, state: State) -> Any:
        before = state.previous(request)
        if before and before.get(key):
            body[key].append(before[key][0])
            state.changed += 1
        return body

    return change


def loop_next(case: Case) -> Callable[[Any, httpx.Request, State], Any]:
    def change(body: Any, request: httpx.Request, state: State) -> Any:
        case.loop(body, request)
        return body

    return change


# Transient: each must end in the complete result. (id, fault, rule)
TRANSIENT: list[tuple[str, Fault, Rule]] = [
    ("connect-error-first", Raise(httpx.ConnectError, "connection refused"), nth(1)),
    ("reset-before-body", Raise(httpx.ReadError, forward=True), nth(2)),
    ("disconnect-before-response", Raise(httpx.RemoteProtocolError, "Server disconnected without sending a response.", forward=True), nth(3)),
    ("reset-mid-body", MidBody(httpx.ReadError), nth(2)),
    ("length-mismatch-mid-body", MidBody(httpx.RemoteProtocolError), nth(3)),
    ("read-timeout", Raise(httpx.ReadTimeout, "timed out", forward=True), nth(2)),
    ("connect-timeout", Raise(httpx.ConnectTimeout, "timed out"), nth(1)),
    ("500-json-every-page-once", Status(500, ERROR_JSON), first_visits()),
    ("502-html-every-page-once", Status(502, HTML, {"Content-Type": "text/html"}), first_visits()),
    ("503-empty-every-page-once", Status(503), first_visits()),
    ("504-text-every-page-once", Status(504, b"upstream timed out", {"Content-Type": "text/plain"}), first_visits()),
    ("503-three-in-a-row", Status(503), run(2, RETRIES)),
    ("200-truncated-every-page-once", Body(truncate, "truncated"), first_visits()),
    ("200-empty-body", Body(lambda b: b"", "empty"), nth(2)),
    ("200-html", Body(lambda b: HTML, "html"), nth(2)),
    ("200-json-array", Body(lambda b: b"[]", "array"), nth(2)),
    ("200-json-null", Body(lambda b: b"null", "null"), nth(1)),
    ("200-json-string", Body(lambda b: b'"ok"', "string"), nth(2)),
    ("200-json-number", Body(lambda b: b"42", "number"), nth(3)),
    ("429-retry-after-0-every-page-once", Status(429, {"message": "Too Many Requests"}, {"Retry-After": "0"}), first_visits()),
    ("429-retry-after-absent", Status(429, {"code": 20429, "message": "Too many requests"}), run(2, 2)),
    ("429-retry-after-garbage", Status(429, b"slow down", {"Retry-After": "soon-ish"}), nth(2)),
    ("429-retry-after-negative", Status(429, b"", {"Retry-After": "-5"}), nth(2)),
    ("429-retry-after-past-http-date", Status(429, b"", {"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}), nth(2)),
    ("gzip-not-gzip", BadGzip(), nth(2)),
    ("gzip-cut-short", BadGzip(cut=True), nth(2)),
    ("page-served-twice-every-page", Replay(), paging_requests(first_visits())),
]  # fmt: skip


def transient_body_faults(case: Case) -> list[tuple[str, Fault, Rule]]:
    return [
        ("200-without-the-list", Json(drop_list(case.list_key), "no-list"), nth(2)),
        (
            "record-duplicated-across-pages",
            Json(duplicate_from_previous_page(case.list_key), "duplicate"),
            paging_requests(lambda seen: seen.visit == 1),
        ),
    ]


@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize(("fault", "when"), [pytest.param(f, w, id=i) for i, f, w in TRANSIENT])
def test_a_transient_fault_is_retried_to_the_complete_result(
    box: Sandbox, name: str, fault: Fault, when: Rule
) -> None:
    outcome = load_through(box, CASES[name], fault, when)
    check(box, name, outcome, "complete")
    if isinstance(fault, Replay):
        assert outcome.transport.state.changed, "no page was served twice"


@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize("which", ["200-without-the-list", "record-duplicated-across-pages"])
def test_a_transient_damaged_page_is_retried_to_the_complete_result(
    box: Sandbox, name: str, which: str
) -> None:
    fault, when = next((f, w) for i, f, w in transient_body_faults(CASES[name]) if i == which)
    outcome = load_through(box, CASES[name], fault, when)
    check(box, name, outcome, "complete")
    if which == "record-duplicated-across-pages":
        assert outcome.transport.state.changed, "no record was listed twice"


# Permanent: from request ``K`` on (after some pages loaded) everything fails the same way.
K = 3
RETRYING = RETRIES + 1  # attempts a retried request makes


# (id, fault, expected error, attempts each query makes at most once the fault starts)
PERMANENT: list[tuple[str, Fault, type[ProviderError], int]] = [
    ("401-mid-load", Status(401, {"code": 20003, "message": "Authenticate"}), AuthError, 1),
    ("403-mid-load", Status(403, {"message": "Forbidden"}), AuthError, 1),
    ("404-mid-load", Status(404, {"code": 20404, "message": "Not Found"}), NotFoundError, 1),
    ("500-forever", Status(500, ERROR_JSON), ProviderError, RETRYING),
    ("502-html-forever", Status(502, HTML, {"Content-Type": "text/html"}), ProviderError, RETRYING),
    ("503-empty-forever", Status(503), ProviderError, RETRYING),
    ("reset-forever", Raise(httpx.ReadError, forward=True), TransportError, RETRYING),
    ("timeout-forever", Raise(httpx.ReadTimeout, "timed out"), TransportError, RETRYING),
    ("mid-body-forever", MidBody(httpx.RemoteProtocolError), TransportError, RETRYING),
    ("429-forever-no-retry-after", Status(429, {"message": "Too Many Requests"}), RateLimitError, RETRYING),
    ("429-retry-after-an-hour-in-seconds", Status(429, b"", {"Retry-After": "3600"}), RateLimitError, 1),
    ("200-truncated-forever", Body(truncate, "truncated"), TransportError, RETRYING),
    ("200-html-forever", Body(lambda b: HTML, "html"), TransportError, RETRYING),
    ("200-array-forever", Body(lambda b: b"[1, 2]", "array"), PaginationError, RETRYING),
    ("gzip-forever", BadGzip(), TransportError, RETRYING),
    ("500-body-nested-past-the-recursion-limit", Status(500, DEEP), ProviderError, RETRYING),
    ("404-body-not-utf8", Status(404, b'{"message": "\xff\xfe"}'), NotFoundError, 1),
    ("200-list-not-a-list-forever", Json(lambda b, r, s: {k: ({} if isinstance(v, list) else v) for k, v in b.items()}, "list-is-object"), PaginationError, RETRYING),
]  # fmt: skip


@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize(
    ("fault", "error", "attempts"), [pytest.param(f, e, n, id=i) for i, f, e, n in PERMANENT]
)
def test_a_permanent_fault_mid_load_raises_a_named_error_after_bounded_requests(
    box: Sandbox, name: str, fault: Fault, error: type[ProviderError], attempts: int
) -> None:
    case = CASES[name]
    outcome = load_through(box, case, fault, from_(K))
    check(box, name, outcome, error, bound=case.queries * attempts)


@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize("code", [301, 302, 307])
def test_a_redirect_from_the_api_raises_at_once_and_says_where_to(
    box: Sandbox, name: str, code: int
) -> None:
    """A list or getter is never redirected (the client does not follow, so no credential
    goes on): retrying it cannot help, and "not complete JSON" would hide the cause."""
    case = CASES[name]
    to = "https://login.example/sso?access_token=eyJhbGciOi.eyJzdWIi.c2lnbmF0dXJl"
    outcome = load_through(box, case, Status(code, b"", {"Location": to}), from_(K))
    check(box, name, outcome, ProviderError, bound=case.queries)
    assert outcome.error is not None
    assert "redirect" in str(outcome.error) and "login.example" in str(outcome.error)
    assert "c2lnbmF0dXJl" not in str(outcome.error)  # the token in the Location is redacted


@pytest.mark.parametrize("name", CASES)
def test_a_huge_error_message_is_cut_short_in_the_error(box: Sandbox, name: str) -> None:
    """A server's message is shown in every retry's log line and in the traceback."""
    huge = {"message": "Internal error: " + "x" * 100_000}
    outcome = load_through(box, CASES[name], Status(500, huge), from_(K))
    check(box, name, outcome, ProviderError)
    assert outcome.error is not None
    assert "Internal error: xxx" in str(outcome.error)
    assert len(str(outcome.error)) < 2_000


@pytest.mark.parametrize("name", CASES)
def test_every_request_failing_raises_after_bounded_requests(box: Sandbox, name: str) -> None:
    case = CASES[name]
    outcome = load_through(box, case, Status(503), from_(1))
    check(box, name, outcome, ProviderError, bound=case.queries * RETRYING)
    assert isinstance(outcome.error, ProviderError)
    assert outcome.error.partial is None or outcome.error.partial.height == 0


@pytest.mark.parametrize("name", CASES)
def test_a_page_missing_its_list_for_ever_raises_pagination_error(box: Sandbox, name: str) -> None:
    case = CASES[name]
    outcome = load_through(box, case, Json(drop_list(case.list_key), "no-list"), from_(K))
    check(box, name, outcome, PaginationError, bound=case.queries * RETRYING)


@pytest.mark.parametrize("name", CASES)
def test_a_next_link_to_the_same_page_for_ever_ends(box: Sandbox, name: str) -> None:
    """A page whose next link repeats itself: asked again ``MAX_REPEATS`` times, then the load
    fails with what it had. (Plivo may finish by offsets, which ignore links: complete.)"""
    case = CASES[name]
    fault = Json(loop_next(case), "loop")
    outcome = load_through(box, case, fault, paging_requests(lambda seen: True))
    plivo = CASES[name].provider == "plivo"
    check(box, name, outcome, "either" if plivo else PaginationError)
    if not plivo:
        # each query: the looping page, then MAX_REPEATS more answers of it
        assert outcome.transport.injected <= case.queries * (MAX_REPEATS + 1) * 2


@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize(
    "retry_after",
    [pytest.param(http_date(3600), id="http-date"), pytest.param(iso_date(3600), id="iso-date")],
)
def test_a_retry_after_date_beyond_max_retry_after_raises_at_once(
    box: Sandbox, name: str, retry_after: str
) -> None:
    case = CASES[name]
    outcome = load_through(box, case, Status(429, b"", {"Retry-After": retry_after}), from_(K))
    check(box, name, outcome, RateLimitError, bound=case.queries)
    assert "wait" in str(outcome.error)


@pytest.mark.parametrize("name", ["twilio_recordings", "zoom_recordings"])
def test_a_maintenance_answer_asking_too_long_is_not_called_a_rate_limit(
    box: Sandbox, name: str
) -> None:
    """A 503 whose Retry-After is beyond max_retry_after stops the load as a 503 of the
    provider's (``ProviderError``), not a ``RateLimitError``: code that slows down on a rate
    limit must not read a maintenance window as one."""
    case = CASES[name]
    outcome = load_through(box, case, Status(503, b"", {"Retry-After": "3600"}), from_(K))
    check(box, name, outcome, ProviderError, bound=case.queries)
    assert not isinstance(outcome.error, RateLimitError)
    assert outcome.error.status == 503
    assert "max_retry_after" in str(outcome.error)


class Sleeps:
    """Records what the engine asks to sleep, and sleeps not at all."""

    def __init__(self) -> None:
        self.asked: list[float] = []
        self.real = asyncio.sleep

    async def __call__(self, delay: float, result: Any = None) -> Any:
        self.asked.append(delay)
        return await self.real(0, result)


@pytest.mark.parametrize("name", ["twilio_recordings", "zoom_recordings"])
@pytest.mark.parametrize(
    ("retry_after", "at_least"),
    [
        pytest.param("2", 2.0, id="seconds"),
        pytest.param(lambda: http_date(4), 2.0, id="http-date"),
        pytest.param(lambda: iso_date(4), 2.0, id="iso-date"),
    ],
)
def test_a_retry_after_within_bounds_is_waited_for(
    box: Sandbox, monkeypatch: pytest.MonkeyPatch, name: str, retry_after: Any, at_least: float
) -> None:
    value = retry_after() if callable(retry_after) else retry_after
    sleeps = Sleeps()
    monkeypatch.setattr(asyncio, "sleep", sleeps)
    outcome = load_through(box, CASES[name], Status(429, b"", {"Retry-After": value}), nth(2))
    check(box, name, outcome, "complete")
    assert max(sleeps.asked) >= at_least, sleeps.asked


def drop_next(case: Case) -> Callable[[Any, httpx.Request, State], Any]:
    """The page says it is the last (its next link or token gone)."""

    def change(body: Any, request: httpx.Request, state: State) -> Any:
        if case.provider == "plivo":
            body["meta"]["next"] = None
        else:
            body["next_page_token"] = ""
        return body

    return change


@pytest.mark.parametrize("name", ["plivo_recordings", "zoom_recordings"])
def test_a_page_that_ends_too_early_once_is_caught_by_the_reported_total(
    box: Sandbox, name: str
) -> None:
    """Plivo and Zoom report a total: a next link dropped once is paged again, not lost."""
    case = CASES[name]
    outcome = load_through(box, case, Json(drop_next(case), "no-next"), first_pages())
    check(box, name, outcome, "complete")


@pytest.mark.parametrize("name", ["plivo_recordings", "zoom_recordings"])
def test_pages_that_always_end_too_early_raise_pagination_error(box: Sandbox, name: str) -> None:
    case = CASES[name]
    outcome = load_through(box, case, Json(drop_next(case), "no-next"), from_(1))
    check(box, name, outcome, PaginationError)
    assert outcome.error is not None and outcome.error.partial is not None


def test_zoom_reloads_a_window_whose_page_token_expired(box: Sandbox) -> None:
    expired = Status(400, {"code": 300, "message": "The next page token is invalid or expired."})
    rule = once(paging_requests(first_visits()))
    outcome = load_through(box, CASES["zoom_recordings"], expired, rule)
    check(box, "zoom_recordings", outcome, "complete")


# --- at the default concurrency (the planner splits windows) ---------------------------------

CONCURRENT: list[tuple[str, Fault, Rule, str | type[ProviderError]]] = [
    ("503-every-page-once", Status(503), first_visits(), "complete"),
    ("reset-mid-body-every-page-once", MidBody(httpx.ReadError), first_visits(), "complete"),
    ("truncated-every-page-once", Body(truncate, "truncated"), first_visits(), "complete"),
    ("429-every-page-once", Status(429, b"", {"Retry-After": "0"}), first_visits(), "complete"),
    ("gzip-every-page-once", BadGzip(), first_visits(), "complete"),
    ("401-from-the-4th", Status(401, {"message": "Authenticate"}), from_(4), AuthError),
    ("500-from-the-4th", Status(500, ERROR_JSON), from_(4), ProviderError),
    ("reset-from-the-4th", Raise(httpx.ReadError), from_(4), TransportError),
]  # fmt: skip


@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize(
    ("fault", "when", "expect"), [pytest.param(f, w, e, id=i) for i, f, w, e in CONCURRENT]
)
def test_faults_at_the_default_concurrency(
    box: Sandbox, name: str, fault: Fault, when: Rule, expect: str | type[ProviderError]
) -> None:
    outcome = load_through(box, CASES[name], fault, when, concurrency=None)
    check(box, name, outcome, expect)


@pytest.mark.parametrize("name", CASES)
def test_a_page_served_twice_at_the_default_concurrency(box: Sandbox, name: str) -> None:
    """One record a page: the planner's windows then span several pages each (at larger
    pages it may cut them to one page apiece, leaving no next page to serve twice)."""
    fault, when = Replay(), paging_requests(first_visits())
    outcome = load_through(box, CASES[name], fault, when, concurrency=None, page_size=1)
    check(box, name, outcome, "complete")
    assert outcome.transport.state.changed


# --- credentials echoed by a failing server ---------------------------------------------------

ECHOES: list[tuple[str, Fault]] = [
    ("500-echoing-the-password", Status(500, b'{"message": "backend refused {password} ({auth})"}')),
    ("401-echoing-the-header", Status(401, b'{"message": "bad Authorization: {auth}"}')),
    ("502-html-echoing-the-header", Status(502, b"<html><pre>Authorization: {auth}</pre></html>", {"Content-Type": "text/html"})),
    ("reset-echoing-the-header", Raise(httpx.ReadError, "reset while sending Authorization: {auth}")),
]  # fmt: skip


@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize("fault", [pytest.param(f, id=i) for i, f in ECHOES])
def test_no_credential_reaches_an_error_or_a_log_when_the_server_echoes_it(
    box: Sandbox, caplog: pytest.LogCaptureFixture, name: str, fault: Fault
) -> None:
    caplog.set_level(logging.DEBUG)
    outcome = load_through(box, CASES[name], fault, from_(K))
    check(box, name, outcome, "either")
    assert "HTTP Request" in caplog.text  # the log was captured
    for secret in secrets_of(box, CASES[name], outcome.transport):
        assert secret not in caplog.text


# --- getters -----------------------------------------------------------------------------------


def get_through(box: Sandbox, name: str, fault: Fault, when: Rule) -> tuple[Outcome, pl.DataFrame]:
    case = CASES[name]
    key = baseline(box, name)[case.get_by][0]
    options = box.options(case.provider) | FAST
    options.pop("transport")
    expected = case.get(key, **box.options(case.provider), **FAST)
    transport = FaultTransport(box.transport, fault, when, cap=100)
    return attempt(lambda **kw: case.get(key, **kw), transport, **options), expected


GETTER_TRANSIENT: list[tuple[str, Fault]] = [
    ("reset", Raise(httpx.ReadError, forward=True)),
    ("reset-mid-body", MidBody(httpx.ReadError)),
    ("timeout", Raise(httpx.ReadTimeout, "timed out")),
    ("503", Status(503)),
    ("502-html", Status(502, HTML, {"Content-Type": "text/html"})),
    ("429-retry-after-0", Status(429, b"", {"Retry-After": "0"})),
    ("200-truncated", Body(truncate, "truncated")),
    ("200-empty", Body(lambda b: b"", "empty")),
    ("gzip-not-gzip", BadGzip()),
    # A 200 without a record (a gateway's error object) is asked for again, as a list page
    # without its list is; it failed the getter at once.
    ("200-error-object", Body(lambda b: ERROR_200, "200-error")),
    ("200-null", Body(lambda b: b"null", "null")),
]


@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize("fault", [pytest.param(f, id=i) for i, f in GETTER_TRANSIENT])
def test_a_getter_retries_a_transient_fault(box: Sandbox, name: str, fault: Fault) -> None:
    outcome, expected = get_through(box, name, fault, nth(1))
    assert not outcome.transport.overrun
    assert outcome.error is None, f"{name}: {outcome.error!r}"
    assert outcome.frame is not None and outcome.frame.equals(expected)
    assert not outcome.warned


GETTER_PERMANENT: list[tuple[str, Fault, type[ProviderError], int]] = [
    ("401", Status(401, b'{"message": "bad {auth}"}'), AuthError, 1),
    ("403", Status(403), AuthError, 1),
    ("500-forever", Status(500, b'{"message": "{password}"}'), ProviderError, RETRYING),
    (
        "reset-forever",
        Raise(httpx.ReadError, "reset, Authorization: {auth}"),
        TransportError,
        RETRYING,
    ),
    ("200-array-forever", Body(lambda b: b"[]", "array"), ProviderError, RETRYING),
    ("200-null-forever", Body(lambda b: b"null", "null"), ProviderError, RETRYING),
    ("200-truncated-forever", Body(truncate, "truncated"), TransportError, RETRYING),
    # a gateway that answers its errors with 200
    ("200-error-object", Body(lambda b: ERROR_200, "200-error"), ProviderError, RETRYING),
]


@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize(
    ("fault", "error", "attempts"), [pytest.param(f, e, n, id=i) for i, f, e, n in GETTER_PERMANENT]
)
def test_a_getter_raises_a_named_error_on_a_permanent_fault(
    box: Sandbox, name: str, fault: Fault, error: type[ProviderError], attempts: int
) -> None:
    outcome, _ = get_through(box, name, fault, from_(1))
    assert not outcome.transport.overrun
    assert isinstance(outcome.error, error), f"{name}: {outcome.error!r}"
    assert outcome.transport.count <= attempts
    assert_no_secret(outcome.error, secrets_of(box, CASES[name], outcome.transport))
    assert all(issubclass(w.category, LoadWarning) for w in outcome.warned)


def another_record(content: bytes) -> bytes:
    """The same record under another id (a cache answering another request's record)."""
    body = json.loads(content)
    for key in ("sid", "recording_id", "session_id"):
        if isinstance(body, dict) and isinstance(body.get(key), str):
            body[key] = body[key][:-1] + ("1" if body[key][-1] != "1" else "2")
    return json.dumps(body).encode()


@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize("forever", [False, True])
def test_a_getter_answered_with_another_record_asks_again(
    box: Sandbox, name: str, forever: bool
) -> None:
    # Every getter returned the other record's row as the one asked for, without a word.
    fault = Body(another_record, "another record")
    outcome, expected = get_through(box, name, fault, from_(1) if forever else nth(1))
    assert not outcome.transport.overrun
    if forever:
        assert isinstance(outcome.error, ProviderError), f"{name}: {outcome.error!r}"
        assert "was asked" in str(outcome.error)
    else:
        assert outcome.error is None, f"{name}: {outcome.error!r}"
        assert outcome.frame is not None and outcome.frame.equals(expected)


@pytest.mark.parametrize("name", CASES)
def test_a_getter_answered_404_raises_not_found(box: Sandbox, name: str) -> None:
    outcome, _ = get_through(box, name, Status(404, {"message": "Not Found"}), from_(1))
    assert isinstance(outcome.error, NotFoundError), f"{name}: {outcome.error!r}"
    # SignalWire tries its second documented path before giving up
    assert outcome.transport.count <= (2 if CASES[name].provider == "signalwire" else 1)


# --- lone surrogates --------------------------------------------------------------------------

LONE = "a\ud800b"  # a lone surrogate: no UTF-8 form, and no Arrow string holds one
#: the forms a server may send one in: UTF-8's three-byte form of it (CESU-8, Java's modified
#: UTF-8), a UTF-16 body with its escape, a UTF-32 body with the code unit itself
SURROGATE_FORMS: dict[str, Callable[[Any], bytes]] = {
    "utf-8-cesu": lambda body: json.dumps(body, ensure_ascii=False).encode("utf-8", "surrogatepass"),
    "utf-16-escape": lambda body: json.dumps(body).encode("utf-16"),
    "utf-32-raw": lambda body: json.dumps(body, ensure_ascii=False).encode("utf-32-be", "surrogatepass"),
}  # fmt: skip


def with_lone_surrogate(
    list_key: str, noted: list[str]
) -> Callable[[Any, httpx.Request, State], Any]:
    """Every record of a list page, or the record a getter answers, with a key holding
    :data:`LONE`; ``noted`` gets the URL of each answer and of each record changed."""

    def change(body: Any, request: httpx.Request, state: State) -> Any:
        noted.append(str(request.url))
        records = body.get(list_key, [body])
        for record in records or []:
            record["note"] = LONE
            noted.append(str(request.url))
        return body

    return change


def said_repaired(outcome: Outcome) -> int:
    """How many characters the outcome's one warning says were replaced with U+FFFD."""
    [message] = [str(w.message) for w in outcome.warned]
    found = re.search(r"(\d+) undecodable characters in the responses were replaced", message)
    assert found, message
    return int(found.group(1))


@pytest.mark.parametrize("form", SURROGATE_FORMS)
@pytest.mark.parametrize("name", CASES)
def test_a_lone_surrogate_in_every_record_is_replaced_and_counted(
    box: Sandbox, name: str, form: str
) -> None:
    # json.loads reads UTF-8's encoded surrogates and UTF-16 or UTF-32 text with
    # "surrogatepass": the lone surrogate reached polars, whose refusal read as a cut transfer,
    # and every page was asked for until the load failed ("response body is not complete JSON").
    case = CASES[name]
    noted: list[str] = []
    fault = Json(with_lone_surrogate(case.list_key, noted), "lone", SURROGATE_FORMS[form])
    outcome = load_through(box, case, fault, from_(1))
    assert outcome.error is None, f"{name}: {outcome.error!r}"
    assert outcome.frame is not None and ids(outcome.frame) == ids(baseline(box, name))
    asked = len(set(noted))
    assert outcome.transport.count == asked, "a page that can be read is not asked again"
    assert said_repaired(outcome) == len(noted) - asked


@pytest.mark.parametrize("form", SURROGATE_FORMS)
@pytest.mark.parametrize("name", CASES)
def test_a_getter_answer_with_a_lone_surrogate_is_its_row(
    box: Sandbox, name: str, form: str
) -> None:
    noted: list[str] = []
    fault = Json(with_lone_surrogate(CASES[name].list_key, noted), "lone", SURROGATE_FORMS[form])
    outcome, expected = get_through(box, name, fault, from_(1))
    assert outcome.error is None, f"{name}: {outcome.error!r}"
    assert outcome.frame is not None and outcome.frame.equals(expected)
    assert outcome.transport.count == 1 and said_repaired(outcome) == len(noted) - 1 == 1


# --- load() across providers ------------------------------------------------------------------


def load_options(box: Sandbox) -> dict[str, Any]:
    options = box.load_options() | FAST
    options.pop("transport")
    return options


def plivo_from_its_third() -> Rule:
    """Every Plivo request from its third on (the other providers' pass)."""
    seen_plivo = 0

    def picked(seen: Any) -> bool:
        nonlocal seen_plivo
        if "/Recording/" not in seen.request.url.path:
            return False
        seen_plivo += 1
        return seen_plivo >= 3

    return picked


def test_load_keeps_the_complete_providers_and_warns_of_one_that_failed(box: Sandbox) -> None:
    """load() documents it: a provider that failed is left out of the frame, with a
    LoadWarning, and its rows loaded so far are in its status' partial."""
    clean = ra.load(**SPAN, transport=box.transport, **load_options(box))
    transport = FaultTransport(
        box.transport, Status(401, b'{"message": "bad {auth}"}'), plivo_from_its_third()
    )
    with pytest.warns(LoadWarning, match="plivo failed") as warned:
        result = ra.load_with_status(**SPAN, transport=transport, **load_options(box))
    assert all(w.category is LoadWarning for w in warned)
    assert not transport.overrun
    assert ids(result.frame) == ids(clean.filter(pl.col("provider") != "plivo"))
    status = result.status["plivo"]
    assert status.state == "failed" and [s.state for s in result.status.values()].count("ok") == 3
    assert status.partial is not None
    assert set(status.partial["recording_id"]) <= set(clean["recording_id"])
    shown = " ".join(str(w.message) for w in warned) + status.error + repr(status)
    for secret in set(box.credentials("plivo").secrets()) | transport.secrets():
        assert secret not in shown


def test_load_with_transient_faults_everywhere_is_complete(box: Sandbox) -> None:
    clean = ra.load(**SPAN, transport=box.transport, **load_options(box))
    transport = FaultTransport(box.transport, MidBody(httpx.ReadError), first_visits())
    outcome = attempt(ra.load, transport, **SPAN, **load_options(box))
    assert outcome.error is None and outcome.frame is not None, outcome.error
    assert not outcome.warned, [str(w.message) for w in outcome.warned]
    assert ids(outcome.frame) == ids(clean)
    assert transport.injected and not transport.overrun


# --- the archive --------------------------------------------------------------------------------


def archive_options(box: Sandbox) -> dict[str, Any]:
    options = box.options("twilio") | FAST | {"max_concurrency": 1}
    options.pop("transport")
    return options


def test_the_archive_retries_transient_faults_to_the_complete_archive(
    box: Sandbox, tmp_path: Any
) -> None:
    options = archive_options(box)
    clean = ra.archive_twilio(tmp_path / "clean", **SPAN, transport=box.transport, **options)
    transport = FaultTransport(box.transport, Status(503), first_visits())
    faulty = ra.archive_twilio(tmp_path / "faulty", **SPAN, transport=transport, **options)
    assert transport.injected and not transport.overrun
    for part in ("tracks", "compositions"):
        assert faulty[part] == clean[part]


def test_the_archive_fails_with_a_named_error_and_writes_no_manifest(
    box: Sandbox, tmp_path: Any
) -> None:
    # the archive loads at the largest page size: two requests, then the fault
    transport = FaultTransport(box.transport, Status(403, b'{"message": "{password}"}'), from_(2))
    with pytest.raises(AuthError) as info:
        ra.archive_twilio(tmp_path, **SPAN, transport=transport, **archive_options(box))
    assert transport.injected and not transport.overrun
    assert not (tmp_path / "manifest.json").exists()
    assert_no_secret(info.value, secrets_of(box, CASES["twilio_recordings"], transport))
    partial = info.value.partial
    known = set(baseline(box, "twilio_recordings")["recording_id"]) | set(
        baseline(box, "twilio_compositions")["recording_id"]
    )
    assert partial is not None and set(partial["recording_id"]) <= known
