"""Totals as the archive, the report, the CLI and the explorer show them, from real loaders
reading a fake API: never wrapped around, unknown never 0, a small amount never 0, and every
total saying what it counts."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import polars as pl
import pytest
from synthetic import synthetic_frame

import recanalytics as ra
from recanalytics.archive import archive
from recanalytics.cli import archived_totals, print_table, provider_summary
from recanalytics.report import report_html, summary_table
from recanalytics.widgets import summary_line
from tests.numbers_fake import PERIOD, Fake, plivo, signalwire, track, zoom_session

INT64_MAX = 2**63 - 1


def quiet_archive(fake: Fake, out: Path) -> dict[str, object]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return archive("twilio", out, **PERIOD, **fake.options("twilio"))


def test_archive_totals_never_wrap_and_unknown_stays_unknown(tmp_path: Path) -> None:
    fake = Fake()
    # A size of 2**63 - 1 beside 1000 bytes: a plain Int64 sum wrapped to a negative total.
    fake.tracks = [track(1, INT64_MAX, 60), track(2, 1000, 60)]
    manifest = quiet_archive(fake, tmp_path / "big")
    tracks = manifest["tracks"]
    assert isinstance(tracks, dict)
    assert tracks["bytes"] is None and tracks["hours"] == round(120 / 3600, 3)
    assert archived_totals("tracks", tracks) == "tracks: 2 recordings, 0.033 h, n/a GiB"
    # No composition listed: nothing recorded, 0 (not unknown).
    compositions = manifest["compositions"]
    assert isinstance(compositions, dict)
    assert (compositions["hours"], compositions["bytes"]) == (0.0, 0)

    # Every size and duration unknown (a recording still processing states 0 s and 0 bytes):
    # the totals are unknown, not 0 hours and 0 bytes.
    fake.tracks = [track(3, "not a number", "not a number")]
    manifest = quiet_archive(fake, tmp_path / "unknown")
    tracks = manifest["tracks"]
    assert isinstance(tracks, dict)
    assert (tracks["hours"], tracks["bytes"]) == (None, None)
    assert archived_totals("tracks", tracks) == "tracks: 1 recording, n/a h, n/a GiB"


def test_archive_line_never_shows_a_small_size_as_zero(tmp_path: Path) -> None:
    fake = Fake()
    fake.tracks = [track(1, 24_250, 2)]
    manifest = quiet_archive(fake, tmp_path / "small")
    tracks = manifest["tracks"]
    assert isinstance(tracks, dict)
    assert archived_totals("tracks", tracks) == "tracks: 1 recording, 0.001 h, 0.0000226 GiB"


def test_archive_line_says_none_archived_as_zero_not_unknown() -> None:
    # Found by mutation testing (session 24): no composition listed is 0 hours, not "n/a h".
    nothing = {"recordings": 0, "hours": 0.0, "bytes": 0}
    assert archived_totals("compositions", nothing) == "compositions: 0 recordings, 0.0 h, 0.00 GiB"


def test_the_size_readout_reads_large_sizes_without_an_exponent() -> None:
    fake = Fake()
    fake.tracks = [track(1, 1_100_000_000_000_000, 60), track(2, 5 * 2**50, 60)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        panel = ra.explore(fake.load("twilio"), renderer="svg").panel
    size = panel.controls["size"]
    size.value = (15.05, size.max)  # 10**15.05 bytes: 1020 TiB
    panel.flush()
    low, high = panel.size_readout.value.split(" – ")
    assert low == "1020 TiB"  # it read "1.02e+03 TiB"
    assert high.endswith(" PiB") and "e+" not in high


def small_amounts() -> Fake:
    """A 2-minute Plivo call at $0.0012 a month, a 4-second SignalWire one whose price is not
    known beside one at $0.0025, and a 24,250-byte Zoom file."""
    fake = Fake()
    fake.plivo = [plivo(1, "61000", "0.0008"), plivo(2, "59999.5", "0.0004")]
    fake.signalwire = [signalwire(1, 4, None), signalwire(2, 30, "-0.0025")]
    fake.zoom = [zoom_session([("MP4", 24_250)], minutes=20)]
    return fake


def test_small_amounts_never_read_as_zero_in_the_table_report_and_explorer() -> None:
    frame = small_amounts().load("plivo", "signalwire", "zoom")
    table = {row["provider"]: row for row in summary_table(frame).iter_rows(named=True)}
    assert table["plivo"]["hours"] == 0.0336  # it read 0.0
    assert table["plivo"]["USD/month"] == 0.0012 and table["plivo"]["reported cost"] == 0.0012
    assert table["zoom"]["size (KiB)"] == 23.68
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        page = report_html(frame)
        line = ra.explore(frame, renderer="svg").summary.value
    cells = summary_cells(page)
    assert cells["plivo"][2] == "0.0336" and cells["plivo"][-3:-1] == ["0.0012", "0.0012"]
    assert "0.0336 hours" in summary_line(frame.filter(pl.col("provider") == "plivo"))
    assert "0.0 hours" not in line and "$0.00/month" not in line


def test_a_total_leaving_out_unknown_values_says_how_many(
    capsys: pytest.CaptureFixture[str],
) -> None:
    frame = small_amounts().load("plivo", "signalwire")
    cells = summary_cells(report_html(frame))
    # SignalWire's 4-second recording has no price: its total is of the other one.
    assert cells["signalwire"][-2] == "0.0025 (1 without cost)"
    print_table(provider_summary(frame))
    assert "n/a" in capsys.readouterr().out  # no size: unknown, not 0


def summary_cells(page: str) -> dict[str, list[str]]:
    summary = page[page.index("<table class='summary'>") :]
    summary = summary[: summary.index("</table>")]
    # A note sits on a line of its own under its value: read as "value (note)".
    summary = re.sub(r"<span class=note>(.*?)</span>", r" \1", summary)
    return {
        cells[0]: cells
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", summary)
        if (cells := re.findall(r"<td[^>]*>([^<]*)</td>", row))
    }


def test_unknown_hours_read_n_a_and_a_reported_cost_keeps_its_cents() -> None:
    # Found by mutation testing (session 24): a provider whose every duration is unknown read
    # an empty hours cell, and a reported cost of 1 and more lost its second decimal.
    plivo = pl.col("provider") == "plivo"
    first = plivo & (plivo.cum_sum() == 1)
    frame = synthetic_frame(200, seed=5).with_columns(
        duration=pl.when(plivo).then(None).otherwise(pl.col("duration")),
        cost=pl.when(first).then(1.23).when(plivo).then(0.0).otherwise(pl.col("cost")),
    )
    cells = summary_cells(report_html(frame))
    assert cells["plivo"][2] == "n/a"
    assert cells["plivo"][-2] == "1.23"


def test_listed_and_held_sizes_are_told_apart(capsys: pytest.CaptureFixture[str]) -> None:
    fake = Fake()
    gone = {"status": "deleted", "date_deleted": "2025-02-10T00:00:00Z"}
    fake.tracks = [track(1, 2 * 2**30, 60), track(2, 2**30, 60, **gone), track(3, None, 30)]
    frame = fake.load("twilio")
    assert ra.summarize(frame)["total_size_bytes"].item() == 3 * 2**30  # listed, documented
    line = summary_line(frame)
    assert " · 3.00 GiB listed, 2.00 GiB held (1 without size) · " in line
    table = summary_table(frame).row(0, named=True)
    assert (table["size (GiB)"], table["held (GiB)"]) == (3.0, 2.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cells = summary_cells(report_html(frame))
    assert cells["twilio"][3] == "3.00 2.00 held (1 without size)"
    print_table(provider_summary(frame))
    out = capsys.readouterr().out
    assert "held (GiB)" in out and "3.00 (1 without size)" in out  # as the report writes it
    assert "(1 without duration)" not in out


def test_hours_are_file_hours_as_documented() -> None:
    # docs/helpers.md, "Hours are file-hours": a 20-minute Zoom session with video, audio and
    # timeline files is an hour of files; audio and video alone 40 minutes; the session once 20.
    fake = Fake()
    fake.zoom = [zoom_session([("MP4", 1000), ("M4A", 500), ("TIMELINE", 10)], minutes=20)]
    frame = fake.load("zoom")
    assert ra.summarize(frame)["total_hours"].item() == pytest.approx(1.0)
    media = frame.filter(pl.col("media_type").is_in(["audio", "video"]))
    assert ra.summarize(media)["total_hours"].item() == pytest.approx(2 / 3)
    sessions = frame.group_by("group_id").agg(pl.col("duration").max())
    assert sessions.select(ra.duration_hours().sum()).item() == pytest.approx(1 / 3)
