"""recanalytics against the official ``twilio`` SDK, on the same sandbox served over 127.0.0.1.

The sandbox runs in a subprocess (``sandbox_process.py``), so it does not compete with the
client for the interpreter, with Twilio's 80 requests/s enforced and a per-request latency.
For each latency (at 0 ms the server enforces no limit, as the SDK does not retry 429): the SDK's ``client.video.v1.recordings.list(page_size=100)`` into a polars
frame, then ``ra.load_twilio_recordings`` with a ``since``/``until`` range, with no range, and
with ``since="2015-01-01"`` (as the archive loads), on an evenly grown dataset and on a skewed
one (most rows in its last month); ``--datasets`` adds ``decade``, rows spread evenly from
2015 (an account that recorded from the start: the oldest window is dense). The floor is what the rate limit allows: pages ÷ 80 req/s,
plus one latency.

    pip install -e '.[bench]'     # the official twilio package
    .venv/bin/python benchmarks/bench_vs_sdk.py                        # 20,000 tracks; 0, 50, 200 ms
    .venv/bin/python benchmarks/bench_vs_sdk.py --size 5000 --latencies 0.2
    .venv/bin/python benchmarks/bench_vs_sdk.py --latencies 0 --rate-limit 1e6 --max-concurrency 4
    .venv/bin/python benchmarks/bench_vs_sdk.py --no-sdk --latencies 0.2 --datasets decade

This is a benchmark, not a test: numbers depend on the machine.
"""

from __future__ import annotations

import argparse
import functools
import math
import time
import warnings
from collections.abc import Callable
from typing import Any

import polars as pl
from sandbox_process import Counted, served

import recanalytics as ra
from recanalytics.sandbox.twilio import CREDENTIALS

RATE = 80.0  # Twilio's default REST read limit, enforced by the sandbox with --rate-limits
# name: (skew, first creation time or None for the sandbox's 2025-01-01)
DATASETS: dict[str, tuple[float, str | None]] = {
    "even": (0.6, None),
    "skewed": (0.03, None),  # about four in five rows in the dataset's last month
    "decade": (1.0, "2015-01-01T00:00:00+00:00"),  # evenly spread from Twilio Video's epoch
}


def sdk(url: str, facts: dict[str, str] | None = None) -> pl.DataFrame:
    from twilio.rest import Client

    client = Client(CREDENTIALS["account_sid"], CREDENTIALS["auth_token"])
    client.video.base_url = url
    records = client.video.v1.recordings.list(page_size=100)
    return pl.DataFrame(
        [
            {"sid": r.sid, "status": r.status, "date_created": r.date_created, "size": r.size}
            for r in records
        ]
    )


RA_OPTIONS: dict[str, Any] = {}  # --rate-limit / --max-concurrency
SENT: list[Counted] = []  # the transport of each ra load, which counts its requests


def ra_load(url: str, **kwargs: Any) -> pl.DataFrame:
    counted = Counted()
    SENT.append(counted)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ra.load_twilio_recordings(
            base_url=url,
            credentials=dict(CREDENTIALS),
            page_size=100,
            transport=counted,
            **kwargs,
            **RA_OPTIONS,
        )


def timed(load: Callable[[], pl.DataFrame]) -> tuple[float, int]:
    started = time.perf_counter()
    frame = load()
    return time.perf_counter() - started, frame.height


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", type=int, default=20_000, help="Twilio track recordings")
    parser.add_argument(
        "--latencies", default="0,0.05,0.2", help="seconds per request, comma-separated"
    )
    parser.add_argument("--no-sdk", action="store_true", help="skip the SDK runs")
    parser.add_argument(
        "--rate-limit", type=float, help="ra's own pacing in req/s (default: Twilio's 80)"
    )
    parser.add_argument("--max-concurrency", type=int, help="ra's requests in flight")
    parser.add_argument(
        "--datasets",
        default="even,skewed",
        help=f"comma-separated, of {', '.join(DATASETS)} (default: even,skewed)",
    )
    args = parser.parse_args()
    if args.rate_limit:
        RA_OPTIONS["rate_limit"] = args.rate_limit
    if args.max_concurrency:
        RA_OPTIONS["max_concurrency"] = args.max_concurrency

    datasets = args.datasets.split(",")
    if unknown := set(datasets) - set(DATASETS):
        parser.error(f"--datasets: unknown {sorted(unknown)}; choose from {', '.join(DATASETS)}")
    cases: list[tuple[str, Callable[[str, dict[str, str]], pl.DataFrame]]] = [
        ("ra, since/until", lambda u, f: ra_load(u, since=f["start"], until=f["end"])),
        ("ra, no range", lambda u, f: ra_load(u)),
        ("ra, since 2015", lambda u, f: ra_load(u, since="2015-01-01")),
    ]
    rows = []
    for latency in (float(x) for x in args.latencies.split(",")):
        # The SDK pages one by one whatever the spread: its even-data time stands for both.
        sdk_seconds = None
        for dataset in datasets:
            skew, start = DATASETS[dataset]
            # At 0 ms, as in the table, no server limit: the SDK does not retry 429.
            with served(
                size=args.size, latency=latency, rate_limits=latency > 0, skew=skew, start=start
            ) as (url, facts):
                runs = list(cases)
                if dataset == datasets[0] and not args.no_sdk:
                    runs.insert(0, ("twilio SDK list(page_size=100)", sdk))
                # Warm up: the first call imports the loader's modules, as a notebook does once.
                ra_load(url, since="2026-01-01T00:00:00", until="2026-01-01T00:00:01")
                for name, load in runs:
                    # Each case starts in a fresh rate window, as a load started on its own
                    # would: the previous case's requests still count for a second.
                    time.sleep(1.5)
                    SENT.clear()
                    seconds, height = timed(functools.partial(load, url, facts))
                    limited = latency > 0
                    floor = math.ceil(height / 100) / RATE + latency if limited else None
                    if name.startswith("twilio SDK"):
                        sdk_seconds = seconds
                    row = {
                        "latency ms": round(latency * 1000),
                        "dataset": dataset,
                        "case": name,
                        "rows": height,
                        "requests": SENT[0].requests if SENT else None,
                        "seconds": round(seconds, 2),
                        "× floor": round(seconds / floor, 2) if floor else None,
                        "SDK ÷ this": round(sdk_seconds / seconds, 1) if sdk_seconds else None,
                    }
                    rows.append(row)
                    print(row, flush=True)
    with pl.Config(tbl_hide_dataframe_shape=True, tbl_hide_column_data_types=True, tbl_rows=100):
        print(pl.DataFrame(rows))


if __name__ == "__main__":
    main()
