from __future__ import annotations

import inspect
from datetime import UTC, datetime, timedelta

import polars as pl
import pytest
from polars.testing import assert_frame_equal

import recanalytics as ra
from recanalytics.helpers import (
    estimate_bitrate,
    fill_bitrate,
    parse_size,
    size_human,
    storage_growth,
)
from recanalytics.schema import conform


def human(values: list[int | float | None], **kwargs: object) -> list[object]:
    df = pl.DataFrame({"size_bytes": values}, schema={"size_bytes": pl.Float64})
    return df.select(size_human(**kwargs)).to_series().to_list()  # type: ignore[arg-type]


def test_size_human_iec_boundaries() -> None:
    values = [0, 1, 1023, 1024, 1536, 1_048_575, 1_048_576, 1.5 * 2**30, None, -2048, 1023.6]
    assert human(values) == [
        "0 B",
        "1 B",
        "1023 B",
        "1.0 KiB",
        "1.5 KiB",
        "1.0 MiB",  # 1023.999 KiB rounds up into the next unit, not "1024.0 KiB"
        "1.0 MiB",
        "1.5 GiB",
        None,
        "-2.0 KiB",
        "1.0 KiB",
    ]


def test_size_human_si_boundaries() -> None:
    values = [999, 1000, 999_949, 999_950, 1_500_000_000, 2 * 10**15]
    assert human(values, units="si") == [
        "999 B",
        "1.0 kB",
        "999.9 kB",
        "1.0 MB",
        "1.5 GB",
        "2.0 PB",
    ]


def test_size_human_decimals_and_int_columns() -> None:
    assert human([1536, 1100], decimals=0) == ["2 KiB", "1 KiB"]
    assert human([1536, 1100], decimals=2) == ["1.50 KiB", "1.07 KiB"]
    ints = pl.DataFrame({"size_bytes": [1024, None]}, schema={"size_bytes": pl.Int64})
    assert ints.select(size_human()).to_series().to_list() == ["1.0 KiB", None]


def test_size_human_of_a_negative_size_rounding_to_zero_has_no_sign() -> None:
    # A negative fraction of a byte read "-0 B"; one that rounds to -1 B keeps its sign.
    assert human([-0.4, -0.0, -0.6]) == ["0 B", "0 B", "-1 B"]


def test_size_human_largest_unit_does_not_overflow() -> None:
    assert human([2.0**70]) == ["1024.0 EiB"]


def test_size_human_non_finite_is_null() -> None:
    assert human([float("nan"), float("inf"), -float("inf")]) == [None, None, None]


@pytest.mark.parametrize("kwargs", [{"units": "binary"}, {"decimals": -1}, {"decimals": 1.5}])
def test_size_human_rejects_bad_options(kwargs: dict[str, object]) -> None:
    with pytest.raises(ra.ConfigError):
        size_human(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("512", 512),
        ("0", 0),
        (" 10 B ", 10),
        ("2 bytes", 2),
        ("1.5 GiB", 1_610_612_736),
        ("200 MB", 200_000_000),
        ("200mb", 200_000_000),
        ("1 KiB", 1024),
        ("1kB", 1000),
        ("1KB", 1000),
        (".5 KiB", 512),
        ("1.0005 kB", 1001),  # 1000.5 bytes rounds half up
        ("3 TiB", 3 * 2**40),
        ("1 EB", 10**18),
        (1024, 1024),
    ],
)
def test_parse_size(text: str | int, expected: int) -> None:
    result = parse_size(text)
    assert result == expected
    assert type(result) is int


@pytest.mark.parametrize(
    "text",
    [
        "",
        "abc",
        "-1 MB",
        "1.5 G",
        "1 k",
        "1e3",
        "10 XB",
        "1,5 GB",
        "MB",
        -5,
        -1,
        True,
        None,
        1.5,
        "\u0661\u0662\u0663 MB",  # Arabic-Indic digits: ASCII digits only, as for dates
        "\uff11\uff12 kB",  # fullwidth digits
        "1.\u0665 MB",  # a non-ASCII digit in the fraction
    ],
)
def test_parse_size_rejects_bad_input_naming_its_parameter(text: object) -> None:
    with pytest.raises(ra.ConfigError) as info:
        parse_size(text)  # type: ignore[arg-type]
    assert isinstance(info.value, ValueError)
    # The error names the parameter as the signature spells it.
    assert info.value.parameter == "text"
    assert "text" in inspect.signature(parse_size).parameters


def test_parse_size_explains_ambiguous_units() -> None:
    with pytest.raises(ra.ConfigError, match=r'"GB".*"GiB"'):
        parse_size("2G")


def test_estimate_and_fill_bitrate() -> None:
    df = pl.DataFrame(
        {
            "bitrate_kbps": [None, None, None, None, 64.0, 0.0, None],
            "size_bytes": [240_000, None, 100, 100, 1, 240_000, 1],
            "duration": [
                timedelta(seconds=60),
                timedelta(seconds=60),
                timedelta(0),
                None,
                timedelta(seconds=1),
                timedelta(seconds=60),
                timedelta(milliseconds=1),
            ],
        },
        schema={"bitrate_kbps": pl.Float64, "size_bytes": pl.Int64, "duration": pl.Duration("ms")},
    )
    assert df.select(estimate_bitrate()).to_series().to_list() == [
        32.0,
        None,
        None,
        None,
        0.008,
        32.0,
        8.0,
    ]
    assert df.select(fill_bitrate()).to_series().to_list() == [
        32.0,
        None,
        None,
        None,
        64.0,
        32.0,  # a reported 0 means "none" (Twilio compositions)
        8.0,
    ]


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def recordings() -> pl.DataFrame:
    return conform(
        pl.DataFrame(
            {
                "provider": ["twilio", "twilio", "plivo", "zoom", "twilio"],
                "status": ["completed", "deleted", "completed", "DELETED", "completed"],
                "created_at": [
                    utc(2025, 1, 10),
                    utc(2025, 1, 20),
                    utc(2025, 2, 1),
                    utc(2025, 4, 15),
                    None,
                ],
                "deleted_at": [None, utc(2025, 3, 5), None, None, None],
                "size_bytes": [100, 50, None, 10, 1000],
            }
        )
    ).collect()


def test_storage_growth_monthly(recordings: pl.DataFrame) -> None:
    result = storage_growth(recordings)
    assert result.schema == pl.Schema(
        {
            "period": pl.Datetime("us", "UTC"),
            "bytes_added": pl.Int64,
            "bytes_deleted": pl.Int64,
            "bytes_held": pl.Int64,
        }
    )
    assert result.rows() == [
        (utc(2025, 1, 1), 150, 0, 150),
        (utc(2025, 2, 1), None, 0, 150),  # only a Plivo row, size unknown: not 0 bytes added
        (utc(2025, 3, 1), 0, 50, 100),  # a month with nothing created adds 0
        (utc(2025, 4, 1), 10, 10, 100),  # status deleted, no deleted_at: gone when created
    ]


def test_storage_growth_quarterly_by_provider(recordings: pl.DataFrame) -> None:
    result = storage_growth(recordings, "1q", by="provider")
    assert result.columns == ["period", "provider", "bytes_added", "bytes_deleted", "bytes_held"]
    assert result.rows() == [
        (utc(2025, 1, 1), "twilio", 150, 50, 100),
        (utc(2025, 4, 1), "twilio", 0, 0, 100),
        # Plivo sends no size: what it added and holds is unknown, never 0 bytes.
        (utc(2025, 1, 1), "plivo", None, 0, None),
        (utc(2025, 4, 1), "plivo", 0, 0, None),
        (utc(2025, 1, 1), "zoom", 0, 0, 0),
        (utc(2025, 4, 1), "zoom", 10, 10, 0),
    ]


def test_storage_growth_lazy_in_lazy_out_and_input_untouched(recordings: pl.DataFrame) -> None:
    before = recordings.clone()
    lazy = storage_growth(recordings.lazy())
    assert isinstance(lazy, pl.LazyFrame)
    assert_frame_equal(lazy.collect(), storage_growth(recordings))
    assert_frame_equal(recordings, before)


def test_storage_growth_empty_frame() -> None:
    result = storage_growth(ra.empty_frame(), by="provider")
    assert result.height == 0
    assert result.schema == pl.Schema(
        {
            "period": pl.Datetime("us", "UTC"),
            "provider": ra.SCHEMA["provider"],
            "bytes_added": pl.Int64,
            "bytes_deleted": pl.Int64,
            "bytes_held": pl.Int64,
        }
    )


def test_storage_growth_validates_arguments(recordings: pl.DataFrame) -> None:
    with pytest.raises(ra.ConfigError, match="every"):
        storage_growth(recordings, "monthly")
    with pytest.raises(ra.ConfigError, match="size_bytes"):
        storage_growth(recordings.drop("size_bytes"))
    with pytest.raises(ra.ConfigError, match="team"):
        storage_growth(recordings, by="team")


def test_fill_bitrate_counts_a_nan_or_infinite_reported_bitrate_as_missing() -> None:
    # polars orders NaN above every number, so a bare "> 0" kept NaN as a reported bitrate.
    df = pl.DataFrame(
        {
            "bitrate_kbps": [float("nan"), float("inf"), -1.0, 64.0],
            "size_bytes": [1000, 1000, 1000, 1000],
            "duration": [timedelta(seconds=1)] * 4,
        },
        schema={"bitrate_kbps": pl.Float64, "size_bytes": pl.Int64, "duration": pl.Duration("ms")},
    )
    assert df.select(fill_bitrate()).to_series().to_list() == [8.0, 8.0, 8.0, 64.0]


def test_storage_growth_sums_past_int64_are_null_not_wrapped_around() -> None:
    # 2**63 - 1 + 2**62 + 2**62 wrapped around to -1 byte held.
    huge = conform(
        pl.DataFrame(
            {
                "created_at": [utc(2025, 1, 5), utc(2025, 1, 6), utc(2025, 2, 1)],
                "deleted_at": [None, None, utc(2025, 3, 1)],
                "status": ["completed"] * 3,
                "size_bytes": [2**63 - 1, 2**62, 2**62],
            }
        )
    ).collect()
    result = storage_growth(huge)
    assert result.schema["bytes_added"] == pl.Int64
    assert result.schema["bytes_held"] == pl.Int64
    assert result.rows() == [
        (utc(2025, 1, 1), None, 0, None),  # 2**63 - 1 + 2**62 does not fit Int64
        (utc(2025, 2, 1), 2**62, 0, None),
        (utc(2025, 3, 1), 0, 2**62, None),
    ]
    # Totals that fit again are exact: the running total is kept wider than Int64.
    shrinking = huge.with_columns(deleted_at=pl.lit(utc(2025, 3, 1)).dt.cast_time_unit("us"))
    assert storage_growth(shrinking)["bytes_held"].to_list() == [None, None, 0]


def spanning(*moments: datetime) -> pl.DataFrame:
    return conform(
        pl.DataFrame(
            {
                "provider": ["twilio", "zoom"][: len(moments)] * (len(moments) // 2 or 1),
                "created_at": list(moments),
                "status": ["completed"] * len(moments),
                "size_bytes": [10] * len(moments),
            }
        )
    ).collect()


@pytest.mark.parametrize("by", [None, "provider"])
def test_storage_growth_refuses_too_many_periods_before_laying_them_out(by: str | None) -> None:
    # "1s" over five years is 158 million periods per group: counted from the first and last
    # event, not zero-filled first (which took minutes and gigabytes).
    df = spanning(utc(2021, 1, 1), utc(2026, 1, 1))
    with pytest.raises(ra.ConfigError, match="every") as info:
        storage_growth(df, "1s", by=by)
    assert info.value.parameter == "every"
    assert "200,000 periods" in str(info.value)
    # The hint names an interval that fits five years (it suggested "1d" whatever was refused).
    assert 'such as every="1h"' in str(info.value)
    assert storage_growth(df, "1h", by=by).height > 0
    lazy = storage_growth(df.lazy(), "1s", by=by)  # a LazyFrame stays lazy: raised on collect
    with pytest.raises(ra.ConfigError, match="every"):
        lazy.collect()


def test_storage_growth_period_limit_is_exact_and_spans_the_calendar() -> None:
    start = utc(1500, 1, 1)
    assert storage_growth(spanning(start, start + timedelta(days=199_999)), "1d").height == 200_000
    with pytest.raises(ra.ConfigError, match="200,001") as info:
        storage_growth(spanning(start, start + timedelta(days=200_000)), "1d")
    assert 'such as every="1w"' in str(info.value)  # not the "1d" it refused
    # Monthly periods fit across the whole calendar (a provider's default date next to real
    # ones), and a count past Int64 in nanoseconds is still refused, not wrapped into range.
    calendar = spanning(utc(1, 1, 1), utc(9999, 12, 31))
    assert storage_growth(calendar).height == 9999 * 12
    with pytest.raises(ra.ConfigError, match="every"):
        storage_growth(calendar, "1us")


def test_a_deletion_before_creation_is_taken_as_deleted_when_created(
    recordings: pl.DataFrame,
) -> None:
    # A deleted_at of 1970-01-01 (epoch zero for "no date") removed the bytes in 1970, decades
    # before they were added: bytes_held read -50 from 1970 to 2025 (storage_growth, trend, the
    # storage and cost charts, the overview).
    epoch = recordings.with_columns(
        deleted_at=pl.when(pl.col("status") == "deleted")
        .then(pl.lit(utc(1970, 1, 1)))
        .otherwise(pl.col("deleted_at"))
    )
    at_creation = recordings.with_columns(
        deleted_at=pl.when(pl.col("status") == "deleted")
        .then(pl.col("created_at"))
        .otherwise(pl.col("deleted_at"))
    )
    said = "deleted_at is earlier than created_at in 1 recording: taken as deleted when created"
    with pytest.warns(ra.LoadWarning, match=said):
        result = storage_growth(epoch, "1y")
    assert_frame_equal(result, storage_growth(at_creation, "1y"))
    assert result["period"].min() == utc(2025, 1, 1) and result["bytes_held"].min() >= 0
    lazy = storage_growth(epoch.lazy(), by="provider")  # a LazyFrame is counted when collected
    with pytest.warns(ra.LoadWarning, match=said):
        assert_frame_equal(lazy.collect(), storage_growth(at_creation, by="provider"))
    with pytest.warns(ra.LoadWarning, match=said):
        held = ra.trend(epoch, "1mo")["bytes_held"]
    assert held.to_list() == ra.trend(at_creation, "1mo")["bytes_held"].to_list()
