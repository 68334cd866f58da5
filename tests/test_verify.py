"""verify_media and fill_from_media end to end: the sandbox's real files through download_media,
with every planted fault found and nothing else flagged; the archive verifying itself."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from provider_cases import MEDIA_AUTH, mock_endpoint, registered_loaders, sync_loader

import recanalytics as ra
from recanalytics.cli import main
from recanalytics.sandbox import Sandbox
from recanalytics.schema import PROVIDERS

FAST = {"rate_limit": 1000.0}
KEYS = ["provider", "recording_id"]
# fault planted by the sandbox -> the problems verify_media must report for it
REPORTED = {
    "truncated": {"truncated", "size_differs"},
    "duration": {"duration_off"},
    "codec": {"codec_differs"},
}


@pytest.fixture(scope="module")
def box() -> Sandbox:
    return Sandbox(seed=8, size=120, small_media=True)


@pytest.fixture(scope="module")
def recordings(box: Sandbox) -> pl.DataFrame:
    # Every registered loader; those that default to recent days are asked for everything.
    period = {"since": box.config.start, "until": box.config.end}
    return pl.concat(
        [
            sync_loader(loader)(
                **(period if mock_endpoint(loader).span else {}),
                **box.options(loader.provider),
                **FAST,
            )
            for loader in registered_loaders()
        ]
    )


@pytest.fixture(scope="module")
def downloaded(
    box: Sandbox, recordings: pl.DataFrame, tmp_path_factory: pytest.TempPathFactory
) -> pl.DataFrame:
    credentials: dict[str, Any] = {name: box.credentials(name) for name in MEDIA_AUTH}
    return ra.download_media(
        recordings,
        tmp_path_factory.mktemp("media"),
        credentials=credentials,
        transport=box.transport,
        base_url=box.options("twilio")["base_url"],  # the sandbox host: credentials may go there
        max_concurrency=8,
    )


@pytest.mark.parametrize("decode", [False, True], ids=["index", "decode"])
def test_every_planted_fault_is_found_and_nothing_else(
    box: Sandbox, recordings: pl.DataFrame, downloaded: pl.DataFrame, decode: bool
) -> None:
    check = ra.verify_media(recordings, ra.probe_media(downloaded, decode=decode))
    files = check.files.filter("expected")
    assert files.height == downloaded.filter(pl.col("status") == "downloaded").height > 100
    planted = box.planted_media().join(files.select(KEYS), on=KEYS)
    # Every provider, every fault kind and every format family is exercised.
    assert set(planted["fault"]) == set(REPORTED)
    assert set(planted["provider"]) == set(PROVIDERS)
    assert {"mka", "mkv", "mp4", "webm", "m4a", "mp3", "wav", "vtt", "txt", "json"} <= set(
        files["container_file"].drop_nulls()
    )
    found = {
        (p, r): set(problems)
        for p, r, problems in files.filter(~pl.col("ok")).select(*KEYS, "problems").iter_rows()
    }
    wanted = {
        # Plivo and SignalWire report no size: a cut file differs from nothing.
        (p, r): REPORTED[fault] - ({"size_differs"} if p in ("plivo", "signalwire") else set())
        for p, r, fault in planted.iter_rows()
    }
    assert found == wanted
    totals = check.totals
    assert totals["files"] == files.height and totals["ok"] == files.height - len(wanted)
    assert totals["missing"] == totals["undecodable"] == totals["container_differs"] == 0
    assert check.verdict.startswith(f"{files.height} files, {totals['ok']} ok: ")
    assert f"{totals['truncated']} truncated" in check.verdict and not check.ok


def test_clean_files_verify_ok_and_missing_files_are_reported(
    box: Sandbox, recordings: pl.DataFrame, downloaded: pl.DataFrame
) -> None:
    clean = recordings.join(box.planted_media(), on=KEYS, how="anti")
    probed = ra.probe_media(downloaded)
    check = ra.verify_media(clean, probed)
    assert check.ok and check.verdict.endswith("files, all decodable and matching the metadata")
    assert repr(check).startswith("MediaVerification('")
    gone = ra.verify_media(clean, probed.head(0))
    assert gone.totals["missing"] == gone.totals["files"] > 0
    assert gone.files.filter("expected")["problems"].to_list()[0] == ["missing"]
    with pytest.raises(ra.ConfigError, match="tolerance"):
        ra.verify_media(clean, probed, tolerance=-1)
    # NaN passed every comparison's "not more than" test and infinity every duration: either
    # switched the check off without a word.
    for bad in ({"tolerance": float("nan")}, {"relative_tolerance": float("inf")}):
        with pytest.raises(ra.ConfigError, match=f"{next(iter(bad))}.*finite"):
            ra.verify_media(clean, probed, **bad)  # type: ignore[arg-type]
    with pytest.raises(ra.ConfigError, match="probed"):
        ra.verify_media(clean, downloaded)  # the download result, not the probe
    with pytest.raises(ra.ConfigError, match=r"recordings.*size_bytes"):
        ra.fill_from_media(clean.drop("size_bytes"), probed)


def test_a_tolerance_wider_than_the_planted_offset_accepts_it(
    recordings: pl.DataFrame, downloaded: pl.DataFrame
) -> None:
    probed = ra.probe_media(downloaded)
    assert ra.verify_media(recordings, probed).totals["duration_off"] > 0
    assert ra.verify_media(recordings, probed, tolerance=11).totals["duration_off"] == 0


def test_the_duration_tolerance_does_not_grow_with_the_recording(
    box: Sandbox, recordings: pl.DataFrame, probed: pl.DataFrame
) -> None:
    # 1 % of the duration was tolerated: a 10-minute call whose file lacks its last 5 s (a
    # Plivo or SignalWire MP3, timed by the bytes present, with no size to differ from) was
    # ok, and a 3-hour one could lose 108 s. Whole seconds of rounding and a last frame are.
    clean = probed.filter(pl.col("error").is_null() & (pl.col("media_type") == "audio"))
    row = (
        recordings.join(box.planted_media(), on=KEYS, how="anti")
        .filter(
            pl.col("recording_id").is_in(clean["recording_id"].implode())
            & (pl.col("media_type") == "audio")
        )
        .head(1)
    )
    found = probed.join(row.select(pl.col("provider").cast(pl.String), "recording_id"), on=KEYS)
    for hours, short, problems in [(1 / 6, 5.0, ["duration_off"]), (3, 1.4, [])]:
        stated = dt.timedelta(hours=hours)
        file = found.with_columns(duration=pl.lit(stated - dt.timedelta(seconds=short)))
        check = ra.verify_media(row.with_columns(duration=pl.lit(stated)), file)
        assert check.files["problems"].to_list() == [problems], (hours, short)
    assert ra.verify_media(
        row.with_columns(duration=pl.lit(dt.timedelta(minutes=10))),
        found.with_columns(duration=pl.lit(dt.timedelta(seconds=595))),
        relative_tolerance=0.01,
    ).ok  # asked for


def test_fill_from_media_fills_only_what_providers_leave_out(
    box: Sandbox, recordings: pl.DataFrame, downloaded: pl.DataFrame
) -> None:
    probed = ra.probe_media(downloaded)
    filled = ra.fill_from_media(recordings, probed)
    assert filled.columns[: len(recordings.columns)] == recordings.columns
    assert filled.height == recordings.height
    plivo = filled.filter((pl.col("provider") == "plivo") & (pl.col("status") == "completed"))
    # A file that failed its probe (the planted cut copies) fills nothing.
    cut = plivo.join(box.planted_media().filter(fault="truncated"), on=KEYS, how="semi")
    assert cut.height > 0 and cut["size_bytes"].null_count() == cut.height
    plivo = plivo.join(cut, on=KEYS, how="anti")
    assert plivo["size_bytes_source"].unique().to_list() == ["media"]
    assert plivo["channels"].to_list() == [1] * plivo.height
    assert (plivo["bitrate_kbps"] > 0).all()
    twilio = filled.filter(pl.col("provider") == "twilio")
    # Provider values are kept, even where the file disagrees (planted codec faults).
    assert (
        twilio["codec"].to_list()
        == recordings.filter(pl.col("provider") == "twilio")["codec"].to_list()
    )
    assert set(twilio["size_bytes_source"].drop_nulls()) == {"provider"}
    signalwire = filled.filter(
        (pl.col("provider") == "signalwire") & pl.col("size_bytes").is_not_null()
    )
    assert signalwire.height > 0 and set(signalwire["channels_source"]) == {"provider"}
    unknown = filled.filter(pl.col("size_bytes").is_null())
    assert unknown.height > 0 and unknown["size_bytes_source"].null_count() == unknown.height


def test_download_media_verify_adds_the_outcome(
    box: Sandbox, recordings: pl.DataFrame, tmp_path: Path
) -> None:
    sample = pl.concat(
        [
            recordings.join(box.planted_media(), on=KEYS, how="semi").head(4),
            recordings.filter(pl.col("provider") == "plivo").head(2),
        ]
    )
    result = ra.download_media(
        sample,
        tmp_path,
        credentials={name: box.credentials(name) for name in MEDIA_AUTH},
        transport=box.transport,
        base_url=box.options("twilio")["base_url"],
        verify=True,
    )
    assert result.columns[-2:] == ["verified", "problems"]
    planted = set(box.planted_media()["recording_id"])
    for row in result.iter_rows(named=True):
        assert row["verified"] is (row["recording_id"] not in planted)
        assert bool(row["problems"]) is (row["recording_id"] in planted)
    written = pl.read_parquet(tmp_path / "verification.parquet")
    assert set(written.filter(~pl.col("ok"))["recording_id"]) == planted & set(
        sample["recording_id"]
    )
    verdict = json.loads((tmp_path / "verification.json").read_text())
    assert verdict["verdict"] and "files" in verdict["verdict"]
    with pytest.raises(ra.ConfigError, match="verify"):
        ra.download_media(sample, tmp_path, verify="yes")  # type: ignore[arg-type]


def test_archive_verifies_itself(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    box = Sandbox(seed=8, size=60, providers=["twilio"], small_media=True)
    out = tmp_path / "archive"
    manifest = ra.archive_twilio(out, media=True, verify=True, **box.options("twilio"))
    verification = manifest["verification"]
    files = pl.read_parquet(out / "verification.parquet")
    assert verification["files"] == files["expected"].sum() > 0
    assert (
        verification["files"] - verification["ok"]
        == box.planted_media().join(files.filter("expected").select(KEYS), on=KEYS).height
    )
    assert "verification.parquet" in manifest["files"]
    assert json.loads((out / "manifest.json").read_text())["verification"] == verification
    with pytest.raises(ra.ConfigError, match="verify"):
        ra.archive_twilio(out, verify=True, **box.options("twilio"))

    code = main(
        [
            *("archive", "twilio", "--out", str(tmp_path / "cli")),
            *("--sandbox", "--size", "40", "--media", "--verify", "--quiet"),
        ]
    )
    text = capsys.readouterr().out
    line = next(line for line in text.splitlines() if line.startswith("verification: "))
    assert " files, " in line and (code == 0) is line.endswith("matching the metadata")
    assert (tmp_path / "cli" / "verification.parquet").is_file()
    assert main(["archive", "twilio", "--out", str(tmp_path / "x"), "--sandbox", "--verify"]) == 2


@pytest.fixture(scope="module")
def probed(downloaded: pl.DataFrame) -> pl.DataFrame:
    return ra.probe_media(downloaded)


@pytest.mark.parametrize(
    ("call", "parameter"),
    [
        pytest.param(
            lambda rec, probed: ra.verify_media(
                rec.with_columns(duration=pl.col("duration").dt.to_string()), probed
            ),
            "recordings",
            id="verify-duration-text",
        ),
        pytest.param(
            lambda rec, probed: ra.verify_media(rec.with_columns(size_bytes=pl.lit("12")), probed),
            "recordings",
            id="verify-size-text",
        ),
        pytest.param(
            lambda rec, probed: ra.verify_media(
                rec, probed.with_columns(duration=pl.col("duration").dt.to_string())
            ),
            "probed",
            id="verify-probed-duration-text",
        ),
        pytest.param(
            lambda rec, probed: ra.fill_from_media(
                rec.with_columns(recording_id=pl.int_range(pl.len())), probed
            ),
            "recordings",
            id="fill-integer-ids",
        ),
    ],
)
def test_columns_of_another_type_are_named(
    recordings: pl.DataFrame, probed: pl.DataFrame, call: Any, parameter: str
) -> None:
    # They failed deep in a join or a cast with polars' SchemaError or ComputeError.
    with pytest.raises(ra.ConfigError, match=f"invalid {parameter}"):
        call(recordings, probed)


def test_numbers_that_do_not_fit_read_as_unknown(
    recordings: pl.DataFrame, probed: pl.DataFrame
) -> None:
    # Untyped all-null columns and 300 channels (Int8 holds 127) were polars cast errors.
    rec = recordings.with_columns(size_bytes=pl.lit(None), codec=pl.lit(None))
    filled = ra.fill_from_media(rec, probed.with_columns(channels=pl.lit(300)))
    assert filled.height == recordings.height
    assert filled["size_bytes"].null_count() < filled.height  # filled from the files
    assert filled.filter(pl.col("channels_source") == "media").height == 0


def test_an_audio_file_holding_no_sound_is_never_ok(
    recordings: pl.DataFrame, downloaded: pl.DataFrame, tmp_path: Path
) -> None:
    # A WAV holding S3's <Error> XML was 'container different' only (ok where the row stated
    # no container); one whose header was zeroed probed as 'vvc' video and was ok; a file
    # without a duration passed the duration check.
    wavs = (
        downloaded.join(
            recordings.select(
                pl.col("provider").cast(pl.String), "recording_id", "media_type", "duration"
            ),
            on=KEYS,
        )
        .filter((pl.col("status") == "downloaded") & pl.col("path").str.ends_with(".wav"))
        .filter((pl.col("media_type") == "audio") & pl.col("duration").is_not_null())
        .head(3)
    )
    assert wavs.height == 3
    copies = [tmp_path / f"{i}.wav" for i in range(3)]
    data = Path(wavs["path"][1]).read_bytes()
    copies[0].write_bytes(b'<?xml version="1.0"?><Error><Code>AccessDenied</Code></Error>')
    copies[1].write_bytes(b"\0" * 44 + data[44:])
    copies[2].write_bytes(Path(wavs["path"][2]).read_bytes())
    files = wavs.with_columns(path=pl.Series([str(p) for p in copies]))
    ids = wavs["recording_id"].implode()
    rows = recordings.filter(pl.col("recording_id").is_in(ids)).with_columns(container=pl.lit(None))
    probed = ra.probe_media(files, decode=True)
    check = ra.verify_media(rows, probed)
    problems = dict(
        zip(check.files["recording_id"], check.files["problems"].to_list(), strict=True)
    )
    errors = dict(zip(check.files["recording_id"], check.files["error"], strict=True))
    first, second, third = wavs["recording_id"]
    assert "undecodable" in problems[first] and "undecodable" in problems[second]
    assert "no audio" in errors[second]
    assert problems[third] == []
    # The third without the duration its row states is not of that length.
    undated = probed.with_columns(
        duration=pl.when(pl.col("recording_id") == third).then(None).otherwise("duration")
    )
    again = ra.verify_media(rows, undated).files.filter(pl.col("recording_id") == third)
    assert again["problems"].to_list() == [["duration_off"]] and not again["ok"][0]
