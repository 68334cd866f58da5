"""The CPU path of a load: Twilio-track-shaped pages served from memory, no latency, no pacing.

Builds ``--records`` track records (as the sandbox renders them, each with its own sid) as
``--page-size``-record pages of JSON bytes, written to a temporary file (held in memory, 1,000,000
records' pages would be ~0.8 GB of the process's RSS that no real load holds: a real load reads
each page from a socket and lets it go). Times ``json.loads`` over every page (the floor any
JSON loader starts from; only the ``json.loads`` calls are timed, not reading the pages), then
loads the same pages through ``load_twilio_recordings`` with an ``httpx.MockTransport`` that
reads each page from the file when asked (as a socket would hand it over). Prints rows/s for
both, their ratio, and the process's peak RSS.

    .venv/bin/python benchmarks/bench_parse.py                    # 1,000,000 records
    .venv/bin/python benchmarks/bench_parse.py --records 200000
    .venv/bin/python benchmarks/bench_parse.py --tolerant         # the per-record fallback path
    .venv/bin/python benchmarks/bench_parse.py --records 200000 --breakdown   # where the CPU goes

``--breakdown`` also prints the load's CPU time by step, per 100,000 records: the mock server's
own work (reading a page, building its response: no real load pays it), the httpx client's
request around it, the engine's ``get_json`` around that, the page decode, the frame builds,
the per-page ids and creation span, the pager, the finish (de-duplication, unifying, sorting)
and the rest (planner, event loop). Timers around each step add a little to the load's time.

This is a benchmark, not a test: numbers depend on the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import gc
import json
import os
import resource
import tempfile
import time
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from typing import IO, Any

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


def build_pages(records: int, page_size: int) -> Iterator[bytes]:
    """``records`` distinct track records, as the sandbox renders them, in pages of JSON bytes."""
    box = Sandbox(seed=3, size=2000, providers=["twilio"])
    emulator = box["twilio"]
    samples = [emulator.track_json(t, ORIGIN) for t in emulator.tracks.records]
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
        yield json.dumps({"recordings": chunk, "meta": meta}).encode()


class PageFile:
    """Pages written once to a temporary file, read back one at a time."""

    def __init__(self, file: IO[bytes], pages: Iterator[bytes]) -> None:
        self.file = file
        self.spans: list[tuple[int, int]] = []
        offset = 0
        for page in pages:
            self.file.write(page)
            self.spans.append((offset, len(page)))
            offset += len(page)
        self.file.flush()
        self.size = offset

    def __len__(self) -> int:
        return len(self.spans)

    def read(self, number: int) -> bytes:
        offset, length = self.spans[number]
        return os.pread(self.file.fileno(), length, offset)


def transport(pages: PageFile, steps: Steps | None = None) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        number = int(request.url.params.get("Page", "0"))
        return httpx.Response(
            200, content=pages.read(number), headers={"Content-Type": "application/json"}
        )

    if steps is not None:
        handler = steps.timed("mock server (not the loader's work)", handler)
    return httpx.MockTransport(handler)


class Steps:
    """CPU seconds (all threads, ``time.process_time``) spent in named steps of a load.

    A step inside another (the server inside the client's request) is subtracted from it, so
    the steps add up to the time they cover.
    """

    def __init__(self) -> None:
        self.seconds: Counter[str] = Counter()
        self._inner = 0.0  # time of the steps under the one running now

    def timed(self, name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        if asyncio.iscoroutinefunction(function):

            @functools.wraps(function)
            async def timed_async(*args: Any, **kwargs: Any) -> Any:
                # One worker and a transport that never waits: what runs while this awaits
                # is the planner's bookkeeping, little, and counted here.
                with self.step(name):
                    return await function(*args, **kwargs)

            return timed_async

        @functools.wraps(function)
        def timed_sync(*args: Any, **kwargs: Any) -> Any:
            with self.step(name):
                return function(*args, **kwargs)

        return timed_sync

    @contextlib.contextmanager
    def step(self, name: str) -> Iterator[None]:
        outer, self._inner = self._inner, 0.0
        started = time.process_time()
        try:
            yield
        finally:
            spent = time.process_time() - started
            self.seconds[name] += spent - self._inner
            self._inner = outer + spent

    def install(self) -> None:
        """Time the steps of every load from now on (patches the classes, for this process)."""
        from recanalytics import engine, fields, paging, typedpage
        from recanalytics.providers import base, planner

        patches = [
            (engine.Session, "get_json", "engine: get_json (pacing, retries, checks)"),
            (httpx.AsyncClient, "request", "httpx client: build and send the request"),
            (typedpage.TypedPage, "decode", "decode: msgspec check into structs"),
            (fields.RecordSpec, "decode_page_tolerant", "decode: tolerant pages"),
            (fields.Rows, "flush", "frame: structs to columns"),
            (base.Endpoint, "get_page", "get_page: ids, keys, totals"),
            (base.Endpoint, "created_span", "get_page: creation span"),
            (paging.Pager, "advance", "pager: advance"),
            (base, "finish_load", "finish: concat, dedupe, unify, sort"),
            (planner, "finish_load", "finish: concat, dedupe, unify, sort"),
        ]
        for owner, attribute, name in patches:
            setattr(owner, attribute, self.timed(name, getattr(owner, attribute)))

    def report(self, total: float, records: int) -> None:
        per = 100_000 / records
        rest = total - sum(self.seconds.values())
        rows = [*self.seconds.items(), ("rest: planner, event loop, progress", rest)]
        print(f"CPU by step, per 100,000 records (load: {total * per:.2f} s):")
        for name, seconds in rows:
            print(f"  {name:46s} {seconds * per:6.3f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--page-size", type=int, default=100)
    parser.add_argument("--tolerant", action="store_true", help="force the per-record path")
    parser.add_argument("--breakdown", action="store_true", help="print the CPU time by step")
    args = parser.parse_args()

    started = time.perf_counter()
    with tempfile.TemporaryFile() as file:
        run(args, PageFile(file, build_pages(args.records, args.page_size)), started)


def run(args: argparse.Namespace, pages: PageFile, started: float) -> None:
    print(
        f"built {len(pages):,} pages of {args.page_size} ({pages.size / 2**20:,.0f} MB, in a "
        f"temporary file) in {time.perf_counter() - started:.1f} s"
    )

    gc.collect()
    decode = 0.0
    for number in range(len(pages)):
        content = pages.read(number)
        started = time.perf_counter()
        json.loads(content)
        decode += time.perf_counter() - started
    print(f"json.loads:   {decode:6.2f} s  {args.records / decode:>10,.0f} rows/s")

    if args.tolerant:
        from recanalytics import fields

        fields.RecordSpec.fast = False

    steps = Steps() if args.breakdown else None
    if steps is not None:
        steps.install()

    gc.collect()
    before = current_rss_mb()
    options: dict[str, Any] = {
        "credentials": TwilioCredentials(account_sid="AC" + "0" * 32, auth_token="bench"),
        "base_url": ORIGIN,
        "transport": transport(pages, steps),
        "rate_limit": 1e6,
        # One window: the in-memory server answers every date range with the same pages.
        "max_concurrency": 1,
    }
    started, cpu = time.perf_counter(), time.process_time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        frame = ra.load_twilio_recordings(**options)
    load, cpu = time.perf_counter() - started, time.process_time() - cpu
    assert frame.height == args.records, frame.height
    path = "tolerant" if args.tolerant else "default"
    # CPU time (all threads) is steadier than the wall clock on a shared machine.
    print(f"load ({path}): {load:6.2f} s  {args.records / load:>10,.0f} rows/s  (CPU {cpu:.2f} s)")
    print(f"ratio load / json.loads: {load / decode:.2f}")
    print(f"peak RSS: {rss_mb():,.0f} MB (before the load: {before:,.0f} MB)")
    if steps is not None:
        steps.report(cpu, args.records)


if __name__ == "__main__":
    main()
