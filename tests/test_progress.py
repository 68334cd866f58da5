"""Progress bars: one per endpoint, named for it, with a total where the provider gives one."""

from __future__ import annotations

import ast
import io
import sys
import types
from functools import partialmethod
from pathlib import Path
from typing import Any, ClassVar

import pytest

import recanalytics as ra
import recanalytics.engine
from recanalytics.progress import Progress, in_notebook, resolve_progress, tqdm_disabled
from recanalytics.providers.registry import LOADERS
from recanalytics.sandbox import Sandbox


class Recorded(Progress):
    bars: ClassVar[list[Recorded]] = []

    def __init__(self, label: str, *, enabled: bool) -> None:
        super().__init__(label, enabled=enabled)
        self.label = label
        self.total: int | None = None
        self.count = 0
        Recorded.bars.append(self)

    def expect(self, records: int | None) -> None:
        super().expect(records)
        if records is not None:
            self.total = (self.total or 0) + records

    def update(self, *, records: int = 0, **kwargs: Any) -> None:
        super().update(records=records, **kwargs)
        self.count += records


@pytest.fixture
def bars(monkeypatch: pytest.MonkeyPatch) -> list[Recorded]:
    Recorded.bars = []
    monkeypatch.setattr(recanalytics.engine, "Progress", Recorded)
    return Recorded.bars


def test_one_labelled_bar_per_endpoint_with_known_totals(
    fresh_box: Sandbox, bars: list[Recorded], capsys: pytest.CaptureFixture[str]
) -> None:
    """Finding 5 of issue 15: two bars both read "twilio:" and every total was "?"."""
    options = fresh_box.load_options()
    df = ra.load(since=fresh_box.config.start, until=fresh_box.config.end, progress=True, **options)
    labels = sorted(b.label for b in bars)
    # One bar per registered loader, each named: the provider alone, or with its endpoint
    # where the provider has several.
    assert len(labels) == len(set(labels)) == sum(len(x) for x in LOADERS.values()), labels
    for provider, loaders in LOADERS.items():
        own = [label for label in labels if label.split()[0] == provider]
        assert len(own) == len(loaders), labels
        if len(loaders) == 1:
            assert own == [provider]
        else:
            assert all(" " in label for label in own), own
    assert {"twilio tracks", "twilio compositions"} <= set(labels)
    plivo = next(b for b in bars if b.label == "plivo")
    assert plivo.total == plivo.count == df.filter(df["provider"] == "plivo").height > 0
    twilio = [b for b in bars if b.label.startswith("twilio")]
    assert all(b.total is None for b in twilio)  # Twilio's Video API gives no count
    shown = capsys.readouterr().err
    assert "twilio tracks" in shown and "twilio compositions" in shown
    assert f"{plivo.count}/{plivo.total}" in shown  # plivo's bar shows n/N, not n/?


def test_zoom_session_counts_are_not_shown_as_a_file_total(
    fresh_box: Sandbox, bars: list[Recorded]
) -> None:
    ra.load_zoom_recordings(
        since=fresh_box.config.start,
        until=fresh_box.config.end,
        progress=True,
        **fresh_box.options("zoom"),
    )
    (zoom,) = bars
    assert zoom.label == "zoom" and zoom.total is None and zoom.count > 0


def saved_outputs(code: str, tmp_path: Any) -> list[dict[str, Any]]:
    """The data of each display output ``code`` leaves in a notebook cell run by a kernel, as a
    saved notebook holds them (no widget state), failing if any is a widget view."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
    NotebookClient(nb, timeout=120, kernel_name="python3").execute(cwd=str(tmp_path))
    outputs = nb.cells[0].outputs
    bundles = [o.get("data", {}) for o in outputs if o.output_type != "stream"]
    assert not any("application/vnd.jupyter.widget-view+json" in b for b in bundles), outputs
    return bundles


def test_a_finished_bar_leaves_text_a_reopened_notebook_can_show(tmp_path: Any) -> None:
    # A widget bar left in a saved notebook needs its kernel's widget state: reopened, every
    # finished load showed "Error displaying widget: model not found". Finished, the bar is
    # replaced by its last line, as text.
    code = (
        "import recanalytics as ra\n"
        "from recanalytics.sandbox import Sandbox\n"
        "box = Sandbox(seed=1, size=60)\n"
        "df = ra.load_twilio_recordings(**box.options('twilio'), progress=True)\n"
        "df.height"
    )
    bundles = saved_outputs(code, tmp_path)
    lines = [b["text/plain"] for b in bundles if "rec" in b.get("text/plain", "")]
    assert len(lines) == 1 and lines[0].startswith("twilio tracks: "), bundles
    assert "pages=" in lines[0] and "retries=0" in lines[0]
    assert bundles[-1]["text/plain"] == str(len_of_sandbox_tracks())


def len_of_sandbox_tracks() -> int:
    box = Sandbox(seed=1, size=60)
    return ra.load_twilio_recordings(**box.options("twilio")).height


def test_the_media_bar_leaves_text_and_counts_only_files_to_fetch(tmp_path: Any) -> None:
    # The media bar was a plain widget: reopened, "model not found"; and its total counted
    # every row, so unavailable recordings (deleted, failed) left it red at 90 %.
    code = (
        "import recanalytics as ra\n"
        "from recanalytics.sandbox import Sandbox\n"
        "box = Sandbox(seed=1, size=40)\n"
        "df = ra.load_twilio_recordings(**box.options('twilio'))\n"
        "result = ra.download_media(df, 'media', progress=True, **box.options('twilio'))\n"
        "dict(result.group_by('status').len().iter_rows())"
    )
    bundles = saved_outputs(code, tmp_path)
    statuses = ast.literal_eval(bundles[-1]["text/plain"])  # the cell's value: counts
    assert statuses.get("unavailable", 0) > 0  # the case the bar's total got wrong
    fetched = statuses["downloaded"]
    (line,) = [b["text/plain"] for b in bundles if b.get("text/plain", "").startswith("media")]
    assert f"100% {fetched}/{fetched}" in line, line
    assert "pages=" not in line


def test_a_finished_bar_ends_on_the_rows_returned(capsys: pytest.CaptureFixture[str]) -> None:
    # It counted what arrived: rows read twice where windows meet too, so it said "1003 rec"
    # where the load returned 1000 rows.
    box = Sandbox(seed=7, size=1000)
    span = {"since": box.config.start, "until": box.config.end}
    df = ra.load_twilio_recordings(**span, progress=True, **box.options("twilio"))
    last = capsys.readouterr().err.replace("\r", "\n").strip().splitlines()[-1]
    assert last.startswith("twilio tracks: ") and f" {df.height} rec " in last, last
    plivo = ra.load_plivo_recordings(**span, progress=True, **box.options("plivo"))
    last = capsys.readouterr().err.replace("\r", "\n").strip().splitlines()[-1]
    assert f" {plivo.height}/{plivo.height} " in last, last


class FullDisk:
    """A standard error on a full disk (``2>/dev/full``): every write fails."""

    encoding = "utf-8"

    def write(self, text: str) -> int:
        raise OSError(28, "No space left on device")

    def flush(self) -> None:
        raise OSError(28, "No space left on device")

    def isatty(self) -> bool:
        return False


@pytest.mark.parametrize("stderr", [None, FullDisk()], ids=["no stderr", "full disk"])
def test_a_progress_bar_never_fails_a_load(
    monkeypatch: pytest.MonkeyPatch, fresh_box: Sandbox, stderr: object
) -> None:
    # pythonw, a daemon or `2>&-` (sys.stderr None): a raw AttributeError from tqdm, and the
    # rows lost; `2>/dev/full`: an OSError, the same.
    monkeypatch.setattr("sys.stderr", stderr)
    df = ra.load_twilio_recordings(since="2020-01-01", progress=True, **fresh_box.options("twilio"))
    assert df.height


@pytest.fixture
def notebook_tqdm(monkeypatch: pytest.MonkeyPatch) -> Any:
    """tqdm.auto as a kernel has it: the notebook (widget) bar."""
    import tqdm.auto
    import tqdm.notebook

    monkeypatch.setattr(tqdm.auto, "tqdm", tqdm.notebook.tqdm)
    return tqdm.notebook.tqdm


def load_and_download(box: Sandbox, folder: Path) -> tuple[int, int]:
    """A load and a media download with bars on: the rows and the files downloaded."""
    df = ra.load_twilio_recordings(progress=True, **box.options("twilio"))
    result = ra.download_media(df.head(5), folder, progress=True, **box.options("twilio"))
    return df.height, result.filter(result["status"] == "downloaded").height


def test_bars_silenced_the_common_way_load_without_a_bar(
    notebook_tqdm: Any,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # `tqdm.auto.tqdm.__init__ = partialmethod(tqdm.__init__, disable=True)` in a notebook:
    # every load and download raised AttributeError "'tqdm' object has no attribute
    # 'container'" (a disabled notebook bar makes no widget).
    monkeypatch.setattr(
        notebook_tqdm, "__init__", partialmethod(notebook_tqdm.__init__, disable=True)
    )
    rows, files = load_and_download(Sandbox(seed=1, size=40), tmp_path)
    assert rows and files
    assert "twilio tracks" not in str(capsys.readouterr())  # no bar shown


def test_tqdm_disable_hides_the_notebook_bars(
    notebook_tqdm: Any,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # tqdm's notebook bar passes disable=False to tqdm, overriding the user's TQDM_DISABLE:
    # every other bar was hidden, ours showed.
    box = Sandbox(seed=1, size=40)
    monkeypatch.delenv("TQDM_DISABLE", raising=False)
    load_and_download(box, tmp_path / "shown")
    shown = capsys.readouterr().out  # outside a kernel, display() prints the widget as text
    assert "twilio tracks: " in shown and "media: " in shown
    monkeypatch.setenv("TQDM_DISABLE", "1")
    rows, files = load_and_download(box, tmp_path / "hidden")
    assert rows and files
    assert "twilio tracks" not in str(capsys.readouterr())


# --- found by mutation testing (session 24) -------------------------------------------------


def test_tqdm_disable_set_to_any_text_turns_the_bars_off(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # As tqdm reads it: any non-empty value, "0" and "false" included.
    for value in ("0", "false", "1"):
        monkeypatch.setenv("TQDM_DISABLE", value)
        assert tqdm_disabled(), value
        bar = Progress("plivo", enabled=True)
        bar.update(pages=1, records=3)
        bar.close()
    assert capsys.readouterr().err == ""
    monkeypatch.setenv("TQDM_DISABLE", "")
    assert not tqdm_disabled()


def test_a_bar_adds_up_the_totals_it_is_told_and_ends_on_the_rows_returned(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Each query's reported count adds to the total (a provider paged over several windows),
    # and the end is the rows the load returned, total included: "11/12" read as unfinished.
    monkeypatch.delenv("TQDM_DISABLE", raising=False)
    bar = Progress("plivo", enabled=True)
    bar.expect(5)
    bar.expect(7)
    assert "0/12" in capsys.readouterr().err
    bar.update(pages=2, records=12)
    bar.settle(11)
    bar.close()
    last = capsys.readouterr().err.replace("\r", "\n").strip().splitlines()[-1]
    assert " 11/11 " in last and "pages=2" in last, last


def test_a_detached_standard_error_never_fails_a_load(
    monkeypatch: pytest.MonkeyPatch, fresh_box: Sandbox
) -> None:
    # A ValueError that does not say "closed" (tqdm lets only those through quietly): the
    # stream's buffer detached, as `sys.stderr.detach()` leaves it.
    detached = io.TextIOWrapper(io.BytesIO())
    detached.detach()
    monkeypatch.setattr("sys.stderr", detached)
    monkeypatch.delenv("TQDM_DISABLE", raising=False)
    df = ra.load_twilio_recordings(since="2020-01-01", progress=True, **fresh_box.options("twilio"))
    assert df.height


class TerminalShell:
    """IPython in a terminal: a shell, but no kernel."""


class KernelShell:
    """An IPython kernel's shell."""

    kernel = object()


@pytest.mark.parametrize(
    ("shell", "notebook"),
    [(None, False), (TerminalShell(), False), (KernelShell(), True)],
    ids=["imported-only", "terminal", "kernel"],
)
def test_progress_defaults_to_on_in_a_kernel_only(
    monkeypatch: pytest.MonkeyPatch, shell: object, notebook: bool
) -> None:
    fake = types.ModuleType("IPython")
    fake.get_ipython = lambda: shell  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "IPython", fake)
    assert in_notebook() is notebook
    assert resolve_progress(None) is notebook
    assert resolve_progress(True) is True and resolve_progress(False) is False
