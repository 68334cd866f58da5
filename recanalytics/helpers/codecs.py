"""Codec and container normalisation, as data: one table of spellings, one of facts.

Every value the five endpoints send for a codec, format or file type (Twilio ``codec`` and
``container_format``, Twilio composition ``format``, Plivo ``recording_format``, Zoom
``file_type`` / ``file_extension``, SignalWire media) maps to one lower-case codec name and one
container. Unknown values pass through lower-cased and are flagged by :func:`codec_known` /
:func:`container_known`; nothing is ever dropped. The plain functions :func:`normalize_codec`
and :func:`normalize_container` are for provider loaders; the expressions for frames.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, NamedTuple

import polars as pl

from recanalytics.errors import ConfigError
from recanalytics.helpers._common import ColumnLike, ReadOnlyMapping, to_expr

__all__ = [
    "CODECS",
    "CONTAINERS",
    "CodecInfo",
    "ContainerInfo",
    "codec_family",
    "codec_info",
    "codec_known",
    "codec_lossy",
    "codec_media_type",
    "codec_normalized",
    "codec_table",
    "codec_typical_kbps",
    "container_extension",
    "container_info",
    "container_known",
    "container_media_type",
    "container_mime_type",
    "container_normalized",
    "container_table",
    "normalize_codec",
    "normalize_container",
]


class CodecInfo(NamedTuple):
    """Facts about one normalised codec."""

    media_type: str
    """audio, video or text."""
    family: str
    """What the codec is built for: speech (telephony/VoIP), music (general audio), video, text."""
    lossy: bool
    typical_kbps: float | None
    """An order of magnitude for sanity checks, not a provider guarantee; None for text."""


class ContainerInfo(NamedTuple):
    """Facts about one normalised container (file format)."""

    mime_type: str
    extension: str
    """File name extension, without the dot."""
    media_type: str
    default_codec: str
    """The codec a provider puts in it when it names only the container (see the docs)."""


CODECS: Final[Mapping[str, CodecInfo]] = ReadOnlyMapping(
    {
        "opus": CodecInfo("audio", "speech", True, 32.0),
        "pcmu": CodecInfo("audio", "speech", True, 64.0),
        "pcma": CodecInfo("audio", "speech", True, 64.0),
        "g722": CodecInfo("audio", "speech", True, 64.0),
        # 8 kHz mono 16-bit, as telephony WAV recordings (Plivo, SignalWire) are made.
        "pcm_s16le": CodecInfo("audio", "music", False, 128.0),
        "mp3": CodecInfo("audio", "music", True, 128.0),
        "aac": CodecInfo("audio", "music", True, 128.0),
        "vp8": CodecInfo("video", "video", True, 1000.0),
        "vp9": CodecInfo("video", "video", True, 700.0),
        "h264": CodecInfo("video", "video", True, 1000.0),
        "webvtt": CodecInfo("text", "text", False, None),
        "text": CodecInfo("text", "text", False, None),
        "json": CodecInfo("text", "text", False, None),
        "csv": CodecInfo("text", "text", False, None),
    }
)
"""Normalised codec name → :class:`CodecInfo`."""

CONTAINERS: Final[Mapping[str, ContainerInfo]] = ReadOnlyMapping(
    {
        # Twilio audio tracks are Opus unless PCMU was negotiated; the loader passes the codec.
        "mka": ContainerInfo("audio/x-matroska", "mka", "audio", "opus"),
        "mkv": ContainerInfo("video/x-matroska", "mkv", "video", "vp8"),
        # Twilio compositions: webm is VP8 + Opus, mp4 is H.264 + AAC; Zoom MP4 is H.264 + AAC.
        "webm": ContainerInfo("video/webm", "webm", "video", "vp8"),
        "mp4": ContainerInfo("video/mp4", "mp4", "video", "h264"),
        "m4a": ContainerInfo("audio/mp4", "m4a", "audio", "aac"),
        "mp3": ContainerInfo("audio/mpeg", "mp3", "audio", "mp3"),
        "wav": ContainerInfo("audio/wav", "wav", "audio", "pcm_s16le"),
        "vtt": ContainerInfo("text/vtt", "vtt", "text", "webvtt"),
        "txt": ContainerInfo("text/plain", "txt", "text", "text"),
        "json": ContainerInfo("application/json", "json", "text", "json"),
        "csv": ContainerInfo("text/csv", "csv", "text", "csv"),
    }
)
"""Normalised container name → :class:`ContainerInfo`."""

# Lower-case spellings of codecs. Canonical names map to themselves so normalising is idempotent.
_CODEC_SPELLINGS: Final[dict[str, tuple[str, ...]]] = {
    "opus": (),
    "pcmu": ("g711u", "g.711u", "g711_ulaw", "g711ulaw", "ulaw", "mulaw", "mu-law", "pcm_mulaw"),
    "pcma": ("g711a", "g.711a", "g711_alaw", "g711alaw", "alaw", "a-law", "pcm_alaw"),
    "g722": ("g.722",),
    "pcm_s16le": ("pcm", "lpcm", "linear16", "s16le"),
    "mp3": ("mpeg", "mpeg3", "mp3float"),
    "aac": ("mp4a", "aac_lc"),
    "vp8": (),
    "vp9": (),
    "h264": ("h.264", "avc", "avc1", "x264"),
    "webvtt": (),
    "text": ("plain",),
    "json": (),
    "csv": (),
}

# Lower-case spellings of containers, including Zoom file types (UPPER in the API) and the
# Plivo/SignalWire media formats. The Zoom loader reads its file types through this table too.
# Zoom's reference: TIMELINE (TB in its enum; "timestamp file of the recording in JSON format"
# in its older pages) and SUMMARY are JSON, CSV poll results; CHAT_MESSAGE JSON is assumed.
_CONTAINER_SPELLINGS: Final[dict[str, tuple[str, ...]]] = {
    "mka": (),
    "mkv": ("matroska",),
    "webm": (),
    "mp4": (),
    "m4a": (),
    "mp3": (),
    "wav": ("wave",),
    "vtt": ("webvtt", "transcript", "cc"),
    "txt": ("text", "chat"),
    "json": ("timeline", "tb", "chat_message", "summary"),
    "csv": (),
}

_CONTAINER_ALIASES: Final[dict[str, str]] = {
    spelling: name
    for name, spellings in _CONTAINER_SPELLINGS.items()
    for spelling in (name, *spellings)
}
# A codec field that names only a container or file type gets that container's default codec;
# real codec spellings win where both exist (e.g. "mp3", "text").
_CODEC_ALIASES: Final[dict[str, str]] = {
    **{alias: CONTAINERS[name].default_codec for alias, name in _CONTAINER_ALIASES.items()},
    **{
        spelling: name
        for name, spellings in _CODEC_SPELLINGS.items()
        for spelling in (name, *spellings)
    },
}


def _clean(value: str | None) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        # str() of bytes or a list is its repr ("b'opus'"), which no table knows.
        raise ConfigError("value", "a codec or container name as text, or None", value)
    cleaned = value.strip().lower()
    return cleaned or None


def normalize_codec(value: str | None) -> str | None:
    """Normalise one codec, format or file-type value to a lower-case codec name.

    Known spellings map to the canonical name (``"OPUS"`` → ``"opus"``, ``"H264"`` →
    ``"h264"``); a container or Zoom file type gives the codec it carries (``"wav"`` →
    ``"pcm_s16le"``, ``"M4A"`` → ``"aac"``, ``"TRANSCRIPT"`` → ``"webvtt"``). Unknown values
    come back stripped and lower-cased; None and blank strings give None.

    Examples
    --------
    >>> from recanalytics.helpers import normalize_codec
    >>> normalize_codec("OPUS"), normalize_codec("wav"), normalize_codec("FLAC ")
    ('opus', 'pcm_s16le', 'flac')
    """
    cleaned = _clean(value)
    if cleaned is None:
        return None
    return _CODEC_ALIASES.get(cleaned, cleaned)


def normalize_container(value: str | None) -> str | None:
    """Normalise one container, format, extension or Zoom file type to a container name.

    ``"MP4"`` → ``"mp4"``, ``"TRANSCRIPT"`` and ``"CC"`` → ``"vtt"``, ``"CHAT"`` → ``"txt"``,
    ``"TIMELINE"`` and ``"TB"`` → ``"json"``. A leading dot is ignored (``".wav"``). Unknown
    values come back stripped and lower-cased; None and blank strings give None.

    Examples
    --------
    >>> from recanalytics.helpers import normalize_container
    >>> normalize_container("MKA"), normalize_container("CC"), normalize_container(".ogg")
    ('mka', 'vtt', 'ogg')
    """
    cleaned = _clean(value)
    if cleaned is None:
        return None
    cleaned = cleaned.removeprefix(".") or None
    if cleaned is None:
        return None
    return _CONTAINER_ALIASES.get(cleaned, cleaned)


def codec_info(value: str | None) -> CodecInfo | None:
    """Facts about a codec value (any spelling), or None when unknown.

    Examples
    --------
    >>> from recanalytics.helpers import codec_info
    >>> codec_info("PCMU")
    CodecInfo(media_type='audio', family='speech', lossy=True, typical_kbps=64.0)
    """
    name = normalize_codec(value)
    return None if name is None else CODECS.get(name)


def container_info(value: str | None) -> ContainerInfo | None:
    """Facts about a container value (any spelling), or None when unknown.

    Examples
    --------
    >>> from recanalytics.helpers import container_info
    >>> container_info("M4A").mime_type
    'audio/mp4'
    """
    name = normalize_container(value)
    return None if name is None else CONTAINERS.get(name)


def codec_table() -> pl.DataFrame:
    """The codec facts as a frame (one row per normalised codec), e.g. to join or display.

    Examples
    --------
    >>> from recanalytics.helpers import codec_table
    >>> codec_table().columns
    ['codec', 'media_type', 'family', 'lossy', 'typical_kbps']
    """
    return pl.DataFrame(
        [(name, *info) for name, info in CODECS.items()],
        schema={
            "codec": pl.String,
            "media_type": pl.String,
            "family": pl.String,
            "lossy": pl.Boolean,
            "typical_kbps": pl.Float64,
        },
        orient="row",
    )


def container_table() -> pl.DataFrame:
    """The container facts as a frame (one row per normalised container).

    Examples
    --------
    >>> from recanalytics.helpers import container_table
    >>> container_table().columns
    ['container', 'mime_type', 'extension', 'media_type', 'default_codec']
    """
    return pl.DataFrame(
        [(name, *info) for name, info in CONTAINERS.items()],
        schema={
            "container": pl.String,
            "mime_type": pl.String,
            "extension": pl.String,
            "media_type": pl.String,
            "default_codec": pl.String,
        },
        orient="row",
    )


def _clean_expr(column: ColumnLike) -> pl.Expr:
    text = to_expr(column).cast(pl.String).str.strip_chars().str.to_lowercase()
    return pl.when(text != "").then(text)


def codec_normalized(column: ColumnLike = "codec") -> pl.Expr:
    """Expression form of :func:`normalize_codec` (String; unknown values kept, lower-cased).

    Examples
    --------
    >>> import polars as pl
    >>> from recanalytics.helpers import codec_normalized
    >>> df = pl.DataFrame({"codec": ["OPUS", "M4A", "Speex", None]})
    >>> df.select(codec_normalized()).to_series().to_list()
    ['opus', 'aac', 'speex', None]
    """
    return _clean_expr(column).replace(_CODEC_ALIASES).alias("codec")


def _codec_fact(column: ColumnLike, field: str, dtype: pl.DataType) -> pl.Expr:
    values = [getattr(info, field) for info in CODECS.values()]
    return (
        codec_normalized(column)
        .replace_strict(list(CODECS), values, default=None, return_dtype=dtype)
        .alias(f"codec_{field}")
    )


def codec_known(column: ColumnLike = "codec") -> pl.Expr:
    """True where the codec is in the table, False for unknown values, null for null (Boolean).

    Examples
    --------
    >>> import polars as pl
    >>> from recanalytics.helpers import codec_known
    >>> pl.DataFrame({"codec": ["VP8", "speex", None]}).select(codec_known()).to_series().to_list()
    [True, False, None]
    """
    return codec_normalized(column).is_in(list(CODECS)).alias("codec_known")


def codec_media_type(column: ColumnLike = "codec") -> pl.Expr:
    """``audio``, ``video`` or ``text`` for a codec; null when unknown (String).

    Examples
    --------
    >>> import polars as pl
    >>> from recanalytics.helpers import codec_media_type
    >>> pl.DataFrame({"codec": ["H264"]}).select(codec_media_type()).item()
    'video'
    """
    return _codec_fact(column, "media_type", pl.String())


def codec_family(column: ColumnLike = "codec") -> pl.Expr:
    """``speech``, ``music``, ``video`` or ``text``; null when unknown (String).

    Examples
    --------
    >>> import polars as pl
    >>> from recanalytics.helpers import codec_family
    >>> pl.DataFrame({"codec": ["PCMU", "mp3"]}).select(codec_family()).to_series().to_list()
    ['speech', 'music']
    """
    return _codec_fact(column, "family", pl.String())


def codec_lossy(column: ColumnLike = "codec") -> pl.Expr:
    """Whether the codec is lossy; null when unknown (Boolean).

    Examples
    --------
    >>> import polars as pl
    >>> from recanalytics.helpers import codec_lossy
    >>> pl.DataFrame({"codec": ["opus", "wav"]}).select(codec_lossy()).to_series().to_list()
    [True, False]
    """
    return _codec_fact(column, "lossy", pl.Boolean())


def codec_typical_kbps(column: ColumnLike = "codec") -> pl.Expr:
    """A typical bitrate for the codec in kbps; null when unknown or text (Float64).

    Examples
    --------
    >>> import polars as pl
    >>> from recanalytics.helpers import codec_typical_kbps
    >>> pl.DataFrame({"codec": ["PCMU"]}).select(codec_typical_kbps()).item()
    64.0
    """
    return _codec_fact(column, "typical_kbps", pl.Float64())


def container_normalized(column: ColumnLike = "container") -> pl.Expr:
    """Expression form of :func:`normalize_container` (String; unknown values kept).

    Examples
    --------
    >>> import polars as pl
    >>> from recanalytics.helpers import container_normalized
    >>> df = pl.DataFrame({"container": ["MP4", "TB", ".ogg"]})
    >>> df.select(container_normalized()).to_series().to_list()
    ['mp4', 'json', 'ogg']
    """
    text = _clean_expr(column).str.strip_prefix(".")
    return pl.when(text != "").then(text).replace(_CONTAINER_ALIASES).alias("container")


def _container_fact(column: ColumnLike, field: str) -> pl.Expr:
    values = [getattr(info, field) for info in CONTAINERS.values()]
    return (
        container_normalized(column)
        .replace_strict(list(CONTAINERS), values, default=None, return_dtype=pl.String)
        .alias(field if field != "media_type" else "container_media_type")
    )


def container_known(column: ColumnLike = "container") -> pl.Expr:
    """True where the container is in the table, False when unknown, null for null.

    Examples
    --------
    >>> import polars as pl
    >>> from recanalytics.helpers import container_known
    >>> df = pl.DataFrame({"container": ["mkv", "ogg"]})
    >>> df.select(container_known()).to_series().to_list()
    [True, False]
    """
    return container_normalized(column).is_in(list(CONTAINERS)).alias("container_known")


def container_mime_type(column: ColumnLike = "container") -> pl.Expr:
    """MIME type of a container (``"audio/x-matroska"``, ``"video/mp4"``, …); null if unknown.

    Examples
    --------
    >>> import polars as pl
    >>> from recanalytics.helpers import container_mime_type
    >>> pl.DataFrame({"container": ["wav"]}).select(container_mime_type()).item()
    'audio/wav'
    """
    return _container_fact(column, "mime_type")


def container_extension(column: ColumnLike = "container") -> pl.Expr:
    """File extension, without the dot (``"mka"``, ``"vtt"``); null if unknown.

    Examples
    --------
    >>> import polars as pl
    >>> from recanalytics.helpers import container_extension
    >>> pl.DataFrame({"container": ["TRANSCRIPT"]}).select(container_extension()).item()
    'vtt'
    """
    return _container_fact(column, "extension")


def container_media_type(column: ColumnLike = "container") -> pl.Expr:
    """``audio``, ``video`` or ``text`` implied by a container or Zoom file type; null if unknown.

    Examples
    --------
    >>> import polars as pl
    >>> from recanalytics.helpers import container_media_type
    >>> pl.DataFrame({"container": ["M4A", "CHAT"]}).select(
    ...     container_media_type()
    ... ).to_series().to_list()
    ['audio', 'text']
    """
    return _container_fact(column, "media_type")
