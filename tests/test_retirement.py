"""After a provider's service retires (Twilio Video on 2026-12-05): its errors say so, an empty
listing is doubted rather than taken as complete, and ``store=`` answers from the store.

The day is moved through the clock's one seam, ``recanalytics.clock.now``; Twilio's API is
made "retired" by a transport answering its list paths with a chosen failure (an external
audit found each of these after the date).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import warnings
from collections.abc import Callable
from pathlib import Path

import httpx
import polars as pl
import pytest

import recanalytics as ra
from recanalytics.errors import ArchiveWarning
from recanalytics.providers.twilio import RETIRES
from recanalytics.sandbox import Sandbox
from tests.conftest import FAST_RETRY
from tests.test_cli import use_sandbox_credentials

pytestmark = pytest.mark.retirement

AFTER = dt.datetime.combine(RETIRES + dt.timedelta(days=15), dt.time(), dt.UTC)
BEFORE = dt.datetime.combine(RETIRES - dt.timedelta(days=10), dt.time(), dt.UTC)
SAID = f"Programmable Video retired on {RETIRES}"
# Only Twilio's own API has retired (a sandbox or a proxy at another address has not): the
# sandbox is reached at Twilio's address.
TWILIO_API = "https://video.twilio.com"


class Retiring(httpx.AsyncBaseTransport):
    """The sandbox, with Twilio's lists answering as ``mode`` says once it is set: ``"404"``,
    ``"410"``, ``"403"``, ``"301"`` (to a notice page), ``"refused"`` (no connection) or
    ``"empty"`` (200 with empty lists); the first ``answered`` list requests after it is set
    are still answered as before."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.mode: str | None = None
        self.answered = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        key = {"/v1/Recordings": "recordings", "/v1/Compositions": "compositions"}.get(path)
        mode = self.mode
        if key is None or mode is None or self.answered > 0:
            if key is not None and mode is not None:
                self.answered -= 1
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


MOMENT = dt.datetime.combine(RETIRES, dt.time(), dt.UTC)
LISTS = ("/v1/Recordings", "/v1/Compositions")


class Crossing(Retiring):
    """A :class:`Retiring` transport whose API retires while a load runs: the package's clock
    reads 30 seconds before the moment until the first ``answered`` list requests are
    answered as before, and 30 seconds after it from the next list request on, which
    ``mode`` answers."""

    def __init__(
        self,
        inner: httpx.AsyncBaseTransport,
        monkeypatch: pytest.MonkeyPatch,
        mode: str,
        answered: int,
    ) -> None:
        super().__init__(inner)
        self.mode, self.answered = mode, answered
        self.now = MOMENT - dt.timedelta(seconds=30)
        monkeypatch.setattr("recanalytics.clock.now", lambda: self.now)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path in LISTS and self.mode is not None and self.answered <= 0:
            self.now = MOMENT + dt.timedelta(seconds=30)
        return await super().handle_async_request(request)


@pytest.fixture
def twilio() -> tuple[Sandbox, Retiring, dict[str, object]]:
    """A small Twilio sandbox behind a :class:`Retiring` transport, and options to load it."""
    box = Sandbox(seed=3, size=30, providers=["twilio"])
    transport = Retiring(box.transport)
    options = box.options("twilio") | {
        "transport": transport,
        "retry": FAST_RETRY,
        "base_url": TWILIO_API,
    }
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


@pytest.mark.parametrize("mode", ["404", "301"])
def test_a_load_started_before_the_retirement_and_failing_after_it_says_it_retired(
    monkeypatch: pytest.MonkeyPatch, twilio: tuple[Sandbox, Retiring, dict[str, object]], mode: str
) -> None:
    # Started at 23:59:30 on the eve and answered 404 after midnight, a load's error said
    # neither the retirement nor where the saved rows are (a redirect said "check base_url"):
    # its session had judged the retirement once, when it started.
    box, _, options = twilio
    crossing = Crossing(box.transport, monkeypatch, mode, answered=1)
    with pytest.raises(ra.ProviderError) as failed:
        ra.load_twilio_recordings(
            since="2026-01-01", page_size=5, **options | {"transport": crossing}
        )
    said = str(failed.value)
    assert SAID in said and said.count(SAID) == 1 and "ra.read_archive(folder)" in said, said
    assert "check base_url" not in said
    assert failed.value.partial is not None and failed.value.partial.height == 5


@pytest.mark.usefixtures("no_env_credentials")
def test_load_of_the_configured_providers_after_the_retirement_says_how_to_leave_it_out(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # With TWILIO_* still set, the load cell of notebooks 02-05, ra.load(since=...), raised
    # IncompleteLoadError for good after the date, and nothing said how to go on: the docs'
    # recipe (the archive's rows in place of Twilio's) could not be reached.
    box = Sandbox(seed=3, size=20, providers=["twilio", "zoom"])
    transport = Retiring(box.transport)
    base_url = {"twilio": TWILIO_API, "zoom": "http://sandbox.invalid"}
    options = {"base_url": base_url, "transport": transport, "retry": FAST_RETRY}
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


# --- empty listings --------------------------------------------------------------------------


def test_an_empty_listing_after_the_retirement_warns_and_before_it_does_not(
    monkeypatch: pytest.MonkeyPatch, twilio: tuple[Sandbox, Retiring, dict[str, object]]
) -> None:
    # After the date, 200 answers with empty lists gave 0 rows and no word: an API that no
    # longer lists anything read as an account without recordings.
    _, transport, options = twilio
    transport.mode = "empty"
    moved_to(monkeypatch, BEFORE)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert ra.load_twilio_recordings(since="2025-01-01", **options).height == 0
    moved_to(monkeypatch, AFTER)
    with pytest.warns(ra.LoadWarning, match=f"twilio tracks listing returned no.*{SAID}"):
        assert ra.load_twilio_recordings(since="2025-01-01", **options).height == 0


def test_a_store_records_no_period_as_loaded_from_a_retired_providers_empty_answer(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    twilio: tuple[Sandbox, Retiring, dict[str, object]],
) -> None:
    # A refresh after the date, answered empty, recorded 2025-01-01 to now as loaded: a later
    # store= load of that range answered 0 rows without asking, even once the API listed 9.
    box, transport, options = twilio
    moved_to(monkeypatch, AFTER)
    transport.mode = "empty"
    store = ra.Store(tmp_path / "store")
    load_options = box.load_options() | {"transport": transport, "base_url": TWILIO_API}
    said = f"twilio listed no recordings from 2025-01-01 to {AFTER:%Y-%m-%d}, and {SAID}"
    with pytest.warns(ra.LoadWarning, match=said) as warned:
        report = store.refresh(["twilio"], since="2025-01-01", **load_options)
    assert len(warned) == 1  # once for the refresh, not once per quarter and list
    assert report.errors == {} and store.read().height == 0
    assert not (tmp_path / "store" / "_meta" / "coverage.json").exists()
    with pytest.warns(ra.LoadWarning, match="the store records no period as loaded") as warned:
        empty = ra.load_twilio_recordings(
            since="2025-01-01", until="2026-06-01", store=store, **options
        )
    assert empty.height == 0 and len(warned) == 1
    assert not (tmp_path / "store" / "_meta" / "coverage.json").exists()
    transport.mode = None  # listing again (a passing fault, or an API kept up a while longer)
    direct = ra.load_twilio_recordings(since="2025-01-01", until="2026-06-01", **options)
    # Its quarters of 2025, empty, are still in doubt after the day (an API that lists nothing
    # answers just so): the period is not recorded from its first such quarter on, though
    # later quarters listed rows (each was recorded as loaded, empty ones included).
    with pytest.warns(ra.LoadWarning, match="the store records no period as loaded"):
        answer = ra.load_twilio_recordings(
            since="2025-01-01", until="2026-06-01", store=store, **options
        )
    assert answer.height == direct.height > 0
    assert not (tmp_path / "store" / "_meta" / "coverage.json").exists()
    # A period every quarter of which listed rows is recorded.
    direct = ra.load_twilio_recordings(since="2026-01-01", until="2026-04-01", **options)
    answer = ra.load_twilio_recordings(
        since="2026-01-01", until="2026-04-01", store=store, **options
    )
    assert answer.height == direct.height > 0
    coverage = json.loads((tmp_path / "store" / "_meta" / "coverage.json").read_text())
    assert len(coverage) == 1  # the load that listed rows, recorded


def cli_archive_through(
    monkeypatch: pytest.MonkeyPatch,
    out: Path,
    capsys: pytest.CaptureFixture[str],
    wrap: Callable[[httpx.AsyncBaseTransport], httpx.AsyncBaseTransport],
) -> str:
    """``recanalytics archive twilio --sandbox`` into ``out``, its sandbox reached at Twilio's
    address through ``wrap`` of its transport: asserts exit 1, returns what it printed."""
    from recanalytics.cli import main

    served = Sandbox.options

    def wrapped(self: Sandbox, provider: str, **kwargs: object) -> dict[str, object]:
        given = served(self, provider, **kwargs)
        inner = given["transport"]
        assert isinstance(inner, httpx.AsyncBaseTransport)
        return given | {"transport": wrap(inner), "base_url": TWILIO_API}

    monkeypatch.setattr(Sandbox, "options", wrapped)
    argv = ["archive", "twilio", "--out", str(out), "--sandbox", "--size", "20"]
    assert main([*argv, "--quiet"]) == 1
    return capsys.readouterr().err


def test_archiving_an_empty_listing_after_the_retirement_warns(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    twilio: tuple[Sandbox, Retiring, dict[str, object]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Into a new folder after the date, an empty listing made a 0-row archive of 2015 to now,
    # exit 0, not a word (only an earlier archive's kept rows were said).
    _, transport, options = twilio
    moved_to(monkeypatch, AFTER)
    transport.mode = "empty"
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        manifest = ra.archive_twilio(tmp_path / "a", **options)
    assert manifest["tracks"]["recordings"] == manifest["compositions"]["recordings"] == 0
    archive = [str(w.message) for w in said if w.category is ArchiveWarning]
    assert len(archive) == 1 and f"listed no recordings in this run, and {SAID}" in archive[0]
    # and each list's loader said its own empty listing
    assert sum("listing returned no recordings" in str(w.message) for w in said) == 2

    def retired(inner: httpx.AsyncBaseTransport) -> httpx.AsyncBaseTransport:
        dying = Retiring(inner)
        dying.mode = "empty"
        return dying

    err = cli_archive_through(monkeypatch, tmp_path / "b", capsys, retired)
    assert f"twilio listed no recordings in this run, and {SAID}" in err


def test_a_load_across_the_retirement_warns_of_the_query_answered_empty_after_it(
    monkeypatch: pytest.MonkeyPatch, twilio: tuple[Sandbox, Retiring, dict[str, object]]
) -> None:
    # A load running at midnight got empty pages from then on (an API that lists nothing any
    # more) and returned the rows listed before, 2,764 of 3,000, without a word: the empty
    # listing was doubted only for a load judged retired when it started, and empty whole.
    box, _, options = twilio
    crossing = Crossing(box.transport, monkeypatch, "empty", answered=2)
    said = (
        r"twilio: 1 query of the twilio tracks listing \(from 2026-01-01 00:00:00 on\) came "
        rf"back empty after {SAID}: .* the 10 rows returned may lack the recordings"
    )
    with pytest.warns(ra.LoadWarning, match=said) as warned:
        rows = ra.load_twilio_recordings(
            since="2026-01-01", page_size=5, **options | {"transport": crossing}
        )
    assert rows.height == 10 and len(warned) == 1


class OneForeignEmpty(httpx.AsyncBaseTransport):
    """The sandbox, whose second list request is answered once with another query's empty
    page (a cache mixing requests up): refused as not this query's, and asked again."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner, self.asked = inner, 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/Recordings":
            self.asked += 1
            if self.asked == 2:
                other = f"{TWILIO_API}/v1/Recordings?DateCreatedAfter=1999-01-01T00%3A00%3A00Z"
                meta = {"key": "recordings", "url": other, "first_page_url": other, "page": 0}
                meta |= {"next_page_url": None, "page_size": 5}
                return httpx.Response(200, json={"recordings": [], "meta": meta})
        return await self.inner.handle_async_request(request)


def test_an_empty_answer_refused_and_asked_again_leaves_no_doubt(
    monkeypatch: pytest.MonkeyPatch, twilio: tuple[Sandbox, Retiring, dict[str, object]]
) -> None:
    """After the date, an empty page refused as another query's and asked again (every row
    then arrived) left its query doubted: a complete load warned that it may lack rows, and a
    store recorded no period from that window on."""
    box, _, options = twilio
    moved_to(monkeypatch, AFTER)
    transport = OneForeignEmpty(box.transport)
    rows = ra.load_twilio_recordings(
        since="2026-01-01", page_size=5, **options | {"transport": transport}
    )
    whole = ra.load_twilio_recordings(since="2026-01-01", page_size=5, **box.options("twilio"))
    assert transport.asked > 2 and rows.height == whole.height > 0


def test_a_refresh_across_the_retirement_records_no_period_from_its_first_doubted_quarter(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    twilio: tuple[Sandbox, Retiring, dict[str, object]],
) -> None:
    # A refresh whose first quarter listed rows before midnight and whose later quarters came
    # back empty after it recorded 2026 up to now as loaded: store= then answered the 9 rows
    # of that quarter for the whole year, never asking again.
    box, _, _ = twilio
    crossing = Crossing(box.transport, monkeypatch, "empty", answered=2)  # Q1's two lists
    store = ra.Store(tmp_path / "store")
    options = box.load_options() | {"transport": crossing, "base_url": TWILIO_API}
    said = (
        r"twilio: \d+ queries of its listings \(2026-04-01 00:00:00 to 2026-07-01 00:00:00; "
        rf".*came back empty after {SAID}: .*the store records the period as loaded only up "
        "to 2026-04-01 00:00 UTC"
    )
    with pytest.warns(ra.LoadWarning, match=said) as warned:
        report = store.refresh(["twilio"], since="2026-01-01", **options)
    assert len(warned) == 1 and report.errors == {}
    tracks = store.read().filter(pl.col("kind") == "track")
    assert tracks.height == 9  # what the first quarter listed, stored
    coverage = json.loads((tmp_path / "store" / "_meta" / "coverage.json").read_text())
    assert [(c["since"], c["until"]) for c in coverage.values()] == [
        ("2026-01-01T00:00:00+00:00", "2026-04-01T00:00:00+00:00")
    ]


def test_an_archive_across_the_retirement_records_no_period_and_exits_1(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    twilio: tuple[Sandbox, Retiring, dict[str, object]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    # An archive run at midnight whose listing came back empty after it recorded its period
    # as read, with 2,697 of 3,000 tracks, no ArchiveWarning and exit 0.
    box, _, options = twilio
    crossing = Crossing(box.transport, monkeypatch, "empty", answered=1)
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        manifest = ra.archive_twilio(tmp_path / "a", **options | {"transport": crossing})
    listed = manifest["tracks"]["listed_now"] + manifest["compositions"]["listed_now"]
    assert listed > 0 and manifest["periods"] == []
    doubted = manifest["listing_doubted"]
    assert doubted["reason"] == SAID and len(doubted["queries"]) == 1
    archive = [str(w.message) for w in said if w.category is ArchiveWarning]
    assert len(archive) == 1 and f"came back empty after {SAID}" in archive[0]
    assert "records no period as read by this run" in archive[0]
    assert json.loads((tmp_path / "a" / "manifest.json").read_text())["listing_doubted"] == doubted

    def crossing(inner: httpx.AsyncBaseTransport) -> httpx.AsyncBaseTransport:
        return Crossing(inner, monkeypatch, "empty", answered=1)

    err = cli_archive_through(monkeypatch, tmp_path / "b", capsys, crossing)
    assert f"1 query of twilio's listing came back empty in this run, and {SAID}" in err


def test_an_empty_listing_after_the_retirement_adds_no_period_read(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    twilio: tuple[Sandbox, Retiring, dict[str, object]],
) -> None:
    # After the date, a run whose lists came back empty extended the manifest's periods to its
    # day, as if it had read them (the store records nothing then).
    _, transport, options = twilio
    moved_to(monkeypatch, BEFORE)
    first = ra.archive_twilio(tmp_path / "a", since="2025-01-01", **options)
    moved_to(monkeypatch, AFTER)
    transport.mode = "empty"
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        again = ra.archive_twilio(tmp_path / "a", since="2025-01-01", **options)
    assert any("listed no recordings in this run" in str(w.message) for w in said)
    assert (
        again["periods"]
        == first["periods"]
        == [["2025-01-01T00:00:00+00:00", f"{BEFORE:%Y-%m-%dT%H:%M:%S+00:00}"]]
    )
    assert again["period"]["until"] == AFTER.isoformat()  # what it asked for, said as such


# --- store= once the API is gone -------------------------------------------------------------


def stored_range(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    twilio: tuple[Sandbox, Retiring, dict[str, object]],
) -> tuple[ra.Store, pl.DataFrame]:
    """A store refreshed before the date, and the track rows it holds."""
    box, transport, _ = twilio
    moved_to(monkeypatch, BEFORE)
    store = ra.Store(tmp_path / "store")
    store.refresh(
        ["twilio"], **box.load_options() | {"transport": transport, "base_url": TWILIO_API}
    )
    tracks = store.read().filter(pl.col("kind") == "track")
    assert tracks.height > 0
    return store, tracks


@pytest.mark.parametrize("until", [None, "2026-11-01"])
def test_a_failed_store_load_carries_the_stored_rows_of_the_range_in_partial(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    twilio: tuple[Sandbox, Retiring, dict[str, object]],
    until: str | None,
) -> None:
    # Its message said "the store holds 30 rows of the range asked", its .partial held 0.
    store, tracks = stored_range(monkeypatch, tmp_path, twilio)
    _, transport, options = twilio
    transport.mode = "410"
    with pytest.raises(ra.ProviderError, match="the store holds 30 rows") as failed:
        ra.load_twilio_recordings(since="2025-01-01", until=until, store=store, **options)
    partial = failed.value.partial
    assert partial is not None and partial.height == tracks.height == 30
    assert set(partial["recording_id"]) == set(tracks["recording_id"])


def test_a_store_load_failing_part_way_carries_each_known_recording_once(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    twilio: tuple[Sandbox, Retiring, dict[str, object]],
) -> None:
    # The failed period's first page listed rows the store holds too: .partial has each once,
    # as that page read it, beside the stored rows the failure left unlisted.
    store, tracks = stored_range(monkeypatch, tmp_path, twilio)
    _, transport, options = twilio
    transport.mode, transport.answered = "410", 1
    with pytest.raises(ra.ProviderError, match="the store holds 30 rows") as failed:
        ra.load_twilio_recordings(since="2025-01-01", page_size=2, store=store, **options)
    partial = failed.value.partial
    assert partial is not None and partial.height == tracks.height
    assert partial["recording_id"].n_unique() == partial.height


@pytest.mark.parametrize("mode", ["410", "404", "refused"])
def test_after_the_retirement_store_answers_from_the_store_when_the_api_fails(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    twilio: tuple[Sandbox, Retiring, dict[str, object]],
    mode: str,
) -> None:
    # The docs promise store= "keeps answering from the store once the API is gone"; it did
    # only for ranges ending days before the newest stored row: since="2025-01-01" raised.
    store, tracks = stored_range(monkeypatch, tmp_path, twilio)
    _, transport, options = twilio
    transport.mode = mode
    moved_to(monkeypatch, AFTER)
    with pytest.warns(ra.LoadWarning) as said:
        answer = ra.load_twilio_recordings(since="2025-01-01", store=store, **options)
    assert answer.sort("recording_id").equals(tracks.sort("recording_id"))
    message = str(said[0].message)
    assert SAID in message and "store= answers with the 30 stored rows" in message
    failure = {"410": "(410 on", "404": "(404 on", "refused": "ConnectError"}[mode]
    assert failure in message and "reached up to" in message, message


def test_a_sandbox_or_proxy_at_another_address_has_not_retired(
    monkeypatch: pytest.MonkeyPatch, twilio: tuple[Sandbox, Retiring, dict[str, object]]
) -> None:
    # The retirement is Twilio's own API's: a sandbox, an emulator or a proxy at another
    # address answers as it answers, an empty listing included, whatever the date.
    _, transport, options = twilio
    moved_to(monkeypatch, AFTER)
    transport.mode = "empty"
    elsewhere = options | {"base_url": "http://sandbox.invalid"}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert ra.load_twilio_recordings(since="2025-01-01", **elsewhere).height == 0
    transport.mode = "404"
    with pytest.raises(ra.NotFoundError) as failed:
        ra.load_twilio_recordings(since="2025-01-01", **elsewhere)
    assert SAID not in str(failed.value)

    # Nor a test double at Twilio's own address: httpx.MockTransport answers itself.
    def empty(request: httpx.Request) -> httpx.Response:
        url = str(request.url)
        meta = {"key": "recordings", "url": url, "first_page_url": url, "next_page_url": None}
        return httpx.Response(200, json={"recordings": [], "meta": meta | {"page": 0}})

    mocked = options | {"transport": httpx.MockTransport(empty), "base_url": TWILIO_API}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert ra.load_twilio_recordings(since="2025-01-01", **mocked).height == 0


def test_after_the_retirement_store_answers_with_what_the_failed_request_listed_too(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    twilio: tuple[Sandbox, Retiring, dict[str, object]],
) -> None:
    # A dying API's last answer may be the only copy of its rows: store= answered only the
    # stored ones (none here), the 5 rows its first page listed gone without a word.
    _, transport, options = twilio
    moved_to(monkeypatch, AFTER)
    transport.mode, transport.answered = "410", 1  # the first page, then 410
    store = ra.Store(tmp_path / "store")
    with pytest.warns(ra.LoadWarning, match="and 5 the failed request listed") as said:
        answer = ra.load_twilio_recordings(since="2026-01-01", page_size=5, store=store, **options)
    assert answer.height == 5 and answer["recording_id"].n_unique() == 5
    assert "the 0 stored rows" in str(said[0].message)
    # Nothing stored and nothing listed: nothing to answer with, the failure stays an error.
    transport.mode, transport.answered = "410", 0
    empty = ra.Store(tmp_path / "empty")
    with pytest.raises(ra.ProviderError, match="Gone") as failed:
        ra.load_twilio_recordings(since="2026-01-01", page_size=5, store=empty, **options)
    assert failed.value.partial is not None and failed.value.partial.height == 0


class Slow(httpx.AsyncBaseTransport):
    """``handler`` answering after ``seconds``, as a server over a network does: the planner
    then has pages to time and idle workers to split a window for."""

    def __init__(self, handler: Callable[[httpx.Request], httpx.Response], seconds: float):
        self.handler, self.seconds = handler, seconds
        self.empty = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(self.seconds)
        response = self.handler(request)
        self.empty += not json.loads(response.content)["recordings"]
        return response


def test_a_dense_load_after_the_retirement_is_not_doubted_for_its_order_checks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Twilio's list order is not documented, so each split also reads ``[cut, end)`` again:
    rows its window's pages read. Where a page spans under a minute (a busy account), that
    check answers empty, and after the date every empty answer was doubted: a load of every
    row warned that it may lack some, and a store recorded no period as loaded."""
    from tests.test_audit_paging import TwilioServer, twilio_track

    moved_to(monkeypatch, AFTER)
    start = dt.datetime(2025, 3, 1, tzinfo=dt.UTC)
    records = [
        twilio_track(i, (start + dt.timedelta(seconds=i // 4)).strftime("%Y-%m-%dT%H:%M:%SZ"))
        for i in range(3000)
    ]
    server = TwilioServer(records, host=TWILIO_API)
    transport = Slow(server.handle, 0.02)
    options = server.options() | {"transport": transport, "rate_limit": 80.0}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        df = ra.load_twilio_recordings(since=start, until="2025-03-02", **options)
    assert df.height == 3000
    assert transport.empty > 0  # the checks answered empty: the case this test is about


def test_a_query_without_since_is_named_by_its_until_in_the_warning(
    monkeypatch: pytest.MonkeyPatch, twilio: tuple[Sandbox, Retiring, dict[str, object]]
) -> None:
    # The doubted query's window is said by the edge it has (base.shown_window): one open
    # below, asked up to until, is not "a query without dates".
    _, transport, options = twilio
    moved_to(monkeypatch, AFTER)
    transport.mode, transport.answered = "empty", 1  # its first page, then nothing
    said = (
        r"twilio: 1 query of the twilio tracks listing \(up to 2026-06-01 00:00:00\) came back "
        rf"empty after {SAID}: .* the 5 rows returned may lack"
    )
    with pytest.warns(ra.LoadWarning, match=said) as warned:
        rows = ra.load_twilio_recordings(until="2026-06-01", page_size=5, **options)
    assert rows.height == 5 and len(warned) == 1
