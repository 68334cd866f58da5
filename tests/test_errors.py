"""The errors survive pickling and copying whole (a process pool hands them to the parent), and
their messages stay readable whatever URL they quote."""

from __future__ import annotations

import concurrent.futures
import copy
import dataclasses
import inspect
import multiprocessing
import pickle
import threading
from collections.abc import Callable
from typing import Any

import httpx
import polars as pl
import pytest

import recanalytics as ra
from recanalytics import errors
from recanalytics.load import ProviderStatus
from recanalytics.sandbox import Sandbox

PARTIAL = pl.DataFrame({"recording_id": ["RT1", "RT2"], "size_bytes": [10, None]})

# A value for each constructor parameter, by (name, annotation): a class with a parameter not
# here fails below, asking for one.
SAMPLES: dict[tuple[str, str], Any] = {
    ("provider", "str"): "plivo",
    ("message", "str"): "the API answered page 2 twice",
    ("parameter", "str"): "since",
    ("expected", "str"): "an ISO date",
    ("value", "Any"): "last tuesday",
    ("hint", "str"): "pass since='2026-01-01'",
    ("status", "int | None"): 503,
    ("url", "str"): "https://api.plivo.com/v1/Account/MA1/Recording/?offset=20",
    ("code", "Any"): 20503,
    ("expected", "int | None"): 60,
    ("loaded", "int | None"): 40,
    ("failed", "list[str]"): ["plivo", "zoom"],
    ("outcomes", "dict[str, Any]"): {
        "zoom": ProviderStatus(
            "zoom", "failed", 2, 0.5, "zoom: denied", PARTIAL, ra.AuthError("zoom", "denied")
        ),
        "twilio": ProviderStatus("twilio", "ok", 7, 0.25),
    },
    ("path", "Any"): "/data/store/provider=twilio/part-0.parquet",
    ("partial", "Any"): PARTIAL,
}


def error_classes() -> list[type[errors.RecanalyticsError]]:
    """Every error class of the package (the provider modules' too), found, not listed."""
    found, todo = [], [errors.RecanalyticsError]
    while todo:
        cls = todo.pop()
        if cls.__module__.startswith("recanalytics."):
            found.append(cls)
        todo += cls.__subclasses__()
    return sorted(set(found), key=lambda cls: (cls.__module__, cls.__qualname__))


def made(cls: type[errors.RecanalyticsError]) -> errors.RecanalyticsError:
    """An instance with every constructor argument given, and rows and a note added."""
    args: list[Any] = []
    kwargs: dict[str, Any] = {}
    try:
        params = list(inspect.signature(cls).parameters.values())
    except ValueError:  # Exception's own __init__: a message
        params = []
        args.append("something failed")
    for param in params:
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        key = (param.name, str(param.annotation))
        assert key in SAMPLES, f"add a sample for {cls.__name__}'s parameter {key} to SAMPLES"
        if param.kind is param.KEYWORD_ONLY:
            kwargs[param.name] = SAMPLES[key]
        else:
            args.append(SAMPLES[key])
    error = cls(*args, **kwargs)
    if "partial" not in vars(error):
        error.partial = PARTIAL  # type: ignore[attr-defined]
    error.add_note("loaded in a worker")
    return error


def same(a: Any, b: Any) -> bool:
    """Equal, frames by their values, errors and dataclasses by their attributes."""
    if isinstance(a, pl.DataFrame):
        return isinstance(b, pl.DataFrame) and a.equals(b)
    if isinstance(a, BaseException):
        return type(a) is type(b) and a.args == b.args and same(vars(a), vars(b))
    if dataclasses.is_dataclass(a) and not isinstance(a, type):
        return type(a) is type(b) and same(vars(a), vars(b))
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple):
        return type(a) is type(b) and len(a) == len(b) and all(map(same, a, b))
    return bool(a == b)


COPIES: dict[str, Callable[[Any], Any]] = {
    "pickle": lambda value: pickle.loads(pickle.dumps(value)),
    "copy": copy.copy,
    "deepcopy": copy.deepcopy,
}


@pytest.mark.parametrize("how", COPIES)
@pytest.mark.parametrize("cls", error_classes(), ids=lambda cls: cls.__name__)
def test_every_error_class_pickles_and_copies_whole(
    cls: type[errors.RecanalyticsError], how: str
) -> None:
    error = made(cls)
    again = COPIES[how](error)
    assert type(again) is cls and str(again) == str(error) and repr(again) == repr(error)
    assert same(again, error), (vars(error), vars(again))
    assert again.__notes__ == ["loaded in a worker"]
    if how != "copy":
        assert again.partial is not error.partial  # type: ignore[attr-defined]


def test_the_classes_are_found_including_the_provider_modules() -> None:
    names = {cls.__name__ for cls in error_classes()}
    assert {"ConfigError", "UnknownOptionError", "IncompleteLoadError", "RangeNarrowed"} <= names
    assert len(names) >= 14


def test_an_amended_message_survives_pickling() -> None:
    """A store= load rewrites a raised error's message in args: a rebuild from the
    constructor's arguments would have lost what it added."""
    error = ra.PaginationError("twilio", "page cap reached", url="https://x/y", loaded=5)
    error.args = (f"{error}; the store holds 12 rows of the range asked",)
    again = pickle.loads(pickle.dumps(error))
    assert str(again) == str(error) and again.loaded == 5 and again.url == "https://x/y"


def capped_load(seed: int) -> pl.DataFrame:
    """A sandbox load the page cap stops: raises a PaginationError with 5 rows loaded."""
    box = Sandbox(seed=seed, size=30)
    return ra.load_twilio_recordings(page_size=5, max_pages=1, **box.options("twilio"))


def test_a_load_failing_in_a_spawned_worker_reaches_the_parent_with_its_rows() -> None:
    """It broke the pool instead (BrokenProcessPool: the worker's error did not unpickle)."""
    with pytest.raises(ra.PaginationError) as here:
        capped_load(3)
    pool = concurrent.futures.ProcessPoolExecutor(
        1, mp_context=multiprocessing.get_context("spawn")
    )
    try:
        future = pool.submit(capped_load, 3)
        with pytest.raises(ra.PaginationError) as there:
            future.result(timeout=120)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    assert str(there.value) == str(here.value) and there.value.partial.height == 5
    assert there.value.partial.equals(here.value.partial)
    assert there.value.provider == "twilio" and there.value.url == here.value.url


def test_a_load_result_holding_a_failure_pickles() -> None:
    box = Sandbox(seed=3, size=10)
    options = box.load_options()
    options["credentials"] = options["credentials"] | {"zoom": {"api_key": "k", "api_secret": "x"}}
    with pytest.warns(ra.LoadWarning, match="zoom failed"):
        result = ra.load_with_status(since="2026-01-01", until="2026-03-01", **options)
    again = pickle.loads(pickle.dumps(result))
    assert same(again, result) and again.frame.height > 0
    assert again == result == copy.deepcopy(result)  # it raised: "truth value of a DataFrame"
    assert again != dataclasses.replace(result, frame=result.frame.head(1))
    assert isinstance(again.status["zoom"].exception, ra.AuthError)
    with pytest.raises(ra.IncompleteLoadError) as caught:
        ra.load(since="2026-01-01", until="2026-03-01", **options)
    again_error = copy.deepcopy(caught.value)
    assert same(again_error, caught.value) and again_error.outcomes["zoom"].state == "failed"


def twilio_page(request: httpx.Request, token: str) -> httpx.Response:
    """A first page linking on with a page token ``token``, then a 404 for that page."""
    if "PageToken" in str(request.url):
        return httpx.Response(404, json={"code": 20404, "message": "gone", "status": 404})
    record = {
        "sid": "RT" + "1" * 32,
        "account_sid": "AC" + "a" * 32,
        "status": "completed",
        "date_created": "2026-01-01T00:00:01Z",
        "type": "audio",
        "duration": 3,
    }
    link = f"https://video.twilio.com/v1/Recordings?PageSize=2&Page=1&PageToken=PA{token}"
    meta = {"next_page_url": link, "page": 0, "page_size": 2, "key": "recordings"}
    return httpx.Response(200, json={"recordings": [record], "meta": meta})


def test_a_huge_url_is_shortened_in_the_message_and_kept_whole_in_url() -> None:
    """A 60,000-character page token made a 60,000-character message, repr and traceback."""
    token = "z" * 60_000
    with pytest.raises(ra.NotFoundError) as caught:
        ra.load_twilio_recordings(
            page_size=2,
            credentials={"account_sid": "AC" + "a" * 32, "auth_token": "tok"},
            transport=httpx.MockTransport(lambda request: twilio_page(request, token)),
            base_url="https://video.twilio.com",
            since="2026-01-01",
            until="2026-01-02",
        )
    error = caught.value
    assert len(str(error)) < 500 and len(repr(error)) < 520
    assert str(error).startswith("twilio: gone (404 on https://video.twilio.com/v1/Recordings?")
    assert str(error).endswith("z" * 40 + ")") and "characters left out" in str(error)
    assert error.url.endswith("PageToken=PA" + token) and error.partial.height == 1


def test_a_short_url_is_shown_whole() -> None:
    url = "https://api.zoom.us/v2/videosdk/sessions?from=2026-01-01&page_size=300"
    assert str(ra.AuthError("zoom", "Invalid access token.", status=401, url=url)) == (
        f"zoom: Invalid access token. (401 on {url})"
    )
    assert str(ra.RateLimitError("zoom", "slow down", status=429)) == "zoom: slow down (429)"


def test_a_config_error_about_a_value_that_does_not_pickle_still_pickles() -> None:
    # A rejected lock, generator or lambda made the ConfigError itself unpicklable: a process
    # pool got "cannot pickle '_thread.lock' object" instead of the error.
    for value in (threading.Lock(), (i for i in ()), lambda: None):
        with pytest.raises(ra.ConfigError) as raised:
            ra.load_twilio_recordings(since=value)  # type: ignore[arg-type]
        again = pickle.loads(pickle.dumps(raised.value))
        assert str(again) == str(raised.value) and again.parameter == "since"
        assert isinstance(again.value, str) and again.value.startswith("<")


def test_a_url_of_exactly_the_shown_length_is_shown_whole() -> None:
    url = "https://video.twilio.com/v1/Recordings?PageToken="
    url += "z" * (errors.MAX_URL - len(url))
    assert str(ra.NotFoundError("twilio", "gone", status=404, url=url)).endswith(f"on {url})")
