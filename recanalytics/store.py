"""A local store of unified rows: hive-partitioned parquet that polars, DuckDB or Spark read.

Layout: ``{root}/provider={p}/year={yyyy}/month={mm}/data.parquet``; the partition columns are
in the path, not in the files (as hive readers expect). Rows are upserted by
``(provider, recording_id)``. Every file is written to a temporary name and renamed into place,
so a reader never sees half a file, and is created readable by the user only. Every
read-merge-write (and every read of :meth:`ParquetStore.read`) holds an inter-process lock on
``{root}/.lock`` (:meth:`ParquetStore.locked`), so two processes writing one store lose no row.

A stored file that is damaged or foreign is a :class:`~recanalytics.errors.StoreError` naming
it; a file of an older schema reads with the columns it lacks as null.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import glob
import json
import os
import re
import shutil
import sys
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from recanalytics import validate
from recanalytics.blank import present
from recanalytics.errors import ConfigError, StoreError, reason, warn_user
from recanalytics.fileflags import BINARY, NOFOLLOW
from recanalytics.helpers._common import (
    conform_dtypes,
    refuse_changed_numbers,
    refuse_negative_numbers,
)
from recanalytics.localfile import read_file, scan_parquet_file
from recanalytics.schema import KINDS, PROVIDERS, SCHEMA, conform

if sys.platform == "win32":
    import errno
    import msvcrt

    def _lock(fd: int, shared: bool) -> None:
        # msvcrt has no shared mode: a reader waits for the lock like a writer.
        os.lseek(fd, 0, os.SEEK_SET)
        while True:
            try:
                msvcrt.locking(fd, msvcrt.LK_LOCK, 1)
                return
            except OSError as exc:  # LK_LOCK gives up after about 10 s: keep waiting
                if exc.errno != errno.EDEADLOCK:
                    raise

    def _unlock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

    def try_lock(fd: int) -> bool:
        """Take an exclusive lock on ``fd`` without waiting: False when another holds it."""
        os.lseek(fd, 0, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError as exc:
            if exc.errno in (errno.EACCES, errno.EDEADLOCK):
                return False
            raise
        return True

else:
    import fcntl

    def _lock(fd: int, shared: bool) -> None:
        fcntl.flock(fd, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)

    def try_lock(fd: int) -> bool:
        """Take an exclusive lock on ``fd`` without waiting: False when another holds it."""
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True


PARTITIONS = ("provider", "year", "month")
FILE_NAME = "data.parquet"
LOCK_NAME = ".lock"
STORED = [name for name in SCHEMA.names() if name != "provider"]
"""The columns of a stored file (the provider is in its path)."""
NULL_MONTH = 0  # rows without created_at live under year=0/month=0
MAX_OVERLAP = dt.timedelta(days=366)
"""The largest ``overlap`` a store accepts: a year of status changes, whatever the calendar."""


def default_path() -> Path:
    """``recanalytics/store`` under the user's cache directory (platformdirs)."""
    import platformdirs

    return Path(platformdirs.user_cache_dir("recanalytics")) / "store"


_WRITE_ERRORS = (OSError, pl.exceptions.PolarsError)


def _write_failure(path: Path, exc: BaseException) -> StoreError:
    """The StoreError for a write that failed; polars' own text ("parquet: File out of
    specification: underlying IO error: No space left on device (os error 28)") shortened to
    the system's reason where it gives one, the likely cause added where an IO error gives
    none."""
    why = reason(exc)
    # polars' OSErrors carry the code in their text only ("... (os error 28)", no errno).
    if code := re.search(r"os error (\d+)", why):
        why = os.strerror(int(code[1]))
    elif isinstance(exc, pl.exceptions.PolarsError) and re.search(
        r"transport error|IO error", why, re.IGNORECASE
    ):
        why = f"{why}; {_out_of_room(path.parent)}"
    return StoreError(path, f"could not be written ({why})")


def _out_of_room(folder: Path) -> str:
    """Why a write may have stopped short when the error does not say (polars cut off while
    writing a parquet footer: "Invalid thrift: transport error")."""
    with contextlib.suppress(OSError):
        if shutil.disk_usage(folder).free < 1 << 20:
            return "the disk is full"
    if sys.platform != "win32":
        import resource

        limit = resource.getrlimit(resource.RLIMIT_FSIZE)[0]
        if limit != resource.RLIM_INFINITY:
            return f"the file size limit ({limit:,} bytes) may have been reached"
    return "the disk may be full or a file size limit reached"


def private_stage(path: Path, write: Any, reserve: Callable[[Path], Path] | None = None) -> Path:
    """Write through ``write(tmp_path)`` to a temporary sibling of ``path``, user-only, and
    return it: ``os.replace(staged, path)`` puts it in place (:func:`private_write` does both).

    ``reserve(path)`` makes the temporary file instead (:class:`Staging` locks a file beside
    it first). Any OSError or polars error (a full disk, a read-only
    folder, a folder where the file goes) is a StoreError naming ``path``; the temporary file
    is removed.

    Examples
    --------
    >>> staged = private_stage(Path("notes.txt"), lambda tmp: tmp.write_text("hi"))
    >>> os.replace(staged, "notes.txt")
    """
    try:
        validate.make_folders(path.parent, 0o700)
        if reserve is None:
            fd, made = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
            os.close(fd)
            tmp = Path(made)
        else:
            tmp = reserve(path)
    except OSError as exc:
        if _refuses_new_files(exc):
            # Named: a read-only mount or another's folder is for the user to change.
            folder = next((p for p in path.parents if p.is_dir()), path.parent)
            why = f"its folder {folder} takes no new file ({reason(exc)})"
            raise StoreError(path, f"could not be written: {why}") from exc
        raise StoreError(path, f"could not be written ({reason(exc)})") from exc
    try:
        write(tmp)
        os.chmod(tmp, 0o600)
    except BaseException as exc:
        # Said before the removal: the disk is still as full as the write found it.
        failure = _write_failure(path, exc) if isinstance(exc, _WRITE_ERRORS) else None
        Path(tmp).unlink(missing_ok=True)
        if failure is not None:
            raise failure from exc
        raise
    return Path(tmp)


def _refuses_new_files(exc: BaseException | None) -> bool:
    return isinstance(exc, PermissionError) or (
        isinstance(exc, OSError) and exc.errno == errno.EROFS
    )


class Staging:
    """Files written under temporary names, each held by a lock, put in place together by
    :meth:`commit`: until then the files they replace stay as they were.

    A run stopped on the way (Ctrl-C, an error) removes its temporary files on :meth:`close`;
    one killed (kill -9, a power cut) cannot, and :meth:`remove_left` in a later run removes
    those no process holds any more, never another live run's. The lock is on a file beside
    each temporary one (``….tmp.lock``): Windows lets no other handle write a locked byte, nor
    rename a file that is open. Elsewhere the temporary file is locked too, from its making
    until just before it is put in place (or it is removed): an older version's
    :meth:`remove_left` judges a staged file by its own lock, and removed a live run's.

    Examples
    --------
    >>> with Staging() as staging:  # closed on leaving: what was not committed is removed
    ...     staging.stage(Path("a.txt"), lambda tmp: tmp.write_text("new"))
    ...     staging.commit()
    >>> Path("a.txt").read_text()
    'new'
    """

    def __init__(self) -> None:
        self.staged: dict[Path, Path] = {}  # where a file goes: where it is written until then
        self._held: list[tuple[int, Path]] = []
        self._own: dict[Path, int] = {}  # a temporary file: a descriptor holding its own lock

    def _reserve(self, path: Path) -> Path:
        # The lock file first: a temporary file without one is never a live run's.
        fd, lock = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp.lock", dir=path.parent)
        self._held.append((fd, Path(lock)))
        if not try_lock(fd):
            # A reader judging staged files (Staging.left) holds it for a moment: wait for it.
            _lock(fd, False)
        tmp = Path(lock.removesuffix(".lock"))
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | NOFOLLOW | BINARY, 0o600)
        if os.name == "nt":  # msvcrt's lock would refuse the writes through the file's path
            os.close(fd)
            return tmp
        self._own[tmp] = fd  # closed by close() whatever happens next
        # flock is advisory: the writes and the rename go through as before. An older
        # version judging staged files may hold it for a moment: wait for it.
        if not try_lock(fd):
            _lock(fd, False)
        return tmp

    def _let_go(self, tmp: Path) -> None:
        fd = self._own.pop(tmp, None)
        if fd is not None:
            os.close(fd)

    def stage(self, path: Path, write: Any) -> None:
        """Write ``path``'s next content through ``write(tmp_path)`` (:func:`private_stage`)."""
        self.staged[path] = private_stage(path, write, self._reserve)

    def commit(self, last: Sequence[Path] = ()) -> None:
        """Put every staged file in place, those in ``last`` after the others, in order."""
        order = [p for p in self.staged if p not in last] + [p for p in last if p in self.staged]
        for path in order:
            # Let go of the file's own lock just before: Windows renames no open file, and
            # the rename makes it no temporary file any more (its lock file is held still).
            self._let_go(self.staged[path])
            try:
                os.replace(self.staged[path], path)
            except OSError as exc:
                raise StoreError(path, f"could not be written ({reason(exc)})") from exc
            del self.staged[path]

    def __enter__(self) -> Staging:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Remove what was staged and not committed, and let go of every lock."""
        for tmp in self.staged.values():
            tmp.unlink(missing_ok=True)
        self.staged.clear()
        for tmp in list(self._own):
            self._let_go(tmp)
        for fd, lock in self._held:
            os.close(fd)  # before the removal: Windows removes no open file
            lock.unlink(missing_ok=True)
        self._held.clear()

    @staticmethod
    def left(folder: Path, name: str) -> list[Path]:
        """The temporary files of ``name`` in ``folder`` that a killed run left (no process
        holds their lock), newest first: what it wrote and never put in place."""
        found = [
            tmp
            for tmp in folder.glob(f".{glob.escape(name)}.*.tmp")
            if not tmp.is_symlink() and tmp.is_file() and _free(tmp)
        ]
        return sorted(found, key=_modified, reverse=True)

    @staticmethod
    def remove_left(folder: Path, names: Iterable[str]) -> None:
        """Remove the temporary files of ``names`` in ``folder`` that a killed run left (no
        process holds their lock), and their lock files."""
        for name in names:
            pattern = f".{glob.escape(name)}.*.tmp"
            for tmp in [*folder.glob(pattern), *folder.glob(pattern + ".lock")]:
                with contextlib.suppress(OSError):
                    if tmp.is_symlink() or not tmp.is_file():
                        continue
                    if _free(tmp):
                        lock = tmp if tmp.name.endswith(".lock") else _lock_of(tmp)
                        tmp.unlink(missing_ok=True)
                        lock.unlink(missing_ok=True)


def _free(tmp: Path) -> bool:
    """Whether no process holds the lock of a staged file (or of its lock file ``tmp``)."""
    lock = tmp if tmp.name.endswith(".lock") else _lock_of(tmp)
    # A temporary file without a lock file beside it was staged by an earlier version, which
    # locked the file itself.
    judged = lock if lock.exists() else tmp
    try:
        fd = os.open(judged, os.O_RDWR | NOFOLLOW | BINARY)
    except OSError:
        # A folder on read-only media (an archive copied after the shutdown): flock needs no
        # write access, and no run writes there.
        try:
            fd = os.open(judged, os.O_RDONLY | NOFOLLOW | BINARY)
        except OSError:
            return False
    try:
        return try_lock(fd)
    except OSError:
        return False
    finally:
        os.close(fd)


def _modified(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def _lock_of(tmp: Path) -> Path:
    return tmp.with_name(tmp.name + ".lock")


def private_write(path: Path, write: Any, *, in_place: bool = False) -> None:
    """Write through ``write(tmp_path)`` to a temporary sibling, make it user-only, rename it.

    Any OSError or polars error (a full disk, a read-only folder, a folder where the file
    goes) is a StoreError naming ``path``; the temporary file is removed and a file already at
    ``path`` is left as it was. A path that exists and is neither a file nor a folder
    (``/dev/null``, a FIFO) is written in place: a rename would replace it (as root, the device
    itself). ``in_place`` is for a page made again by the same call (a report over last week's
    in a shared read-only folder): when the folder takes no new file, a file the user may
    write there is written in place, not atomic, as no sibling can be made; a data file is
    never (a cut one would be the rows' only copy), and such a folder is a StoreError saying so.

    Examples
    --------
    >>> private_write(Path("notes.txt"), lambda tmp: tmp.write_text("hi"))
    >>> Path("notes.txt").read_text()
    'hi'
    """
    if path.exists() and not path.is_file() and not path.is_dir():
        _write_in_place(path, write)
        return
    try:
        staged = private_stage(path, write)
    except StoreError as exc:
        refused = _refuses_new_files(exc.__cause__)
        if not (in_place and refused and path.is_file() and os.access(path, os.W_OK)):
            raise
        _write_in_place(path, write)
        return
    try:
        os.replace(staged, path)
    except OSError as exc:
        staged.unlink(missing_ok=True)
        raise StoreError(path, f"could not be written ({reason(exc)})") from exc


def _write_in_place(path: Path, write: Any) -> None:
    try:
        write(path)
    except _WRITE_ERRORS as exc:
        raise _write_failure(path, exc) from exc


def json_writer(value: Any) -> Callable[[Path], Any]:
    """What writes ``value`` as the JSON files of a store or an archive, for
    :func:`private_write` or :func:`private_stage`."""
    return lambda tmp: tmp.write_text(json.dumps(value, indent=2, sort_keys=True, default=str))


def write_json(path: Path, value: Any) -> None:
    private_write(path, json_writer(value))


@dataclass
class UpsertReport:
    """Rows a write added, changed and left as they were."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0

    def __iadd__(self, other: UpsertReport) -> UpsertReport:
        self.inserted += other.inserted
        self.updated += other.updated
        self.unchanged += other.unchanged
        return self


@dataclass
class RefreshReport:
    """What :meth:`Store.refresh` did, per provider."""

    rows: dict[str, UpsertReport] = field(default_factory=dict)
    windows: dict[str, tuple[dt.datetime | None, dt.datetime | None]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def inserted(self) -> int:
        return sum(r.inserted for r in self.rows.values())

    @property
    def updated(self) -> int:
        return sum(r.updated for r in self.rows.values())


def _damaged(path: Path, problem: str) -> StoreError:
    return StoreError(
        path,
        f"{problem}. Move it aside (or delete it) and delete _meta/{COVERAGE} in the store, so "
        "the next load fetches what it held again",
    )


COVERAGE = "coverage.json"


def _provider_of(path: Path) -> str:
    """The provider of a partition file, from its ``provider=`` folder."""
    return path.parts[-4].removeprefix("provider=")


def scan_file(path: Path) -> pl.LazyFrame:
    """One stored partition file as unified rows, checked before it is read.

    A column an older store's file lacks reads as null; a column of another kind of values
    (text where the schema has numbers), a file that is not parquet, or one that is not a
    store's (columns no store file has, no ``recording_id``) is a StoreError naming it.
    """
    if not path.is_file():
        raise _damaged(path, "is not a file")
    try:
        present = read_file(pl.read_parquet_schema, path)
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise _damaged(path, f"is not a readable parquet file ({reason(exc)})") from exc
    foreign = sorted(set(present) - set(STORED))
    if foreign or "recording_id" not in present:
        shown = ", ".join(foreign[:5]) if foreign else "no recording_id"
        raise _damaged(path, f"is not a store file (columns: {shown})")
    try:
        lazy = conform_dtypes(scan_parquet_file(path), parameter=str(path), strict_numbers=True)
    except ConfigError as exc:
        raise _damaged(path, f"holds a column of another type ({exc.value})") from None
    return conform(lazy.with_columns(provider=pl.lit(_provider_of(path))))


def _partition_values(df: pl.DataFrame) -> pl.DataFrame:
    created = pl.col("created_at")
    return df.with_columns(
        year=pl.when(created.is_null())
        .then(NULL_MONTH)
        .otherwise(created.dt.year())
        .cast(pl.Int32),
        month=pl.when(created.is_null())
        .then(NULL_MONTH)
        .otherwise(created.dt.month())
        .cast(pl.Int32),
    )


def _month_overlaps(path: Path, since: dt.datetime, until: dt.datetime) -> bool:
    """Whether the partition file ``path`` (``year=/month=``) holds a month that meets
    ``[since, until)``; never the partition of rows without ``created_at``."""
    try:
        year = int(path.parts[-3].removeprefix("year="))
        month = int(path.parts[-2].removeprefix("month="))
        first = dt.datetime(year, month, 1, tzinfo=dt.UTC)
    except ValueError:
        return False  # year=0: rows without created_at, in no period
    if (year, month) == (dt.MAXYEAR, 12):
        return first < until
    after = dt.datetime(year + month // 12, month % 12 + 1, 1, tzinfo=dt.UTC)
    return first < until and since < after


def open_lock(folder: Path) -> int:
    """``folder``'s lock file (:data:`LOCK_NAME`, made user-only with the folder if missing),
    opened for a writer's lock; a StoreError naming it when it cannot be."""
    path = folder / LOCK_NAME
    try:
        validate.make_folders(folder, 0o700)
        return os.open(path, os.O_RDWR | os.O_CREAT | BINARY, 0o600)
    except OSError as exc:
        raise StoreError(path, f"could not be opened ({reason(exc)})") from exc


@contextlib.contextmanager
def held_alone(folder: Path, busy: str) -> Iterator[None]:
    """Hold ``folder``'s lock (``{folder}/.lock``) exclusively while the block runs, without
    waiting: a :class:`StoreError` naming ``folder`` and saying ``busy`` when another holds it.

    For a run that must not wait (an archive, which may take hours): a second one is refused
    at once, before it writes or asks anything. Two holds conflict even within one process
    (each opens the file anew); a process that dies releases its hold with it. The lock file
    stays, as a store's does.

    Examples
    --------
    >>> with held_alone(Path("folder"), "another run is writing here"):
    ...     with held_alone(Path("folder"), "another run is writing here"):
    ...         pass
    Traceback (most recent call last):
    recanalytics.errors.StoreError: folder: another run is writing here
    """
    fd = open_lock(folder)
    try:
        try:
            held = try_lock(fd)
        except OSError as exc:  # a file system without locks (some network mounts)
            raise StoreError(folder / LOCK_NAME, f"could not be locked ({reason(exc)})") from exc
        if not held:
            raise StoreError(folder, busy)
        try:
            yield
        finally:
            _unlock(fd)
    finally:
        os.close(fd)


_held = threading.local()
"""Per thread: how deeply each store folder's lock is held (a nested hold takes it once)."""


class ParquetStore:
    """The files of a :class:`recanalytics.Store`: hive-partitioned parquet, read and written.

    :class:`recanalytics.Store` adds :func:`~recanalytics.refresh`, which loads, and documents
    the parameters (``path``, ``overlap``); this class only reads and writes files, so the
    store knows nothing of the loaders.

    Examples
    --------
    >>> from recanalytics.store import ParquetStore
    >>> files = ParquetStore("rows")
    >>> files.upsert(ra.demo(size=50)).inserted == files.read().height
    True
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        overlap: dt.timedelta = dt.timedelta(days=3),
    ) -> None:
        self.path = validate.folder(path, "path") if path is not None else default_path()
        if not isinstance(overlap, dt.timedelta) or not dt.timedelta(0) <= overlap <= MAX_OVERLAP:
            raise ConfigError(
                "overlap", "a datetime.timedelta from 0 up to 366 days (MAX_OVERLAP)", overlap
            )
        self.overlap = overlap

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self.path)!r})"

    # --- locking -----------------------------------------------------------------------------

    def check_writable(self, parameter: str = "store") -> None:
        """Before any request: the folder can be written (else ConfigError naming
        ``parameter``) and its ``_meta`` is a folder (else StoreError), so a load is never
        spent on rows the store cannot keep."""
        validate.made_folder(self.path, parameter, private=True)
        meta = self.meta_path("")
        if (meta.exists() or meta.is_symlink()) and not meta.is_dir():
            raise StoreError(meta, "is not a folder: move it aside, then load again")

    @contextlib.contextmanager
    def locked(self, *, shared: bool = False) -> Iterator[None]:
        """Hold the store's inter-process lock (``{root}/.lock``) for a read-merge-write.

        Parameters
        ----------
        shared : bool, default False
            A reader's lock: readers share it, a writer waits for them (on Windows, where
            ``msvcrt`` has no shared mode, readers wait for each other too). A reader of a
            store it cannot write reads without it.

        Notes
        -----
        ``fcntl.flock`` (``msvcrt.locking`` on Windows) on a lock file: a lock held by a
        process that dies is released with it. Nested holds in one thread take the lock once
        (the outer one's mode); it is never held across an ``await``.
        """
        depth, key = self._holds()
        if depth.get(key):
            depth[key] += 1
            try:
                yield
            finally:
                depth[key] -= 1
            return
        fd = self._lock_file(shared)
        try:
            if fd is not None:  # None: a store this process cannot write, read as it stands
                self._acquire(fd, shared)
            depth[key] = 1
            try:
                yield
            finally:
                depth[key] = 0
                if fd is not None:
                    _unlock(fd)
        finally:
            if fd is not None:
                os.close(fd)

    def _holds(self) -> tuple[dict[str, int], str]:
        """This thread's lock depths by store, and this store's key among them."""
        depth: dict[str, int] = _held.__dict__.setdefault("depth", {})
        return depth, os.path.abspath(self.path)

    def _held_here(self) -> bool:
        """Whether this thread holds the store's lock (a write inside a load's chunk)."""
        depth, key = self._holds()
        return bool(depth.get(key))

    def _acquire(self, fd: int, shared: bool) -> None:
        try:
            _lock(fd, shared)
        except OSError as exc:  # a file system without locks (some network mounts)
            raise StoreError(self.path / LOCK_NAME, f"could not be locked ({reason(exc)})") from exc

    def _lock_file(self, shared: bool) -> int | None:
        if not shared:
            return open_lock(self.path)
        path = self.path / LOCK_NAME
        try:
            return os.open(path, os.O_RDWR | os.O_CREAT | BINARY, 0o600)
        except OSError:
            pass
        try:
            return os.open(path, os.O_RDONLY | BINARY)
        except OSError:
            return None  # nothing here, or nothing this process may open: no writer through it

    # --- reading -----------------------------------------------------------------------------

    def files(self, provider: str | None = None) -> list[Path]:
        """The store's parquet files, of one provider or of all, in path order."""
        if provider is not None:
            # The name as stored (lower case): "Twilio" is accepted, so it must find twilio's.
            provider = validate.choice(provider, "provider", PROVIDERS)
        pattern = (
            f"provider={provider}/*/*/{FILE_NAME}" if provider else f"provider=*/*/*/{FILE_NAME}"
        )
        return sorted(self.path.glob(pattern))

    def scan(self, providers: str | Iterable[str] | None = None) -> pl.LazyFrame:
        """All stored rows as a LazyFrame with exactly the unified schema.

        Every file is checked as it is scanned (:func:`scan_file`): a damaged or foreign one
        is a StoreError naming it. Collect through :meth:`collect` (or use :meth:`read`) to
        have a file damaged inside its data named too.
        """
        names = validate.providers(providers)
        frames = [scan_file(f) for name in names for f in self.files(name)]
        return pl.concat(frames) if frames else pl.LazyFrame(schema=SCHEMA)

    def collect(self, query: pl.LazyFrame) -> pl.DataFrame:
        """``query``, a query over :meth:`scan`, collected; a stored file found damaged only
        when its data is read (a cut page, a value its column cannot hold) is a StoreError
        naming it."""
        try:
            return query.collect()
        except (OSError, pl.exceptions.PolarsError) as exc:
            damaged = self._damaged_file()
            if damaged is None:
                raise
            raise damaged from exc

    def _damaged_file(self) -> StoreError | None:
        """The first stored file that cannot be read whole, as the error naming it."""
        for path in self.files():
            try:
                scan_file(path).collect()
            except StoreError as exc:
                return exc
            except (OSError, pl.exceptions.PolarsError) as exc:
                return _damaged(path, f"cannot be read ({reason(exc)})")
        return None

    def read(self, providers: str | Iterable[str] | None = None) -> pl.DataFrame:
        """All stored rows (see :meth:`scan`), read under the store's shared lock, so a
        concurrent write is seen whole or not at all."""
        with self.locked(shared=True):
            return self.collect(self.scan(providers))

    def newest(
        self,
        provider: str,
        kind: str | Iterable[str] | None = None,
        *,
        accounts: Iterable[str] | None = None,
    ) -> dt.datetime | None:
        """The newest stored ``created_at`` for a provider (and kind, or any of several; and
        rows whose ``account_id`` is among ``accounts``, when given)."""
        provider = validate.choice(provider, "provider", PROVIDERS)
        if kind is not None and not isinstance(kind, str | list | tuple | set | frozenset):
            raise ConfigError("kind", f"a kind or a collection of kinds among {list(KINDS)}", kind)
        kinds = [kind] if isinstance(kind, str) else None if kind is None else list(kind)
        kinds = None if kinds is None else [validate.choice(k, "kind", KINDS) for k in kinds]
        with self.locked(shared=True):
            lazy = self.scan(provider)
            if kinds is not None:
                lazy = lazy.filter(pl.col("kind").is_in(list(kinds)))
            if accounts is not None:
                lazy = lazy.filter(pl.col("account_id").is_in(list(accounts)))
            value = self.collect(lazy.select(pl.col("created_at").max())).item()
        return value if isinstance(value, dt.datetime) else None

    # --- writing -----------------------------------------------------------------------------

    def upsert(self, frame: pl.DataFrame) -> UpsertReport:
        """Insert new rows and replace changed ones, keyed by ``(provider, recording_id)``.

        ``frame`` is a unified frame (DataFrame or LazyFrame); missing columns are null, but
        every row needs its provider: the files are partitioned by it, and a row without one
        would be written where no read finds it. A recording whose ``created_at`` moved to
        another month (or was null before) leaves its old partition: it is counted as updated,
        and the store keeps one row per ``(provider, recording_id)``. Within ``frame`` the last
        row of a recording wins.
        """
        if isinstance(frame, pl.LazyFrame):
            frame = frame.collect()
        if not isinstance(frame, pl.DataFrame):
            # The type, not the value: a pandas frame's repr is its whole table.
            raise ConfigError(
                "frame", "a unified polars DataFrame or LazyFrame", type(frame).__name__
            )
        # Refused, never stored changed (as a fraction is below): nulled here, the store would
        # differ from the frame its caller holds, with no word.
        refuse_negative_numbers(frame, "frame")
        if frame.schema != SCHEMA:
            refuse_changed_numbers(frame, "frame")
            try:
                frame = conform(
                    conform_dtypes(frame.lazy(), parameter="frame", strict_numbers=True)
                ).collect()
            except pl.exceptions.InvalidOperationError as exc:
                raise ConfigError(
                    "frame",
                    "a unified frame: provider among "
                    + ", ".join(PROVIDERS)
                    + ", kind among "
                    + ", ".join(KINDS),
                    str(exc).splitlines()[0],
                ) from None
        missing = frame["provider"].null_count()
        if missing:
            raise ConfigError(
                "frame",
                "a frame whose provider column is set on every row",
                f"{missing} of {frame.height} rows without a provider",
            )
        if frame.height == 0:
            return UpsertReport()
        if not self._held_here():
            # A store that cannot be written is named as store= and refresh name it; a load
            # writing chunk by chunk checked it before its first request, and holds the lock.
            self.check_writable()
        try:
            with self.locked():
                return self._write(frame)
        except StoreError as exc:
            exc.partial = frame  # the rows the caller would otherwise lose
            raise

    def _write(self, frame: pl.DataFrame) -> UpsertReport:
        """The read-merge-write of :meth:`upsert`, under the store's lock."""
        report = UpsertReport()
        # A blank id is no id: such rows are kept as rows without one, never merged by "".
        frame = frame.with_columns(present("recording_id"))
        keyed = pl.col("recording_id").is_not_null()
        frame = pl.concat(
            [
                frame.filter(keyed).unique(
                    ["provider", "recording_id"], keep="last", maintain_order=True
                ),
                frame.filter(~keyed),
            ]
        )
        targets = {
            self._target(str(provider), int(year), int(month)): part.drop(PARTITIONS)
            for (provider, year, month), part in (
                _partition_values(frame).partition_by(PARTITIONS, as_dict=True).items()
            )
        }
        stale, moved = self._elsewhere(targets)
        for target, part in targets.items():
            report += self._merge(target, part)
        # Written before the old copies go: a crash in between leaves a duplicate (removed when
        # that recording is next upserted), never a recording missing from the store.
        for path, ids in stale.items():
            self._remove(path, ids)
        report.inserted -= moved
        report.updated += moved
        return report

    def _target(self, provider: str, year: int, month: int) -> Path:
        return (
            self.path / f"provider={provider}" / f"year={year}" / f"month={month:02d}" / FILE_NAME
        )

    def _elsewhere(self, targets: dict[Path, pl.DataFrame]) -> tuple[dict[Path, set[str]], int]:
        """Copies of the new recordings stored in partitions other than their new one.

        Returns the ids to remove per file, and how many recordings only such a copy held
        (the merge counts those as inserted; they are updates). Only the ``recording_id``
        column of the other partitions is read.
        """
        wanted = pl.concat(
            [
                part.select(
                    "recording_id", provider=pl.lit(path.parts[-4]), target=pl.lit(str(path))
                )
                for path, part in targets.items()
            ]
        ).drop_nulls("recording_id")
        stale: dict[Path, set[str]] = {}
        moved = 0
        for folder, ids in wanted.partition_by("provider", as_dict=True).items():
            files = sorted((self.path / str(folder[0])).glob(f"*/*/{FILE_NAME}"))
            if not files:
                continue
            found = self.collect(
                pl.concat(
                    [
                        scan_file(f).select("recording_id").with_columns(path=pl.lit(str(f)))
                        for f in files
                    ]
                ).join(ids.lazy().select("recording_id", "target"), on="recording_id")
            )
            other = found.filter(pl.col("path") != pl.col("target"))
            for (path,), rows in other.partition_by("path", as_dict=True).items():
                stale[Path(str(path))] = set(rows["recording_id"])
            in_target = found.filter(pl.col("path") == pl.col("target"))["recording_id"]
            moved += other.filter(~pl.col("recording_id").is_in(in_target.implode()))[
                "recording_id"
            ].n_unique()
        return stale, moved

    def _remove(self, path: Path, ids: set[str]) -> None:
        kept = self.collect(
            scan_file(path)
            .select(STORED)
            .filter(~pl.col("recording_id").is_in(list(ids)).fill_null(False))
        )
        if kept.height:
            private_write(path, kept.write_parquet)
        else:
            path.unlink()

    def _merge(self, target: Path, new: pl.DataFrame) -> UpsertReport:
        columns = STORED
        keyed = pl.col("recording_id").is_not_null()
        new = new.select(columns)
        new_keyed = new.filter(keyed).unique("recording_id", keep="last", maintain_order=True)
        # An older file is read as the schema stands (columns it lacks null) and written so.
        exists = target.exists() or target.is_symlink()
        old = self.collect(scan_file(target).select(columns)) if exists else new.clear()
        old = old.with_columns(present("recording_id"))  # "" stored by an older version
        old_keyed = old.filter(keyed)
        # Rows without an id cannot be matched: they are kept once each, by their whole value
        # (a refresh reads them again every time it overlaps them).
        old_unkeyed = old.filter(~keyed)
        new_unkeyed = new.filter(~keyed)
        distinct = new_unkeyed.unique(maintain_order=True)
        if copies := new_unkeyed.height - distinct.height:
            warn_user(
                f"store: {copies} rows without a recording_id repeat another row of the frame "
                "in every column; each such row is stored once"
            )
        stored = distinct.join(old_unkeyed, on=columns, how="semi", nulls_equal=True).height
        unkeyed = pl.concat([old_unkeyed, distinct]).unique(maintain_order=True)
        matched = new_keyed.join(old_keyed, on="recording_id", how="semi").height
        unchanged = new_keyed.join(old_keyed, on=columns, how="semi", nulls_equal=True).height
        report = UpsertReport(
            inserted=new_keyed.height - matched + distinct.height - stored,
            updated=matched - unchanged,
            unchanged=unchanged + stored,
        )
        if report.inserted or report.updated:
            kept = old_keyed.join(new_keyed, on="recording_id", how="anti")
            merged = pl.concat([kept, new_keyed, unkeyed]).sort(
                "created_at", "recording_id", nulls_last=True
            )
            private_write(target, merged.write_parquet)
        return report

    def mark_unlisted(
        self,
        provider: str,
        since: dt.datetime,
        until: dt.datetime,
        listed: Iterable[str],
        *,
        kinds: Iterable[str] | None = None,
        accounts: Iterable[str] | None = None,
    ) -> int:
        """Mark ``deleted`` the stored rows of ``provider`` created in ``[since, until)`` whose
        ``recording_id`` is not among ``listed``: what a complete listing of that period says
        of a provider that drops deleted recordings from it.

        Only rows with an id and a ``created_at`` are marked (rows without one cannot be
        matched, or placed in the period), only those of ``kinds`` and whose ``account_id`` is
        among ``accounts`` when given, and only those not marked already. Their ``deleted_at``
        is left as it was (null: when they went is not known); every other column too, so an
        upsert of the recording listed again replaces the row whole. Runs under the store's
        lock; reads and rewrites only the months ``[since, until)`` touches.

        Returns
        -------
        int
            The rows marked.

        Examples
        --------
        >>> import datetime as dt
        >>> files = ParquetStore("rows")
        >>> rows = ra.demo(size=50).filter(pl.col("provider") == "plivo")
        >>> _ = files.upsert(rows)
        >>> start, end = dt.datetime(2000, 1, 1, tzinfo=dt.UTC), dt.datetime.now(dt.UTC)
        >>> files.mark_unlisted("plivo", start, end, rows["recording_id"][1:]) == 1
        True
        """
        provider = validate.choice(provider, "provider", PROVIDERS)
        bounds = []
        for name, value in (("since", since), ("until", until)):
            if not isinstance(value, dt.datetime) or value.tzinfo is None:
                raise ConfigError(name, "a timezone-aware datetime", value)
            bounds.append(value.astimezone(dt.UTC))  # a named zone cannot meet UTC in polars
        since, until = bounds
        # A lone id would be read character by character (every row marked, the id's too).
        if isinstance(listed, str | bytes) or not isinstance(listed, Iterable):
            raise ConfigError("listed", "a collection of recording ids (str)", listed)
        listed = list(listed)
        if not all(isinstance(i, str) for i in listed):
            raise ConfigError("listed", "a collection of recording ids (str)", listed[:5])
        created, rid = pl.col("created_at"), present("recording_id")
        gone = (
            rid.is_not_null()
            & ~rid.is_in(listed)
            & created.is_not_null()
            & (created >= since)
            & (created < until)
            & (pl.col("status").fill_null("") != "deleted")
        )
        if kinds is not None:
            gone &= pl.col("kind").cast(pl.String).is_in(list(kinds)).fill_null(False)
        if accounts is not None:
            gone &= pl.col("account_id").is_in(list(accounts)).fill_null(False)
        marked = 0
        with self.locked():
            for path in self.files(provider):
                if not _month_overlaps(path, since, until):
                    continue
                # Counted first: a chunk usually marks nothing, and then no month is read whole.
                count = self.collect(scan_file(path).select(STORED).select(gone.sum())).item()
                if not count:
                    continue
                rows = self.collect(scan_file(path).select(STORED))
                status = pl.when(gone).then(pl.lit("deleted")).otherwise(pl.col("status"))
                private_write(path, rows.with_columns(status=status).write_parquet)
                marked += count
        return marked

    # --- metadata ----------------------------------------------------------------------------

    def meta_path(self, name: str) -> Path:
        """Where the metadata file ``name`` lives (``_meta/`` itself for ``""``)."""
        return self.path / "_meta" / name

    def _meta_file(self, name: Any) -> Path:
        """:meth:`meta_path` of ``name``, a plain file name: a path ("../x", "/etc/x") would
        reach files outside the store."""
        if not isinstance(name, str) or name in ("", ".", "..") or any(c in name for c in "/\\\0"):
            raise ConfigError(
                "name", "a metadata file name (no folders), such as 'coverage.json'", name
            )
        return self.meta_path(name)

    def read_meta(self, name: str, *, quiet: bool = False) -> Any:
        """The JSON value of the metadata file ``name``; None when it is missing, and also when
        it cannot be read or parsed (a LoadWarning names it, unless ``quiet``: a caller that
        read it before and warned then): what it recorded is then unknown, so the caller loads
        again rather than trust it."""
        path = self._meta_file(name)
        try:
            text = path.read_text()
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as exc:
            if not quiet:
                self.distrust(name, f"cannot be read ({reason(exc)})")
            return None
        try:
            return json.loads(text)
        except ValueError as exc:
            if not quiet:
                self.distrust(name, f"is not valid JSON ({reason(exc)})")
            return None

    def distrust(self, name: str, problem: str) -> None:
        """Warn that the metadata file ``name`` is ignored, and why."""
        warn_user(
            f"{self.meta_path(name)} {problem}: ignored, so what it recorded is loaded again "
            "(it is rewritten when the load finishes)"
        )

    def write_meta(self, name: str, value: Any) -> None:
        write_json(self._meta_file(name), value)

    def clear_meta(self, name: str) -> None:
        path = self._meta_file(name)
        try:
            path.unlink(missing_ok=True)
        except OSError as exc:
            raise StoreError(path, f"could not be removed ({reason(exc)})") from exc
