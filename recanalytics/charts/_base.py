"""Plumbing shared by the chart modules: colours, units, inline data, empty charts.

Every chart aggregates in polars and hands altair a small frame of already-aggregated rows as
inline ``values``: the spec size depends on the number of periods, groups or bins, never on
the number of recordings, so altair's ``MaxRowsError`` cannot trigger.
"""

from __future__ import annotations

import colorsys
import hashlib
import itertools
import json
import math
import re
from collections.abc import Callable
from datetime import time, timedelta
from typing import Any, Final, TypeAlias, TypeVar

import altair as alt
import polars as pl
from altair.utils.schemapi import debug_mode

from recanalytics.errors import ConfigError
from recanalytics.helpers._common import (
    checked_lazy,
    counted,
    period_count,
    period_start_unit,
    require_columns,
)
from recanalytics.helpers.shown import SIGNIFICANT, readable
from recanalytics.helpers.sizes import SIZE_UNITS
from recanalytics.providers.registry import SPECS
from recanalytics.schema import PROVIDERS

ChartLike: TypeAlias = alt.Chart | alt.LayerChart | alt.VConcatChart | alt.HConcatChart
ChartT = TypeVar("ChartT", alt.Chart, alt.LayerChart, alt.VConcatChart, alt.HConcatChart)
"""What every chart function returns: a single, layered or concatenated altair chart."""

Frame: TypeAlias = pl.DataFrame | pl.LazyFrame

PROVIDER_COLORS: Final[dict[str, str]] = {name: spec.color for name, spec in SPECS.items()}
"""One colour per provider (stated in its spec), shared by every chart."""

STATUS_COLORS: Final[dict[str, str]] = {
    "completed": "#009E73",
    "enqueued": "#A6CEE3",
    "processing": "#56B4E9",
    "in-progress": "#1F78B4",
    "deleted": "#7F7F7F",
    "absent": "#E69F00",
    "failed": "#D55E00",
    "stopped": "#B279A2",
    "unknown": "#CFCFCF",
}
"""Status colours: done green; in flight three distinct blues (queued light to running dark);
deleted dark grey; problems orange and red; stopped (SignalWire, a normal end) purple; no status at all (``unknown``, e.g. Zoom transcript
files) a light neutral grey, so it never reads as a failure."""

OTHER_COLORS: Final = (
    "#4C78A8",
    "#F58518",
    "#54A24B",
    "#B279A2",
    "#72B7B2",
    "#EECA3B",
    "#9D755D",
    "#FF9DA6",
    "#E45756",
)
"""The palette of a column without colours of its own (kind, codec, …), in domain order."""

WIDTH: Final = 560
HEIGHT: Final = 220
UNKNOWN: Final = "unknown"

OTHER: Final = "other"
"""The name of the group a chart folds its smaller values into, unless a value drawn beside it
has that name (see :func:`fold_label`)."""
TOP_VALUES: Final = 8
"""How many values of a grouping column (``by=``, ``column=``, the statuses) a chart draws on
their own; the rest are folded into one ``other`` group, so a chart over ``by="recording_id"``
draws at most ``TOP_VALUES + 1`` groups however many rows the frame has."""

_MAX_PERIODS: Final = 160


_UNGROUPED: Final[Any] = object()

GROUPING_FORM: Final = (
    "the name of a text column of the frame (String, Categorical, Enum or Boolean), "
    "such as 'provider', 'kind' or 'codec'"
)
"""What a ``by=``, ``group=`` or ``column=`` argument may name."""

# Null: an all-null column without a type, which is one "unknown" group.
_GROUPABLE: Final = (pl.String, pl.Categorical, pl.Enum, pl.Boolean, pl.Null)


def lazy_frame(
    df: Frame,
    columns: list[str],
    *,
    by: str = _UNGROUPED,
    by_parameter: str = "by",
    breakdown: str | None = None,
) -> pl.LazyFrame:
    """The frame as a LazyFrame, after checking it has ``columns`` and that the column which
    the argument ``by_parameter`` names (``by``; not given for a chart without groups) can
    group it.

    A grouping column holds text or booleans (:data:`GROUPING_FORM`): its values become legend
    entries and axis labels, written over the column itself (:func:`as_label`). A number, time
    or duration is a measure: the charts' helpers need it in its own type, and a group per
    distinct value would not read. ``breakdown`` is the column the chart already splits every
    group by, which the grouping may not repeat (one bar per status, each 100 % that status).
    """
    # Counted now, whatever the flavour: a chart collects its frame several times, and a count
    # inside the query would warn at each.
    if by is _UNGROUPED:
        return checked_lazy(df, columns, now=True)
    if not isinstance(by, str):  # None included: every chart with a by= draws groups
        raise ConfigError(by_parameter, "a column name", by)
    lazy = checked_lazy(df, columns, by=[by], by_parameter=by_parameter, now=True)
    check_grouping(lazy, by, by_parameter=by_parameter, breakdown=breakdown)
    return lazy


def check_grouping(
    lazy: pl.LazyFrame, by: str, *, by_parameter: str = "by", breakdown: str | None = None
) -> None:
    """Raise ConfigError naming ``by_parameter`` unless ``by`` names a column of ``lazy`` that
    can group it (see :func:`lazy_frame`)."""
    if not isinstance(by, str):
        raise ConfigError(by_parameter, "a column name", by)
    require_columns(lazy, [], by=[by], by_parameter=by_parameter)
    dtype = lazy.collect_schema()[by]
    if not isinstance(dtype, _GROUPABLE):
        hint = f"Column {by} holds {dtype} values"
        if dtype.is_integer():
            hint += f"; cast it to text first (pl.col({by!r}).cast(pl.String))"
        raise ConfigError(by_parameter, GROUPING_FORM, by, hint=hint)
    if by == breakdown:
        raise ConfigError(
            by_parameter,
            f"{GROUPING_FORM}, other than {breakdown}",
            by,
            hint=f"The chart already splits every bar by {breakdown}",
        )


def as_label(column: str) -> pl.Expr:
    """A grouping column as non-null text (enums and nulls included), for legends."""
    return pl.col(column).cast(pl.String).fill_null(UNKNOWN).alias(column)


def choose_every(
    lazy: pl.LazyFrame, columns: tuple[str, ...] = ("created_at", "deleted_at")
) -> str:
    """A period length giving at most about 60 periods for the time span of ``columns``.

    Sixty bars stay readable at chart width and keep linked views well under the spec budget.
    The span covers every column the chart's periods come from: storage periods run to the
    last deletion, so a span of creation times alone chose "1d" for data created in year 1
    and deleted in 2025, and the chart then refused its own choice as too many periods.
    """
    present = [c for c in columns if c in lazy.collect_schema().names()]
    if not present:
        return "1mo"
    bounds = lazy.select(
        pl.min_horizontal(pl.col(c).min() for c in present).alias("lo"),
        pl.max_horizontal(pl.col(c).max() for c in present).alias("hi"),
    )
    lo, hi = bounds.collect().row(0)
    if lo is None or hi is None:
        return "1mo"
    span = hi - lo
    for every, length in (("1d", 1), ("1w", 7), ("1mo", 31), ("1q", 92)):
        if span <= timedelta(days=60 * length):
            return every
    # Whole years beyond that, so a span of centuries (a year-1 date in the data) still gives
    # about 60 periods rather than one per year.
    return f"{max(1, -(-span.days // (60 * 366)))}y"


_SPAN_UNITS: Final = {
    "d": ("day", 1),
    "w": ("week", 1),
    "mo": ("month", 1),
    "q": ("month", 3),
    "y": ("year", 1),
}


def end_expression(every: str) -> str | None:
    """A Vega expression for the end of ``datum.period``, or None for unusual intervals.

    Computing the end in the browser instead of shipping it keeps each row smaller.
    """
    match = re.fullmatch(r"(\d+)(d|w|mo|q|y)", every)
    if match is None:
        return None
    unit, step = _SPAN_UNITS[match.group(2)]
    return f"utcOffset('{unit}', toDate(datum.period), {int(match.group(1)) * step})"


def with_period_end(frame: pl.DataFrame, every: str) -> pl.DataFrame:
    """Add ``period_end`` to the data only when the browser cannot compute it."""
    if end_expression(every) is None:
        return frame.with_columns(pl.col("period").dt.offset_by(every).alias("period_end"))
    return frame


def span_chart(chart: alt.Chart, every: str) -> alt.Chart:
    """Give a chart over ``period`` its ``period_end`` field (see :func:`end_expression`) and its
    ``period_from`` text (see :func:`dated`)."""
    expression = end_expression(every)
    if expression is not None:
        chart = chart.transform_calculate(period_end=expression)
    return dated(chart, every)


_START_FORMATS: Final = {
    "day": "%Y-%m-%d",
    "minute": "%Y-%m-%d %H:%M",
    "second": "%Y-%m-%d %H:%M:%S",
}


def dated(chart: alt.Chart, every: str) -> alt.Chart:
    """Give a chart over ``period`` its ``period_from`` field: the period start as UTC text, to
    the day for periods of whole days or longer, else to the minute or second.

    Written by Vega's ``utcFormat`` in a transform, as a tooltip's own ``format`` cannot say
    UTC: ``formatType="utc"`` compiled to Vega's ``utc()``, which builds a date from a year and
    a month, and every tooltip read ``period from NaN``; the ``time`` format type is the
    browser's zone, a day early west of UTC. See :func:`period_tooltip`.
    """
    fmt = _START_FORMATS[period_start_unit(every)]
    return chart.transform_calculate(period_from=f"utcFormat(toDate(datum.period), '{fmt}')")


def check_span(lazy: pl.LazyFrame, every: str, columns: tuple[str, ...]) -> None:
    """Refuse a period length giving more periods than :func:`check_periods` allows over the
    time span of ``columns``, before any period is laid out (the helpers zero-fill every one
    for every group: "1h" over a few years is tens of thousands of rows per group)."""
    present = [c for c in columns if c in lazy.collect_schema().names()]
    if not present:
        return
    low = pl.min_horizontal(pl.col(c).min() for c in present).dt.truncate(every)
    high = pl.max_horizontal(pl.col(c).max() for c in present).dt.truncate(every)
    periods = lazy.select(period_count(low, high, every)).collect().item()
    if periods is not None and periods > 20 * _MAX_PERIODS:
        raise ConfigError(
            "every",
            f"a period length giving at most {20 * _MAX_PERIODS} periods",
            every,
            hint="pass a longer interval (or every=None to choose one from the time span)",
        )


def check_periods(frame: pl.DataFrame, every: str) -> None:
    """Refuse a period length that would put thousands of periods into one spec."""
    if "period" in frame.columns and frame["period"].n_unique() > 20 * _MAX_PERIODS:
        raise ConfigError(
            "every",
            f"a period length giving at most {20 * _MAX_PERIODS} periods",
            every,
            hint="pass a longer interval (or every=None to choose one from the time span)",
        )


SHIPPED_DECIMALS: Final = 3
"""The most decimals a chart's tooltip shows of a number of 1 or more (sizes; hours 1, money 2),
which :func:`records` keeps whatever the number's size."""


def records(frame: pl.DataFrame) -> list[dict[str, Any]]:
    """Rows as JSON-ready dicts: datetimes as ISO UTC text, floats at 5 significant digits,
    and never at fewer than :data:`SHIPPED_DECIMALS` decimals.

    Rounding keeps the spec small and stable; 5 digits are more than any axis shows. Past
    99.999 they are fewer than a tooltip shows: a period of 12,345.6 hours read "12,346.0",
    $1,234.56 a month "$1,234.60" and 123,456 recordings 123,460, so a number of 100 or more
    keeps its whole part and :data:`SHIPPED_DECIMALS` decimals.
    """
    exprs: list[pl.Expr] = []
    for name, dtype in frame.schema.items():
        if isinstance(dtype, pl.Datetime):
            column = pl.col(name)
            if dtype.time_zone is not None:
                column = column.dt.convert_time_zone("UTC")
            midnight = frame.select((column.dt.time() == time(0)).all()).item()
            # Date-only ISO text is read as UTC midnight by every browser, and is shorter.
            fmt = "%Y-%m-%d" if midnight else "%Y-%m-%dT%H:%M:%SZ"
            exprs.append(column.dt.strftime(fmt).alias(name))
        elif isinstance(dtype, pl.Date):
            exprs.append(pl.col(name).dt.strftime("%Y-%m-%d").alias(name))
        elif dtype in (pl.Float32, pl.Float64):
            value = pl.col(name)
            exprs.append(
                pl.when(value.abs() >= 10 ** (5 - SHIPPED_DECIMALS))
                .then(value.round(SHIPPED_DECIMALS))
                .otherwise(value.round_sig_figs(5))
                .alias(name)
            )
        elif isinstance(dtype, pl.Enum | pl.Categorical | pl.Duration):
            exprs.append(pl.col(name).cast(pl.String).alias(name))
        else:
            exprs.append(pl.col(name))
    return frame.select(exprs).to_dicts() if exprs else []


def vegalite_spec(chart: ChartLike, *, validate: bool = True) -> dict[str, Any]:
    """The Vega-Lite spec of ``chart``, whichever altair data transformer the user enabled.

    With altair's ``"vegafusion"`` transformer on (which altair recommends for large data),
    ``chart.to_dict()`` refuses a Vega-Lite spec ("must be called with format='vega'"), so
    every export, the report and the explorer raised. Our charts carry their aggregated rows
    inline, which need no transformer: the spec is asked for as altair asks for it to display
    a chart (``pre_transform`` off), and the user's setting is left as it is.

    Examples
    --------
    >>> import altair as alt
    >>> from recanalytics.charts._base import vegalite_spec
    >>> vegalite_spec(alt.Chart(alt.Data(values=[{"x": 1}])).mark_point())["mark"]
    {'type': 'point'}
    """
    spec: dict[str, Any] = chart.to_dict(validate=validate, context={"pre_transform": False})
    if VEGAFUSION_DATA in json.dumps(spec):
        # A chart of the user's whose rows VegaFusion holds in this process: a spec naming
        # them exports an empty chart, so altair's own error is raised instead.
        chart.to_dict(validate=validate)
    return spec


VEGAFUSION_DATA: Final = "vegafusion+dataset:"
"""How a spec names rows VegaFusion keeps in the process (``pre_transform`` off)."""


def data(frame: pl.DataFrame) -> alt.Data:
    """Aggregated rows as inline chart data (no data transformer, so no MaxRowsError).

    The rows are plain JSON values built here, so altair's per-row schema validation at
    construction (most of the cost of building a chart) is skipped; the whole spec is still
    validated by ``to_dict()``.
    """
    rows = records(frame)
    with debug_mode(False):
        return alt.Data(values=rows)  # type: ignore[no-untyped-call]


OTHER_COLOR: Final = "#BAB0AC"
"""The warm grey of ``other`` (the folded values) in every chart: no palette colour gives it."""

_STATUS_EXTRA: Final = (
    "#9D755D",
    "#EECA3B",
    "#FF9DA6",
    "#54A24B",
    "#499894",
    "#B6992D",
    "#D4A6C8",
    "#8CD17D",
    "#79706E",
    "#86BCB6",
)
"""Colours of statuses without one of their own: none warm (problems) or blue (in flight)."""

_MORE_COLORS: Final = (
    *_STATUS_EXTRA[4:],  # the status palette's cool and neutral end
    "#D37295",
    "#F1CE63",
    "#A0CBE8",
    "#FFBE7D",
    "#9D7660",
    "#FABFD2",
)
"""Where a scale's own palette runs out (a fifth unknown status, a tenth codec)."""


def _spread(index: int) -> str:
    """A colour far from the ``index`` before it: hues a golden angle apart."""
    red, green, blue = colorsys.hls_to_rgb((index * 0.618033988749895) % 1.0, 0.5, 0.55)
    return "#" + "".join(f"{round(channel * 255):02X}" for channel in (red, green, blue))


def color_scale(column: str, domain: list[str], other: str | None = None) -> alt.Scale:
    """The shared scheme: fixed provider and status colours, a stable palette otherwise, and a
    distinct colour for every value shown.

    A value without a colour of its own (a provider outside the four, a status not in
    :data:`STATUS_COLORS`, any value of another column) takes the next palette colour that no
    other value of the scale holds; ``unknown`` is the neutral grey and the folded group
    (``other``, the label a fold returned) the warm one (:data:`OTHER_COLOR`) in every chart;
    a value of the data that is named "other" is a value like any other. The palettes had fewer
    colours than a chart draws values, and their fallback was other's grey: a fifth unknown
    status, or a provider outside the four, read as ``other``.
    """
    fixed: dict[str, str] = {UNKNOWN: STATUS_COLORS[UNKNOWN]}
    if other is not None:
        fixed[other] = OTHER_COLOR
    pool: tuple[str, ...] = OTHER_COLORS
    if column == "provider":
        fixed |= PROVIDER_COLORS
        # Okabe-Ito's other hues first: far from the four providers' (OTHER_COLORS opens with a
        # blue and an orange beside Zoom's and Twilio's).
        pool = ("#E69F00", "#56B4E9", "#F0E442", *OTHER_COLORS)
    elif column == "status":
        fixed |= STATUS_COLORS
        pool = _STATUS_EXTRA
    used = {fixed[v] for v in domain if v in fixed}
    spare = (c for c in dict.fromkeys((*pool, *_MORE_COLORS)) if c not in used)
    generated = (c for c in map(_spread, itertools.count()) if c not in used)
    palette = []
    for value in domain:
        colour = fixed.get(value) or next(spare, None) or next(generated)
        used.add(colour)
        palette.append(colour)
    return alt.Scale(domain=domain, range=palette)


def ordered_domain(column: str, values: list[str], other: str | None = None) -> list[str]:
    """Domain order for a colour legend: providers in schema order, statuses in
    :data:`STATUS_COLORS` order, others alphabetical; then ``unknown``, then ``other`` (the
    label of the values a fold folded, as it returned it; None where nothing was folded)."""
    present = sorted(set(values))
    if column == "provider":
        known: list[str] = [p for p in PROVIDERS if p in present]
        order = known + [v for v in present if v not in PROVIDERS]
    elif column == "status":
        known = [s for s in STATUS_COLORS if s in present and s != UNKNOWN]
        rest = [v for v in present if v not in STATUS_COLORS]
        order = known + rest + ([UNKNOWN] if UNKNOWN in present else [])
    else:
        order = [v for v in present if v != UNKNOWN] + ([UNKNOWN] if UNKNOWN in present else [])
    return [v for v in order if v != other] + ([other] if other in order else [])


def _kept(totals: pl.DataFrame, column: str, value: str) -> pl.Series | None:
    """The :data:`TOP_VALUES` values of ``column`` with the largest ``value`` in ``totals`` (one
    row per value), or None when there are few enough to draw every one."""
    if totals.height <= TOP_VALUES + 1:
        return None
    ranked = totals.with_columns(pl.col(value).fill_null(0)).sort(
        [value, column],
        descending=[True, False],  # ties broken by name: stable colours
    )
    return ranked.head(TOP_VALUES)[column]


def fold_label(kept: pl.Series) -> str:
    """The name of the group the values outside ``kept`` are folded into: ``other``, wrapped in
    parentheses for as long as a kept value holds the name (``(other)``, ``((other))``).

    A value of the data named "other" (an account so named) was merged with the folded rest:
    one ``other`` bar of its own 8 recordings and 12 of other accounts, and 7 named values.
    The folded group's name is never one a value drawn beside it holds.

    Examples
    --------
    >>> import polars as pl
    >>> fold_label(pl.Series(["AC1", "AC2"])), fold_label(pl.Series(["other", "AC2"]))
    ('other', '(other)')
    """
    taken = set(kept.to_list())
    label = OTHER
    while label in taken:
        label = f"({label})"
    return label


def _folded(column: str, keep: pl.Series, label: str) -> pl.Expr:
    return (
        pl.when(pl.col(column).is_in(keep.implode()))
        .then(pl.col(column))
        .otherwise(pl.lit(label))
        .alias(column)
    )


def top_values(lazy: pl.LazyFrame, column: str, measure: pl.Expr) -> pl.Series | None:
    """The values of ``column`` (labelled with :func:`as_label`) a chart draws on their own: the
    :data:`TOP_VALUES` with the largest ``measure`` (an aggregation such as ``pl.len()`` or
    ``pl.col("size_bytes").sum()``: what the chart shows), or None when none need folding."""
    totals = lazy.group_by(column).agg(measure.cast(pl.Float64).alias("_measure")).collect()
    return _kept(totals, column, "_measure")


def fold_to(
    lazy: pl.LazyFrame, column: str, keep: pl.Series | None
) -> tuple[pl.LazyFrame, str | None]:
    """Rename every value of ``column`` outside ``keep`` to the folded group's name (row by row,
    before any aggregation, so sums, counts and distributions of it cover all the folded rows);
    that name (:func:`fold_label`) comes back beside the frame, None when nothing is folded."""
    if keep is None:
        return lazy, None
    label = fold_label(keep)
    return lazy.with_columns(_folded(column, keep, label)), label


def fold_groups(
    lazy: pl.LazyFrame, column: str, measure: pl.Expr
) -> tuple[pl.LazyFrame, str | None]:
    """``column`` as legend labels (:func:`as_label`), its values beyond the :data:`TOP_VALUES`
    largest by ``measure`` folded into ``other``: the grouping every chart with a ``by=`` uses,
    so its spec holds a bounded number of groups whatever the column's cardinality. Returns the
    frame and the folded group's name (see :func:`fold_to`).

    The fold renames rows rather than dropping them: totals over groups are unchanged, and a
    distribution of ``other`` (a box, a histogram) is that of the folded rows together.
    """
    labelled = lazy.with_columns(as_label(column))
    return fold_to(labelled, column, top_values(labelled, column, measure))


def fold_rare(
    frame: pl.DataFrame, column: str, value: str, keys: list[str]
) -> tuple[pl.DataFrame, str | None]:
    """Keep the :data:`TOP_VALUES` values of ``column`` with the largest total ``value``; fold
    the rest into ``other``, summing ``value`` over ``keys`` (which include ``column``). Returns
    the frame and the folded group's name (see :func:`fold_to`).

    Few colours read well, and the spec then holds at most ``TOP_VALUES + 1`` values of
    ``column`` however many distinct ones the frame has. One value more than that is kept as it
    is: an ``other`` holding a single value would only hide its name.
    """
    keep = _kept(frame.group_by(column).agg(pl.col(value).sum()), column, value)
    if keep is None:
        return frame, None
    label = fold_label(keep)
    folded = frame.with_columns(_folded(column, keep, label))
    return folded.group_by(keys).agg(pl.col(value).sum()), label


def present_groups(frame: pl.DataFrame, by: str, value: str) -> pl.DataFrame:
    """Only the groups with some non-zero ``value``: a legend lists what the chart shows.

    Running totals carry every group through every period, so a provider with no sizes (or
    nothing in the selection) would otherwise sit in the legend with nothing drawn.
    """
    if frame.height == 0:
        return frame
    shown = frame.group_by(by).agg((pl.col(value).fill_null(0) != 0).any().alias("_shown"))
    keep = shown.filter(pl.col("_shown"))[by]
    return frame.filter(pl.col(by).is_in(keep.implode())) if keep.len() else frame


def color(
    column: str,
    domain: list[str],
    *,
    title: str | None = None,
    other: str | None = None,
    listed: list[str] | None = None,
) -> alt.Color:
    """Colour encoding of a nominal column with the shared scheme (``other``: the folded
    group's name, see :func:`color_scale`); its legend lists ``listed`` where given, the
    values a panel draws of a scale it shares with another."""
    return alt.Color(
        f"{column}:N",
        scale=color_scale(column, domain, other),
        title=title or column.replace("_", " "),
        legend=alt.Legend(orient="right", values=alt.Undefined if listed is None else listed),
    )


def legend_selection(column: str) -> alt.Parameter:
    """A point selection bound to the legend: click a legend entry to focus on it.

    Named after its column, the same in every chart drawn: altair before 6 numbers unnamed
    selections ``param_1``, ``param_2``… on and on, so each redraw of the same chart had new
    parameter names and the explorer made a new ``JupyterChart`` widget for it.

    Examples
    --------
    >>> legend_selection("provider").name, legend_selection("group name").name
    ('legend_provider', 'legend_1063c792')
    """
    # A Vega signal name is a JavaScript identifier; any other column name gets a stable hash.
    tag = column if column.isidentifier() and column.isascii() else _stable_hash(column)
    return alt.selection_point(fields=[column], bind="legend", name=f"legend_{tag}")


def with_selections(chart: ChartT, *selections: alt.Parameter) -> ChartT:
    """``chart.add_params(*selections)``, the view named after them.

    In a concatenated chart a selection lists the views it is defined in, by name; altair
    before 6 names an unnamed view ``view_1``, ``view_2``… counting up in the process, so
    the same chart drawn twice gave two specs. Named here, it is one spec on any altair.

    Examples
    --------
    >>> import altair as alt
    >>> chart = with_selections(alt.Chart().mark_bar(), legend_selection("provider"))
    >>> chart.to_dict(validate=False)["name"]
    'view_legend_provider'
    """
    name = "view_" + "_".join(str(s.name) for s in selections)
    return chart.properties(name=name).add_params(*selections)


def _stable_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:8]


def highlight(selection: alt.Parameter) -> alt.OpacityValue:
    """Opacity condition: selected (or nothing selected) stays solid, the rest fades.

    Built as a channel object rather than ``alt.condition(...)``'s dict: altair turns a dict
    into a channel with ``from_dict``, which rebuilds a schema hash table on every call (about
    10 ms each, which matters when the explorer redraws on every click).
    """
    return alt.OpacityValue(value=0.2, condition={"param": selection.name, "value": 1.0})


# Line breaks and other control characters: Vega-Lite copies an encoding's title into its
# tooltip expression unescaped, and a line break there is a parse error that draws nothing.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


def plain(text: str, limit: int = 60) -> str:
    """``text`` on one line and at most ``limit`` characters, for titles made from data.

    Examples
    --------
    >>> plain("USD\\n")
    'USD'
    >>> plain("x" * 100, limit=5)
    'xxxx…'
    """
    flat = _CONTROL.sub(" ", text).strip()
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def listed(values: list[str], most: int = 3) -> str:
    """Distinct ``values`` (text from data) as one short title: ``"EUR, USD and 2 more"``."""
    names = sorted({plain(v, 20) for v in values})
    shown = ", ".join(names[:most])
    return shown if len(names) <= most else f"{shown} and {len(names) - most} more"


def title(text: str, subtitle: str | list[str] | None = None) -> alt.TitleParams:
    """A chart title with an optional subtitle line (used for notes and hints)."""
    if subtitle:
        return alt.TitleParams(text=text, subtitle=subtitle, anchor="start")
    return alt.TitleParams(text=text, anchor="start")


MISSING: Final[dict[str, tuple[str, str]]] = {
    "created_at": ("a creation time", "creation times"),
    "size_bytes": ("a size", "sizes"),
    "duration": ("a duration", "durations"),
}
"""How the notes name a column's missing value: one, and several (Plivo and SignalWire send no
size; a recording may have no duration or creation time)."""


def missing_note(lazy: pl.LazyFrame, column: str) -> str | None:
    """What a chart of ``column`` leaves out: the rows where it is null, never drawn as 0.

    When no row has a value the note says so first (``"no sizes: 400 recordings without a
    size"``), so the chart that has nothing to draw reads why, not "No recordings to show.".
    """
    rows, missing = lazy.select(pl.len(), pl.col(column).is_null().sum()).collect().row(0)
    if not missing:
        return None
    one, several = MISSING[column]
    recordings = counted(missing)
    if missing == rows:
        return f"no {several}: {recordings} without {one}"
    return f"{recordings} without {one} not shown"


def shown_text(
    field: str, decimals: int, *, trim: bool = False, prefix: str = "", suffix: str = ""
) -> str:
    """A Vega expression showing ``datum[field]`` as :func:`recanalytics.helpers.shown.readable`
    does: ``decimals`` decimals from 1 up, :data:`~recanalytics.helpers.shown.SIGNIFICANT`
    significant figures below 1, so a value that is not zero never reads 0 (a Plivo call of
    2 minutes is ``0.0333`` hours; ``",.1f"`` read ``0.0``); ``n/a`` where it is null (d3
    formats null as 0, and a total of unknown sizes is not 0 bytes).

    ``trim`` drops trailing zeros (d3's ``~``); ``prefix`` and ``suffix`` go around a number.

    Examples
    --------
    >>> from recanalytics.charts._base import shown_text
    >>> shown_text("hours", 1).startswith("isValid(datum['hours'])")
    True
    """
    value = f"datum['{field}']"
    tilde = "~" if trim else ""
    # ln 10 as a number: VegaFusion (altair's "vegafusion" transformer) cannot resolve Vega's
    # LN10 constant, and a chart using it failed to display.
    places = f"max({decimals}, {SIGNIFICANT - 1} - floor(log(abs({value})) / {math.log(10)!r}))"
    small = f"format({value}, '.' + {places} + '{tilde}f')"
    if not trim:
        # readable() keeps at least ``decimals`` places: 0.5 at 2 reads 0.50, not 0.500.
        small = f"replace({small}, regexp('0{{0,' + ({places} - {decimals}) + '}}$'), '')"
    number = f"{value} != 0 && abs({value}) < 1 ? {small} : format({value}, ',.{decimals}{tilde}f')"
    return f"isValid({value}) ? '{prefix}' + ({number}) + '{suffix}' : 'n/a'"


def undated_note(lazy: pl.LazyFrame) -> str | None:
    """What a chart over creation periods leaves out: the rows without ``created_at``."""
    return missing_note(lazy, "created_at")


def beyond_note(frame: pl.DataFrame, by: str, column: str, what: str) -> str | None:
    """Which groups have a period whose ``column`` total could not be computed (null past
    Int64, or not finite): they are not drawn there, and the chart says so."""
    values = pl.col(column)
    bad = values.is_null() | (~values.is_finite() if frame.schema[column].is_float() else False)
    groups = frame.filter(bad)[by].cast(pl.String).unique().sort().to_list()
    if not groups:
        return None
    return f"{', '.join(map(str, groups))}: {what} too large to total, not drawn"


def noted(chart: ChartT, *notes: str | None) -> ChartT:
    """``chart`` with ``notes`` added to its title's subtitle (a concat chart gets a title line
    of its own): what the chart leaves out is said on it, not only in a warning at load."""
    said: list[str] = [n for n in notes if n]
    if not said:
        return chart
    current = chart.title if isinstance(chart.title, alt.TitleParams) else None
    if current is None:
        text = chart.title if isinstance(chart.title, str) else ""
        return chart.properties(title=title(text, said))
    subtitle = current.subtitle
    lines: list[str] = []
    if isinstance(subtitle, str):
        lines = [subtitle]
    elif isinstance(subtitle, list):
        lines = [str(line) for line in subtitle]
    return chart.properties(title=title(str(current.text), [*lines, *said]))


NOTHING: Final = "No recordings to show."

NOTE_COLOR: Final = "#808080"
"""The grey of what a chart draws in a colour of its own, not the data's: the notes of a chart
with nothing to draw, the bitrate guides. A mid grey, readable at more than 3:1 on a white page
and on the dark backgrounds of altair's ``"dark"`` theme (``#333``) and Carbon's: the greys
before (``#666666``, ``#555555``) all but vanished on a dark one."""


def empty_chart(text: str, *notes: str | None) -> alt.Chart:
    """A chart with no marks but its notes, one a line (every reason it has nothing to draw),
    or :data:`NOTHING` when no note is given."""
    lines = [n for n in notes if n] or [NOTHING]
    rows = [{"note": line, "line": i} for i, line in enumerate(lines)]
    values = alt.Data(values=rows)  # type: ignore[no-untyped-call]
    chart: alt.Chart = (
        alt.Chart(values, title=title(text))
        .mark_text(fontSize=14, color=NOTE_COLOR)
        .encode(text=alt.Text("note:N"), y=alt.Y("line:O", axis=None))
        .properties(width=WIDTH, height=40 + 20 * len(lines))
    )
    return chart


SECOND_TICKS: Final = (1, 10, 60, 300, 600, 1800, 3600, 3 * 3600, 10 * 3600, 86400, 864000)
"""Round durations (s) a log axis over seconds is labelled at."""
FINER_SECOND_TICKS: Final = (
    *(1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 900, 1200, 1800),
    *(3600, 2 * 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86400, 2 * 86400, 864000),
)
"""The same where fewer than three of those fall in the data's range (durations between 17 and
40 minutes had Vega's own ticks, labelled "16.666666666666668 min")."""


def seconds_axis(title_text: str, low: float = 0.0, high: float = math.inf) -> alt.Axis:
    """An axis over seconds whose labels read in human units (s, min, h), within [low, high]."""
    values: list[float] = [t for t in SECOND_TICKS if low <= t <= high]
    if len(values) < 3:
        values = [t for t in FINER_SECOND_TICKS if low <= t <= high]
    if len(values) < 2:
        values = ticks_inside(low, high, _second_unit)
    if len(values) < 2:
        # One value (a single recording in a box plot): the round durations either side of
        # it, which the scale then reaches.
        below = [t for t in FINER_SECOND_TICKS if t < low][-1:]
        above = [t for t in FINER_SECOND_TICKS if t > high][:1]
        values = sorted({*below, *values, *above})
    return alt.Axis(
        title=title_text,
        values=values or alt.Undefined,
        labelExpr=(
            "datum.value < 60 ? format(datum.value, '.3~r') + ' s' : datum.value < 3600 ? "
            "format(datum.value / 60, '.3~r') + ' min' : format(datum.value / 3600, '.3~r') + ' h'"
        ),
    )


def _second_unit(seconds: float) -> float:
    return 1.0 if seconds < 60 else 60.0 if seconds < 3600 else 3600.0


def _byte_unit(size: float) -> float:
    return float(max([1, *(f for _, f in SIZE_UNITS if f <= size)]))


def ticks_inside(low: float, high: float, unit: Callable[[float], float]) -> list[float]:
    """Two or three round values inside [low, high], for a range narrower than the axis's list
    of round values allows (one recording's bin: 383 to 562 s, 2.10 to 2.96 MiB).

    Each is rounded to as few significant digits (2, then 3, 4) of its display ``unit`` as
    keeps two of them apart and inside: a scale with that domain draws no tick outside it,
    and Vega's own ticks were labelled "2.956390380859375 MiB".
    """
    if not (math.isfinite(low) and math.isfinite(high)) or not 0 <= low < high:
        return []
    values: list[float] = []
    for digits in (2, 3, 4):
        picks = set()
        for share in (0.15, 0.5, 0.85):
            value = low + (high - low) * share
            size = unit(value)
            shown = value / size
            places = digits - 1 - math.floor(math.log10(shown)) if shown > 0 else 0
            picks.add(round(shown, places) * size)
        values = sorted(v for v in picks if low <= v <= high)
        if len(values) >= 2:
            break
    return values


BYTE_TICKS: Final = (1, 10, 100)
FINER_BYTE_TICKS: Final = (1, 2, 5, 10, 20, 50, 100, 200, 500)
"""Multiples of each unit (B, KiB, …) a log axis over bytes is labelled at; the finer ones
where fewer than two of the first fall in the data's range."""


def bytes_axis(title_text: str, low: float, high: float) -> alt.Axis:
    """A log axis over bytes labelled 1 KiB, 10 KiB, 100 KiB, 1 MiB, … within [low, high];
    narrower ranges at 2 and 5 of a unit, or at round values inside (``2.5 MiB``)."""
    values: list[float] = []
    for multiples in (BYTE_TICKS, FINER_BYTE_TICKS):
        values = [
            float(k * factor)
            for _, factor in (("B", 1), *SIZE_UNITS)
            for k in multiples
            if low <= k * factor <= high
        ]
        if len(values) >= 2:
            break
    if len(values) < 2:
        values = ticks_inside(low, high, _byte_unit) or values
    return alt.Axis(title=title_text, values=values or alt.Undefined, labelExpr=bytes_text("value"))


def bytes_text(field: str) -> str:
    """A Vega expression writing the byte count ``datum[field]`` in the largest binary unit it
    reaches, at three significant digits (``665 KiB``, ``2.5 MiB``): the labels of
    :func:`bytes_axis`, which a tooltip beside it repeats.

    Examples
    --------
    >>> from recanalytics.charts._base import bytes_text
    >>> bytes_text("s_lo").endswith("format(datum['s_lo'], '.3~r') + ' B'")
    True
    """
    value = f"datum['{field}']"
    units = " : ".join(
        f"{value} >= {factor} ? format({value} / {factor}, '.3~r') + ' {name}'"
        for name, factor in reversed(SIZE_UNITS)
        if factor > 1
    )
    return f"{units} : format({value}, '.3~r') + ' B'"


TimeDomain: TypeAlias = tuple[int, int]
"""A time axis extent in epoch milliseconds (UTC): first period start, last period end."""


def time_domain(frames: list[pl.DataFrame], every: str) -> TimeDomain | None:
    """The extent of every ``period`` in ``frames``: first start to the end of the last period.

    Panels drawn over one extent line up month for month, and the last period is drawn whole
    (no rounding out to the next year, no point cut at the edge).
    """
    periods = [f["period"] for f in frames if "period" in f.columns and f.height]
    if not periods:
        return None
    both = pl.concat([p.cast(pl.Datetime("us", "UTC")) for p in periods])
    # Epoch milliseconds straight from polars: the end of a period in year 9999 lies in year
    # 10000, which a Python datetime cannot hold.
    bounds = both.to_frame("period").select(
        pl.col("period").min().dt.epoch("ms").alias("lo"),
        pl.col("period").max().dt.offset_by(every).dt.epoch("ms").alias("hi"),
    )
    lo, hi = bounds.row(0)
    if lo is None or hi is None:
        return None
    return int(lo), int(hi)


Y_EXTENT: Final = 64
"""Pixels every time panel's y axis takes, so stacked panels' plot areas line up exactly."""


def y_steps(height: int) -> int:
    """How many label steps a y axis of ``height`` pixels gets (its scale is rounded to them)."""
    return max(3, height // 45)


def money_format(largest: float | None, symbol: str = "$") -> str:
    """A d3 format for amounts up to ``largest``: cents, or more digits below a dollar (a small
    account's run-rate of $0.004 a month read "$0.00" on every tick)."""
    if largest is None or not math.isfinite(largest) or abs(largest) >= 1:
        return f"{symbol},.2f"
    return f"{symbol},.2~r" if abs(largest) < 0.0001 else f"{symbol},.4~f"


def y_axis(height: int, fmt: str, **options: Any) -> alt.Axis:
    """A y axis labelled in :func:`y_steps` steps, as wide as every other time panel's."""
    return alt.Axis(
        format=fmt, tickCount=y_steps(height), minExtent=Y_EXTENT, maxExtent=Y_EXTENT, **options
    )


def count_axis(totals: pl.Series, height: int = HEIGHT) -> tuple[alt.Axis, alt.Scale]:
    """An axis and scale for a count of recordings whose largest bar is ``totals.max()``,
    labelled in whole recordings.

    Many: Vega's round steps, at least 1 apart. A few: every whole count is a tick, as steps
    rounded to halves read "0.0, 0.5, 1.0" (or "0, 1, 1" under an integer format).
    """
    top = float(totals.max() or 0.0) if totals.len() else 0.0  # type: ignore[arg-type]
    if top >= 2 * y_steps(height):
        return alt.Axis(format=",d", tickMinStep=1), y_scale(height)
    whole = max(1, math.ceil(top))
    return (
        alt.Axis(format=",d", values=list(range(whole + 1))),
        alt.Scale(domain=[0, whole], nice=False, zero=True),
    )


def y_scale(height: int) -> alt.Scale:
    """A zero-based y scale rounded out to :func:`y_steps` round steps.

    The top of the scale is then a labelled round value above the data: a 247 GiB peak gets a
    250 label above it, rather than a last label at 200 and an area that touches the frame.
    """
    return alt.Scale(nice=y_steps(height), zero=True)


TIME_LABELS: Final = (
    "utchours(datum.value) || utcminutes(datum.value) || utcseconds(datum.value)"
    " ? (datum.index ? datum.label"
    " : [datum.label, utcFormat(datum.value, '%b %-d, ') + utcyear(datum.value)])"
    " : utcmonth(datum.value) == 0 && utcdate(datum.value) == 1"
    " ? '' + utcyear(datum.value)"
    " : utcdate(datum.value) == 1 ? utcFormat(datum.value, '%b ') + utcyear(datum.value)"
    " : utcFormat(datum.value, '%b %-d, ') + utcyear(datum.value)"
)
"""Time tick labels that each carry their year: ``2026`` on a year's first day, ``Apr 2025`` on
a month's, ``Feb 3, 2025`` on any other day. Times of day keep Vega's own label (``03 AM``),
the axis's first one with its day and year on a second line: an axis inside one day (hourly
periods, or zoomed by the overview's brush) had no midnight tick, and named no day. The year is
the number itself, not d3's ``%Y``, which pads to four digits modulo 10 000: the ends of an axis
over years 1 to 9999 (a provider's default date beside real ones) both read ``0000``.

Vega's default labels name the year only on a January tick: ticks thinned to every other
month from February (``February April … December February``) never showed one, and 2025
read as 2026. A year on every label holds whichever labels the overlap rule hides, whatever
the period length, and when a brush zooms the axis."""

TIME_TICKS: Final = WIDTH // 80
"""Ticks asked of a time axis: d3 then steps a span of a year or two by quarters (which start
on every January) rather than by months, and labels carrying a year fit with room between."""


TIME_TITLE: Final = "time (UTC)"
"""The title of every time axis: periods are UTC, which a reader west or east of it cannot tell
from the labels (a period starting at UTC midnight is the evening before in Los Angeles)."""


_WEEK_MS: Final = 7 * 86_400_000
_WEEK_TICKS: Final = 15
"""The most period starts a weekly axis is ticked on (Vega thins them to the tick count).
Sixteen weekly ones span 105 days or more, past the 101 up to which d3, asked for
:data:`TIME_TICKS` ticks, steps by its (Sunday) weeks rather than by months."""


def _weeks(every: str | None) -> int | None:
    """How many weeks a period of ``every`` lasts, or None unless it is whole weeks."""
    match = re.fullmatch(r"(\d+)w", every or "")
    return int(match.group(1)) if match else None


def time_title(every: str | None = None) -> str:
    """The title of a time axis over periods of ``every``: :data:`TIME_TITLE`, saying on which
    day weeks start where the periods are weeks (a tick names a date, not its weekday).

    Examples
    --------
    >>> from recanalytics.charts._base import time_title
    >>> time_title("1w"), time_title("2w"), time_title("1mo")
    ('time (UTC), weeks from Monday', 'time (UTC), 2 weeks from Monday', 'time (UTC)')
    """
    weeks = _weeks(every)
    if weeks is None:
        return TIME_TITLE
    return f"{TIME_TITLE}, {'weeks' if weeks == 1 else f'{weeks} weeks'} from Monday"


def _week_ticks(shown: str, first: int, weeks: int) -> alt.ExprRef:
    """Ticks on the period starts (Mondays, as polars' ``truncate("1w")`` gives) within the
    shown range ``shown`` (a Vega expression, zoomed by a brush), ``first`` being one of them.

    Vega steps a time axis by its own weeks, which start on Sunday: every bar's edge sat a day
    after the date written under it. Where more than :data:`_WEEK_TICKS` would fall in the
    range, or fewer than two, the expression is null, and Vega's own ticks (months, quarters;
    days, hours) read better; Vega thins the list given to the tick count.
    """
    step = weeks * _WEEK_MS
    low, high = f"time(({shown})[0])", f"time(({shown})[1])"
    start = f"({first} + ceil(({low} - {first}) / {step}) * {step})"
    count = f"(floor(({high} - {start}) / {step}) + 1)"
    return alt.ExprRef(
        f"{count} >= 2 && {count} <= {_WEEK_TICKS} ? sequence({start}, {high} + 1, {step}) : null"
    )


def time_axis(title_text: str = TIME_TITLE, values: alt.ExprRef | None = None) -> alt.Axis:
    """The x axis every time chart shares: :data:`TIME_LABELS` at about :data:`TIME_TICKS`,
    at ``values`` where given."""
    return alt.Axis(
        title=title_text,
        labelExpr=TIME_LABELS,
        tickCount=TIME_TICKS,
        values=alt.Undefined if values is None else values,
    )


def utc_x(
    *,
    every: str | None = None,
    brush: alt.Parameter | None = None,
    domain: TimeDomain | None = None,
    field: str = "period",
) -> alt.X:
    """A time axis shown in UTC (periods are UTC) over ``domain``, optionally zoomed by a brush.

    With a brush, the axis follows the brushed range and falls back to ``domain`` when nothing
    is brushed (a Vega expression on the brush's value). Periods of whole weeks are ticked on
    the Mondays they start (see :func:`time_title`).
    """
    extent = f"[{domain[0]}, {domain[1]}]" if domain is not None else None
    shown = extent
    if brush is not None:
        name = brush.name
        shown = f"{name}.period || {extent}" if extent is not None else None
        scale = (
            alt.Scale(type="utc", domain=alt.ExprRef(shown))
            if shown is not None
            else alt.Scale(type="utc", domain=brush)
        )
    elif extent is not None:
        scale = alt.Scale(type="utc", domain=alt.ExprRef(extent))
    else:
        scale = alt.Scale(type="utc")
    weeks = _weeks(every)
    values = None
    if weeks is not None and domain is not None and shown is not None:
        # The extent starts at the first period: a Monday, on the periods' grid.
        values = _week_ticks(shown, domain[0], weeks)
    title_text = time_title(every)
    return alt.X(f"{field}:T", title=title_text, scale=scale, axis=time_axis(title_text, values))


def period_tooltip() -> alt.Tooltip:
    """The period start in UTC: a chart given its text by :func:`dated` or :func:`span_chart`."""
    return alt.Tooltip("period_from:N", title="period from")


def share_text(value: float | None) -> str:
    """A share 0-1 as a percentage with one decimal, or three significant figures below 1 %
    (one failed recording in 10 000 reads ``0.01 %``, not ``0.0 %``)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return f"{readable(100 * value, 1)} %"
