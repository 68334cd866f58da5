"""The fixed cost of a load: many small loads of each endpoint from the in-process sandbox.

A notebook loads one provider's last few days again and again, and the test suite runs
thousands of loads of a page or two; what a load costs beyond decoding its pages shows here
(client, planner, frame builds, redaction, unification). Each endpoint is loaded ``--loads``
times over the whole of a sandbox of ``--size`` recordings (one page); the best and the median
time per load are printed.

    .venv/bin/python benchmarks/bench_small_loads.py
    .venv/bin/python benchmarks/bench_small_loads.py --size 10 --loads 100

This is a benchmark, not a test: numbers depend on the machine.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import polars as pl

import recanalytics as ra
from recanalytics.sandbox import Sandbox

LOADERS: dict[str, tuple[str, Callable[..., pl.DataFrame]]] = {
    "twilio /v1/Recordings": ("twilio", ra.load_twilio_recordings),
    "twilio /v1/Compositions": ("twilio", ra.load_twilio_compositions),
    "plivo /Recording/": ("plivo", ra.load_plivo_recordings),
    "zoom /videosdk/recordings": ("zoom", ra.load_zoom_recordings),
    "signalwire /Recordings.json": ("signalwire", ra.load_signalwire_recordings),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=10, help="recordings in the sandbox")
    parser.add_argument("--loads", type=int, default=30, help="loads of each endpoint")
    args = parser.parse_args()
    box = Sandbox(seed=1, size=args.size)
    span = {"since": box.config.start, "until": box.config.end, "rate_limit": 1e6}
    print(f"{args.loads} loads of each endpoint, sandbox of {args.size} recordings, in-process")
    print(f"{'endpoint':<30} {'rows':>5} {'best ms':>8} {'median ms':>10}")
    for name, (provider, load) in LOADERS.items():
        options = span | box.options(provider)
        rows = load(**options).height  # the first load imports and warms up
        times = []
        for _ in range(args.loads):
            started = time.perf_counter()
            load(**options)
            times.append(time.perf_counter() - started)
        best, median = min(times) * 1000, statistics.median(times) * 1000
        print(f"{name:<30} {rows:>5} {best:>8.1f} {median:>10.1f}")


if __name__ == "__main__":
    main()
