"""``environment.yml`` installs what ``pyproject.toml`` declares, with the same bounds: a conda
user gets the versions the tests ran against (ruff's formatter, for one, changes between minors)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
ENTRY = re.compile(r"^\s*- ([A-Za-z0-9][A-Za-z0-9._-]*)\s*([<>=!~][^#]*?)?\s*(?:#.*)?$")


def declared() -> dict[str, str]:
    """Every requirement of the package and of the extras the environment serves."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    wanted = [*project["dependencies"], *extras["dev"], *extras["notebooks"]]
    requirements = (Requirement(text) for text in wanted)
    return {r.name.lower(): str(r.specifier) for r in requirements}


def environment() -> dict[str, str]:
    entries: dict[str, str] = {}
    for line in (ROOT / "environment.yml").read_text().splitlines():
        match = ENTRY.match(line)
        if match and match.group(1) not in ("pip", "python"):
            spec = (match.group(2) or "").replace(" ", "")
            entries[match.group(1).lower()] = ",".join(sorted(spec.split(","))) if spec else ""
    return entries


def test_environment_installs_every_declared_requirement_with_its_bounds() -> None:
    env = environment()
    expected = {name: ",".join(sorted(spec.split(","))) for name, spec in declared().items()}
    missing = sorted(set(expected) - set(env))
    assert not missing, f"environment.yml lacks {missing}"
    differing = {n: (env[n], s) for n, s in expected.items() if env[n] != s}
    assert not differing, (
        f"environment.yml's bounds differ (environment.yml, pyproject): {differing}"
    )
