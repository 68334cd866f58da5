"""load() across providers: concurrency, per-provider status, failures and missing credentials."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter

import httpx
import polars as pl
import pytest

import recanalytics as ra
from recanalytics.providers.registry import LOADERS, SPECS
from recanalytics.providers.twilio import TwilioCredentials
from recanalytics.sandbox import Sandbox
from recanalytics.sandbox.twilio import API_KEY, CREDENTIALS
from tests.conftest import UNPACED

pytestmark = pytest.mark.usefixtures("no_env_credentials")


@pytest.fixture(scope="module")
def box() -> Sandbox:
    return Sandbox(seed=12, size=400)


def test_every_endpoint_in_one_frame(box: Sandbox) -> None:
    result = ra.load_with_status(since=box.config.start, until=box.config.end, **box.load_options())
    assert result.ok and set(result.status) == set(ra.PROVIDERS)
    df = result.frame
    assert df.schema == ra.SCHEMA
    kinds = {(str(p), str(k)) for p, k in df.select("provider", "kind").unique().iter_rows()}
    registered = {(p, k) for p, loaders in LOADERS.items() for x in loaders for k in x.kinds}
    assert registered <= kinds
    assert df.height == sum(s.rows for s in result.status.values())
    assert df.select("provider", "recording_id").is_unique().all()
    assert result.status_frame().columns == ["provider", "state", "rows", "seconds", "error"]
    # Newest first, then by id, across providers (each provider's rows were stacked whole).
    newest_first = df.sort(
        ["created_at", "recording_id"], descending=[True, False], nulls_last=True
    )
    assert df.equals(newest_first)


def test_a_failing_provider_is_named_while_the_others_load(box: Sandbox) -> None:
    options = box.load_options()
    options["credentials"] = options["credentials"] | {
        "zoom": {"api_key": "k", "api_secret": "not-the-secret"}
    }
    with pytest.warns(ra.LoadWarning, match="zoom failed") as warned:
        result = ra.load_with_status(since="2026-01-01", until="2026-03-01", **options)
    # The provider named once, as IncompleteLoadError names it (it read "zoom failed: zoom: ").
    assert str(warned[0].message).startswith("zoom failed: Invalid access token.")
    assert result.status["zoom"].state == "failed" and "401" in result.status["zoom"].error
    assert isinstance(result.status["zoom"].exception, ra.AuthError)
    assert "not-the-secret" not in result.status["zoom"].error
    assert {s.state for n, s in result.status.items() if n != "zoom"} == {"ok"}
    assert "zoom" not in set(result.frame["provider"].cast(str))
    assert result.frame.height > 0 and not result.ok


def test_load_with_a_failing_provider_raises_with_every_row_loaded(box: Sandbox) -> None:
    # ra.load returned the other providers' rows as its result, with only a LoadWarning: a
    # partial frame as if it were whole (ra.load(["zoom"]) returned 0 rows).
    options = box.load_options()
    options["credentials"] = options["credentials"] | {
        "zoom": {"api_key": "k", "api_secret": "not-the-secret"}
    }
    span = {"since": "2026-01-01", "until": "2026-03-01"}
    whole = ra.load_with_status(**span, **options, warn=False)
    with pytest.raises(ra.IncompleteLoadError) as info:
        ra.load(**span, **options)
    error = info.value
    assert isinstance(error, ra.ProviderError) and error.provider == "zoom"
    assert "zoom failed" in str(error) and "not-the-secret" not in str(error)
    assert str(error).startswith("zoom failed: ") and str(error).count("zoom") == 1, str(error)
    assert error.partial.sort("recording_id").equals(whole.frame.sort("recording_id"))
    assert error.outcomes["zoom"].state == "failed" and error.outcomes["twilio"].state == "ok"
    with pytest.raises(ra.IncompleteLoadError) as only:
        ra.load(["zoom"], **span, **options)
    assert only.value.partial.is_empty()


def test_unconfigured_providers_are_skipped_quietly_unless_named(
    box: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    creds = box["plivo"].credentials
    monkeypatch.setenv("PLIVO_AUTH_ID", creds["auth_id"])
    monkeypatch.setenv("PLIVO_AUTH_TOKEN", creds["auth_token"])
    options = {"base_url": box.load_options()["base_url"], "transport": box.transport}
    result = ra.load_with_status(since="2026-01-01", until="2026-03-01", **options)
    assert result.status["plivo"].state == "ok" and result.status["plivo"].rows > 0
    assert {result.status[n].state for n in set(SPECS) - {"plivo"}} == {"skipped"}
    assert "TWILIO_ACCOUNT_SID" in result.status["twilio"].error
    with pytest.warns(ra.LoadWarning, match="twilio skipped"):
        df = ra.load(["plivo", "twilio"], since="2026-01-01", until="2026-03-01", **options)
    assert set(df["provider"].cast(str)) == {"plivo"}


def test_bad_input_fails_before_any_request(box: Sandbox) -> None:
    before = box.requests
    with pytest.raises(ra.ConfigError, match="providers"):
        ra.load(["twilio", "skype"], **box.load_options())
    with pytest.raises(ra.ConfigError, match="since"):
        ra.load(since="last tuesday", **box.load_options())
    assert box.requests == before


def test_demo_covers_all_five_endpoints() -> None:
    df = ra.demo(size=200, rate_limit=UNPACED)  # the subject is coverage, not pacing
    assert set(df["provider"].cast(str)) == set(ra.PROVIDERS)
    assert {"track", "composition"} <= set(df.filter(df["provider"] == "twilio")["kind"].cast(str))


def test_one_providers_credentials_object_leaves_the_others_to_the_environment(
    box: Sandbox,
) -> None:
    options = {"base_url": box.load_options()["base_url"], "transport": box.transport}
    result = ra.load_with_status(
        since="2026-01-01", until="2026-03-01", credentials=box.credentials("twilio"), **options
    )
    assert result.status["twilio"].state == "ok"
    assert {result.status[n].state for n in set(SPECS) - {"twilio"}} == {"skipped"}


def test_load_warnings_point_at_the_callers_line() -> None:
    # A fixed stacklevel inside a coroutine pointed at asyncio/events.py (or into the package),
    # so Python's "show once per location" filter and the shown line meant nothing to a user.
    import warnings

    box = Sandbox(seed=5, size=40, providers=["plivo", "twilio"])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ra.load_plivo_recordings(**box.options("plivo"))  # no since: Plivo's 7-day warning
        asyncio.run(ra.aload_plivo_recordings(**box.options("plivo")))
        ra.load(providers=["twilio", "zoom"], **box.load_options())  # zoom skipped: warned
    assert len(caught) == 3, [str(w.message) for w in caught]
    assert {w.filename for w in caught} == {__file__}, [(w.filename, w.lineno) for w in caught]


class ClosingCounted(httpx.AsyncHTTPTransport):
    """A network transport that counts the times it is closed."""

    closed = 0

    async def aclose(self) -> None:
        self.closed += 1
        await super().aclose()


def test_a_callers_transport_stays_open_for_the_loads_still_using_it(box: Sandbox) -> None:
    # Each session closed its client, and the client the caller's transport: the first of the
    # loads sharing it to finish cut the others' connections (ReadError with max_retries=0).
    transport = ClosingCounted()
    slow = Sandbox(seed=12, size=400, latency=0.01)
    with slow.serve() as server:
        options = slow.load_options(base_url=server.url) | {
            "transport": transport,
            "retry": ra.RetryPolicy(max_retries=0),
            "rate_limit": UNPACED,
        }

        async def run() -> None:
            results = await asyncio.gather(
                ra.aload_with_status(since="2025-01-01", warn=False, **options),
                ra.aload_with_status(["plivo"], since="2025-06-01", warn=False, **options),
            )
            assert transport.closed == 0
            assert all(result.ok for result in results), [r.status for r in results]
            # Still the caller's to use, and to close.
            assert (await ra.aload(["twilio"], since="2026-01-01", **options)).height > 0
            await transport.aclose()

        asyncio.run(run())
    assert transport.closed == 1


# Loads of one account share its rate on the host they reach. The served sandbox allows 40
# requests a second; one load asks for 30, the other for 25: shared, they stay under 40; with a
# limiter each they send up to 55 a second and are answered 429. Before, each difference between
# these two loads gave it a limiter of its own: the limiter's key held the secret (an Auth Token
# and an API key of one account were two accounts), the rate asked for, and any transport
# passed (an httpx.AsyncHTTPTransport to the API's host was "a server of its own").
def test_loads_of_one_account_share_its_rate() -> None:
    box = Sandbox(seed=3, size=900, providers=["twilio"], rate_limits={"twilio": (40, 1.0)})
    key = TwilioCredentials(account_sid=CREDENTIALS["account_sid"], **API_KEY)
    transport = httpx.AsyncHTTPTransport()
    with box.serve() as server:
        first = {"credentials": TwilioCredentials(**CREDENTIALS), "rate_limit": 30.0}
        second = {"credentials": key, "rate_limit": 25.0, "transport": transport}

        async def both() -> list[pl.DataFrame]:
            frames = await asyncio.gather(
                ra.aload_twilio_recordings(page_size=30, base_url=server.url, **first),
                ra.aload_twilio_recordings(page_size=30, base_url=server.url, **second),
            )
            await transport.aclose()  # the caller's to close
            return frames

        frames = asyncio.run(both())
    assert [frame.height for frame in frames] == [900, 900]
    statuses = [status for _, status, _ in box.app.log]
    assert statuses.count(200) > 40 and statuses.count(429) == 0, Counter(statuses)


def test_a_network_transport_in_use_by_another_loop_is_refused_at_once() -> None:
    # Each sync call runs its own event loop, and httpcore's pool belongs to one: a second
    # thread's load waited the whole timeout (30 s) for it, then failed with a raw RuntimeError.
    box = Sandbox(seed=3, size=300, providers=["twilio"], latency=0.05)
    transport = httpx.AsyncHTTPTransport()
    outcomes: list[object] = []

    def load() -> None:
        try:
            outcomes.append(ra.load_twilio_recordings(page_size=20, **options).height)
        except Exception as error:  # the test's subject
            outcomes.append(error)

    with box.serve() as server:
        options = box.options("twilio", base_url=server.url) | {"transport": transport}
        threads = [threading.Thread(target=load) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=20)
        assert not any(thread.is_alive() for thread in threads)
        refused = [o for o in outcomes if isinstance(o, ra.ConfigError)]
        assert sorted(map(str, outcomes))[0] == "300" and len(refused) == 1, outcomes
        assert refused[0].parameter == "transport" and "one event loop" in str(refused[0])
        # One call after another: each loop closes the connections it opened as it ends.
        assert ra.load_twilio_recordings(**options).height == 300
        assert ra.load_twilio_recordings(**options).height == 300
