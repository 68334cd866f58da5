"""The explorer: ipywidgets filter controls linked to a summary line, chart tabs and a preview.

Wiring only. What the controls mean is one polars expression (:attr:`FilterPanel.expr`); the
numbers come from the helpers and the pictures from :mod:`recanalytics.charts`.

Speed on large frames: a change filters once (projected to the columns the charts need, with a
row index so the preview is a gather), then redraws only the visible tab; hidden tabs are marked
stale and redrawn when shown. Sliders are debounced (leading edge at once, the last value of a
drag after ``debounce`` seconds).
"""

from __future__ import annotations

import contextlib
import functools
import html
import importlib.util
import math
import re
import sys
import threading
import time as clock
import traceback
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Final, Literal, ParamSpec, TypeVar

import altair as alt
import ipywidgets as widgets
import polars as pl

from recanalytics import charts, validate
from recanalytics.charts._base import ChartLike, choose_every, vegalite_spec
from recanalytics.charts.export import EMBED_OPTIONS
from recanalytics.errors import ConfigError, RecanalyticsError
from recanalytics.helpers._common import conform_dtypes, conform_values, counted
from recanalytics.helpers.cost import monthly_storage_cost, storage_rates
from recanalytics.helpers.durations import billed_minutes, duration_hours, duration_human
from recanalytics.helpers.shown import known_total, readable
from recanalytics.helpers.sizes import is_deleted, size_human
from recanalytics.progress import in_notebook
from recanalytics.schema import SCHEMA
from recanalytics.spreadsheet import write_spreadsheet_csv
from recanalytics.store import private_write
from recanalytics.windows import parse_when

__all__ = ["ChartView", "Explorer", "FilterPanel", "explore"]

P = ParamSpec("P")
R = TypeVar("R")

Renderer = Literal["auto", "jupyter", "svg"]
Loader = Callable[..., pl.DataFrame]

CATEGORIES: Final = ("provider", "kind", "status", "media_type", "codec", "container")
SEARCH_COLUMNS: Final = ("group_id", "group_name", "track_name")
UNKNOWN: Final = "unknown"
MIB: Final = 2**20
SIZE_STEP: Final = 0.05
"""Size slider step in log10(bytes): about 12 % per step."""
RANGES: Final = {
    "date": ("created_at", "a creation time"),
    "duration": ("duration", "a duration"),
    "size": ("size_bytes", "a size"),
}
"""Range → (the column it filters, what a recording without a value lacks). Each has an
"include N without …" box: a recording of unknown value is neither before nor after, below nor
above a range, so only that box takes it out."""
SLIDERS: Final = ("duration", "size")
"""The ranges set with a slider; the date range is set with two pickers (``since``,
``until``)."""

# What the summary and every chart tab read; the filter projects to these once per change.
_CHART_COLUMNS: Final = (
    "provider",
    "kind",
    "status",
    "media_type",
    "codec",
    "container",
    "created_at",
    "deleted_at",
    "duration",
    "size_bytes",
    "cost",
    "cost_unit",
    "group_id",
    "group_name",
)

ChartMaker = Callable[[pl.DataFrame, str], ChartLike]

TAB_STYLE: Final = (
    "<style>.recanalytics-explorer .jupyter-widgets.recanalytics-tabs > .lm-TabBar .lm-TabBar-tab,"
    ".recanalytics-explorer .jupyter-widgets.recanalytics-tabs > .p-TabBar .p-TabBar-tab"
    "{flex: 0 0 auto; min-width: max-content;}"
    ".recanalytics-explorer .recanalytics-preview,"
    ".recanalytics-explorer .recanalytics-preview .widget-html-content"
    "{min-width: 0; max-width: 100%; width: 100%; display: block;}</style>"
)
"""Tabs as wide as their titles: ipywidgets gives every tab 144 px, which cut "Size × duration"
to "Size × duratior". One class more than ipywidgets' own rule, so it wins wherever it loads.
The preview's HTML boxes may shrink below the table's width (a flex item would not), so the
table scrolls in its own box rather than widening the explorer."""

JUPYTER_EMBED_OPTIONS: Final[dict[str, Any]] = {**EMBED_OPTIONS, "renderer": "canvas"}
"""Vega-Embed options of the explorer's ``JupyterChart``: the static charts' export-only menu,
drawn on a canvas. Every JupyterChart loads its own Vega, which numbers SVG clip paths from
``clip1``: with several on a page a mark clipped by id took another chart's clip box (the
bitrate guides ran over the title and below the axis). A canvas clips without ids."""

TABS: Final[dict[str, ChartMaker]] = {
    "Volume": lambda df, every: charts.volume_chart(df, every=every),
    "Storage": lambda df, every: charts.storage_chart(df, every=every),
    "Durations": lambda df, every: charts.duration_histogram(df),
    "By kind": lambda df, every: charts.duration_boxplot(df, by="kind"),
    "Codecs": lambda df, every: charts.codec_mix_chart(df, every=every),
    "Status": lambda df, every: charts.status_chart(df),
    "Size × duration": lambda df, every: charts.size_duration_chart(df),
    "Top groups": lambda df, every: charts.top_groups_chart(df, metric="bytes", n=15),
    "Cost": lambda df, every: charts.cost_chart(df, every=every),
}
"""Chart tabs of the explorer: title → ``(filtered frame, period) -> chart``."""


class ErrorBox:
    """Shows the last exception of a callback inside the widget instead of losing it."""

    def __init__(self) -> None:
        self.widget = widgets.HTML(value="", layout=widgets.Layout(display="none"))
        self.last: BaseException | None = None

    def clear(self) -> None:
        self.last = None
        self.widget.value = ""
        self.widget.layout.display = "none"

    def show(self, exc: BaseException) -> None:
        self.last = exc
        detail = html.escape("".join(traceback.format_exception(exc)[-3:]))
        self.widget.value = (
            "<div style='border:1px solid #d55e00;background:#fff3ee;padding:6px;"
            "font-size:12px'><b>recanalytics explorer error:</b> "
            f"{html.escape(type(exc).__name__)}: {html.escape(str(exc))}"
            f"<details><summary>traceback</summary><pre>{detail}</pre></details></div>"
        )
        self.widget.layout.display = ""

    def guard(self, func: Callable[P, R]) -> Callable[P, R | None]:
        """Wrap a callback: an exception is shown in the box (and kept), never swallowed silently."""

        @functools.wraps(func)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R | None:
            try:
                return func(*args, **kwargs)
            except Exception as exc:
                self.show(exc)
                return None

        return wrapper


class ChartView:
    """One chart surface that updates in place.

    ``renderer="jupyter"`` uses altair's ``JupyterChart`` (needs ``anywidget``; the Vega
    scripts come from vl-convert, offline; drawn on a canvas with the export-only menu of
    :data:`JUPYTER_EMBED_OPTIONS`) and swaps the chart on the same widget, so there is
    no flicker and no stacked output; a chart with other parameters (the note of an empty
    selection has none) gets a new widget, as a ``JupyterChart`` listens to the parameters of
    the chart it was made with. ``"svg"`` renders through vl-convert into an HTML widget
    (static, works in any front end). ``"auto"`` picks ``"jupyter"`` when anywidget is
    installed.

    Examples
    --------
    >>> import recanalytics as ra
    >>> from recanalytics.charts import status_chart
    >>> from recanalytics.widgets import ChartView
    >>> view = ChartView(renderer="svg")
    >>> view.show(status_chart(ra.demo(size=200)))
    >>> view.spec["mark"]["type"]
    'bar'
    """

    def __init__(self, *, renderer: Renderer = "auto") -> None:
        self.renderer: Literal["jupyter", "svg"] = resolve_renderer(renderer)
        self.widget = widgets.Box(layout=widgets.Layout(min_height="80px"))
        self.chart: ChartLike | None = None
        self.spec: dict[str, Any] | None = None
        self._jupyter: Any = None
        self._params: frozenset[str] = frozenset()
        self._html: widgets.HTML | None = None
        self._closed = False

    def show(self, chart: ChartLike) -> None:
        """Draw ``chart`` on this surface, replacing what was there."""
        if self._closed:
            raise RecanalyticsError("this chart view is closed: make a new one")
        self.chart = chart
        if self.renderer == "jupyter":
            self.spec = vegalite_spec(chart, validate=False)
            params = param_names(self.spec)
            if self._jupyter is None or params != self._params:
                # The front end listens to the signals of the parameters the widget was made
                # with: a spec without them logged "Unrecognized signal name" on every swap.
                old, self._jupyter, self._params = self._jupyter, _jupyter_chart(chart), params
                self.widget.children = (self._jupyter,)
                if old is not None:
                    old.close()
            else:
                # The spec is what the front end draws. Assigning `.chart` would serialise the
                # chart again with full schema validation (tens of ms on every filter change).
                self._jupyter.spec = self.spec
        else:
            self.spec = vegalite_spec(chart, validate=False)
            if self._html is None:
                self._html = widgets.HTML()
                self.widget.children = (self._html,)
            self._html.value = charts.chart_to_svg(self.spec)

    def close(self) -> None:
        """Close the surface and the chart widget in it, and let go of the chart (and its data)."""
        self._closed = True
        _close_widgets(self.widget)
        self._jupyter = self._html = None
        self.chart = self.spec = None


def _close_widgets(widget: widgets.Widget, *, itself: bool = True) -> None:
    """Close ``widget`` and every widget it holds (children, layout, style...), removing their
    observers.

    ipywidgets keeps every open widget in its registry for the kernel's lifetime, and closing a
    box closes neither its children nor their layouts: a dropped explorer stayed there whole,
    134 widgets with every frame their callbacks reach. ``itself=False`` leaves ``widget``
    (and its observers) for its own ``close``.
    """
    held: list[widgets.Widget] = []
    seen = {id(widget)}
    todo = [widget]
    while todo:
        current = todo.pop()
        held.append(current)
        for name in current.keys:
            value = getattr(current, name, None)
            for part in value if isinstance(value, list | tuple) else (value,):
                if isinstance(part, widgets.Widget) and id(part) not in seen:
                    seen.add(id(part))
                    todo.append(part)
    for current in held:
        if current is widget and not itself:
            continue
        current.unobserve_all()
        current.close()


_MADE_IN: dict[str, tuple[str, weakref.WeakSet[Any]]] = {}
"""Notebook cell id → (the request id of its last run, the explorers and panels that run made)."""


def _running_cell() -> tuple[str, str] | None:
    """The id of the notebook cell running now and the id of this run of it; None outside a
    kernel, or when the front end did not say which cell runs (JupyterLab and Notebook 7 do)."""
    if not in_notebook():
        return None
    kernel = sys.modules["IPython"].get_ipython().kernel
    get_parent = getattr(kernel, "get_parent", None)  # ipykernel 6 and later
    try:
        request = get_parent() if callable(get_parent) else None
    except Exception:  # bookkeeping must never stop an explorer: any kernel's own failure
        return None
    if not isinstance(request, Mapping):
        return None
    cell = (request.get("metadata") or {}).get("cellId")
    run = (request.get("header") or {}).get("msg_id")
    return (cell, run) if isinstance(cell, str) and isinstance(run, str) else None


def _this_run() -> weakref.WeakSet[Any] | None:
    """Close what earlier runs of the running cell made; return the set of what this run makes
    (to add to once made), or None outside a notebook cell.

    Running a cell again replaces its output, so the explorer its last run made is on screen
    nowhere, yet ipywidgets kept it (and its frames) open for good: re-running
    ``ex = ra.explore(df)`` ten times held ten explorers. What this run makes stays open.
    """
    running = _running_cell()
    if running is None:
        return None
    cell, run = running
    last_run, made = _MADE_IN.get(cell, ("", weakref.WeakSet()))
    if last_run != run:
        for earlier in list(made):
            earlier.close()
        made = weakref.WeakSet()
        _MADE_IN[cell] = (run, made)
    return made


def _jupyter_chart(chart: ChartLike) -> Any:
    # Made under altair's default data transformer when the user enabled "vegafusion" (their
    # setting is back once it is made): a JupyterChart made under VegaFusion draws nothing until
    # the browser sends its time zone, then the Vega that VegaFusion compiled, which the
    # Vega-Lite specs ChartView swaps in do not match. Our charts' rows are aggregated and
    # inline already: VegaFusion has nothing to do for them.
    vegafusion = alt.data_transformers.active == "vegafusion"
    with alt.data_transformers.enable("default") if vegafusion else contextlib.nullcontext():
        return alt.JupyterChart(chart, embed_options=dict(JUPYTER_EMBED_OPTIONS))


def param_names(spec: Mapping[str, Any]) -> frozenset[str]:
    """The names of a chart spec's top-level parameters (selections and variables), which a
    ``JupyterChart`` watches."""
    return frozenset(str(p["name"]) for p in spec.get("params", ()) if "name" in p)


@functools.cache
def _anywidget_available() -> bool:
    if importlib.util.find_spec("anywidget") is None:
        return False
    # Vega from vl-convert's bundle rather than a CDN, so charts draw with no internet. Without
    # vl-convert, JupyterChart falls back to its CDN imports.
    with contextlib.suppress(ImportError):
        alt.JupyterChart.enable_offline()
    return True


def resolve_renderer(renderer: Renderer) -> Literal["jupyter", "svg"]:
    """``"auto"`` → ``"jupyter"`` with anywidget installed, else ``"svg"``; validate others."""
    if renderer == "auto":
        return "jupyter" if _anywidget_available() else "svg"
    if renderer == "jupyter":
        if not _anywidget_available():
            raise ImportError(
                "renderer='jupyter' needs anywidget (altair's JupyterChart): pip install anywidget"
            )
        return "jupyter"
    if renderer == "svg":
        return "svg"
    raise ConfigError("renderer", '"auto", "jupyter" or "svg"', renderer)


FILTER_BOUNDS: Final = (
    datetime(1, 1, 1, tzinfo=UTC),
    datetime(9999, 12, 30, tzinfo=UTC),
)


def _as_datetime(
    day: str | date | datetime | None, *, end: bool = False, parameter: str = ""
) -> datetime | None:
    """A date picker's day as UTC midnight; ``end`` gives the next midnight (exclusive bound).

    A datetime (or ISO text with a time) is taken as the exact moment, naive meaning UTC.
    """
    if day is None:
        return None
    whole_day = (isinstance(day, date) and not isinstance(day, datetime)) or (
        isinstance(day, str) and not any(sep in day.strip() for sep in ("T", " "))
    )
    # The loaders' parser and forms, over the whole calendar: rows in memory may be dated
    # before 1970 (the loaders' range), and a day's end must stay inside datetime's.
    moment = parse_when(day, parameter or ("until" if end else "since"), bounds=FILTER_BOUNDS)
    if moment is None:  # pragma: no cover - day is not None here
        return None
    return moment + timedelta(days=1) if end and whole_day else moment


class FilterPanel:
    """Filter controls over a unified frame, exposing the selection as a polars expression.

    Multi-selects (with counts) for provider, kind, status, media type, codec and container
    (nothing selected means all), a date range on ``created_at`` (both days inclusive, UTC),
    duration (minutes) and size ranges (each with an "include N without …" box: recordings of
    unknown creation time, duration or size stay in unless it is unticked), and a
    case-insensitive text search over group and track names. Setting any control's ``.value`` from Python updates :attr:`expr`,
    :attr:`filtered` and every listener.

    Parameters
    ----------
    df : polars.DataFrame or polars.LazyFrame
        A unified frame (a LazyFrame is collected once).
    debounce : float, default 0.15
        Seconds to wait for the last value while a slider is dragged; 0 applies every value.

    Examples
    --------
    >>> import recanalytics as ra
    >>> from recanalytics.widgets import FilterPanel
    >>> panel = FilterPanel(ra.demo(size=200))
    >>> panel.controls["provider"].value = ("twilio",)
    >>> set(panel.filtered["provider"].cast(str)) == {"twilio"}
    True
    >>> ad_hoc = ra.demo(size=200).filter(panel.expr)   # reuse the selection anywhere
    >>> panel.close()   # its widgets and data let go (also: ``with FilterPanel(df) as panel:``)
    """

    def __init__(self, df: pl.DataFrame | pl.LazyFrame, *, debounce: float = 0.15) -> None:
        self.debounce = validate.number(debounce, "debounce", inclusive=True, form="seconds >= 0")
        made_here = _this_run()
        self._closed = False
        self._source: pl.DataFrame | None = None
        self._listeners: list[Callable[[FilterPanel], None]] = []
        self._holding = 0
        self._pending = False
        self._timer: threading.Timer | None = None
        self._last_slider = 0.0
        self._lock = threading.RLock()
        self._cache: tuple[str, pl.DataFrame] | None = None
        self.controls: dict[str, widgets.ValueWidget] = {}
        self._build_controls()
        self.widget = self._layout()
        try:
            self.set_source(df)
        except BaseException:
            # A refused frame left its ~50 widgets open in ipywidgets' registry for good.
            self.close()
            raise
        if made_here is not None:
            made_here.add(self)

    # --- lifecycle ----------------------------------------------------------------------

    def close(self) -> None:
        """Close every control, stop a pending slider update and let go of the data.

        ipywidgets keeps an open widget for the kernel's lifetime, whether or not anything
        refers to it: close a panel you no longer show. A closed panel cannot be used again.
        """
        with self._lock:
            if self._closed:
                return
            self._closed = True
            timer, self._timer = self._timer, None
        if timer is not None:
            timer.cancel()
        self._listeners.clear()
        self.reset_button.on_click(self._reset_clicked, remove=True)
        _close_widgets(self.widget)
        for control in self.controls.values():  # also one the layout would not place
            _close_widgets(control)
        self._source = self._cache = None

    def __enter__(self) -> FilterPanel:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- source -------------------------------------------------------------------------

    @property
    def source(self) -> pl.DataFrame:
        """The frame the controls filter (conformed to the unified schema)."""
        if self._source is None:
            raise RecanalyticsError("this filter panel is closed: make a new one")
        return self._source

    def set_source(self, df: pl.DataFrame | pl.LazyFrame) -> None:
        """Replace the data (e.g. after a reload); option lists, counts and ranges follow.

        Selected options that still exist stay selected; the duration and size ranges are
        reset to span all of the new data (a slider's top end never comes down; the size
        slider's low end follows the smallest size).
        """
        if self._closed:
            raise RecanalyticsError("this filter panel is closed: make a new one")
        frame = df.collect() if isinstance(df, pl.LazyFrame) else df
        if not isinstance(frame, pl.DataFrame):
            raise ConfigError("df", "a polars DataFrame or LazyFrame", type(df).__name__)
        missing = [c for c in SCHEMA.names() if c not in frame.columns]
        if missing:
            raise ConfigError(
                "df",
                f"a unified frame (missing {', '.join(missing)})",
                hint="pass a frame returned by the loaders or ra.demo()",
            )
        frame = conform_values(conform_dtypes(frame.lazy()), SCHEMA.names(), now=True).collect()
        self._source = frame
        self._cache = None
        with self.hold():
            self._fill_options()
            self._fill_ranges()
            self._changed()

    def _fill_options(self) -> None:
        for column in CATEGORIES:
            counts = (
                self.source.select(pl.col(column).cast(pl.String))
                .to_series()
                .value_counts(sort=True)
            )
            options = category_options(counts.iter_rows())
            select = self.controls[column]
            keep = tuple(v for v in select.value if v in {o[1] for o in options})
            select.options = options
            select.value = keep

    def _fill_ranges(self) -> None:
        stats = self.source.select(
            # In minutes by polars: a duration past Python's timedelta (10**17 ms) cannot be
            # taken out as one.
            (pl.col("duration").max().dt.total_milliseconds() / 60_000).alias("minutes"),
            pl.col("size_bytes").max().alias("size"),
            pl.col("created_at").min().alias("first"),
            pl.col("created_at").max().alias("last"),
        ).row(0, named=True)
        longest = max(stats["minutes"] or 0.0, 0.0)
        minutes = self.controls["duration"]
        top = max(1.0, float(int(longest) + 1))
        minutes.max = max(top, minutes.max)
        minutes.value = (0.0, minutes.max)
        size = self.controls["size"]
        smallest = self.source.select(pl.col("size_bytes").filter(pl.col("size_bytes") > 0).min())
        low = smallest.item() or 1
        top = math.ceil(math.log10(max(stats["size"] or 1, 10)) / SIZE_STEP) * SIZE_STEP
        size.max = max(round(top, 2), size.max)
        size.min = min(round(math.floor(math.log10(low)), 2), size.max - SIZE_STEP)
        size.value = (size.min, size.max)
        self._show_size()
        self._fill_unknown()
        self.data_first: datetime | None = stats["first"]
        self.data_last: datetime | None = stats["last"]

    def _fill_unknown(self) -> None:
        """Count each range's recordings of unknown value for its checkbox, and put a slider
        with no known value out of use, saying so: it read "1 B – 10 B" or "0.0 – 1.0"."""
        counts = self.source.select(
            *(pl.col(c).is_null().sum().alias(n) for n, (c, _) in RANGES.items()), pl.len()
        ).row(0, named=True)
        for name, (_, what) in RANGES.items():
            unknown, box = counts[name], self.controls[f"{name}_unknown"]
            none_known = unknown == counts["len"]
            box.description = f"include {unknown:,} without {what}"
            if none_known or not unknown:
                # Nothing to choose: no unknown to leave out, or nothing but unknowns.
                box.value = True
            box.layout.display = "none" if none_known or not unknown else ""
            if name not in SLIDERS:
                # The date pickers stay in use: they also choose the range "Reload range"
                # loads, which an empty or undated frame needs most.
                continue
            note = self.notes[name]
            self.controls[name].disabled = none_known
            self.controls[name].layout.display = "none" if none_known else ""
            if name == "size":
                self.size_readout.layout.display = "none" if none_known else ""
            label = "minutes" if name == "duration" else "size"
            note.value = f"{label}: no recording here has {what}" if none_known else ""
            note.layout.display = "" if none_known else "none"

    # --- controls -----------------------------------------------------------------------

    def _build_controls(self) -> None:
        for column in CATEGORIES:
            self.controls[column] = widgets.SelectMultiple(
                options=[],
                rows=5,
                description=column.replace("_", " "),
                layout=widgets.Layout(width="250px"),
                # Wide enough for "media type" and "container" on one line.
                style={"description_width": "82px"},
            )
        self.controls["since"] = widgets.DatePicker(description="from", tooltip="first day, UTC")
        self.controls["until"] = widgets.DatePicker(description="to", tooltip="last day, UTC")
        self.controls["duration"] = widgets.FloatRangeSlider(
            value=(0.0, 1.0),
            min=0.0,
            max=1.0,
            step=0.5,
            description="minutes",
            readout_format=".1f",
            continuous_update=True,
            layout=widgets.Layout(width="440px"),
            style={"description_width": "60px"},
        )
        # Sizes span bytes to gigabytes: the slider moves over log10(bytes), so small sizes can
        # be picked as easily as large ones; its readout is the range in KiB/MiB/GiB beside it.
        self.controls["size"] = widgets.FloatRangeSlider(
            value=(0.0, 1.0),
            min=0.0,
            max=1.0,
            step=SIZE_STEP,
            description="size",
            readout=False,
            continuous_update=True,
            layout=widgets.Layout(width="360px"),
            style={"description_width": "60px"},
        )
        self.size_readout = widgets.Label(layout=widgets.Layout(width="150px"))
        self.controls["size"].observe(lambda _: self._show_size(), names="value")
        # Recordings of unknown duration or size (Plivo and SignalWire state no size) are not
        # below or above any range: they stay in unless this is unticked, slider or not.
        self.notes: dict[str, widgets.Label] = {}
        for name in RANGES:
            self.controls[f"{name}_unknown"] = widgets.Checkbox(
                value=True, indent=False, layout=widgets.Layout(width="auto", margin="0 0 0 8px")
            )
        for name in SLIDERS:
            self.notes[name] = widgets.Label(layout=widgets.Layout(display="none"))
        self.controls["search"] = widgets.Text(
            description="search",
            placeholder="group or track name",
            continuous_update=False,
        )
        self.reset_button = widgets.Button(description="Reset filters", icon="undo")
        self.reset_button.on_click(self._reset_clicked)
        for name, control in self.controls.items():
            handler = self._on_slider if name in ("duration", "size") else self._on_control
            control.observe(handler, names="value")

    def _layout(self) -> widgets.VBox:
        selects = widgets.HBox(
            [self.controls[c] for c in CATEGORIES], layout=widgets.Layout(flex_flow="row wrap")
        )
        ranges = widgets.HBox(
            [
                widgets.VBox(
                    [self.controls["since"], self.controls["until"], self.controls["date_unknown"]]
                ),
                widgets.VBox(
                    [
                        widgets.HBox([self.controls["duration"], self.notes["duration"]]),
                        widgets.HBox(
                            [self.controls["size"], self.size_readout, self.notes["size"]]
                        ),
                        # Below the sliders, not beside them: the rows stay narrow enough for
                        # the search box and Reset to keep their place on the right.
                        widgets.HBox(
                            [self.controls["duration_unknown"], self.controls["size_unknown"]],
                            layout=widgets.Layout(margin="0 0 0 60px"),
                        ),
                    ],
                    # Room between the slider readouts and the search box and Reset button.
                    layout=widgets.Layout(margin="0 24px 0 12px"),
                ),
                widgets.VBox([self.controls["search"], self.reset_button]),
            ],
            layout=widgets.Layout(flex_flow="row wrap"),
        )
        return widgets.VBox([selects, ranges])

    def _reset_clicked(self, _button: widgets.Button) -> None:
        self.reset()

    def reset(self) -> None:
        """Clear every filter (one update, not one per control)."""
        with self.hold():
            for column in CATEGORIES:
                self.controls[column].value = ()
            self.controls["since"].value = None
            self.controls["until"].value = None
            for name in SLIDERS:
                slider = self.controls[name]
                slider.value = (slider.min, slider.max)
            for name in RANGES:
                self.controls[f"{name}_unknown"].value = True
            self.controls["search"].value = ""

    # --- change notification ------------------------------------------------------------

    def on_change(self, callback: Callable[[FilterPanel], None]) -> None:
        """Call ``callback(panel)`` after every (debounced) change of the selection."""
        self._listeners.append(callback)

    @contextlib.contextmanager
    def hold(self) -> Iterator[None]:
        """Batch several control changes into one update.

        Examples
        --------
        >>> with panel.hold():  # doctest: +SKIP
        ...     panel.controls["provider"].value = ("zoom",)
        ...     panel.controls["status"].value = ("failed",)
        """
        with self._lock:
            self._holding += 1
        try:
            yield
        finally:
            with self._lock:
                self._holding -= 1
                fire = self._holding == 0 and self._pending
            if fire:
                self._changed()

    def _on_control(self, _change: Mapping[str, Any]) -> None:
        self._changed()

    def _on_slider(self, _change: Mapping[str, Any]) -> None:
        # Leading edge at once, then at most one update per `debounce` seconds while dragging;
        # the last value of a drag always lands (trailing timer).
        import time as clock

        if self.debounce <= 0 or self._holding:
            self._changed()
            return
        now = clock.monotonic()
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            if now - self._last_slider >= self.debounce:
                self._last_slider = now
                run_now = True
            else:
                run_now = False
                self._timer = threading.Timer(self.debounce, self._trailing)
                self._timer.daemon = True
                self._timer.start()
        if run_now:
            self._changed()

    def _trailing(self) -> None:
        with self._lock:
            self._timer = None
            self._last_slider = clock.monotonic()
        self._changed()

    def flush(self) -> None:
        """Apply a pending (debounced) slider value now."""
        with self._lock:
            timer, self._timer = self._timer, None
        if timer is not None:
            timer.cancel()
            self._changed()

    def _changed(self) -> None:
        with self._lock:
            if self._closed:  # a slider's trailing update that started as the panel closed
                return
            if self._holding:
                self._pending = True
                return
            self._pending = False
            self._cache = None
        for listener in list(self._listeners):
            listener(self)

    # --- the selection ------------------------------------------------------------------

    @property
    def expr(self) -> pl.Expr:
        """The polars expression the controls stand for (``pl.lit(True)`` with no filter).

        It only uses unified columns, so it applies to any unified frame:
        ``other.filter(panel.expr)``, ``lazy.filter(panel.expr)``, ``pl.len().filter(...)``.
        """
        return self._expr()

    def left_out(self) -> dict[str, int]:
        """How many recordings of unknown creation time, duration or size the unticked
        "include … without" boxes leave out of the selection (the other filters applied), by
        range name (``"date"``, ``"duration"``, ``"size"``).

        Examples
        --------
        >>> import recanalytics as ra
        >>> from recanalytics.widgets import FilterPanel
        >>> panel = FilterPanel(ra.demo(size=200), debounce=0)
        >>> panel.controls["size_unknown"].value = False
        >>> panel.left_out()["size"] == ra.demo(size=200)["size_bytes"].null_count()
        True
        """
        counts = {}
        for name, (column, _) in RANGES.items():
            if self.controls[f"{name}_unknown"].value:
                continue
            kept = self._expr(keep_unknown=name) & pl.col(column).is_null()
            counts[name] = int(self.source.select(kept.sum()).item())
        return counts

    def _expr(self, keep_unknown: str | None = None) -> pl.Expr:
        parts: list[pl.Expr] = []
        for column in CATEGORIES:
            chosen = list(self.controls[column].value)
            if not chosen or len(chosen) == len(self.controls[column].options):
                continue
            values = [v for v in chosen if v is not None]
            test = pl.col(column).cast(pl.String).is_in(values)
            if None in chosen:  # the missing value's option
                test = test | pl.col(column).is_null()
            parts.append(test.fill_null(False))
        since = _as_datetime(self.controls["since"].value)
        until = _as_datetime(self.controls["until"].value, end=True)
        created = pl.col("created_at")
        dated = [] if since is None else [created >= since]
        dated += [] if until is None else [created < until]
        parts += self._unknown_kept("date", created, dated, keep_unknown=keep_unknown == "date")
        parts += self._range(
            "duration",
            pl.col("duration").dt.total_milliseconds() / 60_000,
            keep_unknown=keep_unknown == "duration",
        )
        # Bytes against 10**bound, not log10(bytes) against the bound: polars' log10 of 1,000
        # is 2.9999999999999996, which left files of exactly 1 kB, 1 MB, 1 GB out.
        parts += self._range(
            "size",
            pl.col("size_bytes").cast(pl.Float64),
            lambda v: 10.0**v,
            keep_unknown=keep_unknown == "size",
        )
        text = str(self.controls["search"].value).strip().lower()
        if text:
            parts.append(
                pl.any_horizontal(
                    pl.col(c).str.to_lowercase().str.contains(text, literal=True).fill_null(False)
                    for c in SEARCH_COLUMNS
                )
            )
        if not parts:
            return pl.lit(True)
        return pl.all_horizontal(parts).alias("selected")

    def _show_size(self) -> None:
        low, high = self.controls["size"].value
        self.size_readout.value = f"{human_bytes(10**low)} – {human_bytes(10**high)}"

    def _range(
        self,
        name: str,
        value: pl.Expr,
        scale: Callable[[float], float] = float,
        *,
        keep_unknown: bool = False,
    ) -> list[pl.Expr]:
        """``value`` within slider ``name``'s range, its ends mapped by ``scale``; a null
        ``value`` (unknown) is kept or left out by the range's "include … without" box alone.

        Touching an end used to drop every unknown: one step of the size slider took all
        Plivo and SignalWire recordings out of the selection without a word.
        """
        slider = self.controls[name]
        low, high = (scale(end) for end in slider.value)
        within = []
        # An untouched end is open: the slider's top is rounded.
        if slider.value[0] > slider.min:
            within.append(value >= low)
        if slider.value[1] < slider.max:
            within.append(value <= high)
        return self._unknown_kept(name, value, within, keep_unknown=keep_unknown)

    def _unknown_kept(
        self, name: str, value: pl.Expr, within: list[pl.Expr], *, keep_unknown: bool
    ) -> list[pl.Expr]:
        """Range ``name``'s conditions ``within``, a null ``value`` (unknown) kept or left out
        by the range's "include … without" box alone (``keep_unknown`` keeps it regardless)."""
        if keep_unknown or self.controls[f"{name}_unknown"].value:
            return [pl.all_horizontal(within) | value.is_null()] if within else []
        return [pl.all_horizontal(within).fill_null(False) if within else value.is_not_null()]

    @property
    def filtered(self) -> pl.DataFrame:
        """The rows the controls select, all columns (computed once per change)."""
        key = str(self.expr)
        with self._lock:
            if self._cache is not None and self._cache[0] == key:
                return self._cache[1]
        frame = self.source.filter(self.expr)
        with self._lock:
            self._cache = (key, frame)
        return frame

    def describe(self) -> str:
        """The active filters in words (for titles and file names).

        Examples
        --------
        >>> import recanalytics as ra
        >>> from recanalytics.widgets import FilterPanel
        >>> panel = FilterPanel(ra.demo(size=200), debounce=0)
        >>> panel.describe()
        'no filter'
        >>> panel.controls["duration"].value = (5.0, 30.0)
        >>> panel.describe()
        'minutes 5–30'
        """
        bits = []
        for column in CATEGORIES:
            select = self.controls[column]
            if select.value:
                # Said by the option's name, the label without its count: a missing value has
                # no text of its own ("unknown", or "unknown (no value)" beside a real one).
                names = {value: _COUNTED.sub("", label) for label, value in select.options}
                bits.append(f"{column} in {', '.join(names[v] for v in select.value)}")
        for name in ("since", "until"):
            if self.controls[name].value is not None:
                bits.append(f"{name} {self.controls[name].value}")
        # A slider filters when moved off its full extent (see _range), so it is said then.
        minutes = self.controls["duration"]
        if tuple(minutes.value) != (minutes.min, minutes.max):
            low, high = minutes.value
            bits.append(f"minutes {low:g}–{high:g}")
        size = self.controls["size"]
        if tuple(size.value) != (size.min, size.max):
            bits.append(f"size {self.size_readout.value}")
        for name, (_, what) in RANGES.items():
            if not self.controls[f"{name}_unknown"].value:
                bits.append(f"those without {what} left out")
        if self.controls["search"].value:
            bits.append(f"search '{self.controls['search'].value}'")
        return "; ".join(bits) or "no filter"


_COUNTED: Final = re.compile(r" \([\d,]+\)$")
"""The count an option's label ends with."""


def category_options(
    counts: Iterable[tuple[str | None, int]],
) -> list[tuple[str, str | None]]:
    """A multi-select's ``(label, value)`` options from ``(value, count)`` pairs.

    Each value is its own option, selecting exactly its rows, and every label is distinct and
    visible: a missing value (``None``) is listed as ``unknown``, or as ``unknown (no value)``
    beside a real ``"unknown"``; an empty or blank text is listed quoted (``''``).

    Examples
    --------
    >>> from recanalytics.widgets import category_options
    >>> category_options([("unknown", 1_200), (None, 2), ("", 3)])
    [('unknown (1,200)', 'unknown'), ('unknown (no value) (2)', None), ("'' (3)", '')]
    >>> category_options([(None, 2)])
    [('unknown (2)', None)]
    """
    pairs = list(counts)
    # Names, not labels, must differ: "unknown (3)" beside "unknown (1)" left it to the user
    # to guess which one was the missing value.
    taken = {value for value, _ in pairs if value is not None and value.strip()}
    options: list[tuple[str, str | None]] = []
    for value, count in pairs:
        name = value
        if value is None or not value.strip():
            name, clash = (UNKNOWN, " (no value)") if value is None else (repr(value), " (blank)")
            while name in taken:
                name += clash
            taken.add(name)
        options.append((f"{name} ({count:,})", value))
    return options


def summary_line(frame: pl.DataFrame, *, left_out: Mapping[str, int] | None = None) -> str:
    """Recordings, hours, size and estimated monthly storage cost of a frame, as one line.

    The cost is :func:`recanalytics.monthly_storage_cost` applied to per-provider totals of what
    is still held (bytes, billed minutes): the same number as summing it per recording, at a
    fraction of the time on a million rows. Hours and size are totals of what is known, the
    size in the unit that fits it (``2.50 MiB``, ``132.28 GiB``), of every listed recording;
    where deleted ones make the size still held differ, both are said (``4.76 GiB listed,
    4.29 GiB held``). Hours and money below 1 keep three significant figures (``0.0336 hours``,
    ``$0.0012/month``), never reading 0 when they are not. With no size known they read
    ``size n/a``, with some unknown ``(N without size)`` follows the total; recordings without
    a creation time, which no date range takes out, are said after the count (``(N without a
    creation time)``). The cost counts the
    held recordings it could price: ``(N held unpriced)`` follows it when some could not be
    (no size, or no duration for a per-minute rate), and it reads ``n/a`` when recordings are
    held and none could be priced (deleted ones cost 0 but do not make the rest known), as
    ``summarize``'s ``estimated_monthly_cost`` is null then.

    Parameters
    ----------
    frame : polars.DataFrame
        A unified frame (the selection).
    left_out : mapping, optional
        ``{"date": N, "duration": N, "size": N}``: recordings of unknown creation time,
        duration or size a filter left out of ``frame``, said after the count or total
        (``(N without size left out)``).

    Examples
    --------
    >>> import recanalytics as ra
    >>> from recanalytics.widgets import summary_line
    >>> summary_line(ra.empty_frame())
    '0 recordings · 0.0 hours · 0 B · est. storage $0.00/month'
    """
    held = ~is_deleted()  # what summarize holds, so the cost is its estimated_monthly_cost
    rates = storage_rates().select("provider", "basis")
    per = (
        frame.select(
            pl.col("provider").cast(pl.String),
            duration_hours().alias("hours"),
            pl.col("size_bytes").alias("bytes"),
            pl.when(held).then(pl.col("size_bytes")).alias("held_bytes"),
            pl.when(held).then(billed_minutes()).alias("held_minutes"),
            held.alias("held"),
        )
        .group_by("provider")
        .agg(
            pl.len().alias("count"),
            pl.col("hours", "held_minutes").sum(),
            # Int128: Int64 sums wrap around (a 2**63 - 1 "unknown" size read as -8 EiB).
            pl.col("bytes", "held_bytes").cast(pl.Int128).sum(),
            pl.col("held_bytes").count().alias("sized"),
            pl.col("held_minutes").count().alias("billed"),
            pl.col("held").sum().alias("held_count"),
            pl.col("bytes").count().alias("any_sized"),
            pl.col("hours").count().alias("timed"),
        )
        .join(rates, on="provider", how="left")
    )
    held_bytes = pl.col("held_bytes").cast(pl.Int64, strict=False)
    # A held recording is priced when its provider's rate has what it needs: the size for a
    # GB-month rate, the duration for a per-minute one.
    per = per.with_columns(
        pl.when(pl.col("basis") == "gb_month")
        .then(pl.col("sized"))
        .when(pl.col("basis") == "minute_month")
        .then(pl.col("billed"))
        .otherwise(0)
        .alias("priced")
    )
    costs = per.select(
        pl.col("provider"),
        pl.when(pl.col("sized") > 0).then(held_bytes).alias("size_bytes"),
        pl.when(pl.col("billed") > 0)
        .then(pl.duration(minutes=pl.col("held_minutes")))
        .alias("duration"),
        pl.lit("completed").alias("status"),
        pl.lit(None, dtype=pl.Datetime("us", "UTC")).alias("deleted_at"),
    ).select(monthly_storage_cost().fill_null(0.0).alias("cost"))
    totals = per.select(
        pl.col("count", "hours", "bytes", "any_sized", "timed", "held_count", "priced").sum(),
        pl.col("basis").is_not_null().any().alias("rated"),
        pl.col("held_bytes").sum(),
        pl.col("sized").sum().alias("held_sized"),
    )
    count, hours, size, sized, timed, held_count, priced, rated, held_size, held_sized = totals.row(
        0
    )
    beyond = per.select((held_bytes.is_null() & pl.col("held_bytes").is_not_null()).any()).item()
    if beyond:
        storage = "n/a (sizes past 2**63 bytes)"
    elif not count or priced or (not held_count and rated):
        # As summarize: known when some held recording is priced, or none is held (all
        # deleted, at a rate of 0).
        cost = float(costs["cost"].sum())
        unpriced = f" ({held_count - priced:,} held unpriced)" if held_count > priced else ""
        storage = f"${readable(cost, 2)}/month{unpriced}"
    else:
        storage = "n/a"
    gone = dict(left_out or {})
    # Every recording is counted, dated or not, so this is no total of the known (known_total
    # would read "n/a" with none dated); those a date range kept or left out are said.
    undated, without = int(frame["created_at"].null_count()), RANGES["date"][1]
    count_text = counted(count)
    count_text += f" ({undated:,} without {without})" if undated else ""
    count_text += f" ({gone['date']:,} without {without} left out)" if gone.get("date") else ""
    hours_text = known_total(
        f"{readable(hours or 0, 1)} hours",
        "hours",
        count,
        timed,
        "duration",
        gone.get("duration", 0),
    )
    listed = _size_text(size or 0)
    # Held is known as provider_table's: some held size known, or nothing held.
    if sized and held_size != size and (held_sized or not held_count):
        # Deleted recordings are listed with their size but no longer held (nor priced).
        listed = f"{listed} listed, {_size_text(held_size)} held"
    size_text = known_total(listed, "size", count, sized, "size", gone.get("size", 0))
    return f"{count_text} · {hours_text} · {size_text} · est. storage {storage}"


def _size_text(size: int) -> str:
    """A byte total in the unit that fits it, with two decimals (``2.50 MiB``)."""
    return str(pl.select(size_human(pl.lit(float(size)), decimals=2)).item())


def human_bytes(value: float) -> str:
    """A byte count in binary units with three significant digits, never in exponent form.

    The unit is :func:`recanalytics.size_human`'s (up to EiB; a value that would round to 1024
    of a unit reads in the next), so the size slider's readout reads like the sizes elsewhere.

    Examples
    --------
    >>> from recanalytics.widgets import human_bytes
    >>> human_bytes(1536), human_bytes(3.2 * 2**30), human_bytes(12)
    ('1.50 KiB', '3.20 GiB', '12 B')
    >>> human_bytes(1.1e15), human_bytes(5 * 2**50), human_bytes(1023.9 * 2**40)
    ('1000 TiB', '5.00 PiB', '1.00 PiB')
    """
    text = str(pl.select(size_human(pl.lit(float(value)), decimals=2)).item())
    number, unit = text.split(" ")
    if unit == "B" or float(number) < 100:
        return text
    # Three significant digits from 100 up: whole units (1000 TiB, not 1.00e+03 TiB).
    whole = round(float(number))
    if whole < 1024 or unit == "EiB":
        return f"{whole} {unit}"
    return f"1.00 {_NEXT_UNIT[unit]}"  # 1023.9 TiB rounds to 1024 TiB: 1.00 PiB


_NEXT_UNIT: Final = {"KiB": "MiB", "MiB": "GiB", "GiB": "TiB", "TiB": "PiB", "PiB": "EiB"}


def _preview_text(frame: pl.DataFrame, column: str) -> pl.Expr:
    """A preview cell as reading text: sizes in KiB…GiB, durations and times to the second."""
    dtype = frame.schema[column]
    if column == "size_bytes":
        return size_human(column).alias("size")
    if dtype == pl.Duration:
        return duration_human(column).alias(column)
    if isinstance(dtype, pl.Datetime):
        # Said in the header: the times are UTC (a zone-aware column converted to it, a naive
        # one taken as UTC, as the filters take it).
        moment = pl.col(column)
        if dtype.time_zone is not None:
            moment = moment.dt.convert_time_zone("UTC")
        return moment.dt.strftime("%Y-%m-%d %H:%M:%S").alias(f"{column} (UTC)")
    return pl.col(column).cast(pl.String)


def _preview_html(frame: pl.DataFrame, columns: Sequence[str]) -> str:
    shown = frame.select([_preview_text(frame, c) for c in columns])
    head = "".join(f"<th>{html.escape(c)}</th>" for c in shown.columns)
    body = "".join(
        "<tr>"
        + "".join(f"<td>{html.escape('' if v is None else str(v))}</td>" for v in row)
        + "</tr>"
        for row in shown.iter_rows()
    )
    # The table scrolls inside its own box: at ~1,400 px it widened the whole explorer past a
    # ~950 px output (which then scrolled sideways) and its cells wrapped to four lines.
    return (
        "<div class='recanalytics-preview-box' style='width:100%;max-width:100%;"
        "max-height:320px;overflow:auto;overflow-x:auto'>"
        "<table style='font-size:12px;white-space:nowrap'>"
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>"
    )


PREVIEW_COLUMNS: Final = (
    "provider",
    "kind",
    "recording_id",
    "group_name",
    "group_id",
    "track_name",
    "status",
    "media_type",
    "codec",
    "container",
    "created_at",
    "duration",
    "size_bytes",
)


class Explorer(widgets.VBox):  # type: ignore[misc]
    """The explorer widget: filters, summary line, chart tabs, preview, export and reload.

    Build it with :func:`explore`. Attributes: ``panel`` (the :class:`FilterPanel`),
    ``summary`` (HTML line), ``tabs`` and ``views`` (one :class:`ChartView` per tab),
    ``preview``, ``errors``, ``export_path`` with ``parquet_button`` / ``csv_button``, and
    ``reload_button``.

    :meth:`close` closes every widget of it and lets go of its frames: ipywidgets keeps an
    open widget for the kernel's lifetime, so an explorer no longer shown holds its memory
    until closed. In a notebook, running a cell again closes the explorers its last run made.
    ``with Explorer(df) as ex:`` closes it at the end of the block.

    Examples
    --------
    >>> import recanalytics as ra
    >>> from recanalytics.widgets import Explorer
    >>> ex = Explorer(ra.demo(size=200), renderer="svg")
    >>> ex.tabs.selected_index = 5          # the Status tab is drawn when shown
    >>> ex.views["Status"].spec["mark"]["type"]
    'bar'
    >>> ex.close()
    """

    _closed = True  # until __init__ has made the parts close() closes

    def __init__(
        self,
        df: pl.DataFrame | pl.LazyFrame,
        *,
        loader: Loader | None = None,
        since: str | date | datetime | None = None,
        until: str | date | datetime | None = None,
        renderer: Renderer = "auto",
        debounce: float = 0.15,
        preview_rows: int = 20,
        tabs: Mapping[str, ChartMaker] | None = None,
    ) -> None:
        validate.callable_or_none(loader, "loader", "a callable loader(since=, until=) or None")
        validate.int_range(preview_rows, "preview_rows", 0, 10_000)
        if tabs is not None and not (
            isinstance(tabs, Mapping)
            and all(isinstance(k, str) and callable(v) for k, v in tabs.items())
        ):
            raise ConfigError("tabs", "a mapping of tab title to chart maker(df)", tabs)
        resolve_renderer(renderer)
        self.loaded_since = _as_datetime(since)
        self.loaded_until = _as_datetime(until, parameter="until")
        if self.loaded_since and self.loaded_until and self.loaded_since >= self.loaded_until:
            raise ConfigError("until", "a moment after since", until)
        made_here = _this_run()  # before building: an earlier run's explorer goes first
        self.panel = FilterPanel(df, debounce=debounce)  # closes itself if it refuses df
        self.errors = ErrorBox()
        self.loader = loader
        self.preview_rows = preview_rows
        self.makers = dict(tabs or TABS)
        self.summary = widgets.HTML()
        self.views = {name: ChartView(renderer=renderer) for name in self.makers}
        self.tabs = widgets.Tab(children=[v.widget for v in self.views.values()])
        self.tabs.add_class("recanalytics-tabs")
        for i, name in enumerate(self.views):
            self.tabs.set_title(i, name)
        self.preview = widgets.HTML(layout=widgets.Layout(width="100%"))
        self.preview.add_class("recanalytics-preview")
        self.export_path = widgets.Text(
            value="recanalytics-filtered", description="file", placeholder="path without suffix"
        )
        self.parquet_button = widgets.Button(description="Export parquet", icon="download")
        self.csv_button = widgets.Button(description="Export CSV", icon="download")
        self.export_note = widgets.HTML()
        self.reload_button = widgets.Button(
            description="Reload range", icon="refresh", disabled=True
        )
        self.reload_note = widgets.HTML()
        self._stale: set[str] = set(self.views)
        self._rows: pl.DataFrame = pl.DataFrame()
        self._every = "1mo"

        self._clicks = [
            (self.parquet_button, self.errors.guard(lambda _: self.export("parquet"))),
            (self.csv_button, self.errors.guard(lambda _: self.export("csv"))),
            (self.reload_button, self.errors.guard(lambda _: self.reload())),
        ]
        for button, handler in self._clicks:
            button.on_click(handler)
        self.tabs.observe(self.errors.guard(self._on_tab), names="selected_index")
        self.panel.on_change(self.errors.guard(lambda _: self.refresh()))
        super().__init__(
            [
                self.panel.widget,
                widgets.HBox([self.reload_button, self.reload_note]),
                self.summary,
                self.errors.widget,
                widgets.HTML(TAB_STYLE, layout=widgets.Layout(display="none")),
                self.tabs,
                widgets.HTML("<b>First rows</b>"),
                self.preview,
                widgets.HBox(
                    [self.export_path, self.parquet_button, self.csv_button, self.export_note]
                ),
            ]
        )
        # Stable hooks for styling and for the browser test.
        self.add_class("recanalytics-explorer")
        self.summary.add_class("recanalytics-summary")
        self._closed = False
        self._choose_every()
        self.errors.guard(self.refresh)()
        if made_here is not None:
            made_here.add(self)

    # --- lifecycle ----------------------------------------------------------------------

    def close(self) -> None:
        """Close every widget of the explorer (filters, tabs, charts, preview, buttons), remove
        its callbacks and let go of its frames; it cannot be used again.

        ipywidgets keeps each open widget for the kernel's lifetime, whether or not anything
        refers to it, and closing a box does not close what is in it: close an explorer you no
        longer show (``del ex`` alone freed nothing).
        """
        if self._closed:
            return
        self._closed = True
        for button, handler in self._clicks:
            button.on_click(handler, remove=True)
        self.panel.close()
        for view in self.views.values():
            view.close()
        self._rows = pl.DataFrame()
        self._stale = set()
        self.errors.last = None  # its traceback's frames hold the data they were working on
        _close_widgets(self, itself=False)
        super().close()

    def __enter__(self) -> Explorer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- updates ------------------------------------------------------------------------

    def _choose_every(self) -> None:
        self._every = choose_every(self.panel.source.lazy())

    def refresh(self) -> None:
        """Re-filter once, then update the summary, the visible chart and the preview."""
        self.errors.clear()
        source = self.panel.source
        self._rows = (
            source.lazy()
            .with_row_index("_row")
            .filter(self.panel.expr)
            .select("_row", *_CHART_COLUMNS)
            .collect()
        )
        line = summary_line(self._rows, left_out=self.panel.left_out())
        self.summary.value = f"<b>{html.escape(line)}</b>"
        self._stale = set(self.views)
        self._draw_visible()
        rows = source[self._rows["_row"].head(self.preview_rows)]
        columns = [c for c in PREVIEW_COLUMNS if c in rows.columns]
        self.preview.value = _preview_html(rows, columns)
        self._check_range()

    @property
    def visible(self) -> str:
        """The title of the tab on screen."""
        index = self.tabs.selected_index or 0
        return list(self.views)[index]

    def _draw_visible(self) -> None:
        name = self.visible
        if name in self._stale:
            self._stale.discard(name)
            self.views[name].show(self.makers[name](self._rows, self._every))

    def _on_tab(self, _change: Mapping[str, Any]) -> None:
        self._draw_visible()

    def draw_all(self) -> None:
        """Draw every tab now (normally only the visible one is drawn)."""
        for name in list(self._stale):
            self._stale.discard(name)
            self.views[name].show(self.makers[name](self._rows, self._every))

    # --- reload -------------------------------------------------------------------------

    def _loaded_range(self) -> tuple[datetime | None, datetime | None]:
        first = self.loaded_since or self.panel.data_first
        last = self.loaded_until or (
            self.panel.data_last + timedelta(microseconds=1) if self.panel.data_last else None
        )
        return first, last

    def _wanted_range(self) -> tuple[datetime | None, datetime | None]:
        return (
            _as_datetime(self.panel.controls["since"].value),
            _as_datetime(self.panel.controls["until"].value, end=True),
        )

    def needs_reload(self) -> bool:
        """True when the date range reaches beyond the loaded data and a loader can fetch it."""
        if self.loader is None:
            return False
        first, last = self._loaded_range()
        since, until = self._wanted_range()
        before = since is not None and (first is None or since < first)
        after = until is not None and (last is None or until > last)
        return before or after

    def _check_range(self) -> None:
        wanted = self.needs_reload()
        self.reload_button.disabled = not wanted
        if wanted:
            # The very range reload() passes: the note said "until now" (the picker's end,
            # left empty) while the loader got the loaded end.
            since, until = self._reload_range()
            self.reload_note.value = (
                "<span style='color:#b35c00'>The date range reaches beyond the loaded data: "
                "<b>Reload range</b> fetches it from the provider"
                f" (since {_moment_text(since, 'the start')},"
                f" until {_moment_text(until, 'now', ' exclusive')}).</span>"
            )
        else:
            self.reload_note.value = ""

    def _reload_range(self) -> tuple[datetime | None, datetime | None]:
        """The ``since``/``until`` :meth:`reload` passes: the loaded range joined with the
        pickers' (a picker left empty keeps the loaded end)."""
        first, last = self._loaded_range()
        since, until = self._wanted_range()
        new_since = min(d for d in (since, first) if d is not None) if (since or first) else None
        new_until = max(d for d in (until, last) if d is not None) if (until or last) else None
        return new_since, new_until

    def reload(self) -> pl.DataFrame:
        """Load the date range again with the loader (``since``/``until`` go to the API).

        The loader gets the widened range (the loaded range joined with the pickers), so the
        provider filters by date rather than this widget filtering after the fact; the note
        beside "Reload range" says that range.
        """
        if self.loader is None:
            raise ConfigError("loader", "a callable(since=, until=) -> DataFrame", None)
        new_since, new_until = self._reload_range()
        frame = self.loader(since=new_since, until=new_until)
        self.loaded_since, self.loaded_until = new_since, new_until
        self._every = choose_every(frame.lazy())
        self.panel.set_source(frame)  # notifies the listener, which refreshes everything
        return frame

    # --- export -------------------------------------------------------------------------

    def export(self, format: Literal["parquet", "csv"], path: str | Path | None = None) -> Path:
        """Write the filtered frame to parquet or CSV and return the path.

        The CSV is for spreadsheets (:func:`recanalytics.spreadsheet.write_spreadsheet_csv`):
        ``duration`` is written as ``duration_s`` (seconds), and a text value a spreadsheet
        would run as a formula (a track name ``=HYPERLINK(...)``) starts with a single quote.
        Parquet keeps every value exactly.

        A ``path`` that ends in the format's suffix (in any case) is written as given; any other
        gets it appended, so ``"sales.2026-q3"`` is written as ``sales.2026-q3.csv``, never as
        ``sales.csv``.

        The file is written user-only (``0600``) to a temporary file beside it and renamed: a
        write that fails (a full disk, a file size limit, a folder that takes no new file) is
        a :class:`~recanalytics.errors.StoreError` naming it, and a file already there is left
        as it was.
        """
        if format not in ("parquet", "csv"):
            raise ConfigError("format", '"parquet" or "csv"', format)
        # An empty path (the export box left blank) means the default name.
        target = validate.file_path(
            path or self.export_path.value or "recanalytics-filtered", "path"
        )
        # Appended, not swapped in: Path takes ".2026-q3" in "sales.2026-q3" for a suffix, and
        # replacing it sent every quarter's export to one "sales.csv".
        if target.suffix.lower() != f".{format}":
            target = validate.file_path(target.with_name(f"{target.name}.{format}"), "path")
        validate.writable_file(target, "path")
        frame = self.panel.filtered
        write: Callable[[Path], object] = (
            frame.write_parquet
            if format == "parquet"
            else functools.partial(write_spreadsheet_csv, frame)
        )
        # All or nothing: a full disk cut the file short where a whole earlier export was.
        private_write(target, write)
        self.export_note.value = f"{frame.height:,} rows written to {html.escape(str(target))}"
        return target.resolve()


def _moment_text(moment: datetime | None, missing: str, after: str = "") -> str:
    """A reload bound as the note says it: ``2025-03-01 00:00 UTC``, with seconds and
    microseconds only when it has them (a range ending after the last row loaded); ``after``
    follows a moment, ``missing`` stands for none."""
    if moment is None:
        return missing
    moment = moment.astimezone(UTC)
    shape = "%Y-%m-%d %H:%M"
    if moment.second or moment.microsecond:
        shape += ":%S.%f" if moment.microsecond else ":%S"
    return f"{moment.strftime(shape)} UTC{after}"


def explore(
    df: pl.DataFrame | pl.LazyFrame,
    *,
    loader: Loader | None = None,
    since: str | date | datetime | None = None,
    until: str | date | datetime | None = None,
    renderer: Renderer = "auto",
    debounce: float = 0.15,
) -> Explorer:
    """Explore a unified frame: filters linked to a summary line, chart tabs and a preview.

    Filters: provider, kind, status, media type, codec and container (multi-selects with
    counts), created date range, duration and size ranges, text search over group and track
    names. The summary shows recordings, hours, size and the estimated monthly storage cost of
    the selection; tabs show :mod:`recanalytics.charts` for it (only the visible tab is
    redrawn); buttons export the filtered rows to parquet or CSV. ``explorer.panel.filtered``
    is the selection and ``explorer.panel.expr`` the polars expression behind it.

    Parameters
    ----------
    df : polars.DataFrame or polars.LazyFrame
        A unified frame.
    loader : callable, optional
        ``loader(since=datetime, until=datetime) -> DataFrame``. When the date pickers reach
        beyond the loaded data, "Reload range" calls it with the widened range, so the dates go
        to the provider API. E.g. ``functools.partial(ra.load, **box.load_options())``.
    since, until : str, date or datetime, optional
        The range ``df`` was loaded for, ``until`` exclusive as for the loaders (default: its
        first and last ``created_at``).
    renderer : {"auto", "jupyter", "svg"}, default "auto"
        How charts are drawn (see :class:`ChartView`).
    debounce : float, default 0.15
        Slider debounce in seconds.

    Returns
    -------
    Explorer
        An ipywidgets ``VBox``; display it in a notebook, and ``close()`` it when done (running
        the cell again closes it too).

    Examples
    --------
    >>> import recanalytics as ra
    >>> ex = ra.explore(ra.demo(size=300), renderer="svg")
    >>> ex.panel.controls["status"].value = ("failed",)
    >>> ex.panel.filtered["status"].unique().to_list()
    ['failed']
    >>> ex.summary.value  # doctest: +SKIP
    '<b>10 recordings · 0.9 hours · 17.55 MiB · est. storage $0.00/month</b>'
    """
    return Explorer(
        df, loader=loader, since=since, until=until, renderer=renderer, debounce=debounce
    )
