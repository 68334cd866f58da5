"""One contract over every list endpoint: whatever the server does while paging, a load returns
exactly the fault-free ids, or raises a named error that carries the rows it had loaded.

The anomalies are the real APIs' (see ``recanalytics.sandbox.core.Anomalies``), planted by the
sandbox in its answers; the loaders run unpatched against it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import polars as pl
import pytest
from provider_cases import loader_id, registered_loaders, sync_loader

import recanalytics as ra
from recanalytics.errors import PaginationError
from recanalytics.sandbox import Anomalies, Faults, Sandbox
from recanalytics.sandbox.common import DEFAULT_START
from tests.conftest import FAST_RETRY, UNPACED

SEED, SIZE = 3, 400


@dataclass(frozen=True)
class Endpoint:
    loader: Callable[..., pl.DataFrame]
    provider: str
    kwargs: dict[str, Any]


# Small pages, so every load walks many pages and meets many anomalies; a loader not named
# here (a new provider's) walks the whole dataset in pages of 5.
DEFAULT_KWARGS: dict[str, Any] = {"page_size": 5, "since": DEFAULT_START}
KWARGS: dict[str, dict[str, Any]] = {
    "twilio_recordings": {"page_size": 10},
    "twilio_compositions": {"page_size": 2, "since": DEFAULT_START},
    "plivo_recordings": {"page_size": 5, "since": DEFAULT_START},
    "zoom_recordings": {"page_size": 1, "since": DEFAULT_START},
    "signalwire_recordings": {"page_size": 10},
}
ENDPOINTS = {
    loader_id(x): Endpoint(sync_loader(x), x.provider, KWARGS.get(loader_id(x), DEFAULT_KWARGS))
    for x in registered_loaders()
}

TRANSIENT = {
    "empty pages that link on": Anomalies(empty_every=3),
    "repeated pages": Anomalies(repeat_every=3),
    "bodies without the list": Anomalies(missing_every=3),
    "all of them": Anomalies(empty_every=5, repeat_every=7, missing_every=4),
}
# Persistent: the second page of every query misbehaves every time it is asked for.
PERSISTENT = {
    "endless empty pages": Anomalies(empty_every=2, persistent=True),
    "a page that always repeats another": Anomalies(repeat_every=2, persistent=True),
    "a page that never has the list": Anomalies(missing_every=2, persistent=True),
}


def fresh(anomaly: Anomalies | None) -> Anomalies | None:
    """A copy with its own counters (the sandbox keeps state in it)."""
    return None if anomaly is None else dataclasses.replace(anomaly)


# Pacing is not this contract's subject (the sandbox here sets no rate limits); at the
# providers' own rates Zoom's pages of one would wait a second per 20 requests.
QUICK = {"retry": FAST_RETRY, "rate_limit": UNPACED}


def load(endpoint: Endpoint, box: Sandbox, **extra: Any) -> pl.DataFrame:
    options = box.options(endpoint.provider) | QUICK
    return endpoint.loader(**endpoint.kwargs, **options, **extra)


_truth: dict[tuple[str, int], set[str]] = {}
SMALL = 200  # for the cases that fail anyway: fewer pages to walk before they do


def truth(name: str, size: int = SIZE) -> set[str]:
    """The ids a load of a well-behaved server returns."""
    if (name, size) not in _truth:
        df = load(ENDPOINTS[name], Sandbox(seed=SEED, size=size))
        assert df.height >= 10 and df["recording_id"].n_unique() == df.height
        _truth[name, size] = set(df["recording_id"])
    return _truth[name, size]


def ids(df: pl.DataFrame) -> list[str]:
    return df["recording_id"].to_list()


@pytest.mark.parametrize("anomaly", TRANSIENT.values(), ids=TRANSIENT.keys())
@pytest.mark.parametrize("name", ENDPOINTS)
def test_transient_anomalies_lose_and_duplicate_nothing(name: str, anomaly: Anomalies) -> None:
    box = Sandbox(seed=SEED, size=SIZE, anomalies=fresh(anomaly))
    df = load(ENDPOINTS[name], box)
    assert sorted(ids(df)) == sorted(truth(name))


@pytest.mark.parametrize("anomaly", PERSISTENT.values(), ids=PERSISTENT.keys())
@pytest.mark.parametrize("name", ENDPOINTS)
def test_persistent_anomalies_fail_loudly_with_the_rows_loaded(
    name: str, anomaly: Anomalies
) -> None:
    box = Sandbox(seed=SEED, size=SMALL, anomalies=fresh(anomaly))
    with pytest.raises(PaginationError) as info:
        # One worker: no window is split, so each walks to its second page.
        load(ENDPOINTS[name], box, max_concurrency=1)
    partial = info.value.partial
    assert partial is not None and partial.schema == ra.SCHEMA
    assert 0 < partial.height < len(truth(name, SMALL))
    assert set(ids(partial)) <= truth(name, SMALL) and partial["recording_id"].is_unique().all()


@pytest.mark.parametrize("name", ENDPOINTS)
def test_the_page_cap_fails_loudly_with_the_rows_loaded(name: str) -> None:
    box = Sandbox(seed=SEED, size=SIZE)
    with pytest.raises(PaginationError, match="page cap") as info:
        load(ENDPOINTS[name], box, max_pages=1, max_concurrency=1)
    assert 0 < info.value.partial.height < len(truth(name))


@pytest.mark.parametrize("name", ENDPOINTS)
def test_load_with_status_reports_the_failure_and_the_partial_count(name: str) -> None:
    endpoint = ENDPOINTS[name]
    box = Sandbox(seed=SEED, size=SMALL, anomalies=fresh(PERSISTENT["endless empty pages"]))
    result = ra.load_with_status(
        [endpoint.provider],
        since=DEFAULT_START,  # many windows: some fail, the others' rows are the partial
        warn=False,
        **QUICK,
        **box.load_options(),
    )
    status = result.status[endpoint.provider]
    if status.state == "ok":  # the default page size may walk past every planted page
        assert status.rows == result.frame.height > 0
        return
    assert status.state == "failed" and "empty pages" in status.error
    assert status.partial is not None and status.rows == status.partial.height > 0
    assert result.frame.filter(pl.col("provider") == endpoint.provider).height == 0


@pytest.mark.parametrize("mode", ["offset", "cursor", "hybrid"])
@pytest.mark.parametrize("anomaly", [None, *TRANSIENT.values()], ids=["clean", *TRANSIENT])
def test_plivo_loads_every_row_in_every_paging_mode(mode: str, anomaly: Anomalies | None) -> None:
    box = Sandbox(
        seed=SEED,
        size=SIZE,
        anomalies=fresh(anomaly),
        emulator_options={"plivo": {"paging": mode}},
    )
    df = load(ENDPOINTS["plivo_recordings"], box)
    assert sorted(ids(df)) == sorted(truth("plivo_recordings"))
    if mode == "cursor":  # never an offset with a cursor: a hybrid server would pin page 1
        sent = [q for _, _, q in box.app.log if "cursor=" in q]
        assert sent and not any("offset=" in q for q in sent)


def test_plivo_fans_offsets_out_only_where_the_server_honours_them() -> None:
    requests = {}
    for mode in ("offset", "cursor"):
        box = Sandbox(seed=SEED, size=SIZE, emulator_options={"plivo": {"paging": mode}})
        load(ENDPOINTS["plivo_recordings"], box)
        requests[mode] = [q for _, _, q in box.app.log]
    # Offsets honoured: every page at its own offset, each once, no cursor.
    assert len(set(requests["offset"])) == len(requests["offset"])
    assert not any("cursor=" in q for q in requests["offset"])
    # Offsets ignored: page 1 and one probe at offset=limit per window, then only cursors.
    offsets = {q.split("offset=")[1] for q in requests["cursor"] if "offset=" in q}
    assert offsets == {"0", "5"}
    assert any("cursor=" in q for q in requests["cursor"])


@pytest.mark.parametrize("name", ENDPOINTS)
def test_faults_and_anomalies_together_over_loopback_http(name: str) -> None:
    endpoint = ENDPOINTS[name]
    box = Sandbox(
        seed=SEED,
        size=SIZE,
        faults=Faults(error_rate=0.2, drop_rate=0.1, truncate_rate=0.05, seed=2),
        anomalies=Anomalies(empty_every=5, repeat_every=7, missing_every=6),
    )
    with box.serve() as server:
        options = box.options(endpoint.provider, base_url=server.url) | QUICK
        df = endpoint.loader(**endpoint.kwargs, **options)
    faults = [status for _, status, _ in box.app.log if status != 200]
    assert len(faults) >= 2  # errors or dropped connections were met
    assert sorted(ids(df)) == sorted(truth(name))


@pytest.mark.parametrize("mode", ["offset", "cursor"])
def test_plivo_page_cap_of_one_page_fails_loudly(mode: str) -> None:
    box = Sandbox(seed=SEED, size=SIZE, emulator_options={"plivo": {"paging": mode}})
    with pytest.raises(PaginationError, match="page cap") as info:
        load(ENDPOINTS["plivo_recordings"], box, max_pages=1)
    assert 0 < info.value.partial.height < len(truth("plivo_recordings"))
