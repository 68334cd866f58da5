"""The loaders against the official provider SDKs, on the same sandbox served over 127.0.0.1.

The other tests check the loaders against the sandbox and against expectations this team wrote.
Here the reference is code the team did not write: the providers' own Python SDKs, pointed at the
served sandbox, read the same listing, and the two results are compared recording by recording
(no id lost or added, none twice) and field by field (status, size, duration, creation time,
codec, container, ...), with and without a date range. A failure lists the missing and extra ids
and the differing fields.

* twilio-python (>= 9): Video track recordings and compositions.
* plivo-python (>= 4.63): recordings, through its auto-paginating iterator, in each paging mode
  it knows since 4.63 (offset, cursor, hybrid).
* SignalWire: the official ``signalwire`` package is twilio-python's 2010 API client with its
  base URL set to the space. Its latest release (2.1.1) pins ``twilio==6.54.0`` and
  ``aiohttp==3.9.5`` and does not import with twilio >= 9, so it cannot be installed beside
  this one: the comparison runs with twilio-python's own 2010 client, which it wraps.

The ``dev`` extra installs both SDKs; each check skips only where its SDK is missing.
"""

from __future__ import annotations

import datetime as dt
import inspect
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import polars as pl
import pytest

import recanalytics as ra
from recanalytics.sandbox import Sandbox, SandboxServer

Record = dict[str, Any]
Range = tuple[dt.datetime, dt.datetime] | None

SHOWN = 10  # ids listed per kind of difference in a failure message
UTC = dt.UTC
# The Twilio loaders read a 0 duration or size of an unfinished or deleted track or composition
# as unknown (TwilioList.until_media): Twilio reports 0 while no file exists.
UNFINISHED = ("enqueued", "processing", "failed", "deleted")
PLIVO_PAGING = ("offset", "cursor", "hybrid")
# Inside the sandbox's data (2025-01-01 to 2026-11-01) and under Plivo's 30-day limit.
PLIVO_WINDOW = (dt.datetime(2026, 10, 2, 6, tzinfo=UTC), dt.datetime(2026, 10, 30, 18, tzinfo=UTC))
PLIVO_PAGE = 20  # the SDK iterator's page size, Plivo's largest
PLIVO_API = "https://api.plivo.com"


def compare(
    what: str, sdk: Iterable[tuple[str, Record]], ours: Iterable[tuple[str, Record]]
) -> None:
    """Fail, listing every difference, unless both sides hold the same ids once each, with equal
    fields (the SDK's record names the fields compared)."""
    sdk_rows, sdk_twice = _by_id(sdk)
    our_rows, our_twice = _by_id(ours)
    missing = sorted(sdk_rows.keys() - our_rows.keys())
    extra = sorted(our_rows.keys() - sdk_rows.keys())
    differing = {
        rid: {
            field: (value, our_rows[rid].get(field))
            for field, value in sdk_rows[rid].items()
            if value != our_rows[rid].get(field)
        }
        for rid in sorted(sdk_rows.keys() & our_rows.keys())
    }
    differing = {rid: fields for rid, fields in differing.items() if fields}
    problems = [
        _listed(f"missing from the loader ({len(missing)})", missing),
        _listed(f"extra in the loader ({len(extra)})", extra),
        _listed(f"twice in the loader ({len(our_twice)})", our_twice),
        _listed(f"twice in the SDK's list ({len(sdk_twice)})", sdk_twice),
        _listed(
            f"fields differing ({len(differing)} records; SDK != loader)",
            [
                f"{rid}: " + ", ".join(f"{name} {a!r} != {b!r}" for name, (a, b) in fields.items())
                for rid, fields in differing.items()
            ],
        ),
    ]
    problems = [p for p in problems if p]
    if problems:
        pytest.fail(
            f"{what}: {len(sdk_rows)} records by the SDK, {len(our_rows)} by the loader\n"
            + "\n".join(problems),
            pytrace=False,
        )


def _by_id(rows: Iterable[tuple[str, Record]]) -> tuple[dict[str, Record], list[str]]:
    seen: dict[str, Record] = {}
    twice: list[str] = []
    for rid, record in rows:
        if rid in seen:
            twice.append(rid)
        seen[rid] = record
    return seen, sorted(twice)


def _listed(title: str, items: Sequence[str]) -> str:
    if not items:
        return ""
    more = f"\n    ... and {len(items) - SHOWN} more" if len(items) > SHOWN else ""
    return f"  {title}:\n    " + "\n    ".join(items[:SHOWN]) + more


def seconds(value: dt.timedelta | None) -> float | None:
    return None if value is None else value.total_seconds()


def loader_rows(
    frame: pl.DataFrame, pick: Callable[[Record], Record]
) -> Iterator[tuple[str, Record]]:
    for row in frame.iter_rows(named=True):
        yield row["recording_id"], pick(row)


def inner_range(times: Iterable[dt.datetime]) -> tuple[dt.datetime, dt.datetime]:
    """From the first third to the last third of ``times``: both edges fall on a record."""
    ordered = sorted(times)
    assert len(ordered) >= 9, "too few records for a range inside the data"
    return ordered[len(ordered) // 3], ordered[2 * len(ordered) // 3]


def free_range(times: Iterable[dt.datetime]) -> tuple[dt.datetime, dt.datetime]:
    """Like :func:`inner_range`, each edge moved to the next whole second no record was created
    at, for filters whose edges (inclusive or strict) are not documented."""
    taken = set(times)

    def free(moment: dt.datetime) -> dt.datetime:
        moment = moment.replace(microsecond=0) + dt.timedelta(seconds=1)
        while moment in taken:
            moment += dt.timedelta(seconds=1)
        return moment

    since, until = inner_range(taken)
    return free(since), free(until)


def window_ids(range_: Range) -> str:
    return (
        "all" if range_ is None else f"{range_[0]:%Y-%m-%dT%H:%M:%S}..{range_[1]:%Y-%m-%dT%H:%M:%S}"
    )


# --- Twilio Video ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def twilio_video(served: SandboxServer, box: Sandbox) -> Any:
    """twilio-python's Video domain, its base URL on the served sandbox (as
    ``benchmarks/bench_vs_sdk.py`` and docs/sandbox.md point it)."""
    pytest.importorskip("twilio", minversion="9")
    from twilio.rest import Client

    credentials = box["twilio"].credentials
    client = Client(credentials["account_sid"], credentials["auth_token"])
    client.video.base_url = served.url
    return client.video.v1


def twilio_track(r: Any) -> Record:
    unknown = r.status in UNFINISHED
    return {
        "status": r.status,
        "size_bytes": None if unknown and not r.size else r.size,
        "duration_s": None if unknown and not r.duration else r.duration,
        "created_at": r.date_created,
        # Twilio spells codecs in either case (api-contracts.md); the loader lower-cases them.
        "codec": r.codec.lower() if r.codec else None,
        "container": r.container_format,
        "media_type": r.type,
        "group_id": r.grouping_sids["room_sid"],
    }


def our_track(row: Record) -> Record:
    return {
        "status": row["status"],
        "size_bytes": row["size_bytes"],
        "duration_s": seconds(row["duration"]),
        "created_at": row["created_at"],
        "codec": row["codec"],
        "container": row["container"],
        "media_type": row["media_type"],
        "group_id": row["group_id"],
    }


def twilio_composition(r: Any) -> Record:
    unknown = r.status in UNFINISHED
    return {
        "status": r.status,
        "size_bytes": None if unknown and not r.size else r.size,
        "duration_s": None if unknown and not r.duration else r.duration,
        "created_at": r.date_created,
        "container": r.format,
        "group_id": r.room_sid,
    }


def our_composition(row: Record) -> Record:
    return {
        "status": row["status"],
        "size_bytes": row["size_bytes"],
        "duration_s": seconds(row["duration"]),
        "created_at": row["created_at"],
        "container": row["container"],
        "group_id": row["group_id"],
    }


TWILIO_LISTS: dict[
    str,
    tuple[str, Callable[..., pl.DataFrame], Callable[[Any], Record], Callable[[Record], Record]],
] = {
    "tracks": ("recordings", ra.load_twilio_recordings, twilio_track, our_track),
    "compositions": (
        "compositions",
        ra.load_twilio_compositions,
        twilio_composition,
        our_composition,
    ),
}


@pytest.mark.parametrize("listing", TWILIO_LISTS)
@pytest.mark.parametrize("ranged", [False, True], ids=["all", "inside"])
def test_twilio_matches_sdk(
    listing: str, ranged: bool, twilio_video: Any, served: SandboxServer, box: Sandbox
) -> None:
    attribute, load, sdk_record, our_record = TWILIO_LISTS[listing]
    sdk_list = getattr(twilio_video, attribute).list
    everything = sdk_list(page_size=100)
    options = box.options("twilio", base_url=served.url)
    range_: Range = None
    if ranged:
        # Edges on records: DateCreatedAfter is inclusive, DateCreatedBefore exclusive, for
        # both the SDK (sent as given) and the loader's since/until (api-contracts.md).
        range_ = inner_range(r.date_created for r in everything)
        records = sdk_list(
            date_created_after=range_[0], date_created_before=range_[1], page_size=50
        )
        frame = load(since=range_[0], until=range_[1], **options)
        assert 0 < len(records) < len(everything)
    else:
        records, frame = everything, load(**options)
    compare(
        f"twilio {listing} {window_ids(range_)}",
        ((r.sid, sdk_record(r)) for r in records),
        loader_rows(frame, our_record),
    )


# --- Plivo -----------------------------------------------------------------------------------


@pytest.fixture(scope="module", params=PLIVO_PAGING)
def plivo_served(request: pytest.FixtureRequest) -> Iterator[tuple[Sandbox, SandboxServer]]:
    """Plivo alone, in one paging mode, most of its recordings in the data's last month (a
    window must hold several pages: Plivo pages by 20 at most)."""
    box = Sandbox(
        seed=11,
        size=600,
        skew=0.03,
        providers=["plivo"],
        emulator_options={"plivo": {"paging": request.param}},
    )
    with box.serve() as server:
        yield box, server


@pytest.fixture
def plivo_recordings(plivo_served: tuple[Sandbox, SandboxServer]) -> Any:
    """plivo-python's ``client.recordings``, its requests sent to the served sandbox."""
    plivo = pytest.importorskip("plivo")
    import requests.adapters
    from packaging.version import Version
    from plivo.version import __version__

    if Version(__version__) < Version("4.63"):
        pytest.skip(f"plivo-python {__version__} pages by offset alone (cursors came in 4.63)")

    box, server = plivo_served

    # plivo-python resets its base URI to https://api.plivo.com on every voice request, so
    # the redirect is made where requests sends it: the SDK's own code runs unchanged.
    class ToSandbox(requests.adapters.HTTPAdapter):
        def send(self, request: Any, *args: Any, **kwargs: Any) -> Any:
            request.url = server.url + request.url.removeprefix(PLIVO_API)
            return super().send(request, *args, **kwargs)

    credentials = box["plivo"].credentials
    client = plivo.RestClient(credentials["auth_id"], credentials["auth_token"])
    client.session.mount(PLIVO_API + "/", ToSandbox())
    return client.recordings


def plivo_add_time(moment: dt.datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def plivo_list(recordings: Any, since: dt.datetime, until: dt.datetime) -> list[Any]:
    """Every recording added in ``[since, until)``, paged by the SDK's own iterator.

    The iterator calls ``self.list(limit=..., offset=... or cursor=...)`` and nothing else, so
    the range is bound onto this instance's ``list``. The SDK reads the names of the parameters
    it sends back from ``self.list``'s argument spec (``plivo.utils.to_param_dict``): the bound
    callable keeps the SDK's signature, or the range would be dropped without a word.
    """
    sdk_list = recordings.list

    def ranged(**params: Any) -> Any:
        return sdk_list(
            add_time__gte=plivo_add_time(since), add_time__lt=plivo_add_time(until), **params
        )

    ranged.__signature__ = inspect.signature(sdk_list)  # type: ignore[attr-defined]
    recordings.list = ranged
    try:
        return list(recordings)
    finally:
        del recordings.list


def plivo_record(r: Any) -> Record:
    def epoch_ms(value: Any) -> dt.datetime:
        return dt.datetime.fromtimestamp(float(value) / 1000, UTC)

    return {
        "created_at": dt.datetime.fromisoformat(r.add_time),
        "started_at": epoch_ms(r.recording_start_ms),
        "ended_at": epoch_ms(r.recording_end_ms),
        "duration_s": round(float(r.recording_duration_ms)) / 1000,
        "container": r.recording_format,
        "kind": "conference" if r.recording_type == "conference" else "call",
        "cost": abs(float(r.monthly_recording_storage_amount)),
    }


def our_plivo(row: Record) -> Record:
    return {
        "created_at": row["created_at"],
        "started_at": row["started_at"],
        "ended_at": row["ended_at"],
        "duration_s": seconds(row["duration"]),
        "container": row["container"],
        "kind": row["kind"],
        "cost": row["cost"],
    }


@pytest.mark.parametrize("edges", ["window", "on records"])
def test_plivo_matches_sdk(
    edges: str, plivo_recordings: Any, plivo_served: tuple[Sandbox, SandboxServer]
) -> None:
    box, server = plivo_served
    since, until = PLIVO_WINDOW
    records = plivo_list(plivo_recordings, since, until)
    if edges == "on records":
        # add_time__gte inclusive, add_time__lt exclusive, to the microsecond.
        since, until = inner_range(dt.datetime.fromisoformat(r.add_time) for r in records)
        records = plivo_list(plivo_recordings, since, until)
    assert len(records) > 2 * PLIVO_PAGE, "the range should span several pages"
    frame = ra.load_plivo_recordings(
        since=since, until=until, **box.options("plivo", base_url=server.url)
    )
    compare(
        f"plivo {box['plivo'].paging} paging {window_ids((since, until))}",
        ((r.recording_id, plivo_record(r)) for r in records),
        loader_rows(frame, our_plivo),
    )


# --- SignalWire ------------------------------------------------------------------------------


def signalwire_client(url: str, box: Sandbox) -> Any:
    """twilio-python's 2010 API client (what the signalwire package wraps), its base URL on the
    served sandbox: the one setting the signalwire package itself changes to point it at a
    space. The signalwire package cannot be installed beside twilio >= 9 (module docstring)."""
    pytest.importorskip("twilio")
    from twilio.rest import Client

    credentials = box["signalwire"].credentials
    project, token = credentials["project_id"], credentials["api_token"]
    client = Client(project, token)
    client.api.base_url = url
    return client.api.v2010.accounts(project)


def signalwire_record(r: Any) -> Record:
    return {
        "status": r.status,
        "created_at": r.date_created,
        "started_at": r.start_time,
        # The schema before 2026-01 sends the duration as a string (api-contracts.md).
        "duration_s": None if r.duration is None else float(r.duration),
        "channels": r.channels,
        "cost": None if r.price is None else abs(float(r.price)),
        "kind": "conference" if r.conference_sid else "call",
    }


def our_signalwire(row: Record) -> Record:
    return {
        "status": row["status"],
        "created_at": row["created_at"],
        "started_at": row["started_at"],
        "duration_s": seconds(row["duration"]),
        "channels": row["channels"],
        "cost": row["cost"],
        "kind": row["kind"],
    }


@pytest.mark.parametrize("ranged", [False, True], ids=["all", "inside"])
def test_signalwire_matches_sdk(ranged: bool, served: SandboxServer, box: Sandbox) -> None:
    account = signalwire_client(served.url, box)
    everything = account.recordings.list(page_size=100)
    options = box.options("signalwire", base_url=served.url)
    range_: Range = None
    if ranged:
        # Whether DateCreated> and DateCreated< include their edge second is not documented:
        # edges where no recording was created make the answer the same either way.
        range_ = free_range(r.date_created for r in everything)
        records = account.recordings.list(
            date_created_after=range_[0], date_created_before=range_[1], page_size=100
        )
        frame = ra.load_signalwire_recordings(since=range_[0], until=range_[1], **options)
        assert 0 < len(records) < len(everything)
    else:
        records, frame = everything, ra.load_signalwire_recordings(**options)
    compare(
        f"signalwire via twilio's 2010 client {window_ids(range_)}",
        ((r.sid, signalwire_record(r)) for r in records),
        loader_rows(frame, our_signalwire),
    )
