"""Twilio Video compositions: the real loader against the sandbox, in-process and loopback."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import polars as pl
import pytest
from provider_cases import rejected_before_any_request

import recanalytics as ra
from recanalytics.credentials import TwilioCredentials
from recanalytics.errors import LoadWarning, NotFoundError
from recanalytics.providers.twilio import load_twilio_recordings
from recanalytics.providers.twilio_compositions import (
    aload_twilio_compositions,
    get_twilio_composition,
    load_twilio_compositions,
)
from recanalytics.sandbox import IN_PROCESS_URL, Sandbox
from recanalytics.sandbox.twilio import Composition

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
CREDS = TwilioCredentials(account_sid="AC" + "a" * 32, auth_token="tok-secret-value")


def truth(box: Sandbox, keep: Callable[[Composition], bool] = lambda c: True) -> set[str]:
    return {c.sid for c in box["twilio"].compositions.records if keep(c)}


def test_dataset_has_plausible_proportions(box: Sandbox) -> None:
    twilio = box["twilio"]
    compositions = twilio.compositions.records
    assert 0.2 < len(compositions) / len(twilio.rooms) < 0.45
    assert {c.room_sid for c in compositions} <= {r.sid for r in twilio.rooms}
    assert {"completed", "deleted", "failed"} <= {c.status for c in compositions}
    assert all(box.config.start <= c.created < box.config.end for c in compositions)


def test_loads_every_composition_across_many_pages(via: Any, box: Sandbox) -> None:
    df = load_twilio_compositions(page_size=7, **via("twilio"))
    assert df.schema == ra.SCHEMA
    assert set(df["recording_id"]) == truth(box)
    assert df.height == len(truth(box))
    assert set(df["kind"]) == {"composition"} and set(df["provider"]) == {"twilio"}


def test_unified_values_match_the_source_records(box: Sandbox) -> None:
    df = load_twilio_compositions(**box.options("twilio"))
    by_sid = {c.sid: c for c in box["twilio"].compositions.records}
    for row in df.iter_rows(named=True):
        c = by_sid[row["recording_id"]]
        assert row["group_id"] == c.room_sid and row["status"] == c.status
        assert row["container"] == c.format and row["created_at"] == c.created
        assert row["deleted_at"] == c.deleted
        assert row["started_at"] is None and row["ended_at"] is None
        audio_only = not c.layout
        assert row["media_type"] == ("audio" if audio_only else "video")
        codecs = {"mp4": ("aac", "h264"), "webm": ("opus", "vp8")}[c.format]
        assert row["codec"] == codecs[0 if audio_only else 1]
        if c.status in ("enqueued", "processing", "failed"):
            assert row["duration"] is None and row["size_bytes"] is None
            assert row["bitrate_kbps"] is None
            continue
        assert row["duration"] == dt.timedelta(seconds=c.duration)
        assert row["size_bytes"] == c.size
        if c.bitrate:
            assert row["bitrate_kbps"] == c.bitrate
        else:
            assert c.size is not None
            assert row["bitrate_kbps"] == pytest.approx(c.size * 8 / c.duration / 1000)
        assert row["media_url"].endswith(f"/v1/Compositions/{c.sid}/Media")


@pytest.mark.parametrize("status", ["enqueued", "processing", "completed", "deleted", "failed"])
def test_status_filter(status: str) -> None:
    box = Sandbox(seed=2, size=4000, providers=["twilio"])
    df = load_twilio_compositions(status=status.upper(), **box.options("twilio"))
    expected = truth(box, lambda c: c.status == status)
    assert expected and set(df["recording_id"]) == expected
    assert set(df["status"]) == {status}


def test_room_filter(via: Any, box: Sandbox) -> None:
    room = next(c.room_sid for c in box["twilio"].compositions.records if c.status == "completed")
    df = load_twilio_compositions(room_sid=room, **via("twilio"))
    assert set(df["recording_id"]) == truth(box, lambda c: c.room_sid == room)
    assert set(df["group_id"]) == {room}


def test_since_inclusive_until_exclusive_in_concurrent_windows() -> None:
    # 149 compositions: a window is split once its pages hold DENSITY_ROWS rows, into pieces
    # of that many at least (the 27 of a 600-record sandbox are walked as one window).
    box = Sandbox(seed=5, size=3000, providers="twilio")
    created = sorted(c.created for c in box["twilio"].compositions.records)
    since, until = created[5], created[-5]
    # Pages of 2: the first pages show more to come, so idle workers take pieces of the rest.
    # A window is split only as far as the rate needs (rate x page time windows): without a
    # latency, a page in this process can take so little time that one window is enough.
    box.app.latency = 0.02
    df = load_twilio_compositions(since=since, until=until, page_size=2, **box.options("twilio"))
    assert set(df["recording_id"]) == truth(box, lambda c: since <= c.created < until)
    assert since in set(df["created_at"]) and until not in set(df["created_at"])
    queries = [parse_qs(urlsplit(path).query) for _, _, path in box.app.log]
    assert all(path.startswith("/v1/Compositions") for _, _, path in box.app.log)
    assert len({q["DateCreatedAfter"][0] for q in queries}) > 1  # split into windows


def test_get_one_composition_and_not_found(via: Any, box: Sandbox) -> None:
    composition = box["twilio"].compositions.records[3]
    one = get_twilio_composition(composition.sid, **via("twilio"))
    assert one.schema == ra.SCHEMA and one.height == 1
    assert one["recording_id"][0] == composition.sid
    with pytest.raises(NotFoundError) as info:
        get_twilio_composition("CJ" + "0" * 32, **via("twilio"))
    assert info.value.status == 404 and info.value.code == 20404


@pytest.mark.parametrize(
    ("call", "parameter"),
    [
        (lambda o: load_twilio_compositions(status="done", **o), "status"),
        (lambda o: load_twilio_compositions(room_sid="RM123", **o), "room_sid"),
        (lambda o: load_twilio_compositions(room_sid="PA" + "0" * 32, **o), "room_sid"),
        (lambda o: load_twilio_compositions(page_size=0, **o), "page_size"),
        (lambda o: load_twilio_compositions(page_size=101, **o), "page_size"),
        (lambda o: load_twilio_compositions(since="2025-03-01", until="2025-01-01", **o), None),
        (lambda o: load_twilio_compositions(since="soon", **o), "since"),
        (lambda o: get_twilio_composition("RT" + "0" * 32, **o), "sid"),
        (lambda o: get_twilio_composition("CJ123", **o), "sid"),
    ],
)
def test_bad_input_is_rejected_before_any_request(
    fresh_box: Sandbox, call: Callable[[dict[str, Any]], Any], parameter: str | None
) -> None:
    with rejected_before_any_request(fresh_box, parameter or "since/until"):
        call(fresh_box.options("twilio"))


def test_async_twin_matches(box: Sandbox) -> None:
    # Sync calls inside a running loop are tested in a subprocess (tests/test_sync.py).
    a = asyncio.run(aload_twilio_compositions(status="completed", **box.options("twilio")))
    b = load_twilio_compositions(status="completed", **box.options("twilio"))
    assert a.height > 0 and a.equals(b)


def test_raw_frame_keeps_layout_resolution_and_sources(box: Sandbox) -> None:
    raw = load_twilio_compositions(raw=True, **box.options("twilio"))
    by_sid = {c.sid: c for c in box["twilio"].compositions.records}
    assert raw.schema["trim"] == pl.Boolean and raw.schema["date_completed"] == pl.Datetime(
        "us", "UTC"
    )
    for row in raw.iter_rows(named=True):
        c = by_sid[row["sid"]]
        assert row["resolution"] == c.resolution and row["trim"] == c.trim
        assert json.loads(row["video_layout"]) == c.layout
        assert json.loads(row["audio_sources"]) == c.audio_sources
        assert json.loads(row["audio_sources_excluded"]) == c.audio_sources_excluded
        assert row["date_completed"] == c.completed
        assert row["extra"] is None  # every field the sandbox sends is declared
    callbacks = raw["status_callback"].drop_nulls()
    assert callbacks.len() > 0 and not callbacks.str.contains("hook-pass").any()


def test_track_recordings_are_unchanged_by_compositions(box: Sandbox) -> None:
    df = load_twilio_recordings(**box.options("twilio"))
    assert df.height == 1500 and set(df["kind"]) == {"track"}


async def test_page_tokens_are_not_interchangeable_between_lists(box: Sandbox) -> None:
    creds = box.credentials("twilio").basic_auth()
    async with httpx.AsyncClient(
        transport=box.transport, base_url=IN_PROCESS_URL, auth=creds
    ) as client:
        tracks = (await client.get("/v1/Recordings", params={"PageSize": 2})).json()
        token = parse_qs(urlsplit(tracks["meta"]["next_page_url"]).query)["PageToken"][0]
        answer = await client.get("/v1/Compositions", params={"PageSize": 2, "PageToken": token})
        assert answer.status_code == 400 and answer.json()["status"] == 400
        first = (await client.get("/v1/Compositions", params={"PageSize": 2})).json()
        assert first["meta"]["key"] == "compositions" and len(first["compositions"]) == 2
        nxt = await client.get(first["meta"]["next_page_url"])
        assert nxt.status_code == 200 and nxt.json()["meta"]["page"] == 1
        bad = await client.get("/v1/Compositions", params={"PageSize": 101})
        assert bad.status_code == 400


# --- provider data that is odd, through httpx.MockTransport --------------------------------


def mock(handler: Callable[[httpx.Request], httpx.Response]) -> dict[str, Any]:
    return {
        "transport": httpx.MockTransport(handler),
        "credentials": CREDS,
        "base_url": "https://video.example",
        # One worker, so one window: these mocks answer every date range with the same pages.
        "max_concurrency": 1,
    }


def seed_examples() -> list[dict[str, Any]]:
    text = (FIXTURES / "twilio-video-compositions-list.txt").read_text()
    decoder = json.JSONDecoder()
    at = text.index("{", text.index("Response examples (200)"))
    examples = []
    while at < len(text):
        body, end = decoder.raw_decode(text, at)
        examples.append(body)
        at = text.find("{", end)
        if at < 0:
            break
    return examples


def test_seed_example_responses_parse_to_the_right_values() -> None:
    examples = seed_examples()
    assert len(examples) == 3
    for empty in examples[:2]:
        df = load_twilio_compositions(**mock(lambda r, e=empty: httpx.Response(200, json=e)))
        assert df.height == 0 and df.schema == ra.SCHEMA
    body = examples[2]
    df = load_twilio_compositions(**mock(lambda r: httpx.Response(200, json=body)))
    row = df.row(0, named=True)
    assert row["recording_id"] == "CJaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
    assert row["account_id"] == "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
    assert row["group_id"] == "RMaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
    assert row["status"] == "completed" and row["kind"] == "composition"
    assert row["container"] == "webm" and row["codec"] == "vp8" and row["media_type"] == "video"
    assert row["size_bytes"] == 4 and row["duration"] == dt.timedelta(seconds=6)
    assert row["bitrate_kbps"] == 64.0
    assert row["created_at"] == dt.datetime(2015, 7, 30, 20, tzinfo=dt.UTC)
    assert row["deleted_at"] is None and row["ended_at"] is None
    assert row["media_url"].endswith("/Compositions/CJaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/Media")
    raw = load_twilio_compositions(raw=True, **mock(lambda r: httpx.Response(200, json=body)))
    r = raw.row(0, named=True)
    assert r["resolution"] == "1280x720" and r["trim"] is True and r["bitrate"] == 64
    assert set(json.loads(r["video_layout"])) == {"grid", "pip"}
    assert json.loads(r["audio_sources"]) == ["RTaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "user*"]
    assert r["date_completed"] == dt.datetime(2015, 7, 30, 20, 1, 33, tzinfo=dt.UTC)
    assert r["status_callback"] == "https://mycallbackurl.com" and r["extra"] is None


def test_surprising_values_never_crash_or_drop_rows() -> None:
    records: list[Any] = [
        {"sid": "CJ" + "1" * 32, "size": "4000", "duration": "8", "bitrate": "0", "format": "MP4"},
        {"sid": "CJ" + "2" * 32, "status": "archived", "format": "mkv", "bitrate": None},
        {"sid": "CJ" + "3" * 32, "trim": "maybe", "video_layout": {}, "format": "webm"},
        {"sid": "CJ" + "4" * 32, "date_created": "yesterday", "new_field": [1]},
        {"sid": None},
        42,
    ]
    body = {"compositions": records, "meta": {"key": "compositions", "next_page_url": None}}
    with pytest.warns(LoadWarning, match="could not be read"):
        df = load_twilio_compositions(**mock(lambda r: httpx.Response(200, json=body)))
    assert df.height == 6
    first, second, third = (df.row(i, named=True) for i in range(3))
    assert first["size_bytes"] == 4000 and first["container"] == "mp4"
    assert first["bitrate_kbps"] == pytest.approx(4000 * 8 / 8 / 1000)
    assert second["status"] == "archived" and second["codec"] is None
    assert third["media_type"] == "audio" and third["codec"] == "opus"
    # No layout says neither audio-only nor video (it was "video", h264).
    assert first["media_type"] is None and first["codec"] is None
    with pytest.warns(LoadWarning):
        raw = load_twilio_compositions(raw=True, **mock(lambda r: httpx.Response(200, json=body)))
    extras = [json.loads(e) if e else None for e in raw["extra"].to_list()]
    assert extras[2] == {"_unparsed": {"trim": "maybe"}}
    assert extras[3]["new_field"] == [1] and extras[5] == {"_record": 42}
