"""Adversarial paging: fake servers (``httpx.MockTransport``) that page the way real provider
APIs can, and loads through the public loaders compared with the records the server holds.

The sandbox and the loaders were written together; these servers are written from
``/work/shared/api-contracts.md`` and the official SDKs' paging code instead, each behaviour
one that a real deployment (or a proxy in front of it) can show.
"""

from __future__ import annotations

import datetime as dt
import functools
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode

import httpx
import polars as pl
import pytest
from provider_cases import CREDENTIALS, UUID

import recanalytics as ra
from recanalytics.errors import ProviderError
from tests.conftest import FAST_RETRY

UTC = dt.UTC
FAST = {"rate_limit": 1e6, "retry": FAST_RETRY}


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


# --- Twilio --------------------------------------------------------------------------------


@dataclass
class TwilioServer:
    """Twilio's ``/v1/Recordings``: newest first, ``DateCreatedAfter`` inclusive,
    ``DateCreatedBefore`` exclusive (compared at the records' own precision), absolute
    ``meta.next_page_url`` carrying every filter plus ``Page`` and ``PageToken``."""

    records: list[dict[str, Any]]
    host: str = "https://video.example"
    key: str = "recordings"
    # (page number, page body) -> body: lets a test tamper with one page
    tamper: Callable[[int, dict[str, Any]], dict[str, Any] | httpx.Response] | None = None
    oldest_first: bool = False  # the order api-contracts.md does not rule out for Twilio
    seen: list[httpx.Request] = field(default_factory=list)

    def created(self, record: dict[str, Any]) -> dt.datetime | None:
        value = record.get("date_created")
        return dt.datetime.fromisoformat(value) if isinstance(value, str) else None

    def order(self, record: dict[str, Any]) -> Any:
        """What the list is sorted by, descending (ascending with ``oldest_first``): the
        creation time, rows without one first."""
        return self.created(record) or dt.datetime.max.replace(tzinfo=UTC)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        query = dict(parse_qsl(request.url.query.decode(), keep_blank_values=True))
        after = query.get("DateCreatedAfter")
        before = query.get("DateCreatedBefore")
        rows = []
        for record in self.records:
            moment = self.created(record)
            if moment is not None:
                if after and moment < dt.datetime.fromisoformat(after):
                    continue
                if before and moment >= dt.datetime.fromisoformat(before):
                    continue
            rows.append(record)
        rows.sort(key=self.order, reverse=not self.oldest_first)
        size = int(query.get("PageSize", "50"))
        page = int(query.get("Page", "0"))
        chunk = rows[page * size : (page + 1) * size]
        more = (page + 1) * size < len(rows)
        base = [(k, v) for k, v in query.items() if k not in ("Page", "PageToken")]
        next_url = None
        if more:
            token = f"PA{page + 1}"
            next_url = f"{self.host}{request.url.path}?" + urlencode(
                [*base, ("Page", str(page + 1)), ("PageToken", token)]
            )
        body: dict[str, Any] = {
            self.key: chunk,
            "meta": {"key": self.key, "page": page, "page_size": size, "next_page_url": next_url},
        }
        if self.tamper is not None:
            changed = self.tamper(page, body)
            if isinstance(changed, httpx.Response):
                return changed
            body = changed
        return httpx.Response(200, json=body)

    def options(self) -> dict[str, Any]:
        return {
            "transport": httpx.MockTransport(self.handle),
            "credentials": CREDENTIALS["twilio"],
            "base_url": self.host,
            **FAST,
        }


def twilio_track(i: int, created: str | None = "2026-01-05T10:00:00Z") -> dict[str, Any]:
    record: dict[str, Any] = {"sid": f"RT{i:032x}", "status": "completed", "duration": 1}
    if created is not None:
        record["date_created"] = created
    return record


def tracks(n: int, start: str = "2026-01-05T10:00:00+00:00") -> list[dict[str, Any]]:
    first = dt.datetime.fromisoformat(start)
    return [
        twilio_track(i, (first + dt.timedelta(seconds=i)).strftime("%Y-%m-%dT%H:%M:%SZ"))
        for i in range(n)
    ]


def sids(df: pl.DataFrame) -> list[str]:
    return sorted(df["recording_id"].to_list())


TWILIO_LISTS = {
    "tracks": (ra.load_twilio_recordings, "recordings", twilio_track),
    "compositions": (ra.load_twilio_compositions, "compositions", lambda i, c: {
        **twilio_track(i, c), "sid": f"CJ{i:032x}"}),
}  # fmt: skip


@pytest.mark.parametrize("kind", TWILIO_LISTS)
def test_twilio_places_fractional_second_dates_exactly_in_since_until(kind: str) -> None:
    # Twilio's filters take whole seconds; a record dated with a fraction of a second must still
    # be kept exactly when it is in [since, until): not lost at since, not added at until.
    load, key, record = TWILIO_LISTS[kind]
    moments = {
        1: "2026-01-05T10:00:00Z",  # before since
        2: "2026-01-05T10:00:00.700Z",  # after since, in the same second
        3: "2026-01-05T10:00:05.200Z",  # before until, in the same second
        4: "2026-01-05T10:00:05.700Z",  # after until
        5: None,  # cannot be placed: kept
    }
    server = TwilioServer([record(i, c) for i, c in moments.items()], key=key)
    df = load(since="2026-01-05T10:00:00.5", until="2026-01-05T10:00:05.5", **server.options())
    assert sorted(df["recording_id"].str.slice(-1).to_list()) == ["2", "3", "5"]


def test_twilio_follows_a_relative_next_page_url_on_the_api_host() -> None:
    def relative(page: int, body: dict[str, Any]) -> dict[str, Any]:
        link = body["meta"]["next_page_url"]
        body["meta"]["next_page_url"] = link and link.removeprefix("https://video.example")
        return body

    server = TwilioServer(tracks(9), tamper=relative)
    df = ra.load_twilio_recordings(page_size=2, max_concurrency=1, **server.options())
    assert sids(df) == sorted(r["sid"] for r in tracks(9))
    assert {r.url.host for r in server.seen} == {"video.example"}


def test_twilio_follows_next_page_uri_where_the_body_has_no_meta() -> None:
    # twilio-python's Page.next_page_url: meta.next_page_url, else the top-level next_page_uri.
    def without_meta(page: int, body: dict[str, Any]) -> dict[str, Any]:
        link = body.pop("meta")["next_page_url"]
        body["next_page_uri"] = link and link.removeprefix("https://video.example")
        return body

    server = TwilioServer(tracks(9), tamper=without_meta)
    df = ra.load_twilio_recordings(page_size=2, max_concurrency=1, **server.options())
    assert sids(df) == sorted(r["sid"] for r in tracks(9))


@pytest.mark.parametrize(
    "envelope",
    [
        pytest.param(lambda body: body.pop("meta"), id="no-meta-no-next_page_uri"),
        pytest.param(lambda body: body.update(meta="page 2"), id="meta-not-an-object"),
        pytest.param(lambda body: body["meta"].pop("next_page_url"), id="meta-without-link"),
        pytest.param(lambda body: body["meta"].update(next_page_url=2), id="link-a-number"),
        pytest.param(lambda body: body["meta"].update(next_page_url={"p": 2}), id="link-object"),
        # "" read as the end, as twilio-python reads it: 10 of 300 rows, without a word.
        pytest.param(lambda body: body["meta"].update(next_page_url=""), id="link-empty"),
        pytest.param(lambda body: body["meta"].update(next_page_url=" "), id="link-blank"),
    ],
)
def test_twilio_a_page_without_its_next_link_is_not_taken_for_the_last(
    envelope: Callable[[dict[str, Any]], Any],
) -> None:
    """Every list answer carries its next link (null on the last page). A full page 2
    without one would have ended the load after 4 of 9 rows, as if complete (twilio-python
    too): it is asked for again, and if it stays broken the load fails with what it had."""

    def broken_at(number: int) -> Callable[[int, dict[str, Any]], dict[str, Any]]:
        def broken(page: int, body: dict[str, Any]) -> dict[str, Any]:
            if page == number:
                envelope(body)
            return body

        return broken

    # The broken page's rows are this query's: the error carries them with the pages before
    # (they were left out: 2 of the 4 rows answered, 0 of 2 when the first page was broken,
    # though its 2 valid rows came three times).
    for number, carried in ((1, 4), (0, 2)):
        server = TwilioServer(tracks(9), tamper=broken_at(number))
        with pytest.raises(ra.PaginationError, match=r"next-page link") as failed:
            ra.load_twilio_recordings(page_size=2, max_concurrency=1, **server.options())
        assert failed.value.partial.height == carried
        assert set(sids(failed.value.partial)) <= {r["sid"] for r in tracks(9)}

    once = {"left": 1}

    def broken_once(page: int, body: dict[str, Any]) -> dict[str, Any]:
        if page == 1 and once["left"]:
            once["left"] -= 1
            envelope(body)
        return body

    server = TwilioServer(tracks(9), tamper=broken_once)
    df = ra.load_twilio_recordings(page_size=2, max_concurrency=1, **server.options())
    assert sids(df) == sorted(r["sid"] for r in tracks(9))

    # A page shorter than asked is the last whatever its envelope says (a bare mock's answer).
    def bare(page: int, body: dict[str, Any]) -> dict[str, Any]:
        envelope(body)
        return body

    server = TwilioServer(tracks(3), tamper=bare)
    df = ra.load_twilio_recordings(page_size=5, max_concurrency=1, **server.options())
    assert sids(df) == sorted(r["sid"] for r in tracks(3))


def test_twilio_loses_nothing_when_the_list_comes_oldest_first() -> None:
    records = [
        twilio_track(i, (at("2025-01-01") + dt.timedelta(minutes=7 * i)).strftime("%Y-%m-%dT%H:%M:%SZ"))
        for i in range(600)
    ]  # fmt: skip
    server = TwilioServer(records, oldest_first=True)
    df = ra.load_twilio_recordings(page_size=50, **server.options())
    assert sids(df) == sorted(r["sid"] for r in records)


# --- Plivo ---------------------------------------------------------------------------------

PLIVO_AUTH = CREDENTIALS["plivo"].auth_id
PLIVO_SPAN = {"since": "2026-01-01", "until": "2026-01-20"}


@dataclass
class PlivoServer:
    """Plivo's list, newest first, in one of plivo-python 4.63's paging modes: ``offset``
    (``next`` carries an offset), ``cursor`` (``next`` carries a cursor; a sent offset is
    ignored) or ``hybrid`` (cursor links, but a sent offset is applied). ``cap`` is the largest
    ``limit`` the server honours (a smaller one is served silently)."""

    records: list[dict[str, Any]]
    mode: str = "offset"
    cap: int = 20
    host: str = "https://api.plivo.example"
    # the path a gateway serves the API under (base_url's), passing Plivo's answers through
    # as Plivo sent them: a request outside it is 404
    under: str = ""
    # (offset served, body) -> body, after the server built it
    tamper: Callable[[int, dict[str, Any]], dict[str, Any]] | None = None
    # called before each request is answered (the account changing while it is paged)
    before: Callable[[int], None] | None = None
    seen: list[httpx.Request] = field(default_factory=list)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        if self.before is not None:
            self.before(len(self.seen))
        if request.url.path != f"{self.under}/v1/Account/{PLIVO_AUTH}/Recording/":
            return httpx.Response(404, json={"api_id": "x", "error": "not found"})
        query = dict(parse_qsl(request.url.query.decode(), keep_blank_values=True))
        limit = min(int(query.get("limit", "20")), self.cap)
        if "cursor" in query:
            position = int(query["cursor"].removeprefix("c"))
            if self.mode == "hybrid" and "offset" in query:
                position = int(query["offset"])
        else:
            position = int(query.get("offset", "0")) if self.mode != "cursor" else 0
        link = None
        if position + limit < len(self.records):
            step = "offset=" if self.mode == "offset" else "cursor=c"
            link = f"/v1/Account/{PLIVO_AUTH}/Recording/?limit={limit}&{step}{position + limit}"
        meta = {"limit": limit, "offset": position, "total_count": len(self.records)}
        body = {
            "api_id": "x",
            "meta": {**meta, "next": link, "previous": None},
            "objects": self.records[position : position + limit],
        }
        if self.tamper is not None:
            body = self.tamper(position, body)
        return httpx.Response(200, json=body)

    def options(self) -> dict[str, Any]:
        return {
            "transport": httpx.MockTransport(self.handle),
            "credentials": CREDENTIALS["plivo"],
            "base_url": self.host + self.under,
            **FAST,
        }


def plivo_recordings(n: int) -> list[dict[str, Any]]:
    return [
        {"recording_id": f"rec-{i}", "add_time": "2026-01-05 10:00:00.000000+00:00"}
        for i in range(n)
    ]


def recording_ids(records: list[dict[str, Any]]) -> list[str]:
    return sorted(r["recording_id"] for r in records)


def without_total(position: int, body: dict[str, Any]) -> dict[str, Any]:
    del body["meta"]["total_count"]  # nothing to plan offsets with: the links are followed
    return body


def shortfall(position: int, body: dict[str, Any]) -> dict[str, Any]:
    body["meta"]["total_count"] = 21  # the list goes on past it: its meta.next is followed
    return body


@pytest.mark.parametrize(
    "tamper", [None, without_total, shortfall], ids=["total", "no-total", "past-total"]
)
@pytest.mark.parametrize("mode", ["offset", "cursor", "hybrid"])
def test_plivo_behind_a_gateway_path_pages_under_it(mode: str, tamper: Any) -> None:
    # base_url may carry a path (docs/loading.md). meta.next is Plivo's link from its own root
    # (/v1/Account/…): joined to the gateway's URL it lost the path, page 2 was a 404 and the
    # load failed with page 1's rows (cursor paging; offsets are built from the first URL).
    server = PlivoServer(plivo_recordings(45), mode=mode, under="/gw/plivo", tamper=tamper)
    df = ra.load_plivo_recordings(**PLIVO_SPAN, **server.options())
    assert sids(df) == recording_ids(server.records)
    assert {r.url.path for r in server.seen} == {f"/gw/plivo/v1/Account/{PLIVO_AUTH}/Recording/"}


def links_under(prefix: str) -> Callable[[int, dict[str, Any]], dict[str, Any]]:
    """A gateway that rewrites meta.next into its own path (``prefix``) as it passes it on."""

    def tamper(position: int, body: dict[str, Any]) -> dict[str, Any]:
        if body["meta"]["next"]:
            body["meta"]["next"] = prefix + body["meta"]["next"]
        return body

    return tamper


@pytest.mark.parametrize("rewrites", [False, True], ids=["links-as-sent", "links-rewritten"])
def test_plivo_behind_a_gateway_path_holding_v1_pages_under_it(rewrites: bool) -> None:
    # The gateway's own path holds Plivo's root segment ("/v1/plivo"): the link goes under what
    # comes before the last /v1/ of the first URL (the first /v1/ dropped the gateway's path),
    # and a link the gateway rewrote into its path is taken from its own last /v1/ on (its
    # first /v1/ asked the gateway's path twice).
    under = "/v1/plivo"
    tamper = links_under(under) if rewrites else None
    server = PlivoServer(plivo_recordings(45), mode="cursor", under=under, tamper=tamper)
    df = ra.load_plivo_recordings(**PLIVO_SPAN, **server.options())
    assert sids(df) == recording_ids(server.records)
    assert {r.url.path for r in server.seen} == {f"{under}/v1/Account/{PLIVO_AUTH}/Recording/"}


def test_an_absolute_next_link_is_followed_as_it_is_behind_a_gateway_path() -> None:
    # A link that names its host (with or without a scheme) is where the next page is, not a
    # path from the API's root: it is not put under the first request's gateway path.
    from recanalytics.paging import linked_url

    first = "https://gw.example/plivo/v1/Account/MA1/Recording/?limit=20"
    for link in (
        "https://next.example/v1/Account/MA1/Recording/?cursor=c2",
        "//next.example/v1/Account/MA1/Recording/?cursor=c2",
    ):
        assert linked_url(first, link, "/v1/") == (
            "https://next.example/v1/Account/MA1/Recording/?cursor=c2"
        )


def test_plivo_without_meta_walks_on_when_the_server_honours_a_smaller_limit() -> None:
    # plivo-python steps the offset itself for an answer without meta; a page shorter than the
    # limit asked is not the last when the server serves fewer per page than asked.
    def without_meta(position: int, body: dict[str, Any]) -> dict[str, Any]:
        del body["meta"]
        return body

    server = PlivoServer(plivo_recordings(45), cap=7, tamper=without_meta)
    df = ra.load_plivo_recordings(**PLIVO_SPAN, **server.options())
    assert sids(df) == recording_ids(server.records)


@pytest.mark.parametrize("mode", ["offset", "cursor", "hybrid"])
# 2: before the page at offset=limit that tests whether offsets work (read on trial)
@pytest.mark.parametrize("deleted_before", [2, 3])
def test_plivo_loses_no_recording_when_others_are_deleted_while_paging(
    mode: str, deleted_before: int
) -> None:
    # Deleting recordings near the top moves the later ones to offsets already read: the
    # distinct ids still match the new total_count, yet recordings that exist were skipped.
    records = plivo_recordings(60)
    remaining = recording_ids(records[5:])

    def delete_the_newest(request_number: int) -> None:
        if request_number == deleted_before:
            del records[:5]

    server = PlivoServer(records, mode=mode, before=delete_the_newest)
    df = ra.load_plivo_recordings(**PLIVO_SPAN, max_concurrency=1, **server.options())
    assert set(remaining) <= set(sids(df))


@pytest.mark.parametrize("mode", ["offset", "hybrid"])
def test_plivo_rows_come_newest_first_as_listed(mode: str) -> None:
    # The page at offset=limit that tests whether offsets work was kept after every page the
    # offsets fetched at once: positions 0-4, 10-24, then 5-9, so df.head() was not the newest.
    records = [
        {"recording_id": f"rec-{i:02d}",
         "add_time": f"2026-01-05 10:{59 - i:02d}:00.000000+00:00"}
        for i in range(25)
    ]  # fmt: skip
    server = PlivoServer(records, mode=mode, cap=5)
    df = ra.load_plivo_recordings(**PLIVO_SPAN, page_size=5, **server.options())
    assert df["recording_id"].to_list() == [r["recording_id"] for r in records]


def test_plivo_a_recording_listed_twice_on_a_page_is_one_row_and_the_load_complete() -> None:
    # total_count counts the list's entries: a recording the page itself lists twice is two of
    # them, so one de-duplicated row is the whole result, not a shortfall.
    records = plivo_recordings(5)
    records.append(dict(records[0]))
    server = PlivoServer(records)
    df = ra.load_plivo_recordings(**PLIVO_SPAN, **server.options())
    assert sids(df) == recording_ids(records[:5])


def test_plivo_never_sends_an_offset_with_a_cursor_even_when_the_link_carries_both() -> None:
    # plivo-python 4.63: a cursor supersedes offset, which must not ride along with it (a
    # hybrid server applies it, pinning the walk to the page it names).
    def both(position: int, body: dict[str, Any]) -> dict[str, Any]:
        del body["meta"]["total_count"]  # nothing to plan offsets with: the links are followed
        if body["meta"]["next"]:
            body["meta"]["next"] += "&offset=0"
        return body

    server = PlivoServer(plivo_recordings(50), mode="hybrid", tamper=both)
    df = ra.load_plivo_recordings(**PLIVO_SPAN, max_concurrency=1, **server.options())
    assert sids(df) == recording_ids(server.records)


@pytest.mark.parametrize("mode", ["offset", "hybrid", "cursor"])
@pytest.mark.parametrize("reported", [1, 21, 30, 41])
def test_plivo_a_total_count_lower_than_the_list_loses_nothing(mode: str, reported: int) -> None:
    # total_count is a cross-check, not a plan (api-contracts.md, section 3): the links still
    # point on past the count, and the rows they lead to are the query's.
    def undercount(position: int, body: dict[str, Any]) -> dict[str, Any]:
        body["meta"]["total_count"] = reported
        return body

    server = PlivoServer(plivo_recordings(57), mode=mode, tamper=undercount)
    df = ra.load_plivo_recordings(**PLIVO_SPAN, **server.options())
    assert sids(df) == recording_ids(server.records)


def test_plivo_a_page_answered_for_another_offset_is_asked_again() -> None:
    # A cache answering offset 40 with offset 20's page (its meta.offset says 20) and a
    # total_count one low: the repeated rows counted once, so the count looked met and the
    # 20 recordings at offset 40 were never asked for again.
    records = plivo_recordings(81)
    stale: dict[int, dict[str, Any]] = {}

    def cached(position: int, body: dict[str, Any]) -> dict[str, Any]:
        body["meta"]["total_count"] = len(records) - 1
        stale.setdefault(position, body)
        if position == 40 and len([r for r in server.seen if b"offset=40" in r.url.query]) == 1:
            return stale[20]
        return body

    server = PlivoServer(records, tamper=cached)
    df = ra.load_plivo_recordings(**PLIVO_SPAN, **server.options())
    assert sids(df) == recording_ids(records)
    assert sum(b"offset=40" in r.url.query for r in server.seen) == 2


@pytest.mark.parametrize("mode", ["offset", "hybrid"])
def test_plivo_a_retried_page_after_an_addition_loses_nothing_with_a_count_too_low(
    mode: str,
) -> None:
    # Offset 4 failed once; before its retry a recording was added at the top, so the retry
    # answered records 3-4 while offset 6, answered before, held 6-7: record 5 was on no page.
    # A total_count one too low (it counted one fewer than it listed) looked met.
    records = plivo_recordings(10)
    newcomer = {"recording_id": "rec-new", "add_time": "2026-01-05 10:00:00.000000+00:00"}

    def undercount(position: int, body: dict[str, Any]) -> dict[str, Any]:
        body["meta"]["total_count"] = len(records) - 1
        return body

    def add_before_the_retry(request_number: int) -> None:
        offsets = [dict(parse_qsl(r.url.query.decode())).get("offset") for r in server.seen]
        if offsets.count("4") == 2 and newcomer not in records:
            records.insert(0, newcomer)

    class FailingOnce(PlivoServer):
        failed = False

        def handle(self, request: httpx.Request) -> httpx.Response:
            query = dict(parse_qsl(request.url.query.decode()))
            if query.get("offset") == "4" and not self.failed:
                self.failed = True
                self.seen.append(request)
                return httpx.Response(503, json={"error": "busy"})
            return super().handle(request)

    server = FailingOnce(records, mode=mode, tamper=undercount, before=add_before_the_retry)
    df = ra.load_plivo_recordings(**PLIVO_SPAN, page_size=2, max_concurrency=2, **server.options())
    assert set(recording_ids(plivo_recordings(10))) <= set(sids(df))


def test_plivo_a_page_always_answered_for_another_offset_fails_the_load() -> None:
    records = plivo_recordings(81)

    def stuck(position: int, body: dict[str, Any]) -> dict[str, Any]:
        if position == 40:
            body["meta"]["offset"] = 20
            body["objects"] = records[20:40]
        return body

    server = PlivoServer(records, tamper=stuck)
    with pytest.raises(ra.PaginationError, match="offset 20 when asked for offset 40") as caught:
        ra.load_plivo_recordings(**PLIVO_SPAN, **server.options())
    # What was loaded comes with it, without the rows of the answers refused.
    assert caught.value.partial is not None
    assert set(sids(caught.value.partial)) <= set(recording_ids(records[:40] + records[60:]))


def test_plivo_a_server_echoing_a_fixed_offset_is_not_doubted() -> None:
    # A deployment (or a mock) that echoes offset 0 on every page: its pages are the offsets
    # asked for, and nothing says otherwise.
    def fixed(position: int, body: dict[str, Any]) -> dict[str, Any]:
        body["meta"]["offset"] = 0
        return body

    server = PlivoServer(plivo_recordings(81), tamper=fixed)
    df = ra.load_plivo_recordings(**PLIVO_SPAN, **server.options())
    assert sids(df) == recording_ids(server.records)
    assert len(server.seen) == 5


@pytest.mark.parametrize("reported", [200, 20_000])
def test_plivo_an_inflated_total_count_costs_a_few_pages_not_one_per_offset(
    reported: int,
) -> None:
    # The offsets a count names are asked for in order; none past the list's end (the first
    # short page) is, so a wild count cannot cost thousands of requests. The shortfall the
    # count claims is still an error that carries the rows.
    def inflate(position: int, body: dict[str, Any]) -> dict[str, Any]:
        body["meta"]["total_count"] = reported
        return body

    server = PlivoServer(plivo_recordings(57), tamper=inflate)
    with pytest.raises(ra.PaginationError) as caught:
        ra.load_plivo_recordings(**PLIVO_SPAN, **server.options())
    assert caught.value.partial is not None
    assert sids(caught.value.partial) == recording_ids(server.records)
    # Pages 1 and 2, one offset per task (they start together, before the end is seen), then
    # the list's three pages by its links from page 1, and once more by the count's check.
    concurrency = 10  # Plivo's default
    assert len(server.seen) <= 2 + concurrency + 3 + 3


def test_plivo_offsets_past_the_page_cap_are_not_fanned_out() -> None:
    # total_count names the offsets to ask for at once: when they would take the load past
    # max_pages, it stops before asking them, with the two pages it read.
    server = PlivoServer(plivo_recordings(95))
    with pytest.raises(
        ra.PaginationError, match="95 records need more than the page cap of 3"
    ) as caught:
        ra.load_plivo_recordings(**PLIVO_SPAN, max_pages=3, **server.options())
    assert [r.url.params.get("offset", "0") for r in server.seen] == ["0", "20"]
    assert caught.value.partial is not None
    assert sids(caught.value.partial) == recording_ids(server.records[:40])
    server.seen.clear()
    df = ra.load_plivo_recordings(**PLIVO_SPAN, max_pages=5, **server.options())
    assert sids(df) == recording_ids(server.records)
    assert len(server.seen) == 5


def test_plivo_cursor_paging_keeps_a_row_without_id_once() -> None:
    # Whether offsets work is tried with a request at offset=limit; a cursor server ignores
    # the offset and answers page 1 again, whose rows without an id must not be kept twice.
    records = plivo_recordings(41)
    records[3]["recording_id"] = None
    server = PlivoServer(records, mode="cursor")
    df = ra.load_plivo_recordings(**PLIVO_SPAN, **server.options())
    assert df.height == 41
    assert df["recording_id"].null_count() == 1


def test_plivo_a_cursor_page_answered_with_page_1s_rows_is_asked_again() -> None:
    # A stale cache answers the third cursor once with page 1's rows while linking on. With no
    # total_count to cross-check, only the rows show it: taken as page 3, the 20 recordings
    # there were never read (75 of 95, without a word).
    records = plivo_recordings(95)
    stale = {"left": 1}

    def cached(position: int, body: dict[str, Any]) -> dict[str, Any]:
        del body["meta"]["total_count"]
        if position == 40 and stale["left"]:
            stale["left"] -= 1
            body["objects"] = records[:20]
        return body

    server = PlivoServer(records, mode="cursor", tamper=cached)
    df = ra.load_plivo_recordings(**PLIVO_SPAN, max_concurrency=1, **server.options())
    assert sids(df) == recording_ids(records)
    assert [r.url.params.get("cursor") for r in server.seen].count("c40") == 2


def plivo_lagging_once(records: list[dict[str, Any]], *, renamed: bool = False) -> PlivoServer:
    """A cursor server whose page 3 misses one recording the first time (a replica lagging):
    the count shows the shortfall, and the query is walked again from page 1. ``renamed``:
    from that answer on, every recording's conference is named "after" (it was "before")."""
    lagged: list[int] = []

    def lag(position: int, body: dict[str, Any]) -> dict[str, Any]:
        if position == 40 and not lagged:
            lagged.append(position)
            body["objects"] = body["objects"][1:]
        if renamed:
            name = "after" if lagged else "before"
            body["objects"] = [{**r, "conference_name": name} for r in body["objects"]]
        return body

    return PlivoServer(records, mode="cursor", tamper=lag)


def test_plivo_a_page_short_once_is_read_again_not_failed() -> None:
    # 94 of the 95 recordings total_count reports arrived: a glitch while paging, mended by
    # walking the query again, not a PaginationError for one recording.
    records = plivo_recordings(95)
    server = plivo_lagging_once(records)
    df = ra.load_plivo_recordings(**PLIVO_SPAN, max_concurrency=1, **server.options())
    assert sids(df) == recording_ids(records)


def test_plivo_a_query_read_again_in_place_of_its_first_reading_keeps_no_trial_page() -> None:
    # Offsets work (the page at offset=limit, read on trial, joins the query), but a page they
    # fetched misses a recording once: the count shows it, and the query holds a row without
    # an id, so it is read again from page 1 in place of its first reading. The trial page
    # was part of that reading: kept, its row without an id came back twice.
    records = plivo_recordings(60)
    records[25]["recording_id"] = None  # on the trial page (offset 20)
    lagged: list[int] = []

    def lag(position: int, body: dict[str, Any]) -> dict[str, Any]:
        if position == 40 and not lagged:
            lagged.append(position)
            body["objects"] = body["objects"][1:]
        return body

    server = PlivoServer(records, tamper=lag)
    df = ra.load_plivo_recordings(**PLIVO_SPAN, max_concurrency=1, **server.options())
    assert lagged and df.height == 60
    assert df["recording_id"].null_count() == 1


@pytest.mark.parametrize("bug_in", ["first", "last"])
def test_a_bug_in_one_query_outranks_the_providers_error_in_another(bug_in: str) -> None:
    # Every query runs to its end whatever another's outcome; where one failed with the
    # provider's error and another with a bug (here the caller's transport raising), the bug
    # is raised, whichever query came first.
    server = PlivoServer([])

    def starts(request: httpx.Request) -> str:
        return next(v for k, v in request.url.params.multi_items() if k.startswith("add_time__g"))

    asked: set[str] = set()

    def listing(request: httpx.Request) -> httpx.Response:
        asked.add(starts(request))
        return server.handle(request)

    span = {"since": "2025-01-01", "until": "2026-01-01"}
    ra.load_plivo_recordings(
        **span, **server.options() | {"transport": httpx.MockTransport(listing)}
    )
    first, last = min(asked), max(asked)
    assert len(asked) >= 3  # the range is loaded in several queries at once

    def failing(request: httpx.Request) -> httpx.Response:
        if starts(request) == (first if bug_in == "first" else last):
            raise RuntimeError("a bug")
        if starts(request) == (last if bug_in == "first" else first):
            return httpx.Response(400, json={"api_id": "x", "error": "bad request"})
        return server.handle(request)

    with pytest.raises(RuntimeError, match="a bug"):
        ra.load_plivo_recordings(
            **span, **server.options() | {"transport": httpx.MockTransport(failing)}
        )


def test_plivo_a_recording_read_twice_keeps_its_later_reading() -> None:
    # The walk again reads pages 1 and 2 a second time; their recordings changed in between
    # (conference renamed) show the later reading: the last copy of each id is kept
    # (docs/architecture.md), not the first, stale one (40 of 95 rows).
    server = plivo_lagging_once(plivo_recordings(95), renamed=True)
    df = ra.load_plivo_recordings(**PLIVO_SPAN, max_concurrency=1, **server.options())
    assert sids(df) == recording_ids(server.records)
    assert df["group_name"].unique().to_list() == ["after"]


@pytest.mark.parametrize(
    "garbled",
    [
        pytest.param(lambda body: body.update(meta="see headers"), id="meta-text"),
        pytest.param(lambda body: body.update(meta=["x"]), id="meta-list"),
        pytest.param(lambda body: body.update(meta=5), id="meta-number"),
        pytest.param(lambda body: body["meta"].update(next=40), id="next-a-number"),
        pytest.param(lambda body: body["meta"].update(next={"offset": 40}), id="next-object"),
    ],
)
def test_plivo_a_meta_that_is_not_an_object_pages_on_by_offsets(
    garbled: Callable[[dict[str, Any]], Any],
) -> None:
    # Neither a last page (next: null) nor an answer to trust: stepped like one without meta.
    def garble(position: int, body: dict[str, Any]) -> dict[str, Any]:
        garbled(body)
        if isinstance(body["meta"], dict):
            del body["meta"]["total_count"]  # no count that would catch the shortfall
        return body

    server = PlivoServer(plivo_recordings(57), tamper=garble)
    df = ra.load_plivo_recordings(**PLIVO_SPAN, **server.options())
    assert sids(df) == recording_ids(server.records)


# --- SignalWire ----------------------------------------------------------------------------

SIGNALWIRE_ROOTS = ("/api/laml", "")  # the docs' form, and the SDK's (on the space host)


@dataclass
class SignalWireServer:
    """A space serving the Compatibility API under ``root`` only (another path form is 404),
    whose ``next_page_uri`` carries ``link_root`` (what the URI's own prefix says)."""

    records: list[dict[str, Any]]
    root: str
    link_root: str
    meta: bool = False
    host: str = "https://ex.signalwire.com"
    seen: list[httpx.Request] = field(default_factory=list)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        list_path = f"{self.root}/2010-04-01/Accounts/{UUID}/Recordings.json"
        if request.url.path != list_path:
            return httpx.Response(404, json={"code": 20404, "message": "Not found", "status": 404})
        query = parse_qsl(request.url.query.decode(), keep_blank_values=True)
        size, page = int(dict(query).get("PageSize", "50")), int(dict(query).get("Page", "0"))
        link = None
        if (page + 1) * size < len(self.records):
            kept = [(k, v) for k, v in query if k not in ("Page", "PageToken")]
            paging = [("Page", str(page + 1)), ("PageToken", f"PA{page + 1}")]
            link = f"{self.link_root}/2010-04-01/Accounts/{UUID}/Recordings.json?"
            link += urlencode([*kept, *paging])
        chunk = self.records[page * size : (page + 1) * size]
        if self.meta:  # the newer envelope, which twilio-python reads first
            meta = {"key": "recordings", "next_page_url": link and self.host + link}
            return httpx.Response(200, json={"recordings": chunk, "meta": meta})
        return httpx.Response(200, json={"recordings": chunk, "next_page_uri": link})

    def options(self) -> dict[str, Any]:
        return {
            "transport": httpx.MockTransport(self.handle),
            "credentials": CREDENTIALS["signalwire"],
            "base_url": self.host,
            **FAST,
        }


@pytest.mark.parametrize("link_root", SIGNALWIRE_ROOTS, ids=["link-laml", "link-bare"])
@pytest.mark.parametrize("root", SIGNALWIRE_ROOTS, ids=["served-laml", "served-bare"])
def test_signalwire_follows_next_page_uri_on_the_root_that_answered(
    root: str, link_root: str
) -> None:
    records = [
        {"sid": f"00000000-0000-0000-0000-{i:012x}", "date_created": "Mon, 05 Jan 2026 10:00:00 +0000"}
        for i in range(9)
    ]  # fmt: skip
    server = SignalWireServer(records, root, link_root)
    df = ra.load_signalwire_recordings(page_size=2, max_concurrency=1, **server.options())
    assert sids(df) == sorted(r["sid"] for r in records)


def test_signalwire_a_page_without_next_page_uri_is_not_taken_for_the_last() -> None:
    records = [
        {"sid": f"00000000-0000-0000-0000-{i:012x}", "date_created": "Mon, 05 Jan 2026 10:00:00 +0000"}
        for i in range(9)
    ]  # fmt: skip
    server = SignalWireServer(records, "/api/laml", "/api/laml")
    answer = server.handle

    def without_link(request: httpx.Request) -> httpx.Response:
        response = answer(request)
        body = response.json()
        if "Page=1" in str(request.url):
            del body["next_page_uri"]
        return httpx.Response(response.status_code, json=body)

    options = server.options() | {"transport": httpx.MockTransport(without_link)}
    with pytest.raises(ra.PaginationError, match=r"next_page_uri") as failed:
        ra.load_signalwire_recordings(page_size=2, max_concurrency=1, **options)
    assert failed.value.partial.height == 4  # the page without its link included


# --- Zoom ----------------------------------------------------------------------------------


@dataclass
class ZoomServer:
    """Zoom's session list for one date window: ``total_records`` counts the sessions it
    holds, ``next_page_token`` an opaque position, ``""`` on the last page."""

    sessions: list[dict[str, Any]]

    def handle(self, request: httpx.Request) -> httpx.Response:
        size = int(request.url.params["page_size"])
        position = int(request.url.params.get("next_page_token") or "0")
        end = position + size
        body = {
            "page_size": size,
            "total_records": len(self.sessions),
            "next_page_token": str(end) if end < len(self.sessions) else "",
            "sessions": self.sessions[position:end],
        }
        return httpx.Response(200, json=body)

    def options(self) -> dict[str, Any]:
        return {
            "transport": httpx.MockTransport(self.handle),
            "credentials": CREDENTIALS["zoom"],
            "base_url": "https://zoom.example",
            **FAST,
        }


def zoom_session(i: int) -> dict[str, Any]:
    start = "2026-01-05T10:00:00Z"
    file = {"id": f"file-{i}", "file_type": "MP4", "recording_start": start}
    return {"session_id": f"s{i}==", "start_time": start, "recording_files": [file]}


@pytest.mark.parametrize("always", [False, True])  # once; on every pass (the passes run out)
def test_zoom_loses_no_session_when_one_is_deleted_while_paging(always: bool) -> None:
    """A token that resumes at a position: a session deleted after page 1 was read moved the
    first session of page 2 onto page 1, never read. total_records fell (10 to 9), yet the
    distinct sessions read matched it, and the load returned without them or a word."""
    sessions = [zoom_session(i) for i in range(10)]
    served = ZoomServer(sessions)
    asked = {"n": 0}

    def deleting(request: httpx.Request) -> httpx.Response:
        asked["n"] += 1
        if "next_page_token" in request.url.params and (always or asked["n"] == 2):
            del sessions[0]  # already read: every later session moves up one position
        return served.handle(request)

    options = served.options() | {"transport": httpx.MockTransport(deleting)}
    load = functools.partial(
        ra.load_zoom_recordings,
        since="2026-01-01",
        until="2026-01-10",
        page_size=3,
        max_concurrency=1,
        **options,
    )
    if not always:
        assert set(sids(load())) >= {f"file-{i}" for i in range(1, 10)}
        return
    with pytest.raises(ra.PaginationError, match="kept falling") as info:
        load()
    assert info.value.partial.height >= 3


def test_zoom_counts_sessions_without_an_id_or_sharing_one_as_the_total_does() -> None:
    # total_records counts the sessions listed; one without a session_id, or two listed under
    # one id, are still sessions: a load that got them all is complete, not short.
    sessions = [zoom_session(i) for i in range(6)]
    for session in sessions[:2]:
        del session["session_id"]
    sessions[2]["session_id"] = None
    sessions[4]["session_id"] = sessions[3]["session_id"]
    server = ZoomServer(sessions)
    df = ra.load_zoom_recordings(
        since="2026-01-01", until="2026-01-10", page_size=2, **server.options()
    )
    assert sids(df) == sorted(f"file-{i}" for i in range(6))


def test_zoom_an_answer_for_another_date_window_is_asked_again(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Zoom echoes each query's ``from``/``to``. An answer for another month (a proxy mixing
    queries up) carries that month's total and an empty token: taken as this window's, it ended
    the window without its rows (16 of 33 in the fault audit). It is asked for again; a range
    Zoom narrows (``to`` past today) still overlaps and is accepted, and an echo that stays
    the same when asked again (a fixed one, as a mock's) is taken, with a logged warning."""

    def session(i: int, day: str) -> dict[str, Any]:
        start = f"{day}T10:00:00Z"
        files = [{"id": f"file-{i}", "file_type": "MP4", "recording_start": start}]
        return {"session_id": f"s{i}==", "start_time": start, "recording_files": files}

    sessions = [session(0, "2025-12-10"), *(session(i, f"2026-01-1{i}") for i in range(1, 4))]
    mixups = {"left": 1}

    def answer(low: str, high: str) -> dict[str, Any]:
        held = [s for s in sessions if low <= s["start_time"][:10] <= high]
        return {"from": low, "to": high, "page_size": 300, "total_records": len(held),
                "next_page_token": "", "sessions": held}  # fmt: skip

    def handle(request: httpx.Request) -> httpx.Response:
        low, high = request.url.params["from"], request.url.params["to"]
        if high.startswith("2026-01") and mixups["left"]:  # the window of January's days
            mixups["left"] -= 1
            return httpx.Response(200, json=answer("2025-12-01", "2025-12-31"))
        return httpx.Response(200, json=answer(low, high))

    options = ZoomServer([]).options() | {"transport": httpx.MockTransport(handle)}
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        df = ra.load_zoom_recordings(since="2025-12-01", until="2026-02-01", **options)
        assert sorted(df["group_id"].unique().to_list()) == [f"s{i}==" for i in range(4)]
        assert not [w for w in said if "taken as it is" in str(w.message)]
        mixups["left"] = 99
        fixed = ra.load_zoom_recordings(since="2025-12-01", until="2026-02-01", **options)
    assert fixed["group_id"].unique().to_list() == ["s0=="]  # what the server said, as said
    # December's answer shares two days with the window asked for (windows overlap on their
    # edge days): it reaches outside it, so it is still another window's answer. Taken only
    # after the same echo on every try, and said in a LoadWarning, not only a log line.
    taken = [str(w.message) for w in said if issubclass(w.category, ra.LoadWarning)]
    assert any(
        "answered for 2025-12-01..2025-12-31 where 2025-12-30..2026-01-30 was asked, on all 3 "
        "tries" in m
        for m in taken
    ), taken


def test_zoom_a_fixed_echo_once_taken_is_not_doubted_again_on_later_pages() -> None:
    """After taking a fixed echo, Zoom's pager doubted it again on every later page: each page
    asked three times, with a LoadWarning each time (Twilio's pager remembered it)."""
    sessions = [zoom_session(i) for i in range(9)]
    served = ZoomServer(sessions)
    asked: list[str] = []

    def fixed_echo(request: httpx.Request) -> httpx.Response:
        asked.append(str(request.url))
        body = served.handle(request).json() | {"from": "2020-01-01", "to": "2020-01-31"}
        return httpx.Response(200, json=body)

    options = served.options() | {"transport": httpx.MockTransport(fixed_echo)}
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        df = ra.load_zoom_recordings(
            since="2026-01-01", until="2026-01-10", page_size=2, max_concurrency=1, **options
        )
    assert sids(df) == sorted(f"file-{i}" for i in range(9))
    taken = [w for w in said if "taken as it is" in str(w.message)]
    firsts = [url for url in asked if "next_page_token" not in url]
    # Each query's first page is asked three times and warned about once; its other pages once.
    assert len(taken) == len(set(firsts)) and len(firsts) == 3 * len(set(firsts)), asked
    assert len(asked) - len(firsts) == len({u for u in asked if "next_page_token" in u})


def test_zoom_a_token_answered_with_page_1s_sessions_is_asked_again() -> None:
    # A stale cache answers the third token once with page 1's sessions and the next token.
    # Without total_records (an envelope that lost it) only the rows show it: taken as page 3,
    # its three sessions were never read.
    sessions = [zoom_session(i) for i in range(12)]
    served = ZoomServer(sessions)
    tokens: list[str | None] = []

    def stale_once(request: httpx.Request) -> httpx.Response:
        token = request.url.params.get("next_page_token")
        tokens.append(token)
        body = served.handle(request).json()
        del body["total_records"]
        if token == "6" and tokens.count("6") == 1:
            body["sessions"] = sessions[:3]
        return httpx.Response(200, json=body)

    options = served.options() | {"transport": httpx.MockTransport(stale_once)}
    df = ra.load_zoom_recordings(
        since="2026-01-01", until="2026-01-10", page_size=3, max_concurrency=1, **options
    )
    assert sids(df) == sorted(f"file-{i}" for i in range(12))
    assert tokens.count("6") == 2


def test_signalwire_follows_a_meta_next_page_url_in_the_newer_envelope() -> None:
    records = [
        {"sid": f"00000000-0000-0000-0000-{i:012x}", "date_created": "Mon, 05 Jan 2026 10:00:00 +0000"}
        for i in range(9)
    ]  # fmt: skip
    server = SignalWireServer(records, "/api/laml", "/api/laml", meta=True)
    df = ra.load_signalwire_recordings(page_size=2, max_concurrency=1, **server.options())
    assert sids(df) == sorted(r["sid"] for r in records)


# --- getters -------------------------------------------------------------------------------

GETTERS = {
    "twilio": (ra.get_twilio_recording, "RT" + "a" * 32),
    "twilio-composition": (ra.get_twilio_composition, "CJ" + "a" * 32),
    "plivo": (ra.get_plivo_recording, "fc2716b0-1c8b-11e4-bwad-842b2b17453e"),
    "zoom": (ra.get_zoom_session_recordings, "ab/c+d=="),
    "signalwire": (ra.get_signalwire_recording, UUID),
}


@pytest.mark.parametrize("body", [b"null", b"[]", b"{}"])
@pytest.mark.parametrize("name", GETTERS)
def test_a_getter_answered_200_without_a_record_raises_instead_of_a_row_of_nulls(
    name: str, body: bytes
) -> None:
    get, key = GETTERS[name]
    transport = httpx.MockTransport(lambda request: httpx.Response(200, content=body))
    credentials = CREDENTIALS[name.split("-")[0]]
    with pytest.raises(ProviderError, match="without a record"):
        get(key, transport=transport, credentials=credentials, base_url="https://x.example", **FAST)


@pytest.mark.parametrize(
    ("provider", "load", "other"),
    [
        pytest.param(
            "twilio",
            ra.load_twilio_recordings,
            {"DateCreatedBefore": "2015-01-01T00:00:00Z"},
            id="twilio",
        ),
        pytest.param(
            "signalwire",
            ra.load_signalwire_recordings,
            {"DateCreated<": "Thu, 01 Jan 2015 00:00:00 +0000"},
            id="signalwire",
        ),
    ],
)
def test_an_answer_echoing_another_querys_filters_is_asked_again(
    provider: str, load: Callable[..., pl.DataFrame], other: dict[str, str]
) -> None:
    """One window answered with the server's own answer to another, empty query (a cache
    mixing query strings up): its null next link ended the window, 52 of 300 rows (Twilio)
    and 75 of 90 (SignalWire) without a word. Its echoed URL names the other query's filters,
    as Zoom's echoed from/to already did."""
    from recanalytics.sandbox import Sandbox

    box = Sandbox(seed=3, size=300, start=dt.datetime(2026, 6, 1, tzinfo=dt.UTC),
                  end=dt.datetime(2026, 11, 1, tzinfo=dt.UTC))  # fmt: skip
    options = {"page_size": 10, "rate_limit": 1e6}
    full = load(**box.options(provider), **options)

    class MixedUpOnce(httpx.AsyncBaseTransport):
        mixed = 0

        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            answer = await box.transport.handle_async_request(request)
            if self.mixed or "DateCreated" not in str(request.url):
                return answer
            await answer.aread()
            if not answer.json().get("recordings"):
                return answer
            self.mixed += 1
            params = {"PageSize": request.url.params["PageSize"], **other}
            elsewhere = httpx.Request("GET", request.url.copy_with(params=params))
            elsewhere.headers.update(request.headers)
            empty = await box.transport.handle_async_request(elsewhere)
            await empty.aread()
            assert empty.status_code == 200 and not empty.json()["recordings"]
            return httpx.Response(200, content=empty.content, request=request)

    transport = MixedUpOnce()
    got = load(**(box.options(provider) | {"transport": transport}), **options)
    assert transport.mixed == 1
    assert got["recording_id"].sort().equals(full["recording_id"].sort())


def test_a_short_answer_to_another_query_without_its_next_link_is_asked_again() -> None:
    """The same mix-up, answered by a server whose empty page leaves its next link out: a short
    page without a link read as the query's last one whatever its echo said, 5 of 30 rows."""
    from recanalytics.sandbox import Sandbox

    box = Sandbox(seed=3, size=30, providers=["twilio"])
    other = "https://video.twilio.com/v1/Recordings?DateCreatedAfter=1999-01-01T00%3A00%3A00Z"
    full = ra.load_twilio_recordings(since="2026-01-01", page_size=5, **box.options("twilio"))

    class MixedUpOnce(httpx.AsyncBaseTransport):
        asked = 0

        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            self.asked += 1
            if self.asked == 2:
                meta = {"key": "recordings", "url": other, "first_page_url": other, "page": 0}
                return httpx.Response(200, json={"recordings": [], "meta": meta})
            return await box.transport.handle_async_request(request)

    transport = MixedUpOnce()
    got = ra.load_twilio_recordings(
        since="2026-01-01", page_size=5, **(box.options("twilio") | {"transport": transport})
    )
    assert transport.asked > 2 and full.height > 5
    assert got["recording_id"].sort().equals(full["recording_id"].sort())


@pytest.mark.parametrize(
    ("provider", "load", "filters", "link"),
    [
        pytest.param(
            "twilio",
            ra.load_twilio_recordings,
            {"status": "completed", "media_type": "video"},
            ("meta", "next_page_url"),
            id="twilio",
        ),
        pytest.param(
            "signalwire",
            ra.load_signalwire_recordings,
            {"since": "2026-07-01", "until": "2026-09-01"},
            ("next_page_uri",),
            id="signalwire",
        ),
    ],
)
def test_a_next_link_that_drops_a_filter_gets_it_back(
    provider: str,
    load: Callable[..., pl.DataFrame],
    filters: dict[str, str],
    link: tuple[str, ...],
) -> None:
    """A next link rewritten without the query's filters (a proxy) paged on through rows the
    query excludes: 22 processing, deleted or failed tracks among 298 'completed' ones."""
    from urllib.parse import urlsplit, urlunsplit

    from recanalytics.sandbox import Sandbox

    box = Sandbox(seed=3, size=300, start=dt.datetime(2026, 6, 1, tzinfo=dt.UTC),
                  end=dt.datetime(2026, 11, 1, tzinfo=dt.UTC))  # fmt: skip
    options = {"page_size": 10, "max_concurrency": 1, **filters}
    want = load(**box.options(provider), **options)

    class DropsFilters(httpx.AsyncBaseTransport):
        rewritten = 0

        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            answer = await box.transport.handle_async_request(request)
            await answer.aread()
            body = answer.json()
            holder = body.get("meta", body) if len(link) == 2 else body
            url = holder.get(link[-1]) if isinstance(holder, dict) else None
            if not url:
                return answer
            parts = urlsplit(url)
            paging = [(k, v) for k, v in parse_qsl(parts.query) if k.startswith("Page")]
            holder[link[-1]] = urlunsplit(parts._replace(query=urlencode(paging)))
            self.rewritten += 1
            return httpx.Response(answer.status_code, json=body, request=request)

    transport = DropsFilters()
    got = load(**(box.options(provider) | {"transport": transport}), **options)
    assert transport.rewritten >= 3
    assert got["recording_id"].sort().equals(want["recording_id"].sort())


def test_the_rows_of_an_answer_to_another_query_are_not_kept() -> None:
    """Asked again, the answer to another query (Status=processing for a 'completed' load)
    still left its rows in the frame: 280 rows where 270 were asked, 10 processing."""
    from recanalytics.sandbox import Sandbox

    box = Sandbox(seed=3, size=300, start=dt.datetime(2026, 6, 1, tzinfo=dt.UTC),
                  end=dt.datetime(2026, 11, 1, tzinfo=dt.UTC))  # fmt: skip
    options = {"page_size": 10, "rate_limit": 1e6, "status": "completed"}
    want = ra.load_twilio_recordings(**box.options("twilio"), **options)

    class MixedUpOnce(httpx.AsyncBaseTransport):
        mixed = 0

        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            if self.mixed or "DateCreated" not in str(request.url):
                return await box.transport.handle_async_request(request)
            self.mixed += 1
            params = {"PageSize": "10", "Status": "processing"}
            elsewhere = httpx.Request("GET", request.url.copy_with(params=params))
            elsewhere.headers.update(request.headers)
            other = await box.transport.handle_async_request(elsewhere)
            await other.aread()
            assert other.json()["recordings"]  # rows this load must not keep
            return httpx.Response(200, content=other.content, request=request)

    transport = MixedUpOnce()
    got = ra.load_twilio_recordings(**(box.options("twilio") | {"transport": transport}), **options)
    assert transport.mixed == 1 and set(got["status"]) == {"completed"}
    assert got["recording_id"].sort().equals(want["recording_id"].sort())


@pytest.mark.parametrize(
    ("answers", "outcome"),
    [
        (["processing", "processing"], "whole"),  # mixed up twice, then the right answer
        (["failed", "processing", "deleted"], "error"),  # a different echo each try
        (["processing"] * 3, "warned"),  # the same echo every time: a fixed one, said
    ],
)
def test_an_answer_to_another_query_is_taken_only_when_its_echo_never_changes(
    answers: list[str], outcome: str
) -> None:
    """The second answer naming other filters was taken, whatever it named, without a
    LoadWarning, and the query's echoes were not judged again: a cache answering one page
    twice with another query's page left 20 of 370 rows, 10 of them 'failed'."""
    from recanalytics.sandbox import Sandbox

    box = Sandbox(seed=3, size=300, start=dt.datetime(2026, 6, 1, tzinfo=dt.UTC),
                  end=dt.datetime(2026, 11, 1, tzinfo=dt.UTC))  # fmt: skip
    options = {"page_size": 10, "rate_limit": 1e6, "status": "completed", "max_concurrency": 1}
    want = ra.load_twilio_recordings(**box.options("twilio"), **options)
    left = list(answers)

    class MixedUp(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            if not left or "Page=2" not in str(request.url):
                return await box.transport.handle_async_request(request)
            params = {"PageSize": "10", "Status": left.pop(0)}
            elsewhere = httpx.Request("GET", request.url.copy_with(params=params))
            elsewhere.headers.update(request.headers)
            other = await box.transport.handle_async_request(elsewhere)
            await other.aread()
            return httpx.Response(200, content=other.content, request=request)

    options |= {"transport": MixedUp()}
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        if outcome == "error":
            with pytest.raises(ra.PaginationError) as info:
                ra.load_twilio_recordings(**(box.options("twilio") | options))
            assert set(info.value.partial["status"]) <= {"completed"}
            return
        got = ra.load_twilio_recordings(**(box.options("twilio") | options))
    taken = [str(w.message) for w in said if "taken as it is" in str(w.message)]
    if outcome == "whole":
        assert got["recording_id"].sort().equals(want["recording_id"].sort()) and not taken
    else:
        assert taken and "Status='processing'" in taken[0], taken


@pytest.mark.parametrize(
    ("asked", "echoed", "same"),
    [
        ("completed", "Completed", True),
        (
            "Wed, 31 Dec 2025 23:59:59 +0000",
            "Wed, 31 Dec 2025 23:59:59  0000",
            True,
        ),  # "+" unencoded
        ("Wed, 31 Dec 2025 23:59:59 +0000", "2025-12-31T23:59:59Z", True),
        # A server echoing the day it read the filter as (SignalWire may read them by the day):
        # judged another query, every window's first page was asked twice.
        ("Wed, 31 Dec 2025 23:59:59 +0000", "2025-12-31", True),
        ("2026-01-01T00:00:00Z", "2026-03-01", False),
        ("completed", "processing", False),
    ],
)
def test_an_echoed_filter_is_compared_as_its_value(asked: str, echoed: str, same: bool) -> None:
    from recanalytics.paging import _same

    assert _same(asked, echoed) is same
