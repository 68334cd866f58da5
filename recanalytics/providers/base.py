"""What a provider module declares, and the one driver that loads any endpoint.

A provider is a :class:`ProviderSpec` (credentials, host, documented rate limit, auth) plus one
:class:`Endpoint` per listing (record fields, list key, pager, mapping to the unified frame).
The driver pages every query concurrently through the shared engine, parses each page into a
typed frame as it arrives, de-duplicates by id and maps to the unified schema.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import datetime as dt
import functools
import logging
import operator
from collections.abc import Awaitable, Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, NamedTuple, TypeVar
from urllib.parse import urlsplit

import httpx
import polars as pl

from recanalytics import clock
from recanalytics.blank import any_blank, is_blank, present
from recanalytics.credentials import Credentials
from recanalytics.engine import Session, error_details, in_process
from recanalytics.errors import PaginationError, ProviderError, warn_user
from recanalytics.fields import Field, PageBatch, RecordSpec
from recanalytics.fields import Page as DecodedPage
from recanalytics.helpers._common import counted
from recanalytics.hosts import CredentialScope, Origin, https_origins
from recanalytics.options import Context
from recanalytics.paging import Again, NextUrlPager, Pager, PageRequest, dig
from recanalytics.parsers import FAILURES, as_str
from recanalytics.rates import CostKind, StorageRate
from recanalytics.redact import redact_frame, redact_text, shown_url, visible
from recanalytics.schema import conform
from recanalytics.schema import newest_first as sorted_newest_first
from recanalytics.windows import Window

log = logging.getLogger("recanalytics")
# Passes over one window while its reported total keeps falling (see Endpoint.steady_passes).
MAX_PASSES = 3


LoaderF = TypeVar("LoaderF", bound=Callable[..., Awaitable[pl.DataFrame]])


@dataclass(frozen=True)
class Loader(Generic[LoaderF]):
    """One public async loader of a provider and the unified ``kind`` values its rows take.

    ``load()`` runs every loader a provider registers; the store-aware layer
    (:mod:`recanalytics.incremental`) reads ``kinds`` to know which stored rows a loader owns.
    ``endpoint`` turns the loader's ``raw=True`` rows into unified ones, so a caller that keeps
    both (the archive) asks the API once.
    """

    provider: str
    kinds: tuple[str, ...]
    load: LoaderF
    endpoint: Endpoint
    #: the endpoint of one load, for a provider whose unified rows depend on the load's options
    #: (SignalWire's media URLs are on the space's host); None: ``endpoint`` serves every load
    endpoint_for: Callable[[Mapping[str, Any]], Endpoint] | None = None
    #: the loader's arguments that change how its rows read, not which rows it loads
    #: (SignalWire's ``media_format``), with :attr:`restyle`: a store keeps rows as a load
    #: without them reads them, and ``store=`` answers in the form asked
    style_options: tuple[str, ...] = ()
    #: unified rows read without :attr:`style_options`, shown as those given ask (a bad value
    #: raises a ConfigError naming it)
    restyle: Callable[[pl.DataFrame, Mapping[str, Any]], pl.DataFrame] | None = None
    #: whether the listing drops a recording the provider deleted (Plivo lists only stored
    #: recordings) rather than listing it with status ``deleted`` (Twilio): a store then marks
    #: a stored row ``deleted`` when a complete load of its period no longer lists it (kept,
    #: and in ``store=`` answers; docs/store-media-archive.md)
    drops_deleted: bool = False

    def unify(self, raw: pl.DataFrame, options: Mapping[str, Any] | None = None) -> pl.DataFrame:
        """The unified rows of what ``load(..., raw=True, **options)`` returned."""
        endpoint = self.endpoint
        if self.endpoint_for is not None and options is not None:
            endpoint = self.endpoint_for(options)
        return endpoint.unify(raw)

    @property
    def part(self) -> str:
        """What an archive calls this loader's rows: its kinds in the plural (``tracks``)."""
        return "_".join(f"{kind}s" for kind in self.kinds)


@dataclass(frozen=True)
class Archival:
    """Why a provider's whole account is worth archiving, and where its history starts.

    A spec that has one is offered by ``recanalytics archive``; an archive without ``since``
    starts at ``since`` (see :func:`recanalytics.archive.archive`). ``service`` retires on
    ``retires``: :attr:`reason` says so in the tense the system clock's date calls for.

    Examples
    --------
    >>> plan = Archival(dt.datetime(2015, 1, 1, tzinfo=dt.UTC), "Video", dt.date(2026, 12, 5))
    >>> plan.reason in ("Video retires on 2026-12-05", "Video retired on 2026-12-05")
    True
    """

    since: dt.datetime
    service: str
    retires: dt.date

    @property
    def reason(self) -> str:
        verb = "retired" if self.retired else "retires"
        return f"{self.service} {verb} on {self.retires}"

    @property
    def retired(self) -> bool:
        """Whether the day it retires has come, by :func:`recanalytics.clock.now`."""
        return clock.now().date() >= self.retires

    def gone(self, provider: str) -> str:
        """What an error of ``provider``'s requests adds once the service has retired: why it
        may fail now, and where what was saved before is.

        Examples
        --------
        >>> plan = Archival(dt.datetime(2015, 1, 1, tzinfo=dt.UTC), "Video", dt.date(2026, 12, 5))
        >>> plan.gone("twilio")[:42]
        'Video retired on 2026-12-05, which may be '
        """
        return (
            f"{self.service} retired on {self.retires}, which may be why (a refusal, a 404 or "
            "410, a redirect or no connection after that day is likely the service gone, not "
            "the credentials or base_url); what was saved before is in its archive folder "
            f"(ra.read_archive(folder), written by `recanalytics archive {provider}`) or a "
            "store (store=..., store.read())"
        )


@dataclass(frozen=True)
class ProviderSpec:
    """A provider's connection facts.

    Parameters
    ----------
    name : str
        The ``provider`` value in the unified frame.
    credentials : type
        Its :class:`~recanalytics.credentials.Credentials` class.
    base_url : str
        Default API host, without a trailing slash.
    rate : float
        Documented request rate limit per second; the client stays under it by default.
    concurrency : int
        Default number of requests in flight.
    rate_period : float
        Seconds over which the provider counts ``rate`` (Twilio: per second). Up to
        ``rate × rate_period`` requests may then start at once, never more in any such period;
        0 paces every request evenly (see :class:`~recanalytics.engine.RateLimiter`).
    api_hosts : tuple of str
        Hosts besides ``base_url``'s that its credentials may be sent to over https (``*.x.com``
        for subdomains); see :meth:`credential_scope`.
    media_auth : bool
        Whether its media URLs need its credentials (a media URL on a host outside the scope
        is then not fetched at all); public media is fetched without them.
    media_envelope : str or None
        The key of the storage URL in the JSON its media URLs answer with (Twilio:
        ``redirect_to``); None where a JSON answer is the file itself (a Zoom timeline).
    rows_name_account : bool
        Whether its unified rows carry their account in ``account_id``: a store tells one
        account's rows from another's by it, and holds one account's only where it is False.
    id_capitals : int
        How many leading letters of its ids are upper case, the rest lower case (Twilio's
        ``RT…``/``CJ…`` SIDs: 2; the others' UUIDs: 0). A media file is named by its id when
        cased so, else by a safe form and a hash (:func:`~recanalytics.filenames.safe_name`).
    color : str
        Its colour in every chart (a CSS hex colour).
    storage_rate : StorageRate or None
        What keeping its recordings costs, for the cost helpers and the report.
    cost_kind : {"monthly storage", "one-off"} or None
        What the ``cost`` its rows carry is (see :data:`~recanalytics.rates.CostKind`); None
        where it reports no cost. The cost helpers never add amounts of different kinds.
    emulator : str
        Its sandbox emulator as ``"module:Class"`` (imported by the sandbox only).
    archive : Archival, optional
        Set where archiving the whole account is a need (the service retires): the CLI's
        ``archive`` command offers the providers that have one.
    """

    name: str
    credentials: type[Credentials]
    base_url: str
    rate: float
    concurrency: int
    rate_period: float = 0.0
    api_hosts: tuple[str, ...] = ()
    media_auth: bool = False
    media_envelope: str | None = None
    rows_name_account: bool = True
    id_capitals: int = 0
    color: str = "#999999"
    storage_rate: StorageRate | None = None
    cost_kind: CostKind | None = None
    emulator: str = ""
    archive: Archival | None = None

    def retired_at(
        self, base_url: str | None, transport: httpx.AsyncBaseTransport | None = None
    ) -> Archival | None:
        """Its :attr:`archive` once the service it names has retired (by
        :func:`recanalytics.clock.now`) for loads that reach its own API (``base_url`` None or
        on its hosts, through the network: not a ``transport`` that answers itself, see
        :func:`~recanalytics.engine.in_process`), else None: its API's errors then say so, an
        empty listing is doubted rather than taken as complete, and ``store=`` answers from the
        store when the API fails (see docs/store-media-archive.md). A sandbox, an emulator, an
        ``httpx.MockTransport`` or a proxy at another address has not retired.

        Examples
        --------
        >>> from recanalytics.providers.registry import spec_for
        >>> spec_for("twilio").retired_at("http://sandbox.invalid") is None
        True
        """
        if self.archive is None or not self.archive.retired:
            return None
        if in_process(transport, base_url or self.base_url):
            return None
        if base_url is None:
            return self.archive
        host = (urlsplit(base_url).hostname or "").lower()
        for own in (urlsplit(self.base_url).hostname or "", *self.api_hosts):
            if host == own or (own.startswith("*.") and host.endswith(own[1:])):
                return self.archive
        return None

    def default_base_url(self, credentials: Credentials) -> str:
        return self.base_url

    def credential_scope(
        self, credentials: Credentials, base_url: str | None = None
    ) -> CredentialScope:
        """The origins its credentials may go to: its API host(s) and the caller's base_url."""
        urls = [self.default_base_url(credentials), *([base_url] if base_url else [])]
        given = [o for url in urls if (o := Origin.of(url)) is not None]
        return CredentialScope(self.name, (*given, *https_origins(self.api_hosts)))

    def auth(self, credentials: Credentials) -> httpx.Auth:
        return httpx.BasicAuth(*credentials.basic_auth())


@dataclass
class Query:
    """What one query (a window's walk through its pages) has loaded.

    ``batch`` gathers the query's pages as they are decoded (see
    :class:`~recanalytics.fields.PageBatch`); ``harvest`` lists the batches of every query of a
    load, so a load that fails part-way can still hand back what it had. ``counted`` holds the
    keys the provider's reported total counts (record id hashes by default); ``total`` is the
    smallest total reported during the query, ``latest_total`` the last one, and ``shrank``
    says a reported total fell below the one before it (records were deleted while paging).
    ``window`` is the date range the query lists, where its load knows it (a load in date
    windows): what a warning names when a page of it came back empty after the provider's
    retirement (``doubted``, see :meth:`Endpoint.get_page`).
    """

    harvest: list[PageBatch]
    batch: PageBatch
    counted: set[Any] = field(default_factory=set)
    total: int | None = None
    latest_total: int | None = None
    shrank: bool = False
    pages: int = 0
    without_id: int = 0
    #: per page request, the extra copies of a key the page itself listed (see ``loaded``)
    copies: dict[tuple[str, tuple[tuple[str, str], ...]], int] = field(default_factory=dict)
    #: batches of trial queries made this query's (see :meth:`absorb`)
    absorbed: list[PageBatch] = field(default_factory=list)
    #: the last page decoded, the keys it added to ``counted``, and the totals and id-less
    #: count as they were before it (see :meth:`forget_last`)
    last: tuple[DecodedPage, set[Any], tuple[int | None, int | None, bool, int]] | None = None
    window: Window | None = None
    #: a page of it came back empty once the provider's service had retired
    doubted: bool = False
    #: the session's list of doubted windows, when the last page is what put this query's
    #: there (an empty answer refused and asked again is no doubt: see :meth:`forget_last`)
    doubted_by_last: list[Window | None] | None = None
    #: it reads again only what another query's pages listed (the planner's check of a split
    #: on a list whose order is not documented, or a piece of a split above the oldest row
    #: its window's pages showed): its empty answer is no doubt, as those rows were read
    rereads: bool = False

    def forget_last(self) -> None:
        """Drop the last page's rows, the keys only it counted and the total it reported: it
        is asked for again (a rejected answer's total, lower, would hide a later early end)."""
        if self.last is not None:
            page, added, before = self.last
            self.batch.drop(page)
            self.counted.difference_update(added)
            self.total, self.latest_total, self.shrank, self.without_id = before
            self.last = None
        if self.doubted_by_last is not None:
            self.doubted_by_last.remove(self.window)
            self.doubted, self.doubted_by_last = False, None

    def __post_init__(self) -> None:
        self.harvest.append(self.batch)

    def absorb(self, trial: Query) -> None:
        """Make the pages of ``trial`` (a query read on trial, with a harvest of its own) this
        query's, as if they had been read by it."""
        self.harvest.append(trial.batch)
        self.absorbed.append(trial.batch)
        self.counted |= trial.counted
        self.without_id += trial.without_id
        self.copies.update(trial.copies)
        self.pages += trial.pages
        self.shrank |= trial.shrank
        self.doubted |= trial.doubted
        if trial.total is not None:
            self.total = trial.total if self.total is None else min(self.total, trial.total)
        if trial.latest_total is not None:
            if self.latest_total is not None and trial.latest_total < self.latest_total:
                self.shrank = True
            self.latest_total = trial.latest_total

    def discard(self) -> None:
        """Take this query's pages (its own and absorbed ones) out of the harvest: the query is
        read again whole by another, whose rows are the load's instead."""
        mine = [self.batch, *self.absorbed]
        self.harvest[:] = [b for b in self.harvest if not any(b is m for m in mine)]

    def replace_with(self, again: Query) -> None:
        """Make ``again`` (this query read again whole, on trial) this query's reading: its
        pages in place of this query's own and absorbed ones in the harvest, its counts."""
        self.discard()
        self.harvest.append(again.batch)
        self.absorbed = []
        self.batch, self.counted, self.copies = again.batch, again.counted, again.copies
        self.without_id, self.pages = again.without_id, self.pages + again.pages
        self.total, self.latest_total = again.total, again.latest_total
        self.shrank |= again.shrank
        self.doubted |= again.doubted
        self.last, self.doubted_by_last = again.last, again.doubted_by_last

    @property
    def loaded(self) -> int:
        """Distinct records loaded, as the provider's total counts them.

        A key listed twice on one page is two entries of the provider's list (paging can
        repeat a record across pages, never within one), so such copies count too: once per
        page request, however often the page is asked for.
        """
        return len(self.counted) + self.without_id + sum(self.copies.values())


@dataclass(frozen=True)
class Page:
    """One answered page: the body, its size, its records' id hashes (``keys`` in page order,
    repeats kept) and, where the endpoint names its creation-time field, the oldest and newest
    creation times on it."""

    body: Any
    size: int
    ids: frozenset[int]
    oldest: dt.datetime | None = None
    newest: dt.datetime | None = None
    keys: tuple[int, ...] = ()
    # The page's dated rows are in descending order (newest first), so all that is left of
    # its query is older than ``oldest``. Unknown (one dated row, all equal, another order)
    # is False: nothing may then be assumed about where the rest of the query lies.
    newest_first: bool = False
    # Some record on the page has no readable creation time: no date window would list it.
    undated: bool = False
    # The creation time of the row before the last (newest first): where a window's unread
    # rest is cut, so one record whose time reads older than its place in the list (a
    # mislabelled zone) cannot make the rows listed after it look read.
    oldest_but_one: dt.datetime | None = None
    # No dated row is newer than the one listed before it (rows sharing a time included, so
    # one dated row or all equal is True): the page does not contradict a newest-first list,
    # though unlike ``newest_first`` it may not show one.
    descending: bool = False


class Span(NamedTuple):
    """A page's creation times: the oldest and newest, whether the dated ones run newest
    first, whether some record has none, the oldest but one (see :attr:`Page.oldest_but_one`)
    and whether none is newer than the one before it (:attr:`Page.descending`)."""

    oldest: dt.datetime | None = None
    newest: dt.datetime | None = None
    newest_first: bool = False
    undated: bool = False
    oldest_but_one: dt.datetime | None = None
    descending: bool = False


def descending_span(moments: pl.Series) -> Span:
    """The :class:`Span` of a page's times."""
    dated = moments.drop_nulls()
    undated = dated.len() < moments.len()
    low, high = dated.min(), dated.max()
    if not (isinstance(low, dt.datetime) and isinstance(high, dt.datetime)):
        return Span(undated=undated)
    descending = dated.is_sorted(descending=True)
    ordered = descending and dated.len() >= 2 and dated[0] > dated[-1]
    return Span(low, high, ordered, undated, dated[-2] if ordered else None, descending)


@dataclass(frozen=True)
class Endpoint:
    """One list endpoint of a provider. Subclasses override :meth:`unified` (and, when the
    provider pages or nests differently, :meth:`pager`, :meth:`page_records`, :meth:`total`
    or :meth:`fetch`)."""

    provider: ProviderSpec
    fields: Sequence[Field]
    list_key: str
    id_column: str
    #: the field holding each record's creation time (newest-first lists split by it)
    created_column: str = ""
    #: fields that one recording's copies share however often it is read (when it was made):
    #: ids whose copies differ in them are distinct records sent under one id (default: the
    #: creation time)
    identity_columns: tuple[str, ...] = ()
    #: whether the provider documents the list as newest first (api-contracts.md: SignalWire
    #: only). A window split on the order its pages show (see
    #: :mod:`~recanalytics.providers.planner`) has the part it takes as read asked for again
    #: unless the provider says so: the order a server shows on some pages is no promise for
    #: the rest of its list.
    documented_newest_first: ClassVar[bool] = False

    def pager(self, ctx: Context, first: PageRequest) -> Pager:
        return NextUrlPager(self.provider.name, first, max_pages=ctx.max_pages)

    def page_records(self, body: Any) -> list[Any] | None:
        """The records of one page, or None when the body carries no list at all."""
        value = dig(body, self.list_key)
        return value if isinstance(value, list) else None

    def decode(self, content: bytes, batch: PageBatch) -> DecodedPage:
        """One page's body decoded into ``batch`` (:meth:`~recanalytics.fields.PageBatch.decode`)."""
        return batch.decode(content, self.list_key, self.records)

    def records(self, body: Any) -> list[Any]:
        """The records of one page (none when the list is missing)."""
        return self.page_records(body) or []

    def missing_list(self, body: Any) -> str | None:
        """What is wrong with a 200 body that has no list (the engine retries it), or None.

        A body that says its query holds no record (a total of 0: Zoom's empty month answered
        with ``"sessions": null``) needs no list to be whole."""
        if self.page_records(body) is None and self.total(body) != 0:
            return f"the API answered 200 without the '{self.list_key}' list"
        return None

    def page_size(self, body: Any, records: list[Any]) -> int:
        """How many items the page held, for the empty-page guard."""
        return len(records)

    @property
    def label(self) -> str:
        """What the progress bar calls this listing (one bar per endpoint)."""
        return self.provider.name

    def total(self, body: Any) -> int | None:
        """The number of records the provider says the whole query holds, where it says."""
        return None

    def progress_total(self, total: int) -> int | None:
        """The rows a reported :meth:`total` stands for, for the progress bar (None: unknown)."""
        return total

    def counted_keys(self, page: Page) -> Iterable[Any]:
        """The keys :meth:`total` counts, found on ``page`` in order (record ids by default)."""
        return page.keys

    def single_records(self, body: Any) -> list[Any]:
        """The records of a retrieve-one answer (one, unless the resource nests files)."""
        return [body]

    def not_a_record(self, body: Any) -> str | None:
        """Why a 200 retrieve-one answer is no record at all, or None when it is one.

        A record carries its id: a body without one (``null``, ``[]``, ``{}``, or the error
        object a gateway answers with 200) would become a row of nulls.
        """
        if not isinstance(body, dict) or not body:
            return f"a JSON {type(body).__name__}"
        where = next((f.where for f in self.fields if f.name == self.id_column), (self.id_column,))
        if is_blank(dig(body, *where)):
            return f"no '{'.'.join(where)}'"
        return None

    def unified(self, raw: pl.LazyFrame) -> pl.LazyFrame:
        raise NotImplementedError

    async def get_page(
        self,
        session: Session,
        request: PageRequest,
        spec: RecordSpec,
        query: Query,
        *,
        answers: Callable[[Any], str | None] | None = None,
    ) -> Page:
        """Request, check, parse and keep one page.

        ``answers`` says why a 200 body is not this request's page (another offset's), or
        None: such an answer is asked for again, like one without its list, and its rows are
        not kept.
        """

        def expect(got: DecodedPage) -> str | None:
            problem = self.missing_list(got.body) or (answers(got.body) if answers else None)
            if problem is not None:
                # Decoded just now, with no await since: still the batch's last page.
                query.batch.drop(got)
            return problem

        decoded = await session.get_json(
            request.url,
            request.params,
            expect=expect,
            decode=functools.partial(self.decode, batch=query.batch),
        )
        body = decoded.body
        records = self.records(body)
        query.doubted_by_last = None
        if not records and not query.doubted and not query.rereads and session.retired is not None:
            # An API that lists nothing any more answers so: the rest of the query (its
            # whole window, for a first page) is in doubt, judged as the answer arrives (a
            # load may run across the moment). Said by finish_load.
            query.doubted = True
            session.doubted.append(query.window)
            query.doubted_by_last = session.doubted
        session.page_done(len(records))
        query.pages += 1
        if decoded.frame is not None:
            ids = decoded.frame.get_column(self.id_column).to_list()
        else:  # the typed path keeps structs, not a frame, until the query's rows are framed
            ids = list(map(query.batch.getter(self.id_column), records))
        before = (query.total, query.latest_total, query.shrank, query.without_id)
        # A blank id ("") is no id: it neither marks a page as read nor stands for a record.
        kept = [i for i in ids if not is_blank(i)] if any_blank(ids) else ids
        if len(kept) < len(ids):
            query.without_id += len(ids) - len(kept)
            ids = kept
        try:
            keys = tuple(map(hash, ids))
        except TypeError:  # an id sent as an object or a list: keyed as the frame writes it
            keys = tuple(hash(i if isinstance(i, Hashable) else as_str(i)) for i in ids)
        span = self.created_span(decoded, query, records)
        size = self.page_size(body, records)
        page = Page(
            body,
            size,
            frozenset(keys),
            span.oldest,
            span.newest,
            keys,
            newest_first=span.newest_first,
            undated=span.undated,
            oldest_but_one=span.oldest_but_one,
            descending=span.descending,
        )
        counted = list(self.counted_keys(page))
        query.last = (decoded, set(counted) - query.counted, before)
        query.counted.update(counted)
        query.copies[request.url, tuple(request.params or ())] = len(counted) - len(set(counted))
        total = self.total(body)
        if total is not None and query.total is None:
            session.progress.expect(self.progress_total(total))  # the bar shows n/N
        if total is not None:
            # The smallest total reported: recordings added while paging (a larger total) are
            # fetched where offsets reach them, but never make a complete load look short.
            query.total = total if query.total is None else min(query.total, total)
            if query.latest_total is not None and total < query.latest_total:
                query.shrank = True
            query.latest_total = total
        return page

    async def walk(
        self,
        session: Session,
        ctx: Context,
        first: PageRequest,
        spec: RecordSpec,
        query: Query,
        page: Page | None = None,
        hand_off: Callable[[Page], Awaitable[bool]] | None = None,
        on_page: Callable[[Page], None] | None = None,
    ) -> None:
        """Follow the provider's cursors from ``first`` (already answered by ``page``, if
        given) to the last page, re-requesting any answer that is not progress.

        ``on_page`` is told of each page kept, the last one too; ``hand_off`` is then asked
        after each page that has a next one: when it answers True, the rest of the query is
        someone else's and the walk stops there.
        """
        pager = self.pager(ctx, first)
        request = first
        if page is None:
            page = await self.get_page(session, request, spec, query)
        while True:
            try:
                step = pager.advance(page.body, records=page.size, ids=page.ids)
            except PaginationError:
                if pager.refused_last:
                    query.forget_last()  # an answer refused on every try: not this query's
                raise
            if on_page is not None and not isinstance(step, Again):
                on_page(page)
            if step is None:
                return
            if isinstance(step, Again):
                log.info("%s: %s; asking again", self.provider.name, step.why)
                # Its answer's rows stand for the page: these may be another query's.
                query.forget_last()
                await session.pause(ctx.retry.backoff(pager.repeats - 1))
            elif hand_off is not None and await hand_off(page):
                return
            else:
                request = step
            page = await self.get_page(session, request, spec, query)

    def created_span(self, decoded: DecodedPage, query: Query, records: list[Any]) -> Span:
        """The oldest and newest creation times on a page (None without ``created_column`` or
        dates), whether its dated rows come newest first (:attr:`Page.newest_first`) and whether
        some have no date (:attr:`Page.undated`)."""
        if not self.created_column:
            return Span()
        if decoded.frame is not None:
            return descending_span(decoded.frame.get_column(self.created_column))
        values = list(map(query.batch.getter(self.created_column), records))
        if not values:
            return Span()
        shapes = {(len(v), v[-1:]) if isinstance(v, str) else None for v in values}
        if shapes == {(20, "Z")}:
            # All YYYY-MM-DDThh:mm:ssZ, which sorts as it reads: parse two (a polars select
            # per page would cost more than the page's parse).
            parse = next(f for f in self.fields if f.name == self.created_column).parse
            descending = all(map(operator.ge, values, values[1:]))
            ordered = descending and values[0] > values[-1]
            try:
                but_one = parse(values[-2]) if ordered else None
                low, high = parse(min(values)), parse(max(values))
                return Span(low, high, ordered, False, but_one, descending)
            except FAILURES:
                pass  # a date Python cannot hold: the column's own reading decides
        return descending_span(query.batch.read(self.created_column, values))

    def check_total(self, query: Query) -> None:
        """Raise when fewer records arrived than the provider reported for the query."""
        loaded = query.loaded
        if query.total is not None and loaded < query.total:
            raise PaginationError(
                self.provider.name,
                f"{loaded} of the {query.total} records the API reported for one query "
                "arrived; the result would be incomplete",
                expected=query.total,
                loaded=loaded,
            )

    async def fetch(
        self, session: Session, ctx: Context, first: PageRequest, spec: RecordSpec, query: Query
    ) -> None:
        """Page one query to its end, strictly in order (cursors are sequential)."""
        await self.walk(session, ctx, first, spec, query)
        await self.complete(session, ctx, first, spec, query)

    async def complete(
        self, session: Session, ctx: Context, first: PageRequest, spec: RecordSpec, query: Query
    ) -> None:
        """Walk the query once more from page 1 if fewer records arrived than the provider
        reported (a glitch while paging), then raise if they still fall short."""
        if query.total is not None and query.loaded < query.total:
            log.info(
                "%s: %d of %d records arrived; paging the query again",
                self.provider.name,
                query.loaded,
                query.total,
            )
            await self.walk_again(session, ctx, first, spec, query)
        self.check_total(query)

    async def steady_passes(self, one_pass: Callable[[], Awaitable[Query]]) -> None:
        """Page a window again while its reported total fell during a pass.

        A record deleted while a positional list (offsets, or a token that resumes at a
        position) is paged moves every later one up, possibly onto a page already read: the
        pass can miss a record that still exists, though as many distinct ids arrived as the
        new total says. A pass that saw no total fall read every record present throughout it
        (the earlier passes' rows are kept too). ``one_pass`` pages the window once and returns
        the query it filled.
        """
        for _ in range(MAX_PASSES):
            if not (await one_pass()).shrank:
                return
            log.info("%s: the reported total fell while paging (records deleted); paging again",
                     self.provider.name)  # fmt: skip
        raise PaginationError(
            self.provider.name,
            f"the reported total kept falling during {MAX_PASSES} passes over one window "
            "(records deleted while paging move others onto pages already read); the result "
            "could miss some",
        )

    async def walk_again(
        self, session: Session, ctx: Context, first: PageRequest, spec: RecordSpec, query: Query
    ) -> None:
        """Walk ``query`` once more from ``first``. Rows read twice are de-duplicated by id;
        rows without an id cannot be told from their copies, so a query holding some is read
        again whole in place of its first reading (which counted them once already)."""
        if not query.without_id:
            await self.walk(session, ctx, first, spec, query)
            return
        again = Query(
            [],
            spec.batch(),
            total=query.total,
            latest_total=query.latest_total,
            window=query.window,
        )
        await self.walk(session, ctx, first, spec, again)
        query.replace_with(again)

    def dedupe(self, raw: pl.DataFrame) -> pl.DataFrame:
        """Keep the last copy of each id, where it stands; rows without an id (null or blank,
        see :mod:`recanalytics.blank`) are all kept."""
        ids = raw.get_column(self.id_column)
        if ids.null_count() == 0 and ids.n_unique() == raw.height:
            return raw  # no id twice: skip the copy a filter makes of every column
        # A mask from the id column alone: unique() hashed every column of the frame (40 ms
        # for the 20,000 rows of a windowed load, whose edge seconds are read twice; 2 ms so).
        key = present(self.id_column)
        self.warn_clashing_ids(raw)
        if self.created_column not in raw.columns:
            return raw.filter(key.is_last_distinct() | key.is_null())
        # The last copy whose creation time could be read, where one could: a copy whose date
        # was unreadable once is not the one to keep.
        row = pl.col("__row")  # a column: int_range inside over() would count per id
        dated = pl.when(pl.col(self.created_column).is_not_null()).then(row).max().over(key)
        kept = pl.coalesce(dated, row.max().over(key))
        indexed = raw.with_row_index("__row")
        return indexed.filter((row == kept) | key.is_null()).drop("__row")

    def warn_clashing_ids(self, raw: pl.DataFrame) -> None:
        """Warn when records that differ in :attr:`identity_columns` came under one id: the
        last of them is kept, as for any id read twice, but they were not copies of one
        recording (a provider's fault, never seen: copies from paging agree)."""
        identity = self.identity_columns or ((self.created_column,) if self.created_column else ())
        columns = [c for c in identity if c in raw.columns]
        if not columns:
            return
        key = present(self.id_column)
        # Rows without an id are all kept, and a value missing from one copy (unreadable) is
        # no difference: only values both copies have can clash.
        versions = [pl.col(c).drop_nulls().n_unique().alias(c) for c in columns]
        clashing = (
            raw.filter(key.is_not_null() & key.is_duplicated())
            .group_by(self.id_column)
            .agg(versions)
            .filter(pl.any_horizontal(pl.col(c) > 1 for c in columns))
            .height
        )
        if clashing:
            ids = "value was" if clashing == 1 else "values were"
            warn_user(
                f"{self.provider.name}: {clashing} {self.id_column} {ids} each sent for "
                f"records that differ in {', '.join(columns)}; one row per id is kept (the last "
                "sent), the others are dropped"
            )

    def finish(self, raw: pl.DataFrame, ctx: Context) -> pl.DataFrame:
        """Raw frame to what the caller asked for: raw columns or the unified frame."""
        raw = without_empty_chunks(raw)
        return raw if ctx.raw else self.unify(raw)

    def unify(self, raw: pl.DataFrame) -> pl.DataFrame:
        """Raw rows (as ``raw=True`` returns them) to the unified frame."""
        unified = self.unified(without_empty_chunks(raw).lazy())
        # A blank id is no id (the raw frame keeps it as sent): null, as a missing one.
        return unified.with_columns(present("recording_id")).pipe(conform).collect()


def without_empty_chunks(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` in one chunk if a filter left one of its chunks empty.

    De-duplication and trimming can empty a page's chunk of the concatenated pages (its rows
    read again later), and polars 2.1 panics (``PanicException``, not an ``Exception``) on
    ``coalesce(...).str.replace(...)`` over a frame whose first chunk is empty. Checking is
    metadata only (every column's: they may be chunked apart); the copy is made only then.
    """
    if any(0 in column.chunk_lengths() for column in frame.iter_columns()):
        return frame.rechunk()
    return frame


def warn_issues(spec: RecordSpec, provider: str) -> None:
    message = spec.warning(provider)
    if message:
        warn_user(message)


async def collect(
    endpoint: Endpoint,
    ctx: Context,
    queries: Sequence[PageRequest],
    *,
    more: Callable[[dt.datetime | None], Sequence[PageRequest]] | None = None,
) -> pl.DataFrame:
    """Load every query concurrently and return one de-duplicated frame, newest first.

    Every query runs to its end even when another fails, so a failure loses as little as
    possible; the first error is then raised with every row loaded in ``partial``. Pages
    fetched at once (Plivo's offsets, Zoom's windows) arrive in an order that varies from run
    to run, so the rows are sorted as the providers list them: newest first, then by id.

    ``more`` is asked, once the queries are loaded, for the queries to load as well given the
    provider's now as its answers' ``Date`` headers said it (None: none did): the windows
    past the system clock's now, where that clock is behind (:class:`~recanalytics.clock.Horizon`).
    """
    spec = RecordSpec(endpoint.fields)
    harvest: list[PageBatch] = []
    async with ctx.session(endpoint.label) as session:

        async def load(batch: Sequence[PageRequest]) -> list[BaseException]:
            outcomes = await asyncio.gather(
                *(
                    endpoint.fetch(session, ctx, q, spec, Query(harvest, spec.batch()))
                    for q in batch
                ),
                return_exceptions=True,
            )
            return [o for o in outcomes if isinstance(o, BaseException)]

        failures = await load(queries)
        if more is not None and not failures:
            failures = await load(more(session.server_clock.now()))
        return finish_load(endpoint, ctx, spec, harvest, failures, session, newest_first=True)


# The unified columns a windowed load's rows are sorted by: its creation time and id.


def finish_load(
    endpoint: Endpoint,
    ctx: Context,
    spec: RecordSpec,
    harvest: Sequence[PageBatch],
    failures: Sequence[BaseException],
    session: Session,
    *,
    newest_first: bool = False,
) -> pl.DataFrame:
    """Every query's rows in one de-duplicated frame, scrubbed of the session's secrets; or, if
    any query failed, its error raised with that frame in ``partial``.

    ``newest_first`` sorts the rows as the provider lists them (newest first, then by id), for
    loads whose queries finish in an order that varies from run to run.
    """
    frames = [frame for batch in harvest for frame in batch.frames() if frame.height]
    raw = endpoint.dedupe(pl.concat(frames)) if frames else spec.empty()
    raw = redact_frame(raw, session.secrets, ids=[endpoint.id_column])
    warn_issues(spec, endpoint.provider.name)

    def finished() -> pl.DataFrame:
        rows = endpoint.finish(raw, ctx)
        # A raw frame is sorted where its endpoint names its creation column.
        if not newest_first or (ctx.raw and not endpoint.created_column):
            return rows
        # Sorted once finished: the unified frame is a fraction of the raw one, whose sorted
        # copy was the peak memory of a 1,000,000-track load.
        if not ctx.raw:
            return sorted_newest_first(rows)
        keys = [endpoint.created_column, endpoint.id_column]
        return rows.sort(keys, descending=[True, False], nulls_last=True, maintain_order=True)

    if failures:
        # A bug or a cancellation outranks what the provider did.
        error = next((f for f in failures if not isinstance(f, ProviderError)), failures[0])
        if isinstance(error, ProviderError):
            error.partial = finished()
        raise error
    rows = finished()
    warn_doubtful_empty(endpoint, ctx.spec.archive, session.doubted, rows.height)
    # The bar counted what arrived, rows read twice at window edges included: it ends on the
    # rows returned, as the load's status says them.
    session.progress.settle(rows.height)
    return rows


MOST_SHOWN = 5
"""How many of the windows in doubt a warning names (then how many more there are)."""


def shown_window(window: Window | None) -> str:
    """A query's date window in words, UTC.

    Examples
    --------
    >>> shown_window(Window(dt.datetime(2025, 4, 12, 5, 54, tzinfo=dt.UTC), None))
    'from 2025-04-12 05:54:00 on'
    >>> shown_window(None)
    'a query without dates'
    """
    if window is None or (window.start is None and window.end is None):
        return "a query without dates"
    if window.end is None:
        return f"from {window.start:%Y-%m-%d %H:%M:%S} on"
    if window.start is None:
        return f"up to {window.end:%Y-%m-%d %H:%M:%S}"
    return f"{window.start:%Y-%m-%d %H:%M:%S} to {window.end:%Y-%m-%d %H:%M:%S}"


def shown_windows(windows: Iterable[Window | None]) -> str:
    """Date windows in words (:func:`shown_window`), the first :data:`MOST_SHOWN` of them, in
    order, then how many more."""
    named = [shown_window(w) for w in sorted(set(windows), key=_window_order)]
    more = len(named) - MOST_SHOWN
    return "; ".join(named[:MOST_SHOWN]) + (f"; and {more} more" if more > 0 else "")


def _window_order(window: Window | None) -> tuple[dt.datetime, dt.datetime]:
    if window is None:
        return (dt.datetime.min.replace(tzinfo=dt.UTC),) * 2
    low = dt.datetime.min.replace(tzinfo=dt.UTC)
    return (window.start or low, window.end or dt.datetime.max.replace(tzinfo=dt.UTC))


@dataclass(frozen=True)
class Doubt:
    """A load whose listing came back empty, in some query, once its provider's service had
    retired (judged as each answer arrived): those queries' rows may be missing, an API that
    lists nothing any more answering just so.

    ``windows`` are the date windows of those queries (None: one without), ``rows`` how many
    rows the load returned (0: the whole listing was empty).

    Examples
    --------
    >>> plan = Archival(dt.datetime(2015, 1, 1, tzinfo=dt.UTC), "Video", dt.date(2026, 12, 5))
    >>> doubt = Doubt("twilio", "twilio tracks", plan, (None,), 12)
    >>> doubt.message()[:62]
    'twilio: 1 query of the twilio tracks listing (a query without '
    """

    provider: str
    label: str
    retired: Archival
    windows: tuple[Window | None, ...]
    rows: int

    def message(self) -> str:
        """What a LoadWarning says of it."""
        saved = (
            "what was saved before is in its archive folder (ra.read_archive(folder)) or a "
            "store (store.read())"
        )
        if not self.rows:
            return (
                f"{self.provider}: the {self.label} listing returned no recordings, and "
                f"{self.retired.reason}: an empty answer may mean its API no longer lists "
                f"anything, not that there is nothing; {saved}"
            )
        count = len(self.windows)
        return (
            f"{self.provider}: {counted(count, 'query', 'queries')} of the {self.label} "
            f"listing ({shown_windows(self.windows)}) came back empty after {self.retired.service} retired on {self.retired.retires}: its "
            f"API may no longer list anything, so the {self.rows:,} rows returned may lack "
            f"the recordings of {'that range' if count == 1 else 'those ranges'}; {saved}"
        )


@dataclass
class Doubts:
    """The :class:`Doubt` s of the loads run inside :func:`doubts_noted`; ``say``: whether
    each load warns of its own as well."""

    say: bool = True
    found: list[Doubt] = field(default_factory=list)


_DOUBTS: contextvars.ContextVar[Doubts | None] = contextvars.ContextVar("doubts", default=None)


def warn_doubtful_empty(
    endpoint: Endpoint, retired: Archival | None, windows: Sequence[Window | None], rows: int
) -> None:
    """Warn that the queries of ``windows`` (those a page of which came back empty once the
    provider's service had ``retired``) may be an API that lists nothing any more, not a
    period without recordings, the whole listing when the load returned no ``rows``; and
    note it for the caller running the load inside :func:`doubts_noted` (a store, which
    records no period as loaded from it, or an archive), which may say it instead."""
    if retired is None or not windows:
        return
    doubt = Doubt(endpoint.provider.name, endpoint.label, retired, tuple(windows), rows)
    noted = _DOUBTS.get()
    if noted is not None:
        noted.found.append(doubt)
    if noted is None or noted.say:
        warn_user(doubt.message())


@contextlib.contextmanager
def doubts_noted(*, say: bool = True) -> Iterator[Doubts]:
    """Collect the :class:`Doubt` s of the loads run inside (tasks they start included);
    with ``say=False`` the loads leave them unsaid, for the caller to judge the whole (a
    store's load of a period in chunks: a quarter may be empty of itself). An enclosing
    collector gets them too.

    Examples
    --------
    >>> with doubts_noted(say=False) as doubts:
    ...     doubts.say, doubts.found
    (False, [])
    """
    outer = _DOUBTS.get()
    noted = Doubts(say=say and (outer is None or outer.say))
    token = _DOUBTS.set(noted)
    try:
        yield noted
    finally:
        _DOUBTS.reset(token)
        if outer is not None:
            outer.found.extend(noted.found)


async def fetch_one(
    endpoint: Endpoint, ctx: Context, url: str, *, asked: tuple[str, str] | None = None
) -> pl.DataFrame:
    """Retrieve one resource (a page of one) and return it as a one-row frame.

    A 200 answer that is no record (``null``, ``[]``, ``{}``, an object without the record's id,
    see :meth:`Endpoint.not_a_record`) is asked for again, as a list page without its list is,
    and then a :class:`~recanalytics.errors.ProviderError`, never a row of nulls. ``asked`` is the body's id key and the id requested: a record with another
    id (a cache mixing requests up) is asked for again, and a ``PaginationError`` if it stays.
    """
    spec = RecordSpec(endpoint.fields)
    empty: list[str] = []  # the last answer's "no record" message, while answers are empty

    async with ctx.session() as session:

        def unfit(body: Any) -> str | None:
            # A 200 without a record (a gateway's error object) is asked for again, as a list
            # page without its list is; so is another id's record (a cache mixing requests up).
            empty.clear()
            problem = endpoint.not_a_record(body)
            if problem is not None:
                said, _ = error_details(body)
                empty.append(
                    f"the API answered 200 without a record ({problem})"
                    + (f": {visible(redact_text(said, session.secrets))}" if said else "")
                )
                return empty[0]
            got = body.get(asked[0]) if asked is not None else None
            if asked is None or (
                isinstance(got, str) and got.strip().lower() == asked[1].strip().lower()
            ):
                return None
            return f"answered with {asked[0]}={str(got)[:80]!r} where {asked[1]!r} was asked"

        failure: ProviderError | None = None
        try:
            body = await session.get_json(url, decode=spec.loads, expect=unfit)
        except PaginationError:
            if not empty:
                raise
            # Raised below, outside this clause, so it carries no context.
            failure = ProviderError(
                endpoint.provider.name, empty[0], status=200, url=shown_url(url, session.secrets)
            )
        if failure is not None:
            session.say_retired(failure)
            raise failure
        session.page_done(1)
    # A record listing one file twice (Zoom's own example does) is one row, as in a list load.
    single = spec.frame(endpoint.single_records(body))
    raw = endpoint.dedupe(redact_frame(single, session.secrets, ids=[endpoint.id_column]))
    warn_issues(spec, endpoint.provider.name)
    return endpoint.finish(raw, ctx)
