"""Incremental, resumable loading into a :class:`~recanalytics.store.Store`.

A refresh loads the period from the newest stored ``created_at`` minus ``store.overlap`` up to
now, so its requests grow with new data, not with history. The first refresh of a provider
(no coverage recorded yet) loads from ``since`` (default :data:`FIRST_RUN_SINCE`). The period is
cut into calendar-quarter chunks loaded oldest first; each finished chunk is upserted and
checkpointed, so a refresh that crashed or was interrupted fetches only the missing chunks when
run again.
"""

from __future__ import annotations

import datetime as dt
import functools
import warnings
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypeVar

import polars as pl

from recanalytics.errors import ConfigError, LoadWarning
from recanalytics.store import RefreshReport, Store, UpsertReport
from recanalytics.windows import WhenLike, parse_range

FIRST_RUN_SINCE = dt.datetime(2015, 1, 1, tzinfo=dt.UTC)
"""Where a first refresh starts when no ``since`` is given (Twilio Video launched in 2015)."""

F = TypeVar("F", bound=Callable[..., Awaitable[pl.DataFrame]])
COVERAGE = "coverage.json"


def quarter_chunks(start: dt.datetime, end: dt.datetime) -> list[tuple[dt.datetime, dt.datetime]]:
    """``[start, end)`` cut at calendar-quarter boundaries (stable across runs)."""
    chunks = []
    cursor = start
    while cursor < end:
        month = ((cursor.month - 1) // 3 + 1) * 3 + 1
        year = cursor.year + (month > 12)
        boundary = dt.datetime(year, (month - 1) % 12 + 1, 1, tzinfo=dt.UTC)
        nxt = min(boundary, end)
        chunks.append((cursor, nxt))
        cursor = nxt
    return chunks


def _iso(value: dt.datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _parse(value: str | None) -> dt.datetime | None:
    return None if value is None else dt.datetime.fromisoformat(value)


def plan_start(
    store: Store, key: str, newest: dt.datetime | None, since: dt.datetime | None
) -> tuple[dt.datetime, bool]:
    """Where loading for ``key`` starts, and whether that is a full (first) load."""
    coverage = (store.read_meta(COVERAGE) or {}).get(key)
    covered_since = _parse(coverage["since"]) if coverage else None
    if coverage is None or (since is not None and since < (covered_since or since)):
        return since or FIRST_RUN_SINCE, True
    loaded_until = _parse(coverage.get("until"))
    anchor = max(
        d for d in (newest, loaded_until and loaded_until - store.overlap, covered_since) if d
    )
    start = anchor - store.overlap if anchor == newest else anchor
    return max(start, since) if since else start, False


def record_coverage(
    store: Store, key: str, since: dt.datetime, until: dt.datetime, full: bool
) -> None:
    coverage = store.read_meta(COVERAGE) or {}
    previous = coverage.get(key) or {}
    covered = since if full or not previous else _parse(previous["since"])
    coverage[key] = {"since": _iso(covered), "until": _iso(until)}
    store.write_meta(COVERAGE, coverage)


async def _load_chunks(
    store: Store,
    key: str,
    start: dt.datetime,
    end: dt.datetime,
    load_chunk: Callable[[dt.datetime, dt.datetime], Awaitable[pl.DataFrame]],
) -> UpsertReport:
    """Load ``[start, end)`` chunk by chunk, oldest first, checkpointing each finished chunk."""
    name = f"checkpoint-{key.replace(':', '-')}.json"
    checkpoint = store.read_meta(name) or {}
    planned = _parse(checkpoint.get("start"))
    done: set[tuple[str | None, str | None]] = set()
    if planned is not None and planned <= start:
        start = planned  # resume the interrupted run's plan, skipping its finished chunks
        done = {(a, b) for a, b in checkpoint["done"]}
    report = UpsertReport()
    for a, b in quarter_chunks(start, end):
        if (_iso(a), _iso(b)) in done:
            continue
        report += store.upsert(await load_chunk(a, b))
        done.add((_iso(a), _iso(b)))
        store.write_meta(name, {"start": _iso(start), "done": sorted(done)})
    store.clear_meta(name)
    return report


async def arefresh(
    store: Store,
    providers: str | Iterable[str] | None = None,
    *,
    since: WhenLike | None = None,
    until: WhenLike | None = None,
    **options: Any,
) -> RefreshReport:
    """Bring ``store`` up to date for each provider (see :meth:`Store.refresh`)."""
    from recanalytics.load import _providers, aload_with_status, plan

    start_at, end_at = parse_range(since, until)
    names = _providers(providers)
    shared = {k: v for k, v in options.items() if k not in ("credentials", "base_url")}
    plan(names, options.get("credentials"), options.get("base_url"), shared)
    report = RefreshReport()
    for provider in names:
        key = f"{provider}:*"
        end = end_at or dt.datetime.now(dt.UTC).replace(microsecond=0)
        start, full = plan_start(store, key, store.newest(provider), start_at)
        if start >= end:
            report.rows[provider] = UpsertReport()
            continue

        async def chunk(a: dt.datetime, b: dt.datetime, provider: str = provider) -> pl.DataFrame:
            result = await aload_with_status([provider], since=a, until=b, warn=False, **options)
            state = result.status[provider]
            if state.state != "ok":
                raise _ChunkFailed(state.error)
            return result.frame

        try:
            report.rows[provider] = await _load_chunks(store, key, start, end, chunk)
        except _ChunkFailed as exc:
            report.errors[provider] = str(exc)
            warnings.warn(
                f"{provider}: refresh stopped: {exc}. What was loaded is stored and "
                "checkpointed; refresh again to fetch only what is missing",
                LoadWarning,
                stacklevel=3,
            )
            continue
        report.windows[provider] = (start, end)
        record_coverage(store, key, start, end, full)
    return report


class _ChunkFailed(Exception):
    pass


def storable(provider: str, kinds: Iterable[str]) -> Callable[[F], F]:
    """Give an async loader the ``store=`` option.

    With a store and no filters beyond ``since``/``until``, the loader fetches only what the
    store lacks (newest stored ``created_at`` minus the overlap, or the whole range the first
    time), upserts it and returns the requested range from the store. With other filters it
    loads as usual and upserts what it loaded.
    """
    kind_list = list(kinds)

    def decorate(func: F) -> F:
        @functools.wraps(func)
        async def wrapper(*args: Any, **kwargs: Any) -> pl.DataFrame:
            store = kwargs.pop("store", None)
            if store is None:
                return await func(*args, **kwargs)
            if not isinstance(store, Store):
                raise ConfigError("store", "a recanalytics.Store", type(store).__name__)
            if kwargs.get("raw"):
                raise ConfigError(
                    "raw", "False when store= is given (the store keeps unified rows)", True
                )
            from recanalytics.options import OPTION_NAMES

            filters = {
                k
                for k, v in kwargs.items()
                if v is not None and k not in OPTION_NAMES | {"since", "until", "page_size"}
            }
            if args or filters:
                frame = await func(*args, **kwargs)
                store.upsert(frame)
                return frame
            since, until = parse_range(kwargs.get("since"), kwargs.get("until"))
            key = f"{provider}:{func.__name__}"
            newest = _newest(store, provider, kind_list)
            start, full = plan_start(store, key, newest, since)
            end = until or dt.datetime.now(dt.UTC).replace(microsecond=0)
            if start < end:

                async def chunk(a: dt.datetime, b: dt.datetime) -> pl.DataFrame:
                    return await func(**(kwargs | {"since": a, "until": b}))

                await _load_chunks(store, key, start, end, chunk)
                record_coverage(store, key, start, end, full)
            lazy = store.scan(provider).filter(pl.col("kind").is_in(kind_list))
            if since is not None:
                lazy = lazy.filter(pl.col("created_at") >= since)
            if until is not None:
                lazy = lazy.filter(pl.col("created_at") < until)
            return lazy.collect()

        return wrapper  # type: ignore[return-value]

    return decorate


def _newest(store: Store, provider: str, kinds: list[str]) -> dt.datetime | None:
    value = (
        store.scan(provider)
        .filter(pl.col("kind").is_in(kinds))
        .select(pl.col("created_at").max())
        .collect()
        .item()
    )
    return value if isinstance(value, dt.datetime) else None
