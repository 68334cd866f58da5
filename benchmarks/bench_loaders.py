"""Loader throughput against the sandbox over loopback HTTP with per-request latency.

For each endpoint: the same load run strictly sequentially (one query, one request in flight)
and with the defaults (concurrent windows, the provider's rate limit), with the sandbox
enforcing that rate limit from a process of its own (``sandbox_process.py``), so its rendering
is not counted as the loader's time. Prints requests, wall time, the ratio, and the floor:
the pages a sequential walk needs at the provider's allowed rate, plus one latency.

    .venv/bin/python benchmarks/bench_loaders.py                 # 100k Twilio tracks, 50 ms
    .venv/bin/python benchmarks/bench_loaders.py --size 20000 --latency 0.05
    .venv/bin/python benchmarks/bench_loaders.py --size 20000 --only plivo --plivo-paging cursor

This is a benchmark, not a test: numbers depend on the machine.
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import polars as pl
from sandbox_process import Counted, served

import recanalytics as ra
from recanalytics.sandbox import Sandbox


@dataclass
class Case:
    endpoint: str
    provider: str
    loader: Callable[..., pl.DataFrame]


CASES = [
    Case("twilio /v1/Recordings", "twilio", ra.load_twilio_recordings),
    Case("twilio /v1/Compositions", "twilio", ra.load_twilio_compositions),
    Case("plivo /Recording/", "plivo", ra.load_plivo_recordings),
    Case("zoom /videosdk/recordings", "zoom", ra.load_zoom_recordings),
    Case("signalwire /Recordings.json", "signalwire", ra.load_signalwire_recordings),
]


def run(case: Case, options: dict[str, Any], *, sequential: bool) -> dict[str, Any]:
    counted = Counted()
    options = options | {"transport": counted}
    if sequential:
        options["max_concurrency"] = 1
    time.sleep(1.5)  # a fresh rate window, as a load started on its own would have
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        df = case.loader(**options)
    seconds = time.perf_counter() - started
    return {
        "rows": df.height,
        "requests": counted.requests,
        "429s": counted.statuses[429],
        "seconds": seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--size", type=int, default=100_000, help="Twilio track recordings (default: %(default)s)"
    )
    parser.add_argument(
        "--latency", type=float, default=0.05, help="seconds per request (default: %(default)s)"
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--only", help="run only endpoints whose name contains this")
    parser.add_argument(
        "--plivo-paging",
        choices=["offset", "cursor", "hybrid"],
        default="offset",
        help="the paging mode the Plivo emulator serves (default: %(default)s)",
    )
    args = parser.parse_args()

    started = time.perf_counter()
    credentials = Sandbox(seed=args.seed, size=50)  # the sandbox's credentials, for the client
    rows = []
    with served(
        size=args.size,
        latency=args.latency,
        rate_limits=True,
        seed=args.seed,
        emulator_options={"plivo": {"paging": args.plivo_paging}},
    ) as (url, facts):
        print(
            f"dataset: {args.size} Twilio tracks (others scale), served in "
            f"{time.perf_counter() - started:.1f} s; latency {args.latency * 1000:.0f} ms"
        )
        span = {
            "since": dt.datetime.fromisoformat(facts["start"]),
            "until": dt.datetime.fromisoformat(facts["end"]),
        }
        for case in CASES:
            if args.only and args.only not in case.endpoint:
                continue
            options = span | credentials.options(case.provider, base_url=url)
            # Warm up: the first call imports the loader's modules, as a notebook does once.
            case.loader(**options | {"until": span["since"] + dt.timedelta(seconds=1)})
            limit, period = facts["rate_limits"][case.provider]
            seq = run(case, options, sequential=True)
            par = run(case, options, sequential=False)
            floor = seq["requests"] / (limit / period) + args.latency
            rows.append(
                {
                    "endpoint": case.endpoint,
                    "rows": par["rows"],
                    "requests (seq/default)": f"{seq['requests']}/{par['requests']}",
                    "sequential s": round(seq["seconds"], 1),
                    "default s": round(par["seconds"], 2),
                    "speed-up": round(seq["seconds"] / par["seconds"], 1),
                    # What one request costs here: the latency plus the server's and the
                    # client's work, which the floor's "one latency" leaves out.
                    "round trip s (seq)": round(seq["seconds"] / seq["requests"], 3),
                    "rate-limit floor s": round(floor, 2),
                    "default / floor": round(par["seconds"] / floor, 2),
                    "429s (default)": par["429s"],
                }
            )
            print(rows[-1], flush=True)
    with pl.Config(
        tbl_hide_dataframe_shape=True,
        tbl_hide_column_data_types=True,
        tbl_width_chars=200,
        tbl_cols=20,
    ):
        print(pl.DataFrame(rows))


if __name__ == "__main__":
    main()
