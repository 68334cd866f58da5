"""run_sync works in plain code and inside a running loop, and importing patches nothing."""

from __future__ import annotations

import asyncio
import subprocess
import sys

from recanalytics.sync import run_sync


async def double(x: int) -> int:
    await asyncio.sleep(0)
    return 2 * x


def test_run_sync_without_a_loop() -> None:
    assert run_sync(double(4)) == 8


async def test_run_sync_inside_a_running_loop() -> None:
    assert run_sync(double(5)) == 10
    assert run_sync(double(6)) == 12


def test_import_does_not_patch_asyncio() -> None:
    code = (
        "import asyncio, sys; import recanalytics; "
        "assert 'nest_asyncio2' not in sys.modules, 'patched at import'; "
        "print(asyncio.run.__module__)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "asyncio.runners"
