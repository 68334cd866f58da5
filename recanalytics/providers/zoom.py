"""Zoom Video SDK cloud recordings (``GET /v2/videosdk/recordings`` and
``GET /v2/videosdk/sessions/{sessionId}/recordings``).

Zoom lists *sessions*, each carrying its files; the unified frame has one row per file:
``session_file`` rows from ``recording_files`` and ``participant_file`` rows from
``participant_video_files`` / ``participant_audio_files``, each with its session's id, name and
start.

How this module reads the API, where the contract leaves room:

* Auth is an API JWT (HS256 over ``iss``/``iat``/``exp``) built with the standard library and
  renewed by :class:`ZoomJWTAuth` within 60 s of its expiry, so a long load never sends an
  expired token. It is signed with the system clock, ``iat`` 5 minutes back and ``exp`` 1 h
  30 min ahead: Zoom takes it from a clock up to that far behind its own; a 401 to a fresh
  token says how far the clocks differ (the answer's ``Date``).
* ``from``/``to`` are whole days at most one month apart. Whether ``to`` is inclusive, and in
  which time zone a day is read, the docs do not say: the days asked for reach one past each end
  of the range, in month windows that each end on the day the next one starts
  (:func:`recanalytics.windows.overlapping_months`), loaded concurrently. Rows are then kept
  precisely in ``[since, until)`` by the session start (the file start when the session has
  none; rows with neither are kept), and de-duplicated by id. With no ``since`` the whole
  history is loaded, from 2020-01-01 (before the Video SDK existed), a request a month.
* A ``next_page_token`` lives 15 minutes. When Zoom answers that it expired, the window is
  loaded again from its first page and what was read of it before is discarded, so nothing is
  lost or counted twice. Zoom's wording is unconfirmed: a 400 in other words to a page asked
  with a token reloads the window once (a second is raised, with the rows read).
* The trash cannot be date-filtered, so ``trash=True`` with ``since``/``until`` is a
  ``ConfigError`` rather than a silently ignored range.
* CC and TIMELINE files have no ``id``: their ``recording_id`` is derived (``derived-`` + a hash
  of session id, row kind, file type, start, end and an ordinal among identical files, a blank
  value and a missing one alike), stable from one load to the next and distinct per file, so
  de-duplication never merges two of them.
* ``container`` and ``media_type`` come from the codec helpers' table
  (:mod:`recanalytics.helpers.codecs`, as ``ra.normalize_container`` and
  ``ra.container_media_type`` read them): the ``file_extension`` where sent, else the
  ``file_type``. ``text`` for transcripts, chat, captions, timelines (TIMELINE, TB), summaries and
  polls (CSV), ``audio`` for M4A and audio-only MP4, ``video`` for other MP4. ``codec`` is inferred (Zoom does not report it): ``h264`` for video MP4, ``aac`` for
  audio. ``status`` is ``deleted`` for a file in the trash (``deleted_time`` set or listed with
  ``trash=True``), else Zoom's value lower-cased; CC and TIMELINE files have none (null).
* ``created_at`` is the session start, ``started_at``/``ended_at`` the file's
  ``recording_start``/``recording_end``; ``duration`` is their difference (Zoom's session
  ``duration`` has no documented unit and stays in the raw frame).
* Download URLs can carry ``access_token=``: every URL column is redacted.
* A per-session answer may carry ``download_access_token``, a credential: like every
  credential-like key (:data:`recanalytics.parsers.SECRET_KEY_RE`) its value is ``REDACTED``
  in ``extra``, so it never reaches a frame, a file or a log.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import hashlib
import hmac
import json
import logging
import re
from collections import Counter
from collections.abc import Callable, Generator, Iterable
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, Unpack
from urllib.parse import quote

import httpx
import polars as pl

from recanalytics import clock, validate
from recanalytics.blank import is_blank, present
from recanalytics.clock import SIGNED_AT, Horizon
from recanalytics.credentials import Credentials
from recanalytics.engine import Session
from recanalytics.errors import ConfigError, PaginationError, ProviderError, warn_user
from recanalytics.fields import F, PageBatch, RecordSpec
from recanalytics.fields import Page as DecodedPage
from recanalytics.helpers.codecs import container_known, container_media_type, container_normalized
from recanalytics.options import Context, LoadOptions, resolve
from recanalytics.paging import Pager, PageRequest, TokenPager, dig
from recanalytics.parsers import as_bool, as_count, as_int, as_iso_time, as_lower, as_str
from recanalytics.providers.base import (
    Endpoint,
    Loader,
    Page,
    ProviderSpec,
    Query,
    collect,
    fetch_one,
)
from recanalytics.providers.common import UTC_TIME, bitrate_kbps, first_accepted, trim_to_range
from recanalytics.rates import StorageRate
from recanalytics.redact import redact_url
from recanalytics.sync import syncify
from recanalytics.windows import (
    WhenLike,
    overlapping_months,
    overlapping_spans,
    parse_range,
)

log = logging.getLogger("recanalytics")

# Seconds a token is valid past the system clock's now. Zoom accepts at most 2 hours between
# iat and exp, and may also hold exp to its own now + 2 hours: 1 h 30 min lets a system clock
# up to that far behind Zoom's (an hour refused every token of a clock an hour behind, a
# daylight-saving slip) or up to 30 minutes ahead sign tokens Zoom takes, however it checks.
JWT_LIFETIME = 5400
JWT_MAX_LIFETIME = 7200
# Seconds iat is dated back: a system clock a little ahead of Zoom's does not sign a token
# issued in Zoom's future (which a JWT library refuses as not yet valid).
JWT_BACKDATE = 300
JWT_RENEW_WITHIN = 60  # renew a token this close to its expiry (as Zoom's Rivet SDK does)
# A 401 to a token signed longer ago than this is retried once with a new one (a server clock
# ahead of ours expires a token early); one to a token this fresh is the credentials' fault.
JWT_FRESH = 3
PAGE_SIZE_MAX = 300
TRASH_TYPES = ("session_recordings", "recording_file")
# Where a load without ``since`` starts: no Video SDK session predates it (the SDK came out in
# 2021). Like the other loaders, no ``since`` means the whole history, not the API's default
# of today alone; a month a request, so about 85 requests.
EPOCH = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
# How far past now a window may still be asked for (``from``/``to`` are whole UTC days).
FUTURE_MARGIN = dt.timedelta(days=1)
DAY = dt.timedelta(days=1)
# How far outside since/until a listed row may lie before it shows an answer the date filter
# excludes: the days asked reach one before since's and two past until's last (day_windows), a
# `to` may be read inclusive, and a day in a zone up to a day off UTC: until + 3 days may be
# answered as asked (3 days 8 hours in UTC-8), and was said to be excluded by the filter.
DAYS_SLACK = dt.timedelta(days=4)
MAX_RESTARTS = 3  # reloads of one window after its page token expired
# Window spans tried in turn while the API answers 400 to a window (None: a month each). How
# Zoom counts "one month" (a window from the 15th to the 15th touches 32 dates) is undocumented.
SPANS = (None, 28, 7)

# file list in a session -> row kind
FILE_LISTS = (
    ("recording_files", "session_file"),
    ("participant_video_files", "participant_file"),
    ("participant_audio_files", "participant_file"),
)
# What each file_type is (container, and so media_type) is the codec helpers' table
# (recanalytics.helpers.codecs: TB and TIMELINE are JSON timestamps, SUMMARY JSON, CSV poll
# results): the loader and ra.normalize_container / ra.container_media_type read one mapping.


# --- the API JWT -------------------------------------------------------------------------


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def make_jwt(api_key: str, api_secret: str, *, issued_at: int, lifetime: int) -> str:
    """An HS256 API JWT over ``{"iss", "iat", "exp"}``, as Zoom's REST API expects.

    Examples
    --------
    >>> token = make_jwt("key", "secret", issued_at=1_700_000_000, lifetime=3600)
    >>> token.count(".")
    2
    """
    header = {"alg": "HS256", "typ": "JWT"}
    payload = {"iss": api_key, "iat": issued_at, "exp": issued_at + lifetime}
    signing_input = ".".join(
        _b64url(json.dumps(part, separators=(",", ":")).encode()) for part in (header, payload)
    )
    signature = hmac.new(api_secret.encode(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64url(signature)}"


class ZoomJWTAuth(httpx.Auth):
    """Sends ``Authorization: Bearer <API JWT>``, signing a new token before the last expires.

    A request answered 401 whose token was signed more than :data:`JWT_FRESH` seconds before
    is sent once more with a token signed then: Zoom's clock ahead of ours refuses a token
    near its expiry (code 124, "Invalid access token."), which would end a long load. A 401 to
    a fresh token is answered as it is.

    Parameters
    ----------
    api_key, api_secret : str
        The Video SDK *API* key and secret.
    lifetime : int
        Seconds a token is valid from when it is signed (1 to 7200; Zoom refuses more than 2
        hours between ``iat`` and ``exp``). ``iat`` is dated :data:`JWT_BACKDATE` seconds
        back, as far as that keeps ``exp - iat`` within 2 hours.
    renew_within : int
        A token this close to its expiry (seconds) is replaced before the next request.
    clock : callable
        Seconds since the epoch (default the system clock, :func:`recanalytics.clock.seconds`;
        tests pass a fake clock).

    Examples
    --------
    >>> auth = ZoomJWTAuth("key", "s3cr3t-value")
    >>> "s3cr3t-value" in repr(auth)
    False
    """

    def __init__(
        self,
        api_key: str,
        api_secret: str,
        *,
        lifetime: int = JWT_LIFETIME,
        renew_within: int = JWT_RENEW_WITHIN,
        clock: Callable[[], float] = clock.seconds,
    ) -> None:
        if not 0 < lifetime <= JWT_MAX_LIFETIME:
            raise ConfigError("lifetime", f"seconds from 1 to {JWT_MAX_LIFETIME}", lifetime)
        if not 0 <= renew_within < lifetime:
            raise ConfigError("renew_within", "seconds >= 0 and below the lifetime", renew_within)
        self._key = api_key
        self._secret = api_secret
        self.lifetime = lifetime
        self.renew_within = renew_within
        self.clock = clock
        self._token: str | None = None
        self.expires_at = 0
        self.signed_at = 0.0  # clock() when the current token was signed
        self.issued = 0  # tokens signed so far

    def __repr__(self) -> str:
        return f"ZoomJWTAuth(api_key={self._key!r}, api_secret='***')"

    def __reduce__(self) -> Any:
        # As for the credentials: a pickle would hold the API secret and the live JWT in clear.
        raise TypeError("ZoomJWTAuth is not picklable: it holds the API secret")

    def __copy__(self) -> ZoomJWTAuth:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> ZoomJWTAuth:
        return self

    def token(self) -> str:
        """The current token, signing a new one when none is valid for ``renew_within`` more s."""
        moment = self.clock()
        now = int(moment)
        if self._token is None or now >= self.expires_at - self.renew_within:
            back = min(JWT_BACKDATE, JWT_MAX_LIFETIME - self.lifetime)
            self._token = make_jwt(
                self._key, self._secret, issued_at=now - back, lifetime=self.lifetime + back
            )
            self.expires_at = now + self.lifetime
            self.signed_at = moment
            self.issued += 1
        return self._token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        sent = self.token()
        request.headers["Authorization"] = f"Bearer {sent}"
        # Signed by this clock: a 401 says how far it is from Zoom's (engine, clock.refusal_note).
        request.extensions[SIGNED_AT] = self.signed_at
        response = yield request
        if response.status_code != 401:
            return
        if sent == self._token:
            if self.clock() - self.signed_at <= JWT_FRESH:
                return  # refused fresh: the key or the secret is wrong
            self._token = None  # refused stale: sign another
        # (A token replaced since the request went out is the one to retry with.)
        request.headers["Authorization"] = f"Bearer {self.token()}"
        request.extensions[SIGNED_AT] = self.signed_at
        yield request


@dataclasses.dataclass(frozen=True, repr=False)
class ZoomCredentials(Credentials):
    """Zoom Video SDK *API* key and secret, used to sign the API JWT."""

    api_key: str | None = None
    api_secret: str | None = None

    provider: ClassVar[str] = "zoom"
    env: ClassVar[dict[str, tuple[str, ...]]] = {
        "api_key": ("ZOOM_VIDEOSDK_API_KEY",),
        "api_secret": ("ZOOM_VIDEOSDK_API_SECRET",),
    }
    secret_fields: ClassVar[frozenset[str]] = frozenset({"api_secret"})
    required: ClassVar[tuple[str, ...]] = ("api_key", "api_secret")
    # The Video SDK app the key belongs to is the account whose recordings it lists.
    account_fields: ClassVar[tuple[str, ...]] = ("api_key",)


@dataclass(frozen=True)
class ZoomSpec(ProviderSpec):
    """Zoom's connection facts; authorises with :class:`ZoomJWTAuth` instead of Basic auth."""

    def auth(self, credentials: Credentials) -> httpx.Auth:
        if not isinstance(credentials, ZoomCredentials):  # pragma: no cover - resolve() coerces
            raise ConfigError("credentials", "ZoomCredentials", type(credentials).__name__)
        assert credentials.api_key and credentials.api_secret
        return ZoomJWTAuth(credentials.api_key, credentials.api_secret)


ZOOM = ZoomSpec(
    name="zoom",
    credentials=ZoomCredentials,
    base_url="https://api.zoom.us",
    rate=20.0,  # the Medium category on a Pro plan; Business and up allow 60/s
    rate_period=1.0,  # Zoom counts per second
    concurrency=8,
    # download_url is served from zoom.us (or an account's subdomain) with the Bearer JWT.
    api_hosts=("zoom.us", "*.zoom.us"),
    media_auth=True,
    rows_name_account=False,  # Zoom's recording list names no account: account_id is null
    color="#0072B2",  # Okabe-Ito, colour-blind safe; one per provider in every chart
    storage_rate=StorageRate(
        0.10,
        "gb_month",
        "ASSUMPTION: no public per-GB Video SDK storage price found; "
        "USD 0.10 per GB-month as a placeholder",
        "2026-11-23",
        assumption=True,
    ),
    emulator="recanalytics.sandbox.zoom:ZoomEmulator",
)

# How this module reads Zoom's answers into unified rows. Bump it with any change to that reading:
# a store's coverage and an archive's manifest record it, and what was read under an older one is
# loaded again (docs/store-media-archive.md).
# 2: SUMMARY, TB and CSV files read as json / csv and text (SUMMARY had no container, TB was a jpg
# of data); a blank id is no id.
# 3: two id-less files of a session differing only in a blank or missing type, start or end get
# two derived ids (they got one, and one of them was dropped); every other derived id is as before.
READING = 3
REREAD: dict[int, frozenset[str]] = {
    2: frozenset({"container", "media_type", "group_name"}),
    3: frozenset(),  # rows a store lacks are loaded; no column reads otherwise
}
"""The unified columns each ``READING`` read otherwise than the one before (the rest, an
archive keeps from an earlier run's reading)."""


# --- sessions to file rows ---------------------------------------------------------------


def as_safe_url(value: Any) -> str:
    """A URL with ``access_token`` (and any other secret query value) redacted."""
    return redact_url(as_str(value)) or ""


def derived_traits(kind: str, item: dict[str, Any]) -> tuple[str, ...]:
    """What a derived id tells a file by (besides its session and ordinal): its row kind, type,
    start and end, a blank or absent value alike. Files whose traits are the same are told
    apart by their ordinal among them (:func:`flatten_session`).

    Examples
    --------
    >>> derived_traits("session_file", {"file_type": ""}) == derived_traits("session_file", {})
    True
    """
    keys = ("file_type", "recording_start", "recording_end")
    return (kind, *(str(item.get(k) or "") for k in keys))


def derived_id(session_id: Any, kind: str, item: dict[str, Any], ordinal: int) -> str:
    """A stable id for a file Zoom gives none (CC, TIMELINE): a hash of its session id, its
    :func:`derived_traits` and ``ordinal``, its place among the session's files of the same
    traits."""
    parts = [str(session_id or ""), *derived_traits(kind, item), str(ordinal)]
    return "derived-" + hashlib.sha256("|".join(parts).encode()).hexdigest()[:32]


def flatten_session(session: Any, *, trash: bool = False) -> list[Any]:
    """One record per file of ``session``, each carrying the session's own fields.

    A session that is not an object is kept whole (it becomes a row of nulls with the value in
    ``extra``); a file list that is not a list counts as one malformed file.
    """
    if not isinstance(session, dict):
        return [session]
    carried = {k: v for k, v in session.items() if k not in dict(FILE_LISTS)}
    session_id = session.get("session_id")
    ordinals: Counter[tuple[str, ...]] = Counter()
    rows: list[Any] = []
    for list_key, kind in FILE_LISTS:
        items = session.get(list_key)
        if items is None:
            continue
        for item in items if isinstance(items, list) else [items]:
            file = item if isinstance(item, dict) else {}
            own = file.get("id")
            # Any other JSON value is kept as its text, as the other providers' ids are.
            own = None if own is None else as_str(own)
            if own is not None and not is_blank(own):
                recording_id = own
            else:
                sid = session_id if session_id is not None else file.get("session_id")
                if sid is None:
                    # No id to tell this session from another: its own fields do (two sessions
                    # without ids, each with a TIMELINE file, are two rows, not one).
                    sid = json.dumps(carried, sort_keys=True, default=str)
                # Counted by what the id hashes: two files it cannot tell apart (a type "" and
                # none) must differ in their ordinal, or de-duplication merges them.
                same = derived_traits(kind, file)
                recording_id = derived_id(sid, kind, file, ordinals[same])
                ordinals[same] += 1
            rows.append(
                {
                    "kind": kind,
                    "recording_id": recording_id,
                    "in_trash": trash,
                    "session": carried,
                    "file": item,
                }
            )
    return rows


def session_key(session: dict[str, Any]) -> Any:
    """What tells one listed session from another, for the ``total_records`` check."""
    files = tuple(sorted(str(row["recording_id"]) for row in flatten_session(session)))
    session_id = session.get("session_id")
    if session_id is None or isinstance(session_id, dict | list):
        return ("content", json.dumps(session, sort_keys=True, default=str))
    return (str(session_id), files)


@dataclass
class ZoomPager(TokenPager):
    """Zoom's token paging, asking again for an answer for another date range.

    A list answer echoes its query's ``from`` and ``to``. One whose days reach outside the
    requested ones answers another window (a proxy or cache mixing queries up; windows share
    their edge days, so sharing days proves nothing): taken as this window's, its short total
    and empty token would end the window without its rows, so it is asked for again
    (:meth:`Pager.foreign_echo`: an echo that stays the same on every try is a fixed echo,
    taken with a ``LoadWarning``). Zoom may narrow the range it echoes (a ``to`` past today):
    a range within the query's is read below.

    A first page whose echoed days miss any day its window asked for answers fewer days than
    asked: a server that cut a range it found too long (to its first days or its last), instead
    of refusing it, would leave days between two windows unread, and a spare day cut at either
    end of the load (the day before ``since``'s, the days past ``until``'s) holds the first or
    last hours of the range for a server reading days in a zone off UTC (6 of 345 rows, from a
    server in UTC-8). That is a :class:`RangeNarrowed` refusal, as a 400 would be. Two echoes
    are taken: a ``to`` cut back to yesterday (UTC) or later, for a window reaching past it (a
    ``to`` cut back to the server's today, in any zone, leaves out no session that exists yet),
    and an echo of the load's own ``since`` and ``until`` days instead of the days asked (a
    mock, or a proxy; a server cutting a range at one end keeps the other as asked, so it never
    answers both).
    """

    since_day: dt.date | None = None  # the load's since, as a day
    until_days: tuple[dt.date, ...] = ()  # until's last day and the next, when until is given
    yesterday: dt.date | None = None  # UTC, when the load began

    def unfit(self, body: Any, records: int) -> str | None:
        token = super().unfit(body, records)
        if token is not None:
            return token
        asked = dict(self.first.params or ())
        echoed = [dig(body, "from"), dig(body, "to")]
        try:
            low, high = (dt.date.fromisoformat(asked[k]) for k in ("from", "to"))
            start, end = (dt.date.fromisoformat(v) for v in echoed)
        except (KeyError, TypeError, ValueError):
            return None  # a range not given, or not echoed as days: nothing to compare
        # Zoom may narrow the range (a `to` past today), never widen it; windows overlap on
        # their edge days (see day_windows), so an echo reaching outside the asked range is a
        # neighbour's answer even when it shares days with this one.
        if low <= start and end <= high:
            last = min(high, self.yesterday or high)
            # A cut at one end keeps the other as asked: an echo differing at both ends, each
            # the load's own since/until day, echoes the caller's range.
            callers_range = (
                start == self.since_day and start != low and end in self.until_days and end != high
            )
            if self.pages == 0 and (start > low or end < last) and not callers_range:
                missed = f"before {start}" if start > low else f"after {end}"
                raise RangeNarrowed(
                    self.provider,
                    f"answered for {start}..{end} where {low}..{high} was asked, so the days "
                    f"{missed} were not read",
                    url=self.first.url,
                )
            self.echo_matched()
            return None
        why = f"answered for {start}..{end} where {low}..{high} was asked"
        return self.foreign_echo((start, end), why, what="range")


class RangeNarrowed(PaginationError):
    """Zoom answered a window for fewer days than asked, a later ``from`` or an earlier ``to``
    (see :class:`ZoomPager`): a refusal of the range, so the load is tried again in narrower
    windows; raised, with the rows in ``partial``, when the narrowest are cut too."""


@dataclass(frozen=True)
class ZoomFiles(Endpoint):
    """The list endpoint flattened into file rows; ``since``/``until`` filter precisely."""

    trash: bool = False
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    # Sessions listed without a single file (keys, as the total check knows them): they have
    # no row in a frame of files, so the load says how many there were.
    fileless: set[Any] = dataclasses.field(
        init=False, default_factory=set, compare=False, repr=False
    )
    # Listed files that were not objects (null, a number, text), by their derived row ids: the
    # load says how many rows hold nothing but their session's fields.
    not_objects: set[str] = dataclasses.field(
        init=False, default_factory=set, compare=False, repr=False
    )

    def pager(self, ctx: Context, first: PageRequest) -> Pager:
        since_day = self.since.date() if self.since is not None else None
        yesterday = clock.now().date() - DAY
        # What a mock echoing until as a day may echo: its last day, or the day after it.
        until_days: tuple[dt.date, ...] = ()
        if self.until is not None and self.until > dt.datetime.min.replace(tzinfo=dt.UTC):
            last = (self.until - dt.timedelta(microseconds=1)).date()
            until_days = (last, last + DAY) if last < dt.date.max else (last,)
        return ZoomPager(
            self.provider.name,
            first,
            max_pages=ctx.max_pages,
            since_day=since_day,
            until_days=until_days,
            yesterday=yesterday,
        )

    def sessions(self, body: Any) -> list[Any]:
        value = body.get("sessions") if isinstance(body, dict) else None
        if isinstance(value, list):
            return value
        # Zoom's own reference shows a bare session as the list answer: read it as one.
        if isinstance(body, dict) and any(k in body for k, _ in FILE_LISTS):
            return [body]
        return []

    def page_records(self, body: Any) -> list[Any] | None:
        listed = isinstance(body, dict) and isinstance(body.get("sessions"), list)
        if not listed and not self.sessions(body):
            return None
        rows = [row for s in self.sessions(body) for row in flatten_session(s, trash=self.trash)]
        self.not_objects.update(
            row["recording_id"] for row in rows if isinstance(row, dict) and "file" in row
            and not isinstance(row["file"], dict)
        )  # fmt: skip
        return rows

    def decode(self, content: bytes, batch: PageBatch) -> DecodedPage:
        # Sessions are flattened into file rows in Python, so the per-record path reads them.
        return batch.tolerant(content, self.list_key, self.records)

    def page_size(self, body: Any, records: list[Any]) -> int:
        # A page of sessions without files is not empty.
        return len(self.sessions(body))

    def total(self, body: Any) -> int | None:
        value = dig(body, "total_records")
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    def progress_total(self, total: int) -> int | None:
        return None  # total_records counts sessions; the bar counts files

    def counted_keys(self, page: Page) -> Iterable[Any]:
        # total_records counts sessions, not files; a session read twice (pages drifting)
        # counts once. A session is its id with its files' ids: two listed under one id still
        # count as two, and one without an id is known by its content, so neither makes a
        # complete load look short. (A session that is not an object is a row without an id,
        # counted as such.)
        keys = []
        for s in self.sessions(page.body):
            if isinstance(s, dict):
                keys.append(session_key(s))
                if not flatten_session(s, trash=self.trash):
                    self.fileless.add(keys[-1])
        return keys

    def single_records(self, body: Any) -> list[Any]:
        return flatten_session(body, trash=self.trash)

    def not_a_record(self, body: Any) -> str | None:
        # The answer is a session: its id or its file lists say so (the row ids are derived
        # where Zoom gives a file none, so they prove nothing).
        if not isinstance(body, dict) or not body:
            return super().not_a_record(body)
        if body.get("session_id") is None and not any(k in body for k, _ in FILE_LISTS):
            return "no 'session_id' and no file list"
        return None

    async def fetch(
        self, session: Session, ctx: Context, first: PageRequest, spec: RecordSpec, query: Query
    ) -> None:
        """Page one window to its end; reload it from page 1 if its page token expires, and
        page it again while its ``total_records`` fell during a pass
        (:meth:`Endpoint.steady_passes`: a token may resume at a position, which a deleted
        session moves)."""

        async def one_pass() -> Query:
            for restart in range(MAX_RESTARTS + 1):
                issues = spec.issues.copy()
                attempt = Query(query.harvest, spec.batch())
                try:
                    await self.walk(session, ctx, first, spec, attempt)
                except ProviderError as exc:
                    # Zoom's wording for an expired token is unconfirmed: any 400 to a page asked
                    # with a token reloads the window once, a token said expired up to
                    # MAX_RESTARTS times; then the 400 is raised, with the rows.
                    refused = attempt.pages and token_refused(exc)
                    if not (refused and restart < (MAX_RESTARTS if token_expired(exc) else 1)):
                        raise
                    log.info("zoom: next_page_token refused; reloading the window from page 1")
                    # The reload's rows are the window's: this attempt's would keep a file
                    # deleted meanwhile, and a row without an id twice.
                    attempt.discard()
                    spec.issues.clear()
                    spec.issues.update(issues)
                    continue
                await self.complete(session, ctx, first, spec, attempt)
                return attempt
            raise AssertionError("unreachable")  # pragma: no cover

        await self.steady_passes(one_pass)

    def finish(self, raw: pl.DataFrame, ctx: Context) -> pl.DataFrame:
        if self.not_objects:
            warn_user(
                f"zoom: {len(self.not_objects)} listed files were not objects; each is a row "
                "with its session's fields only, the value kept in the raw frame's 'extra' "
                "column (raw=True)"
            )
        if self.fileless:
            warn_user(
                f"zoom: {len(self.fileless)} sessions were listed without any recording file; "
                "the frame has a row per file, so they have none (files still processing, or "
                "an answer without its file lists)"
            )
        start = pl.coalesce("session_start_time", "recording_start")
        raw = trim_to_range(raw, start, self.since, self.until, self.provider.name, DAYS_SLACK)
        return super().finish(raw, ctx)

    def unified(self, raw: pl.LazyFrame) -> pl.LazyFrame:
        # A file still processing is listed with "" for its type and extension, and 0 bytes.
        file_type, extension = present("file_type"), present("file_extension")
        unfinished = pl.col("status").fill_null("") != "completed"
        size = pl.when(unfinished & (pl.col("file_size") == 0)).then(None).otherwise("file_size")
        audio_only = pl.col("recording_type").str.to_lowercase() == "audio_only"
        # The extension names the file where sent; a file type, where the table knows it.
        container = pl.coalesce(
            container_normalized(extension),
            pl.when(container_known(file_type)).then(container_normalized(file_type)),
        )
        # Each of these is computed once, in its own column: written as one nested expression,
        # the container's alias tables were copied into every use (0.2 s for any Zoom load).
        by_container = container_media_type(pl.col(_CONTAINER))
        media_type = (
            pl.when((by_container.fill_null("") != "text") & audio_only)
            .then(pl.lit("audio"))
            .otherwise(by_container)
        )
        media = pl.col(_MEDIA_TYPE)
        codec = (
            pl.when(media == "video")
            .then(pl.lit("h264"))
            .when(media == "audio")
            .then(pl.lit("aac"))
        )
        start, end = pl.col("recording_start"), pl.col("recording_end")
        duration = pl.when(end >= start).then((end - start).cast(pl.Duration("ms")))
        deleted = pl.col("deleted_time").is_not_null() | pl.col("in_trash").fill_null(False)
        staged = raw.with_columns(container.alias(_CONTAINER)).with_columns(
            media_type.alias(_MEDIA_TYPE)
        )
        return staged.select(
            provider=pl.lit("zoom"),
            kind=pl.col("kind"),
            recording_id=pl.col("recording_id"),
            group_id=pl.coalesce("session_id", "file_session_id"),
            group_name=present("session_name"),
            participant_id=pl.col("user_id"),
            track_name=pl.coalesce("recording_type", "file_name"),
            status=pl.when(deleted).then(pl.lit("deleted")).otherwise(pl.col("status")),
            media_type=media,
            codec=codec,
            container=pl.col(_CONTAINER),
            created_at=pl.coalesce("session_start_time", "recording_start"),
            started_at=start,
            ended_at=end,
            deleted_at=pl.col("deleted_time"),
            duration=duration,
            size_bytes=size,
            bitrate_kbps=bitrate_kbps(size, duration),
            media_url=pl.coalesce("download_url", "external_storage_url"),
        )


# Working columns of :meth:`ZoomFiles.unified` (no raw column is named so).
_CONTAINER, _MEDIA_TYPE = "__unified_container", "__unified_media_type"


def token_expired(exc: ProviderError) -> bool:
    """Whether Zoom refused a ``next_page_token`` as expired or invalid (HTTP 400), in words
    that say so."""
    message = exc.message.lower()
    return exc.status == 400 and ("next page token" in message or "next_page_token" in message)


def token_refused(exc: ProviderError) -> bool:
    """Whether a request that carried a ``next_page_token`` was answered 400, in any words:
    the token is all that differs from the window's first page, which was answered."""
    return exc.status == 400 and "next_page_token=" in exc.url


SESSION_FILES = ZoomFiles(
    provider=ZOOM,
    list_key="sessions",
    id_column="recording_id",
    # A file's kind and type never change either: an MP4 and an M4A under one id are two files.
    identity_columns=("session_id", "recording_start", "kind", "file_type"),
    fields=(
        F("recording_id"),
        F("kind"),
        F("in_trash", pl.Boolean, as_bool),
        F("id", path="file.id"),
        F("session_id", path="session.session_id"),
        F("session_name", path="session.session_name"),
        F("session_key", path="session.session_key"),
        F("session_start_time", UTC_TIME, as_iso_time, path="session.start_time"),
        F("session_duration", pl.Int64, as_int, path="session.duration"),
        F("total_size", pl.Int64, as_count, path="session.total_size"),
        F("recording_count", pl.Int64, as_count, path="session.recording_count"),
        F("file_session_id", path="file.session_id"),
        F("recording_start", UTC_TIME, as_iso_time, path="file.recording_start"),
        F("recording_end", UTC_TIME, as_iso_time, path="file.recording_end"),
        F("file_type", path="file.file_type"),
        F("file_extension", path="file.file_extension"),
        F("file_name", path="file.file_name"),
        F("file_size", pl.Int64, as_count, path="file.file_size"),
        F("status", parse=as_lower, path="file.status"),
        F("deleted_time", UTC_TIME, as_iso_time, path="file.deleted_time"),
        F("recording_type", path="file.recording_type"),
        F("user_id", path="file.user_id"),
        F("user_key", path="file.user_key"),
        F("user_name", path="file.user_name"),
        F("download_url", parse=as_safe_url, path="file.download_url"),
        F("play_url", parse=as_safe_url, path="file.play_url"),
        F("external_storage_url", parse=as_safe_url, path="file.external_storage_url"),
    ),
)


# --- loaders ------------------------------------------------------------------------------


# Session ids are base64 (standard or URL-safe alphabet); nothing else can reach the path, so
# an id such as ".." cannot turn the request into another endpoint's.
SESSION_ID_RE = re.compile(r"[A-Za-z0-9+/=_-]{1,256}")
SESSION_ID_FORM = "a Zoom session id: base64 text such as 'KkMHZ4y8QhSUWAHi5sWvfg=='"


def session_path(session_id: str) -> str:
    """The per-session path, with the id encoded as Zoom requires.

    ``/`` and ``+`` (and every other reserved character) are always percent-encoded; an id
    that starts with ``/`` or contains ``//`` is encoded twice.

    Examples
    --------
    >>> session_path("ab/c+d==")
    '/v2/videosdk/sessions/ab%2Fc%2Bd%3D%3D/recordings'
    >>> session_path("//x")
    '/v2/videosdk/sessions/%252F%252Fx/recordings'
    """
    encoded = quote(session_id, safe="-_.!~*'()")
    if session_id.startswith("/") or "//" in session_id:
        encoded = quote(encoded, safe="-_.!~*'()")
    return f"/v2/videosdk/sessions/{encoded}/recordings"


def horizon(end: dt.datetime | None) -> Horizon:
    """Where a load asking up to ``end`` (None: open) stops: tomorrow by the system clock at
    the latest, then by Zoom's (:class:`~recanalytics.clock.Horizon`)."""
    return Horizon(end, FUTURE_MARGIN, dt.timedelta(0))


def start_of(start: dt.datetime | None, end: dt.datetime | None) -> dt.datetime:
    """Where a load from ``start`` (None: the whole history) starts."""
    return min(EPOCH, end or EPOCH) if start is None else start


def day_windows(
    start: dt.datetime | None,
    end: dt.datetime | None,
    span_days: int | None = None,
    tomorrow: dt.datetime | None = None,
) -> tuple[dt.datetime, dt.datetime | None, list[tuple[dt.date, dt.date]]]:
    """The instants to filter on and the ``from``/``to`` day ranges to request: a month each,
    or ``span_days`` days.

    The docs say neither whether ``to`` is inclusive nor in which time zone a day is read, so
    the ranges reach a day before ``start`` and two past ``end``'s last day, and each ends on
    the day the next starts (:func:`~recanalytics.windows.overlapping_months`); the rows are
    trimmed to ``[start, end)`` afterwards. No day is missed with ``to`` inclusive or
    exclusive, days of the session or of the file, or days up to a day off UTC: a server
    reading ``to`` as exclusive in a zone east of UTC still reads the last hours before
    ``end``. Never past ``tomorrow`` (default :func:`horizon`'s, by the system clock; no
    session is dated later, and Zoom may refuse it): there, such a server could miss the hours
    before ``end`` of a load reaching today.
    """
    start = start_of(start, end)
    if tomorrow is None:
        tomorrow = horizon(None).clock_end(start)
    # Days past tomorrow hold no session yet: an until years ahead would cost a request a month.
    last = ((tomorrow if end is None else min(end, tomorrow)) - dt.timedelta(microseconds=1)).date()
    if start.date() > last:
        return start, end, []  # the whole range is in the future: nothing to ask for
    day = dt.timedelta(days=1)
    first = start.date() - day if start.date() > dt.date.min else start.date()
    # Two days past the last (one for an exclusive `to`, one for a day read east of UTC), but
    # never past tomorrow (no session is dated later).
    to = min(last + 2 * day, tomorrow.date()) if last < dt.date.max - day else last
    last = max(to, last)
    if span_days is not None:
        return start, end, overlapping_spans(first, last, span_days)
    return start, end, overlapping_months(first, last)


def days_after(
    asked: list[tuple[dt.date, dt.date]], full: list[tuple[dt.date, dt.date]], span_days: int | None
) -> list[tuple[dt.date, dt.date]]:
    """The day ranges of ``full`` past the last ``to`` of ``asked``, from that day on (ranges
    share their edge days, as :func:`day_windows`'s do)."""
    if not asked or not full:
        return []
    asked_to, full_to = max(b for _, b in asked), max(b for _, b in full)
    if full_to <= asked_to:
        return []
    if span_days is not None:
        return overlapping_spans(asked_to, full_to, span_days)
    return overlapping_months(asked_to, full_to)


def refuses_range(error: ProviderError) -> bool:
    """A 400 on a window's first page, which carries ``from``/``to`` (a range wider than the
    API allows), other than a page token refused (see :func:`token_expired`); or a window
    answered for fewer days than asked (:class:`RangeNarrowed`)."""
    if isinstance(error, RangeNarrowed):
        return True
    first_page = "from=" in error.url and "next_page_token=" not in error.url
    # A 400 that names the page size (its maximum is not documented for this endpoint) is
    # not about the range: narrower windows would only repeat it.
    about_page_size = "page_size" in error.message.lower().replace(" ", "_")
    return error.status == 400 and first_page and not about_page_size and not token_expired(error)


async def aload_zoom_recordings(
    *,
    since: WhenLike | None = None,
    until: WhenLike | None = None,
    trash: bool = False,
    trash_type: Literal["session_recordings", "recording_file"] | None = None,
    page_size: int = PAGE_SIZE_MAX,
    **options: Unpack[LoadOptions],
) -> pl.DataFrame:
    """Load Zoom Video SDK cloud recordings (``GET /v2/videosdk/recordings``), one row per file.

    The range is requested as whole UTC days in windows of at most one month, loaded
    concurrently, then filtered precisely to ``[since, until)`` on the session start.

    Parameters
    ----------
    since, until : str, date or datetime, optional
        Session start on or after ``since`` and before ``until``; naive is UTC. Default:
        from 2020-01-01 (before the Video SDK existed, so the whole history, a request a
        month) until now.
    trash : bool, default False
        List the trash instead (every row then has status ``deleted``). Zoom cannot
        date-filter the trash, so ``since``/``until`` must be left out.
    trash_type : {'session_recordings', 'recording_file'}, optional
        With ``trash=True``: only whole sessions, or only single files, moved to the trash.
        Default: both (two listings, a file in both once); Zoom's own default is
        ``session_recordings``, which leaves out files deleted one at a time.
    page_size : int, default 300
        Sessions per page, 1 to 300.
    **options
        :class:`~recanalytics.options.LoadOptions`: ``credentials``, ``base_url``,
        ``transport``, ``progress``, ``max_concurrency``, ``rate_limit``, ``retry``, ``raw`` …

    Returns
    -------
    polars.DataFrame
        One row per recording file (``session_file``) and participant file
        (``participant_file``), columns as :data:`recanalytics.SCHEMA`.

    Examples
    --------
    >>> import recanalytics as ra
    >>> from recanalytics.sandbox import Sandbox
    >>> box = Sandbox(seed=1, size=200)
    >>> import asyncio
    >>> window = {"since": "2025-01-01", "until": "2026-03-01"}
    >>> df = asyncio.run(ra.aload_zoom_recordings(**window, **box.options("zoom")))
    >>> sorted(df["kind"].unique().to_list())
    ['participant_file', 'session_file']
    """
    validate.boolean(trash, "trash")
    if trash_type is not None:
        trash_type = validate.choice(trash_type, "trash_type", TRASH_TYPES)  # type: ignore[assignment]
        if not trash:
            raise ConfigError("trash_type", "to be given only with trash=True", trash_type)
    if trash and (since is not None or until is not None):
        raise ConfigError(
            "since/until",
            "no date range with trash=True (Zoom cannot date-filter the trash)",
            (since, until),
        )
    params = [("page_size", str(validate.int_range(page_size, "page_size", 1, PAGE_SIZE_MAX)))]
    start, end = parse_range(since, until)
    ctx = resolve(ZOOM, options)
    url = ctx.url("/v2/videosdk/recordings")
    if trash:
        params.append(("trash", "true"))
        # Zoom's own default lists whole sessions only: a file deleted on its own would be
        # missing from "the trash", so without a trash_type both lists are read (ids merged).
        kinds = TRASH_TYPES if trash_type is None else (trash_type,)
        endpoint = dataclasses.replace(SESSION_FILES, trash=True)
        queries = [PageRequest(url, [*params, ("trash_type", kind)]) for kind in kinds]
        return await collect(endpoint, ctx, queries)

    def query(a: dt.date, b: dt.date) -> PageRequest:
        return PageRequest(url, [*params, ("from", a.isoformat()), ("to", b.isoformat())])

    async def attempt(span_days: int | None) -> pl.DataFrame:
        planned = horizon(end)
        first = start_of(start, end)
        low, high, days = day_windows(start, end, span_days, planned.clock_end(first))
        endpoint = dataclasses.replace(SESSION_FILES, since=low, until=high)

        def more(server_now: dt.datetime | None) -> list[PageRequest]:
            # A system clock behind Zoom's: the days up to Zoom's tomorrow are asked too.
            later: list[tuple[dt.date, dt.date]] = []
            if server_now is not None:
                _, _, full = day_windows(start, end, span_days, planned.server_end(server_now))
                later = days_after(days, full, span_days)
            planned.say(ZOOM.name, server_now, first, asked=bool(later))
            return [query(a, b) for a, b in later]

        return await collect(endpoint, ctx, [query(a, b) for a, b in days], more=more)

    return await first_accepted(attempt, SPANS, refuses_range, ZOOM.name)


async def aget_zoom_session_recordings(
    session_id: str, **options: Unpack[LoadOptions]
) -> pl.DataFrame:
    """Retrieve every recording file of one Video SDK session, one row per file.

    ``GET /v2/videosdk/sessions/{sessionId}/recordings``; unlike the list, it includes
    ``participant_audio_files``. Session ids are base64 and may hold ``/`` and ``+``: they are
    encoded as Zoom requires (twice for an id starting with ``/`` or containing ``//``).

    Parameters
    ----------
    session_id : str
        The session's id as Zoom gives it (``session_id`` in the raw frame, ``group_id`` in the
        unified one).
    **options
        :class:`~recanalytics.options.LoadOptions`.

    Examples
    --------
    >>> session_id = box["zoom"].sessions[0].session_id
    >>> import asyncio
    >>> files = asyncio.run(ra.aget_zoom_session_recordings(session_id, **box.options("zoom")))
    >>> set(files["group_id"]) == {session_id}
    True
    """
    validate.pattern(session_id, "session_id", SESSION_ID_RE, SESSION_ID_FORM)
    ctx = resolve(ZOOM, options)
    url = ctx.url(session_path(session_id))
    return await fetch_one(SESSION_FILES, ctx, url, asked=("session_id", session_id))


load_zoom_recordings = syncify(aload_zoom_recordings, "load_zoom_recordings")
get_zoom_session_recordings = syncify(aget_zoom_session_recordings, "get_zoom_session_recordings")

# A file moved to the trash is gone from the list (only trash=True lists it), but the store does
# not read that as its deletion (not drops_deleted): a session can be listed without its file
# lists (files still processing, a trimmed answer), and Zoom rows name no account, so a file not
# listed cannot be told from one the answer left out or another account's.
LOADER = Loader(
    "zoom",
    ("session_file", "participant_file"),
    aload_zoom_recordings,
    SESSION_FILES,
)
"""What ``load()`` runs for this endpoint, and the kinds of rows it returns."""
