"""Nothing a server sends is read without a ceiling: list pages, getters and Twilio's media
envelope stop at ``answers.MAX_BYTES`` decoded bytes (a gzip bomb, an endless body), and a media
file stops at ``media.most_bytes`` of its row's size.

The auditor's cases: a 2 MB gzip page inflating to 2 GB took 2.1 GB and then raised a bare
``MemoryError`` (page 1's rows lost), an endless page grew until the process aborted, a gzip
media envelope raised ``MemoryError`` out of the whole batch, and an endless storage body wrote
565 MB for a 1,004-byte recording. Here the ceilings are lowered so each test stays small, and
every body is finite, so the old code returned (wrongly) rather than hung.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import zlib
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import polars as pl
import pytest

import recanalytics as ra
from recanalytics import answers, media
from recanalytics.sandbox import Sandbox
from recanalytics.sandbox.storage import media_bytes
from tests.faults import Fault, FaultTransport, Forward, Seen, State, follows

MiB = 1 << 20
LIMIT = MiB  # the ceiling the tests lower answers.MAX_BYTES to
FAST = {
    "rate_limit": 1e6,
    "progress": False,
    "max_concurrency": 1,
    "retry": ra.RetryPolicy(max_retries=2, backoff_base=0.0, backoff_cap=0.0),
}
SPAN = {"since": "2026-01-01", "until": "2026-03-01"}


@pytest.fixture(scope="module")
def box() -> Sandbox:
    return Sandbox(
        seed=3,
        size=100,
        start=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        end=dt.datetime(2026, 2, 20, tzinfo=dt.UTC),
    )


@pytest.fixture
def low_ceiling(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(answers, "MAX_BYTES", LIMIT)


class Pieces(httpx.AsyncByteStream):
    """A body arriving piece by piece, as from a socket; ``sent`` counts what was taken."""

    def __init__(self, pieces: Iterable[bytes]) -> None:
        self.pieces = pieces
        self.sent = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for piece in self.pieces:
            self.sent += len(piece)
            yield piece


@dataclass
class Padding:
    """``head`` then ``size`` bytes of JSON whitespace (valid after any JSON value), made as
    they are taken: ``made`` counts the MiB each body made, so a reader that stops early is
    seen."""

    size: int
    made: list[int] = field(default_factory=list)

    def plain(self, head: bytes) -> Iterator[bytes]:
        body = len(self.made)
        self.made.append(0)
        yield head
        for _ in range(self.size // MiB):
            self.made[body] += 1
            for _ in range(MiB // (64 * 1024)):
                yield b" " * 64 * 1024

    def gzip(self, head: bytes) -> Iterator[bytes]:
        """The same, gzip-compressed (a few KB a MiB: a "bomb")."""
        body = len(self.made)
        self.made.append(0)
        packer = zlib.compressobj(9, zlib.DEFLATED, 31)
        yield packer.compress(head)
        for _ in range(self.size // MiB):
            self.made[body] += 1
            if out := packer.compress(b" " * MiB):
                yield out
        yield packer.flush()


def _headers(real: httpx.Response, **extra: str) -> list[tuple[str, str]]:
    kept = [(k, v) for k, v in real.headers.multi_items() if k.lower() != "content-length"]
    return kept + [(k.replace("_", "-"), v) for k, v in extra.items()]


@dataclass
class Streamed(Fault):
    """The server's real answer, its body streamed as ``body(real body)`` gives it, with
    ``headers`` added; the URLs it answered are kept."""

    body: Callable[[bytes], Iterable[bytes]]
    headers: dict[str, str] = field(default_factory=dict)
    streams: list[Pieces] = field(default_factory=list)
    answered: list[str] = field(default_factory=list)
    codings: list[str | None] = field(default_factory=list)  # the Accept-Encoding asked

    async def answer(
        self, request: httpx.Request, forward: Forward, state: State
    ) -> httpx.Response:
        self.codings.append(request.headers.get("accept-encoding"))
        real = await forward(request)
        stream = Pieces(self.body(real.content))
        self.streams.append(stream)
        self.answered.append(str(request.url))
        headers = _headers(real, **self.headers)
        return httpx.Response(real.status_code, headers=headers, stream=stream, request=request)


def later_pages(seen: Seen) -> bool:
    return follows(seen.request)


LOADS = {
    "twilio": (ra.load_twilio_recordings, {"page_size": 10}),
    "plivo": (ra.load_plivo_recordings, {"page_size": 5}),
    "zoom": (ra.load_zoom_recordings, {"page_size": 3}),
    "signalwire": (ra.load_signalwire_recordings, {"page_size": 5}),
}


def load_through(box: Sandbox, provider: str, fault: Fault) -> pl.DataFrame:
    load, options = LOADS[provider]
    transport = FaultTransport(box.transport, fault, later_pages)
    given = box.options(provider) | FAST | {"transport": transport}
    return load(**SPAN, **options, **given)


def whole(box: Sandbox, provider: str) -> set[str]:
    load, options = LOADS[provider]
    return set(load(**SPAN, **options, **box.options(provider) | FAST)["recording_id"])


def assert_failed_at_once(
    error: ra.TransportError, fault: Streamed, box: Sandbox, provider: str
) -> None:
    assert "MAX_BYTES" in str(error) and "nor asked again" in str(error), error
    assert error.partial is not None and error.partial.height > 0  # the pages before it
    assert set(error.partial["recording_id"]) <= whole(box, provider)
    assert len(fault.answered) == len(set(fault.answered)), "a too-large page was asked again"


@pytest.mark.usefixtures("low_ceiling")
@pytest.mark.parametrize("provider", LOADS)
def test_a_gzip_bomb_page_fails_at_once_with_the_rows_before_it(
    box: Sandbox, provider: str
) -> None:
    padding = Padding(48 * MiB)
    bomb = Streamed(padding.gzip, {"Content-Encoding": "gzip"})
    with pytest.raises(ra.TransportError) as caught:
        load_through(box, provider, bomb)
    assert_failed_at_once(caught.value, bomb, box, provider)
    assert padding.made and max(padding.made) < 16, f"MiB inflated per bomb: {padding.made}"


@pytest.mark.usefixtures("low_ceiling")
def test_an_endless_page_fails_at_once_with_the_rows_before_it(box: Sandbox) -> None:
    padding = Padding(48 * MiB)
    endless = Streamed(padding.plain)
    with pytest.raises(ra.TransportError) as caught:
        load_through(box, "twilio", endless)
    assert_failed_at_once(caught.value, endless, box, "twilio")
    assert all(stream.sent <= LIMIT + 64 * 1024 + 20_000 for stream in endless.streams)


def test_a_page_announcing_more_than_the_ceiling_is_not_read(box: Sandbox) -> None:
    huge = Streamed(lambda page: [page], {"Content-Length": str(10**10)})
    with pytest.raises(ra.TransportError) as caught:
        load_through(box, "twilio", huge)
    assert "announced 10,000,000,000 bytes" in str(caught.value)
    assert_failed_at_once(caught.value, huge, box, "twilio")
    assert [stream.sent for stream in huge.streams] == [0]


@pytest.mark.usefixtures("low_ceiling")
def test_a_getter_answered_by_a_gzip_bomb_fails_at_once(box: Sandbox) -> None:
    sid = box["twilio"].tracks.records[0].sid
    bomb = Streamed(Padding(48 * MiB).gzip, {"Content-Encoding": "gzip"})
    transport = FaultTransport(box.transport, bomb, lambda seen: True)
    options = box.options("twilio") | FAST | {"transport": transport}
    with pytest.raises(ra.TransportError, match="MAX_BYTES"):
        ra.get_twilio_recording(sid, **options)
    assert len(bomb.answered) == 1


def _coded(coding: str) -> Callable[[bytes], Iterator[bytes]]:
    """A body compressed as ``Content-Encoding: coding`` says, sent in 16 KB pieces."""
    wbits = {"gzip": 31, "deflate": 15, "raw-deflate": -15}

    def pieces(body: bytes) -> Iterator[bytes]:
        for one in coding.split(", "):
            packer = zlib.compressobj(6, zlib.DEFLATED, wbits[one])
            body = packer.compress(body) + packer.flush()
        for start in range(0, len(body), 16_000):
            yield body[start : start + 16_000]

    return pieces


@pytest.mark.usefixtures("low_ceiling")
def test_a_page_an_in_process_transport_read_whole_is_measured_too() -> None:
    # httpx.MockTransport (and any transport that reads its answer before returning it) hands
    # over a body already read: it is held to the ceiling like a streamed one.
    from provider_cases import CREDENTIALS, twilio_track

    def handle(request: httpx.Request) -> httpx.Response:
        page = {"recordings": [twilio_track(1)], "meta": {"next_page_url": None}}
        return httpx.Response(200, content=json.dumps(page).encode() + b" " * LIMIT)

    with pytest.raises(ra.TransportError, match="MAX_BYTES"):
        ra.load_twilio_recordings(
            credentials=CREDENTIALS["twilio"], transport=httpx.MockTransport(handle), **FAST
        )


@pytest.mark.parametrize("announced", [True, False])
def test_a_body_of_exactly_the_ceiling_is_read(announced: bool) -> None:
    body = b"x" * 1_000
    headers = {"Content-Length": "1000"} if announced else {}

    def response() -> httpx.Response:
        return httpx.Response(200, headers=headers, stream=Pieces([body[:600], body[600:]]))

    assert asyncio.run(answers.read(response(), limit=1_000)) == body
    with pytest.raises(answers.TooLarge):
        asyncio.run(answers.read(response(), limit=999))


@pytest.mark.parametrize("coding", ["gzip", "deflate", "raw-deflate", "deflate, gzip"])
def test_a_full_page_of_a_thousand_records_still_loads_compressed(coding: str) -> None:
    # SignalWire's 1,000-record page is ~0.9 MB here: far under the default ceiling, and
    # decoded as httpx would (a deflate body with or without zlib's header, codings in layers).
    big = Sandbox(seed=8, size=3500)
    plain = ra.load_signalwire_recordings(since="2015-01-01", **big.options("signalwire"))
    sent = Streamed(_coded(coding), {"Content-Encoding": coding.replace("raw-", "")})
    transport = FaultTransport(big.transport, sent, lambda seen: True)
    options = big.options("signalwire") | {"transport": transport, "progress": False}
    frame = ra.load_signalwire_recordings(since="2015-01-01", **options)
    assert frame.equals(plain) and frame.height == 1050
    assert max(stream.sent for stream in sent.streams) > 50_000  # the page was compressed
    # Only the codings the ceiling holds for (httpx asks for br and zstd too when installed).
    assert set(sent.codings) == {answers.ACCEPT_ENCODING}


# --- media -----------------------------------------------------------------------------------


class Replacing(httpx.AsyncBaseTransport):
    """The sandbox, with each answer whose path ``picked`` chooses replaced by
    ``change(request, real answer)``; the requests it replaced are kept."""

    def __init__(
        self,
        box: Sandbox,
        picked: Callable[[httpx.Request], bool],
        change: Callable[[httpx.Request, httpx.Response], httpx.Response],
    ) -> None:
        self.inner, self.picked, self.change = box.transport, picked, change
        self.replaced: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if not self.picked(request):
            return response
        await response.aread()
        self.replaced.append(request)
        return self.change(request, response)


def _tracks(box: Sandbox, count: int) -> pl.DataFrame:
    df = ra.load_twilio_recordings(status="completed", **box.options("twilio") | FAST)
    return df.head(count)


def _download(box: Sandbox, df: pl.DataFrame, dest: Path, transport: Any) -> pl.DataFrame:
    options = box.options("twilio") | {"transport": transport, "retry": FAST["retry"]}
    return ra.download_media(df, dest, **options)


@pytest.mark.usefixtures("low_ceiling")
def test_a_gzip_bomb_media_answer_is_one_failed_row(box: Sandbox, tmp_path: Path) -> None:
    df = _tracks(box, 3)
    first = df["recording_id"][0]
    padding = Padding(48 * MiB)

    def bomb(request: httpx.Request, real: httpx.Response) -> httpx.Response:
        stream = Pieces(padding.gzip(real.content))
        headers = _headers(real, Content_Encoding="gzip")
        return httpx.Response(real.status_code, headers=headers, stream=stream, request=request)

    transport = Replacing(box, lambda r: r.url.path.endswith(f"{first}/Media"), bomb)
    result = _download(box, df, tmp_path, transport)
    assert result["status"].to_list() == ["failed", "downloaded", "downloaded"]
    assert "media answer" in result["error"][0] and "MAX_BYTES" in result["error"][0]
    assert len(transport.replaced) == 1  # not asked again: it would not shrink
    assert padding.made and max(padding.made) < 16


def _storage_answer(body: Callable[[bytes], Iterable[bytes]], **headers: str) -> Any:
    streams: list[Pieces] = []

    def change(request: httpx.Request, real: httpx.Response) -> httpx.Response:
        streams.append(Pieces(body(real.content)))
        return httpx.Response(200, headers=_headers(real, **headers), stream=streams[-1])

    return change, streams


def _one_sized_track(box: Sandbox) -> tuple[pl.DataFrame, bytes]:
    """A track whose row states its file's real size (the sandbox's stand-ins are smaller)."""
    df = _tracks(box, 1)
    sid, container = df["recording_id"][0], df["container"][0]
    full = media_bytes(f"twilio/{sid}.{container}", box["twilio"].tracks_by_sid[sid].media)
    return df.with_columns(size_bytes=pl.lit(len(full))), full


def _at_storage(request: httpx.Request) -> bool:
    return request.url.path.startswith("/_storage/")


def test_a_storage_body_far_over_the_rows_size_is_a_failed_row(
    box: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 565 MB were 'downloaded' for a row of 1,004 bytes, and a truly endless body fills a disk.
    monkeypatch.setattr(media, "OVERSIZE_SLACK", 0, raising=False)  # twice the size
    df, full = _one_sized_track(box)
    padding = Padding(24 * MiB)
    change, streams = _storage_answer(lambda real: padding.plain(real))
    result = _download(box, df, tmp_path, Replacing(box, _at_storage, change))
    row = result.row(0, named=True)
    assert row["status"] == "failed", row
    assert f"more than {2 * len(full):,} bytes" in row["error"] and "size_bytes" in row["error"]
    assert [s.sent <= 2 * len(full) + 2 * media.CHUNK for s in streams] == [True]
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]  # no part kept to resume


def test_a_storage_body_announced_far_over_the_rows_size_is_not_read(
    box: Sandbox, tmp_path: Path
) -> None:
    df, _ = _one_sized_track(box)
    change, streams = _storage_answer(lambda real: [real], Content_Length=str(10**10))
    transport = Replacing(box, _at_storage, change)
    row = _download(box, df, tmp_path, transport).row(0, named=True)
    assert row["status"] == "failed" and "announced 10,000,000,000 bytes" in row["error"], row
    assert [s.sent for s in streams] == [0]  # asked once, nothing read


@pytest.mark.parametrize("stated", [True, False], ids=["size-stated", "no-size"])
def test_a_file_somewhat_larger_than_stated_or_of_no_stated_size_is_downloaded(
    box: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stated: bool
) -> None:
    # The metadata may be off, not the file (docs/store-media-archive.md); without a stated
    # size there is no ceiling.
    monkeypatch.setattr(media, "OVERSIZE_SLACK", 0, raising=False)
    df, full = _one_sized_track(box)
    larger = full + b"\0" * (len(full) // 2 if stated else 4 * len(full))
    if not stated:
        df = df.with_columns(size_bytes=pl.lit(None, pl.Int64))
    change, _ = _storage_answer(lambda real: [larger])
    result = _download(box, df, tmp_path, Replacing(box, _at_storage, change))
    row = result.row(0, named=True)
    assert row["status"] == "downloaded" and row["bytes"] == len(larger), row


@pytest.mark.parametrize("announced", [True, False], ids=["announced", "streamed"])
def test_a_small_file_several_times_its_stated_size_is_downloaded(
    box: Sandbox, tmp_path: Path, announced: bool
) -> None:
    # Twice a small row's size is no ceiling (a 14 KB row's 70 KB file would be refused): a
    # body may exceed what the row states by media.OVERSIZE_SLACK (16 MiB) whatever its size.
    df, full = _one_sized_track(box)
    larger = full * 5
    length = {"Content_Length": str(len(larger))} if announced else {}
    change, _ = _storage_answer(lambda real: [larger], **length)
    result = _download(box, df, tmp_path, Replacing(box, _at_storage, change))
    row = result.row(0, named=True)
    assert row["status"] == "downloaded" and row["bytes"] == len(larger), row


def test_an_envelope_arriving_in_pieces_is_read_whole(box: Sandbox, tmp_path: Path) -> None:
    df = _tracks(box, 1)
    envelope = Replacing(box, lambda r: r.url.path.endswith("/Media"), _json_again)
    assert _download(box, df, tmp_path, envelope)["status"].to_list() == ["downloaded"]


def _json_again(request: httpx.Request, real: httpx.Response) -> httpx.Response:
    body = json.dumps(json.loads(real.content), indent=2).encode()
    return httpx.Response(200, headers=_headers(real), stream=Pieces([body[:7], body[7:]]))
