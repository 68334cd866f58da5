"""What a user's machine may set around a load: proxies, CA bundles, a terminal's encoding, an
output pipe whose reader went away. None of it may cost a finished load or show a secret."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from provider_cases import CREDENTIALS

import recanalytics as ra
from recanalytics.sandbox import Sandbox, SandboxServer

PROXY_VARIABLES = [
    f"{scheme}_proxy{case}" for scheme in ("http", "https", "all", "no") for case in ("", "!")
]
PROXY_VARIABLES = [n[:-1].upper() if n.endswith("!") else n for n in PROXY_VARIABLES]
NO_RETRY = ra.RetryPolicy(max_retries=0)
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def clean_network_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No proxy or CA variable from the machine running the tests."""
    for name in [*PROXY_VARIABLES, "SSL_CERT_FILE", "SSL_CERT_DIR", "REQUEST_METHOD"]:
        monkeypatch.delenv(name, raising=False)


def closed_port() -> int:
    """A port on 127.0.0.1 nothing listens on: connecting is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cli(args: list[str], env: dict[str, str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k not in PROXY_VARIABLES}
    environment |= {"PYTHONPATH": str(ROOT)} | env
    return subprocess.run(
        [sys.executable, "-m", "recanalytics.cli", *args],
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        **kwargs,
    )


def sandbox_env(provider: str) -> dict[str, str]:
    """``provider``'s credential variables, set to the sandbox's own credentials."""
    import importlib

    from recanalytics.providers.registry import credentials_class

    given = importlib.import_module(f"recanalytics.sandbox.{provider}").CREDENTIALS
    return {
        names[0]: given[f] for f, names in credentials_class(provider).env.items() if f in given
    }


# --- the command's output ---------------------------------------------------------------


@pytest.mark.parametrize(
    "env", [{"LC_ALL": "C", "PYTHONUTF8": "0"}, {"PYTHONIOENCODING": "latin-1"}]
)
def test_demo_in_an_encoding_without_box_drawing_prints_ascii(
    tmp_path: Path, env: dict[str, str]
) -> None:
    # The table's borders raised UnicodeEncodeError after the load: nothing written, exit 1.
    out = tmp_path / "d.parquet"
    result = cli(["demo", "--size", "60", "--out", str(out)], env)
    assert result.returncode == 0, result.stderr
    assert "| twilio" in result.stdout and "+---" in result.stdout
    assert pl.read_parquet(out).height and out.with_suffix(".html").exists()


def test_load_summary_in_ascii_after_writing_the_frame(
    tmp_path: Path, box: Sandbox, served: SandboxServer
) -> None:
    env = {"PYTHONIOENCODING": "ascii"} | sandbox_env("twilio")
    out = tmp_path / "l.parquet"
    args = ["load", "twilio", "--since", "2025-01-01", "--quiet", "--base-url", served.url]
    result = cli([*args, "--out", str(out)], env)
    assert result.returncode == 0, result.stderr
    assert "twilio: ok" in result.stdout and pl.read_parquet(out).height


def test_demo_into_a_closed_pipe_still_writes_its_files(tmp_path: Path) -> None:
    # `recanalytics demo | head -1`: BrokenPipeError, exit 2, no parquet and no report.
    out = tmp_path / "d.parquet"
    environment = os.environ | {"PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "recanalytics.cli", "demo", "--size", "60", "--out", str(out)]
    with subprocess.Popen(
        command, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    ) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.close()  # the reader is gone before the first line
        err = proc.stderr.read().decode()
        code = proc.wait(timeout=300)
    assert code == 0 and err == "", err
    assert pl.read_parquet(out).height and out.with_suffix(".html").exists()


# --- certificate authorities ------------------------------------------------------------


def https_load() -> None:
    """A load that needs the CA bundle: https, to a port nothing listens on."""
    url = f"https://127.0.0.1:{closed_port()}"
    ra.load_twilio_recordings(
        since="2026-01-01", base_url=url, retry=NO_RETRY, **twilio_credentials()
    )


def twilio_credentials() -> dict[str, Any]:
    return {"credentials": Sandbox(seed=1, size=10).options("twilio")["credentials"]}


@pytest.mark.parametrize("bundle", ["missing", "not a certificate"])
def test_a_bad_ssl_cert_file_is_a_config_error_before_any_request(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, bundle: str
) -> None:
    # A bare FileNotFoundError or ssl.SSLError from every load without transport=.
    path = tmp_path / "ca.pem"
    if bundle != "missing":
        path.write_text("-----BEGIN NOTHING-----\nhello\n")
    monkeypatch.setenv("SSL_CERT_FILE", str(path))
    with pytest.raises(ra.ConfigError, match="SSL_CERT_FILE") as info:
        https_load()
    assert info.value.parameter == "SSL_CERT_FILE" and "PEM" in info.value.expected


def test_a_changed_ssl_cert_file_takes_effect_in_a_running_process(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # The context was cached for the process: a variable set after the first load was ignored.
    with pytest.raises(ra.TransportError):
        https_load()
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "gone.pem"))
    with pytest.raises(ra.ConfigError, match="SSL_CERT_FILE"):
        https_load()


def test_the_served_sandbox_over_http_needs_no_ca_bundle(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, box: Sandbox, served: SandboxServer
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "gone.pem"))
    df = ra.load_twilio_recordings(since="2025-01-01", **box.options("twilio", base_url=served.url))
    assert df.height


def test_a_client_without_a_ca_bundle_never_reaches_https(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from recanalytics import network

    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "gone.pem"))

    async def fetch() -> None:
        async with network.client(network=True, https=False) as client:
            await client.get(f"https://127.0.0.1:{closed_port()}/")

    with pytest.raises(ra.ConfigError, match="SSL_CERT_FILE"):
        asyncio.run(fetch())


# --- proxies ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("ALL_PROXY", "ftp://alice:pr0xysecret@proxy.example:21"),
        ("HTTP_PROXY", "http://alice:pr0xysecret@[::1"),
        ("https_proxy", "http://alice:pr0xysecret@127.0.0.1:abc"),
        ("HTTPS_PROXY", "socks5://alice:pr0xysecret@127.0.0.1:1080"),
        ("NO_PROXY", "[::1"),
    ],
)
def test_a_bad_proxy_variable_is_a_config_error_naming_it_without_its_password(
    monkeypatch: pytest.MonkeyPatch, box: Sandbox, served: SandboxServer, name: str, value: str
) -> None:
    # A raw ValueError, httpx.InvalidURL or ImportError from building the client.
    if "socks" in value:
        try:
            import socksio  # noqa: F401

            pytest.skip("socksio is installed: the SOCKS proxy is usable")
        except ImportError:
            pass
    monkeypatch.setenv(name, value)
    with pytest.raises(ra.ConfigError) as info:
        ra.load_twilio_recordings(since="2025-01-01", **box.options("twilio", base_url=served.url))
    assert info.value.parameter == name
    assert "pr0xysecret" not in str(info.value) and "alice" not in str(info.value)


def test_the_command_names_a_bad_proxy_in_one_line(tmp_path: Path) -> None:
    env = {"ALL_PROXY": "ftp://alice:pr0xysecret@proxy.example:21"}
    result = cli(["demo", "--size", "20", "--out", str(tmp_path / "d.parquet")], env)
    # The demo reads the in-process sandbox (its own transport): the proxy does not apply.
    assert result.returncode == 0, result.stderr
    env |= sandbox_env("twilio")
    base = f"http://127.0.0.1:{closed_port()}"
    args = ["load", "twilio", "--quiet", "--base-url", base, "--out", str(tmp_path / "x.parquet")]
    result = cli(args, env)
    assert result.returncode == 2 and "Traceback" not in result.stderr + result.stdout
    text = result.stdout + result.stderr
    assert result.stderr.startswith("recanalytics: invalid ALL_PROXY") and "pr0xysecret" not in text


def test_a_dead_proxy_is_named_with_how_to_bypass_it(monkeypatch: pytest.MonkeyPatch) -> None:
    # The ConnectError named only the provider's URL: the proxy looked like the API.
    proxy = f"http://alice:pr0xysecret@127.0.0.1:{closed_port()}"
    monkeypatch.setenv("HTTPS_PROXY", proxy)
    creds = {"account_sid": "AC" + "1" * 32, "auth_token": "twilioSECRET42token"}
    with pytest.raises(ra.TransportError) as info:
        ra.load_twilio_recordings(
            since="2026-11-01", until="2026-11-02", credentials=creds, retry=NO_RETRY
        )
    message = str(info.value)
    assert "HTTPS_PROXY" in message and "NO_PROXY" in message and "127.0.0.1" in message
    assert "pr0xysecret" not in message and "twilioSECRET42token" not in message


def test_loopback_never_goes_through_a_proxy(
    monkeypatch: pytest.MonkeyPatch, box: Sandbox, served: SandboxServer
) -> None:
    # A proxy cannot reach this machine's 127.0.0.1: the served sandbox failed through it.
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{closed_port()}")
    monkeypatch.setenv("ALL_PROXY", f"http://127.0.0.1:{closed_port()}")
    options = box.options("twilio", base_url=served.url) | {"retry": NO_RETRY}
    assert ra.load_twilio_recordings(since="2025-01-01", **options).height


def test_no_loopback_address_is_said_to_go_through_a_proxy(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A refused connection to the served sandbox on [::1] read "the request went through the
    # proxy in HTTP_PROXY", though loopback never does.
    from recanalytics.network import proxy_note

    monkeypatch.setenv("HTTP_PROXY", "http://proxy.example:3128")
    for url in ("http://127.0.0.1:8765/v1", "http://localhost:8765/v1", "http://[::1]:8765/v1"):
        assert proxy_note(url) == "", url
    assert "HTTP_PROXY (http://proxy.example:3128)" in proxy_note("http://api.example/v1")


def test_a_proxy_password_holding_an_at_sign_is_not_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    # Everything up to the last "@" of the authority is user information.
    monkeypatch.setenv("ALL_PROXY", "ftp://alice:pr0x@secret@proxy.example:21")
    with pytest.raises(ra.ConfigError) as info:
        ra.load_twilio_recordings(since="2025-01-01", credentials=CREDENTIALS["twilio"])
    assert info.value.parameter == "ALL_PROXY"
    assert "secret" not in str(info.value) and "proxy.example:21" in str(info.value)


def test_a_caller_transport_takes_no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALL_PROXY", "ftp://proxy.example:21")
    box = Sandbox(seed=2, size=20)
    assert ra.load_twilio_recordings(since="2025-01-01", **box.options("twilio")).height
