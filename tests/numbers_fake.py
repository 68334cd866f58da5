"""A small fake of the four providers' list APIs over ``httpx.MockTransport``, serving records
a test writes: the real loaders read them, so totals and their display are checked end to end.

Each answer is one page with every record (no date filter): tests pass a period that holds them.
"""

from __future__ import annotations

from typing import Any

import httpx
import polars as pl

import recanalytics as ra

AC = "AC" + "a" * 32
ROOM = "RM" + "1" * 32
SW_PROJECT = "5a1e0c3e-8d7b-4f2a-9c61-5157a7e5b0de"
PERIOD = {"since": "2025-01-01", "until": "2025-05-01"}

CREDENTIALS = {
    "twilio": ra.TwilioCredentials(account_sid=AC, auth_token="tok"),
    "plivo": ra.PlivoCredentials(auth_id="MAFAKEFAKEFAKEFAKE01", auth_token="tok"),
    "zoom": ra.ZoomCredentials(api_key="k", api_secret="s"),
    "signalwire": ra.SignalWireCredentials(project_id=SW_PROJECT, api_token="tok", space="fake"),
}


def track(
    n: int, size: Any, seconds: Any, *, created: str = "2025-01-10T00:00:00Z", **extra: Any
) -> dict[str, Any]:
    sid = f"RT{n:032d}"
    record = {
        "account_sid": AC,
        "status": "completed",
        "date_created": created,
        "date_updated": created,
        "date_deleted": None,
        "sid": sid,
        "source_sid": "MT" + sid[2:],
        "size": size,
        "url": f"https://video.twilio.com/v1/Recordings/{sid}",
        "type": "audio",
        "duration": seconds,
        "container_format": "mka",
        "codec": "OPUS",
        "grouping_sids": {"room_sid": ROOM, "participant_sid": "PA" + "2" * 32},
        "track_name": f"t-{n}",
        "offset": 0,
        "media_external_location": None,
        "links": {"media": f"https://video.twilio.com/v1/Recordings/{sid}/Media"},
    }
    return record | extra


def plivo(n: int, duration_ms: str, monthly_amount: str | None) -> dict[str, Any]:
    return {
        "add_time": "2025-02-10 10:00:00.000000+00:00",
        "call_uuid": f"c{n}",
        "conference_name": "sales",
        "conference_uuid": f"cu{n}",
        "recording_duration_ms": duration_ms,
        "recording_start_ms": "1739181600000",
        "recording_end_ms": "1739181660000",
        "recording_format": "mp3",
        "recording_id": f"p-{n}",
        "recording_type": "conference",
        "recording_url": f"https://media.plivo.com/p-{n}.mp3",
        "resource_uri": f"/v1/Account/MAFAKEFAKEFAKEFAKE01/Recording/p-{n}/",
        "rounded_recording_duration": "60",
        "recording_storage_duration": "10",
        "recording_storage_rate": "0.0004",
        "monthly_recording_storage_amount": monthly_amount,
    }


def signalwire(n: int, seconds: Any, price: str | None) -> dict[str, Any]:
    sid = f"{n:08d}-1111-1111-1111-111111111111"
    created = "Sat, 15 Feb 2025 12:00:00 +0000"
    return {
        "sid": sid,
        "account_sid": SW_PROJECT,
        "api_version": "2010-04-01",
        "call_sid": "ca-" + sid,
        "conference_sid": None,
        "channel": "1",
        "channels": "1",
        "date_created": created,
        "date_updated": created,
        "start_time": created,
        "end_time": None,
        "duration": seconds,
        "price": price,
        "price_unit": "USD",
        "source": "RecordVerb",
        "status": "completed",
        "error_code": None,
        "uri": f"/api/laml/2010-04-01/Accounts/{SW_PROJECT}/Recordings/{sid}.json",
        "subresource_uris": {},
        "encryption_details": None,
        "trim": "do-not-trim",
    }


def zoom_session(files: list[tuple[str, int | None]], minutes: int = 20) -> dict[str, Any]:
    """One Zoom session of ``minutes``, with a file of each (type, size)."""
    start, end = "2025-01-20T10:00:00Z", f"2025-01-20T10:{minutes:02d}:00Z"
    return {
        "session_id": "S1==",
        "session_name": "standup",
        "start_time": start,
        "duration": minutes,
        "total_size": sum(size or 0 for _, size in files),
        "recording_count": len(files),
        "recording_files": [
            {
                "id": f"z-{i}",
                "session_id": "S1==",
                "recording_start": start,
                "recording_end": end,
                "file_type": kind,
                "download_url": f"https://zoom.us/d/{i}",
                "status": "completed",
                **({} if size is None else {"file_size": size}),
            }
            for i, (kind, size) in enumerate(files)
        ],
    }


class Fake:
    """Records per list; ``transport`` answers every list request with them."""

    def __init__(self) -> None:
        self.tracks: list[dict[str, Any]] = []
        self.compositions: list[dict[str, Any]] = []
        self.plivo: list[dict[str, Any]] = []
        self.zoom: list[dict[str, Any]] = []
        self.signalwire: list[dict[str, Any]] = []
        self.transport = httpx.MockTransport(self.handle)

    def handle(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        url = str(request.url)
        page = {"page": 0, "page_size": 100, "first_page_url": url, "previous_page_url": None}
        page |= {"url": url, "next_page_url": None}
        if path.endswith("/v1/Recordings"):
            body: dict[str, Any] = {"recordings": self.tracks, "meta": page | {"key": "recordings"}}
        elif path.endswith("/v1/Compositions"):
            meta = page | {"key": "compositions"}
            body = {"compositions": self.compositions, "meta": meta}
        elif "/Recording/" in path:
            offset = int(request.url.params.get("offset", 0))
            rows = self.plivo[offset:] if offset == 0 else []
            meta = {"limit": 20, "offset": offset, "total_count": len(self.plivo)}
            body = {"api_id": "x", "meta": meta | {"previous": None, "next": None}}
            body["objects"] = rows
        elif path.endswith("/videosdk/recordings"):
            body = {"page_size": 300, "total_records": len(self.zoom), "next_page_token": ""}
            body |= {"from": None, "to": None, "sessions": self.zoom}
        elif path.endswith("Recordings.json"):
            body = {"uri": path, "first_page_uri": "/x", "next_page_uri": None, "page": 0}
            body |= {"previous_page_uri": None, "page_size": 50, "recordings": self.signalwire}
        else:
            return httpx.Response(404, json={"message": "no such list " + path})
        return httpx.Response(200, json=body)

    def options(self, provider: str) -> dict[str, Any]:
        return {
            "credentials": CREDENTIALS[provider],
            "transport": self.transport,
            "progress": False,
        }

    def load(self, *providers: str) -> pl.DataFrame:
        loaders = {
            "twilio": [ra.load_twilio_recordings, ra.load_twilio_compositions],
            "plivo": [ra.load_plivo_recordings],
            "zoom": [ra.load_zoom_recordings],
            "signalwire": [ra.load_signalwire_recordings],
        }
        frames = [
            load(**PERIOD, **self.options(provider))
            for provider in providers
            for load in loaders[provider]
        ]
        return pl.concat(frames)
