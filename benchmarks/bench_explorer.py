"""Time one filter change in the explorer on a large synthetic frame (default 1M rows).

Run from the repository root::

    .venv/bin/python benchmarks/bench_explorer.py              # 1_000_000 rows, 7 changes per case
    .venv/bin/python benchmarks/bench_explorer.py 200000 5     # rows, changes

A "change" sets one control's ``.value`` from Python, exactly as a click does, and is timed until
the explorer is up to date: re-filter, summary line, the visible tab's chart (aggregation + spec
handed to the renderer) and the preview. Each case cycles through different values so no cache
helps. With ``renderer="jupyter"`` (altair's JupyterChart, needs anywidget) the browser draws the
spec; with ``renderer="svg"`` vl-convert draws it in Python, which is included in the time.
"""

from __future__ import annotations

import sys
from pathlib import Path

# The synthetic frame is test data: it lives in tests/, not in the package.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import argparse
import os
import platform
import statistics
import time
from collections.abc import Callable

import polars as pl
from synthetic import synthetic_frame

from recanalytics.widgets import TABS, Explorer, FilterPanel


def timed(change: Callable[[int], None], repeats: int) -> tuple[float, float]:
    times = []
    for i in range(repeats):
        start = time.perf_counter()
        change(i)
        times.append((time.perf_counter() - start) * 1000)
    return min(times), statistics.median(times)


PROVIDERS = [("twilio",), ("zoom",), ("plivo", "signalwire"), ("twilio", "zoom"), ()]
STATUSES = [("completed",), ("deleted",), (), ("failed", "completed")]


def changes(panel: FilterPanel) -> list[tuple[str, Callable[[int], None]]]:
    """Three kinds of change, each cycling through different values."""

    def provider(i: int) -> None:
        panel.controls["provider"].value = PROVIDERS[i % len(PROVIDERS)]

    def status(i: int) -> None:
        panel.controls["status"].value = STATUSES[i % len(STATUSES)]

    def minutes(i: int) -> None:
        slider = panel.controls["duration"]
        slider.value = (float(1 + i % 5), slider.max)

    return [("provider select", provider), ("status select", status), ("duration slider", minutes)]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("rows", nargs="?", type=int, default=1_000_000, help="frame rows")
    parser.add_argument("repeats", nargs="?", type=int, default=7, help="changes per case")
    args = parser.parse_args()
    rows, repeats = args.rows, args.repeats
    start = time.perf_counter()
    df = synthetic_frame(rows)
    build = time.perf_counter() - start
    print(
        f"rows={rows:,} build={build:.2f}s changes={repeats} polars={pl.__version__} "
        f"python={platform.python_version()} threads={pl.thread_pool_size()} "
        f"cpus={os.cpu_count()}"
    )
    try:
        import anywidget  # noqa: F401

        renderers = ["jupyter", "svg"]
    except ImportError:
        renderers = ["svg"]
        print("(anywidget not installed: only the svg renderer is timed)")
    print(f"{'renderer':<9} {'visible tab':<16} {'change':<22} {'min ms':>8} {'median ms':>10}")
    for renderer in renderers:
        explorer = Explorer(df, renderer=renderer, debounce=0)  # type: ignore[arg-type]
        panel = explorer.panel
        tabs = list(TABS) if renderer == "jupyter" else ["Volume", "Durations"]
        for tab in tabs:
            explorer.tabs.selected_index = list(TABS).index(tab)

            cases = changes(panel)
            if tab not in ("Volume", "Durations"):
                cases = cases[:2]
            for label, change in cases:
                best, median = timed(change, repeats)
                print(f"{renderer:<9} {tab:<16} {label:<22} {best:8.1f} {median:10.1f}")
            panel.reset()
        if explorer.errors.last is not None:
            raise explorer.errors.last


if __name__ == "__main__":
    main()
