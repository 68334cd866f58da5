"""File names made from data (ids, containers, provider names) that cannot leave their folder.

A value from an API answer or a frame is never used as a path as is: :func:`safe_name` keeps a
plain name (letters, digits, ``.``, ``_``, ``-``; no leading dot, no ``--``; bounded length;
its letters in the one case it expects; not a name Windows reserves) unchanged and turns
anything else into a readable safe form plus ``--`` and 16 hex digits of its SHA-256. A plain
name never contains ``--`` and a changed one always does, so two different values never share
a name, also on a disk that does not tell upper from lower case (macOS's and Windows' by
default). :func:`media_extension` admits only known containers.
"""

from __future__ import annotations

import hashlib
import re

from recanalytics.helpers.codecs import container_info

MAX_NAME = 120
HASH_LENGTH = 16
UNKNOWN_EXTENSION = "bin"
_PLAIN = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]*")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")
# Windows opens the device, not a file, for these names, with any extension.
_RESERVED = frozenset(
    ["CON", "PRN", "AUX", "NUL"] + [f"{port}{n}" for port in ("COM", "LPT") for n in range(10)]
)


def safe_name(value: object, *, capitals: int = 0, max_length: int = MAX_NAME) -> str:
    """``value`` as one path component: itself when plain, else readable form + ``--`` + hash.

    ``capitals``: how many leading letters of a plain name are upper case, the rest lower
    case (Twilio SIDs: 2). A name cased otherwise gets the hash: two values that differ only
    in case would be one file where case is not told apart.

    Examples
    --------
    >>> safe_name("RTa0123", capitals=2), safe_name("a0123")
    ('RTa0123', 'a0123')
    >>> safe_name("A0123")
    'A0123--d60cf4e5f4761398'
    >>> safe_name("a/b")
    'a_b--c14cddc033f64b9d'
    >>> safe_name("../../etc/passwd").startswith("etc_passwd--")
    True
    """
    text = str(value)
    if (
        _PLAIN.fullmatch(text)
        and "--" not in text
        and len(text) <= max_length
        and text == text[:capitals].upper() + text[capitals:].lower()
        and text.split(".", 1)[0].upper() not in _RESERVED
        and not text.endswith(".")  # Windows drops it: "a." would be "a"
    ):
        return text
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:HASH_LENGTH]
    room = max_length - HASH_LENGTH - 2
    readable = _UNSAFE.sub("_", text).lstrip("._")[:room]
    if readable.split(".", 1)[0].upper() in _RESERVED:
        readable = f"_{readable}"[:room]
    return f"{readable or 'unnamed'}--{digest}"


def media_extension(container: str | None, url: str | None = None) -> str:
    """The file extension of a known container (or of the URL's suffix), else ``bin``.

    Examples
    --------
    >>> media_extension("MKA"), media_extension("../x"), media_extension(None, "https://h/a.wav?x")
    ('mka', 'bin', 'wav')
    """
    info = container_info(container) if container else None
    if info is None and url:
        path = url.split("?", 1)[0].split("#", 1)[0]
        last = path.rsplit("/", 1)[-1]
        info = container_info(last.rsplit(".", 1)[-1]) if "." in last else None
    return info.extension if info is not None else UNKNOWN_EXTENSION
