"""Regenerate the small media files the sandbox's storage host serves.

Run from the repository root (needs the ``media`` extra, i.e. PyAV)::

    .venv/bin/python scripts/make_sandbox_media.py

The files land in ``recanalytics/sandbox/media/`` and are committed, so the sandbox serves real
media on a core install without PyAV, and the bytes a test downloads never depend on the
FFmpeg build on the machine. Muxers run with ``fflags=+bitexact`` (no random UIDs), so a rerun
with the same PyAV writes the same bytes. One file per format a provider serves; each lasts a
whole number of seconds (Twilio reports whole seconds) and is a few KiB (the folder stays well
under 1 MB).

FFmpeg's Matroska muxer refuses mu-law (PCMU) and data tracks, which Twilio records in MKA, so
those two are written by a small EBML writer below (``A_MS/ACM`` with a WAVEFORMATEX header, as
FFmpeg itself reads mu-law in Matroska, and ``S_TEXT/UTF8`` for data messages). MP4 files are
written with ``faststart`` (index first), as streaming services serve them, so a truncated copy
still opens and its index shows what is missing.
"""

from __future__ import annotations

import argparse
import array
import json
import math
import struct
from fractions import Fraction
from pathlib import Path
from typing import Any

import av

OUT = Path(__file__).resolve().parents[1] / "recanalytics" / "sandbox" / "media"
VIDEO_SIZE = (160, 90)
FPS = 10

# file name -> (container format, seconds, [(stream kind, codec, options)])
AV_FILES: dict[str, tuple[str, int, list[tuple[str, str, dict[str, Any]]]]] = {
    # Twilio track recordings: one track per file.
    "opus.mka": ("matroska", 4, [("audio", "libopus", {"rate": 48000, "layout": "mono"})]),
    "vp8.mkv": ("matroska", 3, [("video", "libvpx", {})]),
    "h264.mkv": ("matroska", 3, [("video", "libx264", {})]),
    # Twilio compositions and Zoom MP4s (video and audio-only).
    "h264-aac.mp4": (
        "mp4",
        5,
        [("video", "libx264", {}), ("audio", "aac", {"rate": 32000, "layout": "mono"})],
    ),
    "aac.mp4": ("mp4", 4, [("audio", "aac", {"rate": 32000, "layout": "mono"})]),
    "vp8-opus.webm": (
        "webm",
        5,
        [("video", "libvpx", {}), ("audio", "libopus", {"rate": 48000, "layout": "mono"})],
    ),
    "opus.webm": ("webm", 4, [("audio", "libopus", {"rate": 48000, "layout": "mono"})]),
    # Zoom audio files.
    "aac.m4a": ("ipod", 4, [("audio", "aac", {"rate": 32000, "layout": "mono"})]),
    # Plivo and SignalWire (telephony: 8 kHz; SignalWire records one or two channels).
    "mono.mp3": ("mp3", 2, [("audio", "libmp3lame", {"rate": 8000, "layout": "mono"})]),
    "stereo.mp3": ("mp3", 2, [("audio", "libmp3lame", {"rate": 8000, "layout": "stereo"})]),
    "mono.wav": ("wav", 2, [("audio", "pcm_s16le", {"rate": 8000, "layout": "mono"})]),
    "stereo.wav": ("wav", 2, [("audio", "pcm_s16le", {"rate": 8000, "layout": "stereo"})]),
}

# Zoom's text files.
TEXT_FILES: dict[str, str] = {
    "transcript.vtt": "WEBVTT\n\n1\n00:00:00.000 --> 00:00:02.000\nuser 1: Hello, can you hear me?\n\n"
    "2\n00:00:02.500 --> 00:00:04.000\nuser 2: Yes, loud and clear.\n",
    "chat.txt": "00:00:01 From user 1 to Everyone:\n\tHello!\n"
    "00:00:03 From user 2 to Everyone:\n\tHi, here is the agenda.\n",
    "timeline.json": json.dumps(
        {
            "timeline": [
                {"ts": "00:00:00.000", "users": [{"username": "user 1", "user_id": "16778240"}]},
                {"ts": "00:00:02.500", "users": [{"username": "user 2", "user_id": "16779264"}]},
            ]
        },
        indent=1,
    )
    + "\n",
    "poll.csv": "question,answer,count\nShip on Friday?,yes,3\nShip on Friday?,no,1\n",
}


def tone(samples: int, rate: int, channels: int, start: int) -> av.AudioFrame:
    """A 440 Hz tone with a slow swell, interleaved 16-bit samples."""
    values = array.array("h")
    for n in range(start, start + samples):
        t = n / rate
        level = 0.3 * (0.6 + 0.4 * math.sin(2 * math.pi * 0.5 * t))
        values.extend([int(32767 * level * math.sin(2 * math.pi * 440 * t))] * channels)
    frame = av.AudioFrame(
        format="s16", layout="stereo" if channels == 2 else "mono", samples=samples
    )
    frame.planes[0].update(values.tobytes())
    return frame


def picture(index: int) -> av.VideoFrame:
    """Moving colour gradients, so each frame differs from the last."""
    width, height = VIDEO_SIZE
    rows = bytearray()
    for y in range(height):
        for x in range(width):
            rows += bytes(
                ((x * 255 // width + index * 8) % 256, (y * 255 // height + index * 4) % 256, 128)
            )
    frame = av.VideoFrame(width, height, "rgb24")
    frame.planes[0].update(bytes(rows))
    return frame


def write_av(path: Path, fmt: str, seconds: int, streams: list[tuple[str, str, dict[str, Any]]]):
    # bitexact: no random UIDs or version strings, so a rerun writes the same bytes.
    options = {"fflags": "+bitexact"}
    if fmt in ("mp4", "ipod"):
        options["movflags"] = "+faststart"
    with av.open(str(path), "w", format=fmt, options=options) as out:
        made: list[tuple[str, Any, dict[str, Any]]] = []
        for kind, codec, opts in streams:
            if kind == "video":
                stream = out.add_stream(codec, rate=FPS)
                stream.width, stream.height = VIDEO_SIZE
                stream.pix_fmt = "yuv420p"
                stream.bit_rate = 60_000
                if codec == "libx264":
                    stream.options = {"preset": "veryfast", "tune": "stillimage"}
                    stream.codec_context.thread_count = 1
            else:
                stream = out.add_stream(codec, rate=opts["rate"], layout=opts["layout"])
                if codec in ("libopus", "aac", "libmp3lame"):
                    stream.bit_rate = 16_000 if opts["layout"] == "mono" else 24_000
            made.append((kind, stream, opts))
        for kind, stream, opts in made:
            if kind == "video":
                for i in range(seconds * FPS):
                    frame = picture(i)
                    frame.pts = i
                    frame.time_base = Fraction(1, FPS)
                    for packet in stream.encode(frame.reformat(format="yuv420p")):
                        out.mux(packet)
            else:
                rate = opts["rate"]
                channels = 2 if opts["layout"] == "stereo" else 1
                chunk = stream.codec_context.frame_size or 1024
                total = seconds * rate
                for start in range(0, total, chunk):
                    count = min(chunk, total - start)
                    frame = tone(count, rate, channels, start)
                    frame.sample_rate = rate
                    frame.pts = start
                    frame.time_base = Fraction(1, rate)
                    for packet in stream.encode(frame):
                        out.mux(packet)
            for packet in stream.encode(None):
                out.mux(packet)


# --- a minimal Matroska writer for what FFmpeg's muxer refuses --------------------------------


def _size(n: int) -> bytes:
    length = 1
    while n >= (1 << (7 * length)) - 1:
        length += 1
    return ((1 << (7 * length)) | n).to_bytes(length, "big")


def _el(ident: bytes, payload: bytes) -> bytes:
    return ident + _size(len(payload)) + payload


def _uint(ident: bytes, value: int) -> bytes:
    return _el(ident, value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big"))


def _float(ident: bytes, value: float) -> bytes:
    return _el(ident, struct.pack(">d", value))


def write_mka(
    path: Path, *, track: bytes, blocks: list[tuple[int, bytes]], duration_ms: int
) -> None:
    """A Matroska file with one track; ``blocks`` are (milliseconds, frame) pairs."""
    header = _el(
        b"\x1a\x45\xdf\xa3",
        _uint(b"\x42\x86", 1)
        + _uint(b"\x42\xf7", 1)
        + _uint(b"\x42\xf2", 4)
        + _uint(b"\x42\xf3", 8)
        + _el(b"\x42\x82", b"matroska")
        + _uint(b"\x42\x87", 4)
        + _uint(b"\x42\x85", 2),
    )
    info = _el(
        b"\x15\x49\xa9\x66",
        _uint(b"\x2a\xd7\xb1", 1_000_000)
        + _float(b"\x44\x89", float(duration_ms))
        + _el(b"\x4d\x80", b"recanalytics sandbox")
        + _el(b"\x57\x41", b"recanalytics sandbox"),
    )
    entry = _uint(b"\xd7", 1) + _uint(b"\x73\xc5", 1) + track
    clusters = b""
    for second in range(0, duration_ms, 1000):
        body = _uint(b"\xe7", second)
        for at, frame in blocks:
            if second <= at < second + 1000:
                # SimpleBlock: track 1, time relative to the cluster, keyframe flag.
                body += _el(b"\xa3", b"\x81" + struct.pack(">h", at - second) + b"\x80" + frame)
        clusters += _el(b"\x1f\x43\xb6\x75", body)
    segment = info + _el(b"\x16\x54\xae\x6b", _el(b"\xae", entry)) + clusters
    path.write_bytes(header + _el(b"\x18\x53\x80\x67", segment))


def write_pcmu_mka(path: Path, seconds: int) -> None:
    """G.711 mu-law, 8 kHz mono, 20 ms blocks: a Twilio PCMU track."""
    rate = 8000
    encoder = av.CodecContext.create("pcm_mulaw", "w")
    encoder.sample_rate, encoder.layout, encoder.format = rate, "mono", "s16"
    frame = tone(seconds * rate, rate, 1, 0)
    frame.sample_rate, frame.pts = rate, 0
    samples = b"".join(bytes(p) for p in [*encoder.encode(frame), *encoder.encode(None)])
    waveformat = struct.pack("<HHIIHHH", 7, 1, rate, rate, 1, 8, 0)  # WAVE_FORMAT_MULAW
    track = (
        _uint(b"\x83", 2)
        + _el(b"\x86", b"A_MS/ACM")
        + _el(b"\x63\xa2", waveformat)
        + _el(b"\xe1", _float(b"\xb5", float(rate)) + _uint(b"\x9f", 1))
    )
    step = rate // 50
    blocks = [(at * 1000 // rate, samples[at : at + step]) for at in range(0, len(samples), step)]
    write_mka(path, track=track, blocks=blocks, duration_ms=seconds * 1000)


def write_data_mka(path: Path, seconds: int) -> None:
    """Twilio data track messages as timed UTF-8 text."""
    track = _uint(b"\x83", 0x11) + _el(b"\x86", b"S_TEXT/UTF8") + _uint(b"\x9c", 0)
    blocks = [(at * 1000, f'{{"message": {at}}}'.encode()) for at in range(seconds)]
    write_mka(path, track=track, blocks=blocks, duration_ms=seconds * 1000)


def write_jpeg(path: Path) -> None:
    """A Zoom thumbnail (TB): one JPEG picture."""
    encoder = av.CodecContext.create("mjpeg", "w")
    encoder.width, encoder.height = VIDEO_SIZE
    encoder.pix_fmt, encoder.time_base = "yuvj420p", Fraction(1, FPS)
    frame = picture(0).reformat(format="yuvj420p")
    frame.pts = 0
    path.write_bytes(b"".join(bytes(p) for p in [*encoder.encode(frame), *encoder.encode(None)]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT, help="folder for the files")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for name, (fmt, seconds, streams) in AV_FILES.items():
        write_av(args.out / name, fmt, seconds, streams)
    write_pcmu_mka(args.out / "pcmu.mka", 3)
    write_data_mka(args.out / "data.mka", 3)
    write_jpeg(args.out / "thumbnail.jpg")
    for name, text in TEXT_FILES.items():
        (args.out / name).write_text(text, encoding="utf-8")
    total = 0
    for path in sorted(args.out.iterdir()):
        total += path.stat().st_size
        print(f"{path.name:<16} {path.stat().st_size / 1024:6.1f} KiB")
    print(f"total {total / 1024:.1f} KiB")


if __name__ == "__main__":
    main()
