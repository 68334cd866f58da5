"""The recanalytics command: every subcommand has --help; demo runs end to end."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import httpx
import polars as pl
import pytest

import recanalytics as ra
from recanalytics.cli import build_parser, main

COMMANDS = sorted(build_parser()._subparsers._group_actions[0].choices)  # type: ignore[union-attr]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main([command, "--help"])
    assert info.value.code == 0
    assert "usage: recanalytics " + command in capsys.readouterr().out


def test_demo_prints_a_summary_and_writes_parquet(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "demo.parquet"
    assert main(["demo", "--size", "300", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "twilio" in text and "hours" in text and "GiB" in text and "total" in text
    assert str(out.resolve()) in text
    frame = pl.read_parquet(out)
    assert frame.schema == ra.SCHEMA and frame.height >= 300


def test_a_table_row_printed_into_a_pipe_stays_on_one_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # polars wraps tables at 100 characters: the demo's total "1,279.4 (62 without duration)"
    # broke over two lines when printed into a pipe.
    from recanalytics.cli import print_table

    # And it cut text at 30 characters: "12,345.6 (1,234 without dur…".
    hours, size = "1,279.4 (62 without duration)", "12,345.6 (1,234 without duration)"
    print_table(pl.DataFrame({"provider": ["total"], "hours": [hours], "size": [size * 2]}))
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith("│ ")]
    assert len(rows) == 2 and hours in rows[1] and size * 2 in rows[1]  # the header, the row


def test_the_summary_table_ignores_the_users_polars_display_settings(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A shell that set polars' display for its REPL (two columns, no header, no borders,
    two rows) printed the demo's table as ``provider … held`` with no header."""
    for name, value in {
        "POLARS_FMT_MAX_COLS": "2",
        "POLARS_FMT_MAX_ROWS": "2",
        "POLARS_FMT_TABLE_HIDE_COLUMN_NAMES": "1",
        "POLARS_FMT_TABLE_FORMATTING": "NOTHING",
    }.items():
        monkeypatch.setenv(name, value)
    from recanalytics.cli import print_table

    names = ["provider", "recordings", "hours", "size (GiB)", "held (GiB)"]
    print_table(pl.DataFrame({name: [f"{name} {i}" for i in range(4)] for name in names}))
    lines = capsys.readouterr().out.splitlines()
    assert all(name in lines[1] for name in names), lines[:3]  # the header, every column
    assert sum(line.startswith("│ ") for line in lines) == 5, lines  # header and four rows
    assert "…" not in "".join(lines)
    assert os.environ["POLARS_FMT_MAX_COLS"] == "2"  # left as the user set it


def test_demo_refuses_an_out_that_its_report_would_overwrite(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The report goes beside the frame as .html: --out x.html wrote the frame, then the
    # report over it, and exited 0.
    out = tmp_path / "same.html"
    assert main(["demo", "--size", "50", "--out", str(out)]) == 2
    assert "out" in capsys.readouterr().err and not out.exists()


def test_console_script_entry_point(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "recanalytics.cli",
            "demo",
            "--size",
            "200",
            "--out",
            str(tmp_path / "d.parquet"),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "frame written to" in result.stdout


@pytest.mark.usefixtures("no_env_credentials")
def test_load_without_credentials_names_what_is_missing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Said once, in the command's status line (it was also a Python warning on stderr).
    code = main(["load", "twilio", "--quiet", "--out", str(tmp_path / "x.parquet")])
    assert code == 1  # named, so a provider without credentials is a failure
    out, err = capsys.readouterr()
    assert "twilio: skipped" in out and "TWILIO_ACCOUNT_SID" in out and err == ""


def test_sandbox_command_prints_curl_commands_that_work(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each Basic-auth provider's emulator names a listing; the printed curl line answers 200."""
    from recanalytics.providers.registry import CREDENTIALS
    from recanalytics.sandbox import SandboxServer

    answers: dict[str, int] = {}

    def serve_briefly(server: SandboxServer) -> None:
        server.start()
        try:
            for line in capsys.readouterr().out.splitlines():
                if line.strip().startswith("curl -u "):
                    _, _, user_secret, url = line.split()
                    user, _, secret = user_secret.partition(":")
                    answers[url] = httpx.get(url.strip("'"), auth=(user, secret)).status_code
        finally:
            server.stop()
        raise KeyboardInterrupt  # what Ctrl-C does to the real one

    monkeypatch.setattr(SandboxServer, "serve_forever", serve_briefly)
    assert main(["sandbox", "--port", "0", "--size", "20"]) == 0
    basic = [name for name, cls in CREDENTIALS.items() if cls.basic_pairs]
    assert len(answers) == len(basic) > 0 and set(answers.values()) == {200}, answers


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["demo", "--size", "5", "--out", "{file}/x.parquet"], "invalid --out"),
        (["load", "twilio", "--quiet", "--out", "{file}/x.parquet"], "invalid --out"),
        (["report", "--out", "{file}/r.html"], "invalid --out"),
        (["report", "{file}"], "invalid PARQUET"),
        (["report", "{tmp}/missing.parquet"], "invalid PARQUET"),
        # A folder the system will not make: a FileNotFoundError traceback from mkdir.
        (["demo", "--out", "/proc/self/recanalytics-test/x.parquet"], "invalid --out"),
        (["report", "--out", "/proc/self/recanalytics-test/r.html"], "invalid --out"),
        # Absurd sandbox settings: -1 served an empty sandbox, the rates were not checked.
        (["sandbox", "--size", "-1"], "invalid --size"),
        (["sandbox", "--latency", "-1"], "invalid --latency"),
        (["sandbox", "--error-rate", "2"], "invalid --error-rate"),
        (["sandbox", "--skew", "0"], "invalid --skew"),
        # Shares past 1 in all: each request draws one outcome, so the later ones were cut.
        (
            ["sandbox", "--error-rate", "0.6", "--drop-rate", "0.6"],
            "invalid --error-rate/--drop-rate/--truncate-rate (got '0.6 0.6 0.0')",
        ),
        # A trailing slash names a folder: it wrote a file "somedir" and "somedir.html".
        (["demo", "--size", "5", "--out", "{tmp}/somedir/"], "invalid --out"),
        (["report", "--out", "{tmp}/somedir/"], "invalid --out"),
        # Python names and forms in errors: "invalid src_dir", a tuple of dates.
        (["notebooks", "--out", "{tmp}/nb", "--src", "{file}"], "invalid --src"),
        (["notebooks", "--out", "{file}"], "invalid --out"),
        (
            ["load", "--since", "2026-01-01", "--until", "2025-01-01", "--out", "{tmp}/x.parquet"],
            "invalid --since/--until (got '2026-01-01 2025-01-01')",
        ),
    ],
)
def test_an_unusable_path_is_a_one_line_error_before_any_work(
    argv: list[str], words: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # These were tracebacks (FileExistsError, FileNotFoundError, a polars ComputeError), and
    # `load` found its --out unusable only after loading.
    blocker = tmp_path / "file.txt"
    blocker.write_text("a file, not a folder nor a parquet file")
    args = [a.format(file=blocker, tmp=tmp_path) for a in argv]
    assert main(args) != 0
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err


@pytest.mark.parametrize("port", ["99999", "-1"])
def test_sandbox_port_out_of_range_is_a_usage_error(port: str) -> None:
    with pytest.raises(SystemExit) as info:
        main(["sandbox", "--port", port])
    assert info.value.code == 2


def test_an_archive_that_cannot_be_written_exits_2_in_one_line_and_resumes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    real = pl.DataFrame.write_csv

    def disk_full_at_media_csv(self: pl.DataFrame, file: Any = None, **kwargs: Any) -> Any:
        if file is not None and Path(file).name.startswith(".media.csv."):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(self, file, **kwargs)

    monkeypatch.setattr(pl.DataFrame, "write_csv", disk_full_at_media_csv)
    out = tmp_path / "a"
    argv = ["archive", "twilio", "--out", str(out), "--sandbox", "--size", "30", "--media"]
    assert main([*argv, "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "media.csv" in err and "No space left" in err
    assert "Traceback" not in err
    monkeypatch.setattr(pl.DataFrame, "write_csv", real)
    assert main([*argv, "--quiet"]) in (0, 1)
    media = pl.read_csv(out / "media.csv")
    assert media.filter(pl.col("status") == "skipped").height > 0  # what was downloaded stayed


@pytest.mark.parametrize(
    "argv",
    [
        ["sandbox", "--port", "0", "--seed", "-1"],
        ["archive", "twilio", "--out", "a", "--sandbox", "--seed", "-3"],
        ["demo", "--seed", "-1"],
        ["load", "twillio"],
    ],
)
def test_bad_seeds_and_provider_names_are_usage_errors(argv: list[str]) -> None:
    # The sandbox and archive commands accepted negative seeds that demo refused; an unknown
    # provider was refused with the library's Python form ("expected None, ...").
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2


def test_archive_refuses_sandbox_with_base_url(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # --base-url was silently ignored with --sandbox.
    argv = ["archive", "twilio", "--out", str(tmp_path / "a"), "--sandbox", "--size", "10"]
    assert main([*argv, "--base-url", "http://127.0.0.1:9", "--quiet"]) == 2
    assert "--sandbox and --base-url" in capsys.readouterr().err
    assert not (tmp_path / "a").exists()


def test_archive_with_an_empty_base_url_is_an_error_not_the_real_host(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # --base-url "$SANDBOX_URL" with the variable unset sent real credentials to Twilio.
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", "AC" + "1" * 32)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "x" * 32)
    argv = ["archive", "twilio", "--out", str(tmp_path / "a"), "--base-url", "", "--quiet"]
    assert main(argv) == 2
    assert "base-url" in capsys.readouterr().err.replace("base_url", "base-url")


def test_sandbox_on_a_busy_port_names_it(capsys: pytest.CaptureFixture[str]) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["sandbox", "--port", str(port), "--size", "10"]) == 2
    err = capsys.readouterr().err
    assert f"invalid --port (got '{port}')" in err and err.count("\n") == 1


def test_notebooks_without_its_extra_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A 23-line traceback ending in the install hint, exit 1.
    monkeypatch.setitem(sys.modules, "nbclient", None)  # what an uninstalled package does
    src = Path(__file__).parents[1] / "notebooks"
    code = main(["notebooks", "--out", str(tmp_path / "nb"), "--src", str(src), "01-quickstart"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "pip install" in err
    assert "Traceback" not in err


def test_notebooks_without_its_extra_says_the_real_cause(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The ImportError said only "needs nbclient, nbconvert and ipykernel", also where they were
    # installed and one of them failed to import: the real cause is on the line too.
    monkeypatch.setitem(sys.modules, "nbconvert", None)
    src = Path(__file__).parents[1] / "notebooks"
    code = main(["notebooks", "--out", str(tmp_path / "nb"), "--src", str(src), "01-quickstart"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "pip install" in err, err
    assert "nbconvert" in err.split("pip install", 1)[1], err


def test_notebooks_without_a_name_renders_every_notebook_of_src(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Found by mutation testing (session 24): no NOTEBOOK given means all of them (here a
    # folder without any: an index only), not an empty list of names refused.
    src = tmp_path / "src"
    src.mkdir()
    assert main(["notebooks", "--src", str(src), "--out", str(tmp_path / "site")]) == 0
    assert capsys.readouterr().out == f"open {(tmp_path / 'site' / 'index.html').resolve()}\n"
    assert [p.name for p in (tmp_path / "site").iterdir()] == ["index.html"]


@pytest.mark.slow
def test_a_notebook_cell_that_raises_is_one_line(tmp_path: Path) -> None:
    # nbclient's CellExecutionError escaped as a 91-line traceback, exit 1; a notebook needing
    # a package that is not installed is the usual case (notebook 07 without PyAV).
    import nbformat

    src = tmp_path / "src"
    src.mkdir()
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("import recanalytics_no_such_package")]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, src / "needs-more.ipynb")
    out = str(tmp_path / "out")
    done = subprocess.run(
        [sys.executable, "-m", "recanalytics.cli", "notebooks", "--src", str(src), "--out", out],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])},
    )
    ours = [line for line in done.stderr.splitlines() if line.startswith("recanalytics:")]
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert len(ours) == 1 and "needs-more.ipynb: a cell raised ModuleNotFoundError" in ours[0]
    assert "recanalytics_no_such_package" in ours[0] and "pip install" in ours[0], ours


def use_sandbox_credentials(monkeypatch: pytest.MonkeyPatch, provider: str) -> None:
    """Set ``provider``'s environment variables to the sandbox's own credentials."""
    import importlib

    from recanalytics.providers.registry import credentials_class

    given = importlib.import_module(f"recanalytics.sandbox.{provider}").CREDENTIALS
    for field, names in credentials_class(provider).env.items():
        if field in given:
            monkeypatch.setenv(names[0], given[field])


def test_load_of_every_configured_provider_succeeds_with_some_unconfigured(
    served: Any,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    no_env_credentials: None,
) -> None:
    # With one provider configured, `load` exited 1 because the others were "skipped": a
    # cron job over one account always failed. A provider that fails still makes it 1.
    use_sandbox_credentials(monkeypatch, "twilio")
    out = tmp_path / "x.parquet"
    argv = ["load", "--since", "2025-01-01", "--quiet", "--out", str(out)]
    assert main([*argv, "--base-url", served.url]) == 0
    text, err = capsys.readouterr()
    assert "twilio: ok" in text and "zoom: skipped" in text and err == ""
    assert pl.read_parquet(out).height > 0
    # Refused credentials fail at once (an unreachable host took ~20 s of retries to fail).
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "not-the-token")
    assert main([*argv, "--base-url", served.url]) == 1
    text, err = capsys.readouterr()
    assert "twilio: failed" in text and "zoom: skipped" in text


@pytest.mark.usefixtures("no_env_credentials")
def test_load_with_no_provider_configured_fails(tmp_path: Path) -> None:
    assert main(["load", "--quiet", "--out", str(tmp_path / "x.parquet")]) == 1


def test_a_warning_is_one_line_in_the_command(
    served: Any,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    no_env_credentials: None,
) -> None:
    # Python's format added the script's source line ("sys.exit(main())") to each warning.
    use_sandbox_credentials(monkeypatch, "plivo")
    argv = ["load", "plivo", "--quiet", "--out", str(tmp_path / "x.parquet")]
    assert main([*argv, "--base-url", served.url]) == 0
    err = capsys.readouterr().err
    assert err.startswith("recanalytics: warning: plivo") and err.count("\n") == 1, err


def test_demo_table_says_n_a_for_sizes_no_provider_states(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo", "--size", "100", "--out", str(tmp_path / "d.parquet")]) == 0
    lines = capsys.readouterr().out.splitlines()
    plivo = next(line for line in lines if "plivo" in line)
    assert "n/a" in plivo and "null" not in plivo


@pytest.mark.parametrize("command", COMMANDS)
def test_every_option_is_in_the_command_reference(command: str) -> None:
    # --base-url, --quiet, --progress, --drop-rate and others were only in --help.
    docs = (Path(__file__).parents[1] / "docs" / "cli.md").read_text(encoding="utf-8")
    (row,) = [line for line in docs.splitlines() if line.startswith(f"| `recanalytics {command}")]
    parser = build_parser()._subparsers._group_actions[0].choices[command]  # type: ignore[union-attr]
    for action in parser._actions:
        names = [n for n in action.option_strings if n.startswith("--") and n != "--help"]
        for name in names:
            assert name in row, f"{command} {name} is not in docs/cli.md"
        if not action.option_strings and action.metavar:
            assert action.metavar in row, f"{command} {action.metavar} is not in docs/cli.md"


def test_ctrl_c_is_one_line_and_exit_130(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # It printed the traceback of every cancelled task (about 40 lines) around KeyboardInterrupt.
    import recanalytics.archive

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(recanalytics.archive, "archive", interrupted)
    argv = ["archive", "twilio", "--out", str(tmp_path / "a"), "--sandbox", "--size", "20"]
    try:
        code = main([*argv, "--quiet"])
    except KeyboardInterrupt:
        pytest.fail("KeyboardInterrupt escaped main() with its traceback")
    assert code == 130
    err = capsys.readouterr().err
    assert err.strip().splitlines() == [
        "recanalytics: interrupted; run the same command again to go on from where it stopped"
    ]


def test_the_summary_table_writes_small_amounts_out_and_warns_of_odd_values_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A 1 ms track beside a 2 TiB one read "2.78e-07" hours and "9.09e-13" TiB (a float cast
    # to text), and a negative duration was warned about twice (the table, then the counts).
    import datetime as dt
    import warnings

    from recanalytics.schema import conform

    frame = conform(
        pl.DataFrame(
            {
                "provider": ["twilio", "zoom", "zoom"],
                "recording_id": ["RT1", "z1", "z2"],
                "created_at": [dt.datetime(2025, 1, 1, tzinfo=dt.UTC)] * 3,
                "duration": [dt.timedelta(milliseconds=1), dt.timedelta(hours=5), None],
                "size_bytes": [1, 2**41, -5],
            }
        )
    ).collect()
    from recanalytics.cli import provider_summary

    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        rows = provider_summary(frame).rows()
    assert len([w for w in said if "negative" in str(w.message)]) == 1
    assert rows[0][:4] == ("twilio", "1", "0.000000278", "0.000000000000909")
    assert not any("e-" in cell for row in rows for cell in row if cell)


def test_another_packages_warning_is_not_worded_as_recanalytics_own(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # nbclient 0.10.0's DeprecationWarning on Python 3.13 read "recanalytics: warning: ..."
    # with its newlines as literal \n: the command claimed a dependency's notice as its own.
    import recanalytics.cli as cli

    demo = cli.cmd_demo

    def noisy(args: Any) -> int:
        warnings.warn_explicit(
            "ambiguous date\nand more", UserWarning, "jsonutil.py", 29, module="nbclient"
        )
        ra_warning = "plivo: a LoadWarning"
        warnings.warn(ra_warning, ra.LoadWarning, stacklevel=1)
        return demo(args)

    monkeypatch.setattr(cli, "cmd_demo", noisy)
    # pytest.warns records what is shown Python's way: the dependency's warnings arrive there.
    with pytest.warns(UserWarning, match="ambiguous date"):
        assert main(["demo", "--size", "50", "--out", str(tmp_path / "d.parquet")]) == 0
    err = capsys.readouterr().err
    assert "recanalytics: warning: plivo: a LoadWarning" in err
    assert "ambiguous" not in err


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0 and capsys.readouterr().out == f"recanalytics {ra.__version__}\n"


def test_archive_times_read_as_dates_at_midnight_and_in_utc_otherwise() -> None:
    # Found by mutation testing (session 24): a manifest time without an offset (an older
    # manifest's) at midnight read as "2025-06-01T00:00:00" in the periods the command lists.
    from recanalytics.cli import shown_time

    assert shown_time("2025-06-01T00:00:00") == "2025-06-01"
    assert shown_time("2025-06-01T00:00:00+00:00") == "2025-06-01"
    assert shown_time("2026-12-02T09:30:05+00:00") == "2026-12-02 09:30:05 UTC"
    assert shown_time("2026-12-02T09:30:05+02:00") == "2026-12-02T09:30:05+02:00"
