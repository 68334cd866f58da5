"""A system clock off the providers' own: loads follow the provider's clock (its Date header),
a store distrusts what a clock ahead recorded, and a refused token says the clock may be wrong.

The client's clock is moved through its one seam, ``recanalytics.clock.now``; a provider's
through its emulator's ``clock`` (the Date header it sends). No test needs faketime.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import email.utils
import json
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import polars as pl
import pytest

import recanalytics as ra
from recanalytics.engine import Limits, Session
from recanalytics.providers.plivo import PlivoCredentials
from recanalytics.providers.zoom import ZoomJWTAuth
from recanalytics.sandbox import Sandbox
from tests.conftest import FAST_RETRY, UNPACED
from tests.faults import FaultTransport, Seen, Status
from tests.test_store import add_tracks

UTC = dt.UTC
DAY = dt.timedelta(days=1)


def real_now() -> dt.datetime:
    return dt.datetime.now(UTC)


def provider_ahead(provider: str, ahead: dt.timedelta, days: float = 20, **kw: Any) -> Sandbox:
    """A sandbox whose clock reads ``ahead`` later than ours, its recordings made over the
    ``days`` before its own now (up to two hours before: a call's recording may follow its
    call by up to an hour): our clock is behind the provider's."""
    server_now = real_now() + ahead
    box = Sandbox(
        seed=3,
        providers=[provider],
        start=server_now - dt.timedelta(days=days),
        end=server_now - dt.timedelta(hours=2),
        skew=0.05,  # crowded towards its now: the newest hours hold many
        **({"size": 3000} | kw),
    )
    box[provider].clock = lambda: time.time() + ahead.total_seconds()
    return box


def plivo_ids(box: Sandbox, since: dt.datetime) -> set[str]:
    return {r.recording_id for r in box["plivo"].recordings.records if r.add_time >= since}


@pytest.mark.parametrize("until", ["given", "open"])
@pytest.mark.parametrize("ahead", [dt.timedelta(hours=20), dt.timedelta(days=3)])
def test_plivo_asks_up_to_its_own_now_when_the_system_clock_is_behind(
    until: str, ahead: dt.timedelta
) -> None:
    # Windows stopped 15 hours past the system clock's now, even for an explicit until: with
    # that clock 20 hours behind, 219 of 1,199 rows were left out (1,104 three days behind),
    # without a word.
    box = provider_ahead("plivo", ahead)
    server_now = real_now() + ahead
    since = server_now - dt.timedelta(days=19)
    span = {"since": since} | ({"until": server_now} if until == "given" else {})
    with pytest.warns(ra.LoadWarning, match="behind the API's"):
        df = ra.load_plivo_recordings(**span, **box.options("plivo"), rate_limit=UNPACED)
    newest = df["created_at"].max()
    assert set(df["recording_id"]) == plivo_ids(box, since), newest
    assert isinstance(newest, dt.datetime) and newest > real_now() + ahead - dt.timedelta(hours=3)


def test_a_range_past_the_system_clocks_now_is_still_asked() -> None:
    # The system clock three days behind: a range from yesterday (the provider's) lay wholly
    # past its now plus 15 hours, and was not asked for at all: no request, no row, no word.
    ahead = dt.timedelta(days=3)
    box = provider_ahead("plivo", ahead, days=2)
    since = real_now() + ahead - DAY
    with pytest.warns(ra.LoadWarning, match="behind the API's"):
        df = ra.load_plivo_recordings(since=since, **box.options("plivo"), rate_limit=UNPACED)
    assert set(df["recording_id"]) == plivo_ids(box, since) and df.height > 10


@pytest.mark.parametrize("provider", ["plivo", "zoom"])
def test_a_range_months_past_the_system_clocks_now_is_said_not_asked(provider: str) -> None:
    box = Sandbox(seed=3, size=100, providers=[provider])
    load = {"plivo": ra.load_plivo_recordings, "zoom": ra.load_zoom_recordings}[provider]
    with pytest.warns(ra.LoadWarning, match="nothing was asked for"):
        df = load(since=real_now() + 60 * DAY, **box.options(provider))
    assert df.height == 0 and box.requests == 0


def test_the_system_clocks_now_in_the_plivo_range_costs_no_request_more() -> None:
    # A system clock right (the provider's Date agrees): the windows, and so the requests,
    # are those planned by it.
    box = Sandbox(seed=3, size=600, providers=["plivo"], start=real_now() - 40 * DAY,
                  end=real_now() - dt.timedelta(minutes=5))  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("error", ra.LoadWarning)
        df = ra.load_plivo_recordings(since=real_now() - 35 * DAY, **box.options("plivo"))
    firsts = [path for _, _, path in box.app.log if "offset=0" in path]
    assert len(firsts) == 2 and df.height > 0  # 35 days + 29 hours of margins: two windows


def test_a_provider_clock_years_ahead_moves_the_end_a_month_at_most() -> None:
    # A Date header years ahead (a broken server, or a system clock that far off) is not
    # followed window by window to its now: a month past the system clock's, then a warning.
    box = Sandbox(seed=3, size=300, providers=["plivo"])
    box["plivo"].clock = lambda: time.time() + 5 * 365 * 86400
    with pytest.warns(ra.LoadWarning, match="no recordings after"):
        ra.load_plivo_recordings(since=real_now() - 20 * DAY, **box.options("plivo"))
    firsts = [path for _, _, path in box.app.log if "offset=0" in path]
    assert 2 <= len(firsts) <= 4


def plivo_mock(handler: Callable[[httpx.Request], httpx.Response]) -> dict[str, Any]:
    return {
        "transport": httpx.MockTransport(handler),
        "credentials": PlivoCredentials(auth_id="MA" + "A" * 18, auth_token="t0ken-value"),
        "base_url": "https://plivo.example",
    }


def test_an_until_cut_with_no_date_header_to_check_the_clock_by_is_said() -> None:
    # Without a Date, a system clock behind the provider's cannot be heard: cutting an until
    # at that clock's now may leave recordings out, so it is never done silently.
    empty = {"api_id": "x", "meta": {"limit": 20, "next": None, "offset": 0, "total_count": 0},
             "objects": []}  # fmt: skip
    options = plivo_mock(lambda request: httpx.Response(200, json=empty))
    until = real_now() + 10 * DAY
    with pytest.warns(ra.LoadWarning, match="no Date header"):
        ra.load_plivo_recordings(since=real_now() - DAY, until=until, **options)


def zoom_listed(box: Sandbox, since: dt.datetime) -> set[str]:
    return {
        f.id
        for s in box["zoom"].sessions
        for f in s.files
        if f.id is not None and f.list_key != "participant_audio_files"
        and s.deleted is None and f.deleted is None and s.start >= since
    }  # fmt: skip


@pytest.mark.parametrize("until", ["given", "open"])
def test_zoom_asks_up_to_its_own_tomorrow_when_the_system_clock_is_behind(
    monkeypatch: pytest.MonkeyPatch, until: str
) -> None:
    # Zoom's windows stop at the system clock's tomorrow. That clock an hour behind, at 23:30
    # by it, 00:30 by Zoom's: a Zoom reading `to` as exclusive left out today's sessions.
    server_now = dt.datetime.combine(real_now().date(), dt.time(0, 30), UTC)
    box = Sandbox(seed=4, size=2000, providers=["zoom"], start=server_now - DAY,
                  end=server_now - dt.timedelta(minutes=1), skew=0.05,
                  emulator_options={"zoom": {"to_exclusive": True}})  # fmt: skip
    box["zoom"].clock = lambda: server_now.timestamp()
    monkeypatch.setattr("recanalytics.clock.now", lambda: server_now - dt.timedelta(hours=1))
    since = server_now - DAY
    span = {"since": since} | ({"until": server_now} if until == "given" else {})
    with pytest.warns(ra.LoadWarning, match="behind the API's"):
        df = ra.load_zoom_recordings(**span, **box.options("zoom"))
    today = df.filter(pl.col("created_at") >= server_now.replace(minute=0))
    assert set(df["recording_id"]) >= zoom_listed(box, since) and today.height > 0


def test_a_zoom_clock_minutes_ahead_is_followed_without_a_warning(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Two minutes apart across midnight, Zoom's tomorrow is a day past the system clock's:
    # asked for, but a difference under SKEW_NOTED (the round trip, the Date header's whole
    # seconds, a clock a little off) is not worth a warning on every such load.
    server_now = dt.datetime.combine(real_now().date(), dt.time(0, 1), UTC)
    box = Sandbox(seed=4, size=300, providers=["zoom"], start=server_now - DAY,
                  end=server_now - dt.timedelta(seconds=30), skew=0.05)  # fmt: skip
    box["zoom"].clock = lambda: server_now.timestamp()
    monkeypatch.setattr("recanalytics.clock.now", lambda: server_now - dt.timedelta(minutes=2))
    with warnings.catch_warnings():
        warnings.simplefilter("error", ra.LoadWarning)
        df = ra.load_zoom_recordings(since=server_now - DAY, **box.options("zoom"))
    assert set(df["recording_id"]) >= zoom_listed(box, server_now - DAY)


# --- Zoom's token --------------------------------------------------------------------------


def test_a_zoom_clock_an_hour_ahead_takes_the_token() -> None:
    # Tokens lived an hour from the system clock's now: a Zoom clock an hour ahead refused
    # every one as expired, and no load ran.
    box = Sandbox(seed=1, size=200, providers=["zoom"])
    box["zoom"].clock = lambda: time.time() + 3600
    df = ra.load_zoom_recordings(since="2026-09-01", until="2026-11-01", **box.options("zoom"))
    assert df.height > 0


def test_a_token_is_dated_back_a_little_and_stays_within_zoom_s_two_hours() -> None:
    from recanalytics.providers.zoom import JWT_BACKDATE, JWT_LIFETIME, JWT_MAX_LIFETIME

    at = 1_800_000_000.0
    auth = ZoomJWTAuth("key", "secret", clock=lambda: at)
    payload = json.loads(base64.urlsafe_b64decode(auth.token().split(".")[1] + "=="))
    assert payload["iat"] == at - JWT_BACKDATE and payload["exp"] == at + JWT_LIFETIME
    assert payload["exp"] - payload["iat"] <= JWT_MAX_LIFETIME


def test_a_refused_fresh_token_says_how_far_the_system_clock_is_off() -> None:
    # "zoom: Access token is expired." and nothing more, for a system clock 3 hours behind.
    box = Sandbox(seed=1, size=50, providers=["zoom"])
    box["zoom"].clock = lambda: time.time() + 3 * 3600
    with pytest.raises(ra.AuthError, match=r"system clock.*3 hours behind the API's") as info:
        ra.load_zoom_recordings(since="2026-10-01", **box.options("zoom"))
    assert info.value.status == 401


def test_a_refused_fresh_token_without_a_date_says_the_clock_may_be_wrong() -> None:
    answer = {"code": 124, "message": "Access token is expired."}
    options = {
        "transport": httpx.MockTransport(lambda request: httpx.Response(401, json=answer)),
        "credentials": ra.ZoomCredentials(api_key="k", api_secret="s3cret-value"),
        "base_url": "https://zoom.example",
    }
    with pytest.raises(ra.AuthError, match=r"signed by the system clock .*if that clock is wrong"):
        ra.load_zoom_recordings(since="2026-10-01", until="2026-10-02", **options)


def test_a_refused_fresh_token_says_when_the_system_clock_is_ahead() -> None:
    # A system clock ahead signs a token "not yet valid": as wrong a clock as one behind.
    early = email.utils.formatdate(time.time() - 3 * 3600, usegmt=True)
    answer = {"code": 124, "message": "Invalid access token."}
    options = {
        "transport": httpx.MockTransport(
            lambda request: httpx.Response(401, json=answer, headers={"Date": early})
        ),
        "credentials": ra.ZoomCredentials(api_key="k", api_secret="s3cret-value"),
        "base_url": "https://zoom.example",
    }
    with pytest.raises(ra.AuthError, match=r"system clock.*3 hours ahead of the API's"):
        ra.load_zoom_recordings(since="2026-10-01", until="2026-10-02", **options)


def test_a_refused_password_says_nothing_of_the_clock() -> None:
    # Basic auth carries no time: its 401 is the credentials', whatever the Date says.
    late = email.utils.formatdate(time.time() + 86400, usegmt=True)

    def refuse(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, json={"error": "not authorized"}, headers={"Date": late})

    with pytest.raises(ra.AuthError) as info:
        ra.load_plivo_recordings(since=real_now() - DAY, **plivo_mock(refuse))
    assert "clock" not in str(info.value)


def test_a_retry_after_date_is_counted_from_the_servers_date() -> None:
    # Retry-After as a date is the server's time: a server 20 hours ahead asking for a wait of
    # one second was read as 20 hours, over max_retry_after, and the load failed.
    later = time.time() + 20 * 3600
    answers = iter(
        [
            httpx.Response(
                429,
                json={"message": "slow down"},
                headers={
                    "Date": email.utils.formatdate(later, usegmt=True),
                    "Retry-After": email.utils.formatdate(later + 1, usegmt=True),
                },
            ),
            httpx.Response(200, json={"ok": True}),
        ]
    )
    transport = httpx.MockTransport(lambda request: next(answers))

    async def run() -> Any:
        limits = Limits(rate=1000.0, concurrency=1, period=1.0)
        async with Session("twilio", auth=None, limits=limits, retry=FAST_RETRY,
                           transport=transport) as session:  # fmt: skip
            return await session.get_json("https://video.twilio.com/v1/Recordings")

    started = time.monotonic()
    assert asyncio.run(run()) == {"ok": True}
    assert time.monotonic() - started < 10


def test_the_server_clock_keeps_the_largest_difference_read() -> None:
    # Each Date is read a round trip after the server set it (a cached answer's, much later):
    # a later, smaller reading does not move the provider's now back.
    from recanalytics.clock import ServerClock

    server = ServerClock()
    at = dt.datetime(2026, 12, 1, 4, tzinfo=UTC)
    server.saw("Tue, 01 Dec 2026 05:00:00 GMT", at)
    server.saw("Tue, 01 Dec 2026 04:00:00 GMT", at + dt.timedelta(minutes=30))  # a cached one
    server.saw(None, at)
    assert server.offset == dt.timedelta(hours=1)


# --- the store -------------------------------------------------------------------------------


def test_coverage_recorded_by_a_clock_ahead_hides_no_recording(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A refresh run while the clock read half a year ahead recorded coverage up to then; once
    # the clock was set right, every recording made before that date was taken as loaded:
    # refresh inserted none of them, and store= answered without them.
    now = real_now()
    box = Sandbox(seed=7, size=300, providers=["twilio"])
    since = now - 20 * DAY
    monkeypatch.setattr("recanalytics.clock.now", lambda: now + 180 * DAY)
    ra.Store(tmp_path / "r").refresh(["twilio"], since=since, **box.load_options())
    ra.load_twilio_recordings(since=since, store=ra.Store(tmp_path / "s"), **box.options("twilio"))
    monkeypatch.undo()
    sids = add_tracks(box, 3, now - dt.timedelta(hours=1))
    with pytest.warns(ra.LoadWarning, match="past the system clock's now"):
        report = ra.Store(tmp_path / "r").refresh(["twilio"], **box.load_options())
    assert report.inserted == 3
    with pytest.warns(ra.LoadWarning, match="past the system clock's now"):
        got = ra.load_twilio_recordings(
            since=since, store=ra.Store(tmp_path / "s"), **box.options("twilio")
        )
    assert set(sids) <= set(got["recording_id"])
    # The coverage is recorded again up to now: the next load has nothing to say.
    with warnings.catch_warnings():
        warnings.simplefilter("error", ra.LoadWarning)
        assert ra.Store(tmp_path / "r").refresh(["twilio"], **box.load_options()).inserted == 0


def test_a_checkpoint_written_by_a_clock_ahead_is_not_resumed(tmp_path: Path) -> None:
    # An interrupted first refresh, run with the clock a year ahead, had checkpointed chunks
    # as done that it loaded before their recordings existed; resumed, they were skipped.
    from recanalytics.incremental import _iso, checkpoint_name, quarter_chunks, source_of

    box = Sandbox(seed=7, size=300, providers=["twilio"])
    store = ra.Store(tmp_path)
    since = box.config.start
    ahead = real_now() + 365 * DAY
    key = source_of("twilio", box.credentials("twilio"), box.options("twilio")["base_url"]).key("*")
    # Every quarter up to the clock's now then, done but the last (being loaded when it was
    # interrupted): the quarters before the real now are the same chunks on resuming.
    done = [(_iso(a), _iso(b)) for a, b in quarter_chunks(since, ahead)[:-1]]
    checkpoint = {"start": _iso(since), "done": done, "accounts": [], "reading": 99}
    store.write_meta(checkpoint_name(key), checkpoint)
    with pytest.warns(ra.LoadWarning, match="past the system clock's now"):
        report = store.refresh(["twilio"], **box.load_options())
    fresh = ra.Store(tmp_path / "fresh").refresh(["twilio"], since=since, **box.load_options())
    assert report.inserted == fresh.inserted > 300  # the tracks and the compositions


@pytest.mark.parametrize("later", [dt.timedelta(0), 150 * DAY, 550 * DAY])
def test_a_refresh_costs_a_request_a_listing_however_long_the_account_was_quiet(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, later: dt.timedelta
) -> None:
    box = Sandbox(seed=6, size=400, providers=["twilio"])
    store = ra.Store(tmp_path)
    store.refresh(["twilio"], since=box.config.start, **box.load_options())
    at = real_now() + later
    monkeypatch.setattr("recanalytics.clock.now", lambda: at)
    for _ in range(2):
        box.app.reset_counts()
        assert store.refresh(["twilio"], **box.load_options()).inserted == 0
        assert box.requests == 2  # track recordings and compositions: one request each


@pytest.mark.parametrize("later", [dt.timedelta(0), 150 * DAY, 550 * DAY])
def test_a_store_top_up_costs_one_request_however_long_the_account_was_quiet(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, later: dt.timedelta
) -> None:
    # The stretch from the newest stored recording to now was cut by the calendar quarter: a
    # quiet account's top-up cost a request for each quarter since its last recording (1 in
    # December 2026, 3 in April 2027, 7 in 2028), though nothing was new.
    box = Sandbox(seed=6, size=400, providers=["twilio"])
    store = ra.Store(tmp_path)
    since = box.config.start
    ra.load_twilio_recordings(since=since, store=store, **box.options("twilio"))
    at = real_now() + later
    monkeypatch.setattr("recanalytics.clock.now", lambda: at)
    for _ in range(2):  # the second: after a top-up recorded coverage up to now
        box.app.reset_counts()
        again = ra.load_twilio_recordings(since=since, store=store, **box.options("twilio"))
        assert again.height == 400 and box.requests == 1


# --- words that depend on the date ---------------------------------------------------------


@pytest.mark.retirement
@pytest.mark.parametrize(
    ("day", "said"),
    [
        (dt.date(2026, 12, 4), "retires on 2026-12-05"),
        (dt.date(2026, 12, 5), "retired on 2026-12-05"),
    ],
)
def test_the_archive_command_says_the_retirement_in_the_right_tense(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], day: dt.date, said: str
) -> None:
    from recanalytics.cli import main

    moment = dt.datetime.combine(day, dt.time(12), UTC)
    monkeypatch.setattr("recanalytics.clock.now", lambda: moment)
    with pytest.raises(SystemExit):
        main(["--help"])
    assert f"Programmable Video {said}" in " ".join(capsys.readouterr().out.split())


# --- odd clocks (a review's findings) -------------------------------------------------------


class DateSaying(httpx.AsyncBaseTransport):
    """``inner``'s answers with their ``Date`` header replaced by ``date``."""

    def __init__(self, inner: httpx.AsyncBaseTransport, date: str) -> None:
        self.inner, self.date = inner, date

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        await response.aread()
        headers = [(k, v) for k, v in response.headers.items() if k.lower() != "date"]
        return httpx.Response(
            response.status_code, headers=[*headers, ("Date", self.date)], content=response.content
        )


@pytest.mark.parametrize(
    "date",
    [
        "Fri, 31 Dec 9999 23:59:59 -0100",  # past the last datetime once in UTC
        "Fri, 31 Dec 9999 23:59:59 GMT",  # the last datetime: our now plus it overflows
        "Mon, 01 Jan 0001 00:00:00 +0100",
    ],
)
@pytest.mark.parametrize("provider", ["twilio", "plivo", "zoom", "signalwire"])
def test_a_date_header_at_the_calendars_ends_is_no_crash(provider: str, date: str) -> None:
    # Every loader raised a raw OverflowError (not a named error, no partial) on such a Date.
    box = Sandbox(seed=3, size=100, providers=[provider])
    options = box.options(provider)
    plain = getattr(ra, f"load_{provider}_recordings")(since="2026-09-01", **options)
    options["transport"] = DateSaying(options["transport"], date)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ra.LoadWarning)  # a clock years ahead is said
        got = getattr(ra, f"load_{provider}_recordings")(since="2026-09-01", **options)
    assert got.equals(plain)


def test_coverage_a_few_seconds_past_now_is_no_clock_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Another machine's clock or an NTP step back by 3 s said "set the system clock right".
    box = Sandbox(seed=7, size=300, providers=["twilio"])
    store = ra.Store(tmp_path)
    store.refresh(["twilio"], since=box.config.start, **box.load_options())
    back = real_now() - dt.timedelta(seconds=3)
    monkeypatch.setattr("recanalytics.clock.now", lambda: back)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ra.LoadWarning)
        assert store.refresh(["twilio"], **box.load_options()).inserted == 0


def test_a_backfill_before_a_covered_quiet_period_is_checkpointed_by_the_quarter(
    tmp_path: Path,
) -> None:
    # A store covering a quiet recent stretch (no rows in it) took a backfill of the two years
    # before as one piece: a failure near its end stored nothing, and the retry asked it all.
    box = Sandbox(seed=5, providers=["plivo"], size=400, start="2025-01-01", end="2026-11-01")
    store = ra.Store(tmp_path)
    options = box.options("plivo")
    ra.load_plivo_recordings(since="2026-11-10", store=store, **options)

    def late(seen: Seen) -> bool:  # windows from August 2026 on
        return "2026-08" in str(seen.request.url)

    failing = FaultTransport(box.transport, Status(500), late)
    with pytest.raises(ra.ProviderError):
        ra.load_plivo_recordings(
            since="2025-01-01",
            until="2026-11-10",
            store=store,
            **options | {"transport": failing, "retry": ra.RetryPolicy(max_retries=0)},
        )
    assert store.read().height > 0  # the quarters before the failing one are stored


def test_the_providers_now_at_the_calendars_ends_is_no_crash() -> None:
    # A Date of the last second read a while before now() overflowed (a raw OverflowError
    # after every window of a slow load was read).
    from recanalytics.clock import LATEST, ServerClock

    server = ServerClock()
    server.saw("Fri, 31 Dec 9999 23:59:59 GMT", real_now() - dt.timedelta(seconds=10))
    assert server.now() == LATEST
