"""Closing the explorer: ipywidgets keeps every open widget in its registry for the kernel's
lifetime, so an explorer that is not closed keeps its ~134 widgets and its frames for good."""

from __future__ import annotations

import gc
import importlib.util
import time
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from ipywidgets.widgets.widget import _instances  # the registry every open widget is kept in
from synthetic import synthetic_frame

import recanalytics as ra
from recanalytics.widgets import Explorer, FilterPanel, explore


@pytest.fixture(scope="module")
def frame() -> pl.DataFrame:
    return synthetic_frame(500, seed=5)


def open_widgets() -> set[str]:
    return set(_instances)


RENDERERS = [
    "svg",
    pytest.param(
        "jupyter",
        marks=pytest.mark.skipif(
            importlib.util.find_spec("anywidget") is None,
            reason="altair's JupyterChart needs anywidget",
        ),
    ),
]


@pytest.mark.parametrize("renderer", RENDERERS)
def test_close_closes_every_widget_and_lets_go_of_the_frames(
    frame: pl.DataFrame, renderer: str, tmp_path: Path
) -> None:
    # 60 explorers created, filtered and dropped left 8,040 widgets open; ex.close() closed the
    # outer box alone (130 of 134 stayed), so the frames their callbacks reach stayed too.
    before = open_widgets()
    ex = explore(frame, renderer=renderer, debounce=0)  # type: ignore[arg-type]
    ex.panel.controls["status"].value = ("completed",)
    ex.tabs.selected_index = 1
    if renderer == "jupyter":
        ex.draw_all()  # a JupyterChart in every tab (svg drawing all tabs takes seconds)
    made = open_widgets() - before
    assert len(made) > 100
    frames = [ex.panel.source, ex.panel.filtered, ex._rows]
    data = [weakref.ref(f) for f in frames]
    chart = weakref.ref(ex.views["Volume"].chart)  # type: ignore[arg-type]
    del frames
    ex.close()
    assert not made & open_widgets()
    gc.collect()
    # Still referenced (a notebook's Out[] keeps a displayed explorer), yet its data is gone.
    assert [ref() for ref in data] == [None, None, None] and chart() is None
    with pytest.raises(ra.RecanalyticsError, match="closed"):
        ex.refresh()
    with pytest.raises(ra.RecanalyticsError, match="closed"):
        ex.export("parquet", tmp_path / "selection")
    assert not list(tmp_path.iterdir())
    ex.close()  # again: nothing left to do
    explorer = weakref.ref(ex)
    del ex
    gc.collect()
    assert explorer() is None


def test_an_explorer_is_a_context_manager(frame: pl.DataFrame) -> None:
    before = open_widgets()
    with explore(frame, renderer="svg", debounce=0) as ex:
        ex.panel.controls["provider"].value = ("zoom",)
        assert ex.panel.filtered.height < frame.height
    assert open_widgets() <= before
    assert isinstance(ex, Explorer)


def test_a_refused_frame_leaves_no_widget_open(frame: pl.DataFrame) -> None:
    # Each refused frame left the panel's ~50 widgets (and the explorer's error box) open.
    before = open_widgets()
    with pytest.raises(ra.ConfigError, match="df"):
        FilterPanel(frame.drop("codec"))
    with pytest.raises(ra.ConfigError, match="df"):
        explore(frame.drop("codec"), renderer="svg")
    assert open_widgets() <= before


def test_a_filter_panel_closes_its_controls_timer_and_listeners(frame: pl.DataFrame) -> None:
    before = open_widgets()
    calls: list[int] = []
    with FilterPanel(frame, debounce=0.2) as panel:
        panel.on_change(lambda p: calls.append(p.filtered.height))
        source = weakref.ref(panel.source)
        slider = panel.controls["duration"]
        slider.value = (1.0, slider.max)  # applied at once
        slider.value = (2.0, slider.max)  # waits for the drag to end
    assert open_widgets() <= before
    time.sleep(0.3)  # past the debounce: the pending update was dropped with the panel
    assert len(calls) == 1
    slider.value = (3.0, slider.max)  # a control held on to is no longer listened to
    assert len(calls) == 1
    gc.collect()
    assert source() is None
    with pytest.raises(ra.RecanalyticsError, match="closed"):
        panel.set_source(frame)


class Kernel:
    """A real IPython kernel that is told which notebook cell each request runs, as
    JupyterLab tells it (nbclient does not send the cell's id)."""

    def __init__(self) -> None:
        from jupyter_client.manager import start_new_kernel

        self.manager, self.client = start_new_kernel(kernel_name="python3", startup_timeout=60)

    def run(self, code: str, cell: str) -> None:
        content = {"code": code, "silent": False, "store_history": True, "user_expressions": {}}
        request = self.client.session.msg("execute_request", content, metadata={"cellId": cell})
        self.client.shell_channel.send(request)
        while True:
            reply: dict[str, Any] = self.client.get_shell_msg(timeout=120)
            if reply["parent_header"].get("msg_id") == request["header"]["msg_id"]:
                break
        assert reply["content"]["status"] == "ok", reply["content"]

    def stop(self) -> None:
        self.client.stop_channels()
        self.manager.shutdown_kernel(now=True)


@pytest.fixture(scope="module")
def kernel() -> Iterator[Kernel]:
    pytest.importorskip("ipykernel")
    started = Kernel()
    try:
        yield started
    finally:
        started.stop()


@pytest.mark.slow
def test_running_a_cell_again_closes_the_explorers_its_last_run_made(kernel: Kernel) -> None:
    # Re-running `ex = ra.explore(df)` replaces the cell's output, yet each run's explorer
    # stayed open in the kernel with its frames: ten runs, ten explorers.
    kernel.run(
        "import recanalytics as ra\n"
        "from ipywidgets.widgets.widget import _instances\n"
        "df = ra.demo(size=200)\n"
        "def is_open(ex): return ex.comm is not None and ex.panel.widget.comm is not None",
        "setup",
    )
    kernel.run("one = ra.explore(df, renderer='svg'); two = ra.explore(df, renderer='svg')", "a")
    kernel.run("assert is_open(one) and is_open(two)\nshown = len(_instances)", "check")
    kernel.run("three = ra.explore(df, renderer='svg')", "a")  # cell "a" again
    kernel.run(
        "assert not is_open(one) and not is_open(two) and is_open(three)\n"
        "assert len(_instances) < shown, (len(_instances), shown)",
        "check",
    )
    kernel.run("four = ra.explore(df, renderer='svg')", "b")  # another cell closes nothing
    kernel.run("panel = ra.FilterPanel(df)", "c")
    kernel.run("assert is_open(three) and is_open(four)", "check")
    kernel.run("panel2 = ra.FilterPanel(df)", "c")
    kernel.run(
        "assert panel.widget.comm is None and panel2.widget.comm is not None\n"
        "assert is_open(three) and is_open(four)",
        "check",
    )
