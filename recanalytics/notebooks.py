"""Execute the bundled notebooks and render them to HTML pages that work offline.

:func:`render_notebooks` runs every notebook of a folder in a fresh Jupyter kernel (on the
sandbox unless provider credentials are set, like the notebooks themselves) and converts the
results to HTML with nbconvert. Charts are drawn by Vega-Embed from a Vega/Vega-Lite bundle
inlined once per page (from vl-convert), and the page loads nothing from a CDN: no require.js,
no MathJax, no widget manager. It opens from a file, a mail attachment or an air-gapped machine.

Needs the ``notebooks`` extra (JupyterLab, ipykernel, nbclient, nbconvert) and vl-convert
(``export`` extra).
"""

from __future__ import annotations

import copy
import html
import os
import re
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final

from recanalytics import validate
from recanalytics.charts.export import vega_bundle
from recanalytics.charts.offline import OFFLINE_RENDERER, offline_renderer, use_offline_renderer
from recanalytics.errors import ConfigError, RecanalyticsError
from recanalytics.store import private_write

__all__ = [
    "OFFLINE_RENDERER",
    "find_notebooks",
    "offline_problems",
    "offline_renderer",
    "render_notebooks",
    "use_offline_renderer",
]

NOTEBOOK_EXTRAS: Final = "recanalytics[notebooks,export]"
"""What ``pip install`` needs to run every bundled notebook (its ``media`` part included)."""
INSTALL_HINT: Final = (
    f"rendering notebooks needs nbclient, nbconvert and ipykernel: pip install '{NOTEBOOK_EXTRAS}'"
)

WIDGET_VIEW: Final = "application/vnd.jupyter.widget-view+json"

_SETUP_SOURCE: Final = (
    "# Added by recanalytics.notebooks.render_notebooks; removed from the rendered page.\n"
    "import recanalytics.notebooks\n"
    "recanalytics.notebooks.use_offline_renderer(inline_bundle=False)"
)

# The lab template with every CDN script removed and the Vega bundle inlined instead.
_TEMPLATE_NAME: Final = "recanalytics_offline.html.j2"
_TEMPLATE: Final = """{%- extends 'index.html.j2' -%}
{%- block html_head_js -%}
<script>{{ resources.recanalytics_vega_bundle }}</script>
{%- endblock html_head_js -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
"""

# An element that makes the browser fetch something from another host.
_EXTERNAL: Final = re.compile(
    r"<(script|link|img|iframe|source|audio|video)\b[^>]*?\b(?:src|href)\s*=\s*['\"]?"
    r"(?:https?:)?//[^'\"\s>]+",
    re.IGNORECASE,
)
_IMPORT_URL: Final = re.compile(r"""import\(\s*['"](?:https?:)?//""", re.IGNORECASE)


def offline_problems(page: str) -> list[str]:
    """What in an HTML page would be fetched from another host (empty when it works offline).

    Looks for ``<script>``, ``<link>``, ``<img>``, ``<iframe>``, ``<source>``, ``<audio>`` and
    ``<video>`` elements with an ``http(s)://`` or protocol-relative ``src``/``href``, and for
    dynamic ``import("https://…")``. Plain links (``<a href>``) are fine: they fetch nothing.

    Parameters
    ----------
    page : str
        The HTML text.

    Returns
    -------
    list of str
        The offending snippets, in page order.

    Examples
    --------
    >>> offline_problems("<script src='https://cdn.jsdelivr.net/npm/vega@6'></script>")
    ["<script src='https://cdn.jsdelivr.net/npm/vega@6"]
    >>> offline_problems("<script>vegaEmbed('#c', {})</script><a href='https://x.org'>x</a>")
    []
    """
    return [m.group(0) for m in _EXTERNAL.finditer(page)] + [
        m.group(0) for m in _IMPORT_URL.finditer(page)
    ]


def find_notebooks(src_dir: str | os.PathLike[str]) -> list[Path]:
    """The ``.ipynb`` files directly in ``src_dir``, sorted by name (checkpoints excluded).

    Examples
    --------
    >>> [p.name for p in find_notebooks("notebooks")][:1]  # doctest: +SKIP
    ['01-quickstart.ipynb']
    """
    root = validate.folder(src_dir, "src_dir")
    if not root.is_dir():
        raise ConfigError("src_dir", "an existing folder of .ipynb files", os.fspath(src_dir))
    return sorted(p for p in root.glob("*.ipynb") if p.is_file())


def _wanted(names: Any) -> set[str] | None:
    """The notebook file names asked for: one name or a non-empty sequence of them."""
    if names is None:
        return None
    form = "a notebook file name (with or without .ipynb) or a non-empty list of them"
    items = [names] if isinstance(names, str) else names
    if not isinstance(items, Sequence) or not items:
        raise ConfigError("names", form, names)
    for name in items:
        if not isinstance(name, str) or not name.strip() or re.search(r"[/\\\0]", name):
            raise ConfigError("names", form, name)
    return {n if n.endswith(".ipynb") else f"{n}.ipynb" for n in items}


def _kernel_known(kernel_name: Any) -> str:
    """``kernel_name`` if Jupyter has such a kernel installed."""
    from jupyter_client.kernelspec import KernelSpecManager

    installed = sorted(KernelSpecManager().find_kernel_specs())
    if not isinstance(kernel_name, str) or kernel_name not in installed:
        form = "an installed Jupyter kernel: " + ", ".join(installed)
        raise ConfigError("kernel_name", form, kernel_name)
    return kernel_name


def _imports() -> tuple[Any, Any, Any]:
    try:
        import nbclient
        import nbconvert
        import nbformat
    except ImportError as exc:
        # The real cause too: a package that is installed but fails to import (a version
        # too old for another) is not fixed by installing the extra again.
        raise ImportError(f"{INSTALL_HINT} ({exc})") from exc
    return nbformat, nbclient, nbconvert


_NOTE: Final = "while executing notebook "


def cell_failure(exc: BaseException) -> str | None:
    """One line for a notebook cell that raised (nbclient's ``CellExecutionError``), else None.

    Names the notebook, the exception and its message's first line; a module a cell could not
    import gets the pip command of the extras the notebooks use.

    Examples
    --------
    >>> cell_failure(ValueError("not a cell")) is None
    True
    """
    try:
        from nbclient.exceptions import CellExecutionError
    except ImportError:
        return None
    if not isinstance(exc, CellExecutionError):
        return None
    notes = [n[len(_NOTE) :] for n in getattr(exc, "__notes__", ()) if n.startswith(_NOTE)]
    message = (str(exc.evalue).strip().splitlines() or [""])[0][:300]
    line = f"{notes[0] if notes else 'a notebook'}: a cell raised {exc.ename}: {message}"
    if exc.ename in ("ModuleNotFoundError", "ImportError") and "pip install" not in message:
        line += f" (the notebooks need: pip install '{NOTEBOOK_EXTRAS}')"
    return line


def _drop_widget_outputs(nb: Any) -> None:
    """Remove widget views (progress bars, the explorer): without a kernel they show nothing,
    and nbconvert would otherwise pull the widget manager from a CDN."""
    for cell in nb.cells:
        if cell.get("cell_type") == "code":
            cell["outputs"] = [
                out for out in cell.get("outputs", []) if WIDGET_VIEW not in out.get("data", {})
            ]


def _kernel_config(sockets: Path) -> Any:
    """Kernel-manager settings: talk to the kernel over Unix sockets in ``sockets`` if possible.

    Over TCP an ipykernel warns on every start that its traffic is unencrypted (six times for
    six notebooks); Unix domain sockets in a private folder need no warning. The socket path
    is absolute, since the kernel runs in another working directory.
    """
    from traitlets.config import Config

    if os.name != "posix":
        return Config()
    return Config({"KernelManager": {"transport": "ipc", "ip": str(sockets / "kernel")}})


def _execute(
    nb: Any,
    *,
    workdir: Path,
    sockets: Path,
    kernel_name: str,
    timeout: int,
    env: Mapping[str, str] | None,
) -> Any:
    nbformat, nbclient, _ = _imports()
    setup = nbformat.v4.new_code_cell(_SETUP_SOURCE)
    setup["id"] = "recanalytics-render-setup"
    run = copy.deepcopy(nb)
    run.cells.insert(0, setup)
    client = nbclient.NotebookClient(
        run,
        config=_kernel_config(sockets),
        timeout=timeout,
        kernel_name=kernel_name,
        resources={"metadata": {"path": str(workdir)}},
        store_widget_state=False,
    )
    kernel_env = dict(os.environ if env is None else env)
    # What the notebook (or the kernel) puts in temporary folders goes with the working one.
    kernel_env.update(dict.fromkeys(("TMPDIR", "TEMP", "TMP"), str(workdir)))
    client.execute(env=kernel_env)
    run.cells.pop(0)
    # The setup cell took execution count 1: number the notebook's own cells from 1 again.
    for cell in run.cells:
        if cell.get("cell_type") == "code" and cell.get("execution_count"):
            cell["execution_count"] -= 1
            for out in cell.get("outputs", []):
                if out.get("execution_count"):
                    out["execution_count"] -= 1
    return run


def _to_html(nb: Any, title: str) -> str:
    _, _, nbconvert = _imports()
    import jinja2

    exporter = nbconvert.HTMLExporter(
        template_name="lab",
        extra_loaders=[jinja2.DictLoader({_TEMPLATE_NAME: _TEMPLATE})],
    )
    exporter.template_file = _TEMPLATE_NAME
    resources = {"metadata": {"name": title}, "recanalytics_vega_bundle": vega_bundle()}
    body, _ = exporter.from_notebook_node(nb, resources=resources)
    page: str = body
    return page


def _index_page(pages: Sequence[Path]) -> str:
    items = "\n".join(
        f"<li><a href='{html.escape(p.name)}'>{html.escape(p.stem)}</a></li>" for p in pages
    )
    return (
        "<!DOCTYPE html>\n<html lang='en'>\n<head><meta charset='utf-8'>"
        "<title>recanalytics notebooks</title>"
        "<style>body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:700px}</style>"
        f"</head>\n<body>\n<h1>recanalytics notebooks</h1>\n<ul>\n{items}\n</ul>\n</body>\n</html>\n"
    )


def render_notebooks(
    src_dir: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    *,
    names: Sequence[str] | None = None,
    kernel_name: str = "python3",
    timeout: int = 600,
    env: Mapping[str, str] | None = None,
) -> list[Path]:
    """Execute each notebook in ``src_dir`` and write it as an offline HTML page to ``out_dir``.

    Every notebook runs top to bottom in a fresh kernel whose working directory and
    ``TMPDIR`` are a new temporary folder, removed after the run (so files a notebook writes
    never land next to it nor stay behind), with altair switched to
    :func:`offline_renderer`. The pages come from nbconvert's ``lab`` template with the Vega,
    Vega-Lite and Vega-Embed bundle inlined once per page and every CDN script left out; widget
    outputs, which need a kernel, are dropped. ``out_dir`` also gets an ``index.html`` linking
    the pages. The notebooks in ``src_dir`` are not modified.

    Like the notebooks themselves, this uses real provider accounts when credentials are in the
    environment (or in ``env``), and the sandbox otherwise.

    Parameters
    ----------
    src_dir : path
        Folder with the ``.ipynb`` files (not searched recursively).
    out_dir : path
        Folder for the HTML pages (created).
    names : str or sequence of str, optional
        Only this notebook, or these (file names, with or without ``.ipynb``); default all.
    kernel_name : str, default "python3"
        The Jupyter kernel to run them in.
    timeout : int, default 600
        Seconds one cell may run.
    env : mapping, optional
        The kernel's environment variables (default: this process's).

    Returns
    -------
    list of pathlib.Path
        The HTML pages written, in notebook order (``index.html`` not included).

    Raises
    ------
    nbclient.exceptions.CellExecutionError
        A cell failed; its note names the notebook.
    ConfigError
        An argument is invalid: the folder or a named notebook does not exist, ``timeout`` is
        not a whole number of seconds, no such kernel is installed (raised before any runs).
    RecanalyticsError
        A page would load something from the network.
    StoreError
        A page could not be written (a full disk, a file size limit): it names the page. Each
        page is written to a temporary file beside it and renamed, so one already there is
        left as it was; the pages are user-only (``0600``).

    Examples
    --------
    >>> from recanalytics.notebooks import render_notebooks
    >>> render_notebooks("notebooks", "site")  # doctest: +SKIP
    [PosixPath('site/01-quickstart.html'), PosixPath('site/02-storage-trends.html'), ...]
    """
    nbformat, _, _ = _imports()
    notebooks = find_notebooks(src_dir)
    wanted = _wanted(names)
    if wanted is not None:
        missing = sorted(wanted - {p.name for p in notebooks})
        if missing:
            raise ConfigError("names", f"notebooks in {src_dir}", ", ".join(missing))
        notebooks = [p for p in notebooks if p.name in wanted]
    validate.int_range(timeout, "timeout", 1)
    _kernel_known(kernel_name)
    out = validate.made_folder(validate.folder(out_dir, "out_dir"), "out_dir")
    written: list[Path] = []
    for path in notebooks:
        nb = nbformat.read(path, as_version=4)
        with (
            tempfile.TemporaryDirectory(prefix="recanalytics-notebook-") as workdir,
            tempfile.TemporaryDirectory(prefix="ra-kernel-") as sockets,
        ):
            try:
                executed = _execute(
                    nb,
                    workdir=Path(workdir),
                    sockets=Path(sockets),
                    kernel_name=kernel_name,
                    timeout=timeout,
                    env=env,
                )
            except Exception as exc:
                exc.add_note(f"{_NOTE}{path}")
                raise
        _drop_widget_outputs(executed)
        page = _to_html(executed, path.stem)
        problems = offline_problems(page)
        if problems:
            raise RecanalyticsError(
                f"{path.name}: the rendered page would load from the network: {problems[:3]}"
            )
        target = out / f"{path.stem}.html"
        _write_page(target, page)
        written.append(target)
    _write_page(out / "index.html", _index_page(written))
    return written


def _write_page(target: Path, page: str) -> None:
    # All or nothing: a full disk left a page cut off mid-script where a whole one was.
    private_write(target, lambda tmp: tmp.write_text(page, encoding="utf-8"))
