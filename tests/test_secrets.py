"""No secret in logs, progress bars, frames or files, across providers.

Wrong credentials on every registered loader (the AuthError, its URL and the credentials' repr
hold no secret) are checked in tests/providers/test_contract.py.
"""

from __future__ import annotations

import logging
from pathlib import Path

import polars as pl
import pytest

import recanalytics as ra
from recanalytics.providers.zoom import make_jwt
from recanalytics.sandbox import Faults, Sandbox
from tests.conftest import FAST_RETRY


def secrets_of(box: Sandbox) -> list[str]:
    values = []
    for name in box.emulators:
        values += box.credentials(name).secrets()
    return values


def test_progress_logs_and_frames_hold_no_secret(
    capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    box = Sandbox(seed=3, size=200, faults=Faults(error_rate=0.2, drop_rate=0.05, seed=9))
    caplog.set_level(logging.DEBUG)
    df = ra.load(
        since=box.config.start,
        until=box.config.end,
        progress=True,
        retry=FAST_RETRY,
        **box.load_options(),
    )
    out = capsys.readouterr()
    shown = out.out + out.err + caplog.text
    assert "retries" in out.err  # the progress bars did draw
    creds = box.credentials("zoom")
    jwt = make_jwt(creds.api_key or "", creds.api_secret or "", issued_at=0, lifetime=3600)
    for secret in [*secrets_of(box), jwt.split(".")[2][:20]]:
        assert secret not in shown
        assert (
            not df.select(pl.any_horizontal(pl.col(pl.String).str.contains(secret, literal=True)))
            .to_series()
            .any()
        )
    assert not df["media_url"].str.contains("access_token=eyJ").any()
    path = tmp_path / "f.parquet"
    df.write_parquet(path)
    assert all(s.encode() not in path.read_bytes() for s in secrets_of(box))
