"""Time the helpers on a synthetic unified frame (default 1M rows).

Run from the repository root::

    .venv/bin/python benchmarks/bench_helpers.py            # 1_000_000 rows, 5 repeats
    .venv/bin/python benchmarks/bench_helpers.py 200000 3   # rows, repeats

The frame is built with polars only (hash-based pseudo-random columns, fixed seed), so the run is
reproducible and needs no extra dependency. Each case is timed with ``time.perf_counter`` and
lazy results are collected inside the timing.
"""

from __future__ import annotations

import platform
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime

import polars as pl

import recanalytics as ra
from recanalytics.schema import conform


def synthetic(n: int, seed: int = 42) -> pl.DataFrame:
    """A unified frame of ``n`` recordings with realistic mixes of providers, statuses, codecs."""
    idx = pl.int_range(n, dtype=pl.UInt64)

    def rnd(k: int, modulo: int) -> pl.Expr:
        return (idx.hash(seed + k) % modulo).cast(pl.Int64)

    providers = ["twilio", "plivo", "zoom", "signalwire"]
    kinds = {"twilio": "track", "plivo": "call", "zoom": "session_file", "signalwire": "call"}
    codecs = ["OPUS", "VP8", "H264", "PCMU", "mp3", "wav", "MP4", "M4A", "TRANSCRIPT", "speex"]
    start = datetime(2024, 1, 1, tzinfo=UTC)
    provider = rnd(1, 4).replace_strict(list(range(4)), providers, return_dtype=pl.String)
    roll = rnd(2, 100)
    status = (
        pl.when(roll < 3)
        .then(pl.lit("failed"))
        .when(roll < 10)
        .then(pl.lit("deleted"))
        .otherwise(pl.lit("completed"))
    )
    created = pl.lit(start) + pl.duration(seconds=rnd(3, 730 * 86_400))
    duration_ms = rnd(4, 3_600_000)
    sized = provider.is_in(["twilio", "zoom"])
    frame = pl.select(
        provider.alias("provider"),
        provider.replace_strict(kinds, return_dtype=pl.String).alias("kind"),
        idx.cast(pl.String).alias("recording_id"),
        status.alias("status"),
        rnd(5, 10).replace_strict(list(range(10)), codecs, return_dtype=pl.String).alias("codec"),
        created.alias("created_at"),
        pl.when(status == "deleted").then(created + pl.duration(days=30)).alias("deleted_at"),
        pl.duration(milliseconds=duration_ms).alias("duration"),
        pl.when(sized).then(duration_ms * 4).alias("size_bytes"),  # ~32 kbps
        pl.when(sized.not_()).then(rnd(6, 100) / 10_000).alias("cost"),
        pl.when(sized.not_()).then(pl.lit("USD")).alias("cost_unit"),
    )
    return conform(frame).collect()


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
    df = synthetic(n)
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
