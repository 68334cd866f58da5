"""Paginators: small state objects that decide the next request from a page. They do no I/O.

Every pager follows the provider's own cursor (next-page URL, URI, link or token) rather than
building one, and shares the same guards, so no load ends early and looks complete:

- a page whose records were all loaded before, or a cursor seen before, is re-requested
  (:class:`Again`); if the API keeps doing it, :class:`~recanalytics.errors.PaginationError`;
- an empty page that still carries a cursor is followed, up to :data:`MAX_EMPTY_RUN` in a row;
- the page cap (``max_pages``) raises rather than returning a short result.

The driver (:mod:`recanalytics.providers.base`) attaches the rows loaded so far to any error.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urljoin, urlsplit, urlunsplit

from recanalytics.errors import PaginationError, warn_user
from recanalytics.parsers import Invalid, as_rfc2822_time

log = logging.getLogger("recanalytics")

Params = Sequence[tuple[str, str]]
DEFAULT_MAX_PAGES = 100_000
# Empty pages that still point further are legal (a server may filter after paging), but a
# server that never stops sending them would loop forever.
MAX_EMPTY_RUN = 25
# A repeated page or cursor is re-requested this many times before the load fails.
MAX_REPEATS = 2


@dataclass(frozen=True)
class PageRequest:
    """One request to make: a URL and, unless the URL already carries them, query params."""

    url: str
    params: Params | None = None


@dataclass(frozen=True)
class Again:
    """Re-request the page just answered: the answer was not progress (``why`` says how)."""

    why: str


def dig(body: Any, *path: str) -> Any:
    """``body[path[0]][path[1]]…`` or None where any step is missing."""
    for key in path:
        if not isinstance(body, dict):
            return None
        body = body.get(key)
    return body


@dataclass
class Pager:
    """Base pager: subclasses implement :meth:`cursor` and :meth:`request_for`.

    Parameters
    ----------
    provider : str
        Named in errors.
    first : PageRequest
        The query's first request (its params are the filters later pages keep).
    max_pages : int
        The page cap.
    """

    provider: str
    first: PageRequest
    max_pages: int = DEFAULT_MAX_PAGES
    pages: int = 0
    empty_run: int = 0
    repeats: int = 0
    #: the answer being read is another query's (or a page already held): when it raises
    #: (refused on every try), its rows are not this query's
    refused_last: bool = False
    seen: set[str] = field(default_factory=set)
    seen_ids: set[Any] = field(default_factory=set)
    #: echoes naming another query, taken as the server's fixed echo (see :meth:`foreign_echo`)
    echo_taken: set[Any] = field(default_factory=set)
    #: the last answer's echo that named another query, and how many answers in a row had it
    echo_last: Any = None
    echo_misses: int = 0

    def cursor(self, body: Any) -> str | None:
        raise NotImplementedError

    def request_for(self, cursor: str) -> PageRequest:
        raise NotImplementedError

    def unfit(self, body: Any, records: int) -> str | None:
        """Why ``body`` (holding ``records`` items) cannot be this query's page (it is asked
        for again), or None."""
        return None

    def advance(
        self, body: Any, *, records: int, ids: Collection[Any] = ()
    ) -> PageRequest | Again | None:
        """What to request after ``body``: the next page, the same page :class:`Again`, or
        None at the end.

        ``records`` counts what the page held (0 = an empty page); ``ids`` are the record ids
        on it, used to recognise a page that was already loaded.

        Raises
        ------
        PaginationError
            The API kept repeating itself, kept sending empty pages, or the page cap was hit.
        """
        self.refused_last = False
        if ids and self.seen_ids.issuperset(ids):
            self.refused_last = True  # its rows are held already
            return self._again(f"answered with a page already loaded ({self.so_far})")
        unfit = self.unfit(body, records)
        if unfit:
            return self._again(f"{unfit} ({self.so_far})")
        cursor = self.cursor(body)
        if cursor and cursor in self.seen:
            return self._again(f"repeated a page cursor ({self.so_far})")
        self.repeats = 0
        self.pages += 1
        self.seen_ids.update(ids)
        if not cursor:
            return None
        self.empty_run = self.empty_run + 1 if records == 0 else 0
        if self.empty_run > MAX_EMPTY_RUN:
            raise PaginationError(
                self.provider,
                f"the API sent {self.empty_run} empty pages in a row that still point to a "
                "next page; stopped there, so the result would be incomplete",
            )
        if self.pages >= self.max_pages:
            raise PaginationError(
                self.provider,
                f"stopped at the page cap of {self.max_pages} pages before the last page; pass "
                "a narrower since/until or a larger max_pages",
            )
        self.seen.add(cursor)
        try:
            return requestable(self.request_for(cursor))
        except ValueError:
            # A link the API sent (an unclosed IPv6 bracket, a port past 65535): asking again
            # cannot mend it, and the load keeps what it read so far.
            raise PaginationError(
                self.provider,
                f"the API linked to a next page that cannot be requested ({self.so_far}); "
                "stopped there, so the result would be incomplete",
            ) from None

    def foreign_echo(self, echo: Any, why: str, *, what: str) -> str | None:
        """Why an answer echoing another query's ``echo`` is asked for again, or None to take it.

        An answer for another query (a cache or proxy mixing queries up) is asked for again.
        One whose echo is the same on every try (``MAX_REPEATS`` more) is a server's fixed
        echo: taken as it is, with a ``LoadWarning``, and not doubted again in this query.
        Echoes that change from try to try are a mix-up: after ``MAX_REPEATS`` tries, the
        caller's :meth:`_again` raises a ``PaginationError``. ``what`` names the echo in the
        warning ("URL", "range").
        """
        if echo in self.echo_taken:
            return None
        self.echo_misses = self.echo_misses + 1 if echo == self.echo_last else 1
        self.echo_last = echo
        if self.echo_misses <= MAX_REPEATS:
            self.refused_last = True
            return why
        warn_user(
            f"{self.provider}: the API {why}, on all {self.echo_misses} tries; its answer is "
            f"taken as it is (a server echoing a fixed {what}?), so its rows may not all "
            "match the query"
        )
        self.echo_taken.add(echo)
        self.echo_last, self.echo_misses = None, 0
        return None

    def echo_matched(self) -> None:
        """The answer's echo names this query: a later foreign echo counts from one again."""
        self.echo_last, self.echo_misses = None, 0

    @property
    def so_far(self) -> str:
        """Where the query stands, for an error: "on its first page", "after 1 page" … ."""
        if self.pages == 0:
            return "on its first page"
        return f"after {self.pages} page{'s' if self.pages > 1 else ''}"

    def _again(self, why: str) -> Again:
        self.repeats += 1
        if self.repeats > MAX_REPEATS:
            raise PaginationError(
                self.provider,
                f"the API {why}, and again on {MAX_REPEATS} retries; the result would be "
                "incomplete",
            )
        return Again(why)


def _is_link(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


@dataclass
class NextUrlPager(Pager):
    """Twilio (and SignalWire, served by the same API design): follow the next-page link
    exactly as returned.

    As twilio-python reads it: ``meta.next_page_url`` where ``meta`` has that key (``null``
    ends), else the top-level ``next_page_uri``. Twilio documents the URL absolute; a relative
    one is joined to the URL of the query's first request. Where both are sent and disagree on
    a full page, ``meta.next_page_url`` null while ``next_page_uri`` links on, the link is
    followed: the one that says there is more (taken as the end, it lost 630 of 730 rows,
    silently). On a shorter page, the last, ``meta.next_page_url`` decides.
    """

    path: tuple[str, ...] = ("meta", "next_page_url")
    #: read only where the body has no ``path`` key at all (``()``: none)
    fallback: tuple[str, ...] = ("next_page_uri",)
    #: the query parameter that sets the page size (a full page must carry a next link)
    size_param: str = "PageSize"
    #: where an answer echoes the URL it answers (Twilio's ``meta.url``, SignalWire's ``uri``)
    echo_paths: tuple[tuple[str, ...], ...] = (("meta", "url"), ("uri",))
    #: the query parameters a next link sets itself; the first request's others are filters
    paging: tuple[str, ...] = ("Page", "PageSize", "PageToken")
    #: whether the page being read holds as many records as asked (set by :meth:`advance`)
    full: bool = False
    #: where the API's own paths begin (Plivo's ``/v1/``), for :func:`linked_url`: a relative
    #: link's path from there on is asked under the root the query's first request went to
    #: (empty: a relative link is joined to the first request's URL as it is)
    api_root: str = ""

    def advance(
        self, body: Any, *, records: int, ids: Collection[Any] = ()
    ) -> PageRequest | Again | None:
        asked = dict(self.first.params or ()).get(self.size_param, "")
        self.full = asked.isdigit() and records >= int(asked)
        return super().advance(body, records=records, ids=ids)

    def link(self, body: Any) -> Any:
        """The next link's value as sent (``path``, else ``fallback`` where ``path`` is absent,
        or on a full page where ``path`` is null or blank and ``fallback`` is a link)."""
        given = self._has(body, self.path)
        if not self.fallback:
            return dig(body, *self.path)
        if given and self.full and not _is_link(dig(body, *self.path)):
            given = not _is_link(dig(body, *self.fallback))  # the links disagree: follow on
        return dig(body, *(self.path if given else self.fallback))

    def cursor(self, body: Any) -> str | None:
        value = self.link(body)
        return value if isinstance(value, str) and value.strip() else None

    def unfit(self, body: Any, records: int) -> str | None:
        # Every list answer carries its next link, null on the last page. A full page without
        # one, or with one that is not text, would look like the last page and end the load
        # short, silently; a page shorter than asked is the last whatever its envelope says.
        present = self._has(body, self.path) or bool(
            self.fallback and self._has(body, self.fallback)
        )
        # "" (or blanks) reads as the end, as twilio-python reads it: on a full page it is no
        # more an end than a missing link.
        link = self.link(body)
        readable = link is None or (isinstance(link, str) and bool(link.strip()))
        if present and readable:
            return self.other_query(body)
        if not self.full:
            # A short page without its link is the last, if it is this query's at all: an
            # empty one echoing another query's URL ended the load at its first rows.
            return self.other_query(body)
        names = " or ".join(".".join(p) for p in (self.path, self.fallback) if p)
        if present:
            return f"answered a full page whose next-page link ({names}) is not a URL"
        return f"answered a full page without its next-page link ({names})"

    def other_query(self, body: Any) -> str | None:
        """Why an answer whose echoed URL names other filters than the query's answers another
        query (a cache or proxy mixing query strings up), or None.

        Its rows and its null next link would end this query short, silently, so it is asked
        for again (:meth:`Pager.foreign_echo`). Only a filter the echo names with another value
        counts: one it leaves out says nothing (a server that ignores a filter, which the
        planner deals with, or a mock echoing a fixed URL); dates are compared as instants.
        """
        echoed = next(
            (e for e in (dig(body, *p) for p in self.echo_paths) if isinstance(e, str)), None
        )
        if echoed is None:
            return None
        try:
            answered: dict[str, list[str]] = {}
            for key, value in parse_qsl(urlsplit(echoed).query, keep_blank_values=True):
                answered.setdefault(key, []).append(value)
        except ValueError:
            return None
        for key, value in self.first.params or ():
            got = answered.get(key)
            if key == self.size_param or got is None or any(_same(value, g) for g in got):
                continue
            why = f"answered for {key}={got[0]!r} where {value!r} was asked"
            if (key, tuple(got)) in self.echo_taken:
                continue
            return self.foreign_echo((key, tuple(got)), why, what="URL")
        self.echo_matched()
        return None

    @staticmethod
    def _has(body: Any, path: tuple[str, ...]) -> bool:
        parent = dig(body, *path[:-1])
        return isinstance(parent, dict) and path[-1] in parent

    def request_for(self, cursor: str) -> PageRequest:
        return self.with_filters(linked_url(self.first.url, cursor, self.api_root))

    def with_filters(self, url: str) -> PageRequest:
        """``url`` as linked, with the first request's filters it omits added back.

        A next link that dropped a filter (a proxy rewriting it) would page on through rows
        the query excludes: other statuses, media types or dates, without a word. Paging
        parameters the link does not carry are not added (an ``offset`` never rides along with
        a ``cursor``). A link that carries every filter is requested exactly as sent.
        """
        parts = urlsplit(url)
        given = parse_qsl(parts.query, keep_blank_values=True)
        names = {k for k, _ in given}
        kept = [
            (k, v) for k, v in (self.first.params or ()) if k not in names and k not in self.paging
        ]
        if not kept:
            return PageRequest(url)
        return PageRequest(parts._replace(query="", fragment="").geturl(), [*kept, *given])


def _same(asked: str, echoed: str) -> bool:
    """Whether an echoed query value is the one asked: as text (case aside; a "+" the echo left
    unencoded reads as a space, as in ``+0000``), or as the same instant written another way."""
    if asked.replace("+", " ").strip().lower() == echoed.replace("+", " ").strip().lower():
        return True
    try:
        instant = as_rfc2822_time(asked)
    except Invalid:
        return False
    try:
        # A day echoed for an instant: the day the server read it as (SignalWire's filters
        # may be read by the day, see signalwire.date_params).
        day = dt.date.fromisoformat(echoed.strip())
    except ValueError:
        pass
    else:
        midnight = dt.datetime.combine(day, dt.time(), dt.UTC)
        return abs(instant - midnight) <= dt.timedelta(days=1)
    try:
        return instant == as_rfc2822_time(echoed)
    except Invalid:
        return False


def linked_url(first: str, link: str, api_root: str = "") -> str:
    """The URL a next-page ``link`` names, in a query whose first request went to ``first``.

    An absolute link is taken as it is and a relative one is joined to ``first``, except that
    where ``api_root`` (the start of the API's own paths: Plivo's ``/v1/``, SignalWire's
    ``/2010-04-01/``) is in both paths, the link's path from there on is asked under what comes
    before it in ``first``. So a link from the API's root stays under a proxy's path
    (``base_url="https://gw.example/plivo"``), and one naming another of the API's path forms
    (SignalWire's ``/api/laml`` or none) is asked on the form that answered.

    Examples
    --------
    >>> first = "https://gw.example/plivo/v1/Account/MA1/Recording/?limit=20"
    >>> linked_url(first, "/v1/Account/MA1/Recording/?limit=20&cursor=c2", "/v1/")
    'https://gw.example/plivo/v1/Account/MA1/Recording/?limit=20&cursor=c2'
    >>> linked_url(first, "/v1/Account/MA1/Recording/?limit=20&cursor=c2")
    'https://gw.example/v1/Account/MA1/Recording/?limit=20&cursor=c2'
    >>> linked_url(first, "?limit=20&offset=20", "/v1/")
    'https://gw.example/plivo/v1/Account/MA1/Recording/?limit=20&offset=20'
    """
    joined = urljoin(first, link)
    given = urlsplit(link)
    if not api_root or given.scheme or given.netloc:
        return joined
    parts = urlsplit(first)
    # The last occurrence: a proxy's path may hold the same segment (".../v1/plivo/v1/...").
    root, found, _ = parts.path.rpartition(api_root)
    at = given.path.rfind(api_root)
    if not found or at < 0:
        return joined
    # A relative link's path is where it starts, so the rest of it (query included) follows.
    return urlunsplit((parts.scheme, parts.netloc, root, "", "")) + link[at:]


def requestable(request: PageRequest) -> PageRequest:
    """``request`` if its URL can be requested; ``ValueError`` otherwise.

    ``urljoin`` and httpx accept a port past 65535, which fails only when connecting, deep in
    the transport and as an exception group.
    """
    parts = urlsplit(request.url)
    port = parts.port  # ValueError when out of range or not a number
    if parts.scheme not in ("http", "https") or not parts.hostname or port == 0:
        raise ValueError(f"not an http(s) URL with a host and port: {parts.scheme}://…")
    return request


@dataclass
class RelativeUriPager(NextUrlPager):
    """SignalWire: its ``next_page_uri`` is relative, joined to the host the first request
    went to (a ``meta.next_page_url``, the newer form, wins where the body has one)."""


@dataclass
class LinkPager(NextUrlPager):
    """Follow a (relative) next link whose query carries only paging parameters.

    The link's query is sent as given; the first request's other parameters (the filters) ride
    along where the link omits them, and paging parameters the link does not carry are dropped
    (so an ``offset`` never rides along with a ``cursor``).
    """

    paging: tuple[str, ...] = ("limit", "offset", "cursor")

    def unfit(self, body: Any, records: int) -> str | None:
        return None  # a list without the link is paged on by offsets (see plivo.py)


@dataclass
class TokenPager(Pager):
    """Zoom: resend the same query with ``next_page_token``; empty or missing ends."""

    param: str = "next_page_token"

    def cursor(self, body: Any) -> str | None:
        value = dig(body, self.param)
        return value if isinstance(value, str) and value else None

    def unfit(self, body: Any, records: int) -> str | None:
        # A token that is a number or an object reads as none: the query would end at this
        # page, silently, wherever the total cannot say it is short.
        value = dig(body, self.param)
        if value is not None and not isinstance(value, str):
            return f"answered a {self.param} that is not text ({type(value).__name__})"
        return None

    def request_for(self, cursor: str) -> PageRequest:
        params = [(k, v) for k, v in (self.first.params or ()) if k != self.param]
        return PageRequest(self.first.url, [*params, (self.param, cursor)])
