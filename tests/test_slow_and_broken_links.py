"""Servers that answer too slowly to ever trip a per-read timeout, and links that cannot be
requested: each ends in bounded time with a named error carrying the rows (or a failed media
row), never a hang or a bare exception."""

from __future__ import annotations

import asyncio
import json
import time
import warnings
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import polars as pl
import pytest
from provider_cases import CREDENTIALS, signalwire_recording, twilio_track

import recanalytics as ra
from recanalytics.engine import RetryPolicy

QUICK = RetryPolicy(max_retries=1, backoff_base=0.001, backoff_cap=0.01, max_retry_after=5)
TWILIO = {"credentials": CREDENTIALS["twilio"], "base_url": "https://video.example"}


class Dribble(httpx.AsyncByteStream):
    """``body`` a few bytes at a time, ``gap`` seconds apart: every read is quick."""

    def __init__(self, body: bytes, gap: float, step: int = 8) -> None:
        self.body, self.gap, self.step = body, gap, step

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for start in range(0, len(self.body), self.step):
            await asyncio.sleep(self.gap)
            yield self.body[start : start + self.step]


def plivo_media(files: dict[str | None, str]) -> pl.DataFrame:
    """A unified-frame slice of completed Plivo recordings: id -> media URL."""
    return pl.DataFrame(
        {
            "provider": ["plivo"] * len(files),
            "recording_id": list(files),
            "media_url": list(files.values()),
            "container": ["mp3"] * len(files),
            "status": ["completed"] * len(files),
        },
        schema_overrides={"recording_id": pl.String},
    )


def page(records: list[dict[str, Any]], next_url: str | None) -> bytes:
    return json.dumps({"recordings": records, "meta": {"next_page_url": next_url}}).encode()


def test_a_list_answered_a_few_bytes_at_a_time_ends_at_the_timeout() -> None:
    # httpx's timeout bounds each read: 8 bytes every 0.05 s never tripped timeout=0.5, and a
    # 30 KB page took 3 minutes. The whole request now gets timeout seconds.
    body = page([twilio_track(i) for i in range(100)], None)

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, stream=Dribble(body, 0.05))

    started = time.monotonic()
    with pytest.raises(ra.TransportError, match=r"timeout=0\.5"):
        ra.load_twilio_recordings(
            transport=httpx.MockTransport(handler), timeout=0.5, retry=QUICK, **TWILIO
        )
    assert time.monotonic() - started < 10


def test_media_answered_a_few_bytes_at_a_time_fails_its_row(tmp_path: Path) -> None:
    frame = plivo_media(
        {"slow": "https://media.example/slow.mp3", "quick": "https://media.example/quick.mp3"}
    )

    def handler(request: httpx.Request) -> httpx.Response:
        if "slow" in request.url.path:
            return httpx.Response(200, stream=Dribble(b"ID3" + b"\0" * 4000, 0.05))
        return httpx.Response(200, content=b"ID3" + b"\0" * 4000)

    started = time.monotonic()
    result = ra.download_media(
        frame, tmp_path, transport=httpx.MockTransport(handler), timeout=0.5, retry=QUICK
    )
    assert time.monotonic() - started < 10
    assert result["status"].to_list() == ["failed", "downloaded"]
    assert "too slow" in result["error"][0]
    assert (tmp_path / "plivo" / "slow.mp3.part").exists()  # kept, and resumed next time


@pytest.mark.parametrize("wait", ["1000000000", "inf"])
def test_media_never_sleeps_on_a_retry_after_past_the_policy(wait: str, tmp_path: Path) -> None:
    frame = plivo_media({"r1": "https://media.example/r1.mp3"})

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503, headers={"Retry-After": wait})

    started = time.monotonic()
    result = ra.download_media(frame, tmp_path, transport=httpx.MockTransport(handler), retry=QUICK)
    assert time.monotonic() - started < 10
    assert result["status"].to_list() == ["failed"]
    assert "max_retry_after=5" in result["error"][0]


@pytest.mark.parametrize(
    "link", ["http://[::1/v1/Recordings?Page=1", "https://video.example:70000/v1/Recordings"]
)
def test_a_next_link_that_cannot_be_requested_is_a_pagination_error(link: str) -> None:
    # urljoin raised a bare ValueError; a port past 65535 an ExceptionGroup from the
    # transport. Either lost the page already read.
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=page([twilio_track(i) for i in range(100)], link))

    with pytest.raises(ra.PaginationError, match="cannot be requested") as info:
        ra.load_twilio_recordings(
            transport=httpx.MockTransport(handler), max_concurrency=1, **TWILIO
        )
    assert info.value.partial is not None and info.value.partial.height == 100
    assert "(after 1 page)" in str(info.value)


def test_a_query_refused_on_its_first_page_says_so_not_after_0_pages() -> None:
    # A full first page without its next-page link is asked again, and then fails the load:
    # its message read "(after 0 pages)", and a later one "(after 1 pages)".
    def handler(request: httpx.Request) -> httpx.Response:
        body = {"recordings": [twilio_track(i) for i in range(100)], "meta": {"page_size": 100}}
        return httpx.Response(200, json=body)

    with pytest.raises(ra.PaginationError, match="without its next-page link") as info:
        ra.load_twilio_recordings(
            transport=httpx.MockTransport(handler), max_concurrency=1, retry=QUICK, **TWILIO
        )
    assert "(on its first page)" in str(info.value)
    assert "0 pages" not in str(info.value)


def test_signalwire_next_uri_that_cannot_be_requested_keeps_its_rows() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        body = {"recordings": [signalwire_recording(i) for i in range(3)], "next_page_uri": "//[x"}
        return httpx.Response(200, json=body)

    with pytest.raises(ra.PaginationError) as info:
        ra.load_signalwire_recordings(
            credentials=CREDENTIALS["signalwire"],
            base_url="https://example.signalwire.com",
            transport=httpx.MockTransport(handler),
            max_concurrency=1,
        )
    assert info.value.partial is not None and info.value.partial.height == 3


def test_media_on_a_port_past_65535_is_one_unavailable_row(tmp_path: Path) -> None:
    frame = plivo_media(
        {"bad": "https://media.example:99999/a.mp3", "good": "https://media.example/b.mp3"}
    )
    transport = httpx.MockTransport(lambda r: httpx.Response(200, content=b"ID3" + b"\0" * 100))
    result = ra.download_media(frame, tmp_path, transport=transport)
    assert result["status"].to_list() == ["unavailable", "downloaded"]


def test_a_failed_load_carries_its_partial_rows_and_the_status_warning_says_where() -> None:
    # ra.load returned 0 rows as its result (the 100 read before the 401 only in a warning's
    # pointer): it now raises with them; load_with_status still says where they are.
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/Compositions"):
            return httpx.Response(200, json={"compositions": [], "meta": {"next_page_url": None}})
        if request.url.params.get("PageToken"):
            return httpx.Response(401, json={"code": 20003, "message": "Authenticate"})
        return httpx.Response(
            200, content=page([twilio_track(i) for i in range(100)], "/v1/Recordings?PageToken=2")
        )

    options = {
        "credentials": {"twilio": CREDENTIALS["twilio"]},
        "base_url": "https://video.example",
        "transport": httpx.MockTransport(handler),
        "max_concurrency": 1,
        "retry": QUICK,
    }
    with pytest.raises(ra.IncompleteLoadError) as info:
        ra.load(["twilio"], **options)
    assert info.value.partial.height == 100
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = ra.load_with_status(["twilio"], **options)
    assert result.frame.height == 0 and result.status["twilio"].partial.height == 100
    (message,) = [str(w.message) for w in caught]
    assert "ra.load_with_status(...).status['twilio'].partial" in message


def test_an_html_page_and_a_dropped_connection_say_what_and_where() -> None:
    # An HTML 200 (a proxy's or a login page) read as "response body is not complete JSON",
    # like a dropped connection; a dropped connection showed the URL without the query that
    # says which page failed, and an empty ReadError text.
    def html(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, content=b"<html>Sign in</html>", headers={"Content-Type": "text/html"}
        )

    with pytest.raises(ra.TransportError, match="HTML page"):
        ra.load_twilio_recordings(transport=httpx.MockTransport(html), retry=QUICK, **TWILIO)

    def dropped(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadError("")

    with pytest.raises(ra.TransportError) as info:
        ra.load_plivo_recordings(
            since="2026-01-01",
            until="2026-01-02",
            credentials=CREDENTIALS["plivo"],
            base_url="https://api.plivo.example",
            transport=httpx.MockTransport(dropped),
            retry=QUICK,
        )
    assert "limit=" in str(info.value.url) and "add_time__gte=" in str(info.value.url)
    assert "ReadError: no detail" in str(info.value)


def test_an_html_page_with_parameters_in_its_content_type_is_said_to_be_one() -> None:
    # Proxies and login pages send "text/html; charset=utf-8" more often than a bare type.
    def html(request: httpx.Request) -> httpx.Response:
        headers = {"Content-Type": "Text/HTML; charset=utf-8"}
        return httpx.Response(200, content=b"<html>Sign in</html>", headers=headers)

    with pytest.raises(ra.TransportError, match="HTML page"):
        ra.load_twilio_recordings(transport=httpx.MockTransport(html), retry=QUICK, **TWILIO)


def test_a_row_without_an_id_has_no_media_path(tmp_path: Path) -> None:
    frame = plivo_media({None: "https://media.example/a.mp3"})
    transport = httpx.MockTransport(lambda r: httpx.Response(200, content=b"ID3"))
    result = ra.download_media(frame, tmp_path, transport=transport)
    assert result.row(0, named=True) | {"error": None} == {
        "provider": "plivo",
        "recording_id": None,
        "path": None,  # it said ".../plivo/None.mp3", a file that is not there
        "bytes": None,
        "sha256": None,
        "status": "unavailable",
        "error": None,
    }
