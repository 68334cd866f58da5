"""Distribution charts: durations, statuses, size against duration, and the largest groups."""

from __future__ import annotations

from typing import Final, Literal

import altair as alt
import polars as pl

from recanalytics.charts._base import (
    HEIGHT,
    NOTE_COLOR,
    UNKNOWN,
    WIDTH,
    ChartLike,
    Frame,
    as_label,
    bytes_axis,
    bytes_text,
    check_grouping,
    color,
    count_axis,
    data,
    empty_chart,
    fold_groups,
    fold_rare,
    highlight,
    lazy_frame,
    legend_selection,
    listed,
    missing_note,
    noted,
    ordered_domain,
    seconds_axis,
    share_text,
    shown_text,
    title,
    with_selections,
)
from recanalytics.errors import ConfigError
from recanalytics.helpers._common import counted, int64_sum
from recanalytics.helpers.durations import duration_hours, duration_seconds
from recanalytics.helpers.sizes import size_unit

__all__ = [
    "BITRATE_GUIDES_KBPS",
    "duration_boxplot",
    "duration_histogram",
    "size_duration_chart",
    "status_chart",
    "top_groups_chart",
]

BITRATE_GUIDES_KBPS: Final = (8.0, 64.0, 512.0, 4096.0)
"""Bitrates drawn as guide lines on the size-against-duration chart (kbps): telephony speech,
wideband audio, low video, HD video."""

_LABEL_CHARS: Final = 16
"""Longer group labels are shortened on the axis (head…tail); tooltips keep them whole."""

GroupMetric = Literal["bytes", "hours", "recordings"]
_GROUP_METRICS: Final = ("bytes", "hours", "recordings")


def _log_bins(expr: pl.Expr, per_decade: int) -> tuple[pl.Expr, pl.Expr]:
    """Lower and upper edges of the half-open bin ``[lo, hi)`` holding each value of ``expr``:
    equal-width bins on a log10 scale, ``per_decade`` to a factor of ten.

    The bin is the one whose edges, as computed here, hold the value: polars' log10 of 1,000 is
    2.9999999999999996, so its floor alone put a 1,000 s call in the bin below 1,000 s. A log
    is off by an ulp at most, so the index it gives is moved by one where the edges disagree.
    """

    def edge(index: pl.Expr) -> pl.Expr:
        return pl.lit(10.0) ** (index / per_decade)

    rough = (expr.log10() * per_decade).floor()
    index = (
        pl.when(edge(rough + 1) <= expr)
        .then(rough + 1)
        .when(edge(rough) > expr)
        .then(rough - 1)
        .otherwise(rough)
    )
    return edge(index).alias("lo"), edge(index + 1).alias("hi")


def duration_histogram(df: Frame, *, by: str = "provider", bins_per_decade: int = 5) -> ChartLike:
    """Histogram of recording durations on a log scale, stacked by provider (or any column).

    Bins are equal on a log10 scale (``bins_per_decade`` per factor of ten), counted in polars;
    the axis reads in seconds, minutes and hours. Recordings with no or zero duration cannot sit
    on a log axis: they are counted in the subtitle. The eight groups with the most recordings
    are stacked on their own; the rest are counted together as ``other``.

    Parameters
    ----------
    df : polars.DataFrame or polars.LazyFrame
        A unified frame.
    by : str, default "provider"
        Text column to stack and colour by (at most eight groups and ``other``).
    bins_per_decade : int, default 5
        Bin resolution (1-20).

    Returns
    -------
    altair.Chart

    Examples
    --------
    >>> import recanalytics as ra
    >>> from recanalytics.charts import duration_histogram
    >>> spec = duration_histogram(ra.demo(size=200)).to_dict()
    >>> spec["encoding"]["x"]["scale"]["type"]
    'log'
    """
    if isinstance(bins_per_decade, bool) or not isinstance(bins_per_decade, int):
        raise ConfigError("bins_per_decade", "an integer from 1 to 20", bins_per_decade)
    if not 1 <= bins_per_decade <= 20:
        raise ConfigError("bins_per_decade", "an integer from 1 to 20", bins_per_decade)
    lazy = lazy_frame(df, ["duration"], by=by)
    seconds = duration_seconds()
    lo, hi = _log_bins(seconds, bins_per_decade)
    positive, other = fold_groups(lazy.filter(seconds > 0), by, pl.len())
    frame = (
        positive.group_by(lo, hi, by)
        .agg(pl.len().alias("recordings"), duration_hours().sum().alias("hours"))
        .sort("lo", by)
        .collect()
    )
    note = _untimed_note(lazy)
    if frame.height == 0:
        return empty_chart("Duration distribution", note)
    domain = ordered_domain(by, frame[by].to_list(), other)
    selection = legend_selection(by)
    axis, scale = count_axis(frame.group_by("lo").agg(pl.col("recordings").sum())["recordings"])
    chart: alt.Chart = (
        alt.Chart(data(frame), title=title("Duration distribution (log scale)", note))
        .transform_calculate(hours_text=shown_text("hours", 1))
        .mark_bar(stroke="white", strokeWidth=0.3)
        .encode(
            x=alt.X(
                "lo:Q",
                scale=alt.Scale(type="log"),
                axis=seconds_axis("duration", frame["lo"].min(), frame["hi"].max()),  # type: ignore[arg-type]
            ),
            x2=alt.X2("hi:Q"),
            y=alt.Y(
                "sum(recordings):Q",
                stack="zero",
                title="recordings",
                axis=axis,
                scale=scale,
            ),
            color=color(by, domain, other=other),
            opacity=highlight(selection),
            tooltip=[
                alt.Tooltip(f"{by}:N"),
                alt.Tooltip("lo:Q", title="from (s)", format=",.4~r"),
                alt.Tooltip("hi:Q", title="to (s)", format=",.4~r"),
                alt.Tooltip("sum(recordings):Q", title="recordings", format=",d"),
                alt.Tooltip("hours_text:N", title="hours"),
            ],
        )
        .properties(width=WIDTH, height=HEIGHT)
    )
    return with_selections(chart, selection)


def _untimed_note(lazy: pl.LazyFrame) -> str | None:
    """The recordings a log duration axis cannot hold (no duration, or zero), which a duration
    chart leaves out and says so."""
    seconds = duration_seconds()
    skipped = lazy.select((seconds.is_null() | (seconds <= 0)).sum()).collect().item()
    return f"{counted(skipped)} with no or zero duration not shown" if skipped else None


def _quartiles(lazy: pl.LazyFrame, by: str) -> tuple[pl.DataFrame, str | None]:
    """Quartiles, extremes and whiskers per group, and the folded group's name."""
    seconds = duration_seconds()
    positive = lazy.with_columns(seconds.alias("_s")).filter(pl.col("_s") > 0)
    folded, other = fold_groups(positive, by, pl.len())
    stats = (
        folded.group_by(by)
        .agg(
            pl.len().alias("recordings"),
            pl.col("_s").min().alias("min"),
            pl.col("_s").quantile(0.25, "linear").alias("q1"),
            pl.col("_s").median().alias("median"),
            pl.col("_s").quantile(0.75, "linear").alias("q3"),
            pl.col("_s").max().alias("max"),
        )
        .collect()
    )
    iqr = pl.col("q3") - pl.col("q1")
    whiskers = stats.with_columns(
        # Tukey whiskers (1.5 IQR), clipped to the data; on a log axis the lower one must stay > 0.
        pl.max_horizontal(pl.col("min"), pl.col("q1") - 1.5 * iqr).alias("whisker_lo"),
        pl.min_horizontal(pl.col("max"), pl.col("q3") + 1.5 * iqr).alias("whisker_hi"),
    )
    return whiskers, other


def duration_boxplot(df: Frame, *, by: str = "provider") -> ChartLike:
    """Box plot of durations per group, with quartiles computed in polars (no raw rows shipped).

    The box spans the first to the third quartile with a tick at the median; whiskers reach
    1.5 × IQR beyond the box, clipped to the smallest and largest duration. The axis is
    logarithmic and reads in s, min and h; zero and unknown durations are left out. The eight
    groups with the most recordings get a box each; one ``other`` box holds the durations of
    all the rest together.

    Parameters
    ----------
    df : polars.DataFrame or polars.LazyFrame
        A unified frame.
    by : str, default "provider"
        One box per value of this text column (``"kind"``, ``"media_type"``, ``"codec"``, …),
        at most eight and ``other``.

    Returns
    -------
    altair.LayerChart

    Examples
    --------
    >>> import recanalytics as ra
    >>> from recanalytics.charts import duration_boxplot
    >>> spec = duration_boxplot(ra.demo(size=200), by="kind").to_dict()
    >>> [layer["mark"]["type"] for layer in spec["layer"]]
    ['rule', 'bar', 'tick']
    """
    lazy = lazy_frame(df, ["duration"], by=by)
    stats, other = _quartiles(lazy, by)
    note = _untimed_note(lazy)
    if stats.height == 0:
        return empty_chart(f"Duration by {by}", note)
    domain = ordered_domain(by, stats[by].to_list(), other)
    stats = stats.sort(pl.col(by).replace_strict(domain, list(range(len(domain)))))
    selection = legend_selection(by)
    axis = seconds_axis("duration", stats["whisker_lo"].min(), stats["whisker_hi"].max())  # type: ignore[arg-type]
    y = alt.Y(f"{by}:N", sort=domain, title=by.replace("_", " "))
    tooltip = [
        alt.Tooltip(f"{by}:N"),
        alt.Tooltip("recordings:Q", format=",d"),
        *(
            alt.Tooltip(f"{name}:Q", title=f"{name} (s)", format=",.4~r")
            for name in ("min", "q1", "median", "q3", "max")
        ),
    ]
    base = alt.Chart(data(stats))
    whiskers = base.mark_rule().encode(
        x=alt.X("whisker_lo:Q", scale=alt.Scale(type="log"), axis=axis),
        x2=alt.X2("whisker_hi:Q"),
        y=y,
        tooltip=tooltip,
    )
    boxes = base.mark_bar(size=16).encode(
        x=alt.X("q1:Q"),
        x2=alt.X2("q3:Q"),
        y=y,
        color=color(by, domain, other=other),
        opacity=highlight(selection),
        tooltip=tooltip,
    )
    boxes = with_selections(boxes, selection)
    # Dark, not white: a group whose durations are all alike (one recording, the files of one
    # session) has a box and whiskers of no width, and a white median left it blank.
    medians = base.mark_tick(color="#222222", size=18, thickness=2).encode(
        x=alt.X("median:Q"), y=y, tooltip=tooltip
    )
    height = max(60, 28 * len(domain))
    return alt.LayerChart(
        layer=[whiskers, boxes, medians],
        title=title(f"Duration by {by} (log scale)", note),
        width=WIDTH,
        height=height,
    )


def status_chart(df: Frame, *, by: str = "provider") -> ChartLike:
    """Share of each status per group, with the failed and deleted shares in the subtitle.

    Failed means a status in ``ra.FAILED_STATUSES`` (``failed``, ``absent``); deleted means a
    ``deleted`` status or a deletion time. The eight most frequent statuses keep their own
    colour; the rest are folded into ``other`` (as in :func:`codec_mix_chart`), so the spec
    stays small however many distinct statuses the frame holds. Likewise the eight groups with
    the most recordings get a bar each and the rest share one ``other`` bar.

    Parameters
    ----------
    df : polars.DataFrame or polars.LazyFrame
        A unified frame.
    by : str, default "provider"
        One bar per value of this text column (not ``"status"``, which every bar is split by),
        at most eight and ``other``.

    Returns
    -------
    altair.Chart

    Raises
    ------
    recanalytics.ConfigError
        If ``by`` is not a text column of the frame, or is ``"status"``.

    Examples
    --------
    >>> import recanalytics as ra
    >>> from recanalytics.charts import status_chart
    >>> spec = status_chart(ra.demo(size=200)).to_dict()
    >>> spec["encoding"]["x"]["stack"]
    'normalize'
    """
    from recanalytics.helpers.sizes import is_deleted
    from recanalytics.helpers.summary import FAILED_STATUSES

    lazy = lazy_frame(df, ["status", "deleted_at"], by=by, breakdown="status")
    folded, other = fold_groups(lazy, by, pl.len())
    labelled = folded.with_columns(
        pl.col("status").str.to_lowercase().fill_null(UNKNOWN).alias("_status"),
        is_deleted().fill_null(False).alias("_deleted"),
    )
    counts, other_status = fold_rare(
        labelled.group_by(by, pl.col("_status").alias("status"))
        .agg(pl.len().alias("recordings"))
        .collect(),
        "status",
        "recordings",
        [by, "status"],
    )
    counts = counts.with_columns(
        (pl.col("recordings") / pl.col("recordings").sum().over(by)).alias("share")
    ).sort(by, "status")
    if counts.height == 0:
        return empty_chart("Status breakdown")
    overall = labelled.select(
        pl.col("_status").is_in(sorted(FAILED_STATUSES)).mean().alias("failed"),
        pl.col("_deleted").mean().alias("deleted"),
    ).collect()
    failed, deleted = overall.row(0)
    subtitle = f"failed {share_text(failed)} · deleted {share_text(deleted)} of all recordings"
    group_domain = ordered_domain(by, counts[by].to_list(), other)
    status_domain = ordered_domain("status", counts["status"].to_list(), other_status)
    selection = legend_selection("status")
    result: alt.Chart = (
        alt.Chart(data(counts), title=title("Status breakdown", subtitle))
        .transform_calculate(percent="datum.share * 100")
        .transform_calculate(share_text=shown_text("percent", 1, suffix=" %"))
        .mark_bar()
        .encode(
            y=alt.Y(f"{by}:N", sort=group_domain, title=by.replace("_", " ")),
            x=alt.X("recordings:Q", stack="normalize", title="share", axis=alt.Axis(format="%")),
            color=color("status", status_domain, other=other_status),
            order=alt.Order("status:O"),
            opacity=highlight(selection),
            tooltip=[
                alt.Tooltip(f"{by}:N"),
                alt.Tooltip("status:N"),
                alt.Tooltip("recordings:Q", format=",d"),
                alt.Tooltip("share_text:N", title="share"),
            ],
        )
        .properties(width=WIDTH, height=max(60, 30 * len(group_domain)))
    )
    return with_selections(result, selection)


def _bitrate_guides(
    d_min: float, d_max: float, y_min: float, y_max: float
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Constant-bitrate lines across the duration range, and where to label each one.

    A label sits where its line leaves the plot (right edge or top edge); a line that never
    enters the plotted size range is dropped, so guides never stretch the axes.
    """
    lines: list[dict[str, float | str]] = []
    labels: list[dict[str, float | str]] = []
    for kbps in BITRATE_GUIDES_KBPS:
        per_second = kbps * 1000 / 8
        if per_second * d_max < y_min or per_second * d_min > y_max:
            continue
        label = f"{kbps:g} kbps"
        lines += [
            {"kbps": kbps, "seconds": s, "size": per_second * s, "label": label}
            for s in (d_min, d_max)
        ]
        exit_seconds = min(d_max, y_max / per_second)
        labels.append(
            {
                "kbps": kbps,
                "seconds": exit_seconds,
                "size": per_second * exit_seconds,
                "label": label,
            }
        )
    schema = {"kbps": pl.Float64, "seconds": pl.Float64, "size": pl.Float64, "label": pl.String}
    return pl.DataFrame(lines, schema=schema), pl.DataFrame(labels, schema=schema)


def size_duration_chart(df: Frame, *, bins_per_decade: int = 6) -> ChartLike:
    """File size against duration as a 2-D log-binned heat map, with constant-bitrate guides.

    Aggregation: 2-D binning (not sampling). Both axes are cut into ``bins_per_decade`` bins
    per factor of ten and each cell is coloured by how many recordings fall in it, so every
    recording counts and the spec holds at most a few thousand cells whatever the row count.
    Dashed lines mark the sizes that 8, 64, 512 and 4096 kbps would give: cells far above a
    line hold files larger than their duration explains. Rows with no size (Plivo, SignalWire)
    or no duration are counted in the subtitle.

    Parameters
    ----------
    df : polars.DataFrame or polars.LazyFrame
        A unified frame.
    bins_per_decade : int, default 6
        Cells per factor of ten on each axis (1-20).

    Returns
    -------
    altair.LayerChart

    Examples
    --------
    >>> import recanalytics as ra
    >>> from recanalytics.charts import size_duration_chart
    >>> spec = size_duration_chart(ra.demo(size=200)).to_dict()
    >>> spec["layer"][0]["mark"]["type"]
    'rect'
    """
    if isinstance(bins_per_decade, bool) or not isinstance(bins_per_decade, int):
        raise ConfigError("bins_per_decade", "an integer from 1 to 20", bins_per_decade)
    if not 1 <= bins_per_decade <= 20:
        raise ConfigError("bins_per_decade", "an integer from 1 to 20", bins_per_decade)
    lazy = lazy_frame(df, ["duration", "size_bytes", "provider"])
    seconds = duration_seconds()
    size = pl.col("size_bytes").cast(pl.Float64)
    usable = (seconds > 0) & (size > 0)
    d_lo, d_hi = _log_bins(seconds, bins_per_decade)
    s_lo, s_hi = _log_bins(size, bins_per_decade)
    cells = (
        lazy.filter(usable)
        .group_by(d_lo.alias("d_lo"), d_hi.alias("d_hi"), s_lo.alias("s_lo"), s_hi.alias("s_hi"))
        .agg(
            pl.len().alias("recordings"),
            (size * 8 / seconds / 1000).median().alias("median_kbps"),
            # Sorted: mode() lists tied values in no set order, and the spec changed between runs.
            pl.col("provider").cast(pl.String).mode().sort().first().alias("top_provider"),
        )
        .sort("d_lo", "s_lo")
        .collect()
    )
    skipped = lazy.select((~usable).fill_null(True).sum()).collect().item()
    note = f"{counted(skipped)} without size or duration not shown" if skipped else None
    if cells.height == 0:
        return empty_chart("Size against duration", note)
    d_min, d_max = float(cells["d_lo"].min()), float(cells["d_hi"].max())  # type: ignore[arg-type]
    y_min, y_max = float(cells["s_lo"].min()), float(cells["s_hi"].max())  # type: ignore[arg-type]
    guides, labels_at = _bitrate_guides(d_min, d_max, y_min, y_max)
    x_scale = alt.Scale(type="log", domain=[d_min, d_max])
    y_scale = alt.Scale(type="log", domain=[y_min, y_max])
    heat = (
        alt.Chart(data(cells))
        # In the axis's binary units: ",.3~s" read the edges "681k" and "1M" beside "1 MiB".
        .transform_calculate(size_from=bytes_text("s_lo"), size_to=bytes_text("s_hi"))
        .mark_rect()
        .encode(
            x=alt.X("d_lo:Q", scale=x_scale, axis=seconds_axis("duration", d_min, d_max)),
            x2=alt.X2("d_hi:Q"),
            y=alt.Y("s_lo:Q", scale=y_scale, axis=bytes_axis("file size", y_min, y_max)),
            y2=alt.Y2("s_hi:Q"),
            color=alt.Color(
                "recordings:Q",
                scale=alt.Scale(type="log", scheme="blues"),
                title="recordings",
            ),
            tooltip=[
                alt.Tooltip("d_lo:Q", title="duration from (s)", format=",.3~r"),
                alt.Tooltip("d_hi:Q", title="duration to (s)", format=",.3~r"),
                alt.Tooltip("size_from:N", title="size from"),
                alt.Tooltip("size_to:N", title="size to"),
                alt.Tooltip("recordings:Q", format=",d"),
                alt.Tooltip("median_kbps:Q", title="median kbps", format=",.4~r"),
                alt.Tooltip("top_provider:N", title="most from"),
            ],
        )
    )
    lines = (
        alt.Chart(data(guides))
        .mark_line(strokeDash=[4, 3], color=NOTE_COLOR, strokeWidth=1, clip=True)
        .encode(
            x=alt.X("seconds:Q", scale=x_scale),
            y=alt.Y("size:Q", scale=y_scale),
            detail=alt.Detail("kbps:N"),
        )
    )
    labels = (
        alt.Chart(data(labels_at))
        .mark_text(align="right", dx=-4, dy=-6, fontSize=10, color=NOTE_COLOR)
        .encode(
            x=alt.X("seconds:Q", scale=x_scale),
            y=alt.Y("size:Q", scale=y_scale),
            text=alt.Text("label:N"),
        )
    )
    heading = title(
        "Size against duration",
        ["2-D log bins; dashed lines: constant bitrate", *([note] if note else [])],
    )
    return alt.LayerChart(
        layer=[heat, lines, labels], title=heading, width=WIDTH, height=HEIGHT + 80
    )


def top_groups_chart(
    df: Frame,
    *,
    group: str = "group_id",
    metric: GroupMetric = "bytes",
    n: int = 15,
    by: str = "provider",
) -> ChartLike:
    """The largest groups (rooms, conferences, calls, sessions) by size, hours or count.

    A group's label is its ``group_name`` where the provider gives one (a blank name counts as
    none), else its id. Groups are ranked by their own totals; each bar is split by ``by``,
    whose eight largest values among the bars shown keep their own colour and the rest share
    one ``other`` segment. The share held by the groups not shown is given in the subtitle.

    Parameters
    ----------
    df : polars.DataFrame or polars.LazyFrame
        A unified frame.
    group : str, default "group_id"
        Text column to group by (``"group_id"``, ``"participant_id"``, ``"account_id"``, …).
    metric : {"bytes", "hours", "recordings"}, default "bytes"
        How to rank; bytes are shown in a binary unit (MiB, GiB, …).
    n : int, default 15
        How many groups to show.
    by : str, default "provider"
        Text column to colour (and split each bar) by: at most eight values and ``other``.

    Returns
    -------
    altair.Chart

    Examples
    --------
    >>> import recanalytics as ra
    >>> from recanalytics.charts import top_groups_chart
    >>> spec = top_groups_chart(ra.demo(size=200), metric="hours", n=5).to_dict()
    >>> len(spec["data"]["values"]) <= 5
    True
    """
    if not isinstance(metric, str) or metric not in _GROUP_METRICS:
        raise ConfigError("metric", "one of " + ", ".join(_GROUP_METRICS), metric)
    if not isinstance(group, str):
        raise ConfigError("group", "a column name such as 'group_id'", group)
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= 200:
        raise ConfigError("n", "an integer from 1 to 200", n)
    columns = ["duration", "size_bytes"] + (["group_name"] if group == "group_id" else [])
    lazy = lazy_frame(df, columns, by=group, by_parameter="group")
    check_grouping(lazy, by)
    # A blank name (a Zoom session with an empty topic) is no name: its bar had no label.
    given = pl.col("group_name").cast(pl.String)
    named_as = pl.when(given.str.strip_chars() != "").then(given)
    name = pl.coalesce(named_as, group) if group == "group_id" else pl.col(group)
    sums = (
        pl.len().alias("recordings"),
        _known_sum(duration_hours().sum(), "duration").alias("hours"),
        # Null past Int64, never wrapped: 2 * 1.5 * 2**62 bytes summed to a negative total, and
        # the largest group fell out of the chart with no word.
        _known_sum(int64_sum(pl.col("size_bytes")), "size_bytes").alias("bytes"),
    )
    named = (
        lazy.filter(pl.col(group).is_not_null())
        # Named before as_label: by="group_name" would otherwise label a nameless group unknown.
        .with_columns(name.cast(pl.String).alias("_label"))
        .with_columns(as_label(group))
    )
    # Ranked by a size or duration: the recordings without one are left out, and said.
    measured = {"bytes": "size_bytes", "hours": "duration"}.get(metric)
    unknown = None if measured is None else missing_note(named, measured)
    if measured is not None:
        named = named.filter(pl.col(measured).is_not_null())
    # Ranked by the group's own total, whatever it is coloured by.
    every_total = (
        named.group_by(group)
        .agg(pl.col("_label").first().alias("label"), *sums, pl.col("size_bytes").count())
        .collect()
    )
    # Sizes known, yet no total: it passes Int64. Ranked by it, the group is left out and
    # named, never drawn at a wrong size (ranked otherwise, its size reads n/a).
    beyond = every_total.filter(pl.col("bytes").is_null() & (pl.col("size_bytes") > 0))
    too_large = None
    if metric == "bytes" and beyond.height:
        too_large = f"{listed(beyond['label'].to_list())}: size too large to total, not drawn"
    totals = every_total.filter(pl.col(metric) > 0).sort([metric, group], descending=[True, False])
    heading = {"bytes": "size", "hours": "hours", "recordings": "recordings"}[metric]
    if totals.height == 0:
        return empty_chart(f"Top {_plural(group)} by {heading}", unknown, too_large)
    ranked = totals.head(n).with_row_index("_rank")
    shown = named.filter(pl.col(group).is_in(ranked[group].implode()))
    other = None
    if by != group:
        # Each bar is split by the colour column: its eight largest values among the bars shown
        # keep their own colour, the rest are one "other" segment.
        measure = {
            "bytes": pl.col("size_bytes").cast(pl.Float64).sum(),
            "hours": duration_hours().sum(),
        }
        shown, other = fold_groups(shown, by, measure.get(metric, pl.len()))
    parts = (
        shown.group_by(*dict.fromkeys([group, by]))  # group="provider", by="provider": one key
        .agg(*sums)
        .filter(pl.col(metric) > 0)
        .collect()
        .join(ranked.select("_rank", group, "label"), on=group)
        .sort("_rank", metric, descending=[False, True])
    )
    unit, factor = size_unit(ranked["bytes"].max())  # type: ignore[arg-type]
    labels = ranked.select(
        group,
        pl.col("label").alias("name"),
        # A 34-character room SID as an axis label crowds the chart out: the label keeps its
        # head and tail (the tooltip has the whole id).
        pl.when(pl.col("label").str.len_chars() > _LABEL_CHARS)
        .then(
            pl.concat_str(
                pl.col("label").str.head(_LABEL_CHARS - 6),
                pl.lit("…"),
                pl.col("label").str.tail(5),
            )
        )
        .otherwise(pl.col("label"))
        .alias("label"),
    ).with_columns(
        # Two groups may share a label (a name, a shortened id): keep each bar distinct.
        pl.when(pl.col("label").is_duplicated())
        .then(pl.format("{} ({})", pl.col("label"), pl.col(group).str.tail(8)))
        .otherwise(pl.col("label"))
        .alias("label"),
    )
    frame = (
        parts.drop("label")
        .join(labels, on=group, maintain_order="left")
        .with_columns((pl.col("bytes") / factor).alias("size"))
        .drop("bytes", "_rank")
    )
    rest = totals.height - ranked.height
    note = None
    if rest:
        # Float sums: the groups' byte totals each fit Int64, but their sum may not.
        shown_total = float(ranked[metric].cast(pl.Float64).sum())
        share = 1 - shown_total / float(totals[metric].cast(pl.Float64).sum())
        others = counted(rest, _plural(group).removesuffix("s"), _plural(group))
        hold = "holds" if rest == 1 else "hold"
        note = f"the other {others} {hold} {share_text(share)} of the {heading}"
    # Up to three decimals, trailing zeros dropped: ",.1f" read ticks 0.05 apart as "0.1, 0.1".
    field, x_title, fmt = {
        "bytes": ("size", unit, ",.3~f"),
        "hours": ("hours", "hours", ",.3~f"),
        "recordings": ("recordings", "recordings", ",d"),
    }[metric]
    domain = ordered_domain(by, frame[by].to_list(), other)
    selection = legend_selection(by)
    order = labels["label"].to_list()
    result: alt.Chart = (
        alt.Chart(
            data(frame),
            title=title(f"Top {len(order)} {_plural(group)} by {heading}", note),
        )
        .transform_calculate(
            hours_text=shown_text("hours", 1), size_text=shown_text("size", 3, trim=True)
        )
        .mark_bar()
        .encode(
            y=alt.Y("label:N", sort=order, title=None, axis=alt.Axis(labelLimit=220)),
            x=alt.X(
                f"{field}:Q",
                stack="zero",
                title=x_title,
                # Whole recordings: ticks 0.2 apart read "0, 0, 0, 1, 1" under ",d".
                axis=alt.Axis(
                    format=fmt, tickMinStep=1 if metric == "recordings" else alt.Undefined
                ),
            ),
            color=color(by, domain, other=other),
            opacity=highlight(selection),
            tooltip=[
                *_group_tooltips(group),
                alt.Tooltip(f"{by}:N"),
                alt.Tooltip("recordings:Q", format=",d"),
                alt.Tooltip("hours_text:N", title="hours"),
                alt.Tooltip("size_text:N", title=unit),
            ],
        )
        .properties(width=WIDTH - 100, height=max(60, 20 * len(order)))
    )
    return noted(with_selections(result, selection), unknown, too_large)


def _group_tooltips(group: str) -> list[alt.Tooltip]:
    """A group's name and whole id: the name titled ``name`` (it read ``group id``, over the
    id titled ``id``); a group other than ``group_id`` has no name but its value."""
    whole = alt.Tooltip(f"{group}:N", title=group.replace("_", " "))
    return [alt.Tooltip("name:N", title="name"), whole] if group == "group_id" else [whole]


def _known_sum(total: pl.Expr, column: str) -> pl.Expr:
    """``total`` (a sum), or null where no ``column`` of the group is known (Plivo sends no
    size): a total of nothing known is unknown, not 0."""
    return pl.when(pl.col(column).count() > 0).then(total)


def _plural(group: str) -> str:
    return "groups" if group == "group_id" else group.removesuffix("_id").replace("_", " ") + "s"
