"""Twilio Video: track recordings (``GET /v1/Recordings``).

Compositions live in :mod:`recanalytics.providers.twilio_compositions`; both share
:data:`TWILIO`, the connection facts.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Literal, Unpack

import polars as pl

from recanalytics import validate
from recanalytics.blank import present
from recanalytics.credentials import Credentials
from recanalytics.errors import CredentialsError
from recanalytics.fields import F
from recanalytics.options import LoadOptions, resolve
from recanalytics.paging import PageRequest
from recanalytics.parsers import as_count, as_fractional_seconds, as_int, as_iso_time, as_lower
from recanalytics.providers.base import Archival, Endpoint, Loader, ProviderSpec, fetch_one
from recanalytics.providers.common import (
    UTC_TIME,
    bitrate_kbps,
    ceil_second,
    iso_z,
    seconds_to_duration,
    trim_to_range,
)
from recanalytics.providers.planner import collect_spread
from recanalytics.rates import StorageRate
from recanalytics.sync import syncify
from recanalytics.windows import WhenLike, parse_range


@dataclasses.dataclass(frozen=True, repr=False)
class TwilioCredentials(Credentials):
    """Account SID + Auth Token, or API Key SID + secret (the key pair wins when both are set).

    Examples
    --------
    >>> creds = TwilioCredentials(account_sid="AC" + "0" * 32, auth_token="t0ken-value")
    >>> "t0ken-value" in repr(creds)
    False
    """

    account_sid: str | None = None
    auth_token: str | None = None
    api_key: str | None = None
    api_secret: str | None = None

    provider: ClassVar[str] = "twilio"
    env: ClassVar[dict[str, tuple[str, ...]]] = {
        "account_sid": ("TWILIO_ACCOUNT_SID",),
        "auth_token": ("TWILIO_AUTH_TOKEN",),
        "api_key": ("TWILIO_API_KEY",),
        "api_secret": ("TWILIO_API_SECRET", "TWILIO_API_KEY_SECRET"),
    }
    secret_fields: ClassVar[frozenset[str]] = frozenset({"auth_token", "api_secret"})
    basic_pairs: ClassVar[tuple[tuple[str, str], ...]] = (
        ("account_sid", "auth_token"),
        ("api_key", "api_secret"),
    )
    # Twilio's SIDs are the prefix and 32 hex digits; letters and digits of any length are
    # accepted after it, so a placeholder such as "ACXXXX…" still works against a mock.
    forms: ClassVar[dict[str, tuple[re.Pattern[str], str]]] = {
        "account_sid": (
            re.compile(r"AC[0-9A-Za-z]{1,62}"),
            "an Account SID: 'AC' and up to 62 letters or digits (a real one: 32 hex digits)",
        ),
        "api_key": (
            re.compile(r"SK[0-9A-Za-z]{1,62}"),
            "an API Key SID: 'SK' and up to 62 letters or digits (a real one: 32 hex digits)",
        ),
    }
    # An API key and the auth token of one account reach one account: the SID names it when
    # given; a key given alone is its own name (the account it belongs to is not known here).
    account_fields: ClassVar[tuple[str, ...]] = ("account_sid", "api_key")
    # Every recording's account_sid is the Account SID (an API key's SID is never a row's).
    row_account_field: ClassVar[str | None] = "account_sid"

    def __post_init__(self) -> None:
        self.check_types()  # not the base's required fields: either pair will do
        if not ((self.api_key and self.api_secret) or (self.account_sid and self.auth_token)):
            raise CredentialsError(
                "twilio",
                "missing credentials: set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN, "
                "or TWILIO_API_KEY and TWILIO_API_SECRET",
            )

    def basic_auth(self) -> tuple[str, str]:
        if self.api_key and self.api_secret:
            return self.api_key, self.api_secret
        assert self.account_sid and self.auth_token
        return self.account_sid, self.auth_token


# Programmable Video's first recordings date from 2015: a load without since splits its history
# from here (the first window stays open below it, so nothing older is missed).
VIDEO_EPOCH = dt.datetime(2015, 1, 1, tzinfo=dt.UTC)
# Twilio Programmable Video shuts down on this day: what an account holds is archived before.
RETIRES = dt.date(2026, 12, 5)

TWILIO = ProviderSpec(
    name="twilio",
    credentials=TwilioCredentials,
    base_url="https://video.twilio.com",
    rate=80.0,  # Twilio's default REST read limit per account
    rate_period=1.0,
    # Enough in flight to use 80 req/s at 300 ms per request; Twilio's concurrency limit
    # (429 with error 20429) is well above it, and is retried if met.
    concurrency=24,
    media_auth=True,  # …/Media answers only with Basic auth (then redirects to storage)
    media_envelope="redirect_to",  # …/Media answers {"redirect_to": <pre-signed URL>}
    id_capitals=2,  # RT…/CJ… and 32 lower-case hex digits
    color="#D55E00",  # Okabe-Ito, colour-blind safe; one per provider in every chart
    storage_rate=StorageRate(
        0.05,
        "gb_month",
        "Twilio support article 1260801527870 (Video recording/composition storage, "
        "USD 0.05 per GB per month, first 10 GB free, unchanged since 2017; billing "
        "restarted 2021-02-01)",
        "2026-11-23",
    ),
    emulator="recanalytics.sandbox.twilio:TwilioEmulator",
    archive=Archival(VIDEO_EPOCH, "Programmable Video", RETIRES),
)

# How this module reads Twilio's answers into unified rows. Bump it with any change to that
# reading: a store's coverage and an archive's manifest record it, and what was read under an
# older one is loaded again (docs/store-media-archive.md).
# 2: a blank sid is no id (recordings sent with sid "" were one row); a blank track_name is the
# source_sid.
READING = 2
REREAD: dict[int, frozenset[str]] = {2: frozenset({"track_name"})}
"""The unified columns each ``READING`` read otherwise than the one before (the rest, an
archive keeps from an earlier run's reading)."""

RECORDING_STATUSES = ("processing", "completed", "deleted", "failed")
MEDIA_TYPES = ("audio", "video", "data")
PAGE_SIZE_MAX = 100  # 1000 until 2025-06-12
# Statuses (tracks' and compositions') whose duration and size Twilio reports as 0 until the
# media exists: a 0 there is unknown, not a length.
UNFINISHED = ("enqueued", "processing", "failed")
# A deleted recording's media is gone but, Twilio documents, its metadata stays: a duration or
# size it still states is the recording's. A 0 there is not one (a track lasts at least a
# second: "sub-second tracks have a Duration of 1 second"), but what a dying API may answer for
# media it no longer holds, as it does for media not made yet.
NO_MEDIA = (*UNFINISHED, "deleted")
PAGE_SIZE_DEFAULT = 50


@dataclasses.dataclass(frozen=True)
class TwilioList(Endpoint):
    """A Twilio list loaded for ``[since, until)``: rows outside it are dropped.

    The date filters take whole seconds, so they are sent widened to whole seconds (see
    :func:`date_params`); a ``date_created`` with a fraction of a second (Twilio documents whole
    seconds, but may not send them) is then placed exactly here. Rows without a readable
    ``date_created`` are kept: they cannot be placed, and the API chose to return them.
    """

    since: dt.datetime | None = None
    until: dt.datetime | None = None

    def dedupe(self, raw: pl.DataFrame) -> pl.DataFrame:
        kept = super().dedupe(raw)
        created = pl.col(self.created_column)
        return trim_to_range(kept, created, self.since, self.until, self.provider.name)

    @staticmethod
    def until_media(column: str) -> pl.Expr:
        """``column`` (``duration``, ``size``), null where Twilio reports 0 for media that does
        not exist (not yet, never, or no longer: :data:`NO_MEDIA`): a 0 there is no length,
        and would pull every mean and median down. A value other than 0 is kept as stated."""
        no_media = pl.col("status").is_in(NO_MEDIA)
        return pl.when(no_media & (pl.col(column) == 0)).then(None).otherwise(pl.col(column))


@dataclasses.dataclass(frozen=True)
class TrackRecordings(TwilioList):
    @property
    def label(self) -> str:
        return "twilio tracks"  # its own progress bar, beside "twilio compositions"

    def unified(self, raw: pl.LazyFrame) -> pl.LazyFrame:
        duration = seconds_to_duration(self.until_media("duration"))
        size = self.until_media("size")
        return raw.select(
            provider=pl.lit("twilio"),
            kind=pl.lit("track"),
            recording_id=pl.col("sid"),
            account_id=pl.col("account_sid"),
            group_id=pl.col("room_sid"),
            participant_id=pl.col("participant_sid"),
            # Twilio names a track without a name by its source_sid; "" is no name either.
            track_name=pl.coalesce(present("track_name"), "source_sid"),
            status=pl.col("status"),
            media_type=pl.col("type"),
            codec=pl.col("codec"),
            container=pl.col("container_format"),
            created_at=pl.col("date_created"),
            deleted_at=pl.col("date_deleted"),
            duration=duration,
            size_bytes=size,
            bitrate_kbps=bitrate_kbps(size, duration),
            media_url=pl.col("media_url"),
        )


TRACK_RECORDINGS = TrackRecordings(
    provider=TWILIO,
    list_key="recordings",
    id_column="sid",
    created_column="date_created",
    identity_columns=("date_created", "room_sid", "track_name"),
    fields=(
        F("sid"),
        F("account_sid"),
        F("status", parse=as_lower),
        F("date_created", UTC_TIME, as_iso_time),
        F("date_updated", UTC_TIME, as_iso_time),
        F("date_deleted", UTC_TIME, as_iso_time),
        F("source_sid"),
        F("room_sid", path="grouping_sids.room_sid"),
        F("participant_sid", path="grouping_sids.participant_sid"),
        F("track_name"),
        F("type", parse=as_lower),
        F("codec", parse=as_lower),
        F("container_format", parse=as_lower),
        F("duration", pl.Float64, as_fractional_seconds),
        F("size", pl.Int64, as_count),
        F("offset", pl.Int64, as_int),
        F("url"),
        F("media_url", path="links.media"),
        F("media_external_location"),
        F("status_callback"),
        F("status_callback_method"),
        F("encryption_key"),
    ),
)


# How much later than ``until`` DateCreatedBefore is sent (date_params): a track's start may
# follow its date_created by a few seconds. Under the planner's UNFILTERED_SLACK, so the rows
# it adds never look like a server ignoring the filter.
STARTED_MARGIN = dt.timedelta(seconds=30)


def date_params(start: Any, end: Any) -> list[tuple[str, str]]:
    """``DateCreatedAfter`` and ``DateCreatedBefore`` in whole seconds, widened around
    ``[start, end)`` so that no reading of their edges loses a row (:class:`TwilioList` drops
    the rows this adds).

    Twilio documents ``DateCreatedAfter`` as inclusive ("on or after"), but its name says
    strictly after: it is sent one second before the whole second ``start`` falls in, which
    either reading includes. ``DateCreatedBefore`` (exclusive) is :data:`STARTED_MARGIN` past
    the first whole second at or after ``end``: the docs say the filters apply to when a track
    started, which may be after its ``date_created``, so a track made just before ``end`` that
    started after it is still listed (a refresh's quarter ends lost such tracks).
    """
    params = []
    if start is not None:
        after = start.replace(microsecond=0) - dt.timedelta(seconds=1)
        params.append(("DateCreatedAfter", iso_z(after)))
    if end is not None:
        params.append(("DateCreatedBefore", iso_z(ceil_second(end) + STARTED_MARGIN)))
    return params


async def load_in_windows(
    endpoint: Endpoint,
    path: str,
    params: list[tuple[str, str]],
    since: WhenLike | None,
    until: WhenLike | None,
    options: Mapping[str, Any],
) -> pl.DataFrame:
    """Page ``[since, until)`` of a Twilio list in date windows that follow the data (see
    :mod:`recanalytics.providers.planner`), each paged by its own cursor."""
    start, end = parse_range(since, until)
    ctx = resolve(TWILIO, options)
    url = ctx.url(path)
    page_limit = int(dict(params).get("PageSize", PAGE_SIZE_DEFAULT))
    if isinstance(endpoint, TwilioList):
        endpoint = dataclasses.replace(endpoint, since=start, until=end)
    return await collect_spread(
        endpoint,
        ctx,
        start,
        end,
        lambda w: PageRequest(url, [*params, *date_params(w.start, w.end)]),
        page_limit=page_limit,
        epoch=VIDEO_EPOCH,
    )


async def aload_twilio_recordings(
    *,
    since: WhenLike | None = None,
    until: WhenLike | None = None,
    status: Literal["processing", "completed", "deleted", "failed"] | None = None,
    source_sid: str | None = None,
    grouping_sid: str | Sequence[str] | None = None,
    media_type: Literal["audio", "video", "data"] | None = None,
    page_size: int = PAGE_SIZE_MAX,
    **options: Unpack[LoadOptions],
) -> pl.DataFrame:
    """Load Twilio Video track recordings (``GET /v1/Recordings``) into the unified frame.

    A ``since``/``until`` range is split into sub-ranges that are paged concurrently (page
    tokens are sequential within one query); rows are de-duplicated by SID.

    Parameters
    ----------
    since, until : str, date or datetime, optional
        ``DateCreatedAfter`` (inclusive) and ``DateCreatedBefore`` (exclusive); naive is UTC.
    status : {'processing', 'completed', 'deleted', 'failed'}, optional
    source_sid : str, optional
        Track SID (``MT…``).
    grouping_sid : str or list of str, optional
        Room (``RM…``) and/or participant (``PA…``) SIDs; several are all required to match.
    media_type : {'audio', 'video', 'data'}, optional
    page_size : int, default 100
        1 to 100.
    **options
        :class:`~recanalytics.options.LoadOptions`: ``credentials``, ``base_url``,
        ``transport``, ``progress``, ``max_concurrency``, ``rate_limit``, ``retry``, ``raw`` …

    Returns
    -------
    polars.DataFrame
        One row per track recording, columns as :data:`recanalytics.SCHEMA`.

    Examples
    --------
    >>> import recanalytics as ra
    >>> from recanalytics.sandbox import Sandbox
    >>> box = Sandbox(seed=1, size=200)
    >>> import asyncio
    >>> df = asyncio.run(ra.aload_twilio_recordings(status="completed", **box.options("twilio")))
    >>> df["status"].unique().to_list()
    ['completed']
    """
    params: list[tuple[str, str]] = []
    if status is not None:
        params.append(("Status", validate.choice(status, "status", RECORDING_STATUSES)))
    if source_sid is not None:
        params.append(("SourceSid", validate.sid(source_sid, "source_sid")))
    if grouping_sid is not None:
        params.extend(("GroupingSid", s) for s in validate.sids(grouping_sid, "grouping_sid"))
    if media_type is not None:
        params.append(("MediaType", validate.choice(media_type, "media_type", MEDIA_TYPES)))
    params.append(("PageSize", str(validate.int_range(page_size, "page_size", 1, PAGE_SIZE_MAX))))
    return await load_in_windows(TRACK_RECORDINGS, "/v1/Recordings", params, since, until, options)


async def aget_twilio_recording(sid: str, **options: Unpack[LoadOptions]) -> pl.DataFrame:
    """Retrieve one Twilio Video track recording (``GET /v1/Recordings/{Sid}``) as a 1-row frame.

    Parameters
    ----------
    sid : str
        ``RT`` followed by 32 hex digits.

    Examples
    --------
    >>> sid = box["twilio"].tracks.records[0].sid
    >>> import asyncio
    >>> one = asyncio.run(ra.aget_twilio_recording(sid, **box.options("twilio")))
    """
    validate.sid(sid, "sid", prefix="RT")
    ctx = resolve(TWILIO, options)
    return await fetch_one(
        TRACK_RECORDINGS, ctx, ctx.url(f"/v1/Recordings/{sid}"), asked=("sid", sid)
    )


load_twilio_recordings = syncify(aload_twilio_recordings, "load_twilio_recordings")
get_twilio_recording = syncify(aget_twilio_recording, "get_twilio_recording")

# A deleted one stays listed, with status deleted and its date_deleted (not drops_deleted).
LOADER = Loader("twilio", ("track",), aload_twilio_recordings, TRACK_RECORDINGS)
"""What ``load()`` runs for this endpoint, and the kinds of rows it returns."""
