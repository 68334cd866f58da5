"""Emulator of Twilio Video ``/v1/Recordings`` and ``/v1/Compositions`` with a synthetic dataset
of rooms, their tracks and their compositions."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from recanalytics import validate
from recanalytics.sandbox import storage
from recanalytics.sandbox.common import (
    DataConfig,
    TimeIndex,
    basic_credentials,
    decode_token,
    deleted_by_end,
    encode_token,
    hex_sid,
    query_key,
    server_clock,
    with_query,
)
from recanalytics.sandbox.core import Listing, Route, SandboxRequest, SandboxResponse
from recanalytics.sandbox.storage import signed_url

NAME = "twilio"
ACCOUNT_SID = "AC" + "5a" * 16
CREDENTIALS = {"account_sid": ACCOUNT_SID, "auth_token": "sandbox-twilio-auth-token"}
API_KEY = {"api_key": "SK" + "5b" * 16, "api_secret": "sandbox-twilio-api-secret"}
RATE_LIMIT = (80.0, 1.0)  # requests per second per account

STATUSES = ("processing", "completed", "deleted", "failed")
MEDIA_TYPES = ("audio", "video", "data")
DATE_EDGES = ("documented", "strict", "inclusive")
# (codec as Twilio spells it, typical kbps)
AUDIO_CODECS = (("OPUS", 40.0), ("opus", 40.0), ("PCMU", 64.0))
VIDEO_CODECS = (("VP8", 900.0), ("H264", 1200.0))
PAGING_PARAMS = ("Page", "PageToken")


def error_body(status: int, message: str) -> dict[str, Any]:
    code = {400: 20001, 401: 20003, 404: 20404, 429: 20429}.get(status, 20500)
    return {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


def error(status: int, message: str, headers: dict[str, str] | None = None) -> SandboxResponse:
    return SandboxResponse.json(status, error_body(status, message), headers)


@dataclass
class Track:
    created: dt.datetime
    sid: str
    room_sid: str
    participant_sid: str
    source_sid: str
    track_name: str
    kind: str
    codec: str
    container: str
    duration: int
    size: int
    status: str
    offset: int
    deleted: dt.datetime | None
    cut: bool = False  # storage serves a truncated copy (small_media faults)
    served_codec: str | None = None  # the file's codec where the metadata reports another

    @property
    def key(self) -> float:
        return self.created.timestamp()

    @property
    def media(self) -> str:
        """The storage host's file for this track (by its real codec)."""
        if self.kind == "data":
            return "data.mka"
        codec = (self.served_codec or self.codec).lower()
        if self.kind == "video":
            return "h264.mkv" if codec == "h264" else "vp8.mkv"
        return "pcmu.mka" if codec == "pcmu" else "opus.mka"


@dataclass
class Room:
    sid: str
    created: dt.datetime
    duration: int
    participants: int


def generate(config: DataConfig) -> tuple[list[Room], list[Track]]:
    """Rooms with 2-5 participants, each publishing audio, mostly video, rarely data tracks."""
    rng = config.rng(NAME)
    rooms: list[Room] = []
    tracks: list[Track] = []
    recent = config.end - dt.timedelta(days=2)
    while len(tracks) < config.size:
        room = Room(
            hex_sid(rng, "RM"),
            config.moment(rng),
            int(rng.lognormvariate(7.3, 0.8)) + 30,
            rng.randint(2, 5),
        )
        rooms.append(room)
        for p in range(room.participants):
            participant = hex_sid(rng, "PA")
            join = rng.randint(0, min(300, room.duration // 3))
            stay = max(1, int((room.duration - join) * rng.uniform(0.5, 1.0)))
            kinds = ["audio"]
            if rng.random() < 0.8:
                kinds.append("video")
            if rng.random() < 0.05:
                kinds.append("data")
            for kind in kinds:
                if kind == "audio":
                    codec, kbps = rng.choice(AUDIO_CODECS)
                    container = "mka"
                elif kind == "video":
                    codec, kbps = rng.choice(VIDEO_CODECS)
                    container = "mkv"
                else:
                    codec, kbps, container = "", 2.0, "mka"
                created = room.created + dt.timedelta(seconds=join)
                roll = rng.random()
                status = "completed"
                deleted = None
                if created > recent and roll < 0.5:
                    status = "processing"
                elif roll < 0.03:
                    status = "failed"
                elif roll < 0.08:
                    status = "deleted"
                    deleted = deleted_by_end(
                        config,
                        created,
                        created
                        + dt.timedelta(days=rng.randint(1, 90), seconds=rng.randint(0, 86399)),
                    )
                size = int(stay * kbps * 1000 / 8 * rng.uniform(0.8, 1.2))
                if status == "failed":
                    size = 0
                # Twilio reports 0 for both until the track's file exists (twilio-python's
                # fetch example of a processing track).
                duration = 0 if status == "processing" else stay
                if status == "processing":
                    size = 0
                tracks.append(
                    Track(
                        created=created,
                        sid=hex_sid(rng, "RT"),
                        room_sid=room.sid,
                        participant_sid=participant,
                        source_sid=hex_sid(rng, "MT"),
                        track_name=f"{kind}-{p + 1}" if rng.random() < 0.9 else "",
                        kind=kind,
                        codec=codec,
                        container=container,
                        duration=duration,
                        size=size,
                        status=status,
                        offset=join * 1000 + rng.randint(0, 999),
                        deleted=deleted,
                    )
                )
    return rooms, tracks[: config.size]


COMPOSITION_STATUSES = ("enqueued", "processing", "completed", "deleted", "failed")
# 720x1280 (portrait) and 1024x768 are unusual but legal.
# Each side at most 1280 and the area at most 921,600 pixels, as the API requires.
RESOLUTIONS = ("1280x720", "1280x720", "640x480", "960x540", "1024x768", "720x1280")
ROOM_SID_RE = re.compile(r"^RM[0-9a-fA-F]{32}$")


@dataclass
class Composition:
    created: dt.datetime
    sid: str
    room_sid: str
    status: str
    format: str
    resolution: str
    layout: dict[str, Any]
    audio_sources: list[str]
    audio_sources_excluded: list[str]
    trim: bool
    bitrate: int
    size: int | None
    duration: int
    completed: dt.datetime | None
    deleted: dt.datetime | None
    status_callback: str | None
    cut: bool = False

    @property
    def key(self) -> float:
        return self.created.timestamp()

    @property
    def media(self) -> str:
        """The storage host's file: WebM is VP8 + Opus, MP4 H.264 + AAC; no layout, no video."""
        if self.format == "webm":
            return "opus.webm" if not self.layout else "vp8-opus.webm"
        return "aac.mp4" if not self.layout else "h264-aac.mp4"


# The codec a planted codec fault reports instead of the real one.
OTHER_CODEC = {"opus": "PCMU", "pcmu": "OPUS", "vp8": "H264", "h264": "VP8"}


def use_small_media(tracks: list[Track], compositions: list[Composition]) -> dict[str, str]:
    """Durations and sizes of the files the storage host serves, with planted faults; returns
    the faults by sid."""
    planted: dict[str, str] = {}
    for t in tracks:
        seconds = storage.media_seconds(t.media)
        t.duration, t.size = seconds, (0 if t.status == "failed" else storage.media_size(t.media))
        fault = storage.planted_fault(NAME, t.sid) if t.kind != "data" else None
        if fault == "truncated":
            t.cut = True
        elif fault == "duration":
            t.duration = seconds + storage.DURATION_FAULT_SECONDS
        elif fault == "codec":
            t.served_codec, t.codec = t.codec, OTHER_CODEC[t.codec.lower()]
        if fault:
            planted[t.sid] = fault
    for c in compositions:
        if c.status not in ("completed", "deleted"):
            continue
        seconds = storage.media_seconds(c.media)
        c.duration, c.size = seconds, storage.media_size(c.media)
        c.bitrate = round(c.size * 8 / seconds / 1000) if c.bitrate else 0
        fault = storage.planted_fault(NAME, c.sid)
        if fault == "truncated":
            c.cut = True
        elif fault == "duration":
            c.duration = seconds + storage.DURATION_FAULT_SECONDS
        if fault in ("truncated", "duration"):
            planted[c.sid] = fault
    return planted


def region(sources: list[str], **overrides: Any) -> dict[str, Any]:
    layout: dict[str, Any] = {
        "reuse": "show_oldest",
        "width": 0,
        "height": 0,
        "x_pos": 0,
        "y_pos": 0,
        "z_pos": 0,
        "max_rows": 0,
        "max_columns": 0,
        "video_sources": sources,
        "video_sources_excluded": [],
        "cells_excluded": [],
    }
    return layout | overrides


def generate_compositions(config: DataConfig, rooms: list[Room]) -> list[Composition]:
    """About one composition per three rooms, made after the room ended.

    Its own random stream, so the rooms and tracks are the same with or without compositions.
    """
    rng = config.rng(f"{NAME}-compositions")
    # Compositions of the last two weeks may still be queued or processing.
    recent = config.end - dt.timedelta(days=14)
    latest = config.end - dt.timedelta(seconds=1)
    compositions: list[Composition] = []
    for room in rooms:
        roll = rng.random()
        count = 0 if roll >= 0.3 else (2 if roll < 0.03 else 1)
        for _ in range(count):
            created = room.created + dt.timedelta(seconds=room.duration + rng.randint(5, 3600))
            created = min(created, latest)
            shape = rng.random()
            if shape < 0.2:
                layout: dict[str, Any] = {}  # audio-only composition
            elif shape < 0.4:
                layout = {
                    "grid": region(["*"]),
                    "pip": region(["RT" + "0" * 32], reuse="none", x_pos=100, y_pos=600, z_pos=10),
                }
            else:
                layout = {"grid": region(["*"] if rng.random() < 0.7 else ["video-*"])}
            audio_only = not layout
            trim = rng.random() < 0.6
            duration = max(1, int(room.duration * (rng.uniform(0.7, 1.0) if trim else 1.0)))
            kbps = rng.uniform(48, 128) if audio_only else rng.uniform(500, 2500)
            size: int | None = int(duration * kbps * 1000 / 8 * rng.uniform(0.9, 1.1))
            # Twilio's bitrate is sometimes 0 on finished compositions (unit unstated).
            bitrate = round(kbps) if rng.random() < 0.9 else 0
            status = "completed"
            deleted = None
            roll = rng.random()
            if created > recent and roll < 0.6:
                status = "enqueued" if roll < 0.2 else "processing"
            elif roll < 0.04:
                status = "failed"
            elif roll < 0.1:
                status = "deleted"
            completed: dt.datetime | None = created + dt.timedelta(
                seconds=int(duration * rng.uniform(0.2, 1.5)) + 10
            )
            if status in ("enqueued", "processing", "failed"):
                size, duration, bitrate = None, 0, 0
                completed = None if status != "failed" else completed
            if status == "deleted":
                assert completed is not None
                deleted = deleted_by_end(
                    config,
                    completed,
                    completed
                    + dt.timedelta(days=rng.randint(1, 60), seconds=rng.randint(0, 86399)),
                )
            callback_roll = rng.random()
            callback = (
                None
                if callback_roll < 0.7
                else "https://callbacks.example.com/compositions"
                if callback_roll < 0.95
                # Basic-auth credentials in a callback URL are legal, and a secret.
                else "https://hook-user:hook-pass@callbacks.example.com/compositions"
            )
            compositions.append(
                Composition(
                    created=created,
                    sid=hex_sid(rng, "CJ"),
                    room_sid=room.sid,
                    status=status,
                    format="mp4" if rng.random() < 0.75 else "webm",
                    resolution=rng.choice(RESOLUTIONS),
                    layout=layout,
                    audio_sources=["*"] if rng.random() < 0.8 else ["audio-1", "audio-2*"],
                    audio_sources_excluded=[] if rng.random() < 0.9 else ["audio-3"],
                    trim=trim,
                    bitrate=bitrate,
                    size=size,
                    duration=duration,
                    completed=completed,
                    deleted=deleted,
                    status_callback=callback,
                )
            )
    return compositions


def iso(moment: dt.datetime | None) -> str | None:
    return None if moment is None else moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(value: str) -> float | None:
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.timestamp()


class TwilioEmulator:
    """Serves the dataset with Twilio's filters, page tokens, envelope and errors.

    Parameters
    ----------
    config : DataConfig
    date_edges : str
        How ``DateCreatedAfter``/``DateCreatedBefore`` read their edge second:
        ``'documented'`` (default: after inclusive, before exclusive), ``'strict'`` or
        ``'inclusive'`` (both).
    filter_lag : float
        Seconds >= 0 by which the time the track filters read may follow ``date_created``
        (default 0: they read ``date_created``).

    Raises
    ------
    ConfigError
        An option outside those forms.
    """

    name = NAME
    rate_limit = RATE_LIMIT
    credentials = CREDENTIALS
    example_path = "/v1/Recordings?PageSize=2"  # shown with curl by `recanalytics sandbox`

    def __init__(
        self, config: DataConfig, *, date_edges: str = "documented", filter_lag: float = 0.0
    ) -> None:
        # How DateCreatedAfter / DateCreatedBefore read their edge second: as documented
        # (after inclusive, before exclusive), both strict (as "After" says), or both inclusive.
        self.date_edges = validate.choice(date_edges, "date_edges", DATE_EDGES)
        # Seconds up to which the time the track filters apply to (when it "started", as the
        # docs word them) may lie after its date_created; 0: the filters read date_created.
        self.filter_lag = validate.number(filter_lag, "filter_lag", inclusive=True)
        self.rooms, tracks = generate(config)
        compositions = generate_compositions(config, self.rooms)
        self.planted = use_small_media(tracks, compositions) if config.small_media else {}
        self.tracks = TimeIndex(tracks, key=lambda t: t.key)
        self.tracks_by_sid = {t.sid: t for t in tracks}
        self.compositions = TimeIndex(compositions, key=lambda c: c.key)
        self.compositions_by_sid = {c.sid: c for c in compositions}
        # The server's clock: each answer's Date header (sandbox.common.server_clock).
        self.clock: Callable[[], float] = server_clock(config)

    def edges(self) -> dict[str, bool]:
        return {
            "start_exclusive": self.date_edges == "strict",
            "end_inclusive": self.date_edges == "inclusive",
        }

    def error_body(self, status: int, message: str) -> dict[str, Any]:
        return error_body(status, message)

    def authorize(self, request: SandboxRequest) -> SandboxResponse | None:
        pair = basic_credentials(request)
        allowed = {
            (CREDENTIALS["account_sid"], CREDENTIALS["auth_token"]),
            (API_KEY["api_key"], API_KEY["api_secret"]),
        }
        if pair not in allowed:
            return error(401, "Authenticate")
        return None

    def routes(self) -> list[Route]:
        return [
            Route(
                NAME,
                "GET",
                re.compile(r"/v1/Recordings"),
                self.list_recordings,
                self.authorize,
                listing=Listing("recordings", ("meta", "next_page_url"), "absolute"),
            ),
            Route(
                NAME,
                "GET",
                re.compile(r"/v1/Recordings/(?P<sid>[^/]+)"),
                self.get_recording,
                self.authorize,
            ),
            Route(
                NAME,
                "GET",
                re.compile(r"/v1/Compositions"),
                self.list_compositions,
                self.authorize,
                listing=Listing("compositions", ("meta", "next_page_url"), "absolute"),
            ),
            Route(
                NAME,
                "GET",
                re.compile(r"/v1/Compositions/(?P<sid>[^/]+)"),
                self.get_composition,
                self.authorize,
            ),
            Route(
                NAME,
                "GET",
                re.compile(r"/v1/(?P<what>Recordings|Compositions)/(?P<sid>[^/]+)/Media"),
                self.get_media,
                self.authorize,
            ),
        ]

    def get_media(self, request: SandboxRequest, match: re.Match[str]) -> SandboxResponse:
        """``…/Media``: a JSON ``redirect_to`` a pre-signed storage URL (fetched without auth)."""
        sid = match["sid"]
        found: Track | Composition | None = (
            self.tracks_by_sid.get(sid)
            if match["what"] == "Recordings"
            else self.compositions_by_sid.get(sid)
        )
        if found is None or found.status != "completed":
            return error(404, f"The requested resource /{match['what']}/{sid}/Media was not found")
        ext = found.container if isinstance(found, Track) else found.format
        url = signed_url(request.origin, f"twilio/{sid}.{ext}", found.media, cut=found.cut)
        return SandboxResponse.json(200, {"redirect_to": url})

    def track_json(self, t: Track, origin: str) -> dict[str, Any]:
        url = f"{origin}/v1/Recordings/{t.sid}"
        grouping = {"room_sid": t.room_sid, "participant_sid": t.participant_sid}
        return {
            "account_sid": ACCOUNT_SID,
            "status": t.status,
            "date_created": iso(t.created),
            "date_updated": iso(t.created + dt.timedelta(seconds=t.duration + 5)),
            "date_deleted": iso(t.deleted),
            "sid": t.sid,
            "source_sid": t.source_sid,
            "size": t.size,
            "url": url,
            "type": t.kind,
            "duration": t.duration if t.status != "failed" else None,
            "container_format": t.container,
            "codec": t.codec or None,
            "grouping_sids": grouping,
            "track_name": t.track_name or t.source_sid,
            "offset": t.offset,
            "media_external_location": None,
            "status_callback": None,
            "status_callback_method": "POST",
            "links": {"media": f"{url}/Media"},
        }

    def list_recordings(self, request: SandboxRequest, match: re.Match[str]) -> SandboxResponse:
        page_size_text = request.get("PageSize") or "50"
        if not page_size_text.isdigit() or not 1 <= int(page_size_text) <= 100:
            return error(400, f"PageSize must be between 1 and 100, got {page_size_text}")
        status = request.get("Status")
        if status is not None and status not in STATUSES:
            return error(400, f"Invalid Status: {status}")
        media_type = request.get("MediaType")
        if media_type is not None and media_type not in MEDIA_TYPES:
            return error(400, f"Invalid MediaType: {media_type}")
        after_text, before_text = request.get("DateCreatedAfter"), request.get("DateCreatedBefore")
        after = parse_time(after_text) if after_text else None
        before = parse_time(before_text) if before_text else None
        if (after_text and after is None) or (before_text and before is None):
            return error(400, "DateCreatedAfter and DateCreatedBefore must be ISO 8601 date-times")
        source = request.get("SourceSid")
        groups = set(request.get_all("GroupingSid"))

        def keep(t: Track) -> bool:
            return (
                (status is None or t.status == status)
                and (media_type is None or t.kind == media_type)
                and (source is None or t.source_sid == source)
                and groups <= {t.room_sid, t.participant_sid}
            )

        key = query_key(request.query, PAGING_PARAMS)
        if self.filter_lag:
            lag = self.filter_lag

            def started(t: Track) -> float:
                return t.created.timestamp() + int(t.sid[-6:], 16) % 1000 / 1000 * lag

            def kept(t: Track) -> bool:
                return (
                    keep(t)
                    and (after is None or started(t) >= after)
                    and (before is None or started(t) < before)
                )

            low = None if after is None else after - lag
            selected = self.tracks.select(key, low, before, kept)
        else:
            selected = self.tracks.select(key, after, before, keep, **self.edges())
        return self.page(request, "/v1/Recordings", "recordings", key, selected, self.track_json)

    def page(
        self,
        request: SandboxRequest,
        path: str,
        list_key: str,
        key: str,
        selected: list[Any],
        render: Callable[[Any, str], dict[str, Any]],
    ) -> SandboxResponse:
        """One page of ``selected`` in Twilio's envelope, with page tokens bound to ``key``."""
        page_size = int(request.get("PageSize") or "50")
        offset = 0
        token = request.get("PageToken")
        if token is not None:
            state = decode_token("PT", token)
            if state is None or state.get("k") != key or not isinstance(state.get("o"), int):
                return error(
                    400, "Invalid PageToken: use the next_page_url returned by the API (21481)"
                )
            offset = state["o"]
        page_text = request.get("Page") or "0"
        page = int(page_text) if page_text.isdigit() else 0
        chunk = selected[offset : offset + page_size]
        base = [(k, v) for k, v in request.query if k not in PAGING_PARAMS]
        origin = request.origin
        next_url = None
        if offset + page_size < len(selected):
            token_next = encode_token("PT", {"o": offset + page_size, "k": key})
            next_url = with_query(
                origin,
                path,
                [*base, ("Page", str(page + 1)), ("PageToken", token_next)],
            )
        previous_url = None
        if offset > 0:
            token_prev = encode_token("PT", {"o": max(0, offset - page_size), "k": key})
            previous_url = with_query(
                origin,
                path,
                [*base, ("Page", str(max(0, page - 1))), ("PageToken", token_prev)],
            )
        meta = {
            "key": list_key,
            "page": page,
            "page_size": page_size,
            "first_page_url": with_query(origin, path, [*base, ("Page", "0")]),
            "previous_page_url": previous_url,
            "url": with_query(origin, path, list(request.query)),
            "next_page_url": next_url,
        }
        return SandboxResponse.json(
            200, {list_key: [render(r, origin) for r in chunk], "meta": meta}
        )

    def get_recording(self, request: SandboxRequest, match: re.Match[str]) -> SandboxResponse:
        sid = match["sid"]
        track = self.tracks_by_sid.get(sid)
        if track is not None:
            return SandboxResponse.json(200, self.track_json(track, request.origin))
        return error(404, f"The requested resource /Recordings/{sid} was not found")

    def composition_json(self, c: Composition, origin: str) -> dict[str, Any]:
        url = f"{origin}/v1/Compositions/{c.sid}"
        return {
            "account_sid": ACCOUNT_SID,
            "status": c.status,
            "date_created": iso(c.created),
            "date_completed": iso(c.completed),
            "date_deleted": iso(c.deleted),
            "sid": c.sid,
            "room_sid": c.room_sid,
            "audio_sources": c.audio_sources,
            "audio_sources_excluded": c.audio_sources_excluded,
            "video_layout": c.layout,
            "resolution": c.resolution,
            "trim": c.trim,
            "format": c.format,
            "bitrate": c.bitrate,
            "size": c.size,
            "duration": c.duration,
            "media_external_location": None,
            "status_callback": c.status_callback,
            "status_callback_method": "POST" if c.status_callback else None,
            "url": url,
            "links": {"media": f"{url}/Media"},
        }

    def list_compositions(self, request: SandboxRequest, match: re.Match[str]) -> SandboxResponse:
        page_size_text = request.get("PageSize") or "50"
        if not page_size_text.isdigit() or not 1 <= int(page_size_text) <= 100:
            return error(400, f"PageSize must be between 1 and 100, got {page_size_text}")
        status = request.get("Status")
        if status is not None and status not in COMPOSITION_STATUSES:
            return error(400, f"Invalid Status: {status}")
        room = request.get("RoomSid")
        if room is not None and not ROOM_SID_RE.match(room):
            return error(400, f"Invalid RoomSid: {room}")
        after_text, before_text = request.get("DateCreatedAfter"), request.get("DateCreatedBefore")
        after = parse_time(after_text) if after_text else None
        before = parse_time(before_text) if before_text else None
        if (after_text and after is None) or (before_text and before is None):
            return error(400, "DateCreatedAfter and DateCreatedBefore must be ISO 8601 date-times")

        def keep(c: Composition) -> bool:
            return (status is None or c.status == status) and (room is None or c.room_sid == room)

        # The list name is part of the key, so a recordings page token is refused here.
        key = query_key([*request.query, ("_list", "compositions")], PAGING_PARAMS)
        selected = self.compositions.select(key, after, before, keep, **self.edges())
        return self.page(
            request, "/v1/Compositions", "compositions", key, selected, self.composition_json
        )

    def get_composition(self, request: SandboxRequest, match: re.Match[str]) -> SandboxResponse:
        sid = match["sid"]
        composition = self.compositions_by_sid.get(sid)
        if composition is not None:
            return SandboxResponse.json(200, self.composition_json(composition, request.origin))
        return error(404, f"The requested resource /Compositions/{sid} was not found")
