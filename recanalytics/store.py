"""A local store of unified rows: hive-partitioned parquet that polars, DuckDB or Spark read.

Layout: ``{root}/provider={p}/year={yyyy}/month={mm}/data.parquet``; the partition columns are
in the path, not in the files (as hive readers expect). Rows are upserted by
``(provider, recording_id)``. Every file is written to a temporary name and renamed into place,
so a reader never sees half a file, and is created readable by the user only.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from recanalytics import validate
from recanalytics.errors import ConfigError
from recanalytics.helpers._common import conform_dtypes
from recanalytics.schema import KINDS, PROVIDERS, SCHEMA, ProviderEnum, conform

PARTITIONS = ("provider", "year", "month")
FILE_NAME = "data.parquet"
NULL_MONTH = 0  # rows without created_at live under year=0/month=0
MAX_OVERLAP = dt.timedelta(days=366)
"""The largest ``overlap`` a store accepts: a year of status changes, whatever the calendar."""


def default_path() -> Path:
    """``recanalytics/store`` under the user's cache directory (platformdirs)."""
    import platformdirs

    return Path(platformdirs.user_cache_dir("recanalytics")) / "store"


def private_write(path: Path, write: Any) -> None:
    """Write through ``write(tmp_path)`` to a temporary sibling, make it user-only, rename it."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json(path: Path, value: Any) -> None:
    private_write(
        path, lambda tmp: tmp.write_text(json.dumps(value, indent=2, sort_keys=True, default=str))
    )


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

    # --- reading -----------------------------------------------------------------------------

    def files(self, provider: str | None = None) -> list[Path]:
        if provider is not None:
            validate.choice(provider, "provider", PROVIDERS)
        pattern = (
            f"provider={provider}/*/*/{FILE_NAME}" if provider else f"provider=*/*/*/{FILE_NAME}"
        )
        return sorted(self.path.glob(pattern))

    def scan(self, providers: str | Iterable[str] | None = None) -> pl.LazyFrame:
        """All stored rows as a LazyFrame with exactly the unified schema."""
        names = validate.providers(providers)
        files = [f for name in names for f in self.files(name)]
        if not files:
            return pl.LazyFrame(schema=SCHEMA)
        lazy = pl.scan_parquet(files, hive_partitioning=True)
        return conform(lazy.with_columns(pl.col("provider").cast(pl.String).cast(ProviderEnum)))

    def read(self, providers: str | Iterable[str] | None = None) -> pl.DataFrame:
        """All stored rows (see :meth:`scan`)."""
        return self.scan(providers).collect()

    def newest(self, provider: str, kind: str | None = None) -> dt.datetime | None:
        """The newest stored ``created_at`` for a provider (and kind)."""
        validate.choice(provider, "provider", PROVIDERS)
        if kind is not None:
            validate.choice(kind, "kind", KINDS)
        lazy = self.scan(provider)
        if kind is not None:
            lazy = lazy.filter(pl.col("kind") == kind)
        value = lazy.select(pl.col("created_at").max()).collect().item()
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
            raise ConfigError("frame", "a unified polars DataFrame or LazyFrame", frame)
        if frame.schema != SCHEMA:
            try:
                frame = conform(conform_dtypes(frame.lazy(), parameter="frame")).collect()
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
        report = UpsertReport()
        if frame.height == 0:
            return report
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
            found = (
                pl.concat(
                    [
                        pl.scan_parquet(f).select("recording_id").with_columns(path=pl.lit(str(f)))
                        for f in files
                    ]
                )
                .join(ids.lazy().select("recording_id", "target"), on="recording_id")
                .collect()
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
        kept = pl.read_parquet(path).filter(
            ~pl.col("recording_id").is_in(list(ids)).fill_null(False)
        )
        if kept.height:
            private_write(path, kept.write_parquet)
        else:
            path.unlink()

    def _merge(self, target: Path, new: pl.DataFrame) -> UpsertReport:
        columns = [c for c in SCHEMA.names() if c != "provider"]
        keyed = pl.col("recording_id").is_not_null()
        new = new.select(columns)
        new_keyed = new.filter(keyed).unique("recording_id", keep="last", maintain_order=True)
        old = pl.read_parquet(target).select(columns) if target.exists() else new.clear()
        old_keyed = old.filter(keyed)
        # Rows without an id cannot be matched: they are kept once each, by their whole value.
        old_unkeyed = old.filter(~keyed)
        unkeyed = pl.concat([old_unkeyed, new.filter(~keyed)]).unique(maintain_order=True)
        matched = new_keyed.join(old_keyed, on="recording_id", how="semi").height
        unchanged = new_keyed.join(old_keyed, on=columns, how="semi", nulls_equal=True).height
        report = UpsertReport(
            inserted=new_keyed.height - matched + unkeyed.height - old_unkeyed.height,
            updated=matched - unchanged,
            unchanged=unchanged,
        )
        if report.inserted or report.updated:
            kept = old_keyed.join(new_keyed, on="recording_id", how="anti")
            merged = pl.concat([kept, new_keyed, unkeyed]).sort(
                "created_at", "recording_id", nulls_last=True
            )
            private_write(target, merged.write_parquet)
        return report

    # --- metadata ----------------------------------------------------------------------------

    def _meta(self, name: str) -> Path:
        return self.path / "_meta" / name

    def read_meta(self, name: str) -> Any:
        path = self._meta(name)
        return json.loads(path.read_text()) if path.exists() else None

    def write_meta(self, name: str, value: Any) -> None:
        write_json(self._meta(name), value)

    def clear_meta(self, name: str) -> None:
        self._meta(name).unlink(missing_ok=True)
