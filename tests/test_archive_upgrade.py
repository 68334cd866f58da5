"""An archive folder written by an earlier version, or by a run stopped part-way, read and
archived again by this one: nothing it holds is lost or silently kept as it was read before."""

from __future__ import annotations

import warnings
from pathlib import Path

import polars as pl
import pytest

import recanalytics as ra
from recanalytics.errors import ArchiveWarning, StoreError
from recanalytics.sandbox import Sandbox


def test_a_first_run_stopped_before_its_manifest_reads_as_unfinished_with_its_rows(
    tmp_path: Path,
) -> None:
    # A first run of a version that put its tables in place before the media download, killed
    # during it, left recordings.parquet (214 rows) and no manifest.json: read_archive said
    # 'expected an archive folder' (a ConfigError), nothing about the rows or what to do.
    box = Sandbox(seed=25, size=40, providers=["twilio"])
    out = tmp_path / "a"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ArchiveWarning)
        ra.archive_twilio(out, since="2025-01-01", **box.options("twilio"))
    held = pl.read_parquet(out / "recordings.parquet")
    (out / "manifest.json").unlink()
    with pytest.raises(ra.UnfinishedArchiveError, match="run was stopped") as info:
        ra.read_archive(out)
    assert isinstance(info.value, StoreError)
    assert f"({held.height:,} rows)" in str(info.value)
    assert "run the archive again into this folder to finish it" in str(info.value)
    assert info.value.partial is not None and info.value.partial.height == held.height > 0
    # Running it again finishes it.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ArchiveWarning)
        ra.archive_twilio(out, since="2025-01-01", **box.options("twilio"))
    archived, _ = ra.read_archive(out)
    assert archived.height == held.height
    # A folder with neither file is still no archive folder.
    with pytest.raises(ra.ConfigError, match="an archive folder"):
        ra.read_archive(tmp_path)
