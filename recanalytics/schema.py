"""The unified recordings frame: one row per recording file, the same columns for every provider."""

from __future__ import annotations

from typing import Final

import polars as pl

PROVIDERS: Final = ("twilio", "plivo", "zoom", "signalwire")
KINDS: Final = ("track", "composition", "call", "conference", "session_file", "participant_file")
PENDING: Final = frozenset({"enqueued", "processing", "queued", "in-progress", "paused", "resumed"})
"""Statuses of recordings still being made or processed (any provider's): not final, no file yet."""

ProviderEnum: Final = pl.Enum(list(PROVIDERS))
KindEnum: Final = pl.Enum(list(KINDS))
UTC_TIME: Final = pl.Datetime("us", "UTC")

SCHEMA: Final = pl.Schema(
    {
        "provider": ProviderEnum,
        "kind": KindEnum,
        "recording_id": pl.String,
        "account_id": pl.String,
        "group_id": pl.String,
        "group_name": pl.String,
        "participant_id": pl.String,
        "track_name": pl.String,
        "status": pl.String,
        "media_type": pl.String,
        "codec": pl.String,
        "container": pl.String,
        "created_at": UTC_TIME,
        "started_at": UTC_TIME,
        "ended_at": UTC_TIME,
        "deleted_at": UTC_TIME,
        "duration": pl.Duration("ms"),
        "size_bytes": pl.Int64,
        "bitrate_kbps": pl.Float64,
        "channels": pl.Int8,
        "cost": pl.Float64,
        "cost_unit": pl.String,
        "media_url": pl.String,
    }  # type: ignore[arg-type]
)
"""The polars schema of every frame the loaders return (unless ``raw=True``)."""

COLUMNS: Final[dict[str, str]] = {
    "provider": "Which provider the recording came from.",
    "kind": "track, composition, call, conference, session_file or participant_file.",
    "recording_id": "The provider's id: RT…/CJ… sid, Plivo recording_id, Zoom file id, "
    "SignalWire sid. Zoom CC and TIMELINE files have none and get a stable derived id.",
    "account_id": "Account, auth id, project or API key the recording belongs to.",
    "group_id": "Room, conference, call or Zoom session the recording belongs to.",
    "group_name": "Conference or Zoom session name, where the provider gives one.",
    "participant_id": "Participant the track or file belongs to.",
    "track_name": "Track name (Twilio) or recording type (Zoom).",
    "status": "Lower-case provider status, kept as sent (completed, processing, deleted, …).",
    "media_type": "audio, video, data or text (transcripts, chat, timelines).",
    "codec": "Normalised lower-case codec: opus, pcmu, vp8, h264, mp3, pcm_s16le, aac, …",
    "container": "File container: mka, mkv, mp4, webm, mp3, wav, m4a, vtt, …",
    "created_at": "When the provider created the recording resource (UTC).",
    "started_at": "When the recorded media starts (UTC), where known.",
    "ended_at": "When the recorded media ends (UTC), where known.",
    "deleted_at": "When the media was deleted (UTC), where known.",
    "duration": "Length of the recorded media.",
    "size_bytes": "File size in bytes; null where the provider gives none (Plivo, SignalWire).",
    "bitrate_kbps": "Reported bitrate, else size·8/duration, in kilobits per second.",
    "channels": "Audio channels (1 mono, 2 stereo), where known.",
    "cost": (
        "Provider-reported cost as a positive amount, in cost_unit: Plivo's a storage charge "
        "per month kept, SignalWire's a one-off price (see helpers.cost_kind)."
    ),
    "cost_unit": "Currency of cost, e.g. USD.",
    "media_url": "Where the media can be fetched; never carries a secret.",
}
"""A one-line glossary of every unified column."""


def empty_frame() -> pl.DataFrame:
    """Return a frame with no rows and exactly the unified columns and dtypes.

    Examples
    --------
    >>> import recanalytics as ra
    >>> ra.empty_frame().schema == ra.SCHEMA
    True
    """
    return pl.DataFrame(schema=SCHEMA)


NEWEST_FIRST = ["created_at", "recording_id"]
"""The unified frame's row order: newest first, then by id (as the providers list them)."""


def newest_first(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame``'s rows newest first, then by id, rows without a creation time last: the order
    every loader, ``load`` and ``store=`` answer in, so the same data reads as the same frame.

    Examples
    --------
    >>> import recanalytics as ra
    >>> from recanalytics.schema import newest_first
    >>> df = newest_first(ra.demo(size=20))
    >>> df["created_at"].is_sorted(descending=True, nulls_last=True)
    True
    """
    return frame.sort(NEWEST_FIRST, descending=[True, False], nulls_last=True, maintain_order=True)


def conform(frame: pl.DataFrame | pl.LazyFrame) -> pl.LazyFrame:
    """Select the unified columns in order, cast to SCHEMA, and add any missing one as null.

    Unknown values of the ``provider`` or ``kind`` enums raise, because they can only come from
    a programming error in a provider module, never from provider data.
    """
    lazy = frame.lazy()
    present = lazy.collect_schema().names()
    return lazy.select(
        [
            (pl.col(name) if name in present else pl.lit(None)).cast(dtype).alias(name)
            for name, dtype in SCHEMA.items()
        ]
    )
