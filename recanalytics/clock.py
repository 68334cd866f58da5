"""The system clock, read in one place, and what a provider's own clock says of it.

Every instant the package takes for "now" comes from :func:`now` (tests move the whole package
in time by replacing it). A provider's answers carry its own clock in their ``Date`` header
(RFC 9110 asks it of every origin server with a clock): a session keeps how far that is from
the system clock (:class:`ServerClock`), so a load that planned its date windows by the system
clock asks on to the provider's now when the provider's is later (:class:`Horizon`), and a
refused token signed by the system clock says how far off that clock is
(:func:`refusal_note`).
"""

from __future__ import annotations

import datetime as dt
import email.utils
import logging
from dataclasses import dataclass, field

from recanalytics.errors import warn_user
from recanalytics.windows import LATEST, Window

log = logging.getLogger("recanalytics")

MAX_SKEW = dt.timedelta(days=31)
"""The furthest a provider's clock is believed ahead of the system clock: a ``Date`` further
ahead (a broken server, or a system clock a month off) moves a load's end no further, and a
LoadWarning says what was not asked for."""
SKEW_NOTED = dt.timedelta(minutes=5)
"""A difference between the clocks this large is said (a LoadWarning, or a note in an
``AuthError``); a smaller one is the round trip and the ``Date`` header's whole seconds."""
SIGNED_AT = "recanalytics.signed_at"
"""The request extension where an auth that signs with the system clock's time (Zoom's JWT)
puts the instant it signed at, so a 401 can say that the clock may be wrong."""


def now() -> dt.datetime:
    """The system clock's now, in UTC: the one place the package reads it.

    Examples
    --------
    >>> now().tzinfo
    datetime.timezone.utc
    """
    return dt.datetime.now(dt.UTC)


def seconds() -> float:
    """:func:`now` as seconds since the epoch (what a JWT's ``iat`` counts)."""
    return now().timestamp()


def http_date(value: str | None) -> dt.datetime | None:
    """A ``Date`` header's instant in UTC, or None when there is none or it cannot be read.

    Examples
    --------
    >>> http_date("Wed, 02 Dec 2026 12:00:00 GMT")
    datetime.datetime(2026, 12, 2, 12, 0, tzinfo=datetime.timezone.utc)
    >>> http_date("yesterday") is None
    True
    """
    if not value:
        return None
    try:
        moment = email.utils.parsedate_to_datetime(value)
        if moment.tzinfo is None:  # "-0000": UTC, as RFC 5322 reads it
            moment = moment.replace(tzinfo=dt.UTC)
        # 31 Dec 9999 23:59:59 -0100 is past the last datetime once in UTC: OverflowError.
        return moment.astimezone(dt.UTC)
    except (TypeError, ValueError, OverflowError, IndexError):
        return None


def format_http_date(seconds_since_epoch: float) -> str:
    """An IMF-fixdate, as a server sends its ``Date`` header (the sandbox's).

    Examples
    --------
    >>> format_http_date(0)
    'Thu, 01 Jan 1970 00:00:00 GMT'
    """
    return email.utils.formatdate(seconds_since_epoch, usegmt=True)


def describe(offset: dt.timedelta) -> str:
    """A clock difference in words: ``20 hours``, ``3 days``, ``7 minutes``.

    Examples
    --------
    >>> describe(dt.timedelta(hours=-20)), describe(dt.timedelta(days=3, hours=2))
    ('20 hours', '3.1 days')
    >>> describe(dt.timedelta(hours=1)), describe(dt.timedelta(days=517))
    ('1 hour', '517 days')
    """
    seconds = abs(offset.total_seconds())
    unit, size = next(
        ((u, n) for u, n in (("day", 86400), ("hour", 3600), ("minute", 60)) if seconds >= n),
        ("second", 1),
    )
    value = seconds / size
    shown = f"{value:.0f}" if value >= 10 else f"{value:.1f}".removesuffix(".0")
    return f"{shown} {unit}" + ("" if shown == "1" else "s")


class ServerClock:
    """How far a provider's clock is ahead of the system clock (behind: negative), as the
    ``Date`` headers of its answers show it; None until one is read.

    The largest difference seen is kept: a ``Date`` is the server's whole second, sent a round
    trip before it is read here, and an answer kept by a cache carries an older one, so each
    reading falls short of the true difference, never beyond it.

    Examples
    --------
    >>> server = ServerClock()
    >>> at = dt.datetime(2026, 12, 1, 4, tzinfo=dt.UTC)
    >>> server.saw("Wed, 02 Dec 2026 00:00:00 GMT", at)
    >>> server.offset
    datetime.timedelta(seconds=72000)
    """

    def __init__(self) -> None:
        self.offset: dt.timedelta | None = None

    def saw(self, date: str | None, at: dt.datetime | None = None) -> None:
        """Take in one answer's ``Date`` header, read at ``at`` (default :func:`now`)."""
        server = http_date(date)
        if server is None:
            return
        offset = server - (now() if at is None else at)
        if self.offset is None or offset > self.offset:
            self.offset = offset

    def now(self) -> dt.datetime | None:
        """The provider's now, or None when no answer has said it."""
        if self.offset is None:
            return None
        if self.offset > dt.timedelta(0):
            return _later(now(), self.offset)  # a Date near year 9999: the last datetime
        try:
            return now() + self.offset
        except OverflowError:  # a Date near year 1: before any recording
            return None


@dataclass(frozen=True)
class Horizon:
    """Where a load that asks in date windows stops, by the system clock and then by the
    provider's.

    No recording is dated after the provider's now, and a provider that caps each query's span
    (Plivo 30 days, Zoom a month) would cost a request for every empty window up to a far
    ``until`` (``until="2100-01-01"`` made 900 of them). So the windows are planned up to
    :meth:`end`: ``until``, but no further than the system clock's now plus ``margin`` and
    ``slack``. A system clock behind the provider's would then leave its newest recordings
    unasked: once the planned windows are loaded, the provider's own now (its ``Date``
    header, see :class:`ServerClock`) says how far to ask on (:meth:`server_end`), and
    :meth:`say` warns of what the clocks did.

    Parameters
    ----------
    until : datetime or None
        The end the load asks for (as sent: widened where the provider's filter needs it);
        None: open, up to now.
    margin : timedelta
        How far past the provider's now the windows reach (a filter read in a zone off UTC).
    slack : timedelta
        How much further past the system clock's now the windows are planned: a clock behind
        the provider's by less loses nothing, and costs no request more.
    planned : datetime
        The system clock's now when the windows were planned.

    Examples
    --------
    >>> at = dt.datetime(2026, 12, 1, 4, tzinfo=dt.UTC)
    >>> hour = dt.timedelta(hours=1)
    >>> horizon = Horizon(None, 14 * hour, hour, planned=at)
    >>> horizon.end(None)  # the system clock's now + 15 hours
    datetime.datetime(2026, 12, 1, 19, 0, tzinfo=datetime.timezone.utc)
    >>> horizon.server_end(at + 20 * hour)  # the provider's clock reads 20 hours later
    datetime.datetime(2026, 12, 2, 14, 0, tzinfo=datetime.timezone.utc)
    """

    until: dt.datetime | None
    margin: dt.timedelta
    slack: dt.timedelta
    planned: dt.datetime = field(default_factory=lambda: now())  # read when made: tests move it

    def clock_end(self, start: dt.datetime | None = None) -> dt.datetime:
        """Where the windows stop by the system clock alone, for a load from ``start``.

        A range that starts past it, but within :data:`MAX_SKEW` of the system clock's now,
        gets one window of a second at its start instead: that request hears the provider's
        now, which a clock behind it would otherwise never hear (the range skipped whole,
        nothing asked).
        """
        cut = _later(self.planned, self.margin + self.slack)
        if start is not None and cut <= start < _later(self.planned, MAX_SKEW):
            return start + dt.timedelta(seconds=1)
        return cut

    def end(self, start: dt.datetime | None = None) -> dt.datetime:
        """Where the planned windows end: ``until``, cut at :meth:`clock_end`."""
        cut = self.clock_end(start)
        return cut if self.until is None else min(self.until, cut)

    def server_end(self, server_now: dt.datetime) -> dt.datetime:
        """Where the windows stop by the provider's clock: its now plus ``margin``, but no
        further than :data:`MAX_SKEW` past the system clock's where that is beyond
        ``until`` (an ``until`` in the provider's past is asked for whole, whatever the
        system clock says)."""
        wanted = _later(server_now, self.margin)
        if self.until is not None and self.until <= wanted:
            return wanted
        return min(wanted, _later(self.planned, MAX_SKEW + self.margin))

    def rest(
        self, server_now: dt.datetime | None, start: dt.datetime | None = None
    ) -> Window | None:
        """The stretch past :meth:`end` to ask for as well, by the provider's now (None: no
        answer said it), or None."""
        if server_now is None:
            return None
        end = self.end(start)
        wanted = self.server_end(server_now)
        if self.until is not None:
            wanted = min(wanted, self.until)
        return Window(end, wanted) if wanted > end else None

    def say(
        self,
        provider: str,
        server_now: dt.datetime | None,
        start: dt.datetime | None = None,
        *,
        asked: bool,
    ) -> None:
        """Warn (a ``LoadWarning``) of what the clocks did to the load: ``until`` cut at the
        system clock with no ``Date`` to check that clock by (it is never cut silently), a
        system clock :data:`SKEW_NOTED` or more behind the provider's when that made the load
        ask for more (``asked``), and a provider's clock too far ahead to follow."""
        end = self.end(start)
        if server_now is None:
            if start is not None and start >= end:
                warn_user(
                    f"{provider}: the range from {start:%Y-%m-%d %H:%M} lies more than "
                    f"{describe(MAX_SKEW)} past the system clock's now "
                    f"({self.planned:%Y-%m-%d %H:%M} UTC): nothing was asked for (no recording "
                    "is dated later); if the clock is behind, set it right"
                )
            elif self.until is not None and self.until > end:
                warn_user(
                    f"{provider}: until {self.until:%Y-%m-%d %H:%M} lies past the system "
                    f"clock's now ({self.planned:%Y-%m-%d %H:%M} UTC) and was asked for up "
                    f"to {end:%Y-%m-%d %H:%M} only (no recording is dated later), with no "
                    "Date header from the API to check that clock by: if it is behind, set "
                    "it right"
                )
            return
        skew = server_now - self.planned
        followed = self.server_end(server_now)
        if followed < _later(server_now, self.margin) and (
            self.until is None or self.until > followed
        ):
            warn_user(
                f"{provider}: the API's clock (its Date header) reads "
                f"{server_now:%Y-%m-%d %H:%M} UTC, {describe(skew)} after the system clock's: "
                f"no recordings after {followed:%Y-%m-%d %H:%M} were asked for; set the "
                "system clock right"
            )
        elif asked and skew >= SKEW_NOTED:
            warn_user(
                f"{provider}: the system clock reads {self.planned:%Y-%m-%d %H:%M} UTC, "
                f"{describe(skew)} behind the API's (its Date header): the recordings up to "
                "the API's now were asked for too; set the system clock right (a store "
                "records what it loaded by it)"
            )
        elif asked:
            log.info("%s: the API's clock is %s ahead; asked on to its now", provider, skew)


def _later(moment: dt.datetime, delta: dt.timedelta) -> dt.datetime:
    try:
        return min(moment + delta, LATEST)
    except OverflowError:
        return LATEST


def refusal_note(signed_at: float | None, date: str | None, received: dt.datetime) -> str:
    """What a 401 adds when the refused credential was signed with the system clock's time
    (``signed_at``, seconds since the epoch; None: not such a credential): the clocks'
    difference when the answer's ``Date`` shows one of :data:`SKEW_NOTED` or more, nothing
    when it shows none, and that the system clock may be wrong when there is no ``Date``.

    Examples
    --------
    >>> at = dt.datetime(2026, 12, 2, 11, tzinfo=dt.UTC)
    >>> print(refusal_note(at.timestamp(), "Wed, 02 Dec 2026 12:00:00 GMT", at))
    ; the token was signed by the system clock, which reads 2026-12-02 11:00:00 UTC, 1 hour behind the API's (2026-12-02 12:00:00 UTC, its Date header): set the system clock right
    >>> refusal_note(None, "Wed, 02 Dec 2026 12:00:00 GMT", at)  # no credential dated by it
    ''
    """
    if signed_at is None:
        return ""
    server = http_date(date)
    local = f"{received:%Y-%m-%d %H:%M:%S} UTC"
    if server is None:
        return (
            f"; the token was signed by the system clock ({local}): if that clock is wrong, "
            "the API refuses the token as expired or not yet valid"
        )
    skew = server - received
    if abs(skew) < SKEW_NOTED:
        return ""
    side = "behind" if skew > dt.timedelta(0) else "ahead of"
    return (
        f"; the token was signed by the system clock, which reads {local}, {describe(skew)} "
        f"{side} the API's ({server:%Y-%m-%d %H:%M:%S} UTC, its Date header): set the system "
        "clock right"
    )
