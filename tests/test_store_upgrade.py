"""A store written under an older reading of a provider's answers (before an upgrade changed
how they are read) is loaded again once, not answered from as it was read."""

from __future__ import annotations

import datetime as dt
import json
import warnings
from pathlib import Path

import polars as pl
import pytest

import recanalytics as ra
from recanalytics.providers import plivo
from recanalytics.sandbox import Sandbox
from tests.test_archive_upgrade import RoundedOnly


def _as_older_version(store: ra.Store, cutoff: dt.datetime) -> pl.DataFrame:
    """Make ``store`` what an older version left: coverage without a reading, and the Plivo
    rows of unknown duration made before ``cutoff`` read as it read them (rounded to 60 s)."""
    coverage = store.meta_path("coverage.json")
    recorded = json.loads(coverage.read_text())
    for entry in recorded.values():
        entry.pop("reading", None)
    coverage.write_text(json.dumps(recorded))
    rows = store.read("plivo")
    old = rows.filter(pl.col("duration").is_null() & (pl.col("created_at") < cutoff))
    store.upsert(old.with_columns(duration=pl.lit(dt.timedelta(seconds=60))))
    return old


def test_a_store_loaded_under_an_older_reading_is_loaded_again_once(tmp_path: Path) -> None:
    # After an upgrade that stopped reading Plivo durations from rounded_recording_duration, a
    # refresh re-read its 3-day overlap only: store= answered 7.166 h of rounded durations where
    # a load reads 4.233 h, and Zoom's and Twilio's rows kept their older reading too, silently.
    box = Sandbox(seed=5, size=120, providers=["plivo"])
    options = box.options("plivo") | {"transport": RoundedOnly(box.transport)}
    store = ra.Store(tmp_path / "store")
    store.refresh(["plivo"], since="2025-01-01", **options)
    fresh = ra.load_plivo_recordings(since="2025-01-01", **options)
    cutoff = dt.datetime.now(dt.UTC) - dt.timedelta(days=30)  # well before the overlap
    old = _as_older_version(store, cutoff)
    assert old.height > 3

    with pytest.warns(ra.LoadWarning, match="under an older reading of its data") as said:
        report = store.refresh(["plivo"], **options)
    assert "loaded again once" in str(said[0].message)
    assert report.rows["plivo"].updated == old.height
    answer = ra.load_plivo_recordings(since="2025-01-01", store=store, **options)
    key = ["recording_id"]
    assert answer.sort(key).equals(fresh.sort(key))
    recorded = json.loads(store.meta_path("coverage.json").read_text())
    assert {entry["reading"] for entry in recorded.values()} == {plivo.READING}

    # Once: the next refresh re-reads its overlap alone, without a word.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        again = store.refresh(["plivo"], **options)
    assert again.rows["plivo"].updated == 0
    assert not [w for w in caught if "older reading" in str(w.message)]


def test_store_answers_from_a_period_read_under_an_older_reading_load_it_again(
    tmp_path: Path,
) -> None:
    # store= alone (no refresh): covered by a load under the older reading, it answered the
    # stored rows as they were read then.
    box = Sandbox(seed=5, size=120, providers=["plivo"])
    options = box.options("plivo") | {"transport": RoundedOnly(box.transport)}
    store = ra.Store(tmp_path / "store")
    ra.load_plivo_recordings(since="2025-01-01", store=store, **options)
    fresh = ra.load_plivo_recordings(since="2025-01-01", **options)
    old = _as_older_version(store, dt.datetime.now(dt.UTC) - dt.timedelta(days=30))
    assert old.height > 3
    with pytest.warns(ra.LoadWarning, match="under an older reading"):
        answer = ra.load_plivo_recordings(since="2025-01-01", store=store, **options)
    key = ["recording_id"]
    assert answer.sort(key).equals(fresh.sort(key))


def test_an_older_version_s_checkpoint_is_not_resumed(tmp_path: Path) -> None:
    # An older version's refresh killed in its last quarter left a checkpoint of its finished
    # chunks; the upgraded refresh resumed it, skipped those chunks and recorded coverage under
    # the new reading: 20 Plivo durations rounded to a minute stayed, for good.
    from recanalytics.incremental import _iso, checkpoint_name, quarter_chunks

    box = Sandbox(seed=5, size=120, providers=["plivo"])
    options = box.options("plivo") | {"transport": RoundedOnly(box.transport)}
    store = ra.Store(tmp_path / "store")
    since = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    store.refresh(["plivo"], since=since, **options)
    coverage = store.meta_path("coverage.json")
    key = next(iter(json.loads(coverage.read_text())))
    coverage.unlink()
    chunks = list(quarter_chunks(since, dt.datetime.now(dt.UTC)))
    done = sorted((_iso(a), _iso(b)) for a, b in chunks[:-1])
    store.write_meta(checkpoint_name(key), {"start": _iso(since), "done": done, "accounts": []})
    rows = store.read("plivo")
    old = rows.filter(pl.col("duration").is_null() & (pl.col("created_at") < chunks[-1][0]))
    assert old.height > 3
    store.upsert(old.with_columns(duration=pl.lit(dt.timedelta(seconds=60))))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ra.LoadWarning)
        store.refresh(["plivo"], **options)
    again = store.read("plivo").join(old.select("recording_id"), on="recording_id")
    assert again.height == old.height and again["duration"].null_count() == old.height
