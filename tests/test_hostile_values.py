"""Hostile values, one table over every list endpoint: the load never crashes, never drops a
row, the bad value is null, a LoadWarning says how many, and ``raw=True`` keeps what was sent.

Each case is served through the real loader by an ``httpx.MockTransport`` as one page of three
records, the hostile value in the second.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import warnings
from dataclasses import dataclass
from typing import Any

import httpx
import polars as pl
import pytest
from provider_cases import (
    CREDENTIALS,
    MockEndpoint,
    loader_id,
    mock_endpoint,
    registered_loaders,
    sync_loader,
    zoom_session,
)

import recanalytics as ra
from recanalytics import jsonbody
from recanalytics.errors import LoadWarning
from recanalytics.fields import Field, RecordSpec
from recanalytics.parsers import FAILURES, as_json, bounded
from recanalytics.providers import base
from recanalytics.providers.base import Loader
from tests.conftest import FAST_RETRY

HOSTILE = "@@hostile@@"  # replaced, in the body's bytes, by the raw JSON of the case


@dataclass(frozen=True)
class Endpoint:
    """A registered loader pointed at a mock of its list endpoint."""

    loader: Loader[Any]
    mock: MockEndpoint

    @property
    def targets(self) -> dict[str, tuple[str, str, str | None]]:
        return self.mock.targets

    def record(self, i: int) -> dict[str, Any]:
        return self.mock.record(i)

    def envelope(self, records: list[Any]) -> dict[str, Any]:
        return self.mock.envelope(records)

    @property
    def id_column(self) -> str:
        return self.mock.id_column

    @property
    def options(self) -> dict[str, Any]:
        # One worker, so one window: the mocks answer every date range with the same page.
        return {
            "credentials": CREDENTIALS[self.loader.provider],
            "base_url": self.mock.base_url,
            "retry": FAST_RETRY,
            "max_concurrency": 1,
        }

    def load(self, **options: Any) -> pl.DataFrame:
        return sync_loader(self.loader)(**self.mock.span, **options)


ENDPOINTS = {
    loader_id(loader): Endpoint(loader, mock_endpoint(loader)) for loader in registered_loaders()
}


@dataclass(frozen=True)
class Case:
    targets: tuple[str, ...]  # keys of Endpoint.targets, the first an endpoint has is used
    raw_json: bytes  # what is sent in place of the value
    nulls: bool = True  # the value reads as null (else it is repaired, not dropped)
    warning: str = r"1 values could not be read"


CASES = {
    "2**62": Case(("seconds",), str(2**62).encode()),
    "10**30": Case(("int",), str(10**30).encode()),
    "300-in-int8": Case(("int8",), b"300"),
    "negative": Case(("seconds", "int"), b"-5"),
    "negative-count": Case(("int8",), b"-1"),  # SignalWire's channels: a count
    "NaN": Case(("seconds", "int"), b"NaN"),
    "inf": Case(("seconds", "int"), b"1e400"),
    "wrong-type": Case(("seconds", "int"), b'{"seconds": 60}'),
    "bool": Case(("int",), b"true"),
    "latin-1": Case(("text",), b'"caf\xe9"', nulls=False, warning=r"1 undecodable characters"),
    "lone-surrogate": Case(
        ("text",), b'"a\\ud800b"', nulls=False, warning=r"1 undecodable characters"
    ),
    # UTF-8's three-byte form of a surrogate, as CESU-8 and Java's modified UTF-8 write it: it
    # reached polars as a lone surrogate, and the page was retried until the load failed.
    "encoded-surrogate": Case(
        ("text",), b'"a\xed\xa0\x80b"', nulls=False, warning=r"1 undecodable characters"
    ),
}
TABLE = [
    pytest.param(name, case, target, id=f"{name}-{case_id}")
    for name, endpoint in ENDPOINTS.items()
    for case_id, case in CASES.items()
    for target in [next((t for t in case.targets if t in endpoint.targets), None)]
    if target is not None
]


def body_bytes(endpoint: Endpoint, path: str, raw_json: bytes) -> bytes:
    records = [endpoint.record(i) for i in range(3)]
    node: Any = records[1]
    *parents, leaf = path.split(".")
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node[key]
    node[leaf] = HOSTILE
    return (
        json.dumps(endpoint.envelope(records)).encode().replace(f'"{HOSTILE}"'.encode(), raw_json)
    )


def serve(content: bytes, requests: list[httpx.Request]) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return httpx.Response(200, content=content, headers={"Content-Type": "application/json"})

    return httpx.MockTransport(handler)


def load(endpoint: Endpoint, content: bytes, **extra: Any) -> tuple[pl.DataFrame, list[str]]:
    requests: list[httpx.Request] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        df = endpoint.load(transport=serve(content, requests), **endpoint.options, **extra)
    assert len(requests) == 1, "a body that can be read is never retried"
    messages = [str(w.message) for w in caught]
    assert all(issubclass(w.category, LoadWarning) for w in caught), messages
    return df, messages


@pytest.mark.parametrize(("name", "case", "target"), TABLE)
def test_a_hostile_value_is_null_counted_and_kept(name: str, case: Case, target: str) -> None:
    endpoint = ENDPOINTS[name]
    path, raw_column, unified_column = endpoint.targets[target]
    content = body_bytes(endpoint, path, case.raw_json)

    df, messages = load(endpoint, content)
    assert df.height == 3 and df.schema == ra.SCHEMA
    assert any(re.search(case.warning, m) for m in messages), messages
    raw, _ = load(endpoint, content, raw=True)
    assert raw.height == 3 and raw[endpoint.id_column].null_count() == 0
    value = raw[raw_column][1]
    if case.nulls:
        assert value is None
        if unified_column is not None:
            assert df[unified_column][1] is None
            assert df[unified_column][0] is not None  # the neighbours are read
        unparsed = json.loads(raw["extra"][1].replace("NaN", "null"))["_unparsed"]
        sent = json.loads(case.raw_json.decode().replace("NaN", "null"))
        assert list(unparsed.values()) == [sent] or case.raw_json == b"1e400"
    else:
        assert "\ufffd" in value
        if unified_column is not None:
            assert "\ufffd" in df[unified_column][1]


@pytest.mark.parametrize("sent", [b"[1]", b'{"a": 1}'], ids=["list", "object"])
@pytest.mark.parametrize("name", [n for n, e in ENDPOINTS.items() if e.id_column in e.record(0)])
def test_an_id_sent_as_an_object_keeps_its_row(name: str, sent: bytes) -> None:
    # The pager hashes ids to know a page it has seen: an object or a list was a TypeError
    # ("unhashable type") that ended the load. The row is kept, its id as JSON text.
    endpoint = ENDPOINTS[name]
    content = body_bytes(endpoint, endpoint.id_column, sent)
    raw, _ = load(endpoint, content, raw=True)
    assert raw.height == 3
    assert json.loads(sent) in [json.loads(i) for i in raw[endpoint.id_column] if i[0] in "[{"]
    df, _ = load(endpoint, content)
    assert df.height == 3 and df["recording_id"].null_count() == 0


# Lone surrogates as UTF-16 and UTF-32 bodies hold them: an escape, or the code unit itself.
# json.loads reads these encodings with "surrogatepass", so one reached polars, whose refusal
# read as a cut transfer: the page was retried until the load failed.
WIDE = ["utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be"]


@pytest.mark.parametrize("form", ["escape", "unit"])
@pytest.mark.parametrize("encoding", WIDE)
@pytest.mark.parametrize("name", ENDPOINTS)
def test_a_lone_surrogate_in_a_utf16_or_utf32_body_is_replaced(
    name: str, encoding: str, form: str
) -> None:
    endpoint = ENDPOINTS[name]
    path, raw_column, unified_column = endpoint.targets["text"]
    text = body_bytes(endpoint, path, b'"a\\ud800b"').decode()
    if form == "unit":
        text = text.replace("\\ud800", "\ud800")
    content = text.encode(encoding, "surrogatepass")
    df, messages = load(endpoint, content)
    assert df.height == 3 and any("1 undecodable characters" in m for m in messages), messages
    raw, _ = load(endpoint, content, raw=True)
    assert raw[raw_column].to_list()[1] == "a\ufffdb"
    if unified_column is not None:
        assert "a\ufffdb" in df[unified_column].to_list()


@pytest.mark.parametrize(
    "content",
    [
        '"a\U0001f600b"'.encode("utf-16"),
        '"a\\ud83d\\ude00b"'.encode("utf-32-le"),
        b'"a\xed\xa0\xbd\xed\xb8\x80b"',  # a pair in UTF-8's three-byte forms (CESU-8)
    ],
    ids=["utf-16", "utf-32-escapes", "utf-8-encoded-pair"],
)
def test_a_surrogate_pair_is_its_character_without_a_warning(content: bytes) -> None:
    endpoint = ENDPOINTS["twilio_recordings"]
    records = [endpoint.record(i) for i in range(3)]
    records[1]["track_name"] = HOSTILE
    text = json.dumps(endpoint.envelope(records))
    encoding = json.detect_encoding(content)
    if encoding != "utf-8":  # the whole body in that encoding
        hostile = content.decode(encoding)
        content = text.replace(f'"{HOSTILE}"', hostile).encode(encoding)
    else:
        content = text.encode().replace(f'"{HOSTILE}"'.encode(), content)
    df, messages = load(endpoint, content)
    assert messages == [] and "a\U0001f600b" in df["track_name"].to_list()


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16"])
@pytest.mark.parametrize("name", [n for n, e in ENDPOINTS.items() if e.id_column in e.record(0)])
def test_an_id_holding_a_lone_surrogate_keeps_its_row(name: str, encoding: str) -> None:
    # As raw bytes (UTF-8's three-byte form, a UTF-16 unit), the id failed every page's read.
    endpoint = ENDPOINTS[name]
    records = [endpoint.record(i) for i in range(3)]
    sent = records[1][endpoint.id_column]
    records[1][endpoint.id_column] = sent + "\ud800"
    text = json.dumps(endpoint.envelope(records), ensure_ascii=False)
    content = text.encode(encoding, "surrogatepass")
    raw, messages = load(endpoint, content, raw=True)
    assert raw.height == 3 and sent + "\ufffd" in raw[endpoint.id_column].to_list()
    assert any("1 undecodable characters" in m for m in messages), messages
    df, _ = load(endpoint, content)
    assert df.height == 3 and df["recording_id"].null_count() == 0


NEXT_LINK = {  # where each list answer says where its next page is
    "twilio_recordings": ("meta", "next_page_url"),
    "twilio_compositions": ("meta", "next_page_url"),
    "plivo_recordings": ("meta", "next"),
    "zoom_recordings": ("next_page_token",),
    "signalwire_recordings": ("next_page_uri",),
}


@pytest.mark.parametrize("name", ENDPOINTS)
def test_a_next_link_too_long_to_request_ends_the_load_with_its_rows(name: str) -> None:
    # httpx refuses a URL over 65,536 characters with InvalidURL, which is no TransportError:
    # it went through the engine and ended the load unnamed and without its rows.
    endpoint = ENDPOINTS[name]
    body = endpoint.envelope([endpoint.record(i) for i in range(3)])
    *parents, leaf = NEXT_LINK[name]
    node = body
    for key in parents:
        node = node[key]
    node[leaf] = (
        "a" * 70_000 if name.startswith("zoom") else endpoint.mock.base_url + "/" + "a" * 70_000
    )
    requests: list[httpx.Request] = []
    with pytest.raises(ra.PaginationError) as info:
        endpoint.load(transport=serve(json.dumps(body).encode(), requests), **endpoint.options)
    assert info.value.partial is not None and info.value.partial.height == 3
    assert len(requests) == 1 and len(str(info.value)) < 1000


@pytest.mark.parametrize("name", ENDPOINTS)
def test_deep_nesting_is_kept_as_truncated_text(name: str) -> None:
    endpoint = ENDPOINTS[name]
    deep = b"[" * 5000 + b"]" * 5000
    records = [endpoint.record(i) for i in range(3)]
    records[1]["surprise"] = HOSTILE
    content = json.dumps(endpoint.envelope(records)).encode().replace(f'"{HOSTILE}"'.encode(), deep)
    df, messages = load(endpoint, content)
    assert df.height == 3
    assert any("nested deeper than" in m for m in messages), messages
    raw, _ = load(endpoint, content, raw=True)
    extras = [json.loads(e) for e in raw["extra"].to_list() if e]
    texts = [str(e) for e in extras]
    assert len(extras) == 1 and "[[[[" in texts[0] and len(texts[0]) < 5000


@pytest.mark.parametrize("name", ENDPOINTS)
def test_nesting_past_max_depth_is_cut_there_on_every_python(name: str) -> None:
    # 100 levels: under every Python's recursion limit. It was cut only where decoding raised
    # RecursionError (about 1,000 levels on 3.11, far deeper on 3.13), not at the documented 64.
    endpoint = ENDPOINTS[name]
    records = [endpoint.record(i) for i in range(3)]
    records[1]["surprise"] = HOSTILE
    deep = b"[" * 100 + b"]" * 100
    content = json.dumps(endpoint.envelope(records)).encode().replace(f'"{HOSTILE}"'.encode(), deep)
    df, messages = load(endpoint, content)
    assert df.height == 3
    assert any("nested deeper than 64 levels" in m for m in messages), messages
    raw, _ = load(endpoint, content, raw=True)
    [extra] = [json.loads(e) for e in raw["extra"].to_list() if e]
    kept, depth = extra, 0
    while not isinstance(kept, str):
        kept, depth = next(iter(kept.values())) if isinstance(kept, dict) else kept[0], depth + 1
    assert depth <= jsonbody.MAX_DEPTH and kept.startswith("[["), (depth, kept[:20])


def _depth(value: Any) -> int:
    """How many containers deep ``value`` nests (a string inside them counts none)."""
    if isinstance(value, dict | list):
        inner = value.values() if isinstance(value, dict) else value
        return 1 + max((_depth(v) for v in inner), default=0)
    return 0


@pytest.mark.parametrize("levels", [64, 65, 100, 900])
def test_the_json_body_cut_is_exactly_at_max_depth(levels: int) -> None:
    body = jsonbody.loads(b"[" * levels + b"]" * levels)
    assert body.flattened == (levels > jsonbody.MAX_DEPTH)
    assert _depth(body.value) == min(levels, jsonbody.MAX_DEPTH)


@pytest.mark.parametrize("levels", [100, 3000])
def test_a_body_cut_off_deep_inside_nested_values_is_not_complete_json(levels: int) -> None:
    # Cut 3,000 levels down, the body raised a bare RecursionError out of every load (the
    # engine retries a ValueError as an unreadable body, as it does for one cut 100 down).
    cut = b'{"recordings": [{"sid": "RT1", "x": ' + b"[" * levels
    with pytest.raises(ValueError, match=r"not complete JSON|Expecting value"):
        jsonbody.loads(cut)
    transport = httpx.MockTransport(lambda request: httpx.Response(200, content=cut))
    with pytest.raises(ra.TransportError, match="not complete JSON"):
        ra.load_twilio_recordings(
            since="2026-01-01",
            until="2026-01-02",
            credentials=CREDENTIALS["twilio"],
            transport=transport,
            retry=FAST_RETRY,
        )


def test_brackets_and_escapes_in_strings_are_no_nesting() -> None:
    # Strings of brackets, escaped quotes and backslashes next to them: text, not depth.
    strings = ["[" * 200, "\\", '\\"]]]]{{{{', "\\u005b" + "{" * 80, '"' * 3 + "[" * 70]
    content = ("[" * 10 + ",".join(json.dumps(t) for t in strings) + "]" * 10).encode()
    body = jsonbody.loads(content)
    assert body.flattened == 0 and body.value == json.loads(content)
    # 70 deep, a string of closing brackets and an escaped quote at the bottom: still cut
    nested = ('{"a": ' * 70 + json.dumps(']]]]\\"]') + "}" * 70).encode()
    cut = jsonbody.loads(nested)
    assert cut.flattened == 1 and _depth(cut.value) == jsonbody.MAX_DEPTH


@pytest.mark.parametrize(
    "text",
    [
        '["[", "]"]',  # a closing and an opening quote side by side, a bracket on each side
        '[["]", "["], "x[", [["]]"]]]',
        '{"a": "\\\\", "b": ["[\\"]"], "c": "\\"[["}',  # escaped backslashes and quotes
        '[{"k[": "{{", "v": [["[]"], "]"]}, "", "\\u005b", [[[]]]]',
        '"[[[[[["',
    ],
)
def test_the_depth_check_is_exact_with_brackets_in_strings(text: str) -> None:
    depth = _depth(json.loads(text))
    for limit in range(depth + 2):
        assert jsonbody.deeper_than(text, limit) == (depth > limit), (limit, depth)
        assert jsonbody.deeper_than(text.encode(), limit) == (depth > limit), (limit, depth)


@pytest.mark.parametrize("levels", [65, 100, 5000])
def test_a_python_value_past_max_depth_encodes_cut_there(levels: int) -> None:
    deep: Any = 1
    for _ in range(levels):
        deep = [deep]
    decoded = json.loads(as_json({"a": deep}))
    assert _depth(decoded) == jsonbody.MAX_DEPTH and "…" in json.dumps(decoded, ensure_ascii=False)


# The endpoints whose clean pages take the typed path (Zoom flattens sessions in Python).
TYPED = {
    n: e for n, e in ENDPOINTS.items() if type(e.loader.endpoint).decode is base.Endpoint.decode
}


def _reads(field: Field, value: Any) -> bool:
    """Whether ``field``'s parser reads ``value`` (into its column's dtype)."""
    try:
        bounded(field.parse, field.dtype)(value)
    except FAILURES:
        return False
    return True


def _columns(name: str, how: str) -> list[str]:
    """The top-level fields of endpoint ``name`` that its typed path reads ``how``."""
    typed = RecordSpec(ENDPOINTS[name].loader.endpoint.fields).typed()
    return [c.field.name for c in typed.columns if c.how == how and len(c.field.where) == 1]


def both_paths(endpoint: Endpoint, records: list[Any]) -> tuple[pl.DataFrame, pl.DataFrame, int]:
    """The raw frames of one page of ``records`` as sent (clean, it takes the typed path) and
    with an undeclared key added to its last record (the tolerant path), having checked that
    both loads warned alike; and how many pages of the first took the tolerant path."""
    with pytest.MonkeyPatch.context() as patch:
        tolerant = counting_fallbacks(patch)
        fast, said_fast = load(endpoint, json.dumps(endpoint.envelope(records)).encode(), raw=True)
        clean_tolerant = tolerant[0]
    odd = [*records[:-1], records[-1] | {"surprise": 1}]
    slow, said_slow = load(endpoint, json.dumps(endpoint.envelope(odd)).encode(), raw=True)
    assert said_fast == said_slow
    return fast, slow, clean_tolerant


def counting_fallbacks(patch: pytest.MonkeyPatch) -> list[int]:
    """Count the pages that take the tolerant path."""
    pages = [0]
    original = RecordSpec.decode_page_tolerant

    def counted(self: RecordSpec, *args: Any, **kwargs: Any) -> Any:
        pages[0] += 1
        return original(self, *args, **kwargs)

    patch.setattr(RecordSpec, "decode_page_tolerant", counted)
    return pages


CREDENTIAL_HOLDER = {"amount": "0.0012", "api_key": "live-k3y-0123", "password": "hunter2"}
UNREADABLE_OBJECT = [
    pytest.param(name, column, id=f"{name}-{column}")
    for name in TYPED
    for column in _columns(name, "python")
    for field in [next(f for f in TYPED[name].loader.endpoint.fields if f.name == column)]
    if not _reads(field, CREDENTIAL_HOLDER)
]


@pytest.mark.parametrize(("name", "column"), UNREADABLE_OBJECT)
def test_an_unreadable_object_keeps_no_credential_on_either_path(name: str, column: str) -> None:
    # An object sent where a number, a flag or a URL belongs is kept in extra under _unparsed.
    # On a clean page (the typed path) its credential-like keys kept their values as sent; the
    # same record beside one with an undeclared key (the tolerant path) had them REDACTED.
    endpoint = TYPED[name]
    records = [endpoint.record(i) for i in range(3)]
    records[1][column] = CREDENTIAL_HOLDER
    fast, slow, tolerant = both_paths(endpoint, records)
    assert tolerant == 0, "the clean page takes the typed path"
    assert fast.row(1) == slow.row(1)
    assert "hunter2" not in fast.write_csv() and "live-k3y" not in fast.write_csv()
    unparsed = json.loads(fast["extra"][1])["_unparsed"][column]
    assert unparsed == CREDENTIAL_HOLDER | {"api_key": "REDACTED", "password": "REDACTED"}


@pytest.mark.parametrize("name", ENDPOINTS)
def test_a_record_that_is_not_an_object_keeps_no_credential(name: str) -> None:
    # A list where a record belongs is kept whole in extra under _record, as every value there
    # is: its credential-like keys REDACTED.
    endpoint = ENDPOINTS[name]
    records = [endpoint.record(0), [CREDENTIAL_HOLDER], endpoint.record(2)]
    raw, messages = load(endpoint, json.dumps(endpoint.envelope(records)).encode(), raw=True)
    assert "hunter2" not in raw.write_csv() and "live-k3y" not in raw.write_csv()
    extras = [json.loads(text) for text in raw["extra"].drop_nulls()]
    redacted = CREDENTIAL_HOLDER | {"api_key": "REDACTED", "password": "REDACTED"}
    assert [e for e in extras if "_record" in e] == [{"_record": [redacted]}], messages


# Per endpoint, a text field (written as JSON text) and a field an object is unreadable in
# (kept in extra under _unparsed).
DEEP_TARGETS = [
    pytest.param(name, column, id=f"{name}-{column}")
    for name, endpoint in TYPED.items()
    for column in [
        next(c for c in _columns(name, "text") if c != endpoint.id_column),
        *[p.values[1] for p in UNREADABLE_OBJECT if p.values[0] == name][:1],
    ]
]


@pytest.mark.parametrize("levels", [61, 62, 70, 500])
@pytest.mark.parametrize(("name", "column"), DEEP_TARGETS)
def test_a_deep_value_reads_alike_on_both_paths(name: str, column: str, levels: int) -> None:
    # An object 70 levels deep in a text field: a clean page (the typed path) kept it whole and
    # said nothing; beside a record with an undeclared key (the tolerant path) it was cut at 64
    # levels from the body's top, with a LoadWarning. Unreadable, it was cut at 64 levels from
    # extra's top on the typed path.
    endpoint = TYPED[name]
    deep: Any = "x"
    for _ in range(levels):
        deep = {"a": deep}
    records = [endpoint.record(i) for i in range(3)]
    records[1][column] = deep
    fast, slow, _ = both_paths(endpoint, records)
    assert fast.row(1) == slow.row(1)
    text = fast[column][1]
    kept = json.loads(text) if text else json.loads(fast["extra"][1])["_unparsed"][column]
    # The record sits 3 levels down (body, list, record): its field's containers start at 4.
    assert _depth(kept) == min(levels, jsonbody.MAX_DEPTH - 3)


# Per endpoint, a text field under a parent object (Twilio's links.media, grouping_sids.*).
NESTED_TEXT = [
    pytest.param(name, c.field.where, id=f"{name}-{c.field.name}")
    for name in TYPED
    for c in RecordSpec(TYPED[name].loader.endpoint.fields).typed().columns
    if c.how == "text" and len(c.field.where) == 2
]


@pytest.mark.parametrize("levels", [60, 61, 70])
@pytest.mark.parametrize(("name", "where"), NESTED_TEXT)
def test_a_deep_value_under_a_parent_reads_alike_on_both_paths(
    name: str, where: tuple[str, str], levels: int
) -> None:
    # One level further down than a top-level field, so cut one level sooner.
    endpoint = TYPED[name]
    deep: Any = "x"
    for _ in range(levels):
        deep = {"a": deep}
    records = [endpoint.record(i) for i in range(3)]
    parent, key = where
    records[1][parent] = {**records[1].get(parent, {}), key: deep}
    fast, slow, _ = both_paths(endpoint, records)
    assert fast.row(1) == slow.row(1)
    column = next(f.name for f in endpoint.loader.endpoint.fields if f.where == where)
    assert _depth(json.loads(fast[column][1])) == min(levels, jsonbody.MAX_DEPTH - 4)


@pytest.mark.parametrize("levels", [63, 64, 500])
@pytest.mark.parametrize("name", TYPED)
def test_a_deep_value_beside_the_list_warns_alike_on_both_paths(name: str, levels: int) -> None:
    # A value beside the record list sits 2 levels down (body, value): the tolerant path cuts
    # it past 63 levels of its own and says so; the typed path must send such a page there.
    endpoint = TYPED[name]
    deep: Any = "x"
    for _ in range(levels):
        deep = [deep]
    envelope = endpoint.envelope([endpoint.record(i) for i in range(3)]) | {"surprise": deep}
    with pytest.MonkeyPatch.context() as patch:
        tolerant = counting_fallbacks(patch)
        _, messages = load(endpoint, json.dumps(envelope).encode(), raw=True)
    cut = levels + 1 > jsonbody.MAX_DEPTH
    assert tolerant[0] == cut
    assert any("nested deeper than 64 levels" in m for m in messages) == cut, messages


@pytest.mark.parametrize("name", TYPED)
def test_a_clean_page_is_not_scanned_whole_for_depth(name: str) -> None:
    # The typed path ran the depth check over every page, at about the cost of decoding it
    # (several times that where names hold brackets, "[Team] {standup}"). Records have fixed
    # shapes except where a free-form field holds an object or a list; without one, nothing
    # of the records is read for depth.
    endpoint = TYPED[name]
    typed = RecordSpec(endpoint.loader.endpoint.fields).typed()
    free = {c.field.where[0] for c in typed.columns if c.how in ("text", "python")}
    text = next(c for c in _columns(name, "text") if c != endpoint.id_column)
    records = [
        {k: v for k, v in endpoint.record(i).items() if not (k in free and isinstance(v, dict))}
        | {text: "[Team] {standup}"}
        for i in range(3)
    ]
    scanned: list[bytes] = []
    deeper_than = jsonbody.deeper_than

    def counted(content: bytes | str, depth: int) -> bool:
        scanned.append(content.encode() if isinstance(content, str) else bytes(content))
        return deeper_than(content, depth)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(jsonbody, "deeper_than", counted)
        tolerant = counting_fallbacks(patch)
        raw, _ = load(endpoint, json.dumps(endpoint.envelope(records)).encode(), raw=True)
    assert tolerant[0] == 0 and raw.height == 3
    ids = raw[endpoint.id_column].to_list()
    assert not [s for s in scanned if any(i.encode() in s for i in ids)], "a record was read"


@pytest.mark.parametrize("name", ENDPOINTS)
def test_a_truncated_body_is_still_retried(name: str) -> None:
    endpoint = ENDPOINTS[name]
    good = json.dumps(endpoint.envelope([endpoint.record(i) for i in range(3)])).encode()
    requests: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return httpx.Response(200, content=good[: len(good) // 2] if len(requests) == 1 else good)

    df = endpoint.load(transport=httpx.MockTransport(handler), **endpoint.options)
    assert df.height == 3 and len(requests) == 2


TOKEN = "eyJhbGciOiJIUzI1NiJ9.download-token-value"


def test_zoom_never_keeps_a_download_access_token(caplog: pytest.LogCaptureFixture) -> None:
    zoom = ENDPOINTS["zoom_recordings"]
    session = zoom_session(1) | {"download_access_token": TOKEN}
    session["recording_files"][0]["access_token"] = TOKEN
    session["settings"] = {"client_secret": TOKEN, "kept": 1}
    listed = json.dumps(zoom.envelope([session])).encode()
    single = json.dumps(session).encode()
    caplog.set_level("DEBUG", logger="recanalytics")
    frames = [
        zoom.load(transport=serve(listed, []), raw=True, **zoom.options),
        ra.get_zoom_session_recordings(
            "s1==", transport=serve(single, []), raw=True, **zoom.options
        ),
    ]
    for frame in frames:
        assert frame.height == 1
        assert TOKEN not in frame.write_csv()
        extra = json.loads(frame["extra"][0])
        assert extra["session"]["download_access_token"] == "REDACTED"
        assert extra["session"]["settings"] == {"client_secret": "REDACTED", "kept": 1}
    assert TOKEN not in caplog.text


def test_a_deep_python_value_encodes_truncated() -> None:
    deep: Any = []
    for _ in range(5000):
        deep = [deep]
    text = as_json({"a": deep})
    assert text.startswith('{"a":[[[') and len(text) < 1000


def _one_id(name: str, i: int) -> dict[str, Any]:
    """Record ``i`` of endpoint ``name`` under record 0's id, made on another day."""
    day = 5 + i
    if name == "zoom_recordings":
        session = zoom_session(i)  # another session
        session["recording_files"][0]["id"] = "file-0"
        return session
    record = ENDPOINTS[name].record(0)
    if name == "plivo_recordings":
        return record | {"add_time": f"2026-01-{day:02d} 10:00:00.000000+00:00"}
    if name == "signalwire_recordings":
        weekday = ["Mon", "Tue", "Wed"][i]
        return record | {"date_created": f"{weekday}, {day:02d} Jan 2026 10:00:00 +0000"}
    return record | {"date_created": f"2026-01-{day:02d}T10:00:00Z"}


@pytest.mark.parametrize("name", sorted(ENDPOINTS))
def test_distinct_records_under_one_id_are_not_dropped_silently(name: str) -> None:
    # One row per id is the contract (copies read twice while paging), but three records made
    # on different days are not copies: two were dropped without a word.
    endpoint = ENDPOINTS[name]
    distinct = [_one_id(name, i) for i in range(3)]
    df, messages = load(endpoint, json.dumps(endpoint.envelope(distinct)).encode())
    assert df.height == 1
    assert any("each sent for records that differ" in m for m in messages), messages
    copies = [endpoint.record(0)] * 3  # the same record thrice: de-duplicated in silence
    df, messages = load(endpoint, json.dumps(endpoint.envelope(copies)).encode())
    assert df.height == 1 and messages == []


def test_ids_missing_or_dates_unreadable_are_no_clash() -> None:
    # Rows without an id are all kept, yet were counted as one clashing id ("the others are
    # dropped"); and a copy whose date was unreadable was kept over the one that had it.
    endpoint = ENDPOINTS["twilio_recordings"]
    idless = [endpoint.record(i) | {"sid": None} for i in range(2)]
    idless[1]["date_created"] = "2026-01-06T10:00:00Z"
    df, messages = load(endpoint, json.dumps(endpoint.envelope(idless)).encode())
    assert df.height == 2 and messages == []
    copies = [endpoint.record(0), endpoint.record(0) | {"date_created": "not a date"}]
    df, messages = load(endpoint, json.dumps(endpoint.envelope(copies)).encode())
    assert df.height == 1 and df["created_at"][0] is not None
    assert not any("differ in" in m for m in messages), messages


def _dated(name: str, i: int, moment: dt.datetime) -> dict[str, Any]:
    """Record ``i`` of endpoint ``name`` created at ``moment``, in the provider's own format."""
    record = ENDPOINTS[name].record(i)

    def at(form: str) -> str:  # strftime writes year 1 as "1"
        return moment.strftime(form.replace("%Y", f"{moment.year:04d}"))

    if name == "zoom_recordings":
        iso = at("%Y-%m-%dT%H:%M:%SZ")
        record["recording_files"][0] |= {"recording_start": iso, "recording_end": iso}
        return record | {"start_time": iso}
    if name == "plivo_recordings":
        return record | {"add_time": at("%Y-%m-%d %H:%M:%S.000000+00:00")}
    if name == "signalwire_recordings":
        return record | {"date_created": at("%a, %d %b %Y %H:%M:%S +0000")}
    return record | {"date_created": at("%Y-%m-%dT%H:%M:%SZ")}


# Every loader trims its rows to since/until (each asks a little wider than the range).
TRIMMING = sorted(ENDPOINTS)


@pytest.mark.parametrize(
    "far",
    [dt.datetime(9999, 12, 31, 23, 59, 59, tzinfo=dt.UTC), dt.datetime(1, 1, 1, tzinfo=dt.UTC)],
    ids=["year-9999", "year-1"],
)
@pytest.mark.parametrize("name", TRIMMING)
def test_rows_answered_far_outside_since_until_are_not_trimmed_silently(
    name: str, far: dt.datetime
) -> None:
    # The loaders trim to [since, until) the edge rows a coarser reading of the date filters
    # brings (whole seconds, whole days); a row the API answered years outside went too,
    # without a word.
    endpoint = ENDPOINTS[name]
    inside = dt.datetime(2026, 1, 5, 10, tzinfo=dt.UTC)
    edge = dt.datetime(2026, 1, 20, 10, tzinfo=dt.UTC)  # ten hours past until
    records = [_dated(name, 0, inside), _dated(name, 1, far), _dated(name, 2, edge)]
    content = json.dumps(endpoint.envelope(records)).encode()
    span = {"since": "2026-01-01", "until": "2026-01-20"}
    requests: list[httpx.Request] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        df = sync_loader(endpoint.loader)(
            **span, transport=serve(content, requests), **endpoint.options
        )
    assert df.height == 1 and df["created_at"][0] == inside
    messages = [str(w.message) for w in caught]
    assert [m for m in messages if "outside since/until" in m] == [
        f"{endpoint.loader.provider}: 1 rows dated outside since/until, beyond the edges its "
        "date filters' reading adds, were left out: the API answered rows its filter excludes"
    ], messages
