"""A store loaded from several accounts or hosts: each one's rows complete, none answered for
another's (coverage, checkpoints and the newest row are kept per account and host)."""

from __future__ import annotations

import base64
import datetime as dt
import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode

import httpx
import polars as pl
import pytest

import recanalytics as ra
from recanalytics import Store
from recanalytics.sandbox import Sandbox

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
HOST = "http://twilio.test"
A, B = "AC" + "a" * 32, "AC" + "b" * 32
TOKENS = {A: "token-of-a", B: "token-of-b"}


def stamp(when: dt.datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


class Twilio:
    """Twilio's track list for several accounts, each seeing its own recordings only."""

    def __init__(self, host: str = HOST) -> None:
        self.host = host
        self.tracks: dict[str, list[dict[str, Any]]] = {A: [], B: []}
        self.requests = 0

    def add(self, account: str, number: int, created: dt.datetime) -> str:
        sid = f"RT{number:032x}"
        self.tracks[account].append(
            {
                "sid": sid,
                "account_sid": account,
                "date_created": stamp(created),
                "status": "completed",
                "type": "audio",
                "codec": "opus",
                "container": "mka",
                "size": 1000,
                "duration": 10,
                "offset": 0,
                "grouping_sids": {"room_sid": "RM" + "0" * 32, "participant_sid": "PA" + "0" * 32},
                "source_sid": "MT" + "0" * 32,
                "track_name": "t",
                "url": f"{self.host}/v1/Recordings/{sid}",
                "links": {"media": f"{self.host}/v1/Recordings/{sid}/Media"},
            }
        )
        return sid

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        user, _, secret = (
            base64.b64decode(request.headers["authorization"].split()[1]).decode().partition(":")
        )
        if TOKENS.get(user) != secret:
            return httpx.Response(401, json={"code": 20003, "message": "Authenticate"})
        key = {"/v1/Recordings": "recordings", "/v1/Compositions": "compositions"}.get(
            request.url.path
        )
        if key is None:
            return httpx.Response(404, json={"code": 20404, "message": "not found"})
        query = {k: v[0] for k, v in parse_qs(request.url.query.decode()).items()}
        after = query.get("DateCreatedAfter", "").replace("+00:00", "Z")
        before = query.get("DateCreatedBefore", "").replace("+00:00", "Z")
        rows = self.tracks[user] if key == "recordings" else []
        chosen = sorted(
            (
                r
                for r in rows
                if after <= r["date_created"] and (not before or r["date_created"] < before)
            ),
            key=lambda r: r["date_created"],
            reverse=True,
        )
        size, page = int(query.get("PageSize", "50")), int(query.get("Page", "0"))
        following = None
        if (page + 1) * size < len(chosen):
            following = f"{self.host}{request.url.path}?" + urlencode(
                query | {"Page": str(page + 1), "PageToken": f"PT{page + 1}"}
            )
        meta = {
            "key": key,
            "page": page,
            "page_size": size,
            "next_page_url": following,
            "url": str(request.url),
            "first_page_url": str(request.url),
            "previous_page_url": None,
        }
        return httpx.Response(
            200, json={"meta": meta, key: chosen[page * size : (page + 1) * size]}
        )

    def options(self, account: str) -> dict[str, Any]:
        return {
            "credentials": {"twilio": {"account_sid": account, "auth_token": TOKENS[account]}},
            "base_url": self.host,
            "transport": httpx.MockTransport(self.handle),
        }

    def loader_options(self, account: str) -> dict[str, Any]:
        options = self.options(account)
        return options | {"credentials": options["credentials"]["twilio"]}


def two_accounts() -> Twilio:
    """Account A: 20 recordings over 200 days; B: 10, older and sparser."""
    twilio = Twilio()
    for i in range(20):
        twilio.add(A, i, NOW - dt.timedelta(days=200 - i * 10))
    for i in range(10):
        twilio.add(B, 100 + i, NOW - dt.timedelta(days=300 - i * 20))
    return twilio


def by_account(frame: pl.DataFrame) -> dict[str, int]:
    return dict(frame.group_by("account_id").len().iter_rows())


def test_two_accounts_refreshed_into_one_store_each_keep_every_row(tmp_path: Path) -> None:
    # B's refresh started at A's newest row minus the overlap: none of B's 10 rows was stored.
    twilio = two_accounts()
    store = Store(tmp_path)
    since = NOW - dt.timedelta(days=400)
    store.refresh(["twilio"], since=since, **twilio.options(A))
    report = store.refresh(["twilio"], since=since, **twilio.options(B))
    assert report.inserted == 10 and not report.errors
    assert by_account(store.read()) == {A: 20, B: 10}
    # Each account's next refresh starts from its own newest row, not the other's.
    twilio.add(B, 200, NOW - dt.timedelta(days=60))  # older than A's newest, newer than B's
    assert store.refresh(["twilio"], **twilio.options(B)).inserted == 1
    assert store.refresh(["twilio"], **twilio.options(A)).inserted == 0


def test_store_option_answers_the_asking_account_only(tmp_path: Path) -> None:
    # B was answered A's 20 rows from the store, and none of its own.
    twilio = two_accounts()
    store = Store(tmp_path)
    since = NOW - dt.timedelta(days=400)
    got_a = ra.load_twilio_recordings(since=since, store=store, **twilio.loader_options(A))
    got_b = ra.load_twilio_recordings(since=since, store=store, **twilio.loader_options(B))
    assert by_account(got_a) == {A: 20} and by_account(got_b) == {B: 10}
    twilio.requests = 0
    again = ra.load_twilio_recordings(since=since, store=store, **twilio.loader_options(A))
    assert by_account(again) == {A: 20} and twilio.requests <= 2  # the overlap, no more
    assert by_account(ra.load(["twilio"], since=since, store=store, **twilio.options(B))) == {B: 10}


def test_a_sandbox_then_a_real_account_on_another_host_are_kept_apart(tmp_path: Path) -> None:
    # Following the docs (sandbox first, then one's own account into the same folder) kept 6
    # of the 30 real recordings and answered sandbox rows mixed with real ones.
    box = Sandbox(seed=7, size=50, providers=["twilio"])
    store = Store(tmp_path)
    store.refresh(["twilio"], since="2026-01-01", **box.load_options())
    real = Twilio("https://video.example.test")
    for i in range(30):
        real.add(A, 1000 + i, NOW - dt.timedelta(days=300 - i * 10))
    report = store.refresh(["twilio"], **real.options(A))
    assert report.inserted == 30
    got = ra.load_twilio_recordings(
        since=NOW - dt.timedelta(days=400), store=store, **real.loader_options(A)
    )
    assert by_account(got) == {A: 30}


def test_coverage_of_the_format_before_accounts_is_not_trusted(tmp_path: Path) -> None:
    # A key without its account said nothing of whose rows it loaded: B must load its own.
    twilio = two_accounts()
    store = Store(tmp_path)
    since = NOW - dt.timedelta(days=400)
    ra.load_twilio_recordings(since=since, store=store, **twilio.loader_options(A))
    path = store.path / "_meta" / "coverage.json"
    covered = {"since": since.isoformat(), "until": NOW.isoformat()}
    path.write_text(json.dumps({"twilio:aload_twilio_recordings": covered, "twilio:*": covered}))
    got = ra.load_twilio_recordings(since=since, store=store, **twilio.loader_options(B))
    assert by_account(got) == {B: 10}
    assert store.refresh(["twilio"], since=since, **twilio.options(A)).inserted == 0
    assert "twilio:*" not in json.loads(path.read_text())  # dropped once rewritten


def test_coverage_keys_hold_no_secret_and_one_account_is_one_source() -> None:
    from recanalytics.incremental import source_of

    key_pair = {"api_key": "SK" + "1" * 32, "api_secret": "key-secret"}
    with_token = source_of("twilio", {"account_sid": A, "auth_token": "tok"}, None)
    with_key = source_of("twilio", {"account_sid": A, **key_pair}, None)
    assert with_token == with_key  # an API key and the auth token of one account
    assert source_of("twilio", key_pair, None) != with_token
    assert source_of("twilio", {"account_sid": A, "auth_token": "tok"}, HOST) != with_token
    assert source_of("twilio", {"account_sid": B, "auth_token": "tok"}, None) != with_token
    key = with_token.key("*")
    assert "tok" not in key and A not in key and key.startswith("twilio:*@")


def test_zoom_rows_of_another_account_or_host_are_refused_not_mixed(tmp_path: Path) -> None:
    # Zoom rows do not say their account: a second account's would be answered as the first's.
    box = Sandbox(seed=7, size=30, providers=["zoom"])
    store = Store(tmp_path)
    ra.load_zoom_recordings(since="2026-01-01", store=store, **box.options("zoom"))
    other = box.options("zoom") | {"base_url": "http://another.invalid"}
    before = box.requests
    with pytest.raises(ra.ConfigError, match="one Store per zoom account") as info:
        ra.load_zoom_recordings(since="2026-01-01", store=store, **other)
    assert info.value.parameter == "store"
    with pytest.raises(ra.ConfigError, match="store"):
        store.refresh(["zoom"], **box.load_options() | {"base_url": "http://another.invalid"})
    assert box.requests == before
    again = ra.load_zoom_recordings(since="2026-01-01", store=store, **box.options("zoom"))
    assert again.height == ra.load_zoom_recordings(since="2026-01-01", **box.options("zoom")).height


class ZoomFailsFrom(httpx.AsyncBaseTransport):
    """The sandbox's Zoom, answering 400 for every listing of a month from ``day`` on (a
    revoked key, an outage)."""

    def __init__(self, inner: httpx.AsyncBaseTransport, day: str) -> None:
        self.inner, self.day = inner, day

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        start = request.url.params.get("from")
        if request.url.path.endswith("/recordings") and start and start >= self.day:
            return httpx.Response(400, json={"code": 300, "message": "failed"}, request=request)
        return await self.inner.handle_async_request(request)


@pytest.mark.parametrize(
    "stored_by",
    ["a load that failed", "a refresh that failed", "trash", "a load that failed, earlier"],
)
def test_zoom_rows_stored_without_coverage_refuse_another_account_or_host(
    stored_by: str, tmp_path: Path
) -> None:
    # Only coverage was looked at, recorded once a whole load succeeds: after a first load
    # that failed part-way (its finished windows stored, a checkpoint), or a filtered load
    # (stored, never covered), a second Zoom account was let in, and its store= answer held
    # the first account's recordings as its own.
    # Seed 4: its trash holds files too.
    box = Sandbox(seed=4, size=60, providers=["zoom"], start="2026-01-01", end="2026-11-01")
    store = Store(tmp_path)
    failing = box.options("zoom") | {"transport": ZoomFailsFrom(box.transport, "2026-07-01")}
    if stored_by.startswith("a load that failed"):
        with pytest.raises(ra.ProviderError):
            ra.load_zoom_recordings(since="2026-01-01", store=store, **failing)
        if stored_by.endswith("earlier"):
            # A version before _meta/sources.json left only its checkpoint to say whose rows
            # they are.
            store.meta_path("sources.json").unlink()
    elif stored_by == "a refresh that failed":
        with pytest.warns(ra.LoadWarning, match="refresh stopped"):
            store.refresh(["zoom"], since="2026-01-01", **failing)
    else:
        ra.load_zoom_recordings(trash=True, store=store, **box.options("zoom"))
    assert store.read().height > 0
    assert not store.meta_path("coverage.json").exists()
    other = box.options("zoom") | {"base_url": "http://another.invalid"}
    before = box.requests
    with pytest.raises(ra.ConfigError, match="one Store per zoom account") as info:
        ra.load_zoom_recordings(since="2026-01-01", store=store, **other)
    assert info.value.parameter == "store"
    with pytest.raises(ra.ConfigError, match="one Store per zoom account"):
        ra.load_zoom_recordings(trash=True, store=store, **other)
    with pytest.raises(ra.ConfigError, match="store"):
        store.refresh(["zoom"], **other)
    assert box.requests == before
    # The account and host that stored them go on loading into it.
    again = ra.load_zoom_recordings(since="2026-01-01", store=store, **box.options("zoom"))
    assert again.height >= ra.load_zoom_recordings(since="2026-01-01", **box.options("zoom")).height


@pytest.mark.parametrize(
    "runs",
    [("load", "other load"), ("refresh", "other load"), ("other load", "refresh")],
    ids=["loads", "refresh-load", "load-refresh"],
)
def test_two_zoom_sources_storing_into_one_store_at_once_do_not_mix(
    runs: tuple[str, str], tmp_path: Path
) -> None:
    # Each run looks at the store before any request, when neither has stored a row yet: the
    # look again under the store's lock, as a run stores its rows, is what refuses the second
    # source (two processes, or two tasks of one, loading or refreshing into one store).
    import asyncio

    span = {"start": "2026-07-01", "end": "2026-10-01"}
    boxes = [Sandbox(seed=seed, size=12, providers=["zoom"], **span) for seed in (7, 8)]
    options = [boxes[0].options("zoom"), boxes[1].options("zoom")]
    options[1]["base_url"] = "http://another.invalid"
    since = "2026-07-01"
    ids = [set(ra.load_zoom_recordings(since=since, **o)["recording_id"]) for o in options]
    assert ids[0] and ids[1] and not ids[0] & ids[1]
    store = Store(tmp_path)

    def run(kind: str) -> Any:
        if kind == "refresh":
            return ra.arefresh(store, ["zoom"], since=since, **boxes[0].load_options())
        source = options[1] if kind == "other load" else options[0]
        return ra.aload_zoom_recordings(since=since, store=store, **source)

    async def both() -> list[Any]:
        return await asyncio.gather(*map(run, runs), return_exceptions=True)

    results = asyncio.run(both())
    refused = [r for r in results if isinstance(r, BaseException)]
    assert len(refused) == 1 and isinstance(refused[0], ra.ConfigError), results
    stored = set(store.read()["recording_id"])
    assert stored <= ids[0] or stored <= ids[1], "rows of both sources in one store"
    # The source whose rows the store does not hold stays refused.
    other = options[1] if stored <= ids[0] else options[0]
    with pytest.raises(ra.ConfigError, match="one Store per zoom account"):
        ra.load_zoom_recordings(since=since, store=store, **other)


class Retiring(httpx.AsyncBaseTransport):
    """The sandbox, until told to list nothing (200, empty page) or that the API is gone (410,
    as Twilio Video answers once retired)."""

    in_process = True

    def __init__(self, box: Sandbox) -> None:
        self.box = box
        self.mode = "up"
        self.requests = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        if self.mode == "up":
            return await self.box.transport.handle_async_request(request)
        if self.mode == "gone":
            gone = {"code": 20410, "message": "Programmable Video has been retired", "status": 410}
            return httpx.Response(410, json=gone)
        key = request.url.path.rsplit("/", 1)[-1].lower()  # recordings or compositions
        meta = {"key": key, "page": 0, "page_size": 50, "next_page_url": None}
        meta |= {"url": str(request.url), "first_page_url": str(request.url)}
        return httpx.Response(200, json={key: [], "meta": meta | {"previous_page_url": None}})


def retiring_twilio(
    tmp_path: Path, credentials: Any = None
) -> tuple[Store, Retiring, dict[str, Any]]:
    """A store filled by a refresh of the sandbox's Twilio (50 tracks, 2 compositions, from
    2025-06 to 2026-09), and loader options through a transport that can stop answering."""
    box = Sandbox(seed=7, size=50, providers=["twilio"])
    api = Retiring(box)
    options = box.options("twilio") | {"transport": api, "progress": False}
    if credentials is not None:
        options["credentials"] = credentials
    store = Store(tmp_path)
    report = store.refresh(
        ["twilio"],
        since="2025-01-01",
        **options | {"credentials": {"twilio": options["credentials"]}},
    )
    assert report.inserted == 52 and not report.errors
    return store, api, options


def test_an_empty_listing_never_hides_the_stored_rows(tmp_path: Path) -> None:
    # After a refresh, a store= load answered by an empty list returned 0 of the 50 stored rows,
    # and kept returning 0 after the API was back: its coverage recorded no account, and only
    # the rows of the accounts a key recorded were answered.
    store, api, options = retiring_twilio(tmp_path)
    api.mode = "empty"
    assert ra.load_twilio_recordings(since="2025-01-01", store=store, **options).height == 50
    older = ra.load_twilio_recordings(since="2024-01-01", store=store, **options)  # not covered
    assert older.height == 50
    api.mode = "up"
    assert ra.load_twilio_recordings(since="2025-01-01", store=store, **options).height == 50


def test_coverage_that_lost_its_accounts_still_answers_the_credentials_account(
    tmp_path: Path,
) -> None:
    # Coverage written by the version that recorded an empty listing as "accounts": [] answered
    # nothing from the store for the account the credentials name.
    store, api, options = retiring_twilio(tmp_path)
    path = store.path / "_meta" / "coverage.json"
    coverage = json.loads(path.read_text())
    path.write_text(json.dumps({k: v | {"accounts": []} for k, v in coverage.items()}))
    api.mode, api.requests = "gone", 0
    got = ra.load_twilio_recordings(since="2025-01-01", until="2026-09-01", store=store, **options)
    assert got.height == stored(store, "track", "2026-09-01") and api.requests == 0


def test_an_api_key_s_empty_listing_keeps_the_account_a_refresh_found(tmp_path: Path) -> None:
    # An API key alone does not name its account: what the refresh's rows said is kept.
    from recanalytics.sandbox.twilio import API_KEY

    store, api, options = retiring_twilio(tmp_path, credentials=API_KEY)
    api.mode = "empty"
    assert ra.load_twilio_recordings(since="2025-01-01", store=store, **options).height == 50


def test_store_option_reuses_what_a_refresh_loaded_and_outlives_a_retired_api(
    tmp_path: Path,
) -> None:
    # After a refresh, store= asked for the whole range again (10 requests) and, once the API
    # answered 410, raised with 0 rows in .partial although the store held all 50.
    store, api, options = retiring_twilio(tmp_path)
    api.requests = 0
    # Ending before the newest stored row's overlap, which a load would ask for again.
    past = {"since": "2025-01-01", "until": "2026-09-01"}
    tracks, compositions = stored(store, "track", past["until"]), stored(store, "composition")
    assert (tracks, compositions) == (45, 1)  # the sandbox's fixed data
    assert ra.load_twilio_recordings(**past, store=store, **options).height == tracks
    assert ra.load_twilio_compositions(**past, store=store, **options).height == compositions
    assert api.requests == 0
    api.mode = "gone"
    assert ra.load_twilio_recordings(**past, store=store, **options).height == tracks
    assert ra.load(["twilio"], **past, store=store, **options).height == tracks + compositions
    assert api.requests == 0
    # Up to now, the period since the refresh must be asked for: the error says what is stored.
    with pytest.raises(ra.ProviderError) as info:
        ra.load_twilio_recordings(since="2025-01-01", store=store, **options)
    assert info.value.status == 410
    message = str(info.value)
    assert "the store holds 50 rows of the range asked" in message
    assert "store.scan() or store.read()" in message
    assert "sandbox-twilio-auth-token" not in message
    # A filter is not answered from unfiltered coverage: it asks the API, as without a store.
    api.mode, api.requests = "up", 0
    completed = ra.load_twilio_recordings(**past, status="completed", store=store, **options)
    assert api.requests > 0 and completed.height <= 50


def stored(store: Store, kind: str, until: str = "2026-09-01") -> int:
    """How many stored rows of ``kind`` were made from 2025 until ``until``."""
    since, end = dt.datetime(2025, 1, 1, tzinfo=dt.UTC), dt.datetime.fromisoformat(until)
    rows = store.read().filter(pl.col("kind") == kind)
    return rows.filter(
        pl.col("created_at").is_between(since, end.replace(tzinfo=dt.UTC), closed="left")
    ).height


@pytest.mark.parametrize("provider", ["twilio", "plivo", "signalwire", "zoom"])
def test_the_credentials_name_the_account_as_the_rows_spell_it(provider: str) -> None:
    from recanalytics.incremental import source_of

    box = Sandbox(seed=7, size=20, providers=[provider])
    options = box.options(provider)
    source = source_of(provider, options["credentials"], options["base_url"])
    rows = ra.load(provider, since="2025-01-01", **box.load_options())
    assert rows["account_id"].unique().to_list() == [source.account_id]  # Zoom's: null, None


def test_a_store_an_older_version_filled_still_answers_once_the_api_is_gone(
    tmp_path: Path,
) -> None:
    # Coverage recorded before readings were (an older version's) is loaded again once; after
    # Twilio Video retired that reload answered 410 and store= raised, where the older version
    # had answered the stored rows.
    import json
    import warnings

    store, api, options = retiring_twilio(tmp_path)
    coverage = store.meta_path("coverage.json")
    recorded = json.loads(coverage.read_text())
    for entry in recorded.values():
        entry.pop("reading", None)
    coverage.write_text(json.dumps(recorded))
    past = {"since": "2025-01-01", "until": "2026-09-01"}
    tracks = stored(store, "track", past["until"])
    api.mode = "gone"
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        answer = ra.load_twilio_recordings(**past, store=store, **options)
    assert answer.height == tracks
    assert any("read by an older version" in str(w.message) for w in said)
    assert not any("sandbox-twilio-auth-token" in str(w.message) for w in said)
    # A range the store does not cover is still the provider's error.
    with pytest.raises(ra.ProviderError), warnings.catch_warnings():
        warnings.simplefilter("ignore", ra.LoadWarning)
        ra.load_twilio_recordings(since="2025-01-01", store=store, **options)
