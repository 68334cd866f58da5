"""An archive folder written by an earlier version, or by a run stopped part-way, read and
archived again by this one: nothing it holds is lost or silently kept as it was read before."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import warnings
from pathlib import Path
from typing import Any

import httpx
import polars as pl
import pytest

import recanalytics as ra
from recanalytics.archive import archive
from recanalytics.errors import ArchiveWarning, StoreError
from recanalytics.providers import plivo
from recanalytics.sandbox import Sandbox
from tests.faults import rewriting


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


def blank_sids(body: Any) -> None:
    """Every third Twilio track listed with ``sid: ""`` (as the API may)."""
    for i, record in enumerate(body["recordings"]):
        if i % 3 == 0:
            record["sid"] = ""


def _archived(out: Path, box: Sandbox, **kwargs: object) -> tuple[pl.DataFrame, pl.DataFrame]:
    options = box.options("twilio") | {
        "transport": rewriting(box.transport, "/v1/Recordings", blank_sids)
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ArchiveWarning)
        ra.archive_twilio(out, media=True, **kwargs, **options)  # type: ignore[arg-type]
    rows, _ = ra.read_archive(out)
    return rows, pl.read_parquet(out / "tracks_raw.parquet")


def test_an_archive_run_again_keeps_every_earlier_row_without_an_id(tmp_path: Path) -> None:
    # Rows without an id (tracks sent with sid "") were dropped by the next run whenever it did
    # not list them as they were: a run when the API listed nothing (66 rows became 59), and a
    # narrower since (those outside it), with their raw rows and their media.csv lines, while
    # the warning said every row was kept.
    box = Sandbox(seed=3, size=60, providers=["twilio"], small_media=True)
    out = tmp_path / "a"
    first, first_raw = _archived(out, box, since="2025-01-01")
    idless = first.filter(pl.col("recording_id").is_null())
    assert idless.height > 1 and first_raw.filter(pl.col("sid") == "").height == idless.height
    media = pl.read_csv(out / "media.csv")
    assert media.filter(pl.col("recording_id").is_null()).height == idless.height

    # Listed again the same: neither dropped nor doubled.
    again, again_raw = _archived(out, box, since="2025-01-01")
    key = ["recording_id", "created_at", "track_name"]
    assert again.sort(key, nulls_last=True).equals(first.sort(key, nulls_last=True))
    assert again_raw.height == first_raw.height

    # A narrower period: the earlier rows without an id outside it are kept.
    narrow, narrow_raw = _archived(out, box, since="2026-10-01")
    assert narrow.filter(pl.col("recording_id").is_null()).height == idless.height
    assert narrow.height == first.height and narrow_raw.height == first_raw.height

    # The API lists nothing: every row stays, raw rows and media.csv lines too.
    empty = Sandbox(seed=3, size=0, providers=["twilio"], small_media=True)
    gone, gone_raw = _archived(out, empty, since="2025-01-01")
    assert gone.height == first.height and gone_raw.height == first_raw.height
    assert gone.filter(pl.col("recording_id").is_null()).sort(key).equals(idless.sort(key))
    listed = pl.read_csv(out / "media.csv")
    assert listed.filter(pl.col("recording_id").is_null()).height == idless.height


class RoundedOnly(httpx.AsyncBaseTransport):
    """The sandbox, with about half the Plivo records sent with rounded_recording_duration alone
    (no recording_duration_ms, start or end): its duration is unknown, read as null."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if "/Recording/" not in request.url.path or response.status_code != 200:
            return response
        body = json.loads(await response.aread())
        for record in body.get("objects", []):
            if hashlib.sha256(record["recording_id"].encode()).digest()[0] % 2:  # whatever the page
                for key in ("recording_duration_ms", "recording_start_ms", "recording_end_ms"):
                    record.pop(key, None)
        return httpx.Response(200, json=body, request=request)


def test_an_archive_run_again_carries_no_value_read_under_an_older_reading(
    tmp_path: Path,
) -> None:
    # An archive written before Plivo durations stopped coming from rounded_recording_duration
    # (a 2 s call read as 60 s), run again by this version: each such row kept the old rounded
    # duration as an "earlier fact" (kept_earlier_values 45; 7.166 h where a load reads 4.233 h).
    box = Sandbox(seed=5, size=120, providers=["plivo"])
    options = box.options("plivo") | {"transport": RoundedOnly(box.transport)}
    out = tmp_path / "a"
    first = archive("plivo", out, since="2025-01-01", **options)
    assert first["reading"] == plivo.READING >= 2
    rows = pl.read_parquet(out / "recordings.parquet")
    unknown = rows.filter(pl.col("duration").is_null())
    assert unknown.height > 5
    # What the older reading wrote: those durations rounded up to a minute, no reading recorded.
    rows.with_columns(
        duration=pl.col("duration").fill_null(dt.timedelta(seconds=60))
    ).write_parquet(out / "recordings.parquet")
    manifest = json.loads((out / "manifest.json").read_text())
    manifest.pop("reading", None)
    (out / "manifest.json").write_text(json.dumps(manifest))

    with pytest.warns(ArchiveWarning, match="under an older reading") as said:
        again = archive("plivo", out, since="2025-01-01", **options)
    assert "are not carried" in str(said[0].message)
    assert again["calls_conferences"]["kept_earlier_values"] == 0
    archived, _ = ra.read_archive(out)
    assert archived.height == rows.height
    assert archived.filter(pl.col("duration").is_null()).height == unknown.height
    assert again["reading"] == plivo.READING

    # Recorded under this reading, an earlier value is carried again (a listing leaving it out).
    archived.with_columns(
        duration=pl.col("duration").fill_null(dt.timedelta(seconds=7))
    ).write_parquet(out / "recordings.parquet")
    with pytest.warns(ArchiveWarning, match="listed without values an earlier run archived"):
        third = archive("plivo", out, since="2025-01-01", **options)
    assert third["calls_conferences"]["kept_earlier_values"] == unknown.height
