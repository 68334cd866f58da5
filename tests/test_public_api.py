"""The public surface: __all__ is complete and sorted, and everything public is documented
(in README.md, docs/ or a notebook)."""

from __future__ import annotations

import inspect
from pathlib import Path

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
        if not name.startswith("_") and not inspect.ismodule(value) and name not in {"annotations"}
    }
    assert public - set(ra.__all__) == set()
    assert all(hasattr(ra, name) for name in ra.__all__)


def test_every_public_name_is_documented() -> None:
    docs = documentation()
    public = [*ra.__all__, *helpers.__all__]
    assert [name for name in dict.fromkeys(public) if name not in docs] == []


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
