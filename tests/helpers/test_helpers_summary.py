from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

import recanalytics as ra
from recanalytics.helpers import summarize, trend
from recanalytics.schema import PROVIDERS, conform

S = timedelta(seconds=1)

CHARTS = (
    "overview_chart",
    "storage_chart",
    "volume_chart",
    "duration_histogram",
    "duration_boxplot",
    "codec_mix_chart",
    "status_chart",
    "size_duration_chart",
    "top_groups_chart",
    "cost_chart",
)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def df() -> pl.DataFrame:
    rows = [
        # provider, kind, status, created_at, deleted_at, duration, size, bitrate, cost, unit
        ("twilio", "track", "completed", utc(2025, 1, 5), None, 10 * S, 40_000, None, None, None),
        ("twilio", "track", "failed", utc(2025, 1, 6), None, 20 * S, None, 64.0, None, None),
        ("twilio", "composition", "completed", utc(2025, 2, 1), None, 0 * S, 0, 0.0, None, None),
        ("plivo", "call", "completed", utc(2025, 1, 10), None, 60 * S, None, None, 0.0004, "USD"),
        ("plivo", "call", None, utc(2025, 3, 1), None, None, None, None, None, None),
        ("signalwire", "call", "absent", utc(2025, 3, 3), None, 30 * S, None, None, 0.0025, "USD"),
        (
            "zoom",
            "session_file",
            "completed",
            utc(2025, 2, 10),
            utc(2025, 3, 10),
            5400 * S,
            10**9,
            None,
            None,
            None,
        ),
    ]
    names = [
        "provider",
        "kind",
        "status",
        "created_at",
        "deleted_at",
        "duration",
        "size_bytes",
        "bitrate_kbps",
        "cost",
        "cost_unit",
    ]
    return conform(pl.DataFrame(rows, schema=names, orient="row")).collect()


SUMMARY_COLUMNS = [
    "count",
    "total_duration",
    "mean_duration",
    "median_duration",
    "p95_duration",
    "total_hours",
    "total_size_bytes",
    "mean_bitrate_kbps",
    "failed_share",
    "estimated_monthly_cost",
    "reported_cost",
    "cost_unit",
    "cost_kind",
]


def test_summarize_by_provider(df: pl.DataFrame) -> None:
    result = summarize(df, by="provider")
    assert result.columns == ["provider", *SUMMARY_COLUMNS]
    assert result.schema["total_duration"] == pl.Duration("ms")
    assert result.schema["p95_duration"] == pl.Duration("ms")
    rows = {row["provider"]: row for row in result.iter_rows(named=True)}
    assert list(rows) == list(PROVIDERS)  # enum order, not alphabetical

    twilio = rows["twilio"]
    assert twilio["count"] == 3
    assert twilio["total_duration"] == 30 * S
    assert twilio["mean_duration"] == 10 * S
    assert twilio["median_duration"] == 10 * S
    assert twilio["p95_duration"] == 19 * S  # linear between 10 s and 20 s
    assert twilio["total_hours"] == pytest.approx(30 / 3600, rel=1e-15)
    assert twilio["total_size_bytes"] == 40_000
    # 32 kbps estimated, 64 reported, zero-length composition has none (and reported 0 = none)
    assert twilio["mean_bitrate_kbps"] == 48.0
    assert twilio["failed_share"] == pytest.approx(1 / 3, rel=1e-15)
    assert twilio["estimated_monthly_cost"] == pytest.approx(40_000 / 1e9 * 0.05, rel=1e-12)
    assert twilio["reported_cost"] is None
    assert twilio["cost_unit"] is None

    plivo = rows["plivo"]
    assert (plivo["count"], plivo["total_duration"], plivo["p95_duration"]) == (2, 60 * S, 60 * S)
    assert plivo["total_size_bytes"] is None  # unknown, not zero
    assert plivo["mean_bitrate_kbps"] is None
    assert plivo["failed_share"] == 0.0  # a null status is not a failure
    assert plivo["estimated_monthly_cost"] == 0.0004
    assert (plivo["reported_cost"], plivo["cost_unit"]) == (0.0004, "USD")
    assert plivo["cost_kind"] == "monthly storage"

    zoom = rows["zoom"]
    assert zoom["total_hours"] == 1.5
    assert zoom["total_size_bytes"] == 10**9
    assert zoom["mean_bitrate_kbps"] == pytest.approx(10**9 * 8 / 5_400_000, rel=1e-15)
    assert zoom["estimated_monthly_cost"] == 0.0  # deleted: no longer stored

    signalwire = rows["signalwire"]
    assert signalwire["failed_share"] == 1.0  # "absent" counts as failed
    assert (signalwire["estimated_monthly_cost"], signalwire["reported_cost"]) == (0.0005, 0.0025)
    assert signalwire["cost_kind"] == "one-off"


def test_summarize_overall(df: pl.DataFrame) -> None:
    result = summarize(df)
    assert result.columns == SUMMARY_COLUMNS
    row = result.row(0, named=True)
    assert row["count"] == 7
    assert row["total_duration"] == 5520 * S
    assert row["median_duration"] == 25 * S  # of six known durations
    assert row["failed_share"] == pytest.approx(2 / 7, rel=1e-15)
    assert row["total_size_bytes"] == 10**9 + 40_000
    # Plivo's 0.0004 a month and SignalWire's one-off 0.0025 have no total (was 0.0029).
    assert row["reported_cost"] is None
    assert (row["cost_unit"], row["cost_kind"]) == ("USD", "monthly storage, one-off")


def test_summarize_several_keys_and_custom_failures(df: pl.DataFrame) -> None:
    result = summarize(df, by=["provider", "kind"], failed={"COMPLETED"})
    assert result.select("provider", "kind", "count", "failed_share").rows() == [
        ("twilio", "track", 2, 0.5),
        ("twilio", "composition", 1, 1.0),
        ("plivo", "call", 2, 0.5),
        ("zoom", "session_file", 1, 1.0),
        ("signalwire", "call", 1, 0.0),
    ]


def test_summarize_by_derived_bucket(df: pl.DataFrame) -> None:
    bucketed = df.with_columns(pl.col("duration").rec.bucket().alias("bucket"))
    result = summarize(bucketed, by="bucket").select("bucket", "count")
    assert result.rows() == [
        (None, 1),
        ("< 1 min", 4),
        ("1-5 min", 1),
        (">= 60 min", 1),
    ]


def test_summarize_lazy_in_lazy_out_and_input_untouched(df: pl.DataFrame) -> None:
    before = df.clone()
    lazy = summarize(df.lazy(), by="provider")
    assert isinstance(lazy, pl.LazyFrame)
    assert_frame_equal(lazy.collect(), summarize(df, by="provider"))
    assert_frame_equal(df, before)


def test_summarize_empty_frame() -> None:
    row = summarize(ra.empty_frame()).row(0, named=True)
    assert row["count"] == 0
    assert row["failed_share"] is None
    assert row["total_size_bytes"] is None
    assert row["estimated_monthly_cost"] is None
    assert summarize(ra.empty_frame(), by="provider").height == 0


def test_summarize_validates_arguments(df: pl.DataFrame) -> None:
    with pytest.raises(ra.ConfigError, match="team"):
        summarize(df, by="team")
    with pytest.raises(ra.ConfigError):
        summarize(df, failed="failed")
    with pytest.raises(ra.ConfigError):
        summarize(df, by=[1])  # type: ignore[list-item]


def test_trend_monthly(df: pl.DataFrame) -> None:
    result = trend(df)
    assert result.columns == [
        "period",
        "recordings",
        "hours",
        "bytes_added",
        "bytes_deleted",
        "bytes_held",
    ]
    assert result.rows() == [
        (utc(2025, 1, 1), 3, pytest.approx(90 / 3600, rel=1e-15), 40_000, 0, 40_000),
        (utc(2025, 2, 1), 2, 1.5, 10**9, 0, 10**9 + 40_000),
        # Plivo and SignalWire send no size: the bytes added are unknown, not 0.
        (utc(2025, 3, 1), 2, pytest.approx(30 / 3600, rel=1e-15), None, 10**9, 40_000),
    ]


def test_trend_quarterly_by_provider_fills_gaps(df: pl.DataFrame) -> None:
    monthly = trend(df, by="provider")
    assert monthly.height == 4 * 3  # every provider gets every month
    signalwire = monthly.filter(provider="signalwire")
    assert signalwire.select("recordings", "hours").rows() == [
        (0, 0.0),
        (0, 0.0),
        (1, pytest.approx(30 / 3600, rel=1e-15)),
    ]
    quarterly = trend(df, "1q")
    assert quarterly.select("period", "recordings", "bytes_held").rows() == [
        (utc(2025, 1, 1), 7, 40_000)
    ]


def test_trend_lazy_empty_and_validation(df: pl.DataFrame) -> None:
    lazy = trend(df.lazy(), "1w")
    assert isinstance(lazy, pl.LazyFrame)
    assert lazy.collect()["recordings"].sum() == 7
    assert trend(ra.empty_frame()).height == 0
    with pytest.raises(ra.ConfigError, match="every"):
        trend(df, "quarterly")


def test_summarize_mean_bitrate_ignores_a_nan_reported_bitrate(df: pl.DataFrame) -> None:
    nan = df.with_columns(
        bitrate_kbps=pl.when(pl.col("bitrate_kbps") == 64.0)
        .then(float("nan"))
        .otherwise(pl.col("bitrate_kbps"))
    )
    twilio = summarize(nan, by="provider").filter(provider="twilio")["mean_bitrate_kbps"].item()
    # NaN counts as not reported; with no size to estimate from, the track has no bitrate,
    # and the mean is the first track's estimate (the composition has no duration).
    assert twilio == 32.0


def test_summarize_sums_past_int64_are_null_not_wrapped_around(df: pl.DataFrame) -> None:
    huge = df.with_columns(
        size_bytes=pl.Series([2**63 - 1, 2**62, 2**62, None, None, None, 1], dtype=pl.Int64)
    )
    result = summarize(huge, by="provider")
    assert result.schema["total_size_bytes"] == pl.Int64
    sizes = dict(zip(result["provider"].cast(pl.String), result["total_size_bytes"], strict=True))
    assert sizes == {"twilio": None, "plivo": None, "zoom": 1, "signalwire": None}
    assert summarize(huge)["total_size_bytes"].item() is None
    # Durations sum the same way: past the Duration(ms) range is null, not a negative total.
    long = pl.DataFrame({"duration": [timedelta.max] * 200}, schema={"duration": pl.Duration("ms")})
    long = conform(long).collect()
    total, mean_days = (
        summarize(long).select("total_duration", pl.col("mean_duration").dt.total_days()).row(0)
    )
    assert total is None
    assert mean_days > 10**8


def test_trend_bytes_past_int64_are_null_not_wrapped_around(df: pl.DataFrame) -> None:
    huge = df.with_columns(
        size_bytes=pl.Series([2**63 - 1, 2**62, 2**62, None, None, None, None], dtype=pl.Int64)
    )
    result = trend(huge, "1y")
    assert result.schema["bytes_added"] == pl.Int64
    assert result.select("bytes_added", "bytes_held").rows() == [(None, None)]


def test_trend_refuses_a_fine_every_over_years_before_zero_filling(df: pl.DataFrame) -> None:
    # "1s" from 2025 to 2028 is about 95 million periods for each of 4 providers: refused from
    # the span alone, before a single period is made.
    zoom = pl.col("provider") == "zoom"
    years = df.with_columns(
        created_at=pl.when(zoom).then(pl.lit(utc(2028, 1, 1))).otherwise(pl.col("created_at")),
        # Deleted after it was created, as the fixture's: not taken as deleted when created.
        deleted_at=pl.when(zoom).then(pl.lit(utc(2028, 2, 1))).otherwise(pl.col("deleted_at")),
    )
    with pytest.raises(ra.ConfigError, match="every") as info:
        trend(years, every="1s", by="provider")
    assert info.value.parameter == "every"
    lazy = trend(years.lazy(), every="1s")
    assert isinstance(lazy, pl.LazyFrame)
    with pytest.raises(ra.ConfigError, match="every"):
        lazy.collect()


def test_totals_of_recordings_without_any_known_duration_are_unknown(df: pl.DataFrame) -> None:
    # polars sums an all-null column to 0: "0 hours" for recordings whose durations are
    # unknown, while the mean beside it was null.
    unknown = df.with_columns(
        duration=pl.when(pl.col("provider") == "plivo").then(None).otherwise(pl.col("duration"))
    )
    out = summarize(unknown, by="provider")
    plivo = out.filter(pl.col("provider") == "plivo").row(0, named=True)
    assert plivo["count"] > 0 and plivo["total_duration"] is None and plivo["total_hours"] is None
    others = out.filter(pl.col("provider") != "plivo")
    assert others["total_hours"].null_count() == 0
    empty = summarize(unknown.head(0))
    assert empty["total_hours"].to_list() == [0.0]  # nothing recorded: 0, not unknown


def test_trend_gives_null_where_nothing_is_known_not_zero(df: pl.DataFrame) -> None:
    # Plivo sends no size: trend reported bytes_added = 0 where summarize says None. As for
    # summarize's durations, a period with recordings none of which is known is null; a period
    # with no recording at all is 0.
    plivo = df.filter(provider="plivo")
    assert summarize(plivo)["total_size_bytes"].to_list() == [None]
    assert trend(plivo).rows() == [
        (utc(2025, 1, 1), 1, pytest.approx(60 / 3600, rel=1e-15), None, 0, None),
        (utc(2025, 2, 1), 0, 0.0, 0, 0, None),
        (utc(2025, 3, 1), 1, None, None, 0, None),  # its one recording has no duration
    ]


@pytest.mark.parametrize("unit", ["ns", "ms"])
def test_datetimes_of_another_unit_work_everywhere(df: pl.DataFrame, unit: str) -> None:
    # created_at in nanoseconds (a frame that went through pandas or pyarrow) beside deleted_at
    # in microseconds failed trend, storage_growth, the time charts and the report with
    # "datatypes of join keys don't match".
    from recanalytics import charts
    from recanalytics.report import report_html

    other = df.with_columns(pl.col("created_at").cast(pl.Datetime(unit, "UTC")))
    assert_frame_equal(trend(other, every="1mo"), trend(df, every="1mo"))
    assert_frame_equal(ra.storage_growth(other, every="1mo"), ra.storage_growth(df, every="1mo"))
    assert charts.overview_chart(other).to_dict() == charts.overview_chart(df).to_dict()
    assert report_html(other).count("<h2") == report_html(df).count("<h2")


@pytest.mark.parametrize(
    ("dtype", "unfit"),
    [
        pytest.param(pl.Float64, float("nan"), id="float-nan"),
        pytest.param(pl.Float64, float("inf"), id="float-inf"),
        pytest.param(pl.Float64, 1e19, id="float-1e19"),
        pytest.param(pl.UInt64, 2**64 - 1, id="uint64"),
        pytest.param(pl.Decimal(30, 0), None, id="decimal"),
    ],
)
def test_sizes_of_another_number_type_work_everywhere(
    df: pl.DataFrame, dtype: pl.DataType, unfit: float | None
) -> None:
    # Sizes as floats (pandas with NaN), Decimal, or UInt64 that do not fit Int64 failed
    # summarize, trend, the charts, the report and the explorer with polars' "conversion
    # failed" (or OverflowError), and a Decimal sum could not be written into the report's JSON.
    from recanalytics import charts
    from recanalytics.report import report_html
    from recanalytics.widgets import FilterPanel

    other = df.with_columns(pl.col("size_bytes").cast(dtype))
    assert_frame_equal(summarize(other), summarize(df))
    odd = pl.concat(
        [other, other.head(1).with_columns(pl.lit(unfit).cast(dtype).alias("size_bytes"))]
    )
    assert summarize(odd)["count"].sum() == odd.height  # the unfit size is unknown, its row kept
    assert (
        summarize(odd)["total_size_bytes"].to_list() == summarize(df)["total_size_bytes"].to_list()
    )
    trend(odd, every="1mo")
    ra.storage_growth(odd, every="1mo")
    charts.storage_chart(odd).to_dict()
    demo = ra.demo(size=20).with_columns(pl.col("size_bytes").cast(dtype))
    charts.chart_html(charts.top_groups_chart(demo))  # a Decimal sum is not JSON
    assert "<h2" in report_html(odd)
    assert FilterPanel(odd).filtered.height == odd.height


def test_durations_past_pythons_timedelta_open_in_the_explorer(df: pl.DataFrame) -> None:
    from recanalytics.widgets import FilterPanel

    huge = pl.Series([10**17] * df.height, dtype=pl.Int64).cast(pl.Duration("ms"))
    assert FilterPanel(df.with_columns(duration=huge)).filtered.height == df.height
    # A negative duration is unknown (null), as a loader reads it, and said.
    with pytest.warns(ra.LoadWarning, match=f"duration in {df.height} recordings"):
        panel = FilterPanel(df.with_columns(duration=huge * -1))
    assert panel.filtered.height == df.height


@pytest.mark.parametrize("dtype", [pl.Categorical(), pl.Enum(["completed", "deleted", "failed"])])
def test_categorical_text_columns_work_everywhere(dtype: pl.DataType, tmp_path: Path) -> None:
    # A Categorical (or Enum) status or group_name, as pandas' category dtype gives, failed
    # nearly every helper, chart, the report and the explorer with polars' SchemaError
    # ("expected String, got cat"), and the explorer's search with InvalidOperationError.
    from recanalytics import charts
    from recanalytics.report import report_charts, report_html, summary_table
    from recanalytics.widgets import FilterPanel

    base = ra.demo(size=60).with_columns(
        status=pl.when(pl.col("status").is_in(["completed", "deleted"]))
        .then(pl.col("status"))
        .otherwise(pl.lit("failed"))
    )
    text = base.with_columns(
        pl.col("status").cast(dtype),
        pl.col("group_name").cast(pl.Categorical),
        pl.col("track_name").cast(pl.Categorical),
        pl.col("codec").cast(pl.Categorical),
    )
    for frame in (text, text.lazy()):
        for name in ("summarize", "cost_summary", "duration_percentiles"):
            got = getattr(ra, name)(frame, by="provider")
            got = got.collect() if isinstance(got, pl.LazyFrame) else got
            assert_frame_equal(got, getattr(ra, name)(base, by="provider"))
        for name in ("trend", "storage_growth"):
            got = getattr(ra, name)(frame, "1mo", by="provider")
            got = got.collect() if isinstance(got, pl.LazyFrame) else got
            assert_frame_equal(got, getattr(ra, name)(base, "1mo", by="provider"))
        for name in CHARTS:
            made = getattr(charts, name)(frame).to_dict()
            assert made == getattr(charts, name)(base).to_dict(), name
        assert_frame_equal(summary_table(frame), summary_table(base))
        assert list(report_charts(frame)) == list(report_charts(base))
    assert "<h2" in report_html(text)
    assert text.select(ra.monthly_storage_cost()).to_series().to_list() == (
        base.select(ra.monthly_storage_cost()).to_series().to_list()
    )
    panel = FilterPanel(text, debounce=0)
    panel.controls["status"].value = ("completed",)
    panel.controls["search"].value = "room"
    wanted = base.filter(
        (pl.col("status") == "completed")
        & pl.any_horizontal(
            pl.col(c).str.to_lowercase().str.contains("room").fill_null(False)
            for c in ("group_id", "group_name", "track_name")
        )
    )
    assert panel.filtered.height == wanted.height > 0
    explorer = ra.explore(text, renderer="svg", debounce=0)
    explorer.draw_all()
    assert explorer.errors.last is None
    store = ra.Store(tmp_path)
    assert store.upsert(text).inserted == text.height
    assert_frame_equal(store.read().sort("recording_id"), store.read().sort("recording_id"))
    assert store.read()["status"].dtype == pl.String


def test_negative_sizes_and_durations_are_unknown_and_said(df: pl.DataFrame) -> None:
    # A hand-built frame's negative sizes and durations were summed: total_size_bytes and the
    # cost fell, size_human read "-145.7 MiB". The loaders read such a value as null with a
    # LoadWarning; every frame function now does the same.
    negative = df.with_columns(
        size_bytes=pl.when(pl.col("provider") == "zoom")
        .then(-pl.col("size_bytes"))
        .otherwise(pl.col("size_bytes")),
        duration=pl.when(pl.col("kind") == "track")
        .then(-pl.col("duration"))
        .otherwise(pl.col("duration")),
        cost=-pl.col("cost"),
    )
    # A negative cost is a charge, as the loaders read SignalWire's and Twilio's 2010 prices:
    # its absolute value, the frame's own cost here.
    nulled = df.with_columns(
        size_bytes=pl.when(pl.col("provider") != "zoom").then(pl.col("size_bytes")),
        duration=pl.when(pl.col("kind") != "track").then(pl.col("duration")),
    )
    said = (
        "negative values are taken as unknown \\(null\\), as the loaders take them: "
        "duration in 2 recordings, size_bytes in 1 recording; a negative cost in 2 recordings "
        "is taken as the charge it is \\(its absolute value\\)"
    )
    for name, call in {
        "summarize": lambda d: summarize(d, by="provider"),
        "cost_summary": lambda d: ra.cost_summary(d),
        "duration_percentiles": lambda d: ra.duration_percentiles(d),
        "trend": lambda d: trend(d, every="1mo"),
    }.items():
        expected = call(nulled)
        match = said if name != "trend" else "duration in 2 recordings, size_bytes in 1 recording$"
        if name == "duration_percentiles":
            match = "duration in 2 recordings$"
        with pytest.warns(ra.LoadWarning, match=match) as eager:
            assert_frame_equal(call(negative), expected)
        lazy = call(negative.lazy())  # counted when collected: a LazyFrame stays lazy
        with pytest.warns(ra.LoadWarning, match=match) as collected:
            assert_frame_equal(lazy.collect(), expected)
        # At the caller's line, not inside recanalytics or polars (which runs the count).
        assert {w.filename for w in [*eager, *collected]} == {__file__}
    with pytest.warns(ra.LoadWarning, match=said):
        total = summarize(negative)
    assert total["total_size_bytes"].item() == 40_000  # the zoom size is unknown, not -10**9
    assert total["estimated_monthly_cost"].item() >= 0
