"""Metadata against media: which files are missing, broken or not what the provider says.

:func:`verify_media` joins the unified recordings with :func:`~recanalytics.probe_media`'s
frame on ``(provider, recording_id)``; :func:`fill_from_media` fills the columns providers leave
null from the files themselves.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Final

import polars as pl

from recanalytics import validate
from recanalytics.blank import present as not_blank
from recanalytics.errors import ConfigError
from recanalytics.helpers._common import conform_dtypes
from recanalytics.helpers.codecs import codec_normalized, container_normalized
from recanalytics.probe import PROBE_SCHEMA, shown
from recanalytics.schema import PENDING, SCHEMA

# No media to fetch (yet): a still-processing composition answers 404, which is not a failure.
UNAVAILABLE = frozenset({"deleted", "failed", "absent", "enqueued", "processing", "in-progress"})
"""Statuses whose recording has no media to fetch (yet or any more)."""

__all__ = ["PROBLEMS", "MediaVerification", "fill_from_media", "verify_media"]

# PENDING (recordings still being made or processed): no file is expected yet.

PROBLEMS: Final[dict[str, str]] = {
    "missing": "missing",
    "undecodable": "undecodable",
    "truncated": "truncated",
    "duration_off": "duration off",
    "codec_differs": "codec different",
    "container_differs": "container different",
    "size_differs": "size different",
}
"""Problem columns of :attr:`MediaVerification.files` → words used in the verdict."""

NO_ID: Final = "no recording_id: no file can be matched to it, so it is not verified"
FILLED: Final = ("size_bytes", "codec", "channels", "bitrate_kbps")
KEYS: Final = ["provider", "recording_id"]
TIMED: Final = ("audio", "video")


@dataclass(frozen=True)
class MediaVerification:
    """The outcome of :func:`verify_media`.

    Attributes
    ----------
    files : polars.DataFrame
        One row per recording: ``expected`` (a file should exist: the recording has an id, is
        finished and has a media URL; a row without an id is not verified, its ``error`` says
        so), the problem flags (see :data:`PROBLEMS`), ``problems`` (their
        names), ``ok``, and the metadata and file values side by side.
    totals : dict
        ``files`` (expected), ``ok``, ``not_expected`` and a count per problem.
    """

    files: pl.DataFrame
    totals: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when every expected file is present, decodable and matches its metadata."""
        return self.totals.get("ok", 0) == self.totals.get("files", 0)

    @property
    def verdict(self) -> str:
        """One line: ``"N files, all decodable and matching the metadata"`` or what is wrong."""
        count = self.totals.get("files", 0)
        noun = "file" if count == 1 else "files"
        if self.ok:
            return f"{count} {noun}, all decodable and matching the metadata"
        wrong = [
            f"{self.totals[name]} {word}" for name, word in PROBLEMS.items() if self.totals[name]
        ]
        return f"{count} {noun}, {self.totals['ok']} ok: " + ", ".join(wrong)

    def __repr__(self) -> str:
        return f"MediaVerification({self.verdict!r})"


def _tolerance(
    value: Any, name: str, form: str = "seconds >= 0, finite (a number or a timedelta)"
) -> float:
    if isinstance(value, dt.timedelta):
        value = value.total_seconds()
    # NaN compares false with every duration and infinity passes every one: either would
    # switch the check off without a word.
    return validate.number(value, name, low=0.0, inclusive=True, form=form)


RECORDING_COLUMNS: Final = (
    "provider",
    "recording_id",
    "media_type",
    "status",
    "media_url",
    "duration",
    "codec",
    "container",
    "size_bytes",
)


def _columns(
    frame: Any, name: str, needed: tuple[str, ...], form: str, schema: pl.Schema
) -> pl.LazyFrame:
    if not isinstance(frame, pl.DataFrame | pl.LazyFrame):
        raise ConfigError(name, form, frame)
    lazy = frame.lazy()
    missing = [c for c in needed if c not in lazy.collect_schema().names()]
    if missing:
        raise ConfigError(name, f"{form} (missing columns: {', '.join(missing)})", shown(frame))
    # Column types too: a duration as text or an integer id fails deep in a join otherwise.
    return conform_dtypes(lazy, parameter=name, schema=schema, hint=f"pass {form}")


def _frames(recordings: Any, probed: Any) -> tuple[pl.LazyFrame, pl.LazyFrame]:
    return (
        _columns(recordings, "recordings", RECORDING_COLUMNS, "a unified recordings frame", SCHEMA),
        _columns(
            probed,
            "probed",
            tuple(PROBE_SCHEMA.names()),
            "the frame probe_media returns",
            PROBE_SCHEMA,
        ),
    )


def verify_media(
    recordings: pl.DataFrame | pl.LazyFrame,
    probed: pl.DataFrame | pl.LazyFrame,
    *,
    tolerance: float | dt.timedelta = 1.5,
    relative_tolerance: float = 0.0,
) -> MediaVerification:
    """Compare each recording's metadata with what its file really is.

    Parameters
    ----------
    recordings : DataFrame or LazyFrame
        Unified rows (the recordings whose files you downloaded).
    probed : DataFrame or LazyFrame
        :func:`~recanalytics.probe_media`'s frame for those files (``decode=True`` for a full
        check).
    tolerance : float or timedelta, default 1.5
        Seconds a file's duration may differ from the metadata: providers round to whole
        seconds, and a last frame's length may be unknown. It does not grow with the
        recording: a share of an hour would let a file lacking its last half minute pass.
    relative_tolerance : float, default 0.0
        A share of the duration to allow instead, where it is larger than ``tolerance``
        (0.01: 36 s of an hour).

    Returns
    -------
    MediaVerification
        ``files`` (one row per recording), ``totals`` and a one-line ``verdict``. A file is:
        ``missing`` (no file though one is expected), ``undecodable`` (it does not open, or
        decoding fails, and it is not simply cut short), ``truncated`` (it ends before its
        header says), ``duration_off``, ``codec_differs`` (the metadata's codec is none of
        the file's), ``container_differs``, ``size_differs`` (bytes on disk ≠ the provider's
        size). Values the metadata lacks are not compared.

    Examples
    --------
    The sandbox with ``small_media=True`` plants faults in a few files:

    >>> from recanalytics.sandbox import Sandbox
    >>> box = Sandbox(seed=7, size=20, small_media=True)
    >>> df = ra.load_twilio_recordings(status="completed", **box.options("twilio"))
    >>> files = ra.download_media(df, "media", **box.options("twilio"))
    >>> check = ra.verify_media(df, ra.probe_media(files, decode=True))
    >>> check.verdict
    '15 files, 11 ok: 2 truncated, 2 duration off, 2 size different'
    >>> check.files.filter(~pl.col("ok")).sort("problems")["problems"].to_list()
    [['duration_off'], ['duration_off'], ['truncated', 'size_differs'], ['truncated', 'size_differs']]
    """
    absolute = _tolerance(tolerance, "tolerance")
    relative = _tolerance(
        relative_tolerance, "relative_tolerance", "a share of the duration >= 0, finite"
    )
    recordings, probed = _frames(recordings, probed)
    # Joined on the provider as text (probe_media's is text, the unified frame's an Enum);
    # the recordings' own column is what comes out.
    meta = recordings.lazy().select(
        "provider",
        pl.col("provider").cast(pl.String).alias("_provider"),
        pl.col("recording_id").cast(pl.String),
        pl.col("media_type").cast(pl.String),
        pl.col("status").cast(pl.String),
        pl.col("media_url").is_not_null().alias("_has_url"),
        pl.col("duration").alias("duration_meta"),
        codec_normalized("codec").alias("codec_meta"),
        container_normalized("container").alias("container_meta"),
        pl.col("size_bytes").alias("size_meta"),
    )
    files = (
        probed.lazy()
        .select(
            pl.col("provider").cast(pl.String).alias("_provider"),
            pl.col("recording_id").cast(pl.String),
            "path",
            pl.col("bytes").alias("size_file"),
            pl.col("duration").alias("duration_file"),
            pl.col("container").alias("container_file"),
            pl.col("media_type").alias("_media_type_file"),
            "audio_codec",
            "video_codec",
            "truncated",
            "decodable",
            "checked",
            "error",
        )
        .unique(["_provider", "recording_id"], keep="last", maintain_order=True)
    )
    joined = meta.join(
        files, on=["_provider", "recording_id"], how="left", nulls_equal=True, maintain_order="left"
    )
    # A row without an id has no file a probe could be matched to (download_media saves none
    # for it): it cannot be verified, and is not counted as missing.
    identified = not_blank(pl.col("recording_id")).is_not_null()
    expected = (
        identified
        & pl.col("_has_url")
        & ~pl.col("status").is_in(sorted(UNAVAILABLE | PENDING)).fill_null(False)
    ).alias("expected")
    present = pl.col("size_file").is_not_null()
    timed = pl.col("media_type").is_in(TIMED).fill_null(False)
    meta_seconds = pl.col("duration_meta").dt.total_milliseconds() / 1000
    file_seconds = pl.col("duration_file").dt.total_milliseconds() / 1000
    allowed = pl.max_horizontal(pl.lit(absolute), meta_seconds * relative)
    truncated = present & pl.col("truncated").fill_null(False)
    # An audio or video recording whose file has none of its sound (text, an image, a stream
    # FFmpeg guessed from damaged bytes) does not play, whatever else opened.
    sound = pl.col("audio_codec").is_not_null()
    playable = (
        pl.when(pl.col("media_type") == "audio")
        .then(sound)
        .otherwise(sound | pl.col("video_codec").is_not_null())
    )
    no_media = (
        present & timed & (~pl.col("_media_type_file").is_in(TIMED) | ~playable).fill_null(True)
    )
    flags = {
        "missing": ~present,
        "undecodable": present & ~truncated & (~pl.col("decodable").fill_null(True) | no_media),
        "truncated": truncated,
        # A file without a duration, where the metadata states one, is not one of that length.
        "duration_off": present
        & timed
        & ~no_media
        & pl.col("duration_meta").is_not_null()
        & ((meta_seconds - file_seconds).abs() > allowed).fill_null(True),
        "codec_differs": present
        & timed
        & pl.col("codec_meta").is_not_null()
        & (pl.col("audio_codec").is_not_null() | pl.col("video_codec").is_not_null())
        & ~(
            (pl.col("codec_meta") == pl.col("audio_codec")).fill_null(False)
            | (pl.col("codec_meta") == pl.col("video_codec")).fill_null(False)
        ),
        "container_differs": present
        & (pl.col("container_meta") != pl.col("container_file")).fill_null(False),
        "size_differs": present & (pl.col("size_meta") != pl.col("size_file")).fill_null(False),
    }
    kind = pl.coalesce(pl.col("_media_type_file"), pl.lit("data"))
    said = pl.coalesce(
        pl.when(~identified).then(pl.lit(NO_ID)),
        "error",
        pl.when(no_media).then(
            pl.format("no {} in it: the file holds {} ({})", "media_type", kind, "container_file")
        ),
    )
    result = (
        joined.with_columns(expected, said.alias("error"))
        .with_columns(
            [
                (pl.col("expected") & expr.fill_null(False)).alias(name)
                for name, expr in flags.items()
            ]
        )
        .with_columns(
            pl.concat_list([pl.when(pl.col(name)).then(pl.lit(name)) for name in PROBLEMS])
            .list.drop_nulls()
            .alias("problems")
        )
        .with_columns(
            pl.when(pl.col("expected")).then(pl.col("problems").list.len() == 0).alias("ok")
        )
        .select(
            *KEYS,
            "media_type",
            "status",
            "path",
            "expected",
            "ok",
            "problems",
            *PROBLEMS,
            "checked",
            "duration_meta",
            "duration_file",
            "codec_meta",
            "audio_codec",
            "video_codec",
            "container_meta",
            "container_file",
            "size_meta",
            "size_file",
            "error",
        )
        .collect()
    )
    wanted = result.filter(pl.col("expected"))
    totals = {
        "files": wanted.height,
        "ok": int(wanted["ok"].sum()),
        "not_expected": result.height - wanted.height,
        **{name: int(wanted[name].sum()) for name in PROBLEMS},
    }
    return MediaVerification(result, totals)


def fill_from_media(
    recordings: pl.DataFrame | pl.LazyFrame, probed: pl.DataFrame | pl.LazyFrame
) -> pl.DataFrame:
    """Fill what the provider left null (size, codec, channels, bitrate) from the files.

    Parameters
    ----------
    recordings : DataFrame or LazyFrame
        Unified rows.
    probed : DataFrame or LazyFrame
        :func:`~recanalytics.probe_media`'s frame (joined on ``provider``, ``recording_id``).

    Returns
    -------
    polars.DataFrame
        ``recordings`` with ``size_bytes``, ``codec`` (the video codec of a video file, else
        the audio codec), ``channels`` and ``bitrate_kbps`` filled where they were null and a
        file was read, plus one ``{column}_source`` column each: ``provider``, ``media`` or
        null (known from neither). Values the provider gave are never replaced.

    Examples
    --------
    >>> plivo = ra.load_plivo_recordings(since="2026-10-01", **box.options("plivo"))
    >>> files = ra.probe_media(ra.download_media(plivo, "media", **box.options("plivo")))
    >>> filled = ra.fill_from_media(plivo, files)
    >>> filled["size_bytes_source"].unique().to_list()
    ['media']
    """
    frame, probed = _frames(recordings, probed)
    columns = frame.collect_schema().names()
    file_values = (
        probed.lazy()
        .filter(pl.col("bytes").is_not_null() & pl.col("error").is_null())
        .select(
            pl.col("provider").cast(pl.String).alias("_provider"),
            pl.col("recording_id").cast(pl.String),
            pl.col("bytes").alias("_size_bytes"),
            pl.coalesce("video_codec", "audio_codec").alias("_codec"),
            pl.col("channels").alias("_channels"),
            pl.col("bitrate_kbps").alias("_bitrate_kbps"),
        )
        .unique(["_provider", "recording_id"], keep="last", maintain_order=True)
    )
    joined = frame.with_columns(pl.col("provider").cast(pl.String).alias("_provider")).join(
        file_values,
        on=["_provider", "recording_id"],
        how="left",
        nulls_equal=True,
        maintain_order="left",
    )
    schema = frame.collect_schema()
    filled = []
    for name in FILLED:
        source = (
            pl.when(pl.col(name).is_not_null())
            .then(pl.lit("provider"))
            .when(pl.col(f"_{name}").is_not_null())
            .then(pl.lit("media"))
            .alias(f"{name}_source")
        )
        value = pl.coalesce(name, pl.col(f"_{name}").cast(schema[name])).alias(name)
        filled += [value, source]
    return (
        joined.with_columns(filled)
        .select(*columns, *(f"{name}_source" for name in FILLED))
        .collect()
    )
