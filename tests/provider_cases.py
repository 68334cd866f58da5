"""Per-provider test data, one entry per registered provider or loader; the suites that run
the same contract on every provider read the provider table and take their data from here.

Adding a provider (docs/adding-a-provider.md) means adding its entries below: the suites
parametrised over :data:`recanalytics.providers.registry.LOADERS` then run its cases, and
fail with a message naming this file until its entries exist.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import polars as pl
import pytest

import recanalytics as ra
from recanalytics.credentials import Credentials
from recanalytics.errors import ConfigError
from recanalytics.providers.base import Loader
from recanalytics.providers.registry import LOADERS, SPECS
from recanalytics.sandbox import Sandbox
from recanalytics.sync import syncify

T = TypeVar("T")


class Table(dict[str, T]):
    """Test data keyed by provider or loader; a missing key fails, naming this file."""

    def __init__(self, what: str, items: dict[str, T]) -> None:
        super().__init__(items)
        self.what = what

    def __missing__(self, key: str) -> T:
        pytest.fail(f"no {self.what} for {key!r}: add it to tests/provider_cases.py")


UUID = "6f1f2c4e-1c8b-41e4-9a2d-842b2b17453e"

# Fake credentials whose secrets hold the characters that change under URL and Basic encoding,
# so a leak in any encoded form is caught.
CREDENTIALS: Table[Credentials] = Table(
    "fake credentials",
    {
        "twilio": ra.TwilioCredentials(account_sid="AC" + "1" * 32, auth_token="tw+secret/value=="),
        "plivo": ra.PlivoCredentials(auth_id="MA" + "B" * 18, auth_token="plivo secret&value"),
        "zoom": ra.ZoomCredentials(api_key="zoom-key", api_secret="zoom/secret+value"),
        "signalwire": ra.SignalWireCredentials(
            project_id=UUID, api_token="sw:secret?v", space="ex"
        ),
    },
)

# What the sandbox answers to wrong credentials, as each provider documents it: the error
# ``code`` it sends, or words of its message where it sends no code.
AUTH_ERRORS: Table[dict[str, Any]] = Table(
    "documented auth error",
    {
        "twilio": {"code": 20003},
        "plivo": {"message": "Could not verify"},
        "zoom": {"code": 124},
        "signalwire": {"code": 20003},
    },
)


def loader_id(loader: Loader[Any]) -> str:
    """A registered loader's short name: ``aload_twilio_compositions`` -> ``twilio_compositions``."""
    return loader.load.__name__.removeprefix("aload_")


def registered_loaders() -> list[Loader[Any]]:
    """Every loader of the provider table, in table order."""
    return [loader for loaders in LOADERS.values() for loader in loaders]


LOADER_PARAMS = [pytest.param(loader, id=loader_id(loader)) for loader in registered_loaders()]
PROVIDER_PARAMS = [pytest.param(name, id=name) for name in SPECS]
# Every provider's credentials variables (TWILIO_AUTH_TOKEN, ...).
CREDENTIAL_VARIABLES = frozenset(
    name for spec in SPECS.values() for names in spec.credentials.env.values() for name in names
)
# The providers whose media URLs need their credentials, and those whose media is public.
MEDIA_AUTH = [name for name, spec in SPECS.items() if spec.media_auth]
PUBLIC_MEDIA = [name for name, spec in SPECS.items() if not spec.media_auth]


def sync_loader(loader: Loader[Any]) -> Callable[..., pl.DataFrame]:
    """The public synchronous loader of ``loader`` (``ra.load_<name>``), or its sync twin."""
    name = loader.load.__name__.removeprefix("a")
    public = getattr(ra, name, None)
    return public if public is not None else syncify(loader.load, name)


def async_loader(loader: Loader[Any]) -> Callable[..., Awaitable[pl.DataFrame]]:
    """The public async loader of ``loader`` (``ra.aload_<name>``, with ``store=``), or itself."""
    public: Callable[..., Awaitable[pl.DataFrame]] = getattr(ra, loader.load.__name__, loader.load)
    return public


@contextlib.contextmanager
def rejected_before_any_request(box: Sandbox, parameter: str) -> Iterator[None]:
    """The block raises a ConfigError (a ValueError) naming ``parameter`` and the accepted
    form, and ``box`` answered no request meanwhile."""
    before = box.requests
    with pytest.raises(ConfigError) as info:
        yield
    assert isinstance(info.value, ValueError)
    assert info.value.parameter == parameter, str(info.value)
    assert "expected" in str(info.value)
    assert box.requests == before


@dataclass(frozen=True)
class MockEndpoint:
    """How a loader's list endpoint answers, for tests serving it through httpx.MockTransport.

    ``record(i)`` is a plausible record; ``envelope(records)`` the one and last page holding
    them; ``id_column`` the raw frame's id column; ``path`` a part of the list URL's path that
    tells this endpoint from the provider's others; ``span`` the since/until a mocked load
    passes (the loaders that default to recent days would otherwise warn); ``base_url`` the
    host the mock stands for.

    For the hostile tests: ``echoed(text, host)`` is a record with ``text`` in its text fields
    and its media link on ``host``; ``targets`` says where each kind of hostile value goes:
    the JSON path in the record, the raw column and the unified column (None where the unified
    value comes from elsewhere).
    """

    record: Callable[[int], dict[str, Any]]
    envelope: Callable[[list[Any]], dict[str, Any]]
    id_column: str
    path: str
    base_url: str
    span: dict[str, str]
    echoed: Callable[[str, str], dict[str, Any]]
    targets: dict[str, tuple[str, str, str | None]]


def twilio_track(i: int) -> dict[str, Any]:
    return {
        "sid": f"RT{i:032x}",
        "account_sid": "AC" + "a" * 32,
        "status": "completed",
        "date_created": "2026-01-05T10:00:00Z",
        "type": "audio",
        "codec": "opus",
        "container_format": "mka",
        "duration": 60,
        "size": 4096,
        "track_name": "mic",
        "grouping_sids": {"room_sid": "RM" + "b" * 32},
    }


def twilio_composition(i: int) -> dict[str, Any]:
    return {
        "sid": f"CJ{i:032x}",
        "status": "completed",
        "date_created": "2026-01-05T10:00:00Z",
        "format": "mp4",
        "duration": 60,
        "size": 4096,
        "bitrate": 64,
        "resolution": "1280x720",
        "video_layout": {"grid": {"video_sources": ["*"]}},
    }


def plivo_recording(i: int) -> dict[str, Any]:
    return {
        "recording_id": f"rec-{i}",
        "add_time": "2026-01-05 10:00:00.000000+00:00",
        "recording_type": "conference",
        "recording_format": "mp3",
        "recording_duration_ms": "60000.00000",
        "recording_start_ms": "1767607200000.00000",
        "recording_end_ms": "1767607260000.00000",
        "rounded_recording_duration": 60,
        "recording_storage_duration": 3,
        "conference_name": "call",
    }


def zoom_session(i: int) -> dict[str, Any]:
    return {
        "session_id": f"s{i}==",
        "session_name": "demo",
        "start_time": "2026-01-05T10:00:00Z",
        "duration": 1,
        "total_size": 4096,
        "recording_count": 1,
        "recording_files": [
            {
                "id": f"file-{i}",
                "recording_start": "2026-01-05T10:00:00Z",
                "recording_end": "2026-01-05T10:01:00Z",
                "file_type": "MP4",
                "file_size": 4096,
                "status": "completed",
            }
        ],
    }


def signalwire_recording(i: int) -> dict[str, Any]:
    return {
        "sid": f"00000000-0000-0000-0000-{i:012x}",
        "call_sid": "3b9b2b35-1f2a-4c8e-9b6b-2f3e4d5c6b7a",
        "date_created": "Mon, 05 Jan 2026 10:00:00 +0000",
        "duration": 60,
        "channels": 2,
        "status": "completed",
        "price": "-0.0025",
        "price_unit": "USD",
    }


def twilio_echoed(text: str, host: str) -> dict[str, Any]:
    return {
        "sid": "RT" + "a" * 32, "track_name": text, "status": "completed", "room_sid": text,
        "date_created": "2026-01-05T10:00:00Z", "links": {"media": f"{host}/{text}"},
    }  # fmt: skip


def twilio_composition_echoed(text: str, host: str) -> dict[str, Any]:
    return {
        "sid": "CJ" + "a" * 32, "room_sid": text, "status": "completed", "resolution": text,
        "date_created": "2026-01-05T10:00:00Z", "links": {"media": f"{host}/{text}"},
    }  # fmt: skip


def plivo_echoed(text: str, host: str) -> dict[str, Any]:
    return {
        "recording_id": "r-1", "conference_name": text, "call_uuid": text,
        "add_time": "2026-01-05 10:00:00+00:00", "recording_url": f"{host}/{text}",
    }  # fmt: skip


def zoom_echoed(text: str, host: str) -> dict[str, Any]:
    file = {"id": "f-1", "file_type": "MP4", "download_url": f"{host}/rec/{text}",
            "recording_start": "2026-01-05T10:00:00Z", "status": text}  # fmt: skip
    return {"session_id": "s-1", "session_name": text, "start_time": "2026-01-05T10:00:00Z",
            "recording_files": [file]}  # fmt: skip


def signalwire_echoed(text: str, host: str) -> dict[str, Any]:
    return {"sid": UUID, "account_sid": UUID, "call_sid": text, "status": text,
            "date_created": "Mon, 05 Jan 2026 10:00:00 +0000"}  # fmt: skip


SPAN = {"since": "2026-01-01", "until": "2026-01-20"}

MOCK_ENDPOINTS: Table[MockEndpoint] = Table(
    "MockEndpoint",
    {
        "twilio_recordings": MockEndpoint(
            twilio_track,
            lambda r: {"recordings": r, "meta": {"key": "recordings", "next_page_url": None}},
            "sid",
            "/Recordings",
            "https://video.example",
            {},
            twilio_echoed,
            {
                "seconds": ("duration", "duration", "duration"),
                "int": ("size", "size", "size_bytes"),
                "text": ("track_name", "track_name", "track_name"),
            },
        ),
        "twilio_compositions": MockEndpoint(
            twilio_composition,
            lambda r: {"compositions": r, "meta": {"key": "compositions", "next_page_url": None}},
            "sid",
            "/Compositions",
            "https://video.example",
            {},
            twilio_composition_echoed,
            {
                "seconds": ("duration", "duration", "duration"),
                "int": ("size", "size", "size_bytes"),
                "text": ("resolution", "resolution", None),
            },
        ),
        "plivo_recordings": MockEndpoint(
            plivo_recording,
            lambda r: {
                "api_id": "x",
                "meta": {"limit": 20, "offset": 0, "total_count": len(r), "next": None},
                "objects": r,
            },
            "recording_id",
            "/Recording/",
            "https://api.plivo.example",
            SPAN,
            plivo_echoed,
            {
                # the unified duration falls back to end - start, so only the raw column is null
                "seconds": ("recording_duration_ms", "recording_duration_ms", None),
                "int": ("recording_storage_duration", "recording_storage_duration", None),
                "text": ("conference_name", "conference_name", "group_name"),
            },
        ),
        "zoom_recordings": MockEndpoint(
            zoom_session,
            lambda r: {"sessions": r, "next_page_token": ""},
            "recording_id",
            "/recordings",
            "https://zoom.example",
            SPAN,
            zoom_echoed,
            {
                # Zoom has no count of seconds (durations come from timestamps)
                "int": ("recording_files.0.file_size", "file_size", "size_bytes"),
                "text": ("session_name", "session_name", "group_name"),
            },
        ),
        "signalwire_recordings": MockEndpoint(
            signalwire_recording,
            lambda r: {"recordings": r, "next_page_uri": None},
            "sid",
            "/Recordings",
            "https://example.signalwire.com",
            {},
            signalwire_echoed,
            {
                "seconds": ("duration", "duration", "duration"),
                "int": ("channels", "channels", "channels"),
                "int8": ("channels", "channels", "channels"),
                "text": ("status", "status", "status"),
            },
        ),
    },
)


def mock_endpoint(loader: Loader[Any]) -> MockEndpoint:
    return MOCK_ENDPOINTS[loader_id(loader)]
