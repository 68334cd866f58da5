"""Helpers the provider emulators share: deterministic ids and times, tokens, filter caches."""

from __future__ import annotations

import base64
import bisect
import datetime as dt
import hashlib
import json
import random
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import httpx

from recanalytics.sandbox.core import SandboxRequest, SandboxResponse

T = TypeVar("T")

DEFAULT_START = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
DEFAULT_END = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
RANGE_DAYS_MAX = 36_525
"""The largest ``max_range_days`` an emulator takes: a century, wider than any dataset's span
(a billion days overflowed ``timedelta`` when the emulator was made)."""
ZONE_HOURS = (-12.0, 14.0)
"""The UTC offsets, in hours, accounts are in: an emulator reading dates in its account's zone
takes one in this range."""


def server_clock(config: DataConfig) -> Callable[[], float]:
    """An emulator's clock (seconds since the epoch): the system clock, but never earlier than
    the dataset's end, as a server holds no recording dated after its own now. Each answer
    sends it as its ``Date`` header; an emulator's ``clock`` attribute may be replaced (a
    provider whose clock is ahead of the client's)."""
    floor = config.end.timestamp()
    return lambda: max(time.time(), floor)


@dataclass(frozen=True)
class DataConfig:
    """What the synthetic dataset looks like: ``size`` Twilio track recordings (the other
    endpoints scale with it) created between ``start`` and ``end``, all derived from ``seed``.
    ``small_media``: recordings report the duration and size of the small file the storage host
    serves for them, with planted faults (see :mod:`recanalytics.sandbox.storage`). ``skew``
    shapes how creation times crowd towards ``end`` (smaller: more crowded; 0.03 puts about
    four in five of a 22-month dataset into its last month)."""

    seed: int = 7
    size: int = 2000
    start: dt.datetime = DEFAULT_START
    end: dt.datetime = DEFAULT_END
    small_media: bool = False
    skew: float = 0.6

    def rng(self, name: str) -> random.Random:
        # One independent stream per provider, so adding a provider leaves the others unchanged.
        digest = hashlib.sha256(f"{self.seed}:{name}".encode()).digest()
        return random.Random(int.from_bytes(digest[:8], "big"))

    def moment(self, rng: random.Random) -> dt.datetime:
        """A creation time, denser towards ``end`` (usage grows), to the second."""
        span = (self.end - self.start).total_seconds()
        return (self.start + dt.timedelta(seconds=span * rng.random() ** self.skew)).replace(
            microsecond=0
        )


def deleted_by_end(config: DataConfig, earliest: dt.datetime, deleted: dt.datetime) -> dt.datetime:
    """``deleted`` brought inside the dataset when it falls at or after ``config.end``: its delay
    after ``earliest`` (the creation or completion it follows) wrapped around the time left
    until the end, so such deletions spread over that time rather than piling up on the last
    second.

    A deletion after the end has not happened when the data is read: the storage and cost
    charts ran on past the end and showed a drop to come. The draw is made either way, so the
    random stream, and every other value, stays the same.

    Examples
    --------
    >>> import datetime as dt
    >>> from recanalytics.sandbox.common import DataConfig, deleted_by_end
    >>> config = DataConfig()
    >>> day = config.end - dt.timedelta(days=10)
    >>> deleted_by_end(config, day, day + dt.timedelta(days=3)) == day + dt.timedelta(days=3)
    True
    >>> deleted_by_end(config, day, day + dt.timedelta(days=13)) == day + dt.timedelta(days=3)
    True
    """
    left = config.end - earliest
    if deleted < config.end or left <= dt.timedelta(0):
        return deleted if deleted < config.end else earliest
    return earliest + (deleted - earliest) % left


def hex_sid(rng: random.Random, prefix: str) -> str:
    return prefix + f"{rng.getrandbits(128):032x}"


def rand_uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def basic_credentials(request: SandboxRequest) -> tuple[str, str] | None:
    header = request.headers.get("authorization", "")
    if not header.lower().startswith("basic "):
        return None
    try:
        user, _, password = base64.b64decode(header[6:]).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        return None
    return user, password


def encode_token(prefix: str, payload: dict[str, Any]) -> str:
    raw = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
    return prefix + base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(prefix: str, token: str) -> dict[str, Any] | None:
    if not token.startswith(prefix):
        return None
    body = token[len(prefix) :]
    try:
        value = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    except (ValueError, UnicodeDecodeError):
        return None
    return value if isinstance(value, dict) else None


def query_key(pairs: Sequence[tuple[str, str]], ignore: Sequence[str]) -> str:
    kept = sorted((k, v) for k, v in pairs if k not in ignore)
    return hashlib.sha256(json.dumps(kept).encode()).hexdigest()[:16]


def with_query(origin: str, path: str, pairs: Sequence[tuple[str, str]]) -> str:
    return str(httpx.URL(origin + path, params=list(pairs)))


class TimeIndex(Generic[T]):
    """Records sorted by a timestamp, with cached filtered selections (newest first)."""

    def __init__(self, records: Sequence[T], key: Callable[[T], float]) -> None:
        self.records = sorted(records, key=key)
        self.key = key
        self.keys = [key(r) for r in self.records]
        self._cache: OrderedDict[Any, list[T]] = OrderedDict()

    def add(self, record: T, key: float) -> None:
        """Insert a record (a recording that appears after the sandbox started)."""
        at = bisect.bisect_right(self.keys, key)
        self.keys.insert(at, key)
        self.records.insert(at, record)
        self.invalidate()

    def remove(self, record: T) -> None:
        """Take a record out (a recording deleted after the sandbox started)."""
        at = self.records.index(record)
        del self.records[at], self.keys[at]
        self.invalidate()

    def invalidate(self) -> None:
        """Forget cached selections, after records were added or changed."""
        self._cache.clear()

    def select(
        self,
        cache_key: Any,
        start: float | None,
        end: float | None,
        keep: Callable[[T], bool],
        *,
        end_inclusive: bool = False,
        start_exclusive: bool = False,
    ) -> list[T]:
        hit = self._cache.get(cache_key)
        if hit is not None:
            self._cache.move_to_end(cache_key)
            return hit
        lo = (
            0
            if start is None
            else (
                bisect.bisect_right(self.keys, start)
                if start_exclusive
                else bisect.bisect_left(self.keys, start)
            )
        )
        hi = (
            len(self.keys)
            if end is None
            else (
                bisect.bisect_right(self.keys, end)
                if end_inclusive
                else bisect.bisect_left(self.keys, end)
            )
        )
        chosen = [r for r in reversed(self.records[lo:hi]) if keep(r)]
        self._cache[cache_key] = chosen
        if len(self._cache) > 512:
            self._cache.popitem(last=False)
        return chosen


def bad_request(error: Callable[[int, str], SandboxResponse], message: str) -> SandboxResponse:
    return error(400, message)
