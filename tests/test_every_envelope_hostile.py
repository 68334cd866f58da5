"""Every field of every list endpoint's envelope (the paging metadata around the records), one
absurd value at a time: the load returns every row or fails with a named error, never another
exception (an ``int()`` of ``1e400`` raised ``OverflowError`` from Plivo's ``total_count``).

:mod:`test_every_field_hostile` does the same for the records' own fields.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from provider_cases import (
    Table,
    loader_id,
    mock_endpoint,
    registered_loaders,
)

import recanalytics as ra
from recanalytics.providers.base import Loader
from tests.test_every_field_hostile import MARK, absurd_loads, put

Envelope = Callable[[list[Any]], dict[str, Any]]

# Each list endpoint's whole envelope as its docs show it (api-contracts.md), for one last page.
ENVELOPES: Table[Envelope] = Table(
    "full list envelope",
    {
        "twilio_recordings": lambda r: {
            "recordings": r,
            "meta": {
                "page": 0, "page_size": 50, "first_page_url": "https://video.example/v1/Recordings",
                "previous_page_url": None, "url": "https://video.example/v1/Recordings",
                "next_page_url": None, "key": "recordings",
            },
        },
        "twilio_compositions": lambda r: {
            "compositions": r,
            "meta": {
                "page": 0, "page_size": 50,
                "first_page_url": "https://video.example/v1/Compositions",
                "previous_page_url": None, "url": "https://video.example/v1/Compositions",
                "next_page_url": None, "key": "compositions",
            },
        },
        "plivo_recordings": lambda r: {
            "api_id": "x",
            "meta": {
                "limit": 20, "offset": 0, "total_count": len(r), "next": None, "previous": None,
            },
            "objects": r,
        },
        "zoom_recordings": lambda r: {
            "from": "2025-12-31", "to": "2026-01-21", "page_size": 300,
            "total_records": len(r), "next_page_token": "", "sessions": r,
        },
        "signalwire_recordings": lambda r: {
            "uri": "/api/laml/2010-04-01/Accounts/x/Recordings.json",
            "first_page_uri": "/api/laml/2010-04-01/Accounts/x/Recordings.json?Page=0",
            "next_page_uri": None, "previous_page_uri": None, "page": 0, "page_size": 50,
            "start": 0, "end": len(r) - 1, "recordings": r,
        },
    },
)  # fmt: skip


def scalar_paths(body: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Where the envelope's own values are (its list of records left out)."""
    paths = []
    for key, value in body.items():
        if isinstance(value, list):
            continue
        if isinstance(value, dict):
            paths.extend(scalar_paths(value, (*prefix, key)))
        else:
            paths.append((*prefix, key))
    return paths


CASES = [
    pytest.param(loader, path, id=f"{loader_id(loader)}-{'.'.join(path)}")
    for loader in registered_loaders()
    for path in scalar_paths(ENVELOPES[loader_id(loader)]([]))
]


@pytest.mark.parametrize(("loader", "path"), CASES)
def test_an_absurd_envelope_value_keeps_every_row_or_fails_by_name(
    loader: Loader[Any], path: tuple[str, ...]
) -> None:
    mock = mock_endpoint(loader)

    def body_for(value: bytes) -> bytes:
        envelope = ENVELOPES[loader_id(loader)]([mock.record(i) for i in range(3)])
        put(envelope, path, MARK)
        return json.dumps(envelope).encode().replace(f'"{MARK}"'.encode(), value)

    failures = []
    for value, df, _ in absurd_loads(loader, body_for):
        if isinstance(df, ra.RecanalyticsError):
            continue  # a named error: the load said it could not be completed
        if isinstance(df, Exception):
            failures.append(f"{value[:30]!r}: {type(df).__name__}: {df}"[:300])
        elif df.height != 3 or df.schema != ra.SCHEMA:
            failures.append(f"{value[:30]!r}: {df.height} rows")
    assert not failures, failures
