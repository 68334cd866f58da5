"""Local files read with polars as the one file their path names, never as a pattern.

polars reads a path given as text as a glob pattern: a store folder named ``recordings[eu]``,
an archive folder ``twilio-archive [2026]`` or a file ``calls [1].parquet`` matched nothing,
and a healthy file read as missing. The store, the archive and the command read every file
through these.

Examples
--------
>>> import pathlib, tempfile
>>> folder = pathlib.Path(tempfile.mkdtemp()) / "archive [2026]"
>>> folder.mkdir()
>>> pl.DataFrame({"a": [1, 2]}).write_parquet(folder / "t.parquet")
>>> read_file(pl.read_parquet, folder / "t.parquet")["a"].to_list()
[1, 2]
>>> scan_parquet_file(folder / "t.parquet").collect().height
2
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import polars as pl

T = TypeVar("T")


def read_file(read: Callable[..., T], path: str | os.PathLike[str], /, **options: Any) -> T:
    """``read(file, **options)`` of the file at ``path``, opened here.

    Parameters
    ----------
    read : callable
        A polars reader that takes an open binary file (``pl.read_parquet``,
        ``pl.read_parquet_schema``, ``pl.read_parquet_metadata``, ``pl.read_csv`` …).
    path : path
        The file.
    **options
        Passed to ``read``.

    Returns
    -------
    object
        What ``read`` returns.

    Raises
    ------
    OSError
        The file cannot be opened.
    """
    with open(path, "rb") as file:
        return read(file, **options)


def scan_parquet_file(path: Path) -> pl.LazyFrame:
    """The parquet file at ``path`` as a LazyFrame (the path taken as it is, not a pattern).

    Parameters
    ----------
    path : path
        The file.

    Returns
    -------
    polars.LazyFrame
        Its rows, read when collected.
    """
    return pl.scan_parquet(path, glob=False)
