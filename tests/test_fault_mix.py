"""Faults mixed at random over a whole load, at the default concurrency: whatever mix of
transient faults meets the requests (resets, timeouts, 5xx, 429s with odd Retry-After, damaged
200 bodies, a page served twice, a page without its list), the load either returns the
complete frame or raises a named error whose ``partial`` holds only real rows; it never returns
a short frame as if it were whole, and it stops.

The mixes are seeded, so a failure names its seed and replays exactly."""

from __future__ import annotations

import os
import random
from dataclasses import dataclass, field

import httpx
import pytest

from recanalytics.sandbox import Sandbox
from tests.faults import Fault, FaultTransport, Forward, Seen, State
from tests.test_audit_faults import (
    CASES,
    TRANSIENT,
    box,
    check,
    load_through,
    transient_body_faults,
)

__all__ = ["box"]  # the module's sandbox fixture, shared

# FAULT_MIX_SEEDS=60 runs ten times as many mixes (all passed when this was written).
SEEDS = range(int(os.environ.get("FAULT_MIX_SEEDS", "6")))


@dataclass
class Mixed(Fault):
    """A fault drawn for each request from ``faults`` by a seeded generator."""

    faults: list[Fault]
    rng: random.Random
    drawn: list[str] = field(default_factory=list)

    async def answer(
        self, request: httpx.Request, forward: Forward, state: State
    ) -> httpx.Response:
        fault = self.rng.choice(self.faults)
        self.drawn.append(type(fault).__name__)
        return await fault.answer(request, forward, state)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", CASES)
def test_a_random_mix_of_transient_faults_loses_no_row(box: Sandbox, name: str, seed: int) -> None:
    rng = random.Random(f"{name}-{seed}")
    faults = [fault for _, fault, _ in TRANSIENT + transient_body_faults(CASES[name])]
    mixed = Mixed(faults, rng)
    share = rng.choice([0.1, 0.25, 0.4, 0.7])

    def picked(seen: Seen) -> bool:
        return seen.number == 2 or rng.random() < share  # at least one fault a load

    outcome = load_through(box, CASES[name], mixed, picked, concurrency=None, cap=2_000)
    assert isinstance(outcome.transport, FaultTransport)
    check(box, name, outcome, "either")
