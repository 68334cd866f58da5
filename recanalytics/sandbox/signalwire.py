"""Emulator of SignalWire's Compatibility API recordings
(``/api/laml/2010-04-01/Accounts/{ProjectID}/Recordings.json``) with a synthetic dataset.

Behaviour it reproduces: Basic auth with project id and API token (401 with
``{code, message, more_info, status}``), the project id in the path, newest first, ``PageSize``
1-1000 (400 outside, in the ``{errors: [...]}`` form), page tokens inside relative
``next_page_uri`` values, RFC 2822 dates in responses and in the ``DateCreated``,
``DateCreated<`` and ``DateCreated>`` filters, the schema change of January 2026 (older records
have ``duration`` a string and ``channels`` an integer; newer ones ``duration`` an integer and
``channels``/``channel`` strings), and public media at the same path with ``.wav``/``.mp3`` or no
extension.

``DateCreated>`` and ``DateCreated<`` are strict at whole seconds; set
:attr:`SignalWireEmulator.inclusive_dates` to read them as ``>=``/``<=`` instead (the API's docs
do not say which it is; loaders must give the same answer either way).
"""

from __future__ import annotations

import datetime as dt
import email.utils
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from recanalytics import validate
from recanalytics.errors import ConfigError
from recanalytics.sandbox import storage
from recanalytics.sandbox.common import (
    DataConfig,
    TimeIndex,
    basic_credentials,
    decode_token,
    encode_token,
    query_key,
    rand_uuid,
    server_clock,
    with_query,
)
from recanalytics.sandbox.core import Listing, Route, SandboxRequest, SandboxResponse

NAME = "signalwire"
PROJECT_ID = "5a1e0c3e-8d7b-4f2a-9c61-5157a7e5b0de"
CREDENTIALS = {
    "project_id": PROJECT_ID,
    "api_token": "PTsandbox-signalwire-api-token",
    "space": "sandbox",
}
RATE_LIMIT = (100.0, 1.0)  # GET is documented as effectively unlimited
API = "/api/laml/2010-04-01"
SCHEMA_CHANGE = dt.datetime(2026, 1, 15, tzinfo=dt.UTC)
PRICE_PER_MINUTE = 0.0025

SOURCES_CALL = ("DialVerb", "OutBoundApi", "Trunking", "RecordVerb", "StartCallRecordingApi")
SOURCES_CONFERENCE = ("Conference", "StartConferenceRecording")


def error_body(status: int, message: str) -> dict[str, Any]:
    code = {400: 21205, 401: 20003, 404: 20404, 429: 20429}.get(status, 20500)
    return {
        "code": code,
        "message": message,
        "more_info": f"https://developer.signalwire.com/compatibility-api/errors/{code}",
        "status": status,
    }


def error(status: int, message: str, headers: dict[str, str] | None = None) -> SandboxResponse:
    return SandboxResponse.json(status, error_body(status, message), headers)


def bad_request(message: str) -> SandboxResponse:
    """400s come in the list form, ``{errors: [{code, message, more_info}]}``."""
    body = error_body(400, message)
    del body["status"]
    return SandboxResponse.json(400, {"errors": [body]})


@dataclass
class Recording:
    sid: str
    created: dt.datetime  # whole seconds, UTC
    call_sid: str | None
    conference_sid: str | None
    source: str
    status: str
    duration: int | None
    channels: int
    trim: str
    error_code: str | None
    cut: bool = False  # the media is served truncated (small_media faults)

    @property
    def key(self) -> float:
        return self.created.timestamp()

    def media(self, ext: str) -> str:
        """The storage host's file for ``.wav`` (the default) or ``.mp3``, by channel count."""
        return f"{'stereo' if self.channels == 2 else 'mono'}.{'mp3' if ext == 'mp3' else 'wav'}"


def use_small_media(records: list[Recording]) -> dict[str, str]:
    """Durations of the files served (WAV and MP3 last as long), with planted faults (by sid)."""
    planted: dict[str, str] = {}
    for r in records:
        if r.duration is None or r.status == "absent":
            continue
        r.duration = storage.media_seconds(r.media("wav"))
        fault = storage.planted_fault(NAME, r.sid)
        if fault == "truncated":
            r.cut = True
        elif fault == "duration":
            r.duration += storage.DURATION_FAULT_SECONDS
        if fault in ("truncated", "duration"):
            planted[r.sid] = fault
    return planted


def generate(config: DataConfig) -> list[Recording]:
    """About 0.3 x ``size`` recordings: calls (some recorded twice, e.g. stereo and mono) and
    conferences (often several recordings); mostly ``completed``, some ``absent`` (silence) and
    ``stopped``, and recent ones still ``queued``/``in-progress``/``paused``."""
    rng = config.rng(NAME)
    target = round(config.size * 0.3)
    recent = config.end - dt.timedelta(days=3)
    records: list[Recording] = []
    while len(records) < target:
        created = config.moment(rng)
        conference = rng.random() < 0.3
        group = rand_uuid(rng)
        for _ in range(rng.choice((1, 1, 2, 3)) if conference else rng.choice((1, 1, 1, 2))):
            duration: int | None = int(rng.lognormvariate(4.8, 1.1))  # median ~2 min
            roll = rng.random()
            status, error_code = "completed", None
            if created > recent and roll < 0.6:
                status = rng.choice(("queued", "in-progress", "paused", "resumed"))
                duration = None
            elif roll < 0.04:
                status, duration, error_code = "absent", 0, rng.choice(("13617", None))
            elif roll < 0.07:
                status = "stopped"
            records.append(
                Recording(
                    sid=rand_uuid(rng),
                    created=created,
                    call_sid=None if conference else group,
                    conference_sid=group if conference else None,
                    source=rng.choice(SOURCES_CONFERENCE if conference else SOURCES_CALL),
                    status=status,
                    duration=duration,
                    channels=2 if rng.random() < 0.3 else 1,
                    trim=rng.choice(("trim-silence", "do-not-trim")),
                    error_code=error_code,
                )
            )
            created += dt.timedelta(seconds=(duration or 0) + rng.randint(1, 120))
    return records[:target]


DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def rfc2822(moment: dt.datetime | None) -> str | None:
    """``Wed, 26 Sep 2018 00:00:00 +0000`` (as ``email.utils.format_datetime`` writes a UTC
    time, four times faster: a page holds 1,000 records of four times each)."""
    if moment is None:
        return None
    if moment.tzinfo is None or moment.utcoffset():
        return email.utils.format_datetime(moment)
    return (
        f"{DAYS[moment.weekday()]}, {moment.day:02d} {MONTHS[moment.month - 1]} {moment.year:04d} "
        f"{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d} +0000"
    )


# How the list reads DateCreated filters: the docs say RFC 2822, the official SDK sends ISO 8601
# (api-contracts.md: which one the live API requires is unconfirmed), so the emulator can be
# either, both, or deaf to them.
DATE_FORMATS = ("either", "rfc2822", "iso", "ignored")


def midnight(moment: dt.datetime) -> dt.datetime:
    return dt.datetime(moment.year, moment.month, moment.day, tzinfo=dt.UTC)


def parse_date(value: str, date_format: str = "either") -> dt.datetime | None:
    moment: dt.datetime | None = None
    if date_format in ("either", "rfc2822"):
        try:
            moment = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            moment = None
    if moment is None and date_format in ("either", "iso"):
        try:
            moment = dt.datetime.fromisoformat(value)
        except ValueError:
            return None
    if moment is None:
        return None
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


class SignalWireEmulator:
    """Serves the dataset with SignalWire's filters, page tokens, envelope and errors.

    Parameters
    ----------
    config : DataConfig
    date_format : str
        How the ``DateCreated`` filters are read: ``'either'`` (default: RFC 2822 or ISO
        8601), ``'rfc2822'``, ``'iso'`` or ``'ignored'``.
    by_day : bool or 'strict'
        False (default): as instants; True: by the day, from or before its midnight;
        ``'strict'``: by the day, as the operators say.

    Raises
    ------
    ConfigError
        An option outside those forms.
    """

    name = NAME
    rate_limit = RATE_LIMIT
    credentials = CREDENTIALS
    example_path = f"{API}/Accounts/{PROJECT_ID}/Recordings.json?PageSize=2"  # curl hint

    def __init__(
        self,
        config: DataConfig,
        *,
        date_format: str = "either",
        by_day: bool | Literal["strict"] = False,
    ) -> None:
        self.date_format = validate.choice(date_format, "date_format", DATE_FORMATS)
        # Read DateCreated> / DateCreated< by the day, the time ignored, as Twilio's 2010 API
        # documents its own date filters: ``>`` from the date's midnight, ``<`` before it; or,
        # "strict", the dates compared as the operators say (``>``: from the next midnight).
        if not (isinstance(by_day, bool) or by_day == "strict"):
            raise ConfigError("by_day", "False, True or 'strict'", by_day)
        self.by_day = by_day
        self.config = config
        records = generate(config)
        self.planted = use_small_media(records) if config.small_media else {}
        self.recordings = TimeIndex(records, key=lambda r: r.key)
        self.by_sid = {r.sid: r for r in records}
        self.inclusive_dates = False
        # The server's clock: each answer's Date header (sandbox.common.server_clock).
        self.clock: Callable[[], float] = server_clock(config)

    def add(self, recording: Recording) -> None:
        """Insert a recording (e.g. one created while a client is paging)."""
        self.recordings.add(recording, recording.key)
        self.by_sid[recording.sid] = recording

    def delete(self, sid: str) -> None:
        """Delete a recording, as ``DELETE …/Recordings/{sid}`` does: it is gone from the list
        (no ``deleted`` status is listed) and its get answers 404."""
        self.recordings.remove(self.by_sid.pop(sid))

    def error_body(self, status: int, message: str) -> dict[str, Any]:
        return error_body(status, message)

    def authorize(self, request: SandboxRequest) -> SandboxResponse | None:
        if basic_credentials(request) != (CREDENTIALS["project_id"], CREDENTIALS["api_token"]):
            return error(401, "Unauthorized")
        return None

    def routes(self) -> list[Route]:
        # Both path forms are in use: the docs' /api/laml/2010-04-01 and, as the official SDK
        # requests it, /2010-04-01 on the space host.
        account = r"(?P<api>(?:/api/laml)?/2010-04-01)/Accounts/(?P<account>[^/]+)/Recordings"
        return [
            # The list answers JSON with or without the extension (its next_page_uri has none).
            Route(
                NAME,
                "GET",
                re.compile(account + r"(?:\.json)?"),
                self.list_recordings,
                self.authorize,
                listing=Listing("recordings", ("next_page_uri",), "relative"),
            ),
            Route(
                NAME,
                "GET",
                re.compile(account + r"/(?P<sid>[^/.]+)\.json"),
                self.get_recording,
                self.authorize,
            ),
            # Media is public: no credentials needed, the long random sid is the secret.
            Route(
                NAME,
                "GET",
                re.compile(account + r"/(?P<sid>[^/.]+)(?:\.(?P<ext>wav|mp3))?"),
                self.get_media,
            ),
        ]

    def recording_json(self, r: Recording) -> dict[str, Any]:
        uri = f"{API}/Accounts/{PROJECT_ID}/Recordings/{r.sid}.json"
        end = None if r.duration is None else r.created + dt.timedelta(seconds=r.duration)
        price = None
        if r.status in ("completed", "stopped") and r.duration is not None:
            price = f"-{PRICE_PER_MINUTE * max(1, math.ceil(r.duration / 60)):.4f}"
        body: dict[str, Any] = {
            "sid": r.sid,
            "account_sid": PROJECT_ID,
            "api_version": "2010-04-01",
            "call_sid": r.call_sid,
            "conference_sid": r.conference_sid,
            "date_created": rfc2822(r.created),
            "date_updated": rfc2822(end or r.created),
            "start_time": rfc2822(r.created),
            "end_time": rfc2822(end),
            "price": price,
            "price_unit": "USD",
            "source": r.source,
            "status": r.status,
            "error_code": r.error_code,
            "uri": uri,
            "subresource_uris": {
                "transcriptions": uri.removesuffix(".json") + "/Transcriptions.json"
            },
            "encryption_details": None,
            "trim": r.trim,
        }
        if r.created < SCHEMA_CHANGE:
            body["duration"] = None if r.duration is None else str(r.duration)
            body["channels"] = r.channels
        else:
            body["duration"] = r.duration
            body["channels"] = body["channel"] = str(r.channels)
        return body

    def wrong_account(self, match: re.Match[str]) -> SandboxResponse | None:
        if match["account"] != PROJECT_ID:
            return error(404, f"The requested resource {match.string} was not found")
        return None

    def list_recordings(self, request: SandboxRequest, match: re.Match[str]) -> SandboxResponse:
        wrong = self.wrong_account(match)
        if wrong is not None:
            return wrong
        page_size_text = request.get("PageSize") or "50"
        if not page_size_text.isdigit() or not 1 <= int(page_size_text) <= 1000:
            return bad_request(f"PageSize must be between 1 and 1000, got {page_size_text}")
        page_size = int(page_size_text)
        dates: dict[str, dt.datetime] = {}
        for name in ("DateCreated", "DateCreated<", "DateCreated>"):
            text = request.get(name)
            if text is None or self.date_format == "ignored":
                continue
            moment = parse_date(text, self.date_format)
            if moment is None:
                form = "an ISO 8601 date" if self.date_format == "iso" else "an RFC 2822 date"
                return bad_request(f"{name} must be {form}, got {text!r}")
            dates[name] = moment
        after, before = dates.get("DateCreated>"), dates.get("DateCreated<")
        if self.by_day:
            after = None if after is None else midnight(after) - dt.timedelta(microseconds=1)
            if after is not None and self.by_day == "strict":
                after += dt.timedelta(days=1)
            before = None if before is None else midnight(before)
        day = dates.get("DateCreated")
        if day is not None:
            start = dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)
            after = max(after or start, start - dt.timedelta(microseconds=1))
            before = min(before or start + dt.timedelta(days=1), start + dt.timedelta(days=1))
        call, conference = request.get("CallSid"), request.get("ConferenceSid")

        def keep(r: Recording) -> bool:
            return (call is None or r.call_sid == call) and (
                conference is None or r.conference_sid == conference
            )

        ignore = ("Page", "PageToken")
        key = query_key(request.query, ignore)
        selected = self.recordings.select(
            (key, self.inclusive_dates),
            None if after is None else after.timestamp(),
            None if before is None else before.timestamp(),
            keep,
            start_exclusive=not self.inclusive_dates,
            end_inclusive=self.inclusive_dates,
        )
        offset = 0
        token = request.get("PageToken")
        if token is not None:
            state = decode_token("PA", token)
            if state is None or state.get("k") != key or not isinstance(state.get("o"), int):
                return bad_request("Invalid PageToken: use the next_page_uri returned by the API")
            offset = state["o"]
        page_text = request.get("Page") or "0"
        page = int(page_text) if page_text.isdigit() else 0
        chunk = selected[offset : offset + page_size]
        path = f"{match['api']}/Accounts/{PROJECT_ID}/Recordings"
        base = [(k, v) for k, v in request.query if k not in (*ignore, "PageSize")]

        def uri(at_page: int, at_offset: int | None) -> str:
            pairs = [*base, ("Page", str(at_page)), ("PageSize", str(page_size))]
            if at_offset:
                pairs.append(("PageToken", encode_token("PA", {"o": at_offset, "k": key})))
            return with_query("", path, pairs)

        has_next = offset + page_size < len(selected)
        body = {
            "uri": with_query("", request.path, list(request.query)),
            "first_page_uri": uri(0, None),
            "next_page_uri": uri(page + 1, offset + page_size) if has_next else None,
            "previous_page_uri": (
                uri(max(0, page - 1), max(0, offset - page_size)) if offset > 0 else None
            ),
            "page": page,
            "page_size": page_size,
            "recordings": [self.recording_json(r) for r in chunk],
        }
        return SandboxResponse.json(200, body)

    def get_recording(self, request: SandboxRequest, match: re.Match[str]) -> SandboxResponse:
        wrong = self.wrong_account(match)
        if wrong is not None:
            return wrong
        recording = self.by_sid.get(match["sid"])
        if recording is None:
            return error(404, f"The requested resource /Recordings/{match['sid']} was not found")
        return SandboxResponse.json(200, self.recording_json(recording))

    def get_media(self, request: SandboxRequest, match: re.Match[str]) -> SandboxResponse:
        recording = self.by_sid.get(match["sid"])
        if match["account"] != PROJECT_ID or recording is None:
            return error(404, "The requested resource was not found")
        ext = match["ext"] or "wav"
        body = storage.media_bytes(
            f"{NAME}/{recording.sid}.{ext}", recording.media(ext), cut=recording.cut
        )
        kind = "audio/mpeg" if ext == "mp3" else "audio/x-wav"
        return SandboxResponse(200, body, {"Content-Type": kind})
