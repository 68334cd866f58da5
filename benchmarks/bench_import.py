"""What ``import recanalytics`` costs on top of ``import polars, httpx``.

Each run is a fresh interpreter (nothing cached in ``sys.modules``) that times
``import polars, httpx`` and then ``import recanalytics``; the report is the median over the
runs. The budget (issue 13) is 0.3 s over polars and httpx: charts, widgets, the report,
notebooks, media probing and the sandbox are imported on first use, not here.

    .venv/bin/python benchmarks/bench_import.py            # median of 5 runs
    .venv/bin/python benchmarks/bench_import.py --runs 9

This is a benchmark, not a test: numbers depend on the machine.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys

PROBE = """
import sys, time
started = time.perf_counter()
import polars, httpx
base = time.perf_counter() - started
import recanalytics
extra = time.perf_counter() - started - base
mine = sum(name.startswith("recanalytics") for name in sys.modules)
print(base, extra, mine)
"""


def run_once() -> tuple[float, float, int]:
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True)
    base, extra, modules = out.stdout.split()
    return float(base), float(extra), int(modules)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    runs = [run_once() for _ in range(args.runs)]
    base = statistics.median(r[0] for r in runs)
    extra = statistics.median(r[1] for r in runs)
    print(f"import polars, httpx        median {base:.3f} s over {args.runs} fresh interpreters")
    print(f"then import recanalytics    median +{extra:.3f} s ({runs[0][2]} recanalytics modules)")
    print(f"budget: +0.300 s            {'within' if extra <= 0.3 else 'OVER'}")


if __name__ == "__main__":
    main()
