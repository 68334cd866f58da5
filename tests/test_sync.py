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


# Inside a running loop, run_sync applies nest-asyncio2, which patches asyncio for the whole
# process (as it does in Jupyter). These tests run in a subprocess so that pytest's own event
# loops stay unpatched.
IN_A_RUNNING_LOOP = """
import asyncio, sys, warnings
warnings.simplefilter("error")
import recanalytics as ra
from recanalytics.sandbox import Sandbox
from recanalytics.sync import run_sync

async def double(x):
    await asyncio.sleep(0)
    return 2 * x

async def cell():  # what a Jupyter cell does: sync calls while the kernel's loop runs
    assert "nest_asyncio2" not in sys.modules
    assert run_sync(double(5)) == 10
    assert run_sync(double(6)) == 12
    box = Sandbox(seed=5, size=300, providers=["twilio"])
    df = ra.load_twilio_recordings(status="failed", **box.options("twilio"))
    again = await ra.aload_twilio_recordings(status="failed", **box.options("twilio"))
    assert df.height == again.height > 0, (df.height, again.height)
    print("ok", df.height)

asyncio.run(cell())
"""


def test_sync_calls_inside_a_running_loop() -> None:
    out = subprocess.run([sys.executable, "-c", IN_A_RUNNING_LOOP], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("ok ")


def test_import_does_not_patch_asyncio() -> None:
    code = (
        "import asyncio, sys; import recanalytics; "
        "assert 'nest_asyncio2' not in sys.modules, 'patched at import'; "
        "print(asyncio.run.__module__)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "asyncio.runners"
