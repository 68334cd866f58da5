"""Absurd values a provider (or a user's frame) can put in the unified columns: every chart,
the report and the size text keep working, and a value that cannot be shown is null."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from provider_cases import CREDENTIALS
from synthetic import synthetic_frame

import recanalytics as ra
from recanalytics import charts
from recanalytics.charts._base import choose_every
from recanalytics.windows import parse_when

UTC = dt.UTC
CHARTS = (
    "duration_histogram", "duration_boxplot", "status_chart", "storage_chart", "volume_chart",
    "codec_mix_chart", "cost_chart", "overview_chart", "top_groups_chart", "size_duration_chart",
)  # fmt: skip


def test_size_human_of_a_magnitude_past_int64_is_null_and_keeps_the_row() -> None:
    df = pl.DataFrame({"bitrate_kbps": [1e308, -1e300, 2.0**63 * 1024**6, 5.0, None]})
    shown = df.select(ra.size_human("bitrate_kbps")).to_series().to_list()
    assert shown == [None, None, None, "5 B", None]


def dated(*moments: dt.datetime) -> pl.DataFrame:
    rows = synthetic_frame(len(moments))
    return rows.with_columns(created_at=pl.Series(moments, dtype=pl.Datetime("us", "UTC")))


@pytest.mark.parametrize(
    "moments",
    [
        (dt.datetime(1, 1, 1, tzinfo=UTC), dt.datetime(9999, 12, 31, 23, 59, tzinfo=UTC)),
        (dt.datetime(9999, 12, 31, 23, 59, tzinfo=UTC),),
    ],
    ids=["year-1-to-9999", "only-9999"],
)
def test_every_chart_and_the_report_draw_dates_at_the_ends_of_the_calendar(
    moments: tuple[dt.datetime, ...],
) -> None:
    df = dated(*moments)
    for name in CHARTS:
        spec = getattr(charts, name)(df).to_dict()
        assert spec, name
    assert "<html" in ra.report_html(df)


def test_charts_draw_recordings_made_in_year_1_and_deleted_in_2026() -> None:
    # A default date ("0001-01-01") where a provider had none. The period was chosen from the
    # creation times alone ("1d"), and the storage grid, which runs to the last deletion, then
    # refused its own choice; with the span counted, a multi-year period starts before year 1,
    # which a Python datetime cannot hold.
    rows = synthetic_frame(40)
    df = rows.with_columns(created_at=pl.lit(dt.datetime(1, 1, 1, tzinfo=UTC)))
    assert df["deleted_at"].max() is not None and df["deleted_at"].max().year >= 2025
    for name in CHARTS:
        assert getattr(charts, name)(df).to_dict(), name
    assert "<html" in ra.report_html(df)
    assert isinstance(ra.explore(df), ra.Explorer)


def test_the_chosen_period_keeps_about_sixty_periods_over_any_span() -> None:
    df = dated(dt.datetime(1, 1, 1, tzinfo=UTC), dt.datetime(9999, 1, 1, tzinfo=UTC))
    every = choose_every(df.lazy())
    periods = ra.trend(df, every=every).height
    assert every.endswith("y") and 0 < periods <= 62


def test_a_nul_in_the_data_does_not_abort_the_svg_renderer() -> None:
    # vl-convert panicked in Rust (and aborted the interpreter) on a NUL in an SVG text label,
    # so the rendering runs in a child process: a regression fails here instead of killing
    # the test run.
    script = (
        f"import sys, polars as pl; sys.path.insert(0, {str(Path(__file__).parent)!r})\n"
        "from synthetic import synthetic_frame\n"
        "from recanalytics import charts\n"
        "df = synthetic_frame(30).with_columns(group_id=pl.lit('a\\x00b\\x07'), codec=pl.lit('x\\x00'))\n"
        "for chart in (charts.top_groups_chart(df), charts.codec_mix_chart(df)):\n"
        "    assert '<svg' in charts.chart_to_svg(chart)\n"
        "print('drawn')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0 and "drawn" in done.stdout, done.stderr[-2000:]


@pytest.mark.parametrize(
    "unit", ["USD\n", "a\rb", "EUR\u2028"], ids=["newline", "return", "line-separator"]
)
def test_a_cost_unit_with_a_line_break_still_draws_the_cost_charts(unit: str) -> None:
    # Vega-Lite copies an encoding's title into its tooltip expression unescaped: the cost
    # axis, titled with the units the rows report, was a parse error with a line break in a
    # unit, and the cost chart and the overview drew nothing (in a notebook as in SVG).
    df = synthetic_frame(30).with_columns(cost=pl.lit(0.25), cost_unit=pl.lit(unit))
    for chart in (charts.cost_chart(df), charts.overview_chart(df)):
        assert "<svg" in charts.chart_to_svg(chart)


def test_many_or_long_cost_units_make_a_short_title() -> None:
    units = [f"U{i}" for i in range(7)] + ["x" * 5000]
    df = synthetic_frame(40).with_columns(
        cost=pl.lit(0.25), cost_unit=pl.Series(units * 5).head(40)
    )
    spec = charts.cost_chart(df).to_dict()
    line = next(v for v in spec["vconcat"] if "Provider-reported" in str(v.get("title")))
    assert line["title"]["text"] == "Provider-reported cost per period (U0, U1, U2 and 5 more)"
    assert line["encoding"]["y"]["title"] == "U0, U1, U2 and 5 more"


FRAME = synthetic_frame(40)
ENTRY_POINTS = {
    "summarize": ra.summarize,
    "trend": ra.trend,
    "storage_growth": ra.storage_growth,
    "cost_summary": ra.cost_summary,
    "storage_chart": lambda df: charts.storage_chart(df).to_dict(),
    "top_groups_chart": lambda df: charts.top_groups_chart(df).to_dict(),
    "report_html": ra.report_html,
    "Explorer": ra.Explorer,
}


@pytest.mark.parametrize("entry", ENTRY_POINTS)
@pytest.mark.parametrize(
    ("column", "wrong"),
    [
        ("created_at", pl.col("created_at").dt.date()),
        ("size_bytes", pl.col("size_bytes").cast(pl.String)),
        ("cost", pl.col("cost").cast(pl.String)),
        ("deleted_at", pl.col("deleted_at").dt.to_string()),
    ],
)
def test_a_unified_column_of_the_wrong_kind_is_a_config_error_naming_it(
    entry: str, column: str, wrong: pl.Expr
) -> None:
    # These were polars SchemaError/InvalidOperationError from inside the query.
    with pytest.raises(ra.ConfigError) as info:
        ENTRY_POINTS[entry](FRAME.with_columns(wrong.alias(column)))
    assert info.value.parameter == "df" and column in str(info.value)


@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_an_untyped_null_column_and_naive_datetimes_are_read_as_the_schema_says(
    entry: str,
) -> None:
    df = FRAME.with_columns(
        status=pl.lit(None), created_at=pl.col("created_at").dt.replace_time_zone(None)
    )
    assert ENTRY_POINTS[entry](df) is not None


def test_a_storage_rate_of_zero_beside_the_defaults_prices_storage_at_zero() -> None:
    # An int 0 beside the float defaults made polars build an integer column and fail.
    costs = ra.cost_summary(FRAME, rates={"twilio": 0})
    twilio = costs.filter(pl.col("provider") == "twilio")
    assert twilio["estimated_monthly_cost"].to_list() == [0.0]


def test_a_rejected_url_or_a_huge_value_stays_out_of_the_message() -> None:
    secret = "tw+secret/value=="
    with pytest.raises(ra.ConfigError) as info:
        ra.load_twilio_recordings(
            base_url=f"ftp://AC1:{secret}@example.com", credentials=CREDENTIALS["twilio"]
        )
    assert info.value.parameter == "base_url" and secret not in str(info.value)
    with pytest.raises(ra.ConfigError) as info:
        ra.load_twilio_recordings(since="x" * 100_000, credentials=CREDENTIALS["twilio"])
    assert info.value.parameter == "since" and len(str(info.value)) < 1000


@pytest.mark.parametrize(
    "text",
    ["2025-01-019123000", "2025-01-01x23", "2025-06-15Z10:00", "2025-01-01" + "0" * 100_000],
)
def test_a_date_with_anything_but_a_t_or_space_before_its_time_is_refused(text: str) -> None:
    # Python's fromisoformat takes any character there: "2025-01-019123000" was read as
    # 2025-01-01 12:30 UTC and the load ran on a range nobody asked for.
    with pytest.raises(ra.ConfigError) as info:
        ra.load_twilio_recordings(until=text, credentials=CREDENTIALS["twilio"])
    assert info.value.parameter == "until" and "ISO 8601" in str(info.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-01-31 12:00", dt.datetime(2025, 1, 31, 12, tzinfo=dt.UTC)),
        ("20250131T120000Z", dt.datetime(2025, 1, 31, 12, tzinfo=dt.UTC)),
        ("2025-01-31T12:00:00,5-08:00", dt.datetime(2025, 1, 31, 20, 0, 0, 500_000, dt.UTC)),
        ("2025-W05-1", dt.datetime(2025, 1, 27, tzinfo=dt.UTC)),
    ],
)
def test_iso_8601_forms_are_still_read(text: str, expected: dt.datetime) -> None:
    assert parse_when(text, "since") == expected
