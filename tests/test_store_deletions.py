"""Recordings a provider deletes by dropping them from its listing (Plivo, SignalWire): a refresh
or ``store=`` load that lists their period completely marks the stored rows deleted, and
``store=`` answers what a load gives plus the rows it marked. Zoom's files are never marked.

They stayed ``completed`` in the store for good: the refresh only upserted what it listed, so
``store=`` kept answering a recording the provider no longer had (~9% of a simulated year's
Plivo and SignalWire answers).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import polars as pl
import pytest

import recanalytics as ra
from recanalytics import Store
from recanalytics.sandbox import Sandbox
from tests.faults import FaultTransport, Json, State

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
DAY = dt.timedelta(days=1)
DROPPING = ["plivo", "signalwire"]
LOADERS: dict[str, Callable[..., pl.DataFrame]] = {
    "plivo": ra.load_plivo_recordings,
    "signalwire": ra.load_signalwire_recordings,
    "zoom": ra.load_zoom_recordings,
    "twilio": ra.load_twilio_recordings,
}


def recent_box(provider: str, start: dt.datetime) -> Sandbox:
    """A dataset from ``start`` to a day ago: a refresh now reaches its newest recordings."""
    return Sandbox(seed=3, size=300, providers=[provider], start=start, end=NOW - DAY)


def deletable(rows: pl.DataFrame) -> pl.DataFrame:
    """Rows the provider can delete: with an id of its own (not a Zoom CC or TIMELINE file's
    derived one), newest first."""
    own = ~pl.col("recording_id").str.starts_with("derived-")
    return rows.filter(own).sort("created_at", descending=True)


def stored_row(store: Store, recording_id: str) -> dict[str, Any]:
    (row,) = store.read().filter(pl.col("recording_id") == recording_id).to_dicts()
    return row


def load_again(store: Store, box: Sandbox, provider: str, how: str) -> None:
    """The second look at the provider: a refresh, or a ``store=`` top-up of the same range."""
    if how == "refresh":
        store.refresh([provider], **box.load_options())
    else:
        LOADERS[provider](since=box.config.start, store=store, **box.options(provider))


@pytest.mark.parametrize("how", ["refresh", "store="])
@pytest.mark.parametrize("provider", DROPPING)
def test_a_recording_deleted_inside_the_window_is_marked_and_answered_as_deleted(
    tmp_path: Path, provider: str, how: str
) -> None:
    box = recent_box(provider, NOW - dt.timedelta(days=300))
    store = Store(tmp_path, overlap=dt.timedelta(days=3))
    if how == "refresh":
        store.refresh([provider], since=box.config.start, **box.load_options())
    else:
        LOADERS[provider](since=box.config.start, store=store, **box.options(provider))
    rows = deletable(store.read())
    inside = rows["recording_id"][0]  # the newest: within the overlap the next look reloads
    outside = rows["recording_id"][-1]  # ~300 days old: no look reaches it again
    assert rows["created_at"][-1] < NOW - dt.timedelta(days=100)
    before = stored_row(store, outside)
    box[provider].delete(inside)
    box[provider].delete(outside)

    load_again(store, box, provider, how)

    gone = stored_row(store, inside)  # kept: history is not destroyed
    assert (gone["status"], gone["deleted_at"]) == ("deleted", None)
    assert stored_row(store, outside) == before  # its period was not listed again
    since = NOW - dt.timedelta(days=95)  # a range the provider was asked about again
    answer = LOADERS[provider](since=since, store=store, **box.options(provider))
    fresh = LOADERS[provider](since=since, **box.options(provider))
    # A load's frame plus the row marked deleted (kept: a provider may list "deleted" itself).
    marked = answer.filter(pl.col("recording_id") == inside)
    assert marked["status"].to_list() == ["deleted"]
    assert answer.filter(pl.col("recording_id") != inside).equals(fresh)


@pytest.mark.parametrize("provider", DROPPING)
def test_a_refresh_counts_what_it_marked_and_a_recording_listed_again_is_restored(
    tmp_path: Path, provider: str
) -> None:
    box = recent_box(provider, NOW - dt.timedelta(days=60))
    store = Store(tmp_path, overlap=dt.timedelta(days=3))
    store.refresh([provider], since=box.config.start, **box.load_options())
    victim = deletable(store.read())["recording_id"][0]
    listed = stored_row(store, victim)
    box[provider].delete(victim)
    report = store.refresh([provider], **box.load_options())
    assert report.inserted == 0 and report.updated == 1
    assert stored_row(store, victim)["status"] == "deleted"
    assert store.refresh([provider], **box.load_options()).updated == 0  # marked once
    # Listed again, it is stored as listed.
    store.upsert(pl.DataFrame([listed], schema=ra.SCHEMA))
    assert stored_row(store, victim) == listed


def quarter_start(when: dt.datetime) -> dt.datetime:
    return dt.datetime(when.year, (when.month - 1) // 3 * 3 + 1, 1, tzinfo=dt.UTC)


@pytest.mark.parametrize("provider", DROPPING)
def test_a_chunk_that_fails_marks_nothing_and_the_chunks_before_it_still_mark(
    tmp_path: Path, provider: str
) -> None:
    # The second refresh loads three quarter chunks: [start, q1) completes, [q1, q2) fails
    # (every answer listing one of its recordings loses its connection), [q2, now) never runs.
    q2 = quarter_start(NOW)
    q1 = quarter_start(q2 - DAY)
    start = quarter_start(q1 - DAY) + dt.timedelta(days=45)
    box = recent_box(provider, start - dt.timedelta(days=60))
    store = Store(tmp_path)
    store.refresh([provider], since=box.config.start, **box.load_options())
    rows = deletable(store.read())
    created = pl.col("created_at")
    early = rows.filter(created.is_between(start + DAY, q1 - DAY))["recording_id"]
    middle = rows.filter(created.is_between(q1 + 3 * DAY, q2 - 3 * DAY))["recording_id"]
    assert len(early) >= 1 and len(middle) >= 2
    marked, spared, marker = early[0], middle[0], middle[1]
    box[provider].delete(marked)
    box[provider].delete(spared)

    def lose_connection(body: Any, request: httpx.Request, state: State) -> Any:
        if marker in json.dumps(body):
            raise httpx.ReadError("connection reset by peer", request=request)
        return body

    failing = FaultTransport(box.transport, Json(lose_connection, "lost"), lambda seen: True)
    newest = store.read()["created_at"].max()
    assert isinstance(newest, dt.datetime)
    # The overlap that makes this refresh start at ``start``.
    again = Store(tmp_path, overlap=newest - start)
    options = box.load_options() | {"transport": failing, "retry": ra.RetryPolicy(max_retries=0)}
    with pytest.warns(ra.LoadWarning, match="refresh stopped"):
        report = again.refresh([provider], **options)
    assert provider in report.errors and report.rows[provider].updated == 1
    assert stored_row(store, marked)["status"] == "deleted"
    assert stored_row(store, spared)["status"] != "deleted"  # its chunk failed
    # A store= load failing in that chunk marks nothing either.
    loader_options = box.options(provider) | {
        "transport": failing,
        "retry": ra.RetryPolicy(max_retries=0),
    }
    with pytest.raises(ra.ProviderError):
        LOADERS[provider](since=q1, until=q2, store=again, **loader_options)
    assert stored_row(store, spared)["status"] != "deleted"


def test_rows_outside_the_period_or_without_an_id_a_date_or_the_source_are_never_marked(
    tmp_path: Path,
) -> None:
    store = Store(tmp_path)
    at = dt.datetime(2026, 3, 10, tzinfo=dt.UTC)
    since, until = dt.datetime(2026, 3, 1, tzinfo=dt.UTC), dt.datetime(2026, 4, 1, tzinfo=dt.UTC)
    rows = [
        ("gone", at, "MA1", "call"),
        ("listed", at, "MA1", "call"),
        (None, at, "MA1", "call"),  # no id: cannot be matched
        ("undated", None, "MA1", "call"),  # no created_at: in no period
        ("before", since - dt.timedelta(microseconds=1), "MA1", "call"),
        ("at-until", until, "MA1", "call"),
        ("other-account", at, "MA2", "call"),
        ("other-kind", at, "MA1", "conference"),
    ]
    frame = pl.DataFrame(
        {
            "provider": ["plivo"] * len(rows),
            "recording_id": [r[0] for r in rows],
            "created_at": [r[1] for r in rows],
            "account_id": [r[2] for r in rows],
            "kind": [r[3] for r in rows],
            "status": ["completed"] * len(rows),
        }
    )
    store.upsert(frame)
    marked = store.mark_unlisted(
        "plivo", since, until, ["listed"], kinds=["call"], accounts=["MA1"]
    )
    assert marked == 1
    statuses = dict(store.read().select("recording_id", "status").iter_rows())
    assert statuses.pop("gone") == "deleted"
    assert set(statuses.values()) == {"completed"}
    assert store.mark_unlisted("plivo", since, until, ["listed"]) == 2  # any kind, account
    with pytest.raises(ra.ConfigError, match="until"):
        store.mark_unlisted("plivo", since, until.replace(tzinfo=None), [])


def test_mark_unlisted_leaves_a_row_created_at_until_inside_the_month(tmp_path: Path) -> None:
    # until is exclusive: a listing of [since, until) says nothing of a row created at until,
    # here in the same month file as the period's rows.
    store = Store(tmp_path)
    since, until = dt.datetime(2026, 3, 1, tzinfo=dt.UTC), dt.datetime(2026, 3, 20, tzinfo=dt.UTC)
    at = {
        "at-since": since,
        "before-until": until - dt.timedelta(microseconds=1),
        "at-until": until,
    }
    frame = pl.DataFrame(
        {
            "provider": ["plivo"] * len(at),
            "recording_id": list(at),
            "created_at": list(at.values()),
            "status": ["completed"] * len(at),
        }
    )
    store.upsert(frame)
    assert store.mark_unlisted("plivo", since, until, []) == 2
    statuses = dict(store.read().select("recording_id", "status").iter_rows())
    assert statuses == {"at-since": "deleted", "before-until": "deleted", "at-until": "completed"}


def test_twilio_lists_its_deleted_recordings_and_its_rows_are_never_marked_by_absence(
    tmp_path: Path,
) -> None:
    box = recent_box("twilio", NOW - dt.timedelta(days=60))
    store = Store(tmp_path, overlap=dt.timedelta(days=3))
    store.refresh(["twilio"], since=box.config.start, **box.load_options())
    tracks = store.read().filter(pl.col("kind") == "track")
    newest = deletable(tracks)["recording_id"][:2].to_list()
    emulator = box["twilio"]
    deleted, vanished = (emulator.tracks_by_sid[sid] for sid in newest)
    deleted.status, deleted.deleted = "deleted", NOW - dt.timedelta(minutes=5)
    emulator.tracks.remove(vanished)  # not what Twilio does: its rows say so themselves
    before = stored_row(store, vanished.sid)
    store.refresh(["twilio"], **box.load_options())
    assert stored_row(store, deleted.sid)["status"] == "deleted"
    assert stored_row(store, vanished.sid) == before
    answer = ra.load_twilio_recordings(since=box.config.start, store=store, **box.options("twilio"))
    assert answer.filter(pl.col("recording_id") == deleted.sid)["status"].to_list() == ["deleted"]


@pytest.mark.parametrize("how", ["refresh", "store="])
def test_zoom_files_are_never_marked_deleted_by_absence(tmp_path: Path, how: str) -> None:
    # A session listed without its file lists marked its stored files deleted (a reviewer's
    # repro), and Zoom rows name no account: a file not listed proves nothing.
    box = recent_box("zoom", NOW - dt.timedelta(days=60))
    store = Store(tmp_path, overlap=dt.timedelta(days=3))
    store.refresh(["zoom"], since=box.config.start, **box.load_options())
    victim = deletable(store.read())["recording_id"][0]
    before = stored_row(store, victim)
    box["zoom"].delete(victim)  # moved to the trash: gone from the list
    load_again(store, box, "zoom", how)
    assert stored_row(store, victim) == before


def test_a_row_the_provider_lists_as_deleted_is_in_store_answers(tmp_path: Path) -> None:
    # Leaving every "deleted" row of such a provider out of store= answers dropped rows a load
    # gives (SignalWire copies Twilio Voice's status "deleted").
    box = recent_box("signalwire", NOW - dt.timedelta(days=30))
    for recording in list(box["signalwire"].by_sid.values())[:3]:
        recording.status = "deleted"
    plain = ra.load_signalwire_recordings(since=box.config.start, **box.options("signalwire"))
    assert plain.filter(pl.col("status") == "deleted").height == 3
    store = Store(tmp_path)
    options = box.options("signalwire")
    answer = ra.load_signalwire_recordings(since=box.config.start, store=store, **options)
    again = ra.load_signalwire_recordings(since=box.config.start, store=store, **options)
    assert answer.equals(plain) and again.equals(plain)


def test_mark_unlisted_refuses_a_lone_id_and_reads_any_time_zone(tmp_path: Path) -> None:
    from zoneinfo import ZoneInfo

    store = Store(tmp_path)
    at = dt.datetime(2026, 3, 10, tzinfo=dt.UTC)
    frame = pl.DataFrame(
        {
            "provider": ["plivo"] * 2,
            "recording_id": ["kept", "gone"],
            "created_at": [at, at],
            "account_id": ["MA1", "MA1"],
            "kind": ["call", "call"],
            "status": ["completed"] * 2,
        }
    )
    store.upsert(frame)
    paris = ZoneInfo("Europe/Paris")
    since, until = dt.datetime(2026, 3, 1, tzinfo=paris), dt.datetime(2026, 4, 1, tzinfo=paris)
    for lone in ("kept", b"kept", None, [None]):
        with pytest.raises(ra.ConfigError, match="listed"):
            store.mark_unlisted("plivo", since, until, lone)  # type: ignore[arg-type]
    assert store.read().filter(pl.col("status") == "deleted").height == 0
    assert store.mark_unlisted("plivo", since, until, ["kept"]) == 1
