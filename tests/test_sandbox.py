"""The sandbox itself: contract fidelity seen by a plain HTTP client, and its knobs."""

from __future__ import annotations

import httpx
import pytest

from recanalytics.sandbox import Faults, Sandbox
from recanalytics.sandbox.twilio import ACCOUNT_SID, CREDENTIALS

AUTH = (CREDENTIALS["account_sid"], CREDENTIALS["auth_token"])


@pytest.fixture(scope="module")
def server_url() -> object:
    box = Sandbox(seed=3, size=120)
    with box.serve() as server:
        yield server.url


def test_serves_on_loopback_only(server_url: str) -> None:
    assert server_url.startswith("http://127.0.0.1:")


def test_envelope_and_absolute_next_page_url(server_url: str) -> None:
    with httpx.Client(auth=AUTH) as client:
        body = client.get(f"{server_url}/v1/Recordings", params={"PageSize": 50}).json()
        meta = body["meta"]
        assert meta["key"] == "recordings" and meta["page"] == 0 and meta["page_size"] == 50
        assert meta["previous_page_url"] is None
        assert meta["next_page_url"].startswith(server_url + "/v1/Recordings?")
        assert "PageToken=" in meta["next_page_url"]
        seen = [r["sid"] for r in body["recordings"]]
        url = meta["next_page_url"]
        while url:
            page = client.get(url).json()
            seen += [r["sid"] for r in page["recordings"]]
            url = page["meta"]["next_page_url"]
        assert len(seen) == len(set(seen)) == 120
        first = body["recordings"][0]
        assert first["account_sid"] == ACCOUNT_SID
        assert set(first["grouping_sids"]) == {"room_sid", "participant_sid"}
        assert first["links"]["media"].endswith("/Media")


def test_newest_first(server_url: str) -> None:
    body = httpx.get(f"{server_url}/v1/Recordings", params={"PageSize": 100}, auth=AUTH).json()
    created = [r["date_created"] for r in body["recordings"]]
    assert created == sorted(created, reverse=True)


@pytest.mark.parametrize("size", ["0", "101", "ten"])
def test_page_size_outside_1_to_100_is_400(server_url: str, size: str) -> None:
    response = httpx.get(f"{server_url}/v1/Recordings", params={"PageSize": size}, auth=AUTH)
    assert response.status_code == 400
    assert set(response.json()) == {"code", "message", "more_info", "status"}


def test_forged_or_foreign_page_token_is_rejected(server_url: str) -> None:
    response = httpx.get(
        f"{server_url}/v1/Recordings", params={"PageToken": "PTnotatoken"}, auth=AUTH
    )
    assert response.status_code == 400 and "PageToken" in response.json()["message"]
    first = httpx.get(f"{server_url}/v1/Recordings", params={"PageSize": 5}, auth=AUTH).json()
    token = httpx.URL(first["meta"]["next_page_url"]).params["PageToken"]
    other = httpx.get(
        f"{server_url}/v1/Recordings",
        params={"PageSize": 5, "Status": "failed", "PageToken": token},
        auth=AUTH,
    )
    assert other.status_code == 400


def test_auth_is_required(server_url: str) -> None:
    for auth in (None, ("AC" + "0" * 32, "wrong")):
        response = httpx.get(f"{server_url}/v1/Recordings", auth=auth)
        assert response.status_code == 401
        assert response.json()["code"] == 20003


def test_bad_dates_and_enums_are_400(server_url: str) -> None:
    for params in ({"DateCreatedAfter": "yesterday"}, {"Status": "done"}, {"MediaType": "screen"}):
        assert httpx.get(f"{server_url}/v1/Recordings", params=params, auth=AUTH).status_code == 400


def test_dataset_is_deterministic() -> None:
    a = Sandbox(seed=9, size=50)["twilio"].tracks.records
    b = Sandbox(seed=9, size=50)["twilio"].tracks.records
    c = Sandbox(seed=10, size=50)["twilio"].tracks.records
    assert [t.sid for t in a] == [t.sid for t in b] != [t.sid for t in c]


def test_dataset_is_plausible() -> None:
    tracks = Sandbox(seed=9, size=3000)["twilio"].tracks.records
    statuses = {t.status for t in tracks}
    assert {"completed", "failed", "deleted"} <= statuses
    assert {t.codec.lower() for t in tracks} >= {"opus", "pcmu", "vp8", "h264"}
    months = {t.created.strftime("%Y-%m") for t in tracks}
    assert len(months) >= 20
    for t in tracks:
        if t.status == "completed" and t.kind == "video":
            kbps = t.size * 8 / t.duration / 1000
            assert 500 < kbps < 2000


def test_rate_limit_and_faults_answer_like_the_provider() -> None:
    box = Sandbox(seed=1, size=10, rate_limits={"twilio": (2.0, 60.0)})
    with box.serve() as server:
        statuses = [
            httpx.get(f"{server.url}/v1/Recordings", auth=AUTH).status_code for _ in range(4)
        ]
    assert statuses == [200, 200, 429, 429]
    faulty = Sandbox(seed=1, size=10, faults=Faults(error_rate=1.0, seed=4))
    with faulty.serve() as server:
        response = httpx.get(f"{server.url}/v1/Recordings", auth=AUTH)
    assert response.status_code in (429, 500, 502, 503, 504)
    assert "code" in response.json()


def test_dropped_connection_over_loopback() -> None:
    box = Sandbox(seed=1, size=10, faults=Faults(drop_rate=1.0))
    with box.serve() as server, pytest.raises(httpx.RemoteProtocolError):
        httpx.get(f"{server.url}/v1/Recordings", auth=AUTH)


def test_field_level_facts_match_the_providers_docs() -> None:
    import recanalytics as ra

    box = Sandbox(seed=3, size=400)
    plivo = ra.load_plivo_recordings(since="2025-01-01", raw=True, **box.options("plivo"))
    rounded = plivo["rounded_recording_duration"]
    assert (rounded % 60 == 0).all() and rounded.min() >= 60  # whole minutes, at least one
    assert plivo["recording_storage_duration"].min() >= 1  # the documented minimum
    for resolution in box["twilio"].compositions.records:
        width, height = map(int, resolution.resolution.split("x"))
        assert width <= 1280 and height <= 1280 and width * height <= 921_600
    zoom = ra.load_zoom_recordings(since="2025-01-01", raw=True, **box.options("zoom"))
    session_files = zoom.filter(zoom["kind"] == "session_file")
    participant_files = zoom.filter(zoom["kind"] == "participant_file")
    assert session_files["file_extension"].null_count() == session_files.height
    assert participant_files.height and participant_files["user_key"].null_count() == 0
    assert participant_files["file_name"].null_count() == 0
    assert zoom["user_name"].null_count() == zoom.height
