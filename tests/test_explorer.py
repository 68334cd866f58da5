"""The explorer: controls driven from Python update the selection, summary, charts and preview."""

from __future__ import annotations

import functools
import gc
import math
import re
import threading
import weakref
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from synthetic import synthetic_frame

import recanalytics as ra
from recanalytics.sandbox import Sandbox
from recanalytics.widgets import (
    ChartView,
    Explorer,
    FilterPanel,
    category_options,
    explore,
    summary_line,
)


@pytest.fixture(scope="module")
def frame() -> pl.DataFrame:
    return synthetic_frame(3_000, seed=21)


@pytest.fixture
def ex(frame: pl.DataFrame) -> Iterator[Explorer]:
    with explore(frame, renderer="svg", debounce=0) as explorer:
        yield explorer


def volume_rows(ex: Explorer) -> list[dict[str, Any]]:
    spec = ex.views["Volume"].spec
    assert spec is not None
    rows: list[dict[str, Any]] = (spec.get("data") or spec["vconcat"][0]["data"])["values"]
    return rows


def test_initial_state_shows_everything(ex: Explorer, frame: pl.DataFrame) -> None:
    assert ex.panel.filtered.height == frame.height
    assert str(ex.panel.expr) == str(pl.lit(True))
    assert ex.summary.value.startswith(f"<b>{frame.height:,} recordings")
    assert sum(r["recordings"] for r in volume_rows(ex)) == frame.height
    assert ex.preview.value.count("<tr>") == 21  # header + 20 rows
    assert ex.errors.last is None


def test_multi_selects_show_counts(ex: Explorer, frame: pl.DataFrame) -> None:
    counts = dict(frame.group_by(pl.col("provider").cast(pl.String)).len().iter_rows())
    labels = dict((value, label) for label, value in ex.panel.controls["provider"].options)
    assert labels["twilio"] == f"twilio ({counts['twilio']:,})"
    codec_values = [value for _, value in ex.panel.controls["codec"].options]
    assert set(codec_values) == set(frame["codec"].drop_nulls().unique())


def test_provider_filter_updates_everything(ex: Explorer, frame: pl.DataFrame) -> None:
    ex.panel.controls["provider"].value = ("zoom", "plivo")
    expected = frame.filter(pl.col("provider").is_in(["zoom", "plivo"]))
    assert ex.panel.filtered.height == expected.height
    assert set(ex.panel.filtered["provider"].cast(pl.String)) == {"zoom", "plivo"}
    # The expression is reusable on any unified frame, eager or lazy.
    assert frame.lazy().filter(ex.panel.expr).collect().height == expected.height
    hours = expected.select(ra.duration_hours().sum()).item()
    assert f"{expected.height:,} recordings · {hours:,.1f} hours" in ex.summary.value
    rows = volume_rows(ex)
    assert {r["provider"] for r in rows} == {"plivo", "zoom"}
    assert sum(r["recordings"] for r in rows) == expected.height
    assert "twilio" not in ex.preview.value


def test_summary_cost_matches_the_helper(ex: Explorer, frame: pl.DataFrame) -> None:
    ex.panel.controls["status"].value = ("completed", "deleted")
    selected = ex.panel.filtered
    cost = selected.select(ra.monthly_storage_cost().sum()).item()
    gib = selected["size_bytes"].sum() / 2**30
    held = selected.filter(pl.col("deleted_at").is_null() & (pl.col("status") != "deleted"))
    held_gib = held["size_bytes"].sum() / 2**30
    unsized = selected["size_bytes"].null_count()
    assert unsized > 0 and held_gib < gib
    # Deleted recordings are listed with their size, not held: both totals are said.
    expected = (
        f"{gib:,.2f} GiB listed, {held_gib:,.2f} GiB held ({unsized:,} without size) · "
        f"est. storage ${cost:,.2f}/month"
    )
    assert expected in ex.summary.value
    assert summary_line(selected) in ex.summary.value


def test_hold_batches_changes_into_one_update(ex: Explorer) -> None:
    calls: list[int] = []
    ex.panel.on_change(lambda panel: calls.append(panel.filtered.height))
    with ex.panel.hold():
        ex.panel.controls["provider"].value = ("twilio",)
        ex.panel.controls["media_type"].value = ("audio",)
        ex.panel.controls["search"].value = "TW-1"
    assert len(calls) == 1
    assert set(ex.panel.filtered["media_type"]) == {"audio"}


def test_date_range_is_inclusive_utc_days(ex: Explorer, frame: pl.DataFrame) -> None:
    ex.panel.controls["since"].value = date(2025, 6, 1)
    ex.panel.controls["until"].value = date(2025, 6, 30)
    created = ex.panel.filtered["created_at"]
    assert created.min() >= datetime(2025, 6, 1, tzinfo=UTC)  # type: ignore[operator]
    assert created.max() < datetime(2025, 7, 1, tzinfo=UTC)  # type: ignore[operator]
    expected = frame.filter(
        pl.col("created_at").is_between(
            datetime(2025, 6, 1, tzinfo=UTC), datetime(2025, 7, 1, tzinfo=UTC), closed="left"
        )
    )
    assert ex.panel.filtered.height == expected.height > 0


def test_duration_and_size_ranges(ex: Explorer) -> None:
    ex.panel.controls["duration"].value = (5.0, 30.0)
    minutes = ex.panel.filtered.select(ra.duration_minutes()).to_series()
    assert minutes.min() >= 5 and minutes.max() <= 30  # type: ignore[operator]
    ex.panel.controls["duration"].value = (0.0, ex.panel.controls["duration"].max)
    ex.panel.controls["size"].value = (math.log10(2**20), ex.panel.controls["size"].max)
    sizes = ex.panel.filtered["size_bytes"]
    # Recordings of unknown size stay unless "include … without a size" is unticked.
    unknown = ex.panel.source["size_bytes"].null_count()
    assert sizes.null_count() == unknown > 0 and sizes.min() >= 2**20  # type: ignore[operator]
    ex.panel.controls["size_unknown"].value = False
    sizes = ex.panel.filtered["size_bytes"]
    assert sizes.null_count() == 0 and sizes.min() >= 2**20  # type: ignore[operator]


def test_size_slider_is_logarithmic_with_a_human_readout(ex: Explorer) -> None:
    """Finding 5 of issue 15: a linear 0-4,021 MiB slider could not pick small sizes."""
    size = ex.panel.controls["size"]
    sizes = ex.panel.source["size_bytes"].drop_nulls()
    smallest, largest = sizes.filter(sizes > 0).min(), sizes.max()
    assert size.min <= math.log10(smallest) and math.log10(largest) <= size.max  # type: ignore[arg-type]
    assert size.max - size.min >= 3  # kilobytes to gigabytes, each decade the same width
    assert (size.max - size.min) / size.step >= 60  # fine enough to pick a size in any decade
    assert "iB" in ex.panel.size_readout.value and "–" in ex.panel.size_readout.value
    size.value = (math.log10(10 * 2**10), math.log10(2**20))  # 10 KiB to 1 MiB
    picked = ex.panel.filtered["size_bytes"]
    assert picked.len() > 0 and picked.min() >= 10 * 2**10 and picked.max() <= 2**20  # type: ignore[operator]
    assert ex.panel.size_readout.value == "10.00 KiB – 1.00 MiB"


def test_size_slider_ends_keep_sizes_exactly_on_them(frame: pl.DataFrame) -> None:
    # polars' log10(1000) is 2.9999999999999996: files of exactly 1 kB, 1 MB, 1 GB were left out.
    sizes = [10**3, 10**6, 10**9, 10**12]
    rows = frame.head(len(sizes)).with_columns(size_bytes=pl.Series(sizes, dtype=pl.Int64))
    panel = Explorer(rows).panel
    size = panel.controls["size"]
    for exponent in (3, 6, 9):
        size.value = (size.min, size.max)
        size.value = (float(exponent), size.max)
        assert panel.filtered["size_bytes"].to_list() == [s for s in sizes if s >= 10**exponent]
        size.value = (size.min, float(exponent))
        assert panel.filtered["size_bytes"].to_list() == [s for s in sizes if s <= 10**exponent]


def test_summary_line_never_wraps_around(frame: pl.DataFrame) -> None:
    # Int64 sums wrapped: two rows of 2**63 - 1 and 1,000 bytes read as -8 EiB and -$461M.
    rows = (
        frame.head(2)
        .with_columns(
            size_bytes=pl.Series([2**63 - 1, 1000]), status=pl.lit("completed"), deleted_at=None
        )
        .with_columns(provider=pl.col("provider").first())
    )
    line = summary_line(rows)
    assert " · 8.00 EiB · " in line and "-" not in line
    assert line.endswith("est. storage n/a (sizes past 2**63 bytes)")


def test_date_filters_reach_rows_dated_before_1970(frame: pl.DataFrame) -> None:
    # The pickers used the loaders' range (1970 to 9999): rows in memory dated 1969 (an
    # unreadable date a provider wrote as such) could not be filtered to.
    old = frame.head(3).with_columns(created_at=pl.lit(datetime(1969, 6, 1, tzinfo=UTC)))
    ex = Explorer(pl.concat([old, frame]))
    ex.panel.controls["since"].value = date(1969, 1, 1)
    ex.panel.controls["until"].value = date(1969, 12, 31)
    assert ex.errors.last is None
    assert ex.panel.filtered.height == 3


def test_preview_shows_human_units(ex: Explorer) -> None:
    page = ex.preview.value
    assert re.search(r"<td>\d+(\.\d+)? (B|KiB|MiB|GiB)</td>", page)  # sizes, not raw bytes
    assert re.search(r"<td>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d</td>", page)  # no microseconds
    assert not re.search(r"\.\d{6}", page)
    assert "<th>size</th>" in page and "<th>size_bytes</th>" not in page


def test_slider_drags_are_debounced(frame: pl.DataFrame) -> None:
    panel = FilterPanel(frame, debounce=60)  # long enough that only flush() ends the wait
    seen: list[tuple[float, float]] = []
    panel.on_change(lambda p: seen.append(p.controls["duration"].value))
    slider = panel.controls["duration"]
    slider.value = (1.0, slider.max)  # leading edge: applied at once
    slider.value = (2.0, slider.max)  # inside the window: waits for the drag to end
    slider.value = (3.0, slider.max)
    assert seen == [(1.0, slider.max)]
    panel.flush()
    assert seen == [(1.0, slider.max), (3.0, slider.max)]
    assert panel.filtered.select(ra.duration_minutes().min()).item() >= 3


def test_text_search_over_group_and_track_names(ex: Explorer, frame: pl.DataFrame) -> None:
    ex.panel.controls["search"].value = "ROOM 1"  # case-insensitive, group_name
    names = ex.panel.filtered["group_name"]
    assert names.len() > 0 and all("room 1" in n for n in names)
    ex.panel.controls["search"].value = "track-19"
    assert set(ex.panel.filtered["track_name"]) == {"track-19"}


def test_empty_result_shows_zero_and_notes(ex: Explorer) -> None:
    ex.panel.controls["search"].value = "no such room anywhere"
    assert ex.panel.filtered.height == 0
    assert "0 recordings · 0.0 hours · 0 B" in ex.summary.value
    spec = ex.views["Volume"].spec
    assert spec is not None and spec["mark"]["type"] == "text"
    assert ex.preview.value.count("<tr>") == 1
    ex.draw_all()
    assert all(v.spec is not None and v.spec["mark"]["type"] == "text" for v in ex.views.values())
    assert ex.errors.last is None


def test_single_provider_frame(frame: pl.DataFrame) -> None:
    zoom = frame.filter(pl.col("provider") == "zoom")
    ex = explore(zoom, renderer="svg", debounce=0)
    assert [v for _, v in ex.panel.controls["provider"].options] == ["zoom"]
    ex.panel.controls["kind"].value = ("session_file",)
    assert set(ex.panel.filtered["kind"].cast(pl.String)) == {"session_file"}
    ex.draw_all()
    assert ex.errors.last is None


def test_only_the_visible_tab_is_redrawn(ex: Explorer) -> None:
    assert ex.visible == "Volume"
    assert ex.views["Status"].spec is None  # never shown yet
    ex.panel.controls["status"].value = ("failed",)
    assert ex.views["Status"].spec is None
    ex.tabs.selected_index = list(ex.views).index("Status")
    spec = ex.views["Status"].spec
    assert spec is not None
    assert {r["status"] for r in spec["data"]["values"]} == {"failed"}
    before = ex.views["Volume"].spec
    ex.panel.controls["status"].value = ("deleted",)
    assert ex.views["Volume"].spec is before  # hidden: stale until shown again
    ex.tabs.selected_index = 0
    assert ex.views["Volume"].spec is not before


def test_setting_controls_from_python_updates_the_chart_in_place(ex: Explorer) -> None:
    surface = ex.views["Volume"].widget
    children = surface.children
    ex.panel.controls["provider"].value = ("twilio",)
    assert ex.views["Volume"].widget is surface and surface.children == children
    assert len(surface.children) == 1  # no stacked outputs
    assert "<svg" in surface.children[0].value


def test_callback_errors_show_inside_the_widget(frame: pl.DataFrame) -> None:
    def broken(df: pl.DataFrame, every: str) -> Any:
        if df.height < frame.height:
            raise RuntimeError("chart exploded")
        return ra.charts.status_chart(df)  # type: ignore[attr-defined]

    ex = Explorer(frame, renderer="svg", debounce=0, tabs={"Broken": broken})
    assert ex.errors.last is None
    ex.panel.controls["provider"].value = ("twilio",)  # must not raise here
    assert isinstance(ex.errors.last, RuntimeError)
    assert "chart exploded" in ex.errors.widget.value
    assert ex.errors.widget.layout.display == ""
    ex.panel.reset()
    assert ex.errors.last is None and ex.errors.widget.layout.display == "none"


def test_reset_clears_every_filter(ex: Explorer, frame: pl.DataFrame) -> None:
    ex.panel.controls["provider"].value = ("twilio",)
    ex.panel.controls["search"].value = "room"
    ex.panel.reset()
    assert ex.panel.filtered.height == frame.height
    assert ex.panel.describe() == "no filter"


def test_export_parquet_and_csv(ex: Explorer, tmp_path: Path) -> None:
    ex.panel.controls["provider"].value = ("plivo",)
    parquet = ex.export("parquet", tmp_path / "sel")
    assert parquet.suffix == ".parquet"
    assert pl.read_parquet(parquet).equals(ex.panel.filtered)
    ex.export_path.value = str(tmp_path / "sel2.csv")
    ex.csv_button.click()
    csv = pl.read_csv(tmp_path / "sel2.csv")
    assert csv.height == ex.panel.filtered.height and "duration_s" in csv.columns
    # In the frame's order, duration_s where duration is; a mark for Excel's UTF-8.
    shown = ["duration_s" if c == "duration" else c for c in ex.panel.filtered.columns]
    assert csv.columns == shown
    assert (tmp_path / "sel2.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    assert "rows written to" in ex.export_note.value


def test_an_export_name_with_a_dot_gets_the_suffix_appended(ex: Explorer, tmp_path: Path) -> None:
    # "sales.2026-q3" was written as sales.csv, and "sales.2026-q4" then replaced it.
    ex.panel.controls["provider"].value = ("twilio",)
    q3 = ex.export("csv", tmp_path / "sales.2026-q3")
    ex.panel.controls["provider"].value = ("zoom",)
    q4 = ex.export("csv", tmp_path / "sales.2026-q4")
    assert (q3.name, q4.name) == ("sales.2026-q3.csv", "sales.2026-q4.csv")
    assert set(pl.read_csv(q3)["provider"]) == {"twilio"}
    assert set(pl.read_csv(q4)["provider"]) == {"zoom"}
    ex.export_path.value = str(tmp_path / "calls 1.5h")  # typed in the box
    ex.parquet_button.click()
    assert (tmp_path / "calls 1.5h.parquet").is_file()
    # The right suffix, in any case, is kept; another one is not taken for it.
    assert ex.export("parquet", tmp_path / "kept.PARQUET").name == "kept.PARQUET"
    assert ex.export("csv", tmp_path / "sel.parquet").name == "sel.parquet.csv"


def test_a_csv_export_of_a_frame_with_its_own_duration_s_is_written(
    frame: pl.DataFrame, tmp_path: Path
) -> None:
    # A user's duration_s beside duration: the seconds written in duration's place made two
    # columns of one name, and the export failed with polars' DuplicateError.
    own = frame.with_columns(duration_s=pl.col("duration").dt.total_seconds())
    ex = explore(own, renderer="svg", debounce=0)
    written = pl.read_csv(ex.export("csv", tmp_path / "own.csv"))
    assert written.columns.count("duration_s") == 1 and written.height == own.height
    expected = own["duration"].dt.total_milliseconds() / 1000  # not the user's whole seconds
    assert written["duration_s"].is_null().equals(expected.is_null())
    assert ((written["duration_s"] - expected).abs() < 1e-6).all()


def test_reload_pushes_the_widened_range_to_the_loader(frame: pl.DataFrame) -> None:
    calls: list[dict[str, Any]] = []

    def loader(*, since: datetime | None, until: datetime | None) -> pl.DataFrame:
        calls.append({"since": since, "until": until})
        return synthetic_frame(500, seed=2, days=900)

    loaded = frame.filter(pl.col("created_at") >= datetime(2025, 3, 1, tzinfo=UTC))
    ex = explore(
        loaded,
        loader=loader,
        since="2025-03-01",  # ISO text, a date or a datetime, as for the loaders
        until=date(2026, 7, 1),
        renderer="svg",
        debounce=0,
    )
    assert not ex.needs_reload() and ex.reload_button.disabled
    ex.panel.controls["since"].value = date(2025, 5, 1)  # inside: a plain filter
    assert not ex.needs_reload()
    ex.panel.controls["since"].value = date(2025, 1, 1)  # beyond the loaded start
    assert ex.needs_reload() and not ex.reload_button.disabled
    assert "Reload range" in ex.reload_note.value
    ex.reload_button.click()
    assert ex.errors.last is None
    assert calls == [
        {"since": datetime(2025, 1, 1, tzinfo=UTC), "until": datetime(2026, 7, 1, tzinfo=UTC)}
    ]
    assert ex.panel.source.height == 500 and not ex.needs_reload()
    assert f"{ex.panel.filtered.height:,} recordings" in ex.summary.value


def test_reload_through_the_sandbox_loader(box: Sandbox) -> None:
    loader = functools.partial(ra.load, **box.load_options())
    start = box.config.start
    first = loader(since=start + timedelta(days=200), until=start + timedelta(days=260))
    ex = explore(
        first,
        loader=loader,
        since=start + timedelta(days=200),
        until=start + timedelta(days=260),
        renderer="svg",
        debounce=0,
    )
    ex.panel.controls["since"].value = (start + timedelta(days=150)).date()
    assert ex.needs_reload()
    widened = ex.reload()
    assert widened.height > first.height
    assert widened["created_at"].min() >= start + timedelta(days=150)  # type: ignore[operator]
    assert widened["created_at"].max() < start + timedelta(days=260)  # type: ignore[operator]


def test_no_loader_means_no_reload(ex: Explorer) -> None:
    ex.panel.controls["since"].value = date(2000, 1, 1)
    assert not ex.needs_reload() and ex.reload_button.disabled
    with pytest.raises(ra.ConfigError, match="loader"):
        ex.reload()


def test_bad_inputs(frame: pl.DataFrame) -> None:
    with pytest.raises(ra.ConfigError, match="renderer"):
        ChartView(renderer="png")  # type: ignore[arg-type]
    with pytest.raises(ra.ConfigError, match="df"):
        FilterPanel(frame.drop("codec"))


def test_jupyter_renderer_updates_one_widget_in_place(frame: pl.DataFrame) -> None:
    pytest.importorskip("anywidget", reason="altair's JupyterChart needs anywidget")
    ex = explore(frame, renderer="jupyter", debounce=0)
    chart_widget = ex.views["Volume"].widget.children[0]
    ex.panel.controls["provider"].value = ("signalwire",)
    assert ex.views["Volume"].widget.children[0] is chart_widget
    assert chart_widget.spec == ex.views["Volume"].spec
    assert {r["provider"] for r in volume_rows(ex)} == {"signalwire"}


def test_summary_says_what_size_and_duration_are_unknown(frame: pl.DataFrame) -> None:
    # A Plivo-only selection read "400 recordings · 23.6 hours · 0.00 GiB": Plivo sends no size.
    plivo = frame.filter(pl.col("provider") == "plivo")
    assert plivo["size_bytes"].null_count() == plivo.height
    hours = plivo.select(ra.duration_hours().sum()).item()
    assert f"{plivo.height:,} recordings · {hours:,.1f} hours · size n/a · " in summary_line(plivo)
    untimed = plivo.with_columns(duration=pl.lit(None, dtype=plivo.schema["duration"]))
    assert " · hours n/a · size n/a · " in summary_line(untimed)
    twilio = frame.filter(pl.col("provider") == "twilio").head(10)
    mixed = pl.concat([twilio, plivo.head(3)])
    total = pl.select(ra.size_human(pl.lit(float(twilio["size_bytes"].sum())), decimals=2))
    assert f" · {total.item()} (3 without size) · " in summary_line(mixed)
    assert summary_line(ra.empty_frame()).startswith("0 recordings · 0.0 hours · 0 B")


def watched(chart_widget: Any) -> set[str]:
    """The parameter names a JupyterChart's front end listens to."""
    return set(chart_widget._vl_selections) | set(chart_widget._params)


def test_jupyter_chart_listens_to_the_parameters_of_the_chart_it_shows(
    frame: pl.DataFrame,
) -> None:
    # Swapping in the empty note's spec (no parameters) left the widget listening to the
    # chart's legend selection: "Unrecognized signal name: param_…" in the browser console.
    pytest.importorskip("anywidget", reason="altair's JupyterChart needs anywidget")
    ex = explore(frame, renderer="jupyter", debounce=0)
    view = ex.views["Volume"]

    def consistent() -> bool:
        assert view.spec is not None
        names = {p["name"] for p in view.spec.get("params", [])}
        return watched(view.widget.children[0]) == names and len(view.widget.children) == 1

    assert consistent() and view.spec is not None and view.spec.get("params")
    ex.panel.controls["search"].value = "no such room anywhere"
    assert view.spec is not None and view.spec["mark"]["type"] == "text"
    assert consistent()
    ex.panel.controls["search"].value = ""
    assert view.spec is not None and view.spec.get("params") and consistent()


def test_jupyter_charts_draw_on_a_canvas_with_the_export_only_menu(frame: pl.DataFrame) -> None:
    # Each JupyterChart numbered its SVG clip paths from clip1: on a page of several, the size
    # chart's bitrate guides took another chart's clip box and ran over its title and below its
    # axis. And its ••• menu offered "Open in Vega Editor", which needs the internet.
    pytest.importorskip("anywidget", reason="altair's JupyterChart needs anywidget")
    from recanalytics.charts.export import EMBED_OPTIONS

    ex = explore(frame, renderer="jupyter", debounce=0)
    ex.draw_all()
    for name, view in ex.views.items():
        options = view.widget.children[0].embed_options
        assert options["renderer"] == "canvas", name
        assert options["actions"] == EMBED_OPTIONS["actions"], name
    # A chart with other parameters gets a new widget: it keeps the options.
    ex.panel.controls["search"].value = "no such room anywhere"
    assert ex.views["Volume"].widget.children[0].embed_options["renderer"] == "canvas"


def test_describe_says_the_slider_ranges(ex: Explorer, frame: pl.DataFrame) -> None:
    # Moving the minutes and size sliders filtered rows out, and describe() said "no filter".
    ex.panel.controls["duration"].value = (5.0, 30.0)
    ex.panel.controls["size"].value = (math.log10(2**20), ex.panel.controls["size"].max)
    assert ex.panel.filtered.height < frame.height
    described = ex.panel.describe()
    assert "minutes 5–30" in described
    assert "size 1.00 MiB – " in described
    ex.panel.reset()
    assert ex.panel.describe() == "no filter"


def test_the_summary_of_one_recording_is_singular(frame: pl.DataFrame) -> None:
    # "1 recordings · hours n/a".
    one = frame.head(1).with_columns(duration=pl.lit(None, dtype=frame.schema["duration"]))
    assert summary_line(one).startswith("1 recording · hours n/a · ")


def test_the_preview_scrolls_sideways_in_its_own_box(ex: Explorer) -> None:
    # At ~1,400 px the table widened the whole explorer past its ~950 px output, which then
    # scrolled sideways, and its cells wrapped to four lines.
    page = ex.preview.value
    box = re.search(r"<div [^>]*style='([^']*)'", page)
    assert box is not None
    assert "overflow-x:auto" in box.group(1) and "width:100%" in box.group(1)
    table = re.search(r"<table style='([^']*)'", page)
    assert table is not None and "white-space:nowrap" in table.group(1)
    assert "recanalytics-preview" in ex.preview._dom_classes


def test_negative_sizes_and_durations_are_unknown_and_said_once(frame: pl.DataFrame) -> None:
    # A hand-built frame's negative sizes were summed into the summary line (less GiB, less
    # cost) and its negative durations drawn as "no or zero duration". They are unknown, as a
    # loader reads them: one LoadWarning when the explorer is made, none on each change.
    import warnings

    rows = frame.head(40).with_columns(provider=pl.lit("twilio"), deleted_at=None)
    index = pl.int_range(pl.len())
    negative = rows.with_columns(
        size_bytes=pl.when(index < 3).then(-1000).otherwise(1000 + index),
        duration=pl.when(index < 2)
        .then(pl.duration(seconds=-30))
        .otherwise(pl.duration(minutes=1)),
    )
    said = "negative values are taken as unknown \\(null\\), as the loaders take them: "
    with pytest.warns(ra.LoadWarning, match=said + "duration in 2 recordings, size_bytes in 3"):
        ex = explore(negative, renderer="svg", debounce=0)
    source = ex.panel.source
    assert source["size_bytes"].head(3).to_list() == [None] * 3
    assert source["duration"].head(2).to_list() == [None] * 2
    assert "(3 without size)" in ex.summary.value and "(2 without duration)" in ex.summary.value
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ex.panel.controls["status"].value = tuple(source["status"].drop_nulls().unique()[:1])
        ex.draw_all()
    assert ex.errors.last is None


def test_an_unknown_storage_cost_reads_n_a_not_zero(frame: pl.DataFrame) -> None:
    # Held Twilio recordings without a size read "est. storage $0.00/month", where summarize's
    # estimated_monthly_cost is null: an unknown cost is not free (as size and hours read n/a).
    twilio = frame.filter(pl.col("provider") == "twilio").head(20)
    held = twilio.with_columns(
        status=pl.lit("completed"),
        deleted_at=pl.lit(None, frame.schema["deleted_at"]),
        size_bytes=pl.lit(None, pl.Int64),
    )
    assert ra.summarize(held)["estimated_monthly_cost"].item() is None
    assert summary_line(held).endswith(" · size n/a · est. storage n/a")
    # A deleted recording costs 0, but does not make the held ones known: "$0.00/month" there
    # read as free (the audit's Twilio rows of unknown size beside 19 deleted ones).
    gone = pl.concat([held, held.head(1).with_columns(status=pl.lit("deleted"))])
    assert ra.summarize(gone)["estimated_monthly_cost"].item() is None
    assert summary_line(gone).endswith("est. storage n/a")
    # Only deleted ones: nothing held, a known $0.
    only_gone = held.head(2).with_columns(status=pl.lit("deleted"))
    assert ra.summarize(only_gone)["estimated_monthly_cost"].item() == 0.0
    assert summary_line(only_gone).endswith("est. storage $0.00/month")
    # Selections mixing priced and unpriced recordings match summarize.
    for selection in (
        frame,
        frame.filter(pl.col("provider") != "twilio"),
        pl.concat([held, frame]),
    ):
        cost = ra.summarize(selection)["estimated_monthly_cost"].item()
        assert f"est. storage ${cost:,.2f}/month" in summary_line(selection)
    assert summary_line(ra.empty_frame()).endswith("est. storage $0.00/month")


def test_a_touched_range_keeps_recordings_of_unknown_value_unless_told(
    frame: pl.DataFrame,
) -> None:
    # One step of the size slider dropped every Plivo and SignalWire recording (they state no
    # size) and the summary's "(N without size)" went with them, without a word.
    ex = explore(frame, renderer="svg", debounce=0)
    panel, unsized = ex.panel, frame["size_bytes"].null_count()
    assert unsized
    box = panel.controls["size_unknown"]
    assert box.value is True and box.description == f"include {unsized:,} without a size"
    size = panel.controls["size"]
    size.value = (size.min, size.max - 0.1)
    assert panel.filtered["size_bytes"].null_count() == unsized
    assert f"({unsized:,} without size)" in ex.summary.value
    box.value = False
    assert panel.filtered["size_bytes"].null_count() == 0
    assert f"({unsized:,} without size left out)" in ex.summary.value
    assert "those without a size left out" in panel.describe()
    # Unticked with the slider untouched: the unknown ones alone leave.
    size.value = (size.min, size.max)
    assert panel.filtered.height == frame.height - unsized
    minutes = panel.controls["duration"]
    minutes.value = (minutes.min, minutes.max - 0.5)
    assert (
        panel.filtered["duration"].null_count()
        == panel.source.filter(pl.col("size_bytes").is_not_null())["duration"].null_count()
    )
    panel.reset()
    assert box.value is True and panel.filtered.height == frame.height


def test_the_summary_reads_a_status_deleted_in_any_case_as_summarize_does(
    frame: pl.DataFrame,
) -> None:
    # "Deleted" (a frame from a CSV or pandas export, taken as it comes) was priced as held:
    # "$1.00/month" for two 10 GB recordings of which summarize holds one ($0.50).
    two = frame.filter(pl.col("provider") == "twilio").head(2)
    rows = two.with_columns(
        status=pl.Series(["completed", "Deleted"]),
        deleted_at=pl.lit(None, frame.schema["deleted_at"]),
        size_bytes=pl.lit(10_000_000_000, pl.Int64),
    )
    cost = ra.summarize(rows)["estimated_monthly_cost"].item()
    line = summary_line(rows)
    assert f"est. storage ${cost:,.2f}/month" in line, line
    assert " · 18.63 GiB listed, 9.31 GiB held · " in line, line


def test_a_date_range_keeps_recordings_without_a_creation_time_unless_told(
    frame: pl.DataFrame,
) -> None:
    # Any day picked dropped every recording without created_at: a "from" a year before all
    # of them took 5 of 412 out, and the summary, describe() and left_out() said nothing.
    undated = frame.with_columns(
        created_at=pl.when(pl.int_range(pl.len()) < 5).then(None).otherwise(pl.col("created_at"))
    )
    first = undated["created_at"].min().date()
    with explore(undated, renderer="svg", debounce=0) as ex:
        panel = ex.panel
        box = panel.controls["date_unknown"]
        assert box.value is True and box.layout.display == ""
        assert box.description == "include 5 without a creation time"
        assert f"{undated.height:,} recordings (5 without a creation time) · " in ex.summary.value
        panel.controls["since"].value = first - timedelta(days=365)
        assert panel.filtered.height == undated.height
        panel.controls["since"].value = first + timedelta(days=60)
        panel.controls["until"].value = first + timedelta(days=120)
        assert panel.filtered["created_at"].null_count() == 5
        box.value = False
        assert panel.filtered["created_at"].null_count() == 0
        assert panel.left_out() == {"date": 5}
        assert "recordings (5 without a creation time left out) · " in ex.summary.value
        assert panel.describe().endswith("; those without a creation time left out")
        # Unticked with no day picked: the undated ones alone leave.
        panel.controls["since"].value = panel.controls["until"].value = None
        assert panel.filtered.height == undated.height - 5
        panel.reset()
        assert box.value is True and panel.filtered.height == undated.height
    # Every recording dated: no box to tick. None dated (an empty frame): the pickers still
    # choose a range to reload.
    for rows in (frame, ra.empty_frame()):
        with FilterPanel(rows, debounce=0) as panel:
            assert panel.controls["date_unknown"].layout.display == "none"
            assert not panel.controls["since"].disabled and not panel.controls["until"].disabled


def test_the_summary_size_is_in_a_unit_that_fits(frame: pl.DataFrame) -> None:
    # A 2.5 MiB selection read "0.00 GiB".
    rows = frame.head(2).with_columns(size_bytes=pl.Series([2**21, 2**19]))
    assert " · 2.50 MiB · " in summary_line(rows)


def test_the_summary_says_how_many_held_recordings_are_unpriced(frame: pl.DataFrame) -> None:
    twilio = frame.filter(pl.col("provider") == "twilio").head(10)
    held = twilio.with_columns(
        status=pl.lit("completed"), deleted_at=pl.lit(None, frame.schema["deleted_at"])
    )
    unsized = held.with_columns(
        size_bytes=pl.when(pl.int_range(pl.len()) < 3).then(None).otherwise(pl.col("size_bytes"))
    )
    line = summary_line(unsized)
    assert line.endswith("/month (3 held unpriced)") and "$" in line, line
    assert summary_line(held).endswith("/month")


@pytest.mark.parametrize("which", ["empty", "plivo"])
def test_a_range_with_no_known_value_is_put_out_of_use(frame: pl.DataFrame, which: str) -> None:
    # With no size known the size slider read "1 B – 10 B"; an empty frame's minutes "0.0 – 1.0".
    rows = ra.empty_frame() if which == "empty" else frame.filter(pl.col("provider") == "plivo")
    panel = explore(rows, renderer="svg", debounce=0).panel
    names = ["size", "duration"] if which == "empty" else ["size"]
    for name in names:
        slider = panel.controls[name]
        assert slider.disabled and slider.layout.display == "none", name
        assert panel.controls[f"{name}_unknown"].layout.display == "none"
        assert panel.notes[name].layout.display != "none"
        assert panel.notes[name].value.endswith(f"no recording here has a {name}")
    assert panel.size_readout.layout.display == "none"
    if which == "plivo":
        assert not panel.controls["duration"].disabled
        # Sizes known again after a reload: the slider comes back.
        panel.set_source(frame)
        assert not panel.controls["size"].disabled and panel.controls["size"].layout.display == ""
        assert panel.notes["size"].layout.display == "none"


def test_the_preview_says_its_times_are_utc(frame: pl.DataFrame) -> None:
    """The preview printed created_at without a zone, and a frame converted to a local zone in
    that zone's time: a reader could not tell either from UTC, which the filters use."""
    rows = frame.sort("created_at").head(3)
    local = rows.with_columns(pl.col("created_at").dt.convert_time_zone("America/Los_Angeles"))
    page = Explorer(local, preview_rows=3).preview.value
    assert "<th>created_at (UTC)</th>" in page
    for moment in rows["created_at"]:
        assert f"<td>{moment:%Y-%m-%d %H:%M:%S}</td>" in page, page


CATEGORY_COLUMNS = ("provider", "kind", "status", "media_type", "codec", "container")


@pytest.mark.parametrize("column", CATEGORY_COLUMNS)
def test_a_missing_value_and_a_real_unknown_are_two_options(
    frame: pl.DataFrame, column: str, tmp_path: Path
) -> None:
    # A real "unknown" and a missing value were one option, "unknown (2)", which selected the
    # missing row only: the real one could not be picked. An empty text read " (1)".
    other = str(frame[column][0])
    values = ["unknown", None, "", other, other, None]
    rows = frame.head(len(values)).with_columns(
        pl.Series(column, values, dtype=pl.String),
        recording_id=pl.Series([f"r{i}" for i in range(len(values))]),
    )
    with explore(rows, renderer="svg", debounce=0) as ex:
        select = ex.panel.controls[column]
        labels = {value: label for label, value in select.options}
        assert labels == {
            "unknown": "unknown (1)",
            None: "unknown (no value) (2)",
            "": "'' (1)",
            other: f"{other} (2)",
        }
        for value in labels:
            select.value = (value,)
            wanted = rows.filter(
                rows[column].is_null() if value is None else rows[column].eq_missing(value)
            )["recording_id"].to_list()
            assert ex.panel.filtered["recording_id"].to_list() == wanted, value
            assert ex.summary.value.startswith(f"<b>{len(wanted)} recording"), value
            written = pl.read_parquet(ex.export("parquet", tmp_path / "selection"))
            assert written["recording_id"].to_list() == wanted, value
        select.value = ("unknown", "")
        assert ex.panel.filtered["recording_id"].to_list() == ["r0", "r2"]
        assert ex.panel.describe() == f"{column} in unknown, ''"
        select.value = (None,)
        assert ex.panel.describe() == f"{column} in unknown (no value)"
        # Without a real "unknown", the missing value is listed as "unknown", still selected.
        ex.panel.set_source(rows.filter(pl.col(column).ne_missing("unknown")))
        assert select.value == (None,) and ("unknown (2)", None) in select.options
        assert ex.panel.filtered["recording_id"].to_list() == ["r1", "r5"]
        assert ex.errors.last is None


def test_the_reload_note_says_the_range_reload_passes(frame: pl.DataFrame) -> None:
    # Only "from" moved earlier: the note said "until now" while the loader got the loaded
    # end, 2025-09-01.
    calls: list[tuple[datetime | None, datetime | None]] = []

    def loader(*, since: datetime | None, until: datetime | None) -> pl.DataFrame:
        calls.append((since, until))
        return frame

    def note() -> str:
        return re.sub("<[^>]+>", "", ex.reload_note.value)

    loaded = frame.filter(pl.col("created_at") >= datetime(2025, 6, 1, tzinfo=UTC))
    with explore(
        loaded, loader=loader, since="2025-06-01", until="2025-09-01", renderer="svg", debounce=0
    ) as ex:
        ex.panel.controls["since"].value = date(2025, 3, 1)
        said = "(since 2025-03-01 00:00 UTC, until 2025-09-01 00:00 UTC exclusive)"
        assert note().endswith(f"{said}.")
        ex.reload()
        assert calls[-1] == (datetime(2025, 3, 1, tzinfo=UTC), datetime(2025, 9, 1, tzinfo=UTC))
    # Without a loaded range, the last row's moment (plus 1 µs) ends it, to the microsecond.
    last = loaded["created_at"].max()
    assert isinstance(last, datetime)
    with explore(loaded, loader=loader, renderer="svg", debounce=0) as ex:
        ex.panel.controls["since"].value = date(2025, 3, 1)
        ex.reload()
        until = calls[-1][1]
        assert until == last + timedelta(microseconds=1)
        ex.panel.controls["since"].value = date(2025, 1, 1)
        stamp = until.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        assert note().endswith(f"(since 2025-01-01 00:00 UTC, until {stamp} UTC exclusive).")


# --- found by mutation testing (session 24) -------------------------------------------------


def test_the_date_pickers_take_whole_utc_days_to_the_microsecond(frame: pl.DataFrame) -> None:
    edges = [
        datetime(2025, 5, 31, 23, 59, 59, 999_999, tzinfo=UTC),
        datetime(2025, 6, 1, tzinfo=UTC),
        datetime(2025, 6, 30, 23, 59, 59, 999_999, tzinfo=UTC),
        datetime(2025, 7, 1, tzinfo=UTC),
    ]
    rows = frame.head(len(edges)).with_columns(
        created_at=pl.Series(edges, dtype=frame.schema["created_at"])
    )
    with FilterPanel(rows, debounce=0) as panel:
        panel.controls["since"].value = date(2025, 6, 1)
        panel.controls["until"].value = date(2025, 6, 30)
        assert panel.filtered["created_at"].to_list() == edges[1:3]


def test_an_untouched_size_slider_keeps_empty_files(frame: pl.DataFrame) -> None:
    # Its ends are open until moved: a 0-byte file lies below the lowest end (10**0 bytes).
    rows = frame.head(3).with_columns(size_bytes=pl.Series([0, 1_000, 10**6], dtype=pl.Int64))
    with FilterPanel(rows, debounce=0) as panel:
        assert panel.filtered["size_bytes"].to_list() == [0, 1_000, 10**6]
        size = panel.controls["size"]
        size.value = (size.min, 4.0)  # only the top end moved: the low end stays open
        assert panel.filtered["size_bytes"].to_list() == [0, 1_000]


def test_a_search_is_plain_text_and_said_by_describe(frame: pl.DataFrame) -> None:
    names = ["room.1", "room 1 (old)", "roomX1", None]
    rows = frame.head(len(names)).with_columns(
        group_name=pl.Series(names, dtype=pl.String), track_name=pl.lit("mic")
    )
    with FilterPanel(rows, debounce=0) as panel:
        panel.controls["search"].value = "room.1"  # a dot is a dot, not any character
        assert panel.filtered["group_name"].to_list() == ["room.1"]
        assert panel.describe() == "search 'room.1'"
        panel.controls["search"].value = "1 (old"  # not a broken regular expression
        assert panel.filtered["group_name"].to_list() == ["room 1 (old)"]


def test_a_box_unticked_before_a_reload_without_unknowns_is_ticked_again(
    frame: pl.DataFrame,
) -> None:
    # Hidden and unticked, it kept saying "those without a size left out" (and would leave
    # out the unknown sizes of a later reload, with no box on screen to tick).
    with FilterPanel(frame, debounce=0) as panel:
        box = panel.controls["size_unknown"]
        box.value = False
        panel.set_source(frame.filter(pl.col("size_bytes").is_not_null()))
        assert box.layout.display == "none" and box.value is True
        assert panel.describe() == "no filter"
        panel.set_source(frame)
        assert panel.filtered.height == frame.height


def test_a_selection_gone_from_reloaded_data_is_dropped(frame: pl.DataFrame) -> None:
    with FilterPanel(frame, debounce=0) as panel:
        panel.controls["provider"].value = ("zoom", "twilio")
        panel.set_source(frame.filter(pl.col("provider") != "zoom"))
        assert panel.controls["provider"].value == ("twilio",)
        assert set(panel.filtered["provider"].cast(pl.String)) == {"twilio"}


def test_a_reset_while_a_slider_waits_is_one_update_and_leaves_none_waiting(
    frame: pl.DataFrame,
) -> None:
    # Inside hold() (reset is one) a slider's change waits for the hold, not for a timer: a
    # second update came a debounce later, after the reset had been shown.
    with FilterPanel(frame, debounce=60) as panel:
        calls: list[int] = []
        panel.on_change(lambda p: calls.append(p.filtered.height))
        slider = panel.controls["duration"]
        slider.value = (1.0, slider.max)  # leading edge: applied at once
        panel.reset()
        assert calls[-1] == frame.height and len(calls) == 2
        panel.flush()  # nothing waits
        assert len(calls) == 2


def test_closing_a_panel_ends_its_waiting_slider_timer(frame: pl.DataFrame) -> None:
    panel = FilterPanel(frame, debounce=60)
    slider = panel.controls["duration"]
    slider.value = (1.0, slider.max)
    slider.value = (2.0, slider.max)  # waits 60 s for the drag to end
    waiting = [t for t in threading.enumerate() if getattr(t, "function", None) == panel._trailing]
    assert len(waiting) == 1
    panel.close()
    waiting[0].join(timeout=1)
    assert not waiting[0].is_alive()


def test_option_labels_stay_distinct_past_two_clashes() -> None:
    options = category_options([("unknown", 1), ("unknown (no value)", 2), (None, 3)])
    labels = [label.rsplit(" (", 1)[0] for label, _ in options]
    assert len(set(labels)) == 3, options
    assert options[2] == ("unknown (no value) (no value) (3)", None)


def test_a_closed_chart_view_draws_nothing_more(frame: pl.DataFrame) -> None:
    view = ChartView(renderer="svg")
    view.close()
    with pytest.raises(ra.RecanalyticsError, match="closed"):
        view.show(ra.charts.status_chart(frame.head(5)))  # type: ignore[attr-defined]
    assert view.widget.children == () and view.spec is None


def test_an_explorer_s_loaded_range_may_not_be_empty(frame: pl.DataFrame) -> None:
    with pytest.raises(ra.ConfigError, match="until"):
        explore(frame, since="2025-06-01", until="2025-06-01", renderer="svg")


def test_pickers_on_the_loaded_range_s_own_ends_need_no_reload(frame: pl.DataFrame) -> None:
    def loader(*, since: datetime | None, until: datetime | None) -> pl.DataFrame:
        raise AssertionError("not to be called")

    loaded = frame.filter(
        pl.col("created_at").is_between(
            datetime(2025, 3, 1, tzinfo=UTC), datetime(2025, 7, 1, tzinfo=UTC), closed="left"
        )
    ).head(100)
    with explore(
        loaded, loader=loader, since="2025-03-01", until="2025-07-01", renderer="svg", debounce=0
    ) as ex:
        ex.panel.controls["since"].value = date(2025, 3, 1)  # the loaded first day
        ex.panel.controls["until"].value = date(2025, 6, 30)  # the loaded last day, whole
        assert not ex.needs_reload() and ex.reload_button.disabled
        ex.panel.controls["until"].value = date(2025, 7, 1)  # a day past it
        assert ex.needs_reload()


def test_the_preview_shows_as_many_rows_as_asked(frame: pl.DataFrame) -> None:
    with Explorer(frame.head(50), renderer="svg", debounce=0, preview_rows=5) as ex:
        assert ex.preview.value.count("<tr>") == 6  # the header and 5 rows


def test_a_blank_export_box_exports_to_the_default_name(
    frame: pl.DataFrame, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with Explorer(frame.head(50), renderer="svg", debounce=0) as ex:
        ex.export_path.value = ""
        ex.csv_button.click()
        assert ex.errors.last is None
        assert (tmp_path / "recanalytics-filtered.csv").is_file()


def test_close_lets_go_of_the_frames_an_error_s_traceback_held(frame: pl.DataFrame) -> None:
    def broken(df: pl.DataFrame, every: str) -> Any:
        raise RuntimeError("chart exploded")

    ex = Explorer(frame.head(50), renderer="svg", debounce=0, tabs={"Broken": broken})
    assert isinstance(ex.errors.last, RuntimeError)
    source = weakref.ref(ex.panel.source)
    ex.close()
    gc.collect()
    assert source() is None
