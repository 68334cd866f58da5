"""Totals as the archive, the report, the CLI and the explorer show them, from real loaders
reading a fake API: never wrapped around, unknown never 0, a small amount never 0, and every
total saying what it counts."""

from __future__ import annotations

import warnings
from pathlib import Path

import recanalytics as ra
from recanalytics.archive import archive
from recanalytics.cli import archived_totals
from tests.numbers_fake import PERIOD, Fake, track

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
