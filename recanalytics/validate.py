"""Checks on user input, each raising a ``ConfigError`` that names the parameter and the form."""

from __future__ import annotations

import contextlib
import math
import os
import re
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx

from recanalytics.errors import ConfigError, reason
from recanalytics.redact import redact_text
from recanalytics.schema import PROVIDERS

NAME_MAX = 255  # bytes in one file or folder name: ext4, APFS, NTFS and most others


def _path_max() -> int:
    """Bytes a whole path may take, its closing NUL included (Linux 4096, macOS 1024)."""
    with contextlib.suppress(AttributeError, OSError, ValueError):  # no pathconf on Windows
        return os.pathconf("/", "PC_PATH_MAX")
    return 4096


PATH_MAX = _path_max()
SID_RE = re.compile(r"^[a-zA-Z]{2}[0-9a-fA-F]{32}$")


def sid(value: Any, parameter: str, prefix: str | None = None) -> str:
    """A 34-character Twilio SID, optionally with a fixed two-letter prefix."""
    form = (
        f"a {prefix} SID: '{prefix}' followed by 32 hex digits"
        if prefix
        else "a SID: 2 letters followed by 32 hex digits (^[a-zA-Z]{2}[0-9a-fA-F]{32}$)"
    )
    if not isinstance(value, str) or not SID_RE.fullmatch(value):
        raise ConfigError(parameter, form, value)
    if prefix and not value.startswith(prefix):
        raise ConfigError(parameter, form, value)
    return value


MAX_LISTED = 100
"""The most values one list filter takes: each is a query parameter, and a request line past
about 8 KB is refused by servers (100 SIDs take about 4.7 KB)."""


def sids(value: Any, parameter: str) -> list[str]:
    """One SID or a non-empty sequence of at most :data:`MAX_LISTED` of them."""
    items = [value] if isinstance(value, str) else value
    form = f"a SID or a non-empty list of at most {MAX_LISTED} SIDs"
    if not isinstance(items, Sequence | set | frozenset) or not items:
        raise ConfigError(parameter, form, value)
    if len(items) > MAX_LISTED:
        raise ConfigError(parameter, form, f"{len(items)} SIDs")
    return [sid(item, parameter) for item in items]


def choice(value: Any, parameter: str, allowed: Iterable[str]) -> str:
    """One of ``allowed`` (compared case-insensitively, returned in the allowed spelling)."""
    options = list(allowed)
    if isinstance(value, str):
        for option in options:
            if value.lower() == option.lower():
                return option
    raise ConfigError(parameter, "one of " + ", ".join(repr(o) for o in options), value)


def int_range(value: Any, parameter: str, low: int, high: int | None = None) -> int:
    """An integer in ``[low, high]`` (no upper bound when high is None)."""
    form = f"an integer from {low} to {high}" if high is not None else f"an integer >= {low}"
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(parameter, form, value)
    if value < low or (high is not None and value > high):
        raise ConfigError(parameter, form, value)
    return value


MAX_CONCURRENCY = 1000
"""More requests in flight than any provider's rate allows; the planner starts one worker per
slot, so an unbounded value (10**30) would exhaust memory before the first request."""


def concurrency(value: Any) -> int:
    """``max_concurrency``: requests in flight at once, 1 to 1000 (the one check of it)."""
    return int_range(value, "max_concurrency", 1, MAX_CONCURRENCY)


# Control characters, and lone surrogates (no UTF-8 form: a URL or a file name with one fails
# to encode deep inside httpx or the OS).
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


def has_control(value: str) -> bool:
    """Whether ``value`` holds a control character (C0, DEL, C1) or a lone surrogate."""
    return _CONTROL_RE.search(value) is not None


def text(value: Any, parameter: str, *, max_length: int = 1024) -> str:
    """A non-empty string without control characters (NUL, line breaks, escapes)."""
    if (
        not isinstance(value, str)
        or not value.strip()
        or len(value) > max_length
        or has_control(value)
    ):
        raise ConfigError(
            parameter,
            f"a non-empty string of at most {max_length} characters, without control "
            "characters or lone surrogates",
            value,
        )
    return value


def pattern(value: Any, parameter: str, regex: re.Pattern[str], form: str) -> str:
    """A string matching ``regex``."""
    if not isinstance(value, str) or not regex.fullmatch(value):
        raise ConfigError(parameter, form, value)
    return value


def boolean(value: Any, parameter: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(parameter, "True or False", value)
    return value


def optional_boolean(value: Any, parameter: str) -> bool | None:
    if value is not None and not isinstance(value, bool):
        raise ConfigError(parameter, "True, False or None", value)
    return value


def number(
    value: Any,
    parameter: str,
    *,
    low: float = 0.0,
    inclusive: bool = False,
    high: float | None = None,
    form: str = "",
) -> float:
    """A finite real number above ``low`` (or at least ``low``) and at most ``high`` when given;
    booleans and NaN refused."""
    form = form or f"a number {'>=' if inclusive else '>'} {low:g}" + (
        f" and <= {high:g}" if high is not None else ""
    )
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(parameter, form, value)
    try:
        real = float(value)
    except OverflowError:  # an int such as 10**400 has no float
        raise ConfigError(parameter, form, value) from None
    if not math.isfinite(real) or not (real >= low if inclusive else real > low):
        raise ConfigError(parameter, form, value)
    if high is not None and real > high:
        raise ConfigError(parameter, form, value)
    return real


def callable_or_none(value: Any, parameter: str, form: str) -> Any:
    if value is not None and not callable(value):
        raise ConfigError(parameter, form, type(value).__name__)
    return value


URL_FORM = (
    "an http:// or https:// URL with a host, such as 'https://api.example.com' (a path may "
    "follow; no user info, query or fragment, and a port, if any, of 1-65535)"
)
# Up to the last @ (a password may hold "/", spaces or an @): more than user info goes from
# an error message only, where that is harmless.
_USER_INFO = re.compile(r"(?<=//).*@")
# Dot-separated labels of letters, digits, "_" and inner "-" (IDNA-encoded by httpx), or an
# IPv6 address.
_LABEL = r"[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?"
_HOST = re.compile(rf"{_LABEL}(?:\.{_LABEL})*\.?|[0-9A-Fa-f.]*:[0-9A-Fa-f:.]*")
_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")
# A host (an IPv6 address replaced), then a port of digits if any.
_PORT = re.compile(r"[^:]*(?::[0-9]{1,5})?")


def _shown_url(value: str) -> str:
    """A rejected URL as an error shows it: no user info, no query or fragment (either may
    hold a token), the rest redacted."""
    return _USER_INFO.sub("", redact_text(re.split(r"[?#]", value, maxsplit=1)[0]))


def url(value: Any, parameter: str) -> str:
    """An absolute http(s) URL with a host and no whitespace, query or fragment (the loaders
    append paths and queries to it), and a port of 1-65535 if it names one."""
    # A rejected URL is shown without its user info or secret parameters, which may be tokens.
    shown = _shown_url(value) if isinstance(value, str) else value
    if not isinstance(value, str) or not value.strip() or any(c.isspace() for c in value):
        raise ConfigError(parameter, URL_FORM, shown)
    try:
        parsed = httpx.URL(value)
        port = parsed.port
    except (httpx.InvalidURL, ValueError):
        raise ConfigError(parameter, URL_FORM, shown) from None
    authority = value.split("//", 1)[-1].split("/", 1)[0]
    if (
        parsed.scheme not in ("http", "https")
        or not _HOST.fullmatch(parsed.raw_host.decode("ascii", "replace"))
        or "?" in value
        or "#" in value
        or "@" in authority  # user info: credentials come from credentials=, never the URL
        or not _PORT.fullmatch(re.sub(r"^\[[^\]]*\]", "h", authority))  # "x:", "x:+80"
        or _BAD_ESCAPE.search(value)
        or (port is not None and not 1 <= port <= 65535)
    ):
        raise ConfigError(parameter, URL_FORM, shown)
    return value


def _path(value: Any, parameter: str, form: str) -> Path:
    """A non-empty path without NUL whose existing ancestors are folders (so it can be made)."""
    if isinstance(value, bool) or not isinstance(value, str | os.PathLike):
        raise ConfigError(parameter, form, value)
    text = os.fspath(value)
    if not isinstance(text, str) or not text.strip() or "\0" in text:
        raise ConfigError(parameter, form, value)
    try:
        os.fsencode(text)
    except UnicodeEncodeError:  # a lone surrogate the file system's encoding cannot write
        raise ConfigError(parameter, form + " that the file system can encode", value) from None
    # "~/x" is the home folder's x, as polars and the shell read it (not a folder named "~").
    path = Path(text).expanduser() if text.startswith("~") else Path(text)
    # A longer name fails at the first stat with "File name too long", an OSError.
    if any(len(os.fsencode(part)) > NAME_MAX for part in path.parts):
        raise ConfigError(parameter, form + f" whose names are at most {NAME_MAX} bytes", value)
    # So has the whole path: names each short enough made one the check of its parents below
    # failed on, with a bare OSError "File name too long".
    if len(os.fsencode(path.absolute())) >= PATH_MAX:
        raise ConfigError(parameter, form + f" of at most {PATH_MAX - 1} bytes in all", value)
    try:
        under_file = any(p.exists() and not p.is_dir() for p in path.absolute().parents)
    except OSError as exc:  # a parent folder that cannot be looked in
        raise ConfigError(
            parameter, form + f" whose parent folders can be looked in ({reason(exc)})", value
        ) from exc
    if under_file:
        raise ConfigError(parameter, form + " whose parent folders are not files", value)
    return path


def folder(value: Any, parameter: str) -> Path:
    """A non-empty folder path (str or os.PathLike) that is not an existing file."""
    form = "a folder path (a non-empty str or os.PathLike)"
    path = _path(value, parameter, form)
    if path.exists() and not path.is_dir():
        raise ConfigError(parameter, form + " that is not an existing file", value)
    return path


def make_folders(path: Path, mode: int = 0o777) -> None:
    """``path`` and its missing parents, each made with ``mode`` (``Path.mkdir`` gives it to the
    last one only, so a store's ``provider=…/year=…`` folders were made 0755)."""
    missing = [path, *path.parents]
    missing = list(reversed(missing[: next(i for i, p in enumerate(missing) if p.is_dir())]))
    for folder in missing:
        folder.mkdir(mode=mode, exist_ok=True)


def made_folder(path: Path, parameter: str, *, private: bool = False) -> Path:
    """``path`` as a folder this process can write, made if missing (user-only when
    ``private``: a store's or an archive's).

    One that cannot be made, or that exists but cannot be written (a read-only mount, another
    user's; proven by creating and removing a temporary file in it), is a ConfigError naming
    ``parameter`` and the system's reason, before any request or load: never rows or a chart
    computed for nothing, then a bare PermissionError.
    """
    try:
        make_folders(path, 0o700 if private else 0o777)
    except OSError as exc:
        raise ConfigError(
            parameter, f"a folder that can be made here ({reason(exc)})", str(path)
        ) from exc
    try:
        fd, probe = tempfile.mkstemp(prefix=".recanalytics-write-check.", dir=path)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise ConfigError(
            parameter, f"a folder this process can write ({reason(exc)})", str(path)
        ) from exc
    return path


def writable_file(path: Path, parameter: str) -> Path:
    """``path``'s folder made if missing, and ``path`` one this process can write: a file
    there that can be written (even in a folder that cannot, or ``/dev/null``), else a folder
    it can create files in (see :func:`made_folder`). A ConfigError naming ``parameter``
    otherwise, before anything is computed."""
    if path.exists() and not path.is_dir():
        if not os.access(path, os.W_OK):
            raise ConfigError(parameter, "a file this process can write", str(path))
        return path
    made_folder(path.parent, parameter)
    return path


def file_path(value: Any, parameter: str) -> Path:
    """A non-empty file path (str or os.PathLike): not an existing folder, nor ending in a slash."""
    form = "a file path (a non-empty str or os.PathLike)"
    path = _path(value, parameter, form)
    # "out/" names a folder even before it exists; Path() would drop the slash.
    ends_as_folder = os.fspath(value).endswith(("/", os.sep))
    if path.is_dir() or ends_as_folder:
        raise ConfigError(parameter, form + " that is not a folder", value)
    return path


def providers(value: Any, parameter: str = "providers") -> list[str]:
    """None (every provider), one provider name or a sequence of them, without repeats."""
    form = "None, a provider name or a non-empty list of them: " + ", ".join(PROVIDERS)
    if value is None:
        return list(PROVIDERS)
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, Sequence | set | frozenset) or isinstance(names, bytes):
        raise ConfigError(parameter, form, value)
    if not names:  # loading nothing is a slip, not a query: None means every provider
        raise ConfigError(parameter, form, value)
    for name in names:
        if not isinstance(name, str) or name not in PROVIDERS:
            raise ConfigError(parameter, form, name)
    return list(dict.fromkeys(names))


def keyed_by_provider(value: Any) -> bool:
    """Whether ``value`` is a mapping keyed by provider name (rather than one value for all)."""
    return isinstance(value, Mapping) and bool(set(value) & set(PROVIDERS))


def check_keyed(value: Any, parameter: str) -> None:
    """A mapping keyed by provider name may hold provider names only (no typo is ignored)."""
    if keyed_by_provider(value):
        unknown = sorted(str(k) for k in set(value) - set(PROVIDERS))
        if unknown:
            raise ConfigError(
                parameter,
                "a mapping keyed by provider name (" + ", ".join(PROVIDERS) + ")",
                unknown,
            )


def per_provider(value: Any, provider: str) -> Any:
    """A mapping keyed by provider name gives this provider's entry; anything else is for all."""
    return value.get(provider) if keyed_by_provider(value) else value
