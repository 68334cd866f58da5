"""Charts that draw in a live notebook with no network: an altair renderer with bundled Vega.

altair's default renderer loads Vega, Vega-Lite and Vega-Embed from a CDN, so with no internet
access a notebook shows ``Error loading script`` instead of a chart. The renderer here draws
with the bundle vl-convert ships (the one the HTML report inlines): every chart output carries
it, gzip-compressed (about 0.4 MB), and the first output on a page that runs unpacks it for all.
An output that carried it only once per notebook left the other charts blank when that output
was gone (its cell deleted, re-run into an error, or shown inside a widget), once the notebook
was reopened.

When ``recanalytics.charts`` is imported inside a Jupyter kernel whose altair renderer is still
altair's ``"default"``, :func:`arrange` switches to this renderer, keeping the renderer
options the user set (``alt.renderers.set_embed_options(...)``); a renderer the user chose
after the import (``alt.renderers.enable(...)``) is left alone. Outside a kernel nothing
changes.
"""

from __future__ import annotations

import base64
import functools
import gzip
import html
import sys
import uuid
from dataclasses import dataclass
from typing import Any, Final

import altair as alt

from recanalytics.charts.export import EMBED_OPTIONS, json_for_script, vega_bundle

__all__ = [
    "OFFLINE_RENDERER",
    "arrange",
    "bundle_output",
    "offline_renderer",
    "use_offline_renderer",
]

OFFLINE_RENDERER: Final = "recanalytics-offline"
"""Name of the altair renderer that draws with the bundled Vega (no CDN)."""

WAIT_NOTE_MS: Final = 8000
"""After this long without Vega on the page, a chart says how to load it (and keeps waiting)."""

_HINT: Final = (
    "Vega is not loaded on this page: run recanalytics.notebooks.use_offline_renderer() "
    "in a cell above and run this cell again."
)

UNTRUSTED_NOTE: Final = (
    "Chart not drawn: this notebook is not trusted, so its scripts do not run. Run this cell "
    "again, or trust the notebook (“Trust Notebook” in the command palette, or "
    "jupyter trust NOTEBOOK.ipynb). On a page that strips scripts (a sanitized HTML export), "
    "export without sanitizing, or save the chart as PNG with "
    "recanalytics.charts.save_chart(chart, 'chart.png')."
)
"""What a chart output shows where its script does not run (the script replaces it)."""


@dataclass
class _Delivery:
    """Whether chart outputs carry the bundle (not where the page has it already)."""

    inline: bool = True


_delivery = _Delivery()


def _kernel() -> Any:
    """The running IPython kernel shell, or None (IPython is never imported from here)."""
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return None
    shell = ipython.get_ipython()
    return shell if shell is not None and hasattr(shell, "kernel") else None


@functools.cache
def packed_bundle() -> str:
    """:func:`~recanalytics.charts.export.vega_bundle`, gzip-compressed and base64-encoded."""
    packed = gzip.compress(vega_bundle().encode(), compresslevel=9, mtime=0)
    return base64.b64encode(packed).decode("ascii")


def _bundle_script() -> str:
    # Wrapped in a function so that running it twice (a re-run cell) redeclares nothing.
    return f"<script>if (!window.vegaEmbed) {{ (function () {{\n{vega_bundle()}\n}})(); }}</script>"


def _packed_script() -> str:
    """Unpacks the bundle unless the page has it or another output is unpacking it already."""
    return (
        "<script>(function () {\n"
        "  if (window.vegaEmbed || window.recanalyticsVega) { return; }\n"
        "  if (typeof DecompressionStream === 'undefined') { return; }\n"
        f"  var packed = atob({json_for_script(packed_bundle())});\n"
        "  var bytes = new Uint8Array(packed.length);\n"
        "  for (var i = 0; i < packed.length; i++) { bytes[i] = packed.charCodeAt(i); }\n"
        "  var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'));\n"
        "  window.recanalyticsVega = new Response(stream).text().then(function (code) {\n"
        "    if (!window.vegaEmbed) { (new Function(code))(); }\n"
        "  }).catch(function (e) {\n"
        "    console.error('recanalytics: the bundled Vega did not load', e);\n"
        "  });\n"
        "})();</script>"
    )


def _draw_script(element: str, spec: dict[str, Any], options: dict[str, Any]) -> str:
    return (
        "<script>(function () {\n"
        f"  var id = {json_for_script(element)}, spec = {json_for_script(spec)};\n"
        f"  var options = {json_for_script(options)}, waited = 0;\n"
        "  var placeholder = document.getElementById(id);\n"
        "  if (placeholder) { placeholder.textContent = ''; }  // the script runs: trusted\n"
        "  function draw() {\n"
        "    var el = document.getElementById(id);\n"
        "    if (!el) { return; }\n"
        "    if (!window.vegaEmbed) {\n"
        "      waited += 100;\n"
        f"      if (waited === {WAIT_NOTE_MS}) {{ el.textContent = {json_for_script(_HINT)}; }}\n"
        "      setTimeout(draw, 100);\n"
        "      return;\n"
        "    }\n"
        "    el.textContent = '';\n"
        "    window.vegaEmbed(el, spec, options).catch(function (e) {\n"
        "      console.error(e); el.textContent = 'chart failed: ' + e;\n"
        "    });\n"
        "  }\n"
        "  draw();\n"
        "})();</script>"
    )


def offline_renderer(spec: dict[str, Any], **metadata: Any) -> dict[str, str]:
    """An altair renderer that draws with the bundled Vega, loading nothing from the network.

    The output is a ``<div>`` and a script calling ``vegaEmbed``, and the Vega, Vega-Lite and
    Vega-Embed bundle from vl-convert, gzip-compressed (about 0.4 MB): the first output on the
    page to run unpacks it, the others wait for it. So a saved notebook draws again when
    reopened whichever of its outputs are left, and a notebook exported to HTML works offline.
    Where scripts do not run (an untrusted notebook), the ``<div>`` says so.

    Parameters
    ----------
    spec : dict
        The Vega-Lite specification (altair passes it).
    **metadata
        Renderer options; ``embed_options`` (a dict) is merged into Vega-Embed's options.

    Returns
    -------
    dict
        A MIME bundle with ``text/html`` and ``text/plain``.

    Examples
    --------
    >>> from recanalytics.charts.offline import offline_renderer
    >>> html = offline_renderer({"mark": "point"})["text/html"]
    >>> "vegaEmbed(" in html, "<script src" in html
    (True, False)
    """
    element = f"recanalytics-chart-{uuid.uuid4().hex}"
    if alt.data_transformers.active == "vegafusion":
        # As altair's own renderers do: a chart of a large frame refers to data VegaFusion
        # holds in this kernel, which the page cannot fetch; compiled, its rows are in the spec.
        from altair.utils._vegafusion_data import compile_with_vegafusion

        spec = compile_with_vegafusion(spec)
    options = {**EMBED_OPTIONS, **(metadata.get("embed_options") or {})}
    bundle = _packed_script() if _delivery.inline else ""
    note = html.escape(UNTRUSTED_NOTE)
    return {
        "text/html": f"<div id='{element}' class='recanalytics-chart'><small>{note}</small></div>\n"
        + bundle
        + _draw_script(element, spec, options),
        "text/plain": "<altair chart: drawn by the bundled Vega-Embed>",
    }


def bundle_output() -> dict[str, str]:
    """A display output that loads the bundled Vega into the page (and shows one line).

    Examples
    --------
    >>> from recanalytics.charts.offline import bundle_output
    >>> sorted(bundle_output())
    ['text/html', 'text/plain']
    """
    return {
        "text/html": "<div class='recanalytics-vega'>"
        "<small>Charts draw with the bundled Vega (offline).</small></div>" + _bundle_script(),
        "text/plain": "Charts draw with the bundled Vega (offline).",
    }


def use_offline_renderer(*, inline_bundle: bool = True) -> None:
    """Draw altair charts with the bundled Vega from now on, and load it into this notebook.

    ``import recanalytics`` already does this in a Jupyter kernel unless you picked another
    altair renderer. Call it yourself when a chart says that Vega is not loaded (an output made
    with ``inline_bundle=False``, or a browser from before 2023 that cannot unpack the bundle
    chart outputs carry: this cell carries it unpacked). ``alt.renderers.enable("default")``
    switches back to altair's CDN renderer.

    Parameters
    ----------
    inline_bundle : bool, default True
        Put the bundle into the notebook. False when the page already has it (the pages
        :func:`recanalytics.notebooks.render_notebooks` writes inline it in their head).

    Examples
    --------
    >>> import altair as alt
    >>> from recanalytics.notebooks import use_offline_renderer
    >>> use_offline_renderer()
    >>> alt.renderers.active
    'recanalytics-offline'
    >>> _ = alt.renderers.enable("default")
    """
    _switch()
    _delivery.inline = inline_bundle
    if inline_bundle and _kernel() is not None:
        from IPython.display import display

        display(bundle_output(), raw=True)  # type: ignore[no-untyped-call]


def arrange() -> bool:
    """Register the renderer; in a Jupyter kernel still on altair's default, make it active.

    Not in Google Colab, where each output is its own frame (and the CDN is reachable).

    Returns
    -------
    bool
        Whether the offline renderer is now active.

    Examples
    --------
    >>> from recanalytics.charts.offline import arrange
    >>> arrange()  # outside a Jupyter kernel nothing changes
    False
    """
    alt.renderers.register(OFFLINE_RENDERER, offline_renderer)
    colab = "google.colab" in sys.modules
    if _kernel() is not None and alt.renderers.active == "default" and not colab:
        _switch()
    return bool(alt.renderers.active == OFFLINE_RENDERER)


def _switch() -> None:
    """Make the offline renderer active, keeping the renderer options the user set
    (``alt.renderers.set_embed_options(theme="dark", actions=False)`` before the import):
    ``enable`` alone replaces them with none, and the user's theme was gone."""
    alt.renderers.register(OFFLINE_RENDERER, offline_renderer)
    alt.renderers.enable(OFFLINE_RENDERER, **alt.renderers.options)
