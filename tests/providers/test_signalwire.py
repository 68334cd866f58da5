"""SignalWire Compatibility API recordings: the real loader against the sandbox, in-process and
over loopback."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import email.utils
import functools
import itertools
import json
import uuid
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import httpx
import polars as pl
import pytest
from provider_cases import rejected_before_any_request

import recanalytics as ra
from recanalytics.archive import archive
from recanalytics.credentials import SignalWireCredentials
from recanalytics.errors import ConfigError, LoadWarning, NotFoundError, ProviderError
from recanalytics.providers.signalwire import (
    LOADER,
    SIGNALWIRE,
    aget_signalwire_recording,
    get_signalwire_recording,
    load_signalwire_recordings,
)
from recanalytics.sandbox import IN_PROCESS_URL, Sandbox
from recanalytics.sandbox.signalwire import API, CREDENTIALS, PROJECT_ID, SCHEMA_CHANGE
from recanalytics.windows import split_even

UTC = dt.UTC
PROJECT = "a1b2c3d4-0000-4000-8000-000000000001"
CREDS = SignalWireCredentials(project_id=PROJECT, api_token="PT-secret-token", space="example")
LIST = f"{API}/Accounts/{PROJECT_ID}/Recordings.json"


def records(box: Sandbox) -> list[Any]:
    return list(box["signalwire"].recordings.records)


def truth(box: Sandbox, keep: Callable[[Any], bool] = lambda r: True) -> set[str]:
    return {r.sid for r in records(box) if keep(r)}


def queries(box: Sandbox, since: int = 0) -> list[tuple[str, dict[str, str]]]:
    out = []
    for provider, _, target in box.app.log[since:]:
        if provider == "signalwire":
            path, _, query = target.partition("?")
            out.append((path, dict(parse_qsl(query, keep_blank_values=True))))
    return out


class Recorder(httpx.AsyncBaseTransport):
    """Passes requests on, keeping their URLs and JSON bodies and counting those in flight."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.in_flight = self.most_in_flight = 0
        self.urls: list[str] = []
        self.bodies: list[Any] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        self.urls.append(str(request.url))
        try:
            await asyncio.sleep(0.01)  # let the other windows' requests start
            response = await self.inner.handle_async_request(request)
            await response.aread()
        finally:
            self.in_flight -= 1
        self.bodies.append(json.loads(response.content))
        return response


# --- the whole dataset, paging, windows ------------------------------------------------------


def test_loads_every_recording_across_many_pages(via: Any, box: Sandbox) -> None:
    start = len(box.app.log)
    # One worker: one window, so the pages are exactly the list's, followed in order.
    df = load_signalwire_recordings(page_size=40, max_concurrency=1, **via("signalwire"))
    assert df.schema == ra.SCHEMA
    assert set(df["recording_id"]) == truth(box) and df.height == len(records(box))
    sent = queries(box, start)
    assert sent[0][0] == LIST and len(sent) == -(-len(records(box)) // 40)
    # Later pages follow the relative next_page_uri (to the path without ``.json``).
    assert all("PageToken" in q and path == LIST.removesuffix(".json") for path, q in sent[1:])


class Rewrite(httpx.AsyncBaseTransport):
    """Passes requests on, rewriting each list answer's JSON body with ``change``."""

    def __init__(self, inner: httpx.AsyncBaseTransport, change: Callable[[Any], Any]) -> None:
        self.inner, self.change = inner, change

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        body = json.loads(await response.aread())
        if isinstance(body, dict) and "recordings" in body:
            body = self.change(body)
        return httpx.Response(response.status_code, json=body)


def test_a_full_page_whose_two_next_links_disagree_follows_the_one_that_links_on(
    box: Sandbox,
) -> None:
    # meta.next_page_url null while next_page_uri links on: read as the last page, the load
    # ended after its first (100 of 730 rows, silently).
    unlinked = Rewrite(box.transport, lambda body: body | {"meta": {"next_page_url": None}})
    options = box.options("signalwire") | {"transport": unlinked}
    df = load_signalwire_recordings(page_size=40, max_concurrency=1, **options)
    assert set(df["recording_id"]) == truth(box) and df.height == len(records(box)) > 40


def test_both_record_shapes_parse_to_the_same_columns(box: Sandbox) -> None:
    df = load_signalwire_recordings(**box.options("signalwire"))
    by_sid = {r.sid: r for r in records(box)}
    shapes = set()
    for row in df.iter_rows(named=True):
        r = by_sid[row["recording_id"]]
        shapes.add(r.created < SCHEMA_CHANGE)
        assert row["provider"] == "signalwire" and row["account_id"] == PROJECT_ID
        assert row["kind"] == ("conference" if r.conference_sid else "call")
        assert row["group_id"] == (r.conference_sid or r.call_sid)
        assert row["created_at"] == row["started_at"] == r.created
        assert row["status"] == r.status
        assert row["channels"] == r.channels
        if r.duration is None:
            assert row["duration"] is None and row["ended_at"] is None
        else:
            assert row["duration"] == dt.timedelta(seconds=r.duration)
            assert row["ended_at"] == r.created + dt.timedelta(seconds=r.duration)
        if row["cost"] is not None:
            assert row["cost"] > 0 and row["cost_unit"] == "USD"
        assert (row["media_type"], row["codec"], row["container"]) == ("audio", "pcm_s16le", "wav")
        assert (
            row["media_url"]
            == f"http://sandbox.invalid{API}/Accounts/{PROJECT_ID}/Recordings/{r.sid}.wav"
        )
        assert row["size_bytes"] is None
    assert shapes == {True, False}  # old-shape and current-shape records were both in there
    assert {"completed", "absent", "stopped"} <= set(df["status"])
    assert df["cost"].null_count() < df.height


def test_since_is_inclusive_and_until_exclusive_at_whole_and_fractional_seconds(
    box: Sandbox,
) -> None:
    rs = records(box)
    cases = [
        (rs[100].created, rs[300].created),
        (rs[100].created - dt.timedelta(microseconds=1), rs[300].created + dt.timedelta(0.5)),
        (rs[100].created + dt.timedelta(milliseconds=1), rs[300].created - dt.timedelta(0.5)),
    ]
    for since, until in cases:
        df = load_signalwire_recordings(since=since, until=until, **box.options("signalwire"))
        expected = truth(box, lambda r, s=since, u=until: s <= r.created < u)
        assert set(df["recording_id"]) == expected and df.height == len(expected)


@pytest.mark.parametrize("inclusive", [False, True], ids=["strict", "inclusive"])
def test_same_answer_whether_the_api_reads_date_filters_strictly_or_not(
    fresh_box: Sandbox, inclusive: bool
) -> None:
    emulator = fresh_box["signalwire"]
    emulator.inclusive_dates = inclusive
    rs = records(fresh_box)
    since, until = rs[10].created, rs[170].created
    # Recordings on every window edge and one second either side of it: where a strict and an
    # inclusive reading of DateCreated>/< differ.
    edges = [w.start for w in split_even(since, until, 3)] + [until]
    for i, edge in enumerate(edges):
        for shift in (-1, 0, 1):
            sid = str(uuid.UUID(int=i * 3 + shift + 1))
            emulator.add(
                dataclasses.replace(rs[0], sid=sid, created=edge + dt.timedelta(seconds=shift))
            )
    recorder = Recorder(fresh_box.transport)
    df = load_signalwire_recordings(
        since=since,
        until=until,
        page_size=10,
        max_concurrency=3,
        **(fresh_box.options("signalwire") | {"transport": recorder}),
    )
    expected = truth(fresh_box, lambda r: since <= r.created < until)
    assert set(df["recording_id"]) == expected and df.height == len(expected)
    served = [r["sid"] for body in recorder.bodies for r in body["recordings"]]
    # Read inclusively, neighbouring windows share their edge second: duplicates to remove.
    # (Read strictly there can be some too: a window split by the planner re-reads the second
    # it stopped in, on purpose.)
    if inclusive:
        assert len(served) > len(set(served))


INSIDE_DAYS = {"since": "2025-03-01T13:17:00", "until": "2026-09-01T08:00:00"}


@pytest.mark.parametrize(
    ("span", "size", "page_size"),
    [
        ({}, 3000, 20),
        ({"since": "2015-06-01"}, 3000, 20),
        (INSIDE_DAYS, 20000, 100),
        ({}, 20000, 100),
    ],
    ids=["no-range", "since-2015", "since-until-inside-days-20000", "no-range-20000"],
)
@pytest.mark.parametrize("by_day", [True, "strict"], ids=["from-midnight", "after-the-day"])
def test_same_rows_when_the_api_reads_its_date_filters_by_the_day(
    span: dict[str, str], size: int, page_size: int, by_day: bool | str
) -> None:
    # Twilio's 2010 API, which SignalWire's mirrors, documents its date filters by the day
    # (DateCreated> a date: from its midnight; < a date: before it). A window split after its
    # first page left a rest ending at its oldest row read, which such a server reads as that
    # day's midnight: the hours up to the row were lost, silently (20 of 20,000 rows). Read
    # "after the day" (the dates compared as the operators say), every piece's start lost the
    # rest of its day too (50 of 20,000).
    box = Sandbox(
        seed=1,
        size=size,
        providers="signalwire",
        emulator_options={"signalwire": {"by_day": by_day}},
    )
    reference = Sandbox(seed=1, size=size, providers="signalwire")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        df = load_signalwire_recordings(**span, page_size=page_size, **box.options("signalwire"))
    assert all(issubclass(w.category, LoadWarning) for w in caught)
    # The day before since that such a reading adds is the edge it brings, trimmed quietly.
    assert not [w for w in caught if "outside since/until" in str(w.message)], caught
    want = load_signalwire_recordings(
        **span, page_size=page_size, **reference.options("signalwire")
    )
    assert df.height == want.height > 10 * page_size
    assert df["recording_id"].sort().equals(want["recording_id"].sort())


@pytest.mark.parametrize("by_day", [True, "strict"], ids=["from-midnight", "after-the-day"])
def test_a_short_load_read_by_the_day_is_not_taken_for_filters_ignored(by_day: bool | str) -> None:
    # The day a by-day reading adds before since (or after until) held a full page: taken for
    # a server ignoring the filters, a one-week load walked the whole list unfiltered, 145
    # requests instead of 18 (a busy space's one-day load: 189 instead of 7), with a false
    # warning that the API does not apply the date filters.
    box = Sandbox(
        seed=3, size=20000, start="2026-01-01", end="2026-04-01", providers="signalwire",
        emulator_options={"signalwire": {"by_day": by_day}},
    )  # fmt: skip
    asked: list[str] = []
    inner = box.transport

    class Counting(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            asked.append(str(request.url))
            return await inner.handle_async_request(request)

    span = {"since": "2026-03-02T09:00", "until": "2026-03-09T09:00", "page_size": 50}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        df = load_signalwire_recordings(
            **span, **(box.options("signalwire") | {"transport": Counting()})
        )
    assert not caught, [str(w.message) for w in caught]
    assert all("DateCreated" in url for url in asked), len(asked)
    want = load_signalwire_recordings(**span, **Sandbox(
        seed=3, size=20000, start="2026-01-01", end="2026-04-01", providers="signalwire"
    ).options("signalwire"))  # fmt: skip
    assert df["recording_id"].sort().equals(want["recording_id"].sort())


@pytest.mark.parametrize("date_format", ["rfc2822", "iso", "ignored"])
def test_same_rows_whichever_date_format_the_api_reads(date_format: str) -> None:
    # The docs say RFC 2822, the official SDK sends ISO 8601, and which one the live API
    # requires is unconfirmed: an API that refuses RFC 2822 (400) is asked again in ISO; one
    # that ignores the filters answers every window with everything, trimmed here.
    box = Sandbox(seed=5, size=400, emulator_options={"signalwire": {"date_format": date_format}})
    reference = Sandbox(seed=5, size=400)
    span = {"since": "2025-03-01", "until": "2026-09-01", "page_size": 20}
    if date_format == "ignored":
        # Split on, every piece would be answered with the whole list again, without end.
        with pytest.warns(LoadWarning, match="does not apply the date filters"):
            df = load_signalwire_recordings(**span, **box.options("signalwire"))
    else:
        df = load_signalwire_recordings(**span, **box.options("signalwire"))
    want = load_signalwire_recordings(**span, **reference.options("signalwire"))
    assert df.height == want.height > 20
    assert df["recording_id"].sort().equals(want["recording_id"].sort())
    statuses = [status for _, status, _ in box.app.log]
    refused = statuses.count(400)
    assert refused == (1 if date_format == "iso" else 0), statuses
    if date_format == "iso":
        later = [target for _, status, target in box.app.log if status == 200]
        assert later and all("DateCreated>=2025-02-28T23:59:59Z" in t for t in later[:1])
    if date_format == "ignored":
        # The list read once, whole: its pages, plus what the windows in flight read before a
        # page showed the filters ignored (at most a page each, and the pages so far).
        pages = -(-len(records(box)) // 20)
        assert len(statuses) <= 2 * pages + 24, len(statuses)


@pytest.mark.parametrize("max_concurrency", [None, 1])
def test_an_api_refusing_rfc2822_is_asked_in_iso_even_after_unfiltered_pages(
    max_concurrency: int | None,
) -> None:
    # Without `since` the first pages carry no date filter and load rows; the refusal comes
    # when the planner's windows first send one. The load then runs again in ISO 8601. (With
    # no latency the planner never splits: a little makes the first page say the rest is far.)
    box = Sandbox(
        seed=5, size=400, latency=0.02, emulator_options={"signalwire": {"date_format": "iso"}}
    )
    reference = Sandbox(seed=5, size=400)
    extra = {} if max_concurrency is None else {"max_concurrency": max_concurrency}
    df = load_signalwire_recordings(page_size=20, **extra, **box.options("signalwire"))
    want = load_signalwire_recordings(page_size=20, **reference.options("signalwire"))
    assert df.height == want.height == len(records(box)) > 20
    assert df["recording_id"].sort().equals(want["recording_id"].sort())


def test_a_400_on_an_unfiltered_page_is_not_taken_for_a_date_refusal() -> None:
    asked: list[httpx.Request] = []

    def refuse(request: httpx.Request) -> httpx.Response:
        asked.append(request)
        return httpx.Response(400, json={"code": 21000, "message": "PageSize is bogus"})

    with pytest.raises(ProviderError, match="PageSize is bogus"):
        load_signalwire_recordings(**mock(refuse))
    assert len(asked) == 1 and not any(k.startswith("DateCreated") for k in asked[0].url.params)


def test_an_api_ignoring_the_date_filters_is_read_once_whatever_the_range() -> None:
    box = Sandbox(seed=6, size=400, emulator_options={"signalwire": {"date_format": "ignored"}})
    reference = Sandbox(seed=6, size=400)
    for span in ({"since": "2025-02-01"}, {"since": "2025-06-01", "until": "2025-07-01"}):
        box.app.reset_counts()
        with pytest.warns(LoadWarning, match="does not apply the date filters"):
            df = load_signalwire_recordings(**span, page_size=10, **box.options("signalwire"))
        want = load_signalwire_recordings(**span, page_size=10, **reference.options("signalwire"))
        assert df["recording_id"].sort().equals(want["recording_id"].sort())
        # Pieces split before a page showed it may each read a page; never without end.
        assert box.requests <= 2 * (-(-len(records(box)) // 10)) + 24, box.requests


def test_a_400_for_both_date_formats_is_raised_as_the_first() -> None:
    asked: list[httpx.Request] = []

    def refuse(request: httpx.Request) -> httpx.Response:
        asked.append(request)
        return httpx.Response(400, json={"code": 21000, "message": "PageSize is bogus"})

    with pytest.raises(ProviderError) as info:
        load_signalwire_recordings(since="2026-01-01", until="2026-02-01", **mock(refuse))
    assert info.value.status == 400 and "PageSize is bogus" in str(info.value)
    styles = [dict(r.url.params)["DateCreated>"] for r in asked]
    assert (
        len(asked) == 2
        and styles[0].startswith("Wed, 31 Dec 2025")
        and styles[1] == ("2025-12-31T23:59:59Z")
    )


def test_windows_are_paged_concurrently_with_encoded_rfc2822_filters(box: Sandbox) -> None:
    recorder = Recorder(box.transport)
    df = load_signalwire_recordings(
        since="2025-03-01",
        until="2026-03-01T12:30:00.25",
        page_size=5,
        max_concurrency=4,
        rate_limit=10_000,  # pacing would serialise what this test wants to overlap
        **(box.options("signalwire") | {"transport": recorder}),
    )
    since, until = (
        dt.datetime(2025, 3, 1, tzinfo=UTC),
        dt.datetime(2026, 3, 1, 12, 30, 0, 250000, tzinfo=UTC),
    )
    assert set(df["recording_id"]) == truth(box, lambda r: since <= r.created < until)
    assert recorder.most_in_flight > 1
    firsts = [u for u in recorder.urls if "PageToken" not in u]
    assert len(firsts) >= 4  # one window per worker (dense ones split further when one idles)
    # The names carry < and >, URL-encoded; the values are RFC 2822, whole seconds, UTC.
    assert any("DateCreated%3E=Fri%2C+28+Feb+2025+23%3A59%3A59+%2B0000" in u for u in firsts)
    # until (12:30:00.25) is asked as the next midnight: a server reading the filter by the day
    # would drop the rows from the day's midnight on (the extra hours are trimmed).
    assert any("DateCreated%3C=Mon%2C+02+Mar+2026+00%3A00%3A00+%2B0000" in u for u in firsts)
    assert all("DateCreated%3E=" in u and "DateCreated%3C=" in u for u in firsts)


def test_call_and_conference_filters(via: Any, box: Sandbox) -> None:
    call = next(r.call_sid for r in records(box) if r.call_sid)
    conference = next(r.conference_sid for r in records(box) if r.conference_sid)
    by_call = load_signalwire_recordings(call_sid=call, **via("signalwire"))
    assert set(by_call["recording_id"]) == truth(box, lambda r: r.call_sid == call)
    assert set(by_call["kind"]) == {"call"} and set(by_call["group_id"]) == {call}
    by_conf = load_signalwire_recordings(conference_sid=conference, **via("signalwire"))
    assert set(by_conf["recording_id"]) == truth(box, lambda r: r.conference_sid == conference)
    assert set(by_conf["kind"]) == {"conference"} and by_conf.height > 0


def test_media_urls_are_public_and_follow_the_chosen_format(box: Sandbox) -> None:
    r = next(r for r in records(box) if r.status == "completed")
    wav = get_signalwire_recording(r.sid, **box.options("signalwire"))["media_url"][0]
    mp3 = get_signalwire_recording(r.sid, media_format="mp3", **box.options("signalwire"))
    assert wav.endswith(f"/Recordings/{r.sid}.wav")
    assert mp3["media_url"][0] == wav.removesuffix(".wav") + ".mp3"
    assert (mp3["codec"][0], mp3["container"][0]) == ("mp3", "mp3")

    async def fetch(url: str) -> httpx.Response:
        async with httpx.AsyncClient(transport=box.transport) as client:  # no credentials
            return await client.get(url)

    assert asyncio.run(fetch(wav)).content.startswith(b"RIFF")
    assert asyncio.run(fetch(mp3["media_url"][0])).content.startswith(b"ID3")


def behind_a_gateway(box: Sandbox, path: str) -> dict[str, Any]:
    """Options that reach ``box`` through a gateway serving it under ``path`` (base_url's
    path), its answers passed through as the sandbox sent them: a request elsewhere is 404."""

    async def gateway(request: httpx.Request) -> httpx.Response:
        raw = request.url.raw_path
        if not raw.startswith(path.encode() + b"/"):
            return httpx.Response(404, json={"code": 20404, "message": "not found", "status": 404})
        inner = request.url.copy_with(raw_path=raw[len(path) :])
        forwarded = httpx.Request(request.method, inner, headers=request.headers)
        return await box.transport.handle_async_request(forwarded)

    return box.options("signalwire") | {
        "transport": httpx.MockTransport(gateway),
        "base_url": IN_PROCESS_URL + path,
    }


@pytest.mark.parametrize(
    ("base_path", "media_root"),
    [
        # The space's host (the default): the record's uri as it is, on that host.
        ("", API),
        # The LaML root SignalWire's docs give as the base: its /api/laml was asked twice
        # (".../api/laml/api/laml/2010-04-01/...", 404) for every media URL.
        ("/api/laml", API),
        # A gateway's path: the pages were asked under it, but media_url was built on its
        # bare host, outside the gateway: every download missed.
        ("/gw/sw", f"/gw/sw{API}"),
    ],
)
def test_media_urls_are_under_the_base_url_the_pages_were_asked_under(
    box: Sandbox, base_path: str, media_root: str, tmp_path: Path
) -> None:
    if base_path.startswith("/gw/"):
        options = behind_a_gateway(box, base_path)
    else:  # the sandbox answers the bare /2010-04-01 form under /api/laml, as a space does
        options = box.options("signalwire") | {"base_url": IN_PROCESS_URL + base_path}
    df = load_signalwire_recordings(**options)
    assert set(df["recording_id"]) == truth(box)
    assert df["media_url"].str.starts_with(f"{IN_PROCESS_URL}{media_root}/Accounts/").all()
    raw = load_signalwire_recordings(raw=True, **options)
    assert LOADER.unify(raw, options)["media_url"].sort().equals(df["media_url"].sort())
    # A store and an archive (which unifies the raw rows it reads) hold the same URLs.
    span = {"since": "2025-06-01", "until": "2026-03-01"}
    stored = ra.load_signalwire_recordings(store=ra.Store(tmp_path / "store"), **span, **options)
    same = df.join(stored, on="recording_id", suffix="_stored")
    assert same.height == stored.height > 0
    assert same["media_url"].equals(same["media_url_stored"])
    archive("signalwire", tmp_path / "archive", **options)
    archived = pl.read_parquet(tmp_path / "archive" / "recordings.parquet")
    assert archived["media_url"].sort().equals(df["media_url"].sort())
    r = next(r for r in records(box) if r.status == "completed")
    one = get_signalwire_recording(r.sid, **options)["media_url"][0]
    assert one == df.filter(pl.col("recording_id") == r.sid)["media_url"][0]

    async def fetch(url: str) -> httpx.Response:
        async with httpx.AsyncClient(transport=options["transport"]) as client:
            return await client.get(url)

    assert asyncio.run(fetch(one)).content.startswith(b"RIFF")


def test_a_uri_that_is_no_json_resource_path_gives_the_records_own_media_url(
    box: Sandbox,
) -> None:
    # Such a uri was used as it came: media URLs ".wav", "42.wav", "Accounts/x/….wav" (no
    # host), or "….JSON.wav".
    def odd_uris(body: Any) -> Any:
        forms = ["", "42", "Accounts/x/Recordings/abc.json", " /a/b.json", "/a/b.json.txt"]
        for record, form in zip(body["recordings"], itertools.cycle(forms), strict=False):
            record["uri"] = form
        upper = body["recordings"][-1]
        upper["uri"] = f"{API}/Accounts/{PROJECT_ID}/Recordings/{upper['sid']}.JSON"
        return body

    options = box.options("signalwire") | {"transport": Rewrite(box.transport, odd_uris)}
    df = load_signalwire_recordings(**options)
    assert df.height == len(records(box))
    own = f"http://sandbox.invalid{API}/Accounts/{PROJECT_ID}/Recordings/"
    assert df["media_url"].to_list() == [f"{own}{sid}.wav" for sid in df["recording_id"]]
    # Under the LaML root as the base URL, the record's own path is not asked twice.
    laml = options | {"base_url": IN_PROCESS_URL + "/api/laml"}
    assert load_signalwire_recordings(**laml)["media_url"].equals(df["media_url"])


def test_space_from_the_credentials_is_the_default_host() -> None:
    creds = SignalWireCredentials(**CREDENTIALS)
    assert SIGNALWIRE.default_base_url(creds) == "https://sandbox.signalwire.com"
    seen: list[httpx.URL] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url)
        return httpx.Response(200, json={"recordings": [], "next_page_uri": None})

    df = load_signalwire_recordings(
        credentials=CREDS, transport=httpx.MockTransport(handler), page_size=5
    )
    assert df.height == 0 and df.schema == ra.SCHEMA
    assert str(seen[0]).startswith(f"https://example.signalwire.com{API}/Accounts/{PROJECT}/")


# --- the sandbox's own rules -----------------------------------------------------------------


def sandbox_get(box: Sandbox, path: str, params: list[tuple[str, str]], auth: Any = None) -> Any:
    async def go() -> httpx.Response:
        async with httpx.AsyncClient(transport=box.transport, auth=auth) as client:
            return await client.get("http://sandbox.invalid" + path, params=params)

    return asyncio.run(go())


def test_sandbox_answers_like_signalwire(fresh_box: Sandbox) -> None:
    auth = (CREDENTIALS["project_id"], CREDENTIALS["api_token"])
    too_big = sandbox_get(fresh_box, LIST, [("PageSize", "1001")], auth)
    assert too_big.status_code == 400 and "PageSize" in too_big.json()["errors"][0]["message"]
    assert sandbox_get(fresh_box, LIST, [("PageSize", "0")], auth).status_code == 400
    bad_date = sandbox_get(fresh_box, LIST, [("DateCreated>", "yesterday")], auth)
    assert bad_date.status_code == 400
    denied = sandbox_get(fresh_box, LIST, [], (PROJECT_ID, "wrong"))
    assert denied.status_code == 401
    assert set(denied.json()) == {"code", "message", "more_info", "status"}
    page = sandbox_get(fresh_box, LIST, [("PageSize", "3")], auth).json()
    assert page["next_page_uri"].startswith(f"{API}/Accounts/{PROJECT_ID}/Recordings?")
    created = [r["date_created"] for r in page["recordings"]]
    moments = [dt.datetime.strptime(c, "%a, %d %b %Y %H:%M:%S %z") for c in created]
    assert moments == sorted(moments, reverse=True)  # newest first
    one_day = sandbox_get(
        fresh_box, LIST, [("DateCreated", "Mon, 12 Oct 2026 00:00:00 +0000")], auth
    )
    days = {r["date_created"][5:16] for r in one_day.json()["recordings"]}
    assert days <= {"12 Oct 2026"}


# --- errors and bad input --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "parameter"),
    [
        ({"page_size": 0}, "page_size"),
        ({"page_size": 1001}, "page_size"),
        ({"call_sid": "CA" + "0" * 32}, "call_sid"),
        ({"conference_sid": "not-a-uuid"}, "conference_sid"),
        ({"media_format": "ogg"}, "media_format"),
        ({"since": "2026-02-01", "until": "2026-01-01"}, "since/until"),
        ({"until": 20260101}, "until"),
        ({"created_on": "2026-13-01"}, "created_on"),
        ({"created_on": "yesterday"}, "created_on"),
        ({"created_on": dt.datetime(2026, 1, 5, 12)}, "created_on"),
        ({"created_on": 20260105}, "created_on"),
        ({"created_on": "1969-12-31"}, "created_on"),
        ({"created_on": "2026-01-05", "since": "2026-01-01"}, "created_on"),
    ],
)
def test_bad_input_is_rejected_before_any_request(
    box: Sandbox, kwargs: dict[str, Any], parameter: str
) -> None:
    with rejected_before_any_request(box, parameter):
        load_signalwire_recordings(**kwargs, **box.options("signalwire"))


@pytest.mark.parametrize("as_date", [False, True])
def test_created_on_loads_the_recordings_of_that_utc_day(box: Sandbox, as_date: bool) -> None:
    # The API's DateCreated filter (api-contracts.md, section 5) had no keyword.
    day = records(box)[len(records(box)) // 2].created.astimezone(UTC).date()
    df = load_signalwire_recordings(
        created_on=day if as_date else day.isoformat(), **box.options("signalwire")
    )
    expected = truth(box, lambda r: r.created.astimezone(UTC).date() == day)
    assert expected and set(df["recording_id"]) == expected and df.height == len(expected)


def test_get_one_recording_and_not_found(via: Any, box: Sandbox) -> None:
    r = records(box)[42]
    one = get_signalwire_recording(r.sid, **via("signalwire"))
    assert one.height == 1 and one["recording_id"][0] == r.sid
    with pytest.raises(NotFoundError) as info:
        get_signalwire_recording("00000000-0000-4000-8000-000000000000", **via("signalwire"))
    assert info.value.status == 404 and info.value.code == 20404
    before = box.requests
    with pytest.raises(ConfigError, match="UUID"):
        get_signalwire_recording("../Calls", **via("signalwire"))
    assert box.requests == before


async def test_async_getter_and_raw_columns(box: Sandbox) -> None:
    r = records(box)[0]
    one = await aget_signalwire_recording(r.sid, raw=True, **box.options("signalwire"))
    assert {"sid", "price", "source", "trim", "subresource_uris", "extra"} <= set(one.columns)
    assert one.schema["price"] == pl.Float64 and one.schema["channels"] == pl.Int8
    assert one["price"][0] is None or one["price"][0] < 0  # raw keeps the provider's sign


# --- documented shapes and odd data, through httpx.MockTransport --------------------------

URI = f"{API}/Accounts/{PROJECT}/Recordings/19e436af-5688-4307-b03b-bdb2b42b8142.json"
# A record with the fields of the seed's "Retrieve a Recording" page, in the current shape
# (duration an integer, channels/channel strings), and the same record in the older shape.
CURRENT = {
    "sid": "19e436af-5688-4307-b03b-bdb2b42b8142",
    "account_sid": PROJECT,
    "api_version": "2010-04-01",
    "call_sid": "3b9b2b35-1f2a-4c8e-9b6b-2f3e4d5c6b7a",
    "conference_sid": None,
    "channel": "2",
    "channels": "2",
    "date_created": "Wed, 26 Sep 2018 18:00:00 +0000",
    "date_updated": "Wed, 26 Sep 2018 18:00:04 +0000",
    "start_time": "Wed, 26 Sep 2018 18:00:00 +0000",
    "end_time": "Wed, 26 Sep 2018 18:00:04 +0000",
    "duration": 4,
    "price": "-0.0025",
    "price_unit": "USD",
    "source": "StartCallRecordingApi",
    "status": "completed",
    "error_code": None,
    "uri": URI,
    "subresource_uris": {"transcriptions": URI.removesuffix(".json") + "/Transcriptions.json"},
    "encryption_details": None,
    "trim": "do-not-trim",
}
OLDER = {key: value for key, value in CURRENT.items() if key != "channel"} | {
    "duration": "4",
    "channels": 1,
    "sid": "29e436af-5688-4307-b03b-bdb2b42b8142",
}


def mock(handler: Callable[[httpx.Request], httpx.Response]) -> dict[str, Any]:
    return {
        "transport": httpx.MockTransport(handler),
        "credentials": CREDS,
        "base_url": "https://example.signalwire.com",
        # One worker, so one window: these mocks answer every date range with the same pages.
        "max_concurrency": 1,
    }


def test_documented_record_shapes_parse_to_the_right_values() -> None:
    body = {"recordings": [CURRENT, OLDER], "next_page_uri": None, "page": 0, "page_size": 50}
    df = load_signalwire_recordings(**mock(lambda r: httpx.Response(200, json=body)))
    current, older = df.row(0, named=True), df.row(1, named=True)
    for row in (current, older):
        assert row["duration"] == dt.timedelta(seconds=4)
        assert row["created_at"] == dt.datetime(2018, 9, 26, 18, tzinfo=UTC)
        assert row["ended_at"] == dt.datetime(2018, 9, 26, 18, 0, 4, tzinfo=UTC)
        assert row["cost"] == 0.0025 and row["cost_unit"] == "USD"
        assert row["kind"] == "call" and row["group_id"] == CURRENT["call_sid"]
        assert row["status"] == "completed" and row["account_id"] == PROJECT
    assert current["channels"] == 2 and older["channels"] == 1
    assert current["media_url"] == "https://example.signalwire.com" + URI.replace(".json", ".wav")
    one = get_signalwire_recording(
        CURRENT["sid"],  # type: ignore[arg-type]
        **mock(
            # The record asked for, in the older shape (another sid is another record's answer).
            lambda r: httpx.Response(
                200,
                json=OLDER | {"sid": CURRENT["sid"], "call_sid": None, "conference_sid": "c"},
            )
        ),
    )
    assert one["kind"][0] == "conference" and one["group_id"][0] == "c"


def one_row(**changes: Any) -> dict[str, Any]:
    """The unified row of the CURRENT record with ``changes`` (None: no field)."""
    record = {k: v for k, v in (CURRENT | changes).items() if v is not None}
    body = {"recordings": [record], "next_page_uri": None, "page": 0, "page_size": 50}
    df = load_signalwire_recordings(**mock(lambda r: httpx.Response(200, json=body)))
    return df.row(0, named=True)


def test_the_media_url_keeps_no_query_of_the_resource_uri() -> None:
    # A uri "….json?Signature=abc&PageToken=PA1" gave "….json?Signature=…&PageToken=PA1.wav".
    row = one_row(uri=URI + "?Signature=abc&PageToken=PA1")
    assert row["media_url"] == "https://example.signalwire.com" + URI.replace(".json", ".wav")


def test_channels_of_the_older_schema_come_before_channel() -> None:
    assert one_row(channels=2, channel=1)["channels"] == 2
    assert one_row(channels=None, channel="1")["channels"] == 1


def test_a_duration_past_any_calendar_leaves_the_missing_start_unknown() -> None:
    # end_time - duration lands before year 1: the first look at the frame raised "year
    # -29671 is out of range". The length stays as stated, the start is not known.
    row = one_row(start_time=None, duration=10**12)
    assert row["started_at"] is None
    assert row["ended_at"] == dt.datetime(2018, 9, 26, 18, 0, 4, tzinfo=UTC)
    assert row["duration"] == dt.timedelta(seconds=10**12)


def test_surprising_values_never_crash_or_drop_rows() -> None:
    odd = [
        {"sid": "a", "duration": "4.0", "channels": "stereo", "price": "free", "status": "NEW"},
        {
            "sid": "b",
            "account_sid": "p",
            "date_created": "26 Sep 2018",
            "price": -1,
            "price_unit": "usd",
            "uri": None,
        },
        {"sid": None, "surprise": [1, 2]},
        ["not", "an", "object"],
    ]
    body = {"recordings": odd, "next_page_uri": None}
    with pytest.warns(LoadWarning, match="could not be read"):
        df = load_signalwire_recordings(**mock(lambda r: httpx.Response(200, json=body)))
    assert df.height == 4
    a, b = df.row(0, named=True), df.row(1, named=True)
    assert a["duration"] == dt.timedelta(seconds=4) and a["channels"] is None and a["cost"] is None
    assert a["status"] == "new"
    assert b["cost"] == 1 and b["cost_unit"] == "USD" and b["created_at"] is None
    assert b["media_url"].endswith("/Recordings/b.wav")


def test_error_list_form_is_mapped_to_provider_errors() -> None:
    body = {"errors": [{"code": 21205, "message": "PageSize too large", "more_info": "x"}]}
    with pytest.raises(ProviderError, match="PageSize too large") as info:
        load_signalwire_recordings(**mock(lambda r: httpx.Response(400, json=body)))
    assert info.value.code == 21205 and info.value.status == 400


@pytest.mark.parametrize(
    ("environ", "url"),
    [
        ({"SIGNALWIRE_SPACE": "example"}, "https://example.signalwire.com"),
        ({"SIGNALWIRE_SPACE_URL": "example.signalwire.com"}, "https://example.signalwire.com"),
        (
            {"SIGNALWIRE_SPACE_URL": "https://example.signalwire.com/"},
            "https://example.signalwire.com",
        ),
        (
            {"SIGNALWIRE_SPACE_URL": "https://example.signalwire.com/api/laml"},
            "https://example.signalwire.com",
        ),
        ({"SIGNALWIRE_SPACE_URL": "http://127.0.0.1:8080"}, "http://127.0.0.1:8080"),
    ],
)
def test_the_space_comes_from_either_variable_as_a_name_host_or_url(
    environ: dict[str, str], url: str
) -> None:
    base = {"SIGNALWIRE_PROJECT_ID": PROJECT, "SIGNALWIRE_API_TOKEN": "t"}
    assert SignalWireCredentials.from_env(base | environ).space_url == url


@pytest.mark.parametrize(
    "space",
    [
        "", "exa mple", "https://", "ftp://example.com", "a/../b",
        # No host name, requested as given before: an empty label, one of more than 63
        # characters, a host of more than 253, a label starting or ending with a hyphen.
        "example..signalwire.com", "a" * 64, "https://" + "a" * 64, ("a" * 63 + ".") * 4 + "com",
        "a" * 300, "-example", "example-.signalwire.com",
    ],
)  # fmt: skip
def test_a_malformed_space_is_a_credentials_error(space: str) -> None:
    with pytest.raises(ra.CredentialsError, match="space"):
        SignalWireCredentials(project_id=PROJECT, api_token="t", space=space)


def test_a_malformed_space_fails_a_load_before_any_request() -> None:
    sent: list[httpx.Request] = []
    transport = httpx.MockTransport(lambda r: (sent.append(r), httpx.Response(404))[1])
    credentials = {"project_id": PROJECT, "api_token": "t", "space": "example..signalwire.com"}
    with pytest.raises(ra.CredentialsError, match=r"SIGNALWIRE_SPACE.*63 letters, digits"):
        load_signalwire_recordings(credentials=credentials, transport=transport)
    assert sent == []


def test_a_project_id_refused_names_the_form_accepted() -> None:
    # The message said "a UUID" while "AC123" and "not-a-uuid" pass (the tests' own ids, such
    # as "p", are not UUIDs): it names what is accepted.
    assert SignalWireCredentials(project_id="AC123", api_token="t", space="x").project_id
    with pytest.raises(ra.CredentialsError) as info:
        SignalWireCredentials(project_id="../x", api_token="t", space="x")
    assert "SIGNALWIRE_PROJECT_ID" in str(info.value)
    assert "1 to 64 letters, digits or hyphens" in str(info.value)


def test_a_duration_in_other_digits_than_ascii_is_unreadable(box: Sandbox) -> None:
    # Decimal reads any script's digits: "٣" (Arabic-Indic three) was read as 3 seconds.
    def arabic_indic(body: Any) -> Any:
        body["recordings"][0]["duration"] = "\u0663"
        return body

    options = box.options("signalwire") | {"transport": Rewrite(box.transport, arabic_indic)}
    with pytest.warns(LoadWarning, match=r"duration: 1\)"):
        raw = load_signalwire_recordings(raw=True, page_size=1000, **options)
    assert raw.filter(pl.col("extra").str.contains("duration"))["duration"].to_list() == [None]


def test_the_sdk_path_form_without_api_laml_is_used_where_the_documented_one_is_404(
    box: Sandbox,
) -> None:
    paths: list[str] = []

    async def only_bare_paths(request: httpx.Request) -> httpx.Response:
        paths.append(request.url.path)
        if request.url.path.startswith("/api/laml/"):
            return httpx.Response(404, json={"code": 20404, "message": "not found", "status": 404})
        return await box.transport.handle_async_request(request)

    options = box.options("signalwire") | {"transport": httpx.MockTransport(only_bare_paths)}
    df = load_signalwire_recordings(**options)
    assert set(df["recording_id"]) == truth(box)
    assert any(p.startswith("/2010-04-01/Accounts/") for p in paths)
    sid = records(box)[0].sid
    assert get_signalwire_recording(sid, **options)["recording_id"].to_list() == [sid]
    with pytest.raises(NotFoundError):
        get_signalwire_recording(str(uuid.UUID(int=1)), **options)


def _by_the_day(moments: list[dt.datetime], page_size: int = 50) -> httpx.MockTransport:
    """A Recordings.json that reads DateCreated> / DateCreated< by the day, as Twilio's 2010
    API documents its own (from the date's midnight / before it), newest first, paged by a
    PageToken."""
    rows = sorted(((m, f"00000000-0000-4000-8000-{i:012x}") for i, m in enumerate(moments)))[::-1]

    def day_of(value: str) -> dt.datetime:
        parsed = email.utils.parsedate_to_datetime(value).astimezone(dt.UTC)
        return parsed.replace(hour=0, minute=0, second=0, microsecond=0)

    def handler(request: httpx.Request) -> httpx.Response:
        query = request.url.params
        kept = rows
        if "DateCreated>" in query:
            kept = [r for r in kept if r[0] >= day_of(query["DateCreated>"])]
        if "DateCreated<" in query:
            kept = [r for r in kept if r[0] < day_of(query["DateCreated<"])]
        offset = int(query.get("PageToken") or 0)
        page = kept[offset : offset + page_size]
        more = offset + page_size < len(kept)
        base = str(request.url.copy_remove_param("PageToken"))
        body = {
            "recordings": [
                {"sid": sid, "date_created": email.utils.format_datetime(m), "duration": 1}
                for m, sid in page
            ],
            "next_page_uri": f"{base}&PageToken={offset + page_size}" if more else None,
        }
        return httpx.Response(200, json=body)

    return httpx.MockTransport(handler)


@pytest.mark.parametrize(("rows", "concurrency"), [(220, 1), (20, None)])
def test_no_row_is_lost_by_a_server_reading_the_date_filters_by_the_day(
    rows: int, concurrency: int | None
) -> None:
    # DateCreated< with a time inside a day, read as "before that day", left out every row
    # from that day's midnight to until, silently. (Within a load the planner splits at other
    # times of day, and such a server would lose rows there too: see docs/loading.md.)
    since = dt.datetime(2025, 2, 27, tzinfo=dt.UTC)
    until = dt.datetime(2025, 3, 3, 12, tzinfo=dt.UTC)
    step = (until - since) / rows * 1.2
    moments = [since + step * i for i in range(rows)]
    options: dict[str, Any] = {
        "credentials": {"project_id": PROJECT_ID, "api_token": "PT" + "t" * 20, "space": "x"},
        "base_url": "https://x.signalwire.com",
        "transport": _by_the_day(moments),
        "page_size": 50,
    }
    if concurrency is not None:
        options["max_concurrency"] = concurrency
    df = ra.load_signalwire_recordings(since=since, until=until, rate_limit=1e4, **options)
    assert df.height == sum(since <= m < until for m in moments) > 0
    assert df["created_at"].max() >= dt.datetime(2025, 3, 3, tzinfo=dt.UTC)


def _newest_first(
    made: list[dt.datetime], shown: list[dt.datetime] | None = None
) -> tuple[httpx.MockTransport, list[httpx.Request]]:
    """A Recordings.json listing rows made at ``made`` newest first, reading ``DateCreated>`` /
    ``DateCreated<`` strictly at those times and sending ``date_created`` as ``shown`` (by
    default the same), paged by a PageToken; and the requests it answers."""
    shown = made if shown is None else shown
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        query = request.url.params
        after, before = query.get("DateCreated>"), query.get("DateCreated<")
        kept = [
            i
            for i in sorted(range(len(made)), key=made.__getitem__, reverse=True)
            if (after is None or made[i] > email.utils.parsedate_to_datetime(after))
            and (before is None or made[i] < email.utils.parsedate_to_datetime(before))
        ]
        offset, size = int(query.get("PageToken") or 0), int(query["PageSize"])
        base = str(request.url.copy_remove_param("PageToken"))
        body = {
            "recordings": [
                {
                    "sid": f"00000000-0000-4000-8000-{i:012x}",
                    "date_created": email.utils.format_datetime(shown[i]),
                    "duration": 1,
                }
                for i in kept[offset : offset + size]
            ],
            "next_page_uri": f"{base}&PageToken={offset + size}"
            if offset + size < len(kept)
            else None,
        }
        return httpx.Response(200, json=body)

    return httpx.MockTransport(handler), seen


NEWEST_FIRST = {
    "credentials": {"project_id": PROJECT_ID, "api_token": "PT" + "t" * 20, "space": "x"},
    "base_url": "https://x.signalwire.com",
    "rate_limit": 1e6,
}


def test_one_record_whose_time_reads_too_old_hides_no_row_listed_after_it() -> None:
    # The split's rest was cut from the last row of the window's first page, whose date_created
    # read two days older than its place in the list (a mislabelled zone): the rows listed
    # after it, newer than that, were taken as read (SignalWire's splits are not checked, its
    # list documented newest first), and 40 of 60 rows were lost without a word. The rest is
    # cut from the row before the last.
    base = dt.datetime(2026, 1, 10, 12, tzinfo=dt.UTC)
    made = [base - dt.timedelta(seconds=30 * i) for i in range(60)]
    shown = list(made)
    shown[19] = made[19] - dt.timedelta(days=2)  # the last row of the first page of 20
    transport, _ = _newest_first(made, shown)
    df = ra.load_signalwire_recordings(
        since="2025-12-01", until="2026-02-01", page_size=20, transport=transport, **NEWEST_FIRST
    )
    assert df.height == 60


def test_a_split_of_the_documented_newest_first_list_is_not_read_again() -> None:
    # api-contracts.md documents SignalWire's list as newest first: a window split on what its
    # pages showed is taken at its word, and the part they read is not asked for again
    # (Twilio's is: tests/test_planner.py).
    base = dt.datetime(2026, 1, 10, 12, tzinfo=dt.UTC)
    made = [base - dt.timedelta(minutes=30 * i) for i in range(600)]
    transport, seen = _newest_first(made)
    df = ra.load_signalwire_recordings(
        since="2025-12-01", until="2026-02-01", page_size=50, transport=transport, **NEWEST_FIRST
    )
    assert df.height == 600
    firsts = [r for r in seen if "PageToken" not in r.url.params]
    assert len(firsts) > 2  # the first window was split
    # Its pieces end at its cut or below (the next midnight after its page's rows, weeks before
    # until); a check of what its pages read would end where the window did.
    ends = [r.url.params.get("DateCreated<") for r in firsts]
    assert ends.count(firsts[0].url.params["DateCreated<"]) == 1


def test_pages_read_again_in_full_do_not_crash_the_frame() -> None:
    # De-duplication emptied the first page's chunk of the concatenated pages (its rows were
    # read again by a later window), and polars panicked (PanicException, which no
    # `except Exception` catches) on the media URL's coalesce + replace: with pages of 2, about
    # half of such loads crashed, without any fault.
    from recanalytics.providers.signalwire import LOADER

    box = Sandbox(seed=2702, size=300, start=dt.datetime(2026, 6, 1, tzinfo=dt.UTC),
                  end=dt.datetime(2026, 11, 1, tzinfo=dt.UTC))  # fmt: skip
    df = ra.load_signalwire_recordings(**box.options("signalwire"), page_size=2, rate_limit=1e6)
    raw = ra.load_signalwire_recordings(raw=True, **box.options("signalwire"))
    assert df.height == raw.height > 50
    first, rest = raw.head(2), raw.slice(2)
    pages = pl.concat([first, rest, first], rechunk=False)
    read_again = pages.filter(pl.col("sid").is_last_distinct())
    assert read_again["sid"].chunk_lengths()[0] == 0
    unified = LOADER.unify(read_again, box.options("signalwire"))
    assert unified["recording_id"].sort().equals(df["recording_id"].sort())


def test_an_echo_with_its_plus_left_unencoded_is_the_query_asked() -> None:
    # The RFC 2822 offset "+0000" echoed unencoded in `uri` reads back as " 0000": the same
    # query, not another one to ask again.
    asked: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        asked.append(request)
        query = "&".join(f"{k}={v}" for k, v in request.url.params.multi_items())
        body = {"recordings": [], "next_page_uri": None, "uri": f"{request.url.path}?{query}"}
        return httpx.Response(200, json=body)

    df = load_signalwire_recordings(since="2026-01-01", until="2026-01-02", **mock(handler))
    assert df.height == 0 and len(asked) == 1
    assert "+0000" in asked[0].url.params["DateCreated>"]


def test_since_mid_day_is_no_sign_of_a_server_ignoring_the_date_filters() -> None:
    # DateCreated> is sent from since's midnight (a server reading it by the day still reaches
    # since), so a full page of that morning's rows is answered as asked; it was taken for a
    # server ignoring the filters, and the whole account was read unfiltered (508 of 512
    # requests) with a false warning.
    box = Sandbox(seed=5, size=3000, providers=["signalwire"])
    every = ra.load_signalwire_recordings(**box.options("signalwire"))
    mornings = (
        every.filter(pl.col("created_at").dt.hour() < 12)
        .group_by(pl.col("created_at").dt.date().alias("day"))
        .len()
        .filter(pl.col("len") >= 3)
        .sort("day")
    )
    day = mornings["day"][0]
    since = dt.datetime.combine(day, dt.time(12), dt.UTC)
    until = since + dt.timedelta(days=2)
    box.app.reset_counts()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the false "does not apply the date filters"
        df = ra.load_signalwire_recordings(
            since=since, until=until, page_size=2, rate_limit=1e6, **box.options("signalwire")
        )
    want = every.filter(pl.col("created_at").is_between(since, until, closed="left"))
    assert df["recording_id"].sort().equals(want["recording_id"].sort())
    assert box.requests < 4 * (want.height + 3)


def test_a_missing_start_or_end_time_comes_from_the_other_and_the_duration() -> None:
    # The 2010 API's examples list start_time and duration only, SignalWire's own end_time
    # only: ended_at or started_at was null though the row said both.
    def record(i: int, **times: str) -> dict[str, Any]:
        return {"sid": f"00000000-0000-0000-0000-{i:012x}", "duration": "60",
                "date_created": "Mon, 05 Jan 2026 10:00:00 +0000", **times}  # fmt: skip

    records = [
        record(1, start_time="Mon, 05 Jan 2026 10:00:00 +0000"),
        record(2, end_time="Mon, 05 Jan 2026 10:05:00 +0000"),
        record(3, start_time="Fri, 31 Dec 9999 23:59:00 +0000"),  # no end inside the calendar
    ]
    body = {"recordings": records, "next_page_uri": None}
    df = load_signalwire_recordings(
        credentials=SignalWireCredentials(**CREDENTIALS),
        transport=httpx.MockTransport(lambda request: httpx.Response(200, json=body)),
        base_url="https://example.signalwire.com",
    ).sort("recording_id")
    at = functools.partial(dt.datetime, 2026, 1, 5, tzinfo=dt.UTC)
    assert df["started_at"].to_list()[:2] == [at(10, 0), at(10, 4)]
    assert df["ended_at"].to_list() == [at(10, 1), at(10, 5), None]
