"""The offline altair renderer: charts draw in a live notebook with the bundled Vega, no CDN."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import altair as alt
import pytest

from recanalytics.charts import offline
from recanalytics.notebooks import offline_problems

SPEC = {"mark": "point", "data": {"values": [{"x": 1}]}}
BUNDLE_END = "window.vegaEmbed="  # the last statement of vl-convert's bundle


class FakeKernel:
    """Just what the renderer reads of an ipykernel: the running cell's id and count."""

    def __init__(self) -> None:
        self.cell = "cell-a"
        self.execution_count = 1
        self.kernel = self

    def get_parent(self) -> dict[str, Any]:
        return {"metadata": {"cellId": self.cell}}


@pytest.fixture
def kernel(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeKernel]:
    fake = FakeKernel()
    monkeypatch.setattr(offline, "_kernel", lambda: fake)
    monkeypatch.setattr(offline, "_delivery", offline._Delivery())
    previous = alt.renderers.active
    yield fake
    alt.renderers.enable(previous)


def html(**metadata: Any) -> str:
    text: str = offline.offline_renderer(SPEC, **metadata)["text/html"]
    return text


def test_the_first_chart_carries_the_bundle_once(kernel: FakeKernel) -> None:
    first, second = html(), html()
    assert BUNDLE_END in first and BUNDLE_END not in second
    for page in (first, second):
        assert "vegaEmbed(" in page and offline_problems(page) == []
        assert "cdn.jsdelivr" not in page
    # Re-running the bundle (a re-run cell) redeclares nothing at the top level.
    assert "if (!window.vegaEmbed) { (function () {" in first


def test_rerunning_the_cell_that_carried_it_carries_it_again(kernel: FakeKernel) -> None:
    assert BUNDLE_END in html()
    kernel.cell, kernel.execution_count = "cell-b", 2
    assert BUNDLE_END not in html()
    kernel.cell, kernel.execution_count = "cell-a", 3  # its old output is replaced
    assert BUNDLE_END in html()
    assert BUNDLE_END not in html()  # a second chart of the same run does not


def test_page_bundle_mode_never_inlines(kernel: FakeKernel) -> None:
    offline._delivery.inline = False
    assert BUNDLE_END not in html()


def test_embed_options_pass_through(kernel: FakeKernel) -> None:
    assert '"theme":"dark"' in html(embed_options={"theme": "dark"})


def test_import_switches_only_altairs_default_renderer(
    kernel: FakeKernel, monkeypatch: pytest.MonkeyPatch
) -> None:
    alt.renderers.enable("default")
    assert offline.arrange() is True
    assert alt.renderers.active == offline.OFFLINE_RENDERER
    alt.renderers.enable("mimetype")  # the user's choice is kept
    assert offline.arrange() is False
    assert alt.renderers.active == "mimetype"


def test_outside_a_kernel_nothing_changes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(offline, "_kernel", lambda: None)
    previous = alt.renderers.active
    try:
        alt.renderers.enable("default")
        assert offline.arrange() is False
        assert alt.renderers.active == "default"
    finally:
        alt.renderers.enable(previous)


def test_colab_keeps_altairs_renderer(kernel: FakeKernel, monkeypatch: pytest.MonkeyPatch) -> None:
    import sys
    import types

    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    alt.renderers.enable("default")
    assert offline.arrange() is False


def test_use_offline_renderer_puts_the_bundle_in_its_cell(
    kernel: FakeKernel, monkeypatch: pytest.MonkeyPatch
) -> None:
    shown: list[dict[str, str]] = []
    import IPython.display

    monkeypatch.setattr(IPython.display, "display", lambda obj, raw: shown.append(obj))
    offline.use_offline_renderer()
    assert alt.renderers.active == offline.OFFLINE_RENDERER
    assert len(shown) == 1 and BUNDLE_END in shown[0]["text/html"]
    assert BUNDLE_END not in html()  # charts below rely on that cell
