"""Media download through each provider's flow, resuming, skipping; and the Twilio archive."""

from __future__ import annotations

import gzip
import hashlib
import json
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import polars as pl
import pytest
from provider_cases import MEDIA_AUTH

import recanalytics as ra
from recanalytics.cli import main
from recanalytics.sandbox import Sandbox
from recanalytics.sandbox.storage import media_bytes

FAST = {"rate_limit": 1000.0}


@pytest.fixture(scope="module")
def box() -> Sandbox:
    return Sandbox(seed=8, size=300)


def media_credentials(box: Sandbox) -> dict[str, Any]:
    return {name: box.credentials(name) for name in MEDIA_AUTH}


def storage_log(box: Sandbox) -> list[tuple[str, int, str]]:
    return [entry for entry in box.app.log if entry[0] == "storage"]


def test_twilio_tracks_via_redirect_without_credentials_at_storage(
    box: Sandbox, tmp_path: Path
) -> None:
    df = ra.load_twilio_recordings(status="completed", **box.options("twilio")).head(8)
    box.app.reset_counts()
    result = ra.download_media(df, tmp_path, **box.options("twilio"))
    assert result["status"].to_list() == ["downloaded"] * 8
    for row in result.iter_rows(named=True):
        data = Path(row["path"]).read_bytes()
        assert data.startswith(b"\x1a\x45\xdf\xa3")  # Matroska
        assert row["bytes"] == len(data) and row["sha256"] == hashlib.sha256(data).hexdigest()
        assert Path(row["path"]).parent == tmp_path / "twilio"
    # The storage route answers 400 to any request carrying credentials: all 200 means none did.
    assert [status for _, status, _ in storage_log(box)] == [200] * 8
    media_calls = [entry for entry in box.app.log if entry[2].endswith("/Media")]
    assert len(media_calls) == 8 and all(status == 200 for _, status, _ in media_calls)


def test_over_loopback_too(box: Sandbox, tmp_path: Path) -> None:
    with box.serve() as server:
        df = ra.load_twilio_compositions(
            status="completed", **box.options("twilio", base_url=server.url)
        ).head(3)
        result = ra.download_media(df, tmp_path, **box.options("twilio", base_url=server.url))
    assert result["status"].to_list() == ["downloaded"] * 3
    assert all(Path(p).suffix in (".mp4", ".webm") for p in result["path"])


class Lent(httpx.AsyncBaseTransport):
    """The sandbox's transport, counting the times it is closed."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.closed = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        self.closed += 1


def test_a_callers_transport_is_not_closed_by_the_download(box: Sandbox, tmp_path: Path) -> None:
    # Each of the downloader's clients closed it, under any other load sharing it.
    df = ra.load_twilio_recordings(status="completed", **box.options("twilio")).head(2)
    transport = Lent(box.transport)
    options = box.options("twilio") | {"transport": transport}
    result = ra.download_media(df, tmp_path, **options)
    assert result["status"].to_list() == ["downloaded"] * 2
    assert transport.closed == 0


def test_a_download_raising_a_bug_stops_the_other_downloads_first(
    box: Sandbox, tmp_path: Path
) -> None:
    # asyncio.gather raised a download's own exception (a bug, a custom transport's) and left
    # the other downloads running in the background, to fail on the closed client unseen.
    import asyncio

    df = ra.load_twilio_recordings(status="completed", **box.options("twilio")).head(8)
    asked: list[str] = []

    class Broken(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            asked.append(str(request.url))
            if len(asked) == 1:
                raise RuntimeError("a custom transport's bug")
            await asyncio.sleep(0.05)  # the others are in flight when the first one raises
            return await box.transport.handle_async_request(request)

    async def run() -> tuple[int, int]:
        options = box.options("twilio") | {"transport": Broken(), "max_concurrency": 2}
        with pytest.raises(RuntimeError):
            await ra.adownload_media(df, tmp_path, **options)
        left = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        sent = len(asked)
        await asyncio.sleep(0.5)
        return len(left), len(asked) - sent

    assert asyncio.run(run()) == (0, 0)


def test_partial_file_is_resumed_and_complete_files_skipped(box: Sandbox, tmp_path: Path) -> None:
    df = ra.load_twilio_recordings(status="completed", **box.options("twilio")).head(2)
    first, second = df["recording_id"].to_list()
    container = df["container"][0]
    full = media_bytes(f"twilio/{first}.{container}", box["twilio"].tracks_by_sid[first].media)
    # This sandbox's metadata states made-up sizes; a file is complete when it has the size its
    # row states, so the rows state the sizes served.
    tracks = box["twilio"].tracks_by_sid
    served = [
        len(media_bytes(f"twilio/{sid}.{kind}", tracks[sid].media))
        for sid, kind in zip(df["recording_id"], df["container"], strict=True)
    ]
    df = df.with_columns(size_bytes=pl.Series(served, dtype=pl.Int64))
    target = tmp_path / "twilio" / f"{first}.{container}"
    target.parent.mkdir(parents=True)
    target.with_name(target.name + ".part").write_bytes(full[:1000])
    box.app.reset_counts()
    result = ra.download_media(df, tmp_path, **box.options("twilio"))
    by_id = {r["recording_id"]: r for r in result.iter_rows(named=True)}
    assert by_id[first]["status"] == "resumed" and by_id[second]["status"] == "downloaded"
    assert target.read_bytes() == full
    assert by_id[first]["sha256"] == hashlib.sha256(full).hexdigest()
    assert sorted(status for _, status, _ in storage_log(box)) == [200, 206]
    assert not target.with_name(target.name + ".part").exists()

    box.app.reset_counts()
    again = ra.download_media(df, tmp_path, **box.options("twilio"))
    assert again["status"].to_list() == ["skipped", "skipped"]
    assert again["sha256"].to_list() == result["sha256"].to_list()
    assert box.requests == 0


def test_zoom_bearer_to_zoom_only_and_access_tokens_stripped(box: Sandbox, tmp_path: Path) -> None:
    df = ra.load_zoom_recordings(
        since=box.config.start, until=box.config.end, **box.options("zoom"), **FAST
    )
    assert not df["media_url"].str.contains("access_token=eyJ").any()
    files = df.filter(pl.col("status") == "completed").head(6)
    box.app.reset_counts()
    result = ra.download_media(files, tmp_path, **box.options("zoom"))
    assert result["status"].to_list() == ["downloaded"] * 6
    assert [status for _, status, _ in storage_log(box)] == [200] * 6
    assert all(status == 302 for p, status, q in box.app.log if p == "zoom")
    assert len([p for p, _, _ in box.app.log if p == "zoom"]) == 6  # one request a file


def test_a_zoom_link_still_holding_its_access_token_is_asked_without_it(tmp_path: Path) -> None:
    # A frame from elsewhere (the user's own, or one a loader did not redact) may hold Zoom's
    # download_url with ?access_token=: it went out beside the Bearer header, a second
    # credential in the request line, logged by any proxy on the way.
    asked: list[httpx.Request] = []

    def mp4(request: httpx.Request) -> httpx.Response:
        asked.append(request)
        return httpx.Response(200, headers={"Content-Type": "video/mp4"}, content=b"\0" * 100)

    df = pl.DataFrame(
        {
            "provider": ["zoom"],
            "recording_id": ["zf1"],
            "media_url": ["https://zoom.us/rec/download/zf1?access_token=eyJold.token.value"],
            "container": ["mp4"],
            "status": ["completed"],
        }
    )
    credentials = {"zoom": ra.ZoomCredentials(api_key="zoom-key", api_secret="zoom-secret")}
    transport = httpx.MockTransport(mp4)
    result = ra.download_media(df, tmp_path, credentials=credentials, transport=transport)
    assert result["status"].to_list() == ["downloaded"], result["error"].to_list()
    (request,) = asked
    assert str(request.url) == "https://zoom.us/rec/download/zf1"
    assert request.headers["Authorization"].startswith("Bearer eyJ")


def test_public_media_of_plivo_and_signalwire(box: Sandbox, tmp_path: Path) -> None:
    plivo = ra.load_plivo_recordings(
        since=box.config.start, until=box.config.end, **box.options("plivo"), **FAST
    ).head(3)
    signalwire = (
        ra.load_signalwire_recordings(
            since=box.config.start, until=box.config.end, **box.options("signalwire")
        )
        .filter(pl.col("status") == "completed")
        .head(3)
    )
    result = ra.download_media(
        pl.concat([plivo, signalwire]), tmp_path, transport=box.transport, credentials={}
    )
    assert result["status"].to_list() == ["downloaded"] * 6
    heads = [Path(p).read_bytes()[:4] for p in result["path"]]
    assert all(h in (b"RIFF", b"ID3\x03", b"ID3\x04") for h in heads)


@pytest.mark.usefixtures("no_env_credentials")
def test_unavailable_and_uncredentialed_rows_are_reported_not_dropped(
    box: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    df = ra.load_twilio_recordings(**box.options("twilio"))
    sample = pl.concat(
        [df.filter(pl.col("status") == s).head(1) for s in ("completed", "deleted", "failed")]
        + [df.head(1).with_columns(media_url=pl.lit(None, pl.String))]
    )
    result = ra.download_media(sample, tmp_path, transport=box.transport)
    assert result.height == 4
    assert result["status"].to_list() == ["failed", "unavailable", "unavailable", "unavailable"]
    assert "TWILIO_ACCOUNT_SID" in result["error"][0]


def test_bad_concurrency_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ra.ConfigError, match="max_concurrency"):
        ra.download_media(ra.empty_frame(), tmp_path, max_concurrency=0)
    assert ra.download_media(ra.empty_frame(), tmp_path).height == 0


def test_archive_twilio_with_media(box: Sandbox, tmp_path: Path) -> None:
    out = tmp_path / "archive"
    manifest = ra.archive_twilio(out, media=True, **box.options("twilio"))
    tracks = len(box["twilio"].tracks.records)
    compositions = len(box["twilio"].compositions.records)
    assert (
        manifest["tracks"]["recordings"] == tracks
        and manifest["compositions"]["recordings"] == compositions
    )
    assert json.loads((out / "manifest.json").read_text()) == manifest
    for name, entry in manifest["files"].items():
        data = (out / name).read_bytes()
        assert entry["sha256"] == hashlib.sha256(data).hexdigest() and entry["bytes"] == len(data)
    unified = pl.read_parquet(out / "recordings.parquet")
    assert unified.schema == ra.SCHEMA and unified.height == tracks + compositions
    csv = pl.read_csv(out / "recordings.csv")
    assert csv.height == unified.height and "duration_s" in csv.columns
    raw = pl.read_parquet(out / "tracks_raw.parquet")
    assert {"sid", "offset", "extra"} <= set(raw.columns)
    completed = unified.filter(pl.col("status") == "completed").height
    assert manifest["media"]["files"]["downloaded"] == completed
    secret = box["twilio"].credentials["auth_token"].encode()
    assert all(secret not in p.read_bytes() for p in out.rglob("*") if p.is_file())


def test_archive_command_on_sandbox_data(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "a"
    assert (
        main(["archive", "twilio", "--out", str(out), "--sandbox", "--size", "120", "--quiet"]) == 0
    )
    text = capsys.readouterr().out
    assert "tracks: 120 recordings" in text and "manifest" in text
    assert (out / "manifest.json").exists() and not (out / "media").exists()


def test_a_still_processing_recording_is_unavailable_not_failed(tmp_path: Path) -> None:
    """Finding 7 of issue 15: notebook 06 reported a processing composition's 404 as failed."""
    box = Sandbox(seed=11, size=1500)  # one with compositions still being made
    df = ra.load_twilio_compositions(**box.options("twilio"))
    sample = df.filter(pl.col("status").is_in(["processing", "enqueued"]))
    assert sample.height > 0  # the sandbox has compositions still being made
    result = ra.download_media(
        sample, tmp_path, credentials=box.credentials("twilio"), transport=box.transport
    )
    assert set(result["status"]) == {"unavailable"}, result
    assert all(e.startswith("recording status is ") for e in result["error"])


def test_archive_reads_what_to_archive_from_the_table(
    box: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The mechanism is provider-neutral: one raw file and one totals entry per loader."""
    from recanalytics.archive import archive
    from recanalytics.providers.registry import ARCHIVABLE, loaders_of

    # Plivo splits 2015 on into 30-day windows: unpaced, the sandbox answers them at once.
    fast = box.options("plivo") | {"rate_limit": 10_000.0}
    manifest = archive("plivo", tmp_path / "plivo", **fast)
    (loader,) = loaders_of("plivo")
    assert manifest["provider"] == "plivo" and loader.part == "calls_conferences"
    raw = pl.read_parquet(tmp_path / "plivo" / "calls_conferences_raw.parquet")
    expected = ra.load_plivo_recordings(since="2015-01-01", **fast).height
    assert manifest[loader.part]["recordings"] == raw.height == expected > 0
    assert manifest["period"]["since"].startswith("2015-01-01")  # no Archival: the default
    # No until: read up to when the archive was made (it was null, which said nothing).
    assert manifest["period"]["until"] == manifest["created"]
    with pytest.raises(ra.ConfigError, match="provider"):
        archive("nope", tmp_path / "x")
    # The command offers the providers whose spec says they retire: Twilio alone.
    assert list(ARCHIVABLE) == ["twilio"]
    with pytest.raises(SystemExit):
        main(["archive", "plivo", "--out", str(tmp_path / "y"), "--sandbox"])
    assert "invalid choice: 'plivo'" in capsys.readouterr().err


class _Storage(httpx.AsyncBaseTransport):
    """The sandbox, with every request's headers kept, and the storage host's first answer
    replaced by ``first`` (a function of the real answer)."""

    def __init__(self, box: Sandbox, first: Any) -> None:
        self.inner = box.transport
        self.first = first
        self.headers: list[httpx.Headers] = []
        self.storage_headers: list[httpx.Headers] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.headers.append(request.headers)
        response = await self.inner.handle_async_request(request)
        await response.aread()
        if not request.url.path.startswith("/_storage/"):
            return response
        self.storage_headers.append(request.headers)
        if len(self.storage_headers) > 1:
            return response
        return self.first(request, response)


def _without_length(real: httpx.Response) -> list[tuple[str, str]]:
    """The real answer's headers for a body of another length (httpx sets its own)."""
    return [(k, v) for k, v in real.headers.multi_items() if k.lower() != "content-length"]


def _gzip_cut_then_reset(request: httpx.Request, real: httpx.Response) -> httpx.Response:
    """A server that compresses although asked not to, and whose connection breaks halfway."""

    class Broken(httpx.AsyncByteStream):
        async def __aiter__(self) -> AsyncIterator[bytes]:
            packed = gzip.compress(real.content)
            yield packed[: len(packed) // 2]
            raise httpx.ReadError("connection reset", request=request)

    headers = _without_length(real)
    return httpx.Response(
        200, headers=[*headers, ("Content-Encoding", "gzip")], stream=Broken(), request=request
    )


def _not_gzip(request: httpx.Request, real: httpx.Response) -> httpx.Response:
    """``Content-Encoding: gzip`` on bytes that are not gzip (a broken proxy)."""
    headers = _without_length(real)
    return httpx.Response(
        200, headers=[*headers, ("Content-Encoding", "gzip")], content=real.content
    )


@pytest.mark.parametrize("first", [_gzip_cut_then_reset, _not_gzip])
def test_media_comes_as_stored_and_a_broken_compressed_answer_starts_again(
    box: Sandbox, tmp_path: Path, first: Any
) -> None:
    """Media is asked for without compression, so a resume's Range counts the file's own
    bytes. A server that compresses anyway and breaks off leaves no part file to resume from
    (its bytes were decoded ones), and a body that is not the gzip it claims is retried, not
    reported failed."""
    df = ra.load_twilio_recordings(status="completed", **box.options("twilio")).head(1)
    sid, container = df["recording_id"][0], df["container"][0]
    full = media_bytes(f"twilio/{sid}.{container}", box["twilio"].tracks_by_sid[sid].media)
    transport = _Storage(box, first)
    options = box.options("twilio") | {"transport": transport}
    retry = ra.RetryPolicy(backoff_base=0.0, backoff_cap=0.0)
    result = ra.download_media(df, tmp_path, retry=retry, **options)
    row = result.row(0, named=True)
    assert row["status"] == "downloaded", row["error"]
    assert Path(row["path"]).read_bytes() == full
    assert row["sha256"] == hashlib.sha256(full).hexdigest()
    assert all(h.get("accept-encoding") == "identity" for h in transport.headers)
    assert len(transport.storage_headers) == 2
    assert "range" not in transport.storage_headers[1]  # started again, not resumed


def test_a_resume_answered_compressed_starts_again(box: Sandbox, tmp_path: Path) -> None:
    """A part file is resumed with a Range; a server that answers it compressed hands over
    decoded bytes whose count is no offset into the file: the download starts again."""
    df = ra.load_twilio_recordings(status="completed", **box.options("twilio")).head(1)
    sid, container = df["recording_id"][0], df["container"][0]
    full = media_bytes(f"twilio/{sid}.{container}", box["twilio"].tracks_by_sid[sid].media)
    target = tmp_path / "twilio" / f"{sid}.{container}"
    target.parent.mkdir(parents=True)
    target.with_name(target.name + ".part").write_bytes(full[:1000])

    def compressed(request: httpx.Request, real: httpx.Response) -> httpx.Response:
        assert real.status_code == 206
        headers = _without_length(real)
        return httpx.Response(
            206,
            headers=[*headers, ("Content-Encoding", "gzip")],
            content=gzip.compress(real.content),
        )

    transport = _Storage(box, compressed)
    retry = ra.RetryPolicy(backoff_base=0.0, backoff_cap=0.0)
    result = ra.download_media(
        df, tmp_path, retry=retry, **box.options("twilio") | {"transport": transport}
    )
    row = result.row(0, named=True)
    assert row["status"] == "downloaded", row["error"]
    assert target.read_bytes() == full
    assert transport.storage_headers[0]["range"] == "bytes=1000-"
    assert "range" not in transport.storage_headers[1]


def _download_one(
    box: Sandbox, df: pl.DataFrame, tmp_path: Path, transport: httpx.AsyncBaseTransport
) -> dict[str, Any]:
    """``df``'s one Twilio row downloaded through ``transport``, retried without waiting."""
    retry = ra.RetryPolicy(backoff_base=0.0, backoff_cap=0.0)
    options = box.options("twilio") | {"transport": transport}
    return ra.download_media(df, tmp_path, retry=retry, **options).row(0, named=True)


def _with_part(box: Sandbox, tmp_path: Path, part: bytes | None) -> tuple[pl.DataFrame, bytes]:
    """One Twilio track to download, its real bytes, and ``part`` as its part file."""
    df = ra.load_twilio_recordings(status="completed", **box.options("twilio")).head(1)
    sid, container = df["recording_id"][0], df["container"][0]
    full = media_bytes(f"twilio/{sid}.{container}", box["twilio"].tracks_by_sid[sid].media)
    if part is not None:
        target = tmp_path / "twilio" / f"{sid}.{container}"
        target.parent.mkdir(parents=True)
        target.with_name(target.name + ".part").write_bytes(part)
    return df, full


def _answer(status: int, content_range: str | None, body: bytes = b"") -> Any:
    def first(request: httpx.Request, real: httpx.Response) -> httpx.Response:
        headers = [(k, v) for k, v in _without_length(real) if k.lower() != "content-range"]
        if content_range is not None:
            headers.append(("Content-Range", content_range))
        return httpx.Response(status, headers=headers, content=body, request=request)

    return first


def _assert_resumed_at(
    box: Sandbox, df: pl.DataFrame, tmp_path: Path, first: Any, full: bytes, at: int
) -> None:
    """Storage's first answer ``first`` stops at byte ``at``: the download resumes there and
    ends with the whole file, never reported downloaded as it was."""
    transport = _Storage(box, first)
    row = _download_one(box, df, tmp_path, transport)
    assert row["status"] == "resumed", row["error"]
    assert Path(row["path"]).read_bytes() == full
    assert transport.storage_headers[1]["range"] == f"bytes={at}-"


@pytest.mark.parametrize(
    ("part", "first"),
    [
        # The part holds 1,000 bytes; the file is longer: "nothing left" is not true of it.
        ("head", lambda n: _answer(416, f"bytes */{n}")),
        ("head", lambda n: _answer(416, None)),
        # A stale part longer than the file.
        ("long", lambda n: _answer(416, f"bytes */{n}")),
        # Bytes from the file's start, appended to the part, would corrupt it.
        ("head", lambda n: _answer(206, f"bytes 0-9/{n}", b"0123456789")),
        ("head", lambda n: _answer(206, None, b"0123456789")),
    ],
    ids=["416-longer-file", "416-no-size", "416-stale-part", "206-other-offset", "206-no-range"],
)
def test_a_resume_is_trusted_only_when_the_answer_fits_the_part(
    box: Sandbox, tmp_path: Path, part: str, first: Any
) -> None:
    """A 416 or 206 was taken at its word: a truncated or corrupt file was reported complete.
    Now an answer that does not fit the part starts the download again."""
    df, full = _with_part(box, tmp_path, None)
    _with_part(box, tmp_path, full[:1000] if part == "head" else full + b"stale")
    transport = _Storage(box, first(len(full)))
    row = _download_one(box, df, tmp_path, transport)
    assert row["status"] == "downloaded", row["error"]
    assert Path(row["path"]).read_bytes() == full
    assert "range" not in transport.storage_headers[1]  # started again, not resumed


def test_a_part_that_is_the_whole_file_is_resumed_by_a_416_stating_its_size(
    box: Sandbox, tmp_path: Path
) -> None:
    df, full = _with_part(box, tmp_path, None)
    df = df.with_columns(size_bytes=pl.lit(len(full)))  # the sandbox's media are stand-ins
    _with_part(box, tmp_path, full)
    transport = _Storage(box, _answer(416, f"bytes */{len(full)}"))
    result = ra.download_media(df, tmp_path, **box.options("twilio") | {"transport": transport})
    row = result.row(0, named=True)
    assert row["status"] == "resumed" and Path(row["path"]).read_bytes() == full


def test_a_416_calling_a_part_whole_is_not_believed_over_the_rows_size(
    box: Sandbox, tmp_path: Path
) -> None:
    # A 1,000-byte part and '416 bytes */1000' made a file of 1,000 of 14,246 bytes 'resumed'.
    df, full = _with_part(box, tmp_path, None)
    df = df.with_columns(size_bytes=pl.lit(len(full)))
    _with_part(box, tmp_path, full[:1000])
    transport = _Storage(box, _answer(416, "bytes */1000"))
    row = _download_one(box, df, tmp_path, transport)
    assert row["status"] == "downloaded" and Path(row["path"]).read_bytes() == full


def test_a_body_shorter_than_announced_is_resumed_not_reported_downloaded(
    box: Sandbox, tmp_path: Path
) -> None:
    """Only a socket's own checks caught a body cut short under its Content-Length; through
    any other transport the half file was 'downloaded'."""
    df, full = _with_part(box, tmp_path, None)

    def cut(request: httpx.Request, real: httpx.Response) -> httpx.Response:
        headers = [*_without_length(real), ("Content-Length", str(len(full)))]
        half = httpx.ByteStream(full[: len(full) // 2])
        return httpx.Response(200, headers=headers, stream=half, request=request)

    _assert_resumed_at(box, df, tmp_path, cut, full, len(full) // 2)


def test_a_body_without_a_length_shorter_than_the_row_states_is_resumed(
    box: Sandbox, tmp_path: Path
) -> None:
    """A body sent without Content-Length that ends early looked whole: 'downloaded', half a
    file, which the next run (whole only at the row's size_bytes) fetched again."""
    df, full = _with_part(box, tmp_path, None)
    df = df.with_columns(size_bytes=pl.lit(len(full)))  # the sandbox's media are stand-ins

    class Unsized(httpx.AsyncByteStream):
        def __init__(self, data: bytes) -> None:
            self.data = data

        async def __aiter__(self) -> AsyncIterator[bytes]:
            yield self.data

    def cut(request: httpx.Request, real: httpx.Response) -> httpx.Response:
        half = Unsized(full[: len(full) // 2])
        return httpx.Response(200, headers=_without_length(real), stream=half, request=request)

    _assert_resumed_at(box, df, tmp_path, cut, full, len(full) // 2)


@pytest.mark.parametrize("resume", [False, True], ids=["plain-get", "resume"])
def test_a_partial_answer_that_stops_before_the_files_end_is_resumed(
    box: Sandbox, tmp_path: Path, resume: bool
) -> None:
    """A 206 to a plain GET (bytes 0-7122/14246) was taken for the whole file, and a resume
    answered with only part of the rest was 'resumed': half files either way."""
    df, full = _with_part(box, tmp_path, None)
    half, quarter = len(full) // 2, len(full) // 4
    if resume:
        _with_part(box, tmp_path, full[:quarter])
    start = quarter if resume else 0

    def short(request: httpx.Request, real: httpx.Response) -> httpx.Response:
        headers = [(k, v) for k, v in _without_length(real) if k.lower() != "content-range"]
        headers.append(("Content-Range", f"bytes {start}-{half - 1}/{len(full)}"))
        return httpx.Response(206, headers=headers, content=full[start:half], request=request)

    _assert_resumed_at(box, df, tmp_path, short, full, half)


def test_a_file_changed_since_its_part_is_fetched_whole_not_spliced(
    box: Sandbox, tmp_path: Path
) -> None:
    """A resume asked 'Range' without 'If-Range': a file changed since (same size) was spliced
    from two versions, and as its size matched the row's, every later run skipped it."""
    df, full = _with_part(box, tmp_path, None)
    df = df.with_columns(size_bytes=pl.lit(len(full)))

    def cut(request: httpx.Request, real: httpx.Response) -> httpx.Response:
        headers = [*_without_length(real), ("Content-Length", str(len(full)))]
        half = httpx.ByteStream(full[: len(full) // 2])
        return httpx.Response(200, headers=headers, stream=half, request=request)

    class AlwaysCut(_Storage):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            self.storage_headers.clear()  # every storage answer is the first: always cut
            return await super().handle_async_request(request)

    once = {"retry": ra.RetryPolicy(max_retries=0)}
    cut_short = box.options("twilio") | {"transport": AlwaysCut(box, cut)} | once
    assert ra.download_media(df, tmp_path, **cut_short)["status"][0] == "failed"
    (part,) = (tmp_path / "twilio").glob("*.part")
    validator = part.parent / f".{part.name}-etag"
    served = _download_headers(box, df)["etag"]
    assert validator.read_text() == served  # kept beside the part for the resume
    validator.write_text('"another-version"')  # as if the file had changed since
    transport = _Storage(box, lambda request, real: real)
    row = _download_one(box, df, tmp_path, transport)
    assert transport.storage_headers[0]["if-range"] == '"another-version"'
    assert row["status"] == "downloaded" and Path(row["path"]).read_bytes() == full
    assert not validator.exists() and not part.exists()


def _download_headers(box: Sandbox, df: pl.DataFrame) -> httpx.Headers:
    """The headers the sandbox's storage answers the row's media with."""
    seen: list[httpx.Headers] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        answer = await box.transport.handle_async_request(request)
        if request.url.path.startswith("/_storage/"):
            seen.append(answer.headers)
        return answer

    options = box.options("twilio") | {"transport": httpx.MockTransport(handler)}
    with tempfile.TemporaryDirectory() as folder:
        ra.download_media(df, folder, **options)
    return seen[0]


@pytest.mark.parametrize("second", ["envelope", "redirect"])
def test_the_envelope_asked_again_is_never_saved_as_the_recording(
    box: Sandbox, tmp_path: Path, second: str
) -> None:
    """/Media answered something odd first; asked again with credentials it answered its usual
    JSON envelope, which was written out as the .mka (172 bytes, 'downloaded'). And a 302 on
    that second request raised out of download_media, failing the whole batch."""
    df, full = _with_part(box, tmp_path, None)
    df = df.with_columns(size_bytes=pl.lit(len(full)))
    odd = httpx.Response(200, headers={"Content-Type": "application/octet-stream"}, content=b"?")
    answers: list[str] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        real = await box.transport.handle_async_request(request)
        if request.url.path.endswith("/Media"):
            answers.append(request.url.path)
            if len(answers) == 1:
                return odd
            if second == "redirect" and len(answers) == 2:
                await real.aread()
                where = real.json()["redirect_to"]
                return httpx.Response(302, headers={"Location": where}, request=request)
        return real

    options = box.options("twilio") | {"transport": httpx.MockTransport(handler)}
    row = ra.download_media(df, tmp_path, **options).row(0, named=True)
    assert row["status"] == "downloaded", row["error"]
    assert Path(row["path"]).read_bytes() == full


def _zoom_file(box: Sandbox, container: str) -> pl.DataFrame:
    """One completed Zoom file of ``container`` from the sandbox, as a one-row frame."""
    df = ra.load_zoom_recordings(
        since=box.config.start, until=box.config.end, **box.options("zoom"), **FAST
    )
    return df.filter((pl.col("status") == "completed") & (pl.col("container") == container)).head(1)


class _FirstAnswer(httpx.AsyncBaseTransport):
    """The sandbox, with the first answer to a path ending ``suffix`` replaced by ``answer``
    (every answer to it, with ``always``)."""

    def __init__(self, box: Sandbox, suffix: str, answer: Any, *, always: bool = False) -> None:
        self.inner, self.suffix, self.answer = box.transport, suffix, answer
        self.always, self.used = always, 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith(self.suffix) and (self.always or not self.used):
            self.used += 1
            return self.answer(request)
        return await self.inner.handle_async_request(request)


def test_a_cut_media_answer_is_asked_again(box: Sandbox, tmp_path: Path) -> None:
    """Twilio's /Media answer cut inside its JSON was a final 'without redirect_to'."""
    df, full = _with_part(box, tmp_path, None)
    cut = b'{"redirect_to": "https://'
    transport = _FirstAnswer(
        box,
        "/Media",
        lambda r: httpx.Response(
            200, headers={"Content-Type": "application/json"}, content=cut, request=r
        ),
    )
    row = _download_one(box, df, tmp_path, transport)
    assert row["status"] == "downloaded", row["error"]
    assert Path(row["path"]).read_bytes() == full


def test_a_zoom_file_served_directly_as_json_is_the_file(box: Sandbox, tmp_path: Path) -> None:
    """Only Twilio's media answers are a JSON envelope; a Zoom timeline served as JSON by its
    download URL is the file itself (it failed as 'without redirect_to')."""
    row = _zoom_file(box, "json")
    timeline = json.dumps({"timeline": [{"ts": "00:00:01.000", "users": []}]}).encode()
    path = httpx.URL(row["media_url"][0]).path
    transport = _FirstAnswer(
        box,
        path,
        lambda r: httpx.Response(
            200, headers={"Content-Type": "application/json"}, content=timeline, request=r
        ),
        always=True,
    )
    result = ra.download_media(row, tmp_path, **box.options("zoom") | {"transport": transport})
    got = result.row(0, named=True)
    assert got["status"] == "downloaded", got["error"]
    assert Path(got["path"]).read_bytes() == timeline
    # One request: a first look at the answer, then the file again, cost two per file.
    assert transport.used == 1


def test_an_api_error_answered_200_as_json_for_a_video_is_no_file(
    box: Sandbox, tmp_path: Path
) -> None:
    # Zoom's download URL answered {"status": false, "errorMessage": ...} with 200 (echoing the
    # JWT): it was saved as the recording's .mp4 and reported downloaded.
    row = _zoom_file(box, "mp4")
    error = json.dumps({"status": False, "errorMessage": "bad token"}).encode()
    transport = _FirstAnswer(
        box,
        httpx.URL(row["media_url"][0]).path,
        lambda r: httpx.Response(
            200, headers={"Content-Type": "application/json"}, content=error, request=r
        ),
        always=True,
    )
    result = ra.download_media(row, tmp_path, **box.options("zoom") | {"transport": transport})
    got = result.row(0, named=True)
    assert got["status"] == "failed" and "JSON" in got["error"], got
    assert not list((tmp_path / "zoom").glob("*.mp4"))


def test_an_html_page_answered_for_media_is_a_failure_not_a_file(
    box: Sandbox, tmp_path: Path
) -> None:
    # A storage host's login or error page answered 200 was saved as the recording.
    df, _ = _with_part(box, tmp_path, None)

    def sign_in(request: httpx.Request, real: httpx.Response) -> httpx.Response:
        page = b"<!doctype html><title>Sign in</title>"
        headers = {"Content-Type": "text/html; charset=utf-8"}
        return httpx.Response(200, headers=headers, content=page, request=request)

    transport = _Storage(box, sign_in)
    row = _download_one(box, df, tmp_path, transport)
    assert row["status"] == "failed" and "HTML page" in row["error"]
    assert not [p for p in (tmp_path / "twilio").iterdir() if not p.name.endswith(".part")]


def test_a_folder_or_a_link_where_a_media_file_goes_is_one_failed_row(tmp_path: Path) -> None:
    box = Sandbox(seed=9, size=60, small_media=True, providers=["twilio"])
    df = ra.load_twilio_recordings(status="completed", **box.options("twilio")).head(4)
    dest = tmp_path / "media"
    paths = [dest / "twilio" / f"{i}.{c}" for i, c in df.select("recording_id", "container").rows()]
    outside = tmp_path / "outside"
    outside.write_bytes(b"not the recording")
    paths[0].mkdir(parents=True)
    paths[1].symlink_to(outside)
    paths[2].with_name(paths[2].name + ".part").symlink_to(outside)

    result = ra.download_media(df, dest, **box.options("twilio"))

    assert result["status"].to_list() == ["failed", "failed", "failed", "downloaded"]
    errors = result["error"].to_list()
    assert "is a folder" in errors[0] and "symbolic link" in errors[1]
    assert "symbolic link" in errors[2]
    assert result["sha256"][1] is None  # the link's target is never hashed as the recording
    assert outside.read_bytes() == b"not the recording" and paths[1].is_symlink()


def test_a_file_cut_short_under_its_final_name_is_fetched_again(tmp_path: Path) -> None:
    box = Sandbox(seed=9, size=60, small_media=True, providers=["twilio"])
    df = ra.load_twilio_recordings(status="completed", **box.options("twilio"))
    first = ra.download_media(df.head(12), tmp_path, **box.options("twilio"))
    whole = first.join(df.select("recording_id", "size_bytes"), on="recording_id").filter(
        pl.col("bytes") == pl.col("size_bytes")
    )  # files served as their rows state (a planted fault serves some cut short)
    rows = df.filter(pl.col("recording_id").is_in(whole["recording_id"].implode())).head(3)
    cut = Path(whole["path"][0])
    data = cut.read_bytes()
    cut.write_bytes(data[: len(data) // 3])
    box.app.reset_counts()

    again = ra.download_media(rows, tmp_path, **box.options("twilio"))

    assert again["status"].to_list() == ["downloaded", "skipped", "skipped"]
    assert cut.read_bytes() == data and again["sha256"][0] == hashlib.sha256(data).hexdigest()
    assert [status for _, status, _ in storage_log(box)] == [200]  # only the cut file


def test_a_resume_answered_for_another_version_starts_again(box: Sandbox, tmp_path: Path) -> None:
    """A server that ignores If-Range answers the rest of the file as it is now: with another
    ETag than the part's, that rest would be spliced onto the old part."""
    df, full = _with_part(box, tmp_path, None)
    df = df.with_columns(size_bytes=pl.lit(len(full)))
    _with_part(box, tmp_path, bytes(b ^ 0x5A for b in full[:1000]))  # another version's start
    (part,) = (tmp_path / "twilio").glob("*.part")
    (part.parent / f".{part.name}-etag").write_text('"v1"')

    def ignoring(request: httpx.Request, real: httpx.Response) -> httpx.Response:
        start = 1000
        headers = [
            (k, v) for k, v in _without_length(real) if k.lower() not in ("content-range", "etag")
        ]
        headers += [
            ("ETag", '"v2"'),
            ("Content-Range", f"bytes {start}-{len(full) - 1}/{len(full)}"),
        ]
        return httpx.Response(206, headers=headers, content=full[start:], request=request)

    row = _download_one(box, df, tmp_path, _Storage(box, ignoring))
    assert row["status"] == "downloaded" and Path(row["path"]).read_bytes() == full


def test_no_credential_reaches_storage_from_a_location_holding_user_info(
    box: Sandbox, tmp_path: Path
) -> None:
    # A provider redirect to https://user:secret@storage/... made httpx send the user info as
    # Basic credentials to the storage host.
    row = _zoom_file(box, "mp4")
    seen: list[httpx.Request] = []

    class Storage(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            if request.url.host == "storage.example":
                seen.append(request)
                if request.url.path == "/hop":
                    location = "https://carol:s3cret-too@storage.example/file.mp4"
                    return httpx.Response(302, headers={"Location": location}, request=request)
                return httpx.Response(200, content=b"\0" * 16, request=request)
            location = "https://alice:s3cret-pw@storage.example/hop"
            return httpx.Response(302, headers={"Location": location}, request=request)

    result = ra.download_media(row, tmp_path, **box.options("zoom") | {"transport": Storage()})
    assert result["status"][0] == "downloaded", result["error"][0]
    assert [r.url.path for r in seen] == ["/hop", "/file.mp4"]
    assert all("authorization" not in r.headers for r in seen), [dict(r.headers) for r in seen]
    assert all(not r.url.userinfo for r in seen)


def test_an_etag_echoing_a_credential_is_not_kept_beside_the_part(
    box: Sandbox, tmp_path: Path
) -> None:
    row = _zoom_file(box, "mp4")
    secrets = box.credentials("zoom").secrets()
    etag = f'"{secrets[-1]}"'

    class Cut(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            return httpx.Response(
                200,
                headers={"ETag": etag, "Content-Length": "64"},
                content=b"\0" * 16,  # cut short: the part and its ETag file stay
                request=request,
            )

    options = box.options("zoom") | {"transport": Cut(), "retry": ra.RetryPolicy(max_retries=0)}
    result = ra.download_media(row, tmp_path, **options)
    assert result["status"][0] == "failed"
    kept = [p.read_text() for p in (tmp_path / "zoom").glob(".*part-etag")]
    assert all(secrets[-1] not in text for text in kept), kept


@pytest.mark.parametrize("provider", ["plivo", "signalwire"])
def test_an_empty_answer_is_no_recording(box: Sandbox, tmp_path: Path, provider: str) -> None:
    # Rows of providers that state no size took an empty 200 as the file: 'downloaded', then
    # 'skipped' on every later run.
    load = getattr(ra, f"load_{provider}_recordings")
    df = load(since=box.config.start, **box.options(provider), **FAST).head(1)

    class Empty(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            return httpx.Response(200, content=b"", request=request)

    options = box.options(provider) | {"transport": Empty(), "retry": ra.RetryPolicy(max_retries=1)}
    result = ra.download_media(df, tmp_path, **options)
    assert result["status"][0] == "failed" and "empty" in result["error"][0]
    assert not [p for p in tmp_path.rglob("*") if p.is_file() and not p.name.startswith(".")]


SANDBOX_MEDIA = Path(ra.__file__).parent / "sandbox" / "media"
WAV = (SANDBOX_MEDIA / "mono.wav").read_bytes()
S3_ERROR = (
    b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code>'
    b"<Message>Request has expired</Message></Error>"
)


def _public(*rows: tuple[str, str], container: str = "wav") -> pl.DataFrame:
    """Plivo rows (public media: no credentials) of ``(recording_id, media_url)``."""
    return pl.DataFrame(
        {
            "provider": ["plivo"] * len(rows),
            "recording_id": [rid for rid, _ in rows],
            "media_url": [url for _, url in rows],
            "container": [container] * len(rows),
            "status": ["completed"] * len(rows),
        }
    )


class _Answers(httpx.AsyncBaseTransport):
    """Answers by URL path (``answer(request)``), every request kept."""

    def __init__(self, answers: dict[str, Any]) -> None:
        self.answers = answers
        self.asked: list[httpx.URL] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.asked.append(request.url)
        if request.url.scheme not in ("http", "https"):  # as httpx's own transport
            raise httpx.UnsupportedProtocol("unsupported protocol", request=request)
        return self.answers[request.url.path](request)


def _wav(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, headers={"Content-Type": "audio/wav"}, content=WAV)


@pytest.mark.parametrize(
    "kind", ["application/xml", "text/xml; charset=utf-8", "text/plain", "application/json"]
)
def test_an_error_answered_200_as_text_is_no_recording(tmp_path: Path, kind: str) -> None:
    # S3's <Error> XML answered 200 as application/xml (or a text page) was saved as the .wav
    # and reported downloaded; only text/html was refused, JSON only from a provider's own host.
    def expired(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"Content-Type": kind}, content=S3_ERROR)

    transport = _Answers({"/r/P1.wav": expired})
    df = _public(("P1", "https://media.example/r/P1.wav"))
    row = ra.download_media(df, tmp_path, transport=transport).row(0, named=True)
    assert row["status"] == "failed" and kind.split(";")[0] in row["error"], row
    assert not [p for p in tmp_path.rglob("*") if p.is_file() and p.suffix == ".wav"]


def _cut(request: httpx.Request) -> httpx.Response:
    headers = {"Content-Type": "audio/wav", "Content-Length": str(len(WAV))}
    return httpx.Response(200, headers=headers, stream=httpx.ByteStream(WAV[:1000]))


def _elsewhere(request: httpx.Request) -> httpx.Response:
    headers = {"Content-Type": "audio/wav", "Content-Range": f"bytes 5-9/{len(WAV)}"}
    return httpx.Response(206, headers=headers, content=WAV[5:10])


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        (_cut, f"1000 of the {len(WAV)} bytes announced arrived"),
        (lambda r: httpx.Response(200, headers={"Content-Type": "audio/wav"}), "an empty body "),
        (_elsewhere, "a partial answer from another offset"),
    ],
    ids=["cut-short", "empty", "other-offset"],
)
def test_a_download_failing_every_try_says_why_without_a_private_class_name(
    tmp_path: Path, answer: Any, error: str
) -> None:
    # The error read "_Incomplete: 1000 of the 2000 bytes announced arrived".
    transport = _Answers({"/r/P1.wav": answer})
    df = _public(("P1", "https://media.example/r/P1.wav"))
    result = ra.download_media(df, tmp_path, transport=transport, retry=ra.RetryPolicy(0))
    row = result.row(0, named=True)
    assert row["status"] == "failed" and row["error"].startswith(error), row["error"]


def test_a_text_file_answered_as_text_is_the_file(tmp_path: Path) -> None:
    chat = (SANDBOX_MEDIA / "chat.txt").read_bytes()

    def text(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"Content-Type": "text/plain"}, content=chat)

    df = _public(("C1", "https://media.example/chat"), container="txt")
    row = ra.download_media(df, tmp_path, transport=_Answers({"/chat": text})).row(0, named=True)
    assert row["status"] == "downloaded" and Path(row["path"]).read_bytes() == chat


def test_a_failed_file_listed_twice_is_failed_twice_and_another_url_is_tried(
    tmp_path: Path,
) -> None:
    # The second row of a failed download said 'skipped', as if the file were there; a second
    # row with a working URL for the same recording was never asked.
    transport = _Answers({"/gone": lambda r: httpx.Response(404), "/ok": _wav})
    gone, ok = "https://media.example/gone", "https://media.example/ok"
    df = _public(("D1", gone), ("D1", gone), ("D2", gone), ("D2", ok), ("D2", gone))
    result = ra.download_media(df, tmp_path, transport=transport, retry=ra.RetryPolicy(0))
    assert result["status"].to_list() == ["failed", "failed", "skipped", "downloaded", "skipped"]
    assert result["error"][1] == result["error"][0] and "HTTP 404" in result["error"][0]
    assert result["sha256"][2] == result["sha256"][3] == hashlib.sha256(WAV).hexdigest()
    assert [u.path for u in transport.asked] == ["/gone", "/gone", "/ok"]  # each URL once a file


def test_a_redirect_from_https_to_plain_http_is_refused(box: Sandbox, tmp_path: Path) -> None:
    # Followed silently: the pre-signed URL (and the file) went out unencrypted.
    signed = "http://cdn.example/f.wav?X-Amz-Signature=SIGNED-SECRET"

    def down(request: httpx.Request) -> httpx.Response:
        return httpx.Response(302, headers={"Location": signed})

    transport = _Answers({"/p.wav": down, "/f.wav": _wav})
    df = _public(("P1", "https://media.example/p.wav"))
    row = ra.download_media(df, tmp_path, transport=transport).row(0, named=True)
    assert row["status"] == "failed" and "https to plain http" in row["error"], row
    assert "SIGNED-SECRET" not in row["error"]
    assert [u.path for u in transport.asked] == ["/p.wav"]

    # Zoom's download URL (with its Bearer token, not following redirects) likewise.
    zoom = _public(("Z1", "https://zoom.example/rec/download/Z1"), container="mp4")
    transport = _Answers({"/rec/download/Z1": down, "/f.wav": _wav})
    options = {"credentials": box.credentials("zoom"), "base_url": "https://zoom.example"}
    zoom = zoom.with_columns(provider=pl.lit("zoom"))
    got = ra.download_media(zoom, tmp_path, transport=transport, **options).row(0, named=True)
    assert got["status"] == "failed" and "https to plain http" in got["error"], got
    assert [u.path for u in transport.asked] == ["/rec/download/Z1"]


def test_a_redirect_to_a_file_url_fails_at_once(tmp_path: Path) -> None:
    # httpx's UnsupportedProtocol is a TransportError: it was retried 7 times over ~27 s.
    import time

    def to_file(request: httpx.Request) -> httpx.Response:
        return httpx.Response(302, headers={"Location": "file:///etc/passwd"})

    transport = _Answers({"/p.wav": to_file})
    started = time.monotonic()
    df = _public(("P1", "https://media.example/p.wav"))
    row = ra.download_media(df, tmp_path, transport=transport).row(0, named=True)
    assert row["status"] == "failed" and "file:" in row["error"], row
    assert len(transport.asked) == 1 and time.monotonic() - started < 5


_ONE_DOWNLOAD = """
import sys
import polars as pl
import recanalytics as ra
url, dest = sys.argv[1:3]
df = pl.DataFrame({"provider": ["plivo"], "recording_id": ["c1"], "media_url": [url],
                   "container": ["wav"], "status": ["completed"]})
row = ra.download_media(df, dest, progress=False, timeout=20).row(0, named=True)
print(row["status"], row["error"], flush=True)
"""


def test_two_processes_downloading_one_file_never_share_its_part(tmp_path: Path) -> None:
    # (A Plivo id is a lower-case UUID: "c1" is a file named as its id.)
    # B resumed from A's live .part (O_APPEND) while A wrote it (O_TRUNC) and renamed it: a
    # corrupt file that both reported downloaded, then 'skipped' for good.
    import os
    import subprocess
    import sys
    import threading
    import time
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    data = WAV * 20
    release = threading.Event()

    class Slow(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:  # the first 64 KiB, then the rest once the test says so
            self.send_response(200)
            self.send_header("Content-Type", "audio/wav")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data[:65536])
            self.wfile.flush()
            release.wait(20)
            self.wfile.write(data[65536:])

    server = ThreadingHTTPServer(("127.0.0.1", 0), Slow)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/C1.wav"
    env = os.environ | {"PYTHONPATH": str(Path(ra.__file__).parents[1])}
    command = [sys.executable, "-c", _ONE_DOWNLOAD, url, str(tmp_path)]
    part = tmp_path / "plivo" / "c1.wav.part"
    first = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    try:
        deadline = time.monotonic() + 60
        while not (part.exists() and part.stat().st_size >= 65536):
            assert first.poll() is None and time.monotonic() < deadline, first.communicate()
            time.sleep(0.05)
        second = subprocess.run(command, capture_output=True, text=True, timeout=60, env=env)
        release.set()
        out, err = first.communicate(timeout=60)
    finally:
        release.set()
        if first.poll() is None:
            first.kill()
            first.wait()
        server.shutdown()
        server.server_close()
    assert second.stdout.startswith("failed") and "another process" in second.stdout, second
    assert out.decode().startswith("downloaded"), err.decode()
    assert (tmp_path / "plivo" / "c1.wav").read_bytes() == data
    assert [p.name for p in (tmp_path / "plivo").iterdir()] == ["c1.wav"]  # no lock file left
    again = ra.download_media(_public(("c1", url)), tmp_path, progress=False)
    assert again["status"].to_list() == ["skipped"]
