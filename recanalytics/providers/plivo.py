"""Plivo voice recordings (``GET /v1/Account/{auth_id}/Recording/``).

Plivo pages by ``limit`` (at most 20) and a ``meta.next`` link that carries an ``offset`` or an
opaque ``cursor``, and reports ``total_count``: once the server has shown that it honours
offsets, the remaining offsets are requested concurrently, else the links are followed. Its ``add_time``
filter accepts ranges of at most 30 days and, when no lower bound is sent, searches only the last
7 days: a ``since``/``until`` period is split into 30-day windows, each paged on its own.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import functools
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, ClassVar, Unpack
from urllib.parse import unquote

import polars as pl

from recanalytics import clock, validate
from recanalytics.blank import present
from recanalytics.clock import Horizon
from recanalytics.credentials import Credentials
from recanalytics.engine import Session
from recanalytics.errors import ConfigError, PaginationError, ProviderError, warn_user
from recanalytics.fields import F, RecordSpec
from recanalytics.options import Context, LoadOptions, resolve
from recanalytics.paging import LinkPager, PageRequest, dig
from recanalytics.parsers import (
    Invalid,
    as_count,
    as_epoch_ms_time,
    as_float,
    as_iso_time,
    as_lower,
    as_milliseconds,
    as_seconds,
)
from recanalytics.providers.base import (
    Endpoint,
    Loader,
    Page,
    ProviderSpec,
    Query,
    collect,
    fetch_one,
)
from recanalytics.providers.common import (
    UTC_TIME,
    ceil_second,
    first_accepted,
    trim_to_range,
)
from recanalytics.rates import StorageRate
from recanalytics.sync import syncify
from recanalytics.windows import WhenLike, Window, parse_range, split_max_span


@dataclasses.dataclass(frozen=True, repr=False)
class PlivoCredentials(Credentials):
    """Plivo Auth ID (``MA…`` or ``SA…``, 20 characters) and Auth Token."""

    auth_id: str | None = None
    auth_token: str | None = None

    provider: ClassVar[str] = "plivo"
    env: ClassVar[dict[str, tuple[str, ...]]] = {
        "auth_id": ("PLIVO_AUTH_ID",),
        "auth_token": ("PLIVO_AUTH_TOKEN",),
    }
    secret_fields: ClassVar[frozenset[str]] = frozenset({"auth_token"})
    required: ClassVar[tuple[str, ...]] = ("auth_id", "auth_token")
    basic_pairs: ClassVar[tuple[tuple[str, str], ...]] = (("auth_id", "auth_token"),)
    # plivo-python checks the same: 20 characters, an account's (MA) or subaccount's (SA).
    forms: ClassVar[dict[str, tuple[re.Pattern[str], str]]] = {
        "auth_id": (re.compile(r"(?:MA|SA)[0-9A-Za-z]{18}"), "20 characters starting MA or SA"),
    }
    account_fields: ClassVar[tuple[str, ...]] = ("auth_id",)
    # A row's account_id is the Auth ID in its resource_uri (/v1/Account/{auth_id}/…).
    row_account_field: ClassVar[str | None] = "auth_id"

    def basic_auth(self) -> tuple[str, str]:
        assert self.auth_id and self.auth_token
        return self.auth_id, self.auth_token


PLIVO = ProviderSpec(
    name="plivo",
    credentials=PlivoCredentials,
    base_url="https://api.plivo.com",
    # Plivo allows 300 requests per 5 s across all recording APIs: at most 275 in any
    # 5 s (plus the limiter's margin) stays under it whichever way Plivo counts the window.
    rate=55.0,
    rate_period=5.0,
    concurrency=10,
    media_auth=False,  # recording_url is public: fetched without credentials
    color="#009E73",  # Okabe-Ito, colour-blind safe; one per provider in every chart
    storage_rate=StorageRate(
        0.0004,
        "minute_month",
        "Plivo support: 'How can I track recording storage charges?' "
        "(recording_storage_rate 0.0004 per minute per month after 90 days)",
        "2026-11-23",
    ),
    # monthly_recording_storage_amount: what keeping the recording costs each month, not once.
    cost_kind="monthly storage",
    emulator="recanalytics.sandbox.plivo:PlivoEmulator",
)

# How this module reads Plivo's answers into unified rows. Bump it with any change to that
# reading: a store's coverage and an archive's manifest record it, and what was read under an
# older one is loaded again (docs/store-media-archive.md).
# 2: a blank id is no id; duration never from rounded_recording_duration (it rounds up to 60 s
# steps).
READING = 2
REREAD: dict[int, frozenset[str]] = {2: frozenset({"duration", "bitrate_kbps"})}
"""The unified columns each ``READING`` read otherwise than the one before (the rest, an
archive keeps from an earlier run's reading)."""

PAGE_SIZE_MAX = 20
API_ROOT = "/v1/"
"""Where Plivo's paths begin, its API's root: ``meta.next`` links from there."""
UNIX_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
EPOCH_MS_MIN = 946_684_800_000
"""2000-01-01 in epoch milliseconds: a ``recording_start_ms``/``recording_end_ms`` after 1970
and before it ("1", "1e3") is no recording's time (Plivo was founded in 2011), so it is
unreadable; 0 or less stays Plivo's placeholder for a time not known."""
TOTAL_MAX = 2**53
"""A ``meta.total_count`` above this (the largest integer a JSON number holds exactly) is no
count a list has: it is ignored, as a total that is not a number is."""
log = logging.getLogger("recanalytics")
MAX_SPAN = dt.timedelta(days=30)  # a wider add_time range is answered HTTP 400
# Window spans tried in turn while the API answers 400 to a window: whether "over 30 days" counts
# elapsed time or calendar days (a window of exactly 30 days touches 31 dates) is not documented.
SPANS = (MAX_SPAN, dt.timedelta(days=28), dt.timedelta(days=7))
# The docs say the add_time filters are read in UTC, but add_time itself comes in the account's
# offset (the docs' example: +05:30): a server reading the filters in that offset would shift
# the range by up to 14 hours (UTC-12 to UTC+14), losing rows at one end. The range is asked
# this much wider at both ends, and the rows are trimmed to [since, until) here.
ZONE_MARGIN = dt.timedelta(hours=14)
# How far past the system clock's now the windows reach (every window is closed: the 30-day
# rule is checked on both bounds): the zone margin past the provider's now, and an hour more for
# a clock behind it. A clock behind by more is heard in the answers' Date headers, and the
# windows up to the provider's now are asked for as well (recanalytics.clock.Horizon).
CLOCK_SLACK = dt.timedelta(hours=1)

# Plivo's own recording ids are UUID-like but not always valid hex (the documentation's example
# ``fc2716b0-1c8b-11e4-bwad-842b2b17453e``): accept letters, digits and dashes, nothing that
# could change the request path.
RECORDING_ID_RE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z-]{0,63}$")
ID_FORM = "a Plivo id: letters, digits and dashes (e.g. a UUID)"
SUBACCOUNT_RE = re.compile(r"^SA[0-9A-Za-z]{18}$")
# from_number / to_number: "a phone number (E.164 format) or SIP endpoint" (Plivo's docs);
# Plivo writes numbers without the "+", so both spellings pass, as do SIP URIs.
# A SIP endpoint's user part is bounded here (RFC 3261 sets none) and its host as DNS bounds
# a name, so the query stays a requestable URL.
# A SIP user or host holds no space, control character or lone surrogate (none can be sent).
_SIP_PART = r"[^\s\x00-\x1f\x7f\ud800-\udfff@:/?#]"
NUMBER_RE = re.compile(
    rf"^(?:\+?[0-9]{{1,15}}|(?:sips?:)?{_SIP_PART}{{1,128}}@(?:{_SIP_PART}|:){{1,253}})$"
)
NUMBER_FORM = (
    "a phone number in E.164 form (digits, optionally after '+': '+14155550100') "
    "or a SIP endpoint ('sip:agent@phone.plivo.com'; at most 128 characters before the @)"
)
# recording_storage_duration is a number of days since the recording was made, at least 1
# (Plivo's documented minimum): a century is past any recording a provider holds, and keeps an
# absurd value out of the query.
STORAGE_DAYS_MAX = 36_500


def epoch_ms_time(value: Any) -> dt.datetime:
    """A recording's start or end in epoch milliseconds; one after 1970 and before
    :data:`EPOCH_MS_MIN` is unreadable.

    Examples
    --------
    >>> epoch_ms_time("1734081441409.00000").isoformat()
    '2024-12-13T09:17:21.409000+00:00'
    >>> epoch_ms_time("0") == UNIX_EPOCH  # the placeholder, null in the unified frame
    True
    >>> epoch_ms_time("1e3")
    Traceback (most recent call last):
    ...
    recanalytics.parsers.Invalid
    """
    moment = as_epoch_ms_time(value)
    if UNIX_EPOCH < moment < UNIX_EPOCH + dt.timedelta(milliseconds=EPOCH_MS_MIN):
        raise Invalid
    return moment


def _offset(params: Any) -> int | None:
    value = dict(params or ()).get("offset")
    return int(value) if isinstance(value, str) and value.isdigit() else None


@dataclass
class PlivoPager(LinkPager):
    """Follow ``meta.next``, which carries ``limit`` and either an ``offset`` (legacy) or an
    opaque ``cursor`` (offsets ignored, or applied and so never to be sent with a cursor).

    Like plivo-python, it steps ``offset`` itself only for an answer without ``meta``, and only
    while walking by offset. It steps by the records the page held, not by the ``limit`` asked
    (a server may honour a smaller one), and goes on until an empty page, or a page shorter
    than an earlier one (the last of a server that fills its pages).
    """

    path: tuple[str, ...] = ("meta", "next")
    fallback: tuple[str, ...] = ()
    # meta.next is a link from Plivo's root (/v1/Account/…): behind a base_url with a path (a
    # gateway passing Plivo's answers through), it is asked under that path.
    api_root: str = API_ROOT
    limit: int = PAGE_SIZE_MAX
    offset: int | None = 0
    widest: int = 0  # the most records a page held so far

    def cursor(self, body: Any) -> str | None:
        # A meta that is not an object, or a next link that is neither a link nor null, says
        # no more than a missing meta: step by offsets.
        meta = body.get("meta") if isinstance(body, dict) else None
        if isinstance(body, dict) and not isinstance(dig(meta, "next"), str | None):
            meta = None
        if isinstance(body, dict) and not isinstance(meta, dict):
            records = body.get("objects")
            held = len(records) if isinstance(records, list) else 0
            last = held == 0 or held < self.widest
            self.widest = max(self.widest, held)
            if not last and self.offset is not None:
                return f"?limit={self.limit}&offset={self.offset + held}"
            return None
        return super().cursor(body)

    def request_for(self, cursor: str) -> PageRequest:
        request = super().request_for(cursor)
        params = request.params or ()
        if any(k == "cursor" for k, _ in params):
            # A cursor supersedes an offset, even one its link carries (plivo-python 4.63).
            params = [(k, v) for k, v in params if k != "offset"]
            request = PageRequest(request.url, params)
        self.offset = _offset(params)
        return request


@dataclasses.dataclass(frozen=True)
class PlivoRecordings(Endpoint):
    """Pages follow ``meta.next``; offsets are fanned out concurrently only once the server has
    shown it honours them (see :meth:`fetch`). A load for ``[since, until)`` keeps the rows in
    it (the range is asked :data:`ZONE_MARGIN` wider)."""

    since: dt.datetime | None = None
    until: dt.datetime | None = None

    def dedupe(self, raw: pl.DataFrame) -> pl.DataFrame:
        kept = super().dedupe(raw)
        return trim_to_range(kept, pl.col("add_time"), self.since, self.until, self.provider.name)

    def pager(self, ctx: Context, first: PageRequest) -> PlivoPager:
        limit = int(dict(first.params or ()).get("limit", PAGE_SIZE_MAX))
        offset = _offset(first.params) or 0
        return PlivoPager(
            self.provider.name, first, max_pages=ctx.max_pages, limit=limit, offset=offset
        )

    def total(self, body: Any) -> int | None:
        value = dig(body, "meta", "total_count")
        try:
            total = None if value is None or isinstance(value, bool) else int(value)
        except (TypeError, ValueError, OverflowError):  # OverflowError: 1e400 reads as inf
            return None
        return total if total is None or total <= TOTAL_MAX else None

    async def fetch(
        self, session: Session, ctx: Context, first: PageRequest, spec: RecordSpec, query: Query
    ) -> None:
        """Page the window; page it again while its ``total_count`` fell during a pass
        (:meth:`Endpoint.steady_passes`: offsets move when a recording is deleted)."""

        async def one_pass() -> Query:
            query.shrank = False
            await self.page_window(session, ctx, first, spec, query)
            return query

        await self.steady_passes(one_pass)

    async def page_window(
        self, session: Session, ctx: Context, first: PageRequest, spec: RecordSpec, query: Query
    ) -> None:
        """Page 1, then every other offset at once when the server honours offsets, else
        (or where offsets left gaps) the ``meta.next`` links one by one.

        A deployment may serve offset, cursor or hybrid paging (plivo-python 4.63). The proof
        that offsets work is the page at ``offset=limit``: it must hold records page 1 did not.
        ``total_count`` then plans the offsets and, at the end, checks that nothing is missing.
        """
        limit = int(dict(first.params or ()).get("limit", PAGE_SIZE_MAX))
        page: Page | None = await self.get_page(session, first, spec, query)
        assert page is not None
        planned = query.total is not None and query.total > limit and page.size >= limit
        planned = planned and ctx.max_pages > 1  # else the walk below meets the page cap
        if planned and dig(page.body, "meta", "next"):
            # Read on trial: a server that ignores offsets answers page 1 again, whose rows
            # without an id would then be kept twice. The probe's page joins the query only
            # once it has shown offsets work.
            # It goes on from the query's totals (the progress bar has counted them already).
            trial = Query([], spec.batch(), total=query.total, latest_total=query.latest_total)
            second = offset_request(first, limit, limit)
            probe = await self.get_page(session, second, spec, trial)
            if probe.ids - page.ids:
                query.absorb(trial)
                tail = await self.fan_out(session, ctx, first, spec, query, page, (second, probe))
                if tail is not None:
                    # total_count is a cross-check, not a plan: a count lower than the list
                    # leaves the last planned page full and pointing on.
                    log.info("plivo: the list goes on past total_count; following meta.next")
                    await self.walk(session, ctx, tail[0], spec, query, tail[1])
                if query.total is None or query.loaded >= query.total:
                    return
                log.info("plivo: offsets left records out; following meta.next from page 1")
                await self.walk_again(session, ctx, first, spec, query)
                await self.complete(session, ctx, first, spec, query)
                return
        await self.walk(session, ctx, first, spec, query, page)
        await self.complete(session, ctx, first, spec, query)

    async def fan_out(
        self,
        session: Session,
        ctx: Context,
        first: PageRequest,
        spec: RecordSpec,
        query: Query,
        top: Page,
        second: tuple[PageRequest, Page],
    ) -> tuple[PageRequest, Page] | None:
        """Fetch offsets ``2·limit`` … ``total_count`` concurrently (pages 1 and 2 are in;
        ``top`` is page 1's answer, ``second`` page 2's request and answer).

        Offsets are taken in order by as many tasks as the load may have requests in flight,
        and none past the first short page is asked for, so an inflated ``total_count`` costs
        a few empty pages, not one per offset it names. Returns the last page and its request
        when it is full and points on (the list is longer than ``total_count`` said), else
        None.
        """
        limit = int(dict(second[0].params or ())["limit"])
        # Its total_count is all that would show a page answered for another offset: one that
        # holds records already read counts them once, so a count one low hid the page it
        # stood for. Where the probe echoed its own offset, an answer echoing another is
        # asked for again; a server echoing none, or a fixed one, is not doubted.
        echoes = echoed_offset(second[1].body) == limit
        covered = 2 * limit
        # The lowest offset whose page came back short (the list's end), and every page read.
        end: int | None = None if second[1].size >= limit else limit
        read: dict[int, tuple[PageRequest, Page]] = {0: (first, top), limit: second}
        while end is None and query.latest_total is not None and covered < query.latest_total:
            offsets = range(covered, query.latest_total, limit)
            if covered // limit + len(offsets) > ctx.max_pages:
                raise PaginationError(
                    self.provider.name,
                    f"{query.latest_total} records need more than the page cap of {ctx.max_pages} "
                    "pages; pass a narrower since/until or a larger max_pages",
                )

            async def fetch_offsets(todo: Iterator[int]) -> None:
                nonlocal end
                for offset in todo:
                    if end is not None and offset > end:
                        return
                    request = offset_request(first, limit, offset)
                    page = await self.offset_page(session, request, spec, query, echoes)
                    if page.size < limit and (end is None or offset < end):
                        end = offset
                    read[offset] = (request, page)

            todo = iter(offsets)  # shared: each task takes the next offset not yet asked
            tasks = [fetch_offsets(todo) for _ in range(min(ctx.limits.concurrency, len(offsets)))]
            for outcome in await asyncio.gather(*tasks, return_exceptions=True):
                if isinstance(outcome, BaseException):
                    raise outcome
            # Recordings added while paging shift older ones to higher offsets (duplicates are
            # removed by recording_id); a grown total_count means the tail moved past the
            # offsets planned so far, so fetch it too.
            covered += limit * len(offsets)
        await self.mend_shifts(session, spec, query, read, limit, echoes)
        last = read[max(read)]
        short = any(page.size < limit for _, page in read.values())
        if not short and dig(last[1].body, "meta", "next"):
            return last
        return None

    async def mend_shifts(
        self,
        session: Session,
        spec: RecordSpec,
        query: Query,
        read: dict[int, tuple[PageRequest, Page]],
        limit: int,
        echoes: bool,
    ) -> None:
        """Read again, in order, the pages above one the list moved under (``read``: every
        page of the fan-out by offset, updated in place).

        A page whose first record was on the page below it was answered after recordings
        were added (every older one moved up an offset); a page above it answered earlier
        (pages are asked at once, and a retried one comes late) skipped what moved between
        them, and only a ``total_count`` that counts the additions shows it: one too low by
        as many hid the loss. So the page above is read again after it, and the next one up
        while a new reading differs from the first: one request per addition, as pages are
        usually answered in order.
        """
        moved = False
        offset = limit
        while offset in read:
            request, page = read[offset]
            if moved:
                again = await self.offset_page(session, request, spec, query, echoes)
                moved = again.keys != page.keys
                read[offset] = (request, again)
            else:
                below = read[offset - limit][1]
                moved = bool(page.keys) and page.keys[0] in below.ids
            offset += limit
        if moved and read[offset - limit][1].size >= limit:
            # The top page moved and is full: what it pushed up is past it.
            request = offset_request(read[0][0], limit, offset)
            read[offset] = (request, await self.offset_page(session, request, spec, query, echoes))

    async def offset_page(
        self, session: Session, request: PageRequest, spec: RecordSpec, query: Query, echoes: bool
    ) -> Page:
        """The page at ``request``'s offset; where the server echoes offsets (``echoes``), an
        answer echoing another is asked for again (:func:`misplaced`)."""
        offset = _offset(request.params)
        check = functools.partial(misplaced, offset) if echoes and offset is not None else None
        return await self.get_page(session, request, spec, query, answers=check)

    def unified(self, raw: pl.LazyFrame) -> pl.LazyFrame:
        # The format field, else the media URL's extension.
        fmt = pl.coalesce(
            pl.col("recording_format"),
            pl.col("recording_url").str.extract(r"\.([A-Za-z0-9]+)(?:\?|$)", 1).str.to_lowercase(),
        )
        # 0 ms (1970) is a placeholder for a time not known, as "-1" is for the duration: a
        # start of 0 made end - start a duration of 56 years.
        start, end = (
            pl.when(pl.col(c) > UNIX_EPOCH).then(pl.col(c))
            for c in ("recording_start_ms", "recording_end_ms")
        )
        # Not rounded_recording_duration: it rounds up to whole minutes (2 s reads 60 s), no
        # recording's length; it stays in the raw frame.
        duration = pl.coalesce(
            pl.col("recording_duration_ms").round(0).cast(pl.Int64).cast(pl.Duration("ms")),
            pl.when(end >= start).then(end - start).cast(pl.Duration("ms")),
        )
        name = present("conference_name")
        cost = pl.col("monthly_recording_storage_amount").abs()
        return raw.select(
            provider=pl.lit("plivo"),
            kind=pl.when(pl.col("recording_type") == "conference")
            .then(pl.lit("conference"))
            .otherwise(pl.lit("call")),
            recording_id=pl.col("recording_id"),
            account_id=pl.col("resource_uri").str.extract(r"/Account/([^/]+)/", 1),
            group_id=pl.coalesce(
                present("conference_uuid"), present("mpc_uuid"), present("call_uuid")
            ),
            # "noname" is Plivo's placeholder when a recording has no conference name.
            group_name=pl.coalesce(
                pl.when(name.str.to_lowercase() != "noname").then(name), present("mpc_name")
            ),
            # Plivo has no status field: it lists only stored recordings. A status it may send
            # one day is kept.
            status=pl.coalesce(pl.col("status"), pl.lit("completed")),
            media_type=pl.lit("audio"),
            codec=pl.when(fmt == "mp3")
            .then(pl.lit("mp3"))
            .when(fmt == "wav")
            .then(pl.lit("pcm_s16le")),
            container=fmt,
            created_at=pl.col("add_time"),
            started_at=start,
            ended_at=end,
            duration=duration,
            cost=cost,
            cost_unit=pl.when(cost.is_not_null()).then(pl.lit("USD")),
            media_url=pl.col("recording_url"),
        )


RECORDINGS = PlivoRecordings(
    provider=PLIVO,
    list_key="objects",
    id_column="recording_id",
    identity_columns=("add_time", "call_uuid", "conference_uuid"),
    fields=(
        F("recording_id"),
        F("call_uuid"),
        F("conference_name"),
        F("conference_uuid"),
        F("mpc_name"),
        F("mpc_uuid"),
        F("from_number"),
        F("to_number"),
        F("recording_type", parse=as_lower),
        F("recording_format", parse=as_lower),
        F("status", parse=as_lower),
        F("add_time", UTC_TIME, as_iso_time),
        F("recording_start_ms", UTC_TIME, epoch_ms_time),
        F("recording_end_ms", UTC_TIME, epoch_ms_time),
        F("recording_duration_ms", pl.Float64, as_milliseconds),
        F("rounded_recording_duration", pl.Int64, as_seconds),
        F("recording_storage_duration", pl.Int64, as_count),
        F("recording_storage_rate", pl.Float64, as_float),
        F("monthly_recording_storage_amount", pl.Float64, as_float),
        F("recording_url"),
        F("resource_uri"),
    ),
)


def echoed_offset(body: Any) -> int | None:
    """The ``meta.offset`` an answer says it starts at (a number or digits), else None."""
    echoed = dig(body, "meta", "offset")
    if isinstance(echoed, int) and not isinstance(echoed, bool):
        return echoed
    return (
        int(echoed) if isinstance(echoed, str) and echoed.isascii() and echoed.isdigit() else None
    )


def misplaced(offset: int, body: Any) -> str | None:
    """Why a fanned-out page's answer is another offset's page (a cache or proxy mixing pages
    up), or None. An answer that echoes no offset is taken as it is.

    Examples
    --------
    >>> misplaced(40, {"meta": {"offset": 20}})
    'answered the page at offset 20 when asked for offset 40'
    >>> misplaced(40, {"meta": {"offset": "40"}}) is None
    True
    """
    echoed = echoed_offset(body)
    if echoed is None or echoed == offset:
        return None
    return f"answered the page at offset {echoed} when asked for offset {offset}"


def offset_request(first: PageRequest, limit: int, offset: int) -> PageRequest:
    """``first`` at another offset (used only once offsets are known to be honoured)."""
    params = [(k, v) for k, v in (first.params or ()) if k not in ("offset", "limit", "cursor")]
    return PageRequest(first.url, [*params, ("limit", str(limit)), ("offset", str(offset))])


def plivo_time(moment: dt.datetime) -> str:
    """``YYYY-MM-DD HH:MM:ss[.uuuuuu]`` in UTC, the form the ``add_time`` filters take."""
    utc = moment.astimezone(dt.UTC)
    return utc.strftime("%Y-%m-%d %H:%M:%S.%f" if utc.microsecond else "%Y-%m-%d %H:%M:%S")


def horizon(end: dt.datetime | None) -> Horizon:
    """Where a load asking up to ``end`` (None: open) stops: just past the system clock's now
    at the latest, then the provider's (:class:`~recanalytics.clock.Horizon`)."""
    planned = ceil_second(clock.now())
    return Horizon(end, ZONE_MARGIN, CLOCK_SLACK, planned)


def add_time_windows(
    start: dt.datetime | None,
    end: dt.datetime | None,
    span: dt.timedelta = MAX_SPAN,
    planned: Horizon | None = None,
) -> list[Window]:
    """``[since, until)`` as windows of at most ``span`` (30 days), ending just past the
    system clock's now at the latest (``planned``, default :func:`horizon`).

    Without ``since`` there is one window: Plivo then searches only the last 7 days.
    """
    if start is None:
        return [Window(None, end)]
    stop = (planned or horizon(end)).end(start)
    if start >= stop:
        return []  # the whole range is in the future: nothing to ask for
    return split_max_span(start, stop, span)


def refuses_range(error: ProviderError) -> bool:
    """A 400 on a request that carried an ``add_time`` range (one wider than the API allows)."""
    return error.status == 400 and "add_time__gte" in unquote(error.url)


def window_params(window: Window) -> list[tuple[str, str]]:
    params = []
    if window.start is not None:
        params.append(("add_time__gte", plivo_time(window.start)))
    if window.end is not None:
        params.append(("add_time__lt", plivo_time(window.end)))
    return params


async def aload_plivo_recordings(
    *,
    since: WhenLike | None = None,
    until: WhenLike | None = None,
    call_uuid: str | None = None,
    conference_name: str | None = None,
    conference_uuid: str | None = None,
    from_number: str | None = None,
    to_number: str | None = None,
    subaccount: str | None = None,
    mpc_name: str | None = None,
    mpc_uuid: str | None = None,
    storage_days: int | None = None,
    min_storage_days: int | None = None,
    max_storage_days: int | None = None,
    page_size: int = PAGE_SIZE_MAX,
    **options: Unpack[LoadOptions],
) -> pl.DataFrame:
    """Load Plivo recordings (``GET /v1/Account/{auth_id}/Recording/``) into the unified frame.

    ``since``/``until`` is split into ``add_time`` windows of at most 30 days (Plivo's limit),
    loaded concurrently; within a window, every offset after page 1 is fetched concurrently.
    Rows are de-duplicated by ``recording_id``.

    Without ``since``, Plivo searches only the last 7 days (``until`` still applies): a
    :class:`~recanalytics.errors.LoadWarning` says so. Without ``until``, the load runs to now.

    Parameters
    ----------
    since, until : str, date or datetime, optional
        Added at or after ``since`` and before ``until``; naive is UTC. Sent as
        ``add_time__gte`` / ``add_time__lt`` 14 hours wider (:data:`ZONE_MARGIN`), the rows
        trimmed to the range.
    call_uuid, conference_name, conference_uuid, mpc_name, mpc_uuid : str, optional
        Exact matches.
    from_number, to_number : str, optional
        E.164 number (with or without ``+``) or SIP endpoint (``sip:user@host``).
    subaccount : str, optional
        A subaccount auth id (``SA`` + 18 characters).
    storage_days, min_storage_days, max_storage_days : int, optional
        ``recording_storage_duration`` (days the recording has been stored) equal to, at least,
        or at most this: 1 (Plivo's minimum) to 36,500.
    page_size : int, default 20
        1 to 20.
    **options
        :class:`~recanalytics.options.LoadOptions`: ``credentials``, ``base_url``,
        ``transport``, ``progress``, ``max_concurrency``, ``rate_limit``, ``retry``, ``raw`` …

    Returns
    -------
    polars.DataFrame
        One row per recording, columns as :data:`recanalytics.SCHEMA`: kind ``conference`` or
        ``call``, ``group_id`` the conference (or multiparty call, or call) UUID, ``cost`` the
        monthly storage amount in USD (a charge per month kept, not a one-off price),
        ``size_bytes`` null (Plivo gives no size).

    Examples
    --------
    >>> import recanalytics as ra
    >>> from recanalytics.sandbox import Sandbox
    >>> box = Sandbox(seed=1, size=200)
    >>> import asyncio
    >>> df = asyncio.run(ra.aload_plivo_recordings(since="2025-01-01", **box.options("plivo")))
    >>> df["provider"].unique().to_list()
    ['plivo']
    """
    params: list[tuple[str, str]] = []
    for name, value in (("conference_name", conference_name), ("mpc_name", mpc_name)):
        if value is not None:
            params.append((name, validate.text(value, name, max_length=256)))
    for name, value in (
        ("call_uuid", call_uuid),
        ("conference_uuid", conference_uuid),
        ("mpc_uuid", mpc_uuid),
    ):
        if value is not None:
            params.append((name, validate.pattern(value, name, RECORDING_ID_RE, ID_FORM)))
    for name, value in (("from_number", from_number), ("to_number", to_number)):
        if value is not None:
            params.append((name, validate.pattern(value, name, NUMBER_RE, NUMBER_FORM)))
    if subaccount is not None:
        form = "a subaccount auth id: 'SA' followed by 18 letters or digits"
        params.append(
            ("subaccount", validate.pattern(subaccount, "subaccount", SUBACCOUNT_RE, form))
        )
    for option, given, suffix in (
        ("storage_days", storage_days, ""),
        ("min_storage_days", min_storage_days, "__gte"),
        ("max_storage_days", max_storage_days, "__lte"),
    ):
        if given is not None:
            days = validate.int_range(given, option, 1, STORAGE_DAYS_MAX)
            params.append((f"recording_storage_duration{suffix}", str(days)))
    if (
        min_storage_days is not None
        and max_storage_days is not None
        and min_storage_days > max_storage_days
    ):
        raise ConfigError(
            "min_storage_days",
            f"at most max_storage_days ({max_storage_days}): the range would be empty",
            min_storage_days,
        )
    limit = validate.int_range(page_size, "page_size", 1, PAGE_SIZE_MAX)
    start, end = parse_range(since, until)
    ctx = resolve(PLIVO, options)
    if start is None:
        warn_user(
            "plivo: no since given, and Plivo then searches only the last 7 days; "
            "pass since= to load an older history"
        )
    url = ctx.url(recordings_path(ctx))
    asked_start = None if start is None else start - ZONE_MARGIN
    asked_end = None if end is None else end + ZONE_MARGIN
    endpoint = dataclasses.replace(RECORDINGS, since=start, until=end)

    def query(window: Window) -> PageRequest:
        return PageRequest(
            url, [*params, *window_params(window), ("limit", str(limit)), ("offset", "0")]
        )

    async def attempt(span: dt.timedelta) -> pl.DataFrame:
        planned = horizon(asked_end)
        windows = add_time_windows(asked_start, asked_end, span, planned)

        def more(server_now: dt.datetime | None) -> list[PageRequest]:
            if asked_start is None:
                return []  # one window, up to until as given: no clock cut it
            # A system clock behind Plivo's: the windows up to Plivo's now are asked too.
            rest = planned.rest(server_now, asked_start)
            planned.say(PLIVO.name, server_now, asked_start, asked=rest is not None)
            if rest is None or rest.start is None or rest.end is None:
                return []
            return [query(w) for w in split_max_span(rest.start, rest.end, span)]

        return await collect(endpoint, ctx, [query(w) for w in windows], more=more)

    return await first_accepted(attempt, SPANS, refuses_range, PLIVO.name)


def recordings_path(ctx: Context) -> str:
    """``/v1/Account/{auth_id}/Recording/``; Plivo wants the trailing slash on every path."""
    credentials = ctx.credentials
    assert isinstance(credentials, PlivoCredentials)
    return f"{API_ROOT}Account/{credentials.auth_id}/Recording/"


async def aget_plivo_recording(recording_id: str, **options: Unpack[LoadOptions]) -> pl.DataFrame:
    """Retrieve one Plivo recording (``GET …/Recording/{recording_id}/``) as a 1-row frame.

    Parameters
    ----------
    recording_id : str
        The recording's id (UUID-like).

    Examples
    --------
    >>> rid = box["plivo"].recordings.records[0].recording_id
    >>> import asyncio
    >>> one = asyncio.run(ra.aget_plivo_recording(rid, **box.options("plivo")))
    """
    validate.pattern(recording_id, "recording_id", RECORDING_ID_RE, ID_FORM)
    ctx = resolve(PLIVO, options)
    url = ctx.url(f"{recordings_path(ctx)}{recording_id}/")
    return await fetch_one(RECORDINGS, ctx, url, asked=("recording_id", recording_id))


load_plivo_recordings = syncify(aload_plivo_recordings, "load_plivo_recordings")
get_plivo_recording = syncify(aget_plivo_recording, "get_plivo_recording")

# A deleted recording is gone from the list (Plivo lists only stored recordings).
LOADER = Loader(
    "plivo", ("call", "conference"), aload_plivo_recordings, RECORDINGS, drops_deleted=True
)
"""What ``load()`` runs for this endpoint, and the kinds of rows it returns."""
