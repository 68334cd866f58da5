"""Every field of every list endpoint, one absurd value at a time: the load never crashes and
never drops the row (a page of three records, the value in the second's field).

:mod:`test_hostile_values` checks what becomes of a value (null, counted, kept in ``extra``) for
one field of each kind; this sweeps all of them, so a field whose parser or unified expression
meets a value nobody thought of is caught by name.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import polars as pl
import pytest
from provider_cases import CREDENTIALS, loader_id, mock_endpoint, registered_loaders, sync_loader

import recanalytics as ra
from recanalytics.providers.base import Loader
from tests.conftest import FAST_RETRY

MARK = "@@absurd@@"
ABSURD = [
    b"null", b"true", b"-1", b"1e400", b"NaN", str(2**64).encode(), b'""', b'"\\u0000"',
    b'"\\ud800"', b"[]", b'{"a": {"b": 1}}', b'"9999-12-31T23:59:59Z"', b'"-1"', b'"1e400"',
    b'"' + b"x" * 100_000 + b'"', b'"\\u202e\\n"',
    # Year 0, which polars reads and Python's datetime cannot hold.
    b'"0000-01-01T00:00:00Z"', b'"Sat, 01 Jan 0000 00:00:00 +0000"',
]  # fmt: skip


def json_paths(loader: Loader[Any]) -> list[tuple[str, ...]]:
    """Where each raw field's value is in a listed record (Zoom's rows are a session's files)."""
    paths = []
    for field in loader.endpoint.fields:
        where = field.where
        if loader.provider == "zoom":
            if where[0] == "file":
                paths.append(("recording_files", "0", *where[1:]))
            elif where[0] == "session":
                paths.append(where[1:])
            continue  # derived (the row id, its kind)
        paths.append(where)
    return paths


def put(record: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    node: Any = record
    for key in path[:-1]:
        if isinstance(node, list):
            node = node[int(key)]
        else:
            if not isinstance(node.get(key), dict | list):
                node[key] = {}
            node = node[key]
    node[path[-1]] = value


CASES = [
    pytest.param(loader, path, id=f"{loader_id(loader)}-{'.'.join(path)}")
    for loader in registered_loaders()
    for path in json_paths(loader)
]


def absurd_loads(
    loader: Loader[Any], body_for: Callable[[bytes], bytes]
) -> Iterator[tuple[bytes, pl.DataFrame | Exception, list[warnings.WarningMessage]]]:
    """One load of ``loader`` per absurd value, its only page ``body_for(value)``: the value,
    the frame or the exception raised, and what was warned."""
    mock = mock_endpoint(loader)
    load = sync_loader(loader)
    options = {
        "credentials": CREDENTIALS[loader.provider],
        "base_url": mock.base_url,
        "retry": FAST_RETRY,
        "max_concurrency": 1,
        **mock.span,
    }
    for value in ABSURD:
        body = body_for(value)
        transport = httpx.MockTransport(
            lambda request, body=body: httpx.Response(200, content=body)
        )
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")  # what the warnings say: test_hostile_values
            try:
                outcome: pl.DataFrame | Exception = load(transport=transport, **options)
            except Exception as exc:  # every value is tried, then all are reported
                outcome = exc
        yield value, outcome, caught


@pytest.mark.parametrize(("loader", "path"), CASES)
def test_an_absurd_value_in_any_field_keeps_every_row(
    loader: Loader[Any], path: tuple[str, ...]
) -> None:
    mock = mock_endpoint(loader)

    def body_for(value: bytes) -> bytes:
        records = [mock.record(i) for i in range(3)]
        put(records[1], path, MARK)
        return json.dumps(mock.envelope(records)).encode().replace(f'"{MARK}"'.encode(), value)

    failures = []
    for value, df, caught in absurd_loads(loader, body_for):
        if isinstance(df, Exception):
            failures.append(f"{value[:30]!r}: {type(df).__name__}: {df}"[:300])
            continue
        # A creation time years outside since/until is trimmed, and said so (test_hostile_values)
        trimmed = any("outside since/until" in str(w.message) for w in caught)
        if df.height != 3 - trimmed or df.schema != ra.SCHEMA:
            failures.append(f"{value[:30]!r}: {df.height} rows")
    assert not failures, failures
