"""Tidy summary tables of a unified frame: ``summarize`` by any columns, ``trend`` over time."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Final

import polars as pl

from recanalytics.errors import ConfigError
from recanalytics.helpers._common import (
    By,
    FrameT,
    by_list,
    check_every,
    checked_lazy,
    finish,
    int64_sum,
    values_checked,
)
from recanalytics.helpers.cost import COST_OUTPUTS, StorageRate, cost_aggregations
from recanalytics.helpers.durations import duration_hours
from recanalytics.helpers.shown import known_total, shown_round
from recanalytics.helpers.sizes import (
    STORAGE_COLUMNS,
    STORAGE_READS,
    fill_bitrate,
    is_deleted,
    size_unit,
    storage_growth,
)

__all__ = ["FAILED_STATUSES", "summarize", "trend"]

FAILED_STATUSES: Final[frozenset[str]] = frozenset({"failed", "absent"})
"""Statuses counted as failures: Twilio ``failed``; SignalWire ``absent`` (nothing recorded)."""

_SUMMARY_COLUMNS: Final = (
    "provider",
    "status",
    "created_at",
    "deleted_at",
    "duration",
    "size_bytes",
    "bitrate_kbps",
    "cost",
    "cost_unit",
)

SUMMARY_OUTPUTS: Final = (
    "count",
    "total_duration",
    "mean_duration",
    "median_duration",
    "p95_duration",
    "total_hours",
    "total_size_bytes",
    "mean_bitrate_kbps",
    "failed_share",
    *COST_OUTPUTS,
)
"""The columns summarize makes (and ``cost_unit`` and ``cost_kind``, unless grouped by them)."""

TREND_COLUMNS: Final = ("recordings", "hours", *STORAGE_COLUMNS)
"""The columns trend makes on the way; no ``by`` column may share a name with one."""


def summarize(
    df: FrameT,
    by: By = None,
    *,
    rates: Mapping[str, float | StorageRate] | None = None,
    failed: Collection[str] = FAILED_STATUSES,
) -> FrameT:
    """One tidy row per group: volume, durations, size, bitrate, failures and cost.

    Parameters
    ----------
    df : polars.DataFrame or polars.LazyFrame
        A unified frame.
    by : str or sequence of str, optional
        Group columns (``"provider"``, ``["provider", "kind"]``, a derived column such as a
        duration bucket, …). None gives one overall row, even for an empty frame. A column
        named twice counts once; one named like a result column (``count``, …) is a
        ConfigError, except ``cost_unit`` and ``cost_kind`` (added with
        ``ra.helpers.cost_kind()``), which then hold each group's unit or kind.
    rates : mapping, optional
        Storage-rate overrides for ``estimated_monthly_cost`` (see ``monthly_storage_cost``).
    failed : collection of str, default {"failed", "absent"}
        Statuses (compared lower-case) that count as failures.

    Returns
    -------
    polars.DataFrame or polars.LazyFrame
        Same flavour as ``df``, sorted by the group columns, with columns:

        - ``count`` (Int64): recordings.
        - ``total_duration``, ``mean_duration``, ``median_duration``, ``p95_duration``
          (Duration ms; nulls ignored; p95 linearly interpolated; ``total_duration`` null
          where the sum passes the Duration range instead of wrapping around, and where no
          duration of the group's recordings is known).
        - ``total_hours`` (Float64; null where no duration is known): file-hours, the sum of
          every row's duration; a Zoom session's video, audio, transcript, chat and timeline
          files each count its whole duration, a Twilio composition its room's time again
          (filter ``media_type`` to audio and video to count them once, see docs/helpers.md).
        - ``total_size_bytes`` (Int64): the size listed, deleted recordings included (the
          bytes held are ``storage_growth``'s ``bytes_held``); null when no size is known,
          e.g. Plivo, SignalWire, and when the total passes Int64, about 8 EiB: it is never
          wrapped around.
        - ``mean_bitrate_kbps`` (Float64): mean of the reported bitrate, else size·8/duration
          (a reported NaN, infinite, 0 or negative bitrate counts as not reported).
        - ``failed_share`` (Float64, 0-1): failed recordings / all recordings.
        - ``estimated_monthly_cost`` (Float64, USD): storage estimate for what is still held;
          null where recordings are held and none of them could be priced (no size, or no
          duration for a per-minute rate), even when deleted ones (at 0) are in the group.
        - ``reported_cost`` (Float64): sum of provider-reported ``cost``, null where the
          group's costs are in more than one currency (``cost_unit`` then lists them; group by
          ``cost_unit`` for a total per currency) or of more than one kind (``cost_kind``
          then lists them: Plivo's is a ``monthly storage`` charge, SignalWire's a
          ``one-off`` price, and their sum is neither); ``cost_unit``; ``cost_kind``.

    Examples
    --------
    >>> import polars as pl
    >>> from datetime import timedelta
    >>> from recanalytics.helpers import summarize
    >>> from recanalytics.schema import conform
    >>> df = conform(
    ...     pl.DataFrame(
    ...         {
    ...             "provider": ["twilio", "twilio", "plivo"],
    ...             "status": ["completed", "failed", "completed"],
    ...             "duration": [timedelta(minutes=m) for m in (10, 20, 30)],
    ...         }
    ...     )
    ... ).collect()
    >>> summarize(df, by="provider").select("provider", "count", "failed_share").rows()
    [('twilio', 2, 0.5), ('plivo', 1, 0.0)]
    """
    keys: list[str] = by_list(by, reserved=SUMMARY_OUTPUTS)
    failed_values = _failed_values(failed)
    lazy = checked_lazy(df, [*_SUMMARY_COLUMNS], by=keys)
    duration = pl.col("duration").cast(pl.Duration("ms"))
    size = pl.col("size_bytes").cast(pl.Int64)
    is_failed = pl.col("status").str.to_lowercase().is_in(failed_values).fill_null(False)
    count = pl.len().cast(pl.Int64)
    # Recordings none of whose durations is known have an unknown total, not 0 (an empty
    # group's total is 0: nothing was recorded).
    timed = (duration.count() > 0) | (count == 0)
    aggs = [
        count.alias("count"),
        pl.when(timed)
        .then(int64_sum(duration.to_physical()).cast(pl.Duration("ms")))
        .alias("total_duration"),
        duration.mean().alias("mean_duration"),
        duration.median().alias("median_duration"),
        duration.quantile(0.95, "linear").alias("p95_duration"),
        pl.when(timed).then(duration_hours(duration).sum()).alias("total_hours"),
        pl.when(size.count() > 0).then(int64_sum(size)).alias("total_size_bytes"),
        fill_bitrate().mean().alias("mean_bitrate_kbps"),
        pl.when(count > 0).then(is_failed.sum() / count).alias("failed_share"),
        *cost_aggregations(rates, keys),
    ]
    result = lazy.select(aggs) if not keys else lazy.group_by(keys).agg(aggs).sort(keys)
    return finish(df, result)


def _failed_values(failed: Collection[str]) -> list[str]:
    if (
        isinstance(failed, str | bytes)
        or not isinstance(failed, Iterable)
        or not all(isinstance(s, str) for s in failed)
    ):
        raise ConfigError("failed", "a collection of status strings", failed)
    return sorted(s.lower() for s in failed)


def trend(df: FrameT, every: str = "1mo", *, by: By = None) -> FrameT:
    """Per-period recordings, hours, bytes added and deleted, and cumulative bytes held.

    Recordings and hours count in the period of ``created_at``. Storage follows
    ``storage_growth``: a recording adds its size when created and removes it when deleted.
    Every period between the first and last event is present (zero-filled) for every group, so
    the series plot without gaps. What is not known is null, never 0 (as in ``summarize``):
    ``hours`` of a period none of whose recordings has a duration, and the bytes of a period
    none of whose recordings has a size (Plivo, SignalWire).

    Parameters
    ----------
    df : polars.DataFrame or polars.LazyFrame
        A unified frame.
    every : str, default "1mo"
        Period length: ``"1d"``, ``"1w"``, ``"1mo"``, ``"1q"``, ``"1y"`` (polars intervals).
        At most 200 000 periods may lie between the first and the last event (as in
        ``storage_growth``); more is a ConfigError naming ``every``, raised before any period
        is made (for a LazyFrame, when it is collected).
    by : str or sequence of str, optional
        Extra group columns, e.g. ``"provider"``. A column named twice counts once.

    Returns
    -------
    polars.DataFrame or polars.LazyFrame
        ``period`` (Datetime UTC, period start), the ``by`` columns, ``recordings`` (Int64),
        ``hours`` (Float64; null where no duration of the period's recordings is known),
        ``bytes_added``, ``bytes_deleted``, ``bytes_held`` (Int64; null where the total does
        not fit Int64, never wrapped around, and where no size is known: see
        ``storage_growth``), sorted by group then period.

    Examples
    --------
    >>> import polars as pl
    >>> from datetime import UTC, datetime, timedelta
    >>> from recanalytics.helpers import trend
    >>> from recanalytics.schema import conform
    >>> df = conform(
    ...     pl.DataFrame(
    ...         {
    ...             "created_at": [
    ...                 datetime(2025, 1, 5, tzinfo=UTC),
    ...                 datetime(2025, 3, 1, tzinfo=UTC),
    ...             ],
    ...             "duration": [timedelta(hours=1), timedelta(minutes=30)],
    ...             "size_bytes": [100, 50],
    ...         }
    ...     )
    ... ).collect()
    >>> trend(df).select("recordings", "hours", "bytes_held").rows()
    [(1, 1.0, 100), (0, 0.0, 100), (1, 0.5, 150)]
    """
    keys: list[str] = by_list(by, reserved=TREND_COLUMNS)
    check_every(every)
    # Every column storage_growth reads too: its odd values are then said once, here.
    lazy = checked_lazy(df, ["created_at", "duration", *STORAGE_READS], by=keys)
    volume = (
        lazy.filter(pl.col("created_at").is_not_null())
        .group_by([*keys, pl.col("created_at").dt.truncate(every).alias("period")])
        .agg(
            pl.len().cast(pl.Int64).alias("recordings"),
            # As in summarize: recordings none of whose durations is known have unknown hours.
            pl.when(pl.col("duration").count() > 0).then(duration_hours().sum()).alias("hours"),
        )
    )
    with values_checked():
        storage = storage_growth(lazy, every, by=keys)
    created = pl.col("recordings").is_not_null()
    result = (
        storage.join(volume, on=["period", *keys], how="left", nulls_equal=True)
        .with_columns(
            pl.col("recordings").fill_null(0),
            # A period in which nothing was created recorded 0 hours.
            pl.when(created).then(pl.col("hours")).otherwise(0.0).alias("hours"),
        )
        .select(
            "period",
            *keys,
            "recordings",
            "hours",
            "bytes_added",
            "bytes_deleted",
            "bytes_held",
        )
        .sort([*keys, "period"])
    )
    return finish(df, result)


def summary_ready(df: pl.DataFrame | pl.LazyFrame) -> pl.LazyFrame:
    """``df`` checked as :func:`provider_table` checks it (its odd values said, once), for
    callers that also count it (:func:`known_counts`) inside ``values_checked()``."""
    return checked_lazy(df, _SUMMARY_COLUMNS, now=True)


def provider_table(
    df: pl.DataFrame | pl.LazyFrame, *, rates: Mapping[str, float | StorageRate] | None = None
) -> pl.DataFrame:
    """One row per provider and a total row, typed and rounded (the report's and CLI's table).

    Built from :func:`recanalytics.summarize` (per provider, then overall). Counts are
    integers, durations polars durations to the second, and the size is a number in the unit
    that suits the total (the column name says which), so a notebook shows numbers as numbers
    and the values still sort and compute; the HTML report formats them for reading. Amounts
    of 1 and more keep fixed decimals (hours 1, sizes and money 2); smaller ones keep three
    significant figures, so a value that is not zero never reads 0 (a 2-minute Plivo call is
    0.0336 hours, not 0.0). ``size`` is every listed recording's (``total_size_bytes``, deleted
    ones included); ``held`` only those not deleted, as the storage estimate counts them.

    Parameters
    ----------
    df : polars.DataFrame or polars.LazyFrame
        A unified frame.
    rates : mapping, optional
        Storage-rate overrides for the cost estimate.

    Returns
    -------
    polars.DataFrame
        Columns ``provider``, ``recordings``, ``hours``, ``size (<unit>)`` (listed),
        ``held (<unit>)`` (not deleted), ``mean``, ``median``, ``p95``, ``kbps``,
        ``failed %``, ``USD/month``, ``reported cost``, ``cost unit`` and ``cost kind``
        (``monthly storage``, ``one-off``: the total row has no reported cost when the
        providers' amounts are of different kinds, as when in different currencies).

    Examples
    --------
    >>> import recanalytics as ra
    >>> from recanalytics.helpers.summary import provider_table
    >>> table = provider_table(ra.demo(size=200))
    >>> table["provider"].to_list()[-1], table.schema["recordings"]
    ('total', Int64)
    """
    # Checked once for both summaries: odd values are said once.
    lazy = checked_lazy(df, _SUMMARY_COLUMNS, now=True)
    with values_checked():
        per = summarize(lazy, by="provider", rates=rates).with_columns(
            pl.col("provider").cast(pl.String)
        )
        total = summarize(lazy, rates=rates).with_columns(pl.lit("total").alias("provider"))
        held = _per_provider_and_total(lazy, _held_bytes().alias("held_bytes"))
    both = (
        pl.concat([per, total.select(per.collect_schema().names())])
        .collect()
        .join(held, on="provider", how="left", maintain_order="left")
    )
    unit, factor = size_unit(both["total_size_bytes"].max())  # type: ignore[arg-type]
    return both.select(
        pl.col("provider"),
        pl.col("count").cast(pl.Int64).alias("recordings"),
        shown_round(pl.col("total_hours"), 1).alias("hours"),
        shown_round(pl.col("total_size_bytes") / factor, 2).alias(f"size ({unit})"),
        shown_round(pl.col("held_bytes") / factor, 2).alias(f"held ({unit})"),
        *(_whole_seconds(f"{name}_duration").alias(name) for name in ("mean", "median", "p95")),
        shown_round(pl.col("mean_bitrate_kbps"), 1).alias("kbps"),
        shown_round(pl.col("failed_share") * 100, 1).alias("failed %"),
        shown_round(pl.col("estimated_monthly_cost"), 2).alias("USD/month"),
        shown_round(pl.col("reported_cost"), 2).alias("reported cost"),
        pl.col("cost_unit").alias("cost unit"),
        pl.col("cost_kind").alias("cost kind"),
    )


def _held_bytes() -> pl.Expr:
    """Bytes of the recordings not deleted, as ``total_size_bytes`` sums them (never wrapped,
    null where none of them has a known size and some are held)."""
    held = pl.col("size_bytes").cast(pl.Int64).filter(~is_deleted())
    return pl.when((held.count() > 0) | (held.len() == 0)).then(int64_sum(held))


def _per_provider_and_total(lazy: pl.LazyFrame, *aggs: pl.Expr) -> pl.DataFrame:
    """``aggs`` per provider and over all rows (provider ``total``), as one frame."""
    per = lazy.group_by(pl.col("provider").cast(pl.String)).agg(aggs)
    total = lazy.select(aggs).with_columns(pl.lit("total").alias("provider"))
    return pl.concat([per, total.select(per.collect_schema().names())]).collect()


KNOWN_NOTES: Final = {"hours": ("duration", "timed"), "size": ("size", "sized")}
"""Table columns whose total leaves out recordings of unknown value: what they lack, and the
:func:`known_counts` column counting those that have it (``reported cost``: ``cost``, too)."""


def known_counts(df: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
    """Per provider and in total (``total``): recordings, and how many of them have a known
    duration (``timed``), size (``sized``) and reported cost (``costed``), the numbers the
    report and the CLI say after a total that leaves the others out (``(3 without size)``).

    Examples
    --------
    >>> import recanalytics as ra
    >>> from recanalytics.helpers.summary import known_counts
    >>> known_counts(ra.demo(size=200)).columns
    ['provider', 'recordings', 'timed', 'sized', 'costed']
    """
    lazy = checked_lazy(df, ["provider", "duration", "size_bytes", "cost"], now=True)
    return _per_provider_and_total(
        lazy,
        pl.len().cast(pl.Int64).alias("recordings"),
        pl.col("duration").count().cast(pl.Int64).alias("timed"),
        pl.col("size_bytes").count().cast(pl.Int64).alias("sized"),
        pl.col("cost").is_finite().sum().cast(pl.Int64).alias("costed"),
    )


def noted(text: pl.DataFrame, counts: pl.DataFrame) -> pl.DataFrame:
    """The text of a :func:`provider_table` with the recordings each total leaves out said
    after it, as the explorer's summary line says them (``3.1 (1 without duration)``).

    ``text`` holds the table's cells as text (``n/a`` or empty for unknown, left as is);
    ``counts`` is :func:`known_counts` of the same frame.
    """
    known = {row["provider"]: row for row in counts.iter_rows(named=True)}
    what = {
        column: KNOWN_NOTES[column.split(" (")[0]]
        for column in text.columns
        if column.split(" (")[0] in KNOWN_NOTES
    }
    if "reported cost" in text.columns:
        what["reported cost"] = ("cost", "costed")
    columns = {name: text[name].to_list() for name in text.columns}
    for i, provider in enumerate(columns["provider"]):
        row = known.get(provider)
        for column, (lacks, has) in what.items() if row else ():
            cell = columns[column][i]
            if cell not in (None, "", "n/a") and row is not None:
                columns[column][i] = known_total(
                    str(cell), column, row["recordings"], row[has], lacks
                )
    return pl.DataFrame(columns, schema=dict.fromkeys(text.columns, pl.String))


def _whole_seconds(column: str) -> pl.Expr:
    """A duration truncated to whole seconds (polars then prints ``12m 3s``, not ``…491ms``)."""
    # Milliseconds: microseconds of a millisecond duration wrap past 292,000 years.
    millis = pl.col(column).dt.total_milliseconds()
    return (millis - millis % 1_000).cast(pl.Duration("ms"))
