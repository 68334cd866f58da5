"""probe_media on the sandbox's real files, cut copies, non-media and missing paths."""

from __future__ import annotations

import datetime as dt
import os
import struct
import sys
from pathlib import Path
from typing import Any

import polars as pl
import pytest

import recanalytics as ra
from recanalytics.probe import PROBE_SCHEMA
from recanalytics.sandbox import storage

MEDIA = storage.MEDIA_DIR

# shipped file -> (container, audio codec, video codec, sample rate, channels)
EXPECTED = {
    "opus.mka": ("mka", "opus", None, 48000, 1),
    "pcmu.mka": ("mka", "pcmu", None, 8000, 1),
    "vp8.mkv": ("mkv", None, "vp8", None, None),
    "h264.mkv": ("mkv", None, "h264", None, None),
    "h264-aac.mp4": ("mp4", "aac", "h264", 32000, 1),
    "aac.mp4": ("mp4", "aac", None, 32000, 1),
    "vp8-opus.webm": ("webm", "opus", "vp8", 48000, 1),
    "opus.webm": ("webm", "opus", None, 48000, 1),
    "aac.m4a": ("m4a", "aac", None, 32000, 1),
    "mono.mp3": ("mp3", "mp3", None, 8000, 1),
    "stereo.mp3": ("mp3", "mp3", None, 8000, 2),
    "mono.wav": ("wav", "pcm_s16le", None, 8000, 1),
    "stereo.wav": ("wav", "pcm_s16le", None, 8000, 2),
}
TEXT = {"transcript.vtt": "vtt", "chat.txt": "txt", "timeline.json": "json", "poll.csv": "csv"}


@pytest.fixture(scope="module")
def probed() -> pl.DataFrame:
    return ra.probe_media(MEDIA).with_columns(
        name=pl.col("path").map_elements(lambda p: Path(p).name, return_dtype=pl.String)
    )


def test_the_shipped_files_are_small() -> None:
    assert sum(p.stat().st_size for p in MEDIA.iterdir()) < 1_000_000
    assert {p.name for p in MEDIA.iterdir()} == set(storage.MEDIA_SECONDS)


def test_every_format_is_read_from_the_file(probed: pl.DataFrame) -> None:
    assert probed.drop("name").schema == PROBE_SCHEMA
    rows = {r["name"]: r for r in probed.iter_rows(named=True)}
    for name, (container, audio, video, rate, channels) in EXPECTED.items():
        row = rows[name]
        got = (
            row["container"],
            row["audio_codec"],
            row["video_codec"],
            row["sample_rate"],
            row["channels"],
        )
        assert got == (container, audio, video, rate, channels), name
        seconds = row["duration"].total_seconds()
        assert abs(seconds - storage.MEDIA_SECONDS[name]) < 0.1, name
        assert row["decodable"] is True and row["truncated"] is False and row["error"] is None
        assert row["bitrate_kbps"] > 0 and row["checked"] == "index"
        if video:
            assert (row["width"], row["height"], row["frame_rate"]) == (160, 90, 10.0)
            assert row["media_type"] == "video"
        else:
            assert row["width"] is None and row["media_type"] == "audio"
    for name, container in TEXT.items():
        assert (rows[name]["container"], rows[name]["media_type"]) == (container, "text")
        assert rows[name]["decodable"] is True
    assert rows["thumbnail.jpg"]["media_type"] == "image"
    assert rows["data.mka"]["media_type"] == "data"


@pytest.mark.parametrize("decode", [False, True], ids=["index", "decode"])
def test_cut_copies_are_truncated_in_both_modes(tmp_path: Path, decode: bool) -> None:
    for name in EXPECTED:
        body = (MEDIA / name).read_bytes()
        (tmp_path / name).write_bytes(body[: int(len(body) * storage.CUT_AT)])
    result = ra.probe_media(tmp_path, decode=decode)
    assert result.height == len(EXPECTED)
    assert result["truncated"].to_list() == [True] * len(EXPECTED)
    assert result["decodable"].to_list() == [False] * len(EXPECTED)
    assert result["error"].str.contains("ends at").all()
    assert set(result["checked"]) == {"decode" if decode else "index"}


def _tone_wav(path: Path, seconds: int, rate: int = 8000) -> bytes:
    """A mono 16-bit WAV of ``seconds`` of a 440 Hz tone at ``path``; its bytes."""
    import math
    import wave

    second = b"".join(
        struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * i / rate))) for i in range(rate)
    )
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(second * seconds)
    return path.read_bytes()


@pytest.mark.parametrize("decode", [False, True], ids=["index", "decode"])
def test_a_wav_lacking_any_of_the_bytes_its_header_declares_is_truncated(
    tmp_path: Path, decode: bool
) -> None:
    # The end slack was 1 % of the duration: a 10-minute Plivo or SignalWire WAV (no size in
    # the metadata to differ from) that had lost its last 5 s was decodable and whole. A WAV's
    # data chunk says exactly how many bytes it holds: fewer is a cut copy, however few.
    whole = _tone_wav(tmp_path / "whole.wav", 60)
    cuts = {"second.wav": 16000, "tenth.wav": 1600, "sample.wav": 2, "byte.wav": 1}
    for name, missing in cuts.items():
        (tmp_path / name).write_bytes(whole[:-missing])
    rows = {
        Path(r["path"]).name: r
        for r in ra.probe_media(tmp_path, decode=decode).iter_rows(named=True)
    }
    assert rows["whole.wav"]["truncated"] is False and rows["whole.wav"]["error"] is None
    for name, missing in cuts.items():
        row = rows[name]
        assert (row["truncated"], row["decodable"]) == (True, False), row
        assert row["duration"] == dt.timedelta(seconds=60)
        assert row["error"].startswith("ends at ") and f"last {missing:,} bytes" in row["error"]


@pytest.mark.parametrize("decode", [False, True], ids=["index", "decode"])
def test_a_long_mp3_cut_by_seconds_is_truncated(tmp_path: Path, decode: bool) -> None:
    # The end slack grew with the file (1 %): a 4-minute MP3 whose Xing header states its
    # length lost 2 s unseen, a 3-hour call 108 s. The slack covers rounding and a last frame.
    import av

    rate, seconds = 8000, 240
    path = tmp_path / "long.mp3"
    with av.open(str(path), "w") as out:
        stream = out.add_stream("mp3", rate=rate, layout="mono")
        stream.bit_rate = 16000
        silence = av.AudioFrame(format="s16", layout="mono", samples=rate)
        silence.planes[0].update(b"\0\0" * rate)
        silence.sample_rate = rate
        for second in range(seconds):
            silence.pts = second * rate
            for packet in stream.encode(silence):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    body = path.read_bytes()
    (tmp_path / "cut.mp3").write_bytes(body[: -2 * 16000 // 8])  # 2 s of a 16 kbit/s stream
    rows = {
        Path(r["path"]).name: r
        for r in ra.probe_media(tmp_path, decode=decode).iter_rows(named=True)
    }
    assert rows["long.mp3"]["truncated"] is False and rows["long.mp3"]["error"] is None
    assert abs(rows["long.mp3"]["duration"].total_seconds() - seconds) < 0.5
    assert rows["cut.mp3"]["truncated"] is True and rows["cut.mp3"]["decodable"] is False


def test_bad_paths_and_non_media_give_rows_not_exceptions(tmp_path: Path) -> None:
    (tmp_path / "garbage.mp4").write_bytes(b"\x00\x01\x02 not a movie" * 10)
    (tmp_path / "broken.json").write_text('{"timeline": [', encoding="utf-8")
    (tmp_path / "latin1.txt").write_bytes(b"caf\xe9 " * 3 + b"\x00")
    paths = [
        tmp_path / "garbage.mp4",
        tmp_path / "broken.json",
        tmp_path / "latin1.txt",
        tmp_path / "nowhere.wav",
        tmp_path,
    ]
    result = ra.probe_media(paths)
    assert result.height == 5
    errors = result["error"].to_list()
    assert errors[0].startswith("not readable as media")
    assert errors[1].startswith("not valid JSON") and result["container"][1] == "json"
    assert errors[2].startswith("not readable as media")
    assert errors[3:] == ["no such file", "not a file"]
    assert result["decodable"].to_list() == [False, False, False, None, None]


def test_text_whose_sniffed_start_ends_inside_a_character_is_text(tmp_path: Path) -> None:
    # Only the first 4096 bytes are sniffed: a transcript of two-byte characters, one byte
    # off, is cut inside its 2048th character there, and is still text, not "media".
    path = tmp_path / "chat.txt"
    path.write_text("a" + "é" * 3000, encoding="utf-8")
    row = ra.probe_media(path).row(0, named=True)
    assert (row["media_type"], row["container"], row["decodable"]) == ("text", "txt", True)
    assert row["error"] is None


def test_a_folder_s_unfinished_downloads_are_not_probed(tmp_path: Path) -> None:
    # download_media writes a file as "<name>.part" and renames it once whole.
    (tmp_path / "RT1.mka").write_bytes((MEDIA / "opus.mka").read_bytes())
    (tmp_path / "RT2.mka.part").write_bytes((MEDIA / "opus.mka").read_bytes()[:500])
    assert ra.probe_media(tmp_path)["path"].to_list() == [str(tmp_path / "RT1.mka")]


def test_a_folder_that_cannot_be_listed_gets_a_row_and_the_walk_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Probing "/" stopped with a PermissionError at /proc/1/cwd. Root reads every folder, so
    # the refusal is made here, for one subfolder, where the walk lists folders.
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "one.txt").write_text("text")
    (tmp_path / "locked").mkdir()
    (tmp_path / "locked" / "hidden.txt").write_text("text")
    (tmp_path / "z.txt").write_text("text")
    listing = os.scandir

    def scandir(path: Any = ".") -> Any:
        if Path(path) == tmp_path / "locked":
            raise PermissionError(13, "Permission denied", str(path))
        return listing(path)

    monkeypatch.setattr(os, "scandir", scandir)
    result = ra.probe_media(tmp_path)
    assert result["path"].to_list() == [
        str(tmp_path / "a" / "one.txt"),
        str(tmp_path / "locked"),
        str(tmp_path / "z.txt"),
    ]
    assert result["error"][1] == "a folder that cannot be listed: Permission denied"
    assert result["error"][0] is None and result["error"][2] is None


def test_a_name_too_long_to_look_at_gets_a_row(tmp_path: Path) -> None:
    result = ra.probe_media(tmp_path / ("n" * 300))
    assert result.height == 1 and result["error"][0].startswith("cannot read: ")


def test_download_frame_keeps_provider_and_id(tmp_path: Path) -> None:
    target = tmp_path / "twilio" / "RT1.mka"
    target.parent.mkdir()
    target.write_bytes((MEDIA / "opus.mka").read_bytes())
    frame = pl.DataFrame(
        {"provider": ["twilio", "plivo"], "recording_id": ["RT1", "p-2"]}
    ).with_columns(path=pl.Series([str(target), str(tmp_path / "plivo" / "p-2.mp3")]))
    result = ra.probe_media(frame, max_workers=2)
    assert result.select("provider", "recording_id").rows() == [("twilio", "RT1"), ("plivo", "p-2")]
    assert result["error"].to_list() == [None, "no such file"]
    # A path laid out like download_media's names its provider and recording id.
    assert ra.probe_media(target).select("provider", "recording_id").row(0) == ("twilio", "RT1")
    assert result["duration"][0] == dt.timedelta(milliseconds=4008)


def test_a_download_frame_row_without_a_path_gets_a_row_not_an_exception(tmp_path: Path) -> None:
    # download_media gives a row without an id no path (it saves no file for it): probing its
    # result raised ConfigError "a frame whose 'path' column has no nulls".
    target = tmp_path / "twilio" / "RT1.mka"
    target.parent.mkdir()
    target.write_bytes((MEDIA / "opus.mka").read_bytes())
    frame = pl.DataFrame(
        {
            "provider": ["twilio", "twilio"],
            "recording_id": ["RT1", None],
            "path": [str(target), None],
        }
    )
    result = ra.probe_media(frame, decode=True)
    assert result.select("provider", "recording_id", "path").rows() == [
        ("twilio", "RT1", str(target)),
        ("twilio", None, None),
    ]
    assert result["error"][0] is None and result["decodable"][0] is True
    assert result["error"][1].startswith("no file") and result["decodable"][1] is None


@pytest.mark.parametrize("decode", [False, True], ids=["index", "decode"])
def test_binary_named_as_a_text_format_is_not_decodable(tmp_path: Path, decode: bool) -> None:
    # FFmpeg's text demuxers open a file by its name: binary bytes named .vtt were "vtt,
    # decodable". A text format is decodable only as UTF-8 text.
    files = {
        "nul.vtt": b"\xff\xfe\x00",
        "bytes.vtt": bytes(range(256)) * 4,
        "header.vtt": b"WEBVTT\n\n\xff\xff\xff\n",
        "subs.srt": b"1\n00:00:01,000 --> 00:00:02,000\n\xff\x00\n",
    }
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    result = ra.probe_media(sorted(tmp_path / n for n in files), decode=decode)
    assert result["decodable"].to_list() == [False] * len(files)
    assert result["error"].str.starts_with("not valid UTF-8 text").all()
    assert set(result["media_type"]) == {"text"}


def test_bad_arguments_raise_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ra.ConfigError, match="source"):
        ra.probe_media(42)  # type: ignore[arg-type]
    with pytest.raises(ra.ConfigError, match="source"):
        ra.probe_media(pl.DataFrame({"file": ["a"]}))
    with pytest.raises(ra.ConfigError, match="max_workers"):
        ra.probe_media(tmp_path, max_workers=0)
    # Path("") is the working folder: an empty path was probed as that, recursively.
    for empty in ("", "  ", [""], [tmp_path, ""]):
        with pytest.raises(ra.ConfigError, match=r"source.*not empty"):
            ra.probe_media(empty)  # type: ignore[arg-type]
    assert ra.probe_media(tmp_path).height == 0
    assert ra.probe_media([]).schema == PROBE_SCHEMA


def test_missing_pyav_names_the_extra(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "av", None)
    with pytest.raises(ImportError, match=r"recanalytics\[media\]"):
        ra.probe_media(tmp_path)
    with pytest.raises(ImportError, match=r"recanalytics\[media\]"):
        ra.download_media(ra.empty_frame(), tmp_path, verify=True)


def test_the_sandbox_serves_media_without_pyav(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "av", None)
    from recanalytics.sandbox import Sandbox

    box = Sandbox(seed=3, size=20, small_media=True)
    assert box.planted_media().height > 0
    assert storage.media_bytes("twilio/RT1.mka", "opus.mka") == (MEDIA / "opus.mka").read_bytes()


def test_text_named_as_audio_or_video_is_not_decodable(tmp_path: Path) -> None:
    # An S3 <Error> saved as the recording read as container=txt, decodable=True.
    xml = b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code></Error>'
    (tmp_path / "call.wav").write_bytes(xml)
    (tmp_path / "room.mkv").write_bytes(b'{"code": 20404, "message": "not found"}')
    (tmp_path / "chat.txt").write_bytes(xml)  # a text file holding text is fine
    result = ra.probe_media(sorted(tmp_path.iterdir()))
    rows = {Path(r["path"]).name: r for r in result.iter_rows(named=True)}
    assert rows["chat.txt"]["decodable"] is True and rows["chat.txt"]["error"] is None
    for name, kind in [("call.wav", "audio"), ("room.mkv", "video")]:
        assert rows[name]["decodable"] is False and rows[name]["media_type"] == "text"
        assert f"not the {kind}" in rows[name]["error"]


def _wav_titled(title: bytes) -> bytes:
    """A second of 8 kHz silence whose RIFF INFO title tag holds ``title``'s raw bytes."""
    pcm = b"\0\0" * 8000
    fmt = struct.pack("<4sIHHIIHH", b"fmt ", 16, 1, 1, 8000, 16000, 2, 16)
    inam = b"INAM" + struct.pack("<I", len(title) + 1) + title + b"\0"
    inam += b"\0" * (len(inam) % 2)
    info = b"LIST" + struct.pack("<I", 4 + len(inam)) + b"INFO" + inam
    body = b"WAVE" + fmt + info + b"data" + struct.pack("<I", len(pcm)) + pcm
    return b"RIFF" + struct.pack("<I", len(body)) + body


@pytest.mark.parametrize("decode", [False, True], ids=["index", "decode"])
def test_a_tag_that_is_not_utf8_is_read_on_this_pyav(tmp_path: Path, decode: bool) -> None:
    # PyAV 19 (what pip installs on Python 3.12+) refuses av.open(metadata_errors=...), which
    # every probe passed: probe_media, verify_media and download_media(verify=True) raised
    # TypeError. Before 19, the keyword is what lets a Latin-1 tag open at all.
    path = tmp_path / "latin.wav"
    path.write_bytes(_wav_titled(b"caf\xe9 \xff"))
    row = ra.probe_media([path], decode=decode).row(0, named=True)
    assert row["error"] is None and row["decodable"] is True, row
    assert (row["container"], row["audio_codec"], row["sample_rate"]) == ("wav", "pcm_s16le", 8000)


def test_the_open_keywords_follow_the_pyav_version() -> None:
    from recanalytics.probe import _open_options

    assert _open_options("14.0.0") == _open_options("18.1.0") == {"metadata_errors": "ignore"}
    assert _open_options("19.0.2") == _open_options("20.0.0rc1") == {}
