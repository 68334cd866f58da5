"""The archive walks each list of the API once, and a failed archive still hands back its rows."""

from __future__ import annotations

import datetime as dt
import errno
import json
import warnings
from pathlib import Path
from typing import Any

import httpx
import polars as pl
import pytest

import recanalytics as ra
from recanalytics.archive import _older_reading, archive
from recanalytics.errors import ArchiveWarning, StoreError
from recanalytics.localfile import read_file
from recanalytics.sandbox import Sandbox
from recanalytics.store import LOCK_NAME, try_lock
from tests.conftest import simulate_read_only
from tests.faults import rewriting

# One request at a time: the walk is the same from run to run, so requests can be compared.
SEQUENTIAL = {"max_concurrency": 1, "rate_limit": 1000.0}
PERIOD = {"since": "2025-01-01", "until": "2026-11-01"}


def _hidden(out: Path) -> list[str]:
    """The hidden files in an archive folder: staged tables a run left, and the lock file
    every run holds while it archives (empty, never listed in the manifest)."""
    return sorted(p.name for p in out.iterdir() if p.name.startswith("."))


def test_archive_asks_the_api_for_each_list_once(tmp_path: Path) -> None:
    box = Sandbox(seed=21, size=400, providers=["twilio"])
    options = box.options("twilio") | SEQUENTIAL
    tracks = ra.load_twilio_recordings(**PERIOD, **options)
    compositions = ra.load_twilio_compositions(**PERIOD, **options)
    one_walk = box.requests
    box.app.reset_counts()

    manifest = archive("twilio", tmp_path / "a", **PERIOD, **options)

    assert box.requests == one_walk  # not twice: the unified rows come from the raw ones
    assert manifest["tracks"]["recordings"] == tracks.height > 0
    assert manifest["compositions"]["recordings"] == compositions.height > 0
    stored = pl.read_parquet(tmp_path / "a" / "recordings.parquet")
    expected = pl.concat([tracks, compositions])
    key = ["kind", "recording_id"]
    assert stored.sort(key).equals(expected.sort(key))  # the same rows as the loaders return


def odd_sizes(body: Any) -> None:
    """Every track's ``size`` as text no parser can read."""
    for record in body["recordings"]:
        record["size"] = "not a number"


def test_archive_warns_once_per_load_of_odd_records(tmp_path: Path) -> None:
    box = Sandbox(seed=22, size=60, providers=["twilio"])
    options = box.options("twilio") | {
        "transport": rewriting(box.transport, "/v1/Recordings", odd_sizes)
    }
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        manifest = archive("twilio", tmp_path / "a", **PERIOD, **options)
    odd = [w for w in caught if issubclass(w.category, ra.LoadWarning)]
    assert len(odd) == 1 and "size" in str(odd[0].message), [str(w.message) for w in odd]
    assert manifest["tracks"]["recordings"] == 60  # the rows are kept, the sizes null


class RefusesCompositions(httpx.AsyncBaseTransport):
    """The sandbox, except that every compositions request is refused (403)."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.startswith("/v1/Compositions"):
            body = {"code": 20403, "message": "Forbidden", "status": 403}
            return httpx.Response(403, json=body, request=request)
        return await self.inner.handle_async_request(request)


def test_a_failed_archive_raises_with_the_unified_rows_it_loaded(tmp_path: Path) -> None:
    box = Sandbox(seed=23, size=80, providers=["twilio"])
    options = box.options("twilio") | {"transport": RefusesCompositions(box.transport)}
    with pytest.raises(ra.ProviderError) as failed:
        archive("twilio", tmp_path / "a", **PERIOD, **options)
    assert failed.value.status == 403
    partial = failed.value.partial
    assert partial is not None and partial.schema == ra.SCHEMA
    # The tracks load completed: its rows are in the error too, not only the failed load's.
    tracks = ra.load_twilio_recordings(**PERIOD, **box.options("twilio"))
    assert set(partial["recording_id"]) == set(tracks["recording_id"]) and tracks.height
    # No file claims to be the whole archive: beside the (empty) lock file the run held, only
    # what it read, staged and never put in place (see the next test).
    hidden = _hidden(tmp_path / "a")
    assert [p.name for p in (tmp_path / "a").iterdir() if p.name not in hidden] == []
    assert [name.split(".")[1] for name in hidden if name != LOCK_NAME] == [
        "recordings",
        "tracks_raw",
    ]


def test_an_archive_whose_listing_fails_keeps_what_it_read_for_the_next_run(
    tmp_path: Path,
) -> None:
    # A run whose listing failed part-way (404 once Twilio is gone, a 503 for a minute) wrote
    # nothing, and the command dropped .partial: the ~2,400 rows it had read were lost for
    # good once the API lists nothing any more.
    box = Sandbox(seed=23, size=80, providers=["twilio"])
    out = tmp_path / "a"
    failing = box.options("twilio") | {"transport": RefusesCompositions(box.transport)}
    said = "the 80 rows this run read before it failed are kept beside the archive"
    with pytest.raises(ra.ProviderError, match=said) as failed:
        archive("twilio", out, **PERIOD, **failing)
    message = str(failed.value)
    assert "run the archive again into this folder" in message
    assert "raises UnfinishedArchiveError with them in .partial" in message
    read = failed.value.partial
    assert read is not None and read.height == 80
    with pytest.raises(ra.UnfinishedArchiveError, match="or one whose listing failed") as info:
        ra.read_archive(out)
    kept = info.value.partial
    assert kept is not None and set(kept["recording_id"]) == set(read["recording_id"])
    assert _older_reading(out, "twilio") is None  # read as this version reads, it says
    # The next run keeps them, even with the provider listing nothing any more, and puts
    # them in place with their raw rows.
    empty = box.options("twilio") | {"transport": _dying(box.transport, "empty")}
    with pytest.warns(ArchiveWarning, match="listed 0 tracks"):
        again = archive("twilio", out, **PERIOD, **empty)
    assert again["tracks"]["recordings"] == again["tracks"]["kept_from_earlier_runs"] == 80
    assert pl.read_parquet(out / "tracks_raw.parquet").height == 80
    archived, _ = ra.read_archive(out)
    assert set(archived["recording_id"]) == set(read["recording_id"])
    assert _hidden(out) == [LOCK_NAME]


def test_the_archive_command_says_where_a_failed_listing_s_rows_are(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # `recanalytics archive twilio` whose API answered 404 part-way printed the error and
    # exit 2, nothing written: the rows read were gone with the process.
    from recanalytics.cli import main

    served = Sandbox.options

    def refusing(self: Sandbox, provider: str, **kwargs: object) -> dict[str, object]:
        options = served(self, provider, **kwargs)
        inner = options["transport"]
        assert isinstance(inner, httpx.AsyncBaseTransport)
        return options | {"transport": RefusesCompositions(inner)}

    monkeypatch.setattr(Sandbox, "options", refusing)
    out = tmp_path / "a"
    argv = ["archive", "twilio", "--out", str(out), "--sandbox", "--size", "40"]
    assert main([*argv, "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "the 40 rows this run read before it failed are kept beside the archive" in err
    assert f"{out}/.recordings.parquet.….tmp" in err
    assert "run the archive again into this folder to finish it" in err
    monkeypatch.setattr(Sandbox, "options", served)
    assert main([*argv, "--quiet"]) == 0  # run again: the archive whole, the rows in place
    assert _hidden(out) == [LOCK_NAME]


def test_read_archive_returns_what_a_failed_run_read_beside_the_archived_rows(
    tmp_path: Path,
) -> None:
    box = Sandbox(seed=23, size=80, providers=["twilio"])
    out = tmp_path / "a"
    archive("twilio", out, since="2026-06-01", until="2026-11-01", **box.options("twilio"))
    failing = box.options("twilio") | {"transport": RefusesCompositions(box.transport)}
    with pytest.raises(ra.ProviderError, match="after the archived rows, with an ArchiveWarning"):
        archive("twilio", out, **PERIOD, **failing)
    said = "70 rows come from an archive run that was stopped before putting its tables in place"
    with pytest.warns(ArchiveWarning, match=f"{said}, or whose listing failed"):
        archived, manifest = ra.read_archive(out)
    assert archived.height == manifest["tracks"]["recordings"] + 70 == 80


def test_raw_is_not_an_archive_option(tmp_path: Path) -> None:
    box = Sandbox(seed=24, size=10, providers=["twilio"])
    with pytest.raises(ra.ConfigError, match="raw"):
        archive("twilio", tmp_path / "a", raw=True, **box.options("twilio"))
    assert box.requests == 0 and not (tmp_path / "a").exists()


def test_a_folder_holding_another_provider_s_archive_is_refused_before_any_request(
    tmp_path: Path,
) -> None:
    # archive("plivo", out) into a Twilio archive kept only Plivo's rows: every Twilio row left
    # recordings.parquet and the manifest, without a word (an archive only grows).
    box = Sandbox(seed=24, size=20, providers=["twilio", "plivo"])
    out = tmp_path / "recordings-archive"
    archive("twilio", out, **PERIOD, **box.options("twilio"))
    before = _as_written(out)
    asked = box.requests
    with pytest.raises(ra.ConfigError, match="one folder per provider") as info:
        archive("plivo", out, **PERIOD, **box.options("plivo"))
    assert info.value.parameter == "out" and "twilio" in str(info.value)
    assert box.requests == asked
    assert _as_written(out) == before
    assert archive("plivo", tmp_path / "plivo-archive", **PERIOD, **box.options("plivo"))


def test_the_manifest_lists_only_the_archives_own_files(tmp_path: Path) -> None:
    # ``out`` may be any folder: the manifest hashed every file under it (archiving into "/"
    # read /proc until it failed), and listed files the archive never wrote.
    out = tmp_path / "a"
    (out / "notes").mkdir(parents=True)
    (out / "notes" / "mine.txt").write_text("not the archive's")
    (out / "theirs.parquet").write_bytes(b"not the archive's either")
    box = Sandbox(seed=23, size=40, providers=["twilio"])
    manifest = ra.archive_twilio(out, **PERIOD, **box.options("twilio"))
    assert sorted(manifest["files"]) == [
        "compositions_raw.parquet",
        "recordings.csv",
        "recordings.parquet",
        "tracks_raw.parquet",
    ]
    assert (out / "notes" / "mine.txt").read_text() == "not the archive's"


@pytest.mark.parametrize("provider", ["twilio", "plivo", "zoom", "signalwire"])
def test_every_provider_s_archive_holds_the_loaders_rows(provider: str, tmp_path: Path) -> None:
    # The unified rows are derived from the raw ones with the load's own endpoint: SignalWire's
    # media URLs are on the space's host, which the module-level endpoint does not know, so
    # its archive held bare paths and downloaded no media at all.
    box = Sandbox(seed=24, size=60, providers=[provider])
    options = box.options(provider) | SEQUENTIAL
    expected = ra.load(providers=[provider], **PERIOD, **box.load_options(), **SEQUENTIAL)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # odd records are warned about, as by the loaders
        archive(provider, tmp_path / "a", **PERIOD, **options)
    stored = pl.read_parquet(tmp_path / "a" / "recordings.parquet")
    key = ["kind", "recording_id"]
    assert stored.sort(key).equals(expected.sort(key).select(stored.columns))
    assert stored["media_url"].str.starts_with("http").all()


def test_the_recordings_csv_opens_in_a_spreadsheet_in_the_frame_s_column_order(
    tmp_path: Path,
) -> None:
    # duration_s went last (after media_url), and without a byte order mark Excel read
    # "Café" in the legacy code page as "CafÃ©".
    box = Sandbox(seed=24, size=20, providers=["twilio"])
    archive("twilio", tmp_path / "a", **PERIOD, **box.options("twilio"), **SEQUENTIAL)
    raw = (tmp_path / "a" / "recordings.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    header = raw[3:].split(b"\n", 1)[0].decode().split(",")
    assert header == ["duration_s" if name == "duration" else name for name in ra.SCHEMA.names()]
    table = pl.read_csv(tmp_path / "a" / "recordings.csv")
    parquet = pl.read_parquet(tmp_path / "a" / "recordings.parquet")
    expected = parquet["duration"].dt.total_milliseconds() / 1000
    assert table["duration_s"].to_list() == expected.to_list()


def test_an_archive_without_since_holds_what_a_load_without_since_returns(tmp_path: Path) -> None:
    # The archive asked from 2015-01-01 while a load without since reads down to the oldest row:
    # a track dated before it was in ra.load_twilio_recordings() and not in the archive.
    from tests.test_store import add_tracks

    box = Sandbox(seed=24, size=30, providers=["twilio"])
    old = add_tracks(box, 1, dt.datetime(2014, 6, 1, tzinfo=dt.UTC))
    loaded = ra.load_twilio_recordings(**box.options("twilio"))
    assert set(old) <= set(loaded["recording_id"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ArchiveWarning)  # a track still processing
        archive("twilio", tmp_path / "a", **box.options("twilio"))
    stored = pl.read_parquet(tmp_path / "a" / "recordings.parquet")
    tracks = stored.filter(pl.col("kind") == "track")
    assert sorted(tracks["recording_id"]) == sorted(loaded["recording_id"])


def test_an_archive_made_again_in_its_folder_lists_only_its_own_media(tmp_path: Path) -> None:
    # The manifest hashed every file under media/, so files no row of the archive names (left
    # by anything else) were listed as its own. A narrower second run keeps the first run's
    # rows (nothing archived is lost), so their files are its own; a stray file is not.
    box = Sandbox(seed=25, size=80, providers=["twilio"])
    out = tmp_path / "a"
    first = ra.archive_twilio(out, media=True, **PERIOD, **box.options("twilio"))
    stray = out / "media" / "twilio" / "RT0000-not-a-recording.mka"
    stray.write_bytes(b"not ours")
    narrower = {"since": "2026-06-01", "until": "2026-11-01"}
    manifest = ra.archive_twilio(out, media=True, **narrower, **box.options("twilio"))
    listed = {name for name in manifest["files"] if name.startswith("media/")}
    reported = pl.read_csv(out / "media.csv").filter(
        pl.col("status").is_in(["downloaded", "resumed", "skipped", "kept"])
    )
    assert listed == set(reported["path"])
    assert listed == {name for name in first["files"] if name.startswith("media/")}
    assert "media/twilio/RT0000-not-a-recording.mka" not in listed and stray.exists()


def _refusing_media(inner: httpx.AsyncBaseTransport) -> httpx.MockTransport:
    """The sandbox, except that every Twilio ``/Media`` request is refused (403, no retry)."""

    async def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/Media"):
            return httpx.Response(403, json={"code": 20403, "message": "Forbidden", "status": 403})
        return await inner.handle_async_request(request)

    return httpx.MockTransport(handler)


def test_an_archive_whose_media_failed_says_so(tmp_path: Path) -> None:
    # It returned like a whole archive: before a shutdown, missing files must not go unnoticed.
    box = Sandbox(seed=25, size=40, providers=["twilio"])
    options = box.options("twilio") | {"transport": _refusing_media(box.transport)}
    with pytest.warns(ra.LoadWarning, match=r"(\d+) of \d+ media files could not be downloaded"):
        manifest = ra.archive_twilio(tmp_path / "a", media=True, **PERIOD, **options)
    failed = manifest["media"]["files"]["failed"]
    assert failed > 0 and "downloaded" not in manifest["media"]["files"]
    media = pl.read_csv(tmp_path / "a" / "media.csv")
    assert media.filter(pl.col("status") == "failed").height == failed


def test_the_archive_command_exits_1_when_media_failed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from recanalytics.cli import main

    served = Sandbox.options

    def refusing(self: Sandbox, provider: str, **kwargs: object) -> dict[str, object]:
        options = served(self, provider, **kwargs)
        return options | {"transport": _refusing_media(options["transport"])}

    monkeypatch.setattr(Sandbox, "options", refusing)
    argv = ["archive", "twilio", "--out", str(tmp_path / "a"), "--sandbox", "--size", "40"]
    assert main([*argv, "--media", "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "media files failed" in err and "run the same command again" in err
    assert err.count("could not be downloaded") == 0  # the warning is not said twice
    monkeypatch.setattr(Sandbox, "options", served)
    assert main([*argv, "--media", "--quiet"]) == 0  # run again: every file fetched


def test_an_archive_folder_that_cannot_be_written_is_refused_before_any_request(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    box = Sandbox(seed=26, size=40, providers=["twilio"])
    out = tmp_path / "read-only"
    out.mkdir()
    simulate_read_only(monkeypatch, out)
    with pytest.raises(ra.ConfigError, match="invalid out") as info:
        ra.archive_twilio(out, **PERIOD, **box.options("twilio"))
    assert "can write" in str(info.value) and box.requests == 0


def _disk_full_at(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Writing a CSV named ``name`` fails as on a full disk."""
    real = pl.DataFrame.write_csv

    def write_csv(self: pl.DataFrame, file: Any = None, **kwargs: Any) -> Any:
        if file is not None and Path(file).name.startswith(f".{name}."):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(self, file, **kwargs)

    monkeypatch.setattr(pl.DataFrame, "write_csv", write_csv)


def test_an_archive_that_cannot_be_written_after_the_load_keeps_its_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    box = Sandbox(seed=27, size=40, providers=["twilio"])
    _disk_full_at("recordings.csv", monkeypatch)
    with pytest.raises(StoreError, match=r"recordings\.csv.*No space left") as info:
        ra.archive_twilio(tmp_path / "a", **PERIOD, **box.options("twilio"))
    expected = ra.load_twilio_recordings(**PERIOD, **box.options("twilio")).height
    expected += ra.load_twilio_compositions(**PERIOD, **box.options("twilio")).height
    assert info.value.partial is not None and info.value.partial.height == expected


def test_a_link_at_a_media_path_is_not_archived_as_the_recording(tmp_path: Path) -> None:
    box = Sandbox(seed=28, size=40, small_media=True, providers=["twilio"])
    df = ra.load_twilio_recordings(status="completed", **PERIOD, **box.options("twilio"))
    name = f"{df['recording_id'][0]}.{df['container'][0]}"
    (tmp_path / "a" / "media" / "twilio").mkdir(parents=True)
    (tmp_path / "a" / "media" / "twilio" / name).symlink_to("/etc/hostname")
    with pytest.warns(ArchiveWarning, match="1 of"):
        manifest = ra.archive_twilio(tmp_path / "a", media=True, **PERIOD, **box.options("twilio"))
    assert f"media/twilio/{name}" not in manifest["files"]
    assert manifest["media"]["files"]["failed"] == 1


def test_an_archive_with_recordings_still_processing_is_not_whole(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Their rows were archived and their media skipped as unavailable, with exit 0: an archive
    # run days before the shutdown looked whole while files it could fetch later were missing.
    from recanalytics.cli import main

    box = Sandbox(seed=7, size=200, providers=["twilio"])
    rows = pl.concat(
        [
            load(**box.options("twilio"))
            for load in (ra.load_twilio_recordings, ra.load_twilio_compositions)
        ]
    )
    waiting = rows.filter(pl.col("status").is_in(["enqueued", "processing"])).height
    assert waiting > 0
    said = "1 recording is" if waiting == 1 else f"{waiting:,} recordings are"
    with pytest.warns(ArchiveWarning, match=f"{said} still being processed"):
        manifest = ra.archive_twilio(tmp_path / "a", media=True, **box.options("twilio"))
    assert manifest["media"]["pending"] == waiting
    argv = ["archive", "twilio", "--out", str(tmp_path / "b"), "--sandbox", "--size", "200"]
    assert main([*argv, "--media", "--quiet"]) == 1
    assert "still being processed" in capsys.readouterr().err


def test_an_enqueued_composition_is_pending_media(tmp_path: Path) -> None:
    # "enqueued" was not among the pending statuses: a period holding only an enqueued
    # composition archived with exit 0, the file listed as unavailable.
    box = Sandbox(seed=9, size=300, providers=["twilio"])
    rows = ra.load_twilio_compositions(**box.options("twilio"))
    enqueued = rows.filter(pl.col("status") == "enqueued")
    assert enqueued.height == 1
    made = enqueued["created_at"][0]
    period = {"since": made, "until": made + dt.timedelta(seconds=1)}
    with pytest.warns(ArchiveWarning, match="1 recording is still being processed"):
        manifest = ra.archive_twilio(tmp_path / "a", media=True, **period, **box.options("twilio"))
    assert manifest["media"]["pending"] == 1


def test_a_recording_deleted_or_gone_since_an_earlier_run_stays_archived(tmp_path: Path) -> None:
    # Running the archive again (to fetch media still pending before the shutdown) rewrote it
    # from the current listing: a track deleted on Twilio since lost its file from the
    # manifest, and one no longer listed lost its rows, though both files were on disk.
    box = Sandbox(seed=7, size=60, providers=["twilio"], small_media=True)
    out = tmp_path / "a"
    first = ra.archive_twilio(out, media=True, **box.options("twilio"))
    hashes = dict(pl.read_csv(out / "media.csv").select("recording_id", "sha256").iter_rows())
    twilio = box["twilio"]
    done = [t for t in twilio.tracks.records if t.status == "completed"]
    deleted, gone = done[0], done[1]
    deleted.status = "deleted"
    at = twilio.tracks.records.index(gone)
    del twilio.tracks.records[at], twilio.tracks.keys[at], twilio.tracks_by_sid[gone.sid]
    twilio.tracks.invalidate()
    with pytest.warns(ArchiveWarning, match="no longer listed, kept: tracks 1$"):
        again = ra.archive_twilio(out, media=True, **box.options("twilio"))
    assert again["tracks"]["recordings"] == first["tracks"]["recordings"]
    assert again["tracks"]["kept_from_earlier_runs"] == 1
    assert {k for k in again["files"] if k.startswith("media/")} == {
        k for k in first["files"] if k.startswith("media/")
    }
    rows = pl.read_parquet(out / "recordings.parquet")
    assert {deleted.sid, gone.sid} <= set(rows["recording_id"])
    assert rows.filter(pl.col("recording_id") == deleted.sid)["status"].to_list() == ["deleted"]
    assert gone.sid in set(pl.read_parquet(out / "tracks_raw.parquet")["sid"])
    media = pl.read_csv(out / "media.csv")
    assert media.filter(pl.col("recording_id") == deleted.sid)["status"].to_list() == ["kept"]
    # A kept file's line kept its size but lost its checksum (a later narrower run carried the
    # null on): the file is the one the earlier run saved, with its hash.
    for sid in (deleted.sid, gone.sid):
        line = media.filter(pl.col("recording_id") == sid).row(0, named=True)
        assert line["status"] == "kept" and line["sha256"] == hashes[sid] is not None
        assert again["files"][line["path"]]["sha256"] == line["sha256"]


def test_an_archive_folder_named_like_a_glob_pattern_keeps_what_earlier_runs_archived(
    tmp_path: Path,
) -> None:
    # polars read each table's path as a glob pattern: in "twilio-archive [2026]" a run again
    # could not read the earlier run's tables, warned that they "could not be read" and
    # replaced them with what is listed now (a track no longer listed was gone), and
    # read_archive raised a StoreError on every call.
    box = Sandbox(seed=7, size=60, providers=["twilio"], small_media=True)
    out = tmp_path / "twilio-archive [2026]"
    first = ra.archive_twilio(out, media=True, **box.options("twilio"))
    twilio = box["twilio"]
    newest = max(t.created for t in twilio.tracks.records)
    since = newest - dt.timedelta(days=60)
    gone = next(t for t in twilio.tracks.records if t.status == "completed" and t.created >= since)
    at = twilio.tracks.records.index(gone)
    del twilio.tracks.records[at], twilio.tracks.keys[at], twilio.tracks_by_sid[gone.sid]
    twilio.tracks.invalidate()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        # A narrower period: the rows outside it take their media outcome from media.csv.
        again = ra.archive_twilio(out, media=True, since=since, **box.options("twilio"))
    assert not [str(w.message) for w in caught if "could not be read" in str(w.message)]
    assert again["tracks"]["no_longer_listed"] == 1
    assert again["tracks"]["recordings"] == first["tracks"]["recordings"]
    archived, manifest = ra.read_archive(out)
    assert gone.sid in set(archived["recording_id"]) and manifest == again
    media = read_file(pl.read_csv, out / "media.csv")
    assert media.filter(pl.col("recording_id") == gone.sid)["status"].to_list() == ["kept"]


def test_a_file_that_could_not_be_fetched_again_stays_in_the_archive(tmp_path: Path) -> None:
    # A stored file whose size is not the one Twilio states is fetched again on every run
    # (the sandbox's media are stand-ins, so every file here): when that failed, the copy on
    # disk was left out of the manifest. It stays listed, and still counts as failed (not
    # known whole): the run warns and the command would exit 1.
    box = Sandbox(seed=25, size=40, providers=["twilio"])
    out = tmp_path / "a"
    first = ra.archive_twilio(out, media=True, **PERIOD, **box.options("twilio"))
    options = box.options("twilio") | {"transport": _refusing_media(box.transport)}
    with pytest.warns(ArchiveWarning, match="could not be downloaded"):
        again = ra.archive_twilio(out, media=True, **PERIOD, **options)
    assert again["media"]["files"]["failed"] == first["media"]["files"]["downloaded"]
    assert again["files"].keys() >= {k for k in first["files"] if k.startswith("media/")}
    media = pl.read_csv(out / "media.csv").filter(pl.col("status") == "failed")
    assert media["bytes"].null_count() == 0 and media["error"].null_count() == 0


def test_a_recording_no_longer_listed_is_not_asked_for_and_not_pending(tmp_path: Path) -> None:
    # Kept from an earlier run, its media URL was asked again on every run (a row deleted
    # before its media was saved failed forever), and a kept 'processing' row counted as
    # pending forever.
    box = Sandbox(seed=7, size=60, providers=["twilio"], small_media=True)
    out = tmp_path / "a"
    twilio = box["twilio"]
    waiting = next(t for t in twilio.tracks.records if t.status == "completed")
    waiting.status = "processing"
    with pytest.warns(ArchiveWarning, match="still being processed"):
        ra.archive_twilio(out, media=True, **box.options("twilio"))
    at = twilio.tracks.records.index(waiting)
    del twilio.tracks.records[at], twilio.tracks.keys[at], twilio.tracks_by_sid[waiting.sid]
    twilio.tracks.invalidate()
    pending_now = sum(t.status == "processing" for t in twilio.tracks.records)
    box.app.reset_counts()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        again = ra.archive_twilio(out, media=True, **box.options("twilio"))
    assert again["media"]["pending"] == pending_now
    assert not any(waiting.sid in str(q) for _, _, q in box.app.log)
    row = pl.read_csv(out / "media.csv").filter(pl.col("recording_id") == waiting.sid)
    assert row["status"].to_list() == ["unavailable"] and "no longer listed" in row["error"][0]
    assert all("could not be downloaded" not in str(w.message) for w in caught)


def test_an_earlier_table_of_another_shape_is_said_or_read_never_fatal(tmp_path: Path) -> None:
    # An earlier recordings.parquet with ids stored as integers crashed the archive after the
    # whole load (a polars error, no partial rows). Read as text, its row is kept; a file that
    # is not parquet is said and replaced.
    box = Sandbox(seed=25, size=40, providers=["twilio"])
    out = tmp_path / "a"
    out.mkdir()
    earlier = pl.DataFrame({"provider": ["twilio"], "kind": ["track"], "recording_id": [1]})
    earlier.write_parquet(out / "recordings.parquet")
    with pytest.warns(ArchiveWarning, match="no longer listed, kept: tracks 1$"):
        manifest = ra.archive_twilio(out, **PERIOD, **box.options("twilio"))
    assert manifest["tracks"]["kept_from_earlier_runs"] == 1
    (out / "recordings.parquet").write_bytes(b"not parquet")
    with pytest.warns(ArchiveWarning, match="recordings.parquet from an earlier run"):
        again = ra.archive_twilio(out, **PERIOD, **box.options("twilio"))
    assert again["tracks"]["kept_from_earlier_runs"] == 0 and again["tracks"]["recordings"] > 0


def test_media_paths_are_inside_the_archive_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # They were as the command was given (relative to where it ran, or absolute): moved, the
    # archive's media.csv pointed nowhere.
    box = Sandbox(seed=25, size=40, providers=["twilio"])
    monkeypatch.chdir(tmp_path)
    ra.archive_twilio("a", media=True, **PERIOD, **box.options("twilio"))
    (tmp_path / "a").rename(tmp_path / "moved")
    media = pl.read_csv(tmp_path / "moved" / "media.csv").filter(pl.col("status") == "downloaded")
    assert media.height > 0
    assert all((tmp_path / "moved" / p).is_file() for p in media["path"])
    assert all(p.startswith("media/twilio/") for p in media["path"])


def _dying(inner: httpx.AsyncBaseTransport, lists: str) -> httpx.MockTransport:
    """The sandbox as Twilio Video may answer on the day it retires: every media request 404,
    and its lists either empty (``lists="empty"``) or every recording ``deleted`` with
    ``size: 0, duration: 0`` (``lists="deleted"``)."""

    async def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/Media"):
            body = {"code": 20404, "message": "The requested resource was not found"}
            return httpx.Response(404, json=body | {"status": 404})
        response = await inner.handle_async_request(request)
        key = {"/v1/Recordings": "recordings", "/v1/Compositions": "compositions"}
        if request.url.path not in key or response.status_code != 200:
            return response
        body = json.loads(await response.aread())
        listed = body[key[request.url.path]]
        gone = {"status": "deleted", "date_deleted": "2026-12-05T00:00:00Z"}
        body[key[request.url.path]] = (
            [] if lists == "empty" else [r | gone | {"size": 0, "duration": 0} for r in listed]
        )
        return httpx.Response(200, json=body)

    return httpx.MockTransport(handler)


def test_a_dying_api_listing_everything_deleted_at_0_bytes_keeps_the_archive_s_values(
    tmp_path: Path,
) -> None:
    # Run again while Twilio listed every recording as deleted with size 0 and duration 0, the
    # archive took the listing's rows whole: 225 hours became 0.05, the bytes a twentieth, with
    # no word of it. The newer status wins; the sizes and durations are the earlier run's.
    box = Sandbox(seed=7, size=60, providers=["twilio"], small_media=True)
    out = tmp_path / "a"
    first = ra.archive_twilio(out, media=True, **box.options("twilio"))
    before = pl.read_parquet(out / "recordings.parquet")
    raw_before = pl.read_parquet(out / "tracks_raw.parquet")
    dying = box.options("twilio") | {"transport": _dying(box.transport, "deleted")}

    # The loader: a deleted recording stated as 0 s and 0 bytes has no known length (as one
    # still processing); one stated with a length keeps it.
    listed = ra.load_twilio_recordings(**dying)
    assert set(listed["status"]) == {"deleted"}
    assert listed["size_bytes"].null_count() == listed["duration"].null_count() == listed.height
    plain = ra.load_twilio_recordings(**box.options("twilio"))
    deleted = plain.filter(pl.col("status") == "deleted")
    assert deleted.height > 0 and deleted["size_bytes"].null_count() == 0

    with pytest.warns(ArchiveWarning, match=r"listed 60 tracks.*in this run.*kept: tracks \d+"):
        again = ra.archive_twilio(out, media=True, **dying)
    for part in ("tracks", "compositions"):
        assert again[part]["hours"] == first[part]["hours"] > 0
        assert again[part]["bytes"] == first[part]["bytes"] > 0
        assert again[part]["by_status"] == {"deleted": first[part]["recordings"]}
        assert again[part]["listed_now"] == first[part]["recordings"]
    measured = before.filter(pl.col("size_bytes").is_not_null()).height
    assert (
        again["tracks"]["kept_earlier_values"] + again["compositions"]["kept_earlier_values"]
        == measured
    )
    after = pl.read_parquet(out / "recordings.parquet")
    key = ["kind", "recording_id"]
    facts = ["duration", "size_bytes", "bitrate_kbps", "codec", "container", "created_at"]
    assert after.sort(key).select(facts).equals(before.sort(key).select(facts))
    # The raw table holds what Twilio sends now; what it sent before is kept beside it.
    assert set(pl.read_parquet(out / "tracks_raw.parquet")["size"].drop_nulls()) == {0}
    earlier = pl.read_parquet(out / "tracks_raw_earlier.parquet")
    assert earlier.sort("sid").equals(raw_before.sort("sid"))
    assert "tracks_raw_earlier.parquet" in again["files"]
    assert again["media"]["files"].get("kept") == first["media"]["files"]["downloaded"]

    # A third run (still dying) loses nothing either: the earlier raw rows stay, once each.
    with pytest.warns(ArchiveWarning, match="kept"):
        third = ra.archive_twilio(out, media=True, **dying)
    assert third["tracks"]["bytes"] == first["tracks"]["bytes"]
    assert pl.read_parquet(out / "tracks_raw_earlier.parquet").height == raw_before.height


def test_the_command_says_how_many_were_listed_without_the_values_it_kept(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Found by mutation testing (session 24): a listing that states no sizes or durations
    # where an earlier run archived them keeps the earlier values, and the command says how
    # many rows that was.
    from recanalytics.cli import main

    argv = ["archive", "twilio", "--out", str(tmp_path / "a"), "--sandbox", "--size", "40"]
    assert main([*argv, "--quiet"]) == 0
    served = Sandbox.options

    def dying(self: Sandbox, provider: str, **kwargs: object) -> dict[str, object]:
        options = served(self, provider, **kwargs)
        return options | {"transport": _dying(options["transport"], "deleted")}  # type: ignore[arg-type]

    monkeypatch.setattr(Sandbox, "options", dying)
    capsys.readouterr()
    main([*argv, "--quiet"])
    printed = capsys.readouterr().out
    manifest = json.loads((tmp_path / "a" / "manifest.json").read_text())
    for part in ("tracks", "compositions"):
        filled = manifest[part]["kept_earlier_values"]
        assert filled > 0
        line = next(line for line in printed.splitlines() if line.startswith(f"{part}: "))
        assert line.endswith(
            f"; {filled:,} listed without the sizes/durations an earlier run kept)"
        )


def test_an_api_that_lists_nothing_is_said_and_pending_media_lost_is_not_whole(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Run again while Twilio listed nothing, the command printed the usual totals and exited
    # 0 (kept_from_earlier_runs only in manifest.json), though recordings it had archived
    # while still processing now have no media anywhere.
    from recanalytics.cli import main

    argv = ["archive", "twilio", "--out", str(tmp_path / "a"), "--sandbox", "--size", "200"]
    assert main([*argv, "--media", "--quiet"]) == 1  # recordings still being processed
    capsys.readouterr()
    first = json.loads((tmp_path / "a" / "manifest.json").read_text())
    waiting = first["media"]["pending"]
    assert waiting > 0
    served = Sandbox.options

    def retired(self: Sandbox, provider: str, **kwargs: object) -> dict[str, object]:
        options = served(self, provider, **kwargs)
        return options | {"transport": _dying(options["transport"], "empty")}  # type: ignore[arg-type]

    monkeypatch.setattr(Sandbox, "options", retired)
    assert main([*argv, "--media", "--quiet"]) == 1
    printed = capsys.readouterr()
    kept = first["tracks"]["recordings"]
    assert f"tracks: {kept:,} recordings" in printed.out
    assert (
        f"(0 listed by twilio in this run; {kept:,} kept from earlier runs, {kept:,} of them "
        "no longer listed)" in printed.out
    )
    assert "twilio listed no recordings in this run" in printed.err
    said = f"{waiting:,} recordings were" if waiting > 1 else "1 recording was"
    assert f"{said} still being processed when an earlier run archived" in printed.err
    manifest = json.loads((tmp_path / "a" / "manifest.json").read_text())
    assert manifest["media"]["pending_not_listed"] == waiting
    assert manifest["media"]["pending"] == 0  # none can be fetched by running again

    with pytest.warns(ArchiveWarning) as caught:
        box = Sandbox(seed=7, size=200, providers=["twilio"], small_media=True)
        again = ra.archive_twilio(tmp_path / "a", media=True, **box.options("twilio"))
    assert again["tracks"]["listed_now"] == 0
    assert again["tracks"]["kept_from_earlier_runs"] == again["tracks"]["no_longer_listed"] == kept
    messages = [str(w.message) for w in caught]
    assert any("twilio listed 0 tracks, 0 compositions in this run" in m for m in messages)
    assert any(f"{said} still being processed when an earlier run" in m for m in messages)


def test_an_archive_reads_back_without_the_provider(tmp_path: Path) -> None:
    box = Sandbox(seed=25, size=40, providers=["twilio"])
    manifest = ra.archive_twilio(tmp_path / "a", **PERIOD, **box.options("twilio"))
    archived, read = ra.read_archive(tmp_path / "a")
    assert read == json.loads((tmp_path / "a" / "manifest.json").read_text())
    assert read["tracks"] == manifest["tracks"]
    assert archived.schema == ra.SCHEMA
    assert archived.equals(pl.read_parquet(tmp_path / "a" / "recordings.parquet"))
    with pytest.raises(ra.ConfigError, match="an archive folder") as info:
        ra.read_archive(tmp_path)
    assert info.value.parameter == "path"
    (tmp_path / "a" / "manifest.json").write_text("not json")
    with pytest.raises(StoreError, match=r"manifest\.json: could not be read"):
        ra.read_archive(tmp_path / "a")


def _interrupted_at_media(
    inner: httpx.AsyncBaseTransport, nth: int, stop: type[BaseException]
) -> httpx.MockTransport:
    """The sandbox, until the ``nth`` Twilio ``/Media`` request: it raises ``stop`` (Ctrl-C)."""
    asked = 0

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal asked
        if request.url.path.endswith("/Media"):
            asked += 1
            if asked == nth:
                raise stop
        return await inner.handle_async_request(request)

    return httpx.MockTransport(handler)


def _as_written(root: Path) -> dict[str, bytes]:
    """Every file the archive's manifest lists outside media/, and the manifest, as bytes."""
    listed = json.loads((root / "manifest.json").read_text())["files"]
    names = [n for n in listed if not n.startswith("media/")]
    return {name: (root / name).read_bytes() for name in [*names, "manifest.json"]}


def _media_of(manifest: dict[str, Any]) -> dict[str, Any]:
    """What a manifest says of the media: its section, and its media files' entries."""
    files = {n: e for n, e in manifest["files"].items() if n == "media.csv" or "media/" in n}
    return {"media": manifest.get("media"), "files": files}


def _stopped_in_media(out: Path, first: dict[str, Any], before: pl.DataFrame) -> None:
    """What a run stopped in its media step left in ``out`` (an archive ``first`` wrote with
    the rows ``before``): the new listing in place, its manifest describing it, and the earlier
    media section and media.csv, still true of the files they list."""
    with pytest.warns(ArchiveWarning, match="media download of the archive run of .* stopped"):
        archived, manifest = ra.read_archive(out)
    assert archived.height > before.height
    assert set(before["recording_id"]) <= set(archived["recording_id"])
    assert archived.height == sum(
        manifest[part]["recordings"] for part in ("tracks", "compositions")
    )
    assert _media_of(manifest) == _media_of(first)
    assert manifest["media_unfinished"] == manifest["created"]
    listed = pl.read_csv(out / "media.csv")
    assert listed.height == before.height  # the first run's media.csv, as its manifest hashed


@pytest.mark.parametrize("stop", [KeyboardInterrupt, SystemExit])
def test_an_archive_run_again_and_interrupted_keeps_its_new_listing_readable(
    stop: type[BaseException], tmp_path: Path
) -> None:
    # A first run over a narrow period, then the same command without since, stopped (Ctrl-C)
    # during the media download: the tables were already the new run's (318 rows) while
    # manifest.json and media.csv still described the first (45), its hashes no longer matching,
    # and read_archive returned the pair without a word. Then the new listing waited, unread,
    # for the media step's end: a run stopped there kept none of it. The listing is put in place
    # first, with a manifest describing it and the earlier media section.
    box = Sandbox(seed=7, size=120, providers=["twilio"], small_media=True)
    out = tmp_path / "a"
    narrow = {"since": "2026-06-01", "until": "2026-11-01"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ArchiveWarning)  # recordings still processing
        first = ra.archive_twilio(out, media=True, **narrow, **box.options("twilio"))
    archived_before, _ = ra.read_archive(out)
    options = box.options("twilio") | {"transport": _interrupted_at_media(box.transport, 5, stop)}
    with pytest.raises(stop):
        ra.archive_twilio(out, media=True, **options)
    _stopped_in_media(out, first, archived_before)
    assert _hidden(out) == [LOCK_NAME]  # no staged table left
    # Run again, it goes on: the files the interrupted run saved are there, the rest fetched.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ArchiveWarning)
        whole = ra.archive_twilio(out, media=True, **box.options("twilio"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # finished: nothing to say
        archived, manifest = ra.read_archive(out)
    assert archived.height > archived_before.height and manifest == whole
    assert "media_unfinished" not in manifest
    assert set(archived_before["recording_id"]) <= set(archived["recording_id"])


def test_a_first_run_stopped_in_its_media_step_keeps_its_listing(tmp_path: Path) -> None:
    # Ctrl-C during the first run's media download left only media/: the listing (33 rows,
    # unified and raw) was gone, and once Twilio was retired nothing could bring it back; a
    # run while Twilio listed nothing then wrote a 0-row archive, exit 0.
    box = Sandbox(seed=7, size=60, providers=["twilio"], small_media=True)
    out = tmp_path / "a"
    listed = ra.load_twilio_recordings(**box.options("twilio"))
    options = box.options("twilio") | {
        "transport": _interrupted_at_media(box.transport, 3, KeyboardInterrupt)
    }
    with pytest.raises(KeyboardInterrupt):
        ra.archive_twilio(out, media=True, **options)
    with pytest.warns(ArchiveWarning, match="stopped before it finished"):
        archived, manifest = ra.read_archive(out)
    assert set(listed["recording_id"]) <= set(archived["recording_id"])
    assert "media" not in manifest and manifest["tracks"]["listed_now"] == listed.height
    assert pl.read_parquet(out / "tracks_raw.parquet").height == listed.height
    # Twilio now lists nothing: every row stays.
    empty = box.options("twilio") | {"transport": _dying(box.transport, "empty")}
    with pytest.warns(ArchiveWarning, match="listed 0 tracks, 0 compositions in this run"):
        again = ra.archive_twilio(out, **empty)
    assert again["tracks"]["recordings"] == listed.height
    assert again["tracks"]["no_longer_listed"] == listed.height


def test_read_archive_says_which_file_is_not_the_one_its_manifest_describes(
    tmp_path: Path,
) -> None:
    box = Sandbox(seed=25, size=40, providers=["twilio"])
    out = tmp_path / "a"
    manifest = ra.archive_twilio(out, **PERIOD, **box.options("twilio"))
    written = (out / "recordings.parquet").read_bytes()
    held = pl.read_parquet(out / "recordings.parquet")
    # A table of another run (or edited) beside the manifest: the rows are not its.
    held.head(3).write_parquet(out / "recordings.parquet")
    listed = manifest["tracks"]["recordings"] + manifest["compositions"]["recordings"]
    said = rf"recordings\.parquet: holds 3 rows, manifest\.json says {listed}.*run the archive"
    with pytest.raises(StoreError, match=said) as info:
        ra.read_archive(out)
    assert info.value.partial is not None and info.value.partial.height == 3
    # As many rows, one value changed: not the rows the manifest totals.
    held.with_columns(room_name=pl.lit("edited")).write_parquet(out / "recordings.parquet")
    with pytest.raises(StoreError, match=r"recordings\.parquet: .*not the file manifest\.json"):
        ra.read_archive(out)
    (out / "recordings.parquet").write_bytes(written)
    archived, _ = ra.read_archive(out)
    assert archived.height == listed
    # Another table changed (a raw table), or missing: said, the rows still returned.
    (out / "tracks_raw.parquet").write_bytes(b"edited")
    (out / "recordings.csv").unlink()
    with pytest.warns(
        ArchiveWarning, match=r"recordings\.csv is missing; tracks_raw\.parquet is not"
    ):
        archived, _ = ra.read_archive(out)
    assert archived.height == listed


KILLED_AT_MEDIA = """
import os, signal, sys
sys.path[:0] = [{root!r}]
import httpx
import recanalytics as ra
from recanalytics.sandbox import Sandbox

box = Sandbox(seed=7, size=120, providers=["twilio"], small_media=True)
asked = 0


async def handler(request):
    global asked
    if request.url.path.endswith("/Media"):
        asked += 1
        if asked == 5:
            print("killed", flush=True)
            os.kill(os.getpid(), signal.SIGKILL)  # as kill -9: nothing runs after it
    return await box.transport.handle_async_request(request)


options = box.options("twilio") | {{"transport": httpx.MockTransport(handler)}}
ra.archive_twilio({out!r}, media=True, progress=False, **options)
"""


def test_an_archive_run_again_and_killed_keeps_its_new_listing_readable(tmp_path: Path) -> None:
    # kill -9 during the media download: no cleanup runs, so what the folder holds then is
    # what a user finds. The new listing, and a manifest describing it with the earlier media.
    import signal
    import subprocess
    import sys

    box = Sandbox(seed=7, size=120, providers=["twilio"], small_media=True)
    out = tmp_path / "a"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ArchiveWarning)  # recordings still processing
        first = ra.archive_twilio(
            out, media=True, since="2026-06-01", until="2026-11-01", **box.options("twilio")
        )
    archived_before, _ = ra.read_archive(out)
    script = KILLED_AT_MEDIA.format(root=str(Path(__file__).parent.parent), out=str(out))
    try:
        done = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, timeout=300
        )
    except subprocess.TimeoutExpired:
        pytest.fail("the archive run was not killed at its 5th media request")
    assert done.returncode == -signal.SIGKILL and "killed" in done.stdout, done.stderr[-3000:]
    _stopped_in_media(out, first, archived_before)
    # Its tables were put in place before the kill: no staged table is left. A staged file
    # another run still holds stays through the next run.
    assert _hidden(out) == [LOCK_NAME]
    held = out / ".recordings.parquet.held.tmp"
    with held.open("w") as file:
        assert try_lock(file.fileno())
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ArchiveWarning)
            whole = ra.archive_twilio(out, media=True, **box.options("twilio"))
        assert _hidden(out) == sorted([held.name, LOCK_NAME])
    archived, manifest = ra.read_archive(out)
    assert manifest == whole and archived.height > archived_before.height


def _stage_as_killed(table: Path) -> None:
    """Move an archive's table to where a run killed before putting it in place left it (an
    older version's, which locked the staged file itself)."""
    table.rename(table.with_name(f".{table.name}.k1ll3d.tmp"))


def test_the_rows_a_killed_run_staged_are_read_and_kept_by_the_next_run(tmp_path: Path) -> None:
    # An older version's first run killed during its media download left its rows only in
    # hidden staged tables: read_archive said 'expected an archive folder', and the next run
    # (Twilio listing nothing) removed them and wrote a 0-row archive, exit 0.
    box = Sandbox(seed=7, size=60, providers=["twilio"])
    out = tmp_path / "a"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ArchiveWarning)
        first = ra.archive_twilio(out, **box.options("twilio"))
    rows = pl.read_parquet(out / "recordings.parquet")
    for name in ("recordings.parquet", "tracks_raw.parquet", "compositions_raw.parquet"):
        _stage_as_killed(out / name)
    for name in ("manifest.json", "recordings.csv"):
        (out / name).unlink()
    with pytest.raises(ra.UnfinishedArchiveError, match="killed archive run left its rows") as info:
        ra.read_archive(out)
    assert info.value.partial is not None and info.value.partial.height == rows.height
    empty = box.options("twilio") | {"transport": _dying(box.transport, "empty")}
    with pytest.warns(ArchiveWarning, match="listed 0 tracks"):
        again = ra.archive_twilio(out, **empty)
    for part in ("tracks", "compositions"):
        assert again[part]["recordings"] == first[part]["recordings"] > 0
    archived, _ = ra.read_archive(out)
    key = ["kind", "recording_id"]
    assert archived.sort(key).equals(rows.sort(key))
    assert pl.read_parquet(out / "tracks_raw.parquet").height == first["tracks"]["recordings"]
    assert _hidden(out) == [LOCK_NAME]


def test_an_archive_run_again_on_a_full_disk_leaves_the_earlier_archive_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    box = Sandbox(seed=27, size=40, providers=["twilio"])
    out = tmp_path / "a"
    ra.archive_twilio(out, since="2026-06-01", until="2026-11-01", **box.options("twilio"))
    before = _as_written(out)
    _disk_full_at("recordings.csv", monkeypatch)
    with pytest.raises(StoreError, match=r"recordings\.csv.*No space left"):
        ra.archive_twilio(out, **PERIOD, **box.options("twilio"))
    assert _as_written(out) == before
    assert _hidden(out) == [LOCK_NAME]


def test_an_archive_whose_media_csv_cannot_be_written_keeps_its_listing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A full disk at the media step's end lost the whole run: its tables were put in place
    # with the manifest, after media.csv. They are in place before the media step now.
    box = Sandbox(seed=27, size=40, providers=["twilio"], small_media=True)
    out = tmp_path / "a"
    listed = ra.load_twilio_recordings(**PERIOD, **box.options("twilio"))
    _disk_full_at("media.csv", monkeypatch)
    with pytest.raises(StoreError, match=r"media\.csv.*No space left"):
        ra.archive_twilio(out, media=True, **PERIOD, **box.options("twilio"))
    with pytest.warns(ArchiveWarning, match="media download of the archive run of"):
        archived, manifest = ra.read_archive(out)
    assert manifest["tracks"]["recordings"] == listed.height > 0
    assert set(listed["recording_id"]) <= set(archived["recording_id"])
    assert not (out / "media.csv").exists() and "media" not in manifest


def test_an_older_version_s_archive_run_again_on_a_dying_api_keeps_its_hours_and_bytes(
    tmp_path: Path,
) -> None:
    # An archive an older version wrote (its manifest records no reading) run again while
    # Twilio listed everything deleted at 0 s and 0 bytes: no earlier value was carried, as if
    # every column had been read otherwise since, and hours and bytes fell to a third. Only
    # the columns Twilio's newer reading changed (track_name) are not carried.
    box = Sandbox(seed=7, size=60, providers=["twilio"])
    out = tmp_path / "a"
    first = ra.archive_twilio(out, **box.options("twilio"))
    manifest = json.loads((out / "manifest.json").read_text())
    manifest.pop("reading")
    (out / "manifest.json").write_text(json.dumps(manifest))
    (out / "manifest.json").chmod(0o600)
    dying = box.options("twilio") | {"transport": _dying(box.transport, "deleted")}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ArchiveWarning)
        again = ra.archive_twilio(out, **dying)
    for part in ("tracks", "compositions"):
        assert again[part]["hours"] == first[part]["hours"] > 0
        assert again[part]["bytes"] == first[part]["bytes"] > 0
