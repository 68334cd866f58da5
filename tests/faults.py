"""An independent fault-injecting httpx transport, for auditing the loaders.

The sandbox has fault injection of its own, written together with the loaders; this module
shares none of it. :class:`FaultTransport` wraps any transport (here the in-process sandbox) and
answers chosen requests itself: a *rule* says which requests (the 3rd of the load, every one
from the 5th on, the first visit of every URL), a *fault* says what happens to them (a
connection reset before or during the body, a timeout, a status with or without a body, a
damaged 200 body, a page replayed or looped).

Every request is counted and a hard cap stops a loader that would loop for ever: past it the
transport raises :class:`RequestCapExceeded`, which no loader catches, and records the overrun.

Examples
--------
>>> transport = FaultTransport(box.transport, Status(503), nth(3))  # doctest: +SKIP
>>> transport = FaultTransport(box.transport, MidBody(), from_(4))  # doctest: +SKIP
"""

from __future__ import annotations

import base64
import gzip
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import httpx

Forward = Callable[[httpx.Request], Awaitable[httpx.Response]]


@dataclass(frozen=True)
class Seen:
    """One request as the rules see it: its number in the load (from 1), how often its URL
    was asked for (from 1), and the request."""

    number: int
    visit: int
    request: httpx.Request


Rule = Callable[[Seen], bool]


class Fault:
    """What happens to a request a rule picked. Subclasses implement :meth:`answer`."""

    async def answer(
        self, request: httpx.Request, forward: Forward, state: State
    ) -> httpx.Response:
        raise NotImplementedError


PAGING = frozenset({"Page", "PageToken", "offset", "cursor", "next_page_token"})


def query_of(request: httpx.Request) -> str:
    """The query a request belongs to: its path (SignalWire's next pages drop ``.json``) and
    its parameters, without the paging ones, in any order."""
    kept = sorted((k, v) for k, v in request.url.params.multi_items() if k not in PAGING)
    return f"{request.url.path.removesuffix('.json')}?{kept}"


@dataclass
class State:
    """What the transport has seen, for faults that need the past (replays, duplicates): the
    last list page of each query, and the URL it answered."""

    last_page: dict[str, tuple[str, dict[str, Any]]] = field(default_factory=dict)
    #: answers a fault really changed (a replay or a duplicate needs a page before it)
    changed: int = 0

    def previous(self, request: httpx.Request) -> dict[str, Any] | None:
        """The last list page of ``request``'s query, if it answered another URL."""
        url, body = self.last_page.get(query_of(request), ("", None))
        return body if url != str(request.url) else None


class RequestCapExceeded(Exception):
    """The load sent more requests than the test allows: it would not have stopped."""


class FaultTransport(httpx.AsyncBaseTransport):
    """Wrap ``inner``; answer the requests ``when`` picks with ``fault``.

    Parameters
    ----------
    inner : httpx.AsyncBaseTransport
        The server (the in-process sandbox).
    fault : Fault
    when : Rule
    cap : int
        Requests allowed in all; the next one raises :class:`RequestCapExceeded`.
    list_key : str
        The key of a list page's records (used to remember pages for replay faults).
    """

    def __init__(
        self,
        inner: httpx.AsyncBaseTransport,
        fault: Fault,
        when: Rule,
        *,
        cap: int = 400,
        list_key: str = "",
    ) -> None:
        self.inner = inner
        self.fault = fault
        self.when = when
        self.cap = cap
        self.list_key = list_key
        self.count = 0
        self.injected = 0
        self.first_injected: int | None = None
        self.overrun = False
        self.visits: dict[str, int] = {}
        self.authorizations: set[str] = set()
        self.state = State()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.count += 1
        if self.count > self.cap:
            self.overrun = True
            raise RequestCapExceeded(f"more than {self.cap} requests: the load does not stop")
        auth = request.headers.get("authorization")
        if auth:
            self.authorizations.add(auth)
        url = str(request.url)
        self.visits[url] = self.visits.get(url, 0) + 1
        seen = Seen(self.count, self.visits[url], request)
        if self.when(seen):
            self.injected += 1
            if self.first_injected is None:
                self.first_injected = self.count
            return await self.fault.answer(request, self._forward, self.state)
        response = await self._forward(request)
        self._remember(request, response)
        return response

    async def _forward(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        await response.aread()
        return response

    def _remember(self, request: httpx.Request, response: httpx.Response) -> None:
        if response.status_code != 200 or not self.list_key:
            return
        try:
            body = json.loads(response.content)
        except ValueError:
            return
        if isinstance(body, dict) and isinstance(body.get(self.list_key), list):
            self.state.last_page[query_of(request)] = (str(request.url), body)

    @property
    def after_first_fault(self) -> int:
        """Requests from the first injected one on (0 if none was injected)."""
        return 0 if self.first_injected is None else self.count - self.first_injected + 1

    def secrets(self) -> set[str]:
        """Every credential the load sent: Authorization values, their tokens, and the
        user and password of a Basic one."""
        found: set[str] = set()
        for value in self.authorizations:
            found.add(value)
            scheme, _, token = value.partition(" ")
            found.add(token)
            if scheme.lower() == "basic":
                decoded = base64.b64decode(token).decode()
                found.add(decoded)
                found.add(decoded.partition(":")[2])
        return {s for s in found if len(s) >= 8}


def rewriting(
    inner: httpx.AsyncBaseTransport, path: str, change: Callable[[Any], None]
) -> FaultTransport:
    """``inner``, with every JSON answer of ``path`` changed in place by ``change(body)`` (a
    provider that sends what the sandbox does not: odd sizes, blank ids)."""

    def changed(body: Any, request: httpx.Request, state: State) -> Any:
        change(body)
        return body

    at_path: Rule = lambda seen: seen.request.url.path == path  # noqa: E731
    return FaultTransport(inner, Json(changed, f"rewrite {path}"), at_path, cap=1_000_000)


# --- rules -----------------------------------------------------------------------------------


def nth(*numbers: int) -> Rule:
    """Only the requests with these numbers in the load (1 = the first)."""
    picked = frozenset(numbers)
    return lambda seen: seen.number in picked


def from_(first: int) -> Rule:
    """Every request from number ``first`` on."""
    return lambda seen: seen.number >= first


def run(first: int, length: int) -> Rule:
    """``length`` requests in a row from number ``first``."""
    return lambda seen: first <= seen.number < first + length


def first_visits() -> Rule:
    """The first request for every URL: each page (and each getter) fails once."""
    return lambda seen: seen.visit == 1


def follows(request: httpx.Request) -> bool:
    """Whether ``request`` carries a page cursor (page 2 on)."""
    params = request.url.params
    return any(n in params for n in ("PageToken", "cursor", "next_page_token")) or (
        params.get("offset", "0") != "0"
    )


def paging_requests(rule: Rule) -> Rule:
    """``rule``, restricted to requests that carry a page cursor (page 2 on)."""
    return lambda seen: follows(seen.request) and rule(seen)


def first_pages() -> Rule:
    """The first request for each query's first page."""
    return lambda seen: seen.visit == 1 and not follows(seen.request)


def once(rule: Rule) -> Rule:
    """Only the first request ``rule`` picks."""
    fired = False

    def picked(seen: Seen) -> bool:
        nonlocal fired
        if fired or not rule(seen):
            return False
        fired = True
        return True

    return picked


# --- faults ----------------------------------------------------------------------------------


class _BrokenStream(httpx.AsyncByteStream):
    def __init__(self, head: bytes, error: Exception) -> None:
        self.head = head
        self.error = error

    async def __aiter__(self) -> AsyncIterator[bytes]:
        if self.head:
            yield self.head
        raise self.error


class _Stream(httpx.AsyncByteStream):
    def __init__(self, body: bytes) -> None:
        self.body = body

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self.body


def _headers(response: httpx.Response, drop: Iterable[str] = ("content-length",)) -> list[Any]:
    dropped = {d.lower() for d in drop}
    return [(k, v) for k, v in response.headers.multi_items() if k.lower() not in dropped]


@dataclass
class Raise(Fault):
    """The connection fails before any response: ``kind(message)``; ``forward`` first sends
    the request on (the server saw it, the answer was lost)."""

    kind: type[httpx.TransportError]
    message: str = "connection reset by peer"
    forward: bool = False

    async def answer(
        self, request: httpx.Request, forward: Forward, state: State
    ) -> httpx.Response:
        if self.forward:
            await forward(request)
        raise self.kind(
            self.message.format(auth=request.headers.get("authorization")), request=request
        )


@dataclass
class MidBody(Fault):
    """The status and headers arrive, then the connection breaks after half the body
    (``kind`` is what httpcore raises then; a Content-Length the body never reaches is
    reported by h11 as a ``RemoteProtocolError``)."""

    kind: type[httpx.TransportError] = httpx.ReadError

    async def answer(
        self, request: httpx.Request, forward: Forward, state: State
    ) -> httpx.Response:
        real = await forward(request)
        body = real.content
        error = self.kind(
            "peer closed connection without sending complete message body", request=request
        )
        return httpx.Response(
            real.status_code,
            headers=_headers(real, drop=()),  # the whole body's Content-Length: never reached
            stream=_BrokenStream(body[: len(body) // 2], error),
            request=request,
        )


@dataclass
class Status(Fault):
    """Answer ``code`` with ``body`` (bytes, or JSON-encoded) and ``headers``, without asking
    the server. ``{password}`` and ``{auth}`` in a text body echo the request's credentials,
    as a proxy that dumps the request into its error page does."""

    code: int
    body: Any = b""
    headers: dict[str, str] = field(default_factory=dict)
    name: str = ""

    async def answer(
        self, request: httpx.Request, forward: Forward, state: State
    ) -> httpx.Response:
        body = self.body
        if not isinstance(body, bytes):
            body = json.dumps(body).encode()
        auth = request.headers.get("authorization", "")
        password = ""
        if auth.lower().startswith("basic "):
            password = base64.b64decode(auth[6:]).decode().partition(":")[2]
        body = body.replace(b"{auth}", auth.encode()).replace(b"{password}", password.encode())
        headers = dict(self.headers)
        if body and "content-type" not in {k.lower() for k in headers}:
            headers["Content-Type"] = "application/json"
        return httpx.Response(self.code, headers=headers, content=body, request=request)


@dataclass
class Body(Fault):
    """The server's real answer with its body replaced by ``change(body)`` (status kept)."""

    change: Callable[[bytes], bytes]
    name: str

    async def answer(
        self, request: httpx.Request, forward: Forward, state: State
    ) -> httpx.Response:
        real = await forward(request)
        return httpx.Response(
            real.status_code,
            headers=_headers(real),
            content=self.change(real.content),
            request=request,
        )


def as_json_bytes(body: Any) -> bytes:
    """``body`` as a server usually sends it: ASCII JSON (UTF-8)."""
    return json.dumps(body).encode()


@dataclass
class Json(Fault):
    """The server's real JSON answer, changed by ``change(body, request, state)`` and sent as
    ``encode(body)`` makes it (another encoding, raw bytes)."""

    change: Callable[[Any, httpx.Request, State], Any]
    name: str
    encode: Callable[[Any], bytes] = as_json_bytes

    async def answer(
        self, request: httpx.Request, forward: Forward, state: State
    ) -> httpx.Response:
        real = await forward(request)
        if real.status_code != 200:
            return real
        body = self.change(json.loads(real.content), request, state)
        return httpx.Response(
            200, headers=_headers(real), content=self.encode(body), request=request
        )


@dataclass
class BadGzip(Fault):
    """``Content-Encoding: gzip`` on a body that is not gzip (httpx fails decoding it while
    the body is read), or on gzip cut short (the decoded body ends early)."""

    cut: bool = False

    async def answer(
        self, request: httpx.Request, forward: Forward, state: State
    ) -> httpx.Response:
        real = await forward(request)
        body = gzip.compress(real.content)
        body = body[: len(body) // 2] if self.cut else real.content
        headers = [*_headers(real), ("Content-Encoding", "gzip")]
        return httpx.Response(
            real.status_code, headers=headers, stream=_Stream(body), request=request
        )


@dataclass
class Replay(Fault):
    """Answer with the query's previous page (its own next link included): a page served
    twice, once for its own cursor and once for the next."""

    async def answer(
        self, request: httpx.Request, forward: Forward, state: State
    ) -> httpx.Response:
        previous = state.previous(request)
        if previous is None:
            return await forward(request)
        state.changed += 1
        content = json.dumps(previous).encode()
        return httpx.Response(
            200, headers={"Content-Type": "application/json"}, content=content, request=request
        )


def truncate(body: bytes) -> bytes:
    return body[: len(body) // 2]
