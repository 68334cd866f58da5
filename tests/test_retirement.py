"""After a provider's service retires (Twilio Video on 2026-12-05): its errors say so, and
``load()`` says how to leave it out.

The day is moved through the clock's one seam, ``recanalytics.clock.now``; Twilio's API is
made "retired" by a transport answering its list paths with a chosen failure (an external
audit found each of these after the date).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import httpx
import polars as pl
import pytest

import recanalytics as ra
from recanalytics.providers.twilio import RETIRES
from recanalytics.sandbox import Sandbox
from tests.conftest import FAST_RETRY
from tests.test_cli import use_sandbox_credentials

pytestmark = pytest.mark.retirement

AFTER = dt.datetime.combine(RETIRES + dt.timedelta(days=15), dt.time(), dt.UTC)
BEFORE = dt.datetime.combine(RETIRES - dt.timedelta(days=10), dt.time(), dt.UTC)
SAID = f"Programmable Video retired on {RETIRES}"


class Retiring(httpx.AsyncBaseTransport):
    """The sandbox, with Twilio's lists answering as ``mode`` says once it is set: ``"404"``,
    ``"410"``, ``"403"``, ``"301"`` (to a notice page), ``"refused"`` (no connection) or
    ``"empty"`` (200 with empty lists)."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.mode: str | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        key = {"/v1/Recordings": "recordings", "/v1/Compositions": "compositions"}.get(path)
        mode = self.mode
        if key is None or mode is None:
            return await self.inner.handle_async_request(request)
        if mode == "refused":
            raise httpx.ConnectError("[Errno 111] Connection refused", request=request)
        if mode == "301":
            return httpx.Response(301, headers={"Location": "https://www.twilio.com/docs/video"})
        if mode == "empty":
            url = str(request.url)
            meta = {"key": key, "url": url, "first_page_url": url, "next_page_url": None}
            return httpx.Response(200, json={key: [], "meta": meta | {"page": 0}})
        message = {"404": "The requested resource was not found", "410": "Gone"}.get(
            mode, "Forbidden: Programmable Video is no longer available for this account"
        )
        return httpx.Response(int(mode), json={"code": 20000 + int(mode), "message": message})


def moved_to(monkeypatch: pytest.MonkeyPatch, when: dt.datetime) -> None:
    monkeypatch.setattr("recanalytics.clock.now", lambda: when)


@pytest.fixture
def twilio() -> tuple[Sandbox, Retiring, dict[str, object]]:
    """A small Twilio sandbox behind a :class:`Retiring` transport, and options to load it."""
    box = Sandbox(seed=3, size=30, providers=["twilio"])
    transport = Retiring(box.transport)
    options = box.options("twilio") | {"transport": transport, "retry": FAST_RETRY}
    return box, transport, options


# --- errors ----------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["404", "410", "403", "301", "refused"])
def test_a_retired_providers_errors_say_it_retired_and_where_its_rows_are(
    monkeypatch: pytest.MonkeyPatch, twilio: tuple[Sandbox, Retiring, dict[str, object]], mode: str
) -> None:
    # After the date, a 410 read "twilio: Gone (410 ...)", a 403 was an AuthError suggesting
    # bad credentials, a redirect to Twilio's notice said "check base_url": none said that
    # Video had retired, nor where the rows saved before are.
    _, transport, options = twilio
    transport.mode = mode
    moved_to(monkeypatch, BEFORE)
    with pytest.raises(ra.ProviderError) as before:
        ra.load_twilio_recordings(since="2026-01-01", **options)
    assert "retired" not in str(before.value)
    moved_to(monkeypatch, AFTER)
    with pytest.raises(ra.ProviderError) as after:
        ra.load_twilio_recordings(since="2026-01-01", **options)
    said = str(after.value)
    assert SAID in said and "ra.read_archive(folder)" in said and "store" in said, said
    assert "not the credentials or base_url" in said
    assert type(after.value) is type(before.value)  # a 403 stays an AuthError
    if mode == "301":
        assert "check base_url" in str(before.value) and "check base_url" not in said
    assert said.count(SAID) == 1


@pytest.mark.usefixtures("no_env_credentials")
def test_load_of_the_configured_providers_after_the_retirement_says_how_to_leave_it_out(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # With TWILIO_* still set, the load cell of notebooks 02-05, ra.load(since=...), raised
    # IncompleteLoadError for good after the date, and nothing said how to go on: the docs'
    # recipe (the archive's rows in place of Twilio's) could not be reached.
    box = Sandbox(seed=3, size=20, providers=["twilio", "zoom"])
    transport = Retiring(box.transport)
    options = {"base_url": "http://sandbox.invalid", "transport": transport, "retry": FAST_RETRY}
    ra.archive_twilio(tmp_path / "twilio-archive", **box.options("twilio"))
    for provider in ("twilio", "zoom"):
        use_sandbox_credentials(monkeypatch, provider)
    moved_to(monkeypatch, AFTER)
    transport.mode = "410"
    with pytest.raises(ra.IncompleteLoadError) as failed:
        ra.load(since="2025-01-01", **options)
    said = str(failed.value)
    assert f"twilio ({SAID}): name the others to leave it out" in said
    assert "ra.load(providers=['zoom'], ...)" in said and "ra.read_archive(folder)" in said
    # What the message says works, as docs/store-media-archive.md shows it for the notebooks.
    df = ra.load(providers=["zoom"], since="2025-01-01", **options)
    archived, _ = ra.read_archive(tmp_path / "twilio-archive")
    df = pl.concat([df.filter(pl.col("provider") != "twilio"), archived])
    assert df.filter(pl.col("provider") == "twilio").height == archived.height > 0
    assert df.filter(pl.col("provider") == "zoom").height > 0
