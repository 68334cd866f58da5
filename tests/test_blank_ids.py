"""An id of "" (or whitespace) is no id, as null is: in every loader, the pager, the store and
media downloads (recanalytics.blank). Three recordings sent with ``sid: ""`` became one row, with
only a LoadWarning about clashing ids; with ``sid: null`` all three were kept."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import httpx
import polars as pl
import pytest
from polars.testing import assert_frame_equal
from provider_cases import CREDENTIALS, mock_endpoint, registered_loaders, sync_loader

import recanalytics as ra
from recanalytics.providers.base import Loader
from recanalytics.sandbox import Sandbox
from recanalytics.store import ParquetStore
from tests.conftest import FAST_RETRY

LOADERS = {f"{loader.provider}_{loader.part}": loader for loader in registered_loaders()}


def without_id(loader: Loader[Any], record: dict[str, Any], value: Any) -> dict[str, Any]:
    """``record`` with its own id set to ``value`` (a Zoom file's id is in its file)."""
    if loader.provider == "zoom":
        record["recording_files"][0]["id"] = value
        return record
    return record | {mock_endpoint(loader).id_column: value}


def load(loader: Loader[Any], records: list[Any], **extra: Any) -> tuple[pl.DataFrame, list[str]]:
    mock = mock_endpoint(loader)
    body = json.dumps(mock.envelope(records)).encode()
    transport = httpx.MockTransport(lambda _: httpx.Response(200, content=body))
    options = {
        "credentials": CREDENTIALS[loader.provider],
        "base_url": mock.base_url,
        "retry": FAST_RETRY,
        "max_concurrency": 1,
    }
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        df = sync_loader(loader)(**mock.span, transport=transport, **options, **extra)
    return df, [str(w.message) for w in caught]


def distinct_records(loader: Loader[Any], ids: list[Any]) -> list[dict[str, Any]]:
    # Three recordings that differ in what never changes (their rooms, calls, sessions ...).
    mock = mock_endpoint(loader)
    return [without_id(loader, mock.record(i), value) for i, value in enumerate(ids)]


@pytest.mark.parametrize("name", sorted(LOADERS))
def test_blank_ids_keep_every_recording_as_null_ids_do(name: str) -> None:
    loader = LOADERS[name]
    blank, messages = load(loader, distinct_records(loader, ["", " ", "\t"]))
    assert blank.height == 3, blank
    assert not any("each sent for records that differ" in m for m in messages), messages
    null, _ = load(loader, distinct_records(loader, [None, None, None]))
    # The unified frame reads a blank id as no id: null (Zoom derives one for either).
    assert_frame_equal(blank, null)
    raw, _ = load(loader, distinct_records(loader, ["", " ", "\t"]), raw=True)
    if loader.provider == "zoom":
        assert sorted(raw["id"].to_list()) == ["", "\t", " "]
    else:  # raw=True keeps what the provider sent
        assert sorted(raw[mock_endpoint(loader).id_column].to_list()) == ["", "\t", " "]


def test_pages_of_blank_ids_are_not_taken_for_a_page_already_loaded() -> None:
    # The pager knew a page by its ids: a second page whose records all had "" looked like the
    # first one answered again, was asked for again and again, and the load failed.
    loader = LOADERS["twilio_tracks"]
    mock = mock_endpoint(loader)
    pages = [distinct_records(loader, ["", ""]), distinct_records(loader, ["", ""])]
    pages[1] = [r | {"date_created": "2026-01-05T09:00:00Z"} for r in pages[1]]

    def handler(request: httpx.Request) -> httpx.Response:
        second = request.url.params.get("Page") == "1"
        nxt = None if second else str(request.url.copy_merge_params({"Page": "1"}))
        body = {"recordings": pages[second], "meta": {"key": "recordings", "next_page_url": nxt}}
        return httpx.Response(200, json=body)

    df = ra.load_twilio_recordings(
        credentials=CREDENTIALS["twilio"],
        base_url=mock.base_url,
        transport=httpx.MockTransport(handler),
        retry=FAST_RETRY,
        max_concurrency=1,
    )
    assert df.height == 4 and df["recording_id"].null_count() == 4


def test_the_twilio_track_name_falls_back_to_source_sid_when_blank() -> None:
    # Twilio documents track_name as falling back to source_sid; "" fell back to nothing.
    loader = LOADERS["twilio_tracks"]
    record = mock_endpoint(loader).record(0) | {"track_name": "", "source_sid": "MT" + "c" * 32}
    df, _ = load(loader, [record])
    assert df["track_name"].to_list() == ["MT" + "c" * 32]


def test_a_blank_zoom_session_name_is_no_group_name_as_plivos() -> None:
    zoom, plivo = (
        LOADERS["zoom_session_files_participant_files"],
        LOADERS["plivo_calls_conferences"],
    )
    df, _ = load(zoom, [mock_endpoint(zoom).record(0) | {"session_name": " "}])
    assert df["group_name"].to_list() == [None]
    df, _ = load(plivo, [mock_endpoint(plivo).record(0) | {"conference_name": ""}])
    assert df["group_name"].to_list() == [None]


def test_the_store_keeps_rows_with_blank_ids_apart(tmp_path: Path) -> None:
    # A frame with "" ids (written by hand, or by an older version) was upserted as one row.
    box = Sandbox(seed=3, size=100, providers=["twilio"])
    df = ra.load_twilio_recordings(**box.options("twilio")).head(3)
    df = df.with_columns(recording_id=pl.Series(["", " ", ""]))
    store = ParquetStore(tmp_path)
    assert store.upsert(df).inserted == 3
    assert store.upsert(df).inserted == 0
    assert store.read().height == 3


def test_rows_with_blank_ids_are_not_downloaded_to_one_file(tmp_path: Path) -> None:
    # Both rows were named "unnamed--<hash>.mp3": the second row's media was never fetched and
    # both rows pointed at the first one's file.
    box = Sandbox(seed=3, size=100, providers=["plivo"])
    df = ra.load_plivo_recordings(
        since=box.config.start, until=box.config.end, **box.options("plivo")
    ).head(2)
    result = ra.download_media(
        df.with_columns(recording_id=pl.lit("", pl.String)),
        tmp_path,
        transport=box.transport,
        credentials={},
    )
    assert result["status"].to_list() == ["unavailable"] * 2
    assert result["error"].to_list() == ["no recording_id"] * 2
    assert result["path"].null_count() == 2
    assert not [p for p in tmp_path.rglob("*") if p.is_file() and p.suffix == ".mp3"]


def test_a_row_without_an_id_is_unverifiable_not_a_crash(tmp_path: Path) -> None:
    # download_media gives it no path (no file can be named for it): download_media(verify=True)
    # raised ConfigError after downloading everything, and so did probe_media on its result.
    box = Sandbox(seed=7, size=10, small_media=True, providers=["twilio"])
    df = ra.load_twilio_recordings(status="completed", **box.options("twilio")).head(3)
    df = pl.concat([df, df.head(1).with_columns(recording_id=pl.lit(None, pl.String))])
    result = ra.download_media(df, tmp_path, verify=True, **box.options("twilio"))
    assert result["status"].to_list()[-1] == "unavailable"
    # verified (True or False, planted faults) for the three with a file; null: not expected
    assert result["verified"].is_null().to_list() == [False, False, False, True]
    assert result["problems"].to_list()[-1] == []
    check = pl.read_parquet(tmp_path / "verification.parquet")
    idless = check.filter(pl.col("recording_id").is_null()).row(0, named=True)
    assert idless["expected"] is False and idless["error"].startswith("no recording_id")


def test_an_archive_with_a_row_without_an_id_finishes_its_verified_media_step(
    tmp_path: Path,
) -> None:
    # Twilio listing one track with sid "": archive --media --verify raised ConfigError in its
    # media step, left media_unfinished in the manifest and wrote no media.csv, on every run.
    from tests.faults import rewriting

    box = Sandbox(seed=7, size=12, small_media=True, providers=["twilio"])

    def blank_first_sid(body: Any) -> None:
        if body.get("recordings"):
            body["recordings"][0]["sid"] = ""

    options = box.options("twilio") | {
        "transport": rewriting(box.transport, "/v1/Recordings", blank_first_sid)
    }
    out = tmp_path / "a"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ra.ArchiveWarning)  # planted faults, pending media
        manifest = ra.archive_twilio(out, media=True, verify=True, **options)
    assert "media_unfinished" not in manifest
    media = pl.read_csv(out / "media.csv")
    assert media.filter(pl.col("recording_id").is_null())["status"].to_list() == ["unavailable"]
    assert manifest["verification"]["not_expected"] >= 1 and manifest["verification"]["files"] > 0
