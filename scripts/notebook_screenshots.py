"""Regenerate the JupyterLab screenshots in docs/img/ from a real run of the browser test.

Runs ``tests/test_lab.py`` (JupyterLab on 127.0.0.1, headless Chromium with the network
blocked, notebooks 01 and 04 run from the Run menu) with ``RECANALYTICS_SCREENSHOTS`` pointing
at ``docs/img``; the test saves ``lab-overview.png``, ``lab-summary-table.png`` and
``lab-explorer.png`` there after its checks pass.

Usage (from the repository root, with the dev extra installed)::

    .venv/bin/python scripts/notebook_screenshots.py
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    env = {**os.environ, "RECANALYTICS_SCREENSHOTS": str(ROOT / "docs" / "img")}
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_lab.py"]
    return subprocess.call(command, cwd=ROOT, env=env)


if __name__ == "__main__":
    raise SystemExit(main())
