"""The vectorized page path gives exactly the frames of the tolerant per-record path."""

from __future__ import annotations

import asyncio
import datetime as dt
import warnings
from typing import Any

import pytest
from polars.testing import assert_frame_equal
from provider_cases import LOADER_PARAMS, mock_endpoint, sync_loader

from recanalytics.fields import F, RecordSpec, Rows
from recanalytics.providers.base import Loader
from recanalytics.sandbox import Sandbox
from tests.conftest import UNPACED


def counting_fallbacks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count the pages that take the tolerant path."""
    pages = [0]
    original = RecordSpec.decode_page_tolerant

    def counted(self: RecordSpec, *args: Any, **kwargs: Any) -> Any:
        pages[0] += 1
        return original(self, *args, **kwargs)

    monkeypatch.setattr(RecordSpec, "decode_page_tolerant", counted)
    return pages


@pytest.mark.parametrize("loader", LOADER_PARAMS)
@pytest.mark.parametrize("raw", [True, False], ids=["raw", "unified"])
def test_both_paths_give_the_same_frame(
    loader: Loader[Any], raw: bool, box: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    load = sync_loader(loader)
    # Unpaced: the subject is parsing, and the session box's limiter is shared by every test
    # that loads from it (Zoom's 20/s made each of these two loads wait).
    kwargs: dict[str, Any] = {"raw": raw, "rate_limit": UNPACED, **box.options(loader.provider)}
    if mock_endpoint(loader).span:  # it defaults to recent days: ask for the whole dataset
        kwargs |= {"since": box.config.start, "until": box.config.end}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the same warnings on both paths
        with monkeypatch.context() as patch:
            fallbacks = counting_fallbacks(patch)
            fast = load(**kwargs)
        # Zoom flattens sessions into file rows, always by the per-record path.
        assert fallbacks[0] == 0 or loader.provider == "zoom", (
            "clean sandbox pages take the typed path"
        )
        with monkeypatch.context() as patch:
            patch.setattr(RecordSpec, "fast", False)
            slow = load(**kwargs)
    assert fast.height > 0
    assert_frame_equal(fast, slow)


def test_nested_json_goes_to_the_fields_parser_as_text() -> None:
    """A layout object or a list of sources is written as JSON text by the field's parser,
    first value or not; plain strings stay on the vectorized path."""
    from recanalytics.fields import F
    from recanalytics.typedpage import TypedPage, _raw_series

    spec = RecordSpec([F("sid"), F("layout")])
    typed = TypedPage(spec.fields, spec.schema)
    sid, layout = typed.columns
    assert _raw_series(layout, [{"grid": {}}, None]) is None
    assert _raw_series(sid, ["a", None]) is not None
    page = typed.decode(
        b'{"items": [{"sid": "a", "layout": {"grid": {"max_rows": 2}}},'
        b' {"sid": "b", "layout": "plain"}, {"sid": "c", "layout": ["x"]}]}',
        "items",
    )
    frame = typed.frame(typed.values([page.body["items"]]), spec.issues)
    assert frame["layout"].to_list() == ['{"grid":{"max_rows":2}}', "plain", '["x"]']
    # A string first and an object later still fails the strict fast path, never the load.
    later = typed.decode(
        b'{"items": [{"sid": "a", "layout": "plain"}, {"sid": "b", "layout": {}}]}', "items"
    )
    mixed = typed.frame(typed.values([later.body["items"]]), spec.issues)
    assert mixed["layout"].to_list() == ["plain", "{}"]


def _nested(levels: int) -> bytes:
    return b'{"a": ' * levels + b"1" + b"}" * levels


def test_deep_values_are_caught_in_whichever_free_form_field_holds_them() -> None:
    """The depth check reads the objects and lists of free-form fields, page after page: a
    field that held one on an earlier page, one that never did, one under a parent object."""
    from recanalytics import jsonbody
    from recanalytics.fields import F
    from recanalytics.parsers import as_bool
    from recanalytics.typedpage import Miss, TypedPage

    spec = RecordSpec(
        [F("sid"), F("layout"), F("flag", parse=as_bool), F("media", path="links.media")]
    )
    typed = TypedPage(spec.fields, spec.schema)
    # The tolerant path cuts past MAX_DEPTH from the body's top: body, list and record are 3.
    top = jsonbody.MAX_DEPTH - 3

    def decode(key: bytes, value: bytes) -> None:
        typed.decode(
            b'{"items": [{"sid": "a"}, {"sid": "b", ' + key + b": " + value + b"}]}", "items"
        )

    decode(b'"layout"', _nested(top))  # held an object: checked from now on
    with pytest.raises(Miss):
        decode(b'"layout"', _nested(top + 1))
    for key, value in [
        (b'"flag"', _nested(top + 1)),
        (b'"links"', b'{"media": ' + _nested(top) + b"}"),
    ]:
        with pytest.raises(Miss):
            decode(key, value)
    decode(b'"flag"', _nested(top))
    decode(b'"links"', b'{"media": ' + _nested(top - 1) + b"}")
    with pytest.raises(Miss):
        decode(b'"flag"', _nested(top + 1))
    with pytest.raises(Miss):  # beside the list: only the body above it
        typed.decode(b'{"items": [], "meta": ' + _nested(jsonbody.MAX_DEPTH) + b"}", "items")
    typed.decode(b'{"items": [], "meta": ' + _nested(jsonbody.MAX_DEPTH - 1) + b"}", "items")


def test_deep_lists_are_caught_like_deep_objects() -> None:
    """A free-form field that only ever holds lists (no object) is checked as one holding
    objects is: a list nested past MAX_DEPTH sends the page to the tolerant path, which cuts
    it; one within it stays on the typed path."""
    from recanalytics import jsonbody
    from recanalytics.fields import F
    from recanalytics.typedpage import Miss, TypedPage

    spec = RecordSpec([F("sid"), F("layout"), F("media", path="links.media")])
    typed = TypedPage(spec.fields, spec.schema)
    top = jsonbody.MAX_DEPTH - 3  # body, list and record are 3 levels

    def decode(key: bytes, value: bytes) -> None:
        typed.decode(
            b'{"items": [{"sid": "a"}, {"sid": "b", ' + key + b": " + value + b"}]}", "items"
        )

    def lists(levels: int) -> bytes:
        return b"[" * levels + b"1" + b"]" * levels

    decode(b'"layout"', lists(top))
    with pytest.raises(Miss):  # a field that held a list before
        decode(b'"layout"', lists(top + 1))
    with pytest.raises(Miss):  # one that never held anything but text
        decode(b'"links"', b'{"media": ' + lists(top) + b"}")
    decode(b'"links"', b'{"media": ' + lists(top - 1) + b"}")


RFC2822_FORMS = [
    "Wed, 26 Sep 2018 00:00:00 +0000",  # the documented form: read by polars
    "Wed, 26 Sep 2018 13:00:00 -0730",
    "Sun, 01 Nov 2026 10:00:00 +2359",
    "Wed, 6 Sep 2018 10:00:00 +0000",  # the rest by the stdlib, as the tolerant path does
    "Wed, 26 Sep 2018 00:00:00 +05:00",  # the stdlib ignores this offset; polars would not
    "Wed, 26 Sep 18 00:00:00 +0000",  # a two-digit year is 2018, not 18
    "Wed, 26 Sep 0001 00:00:00 +0000",  # four digits are the year as written: 1, not 2001
    "Wed, 26 Sep 0001 00:00:00 +0100",  # 25 September of year 1 in UTC
    "Wed, 26 Sep 2018 23:59:60 +0000",  # polars reads a leap second; the stdlib refuses it
    "Mon, 26 Sep 2018 00:00:00 +0000",  # the wrong weekday
    "wed, 26 sep 2018 00:00:00 +0000",
    "Wed, 26 Sep 2018 00:00:00 GMT",
    "Tue, 31 Dec 9999 23:00:00 -0100",
    "2026-11-30T10:00:00Z",
    "",
    None,
    "garbage",
    "Tue, 25 Sept 2018 23:00:00 +0000",  # SignalWire's spec example until 2026-01
    "Tue, 25 September 0018 23:00:00 +0000",  # a month in full: the year as written still
]


def test_rfc2822_times_read_alike_on_both_paths() -> None:
    """SignalWire's dates: polars reads the plain form, the stdlib every other one, so each
    value is what the tolerant parser makes of it, and the unreadable are reported."""
    from collections import Counter

    import polars as pl

    from recanalytics.fields import F
    from recanalytics.parsers import as_rfc2822_time
    from recanalytics.typedpage import TypedPage

    spec = RecordSpec([F("t", pl.Datetime("us", "UTC"), as_rfc2822_time)])
    issues: Counter[str] = Counter()
    fast = TypedPage(spec.fields, spec.schema).frame([RFC2822_FORMS], issues)
    slow = spec.frame([{"t": value} for value in RFC2822_FORMS])
    assert_frame_equal(fast, slow)
    assert fast["t"][0] == dt.datetime(2018, 9, 26, tzinfo=dt.UTC)
    assert fast["t"][4] == dt.datetime(2018, 9, 26, tzinfo=dt.UTC)
    assert fast["t"][6] == dt.datetime(1, 9, 26, tzinfo=dt.UTC)  # the stdlib alone said 2001
    assert fast["t"][7] == dt.datetime(1, 9, 25, 23, tzinfo=dt.UTC)
    assert fast["t"][-2] == dt.datetime(2018, 9, 25, 23, tzinfo=dt.UTC)
    assert fast["t"][-1] == dt.datetime(18, 9, 25, 23, tzinfo=dt.UTC)
    assert issues["t"] == 3 and fast["extra"].null_count() == len(RFC2822_FORMS) - 3


ISO_FORMS = [
    "2015-07-30T20:00:00Z",  # the plain form: read by polars
    "2015-07-30T20:00:00z",  # RFC 3339 allows a lower-case z; twilio-python reads it
    "2015-7-30T20:00:00Z",  # one-digit fields: polars read them, the stdlib did not
    "2015-07-30T2:00:00Z",
    "2015-07-30T20:00:60Z",  # a leap second: polars made it 20:01:00, the stdlib nothing
    "2015-07-30T20:00:00.250Z",
    "2015-07-30T20:00:00+02:00",
    "0001-01-01T00:00:00+05:30",  # before the calendar once in UTC
    "not a date",
    None,
]


def test_iso_times_read_alike_on_both_paths() -> None:
    """A page's typed path and its tolerant path (taken when anything on it is odd) gave
    different frames for the same Twilio dates: each value is now what the field's parser
    makes of it, whichever path the page takes, as twilio-python reads it where it can."""
    from collections import Counter

    import polars as pl

    from recanalytics.fields import F
    from recanalytics.parsers import as_iso_time
    from recanalytics.typedpage import TypedPage

    spec = RecordSpec([F("t", pl.Datetime("us", "UTC"), as_iso_time)])
    issues: Counter[str] = Counter()
    fast = TypedPage(spec.fields, spec.schema).frame([ISO_FORMS], issues)
    slow = spec.frame([{"t": value} for value in ISO_FORMS])
    assert_frame_equal(fast, slow)
    at = dt.datetime(2015, 7, 30, 20, tzinfo=dt.UTC)
    assert fast["t"].to_list()[:4] == [at, at, at, at.replace(hour=2)]
    assert fast["t"][4] is None and fast["t"][6] == at.replace(hour=18)
    assert issues["t"] == 3  # the leap second, the year-1 moment, "not a date"


INTEGER_TEXTS = [
    "4",  # plain digits within the bounds: read by polars
    "007",
    "0",
    "127",
    "128",  # past Int8: unreadable on both paths
    "999999999999999999",  # 18 digits: polars reads it, the bound refuses it
    "9999999999999999999999",  # the rest by the field's parser, as the tolerant path does
    "4.0",
    "2.5",  # a fraction: unreadable, not rounded
    "345100.00000",
    " 7 ",
    "-1",
    "+3",
    "1e2",
    "٣",  # an Arabic-Indic digit: unreadable on both paths (Decimal alone would read 3)
    "",
    None,
    "seven",
]


@pytest.mark.parametrize("parser", ["as_int", "as_count"])
def test_integers_sent_as_text_read_alike_on_both_paths(
    parser: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Plivo sends its numbers as text and SignalWire its channels: plain digits are read by
    polars, every other form by the field's parser, so each value is what the tolerant path
    makes of it, and the unreadable are reported."""
    from collections import Counter

    import polars as pl

    from recanalytics import parsers, typedpage
    from recanalytics.fields import F
    from recanalytics.typedpage import TypedPage

    by_parser: list[Any] = []
    original = typedpage._by_parser

    def counted(field: Any, values: Any, rows: Any = None) -> Any:
        by_parser.extend(values)
        return original(field, values, rows)

    monkeypatch.setattr(typedpage, "_by_parser", counted)
    spec = RecordSpec([F("n", pl.Int8, getattr(parsers, parser))])
    issues: Counter[str] = Counter()
    fast = TypedPage(spec.fields, spec.schema).frame([INTEGER_TEXTS], issues)
    slow = spec.frame([{"n": value} for value in INTEGER_TEXTS])
    assert_frame_equal(fast, slow)
    assert fast["n"][:4].to_list() == [4, 7, 0, 127]
    assert fast["n"][7] == 4 and fast["n"][8] is None and fast["n"][13] == 100
    assert fast["n"][14] is None  # "٣" is no number
    unreadable = {"as_int": 7, "as_count": 8}[parser]  # -1 is no count
    assert issues["n"] == unreadable == fast["extra"].is_not_null().sum()
    assert not {"4", "007", "0", "127"} & set(by_parser)  # polars read those


def test_a_page_of_iso_times_is_spanned_without_a_polars_query(
    box: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Twilio's times sort as they read: the page's span is two parsed values. A polars
    query per page (as SignalWire's RFC 2822 pages take) cost more than the page's parse:
    1,000,000 records loaded in 38 s instead of 14 s."""
    import recanalytics as ra
    from recanalytics.fields import PageBatch

    reads: list[str] = []
    original = PageBatch.read

    def counted(self: PageBatch, name: str, values: list[Any]) -> Any:
        reads.append(name)
        return original(self, name, values)

    monkeypatch.setattr(PageBatch, "read", counted)
    assert ra.load_twilio_recordings(**box.options("twilio")).height > 0
    assert reads == []
    ra.load_signalwire_recordings(since=box.config.start, **box.options("signalwire"))
    assert reads and set(reads) == {"date_created"}


def test_records_are_framed_while_the_load_waits_for_its_next_page() -> None:
    # What is left to frame after a load's last response is at most a few pages: records held
    # when no page has come for a moment are framed then, in the event loop's idle time.
    spec = RecordSpec([F("sid")])
    rows = Rows(spec)
    page = b'{"items": [' + b",".join(b'{"sid": "r%d"}' % i for i in range(100)) + b"]}"

    async def load(pages: int, then_wait: float) -> None:
        for _ in range(pages):
            rows.add(spec.typed().decode(page, "items"))
        await asyncio.sleep(then_wait)

    held = Rows.IDLE_LIMIT // 100
    asyncio.run(load(held - 1, 5 * Rows.IDLE))
    assert rows._pending == (held - 1) * 100  # too few to be worth a frame of their own
    asyncio.run(load(1, 5 * Rows.IDLE))
    assert rows._pending == 0 and rows._framed == held * 100
    asyncio.run(load(held, 0))
    assert rows._pending == held * 100  # pages still coming: not yet
    assert [f.height for f in rows.slice(0, 2 * held * 100)] == [held * 100, held * 100]


def test_a_frame_build_failing_in_idle_time_fails_the_load_not_the_event_loop(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    spec = RecordSpec([F("sid")])
    rows = Rows(spec)
    page = b'{"items": [' + b",".join(b'{"sid": "r%d"}' % i for i in range(100)) + b"]}"

    def broken(*args: Any) -> Any:
        raise RuntimeError("frame build failed")

    monkeypatch.setattr(rows._typed, "frame", broken)
    logged: list[dict[str, Any]] = []

    async def load() -> None:
        asyncio.get_running_loop().set_exception_handler(
            lambda loop, context: logged.append(context)
        )
        for _ in range(Rows.IDLE_LIMIT // 100):
            rows.add(spec.typed().decode(page, "items"))
        await asyncio.sleep(5 * Rows.IDLE)

    asyncio.run(load())
    assert not logged and rows._pending == Rows.IDLE_LIMIT  # held, nothing reported aside
    with pytest.raises(RuntimeError, match="frame build failed"):
        rows.slice(0, 1)
