"""The contract every registered loader keeps, one suite parametrised over the provider table.

Each test runs once per loader of :data:`recanalytics.providers.registry.LOADERS`, so a new
provider gets these cases by its registry line; what differs per provider (documented error
codes, fake credentials) comes from ``tests/provider_cases.py``. What only one provider does
stays in its own ``test_<name>.py``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from typing import Any

import polars as pl
import pytest
from provider_cases import (
    AUTH_ERRORS,
    LOADER_PARAMS,
    async_loader,
    mock_endpoint,
    sync_loader,
)

import recanalytics as ra
from recanalytics.errors import AuthError
from recanalytics.providers.base import Loader
from recanalytics.providers.registry import SPECS
from recanalytics.sandbox import Faults, Sandbox
from tests.conftest import FAST_RETRY

WRONG = "wrong-secret-9876"


def whole(box: Sandbox) -> dict[str, Any]:
    """since/until covering the sandbox's whole dataset, unpaced (the sandbox needs no pacing)."""
    return {"since": box.config.start, "until": box.config.end, "rate_limit": 1000.0}


@pytest.mark.parametrize("loader", LOADER_PARAMS)
def test_empty_result_has_the_unified_schema(loader: Loader[Any], via: Any) -> None:
    df = sync_loader(loader)(since="2020-01-01", until="2020-02-01", **via(loader.provider))
    assert df.height == 0
    assert df.schema == ra.SCHEMA


@pytest.mark.parametrize("loader", LOADER_PARAMS)
def test_wrong_credentials_raise_auth_error_without_the_secret(
    loader: Loader[Any], via: Any, box: Sandbox
) -> None:
    good = box.credentials(loader.provider)
    wrong = dataclasses.replace(good, **{f: WRONG for f in good.secret_fields if getattr(good, f)})
    assert WRONG not in repr(wrong) and WRONG not in str(wrong)
    with pytest.raises(AuthError) as info:
        sync_loader(loader)(since="2026-10-01", **(via(loader.provider) | {"credentials": wrong}))
    expected = AUTH_ERRORS[loader.provider]
    assert info.value.status == 401
    if "code" in expected:
        assert info.value.code == expected["code"]
    if "message" in expected:
        assert expected["message"] in str(info.value)
    text = f"{info.value!s} {info.value!r} {info.value.url}"
    assert WRONG not in text and all(s not in text for s in good.secrets())


@pytest.mark.parametrize("loader", LOADER_PARAMS)
def test_an_unknown_option_is_a_type_error_before_any_request(
    loader: Loader[Any], fresh_box: Sandbox
) -> None:
    with pytest.raises(TypeError, match="pagesize"):
        sync_loader(loader)(pagesize=5, **fresh_box.options(loader.provider))
    assert fresh_box.requests == 0


@pytest.mark.parametrize("served", [False, True], ids=["in-process", "loopback"])
@pytest.mark.parametrize("loader", LOADER_PARAMS)
def test_faults_are_retried_with_nothing_lost_or_duplicated(
    loader: Loader[Any], served: bool
) -> None:
    provider = loader.provider
    faults = Faults(error_rate=0.2, drop_rate=0.05, truncate_rate=0.05, seed=4)
    box = Sandbox(seed=5, size=600, faults=faults, providers=[provider])
    clean = Sandbox(seed=5, size=600, providers=[provider])
    load = sync_loader(loader)
    expected = load(**clean.options(provider), **whole(clean))
    assert expected.height > 0
    # About 30 pages, whatever the loader's share of the dataset (20 fits every page size limit).
    page_size = min(20, max(3, expected.height // 30))
    options = box.options(provider) | {"retry": FAST_RETRY, "page_size": page_size} | whole(box)
    if served:
        with box.serve() as server:
            df = load(**(options | box.options(provider, base_url=server.url)))
    else:
        df = load(**options)
    statuses = [status for _, status, _ in box.app.log]
    assert {429, 0}.issubset(statuses) and any(s >= 500 for s in statuses)
    assert df["recording_id"].n_unique() == df.height == expected.height
    # Media URLs point at whichever host served the listing; compare what follows it.
    same_host = pl.col("media_url").str.replace(r"^https?://[^/]+", "")
    assert (
        df.with_columns(same_host)
        .sort("recording_id")
        .equals(expected.with_columns(same_host).sort("recording_id"))
    )


@pytest.mark.parametrize("loader", LOADER_PARAMS)
def test_the_async_loader_and_its_sync_twin_give_the_same_frame(
    loader: Loader[Any], box: Sandbox
) -> None:
    # Sync calls inside a running loop are tested in a subprocess (tests/test_sync.py).
    options = box.options(loader.provider)
    if mock_endpoint(loader).span:  # it defaults to recent days: ask for two months
        options |= {"since": "2026-01-01", "until": "2026-03-01"}
    a = asyncio.run(async_loader(loader)(**options))
    b = sync_loader(loader)(**options)
    # Row order is not part of the contract: windows are gathered as they finish.
    assert a.height > 0 and a.sort("recording_id").equals(b.sort("recording_id"))
    assert set(a["provider"].cast(pl.String)) == {loader.provider}
    assert set(a["kind"].cast(pl.String)) <= set(loader.kinds)


@pytest.mark.live
@pytest.mark.parametrize("loader", LOADER_PARAMS)
def test_live_recent_recordings(loader: Loader[Any]) -> None:
    credentials = SPECS[loader.provider].credentials
    if not credentials.available():
        names = sorted({n for names in credentials.env.values() for n in names})
        pytest.skip(f"set {', '.join(names)}")
    df = sync_loader(loader)(since=dt.datetime.now(dt.UTC) - dt.timedelta(days=2), page_size=5)
    assert df.schema == ra.SCHEMA
    assert set(df["kind"].cast(pl.String)) <= set(loader.kinds)
    text = df.select(pl.col(pl.String)).write_csv()
    assert not any(secret in text for secret in credentials.from_env().secrets())
    assert not df["media_url"].str.contains("access_token=[^R]").any()
