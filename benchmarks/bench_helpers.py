"""Time the helpers on a synthetic unified frame (default 1M rows).

Run from the repository root::

    .venv/bin/python benchmarks/bench_helpers.py            # 1_000_000 rows, 5 repeats
    .venv/bin/python benchmarks/bench_helpers.py 200000 3   # rows, repeats

The frame is ``tests/synthetic.py``'s, the one the chart and explorer tests use: polars only
(hash-based pseudo-random columns, fixed seed), so the run is reproducible and needs no extra
dependency. Each case is timed with ``time.perf_counter`` and lazy results are collected inside
the timing.
"""

from __future__ import annotations

import sys
from pathlib import Path

# The synthetic frame is test data: it lives in tests/, not in the package.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import platform
import statistics
import time
from collections.abc import Callable

import polars as pl
from synthetic import synthetic_frame

import recanalytics as ra


def cases(df: pl.DataFrame) -> dict[str, Callable[[], object]]:
    lazy = df.lazy()
    return {
        "summarize(df)": lambda: ra.summarize(df),
        "summarize(df, by='provider')": lambda: ra.summarize(df, by="provider"),
        "summarize(df, by=['provider','kind','status'])": lambda: ra.summarize(
            df, by=["provider", "kind", "status"]
        ),
        "summarize(lazy, by='provider').collect()": lambda: ra.summarize(
            lazy, by="provider"
        ).collect(),
        "trend(df, every='1mo')": lambda: ra.trend(df),
        "trend(df, every='1d', by='provider')": lambda: ra.trend(df, "1d", by="provider"),
        "storage_growth(df, every='1w')": lambda: ra.storage_growth(df, "1w"),
        "cost_summary(df)": lambda: ra.cost_summary(df),
        "duration_percentiles(df, by='provider')": lambda: ra.duration_percentiles(
            df, by="provider"
        ),
        "with_columns(human, bucket, size_human, codec*)": lambda: df.with_columns(
            ra.duration_human(),
            ra.duration_bucket(),
            ra.billed_minutes(),
            ra.size_human(),
            ra.fill_bitrate(),
            ra.codec_normalized(),
            ra.codec_family(),
            ra.codec_known(),
            ra.container_mime_type(),
        ),
    }


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    built = time.perf_counter()
    df = synthetic_frame(n)
    print(
        f"rows={df.height:,} build={time.perf_counter() - built:.2f}s repeats={repeats} "
        f"polars={pl.__version__} python={platform.python_version()} "
        f"threads={pl.thread_pool_size()}"
    )
    width = 50
    print(f"{'case':<{width}} {'min ms':>9} {'median ms':>10}")
    for name, run in cases(df).items():
        timings = []
        for _ in range(repeats):
            began = time.perf_counter()
            run()
            timings.append((time.perf_counter() - began) * 1000)
        print(f"{name:<{width}} {min(timings):>9.1f} {statistics.median(timings):>10.1f}")


if __name__ == "__main__":
    main()
