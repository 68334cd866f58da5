"""Numbers and dates an outside audit's fake servers sent: exponents that would take hours to
turn into integers, totals and times past any range, epoch milliseconds where a date belongs,
integers longer than Python reads, fractions in whole-number fields. Each load keeps every row,
makes the value null with a LoadWarning (or reads it exactly), and never hangs.

A value that hung the old code is tried in a child process with a timeout, so a regression
fails here instead of stalling the run.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import re
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import httpx
import polars as pl
import pytest
from polars.testing import assert_frame_equal
from provider_cases import CREDENTIALS

import recanalytics as ra
from recanalytics import parsers
from recanalytics.fields import F, RecordSpec
from recanalytics.parsers import Invalid
from recanalytics.typedpage import TypedPage
from tests.test_hostile_values import ENDPOINTS, body_bytes, load

TESTS = Path(__file__).parent
UTC = dt.UTC


def run_child(script: str, timeout: float = 120) -> None:
    """Run ``script`` with the tests' imports; fail if it fails or runs past ``timeout``."""
    head = f"import sys; sys.path[:0] = [{str(TESTS)!r}, {str(TESTS.parent)!r}]\n"
    try:
        done = subprocess.run(
            [sys.executable, "-c", head + script],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"still running after {timeout} s (a value that takes hours to convert)")
    assert done.returncode == 0 and "done" in done.stdout, done.stderr[-3000:]


EXPONENTS = ['"1e999999999"', '"1e1000000"', '"-1e999999999"', '"1E+999999999"']


def test_an_exponent_in_an_integer_parser_is_unreadable_at_once() -> None:
    script = (
        "import time\n"
        "from recanalytics import parsers\n"
        "from recanalytics.providers import plivo\n"
        "for text in ('1e999999999', '1e1000000', '-1e999999999', '1E+999999999'):\n"
        "    for parse in (parsers.as_int, parsers.as_count, parsers.as_seconds,\n"
        "                  parsers.as_epoch_ms_time, parsers.as_fractional_seconds,\n"
        "                  plivo.epoch_ms_time):\n"
        "        start = time.monotonic()\n"
        "        try:\n"
        "            parse(text)\n"
        "        except parsers.Invalid:\n"
        "            pass\n"
        "        else:\n"
        "            raise AssertionError((parse, text))\n"
        "        assert time.monotonic() - start < 1, (parse, text)\n"
        "print('done')\n"
    )
    run_child(script, timeout=60)


def test_an_exponent_in_every_integer_field_is_null_and_warned() -> None:
    # Through the real loaders: the hostile-values table's integer and seconds targets.
    script = (
        "import test_hostile_values as t\n"
        f"for raw in {EXPONENTS!r}:\n"
        "    case = t.Case(('seconds', 'int', 'int8'), raw.encode())\n"
        "    for name, endpoint in t.ENDPOINTS.items():\n"
        "        for target in ('seconds', 'int', 'int8'):\n"
        "            if target in endpoint.targets:\n"
        "                t.test_a_hostile_value_is_null_counted_and_kept(name, case, target)\n"
        "print('done')\n"
    )
    run_child(script)


def test_an_exponent_or_a_huge_integer_in_any_field_keeps_every_row() -> None:
    big = "9" * 5000
    script = (
        "import test_every_field_hostile as t\n"
        "from provider_cases import registered_loaders\n"
        f"t.ABSURD[:] = [b'\"1e999999999\"', b'\"1e1000000\"', b'1e999999999', b'{big}']\n"
        "for loader in registered_loaders():\n"
        "    for path in t.json_paths(loader):\n"
        "        t.test_an_absurd_value_in_any_field_keeps_every_row(loader, path)\n"
        "print('done')\n"
    )
    run_child(script)


def failing(exc: type[Exception]) -> Any:
    def parse(value: Any) -> Any:
        raise exc

    return parse


@pytest.mark.parametrize(
    "exc", [decimal.Overflow, decimal.InvalidOperation, ZeroDivisionError, ArithmeticError]
)
def test_a_parser_raising_any_arithmetic_error_gives_null_on_both_paths(
    exc: type[Exception],
) -> None:
    spec = RecordSpec([F("sid"), F("n", pl.Int64, failing(exc))])
    frame = spec.frame([{"sid": "a", "n": 1}])
    assert frame["n"].to_list() == [None] and spec.issues["n"] == 1
    typed = TypedPage(spec.fields, spec.schema)
    fast = typed.frame([["a"], [1]], spec.issues)
    assert fast["n"].to_list() == [None] and spec.issues["n"] == 2


def test_plivo_times_past_decimal_range_are_null_and_warned() -> None:
    endpoint = ENDPOINTS["plivo_recordings"]
    for path in ("recording_start_ms", "recording_end_ms"):
        content = body_bytes(endpoint, path, b'"1e1000000"')
        df, messages = load(endpoint, content)
        assert df.height == 3 and df["started_at"][0] is not None
        assert any(f"{path}: 1" in m for m in messages), messages


@pytest.mark.parametrize("sent", ["1", "1e3", 1, "946684799999"])
def test_a_plivo_time_before_2000_is_null_and_warned(sent: Any) -> None:
    endpoint = ENDPOINTS["plivo_recordings"]
    content = body_bytes(endpoint, "recording_start_ms", json.dumps(sent).encode())
    df, messages = load(endpoint, content)
    assert df.height == 3 and df["started_at"][1] is None and df["started_at"][0] is not None
    assert any("recording_start_ms: 1" in m for m in messages), messages


def plivo_pages(total: Any) -> httpx.MockTransport:
    """Offset paging over 45 records, every page reporting ``total``."""
    ids = [f"r{i:02}" for i in range(45)]
    auth = CREDENTIALS["plivo"].auth_id  # type: ignore[attr-defined]

    def handler(request: httpx.Request) -> httpx.Response:
        offset = int(request.url.params.get("offset", "0"))
        limit = int(request.url.params["limit"])
        page = ids[offset : offset + limit]
        more = offset + limit < len(ids)
        link = f"/v1/Account/{auth}/Recording/?limit={limit}&offset={offset + limit}"
        meta = {
            "limit": limit,
            "offset": offset,
            "total_count": total,
            "next": link if more else None,
        }
        body = {"meta": meta, "objects": [{"recording_id": i} for i in page]}
        return httpx.Response(200, content=json.dumps(body).encode())

    return httpx.MockTransport(handler)


@pytest.mark.parametrize(
    "total", [10**30, 1e300, "1" + "0" * 30, 2**63], ids=["10**30", "1e300", "text", "2**63"]
)
def test_a_plivo_total_past_belief_is_ignored(total: Any) -> None:
    options = {
        "since": "2026-01-01",
        "until": "2026-01-02",
        "credentials": CREDENTIALS["plivo"],
        "base_url": "https://api.plivo.example",
    }
    df = ra.load_plivo_recordings(transport=plivo_pages(total), **options)
    assert df["recording_id"].n_unique() == 45
    result = ra.load_with_status(["plivo"], transport=plivo_pages(total), **options)
    assert result.frame.height == 45 and result.status["plivo"].state == "ok", result.status


@pytest.mark.parametrize("sent", ["1734081441409", "1734081441409Z", "173408144140"])
def test_epoch_milliseconds_in_an_iso_field_are_no_date(sent: str) -> None:
    with pytest.raises(Invalid):
        parsers.as_iso_time(sent)
    endpoint = ENDPOINTS["twilio_recordings"]
    content = body_bytes(endpoint, "date_created", json.dumps(sent).encode())
    df, messages = load(endpoint, content, raw=True)
    assert df.height == 3 and df["date_created"].null_count() == 1
    assert any("date_created: 1" in m for m in messages), messages


def test_a_compact_date_is_still_a_date() -> None:
    assert parsers.as_iso_time("20240101") == dt.datetime(2024, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    "sent",
    [
        "2024-12-13T09:17:21.123456789Z",
        "2024-12-13t09:17:21.123456789z",
        "2024-12-13t09:17:21.123456789Z",
        "2024-12-13T09:17:21.123456789z",
    ],
)
def test_nanoseconds_with_lower_case_letters_read_as_upper_case(sent: str) -> None:
    assert parsers.as_iso_time(sent) == dt.datetime(2024, 12, 13, 9, 17, 21, 123456, tzinfo=UTC)


@pytest.mark.parametrize(
    ("uri", "url"),
    [
        ("/api/x/Recordings/RE1.json?sig=abc", "https://example.signalwire.com/api/x/Recordings/RE1.wav"),
        ("/api/x/Recordings/RE1.json#part", "https://example.signalwire.com/api/x/Recordings/RE1.wav"),
        ("/api/x/Recordings/RE1.json", "https://example.signalwire.com/api/x/Recordings/RE1.wav"),
    ],
)  # fmt: skip
def test_a_signalwire_uri_with_a_query_gives_a_clean_media_url(uri: str, url: str) -> None:
    endpoint = ENDPOINTS["signalwire_recordings"]
    content = body_bytes(endpoint, "uri", json.dumps(uri).encode())
    df, _ = load(endpoint, content)
    assert df["media_url"][1] == url


def test_an_integer_longer_than_python_reads_keeps_the_page() -> None:
    endpoint = ENDPOINTS["twilio_recordings"]
    big = b"9" * 5000
    content = body_bytes(endpoint, "brand_new_key", big)
    df, messages = load(endpoint, content, raw=True)
    assert df.height == 3 and json.loads(df["extra"][1])["brand_new_key"] == big.decode()
    assert any("more digits than Python reads" in m for m in messages), messages
    content = body_bytes(endpoint, "size", big)
    df, messages = load(endpoint, content)
    assert df.height == 3 and df["size_bytes"][1] is None and df["size_bytes"][0] is not None
    assert any("size: 1" in m for m in messages), messages


@pytest.mark.parametrize(
    ("name", "sent", "duration"),
    [
        ("twilio_recordings", b"2.5", dt.timedelta(milliseconds=2500)),
        ("twilio_compositions", b"3.25", dt.timedelta(milliseconds=3250)),
        ("signalwire_recordings", b'"4.5"', dt.timedelta(milliseconds=4500)),
        ("signalwire_recordings", b"4.5", dt.timedelta(milliseconds=4500)),
        ("twilio_recordings", b"0.0004", dt.timedelta(0)),
    ],
)
def test_a_fractional_duration_keeps_its_milliseconds(
    name: str, sent: bytes, duration: dt.timedelta
) -> None:
    endpoint = ENDPOINTS[name]
    content = body_bytes(endpoint, "duration", sent)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        df = endpoint.load(
            transport=httpx.MockTransport(lambda r: httpx.Response(200, content=content)),
            **endpoint.options,
        )
    assert df["duration"][1] == duration


@pytest.mark.parametrize(
    ("name", "path", "column"),
    [
        ("twilio_recordings", "size", "size_bytes"),
        ("twilio_compositions", "size", "size_bytes"),
        ("signalwire_recordings", "channels", "channels"),
        ("zoom_recordings", "recording_files.0.file_size", "size_bytes"),
    ],
)
def test_a_fractional_size_or_count_is_null_and_warned(name: str, path: str, column: str) -> None:
    endpoint = ENDPOINTS[name]
    content = body_bytes(endpoint, path, b"12.5")
    df, messages = load(endpoint, content)
    assert df.height == 3 and df[column][1] is None and df[column][0] is not None
    assert any("could not be read" in m for m in messages), messages


SECONDS_TEXTS = ["4.5", "60", "0.001", "007.50", "4.", ".5", " 4", "-1", "1e3", "1e999999999", "x"]


def test_seconds_sent_as_text_read_alike_on_both_paths() -> None:
    spec = RecordSpec([F("d", pl.Float64, parsers.as_fractional_seconds)])
    from collections import Counter

    issues: Counter[str] = Counter()
    fast = TypedPage(spec.fields, spec.schema).frame([SECONDS_TEXTS], issues)
    slow = spec.frame([{"d": value} for value in SECONDS_TEXTS])
    assert_frame_equal(fast, slow)
    assert fast["d"][:4].to_list() == [4.5, 60.0, 0.001, 7.5]
    assert issues["d"] == spec.issues["d"] == 3  # -1, 1e999999999 and x


@pytest.mark.parametrize(
    ("column", "values", "problem"),
    [
        ("size_bytes", pl.Series([8606866.7]), "a fraction"),
        ("channels", pl.Series([2.9]), "a fraction"),
        ("size_bytes", pl.Series([float("nan")]), "NaN or infinity"),
        ("channels", pl.Series([300], dtype=pl.Int16), "past Int8's range"),
        ("size_bytes", pl.Series([2**63 + 5], dtype=pl.UInt64), "past Int64's range"),
        # Negative: every reader takes it as unknown (null); stored, it would read as a fact.
        ("size_bytes", pl.Series([-5]), "no negative value"),
        ("duration", pl.Series([-3000], dtype=pl.Int64).cast(pl.Duration("ms")), "no negative"),
        ("cost", pl.Series([-0.5]), "no negative value"),
        ("channels", pl.Series([-1], dtype=pl.Int8), "no negative value"),
    ],
    ids=[
        "fractional-size",
        "fractional-channels",
        "nan-size",
        "300-channels",
        "uint64-size",
        "negative-size",
        "negative-duration",
        "negative-cost",
        "negative-channels",
    ],
)
def test_the_store_refuses_a_number_it_would_store_changed(
    tmp_path: Path, column: str, values: pl.Series, problem: str
) -> None:
    frame = pl.DataFrame({"provider": ["twilio"], "kind": ["track"], "recording_id": ["RT1"]})
    store = ra.Store(tmp_path)
    with pytest.raises(ra.ConfigError, match=rf"column {column} .*{re.escape(problem)}"):
        store.upsert(frame.with_columns(values.alias(column)))
    assert store.read().height == 0


def test_the_store_takes_integral_floats_as_they_are(tmp_path: Path) -> None:
    frame = pl.DataFrame(
        {"provider": ["twilio"], "kind": ["track"], "recording_id": ["RT1"], "size_bytes": [3.0]}
    )
    store = ra.Store(tmp_path)
    store.upsert(frame)
    assert store.read()["size_bytes"].to_list() == [3]
