"""Paginators: small state objects that decide the next request from a page. They do no I/O.

Every pager follows the provider's own cursor (next-page URL, URI or token) rather than
building one, and shares the same guards: stop on a cursor seen before (warning), stop on an
empty page that still carries a cursor, and raise at a page cap rather than loop forever.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin

from recanalytics.errors import LoadWarning, PaginationError

Params = Sequence[tuple[str, str]]
DEFAULT_MAX_PAGES = 100_000


@dataclass(frozen=True)
class PageRequest:
    """One request to make: a URL and, unless the URL already carries them, query params."""

    url: str
    params: Params | None = None


def dig(body: Any, *path: str) -> Any:
    """``body[path[0]][path[1]]…`` or None where any step is missing."""
    for key in path:
        if not isinstance(body, dict):
            return None
        body = body.get(key)
    return body


@dataclass
class Pager:
    """Base pager: subclasses implement :meth:`cursor` and :meth:`request_for`."""

    provider: str
    first: PageRequest
    max_pages: int = DEFAULT_MAX_PAGES
    pages: int = 0
    seen: set[str] = field(default_factory=set)

    def cursor(self, body: Any) -> str | None:
        raise NotImplementedError

    def request_for(self, cursor: str) -> PageRequest:
        raise NotImplementedError

    def next(self, body: Any, records: int) -> PageRequest | None:
        """The request for the page after ``body`` (which held ``records`` records), or None."""
        self.pages += 1
        cursor = self.cursor(body)
        if not cursor:
            return None
        if records == 0:
            return None
        if cursor in self.seen:
            warnings.warn(
                f"{self.provider}: the API repeated a page cursor after {self.pages} pages; "
                "stopped paging there (the records already read are kept)",
                LoadWarning,
                stacklevel=2,
            )
            return None
        if self.pages >= self.max_pages:
            raise PaginationError(
                self.provider,
                f"stopped at the page cap of {self.max_pages} pages; pass a narrower since/until "
                "or a larger max_pages",
            )
        self.seen.add(cursor)
        return self.request_for(cursor)


@dataclass
class NextUrlPager(Pager):
    """Twilio: follow ``meta.next_page_url`` (absolute) exactly as returned."""

    path: tuple[str, ...] = ("meta", "next_page_url")

    def cursor(self, body: Any) -> str | None:
        value = dig(body, *self.path)
        return value if isinstance(value, str) else None

    def request_for(self, cursor: str) -> PageRequest:
        return PageRequest(cursor)


@dataclass
class RelativeUriPager(Pager):
    """SignalWire: join the relative ``next_page_uri`` to the host the first request went to."""

    path: tuple[str, ...] = ("next_page_uri",)

    def cursor(self, body: Any) -> str | None:
        value = dig(body, *self.path)
        return value if isinstance(value, str) else None

    def request_for(self, cursor: str) -> PageRequest:
        return PageRequest(urljoin(self.first.url, cursor))


@dataclass
class TokenPager(Pager):
    """Zoom: resend the same query with ``next_page_token``; empty or missing ends."""

    param: str = "next_page_token"

    def cursor(self, body: Any) -> str | None:
        value = dig(body, self.param)
        return value if isinstance(value, str) and value else None

    def request_for(self, cursor: str) -> PageRequest:
        params = [(k, v) for k, v in (self.first.params or ()) if k != self.param]
        return PageRequest(self.first.url, [*params, (self.param, cursor)])


@dataclass
class OffsetPager(Pager):
    """Plivo: resend our own filters with ``offset += limit`` until ``total_count`` is reached.

    ``remaining`` lists every later offset at once, so they can be fetched concurrently.
    """

    limit: int = 20

    def total(self, body: Any) -> int | None:
        value = dig(body, "meta", "total_count")
        try:
            return None if value is None else int(value)
        except (TypeError, ValueError):
            return None

    def offset_request(self, offset: int) -> PageRequest:
        params = [(k, v) for k, v in (self.first.params or ()) if k not in ("offset", "limit")]
        return PageRequest(
            self.first.url, [*params, ("limit", str(self.limit)), ("offset", str(offset))]
        )

    def remaining(self, body: Any) -> list[PageRequest]:
        total = self.total(body)
        if total is None:
            return []
        if total // self.limit + 1 > self.max_pages:
            raise PaginationError(
                self.provider,
                f"{total} records need more than the page cap of {self.max_pages} pages",
            )
        return [self.offset_request(o) for o in range(self.limit, total, self.limit)]

    def cursor(self, body: Any) -> str | None:
        value = dig(body, "meta", "next")
        offset = dig(body, "meta", "offset")
        total = self.total(body)
        try:
            current = int(offset or 0)
        except (TypeError, ValueError):
            current = 0
        if not value or (total is not None and current + self.limit >= total):
            return None
        return str(current + self.limit)

    def request_for(self, cursor: str) -> PageRequest:
        return self.offset_request(int(cursor))
