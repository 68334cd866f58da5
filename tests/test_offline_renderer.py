"""The offline altair renderer: charts draw in a live notebook with the bundled Vega, no CDN."""

from __future__ import annotations

import base64
import gzip
import re
from collections.abc import Iterator
from typing import Any

import altair as alt
import pytest

from recanalytics.charts import offline
from recanalytics.charts.export import vega_bundle
from recanalytics.notebooks import offline_problems

SPEC = {"mark": "point", "data": {"values": [{"x": 1}]}}
BUNDLE_END = "window.vegaEmbed="  # the last statement of vl-convert's bundle


class FakeKernel:
    """Just what the renderer reads of an ipykernel: that there is one."""

    def __init__(self) -> None:
        self.kernel = self


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


def unpacked(page: str) -> str:
    """The bundle a chart output carries, unpacked as its script does."""
    match = re.search(r'atob\("([A-Za-z0-9+/=]+)"\)', page)
    assert match, "no packed bundle"
    return gzip.decompress(base64.b64decode(match.group(1))).decode()


def test_every_chart_carries_the_bundle_and_the_first_to_run_unpacks_it(
    kernel: FakeKernel,
) -> None:
    # Carried once per notebook, it was gone with its output (a deleted cell, a re-run that
    # raised, a chart inside a widget) and every other chart was blank on reopening.
    first, second = html(), html()
    for page in (first, second):
        assert unpacked(page) == vega_bundle() and BUNDLE_END in unpacked(page)
        assert "vegaEmbed(" in page and offline_problems(page) == []
        assert "cdn.jsdelivr" not in page
        # Unpacked once a page: not where Vega is loaded or another output is unpacking it.
        assert "if (window.vegaEmbed || window.recanalyticsVega) { return; }" in page
    assert len(first) < len(vega_bundle()) * 0.6


def test_an_output_whose_script_does_not_run_says_why(kernel: FakeKernel) -> None:
    # An untrusted notebook runs no script: the chart was an empty space, without a word.
    page = html()
    placeholder = page.split("\n", 1)[0]
    assert "not trusted" in placeholder and "<script" not in placeholder
    assert "placeholder.textContent = ''" in page  # the script, when it runs, removes it


def test_page_bundle_mode_never_inlines(kernel: FakeKernel) -> None:
    offline._delivery.inline = False
    page = html()
    assert BUNDLE_END not in page and "atob(" not in page


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


def test_the_switch_keeps_the_users_renderer_options(
    kernel: FakeKernel, monkeypatch: pytest.MonkeyPatch
) -> None:
    # alt.renderers.set_embed_options(theme="dark", actions=False) before importing
    # recanalytics.charts: the import's switch to this renderer dropped them, and charts came
    # out light with the full menu.
    import IPython.display

    monkeypatch.setattr(IPython.display, "display", lambda obj, raw: None)
    wanted = {"embed_options": {"theme": "dark", "actions": False}}
    for switch in (offline.arrange, offline.use_offline_renderer):
        alt.renderers.enable("default")
        alt.renderers.set_embed_options(theme="dark", actions=False)
        switch()
        assert alt.renderers.active == offline.OFFLINE_RENDERER
        assert alt.renderers.options == wanted, switch
        page = alt.Chart(alt.Data(values=[{"x": 1}])).mark_point()._repr_mimebundle_()
        assert '"theme":"dark"' in page["text/html"] and '"actions":false' in page["text/html"]


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
    # Unpacked, for a browser that cannot unpack what chart outputs carry.
    assert len(shown) == 1 and BUNDLE_END in shown[0]["text/html"]
    assert "if (!window.vegaEmbed) { (function () {" in shown[0]["text/html"]
    assert unpacked(html()) == vega_bundle()  # charts below still carry it
