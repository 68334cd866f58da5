"""The sandbox's storage host: small, valid media files behind pre-signed URLs.

Provider emulators hand out URLs made by :func:`signed_url`; the storage route checks the
signature, refuses any request that carries credentials (a client must never send provider
credentials to a storage host) and honours ``Range`` so interrupted downloads can resume.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import struct

from recanalytics.sandbox.core import Route, SandboxRequest, SandboxResponse

NAME = "storage"
SIGNING_KEY = b"sandbox-storage-signing-key"
PATH = "/_storage"


def signature(name: str) -> str:
    return hmac.new(SIGNING_KEY, name.encode(), hashlib.sha256).hexdigest()[:32]


def signed_url(origin: str, name: str) -> str:
    """A pre-signed URL for ``name`` (``{provider}/{id}.{ext}``) on the storage route."""
    return f"{origin}{PATH}/{name}?Expires=4102444800&Signature={signature(name)}"


def _payload(name: str, length: int) -> bytes:
    seed = hashlib.sha256(name.encode()).digest()
    blocks = (length // len(seed)) + 1
    return b"".join(hashlib.sha256(seed + i.to_bytes(4, "big")).digest() for i in range(blocks))[
        :length
    ]


def media_bytes(name: str) -> bytes:
    """Deterministic bytes for ``name`` that start like a real file of its extension."""
    ext = name.rsplit(".", 1)[-1].lower()
    length = 2048 + int(hashlib.sha256(name.encode()).hexdigest()[:4], 16) % 6144
    body = _payload(name, length)
    if ext in ("mka", "mkv", "webm"):
        doctype = b"webm" if ext == "webm" else b"matroska"
        header = (
            b"\x1a\x45\xdf\xa3"
            + bytes([0x80 | (len(doctype) + 3)])
            + b"\x42\x82"
            + bytes([0x80 | len(doctype)])
            + doctype
        )
        return header + body
    if ext in ("mp4", "m4a"):
        brand = b"M4A " if ext == "m4a" else b"isom"
        return (
            struct.pack(">I", 24)
            + b"ftyp"
            + brand
            + struct.pack(">I", 512)
            + brand
            + b"mp41"
            + body
        )
    if ext == "wav":
        data = body
        fmt = struct.pack("<4sIHHIIHH", b"fmt ", 16, 1, 1, 8000, 16000, 2, 16)
        return (
            b"RIFF"
            + struct.pack("<I", 4 + len(fmt) + 8 + len(data))
            + b"WAVE"
            + fmt
            + b"data"
            + struct.pack("<I", len(data))
            + data
        )
    if ext == "mp3":
        return b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x64" + body
    if ext in ("vtt",):
        return b"WEBVTT\n\n00:00:00.000 --> 00:00:01.000\nhello\n"
    return body


def serve(request: SandboxRequest, match: re.Match[str]) -> SandboxResponse:
    name = match["name"]
    if "authorization" in request.headers:
        return SandboxResponse.json(
            400, {"message": "storage got credentials: a client must not send them here"}
        )
    if request.get("Signature") != signature(name):
        return SandboxResponse.json(403, {"message": "signature does not match"})
    body = media_bytes(name)
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
    }
    headers = {
        "Content-Type": types.get(ext, "application/octet-stream"),
        "Accept-Ranges": "bytes",
        "ETag": f'"{signature(name)}"',
    }
    wanted = re.fullmatch(r"bytes=(\d+)-", request.headers.get("range", ""))
    if wanted:
        start = int(wanted[1])
        if start >= len(body):
            return SandboxResponse(416, b"", {"Content-Range": f"bytes */{len(body)}"})
        headers["Content-Range"] = f"bytes {start}-{len(body) - 1}/{len(body)}"
        return SandboxResponse(206, body[start:], headers)
    return SandboxResponse(200, body, headers)


def routes() -> list[Route]:
    return [Route(NAME, "GET", re.compile(rf"{PATH}/(?P<name>[a-z]+/[^/]+)"), serve)]
