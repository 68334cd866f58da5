"""Emulator of Zoom Video SDK cloud recordings: ``/v2/videosdk/recordings`` and
``/v2/videosdk/sessions/{sessionId}/recordings``, with a synthetic dataset of sessions and files.

What it enforces, as Zoom does: an HS256 API JWT signed with the API secret (``iss`` = API key,
not expired, at most 2 hours long), ``from``/``to`` days at most one month apart, ``page_size``
up to 300, page tokens bound to their query that expire after :data:`TOKEN_TTL` seconds, and
session ids in paths encoded twice when they start with ``/`` or contain ``//`` (a ``+`` left
unencoded reads as a space).

Knobs, as attributes of the emulator: ``clock`` (seconds since the epoch: the server's, sent
as every answer's ``Date``; the machine's, never earlier than the dataset's end; tests pass a
fake) and ``token_ttl``.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import unquote, unquote_plus

from recanalytics import validate
from recanalytics.errors import ConfigError
from recanalytics.sandbox import storage
from recanalytics.sandbox.common import (
    RANGE_DAYS_MAX,
    ZONE_HOURS,
    DataConfig,
    TimeIndex,
    decode_token,
    deleted_by_end,
    encode_token,
    query_key,
    rand_uuid,
    server_clock,
)
from recanalytics.sandbox.core import Listing, Route, SandboxRequest, SandboxResponse
from recanalytics.sandbox.storage import signed_url
from recanalytics.windows import add_month

NAME = "zoom"
CREDENTIALS = {"api_key": "sandbox-zoom-api-key", "api_secret": "sandbox-zoom-api-secret"}
RATE_LIMIT = (20.0, 1.0)  # the Medium category on a Pro plan: 20 requests per second
TOKEN_TTL = 15 * 60.0  # next_page_token lifetime in seconds
PAGE_SIZE_DEFAULT = 30
PAGE_SIZE_MAX = 300
JWT_MAX_LIFETIME = 7200
TRASH_TYPES = ("session_recordings", "recording_file")
OVER_RANGE = ("refuse", "narrow", "narrow_end")
TOKEN_ERROR = "The next page token is invalid or expired."
# Pre-2026 MP4 view names plus one Zoom has not documented yet (odd but legal).
VIEWS = (
    "shared_screen_with_speaker_view",
    "gallery_view",
    "active_speaker",
    "speaker_view",
    "shared_screen_with_gallery_view",
    "hybrid_view_beta",
)


def error_body(status: int, message: str) -> dict[str, Any]:
    code = {400: 300, 401: 124, 404: 3301, 429: 429}.get(status, status)
    return {"code": code, "message": message}


def error(status: int, message: str, headers: dict[str, str] | None = None) -> SandboxResponse:
    return SandboxResponse.json(status, error_body(status, message), headers)


@dataclass
class ZoomFile:
    list_key: str  # recording_files, participant_video_files or participant_audio_files
    id: str | None  # CC and TIMELINE files have none
    file_type: str
    extension: str | None
    recording_type: str | None
    start: dt.datetime
    end: dt.datetime
    size: int | None
    status: str | None
    download_url: str
    external_storage_url: str | None = None
    deleted: dt.datetime | None = None
    user_id: str | None = None
    user_name: str | None = None
    cut: bool = False  # storage serves a truncated copy (small_media faults)

    @property
    def media(self) -> str:
        """The storage host's file for this file type."""
        if self.file_type == "MP4" and (self.recording_type or "").lower() == "audio_only":
            return "aac.mp4"
        return MEDIA_BY_FILE_TYPE.get(self.file_type, "timeline.json")


# The storage host's file for each Zoom file type (an audio_only MP4 has no video).
MEDIA_BY_FILE_TYPE = {
    "MP4": "h264-aac.mp4",
    "M4A": "aac.m4a",
    "TRANSCRIPT": "transcript.vtt",
    "CC": "transcript.vtt",
    "CHAT": "chat.txt",
    "TIMELINE": "timeline.json",
    "CHAT_MESSAGE": "timeline.json",
    "CSV": "poll.csv",
    "TB": "timeline.json",
}


@dataclass
class ZoomSession:
    session_id: str
    name: str | None
    key: str | None
    start: dt.datetime
    minutes: int
    files: list[ZoomFile] = field(default_factory=list)
    deleted: dt.datetime | None = None  # the whole session is in the trash

    @property
    def sort_key(self) -> float:
        return self.start.timestamp()


def iso(moment: dt.datetime | None) -> str | None:
    return None if moment is None else moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def session_id(rng: Any) -> str:
    """A base64 id; some start with ``//`` or hold ``//`` inside, as real ones can."""
    raw = bytearray(rng.getrandbits(8) for _ in range(16))
    roll = rng.random()
    if roll < 0.03:
        raw[0], raw[1] = 0xFF, raw[1] | 0xF0  # "//…"
    elif roll < 0.06:
        raw[4], raw[5] = raw[4] | 0x0F, 0xFF  # "……//…"
    return base64.b64encode(bytes(raw)).decode()


def download_url(rng: Any) -> str:
    # A path: the emulator serves it from whatever origin the request came to.
    url = f"/rec/download/{rng.getrandbits(96):024x}"
    if rng.random() < 0.15:
        # Password-protected recordings: the URL itself carries a token (a secret).
        url += f"?access_token=eyJsandbox.{rng.getrandbits(128):032x}"
    return url


def generate(config: DataConfig) -> list[ZoomSession]:
    """Sessions with their files until the listed files are about 30% of ``config.size``."""
    rng = config.rng(NAME)
    target = max(1, round(0.3 * config.size))
    recent = config.end - dt.timedelta(days=2)
    sessions: list[ZoomSession] = []
    listed = 0
    while listed < target:
        start = config.moment(rng)
        seconds = int(rng.lognormvariate(7.4, 0.8)) + 60
        roll = rng.random()
        name = (
            f"session {len(sessions) + 1}"
            if roll < 0.85
            else ("" if roll < 0.9 else ("Réunion 🎥 équipe" if roll < 0.95 else None))
        )
        session = ZoomSession(
            session_id=session_id(rng),
            name=name,
            key=f"key-{rng.getrandbits(32):08x}" if rng.random() < 0.5 else None,
            start=start,
            minutes=max(1, round(seconds / 60)),
        )
        rec_start = start + dt.timedelta(seconds=rng.randint(1, 30))
        rec_end = rec_start + dt.timedelta(seconds=seconds)
        processing = start > recent and rng.random() < 0.5

        def add(
            list_key: str,
            file_type: str,
            extension: str | None,
            recording_type: str | None,
            kbps: float | None,
            *,
            has_id: bool = True,
            user: tuple[str, str] | None = None,
            begin: dt.datetime = rec_start,
            finish: dt.datetime = rec_end,
            session: ZoomSession = session,
            processing: bool = processing,
        ) -> None:
            length = (finish - begin).total_seconds()
            size = int(length * kbps * 125 * rng.uniform(0.85, 1.15)) if kbps else None
            if kbps is None and has_id:
                size = rng.randint(200, 90_000)
            media = file_type in ("MP4", "M4A")
            status: str | None = "processing" if processing and media else "completed"
            if not has_id:
                size, status, recording_type = None, None, None
            session.files.append(
                ZoomFile(
                    list_key=list_key,
                    id=rand_uuid(rng) if has_id else None,
                    file_type=file_type,
                    # Every field may be missing: some files come without an extension.
                    extension=extension if rng.random() < 0.95 else None,
                    recording_type=recording_type,
                    start=begin,
                    end=finish,
                    size=size,
                    status=status,
                    download_url=download_url(rng),
                    external_storage_url=(
                        f"https://rec-bucket.s3.amazonaws.com/{rng.getrandbits(64):016x}.mp4"
                        f"?X-Amz-Signature={rng.getrandbits(128):032x}"
                        if media and rng.random() < 0.05
                        else None
                    ),
                    user_id=user[0] if user else None,
                    user_name=user[1] if user else None,
                )
            )

        for view in rng.sample(VIEWS, rng.choice((1, 1, 2))):
            add("recording_files", "MP4", "MP4", view, rng.uniform(400, 1500))
        if rng.random() < 0.8:
            add("recording_files", "M4A", "M4A", "audio_only", rng.uniform(48, 96))
        if rng.random() < 0.05:
            add("recording_files", "MP4", "MP4", "audio_only", rng.uniform(48, 96))
        if rng.random() < 0.4:
            add("recording_files", "TRANSCRIPT", "VTT", "audio_transcript", None)
        if rng.random() < 0.25:
            add("recording_files", "CHAT", "TXT", "chat_file", None)
        if rng.random() < 0.3:
            add("recording_files", "TIMELINE", "JSON", None, None, has_id=False)
        cc = rng.random()
        if cc < 0.2:
            add("recording_files", "CC", "VTT", None, None, has_id=False)
            if cc < 0.03:  # a second caption file identical in every listed field
                add("recording_files", "CC", "VTT", None, None, has_id=False)
        if rng.random() < 0.05:
            add("recording_files", "CSV", "CSV", "poll", None)
        if rng.random() < 0.05:
            # TB: the timeline's spelling in Zoom's file_type enum (a JSON timestamp file).
            add("recording_files", "TB", "JSON", "timeline", None)
        if rng.random() < 0.05:
            add("recording_files", "CHAT_MESSAGE", "JSON", "chat_message", None)
        people = [
            (f"u{rng.getrandbits(40):010x}", f"user {i + 1}") for i in range(rng.randint(2, 4))
        ]
        if rng.random() < 0.2:
            for user in people:
                joined = rec_start + dt.timedelta(seconds=rng.randint(0, seconds // 4))
                add(
                    "participant_video_files",
                    "MP4",
                    "MP4",
                    "individual_user",
                    rng.uniform(300, 900),
                    user=user,
                    begin=joined,
                )
        if rng.random() < 0.2:
            for user in people:
                add(
                    "participant_audio_files",
                    "M4A",
                    "M4A",
                    "individual_user",
                    rng.uniform(32, 64),
                    user=user,
                )
        trash = rng.random()
        if trash < 0.05:
            session.deleted = deleted_by_end(
                config, rec_end, rec_end + dt.timedelta(days=rng.randint(1, 20))
            )
            for f in session.files:
                f.deleted = session.deleted
        elif trash < 0.2:
            for f in session.files:
                if f.id is not None and rng.random() < 0.2:
                    f.deleted = deleted_by_end(
                        config, rec_end, rec_end + dt.timedelta(days=rng.randint(1, 20), hours=3)
                    )
        sessions.append(session)
        listed += sum(f.list_key != "participant_audio_files" for f in session.files)
    return sessions


def use_small_media(sessions: list[ZoomSession]) -> dict[str, str]:
    """Each file lasts as long as, and is as large as, the file the storage host serves, with
    faults planted on some audio and video files; returns the faults by file id."""
    planted: dict[str, str] = {}
    for session in sessions:
        for f in session.files:
            seconds = storage.media_seconds(f.media)
            f.end = f.start + dt.timedelta(seconds=seconds)
            if f.size is not None:
                f.size = storage.media_size(f.media)
            if f.id is None or f.file_type not in ("MP4", "M4A"):
                continue
            fault = storage.planted_fault(NAME, f.id)
            if fault == "truncated":
                f.cut = True
            elif fault == "duration":
                f.end += dt.timedelta(seconds=storage.DURATION_FAULT_SECONDS)
            if fault in ("truncated", "duration"):
                planted[f.id] = fault
    return planted


def range_days(value: Any) -> int | None:
    """``max_range_days``: None (one calendar month) or whole days (a date moves by whole days,
    so a fraction would be dropped without a word)."""
    if value is not None and (
        isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= RANGE_DAYS_MAX
    ):
        form = f"None (one calendar month) or a whole number of days from 0 to {RANGE_DAYS_MAX}"
        raise ConfigError("max_range_days", form, value)
    return value


def b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class ZoomEmulator:
    """Serves the sessions with Zoom's date windows, page tokens, trash, auth and errors.

    Parameters
    ----------
    config : DataConfig
    max_range_days : int or None
        The widest ``from``/``to`` range answered: None (default) for one calendar month, as
        documented, or a whole number of days from 0 (``to`` on ``from``'s day only) to
        :data:`~recanalytics.sandbox.common.RANGE_DAYS_MAX`.
    over_range : str
        What a wider range gets: ``'refuse'`` (default, a 400), ``'narrow'`` (cut to its last
        days) or ``'narrow_end'`` (cut to its first days).
    to_exclusive : bool
        Whether ``to``'s own day is left out (default False).
    zone_hours : float
        The UTC offset, from -12 to 14 hours, the days ``from`` and ``to`` name are read in
        (the account's time zone; default 0, UTC).

    Raises
    ------
    ConfigError
        An option outside those forms.
    """

    name = NAME
    rate_limit = RATE_LIMIT
    credentials = CREDENTIALS
    example_path = ""  # its API takes a signed JWT, not something to type into curl

    def __init__(
        self,
        config: DataConfig,
        *,
        max_range_days: int | None = None,
        over_range: Literal["refuse", "narrow", "narrow_end"] = "refuse",
        to_exclusive: bool = False,
        zone_hours: float = 0.0,
    ) -> None:
        # The widest from/to answered: one month as documented (None), or a number of days
        # (a server reading "one month" as 30 days, or counting the days inclusively).
        self.max_range_days = range_days(max_range_days)
        # A wider range is refused (400), or cut to its last days ("narrow": the echoed `from`
        # says so) or its first ("narrow_end": the echoed `to`) and answered: the docs do not
        # say which.
        self.over_range = validate.choice(over_range, "over_range", OVER_RANGE)
        # Whether `to`'s own day is read: the docs do not say.
        self.to_exclusive = validate.boolean(to_exclusive, "to_exclusive")
        # Which zone a day is read in: the docs do not say (an account's own is plausible).
        low, high = ZONE_HOURS
        form = f"hours from {low:g} to {high:g} (a UTC offset)"
        zone = validate.number(
            zone_hours, "zone_hours", low=low, inclusive=True, high=high, form=form
        )
        self.zone = dt.timedelta(hours=zone)
        self.sessions = generate(config)
        self.planted = use_small_media(self.sessions) if config.small_media else {}
        self.index = TimeIndex(self.sessions, key=lambda s: s.sort_key)
        self.by_id = {s.session_id: s for s in self.sessions}
        self.downloads = {
            f.download_url.split("?")[0].rsplit("/", 1)[-1]: f
            for s in self.sessions
            for f in s.files
        }
        self.clock: Callable[[], float] = server_clock(config)
        self.token_ttl = TOKEN_TTL

    def delete(self, recording_id: str) -> None:
        """Move a file to the trash, as ``DELETE …/recordings/{recordingId}`` does (its
        default action): it is gone from the list and listed by ``trash=True``, with its
        ``deleted_time`` (now)."""
        found = next((f for s in self.sessions for f in s.files if f.id == recording_id), None)
        if found is None:
            raise KeyError(recording_id)
        found.deleted = dt.datetime.fromtimestamp(self.clock(), dt.UTC).replace(microsecond=0)
        self.index.invalidate()

    def error_body(self, status: int, message: str) -> dict[str, Any]:
        return error_body(status, message)

    def authorize(self, request: SandboxRequest) -> SandboxResponse | None:
        """Check the API JWT: HS256, our signature, our ``iss``, unexpired, at most 2 h long."""
        denied = error(401, "Invalid access token.")
        header = request.headers.get("authorization", "")
        if not header.lower().startswith("bearer "):
            return denied
        parts = header[7:].strip().split(".")
        if len(parts) != 3:
            return denied
        try:
            head = json.loads(b64decode(parts[0]))
            payload = json.loads(b64decode(parts[1]))
            signature = b64decode(parts[2])
        except (ValueError, binascii.Error, UnicodeDecodeError):
            return denied
        if not isinstance(head, dict) or not isinstance(payload, dict):
            return denied
        secret = CREDENTIALS["api_secret"].encode()
        expected = hmac.new(secret, f"{parts[0]}.{parts[1]}".encode(), hashlib.sha256).digest()
        if head.get("alg") != "HS256" or not hmac.compare_digest(signature, expected):
            return denied
        exp, iat = payload.get("exp"), payload.get("iat")
        if payload.get("iss") != CREDENTIALS["api_key"]:
            return denied
        if not isinstance(exp, int | float) or not isinstance(iat, int | float):
            return denied
        if exp <= self.clock():
            return error(401, "Access token is expired.")
        if exp - iat > JWT_MAX_LIFETIME:
            return denied
        return None

    def routes(self) -> list[Route]:
        return [
            Route(
                NAME,
                "GET",
                re.compile(r"/v2/videosdk/recordings"),
                self.list_recordings,
                self.authorize,
                listing=Listing("sessions", ("next_page_token",), "token", "next_page_token"),
            ),
            Route(
                NAME,
                "GET",
                re.compile(r"/v2/videosdk/sessions/(?P<sid>[^/]+)/recordings"),
                self.session_recordings,
                self.authorize,
            ),
            Route(
                NAME,
                "GET",
                re.compile(r"/rec/download/(?P<key>[0-9a-f]+)"),
                self.download,
                self.authorize,
            ),
        ]

    # --- JSON ------------------------------------------------------------------------------

    def file_json(self, f: ZoomFile, session: ZoomSession, origin: str) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": f.id,
            "session_id": session.session_id,
            "recording_start": iso(f.start),
            "recording_end": iso(f.end),
            "file_type": f.file_type,
            "file_extension": f.extension,
            "file_size": f.size,
            "download_url": origin + f.download_url,
            "status": f.status,
            "recording_type": f.recording_type,
        }
        if f.id is None:  # CC and TIMELINE: no id, status, file_size or recording_type
            for key in ("id", "status", "file_size", "recording_type"):
                del body[key]
        if f.external_storage_url:
            body["external_storage_url"] = f.external_storage_url
        if f.deleted is not None:
            body["deleted_time"] = iso(f.deleted)
        if f.user_id is None or f.extension is None:
            # Rivet's types: session files carry no file_extension; participant files carry
            # file_name, file_extension, user_id and user_key (no user_name).
            del body["file_extension"]
        if f.user_id is not None:
            body["user_id"] = f.user_id
            body["user_key"] = f"key-{f.user_id[:8]}"
            body["file_name"] = f"{f.user_name} {f.file_type.lower()}"
        return body

    def session_json(
        self, session: ZoomSession, files: list[ZoomFile], origin: str, *, per_session: bool
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "session_id": session.session_id,
            "session_name": session.name,
            "start_time": iso(session.start),
            "duration": session.minutes,
            "total_size": sum(f.size or 0 for f in files),
            "recording_count": len(files),
        }
        if session.key is not None:
            body["session_key"] = session.key
        lists = ["recording_files", "participant_video_files"]
        if per_session:
            lists.append("participant_audio_files")
        for list_key in lists:
            chosen = [self.file_json(f, session, origin) for f in files if f.list_key == list_key]
            if chosen or list_key == "recording_files":
                body[list_key] = chosen
        return body

    # --- handlers --------------------------------------------------------------------------

    def visible(self, session: ZoomSession, trash: bool, trash_type: str) -> list[ZoomFile]:
        """The files of ``session`` that a listing (of the trash, or not) shows."""
        if not trash:
            return [] if session.deleted else [f for f in session.files if f.deleted is None]
        if trash_type == "session_recordings":
            return list(session.files) if session.deleted else []
        return [] if session.deleted else [f for f in session.files if f.deleted is not None]

    def list_recordings(self, request: SandboxRequest, match: re.Match[str]) -> SandboxResponse:
        size_text = request.get("page_size") or str(PAGE_SIZE_DEFAULT)
        if not size_text.isdigit() or not 1 <= int(size_text) <= PAGE_SIZE_MAX:
            return error(400, f"Invalid field: page_size must be 1 to {PAGE_SIZE_MAX}.")
        page_size = int(size_text)
        trash_text = (request.get("trash") or "false").lower()
        if trash_text not in ("true", "false"):
            return error(400, "Invalid field: trash.")
        trash = trash_text == "true"
        trash_type = request.get("trash_type") or "session_recordings"
        if trash_type not in TRASH_TYPES:
            return error(400, "Invalid field: trash_type.")
        today = (dt.datetime.fromtimestamp(self.clock(), dt.UTC) + self.zone).date()
        try:
            first = dt.date.fromisoformat(request.get("from") or today.isoformat())
            last = dt.date.fromisoformat(
                request.get("to") or (first + dt.timedelta(days=1)).isoformat()
            )
        except ValueError:
            return error(400, "Invalid field: from and to must be yyyy-mm-dd.")
        if not trash:  # the trash cannot be date-filtered: Zoom ignores from/to there
            if last < first:
                return error(400, "The 'to' date must not be earlier than the 'from' date.")
            widest = (
                add_month(first)
                if self.max_range_days is None
                else first + dt.timedelta(days=self.max_range_days)
            )
            if last > widest and self.over_range == "narrow":
                first = last - (widest - first)
            elif last > widest and self.over_range == "narrow_end":
                last = widest
            elif last > widest:
                return error(400, "The date range must be within one month.")

        def keep(s: ZoomSession) -> bool:
            return bool(self.visible(s, trash, trash_type))

        key = query_key(request.query, ("next_page_token",))
        if trash:
            selected = self.index.select(key, None, None, keep)
        else:
            # A day starts at its midnight in the account's zone.
            lo = (dt.datetime.combine(first, dt.time(), dt.UTC) - self.zone).timestamp()
            end = last if self.to_exclusive else last + dt.timedelta(days=1)
            hi = (dt.datetime.combine(end, dt.time(), dt.UTC) - self.zone).timestamp()
            selected = self.index.select(key, lo, hi, keep)
        offset = 0
        token = request.get("next_page_token")
        if token:
            state = decode_token("ZT", token)
            if (
                state is None
                or state.get("k") != key
                or not isinstance(state.get("o"), int)
                or not isinstance(state.get("t"), int | float)
                or self.clock() - state["t"] > self.token_ttl
            ):
                return error(400, TOKEN_ERROR)
            offset = state["o"]
        chunk = selected[offset : offset + page_size]
        next_token = ""
        if offset + page_size < len(selected):
            next_token = encode_token("ZT", {"o": offset + page_size, "k": key, "t": self.clock()})
        body = {
            "from": first.isoformat(),
            "to": last.isoformat(),
            "page_size": page_size,
            "total_records": len(selected),
            "next_page_token": next_token,
            "sessions": [
                self.session_json(
                    s, self.visible(s, trash, trash_type), request.origin, per_session=False
                )
                for s in chunk
            ],
        }
        return SandboxResponse.json(200, body)

    def session_recordings(self, request: SandboxRequest, match: re.Match[str]) -> SandboxResponse:
        once = unquote_plus(match["sid"])  # an unencoded "+" arrives as a space
        if "%" in once:
            sid = unquote(once)  # encoded twice, as required for "/…" and "…//…" ids
        else:
            sid = once
            if sid.startswith("/") or "//" in sid:
                # Encoded once, such an id is decoded into path separators and matches nothing.
                return error(404, "There is no recording for this session.")
        session = self.by_id.get(sid)
        files = self.visible(session, False, "") if session else []
        if session is None or not files:
            return error(404, "There is no recording for this session.")
        return SandboxResponse.json(
            200, self.session_json(session, files, request.origin, per_session=True)
        )

    def download(self, request: SandboxRequest, match: re.Match[str]) -> SandboxResponse:
        """``download_url``: with the Bearer JWT, a redirect to the storage host."""
        found = self.downloads.get(match["key"])
        if found is None:
            return error(404, "File does not exist.")
        ext = (found.extension or found.file_type or "bin").lower()
        target = signed_url(
            request.origin, f"zoom/{match['key']}.{ext}", found.media, cut=found.cut
        )
        return SandboxResponse(302, b"", {"Location": target})
