"""The cost of scrubbing a loaded frame of every form of the load's secrets.

Every loader passes its frame through :func:`recanalytics.redact.redact_frame` (one
Aho-Corasick pass per text column; a column is rewritten only when it holds a secret). This
times that pass on the raw Twilio frame of a sandbox dataset, clean and with one secret echoed
into every row of one column.

    .venv/bin/python benchmarks/bench_redact.py                 # 200 000 rows
    .venv/bin/python benchmarks/bench_redact.py --size 50000

This is a benchmark, not a test: numbers depend on the machine.
"""

from __future__ import annotations

import argparse
import time

import polars as pl

import recanalytics as ra
from recanalytics.redact import redact_frame
from recanalytics.sandbox import Sandbox


def best_of(runs: int, frame: pl.DataFrame, secrets: list[str]) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        redact_frame(frame, secrets)
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    box = Sandbox(seed=1, size=args.size, providers=["twilio"])
    frame = ra.load_twilio_recordings(raw=True, rate_limit=1e6, **box.options("twilio"))
    secrets = box.credentials("twilio").secrets()
    text = [n for n, t in frame.schema.items() if t == pl.String]
    dirty = frame.with_columns(pl.col("track_name") + " " + secrets[0])
    clean_s = best_of(args.runs, frame, secrets)
    dirty_s = best_of(args.runs, dirty, secrets)
    print(f"{frame.height:,} rows, {len(text)} text columns, {len(secrets)} secrets")
    print(f"clean frame:                 {clean_s:.3f} s")
    print(f"a secret in every track_name: {dirty_s:.3f} s")


if __name__ == "__main__":
    main()
