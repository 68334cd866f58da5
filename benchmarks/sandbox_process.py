"""The sandbox served from a process of its own, for benchmarks over loopback HTTP.

A server in the client's own process shares its interpreter lock: rendering a 1,000-record page
would be counted as the loader's time. ``served`` starts this file as a subprocess (built with
the given dataset, latency and rate limits) and yields its base URL; ``Counted`` is a transport
that counts what the client sent and what came back, since the server's log is out of reach.

    .venv/bin/python benchmarks/sandbox_process.py --size 20000 --latency 0.05 --rate-limits

This is benchmark scaffolding, not a test.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import httpx


@contextmanager
def served(
    *,
    size: int,
    latency: float,
    rate_limits: bool,
    skew: float = 0.6,
    seed: int = 7,
    start: str | None = None,
    emulator_options: Mapping[str, Mapping[str, Any]] | None = None,
) -> Iterator[tuple[str, dict[str, Any]]]:
    """A sandbox in a subprocess; yields its base URL and what it reports about itself."""
    command = [
        sys.executable,
        __file__,
        f"--size={size}",
        f"--latency={latency}",
        f"--skew={skew}",
        f"--seed={seed}",
        f"--emulator-options={json.dumps(emulator_options or {})}",
    ]
    if start is not None:
        command.append(f"--start={start}")
    if rate_limits:
        command.append("--rate-limits")
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line:
            raise RuntimeError("the sandbox did not start")
        facts = json.loads(line)
        yield facts["url"], facts
    finally:
        process.terminate()
        process.wait(timeout=10)


class Counted(httpx.AsyncBaseTransport):
    """An HTTP transport that counts requests and response statuses (a fresh one per run)."""

    def __init__(self, connections: int = 100) -> None:
        pool = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
        self.inner = httpx.AsyncHTTPTransport(limits=pool)
        self.statuses: Counter[int] = Counter()

    @property
    def requests(self) -> int:
        return sum(self.statuses.values())

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        self.statuses[response.status_code] += 1
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=2000)
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument("--skew", type=float, default=0.6)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--rate-limits", action="store_true")
    parser.add_argument("--start", help="first creation time, ISO 8601 (default: the sandbox's)")
    parser.add_argument("--emulator-options", default="{}", help="JSON, as Sandbox takes it")
    args = parser.parse_args()

    from recanalytics.sandbox import Sandbox
    from recanalytics.sandbox.common import DEFAULT_START

    box = Sandbox(
        start=dt.datetime.fromisoformat(args.start) if args.start else DEFAULT_START,
        seed=args.seed,
        size=args.size,
        latency=args.latency,
        skew=args.skew,
        rate_limits=args.rate_limits,
        emulator_options=json.loads(args.emulator_options),
    )
    facts = {
        "rate_limits": {name: e.rate_limit for name, e in box.emulators.items()},
        "start": box.config.start.isoformat(),
        "end": box.config.end.isoformat(),
    }
    with box.serve() as server:
        print(json.dumps({"url": server.url} | facts), flush=True)
        while True:
            time.sleep(3600)


if __name__ == "__main__":
    main()
