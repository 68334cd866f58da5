"""Shared fixtures: an in-process sandbox, a served one on 127.0.0.1, fast retries, and an
environment without provider credentials."""

from __future__ import annotations

import errno
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from provider_cases import CREDENTIAL_VARIABLES

from recanalytics import engine
from recanalytics.engine import RetryPolicy
from recanalytics.providers.base import Archival
from recanalytics.sandbox import Sandbox, SandboxServer

FAST_RETRY = RetryPolicy(max_retries=8, backoff_base=0.001, backoff_cap=0.01)
# A client rate far above any provider's, for tests whose subject is not pacing: a sandbox
# without rate_limits never answers 429, and at the providers' own rates a load of many small
# pages spends most of its time waiting for the limiter (Zoom's 20/s: a second per 20 pages).
UNPACED = 100_000.0


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--live", action="store_true", help="run tests against the real provider APIs")


def pytest_configure(config: pytest.Config) -> None:
    # `--dist loadfile` hands files out in the order pytest_collection_modifyitems leaves them
    # (below), not xdist's own order by number of tests: that one gave the browser and notebook
    # files (a few tests, minutes) out last, and one worker ran them alone for the last minutes.
    if hasattr(config.option, "loadscopereorder"):
        config.option.loadscopereorder = False


def slow_files_first(items: list[pytest.Item]) -> None:
    """Order the files (each file's tests kept together and in order) by their number of
    ``slow`` tests, then by their number of tests, most first: the longest work is handed out
    first, and the two workers of ``-n 2`` finish at about the same time."""
    slow: dict[str, int] = {}
    count: dict[str, int] = {}
    for item in items:
        path = item.nodeid.split("::")[0]
        count[path] = count.get(path, 0) + 1
        slow[path] = slow.get(path, 0) + ("slow" in item.keywords)
    position = {path: index for index, path in enumerate(count)}  # ties keep pytest's order

    def rank(item: pytest.Item) -> tuple[int, int, int]:
        path = item.nodeid.split("::")[0]
        return (-slow[path], -count[path], position[path])

    items.sort(key=rank)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    slow_files_first(items)
    if config.getoption("--live"):
        return
    skip = pytest.mark.skip(reason="live test: pass --live and set the provider's credentials")
    for item in items:
        if "live" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def box() -> Sandbox:
    """A read-only sandbox shared by the session (do not mutate its data or knobs)."""
    return Sandbox(seed=11, size=1500)


@pytest.fixture
def fresh_box() -> Sandbox:
    """A private sandbox a test may mutate (knobs, faults, data)."""
    return Sandbox(seed=5, size=600)


@pytest.fixture(scope="session")
def served(box: Sandbox) -> Iterator[SandboxServer]:
    """The shared sandbox served over real HTTP on 127.0.0.1."""
    with box.serve() as server:
        yield server


@pytest.fixture(autouse=True)
def fresh_rate_limiters() -> None:
    """Each test starts with no account's rate spent: loads of one account on one host share a
    limiter for the whole process, and one calmed by a test's 429s would pace the next test's."""
    engine._LIMITERS.clear()


@pytest.fixture(autouse=True)
def no_service_retired_yet(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test runs as on a day before any provider's service retires (Twilio Video on
    2026-12-05), whatever today's date: past it, a retired provider's errors and empty listings
    read otherwise (tests/test_retirement.py). A test marked ``retirement`` moves
    ``recanalytics.clock.now`` around the date itself."""
    if request.node.get_closest_marker("retirement") is None:
        monkeypatch.setattr(Archival, "retired", property(lambda self: False))


@pytest.fixture
def no_env_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """No provider's credentials variable is set (the provider table lists them all)."""
    for name in CREDENTIAL_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(params=["in-process", "loopback"])
def via(request: pytest.FixtureRequest, box: Sandbox) -> object:
    """Run a test both in-process and over loopback HTTP: ``via(provider)`` gives options.

    The loopback case uses the session's ``served`` server (the same read-only ``box``): a
    server per test cost half a second each to stop (``serve_forever`` polls every 0.5 s).
    """
    if request.param == "in-process":
        return lambda provider: box.options(provider)
    server: SandboxServer = request.getfixturevalue("served")
    return lambda provider: box.options(provider, base_url=server.url)


def simulate_read_only(monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    """Make ``folder`` refuse new files, as a read-only one would (chmod does not stop root, so
    the refusal is simulated where the package makes its files: ``tempfile.mkstemp``)."""
    real = tempfile.mkstemp

    def refused(*args: Any, **kwargs: Any) -> tuple[int, str]:
        if Path(str(kwargs.get("dir", ""))).is_relative_to(folder):
            raise PermissionError(errno.EACCES, "Permission denied")
        return real(*args, **kwargs)

    monkeypatch.setattr(tempfile, "mkstemp", refused)
