"""What the recanalytics command writes, and what it says about it, when something goes wrong:
credentials half set, a load that is not whole, a file that cannot be written, an output that
is its input, a standard output that is closed or full, a standard error that is no terminal."""

from __future__ import annotations

import importlib
import os
import resource
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import recanalytics as ra
from recanalytics.cli import main
from recanalytics.errors import CredentialsError
from recanalytics.providers.registry import credentials_class

ROOT = Path(__file__).parents[1]
PLIVO_TOKEN = importlib.import_module("recanalytics.sandbox.plivo").CREDENTIALS["auth_token"]


def sandbox_env(provider: str) -> dict[str, str]:
    """``provider``'s environment variables set to the sandbox's own credentials."""
    given = importlib.import_module(f"recanalytics.sandbox.{provider}").CREDENTIALS
    return {
        names[0]: given[field]
        for field, names in credentials_class(provider).env.items()
        if field in given
    }


def use(monkeypatch: pytest.MonkeyPatch, variables: dict[str, str]) -> None:
    for name, value in variables.items():
        monkeypatch.setenv(name, value)


def run_cli(
    *argv: str, limit_file_bytes: int | None = None, close_stdout: bool = False, **kwargs: Any
) -> subprocess.CompletedProcess[str]:
    """The console script in a child process, optionally with ``ulimit -f`` or fd 1 closed."""

    def child_setup() -> None:
        if limit_file_bytes is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit_file_bytes, limit_file_bytes))
        if close_stdout:
            os.close(1)

    return subprocess.run(
        [sys.executable, "-m", "recanalytics.cli", *argv],
        text=True,
        timeout=300,
        preexec_fn=child_setup,
        **({"env": {**os.environ, "PYTHONPATH": str(ROOT)}} | kwargs),
    )


# --- 1. credentials set but incomplete or malformed -------------------------------------------


@pytest.mark.parametrize(
    "variables",
    [
        {**sandbox_env("plivo"), "PLIVO_AUTH_ID": " " + sandbox_env("plivo")["PLIVO_AUTH_ID"]},
        {"PLIVO_AUTH_TOKEN": PLIVO_TOKEN},  # the token without its Auth ID
        {"ZOOM_VIDEOSDK_API_KEY": "sandbox-zoom-api-key"},  # a key without its secret
    ],
    ids=["padded-auth-id", "token-only", "zoom-key-only"],
)
def test_a_half_set_or_malformed_provider_fails_the_load(
    variables: dict[str, str],
    served: Any,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    no_env_credentials: None,
) -> None:
    # It was "plivo: skipped, 0 rows (...)" and exit 0: the account's rows were lost from a
    # load that said it succeeded.
    use(monkeypatch, sandbox_env("twilio") | variables)
    out = tmp_path / "x.parquet"
    argv = ["load", "--since", "2025-01-01", "--quiet", "--base-url", served.url]
    assert main([*argv, "--out", str(out)]) == 1
    text, err = capsys.readouterr()
    provider = "zoom" if "ZOOM_VIDEOSDK_API_KEY" in variables else "plivo"
    line = next(line for line in text.splitlines() if line.startswith(f"{provider}:"))
    assert line.startswith(f"{provider}: failed") and "env " in line, line
    assert "twilio: ok" in text
    assert PLIVO_TOKEN not in text + err
    # The library alike: a provider set up wrong is a failure, not an unconfigured one.
    with pytest.raises(ra.IncompleteLoadError) as info:
        ra.load(since="2025-01-01", base_url=served.url)
    status = info.value.outcomes[provider]
    assert status.state == "failed" and isinstance(status.exception, CredentialsError)
    assert PLIVO_TOKEN not in str(info.value)


def test_a_provider_with_no_variable_set_is_still_skipped(
    served: Any, monkeypatch: pytest.MonkeyPatch, no_env_credentials: None
) -> None:
    use(monkeypatch, sandbox_env("twilio"))
    result = ra.load_with_status(since="2025-01-01", base_url=served.url)
    assert result.ok and result.status["plivo"].state == "skipped"
