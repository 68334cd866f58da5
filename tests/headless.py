"""What the notebook, JupyterLab and report tests share: the bundled notebooks' folder, an
environment without provider credentials, and headless Chromium.

Chromium and chromedriver come from Debian (``apt install chromium chromium-driver``; CI's
``.ci/run`` installs them). Without them a browser test skips, except under ``CI``, where it
fails: there the browser check must run.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from provider_cases import CREDENTIAL_VARIABLES

from recanalytics.providers.registry import SPECS

NOTEBOOKS_DIR = Path(__file__).resolve().parents[1] / "notebooks"

# The prefixes of the providers' variables (TWILIO_, ZOOM_, ...).
PROVIDER_PREFIXES = tuple(f"{provider.upper()}_" for provider in SPECS)

# Flags every headless run takes: no GPU, no first-run or background traffic.
HEADLESS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
# No network: no host name resolves but 127.0.0.1, and everything else goes to a proxy on a
# port where nothing listens.
OFFLINE = (
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
    "--proxy-server=http://127.0.0.1:9",
    "--proxy-bypass-list=127.0.0.1",
)


def sandbox_env(tmp: Path) -> dict[str, str]:
    """This process's environment without any provider credential, temp files under ``tmp``."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in CREDENTIAL_VARIABLES and not key.startswith(PROVIDER_PREFIXES)
    }
    env["TMPDIR"] = str(tmp)
    return env


def chromium_paths() -> tuple[str, str] | None:
    """(browser, chromedriver) found on PATH, or None."""
    browser = next(
        (
            p
            for name in ("chromium", "chromium-browser", "google-chrome")
            if (p := shutil.which(name))
        ),
        None,
    )
    driver = shutil.which("chromedriver")
    return (browser, driver) if browser and driver else None


@contextlib.contextmanager
def headless_chromium(profile: Path, *flags: str) -> Iterator[Any]:
    """A selenium driver of headless Chromium with its profile in ``profile`` and extra
    ``flags``, logging the browser console; skips (fails under CI) when it is not installed."""
    paths = chromium_paths()
    if paths is None:
        message = (
            "headless Chromium and chromedriver are needed (apt install chromium chromium-driver)"
        )
        if os.environ.get("CI"):
            pytest.fail(message + "; CI is set, so the browser check must run")
        pytest.skip(message)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    binary, driver_path = paths
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in (*HEADLESS, *flags, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(driver_path))
    try:
        yield driver
    finally:
        driver.quit()


def console_errors(driver: Any) -> list[dict[str, Any]]:
    """The browser console's errors since the last call."""
    return [e for e in driver.get_log("browser") if e["level"] in ("SEVERE", "ERROR")]


# Vega's logger (and Vega-Embed's, which hands it to Vega-Lite's compiler) prefixes a message
# with its level as an argument of its own: console.warn("WARN", "Conflicting scale property
# ..."), which the browser log serialises as `"WARN" "Conflicting scale property ..."`.
VEGA_WARNING = re.compile(r'"WARN\b')


def is_vega_warning(entry: dict[str, Any]) -> bool:
    """Whether a browser log entry is a warning of Vega or Vega-Lite."""
    return entry["level"] == "WARNING" and bool(VEGA_WARNING.search(entry["message"]))


def console_problems(driver: Any) -> list[dict[str, Any]]:
    """The browser console's errors and Vega or Vega-Lite warnings since the last call.

    A Vega-Lite warning (``Conflicting scale property "domains"``, ``Domains that should be
    unioned has conflicting sort properties``, a dropped channel) means a chart drew, but not
    as its spec says: a legend merged from two disagreeing scales, an order given up.
    """
    return [
        e
        for e in driver.get_log("browser")
        if e["level"] in ("SEVERE", "ERROR") or is_vega_warning(e)
    ]
