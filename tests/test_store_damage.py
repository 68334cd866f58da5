"""A store that is damaged, foreign in part, of an older schema or not writable: a named error
that says which file and what to do, never a raw polars/json exception or lost rows."""

from __future__ import annotations

import errno
import json
import shutil
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl
import pytest

import recanalytics as ra
from recanalytics import Store
from recanalytics.errors import StoreError
from recanalytics.incremental import checkpoint_name, source_of
from recanalytics.sandbox import Sandbox
from tests.conftest import simulate_read_only

PERIOD = {"since": "2025-01-01", "until": "2026-11-01"}


def loader_key(box: Sandbox) -> str:
    """The coverage key of ``load_twilio_recordings(store=)`` from ``box``'s account."""
    options = box.options("twilio")
    source = source_of("twilio", options["credentials"], options["base_url"])
    return source.key("aload_twilio_recordings")


@pytest.fixture(scope="module")
def box() -> Sandbox:
    return Sandbox(seed=9, size=150, providers=["twilio"])


@pytest.fixture(scope="module")
def base(box: Sandbox, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("base") / "store"
    ra.load_twilio_recordings(**PERIOD, store=Store(root), **box.options("twilio"))
    return root


@pytest.fixture
def store(base: Path, tmp_path: Path) -> Store:
    shutil.copytree(base, tmp_path / "store")
    return Store(tmp_path / "store")


def one_file(store: Store) -> Path:
    files = store.files("twilio")
    return files[len(files) // 2]


def garbage(path: Path) -> None:
    path.write_bytes(b"not a parquet file at all")


def truncated(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:-100])


def foreign(path: Path) -> None:
    pl.DataFrame({"a": [1, 2]}).write_parquet(path)


def text_sizes(path: Path) -> None:
    frame = pl.read_parquet(path)
    frame.with_columns(pl.lit("large").alias("size_bytes")).write_parquet(path)


def folder(path: Path) -> None:
    path.unlink()
    path.mkdir()


@pytest.mark.parametrize("damage", [garbage, truncated, foreign, text_sizes, folder])
def test_a_damaged_file_is_a_store_error_naming_it(
    damage: Callable[[Path], None], store: Store
) -> None:
    bad = one_file(store)
    rows = store.read()
    damage(bad)
    with pytest.raises(StoreError, match="Move it aside") as info:
        store.read()
    assert info.value.path == str(bad) and str(bad) in str(info.value)
    with pytest.raises(StoreError) as info:
        store.upsert(rows)  # every partition of the provider is looked at
    assert info.value.path == str(bad)
    assert info.value.partial is not None and info.value.partial.height == rows.height


def test_a_file_of_an_older_schema_reads_with_the_missing_column_null(store: Store) -> None:
    old = one_file(store)
    whole = store.read()
    frame = pl.read_parquet(old)
    frame.drop("media_url").write_parquet(old)
    read = store.read()
    assert read.schema == ra.SCHEMA and read.height == whole.height > frame.height
    ids = frame["recording_id"].implode()
    assert read.filter(pl.col("recording_id").is_in(ids))["media_url"].null_count() == frame.height
    assert store.upsert(whole).updated == frame.height  # rewritten as the schema stands
    assert "media_url" in pl.read_parquet_schema(old)
    assert store.read().sort("recording_id").equals(whole.sort("recording_id"))


@pytest.mark.parametrize(
    "coverage",
    [
        "{not json",
        '["KEY"]',
        '{"KEY": {"since": "yesterday", "until": "2026"}}',
        '{"KEY": {"since": "2025-01-01T00:00:00", "until": "2026-11-01T00:00:00"}}',
        '{"KEY": {"since": "2026-11-01T00:00:00+00:00", "until": "2025-01-01T00:00:00+00:00"}}',
        '{"KEY": {"since": "2025-01-01T00:00:00+00:00", "until": "2026-11-01T00:00:00+00:00", '
        '"accounts": "AC1"}}',
    ],
    ids=["not-json", "a-list", "not-dates", "naive-dates", "backwards", "accounts-not-a-list"],
)
def test_unreadable_coverage_is_never_trusted_to_skip_a_period(
    coverage: str, box: Sandbox, store: Store
) -> None:
    path = store.path / "_meta" / "coverage.json"
    key = loader_key(box)
    path.write_text(coverage.replace("KEY", key))
    box.app.reset_counts()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        df = ra.load_twilio_recordings(**PERIOD, store=store, **box.options("twilio"))
    about = [w for w in caught if "coverage.json" in str(w.message)]
    # said once: it was said again when the load recorded its period over it
    assert len(about) == 1 and issubclass(about[0].category, ra.LoadWarning), caught
    assert box.requests > 0  # the period was loaded again
    assert df.height == ra.load_twilio_recordings(**PERIOD, **box.options("twilio")).height
    recorded = json.loads(path.read_text())
    assert recorded[key]["since"].startswith("2025-01-01")


def test_a_malformed_checkpoint_is_ignored_with_a_warning(box: Sandbox, store: Store) -> None:
    checkpoint = store.path / "_meta" / checkpoint_name(loader_key(box))
    checkpoint.write_text('{"start": "2025-01-01T00:00:00+00:00", "done": [[1]]}')
    (store.path / "_meta" / "coverage.json").unlink()
    with pytest.warns(ra.LoadWarning, match="checkpoint"):
        df = ra.load_twilio_recordings(**PERIOD, store=store, **box.options("twilio"))
    assert df.height == ra.load_twilio_recordings(**PERIOD, **box.options("twilio")).height
    assert not checkpoint.exists()


def test_meta_that_is_a_file_is_named_before_any_request(box: Sandbox, store: Store) -> None:
    shutil.rmtree(store.path / "_meta")
    (store.path / "_meta").write_text("x")
    box.app.reset_counts()
    with pytest.raises(StoreError, match="_meta"):
        store.refresh(["twilio"], since=PERIOD["since"], **box.load_options())
    assert box.requests == 0


def test_a_store_that_cannot_be_written_is_a_config_error_before_any_request(
    box: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "read-only"
    root.mkdir()
    simulate_read_only(monkeypatch, root)
    box.app.reset_counts()
    with pytest.raises(ra.ConfigError, match="store") as info:
        ra.load_twilio_recordings(**PERIOD, store=Store(root), **box.options("twilio"))
    assert "can write" in str(info.value) and box.requests == 0
    with pytest.raises(ra.ConfigError, match="store"):
        Store(root).refresh(["twilio"], **PERIOD, **box.load_options())
    assert box.requests == 0
    # upsert named the lock file in a StoreError, where store= and refresh say ConfigError
    with pytest.raises(ra.ConfigError, match="store"):
        Store(root).upsert(ra.demo(size=10))


def test_a_write_that_fails_after_the_load_keeps_the_rows(
    box: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def disk_full(*args: Any, **kwargs: Any) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(pl.DataFrame, "write_parquet", disk_full)
    frame = ra.load_twilio_recordings(**PERIOD, **box.options("twilio"))
    with pytest.raises(StoreError, match="No space left on device") as info:
        Store(tmp_path).upsert(frame)
    assert info.value.path.endswith("data.parquet")
    assert info.value.partial is not None and info.value.partial.equals(frame)
    with pytest.raises(StoreError) as info:
        ra.load_twilio_recordings(**PERIOD, store=Store(tmp_path), **box.options("twilio"))
    assert info.value.partial is not None and info.value.partial.height > 0


def test_a_month_whose_folder_takes_no_new_file_is_never_written_in_place(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An upsert into a month folder that refused new files (read-only, another's) rewrote its
    # data.parquet in place: a full disk or a file size limit left it cut off, the month's rows
    # lost and every read of the store failing.
    target = one_file(store)
    before = target.read_bytes()
    changed = store.read().with_columns(track_name=pl.col("recording_id") + "-renamed")
    simulate_read_only(monkeypatch, target.parent)
    with pytest.raises(StoreError) as info:
        store.upsert(changed)
    assert type(info.value) is StoreError  # not a private subclass
    assert info.value.path == str(target)
    assert f"its folder {target.parent} takes no new file" in str(info.value)
    assert target.read_bytes() == before
    assert [p.name for p in target.parent.iterdir()] == [target.name]
