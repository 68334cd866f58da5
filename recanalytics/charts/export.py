"""Chart export through vl-convert: PNG, SVG, PDF, JSON and self-contained offline HTML.

vl-convert renders Vega-Lite in an embedded JavaScript engine, so no browser and no network
are needed. It also ships the Vega, Vega-Lite and Vega-Embed bundle that the HTML output
inlines, so pages open with no internet connection.
"""

from __future__ import annotations

import functools
import html
import json
import re
from pathlib import Path
from types import ModuleType
from typing import Any, Final, Literal

import altair as alt

from recanalytics import validate
from recanalytics.charts._base import ChartLike, vegalite_spec
from recanalytics.errors import ConfigError
from recanalytics.store import private_write

__all__ = ["chart_html", "chart_to_png", "chart_to_svg", "save_chart"]

Format = Literal["png", "svg", "pdf", "html", "json"]
_FORMATS: Final = ("png", "svg", "pdf", "html", "json")

MAX_SCALE: Final = 16.0
"""The largest PNG ``scale``: a 560-pixel chart becomes about 9,000 pixels wide."""

INSTALL_HINT: Final = (
    "chart export needs vl-convert-python, a core dependency of recanalytics that is missing "
    "here: pip install vl-convert-python"
)


def vl_convert() -> ModuleType:
    """Import vl-convert, or raise ImportError with the install command."""
    try:
        import vl_convert
    except ImportError as exc:
        raise ImportError(INSTALL_HINT) from exc
    return vl_convert


def vegalite_version() -> str | None:
    """The Vega-Lite version vl-convert should use: altair's own (e.g. ``"6.4"``), if offered."""
    wanted = ".".join(alt.SCHEMA_VERSION.lstrip("v").split(".")[:2])
    offered: list[str] = list(vl_convert().get_vegalite_versions())
    return wanted if wanted in offered else None


# Characters XML 1.0 forbids. vl-convert writes labels into SVG and, on one of these (a NUL
# in a group name sent by a provider), panics in Rust and aborts the whole Python process.
_NOT_XML: Final = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def xml_safe(value: Any) -> Any:
    """``value`` with every string in it (keys too) free of characters XML cannot hold (each
    replaced by U+FFFD), so no text from the data can crash the renderer."""
    if isinstance(value, str):
        return _NOT_XML.sub("\ufffd", value)
    if isinstance(value, dict):
        return {xml_safe(k): xml_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [xml_safe(v) for v in value]
    return value


def spec_of(chart: ChartLike | dict[str, Any]) -> dict[str, Any]:
    """The Vega-Lite spec of a chart (a dict is taken as a spec already), safe to render."""
    if isinstance(chart, dict) and chart:
        spec: dict[str, Any] = chart
    elif isinstance(chart, alt.TopLevelMixin):
        spec = vegalite_spec(chart)
    else:
        raise ConfigError(
            "chart", "an altair chart or a Vega-Lite spec (dict)", type(chart).__name__
        )
    return xml_safe(spec)  # type: ignore[no-any-return]


MAX_PIXELS = 20_000
"""The largest width or height a chart may ask for when rendered here: vl-convert's JavaScript
engine ran out of memory and aborted the interpreter (no exception) at width 10**9."""

MAX_STEP = 1_000
"""The widest band (``{"width": {"step": N}}``) a chart may ask for when rendered here."""

# The rows a spec carries: a column named "width" there is data, not the canvas.
_DATA = ("data", "datasets")
_SIZES = (
    "width",
    "height",
    "continuousWidth",
    "continuousHeight",
    "discreteWidth",
    "discreteHeight",
)


def _oversized(value: Any) -> float | None:
    """The first width or height anywhere in a spec (views, concatenations, config) that is
    past :data:`MAX_PIXELS`, or None."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key in _DATA:
                continue
            number = isinstance(item, int | float) and not isinstance(item, bool)
            if key in _SIZES and number and not abs(item) <= MAX_PIXELS:
                return float(item)
            step = item.get("step") if key in _SIZES and isinstance(item, dict) else None
            # {"step": N}: N pixels per category, so the canvas grows with the data; no chart
            # needs a band wider than MAX_STEP (a step of 10**6 drew 2,000,000 px).
            if (
                isinstance(step, int | float)
                and not isinstance(step, bool)
                and not (abs(step) <= MAX_STEP)
            ):
                return float(step)
            found = _oversized(item)
            if found is not None:
                return found
    elif isinstance(value, list):
        for item in value:
            found = _oversized(item)
            if found is not None:
                return found
    return None


MAX_PNG_PIXELS = 1e8
"""The largest PNG canvas rendered here (about 400 MB of pixels)."""


def _largest(value: Any, keys: tuple[str, ...]) -> float:
    """The largest number under any of ``keys`` anywhere in a spec (1 when there is none)."""
    if isinstance(value, dict):
        here = [
            float(v)
            for k, v in value.items()
            if k in keys and isinstance(v, int | float) and not isinstance(v, bool)
        ]
        nested = (_largest(v, keys) for k, v in value.items() if k not in _DATA)
        return max([1.0, *here, *nested])
    if isinstance(value, list):
        return max([1.0, *(_largest(v, keys) for v in value)])
    return 1.0


def renderable(chart: ChartLike | dict[str, Any]) -> dict[str, Any]:
    """:func:`spec_of` ``chart``, refused (ConfigError naming ``chart``) when it asks for a
    canvas the renderer cannot hold."""
    spec = spec_of(chart)
    size = _oversized(spec)
    if size is not None:
        form = f"a chart whose widths and heights are at most {MAX_PIXELS:,} px"
        raise ConfigError("chart", form, size)
    return spec


def chart_to_png(chart: ChartLike | dict[str, Any], *, scale: float = 2.0) -> bytes:
    """Render a chart to PNG bytes, offline.

    Parameters
    ----------
    chart : altair chart or Vega-Lite dict
    scale : float, default 2.0
        Pixel density (2 gives crisp images on high-DPI screens).

    Examples
    --------
    >>> import recanalytics as ra
    >>> from recanalytics.charts import chart_to_png, status_chart
    >>> chart_to_png(status_chart(ra.demo(size=200)))[:4]
    b'\\x89PNG'
    """
    vlc = vl_convert()
    # vl-convert panics (in Rust) on a scale of 0, a negative one or one past its canvas.
    scale = validate.number(scale, "scale", high=MAX_SCALE)
    spec = renderable(chart)
    width, height = (_largest(spec, (k, f"continuous{k.title()}")) for k in ("width", "height"))
    if width * height * scale**2 > MAX_PNG_PIXELS:
        # Each ask fits, but the canvas would not (20,000 x 20,000 at scale 2: 6.4 GB).
        form = f"width x height x scale**2 at most {MAX_PNG_PIXELS:,.0f} pixels"
        raise ConfigError("scale", form, scale)
    png: bytes = _converted(vlc.vegalite_to_png, spec, scale=scale)
    return png


def chart_to_svg(chart: ChartLike | dict[str, Any]) -> str:
    """Render a chart to SVG text, offline.

    Examples
    --------
    >>> import recanalytics as ra
    >>> from recanalytics.charts import chart_to_svg, status_chart
    >>> chart_to_svg(status_chart(ra.demo(size=200))).startswith("<svg")
    True
    """
    vlc = vl_convert()
    svg: str = _converted(vlc.vegalite_to_svg, renderable(chart))
    return svg


def _converted(convert: Any, spec: dict[str, Any], **options: Any) -> Any:
    """``convert(spec)`` with vl-convert; a spec it cannot render (a mark or an encoding
    Vega-Lite does not know, in a dict given as the chart) is a ConfigError naming ``chart``
    and vl-convert's first line, not its bare ValueError and JavaScript stack."""
    try:
        return convert(spec, vl_version=vegalite_version(), **options)
    except ValueError as exc:
        lines = [line for line in str(exc).splitlines() if line.strip()]
        detail = " ".join(lines[:2])[:300]
        raise ConfigError("chart", f"a Vega-Lite spec that renders (vl-convert: {detail})") from exc


@functools.cache
def vega_bundle() -> str:
    """Vega, Vega-Lite and Vega-Embed as one script, safe to inline in a ``<script>`` element."""
    vlc = vl_convert()
    bundle: str = vlc.javascript_bundle(vl_version=vegalite_version())
    # A literal "</script" inside the code would end the element early.
    return bundle.replace("</script", "<\\/script")


def json_for_script(value: Any) -> str:
    """JSON that can sit inside a ``<script>`` element (no ``</`` sequence, no comment openers)."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return text.replace("</", "<\\/").replace("<!--", "<\\!--")


EMBED_OPTIONS: Final = {
    "renderer": "svg",
    # Export menu only: "view source" and "open in editor" would point at online services.
    "actions": {"export": True, "source": False, "compiled": False, "editor": False},
}


def embed_script(element_id: str, chart: ChartLike | dict[str, Any]) -> str:
    """A ``<script>`` that draws ``chart`` into the element with ``element_id``.

    Drawing errors are printed into the page and logged to the console, so a broken chart is
    visible rather than a blank space.
    """
    return (
        "<script>vegaEmbed("
        f"{json_for_script('#' + element_id)}, {json_for_script(spec_of(chart))}, "
        f"{json_for_script(EMBED_OPTIONS)})"
        ".catch(function (e) { console.error(e); "
        f"document.getElementById({json_for_script(element_id)}).textContent = "
        "'chart failed: ' + e; });</script>"
    )


PAGE_STYLE: Final = """
body { font-family: system-ui, -apple-system, 'Segoe UI', sans-serif; margin: 2rem auto;
       max-width: 1100px; color: #222; padding: 0 1rem; }
h1 { font-size: 1.6rem; margin-bottom: 0.2rem; } h2 { font-size: 1.2rem; margin-top: 2rem; }
.meta { color: #666; font-size: 0.9rem; }
.table-scroll { max-width: 100%; overflow-x: auto; }
table.summary { border-collapse: collapse; font-size: 0.8rem; margin: 0.5rem 0; }
table.summary th, table.summary td { border-bottom: 1px solid #ddd; padding: 4px 6px;
                                   white-space: nowrap; }
table.summary th { text-align: left; background: #f6f6f6; white-space: normal;
                   vertical-align: bottom; }
table.summary th.num { text-align: right; }
table.summary td.num { text-align: right; font-variant-numeric: tabular-nums; }
table.summary tr.total td { font-weight: 600; border-top: 2px solid #999; }
table.summary .note { display: block; color: #666; font-size: 0.7rem; font-weight: normal;
                      white-space: normal; }
.chart { margin: 1rem 0 2rem 0; }
"""


def html_page(title_text: str, body: str) -> str:
    """A complete HTML document with the Vega bundle inlined (no external resource at all)."""
    return (
        "<!DOCTYPE html>\n<html lang='en'>\n<head>\n<meta charset='utf-8'>\n"
        f"<title>{html.escape(title_text)}</title>\n"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>\n"
        f"<style>{PAGE_STYLE}</style>\n"
        f"<script>{vega_bundle()}</script>\n"
        f"</head>\n<body>\n{body}\n</body>\n</html>\n"
    )


def chart_html(chart: ChartLike | dict[str, Any], *, title: str = "recanalytics chart") -> str:
    """A self-contained HTML page showing one chart, with every script inlined (works offline).

    Examples
    --------
    >>> import recanalytics as ra
    >>> from recanalytics.charts import chart_html, status_chart
    >>> page = chart_html(status_chart(ra.demo(size=200)))
    >>> "<script src=" in page
    False
    """
    validate.text(title, "title")
    body = f"<div id='chart-0' class='chart'></div>\n{embed_script('chart-0', chart)}"
    return html_page(title, body)


def save_chart(
    chart: ChartLike | dict[str, Any],
    path: str | Path,
    *,
    format: Format | None = None,
    scale: float = 2.0,
) -> Path:
    """Write a chart to PNG, SVG, PDF, offline HTML or Vega-Lite JSON, offline.

    Parameters
    ----------
    chart : altair chart or Vega-Lite dict
    path : str or pathlib.Path
        Output file; its suffix picks the format unless ``format`` is given. Missing folders
        on the way are made.
    format : {"png", "svg", "pdf", "html", "json"}, optional
    scale : float, default 2.0
        Pixel density for PNG.

    Returns
    -------
    pathlib.Path
        The file written, user-only (``0600``), through a temporary file beside it: one
        already there is left as it was when the write fails (over a file the user may write
        in a folder that takes no new file, in place, as :func:`recanalytics.report` does).

    Raises
    ------
    recanalytics.errors.StoreError
        The file could not be written (a full disk, a file size limit); it names the file.

    Examples
    --------
    >>> import recanalytics as ra
    >>> from recanalytics.charts import save_chart, storage_chart
    >>> save_chart(storage_chart(ra.demo(size=200)), "storage.svg")  # doctest: +SKIP
    PosixPath('storage.svg')
    """
    target = validate.file_path(path, "path")
    kind = format or target.suffix.lstrip(".").lower()
    if kind not in _FORMATS:
        raise ConfigError(
            "format", "one of " + ", ".join(_FORMATS) + " (or a path with that suffix)", kind
        )
    validate.writable_file(target, "path")
    content: bytes | str
    if kind == "png":
        content = chart_to_png(chart, scale=scale)
    elif kind == "svg":
        content = chart_to_svg(chart)
    elif kind == "pdf":
        content = _converted(vl_convert().vegalite_to_pdf, renderable(chart))
    elif kind == "html":
        content = chart_html(chart)
    else:
        content = json.dumps(spec_of(chart), indent=2)
    data = content.encode("utf-8") if isinstance(content, str) else content
    # All or nothing, as the report: a full disk left an empty file where a whole one was.
    private_write(target, lambda tmp: tmp.write_bytes(data), in_place=True)
    return target
