"""Date windows that follow the data: every request slot stays busy however the rows are spread.

Cursor lists are paged strictly in order, so a load is as parallel as its windows are. Even
windows are only right for evenly spread data, and the common calls are not like that: no
range at all, a range that starts years before the data, most rows in the last month. So:

- the load starts as one window over the whole range; its first page (lists come newest first,
  but see below) says how dense the data is near its top, and the idle workers take the rest in
  pieces. With no ``since`` the pieces reach down to the provider's epoch (the oldest piece
  stays open below it, so nothing older is missed), and with no ``until`` the window stays
  open (rows created while loading are found);
- on a newest-first list a page says how far down its window has been read: everything in
  ``[oldest row on the page, window end)`` is in. When another worker is idle and the rest of
  the window holds more than a page at the density seen so far, the window stops there and its
  rest ``[window start, oldest + a minute]`` is split among the idle workers and itself (the
  minute above the oldest row is read twice, as a filter may read a time a little off the
  rows' own: :data:`REREAD`; rows are de-duplicated by id). The pieces grow geometrically
  going back, the newest holding a few pages at the density read, by a few percent a piece at
  most: the oldest takes all that is left, so a history that thins out, or starts long after
  the epoch, costs one empty request rather than one per piece, and a dense one is split again
  on its first page.
- only SignalWire documents its list as newest first (``Endpoint.documented_newest_first``);
  Twilio's order is not documented. A window is split only while all its pages run newest
  first, each page's newest row no newer than the previous page's oldest, over
  :data:`DENSITY_ROWS` rows at least (one page of a list sorted by room, then newest first,
  runs newest first; so does a page of two rows in any order, one time in two). Where the
  order is not documented, every split also hands out ``[cut, window end)``, the part the
  split takes as read, as a check: a window walked whole, never split. On a newest-first list
  it lists again rows the window read (one short page for a split on a first page); on any
  other list it reads the rows the split would have lost, and once it lists a row the
  window's last pages had not shown after one they had, no window is split any more (a debug
  log says so). A window that has read more than one page is split only when its rest holds
  :data:`RECHECK_WORTH` times as many pages as its check would read again.
- a window is split only as far as the rate needs: each walks one page at a time, so about
  ``rate × page time`` windows keep the rate busy (``Plan.spare``; page times are measured as
  the load goes). Beyond that, pieces would only wait for the limiter, and each ends on a
  partial page that costs a request; against a server a few milliseconds away the first
  window walks alone. Pieces hold at least ``MIN_PIECE_PAGES`` pages, except while the rate
  is mostly unspent (the load's first split, its tail): then a window's rest is cut into
  half-page pieces when the rate allows all of them at once, so a small load arrives one round
  trip after its first page, and a large one does not end on windows walking their last pages
  one round trip at a time.
- a density is read from :data:`DENSITY_ROWS` rows at least, and a piece is cut to hold that
  many at the density read: rows come in bursts (a room's tracks within a second), so a page of
  a few rows (``page_size=3``) read as thousands of pages a day, and every piece of a split was
  split again on its first page, each ending on a partial page (a request for a row or two).
  A window whose pages hold fewer rows walks on with the share of its parent's estimate it
  was given.
- a load ends when its last window does: each window keeps an estimate of the pages it still
  holds (``Plan.left``), and one that would walk on after the rate has got through all of
  them is split whether or not a worker is idle (``Plan.lanes``); its pieces wait for the
  workers the other windows free.
- a record without a creation date matches no date window: a window without date filters
  (a load without ``since``/``until`` starts with one) whose page shows such a record is
  walked on whole, never split;
- a page whose rows all lie a minute or more outside its window shows a server that does not
  apply the date filters (one that cannot read their format), or applies them coarsely (to the
  day, say), or to another field: the whole list is then read once
  by one window without date filters, unsplit; the other windows stop at their next page
  (keeping what they read), pending ones are dropped, and the rows are trimmed to
  ``since``/``until`` at the end (a ``LoadWarning`` says so). Splitting on would never end:
  every piece is answered with the whole list again.

The client-side pacing (rate limit, concurrency cap) is the engine's, so more windows never mean
more than the provider allows: they only keep its allowance used.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import logging
import math
import time
import warnings
from collections import deque
from collections.abc import Callable, Sequence
from typing import NamedTuple

import polars as pl

from recanalytics import clock
from recanalytics.engine import RateLimiter
from recanalytics.errors import LoadWarning, warn_user
from recanalytics.fields import PageBatch, RecordSpec
from recanalytics.options import Context
from recanalytics.paging import PageRequest
from recanalytics.providers.base import Endpoint, Page, Query, finish_load, shown_window
from recanalytics.providers.common import OUTSIDE_NOTE
from recanalytics.windows import Window

log = logging.getLogger("recanalytics")

SECOND = dt.timedelta(seconds=1)
# How much of what a window's pages read its rest asks for again: the edge second (rows sharing
# the oldest row's second may be on the next page), and more, as the date filter may be applied
# to a time a little off the one a page's rows are placed by (Twilio's docs say its tracks
# filter by when they "started"). The rows read twice are de-duplicated.
REREAD = dt.timedelta(minutes=1)
# How far outside its window a row must be to show the server did not apply the date filters
# as sent: past any edge second read twice or inclusive reading of a whole-second filter. A
# server that rounds them coarser (to the day) is read whole as well: its pieces would each
# walk the margin its rounding adds (a day of rows around a piece of a few minutes).
UNFILTERED_SLACK = dt.timedelta(minutes=1)
# Pages the newest piece of a split should hold at the density read so far (fewer when the
# whole rest, spread evenly, gives each piece fewer). A few pages made the newest pieces end
# early and the older ones straggle: each straggler split costs partial pages (three: 224
# requests for 200 pages at 200 ms; eight: 216).
NEAR_PAGES = 8
# Going back, each piece is at most this much longer than the one after it; when such pieces do
# not reach the window's start, the oldest one takes all that is left. A history that starts
# long before its data (no ``since``: the provider's epoch) then costs one empty request
# instead of one a piece (nine to fourteen, growing to reach 2015), and a dense old history is
# split again when its first page says so (:meth:`Plan.lanes`).
MAX_GROWTH = 1.05
# Pages a piece of a later split should hold at least: each piece ends on a partial page, a
# request the rate has to pay for (one page a piece took 240-270 requests for 200 pages, past
# three of Twilio's 80-request seconds; two, 220-250).
MIN_PIECE_PAGES = 2
# Rows a window's pages must hold before their density is read, and that a piece of a split
# should hold at least at that density. Rows come in bursts (a room's tracks are created within
# seconds of each other), so a page of three or five rows is often one room, which reads as
# thousands of pages a day: every piece of a window was split again on its first page, and a
# load of 300 tracks at ``page_size=3`` took 1,062 requests for 100 pages. Each piece costs a
# request beyond its rows (its partial last page), and a piece estimated at a row or two is
# as likely empty as not. Neither limit binds at the default page sizes (100, 1,000).
DENSITY_ROWS = 20
# Windows walked at once, beyond those that keep the rate busy at the page time seen: page
# times vary from window to window and from moment to moment.
SPARE_FACTOR = 1.5
# The shortest page time taken as measured, in seconds: rates are divided by page times, and a
# clock that ticks coarsely (time.monotonic on Windows before Python 3.13: every 15.6 ms) reads
# a page answered within one tick as taking none. Pages are timed by time.perf_counter.
SHORTEST_PAGE = 1e-6
# A window is a straggler when walking its rest alone would take this much longer than the
# rate needs for everything left in the load: it then goes on in pieces.
STRAGGLER_SLACK = 1.25
# A split on an endpoint without a documented order costs a check (see ``Plan.checks``): the
# rows the window read above its cut read again, one page after another, about as many pages
# as the window read. A window that has read more than one page is split only when its rest is
# estimated at this many times as many pages: else the check ends about when the window walking
# on would, for as many requests more (six loads of 20,000 tracks at 200 ms: 1,553-1,563
# requests with every split checked, 1,384-1,455 so, 1,337-1,379 before checks).
RECHECK_WORTH = 2.0
# The last pages of a window whose rows its check (see ``Plan.checks``) expects to find again.
# On a newest-first list they are the end of what the check lists, so one of the check's rows
# that none of them showed, listed after one that they did, is out of that order; rows listed
# before (created since the window's first page, or on its earlier pages) prove nothing.
SHOWN_PAGES = 4


class Plan:
    """The windows still to load, shared by the workers, and how many of them are idle."""

    def __init__(self, windows: Sequence[Window], workers: int) -> None:
        self.pending: deque[Window] = deque(windows)
        self.workers = workers
        self.waiting = 0
        self.done = False
        self.changed = asyncio.Condition()
        self.page_time: float | None = None  # seconds from one page of a window to its next
        # Pages each unfinished window (walking or pending, by id) is estimated to hold still.
        self.left: dict[int, float] = {}
        # The window (by id) that reads the whole list, once a page shows the server ignores
        # the date filters (see outside).
        self.whole_list: int | None = None
        # Windows (by id) that read again the part of a split window its pages were taken to
        # have read, walked whole: the ids of the rows the split window's last pages showed.
        self.checks: dict[int, frozenset[int]] = {}
        # Windows (by id) within what a split window's pages had read (above the oldest row
        # they listed, the edge a split re-reads): an empty answer there is no doubt.
        self.read_before: set[int] = set()
        # Whether windows may still be split: not once a check has found a row the pages of
        # its split window had not shown (the list is not newest first).
        self.splitting = True

    def observe(self, seconds: float) -> None:
        """One more page-to-page time of a window (request, limiter wait and parse); under
        :data:`SHORTEST_PAGE`, that."""
        seconds = max(seconds, SHORTEST_PAGE)
        if self.page_time is None:
            self.page_time = seconds
        else:
            self.page_time += (seconds - self.page_time) / 4

    def spare(self, rate: float) -> int:
        """How many more windows could be walked at once without waiting for the rate.

        Each window walks one page at a time, so ``rate × page time`` windows keep the rate
        busy. Fewer leave requests unsent; more only wait for the limiter, and every window
        costs a partial last page. With a round trip of a few milliseconds (a server next
        door) one window is enough; at 200 ms, about twenty for Twilio's 80 per second.
        """
        if self.page_time is None:
            return self.waiting
        busy = self.workers - self.waiting
        wanted = math.ceil(rate * self.page_time * SPARE_FACTOR)
        return max(0, min(self.waiting, wanted - busy))

    def lanes(self, pages: float, rate: float, room: int | None = None) -> int:
        """Into how many pieces a window with ``pages`` left should go so that it does not end
        after the rest of the load (0: it will not).

        The load needs about ``remaining / rate`` more seconds at the rate (or a page time,
        whichever is longer; or at what the workers can do, when that is less); a window walks
        one page per page time. Near a load's end the last windows would walk their last pages
        one round trip each while the rate idles. When everything left fits in one page time
        even as half pages, and the rate has ``room`` for them now (unlimited when None), the
        pieces are half-page ones, which arrive in one round trip. Otherwise they hold a page
        or more: each piece ends on a partial page, a request the rate has to pay for.

        Examples
        --------
        >>> plan = Plan([], workers=24)
        >>> plan.observe(0.25)
        >>> plan.left = {1: 40.0, 2: 3.0}  # two windows' estimates, in pages
        >>> plan.lanes(40.0, 80.0), plan.lanes(3.0, 80.0)
        (19, 2)
        """
        if self.page_time is None or pages <= 1:
            return 0
        # Pages per second the load can go at: the rate, or what the workers get through one
        # page time at a time when that is less (a rate set far above what the server and
        # this client can do: more pieces would only take turns, each ending on a partial
        # page).
        rate = min(rate, self.workers / self.page_time)
        remaining = sum(self.left.values())
        ahead = max(remaining / rate, self.page_time)
        alone = pages * self.page_time
        if alone <= STRAGGLER_SLACK * ahead:
            return 0
        # More pieces than workers would only wait for one another.
        half_pages = 2 * remaining
        if half_pages <= rate * self.page_time and (room is None or half_pages <= room):
            return min(self.workers, math.ceil(2 * pages))
        return min(self.workers, math.ceil(alone / ahead))

    async def read_whole(self) -> None:
        """Read the whole list once, in one window without date filters: no other window is
        needed, so pending ones are dropped and walking ones stop at their next page (what
        they read is kept)."""
        whole = Window(None, None)
        async with self.changed:
            self.whole_list = id(whole)
            for dropped in self.pending:
                self.left.pop(id(dropped), None)
                self.checks.pop(id(dropped), None)
                self.read_before.discard(id(dropped))
            self.pending.clear()
            self.pending.append(whole)
            self.changed.notify_all()

    async def take(self) -> Window | None:
        """The next window, or None once every worker is idle and nothing is left."""
        async with self.changed:
            while not self.pending and not self.done:
                self.waiting += 1
                if self.waiting >= self.workers:
                    self.done = True
                    self.changed.notify_all()
                else:
                    await self.changed.wait()
                self.waiting -= 1
            return self.pending.popleft() if self.pending else None

    async def give(self, windows: Sequence[Window]) -> None:
        async with self.changed:
            self.pending.extend(windows)
            self.changed.notify_all()

    async def leave(self) -> None:
        """A worker stops (done or failed): the others must not wait for it."""
        async with self.changed:
            self.workers -= 1
            if self.waiting >= self.workers:
                self.done = True
                self.changed.notify_all()


def unspent(limiter: RateLimiter, room: int | None = None) -> int:
    """Requests the rate could start now, when it is mostly unspent (else 0): at a load's start
    and in its tail. There, half-page pieces bring a window's rest in one round trip for a
    partial page more per piece; in the middle of a large load the rate is the bottleneck and
    those requests are the rest of the load's. ``room`` is ``limiter.room()``, when the caller
    has it already."""
    if room is None:
        room = limiter.room()
    return room if 2 * room >= limiter.capacity else 0


def outside(window: Window, page: Page, by: dt.timedelta = dt.timedelta(0)) -> bool:
    """Whether every dated row of ``page`` lies outside ``window``, ``by`` or more.

    With :data:`UNFILTERED_SLACK`, it shows a server that does not apply the date filters as
    sent (one that cannot read their format answers every window with the whole list, one
    that rounds them to the day with a day around it): a server that filters never answers a
    page wholly outside the range asked for, and one odd row is not enough.
    """
    if page.oldest is None or page.newest is None:
        return False
    # Differences, not shifted edges: a row or a window at the ends of the calendar (year 1,
    # 9999-12-31) cannot be moved further.
    below = window.start is not None and window.start - page.newest > by
    above = window.end is not None and page.oldest - window.end >= by
    return below or above


def later(moment: dt.datetime, delta: dt.timedelta) -> dt.datetime:
    """``moment + delta``, or the calendar's last moment where that would pass it (a provider
    may date a row 9999-12-31T23:59:59Z)."""
    try:
        return moment + delta
    except OverflowError:
        return dt.datetime.max.replace(tzinfo=moment.tzinfo)


def listed_above(page: Page) -> dt.datetime:
    """The time from which a newest-first ``page`` listed every row of its window: the
    second after its oldest row but one's (rows sharing that second may be on the next page;
    the oldest row's own time may read too old). A page without dated rows: the latest time."""
    edge = page.oldest_but_one or page.oldest
    if edge is None:
        return dt.datetime.max.replace(tzinfo=dt.UTC)
    return later(ceil_to_second(edge), SECOND)


def ceil_to_second(moment: dt.datetime) -> dt.datetime:
    whole = moment.replace(microsecond=0)
    return whole if whole == moment else later(whole, SECOND)


class Unread(NamedTuple):
    """What a window's latest page says of the rest: ``[low, cut)`` at ``density`` rows/s."""

    low: dt.datetime
    cut: dt.datetime
    density: float
    pages: float


def unread(
    window: Window,
    page: Page,
    page_limit: int,
    epoch: dt.datetime,
    read_since: dt.datetime,
    rows_read: int,
    newest: dt.datetime | None = None,
    rest_end: Callable[[dt.datetime], dt.datetime] | None = None,
) -> Unread | None:
    """The unread rest of ``window`` after ``page`` (see :func:`rest_of` for the arguments),
    or None when the page says nothing of it: a partial page is the last, and a page that is
    not newest first (a server listing oldest first, or in no order) says nothing of where the
    rest lies. ``rest_end`` moves the rest's end later (to a filter edge the provider may
    read coarsely, such as the next midnight): what it re-reads is de-duplicated."""
    if page.oldest is None or page.size < page_limit or not page.newest_first:
        return None
    # From the row before the last: one row whose time reads too old must not make the rows
    # listed after it look read (what the rest re-reads is de-duplicated).
    cut = later(ceil_to_second(page.oldest_but_one or page.oldest), REREAD)
    if rest_end is not None:
        cut = max(cut, rest_end(cut))
    if window.end is not None:
        # Never past the window's own end: the rest split into pieces that reached it covered
        # the whole window again, whose first page said the same, and the load never ended
        # (more than a page of rows within a minute of the end).
        cut = min(cut, window.end)
    low = window.start or epoch
    top = window.end or read_since
    if page.oldest >= top:
        return None  # nothing of the window on the page: it says nothing of the window's rest
    if newest is not None and page.oldest <= newest < top:
        # Nothing is newer than the newest row read: the time above it (up to now, for an open
        # window over data that stopped a month ago) says nothing of the density.
        top = newest
    read = (top - page.oldest).total_seconds()
    rest = max(0.0, (page.oldest - low).total_seconds())
    # At the density of the rows read so far in this window, how many pages remain?
    density = rows_read / max(read, 1.0)
    return Unread(low, cut, density, density * rest / page_limit)


def rest_of(
    window: Window,
    page: Page,
    page_limit: int,
    epoch: dt.datetime,
    idle: int,
    read_since: dt.datetime,
    rows_read: int,
    newest: dt.datetime | None = None,
    room: int = 0,
    waiting: int = 0,
    lanes: int = 0,
    found: Unread | None = None,
    align: Callable[[dt.datetime], dt.datetime] | None = None,
) -> list[Window]:
    """The unread rest of ``window`` split for ``idle + 1`` workers, or [] when not worth it.

    ``page`` is the latest page of the window (newest first), ``rows_read`` the rows its pages
    held so far and ``newest`` the newest creation time among them; ``read_since`` stands for
    the window's end when it is open (the load's start); ``room`` is how many requests the
    rate limit would let start right now, and ``waiting`` how many workers are idle (all of
    them may take a piece when the rest fits in ``room``; else ``idle`` bounds the pieces);
    ``lanes`` is how many pieces the rest needs not to end after the rest of the load
    (:meth:`Plan.lanes`), whether or not workers are idle to take them now; ``found`` is
    :func:`unread`'s answer for this page, when the caller has it already; ``align`` moves
    the edges between pieces (earlier) to where the provider's filters read the same however
    it reads them (SignalWire: midnights), pieces that vanish dropped.
    """
    if found is None:
        found = unread(window, page, page_limit, epoch, read_since, rows_read, newest)
    if found is None or found.cut - found.low < 2 * SECOND:
        return []
    low, cut, density, pages_left = found
    wanted = math.floor(pages_left / MIN_PIECE_PAGES)
    if 2 * pages_left <= room:
        # The rate allows the whole rest at once: pieces of about half a page each arrive in
        # one round trip, where full pages would often need two. A partial page costs a
        # request, which the rate has to spare, instead of a round trip; and every idle
        # worker may take one, as they all start at once.
        wanted = math.ceil(2 * pages_left)
        idle = max(idle, waiting)
    if lanes > 1:
        # A straggler: its pieces wait for workers as the other windows finish.
        wanted = max(wanted, lanes)
        idle = max(idle, lanes - 1)
    # Small pages (``page_size=3``): pieces of half a page, or even of a page, would hold a row
    # or two each, and cost a request each whatever they hold.
    most = math.floor(pages_left * page_limit / DENSITY_ROWS)
    parts = min(idle + 1, wanted, most, int((cut - low).total_seconds()))
    if parts < 2:
        return []
    # Newest first, each piece a little longer than the one after it: the first holds about
    # NEAR_PAGES pages at the density read so far (or an even share of the rest, when that is
    # less), and the lengths grow geometrically, by MAX_GROWTH at most, the oldest piece taking
    # what is left. Evenly spread data gets even pieces; a history that thins out going back
    # (or starts long before its data) costs a few empty requests instead of many.
    first = min(NEAR_PAGES, pages_left / parts) * page_limit / max(density, 1e-9)
    edges = geometric_edges(low, cut, parts, first, MAX_GROWTH)
    if align is not None:
        inner = (align(edge) for edge in edges[1:-1])
        edges = sorted({low, cut, *(edge for edge in inner if low < edge < cut)})
    pieces = [Window(a, b) for a, b in itertools.pairwise(edges) if a < b]
    if len(pieces) < 2:
        return []
    pieces[0] = Window(window.start, pieces[0].end)
    return pieces


def geometric_edges(
    low: dt.datetime,
    high: dt.datetime,
    parts: int,
    first: float,
    growth: float = MAX_GROWTH,
) -> list[dt.datetime]:
    """``parts + 1`` whole-second edges from ``low`` to ``high``; going back from ``high`` the
    pieces grow by one factor, the newest ``first`` seconds long (or all equal, if that is
    longer). The factor is at most ``growth``: where that does not reach ``low``, the oldest
    piece takes all that is left.

    Examples
    --------
    >>> low, high = dt.datetime(2015, 1, 1), dt.datetime(2015, 1, 1, 0, 1, 40)
    >>> [int((e - low).total_seconds()) for e in geometric_edges(low, high, 4, 10.0, 1.1)]
    [0, 67, 79, 90, 100]
    """
    total = (high - low).total_seconds()

    def reaches(ratio: float) -> bool:  # do ``parts`` pieces growing by ``ratio`` cover it?
        if ratio == 1.0:
            return first * parts >= total
        if math.isinf(ratio):
            return True
        try:
            return first * (ratio**parts - 1) / (ratio - 1) >= total
        except OverflowError:
            return True

    if first * parts >= total:
        ratio = 1.0
    elif not reaches(growth):
        ratio = math.inf  # the growth allowed does not reach ``low``: no ratio to solve for
    else:  # solve first * (r**parts - 1) / (r - 1) == total for 1 < r <= growth
        lo_r, hi_r = 1.0, 2.0
        while not reaches(hi_r):
            hi_r *= 2
        for _ in range(60):
            mid = (lo_r + hi_r) / 2
            if reaches(mid):
                hi_r = mid
            else:
                lo_r = mid
        ratio = hi_r
    if ratio > growth:
        lengths = [first * growth**i for i in range(parts - 1)]
        lengths.append(total - sum(lengths))  # what the growth leaves: the oldest piece's
    else:
        lengths = [ratio**i for i in range(parts)]
    scale = total / sum(lengths)
    edges, back = [high], 0.0
    for length in lengths[:-1]:
        back += length * scale
        edges.append(high - dt.timedelta(seconds=round(back)))
    edges.append(low)
    return sorted(set(edges))


async def collect_spread(
    endpoint: Endpoint,
    ctx: Context,
    start: dt.datetime | None,
    end: dt.datetime | None,
    request_for: Callable[[Window], PageRequest],
    *,
    page_limit: int,
    epoch: dt.datetime,
    rest_end: Callable[[dt.datetime], dt.datetime] | None = None,
    align: Callable[[dt.datetime], dt.datetime] | None = None,
    asked: Callable[[Window], Window] | None = None,
) -> pl.DataFrame:
    """Load ``[start, end)`` of a cursor-paged, newest-first list in windows that follow the
    data, and return one de-duplicated frame (as :func:`~recanalytics.providers.base.collect`).

    ``rest_end`` moves the end of a window's unread rest, where the window is split after
    its first pages, and ``align`` the edges between the pieces it is split into, to edges
    the date filters read exactly however the provider reads them (SignalWire: midnights,
    see :func:`unread` and :func:`rest_of`). ``asked`` is the range a window's request really
    filters by, where the provider's date parameters widen it (SignalWire asks from the
    window's midnight): rows there are answered as asked, no sign of a server ignoring the
    filters.
    """
    spec = RecordSpec(endpoint.fields)
    harvest: list[PageBatch] = []
    workers = ctx.limits.concurrency
    # One window to start: its first page says where the data is, and the idle workers then
    # take the rest in pieces shaped by it (an empty range costs one request, not one a worker).
    first = Window(start, end)
    plan = Plan([first], workers)
    began = clock.now()

    async with ctx.session(endpoint.label) as session:

        async def walk(window: Window) -> None:
            rows_read = 0
            newest: dt.datetime | None = None
            last = time.perf_counter()
            # A check (see Plan.checks) is walked whole: what it reads is what a split took as
            # read, so it is not split on that order again.
            expected = plan.checks.pop(id(window), None)
            unsplit = expected is not None
            # Whether the window's pages run newest first so far, one after the other too, and
            # the oldest row listed so far: one page's order is no evidence for the rest of a
            # list (one sorted by room, then newest first, shows newest-first pages, one room
            # at a time; a page of two rows in any order does one time in two).
            in_order = True
            listed_down_to: dt.datetime | None = None
            shown: deque[frozenset[int]] = deque(maxlen=SHOWN_PAGES)
            found_shown = False  # a check has listed a row its split window showed

            def verify(page: Page) -> None:
                nonlocal found_shown
                if expected is None or not plan.splitting:
                    return
                for key in page.keys:
                    if key in expected:
                        found_shown = True
                    elif found_shown:
                        plan.splitting = False
                        log.debug(
                            "%s: the list does not come newest first (a row of %s not on the "
                            "pages of the window split there); later windows are walked whole",
                            endpoint.label,
                            shown_window(window),
                        )
                        return

            async def hand_off(page: Page) -> bool:
                nonlocal rows_read, newest, last, unsplit, in_order, listed_down_to
                if plan.whole_list is not None:
                    # The whole list is read (or being read) by one window: this one's rest is
                    # in it; that window walks on, unsplit.
                    return plan.whole_list != id(window)
                shown.append(page.ids)
                if page.oldest is not None and page.newest is not None:
                    later_row = listed_down_to is not None and page.newest > listed_down_to
                    in_order = in_order and page.descending and not later_row
                    listed_down_to = page.oldest
                if outside(asked(window) if asked else window, page, by=UNFILTERED_SLACK):
                    warn_user(
                        f"{endpoint.provider.name}: the API answered a page of rows outside the "
                        "dates asked for, so it does not apply the date filters: the list is "
                        "read once, whole, and trimmed to since/until here"
                    )
                    # Not this window's own query walked on: a server that applies one of the
                    # two filters would leave out what the stopped windows had still to read.
                    await plan.read_whole()
                    return True
                if outside(window, page):
                    # No row of the window on it (the edge second of a whole-second filter, or
                    # a server's coarser rounding): it says nothing of the window's density.
                    return False
                if page.undated and window.start is None and window.end is None:
                    # A recording without a creation date matches no date window: the list
                    # that shows one is walked on unfiltered, unsplit, so none is missed.
                    unsplit = True
                if unsplit:
                    return False
                rows_read += page.size
                if page.newest is not None and (newest is None or page.newest > newest):
                    newest = page.newest
                now = time.perf_counter()
                plan.observe(now - last)
                last = now
                rest = unread(window, page, page_limit, epoch, began, rows_read, newest, rest_end)
                if rest is not None and rows_read < DENSITY_ROWS:
                    # Too few rows to say how dense the window is: it keeps the share of its
                    # parent's estimate it was given, and walks on.
                    return False
                plan.left[id(window)] = 1.0 if rest is None else rest.pages
                if not (in_order and plan.splitting):
                    return False
                checked = not endpoint.documented_newest_first
                # Its check would read again about the pages the window has read, one by one.
                rechecked = rows_read / page_limit
                if checked and rest is not None and rechecked > max(1, rest.pages / RECHECK_WORTH):
                    return False
                idle = plan.spare(ctx.limits.rate)
                free = session.limiter.room()
                room = unspent(session.limiter, free)
                lanes = 0 if rest is None else plan.lanes(rest.pages, ctx.limits.rate, free)
                if not (idle or lanes or (room and plan.waiting)):
                    return False
                pieces = rest_of(
                    window,
                    page,
                    page_limit,
                    epoch,
                    idle,
                    began,
                    rows_read,
                    newest,
                    room,
                    plan.waiting,
                    lanes,
                    rest,
                    align,
                )
                if not pieces:
                    return False
                assert rest is not None  # rest_of splits only what unread() could read
                del plan.left[id(window)]
                seconds = [
                    ((p.end or rest.cut) - (p.start or rest.low)).total_seconds() for p in pieces
                ]
                for piece, length in zip(pieces, seconds, strict=True):
                    plan.left[id(piece)] = rest.pages * length / max(sum(seconds), 1.0)
                    if piece.start is not None and piece.start >= listed_above(page):
                        plan.read_before.add(id(piece))
                if checked and (window.end is None or rest.cut < window.end):
                    # The split takes [cut, end) as read by the window's pages, which holds
                    # only if the list is newest first throughout: that part is read again,
                    # whole (on a newest-first list, the rows read above the cut once more).
                    recheck = Window(rest.cut, window.end)
                    plan.checks[id(recheck)] = frozenset().union(*shown)
                    plan.left[id(recheck)] = max(1.0, rows_read / page_limit)
                    pieces = [recheck, *pieces]
                await plan.give(pieces)
                return True

            rereads = expected is not None or id(window) in plan.read_before
            plan.read_before.discard(id(window))
            query = Query(harvest, spec.batch(), window=window, rereads=rereads)
            try:
                await endpoint.walk(
                    session,
                    ctx,
                    request_for(window),
                    spec,
                    query,
                    hand_off=hand_off,
                    on_page=verify if expected is not None else None,
                )
            finally:
                plan.left.pop(id(window), None)

        async def worker() -> None:
            try:
                while (window := await plan.take()) is not None:
                    await walk(window)
            finally:
                await plan.leave()

        outcomes = await asyncio.gather(*(worker() for _ in range(workers)), return_exceptions=True)
        failures = [o for o in outcomes if isinstance(o, BaseException)]
        # Windows finish in an order that depends on timing: the rows are put in the
        # provider's own order, so two loads of the same data give the same frame.
        with warnings.catch_warnings():
            if plan.whole_list is not None:
                # The load has said that it reads the list whole and trims it here.
                warnings.filterwarnings("ignore", OUTSIDE_NOTE, LoadWarning)
            return finish_load(endpoint, ctx, spec, harvest, failures, session, newest_first=True)
