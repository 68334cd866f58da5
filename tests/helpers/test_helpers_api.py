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
