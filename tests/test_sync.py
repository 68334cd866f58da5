"""run_sync works in plain code and inside a running loop, and importing patches nothing."""

from __future__ import annotations

import asyncio
import subprocess
import sys

import httpx
import pytest

import recanalytics as ra
from recanalytics.sandbox import Sandbox, SandboxServer
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


# Ctrl-C in a notebook cell whose sync load runs inside the kernel's loop: the interrupt left
# the load's 24 workers pending in that loop, sending requests in the background.
INTERRUPTED_IN_A_RUNNING_LOOP = """
import asyncio, httpx
import recanalytics as ra
from recanalytics.sandbox import Sandbox

box = Sandbox(seed=7, size=3000, latency=0.01)

class Interrupt(httpx.AsyncBaseTransport):
    def __init__(self, inner):
        self.inner, self.n = inner, 0
    async def handle_async_request(self, request):
        self.n += 1
        if self.n == 12:
            raise KeyboardInterrupt  # Ctrl-C while the 12th request is in flight
        return await self.inner.handle_async_request(request)

async def cell():
    options = box.options("twilio") | {"transport": Interrupt(box.transport)}
    try:
        ra.load_twilio_recordings(page_size=20, **options)
    except KeyboardInterrupt:
        pass
    else:
        raise AssertionError("the interrupt did not reach the caller")
    sent = box.requests
    others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    await asyncio.sleep(0.5)
    print("left", len(others), "sent", box.requests - sent)
    assert ra.load_twilio_recordings(page_size=20, **box.options("twilio")).height == 3000

asyncio.run(cell())
"""


def test_an_interrupted_sync_call_in_a_running_loop_stops_its_load() -> None:
    out = subprocess.run(
        [sys.executable, "-c", INTERRUPTED_IN_A_RUNNING_LOOP], capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["left", "0", "sent", "0"], out.stdout


# One provider's load raising what is no provider's error (a bug, a custom transport's
# exception) ended ra.aload and ra.load while the other providers went on loading.
ONE_PROVIDER_RAISES = """
import asyncio, httpx
import recanalytics as ra
from recanalytics.sandbox import Sandbox

box = Sandbox(seed=7, size=3000, latency=0.02)

class Broken(httpx.AsyncBaseTransport):
    async def handle_async_request(self, request):
        if "/Account/" in request.url.path:  # Plivo's
            await asyncio.sleep(0.05)
            raise RuntimeError("a custom transport's bug")
        return await box.transport.handle_async_request(request)

options = box.load_options() | {"transport": Broken()}

async def after(load):
    try:
        await load()
    except RuntimeError:
        pass
    else:
        raise AssertionError("the error did not reach the caller")
    sent = box.requests
    others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    await asyncio.sleep(0.5)
    print("left", len(others), "sent", box.requests - sent)

async def sync_load():  # a notebook cell's sync call, inside the kernel's loop
    ra.load(since="2025-01-01", **options)

async def cell():
    await after(lambda: ra.aload(since="2025-01-01", **options))
    await after(sync_load)

asyncio.run(cell())
"""


def test_a_provider_raising_stops_the_other_providers_first() -> None:
    out = subprocess.run(
        [sys.executable, "-c", ONE_PROVIDER_RAISES], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["left", "0", "sent", "0"] * 2, out.stdout


# A sync loader inside a loop nest-asyncio2 cannot patch (uvloop's) raised its bare ValueError
# ("Can't patch loop of type uvloop.Loop"), after patching asyncio, and warned that the load's
# coroutine was never awaited. nest-asyncio2 patches only asyncio.BaseEventLoop: a loop that
# is not one is simulated by pointing that name elsewhere, as nest-asyncio2 looks it up then.
IN_AN_UNPATCHABLE_LOOP = """
import asyncio, gc, sys, warnings
warnings.simplefilter("error")
import recanalytics as ra
from recanalytics.sandbox import Sandbox

box = Sandbox(seed=5, size=300, providers=["twilio"])

async def cell():
    asyncio.BaseEventLoop = type("NotThisLoop", (), {})  # the running loop is "not one"
    expected = (await ra.aload_twilio_recordings(**box.options("twilio"))).height
    df = ra.load_twilio_recordings(**box.options("twilio"))
    assert df.height == expected > 0, (df.height, expected)
    try:
        ra.load_twilio_recordings(status="gone", **box.options("twilio"))
    except ra.ConfigError:
        pass
    assert "nest_asyncio2" not in sys.modules
    others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    print("ok", len(others))

asyncio.run(cell())
gc.collect()
"""


def test_a_sync_call_in_a_loop_nest_asyncio_cannot_patch_runs_in_a_thread() -> None:
    out = subprocess.run(
        [sys.executable, "-c", IN_AN_UNPATCHABLE_LOOP],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["ok", "0"] and "never awaited" not in out.stderr, out.stderr


async def test_sync_calls_in_a_loop_nest_asyncio_cannot_patch_may_share_a_network_transport(
    monkeypatch: pytest.MonkeyPatch, box: Sandbox, served: SandboxServer
) -> None:
    # Each such call runs in a worker thread's loop of its own: the connections a caller's
    # network transport opened there are closed as it ends, so the next call (another
    # thread, another loop) may use the transport; they were refused as "in use".
    monkeypatch.setattr(asyncio, "BaseEventLoop", type("NotThisLoop", (), {}))
    transport = httpx.AsyncHTTPTransport()
    options = box.options("twilio", base_url=served.url) | {"transport": transport}
    heights = [ra.load_twilio_recordings(status="failed", **options).height for _ in range(2)]
    assert heights[0] == heights[1] > 0


# Python 3.11: once nest-asyncio2 was applied, each asyncio.run in a new thread left a loop
# open (its asyncio.run runs on get_event_loop(), which makes one per thread and never closes
# it): 20 threads, 60 file descriptors and 19 "unclosed event loop" warnings.
THREADS_AFTER_A_NESTED_CALL = """
import asyncio, gc, threading, warnings
import recanalytics as ra
from recanalytics.sandbox import Sandbox

box = Sandbox(seed=5, size=50, providers=["twilio"])
unclosed = []

def show(message, category, *args, **kwargs):
    unclosed.append(str(message))

warnings.simplefilter("always")
warnings.showwarning = show

async def cell():
    return ra.load_twilio_recordings(**box.options("twilio")).height

for _ in range(6):
    thread = threading.Thread(target=lambda: asyncio.run(cell()))
    thread.start()
    thread.join()
asyncio.run(cell())
gc.collect()
print("unclosed", len([m for m in unclosed if "unclosed event loop" in m]))
"""


# A kernel that applied nest-asyncio2 itself, before the first sync call: the wrap was made
# only where this package applied it, so every thread's asyncio.run still left a loop open.
APPLIED_BEFORE = """
import asyncio, nest_asyncio2
from recanalytics.sync import run_sync

async def nothing():
    return 0

async def first_cell():  # the kernel's loop, patched by the kernel, runs a sync call
    return run_sync(nothing())

kernel_loop = asyncio.new_event_loop()
nest_asyncio2.apply(kernel_loop)
kernel_loop.run_until_complete(first_cell())
kernel_loop.close()
"""


@pytest.mark.parametrize("prelude", ["", APPLIED_BEFORE], ids=["by-recanalytics", "by-the-kernel"])
def test_no_event_loop_is_left_open_after_nested_calls(prelude: str) -> None:
    out = subprocess.run(
        [sys.executable, "-c", prelude + THREADS_AFTER_A_NESTED_CALL],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["unclosed", "0"], out.stdout


# A Ctrl-C inside a sync load outside any loop (a script) came out as "RuntimeError: Event
# loop stopped before Future completed", with "Task was destroyed but it is pending!" on
# stderr, whenever the load's task was still running when the connections were released.
INTERRUPTED_IN_A_SCRIPT = """
import gc, httpx
import recanalytics as ra
from recanalytics.sandbox import Sandbox

box = Sandbox(seed=11, size=400)

class Interrupting(httpx.AsyncBaseTransport):
    def __init__(self, at):
        self.at, self.n = at, 0

    async def handle_async_request(self, request):
        self.n += 1
        if self.n == self.at:
            raise KeyboardInterrupt  # Ctrl-C while this request is in flight
        return await box.transport.handle_async_request(request)

interrupted = 0
for at in range(2, 60, 3):
    try:
        ra.load(since="2025-01-01", **(box.load_options() | {"transport": Interrupting(at)}))
    except KeyboardInterrupt:
        interrupted += 1
    except BaseException as error:
        print(at, type(error).__name__, error)
gc.collect()
print("interrupted", interrupted)
"""


def test_a_ctrl_c_in_a_scripts_sync_load_is_a_keyboard_interrupt() -> None:
    out = subprocess.run(
        [sys.executable, "-c", INTERRUPTED_IN_A_SCRIPT], capture_output=True, text=True, timeout=300
    )
    assert out.stdout.split() == ["interrupted", "20"], out.stdout + out.stderr
    assert "Task was destroyed" not in out.stderr, out.stderr


def test_an_error_from_a_sync_call_in_a_script_has_no_event_loop_context() -> None:
    """The load ran inside `except RuntimeError` (no running loop): every error it raised had
    "no running event loop" as its __context__, and each traceback began with it."""
    import recanalytics as ra
    from recanalytics.sandbox import Sandbox

    box = Sandbox(seed=3, size=10)
    calls = [
        lambda: ra.get_twilio_recording("RTbad"),  # a ConfigError
        lambda: ra.get_twilio_recording("RT" + "0" * 32, **box.options("twilio")),  # 404
        lambda: ra.load_twilio_recordings(page_size=5, max_pages=1, **box.options("twilio")),
    ]
    for call in calls:
        with pytest.raises(ra.RecanalyticsError) as caught:
            call()
        assert caught.value.__context__ is None, repr(caught.value.__context__)


async def test_all_or_none_cancelled_stops_its_jobs_before_it_ends() -> None:
    # An outer cancel (a timeout around ra.aload, a cancelled notebook task) left the
    # providers' loads running in the background.
    from recanalytics.sync import all_or_none

    running: list[int] = []
    stopped: list[int] = []

    async def job(n: int) -> int:
        running.append(n)
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            stopped.append(n)
            raise
        return n

    outer = asyncio.ensure_future(all_or_none([job(1), job(2)]))
    while len(running) < 2:
        await asyncio.sleep(0)
    outer.cancel()
    with pytest.raises(asyncio.CancelledError):
        await outer
    assert sorted(stopped) == [1, 2]
