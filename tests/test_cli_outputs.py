"""What the recanalytics command writes, and what it says about it, when something goes wrong:
credentials half set, a load that is not whole, a file that cannot be written, an output that
is its input, a standard output that is closed or full, a standard error that is no terminal."""

from __future__ import annotations

import importlib
import os
import resource
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import polars as pl
import pytest

import recanalytics as ra
from recanalytics.cli import main
from recanalytics.errors import CredentialsError
from recanalytics.providers.registry import credentials_class
from recanalytics.sandbox import Sandbox, SandboxServer
from tests.conftest import simulate_read_only

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
    assert "twilio: ok" in text and not out.exists()
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


# --- 2. a load that is not whole never replaces --out -------------------------------------------


def test_a_failed_load_leaves_a_complete_out_as_it_was(
    served: Any,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    no_env_credentials: None,
) -> None:
    # A failed load replaced the complete file of an earlier run (an empty one when every
    # provider failed), and "plivo: failed, 1 rows" named rows that were in no file.
    use(monkeypatch, sandbox_env("twilio") | sandbox_env("plivo"))
    out = tmp_path / "recordings.parquet"
    argv = ["load", "--since", "2025-01-01", "--quiet", "--out", str(out)]
    assert main([*argv, "--base-url", served.url]) == 0
    good = out.read_bytes()
    assert pl.read_parquet(out).height > 0 and out.stat().st_mode & 0o777 == 0o600
    capsys.readouterr()

    # Every provider failed: nothing loaded, nothing written.
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "not-the-token")
    monkeypatch.setenv("PLIVO_AUTH_TOKEN", "not-the-token")
    assert main([*argv, "--base-url", served.url]) == 1
    text = capsys.readouterr().out
    assert out.read_bytes() == good
    assert f"nothing loaded: {out} left as it was" in text, text
    assert not (tmp_path / "recordings.partial.parquet").exists()

    # One provider failed: what loaded goes beside --out, and each line says where.
    use(monkeypatch, sandbox_env("twilio"))
    assert main([*argv, "--base-url", served.url]) == 1
    text = capsys.readouterr().out
    partial = tmp_path / "recordings.partial.parquet"
    assert out.read_bytes() == good
    rows = pl.read_parquet(partial)
    assert rows.height > 0 and set(rows["provider"]) == {"twilio"}
    assert f"twilio: ok, {rows.height} rows, in recordings.partial.parquet" in text, text
    assert "plivo: failed, 0 rows" in text
    assert f"{out} left as it was; the {rows.height} rows loaded are in {partial}" in text
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary file


class LaterWindowsRefused:
    """A sandbox's requests, with every Plivo query of a window starting ``after`` or later
    refused (400): Plivo fails part way, after the rows of the windows before."""

    latency = 0.0

    def __init__(self, app: Any, after: str) -> None:
        self.app, self.after = app, after

    def handle(self, request: Any) -> Any:
        since = dict(request.query).get("add_time__gte")
        if since is not None and since >= self.after:
            return self.app.error("plivo", 400, "refused"), None
        return self.app.handle(request)


def load_with_plivo_failing_part_way(
    monkeypatch: pytest.MonkeyPatch, out: Path
) -> tuple[int, pl.DataFrame]:
    """``recanalytics load twilio plivo --out out`` while Plivo fails part way: the exit
    status, and every row Plivo lists when it does not fail."""
    box = Sandbox(seed=5, size=200, providers=["twilio", "plivo"])
    use(monkeypatch, sandbox_env("twilio") | sandbox_env("plivo"))
    start, end = box.config.start, box.config.end
    middle = start + (end - start) / 2
    plivo = ra.load_plivo_recordings(since=start, until=end, **box.options("plivo"))
    period = ["--since", f"{start:%Y-%m-%d}", "--until", f"{end:%Y-%m-%d}"]
    with SandboxServer(LaterWindowsRefused(box.app, f"{middle:%Y-%m-%d}")) as server:
        argv = ["load", "twilio", "plivo", *period, "--quiet", "--base-url", server.url]
        return main([*argv, "--out", str(out)]), plivo


def test_the_rows_a_failed_provider_read_go_beside_out(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    no_env_credentials: None,
) -> None:
    # Found by mutation testing (session 24): the rows of the windows before the failure are
    # in the partial file with the others', and its line says how many.
    out = tmp_path / "x.parquet"
    code, plivo = load_with_plivo_failing_part_way(monkeypatch, out)
    assert code == 1 and not out.exists()
    text = capsys.readouterr().out
    rows = pl.read_parquet(tmp_path / "x.partial.parquet")
    read = rows.filter(pl.col("provider") == "plivo")
    assert 0 < read.height < plivo.height
    assert set(read["recording_id"]) <= set(plivo["recording_id"])
    assert f"plivo: failed after {read.height} rows, in x.partial.parquet (plivo: " in text, text
    assert rows.filter(pl.col("provider") == "twilio").height > 0


def test_a_failed_load_writes_nothing_beside_a_device(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    no_env_credentials: None,
) -> None:
    # Found by mutation testing (session 24): --out /dev/null has no "beside": its partial
    # rows went to /dev/null.partial.parquet, a new file in /dev. A device of the test's own.
    device = tmp_path / "null"
    try:
        os.mknod(device, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    except PermissionError:
        pytest.skip("making a device node takes root")
    code, _ = load_with_plivo_failing_part_way(monkeypatch, device)
    assert code == 1 and [p.name for p in tmp_path.iterdir()] == ["null"]
    assert f"incomplete load: {device} left as it was" in capsys.readouterr().out


# --- 3. a write that fails: exit 2, one line, the old file kept --------------------------------


def test_a_parquet_write_that_fails_is_one_line_and_keeps_the_old_file(
    served: Any, tmp_path: Path, no_env_credentials: None
) -> None:
    # A polars ComputeError traceback, exit 1, and a truncated file where a whole one was.
    out = tmp_path / "recordings.parquet"
    good = b"a complete file of an earlier load"
    out.write_bytes(good)
    argv = ["load", "twilio", "--quiet", "--base-url", served.url, "--out", str(out)]
    env = {**os.environ, **sandbox_env("twilio"), "PYTHONPATH": str(ROOT)}
    failed = run_cli(*argv, limit_file_bytes=4096, capture_output=True, env=env)
    assert failed.returncode == 2 and "Traceback" not in failed.stderr, failed.stderr
    assert failed.stderr.splitlines() == [
        f"recanalytics: {out}: could not be written (File too large)"
    ], failed.stderr
    assert out.read_bytes() == good and [p.name for p in tmp_path.iterdir()] == [out.name]


def test_a_full_device_as_out_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--size", "50", "--out", "/dev/full"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert err.startswith("recanalytics: /dev/full: could not be written ("), err


def test_demo_checks_the_report_beside_out_before_loading(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Only --out was checked: with d.html a folder, demo loaded, wrote d.parquet, then exited
    # 2 with "invalid path (got '.../d.html')", an option nobody typed.
    (tmp_path / "d.html").mkdir()
    out = tmp_path / "d.parquet"
    assert main(["demo", "--size", "50", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"recanalytics: invalid --out (got '{out}')"), err
    assert f"{tmp_path / 'd.html'}" in err and err.count("\n") == 1, err
    assert [p.name for p in tmp_path.iterdir()] == ["d.html"]


def test_demo_writes_no_report_beside_a_device(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # --out /dev/null is written in place, but its report went to /dev/null.html, a new file in
    # /dev (as root). Here a /dev/null of the test's own, so a failure writes nothing in /dev.
    device = tmp_path / "null"
    try:
        os.mknod(device, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    except PermissionError:
        pytest.skip("making a device node takes root")
    assert main(["demo", "--size", "50", "--out", str(device)]) == 0
    said = capsys.readouterr().out
    assert [p.name for p in tmp_path.iterdir()] == ["null"]
    assert f"frame written to {device}" in said
    assert f"report not written: --out {device} is no file to write it beside" in said, said


# --- 4. report: never over its input, written whole ----------------------------------------------


def test_report_refuses_to_overwrite_its_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # `report X.parquet -o X.parquet` replaced the frame with HTML and exited 0.
    frame = tmp_path / "x.parquet"
    ra.demo(size=50).write_parquet(frame)
    good = frame.read_bytes()
    link = tmp_path / "link.parquet"
    link.symlink_to(frame)
    for given, out in [
        (frame, frame),
        (link, frame),
        (frame, tmp_path / "sub" / ".." / "x.parquet"),
    ]:
        assert main(["report", str(given), "-o", str(out)]) == 2
        assert "invalid --out" in capsys.readouterr().err
    assert frame.read_bytes() == good


def test_report_refuses_to_overwrite_a_hard_link_to_its_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Found by mutation testing (session 24): two names of one file, neither a symbolic link.
    frame = tmp_path / "x.parquet"
    ra.empty_frame().write_parquet(frame)
    hard = tmp_path / "hard.parquet"
    os.link(frame, hard)
    assert main(["report", str(frame), "-o", str(hard)]) == 2
    assert "invalid --out" in capsys.readouterr().err
    assert pl.read_parquet(hard).schema == ra.SCHEMA


def test_report_without_parquet_takes_its_seed(tmp_path: Path) -> None:
    # Found by mutation testing (session 24): --seed chose nothing, the report was seed 7's.
    seeded, usual = ra.demo(size=40, seed=3), ra.demo(size=40)
    assert seeded.height != usual.height
    out = tmp_path / "r.html"
    assert main(["report", "-o", str(out), "--size", "40", "--seed", "3"]) == 0
    assert f"{seeded.height:,} recordings · " in out.read_text()


def test_report_of_parquet_takes_its_title(tmp_path: Path) -> None:
    # Found by mutation testing (session 24): --title was ignored with PARQUET.
    frame, out = tmp_path / "f.parquet", tmp_path / "r.html"
    ra.empty_frame().write_parquet(frame)
    assert main(["report", str(frame), "-o", str(out), "--title", "Q3 <calls>"]) == 0
    assert "<title>Q3 &lt;calls&gt;</title>" in out.read_text()


def test_demo_takes_its_seed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Found by mutation testing (session 24): the frame written was seed 7's whatever --seed.
    frame = tmp_path / "f.parquet"
    assert main(["demo", "--size", "40", "--seed", "3", "--out", str(frame)]) == 0
    assert pl.read_parquet(frame).equals(ra.demo(size=40, seed=3))
    assert "Sandbox dataset (seed 3, size 40)" in capsys.readouterr().out


def test_archive_verify_without_media_is_the_commands_own_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Found by mutation testing (session 24): the library's refusal read "invalid verify".
    argv = ["archive", "twilio", "--out", str(tmp_path / "a"), "--sandbox", "--verify"]
    assert main(argv) == 2
    assert capsys.readouterr().err == "recanalytics: --verify needs --media\n"
    assert not (tmp_path / "a").exists()


def test_a_report_that_cannot_be_written_keeps_the_old_one(tmp_path: Path) -> None:
    # The page was written in place: a full disk left a truncated one where a whole one was.
    out = tmp_path / "r.html"
    good = b"<html>an earlier report</html>"
    out.write_bytes(good)
    failed = run_cli(
        "report", "--size", "50", "-o", str(out), limit_file_bytes=65536, capture_output=True
    )
    assert failed.returncode == 2 and "Traceback" not in failed.stderr, failed.stderr
    assert failed.stderr.startswith(f"recanalytics: {out}: could not be written")
    assert out.read_bytes() == good and [p.name for p in tmp_path.iterdir()] == ["r.html"]


def test_a_parquet_cut_off_at_its_footer_says_what_stopped_it(tmp_path: Path) -> None:
    # A file size limit (or a full disk) reached while polars wrote the footer read only
    # "parquet: File out of specification: Invalid thrift: transport error".
    out = tmp_path / "x.parquet"
    failed = run_cli(
        "demo", "--size", "5", "--out", str(out), limit_file_bytes=4096, capture_output=True
    )
    assert failed.returncode == 2 and "Traceback" not in failed.stderr, failed.stderr
    assert failed.stderr.startswith(f"recanalytics: {out}: could not be written")
    assert "file size limit (4,096 bytes)" in failed.stderr or "File too large" in failed.stderr
    assert list(tmp_path.iterdir()) == []


# --- 5. standard output closed or full ----------------------------------------------------------


def test_no_standard_output_is_no_output_and_the_commands_own_status(
    served: Any, tmp_path: Path
) -> None:
    # `>&-`: an AttributeError traceback from the summary table (sys.stdout is None).
    out = tmp_path / "x.parquet"
    argv = ["load", "twilio", "--quiet", "--base-url", served.url, "--out", str(out)]
    env = {**os.environ, **sandbox_env("twilio"), "PYTHONPATH": str(ROOT)}
    done = run_cli(*argv, close_stdout=True, stderr=subprocess.PIPE, env=env)
    assert done.returncode == 0 and done.stderr == "", done.stderr
    assert pl.read_parquet(out).height > 0


def test_a_full_standard_output_says_so_and_what_was_written(served: Any, tmp_path: Path) -> None:
    # "recanalytics: No space left on device", exit 2, as if the load had failed.
    out = tmp_path / "x.parquet"
    argv = ["load", "twilio", "--quiet", "--base-url", served.url, "--out", str(out)]
    env = {**os.environ, **sandbox_env("twilio"), "PYTHONPATH": str(ROOT)}
    with open("/dev/full", "w") as full:
        done = run_cli(*argv, stdout=full, stderr=subprocess.PIPE, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines() == [
        "recanalytics: standard output could not be written (No space left on device); "
        f"written: {out}"
    ], done.stderr
    assert pl.read_parquet(out).height > 0


# --- 6. smaller slips ------------------------------------------------------------------------------


def test_archive_size_or_seed_without_sandbox_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # They were ignored and the archive read the real account.
    base = ["archive", "twilio", "--out", str(tmp_path / "a"), "--quiet"]
    for extra in (["--size", "20"], ["--seed", "3"]):
        assert main([*base, "--base-url", "http://127.0.0.1:9", *extra]) == 2
        assert "--size and --seed need --sandbox" in capsys.readouterr().err
    assert not (tmp_path / "a").exists()


def test_report_size_or_seed_with_parquet_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # They were taken and ignored: the report was of PARQUET, exit 0, not a word.
    frame = tmp_path / "f.parquet"
    ra.demo(size=50).write_parquet(frame)
    out = tmp_path / "r.html"
    for extra in (["--size", "999999"], ["--seed", "12345"]):
        assert main(["report", str(frame), "-o", str(out), *extra]) == 2
        err = capsys.readouterr().err
        assert err == "recanalytics: --size and --seed are for the demo data, without PARQUET\n"
    assert not out.exists()
    # Without PARQUET they still choose the demo data.
    assert main(["report", "-o", str(out), "--size", "50", "--seed", "3"]) == 0
    assert out.is_file()


@pytest.mark.usefixtures("no_env_credentials")
@pytest.mark.parametrize("name", ["x.csv", "x.json"])
def test_load_refuses_an_out_that_is_not_parquet(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Parquet bytes were written into x.csv.
    assert main(["load", "--quiet", "--out", str(tmp_path / name)]) == 2
    err = capsys.readouterr().err
    assert f"invalid --out (got '{tmp_path / name}')" in err and ".parquet" in err
    assert not (tmp_path / name).exists()


def test_report_of_a_frame_that_is_not_unified_names_parquet(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = tmp_path / "other.parquet"
    pl.DataFrame({"a": [1]}).write_parquet(other)
    assert main(["report", str(other), "-o", str(tmp_path / "r.html")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("recanalytics: invalid PARQUET"), err


def test_a_read_only_working_folder_names_the_default_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # "invalid --out (got '/the/folder')": neither the option's value nor the file.
    simulate_read_only(monkeypatch, tmp_path)
    monkeypatch.chdir(tmp_path)
    assert main(["load", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "invalid --out (got 'recordings.parquet')" in err and str(tmp_path) in err, err


# --- 7. progress bars only on a terminal by default ----------------------------------------------


def test_progress_bars_stay_out_of_a_piped_standard_error(
    served: Any,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    no_env_credentials: None,
) -> None:
    # Without --quiet, every redraw's "\r" went into a log file or a pipe.
    use(monkeypatch, sandbox_env("twilio"))
    argv = ["load", "twilio", "--since", "2025-01-01", "--base-url", served.url]
    assert main([*argv, "--out", str(tmp_path / "a.parquet")]) == 0
    assert capsys.readouterr().err == ""
    assert main([*argv, "--progress", "--out", str(tmp_path / "b.parquet")]) == 0
    assert "\r" in capsys.readouterr().err
