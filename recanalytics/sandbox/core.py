"""The provider-independent part of the sandbox: requests, responses, routing, knobs, faults,
rate limits and request counting. Provider emulators register :class:`Route` objects.
"""

from __future__ import annotations

import dataclasses
import json
import math
import random
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit

import msgspec

from recanalytics import validate
from recanalytics.clock import format_http_date
from recanalytics.errors import ConfigError


@dataclass(frozen=True)
class SandboxRequest:
    """A request as an emulator sees it: method, path, query pairs, headers (lower-case keys)."""

    method: str
    scheme: str
    host: str
    path: str
    query: list[tuple[str, str]]
    headers: dict[str, str]

    @classmethod
    def from_url(cls, method: str, url: str, headers: Iterable[tuple[str, str]]) -> SandboxRequest:
        parts = urlsplit(url)
        return cls(
            method=method.upper(),
            scheme=parts.scheme or "http",
            host=parts.netloc,
            path=parts.path,
            query=parse_qsl(parts.query, keep_blank_values=True),
            headers={k.lower(): v for k, v in headers},
        )

    @property
    def origin(self) -> str:
        return f"{self.scheme}://{self.host}"

    def get(self, name: str) -> str | None:
        for key, value in self.query:
            if key == name:
                return value
        return None

    def get_all(self, name: str) -> list[str]:
        return [value for key, value in self.query if key == name]


@dataclass
class SandboxResponse:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(
        cls, status: int, payload: Any, headers: dict[str, str] | None = None
    ) -> SandboxResponse:
        try:
            body = msgspec.json.encode(payload)  # 5x json.dumps: pages of 1,000 records
        except (TypeError, OverflowError, msgspec.EncodeError):
            body = json.dumps(payload, separators=(",", ":")).encode()
        return cls(status, body, {"Content-Type": "application/json", **(headers or {})})


Handler = Callable[[SandboxRequest, "re.Match[str]"], SandboxResponse]
ErrorBody = Callable[[int, str], Any]


@dataclass(frozen=True)
class Listing:
    """How a list route pages, so the core can plant page anomalies in its answers.

    ``style`` says what its next cursor is: an ``absolute`` or ``relative`` URL at ``next_path``,
    or a ``token`` at ``next_path`` that the client resends as the ``token_param`` parameter.
    """

    list_key: str
    next_path: tuple[str, ...]
    style: Literal["absolute", "relative", "token"]
    token_param: str = ""
    #: parameters that move through the pages (the rest name the query a page belongs to)
    paging: tuple[str, ...] = ("Page", "PageToken", "offset", "cursor", "next_page_token")


@dataclass(frozen=True)
class Route:
    """``method`` + ``pattern`` (a regex on the path) served by ``handler`` for ``provider``;
    ``listing`` marks a list route."""

    provider: str
    method: str
    pattern: re.Pattern[str]
    handler: Handler
    authorize: Callable[[SandboxRequest], SandboxResponse | None] | None = None
    listing: Listing | None = None


EMPTY_MARK = "sandbox_empty"  # query parameter / token prefix of a planted empty page's link
ANOMALY_COUNTS = ("empty_every", "repeat_every", "missing_every")


@dataclass
class Anomalies:
    """Page anomalies real APIs show, planted in every ``every``-th answer to each query of a
    list route.

    Parameters
    ----------
    empty_every : int
        An empty page that still links to the real one is served before it (0: never).
    repeat_every : int
        The answer repeats the previous page of that provider instead (0: never).
    missing_every : int
        A 200 answer without the list (the envelope alone; 0: never).
    persistent : bool
        False: each anomaly is transient (asking again gets the right page). True: the page
        asked for by the ``every``-th request of each query answers the same way every time
        it is asked for, and a planted empty page links to another empty page.

    Raises
    ------
    ConfigError
        A count that is not an integer >= 0 (``True`` is not a count), or ``persistent`` not
        True or False.
    """

    empty_every: int = 0
    repeat_every: int = 0
    missing_every: int = 0
    persistent: bool = False

    def __post_init__(self) -> None:
        for name in ANOMALY_COUNTS:
            validate.int_range(getattr(self, name), name, 0)
        validate.boolean(self.persistent, "persistent")
        self._lock = threading.Lock()
        self._count: Counter[str] = Counter()
        self._last: dict[str, bytes] = {}
        self._stale: dict[str, bytes] = {}
        self._bad: dict[str, set[str]] = {}

    @property
    def active(self) -> bool:
        return bool(self.empty_every or self.repeat_every or self.missing_every)

    def _hits(self, kind: str, every: int, n: int, identity: str) -> bool:
        if not every:
            return False
        if not self.persistent:
            return n % every == 0
        # The every-th request of each query marks its page bad for good: asking again (or
        # following a planted empty page's link) meets the same anomaly.
        bad = self._bad.setdefault(kind, set())
        if n == every:
            bad.add(identity)
        return identity in bad

    def strip_mark(self, request: SandboxRequest, listing: Listing) -> tuple[SandboxRequest, int]:
        """The request without a planted empty page's mark, and the mark's depth (0: none)."""
        if listing.style == "token":
            token = request.get(listing.token_param) or ""
            mark, _, rest = token.partition(".")
            depth, _, rest = rest.partition(".")
            if mark != EMPTY_MARK or not depth.isdigit():
                return request, 0
            query = [(k, v) for k, v in request.query if k != listing.token_param]
            if rest:
                query.append((listing.token_param, rest))
        else:
            depth = request.get(EMPTY_MARK) or ""
            if not depth.isdigit():
                return request, 0
            query = [(k, v) for k, v in request.query if k != EMPTY_MARK]
        return dataclasses.replace(request, query=query), int(depth)

    def apply(
        self,
        provider: str,
        request: SandboxRequest,
        listing: Listing,
        depth: int,
        response: SandboxResponse,
    ) -> SandboxResponse:
        """The answer to serve instead of ``response`` (a 200 list answer), if an anomaly hits."""
        identity = request.path + "?" + urlencode(sorted(request.query))
        # A repeated page is the previous page of the same query (concurrent queries interleave).
        query = (
            request.path
            + "?"
            + urlencode(sorted((k, v) for k, v in request.query if k not in listing.paging))
        )
        with self._lock:
            # Counted per query, so a transient anomaly is over when the same query asks again.
            self._count[query] += 1
            n = self._count[query]
            previous = self._last.get(query)
            self._last[query] = response.body
            body = json.loads(response.body)
            if not isinstance(body, dict):
                return response
            if self._hits("missing", self.missing_every, n, identity):
                body.pop(listing.list_key, None)
                return SandboxResponse.json(200, body)
            if self._hits("repeat", self.repeat_every, n, identity) and previous is not None:
                if self.persistent:
                    previous = self._stale.setdefault(identity, previous)
                self._last[query] = previous
                return SandboxResponse(200, previous, dict(response.headers))
            if self._hits("empty", self.empty_every, n, identity) and (
                self.persistent or not depth
            ):
                body[listing.list_key] = []
                _put(body, listing.next_path, _empty_link(request, listing, depth + 1))
                return SandboxResponse.json(200, body)
        return response


def _put(body: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    *parents, leaf = path
    for key in parents:
        body = body.setdefault(key, {})
    body[leaf] = value


def _empty_link(request: SandboxRequest, listing: Listing, depth: int) -> str:
    """The cursor of a planted empty page: it leads to the page it stands in for."""
    if listing.style == "token":
        return f"{EMPTY_MARK}.{depth}.{request.get(listing.token_param) or ''}"
    query = urlencode([*request.query, (EMPTY_MARK, str(depth))])
    link = f"{request.path}?{query}"
    return request.origin + link if listing.style == "absolute" else link


FAULT_RATES = ("error_rate", "drop_rate", "truncate_rate")
# A header value: http.server writes it as Latin-1 and a line break would end the header.
RETRY_AFTER_RE = re.compile(r"[ -~]{1,200}")
RETRY_AFTER_FORM = (
    "None, or the Retry-After header's text in printable ASCII, at most 200 characters "
    "(seconds such as '5', or an HTTP date such as 'Thu, 01 Jan 1970 00:00:00 GMT')"
)


@dataclass
class Faults:
    """Fault injection: each request independently draws one outcome.

    Parameters
    ----------
    error_rate : float
        Share of requests answered 429 or 5xx (half each) with the provider's error JSON.
    drop_rate : float
        Share of connections dropped before any response.
    truncate_rate : float
        Share of 200 responses whose body is cut in half.
    retry_after : str or None
        ``Retry-After`` sent with injected and rate-limit 429s (seconds or an HTTP date, as
        the header's text), or None to send none.
    seed : int

    Raises
    ------
    ConfigError
        A share outside ``[0, 1]`` (or NaN, or a bool), shares adding up to more than 1, a
        ``retry_after`` that is not None or printable ASCII text of at most 200 characters,
        or a seed that is not a 64-bit integer.
    """

    error_rate: float = 0.0
    drop_rate: float = 0.0
    truncate_rate: float = 0.0
    retry_after: str | None = "0"
    seed: int = 0

    def __post_init__(self) -> None:
        for name in FAULT_RATES:
            validate.number(getattr(self, name), name, inclusive=True, high=1.0)
        rates = tuple(getattr(self, name) for name in FAULT_RATES)
        # One draw per request picks one outcome: past 1 the later shares were silently cut.
        if math.fsum(rates) > 1 + 1e-9:
            raise ConfigError("/".join(FAULT_RATES), "shares adding up to at most 1", rates)
        if self.retry_after is not None:
            validate.pattern(self.retry_after, "retry_after", RETRY_AFTER_RE, RETRY_AFTER_FORM)
        validate.int_range(self.seed, "seed", -(2**63), 2**63 - 1)
        self._rng = random.Random(self.seed)
        self._lock = threading.Lock()

    def draw(self) -> str | None:
        with self._lock:
            roll = self._rng.random()
            if roll < self.drop_rate:
                return "drop"
            roll -= self.drop_rate
            if roll < self.error_rate:
                return (
                    "429"
                    if self._rng.random() < 0.5
                    else self._rng.choice(["500", "502", "503", "504"])
                )
            roll -= self.error_rate
            if roll < self.truncate_rate:
                return "truncate"
            return None


class Dropped(Exception):
    """The emulator wants the connection dropped without a response."""


class RateWindow:
    """At most ``limit`` requests per ``period`` seconds (fixed windows); over it gets 429."""

    def __init__(self, limit: float, period: float = 1.0) -> None:
        self.limit = limit
        self.period = period
        self.window = 0.0
        self.count = 0
        self.lock = threading.Lock()

    def allow(self) -> bool:
        with self.lock:
            now = time.monotonic()
            if now - self.window >= self.period:
                self.window, self.count = now, 0
            self.count += 1
            return self.count <= self.limit


class SandboxApp:
    """Routes requests to emulators, applying auth, rate limits and faults, and counts them.

    ``requests`` counts answered requests per provider; ``log`` keeps (provider, status,
    path?query) for tests to inspect. Every answer carries a ``Date`` header, as a real
    server's does: ``clock_of(provider)``'s time (seconds since the epoch; None: the system
    clock's).
    """

    def __init__(
        self,
        routes: Iterable[Route],
        *,
        error_bodies: dict[str, ErrorBody],
        latency: float = 0.0,
        rate_limits: dict[str, tuple[float, float]] | None = None,
        faults: Faults | None = None,
        anomalies: Anomalies | None = None,
        clock_of: Callable[[str], float | None] | None = None,
    ) -> None:
        self.routes = list(routes)
        self.clock_of = clock_of or (lambda provider: None)
        self.anomalies = anomalies or Anomalies()
        self.error_bodies = error_bodies
        self.latency = latency
        self.faults = faults or Faults()
        self.rate_windows = {
            p: RateWindow(n, period) for p, (n, period) in (rate_limits or {}).items()
        }
        self.requests: Counter[str] = Counter()
        self.log: list[tuple[str, int, str]] = []
        self._lock = threading.Lock()

    def error(
        self, provider: str, status: int, message: str, headers: dict[str, str] | None = None
    ) -> SandboxResponse:
        make = self.error_bodies.get(provider)
        body = make(status, message) if make else {"message": message, "status": status}
        return SandboxResponse.json(status, body, headers)

    def reset_counts(self) -> None:
        with self._lock:
            self.requests.clear()
            self.log.clear()

    def handle(self, request: SandboxRequest) -> tuple[SandboxResponse, str | None]:
        """Answer ``request``; the second item is ``'drop'``/``'truncate'`` when a fault applies."""
        for route in self.routes:
            if route.method != request.method:
                continue
            match = route.pattern.fullmatch(request.path)
            if match is None:
                continue
            response, fault = self._dispatch(route, request, match)
            if "Date" not in response.headers:
                moment = self.clock_of(route.provider)
                date = format_http_date(time.time() if moment is None else moment)
                response = dataclasses.replace(response, headers={**response.headers, "Date": date})
            query = "&".join(f"{k}={v}" for k, v in request.query)
            with self._lock:
                self.requests[route.provider] += 1
                self.requests["total"] += 1
                self.log.append(
                    (
                        route.provider,
                        response.status,
                        f"{request.path}?{query}" if query else request.path,
                    )
                )
            return response, fault
        return SandboxResponse.json(
            404, {"message": f"no sandbox route for {request.method} {request.path}", "status": 404}
        ), None

    def _dispatch(
        self, route: Route, request: SandboxRequest, match: re.Match[str]
    ) -> tuple[SandboxResponse, str | None]:
        fault = self.faults.draw()
        if fault == "drop":
            return SandboxResponse(0), "drop"
        window = self.rate_windows.get(route.provider)
        retry_after = (
            {"Retry-After": self.faults.retry_after} if self.faults.retry_after is not None else {}
        )
        if window is not None and not window.allow():
            return self.error(route.provider, 429, "Too Many Requests", retry_after), None
        if fault in ("429", "500", "502", "503", "504"):
            status = int(fault)
            extra = retry_after if status == 429 else {}
            return self.error(route.provider, status, "injected fault", extra), None
        if route.authorize is not None:
            denied = route.authorize(request)
            if denied is not None:
                return denied, None
        listing = route.listing if self.anomalies.active else None
        depth = 0
        if listing is not None:
            request, depth = self.anomalies.strip_mark(request, listing)
        response = route.handler(request, match)
        if listing is not None and response.status == 200:
            response = self.anomalies.apply(route.provider, request, listing, depth, response)
        if fault == "truncate" and response.status == 200 and len(response.body) > 1:
            return response, "truncate"
        return response, None
