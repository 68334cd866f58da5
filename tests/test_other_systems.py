"""What Windows and macOS need of the files written: binary mode, no file renamed or written
while another handle holds it (Windows refuses both), staged files cleaned up by lock files."""

from __future__ import annotations

import ast
import os
import sys
import warnings
from pathlib import Path
from typing import Any

import pytest

import recanalytics as ra
from recanalytics.errors import ArchiveWarning
from recanalytics.sandbox import Sandbox
from recanalytics.store import LOCK_NAME, Staging, try_lock
from tests.conftest import UNPACED

PACKAGE = Path(ra.__file__).parent


def _open_here(path: Path) -> list[str]:
    """This process's descriptors open on ``path`` (Linux's /proc)."""
    found = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            if os.readlink(f"/proc/self/fd/{fd}") == str(path):
                found.append(fd)
        except OSError:
            continue
    return found


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/fd")
def test_an_archive_renames_no_file_it_holds_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Windows renames no file another handle has open: the archive's staged tables were held
    # open (and locked) until after their rename, so it could never finish there.
    renamed: list[tuple[str, list[str]]] = []
    replace = os.replace

    def watched(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        source = Path(src).resolve()
        renamed.append((source.name, _open_here(source)))
        replace(src, dst)

    monkeypatch.setattr(os, "replace", watched)
    box = Sandbox(seed=5, size=30, providers=["twilio"], small_media=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ArchiveWarning)
        ra.archive_twilio(tmp_path / "a", media=True, **box.options("twilio"))
    staged = [(name, fds) for name, fds in renamed if name.endswith(".tmp")]
    assert len(staged) >= 4  # three tables and the manifest at least
    assert [(name, fds) for name, fds in renamed if fds] == []
    # Only the run's folder lock stays (an empty file, see LOCK_NAME).
    assert [p.name for p in (tmp_path / "a").iterdir() if p.name.startswith(".")] == [LOCK_NAME]


def test_a_killed_runs_staged_files_are_removed_and_a_live_runs_kept(tmp_path: Path) -> None:
    live = Staging()
    try:
        live.stage(tmp_path / "t.parquet", lambda tmp: tmp.write_bytes(b"live"))
        (live_tmp,) = live.staged.values()
        killed_tmp = tmp_path / ".t.parquet.killed.tmp"
        killed_tmp.write_bytes(b"killed")
        killed_lock = tmp_path / ".t.parquet.killed.tmp.lock"
        killed_lock.write_bytes(b"")
        lone_lock = tmp_path / ".t.parquet.gone.tmp.lock"  # killed between its two removals
        lone_lock.write_bytes(b"")
        Staging.remove_left(tmp_path, ["t.parquet"])
        left = {p.name for p in tmp_path.iterdir()}
        assert left == {live_tmp.name, live_tmp.name + ".lock"}
    finally:
        live.close()
    assert list(tmp_path.iterdir()) == []


def test_a_staged_file_left_by_an_earlier_version_is_judged_by_its_own_lock(
    tmp_path: Path,
) -> None:
    # Earlier versions locked the temporary file itself and wrote no lock file beside it.
    held = tmp_path / ".t.parquet.held.tmp"
    left = tmp_path / ".t.parquet.left.tmp"
    left.write_bytes(b"")
    with held.open("w") as file:
        assert try_lock(file.fileno())
        Staging.remove_left(tmp_path, ["t.parquet"])
        assert [p.name for p in tmp_path.iterdir()] == [held.name]


@pytest.mark.skipif(os.name == "nt", reason="msvcrt's lock would refuse the writes")
def test_a_live_runs_staged_file_is_locked_itself_for_an_older_versions_clean_up(
    tmp_path: Path,
) -> None:
    # An older version's remove_left locks each staged file itself and removes it when it
    # gets the lock: it removed a live run's table (locked only through its .tmp.lock), whose
    # commit then failed with 'No such file or directory'.
    def older_version_judges_free(tmp: Path) -> bool:
        fd = os.open(tmp, os.O_RDWR)
        try:
            return try_lock(fd)
        finally:
            os.close(fd)

    target = tmp_path / "recordings.parquet"
    with Staging() as live:
        live.stage(target, lambda tmp: tmp.write_bytes(b"live"))
        live.stage(tmp_path / "manifest.json", lambda tmp: tmp.write_text("{}"))
        for tmp in live.staged.values():
            assert not older_version_judges_free(tmp)
        live.commit(last=[tmp_path / "manifest.json"])
        assert target.read_bytes() == b"live"
    killed = tmp_path / ".recordings.parquet.k1ll3d.tmp"  # a killed run's: free
    killed.write_bytes(b"")
    assert older_version_judges_free(killed)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="flock; reads /proc/self/fd")
def test_a_staged_file_probed_at_its_creation_is_still_locked_by_its_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A prober (an older version judging staged files) holding a new staged file's lock for a
    # moment made the run's own try_lock fail, and the run then held nothing for good.
    import recanalytics.store as store

    refused: list[str] = []

    def probed_once(fd: int) -> bool:
        name = os.readlink(f"/proc/self/fd/{fd}") if os.path.isdir("/proc/self/fd") else ""
        if name.endswith(".tmp") and not refused:  # the staged file itself, not its .lock
            refused.append(name)
            return False  # as while the prober holds it; it lets go at once
        return try_lock(fd)

    monkeypatch.setattr(store, "try_lock", probed_once)
    with Staging() as live:
        live.stage(tmp_path / "t.parquet", lambda tmp: tmp.write_bytes(b"live"))
        (tmp,) = live.staged.values()
        monkeypatch.setattr(store, "try_lock", try_lock)
        assert not store._free(tmp)  # its lock file held
        fd = os.open(tmp, os.O_RDONLY)
        try:
            assert not try_lock(fd)  # and the file itself, for an older version's judging
        finally:
            os.close(fd)
    assert refused


def test_rows_a_killed_run_staged_are_judged_on_read_only_media(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An archive copied to read-only media after the shutdown: the lock file could not be
    # opened for writing, the staged rows were taken for a live run's and left out silently.
    import errno

    import recanalytics.store as store

    killed = tmp_path / ".recordings.parquet.k1ll3d.tmp"
    killed.write_bytes(b"rows")
    (tmp_path / ".recordings.parquet.k1ll3d.tmp.lock").write_bytes(b"")
    opened = os.open

    def read_only(path: Any, flags: int, *rest: Any) -> int:
        if flags & (os.O_WRONLY | os.O_RDWR):
            raise OSError(errno.EROFS, "Read-only file system", str(path))
        return opened(path, flags, *rest)

    monkeypatch.setattr(store.os, "open", read_only)
    assert Staging.left(tmp_path, "recordings.parquet") == [killed]


def _os_open_calls(tree: ast.AST) -> list[tuple[int, str, str]]:
    """(line, path, flags) of every ``os.open(path, flags, …)`` call, as source text."""
    return [
        (node.lineno, ast.unparse(node.args[0]), ast.unparse(node.args[1]))
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "open"
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "os"
        and len(node.args) >= 2
    ]


def test_every_file_the_package_opens_with_os_open_is_opened_in_binary_mode() -> None:
    # Windows' os.open is in text mode unless told O_BINARY: LF written as CR LF, reads
    # stopping at the first byte 0x1A (every Matroska file's first), so wrong media and hashes.
    missing = []
    for source in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(source.read_text(encoding="utf-8"))
        assignments = {
            target.id: ast.unparse(node.value)
            for node in ast.walk(tree)
            if isinstance(node, ast.Assign)
            for target in node.targets
            if isinstance(target, ast.Name)
        }
        for line, path, flags in _os_open_calls(tree):
            # A name for the flags (``flags = os.O_WRONLY | …``) read as what it names.
            flags = " ".join(assignments.get(word, word) for word in flags.split())
            if "devnull" not in path and "BINARY" not in flags:
                missing.append(f"{source.relative_to(PACKAGE)}:{line}")
    assert missing == []


_FEW_FILES = """
import resource, sys
import recanalytics as ra
from recanalytics.sandbox import Sandbox
url = sys.argv[1]
box = Sandbox(seed=11, size=1500)  # its credentials: the served one is the same
resource.setrlimit(resource.RLIMIT_NOFILE, (32, 32))
options = box.load_options(base_url=url)
df = ra.load(since="2015-01-01", progress=False, rate_limit=float(sys.argv[2]), **options)
print("rows", df.height)
"""


@pytest.mark.skipif(os.name == "nt", reason="RLIMIT_NOFILE is POSIX")
def test_a_load_of_every_provider_completes_where_few_files_may_be_opened(
    box: Sandbox, served: Any, tmp_path: Path
) -> None:
    # ulimit -n 32: the four providers' 52 default connections left polars no descriptor (a
    # raw OSError from reading the time-zone database, at 24 a Rust panic), every row lost.
    # Unpaced: the subject is the connections, and each load paced took ~5 s longer.
    import subprocess

    options = box.load_options(base_url=served.url)
    expected = ra.load(since="2015-01-01", rate_limit=UNPACED, **options)
    env = os.environ | {"PYTHONPATH": str(PACKAGE.parent)}
    done = subprocess.run(
        [sys.executable, "-c", _FEW_FILES, served.url, str(UNPACED)],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split() == ["rows", str(expected.height)]
