"""The local store: layout, upserts, incremental refresh, resumable loads and store= loaders."""

from __future__ import annotations

import datetime as dt
import os
import random
import stat
from pathlib import Path
from typing import Any

import httpx
import polars as pl
import pytest

import recanalytics as ra
from recanalytics import Store
from recanalytics.incremental import quarter_chunks
from recanalytics.sandbox import Sandbox
from recanalytics.sandbox.common import hex_sid
from recanalytics.sandbox.twilio import Track
from tests.conftest import UNPACED

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)


def add_tracks(box: Sandbox, count: int, when: dt.datetime, seed: int = 0) -> list[str]:
    """Recordings that appear in the sandbox after a first load."""
    rng = random.Random(seed)
    emulator = box["twilio"]
    sids = []
    for _ in range(count):
        track = Track(
            created=when,
            sid=hex_sid(rng, "RT"),
            room_sid=hex_sid(rng, "RM"),
            participant_sid=hex_sid(rng, "PA"),
            source_sid=hex_sid(rng, "MT"),
            track_name="late",
            kind="audio",
            codec="OPUS",
            container="mka",
            duration=60,
            size=300_000,
            status="processing",
            offset=0,
            deleted=None,
        )
        emulator.tracks.add(track, track.key)
        emulator.tracks_by_sid[track.sid] = track
        sids.append(track.sid)
    return sids


def recent_twilio_box(days_quiet: int) -> Sandbox:
    """100 Twilio tracks made over the 60 days before now, the newest ``days_quiet`` ago."""
    return Sandbox(
        seed=2,
        size=100,
        providers=["twilio"],
        start=NOW - dt.timedelta(days=60),
        end=NOW - dt.timedelta(days=days_quiet),
    )


def refresh(store: Store, box: Sandbox, **kwargs: Any) -> Any:
    """Refresh from the dataset's start (a first run from 2015 would page years of nothing)."""
    kwargs.setdefault("since", box.config.start)
    return store.refresh(["twilio"], **box.load_options(), **kwargs)


def test_layout_is_hive_partitioned_private_and_readable_by_polars(tmp_path: Path) -> None:
    box = Sandbox(seed=2, size=300, providers=["twilio"])
    store = Store(tmp_path / "store")
    df = ra.load_twilio_recordings(**box.options("twilio"))
    report = store.upsert(df)
    assert (report.inserted, report.updated) == (300, 0)
    files = store.files()
    assert files and all(f.relative_to(store.path).parts[0] == "provider=twilio" for f in files)
    assert all(stat.S_IMODE(os.stat(f).st_mode) == 0o600 for f in files)
    assert store.scan().collect_schema() == ra.SCHEMA
    plain = pl.scan_parquet(str(store.path / "**" / "*.parquet"), hive_partitioning=True).collect()
    assert plain.height == 300 and {"provider", "year", "month"} <= set(plain.columns)
    assert store.read().sort("recording_id").equals(df.sort("recording_id"))


def test_upsert_reports_inserted_updated_unchanged(tmp_path: Path) -> None:
    df = ra.demo(size=200, rate_limit=UNPACED).filter(pl.col("provider") == "twilio")
    store = Store(tmp_path)
    store.upsert(df)
    changed = df.with_columns(
        status=pl.when(pl.col("status") == "processing")
        .then(pl.lit("completed"))
        .otherwise("status")
    )
    n_changed = df.filter(pl.col("status") == "processing").height
    report = store.upsert(changed.head(150))
    assert report.updated == df.head(150).filter(pl.col("status") == "processing").height
    assert report.inserted == 0 and report.unchanged == 150 - report.updated
    assert store.read().height == df.height
    assert n_changed >= report.updated


def test_rows_without_id_are_kept_once(tmp_path: Path) -> None:
    df = (
        ra.demo(size=100, rate_limit=UNPACED)
        .head(3)
        .with_columns(recording_id=pl.lit(None, pl.String))
    )
    store = Store(tmp_path)
    assert store.upsert(df).inserted == 3
    assert store.upsert(df).inserted == 0
    assert store.read().height == 3


def test_empty_store_scans_with_the_schema(tmp_path: Path) -> None:
    assert Store(tmp_path / "none").read().schema == ra.SCHEMA


def test_first_refresh_loads_everything_then_only_new_data(tmp_path: Path) -> None:
    box = Sandbox(seed=2, size=500, providers=["twilio"])
    store = Store(tmp_path)
    first = store.refresh(["twilio"], **box.load_options())  # no since: from 2015-01-01
    emulator = box["twilio"]
    everything = {t.sid for t in emulator.tracks.records} | {
        c.sid for c in emulator.compositions.records
    }
    assert first.inserted == len(everything) > 500 and not first.errors
    assert first.windows["twilio"][0] == dt.datetime(2015, 1, 1, tzinfo=dt.UTC)
    assert set(store.read()["recording_id"]) == everything

    box.app.reset_counts()
    again = refresh(store, box)
    assert (again.inserted, again.updated) == (0, 0)
    quiet_requests = box.requests

    new = add_tracks(box, 7, NOW - dt.timedelta(hours=1))
    box.app.reset_counts()
    third = refresh(store, box)
    assert third.inserted == 7
    assert set(new) <= set(store.read()["recording_id"])
    assert box.requests <= quiet_requests + 2  # one more page at most per window touched


def test_refresh_requests_grow_with_new_data_not_history(tmp_path: Path) -> None:
    counts = []
    for size in (200, 2000):
        box = Sandbox(seed=3, size=size, providers=["twilio"])
        store = Store(tmp_path / str(size))
        refresh(store, box)
        add_tracks(box, 5, NOW - dt.timedelta(minutes=30))
        box.app.reset_counts()
        assert refresh(store, box).inserted == 5
        counts.append(box.requests)
    assert counts[0] == counts[1]


def test_refresh_picks_up_status_changes_and_deletions_within_the_overlap(tmp_path: Path) -> None:
    box = Sandbox(seed=2, size=300, providers=["twilio"])
    sids = add_tracks(box, 3, NOW - dt.timedelta(days=1))
    store = Store(tmp_path, overlap=dt.timedelta(days=3))
    refresh(store, box)
    tracks = box["twilio"].tracks_by_sid
    tracks[sids[0]].status = "completed"
    tracks[sids[1]].status = "deleted"
    tracks[sids[1]].deleted = NOW - dt.timedelta(minutes=5)
    box["twilio"].tracks.invalidate()
    report = refresh(store, box)
    assert (report.inserted, report.updated) == (0, 2)
    stored = store.read().filter(pl.col("recording_id").is_in(sids)).sort("recording_id")
    by_id = dict(zip(stored["recording_id"], stored["status"], strict=True))
    assert by_id[sids[0]] == "completed" and by_id[sids[1]] == "deleted"


def test_a_recording_pending_longer_than_the_overlap_gets_its_final_status(
    tmp_path: Path,
) -> None:
    # A recording still processing 45 days after it was made was never listed again: the
    # refresh started 3 days before the newest row, and the store kept it processing.
    from recanalytics.incremental import PENDING_HORIZON

    box = recent_twilio_box(days_quiet=1)
    (sid,) = add_tracks(box, 1, NOW - dt.timedelta(days=45))
    (stale,) = add_tracks(box, 1, NOW - PENDING_HORIZON - dt.timedelta(days=30), seed=1)
    store = Store(tmp_path, overlap=dt.timedelta(days=3))
    refresh(store, box, since=NOW - dt.timedelta(days=200))
    loader_store, span = (
        Store(tmp_path / "loader", overlap=store.overlap),
        NOW - dt.timedelta(days=200),
    )
    ra.load_twilio_recordings(since=span, store=loader_store, **box.options("twilio"))
    box["twilio"].tracks_by_sid[sid].status = "completed"
    box["twilio"].tracks.invalidate()
    report = store.refresh(["twilio"], **box.load_options())
    assert store.read().filter(pl.col("recording_id") == sid)["status"].item() == "completed"
    # One stuck for longer than the horizon does not drag every refresh back to it.
    assert store.read().filter(pl.col("recording_id") == stale)["status"].item() == "processing"
    assert report.windows["twilio"][0] >= NOW - PENDING_HORIZON
    got = ra.load_twilio_recordings(since=span, store=loader_store, **box.options("twilio"))
    assert got.filter(pl.col("recording_id") == sid)["status"].item() == "completed"


class FailAfter(httpx.AsyncBaseTransport):
    """Passes ``limit`` requests to the sandbox, then fails every connection."""

    def __init__(self, inner: httpx.AsyncBaseTransport, limit: int) -> None:
        self.inner, self.limit, self.count = inner, limit, 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.count += 1
        if self.count > self.limit:
            raise httpx.ConnectError("injected crash", request=request)
        return await self.inner.handle_async_request(request)


def test_interrupted_refresh_resumes_with_only_the_missing_chunks(tmp_path: Path) -> None:
    box = Sandbox(seed=4, size=800, providers=["twilio"])
    since = "2025-01-01"
    full = Store(tmp_path / "full")
    refresh(full, box, since=since)
    full_requests = box.requests

    store = Store(tmp_path / "crash")
    options = box.load_options() | {"transport": FailAfter(box.transport, full_requests // 2)}
    no_retry = ra.RetryPolicy(max_retries=0)
    with pytest.warns(ra.LoadWarning, match="refresh again"):
        crashed = store.refresh(["twilio"], since=since, retry=no_retry, **options)
    assert "twilio" in crashed.errors
    assert (store.path / "_meta").exists() and any((store.path / "_meta").glob("checkpoint-*"))
    partial = store.read().height
    assert 0 < partial < 800

    box.app.reset_counts()
    resumed = refresh(store, box, since=since)
    assert not resumed.errors
    assert box.requests < full_requests * 0.75
    assert set(store.read()["recording_id"]) == set(full.read()["recording_id"])
    assert not any((store.path / "_meta").glob("checkpoint-*"))


def test_an_interrupted_first_refresh_resumes_without_its_since(tmp_path: Path) -> None:
    # Run again without the since it was started with, it walked history from 2015 and threw
    # the checkpoint away: 96 requests where 8 would do.
    box = Sandbox(seed=4, size=800, providers=["twilio"])
    since = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    full = Store(tmp_path / "full")
    refresh(full, box, since=since)
    full_requests = box.requests

    store = Store(tmp_path / "crash")
    options = box.load_options() | {"transport": FailAfter(box.transport, full_requests // 2)}
    with pytest.warns(ra.LoadWarning, match="refresh again"):
        store.refresh(["twilio"], since=since, retry=ra.RetryPolicy(max_retries=0), **options)
    box.app.reset_counts()
    resumed = store.refresh(["twilio"], **box.load_options())  # no since
    assert not resumed.errors and resumed.windows["twilio"][0] == since
    assert box.requests < full_requests * 0.75
    assert set(store.read()["recording_id"]) == set(full.read()["recording_id"])


def test_no_half_written_file_is_ever_visible(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.upsert(ra.demo(size=100, rate_limit=UNPACED))
    leftovers = [p for p in store.path.rglob("*") if p.name.endswith(".tmp")]
    assert leftovers == []


def test_loader_with_store_fetches_only_what_is_missing(tmp_path: Path) -> None:
    box = Sandbox(seed=6, size=400, providers=["twilio"])
    store = Store(tmp_path)
    since = box.config.start
    first = ra.load_twilio_recordings(since=since, store=store, **box.options("twilio"))
    first_requests = box.requests
    assert first.height == 400
    box.app.reset_counts()
    again = ra.load_twilio_recordings(since=since, store=store, **box.options("twilio"))
    assert again.sort("recording_id").equals(first.sort("recording_id"))
    assert box.requests < first_requests / 4
    filtered = ra.load_twilio_recordings(status="failed", store=store, **box.options("twilio"))
    assert set(filtered["status"]) == {"failed"}


@pytest.mark.parametrize("provider", ["twilio", "zoom"])
def test_a_store_answer_is_the_frame_a_load_gives_row_for_row(
    tmp_path: Path, provider: str
) -> None:
    # The store's files are kept oldest first; its answers came back in that order, so the
    # same call with and without store= gave frames that differed in every row's position.
    box = Sandbox(seed=6, size=200, providers=[provider])
    loader = {"twilio": ra.load_twilio_recordings, "zoom": ra.load_zoom_recordings}[provider]
    window = {"since": box.config.start, "until": box.config.end}
    plain = loader(**window, **box.options(provider))
    store = Store(tmp_path)
    assert loader(**window, store=store, **box.options(provider)).equals(plain)
    assert loader(**window, store=store, **box.options(provider)).equals(plain)  # covered


def test_a_media_format_load_with_store_never_restyles_the_stored_rows(tmp_path: Path) -> None:
    # media_format changes how SignalWire's rows read, not which rows: an mp3 store= load was
    # taken for a filtered one and upserted mp3 URLs over the stored wav rows, which the next
    # default (wav) call then answered from the store.
    box = Sandbox(seed=1, size=200, providers=["signalwire"])
    store = Store(tmp_path)
    span = {"since": "2025-06-01", "until": "2026-03-01", **box.options("signalwire")}
    wav = ra.load_signalwire_recordings(**span, store=store)
    mp3 = ra.load_signalwire_recordings(**span, store=store, media_format="mp3")
    again = ra.load_signalwire_recordings(**span, store=store)
    direct = ra.load_signalwire_recordings(**span, media_format="mp3")
    assert wav.height == mp3.height == again.height > 0
    assert set(again["container"]) == {"wav"} and again.equals(wav)
    assert set(store.scan("signalwire").collect()["container"]) == {"wav"}
    shown = ["recording_id", "media_url", "codec", "container"]
    assert mp3.select(shown).sort("recording_id").equals(direct.select(shown).sort("recording_id"))
    assert all(url.endswith(".mp3") for url in mp3["media_url"])
    before = box.requests
    with pytest.raises(ra.ConfigError, match="media_format"):
        ra.load_signalwire_recordings(**span, store=store, media_format="ogg")
    assert box.requests == before


def test_store_option_validation(tmp_path: Path) -> None:
    box = Sandbox(seed=6, size=10, providers=["twilio"])
    with pytest.raises(ra.ConfigError, match="store"):
        ra.load_twilio_recordings(store="here", **box.options("twilio"))  # type: ignore[arg-type]
    with pytest.raises(ra.ConfigError, match="raw"):
        ra.load_twilio_recordings(store=Store(tmp_path), raw=True, **box.options("twilio"))
    assert box.requests == 0


@pytest.mark.parametrize(
    ("bad", "parameter"),
    [
        ({"page_size": 0}, "page_size"),
        ({"page_size": 101}, "page_size"),
        ({"base_url": "ftp://x"}, "base_url"),
        ({"max_pages": -5}, "max_pages"),
        ({"rate_limit": -1}, "rate_limit"),
        ({"credentials": "garbage"}, None),
    ],
)
def test_bad_options_are_errors_when_the_store_already_covers_the_range(
    tmp_path: Path, bad: dict[str, Any], parameter: str | None
) -> None:
    # With the range already stored, the loader never ran, and nothing checked its options.
    box = Sandbox(seed=6, size=50, providers=["twilio"])
    store = Store(tmp_path)
    span = {"since": "2025-02-01", "until": "2025-03-01"}
    ra.load_twilio_recordings(since=box.config.start, store=store, **box.options("twilio"))
    before = box.requests
    ra.load_twilio_recordings(**span, store=store, **box.options("twilio"))
    assert box.requests == before  # covered: the loader does not run
    options = box.options("twilio") | bad
    with pytest.raises((ra.ConfigError, ra.CredentialsError)) as info:
        ra.load_twilio_recordings(**span, store=store, **options)
    if parameter is not None:
        assert getattr(info.value, "parameter", None) == parameter, info.value


def test_quarter_chunks_are_stable() -> None:
    start = dt.datetime(2025, 2, 10, tzinfo=dt.UTC)
    end = dt.datetime(2025, 8, 1, tzinfo=dt.UTC)
    assert [(a.month, b.month) for a, b in quarter_chunks(start, end)] == [(2, 4), (4, 7), (7, 8)]


def test_store_files_hold_no_secrets(tmp_path: Path) -> None:
    box = Sandbox(seed=2, size=50, providers=["twilio"])
    store = Store(tmp_path)
    refresh(store, box)
    token = box["twilio"].credentials["auth_token"].encode()
    for path in store.path.rglob("*"):
        if path.is_file():
            assert token not in path.read_bytes()


def test_top_level_refresh_is_the_store_method(tmp_path: Path) -> None:
    """``ra.refresh(store, ...)`` and ``store.refresh(...)`` are one function: same result,
    same checkpoints, and the method's signature is the function's without ``store``."""
    import asyncio
    import inspect

    box = Sandbox(seed=4, size=120, providers=["twilio"])
    store = Store(tmp_path / "store")
    first = ra.refresh(store, ["twilio"], since=box.config.start, **box.load_options())
    assert (
        first.inserted
        == store.read().height
        == ra.load_twilio_recordings(**box.options("twilio")).height
        + ra.load_twilio_compositions(**box.options("twilio")).height
    )
    add_tracks(box, 3, NOW - dt.timedelta(hours=1))
    again = asyncio.run(ra.arefresh(store, "twilio", **box.load_options()))
    assert (again.inserted, again.updated) == (3, 0)
    assert store.refresh(["twilio"], **box.load_options()).inserted == 0
    assert Store.refresh is ra.refresh and Store.arefresh is ra.arefresh
    method = inspect.signature(store.refresh)
    assert list(method.parameters) == list(inspect.signature(ra.refresh).parameters)[1:]
    with pytest.raises(ra.ConfigError, match="store"):
        ra.refresh(str(tmp_path), ["twilio"], **box.load_options())  # type: ignore[arg-type]


@pytest.mark.usefixtures("no_env_credentials")
def test_refresh_of_every_configured_provider_skips_the_others_quietly(tmp_path: Path) -> None:
    # With only Zoom configured (a cron job's environment, or Twilio's variables unset after
    # its shutdown, as the docs advise), every refresh put plivo, signalwire and twilio in
    # report.errors and warned "refresh stopped ... refresh again", as load() never did.
    import warnings

    box = Sandbox(seed=7, size=20, providers=["zoom"])
    store = Store(tmp_path / "store")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        report = store.refresh(since="2026-01-01", **box.load_options())
    assert report.errors == {} and report.inserted == store.read().height > 0
    assert report.rows["twilio"] == ra.UpsertReport() and "twilio" not in report.windows
    assert set(report.rows) == {"twilio", "plivo", "zoom", "signalwire"}
    # One named without credentials is still an error, and said.
    with pytest.warns(ra.LoadWarning, match="twilio: refresh stopped: twilio credentials"):
        named = store.refresh(["zoom", "twilio"], **box.load_options())
    assert list(named.errors) == ["twilio"]
    # None configured at all: nothing refreshed is said, not skipped quietly.
    options = {k: v for k, v in box.load_options().items() if k != "credentials"}
    with pytest.warns(ra.LoadWarning, match="refresh stopped"):
        nothing = store.refresh(**options)
    assert sorted(nothing.errors) == ["plivo", "signalwire", "twilio", "zoom"]


@pytest.mark.usefixtures("no_env_credentials")
def test_refresh_of_every_configured_provider_says_one_configured_only_in_part(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Quiet is for a provider none of whose variables is set: one with a variable set and
    # another missing was meant to be refreshed, and is an error even when none is named.
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", "AC" + "0" * 32)
    box = Sandbox(seed=7, size=5, providers=["zoom"])
    with pytest.warns(ra.LoadWarning, match="twilio: refresh stopped: twilio credentials"):
        report = Store(tmp_path / "store").refresh(since="2026-06-01", **box.load_options())
    assert list(report.errors) == ["twilio"]
    assert report.rows["plivo"] == report.rows["signalwire"] == ra.UpsertReport()


def test_refresh_after_a_quiet_spell_reaches_back_the_overlap_before_the_newest(
    tmp_path: Path,
) -> None:
    """The newest recording is older than the overlap: the window still starts at newest -
    overlap, so its deletion is picked up (it once started at the last load's end - overlap)."""
    box = recent_twilio_box(days_quiet=10)
    (sid,) = add_tracks(box, 1, NOW - dt.timedelta(days=4))
    store = Store(tmp_path, overlap=dt.timedelta(days=3))
    refresh(store, box)
    newest = store.newest("twilio")
    assert newest is not None
    track = box["twilio"].tracks_by_sid[sid]
    track.status, track.deleted = "deleted", NOW
    box["twilio"].tracks.invalidate()
    report = store.refresh(["twilio"], **box.load_options())
    assert report.windows["twilio"][0] <= newest - store.overlap
    assert store.read().filter(pl.col("recording_id") == sid)["status"].item() == "deleted"


def test_loader_with_store_loads_a_period_between_two_earlier_ones(tmp_path: Path) -> None:
    """January, then June: March was never loaded, so asking for it loads it (coverage once
    read January..July and March came back empty from the store)."""
    box = Sandbox(seed=3, size=400, providers=["twilio"])
    options = box.options("twilio")
    march = {"since": "2026-03-01", "until": "2026-04-01"}
    truth = ra.load_twilio_recordings(**march, **options)
    assert truth.height > 0
    store = Store(tmp_path)
    ra.load_twilio_recordings(since="2026-01-01", until="2026-02-01", store=store, **options)
    ra.load_twilio_recordings(since="2026-06-01", until="2026-07-01", store=store, **options)
    box.app.reset_counts()
    got = ra.load_twilio_recordings(**march, store=store, **options)
    assert box.requests > 0
    assert got.sort("recording_id").equals(truth.sort("recording_id"))


def test_loader_with_store_and_no_since_loads_what_the_store_lacks(tmp_path: Path) -> None:
    """No since asks for everything: a store that covers only June onwards loads the rest."""
    box = Sandbox(seed=3, size=200, providers=["twilio"])
    options = box.options("twilio")
    truth = ra.load_twilio_recordings(**options)
    store = Store(tmp_path)
    ra.load_twilio_recordings(since="2026-06-01", store=store, **options)
    got = ra.load_twilio_recordings(store=store, **options)
    assert got.sort("recording_id").equals(truth.sort("recording_id"))


def test_refresh_since_inside_a_skipped_period_loads_it(tmp_path: Path) -> None:
    box = Sandbox(seed=3, size=300, providers=["twilio"])
    truth = ra.load(["twilio"], since="2025-01-01", **box.load_options())
    store = Store(tmp_path)
    store.refresh(["twilio"], since="2025-01-01", until="2025-03-01", **box.load_options())
    store.refresh(["twilio"], since="2026-06-01", **box.load_options())
    report = store.refresh(["twilio"], since="2025-03-01", **box.load_options())
    assert report.windows["twilio"][0] == dt.datetime(2025, 3, 1, tzinfo=dt.UTC)
    missing = truth.join(store.read(), on=["provider", "recording_id"], how="anti")
    assert missing.height == 0


def test_upsert_keeps_one_row_when_created_at_moves_to_another_partition(
    tmp_path: Path,
) -> None:
    row = ra.demo(size=20, rate_limit=UNPACED).filter(pl.col("provider") == "twilio").head(1)
    rid = row["recording_id"].item()
    store = Store(tmp_path)
    undated = row.with_columns(created_at=pl.lit(None, ra.SCHEMA["created_at"]))
    assert store.upsert(undated).inserted == 1
    dated = store.upsert(row)  # the same recording, now with its created_at
    assert (dated.inserted, dated.updated) == (0, 1)
    moved = row.with_columns(
        created_at=pl.col("created_at") + pl.duration(days=40), status=pl.lit("deleted")
    )
    report = store.upsert(moved)
    assert (report.inserted, report.updated, report.unchanged) == (0, 1, 0)
    stored = store.read().filter(pl.col("recording_id") == rid)
    assert stored.height == 1 and stored["status"].item() == "deleted"
    assert stored["created_at"].item() == moved["created_at"].item()
    # Within one frame, the last row of a recording wins across partitions too.
    twice = pl.concat([row, moved.with_columns(status=pl.lit("completed"))])
    assert store.upsert(twice.reverse()).updated == 1
    stored = store.read().filter(pl.col("recording_id") == rid)
    assert stored.height == 1 and stored["created_at"].item() == row["created_at"].item()


def test_overlap_is_bounded_and_the_window_arithmetic_cannot_overflow(tmp_path: Path) -> None:
    with pytest.raises(ra.ConfigError, match="overlap"):
        Store(tmp_path, overlap=dt.timedelta.max)
    with pytest.raises(ra.ConfigError, match="overlap"):
        Store(tmp_path, overlap=dt.timedelta(days=367))
    assert Store(tmp_path, overlap=dt.timedelta(days=366)).overlap.days == 366

    from recanalytics.incremental import COVERAGE, plan_start
    from recanalytics.providers.registry import READINGS

    store = Store(tmp_path)
    since = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    recorded = {"since": since.isoformat(), "until": NOW.isoformat(), "reading": READINGS["twilio"]}
    store.write_meta(COVERAGE, {"twilio:*": recorded})
    store.overlap = dt.timedelta.max  # set after creation: no validation runs
    earliest = dt.datetime.min.replace(tzinfo=dt.UTC)
    assert plan_start(store, "twilio:*", None, None) == earliest
    assert plan_start(store, "twilio:*", NOW - dt.timedelta(days=1), since) == since


def test_rows_without_an_id_are_counted_and_their_copies_said(tmp_path: Path) -> None:
    # Three identical id-less rows were stored once with inserted=1 and no word; upserted
    # again, the report said 0 inserted, 0 updated, 0 unchanged for three rows given.
    rows = pl.DataFrame({"provider": ["twilio"] * 3, "kind": ["track"] * 3})
    frame = pl.concat([ra.empty_frame(), rows], how="diagonal_relaxed").select(ra.SCHEMA.names())
    store = Store(tmp_path / "s")
    with pytest.warns(ra.LoadWarning, match="2 rows without a recording_id repeat another"):
        assert store.upsert(frame) == ra.UpsertReport(inserted=1)
    distinct = frame.with_columns(status=pl.Series(["a", "b", "c"]))
    other = Store(tmp_path / "t")
    assert other.upsert(distinct) == ra.UpsertReport(inserted=3)
    assert other.upsert(distinct) == ra.UpsertReport(unchanged=3)
    assert other.read().height == 3


def test_a_future_until_records_coverage_only_up_to_now(tmp_path: Path) -> None:
    # Coverage was recorded up to the until asked (months ahead): recordings made later were
    # never loaded into the store, by store= or by refresh. (The range is the test's now's: a
    # fixed 2027 until lay before the recordings it adds from June 2027.)
    box = Sandbox(seed=7, size=300, providers=["twilio"])
    span = {"since": NOW - dt.timedelta(days=17), "until": NOW + dt.timedelta(days=180)}
    store = Store(tmp_path / "s")
    ra.load_twilio_recordings(**span, store=store, **box.options("twilio"))
    other = Store(tmp_path / "t")
    other.refresh(["twilio"], **span, **box.load_options())
    sids = add_tracks(box, 3, NOW - dt.timedelta(hours=1))
    got = ra.load_twilio_recordings(**span, store=store, **box.options("twilio"))
    assert set(sids) <= set(got["recording_id"])
    assert other.refresh(["twilio"], **box.load_options()).inserted == 3


def test_store_option_keeps_rows_without_a_creation_time(tmp_path: Path) -> None:
    # The range read back from the store filtered on created_at, which drops nulls: two rows
    # the same call without store= returns (and the store held) were missing.
    box = Sandbox(seed=7, size=60, providers=["twilio"])
    emulator = box["twilio"]
    tracks = emulator.tracks.records
    unreadable = {tracks[9].sid: "garbage", tracks[13].sid: None}
    render = emulator.track_json

    def patched(track: Any, origin: str) -> dict[str, Any]:
        body = render(track, origin)
        if track.sid in unreadable:
            body["date_created"] = unreadable[track.sid]
        return dict(body)

    emulator.track_json = patched  # type: ignore[method-assign]
    emulator.tracks.invalidate()
    with pytest.warns(ra.LoadWarning):
        want = ra.load_twilio_recordings(since="2025-01-01", **box.options("twilio"))
    with pytest.warns(ra.LoadWarning):
        got = ra.load_twilio_recordings(
            since="2025-01-01", store=Store(tmp_path / "s"), **box.options("twilio")
        )
    assert sorted(got["recording_id"]) == sorted(want["recording_id"])
    assert want.height == 60


def test_a_refresh_that_fails_part_way_counts_what_it_stored(tmp_path: Path) -> None:
    # The rows of the chunks stored before the failure were counted by no report: the rerun
    # skips those chunks, so the two reports said 149 inserted of 318.
    box = Sandbox(seed=7, size=300, providers=["twilio"])
    store = Store(tmp_path / "s")
    failing = box.load_options() | {"transport": FailAfter(box.transport, 10)}
    with pytest.warns(ra.LoadWarning, match="refresh stopped") as said:
        first = store.refresh(
            ["twilio"], since="2025-01-01", retry=ra.RetryPolicy(max_retries=0), **failing
        )
    assert "twilio" in first.errors and first.inserted == store.read().height > 0
    stopped = next(str(w.message) for w in said if "refresh stopped" in str(w.message))
    assert stopped.count("twilio:") == 1, stopped  # named once ("twilio: ...: twilio: ...")
    second = store.refresh(["twilio"], since="2025-01-01", **box.load_options())
    assert first.inserted + second.inserted == store.read().height


def test_a_store_load_that_fails_part_way_carries_every_row_it_loaded(tmp_path: Path) -> None:
    # .partial held only the failed chunk's rows (0) while 267 were loaded and stored.
    box = Sandbox(seed=7, size=300, providers=["twilio"])
    store = Store(tmp_path / "s")
    failing = box.options("twilio") | {"transport": FailAfter(box.transport, 4)}
    with pytest.raises(ra.ProviderError) as info:
        ra.load_twilio_recordings(
            since="2025-01-01", store=store, retry=ra.RetryPolicy(max_retries=0), **failing
        )
    stored = store.read()
    assert stored.height > 0
    assert info.value.partial is not None
    partial = set(info.value.partial["recording_id"])
    assert set(stored["recording_id"]) <= partial
    assert f"{stored.height} rows of the periods loaded before it are stored" in str(info.value)


def test_a_store_folder_named_like_a_glob_pattern_reads_back(tmp_path: Path) -> None:
    # polars read the file's path as a glob: "recordings[eu]" matched nothing, and the
    # healthy file was called damaged ("Move it aside").
    store = Store(tmp_path / "recordings[eu]")
    frame = ra.demo(size=50)
    store.upsert(frame)
    assert store.read().height == frame.height
    assert store.upsert(frame).unchanged == frame.height


def test_no_module_hands_polars_a_path_to_read_as_a_pattern() -> None:
    # The store read its files through an open handle, the archive by their path: polars read
    # "twilio-archive [2026]/recordings.parquet" as a glob pattern, matched nothing, and an
    # archive run again dropped what earlier runs had archived. One helper reads local files.
    import ast

    package = Path(ra.__file__).parent
    helper = package / "localfile.py"
    assert helper.is_file()
    readers = []
    for path in sorted(package.rglob("*.py")):
        if path == helper:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "pl"
                and node.func.attr.startswith(("read_", "scan_"))
            ):
                readers.append(f"{path.relative_to(package)}:{node.lineno} pl.{node.func.attr}")
    assert readers == []


def test_every_folder_a_store_makes_is_user_only(tmp_path: Path) -> None:
    # Path.mkdir(parents=True, mode=0o700) gives the mode to the last folder only: a store's
    # provider=…/year=… folders were made 0755, against what docs/security.md says.
    import stat

    root = tmp_path / "new" / "store"
    store = ra.Store(root)
    store.upsert(ra.demo(size=50))
    folders = [root.parent, root, *(p for p in root.rglob("*") if p.is_dir())]
    modes = {str(p.relative_to(tmp_path)): stat.S_IMODE(p.stat().st_mode) for p in folders}
    assert len(modes) > 3 and set(modes.values()) == {0o700}, modes


def test_a_provider_named_in_another_case_finds_its_files(tmp_path: Path) -> None:
    # files("Twilio") was accepted and found nothing: the glob used the spelling as given.
    store = Store(tmp_path)
    store.upsert(ra.demo(size=50))
    assert store.files("Twilio") == store.files("twilio") != []
    assert store.newest("Twilio") == store.newest("twilio") is not None


def test_a_path_starting_with_a_tilde_is_in_the_home_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Store("~/x") made a folder named "~" in the working directory.
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    store = Store("~/recordings")
    store.upsert(ra.demo(size=20))
    assert store.path == tmp_path / "home" / "recordings" and store.files()
    assert not (tmp_path / "~").exists()


def test_upsert_of_another_kind_of_table_names_its_type_not_its_rows(tmp_path: Path) -> None:
    # A pandas (or pyarrow) table was shown whole in the ConfigError: rows of data, not a type.
    table = ra.demo(size=20).to_arrow()
    with pytest.raises(ra.ConfigError) as info:
        Store(tmp_path).upsert(table)  # type: ignore[arg-type]
    assert info.value.parameter == "frame"
    assert "'Table'" in str(info.value) and "recording_id" not in str(info.value)
