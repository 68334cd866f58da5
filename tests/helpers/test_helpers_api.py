from __future__ import annotations

import doctest
import importlib
import inspect
from datetime import timedelta

import polars as pl
import pytest
from polars.testing import assert_frame_equal

import recanalytics as ra
import recanalytics.helpers as helpers

MODULES = ["durations", "sizes", "codecs", "cost", "summary", "namespace"]


def test_every_helper_is_reachable_from_the_top_level() -> None:
    # The top level exports the most used helpers; every helper still resolves there.
    assert set(ra.__all__) & set(helpers.__all__) >= {"summarize", "trend", "cost_summary"}
    for name in helpers.__all__:
        assert getattr(ra, name) is getattr(helpers, name)
    assert ra.summarize is helpers.summary.summarize
    assert ra.trend is helpers.summary.trend


@pytest.mark.parametrize("name", helpers.__all__)
def test_public_callables_have_numpy_docstrings_with_examples(name: str) -> None:
    obj = getattr(helpers, name)
    if not callable(obj) or inspect.isclass(obj):
        return
    doc = inspect.getdoc(obj) or ""
    assert "Examples\n--------\n>>>" in doc, name


@pytest.mark.parametrize("module", MODULES)
def test_docstring_examples_run(module: str) -> None:
    mod = importlib.import_module(f"recanalytics.helpers.{module}")
    result = doctest.testmod(mod, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0


@pytest.fixture
def df() -> pl.DataFrame:
    from recanalytics.schema import conform

    return conform(
        pl.DataFrame(
            {
                "provider": ["twilio", "zoom"],
                "codec": ["OPUS", "M4A"],
                "container": ["mka", "M4A"],
                "duration": [timedelta(seconds=45), timedelta(minutes=62)],
                "size_bytes": [1024, 1_500_000],
            }
        )
    ).collect()


def test_expression_namespace_matches_functions(df: pl.DataFrame) -> None:
    d, s, c, k = pl.col("duration"), pl.col("size_bytes"), pl.col("codec"), pl.col("container")
    pairs = [
        (d.rec.human(), helpers.duration_human()),
        (d.rec.seconds(), helpers.duration_seconds()),
        (d.rec.minutes(), helpers.duration_minutes()),
        (d.rec.hours(), helpers.duration_hours()),
        (d.rec.billed_minutes(), helpers.billed_minutes()),
        (d.rec.bucket(edges=[2]), helpers.duration_bucket(edges=[2])),
        (s.rec.human_size(units="si"), helpers.size_human(units="si")),
        (c.rec.codec(), helpers.codec_normalized()),
        (c.rec.codec_known(), helpers.codec_known()),
        (c.rec.codec_media_type(), helpers.codec_media_type()),
        (c.rec.codec_family(), helpers.codec_family()),
        (c.rec.codec_lossy(), helpers.codec_lossy()),
        (c.rec.codec_typical_kbps(), helpers.codec_typical_kbps()),
        (k.rec.container(), helpers.container_normalized()),
        (k.rec.container_known(), helpers.container_known()),
        (k.rec.mime_type(), helpers.container_mime_type()),
        (k.rec.extension(), helpers.container_extension()),
    ]
    for via_namespace, via_function in pairs:
        assert_frame_equal(df.select(via_namespace), df.select(via_function))
    assert df.select(d.rec.human()).to_series().to_list() == ["45 s", "1 h 02 min"]
    assert df.select(c.rec.codec()).to_series().to_list() == ["opus", "aac"]


def test_frame_namespace_keeps_the_flavour(df: pl.DataFrame) -> None:
    assert_frame_equal(df.rec.summarize(by="provider"), ra.summarize(df, by="provider"))
    assert_frame_equal(df.rec.cost_summary(), ra.cost_summary(df))
    assert_frame_equal(
        df.rec.duration_percentiles(quantiles=[0.5]), ra.duration_percentiles(df, quantiles=[0.5])
    )
    lazy = df.lazy()
    for result in (
        lazy.rec.summarize(),
        lazy.rec.trend(every="1d"),
        lazy.rec.storage_growth(),
        lazy.rec.duration_percentiles(),
        lazy.rec.cost_summary(by=None),
    ):
        assert isinstance(result, pl.LazyFrame)


FRAME_HELPERS = ["summarize", "trend", "storage_growth", "cost_summary", "duration_percentiles"]


@pytest.fixture(scope="module")
def demo() -> pl.DataFrame:
    return ra.demo(size=20)


@pytest.mark.parametrize("name", FRAME_HELPERS)
def test_frame_helpers_count_a_repeated_by_column_once(name: str, demo: pl.DataFrame) -> None:
    # One rule for every helper, in by_list: the repeat is dropped, the order kept (polars
    # raised DuplicateError, not a ValueError).
    df = demo
    helper = getattr(ra, name)
    assert_frame_equal(helper(df, by=["provider", "provider"]), helper(df, by="provider"))
    assert_frame_equal(
        helper(df, by=["kind", "provider", "kind"]), helper(df, by=["kind", "provider"])
    )


@pytest.mark.parametrize(
    ("name", "column"),
    [
        ("summarize", "count"),
        ("summarize", "total_size_bytes"),
        ("trend", "period"),
        ("trend", "hours"),
        ("storage_growth", "bytes_held"),
        ("cost_summary", "recordings"),
        ("duration_percentiles", "p50"),
    ],
)
def test_frame_helpers_refuse_a_by_column_named_like_a_result_column(
    name: str, column: str, demo: pl.DataFrame
) -> None:
    df = demo.with_columns(pl.lit("x").alias(column))
    with pytest.raises(ra.ConfigError, match=column) as info:
        getattr(ra, name)(df, by=column)
    assert info.value.parameter == "by"


@pytest.mark.parametrize("name", ["summarize", "cost_summary"])
def test_summaries_group_by_cost_unit(name: str, demo: pl.DataFrame) -> None:
    # The group column holds the unit, so no second cost_unit column is made to clash with it.
    df = demo
    result = getattr(ra, name)(df, by="cost_unit")
    assert result.columns.count("cost_unit") == 1
    assert result.columns[0] == "cost_unit"
    assert result["cost_unit"].to_list() == df["cost_unit"].unique().sort().to_list()
    count = "count" if name == "summarize" else "recordings"
    assert result[count].sum() == df.height
