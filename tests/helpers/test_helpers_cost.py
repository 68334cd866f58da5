from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl
import pytest

import recanalytics as ra
from recanalytics.helpers import (
    STORAGE_RATES,
    StorageRate,
    cost_summary,
    monthly_storage_cost,
    storage_rates,
)
from recanalytics.schema import conform


@pytest.fixture
def df() -> pl.DataFrame:
    return conform(
        pl.DataFrame(
            {
                "provider": [
                    "twilio",
                    "twilio",
                    "twilio",
                    "twilio",
                    "plivo",
                    "plivo",
                    "zoom",
                    "signalwire",
                ],
                "status": [
                    "completed",
                    "completed",
                    "completed",
                    "deleted",
                    "completed",
                    "completed",
                    "completed",
                    "completed",
                ],
                "deleted_at": [None, None, datetime(2025, 1, 2, tzinfo=UTC), *[None] * 5],
                "size_bytes": [2_000_000_000, None, 5_000, 7_000, None, None, 10**9, None],
                "duration": [
                    timedelta(minutes=5),
                    timedelta(minutes=5),
                    timedelta(minutes=5),
                    timedelta(minutes=5),
                    timedelta(seconds=61),
                    timedelta(0),
                    timedelta(minutes=1),
                    timedelta(seconds=60),
                ],
                "cost": [None, None, None, None, 0.0008, None, None, 0.0025],
                "cost_unit": [None, None, None, None, "USD", None, None, "USD"],
            }
        )
    ).collect()


def costs(frame: pl.DataFrame, rates: object = None) -> list[object]:
    return frame.select(monthly_storage_cost(rates)).to_series().to_list()  # type: ignore[arg-type]


def test_monthly_storage_cost_defaults(df: pl.DataFrame) -> None:
    assert costs(df) == [
        0.1,  # 2 GB x 0.05
        None,  # size unknown
        0.0,  # deleted_at set
        0.0,  # status deleted
        0.0008,  # 61 s = 2 started minutes x 0.0004
        0.0,  # zero duration
        0.1,  # 1 GB x 0.10 (assumption)
        0.0005,  # 1 minute x 0.0005 (assumption)
    ]


def test_monthly_storage_cost_overrides(df: pl.DataFrame) -> None:
    assert costs(df, {"zoom": 0.08})[6] == 0.08
    per_minute = StorageRate(0.01, "minute_month", "contract", "2026-01-01")
    assert costs(df, {"twilio": per_minute})[:4] == [0.05, 0.05, 0.0, 0.0]
    assert costs(df, {"newco": per_minute}) == costs(df)  # no newco rows; accepted


def test_a_provider_without_a_rate_has_no_estimate_even_when_deleted() -> None:
    # A frame of the user's own naming another provider: no rate, no estimate (null), a
    # deleted row included; given a rate, the deleted row costs 0.
    frame = pl.DataFrame(
        {
            "provider": ["newco", "newco"],
            "status": ["deleted", "completed"],
            "deleted_at": [None, None],
            "size_bytes": [10**9, 10**9],
            "duration": [timedelta(minutes=1)] * 2,
        }
    )
    assert costs(frame) == [None, None]
    per_gb = StorageRate(0.02, "gb_month", "contract", "2026-01-01")
    assert costs(frame, {"newco": per_gb}) == [0.0, 0.02]


@pytest.mark.parametrize(
    "rates",
    [
        {"newco": 0.1},  # a bare number needs a default basis
        {"zoom": -1.0},
        {"zoom": float("nan")},
        {"zoom": float("inf")},
        {"zoom": True},
        {"zoom": "0.1"},
        [("zoom", 0.1)],
    ],
)
def test_bad_rates_raise(rates: object) -> None:
    with pytest.raises(ra.ConfigError):
        monthly_storage_cost(rates)  # type: ignore[arg-type]


def test_storage_rate_validates_basis() -> None:
    with pytest.raises(ra.ConfigError):
        StorageRate(0.1, "gb_year")  # type: ignore[arg-type]


def test_default_rates_are_documented() -> None:
    table = storage_rates()
    assert table["provider"].to_list() == list(ra.PROVIDERS)
    assert table.select("provider", "amount", "basis", "assumption").rows() == [
        ("twilio", 0.05, "gb_month", False),
        ("plivo", 0.0004, "minute_month", False),
        ("zoom", 0.10, "gb_month", True),
        ("signalwire", 0.0005, "minute_month", True),
    ]
    assert all(table["source"].str.len_chars() > 20)
    assert all(table["as_of"].str.contains(r"^\d{4}-\d{2}-\d{2}$"))
    assert all(table.filter("assumption")["source"].str.starts_with("ASSUMPTION"))
    with pytest.raises(TypeError):
        STORAGE_RATES["zoom"] = STORAGE_RATES["twilio"]  # type: ignore[index]


def test_cost_summary_by_provider(df: pl.DataFrame) -> None:
    result = cost_summary(df)
    assert result.columns == [
        "provider",
        "recordings",
        "estimated_monthly_cost",
        "reported_cost",
        "cost_unit",
        "cost_kind",
    ]
    assert result.rows() == [
        ("twilio", 4, 0.1, None, None, None),  # deleted recordings cost 0, unknown sizes skip
        ("plivo", 2, 0.0008, 0.0008, "USD", "monthly storage"),
        ("zoom", 1, 0.1, None, None, None),
        ("signalwire", 1, 0.0005, 0.0025, "USD", "one-off"),
    ]


def test_cost_summary_overall_and_lazy(df: pl.DataFrame) -> None:
    lazy = cost_summary(df.lazy(), by=None)
    assert isinstance(lazy, pl.LazyFrame)
    (row,) = lazy.collect().rows()
    assert row[0] == 8
    assert row[1] == pytest.approx(0.1 + 0.0008 + 0.1 + 0.0005, rel=1e-12)
    # Plivo's 0.0008 a month and SignalWire's one-off 0.0025 are no 0.0033 of anything.
    assert row[2] is None
    assert row[3:] == ("USD", "monthly storage, one-off")


def test_group_with_no_estimable_recording_is_null_not_free() -> None:
    frame = conform(pl.DataFrame({"provider": ["twilio"], "size_bytes": [None]})).collect()
    assert cost_summary(frame).row(0) == ("twilio", 1, None, None, None, None)


def test_costs_in_several_currencies_are_never_summed_into_one(df: pl.DataFrame) -> None:
    # SignalWire's 0.0025 EUR and Plivo's 0.0008 USD summed to 0.0033 in "EUR, USD".
    mixed = df.with_columns(
        cost_unit=pl.when(pl.col("provider") == "signalwire")
        .then(pl.lit("EUR"))
        .otherwise(pl.col("cost_unit"))
    )
    for total in (cost_summary(mixed, by=None), ra.summarize(mixed)):
        assert total.select("reported_cost", "cost_unit").row(0) == (None, "EUR, USD")
    per_unit = cost_summary(mixed, by="cost_unit").select("cost_unit", "reported_cost")
    assert per_unit.rows() == [(None, None), ("EUR", 0.0025), ("USD", 0.0008)]
    per_provider = ra.summarize(mixed, by="provider")["reported_cost"].to_list()
    assert per_provider == [None, 0.0008, None, 0.0025]  # one currency each: summed
    # A cost without a unit beside one in USD: which currency is not known either.
    unitless = df.with_columns(
        cost_unit=pl.when(pl.col("provider") == "plivo").then(pl.col("cost_unit"))
    )
    assert cost_summary(unitless, by=None)["reported_cost"].item() is None
