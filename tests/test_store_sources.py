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
