"""Loader throughput against the sandbox over loopback HTTP with per-request latency.

For each endpoint: the same load run strictly sequentially (one query, one request in flight)
and with the defaults (concurrent windows, the provider's rate limit), with the sandbox
enforcing that rate limit. Prints requests, wall time, the ratio, and the floor the rate limit
sets (requests / allowed rate).

    .venv/bin/python benchmarks/bench_loaders.py                 # 100k Twilio tracks, 50 ms
    .venv/bin/python benchmarks/bench_loaders.py --size 20000 --latency 0.05
    .venv/bin/python benchmarks/bench_loaders.py --size 20000 --only plivo --plivo-paging cursor

This is a benchmark, not a test: numbers depend on the machine.
"""

from __future__ import annotations

import argparse
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import polars as pl

import recanalytics as ra
from recanalytics.sandbox import Sandbox


@dataclass
class Case:
    endpoint: str
    provider: str
    loader: Callable[..., pl.DataFrame]
    kwargs: dict[str, Any]


def cases(box: Sandbox) -> list[Case]:
    span = {"since": box.config.start, "until": box.config.end}
    found = [Case("twilio /v1/Recordings", "twilio", ra.load_twilio_recordings, span)]
    optional = [
        ("twilio /v1/Compositions", "twilio", "load_twilio_compositions"),
        ("plivo /Recording/", "plivo", "load_plivo_recordings"),
        ("zoom /videosdk/recordings", "zoom", "load_zoom_recordings"),
        ("signalwire /Recordings.json", "signalwire", "load_signalwire_recordings"),
    ]
    for endpoint, provider, name in optional:
        if hasattr(ra, name) and provider in box.emulators:
            found.append(Case(endpoint, provider, getattr(ra, name), span))
    return found


def run(case: Case, box: Sandbox, url: str, *, sequential: bool) -> dict[str, Any]:
    options = box.options(case.provider, base_url=url)
    kwargs = dict(case.kwargs)
    if sequential:
        options["max_concurrency"] = 1
    box.app.reset_counts()
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        df = case.loader(**kwargs, **options)
    seconds = time.perf_counter() - started
    log = box.app.log
    return {
        "rows": df.height,
        "requests": len(log),
        "429s": sum(1 for _, status, _ in log if status == 429),
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
    box = Sandbox(
        seed=args.seed,
        size=args.size,
        latency=args.latency,
        rate_limits=True,
        emulator_options={"plivo": {"paging": args.plivo_paging}},
    )
    print(
        f"dataset: {args.size} Twilio tracks (others scale), built in {time.perf_counter() - started:.1f} s; latency {args.latency * 1000:.0f} ms"
    )
    rows = []
    with box.serve() as server:
        for case in cases(box):
            if args.only and args.only not in case.endpoint:
                continue
            limit, period = box.emulators[case.provider].rate_limit
            seq = run(case, box, server.url, sequential=True)
            par = run(case, box, server.url, sequential=False)
            floor = par["requests"] / (limit / period)
            rows.append(
                {
                    "endpoint": case.endpoint,
                    "rows": par["rows"],
                    "requests (seq/default)": f"{seq['requests']}/{par['requests']}",
                    "sequential s": round(seq["seconds"], 1),
                    "default s": round(par["seconds"], 1),
                    "speed-up": round(seq["seconds"] / par["seconds"], 1),
                    "rate-limit floor s": round(floor, 1),
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
