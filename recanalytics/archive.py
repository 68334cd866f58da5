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
import dataclasses
import datetime as dt
import importlib.metadata
import json
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

import polars as pl

from recanalytics import clock, validate
from recanalytics.blank import present
from recanalytics.checksum import sha256_file
from recanalytics.errors import (
    ArchiveWarning,
    ConfigError,
    ProviderError,
    StoreError,
    UnfinishedArchiveError,
    reason,
    warn_user,
)
from recanalytics.helpers._common import counted, int64_sum
from recanalytics.helpers.summary import summarize
from recanalytics.incremental import FIRST_RUN_SINCE
from recanalytics.localfile import read_file
from recanalytics.media import adownload_media
from recanalytics.options import resolve
from recanalytics.probe import _import_av, probe_media
from recanalytics.providers.base import Doubt, Loader, doubts_noted, shown_windows
from recanalytics.providers.common import in_range
from recanalytics.providers.registry import loaders_of, reading_of, reread_since, spec_for
from recanalytics.schema import PENDING, SCHEMA, conform
from recanalytics.spreadsheet import FORMULA_START, QUOTE, write_spreadsheet_csv
from recanalytics.store import LOCK_NAME, Staging, held_alone, json_writer
from recanalytics.sync import syncify
from recanalytics.verify import UNAVAILABLE, verify_media
from recanalytics.windows import WhenLike, Window, parse_range

MANIFEST = "manifest.json"
BUSY = (
    f"another archive run is archiving into this folder (it holds {LOCK_NAME}): wait for it "
    "to finish, or archive into another folder"
)
"""What a run into a folder another run is archiving into is refused with (a StoreError)."""
VERIFICATION = "verification.parquet"
RECORDINGS = "recordings.parquet"
EARLIER_RAW = "_raw_earlier.parquet"  # after a part's name: raw rows a later listing changed
# A recording's state: the newest listing's, even where it leaves it null (deleted since, its
# media URL withdrawn).
STATE = ("status", "deleted_at", "media_url")
# Every other unified column is a fact of the recording (whose, when, what media, how long, how
# large, what it cost): a listing that no longer states one (a dying API listing a deleted
# recording as 0 s and 0 bytes) does not unmake it, so an archive keeps the earlier run's value.
FACTS = tuple(c for c in SCHEMA if c not in (*STATE, "provider", "kind", "recording_id"))


def _known_totals(frame: pl.DataFrame) -> dict[str, Any]:
    """Hours and bytes as ``summarize`` totals them: null where none is known (all-unknown is
    not 0) or the byte total passes Int64 (a plain sum wrapped 2**63 - 1 plus 1000 negative)."""
    hours, size = summarize(frame).select("total_hours", "total_size_bytes").row(0)
    return {
        "hours": None if hours is None else round(hours, 3),
        # An empty list holds 0 bytes (summarize's total hours of nothing is 0 too).
        "bytes": 0 if frame.height == 0 else size,
    }


def _totals(frame: pl.DataFrame) -> dict[str, Any]:
    by_status = frame.group_by("status").len().sort("status")
    return {
        "recordings": frame.height,
        **_known_totals(frame),
        "by_status": {str(s): int(n) for s, n in by_status.iter_rows()},
        "created_from": str(frame["created_at"].min()) if frame.height else None,
        "created_until": str(frame["created_at"].max()) if frame.height else None,
    }


class _Listed(NamedTuple):
    """One loader's listing in an archive run: its unified rows, its provider's own rows, and
    the queries of it that came back empty after the provider's retirement (see
    :class:`~recanalytics.providers.base.Doubt`)."""

    rows: pl.DataFrame
    raw: pl.DataFrame
    doubts: list[Doubt]


async def _rows_and_raw(
    loader: Loader[Any],
    since: dt.datetime | None,
    until: dt.datetime | None,
    options: dict[str, Any],
    raw_read: dict[str, pl.DataFrame],
) -> _Listed:
    """One loader's unified rows and its provider's own rows, from one walk of the API; a
    load that failed leaves the raw rows it read in ``raw_read`` (by :attr:`Loader.part`).

    Loading twice (unified, then ``raw=True``) would double the requests an archive spends of
    the account's shared rate limit, and warn twice about the same records.
    """
    try:
        with doubts_noted() as noted:
            raw = await loader.load(since=since, until=until, **options, raw=True)
    except ProviderError as error:
        if error.partial is not None:  # the rows loaded so far, in the unified form promised
            raw_read[loader.part] = error.partial
            error.partial = loader.unify(error.partial, options)
        raise
    return _Listed(loader.unify(raw, options), raw, noted.found)


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
        The archive folder (created). Run again into it, the archive only grows: it keeps
        what an earlier run archived that the provider no longer lists, the files it saved,
        the facts (:data:`FACTS`: duration, size …) a listing now leaves null, and each raw
        row this run's listing changed (``{part}_raw_earlier.parquet``); the newer status wins.
        One run at a time: a run holds ``out/.lock`` until it returns (:data:`BUSY`).
    media : bool, default False
        Also download every available media file (resumable: run again to finish).
    verify : bool, default False
        With ``media``: decode every file and compare it with its metadata
        (:func:`~recanalytics.verify_media`; needs the ``media`` extra). The per-file outcome
        goes to ``verification.parquet``, the totals and a one-line ``verdict`` to the
        manifest's ``verification``.
    since, until : optional
        Default: from where the provider's history starts (its spec's
        :class:`~recanalytics.providers.base.Archival`, else 2015-01-01) until now; a
        provider with an ``Archival`` is asked without a lower bound, as a load without
        ``since`` is, so a row dated before its start, or without a date, is archived too.
    **options
        Loader options (``credentials``, ``base_url``, ``transport``, ``progress`` …).

    Returns
    -------
    dict
        The manifest that was written to ``out/manifest.json``: one entry of totals per loader
        (``tracks``, ``calls_conferences`` …, see :attr:`~recanalytics.providers.base.Loader.part`),
        each saying how many rows the provider listed in this run (``listed_now``), how many
        rows earlier runs archived it did not list, kept (``kept_from_earlier_runs``; of them
        ``no_longer_listed``: those in this run's period) and how many listed rows kept an
        earlier run's facts (``kept_earlier_values``). An
        :class:`~recanalytics.errors.ArchiveWarning` says it when either of the last two is not 0.
        ``period`` is this run's (its ``until`` never past when the run was made: nothing
        later was listed), ``periods`` every period the archive's runs read (merged where they
        overlap or touch): the time between two is not in the archive. ``media``
        (with ``media``, else the last section a run with media wrote) gives each file's
        outcome, rows outside this run's period as an earlier run left them
        (``outside_period``; of them ``not_asked``: rows with media to fetch that no run
        fetched, which keep ``media_unfinished`` in the manifest and an ArchiveWarning says
        to archive their period with media). A run without ``media`` whose carried media
        section lacks rows with media to fetch says how many in ``media_not_asked`` (and an
        ArchiveWarning). After the provider's retirement a listing that came back empty,
        whole or in any query (a page with no rows, judged as each answer arrived), adds no
        period: ``listing_doubted`` names those queries (and an ArchiveWarning).

    Raises
    ------
    ConfigError
        Before any request, for a bad option, an ``out`` that cannot be written, or an ``out``
        holding another provider's archive (its manifest names it): one folder per provider.
    ProviderError
        A list could not be loaded whole; ``partial`` holds the unified rows loaded. They are
        also kept in ``out`` as a killed run's staged tables are (hidden, never in place, see
        :func:`_keep_read`), and the message says where and to run the archive again: the
        next run keeps them, and :func:`read_archive` returns them meanwhile.
    StoreError
        Before any request, writing nothing: another run is archiving into ``out`` (it holds
        ``out/.lock``; a run does not wait), or the lock cannot be taken there (a file system
        without locks). After the load: a file could not be written (a full disk …);
        ``partial`` holds every unified row loaded, and media files already downloaded stay
        for the next run. The tables and a manifest describing them are put in place
        together before the media step: a table that cannot be written leaves the earlier
        run's archive as it was; a failure (or Ctrl-C, a kill) in the media step leaves this
        run's listing in place, with the earlier run's media section, and
        ``media_unfinished`` in the manifest.

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
    root = validate.folder(out, "out")
    validate.boolean(media, "media")
    validate.boolean(verify, "verify")
    if verify and not media:
        raise ConfigError("verify", "used together with media=True", verify)
    if verify:
        _import_av()  # fail before loading anything when PyAV is missing
    start, end = parse_range(since, until)
    # Without since, an archivable provider's loaders are asked without one too: a load
    # without since reads down to the oldest row (below the provider's epoch, and rows
    # without a creation date), where a lower bound, however early, leaves those out.
    start = start or (spec.archive.since if spec.archive else FIRST_RUN_SINCE)
    asked = None if since is None and spec.archive else start
    if "raw" in options:
        raise ConfigError("raw", "left out: an archive keeps both the raw and unified rows", True)
    resolve(spec, options)  # every loader option checked before the folder or any request
    validate.made_folder(root, "out", private=True)  # not after loading: the rows would be lost
    # One run at a time into a folder, for its whole read-merge-write: two at once each merged
    # the earlier archive with its own listing, and the last to put its files in place dropped
    # what the other had just archived. Refused at once, before any request or file.
    with held_alone(root, BUSY):
        _refuse_another_provider(root, provider, out)
        if media:
            validate.made_folder(root / "media", "out", private=True)
        return await _load_and_write(provider, root, (start, end), asked, media, verify, options)


def _refuse_another_provider(root: Path, provider: str, out: Any) -> None:
    """Refuse, before any request, an archive of ``provider`` into a folder whose manifest
    says it is another provider's archive: a run keeps the earlier rows of its own provider
    only, so the other's rows would leave ``recordings.parquet`` and the manifest."""
    found = _earlier_manifest(root).get("provider")
    if isinstance(found, str) and found != provider:
        raise ConfigError(
            "out",
            f"a folder for {provider}'s archive: one folder per provider, and this one holds "
            f"{found}'s archive ({MANIFEST} says so)",
            os.fspath(out),
            hint=f"archive {provider} into another folder",
        )


async def _load_and_write(
    provider: str,
    root: Path,
    period: tuple[dt.datetime, dt.datetime | None],
    asked: dt.datetime | None,
    media: bool,
    verify: bool,
    options: dict[str, Any],
) -> dict[str, Any]:
    """The archive once its arguments are checked, under the folder's lock: load every list
    (from ``asked``; ``period`` is the run's as the manifest records it), merge what earlier
    runs archived, write."""
    loaders = loaders_of(provider)
    start, end = period
    raw_read: dict[str, pl.DataFrame] = {}
    outcomes = await asyncio.gather(
        *(_rows_and_raw(loader, asked, end, options, raw_read) for loader in loaders),
        return_exceptions=True,
    )
    loaded = [o for o in outcomes if not isinstance(o, BaseException)]
    failures = [o for o in outcomes if isinstance(o, BaseException)]
    if failures:
        error = _with_every_row(failures, [listed.rows for listed in loaded])
        if isinstance(error, ProviderError) and isinstance(error.partial, pl.DataFrame):
            for loader, outcome in zip(loaders, outcomes, strict=True):
                if isinstance(outcome, _Listed):
                    raw_read[loader.part] = outcome.raw
            _keep_read(root, provider, error, raw_read)
        raise error
    parts = {
        loader.part: (listed.rows, listed.raw)
        for loader, listed in zip(loaders, loaded, strict=True)
    }
    doubted = {
        loader.part: listed.doubts
        for loader, listed in zip(loaders, loaded, strict=True)
        if listed.doubts
    }
    listed = pl.concat([rows.select("provider", "recording_id") for rows, _ in parts.values()])
    older = _older_reading(root, provider)
    carried = _keep_earlier_rows(root, provider, loaders, parts, (asked, end), older=older)
    dropped = sum(c.not_carried for c in carried.values())
    if older is not None and dropped:
        warn_user(
            f"{root}: the earlier run read {provider}'s answers under an older reading "
            f"({f'reading {older}' if older else 'an older version, unrecorded'}; this version "
            f"reads them as {reading_of(provider)}): its values of "
            f"{', '.join(sorted(reread_since(provider, older)))} that this listing leaves out "
            f"({dropped:,} rows listed again) are not carried; its other values are, and rows "
            "it archived that are not listed now are kept as they were",
            ArchiveWarning,
        )
    _say_kept(provider, carried)
    if doubted:
        _say_doubted(provider, doubted, listed.height)
    unified = pl.concat([rows for rows, _ in parts.values()])
    # What an earlier run archived that is not listed now: no media to ask for. Of it, what
    # lies outside this run's period was not asked for: its media stays as an earlier run left it.
    unlisted = ~pl.struct("provider", "recording_id").is_in(listed.to_struct().implode())
    flags = unified.select(
        not_listed=unlisted, outside=unlisted & ~in_range(pl.col("created_at"), asked, end)
    ).with_columns(gone=pl.col("not_listed") & ~pl.col("outside"))
    try:
        return await _write(
            root,
            provider,
            (start, end),
            parts,
            unified,
            media,
            verify,
            options,
            carried,
            flags,
            doubted,
        )
    except StoreError as exc:
        exc.partial = unified  # everything loaded, though it could not all be written
        raise
    except OSError as exc:
        where = exc.filename or root
        raise StoreError(where, f"could not be written ({reason(exc)})", partial=unified) from exc


READING_KEY = "recanalytics.reading"
"""The parquet metadata key under which the rows a failed run kept (:func:`_keep_read`) say
how they were read (the provider's ``READING``), as a manifest does."""


def _keep_read(
    root: Path, provider: str, error: ProviderError, raw_read: dict[str, pl.DataFrame]
) -> None:
    """Keep what a run whose listing failed had read (``error.partial``: the unified rows of
    every loader; ``raw_read``: each part's own rows) as a killed run's staged tables are
    kept: hidden beside the archive (``.recordings.parquet.….tmp``, ``.{part}_raw.parquet.….tmp``),
    never in place, so nothing claims to be whole. The next run reads them as an earlier
    run's (kept even if the provider lists nothing then) and removes them once its own tables
    are in place; :func:`read_archive` returns them meanwhile, with an ArchiveWarning. Once
    the provider is gone those rows may be had nowhere else. ``error``'s message says where
    they are and that the run must be repeated (or that they could not be kept)."""
    rows = error.partial
    if not isinstance(rows, pl.DataFrame) or not rows.height:
        return
    tables = {RECORDINGS: rows} | {
        f"{part}_raw.parquet": raw for part, raw in raw_read.items() if raw.height
    }
    metadata = {READING_KEY: str(reading_of(provider))}
    written: list[Path] = []
    try:
        for name, frame in tables.items():
            fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=root)
            os.close(fd)  # user-only, as every file of the archive
            written.append(Path(tmp))
            frame.write_parquet(tmp, metadata=metadata)
    except (OSError, pl.exceptions.PolarsError) as exc:
        for path in written:
            path.unlink(missing_ok=True)
        said = (
            f"the {rows.height:,} rows this run read before it failed could not be kept in "
            f"{root} ({reason(exc)}): they are in .partial only"
        )
    else:
        meanwhile = (
            "returns them after the archived rows, with an ArchiveWarning"
            if (root / MANIFEST).is_file()
            else "raises UnfinishedArchiveError with them in .partial"
        )
        said = (
            f"the {rows.height:,} rows this run read before it failed are kept beside the "
            f"archive, not as a complete listing ({root / f'.{RECORDINGS}.….tmp'}, not in "
            f"{MANIFEST}): run the archive again into this folder to finish it (it keeps them, "
            f"even if the provider lists nothing then); meanwhile ra.read_archive(folder) "
            f"{meanwhile}"
        )
    error.args = (f"{error}; {said}", *error.args[1:])


def _staged_reading(root: Path) -> int | None:
    """The reading the newest rows a failed run kept were read under (:func:`_keep_read`), or
    None (none kept, or staged by a killed run, which does not record it)."""
    for staged in Staging.left(root, RECORDINGS):
        try:
            value = read_file(pl.read_parquet_metadata, staged).get(READING_KEY, "")
        except (OSError, pl.exceptions.PolarsError):
            continue
        return int(value) if value.isdigit() else None
    return None


DOUBTED = "listing_doubted"
"""The manifest's record of a run whose listing came back empty somewhere after the provider's
retirement (:func:`_doubted_section`): the archive is not known to hold its whole period."""


def _doubted_section(doubted: dict[str, list[Doubt]]) -> dict[str, Any]:
    """What the manifest says of the queries of this run's listing that came back empty after
    the provider's retirement: why they are doubted, and each part's date windows
    (``[since, until]``, ISO times, null where open; ``[null, null]``: a query without dates)."""
    retired = next(d.retired for doubts in doubted.values() for d in doubts)

    def edges(window: Window | None) -> list[str | None]:
        if window is None:
            return [None, None]
        return [None if e is None else e.isoformat() for e in (window.start, window.end)]

    return {
        "reason": retired.reason,
        "queries": {
            part: [
                list(pair)
                for pair in sorted(
                    {tuple(edges(w)) for d in doubts for w in d.windows},
                    key=lambda pair: tuple(e or "" for e in pair),
                )
            ]
            for part, doubts in doubted.items()
        },
    }


def _say_doubted(provider: str, doubted: dict[str, list[Doubt]], listed: int) -> None:
    """One :class:`ArchiveWarning` for a run some queries of whose listing came back empty after
    the provider's retirement: its API may list nothing any more, so the run's listing is not
    known to be whole (``listed``: how many rows it listed; none, an archive of earlier runs'
    rows only)."""
    retired = next(d.retired for doubts in doubted.values() for d in doubts)
    if not listed:
        warn_user(
            f"{provider} listed no recordings in this run, and {retired.reason}: its API may "
            "list nothing any more, so this archive holds only what earlier runs archived",
            ArchiveWarning,
        )
        return
    queries = "; ".join(
        f"{part}: {shown_windows(w for d in doubts for w in d.windows)}"
        for part, doubts in doubted.items()
    )
    count = sum(len(d.windows) for doubts in doubted.values() for d in doubts)
    warn_user(
        f"{provider}: {counted(count, 'query', 'queries')} of this run's listing "
        f"({queries}) came back empty after {retired.service} retired on {retired.retires}: "
        f"its API may list nothing any more, so this run's {listed:,} rows may lack their "
        "recordings; the archive keeps them and what earlier runs archived, but records no "
        f"period as read by this run ({DOUBTED} in {MANIFEST} names those queries)",
        ArchiveWarning,
    )


def _older_reading(root: Path, provider: str) -> int | None:
    """None when the earlier run into ``root`` read ``provider``'s answers as this version does
    (its manifest records the provider's ``READING``) or there is none; else the reading it
    used (0: an older version's, unrecorded). Values of the columns read otherwise since (a
    Plivo duration rounded up to a minute) are not carried into rows listed again."""
    path = root / MANIFEST
    if not (root / RECORDINGS).is_file() and not Staging.left(root, RECORDINGS):
        return None
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        manifest = None
    # No manifest: a first run that failed may have kept what it read, saying its reading.
    value = manifest.get("reading") if isinstance(manifest, dict) else _staged_reading(root)
    recorded = value if isinstance(value, int) and not isinstance(value, bool) else None
    if recorded is None:
        return 0
    return None if recorded >= reading_of(provider) else recorded


def _earlier(path: Path, key: Sequence[str] | None = None) -> pl.DataFrame | None:
    """A table an earlier run of the archive wrote, or None (none, a link, unreadable), with
    the rows of every copy of it a killed run staged and never put in place.

    Such a copy (``.recordings.parquet.….tmp``, see :class:`~recanalytics.store.Staging`) holds
    what that run loaded: a run killed before its tables were in place (an older version, during
    its media download) left its rows nowhere else, and the provider may list them no more. A
    row in several is taken from the newest (a killed run's copy is newer than the tables in
    place); ``key`` names the columns that identify a row, a row lacking one is matched by its
    whole value (without ``key``, every row is).
    """
    frames = []
    for staged in Staging.left(path.parent, path.name):
        try:
            frames.append(read_file(pl.read_parquet, staged))
        except (OSError, pl.exceptions.PolarsError):
            continue  # cut short by the kill: no table
    if path.is_file() and not path.is_symlink():
        try:
            frames.append(read_file(pl.read_parquet, path))
        except (OSError, pl.exceptions.PolarsError) as exc:
            warn_user(
                f"{path.name} from an earlier run could not be read ({reason(exc)}); the rows "
                "it held that are no longer listed are not kept",
                ArchiveWarning,
            )
    if len(frames) < 2:
        return frames[0] if frames else None
    try:
        rows = pl.concat(frames, how="diagonal_relaxed")
    except pl.exceptions.PolarsError as exc:
        warn_user(
            f"{path.name}: the rows a killed run staged could not be read beside the earlier "
            f"run's ({reason(exc)}); only the newest table is kept",
            ArchiveWarning,
        )
        return frames[0]
    if not key or not all(k in rows.columns for k in key):
        return rows.unique(maintain_order=True)
    keyed = pl.all_horizontal(present(pl.col(k).cast(pl.String)).is_not_null() for k in key)
    return pl.concat(
        [
            rows.filter(keyed).unique(subset=list(key), keep="first", maintain_order=True),
            rows.filter(~keyed).unique(maintain_order=True),
        ]
    )


@dataclasses.dataclass
class _Carried:
    """What one loader's part of the archive holds from this run's listing and earlier runs."""

    listed: int  # rows the provider listed in this run
    kept: int = 0  # rows an earlier run archived that this run did not list, kept whole
    gone: int = 0  # of those, the ones in this run's period: listed before, no longer
    filled: int = 0  # listed rows with a fact an earlier run had that this listing leaves null
    superseded: pl.DataFrame | None = None  # earlier raw rows this listing changed, every run's
    not_carried: int = 0  # listed rows whose earlier values were read under an older reading


def _with_earlier_facts(
    rows: pl.DataFrame, earlier: pl.DataFrame, facts: Sequence[str] = FACTS
) -> tuple[pl.DataFrame, int]:
    """``rows`` with each of the ``facts`` columns an earlier archived copy of the row has,
    where ``rows`` leaves it null, and how many rows took one."""
    if earlier.height == 0 or not facts:
        return rows, 0
    suffix = "__earlier"
    earlier = earlier.unique("recording_id", keep="first").select("recording_id", *facts)
    joined = rows.join(earlier, on="recording_id", how="left", suffix=suffix, maintain_order="left")
    took = pl.any_horizontal(
        pl.col(c).is_null() & pl.col(f"{c}{suffix}").is_not_null() for c in facts
    )
    filled = int(joined.select(took.sum()).item() or 0)
    merged = joined.with_columns(pl.coalesce(c, f"{c}{suffix}").alias(c) for c in facts)
    return merged.select(rows.columns), filled


def _not_in(earlier: pl.DataFrame, now: pl.DataFrame) -> pl.DataFrame:
    """The rows of ``earlier`` that ``now`` does not hold as they are (every column both have
    the same, nulls equal): how rows without an id are told apart."""
    if earlier.height == 0 or now.height == 0:
        return earlier
    shared = [c for c in earlier.columns if c in now.columns]
    return earlier.join(now.select(shared), on=shared, how="anti", nulls_equal=True)


def _in_types_of(frame: pl.DataFrame, raw: pl.DataFrame) -> pl.DataFrame:
    """An earlier raw table's values in this run's types where they fit, else as they were: a
    widened type would change this run's rows (an integer column become text)."""
    return frame.with_columns(pl.col(c).cast(raw.schema[c]) for c in frame.columns if c in raw)


def _superseded(
    root: Path, part: str, id_column: str, raw: pl.DataFrame, earlier_raw: pl.DataFrame | None
) -> pl.DataFrame | None:
    """The earlier raw rows this run's listing changed, beside those earlier runs kept so.

    A row listed again replaces its earlier copy in ``{part}_raw.parquet``; the copy goes to
    ``{part}_raw_earlier.parquet`` unless this run's row is the same (no information only one
    run had is lost: what Twilio stated before it listed a recording as deleted, 0 bytes).
    """
    before = _earlier(root / f"{part}{EARLIER_RAW}")
    frames = [] if before is None else [_in_types_of(before, raw)]
    if earlier_raw is not None:
        # A blank id is no id: such rows are never "listed again" by one another.
        listed_again = earlier_raw.filter(
            present(pl.col(id_column).cast(pl.String)).is_in(
                raw[id_column].cast(pl.String).implode()
            )
        )
        shared = [c for c in listed_again.columns if c in raw.columns]
        changed = listed_again.join(raw.select(shared), on=shared, how="anti", nulls_equal=True)
        frames.append(changed)
    frames = [f for f in frames if f.height]
    return pl.concat(frames, how="diagonal").unique(maintain_order=True) if frames else None


def _keep_earlier_rows(
    root: Path,
    provider: str,
    loaders: Sequence[Loader[Any]],
    parts: dict[str, tuple[pl.DataFrame, pl.DataFrame]],
    period: tuple[dt.datetime | None, dt.datetime | None],
    *,
    older: int | None = None,
) -> dict[str, _Carried]:
    """Add to ``parts`` what an earlier run archived that this run's listing lacks.

    A recording deleted on the provider, or one whose listing expired, is not lost from an
    archive run again: run it once more before a shutdown, to fetch media still pending, and
    the first run's rows stay (their media files too, see :func:`_held_earlier`). Rows listed
    now replace their earlier copies, keeping the earlier :data:`FACTS` the listing leaves null
    (a dying API listing every recording as deleted, 0 s and 0 bytes, does not zero the
    archive); an earlier raw row is kept with its unified row, and one the listing changed in
    ``{part}_raw_earlier.parquet``. With ``older`` (the reading the earlier run read the
    provider under, older than this version's) the earlier values of the columns read
    otherwise since (``REREAD`` of the provider's module) are not carried into a row listed
    again; every other value is, and every earlier row not listed now is still kept. A row
    without an id (unified or raw) is matched by its whole value: an earlier one this listing
    lacks as it was is kept. Tables an earlier run left that cannot be read as such (another
    schema, damaged) are said in an :class:`ArchiveWarning` and not merged.
    """
    recordings = _earlier(root / RECORDINGS, ["provider", "kind", "recording_id"])
    carried: dict[str, _Carried] = {}
    for loader in loaders:
        rows, raw = parts[loader.part]
        carried[loader.part] = done = _Carried(listed=rows.height)
        id_column = loader.endpoint.id_column
        try:
            raw_file = _earlier(root / f"{loader.part}_raw.parquet", [id_column])
            earlier_raw = None
            if raw_file is not None and id_column in raw_file.columns:
                earlier_raw = _in_types_of(raw_file, raw)
            superseded = _superseded(root, loader.part, id_column, raw, earlier_raw)
            kept, filled, unlisted = 0, 0, 0
            if recordings is not None:
                listed_ids = rows["recording_id"].drop_nulls().implode()
                earlier = (
                    conform(recordings)
                    .filter(
                        (pl.col("provider") == provider)
                        & pl.col("kind").cast(pl.String).is_in(list(loader.kinds))
                    )
                    .with_columns(present("recording_id"))  # "" archived by an older version
                    .collect()
                )
                keyed = pl.col("recording_id").is_not_null()
                again = pl.col("recording_id").is_in(listed_ids)
                # Values of columns read otherwise since the earlier run's reading are not
                # carried (a Plivo duration rounded up to a minute); the others are, so a
                # dying API's 0 s / 0 bytes do not zero what an older version archived.
                reread = reread_since(provider, older) if older is not None else frozenset()
                listed_again = earlier.filter(keyed & again)
                kept_facts = [c for c in FACTS if c not in reread]
                rows, filled = _with_earlier_facts(rows, listed_again, kept_facts)
                _, done.not_carried = _with_earlier_facts(
                    rows, listed_again, [c for c in FACTS if c in reread]
                )
                # A row without an id is matched by its whole value, as the store does: one
                # this listing does not hold as it was is kept, never dropped for its lack of id.
                gone = pl.concat(
                    [earlier.filter(keyed & ~again), _not_in(earlier.filter(~keyed), rows)]
                )
                kept = gone.height
                # Rows made outside a narrower period than an earlier run's were not asked for.
                unlisted = gone.filter(in_range(pl.col("created_at"), *period)).height
                if kept and earlier_raw is not None:
                    ids = present(pl.col(id_column).cast(pl.String))
                    gone_raw = earlier_raw.filter(ids.is_in(gone["recording_id"].implode()))
                    # Raw rows without an id, by their whole value too.
                    idless = _not_in(earlier_raw.filter(ids.is_null()), raw)
                    raw = pl.concat([raw, gone_raw, idless], how="diagonal")
                rows = pl.concat([rows, gone])
        except pl.exceptions.PolarsError as exc:
            warn_user(
                f"{loader.part}: rows an earlier run archived could not be read beside this "
                f"run's ({reason(exc)}); the tables now hold what is listed, the earlier files "
                "are replaced",
                ArchiveWarning,
            )
            continue
        done.kept, done.gone, done.filled, done.superseded = kept, unlisted, filled, superseded
        parts[loader.part] = (rows, raw)
    return carried


def _say_kept(provider: str, carried: dict[str, _Carried]) -> None:
    """One :class:`ArchiveWarning` when this run's listing lacks what earlier runs archived in
    its period (rows no longer listed, values no longer stated): an API that lists nothing, or
    lists recordings without their sizes, must not look like an archive brought up to date.
    Rows outside a narrower period than an earlier run's were not asked for: not said."""
    gone = {part: c.gone for part, c in carried.items() if c.gone}
    filled = {part: c.filled for part, c in carried.items() if c.filled}
    if not gone and not filled:
        return
    listed = ", ".join(f"{c.listed:,} {part}" for part, c in carried.items())
    said = [f"{provider} listed {listed} in this run"]
    if gone:
        rows = ", ".join(f"{part} {n:,}" for part, n in gone.items())
        said.append(f"archived by earlier runs and no longer listed, kept: {rows}")
    if filled:
        rows = ", ".join(f"{part} {n:,}" for part, n in filled.items())
        said.append(
            f"listed without values an earlier run archived (duration, size …), kept: {rows}"
        )
    warn_user("; ".join(said), ArchiveWarning)


HELD = ("downloaded", "resumed", "skipped", "kept")
"""media.csv statuses of a file the archive holds."""
OUTSIDE = "outside this run's period"


def _on_disk(paths: pl.Series) -> pl.Series:
    """Whether each path is a file (not a link) on disk."""
    return pl.Series(
        [p is not None and Path(p).is_file() and not Path(p).is_symlink() for p in paths],
        dtype=pl.Boolean,
    )


def _held_earlier(
    result: pl.DataFrame, gone: pl.Series, root: Path, earlier: pl.DataFrame | None
) -> pl.DataFrame:
    """``download_media``'s result, with the files an earlier run saved counted as held.

    ``gone`` marks the rows no longer listed in this run's period (their media URL was not
    asked for). A file still on disk for a row unavailable now (deleted since, or not listed)
    is ``kept``, its size and SHA-256 filled (media.csv is where each file's checksum is
    read); one for a row whose fetch failed (a file of another size than the provider states
    is fetched again every run) stays ``failed``, with its size and SHA-256: the archive holds
    it, but it is not known to be whole. The SHA-256 is the one the ``earlier`` media.csv
    (:func:`_earlier_media`) gives the same file (path under ``root``) at the size it has
    now; only a file without one is read.
    """
    on_disk = _on_disk(result["path"])
    # Only for files download_media did not read this run (it gives their size and hash).
    unread = on_disk & result["bytes"].is_null()
    sizes = pl.Series(
        [
            Path(p).stat().st_size if u else None
            for p, u in zip(result["path"], unread, strict=True)
        ],
        dtype=pl.Int64,
    )
    recorded: dict[tuple[str, str], tuple[str, int | None, str]] = {}
    if earlier is not None:
        said = earlier.filter(pl.col("sha256").is_not_null() & pl.col("path").is_not_null())
        recorded = {
            (provider, rid): (path, size, sha)
            for provider, rid, path, size, sha in said.select(
                "provider", "recording_id", "path", "bytes", "sha256"
            ).iter_rows()
        }

    def sha256_of(provider: str, rid: str | None, path: str, size: int | None) -> str:
        # Every run reading each file an earlier run saved doubled the bytes an archive of
        # months of media reads (the manifest reads it again): its recorded hash is used.
        said = recorded.get((provider, rid)) if rid is not None else None
        file = Path(path)
        if said is not None and said[1] == size and said[0] == file.relative_to(root).as_posix():
            return said[2]
        return sha256_file(file)

    hashes = pl.Series(
        [
            sha256_of(provider, rid, p, size) if u and sha is None else None
            for provider, rid, p, size, u, sha in zip(
                result["provider"],
                result["recording_id"],
                result["path"],
                sizes,
                unread,
                result["sha256"],
                strict=True,
            )
        ],
        dtype=pl.String,
    )
    unavailable = result["status"] == "unavailable"
    return result.with_columns(
        status=pl.when(unavailable & on_disk).then(pl.lit("kept")).otherwise(pl.col("status")),
        bytes=pl.when(unread).then(sizes).otherwise(pl.col("bytes")),
        sha256=pl.when(unread & result["sha256"].is_null()).then(hashes).otherwise("sha256"),
        error=pl.when(gone & ~on_disk)
        .then(pl.lit("no longer listed by the provider, and no file from an earlier run"))
        .otherwise(pl.col("error")),
    )


def _earlier_media(root: Path, *, warn: bool = True) -> pl.DataFrame | None:
    """The outcome per recording of the media step an earlier run wrote (``media.csv``: the
    provider, id, status, error, SHA-256, path and size it recorded), or None (none, a link,
    unreadable: said unless not ``warn``)."""
    path = root / "media.csv"
    if not path.is_file() or path.is_symlink():
        return None
    columns = ["provider", "recording_id", "status", "error", "sha256"]
    try:
        table = read_file(pl.read_csv, path, infer_schema=False, encoding="utf8-lossy")
        # The CSV is written for spreadsheets: a formula-like text was given a quote before it.
        # The file and size a hash was taken of (a line without them: its hash is not reused).
        table = table.with_columns(
            pl.lit(None, pl.String).alias(c) for c in ("path", "bytes") if c not in table.columns
        )
        said = table.select(
            *(
                pl.when(pl.col(c).str.contains(f"^{QUOTE}(?:{FORMULA_START[1:]})"))
                .then(pl.col(c).str.slice(1))
                .otherwise(pl.col(c))
                for c in [*columns, "path"]
            ),
            pl.col("bytes").cast(pl.Int64, strict=False),
        )
    except (OSError, pl.exceptions.PolarsError) as exc:
        if warn:
            warn_user(
                f"media.csv from an earlier run could not be read ({reason(exc)}); the media of "
                f"rows {OUTSIDE} is said as not asked for",
                ArchiveWarning,
            )
        return None
    keyed = said.filter(present("recording_id").is_not_null())
    return keyed.unique(["provider", "recording_id"], keep="last", maintain_order=True)


def _as_before(
    result: pl.DataFrame, outside: pl.Series, earlier: pl.DataFrame | None
) -> pl.DataFrame:
    """The result, its rows ``outside`` this run's period (not listed, not asked for) as the
    earlier run's media step left them: a file it could not fetch stays ``failed`` (the
    archive is not whole), one it saved stays ``downloaded`` or ``kept`` while on disk
    (``failed`` if gone since), an ``unavailable`` one keeps its reason. A row no earlier run
    said anything of is ``unavailable`` (``kept`` with a file on disk): its media was not asked
    for, which ``error`` says."""
    if not outside.any():
        return result
    suffix = "__before"
    before = pl.DataFrame(
        schema={c: pl.String for c in ("provider", "recording_id", "status", "error", "sha256")}
    )
    if earlier is not None:
        before = earlier.select(before.columns)
    joined = result.join(
        before.rename({c: f"{c}{suffix}" for c in ("status", "error", "sha256")}),
        on=["provider", "recording_id"],
        how="left",
        maintain_order="left",
    )
    was = pl.col(f"status{suffix}")
    said = pl.col(f"error{suffix}")
    on_disk = pl.lit(_on_disk(result["path"]))
    held = was.is_in(HELD)
    status = (
        pl.when(held & on_disk)
        .then(was)
        .when(held | (was == "failed"))
        .then(pl.lit("failed"))
        .otherwise(pl.col("status"))
    )
    error = (
        pl.when(held & on_disk)
        .then(said)
        .when(held)
        .then(
            pl.lit(
                f"the file an earlier run saved is missing; {OUTSIDE}, so not fetched again "
                "(an archive over its period fetches it)"
            )
        )
        .when(was == "failed")
        .then(pl.concat_str(said.fill_null("failed"), pl.lit(f"; {OUTSIDE}, so not asked again")))
        .when(was == "unavailable")
        .then(said)
        .when(pl.col("status") == "kept")
        .then(pl.lit(f"{OUTSIDE}: not asked for; the file an earlier run saved is kept"))
        .otherwise(pl.lit(f"{NOT_ASKED} (an archive over its period fetches it)"))
    )
    sha256 = pl.when(held & on_disk).then(pl.coalesce("sha256", f"sha256{suffix}"))
    mask = pl.lit(outside) & pl.col("recording_id").is_not_null()
    return joined.with_columns(
        status=pl.when(mask).then(status).otherwise("status"),
        error=pl.when(mask).then(error).otherwise("error"),
        sha256=pl.when(mask).then(sha256.otherwise("sha256")).otherwise("sha256"),
    ).select(result.columns)


def _earlier_manifest(root: Path) -> dict[str, Any]:
    """The manifest an earlier run wrote into ``root``, or an empty one (none, unreadable)."""
    try:
        manifest = json.loads((root / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return manifest if isinstance(manifest, dict) else {}


def _media_files(earlier: dict[str, Any]) -> dict[str, Any]:
    """The entries of an earlier manifest's ``files`` that its media step wrote (``media.csv``,
    ``verification.parquet``, the media files): carried by a run whose own media step has not
    replaced them, with their hashes, as they still describe those files."""
    files = earlier.get("files")
    if not isinstance(files, dict):
        return {}
    return {
        name: entry
        for name, entry in files.items()
        if isinstance(name, str)
        and isinstance(entry, dict)
        and (name in ("media.csv", VERIFICATION) or name.startswith("media/"))
        and ".." not in Path(name).parts
        and not Path(name).is_absolute()
    }


def _periods(earlier: dict[str, Any], read: tuple[str, str] | None) -> list[list[str]]:
    """Every period an archive's lists were read over, this run's ``read`` (``(since, until)``,
    None when its empty listing is no reading: a retired API) included, merged where they
    overlap or touch and in order: what the archive covers, and where not."""
    recorded = earlier.get("periods")
    if not isinstance(recorded, list):
        last = earlier.get("period")
        recorded = [[last.get("since"), last.get("until")]] if isinstance(last, dict) else []
    spans = []
    for pair in [*recorded, *([list(read)] if read else [])]:
        try:
            start, end = (dt.datetime.fromisoformat(p) for p in pair)
        except (TypeError, ValueError):
            continue  # not a period this package wrote
        if start.tzinfo is not None and end.tzinfo is not None and start <= end:
            spans.append((start, end))
    merged: list[tuple[dt.datetime, dt.datetime]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return [[start.isoformat(), end.isoformat()] for start, end in merged]


def _hashed(root: Path, written: dict[Path, Path]) -> dict[str, Any]:
    """``files`` entries (size, SHA-256) of the archive's files, read where they are written
    (a staged table not yet in place)."""
    return {
        str(path.relative_to(root)): {"bytes": file.stat().st_size, "sha256": sha256_file(file)}
        for path, file in written.items()
        # a symbolic link is never hashed as a file of the archive: it may point anywhere
        if file.is_file() and not file.is_symlink() and not path.name.endswith(".part")
    }


async def _write(
    root: Path,
    provider: str,
    period: tuple[dt.datetime, dt.datetime | None],
    parts: dict[str, tuple[pl.DataFrame, pl.DataFrame]],
    unified: pl.DataFrame,
    media: bool,
    verify: bool,
    options: dict[str, Any],
    carried: dict[str, _Carried],
    flags: pl.DataFrame,
    doubted: dict[str, list[Doubt]] | None = None,
) -> dict[str, Any]:
    """Write the loaded rows and their manifest, then download the media and write the
    manifest again: the archive once its lists are loaded (``doubted``: each part's queries
    that came back empty after the provider's retirement, see :func:`_say_doubted`: then
    the run adds no period read, and the manifest says so in :data:`DOUBTED`).

    The listing is the cheap, irreplaceable part: the tables are written under temporary names,
    put in place together with a manifest that describes them (the manifest last) before the
    media step starts. That manifest carries the earlier run's media section, file list and
    hashes, which still describe the files they list, and says the media step is unfinished
    (``media_unfinished``); the media step ends by writing ``media.csv`` and the manifest
    again. A run stopped in the media step (Ctrl-C, a kill) leaves a readable archive of the
    new listing; one stopped before the tables are in place, the earlier run's archive.
    """
    names = [RECORDINGS, "recordings.csv", "media.csv", VERIFICATION, MANIFEST]
    names += [f"{part}{suffix}" for part in parts for suffix in ("_raw.parquet", EARLIER_RAW)]
    earlier = _earlier_manifest(root)
    start, end = period
    now = clock.now()
    created = now.isoformat(timespec="seconds")
    # Nothing is listed past now: an until later than it (the shutdown day, asked days ahead)
    # was read up to now only, as the store records it (incremental.loaded_until), so a run
    # over the rest shows as still to do.
    until = end.isoformat() if end is not None and end < now else created
    manifest: dict[str, Any] = {
        "created": created,
        "recanalytics": importlib.metadata.version("recanalytics"),
        "provider": provider,
        # How its answers were read into rows: a later run under a newer reading does not
        # carry this run's values forward (see _read_as_now).
        "reading": reading_of(provider),
        # Without an until, the lists were read up to when the archive was made.
        "period": {"since": start.isoformat(), "until": until},
        # Every period read, this one included: an archive made in pieces says its gaps. A
        # listing that came back empty somewhere after the provider's retirement is not one
        # (the store records none past it either).
        "periods": _periods(earlier, None if doubted else (start.isoformat(), until)),
    }
    if doubted:
        manifest[DOUBTED] = _doubted_section(doubted)
    manifest |= {
        part: _totals(rows)
        | {
            "listed_now": carried[part].listed,
            "kept_from_earlier_runs": carried[part].kept,
            "no_longer_listed": carried[part].gone,
            "kept_earlier_values": carried[part].filled,
        }
        for part, (rows, _) in parts.items()
    }
    with Staging() as staging:
        files: dict[str, pl.DataFrame] = {RECORDINGS: unified}
        files |= {f"{part}_raw.parquet": raw for part, (_, raw) in parts.items()}
        files |= {
            f"{part}{EARLIER_RAW}": c.superseded
            for part, c in carried.items()
            if c.superseded is not None
        }
        for name, frame in files.items():
            staging.stage(root / name, frame.write_parquet)
        staging.stage(root / "recordings.csv", lambda p: write_spreadsheet_csv(unified, p))
        # Only what this archive holds: other files in ``out`` (it may be any folder) are not
        # ours to hash.
        tables = _hashed(
            root,
            {root / n: staging.staged[root / n] for n in sorted([*files, "recordings.csv"])},
        )
        # What the media step of an earlier run wrote still describes the files it lists: an
        # archive only grows (a run without media, or one stopped in its media step, keeps it).
        listing = dict(manifest)
        for key in ("media", "verification", "media_unfinished"):
            if key in earlier:
                listing[key] = earlier[key]
        if media:
            listing["media_unfinished"] = created
        elif isinstance(earlier.get("media"), dict):
            # Rows whose line says "not asked for" are the carried section's not_asked already.
            uncovered = _not_asked(unified, None, _earlier_media(root), lines_only=True)
            if lacking := int(uncovered.sum()):
                listing["media_not_asked"] = lacking
                warn_user(_not_asked_said(lacking, "no line in media.csv"), ArchiveWarning)
        listing["files"] = dict(sorted((tables | _media_files(earlier)).items()))
        staging.stage(root / MANIFEST, json_writer(listing))
        # The manifest last: a kill between these renames leaves tables it does not describe,
        # which read_archive says (run the archive again).
        staging.commit(last=[root / MANIFEST])
    # The rows of a killed run's staged tables are in those now put in place.
    Staging.remove_left(root, names)
    if not media:
        return listing
    with Staging() as staging:
        stopped = "media_unfinished" in earlier
        await _media_step(
            root, provider, unified, verify, options, flags, manifest, staging, stopped
        )
        if manifest["media"]["outside_period"]["not_asked"]:
            # Not whole until a run over their period fetches their media.
            manifest["media_unfinished"] = earlier.get("media_unfinished") or created
        manifest["files"] = dict(sorted((tables | manifest["files"]).items()))
        staging.stage(root / MANIFEST, json_writer(manifest))
        staging.commit(last=[root / MANIFEST])
    return manifest


async def _media_step(
    root: Path,
    provider: str,
    unified: pl.DataFrame,
    verify: bool,
    options: dict[str, Any],
    flags: pl.DataFrame,
    manifest: dict[str, Any],
    staging: Staging,
    unfinished: bool = False,
) -> None:
    """Download the media of ``unified``'s rows into ``root/media``, stage ``media.csv`` (and
    ``verification.parquet``), and set the manifest's ``media`` (``verification``) and the
    ``files`` entries of what it wrote and holds. ``unfinished``: the earlier run was stopped
    in its media step (``media.csv`` is older than the rows it listed)."""
    credentials = options.get("credentials")
    # Rows not listed have no media to ask for: only a file an earlier run saved.
    not_listed, outside, gone = flags["not_listed"], flags["outside"], flags["gone"]
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
    # Read whether or not rows lie outside the period: the hashes of the files it lists are
    # not read again (a file deleted since is kept); unreadable, it is said for those rows.
    before = _earlier_media(root, warn=bool(outside.any()))
    result = _held_earlier(result, gone, root, before)
    result = _as_before(result, outside, before)
    # Rows outside the period whose media no run fetched: none said of them in media.csv, or
    # the run that listed them was stopped before its media step finished.
    not_asked = outside & _not_asked(unified, result, before, unfinished=unfinished)
    # Paths inside the archive folder, so the folder can be moved (or read from elsewhere).
    listed = result.with_columns(
        pl.col("path").map_elements(
            lambda p: Path(p).relative_to(root).as_posix(), return_dtype=pl.String
        )
    )
    staging.stage(root / "media.csv", lambda p: write_spreadsheet_csv(listed, p))
    counts = result.group_by("status").len().sort("status")
    # Recordings still being made have no media yet: the archive holds their rows, and says
    # it lacks their files (a run before a shutdown must not look complete).
    waiting = unified["status"].is_in(sorted(PENDING & UNAVAILABLE))  # not fetched
    failed = result["status"] == "failed"
    media: dict[str, Any] = {
        "files": {str(s): int(n) for s, n in counts.iter_rows()},
        # The files held (0 when none); null past Int64 rather than wrapped negative.
        "bytes": result.select(int64_sum(pl.col("bytes"))).item(),
        "pending": int((waiting & ~gone).sum()),
        # One still being processed when last listed, and listed no more, has no media in the
        # archive either: running again cannot fetch it, but the archive is not whole.
        "pending_not_listed": int((waiting & gone & (result["status"] != "kept")).sum()),
        # Rows not listed as they lie outside this run's period: their media as before.
        "outside_period": {
            "rows": int(outside.sum()),
            "failed": int((outside & failed).sum()),
            "pending": int((outside & waiting).sum()),
            # Their media never asked for: a run over their period fetches it.
            "not_asked": int(not_asked.sum()),
        },
        "created": manifest["created"],
    }
    manifest["media"] = media
    away = media["outside_period"]
    if pending := media["pending"]:
        warn_user(
            f"{counted(pending)} {'is' if pending == 1 else 'are'} still being processed, "
            f"so {'its' if pending == 1 else 'their'} media cannot be downloaded yet; "
            f"run the archive again once {'it has' if pending == 1 else 'they have'} "
            f"completed{_over_theirs(away['pending'])}",
            ArchiveWarning,
        )
    if lost := media["pending_not_listed"]:
        warn_user(
            f"{counted(lost)} {'was' if lost == 1 else 'were'} still being processed when "
            f"an earlier run archived {'it' if lost == 1 else 'them'}, and "
            f"{'is' if lost == 1 else 'are'} no longer listed: "
            f"{'its' if lost == 1 else 'their'} media is not in the archive",
            ArchiveWarning,
        )
    if missing := media["files"].get("failed", 0):
        # The archive is written, but not whole: an archive run before a shutdown must not
        # look complete when files are missing. Running it again resumes them.
        warn_user(
            f"{missing} of {result.height} media files could not be downloaded (their errors "
            f"are in media.csv); run the archive again to fetch them{_over_theirs(away['failed'])}",
            ArchiveWarning,
        )
    if never := away["not_asked"]:
        warn_user(_not_asked_said(never, OUTSIDE), ArchiveWarning)
    ours = [root / "media.csv"]
    if verify:
        probed = await asyncio.to_thread(probe_media, result, decode=True)
        check = verify_media(unified, probed)
        staging.stage(root / VERIFICATION, check.files.write_parquet)
        manifest["verification"] = {"verdict": check.verdict, **check.totals}
        ours.append(root / VERIFICATION)
    # Media files are those download_media reported for this archive's rows (downloaded,
    # resumed or already there), not whatever else media/ holds. A failed fetch may leave an
    # earlier run's file (of another size than stated): the archive holds it, though not known
    # whole.
    held = result.filter(
        pl.col("status").is_in(HELD)
        | (pl.col("status") == "failed") & pl.col("bytes").is_not_null()
    )
    ours += [Path(p) for p in held["path"].to_list()]
    manifest["files"] = _hashed(root, {path: staging.staged.get(path, path) for path in ours})


NOT_ASKED = f"{OUTSIDE}: its media was not asked for"
"""How media.csv says a row whose media no run of the archive asked for."""


def _fetchable(rows: pl.DataFrame) -> pl.Series:
    """Whether each row has media to fetch: an id, a media URL, a status with media."""
    return rows.select(
        pl.col("recording_id").is_not_null()
        & pl.col("media_url").is_not_null()
        & ~pl.col("status").is_in(sorted(UNAVAILABLE | PENDING)).fill_null(False)
    ).to_series()


def _not_asked(
    unified: pl.DataFrame,
    result: pl.DataFrame | None,
    before: pl.DataFrame | None,
    *,
    unfinished: bool = False,
    lines_only: bool = False,
) -> pl.Series:
    """Which of ``unified``'s rows have media to fetch that no run of the archive fetched:
    no line of the earlier ``media.csv`` (``before``) says anything of them, or (unless
    ``lines_only``) says their media was not asked for, or (``unfinished``: the earlier run
    was stopped in its media step, so ``media.csv`` is older than its listing) the file is not
    held. ``result`` is this run's outcome per row (None: no media step in this run)."""
    columns = ("provider", "recording_id", "error")
    lines = pl.DataFrame(schema=dict.fromkeys(columns, pl.String))
    if before is not None:
        lines = before.select(columns)
    said = unified.select(pl.col("provider").cast(pl.String), "recording_id").join(
        lines.with_columns(__line=pl.lit(True)),
        on=["provider", "recording_id"],
        how="left",
        maintain_order="left",
    )
    never = said["__line"].is_null()
    if not lines_only:
        never |= said["error"].str.starts_with(NOT_ASKED).fill_null(False)
    if result is not None:
        status = result["status"]
        open_ = ~status.is_in(HELD) & (status != "failed")
        never = open_ & (never | unfinished)
    return _fetchable(unified) & never


def _not_asked_said(count: int, why: str) -> str:
    """The advice for ``count`` rows whose media no run of the archive fetched."""
    return (
        f"{counted(count)} with media to fetch {'has' if count == 1 else 'have'} no media file "
        f"in the archive ({why}; no run of the archive asked for "
        f"{'it' if count == 1 else 'them'}, or it was stopped before it finished): run the "
        "archive with media over their period (or without since and until) to fetch them"
    )


def _over_theirs(outside: int) -> str:
    """What to add to an outcome's advice when ``outside`` of its rows lie outside the run's
    period: running the same period again does not ask for those."""
    if not outside:
        return ""
    return (
        f" ({outside:,} of them {OUTSIDE}: run it over theirs, or without since and until, "
        "to fetch them)"
    )


archive = syncify(aarchive, "archive")


class ArchiveContents(NamedTuple):
    """An archive folder read back: its unified rows and its manifest (:func:`read_archive`)."""

    recordings: pl.DataFrame
    """Every archived row, in the unified schema (:data:`recanalytics.SCHEMA`)."""
    manifest: dict[str, Any]
    """``manifest.json``: totals per list, media outcomes, and each file's size and SHA-256."""


def read_archive(path: str | os.PathLike[str]) -> ArchiveContents:
    """Read an archive folder back, without the provider: its rows and its manifest.

    What :func:`archive` (``ra.archive_twilio``, ``recanalytics archive``) wrote stays
    readable once the provider is gone: the rows are the unified frame every helper, chart and
    notebook takes; the raw tables (``{part}_raw.parquet``) and ``media.csv`` are beside them.

    Parameters
    ----------
    path : path
        The archive folder (``out`` of the archive that wrote it).

    Returns
    -------
    ArchiveContents
        ``(recordings, manifest)``: unpack it, or use the fields by name.

    Raises
    ------
    ConfigError
        ``path`` is not an archive folder (no ``manifest.json`` or ``recordings.parquet``).
    UnfinishedArchiveError
        ``recordings.parquet`` without ``manifest.json``, or neither but the rows a killed
        run staged (``.recordings.parquet.….tmp``): a first run stopped before it finished (a
        StoreError; ``partial`` holds the rows read). Running the archive again into the
        folder finishes it, keeping those rows.
    StoreError
        One of the two could not be read (damaged, not what an archive writes), or
        ``recordings.parquet`` is not the file the manifest hashed, or holds another number of
        rows than it counts (a run stopped while its files were replaced, a changed file): the
        message says so and to run the archive again; ``partial`` holds the rows read.

    Warns
    -----
    ArchiveWarning
        Another file the manifest lists (a raw table, ``recordings.csv``, ``media.csv``) is
        missing or not the one it hashed, or the last media download was stopped before it
        finished (``media_unfinished`` in the manifest), or rows with media to fetch have no
        file as no run asked for it (``media.outside_period.not_asked``,
        ``media_not_asked``); the rows are returned. Rows a killed run staged beside the
        tables in place (``.recordings.parquet.….tmp``) that those lack are returned too,
        after them, saying how many: they are not in the manifest's counts and hashes, and
        a run of the archive (while the provider's API answers) puts them in place.

    Examples
    --------
    >>> written = ra.archive_twilio("twilio-archive", **box.options("twilio"))
    >>> archived, manifest = ra.read_archive("twilio-archive")
    >>> archived.height == manifest["tracks"]["recordings"] + manifest["compositions"]["recordings"]
    True
    """
    root = validate.folder(path, "path")
    form = f"an archive folder, holding {MANIFEST} and {RECORDINGS}"
    if not (root / MANIFEST).is_file() and (root / RECORDINGS).is_file():
        raise _unfinished(root)
    if not any((root / name).is_file() for name in (MANIFEST, RECORDINGS)):
        staged = _earlier(root / RECORDINGS, ["provider", "kind", "recording_id"])
        if staged is not None:
            rows = conform(staged).collect()
            raise UnfinishedArchiveError(
                root / RECORDINGS,
                f"missing, but a killed archive run left its rows staged beside it (or one "
                f"whose listing failed, the rows it read) (.{RECORDINGS}.….tmp, "
                f"{rows.height:,} rows): run the archive again into this "
                "folder to put them in place (it keeps them, even if the provider lists nothing "
                "now); the rows as read are in .partial",
                partial=rows,
            )
    if not all((root / name).is_file() for name in (MANIFEST, RECORDINGS)):
        raise ConfigError("path", form, os.fspath(path))
    try:
        manifest = json.loads((root / MANIFEST).read_text(encoding="utf-8"))
        if not isinstance(manifest, dict):
            raise ValueError("not a JSON object")
    except (OSError, ValueError) as exc:
        raise StoreError(root / MANIFEST, f"could not be read ({reason(exc)})") from exc
    try:
        recordings = conform(read_file(pl.read_parquet, root / RECORDINGS)).collect()
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise StoreError(root / RECORDINGS, f"could not be read ({reason(exc)})") from exc
    _check_against(root, manifest, recordings)
    recordings = _with_rows_left(root, recordings)
    media = manifest.get("media")
    away = media.get("outside_period") if isinstance(media, dict) else None
    never = away.get("not_asked") if isinstance(away, dict) else None
    lacking = manifest.get("media_not_asked")
    for count, why in ((never, OUTSIDE), (lacking, "no line in media.csv")):
        if isinstance(count, int) and count:
            warn_user(f"{root}: {_not_asked_said(count, why)}", ArchiveWarning)
    # Said above when so: their advice also finishes a stopped media step.
    stopped = None if never or lacking else manifest.get("media_unfinished")
    if stopped:
        warn_user(
            f"{root}: the media download of the archive run of {stopped} was stopped before it "
            "finished: the rows are all there, but media.csv and the manifest's media section "
            "are an earlier run's (none when absent) and may lack files of rows listed since; "
            "run the archive again with media to finish it",
            ArchiveWarning,
        )
    return ArchiveContents(recordings, manifest)


KEY = ["provider", "kind", "recording_id"]
"""The columns that identify an archived row (one lacking any is matched by its whole value)."""


def _with_rows_left(root: Path, recordings: pl.DataFrame) -> pl.DataFrame:
    """``recordings`` (the tables in place) with the rows they lack that a killed run staged
    beside them (``.recordings.parquet.….tmp``), merged as an archive run merges them (the
    newest staged copy of a row first, see :func:`_earlier`), and an :class:`ArchiveWarning`
    saying how many. An older version's run killed during its media download left the rows
    it listed only there; after the provider's shutdown no run can list them again, so they
    are returned rather than lost. Staged files that cannot be read are passed over."""
    frames = []
    for staged in Staging.left(root, RECORDINGS):
        try:
            frames.append(conform(read_file(pl.read_parquet, staged)).collect())
        except (OSError, pl.exceptions.PolarsError):
            continue  # cut short by the kill, or not a table of rows
    if not frames:
        return recordings
    left = pl.concat(frames)
    keyed = pl.all_horizontal(present(pl.col(k).cast(pl.String)).is_not_null() for k in KEY)
    with_key = left.filter(keyed).unique(subset=KEY, keep="first", maintain_order=True)
    with_key = with_key.join(recordings.select(KEY), on=KEY, how="anti", nulls_equal=True)
    extra = pl.concat(
        [with_key, _not_in(left.filter(~keyed).unique(maintain_order=True), recordings)]
    )
    if not extra.height:
        return recordings
    warn_user(
        f"{root}: {counted(extra.height, 'row')} {'comes' if extra.height == 1 else 'come'} "
        f"from an archive run that was stopped before putting its tables in place, or whose "
        f"listing failed (.{RECORDINGS}.….tmp): {'it is' if extra.height == 1 else 'they are'} "
        "returned, but not in "
        f"{MANIFEST}'s counts and hashes; a run of the archive into this folder (while the "
        "provider's API answers) puts them in place",
        ArchiveWarning,
    )
    return pl.concat([recordings, extra])


def _unfinished(root: Path) -> StoreError:
    """The error for a folder with ``recordings.parquet`` and no manifest: the tables of a first
    run stopped before its end (killed between putting its tables and its manifest in place, or
    an older version's, which put them in place before its media download and the manifest
    after), with the rows it holds; a StoreError when they cannot be read either."""
    try:
        rows = conform(read_file(pl.read_parquet, root / RECORDINGS)).collect()
    except (OSError, pl.exceptions.PolarsError) as exc:
        return StoreError(
            root / RECORDINGS,
            f"could not be read ({reason(exc)}), and there is no {MANIFEST}: an archive run was "
            "stopped before it finished; run the archive again into this folder to finish it",
        )
    return UnfinishedArchiveError(
        root / MANIFEST,
        f"missing beside {RECORDINGS} ({rows.height:,} rows): an archive run was stopped before "
        "it finished; run the archive again into this folder to finish it (it keeps every row "
        "archived); the rows as read are in .partial",
        partial=rows,
    )


# What to do when an archive's files are not those its manifest describes.
AGAIN = "run the archive again into this folder (it keeps every row archived) to make them agree"


def _check_against(root: Path, manifest: dict[str, Any], recordings: pl.DataFrame) -> None:
    """Compare the tables beside ``manifest.json`` with the sizes and SHA-256 it records.

    ``recordings.parquet`` (the rows :func:`read_archive` returns) not the file the manifest
    hashed, or not holding the rows it counts, is a :class:`StoreError` with the rows read in
    ``partial``; another table or CSV file changed or missing, an :class:`ArchiveWarning`.
    Media files are not hashed here (gigabytes): :func:`~recanalytics.verify_media` reads them.
    """
    files = manifest.get("files")
    files = files if isinstance(files, dict) else {}
    counted_rows = [
        totals["recordings"]
        for totals in manifest.values()
        if isinstance(totals, dict) and "by_status" in totals and "recordings" in totals
    ]
    changed = []
    for name, recorded in sorted(files.items()):
        path = root / name
        if name.startswith("media/") or not isinstance(recorded, dict):
            continue
        if not path.is_file() or path.is_symlink():
            changed.append(f"{name} is missing")
        elif path.stat().st_size != recorded.get("bytes") or sha256_file(path) != recorded.get(
            "sha256"
        ):
            changed.append(f"{name} is not the file {MANIFEST} hashed")
    said = ""
    if counted_rows and recordings.height != sum(counted_rows):
        said = f"holds {recordings.height:,} rows, {MANIFEST} says {sum(counted_rows):,}"
    elif f"{RECORDINGS} is not the file {MANIFEST} hashed" in changed:
        said = f"is not the file {MANIFEST} hashed (another run's, or changed since)"
    if said:
        # The rows and the manifest would not describe one archive: totals, media.csv and
        # hashes checked against the manifest would be another run's.
        raise StoreError(
            root / RECORDINGS,
            f"{said}: an archive run was stopped while its files were replaced, or the file "
            f"was changed; {AGAIN} (the rows as read are in .partial)",
            partial=recordings,
        )
    if changed:
        warn_user(
            f"{root}: {'; '.join(changed)} (an archive run stopped while its files were "
            f"replaced, or a file changed since); {AGAIN}",
            ArchiveWarning,
        )
