from __future__ import annotations

from datetime import timedelta

import polars as pl
import pytest

import recanalytics as ra
from recanalytics.helpers import (
    billed_minutes,
    bucket_labels,
    duration_bucket,
    duration_hours,
    duration_human,
    duration_minutes,
    duration_percentiles,
    duration_seconds,
)

S = timedelta(seconds=1)
MS = timedelta(milliseconds=1)
MIN = timedelta(minutes=1)
H = timedelta(hours=1)


def frame(values: list[timedelta | None], unit: str = "ms") -> pl.DataFrame:
    return pl.DataFrame({"duration": values}, schema={"duration": pl.Duration(unit)})  # type: ignore[arg-type]


def column(df: pl.DataFrame, expr: pl.Expr) -> list[object]:
    return df.select(expr).to_series().to_list()


def approx(values: list[float | None]) -> list[object]:
    # polars divides by a scalar through its reciprocal: results may differ by one ulp.
    return [None if v is None else pytest.approx(v, rel=1e-15, abs=0) for v in values]


def test_conversions_with_nulls_and_zero() -> None:
    df = frame([timedelta(0), 59_999 * MS, 60 * S, 90 * MIN, None])
    assert column(df, duration_seconds()) == approx([0.0, 59.999, 60.0, 5400.0, None])
    assert column(df, duration_minutes()) == approx([0.0, 59_999 / 60_000, 1.0, 90.0, None])
    assert column(df, duration_hours()) == approx([0.0, 59_999 / 3_600_000, 1 / 60, 1.5, None])
    assert (
        df.select(duration_seconds(), duration_minutes(), duration_hours()).dtypes
        == [pl.Float64] * 3
    )


@pytest.mark.parametrize("unit", ["ms", "us", "ns"])
def test_conversions_accept_every_time_unit(unit: str) -> None:
    df = frame([timedelta(microseconds=1_500)], unit)
    expected = 0.0015 if unit != "ms" else 0.001  # ms columns cannot hold the extra 500 us
    assert column(df, duration_seconds()) == approx([expected])


def test_billed_minutes_round_up_per_started_minute() -> None:
    df = frame([timedelta(0), MS, 59_999 * MS, 60 * S, 60_001 * MS, None, -5 * S, 3 * H])
    assert column(df, billed_minutes()) == [0, 1, 1, 1, 2, None, 0, 180]
    assert df.select(billed_minutes()).dtypes == [pl.Int64]


def test_duration_human_unit_boundaries() -> None:
    values = [
        timedelta(0),
        999 * MS,
        45 * S,
        59_999 * MS,
        60 * S,
        303 * S,
        3599 * S,
        H,
        62 * MIN,
        26 * H,
        -90 * S,
        -500 * MS,
        -MS,
        -(23 * MIN + 5 * S),
        -62 * MIN,
        None,
    ]
    assert column(frame(values), duration_human()) == [
        "0 s",
        "0 s",
        "45 s",
        "59 s",
        "1 min 00 s",
        "5 min 03 s",
        "59 min 59 s",
        "1 h 00 min",
        "1 h 02 min",
        "26 h 00 min",
        "-1 min 30 s",
        # Every negative value says so: -1 ms read "0 s" beside "-23 min 05 s".
        "-0 s",
        "-0 s",
        "-23 min 05 s",
        "-1 h 02 min",
        None,
    ]


def test_duration_bucket_default_edges_are_left_closed() -> None:
    values = [
        timedelta(0),
        59_999 * MS,
        60 * S,
        5 * MIN - MS,
        5 * MIN,
        15 * MIN,
        H - MS,
        H,
        10 * H,
        None,
    ]
    result = frame(values).select(duration_bucket()).to_series()
    labels = ["< 1 min", "1-5 min", "5-15 min", "15-60 min", ">= 60 min"]
    assert result.dtype == pl.Enum(labels)
    assert result.to_list() == [
        "< 1 min",
        "< 1 min",
        "1-5 min",
        "1-5 min",
        "5-15 min",
        "15-60 min",
        "15-60 min",
        ">= 60 min",
        ">= 60 min",
        None,
    ]
    assert bucket_labels() == labels


def test_duration_bucket_sorts_in_duration_order_not_alphabetically() -> None:
    df = frame([2 * H, 30 * S, 10 * MIN, 3 * MIN])
    ordered = df.select(duration_bucket()).sort("duration_bucket").to_series().to_list()
    assert ordered == ["< 1 min", "1-5 min", "5-15 min", ">= 60 min"]


def test_duration_bucket_custom_edges_and_labels() -> None:
    df = frame([10 * S, 30 * S, 90 * S, 3 * MIN])
    assert column(df, duration_bucket(edges=[0.5, 2])) == [
        "< 0.5 min",
        "0.5-2 min",
        "0.5-2 min",
        ">= 2 min",
    ]
    assert column(df, duration_bucket(edges=[timedelta(seconds=30)], labels=["short", "long"])) == [
        "short",
        "long",
        "long",
        "long",
    ]


@pytest.mark.parametrize(
    ("edges", "labels"),
    [
        ([], None),
        ([5, 1], None),
        ([1, 1], None),
        ([0], None),
        ([-1], None),
        ("15", None),
        (["a"], None),
        ([1], ["only one"]),
        ([1], ["same", "same"]),
    ],
)
def test_duration_bucket_rejects_bad_edges_and_labels(edges: object, labels: object) -> None:
    with pytest.raises(ra.ConfigError):
        duration_bucket(edges=edges, labels=labels)  # type: ignore[arg-type]


def test_duration_percentiles_by_group_linear() -> None:
    df = pl.DataFrame(
        {
            "g": ["a", "a", "a", "a", "b", "b", "c"],
            "duration": [10 * S, 20 * S, 30 * S, 40 * S, None, 5 * S, None],
        },
        schema={"g": pl.String, "duration": pl.Duration("ms")},
    )
    result = duration_percentiles(df, "g", quantiles=[0.5, 0.9, 0.999])
    assert result.columns == ["g", "p50", "p90", "p99.9"]
    assert result.rows() == [
        ("a", 25 * S, 37 * S, timedelta(seconds=39.97)),
        ("b", 5 * S, 5 * S, 5 * S),
        ("c", None, None, None),
    ]
    overall = duration_percentiles(df, quantiles=[0.5])
    assert overall.rows() == [(20 * S,)]


def test_duration_percentiles_lazy_in_lazy_out() -> None:
    lazy = frame([S, 3 * S]).lazy()
    result = duration_percentiles(lazy, quantiles=[0.5])
    assert isinstance(result, pl.LazyFrame)
    assert result.collect().rows() == [(2 * S,)]


@pytest.mark.parametrize("quantiles", [[], [1.5], [-0.1], [True], ["0.5"]])
def test_duration_percentiles_rejects_bad_quantiles(quantiles: list[object]) -> None:
    with pytest.raises(ra.ConfigError):
        duration_percentiles(frame([S]), quantiles=quantiles)  # type: ignore[arg-type]


def test_duration_percentiles_names_missing_columns() -> None:
    with pytest.raises(ra.ConfigError, match="nope"):
        duration_percentiles(frame([S]), "nope")


def test_expressions_work_in_group_by_and_lazy() -> None:
    df = pl.DataFrame(
        {"g": ["a", "a", "b"], "duration": [30 * S, 90 * S, None]},
        schema={"g": pl.String, "duration": pl.Duration("ms")},
    )
    result = (
        df.lazy()
        .group_by("g")
        .agg(duration_hours().sum().alias("h"), billed_minutes().sum().alias("billed"))
        .sort("g")
        .collect()
    )
    assert result.rows() == [("a", pytest.approx(2 / 60, rel=1e-15), 3), ("b", 0.0, 0)]


def test_durations_past_292_000_years_are_read_whole_never_wrapped() -> None:
    # Microseconds of a millisecond column wrap past Int64 (about 292,000 years): 2**62 ms read
    # as 0 s, "0 s", 0 billed minutes and "< 1 min", and summarize's total_hours (2.0) disagreed
    # with its total_duration.
    fit = (2**63 - 1) // 1000  # the most milliseconds whose microseconds fit Int64
    huge = [3_600_000, 2**62, 2**63 - 1, fit, fit + 1]
    df = pl.DataFrame({"duration": huge}).with_columns(pl.col("duration").cast(pl.Duration("ms")))
    assert column(df, duration_seconds()) == approx([ms / 1000 for ms in huge])
    assert column(df, duration_hours()) == approx([ms / 3_600_000 for ms in huge])
    assert column(df, billed_minutes()) == [-(-ms // 60_000) for ms in huge]
    assert column(df, duration_human()) == [
        f"{ms // 3_600_000} h {ms // 60_000 % 60:02d} min" for ms in huge
    ]
    assert set(column(df, duration_bucket())) == {">= 60 min"}
    assert column(df.with_columns(-pl.col("duration")), billed_minutes()) == [0] * len(huge)
    bitrate = df.select(ra.estimate_bitrate(pl.lit(8 * 10**15), "duration")).to_series()
    assert bitrate[1] == pytest.approx(8 * 8 * 10**15 / 2**62)
    both = pl.concat([ra.empty_frame(), df.head(2)], how="diagonal_relaxed").with_columns(
        provider=pl.lit("twilio").cast(ra.SCHEMA["provider"])
    )
    total = (
        ra.summarize(both)
        .select(pl.col("total_duration").dt.total_milliseconds(), "total_hours")
        .row(0, named=True)
    )
    assert total["total_duration"] == 3_600_000 + 2**62
    assert total["total_hours"] == pytest.approx((3_600_000 + 2**62) / 3_600_000)
    from recanalytics.report import summary_table

    table = summary_table(both)
    assert table["hours"][-1] == pytest.approx(total["total_hours"], rel=1e-12)
    # Truncated to whole seconds, not wrapped (past Python's timedelta: compared in polars).
    p95 = ra.summarize(both).select(pl.col("p95_duration").dt.total_milliseconds()).item()
    shown = table.select(pl.col("p95").dt.total_milliseconds()).to_series()[-1]
    assert shown == p95 - p95 % 1000 > 2**61
