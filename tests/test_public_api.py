"""The public surface: __all__ is complete and sorted, and everything public is documented
(in README.md, docs/ or a notebook)."""

from __future__ import annotations

import inspect
import subprocess
import sys
from pathlib import Path

import pytest

import recanalytics as ra
import recanalytics.helpers as helpers
from recanalytics.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]


def documentation() -> str:
    """README.md, docs/*.md and the notebooks (tests/test_docs.py runs their code)."""
    texts = [(ROOT / "README.md").read_text()]
    texts += [p.read_text() for p in sorted((ROOT / "docs").glob("*.md"))]
    texts += [p.read_text() for p in sorted((ROOT / "notebooks").glob("*.ipynb"))]
    return "\n".join(texts)


def isort_style(name: str) -> tuple[int, str]:
    """ruff RUF022's order: CONSTANTS, then Classes, then functions."""
    return (0 if name.isupper() else 1 if name[0].isupper() else 2, name)


def test_all_is_sorted_and_complete() -> None:
    assert ra.__all__ == sorted(ra.__all__, key=isort_style)
    public = {
        name
        for name, value in vars(ra).items()
        if not name.startswith("_")
        and not inspect.ismodule(value)
        and name not in {"annotations", "TYPE_CHECKING", "Any"}
    }
    assert public - set(ra.__all__) == set()
    assert set(ra._LAZY) - set(ra.__all__) == set()  # names loaded on first use are exported too
    assert all(hasattr(ra, name) for name in ra.__all__)


DESIGN_CONTRACT = [
    "load_twilio_recordings",
    "load_twilio_compositions",
    "load_plivo_recordings",
    "load_zoom_recordings",
    "load_signalwire_recordings",
    "get_twilio_recording",
    "get_twilio_composition",
    "get_plivo_recording",
    "get_zoom_session_recordings",
    "get_signalwire_recording",
    "load",
    "demo",
    "SCHEMA",
]


def test_the_design_contract_is_at_the_top_level() -> None:
    """shared/design.md section 2: these names, and every loader's and getter's async twin."""
    for name in DESIGN_CONTRACT:
        assert name in ra.__all__, name
        if name.startswith(("load", "get_")):
            assert f"a{name}" in ra.__all__, name
    for name in ("summarize", "trend", "report", "explore", "FilterPanel", "Store"):
        assert name in ra.__all__, name
    for name in ("download_media", "archive_twilio", "RetryPolicy", "LoadOptions", "empty_frame"):
        assert name in ra.__all__, name


def test_import_is_lazy() -> None:
    """Charts, widgets, the report, notebooks, media probing and the sandbox load on first use."""
    code = (
        "import sys, recanalytics\n"
        "heavy = ['altair', 'ipywidgets', 'av', 'recanalytics.sandbox', 'recanalytics.charts',\n"
        "         'recanalytics.widgets', 'recanalytics.report', 'recanalytics.notebooks']\n"
        "print([m for m in heavy if m in sys.modules])\n"
        "from recanalytics import FilterPanel, save_chart\n"
        "print(recanalytics.sandbox.Sandbox.__name__, 'recanalytics.widgets' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.splitlines() == ["[]", "Sandbox True"]


def test_functions_named_like_their_modules_stay_functions() -> None:
    """``import recanalytics.report`` must not turn ``ra.report`` into the module."""
    code = (
        "import recanalytics.report, recanalytics.demo, recanalytics as ra\n"
        "print(callable(ra.report), callable(ra.demo), ra.report.__module__)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.split() == ["True", "True", "recanalytics.report"]
    code = "import recanalytics as ra\nprint(callable(ra.demo), callable(ra.report))\n"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.split() == ["True", "True"]


def test_helpers_are_reachable_but_not_all_flattened() -> None:
    assert ra.codec_info is ra.helpers.codec_info  # still reachable where it was
    assert "codec_info" not in ra.__all__
    assert ra.summarize is ra.helpers.summarize
    with pytest.raises(AttributeError, match="no_such_name"):
        _ = ra.no_such_name


def test_every_public_name_is_documented() -> None:
    docs = documentation()
    public = [*ra.__all__, *helpers.__all__]
    assert [name for name in dict.fromkeys(public) if name not in docs] == []


def test_every_public_name_is_in_the_readme_or_a_notebook() -> None:
    # The brief's rule: where a user starts, not only the reference in docs/ (the async twins,
    # run_sync, report_html, the error classes were in docs/ alone).
    texts = [(ROOT / "README.md").read_text()]
    texts += [p.read_text() for p in sorted((ROOT / "notebooks").glob("*.ipynb"))]
    front = "\n".join(texts)
    assert [name for name in ra.__all__ if name not in front] == []


def test_every_public_function_has_a_docstring_with_an_example() -> None:
    lacking = []
    for name in ra.__all__:
        value = getattr(ra, name)
        if callable(value) and not inspect.isclass(value):
            doc = inspect.getdoc(value) or ""
            if "Examples" not in doc and ">>>" not in doc:
                lacking.append(name)
    assert lacking == []


def test_every_cli_command_is_documented() -> None:
    docs = documentation()
    commands = build_parser()._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    assert [c for c in commands if f"recanalytics {c}" not in docs] == []


def test_every_provider_has_a_readme_row() -> None:
    readme = (ROOT / "README.md").read_text()
    table = readme.split("<!-- providers-table -->")[1].split("<!-- /providers-table -->")[0]
    for env in (
        "TWILIO_ACCOUNT_SID",
        "PLIVO_AUTH_ID",
        "ZOOM_VIDEOSDK_API_KEY",
        "SIGNALWIRE_PROJECT_ID",
    ):
        assert env in table, env


def test_every_public_callable_pickles_by_reference() -> None:
    """A process pool sends the function itself: ex.submit(ra.load_twilio_recordings, ...)
    failed, "not the same object as recanalytics.providers.twilio.load_twilio_recordings"."""
    import pickle

    for name in ra.__all__:
        value = getattr(ra, name)
        if callable(value) and not inspect.ismodule(value):
            assert pickle.loads(pickle.dumps(value)) is value, name


def test_dir_lists_the_public_names() -> None:
    """Not sys, Any, TYPE_CHECKING and every private submodule imported so far."""
    import recanalytics.engine  # noqa: F401 (a private submodule, bound on the package)

    public = [name for name in dir(ra) if not name.startswith("__")]
    assert public == sorted(ra.__all__)
    assert "__version__" in dir(ra) and "__doc__" in dir(ra)


def test_the_documented_errors_and_warnings_are_exported() -> None:
    from recanalytics import errors

    classes = [
        name
        for name, value in vars(errors).items()
        if inspect.isclass(value)
        and issubclass(value, ra.RecanalyticsError | Warning)
        and value.__module__ == errors.__name__
    ]
    assert sorted(set(classes) - set(ra.__all__)) == []
    assert ra.ArchiveWarning is errors.ArchiveWarning
    assert ra.UnknownOptionError is errors.UnknownOptionError


def test_the_public_tables_pickle_and_stay_read_only() -> None:
    """ra.STORAGE_RATES was a MappingProxyType: 'cannot pickle mappingproxy object'."""
    import copy
    import pickle
    from collections.abc import Mapping

    names = [*ra.__all__, *helpers.__all__]
    tables = {name: getattr(ra, name) for name in names if isinstance(getattr(ra, name), Mapping)}
    assert {"STORAGE_RATES", "CODECS", "CONTAINERS", "COST_KIND_OF"} <= set(tables)
    for name, table in tables.items():
        assert pickle.loads(pickle.dumps(table)) == table == copy.deepcopy(table), name
    for name in ("STORAGE_RATES", "CODECS", "CONTAINERS", "COST_KIND_OF"):
        with pytest.raises(TypeError):
            tables[name]["zoom"] = None
    assert ra.STORAGE_RATES | {"zoom": None} == {**ra.STORAGE_RATES, "zoom": None}
