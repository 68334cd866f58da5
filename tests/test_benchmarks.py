"""The benchmark scripts still run: each once, on tiny inputs, as docs/performance.md runs them.

Nothing here is timed; a benchmark's numbers are for people to read. What is checked is that a
script exits 0 and prints its result lines, so an option bound or a renamed function elsewhere
cannot leave a documented command broken until someone measures again (bench_parse once asked
for a rate limit the options no longer accept). The scripts run side by side, as subprocesses,
to keep the whole check to the slowest one's time. bench_explorer (vl-convert draws every change)
and bench_media (ffprobe) are slow or need a system package; their code paths have tests of
their own.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# script and arguments -> text its output must contain
RUNS: dict[tuple[str, ...], str] = {
    ("bench_parse.py", "--records", "500", "--breakdown"): "rest: planner, event loop",
    ("bench_parse.py", "--records", "300", "--tolerant"): "load (tolerant):",
    ("bench_loaders.py", "--size", "300", "--latency", "0", "--only", "plivo"): "default / floor",
    (
        "bench_vs_sdk.py",
        "--size",
        "300",
        "--latencies",
        "0",
        "--no-sdk",
        "--datasets",
        "skewed,decade",
    ): "decade",
    ("bench_helpers.py", "2000", "1"): "duration_percentiles",
    ("bench_import.py", "--runs", "1"): "budget:",
    ("bench_redact.py", "--size", "100", "--runs", "1"): "clean frame:",
    ("bench_small_loads.py", "--size", "5", "--loads", "2"): "signalwire /Recordings.json",
}


@pytest.mark.slow
def test_every_benchmark_runs_on_tiny_inputs() -> None:
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    running = {
        run: subprocess.Popen(
            [sys.executable, str(ROOT / "benchmarks" / run[0]), *run[1:]],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for run in RUNS
    }
    failed = []
    for run, process in running.items():
        output, _ = process.communicate(timeout=280)
        if process.returncode != 0 or RUNS[run] not in output:
            failed.append(f"{' '.join(run)} (exit {process.returncode}):\n{output[-2000:]}")
    assert not failed, "\n\n".join(failed)
