"""Charts that draw in a live notebook with no network: an altair renderer with bundled Vega.

altair's default renderer loads Vega, Vega-Lite and Vega-Embed from a CDN, so with no internet
access a notebook shows ``Error loading script`` instead of a chart. The renderer here draws
with the bundle vl-convert ships (the one the HTML report inlines): the first chart a kernel
shows carries the bundle in its output, once, and every chart output waits for it.

When ``recanalytics.charts`` is imported inside a Jupyter kernel whose altair renderer is still
altair's ``"default"``, :func:`arrange` switches to this renderer; a renderer the user chose
(``alt.renderers.enable(...)``) is left alone, before or after the import. Outside a kernel
nothing changes.
"""

from __future__ import annotations

import sys
import uuid
from dataclasses import dataclass
from typing import Any, Final

import altair as alt

from recanalytics.charts.export import EMBED_OPTIONS, json_for_script

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


@dataclass
class _Delivery:
    """Where this kernel last put the bundle: which cell, in which execution."""

    inline: bool = True
    sent: bool = False
    cell: str | None = None
    execution: int | None = None


_delivery = _Delivery()


def _kernel() -> Any:
    """The running IPython kernel shell, or None (IPython is never imported from here)."""
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return None
    shell = ipython.get_ipython()
    return shell if shell is not None and hasattr(shell, "kernel") else None


def _current_cell() -> tuple[str | None, int | None]:
    """The id of the cell being run (JupyterLab and Notebook 7 send it) and its execution."""
    shell = _kernel()
    if shell is None:
        return None, None
    try:
        parent = shell.kernel.get_parent()
    except Exception:  # an older or unusual kernel: fall back to "first chart per kernel"
        return None, getattr(shell, "execution_count", None)
    metadata = parent.get("metadata", {}) if isinstance(parent, dict) else {}
    cell = metadata.get("cellId") if isinstance(metadata, dict) else None
    return (cell if isinstance(cell, str) else None), getattr(shell, "execution_count", None)


def _take_bundle() -> bool:
    """Whether this output must carry the bundle.

    The first chart of a kernel carries it. When the cell that carried it runs again, its old
    output (and the bundle) is replaced, so the first chart of that new run carries it again;
    without that, the charts would not draw after the page is reloaded.
    """
    if not _delivery.inline:
        return False
    cell, execution = _current_cell()
    again = cell is not None and cell == _delivery.cell and execution != _delivery.execution
    if _delivery.sent and not again:
        return False
    _delivery.sent, _delivery.cell, _delivery.execution = True, cell, execution
    return True


def _bundle_script() -> str:
    from recanalytics.charts.export import vega_bundle

    # Wrapped in a function so that running it twice (a re-run cell) redeclares nothing.
    return f"<script>if (!window.vegaEmbed) {{ (function () {{\n{vega_bundle()}\n}})(); }}</script>"


def _draw_script(element: str, spec: dict[str, Any], options: dict[str, Any]) -> str:
    return (
        "<script>(function () {\n"
        f"  var id = {json_for_script(element)}, spec = {json_for_script(spec)};\n"
        f"  var options = {json_for_script(options)}, waited = 0;\n"
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

    The output is a ``<div>`` and a script calling ``vegaEmbed``. The first chart a kernel
    shows (and the first of each new run of the cell that showed it) also carries the Vega,
    Vega-Lite and Vega-Embed bundle from vl-convert, about 0.9 MB, once; later chart outputs
    wait for it. Outputs are plain trusted HTML, so a saved notebook draws again when reopened,
    and a notebook exported to HTML works offline.

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
    options = {**EMBED_OPTIONS, **(metadata.get("embed_options") or {})}
    bundle = _bundle_script() if _take_bundle() else ""
    return {
        "text/html": f"<div id='{element}' class='recanalytics-chart'></div>\n"
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
    altair renderer. Call it yourself at the top of a notebook to make that cell carry Vega
    (then clearing the outputs of other cells never leaves charts without it), or when a chart
    says that Vega is not loaded. ``alt.renderers.enable("default")`` switches back to
    altair's CDN renderer.

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
    alt.renderers.register(OFFLINE_RENDERER, offline_renderer)
    alt.renderers.enable(OFFLINE_RENDERER)
    shell = _kernel()
    _delivery.inline = inline_bundle
    _delivery.sent = False
    if inline_bundle and shell is not None:
        from IPython.display import display

        display(bundle_output(), raw=True)  # type: ignore[no-untyped-call]
        cell, execution = _current_cell()
        _delivery.sent, _delivery.cell, _delivery.execution = True, cell, execution


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
        alt.renderers.enable(OFFLINE_RENDERER)
    return bool(alt.renderers.active == OFFLINE_RENDERER)
