"""The sandbox itself: contract fidelity seen by a plain HTTP client, and its knobs."""

from __future__ import annotations

import datetime as dt
import socket
import struct
import time
from collections.abc import Callable
from typing import Any

import httpx
import polars as pl
import pytest

import recanalytics as ra
from recanalytics.errors import ConfigError, UnknownOptionError
from recanalytics.sandbox import Anomalies, Faults, Sandbox
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


# --- bad arguments: a ConfigError naming the argument, before any dataset is made -----------

NAN, INF = float("nan"), float("inf")
UTC = dt.UTC


def refused(call: Callable[[], object], parameter: str) -> ConfigError:
    """``call`` raises a ConfigError (a ValueError) naming ``parameter`` and the accepted form."""
    with pytest.raises(ConfigError) as info:
        call()
    assert isinstance(info.value, ValueError)
    assert info.value.parameter == parameter, str(info.value)
    assert "expected" in str(info.value)
    return info.value


# These were a TypeError from the dataset's arithmetic (start/end, rate_limits={"twilio": 5}),
# an AttributeError at the first request (faults=5, anomalies=5), or silently accepted: a dead
# or unlimited rate window, an empty or inverted span, an empty sandbox for a typo, "twiliozoom"
# matched as substrings, entries for providers never emulated ignored.
BAD_SANDBOX: list[tuple[str, dict[str, Any], str]] = [
    ("start-int", {"start": 0}, "start"),
    ("start-none", {"start": None}, "start"),
    ("start-text", {"start": "yesterday"}, "start"),
    ("start-before-1970", {"start": "1969-12-31"}, "start"),
    ("end-bytes", {"end": b"2026-01-01"}, "end"),
    ("start-after-end", {"start": "2026-01-01", "end": "2025-01-01"}, "start/end"),
    ("start-equals-end", {"start": "2025-06-01", "end": dt.date(2025, 6, 1)}, "start/end"),
    ("start-equals-end-aware", {"start": dt.datetime(2025, 6, 1, 2, tzinfo=dt.timezone(dt.timedelta(hours=2))), "end": "2025-06-01"}, "start/end"),
    ("rate_limits-int", {"rate_limits": {"twilio": 5}}, "rate_limits.twilio"),
    ("rate_limits-zero", {"rate_limits": {"twilio": (0, 1)}}, "rate_limits.twilio"),
    ("rate_limits-negative", {"rate_limits": {"twilio": (-1, 1)}}, "rate_limits.twilio"),
    ("rate_limits-nan", {"rate_limits": {"twilio": (NAN, 1)}}, "rate_limits.twilio"),
    ("rate_limits-half-a-request", {"rate_limits": {"twilio": (0.5, 1)}}, "rate_limits.twilio"),
    ("rate_limits-bool-requests", {"rate_limits": {"twilio": (True, 1)}}, "rate_limits.twilio"),
    ("rate_limits-period-zero", {"rate_limits": {"twilio": (5, 0)}}, "rate_limits.twilio"),
    ("rate_limits-period-inf", {"rate_limits": {"twilio": (5, INF)}}, "rate_limits.twilio"),
    ("rate_limits-text", {"rate_limits": {"twilio": "ab"}}, "rate_limits.twilio"),
    ("rate_limits-triple", {"rate_limits": {"twilio": (5, 1, 1)}}, "rate_limits.twilio"),
    ("rate_limits-typo", {"rate_limits": {"twiilio": (5, 1)}}, "rate_limits"),
    ("rate_limits-not-emulated", {"providers": ["twilio"], "rate_limits": {"plivo": (5, 1)}}, "rate_limits"),
    ("rate_limits-none", {"rate_limits": None}, "rate_limits"),
    ("rate_limits-number", {"rate_limits": 5}, "rate_limits"),
    ("faults-int", {"faults": 5}, "faults"),
    ("faults-anomalies", {"faults": Anomalies()}, "faults"),
    ("anomalies-int", {"anomalies": 5}, "anomalies"),
    ("anomalies-faults", {"anomalies": Faults()}, "anomalies"),
    ("providers-typo", {"providers": ["twiilio"]}, "providers"),
    ("providers-joined", {"providers": "twiliozoom"}, "providers"),
    ("providers-empty", {"providers": []}, "providers"),
    ("providers-int", {"providers": 5}, "providers"),
    ("providers-int-item", {"providers": ["twilio", 5]}, "providers"),
    ("providers-bytes", {"providers": b"twilio"}, "providers"),
    ("small_media-text", {"small_media": "yes"}, "small_media"),
    ("small_media-int", {"small_media": 1}, "small_media"),
    ("small_media-none", {"small_media": None}, "small_media"),
    ("emulator_options-pairs", {"emulator_options": [("plivo", {})]}, "emulator_options"),
    ("emulator_options-typo", {"emulator_options": {"twiilio": {}}}, "emulator_options"),
    ("emulator_options-not-emulated", {"providers": ["twilio"], "emulator_options": {"plivo": {}}}, "emulator_options"),
    ("emulator_options-not-a-mapping", {"emulator_options": {"plivo": "cursor"}}, "emulator_options.plivo"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("kwargs", "parameter"), [pytest.param(k, p, id=i) for i, k, p in BAD_SANDBOX]
)
def test_a_bad_sandbox_argument_is_a_config_error_naming_it(
    kwargs: dict[str, Any], parameter: str
) -> None:
    refused(lambda: Sandbox(seed=1, size=5, **kwargs), parameter)


# Each emulator's keyword options, with values outside what its code reads: a plain ValueError
# (Plivo's paging), or silently accepted (NaN and negative ranges, a fraction of a Zoom day
# dropped, any over_range read as "refuse", bools as numbers).
BAD_OPTIONS: list[tuple[str, str, Any]] = [
    ("twilio", "date_edges", "x"),
    ("twilio", "date_edges", None),
    ("twilio", "filter_lag", -1),
    ("twilio", "filter_lag", NAN),
    ("twilio", "filter_lag", INF),
    ("twilio", "filter_lag", True),
    ("twilio", "filter_lag", "30"),
    ("plivo", "paging", "x"),
    ("plivo", "paging", None),
    ("plivo", "filter_zone_hours", NAN),
    ("plivo", "filter_zone_hours", INF),
    ("plivo", "filter_zone_hours", 15),
    ("plivo", "filter_zone_hours", -13),
    ("plivo", "filter_zone_hours", True),
    ("plivo", "filter_zone_hours", "5.5"),
    ("plivo", "max_range_days", NAN),
    ("plivo", "max_range_days", 0),
    ("plivo", "max_range_days", -1),
    ("plivo", "max_range_days", INF),
    ("plivo", "max_range_days", 10**9),
    ("plivo", "max_range_days", True),
    ("zoom", "max_range_days", NAN),
    ("zoom", "max_range_days", -1),
    ("zoom", "max_range_days", 29.5),
    ("zoom", "max_range_days", 10**9),
    ("zoom", "max_range_days", True),
    ("zoom", "max_range_days", "30"),
    ("zoom", "over_range", "x"),
    ("zoom", "over_range", None),
    ("zoom", "to_exclusive", 1),
    ("zoom", "to_exclusive", "yes"),
    ("zoom", "to_exclusive", None),
    ("zoom", "zone_hours", NAN),
    ("zoom", "zone_hours", 15),
    ("zoom", "zone_hours", -13),
    ("zoom", "zone_hours", True),
    ("zoom", "zone_hours", "-8"),
    ("signalwire", "date_format", "x"),
    ("signalwire", "date_format", None),
    ("signalwire", "by_day", 1),
    ("signalwire", "by_day", "yes"),
    ("signalwire", "by_day", None),
]


@pytest.mark.parametrize(
    ("provider", "option", "value"),
    [pytest.param(*case, id=f"{case[0]}-{case[1]}-{case[2]!r}") for case in BAD_OPTIONS],
)
def test_a_bad_emulator_option_is_a_config_error_naming_its_path(
    provider: str, option: str, value: Any
) -> None:
    settings = {provider: {option: value}}
    refused(
        lambda: Sandbox(seed=1, size=5, emulator_options=settings),
        f"emulator_options.{provider}.{option}",
    )


def test_an_unknown_emulator_option_is_named_like_an_unknown_keyword() -> None:
    # It was Python's TypeError from the emulator's __init__; it stays a TypeError too.
    settings = {"twilio": {"nope": 1}}
    error = refused(
        lambda: Sandbox(size=5, emulator_options=settings), "emulator_options.twilio.nope"
    )
    assert isinstance(error, UnknownOptionError) and isinstance(error, TypeError)
    assert "date_edges, filter_lag" in str(error)


def test_a_bad_emulator_option_is_said_before_any_dataset_is_made(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import recanalytics.sandbox.twilio

    def made(*args: object) -> None:
        raise AssertionError("the Twilio dataset was made before the Zoom option was checked")

    monkeypatch.setattr(recanalytics.sandbox.twilio, "generate", made)
    settings = {"zoom": {"max_range_days": -1}}
    refused(lambda: Sandbox(emulator_options=settings), "emulator_options.zoom.max_range_days")


BAD_FAULTS: list[tuple[dict[str, Any], str]] = [
    ({"error_rate": 0.6, "drop_rate": 0.6}, "error_rate/drop_rate/truncate_rate"),
    ({"drop_rate": 0.5, "truncate_rate": 0.75}, "error_rate/drop_rate/truncate_rate"),
    ({"retry_after": 5}, "retry_after"),
    ({"retry_after": ""}, "retry_after"),
    ({"retry_after": "5\r\nSet-Cookie: x"}, "retry_after"),
    ({"retry_after": "cinq secondes é"}, "retry_after"),
    ({"retry_after": "1" * 201}, "retry_after"),
    ({"seed": "a"}, "seed"),
    ({"seed": True}, "seed"),
    ({"seed": 1.5}, "seed"),
    ({"seed": 2**64}, "seed"),
]
BAD_ANOMALIES: list[tuple[dict[str, Any], str]] = [
    *(({name: bad}, name) for name in ("empty_every", "repeat_every", "missing_every")
      for bad in ("x", -1, True, 2.0, NAN, None)),
    ({"persistent": 1}, "persistent"),
    ({"persistent": "yes"}, "persistent"),
    ({"persistent": None}, "persistent"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("cls", "kwargs", "parameter"),
    [pytest.param(Faults, k, p, id=f"Faults-{k!r}") for k, p in BAD_FAULTS]
    + [pytest.param(Anomalies, k, p, id=f"Anomalies-{k!r}") for k, p in BAD_ANOMALIES],
)
def test_bad_faults_and_anomalies_are_refused_when_made(
    cls: type[Any], kwargs: dict[str, Any], parameter: str
) -> None:
    # Anomalies(empty_every="x") failed at the first list request; shares adding up past 1
    # silently cut the later ones; a line break in retry_after broke the served headers.
    refused(lambda: cls(**kwargs), parameter)


@pytest.fixture(scope="module")
def small_box() -> Sandbox:
    return Sandbox(seed=1, size=5, providers=["twilio", "zoom"])


@pytest.mark.parametrize("port", [70000, -1, "8080", True, 8080.0, None])
def test_a_bad_port_is_a_config_error_before_binding(small_box: Sandbox, port: Any) -> None:
    # 70000 was an OverflowError from bind(), "8080" a TypeError.
    refused(lambda: small_box.serve(port), "port")


@pytest.mark.parametrize("method", ["options", "credentials"])
def test_a_provider_the_sandbox_does_not_emulate_is_named(small_box: Sandbox, method: str) -> None:
    # A KeyError from the emulators' dict (an unknown name was already refused by the registry).
    refused(lambda: getattr(small_box, method)("plivo"), "provider")


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ("2025-01-01", "2026-11-01T00:00:00Z"),
        (dt.date(2025, 1, 1), dt.datetime(2026, 11, 1)),
        (dt.datetime(2025, 1, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=1))), "2026-11-01"),
    ],
    ids=["text", "date-and-naive", "offset"],
)
def test_start_and_end_are_read_as_the_loaders_read_since_and_until(start: Any, end: Any) -> None:
    # A str, a date or a naive datetime was a TypeError; each now means the same instant in
    # UTC, so the dataset is the default one.
    box = Sandbox(seed=9, size=40, start=start, end=end)
    default = Sandbox(seed=9, size=40)
    assert (box.config.start, box.config.end) == (default.config.start, default.config.end)
    assert box.config.start.tzinfo is UTC
    assert [t.sid for t in box["twilio"].tracks.records] == [
        t.sid for t in default["twilio"].tracks.records
    ]


def test_the_accepted_forms_still_work() -> None:
    box = Sandbox(
        seed=1,
        size=5,
        providers=("plivo", "twilio"),
        rate_limits={"plivo": [15, 0.25]},  # a list, as JSON gives it
        emulator_options={"plivo": {"paging": "cursor", "max_range_days": 29.5}},
    )
    assert list(box.emulators) == ["twilio", "plivo"]
    assert (box.app.rate_windows["plivo"].limit, box.app.rate_windows["plivo"].period) == (15, 0.25)
    assert list(Sandbox(seed=1, size=5, providers="zoom").emulators) == ["zoom"]
    # Shares adding up to 1 exactly (0.1 + 0.2 + 0.7 is 1.0000000000000002 in floats).
    faults = Faults(error_rate=0.1, drop_rate=0.2, truncate_rate=0.7, retry_after=None)
    assert faults.retry_after is None
    assert not Anomalies(empty_every=0, persistent=True).active


@pytest.mark.parametrize("seed", [7, 3])
def test_no_deletion_falls_after_the_datasets_end(seed: int) -> None:
    # Three Twilio deletions fell in December 2026 while the data ended on 31 October: the
    # storage and cost charts ran into the future and showed a drop that had not happened.
    box = Sandbox(seed=seed, size=2000)
    frame = ra.demo(size=2000, seed=seed)
    deleted = frame.filter(pl.col("deleted_at").is_not_null())
    assert deleted.height > 0
    assert deleted["deleted_at"].max() < box.config.end  # type: ignore[operator]
    assert deleted.filter(pl.col("deleted_at") < pl.col("created_at")).height == 0


def test_a_client_going_away_prints_nothing(capfd: pytest.CaptureFixture[str]) -> None:
    # socketserver printed a BrokenPipeError or ConnectionResetError traceback to stderr for
    # every client that left before its answer (a load cancelled, a request timed out).
    box = Sandbox(seed=1, size=10, latency=0.2)
    with box.serve() as server:
        host, port = server.url.removeprefix("http://").split(":")
        client = socket.create_connection((host, int(port)))
        # Reset, not closed: the server's answer, 0.2 s later, meets a connection that is gone.
        client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        client.sendall(b"GET /v1/Recordings HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        client.close()
        time.sleep(0.5)
    assert capfd.readouterr().err == ""
