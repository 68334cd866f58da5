"""Two processes writing one store: every read-merge-write holds the store's lock, so no row and
no recorded period is lost."""

from __future__ import annotations

import datetime as dt
import multiprocessing
from multiprocessing.synchronize import Barrier
from pathlib import Path

import polars as pl

from recanalytics import Store
from recanalytics.incremental import _covered, record_coverage

SLICES = 30
PER_SLICE = 5
WHEN = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)


def rows(writer: int) -> pl.DataFrame:
    """Disjoint rows per writer, all in one partition, so every upsert rewrites one file."""
    count = SLICES * PER_SLICE
    return pl.DataFrame(
        {
            "provider": ["twilio"] * count,
            "kind": ["track"] * count,
            "recording_id": [f"RT{writer}-{i:04d}" for i in range(count)],
            "created_at": [WHEN + dt.timedelta(minutes=i) for i in range(count)],
        }
    )


def upsert_slices(root: str, writer: int, barrier: Barrier) -> None:
    store = Store(root)
    frame = rows(writer)
    barrier.wait()
    for i in range(SLICES):
        store.upsert(frame.slice(i * PER_SLICE, PER_SLICE))


def record_keys(root: str, writer: int, barrier: Barrier) -> None:
    store = Store(root)
    barrier.wait()
    for i in range(SLICES):
        record_coverage(store, f"twilio:{writer}-{i}@test", WHEN, WHEN + dt.timedelta(days=1))


def run_two(target: object, root: Path) -> None:
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(2)
    processes = [
        context.Process(target=target, args=(str(root), writer, barrier)) for writer in (0, 1)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(60)
        assert process.exitcode == 0


def test_two_processes_upserting_disjoint_rows_keep_every_row(tmp_path: Path) -> None:
    run_two(upsert_slices, tmp_path)
    stored = set(Store(tmp_path).read()["recording_id"])
    expected = set(rows(0)["recording_id"]) | set(rows(1)["recording_id"])
    assert stored == expected, f"{len(expected - stored)} rows lost"


def test_two_processes_recording_coverage_keep_every_period(tmp_path: Path) -> None:
    run_two(record_keys, tmp_path)
    store = Store(tmp_path)
    missing = [
        f"{w}-{i}"
        for w in (0, 1)
        for i in range(SLICES)
        if _covered(store, f"twilio:{w}-{i}@test") is None
    ]
    assert not missing, f"{len(missing)} recorded periods lost"
