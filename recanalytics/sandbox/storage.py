"""The sandbox's storage host: small, real media files behind pre-signed or public URLs.

Provider emulators hand out URLs made by :func:`signed_url` (or :func:`public_url`, for a
provider whose links are public); the storage route checks the signature of a signed one, refuses any request that carries credentials (a client must never send provider
credentials to a storage host) and honours ``Range`` so interrupted downloads can resume.

What it serves are real files (Opus and PCMU in MKA, VP8 and H.264 in MKV, WebM and MP4
compositions, M4A, MP3, WAV, and Zoom's VTT/TXT/JSON/CSV/JPG files) of a few seconds each,
shipped in ``media/`` beside this module: ``scripts/make_sandbox_media.py`` made them with PyAV
once, and they are committed, so the sandbox needs no PyAV and serves the same bytes on every
machine. The emulator that signs a URL names the file (``media=``) from its record's codec and
format, and may ask for a copy cut short (``cut``) to plant a truncated download.

With ``Sandbox(small_media=True)`` the emulators also report, for each recording, the duration
and size of the file served, and plant faults chosen by :func:`planted_fault`: some files are
truncated, some recordings report a duration 10 s off, some Twilio tracks the other codec.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
from pathlib import Path
from typing import Final, Literal

from recanalytics.sandbox.core import Route, SandboxRequest, SandboxResponse

NAME = "storage"
SIGNING_KEY = b"sandbox-storage-signing-key"
PATH = "/_storage"
MEDIA_DIR: Final = Path(__file__).with_name("media")

# Shipped file -> its length in whole seconds (see scripts/make_sandbox_media.py).
MEDIA_SECONDS: Final[dict[str, int]] = {
    "opus.mka": 4,
    "pcmu.mka": 3,
    "data.mka": 3,
    "vp8.mkv": 3,
    "h264.mkv": 3,
    "h264-aac.mp4": 5,
    "aac.mp4": 4,
    "vp8-opus.webm": 5,
    "opus.webm": 4,
    "aac.m4a": 4,
    "mono.mp3": 2,
    "stereo.mp3": 2,
    "mono.wav": 2,
    "stereo.wav": 2,
    "transcript.vtt": 4,
    "chat.txt": 4,
    "timeline.json": 4,
    "poll.csv": 4,
    "thumbnail.jpg": 0,
}
# The file served for an extension when the emulator names none.
BY_EXTENSION: Final[dict[str, str]] = {
    "mka": "opus.mka",
    "mkv": "vp8.mkv",
    "webm": "vp8-opus.webm",
    "mp4": "h264-aac.mp4",
    "m4a": "aac.m4a",
    "mp3": "mono.mp3",
    "wav": "mono.wav",
    "vtt": "transcript.vtt",
    "txt": "chat.txt",
    "json": "timeline.json",
    "csv": "poll.csv",
    "jpg": "thumbnail.jpg",
}
TEXT_MEDIA: Final = frozenset({"transcript.vtt", "chat.txt", "timeline.json", "poll.csv"})
# Truncated copies keep this share of the bytes.
CUT_AT: Final = 0.6
# A planted duration fault: the metadata says this many seconds more than the file lasts.
DURATION_FAULT_SECONDS: Final = 10

Fault = Literal["truncated", "duration", "codec"]
FAULTS: Final[tuple[Fault, ...]] = ("truncated", "duration", "codec")


def signature(name: str, media: str = "", cut: bool = False) -> str:
    message = f"{name}|{media}|{int(cut)}" if media or cut else name
    return hmac.new(SIGNING_KEY, message.encode(), hashlib.sha256).hexdigest()[:32]


def signed_url(origin: str, name: str, media: str | None = None, *, cut: bool = False) -> str:
    """A pre-signed URL for ``name`` (``{provider}/{id}.{ext}``) on the storage route.

    ``media`` names the shipped file to serve (default: by extension); ``cut`` serves a copy
    truncated to :data:`CUT_AT` of its bytes.
    """
    extra = (f"&media={media}" if media else "") + ("&cut=1" if cut else "")
    return (
        f"{origin}{PATH}/{name}?Expires=4102444800{extra}"
        f"&Signature={signature(name, media or '', cut)}"
    )


def public_url(origin: str, name: str, media: str | None = None, *, cut: bool = False) -> str:
    """A public URL for ``name``: no signature, as a provider whose media links are public
    (Plivo's S3 links) hands them out; ``media`` and ``cut`` as for :func:`signed_url`."""
    extra = "&".join(([f"media={media}"] if media else []) + (["cut=1"] if cut else []))
    return f"{origin}{PATH}/public/{name}" + (f"?{extra}" if extra else "")


def planted_fault(provider: str, recording_id: str) -> Fault | None:
    """The fault planted on a recording's media in ``small_media`` mode, if any.

    About one recording in four carries one (deterministic: a hash of provider and id). An
    emulator applies only the faults that fit its provider (a codec fault needs a provider that
    reports the codec) and only to audio and video files.
    """
    digest = int(hashlib.sha256(f"{provider}/{recording_id}".encode()).hexdigest()[:8], 16)
    slot = digest % 12
    return FAULTS[slot] if slot < len(FAULTS) else None


@functools.cache
def shipped(media: str) -> bytes:
    """The bytes of a shipped media file (``opus.mka``, ``mono.wav``, ...)."""
    if media not in MEDIA_SECONDS:
        raise KeyError(media)
    return (MEDIA_DIR / media).read_bytes()


def media_size(media: str) -> int:
    return len(shipped(media))


def media_seconds(media: str) -> int:
    return MEDIA_SECONDS[media]


def _payload(name: str, length: int) -> bytes:
    seed = hashlib.sha256(name.encode()).digest()
    blocks = (length // len(seed)) + 1
    return b"".join(hashlib.sha256(seed + i.to_bytes(4, "big")).digest() for i in range(blocks))[
        :length
    ]


def media_bytes(name: str, media: str | None = None, *, cut: bool = False) -> bytes:
    """What the storage host serves for ``name``: the shipped file ``media`` (default: the one
    for the extension), cut short if ``cut``; other extensions get deterministic bytes."""
    ext = name.rsplit(".", 1)[-1].lower()
    media = media or BY_EXTENSION.get(ext)
    if media is not None:
        body = shipped(media)
        return body[: int(len(body) * CUT_AT)] if cut else body
    return _placeholder(name)


def _placeholder(name: str) -> bytes:
    """Deterministic bytes for an extension no shipped file stands for."""
    length = 2048 + int(hashlib.sha256(name.encode()).hexdigest()[:4], 16) % 6144
    return _payload(name, length)


def serve(request: SandboxRequest, match: re.Match[str]) -> SandboxResponse:
    name = match["name"]
    if "authorization" in request.headers:
        return SandboxResponse.json(
            400, {"message": "storage got credentials: a client must not send them here"}
        )
    media = request.get("media") or ""
    cut = request.get("cut") == "1"
    signed = not match["public"]
    if (signed and request.get("Signature") != signature(name, media, cut)) or (
        media and media not in MEDIA_SECONDS
    ):
        return SandboxResponse.json(403, {"message": "signature does not match"})
    body = media_bytes(name, media or None, cut=cut)
    ext = name.rsplit(".", 1)[-1].lower()
    types = {
        "mka": "audio/x-matroska",
        "mkv": "video/x-matroska",
        "webm": "video/webm",
        "mp4": "video/mp4",
        "m4a": "audio/mp4",
        "wav": "audio/wav",
        "mp3": "audio/mpeg",
        "vtt": "text/vtt",
        "txt": "text/plain",
        "json": "application/json",
        "csv": "text/csv",
        "jpg": "image/jpeg",
    }
    headers = {
        "Content-Type": types.get(ext, "application/octet-stream"),
        "Accept-Ranges": "bytes",
        # Of the bytes served, as S3's: a file changed since a part was saved has another.
        "ETag": f'"{hashlib.md5(body, usedforsecurity=False).hexdigest()}"',
    }
    wanted = re.fullmatch(r"bytes=(\d+)-", request.headers.get("range", ""))
    if_range = request.headers.get("if-range")
    if wanted and if_range is not None and if_range != headers["ETag"]:
        wanted = None  # RFC 9110 13.1.5: the file changed, so all of it, not the range
    if wanted:
        start = int(wanted[1])
        if start >= len(body):
            return SandboxResponse(416, b"", {"Content-Range": f"bytes */{len(body)}"})
        headers["Content-Range"] = f"bytes {start}-{len(body) - 1}/{len(body)}"
        return SandboxResponse(206, body[start:], headers)
    return SandboxResponse(200, body, headers)


def routes() -> list[Route]:
    return [
        Route(NAME, "GET", re.compile(rf"{PATH}/(?P<public>public/)?(?P<name>[a-z]+/[^/]+)"), serve)
    ]
