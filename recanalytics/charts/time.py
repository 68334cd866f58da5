"""Charts over time: storage held, recordings and hours, codec mix, cost, and the linked overview."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Final, Literal

import altair as alt
import polars as pl

from recanalytics import validate
from recanalytics.charts._base import (
    HEIGHT,
    WIDTH,
    ChartLike,
    Frame,
    TimeDomain,
    as_label,
    beyond_note,
    check_periods,
    check_span,
    choose_every,
    color,
    data,
    dated,
    empty_chart,
    fold_groups,
    fold_rare,
    fold_to,
    highlight,
    lazy_frame,
    legend_selection,
    listed,
    missing_note,
    money_format,
    noted,
    ordered_domain,
    period_tooltip,
    present_groups,
    shown_text,
    span_chart,
    time_domain,
    title,
    top_values,
    undated_note,
    utc_x,
    with_period_end,
    with_selections,
    y_axis,
    y_scale,
    y_steps,
)
from recanalytics.errors import ConfigError
from recanalytics.helpers._common import check_every, counted, values_checked
from recanalytics.helpers.cost import COST_KIND_OF, StorageRate, cost_kind, monthly_storage_cost
from recanalytics.helpers.durations import duration_hours
from recanalytics.helpers.sizes import size_unit, storage_growth
from recanalytics.helpers.summary import trend
from recanalytics.rates import COST_KINDS

__all__ = [
    "codec_mix_chart",
    "cost_chart",
    "overview_chart",
    "storage_chart",
    "volume_chart",
]

Metric = Literal["recordings", "hours", "bytes"]
_METRICS: Final = ("recordings", "hours", "bytes")
_STORAGE_COLUMNS: Final = ["created_at", "deleted_at", "status", "size_bytes"]
_MICRO: Final = 1_000_000
_STORAGE_FIELDS: Final = ("held", "added", "deleted")
_BESIDE: Final = "independent"
"""How a concatenation resolves a panel's legends: beside that panel. Shared (Vega-Lite's
default), the reported-cost panel's ``cost kind`` legend was drawn beside the top panel, far
from the lines whose dash it explains."""


def _every(
    lazy: pl.LazyFrame, every: str | None, columns: tuple[str, ...] = ("created_at", "deleted_at")
) -> str:
    if every is None:
        return choose_every(lazy, columns)
    check_span(lazy, check_every(every), columns)
    return every


def _storage_frame(
    lazy: pl.LazyFrame, every: str, by: str
) -> tuple[pl.DataFrame, str, int, str | None]:
    with values_checked():  # the chart's frame is (lazy_frame)
        held = storage_growth(lazy.with_columns(as_label(by)), every, by=by).collect()
    check_periods(held, every)
    note = beyond_note(held, by, "bytes_held", "storage held")
    unit, factor = size_unit(held["bytes_held"].max() if held.height else None)  # type: ignore[arg-type]
    frame = held.with_columns(
        (pl.col("bytes_held") / factor).alias("held"),
        (pl.col("bytes_added") / factor).alias("added"),
        (pl.col("bytes_deleted") / factor).alias("deleted"),
    ).select("period", by, "held", "added", "deleted")
    return present_groups(frame, by, "held"), unit, factor, note


def _storage_view(
    frame: pl.DataFrame,
    unit: str,
    by: str,
    every: str,
    *,
    legend: alt.Parameter,
    brush: alt.Parameter | None = None,
    own_legend: bool = True,
    extent: TimeDomain | None = None,
    other: str | None = None,
) -> alt.Chart:
    domain = ordered_domain(by, frame[by].to_list(), other)
    if extent is not None:
        # A step area ends at its last point: repeat the last period's values at its end, so
        # the last period is drawn as wide as the bars above it.
        last = frame.filter(pl.col("period") == pl.col("period").max())
        closing = pl.lit(extent[1] * 1000).cast(pl.Datetime("us", "UTC"))
        frame = pl.concat(
            [frame, last.with_columns(closing.cast(frame["period"].dtype).alias("period"))]
        )
    chart: alt.Chart = (
        dated(
            alt.Chart(
                data(frame),
                title=title(f"Storage held ({unit})", "cumulative, at the end of each period"),
            ),
            every,
        )
        .transform_calculate(
            **{f"{name}_text": shown_text(name, 3, trim=True) for name in _STORAGE_FIELDS}
        )
        # clip: a brush zooms the axis through an expression, which Vega does not clip to.
        .mark_area(interpolate="step-after", line=True, clip=True)
        .encode(
            x=utc_x(every=every, brush=brush, domain=extent),
            y=alt.Y(
                "held:Q",
                stack="zero",
                title=f"{unit} held",
                axis=y_axis(HEIGHT, ",.3~f"),
                scale=y_scale(HEIGHT),
            ),
            color=color(by, domain, other=other),
            opacity=highlight(legend),
            tooltip=[
                period_tooltip(),
                alt.Tooltip(f"{by}:N"),
                *(
                    alt.Tooltip(f"{name}_text:N", title=f"{unit} {name}")
                    for name in _STORAGE_FIELDS
                ),
            ],
        )
        .properties(width=WIDTH, height=HEIGHT)
    )
    if own_legend:
        chart = with_selections(chart, legend)
    return chart


def storage_chart(df: Frame, *, every: str | None = None, by: str = "provider") -> ChartLike:
    """Cumulative storage held over time, stacked by provider (or any column).

    Reuses :func:`recanalytics.storage_growth`: a recording adds its size when created and
    removes it when deleted. The unit (MiB, GiB, TiB) follows the largest total. Click a legend
    entry to focus on it. The eight groups with the most bytes are drawn on their own, the rest
    together as ``other``.

    Parameters
    ----------
    df : polars.DataFrame or polars.LazyFrame
        A unified frame.
    every : str, optional
        Period length (``"1d"``, ``"1w"``, ``"1mo"``, ``"1q"``, ``"1y"``); by default one that
        gives a readable number of periods for the time span.
    by : str, default "provider"
        Text column to stack by (at most eight groups and ``other``).

    Returns
    -------
    altair.Chart
        A stacked step area; a chart with a note when nothing has a creation time.

    Examples
    --------
    >>> import recanalytics as ra
    >>> from recanalytics.charts import storage_chart
    >>> chart = storage_chart(ra.demo(size=200), every="1mo")
    >>> chart.to_dict()["mark"]["type"]
    'area'
    """
    lazy = lazy_frame(df, [*_STORAGE_COLUMNS], by=by)
    period = _every(lazy, every)
    note, unsized = undated_note(lazy), missing_note(lazy, "size_bytes")
    # A float sum ranks: an Int64 one wraps past 8 EiB and ranked the largest group last.
    folded, other = fold_groups(_sized(lazy), by, pl.col("size_bytes").cast(pl.Float64).sum())
    frame, unit, _, beyond = _storage_frame(folded, period, by)
    if frame.height == 0:
        return empty_chart("Storage held", unsized, note, beyond)
    extent = time_domain([frame], period)
    chart = _storage_view(
        frame, unit, by, period, legend=legend_selection(by), extent=extent, other=other
    )
    return noted(chart, note, unsized, beyond)


def _sized(lazy: pl.LazyFrame) -> pl.LazyFrame:
    """The rows whose size is known: an unknown size is left out of a storage total (and said,
    see :func:`missing_note`), never added as 0 bytes."""
    return lazy.filter(pl.col("size_bytes").is_not_null())


def _volume_frame(lazy: pl.LazyFrame, every: str, by: str) -> pl.DataFrame:
    with values_checked():
        frame = trend(lazy.with_columns(as_label(by)), every, by=by).collect()
    check_periods(frame, every)
    frame = present_groups(frame.select("period", by, "recordings", "hours"), by, "recordings")
    # trend() runs on through later deletions; recordings and hours end with the last recording.
    # In polars, not Python: a multi-year period of a year-1 date starts before year 1.
    last = pl.col("period").filter(pl.col("recordings") > 0).max()
    frame = frame.filter((pl.col("period") <= last) | last.is_null())
    return with_period_end(frame, every)


def _volume_views(
    frame: pl.DataFrame,
    by: str,
    every: str,
    *,
    legend: alt.Parameter,
    brush: alt.Parameter | None = None,
    extent: TimeDomain | None = None,
    other: str | None = None,
) -> list[alt.Chart]:
    domain = ordered_domain(by, frame[by].to_list(), other)
    views = []
    height = HEIGHT * 2 // 3
    for field, label in (("recordings", "Recordings"), ("hours", "Hours")):
        # With a brush, the recordings panel is where one drags; the hours panel follows it.
        zoom = brush if brush is not None and field == "hours" else None
        totals = frame.group_by("period").agg(pl.col(field).sum())[field]
        top = float(totals.max() or 0.0)  # type: ignore[arg-type]
        if top >= 2 * y_steps(height):
            # Whole recordings and whole hours: no "50.0" and no 0.5 steps.
            axis = y_axis(height, ",d", tickMinStep=1)
            scale = y_scale(height)
        elif field == "recordings":
            # A few a period: rounded steps would be halves, labelled "0, 1, 1, 2, 2" under
            # ",d", so the whole counts are the ticks.
            whole = max(1, math.ceil(top))
            axis = y_axis(height, ",d", values=list(range(whole + 1)))
            scale = alt.Scale(domain=[0, whole], nice=False, zero=True)
        else:
            # A few hours: their decimals (0.05, 0.5), as half an hour labelled "1" (or a
            # 3-minute bar over "0 … 0") read wrong.
            axis = y_axis(height, ",.2~f")
            scale = y_scale(height)
        view = (
            span_chart(alt.Chart(data(frame), title=title(f"{label} per period")), every)
            .transform_calculate(hours_text=shown_text("hours", 1))
            .mark_bar(clip=True)
            .encode(
                x=utc_x(every=every, brush=zoom, domain=extent),
                x2=alt.X2("period_end:T"),
                y=alt.Y(
                    f"sum({field}):Q", stack="zero", title=label.lower(), axis=axis, scale=scale
                ),
                color=color(by, domain, other=other),
                opacity=highlight(legend),
                tooltip=[
                    period_tooltip(),
                    alt.Tooltip(f"{by}:N"),
                    alt.Tooltip("sum(recordings):Q", title="recordings", format=",d"),
                    alt.Tooltip("hours_text:N", title="hours"),
                ],
            )
            .properties(width=WIDTH, height=HEIGHT * 2 // 3)
        )
        views.append(view)
    views[0] = with_selections(views[0], legend)
    if brush is not None:
        views[0] = (
            views[0]
            .add_params(brush)
            .properties(
                title=title(
                    "Recordings per period", "drag across the bars to zoom the charts below"
                )
            )
        )
    return views


def volume_chart(df: Frame, *, every: str | None = None, by: str = "provider") -> ChartLike:
    """Recordings and hours recorded per period, stacked by provider (two aligned panels).

    Reuses :func:`recanalytics.trend` (counted at ``created_at``). Click a legend entry to focus
    on one provider in both panels. The eight groups with the most recordings are drawn on their
    own, the rest together as ``other``.

    Parameters
    ----------
    df : polars.DataFrame or polars.LazyFrame
        A unified frame.
    every : str, optional
        Period length; chosen from the time span by default.
    by : str, default "provider"
        Text column to stack by (at most eight groups and ``other``).

    Returns
    -------
    altair.VConcatChart
        Recordings above hours; a chart with a note for an empty frame.

    Examples
    --------
    >>> import recanalytics as ra
    >>> from recanalytics.charts import volume_chart
    >>> spec = volume_chart(ra.demo(size=200), every="1mo").to_dict()
    >>> [v["encoding"]["y"]["field"] for v in spec["vconcat"]]
    ['recordings', 'hours']
    """
    lazy = lazy_frame(df, [*_STORAGE_COLUMNS, "duration"], by=by)
    period = _every(lazy, every)
    note = undated_note(lazy)
    folded, other = fold_groups(lazy, by, pl.len())
    frame = _volume_frame(folded, period, by)
    if frame.height == 0:
        return empty_chart("Recordings and hours per period", note)
    extent = time_domain([frame], period)
    views = _volume_views(
        frame, by, period, legend=legend_selection(by), extent=extent, other=other
    )
    views[0] = noted(views[0], note)
    views[1] = _hours_view(views[1], lazy)
    result: alt.VConcatChart = alt.vconcat(*views).resolve_scale(color="shared")
    return result


def _hours_view(view: alt.Chart, lazy: pl.LazyFrame) -> alt.Chart:
    """The hours panel with its note, or only the note when no duration is known: bars summed
    over no durations drew a bare axis under a legend and logged "Infinite extent for field
    sum_hours_start" in the browser (as the storage panel says "no sizes" instead)."""
    unknown = missing_note(lazy, "duration")
    if lazy.select(pl.col("duration").is_not_null().any()).collect().item():
        return noted(view, unknown)
    return empty_chart("Hours per period", unknown)


def _mix_frame(
    lazy: pl.LazyFrame, column: str, every: str, metric: Metric, by: str | None
) -> tuple[pl.DataFrame, str | None]:
    """The mix's rows per period and value of ``column``, its rarer values folded, and the
    folded group's name (None when nothing is folded here)."""
    value = {
        "recordings": pl.len().cast(pl.Int64),
        "hours": duration_hours().sum(),
        "bytes": pl.col("size_bytes").cast(pl.Float64).sum() / 2**30,
    }[metric].alias("value")
    # overview_chart(by="codec") mixes codecs by codec: one key, not a duplicate.
    keys = list(dict.fromkeys([column] if by is None else [column, by]))
    counts = (
        lazy.filter(pl.col("created_at").is_not_null())
        .with_columns(*(as_label(k) for k in keys))
        .group_by(pl.col("created_at").dt.truncate(every).alias("period"), *keys)
        .agg(value)
        .collect()
    )
    counts, other = fold_rare(counts, column, "value", ["period", *keys])
    frame = with_period_end(counts.sort("period", *keys), every)
    check_periods(frame, every)
    return frame, other


def _mix_view(
    frame: pl.DataFrame,
    column: str,
    metric: Metric,
    every: str,
    *,
    normalize: bool,
    filter_by: alt.Parameter | None = None,
    legend: alt.Parameter | None = None,
    zoom: alt.Parameter | None = None,
    extent: TimeDomain | None = None,
    other: str | None = None,
) -> alt.Chart:
    """One mix panel; ``legend`` is a selection on ``column`` that another panel defines;
    ``other`` the name of the group ``column``'s rarer values were folded into."""
    domain = ordered_domain(column, frame[column].to_list(), other)
    unit = {"recordings": "recordings", "hours": "hours", "bytes": "GiB"}[metric]
    y_title = f"share of {unit}" if normalize else unit
    subtitle = "filtered by the provider legend above" if filter_by is not None else None
    chart = span_chart(
        alt.Chart(data(frame), title=title(f"{column.capitalize()} mix ({unit})", subtitle)), every
    )
    if filter_by is not None:
        chart = chart.transform_filter(filter_by)
    # The tooltip's text is that of the bar's sum: the overview's rows are per provider too.
    chart = chart.transform_joinaggregate(
        total="sum(value)", groupby=["period", column]
    ).transform_calculate(value_text=shown_text("total", 3, trim=True))
    selection = legend_selection(column) if legend is None else legend
    view: alt.Chart = (
        chart.mark_bar(clip=True)
        .encode(
            x=utc_x(every=every, brush=zoom, domain=extent),
            x2=alt.X2("period_end:T"),
            y=alt.Y(
                "sum(value):Q",
                stack="normalize" if normalize else "zero",
                title=y_title,
                axis=y_axis(HEIGHT, "%" if normalize else ",.3~f"),
            ),
            color=color(column, domain, other=other),
            order=alt.Order(f"{column}:O"),
            opacity=highlight(selection),
            tooltip=[
                period_tooltip(),
                alt.Tooltip(f"{column}:N"),
                alt.Tooltip("value_text:N", title=unit),
            ],
        )
        .properties(width=WIDTH, height=HEIGHT)
    )
    return view if legend is not None else with_selections(view, selection)


def codec_mix_chart(
    df: Frame,
    *,
    column: str = "codec",
    every: str | None = None,
    metric: Metric = "recordings",
    normalize: bool = True,
) -> ChartLike:
    """Codec (or container, or any column) mix over time, as stacked bars per period.

    The eight largest values keep their own colour; the rest are folded into ``other`` and a
    missing value reads ``unknown``.

    Parameters
    ----------
    df : polars.DataFrame or polars.LazyFrame
        A unified frame.
    column : str, default "codec"
        A text column: ``"codec"``, ``"container"``, ``"media_type"``, …
    every : str, optional
        Period length; chosen from the time span by default.
    metric : {"recordings", "hours", "bytes"}, default "recordings"
        What each bar measures (bytes in GiB).
    normalize : bool, default True
        Show shares of each period (100 % bars) rather than totals.

    Returns
    -------
    altair.Chart

    Examples
    --------
    >>> import recanalytics as ra
    >>> from recanalytics.charts import codec_mix_chart
    >>> spec = codec_mix_chart(ra.demo(size=200), column="container").to_dict()
    >>> spec["encoding"]["color"]["field"]
    'container'
    """
    if not isinstance(column, str):
        raise ConfigError("column", "a column name such as 'codec' or 'container'", column)
    validate.boolean(normalize, "normalize")
    if not isinstance(metric, str) or metric not in _METRICS:
        raise ConfigError("metric", "one of " + ", ".join(_METRICS), metric)
    lazy = lazy_frame(
        df, ["created_at", "duration", "size_bytes"], by=column, by_parameter="column"
    )
    period = _every(lazy, every, ("created_at",))  # the mix has no deletion periods
    note = undated_note(lazy)
    measured = {"hours": "duration", "bytes": "size_bytes"}.get(metric)
    unknown = None if measured is None else missing_note(lazy, measured)
    if measured is not None:
        lazy = lazy.filter(pl.col(measured).is_not_null())
    frame, other = _mix_frame(lazy, column, period, metric, None)
    if frame.height == 0:
        return empty_chart(f"{column.capitalize()} mix", unknown, note)
    extent = time_domain([frame], period)
    chart = _mix_view(
        frame, column, metric, period, normalize=normalize, extent=extent, other=other
    )
    return noted(chart, note, unknown)


def _cost_frame(
    lazy: pl.LazyFrame,
    every: str,
    by: str,
    rates: Mapping[str, float | StorageRate] | None,
    *,
    fold: bool = True,
) -> tuple[pl.DataFrame, pl.DataFrame, str | None, str | None]:
    """The estimate and reported-cost rows, a note naming groups whose totals could not be
    computed, and the folded group's name: with ``fold``, ``by`` keeps the eight groups with
    the largest run-rate (the estimate panel's measure) and folds the rest into ``other``."""
    lazy = lazy.with_columns(as_label(by))
    # monthly_storage_cost is 0 once a recording is deleted; the run-rate of a period needs what
    # the recording cost while it was held. That rate then follows the same add-at-creation,
    # remove-at-deletion bookkeeping storage_growth does for bytes, so the helper is reused on
    # micro-dollars instead of bytes.
    live = (
        lazy.with_columns(
            pl.col("status").alias("_status"), pl.col("deleted_at").alias("_deleted_at")
        )
        .with_columns(
            pl.lit("completed").alias("status"),
            pl.lit(None, dtype=pl.Datetime("us", "UTC")).alias("deleted_at"),
        )
        .with_columns(
            (monthly_storage_cost(rates).fill_null(0.0) * _MICRO)
            .round()
            .cast(pl.Int64)
            .alias("size_bytes")
        )
        .with_columns(pl.col("_status").alias("status"), pl.col("_deleted_at").alias("deleted_at"))
    )
    other = None
    if fold:
        # Ranked by the rate while held; both panels then fold the same groups.
        keep = top_values(live, by, pl.col("size_bytes").cast(pl.Float64).sum())
        (live, other), (lazy, _) = fold_to(live, by, keep), fold_to(lazy, by, keep)
    with values_checked():
        held = storage_growth(live, every, by=by).collect()
    check_periods(held, every)
    overflow = beyond_note(held, by, "bytes_held", "the storage run-rate")
    estimate = with_period_end(
        present_groups(
            held.select("period", by, (pl.col("bytes_held") / _MICRO).alias("usd_per_month")),
            by,
            "usd_per_month",
        ),
        every,
    )
    # by="cost_unit" stacks the reported cost by its own unit: one key, not a duplicate. A
    # line per kind too: a monthly storage charge and a one-off price are never added.
    keys = list(dict.fromkeys([by, "cost_unit", "cost_kind"]))
    reported = (
        lazy.filter(pl.col("created_at").is_not_null() & pl.col("cost").is_not_null())
        .with_columns(cost_kind())
        .with_columns(*(as_label(k) for k in keys))
        .group_by(pl.col("created_at").dt.truncate(every).alias("period"), *keys)
        .agg(pl.col("cost").sum().alias("reported"))
        .sort("period", by)
        .with_columns(
            (
                pl.col("period") + (pl.col("period").dt.offset_by(every) - pl.col("period")) / 2
            ).alias("middle")
        )
        .collect()
    )
    unsummed = (
        beyond_note(reported, by, "reported", "the reported cost") if reported.height else None
    )
    return (
        estimate,
        reported.filter(pl.col("reported").is_finite()),
        "; ".join(n for n in (overflow, unsummed) if n) or None,
        other,
    )


def _unpriced_note(
    lazy: pl.LazyFrame, rates: Mapping[str, float | StorageRate] | None
) -> tuple[str | None, bool]:
    """What the estimate leaves out: the rows it cannot price (no size or duration, as for a
    recording still enqueued, or no rate), which count as $0, and whether that is every row.

    A chart of only those drew an empty "$0" panel with a legend; it says why instead, as the
    storage chart says "no sizes".
    """
    held = lazy.with_columns(
        pl.lit("completed").alias("status"),
        pl.lit(None, dtype=pl.Datetime("us", "UTC")).alias("deleted_at"),
    )
    rows, missing = (
        held.select(pl.len(), monthly_storage_cost(rates).is_null().sum()).collect().row(0)
    )
    if not missing:
        return None, False
    recordings = counted(missing)
    if missing == rows:
        return f"no costs: {recordings} without a size or duration to price", True
    return f"{recordings} without a size or duration to price counted as $0", False


def _kinds_said(kinds: list[str]) -> list[str]:
    """What the reported amounts are, one line per kind drawn: a monthly storage charge is
    drawn once, in its creation period, and says so."""
    lines = []
    for kind in sorted(set(kinds)):
        providers = ", ".join(p for p, k in COST_KIND_OF.items() if k == kind)
        who = f"{kind} ({providers})" if providers else kind
        if kind == "monthly storage":
            lines.append(f"{who}: {COST_KINDS[kind]}, drawn once at creation, not each month")
        else:
            lines.append(f"{who}: {COST_KINDS.get(kind, 'a cost of no declared kind')}")
    return lines


def _largest_stack(frame: pl.DataFrame, column: str) -> float | None:
    """The tallest stacked bar: ``column`` summed per period."""
    if frame.height == 0:
        return None
    value = frame.group_by("period").agg(pl.col(column).sum())[column].max()
    return float(value) if isinstance(value, int | float) else None


def _cost_views(
    estimate: pl.DataFrame,
    reported: pl.DataFrame,
    by: str,
    every: str,
    *,
    legend: alt.Parameter,
    zoom: alt.Parameter | None = None,
    own_legend: bool = True,
    extent: TimeDomain | None = None,
    other: str | None = None,
) -> list[alt.Chart]:
    """The estimate panel and, when some cost is reported, the reported-cost panel.

    With ``own_legend`` (:func:`cost_chart`, which shares one colour scale and legend between
    the panels) both panels state the same domain and range: Vega-Lite merges a shared scale
    and, when the panels disagree, logs ``Conflicting scale property "domains"`` and
    ``"range"`` in the browser console. Without it (the overview, whose panels each keep their
    own colour scale) the reported panel's scale holds only the groups that report a cost.
    Either way the reported panel's legend lists those groups only.
    """
    domain = ordered_domain(by, [*estimate[by].to_list(), *reported[by].to_list()], other)
    reporting = ordered_domain(by, reported[by].to_list(), other)
    reported_domain = domain if own_legend else reporting
    views = [
        span_chart(
            alt.Chart(
                data(estimate),
                title=title(
                    "Estimated storage cost (USD per month)",
                    "run-rate of what is held at the end of each period; default or given rates",
                ),
            ),
            every,
        )
        .transform_calculate(usd_text=shown_text("usd_per_month", 2, prefix="$"))
        .mark_bar(clip=True)
        .encode(
            x=utc_x(every=every, brush=zoom, domain=extent),
            x2=alt.X2("period_end:T"),
            y=alt.Y(
                "sum(usd_per_month):Q",
                stack="zero",
                title="USD / month",
                axis=y_axis(
                    HEIGHT * 2 // 3, money_format(_largest_stack(estimate, "usd_per_month"))
                ),
                scale=y_scale(HEIGHT * 2 // 3),
            ),
            color=color(by, domain, other=other),
            opacity=highlight(legend),
            tooltip=[
                period_tooltip(),
                alt.Tooltip(f"{by}:N"),
                alt.Tooltip("usd_text:N", title="USD / month"),
            ],
        )
        .properties(width=WIDTH, height=HEIGHT * 2 // 3)
    ]
    if own_legend:
        views[0] = with_selections(views[0], legend)
    if reported.height:
        units = listed(reported["cost_unit"].to_list())
        views.append(
            dated(
                alt.Chart(
                    data(reported),
                    title=title(
                        f"Provider-reported cost per period ({units})",
                        [
                            "each recording's reported cost, in its creation period; kinds not added",
                            *_kinds_said(reported["cost_kind"].to_list()),
                        ],
                    ),
                ),
                every,
            )
            .transform_calculate(reported_text=shown_text("reported", 2))
            .mark_line(point=True, clip=True)
            .encode(
                # At the middle of its period, under the middle of the bars above.
                x=utc_x(every=every, brush=zoom, domain=extent, field="middle"),
                y=alt.Y(
                    "reported:Q",
                    title=units,
                    axis=y_axis(HEIGHT * 2 // 3, money_format(reported["reported"].max(), "")),  # type: ignore[arg-type]
                    scale=y_scale(HEIGHT * 2 // 3),
                ),
                color=color(
                    by, reported_domain, other=other, listed=reporting if own_legend else None
                ),
                detail=[alt.Detail("cost_unit:N"), alt.Detail("cost_kind:N")],
                # A monthly charge and a one-off price read apart, not as one series.
                strokeDash=alt.StrokeDash("cost_kind:N", title="cost kind"),
                opacity=highlight(legend),
                tooltip=[
                    period_tooltip(),
                    alt.Tooltip(f"{by}:N"),
                    alt.Tooltip("reported_text:N", title="reported"),
                    alt.Tooltip("cost_unit:N", title="unit"),
                    alt.Tooltip("cost_kind:N", title="kind"),
                ],
            )
            .properties(width=WIDTH, height=HEIGHT * 2 // 3)
        )
    return views


def cost_chart(
    df: Frame,
    *,
    every: str | None = None,
    by: str = "provider",
    rates: Mapping[str, float | StorageRate] | None = None,
) -> ChartLike:
    """Estimated storage cost over time, with the provider-reported cost beneath when present.

    The estimate is the monthly run-rate of what is held at the end of each period, priced with
    :func:`recanalytics.monthly_storage_cost` (defaults in ``ra.STORAGE_RATES``; pass
    ``rates=`` for your contract). Plivo and SignalWire report a cost per recording; it is
    drawn per creation period in a second panel, in its own currency. The eight groups with the
    largest run-rate are drawn on their own, the rest together as ``other`` in both panels.

    Parameters
    ----------
    df : polars.DataFrame or polars.LazyFrame
        A unified frame.
    every : str, optional
        Period length; chosen from the time span by default.
    by : str, default "provider"
        Text column to stack by (at most eight groups and ``other``).
    rates : mapping, optional
        Storage-rate overrides by provider (USD number or ``ra.StorageRate``).

    Returns
    -------
    altair.Chart or altair.VConcatChart

    Examples
    --------
    >>> import recanalytics as ra
    >>> from recanalytics.charts import cost_chart
    >>> chart = cost_chart(ra.demo(size=200), rates={"twilio": 0.04})
    >>> "USD" in str(chart.to_dict())
    True
    """
    lazy = lazy_frame(df, [*_STORAGE_COLUMNS, "provider", "duration", "cost", "cost_unit"], by=by)
    period = _every(lazy, every)
    note = undated_note(lazy)
    estimate, reported, priced, other = _cost_frame(lazy, period, by, rates)
    unpriced, none_priced = _unpriced_note(lazy, rates)
    if estimate.height == 0 or (none_priced and reported.height == 0):
        return empty_chart("Estimated storage cost", unpriced, note, priced)
    extent = time_domain([estimate, reported], period)
    legend = legend_selection(by)
    if none_priced:
        # Only the reported cost has anything to draw: the estimate panel was a bare "$0" axis
        # under a legend of every provider. The legend moves to the panel that is left and
        # lists the groups it draws.
        views = _cost_views(
            estimate.clear(), reported, by, period, legend=legend, extent=extent, other=other
        )
        views = [
            empty_chart("Estimated storage cost", note, unpriced, priced),
            with_selections(views[1], legend),
        ]
    else:
        views = _cost_views(
            estimate, reported, by, period, legend=legend, extent=extent, other=other
        )
        views[0] = noted(views[0], note, unpriced, priced)
    if len(views) == 1:
        return views[0]
    # Each panel's legends beside it: a shared legend sits right of the whole chart, the
    # provider legend then far from the estimate's bars.
    result: alt.VConcatChart = (
        alt.vconcat(*views)
        .resolve_scale(color="shared")
        .resolve_legend(color=_BESIDE, strokeDash=_BESIDE)
    )
    return result


def overview_chart(
    df: Frame,
    *,
    every: str | None = None,
    by: str = "provider",
    rates: Mapping[str, float | StorageRate] | None = None,
) -> ChartLike:
    """Linked time views: volume, storage, codec mix and cost, with one legend and one brush.

    Drag across the recordings bars to zoom every panel to that time range; click a legend entry
    (a provider) to highlight it in every panel and to filter the codec mix to it. Both work in
    a static HTML page: they are Vega-Lite parameters, no Python kernel needed. The eight groups
    with the most recordings are drawn on their own in every panel, the rest together as
    ``other``.

    Parameters
    ----------
    df : polars.DataFrame or polars.LazyFrame
        A unified frame.
    every : str, optional
        Period length; chosen from the time span by default.
    by : str, default "provider"
        Text column to stack and colour by (at most eight groups and ``other``).
    rates : mapping, optional
        Storage-rate overrides for the cost panel.

    Returns
    -------
    altair.VConcatChart

    Examples
    --------
    >>> import recanalytics as ra
    >>> from recanalytics.charts import overview_chart
    >>> spec = overview_chart(ra.demo(size=200)).to_dict()
    >>> len(spec["vconcat"]) >= 4
    True
    """
    lazy = lazy_frame(
        df, [*_STORAGE_COLUMNS, "provider", "duration", "codec", "cost", "cost_unit"], by=by
    )
    period = _every(lazy, every)
    note = undated_note(lazy)
    # One fold for every panel (by recordings, the first panel's measure): one legend.
    lazy, other = fold_groups(lazy, by, pl.len())
    volume = _volume_frame(lazy, period, by)
    if volume.height == 0:
        return empty_chart("Overview", note)
    legend = legend_selection(by)
    # Named: the zoomed panels' axes read its value in a Vega expression (see utc_x).
    brush = alt.selection_interval(encodings=["x"], name="brush")
    storage, unit, _, beyond = _storage_frame(_sized(lazy), period, by)
    mix, mix_other = _mix_frame(lazy, "codec", period, "recordings", by)
    if by == "codec":
        mix_other = other  # folded once already, above
    estimate, reported, priced, _ = _cost_frame(lazy, period, by, rates, fold=False)
    # One time extent for every panel, so a month sits at the same x in all of them.
    extent = time_domain([volume, storage, mix, estimate, reported], period)
    views: list[alt.Chart] = _volume_views(
        volume, by, period, legend=legend, brush=brush, extent=extent, other=other
    )
    views[1] = _hours_view(views[1], lazy)
    # The legend parameter is defined once (on the first panel); the others only refer to it.
    # With by="codec" it is the codec mix's own legend: the mix highlights it, as filtering a
    # codec mix by codec would leave one codec at 100 %.
    codec_legend = by == "codec"
    if storage.height == 0:
        # No sizes (calls only): an area over no rows logs "Infinite extent" in the browser.
        views.append(empty_chart("Storage held", missing_note(lazy, "size_bytes")))
    else:
        views.append(
            noted(
                _storage_view(
                    storage,
                    unit,
                    by,
                    period,
                    legend=legend,
                    brush=brush,
                    own_legend=False,
                    extent=extent,
                    other=other,
                ),
                missing_note(lazy, "size_bytes"),
            )
        )
    views.append(
        _mix_view(
            mix,
            "codec",
            "recordings",
            period,
            normalize=True,
            filter_by=None if codec_legend else legend,
            legend=legend if codec_legend else None,
            zoom=brush,
            extent=extent,
            other=mix_other,
        )
    )
    cost_views = _cost_views(
        estimate,
        reported,
        by,
        period,
        legend=legend,
        zoom=brush,
        own_legend=False,
        extent=extent,
        other=other,
    )
    unpriced, none_priced = _unpriced_note(lazy, rates)
    if none_priced:
        cost_views[0] = empty_chart("Estimated storage cost", unpriced)
    views.extend(cost_views)
    views[0] = noted(views[0], note, beyond, priced)
    result: alt.VConcatChart = (
        alt.vconcat(*views).resolve_scale(color="independent").resolve_legend(strokeDash=_BESIDE)
    )
    return result
