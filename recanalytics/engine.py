"""The HTTP engine every loader shares: one async httpx client per load, retries with backoff,
a client-side rate limit and concurrency cap, error mapping and progress.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import datetime as dt
import email.utils
import json
import logging
import math
import random
import threading
import time
import weakref
from collections.abc import Awaitable, Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self, TypeVar

import httpx

from recanalytics import answers, clock, jsonbody, network, validate
from recanalytics.errors import (
    AuthError,
    ConfigError,
    NotFoundError,
    PaginationError,
    ProviderError,
    RateLimitError,
    TransportError,
)
from recanalytics.progress import Progress
from recanalytics.redact import Secrets, redact_text, shown_url, visible
from recanalytics.windows import Window

log = logging.getLogger("recanalytics")

# 408 (the server timed the request out) and the gateway statuses CDNs and proxies send in
# front of an API (Cloudflare's 520-524, 529 overloaded) are as transient as a 503.
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504, 520, 521, 522, 523, 524, 529})
MAX_MESSAGE = 500
"""How much of a provider's error message an error shows (it is logged at every retry)."""
QueryParams = Sequence[tuple[str, str]]
T = TypeVar("T")


def decode_json(content: bytes) -> Any:
    """The default body decoder: JSON, with undecodable text and deep nesting repaired."""
    return jsonbody.loads(content).value


MAX_RETRIES = 1000
"""The most retries a :class:`RetryPolicy` allows for one request."""


@dataclass(frozen=True)
class RetryPolicy:
    """How transient failures are retried.

    Waits grow as ``backoff_base * 2**attempt`` up to ``backoff_cap`` seconds, with equal jitter
    (a random wait between half of that and all of it, so retries spread out but never come
    back at once), unless the provider sent ``Retry-After``, which is honoured
    when it asks for at most ``max_retry_after`` seconds (longer raises at once: a
    ``RateLimitError`` for a 429, the status's own error for another, a 503's maintenance).
    """

    max_retries: int = 6
    backoff_base: float = 0.5
    backoff_cap: float = 30.0
    max_retry_after: float = 120.0

    def __post_init__(self) -> None:
        if (
            isinstance(self.max_retries, bool)
            or not isinstance(self.max_retries, int)
            or not 0 <= self.max_retries <= MAX_RETRIES
        ):
            raise ConfigError(
                "retry.max_retries", f"an integer from 0 to {MAX_RETRIES}", self.max_retries
            )
        for name in ("backoff_base", "backoff_cap", "max_retry_after"):
            # An infinite wait is a hang, not a policy.
            validate.number(
                getattr(self, name), f"retry.{name}", inclusive=True, form="seconds >= 0, finite"
            )

    def backoff(self, attempt: int) -> float:
        """The wait before retry ``attempt`` (0 first): a random time from
        :meth:`least_backoff` to twice that."""
        return self.least_backoff(attempt) * (1.0 + random.random())

    def least_backoff(self, attempt: int) -> float:
        """The shortest wait :meth:`backoff` may draw before retry ``attempt``: half its
        ceiling."""
        # 2**64 times any base is past any cap; 2**1024 would not fit a float at all.
        ceiling = min(self.backoff_cap, self.backoff_base * 2.0 ** min(attempt, 64))
        return float(ceiling) / 2


@dataclass(frozen=True)
class Limits:
    """Client-side pacing: ``rate`` requests per second and ``concurrency`` in flight.

    ``period`` is the span over which the provider counts its limit (Twilio: 80 per second).
    When it is set, up to ``rate × period`` requests may start back to back, and never more in
    any ``period`` (plus a margin); 0 paces every request evenly, ``1 / rate`` apart.
    """

    rate: float
    concurrency: int
    period: float = 0.0

    def __post_init__(self) -> None:
        if not self.rate > 0:
            raise ConfigError("rate_limit", "requests per second > 0", self.rate)
        validate.concurrency(self.concurrency)
        if not self.period >= 0:
            raise ConfigError("period", "seconds >= 0", self.period)


class RateLimiter:
    """At most ``capacity`` request starts in any ``span`` seconds, shared by whoever holds it.

    A sliding log of start times: it never exceeds the provider's count in any window, whether
    the server counts in fixed windows, sliding ones or a token bucket as large as its limit.
    Half a period's worth may start at once (a small load arrives in one round trip); beyond
    that, starts are at least ``1 / (PEAK × rate)`` apart, so a large load's answers do not
    come back in bunches that queue behind each other's parsing (24 pages arriving together
    waited up to 0.2 s for the client here, and the log released them together again a period
    later).
    After a 429 (:meth:`calm`) it paces evenly for :attr:`CALM` seconds, for a server that
    counts in smaller buckets than it documents; further 429s slow it down, and a period
    without one speeds it up again. Starts are reserved under a thread lock
    and waited for outside it, so one limiter serves loads in several event loops.

    Examples
    --------
    >>> limiter = RateLimiter(Limits(rate=80.0, concurrency=24, period=1.0))
    >>> limiter.capacity, round(limiter.span, 2)
    (80, 1.05)
    >>> [round(limiter.reserve(now=0.0), 4) for _ in range(42)][38:]
    [0.0, 0.0, 0.0083, 0.0167]
    """

    # The server's clock starts its window when a request arrives, not when it was sent: the
    # span is the period plus what arrivals may bunch up by (network and server jitter). A
    # share of the period (10 % before) cost a tenth of the rate; 30 ms drew 429s here.
    JITTER = 0.05
    PEAK = 1.5  # starts may come this much faster than the rate, briefly
    CALM = 60.0
    # Each further 429 while calm halves the pace, down to 1/64 of the rate: a server that
    # allows less than the configured rate is met, not retried against. At most once a period
    # (and SLOWER_EVERY seconds): the requests in flight when the first came back answer 429
    # together, and a server whose window was already full (a kernel restarted right after a
    # large load, a second process on the account) refuses everything until its period ends.
    # Halving every half second through Plivo's 5 s period took the pace to 1/64 and a load of
    # 410 requests from 7 s to 39 s. Each period without a 429 doubles the pace back.
    SLOWER_EVERY = 0.5
    SLOWEST = 1 / 64

    def __init__(self, limits: Limits) -> None:
        self.period = limits.period
        self._set_rate(limits.rate)
        self.calm_until = 0.0
        self.pace = 1.0  # share of the rate kept while calm
        self.slowed_at = -math.inf
        self.quiet_since = -math.inf  # the last 429 (or the last speed-up since)
        self.starts: collections.deque[float] = collections.deque()
        self.asked: collections.Counter[float] = collections.Counter()
        self._lock = threading.Lock()

    def _set_rate(self, rate: float) -> None:
        self.rate = rate
        self.capacity = max(1, int(rate * self.period))
        self.span = self.capacity / rate + self.JITTER if self.capacity > 1 else 0.0
        self.gap = 1 / (self.PEAK * rate)
        self.settle = max(self.SLOWER_EVERY, self.span, self.period)

    def join(self, rate: float) -> None:
        """A load asking for ``rate`` starts using this limiter.

        The limiter runs at the highest rate among the loads using it: a load asking more than
        the provider's default says the account allows more (Zoom's Business plans: 60/s), and
        a load asking less keeps itself to its own rate (:class:`Session`).
        """
        with self._lock:
            self.asked[rate] += 1
            self._set_rate(max(self.asked))

    def leave(self, rate: float) -> None:
        """A load that :meth:`join` ed with ``rate`` has finished."""
        with self._lock:
            self.asked[rate] -= 1
            if self.asked[rate] <= 0:
                del self.asked[rate]
            if self.asked:
                self._set_rate(max(self.asked))

    def calm(self) -> None:
        """The provider answered 429: pace evenly for a while, slower at each further 429."""
        with self._lock:
            now = time.monotonic()
            self.quiet_since = now
            if now >= self.calm_until:
                self.pace = 1.0
            elif now - self.slowed_at >= self.settle:
                self.pace = max(self.SLOWEST, self.pace / 2)
            else:
                return  # one more answer of the burst (or the full period) already refused
            self.slowed_at = now
            self.calm_until = now + self.CALM

    def reserve(self, now: float | None = None) -> float:
        """Reserve the earliest start allowed from ``now`` on; returns that (monotonic) time."""
        with self._lock:
            now = time.monotonic() if now is None else now
            starts = self.starts
            if self.capacity == 1 or now < self.calm_until:
                while self.pace < 1.0 and now - self.quiet_since >= self.settle:
                    self.pace = min(1.0, self.pace * 2)  # a period without a 429
                    self.quiet_since += self.settle
                gap = 1 / (self.rate * (self.pace if now < self.calm_until else 1.0))
                start = max(now, starts[-1] + gap) if starts else now
            else:
                self._forget(now)
                start = now
                if 2 * len(starts) >= self.capacity:
                    start = max(now, starts[-1] + self.gap)
                if len(starts) >= self.capacity:
                    start = max(start, starts[-self.capacity] + self.span)
            starts.append(start)
            while len(starts) > self.capacity:
                starts.popleft()
            return start

    def room(self, now: float | None = None) -> int:
        """How many requests could start now, a few milliseconds apart (1 while calm)."""
        with self._lock:
            now = time.monotonic() if now is None else now
            if self.capacity == 1 or now < self.calm_until:
                return 1
            self._forget(now)
            return max(0, self.capacity - len(self.starts))

    def _forget(self, now: float) -> None:
        """Drop the starts that left the window (under the lock). They are kept in order, so
        only the oldest are looked at: counting the whole log on every call cost 2 % of a load
        at rate_limit=1e6."""
        while self.starts and self.starts[0] <= now - self.span:
            self.starts.popleft()

    async def acquire(self) -> None:
        """Wait until a request may start."""
        # Always yields, so the other workers run even when the transport never waits (a
        # transport in this process answers without suspending).
        await asyncio.sleep(max(0.0, self.reserve() - time.monotonic()))


_LIMITERS: dict[Hashable, RateLimiter] = {}
_LIMITERS_LOCK = threading.Lock()


def shared_limiter(
    key: Hashable, limits: Limits, transport: httpx.AsyncBaseTransport | None = None
) -> RateLimiter:
    """The one limiter of ``key`` (a provider account on a host), made on first use.

    Loads that run at once against the same account (tracks and compositions, an archive's
    three loads, several notebook cells) share the account's rate instead of each taking all
    of it, whatever rate each asked for (see :meth:`RateLimiter.join`). ``transport`` is one
    that answers in this process (:func:`in_process`): a server of its own, with its own
    limiter, dropped with the transport.
    """
    full_key = (key, None if transport is None else id(transport))
    with _LIMITERS_LOCK:
        limiter = _LIMITERS.get(full_key)
        if limiter is None:
            limiter = _LIMITERS[full_key] = RateLimiter(limits)
            if transport is not None:
                weakref.finalize(transport, _LIMITERS.pop, full_key, None)
        return limiter


class Borrowed(httpx.AsyncBaseTransport):
    """A caller's transport lent to one client: requests go through, closing does not.

    A transport passed as ``transport=`` is the caller's: several loads may share it at once,
    and the first to finish closed it (``AsyncClient.aclose`` closes its transport) under the
    others' requests in flight. The caller closes it, or leaves it to the process.
    """

    def __init__(self, transport: httpx.AsyncBaseTransport) -> None:
        self.transport = transport

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self.transport.handle_async_request(request)

    async def aclose(self) -> None:
        pass


_BOUND: weakref.WeakKeyDictionary[httpx.AsyncBaseTransport, weakref.ref[asyncio.AbstractEventLoop]]
_BOUND = weakref.WeakKeyDictionary()
_BOUND_LOCK = threading.Lock()


def claim(transport: httpx.AsyncBaseTransport | None) -> None:
    """Refuse a caller's ``httpx.AsyncHTTPTransport`` that another event loop is using.

    Its connection pool belongs to the loop it first connected in: used from another (each
    sync call runs its own loop, in its own thread or after the last one), a request waited
    for the whole timeout (30 s) and then failed with httpcore's RuntimeError "bound to a
    different event loop". Refused at once instead, before any request. Once the loop it was
    used in is closed and its pool holds no connection (``await transport.aclose()``), it may
    serve another loop. Other transports (the sandbox's, a mock) hold no connection: any loop.
    """
    if not isinstance(transport, httpx.AsyncHTTPTransport):
        return
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return  # made outside a loop (no request yet): claimed by the loop that uses it
    with _BOUND_LOCK:
        bound = _BOUND.get(transport)
        owner = bound() if bound is not None else None
        if owner is not None and owner is not loop:
            # httpcore's pool; without one (another httpx), the transport is taken as in use
            pool = getattr(transport, "_pool", None)
            in_use = getattr(pool, "connections", True)
            if not owner.is_closed() or in_use:
                raise ConfigError(
                    "transport",
                    "an httpx.AsyncHTTPTransport used by one event loop at a time",
                    type(transport).__name__,
                    hint="this one holds connections of another event loop (sync calls running "
                    "at once, in threads, each run a loop of their own): pass one transport "
                    "per thread, or none, or run the async loaders in one loop",
                )
        _BOUND[transport] = weakref.ref(loop)


async def release_transports() -> None:
    """Close the connections callers' transports opened in the running loop, which is about to
    close: they could serve no other loop, and the next sync call may use the transport."""
    loop = asyncio.get_running_loop()
    with _BOUND_LOCK:
        mine = [t for t, bound in _BOUND.items() if bound() is loop]
    for transport in mine:
        await transport.aclose()  # httpx's pool opens new connections on its next request


def borrowed(transport: httpx.AsyncBaseTransport | None) -> httpx.AsyncBaseTransport | None:
    """``transport`` wrapped so a client closing does not close it (None stays None: the
    client's own network transport is the client's to close)."""
    return None if transport is None else Borrowed(transport)


# A host under the reserved .invalid domain resolves nowhere: only a transport in this process
# can answer it (the sandbox's http://sandbox.invalid).
_NOWHERE = ".invalid"


def in_process(transport: httpx.AsyncBaseTransport | None, base_url: str) -> bool:
    """Whether ``transport`` answers the requests itself, rather than sending them to the
    host of ``base_url``.

    ``httpx.MockTransport``, a transport that says so (``in_process = True``: the sandbox's)
    and any transport asked for a host no network reaches are servers of their own. Any other
    transport (``httpx.AsyncHTTPTransport`` with a proxy or a local address, a wrapper of
    one) is taken to reach the host, whose account limit it shares with every other load.
    """
    if transport is None or isinstance(transport, httpx.AsyncHTTPTransport):
        return False
    if isinstance(transport, httpx.MockTransport) or getattr(transport, "in_process", False):
        return True
    host = httpx.URL(base_url).host.rstrip(".")
    return host.endswith(_NOWHERE) or host == _NOWHERE[1:]


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value given in seconds or as an HTTP/ISO date,
    a date counted from ``now`` (seconds since the epoch: the answer's ``Date`` where it has
    one, as the server's clock set the date; else the system clock's)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    now = clock.seconds() if now is None else now
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, OverflowError):
        try:
            when = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    try:
        return max(0.0, when.timestamp() - now)
    except (OverflowError, ValueError):
        return math.inf  # a date past what a timestamp holds: longer than any wait allowed


def error_details(body: Any) -> tuple[str, Any]:
    """(message, code) from any provider's error JSON."""
    if isinstance(body, dict):
        if isinstance(body.get("errors"), list) and body["errors"]:
            first = body["errors"][0]
            if isinstance(first, dict):
                return str(first.get("message") or first), first.get("code")
        message = body.get("message") or body.get("error") or body.get("detail")
        if message:
            return str(message), body.get("code")
    return "", None


class Retry(Exception):
    """Raised by one attempt that may be tried again: ``error`` is raised when retries run out;
    ``delay`` is the wait the server asked for (``Retry-After``), if any."""

    def __init__(self, error: Exception, delay: float | None = None) -> None:
        super().__init__(str(error))
        self.error = error
        self.delay = delay


async def with_retries(
    policy: RetryPolicy,
    attempt: Callable[[], Awaitable[T]],
    *,
    pause: Callable[[float], Awaitable[None]] = asyncio.sleep,
    label: str = "",
) -> T:
    """Run ``attempt`` until it returns, retrying each :class:`Retry` it raises.

    The one retry loop of the package (API pages and media downloads): waits are
    ``policy.backoff(n)`` with equal jitter, or the server's ``Retry-After`` when longer;
    after ``policy.max_retries`` retries, or on a ``Retry-After`` over
    ``policy.max_retry_after``, the last ``Retry.error`` is raised. Any other exception is not
    retried.
    """
    retries = 0
    while True:
        try:
            return await attempt()
        except Retry as caught:
            retry = caught
        # Raised outside the except clause: ``from None`` only hides a context, and the chain
        # under a Retry may hold httpx's request with its Authorization header.
        if retries >= policy.max_retries:
            raise retry.error
        if retry.delay is not None and not retry.delay <= policy.max_retry_after:
            # The caller explains a long Retry-After in its own error; this only makes sure
            # no loop ever sleeps on one (inf, 1e9 seconds).
            raise retry.error
        wait = max(retry.delay or 0.0, policy.backoff(retries))
        log.info("%s: retry %d in %.2fs after %s", label, retries + 1, wait, retry.error)
        retries += 1
        await pause(wait)


@dataclass
class Stats:
    """What a session did: counted as it runs and fed to the progress bar (retries, pages).

    Kept on ``Session.stats`` for debugging and tests; no public function returns it.
    """

    requests: int = 0
    retries: int = 0
    pages: int = 0
    records: int = 0
    waits: float = 0.0
    statuses: dict[int, int] = field(default_factory=dict)


class Session:
    """One load's connection to one provider.

    Parameters
    ----------
    provider : str
        Name used in errors, logs and progress.
    auth : httpx.Auth or None
    limits : Limits
    retry : RetryPolicy
    transport : httpx.AsyncBaseTransport or None
        Any transport (the in-process sandbox, ``httpx.MockTransport``); None for the network.
    secrets : list of str or Secrets
        Values scrubbed from every message this session raises or logs (a ``Secrets`` is kept
        as is, so credentials issued during the load, such as a JWT, are scrubbed too).
    label : str or None
        Names the progress bar (default ``provider``).
    base_url : str or None
        The API's root, when known: a plain ``http://`` one (the served sandbox) needs no CA
        bundle, so a bad ``SSL_CERT_FILE`` fails only a request to an https URL.
    limiter : RateLimiter or None
        Shared with other loads against the same account (:func:`shared_limiter`); default a
        limiter of this session's own.
    retired : callable or None
        Asked when an answer or an error arrives: what every error of this session's requests
        adds once the provider's service has retired
        (:meth:`~recanalytics.providers.base.Archival.gone`), None before, so a refusal, a
        404/410, a redirect or a dead host reads as the retirement it likely is. Asked each
        time, not once: a load that starts before the moment and fails after it says so.
    """

    def __init__(
        self,
        provider: str,
        *,
        auth: httpx.Auth | None,
        limits: Limits,
        retry: RetryPolicy,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 30.0,
        progress: bool = False,
        secrets: Iterable[str] = (),
        headers: Mapping[str, str] | None = None,
        label: str | None = None,
        limiter: RateLimiter | None = None,
        base_url: str | None = None,
        retired: Callable[[], str | None] | None = None,
    ) -> None:
        self.provider = provider
        self._retired = retired
        #: the date windows of the queries (None: one without) a page of which came back
        #: empty once the provider's service had retired (see
        #: :meth:`~recanalytics.providers.base.Endpoint.get_page`): their rows are in doubt
        self.doubted: list[Window | None] = []
        self.limits = limits
        self.retry = retry
        self.timeout = timeout
        self.secrets = secrets if isinstance(secrets, Secrets) else Secrets(secrets)
        self.stats = Stats()
        #: set once the API has been unreachable for a whole retry budget (see :meth:`get_json`)
        self.unreachable: TransportError | None = None
        self._down_since: float | None = None  # the first of the failures in a row
        self._down_count = 0
        # How long one request's retries wait in all, at the least: a server down for that
        # long, whatever request found it so, is down for every request of the load. Not a
        # random draw of those waits: a draw near twice the shortest let the requests in
        # flight retry about twice as long before the load stopped asking (a Zoom load of 84
        # windows sent a dead server 72 to 161 requests from run to run; now 72 to 112).
        self._budget = sum(retry.least_backoff(n) for n in range(retry.max_retries))
        # ... and that many failures in a row: every request in flight retrying to the end.
        self._enough = (retry.max_retries + 1) * limits.concurrency
        self.limiter = limiter or RateLimiter(limits)
        # A shared limiter runs at the highest rate its loads ask for; this load keeps to its
        # own rate too, when it asked for less.
        self.own = RateLimiter(limits) if limiter is not None else None
        self.gate = asyncio.Semaphore(limits.concurrency)
        claim(transport)
        #: the provider's clock, as the Date headers of its answers show it
        self.server_clock = clock.ServerClock()
        #: whether requests go out through httpx's own transport (proxies apply)
        self.network = transport is None
        self.client = network.client(
            network=self.network,
            https=base_url is None or httpx.URL(base_url).scheme != "http",
            auth=auth,
            transport=borrowed(transport),
            timeout=timeout,
            follow_redirects=False,
            headers={
                "Accept": "application/json",
                "Accept-Encoding": answers.ACCEPT_ENCODING,
                "User-Agent": "recanalytics/0.1",
                **(headers or {}),
            },
            event_hooks={"response": [self._read_date]},
            limits=httpx.Limits(
                max_connections=limits.concurrency, max_keepalive_connections=limits.concurrency
            ),
        )
        self.progress = Progress(label or provider, enabled=progress)
        # Joined last: a session that failed to build is never closed, so it would never
        # leave, and its rate would stay the account's for the rest of the process.
        self._joined = limiter is not None
        if limiter is not None:
            limiter.join(limits.rate)

    async def _read_date(self, response: httpx.Response) -> None:
        self.server_clock.saw(response.headers.get("Date"))

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._joined:
            self._joined = False
            self.limiter.leave(self.limits.rate)
        self.progress.close()
        await self.client.aclose()

    async def _acquire(self) -> None:
        """Wait until a request may start, under the account's rate and this load's own."""
        if self.own is not None and self.limits.rate < self.limiter.rate:
            await self.own.acquire()
        await self.limiter.acquire()

    def _url(self, url: str | httpx.URL) -> str:
        return shown_url(str(url), self.secrets)

    async def pause(self, seconds: float) -> None:
        """Wait before asking again (counted as a retry in stats and progress)."""
        self.stats.retries += 1
        self.stats.waits += seconds
        self.progress.update(retries=self.stats.retries)
        await asyncio.sleep(seconds)

    async def get_json(
        self,
        url: str,
        params: QueryParams | None = None,
        *,
        expect: Callable[[T], str | None] | None = None,
        decode: Callable[[bytes], T] = decode_json,
    ) -> T:
        """GET ``url`` and return its body decoded by ``decode``, retrying what is transient.

        ``decode`` turns the body's bytes into the result; a ``ValueError`` from it means the
        body is not complete JSON (a truncated transfer), which is retried like a 5xx.

        ``expect`` checks a decoded 200 body and returns what is wrong with it (or None): a
        body without the expected list is retried like a truncated one, never read as the end.

        A body is read to at most :data:`~recanalytics.answers.MAX_BYTES` decoded bytes: a
        larger 200 (a gzip bomb, a body that never ends) raises a ``TransportError`` at once,
        unretried (it would not shrink), with the rows loaded before it in ``partial``.

        Raises
        ------
        AuthError, NotFoundError, RateLimitError, TransportError, PaginationError, ProviderError
        """

        def asked() -> str:
            """The URL as requested, query included (the offset or token that failed is shown);
            built only for an error, off the hot path."""
            with contextlib.suppress(httpx.InvalidURL):  # too long: the request says so itself
                return str(httpx.URL(url).copy_merge_params(list(params))) if params else url
            return url

        async def once() -> T:
            # Every failure is raised after its except clause, never inside it: httpx's
            # exception holds the request, Authorization header included, and an exception
            # raised in an except clause keeps it as __context__ even with ``from None``.
            failure: ProviderError | None = None
            content: bytes | None = None
            too_large = ""  # why content is None: the answer is larger than any page
            try:
                async with self.gate:
                    self._refuse_if_down(asked)
                    # Paced once a slot is free, so a start waiting for a slot is not spent.
                    await self._acquire()
                    self._refuse_if_down(asked)  # it may have gone down while this waited
                    self.stats.requests += 1
                    # httpx's timeout bounds each read, so a server sending a byte a second
                    # never trips it: the whole request gets the same number of seconds.
                    async with (
                        asyncio.timeout(self.timeout),
                        self.client.stream(
                            "GET", url, params=list(params) if params else None
                        ) as response,
                    ):
                        # A redirect's body is no page and no message: never read.
                        if not 300 <= response.status_code < 400:
                            try:
                                content = await answers.read(response)
                            except answers.TooLarge as exc:
                                too_large = str(exc)
            # httpx lets the idna codec's UnicodeError through for a host such as "xn--".
            except (httpx.InvalidURL, UnicodeError) as exc:
                # Only a link the API sent can be one (base_url is checked): asking again
                # cannot mend it, and the load keeps what it read so far.
                shown = self._url(url)
                failure = PaginationError(
                    self.provider,
                    "the API linked to a URL that cannot be requested "
                    f"({visible(redact_text(str(exc), self.secrets))})",
                    url=shown if len(shown) <= 200 else shown[:200] + "…",
                )
            # A body that fails its Content-Encoding (gzip cut or garbled in transit) is a
            # damaged transfer like a dropped connection; httpx raises it outside TransportError.
            except (httpx.TransportError, httpx.DecodingError) as exc:
                detail = visible(redact_text(str(exc), self.secrets)) or "no detail"
                # A dead or refusing proxy reads like a dead API unless it is named.
                if self.network and (note := network.connect_note(exc, asked())):
                    detail = f"{detail}; {redact_text(note, self.secrets)}"
                failure = TransportError(
                    self.provider, f"{type(exc).__name__}: {detail}", url=self._url(asked())
                )
            except TimeoutError:
                failure = TransportError(
                    self.provider,
                    f"no whole answer within timeout={self.timeout:g} seconds",
                    url=self._url(asked()),
                )
            if isinstance(failure, PaginationError):
                raise failure
            if isinstance(failure, TransportError):
                self._went_down(failure)
            if failure is not None:
                raise Retry(failure)
            self._down_since, self._down_count = None, 0  # an answer: the API is reachable
            status = response.status_code
            self.stats.statuses[status] = self.stats.statuses.get(status, 0) + 1
            if 300 <= status < 400:
                # Redirects are not followed (credentials never go on): asking again is
                # answered the same way, and its body is no page.
                location = self._url(response.headers.get("Location", "")) or "nowhere"
                # A retired service redirects to its notice: its note says why, not base_url.
                check = "" if self.retired else "; check base_url"
                raise ProviderError(
                    self.provider,
                    f"the API answered with a redirect to {location}, which is not followed"
                    + check,
                    status=status,
                    url=self._url(response.url),
                )
            if status < 400:
                if content is None:
                    # A gzip bomb or an endless body does not shrink when asked again: the
                    # load fails at once, keeping the rows it read.
                    raise TransportError(
                        self.provider,
                        f"{too_large}: not read further, nor asked again (no page is more "
                        "than a few MB: a broken server or proxy?)",
                        url=self._url(response.url),
                    )
                try:
                    body = decode(content)
                except ValueError:
                    # A 200 whose body does not parse is a truncated transfer: retry it. A web
                    # page (a proxy's, a login's) is said as such: "not complete JSON" would
                    # read like a dropped connection.
                    html = response.headers.get("content-type", "").lower().startswith("text/html")
                    failure = TransportError(
                        self.provider,
                        "answered an HTML page, not JSON (a proxy, login or error page?)"
                        if html
                        else "response body is not complete JSON",
                        url=self._url(response.url),
                    )
                if failure is not None:
                    raise Retry(failure)
                problem = expect(body) if expect is not None else None
                if problem is None:
                    return body
                raise Retry(PaginationError(self.provider, problem, url=self._url(response.url)))
            failure = self._status_error(response, content)
            if status not in RETRY_STATUSES:
                raise failure
            if status == 429:
                self.limiter.calm()
            # A date is the server's: counted from its Date header, a clock off ours waits right.
            sent = clock.http_date(response.headers.get("Date"))
            delay = parse_retry_after(
                response.headers.get("Retry-After"), None if sent is None else sent.timestamp()
            )
            if delay is not None and delay > self.retry.max_retry_after:
                # A 503 asking for an hour is maintenance, not a rate: its own class, kept.
                too_long = RateLimitError if status == 429 else type(failure)
                raise too_long(
                    self.provider,
                    f"{failure.message}; the provider asks to wait {delay:.0f} s, "
                    f"more than retry.max_retry_after={self.retry.max_retry_after:.0f} s",
                    status=status,
                    url=failure.url,
                    code=failure.code,
                ) from None
            raise Retry(failure, delay)

        try:
            return await with_retries(self.retry, once, pause=self.pause, label=self.provider)
        except ProviderError as error:
            self.say_retired(error)
            raise

    @property
    def retired(self) -> str | None:
        """What an error adds now that the provider's service has retired, or None: asked
        when it is read, as a load may run across the moment."""
        return None if self._retired is None else self._retired()

    def say_retired(self, error: ProviderError) -> None:
        """Add to ``error``'s message that the service has retired, when it has (once)."""
        note = self.retired
        if note and note not in str(error):
            error.args = (f"{error}; {note}", *error.args[1:])

    def _refuse_if_down(self, asked: Callable[[], str]) -> None:
        """Raise without asking once the API is unreachable: the load fails with such an error
        anyway, and its other windows need not each spend every retry (84 Zoom months took ~40
        minutes) nor wait for the rate limiter first."""
        if self.unreachable is not None:
            raise TransportError(
                self.provider,
                "not asked: the API could not be reached by this load's requests for longer "
                f"than their retries wait ({self.unreachable.message})",
                url=self._url(asked()),
            )

    def _went_down(self, failure: TransportError) -> None:
        """Count a request that did not reach the API. With no answer in between, as many such
        failures as every request in flight retrying to the end, over at least a whole retry
        budget, mean the API is unreachable for the rest of the load: a fault that clears on a
        retry (each page failing once) answers in between and never gets there."""
        now = time.monotonic()
        if self._down_since is None:
            self._down_since = now
        self._down_count += 1
        if self._down_count >= self._enough and now - self._down_since >= self._budget:
            self.unreachable = self.unreachable or failure

    def _status_error(self, response: httpx.Response, content: bytes | None) -> ProviderError:
        """The error of a 4xx or 5xx answer whose body is ``content`` (None: too large)."""
        try:
            # The tolerant decoder: an error page nested past Python's recursion limit, or not
            # UTF-8, still becomes an error of the provider's, never a RecursionError.
            body = None if content is None else decode_json(content)
        except ValueError:
            body = None
        message, code = error_details(body)
        # On one line, its controls visible: the CLI prints it and the retry log records it.
        message = visible(redact_text(message or response.reason_phrase or "error", self.secrets))
        if len(message) > MAX_MESSAGE:  # cut after redacting, so no secret is cut in half
            message = f"{message[:MAX_MESSAGE]}... ({len(message)} characters)"
        if code is not None and not (isinstance(code, int) and not isinstance(code, bool)):
            # A code that is not a number may echo anything (an object holding the request's
            # Authorization header): kept as redacted text, like the message.
            text = code if isinstance(code, str) else json.dumps(code, default=str)
            code = visible(redact_text(text, self.secrets))
        status = response.status_code
        if status == 401:
            # A credential dated by the system clock (Zoom's JWT) is refused by a wrong clock.
            signed_at = response.request.extensions.get(clock.SIGNED_AT)
            note = clock.refusal_note(signed_at, response.headers.get("Date"), clock.now())
            message = message.removesuffix(".") + note if note else message
        cls: type[ProviderError] = ProviderError
        if status in (401, 403):
            cls = AuthError
        elif status == 404:
            cls = NotFoundError
        elif status == 429:
            cls = RateLimitError
        return cls(self.provider, message, status=status, url=self._url(response.url), code=code)

    def page_done(self, records: int) -> None:
        self.stats.pages += 1
        self.stats.records += records
        self.progress.update(pages=self.stats.pages, records=records)
