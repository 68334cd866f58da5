"""Docs that run: every Python block in README.md and docs/*.md, and every docstring example in
the package, is executed against the sandbox; everything public is documented somewhere.

Markdown blocks run top to bottom in one namespace per file (sybil parses them). A file may
set things up in an invisible block (``<!-- invisible-code-block: python ... -->``) and may
mark a block as not run with ``<!-- skip: next "why" -->``; the reason is also said in the
visible text. Docstring examples run through the standard library's doctest with ``ra``,
``pl`` and a small ``box = Sandbox(seed=7, size=200)`` already defined, in a temporary folder.
"""

from __future__ import annotations

import doctest
import importlib
import inspect
import pkgutil
import re
import tempfile
import unittest
from pathlib import Path

import polars as pl
import pytest
from sybil import Sybil
from sybil.parsers.markdown import PythonCodeBlockParser, SkipParser

import recanalytics as ra
from recanalytics.sandbox import Sandbox

ROOT = Path(__file__).resolve().parents[1]
MARKDOWN = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
# The README's blocks also get sybil's doctest-style ">>>" support; none use it yet.
SYBIL = Sybil(parsers=[PythonCodeBlockParser(), SkipParser()])
# Only blocks that cannot run here are skipped; each is listed so a new skip is a decision.
ALLOWED_SKIPS = {
    ("sandbox.md", "the official twilio SDK is not a dependency"),
}
FLAGS = doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS


def markdown_id(path: Path) -> str:
    return str(path.relative_to(ROOT))


@pytest.mark.parametrize("path", MARKDOWN, ids=markdown_id)
def test_markdown_python_blocks_run(
    path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # blocks that write files write them here
    document = SYBIL.parse(path)
    ran, skipped = 0, []
    for example in document:
        try:
            example.evaluate()
        except unittest.SkipTest as skip:
            skipped.append((path.name, str(skip)))
            continue
        except Exception as error:
            raise AssertionError(f"{path.name}, line {example.line}: {error!r}") from error
        ran += 1
    assert set(skipped) <= ALLOWED_SKIPS, skipped
    if "```python" in path.read_text():
        assert ran > 0


def test_readme_is_short() -> None:
    # The README is the front page; the reference lives in docs/.
    assert len((ROOT / "README.md").read_bytes()) <= 15 * 1024


def package_modules() -> list[str]:
    return ["recanalytics"] + [
        module.name for module in pkgutil.walk_packages(ra.__path__, "recanalytics.")
    ]


def docstring_tests(module_name: str) -> list[doctest.DocTest]:
    """The module's doctests, plus those of public objects defined elsewhere but exposed here
    with their own docstring (the sync twins that ``syncify`` builds)."""
    module = importlib.import_module(module_name)
    finder = doctest.DocTestFinder()
    tests = finder.find(module, module_name)
    seen = {test.docstring for test in tests}
    for name in getattr(module, "__all__", ()):
        value = getattr(module, name)
        if (
            inspect.isfunction(value)
            and value.__module__ == module_name
            and value.__doc__ not in seen
        ):
            tests += finder.find(value, f"{module_name}.{name}", module=False, globs=vars(module))
            seen.add(value.__doc__)
    return [test for test in tests if test.examples]


@pytest.mark.parametrize(
    "module_name", [name for name in package_modules() if docstring_tests(name)]
)
def test_docstring_examples_run(
    module_name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    box = Sandbox(seed=7, size=200)
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    report: list[str] = []
    # Examples make their folders with tempfile.mkdtemp(), as a user would: inside tmp_path,
    # so a run of the suite leaves nothing behind in the machine's temporary folder.
    scratch = tmp_path / "tempfile"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    for number, test in enumerate(docstring_tests(module_name)):
        folder = tmp_path / str(number)  # each docstring starts in an empty folder
        folder.mkdir()
        monkeypatch.chdir(folder)
        test.globs.update(ra=ra, pl=pl, box=box)
        runner.run(test, out=report.append)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, "".join(report)


def test_ci_runs_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text()
    command = (ROOT / ".ci" / "run").read_text().strip().splitlines()[-1]
    assert f"```bash\n{command}\n```" in readme


def test_relative_links_resolve() -> None:
    # The reference moved out of the README: a link to a page or heading that is gone is a bug.
    broken = []
    for path in MARKDOWN:
        for target, anchor in re.findall(r"\]\(([^)#\s]+)(#[^)\s]*)?\)", path.read_text()):
            if "://" in target:
                continue
            linked = (path.parent / target).resolve()
            if not linked.exists():
                broken.append(f"{markdown_id(path)}: {target}")
            elif anchor and linked.suffix == ".md" and anchor[1:] not in anchors(linked):
                broken.append(f"{markdown_id(path)}: {target}{anchor}")
    assert broken == []


def anchors(path: Path) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens."""
    headings = [line.lstrip("#").strip() for line in path.read_text().splitlines()]
    return {
        re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")
        for heading, line in zip(headings, path.read_text().splitlines(), strict=True)
        if line.startswith("#")
    }
