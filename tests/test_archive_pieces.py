"""An archive made in pieces: a run over a narrower period than an earlier one, a run without
media after one with, runs over periods apart. Each run's manifest still says what the whole
archive holds: the media outcome of every row, every media file, every period read."""

from __future__ import annotations

import collections
import datetime as dt
import json
import warnings
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import polars as pl
import pytest

import recanalytics as ra
import recanalytics.archive as archive_module
from recanalytics.checksum import sha256_file
from recanalytics.cli import main
from recanalytics.errors import ArchiveWarning
from recanalytics.sandbox import Sandbox

NARROWER = "2026-10-01"  # seed 3, size 30: tracks made from 2026-01 to 2026-10-13


class RefusingStorage(httpx.AsyncBaseTransport):
    """The sandbox, except that while ``refusing``, the storage refuses a third of the media
    files (403, as S3 does; not retried)."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.refusing = True

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if self.refusing and path.startswith("/_storage") and zlib.crc32(path.encode()) % 3 == 0:
            return httpx.Response(403, text="<Error>AccessDenied</Error>", request=request)
        return await self.inner.handle_async_request(request)


def _media(out: Path) -> pl.DataFrame:
    """``media.csv`` beside each row's creation time."""
    rows = pl.read_parquet(out / "recordings.parquet").select("recording_id", "created_at")
    return pl.read_csv(out / "media.csv").join(rows, on="recording_id", how="left")


def test_a_narrower_run_keeps_the_media_outcome_of_rows_outside_its_period(
    tmp_path: Path,
) -> None:
    # Run 1 failed to fetch 15 files; run 2 with a later since marked the 16 rows before it
    # "unavailable: no longer listed by the provider" (Twilio still listed them: they were not
    # asked for), lost "recording status is deleted", and said nothing, as if the archive were
    # whole though 13 files were missing.
    box = Sandbox(seed=3, size=30, providers=["twilio"], small_media=True)
    storage = RefusingStorage(box.transport)
    options = box.options("twilio") | {"transport": storage}
    out = tmp_path / "a"
    with pytest.warns(ArchiveWarning, match="could not be downloaded"):
        ra.archive_twilio(out, media=True, **options)
    first = _media(out)
    storage.refusing = False
    with pytest.warns(ArchiveWarning, match=r"could not be downloaded.* outside this run's period"):
        again = ra.archive_twilio(out, media=True, since=NARROWER, **options)
    media = _media(out)
    before = pl.col("created_at") < pl.lit(NARROWER).str.to_datetime(time_zone="UTC")
    outside = media.filter(before)
    assert outside.height == again["media"]["outside_period"]["rows"] > 0
    assert not media["error"].str.contains("no longer listed").any()
    earlier = first.filter(before).select("recording_id", status_before="status")
    both = outside.join(earlier, on="recording_id")
    assert both.height == outside.height
    # Failed stays failed (the archive is not whole), saying why it was not asked again.
    failed = both.filter(pl.col("status_before") == "failed")
    assert failed.height == again["media"]["outside_period"]["failed"] > 0
    assert (failed["status"] == "failed").all()
    assert failed["error"].str.contains("HTTP 403.*; outside this run's period").all()
    assert again["media"]["files"]["failed"] == failed.height  # those inside were fetched
    # A file an earlier run saved stays as it was; an unavailable one keeps its reason.
    saved = both.filter(pl.col("status_before") == "downloaded")
    assert saved.height > 0 and (saved["status"] == "downloaded").all()
    assert {f"media/twilio/{n}" for n in saved["path"].str.split("/").list.last()} <= set(
        again["files"]
    )
    deleted = both.filter(pl.col("status_before") == "unavailable")
    assert deleted.height > 0 and (deleted["error"] == "recording status is deleted").all()


def _without_sizes(media: pl.DataFrame) -> pl.DataFrame:
    return media.drop("path", "bytes")


def _sizes_as_text(media: pl.DataFrame) -> pl.DataFrame:
    return media.with_columns(pl.format("{} B", "bytes").alias("bytes"))


@pytest.mark.parametrize(
    "edit", [_without_sizes, _sizes_as_text], ids=["no-sizes", "sizes-as-text"]
)
def test_a_media_csv_edited_in_a_spreadsheet_still_gives_the_outcome_outside_the_period(
    tmp_path: Path, edit: Callable[[pl.DataFrame], pl.DataFrame]
) -> None:
    # media.csv is written for spreadsheets, and saved from one its columns may go or its
    # numbers turn into text. Its path and size serve only to reuse a hash: a line without
    # them is read for the rest (its file hashed again), not the whole file called unreadable
    # and every row outside the period said as never asked for.
    box = Sandbox(seed=3, size=30, providers=["twilio"], small_media=True)
    options = box.options("twilio")
    out = tmp_path / "a"
    ra.archive_twilio(out, media=True, **options)
    first = _media(out)
    edit(pl.read_csv(out / "media.csv", infer_schema=False)).write_csv(out / "media.csv")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        again = ra.archive_twilio(out, media=True, since=NARROWER, **options)
    assert [str(w.message) for w in caught] == []
    before = pl.col("created_at") < pl.lit(NARROWER).str.to_datetime(time_zone="UTC")
    outside = _media(out).filter(before).select("recording_id", "status", "error", "sha256")
    assert outside.height == again["media"]["outside_period"]["rows"] > 0
    assert outside.sort("recording_id").equals(
        first.filter(before).select(outside.columns).sort("recording_id")
    )


def test_a_narrower_run_reads_the_files_outside_its_period_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each run hashed every file an earlier run saved outside its period twice (for media.csv,
    # though it held the hash, and for the manifest): a daily run over the last days of a
    # large archive read all its media twice.
    box = Sandbox(seed=3, size=30, providers=["twilio"], small_media=True)
    options = box.options("twilio")
    out = tmp_path / "a"
    ra.archive_twilio(out, media=True, **options)
    first = _media(out)
    before = pl.col("created_at") < pl.lit(NARROWER).str.to_datetime(time_zone="UTC")
    held = first.filter(before & pl.col("sha256").is_not_null())
    assert held.height > 2
    # A file changed since (another size) is not the one whose hash media.csv holds.
    changed = out / held["path"][0]
    changed.write_bytes(changed.read_bytes() + b"\0")
    hashed: list[Path] = []

    def counting(path: Path) -> str:
        hashed.append(Path(path))
        return sha256_file(path)

    monkeypatch.setattr(archive_module, "sha256_file", counting)
    again = ra.archive_twilio(out, media=True, since=NARROWER, **options)
    media = _media(out)
    assert again["media"]["outside_period"]["rows"] > 0
    reads = collections.Counter(p.relative_to(out).as_posix() for p in hashed)
    files = {k for k in again["files"] if k.startswith("media/")}
    assert set(held["path"]) <= files
    # The manifest reads each file once; media.csv reads only the changed one again.
    assert {p: reads[p] for p in files} == {p: 1 + (p == held["path"][0]) for p in files}
    outside = media.join(held.select("recording_id", was="sha256"), on="recording_id")
    assert outside.height == held.height
    hashes = dict(outside.select("path", "sha256").iter_rows())
    was = dict(outside.select("path", "was").iter_rows())
    assert hashes.pop(held["path"][0]) == sha256_file(changed) != was.pop(held["path"][0])
    assert hashes == was
    assert all(again["files"][p]["sha256"] == h for p, h in hashes.items())


def test_the_archive_command_exits_1_while_files_outside_its_period_are_missing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    served = Sandbox.options
    storage: list[RefusingStorage] = []

    def refusing(self: Sandbox, provider: str, **kwargs: object) -> dict[str, object]:
        options = served(self, provider, **kwargs)
        storage.append(RefusingStorage(options["transport"]))  # type: ignore[arg-type]
        return options | {"transport": storage[-1]}

    monkeypatch.setattr(Sandbox, "options", refusing)
    argv = ["archive", "twilio", "--out", str(tmp_path / "a"), "--sandbox", "--size", "30"]
    argv += ["--seed", "3", "--media", "--quiet"]
    assert main(argv) == 1
    monkeypatch.setattr(Sandbox, "options", served)
    capsys.readouterr()
    assert main([*argv, "--since", NARROWER]) == 1  # it was 0, 13 files missing
    printed = capsys.readouterr()
    assert "outside this run's period: run it over theirs" in printed.err
    assert "kept from earlier runs, 24 outside this run's period" in printed.out


def test_a_run_without_media_keeps_the_media_an_earlier_run_archived(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A run without --media after one with it dropped the media section and every media file
    # from the manifest (30 files hashed, then none; media.csv no longer listed, its hash gone)
    # though they were all still in the folder.
    out = tmp_path / "a"
    argv = ["archive", "twilio", "--out", str(out), "--sandbox", "--size", "30", "--seed", "3"]
    assert main([*argv, "--media", "--quiet"]) == 0
    first = json.loads((out / "manifest.json").read_text())
    capsys.readouterr()
    assert main([*argv, "--quiet"]) == 0
    printed = capsys.readouterr().out
    again = json.loads((out / "manifest.json").read_text())
    assert again["media"] == first["media"]
    assert f"media (as the run of {first['created']} left it): " in printed

    def media_files(manifest: dict[str, Any]) -> dict[str, Any]:
        return {n: e for n, e in manifest["files"].items() if n.startswith("media")}

    assert media_files(again) == media_files(first) and "media.csv" in again["files"]
    assert (
        sum(n.startswith("media/") for n in again["files"]) == first["media"]["files"]["downloaded"]
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the files are those the manifest hashed
        ra.read_archive(out)


def test_the_manifest_keeps_every_period_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # manifest.json held the last run's period only: a run over 2026-06 onward, then one over
    # 2025-01..2025-06, read as an archive of 2025-01..2025-06 holding rows of 2026-10, and
    # nothing said that 2025-06..2026-06 was never read.
    out = tmp_path / "a"
    argv = ["archive", "twilio", "--out", str(out), "--sandbox", "--size", "40", "--quiet"]
    assert main([*argv, "--since", "2026-06-01"]) == 0
    first = json.loads((out / "manifest.json").read_text())
    assert first["periods"] == [[first["period"]["since"], first["period"]["until"]]]
    assert main([*argv, "--since", "2025-01-01", "--until", "2025-06-01"]) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["period"] == {
        "since": "2025-01-01T00:00:00+00:00",
        "until": "2025-06-01T00:00:00+00:00",
    }
    assert manifest["periods"] == [
        ["2025-01-01T00:00:00+00:00", "2025-06-01T00:00:00+00:00"],
        ["2026-06-01T00:00:00+00:00", first["period"]["until"]],
    ]
    from recanalytics.cli import shown_time

    until = shown_time(first["period"]["until"])
    said = f"periods read: 2025-01-01 to 2025-06-01, 2026-06-01 to {until}"
    assert said in capsys.readouterr().out
    # The gap read, the periods touch: one period.
    assert main([*argv, "--since", "2025-06-01", "--until", "2026-06-01"]) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["periods"] == [["2025-01-01T00:00:00+00:00", first["period"]["until"]]]
    assert "periods read" not in capsys.readouterr().out


def test_a_run_again_reads_a_file_kept_for_a_recording_deleted_since_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No row lies outside a run over the whole period again, but a file whose recording is no
    # longer listed is kept: its hash is the one the earlier media.csv gives that file, not
    # read again (the manifest reads it once). A hash media.csv gives another file of the
    # recording (its line names another path) is not the kept file's: that one is read.
    box = Sandbox(seed=3, size=30, providers=["twilio"], small_media=True)
    options = box.options("twilio")
    out = tmp_path / "a"
    ra.archive_twilio(out, media=True, **options)
    twilio = box["twilio"]
    gone, moved = [t for t in twilio.tracks.records if t.status == "completed"][:2]
    media = pl.read_csv(out / "media.csv", infer_schema=False)
    earlier = dict(media.select("recording_id", "sha256").iter_rows())
    elsewhere = pl.col("recording_id") == moved.sid
    media.with_columns(
        path=pl.when(elsewhere).then(pl.lit("media/twilio/elsewhere.mka")).otherwise("path"),
        sha256=pl.when(elsewhere).then(pl.lit("0" * 64)).otherwise("sha256"),
    ).write_csv(out / "media.csv")
    for track in (gone, moved):
        at = twilio.tracks.records.index(track)
        del twilio.tracks.records[at], twilio.tracks.keys[at], twilio.tracks_by_sid[track.sid]
    twilio.tracks.invalidate()
    hashed: list[Path] = []

    def counting(path: Path) -> str:
        hashed.append(Path(path))
        return sha256_file(path)

    monkeypatch.setattr(archive_module, "sha256_file", counting)
    with pytest.warns(ArchiveWarning, match="no longer listed, kept: tracks 2"):
        again = ra.archive_twilio(out, media=True, **options)
    assert again["media"].get("outside_period", {}).get("rows", 0) == 0
    reads = collections.Counter(p.relative_to(out).as_posix() for p in hashed)
    lines = {r["recording_id"]: r for r in _media(out).iter_rows(named=True)}
    for track, times in ((gone, 1), (moved, 2)):
        line = lines[track.sid]
        assert line["status"] == "kept" and line["sha256"] == earlier[track.sid] is not None
        assert again["files"][line["path"]]["sha256"] == line["sha256"]
        assert reads[line["path"]] == times, (track.sid, reads)


def test_an_unreadable_media_csv_is_not_said_when_no_row_needs_it(tmp_path: Path) -> None:
    # media.csv is read for the outcome of rows outside the period, and for the hashes of
    # files kept: with no row outside the period, a media.csv that cannot be read costs only
    # reading those files again, and the run writes a new one. Nothing is said.
    box = Sandbox(seed=3, size=30, providers=["twilio"], small_media=True)
    options = box.options("twilio")
    out = tmp_path / "a"
    ra.archive_twilio(out, media=True, **options)
    first = _media(out).select("recording_id", "sha256")
    (out / "media.csv").write_text("not,the\ncolumns,written\n", encoding="utf-8")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ra.archive_twilio(out, media=True, **options)
    assert [str(w.message) for w in caught] == []
    again = _media(out).select("recording_id", "sha256")
    assert again.sort("recording_id").equals(first.sort("recording_id"))


def test_an_until_later_than_now_is_recorded_as_read_up_to_now(tmp_path: Path) -> None:
    # --until 2026-12-05 (the shutdown day) on 2026-12-02 recorded 12-02..12-05 as read, though
    # the listing could reach only now: a later run over that stretch was not shown as needed.
    # The store records an until in the future up to now only (incremental.loaded_until).
    from recanalytics import clock

    box = Sandbox(seed=3, size=30, providers=["twilio"])
    before = clock.now()
    ahead = before + dt.timedelta(days=3)
    manifest = ra.archive_twilio(tmp_path / "a", until=ahead, **box.options("twilio"))
    reached = dt.datetime.fromisoformat(manifest["period"]["until"])
    assert before.replace(microsecond=0) <= reached <= clock.now()
    assert manifest["period"]["until"] == manifest["created"]
    assert manifest["periods"] == [[manifest["period"]["since"], manifest["period"]["until"]]]
    # An until in the past is recorded as asked.
    past = ra.archive_twilio(tmp_path / "b", until="2026-06-01", **box.options("twilio"))
    assert past["period"]["until"] == "2026-06-01T00:00:00+00:00"


def test_rows_no_run_fetched_are_counted_once_after_runs_with_and_without_media(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # No media, then media over a narrower period, then no media: the carried section's
    # not_asked and the no-media run's media_not_asked counted the same rows twice ("16
    # recordings ... have no media file" for 8), and read_archive warned twice.
    argv = ["archive", "twilio", "--out", str(tmp_path / "a"), "--sandbox", "--size", "40"]
    argv += ["--quiet"]
    assert main(argv) == 0
    assert main([*argv, "--media", "--since", "2026-03-01"]) == 1
    first = capsys.readouterr().err
    assert main(argv) == 1
    again = capsys.readouterr().err
    count = first.split(" with media to fetch")[0].rsplit("recanalytics: ", 1)[1]
    assert count in again and count != "0 recordings", (first, again)
    manifest = json.loads((tmp_path / "a" / "manifest.json").read_text())
    assert manifest["media"]["outside_period"]["not_asked"] > 0
    assert manifest.get("media_not_asked", 0) == 0
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        ra.read_archive(tmp_path / "a")
    assert sum("no media file" in str(w.message) for w in said) == 1
