"""The bundled notebooks: committed clean, rendered offline.

Every notebook in ``notebooks/`` runs top to bottom on the sandbox in tests/test_lab.py, in a
real kernel of a live JupyterLab with every provider credential removed from its environment
(so it must take its sandbox branch) and its working directory and ``TMPDIR`` in a pytest
temporary folder; that test also checks nothing lands in the repository. Here, one notebook
is rendered to HTML and opened in headless Chromium to check the charts draw from the inlined
Vega bundle, and the command-line renderer renders another.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import nbformat
import pytest
import zoned
from headless import (
    NOTEBOOKS_DIR,
    chromium_paths,
    console_errors,
    headless_chromium,
    sandbox_env,
)

from recanalytics.errors import ConfigError
from recanalytics.notebooks import (
    find_notebooks,
    offline_problems,
    offline_renderer,
    render_notebooks,
    use_offline_renderer,
)

NOTEBOOKS = find_notebooks(NOTEBOOKS_DIR)
EXPECTED = {
    "01-quickstart.ipynb",
    "02-storage-trends.ipynb",
    "03-durations-and-codecs.ipynb",
    "04-explorer.ipynb",
    "05-ad-hoc-queries.ipynb",
    "06-twilio-video-archive.ipynb",
    "07-media-check.ipynb",
}
RENDERED = "02-storage-trends"  # the notebook opened in the browser: many kinds of chart


def by_name(path: Path) -> str:
    return path.stem


def repo_files() -> set[Path]:
    return set(NOTEBOOKS_DIR.rglob("*"))


def test_the_six_notebooks_are_bundled() -> None:
    assert {p.name for p in NOTEBOOKS} == EXPECTED


@pytest.mark.parametrize("path", NOTEBOOKS, ids=by_name)
def test_notebook_is_committed_without_outputs(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{path.name} cell {cell.get('id')} has outputs"
            assert cell.execution_count is None, f"{path.name} cell {cell.get('id')} was run"
    assert "widgets" not in nb.metadata, f"{path.name} stores widget state"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=by_name)
def test_one_marked_cell_decides_the_data_source(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    deciding = [i for i, c in enumerate(nb.cells) if "USE_SANDBOX =" in c.source]
    assert len(deciding) == 1, f"{path.name}: exactly one cell must set USE_SANDBOX"
    i = deciding[0]
    assert nb.cells[i].cell_type == "code"
    heading = nb.cells[i - 1]
    assert heading.cell_type == "markdown"
    assert heading.source.startswith("## Where the data comes from")
    assert "available()" in nb.cells[i].source  # decided by the credentials in the environment


@pytest.mark.slow
def execute(nb: Any, folder: Path, failure: str) -> None:
    """Run ``nb`` in a kernel on the sandbox, in ``folder``; a cell's error fails the test."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    client = NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(folder)}}
    )
    try:
        client.execute(env=sandbox_env(folder))
    except CellExecutionError as exc:
        pytest.fail(f"{failure}:\n{exc}")


@pytest.mark.skipif(
    chromium_paths() is not None or bool(os.environ.get("CI")),
    reason="tests/test_lab.py runs every notebook in JupyterLab, with these checks",
)
@pytest.mark.parametrize("path", NOTEBOOKS, ids=by_name)
def test_notebook_runs_top_to_bottom_without_a_browser(path: Path, tmp_path: Path) -> None:
    """Where no Chromium is installed (and not under CI, where the browser run must happen),
    the notebooks still run top to bottom on the sandbox, in nbclient, with the checks the
    JupyterLab run makes: the sandbox branch taken, nothing on stderr, nothing written into
    the repository. With Chromium they run once, in JupyterLab."""
    nb = nbformat.read(path, as_version=4)
    before = set(NOTEBOOKS_DIR.rglob("*"))
    execute(nb, tmp_path, f"{path.name} failed on the sandbox")
    outputs = [out for cell in nb.cells if cell.cell_type == "code" for out in cell.outputs]
    printed = "".join(out.get("text", "") for out in outputs if out.output_type == "stream")
    assert "the sandbox" in printed, "the notebook did not take its sandbox branch"
    stderr = [out.text for out in outputs if out.get("name") == "stderr"]
    assert stderr == [], f"{path.name} wrote to stderr: {stderr}"
    assert set(NOTEBOOKS_DIR.rglob("*")) == before, f"{path.name} wrote into the repository"


@pytest.mark.slow
def test_the_archive_notebook_reads_its_archive_once_twilio_is_gone(tmp_path: Path) -> None:
    """After 2026-12-05 the "Archive everything" cell failed (a TransportError, or a
    CredentialsError once the TWILIO_* variables were removed) and every later cell with a
    NameError, though the archive it made was on disk. With an archive in ARCHIVE_DIR and
    Twilio at a port nothing listens on, it says so in one line and works from the files."""
    import socket
    import warnings

    import recanalytics as ra
    from recanalytics.sandbox import Sandbox

    archive = tmp_path / "twilio-archive"
    box = Sandbox(seed=7, size=60, providers=["twilio"], small_media=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ra.LoadWarning)  # media pending: not what is tested
        made = ra.archive_twilio(archive, media=True, **box.options("twilio"))
    with socket.socket() as probe:  # a port nothing listens on once closed
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}"
    nb = nbformat.read(NOTEBOOKS_DIR / "06-twilio-video-archive.ipynb", as_version=4)
    deciding = next(i for i, c in enumerate(nb.cells) if "USE_SANDBOX =" in c.source)
    retired = nbformat.v4.new_code_cell(
        f"ARCHIVE_DIR = Path({str(archive)!r})\n"
        "TWILIO_OPTIONS = {\n"
        f"    'base_url': {dead!r},\n"
        "    'credentials': ra.TwilioCredentials(account_sid='AC' + '0' * 32, auth_token='x'),\n"
        "    'retry': ra.RetryPolicy(max_retries=0),\n"
        "}\n"
    )
    nb.cells.insert(deciding + 1, retired)
    before = (archive / "manifest.json").read_bytes()
    execute(nb, tmp_path, "notebook 06 failed with Twilio gone")
    printed = "".join(
        out.get("text", "")
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.outputs
        if out.output_type == "stream" and out.name == "stdout"
    )
    assert (
        f"Twilio cannot be reached (TransportError): reading the archive already in {archive}"
        in (printed)
    )
    files = len(made["files"])
    assert f"{files} files in the manifest, 0 with a wrong checksum" in printed
    assert (archive / "manifest.json").read_bytes() == before  # read, not rewritten


# --- rendering ------------------------------------------------------------------------------


def test_offline_problems_finds_network_loads() -> None:
    page = (
        "<script src='https://cdn.jsdelivr.net/npm/vega@6'></script>"
        '<link rel="stylesheet" href="//fonts.example.com/a.css">'
        "<script>import('https://esm.sh/mermaid')</script>"
        "<a href='https://example.com'>a link fetches nothing</a>"
        "<script>vegaEmbed('#x', {})</script>"
    )
    assert len(offline_problems(page)) == 3
    assert offline_problems("<script>vegaEmbed('#x', {})</script>") == []


def test_offline_renderer_outputs_an_embed_call_without_scripts_to_fetch() -> None:
    import altair as alt

    bundle = offline_renderer({"mark": "point", "data": {"values": [{"x": 1}]}})
    assert "vegaEmbed(" in bundle["text/html"]
    assert offline_problems(bundle["text/html"]) == []
    previous = alt.renderers.active
    try:
        use_offline_renderer()
        assert alt.renderers.active == "recanalytics-offline"
    finally:
        alt.renderers.enable(previous)


def test_render_notebooks_rejects_unknown_names(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no-such") as info:
        render_notebooks(NOTEBOOKS_DIR, tmp_path, names=["no-such"])
    assert info.value.parameter == "names"
    with pytest.raises(ConfigError, match="existing folder") as info:
        render_notebooks(tmp_path / "missing", tmp_path)
    assert info.value.parameter == "src_dir"


NO_KERNEL = "recanalytics-no-such-kernel"


def one_notebook(folder: Path, name: str = "only.ipynb") -> Path:
    """A folder holding one (never run) notebook."""
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1")]), folder / name)
    return folder


@pytest.mark.parametrize(
    ("options", "parameter"),
    [
        # A name with its suffix is found (the timeout is checked after the names, the kernel
        # after the timeout: a check that let a value through fails on the next one, at once).
        ({"names": ["only.ipynb"], "timeout": 0, "kernel_name": NO_KERNEL}, "timeout"),
        ({"names": "only", "timeout": 0, "kernel_name": NO_KERNEL}, "timeout"),
        ({"names": [], "kernel_name": NO_KERNEL}, "names"),  # not "every notebook", nor none
        ({"timeout": 0, "kernel_name": NO_KERNEL}, "timeout"),
        ({"kernel_name": NO_KERNEL}, "kernel_name"),
    ],
    ids=["suffixed-name", "bare-name", "no-names", "zero-timeout", "unknown-kernel"],
)
def test_render_notebooks_refuses_bad_arguments_before_any_run(
    tmp_path: Path, options: dict[str, Any], parameter: str
) -> None:
    # Found by mutation testing (session 24); all refused before a kernel starts.
    src = one_notebook(tmp_path / "src")
    with pytest.raises(ConfigError) as info:
        render_notebooks(src, tmp_path / "site", **options)
    assert info.value.parameter == parameter
    assert not (tmp_path / "site").exists()


@pytest.mark.parametrize("ename", ["ModuleNotFoundError", "ImportError"])
def test_a_failed_cell_is_one_line_naming_the_notebook_and_the_extras(ename: str) -> None:
    from nbclient.exceptions import CellExecutionError

    from recanalytics.notebooks import cell_failure

    exc = CellExecutionError("traceback", ename, "cannot import name 'x' from 'av'\nmore")
    exc.add_note("while executing notebook /work/notebooks/07-media-check.ipynb")
    assert cell_failure(exc) == (
        f"/work/notebooks/07-media-check.ipynb: a cell raised {ename}: cannot import name 'x' "
        "from 'av' (the notebooks need: pip install 'recanalytics[notebooks,export]')"
    )
    other = CellExecutionError("traceback", "ValueError", "bad")
    assert cell_failure(other) == "a notebook: a cell raised ValueError: bad"


@pytest.fixture(scope="module")
def rendered() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        original = (NOTEBOOKS_DIR / f"{RENDERED}.ipynb").read_bytes()
        before = repo_files()
        pages = render_notebooks(
            NOTEBOOKS_DIR, root / "site", names=[RENDERED], env=sandbox_env(root)
        )
        assert (NOTEBOOKS_DIR / f"{RENDERED}.ipynb").read_bytes() == original
        assert repo_files() == before
        assert [p.name for p in pages] == [f"{RENDERED}.html"]
        yield pages[0]


@pytest.mark.slow
def test_rendered_page_is_self_contained(rendered: Path) -> None:
    page = rendered.read_text(encoding="utf-8")
    assert offline_problems(page) == []
    assert "https://cdn" not in page.split("<body", 1)[0]  # nothing from a CDN in the head
    assert "<script src" not in page
    # The setup cell is not shown (a chart's own "Vega is not loaded" hint may name the call).
    assert "use_offline_renderer(inline_bundle=False)" not in page
    assert "Added by recanalytics.notebooks.render_notebooks" not in page
    nb = nbformat.read(NOTEBOOKS_DIR / f"{RENDERED}.ipynb", as_version=4)
    chart_cells = [
        c
        for c in nb.cells
        if c.cell_type == "code" and ("_chart(" in c.source or "alt.Chart(" in c.source)
    ]
    assert page.count("vegaEmbed(") >= len(chart_cells) > 0
    assert (rendered.parent / "index.html").is_file()


@pytest.mark.slow
@pytest.mark.browser
def test_rendered_charts_draw_in_headless_chromium(rendered: Path, tmp_path: Path) -> None:
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.support.ui import WebDriverWait

    with headless_chromium(tmp_path / "chromium-profile") as driver:
        driver.get(rendered.as_uri())
        count_script = "return document.querySelectorAll('.recanalytics-chart').length"
        charts = driver.execute_script(count_script)
        assert charts > 0
        drawn_script = (
            "return Array.from(document.querySelectorAll('.recanalytics-chart')).filter("
            "e => e.querySelectorAll('svg g[class*=\"mark-\"] > *').length > 0).length"
        )

        def all_drawn(d: Any) -> bool:
            return bool(d.execute_script(drawn_script) == charts)

        with contextlib.suppress(TimeoutException):  # the assertions below say what is missing
            WebDriverWait(driver, 30).until(all_drawn)
        assert driver.execute_script(drawn_script) == charts, "some charts drew no marks"
        body = driver.execute_script("return document.body.innerText")
        assert "chart failed" not in body
        errors = console_errors(driver)
        assert errors == [], errors


@pytest.mark.slow
def test_cli_renders_a_notebook_without_a_tcp_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    """Also finding 7 of issue 15: ``recanalytics notebooks`` printed an ipykernel TCP warning
    (the kernel writes it to the inherited stderr, so ``capfd``). This used to be a test of its
    own rendering a one-cell notebook: a kernel start (5 s) spent on what this render shows."""
    from recanalytics.cli import main

    for key in os.environ.keys() - sandbox_env(tmp_path).keys():
        monkeypatch.delenv(key)
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    out = tmp_path / "site"
    assert main(["notebooks", "--src", str(NOTEBOOKS_DIR), "--out", str(out), "01-quickstart"]) == 0
    captured = capfd.readouterr()
    assert str((out / "01-quickstart.html").resolve()) in captured.out
    assert offline_problems((out / "01-quickstart.html").read_text(encoding="utf-8")) == []
    assert "without encryption" not in captured.err + captured.out


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="RLIMIT_FSIZE is POSIX")
def test_a_page_that_cannot_be_written_keeps_the_old_one_and_no_temporary_folder_stays(
    tmp_path: Path,
) -> None:
    """`recanalytics notebooks --out` under a file size limit (or on a full disk) left a page
    cut off mid-script where a whole one was and said only "File too large", naming no file;
    and what a notebook made with ``tempfile`` stayed in ``$TMPDIR`` after every run."""
    import resource
    import subprocess

    src = tmp_path / "src"
    src.mkdir()
    cell = nbformat.v4.new_code_cell("import tempfile\ntempfile.mkdtemp(prefix='left-')")
    nbformat.write(nbformat.v4.new_notebook(cells=[cell]), src / "tiny.ipynb")
    out = tmp_path / "site"
    out.mkdir()
    page = out / "tiny.html"
    page.write_bytes(b"<html>an earlier page</html>")
    temporary = tmp_path / "tmp"
    temporary.mkdir()

    def limited() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (256 * 1024, 256 * 1024))

    root = Path(__file__).resolve().parents[1]
    command = ["notebooks", "--src", str(src), "--out", str(out)]
    done = subprocess.run(
        [sys.executable, "-m", "recanalytics.cli", *command],
        capture_output=True,
        text=True,
        timeout=300,
        preexec_fn=limited,
        env=sandbox_env(temporary) | {"PYTHONPATH": str(root)},
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith(f"recanalytics: {page}: could not be written"), done.stderr
    assert page.read_bytes() == b"<html>an earlier page</html>"
    assert [p.name for p in out.iterdir()] == ["tiny.html"]
    assert list(temporary.iterdir()) == []


@pytest.mark.slow
def test_the_notebooks_temporary_folders_go_when_their_kernel_ends(tmp_path: Path) -> None:
    """Notebooks 05, 06 and 07 made their sandbox folders with ``tempfile.mkdtemp``: each run
    left one more in ``$TMPDIR`` (6.8 MB for the archive). Their first cells, up to the one
    that decides the data source, run in one kernel; the folders exist until it ends."""
    cells = []
    for name, folder in [
        ("05-ad-hoc-queries", "OUT_DIR"),
        ("06-twilio-video-archive", "ARCHIVE_DIR"),
        ("07-media-check", "MEDIA_DIR"),
    ]:
        nb = nbformat.read(NOTEBOOKS_DIR / f"{name}.ipynb", as_version=4)
        deciding = next(i for i, c in enumerate(nb.cells) if "USE_SANDBOX =" in c.source)
        cells += [c for c in nb.cells[: deciding + 1] if c.cell_type == "code"]
        # Kept: the next notebook's cell names its own folder alike.
        cells.append(nbformat.v4.new_code_cell(f"KEPT_{folder} = globals().get('TEMP')"))
        cells.append(nbformat.v4.new_code_cell(f"({folder} / 'made').write_text('x')"))
    execute(nbformat.v4.new_notebook(cells=cells), tmp_path, "the first cells failed")
    assert list(tmp_path.iterdir()) == []  # the kernel's working folder and TMPDIR


def test_the_media_check_codec_table_breaks_ties_by_name() -> None:
    # Codecs with equal file counts swapped places between runs (polars groups in no order).
    import altair as alt
    import polars as pl

    nb = nbformat.read(NOTEBOOKS_DIR / "07-media-check.ipynb", as_version=4)
    (cell,) = [c for c in nb.cells if c.cell_type == "code" and "mix = (" in c.source]
    codecs = ["vp8", "pcmu", "opus", "h264", "aac"]  # reverse order of name, equal counts
    probed = pl.DataFrame(
        {
            "error": [None] * 10,
            "media_type": ["audio"] * 10,
            "video_codec": [None] * 10,
            "audio_codec": [c for c in codecs for _ in range(2)],
            "container": ["mka"] * 10,
            "bitrate_kbps": [32.0] * 10,
        },
        schema_overrides={"error": pl.String, "video_codec": pl.String},
    )
    for rows in (probed, probed.reverse()):
        scope: dict[str, Any] = {"pl": pl, "alt": alt, "probed": rows}
        exec(cell.source, scope)
        assert scope["mix"]["codec"].to_list() == sorted(codecs)
        assert scope["order"] == sorted(codecs)


def test_the_sql_table_keeps_the_recordings_without_a_status() -> None:
    """Notebook 05's SQL table filtered ``WHERE status <> 'deleted'``: ``NULL <> 'deleted'`` is
    NULL in SQL, so every recording without a status (Zoom's transcripts, chats and timelines)
    was dropped from its counts, hours and cost. Not deleted means what ``summarize`` means."""
    import ast

    import polars as pl
    from synthetic import synthetic_frame

    import recanalytics as ra
    from recanalytics.helpers.sizes import is_deleted

    df = synthetic_frame(600, seed=5).with_columns(
        status=pl.when(pl.int_range(pl.len()) % 7 == 0).then(None).otherwise(pl.col("status")),
        # gone from the provider (the store marks it) while its status still reads completed
        deleted_at=pl.when(pl.int_range(pl.len()) % 11 == 1)
        .then(pl.col("created_at"))
        .otherwise(pl.col("deleted_at")),
    )
    nb = nbformat.read(NOTEBOOKS_DIR / "05-ad-hoc-queries.ipynb", as_version=4)
    (cell,) = [c for c in nb.cells if c.cell_type == "code" and "pl.SQLContext(" in c.source]
    *body, last = ast.parse(cell.source).body
    assert isinstance(last, ast.Expr)
    scope: dict[str, Any] = {"pl": pl, "ra": ra, "df": df}
    exec(compile(ast.Module(body=body, type_ignores=[]), "cell", "exec"), scope)
    table = eval(compile(ast.Expression(last.value), "cell", "eval"), scope)
    got = table.select("provider", "kind", "recordings").sort("provider", "kind")
    kept = df.filter(~is_deleted())
    assert kept["status"].null_count() > 0
    expected = (
        kept.group_by(pl.col("provider", "kind").cast(pl.String))
        .agg(recordings=pl.len().cast(got["recordings"].dtype))
        .sort("provider", "kind")
    )
    assert got.to_dicts() == expected.to_dicts()


def test_the_storage_added_chart_reads_utc_months_west_of_utc() -> None:
    """Notebook 02's "Storage added per month" grouped by ``yearmonth(period)``, the browser's
    local month of a period's UTC midnight: in Los Angeles every bar and label sat a month early
    (the first label Dec 2024 for January, a recording of 2026-01-01 00:01 UTC under Dec 2025)."""
    import altair as alt
    import polars as pl
    from synthetic import synthetic_frame

    import recanalytics as ra
    from recanalytics import charts

    moments = [datetime(2025, 1, 15, 12, tzinfo=UTC), datetime(2025, 3, 1, 0, 30, tzinfo=UTC)]
    moments.append(datetime(2026, 1, 1, 0, 1, tzinfo=UTC))
    df = synthetic_frame(3, seed=4).with_columns(
        created_at=pl.Series(moments, dtype=pl.Datetime("us", "UTC")),
        deleted_at=None,
        status=pl.lit("completed"),
    )
    nb = nbformat.read(NOTEBOOKS_DIR / "02-storage-trends.ipynb", as_version=4)
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    (table,) = [s for s in code if "monthly = ra.trend(" in s]
    (drawn,) = [s for s in code if "Storage added per month" in s]
    scope: dict[str, Any] = {"alt": alt, "pl": pl, "ra": ra, "charts": charts, "df": df}
    exec(table, scope)
    chart = eval(drawn, scope)
    months = {f"{p:%b %Y}" for p in scope["added"]["period"]}
    nodes = zoned.scene_in(chart.to_dict(), zoned.WEST)
    shown = {
        value
        for text in zoned.descriptions(nodes)
        for value in zoned.described(text).values()
        if re.fullmatch(r"[A-Z][a-z]{2} \d{4}", value)  # the month in a bar's tooltip
    }
    assert shown == months, shown
    labels = zoned.axis_labels(nodes)
    assert labels[0] == "Jan 2025" and "Dec 2024" not in labels, labels


def test_no_chart_formats_times_in_the_browser_zone() -> None:
    """Periods are UTC midnights: a local time unit (``yearmonth``, ``timeUnit="month"``) or
    ``formatType="time"`` shows them as the day before west of Greenwich. Every chart in the
    package, the notebooks and the docs uses the ``utc`` forms."""
    local = re.compile(
        r"""["'](?!utc)(year|quarter|month|week|day|date|hours|minutes|seconds)\w*\([\w ]+\)"""
        r"""|timeUnit\s*[=:]\s*["'](?!utc)|formatType\s*[=:]\s*["']time["']"""
        r"""|\btimeFormat\("""
    )
    root = NOTEBOOKS_DIR.parent
    sources = {
        path: path.read_text(encoding="utf-8")
        for pattern in ("recanalytics/**/*.py", "docs/*.md", "README.md", "scripts/*.py")
        for path in root.glob(pattern)
    }
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        sources[path] = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    found = {
        str(p.relative_to(root)): m.group(0) for p, s in sources.items() if (m := local.search(s))
    }
    assert found == {}, found
