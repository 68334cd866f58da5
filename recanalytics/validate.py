"""Checks on user input, each raising a ``ConfigError`` that names the parameter and the form."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from recanalytics.errors import ConfigError

SID_RE = re.compile(r"^[a-zA-Z]{2}[0-9a-fA-F]{32}$")


def sid(value: Any, parameter: str, prefix: str | None = None) -> str:
    """A 34-character Twilio SID, optionally with a fixed two-letter prefix."""
    form = (
        f"a {prefix} SID: '{prefix}' followed by 32 hex digits"
        if prefix
        else "a SID: 2 letters followed by 32 hex digits (^[a-zA-Z]{2}[0-9a-fA-F]{32}$)"
    )
    if not isinstance(value, str) or not SID_RE.match(value):
        raise ConfigError(parameter, form, value)
    if prefix and not value.startswith(prefix):
        raise ConfigError(parameter, form, value)
    return value


def sids(value: Any, parameter: str) -> list[str]:
    """One SID or a non-empty sequence of them."""
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, Sequence | set | frozenset) or not items:
        raise ConfigError(parameter, "a SID or a non-empty list of SIDs", value)
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


def text(value: Any, parameter: str, *, max_length: int = 1024) -> str:
    """A non-empty string."""
    if not isinstance(value, str) or not value.strip() or len(value) > max_length:
        raise ConfigError(
            parameter, f"a non-empty string of at most {max_length} characters", value
        )
    return value


def pattern(value: Any, parameter: str, regex: re.Pattern[str], form: str) -> str:
    """A string matching ``regex``."""
    if not isinstance(value, str) or not regex.match(value):
        raise ConfigError(parameter, form, value)
    return value


def boolean(value: Any, parameter: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(parameter, "True or False", value)
    return value
