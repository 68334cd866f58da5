"""Archiving everything a provider account holds: every listing, optionally every media file.

The archive folder holds, for each of the provider's loaders (Twilio: track recordings and
compositions): the unified rows (parquet and CSV, all loaders together), the provider's own rows
with every field it sent (parquet, ``{part}_raw.parquet``), optional media files, and
``manifest.json`` with counts, totals and a SHA-256 for every file. What to archive comes from
the provider table; a provider whose spec has an :class:`~recanalytics.providers.base.Archival`
(Twilio: Programmable Video retires) is the one the CLI offers.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import importlib.metadata
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import polars as pl

from recanalytics import validate
from recanalytics.checksum import sha256_file
from recanalytics.errors import (
    ArchiveWarning,
    ConfigError,
    ProviderError,
    StoreError,
    reason,
    warn_user,
)
from recanalytics.helpers._common import counted
from recanalytics.incremental import FIRST_RUN_SINCE
from recanalytics.media import adownload_media
from recanalytics.options import resolve
from recanalytics.probe import _import_av, probe_media
from recanalytics.providers.base import Loader
from recanalytics.providers.registry import loaders_of, spec_for
from recanalytics.schema import PENDING, conform
from recanalytics.store import private_write, write_json
from recanalytics.sync import syncify
from recanalytics.verify import UNAVAILABLE, verify_media
from recanalytics.windows import WhenLike, parse_range

MANIFEST = "manifest.json"
VERIFICATION = "verification.parquet"


def csv_ready(frame: pl.DataFrame) -> pl.DataFrame:
    """Durations as seconds and enums as text, so a spreadsheet reads the CSV as is."""
    durations = [name for name, dtype in frame.schema.items() if dtype == pl.Duration]
    return frame.with_columns(
        [(pl.col(name).dt.total_milliseconds() / 1000).alias(f"{name}_s") for name in durations]
        + [pl.col(pl.Enum, pl.Categorical).cast(pl.String)]
    ).drop(durations)


def _totals(frame: pl.DataFrame) -> dict[str, Any]:
    by_status = frame.group_by("status").len().sort("status")
    return {
        "recordings": frame.height,
        "hours": round((frame["duration"].dt.total_milliseconds().sum() or 0) / 3_600_000, 3),
        "bytes": int(frame["size_bytes"].sum() or 0),
        "by_status": {str(s): int(n) for s, n in by_status.iter_rows()},
        "created_from": str(frame["created_at"].min()) if frame.height else None,
        "created_until": str(frame["created_at"].max()) if frame.height else None,
    }


async def _rows_and_raw(
    loader: Loader[Any], since: dt.datetime, until: dt.datetime | None, options: dict[str, Any]
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """One loader's unified rows and its provider's own rows, from one walk of the API.

    Loading twice (unified, then ``raw=True``) would double the requests an archive spends of
    the account's shared rate limit, and warn twice about the same records.
    """
    try:
        raw = await loader.load(since=since, until=until, **options, raw=True)
    except ProviderError as error:
        if error.partial is not None:  # the rows loaded so far, in the unified form promised
            error.partial = loader.unify(error.partial, options)
        raise
    return loader.unify(raw, options), raw


def _with_every_row(failures: list[BaseException], complete: list[pl.DataFrame]) -> BaseException:
    """The error an archive raises when a load failed: the first provider error, carrying in
    ``partial`` the unified rows of every load (those that completed and what the failed ones
    had), so a failed archive of two lists loses neither; a bug or a cancellation as it is."""
    error = next((f for f in failures if not isinstance(f, ProviderError)), failures[0])
    if isinstance(error, ProviderError):
        partial = [f.partial for f in failures if isinstance(f, ProviderError)]
        frames = [*complete, *(p for p in partial if p is not None)]
        error.partial = pl.concat(frames) if frames else error.partial
    return error


async def aarchive(
    provider: str,
    out: str | os.PathLike[str],
    *,
    media: bool = False,
    verify: bool = False,
    since: WhenLike | None = None,
    until: WhenLike | None = None,
    **options: Any,
) -> dict[str, Any]:
    """Archive everything ``provider``'s account holds, every loader of it, into ``out``.

    Parameters
    ----------
    provider : str
        A provider name (:data:`recanalytics.PROVIDERS`).
    out : path
        The archive folder (created). Run again into it, the archive keeps what an earlier
        run archived that the provider no longer lists, and the files it saved.
    media : bool, default False
        Also download every available media file (resumable: run again to finish).
    verify : bool, default False
        With ``media``: decode every file and compare it with its metadata
        (:func:`~recanalytics.verify_media`; needs the ``media`` extra). The per-file outcome
        goes to ``verification.parquet``, the totals and a one-line ``verdict`` to the
        manifest's ``verification``.
    since, until : optional
        Default: from where the provider's history starts (its spec's
        :class:`~recanalytics.providers.base.Archival`, else 2015-01-01) until now.
    **options
        Loader options (``credentials``, ``base_url``, ``transport``, ``progress`` …).

    Returns
    -------
    dict
        The manifest that was written to ``out/manifest.json``: one entry of totals per loader
        (``tracks``, ``calls_conferences`` …, see :attr:`~recanalytics.providers.base.Loader.part`).

    Raises
    ------
    ConfigError
        Before any request, for a bad option or an ``out`` that cannot be written.
    ProviderError
        A list could not be loaded whole; ``partial`` holds the unified rows loaded.
    StoreError
        A file could not be written after the load (a full disk …); ``partial`` holds every
        unified row loaded, and media files already downloaded stay for the next run.

    Examples
    --------
    >>> import asyncio
    >>> from recanalytics.archive import aarchive
    >>> archive = aarchive("plivo", "plivo-archive", since="2025-01-01", **box.options("plivo"))
    >>> manifest = asyncio.run(archive)
    >>> manifest["provider"], manifest["calls_conferences"]["recordings"] > 0
    ('plivo', True)
    """
    spec = spec_for(provider)
    loaders = loaders_of(provider)
    root = validate.folder(out, "out")
    validate.boolean(media, "media")
    validate.boolean(verify, "verify")
    if verify and not media:
        raise ConfigError("verify", "used together with media=True", verify)
    if verify:
        _import_av()  # fail before loading anything when PyAV is missing
    start, end = parse_range(since, until)
    start = start or (spec.archive.since if spec.archive else FIRST_RUN_SINCE)
    if "raw" in options:
        raise ConfigError("raw", "left out: an archive keeps both the raw and unified rows", True)
    resolve(spec, options)  # every loader option checked before the folder or any request
    validate.made_folder(root, "out", private=True)  # not after loading: the rows would be lost
    if media:
        validate.made_folder(root / "media", "out", private=True)
    outcomes = await asyncio.gather(
        *(_rows_and_raw(loader, start, end, options) for loader in loaders),
        return_exceptions=True,
    )
    loaded = [o for o in outcomes if not isinstance(o, BaseException)]
    failures = [o for o in outcomes if isinstance(o, BaseException)]
    if failures:
        raise _with_every_row(failures, [rows for rows, _ in loaded])
    parts = {loader.part: pair for loader, pair in zip(loaders, loaded, strict=True)}
    listed = pl.concat([rows.select("provider", "recording_id") for rows, _ in parts.values()])
    kept = _keep_earlier_rows(root, provider, loaders, parts)
    unified = pl.concat([rows for rows, _ in parts.values()])
    # What an earlier run archived that is not listed now: no media to ask for.
    gone = ~pl.struct("provider", "recording_id").is_in(listed.to_struct().implode())
    try:
        return await _write(
            root, provider, (start, end), parts, unified, media, verify, options, kept, gone
        )
    except StoreError as exc:
        exc.partial = unified  # everything loaded, though it could not all be written
        raise
    except OSError as exc:
        where = exc.filename or root
        raise StoreError(where, f"could not be written ({reason(exc)})", partial=unified) from exc


def _earlier(path: Path) -> pl.DataFrame | None:
    """A table an earlier run of the archive wrote, or None (none, a link, unreadable)."""
    if not path.is_file() or path.is_symlink():
        return None
    try:
        return pl.read_parquet(path)
    except (OSError, pl.exceptions.PolarsError) as exc:
        warn_user(
            f"{path.name} from an earlier run could not be read ({reason(exc)}); the rows it "
            "held that are no longer listed are not kept",
            ArchiveWarning,
        )
        return None


def _keep_earlier_rows(
    root: Path,
    provider: str,
    loaders: Sequence[Loader[Any]],
    parts: dict[str, tuple[pl.DataFrame, pl.DataFrame]],
) -> dict[str, int]:
    """Add to ``parts`` the rows an earlier run archived that the API no longer lists.

    A recording deleted on the provider, or one whose listing expired, is not lost from an
    archive run again: run it once more before a shutdown, to fetch media still pending, and
    the first run's rows stay (their media files too, see :func:`_held_earlier`). Rows listed
    now replace their earlier copies; an earlier raw row is kept with its unified row. Tables
    an earlier run left that cannot be read as such (another schema, damaged) are said in an
    :class:`ArchiveWarning` and not merged. Returns how many rows were kept per part.
    """
    recordings = _earlier(root / "recordings.parquet")
    kept: dict[str, int] = {}
    for loader in loaders:
        rows, raw = parts[loader.part]
        kept[loader.part] = 0
        if recordings is None:
            continue
        id_column = loader.endpoint.id_column
        try:
            earlier = (
                conform(recordings)
                .filter(
                    (pl.col("provider") == provider)
                    & pl.col("kind").cast(pl.String).is_in(list(loader.kinds))
                    & pl.col("recording_id").is_not_null()
                    & ~pl.col("recording_id").is_in(rows["recording_id"].drop_nulls().implode())
                )
                .collect()
            )
            if earlier.height == 0:
                continue
            raw_file = _earlier(root / f"{loader.part}_raw.parquet")
            earlier_raw = None
            if raw_file is not None and id_column in raw_file.columns:
                earlier_raw = raw_file.filter(
                    pl.col(id_column).cast(pl.String).is_in(earlier["recording_id"].implode())
                )
                # Earlier values in this run's types where they fit, else as they were: a
                # widened type would change this run's rows (an integer column become text).
                shared = [c for c in earlier_raw.columns if c in raw.columns]
                earlier_raw = earlier_raw.with_columns(
                    pl.col(c).cast(raw.schema[c]) for c in shared
                )
                raw = pl.concat([raw, earlier_raw], how="diagonal")
            rows = pl.concat([rows, earlier])
        except pl.exceptions.PolarsError as exc:
            warn_user(
                f"{loader.part}: rows an earlier run archived could not be read beside this "
                f"run's ({reason(exc)}); the tables now hold what is listed, the earlier files "
                "are replaced",
                ArchiveWarning,
            )
            continue
        kept[loader.part] = earlier.height
        parts[loader.part] = (rows, raw)
    return kept


def _held_earlier(result: pl.DataFrame, gone: pl.Series) -> pl.DataFrame:
    """``download_media``'s result, with the files an earlier run saved counted as held.

    ``gone`` marks the rows no longer listed (their media URL was not asked for). A file still
    on disk for a row unavailable now (deleted since, or no longer listed) is ``kept``, its
    size filled; one for a row whose fetch failed (a file of another size than the provider
    states is fetched again every run) stays ``failed``, with its size: the archive holds it,
    but it is not known to be whole.
    """
    on_disk = pl.Series(
        [
            path is not None and Path(path).is_file() and not Path(path).is_symlink()
            for path in result["path"].to_list()
        ],
        dtype=pl.Boolean,
    )
    sizes = pl.Series(
        [
            Path(p).stat().st_size if d else None
            for p, d in zip(result["path"], on_disk, strict=True)
        ],
        dtype=pl.Int64,
    )
    unavailable = result["status"] == "unavailable"
    return result.with_columns(
        status=pl.when(unavailable & on_disk).then(pl.lit("kept")).otherwise(pl.col("status")),
        bytes=pl.when(on_disk & result["bytes"].is_null()).then(sizes).otherwise(pl.col("bytes")),
        error=pl.when(gone & ~on_disk)
        .then(pl.lit("no longer listed by the provider, and no file from an earlier run"))
        .otherwise(pl.col("error")),
    )


async def _write(
    root: Path,
    provider: str,
    period: tuple[dt.datetime, dt.datetime | None],
    parts: dict[str, tuple[pl.DataFrame, pl.DataFrame]],
    unified: pl.DataFrame,
    media: bool,
    verify: bool,
    options: dict[str, Any],
    kept: dict[str, int],
    gone: pl.Expr,
) -> dict[str, Any]:
    """Write the loaded rows, download the media and write the manifest: the archive once its
    lists are loaded."""
    start, end = period
    files: dict[str, pl.DataFrame] = {"recordings.parquet": unified}
    files |= {f"{part}_raw.parquet": raw for part, (_, raw) in parts.items()}
    for name, frame in files.items():
        private_write(root / name, frame.write_parquet)
    private_write(root / "recordings.csv", csv_ready(unified).write_csv)
    created = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    manifest: dict[str, Any] = {
        "created": created,
        "recanalytics": importlib.metadata.version("recanalytics"),
        "provider": provider,
        # Without an until, the lists were read up to when the archive was made.
        "period": {"since": start.isoformat(), "until": end.isoformat() if end else created},
    }
    manifest |= {
        part: _totals(rows) | {"kept_from_earlier_runs": kept.get(part, 0)}
        for part, (rows, _) in parts.items()
    }
    if media:
        credentials = options.get("credentials")
        # Rows no longer listed have no media to ask for: only a file an earlier run saved.
        not_listed = unified.select(gone.alias("gone"))["gone"]
        asked = unified.with_columns(
            media_url=pl.when(not_listed).then(None).otherwise(pl.col("media_url"))
        )
        result = await adownload_media(
            asked,
            root / "media",
            credentials={provider: credentials} if credentials is not None else None,
            base_url=options.get("base_url"),
            transport=options.get("transport"),
            progress=options.get("progress"),
        )
        result = _held_earlier(result, not_listed)
        # Paths inside the archive folder, so the folder can be moved (or read from elsewhere).
        listed = result.with_columns(
            pl.col("path").map_elements(
                lambda p: Path(p).relative_to(root).as_posix(), return_dtype=pl.String
            )
        )
        private_write(root / "media.csv", listed.write_csv)
        counts = result.group_by("status").len().sort("status")
        manifest["media"] = {
            "files": {str(s): int(n) for s, n in counts.iter_rows()},
            "bytes": int(result["bytes"].sum() or 0),
        }
        # Recordings still being made have no media yet: the archive holds their rows, and says
        # it lacks their files (a run before a shutdown must not look complete).
        waiting = sorted(PENDING & UNAVAILABLE)  # download_media does not fetch them
        pending = unified.filter(pl.col("status").is_in(waiting) & ~not_listed).height
        manifest["media"]["pending"] = pending
        if pending:
            warn_user(
                f"{counted(pending)} {'is' if pending == 1 else 'are'} still being processed, "
                f"so {'its' if pending == 1 else 'their'} media cannot be downloaded yet; "
                f"run the archive again once {'it has' if pending == 1 else 'they have'} "
                "completed",
                ArchiveWarning,
            )
        failed = manifest["media"]["files"].get("failed", 0)
        if failed:
            # The archive is written, but not whole: an archive run before a shutdown must not
            # look complete when files are missing. Running it again resumes them.
            warn_user(
                f"{failed} of {result.height} media files could not be downloaded (their errors "
                f"are in media.csv); run the archive again to fetch them",
                ArchiveWarning,
            )
        if verify:
            probed = await asyncio.to_thread(probe_media, result, decode=True)
            check = verify_media(unified, probed)
            private_write(root / VERIFICATION, check.files.write_parquet)
            manifest["verification"] = {"verdict": check.verdict, **check.totals}
    # Only what this archive holds: other files in ``out`` (it may be any folder) are not ours
    # to hash, and media files are those download_media reported for this archive's rows
    # (downloaded, resumed or already there), not whatever an earlier archive left in media/.
    ours = [root / name for name in (*files, "recordings.csv")]
    if media:
        # A failed fetch may leave an earlier run's file (of another size than stated): the
        # archive holds it, though not known whole.
        held = result.filter(
            pl.col("status").is_in(["downloaded", "resumed", "skipped", "kept"])
            | ((pl.col("status") == "failed") & pl.col("bytes").is_not_null())
        )
        ours += [root / "media.csv", *(Path(p) for p in held["path"].to_list())]
        if verify:
            ours.append(root / VERIFICATION)
    manifest["files"] = {
        str(path.relative_to(root)): {"bytes": path.stat().st_size, "sha256": sha256_file(path)}
        for path in sorted(ours)
        # a symbolic link is never hashed as a file of the archive: it may point anywhere
        if path.is_file() and not path.is_symlink() and not path.name.endswith(".part")
    }
    write_json(root / MANIFEST, manifest)
    return manifest


archive = syncify(aarchive, "archive")
