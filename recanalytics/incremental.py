"""Store-aware loading: the one module that knows both the loaders and the store.

Loaders (``providers/``, ``load.py``) know nothing of the store and the store (``store.py``)
knows nothing of loaders; this layer sits above both. It gives the public loaders their
``store=`` option (:func:`with_store`), ``load()`` its ``store=``, and :func:`refresh` (also
:meth:`Store.refresh`): incremental, resumable loading into a :class:`Store`.

A refresh loads the period from the newest stored ``created_at`` minus ``store.overlap`` up to
now, so its requests grow with new data, not with history. The first refresh of a provider
(no coverage recorded yet) loads from ``since`` (default :data:`FIRST_RUN_SINCE`). What was
loaded is recorded per key as one covered interval in ``_meta/coverage.json``; a load that
neither overlaps nor touches it replaces it, so the store never claims a period it skipped,
and a period outside it is loaded from the provider. The period is
cut into calendar-quarter chunks loaded oldest first; each finished chunk is upserted and
checkpointed, so a refresh that crashed or was interrupted fetches only the missing chunks when
run again. Each chunk's upsert and checkpoint, and each update of the coverage, happen under
the store's inter-process lock. Coverage or a checkpoint that cannot be read, or that records
nothing valid, is ignored with a LoadWarning: that period is loaded again, never skipped.

All of it is kept per :class:`Source` (the account the credentials name and the host reached):
two accounts, or a sandbox and the real API, loading into one store never share coverage, a
checkpoint, the newest row a refresh starts from, or the rows ``store=`` answers with. A
loader's ``store=`` also counts what a refresh of its source covered (a refresh loads every
loader's rows, unfiltered).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import hashlib
import inspect
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, TypeVar

import polars as pl

from recanalytics import clock, validate
from recanalytics.credentials import Credentials
from recanalytics.errors import (
    ConfigError,
    IncompleteLoadError,
    ProviderError,
    RecanalyticsError,
    warn_user,
)
from recanalytics.helpers._common import counted
from recanalytics.load import LoadResult, PerProvider, gather, plan
from recanalytics.options import OPTION_NAMES, check_options, resolve
from recanalytics.providers.base import Archival, Doubt, Loader, doubts_noted, shown_windows
from recanalytics.providers.common import in_range
from recanalytics.providers.registry import loaders_for, loaders_of, reading_of, spec_for
from recanalytics.schema import PENDING, empty_frame, newest_first
from recanalytics.store import COVERAGE, ParquetStore, RefreshReport, UpsertReport
from recanalytics.sync import placed, syncify
from recanalytics.windows import WhenLike, parse_range

FIRST_RUN_SINCE = dt.datetime(2015, 1, 1, tzinfo=dt.UTC)
"""Where a first refresh starts when no ``since`` is given (Twilio Video launched in 2015)."""
PENDING_HORIZON = dt.timedelta(days=90)
"""How far back a stored recording still pending (``processing``, ``enqueued`` …, see
:data:`recanalytics.schema.PENDING`) makes a load start again, so its final status is
picked up: an older one is taken to be stuck, and would make every load walk that far back."""

F = TypeVar("F", bound=Callable[..., Awaitable[pl.DataFrame]])
Period = tuple[dt.datetime, dt.datetime]


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


def load_chunks(
    start: dt.datetime, end: dt.datetime, known: dt.datetime | None = None
) -> list[tuple[dt.datetime, dt.datetime]]:
    """The chunks ``[start, end)`` is loaded in: calendar quarters (:func:`quarter_chunks`)
    up to ``known`` (the newest stored recording, in a store that covers the period: see
    :func:`_tail_from`), and the stretch past it as one.

    A first load of a history, or of a period before the store's, is checkpointed by the
    quarter, as its size is unknown. Past the newest stored recording lies what was recorded
    since: cut by the quarter, a quiet account's top-up cost a request for every quarter since
    its last recording (7 after a year and a half); in one chunk, one request when it is empty.

    Examples
    --------
    >>> day = lambda *ymd: dt.datetime(*ymd, tzinfo=dt.UTC)
    >>> [(a.month, b.month) for a, b in load_chunks(day(2026, 2, 1), day(2027, 8, 1))]
    [(2, 4), (4, 7), (7, 10), (10, 1), (1, 4), (4, 7), (7, 8)]
    >>> [(a.month, b.month) for a, b in load_chunks(day(2026, 2, 1), day(2027, 8, 1), day(2026, 8, 1))]
    [(2, 4), (4, 7), (7, 8)]
    """
    chunks = quarter_chunks(start, end)
    if known is None:
        return chunks
    within = [chunk for chunk in chunks if chunk[1] <= known]
    rest = chunks[len(within) :]
    return within + ([(rest[0][0], end)] if rest else [])


@dataclass(frozen=True)
class Source:
    """Where a load's rows come from: one account of a provider, reached at one host.

    Coverage, checkpoints and the newest stored row are kept per source, so a store loaded from
    two accounts (or from a served sandbox and the real API) never takes one's rows, or what one
    loaded, for the other's.
    """

    provider: str
    #: ``field=value`` naming the account (never a secret; see ``Credentials.account``)
    account: str
    #: the origin the load reaches (scheme, host and port of its base URL)
    host: str
    #: whether the provider's rows say their account (``ProviderSpec.rows_name_account``)
    rows_name_account: bool
    #: the ``account_id`` its rows carry, when the credentials name it
    #: (``Credentials.row_account``)
    account_id: str | None = None

    @property
    def tag(self) -> str:
        """A short hash of account and host: what coverage keys and checkpoint names carry."""
        return hashlib.sha256(f"{self.account}\n{self.host}".encode()).hexdigest()[:16]

    def key(self, loader: str) -> str:
        """The coverage key of ``loader`` (``*`` for a refresh) loading from this source."""
        return f"{self.provider}:{loader}@{self.tag}"


def source_of(provider: str, credentials: Any, base_url: Any) -> Source:
    """The source a load of ``provider`` with these options reaches (credentials from the
    environment when None; the provider's default host when ``base_url`` is None)."""
    spec = spec_for(provider)
    context = resolve(spec, {"credentials": credentials, "base_url": base_url})
    _, account, origin = context.reached()
    row_account = context.credentials.row_account() if spec.rows_name_account else None
    return Source(provider, account, origin, spec.rows_name_account, row_account)


def _of(source: Source, key: str) -> bool:
    """Whether coverage ``key`` is of ``source`` (any loader's, or a refresh's)."""
    return key.startswith(f"{source.provider}:") and key.rpartition("@")[2] == source.tag


SOURCES = "sources.json"
"""The store's record of the sources it holds rows of, for each provider whose rows do not say
their account (``{provider: [tag, …]}``, see :meth:`Source.tag`): written with their first
rows, whether or not a load of them ever finished (its coverage is recorded only then)."""


def _tags_stored(store: ParquetStore, provider: str) -> set[str]:
    """The tags of every source whose rows of ``provider`` the store may hold: those its
    coverage, its checkpoints (a load or refresh stopped part-way, its finished chunks stored)
    and :data:`SOURCES` name."""
    tags = {
        key.rpartition("@")[2]
        for key in _coverage(store, quiet=True)
        if key.startswith(f"{provider}:") and "@" in key
    }
    with contextlib.suppress(OSError):  # no _meta yet
        # checkpoint_name: checkpoint-{provider}-{loader, or "all"}@{tag}.json
        for path in store.meta_path("").glob(f"checkpoint-{provider}-*@*.json"):
            tags.add(path.name.removesuffix(".json").rpartition("@")[2])
    recorded = store.read_meta(SOURCES, quiet=True)
    if isinstance(recorded, dict) and isinstance(recorded.get(provider), list):
        tags |= {tag for tag in recorded[provider] if isinstance(tag, str)}
    return tags


def _record_source(store: ParquetStore, source: Source) -> None:
    """Before ``source``'s rows are upserted (under the store's lock): record in
    :data:`SOURCES` that the store holds rows of it, for a provider whose rows do not say
    their account, so a load of another source is refused even if no load of this one ever
    finishes. Refused here too when another source's rows came in meanwhile (another
    process)."""
    if source.rows_name_account:
        return
    _refuse_mixing(store, source)
    recorded = store.read_meta(SOURCES, quiet=True)
    recorded = recorded if isinstance(recorded, dict) else {}
    tags = recorded.get(source.provider)
    tags = [t for t in tags if isinstance(t, str)] if isinstance(tags, list) else []
    if source.tag not in tags:
        store.write_meta(SOURCES, recorded | {source.provider: sorted([*tags, source.tag])})


def _refuse_mixing(store: ParquetStore, source: Source) -> None:
    """Refuse a load whose rows the store could not tell from rows of another source it holds:
    a provider whose rows do not say their account is kept to one account and host per store.
    Another source's rows are known by its coverage, its checkpoints and :data:`SOURCES`."""
    if source.rows_name_account:
        return
    if _tags_stored(store, source.provider) - {source.tag}:
        raise ConfigError(
            "store",
            f"a store holding {source.provider} rows of this account and host only: "
            f"{source.provider} rows do not say their account, and this store holds rows "
            "loaded from another account or host",
            str(store.path),
            hint=f"use one Store per {source.provider} account and host",
        )


def _iso(value: dt.datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _instant(value: Any) -> dt.datetime | None:
    """An ISO 8601 instant with its offset as metadata records it, else None."""
    if not isinstance(value, str):
        return None
    try:
        when = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return when if when.tzinfo is not None else None


def _period(entry: Any) -> Period | None:
    """A recorded ``{"since": …, "until": …}`` as an interval, None when it is not one."""
    if not isinstance(entry, dict):
        return None
    since, until = _instant(entry.get("since")), _instant(entry.get("until"))
    return (since, until) if since is not None and until is not None and since <= until else None


def _accounts(value: Any) -> frozenset[str] | None:
    """A recorded list of ``account_id`` values (missing: none), None when it is not one."""
    if value is None:
        return frozenset()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        return None
    return frozenset(value)


class Covered(NamedTuple):
    """What a key loaded: the interval ``[since, until)``, the ``account_id`` values of the
    rows it loaded (the rows of its source, for a provider whose rows say their account) and
    the provider's ``READING`` it was read under (0: recorded before readings were).

    ``ahead`` is the ``until`` recorded where it lies past the system clock's now (``until``
    is then cut back to now): the clock was ahead when it was recorded, or is behind now, so
    how far the load really reached is not known (see :func:`_start_within`)."""

    since: dt.datetime
    until: dt.datetime
    accounts: frozenset[str] = frozenset()
    reading: int = 0
    ahead: dt.datetime | None = None


def _reading(value: Any) -> int:
    """A recorded reading; 0 (older than any) when missing or not a whole number."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def _entry(entry: Any, now: dt.datetime) -> Covered | None:
    period = _period(entry)
    accounts = _accounts(entry.get("accounts")) if isinstance(entry, dict) else None
    if period is None or accounts is None:
        return None
    since, until = period
    # Nothing is loaded past now: an until beyond it was recorded by a clock ahead (or this one
    # is behind), and trusted it hid every recording made before it from every later load.
    # A few seconds past it is another machine's clock or a step back by NTP, not an error.
    ahead = until if until > now + clock.SKEW_NOTED else None
    return Covered(
        since, max(since, min(until, now)), accounts, _reading(entry.get("reading")), ahead
    )


def _current(key: str, covered: Covered) -> bool:
    """Whether ``covered`` was read as this version reads its provider's answers: coverage
    recorded under an older reading (or before readings were recorded) is not trusted, so its
    period is loaded again, once, and its stored rows replaced by rows read as they are now."""
    provider = key.partition(":")[0]
    try:
        return covered.reading >= reading_of(provider)
    except ConfigError:  # a provider this version does not know: nothing to load again
        return True


def _coverage(store: ParquetStore, *, quiet: bool = False) -> dict[str, Covered]:
    """Every valid interval in the store's coverage. An entry (or a whole file) that is not
    one is dropped with a LoadWarning (unless ``quiet``): its period counts as never loaded."""
    recorded = store.read_meta(COVERAGE, quiet=quiet)
    if recorded is None:
        return {}
    if not isinstance(recorded, dict):
        if not quiet:
            store.distrust(COVERAGE, "is not a mapping of loaded periods")
        return {}
    now = clock.now()
    periods = {key: _entry(entry, now) for key, entry in recorded.items()}
    bad = sorted(str(key) for key, period in periods.items() if period is None)
    if bad and not quiet:
        store.distrust(COVERAGE, f"records no valid period for {', '.join(bad)}")
    return {key: period for key, period in periods.items() if period is not None}


def _covered(store: ParquetStore, key: str, *, quiet: bool = False) -> Covered | None:
    """What was loaded for ``key``, or None."""
    return _coverage(store, quiet=quiet).get(key)


def _tail_from(
    store: ParquetStore, keys: Iterable[str], newest: dt.datetime | None, start: dt.datetime
) -> dt.datetime | None:
    """Where the stretch a load asks for as one chunk starts (see :func:`load_chunks`): past
    the ``newest`` stored recording (or from ``start``), when coverage of ``keys`` read as this
    version reads them says the store holds what came before; None (every chunk a quarter) for
    a first load, or one resumed, whose size is unknown."""
    coverage = _coverage(store, quiet=True)  # plan_start warned of what is wrong with it
    # Only where that coverage holds ``start``: a backfill before it is a load of unknown size.
    if not any(
        (c := coverage.get(k)) is not None and _current(k, c) and c.since <= start <= c.until
        for k in keys
    ):
        return None
    return start if newest is None else max(newest, start)


def _accounts_of(store: ParquetStore, source: Source) -> list[str] | None:
    """The ``account_id`` values of ``source``'s rows, or None (every row of the provider)
    where rows do not say their account (the store then holds one source's, see
    :func:`_refuse_mixing`).

    They are the account its credentials name (as rows spell it) and every account any
    coverage of the source recorded (a refresh's, every loader's): what one load found stays
    ``source``'s whatever a later one lists. A load answered with an empty list recorded no
    account, so rows of the accounts it did not list are never dropped from answers on its word.
    """
    if not source.rows_name_account:
        return None
    known = {source.account_id} if source.account_id else set()
    # quiet: plan_start warns about a bad coverage file
    for key, covered in _coverage(store, quiet=True).items():
        if _of(source, key):
            known |= covered.accounts
    return sorted(known)


def _newest(
    store: ParquetStore, source: Source, kinds: list[str] | None = None
) -> dt.datetime | None:
    """The newest stored ``created_at`` of ``source``'s rows (of ``kinds``)."""
    return store.newest(source.provider, kinds, accounts=_accounts_of(store, source))


def _oldest_pending(
    store: ParquetStore, source: Source, kinds: list[str] | None = None
) -> dt.datetime | None:
    """The oldest stored ``created_at`` of ``source``'s rows (of ``kinds``) whose status is
    not final yet, within :data:`PENDING_HORIZON` of now."""
    accounts = _accounts_of(store, source)
    horizon = clock.now() - PENDING_HORIZON
    with store.locked(shared=True):
        lazy = store.scan(source.provider).filter(
            pl.col("status").is_in(sorted(PENDING)), pl.col("created_at") >= horizon
        )
        if kinds is not None:
            lazy = lazy.filter(pl.col("kind").is_in(kinds))
        if accounts is not None:
            lazy = lazy.filter(pl.col("account_id").is_in(accounts))
        value = store.collect(lazy.select(pl.col("created_at").min())).item()
    return value if isinstance(value, dt.datetime) else None


def _before(when: dt.datetime, delta: dt.timedelta) -> dt.datetime:
    """``when - delta``, or the earliest datetime when that is out of range."""
    try:
        return when - delta
    except OverflowError:
        return dt.datetime.min.replace(tzinfo=dt.UTC)


def plan_start(
    store: ParquetStore,
    key: str,
    newest: dt.datetime | None,
    since: dt.datetime | None,
    *,
    pending: dt.datetime | None = None,
    also: Iterable[str] = (),
    any_reading: bool = False,
) -> dt.datetime:
    """Where loading for ``key`` starts: nothing of ``[since, now)`` that is not covered is
    skipped, and the last ``store.overlap`` before the newest stored ``created_at`` (and
    before the end of the covered period, for recordings listed late) is loaded again (status
    changes, deletions), and so is everything from the oldest recording still pending.

    Parameters
    ----------
    store : ParquetStore
        The store whose coverage and overlap decide.
    key : str
        :meth:`Source.key`: ``provider:*@tag`` for a refresh, ``provider:loader@tag`` for a
        loader's ``store=``.
    newest : datetime, optional
        The newest stored ``created_at`` for what ``key`` loads.
    since : datetime, optional
        The start asked for; None: where the store stands, or where an interrupted first run
        planned to start (its checkpoint), or :data:`FIRST_RUN_SINCE`.
    pending : datetime, optional
        The oldest stored ``created_at`` of what ``key`` loads whose status is not final
        (within :data:`PENDING_HORIZON`): loaded again until it is.
    also : iterable of str, optional
        Keys whose coverage counts as ``key``'s: a refresh's (``provider:*@tag``) for a
        loader's ``store=``, as a refresh loads every recording of each of the provider's
        loaders. The latest start any of them allows wins.
    any_reading : bool, default False
        Trust coverage recorded under an older reading too (where the stored rows could
        answer when loading them again is not possible).

    Returns
    -------
    datetime
        The start of the period to load (up to the caller's end).
    """
    coverage = _coverage(store)
    recorded = {k: c for k in (key, *also) if (c := coverage.get(k)) is not None}
    for k, c in recorded.items():
        if c.ahead is not None:
            _say_ahead(store, k, c)
    covering = [c for k, c in recorded.items() if any_reading or _current(k, c)]
    if not covering:
        if since is None:
            # An interrupted first run is resumed, not walked again from FIRST_RUN_SINCE.
            since = _checkpoint(store, key, quiet=True).start
        if recorded:
            # Read under an older reading: the period it covers is loaded again, once (its
            # coverage is then recorded under this one), and its rows upserted over the old.
            earlier = min(c.since for c in recorded.values())
            since = since or earlier
            _say_read_again(store, key, recorded, since)
        return since or FIRST_RUN_SINCE
    # Each start leaves only what its own interval covers unloaded: the latest is as safe.
    return max(_start_within(c, store.overlap, newest, since, pending) for c in covering)


def _say_ahead(store: ParquetStore, key: str, covered: Covered) -> None:
    warn_user(
        f"{store.meta_path(COVERAGE)}: {key} is recorded as loaded up to "
        f"{covered.ahead:%Y-%m-%d %H:%M} UTC, past the system clock's now "
        f"({covered.until:%Y-%m-%d %H:%M} UTC): the clock was ahead when it was recorded, or "
        "is behind now, so how far that load reached is not known; loading again from the "
        "newest stored recording (set the system clock right)"
    )


def _say_read_again(
    store: ParquetStore, key: str, recorded: dict[str, Covered], since: dt.datetime
) -> None:
    provider = key.partition(":")[0]
    readings = sorted({c.reading for c in recorded.values()})
    was = " and ".join(str(r) if r else "unrecorded (an older version)" for r in readings)
    warn_user(
        f"{store.meta_path(COVERAGE)}: {provider}'s period from {since.date()} was loaded "
        f"under an older reading of its data (reading {was}; this version reads it as "
        f"{reading_of(provider)}): it is loaded again once, so the stored rows read as this "
        "version reads them"
    )


def _start_within(
    covered: Covered,
    overlap: dt.timedelta,
    newest: dt.datetime | None,
    since: dt.datetime | None,
    pending: dt.datetime | None,
) -> dt.datetime:
    """:func:`plan_start` given one covered interval."""
    covered_since, covered_until = covered.since, covered.until
    if since is not None and since < covered_since:
        return since
    # Rows outside the covered interval came from elsewhere (another key, a manual upsert):
    # past its end they must not hide a gap, before its start they must not drag the window
    # back over history this key never loaded.
    last = newest if newest is not None and covered_since <= newest < covered_until else None
    if covered.ahead is not None:
        # Recorded by a clock ahead: the load reached its real now, unknown, but at least its
        # newest row (loaded then), so it is loaded again from there.
        start = covered_since if last is None else _before(last, overlap)
    else:
        start = _before(last or covered_until, overlap)
    if pending is not None and covered_since <= pending < start:
        start = pending
    return start if since is None else max(start, since)


def loaded_until(until: dt.datetime | None) -> dt.datetime:
    """Where a load for the store ends: ``until``, but never past now. Nothing exists later
    yet, and coverage recorded into the future kept a later load of that period from asking:
    recordings made after it were never stored."""
    now = clock.now().replace(microsecond=0)
    return now if until is None else min(until, now)


def record_coverage(
    store: ParquetStore,
    key: str,
    since: dt.datetime,
    until: dt.datetime,
    accounts: Iterable[str] = (),
) -> None:
    """Record that ``[since, until)`` was loaded for ``key``, its rows of ``accounts``.

    The covered interval grows only by a load that overlaps or touches it; any other load
    replaces it, so coverage never spans a period that was not loaded. The accounts only grow:
    rows loaded before stay stored.
    """
    with store.locked():  # another process may be recording its own key
        # Read (and distrusted, if it had to be) when the load was planned: this rewrites it.
        # Keys of the format before sources (no "@") say nothing of whose rows they loaded:
        # never looked up, they are dropped.
        coverage = {k: v for k, v in _coverage(store, quiet=True).items() if "@" in k}
        previous = coverage.get(key)
        known = frozenset(accounts)
        if previous is not None:
            known |= previous.accounts
            # A period read under an older reading is not joined to this one: it was not
            # loaded again, unless this load spans it.
            current = _current(key, previous)
            if previous.ahead is not None:
                # Read back to now (the clock was ahead): it reaches no further than this load.
                previous = previous._replace(until=max(previous.since, min(previous.until, until)))
            if current and since <= previous.until and previous.since <= until:
                since, until = min(since, previous.since), max(until, previous.until)
        reading = reading_of(key.partition(":")[0])
        coverage[key] = Covered(since, until, known, reading)
        recorded = {
            k: {
                "since": _iso(c.since),
                "until": _iso(c.until),
                "accounts": sorted(c.accounts),
                "reading": c.reading,
            }
            for k, c in coverage.items()
        }
        store.write_meta(COVERAGE, recorded)


def _chunk(pair: Any) -> tuple[str, str] | None:
    """A finished chunk as a checkpoint records it (two ISO instants), None when it is not."""
    if not isinstance(pair, list) or len(pair) != 2:
        return None
    period = _period({"since": pair[0], "until": pair[1]})
    return None if period is None else (pair[0], pair[1])


class Checkpoint(NamedTuple):
    """An interrupted run's planned start, finished chunks and the accounts of their rows."""

    start: dt.datetime | None = None
    done: frozenset[tuple[str, str]] = frozenset()
    accounts: frozenset[str] = frozenset()


def checkpoint_name(key: str) -> str:
    """The metadata file of ``key``'s checkpoint (a file name on every platform)."""
    return f"checkpoint-{key.replace(':', '-').replace('*', 'all')}.json"


def _reading_of_key(key: str) -> int:
    """The ``READING`` of ``key``'s provider (0 for one this version does not know)."""
    try:
        return reading_of(key.partition(":")[0])
    except ConfigError:
        return 0


def _checkpoint(store: ParquetStore, key: str, *, quiet: bool = False) -> Checkpoint:
    """``key``'s interrupted run's checkpoint; empty when there is none, when it is not valid (a
    LoadWarning says so, unless ``quiet``: every chunk is loaded again), or when its chunks were
    read under an older reading of the provider's answers (an older version's run: resumed,
    its finished chunks would be recorded as read under this one without being read again)."""
    recorded = store.read_meta(checkpoint_name(key), quiet=quiet)
    if recorded is None:
        return Checkpoint()
    name = checkpoint_name(key)
    valid = isinstance(recorded, dict) and isinstance(recorded.get("done"), list)
    start = _instant(recorded.get("start")) if valid else None
    chunks = [_chunk(pair) for pair in recorded["done"]] if valid else []
    done = frozenset(chunk for chunk in chunks if chunk is not None)
    accounts = _accounts(recorded.get("accounts")) if valid else None
    if start is None or None in chunks or accounts is None:
        if not quiet:
            store.distrust(name, "is not a valid checkpoint")
        return Checkpoint()
    now = clock.now()
    reached = max([start, *(_instant(b) or start for _, b in done)])
    if reached > now + clock.SKEW_NOTED:
        # A chunk ending past now was loaded by a clock ahead: what it found is not what its
        # period holds now, and no chunk of that run can be told to be complete.
        if not quiet:
            store.distrust(
                name,
                f"records loading up to {reached:%Y-%m-%d %H:%M} UTC, past the system clock's "
                f"now ({now:%Y-%m-%d %H:%M} UTC): the clock was ahead when it was written, or "
                "is behind now",
            )
        return Checkpoint()
    if _reading(recorded.get("reading")) < _reading_of_key(key):
        return Checkpoint()
    return Checkpoint(start, done, accounts)


@dataclass(frozen=True)
class Unlisted:
    """The stored rows a complete load of a period answers for, when it no longer lists them:
    ``source``'s rows of ``kinds``, those of its loaders that drop a deleted recording from
    their listing (:attr:`~recanalytics.providers.base.Loader.drops_deleted`; none: nothing
    is marked)."""

    source: Source
    kinds: tuple[str, ...]

    @classmethod
    def of(cls, source: Source, loaders: Iterable[Loader[Any]]) -> Unlisted:
        kinds = tuple(kind for loader in loaders if loader.drops_deleted for kind in loader.kinds)
        return cls(source, kinds)

    def mark(
        self,
        store: ParquetStore,
        frame: pl.DataFrame,
        since: dt.datetime,
        until: dt.datetime,
        accounts: Iterable[str],
    ) -> int:
        """Mark ``deleted`` the stored rows created in ``[since, until)`` that ``frame``, the
        complete load of exactly that period, does not list; ``accounts``: those of the rows
        this run loaded. Returns how many were marked."""
        if not self.kinds:
            return 0
        known = _accounts_of(store, self.source)
        if known is None:
            return 0  # rows that name no account: another account's cannot be told apart
        owners = sorted({*known, *accounts})
        listed = frame["recording_id"].drop_nulls().to_list()
        return store.mark_unlisted(
            self.source.provider, since, until, listed, kinds=self.kinds, accounts=owners
        )


class Loaded(NamedTuple):
    """What :func:`_load_chunks` loaded: the accounts of its rows, and where the period it may
    record as loaded ends (at the start of its first chunk whose listing a retired provider
    answered empty somewhere, see :class:`~recanalytics.providers.base.Doubt`)."""

    accounts: frozenset[str]
    until: dt.datetime


async def _load_chunks(
    store: ParquetStore,
    key: str,
    start: dt.datetime,
    end: dt.datetime,
    load_chunk: Callable[[dt.datetime, dt.datetime], Awaitable[pl.DataFrame]],
    report: UpsertReport,
    unlisted: Unlisted | None = None,
    known: dt.datetime | None = None,
    source: Source | None = None,
) -> Loaded:
    """Load ``[start, end)`` chunk by chunk (:func:`load_chunks`, ``known`` where the store's
    coverage ends), oldest first, checkpointing each finished chunk; ``report`` counts each
    chunk's rows as it is stored (so a run that fails part-way still says what it stored).

    A chunk is a complete load of ``[a, b)`` once ``load_chunk`` returns (a failed or cut
    short one raises): with ``unlisted``, the stored rows of that period it no longer lists
    are marked deleted with its rows (:meth:`Unlisted.mark`), counted as updated. A chunk
    that raised marks nothing.

    A chunk in some query of which a page came back empty once the provider's service had
    retired (a :class:`~recanalytics.providers.base.Doubt`: its API may list nothing any
    more) is no complete load either: its rows are stored, but it marks nothing, is not
    checkpointed as done, and the period to record as loaded ends at its start (``until``;
    ``start`` when it is the first), so a later load asks again rather than answer "none"
    from the store. One LoadWarning says so for the whole.

    ``source``: whose rows they are, recorded with the first (:func:`_record_source`).

    Returns
    -------
    Loaded
        The ``account_id`` values of the rows loaded (with those of a resumed run's chunks),
        and the end of the period loaded.
    """
    name = checkpoint_name(key)
    checkpoint = _checkpoint(store, key)
    done: set[tuple[str | None, str | None]] = set()
    accounts: set[str] = set()
    if checkpoint.start is not None and checkpoint.start <= start:
        start = checkpoint.start  # resume the interrupted run's plan, skipping finished chunks
        done, accounts = set(checkpoint.done), set(checkpoint.accounts)
    listed = bool(accounts)  # the resumed run's chunks listed rows
    doubted: list[Doubt] = []
    until = end
    # An empty quarter is no news: the whole is judged below.
    with doubts_noted(say=False) as noted:
        for a, b in load_chunks(start, end, known):
            if (_iso(a), _iso(b)) in done:
                continue
            before = len(noted.found)
            frame = await load_chunk(a, b)
            in_doubt = noted.found[before:]
            listed = listed or frame.height > 0
            accounts.update(frame["account_id"].drop_nulls().unique().to_list())
            with store.locked():  # the chunk's rows and the checkpoint that says so, together
                if source is not None:
                    _record_source(store, source)
                report += store.upsert(frame)
                if in_doubt:
                    doubted += in_doubt
                    until = min(until, a)
                else:
                    if unlisted is not None:
                        report.updated += unlisted.mark(store, frame, a, b, accounts)
                    done.add((_iso(a), _iso(b)))
                store.write_meta(
                    name,
                    {
                        "start": _iso(start),
                        "done": sorted(done),
                        "accounts": sorted(accounts),
                        "reading": _reading_of_key(key),
                    },
                )
    store.clear_meta(name)
    if doubted:
        _say_doubted(key.partition(":")[0], (start, end), until, listed, doubted)
    return Loaded(frozenset(accounts), until)


def _say_doubted(
    provider: str,
    period: tuple[dt.datetime, dt.datetime],
    until: dt.datetime,
    listed: bool,
    doubted: Sequence[Doubt],
) -> None:
    """One LoadWarning for a store's load of ``period`` some of whose queries came back empty
    after the provider's retirement (``doubted``): which, and that the period is recorded as
    loaded only up to ``until`` (its start: none); ``listed``: whether any chunk listed rows."""
    start, end = period
    retired = doubted[0].retired
    if listed:
        windows = [w for doubt in doubted for w in doubt.windows]
        said = (
            f"{provider}: {counted(len(windows), 'query', 'queries')} of its listings "
            f"({shown_windows(windows)}) came back empty after {retired.service} retired on "
            f"{retired.retires}"
        )
    else:
        said = (
            f"{provider} listed no recordings from {start:%Y-%m-%d} to {end:%Y-%m-%d}, and "
            f"{retired.reason}"
        )
    recorded = (
        "no period as loaded from this answer (a later load asks again)"
        if until <= start
        else f"the period as loaded only up to {until:%Y-%m-%d %H:%M} UTC (a later load asks "
        "again from there)"
    )
    warn_user(
        f"{said}: its API may list nothing any more, so the store records {recorded}; the rows "
        "it listed are stored, those it holds stay, and store= answers with them"
    )


async def arefresh(
    store: ParquetStore,
    providers: str | Iterable[str] | None = None,
    *,
    since: WhenLike | None = None,
    until: WhenLike | None = None,
    **options: Any,
) -> RefreshReport:
    """Bring ``store`` up to date: new recordings, and status changes within its overlap.

    The first refresh of a provider loads from ``since`` (default 2015-01-01); later ones
    from the newest stored ``created_at`` minus the store's ``overlap``, so their requests grow
    with new data, not with history. Work is checkpointed by the chunk (:func:`load_chunks`:
    calendar quarters, the stretch past the newest stored row of a covered period in one):
    after a crash or an interruption, refreshing again fetches only the missing chunks.
    ``store.refresh(...)`` is the same call. A provider whose listing drops deleted recordings
    (Plivo, SignalWire) has the stored rows of each chunk loaded whole that it no longer lists
    marked ``deleted`` (kept, counted as updated; see :class:`Unlisted`).

    Parameters
    ----------
    store : Store
        The store to bring up to date (:class:`recanalytics.Store`).
    providers : str or list of str, optional
        Default: every configured provider (see :func:`recanalytics.load`); the others get an
        empty ``UpsertReport`` and no error, unless none is configured. A provider named
        without credentials is in ``errors``.
    since, until : str, date or datetime, optional
        A ``since`` earlier than what the store covers loads that period too; ``until``
        defaults to now.
    **options
        As for :func:`recanalytics.load` (``credentials``, ``base_url``, ``transport`` …).

    Returns
    -------
    RefreshReport
        Rows inserted and updated per provider, the window loaded, and errors.

    Examples
    --------
    >>> import asyncio
    >>> store = ra.Store("recordings-store")
    >>> report = asyncio.run(ra.arefresh(store, ["twilio"], since="2025-01-01", **box.load_options()))
    >>> report.inserted > 0, report.updated
    (True, 0)
    >>> again = asyncio.run(ra.arefresh(store, ["twilio"], **box.load_options()))
    >>> again.inserted, again.updated  # nothing new
    (0, 0)
    >>> store.refresh(["twilio"], **box.load_options()).inserted  # the same, as a method
    0
    """
    if not isinstance(store, ParquetStore):
        raise ConfigError("store", "a recanalytics.Store", type(store).__name__)
    start_at, end_at = parse_range(since, until)
    names = validate.providers(providers)
    shared = {k: v for k, v in options.items() if k not in ("credentials", "base_url")}
    planned, skipped = plan(names, options.get("credentials"), options.get("base_url"), shared)
    store.check_writable()  # not after loading: the rows would be lost
    sources = {
        name: source_of(name, kwargs["credentials"], kwargs["base_url"])
        for name, kwargs in planned.items()
    }
    for source in sources.values():
        _refuse_mixing(store, source)
    # As load() does: with no providers named, one none of whose credentials are set is
    # skipped quietly (a cron job's environment holds the accounts it refreshes), unless none
    # is configured at all. One named, or whose credentials are set but incomplete, is an error.
    quiet = providers is None and bool(planned)
    report = RefreshReport()
    for provider in names:
        if provider in skipped:
            report.rows[provider] = UpsertReport()
            if not (quiet and skipped[provider].state == "skipped"):
                _stopped(report, provider, skipped[provider].error)
            continue
        source = sources[provider]
        key = source.key("*")
        end = loaded_until(end_at)
        newest = _newest(store, source)
        start = plan_start(store, key, newest, start_at, pending=_oldest_pending(store, source))
        if start >= end:
            report.rows[provider] = UpsertReport()
            continue

        async def chunk(a: dt.datetime, b: dt.datetime, provider: str = provider) -> pl.DataFrame:
            result = await gather(
                [provider],
                since=a,
                until=b,
                credentials=options.get("credentials"),
                base_url=options.get("base_url"),
                warn=False,
                loaders=loaders_for,
                options=shared,
            )
            state = result.status[provider]
            if state.state != "ok":
                raise _ChunkFailed(state.error)
            return result.frame

        stored = report.rows[provider] = UpsertReport()
        unlisted = Unlisted.of(source, loaders_of(provider))
        known = _tail_from(store, [key], newest, start)
        try:
            loaded = await _load_chunks(
                store, key, start, end, chunk, stored, unlisted, known=known, source=source
            )
        except _ChunkFailed as exc:
            _stopped(report, provider, str(exc))
            continue
        report.windows[provider] = (start, end)
        if loaded.until > start:
            record_coverage(store, key, start, loaded.until, loaded.accounts)
    return report


def _stopped(report: RefreshReport, provider: str, error: str | None) -> None:
    report.errors[provider] = str(error)
    # The error's text starts with the provider's name: said once.
    said = str(error).removeprefix(f"{provider}: ")
    warn_user(
        f"{provider}: refresh stopped: {said}. What was loaded is stored and "
        "checkpointed; refresh again to fetch only what is missing"
    )


class _ChunkFailed(Exception):
    pass


refresh = syncify(arefresh, "refresh")


def with_store(loader: Loader[F]) -> F:
    """``loader``'s async function with the ``store=`` option.

    With a store and no filters beyond ``since``/``until``, the loader fetches only what the
    store lacks (newest stored ``created_at`` minus the overlap, or the whole range the first
    time; what a refresh of the same source loaded counts), upserts it and returns the
    requested range from the store: the rows of the source's accounts (see
    :func:`_accounts_of`), with the stored rows it no longer lists marked ``deleted`` where the
    listing drops deleted recordings (see :class:`Unlisted`). With other filters it loads as usual and upserts what it loaded:
    coverage, which records unfiltered loads, never answers a filtered call. A load that fails
    raises the provider's error, saying how many stored rows the range asked has.
    """
    provider, kind_list, func = loader.provider, list(loader.kinds), loader.load

    @functools.wraps(func)
    async def wrapper(*args: Any, **kwargs: Any) -> pl.DataFrame:
        store = kwargs.pop("store", None)
        if store is None:
            return await func(*args, **kwargs)
        if not isinstance(store, ParquetStore):
            raise ConfigError("store", "a recanalytics.Store", type(store).__name__)
        if kwargs.get("raw"):
            raise ConfigError(
                "raw", "False when store= is given (the store keeps unified rows)", True
            )
        # How rows read (SignalWire's media_format) is no filter: rows are loaded and stored
        # as a load without it reads them, and answered in the form asked. An mp3 load had
        # written mp3 URLs over the stored wav ones, which later default calls answered.
        style = {k: kwargs.pop(k) for k in loader.style_options if k in kwargs}
        restyle = loader.restyle if style else None
        if restyle is not None:
            restyle(empty_frame(), style)  # a bad value is refused before any request

        def shown(frame: pl.DataFrame) -> pl.DataFrame:
            return frame if restyle is None else restyle(frame, style)

        filters = {
            k
            for k, v in kwargs.items()
            if v is not None and k not in OPTION_NAMES | {"since", "until", "page_size"}
        }
        store.check_writable()  # not after loading: the rows would be lost
        source = source_of(provider, kwargs.get("credentials"), kwargs.get("base_url"))
        _refuse_mixing(store, source)  # before upserting rows it could not tell apart
        if args or filters:
            frame = await func(*args, **kwargs)
            with store.locked():
                _record_source(store, source)
                store.upsert(frame)
            return shown(frame)
        since, until = parse_range(kwargs.get("since"), kwargs.get("until"))
        _check_load_arguments(func, provider, kwargs)
        key = source.key(func.__name__)
        newest = _newest(store, source, kind_list)
        pending = _oldest_pending(store, source, kind_list)
        # No since asks for everything: the store must cover it from FIRST_RUN_SINCE. A
        # refresh of this source loaded this loader's rows, unfiltered, as this call does.
        start = plan_start(
            store, key, newest, since or FIRST_RUN_SINCE, pending=pending, also=[source.key("*")]
        )
        end = loaded_until(until)
        if start < end:
            loaded: list[pl.DataFrame] = []

            async def chunk(a: dt.datetime, b: dt.datetime) -> pl.DataFrame:
                frame = await func(**(kwargs | {"since": a, "until": b}))
                loaded.append(frame)  # stored next, or _load_chunks raises StoreError
                return frame

            unlisted = Unlisted.of(source, [loader])
            known = _tail_from(store, [key, source.key("*")], newest, start)
            try:
                done = await _load_chunks(
                    store,
                    key,
                    start,
                    end,
                    chunk,
                    UpsertReport(),
                    unlisted,
                    known=known,
                    source=source,
                )
            except ProviderError as exc:
                read_before = plan_start(
                    store,
                    key,
                    newest,
                    since or FIRST_RUN_SINCE,
                    pending=pending,
                    also=[source.key("*")],
                    any_reading=True,
                )
                if read_before >= end:
                    # Only loading again under this version's reading failed (a provider
                    # gone since, as Twilio Video after 2026-12-05): the stored rows still
                    # answer, as an older version read them, rather than none at all.
                    warn_user(
                        f"{provider}: the stored rows of this range were read by an older "
                        f"version and could not be read again ({exc}); they are answered as "
                        "it read them"
                    )
                    return shown(_stored(store, source, kind_list, since, until))
                failure = str(exc)
                _with_stored(exc, loaded)
                held: pl.DataFrame | None = None
                # A store that cannot be read now never replaces the provider's error (nor the
                # rows it carries).
                with contextlib.suppress(RecanalyticsError, OSError, pl.exceptions.PolarsError):
                    held = _stored(store, source, kind_list, since, until)
                if held is None:
                    raise
                # What is known of the range, not only what this call loaded: a failure
                # left .partial empty though the store held the range's rows.
                answer = _known(held, exc.partial)
                # Judged now, as the failure's own message was: a load may run across the moment.
                retired = spec_for(provider).retired_at(
                    kwargs.get("base_url"), kwargs.get("transport")
                )
                if retired is not None and answer.height:
                    # The store is what is left of a retired service: it answers, with the
                    # rows the failed request listed (the last answer may be the only copy),
                    # and says what it cannot know (docs/store-media-archive.md).
                    said = failure.replace(f"; {retired.gone(provider)}", "")
                    _say_answered_from_store(store, source, key, said, retired, held, answer)
                    return shown(answer)
                _say_stored(exc, held)
                exc.partial = shown(answer)
                raise
            if done.until > start:
                record_coverage(store, key, start, done.until, done.accounts)
        return shown(_stored(store, source, kind_list, since, until))

    return placed(wrapper)  # type: ignore[return-value]


def _stored(
    store: ParquetStore,
    source: Source,
    kinds: list[str],
    since: dt.datetime | None,
    until: dt.datetime | None,
) -> pl.DataFrame:
    """The stored rows of ``source`` (its accounts only, never another's) of ``kinds`` in ``[since, until)``: what ``store=`` answers, rows marked deleted by
    :class:`Unlisted` included (status ``deleted``: a provider may list a recording with that
    status too, so leaving them out could drop a row a load gives)."""
    accounts = _accounts_of(store, source)
    with store.locked(shared=True):
        lazy = store.scan(source.provider).filter(pl.col("kind").is_in(kinds))
        if accounts is not None:
            lazy = lazy.filter(pl.col("account_id").is_in(accounts))
        # Rows without a readable creation time are in every range, as a load keeps them.
        rows = store.collect(lazy.filter(in_range(pl.col("created_at"), since, until)))
    # The store's files are kept oldest first; the answer reads as a load's would.
    return newest_first(rows)


def _with_stored(error: ProviderError, stored: list[pl.DataFrame]) -> None:
    """Make ``error``, of a chunk that failed, carry every row the call loaded: ``stored``
    (the rows of its finished chunks, in the store) and the failed chunk's own partial rows."""
    failed = error.partial if isinstance(error.partial, pl.DataFrame) else None
    frames = [*stored, *([failed] if failed is not None else [])]
    if not stored:
        return
    kept = sum(frame.height for frame in stored)
    error.partial = pl.concat(frames)
    error.args = (
        f"{error}; store: the {kept} rows of the periods loaded before it are stored "
        "(loading again fetches only what is missing); .partial holds them and the "
        f"{0 if failed is None else failed.height} rows of the failed period, which are not",
        *error.args[1:],
    )


def _say_stored(error: ProviderError, held: pl.DataFrame) -> None:
    """Make ``error``, of a ``store=`` load, say how many stored rows the range asked has
    (they are in its ``partial``, see :func:`_known`)."""
    if held.height:
        error.args = (
            f"{error}; the store holds {held.height} rows of the range asked, loaded before "
            "(in .partial, with the rows the failed load listed): read them with store.scan() "
            "or store.read()",
            *error.args[1:],
        )


def _known(held: pl.DataFrame, loaded: Any) -> pl.DataFrame:
    """What is known of the range a failed ``store=`` load asked for: the rows the failed load
    listed (``loaded``: its ``partial``, the newer reading), and the stored rows of the range
    (``held``) it did not list. Rows without an id are matched by their whole value."""
    if not isinstance(loaded, pl.DataFrame) or not loaded.height:
        return held
    rid = pl.col("recording_id")
    unlisted = held.filter(
        rid.is_not_null() & ~rid.is_in(loaded["recording_id"].drop_nulls().implode())
    )
    idless = pl.concat([loaded.filter(rid.is_null()), held.filter(rid.is_null())])
    listed = loaded.filter(rid.is_not_null())
    return newest_first(pl.concat([listed, unlisted, idless.unique(maintain_order=True)]))


def _say_answered_from_store(
    store: ParquetStore,
    source: Source,
    key: str,
    failure: str,
    retired: Archival,
    held: pl.DataFrame,
    known: pl.DataFrame,
) -> None:
    """Warn that a ``store=`` load of a provider whose service has retired answers with what
    is known of the range (``known``: the stored rows, ``held``, and those the failed request
    listed) after its API failed (``failure``): what failed, the retirement, and how far the
    store's loads reached."""
    coverage = _coverage(store, quiet=True)
    reached = [c.until for k in (key, source.key("*")) if (c := coverage.get(k)) is not None]
    until = f"up to {max(reached):%Y-%m-%d %H:%M} UTC" if reached else "no period whole"
    listed = known.height - held.height
    also = f" and {listed} the failed request listed (not stored)" if listed > 0 else ""
    warn_user(
        f"{failure}; {retired.service} retired on {retired.retires}, so store= answers with "
        f"the {held.height} stored rows of the range asked, loaded before{also}: the store's "
        f"loads reached {until}, and what was made or changed later, or in a period never "
        "loaded, is not in them"
    )


def _check_load_arguments(func: Callable[..., Any], provider: str, kwargs: dict[str, Any]) -> None:
    """What the loader would check before its first request, checked even when the store
    already covers the range and the loader never runs: a bad option is an error either way.
    Credentials are checked only when given: reading stored rows needs none."""
    options = {k: v for k, v in kwargs.items() if k in OPTION_NAMES}
    spec = spec_for(provider)
    check_options(spec, options)
    if options.get("credentials") is not None:
        spec.credentials.coerce(options["credentials"])
    if "page_size" in kwargs:
        # Every loader's default page size is its provider's largest.
        largest = inspect.signature(func).parameters["page_size"].default
        validate.int_range(kwargs["page_size"], "page_size", 1, largest)


class Store(ParquetStore):
    """Unified recording rows kept locally as hive-partitioned parquet, refreshed by loading.

    Parameters
    ----------
    path : str or Path, optional
        Root folder; default :func:`recanalytics.store.default_path` (the user's cache
        directory).
    overlap : timedelta, default 3 days
        How far before the newest stored ``created_at`` an incremental refresh starts again,
        so status changes (processing → completed, deletions) are picked up; from 0 up to 366
        days (:data:`recanalytics.store.MAX_OVERLAP`), else a ``ConfigError``. A recording still
        pending further back (within :data:`PENDING_HORIZON`) makes it start at that one.

    Examples
    --------
    >>> store = ra.Store("recordings-store")
    >>> report = store.refresh(["twilio"], since="2025-01-01", **box.load_options())
    >>> store.scan().select("provider").unique().collect()["provider"].to_list()
    ['twilio']
    """

    # The module functions as methods: ``store.refresh(...)`` is ``refresh(store, ...)``, one
    # signature and one docstring for both.
    refresh = refresh
    arefresh = arefresh


def _with_store_loaders(provider: str) -> tuple[Callable[..., Awaitable[pl.DataFrame]], ...]:
    return tuple(with_store(loader) for loader in loaders_of(provider))


async def aload_with_status(
    providers: str | Iterable[str] | None = None,
    *,
    since: WhenLike | None = None,
    until: WhenLike | None = None,
    credentials: Credentials | PerProvider | None = None,
    base_url: str | PerProvider | None = None,
    warn: bool = True,
    store: ParquetStore | None = None,
    **options: Any,
) -> LoadResult:
    """Like :func:`aload`, and also say how each provider went (``warn=False``: no warnings,
    the statuses alone tell).

    Examples
    --------
    >>> import asyncio
    >>> result = asyncio.run(ra.aload_with_status(["twilio"], **box.load_options()))
    >>> result.status["twilio"].state
    'ok'
    """
    if store is not None and not isinstance(store, ParquetStore):
        raise ConfigError("store", "a recanalytics.Store or None", type(store).__name__)
    return await gather(
        providers,
        since=since,
        until=until,
        credentials=credentials,
        base_url=base_url,
        warn=warn,
        loaders=loaders_for if store is None else _with_store_loaders,
        options=options if store is None else options | {"store": store},
    )


async def aload(
    providers: str | Iterable[str] | None = None,
    *,
    since: WhenLike | None = None,
    until: WhenLike | None = None,
    credentials: Credentials | PerProvider | None = None,
    base_url: str | PerProvider | None = None,
    store: ParquetStore | None = None,
    **options: Any,
) -> pl.DataFrame:
    """Load several providers concurrently into one unified frame.

    ``providers=None`` means every provider whose credentials are configured (the others are
    skipped quietly); a provider named explicitly but unconfigured is named in a
    :class:`~recanalytics.errors.LoadWarning` while the others still load. A provider that
    fails makes the load incomplete: :class:`~recanalytics.errors.IncompleteLoadError` is
    raised once the others have finished, carrying every row loaded (``partial``) and each
    provider's outcome (``outcomes``); :func:`load_with_status` returns those without raising.

    Parameters
    ----------
    providers : str or list of str, optional
        Any of ``twilio``, ``plivo``, ``zoom``, ``signalwire`` (a name or a non-empty list);
        default: every provider whose credentials are found.
    since, until : str, date or datetime, optional
        Passed to every loader (``until`` exclusive; naive is UTC).
    credentials : credentials object or mapping, optional
        A mapping keyed by provider name gives each provider its own; default: environment.
    base_url : str or mapping, optional
        One host for all (e.g. a served sandbox) or a mapping keyed by provider name.
    store : Store, optional
        Load only what the store lacks, upsert, and return the requested range from it.
    **options
        Any other :class:`~recanalytics.options.LoadOptions` (``transport``, ``progress``, …).

    Examples
    --------
    >>> import asyncio
    >>> df = asyncio.run(ra.aload(["twilio"], since="2026-01-01", **box.load_options()))
    >>> df["provider"].unique().to_list()
    ['twilio']
    """
    result = await aload_with_status(
        providers,
        since=since,
        until=until,
        credentials=credentials,
        base_url=base_url,
        store=store,
        warn=False,
        **options,
    )
    failed = {n: s for n, s in result.status.items() if s.state == "failed"}
    for name, state in result.status.items():
        if state.state == "skipped" and result.named:
            warn_user(f"{name} {state.state}: {state.error}")
    if failed:
        partial = [result.frame, *(s.partial for s in failed.values() if s.partial is not None)]
        error = IncompleteLoadError(
            list(failed),
            # A status's error is the provider's error text, which starts with its name.
            "; ".join(f"{n} failed: {s.error.removeprefix(f'{n}: ')}" for n, s in failed.items())
            + "; the rows loaded are in .partial, each provider's outcome in .outcomes"
            + _leave_out(result, base_url, options.get("transport")),
            result.status,
        )
        error.partial = pl.concat(partial)
        raise error
    return result.frame


def _leave_out(
    result: LoadResult, base_url: str | PerProvider | None, transport: Any = None
) -> str:
    """How to load without the failed providers whose service has retired (their credentials
    may stay set for years, and every ``load()`` over the configured providers would fail)."""
    gone = {
        n: plan
        for n, s in result.status.items()
        if s.state == "failed"
        and (plan := spec_for(n).retired_at(validate.per_provider(base_url, n), transport))
        is not None
    }
    if not gone:
        return ""
    others = [n for n, s in result.status.items() if n not in gone and s.state != "skipped"]
    names = " and ".join(f"{n} ({plan.reason})" for n, plan in gone.items())
    one = len(gone) == 1
    archive = "its archive" if one else "their archives"
    if not others:
        return f". {names}: no other provider was loaded; read {archive} (ra.read_archive(folder))"
    return (
        f". {names}: name the others to leave {'it' if one else 'them'} out, "
        f"ra.load(providers={others!r}, ...), and add the rows of {archive} "
        "(ra.read_archive(folder))"
    )


load = syncify(aload, "load")
load_with_status = syncify(aload_with_status, "load_with_status")
