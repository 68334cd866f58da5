"""The SHA-256 of a file, read in blocks (media downloads and archive manifests share it)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from recanalytics.fileflags import BINARY, NOFOLLOW

BLOCK = 1 << 16


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of the file at ``path``, read in 64 KiB blocks (a symbolic link there is an
    OSError, never followed).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x"
    >>> _ = p.write_bytes(b"abc")
    >>> sha256_file(p)[:16]
    'ba7816bf8f01cfea'
    """
    digest = hashlib.sha256()
    # A symbolic link is refused, not followed: what is hashed is the file at ``path`` itself.
    fd = os.open(path, os.O_RDONLY | NOFOLLOW | BINARY)
    with os.fdopen(fd, "rb") as handle:
        for block in iter(lambda: handle.read(BLOCK), b""):
            digest.update(block)
    return digest.hexdigest()
