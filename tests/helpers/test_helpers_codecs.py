from __future__ import annotations

import polars as pl
import pytest

from recanalytics.errors import ConfigError
from recanalytics.helpers import (
    CODECS,
    CONTAINERS,
    CodecInfo,
    codec_family,
    codec_info,
    codec_known,
    codec_lossy,
    codec_media_type,
    codec_normalized,
    codec_table,
    codec_typical_kbps,
    container_extension,
    container_info,
    container_known,
    container_media_type,
    container_mime_type,
    container_normalized,
    container_table,
    normalize_codec,
    normalize_container,
)

# Every value the five endpoints send for a codec, format or file type (api-contracts.md).
CODEC_CASES = {
    "OPUS": "opus",
    "opus": "opus",
    "PCMU": "pcmu",
    "VP8": "vp8",
    "H264": "h264",
    "mp3": "mp3",
    "MP3": "mp3",
    "wav": "pcm_s16le",
    "WAV": "pcm_s16le",
    "mp4": "h264",
    "MP4": "h264",
    "M4A": "aac",
    "webm": "vp8",
    "mka": "opus",
    "mkv": "vp8",
    "TIMELINE": "json",
    "TRANSCRIPT": "webvtt",
    "CHAT": "text",
    "CC": "webvtt",
    "CSV": "csv",
    "TB": "json",
    "CHAT_MESSAGE": "json",
    "VTT": "webvtt",
    "TXT": "text",
    "JSON": "json",
    "h.264": "h264",
    "g711u": "pcmu",
    " Opus ": "opus",
    "Speex": "speex",
    " FLAC ": "flac",
}

CONTAINER_CASES = {
    "mka": "mka",
    "MKV": "mkv",
    "mp4": "mp4",
    "MP4": "mp4",
    "webm": "webm",
    "mp3": "mp3",
    "wav": "wav",
    ".wav": "wav",
    "M4A": "m4a",
    "TRANSCRIPT": "vtt",
    "CC": "vtt",
    "VTT": "vtt",
    "CHAT": "txt",
    "TXT": "txt",
    "TIMELINE": "json",
    "TB": "json",
    "CHAT_MESSAGE": "json",
    "JSON": "json",
    "CSV": "csv",
    "ogg": "ogg",
    " OGG ": "ogg",
}


@pytest.mark.parametrize(("value", "expected"), CODEC_CASES.items())
def test_normalize_codec(value: str, expected: str) -> None:
    assert normalize_codec(value) == expected


@pytest.mark.parametrize(("value", "expected"), CONTAINER_CASES.items())
def test_normalize_container(value: str, expected: str) -> None:
    assert normalize_container(value) == expected


@pytest.mark.parametrize("blank", [None, "", "   "])
def test_blank_values_are_null(blank: str | None) -> None:
    assert normalize_codec(blank) is None
    assert normalize_container(blank) is None
    assert normalize_container(".") is None


@pytest.mark.parametrize("value", [b"opus", ["opus"], 5, 1.5])
@pytest.mark.parametrize(
    "function", [normalize_codec, normalize_container, codec_info, container_info]
)
def test_a_value_that_is_not_text_is_refused(value: object, function: object) -> None:
    # str() of bytes or a list is its repr: "b'opus'" came back as a codec name.
    with pytest.raises(ConfigError, match="value"):
        function(value)  # type: ignore[operator]


def test_expressions_match_the_python_functions_and_keep_unknowns() -> None:
    codecs = pl.DataFrame({"codec": [*CODEC_CASES, None, "", "  "]}, schema={"codec": pl.String})
    out = codecs.select(codec_normalized()).to_series()
    assert out.len() == codecs.height  # nothing dropped
    assert out.to_list() == [*CODEC_CASES.values(), None, None, None]
    containers = pl.DataFrame(
        {"container": [*CONTAINER_CASES, None, "", "."]}, schema={"container": pl.String}
    )
    out = containers.select(container_normalized()).to_series()
    assert out.to_list() == [*CONTAINER_CASES.values(), None, None, None]


def test_normalising_is_idempotent() -> None:
    for value in [*CODEC_CASES, *CODECS]:
        once = normalize_codec(value)
        assert normalize_codec(once) == once
    for value in [*CONTAINER_CASES, *CONTAINERS]:
        once = normalize_container(value)
        assert normalize_container(once) == once


def test_tables_are_consistent() -> None:
    for name, info in CONTAINERS.items():
        assert info.default_codec in CODECS, name
        assert CODECS[info.default_codec].media_type == info.media_type, name
    for info in CODECS.values():
        assert info.media_type in {"audio", "video", "text"}
        assert info.family in {"speech", "music", "video", "text"}
        assert (info.typical_kbps is None) == (info.media_type == "text")


def test_codec_facts() -> None:
    df = pl.DataFrame({"codec": ["OPUS", "wav", "H264", "TRANSCRIPT", "PCMU", "Speex", None]})
    out = df.select(
        codec_known(),
        codec_media_type(),
        codec_family(),
        codec_lossy(),
        codec_typical_kbps(),
    )
    assert out.rows() == [
        (True, "audio", "speech", True, 32.0),
        (True, "audio", "music", False, 128.0),
        (True, "video", "video", True, 1000.0),
        (True, "text", "text", False, None),
        (True, "audio", "speech", True, 64.0),
        (False, None, None, None, None),
        (None, None, None, None, None),
    ]
    assert out.dtypes == [pl.Boolean, pl.String, pl.String, pl.Boolean, pl.Float64]


def test_container_facts() -> None:
    values = ["mka", "mkv", "mp4", "M4A", "webm", "mp3", "wav", "CC", "CHAT", "TB", "CSV", "ogg"]
    out = pl.DataFrame({"container": values}).select(
        container_known(), container_mime_type(), container_extension(), container_media_type()
    )
    assert out.rows() == [
        (True, "audio/x-matroska", "mka", "audio"),
        (True, "video/x-matroska", "mkv", "video"),
        (True, "video/mp4", "mp4", "video"),
        (True, "audio/mp4", "m4a", "audio"),
        (True, "video/webm", "webm", "video"),
        (True, "audio/mpeg", "mp3", "audio"),
        (True, "audio/wav", "wav", "audio"),
        (True, "text/vtt", "vtt", "text"),
        (True, "text/plain", "txt", "text"),
        (True, "application/json", "json", "text"),
        (True, "text/csv", "csv", "text"),
        (False, None, None, None),
    ]


def test_python_lookups() -> None:
    assert codec_info("PCMU") == CodecInfo("audio", "speech", True, 64.0)
    assert codec_info("speex") is None
    assert codec_info(None) is None
    info = container_info("M4A")
    assert info is not None
    assert (info.mime_type, info.extension, info.default_codec) == ("audio/mp4", "m4a", "aac")
    assert container_info("ogg") is None


def test_tables_as_frames() -> None:
    codecs = codec_table()
    assert codecs.height == len(CODECS)
    assert codecs["codec"].to_list() == list(CODECS)
    assert codecs.null_count().row(0) == (0, 0, 0, 0, 4)  # only text codecs lack a bitrate
    containers = container_table()
    assert containers.height == len(CONTAINERS)
    assert containers.null_count().row(0) == (0, 0, 0, 0, 0)


def test_tables_are_read_only() -> None:
    with pytest.raises(TypeError):
        CODECS["new"] = CODECS["opus"]  # type: ignore[index]


def test_codec_expressions_in_group_by_and_lazy() -> None:
    lf = pl.LazyFrame({"codec": ["OPUS", "opus", "PCMU", "speex"]})
    out = (
        lf.group_by(codec_normalized())
        .agg(pl.len().alias("n"), codec_known().first().alias("known"))
        .sort("codec")
        .collect()
    )
    assert out.rows() == [("opus", 2, True), ("pcmu", 1, True), ("speex", 1, False)]
