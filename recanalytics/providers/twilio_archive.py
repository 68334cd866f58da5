"""Twilio Video's archive: everything an account holds, before Programmable Video retires.

The mechanism is :func:`recanalytics.archive.aarchive`, which reads what to archive (track
recordings and compositions, their media) from the provider table; this module is Twilio's
public name for it, ``archive_twilio``.
"""

from __future__ import annotations

import os
from typing import Any

from recanalytics.archive import aarchive
from recanalytics.providers.twilio import TWILIO
from recanalytics.sync import syncify
from recanalytics.windows import WhenLike


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

    Twilio Programmable Video's last day is 2026-12-04 (it retires on 2026-12-05). The folder gets ``recordings.parquet``
    and ``recordings.csv`` (unified rows), ``tracks_raw.parquet`` and
    ``compositions_raw.parquet`` (every field Twilio sent), ``media/`` and ``media.csv`` with
    ``media``, and ``manifest.json`` (see :func:`recanalytics.archive.aarchive`).

    Parameters
    ----------
    out : path
        The archive folder (created). It only grows: rows of earlier runs that Twilio no
        longer lists are kept, as are files of yours in it. One run into it at a time:
        another run meanwhile is refused at once with a StoreError.
    media, verify : bool, default False
        Also download every available media file (resumable); with ``media``, also decode
        each file and check it against its metadata (needs the ``media`` extra), into
        ``verification.parquet`` and the manifest's ``verification`` verdict.
    since, until : optional
        Default: everything until now, asked without a lower bound as a load without
        ``since`` is (the manifest's period starts at 2015-01-01, Twilio Video's launch).
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
    >>> options = box.options("twilio")
    >>> manifest = asyncio.run(ra.aarchive_twilio("twilio-archive", media=True, verify=True, **options))
    >>> manifest["tracks"]["recordings"], manifest["compositions"]["recordings"]
    (20, 0)
    >>> manifest["verification"]["verdict"]
    '15 files, 11 ok: 2 truncated, 2 duration off, 2 size different'
    """
    return await aarchive(
        TWILIO.name, out, media=media, verify=verify, since=since, until=until, **options
    )


archive_twilio = syncify(aarchive_twilio, "archive_twilio")
