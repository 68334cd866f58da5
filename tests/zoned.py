"""Charts rendered as a reader in another time zone sees them: Vega's scenegraph from vl-convert
in a child process whose ``TZ`` is set (vl-convert's JavaScript reads the zone once, at start).

A chart's text is the same in every zone only if it formats times in UTC: Vega-Lite's local
time units (``yearmonth``) and ``timeFormat`` read a UTC midnight as the day before west of
Greenwich. A mark's ``description`` (its ARIA label) holds its tooltip's fields as the tooltip
formats them, so the tooltips are read without a browser.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

from recanalytics.charts.export import vegalite_version

WEST: str = "America/Los_Angeles"
"""A zone behind UTC (UTC-8 or -7): UTC midnight on the 1st is there the evening of the 31st."""

_RENDER = (
    "import json, sys, vl_convert\n"
    "specs, version = json.load(sys.stdin)\n"
    "print(json.dumps([vl_convert.vegalite_to_scenegraph(s, vl_version=version) for s in specs]))\n"
)


def flattened(tree: Any) -> list[dict[str, Any]]:
    """Every dict in ``tree`` (a scenegraph node and those below it)."""
    found: list[dict[str, Any]] = []
    todo: list[Any] = [tree]
    while todo:
        node = todo.pop()
        if isinstance(node, dict):
            found.append(node)
            todo.extend(node.values())
        elif isinstance(node, list):
            todo.extend(node)
    return found


def scenes_in(specs: list[dict[str, Any]], time_zone: str) -> list[list[dict[str, Any]]]:
    """Every node of the scenegraph of each Vega-Lite spec, rendered in ``time_zone`` (one
    child process for them all)."""
    answer = subprocess.run(
        [sys.executable, "-c", _RENDER],
        input=json.dumps([specs, vegalite_version()], default=str),
        env={**os.environ, "TZ": time_zone},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return [flattened(scene) for scene in json.loads(answer.stdout)]


def scene_in(spec: dict[str, Any], time_zone: str) -> list[dict[str, Any]]:
    """Every node of the scenegraph of the Vega-Lite ``spec``, rendered in ``time_zone``."""
    return scenes_in([spec], time_zone)[0]


def descriptions(nodes: list[dict[str, Any]]) -> list[str]:
    """The marks' descriptions (``field: value; …``, the tooltip's text among them)."""
    return [n["description"] for n in nodes if isinstance(n.get("description"), str)]


def described(text: str) -> dict[str, str]:
    """A mark's description as {field title: value shown}."""
    pairs = (part.split(": ", 1) for part in text.split("; "))
    return {pair[0]: pair[1] for pair in pairs if len(pair) == 2}


def axis_labels(nodes: list[dict[str, Any]], orient: str = "bottom") -> list[str]:
    """The labels a reader sees on every ``orient`` axis (the overlap rule hides some)."""
    shown: list[str] = []
    for node in nodes:
        items = node.get("items") or []
        if node.get("role") == "axis" and items and items[0].get("orient") == orient:
            shown += [
                item["text"]
                for label in flattened(node)
                if label.get("role") == "axis-label"
                for item in label.get("items", [])
                if item.get("opacity", 1)
            ]
    return shown
