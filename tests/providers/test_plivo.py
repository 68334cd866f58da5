"""Plivo recordings: the real loader against the sandbox, in-process and over loopback."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import json
import warnings
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import polars as pl
import pytest
from provider_cases import rejected_before_any_request

import recanalytics as ra
from recanalytics.credentials import PlivoCredentials
from recanalytics.engine import Limits, RateLimiter
from recanalytics.errors import ConfigError, LoadWarning, NotFoundError, ProviderError
from recanalytics.providers.plivo import (
    PLIVO,
    ZONE_MARGIN,
    aload_plivo_recordings,
    get_plivo_recording,
    load_plivo_recordings,
)
from recanalytics.sandbox import Sandbox
from recanalytics.sandbox.plivo import AUTH_ID, CREDENTIALS, RATE_LIMIT
from tests.conftest import UNPACED
from tests.test_engine import most_in_any_window

UTC = dt.UTC
CREDS = PlivoCredentials(auth_id="MA" + "X" * 18, auth_token="plivo-secret-token-value")


def records(box: Sandbox) -> list[Any]:
    return list(box["plivo"].recordings.records)


def truth(box: Sandbox, keep: Callable[[Any], bool] = lambda r: True) -> set[str]:
    return {r.recording_id for r in records(box) if keep(r)}


def everything(box: Sandbox) -> dict[str, Any]:
    return {"since": box.config.start, "until": box.config.end}


def unpaced(box: Sandbox) -> dict[str, Any]:
    """The whole dataset from the session box, unpaced: the filter tests' subject is which rows
    come back, and the box's Plivo limiter (275 per 5.5 s) is shared by every test loading
    from it, so twelve whole-dataset loads in a row made the last ones wait seconds."""
    return everything(box) | box.options("plivo") | {"rate_limit": UNPACED}


def queries(box: Sandbox, since: int = 0) -> list[tuple[str, dict[str, str]]]:
    """(path, params) of the Plivo requests the sandbox answered, from log entry ``since`` on."""
    out = []
    for provider, _, target in box.app.log[since:]:
        if provider == "plivo":
            path, _, query = target.partition("?")
            out.append((path, dict(parse_qsl(query, keep_blank_values=True))))
    return out


def plivo_time(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


class Recorder(httpx.AsyncBaseTransport):
    """Passes requests to another transport, counting requests in flight and keeping bodies."""

    def __init__(self, inner: httpx.AsyncBaseTransport, after: Callable[[int], None]) -> None:
        self.inner, self.after = inner, after
        self.in_flight = self.most_in_flight = self.count = 0
        self.bodies: list[Any] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await asyncio.sleep(0.01)  # let the other requests of a batch start
            response = await self.inner.handle_async_request(request)
            await response.aread()
        finally:
            self.in_flight -= 1
        self.count += 1
        self.bodies.append(json.loads(response.content))
        self.after(self.count)
        return response


# --- the whole dataset, paging, windows ------------------------------------------------------


def test_loads_every_recording_in_30_day_windows(via: Any, box: Sandbox) -> None:
    start = len(box.app.log)
    df = load_plivo_recordings(**everything(box), **via("plivo"))
    assert df.schema == ra.SCHEMA
    assert set(df["recording_id"]) == truth(box) and df.height == len(records(box))
    sent = queries(box, start)
    assert all(path == f"/v1/Account/{AUTH_ID}/Recording/" for path, _ in sent)
    firsts = [q for _, q in sent if q["offset"] == "0"]
    spans = [plivo_time(q["add_time__lt"]) - plivo_time(q["add_time__gte"]) for q in firsts]
    assert max(spans) <= dt.timedelta(days=30) and len(firsts) == 23  # 669 days
    # The range, asked ZONE_MARGIN wider at each end (a server reading the filters in the
    # account's offset), in windows that neither overlap nor leave a gap.
    asked = box.config.end - box.config.start + 2 * ZONE_MARGIN
    assert sum(spans, dt.timedelta()) == asked
    assert {q["limit"] for _, q in sent} == {"20"}
    assert len(sent) > len(firsts)  # some windows took several offsets


@pytest.mark.parametrize("zone_hours", [5.5, -8, 14, -12])
def test_same_rows_when_the_api_reads_add_time_in_the_accounts_offset(zone_hours: float) -> None:
    # The docs say the add_time filters are UTC, but add_time comes in the account's offset
    # (their example: +05:30). A server reading the filters in that offset shifted the range:
    # rows lost at one end, rows outside it kept at the other.
    box = Sandbox(
        seed=1,
        size=6000,
        providers="plivo",
        emulator_options={"plivo": {"filter_zone_hours": zone_hours}},
    )
    reference = Sandbox(seed=1, size=6000, providers="plivo")
    for span in (
        {"since": "2025-03-01T13:17:00", "until": "2025-09-01T08:00:00"},
        {"since": "2025-06-01"},
    ):
        df = load_plivo_recordings(**span, **box.options("plivo"))
        want = load_plivo_recordings(**span, **reference.options("plivo"))
        assert df.height == want.height > 300
        assert df["recording_id"].sort().equals(want["recording_id"].sort())


@pytest.mark.parametrize("max_range_days", [29.5, 27])
def test_narrower_windows_when_the_api_refuses_a_30_day_range(max_range_days: float) -> None:
    # "Over 30 days is answered 400": a server counting calendar days (a window of exactly 30
    # days touches 31 dates) refused every window, and the load failed.
    box = Sandbox(
        seed=1,
        size=6000,
        providers="plivo",
        emulator_options={"plivo": {"max_range_days": max_range_days}},
    )
    reference = Sandbox(seed=1, size=6000, providers="plivo")
    span = {"since": "2025-03-01", "until": "2025-09-01"}
    df = load_plivo_recordings(**span, **box.options("plivo"))
    want = load_plivo_recordings(**span, **reference.options("plivo"))
    assert df.height == want.height > 300
    assert df["recording_id"].sort().equals(want["recording_id"].sort())
    assert 400 in [status for _, status, _ in box.app.log]


def test_a_range_refused_at_every_window_span_raises_the_first_refusal() -> None:
    box = Sandbox(seed=1, size=600, emulator_options={"plivo": {"max_range_days": 1}})
    with pytest.raises(ra.ProviderError) as info:
        load_plivo_recordings(since="2025-03-01", until="2025-09-01", **box.options("plivo"))
    assert info.value.status == 400 and "30 days" in str(info.value)


def test_unified_values_match_the_source_records(box: Sandbox) -> None:
    df = load_plivo_recordings(**everything(box), **box.options("plivo"))
    by_id = {r.recording_id: r for r in records(box)}
    for row in df.iter_rows(named=True):
        r = by_id[row["recording_id"]]
        assert row["provider"] == "plivo" and row["account_id"] == AUTH_ID
        assert row["kind"] == ("conference" if r.recording_type == "conference" else "call")
        assert row["group_id"] == (r.conference_uuid or r.mpc_uuid or r.call_uuid)
        name = r.conference_name if r.conference_name not in (None, "", "noname") else None
        assert row["group_name"] == (name or r.mpc_name)
        assert row["created_at"] == r.add_time  # microseconds, from a local offset
        assert row["started_at"] == dt.datetime.fromtimestamp(r.start_ms / 1000, UTC)
        assert row["duration"] == dt.timedelta(milliseconds=r.duration_ms)
        assert row["ended_at"] - row["started_at"] == row["duration"]
        expected = {"mp3": ("mp3", "mp3"), "wav": ("pcm_s16le", "wav")}[r.recording_format]
        assert (row["codec"], row["container"]) == expected
        assert row["media_type"] == "audio" and row["status"] == "completed"
        assert row["size_bytes"] is None and row["bitrate_kbps"] is None
        assert row["cost"] >= 0 and row["cost_unit"] == "USD"
        assert urlsplit(row["media_url"]).path.endswith(f"{r.recording_id}.{r.recording_format}")
    assert df.filter(pl.col("cost") > 0).height > 0  # old recordings pay for storage
    assert df.filter(pl.col("group_name").is_null()).height > 0  # "noname", "" and null


def test_offsets_after_page_one_are_fetched_concurrently(box: Sandbox) -> None:
    since = box.config.end - dt.timedelta(days=20)
    expected = truth(box, lambda r: r.add_time >= since)
    recorder = Recorder(box.transport, after=lambda n: None)
    df = load_plivo_recordings(
        since=since,
        until=box.config.end,
        page_size=3,
        rate_limit=10_000,  # pacing would serialise the requests this test wants to overlap
        **(box.options("plivo") | {"transport": recorder}),
    )
    assert set(df["recording_id"]) == expected and df.height == len(expected) > 9
    assert recorder.count == -(-len(expected) // 3)  # every offset once, no more
    assert recorder.most_in_flight > 1


def test_recordings_added_while_paging_are_deduplicated_and_none_missed(
    fresh_box: Sandbox,
) -> None:
    emulator = fresh_box["plivo"]
    since = fresh_box.config.end - dt.timedelta(days=30)
    before = truth(fresh_box, lambda r: r.add_time >= since)
    newest = records(fresh_box)[-1]
    added: list[str] = []

    def add_one(count: int) -> None:
        # Right after page 1, two new recordings arrive: every later one shifts by two offsets.
        if count == 1:
            for i in range(2):
                new = dataclasses.replace(
                    newest,
                    recording_id=f"added-{i}",
                    add_time=newest.add_time + dt.timedelta(seconds=i + 1),
                )
                emulator.add(new)
                added.append(new.recording_id)

    recorder = Recorder(fresh_box.transport, after=add_one)
    options = fresh_box.options("plivo") | {"transport": recorder, "max_concurrency": 1}
    df = load_plivo_recordings(since=since, until=fresh_box.config.end, page_size=4, **options)
    served = [o["recording_id"] for body in recorder.bodies for o in body["objects"]]
    assert len(served) > len(set(served))  # the shift really served duplicates
    assert df["recording_id"].n_unique() == df.height
    assert before <= set(df["recording_id"])  # the tail pushed past page 1's total is fetched


def test_since_without_until_runs_to_now(box: Sandbox) -> None:
    since = box.config.end - dt.timedelta(days=45)
    start = len(box.app.log)
    df = load_plivo_recordings(since=since, **box.options("plivo"))
    assert set(df["recording_id"]) == truth(box, lambda r: r.add_time >= since)
    firsts = [q for _, q in queries(box, start) if q["offset"] == "0"]
    assert all("add_time__lt" in q for q in firsts)  # every window closed: <= 30 days
    assert max(plivo_time(q["add_time__lt"]) for q in firsts) > dt.datetime.now(UTC)


def test_without_since_warns_and_gets_the_last_7_days(via: Any, box: Sandbox) -> None:
    start = len(box.app.log)
    with pytest.warns(LoadWarning, match="last 7 days"):
        df = load_plivo_recordings(**via("plivo"))
    week = box.config.end - dt.timedelta(days=7)
    assert set(df["recording_id"]) == truth(box, lambda r: r.add_time >= week)
    assert df.height > 0
    assert not any(k.startswith("add_time") for _, q in queries(box, start) for k in q)


def test_since_is_inclusive_and_until_exclusive(box: Sandbox) -> None:
    rs = records(box)
    since, until = rs[500].add_time, rs[540].add_time
    df = load_plivo_recordings(since=since, until=until, **box.options("plivo"))
    expected = truth(box, lambda r: since <= r.add_time < until)
    assert set(df["recording_id"]) == expected
    assert rs[500].recording_id in expected and rs[540].recording_id not in expected


# --- filters ---------------------------------------------------------------------------------


def pick(box: Sandbox, attribute: str) -> Any:
    return next(getattr(r, attribute) for r in records(box) if getattr(r, attribute))


@pytest.mark.parametrize(
    "attribute",
    [
        "call_uuid",
        "conference_name",
        "conference_uuid",
        "from_number",
        "to_number",
        "subaccount",
        "mpc_name",
        "mpc_uuid",
    ],
)
def test_exact_filters(box: Sandbox, attribute: str) -> None:
    value = pick(box, attribute)
    df = load_plivo_recordings(**{attribute: value}, **unpaced(box))
    expected = truth(box, lambda r: getattr(r, attribute) == value)
    assert set(df["recording_id"]) == expected and df.height == len(expected) > 0
    assert len(expected) < len(records(box))


@pytest.mark.parametrize(
    "number",
    [
        "14155550100",  # as Plivo writes numbers
        "+14155550100",  # E.164 as the documentation asks
        "sip:agent7@phone.plivo.com",
        "agent7@phone.plivo.com",
    ],
)
def test_every_documented_number_form_is_sent_as_given(box: Sandbox, number: str) -> None:
    sent: list[httpx.QueryParams] = []

    class Seen(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            sent.append(request.url.params)  # decoded as a server decodes them: "+" survives
            return await box.transport.handle_async_request(request)

    load_plivo_recordings(
        from_number=number, to_number=number, **(unpaced(box) | {"transport": Seen()})
    )
    assert sent and all(p["from_number"] == p["to_number"] == number for p in sent)


@pytest.mark.parametrize(
    ("kwargs", "keep"),
    [
        ({"storage_days": 100}, lambda days: days == 100),
        ({"min_storage_days": 400}, lambda days: days >= 400),
        ({"max_storage_days": 30}, lambda days: days <= 30),
        ({"min_storage_days": 10, "max_storage_days": 12}, lambda days: 10 <= days <= 12),
    ],
)
def test_storage_duration_filters(
    box: Sandbox, kwargs: dict[str, int], keep: Callable[[int], bool]
) -> None:
    df = load_plivo_recordings(**kwargs, **unpaced(box))
    now = box["plivo"].now
    expected = truth(box, lambda r: keep(r.storage_days(now)))
    assert set(df["recording_id"]) == expected and len(expected) > 0


# --- the sandbox's own rules -----------------------------------------------------------------


def sandbox_get(box: Sandbox, path: str, params: list[tuple[str, str]], **auth: Any) -> Any:
    async def go() -> httpx.Response:
        async with httpx.AsyncClient(transport=box.transport, **auth) as client:
            return await client.get("http://sandbox.invalid" + path, params=params)

    return asyncio.run(go())


LIST = f"/v1/Account/{AUTH_ID}/Recording/"
AUTH = {"auth": (CREDENTIALS["auth_id"], CREDENTIALS["auth_token"])}


def test_sandbox_enforces_plivo_limits(fresh_box: Sandbox) -> None:
    over_limit = sandbox_get(fresh_box, LIST, [("limit", "21")], **AUTH)
    assert over_limit.status_code == 400 and set(over_limit.json()) == {"api_id", "error"}
    wide = [("add_time__gte", "2026-01-01 00:00"), ("add_time__lt", "2026-02-01 00:00:01")]
    assert sandbox_get(fresh_box, LIST, wide, **AUTH).status_code == 400
    open_end = sandbox_get(fresh_box, LIST, [("add_time__gte", "2026-09-01 00:00")], **AUTH)
    assert open_end.status_code == 400  # an open upper bound means "until now"
    ok = sandbox_get(
        fresh_box, LIST, [("add_time__gte", "2026-10-20 00:00"), ("limit", "2")], **AUTH
    )
    assert ok.status_code == 200
    meta = ok.json()["meta"]
    assert meta["next"] == f"{LIST}?limit=2&offset=2" and meta["previous"] is None
    assert isinstance(meta["total_count"], int)
    no_slash = sandbox_get(fresh_box, LIST.rstrip("/"), [], **AUTH)
    assert no_slash.status_code == 404
    denied = sandbox_get(fresh_box, LIST, [], auth=(AUTH_ID, "wrong"))
    assert denied.status_code == 401 and "error" in denied.json()


# --- errors and bad input --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "parameter"),
    [
        ({"page_size": 21}, "page_size"),
        ({"page_size": 0}, "page_size"),
        ({"subaccount": "MA" + "1" * 18}, "subaccount"),
        ({"conference_name": ""}, "conference_name"),
        ({"call_uuid": 42}, "call_uuid"),
        ({"storage_days": -1}, "storage_days"),
        ({"min_storage_days": "3"}, "min_storage_days"),
        ({"since": "2026-02-01", "until": "2026-01-01"}, "since/until"),
        ({"since": "last tuesday"}, "since"),
    ],
)
def test_bad_input_is_rejected_before_any_request(
    box: Sandbox, kwargs: dict[str, Any], parameter: str
) -> None:
    with rejected_before_any_request(box, parameter):
        load_plivo_recordings(**kwargs, **box.options("plivo"))


def test_bad_credentials_and_ids_are_rejected_before_any_request(box: Sandbox) -> None:
    before = box.requests
    with pytest.raises(ConfigError, match="20 characters starting MA or SA"):
        load_plivo_recordings(credentials={"auth_id": "XX12", "auth_token": "t"})
    with rejected_before_any_request(box, "recording_id"):
        get_plivo_recording("../../Call/", **box.options("plivo"))
    with pytest.raises(TypeError, match="unexpected keyword"):
        load_plivo_recordings(limit=5, **box.options("plivo"))  # type: ignore[call-arg]
    assert box.requests == before


def test_get_one_recording_and_not_found(via: Any, box: Sandbox) -> None:
    r = records(box)[123]
    one = get_plivo_recording(r.recording_id, **via("plivo"))
    assert one.height == 1 and one["recording_id"][0] == r.recording_id
    assert one["created_at"][0] == r.add_time
    with pytest.raises(NotFoundError) as info:
        get_plivo_recording("c2186400-1c8c-1124-a664-0026b945b522", **via("plivo"))
    assert info.value.status == 404 and "not found" in str(info.value)


def test_default_pace_fits_plivo_limit_of_300_requests_per_5_seconds() -> None:
    requests, period = RATE_LIMIT
    limiter = RateLimiter(Limits(PLIVO.rate, PLIVO.concurrency, PLIVO.rate_period))
    # A client that starts every request as soon as the limiter allows, for 40 s.
    starts = [limiter.reserve(now=0.0) for _ in range(2400)]
    assert most_in_any_window(starts, period) <= requests
    # and the first requests need not wait for the period: they go out at PEAK times the rate
    # (half a period's worth at once, the rest at PEAK times the rate)
    at_once = -(-limiter.capacity // 2)
    assert starts[at_once - 1] == 0.0
    gap = 1 / (RateLimiter.PEAK * PLIVO.rate)
    assert starts[200] == pytest.approx((201 - at_once) * gap) and starts[200] < period


def test_rate_limit_429s_are_absorbed() -> None:
    box = Sandbox(seed=5, size=300, rate_limits={"plivo": (15.0, 0.25)}, providers=["plivo"])
    df = load_plivo_recordings(
        page_size=5,
        rate_limit=500,
        retry=ra.RetryPolicy(backoff_base=0.05, backoff_cap=0.3, max_retries=20),
        **everything(box),
        **box.options("plivo"),
    )
    assert set(df["recording_id"]) == truth(box) and df.height == len(truth(box))
    assert 429 in {status for _, status, _ in box.app.log}


async def test_async_loader_and_raw_columns(box: Sandbox) -> None:
    raw = await aload_plivo_recordings(raw=True, **everything(box), **box.options("plivo"))
    assert raw.height == len(records(box))
    assert raw.schema["recording_duration_ms"] == pl.Float64
    assert raw.schema["add_time"] == pl.Datetime("us", "UTC")
    assert {"conference_name", "recording_storage_rate", "resource_uri", "extra"} <= set(
        raw.columns
    )
    assert raw["conference_name"].to_list().count("noname") > 0  # kept as sent


# --- the documentation's example and odd data, through httpx.MockTransport ----------------

# The example response of Plivo's "List all recordings" page
# (tests/fixtures/plivo-recordings-list.txt), comments removed.
SEED_EXAMPLE = {
    "api_id": "ff25223a-1c9f-11e4-80aa-12313f048015",
    "meta": {
        "limit": 3,
        "next": "/v1/Account/MAXXXXXXXXXXXXXXXXXX/Recording/?limit=3&offset=3",
        "offset": 0,
        "previous": None,
        "total_count": 948,
    },
    "objects": [
        {
            "add_time": "2020-08-05 16:15:15.852059+05:30",
            "call_uuid": "c2c128e2-1c8c-11e4-9bff-1db8a9db0432",
            "conference_name": "noname",
            "recording_duration_ms": "345100.00000",
            "recording_end_ms": "1407235509007.00000",
            "recording_format": "mp3",
            "recording_id": "c2186400-1c8c-1124-a664-0026b945b522",
            "recording_start_ms": "1407235163907.00000",
            "recording_type": "conference",
            "recording_url": "http://s3.amazonaws.com/recordings_2013/c2186400-1c8c-1124-a664-0026b945b522.mp3",
            "resource_uri": "/v1/Account/MAXXXXXXXXXXXXXXXXXX/Recording/c2186400-1c8c-1124-a664-0026b945b522/",
        },
        {
            "add_time": "2020-08-05 16:05:21.993853+05:30",
            "call_uuid": "fc773e88-1c8b-11e4-b25a-0fe7bcc54670",
            "conference_name": "noname",
            "recording_duration_ms": "90700.00000",
            "recording_end_ms": "1407234920253.00000",
            "recording_format": "mp3",
            "recording_id": "fc2716b0-1c8b-11e4-bwad-842b2b17453e",
            "recording_start_ms": "1407234829553.00000",
            "recording_type": "conference",
            "recording_url": "http://s3.amazonaws.com/recordings_2013/fc2716b0-1c8b-11e4-bwad-842b2b17453e.mp3",
            "resource_uri": "/v1/Account/MAXXXXXXXXXXXXXXXXXX/Recording/fc2716b0-1c8b-11e4-bwad-842b2b17453e/",
        },
    ],
}


def mock(handler: Callable[[httpx.Request], httpx.Response]) -> dict[str, Any]:
    return {
        "transport": httpx.MockTransport(handler),
        "credentials": CREDS,
        "base_url": "https://api.plivo.example",
    }


def test_seed_example_response_parses_to_the_right_values() -> None:
    seen: list[httpx.Request] = []
    # The documented page, as the whole answer to a query that holds just these two.
    body = SEED_EXAMPLE | {"meta": SEED_EXAMPLE["meta"] | {"next": None, "total_count": 2}}

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=body)

    df = load_plivo_recordings(since="2020-08-01", until="2020-08-10", **mock(handler))
    assert df.height == 2
    row = df.row(0, named=True)
    assert row["recording_id"] == "c2186400-1c8c-1124-a664-0026b945b522"
    assert row["duration"] == dt.timedelta(seconds=345.1)
    assert row["created_at"] == dt.datetime(2020, 8, 5, 10, 45, 15, 852059, tzinfo=UTC)
    assert row["started_at"] == dt.datetime(2014, 8, 5, 10, 39, 23, 907000, tzinfo=UTC)
    assert row["ended_at"] == dt.datetime(2014, 8, 5, 10, 45, 9, 7000, tzinfo=UTC)
    assert row["kind"] == "conference" and row["group_id"] == "c2c128e2-1c8c-11e4-9bff-1db8a9db0432"
    assert row["group_name"] is None  # "noname" is Plivo's placeholder
    assert row["account_id"] == "MAXXXXXXXXXXXXXXXXXX"
    assert (row["codec"], row["container"], row["media_type"]) == ("mp3", "mp3", "audio")
    assert row["size_bytes"] is None and row["cost"] is None and row["cost_unit"] is None
    assert df["duration"][1] == dt.timedelta(seconds=90.7)
    assert len(seen) == 1
    first = seen[0].url
    assert first.path == "/v1/Account/MAXXXXXXXXXXXXXXXXXX/Recording/"
    # since/until asked 14 hours wider (a server reading them in the account's offset)
    assert first.params["add_time__gte"] == "2020-07-31 10:00:00"
    assert first.params["add_time__lt"] == "2020-08-10 14:00:00"
    assert first.params["limit"] == "20"
    # The retrieve endpoint takes the documentation's (not quite hex) id as well.
    one = get_plivo_recording(
        "fc2716b0-1c8b-11e4-bwad-842b2b17453e",
        **mock(lambda r: httpx.Response(200, json=SEED_EXAMPLE["objects"][1])),  # type: ignore[index]
    )
    assert one["duration"][0] == dt.timedelta(seconds=90.7)


def test_a_start_of_zero_ms_is_no_start() -> None:
    # With the duration unknown ("-1"), a start of "0" (1970) made the duration end - start:
    # 56 years for one call.
    record = SEED_EXAMPLE["objects"][0] | {  # type: ignore[index]
        "recording_duration_ms": "-1",
        "recording_start_ms": "0",
        "rounded_recording_duration": 346,
    }
    body = {"meta": {"total_count": 1, "offset": 0, "limit": 20}, "objects": [record]}
    with pytest.warns(LoadWarning, match=r"recording_duration_ms: 1\)"):
        df = load_plivo_recordings(
            since="2020-08-01",
            until="2020-08-10",
            **mock(lambda r: httpx.Response(200, json=body)),
        )
    row = df.row(0, named=True)
    assert row["started_at"] is None and row["ended_at"] is not None
    # Nor is rounded_recording_duration a length (whole minutes, rounded up): unknown.
    assert row["duration"] is None


def test_rounded_recording_duration_is_not_taken_for_the_length() -> None:
    # Plivo rounds it up to 60-second steps: a 2 s recording without recording_duration_ms or
    # start/end times was stated as exactly 60 s long (and 120 s as such), summed into hours.
    records = [
        SEED_EXAMPLE["objects"][i]  # type: ignore[index]
        | {"recording_start_ms": "0", "recording_end_ms": "0", "rounded_recording_duration": r}
        for i, r in ((0, "120"), (1, 60))
    ]
    del records[0]["recording_duration_ms"]
    records[1]["recording_duration_ms"] = "-1"
    body = {"meta": {"total_count": 2, "offset": 0, "limit": 20}, "objects": records}
    options = mock(lambda r: httpx.Response(200, json=body))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LoadWarning)  # "-1" is counted as unreadable
        df = load_plivo_recordings(since="2020-08-01", until="2020-08-10", **options)
        raw = load_plivo_recordings(since="2020-08-01", until="2020-08-10", raw=True, **options)
    assert df["duration"].to_list() == [None, None]
    assert ra.summarize(df)["total_duration"].to_list() in ([None], [dt.timedelta(0)])
    assert sorted(raw["rounded_recording_duration"].to_list()) == [60, 120]  # kept as sent


def one_row(**changes: Any) -> dict[str, Any]:
    """The unified row of the documentation's first record with ``changes`` (None: no field)."""
    record = SEED_EXAMPLE["objects"][0] | changes  # type: ignore[index]
    record = {key: value for key, value in record.items() if value is not None}
    body = {"meta": {"total_count": 1, "offset": 0, "limit": 20}, "objects": [record]}
    options = mock(lambda r: httpx.Response(200, json=body))
    df = load_plivo_recordings(since="2020-08-01", until="2020-08-10", **options)
    return df.row(0, named=True)


def test_a_fractional_recording_duration_rounds_to_the_nearest_millisecond() -> None:
    # Plivo sends "2000.60000": truncated, the fraction was dropped, not rounded.
    assert one_row(recording_duration_ms="2000.6")["duration"] == dt.timedelta(seconds=2.001)
    assert one_row(recording_duration_ms="2000.4")["duration"] == dt.timedelta(seconds=2)


@pytest.mark.parametrize("placeholder", ["noname", "NoName", "NONAME"])
def test_the_noname_placeholder_is_no_group_name_in_any_capitals(placeholder: str) -> None:
    assert one_row(conference_name=placeholder)["group_name"] is None
    assert one_row(conference_name="Sales NoName")["group_name"] == "Sales NoName"


def test_a_recording_ending_as_it_starts_is_zero_long_not_of_unknown_length() -> None:
    # Without recording_duration_ms the length is end - start; equal times are 0 s long.
    at = "1407235163907.00000"
    row = one_row(recording_duration_ms=None, recording_start_ms=at, recording_end_ms=at)
    assert row["duration"] == dt.timedelta(0)
    later = one_row(recording_duration_ms=None, recording_start_ms=at)  # the record's own end
    assert later["duration"] == dt.timedelta(seconds=345.1)


def test_surprising_values_never_crash_or_drop_rows() -> None:
    objects = [
        {
            "recording_id": "r1",
            "recording_duration_ms": 1500,
            "recording_start_ms": 1407235163907,
            "recording_end_ms": "1407235165407.5",
            "monthly_recording_storage_amount": "-0.25",
            "rounded_recording_duration": 2,
            "recording_format": "WAV",
            "recording_type": "Conference",
            "conference_name": "",
            "conference_uuid": "",
            "call_uuid": "c1",
            "add_time": "2024-01-01 00:00:00+00:00",
        },
        {"recording_id": "r2", "recording_duration_ms": "n/a", "add_time": "yesterday"},
        {"recording_id": "r3", "recording_format": "ogg", "recording_type": None},
        {"recording_id": None, "brand_new_field": {"x": 1}},
        "not an object",
    ]
    body = {"meta": {"total_count": len(objects), "offset": 0, "limit": 20}, "objects": objects}
    with pytest.warns(LoadWarning, match="could not be read"):
        df = load_plivo_recordings(
            since="2024-01-01", until="2024-01-02", **mock(lambda r: httpx.Response(200, json=body))
        )
    assert df.height == 5
    r1, r2, r3 = df.row(0, named=True), df.row(1, named=True), df.row(2, named=True)
    assert r1["duration"] == dt.timedelta(milliseconds=1500)
    assert r1["cost"] == 0.25 and r1["kind"] == "conference" and r1["codec"] == "pcm_s16le"
    assert r1["group_id"] == "c1" and r1["group_name"] is None
    assert r2["duration"] is None and r2["created_at"] is None and r2["kind"] == "call"
    assert r3["container"] == "ogg" and r3["codec"] is None
    with pytest.warns(LoadWarning):
        raw = load_plivo_recordings(
            since="2024-01-01",
            until="2024-01-02",
            raw=True,
            **mock(lambda r: httpx.Response(200, json=body)),
        )
    assert "brand_new_field" in raw["extra"][3] and "n/a" in raw["extra"][1]


def test_an_answer_without_meta_steps_the_offset_like_the_sdk() -> None:
    pages = {"0": ["a", "b"], "2": ["c", "d"], "4": ["e"]}
    offsets = []

    def handler(request: httpx.Request) -> httpx.Response:
        offset = request.url.params["offset"]
        offsets.append(offset)
        return httpx.Response(200, json={"objects": [{"recording_id": i} for i in pages[offset]]})

    df = load_plivo_recordings(since="2024-01-01", until="2024-01-02", page_size=2, **mock(handler))
    assert df["recording_id"].to_list() == ["a", "b", "c", "d", "e"]
    assert offsets == ["0", "2", "4"]  # the short page ends it


def test_without_total_count_the_next_links_are_followed() -> None:
    pages = {None: (["a", "b"], "c1"), "c1": (["c", "d"], "c2"), "c2": (["e"], None)}
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        cursor = request.url.params.get("cursor")
        seen.append(request.url.params)
        ids, nxt = pages[cursor]
        link = f"/v1/Account/{CREDS.auth_id}/Recording/?limit=2&cursor={nxt}" if nxt else None
        meta = {"limit": 2, "next": link, "offset": 0, "previous": None}
        return httpx.Response(
            200, json={"meta": meta, "objects": [{"recording_id": i} for i in ids]}
        )

    df = load_plivo_recordings(since="2024-01-01", until="2024-01-02", page_size=2, **mock(handler))
    assert df["recording_id"].to_list() == ["a", "b", "c", "d", "e"]
    later = seen[1:]
    assert all("offset" not in p and "add_time__gte" in p for p in later)  # filters ride along


def test_error_json_is_mapped_to_provider_errors() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(400, json={"api_id": "x", "error": "add_time range too wide"})

    with pytest.raises(ProviderError, match="add_time range too wide") as info:
        load_plivo_recordings(since="2024-01-01", until="2024-01-02", **mock(handler))
    assert info.value.status == 400


@pytest.mark.parametrize("number", ["a\x00b@host", "a\x1bb@host", "a\x7f@host", "\ud800@host"])
def test_a_sip_number_holding_what_cannot_be_sent_is_refused(box: Sandbox, number: str) -> None:
    # Control characters went out percent-encoded; a lone surrogate raised UnicodeEncodeError.
    with rejected_before_any_request(box, "from_number"):
        load_plivo_recordings(from_number=number, **unpaced(box))


def test_rows_without_an_id_are_not_counted_twice_when_a_short_query_is_read_again() -> None:
    # 50 records served (2 without an id) where total_count said 51: reading the query again
    # counted and kept the id-less rows twice, so 52 rows came back as a whole load.
    from provider_cases import plivo_recording

    records = [plivo_recording(i) for i in range(50)]
    for r in records[10:12]:
        r["recording_id"] = None

    def handler(request: httpx.Request) -> httpx.Response:
        offset = int(request.url.params.get("offset", 0))
        limit = int(request.url.params.get("limit", 20))
        nxt = None if offset + limit >= 50 else f"?limit={limit}&offset={offset + limit}"
        meta = {"limit": limit, "offset": offset, "total_count": 51, "next": nxt}
        return httpx.Response(200, json={"meta": meta, "objects": records[offset : offset + limit]})

    with pytest.raises(ra.PaginationError) as info:
        load_plivo_recordings(
            since="2026-01-01", until="2026-01-20", max_concurrency=1, **mock(handler)
        )
    assert info.value.partial["recording_id"].null_count() == 2
    assert info.value.partial.height == 50
