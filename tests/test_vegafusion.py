"""Charts, exports, the report and the explorer with altair's "vegafusion" data transformer on.

altair recommends ``alt.data_transformers.enable("vegafusion")`` for large data. With it on, 8
of the 10 charts failed to display (VegaFusion cannot resolve Vega's ``LN10`` constant, which
the tooltips' number format used), and every export, the report and the explorer's charts
raised altair's "must be called with format='vega'" ValueError. The user's setting is theirs:
it stays on throughout.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import altair as alt
import polars as pl
import pytest

import recanalytics as ra
from recanalytics import charts
from recanalytics.charts.offline import offline_renderer
from tests.test_charts import CHARTS

pytest.importorskip("vegafusion", reason="the dev extra installs vegafusion")


@pytest.fixture(scope="module")
def frame() -> pl.DataFrame:
    return ra.demo(size=300, seed=7)


@pytest.fixture
def vegafusion() -> Iterator[None]:
    with alt.data_transformers.enable("vegafusion"), alt.renderers.enable("default"):
        yield
        assert alt.data_transformers.active == "vegafusion"  # left as the user set it


@pytest.mark.parametrize("name", sorted(CHARTS))
def test_every_chart_displays(name: str, frame: pl.DataFrame, vegafusion: None) -> None:
    chart = CHARTS[name](frame)
    # What altair's renderers do under VegaFusion: compile to Vega, evaluating the transforms.
    vega = chart.to_dict(format="vega")
    assert vega["$schema"].startswith("https://vega.github.io/schema/vega/")
    bundle = chart._repr_mimebundle_()
    assert bundle, "altair printed the error and displayed nothing"
    # The empty note too.
    assert charts.status_chart(frame.head(0))._repr_mimebundle_()


@pytest.mark.parametrize("name", sorted(CHARTS))
def test_every_chart_exports(name: str, frame: pl.DataFrame, vegafusion: None) -> None:
    chart = CHARTS[name](frame)
    assert charts.chart_to_svg(chart).startswith("<svg")
    assert "vegaEmbed(" in charts.chart_html(chart)


def test_save_chart_writes_every_format(
    tmp_path: Path, frame: pl.DataFrame, vegafusion: None
) -> None:
    chart = charts.volume_chart(frame)
    assert charts.chart_to_png(chart, scale=1).startswith(b"\x89PNG")
    for suffix in ("png", "svg", "pdf", "html", "json"):
        written = charts.save_chart(chart, tmp_path / f"volume.{suffix}")
        assert written.stat().st_size > 0, suffix
    # The JSON is the Vega-Lite spec with its rows inline, as without VegaFusion.
    assert '"values"' in (tmp_path / "volume.json").read_text()


def test_the_report_is_written(tmp_path: Path, frame: pl.DataFrame, vegafusion: None) -> None:
    page = ra.report_html(frame)
    assert page.count("vegaEmbed(") >= 8
    ra.report(frame, tmp_path / "report.html")
    assert (tmp_path / "report.html").stat().st_size > 0


@pytest.mark.parametrize("renderer", ["svg", "jupyter"])
def test_the_explorer_draws_every_chart(
    renderer: str, frame: pl.DataFrame, vegafusion: None
) -> None:
    if renderer == "jupyter":
        pytest.importorskip("anywidget", reason="altair's JupyterChart needs anywidget")
    ex = ra.explore(frame, renderer=renderer, debounce=0)  # type: ignore[arg-type]
    try:
        ex.draw_all()
        assert ex.errors.last is None, ex.errors.last
        for name, view in ex.views.items():
            assert view.spec is not None and "$schema" in view.spec, name
            if renderer == "jupyter":
                # The Vega-Lite spec ChartView swaps in is what the widget draws.
                assert view.widget.children[0].spec == view.spec, name
        ex.panel.controls["provider"].value = ("zoom",)
        assert ex.errors.last is None, ex.errors.last
    finally:
        ex.close()


def test_the_offline_renderer_puts_a_users_frame_in_the_page(vegafusion: None) -> None:
    # A chart of the user's own frame refers to rows VegaFusion holds in the kernel
    # ("vegafusion+dataset://…"), which the page cannot fetch: compiled, they are in it.
    chart = alt.Chart(pl.DataFrame({"x": [1, 2, 3], "y": [4, 5, 6]})).mark_point()
    spec = chart.encode(x="x:Q", y="y:Q").to_dict(context={"pre_transform": False})
    page = offline_renderer(spec)["text/html"]
    assert "vegafusion+dataset" not in page
    assert "https://vega.github.io/schema/vega/" in page and '"y":6' in page


def test_a_users_chart_of_a_frame_is_refused_by_the_exports_not_drawn_empty(
    tmp_path: Path, vegafusion: None
) -> None:
    """A chart of the user's own frame names rows VegaFusion keeps in the process: exported
    as such it drew its axes and no point, and its page showed nothing, without a word."""
    frame = pl.DataFrame({"x": list(range(20)), "y": list(range(20))})
    chart = alt.Chart(frame).mark_point().encode(x="x:Q", y="y:Q")
    for export in (
        lambda: charts.chart_to_svg(chart),
        lambda: charts.save_chart(chart, tmp_path / "u.html"),
    ):
        with pytest.raises(ValueError, match='format="vega"'):
            export()
    assert not (tmp_path / "u.html").exists()
