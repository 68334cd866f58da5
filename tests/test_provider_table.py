"""A provider is described once, in its own modules, and everything else reads the table.

Adding a provider = its provider module(s), its emulator, its test fixtures and one line in
``providers/registry.py`` (see docs/adding-a-provider.md). This test keeps that true: outside
those files, the registries and the schema (whose enum must be literal), no library module
names a provider, neither as a string nor by importing its modules.
"""

from __future__ import annotations

import ast
from pathlib import Path

import recanalytics as ra
from recanalytics.providers.registry import LOADERS, SPECS, TABLE
from recanalytics.schema import KINDS, PROVIDERS

PACKAGE = Path(__file__).resolve().parents[1] / "recanalytics"

# Where a provider may be named: its own modules, the registries and the literal schema.
OWN = {f"providers/{p}.py" for p in PROVIDERS} | {f"sandbox/{p}.py" for p in PROVIDERS}
OWN |= {"providers/twilio_compositions.py", "providers/twilio_archive.py"}
REGISTRIES = {
    "providers/registry.py",  # the provider table
    "loaders.py",  # the public loader names, one pair per registered loader
    "__init__.py",  # the public contract (shared/design.md section 2)
    "schema.py",  # the Enum of providers must be literal
}
# Files not yet moved to the table, each with what still names a provider (issue 13 emptied it;
# an entry added here must say why, and is removed as soon as the file stops naming one).
PENDING: set[str] = set()


def docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            found.add(id(node.value))
    return found


def provider_mentions(path: Path) -> list[str]:
    """The provider names ``path`` spells in code: as a whole string or a module it imports."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = docstrings(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
            if node.value.lower() in PROVIDERS:
                found.append(f"line {node.lineno}: {node.value!r}")
        elif isinstance(node, ast.ImportFrom):
            modules = [f"{node.module}.{a.name}" for a in node.names] + [node.module or ""]
            for module in modules:
                if module.rsplit(".", 1)[-1] in PROVIDERS:
                    found.append(f"line {node.lineno}: imports {module}")
        elif isinstance(node, ast.Import):
            found += [
                f"line {node.lineno}: imports {a.name}"
                for a in node.names
                if a.name.rsplit(".", 1)[-1] in PROVIDERS
            ]
    return found


def test_no_library_module_names_a_provider_outside_its_own_modules() -> None:
    allowed = OWN | REGISTRIES | PENDING
    offenders = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).as_posix()
        if relative not in allowed and (mentions := provider_mentions(path)):
            offenders[relative] = mentions
    assert offenders == {}


def test_pending_files_still_need_their_exemption() -> None:
    """An exemption that is no longer needed is removed, so the list only shrinks."""
    for relative in PENDING:
        assert provider_mentions(PACKAGE / relative), f"{relative} no longer names a provider"


def test_the_checker_sees_a_provider_name(tmp_path: Path) -> None:
    source = tmp_path / "x.py"
    source.write_text(
        '"""Twilio in a docstring is prose."""\n'
        "from recanalytics.providers import zoom\n"
        'RATES = {"plivo": 1}\n'
    )
    assert provider_mentions(source) == [
        "line 2: imports recanalytics.providers.zoom",
        "line 3: 'plivo'",
    ]


def test_the_table_covers_the_schema() -> None:
    """The schema's literal enum and the table name the same providers, in the same order."""
    assert list(SPECS) == list(PROVIDERS)
    for spec, loaders in TABLE:
        assert loaders, spec.name
        assert all(loader.provider == spec.name for loader in loaders)
        assert {k for loader in loaders for k in loader.kinds} <= set(KINDS)
        assert spec.color.startswith("#") and spec.storage_rate is not None and spec.emulator
    assert {k for loaders in LOADERS.values() for loader in loaders for k in loader.kinds} == set(
        KINDS
    )


def test_everything_reads_the_table() -> None:
    from recanalytics.charts import PROVIDER_COLORS
    from recanalytics.helpers import STORAGE_RATES
    from recanalytics.sandbox import EMULATORS

    assert {name: spec.color for name, spec in SPECS.items()} == PROVIDER_COLORS
    assert dict(STORAGE_RATES) == {name: spec.storage_rate for name, spec in SPECS.items()}
    assert set(EMULATORS) == set(SPECS)
    assert tuple(SPECS) == ra.PROVIDERS or list(ra.PROVIDERS) == list(SPECS)
