"""Reading an answer's body within a ceiling: every JSON answer (list pages, getters, Twilio's
media envelope) is read through :func:`read`.

httpx reads a body whole and decodes its ``Content-Encoding`` as it goes, so a 2 MB gzip page
that inflates to 2 GB took gigabytes (then a ``MemoryError`` that lost the rows already
loaded), and a body that never ends grew until the process was killed. Here a body is read as
it streams and decoded in steps of at most 64 KiB, and reading stops once more than
:data:`MAX_BYTES` decoded bytes arrived, or at once when its ``Content-Length`` says more:
:class:`TooLarge`. gzip and deflate are decoded (as httpx does, a deflate body with or
without its zlib header); JSON requests ask for those two only (:data:`ACCEPT_ENCODING`: with
``brotli`` or ``zstandard`` installed httpx would ask for more, whose decoders take no
ceiling), and another coding a server sends anyway is left as it came, as httpx leaves one it
does not know.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterator, Sequence

import httpx

MAX_BYTES = 64 * 2**20
"""The most decoded bytes of one JSON answer that are read: 64 MiB. The largest real pages
(SignalWire's 1,000 records) are 1-2 MB; an answer above it is a broken or hostile server's."""

ACCEPT_ENCODING = "gzip, deflate"
"""The ``Accept-Encoding`` of JSON requests: the codings :func:`read` decodes."""

STEP = 1 << 16
"""The most bytes one decoding step produces, so a step never overshoots the ceiling by more."""

_LENGTH = re.compile(r"[0-9]+")


class TooLarge(Exception):
    """An answer's body is larger than the ceiling; nothing past it was read.

    Attributes
    ----------
    limit : int
        The ceiling, in decoded bytes.
    announced : int or None
        The ``Content-Length`` that announced more (None: more arrived).
    """

    def __init__(self, limit: int, announced: int | None = None) -> None:
        self.limit = limit
        self.announced = announced
        said = f"announced {announced:,} bytes" if announced is not None else "went on"
        super().__init__(
            f"the answer {said}, past the {limit:,} bytes any answer is read to "
            "(recanalytics.answers.MAX_BYTES)"
        )


class _Inflate:
    """One gzip or deflate layer of a body, decoded at most :data:`STEP` bytes at a time."""

    def __init__(self, coding: str) -> None:
        self.raw_fallback = coding == "deflate"  # sent raw, without zlib's header, by some
        self.inflater = zlib.decompressobj(zlib.MAX_WBITS | (16 if coding == "gzip" else 0))

    def feed(self, data: bytes) -> Iterator[bytes]:
        while True:
            try:
                out = self.inflater.decompress(data, STEP)
            except zlib.error as exc:
                if self.raw_fallback:
                    self.raw_fallback = False
                    self.inflater = zlib.decompressobj(-zlib.MAX_WBITS)
                    continue
                raise httpx.DecodingError(f"{exc}") from None
            self.raw_fallback = False
            if out:
                yield out
            data = self.inflater.unconsumed_tail
            if self.inflater.eof or (not data and len(out) < STEP):
                return

    def flush(self) -> bytes:
        try:
            return self.inflater.flush()
        except zlib.error as exc:
            raise httpx.DecodingError(f"{exc}") from None


def _layers(response: httpx.Response) -> list[_Inflate]:
    """The decoders of the body's codings, the last applied first (as httpx orders them)."""
    codings = response.headers.get_list("content-encoding", split_commas=True)
    found = [c.strip().lower() for c in codings]
    return [_Inflate(c) for c in reversed(found) if c in ("gzip", "deflate")]


def _through(layers: Sequence[_Inflate], data: bytes) -> Iterator[bytes]:
    if not layers:
        if data:
            yield data
        return
    for piece in layers[0].feed(data):
        yield from _through(layers[1:], piece)


def _flushed(layers: Sequence[_Inflate]) -> Iterator[bytes]:
    for index, layer in enumerate(layers):
        yield from _through(layers[index + 1 :], layer.flush())


async def read(response: httpx.Response, limit: int | None = None) -> bytes:
    """The decoded body of a streamed ``response``, read to at most ``limit`` bytes.

    ``limit`` defaults to :data:`MAX_BYTES` (read when called, so it may be changed). A body
    an in-process transport already read is only measured.

    Raises
    ------
    TooLarge
        The ``Content-Length`` or the decoded body is over ``limit``.
    httpx.DecodingError
        A body that is not the gzip or deflate its ``Content-Encoding`` says.
    httpx.TransportError
        The connection failed while the body was read.

    Examples
    --------
    >>> import asyncio, gzip
    >>> body = gzip.compress(b'{"recordings": []}' + b" " * 10_000)
    >>> def page() -> httpx.Response:  # a gzip page as it streams in
    ...     stream = httpx.ByteStream(body)
    ...     return httpx.Response(200, headers={"Content-Encoding": "gzip"}, stream=stream)
    >>> len(asyncio.run(read(page())))
    10018
    >>> asyncio.run(read(page(), limit=1_000))
    Traceback (most recent call last):
    ...
    recanalytics.answers.TooLarge: the answer went on, past the 1,000 bytes any answer is read to ...
    """
    limit = MAX_BYTES if limit is None else limit
    if response.is_stream_consumed:
        content = response.content
        if len(content) > limit:
            raise TooLarge(limit)
        return content
    length = response.headers.get("content-length", "")
    if _LENGTH.fullmatch(length) and int(length) > limit:
        raise TooLarge(limit, int(length))
    layers = _layers(response)
    parts: list[bytes] = []
    size = 0

    def keep(pieces: Iterator[bytes]) -> None:
        nonlocal size
        for piece in pieces:
            size += len(piece)
            if size > limit:
                raise TooLarge(limit)
            parts.append(piece)

    async for raw in response.aiter_raw():
        keep(_through(layers, raw))
    keep(_flushed(layers))
    return b"".join(parts)
