"""Zoom Video SDK cloud recordings: the real loader against the sandbox, in-process and loopback."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import hashlib
import hmac
import itertools
import json
import re
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import polars as pl
import pytest
from provider_cases import rejected_before_any_request

import recanalytics as ra
from recanalytics.credentials import ZoomCredentials
from recanalytics.errors import ConfigError, LoadWarning, NotFoundError, ProviderError
from recanalytics.providers.zoom import (
    JWT_FRESH,
    JWT_RENEW_WITHIN,
    ZoomJWTAuth,
    aload_zoom_recordings,
    get_zoom_session_recordings,
    load_zoom_recordings,
    make_jwt,
    session_path,
)
from recanalytics.sandbox import IN_PROCESS_URL, Sandbox
from recanalytics.sandbox.zoom import CREDENTIALS, TOKEN_ERROR, ZoomFile, ZoomSession
from recanalytics.windows import add_month

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SINCE, UNTIL = "2025-01-01", "2026-11-01"  # the whole sandbox period
FAST = {"rate_limit": 1000.0}  # the sandbox needs no pacing; keeps the file fast
KEY, SECRET = CREDENTIALS["api_key"], CREDENTIALS["api_secret"]


@pytest.fixture
def zoom_box() -> Sandbox:
    """A private, larger Zoom-only sandbox whose knobs (clock, token_ttl) a test may change."""
    return Sandbox(seed=3, size=3000, providers=["zoom"])


def utc(text: str) -> dt.datetime:
    moment = dt.datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def listed(
    box: Sandbox, since: str = SINCE, until: str = UNTIL, *, trash: str | None = None
) -> list[tuple[ZoomSession, ZoomFile]]:
    """What the list endpoint should yield, computed from the dataset independently."""
    out = []
    for s in box["zoom"].sessions:
        for f in s.files:
            if f.list_key == "participant_audio_files":
                continue  # only the per-session endpoint has these
            if trash is None:
                ok = s.deleted is None and f.deleted is None and utc(since) <= s.start < utc(until)
            elif trash == "session_recordings":
                ok = s.deleted is not None
            else:
                ok = s.deleted is None and f.deleted is not None
            if ok:
                out.append((s, f))
    return out


def ids(pairs: list[tuple[ZoomSession, ZoomFile]]) -> set[str]:
    return {f.id for _, f in pairs if f.id is not None}


def load_all(options: dict[str, Any], **kwargs: Any) -> pl.DataFrame:
    return load_zoom_recordings(**({"since": SINCE, "until": UNTIL} | kwargs), **FAST, **options)


# --- loading -----------------------------------------------------------------------------


def test_loads_every_file_across_month_windows_and_pages(via: Any, box: Sandbox) -> None:
    df = load_all(via("zoom"), page_size=4)
    truth = listed(box)
    assert df.schema == ra.SCHEMA
    assert df.height == len(truth)  # id-less CC/TIMELINE files included, nothing twice
    assert df["recording_id"].n_unique() == df.height
    real = df.filter(~pl.col("recording_id").str.starts_with("derived-"))
    assert set(real["recording_id"]) == ids(truth)
    assert df.filter(pl.col("recording_id").str.starts_with("derived-")).height == sum(
        f.id is None for _, f in truth
    )
    assert set(df["kind"]) == {"session_file", "participant_file"}


def test_every_row_carries_its_session_and_the_right_values(box: Sandbox) -> None:
    df = load_all(box.options("zoom"))
    by_id = {f.id: (s, f) for s, f in listed(box) if f.id}
    checked = 0
    for row in df.iter_rows(named=True):
        if row["recording_id"] not in by_id:
            continue
        s, f = by_id[row["recording_id"]]
        checked += 1
        assert row["provider"] == "zoom"
        # A session named "" has no name: group_name null, as Plivo's conference_name "".
        assert row["group_id"] == s.session_id and row["group_name"] == (s.name or None)
        assert row["created_at"] == s.start
        assert row["started_at"] == f.start and row["ended_at"] == f.end
        assert row["duration"] == f.end - f.start
        assert row["size_bytes"] == f.size
        assert row["status"] == f.status
        assert row["track_name"] == f.recording_type
        expected_kind = "session_file" if f.list_key == "recording_files" else "participant_file"
        assert row["kind"] == expected_kind
        assert row["participant_id"] == f.user_id
        if f.extension is not None:
            assert row["container"] == f.extension.lower()
        # Every other file type is a text file: poll CSVs and TB (JSON timestamps) too.
        media = {"MP4": "video", "M4A": "audio"}.get(f.file_type, "text")
        if f.recording_type == "audio_only":
            media = "audio"
        assert row["media_type"] == media
        assert row["codec"] == {"video": "h264", "audio": "aac"}.get(media)
        if f.size and f.end > f.start:
            seconds = (f.end - f.start).total_seconds()
            assert row["bitrate_kbps"] == pytest.approx(f.size * 8 / seconds / 1000)
    assert checked > 300


def test_id_less_files_get_stable_distinct_ids(box: Sandbox) -> None:
    twin = next(
        s
        for s in box["zoom"].sessions
        if s.deleted is None and sum(f.file_type == "CC" for f in s.files) == 2
    )
    first = load_all(box.options("zoom"))
    again = load_all(box.options("zoom"), page_size=3)
    assert first.sort("recording_id").equals(again.sort("recording_id"))
    captions = first.filter(
        (pl.col("group_id") == twin.session_id) & (pl.col("container") == "vtt")
    )
    cc = captions.filter(pl.col("recording_id").str.starts_with("derived-"))
    assert cc.height == 2 and cc["recording_id"].n_unique() == 2
    assert cc["media_type"].to_list() == ["text", "text"] and cc["status"].null_count() == 2
    one = get_zoom_session_recordings(twin.session_id, **box.options("zoom"))
    assert set(cc["recording_id"]) <= set(one["recording_id"])


def test_since_and_until_filter_precisely_on_the_session_start(zoom_box: Sandbox) -> None:
    fresh_box = zoom_box
    starts = sorted(s.start for s in fresh_box["zoom"].sessions if s.start.year == 2026)
    # Edges on session starts: Zoom returns both edge days whole, the client must cut them.
    first, last = starts[10], starts[len(starts) // 2]
    since, until = (first + dt.timedelta(seconds=1)).isoformat(), last.isoformat()
    df = load_zoom_recordings(since=since, until=until, **FAST, **fresh_box.options("zoom"))
    truth = listed(fresh_box, since, until)
    assert df.height == len(truth) > 0
    assert set(df.filter(~pl.col("recording_id").str.starts_with("derived-"))["recording_id"]) == (
        ids(truth)
    )
    assert df["created_at"].min() >= utc(since) and df["created_at"].max() < utc(until)
    assert first not in set(df["created_at"]) and last not in set(df["created_at"])
    # Zoom is asked for whole days in windows of at most one month, reaching a day before
    # since and two past until's last day, each ending on the day the next starts: whether
    # `to` is inclusive or not, and in whichever time zone the days are read, no day falls
    # between two windows.
    windows = sorted(
        (q["from"][0], q["to"][0])
        for _, _, path in fresh_box.app.log
        if (q := parse_qs(urlsplit(path).query))
    )
    day = dt.timedelta(days=1)
    assert windows[0][0] == (first.date() - day).isoformat()
    assert windows[-1][1] == (last.date() + 2 * day).isoformat()
    for (_, b), (c, _) in itertools.pairwise(windows):
        assert c == b
    for a, b in windows:
        assert dt.date.fromisoformat(b) <= add_month(dt.date.fromisoformat(a))


def test_no_since_loads_the_whole_history(fresh_box: Sandbox) -> None:
    # It loaded the last 30 days: against data that ended two months ago, no row at all, where
    # every other loader without since returns everything.
    df = load_zoom_recordings(**FAST, **fresh_box.options("zoom"))
    today = dt.datetime.now(dt.UTC).date()
    queries = [parse_qs(urlsplit(path).query) for _, _, path in fresh_box.app.log]
    assert min(q["from"][0] for q in queries) == "2019-12-31"
    assert max(q["to"][0] for q in queries) == (today + dt.timedelta(days=1)).isoformat()
    everything = load_zoom_recordings(since="2015-01-01", **FAST, **fresh_box.options("zoom"))
    assert df.height == everything.height > 0
    assert df["recording_id"].sort().equals(everything["recording_id"].sort())


class Peak(httpx.AsyncBaseTransport):
    """Counts requests in flight at once (the sandbox's latency keeps them overlapping)."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner, self.now, self.peak = inner, 0, 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.now += 1
        self.peak = max(self.peak, self.now)
        try:
            return await self.inner.handle_async_request(request)
        finally:
            self.now -= 1


def test_month_windows_load_concurrently_with_the_same_result() -> None:
    box = Sandbox(seed=5, size=600, latency=0.005, providers=["zoom"])
    peak = Peak(box.transport)
    parallel = load_all(box.options("zoom") | {"transport": peak})
    serial = load_all(box.options("zoom"), max_concurrency=1)
    assert peak.peak > 1
    assert parallel.sort("recording_id").equals(serial.sort("recording_id"))


def test_trash_lists_deleted_sessions_and_files(via: Any, box: Sandbox) -> None:
    kind = "session_recordings"
    whole = load_zoom_recordings(trash=True, trash_type=kind, **FAST, **via("zoom"))
    truth = listed(box, trash="session_recordings")
    assert whole.height == len(truth) > 0
    assert set(whole["status"]) == {"deleted"} and whole["deleted_at"].null_count() == 0
    files = load_zoom_recordings(trash=True, trash_type="recording_file", **FAST, **via("zoom"))
    truth = listed(box, trash="recording_file")
    assert set(files["recording_id"]) == ids(truth) and files.height == len(truth) > 0
    assert set(files["status"]) == {"deleted"}


def test_the_trash_without_a_type_holds_files_deleted_one_at_a_time(via: Any, box: Sandbox) -> None:
    """Zoom's own default lists whole sessions only: "load the trash" left out every file
    deleted on its own, which the store's docs send users there to find."""
    trash = load_zoom_recordings(trash=True, **FAST, **via("zoom"))
    truth = listed(box, trash="session_recordings") + listed(box, trash="recording_file")
    assert listed(box, trash="recording_file")  # the dataset has files deleted alone
    named = trash.filter(~pl.col("recording_id").str.starts_with("derived-"))
    assert set(named["recording_id"]) == ids(truth) and trash.height == len(truth)
    assert set(trash["status"]) == {"deleted"}


def test_trash_requests_carry_no_dates(fresh_box: Sandbox) -> None:
    load_zoom_recordings(trash=True, trash_type="recording_file", **fresh_box.options("zoom"))
    for _, status, path in fresh_box.app.log:
        query = parse_qs(urlsplit(path).query)
        assert status == 200 and "from" not in query and "to" not in query
        assert query["trash"] == ["true"] and query["trash_type"] == ["recording_file"]


@pytest.mark.parametrize(
    ("kwargs", "parameter"),
    [
        ({"trash": True, "since": "2025-01-01"}, "since/until"),
        ({"trash": True, "until": "2025-01-01"}, "since/until"),
        ({"trash_type": "recording_file"}, "trash_type"),
        ({"trash": True, "trash_type": "everything"}, "trash_type"),
        ({"trash": "yes"}, "trash"),
        ({"page_size": 0}, "page_size"),
        ({"page_size": 301}, "page_size"),
        ({"page_size": "30"}, "page_size"),
        ({"since": "2025-03-01", "until": "2025-02-01"}, "since/until"),
        ({"since": "last week"}, "since"),
        ({"max_concurrency": 0}, "max_concurrency"),
    ],
)
def test_bad_input_is_rejected_before_any_request(
    fresh_box: Sandbox, kwargs: dict[str, Any], parameter: str
) -> None:
    with rejected_before_any_request(fresh_box, parameter):
        load_zoom_recordings(**(fresh_box.options("zoom") | kwargs))


@pytest.mark.parametrize(
    "session_id", ["", "   ", None, 42, ".", "..", "a/../../users", "a b", "x?y=1"]
)
def test_bad_session_id_is_rejected_before_any_request(fresh_box: Sandbox, session_id: Any) -> None:
    with rejected_before_any_request(fresh_box, "session_id"):
        get_zoom_session_recordings(session_id, **fresh_box.options("zoom"))


# --- page tokens ---------------------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


class JumpOnToken(httpx.AsyncBaseTransport):
    """Moves the sandbox clock past the token lifetime before the first token request."""

    def __init__(self, inner: httpx.AsyncBaseTransport, clock: FakeClock, times: int = 1) -> None:
        self.inner, self.clock, self.times = inner, clock, times

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if "next_page_token" in request.url.params and self.times:
            self.times -= 1
            self.clock.now += 16 * 60
        return await self.inner.handle_async_request(request)


def test_an_expired_page_token_reloads_the_window_with_nothing_lost(zoom_box: Sandbox) -> None:
    fresh_box = zoom_box
    clock = FakeClock()
    fresh_box["zoom"].clock = clock
    options = fresh_box.options("zoom") | {"page_size": 2, "max_concurrency": 1}
    # One month is one window, so one token is outstanding when the clock jumps (with
    # several windows, each would hold one, and each would expire).
    reference = load_all(options, since="2026-01-01", until="2026-02-01")
    fresh_box.app.reset_counts()
    jumping = options | {"transport": JumpOnToken(fresh_box.transport, clock)}
    df = load_all(jumping, since="2026-01-01", until="2026-02-01")
    statuses = [status for _, status, _ in fresh_box.app.log]
    assert statuses.count(400) == 1
    assert df.height == reference.height > 10
    assert df.sort("recording_id").equals(reference.sort("recording_id"))


def test_tokens_that_always_expire_end_in_an_error_not_a_loop(zoom_box: Sandbox) -> None:
    fresh_box = zoom_box
    fresh_box["zoom"].token_ttl = -1.0  # every token is already expired
    with pytest.raises(ProviderError) as info:
        # One window (2025-12-31 to 2026-01-30 is within a month): its requests alone.
        load_all(fresh_box.options("zoom"), since="2026-01-01", until="2026-01-30", page_size=2)
    assert info.value.status == 400 and info.value.code == 300
    assert fresh_box.requests == 2 * 4  # the first page and one token request, four times


class RefuseTokens(httpx.AsyncBaseTransport):
    """Answers the first ``times`` requests that carry a page token 400, in words that do not
    name the token (Zoom's wording for an expired one is unconfirmed)."""

    def __init__(self, inner: httpx.AsyncBaseTransport, times: int) -> None:
        self.inner, self.times, self.refused = inner, times, 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if "next_page_token" in request.url.params and self.refused < self.times:
            self.refused += 1
            return httpx.Response(400, json={"code": 300, "message": "Invalid field."})
        return await self.inner.handle_async_request(request)


def test_a_page_token_refused_in_any_words_reloads_the_window_once(zoom_box: Sandbox) -> None:
    # Recognised only by its wording ("next page token"), a token refused as "Invalid field."
    # ended the load with a ProviderError, its window's later pages unread.
    options = zoom_box.options("zoom") | {"page_size": 2, "max_concurrency": 1}
    reference = load_all(options, since="2026-01-01", until="2026-01-30")
    once = RefuseTokens(zoom_box.transport, times=1)
    df = load_all(options | {"transport": once}, since="2026-01-01", until="2026-01-30")
    assert once.refused == 1
    assert df.height == reference.height > 10
    assert df.sort("recording_id").equals(reference.sort("recording_id"))


def test_a_page_token_refused_twice_in_any_words_raises_with_the_rows(zoom_box: Sandbox) -> None:
    options = zoom_box.options("zoom") | {"page_size": 2, "max_concurrency": 1}
    always = RefuseTokens(zoom_box.transport, times=10**6)
    with pytest.raises(ProviderError, match="Invalid field") as info:
        # One window (2025-12-31 to 2026-01-30 is within a month): its requests alone.
        load_all(options | {"transport": always}, since="2026-01-01", until="2026-01-30")
    assert info.value.status == 400 and always.refused == 2  # reloaded once, not more
    assert info.value.partial is not None and info.value.partial.height > 0


def test_a_window_reloaded_after_its_token_expired_keeps_only_the_reloads_rows() -> None:
    # The first reading's rows stayed in the load beside the reload's, where de-duplication
    # merged the copies that have an id: a row without one (a session that is not an object)
    # came back twice, and a file deleted between the readings was kept.
    first = {"session_id": "a==", "start_time": "2026-01-05T10:00:00Z"}
    second = {"session_id": "b==", "start_time": "2026-01-05T09:00:00Z"}
    kept = {"id": "kept", "file_type": "MP4", "status": "completed"}
    gone = {"id": "gone", "file_type": "MP4", "status": "completed"}
    reads = [0]

    def handler(request: httpx.Request) -> httpx.Response:
        token = request.url.params.get("next_page_token")
        if token is None:
            reads[0] += 1
            files = [kept, gone] if reads[0] == 1 else [kept]  # deleted before the reload
            sessions = [first | {"recording_files": files}, "not a session"]
            return httpx.Response(200, json={"sessions": sessions, "next_page_token": "t1"})
        if reads[0] == 1:
            return httpx.Response(400, json={"code": 300, "message": TOKEN_ERROR})
        files = [{"id": "b1", "file_type": "M4A", "status": "completed"}]
        body = {"sessions": [second | {"recording_files": files}], "next_page_token": ""}
        return httpx.Response(200, json=body)

    with pytest.warns(LoadWarning) as caught:
        df = load_zoom_recordings(since="2026-01-05", until="2026-01-06", **mock(handler))
    assert reads == [2]
    assert sorted(df["recording_id"].drop_nulls()) == ["b1", "kept"]
    assert df["recording_id"].null_count() == 1, "the session that is not an object, once"
    said = [str(w.message) for w in caught]
    assert any("(<not an object>: 1)" in m for m in said), said  # as many as the rows


async def test_sandbox_tokens_expire_after_their_ttl(zoom_box: Sandbox) -> None:
    fresh_box = zoom_box
    clock = FakeClock()
    fresh_box["zoom"].clock = clock
    auth = ZoomJWTAuth(KEY, SECRET)
    async with httpx.AsyncClient(
        transport=fresh_box.transport, base_url=IN_PROCESS_URL, auth=auth
    ) as client:
        query = {"from": "2026-01-01", "to": "2026-01-31", "page_size": 2}
        first = (await client.get("/v2/videosdk/recordings", params=query)).json()
        token = first["next_page_token"]
        assert token and first["total_records"] > 2
        clock.now += 15 * 60 - 1
        ok = await client.get("/v2/videosdk/recordings", params=query | {"next_page_token": token})
        assert ok.status_code == 200
        clock.now += 2
        late = await client.get(
            "/v2/videosdk/recordings", params=query | {"next_page_token": token}
        )
        assert late.status_code == 400
        assert late.json() == {"code": 300, "message": TOKEN_ERROR}
        other = query | {"page_size": 3, "next_page_token": token}  # bound to its own query
        clock.now -= 60
        assert (await client.get("/v2/videosdk/recordings", params=other)).status_code == 400


async def test_sandbox_enforces_the_documented_limits(box: Sandbox) -> None:
    async with httpx.AsyncClient(
        transport=box.transport, base_url=IN_PROCESS_URL, auth=ZoomJWTAuth(KEY, SECRET)
    ) as client:
        wide = await client.get(
            "/v2/videosdk/recordings", params={"from": "2026-01-01", "to": "2026-02-02"}
        )
        assert wide.status_code == 400 and wide.json()["code"] == 300
        big = await client.get("/v2/videosdk/recordings", params={"page_size": 301})
        assert big.status_code == 400 and big.json()["code"] == 300
        month = await client.get(
            "/v2/videosdk/recordings",
            params={"from": "2026-01-01", "to": "2026-01-31", "page_size": 300},
        )
        assert month.status_code == 200 and month.json()["page_size"] == 300


async def test_sandbox_rate_limit_answers_zoom_429() -> None:
    box = Sandbox(seed=5, size=100, rate_limits=True, providers=["zoom"])
    async with httpx.AsyncClient(
        transport=box.transport, base_url=IN_PROCESS_URL, auth=ZoomJWTAuth(KEY, SECRET)
    ) as client:
        answers = [await client.get("/v2/videosdk/recordings") for _ in range(25)]
    limited = [a for a in answers if a.status_code == 429]
    assert limited and limited[0].json()["code"] == 429
    assert sum(a.status_code == 200 for a in answers) <= 20


# --- one session ---------------------------------------------------------------------------


def pick(box: Sandbox, test: Callable[[str], bool]) -> ZoomSession:
    return next(
        s
        for s in box["zoom"].sessions
        if test(s.session_id) and s.deleted is None and any(f.deleted is None for f in s.files)
    )


@pytest.mark.parametrize(
    "test",
    [
        lambda i: "/" not in i and "+" not in i,
        lambda i: "/" in i and not i.startswith("/") and "//" not in i,
        lambda i: "+" in i,
        lambda i: i.startswith("/"),
        lambda i: "//" in i and not i.startswith("/"),
    ],
    ids=["plain", "slash", "plus", "leading-slash", "double-slash"],
)
def test_one_session_by_id_whatever_its_characters(via: Any, box: Sandbox, test: Any) -> None:
    session = pick(box, test)
    df = get_zoom_session_recordings(session.session_id, **via("zoom"))
    files = [f for f in session.files if f.deleted is None]
    assert df.schema == ra.SCHEMA and df.height == len(files)
    assert set(df["group_id"]) == {session.session_id}
    assert set(df["recording_id"]) >= {f.id for f in files if f.id}


def test_one_session_includes_participant_audio_files(box: Sandbox) -> None:
    session = next(
        s
        for s in box["zoom"].sessions
        if s.deleted is None
        and any(f.list_key == "participant_audio_files" and f.deleted is None for f in s.files)
    )
    df = get_zoom_session_recordings(session.session_id, **box.options("zoom"))
    audio = df.filter((pl.col("kind") == "participant_file") & (pl.col("media_type") == "audio"))
    expected = {
        f.id for f in session.files if f.list_key == "participant_audio_files" and not f.deleted
    }
    assert expected and expected <= set(audio["recording_id"])
    assert audio["participant_id"].null_count() == 0


def test_session_id_encoding() -> None:
    assert session_path("a/b+c==") == "/v2/videosdk/sessions/a%2Fb%2Bc%3D%3D/recordings"
    assert session_path("/ab") == "/v2/videosdk/sessions/%252Fab/recordings"
    assert session_path("a//b") == "/v2/videosdk/sessions/a%252F%252Fb/recordings"


async def test_sandbox_needs_the_encoding_zoom_needs(box: Sandbox) -> None:
    leading = pick(box, lambda i: i.startswith("/"))
    plus = pick(box, lambda i: "+" in i)
    async with httpx.AsyncClient(
        transport=box.transport, base_url=IN_PROCESS_URL, auth=ZoomJWTAuth(KEY, SECRET)
    ) as client:
        once = leading.session_id.replace("/", "%2F").replace("+", "%2B")
        answer = await client.get(f"/v2/videosdk/sessions/{once}/recordings")
        assert answer.status_code == 404 and answer.json()["code"] == 3301
        raw_plus = plus.session_id.replace("/", "%2F")
        assert (await client.get(f"/v2/videosdk/sessions/{raw_plus}/recordings")).status_code == 404
        good = await client.get(session_path(plus.session_id))
        assert good.status_code == 200 and good.json()["session_id"] == plus.session_id


def test_unknown_session_is_not_found(via: Any) -> None:
    with pytest.raises(NotFoundError) as info:
        get_zoom_session_recordings("bm8gc3VjaCBzZXNzaW9u", **via("zoom"))
    assert info.value.status == 404 and info.value.code == 3301


# --- auth ----------------------------------------------------------------------------------


def jwt(header: dict[str, Any], payload: dict[str, Any], secret: str = SECRET) -> str:
    """A JWT with any header and payload, signed like make_jwt signs."""

    def enc(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).decode().rstrip("=")

    signing = f"{enc(json.dumps(header).encode())}.{enc(json.dumps(payload).encode())}"
    signature = hmac.new(secret.encode(), signing.encode(), hashlib.sha256).digest()
    return f"{signing}.{enc(signature)}"


NOW = int(time.time())


@pytest.mark.parametrize(
    "header",
    [
        None,
        "Basic c2FuZGJveDpzZWNyZXQ=",
        "Bearer not-a-jwt",
        "Bearer " + make_jwt(KEY, SECRET, issued_at=NOW - 7200, lifetime=3600),  # expired
        "Bearer " + make_jwt(KEY, "other", issued_at=NOW, lifetime=3600),  # bad signature
        "Bearer " + make_jwt("other-key", SECRET, issued_at=NOW, lifetime=3600),  # wrong iss
        "Bearer " + make_jwt(KEY, SECRET, issued_at=NOW, lifetime=7201),  # over 2 hours
        "Bearer " + jwt({"alg": "none"}, {"iss": KEY, "iat": NOW, "exp": NOW + 60}),
        "Bearer " + jwt({"alg": "HS256"}, {"iss": KEY}),  # no exp
    ],
    ids=["none", "basic", "garbage", "expired", "signature", "iss", "too-long", "alg", "no-exp"],
)
async def test_sandbox_rejects_bad_jwts_with_zoom_json(box: Sandbox, header: str | None) -> None:
    headers = {"Authorization": header} if header else {}
    async with httpx.AsyncClient(transport=box.transport, base_url=IN_PROCESS_URL) as client:
        answer = await client.get("/v2/videosdk/recordings", headers=headers)
    assert answer.status_code == 401
    assert answer.json()["code"] == 124 and "access token" in answer.json()["message"].lower()


def test_jwt_is_hs256_over_iss_iat_exp() -> None:
    token = make_jwt("my-key", "my-secret", issued_at=1_700_000_000, lifetime=3600)
    head, body, signature = token.split(".")

    def decode(part: str) -> Any:
        return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))

    assert decode(head) == {"alg": "HS256", "typ": "JWT"}
    assert decode(body) == {"iss": "my-key", "iat": 1_700_000_000, "exp": 1_700_003_600}
    assert "=" not in token and "my-secret" not in token
    expected = hmac.new(b"my-secret", f"{head}.{body}".encode(), hashlib.sha256).digest()
    assert base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)) == expected


def test_jwt_is_renewed_within_a_minute_of_expiry() -> None:
    clock = FakeClock()
    auth = ZoomJWTAuth(KEY, SECRET, lifetime=3600, clock=clock)
    first = auth.token()
    clock.now += 3600 - JWT_RENEW_WITHIN - 1
    assert auth.token() == first and auth.issued == 1
    clock.now += 1
    second = auth.token()
    assert second != first and auth.issued == 2
    assert auth.expires_at == int(clock.now) + 3600
    assert SECRET not in repr(auth)
    with pytest.raises(ConfigError):
        ZoomJWTAuth(KEY, SECRET, lifetime=7201)


async def test_a_long_load_renews_its_jwt(zoom_box: Sandbox) -> None:
    fresh_box = zoom_box
    clock = FakeClock()
    zoom = fresh_box["zoom"]
    zoom.clock, zoom.token_ttl = clock, 10 * 3600.0
    auth = ZoomJWTAuth(KEY, SECRET, clock=clock)
    statuses = []
    async with httpx.AsyncClient(
        transport=fresh_box.transport, base_url=IN_PROCESS_URL, auth=auth
    ) as client:
        params: dict[str, Any] = {"from": "2026-01-01", "to": "2026-01-31", "page_size": 1}
        while True:
            answer = await client.get("/v2/videosdk/recordings", params=params)
            statuses.append(answer.status_code)
            clock.now += 25 * 60  # each page takes 25 minutes
            token = answer.json().get("next_page_token")
            if not token:
                break
            params["next_page_token"] = token
    assert len(statuses) > 5 and set(statuses) == {200}
    assert auth.issued >= 2


class SkewAfterFirstPage(httpx.AsyncBaseTransport):
    """Before the first request with a page token, waits until the load's JWT is older than
    :data:`JWT_FRESH` and moves the sandbox clock to the token's expiry (a Zoom clock ahead of
    ours): from then on the sandbox answers that token 401, code 124."""

    def __init__(self, inner: httpx.AsyncBaseTransport, clock: FakeClock) -> None:
        self.inner, self.clock, self.tokens = inner, clock, []
        self.skewed = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        token = request.headers["authorization"].removeprefix("Bearer ")
        if "next_page_token" in request.url.params and not self.skewed:
            self.skewed = True
            await asyncio.sleep(JWT_FRESH + 0.2)
            payload = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
            self.clock.now = payload["exp"]
        self.tokens.append(token)
        return await self.inner.handle_async_request(request)


def test_a_401_to_a_jwt_near_its_expiry_is_retried_with_a_new_one(zoom_box: Sandbox) -> None:
    # A Zoom clock ahead of ours refused the load's JWT mid-load (401 "Invalid access token.",
    # code 124), and the load ended with an AuthError.
    zoom = zoom_box["zoom"]
    clock = FakeClock()
    zoom.clock, zoom.token_ttl = clock, 10 * 3600.0
    options = zoom_box.options("zoom") | {"page_size": 2, "max_concurrency": 1}
    span = {"since": "2026-01-01", "until": "2026-01-30"}
    reference = load_all(options, **span)
    zoom_box.app.reset_counts()
    skew = SkewAfterFirstPage(zoom_box.transport, clock)
    df = load_all(options | {"transport": skew}, **span)
    statuses = [status for _, status, _ in zoom_box.app.log]
    assert statuses.count(401) == 1 and len(set(skew.tokens)) == 2
    assert df.height == reference.height > 10
    assert df.sort("recording_id").equals(reference.sort("recording_id"))


def test_a_401_to_a_fresh_jwt_is_an_auth_error_at_once() -> None:
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(401, json={"code": 124, "message": "Invalid access token."})

    with pytest.raises(ra.AuthError):
        load_zoom_recordings(since="2026-01-01", until="2026-01-02", **mock(handler))
    assert len(calls) == 1


async def test_a_401_to_a_jwt_another_request_renewed_is_retried_with_the_new_one() -> None:
    # Two requests in flight with one JWT that Zoom has stopped taking: the first 401 signs a
    # new token; the second, answered after that, retries with it. Taken for a 401 to that
    # fresh token, it failed the load as bad credentials; or it signed a third, for nothing.
    clock = FakeClock()
    auth = ZoomJWTAuth(KEY, SECRET, clock=clock)
    old = auth.token()
    clock.now += JWT_FRESH + 1  # the old token is not fresh: a 401 to it is its age
    both_sent = asyncio.Event()
    tokens: list[str] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        token = request.headers["authorization"].removeprefix("Bearer ")
        tokens.append(token)
        if token != old:
            return httpx.Response(200, json={"sessions": [], "next_page_token": ""})
        if tokens.count(old) == 2:
            both_sent.set()
        await both_sent.wait()  # both carry the old token before either is answered
        return httpx.Response(401, json={"code": 124, "message": "Invalid access token."})

    transport = httpx.MockTransport(handler)
    async with httpx.AsyncClient(transport=transport, base_url=IN_PROCESS_URL, auth=auth) as c:
        answers = await asyncio.wait_for(
            asyncio.gather(c.get("/v2/videosdk/recordings"), c.get("/v2/videosdk/recordings")),
            timeout=5,
        )
    assert [a.status_code for a in answers] == [200, 200]
    assert auth.issued == 2 and tokens.count(old) == 2 and len(set(tokens)) == 2


# --- secrets -------------------------------------------------------------------------------


def test_access_tokens_never_reach_a_frame(box: Sandbox) -> None:
    urls = [
        u
        for s in box["zoom"].sessions
        for f in s.files
        for u in (f.download_url, f.external_storage_url)
        if u
    ]
    secrets = [re.split("access_token=|X-Amz-Signature=", u)[1] for u in urls if "=" in u]
    assert len(secrets) > 10
    df = load_all(box.options("zoom"))
    raw = load_all(box.options("zoom"), raw=True)
    for frame in (df, raw):
        text = frame.select(pl.col(pl.String)).write_csv()
        assert not any(secret in text for secret in secrets)
    assert df["media_url"].str.contains("access_token=REDACTED", literal=True).sum() > 0


def test_async_twin_matches_the_sync_loader(box: Sandbox) -> None:
    # Sync calls inside a running loop are tested in a subprocess (tests/test_sync.py).
    options = box.options("zoom") | FAST
    a = asyncio.run(aload_zoom_recordings(since="2026-01-01", until="2026-03-01", **options))
    b = load_zoom_recordings(since="2026-01-01", until="2026-03-01", **options)
    assert a.height == b.height > 0 and a.equals(b)


def test_raw_frame_keeps_session_and_file_fields(box: Sandbox) -> None:
    raw = load_all(box.options("zoom"), raw=True)
    wanted = {"session_id", "session_name", "session_start_time", "session_duration"}
    assert wanted | {"file_type", "file_extension", "recording_type", "download_url"} <= set(
        raw.columns
    )
    assert raw.schema["file_size"] == pl.Int64 and raw.schema["recording_start"] == pl.Datetime(
        "us", "UTC"
    )
    assert raw["session_start_time"].null_count() == 0


# --- provider data that is odd, through httpx.MockTransport --------------------------------


def mock(handler: Callable[[httpx.Request], httpx.Response]) -> dict[str, Any]:
    return {
        "transport": httpx.MockTransport(handler),
        "credentials": ZoomCredentials(api_key="k", api_secret="s3cret-value"),
        "base_url": "https://zoom.example",
    }


def seed_example() -> dict[str, Any]:
    text = (FIXTURES / "zoom-videosdk-recordings-list.txt").read_text()
    start = text.index("{", text.index("status OK"))
    return json.loads(text[start : text.index("} |", start) + 1])


# Zoom's reference: TIMELINE (spelled TB in its enum) is a timestamp file in JSON, SUMMARY a
# summary in JSON, CSV poll results, CHAT a TXT file, TRANSCRIPT and CC VTT files.
ZOOM_FILE_TYPES = {
    "MP4": ("mp4", "video"),
    "M4A": ("m4a", "audio"),
    "TRANSCRIPT": ("vtt", "text"),
    "CC": ("vtt", "text"),
    "CHAT": ("txt", "text"),
    "CHAT_MESSAGE": ("json", "text"),
    "TIMELINE": ("json", "text"),
    "TB": ("json", "text"),
    "SUMMARY": ("json", "text"),
    "CSV": ("csv", "text"),
}


def test_file_types_read_as_the_container_helpers_read_them() -> None:
    # List files carry no file_extension (Rivet's types): SUMMARY had no container, TB was a
    # "jpg" of media_type "data" and CSV "data", where ra.normalize_container and
    # ra.container_media_type (and docs/helpers.md) said json / csv and text.
    files = [
        {"id": kind, "file_type": kind, "recording_start": "2026-01-05T10:00:00Z"}
        for kind in ZOOM_FILE_TYPES
    ]
    session = {"session_id": "s==", "start_time": "2026-01-05T10:00:00Z", "recording_files": files}
    body = {"sessions": [session], "next_page_token": "", "total_records": 1}
    df = load_zoom_recordings(
        since="2026-01-05", until="2026-01-06", **mock(lambda r: httpx.Response(200, json=body))
    )
    got = {row["recording_id"]: (row["container"], row["media_type"]) for row in df.to_dicts()}
    assert got == ZOOM_FILE_TYPES
    helpers = pl.DataFrame({"file_type": list(ZOOM_FILE_TYPES)}).select(
        ra.container_normalized("file_type"), ra.container_media_type("file_type")
    )
    assert dict(zip(ZOOM_FILE_TYPES, helpers.iter_rows(), strict=True)) == ZOOM_FILE_TYPES


def test_seed_example_response_parses_to_the_right_values() -> None:
    body = seed_example()
    seen: list[httpx.Request] = []

    def answering(answer: dict[str, Any]) -> Callable[[httpx.Request], httpx.Response]:
        def handler(request: httpx.Request) -> httpx.Response:
            seen.append(request)
            return httpx.Response(200, json=answer)

        return handler

    # Zoom's reference shows a bare session as the list answer; a real one nests it.
    for answer in (body, {"sessions": [body], "next_page_token": ""}):
        df = load_zoom_recordings(since="2022-03-10", until="2022-03-11", **mock(answering(answer)))
        assert df.height == 1  # the example lists one file twice (same id)
        row = df.row(0, named=True)
        assert row["recording_id"] == "35497738-9fef-4f8a-97db-0ec34caef065"
        assert row["group_id"] == "KkMHZ4y8QhSUWAHi5sWvfg==" and row["group_name"] == "session name"
        assert row["created_at"] == dt.datetime(2022, 3, 10, 2, 27, 24, tzinfo=dt.UTC)
        assert row["started_at"] == dt.datetime(2022, 3, 11, 12, 30, 42, tzinfo=dt.UTC)
        assert row["ended_at"] == dt.datetime(2022, 3, 11, 12, 34, 42, tzinfo=dt.UTC)
        assert row["duration"] == dt.timedelta(minutes=4)
        assert row["size_bytes"] == 12125
        assert row["bitrate_kbps"] == pytest.approx(12125 * 8 / 240 / 1000)
        assert row["media_type"] == "audio" and row["codec"] == "aac"  # MP4 audio_only
        assert row["container"] == "mp4" and row["track_name"] == "audio_only"
        assert row["status"] == "deleted"  # deleted_time is set
        assert row["deleted_at"] == dt.datetime(2022, 3, 28, 7, 22, 22, tzinfo=dt.UTC)
        assert row["media_url"] == "https://example/download_url"
    auth = seen[0].headers["Authorization"]
    assert auth.startswith("Bearer ") and auth.count(".") == 2
    assert parse_qs(seen[0].url.query.decode()) == {
        "page_size": ["300"],
        # The day before the one day asked for, and two after it (an exclusive `to` read in
        # a zone east of UTC still reaches its last hours).
        "from": ["2022-03-09"],
        "to": ["2022-03-12"],
    }
    one = get_zoom_session_recordings(
        "KkMHZ4y8QhSUWAHi5sWvfg==", **mock(lambda r: httpx.Response(200, json=body))
    )
    # One row, as the list load gives: the file listed twice is one file.
    assert one["recording_id"].to_list() == ["35497738-9fef-4f8a-97db-0ec34caef065"]


def test_surprising_values_never_crash_or_drop_rows() -> None:
    sessions: list[Any] = [
        {
            "session_id": "a+b/c==",
            "start_time": "2026-01-05T10:00:00Z",
            "duration": "7",
            "recording_files": [
                {
                    "id": "f1",
                    "file_type": "mp4",
                    "file_size": "12125",
                    "recording_start": "2026-01-05T10:00:00Z",
                    "recording_end": "2026-01-05T10:01:40Z",
                    "status": "Completed",
                    "brand_new": True,
                },
                {"id": "f2", "file_type": "HOLOGRAM", "file_size": "big", "recording_start": "?"},
                {"file_type": "CC"},
                {"file_type": "CC"},
                "not a file",
                {"id": 17, "file_type": None, "recording_end": "2026-01-05T09:00:00Z"},
            ],
            "participant_video_files": {"id": "pv1", "file_type": "MP4"},
        },
        {"session_id": None, "recording_files": [{"id": "orphan", "file_type": "M4A"}]},
        "garbage",
        {"session_id": "nothing", "recording_files": None},
    ]
    body = {"sessions": sessions, "next_page_token": None}
    options = mock(lambda r: httpx.Response(200, json=body)) | {
        "since": "2026-01-05",
        "until": "2026-01-06",
    }
    with pytest.warns(LoadWarning) as caught:
        df = load_zoom_recordings(**options)
    said = [str(w.message) for w in caught]
    assert any("could not be read" in m for m in said), said
    # The session without files has no row (the frame lists files), and the load says so.
    assert any("1 sessions were listed without any recording file" in m for m in said), said
    assert df.height == 9
    rows = {r["recording_id"]: r for r in df.iter_rows(named=True) if r["recording_id"]}
    assert rows["f1"]["size_bytes"] == 12125 and rows["f1"]["status"] == "completed"
    assert rows["f1"]["media_type"] == "video" and rows["f1"]["container"] == "mp4"
    assert rows["f2"]["size_bytes"] is None and rows["f2"]["media_type"] is None
    assert rows["17"]["duration"] is None
    assert rows["pv1"]["kind"] == "participant_file"
    assert sum(r.startswith("derived-") for r in rows) == 3  # two CC files and the non-object
    with pytest.warns(LoadWarning):
        raw = load_zoom_recordings(raw=True, **options)
    extras = [json.loads(e) for e in raw["extra"].to_list() if e]
    assert any(e.get("file", {}).get("brand_new") is True for e in extras)
    assert any(e.get("_record") == "garbage" for e in extras)
    assert any(e.get("file") == "not a file" for e in extras)


def test_files_without_ids_in_sessions_without_ids_are_told_apart_by_their_session() -> None:
    # A TIMELINE file has no id; its row's id is derived from its session. Two sessions that
    # have no id either are told apart by their own fields, so neither file is de-duplicated
    # away; the same session listed twice (two windows, a page asked again) is still one.
    standup = {"session_name": "standup", "start_time": "2026-03-02T09:00:00Z"}
    retro = {"session_name": "retro", "start_time": "2026-03-05T15:00:00Z"}
    sessions = [
        s | {"recording_files": [{"file_type": "TIMELINE"}]} for s in (standup, retro, standup)
    ]
    body = {"sessions": sessions, "next_page_token": "", "total_records": 3}
    options = mock(lambda r: httpx.Response(200, json=body))
    df = load_zoom_recordings(since="2026-03-01", until="2026-03-10", **options)
    assert sorted(df["group_name"].to_list()) == ["retro", "standup"]
    assert df["recording_id"].str.starts_with("derived-").all()


@pytest.mark.parametrize("key", ["file_type", "recording_start", "recording_end"])
def test_files_without_ids_differing_only_in_blank_or_absent_fields_are_two_rows(key: str) -> None:
    # A file still processing is listed with "" for its type; CC and TIMELINE files have no
    # id. Two such files, one with "" and one without the key, got one derived id (the ordinal
    # among identical files told "" from absent, the hash did not): one row was dropped,
    # silently.
    start, end = "2026-01-05T10:00:01Z", "2026-01-05T10:20:01Z"
    shared = {"file_type": "CC", "recording_start": start, "recording_end": end} | {key: ""}
    blank = shared | {"download_url": "https://zoom.us/rec/download/one"}
    absent = {k: v for k, v in shared.items() if k != key}
    absent["download_url"] = "https://zoom.us/rec/download/two"

    def listing(*files: dict[str, Any]) -> dict[str, Any]:
        session = {"session_id": "s==", "start_time": "2026-01-05T10:00:00Z"}
        body = {"sessions": [session | {"recording_files": list(files)}], "total_records": 1}
        options = mock(lambda r: httpx.Response(200, json=body | {"next_page_token": ""}))
        return dict(options, since="2026-01-05", until="2026-01-06")

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        df = load_zoom_recordings(**listing(blank, absent))
    assert [str(w.message) for w in caught] == []
    assert sorted(df["media_url"]) == [blank["download_url"], absent["download_url"]]
    assert df["recording_id"].str.starts_with("derived-").all()
    # The first keeps the id it has when listed alone: a sibling changes no stored id.
    alone = load_zoom_recordings(**listing(blank))["recording_id"].item()
    assert df.filter(pl.col("media_url") == blank["download_url"])["recording_id"].item() == alone


@pytest.mark.parametrize("key", ["file_type", "recording_start", "recording_end"])
def test_a_file_without_an_id_keeps_its_id_whether_a_field_is_blank_or_absent(key: str) -> None:
    # The derived id hashes a blank value and a missing one alike (docs: "a blank value and a
    # missing one alike"): a file listed with "" one day and without the key the next is the
    # same row, not a second one beside it in a store.
    start, end = "2026-01-05T10:00:01Z", "2026-01-05T10:20:01Z"
    file = {"file_type": "TIMELINE", "recording_start": start, "recording_end": end}
    file["download_url"] = "https://zoom.us/rec/download/timeline"

    def derived(item: dict[str, Any]) -> str:
        session = {"session_id": "s==", "start_time": "2026-01-05T10:00:00Z"}
        body = {"sessions": [session | {"recording_files": [item]}], "total_records": 1}
        options = mock(lambda r: httpx.Response(200, json=body | {"next_page_token": ""}))
        df = load_zoom_recordings(since="2026-01-05", until="2026-01-06", **options)
        return str(df["recording_id"].item())

    blank = derived(file | {key: ""})
    assert blank.startswith("derived-")
    assert derived({k: v for k, v in file.items() if k != key}) == blank
    assert derived(file | {key: None}) == blank


@pytest.mark.parametrize(
    ("key", "other"),
    [
        ("file_type", "CC"),
        ("recording_start", "2026-01-05T10:05:01Z"),
        ("recording_end", "2026-01-05T10:25:01Z"),
    ],
)
def test_files_without_ids_differing_in_one_field_have_the_ids_each_has_alone(
    key: str, other: str
) -> None:
    # Each of type, start and end tells two id-less files of a session apart in the id's hash:
    # each file has the id it has when listed alone, and neither is merged into the other.
    start, end = "2026-01-05T10:00:01Z", "2026-01-05T10:20:01Z"
    one = {"file_type": "TIMELINE", "recording_start": start, "recording_end": end}
    one["download_url"] = "https://zoom.us/rec/download/one"
    two = one | {key: other, "download_url": "https://zoom.us/rec/download/two"}

    def ids(*files: dict[str, Any]) -> dict[str, str]:
        session = {"session_id": "s==", "start_time": "2026-01-05T10:00:00Z"}
        body = {"sessions": [session | {"recording_files": list(files)}], "total_records": 1}
        options = mock(lambda r: httpx.Response(200, json=body | {"next_page_token": ""}))
        df = load_zoom_recordings(since="2026-01-05", until="2026-01-06", **options)
        return dict(df.select("media_url", "recording_id").iter_rows())

    both = ids(one, two)
    assert len(set(both.values())) == 2
    assert both == ids(one) | ids(two)


def test_a_file_id_of_another_json_type_is_kept_as_its_text() -> None:
    """As the other providers' ids are (docs/loading.md): a Zoom file id sent as an object, a
    list, a float or a boolean became a derived id, the value sent lost from the id."""
    values: list[Any] = [{"a": 1}, ["x"], 1.5, True]
    files = [{"id": v, "file_type": "MP4", "status": "completed"} for v in values]
    session = {"session_id": "s", "start_time": "2026-01-01T10:00:00Z", "recording_files": files}
    body = {"sessions": [session], "next_page_token": "", "total_records": 1}
    options = mock(lambda r: httpx.Response(200, json=body))
    df = load_zoom_recordings(since="2026-01-01", until="2026-01-02", **options)
    assert sorted(df["recording_id"]) == sorted(['{"a":1}', '["x"]', "1.5", "true"])


def test_files_listed_from_the_trash_are_deleted_even_without_deleted_time() -> None:
    file = {"id": "t1", "file_type": "M4A", "status": "completed"}
    body = {"sessions": [{"session_id": "s", "recording_files": [file]}], "next_page_token": ""}
    options = mock(lambda r: httpx.Response(200, json=body))
    assert load_zoom_recordings(trash=True, **options)["status"].to_list() == ["deleted"]
    listed_now = load_zoom_recordings(since="2026-01-01", until="2026-01-02", **options)
    assert listed_now["status"].to_list() == ["completed"]


def test_a_token_error_on_the_first_page_is_not_retried_forever() -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(400, json={"code": 300, "message": TOKEN_ERROR})

    with pytest.raises(ProviderError, match="next page token"):
        load_zoom_recordings(since="2026-01-01", until="2026-01-02", **mock(handler))
    assert len(calls) == 1


def _zoom_reading(sessions: list[tuple[str, dt.datetime, dt.datetime]], reading: str) -> Any:
    """A Zoom list endpoint holding ``sessions`` (id, session start, file start) that reads
    ``from``/``to`` one way the docs leave open: ``to`` exclusive, days of the file start,
    or days in UTC+9 / UTC-8."""
    zones = {
        "utc+9": dt.timezone(dt.timedelta(hours=9)),
        "utc-8": dt.timezone(dt.timedelta(hours=-8)),
    }
    zone = zones.get(reading, dt.UTC)

    def handler(request: httpx.Request) -> httpx.Response:
        low = dt.date.fromisoformat(request.url.params["from"])
        high = dt.date.fromisoformat(request.url.params["to"])
        assert high <= add_month(low), "more than one month asked"
        picked = []
        for sid, start, file_start in sessions:
            moment = file_start if reading == "file start" else start
            day = moment.astimezone(zone).date()
            if low <= day and (day < high if reading == "to exclusive" else day <= high):
                picked.append(
                    {
                        "session_id": sid,
                        "start_time": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
                        "recording_files": [
                            {
                                "id": f"file-{sid}",
                                "recording_start": file_start.strftime("%Y-%m-%dT%H:%M:%SZ"),
                                "recording_end": file_start.strftime("%Y-%m-%dT%H:%M:%SZ"),
                                "file_type": "MP4",
                                "file_size": 10,
                                "status": "completed",
                            }
                        ],
                    }
                )
        body = {"from": str(low), "to": str(high), "next_page_token": "", "sessions": picked}
        return httpx.Response(200, json=body)

    return httpx.MockTransport(handler)


@pytest.mark.parametrize(
    "reading", ["to inclusive", "to exclusive", "file start", "utc+9", "utc-8"]
)
def test_no_day_is_lost_however_zoom_reads_from_and_to(reading: str) -> None:
    # Windows that only touched lost the last day of each month when `to` is exclusive (the
    # docs' default, from=today to=tomorrow, reads so), and a one-day load asked from == to.
    since, until = dt.datetime(2025, 1, 1, tzinfo=dt.UTC), dt.datetime(2025, 4, 1, tzinfo=dt.UTC)
    sessions = []
    moment = since + dt.timedelta(hours=1)
    while moment < until:
        sessions.append((f"S{len(sessions)}", moment, moment + dt.timedelta(minutes=5)))
        moment += dt.timedelta(hours=11)
    late = until - dt.timedelta(seconds=10)  # its file starts after until's midnight
    sessions.append(("LATE", late, late + dt.timedelta(seconds=30)))
    options = {
        "credentials": {"api_key": KEY, "api_secret": SECRET},
        "transport": _zoom_reading(sessions, reading),
    }
    df = load_zoom_recordings(since=since, until=until, **FAST, **options)
    assert sorted(df["recording_id"]) == sorted(f"file-{sid}" for sid, _, _ in sessions)
    one_day = load_zoom_recordings(since="2025-03-05", until="2025-03-06", **FAST, **options)
    expected = [s for s in sessions if s[1].date() == dt.date(2025, 3, 5)]
    assert one_day.height == len(expected) > 0


@pytest.mark.parametrize("max_range_days", [30, 27])
def test_narrower_windows_when_the_api_refuses_a_month(max_range_days: int) -> None:
    # "At most one month": a window from the 15th to the 15th touches 32 dates, and a server
    # counting "a month" as 30 days (or fewer) refused every window, and the load failed.
    box = Sandbox(
        seed=1,
        size=6000,
        providers="zoom",
        emulator_options={"zoom": {"max_range_days": max_range_days}},
    )
    reference = Sandbox(seed=1, size=6000, providers="zoom")
    span = {"since": "2026-03-01", "until": "2026-09-01"}
    df = ra.load_zoom_recordings(**span, **box.options("zoom"))
    want = ra.load_zoom_recordings(**span, **reference.options("zoom"))
    assert df.height == want.height > 300
    assert df["recording_id"].sort().equals(want["recording_id"].sort())


@pytest.mark.parametrize(
    "options",
    [
        # Cut to its last 30 days (the later `from` echoed), `to` read as exclusive or not:
        # the day between two 31-day windows was left unread, 5 of 871 files, silently.
        {"max_range_days": 30, "over_range": "narrow", "to_exclusive": True},
        {"max_range_days": 30, "over_range": "narrow", "to_exclusive": False},
        # `from` kept and `to` cut back to what the server finds a month (the `to` it read
        # echoed): the last days of every longer window were unread, 11 of 180 rows at 27.
        {"max_range_days": 27, "over_range": "narrow_end", "to_exclusive": False},
        {"max_range_days": 28, "over_range": "narrow_end", "to_exclusive": True},
        {"max_range_days": 30, "over_range": "narrow_end", "to_exclusive": True},
    ],
    ids=lambda o: (
        f"{o['over_range']}-{o['max_range_days']}-{'excl' if o['to_exclusive'] else 'incl'}"
    ),
)
def test_narrower_windows_when_the_api_cuts_a_month_short(options: dict[str, Any]) -> None:
    box = Sandbox(seed=1, size=6000, providers="zoom", emulator_options={"zoom": options})
    reference = Sandbox(seed=1, size=6000, providers="zoom")
    span = {"since": "2025-09-01", "until": "2026-07-01"}
    df = ra.load_zoom_recordings(**span, **box.options("zoom"))
    want = ra.load_zoom_recordings(**span, **reference.options("zoom"))
    assert df.height == want.height > 800
    assert df["recording_id"].sort().equals(want["recording_id"].sort())


@pytest.mark.parametrize(
    ("options", "span"),
    [
        # Reading days in UTC-8, cut to its last 30 days: the 31-day window from the day before
        # since lost only that spare day, taken as enough, and with it since's first 8 UTC
        # hours (6 of 345 rows, silently).
        (
            {"max_range_days": 30, "over_range": "narrow", "zone_hours": -8},
            {"since": "2026-01-01", "until": "2026-02-01"},
        ),
        # Reading days in UTC+9, `to` exclusive, cut to its first 30 days: the spare day past
        # until's last was cut, and with it until's last 9 UTC hours (10 of 604 rows).
        (
            {
                "max_range_days": 30,
                "over_range": "narrow_end",
                "to_exclusive": True,
                "zone_hours": 9,
            },
            {"since": "2026-03-02", "until": "2026-03-31"},
        ),
    ],
    ids=["utc-8-narrow", "utc+9-narrow_end"],
)
def test_a_spare_day_cut_off_a_range_is_a_range_cut_short(
    options: dict[str, Any], span: dict[str, str]
) -> None:
    data = {
        "seed": 1,
        "size": 6000,
        "start": "2025-12-01",
        "end": "2026-04-01",
        "providers": "zoom",
    }
    box = Sandbox(**data, emulator_options={"zoom": options})
    df = ra.load_zoom_recordings(**span, **box.options("zoom"))
    want = ra.load_zoom_recordings(**span, **Sandbox(**data).options("zoom"))
    assert df.height == want.height > 300
    assert df["recording_id"].sort().equals(want["recording_id"].sort())


def test_a_to_cut_back_to_today_is_taken() -> None:
    # Zoom may echo a `to` past its today as today (in its zone, perhaps yesterday in UTC):
    # nothing later exists yet, so the answer stands, in one request.
    asked: list[str] = []
    yesterday = (dt.datetime.now(dt.UTC) - dt.timedelta(days=1)).date().isoformat()

    def handler(request: httpx.Request) -> httpx.Response:
        asked.append(request.url.params["to"])
        session = {"session_id": "S1", "start_time": f"{yesterday}T10:00:00Z",
                   "recording_files": [{"id": "f1", "file_type": "MP4"}]}  # fmt: skip
        body = {"from": request.url.params["from"], "to": yesterday, "total_records": 1,
                "sessions": [session]}  # fmt: skip
        return httpx.Response(200, json=body)

    df = load_zoom_recordings(since=yesterday, **mock(handler))
    assert df["recording_id"].to_list() == ["f1"] and len(asked) == 1


def test_a_range_cut_short_at_every_window_span_fails_the_load() -> None:
    options = {"max_range_days": 5, "over_range": "narrow"}
    box = Sandbox(seed=1, size=6000, providers="zoom", emulator_options={"zoom": options})
    with pytest.raises(
        ra.PaginationError, match=r"so the days before 2026-\d\d-\d\d were not read"
    ):
        ra.load_zoom_recordings(since="2026-03-01", until="2026-09-01", **box.options("zoom"))


def test_a_range_refused_at_every_window_span_raises_the_first_refusal() -> None:
    box = Sandbox(seed=1, size=600, emulator_options={"zoom": {"max_range_days": 1}})
    with pytest.raises(ra.ProviderError) as info:
        ra.load_zoom_recordings(since="2026-03-01", until="2026-09-01", **box.options("zoom"))
    assert info.value.status == 400 and "one month" in str(info.value)


def test_a_page_size_refused_is_said_at_once_not_read_as_a_range_refused() -> None:
    # page_size's maximum is not documented for this endpoint: a 400 naming it was read as a
    # range refused, and a 6-month load made 41 requests at narrower spans before failing.
    asked: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        asked.append(str(request.url))
        body = {"code": 300, "message": "Invalid field: page_size must be at most 100."}
        return httpx.Response(400, json=body)

    with pytest.raises(ra.ProviderError, match="page_size") as info:
        load_zoom_recordings(since="2026-03-01", until="2026-09-01", **mock(handler))
    assert info.value.status == 400 and len(asked) <= 8, len(asked)


@pytest.mark.parametrize(
    ("since", "until"), [("2026-01-05", "2026-01-06"), ("2026-01-01", "2026-01-20")]
)
def test_an_answer_echoing_since_and_until_is_not_a_range_cut_short(since: str, until: str) -> None:
    # A mock (or a proxy) echoing the caller's since/until instead of the days asked (which
    # reach a day before since) leaves out only that spare day: not a refusal, one request.
    asked: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        asked.append(request.url.params["from"])
        session = {"session_id": "S1", "start_time": "2026-01-05T10:00:00Z",
                   "recording_files": [{"id": "f1", "file_type": "MP4"}]}  # fmt: skip
        body = {"from": since, "to": until, "total_records": 1, "sessions": [session]}
        return httpx.Response(200, json=body)

    df = load_zoom_recordings(since=since, until=until, **mock(handler))
    assert df["recording_id"].to_list() == ["f1"] and len(asked) == 1


@pytest.mark.parametrize("hours", [9, 14, -10])
def test_a_server_reading_to_as_exclusive_in_its_own_zone_loses_nothing_before_until(
    hours: int,
) -> None:
    # Read as exclusive and in a zone east of UTC, the `to` a day past until's last day left
    # out its last hours: 50 sessions at 20:00 UTC the evening before until, silently.
    zone = dt.timezone(dt.timedelta(hours=hours))
    evening = dt.datetime(2025, 3, 31, 20, tzinfo=dt.UTC)
    starts = [evening + dt.timedelta(seconds=i) for i in range(50)]

    def handler(request: httpx.Request) -> httpx.Response:
        low, high = (dt.date.fromisoformat(request.url.params[k]) for k in ("from", "to"))
        listed = [t for t in starts if low <= t.astimezone(zone).date() < high]
        sessions = [
            {"session_id": f"S{t:%H%M%S}", "start_time": t.strftime("%Y-%m-%dT%H:%M:%SZ"),
             "recording_files": [{"id": f"f{t:%H%M%S}", "file_type": "MP4"}]}
            for t in listed
        ]  # fmt: skip
        body = {"from": str(low), "to": str(high), "total_records": len(sessions),
                "next_page_token": "", "sessions": sessions}  # fmt: skip
        return httpx.Response(200, json=body)

    df = load_zoom_recordings(since="2025-03-01", until="2025-04-01", **mock(handler))
    assert df.height == len(starts)


def test_a_file_still_processing_has_no_container_and_no_size_yet() -> None:
    # Zoom lists a file still processing with "" for its type, extension and end, and 0 bytes
    # (as a real answer quoted in ZoomNet#99 shows): that 0 is no size, and "" no container.
    files = [
        {"id": "f1", "file_type": "", "file_extension": "", "file_size": 0,
         "recording_start": "2026-01-05T10:00:00Z", "recording_end": "", "status": "processing"},
        {"id": "f2", "file_type": "MP4", "file_extension": "MP4", "file_size": 0,
         "recording_start": "2026-01-05T10:00:00Z", "recording_end": "2026-01-05T10:00:00Z",
         "status": "completed"},
    ]  # fmt: skip
    session = {"session_id": "S1", "start_time": "2026-01-05T10:00:00Z", "recording_files": files}
    # The days asked echoed (one before since, two past until's last): an echo without the
    # last spare day would be a range cut short.
    body = {"from": "2026-01-04", "to": "2026-01-07", "total_records": 1, "sessions": [session]}
    df = load_zoom_recordings(
        since="2026-01-05", until="2026-01-06", **mock(lambda r: httpx.Response(200, json=body))
    ).sort("recording_id")
    assert df["container"].to_list() == [None, "mp4"]
    assert df["media_type"].to_list() == [None, "video"]
    assert df["size_bytes"].to_list() == [None, 0]  # a finished empty file keeps its 0
    assert df["status"].to_list() == ["processing", "completed"]


def test_a_file_ending_as_it_starts_is_zero_long_not_of_unknown_length() -> None:
    files = [
        {"id": f"f{i}", "file_type": "M4A", "recording_start": "2026-01-05T10:00:00Z",
         "recording_end": end, "status": "completed"}
        for i, end in enumerate(["2026-01-05T10:00:00Z", "2026-01-05T10:00:02Z",
                                 "2026-01-05T09:59:59Z"])  # an end before the start: unknown
    ]  # fmt: skip
    session = {"session_id": "S1", "start_time": "2026-01-05T10:00:00Z", "recording_files": files}
    body = {"sessions": [session], "next_page_token": "", "total_records": 1}
    df = load_zoom_recordings(
        since="2026-01-05", until="2026-01-06", **mock(lambda r: httpx.Response(200, json=body))
    ).sort("recording_id")
    assert df["duration"].to_list() == [dt.timedelta(0), dt.timedelta(seconds=2), None]


def test_files_that_are_not_objects_are_rows_and_said() -> None:
    # Kept as rows (the value in extra), but without the word Twilio's loader gives.
    files = [None, 1, "x", {"id": "f1", "file_type": "MP4"}]
    session = {"session_id": "S1", "start_time": "2026-01-05T10:00:00Z", "recording_files": files}
    body = {"from": "2025-12-31", "to": "2026-01-21", "sessions": [session]}  # the days asked
    options = mock(lambda r: httpx.Response(200, json=body))
    with pytest.warns(LoadWarning, match="3 listed files were not objects"):
        df = load_zoom_recordings(since="2026-01-01", until="2026-01-20", **options)
    assert df.height == 4


def test_the_total_of_an_answer_asked_again_does_not_hide_a_later_early_end() -> None:
    # A page answered once for another window (total_records=1) was rightly asked again, but
    # its total still lowered the window's: a later empty token then ended the window at 36 of
    # 103 files without a word.
    starts = [f"2026-01-{1 + i // 5:02d}T{10 + i % 5}:00:00Z" for i in range(103)]
    sessions = [
        {"session_id": f"S{i}", "start_time": t,
         "recording_files": [{"id": f"f{i}", "file_type": "MP4", "recording_start": t}]}
        for i, t in enumerate(reversed(starts))
    ]  # fmt: skip
    state = {"mixed": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        low, high = request.url.params["from"], request.url.params["to"]
        token = request.url.params.get("next_page_token", "")
        held = [s for s in sessions if low <= s["start_time"][:10] <= high]
        at = int(token or 0)
        if token == "10" and not state["mixed"]:
            state["mixed"] += 1
            other = {"from": "2025-11-01", "to": "2025-11-30", "total_records": 1,
                     "next_page_token": "", "sessions": []}  # fmt: skip
            return httpx.Response(200, json=other)
        nxt = "" if at >= 30 else str(at + 10)  # the early end: no token after 40 sessions
        body = {"from": low, "to": high, "total_records": len(held),
                "next_page_token": nxt, "sessions": held[at : at + 10]}  # fmt: skip
        return httpx.Response(200, json=body)

    with pytest.raises(ra.PaginationError) as info:
        load_zoom_recordings(
            since="2026-01-01", until="2026-01-25", page_size=10, max_concurrency=1,
            **mock(handler),
        )  # fmt: skip
    assert state["mixed"] == 1 and info.value.partial.height <= 103


@pytest.mark.parametrize("token", [12345, {"t": "x"}, ["x"], True])
def test_a_page_token_that_is_not_text_is_no_end(token: Any) -> None:
    # A token sent as a number or an object read as none: 10 of 25 files, without a word,
    # wherever total_records could not say the window was short.
    starts = [f"2026-01-{1 + i:02d}T10:00:00Z" for i in range(25)][::-1]
    sessions = [
        {"session_id": f"S{i}", "start_time": t,
         "recording_files": [{"id": f"f{i}", "file_type": "MP4", "recording_start": t}]}
        for i, t in enumerate(starts)
    ]  # fmt: skip

    def handler(request: httpx.Request) -> httpx.Response:
        low, high = request.url.params["from"], request.url.params["to"]
        body = {"from": low, "to": high, "total_records": "25", "next_page_token": token,
                "sessions": sessions[:10]}  # fmt: skip
        return httpx.Response(200, json=body)

    with pytest.raises(ra.PaginationError, match="next_page_token"):
        load_zoom_recordings(since="2026-01-01", until="2026-01-26", page_size=10, **mock(handler))


def test_an_empty_month_answered_without_its_list_but_a_total_of_0_is_empty() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        low, high = request.url.params["from"], request.url.params["to"]
        body = {"from": low, "to": high, "total_records": 0, "next_page_token": "",
                "sessions": None}  # fmt: skip
        return httpx.Response(200, json=body)

    df = load_zoom_recordings(since="2026-01-01", until="2026-01-26", **mock(handler))
    assert df.is_empty()


def test_two_files_of_a_session_under_one_id_are_said_not_merged_silently() -> None:
    # An MP4 and an M4A sharing an id became one row without a word.
    start = "2026-01-05T10:00:00Z"
    files = [
        {"id": "same", "file_type": "MP4", "recording_start": start},
        {"id": "same", "file_type": "M4A", "recording_start": start},
    ]
    session = {"session_id": "S1", "start_time": start, "recording_files": files}

    def handler(request: httpx.Request) -> httpx.Response:
        low, high = request.url.params["from"], request.url.params["to"]
        body = {"from": low, "to": high, "total_records": 1, "next_page_token": "",
                "sessions": [session]}  # fmt: skip
        return httpx.Response(200, json=body)

    with pytest.warns(ra.LoadWarning, match="differ in"):
        load_zoom_recordings(since="2026-01-01", until="2026-01-10", **mock(handler))


def test_a_day_read_west_of_utc_with_to_inclusive_is_answered_as_asked() -> None:
    # The loader asks `to` two days past until's last day; a server reading days in UTC-8 with
    # `to` inclusive answers sessions up to 3 days 8 hours after until: trimmed, as they must
    # be, but a LoadWarning said the API answered rows its filter excludes.
    zone = dt.timezone(dt.timedelta(hours=-8))
    until = dt.datetime(2026, 1, 10, 0, 0, 1, tzinfo=dt.UTC)
    starts = {
        "inside": until - dt.timedelta(hours=5),
        "later": until + dt.timedelta(days=3, hours=6),
    }

    def handle(request: httpx.Request) -> httpx.Response:
        low, high = (dt.date.fromisoformat(request.url.params[k]) for k in ("from", "to"))
        sessions = [
            {"session_id": f"{name}==", "start_time": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
             "recording_files": [{"id": name, "file_type": "MP4"}]}
            for name, start in starts.items()
            if low <= start.astimezone(zone).date() <= high
        ]  # fmt: skip
        body = {"from": str(low), "to": str(high), "page_size": 300, "next_page_token": "",
                "total_records": len(sessions), "sessions": sessions}  # fmt: skip
        return httpx.Response(200, json=body)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        df = ra.load_zoom_recordings(
            since=until - dt.timedelta(days=10),
            until=until,
            credentials=CREDENTIALS,
            base_url="https://zoom.example",
            transport=httpx.MockTransport(handle),
        )
    assert df["recording_id"].to_list() == ["inside"]
    assert not caught, [str(w.message) for w in caught]


def test_the_getter_keeps_one_row_for_a_file_its_session_lists_twice() -> None:
    # Zoom's own documented example lists one file twice in recording_files: the list loader
    # kept one row, the getter two (counts, sizes and costs doubled).
    file = {"id": "35497738-9fef-4f8a-97db-0ec34caef065", "file_type": "MP4", "file_size": 10,
            "recording_start": "2026-01-05T10:00:00Z", "recording_end": "2026-01-05T10:04:00Z"}  # fmt: skip
    session = {"session_id": "ab==", "session_name": "demo", "start_time": "2026-01-05T10:00:00Z",
               "recording_files": [file, dict(file)]}  # fmt: skip
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json=session))
    df = get_zoom_session_recordings(
        "ab==", credentials=CREDENTIALS, base_url="https://zoom.example", transport=transport
    )
    assert df["recording_id"].to_list() == [file["id"]]
