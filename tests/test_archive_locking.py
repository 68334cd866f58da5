"""Two archive runs into one folder: the second is refused at once, so neither loses the rows
the other archived.

Two runs at once (one over everything, one over a narrow period with media) each read the
earlier archive, merged it with their own listing and put their files in place: the folder
ended with the narrow run's 13 rows although the wide one had reported 129, and read_archive
said nothing (the manifest matched the files).
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import recanalytics as ra
from recanalytics.cli import main
from recanalytics.errors import ArchiveWarning, StoreError
from recanalytics.sandbox import Sandbox
from recanalytics.store import LOCK_NAME

WAIT = 10.0  # seconds: longer than any step here takes, so a broken lock fails, never hangs
REFUSED = "another archive run is archiving into this folder"
NARROW = {"since": "2026-09-01", "media": True}


class Paused(httpx.AsyncBaseTransport):
    """The sandbox, with the first request held until ``go`` is set: a run in the middle of
    its listing, holding the folder, for as long as a test needs."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.started = threading.Event()
        self.go = threading.Event()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.started.set()
        # Blocks this run's own event loop (in its own thread): its other requests wait too.
        self.go.wait(WAIT)
        return await self.inner.handle_async_request(request)


class Counted(httpx.AsyncBaseTransport):
    """The sandbox, counting the requests a run sends."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.sent = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.sent += 1
        return await self.inner.handle_async_request(request)


@contextlib.contextmanager
def running(out: Path, box: Sandbox, **kwargs: Any) -> Iterator[dict[str, Any]]:
    """An archive of ``box`` into ``out`` in another thread, held at its first request while
    the block runs; then let go and waited for. Its manifest (or ``error``) lands in the dict
    yielded."""
    paused = Paused(box.transport)
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ArchiveWarning)  # recordings still processing
                options = box.options("twilio") | {"transport": paused}
                outcome["manifest"] = ra.archive_twilio(out, **kwargs, **options)
        except BaseException as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + WAIT
        while not paused.started.wait(0.05):  # or its end: refused, failed
            assert thread.is_alive() and time.monotonic() < deadline, outcome.get("error")
        yield outcome
    finally:
        paused.go.set()
        thread.join(WAIT)
    assert not thread.is_alive(), "the first run did not finish"
    assert "error" not in outcome, outcome["error"]


def refused(out: Path, box: Sandbox, **kwargs: Any) -> StoreError:
    """A run into ``out`` while another holds it: refused before any request or file."""
    before = sorted(p.name for p in out.rglob("*"))
    counted = Counted(box.transport)
    options = box.options("twilio") | {"transport": counted}
    with pytest.raises(StoreError, match=REFUSED) as info:
        ra.archive_twilio(out, **kwargs, **options)
    assert counted.sent == 0
    assert sorted(p.name for p in out.rglob("*")) == before  # not even media/
    assert info.value.path == str(out) and info.value.partial is None
    return info.value


def everything(box: Sandbox) -> int:
    """How many rows the account holds (every list, from 2025-01-01)."""
    options = box.options("twilio")
    return (
        ra.load_twilio_recordings(since="2025-01-01", **options).height
        + ra.load_twilio_compositions(since="2025-01-01", **options).height
    )


def test_a_second_run_into_the_folder_is_refused_and_the_first_keeps_every_row(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    box = Sandbox(seed=7, size=120, providers=["twilio"])
    out = tmp_path / "a"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ArchiveWarning)
        earlier = ra.archive_twilio(out, since="2026-10-01", **box.options("twilio"))
    with running(out, box, since="2025-01-01") as first:
        refused(out, box, **NARROW)
        # The command: one line naming the folder, exit 2, nothing written.
        argv = ["archive", "twilio", "--out", str(out), "--sandbox", "--size", "120", "--quiet"]
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"recanalytics: {out}: {REFUSED} (it holds {LOCK_NAME}): wait")
        assert err.count("\n") == 1 and "Traceback" not in err
        # Reading takes no lock: the earlier run's archive, whole, while the run goes on.
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            rows, manifest = ra.read_archive(out)
        listed = manifest["tracks"]["recordings"] + manifest["compositions"]["recordings"]
        assert manifest == earlier and rows.height == listed
    rows, manifest = ra.read_archive(out)
    assert manifest == first["manifest"]
    assert rows.height == everything(box) > 13  # none lost to the refused runs
    assert LOCK_NAME not in manifest["files"]
    # Once it is done, the next run goes ahead, and keeps the rows outside its period.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ArchiveWarning)
        ra.archive_twilio(out, **NARROW, **box.options("twilio"))
    # Its media step asked for none of the rows outside its period: said, not whole.
    with pytest.warns(ArchiveWarning, match="no run of the archive asked for them"):
        rows, manifest = ra.read_archive(out)
    assert rows.height == everything(box) and "media" in manifest
    assert manifest["media"]["outside_period"]["not_asked"] > 0


class Failing(httpx.AsyncBaseTransport):
    """The sandbox, except at the requests whose path ends with ``at``: ``error`` raised, or
    without one a refusal (403, not retried)."""

    def __init__(
        self, inner: httpx.AsyncBaseTransport, at: str, error: BaseException | None
    ) -> None:
        self.inner, self.at, self.error = inner, at, error

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if not request.url.path.endswith(self.at):
            return await self.inner.handle_async_request(request)
        if self.error is not None:
            raise self.error
        body = {"code": 20403, "message": "Forbidden", "status": 403}
        return httpx.Response(403, json=body, request=request)


@pytest.mark.parametrize(
    ("at", "error", "raised"),
    [
        # A list that cannot be loaded: before anything is written.
        ("Compositions", None, ra.ProviderError),
        # Ctrl-C in the media step: after the tables were put in place.
        ("/Media", KeyboardInterrupt(), KeyboardInterrupt),
    ],
    ids=["load-failed", "ctrl-c-in-media"],
)
def test_a_run_that_failed_lets_go_of_the_folder(
    at: str, error: BaseException | None, raised: type[BaseException], tmp_path: Path
) -> None:
    box = Sandbox(seed=7, size=60, providers=["twilio"], small_media=True)
    out = tmp_path / "a"
    options = box.options("twilio") | {"transport": Failing(box.transport, at, error)}
    with pytest.raises(raised):
        ra.archive_twilio(out, media=True, **options)
    # The next run goes ahead; and while it runs, another is still refused.
    with running(out, box, media=True) as first:
        refused(out, box)
    assert first["manifest"]["tracks"]["recordings"] > 0
    ra.read_archive(out)


HOLDER = """
import sys, time
sys.path[:0] = [{root!r}]
import httpx
import recanalytics as ra
from recanalytics.sandbox import Sandbox

box = Sandbox(seed=7, size=60, providers=["twilio"])


async def handler(request):
    print("listing", flush=True)
    time.sleep(60)  # killed long before
    return await box.transport.handle_async_request(request)


options = box.options("twilio") | {{"transport": httpx.MockTransport(handler)}}
ra.archive_twilio({out!r}, progress=False, **options)
"""


def test_a_run_in_another_process_holds_the_folder_until_it_dies(tmp_path: Path) -> None:
    # The audit's case: two processes. A killed run (kill -9, a crash) lets go with its process.
    box = Sandbox(seed=7, size=60, providers=["twilio"])
    out = tmp_path / "a"
    script = HOLDER.format(root=str(Path(__file__).parent.parent), out=str(out))
    holder = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    guard = threading.Timer(30, holder.kill)  # a holder that never gets to its request
    guard.start()
    try:
        assert holder.stdout is not None
        line = holder.stdout.readline()  # blocks until its first request (or its end)
        assert line == "listing\n", holder.communicate(timeout=WAIT)[1][-3000:]
        refused(out, box)
    finally:
        guard.cancel()
        holder.kill()
        holder.communicate(timeout=WAIT)
    manifest = ra.archive_twilio(out, **box.options("twilio"))
    assert manifest["tracks"]["recordings"] > 0
