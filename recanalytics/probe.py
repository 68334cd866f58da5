"""What the media files really are: container, codecs, duration, bitrate, and whether they play.

:func:`probe_media` opens each file with PyAV (FFmpeg's libraries, the ``media`` extra), in a
pool of threads. By default it reads the header and the stream index, then seeks to the last
second and demuxes and decodes what is there: that finds a file that ends before its header
says (``truncated``) without reading the whole file. ``decode=True`` decodes every packet of
every stream instead, for a full verification.

Text files (Zoom transcripts, chat, timelines, polls) are recognised before FFmpeg sees them:
their container comes from their content (``WEBVTT`` header, JSON) and "decodable" means valid
UTF-8 (and valid JSON for JSON files).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, Final

import polars as pl

from recanalytics.errors import ConfigError
from recanalytics.helpers.codecs import container_info, normalize_codec, normalize_container
from recanalytics.schema import PROVIDERS

__all__ = ["INSTALL_HINT", "PROBE_SCHEMA", "probe_media"]

INSTALL_HINT: Final = (
    "probe_media needs PyAV (FFmpeg's libraries): pip install 'recanalytics[media]'"
)

PROBE_SCHEMA: Final = pl.Schema(
    {
        "provider": pl.String(),
        "recording_id": pl.String(),
        "path": pl.String(),
        "bytes": pl.Int64(),
        "container": pl.String(),
        "format": pl.String(),
        "media_type": pl.String(),
        "audio_codec": pl.String(),
        "video_codec": pl.String(),
        "duration": pl.Duration("ms"),
        "sample_rate": pl.Int32(),
        "channels": pl.Int8(),
        "bitrate_kbps": pl.Float64(),
        "width": pl.Int32(),
        "height": pl.Int32(),
        "frame_rate": pl.Float64(),
        "truncated": pl.Boolean(),
        "decodable": pl.Boolean(),
        "checked": pl.String(),
        "error": pl.String(),
    }
)
"""Columns of :func:`probe_media`'s frame."""

# The last stretch the default check decodes, and how far short of its declared duration a
# file may end (containers round; a last frame's duration is sometimes unknown). It does not
# grow with the file: a share of the duration let a 3-hour recording lose 108 s unseen.
TAIL_SECONDS: Final = 1.0
END_SLACK_SECONDS: Final = 0.5
TEXT_SNIFF_BYTES: Final = 4096
MAX_TEXT_BYTES: Final = 64 << 20
STILL_IMAGE_FORMATS: Final = frozenset({"jpeg_pipe", "png_pipe", "image2", "webp_pipe"})
# FFmpeg's demuxers of text formats. They open a file by its name alone (a ``.vtt`` of binary
# bytes is "webvtt" to them); a file reaches FFmpeg only when it did not read as UTF-8 text.
TEXT_FORMATS: Final = frozenset(
    {"webvtt", "srt", "ass", "microdvd", "subviewer", "subviewer1", "jacosub", "sami",
     "realtext", "mpl2", "pjs", "vplayer", "stl", "lrc", "mpsub", "aqtitle", "scc", "tty"}
)  # fmt: skip


def _import_av() -> ModuleType:
    try:
        import av
    except ImportError as exc:
        raise ImportError(INSTALL_HINT) from exc
    return av


def _open_options(version: str) -> dict[str, Any]:
    """The keywords ``av.open`` of PyAV ``version`` needs to read any file's metadata.

    Before PyAV 19 a tag that is not UTF-8 failed the open unless ``metadata_errors`` said
    otherwise; PyAV 19 reads such tags itself and refuses the keyword (a TypeError).

    """
    major = re.match(r"\d+", version)
    return {"metadata_errors": "ignore"} if major and int(major.group()) < 19 else {}


@dataclass(frozen=True)
class _Target:
    path: Path | None  # None: a frame's row without a file
    provider: str | None
    recording_id: str | None
    unreadable: str | None = None  # why there is nothing to read (a folder, no path)


NO_PATH = "no file: its path is null (download_media saves none for a row without an id)"
"""The ``error`` of a frame's row whose ``path`` is null."""


def _from_path(path: Path) -> _Target:
    """A file laid out as ``{dest}/{provider}/{recording_id}.{ext}`` (download_media's)."""
    provider = path.parent.name if path.parent.name in PROVIDERS else None
    return _Target(path, provider, path.stem)


def shown(value: Any) -> Any:
    """A frame named by its columns in an error message, rather than printed whole."""
    if isinstance(value, pl.DataFrame | pl.LazyFrame):
        columns = value.collect_schema().names()
        return f"a {type(value).__name__} with columns {columns}"
    return value


def _targets(source: Any) -> list[_Target]:
    if isinstance(source, pl.LazyFrame):
        source = source.collect()
    if isinstance(source, pl.DataFrame):
        if "path" not in source.columns:
            raise ConfigError(
                "source", "a frame with a 'path' column (download_media's)", shown(source)
            )
        frame = source.select(
            pl.col("path").cast(pl.String),
            (pl.col("provider") if "provider" in source.columns else pl.lit(None))
            .cast(pl.String)
            .alias("provider"),
            (pl.col("recording_id") if "recording_id" in source.columns else pl.lit(None))
            .cast(pl.String)
            .alias("recording_id"),
        )
        targets = []
        for path, provider, recording_id in frame.iter_rows():
            if path is None:
                targets.append(_Target(None, provider, recording_id, NO_PATH))
                continue
            found = _from_path(Path(path))
            targets.append(
                _Target(found.path, provider or found.provider, recording_id or found.recording_id)
            )
        return targets
    if isinstance(source, str | os.PathLike):
        path = Path(_named(source))
        if _is_folder(path):
            return _files_under(path)
        return [_from_path(path)]
    if isinstance(source, Iterable) and not isinstance(source, bytes | bytearray | dict):
        items = list(source)
        if all(isinstance(item, str | os.PathLike) for item in items):
            return [_from_path(Path(_named(item))) for item in items]
    raise ConfigError(
        "source",
        "a path, a folder, a list of paths or the frame download_media returns",
        source,
    )


def _named(path: str | os.PathLike[str]) -> str | os.PathLike[str]:
    """``path``, unless it is empty: ``Path("")`` is the working folder, which nobody means."""
    if not str(os.fspath(path)).strip():
        raise ConfigError("source", "a path that is not empty (a file or a folder)", path)
    return path


def _files_under(folder: Path) -> list[_Target]:
    """The files under ``folder``, sorted, without hidden files and ``.part`` downloads.

    A subfolder that cannot be listed gets a row that says so; it does not end the walk
    (``Path.rglob`` raised on the first one).
    """
    found: list[_Target] = []

    def unreadable(error: OSError) -> None:
        if error.filename is not None:
            reason = f"a folder that cannot be listed: {error.strerror or error}"
            found.append(_Target(Path(error.filename), None, None, reason))

    for top, _folders, names in os.walk(folder, onerror=unreadable):
        paths = (Path(top, n) for n in names if not n.startswith(".") and not n.endswith(".part"))
        found += (_from_path(p) for p in paths if p.is_file())
    return sorted(found, key=lambda target: target.path or folder)  # a walk's all have one


def _is_folder(path: Path) -> bool:
    """Whether ``path`` is a folder; a path that cannot be looked at (a name too long) is not,
    and its probe row says why."""
    try:
        return path.is_dir()
    except OSError:
        return False


def _row(target: _Target) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(PROBE_SCHEMA.names())
    path = None if target.path is None else str(target.path)
    row.update(provider=target.provider, recording_id=target.recording_id, path=path)
    return row


def _looks_like_text(head: bytes) -> bool:
    if not head or b"\x00" in head:
        return False
    for cut in range(4):  # the sniffed block may end inside a multi-byte character
        try:
            head[: len(head) - cut].decode("utf-8")
        except UnicodeDecodeError:
            continue
        return True
    return False


def _probe_text(path: Path, row: dict[str, Any], size: int) -> None:
    row.update(media_type="text", checked="text")
    if size > MAX_TEXT_BYTES:
        row.update(container=normalize_container(path.suffix) or "txt", decodable=None)
        return
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        row.update(container=normalize_container(path.suffix), decodable=False)
        row["error"] = f"not valid UTF-8 text: {exc.reason} at byte {exc.start}"
        return
    if text.lstrip().startswith("WEBVTT"):
        row.update(container="vtt", format="webvtt", decodable=True)
        return
    suffix = normalize_container(path.suffix)
    if suffix == "json" or text.lstrip()[:1] in ("{", "["):
        try:
            json.loads(text)
        except ValueError as exc:
            if suffix == "json":
                row.update(container="json", format="json", decodable=False)
                row["error"] = f"not valid JSON: {exc}"
                return
        else:
            row.update(container="json", format="json", decodable=True)
            return
    row.update(container=suffix if suffix in ("csv", "txt") else "txt", decodable=True)


def _container_name(fmt: str, head: bytes, has_video: bool) -> str | None:
    if fmt == "matroska,webm":
        # The EBML DocType tells WebM from Matroska; FFmpeg's demuxer name covers both.
        if b"\x42\x82\x84webm" in head[:64]:
            return "webm"
        return "mkv" if has_video else "mka"
    if fmt.startswith("mov,mp4"):
        return "m4a" if head[8:12] == b"M4A " else "mp4"
    if fmt in STILL_IMAGE_FORMATS:
        return "jpg" if head[:2] == b"\xff\xd8" else fmt.removesuffix("_pipe")
    return normalize_container(fmt.split(",")[0])


@dataclass(frozen=True)
class _WavCut:
    """A WAV whose ``data`` chunk declares more bytes than the file holds: a cut copy."""

    declared: float  # seconds the data chunk declares
    present: float  # seconds of it the file holds
    missing: int  # bytes of it the file lacks


def _wav_cut(head: bytes, size: int) -> _WavCut | None:
    """What a WAV's ``data`` chunk declares, when it declares more bytes than the file has.

    FFmpeg times a WAV by the bytes present, so a cut copy looks whole; its header does not,
    and says exactly how much is missing, however little.
    """
    if head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        return None
    at, byte_rate = 12, 0
    while at + 8 <= len(head):
        chunk, length = head[at : at + 4], int.from_bytes(head[at + 4 : at + 8], "little")
        if chunk == b"fmt " and at + 16 <= len(head):
            byte_rate = int.from_bytes(head[at + 16 : at + 20], "little")
        if chunk == b"data":
            # 0 and 0xFFFFFFFF mark a streamed WAV whose length was never written.
            held = size - (at + 8)
            if byte_rate and 0 < length < 0xFFFFFFFF and held < length:
                return _WavCut(length / byte_rate, max(held, 0) / byte_rate, length - held)
            return None
        at += 8 + length + (length & 1)
    return None


def _media_type(audio: bool, video: bool, still: bool) -> str:
    if still:
        return "image"
    return "video" if video else "audio" if audio else "data"


def _seconds(value: Any, time_base: Any) -> float | None:
    if value is None or time_base is None:
        return None
    return float(value * time_base)


class _Checker:
    """Demux (and decode) the packets of one open container, tracking where the media ends."""

    def __init__(self, av: ModuleType, container: Any, streams: list[Any]) -> None:
        self.av = av
        self.container = container
        self.streams = streams
        self.end = 0.0
        self.error: str | None = None

    def run(self, *, decode_all: bool) -> None:
        for packet in self.container.demux(*self.streams):
            # Only sound and pictures count: captions and data may stop before the end.
            if packet.size and packet.stream.type in ("audio", "video"):
                start = packet.pts if packet.pts is not None else packet.dts
                span = _seconds((start or 0) + (packet.duration or 0), packet.time_base)
                self.end = max(self.end, span or 0.0)
            if decode_all or packet.stream.type in ("audio", "video"):
                try:
                    packet.decode()
                except self.av.FFmpegError as exc:
                    self.error = self.error or f"decoding {packet.stream.type}: {exc.strerror}"


def _probe_media(
    av: ModuleType, path: Path, row: dict[str, Any], head: bytes, decode: bool
) -> None:
    try:
        container = av.open(str(path), **_open_options(av.__version__))
    except (av.FFmpegError, OSError) as exc:
        row.update(decodable=False, checked="decode" if decode else "index")
        row["error"] = f"not readable as media: {getattr(exc, 'strerror', None) or exc}"
        return
    with container:
        fmt = container.format.name
        if fmt in TEXT_FORMATS:
            row.update(format=fmt, container=normalize_container(path.suffix), media_type="text")
            row.update(checked="text", decodable=False)
            row["error"] = f"not valid UTF-8 text, though named as {fmt} text"
            return
        audio = next(iter(container.streams.audio), None)
        video = next(iter(container.streams.video), None)
        still = video is not None and fmt in STILL_IMAGE_FORMATS
        row.update(
            format=fmt,
            container=_container_name(fmt, head, video is not None and not still),
            media_type=_media_type(audio is not None, video is not None, still),
        )
        if audio is not None:
            context = audio.codec_context
            row.update(
                audio_codec=normalize_codec(context.name),
                sample_rate=context.sample_rate or None,
                channels=context.layout.nb_channels or None,
            )
        if video is not None:
            context = video.codec_context
            rate = video.average_rate or video.guessed_rate
            row.update(
                video_codec=normalize_codec(context.name),
                width=context.width or None,
                height=context.height or None,
                frame_rate=float(rate) if rate and not still else None,
            )
        declared = container.duration / av.time_base if container.duration else None
        if declared is None:
            ends = [_seconds(s.duration, s.time_base) for s in container.streams]
            declared = max((e for e in ends if e), default=None)
        cut = _wav_cut(head, row["bytes"])
        if cut is not None:
            declared = cut.declared
        if still:
            declared = None
        if declared is not None:
            row["duration"] = round(declared * 1000)
        if container.bit_rate and not still:
            row["bitrate_kbps"] = container.bit_rate / 1000
        elif declared:
            row["bitrate_kbps"] = row["bytes"] * 8 / declared / 1000
        checker = _Checker(av, container, list(container.streams))
        row["checked"] = "decode" if decode else "index"
        try:
            if not decode and declared is not None and declared > TAIL_SECONDS:
                # Unseekable: the check reads on from where it is.
                with contextlib.suppress(av.FFmpegError):
                    container.seek(int((declared - TAIL_SECONDS) * av.time_base), backward=True)
            checker.run(decode_all=decode)
        except av.FFmpegError as exc:
            checker.error = checker.error or f"reading packets: {exc.strerror}"
        timed = (audio is not None or video is not None) and not still
        reached = checker.end if cut is None else cut.present
        truncated = (
            declared is not None
            and timed
            and (cut is not None or checker.end < declared - END_SLACK_SECONDS)
        )
        row["truncated"] = truncated if timed else None
        row["decodable"] = checker.error is None and not truncated
        if truncated:
            lacks = "" if cut is None else f": its data chunk lacks its last {cut.missing:,} bytes"
            row["error"] = f"ends at {reached:.2f} s of {declared:.2f} s{lacks}" + (
                f"; {checker.error}" if checker.error else ""
            )
        else:
            row["error"] = checker.error


def _probe_one(av: ModuleType, target: _Target, decode: bool) -> dict[str, Any]:
    row = _row(target)
    path = target.path
    try:
        if target.unreadable is not None or path is None:
            row["error"] = target.unreadable
            return row
        if not path.is_file():
            row["error"] = "not a file" if path.exists() else "no such file"
            return row
        row["bytes"] = path.stat().st_size
        with path.open("rb") as handle:
            head = handle.read(TEXT_SNIFF_BYTES)
    except OSError as exc:
        row["error"] = f"cannot read: {exc.strerror or exc}"
        return row
    if _looks_like_text(head):
        _probe_text(path, row, row["bytes"])
        named = container_info(path.suffix.removeprefix("."))
        if named is not None and named.media_type in ("audio", "video"):
            # An error page saved as the recording (S3's <Error> XML as a .wav) is text that
            # reads fine, but no recording: it does not play.
            row["decodable"] = False
            row["error"] = (
                f"text ({row['container']}), not the {named.media_type} its name "
                f"({path.suffix}) says: an error answer saved as the file?"
            )
    else:
        _probe_media(av, path, row, head, decode)
    return row


def probe_media(
    source: str | os.PathLike[str] | Sequence[str | os.PathLike[str]] | pl.DataFrame | pl.LazyFrame,
    *,
    decode: bool = False,
    max_workers: int | None = None,
) -> pl.DataFrame:
    """Read what each media file really is: one row per file, never an exception per file.

    Parameters
    ----------
    source : path, folder, list of paths, or DataFrame
        Files; a folder (searched recursively; ``.part`` files skipped); or the frame
        :func:`~recanalytics.download_media` returns (its ``provider`` and ``recording_id`` are
        kept, so the result joins the recordings). For a path laid out as
        ``{dest}/{provider}/{recording_id}.{ext}`` those two are read from the path.
    decode : bool, default False
        Decode every packet of every stream (a full verification; reads the whole file). By
        default only the header, the index and the last second are read and decoded.
    max_workers : int, optional
        Threads probing files at once (default: ``min(16, cores + 4)``).

    Returns
    -------
    polars.DataFrame
        Columns of :data:`PROBE_SCHEMA`: ``container`` (``mka``, ``mkv``, ``webm``, ``mp4``,
        ``m4a``, ``mp3``, ``wav``, ``vtt``, ``json``, ``txt`` …, told apart by content, not by
        name), ``format`` (FFmpeg's demuxer), ``media_type``, ``audio_codec`` and
        ``video_codec`` (normalised like the unified frame's ``codec``), ``duration`` (what the
        header declares), ``sample_rate``, ``channels``, ``bitrate_kbps``, ``width``,
        ``height``, ``frame_rate``, ``truncated`` (the packets end more than 0.5 s before the
        declared duration, however long the file; a WAV lacking any byte its ``data`` chunk
        declares), ``decodable`` (opens, and what was checked decodes to the end), ``checked``
        (``index``, ``decode`` or ``text``) and ``error``. A missing file, or one that is not
        media, gives a row with ``error`` set; so does a frame's row whose ``path`` is null
        (``download_media`` saves no file for a row without an id).

    Raises
    ------
    ImportError
        When PyAV is not installed (``pip install 'recanalytics[media]'``).

    Examples
    --------
    >>> audio = ra.load_twilio_recordings(status="completed", media_type="audio", **box.options("twilio"))
    >>> df = audio.head(3)
    >>> files = ra.download_media(df, "media", **box.options("twilio"))
    >>> probed = ra.probe_media(files)
    >>> probed["container"].unique().to_list(), probed["decodable"].all()
    (['mka'], True)
    """
    av = _import_av()
    if max_workers is not None and (
        isinstance(max_workers, bool) or not isinstance(max_workers, int) or max_workers < 1
    ):
        raise ConfigError("max_workers", "an integer >= 1 or None", max_workers)
    if not isinstance(decode, bool):
        raise ConfigError("decode", "True or False", decode)
    targets = _targets(source)
    workers = max_workers or min(16, (os.cpu_count() or 1) + 4)
    if len(targets) <= 1 or workers == 1:
        rows = [_probe_one(av, t, decode) for t in targets]
    else:
        with ThreadPoolExecutor(max_workers=min(workers, len(targets))) as pool:
            rows = list(pool.map(lambda t: _probe_one(av, t, decode), targets))
    # Durations are collected as whole milliseconds.
    raw = pl.DataFrame(rows, schema={**PROBE_SCHEMA, "duration": pl.Int64})
    return raw.with_columns(pl.col("duration").cast(pl.Duration("ms")))
