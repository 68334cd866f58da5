"""Twilio Video track recordings: the real loader against the sandbox, in-process and loopback."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import polars as pl
import pytest
from provider_cases import rejected_before_any_request

import recanalytics as ra
from recanalytics.credentials import TwilioCredentials
from recanalytics.errors import ConfigError, LoadWarning, NotFoundError, PaginationError
from recanalytics.paging import MAX_EMPTY_RUN
from recanalytics.providers import twilio
from recanalytics.providers.twilio import (
    aload_twilio_recordings,
    get_twilio_recording,
    load_twilio_recordings,
)
from recanalytics.sandbox import Faults, Sandbox
from tests.conftest import FAST_RETRY

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
CREDS = TwilioCredentials(account_sid="AC" + "a" * 32, auth_token="tok-secret-value")


def truth(box: Sandbox, keep: Callable[[Any], bool] = lambda t: True) -> set[str]:
    return {t.sid for t in box["twilio"].tracks.records if keep(t)}


def test_loads_every_recording_across_many_pages(via: Any, box: Sandbox) -> None:
    df = load_twilio_recordings(page_size=17, **via("twilio"))
    assert df.schema == ra.SCHEMA
    assert set(df["recording_id"]) == truth(box)
    assert df.height == len(truth(box))  # no duplicates


def test_unified_values_match_the_source_records(box: Sandbox) -> None:
    df = load_twilio_recordings(**box.options("twilio"))
    by_sid = {t.sid: t for t in box["twilio"].tracks.records}
    for row in df.sample(50, seed=1).iter_rows(named=True):
        t = by_sid[row["recording_id"]]
        assert row["provider"] == "twilio" and row["kind"] == "track"
        assert row["group_id"] == t.room_sid and row["participant_id"] == t.participant_sid
        assert row["created_at"] == t.created
        # Twilio reports 0 until the media exists: unknown, not an empty file.
        unknown = t.status in ("processing", "failed") and t.size == 0
        assert row["size_bytes"] == (None if unknown else t.size)
        assert row["codec"] == (t.codec.lower() or None)
        assert row["container"] == t.container
        assert row["status"] == t.status
        assert row["track_name"] == (t.track_name or t.source_sid)
        if t.status == "failed" or (t.status == "processing" and t.duration == 0):
            assert row["duration"] is None and row["bitrate_kbps"] is None
        else:
            assert row["duration"] == dt.timedelta(seconds=t.duration)
            assert row["bitrate_kbps"] == pytest.approx(t.size * 8 / t.duration / 1000)
        assert row["deleted_at"] == t.deleted


@pytest.mark.parametrize(
    ("kwargs", "keep"),
    [
        ({"status": "failed"}, lambda t: t.status == "failed"),
        ({"status": "DELETED"}, lambda t: t.status == "deleted"),
        ({"media_type": "video"}, lambda t: t.kind == "video"),
        ({"media_type": "data"}, lambda t: t.kind == "data"),
    ],
)
def test_enum_filters(box: Sandbox, kwargs: dict[str, Any], keep: Callable[[Any], bool]) -> None:
    df = load_twilio_recordings(**kwargs, **box.options("twilio"))
    assert set(df["recording_id"]) == truth(box, keep)
    assert df.height > 0


def test_source_and_grouping_sid_filters(via: Any, box: Sandbox) -> None:
    track = box["twilio"].tracks.records[100]
    by_source = load_twilio_recordings(source_sid=track.source_sid, **via("twilio"))
    assert by_source["recording_id"].to_list() == [track.sid]
    by_room = load_twilio_recordings(grouping_sid=track.room_sid, **via("twilio"))
    assert set(by_room["recording_id"]) == truth(box, lambda t: t.room_sid == track.room_sid)
    both = load_twilio_recordings(
        grouping_sid=[track.room_sid, track.participant_sid], **via("twilio")
    )
    assert set(both["recording_id"]) == truth(
        box, lambda t: t.participant_sid == track.participant_sid
    )
    assert 0 < both.height < by_room.height


def test_grouping_sid_is_sent_as_repeated_parameters(fresh_box: Sandbox) -> None:
    a, b = "RM" + "1" * 32, "PA" + "2" * 32
    load_twilio_recordings(grouping_sid=[a, b], **fresh_box.options("twilio"))
    (_, _, query), *_ = fresh_box.app.log
    assert f"GroupingSid={a}&GroupingSid={b}" in query


def test_since_is_inclusive_and_until_exclusive(box: Sandbox) -> None:
    tracks = box["twilio"].tracks.records
    since, until = tracks[200].created, tracks[900].created
    df = load_twilio_recordings(since=since, until=until, **box.options("twilio"))
    expected = truth(box, lambda t: since <= t.created < until)
    assert set(df["recording_id"]) == expected
    assert tracks[200].sid in expected and df.height == len(expected)


def test_date_range_is_split_into_concurrent_windows() -> None:
    # 50 ms a page: 80 requests/s need about six windows walking at once (planner.Plan.spare);
    # against a server with no latency, one window keeps the rate busy and is walked alone.
    box = Sandbox(seed=5, size=600, latency=0.05)
    df = load_twilio_recordings(
        since="2025-01-01", until="2026-11-01", max_concurrency=4, **box.options("twilio")
    )
    assert set(df["recording_id"]) == truth(box)
    firsts = [q for _, _, q in box.app.log if "PageToken" not in q]
    assert len(firsts) >= 4  # one window per worker, then the dense ones split further
    afters = sorted(q.split("DateCreatedAfter=")[1].split("&")[0] for q in firsts)
    # since, one second early: read strictly ("After"), DateCreatedAfter still includes it
    assert afters[0] == "2024-12-31T23:59:59Z"
    assert all("DateCreatedBefore=" in q for q in firsts)


@pytest.mark.parametrize("edges", ["strict", "inclusive"])
@pytest.mark.parametrize("which", ["tracks", "compositions"])
def test_rows_at_since_and_until_whatever_the_api_reads_at_the_edges(
    edges: str, which: str
) -> None:
    # Twilio documents DateCreatedAfter as "on or after", but the name says after: read
    # strictly, the tracks created in since's very second were lost, silently.
    box = Sandbox(
        seed=0, size=4000, providers="twilio", emulator_options={"twilio": {"date_edges": edges}}
    )
    reference = Sandbox(seed=0, size=4000, providers="twilio")
    twilio = box.emulators["twilio"]
    rows = twilio.tracks_by_sid if which == "tracks" else twilio.compositions_by_sid
    created = sorted(row.created for row in rows.values())
    since, until = created[len(created) // 4], created[3 * len(created) // 4]
    assert since.microsecond == until.microsecond == 0  # the API's whole seconds
    load = load_twilio_recordings if which == "tracks" else ra.load_twilio_compositions
    span = {"since": since, "until": until, "page_size": 20}
    df = load(**span, **box.options("twilio"))
    want = load(**span, **reference.options("twilio"))
    assert df["created_at"].min() == since and df["created_at"].max() < until
    assert df["recording_id"].sort().equals(want["recording_id"].sort())


@pytest.mark.parametrize("span", [{}, {"since": "2025-01-01", "until": "2026-11-01"}])
def test_same_rows_when_the_filters_read_a_time_a_little_after_date_created(
    span: dict[str, str],
) -> None:
    # The docs say the filters keep tracks that "started" on or after / before a time. Read on
    # a time up to 30 s after date_created, a window's rest asked up to one second past the
    # oldest row read lost the unread rows that started after that edge (124 of 180,000).
    box = Sandbox(
        seed=1, size=8000, providers="twilio", emulator_options={"twilio": {"filter_lag": 30}}
    )
    reference = Sandbox(seed=1, size=8000, providers="twilio")
    df = load_twilio_recordings(**span, **box.options("twilio"), rate_limit=1e6)
    want = load_twilio_recordings(**span, **reference.options("twilio"), rate_limit=1e6)
    assert df.height == want.height == 8000
    assert df["recording_id"].sort().equals(want["recording_id"].sort())


def test_a_track_that_started_after_until_is_still_in_the_range() -> None:
    # Read on when a track started (up to 30 s after date_created), DateCreatedBefore=until
    # left out a track made in until's last seconds: every quarter a refresh loads ended so.
    box = Sandbox(
        seed=1, size=2000, providers="twilio", emulator_options={"twilio": {"filter_lag": 30}}
    )
    reference = Sandbox(seed=1, size=2000, providers="twilio")
    month = {"since": "2026-03-01", "until": "2026-04-01"}
    tracks = load_twilio_recordings(**month, **reference.options("twilio"))
    # The sandbox's start of a track: date_created plus this share of the 30 s (filter_lag).
    late = tracks.filter(
        pl.col("recording_id").str.slice(-6).str.to_integer(base=16) % 1000 > 300
    ).head(5)
    assert late.height == 5
    for created in late["created_at"]:
        span = {"since": "2026-03-01", "until": created + dt.timedelta(seconds=2)}
        df = load_twilio_recordings(**span, **box.options("twilio"))
        want = load_twilio_recordings(**span, **reference.options("twilio"))
        assert df["recording_id"].sort().equals(want["recording_id"].sort()), created


def test_naive_and_aware_dates_mean_the_same_instant(box: Sandbox) -> None:
    naive = load_twilio_recordings(
        since="2026-01-01T00:00:00", until="2026-02-01", **box.options("twilio")
    )
    aware = load_twilio_recordings(
        since=dt.datetime(2026, 1, 1, 1, 0, tzinfo=dt.timezone(dt.timedelta(hours=1))),
        until=dt.date(2026, 2, 1),
        **box.options("twilio"),
    )
    assert naive.sort("recording_id").equals(aware.sort("recording_id"))
    assert naive.height > 0


def test_api_key_credentials_work(box: Sandbox) -> None:
    from recanalytics.sandbox.twilio import API_KEY

    df = load_twilio_recordings(
        status="failed", **(box.options("twilio") | {"credentials": API_KEY})
    )
    assert df.height == len(truth(box, lambda t: t.status == "failed"))


def test_credentials_from_environment(box: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    creds = box["twilio"].credentials
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", creds["account_sid"])
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", creds["auth_token"])
    options = box.options("twilio")
    del options["credentials"]
    assert load_twilio_recordings(status="failed", **options).height > 0


@pytest.mark.usefixtures("no_env_credentials")
def test_missing_credentials_name_the_variables() -> None:
    with pytest.raises(ConfigError, match="TWILIO_ACCOUNT_SID"):
        load_twilio_recordings(base_url="http://sandbox.invalid")


@pytest.mark.parametrize(
    ("kwargs", "parameter"),
    [
        ({"status": "done"}, "status"),
        ({"media_type": "screen"}, "media_type"),
        ({"source_sid": "MT123"}, "source_sid"),
        ({"source_sid": "MT" + "g" * 32}, "source_sid"),
        ({"grouping_sid": ["RM" + "1" * 32, "nope"]}, "grouping_sid"),
        ({"grouping_sid": []}, "grouping_sid"),
        ({"page_size": 0}, "page_size"),
        ({"page_size": 101}, "page_size"),
        ({"page_size": True}, "page_size"),
        ({"page_size": "50"}, "page_size"),
        ({"since": "yesterday"}, "since"),
        ({"until": "2025-13-01"}, "until"),
        ({"since": "2025-02-01", "until": "2025-02-01"}, "since/until"),
        ({"since": "2025-03-01", "until": "2025-02-01"}, "since/until"),
        ({"max_concurrency": 0}, "max_concurrency"),
        ({"rate_limit": -1}, "rate_limit"),
        ({"base_url": "ftp://x"}, "base_url"),
    ],
)
def test_bad_input_is_rejected_before_any_request(
    fresh_box: Sandbox, kwargs: dict[str, Any], parameter: str
) -> None:
    with rejected_before_any_request(fresh_box, parameter):
        load_twilio_recordings(**(fresh_box.options("twilio") | kwargs))


def test_get_one_recording_and_not_found(via: Any, box: Sandbox) -> None:
    track = box["twilio"].tracks.records[5]
    one = get_twilio_recording(track.sid, **via("twilio"))
    assert one.height == 1 and one["recording_id"][0] == track.sid
    assert one.schema == ra.SCHEMA
    with pytest.raises(NotFoundError) as info:
        get_twilio_recording("RT" + "0" * 32, **via("twilio"))
    assert info.value.status == 404 and info.value.code == 20404
    with pytest.raises(ConfigError, match="RT SID"):
        get_twilio_recording("MT" + "0" * 32, **via("twilio"))


def test_retry_after_as_http_date_is_honoured() -> None:
    past = "Thu, 01 Jan 1970 00:00:00 GMT"  # already due: no wait beyond the backoff
    box = Sandbox(seed=5, size=50, faults=Faults(error_rate=0.3, retry_after=past, seed=1))
    df = load_twilio_recordings(retry=FAST_RETRY, page_size=5, **box.options("twilio"))
    assert df.height == 50
    assert 429 in {status for _, status, _ in box.app.log}


def test_retry_after_beyond_the_cap_raises_rate_limit_error() -> None:
    box = Sandbox(seed=5, size=50, faults=Faults(error_rate=1.0, retry_after="3600", seed=1))
    with pytest.raises(ra.RateLimitError, match="asks to wait 3600 s"):
        load_twilio_recordings(retry=FAST_RETRY, **box.options("twilio"))


def test_retries_give_up_with_a_clear_error() -> None:
    box = Sandbox(seed=5, size=50, faults=Faults(error_rate=1.0, seed=2))
    retry = ra.RetryPolicy(max_retries=2, backoff_base=0.001, backoff_cap=0.001)
    with pytest.raises(ra.ProviderError) as info:
        load_twilio_recordings(retry=retry, max_concurrency=1, **box.options("twilio"))
    assert info.value.status in (429, 500, 502, 503, 504)
    assert box.requests == 3  # one window: its first request and 2 retries


def test_client_stays_under_the_rate_limit() -> None:
    box = Sandbox(seed=5, size=600, rate_limits={"twilio": (40.0, 1.0)})
    df = load_twilio_recordings(page_size=10, rate_limit=30, **box.options("twilio"))
    assert df.height == 600
    assert 429 not in {status for _, status, _ in box.app.log}


def test_rate_limit_429s_are_absorbed() -> None:
    box = Sandbox(seed=5, size=400, rate_limits={"twilio": (20.0, 1.0)})
    df = load_twilio_recordings(
        page_size=10,
        rate_limit=500,
        retry=ra.RetryPolicy(backoff_base=0.05, backoff_cap=0.5, max_retries=20),
        **box.options("twilio"),
    )
    assert df.height == 400 and df["recording_id"].n_unique() == 400
    assert 429 in {status for _, status, _ in box.app.log}


async def test_async_loader_matches_the_sync_one(box: Sandbox) -> None:
    # A sync call inside a running loop is tested in tests/test_sync.py (in a subprocess).
    again = await aload_twilio_recordings(status="failed", **box.options("twilio"))
    assert set(again["recording_id"]) == truth(box, lambda t: t.status == "failed")


def test_raw_frame_keeps_provider_columns(box: Sandbox) -> None:
    raw = load_twilio_recordings(raw=True, status="completed", **box.options("twilio"))
    assert {"sid", "room_sid", "offset", "container_format", "extra"} <= set(raw.columns)
    assert raw.schema["offset"] == pl.Int64


# --- provider data that is odd, through httpx.MockTransport --------------------------------


def page(records: list[Any], next_url: str | None = None) -> dict[str, Any]:
    return {"recordings": records, "meta": {"key": "recordings", "next_page_url": next_url}}


NEXT = "https://video.example/v1/Recordings?PageToken="


def mock(handler: Callable[[httpx.Request], httpx.Response]) -> dict[str, Any]:
    return {
        "transport": httpx.MockTransport(handler),
        "credentials": CREDS,
        "base_url": "https://video.example",
        "retry": FAST_RETRY,
        # One worker, so one window: these mocks answer every date range with the same pages.
        "max_concurrency": 1,
    }


def seed_example() -> dict[str, Any]:
    text = (FIXTURES / "twilio-video-recordings-list.txt").read_text()
    start = text.index("{", text.index("}\n{") + 1) if "}\n{" in text else text.index("{")
    return json.loads(text[start:])


def test_seed_example_response_parses_to_the_right_values() -> None:
    body = seed_example()
    df = load_twilio_recordings(**mock(lambda r: httpx.Response(200, json=body)))
    row = df.row(0, named=True)
    assert row["recording_id"] == "RTaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
    assert row["size_bytes"] == 23 and row["duration"] == dt.timedelta(seconds=10)
    assert row["codec"] == "opus" and row["container"] == "mka" and row["media_type"] == "audio"
    assert row["created_at"] == dt.datetime(2015, 7, 30, 20, tzinfo=dt.UTC)
    assert row["deleted_at"] == dt.datetime(2015, 7, 30, 22, tzinfo=dt.UTC)
    assert row["group_id"] == "RMaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
    assert row["participant_id"] == "PAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
    assert row["track_name"] == "A name" and row["bitrate_kbps"] == pytest.approx(
        23 * 8 / 10 / 1000
    )
    assert row["media_url"].endswith("/Media")


def test_surprising_values_never_crash_or_drop_rows() -> None:
    records = [
        {
            "sid": "RT" + "1" * 32,
            "size": "2048",
            "duration": "12",
            "codec": "H264",
            "status": "completed",
        },
        {
            "sid": "RT" + "2" * 32,
            "size": "lots",
            "duration": 3.0,
            "codec": "AV1",
            "status": "archived",
        },
        {"sid": "RT" + "3" * 32, "date_created": "not a date", "new_field": {"x": 1}},
        {"sid": None},
        "garbage",
    ]
    with pytest.warns(LoadWarning, match="could not be read"):
        df = load_twilio_recordings(**mock(lambda r: httpx.Response(200, json=page(records))))
    assert df.height == 5
    assert df["size_bytes"].to_list()[:2] == [2048, None]
    assert df["codec"].to_list()[:2] == ["h264", "av1"]
    assert df["status"].to_list()[:2] == ["completed", "archived"]
    with pytest.warns(LoadWarning):
        raw = load_twilio_recordings(
            raw=True, **mock(lambda r: httpx.Response(200, json=page(records)))
        )
    extras = [json.loads(e) if e else None for e in raw["extra"].to_list()]
    assert extras[1]["_unparsed"] == {"size": "lots"}
    assert extras[2]["new_field"] == {"x": 1}
    assert extras[4] == {"_record": "garbage"}


def test_a_finished_empty_track_keeps_its_zeros_where_media_not_there_has_none() -> None:
    # Twilio's 0 while a file does not exist (yet, or any more) is no size; a completed
    # track's 0 s and 0 bytes are what it holds, and were turned unknown as well.
    example = seed_example()["recordings"][0]
    records = [
        example | {"sid": "RT" + c * 32, "status": status, "size": 0, "duration": 0}
        for c, status in (("1", "completed"), ("2", "deleted"), ("3", "processing"))
    ]
    df = load_twilio_recordings(**mock(lambda r: httpx.Response(200, json=page(records))))
    df = df.sort("recording_id")
    assert df["size_bytes"].to_list() == [0, None, None]
    assert df["duration"].to_list() == [dt.timedelta(0), None, None]


@pytest.mark.parametrize("name", [None, "", "missing"])
def test_a_track_without_a_name_is_named_by_its_source_sid(name: str | None) -> None:
    # Twilio documents track_name as falling back to source_sid: it was left null.
    record = seed_example()["recordings"][0] | {"track_name": name}
    if name == "missing":
        del record["track_name"]
    df = load_twilio_recordings(**mock(lambda r: httpx.Response(200, json=page([record]))))
    assert df["track_name"].to_list() == ["MTaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"]


def test_a_repeated_next_url_is_asked_again_then_fails_with_the_rows_loaded() -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(str(request.url))
        return httpx.Response(
            200,
            json=page(
                [{"sid": "RT" + "1" * 32}], "https://video.example/v1/Recordings?PageToken=same"
            ),
        )

    with pytest.raises(PaginationError, match=r"repeated a page cursor|already loaded") as info:
        load_twilio_recordings(**mock(handler))
    assert info.value.partial is not None and info.value.partial.height == 1
    assert info.value.partial["recording_id"].to_list() == ["RT" + "1" * 32]
    assert len(calls) == 1 + 1 + 2  # the first page, the cursor, then 2 retries of it


def test_a_repeated_page_that_recovers_loses_nothing() -> None:
    sids = [f"RT{n:032x}" for n in range(6)]
    served = {"n": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        served["n"] += 1
        at = int(request.url.params.get("PageToken", "0"))
        if served["n"] == 3:  # the third answer repeats the page before it, once
            at -= 2
        nxt = f"https://video.example/v1/Recordings?PageToken={at + 2}" if at + 2 < 6 else None
        return httpx.Response(200, json=page([{"sid": s} for s in sids[at : at + 2]], nxt))

    df = load_twilio_recordings(**mock(handler))
    assert sorted(df["recording_id"]) == sids


def test_page_cap_raises() -> None:
    counter = iter(range(10_000))

    def handler(request: httpx.Request) -> httpx.Response:
        n = next(counter)
        return httpx.Response(
            200,
            json=page(
                [{"sid": f"RT{n:032x}"}], f"https://video.example/v1/Recordings?PageToken={n}"
            ),
        )

    with pytest.raises(PaginationError, match="page cap"):
        load_twilio_recordings(max_pages=5, **mock(handler))


def test_empty_pages_with_a_cursor_are_followed() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        token = request.url.params.get("PageToken")
        if token is None:
            return httpx.Response(200, json=page([{"sid": "RT" + "1" * 32}], NEXT + "e1"))
        if token in ("e1", "e2"):  # empty pages that still point further
            return httpx.Response(200, json=page([], NEXT + ("e2" if token == "e1" else "last")))
        return httpx.Response(200, json=page([{"sid": "RT" + "2" * 32}]))

    assert load_twilio_recordings(**mock(handler)).height == 2


def test_endless_empty_pages_fail_with_the_rows_loaded() -> None:
    counter = iter(range(10_000))

    def handler(request: httpx.Request) -> httpx.Response:
        n = next(counter)
        records = [{"sid": "RT" + "1" * 32}] if n == 0 else []
        return httpx.Response(200, json=page(records, f"{NEXT}{n}"))

    with pytest.raises(PaginationError, match="empty pages") as info:
        load_twilio_recordings(**mock(handler))
    assert info.value.partial.height == 1
    assert next(counter) == MAX_EMPTY_RUN + 2  # page 1, then the bounded run of empty pages


def test_a_body_without_the_list_is_retried_not_read_as_the_end() -> None:
    answers = iter([{"meta": {}}, page([{"sid": "RT" + "1" * 32}])])

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=next(answers, {}))

    assert load_twilio_recordings(**mock(handler)).height == 1
    with pytest.raises(PaginationError, match="without the 'recordings' list") as info:
        load_twilio_recordings(**mock(handler))
    assert info.value.partial.height == 0


def test_next_page_url_is_followed_exactly() -> None:
    seen: list[str] = []
    next_url = "https://video.example/v1/Recordings?PageSize=100&Page=1&PageToken=PAopaque%3D%3D"

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        if len(seen) == 1:
            return httpx.Response(200, json=page([{"sid": "RT" + "1" * 32}], next_url))
        return httpx.Response(200, json=page([{"sid": "RT" + "2" * 32}]))

    assert load_twilio_recordings(**mock(handler)).height == 2
    assert seen[1] == next_url


def test_a_row_read_twice_keeps_its_last_copy_where_it_stands() -> None:
    # Windowed loads read each window's edge second twice; the rows keep the provider's order,
    # and rows without an id (nothing to match them by) are all kept, in place.
    endpoint = twilio.TRACK_RECORDINGS
    raw = pl.DataFrame(
        {endpoint.id_column: ["a", "b", None, "a", "c", None, "b"], "copy": range(7)}
    )
    kept = endpoint.dedupe(raw)
    assert kept.rows() == [(None, 2), ("a", 3), ("c", 4), (None, 5), ("b", 6)]
    unique = raw.filter(pl.col(endpoint.id_column).is_not_null()).unique(endpoint.id_column)
    assert endpoint.dedupe(unique) is unique  # nothing read twice: no copy
