"""Pieces several provider modules share: time formats, window planning, unified expressions."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

import polars as pl

from recanalytics.errors import ProviderError, warn_user

log = logging.getLogger("recanalytics")
T = TypeVar("T")

UTC_TIME = pl.Datetime("us", "UTC")


def ceil_second(moment: dt.datetime) -> dt.datetime:
    """The first whole second at or after ``moment`` (APIs that filter in whole seconds)."""
    whole = moment.replace(microsecond=0)
    return whole if whole == moment else whole + dt.timedelta(seconds=1)


def iso_z(moment: dt.datetime) -> str:
    """``YYYY-MM-DDThh:mm:ssZ`` in UTC."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def seconds_to_duration(seconds: pl.Expr) -> pl.Expr:
    """A number of seconds (int or float) as a Duration(ms)."""
    return (seconds.cast(pl.Float64) * 1000).round(0).cast(pl.Int64).cast(pl.Duration("ms"))


def bitrate_kbps(size_bytes: pl.Expr, duration: pl.Expr) -> pl.Expr:
    """size·8/duration in kbps; null when either is missing or the duration is zero."""
    seconds = duration.dt.total_milliseconds() / 1000
    return pl.when(seconds > 0).then(size_bytes.cast(pl.Float64) * 8 / seconds / 1000)


def in_range(moment: pl.Expr, since: dt.datetime | None, until: dt.datetime | None) -> pl.Expr:
    """Rows whose ``moment`` is in ``[since, until)``, or unknown (a row without a readable
    time cannot be placed, so it is kept rather than lost)."""
    inside = pl.lit(True)
    if since is not None:
        inside &= moment >= since
    if until is not None:
        inside &= moment < until
    return moment.is_null() | inside


def _widened(moment: dt.datetime | None, by: dt.timedelta) -> dt.datetime | None:
    try:
        return None if moment is None else moment + by
    except OverflowError:
        return None  # past the calendar's end: nothing lies beyond it


# What trim_to_range's warning starts with, for a load that has already said it trims.
OUTSIDE_NOTE = r"\S+: \d+ rows dated outside since/until"


def trim_to_range(
    raw: pl.DataFrame,
    moment: pl.Expr,
    since: dt.datetime | None,
    until: dt.datetime | None,
    provider: str,
    slack: dt.timedelta = dt.timedelta(days=1),
) -> pl.DataFrame:
    """The rows of ``raw`` in ``[since, until)`` by ``moment`` (or undated, see :func:`in_range`).

    Rows within ``slack`` of the range are what the provider's coarser reading of its date
    filters brings (whole seconds, whole days) and go quietly; a ``LoadWarning`` counts the
    rows left out further outside, so an API answering rows its filter excludes is never
    trimmed silently.
    """
    if since is None and until is None:
        return raw
    near = in_range(moment, _widened(since, -slack), _widened(until, slack))
    inside = in_range(moment, since, until)
    far_count = raw.select((~near).sum()).item()
    if far_count:
        warn_user(
            f"{provider}: {far_count} rows dated outside since/until, beyond the edges its "
            "date filters' reading adds, were left out: the API answered rows its filter excludes"
        )
    return raw.filter(inside)


async def first_accepted(
    attempt: Callable[[T], Awaitable[pl.DataFrame]],
    choices: Sequence[T],
    refused: Callable[[ProviderError], bool],
    provider: str,
) -> pl.DataFrame:
    """``attempt(choice)`` for each of ``choices`` in turn while the API refuses it
    (``refused(error)``); when every one is refused, the first refusal is raised (the documented
    choice comes first). Each attempt is a whole load: what a refused one loaded is read again."""
    first, *others = choices
    try:
        return await attempt(first)
    except ProviderError as exc:
        if not refused(exc):
            raise
        best = exc
        for other in others:
            log.info("%s: %s refused (%s); trying %s", provider, first, exc.status, other)
            try:
                return await attempt(other)
            except ProviderError as again:
                if not refused(again):
                    raise
                if _rows(again) > _rows(best):
                    # It got further (a refusal read part-way through, not at the start): its
                    # rows and its reason are what the load ran into.
                    best = again
        if best is exc:
            raise
        raise best from None


def _rows(error: ProviderError) -> int:
    partial = error.partial
    return partial.height if isinstance(partial, pl.DataFrame) else 0
