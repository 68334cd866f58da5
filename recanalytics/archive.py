"""Archiving everything a Twilio Video account holds before the service shuts down (2026-12-05).

The archive folder holds, for track recordings and compositions alike: the unified rows
(parquet and CSV), the provider's own rows with every field it sent (parquet, ``raw``), optional
media files, and ``manifest.json`` with counts, totals and a SHA-256 for every file.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import importlib.metadata
import os
from typing import Any

import polars as pl

from recanalytics import validate
from recanalytics.checksum import sha256_file
from recanalytics.errors import ConfigError
from recanalytics.incremental import FIRST_RUN_SINCE
from recanalytics.media import adownload_media
from recanalytics.options import resolve
from recanalytics.probe import _import_av, probe_media
from recanalytics.providers.twilio import TWILIO, aload_twilio_recordings
from recanalytics.providers.twilio_compositions import aload_twilio_compositions
from recanalytics.store import private_write, write_json
from recanalytics.sync import syncify
from recanalytics.verify import verify_media
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


async def aarchive_twilio(
    out: str | os.PathLike[str],
    *,
    media: bool = False,
    verify: bool = False,
    since: WhenLike | None = None,
    until: WhenLike | None = None,
    **options: Any,
) -> dict[str, Any]:
    """Archive every Twilio Video track recording and composition into ``out``.

    Parameters
    ----------
    out : path
        The archive folder (created; existing files are replaced).
    media : bool, default False
        Also download every available media file (resumable: run again to finish).
    verify : bool, default False
        With ``media``: decode every file and compare it with its metadata
        (:func:`~recanalytics.verify_media`; needs the ``media`` extra). The per-file outcome
        goes to ``verification.parquet``, the totals and a one-line ``verdict`` to the
        manifest's ``verification``.
    since, until : optional
        Default: everything from 2015-01-01 (Twilio Video's launch) until now.
    **options
        Loader options (``credentials``, ``base_url``, ``transport``, ``progress`` …).

    Returns
    -------
    dict
        The manifest that was written to ``out/manifest.json``.

    Examples
    --------
    On the sandbox (drop ``**box.options(...)`` to use ``TWILIO_*`` from the environment):

    >>> import asyncio
    >>> from recanalytics.sandbox import Sandbox
    >>> box = Sandbox(seed=7, size=20, small_media=True)
    >>> archive = ra.aarchive_twilio("twilio-archive", media=True, verify=True, **box.options("twilio"))
    >>> manifest = asyncio.run(archive)
    >>> manifest["tracks"]["recordings"], manifest["compositions"]["recordings"]
    (20, 0)
    >>> manifest["verification"]["verdict"]
    '15 files, 11 ok: 2 truncated, 2 duration off, 2 size different'
    """
    root = validate.folder(out, "out")
    validate.boolean(media, "media")
    validate.boolean(verify, "verify")
    if verify and not media:
        raise ConfigError("verify", "used together with media=True", verify)
    if verify:
        _import_av()  # fail before loading anything when PyAV is missing
    start, end = parse_range(since, until)
    start = start or FIRST_RUN_SINCE
    resolve(TWILIO, options)  # every loader option checked before the folder or any request
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    tracks, compositions, tracks_raw, compositions_raw = await asyncio.gather(
        aload_twilio_recordings(since=start, until=end, **options),
        aload_twilio_compositions(since=start, until=end, **options),
        aload_twilio_recordings(since=start, until=end, **options, raw=True),
        aload_twilio_compositions(since=start, until=end, **options, raw=True),
    )
    unified = pl.concat([tracks, compositions])
    files: dict[str, pl.DataFrame] = {
        "recordings.parquet": unified,
        "tracks_raw.parquet": tracks_raw,
        "compositions_raw.parquet": compositions_raw,
    }
    for name, frame in files.items():
        private_write(root / name, frame.write_parquet)
    private_write(root / "recordings.csv", csv_ready(unified).write_csv)
    manifest: dict[str, Any] = {
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "recanalytics": importlib.metadata.version("recanalytics"),
        "provider": "twilio",
        "period": {"since": start.isoformat(), "until": end.isoformat() if end else None},
        "tracks": _totals(tracks),
        "compositions": _totals(compositions),
    }
    if media:
        credentials = options.get("credentials")
        result = await adownload_media(
            unified,
            root / "media",
            credentials={"twilio": credentials} if credentials is not None else None,
            base_url=options.get("base_url"),
            transport=options.get("transport"),
            progress=options.get("progress"),
        )
        private_write(root / "media.csv", result.write_csv)
        counts = result.group_by("status").len().sort("status")
        manifest["media"] = {
            "files": {str(s): int(n) for s, n in counts.iter_rows()},
            "bytes": int(result["bytes"].sum() or 0),
        }
        if verify:
            probed = await asyncio.to_thread(probe_media, result, decode=True)
            check = verify_media(unified, probed)
            private_write(root / VERIFICATION, check.files.write_parquet)
            manifest["verification"] = {"verdict": check.verdict, **check.totals}
    manifest["files"] = {
        str(path.relative_to(root)): {"bytes": path.stat().st_size, "sha256": sha256_file(path)}
        for path in sorted(root.rglob("*"))
        if path.is_file() and path.name != MANIFEST and not path.name.endswith(".part")
    }
    write_json(root / MANIFEST, manifest)
    return manifest


archive_twilio = syncify(aarchive_twilio, "archive_twilio")
