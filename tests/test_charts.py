"""Charts: aggregated in polars, small specs at any row count, shared colours, offline export."""

from __future__ import annotations

import functools
import json
import math
import re
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import altair as alt
import polars as pl
import pytest
import zoned
from synthetic import synthetic_frame

import recanalytics as ra
from recanalytics import charts
from recanalytics.charts._base import HEIGHT
from recanalytics.helpers.sizes import SIZE_UNITS, is_deleted

MAX_SPEC_BYTES = 200_000

CHARTS: dict[str, Callable[..., Any]] = {
    "storage_chart": charts.storage_chart,
    "volume_chart": charts.volume_chart,
    "codec_mix_chart": charts.codec_mix_chart,
    "cost_chart": charts.cost_chart,
    "overview_chart": charts.overview_chart,
    "duration_histogram": charts.duration_histogram,
    "duration_boxplot": charts.duration_boxplot,
    "status_chart": charts.status_chart,
    "size_duration_chart": charts.size_duration_chart,
    "top_groups_chart": charts.top_groups_chart,
}


@pytest.fixture(scope="module")
def frame() -> pl.DataFrame:
    return synthetic_frame(5_000, seed=3)


@pytest.fixture(scope="module")
def million() -> pl.DataFrame:
    return synthetic_frame(1_000_000, seed=9)


@functools.cache
def demo(size: int) -> pl.DataFrame:
    """``ra.demo(size=size)``, loaded once per size: the charts only read it (a demo load
    through the sandbox took a second or two, and 34 tests here asked for one)."""
    return ra.demo(size=size)


def spec(chart: Any) -> dict[str, Any]:
    result: dict[str, Any] = chart.to_dict()
    return result


def values(view: dict[str, Any], top: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """The inline rows a view draws (altair lifts data shared by all views to the top)."""
    data = view.get("data") or (top or {}).get("data")
    assert data is not None and "values" in data
    rows: list[dict[str, Any]] = data["values"]
    return rows


def walk(node: Any) -> list[dict[str, Any]]:
    """Every dict in a spec, depth first."""
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        found.append(node)
        for value in node.values():
            found += walk(value)
    elif isinstance(node, list):
        for value in node:
            found += walk(value)
    return found


def provider_scales(chart_spec: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        d["scale"]
        for d in walk(chart_spec)
        if d.get("field") == "provider"
        and isinstance(d.get("scale"), dict)
        and "range" in d["scale"]
    ]


# --- size and scale -------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(CHARTS))
def test_spec_stays_small_on_a_million_rows(name: str, million: pl.DataFrame) -> None:
    text = json.dumps(spec(CHARTS[name](million)))
    assert len(text) <= MAX_SPEC_BYTES, (name, len(text))


@pytest.mark.parametrize("name", sorted(CHARTS))
def test_lazy_frames_and_ten_rows_work(name: str, frame: pl.DataFrame) -> None:
    small = frame.head(10)
    eager = spec(CHARTS[name](small))
    lazy = spec(CHARTS[name](small.lazy()))
    # Parameter names are numbered per process; compare everything else.
    assert json.dumps(eager).count('"values"') == json.dumps(lazy).count('"values"')
    assert len(json.dumps(eager)) <= MAX_SPEC_BYTES


@pytest.mark.parametrize("name", sorted(CHARTS))
def test_empty_frame_gives_a_note_not_an_exception(name: str) -> None:
    chart_spec = spec(CHARTS[name](ra.empty_frame()))
    assert chart_spec["mark"]["type"] == "text"
    assert "No recordings" in chart_spec["data"]["values"][0]["note"]


@pytest.mark.parametrize("name", sorted(CHARTS))
def test_single_provider_frame_keeps_the_provider_colour(name: str, frame: pl.DataFrame) -> None:
    twilio = frame.filter(pl.col("provider") == "twilio")
    scales = provider_scales(spec(CHARTS[name](twilio)))
    for scale in scales:
        assert scale["domain"] == ["twilio"]
        assert scale["range"] == [charts.PROVIDER_COLORS["twilio"]]


def test_every_provider_chart_uses_the_shared_scheme(frame: pl.DataFrame) -> None:
    seen = 0
    for name, make in CHARTS.items():
        for scale in provider_scales(spec(make(frame))):
            seen += 1
            assert scale["range"] == [charts.PROVIDER_COLORS[p] for p in scale["domain"]], name
            assert scale["domain"] == [p for p in ra.PROVIDERS if p in scale["domain"]], name
    assert seen >= 8


def test_data_never_goes_through_altairs_row_limit(frame: pl.DataFrame) -> None:
    with alt.data_transformers.enable("default", max_rows=1):
        for make in CHARTS.values():
            spec(make(frame))  # MaxRowsError would raise here


# --- aggregated values ----------------------------------------------------------------------


def test_storage_chart_ends_at_the_bytes_still_held(frame: pl.DataFrame) -> None:
    chart_spec = spec(charts.storage_chart(frame, every="1mo"))
    assert chart_spec["mark"]["type"] == "area"
    encoding = chart_spec["encoding"]
    assert encoding["y"]["field"] == "held" and encoding["y"]["stack"] == "zero"
    assert encoding["x"]["scale"]["type"] == "utc"
    assert encoding["color"]["field"] == "provider"
    rows = values(chart_spec)
    last = max(r["period"] for r in rows)
    unit = chart_spec["encoding"]["y"]["title"].split()[0]
    factor = dict(ra_units())[unit]
    held = sum(r["held"] for r in rows if r["period"] == last) * factor
    expected = frame.filter(~is_deleted())["size_bytes"].sum()
    assert math.isclose(held, expected, rel_tol=1e-4)
    assert any(p.get("bind") == "legend" for p in chart_spec["params"])


def ra_units() -> list[tuple[str, int]]:
    from recanalytics.helpers.sizes import SIZE_UNITS

    return list(SIZE_UNITS)


def test_volume_chart_counts_every_recording(frame: pl.DataFrame) -> None:
    chart_spec = spec(charts.volume_chart(frame, every="1mo"))
    top, bottom = chart_spec["vconcat"]
    assert top["mark"]["type"] == "bar" and bottom["mark"]["type"] == "bar"
    assert top["encoding"]["y"]["field"] == "recordings"
    assert bottom["encoding"]["y"]["field"] == "hours"
    rows = values(top, chart_spec)
    assert sum(r["recordings"] for r in rows) == frame.height
    hours = frame.select(ra.duration_hours().sum()).item()
    assert math.isclose(sum(r["hours"] for r in rows), hours, rel_tol=1e-3)
    # Bars span their period: the end is computed in the browser for standard intervals.
    assert top["transform"][0]["calculate"].startswith("utcOffset('month'")


def test_period_ends_for_other_intervals(frame: pl.DataFrame) -> None:
    ten_days = spec(charts.volume_chart(frame, every="10d"))["vconcat"][0]
    assert ten_days["transform"][0]["calculate"] == ("utcOffset('day', toDate(datum.period), 10)")
    # An interval the browser expression cannot express ships its period ends instead.
    chart_spec = spec(charts.volume_chart(frame.head(100), every="36h"))
    computed = [t.get("as") for t in chart_spec["vconcat"][0].get("transform", [])]
    assert "period_end" not in computed, computed
    assert all("period_end" in r for r in values(chart_spec["vconcat"][0], chart_spec))


def test_codec_mix_shares_add_up(frame: pl.DataFrame) -> None:
    chart_spec = spec(charts.codec_mix_chart(frame, every="1q"))
    assert chart_spec["encoding"]["y"]["stack"] == "normalize"
    rows = values(chart_spec)
    per_codec: dict[str, float] = {}
    for r in rows:
        per_codec[r["codec"]] = per_codec.get(r["codec"], 0) + r["value"]
    expected = dict(frame.group_by("codec").len().iter_rows())
    assert per_codec == {(k or "unknown"): float(v) for k, v in expected.items()}


def test_counts_and_the_decimals_tooltips_show_are_shipped_exactly() -> None:
    # Every float went out at 5 significant figures: 123,456 opus recordings in a month were
    # drawn, and their tooltip read, 123,460 (the mix counted in floats), and a period of
    # 12,345.6 hours read "12,346.0" (the tooltip shows one decimal).
    from recanalytics.schema import conform

    n = 123_457
    many = conform(
        pl.DataFrame(
            {
                "provider": "twilio",
                "recording_id": [f"RT{i}" for i in range(n)],
                "codec": ["opus"] * (n - 1) + ["vp8"],
                "created_at": datetime(2026, 3, 5, tzinfo=UTC),
                "duration": [timedelta(hours=12_345.6)] + [timedelta(0)] * (n - 1),
            }
        )
    ).collect()
    for normalize in (False, True):
        rows = values(spec(charts.codec_mix_chart(many, every="1mo", normalize=normalize)))
        counts = {r["codec"]: r["value"] for r in rows}
        assert counts == {"opus": 123_456, "vp8": 1}, counts
        assert all(isinstance(count, int) for count in counts.values()), counts
    overview = spec(charts.overview_chart(many, every="1mo"))
    mix = next(v for v in overview["vconcat"] if "Codec mix" in json.dumps(v.get("title")))
    assert {r["codec"]: r["value"] for r in values(mix, overview)} == counts
    volume = spec(charts.volume_chart(many, every="1mo"))
    (row,) = values(volume["vconcat"][1], volume)
    assert (row["recordings"], row["hours"]) == (n, 12_345.6), row


def test_codec_mix_folds_rare_values_into_other() -> None:
    many = synthetic_frame(2_000).with_columns(
        pl.format("c{}", pl.int_range(pl.len()) % 12).alias("codec")
    )
    rows = values(spec(charts.codec_mix_chart(many)))
    assert len({r["codec"] for r in rows}) == 9
    assert "other" in {r["codec"] for r in rows}


def test_container_mix_by_hours(frame: pl.DataFrame) -> None:
    chart_spec = spec(
        charts.codec_mix_chart(frame, column="container", metric="hours", normalize=False)
    )
    assert chart_spec["encoding"]["color"]["field"] == "container"
    assert chart_spec["encoding"]["y"]["stack"] == "zero"
    total = sum(r["value"] for r in values(chart_spec))
    assert math.isclose(total, frame.select(ra.duration_hours().sum()).item(), rel_tol=1e-3)


def test_duration_histogram_is_log_binned_and_counts_everything(frame: pl.DataFrame) -> None:
    chart_spec = spec(charts.duration_histogram(frame, bins_per_decade=4))
    assert chart_spec["encoding"]["x"]["scale"]["type"] == "log"
    rows = values(chart_spec)
    assert sum(r["recordings"] for r in rows) == frame.filter(pl.col("duration") > 0).height
    for r in rows:
        assert math.isclose(r["hi"] / r["lo"], 10**0.25, rel_tol=1e-3)
    assert "labelExpr" in chart_spec["encoding"]["x"]["axis"]


POWERS_OF_TEN = (1, 10, 100, 1000, 10_000, 100_000)
"""Whole seconds on a power of ten (Plivo and SignalWire state durations in whole seconds), to
be binned with each bin half-open, ``[lo, hi)``."""


def _timed_and_sized(seconds: list[float], sizes: list[int]) -> pl.DataFrame:
    from recanalytics.schema import conform

    return conform(
        pl.DataFrame(
            {
                "provider": "twilio",
                "recording_id": [f"RT{i}" for i in range(len(seconds))],
                "created_at": datetime(2026, 3, 5, tzinfo=UTC),
                "duration": [timedelta(seconds=s) for s in seconds],
                "size_bytes": sizes,
            }
        )
    ).collect()


@pytest.mark.parametrize("per_decade", [1, 5, 6, 20])
def test_a_value_on_a_power_of_ten_falls_in_the_bin_it_starts(per_decade: int) -> None:
    # polars' log10 of 1,000 is 2.9999999999999996: a 1,000 s call was drawn in the bin "from
    # 631 to 1000 s" (or [100, 1000) at one bin a decade), a 1,000,000-byte file in [1e5, 1e6).
    # A millisecond or a byte less stays in the bin below.
    seconds = [float(s) for s in POWERS_OF_TEN] + [s - 0.001 for s in POWERS_OF_TEN[1:]]
    sizes = [10 ** (i + 3) for i in range(len(POWERS_OF_TEN))] + [
        10 ** (i + 4) - 1 for i in range(5)
    ]
    rows = _timed_and_sized(seconds, sizes)
    for index, value in enumerate(seconds):
        one = rows[index : index + 1]
        (bin_,) = values(spec(charts.duration_histogram(one, bins_per_decade=per_decade)))
        assert bin_["lo"] <= value < bin_["hi"], (value, bin_)
    for index, (value, size) in enumerate(zip(seconds, sizes, strict=True)):
        one = rows[index : index + 1]
        (cell,) = values(
            spec(charts.size_duration_chart(one, bins_per_decade=per_decade))["layer"][0]
        )
        assert cell["d_lo"] <= value < cell["d_hi"], (value, cell)
        assert cell["s_lo"] <= size < cell["s_hi"], (size, cell)
    on_edges = rows.head(len(POWERS_OF_TEN))
    # Every power of ten starts its bin: the histogram's bins start there.
    starts = {
        r["lo"]
        for r in values(spec(charts.duration_histogram(on_edges, bins_per_decade=per_decade)))
    }
    assert starts == {float(s) for s in POWERS_OF_TEN}, starts


def test_duration_histogram_notes_zero_durations(frame: pl.DataFrame) -> None:
    zeroed = frame.with_columns(
        pl.when(pl.int_range(pl.len()) < 7)
        .then(pl.duration(milliseconds=0))
        .otherwise("duration")
        .alias("duration")
    )
    chart_spec = spec(charts.duration_histogram(zeroed))
    assert "7 recordings with no or zero duration" in chart_spec["title"]["subtitle"]


def test_boxplot_quartiles_are_computed_in_polars(frame: pl.DataFrame) -> None:
    chart_spec = spec(charts.duration_boxplot(frame, by="provider"))
    assert [layer["mark"]["type"] for layer in chart_spec["layer"]] == ["rule", "bar", "tick"]
    rows = values(chart_spec)
    assert len(rows) == frame["provider"].n_unique()  # one row per box, no raw rows
    twilio = next(r for r in rows if r["provider"] == "twilio")
    seconds = frame.filter(pl.col("provider") == "twilio").select(ra.duration_seconds())
    assert math.isclose(twilio["median"], seconds.to_series().median(), rel_tol=1e-4)  # type: ignore[arg-type]
    assert twilio["whisker_lo"] <= twilio["q1"] <= twilio["median"] <= twilio["q3"]
    assert twilio["q3"] <= twilio["whisker_hi"] <= twilio["max"]


def five_plivo_calls() -> pl.DataFrame:
    """September to November 2025: one call of 0 s, then 30, 60, 90 and 120 s."""
    from recanalytics.schema import conform

    months_and_seconds = [(9, 0), (10, 30), (10, 60), (11, 90), (11, 120)]
    rows = [
        {
            "provider": "plivo",
            "kind": "call",
            "recording_id": f"p{i}",
            "status": "completed",
            "created_at": datetime(2025, month, 10, tzinfo=UTC),
            "duration": timedelta(seconds=seconds),
        }
        for i, (month, seconds) in enumerate(months_and_seconds)
    ]
    return conform(pl.DataFrame(rows)).collect()


def test_the_boxplot_leaves_a_zero_duration_off_its_log_axis() -> None:
    """A 0 s call has no place on a log axis: it is left out of the box (and said in the
    subtitle), not drawn as a whisker at 0."""
    chart_spec = spec(charts.duration_boxplot(five_plivo_calls()))
    (box,) = values(chart_spec)
    assert box["recordings"] == 4 and box["min"] == box["whisker_lo"] == 30.0
    assert chart_spec["title"]["subtitle"] == "1 recording with no or zero duration not shown"


def test_the_volume_chart_keeps_its_last_period() -> None:
    chart_spec = spec(charts.volume_chart(five_plivo_calls(), every="1mo"))
    rows = values(chart_spec["vconcat"][0], chart_spec)
    assert [(r["period"][:10], r["recordings"]) for r in rows] == [
        ("2025-09-01", 1),
        ("2025-10-01", 2),
        ("2025-11-01", 2),
    ]


def test_status_chart_shares_and_subtitle(frame: pl.DataFrame) -> None:
    chart_spec = spec(charts.status_chart(frame))
    assert chart_spec["encoding"]["x"]["stack"] == "normalize"
    assert chart_spec["encoding"]["color"]["field"] == "status"
    assert (
        chart_spec["encoding"]["color"]["scale"]["range"][
            chart_spec["encoding"]["color"]["scale"]["domain"].index("failed")
        ]
        == charts.STATUS_COLORS["failed"]
    )
    rows = values(chart_spec)
    for provider in {r["provider"] for r in rows}:
        total = sum(r["share"] for r in rows if r["provider"] == provider)
        assert math.isclose(total, 1.0, rel_tol=1e-4)  # shares ship at 5 significant digits
    failed = frame.filter(pl.col("status") == "failed").height / frame.height
    assert f"failed {100 * failed:.1f} %" in chart_spec["title"]["subtitle"]


def test_size_duration_is_binned_with_bitrate_guides(frame: pl.DataFrame) -> None:
    chart_spec = spec(charts.size_duration_chart(frame))
    heat, lines, labels = chart_spec["layer"]
    assert heat["mark"]["type"] == "rect" and lines["mark"]["type"] == "line"
    assert heat["encoding"]["x"]["scale"]["type"] == "log"
    usable = frame.filter(
        (pl.col("duration") > pl.duration(milliseconds=0)) & (pl.col("size_bytes") > 0)
    )
    assert sum(r["recordings"] for r in values(heat)) == usable.height
    for point in values(lines):  # constant bitrate: size = kbps · 125 · seconds
        assert math.isclose(point["size"], point["kbps"] * 125 * point["seconds"], rel_tol=1e-4)
    assert labels["mark"]["type"] == "text"
    skipped = frame.height - usable.height
    assert f"{skipped:,} recordings without size" in " ".join(chart_spec["title"]["subtitle"])


def test_top_groups_are_ranked(frame: pl.DataFrame) -> None:
    chart_spec = spec(charts.top_groups_chart(frame, metric="hours", n=5))
    rows = values(chart_spec)
    assert len(rows) == 5
    hours = [r["hours"] for r in rows]
    assert hours == sorted(hours, reverse=True)
    best = (
        frame.group_by("group_id", "provider")
        .agg(ra.duration_hours().sum().alias("h"))
        .sort("h", descending=True)
        .row(0, named=True)
    )
    assert rows[0]["group_id"] == best["group_id"]
    assert chart_spec["encoding"]["y"]["sort"] == [r["label"] for r in rows]


def test_top_groups_use_group_names_where_given(frame: pl.DataFrame) -> None:
    zoom = frame.filter(pl.col("provider") == "zoom")
    rows = values(spec(charts.top_groups_chart(zoom, metric="recordings", n=10)))
    assert len(rows) == 10
    assert all(r["label"] == r["group_id"].replace("ZO-", "room ") for r in rows)
    twilio = frame.filter(pl.col("provider") == "twilio")
    rows = values(spec(charts.top_groups_chart(twilio, metric="recordings", n=10)))
    assert all(r["label"] == r["group_id"] for r in rows)  # no name: the id


def test_cost_chart_ends_at_the_estimated_monthly_cost(frame: pl.DataFrame) -> None:
    chart_spec = spec(charts.cost_chart(frame, every="1mo", rates={"twilio": 0.04}))
    estimate, reported = chart_spec["vconcat"]
    rows = values(estimate)
    last = max(r["period"] for r in rows)
    at_end = sum(r["usd_per_month"] for r in rows if r["period"] == last)
    expected = ra.cost_summary(frame, by=None, rates={"twilio": 0.04})["estimated_monthly_cost"]
    assert math.isclose(at_end, expected.item(), rel_tol=1e-3)
    assert reported["mark"]["type"] == "line"
    assert math.isclose(
        sum(r["reported"] for r in values(reported)), frame["cost"].sum(), rel_tol=1e-3
    )


def test_cost_chart_without_reported_cost_is_one_panel(frame: pl.DataFrame) -> None:
    chart_spec = spec(charts.cost_chart(frame.with_columns(pl.lit(None, pl.Float64).alias("cost"))))
    assert chart_spec["mark"]["type"] == "bar"


def test_overview_links_views_with_a_legend_and_a_brush(frame: pl.DataFrame) -> None:
    chart_spec = spec(charts.overview_chart(frame))
    views = chart_spec["vconcat"]
    assert len(views) == 6
    params = chart_spec.get("params", []) + [p for v in views for p in v.get("params", [])]
    legend = [
        p for p in params if p.get("bind") == "legend" and p["select"]["fields"] == ["provider"]
    ]
    brush = [
        p for p in params if p["select"] == "interval" or p["select"].get("type") == "interval"
    ]
    assert len(legend) == 1 and len(brush) == 1
    brush_name = brush[0]["name"]
    domains = [v["encoding"]["x"]["scale"]["domain"]["expr"] for v in views]
    zoomed = [d for d in domains if d.startswith(f"{brush_name}.period || ")]
    assert len(zoomed) == 5  # hours, storage, codec mix and both cost panels follow the brush
    codec = views[3]
    assert {"filter": {"param": legend[0]["name"]}} in codec["transform"]


def test_overview_panels_share_one_time_extent(frame: pl.DataFrame) -> None:
    """Finding 2 of issue 15: every panel on one month axis, the last period drawn whole."""
    views = spec(charts.overview_chart(frame, every="1mo"))["vconcat"]
    extents = {v["encoding"]["x"]["scale"]["domain"]["expr"].split(" || ")[-1] for v in views}
    assert len(extents) == 1, extents
    lo, hi = json.loads(extents.pop())
    first = frame["created_at"].min().replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    assert lo == int(first.timestamp() * 1000)
    for view in views:
        rows = view["data"]["values"]
        x = view["encoding"]["x"]["field"]
        stamps = [
            datetime.fromisoformat(r[x].replace("Z", "+00:00")).replace(tzinfo=UTC).timestamp()
            for r in rows
        ]
        assert lo / 1000 <= min(stamps) and max(stamps) <= hi / 1000, view["title"]
        assert max(stamps) < hi / 1000 or (x == "period" and view["mark"]["type"] == "area")
    # The reported cost is drawn at mid-period, so its last point is inside the plot.
    assert views[-1]["encoding"]["x"]["field"] == "middle"
    # No panel's time scale is rounded out ("nice") beyond the data.
    assert all("nice" not in v["encoding"]["x"]["scale"] for v in views)


def test_charts_have_titles_tooltips_and_human_units(frame: pl.DataFrame) -> None:
    for name, make in CHARTS.items():
        chart_spec = spec(make(frame))
        text = json.dumps(chart_spec)
        assert '"title"' in text and '"tooltip"' in text, name
    storage = spec(charts.storage_chart(frame))
    assert storage["encoding"]["y"]["title"].endswith("iB held")


def test_bad_arguments_raise_config_errors(frame: pl.DataFrame) -> None:
    with pytest.raises(ra.ConfigError, match="metric"):
        charts.codec_mix_chart(frame, metric="minutes")  # type: ignore[arg-type]
    with pytest.raises(ra.ConfigError, match="bins_per_decade"):
        charts.duration_histogram(frame, bins_per_decade=0)
    with pytest.raises(ra.ConfigError, match="every"):
        charts.storage_chart(frame, every="fortnight")
    with pytest.raises(ra.ConfigError, match="size_bytes"):
        charts.storage_chart(frame.drop("size_bytes"))
    with pytest.raises(ra.ConfigError, match="n"):
        charts.top_groups_chart(frame, n=0)
    with pytest.raises(ra.ConfigError, match="df"):
        charts.status_chart([1, 2, 3])  # type: ignore[arg-type]


# --- export ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(CHARTS))
def test_every_chart_renders_to_png_offline(name: str, frame: pl.DataFrame) -> None:
    png = charts.chart_to_png(CHARTS[name](frame), scale=1)
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5_000


def test_empty_chart_renders(frame: pl.DataFrame) -> None:
    assert charts.chart_to_svg(charts.storage_chart(ra.empty_frame())).startswith("<svg")


def test_save_chart_formats(tmp_path: Path, frame: pl.DataFrame) -> None:
    chart = charts.status_chart(frame)
    assert charts.save_chart(chart, tmp_path / "s.png").read_bytes()[:4] == b"\x89PNG"
    assert "<svg" in charts.save_chart(chart, tmp_path / "s.svg").read_text()
    assert charts.save_chart(chart, tmp_path / "s.pdf").read_bytes()[:4] == b"%PDF"
    assert json.loads(charts.save_chart(chart, tmp_path / "s.json").read_text())["mark"]
    page = charts.save_chart(chart, tmp_path / "s.html").read_text()
    assert "<script src" not in page and "vegaEmbed" in page
    assert charts.save_chart(chart, tmp_path / "noext", format="svg").exists()
    with pytest.raises(ra.ConfigError, match="format"):
        charts.save_chart(chart, tmp_path / "s.gif")


VEGAFUSION_UNRESOLVED = ("LN10",)
"""Vega expression constants VegaFusion 2 cannot resolve ("Failed to resolve variable"): a
chart using one does not display under altair's "vegafusion" data transformer. The other
constants (E, LN2, LOG2E, LOG10E, PI, SQRT1_2, SQRT2, MIN_VALUE, MAX_VALUE, NaN) resolve;
tests/test_vegafusion.py displays every chart under VegaFusion where it is installed."""


@pytest.mark.parametrize("name", sorted(CHARTS))
def test_no_chart_uses_a_vega_constant_vegafusion_cannot_resolve(
    name: str, frame: pl.DataFrame
) -> None:
    chart_spec = spec(CHARTS[name](frame))
    for node in walk(chart_spec):
        node = {k: v for k, v in node.items() if k not in ("values", "datasets")}
        for text in (v for v in node.values() if isinstance(v, str)):
            found = [c for c in VEGAFUSION_UNRESOLVED if re.search(rf"\b{c}\b", text)]
            assert not found, (found, text)


def _contrast(first: str, second: str) -> float:
    """WCAG contrast ratio of two #RRGGBB colours."""

    def luminance(colour: str) -> float:
        channels = [int(colour.lstrip("#")[i : i + 2], 16) / 255 for i in (0, 2, 4)]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    low, high = sorted([luminance(first), luminance(second)])
    return (high + 0.05) / (low + 0.05)


def test_notes_and_guides_read_on_light_and_dark_backgrounds(frame: pl.DataFrame) -> None:
    # Under altair's "dark" theme (a #333 background) the notes ("no sizes: …", "No recordings
    # to show.") in #666666 and the bitrate guides in #555555 all but vanished.
    plivo = frame.filter(pl.col("provider") == "plivo")
    notes = [
        spec(charts.status_chart(ra.empty_frame()))["mark"]["color"],
        spec(charts.storage_chart(plivo))["mark"]["color"],
    ]
    layers = spec(charts.size_duration_chart(frame))["layer"]
    guides = [
        layer["mark"]["color"] for layer in layers if layer["mark"]["type"] in ("line", "text")
    ]
    assert len(guides) == 2
    backgrounds = {"white": "#FFFFFF", "altair's dark theme": "#333333", "Carbon g100": "#161616"}
    for colour in [*notes, *guides]:
        for where, background in backgrounds.items():
            assert _contrast(colour, background) >= 3, (colour, where)


def test_export_without_vl_convert_names_the_install(
    monkeypatch: pytest.MonkeyPatch, frame: pl.DataFrame
) -> None:
    monkeypatch.setitem(sys.modules, "vl_convert", None)
    with pytest.raises(ImportError, match="pip install vl-convert-python"):
        charts.chart_to_png(charts.status_chart(frame))


# --- issue 15: colours, legends, axes and labels that read right --------------------------------


def _status_colours(chart_spec: dict[str, Any]) -> dict[str, str]:
    scale = chart_spec["encoding"]["color"]["scale"]
    return dict(zip(scale["domain"], scale["range"], strict=True))


def test_a_missing_status_is_neutral_grey_and_statuses_differ(frame: pl.DataFrame) -> None:
    statuses = ["completed", "enqueued", "processing", "in-progress", "deleted", "failed", None]
    rows = frame.head(len(statuses) * 20).with_columns(
        pl.Series("status", statuses * 20, dtype=pl.String)
    )
    colours = _status_colours(spec(charts.status_chart(rows)))
    grey = colours["unknown"].lstrip("#")
    red, green, blue = (int(grey[i : i + 2], 16) for i in (0, 2, 4))
    assert red == green == blue, f"unknown must be a neutral grey, not {colours['unknown']}"
    assert list(colours)[-1] == "unknown"  # listed last, after the real statuses
    assert len(set(colours.values())) == len(colours), (
        colours
    )  # distinct statuses, distinct colours
    warm = {charts.STATUS_COLORS["failed"], charts.STATUS_COLORS["absent"]}
    assert colours["unknown"] not in warm


def test_every_value_a_legend_shows_has_its_own_colour(frame: pl.DataFrame) -> None:
    # A fifth status without a colour of its own, and every provider outside the four, took
    # the grey of "other": "queued" and "uploading" (or Vonage and Telnyx) read as one.
    from recanalytics.charts._base import color_scale

    other_grey = "#BAB0AC"

    statuses = ["completed", "processing", "paused", "queued", "uploading", "archived"]
    statuses += ["expired", "error", "stopped"]
    rows = frame.head(len(statuses) * 20).with_columns(
        pl.Series("status", statuses * 20, dtype=pl.String)
    )
    colours = _status_colours(spec(charts.status_chart(rows)))
    assert set(colours) == set(statuses)
    assert len(set(colours.values())) == len(colours) and other_grey not in colours.values()
    assert colours["completed"] == charts.STATUS_COLORS["completed"]
    more = rows.with_columns(pl.format("st{}", pl.int_range(pl.len()) % 12).alias("status"))
    folded = _status_colours(spec(charts.status_chart(more)))
    assert folded["other"] == other_grey and len(set(folded.values())) == len(folded) == 9
    providers = ["twilio", "vonage", "telnyx", "bandwidth", "zoom", "sinch"]
    many = frame.head(600).with_columns(
        pl.Series("provider", providers * 100, dtype=pl.String).alias("provider")
    )
    for make in (charts.storage_chart, charts.volume_chart, charts.duration_boxplot):
        for scale in provider_scales(spec(make(many))):
            given = dict(zip(scale["domain"], scale["range"], strict=True))
            assert set(given) == set(providers), given
            assert given["twilio"] == charts.PROVIDER_COLORS["twilio"]
            assert len(set(given.values())) == len(given) and other_grey not in given.values()
    # However many values a scale is given, each keeps its own colour.
    for column in ("provider", "status", "codec"):
        domain = [f"v{i}" for i in range(40)] + ["unknown", "other"]
        palette = color_scale(column, domain).range
        assert len(set(palette)) == len(domain), column


def test_legends_list_only_values_the_chart_draws(frame: pl.DataFrame) -> None:
    twilio = frame.filter(pl.col("provider") == "twilio")
    for view in spec(charts.overview_chart(twilio))["vconcat"]:
        scale = view["encoding"]["color"]["scale"]
        if view["encoding"]["color"]["field"] == "provider":
            assert scale["domain"] == ["twilio"], view["title"]
    # Plivo and SignalWire give no sizes: the storage legend does not list them.
    storage = spec(charts.storage_chart(frame))
    drawn = {r["provider"] for r in values(storage) if r["held"]}
    assert set(storage["encoding"]["color"]["scale"]["domain"]) == drawn


def test_count_axes_tick_whole_numbers_and_round_up(frame: pl.DataFrame) -> None:
    recordings, hours = spec(charts.volume_chart(frame))["vconcat"]
    for view in (recordings, hours):
        y = view["encoding"]["y"]
        assert y["axis"]["tickMinStep"] == 1 and y["axis"]["format"] == ",d"
        # Rounded out to the steps the axis labels, so the top of the scale carries a label.
        assert y["scale"]["nice"] == y["axis"]["tickCount"] >= 3
    views = spec(charts.overview_chart(frame))["vconcat"]
    extents = {
        (v["encoding"]["y"]["axis"]["minExtent"], v["encoding"]["y"]["axis"]["maxExtent"])
        for v in views
    }
    assert len(extents) == 1  # every panel's plot area starts at the same x


def test_the_y_scale_top_is_a_label_above_the_peak(frame: pl.DataFrame) -> None:
    """A 247 GiB peak had its last label at 200; now the scale ends on a label above it."""
    import vl_convert

    from recanalytics.charts.export import vegalite_version

    chart = charts.storage_chart(frame, every="1mo")
    vega = vl_convert.vegalite_to_vega(chart.to_dict(), vl_version=vegalite_version())
    svg = charts.chart_to_svg(chart)
    labels = [
        float(t.replace(",", ""))
        for t in re.findall(r'text-anchor="end"[^>]*>([\d,.]+)</text>', svg)
    ]
    peak = max(
        sum(r["held"] for r in values(spec(chart)) if r["period"] == p)
        for p in {r["period"] for r in values(spec(chart))}
    )
    assert vega and labels and max(labels) >= peak, (labels, peak)


def test_long_group_ids_get_short_labels_and_whole_tooltips(frame: pl.DataFrame) -> None:
    sid = "RM" + "0123456789abcdef" * 2
    rows = (
        frame.filter(pl.col("provider") == "twilio")
        .head(50)
        .with_columns(pl.lit(sid).alias("group_id"), pl.lit(None, pl.String).alias("group_name"))
    )
    chart_spec = spec(charts.top_groups_chart(rows, metric="recordings"))
    (row,) = values(chart_spec)
    assert len(row["label"]) <= 17 and row["label"].startswith("RM0123") and "…" in row["label"]
    assert row["group_id"] == sid
    tooltips = {t["field"] for t in chart_spec["encoding"]["tooltip"]}
    assert {"group_id", "name"} <= tooltips


def test_top_groups_by_the_column_it_ranks_draws_one_bar_per_value() -> None:
    # group="provider" with the default by="provider" was a polars DuplicateError.
    df = demo(100)
    values = charts.top_groups_chart(df, group="provider").to_dict()["data"]["values"]
    names = [v["name"] for v in values]
    assert names and len(names) == len(set(names))
    assert set(names) <= {"twilio", "plivo", "zoom", "signalwire"}


# --- grouping columns -----------------------------------------------------------------------

UNGROUPABLE = [
    ("duration_histogram", "by", "duration"),
    ("duration_boxplot", "by", "duration"),
    ("status_chart", "by", "duration"),
    ("codec_mix_chart", "column", "duration"),
    ("codec_mix_chart", "column", "created_at"),
    ("top_groups_chart", "group", "duration"),
    ("top_groups_chart", "by", "duration"),
    ("top_groups_chart", "by", "size_bytes"),
    ("storage_chart", "by", "duration"),
    ("volume_chart", "by", "bitrate_kbps"),
    ("cost_chart", "by", "size_bytes"),
    ("overview_chart", "by", "channels"),
]


@pytest.mark.parametrize(("name", "parameter", "column"), UNGROUPABLE)
def test_a_grouping_argument_naming_a_measure_is_a_config_error_naming_it(
    name: str, parameter: str, column: str, frame: pl.DataFrame
) -> None:
    # These were raw polars errors, or a ConfigError blaming df for the chart's own cast.
    with pytest.raises(ra.ConfigError) as caught:
        CHARTS[name](frame.head(50), **{parameter: column})
    assert caught.value.parameter == parameter
    assert caught.value.value == column
    assert "text column" in str(caught.value) and "'provider'" in str(caught.value)


def test_status_chart_refuses_to_group_by_status(frame: pl.DataFrame) -> None:
    with pytest.raises(ra.ConfigError, match="other than status") as caught:
        charts.status_chart(frame.head(50), by="status")
    assert caught.value.parameter == "by"


def test_text_columns_a_chart_also_uses_group_it(frame: pl.DataFrame) -> None:
    # overview by codec and cost by cost_unit were polars duplicate-name errors.
    overview = spec(charts.overview_chart(frame, by="codec"))
    mix = next(v for v in overview["vconcat"] if v["encoding"]["color"]["field"] == "codec")
    assert not any("filter" in t for t in mix.get("transform", []))  # highlighted, not filtered
    cost = spec(charts.cost_chart(frame, by="cost_unit"))
    reported = values(cost["vconcat"][1], cost)
    assert {r["cost_unit"] for r in reported} == set(frame["cost_unit"].drop_nulls())
    # A boolean column groups too.
    flagged = frame.with_columns((pl.col("channels") > 1).alias("stereo"))
    rows = values(spec(charts.duration_histogram(flagged, by="stereo")))
    assert {r["stereo"] for r in rows} <= {"true", "false", "unknown"}


def test_top_groups_coloured_by_group_name_keep_ids_for_nameless_groups(
    frame: pl.DataFrame,
) -> None:
    nameless = frame.with_columns(pl.lit(None, pl.String).alias("group_name"))
    rows = values(spec(charts.top_groups_chart(nameless, by="group_name", n=5)))
    assert rows and all(r["name"] == r["group_id"] for r in rows)


def test_status_chart_folds_rare_statuses_so_its_spec_is_bounded(frame: pl.DataFrame) -> None:
    def distinct(n: int) -> pl.DataFrame:
        rows = pl.concat([frame] * (n // frame.height + 1)).head(n)
        return rows.with_columns(pl.format("st{}", pl.int_range(pl.len())).alias("status"))

    small, large = distinct(1_000), distinct(100_000)
    sizes = [len(json.dumps(spec(charts.status_chart(df)))) for df in (small, large)]
    assert sizes[1] <= 1.5 * sizes[0], sizes  # was 100 times larger: one row per status
    chart_spec = spec(charts.status_chart(large))
    rows = values(chart_spec)
    assert len({r["status"] for r in rows}) == 9
    assert chart_spec["encoding"]["color"]["scale"]["domain"][-1] == "other"
    assert sum(r["recordings"] for r in rows) == large.height
    for provider in {r["provider"] for r in rows}:
        total = sum(r["share"] for r in rows if r["provider"] == provider)
        assert math.isclose(total, 1.0, rel_tol=1e-4)


# Every builder with a by= and what its groups add up to: (spec, row) -> the row's measure.
_UNITS = {name: factor for name, factor in SIZE_UNITS}


def _unit_factor(text: str) -> int:
    """The bytes in the binary unit a title or axis title names ("GiB held" -> 2**30)."""
    return next(f for name, f in _UNITS.items() if re.search(rf"\b{name}\b", text))


def _held(chart_spec: dict[str, Any]) -> float:
    factor = _unit_factor(chart_spec["encoding"]["y"]["title"])
    return sum(r["held"] for r in values(chart_spec)) * factor


def _panel(index: int, field: str) -> Callable[[dict[str, Any]], float]:
    def total(chart_spec: dict[str, Any]) -> float:
        view = chart_spec["vconcat"][index]
        return float(sum(r[field] for r in values(view, chart_spec)))

    return total


def _rows(field: str) -> Callable[[dict[str, Any]], float]:
    return lambda chart_spec: float(sum(r[field] for r in values(chart_spec)))


def _boxes(chart_spec: dict[str, Any]) -> float:
    return float(sum(r["recordings"] for r in values(chart_spec["layer"][0], chart_spec)))


GROUPED: dict[str, tuple[str, list[Callable[[dict[str, Any]], float]]]] = {
    "storage_chart": ("by", [_held]),
    "volume_chart": ("by", [_panel(0, "recordings"), _panel(0, "hours")]),
    "overview_chart": ("by", [_panel(0, "recordings"), _panel(3, "value")]),
    "cost_chart": ("by", [_panel(0, "usd_per_month"), _panel(1, "reported")]),
    "duration_histogram": ("by", [_rows("recordings"), _rows("hours")]),
    "duration_boxplot": ("by", [_boxes]),
    "status_chart": ("by", [_rows("recordings")]),
    "top_groups_chart": ("by", [_rows("size"), _rows("recordings"), _rows("hours")]),
}
"""size_duration_chart has no grouping argument; codec_mix_chart's column= is tested above."""


@pytest.fixture(scope="module")
def by_rows() -> dict[int, pl.DataFrame]:
    return {n: synthetic_frame(n, seed=5) for n in (1_000, 100_000)}


@pytest.mark.parametrize("name", sorted(GROUPED))
def test_a_high_cardinality_by_is_folded_into_other_and_keeps_totals(
    name: str, by_rows: dict[int, pl.DataFrame]
) -> None:
    # by="recording_id" drew one series, bar or box per recording: the spec grew with the rows.
    parameter, measures = GROUPED[name]
    make = CHARTS[name]
    small, large = by_rows[1_000], by_rows[100_000]
    sizes = [
        len(json.dumps(spec(make(df, **{parameter: "recording_id"})))) for df in (small, large)
    ]
    assert sizes[1] <= 1.5 * sizes[0], sizes
    folded = spec(make(large, **{parameter: "recording_id"}))
    domains = [
        d["scale"]["domain"] if isinstance(d.get("scale"), dict) else d["sort"]
        for d in walk(folded)
        if d.get("field") == "recording_id"
        and (isinstance(d.get("scale"), dict) or isinstance(d.get("sort"), list))
    ]
    assert domains, "the chart colours or sorts by the grouping column"
    for domain in domains:
        assert len(domain) <= 9 and domain[-1] == "other", domain
    # Folding renames rows, never drops them: every measure adds up to the ungrouped total.
    plain = spec(make(large))
    for measure in measures:
        assert math.isclose(measure(folded), measure(plain), rel_tol=1e-3), (measure, name)


NAMED_OTHER = ["other"] * 8 + [f"AC{i:02d}" for i in range(11) for _ in range(3)]
"""Twelve accounts, one of them named "other" and the largest: 8 are drawn, 4 folded."""


def _with_an_account_named_other(frame: pl.DataFrame) -> pl.DataFrame:
    rows = frame.filter(
        (pl.col("provider") == "twilio")
        & (pl.col("status") == "completed")
        & pl.col("created_at").is_not_null()
        & pl.col("deleted_at").is_null()
        & (pl.col("duration") > pl.duration())
        & pl.col("size_bytes").is_not_null()
    ).head(len(NAMED_OTHER))
    assert rows.height == len(NAMED_OTHER)
    named = pl.Series("account_id", NAMED_OTHER)
    largest = named == "other"  # first by any measure: recordings, bytes, hours, run-rate
    return rows.with_columns(
        named,
        pl.when(largest)
        .then(10**9)
        .otherwise(10**6)
        .cast(rows.schema["size_bytes"])
        .alias("size_bytes"),
        pl.when(largest)
        .then(pl.duration(hours=1))
        .otherwise(pl.duration(minutes=1))
        .cast(rows.schema["duration"])
        .alias("duration"),
    )


@pytest.mark.parametrize("name", sorted([*GROUPED, "codec_mix_chart"]))
def test_a_value_named_other_is_never_merged_with_the_folded_rest(
    name: str, frame: pl.DataFrame
) -> None:
    # An account named "other" among twelve: the chart's one "other" held its 8 recordings and
    # the 12 of the four folded accounts together, and named only 7 accounts.
    rows = _with_an_account_named_other(frame)
    if name == "codec_mix_chart":
        arguments: dict[str, Any] = {"column": "account_id"}
    elif name == "top_groups_chart":
        arguments = {"by": "account_id", "group": "recording_id", "n": 50}
    else:
        arguments = {"by": "account_id"}
    chart_spec = spec(CHARTS[name](rows, **arguments))
    grouped = [d for d in walk(chart_spec) if d.get("field") == "account_id"]
    domains = [d["scale"]["domain"] for d in grouped if isinstance(d.get("scale"), dict)]
    domains += [d["sort"] for d in grouped if isinstance(d.get("sort"), list)]
    assert domains, "the chart colours or sorts by account"
    for domain in domains:
        # The folded four under a name no account drawn holds, last; "other" is an account.
        assert len(domain) == 9 and domain[-1] == "(other)" and "other" in domain, domain
    for scale in (d["scale"] for d in grouped if isinstance(d.get("scale"), dict)):
        colours = dict(zip(scale["domain"], scale["range"], strict=True))
        assert colours["(other)"] == "#BAB0AC" != colours["other"], colours
    counted = next(
        (
            d["values"]
            for d in walk(chart_spec)
            if isinstance(d.get("values"), list)
            and isinstance(d["values"][0], dict)
            and {"account_id", "recordings"} <= set(d["values"][0])
        ),
        None,
    )
    if counted is not None:
        recordings: dict[str, int] = {}
        for row in counted:
            recordings[row["account_id"]] = recordings.get(row["account_id"], 0) + row["recordings"]
        assert recordings["other"] == 8 and recordings["(other)"] == 12, recordings


def test_the_folded_group_is_named_other_where_no_value_drawn_is() -> None:
    from recanalytics.charts._base import fold_label

    assert fold_label(pl.Series(["AC1", "AC2"])) == "other"
    assert fold_label(pl.Series(["other", "(other)", "AC2"])) == "((other))"
    # A value named "other" that is folded is one of the rest: the group keeps the name.
    statuses = pl.Series("status", [f"s{i}" for i in range(12) for _ in range(2)] + ["other"])
    rows = synthetic_frame(statuses.len(), seed=1).with_columns(statuses)
    domain = spec(charts.status_chart(rows))["encoding"]["color"]["scale"]["domain"]
    assert len(domain) == 9 and domain[-1] == "other" and "(other)" not in domain


def test_folded_groups_keep_the_largest_by_the_measure_shown(frame: pl.DataFrame) -> None:
    # Storage ranks groups by bytes: the eight recordings with the most bytes keep their ids.
    held = frame.filter(pl.col("created_at").is_not_null() & ~is_deleted().fill_null(False))
    chart_spec = spec(charts.storage_chart(held, by="recording_id", every="1q"))
    largest = held.sort("size_bytes", "recording_id", descending=[True, False], nulls_last=True)
    kept = set(chart_spec["encoding"]["color"]["scale"]["domain"]) - {"other"}
    assert kept == set(largest["recording_id"].head(8))
    # "other" is one box over the folded rows together, not a box per recording.
    boxes = values(spec(charts.duration_boxplot(frame, by="recording_id")))
    other = next(r for r in boxes if r["recording_id"] == "other")
    assert other["recordings"] == frame.filter(pl.col("duration") > pl.duration()).height - 8
    # The four providers are few enough to keep their own colours and legends.
    scales = provider_scales(spec(charts.overview_chart(frame)))
    assert scales and all("other" not in s["domain"] for s in scales)


def test_top_groups_rank_groups_by_their_totals_whatever_the_colour(
    frame: pl.DataFrame,
) -> None:
    by_kind = values(spec(charts.top_groups_chart(frame, metric="hours", n=5, by="kind")))
    hours: dict[str, float] = {}
    for r in by_kind:
        hours[r["group_id"]] = hours.get(r["group_id"], 0.0) + r["hours"]
    best = (
        frame.filter(pl.col("group_id").is_not_null())
        .group_by("group_id")
        .agg(ra.duration_hours().sum().alias("h"))
        .sort("h", "group_id", descending=[True, False])
        .head(5)
    )
    assert list(hours) == best["group_id"].to_list()
    for group_id, h in best.iter_rows():
        assert math.isclose(hours[group_id], h, rel_tol=1e-3)
    subtitle = spec(charts.top_groups_chart(frame, n=5))["title"]["subtitle"]
    lines = [subtitle] if isinstance(subtitle, str) else subtitle
    assert re.search(r"the other [\d,]+ groups hold [\d.]+ % of the size", lines[0])


@pytest.mark.parametrize("build", ["storage_chart", "volume_chart", "overview_chart"])
def test_a_fine_every_is_refused_before_any_period_is_laid_out(
    build: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # "1h" over a year and a half is 13,000 periods: the helpers zero-filled every one for
    # every group before the chart counted them and refused.
    import recanalytics.charts.time as time_charts

    def laid_out(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("periods were laid out before every was checked")

    monkeypatch.setattr(time_charts, "storage_growth", laid_out)
    monkeypatch.setattr(time_charts, "trend", laid_out)
    with pytest.raises(ra.ConfigError, match=r"every.*3200 periods"):
        getattr(charts, build)(demo(200), every="1h")


@pytest.mark.parametrize(
    "make",
    [
        charts.volume_chart,
        charts.storage_chart,
        charts.codec_mix_chart,
        charts.cost_chart,
        charts.overview_chart,
    ],
)
def test_time_charts_say_how_many_undated_recordings_they_leave_out(
    make: Callable[..., Any],
) -> None:
    # The load warned about unreadable dates; the charts (and the report) drew the rest with no
    # hint, so their totals read as the frame's.
    df = demo(200)
    assert df["created_at"].null_count() == 0
    undated = df.with_columns(
        created_at=pl.when(pl.int_range(pl.len()) < 7).then(None).otherwise(pl.col("created_at"))
    )
    note = "7 recordings without a creation time not shown"
    assert json.dumps(make(undated).to_dict()).count(note) == 1
    assert "without a creation time" not in json.dumps(make(df).to_dict())
    nothing = df.with_columns(created_at=pl.lit(None, dtype=df.schema["created_at"]))
    assert f"{df.height:,} recordings without a creation time" in json.dumps(
        make(nothing).to_dict()
    )


@pytest.mark.parametrize(
    ("make", "said"),
    [
        (charts.storage_chart, ["twilio: storage held too large to total"]),
        (charts.cost_chart, ["plivo: the reported cost too large to total"]),
        (
            charts.overview_chart,
            ["twilio: storage held too large", "plivo: the reported cost too large"],
        ),
    ],
)
def test_totals_too_large_to_compute_are_said_not_dropped(
    make: Callable[..., Any], said: list[str]
) -> None:
    # Sums past Int64 are null (never wrapped), and 1e308 + 1e308 is inf: the storage panel
    # dropped Twilio altogether and the cost panel Plivo's reported cost, with no word.
    df = demo(200).with_columns(
        size_bytes=pl.when(pl.col("provider") == "twilio")
        .then(pl.lit(2**62))
        .otherwise(pl.col("size_bytes")),
        cost=pl.when(pl.col("provider") == "plivo").then(pl.lit(1e308)).otherwise(pl.col("cost")),
    )
    spec = json.dumps(make(df).to_dict())
    assert all(s in spec for s in said), spec[:300]
    assert "Infinity" not in spec


def test_top_groups_name_a_group_whose_size_passes_int64_and_share_the_rest_right() -> None:
    # The size totals were summed in Int64: the largest group (3 * 2**62 bytes) wrapped to a
    # negative total and vanished with no word, and the share of the groups not shown was taken
    # from a wrapped sum.
    base = {
        "provider": "twilio",
        "kind": "track",
        "status": "completed",
        "created_at": datetime(2025, 1, 1, tzinfo=UTC),
        "duration": timedelta(minutes=5),
    }
    rows = [{**base, "group_id": "RM_BIG", "size_bytes": 3 * 2**61} for _ in range(2)]
    rows += [{**base, "group_id": f"RM_{name}", "size_bytes": 2**62} for name in "ABC"]
    df = ra.schema.conform(pl.DataFrame(rows)).collect()
    chart_spec = spec(charts.top_groups_chart(df, n=1))
    assert [r["group_id"] for r in values(chart_spec)] == ["RM_A"]
    assert chart_spec["title"]["subtitle"] == [
        "the other 2 groups hold 66.7 % of the size",
        "RM_BIG: size too large to total, not drawn",
    ]
    alone = spec(charts.top_groups_chart(df.filter(pl.col("group_id") == "RM_BIG")))
    assert "RM_BIG: size too large to total, not drawn" in json.dumps(alone)
    # Ranked by hours, the group is drawn; its size reads n/a, never a wrapped number.
    hours = values(spec(charts.top_groups_chart(df, metric="hours")))
    assert {r["group_id"]: r["size"] for r in hours}["RM_BIG"] is None
    # Ranked for the fold by a wrapped (negative) sum, the largest group was folded into other.
    small = pl.concat([df.tail(1)] * 8).with_columns(
        group_id=pl.format("RM_{}", pl.int_range(pl.len())), size_bytes=pl.lit(1, pl.Int64)
    )
    many = pl.concat([df, small])
    stored = json.dumps(spec(charts.storage_chart(many, by="group_id")))
    assert "RM_BIG: storage held too large to total, not drawn" in stored


def test_the_cost_axis_reads_amounts_below_a_cent() -> None:
    # "$,.2f" labelled every tick of a $0.004-a-month run-rate "$0.00".
    small = demo(100).filter(pl.col("provider") == "signalwire").head(5)
    spec = charts.cost_chart(small, rates={"signalwire": 0.0005}).to_dict()
    formats = [v["encoding"]["y"]["axis"]["format"] for v in spec["vconcat"]]
    assert formats[0] == "$,.4~f" and formats[1] == ",.4~f"
    large = charts.cost_chart(demo(200)).to_dict()
    assert large["vconcat"][0]["encoding"]["y"]["axis"]["format"] == "$,.2f"


def _unsized() -> tuple[pl.DataFrame, pl.DataFrame]:
    """A demo frame, and its Plivo rows alone (Plivo sends no size)."""
    df = demo(200)
    plivo = df.filter(pl.col("provider") == "plivo")
    assert plivo.height and plivo["size_bytes"].null_count() == plivo.height
    return df, plivo


SIZE_CHARTS: dict[str, Callable[[pl.DataFrame], Any]] = {
    "storage_chart": charts.storage_chart,
    "top_groups_chart": functools.partial(charts.top_groups_chart, metric="bytes"),
    "codec_mix_chart": functools.partial(charts.codec_mix_chart, metric="bytes"),
    "overview_chart": charts.overview_chart,
}


@pytest.mark.parametrize("name", sorted(SIZE_CHARTS))
def test_unknown_sizes_are_said_never_drawn_as_zero(name: str) -> None:
    # A Plivo-only storage chart drew a flat "0 GiB held" line, and the top groups by size said
    # "No recordings to show." over 400 recordings; in mixed data the overview's storage panel
    # left Plivo and SignalWire out of its legend with no word.
    make = SIZE_CHARTS[name]
    df, plivo = _unsized()
    text = json.dumps(make(plivo).to_dict())
    assert f"no sizes: {plivo.height:,} recordings without a size" in text
    assert "No recordings to show." not in text
    unsized = df["size_bytes"].null_count()
    assert f"{unsized:,} recordings without a size not shown" in json.dumps(make(df).to_dict())
    sized = df.filter(pl.col("size_bytes").is_not_null())
    assert "without a size" not in json.dumps(make(sized).to_dict())


def test_storage_chart_draws_only_the_known_sizes() -> None:
    df, _ = _unsized()
    rows = values(spec(charts.storage_chart(df)))
    assert {r["provider"] for r in rows} == set(
        df.filter(pl.col("size_bytes").is_not_null())["provider"].cast(pl.String)
    )
    storage = next(
        v for v in spec(charts.overview_chart(df))["vconcat"] if "Storage" in v["title"]["text"]
    )
    assert "recordings without a size not shown" in json.dumps(storage["title"])


def test_unknown_durations_are_said_never_summed_as_zero() -> None:
    df = demo(200)
    untimed = df.with_columns(
        duration=pl.when(pl.col("provider") == "plivo").then(None).otherwise(pl.col("duration"))
    )
    missing = untimed["duration"].null_count()
    hours = spec(charts.volume_chart(untimed))["vconcat"][1]["title"]
    assert f"{missing:,} recordings without a duration not shown" in hours["subtitle"]
    # The box plot said nothing of the durations a log axis cannot hold.
    skipped = untimed.filter(~(pl.col("duration") > pl.duration()).fill_null(False)).height
    boxes = json.dumps(spec(charts.duration_boxplot(untimed)))
    assert f"{skipped:,} recordings with no or zero duration not shown" in boxes
    plivo = untimed.filter(pl.col("provider") == "plivo")
    top = json.dumps(spec(charts.top_groups_chart(plivo, metric="hours")))
    assert f"no durations: {plivo.height:,} recordings without a duration" in top
    assert "No recordings to show." not in top


@pytest.mark.parametrize("name", sorted(CHARTS))
@pytest.mark.parametrize("lazy", [False, True], ids=["eager", "lazy"])
def test_negative_sizes_and_durations_are_unknown_and_said_once(name: str, lazy: bool) -> None:
    # Negative sizes and durations of a hand-built frame were drawn: the duration charts called
    # them "no or zero duration", the storage and cost charts summed them. They are unknown, as
    # a loader reads them, and one LoadWarning per chart says how many (a LazyFrame too, which
    # a chart collects several times).
    import warnings

    df = demo(100)
    every = pl.int_range(pl.len()) % 4 == 0
    negative = df.with_columns(
        size_bytes=pl.when(every).then(-pl.col("size_bytes")).otherwise(pl.col("size_bytes")),
        duration=pl.when(every).then(-pl.col("duration")).otherwise(pl.col("duration")),
    )
    nulled = negative.with_columns(
        size_bytes=pl.when(pl.col("size_bytes") >= 0).then(pl.col("size_bytes")),
        duration=pl.when(pl.col("duration") >= pl.duration()).then(pl.col("duration")),
    )
    sizes = negative.filter(pl.col("size_bytes") < 0).height
    durations = negative.filter(pl.col("duration") < pl.duration()).height
    assert sizes and durations
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        made = CHARTS[name](negative.lazy() if lazy else negative)
    said = [str(w.message) for w in caught if issubclass(w.category, ra.LoadWarning)]
    if name == "status_chart":  # it reads neither
        assert said == []
        return
    assert len(said) == 1, said
    assert said[0].startswith("negative values are taken as unknown (null)")
    assert f"size_bytes in {sizes} recordings" in said[0] or "size_bytes" not in said[0]
    assert f"duration in {durations} recordings" in said[0] or "duration" not in said[0]
    assert spec(made) == spec(CHARTS[name](nulled))


def test_top_group_tooltips_read_an_unknown_total_as_n_a() -> None:
    # d3 formats null as 0: a Plivo group's size read "0" in the tooltip.
    _, plivo = _unsized()
    chart_spec = spec(charts.top_groups_chart(plivo, metric="hours"))
    fields = {t["field"] for t in chart_spec["encoding"]["tooltip"]}
    assert {"size_text", "hours_text"} <= fields
    assert all(r["size"] is None for r in values(chart_spec))
    svg = charts.chart_to_svg(chart_spec)
    assert svg.startswith("<svg")


def test_top_groups_axis_labels_stay_distinct_on_small_totals() -> None:
    # ",.1f" read hour ticks 0.05 apart as "0.1, 0.1", and ",d" count ticks 0.2 apart as
    # "0, 0, 0, 1, 1"; and one recording is not "1 recordings".
    frame = synthetic_frame(40, seed=5).with_columns(duration=pl.col("duration") / 100)
    hours = charts.top_groups_chart(frame, metric="hours").to_dict()
    assert hours["encoding"]["x"]["axis"]["format"] == ",.3~f"
    counts = charts.top_groups_chart(frame, metric="recordings").to_dict()
    assert counts["encoding"]["x"]["axis"]["tickMinStep"] == 1
    one_missing = frame.with_columns(
        duration=pl.when(pl.int_range(pl.len()) == 0).then(None).otherwise(pl.col("duration"))
    )
    subtitle = json.dumps(charts.top_groups_chart(one_missing, metric="hours").to_dict()["title"])
    assert "1 recording without a duration" in subtitle, subtitle


def test_a_data_column_named_width_is_not_taken_for_the_canvas() -> None:
    # The canvas bound reads the spec's widths and heights, not the rows the spec carries.
    frame = pl.DataFrame({"width": [50_000, 2], "x": [1, 2]})
    chart = alt.Chart(frame).mark_point().encode(x="x:Q", y="width:Q")
    assert charts.chart_to_png(chart)[:4] == b"\x89PNG"
    with pytest.raises(ra.ConfigError, match="chart"):
        charts.chart_to_svg(chart.properties(width=10**9))


# --- time axes that name the year, panels that agree on their scales -----------------------------

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def x_tick_labels(svg: str) -> list[str]:
    """The tick labels of every x axis in a rendered chart that a reader sees (the overlap rule
    hides some: drawn with opacity 0)."""
    labels: list[str] = []
    for axis in svg.split('aria-roledescription="axis"')[1:]:
        if not axis.lstrip().startswith('aria-label="X-axis'):
            continue
        block = axis.split('class="mark-text role-axis-label"', 1)[1].split("</g>", 1)[0]
        labels += [
            text
            for attributes, text in re.findall(r"<text([^>]*)>([^<]*)</text>", block)
            if 'opacity="0"' not in attributes
        ]
    return labels


def _from(frame: pl.DataFrame, start: datetime, end: datetime | None = None) -> pl.DataFrame:
    """The rows created from ``start`` (and before ``end``), none deleted."""
    kept = frame.filter(pl.col("created_at") >= start)
    if end is not None:
        kept = kept.filter(pl.col("created_at") < end)
    return kept.with_columns(pl.lit(None, dtype=frame.schema["deleted_at"]).alias("deleted_at"))


TIME_CHARTS = {
    name: CHARTS[name]
    for name in ("volume_chart", "storage_chart", "codec_mix_chart", "cost_chart", "overview_chart")
}


@pytest.mark.parametrize("name", sorted(TIME_CHARTS))
def test_time_axes_name_the_year_from_a_february_start(name: str, frame: pl.DataFrame) -> None:
    """From February 2025 into 2026, ticks every other month read "February April … December
    February April …": the year only on a January tick, which the overlap rule had hidden, so
    2025 could not be told from 2026 (the sandbox's Twilio recordings in JupyterLab)."""
    twilio = _from(frame.filter(pl.col("provider") == "twilio"), datetime(2025, 2, 1, tzinfo=UTC))
    assert twilio["created_at"].min().month == 2 and twilio["created_at"].max().year == 2026  # type: ignore[union-attr]
    chart = TIME_CHARTS[name](twilio)
    # One mechanism for every time panel: the label expression of the axis utc_x gives.
    axes = [
        d["x"].get("axis", {})
        for d in walk(spec(chart))
        if d.get("x", {}).get("type") == "temporal"
    ]
    expressions = {a.get("labelExpr") for a in axes}
    # The year as the number itself (d3's "%Y" read year 10000 as "0000").
    assert axes and len(expressions) == 1 and "utcyear(" in str(expressions), expressions
    labels = x_tick_labels(charts.chart_to_svg(chart))
    assert labels
    for label in labels:  # a month or a day always with its year; a year alone on January 1
        assert re.search(r"\b20\d\d\b", label), (label, labels)
    years = {re.search(r"20\d\d", label).group() for label in labels}  # type: ignore[union-attr]
    assert {"2025", "2026"} <= years, labels


@pytest.mark.parametrize(
    ("every", "start", "end", "expected"),
    [
        # Days across a new year: "Dec 28, 2025", "Jan 4, 2026".
        ("1d", datetime(2025, 12, 10, tzinfo=UTC), datetime(2026, 1, 20, tzinfo=UTC), "Dec"),
        ("1w", datetime(2025, 2, 1, tzinfo=UTC), None, "Apr 2025"),
        ("1mo", datetime(2025, 2, 1, tzinfo=UTC), None, "Apr 2025"),
        ("1q", datetime(2025, 2, 1, tzinfo=UTC), None, "2026"),
        ("1y", datetime(2025, 2, 1, tzinfo=UTC), None, "2025"),
    ],
)
def test_time_axes_name_the_year_for_every_period_length(
    every: str, start: datetime, end: datetime | None, expected: str, frame: pl.DataFrame
) -> None:
    chart = charts.volume_chart(_from(frame, start, end), every=every)
    labels = x_tick_labels(charts.chart_to_svg(chart))
    assert labels and any(label.startswith(expected) for label in labels), labels
    for label in labels:
        assert re.search(r"\b20\d\d\b", label), (label, labels)
        words = label.replace(",", "").split()
        # "Apr 2025" or "Feb 3 2025" or "2026": a short month name first, the year last.
        assert words[-1].isdigit() and (len(words) == 1 or words[0] in _MONTHS), labels


def test_time_axes_over_the_whole_calendar_name_each_year_as_it_is(frame: pl.DataFrame) -> None:
    # d3's "%Y" pads to four digits modulo 10 000: an axis from year 1 to the end of 9999 (a
    # provider's default date beside real ones) was labelled "0000" at both ends.
    index = pl.int_range(pl.len())
    wide = frame.head(200).with_columns(
        created_at=pl.when(index == 0)
        .then(pl.lit(datetime(1, 1, 1, tzinfo=UTC)))
        .when(index == 1)
        .then(pl.lit(datetime(9999, 12, 31, tzinfo=UTC)))
        .otherwise(pl.col("created_at")),
        deleted_at=None,
    )
    labels = x_tick_labels(charts.chart_to_svg(charts.volume_chart(wide)))
    assert labels and "0000" not in labels, labels
    assert "2000" in labels and "10000" in labels, labels


def vegalite_warnings(chart: Any, capfd: pytest.CaptureFixture[str]) -> list[str]:
    """What Vega-Lite warns of compiling ``chart``: what a browser's console shows as ``WARN``.

    vl-convert compiles with the Vega-Lite the notebooks draw with and prints its warnings to
    the process's stderr (from Rust, so ``capfd``, not ``capsys``).
    """
    import vl_convert

    from recanalytics.charts.export import vegalite_version

    capfd.readouterr()
    chart_spec = chart if isinstance(chart, dict) else chart.to_dict()
    vl_convert.vegalite_to_vega(chart_spec, vl_version=vegalite_version(), show_warnings=True)
    return [line for line in capfd.readouterr().err.splitlines() if line.strip()]


def test_vegalite_warnings_are_collected(capfd: pytest.CaptureFixture[str]) -> None:
    """The check below sees a warning when there is one (two panels on one colour scale that
    state different domains)."""
    rows = alt.Data(values=[{"x": 1, "g": "a"}, {"x": 2, "g": "b"}])  # type: ignore[no-untyped-call]
    panels = [
        alt.Chart(rows)
        .mark_point()
        .encode(x="x:Q", color=alt.Color("g:N", scale=alt.Scale(domain=domain)))
        for domain in (["a", "b"], ["a"])
    ]
    warned = vegalite_warnings(alt.vconcat(*panels).resolve_scale(color="shared"), capfd)
    assert any('Conflicting scale property "domains"' in w for w in warned), warned


WARNING_CASES: dict[str, Callable[[pl.DataFrame], Any]] = {
    **CHARTS,
    "cost_chart by kind": functools.partial(charts.cost_chart, by="kind"),
    "cost_chart by cost_unit": functools.partial(charts.cost_chart, by="cost_unit"),
    "overview_chart by codec": functools.partial(charts.overview_chart, by="codec"),
    "overview_chart by kind": functools.partial(charts.overview_chart, by="kind"),
    "volume_chart by recording_id": functools.partial(charts.volume_chart, by="recording_id"),
    "cost_chart by recording_id": functools.partial(charts.cost_chart, by="recording_id"),
    "codec_mix_chart by hours": functools.partial(
        charts.codec_mix_chart, metric="hours", normalize=False
    ),
}


@pytest.mark.parametrize("name", sorted(WARNING_CASES))
def test_charts_compile_without_vegalite_warnings(
    name: str, frame: pl.DataFrame, capfd: pytest.CaptureFixture[str]
) -> None:
    """The cost chart's two panels stated different provider scales on one shared legend (the
    reported cost only Plivo's and SignalWire's): Vega-Lite logged ``Conflicting scale property
    "domains"`` and ``"range"`` in the console of every notebook that drew it."""
    for rows in (frame, frame.filter(pl.col("provider").is_in(["plivo", "signalwire"]))):
        assert vegalite_warnings(WARNING_CASES[name](rows), capfd) == [], name


def scene_nodes(chart: Any) -> list[dict[str, Any]]:
    """Every node of the scenegraph Vega renders ``chart`` to (vl-convert, no browser)."""
    import vl_convert

    from recanalytics.charts.export import vegalite_version

    spec = chart if isinstance(chart, dict) else chart.to_dict()
    return zoned.flattened(vl_convert.vegalite_to_scenegraph(spec, vl_version=vegalite_version()))


def y_axis_labels(chart: Any) -> list[list[str]]:
    """The labels shown on each left axis, in drawing order."""
    axes = []
    for node in scene_nodes(chart):
        items = node.get("items") or []
        if node.get("role") == "axis" and items and items[0].get("orient") == "left":
            shown = [
                item["text"]
                for label in zoned.flattened(node)
                if label.get("role") == "axis-label"
                for item in label.get("items", [])
                if item.get("opacity", 1)
            ]
            axes.append(shown)
    return [axis for axis in axes if axis]


@pytest.mark.parametrize("rows", [1, 3, 12])
def test_few_recordings_a_period_are_labelled_in_whole_steps(
    frame: pl.DataFrame, rows: int
) -> None:
    # Rounded to halves, "0, 1, 1, 2, 2" labelled the recordings axis and "0, 1, 1, 2, 2" or
    # "0 … 0" the hours axis (",d"): half an hour read as an hour.
    calls = frame.filter(pl.col("provider") == "plivo").head(rows)
    for chart in (charts.volume_chart(calls, every="1w"), charts.overview_chart(calls, every="1w")):
        for labels in y_axis_labels(chart)[:2]:
            assert len(labels) == len(set(labels)) >= 2, labels


def test_a_group_whose_durations_are_all_alike_is_drawn(frame: pl.DataFrame) -> None:
    # Its box and whiskers have no width, and the median tick was white on white: a legend
    # and axes around nothing.
    one = frame.filter(pl.col("duration") > 0).head(1)
    marks = [
        item
        for node in scene_nodes(charts.duration_boxplot(one))
        if node.get("role") == "mark" and node.get("marktype") == "rect"
        for item in node.get("items", [])
    ]
    visible = [
        m for m in marks
        if m.get("width", 0) > 0 and m.get("height", 0) > 0
        and str(m.get("fill", "")).lower() not in ("", "white", "#fff", "#ffffff")
    ]  # fmt: skip
    assert visible, marks


def test_zoomed_panels_clip_their_marks_and_an_account_without_sizes_draws_no_empty_area(
    frame: pl.DataFrame,
) -> None:
    # The brush zooms the lower panels' axes through an expression, which Vega does not clip
    # to: brushed, their bars ran 300 px past the plot over the axis labels and legends. And
    # an area over no rows (calls only) logged "Infinite extent" in the browser.
    spec = charts.overview_chart(frame).to_dict()
    zoomed = [
        layer
        for panel in spec["vconcat"]
        for layer in panel.get("layer", [panel])
        if "brush.period" in json.dumps(layer.get("encoding", {}).get("x", {}))
    ]
    assert len(zoomed) >= 4
    for layer in zoomed:
        mark = layer["mark"]
        assert isinstance(mark, dict) and mark.get("clip") is True, mark
    calls = charts.overview_chart(frame.filter(pl.col("provider") == "plivo")).to_dict()
    marks = json.dumps([panel.get("mark") for panel in calls["vconcat"]])
    assert "area" not in marks and "Storage held" in json.dumps(calls)


def x_axis_labels(chart: Any) -> list[str]:
    """The labels shown on every bottom axis."""
    shown = []
    for node in scene_nodes(chart):
        items = node.get("items") or []
        if node.get("role") == "axis" and items and items[0].get("orient") == "bottom":
            shown += [
                item["text"]
                for label in zoned.flattened(node)
                if label.get("role") == "axis-label"
                for item in label.get("items", [])
                if item.get("opacity", 1)
            ]
    return shown


@pytest.mark.parametrize("minutes", [(17, 40), (2, 3), (0.2, 0.5), (70, 75)])
def test_a_narrow_range_of_durations_is_labelled_in_round_units(
    minutes: tuple[float, float],
) -> None:
    # No round duration of the axis's list fell between 17 and 40 minutes: Vega's own ticks
    # were labelled "16.666666666666668 min" and "1.1111111111111112 h".
    low, high = (timedelta(minutes=m) for m in minutes)
    rows = synthetic_frame(3).with_columns(
        duration=pl.Series([low, (low + high) / 2, high], dtype=pl.Duration("ms"))
    )
    labels = x_axis_labels(charts.duration_boxplot(rows))
    assert len(labels) >= 2 and all(
        re.fullmatch(r"\d+(\.\d{1,2})? (s|min|h)", t) for t in labels
    ), labels


@pytest.mark.parametrize("rows", [1, 2, 3, 40])
def test_the_duration_histogram_counts_in_whole_recordings(frame: pl.DataFrame, rows: int) -> None:
    # A few recordings were ticked "0.0, 0.5, 1.0, 1.5 … recordings".
    timed = frame.filter(pl.col("duration") > timedelta(0)).head(rows)
    (labels,) = y_axis_labels(charts.duration_histogram(timed))
    assert len(labels) >= 2 and all(re.fullmatch(r"\d[\d,]*", t) for t in labels), labels
    assert len(labels) == len(set(labels)), labels


def test_a_cost_chart_with_nothing_to_price_says_why(frame: pl.DataFrame) -> None:
    # One recording still enqueued (no size, no duration, no cost) drew an empty chart with
    # only "$0" and a legend; the storage chart said "no sizes: …" for the same row.
    enqueued = (
        frame.filter(pl.col("provider") == "twilio")
        .head(1)
        .with_columns(
            status=pl.lit("enqueued"),
            size_bytes=pl.lit(None, dtype=pl.Int64),
            duration=pl.lit(None, dtype=frame.schema["duration"]),
            cost=pl.lit(None, dtype=pl.Float64),
        )
    )
    chart = spec(charts.cost_chart(enqueued))
    assert chart["mark"]["type"] == "text"
    notes = [row["note"] for row in values(chart)]
    assert notes == ["no costs: 1 recording without a size or duration to price"]
    # Among priced rows it is said, and counted as $0.
    mixed = json.dumps(spec(charts.cost_chart(pl.concat([frame.head(50), enqueued]))))
    assert "recording without a size or duration to price counted as $0" in mixed


@pytest.mark.parametrize("blank", ["", "   "])
def test_a_blank_group_name_is_labelled_with_the_group_id(frame: pl.DataFrame, blank: str) -> None:
    # A Zoom session with an empty topic got a bar with no label.
    zoom = frame.filter(pl.col("provider") == "zoom")
    first = zoom["group_id"][0]
    unnamed = zoom.with_columns(
        group_name=pl.when(pl.col("group_id") == first)
        .then(pl.lit(blank))
        .otherwise(pl.col("group_name"))
    )
    rows = values(spec(charts.top_groups_chart(unnamed, metric="recordings", n=200)))
    labels = {r["group_id"]: r["label"] for r in rows}
    assert labels[first] == first
    assert all(label.strip() for label in labels.values())
    names = {r["group_id"]: r["name"] for r in rows}
    assert names[first] == first


def test_notes_about_one_recording_are_singular(frame: pl.DataFrame) -> None:
    # "1 recordings with no or zero duration not shown", "1 recordings without size …".
    twilio = frame.filter(
        (pl.col("provider") == "twilio") & (pl.col("duration") > timedelta(0))
    ).head(20)
    one_untimed = twilio.with_columns(
        duration=pl.when(pl.int_range(pl.len()) == 0).then(timedelta(0)).otherwise("duration")
    )
    for make in (charts.duration_histogram, charts.duration_boxplot, charts.size_duration_chart):
        text = json.dumps(spec(make(one_untimed)))
        assert "1 recordings" not in text, make.__name__
        assert re.search(r"\b1 recording (with|without)\b", text), make.__name__
    rest = twilio["group_id"].n_unique() - 1
    groups = spec(charts.top_groups_chart(twilio, metric="recordings", n=rest))
    assert "the other 1 group holds" in json.dumps(groups)


@pytest.mark.parametrize("name", ["volume_chart", "overview_chart"])
def test_an_hours_panel_with_no_duration_says_so(
    name: str, frame: pl.DataFrame, capfd: pytest.CaptureFixture[str]
) -> None:
    # Bars summed over no durations drew a bare axis under a legend of providers and logged
    # "Infinite extent for field sum_hours_start" in the browser; the storage panel said
    # "no sizes" for the same case.
    untimed = frame.with_columns(duration=pl.lit(None, dtype=frame.schema["duration"]))
    chart = CHARTS[name](untimed)
    panels = spec(chart)["vconcat"]
    hours = [p for p in panels if "Hours per period" in json.dumps(p.get("title"))]
    assert len(hours) == 1 and hours[0]["mark"]["type"] == "text", hours
    assert [r["note"] for r in values(hours[0])] == [
        f"no durations: {frame.height:,} recordings without a duration"
    ]
    assert vegalite_warnings(chart, capfd) == []


@pytest.mark.parametrize("name", ["cost_chart", "overview_chart"])
def test_a_cost_estimate_with_nothing_priced_is_a_note_beside_the_reported_cost(
    name: str, frame: pl.DataFrame, capfd: pytest.CaptureFixture[str]
) -> None:
    # No size and no duration anywhere, but Plivo and SignalWire report a cost: the estimate
    # panel drew an empty "$0" axis under a legend of every provider.
    unknown = frame.with_columns(
        duration=pl.lit(None, dtype=frame.schema["duration"]),
        size_bytes=pl.lit(None, dtype=pl.Int64),
    )
    chart = CHARTS[name](unknown)
    panels = spec(chart)["vconcat"]
    estimate = [p for p in panels if "Estimated storage cost" in json.dumps(p.get("title"))]
    assert len(estimate) == 1 and estimate[0]["mark"]["type"] == "text", estimate
    assert any("without a size or duration to price" in r["note"] for r in values(estimate[0]))
    reported = [p for p in panels if "Provider-reported" in json.dumps(p.get("title"))]
    assert len(reported) == 1
    if name == "cost_chart":
        # The legend moves to the panel left, listing the groups it draws.
        params = reported[0].get("params") or spec(chart).get("params")
        assert params and "legend" in json.dumps(params), params
        domain = reported[0]["encoding"]["color"]["scale"]["domain"]
        assert set(domain) == {"plivo", "signalwire"}, domain
    assert vegalite_warnings(chart, capfd) == []
    assert "Estimated storage cost" in charts.chart_to_svg(chart)


@pytest.mark.parametrize("rows", [1, 3])
def test_a_narrow_size_and_duration_range_has_readable_ticks_on_both_axes(
    frame: pl.DataFrame, rows: int
) -> None:
    # One recording: the size axis read "2.956390380859375 MiB" (Vega's own ticks, unformatted)
    # and the duration axis had no label at all (its round ticks fell outside the bin).
    known = frame.filter(
        pl.col("size_bytes").is_between(2_500_000, 2_600_000)
        & (pl.col("duration") > timedelta(seconds=5))
    )
    picked = (
        known.head(1) if rows == 1 else known.head(1).vstack(known.head(1)).vstack(known.head(1))
    )
    chart = charts.size_duration_chart(picked)
    (sizes,) = y_axis_labels(chart)
    assert len(sizes) >= 2 and all(
        re.fullmatch(r"\d+(\.\d{1,2})? (B|KiB|MiB|GiB)", t) for t in sizes
    ), sizes
    seconds = x_axis_labels(chart)
    assert len(seconds) >= 2 and all(
        re.fullmatch(r"\d+(\.\d{1,2})? (s|min|h)", t) for t in seconds
    ), seconds


def test_byte_ticks_stay_inside_any_range() -> None:
    from recanalytics.charts._base import bytes_axis, seconds_axis

    for low, high in ((2.1 * 2**20, 2.96 * 2**20), (700.0, 900.0), (3e9, 4e9)):
        ticks = bytes_axis("size", low, high).values
        assert len(ticks) >= 2 and all(low <= t <= high for t in ticks), (low, high, ticks)
    for low, high in ((383.0, 562.0), (2.0, 2.9), (5000.0, 7000.0)):
        ticks = seconds_axis("duration", low, high).values
        assert len(ticks) >= 2 and all(low <= t <= high for t in ticks), (low, high, ticks)


def _params(node: Any) -> list[dict[str, Any]]:
    """Every parameter of a chart spec, at any level of its views."""
    if isinstance(node, list):
        return [p for item in node for p in _params(item)]
    if not isinstance(node, dict):
        return []
    found = list(node.get("params", []))
    return found + [p for key, value in node.items() if key != "params" for p in _params(value)]


@pytest.mark.parametrize("name", sorted(CHARTS))
def test_selections_and_their_views_have_fixed_names(name: str) -> None:
    # Altair before 6 named unnamed selections param_1, param_2... and views view_1... counting
    # up in the process: each redraw of one chart had new names, so the explorer made a new
    # JupyterChart widget on every filter change. Named by their column, any altair agrees.
    frame = demo(200)
    first, second = spec(CHARTS[name](frame)), spec(CHARTS[name](frame))
    assert first == second
    legends = [p for p in _params(first) if p.get("bind") == "legend"]
    assert legends or name == "size_duration_chart", name  # coloured by count: no legend
    for param in legends:
        assert param["name"] == f"legend_{param['select']['fields'][0]}"
        assert all(view == f"view_{param['name']}" for view in param.get("views", [])), param


def test_a_legend_of_a_column_no_identifier_names_gets_a_valid_name() -> None:
    frame = demo(200).with_columns(pl.col("provider").alias("provider name"))
    made = spec(charts.duration_histogram(frame, by="provider name"))
    [param] = [p for p in _params(made) if p.get("bind") == "legend"]
    assert re.fullmatch(r"legend_[0-9a-f]{8}", param["name"]), param
    assert charts.chart_to_svg(made).startswith("<svg")


# --- tooltips as a reader sees them (a mark's description holds its tooltip's text) ---------

EDGES = (
    datetime(2025, 1, 1, tzinfo=UTC),
    datetime(2025, 2, 28, 23, 30, tzinfo=UTC),
    datetime(2025, 3, 1, 0, 30, tzinfo=UTC),
    datetime(2025, 12, 31, 23, 59, tzinfo=UTC),
    datetime(2026, 1, 1, 0, 1, tzinfo=UTC),
)
"""Creation times on UTC period boundaries: west of UTC each is in the period before."""


def _at_edges(rows: int = 40) -> pl.DataFrame:
    moments = [EDGES[i % len(EDGES)] for i in range(rows)]
    return synthetic_frame(rows, seed=11).with_columns(
        created_at=pl.Series(moments, dtype=pl.Datetime("us", "UTC")),
        deleted_at=None,
        status=pl.lit("completed"),
    )


def _period_text(value: str, every: str) -> str:
    start = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return f"{start:%Y-%m-%d}" if every == "1mo" else f"{start:%Y-%m-%d %H:%M}"


def test_period_tooltips_read_the_utc_period_start_west_of_utc() -> None:
    """``formatType="utc"`` compiled to Vega's ``utc()``, which builds a date from a year and a
    month: every time chart's tooltip read "period from NaN", in every time zone. It is the
    period start in UTC, to the minute for hourly periods, read here in Los Angeles (the
    overview draws the same panels)."""
    rows = _at_edges()
    late = rows.filter(pl.col("created_at") >= datetime(2025, 12, 31, tzinfo=UTC))
    made = {
        (name, every): spec(make(late if every == "1h" else rows, every=every))
        for name, make in TIME_CHARTS.items()
        if name != "overview_chart"
        for every in ("1mo", "1h")
    }
    scenes = zoned.scenes_in(list(made.values()), zoned.WEST)
    for ((name, every), chart_spec), scene in zip(made.items(), scenes, strict=True):
        starts = {
            _period_text(d["period"], every)
            for d in walk(chart_spec)
            if isinstance(d.get("period"), str)
        }
        shown = {
            zoned.described(text).get("period from")
            for text in zoned.descriptions(scene)
            if "period from" in text
        }
        assert shown and shown <= starts, (name, every, shown, starts)
        assert ("2026-01-01" if every == "1mo" else "2026-01-01 00:00") in shown, (name, shown)


def tooltips_apart(chart_spec: dict[str, Any]) -> dict[str, Any]:
    """``chart_spec`` with every channel but the tooltip titled by its name (``[y]``), so a
    mark's description holds each tooltip field under its own title."""
    for node in walk(chart_spec):
        for channel, definition in (node.get("encoding") or {}).items():
            if channel != "tooltip" and isinstance(definition, dict):
                definition["title"] = f"[{channel}]"
    return chart_spec


def said(chart: Any) -> dict[str, set[str]]:
    """Every value a rendered chart's tooltips show, by field title.

    Read from the marks' descriptions, which hold every channel's value: the other channels are
    given titles of their own first, as a y titled "hours" would hide the tooltip's "hours".
    """
    found: dict[str, set[str]] = {}
    for text in zoned.descriptions(scene_nodes(tooltips_apart(spec(chart)))):
        for key, value in zoned.described(text).items():
            found.setdefault(key, set()).add(value)
    return found


def test_tooltip_numbers_follow_the_reports_rule() -> None:
    """The charts' text twin of ``helpers.shown.readable``: fixed decimals from 1 up, three
    significant figures below 1 (trailing zeros dropped where asked), ``n/a`` for null."""
    from recanalytics.charts._base import shown_text
    from recanalytics.helpers.shown import readable

    numbers = [0.0, 0.0336, 0.5, 0.0012, 2.25829e-5, 0.9996, 1.0, 1234.5, 12.3456, 0.1, 1e-9]
    cases = {f"d{d}{'~' if trim else ''}": (d, trim) for d in (1, 2, 3) for trim in (False, True)}
    rows = [{"i": i, "v": v} for i, v in enumerate([*numbers, None])]
    chart = (
        alt.Chart(alt.Data(values=rows))  # type: ignore[no-untyped-call]
        .transform_calculate(**{n: shown_text("v", d, trim=t) for n, (d, t) in cases.items()})
        .mark_point()
        .encode(x="i:O", tooltip=[f"{name}:N" for name in cases])
    )
    for text in zoned.descriptions(scene_nodes(chart)):
        row = zoned.described(text)
        value = rows[int(row["i"])]["v"]
        for name, (decimals, trim) in cases.items():
            expected = "n/a" if value is None else readable(value, decimals)
            if trim and value is not None and "." in expected:
                expected = expected.rstrip("0").rstrip(".")
            assert row[name] == expected, (name, value, row[name])


def test_small_values_in_tooltips_never_read_zero() -> None:
    """ ",.1f" read a Plivo call of 2 minutes as "hours 0.0" in the volume chart's tooltip (and
    the overview's and the report's), and a histogram bin of three 30-second recordings too;
    100 KiB added read "0" GiB, a run-rate of $0.000011 "$0", one failed recording in 4,000
    "0.0 %". They follow the report's rule: three significant figures below 1."""
    moments = [
        datetime(2025, 2, 1),
        datetime(2025, 1, 10),
        datetime(2025, 3, 5),
        datetime(2025, 3, 6),
    ]
    rows = synthetic_frame(4, seed=2).with_columns(
        provider=pl.Series(["plivo", "twilio", "twilio", "plivo"]),
        created_at=pl.Series(moments, dtype=pl.Datetime("us")).dt.replace_time_zone("UTC"),
        duration=pl.Series([timedelta(seconds=s) for s in (120, 30, 30, 30)]),
        size_bytes=pl.Series([None, 10 * 2**30, 100 * 2**10, None], dtype=pl.Int64),
        status=pl.lit("completed"),
        deleted_at=None,
    )
    assert "0.0333" in said(charts.volume_chart(rows, every="1mo"))["hours"]
    assert {"0.00833", "0.0167"} <= said(charts.duration_histogram(rows))["hours"]
    assert "0.0333" in said(charts.top_groups_chart(rows, metric="recordings"))["hours"]
    assert "0.0000954" in said(charts.storage_chart(rows, every="1mo"))["GiB added"]
    cost = said(charts.cost_chart(rows, every="1mo", rates={"twilio": 1e-6}))
    assert "$0.000011" in cost["USD / month"], cost  # micro-dollars: 10.7 rounds to 11
    one_failed = synthetic_frame(4_000, seed=2).with_columns(
        provider=pl.lit("twilio"),
        status=pl.when(pl.int_range(pl.len()) == 0)
        .then(pl.lit("failed"))
        .otherwise(pl.lit("completed")),
        deleted_at=None,
    )
    status = charts.status_chart(one_failed)
    assert "failed 0.025 %" in json.dumps(status.to_dict()["title"])
    assert "0.025 %" in said(status)["share"]


def test_size_tooltips_are_in_the_axis_binary_units() -> None:
    """The size-against-duration axis reads 1 MiB, 10 MiB; its tooltips read the bin edges in
    decimal SI ("size from (bytes) 681k", "size to 1M"). They use the axis's units."""
    rows = synthetic_frame(3, seed=2).with_columns(
        size_bytes=pl.Series([700_000, 5 * 2**20, 3 * 2**30], dtype=pl.Int64),
        duration=pl.Series([timedelta(seconds=s) for s in (60, 300, 3_600)]),
    )
    shown = said(charts.size_duration_chart(rows))
    assert "665 KiB" in shown["size from"] and "977 KiB" in shown["size to"], shown
    edges = shown["size from"] | shown["size to"]
    assert all(re.fullmatch(r"[\d.]+ (KiB|MiB|GiB)", edge) for edge in edges), edges


def test_top_group_tooltips_title_the_name_and_the_id_apart() -> None:
    """The tooltip titled a group's name "group id", over its id titled "id":
    {'group id': 'session 11', 'id': '6CuONHXyW21vrcuuh1qkjQ=='}."""
    rows = synthetic_frame(200, seed=5)
    shown = said(charts.top_groups_chart(rows, metric="recordings", n=30))
    ids, names = set(rows["group_id"].to_list()), set(rows["group_name"].drop_nulls().to_list())
    assert shown["group id"] and shown["group id"] <= ids, shown
    assert shown["name"] & names and "id" not in shown, shown
    by_participant = said(charts.top_groups_chart(rows, group="participant_id", n=5))
    assert by_participant["participant id"] <= set(rows["participant_id"].to_list())
    assert "name" not in by_participant, by_participant


@pytest.mark.parametrize("name", sorted(TIME_CHARTS))
def test_time_axes_say_utc(name: str, frame: pl.DataFrame) -> None:
    """Every time axis had an empty title: nothing on screen said the periods are UTC, which
    west of it start the evening before (time-of-day ticks on a short span are UTC too)."""
    axes = [
        node["x"]["axis"]
        for node in walk(spec(TIME_CHARTS[name](frame)))
        if isinstance(node.get("x"), dict) and node["x"].get("type") == "temporal"
    ]
    assert axes and all(axis["title"] == "time (UTC)" for axis in axes), axes


def test_codec_mix_bars_fill_their_period_and_tooltips_give_their_sums() -> None:
    """The mix's tooltip text is that of its bar's sum: the overview's rows are per provider,
    and a bar sums them. (Summing in an aggregate transform instead left Vega-Lite stacking the
    raw field: every bar 5 px high, drawn off the plot.)"""
    rows = synthetic_frame(300, seed=8)
    bars = [
        item
        for node in scene_nodes(charts.codec_mix_chart(rows, every="1q"))
        if node.get("role") == "mark" and node.get("marktype") == "rect"
        for item in node.get("items", [])
    ]
    heights: dict[float, float] = {}
    for bar in bars:
        heights[round(bar["x"], 3)] = heights.get(round(bar["x"], 3), 0.0) + bar["height"]
    assert heights and all(math.isclose(h, HEIGHT, abs_tol=0.01) for h in heights.values())
    counts = (
        rows.group_by(pl.col("created_at").dt.truncate("1q"), pl.col("codec").fill_null("unknown"))
        .len()
        .select(pl.col("created_at").dt.strftime("%Y-%m-%d"), "codec", pl.col("len").cast(str))
    )
    expected = {tuple(row) for row in counts.iter_rows()}
    overview = tooltips_apart(spec(charts.overview_chart(rows, every="1q")))
    shown = {
        (row["period from"], row["codec"], row["recordings"])
        for row in map(zoned.described, zoned.descriptions(scene_nodes(overview)))
        if "codec" in row and "recordings" in row
    }
    assert shown == expected, shown ^ expected


# --- time axes that agree with the bars, legends beside their panel -------------------------


def _label_day(label: str) -> datetime:
    """The day a time-axis label names: ``Sep 7, 2026``, ``Jun 2026`` (the 1st) or ``2026``."""
    for fmt in ("%b %d, %Y", "%b %Y", "%Y"):
        try:
            return datetime.strptime(label, fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
    raise AssertionError(f"not a day: {label!r}")


def _temporal_axes(chart_spec: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        node["x"]["axis"]
        for node in walk(chart_spec)
        if isinstance(node.get("x"), dict) and node["x"].get("type") == "temporal"
    ]


@pytest.mark.parametrize("name", sorted(TIME_CHARTS))
def test_weekly_periods_are_ticked_on_the_monday_they_start(name: str, frame: pl.DataFrame) -> None:
    # Weeks start on Monday (polars' truncate("1w")), but Vega's week ticks are Sundays: every
    # bar's edge sat a day after the date written under it, while its tooltip said "period
    # from" the Monday.
    weeks = _from(frame, datetime(2025, 9, 1, tzinfo=UTC), datetime(2025, 11, 1, tzinfo=UTC))
    chart_spec = spec(TIME_CHARTS[name](weeks, every="1w"))
    starts = {
        datetime.fromisoformat(d["period"]).replace(tzinfo=UTC)
        for d in walk(chart_spec)
        if isinstance(d.get("period"), str)
    }
    assert starts and all(start.weekday() == 0 for start in starts)
    labels = x_axis_labels(chart_spec)
    days = [_label_day(label) for label in labels]
    assert len(days) >= 3, labels
    # Each tick is the start of a week drawn, or the end of the last one.
    assert set(days) <= starts | {max(starts) + timedelta(weeks=1)}, (labels, sorted(starts))
    axes = _temporal_axes(chart_spec)
    assert axes and all(axis["title"] == "time (UTC), weeks from Monday" for axis in axes), axes


def test_a_brushed_overview_ticks_its_weeks_on_mondays(frame: pl.DataFrame) -> None:
    # Zoomed by the brush to a few weeks, the lower panels' axes are ticked by the brushed
    # range, on the Mondays the bars start, not Vega's Sundays.
    weeks = _from(frame, datetime(2025, 3, 1, tzinfo=UTC), datetime(2025, 9, 1, tzinfo=UTC))
    chart_spec = spec(charts.overview_chart(weeks, every="1w"))
    (brush,) = [p for p in _params(chart_spec) if p.get("name") == "brush"]
    low, high = datetime(2025, 5, 8, tzinfo=UTC), datetime(2025, 6, 20, tzinfo=UTC)
    brush["value"] = {"x": [low.timestamp() * 1000, high.timestamp() * 1000]}
    axes = [[_label_day(label) for label in labels] for labels in _bottom_axes(chart_spec)]
    zoomed = [days for days in axes if days and all(low <= day <= high for day in days)]
    assert len(zoomed) == 5, axes  # hours, storage, codec mix and both costs follow the brush
    assert all(len(days) >= 3 and {day.weekday() for day in days} == {0} for days in zoomed), axes


def test_the_cost_kind_legend_sits_beside_the_reported_cost_panel(frame: pl.DataFrame) -> None:
    # The dash of the reported-cost lines was explained by a legend beside the top panel
    # ("Recordings per period", or the estimate), three panels away from the lines.
    import vl_convert

    from recanalytics.charts.export import vegalite_version

    for chart in (charts.cost_chart(frame), charts.overview_chart(frame)):
        vega = vl_convert.vegalite_to_vega(chart.to_dict(), vl_version=vegalite_version())
        placed = {
            str(group.get("title", {}).get("text")): [
                legend.get("title") for legend in group.get("legends", [])
            ]
            for group in walk(vega.get("marks", []))
            if group.get("type") == "group"
        }
        beside = [title for title, legends in placed.items() if "cost kind" in legends]
        assert beside == ["Provider-reported cost per period (USD)"], placed
        assert "cost kind" not in [legend.get("title") for legend in vega.get("legends", [])]


@pytest.mark.parametrize("start", [3, 13])
def test_an_axis_of_times_of_day_names_its_day_and_year(start: int, frame: pl.DataFrame) -> None:
    # Inside one day the labels read "04 AM", "05 AM", … with no day at all: the first label
    # now has its day and year under it.
    day = datetime(2025, 10, 8, start, tzinfo=UTC)
    hours = frame.head(6).with_columns(
        created_at=pl.Series([day + timedelta(minutes=50 * i) for i in range(6)]).cast(
            pl.Datetime("us", "UTC")
        ),
        deleted_at=None,
    )
    texts = [
        " ".join(text) if isinstance(text, list) else text
        for text in _axis_texts(charts.volume_chart(hours, every="1h"))
    ]
    assert texts and texts[0].endswith("Oct 8, 2025"), texts
    assert all(re.fullmatch(r"\d\d [AP]M", text) for text in texts[1 : len(texts) // 2]), texts


def _bottom_axes(chart: Any) -> list[list[str]]:
    """The labels shown on each bottom axis."""
    axes = []
    for node in scene_nodes(chart):
        items = node.get("items") or []
        if node.get("role") == "axis" and items and items[0].get("orient") == "bottom":
            axes.append(
                [
                    item["text"]
                    for label in zoned.flattened(node)
                    if label.get("role") == "axis-label"
                    for item in label.get("items", [])
                    if item.get("opacity", 1)
                ]
            )
    return axes


def _axis_texts(chart: Any) -> list[Any]:
    """The texts shown on the first bottom axis, as Vega holds them (a list: several lines)."""
    for node in scene_nodes(chart):
        items = node.get("items") or []
        if node.get("role") == "axis" and items and items[0].get("orient") == "bottom":
            return [
                item["text"]
                for label in zoned.flattened(node)
                if label.get("role") == "axis-label"
                for item in sorted(label.get("items", []), key=lambda item: item["x"])
                if item.get("opacity", 1)
            ]
    return []
