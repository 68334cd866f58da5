"""``report()``: one self-contained HTML file with the summary table and every chart.

The page inlines Vega, Vega-Lite and Vega-Embed (from vl-convert's bundle), so it opens with no
internet connection: no ``<script src>``, no stylesheet or font from elsewhere.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping
from pathlib import Path

import polars as pl

from recanalytics import clock, validate
from recanalytics.charts import (
    codec_mix_chart,
    duration_boxplot,
    duration_histogram,
    overview_chart,
    size_duration_chart,
    status_chart,
    top_groups_chart,
)
from recanalytics.charts._base import ChartLike, Frame, lazy_frame
from recanalytics.charts.export import embed_script, html_page
from recanalytics.helpers._common import counted, values_checked
from recanalytics.helpers.cost import StorageRate
from recanalytics.helpers.durations import duration_human
from recanalytics.helpers.shown import readable
from recanalytics.helpers.summary import known_counts, noted, provider_table
from recanalytics.schema import SCHEMA
from recanalytics.store import private_write

__all__ = ["report", "report_charts", "report_html", "summary_table"]

summary_table = provider_table
"""The report's summary table (the CLI prints it too): see :func:`~recanalytics.helpers.summary.provider_table`."""


def _formatter(decimals: int) -> Callable[[float], str]:
    return lambda value: readable(value, decimals)


def _cell_text(table: pl.DataFrame) -> pl.DataFrame:
    """The summary as reading text: thousands separators, human durations, n/a for unknown."""
    exprs: list[pl.Expr] = []
    for name, dtype in table.schema.items():
        column = pl.col(name)
        if dtype == pl.Duration:
            text = duration_human(name)
        elif dtype.is_integer():
            text = column.map_elements(lambda v: f"{v:,}", return_dtype=pl.String)
        elif dtype.is_float():
            decimals = 2 if name.startswith(("size", "held", "USD", "reported")) else 1
            number = column.map_elements(_formatter(decimals), return_dtype=pl.String)
            # A NaN or infinite amount (a provider's unreadable cost) is no number: not "nan".
            text = (
                pl.when(column.is_finite() | column.is_null()).then(number).otherwise(pl.lit("n/a"))
            )
        else:
            text = column.cast(pl.String)
        # Unknown is not 0: a provider that sends no size (or no duration) reads n/a, and so
        # does a reported cost with a unit but no total (several currencies, or kinds, are
        # not summed).
        missing: pl.Expr = pl.lit(
            "n/a" if name.startswith(("size", "held", "USD", "hours")) else ""
        )
        if name == "reported cost" and "cost unit" in table.columns:
            missing = (
                pl.when(pl.col("cost unit").is_not_null()).then(pl.lit("n/a")).otherwise(missing)
            )
        exprs.append(text.fill_null(missing).alias(name))
    return table.select(exprs)


def _cell_html(text: str, under: str | None = None) -> str:
    """A cell, its notes (``(3 without size)``, the held size beside a listed one, the kind of
    a reported cost under its unit) each on a line of its own: the table stays narrow enough
    for a 900 px window."""
    value, paren, note = text.partition(" (")
    notes = [f"({note}"] if paren else []
    if under:
        notes.insert(0, under)
    return html.escape(value) + "".join(f"<span class=note>{html.escape(n)}</span>" for n in notes)


def _table_html(table: pl.DataFrame, counts: pl.DataFrame) -> str:
    text_columns = {"provider", "cost unit"}
    # The held size is said under the listed one where they differ, and a reported cost's kind
    # under its unit: one column each, not two.
    size = next(c for c in table.columns if c.startswith("size ("))
    held = next(c for c in table.columns if c.startswith("held ("))
    shown = [c for c in table.columns if c not in (held, "cost kind")]

    def under(row: dict[str, str], column: str) -> str | None:
        # Nothing to hold in a row without recordings (an empty frame's total read "n/a" over
        # "0.00 held").
        listed = str(row[size]).partition(" (")[0]
        if column == size and row[held] not in ("", "n/a", listed) and row["recordings"] != "0":
            return f"{row[held]} held"
        if column == "cost unit":
            return row.get("cost kind") or None
        return None

    head = "".join(
        f"<th{'' if c in text_columns else ' class=num'}>{html.escape(c)}</th>" for c in shown
    )
    rows = []
    # A total that leaves out recordings of unknown value says how many, as the explorer does.
    for row in noted(_cell_text(table), counts).iter_rows(named=True):
        css = " class='total'" if row["provider"] == "total" else ""
        cells = "".join(
            f"<td{'' if c in text_columns else ' class=num'}>"
            f"{_cell_html(str(row[c]), under(row, c))}</td>"
            for c in shown
        )
        rows.append(f"<tr{css}>{cells}</tr>")
    # The wrapper scrolls sideways on a narrow window instead of pushing the page wider.
    return (
        "<div class='table-scroll'><table class='summary'><thead><tr>"
        + head
        + "</tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table></div>"
    )


def report_charts(
    df: Frame,
    *,
    every: str | None = None,
    rates: Mapping[str, float | StorageRate] | None = None,
) -> dict[str, ChartLike]:
    """Every chart the report shows, by section title, in page order.

    Examples
    --------
    >>> import recanalytics as ra
    >>> from recanalytics.report import report_charts
    >>> list(report_charts(ra.demo(size=200)))[0]
    'Over time'
    """
    return {
        "Over time": overview_chart(df, every=every, rates=rates),
        "Containers over time": codec_mix_chart(df, column="container", every=every),
        "Durations": duration_histogram(df),
        "Durations by kind": duration_boxplot(df, by="kind"),
        "Statuses": status_chart(df),
        "Size against duration": size_duration_chart(df),
        "Largest groups by size": top_groups_chart(df, metric="bytes"),
        "Largest groups by hours": top_groups_chart(df, metric="hours"),
    }


def report_html(
    df: Frame,
    *,
    title: str = "Recordings report",
    every: str | None = None,
    rates: Mapping[str, float | StorageRate] | None = None,
) -> str:
    """The report as one HTML document (summary table and charts, every script inlined).

    Parameters
    ----------
    df : polars.DataFrame or polars.LazyFrame
        A unified frame.
    title : str, default "Recordings report"
    every : str, optional
        Period length of the time charts; chosen from the time span by default.
    rates : mapping, optional
        Storage-rate overrides for the summary's cost estimate.

    Examples
    --------
    >>> import recanalytics as ra
    >>> page = ra.report_html(ra.demo(size=200))  # doctest: +SKIP
    >>> "<script src=" in page  # doctest: +SKIP
    False
    """
    validate.text(title, "title")  # a lone surrogate cannot be written as UTF-8
    lazy = lazy_frame(df, list(SCHEMA.names()))
    stats = lazy.select(
        pl.len().alias("rows"),
        pl.col("created_at").min().alias("first"),
        pl.col("created_at").max().alias("last"),
        pl.col("provider").cast(pl.String).unique().sort().str.join(", ").alias("providers"),
    ).collect()
    rows, first, last, providers = stats.row(0)
    span = (
        f"created {first:%Y-%m-%d} to {last:%Y-%m-%d} (UTC)"
        if first is not None and last is not None
        else "no creation times"
    )
    generated = clock.now().strftime("%Y-%m-%d %H:%M UTC")
    # Its odd values were said (and taken) once, above: the table and each chart need not count.
    with values_checked():
        table = _table_html(provider_table(lazy, rates=rates), known_counts(lazy))
        drawn = report_charts(lazy, every=every, rates=rates)
    parts: list[str] = [
        f"<h1>{html.escape(title)}</h1>",
        f"<p class='meta'>{counted(rows)} · {html.escape(providers or 'no provider')} · "
        f"{span} · generated {generated} by recanalytics</p>",
        "<h2>Summary</h2>",
        table,
        "<p class='meta'>Size is of every listed recording, deleted ones included; where "
        "some are deleted, the size still held is said under it (what the storage estimate "
        "prices). Storage cost is an estimate from default or given rates "
        "(ra.STORAGE_RATES); free allowances are not subtracted. Click a legend entry to focus "
        "on it; drag across the recordings bars to zoom the time charts; double-click to reset."
        "</p>",
    ]
    for i, (heading, chart) in enumerate(drawn.items()):
        element = f"chart-{i}"
        parts.append(f"<h2>{html.escape(heading)}</h2>")
        parts.append(f"<div id='{element}' class='chart'></div>")
        parts.append(embed_script(element, chart))
    return html_page(title, "\n".join(parts))


def report(
    df: Frame,
    path: str | Path = "recanalytics-report.html",
    *,
    title: str = "Recordings report",
    every: str | None = None,
    rates: Mapping[str, float | StorageRate] | None = None,
) -> Path:
    """Write one self-contained HTML report (summary table + all charts) that works offline.

    The Vega, Vega-Lite and Vega-Embed scripts are inlined from vl-convert's bundle (a core
    dependency), so the file opens with no internet connection and can be mailed
    or archived as is. Charts stay interactive: tooltips, legend focus, time brush.

    Parameters
    ----------
    df : polars.DataFrame or polars.LazyFrame
        A unified frame.
    path : str or pathlib.Path, default "recanalytics-report.html"
    title : str, default "Recordings report"
    every : str, optional
        Period length of the time charts; chosen from the time span by default.
    rates : mapping, optional
        Storage-rate overrides for the summary's cost estimate.

    Returns
    -------
    pathlib.Path
        The file written (absolute), user-only (``0600``), through a temporary file beside it;
        over a file the user may write in a folder that takes no new file (shared, read-only),
        in place, as no temporary file can be made there.

    Raises
    ------
    recanalytics.errors.StoreError
        The file could not be written (a full disk); one already there is left as it was.

    Examples
    --------
    >>> import recanalytics as ra
    >>> ra.report(ra.demo(size=200), "report.html")  # doctest: +SKIP
    PosixPath('/…/report.html')
    """
    target = validate.file_path(path, "path").resolve()
    validate.writable_file(target, "path")
    page = report_html(df, title=title, every=every, rates=rates)
    # All or nothing: a full disk left a truncated page where a whole one was. In place only
    # in a folder that takes no new file, where this call is the way to make the page again.
    private_write(target, lambda tmp: tmp.write_text(page, encoding="utf-8"), in_place=True)
    return target
