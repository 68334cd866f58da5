"""Duration helpers: human text, unit conversion, buckets, billed minutes and percentiles.

Every expression helper takes a column name or expression of polars ``Duration`` dtype (any
time unit) and returns a polars expression, so it works in ``select``, ``with_columns``,
``group_by().agg()`` and lazy queries alike. Nulls stay null.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import Final

import polars as pl

from recanalytics.errors import ConfigError
from recanalytics.helpers._common import (
    By,
    ColumnLike,
    FrameT,
    by_list,
    checked_lazy,
    duration_micros,
    duration_parts,
    finish,
    to_expr,
)

__all__ = [
    "DEFAULT_BUCKET_EDGES",
    "billed_minutes",
    "bucket_labels",
    "duration_bucket",
    "duration_hours",
    "duration_human",
    "duration_minutes",
    "duration_percentiles",
    "duration_seconds",
]

_US_PER_SECOND: Final = 1_000_000
_US_PER_MINUTE: Final = 60 * _US_PER_SECOND
_US_PER_HOUR: Final = 60 * _US_PER_MINUTE
_MS_PER_MINUTE: Final = 60_000

DEFAULT_BUCKET_EDGES: Final[tuple[timedelta, ...]] = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=15),
    timedelta(minutes=60),
)
"""Bucket edges of :func:`duration_bucket`: < 1 min, 1-5, 5-15, 15-60, >= 60 min."""


def _micros(column: ColumnLike) -> pl.Expr:
    # Microseconds keep sub-millisecond precision of us/ns columns; Float64, since a
    # millisecond column may hold more microseconds than Int64 does (see duration_parts).
    return duration_micros(to_expr(column))


def duration_seconds(column: ColumnLike = "duration") -> pl.Expr:
    """Duration as seconds (Float64).

    Parameters
    ----------
    column : str or polars.Expr, default "duration"
        A ``Duration`` column.

    Returns
    -------
    polars.Expr

    Examples
    --------
    >>> import polars as pl
    >>> from datetime import timedelta
    >>> from recanalytics.helpers import duration_seconds
    >>> pl.DataFrame({"duration": [timedelta(minutes=1, milliseconds=500)]}).select(
    ...     duration_seconds()
    ... ).item()
    60.5
    """
    return (_micros(column) / _US_PER_SECOND).alias("duration_s")


def duration_minutes(column: ColumnLike = "duration") -> pl.Expr:
    """Duration as minutes (Float64).

    Examples
    --------
    >>> import polars as pl
    >>> from datetime import timedelta
    >>> from recanalytics.helpers import duration_minutes
    >>> pl.DataFrame({"duration": [timedelta(seconds=90)]}).select(duration_minutes()).item()
    1.5
    """
    return (_micros(column) / _US_PER_MINUTE).alias("duration_min")


def duration_hours(column: ColumnLike = "duration") -> pl.Expr:
    """Duration as hours (Float64); ``.sum()`` it to answer "how many hours did we record".

    Examples
    --------
    >>> import polars as pl
    >>> from datetime import timedelta
    >>> from recanalytics.helpers import duration_hours
    >>> pl.DataFrame({"duration": [timedelta(minutes=90)]}).select(duration_hours()).item()
    1.5
    """
    return (_micros(column) / _US_PER_HOUR).alias("duration_h")


def billed_minutes(column: ColumnLike = "duration") -> pl.Expr:
    """Minutes as providers bill them: every started minute counts (Int64).

    ``0`` stays ``0`` (nothing started), ``59.999 s`` and ``60 s`` are 1 minute, ``60.001 s``
    is 2. Negative durations count as 0.

    Examples
    --------
    >>> import polars as pl
    >>> from datetime import timedelta
    >>> from recanalytics.helpers import billed_minutes
    >>> df = pl.DataFrame({"duration": [timedelta(seconds=60), timedelta(seconds=61)]})
    >>> df.select(billed_minutes()).to_series().to_list()
    [1, 2]
    """
    micros, millis, fits = duration_parts(to_expr(column))
    # Ceiling division in integers: floats would misround long durations near minute edges.
    # Past Int64 microseconds (292,000 years), in whole milliseconds, all such a column holds.
    minutes = (
        pl.when(fits)
        .then(-((-micros) // _US_PER_MINUTE))
        .when(millis > 0)
        .then((millis - 1) // _MS_PER_MINUTE + 1)
        .when(millis.is_not_null())
        .then(0)
    )
    return minutes.clip(lower_bound=0).alias("billed_minutes")


def duration_human(column: ColumnLike = "duration") -> pl.Expr:
    """Short human text: ``"45 s"``, ``"5 min 03 s"``, ``"1 h 02 min"`` (String).

    Under a minute shows whole seconds, under an hour minutes and seconds, from an hour on hours
    and minutes (hours are not rolled into days: analysts sum hours). Values are truncated, never
    rounded up, so ``59.999 s`` reads ``"59 s"`` and never overstates a recording. Every
    negative duration (a difference of times; the frame functions take a negative recording
    length as unknown) gets a leading ``-``, truncated toward zero like the rest: ``-90 s``
    reads ``"-1 min 30 s"`` and ``-1 ms`` ``"-0 s"``.

    Examples
    --------
    >>> import polars as pl
    >>> from datetime import timedelta
    >>> from recanalytics.helpers import duration_human
    >>> df = pl.DataFrame({"duration": [timedelta(seconds=45), timedelta(minutes=62)]})
    >>> df.select(duration_human()).to_series().to_list()
    ['45 s', '1 h 02 min']
    """
    duration = to_expr(column)
    # Whole seconds, truncated toward zero, fit Int64 at any length (microseconds do not).
    seconds = duration.dt.total_seconds().abs()
    hours = seconds // 3600
    minutes = (seconds % 3600) // 60
    secs = seconds % 60

    def two(expr: pl.Expr) -> pl.Expr:
        return expr.cast(pl.String).str.zfill(2)

    text = (
        pl.when(seconds < 60)
        .then(pl.format("{} s", secs))
        .when(seconds < 3600)
        .then(pl.format("{} min {} s", minutes, two(secs)))
        .otherwise(pl.format("{} h {} min", hours, two(minutes)))
    )
    negative = duration.to_physical() < 0
    # Every negative value says so, under a second too: -1 ms read "0 s" beside "-23 min 05 s".
    sign = pl.when(negative).then(pl.lit("-")).otherwise(pl.lit(""))
    return pl.concat_str([sign, text]).alias("duration_human")


def _edge(value: timedelta | float, parameter: str) -> timedelta:
    if isinstance(value, timedelta):
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(parameter, "timedeltas or numbers of minutes", value)
    try:
        return timedelta(minutes=value)
    except (OverflowError, ValueError):  # NaN, infinities, more minutes than timedelta holds
        raise ConfigError(parameter, "timedeltas or finite numbers of minutes", value) from None


def _minutes_label(edge: timedelta) -> str:
    minutes = edge / timedelta(minutes=1)
    return f"{minutes:g}"


def _bucket_labels(edges: Sequence[timedelta]) -> list[str]:
    marks = [_minutes_label(edge) for edge in edges]
    middle = [f"{low}-{high} min" for low, high in itertools.pairwise(marks)]
    return [f"< {marks[0]} min", *middle, f">= {marks[-1]} min"]


def bucket_labels(
    edges: Sequence[timedelta | float] = DEFAULT_BUCKET_EDGES,
) -> list[str]:
    """The category labels :func:`duration_bucket` uses for ``edges``, shortest first.

    Examples
    --------
    >>> from recanalytics.helpers import bucket_labels
    >>> bucket_labels()
    ['< 1 min', '1-5 min', '5-15 min', '15-60 min', '>= 60 min']
    """
    return _bucket_labels(_check_edges(edges))


def _check_edges(edges: Sequence[timedelta | float]) -> list[timedelta]:
    if isinstance(edges, str | bytes) or not isinstance(edges, Sequence) or not edges:
        raise ConfigError("edges", "a non-empty sequence of timedeltas or minutes", edges)
    checked = [_edge(edge, "edges") for edge in edges]
    if any(edge <= timedelta(0) for edge in checked) or any(
        high <= low for low, high in itertools.pairwise(checked)
    ):
        raise ConfigError("edges", "positive edges in strictly increasing order", list(edges))
    return checked


def duration_bucket(
    column: ColumnLike = "duration",
    *,
    edges: Sequence[timedelta | float] = DEFAULT_BUCKET_EDGES,
    labels: Sequence[str] | None = None,
) -> pl.Expr:
    """Bucket durations into an ordered categorical (polars ``Enum``).

    Intervals are closed on the left: with the default edges ``59.999 s`` is ``"< 1 min"``,
    ``60 s`` is ``"1-5 min"`` and exactly 60 minutes is ``">= 60 min"``. Because the result is
    an ``Enum``, sorting and charts keep the buckets in duration order, and empty buckets still
    exist as categories.

    Parameters
    ----------
    column : str or polars.Expr, default "duration"
    edges : sequence of timedelta or float, default 1, 5, 15 and 60 minutes
        Inner bucket edges; plain numbers are minutes.
    labels : sequence of str, optional
        One label per bucket (``len(edges) + 1``); default labels read like ``"5-15 min"``.

    Raises
    ------
    ConfigError
        If edges are empty, not positive, not increasing, or labels do not match them.

    Examples
    --------
    >>> import polars as pl
    >>> from datetime import timedelta
    >>> from recanalytics.helpers import duration_bucket
    >>> df = pl.DataFrame({"duration": [timedelta(seconds=30), timedelta(minutes=20)]})
    >>> df.select(duration_bucket()).to_series().to_list()
    ['< 1 min', '15-60 min']
    >>> df.select(duration_bucket(edges=[10])).to_series().to_list()
    ['< 10 min', '>= 10 min']
    """
    checked = _check_edges(edges)
    form = f"{len(checked) + 1} distinct labels (a sequence of str)"
    if labels is None:
        names = _bucket_labels(checked)
    elif isinstance(labels, str | bytes) or not isinstance(labels, Sequence):
        raise ConfigError("labels", form, labels)  # a str would be split into letters
    else:
        names = list(labels)
    if (
        len(names) != len(checked) + 1
        or len(set(names)) != len(names)
        or not all(isinstance(name, str) for name in names)
    ):
        raise ConfigError("labels", form, labels)
    micros, millis, fits = duration_parts(to_expr(column))

    def at_or_above(edge: timedelta) -> pl.Expr:
        # Exact in integers; past Int64 microseconds, in milliseconds (see duration_parts).
        edge_us = edge // timedelta(microseconds=1)
        return pl.when(fits).then(micros >= edge_us).otherwise(millis >= -(-edge_us // 1000))

    # Bucket index = number of edges at or below the value: one comparison per edge.
    index = pl.sum_horizontal([at_or_above(edge).cast(pl.Int32) for edge in checked])
    return (
        pl.when(millis.is_not_null())
        .then(index)
        .replace_strict(list(range(len(names))), names, return_dtype=pl.Enum(names))
        .alias("duration_bucket")
    )


def _quantile_name(q: float) -> str:
    return f"p{q * 100:g}"


def duration_percentiles(
    df: FrameT,
    by: By = None,
    *,
    column: str = "duration",
    quantiles: Sequence[float] = (0.5, 0.9, 0.95, 0.99),
) -> FrameT:
    """Duration percentiles per group, as ``Duration`` columns named ``p50``, ``p95``, ….

    Percentiles use linear interpolation and ignore null durations; a group with no durations
    gets nulls.

    Parameters
    ----------
    df : polars.DataFrame or polars.LazyFrame
    by : str or sequence of str, optional
        Group columns; None gives one overall row. A column named twice counts once; one named
        like a percentile column (``p50``, …) is a ConfigError.
    column : str, default "duration"
    quantiles : sequence of float, default (0.5, 0.9, 0.95, 0.99)
        Each between 0 and 1.

    Returns
    -------
    polars.DataFrame or polars.LazyFrame
        Same flavour as ``df``; one row per group, sorted by the group columns.

    Examples
    --------
    >>> import polars as pl
    >>> from datetime import timedelta
    >>> from recanalytics.helpers import duration_percentiles
    >>> df = pl.DataFrame({"duration": [timedelta(seconds=s) for s in (10, 20, 30)]})
    >>> duration_percentiles(df, quantiles=[0.5])["p50"].item()
    datetime.timedelta(seconds=20)
    """
    if isinstance(quantiles, str | bytes) or not isinstance(quantiles, Iterable):
        raise ConfigError("quantiles", "a sequence of numbers between 0 and 1", quantiles)
    qs = list(quantiles)
    if not qs or any(
        isinstance(q, bool) or not isinstance(q, int | float) or not 0 <= q <= 1 for q in qs
    ):
        raise ConfigError("quantiles", "numbers between 0 and 1", quantiles)
    names = [_quantile_name(q) for q in qs]
    if len(set(names)) != len(names):
        raise ConfigError(
            "quantiles", "distinct quantiles (each names a column p50, p95, ...)", quantiles
        )
    if not isinstance(column, str):
        raise ConfigError("column", "a column name (str)", column)
    keys: list[str] = by_list(by, reserved=names)
    lazy = checked_lazy(df, [column], by=keys)
    aggs = [
        pl.col(column).quantile(q, "linear").alias(name) for q, name in zip(qs, names, strict=True)
    ]
    result = lazy.select(aggs) if not keys else lazy.group_by(keys).agg(aggs).sort(keys)
    return finish(df, result)
