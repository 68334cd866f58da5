"""SignalWire Compatibility (LaML) API recordings
(``GET /api/laml/2010-04-01/Accounts/{ProjectID}/Recordings.json``).

The host is the customer's own space (``https://{space}.signalwire.com``), taken from the
credentials. Pages are linked by a relative ``next_page_uri`` (a page token inside), so one query
is paged strictly in order; a ``since``/``until`` range is split into sub-ranges that are paged
concurrently, as for Twilio.

Date filters: ``DateCreated>`` and ``DateCreated<`` take RFC 2822 date-times at whole-second
precision, and their names say *strictly* greater / less. ``since`` (inclusive) is therefore sent
as ``DateCreated>`` one second before the first whole second at or after ``since``, and ``until``
(exclusive) as ``DateCreated<`` the first whole second at or after ``until``. Should the API read
them inclusively instead, the rows this adds at the two edges are removed again here (rows are
kept in ``[since, until)`` on ``date_created``, and de-duplicated by sid), so the result is the
same either way. Should it read them by the day, as Twilio's 2010 API documents its own
(``DateCreated>`` a date: from its midnight; ``DateCreated<`` a date: before its midnight), an
``until`` inside a day would lose the rows from that day's midnight on: the load asks up to the
next midnight (:func:`next_midnight`) and trims. So does the rest of a window the planner splits
after its first page (``rest_end``), which would otherwise end at the oldest row read, any time
of day; its pieces meet at midnights (``align``), and every ``DateCreated>`` is the second
before a midnight, so a server reading ``>`` a date from the next midnight loses nothing either.

Which date format the live API requires is unconfirmed: the docs say RFC 2822, the official SDK
sends ISO 8601 (``2018-09-26T00:00:00Z``). The load sends RFC 2822 and, where the API refuses it
(HTTP 400 with nothing loaded), loads again in ISO 8601. An API that ignores filters it cannot
read answers every window with the whole list: the planner sees a page outside its window and
reads the list once, whole, without date filters; the rows are trimmed here (a ``LoadWarning``
says so).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import email.utils
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, ClassVar, Literal, Unpack
from urllib.parse import quote, unquote, urlsplit

import polars as pl

from recanalytics import validate
from recanalytics.blank import present
from recanalytics.credentials import Credentials
from recanalytics.errors import ConfigError, CredentialsError, NotFoundError, ProviderError
from recanalytics.fields import F
from recanalytics.options import Context, LoadOptions, resolve
from recanalytics.paging import PageRequest, RelativeUriPager
from recanalytics.parsers import (
    as_count,
    as_float,
    as_fractional_seconds,
    as_lower,
    as_rfc2822_time,
)
from recanalytics.providers.base import Endpoint, Loader, ProviderSpec, fetch_one
from recanalytics.providers.common import (
    UTC_TIME,
    ceil_second,
    first_accepted,
    seconds_to_duration,
    trim_to_range,
)
from recanalytics.providers.planner import collect_spread
from recanalytics.rates import StorageRate
from recanalytics.sync import syncify
from recanalytics.windows import WhenLike, Window, day_range, parse_range

log = logging.getLogger("recanalytics")
# Both path forms are in use: the docs' (first) and the official SDK's (bare, on the space host).
API_PATHS = ("/api/laml/2010-04-01", "/2010-04-01")
VERSION_PATH = "/2010-04-01/"
API_PATH = API_PATHS[0]
PAGE_SIZE_MAX = 1000
# The Compatibility API's recordings start here; a load without since splits its history from
# this date (the first window stays open below it, so nothing older is missed).
EPOCH = dt.datetime(2018, 1, 1, tzinfo=dt.UTC)
# How far outside since/until a listed row may lie before it shows an answer the date filter
# excludes: ``since`` is asked from the second before its midnight, which a server reading the
# filter by the day may read from the midnight before that.
DAYS_SLACK = dt.timedelta(days=2)
# The longest stated duration a missing start or end time is derived from: past it the sum
# would be no recording's time (and near the calendar's ends, no time at all).
MAX_DERIVED = dt.timedelta(days=7)
EARLIEST = dt.datetime.min.replace(tzinfo=dt.UTC) + MAX_DERIVED
LATEST = dt.datetime.max.replace(tzinfo=dt.UTC) - MAX_DERIVED
MEDIA_FORMATS = ("wav", "mp3")
CODECS = {"wav": "pcm_s16le", "mp3": "mp3"}
"""The codec of the media each ``media_format`` serves."""
UUID_RE = re.compile(
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
)
UUID_FORM = "a UUID (8-4-4-4-12 hex digits)"


# A space name or host[:port], or an http(s) URL of one (whose path is ignored): dot-separated
# labels of 1 to 63 letters, digits or inner hyphens (RFC 1123), 253 characters in all (below).
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOST = rf"{_LABEL}(?:\.{_LABEL})*(?::\d{{1,5}})?"
HOST_MAX = 253
_SPACE_RE = re.compile(rf"(?i:https?)://{_HOST}(?:/.*)?|{_HOST}/?")


# SignalWire's API tokens: PT and 48 hex digits.
_TOKEN_RE = re.compile(r"PT[0-9A-Fa-f]{32,}")


@dataclasses.dataclass(frozen=True, repr=False)
class SignalWireCredentials(Credentials):
    """SignalWire Project ID, API token and space: a name (``example``), a host
    (``example.signalwire.com``) or a URL (``https://example.signalwire.com``), read from
    ``SIGNALWIRE_SPACE`` or, as the official SDK names it, ``SIGNALWIRE_SPACE_URL``."""

    project_id: str | None = None
    api_token: str | None = None
    space: str | None = None

    provider: ClassVar[str] = "signalwire"
    env: ClassVar[dict[str, tuple[str, ...]]] = {
        "project_id": ("SIGNALWIRE_PROJECT_ID",),
        "api_token": ("SIGNALWIRE_API_TOKEN",),
        "space": ("SIGNALWIRE_SPACE", "SIGNALWIRE_SPACE_URL"),
    }
    secret_fields: ClassVar[frozenset[str]] = frozenset({"api_token"})
    required: ClassVar[tuple[str, ...]] = ("project_id", "api_token", "space")
    basic_pairs: ClassVar[tuple[tuple[str, str], ...]] = (("project_id", "api_token"),)
    # A UUID; it is a segment of every path (``/Accounts/{project_id}/``), so nothing that could
    # change the path is accepted.
    forms: ClassVar[dict[str, tuple[re.Pattern[str], str]]] = {
        "project_id": (
            re.compile(r"[0-9A-Za-z-]{1,64}"),
            "a Project ID: 1 to 64 letters, digits or hyphens (SignalWire's are UUIDs such as "
            "'a1b2c3d4-0000-4000-8000-0123456789ab')",
        ),
    }
    # The space is the host a load reaches, which the store keeps apart already.
    account_fields: ClassVar[tuple[str, ...]] = ("project_id",)
    # A recording's account_sid is the Project ID.
    row_account_field: ClassVar[str | None] = "project_id"

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.project_id and _TOKEN_RE.fullmatch(self.project_id):
            # Swapped with the token, it would be written into every URL and error shown.
            raise CredentialsError(
                self.provider,
                "project_id (env SIGNALWIRE_PROJECT_ID) looks like an API token (PT...); "
                "it must be the Project ID, a UUID such as 'a1b2c3d4-0000-4000-8000-0123456789ab'",
            )
        port = (
            re.search(r":(\d+)(?:/|$)", self.space.strip().split("://")[-1])
            if isinstance(self.space, str)
            else None
        )
        if (
            not isinstance(self.space, str)
            or not _SPACE_RE.fullmatch(self.space.strip())
            or (port is not None and not 1 <= int(port[1]) <= 65535)
            or len(urlsplit(self.space_url).hostname or "") > HOST_MAX
        ):
            raise CredentialsError(
                self.provider,
                "space (env SIGNALWIRE_SPACE or SIGNALWIRE_SPACE_URL) must be a space name, "
                "a host such as example.signalwire.com, or an http(s):// URL of one (a host "
                f"of dot-separated labels of 1 to 63 letters, digits or hyphens, {HOST_MAX} "
                "characters at most)",
            )

    @property
    def space_url(self) -> str:
        """``https://{space}.signalwire.com``; a host or URL keeps its host (and scheme)."""
        text = (self.space or "").strip()
        scheme, _, rest = text.rpartition("://")
        host = rest.split("/", 1)[0]
        host = host if "." in host or ":" in host else f"{host}.signalwire.com"
        return f"{scheme.lower() or 'https'}://{host}"

    def basic_auth(self) -> tuple[str, str]:
        assert self.project_id and self.api_token
        return self.project_id, self.api_token


class SignalWireSpec(ProviderSpec):
    """The host is the customer's space, so the default base URL comes from the credentials."""

    def default_base_url(self, credentials: Credentials) -> str:
        assert isinstance(credentials, SignalWireCredentials)
        return credentials.space_url


SIGNALWIRE = SignalWireSpec(
    name="signalwire",
    credentials=SignalWireCredentials,
    base_url="https://example.signalwire.com",
    # GET is documented as effectively unlimited; stay polite anyway.
    rate=50.0,
    rate_period=1.0,
    concurrency=10,
    media_auth=False,  # .wav/.mp3 URLs are public: fetched without credentials
    color="#CC79A7",  # Okabe-Ito, colour-blind safe; one per provider in every chart
    storage_rate=StorageRate(
        0.0005,
        "minute_month",
        "ASSUMPTION: SignalWire publishes no storage rate we could confirm; uses the "
        "Twilio Programmable Voice recording storage list price (USD 0.0005 per minute "
        "per month), which SignalWire's compatible API mirrors",
        "2026-11-23",
        assumption=True,
    ),
    # price: what making the recording was charged, once.
    cost_kind="one-off",
    emulator="recanalytics.sandbox.signalwire:SignalWireEmulator",
)

# How this module reads SignalWire's answers into unified rows. Bump it with any change to that
# reading: a store's coverage and an archive's manifest record it, and what was read under an
# older one is loaded again (docs/store-media-archive.md).
# 2: a blank sid is no id; a record uri that is no .json path gives the media URL built from
# account and sid.
# Media URLs under a base_url's path (a gateway's, see under_base_url) needed no new reading:
# the space's own base_url has no path, and its rows read as before, so re-reading every
# store once would have changed nothing for them.
READING = 2
REREAD: dict[int, frozenset[str]] = {2: frozenset({"media_url"})}
"""The unified columns each ``READING`` read otherwise than the one before (the rest, an
archive keeps from an earlier run's reading)."""


@dataclasses.dataclass
class SignalWirePager(RelativeUriPager):
    """Follow ``next_page_uri`` on the API root that answered the query's first page.

    The docs' URIs carry the ``/api/laml`` prefix, while the Twilio-based SDK joins them to its
    own root (``https://{space}`` without the prefix, or a proxy's path): which form a space
    sends back is not certain. So the URI's part from ``/2010-04-01/`` on (its path and query,
    page token included, as returned) is requested under the root the first page came from
    (:func:`~recanalytics.paging.linked_url`); a URI without that part is joined to the first
    request's URL as it is.
    """

    api_root: str = VERSION_PATH


@dataclasses.dataclass(frozen=True)
class SignalWireRecordings(Endpoint):
    """Recordings of one load: its base URL and media format build ``media_url``, and rows
    outside ``[since, until)`` (the edges an inclusive reading of the date filters adds) are
    dropped."""

    #: the load's ``base_url``, a proxy's path kept: a record's ``uri`` (a path from the API's
    #: host) is under it, as the pages are
    base_url: str = ""
    media_format: str = "wav"
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    # api-contracts.md (S-SPEC): the list is newest first. A window is split on the order its
    # pages show without reading again the part a split takes as read.
    documented_newest_first: ClassVar[bool] = True

    def pager(self, ctx: Context, first: PageRequest) -> RelativeUriPager:
        return SignalWirePager(self.provider.name, first, max_pages=ctx.max_pages)

    def dedupe(self, raw: pl.DataFrame) -> pl.DataFrame:
        created = pl.col("date_created")
        kept = super().dedupe(raw)
        return trim_to_range(kept, created, self.since, self.until, self.provider.name, DAYS_SLACK)

    def unified(self, raw: pl.LazyFrame) -> pl.LazyFrame:
        conference = pl.col("conference_sid")
        start, end = pl.col("start_time"), pl.col("end_time")
        # The resource's query (a signature, a page token) is its own, not the media's: the
        # media URL is public and is kept free of anything a query could carry.
        given = pl.col("uri").str.replace(r"[?#].*$", "")
        # A uri that is no absolute path or http(s) URL of a .json resource ("", "42", a
        # relative path) would give a media URL such as ".wav": the record's own path is used.
        usable = given.str.contains(r"^(?i:/|https?://)\S*(?i:\.json)$")
        own = pl.format(
            API_PATH + "/Accounts/{}/Recordings/{}.json", pl.col("account_sid"), pl.col("sid")
        )
        uri = pl.when(usable).then(pl.col("uri")).otherwise(own)
        resource = pl.when(usable).then(given).otherwise(own)
        media = resource.str.replace(r"(?i)\.json$", "") + f".{self.media_format}"
        price = pl.col("price")
        stated = seconds_to_duration(pl.col("duration"))
        return raw.select(
            provider=pl.lit("signalwire"),
            kind=pl.when(present(conference).is_not_null())
            .then(pl.lit("conference"))
            .otherwise(pl.lit("call")),
            recording_id=pl.col("sid"),
            account_id=pl.col("account_sid"),
            group_id=pl.coalesce(
                present(conference),
                present("call_sid"),
            ),
            status=pl.col("status"),
            media_type=pl.lit("audio"),
            codec=pl.lit(CODECS[self.media_format]),
            container=pl.lit(self.media_format),
            created_at=pl.col("date_created"),
            # One end and the length give the other (the 2010 API's examples list start_time
            # and duration only; SignalWire's own, end_time only).
            started_at=pl.coalesce(
                start, pl.when((stated <= MAX_DERIVED) & (end >= EARLIEST)).then(end - stated)
            ),
            ended_at=pl.coalesce(
                end, pl.when((stated <= MAX_DERIVED) & (start <= LATEST)).then(start + stated)
            ),
            duration=pl.coalesce(
                stated, pl.when(end >= start).then(end - start).cast(pl.Duration("ms"))
            ),
            # The older schema has ``channels`` (an integer), the current one both ``channels``
            # and ``channel`` (strings "1"/"2").
            channels=pl.coalesce("channels", "channel"),
            # SignalWire reports a charge as a negative price.
            cost=price.abs(),
            cost_unit=pl.when(price.is_not_null()).then(pl.col("price_unit").str.to_uppercase()),
            media_url=pl.when(uri.str.starts_with("/"))
            .then(under_base_url(self.base_url, media))
            .otherwise(media),
        )


def under_base_url(base_url: str, path: pl.Expr) -> pl.Expr:
    """``path``, a path from the API's host (a record's ``uri``), as a URL under ``base_url``.

    As :func:`~recanalytics.paging.linked_url` asks a next-page URI: its part from
    ``/2010-04-01/`` on goes under the root the pages were asked on. That root is ``base_url``
    and the URI's own API prefix (``/api/laml``), the prefix not asked twice where
    ``base_url`` already ends with it (the LaML root SignalWire's docs give as the base URL,
    whose pages answer on the bare ``/2010-04-01`` form under it). The root comes from
    ``base_url`` alone, not from the request that answered, so that unified rows rebuilt from
    raw ones (an archive's) have the same URLs as the load's.

    Examples
    --------
    >>> uri = pl.lit("/api/laml/2010-04-01/Accounts/P/Recordings/R.wav")
    >>> for base in ("https://s.signalwire.com", "https://s.signalwire.com/api/laml",
    ...              "https://gw.example/sw"):
    ...     print(pl.select(under_base_url(base, uri)).item())
    https://s.signalwire.com/api/laml/2010-04-01/Accounts/P/Recordings/R.wav
    https://s.signalwire.com/api/laml/2010-04-01/Accounts/P/Recordings/R.wav
    https://gw.example/sw/api/laml/2010-04-01/Accounts/P/Recordings/R.wav
    """
    base = base_url.rstrip("/")
    base_path = urlsplit(base).path
    if not base_path:  # the space's host: the path as it is
        return pl.lit(base) + path
    # The path's API prefix ("/api/laml", or "" for the bare form); null without the version.
    prefix = path.str.extract(f"^(.*?){re.escape(VERSION_PATH)}", 1)
    repeated = pl.lit(base_path).str.ends_with(prefix)
    rest = pl.when(repeated).then(path.str.slice(prefix.str.len_chars())).otherwise(path)
    return pl.lit(base) + rest


RECORDINGS = SignalWireRecordings(
    provider=SIGNALWIRE,
    list_key="recordings",
    id_column="sid",
    created_column="date_created",
    identity_columns=("date_created", "call_sid", "conference_sid"),
    fields=(
        F("sid"),
        F("account_sid"),
        F("api_version"),
        F("call_sid"),
        F("conference_sid"),
        # Counts: a negative one is unreadable (null, reported), not a channel count.
        F("channels", pl.Int8, as_count),
        F("channel", pl.Int8, as_count),
        F("date_created", UTC_TIME, as_rfc2822_time),
        F("date_updated", UTC_TIME, as_rfc2822_time),
        F("start_time", UTC_TIME, as_rfc2822_time),
        F("end_time", UTC_TIME, as_rfc2822_time),
        F("duration", pl.Float64, as_fractional_seconds),
        F("price", pl.Float64, as_float),
        F("price_unit"),
        F("source"),
        F("status", parse=as_lower),
        F("error_code"),
        F("uri"),
        F("subresource_uris"),
        F("encryption_details"),
        F("trim"),
    ),
)


def rfc2822(moment: dt.datetime) -> str:
    """``Wed, 26 Sep 2018 00:00:00 +0000``."""
    return email.utils.format_datetime(moment.astimezone(dt.UTC))


def iso(moment: dt.datetime) -> str:
    """``2018-09-26T00:00:00Z``, as the official SDK (on twilio-python) writes date filters."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# The documented form first; the SDK's if the API refuses it (see aload_signalwire_recordings).
DATE_STYLES: dict[str, Callable[[dt.datetime], str]] = {"rfc2822": rfc2822, "iso": iso}


def last_midnight(moment: dt.datetime) -> dt.datetime:
    """The midnight (UTC) at or before ``moment``."""
    return moment.astimezone(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def next_midnight(moment: dt.datetime) -> dt.datetime:
    """``moment`` if it is a midnight (UTC), else the next one (or the calendar's end)."""
    midnight = last_midnight(moment)
    if midnight == moment:
        return moment
    try:
        return midnight + dt.timedelta(days=1)
    except OverflowError:
        return moment


def asked_window(window: Window) -> Window:
    """The range a window's request may be answered for (see :func:`date_params`): its filters
    read as sent, or by the day, a ``DateCreated>`` from its date's midnight and a
    ``DateCreated<`` through its whole date. Rows there are answered as asked (the loader trims
    them): no sign of a server that ignores the filters. Asked from the second before the
    start's midnight only, a by-day server's page of that day read as one: a one-day load
    walked the whole list unfiltered (180 requests instead of 7)."""
    start = end = None
    with contextlib.suppress(OverflowError):  # the calendar's ends: unbounded there
        start = None if window.start is None else last_midnight(window.start) - dt.timedelta(days=1)
    with contextlib.suppress(OverflowError):
        end = (
            None
            if window.end is None
            else last_midnight(ceil_second(window.end)) + dt.timedelta(days=1)
        )
    return Window(start, end)


def date_params(
    start: dt.datetime | None, end: dt.datetime | None, style: str = "rfc2822"
) -> list[tuple[str, str]]:
    """``DateCreated>`` / ``DateCreated<`` for ``[start, end)``, read as strict at whole seconds.

    ``DateCreated>`` is the second before ``start``'s midnight: read by the day, whether from
    that date's midnight or after the date, it still reaches ``start`` (the rows before it are
    trimmed, see :class:`SignalWireRecordings`).
    """
    write = DATE_STYLES[style]
    params = []
    if start is not None:
        params.append(("DateCreated>", write(last_midnight(start) - dt.timedelta(seconds=1))))
    if end is not None:
        params.append(("DateCreated<", write(ceil_second(end))))
    return params


def refuses_date_filter(error: ProviderError) -> bool:
    """A 400 on a request that carried a date filter. A load without ``since`` reads its first
    pages unfiltered, so the refusal can come after rows were loaded."""
    return error.status == 400 and "DateCreated" in unquote(error.url)


async def in_either_date_style(attempt: Callable[[str], Awaitable[pl.DataFrame]]) -> pl.DataFrame:
    """Run ``attempt(style)`` with the documented RFC 2822 date filters and, where the API
    refuses them (HTTP 400), with the ISO 8601 ones the official SDK sends."""
    return await first_accepted(attempt, tuple(DATE_STYLES), refuses_date_filter, SIGNALWIRE.name)


def path_not_found(error: ProviderError) -> bool:
    """A 404 before anything was loaded: a 404 later is about something else."""
    return isinstance(error, NotFoundError) and (error.partial is None or not error.partial.height)


async def on_either_path(attempt: Callable[[str], Awaitable[pl.DataFrame]]) -> pl.DataFrame:
    """Run ``attempt(api_path)`` on the documented path and, where that path is answered 404,
    on the other form in use."""
    return await first_accepted(attempt, API_PATHS, path_not_found, SIGNALWIRE.name)


def account_path(ctx: Context, api_path: str = API_PATH) -> str:
    credentials = ctx.credentials
    assert isinstance(credentials, SignalWireCredentials)
    return f"{api_path}/Accounts/{quote(credentials.project_id or '', safe='')}"


def endpoint_for(
    ctx: Context,
    media_format: str,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> SignalWireRecordings:
    return dataclasses.replace(
        RECORDINGS, base_url=ctx.base_url, media_format=media_format, since=since, until=until
    )


async def aload_signalwire_recordings(
    *,
    since: WhenLike | None = None,
    until: WhenLike | None = None,
    call_sid: str | None = None,
    conference_sid: str | None = None,
    page_size: int = PAGE_SIZE_MAX,
    media_format: Literal["wav", "mp3"] = "wav",
    created_on: str | dt.date | None = None,
    **options: Unpack[LoadOptions],
) -> pl.DataFrame:
    """Load SignalWire Compatibility API recordings into the unified frame.

    ``GET /api/laml/2010-04-01/Accounts/{ProjectID}/Recordings.json`` on the space of the
    credentials (or ``/2010-04-01/…``, the form the official SDK uses, where the first is 404). A ``since``/``until`` range is split into sub-ranges paged concurrently (each
    follows its ``next_page_uri`` in order); rows are de-duplicated by sid.

    Parameters
    ----------
    since, until : str, date or datetime, optional
        Created at or after ``since`` and before ``until``; naive is UTC. Sent as
        ``DateCreated>`` / ``DateCreated<`` (see the module notes on their edges).
    call_sid, conference_sid : str, optional
        UUIDs of a call or a conference.
    page_size : int, default 1000
        ``PageSize``, 1 to 1000.
    media_format : {'wav', 'mp3'}, default 'wav'
        Extension of the built ``media_url`` (SignalWire serves both; the URLs are public).
    created_on : str or date, optional
        Recordings created on this day (UTC), the API's ``DateCreated`` filter: a
        ``datetime.date`` or ``'YYYY-MM-DD'``, instead of ``since``/``until``. It is loaded as
        the range from that midnight to the next (``DateCreated>``/``DateCreated<``), whose
        edges the load already reads safely whichever way the server reads them; an exact
        ``DateCreated`` a server compared with a time of day would find nothing.
    **options
        :class:`~recanalytics.options.LoadOptions`: ``credentials``, ``base_url``,
        ``transport``, ``progress``, ``max_concurrency``, ``rate_limit``, ``retry``, ``raw`` …

    Returns
    -------
    polars.DataFrame
        One row per recording, columns as :data:`recanalytics.SCHEMA`: kind ``call`` or
        ``conference``, ``group_id`` the conference or call sid, ``cost`` the price as a
        positive amount (charged once, not per month), ``size_bytes`` null (SignalWire gives
        no size).

    Examples
    --------
    >>> import recanalytics as ra
    >>> from recanalytics.sandbox import Sandbox
    >>> box = Sandbox(seed=1, size=200)
    >>> import asyncio
    >>> df = asyncio.run(ra.aload_signalwire_recordings(media_format="mp3", **box.options("signalwire")))
    >>> df["container"].unique().to_list()
    ['mp3']
    """
    params: list[tuple[str, str]] = []
    if call_sid is not None:
        params.append(("CallSid", validate.pattern(call_sid, "call_sid", UUID_RE, UUID_FORM)))
    if conference_sid is not None:
        sid = validate.pattern(conference_sid, "conference_sid", UUID_RE, UUID_FORM)
        params.append(("ConferenceSid", sid))
    size = validate.int_range(page_size, "page_size", 1, PAGE_SIZE_MAX)
    params.append(("PageSize", str(size)))
    fmt = validate.choice(media_format, "media_format", MEDIA_FORMATS)
    start: dt.datetime | None
    end: dt.datetime | None
    if created_on is not None:
        if since is not None or until is not None:
            raise ConfigError(
                "created_on",
                "a day given without since/until (it is a range of its own)",
                created_on,
            )
        start, end = day_range(created_on, "created_on")
    else:
        start, end = parse_range(since, until)
    ctx = resolve(SIGNALWIRE, options)
    # Read by the day as Twilio's 2010 API documents its own (``DateCreated<`` a date: before
    # that date's midnight), a ``DateCreated<`` inside a day would leave out the rows from its
    # midnight on; the load asks up to the next midnight and trims to ``until``.
    asked_end = end if end is None else next_midnight(end)

    async def attempt(api_path: str) -> pl.DataFrame:
        url = ctx.url(f"{account_path(ctx, api_path)}/Recordings.json")

        async def dated(style: str) -> pl.DataFrame:
            return await collect_spread(
                endpoint_for(ctx, fmt, start, end),
                ctx,
                start,
                asked_end,
                lambda w: PageRequest(url, [*params, *date_params(w.start, w.end, style)]),
                page_limit=size,
                epoch=EPOCH,
                # A window split after its first pages leaves a rest ending at its oldest row
                # read: a DateCreated< there, read by the day, would end at that day's
                # midnight and lose the hours up to the row. Asked up to the next midnight,
                # the rest's end is read the same either way (the rows re-read are de-duplicated).
                rest_end=next_midnight,
                align=last_midnight,
                asked=asked_window,
            )

        return await in_either_date_style(dated)

    return await on_either_path(attempt)


async def aget_signalwire_recording(
    sid: str,
    *,
    media_format: Literal["wav", "mp3"] = "wav",
    **options: Unpack[LoadOptions],
) -> pl.DataFrame:
    """Retrieve one SignalWire recording (``GET …/Recordings/{Sid}.json``) as a 1-row frame.

    Parameters
    ----------
    sid : str
        The recording's UUID.
    media_format : {'wav', 'mp3'}, default 'wav'

    Examples
    --------
    >>> sid = box["signalwire"].recordings.records[0].sid
    >>> import asyncio
    >>> one = asyncio.run(ra.aget_signalwire_recording(sid, **box.options("signalwire")))
    """
    validate.pattern(sid, "sid", UUID_RE, UUID_FORM)
    fmt = validate.choice(media_format, "media_format", MEDIA_FORMATS)
    ctx = resolve(SIGNALWIRE, options)

    async def attempt(api_path: str) -> pl.DataFrame:
        url = ctx.url(f"{account_path(ctx, api_path)}/Recordings/{sid}.json")
        return await fetch_one(endpoint_for(ctx, fmt), ctx, url, asked=("sid", sid))

    return await on_either_path(attempt)


load_signalwire_recordings = syncify(aload_signalwire_recordings, "load_signalwire_recordings")
get_signalwire_recording = syncify(aget_signalwire_recording, "get_signalwire_recording")


def endpoint_for_options(options: Mapping[str, Any]) -> SignalWireRecordings:
    """The endpoint a load with ``options`` used: its media URLs are under its base URL."""
    load_options = {k: v for k, v in options.items() if k != "media_format"}
    return endpoint_for(resolve(SIGNALWIRE, load_options), options.get("media_format", "wav"))


def in_media_format(rows: pl.DataFrame, options: Mapping[str, Any]) -> pl.DataFrame:
    """Unified rows loaded with the default ``media_format`` ("wav"), as a load with the
    ``media_format`` in ``options`` reads them: the media URL's extension, codec and container.

    A store keeps SignalWire's rows as the default load reads them, so a ``store=`` load asking
    for mp3 never writes mp3 URLs over them, and its answer still has them.

    Examples
    --------
    >>> rows = pl.DataFrame({"media_url": ["https://x/Recordings/RE1.wav"],
    ...                      "codec": ["pcm_s16le"], "container": ["wav"]})
    >>> in_media_format(rows, {"media_format": "mp3"}).row(0)
    ('https://x/Recordings/RE1.mp3', 'mp3', 'mp3')
    """
    fmt = validate.choice(options.get("media_format", "wav"), "media_format", MEDIA_FORMATS)
    if fmt == "wav" or rows.is_empty():
        return rows
    return rows.with_columns(
        media_url=pl.col("media_url").str.replace(r"\.wav$", f".{fmt}"),
        codec=pl.lit(CODECS[fmt]),
        container=pl.lit(fmt),
    )


LOADER = Loader(
    "signalwire",
    ("call", "conference"),
    aload_signalwire_recordings,
    RECORDINGS,
    endpoint_for=endpoint_for_options,
    style_options=("media_format",),
    restyle=in_media_format,
    # A recording deleted (DELETE …/Recordings/{sid}) is gone from the list, as in the
    # Compatibility API it copies: no "deleted" status is ever listed.
    drops_deleted=True,
)
"""What ``load()`` runs for this endpoint, and the kinds of rows it returns."""
