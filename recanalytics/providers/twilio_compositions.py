"""Twilio Video: compositions (``GET /v1/Compositions``).

A composition is one mixed media file made from a room's tracks. It shares :data:`TWILIO`
(host, auth, rate limit), the date parameters and the window planning with the track loader in
:mod:`recanalytics.providers.twilio`.

Mapping choices, where Twilio says nothing:

* ``codec`` is inferred from the container, because Twilio does not report it: ``mp4`` files are
  H.264 + AAC and ``webm`` files VP8 + Opus, so a video composition reads ``h264``/``vp8`` and
  an audio-only one (empty ``video_layout``) ``aac``/``opus``; without a ``video_layout``
  the media type and codec are null.
* ``ended_at`` is null: ``date_completed`` is when processing finished, not when the media ends
  (it stays in the raw frame). ``started_at`` is null too.
* ``duration``, ``size`` and ``bitrate`` default to 0 while a composition is not finished; a 0
  on an ``enqueued``, ``processing`` or ``failed`` composition reads as unknown (null), and so
  does one on a ``deleted`` composition (its media is gone; a value other than 0 is kept).
* ``bitrate`` is taken as kbps (the contract's example, 64, only fits kbps); when it is 0 the
  bitrate is size·8/duration.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Literal, Unpack

import polars as pl

from recanalytics import validate
from recanalytics.fields import F
from recanalytics.options import LoadOptions, resolve
from recanalytics.parsers import (
    as_bool,
    as_count,
    as_fractional_seconds,
    as_iso_time,
    as_lower,
    as_str,
)
from recanalytics.providers.base import Loader, fetch_one
from recanalytics.providers.common import (
    UTC_TIME,
    bitrate_kbps,
    seconds_to_duration,
)
from recanalytics.providers.twilio import PAGE_SIZE_MAX, TWILIO, TwilioList, load_in_windows
from recanalytics.redact import redact_url
from recanalytics.sync import syncify
from recanalytics.windows import WhenLike

COMPOSITION_STATUSES = ("enqueued", "processing", "completed", "deleted", "failed")
# Twilio's composition containers and the codecs they carry (video, audio-only).
CONTAINER_CODECS = {"mp4": ("h264", "aac"), "webm": ("vp8", "opus")}


def as_safe_url(value: Any) -> str:
    """A URL without user info or secret query values (callbacks may carry ``user:pass@``)."""
    return redact_url(as_str(value)) or ""


@dataclasses.dataclass(frozen=True)
class Compositions(TwilioList):
    @property
    def label(self) -> str:
        return "twilio compositions"  # its own progress bar, beside "twilio tracks"

    def unified(self, raw: pl.LazyFrame) -> pl.LazyFrame:
        duration = seconds_to_duration(self.until_media("duration"))
        size = self.until_media("size")
        # An empty layout object is how Twilio describes an audio-only composition; without a
        # layout at all, which it is is not known.
        audio_only = pl.col("video_layout") == "{}"
        video = pl.col("video_layout").is_not_null() & ~audio_only
        container = pl.col("format")
        video_codec = container.replace_strict(
            {k: v[0] for k, v in CONTAINER_CODECS.items()}, default=None
        )
        audio_codec = container.replace_strict(
            {k: v[1] for k, v in CONTAINER_CODECS.items()}, default=None
        )
        reported = pl.when(pl.col("bitrate") > 0).then(pl.col("bitrate").cast(pl.Float64))
        return raw.select(
            provider=pl.lit("twilio"),
            kind=pl.lit("composition"),
            recording_id=pl.col("sid"),
            account_id=pl.col("account_sid"),
            group_id=pl.col("room_sid"),
            status=pl.col("status"),
            media_type=pl.when(audio_only).then(pl.lit("audio")).when(video).then(pl.lit("video")),
            codec=pl.when(audio_only).then(audio_codec).when(video).then(video_codec),
            container=container,
            created_at=pl.col("date_created"),
            deleted_at=pl.col("date_deleted"),
            duration=duration,
            size_bytes=size,
            bitrate_kbps=pl.coalesce(reported, bitrate_kbps(size, duration)),
            media_url=pl.col("media_url"),
        )


COMPOSITIONS = Compositions(
    provider=TWILIO,
    list_key="compositions",
    id_column="sid",
    created_column="date_created",
    identity_columns=("date_created", "room_sid"),
    fields=(
        F("sid"),
        F("account_sid"),
        F("status", parse=as_lower),
        F("room_sid"),
        F("date_created", UTC_TIME, as_iso_time),
        F("date_completed", UTC_TIME, as_iso_time),
        F("date_deleted", UTC_TIME, as_iso_time),
        F("format", parse=as_lower),
        F("resolution"),
        F("bitrate", pl.Int64, as_count),
        F("size", pl.Int64, as_count),
        F("duration", pl.Float64, as_fractional_seconds),
        F("trim", pl.Boolean, as_bool),
        # Lists and objects are kept as JSON text (sorted keys), so nothing is lost.
        F("video_layout"),
        F("audio_sources"),
        F("audio_sources_excluded"),
        F("url"),
        F("media_url", path="links.media"),
        F("media_external_location", parse=as_safe_url),
        F("status_callback", parse=as_safe_url),
        F("status_callback_method"),
        F("encryption_key"),
    ),
)


async def aload_twilio_compositions(
    *,
    since: WhenLike | None = None,
    until: WhenLike | None = None,
    status: Literal["enqueued", "processing", "completed", "deleted", "failed"] | None = None,
    room_sid: str | None = None,
    page_size: int = PAGE_SIZE_MAX,
    **options: Unpack[LoadOptions],
) -> pl.DataFrame:
    """Load Twilio Video compositions (``GET /v1/Compositions``) into the unified frame.

    A ``since``/``until`` range is split into sub-ranges paged concurrently; rows are
    de-duplicated by SID. Each row is one composed file (``kind == "composition"``); the
    layout, resolution, audio sources and trim setting are in the raw frame (``raw=True``:
    ``video_layout``, ``audio_sources`` and ``audio_sources_excluded`` as JSON text).

    Parameters
    ----------
    since, until : str, date or datetime, optional
        ``DateCreatedAfter`` (inclusive) and ``DateCreatedBefore`` (exclusive); naive is UTC.
    status : {'enqueued', 'processing', 'completed', 'deleted', 'failed'}, optional
    room_sid : str, optional
        Room SID (``RM`` followed by 32 hex digits).
    page_size : int, default 100
        1 to 100.
    **options
        :class:`~recanalytics.options.LoadOptions`: ``credentials``, ``base_url``,
        ``transport``, ``progress``, ``max_concurrency``, ``rate_limit``, ``retry``, ``raw`` …

    Returns
    -------
    polars.DataFrame
        One row per composition, columns as :data:`recanalytics.SCHEMA`.

    Examples
    --------
    >>> import recanalytics as ra
    >>> from recanalytics.sandbox import Sandbox
    >>> box = Sandbox(seed=1, size=200)
    >>> import asyncio
    >>> df = asyncio.run(ra.aload_twilio_compositions(status="completed", **box.options("twilio")))
    >>> df["kind"].unique().to_list()
    ['composition']
    """
    params: list[tuple[str, str]] = []
    if status is not None:
        params.append(("Status", validate.choice(status, "status", COMPOSITION_STATUSES)))
    if room_sid is not None:
        params.append(("RoomSid", validate.sid(room_sid, "room_sid", prefix="RM")))
    params.append(("PageSize", str(validate.int_range(page_size, "page_size", 1, PAGE_SIZE_MAX))))
    return await load_in_windows(COMPOSITIONS, "/v1/Compositions", params, since, until, options)


async def aget_twilio_composition(sid: str, **options: Unpack[LoadOptions]) -> pl.DataFrame:
    """Retrieve one Twilio Video composition (``GET /v1/Compositions/{Sid}``) as a 1-row frame.

    Parameters
    ----------
    sid : str
        ``CJ`` followed by 32 hex digits.
    **options
        :class:`~recanalytics.options.LoadOptions`.

    Examples
    --------
    >>> sid = box["twilio"].compositions.records[0].sid
    >>> import asyncio
    >>> one = asyncio.run(ra.aget_twilio_composition(sid, **box.options("twilio")))
    >>> one.height
    1
    """
    validate.sid(sid, "sid", prefix="CJ")
    ctx = resolve(TWILIO, options)
    return await fetch_one(
        COMPOSITIONS, ctx, ctx.url(f"/v1/Compositions/{sid}"), asked=("sid", sid)
    )


load_twilio_compositions = syncify(aload_twilio_compositions, "load_twilio_compositions")
get_twilio_composition = syncify(aget_twilio_composition, "get_twilio_composition")

# A deleted one stays listed, with status deleted and its date_deleted (not drops_deleted).
LOADER = Loader("twilio", ("composition",), aload_twilio_compositions, COMPOSITIONS)
"""What ``load()`` runs for this endpoint, and the kinds of rows it returns."""
