"""The CPU path of a load: Twilio-track-shaped pages served from memory, no latency, no pacing.

Builds ``--records`` track records (as the sandbox renders them, each with its own sid) as
``--page-size``-record pages of JSON bytes, times ``json.loads`` over every page (the floor any
JSON loader starts from), then loads the same pages through ``load_twilio_recordings`` with an
``httpx.MockTransport`` answering from memory. Prints rows/s for both, their ratio, and peak RSS
(the pages themselves are held in memory; the loader's own share is printed too).

    .venv/bin/python benchmarks/bench_parse.py                    # 1,000,000 records
    .venv/bin/python benchmarks/bench_parse.py --records 200000
    .venv/bin/python benchmarks/bench_parse.py --tolerant         # the per-record fallback path

This is a benchmark, not a test: numbers depend on the machine.
"""

from __future__ import annotations

import argparse
import gc
import json
import resource
import time
import warnings
from typing import Any

import httpx

import recanalytics as ra
from recanalytics.credentials import TwilioCredentials
from recanalytics.sandbox import Sandbox

ORIGIN = "https://video.bench"


def rss_mb() -> float:
    """Peak resident set size of this process so far, in MB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() / 2**20


def build_pages(records: int, page_size: int) -> list[bytes]:
    """``records`` distinct track records, as the sandbox renders them, in pages of JSON bytes."""
    box = Sandbox(seed=3, size=2000, providers=["twilio"])
    emulator = box["twilio"]
    samples = [emulator.track_json(t, ORIGIN) for t in emulator.tracks.records]
    pages = []
    for number, start in enumerate(range(0, records, page_size)):
        chunk = []
        for i in range(start, min(start + page_size, records)):
            record = dict(samples[i % len(samples)])
            sid = f"RT{i:032x}"
            record["sid"] = sid
            record["url"] = f"{ORIGIN}/v1/Recordings/{sid}"
            record["links"] = {"media": f"{ORIGIN}/v1/Recordings/{sid}/Media"}
            chunk.append(record)
        more = start + page_size < records
        meta = {
            "key": "recordings",
            "page": number,
            "page_size": page_size,
            "next_page_url": f"{ORIGIN}/v1/Recordings?Page={number + 1}" if more else None,
        }
        pages.append(json.dumps({"recordings": chunk, "meta": meta}).encode())
    return pages


def transport(pages: list[bytes]) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        number = int(request.url.params.get("Page", "0"))
        return httpx.Response(
            200, content=pages[number], headers={"Content-Type": "application/json"}
        )

    return httpx.MockTransport(handler)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--page-size", type=int, default=100)
    parser.add_argument("--tolerant", action="store_true", help="force the per-record path")
    args = parser.parse_args()

    started = time.perf_counter()
    pages = build_pages(args.records, args.page_size)
    print(
        f"built {len(pages):,} pages of {args.page_size} ({sum(map(len, pages)) / 2**20:,.0f} MB)"
        f" in {time.perf_counter() - started:.1f} s"
    )

    gc.collect()
    started = time.perf_counter()
    for content in pages:
        json.loads(content)
    decode = time.perf_counter() - started
    print(f"json.loads:   {decode:6.2f} s  {args.records / decode:>10,.0f} rows/s")

    if args.tolerant:
        from recanalytics import fields

        fields.RecordSpec.fast = False

    gc.collect()
    before = current_rss_mb()
    options: dict[str, Any] = {
        "credentials": TwilioCredentials(account_sid="AC" + "0" * 32, auth_token="bench"),
        "base_url": ORIGIN,
        "transport": transport(pages),
        "rate_limit": 1e9,
        # One window: the in-memory server answers every date range with the same pages.
        "max_concurrency": 1,
    }
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        frame = ra.load_twilio_recordings(**options)
    load = time.perf_counter() - started
    assert frame.height == args.records, frame.height
    path = "tolerant" if args.tolerant else "default"
    print(f"load ({path}): {load:6.2f} s  {args.records / load:>10,.0f} rows/s")
    print(f"ratio load / json.loads: {load / decode:.2f}")
    print(
        f"peak RSS: {rss_mb():,.0f} MB (pages and json.loads before the load: {before:,.0f} MB; "
        f"the load's share at most {rss_mb() - before:,.0f} MB)"
    )


if __name__ == "__main__":
    main()
