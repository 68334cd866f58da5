"""``environment.yml`` installs what ``pyproject.toml`` declares, with the same bounds: a conda
user gets the versions the tests ran against (ruff's formatter, for one, changes between minors)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

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


# The oldest version of each that works, and what the one before it lacks.
FIRST_WORKING = {
    # apply(run_close_loop=...): 1.6.1 and 1.6.2 raised TypeError on every sync load in a
    # notebook (recanalytics.sync); up to 1.7.2, ipykernel 7's one Context shared by every
    # cell made a notebook's first sync load destroy the kernel's message task (a hung kernel)
    "nest-asyncio2": "1.7.3",
    # 0.10.0 warns at import on Python 3.13 (strptime of a day without a year)
    "nbclient": "0.10.1",
    # alt.Chart(a polars frame) failed before 5.5 (a user's own charts, notebook 02), and 5.5
    # and 6.0 wrote UTC times without their zone: notebook 02's months moved west of UTC
    "altair": "6.1",
    # `recanalytics notebooks` rendered nothing with older ones (the lowest-versions audit)
    "nbconvert": "7.4",
    # 6.29.0-6.29.3 print debugger warnings around the command's one-line error
    "ipykernel": "6.29.4",
    # 5.9.0 warns of a deprecation at import, an error in the suite
    "nbformat": "5.9.1",
    # 0.24.0 and 0.25.0 leave an event loop unclosed
    "pytest-asyncio": "0.25.1",
    # up to 15.x, MP3 durations read 0.16-0.19 s long and a blanked WAV header another way
    "av": "16.0",
}


def test_lower_bounds_exclude_versions_that_fail() -> None:
    specs = declared()
    for name, first in FIRST_WORKING.items():
        spec = SpecifierSet(specs[name])
        assert first in spec, f"{name} {spec} refuses {first}"
        older = Version(first).release
        before = ".".join(map(str, (*older[:-1], older[-1] - 1))) if older[-1] else None
        assert before is None or before not in spec, f"{name} {spec} still allows {before}"


def test_the_notebooks_extra_runs_every_notebook() -> None:
    # Notebook 07 probes media with PyAV: `pip install 'recanalytics[notebooks]'` lacked it.
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    names = {Requirement(text).name for text in extras["notebooks"]}
    assert {"av", "nbclient", "nbconvert", "ipykernel"} <= names, names


def test_the_wheel_declares_its_types_and_license() -> None:
    # A user's mypy saw the package as untyped (no py.typed in the wheel), and the wheel
    # carried no license text.
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "py.typed" in config["tool"]["setuptools"]["package-data"]["recanalytics"]
    assert (ROOT / "recanalytics" / "py.typed").is_file()
    assert config["project"]["license"] == "MIT"
    for name in config["project"]["license-files"]:
        text = (ROOT / name).read_text()
        assert text.startswith("MIT License") and "recanalytics developers" in text


@pytest.mark.slow
def test_a_built_wheel_holds_the_package_its_types_and_license(tmp_path: Path) -> None:
    # Needs what pyproject's build-system requires, installed (offline: no build isolation).
    pytest.importorskip("build", reason="needs the build package")
    setuptools = pytest.importorskip("setuptools")
    if Version(setuptools.__version__) < Version("77"):
        pytest.skip(f"setuptools {setuptools.__version__} < 77, what pyproject.toml requires")
    source = tmp_path / "src"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(".*", "build", "*.egg-info"))
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "-o", str(tmp_path)],
        cwd=source,
        check=True,
        capture_output=True,
        timeout=600,
    )
    [wheel] = tmp_path.glob("recanalytics-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        metadata = archive.read(next(n for n in names if n.endswith(".dist-info/METADATA")))
    assert {"recanalytics/py.typed", "recanalytics/__init__.py"} <= names
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names), sorted(names)[-8:]
    assert any(n.startswith("recanalytics/sandbox/media/") for n in names)
    assert not any(n.startswith("tests/") for n in names)
    assert b"License-Expression: MIT" in metadata and b"License-File: LICENSE" in metadata
