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
from recanalytics.schema import PENDING, conform
from recanalytics.verify import UNAVAILABLE
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


def _staged_as_killed(out: Path, rows: Path) -> None:
    """Put ``rows`` where a run killed before putting its tables in place left them (an older
    version's, killed during its media download): a hidden staged copy no process holds."""
    (out / ".recordings.parquet.k1ll3d.tmp").write_bytes(rows.read_bytes())


def _quietly(run: Any, *args: Any, **kwargs: Any) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ArchiveWarning)
        return run(*args, **kwargs)


def test_rows_a_killed_run_staged_beside_an_archive_are_read_back_and_said(
    tmp_path: Path,
) -> None:
    # An older version's full run killed in its media step left its listing (62 rows) only in
    # .recordings.parquet.….tmp beside an earlier archive of 16: read_archive returned the 16,
    # without a word, and after the shutdown no run could list the 46 others again.
    box = Sandbox(seed=7, size=60, providers=["twilio"])
    out, full = tmp_path / "a", tmp_path / "full"
    first = _quietly(ra.archive_twilio, out, until="2026-01-01", **box.options("twilio"))
    _quietly(ra.archive_twilio, full, **box.options("twilio"))
    _staged_as_killed(out, full / "recordings.parquet")
    every = pl.read_parquet(full / "recordings.parquet")
    held = first["tracks"]["recordings"] + first["compositions"]["recordings"]
    extra = every.height - held
    assert extra > 0
    with pytest.warns(ArchiveWarning) as caught:
        archived, manifest = ra.read_archive(out)
    (said,) = [str(w.message) for w in caught]
    assert f"{extra} rows come from an archive run that was stopped before putting its" in said
    assert "not in manifest.json's counts and hashes" in said
    assert "a run of the archive into this folder" in said
    assert manifest == first
    key = ["kind", "recording_id"]
    assert archived.select(key).sort(key).equals(every.select(key).sort(key))
    # The rows in place come first, as the manifest hashed them.
    assert archived.head(held).equals(
        conform(pl.read_parquet(out / "recordings.parquet")).collect()
    )
    # A run of the archive puts them in place: nothing left to say.
    _quietly(ra.archive_twilio, out, until="2026-01-01", **box.options("twilio"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        archived, _ = ra.read_archive(out)
    assert archived.height == every.height


NARROWER = "2026-10-01"  # seed 3, size 30: tracks made from 2026-01 to 2026-10-13


class CtrlC(httpx.AsyncBaseTransport):
    """The sandbox, with Ctrl-C at the ``at``-th media request."""

    def __init__(self, inner: httpx.AsyncBaseTransport, at: int) -> None:
        self.inner, self.at, self.asked = inner, at, 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/Media"):
            self.asked += 1
            if self.asked == self.at:
                raise KeyboardInterrupt
        return await self.inner.handle_async_request(request)


def archive_stopped_in_its_media_step(out: Path) -> Path:
    """``out``: a full --media archive of the ``--sandbox --size 30 --seed 3`` data, stopped by
    Ctrl-C at its third media download."""
    box = Sandbox(seed=3, size=30, providers=["twilio"], small_media=True)
    options = box.options("twilio") | {"transport": CtrlC(box.transport, at=3)}
    with pytest.raises(KeyboardInterrupt):
        _quietly(ra.archive_twilio, out, media=True, **options)
    return out


def test_a_narrower_media_run_after_a_stopped_one_is_not_whole(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A full --media run stopped in its media step, then one with a later --since: exit 0,
    # media_unfinished gone, read_archive silent, though the media of every row before the
    # since was never downloaded ('unavailable: … not asked for' in media.csv).
    from recanalytics.cli import main

    out = archive_stopped_in_its_media_step(tmp_path / "a")
    assert "media_unfinished" in json.loads((out / "manifest.json").read_text())
    argv = ["archive", "twilio", "--out", str(out), "--sandbox", "--size", "30", "--seed", "3"]
    assert main([*argv, "--media", "--since", NARROWER, "--quiet"]) == 1
    err = capsys.readouterr().err
    manifest = json.loads((out / "manifest.json").read_text())
    never = manifest["media"]["outside_period"]["not_asked"]
    assert never > 0 and manifest["media_unfinished"]
    assert f"{never} recordings with media to fetch have no media file in the archive" in err
    assert "run the command with --media over their period (or without --since" in err
    with pytest.warns(ArchiveWarning, match=f"{never} recordings with media to fetch have no"):
        ra.read_archive(out)
    # A run over everything fetches them: whole again.
    assert main([*argv, "--media", "--quiet"]) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert "media_unfinished" not in manifest
    assert manifest["media"]["outside_period"]["not_asked"] == 0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ra.read_archive(out)


def test_a_run_without_media_after_a_stopped_media_step_is_not_whole(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Found by mutation testing (session 24): the media download stopped part way, then a run
    # without --media over the same period must still say so and exit 1.
    from recanalytics.cli import main

    out = archive_stopped_in_its_media_step(tmp_path / "a")
    stopped = json.loads((out / "manifest.json").read_text())["media_unfinished"]
    argv = ["archive", "twilio", "--out", str(out), "--sandbox", "--size", "30", "--seed", "3"]
    assert main([*argv, "--quiet"]) == 1
    err = capsys.readouterr().err
    assert err.strip().splitlines() == [
        f"recanalytics: the media download of the run of {stopped} was stopped before it "
        "finished; run the command with --media to finish it"
    ], err


def test_a_run_without_media_says_rows_its_carried_media_does_not_cover(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # An older version's archive with media up to 2026-06-01, then its full run killed in the
    # media step (its listing staged), then a run without --media: exit 0, media.csv with a
    # line for the earlier rows only, the others' media in no run's hands, not a word.
    from recanalytics.cli import main

    out, full = tmp_path / "a", tmp_path / "full"
    argv = ["archive", "twilio", "--out", str(out), "--sandbox", "--size", "30", "--seed", "3"]
    assert main([*argv, "--media", "--until", "2026-06-01", "--quiet"]) == 0
    old = json.loads((out / "manifest.json").read_text())
    old["media"].pop("created")  # an older version's media section
    (out / "manifest.json").write_text(json.dumps(old))
    box = Sandbox(seed=3, size=30, providers=["twilio"], small_media=True)
    _quietly(ra.archive_twilio, full, **box.options("twilio"))
    _staged_as_killed(out, full / "recordings.parquet")
    capsys.readouterr()
    assert main([*argv, "--quiet"]) == 1
    printed = capsys.readouterr()
    assert "media (as an earlier run left it): " in printed.out
    manifest = json.loads((out / "manifest.json").read_text())
    lacking = manifest["media_not_asked"]
    lines = pl.read_csv(out / "media.csv")["recording_id"]
    with_media = pl.col("media_url").is_not_null() & ~pl.col("status").is_in(
        sorted(UNAVAILABLE | PENDING)
    )
    rows = pl.read_parquet(out / "recordings.parquet")
    assert lacking == rows.filter(with_media & ~pl.col("recording_id").is_in(lines)).height > 0
    assert f"{lacking} recordings with media to fetch have no media file" in printed.err
    with pytest.warns(ArchiveWarning, match="no line in media.csv"):
        ra.read_archive(out)
    assert main([*argv, "--media", "--quiet"]) == 0
    assert "media_not_asked" not in json.loads((out / "manifest.json").read_text())
