"""Reading an answer's body within a ceiling: every JSON answer (list pages, getters, Twilio's
media envelope) is read through :func:`read`.

httpx reads a body whole, so a 2 MB gzip page that inflates to 2 GB took gigabytes (then a
``MemoryError`` that lost the rows already loaded), and a body that never ends grew until the
process was killed. Here a body is read as it streams, through httpx's own decoders one network
chunk at a time, and reading stops once more than :data:`MAX_BYTES` decoded bytes arrived, or
at once when its ``Content-Length`` says more: :class:`TooLarge`. One chunk (at most 64 KiB as
received) inflates to at most about 64 MiB with gzip or deflate, so the ceiling is overshot
by at most that; JSON requests ask for those two codings only (:data:`ACCEPT_ENCODING`: with
``brotli`` or ``zstandard`` installed httpx would ask for codings whose chunks inflate far more).
"""

from __future__ import annotations

import re

import httpx

MAX_BYTES = 64 * 2**20
"""The most decoded bytes of one JSON answer that are read: 64 MiB. The largest real pages
(SignalWire's 1,000 records) are 1-2 MB; an answer above it is a broken or hostile server's."""

ACCEPT_ENCODING = "gzip, deflate"
"""The ``Accept-Encoding`` of JSON requests: the codings :func:`read` decodes."""

_LENGTH = re.compile(r"[0-9]+")


class TooLarge(Exception):
    """An answer's body is larger than the ceiling (``limit`` decoded bytes, or a
    ``Content-Length`` that ``announced`` more); nothing past it was read. Only its message is
    used: the errors and failed media rows quote it."""

    def __init__(self, limit: int, announced: int | None = None) -> None:
        said = f"announced {announced:,} bytes" if announced is not None else "went on"
        super().__init__(
            f"the answer {said}, past the {limit:,} bytes any answer is read to "
            "(recanalytics.answers.MAX_BYTES)"
        )


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
    parts: list[bytes] = []
    size = 0
    async for piece in response.aiter_bytes():
        size += len(piece)
        if size > limit:
            raise TooLarge(limit)
        parts.append(piece)
    return b"".join(parts)
