"""``os.open`` flags that exist on some systems only, as 0 where they do not.

Examples
--------
>>> import os
>>> fd = os.open(__file__, os.O_RDONLY | NOFOLLOW | BINARY)
>>> os.close(fd)
"""

from __future__ import annotations

import os

NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
"""A symbolic link at the path is an error, never followed (POSIX)."""

BINARY = getattr(os, "O_BINARY", 0)
"""Bytes as they are (Windows: without it ``os.open`` is in text mode, turning LF into CR LF
on writes and stopping reads at the first byte 0x1A)."""
