"""Emulator of Plivo ``/v1/Account/{auth_id}/Recording/`` with a synthetic dataset of call and
conference recordings.

Behaviour it reproduces: Basic auth with the auth id (which must also be the one in the path),
the trailing slash on every path, ``limit`` 1-20 (400 above), ``total_count`` and a relative
``meta.next`` that carries only ``limit`` and the paging parameter, in the three paging modes
plivo-python 4.63 knows (``paging``): ``offset`` (legacy: ``next`` carries ``offset=``),
``cursor`` (``next`` carries an opaque ``cursor=``; a supplied ``offset`` is ignored) and
``hybrid`` (``next`` carries a cursor, but a supplied ``offset`` is still applied), newest first, numbers as decimal strings, ``add_time`` in a local offset,
and the ``add_time`` rules: a range wider than 30 days is answered 400, and without a lower bound
(``add_time__gt``/``__gte``) only the last 7 days are searched (an upper bound still applies).
"Now", for the search without a lower bound, is the dataset's end (``DataConfig.end``); the
``Date`` of its answers is its ``clock`` attribute (:func:`~recanalytics.sandbox.common.server_clock`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import operator
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from recanalytics import validate
from recanalytics.sandbox import storage
from recanalytics.sandbox.common import (
    RANGE_DAYS_MAX,
    ZONE_HOURS,
    DataConfig,
    TimeIndex,
    basic_credentials,
    decode_token,
    encode_token,
    rand_uuid,
    server_clock,
    with_query,
)
from recanalytics.sandbox.core import Listing, Route, SandboxRequest, SandboxResponse
from recanalytics.sandbox.storage import public_url

NAME = "plivo"
AUTH_ID = "MASANDBOXPLIVO0AUTH0"
CREDENTIALS = {"auth_id": AUTH_ID, "auth_token": "sandbox-plivo-auth-token"}
SUBACCOUNTS = ("SASANDBOXSUBACCOUNT1", "SASANDBOXSUBACCOUNT2")
RATE_LIMIT = (300.0, 5.0)  # 300 requests per 5 seconds, across the recording APIs

LIMIT_MAX = 20
PAGING_MODES = ("offset", "cursor", "hybrid")
MAX_RANGE_DAYS = 30.0  # the widest add_time range Plivo documents
DEFAULT_SEARCH = dt.timedelta(days=7)
# Offsets Plivo shows add_time in (the account's timezone).
OFFSETS = (dt.timedelta(hours=5, minutes=30), dt.timedelta(0), dt.timedelta(hours=-7))
CONFERENCE_NAMES = ("sales-standup", "support-escalation", "board", "onboarding", "Émile's room")
FREE_STORAGE_DAYS = 90
STORAGE_RATE = "0.00040"  # USD per recorded minute and month, after the free period

NUMERIC_FILTER = re.compile(r"^recording_storage_duration(__gt|__gte|__lt|__lte)?$")
COMPARE: dict[str, Callable[[int, int], bool]] = {
    "": operator.eq,
    "__gt": operator.gt,
    "__gte": operator.ge,
    "__lt": operator.lt,
    "__lte": operator.le,
}
TIME_FORMS = ("%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M")


def error_body(status: int, message: str) -> dict[str, Any]:
    digest = hashlib.sha256(f"{status}:{message}".encode()).digest()
    return {"api_id": str(uuid.UUID(bytes=digest[:16], version=4)), "error": message}


def error(status: int, message: str, headers: dict[str, str] | None = None) -> SandboxResponse:
    return SandboxResponse.json(status, error_body(status, message), headers)


@dataclass
class Recording:
    recording_id: str
    add_time: dt.datetime  # UTC, microseconds
    shown_offset: dt.timedelta
    call_uuid: str
    recording_type: str
    conference_name: str | None
    conference_uuid: str | None
    mpc_name: str | None
    mpc_uuid: str | None
    from_number: str
    to_number: str
    subaccount: str | None
    recording_format: str
    duration_ms: int
    start_ms: int
    numbers_as_numbers: bool  # odd but legal: some records carry numbers, not strings
    cut: bool = False  # storage serves a truncated copy (small_media faults)

    @property
    def key(self) -> int:
        return micros(self.add_time)

    @property
    def media(self) -> str:
        """The storage host's file: mono telephony audio."""
        return "mono.wav" if self.recording_format == "wav" else "mono.mp3"

    def storage_days(self, now: dt.datetime) -> int:
        return max(1, (now - self.add_time).days)  # the documented minimum is 1


def use_small_media(records: list[Recording]) -> dict[str, str]:
    """Durations of the files the storage host serves, with planted faults (by id)."""
    planted: dict[str, str] = {}
    for r in records:
        r.duration_ms = storage.media_seconds(r.media) * 1000
        fault = storage.planted_fault(NAME, r.recording_id)
        if fault == "truncated":
            r.cut = True
        elif fault == "duration":
            r.duration_ms += storage.DURATION_FAULT_SECONDS * 1000
        if fault in ("truncated", "duration"):
            planted[r.recording_id] = fault
    return planted


def micros(moment: dt.datetime) -> int:
    """Epoch microseconds: an exact key (a float loses the last microsecond digit)."""
    delta = moment - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    return (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds


def number(rng: Any) -> str:
    if rng.random() < 0.1:
        return f"sip:agent{rng.randint(1, 40)}@phone.plivo.com"
    return f"+1{rng.randint(200, 999)}{rng.randint(200, 999)}{rng.randint(0, 9999):04d}"


def generate(config: DataConfig) -> list[Recording]:
    """About 0.4 x ``size`` recordings: mostly call recordings, a third conference recordings
    (several per conference), a few multiparty calls; mp3 mostly, some wav."""
    rng = config.rng(NAME)
    target = round(config.size * 0.4)
    recordings: list[Recording] = []
    while len(recordings) < target:
        roll = rng.random()
        created = config.moment(rng) + dt.timedelta(microseconds=rng.randint(0, 999_999))
        call_uuid = rand_uuid(rng)
        subaccount = rng.choice(SUBACCOUNTS) if rng.random() < 0.15 else None
        if roll < 0.35:
            # A conference: one recording per segment (recording restarted) of the conference.
            kind, parts = "conference", rng.choice((1, 1, 1, 2, 3))
            name: str | None = rng.choice(CONFERENCE_NAMES)
            if rng.random() < 0.15:
                name = "noname"
            conference_uuid: str | None = rand_uuid(rng)
        else:
            kind, parts = rng.choice(("normal", "normal", "call")), 1
            name = rng.choice(("noname", "noname", "", None))
            conference_uuid = rng.choice((None, ""))
        mpc = kind != "conference" and rng.random() < 0.06
        begin = created
        for _ in range(parts):
            duration_ms = int(rng.lognormvariate(11.8, 1.0))  # median ~2 min
            if rng.random() < 0.02:
                duration_ms = 0  # an empty recording: legal, and it happens
            start = begin
            add_time = start + dt.timedelta(milliseconds=duration_ms, seconds=rng.randint(1, 20))
            recordings.append(
                Recording(
                    recording_id=rand_uuid(rng),
                    add_time=add_time,
                    shown_offset=rng.choice(OFFSETS),
                    call_uuid=call_uuid if kind != "conference" else rand_uuid(rng),
                    recording_type=kind,
                    conference_name=name,
                    conference_uuid=conference_uuid,
                    mpc_name=f"mpc-{rng.randint(1, 9)}" if mpc else None,
                    mpc_uuid=rand_uuid(rng) if mpc else None,
                    from_number=number(rng),
                    to_number=number(rng),
                    subaccount=subaccount,
                    recording_format="mp3" if rng.random() < 0.75 else "wav",
                    duration_ms=duration_ms,
                    start_ms=int(start.timestamp() * 1000),
                    numbers_as_numbers=rng.random() < 0.05,
                )
            )
            begin = add_time + dt.timedelta(seconds=rng.randint(5, 600))
    return recordings[:target]


def parse_time(value: str) -> dt.datetime | None:
    """``YYYY-MM-DD HH:MM[:ss[.uuuuuu]]`` in UTC, as Plivo's filters take it."""
    for form in TIME_FORMS:
        try:
            return dt.datetime.strptime(value.strip(), form).replace(tzinfo=dt.UTC)
        except ValueError:
            continue
    return None


def decimal(value: float, places: int = 5) -> str:
    return f"{value:.{places}f}"


class PlivoEmulator:
    """Serves the dataset with Plivo's filters, offset paging, envelope and errors.

    Parameters
    ----------
    config : DataConfig
    paging : str
        ``'offset'`` (default), ``'cursor'`` or ``'hybrid'`` (see the module's docstring).
    filter_zone_hours : float
        The UTC offset, from -12 to 14 hours, the ``add_time`` filters are read in (default 0:
        UTC, as documented).
    max_range_days : float
        The widest ``add_time`` range answered, in days: a number > 0 and at most
        :data:`~recanalytics.sandbox.common.RANGE_DAYS_MAX` (default 30, as documented).

    Raises
    ------
    ConfigError
        An option outside those forms.
    """

    name = NAME
    rate_limit = RATE_LIMIT
    credentials = CREDENTIALS
    example_path = f"/v1/Account/{AUTH_ID}/Recording/?limit=2"  # `recanalytics sandbox` hint
    listing = Listing("objects", ("meta", "next"), "relative")

    def __init__(
        self,
        config: DataConfig,
        *,
        paging: str = "offset",
        filter_zone_hours: float = 0.0,
        max_range_days: float = MAX_RANGE_DAYS,
    ) -> None:
        self.paging = validate.choice(paging, "paging", PAGING_MODES)
        # The docs say the add_time filters are UTC, while add_time is shown in the account's
        # offset: a server reading the filters in that offset is served with this option.
        low, high = ZONE_HOURS
        form = f"hours from {low:g} to {high:g} (a UTC offset)"
        zone = validate.number(
            filter_zone_hours, "filter_zone_hours", low=low, inclusive=True, high=high, form=form
        )
        self.filter_zone = dt.timedelta(hours=zone)
        # The widest add_time range answered (Plivo documents 30 days; a server counting
        # calendar days would refuse a window of exactly 30).
        form = f"a number of days > 0 and at most {RANGE_DAYS_MAX}"
        days = validate.number(max_range_days, "max_range_days", high=RANGE_DAYS_MAX, form=form)
        self.max_range = dt.timedelta(days=days)
        self.config = config
        self.now = config.end
        # The server's clock: each answer's Date header (sandbox.common.server_clock).
        self.clock: Callable[[], float] = server_clock(config)
        records = generate(config)
        self.planted = use_small_media(records) if config.small_media else {}
        self.recordings = TimeIndex(records, key=lambda r: r.key)
        self.by_id = {r.recording_id: r for r in records}

    def add(self, recording: Recording) -> None:
        """Insert a recording (one that appears while a client is paging)."""
        self.recordings.add(recording, recording.key)
        self.by_id[recording.recording_id] = recording

    def delete(self, recording_id: str) -> None:
        """Delete a recording, as ``DELETE …/Recording/{id}/`` does: Plivo lists only stored
        recordings, so it is gone from the list and its get answers 404."""
        self.recordings.remove(self.by_id.pop(recording_id))

    def error_body(self, status: int, message: str) -> dict[str, Any]:
        return error_body(status, message)

    def authorize(self, request: SandboxRequest) -> SandboxResponse | None:
        if basic_credentials(request) != (CREDENTIALS["auth_id"], CREDENTIALS["auth_token"]):
            return error(401, "Could not verify your access level for that URL.")
        return None

    def routes(self) -> list[Route]:
        base = r"/v1/Account/(?P<auth_id>[^/]+)/Recording/"
        return [
            Route(
                NAME,
                "GET",
                re.compile(base),
                self.list_recordings,
                self.authorize,
                listing=self.listing,
            ),
            Route(
                NAME,
                "GET",
                re.compile(base + r"(?P<recording_id>[^/]+)/"),
                self.get_recording,
                self.authorize,
            ),
        ]

    def api_id(self, request: SandboxRequest) -> str:
        digest = hashlib.sha256(repr((request.path, request.query)).encode()).digest()
        return str(uuid.UUID(bytes=digest[:16], version=4))

    def recording_json(self, r: Recording, origin: str) -> dict[str, Any]:
        shown = (r.add_time + r.shown_offset).replace(tzinfo=dt.timezone(r.shown_offset))
        storage = r.storage_days(self.now)
        minutes = math.ceil(r.duration_ms / 60000)
        months = max(0, storage - FREE_STORAGE_DAYS) / 30
        amount = float(STORAGE_RATE) * minutes * months
        body: dict[str, Any] = {
            "add_time": shown.isoformat(sep=" "),
            "call_uuid": r.call_uuid,
            "conference_name": r.conference_name,
            "conference_uuid": r.conference_uuid,
            "from_number": r.from_number,
            "to_number": r.to_number,
            "mpc_name": r.mpc_name,
            "mpc_uuid": r.mpc_uuid,
            "recording_duration_ms": decimal(r.duration_ms),
            "recording_end_ms": decimal(r.start_ms + r.duration_ms),
            "recording_format": r.recording_format,
            "recording_id": r.recording_id,
            "recording_start_ms": decimal(r.start_ms),
            "recording_type": r.recording_type,
            # Plivo's links are public S3 URLs (its docs' examples); the sandbox's storage
            # route stands in for the host.
            "recording_url": public_url(
                origin, f"plivo/{r.recording_id}.{r.recording_format}", r.media, cut=r.cut
            ),
            "resource_uri": f"/v1/Account/{AUTH_ID}/Recording/{r.recording_id}/",
            # Rounded up to whole minutes, in seconds (under 60 s becomes 60), as documented.
            "rounded_recording_duration": str(60 * max(1, math.ceil(r.duration_ms / 60000))),
            "recording_storage_duration": str(storage),
            "recording_storage_rate": STORAGE_RATE,
            "monthly_recording_storage_amount": decimal(amount),
        }
        if r.numbers_as_numbers:
            for key in ("recording_duration_ms", "rounded_recording_duration"):
                body[key] = int(float(body[key]))
            body["recording_storage_duration"] = storage
            body["monthly_recording_storage_amount"] = round(amount, 5)
        return body

    def list_recordings(self, request: SandboxRequest, match: re.Match[str]) -> SandboxResponse:
        if match["auth_id"] != AUTH_ID:
            return error(401, "Could not verify your access level for that URL.")
        limit_text = request.get("limit") or str(LIMIT_MAX)
        if not limit_text.isdigit() or not 1 <= int(limit_text) <= LIMIT_MAX:
            return error(400, f"limit must be an integer from 1 to {LIMIT_MAX}")
        offset_text = request.get("offset")
        if offset_text is not None and not offset_text.isdigit():
            return error(400, "offset must be a non-negative integer")
        limit = int(limit_text)

        bounds: dict[str, dt.datetime] = {}
        for op in ("gt", "gte", "lt", "lte"):
            text = request.get(f"add_time__{op}")
            if text is None:
                continue
            moment = parse_time(text)
            if moment is None:
                return error(400, f"add_time__{op} must be YYYY-MM-DD HH:MM[:ss[.uuuuuu]]")
            bounds[op] = moment - self.filter_zone
        lower = max((bounds[o] for o in ("gt", "gte") if o in bounds), default=None)
        upper = min((bounds[o] for o in ("lt", "lte") if o in bounds), default=None)
        if lower is None:
            # No lower bound: Plivo searches only the last 7 days (an upper bound still applies).
            lower, start_exclusive = self.now - DEFAULT_SEARCH, False
        else:
            start_exclusive = "gt" in bounds and bounds["gt"] == lower
            if (upper or self.now) - lower > self.max_range:
                return error(400, "add_time range cannot be more than 30 days")
        end_inclusive = "lte" in bounds and bounds["lte"] == upper

        exact = {
            k: request.get(k)
            for k in (
                "call_uuid",
                "conference_name",
                "conference_uuid",
                "from_number",
                "to_number",
                "subaccount",
                "mpc_name",
                "mpc_uuid",
            )
            if request.get(k) is not None
        }
        storage: list[tuple[Callable[[int, int], bool], int]] = []
        for name, value in request.query:
            found = NUMERIC_FILTER.match(name)
            if found is None:
                continue
            if not value.isdigit():
                return error(400, f"{name} must be a whole number of days")
            storage.append((COMPARE[found.group(1) or ""], int(value)))

        def keep(r: Recording) -> bool:
            days = r.storage_days(self.now)
            return all(getattr(r, k) == v for k, v in exact.items()) and all(
                compare(days, bound) for compare, bound in storage
            )

        key = repr(
            sorted((k, v) for k, v in request.query if k not in ("limit", "offset", "cursor"))
        )
        offset = self.position(request, key)
        if offset is None:
            return error(400, "invalid cursor")
        selected = self.recordings.select(
            (key, lower, upper),
            micros(lower),
            None if upper is None else micros(upper),
            keep,
            end_inclusive=end_inclusive,
            start_exclusive=start_exclusive,
        )
        chunk = selected[offset : offset + limit]
        path = f"/v1/Account/{AUTH_ID}/Recording/"
        total = len(selected)
        meta = {
            "limit": limit,
            "next": self.link(path, limit, offset + limit, key) if offset + limit < total else None,
            "offset": offset,
            "previous": self.link(path, limit, max(0, offset - limit), key) if offset else None,
            "total_count": total,
        }
        return SandboxResponse.json(
            200,
            {
                "api_id": self.api_id(request),
                "meta": meta,
                "objects": [self.recording_json(r, request.origin) for r in chunk],
            },
        )

    def position(self, request: SandboxRequest, key: str) -> int | None:
        """Where the page starts, as this deployment's paging mode reads the request."""
        offset, cursor = request.get("offset"), request.get("cursor")
        if offset is not None and self.paging != "cursor":
            return int(offset)  # offset mode, and hybrid: a supplied offset is applied
        if cursor is not None and self.paging != "offset":
            state = decode_token("PC", cursor)
            if state is None or state.get("q") != hashlib.sha256(key.encode()).hexdigest()[:12]:
                return None
            at = state.get("o")
            return at if isinstance(at, int) and at >= 0 else None
        return 0

    def link(self, path: str, limit: int, offset: int, key: str) -> str:
        if self.paging == "offset":
            return path_with(path, limit, offset)
        query = hashlib.sha256(key.encode()).hexdigest()[:12]
        cursor = encode_token("PC", {"o": offset, "q": query})
        return with_query("", path, [("limit", str(limit)), ("cursor", cursor)])

    def get_recording(self, request: SandboxRequest, match: re.Match[str]) -> SandboxResponse:
        if match["auth_id"] != AUTH_ID:
            return error(401, "Could not verify your access level for that URL.")
        recording = self.by_id.get(match["recording_id"])
        if recording is None:
            return error(404, "not found")
        return SandboxResponse.json(
            200, {"api_id": self.api_id(request), **self.recording_json(recording, request.origin)}
        )


def path_with(path: str, limit: int, offset: int) -> str:
    return with_query("", path, [("limit", str(limit)), ("offset", str(offset))])
