"""Every bad argument on every public entry point: a ConfigError naming it, and 0 requests.

Each case runs with a transport that counts what reaches it (and the default network transport
patched to count too), so a check that only fires after a request has gone out fails here.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import polars as pl
import pytest
from provider_cases import CREDENTIALS, loader_id, registered_loaders, sync_loader
from synthetic import synthetic_frame

import recanalytics as ra
from recanalytics import charts
from recanalytics.sandbox import Sandbox

TWILIO = CREDENTIALS["twilio"]
FRAME = synthetic_frame(120)
RT = "RT" + "a" * 32
CJ = "CJ" + "b" * 32
UUID = "6f1f2c4e-1c8b-41e4-9a2d-842b2b17453e"


@dataclass
class Ctx:
    transport: httpx.MockTransport
    tmp: Path

    def opts(self, provider: str, **extra: Any) -> dict[str, Any]:
        return {"credentials": CREDENTIALS[provider], "transport": self.transport} | extra

    def all_opts(self, **extra: Any) -> dict[str, Any]:
        return {"credentials": CREDENTIALS, "transport": self.transport} | extra


Case = Callable[[Ctx], Any]
CASES: list[Any] = []


def case(name: str, parameter: str, call: Case) -> None:
    CASES.append(pytest.param(call, parameter, id=name))


# --- the options every loader and getter shares -------------------------------------------

BAD_OPTIONS: list[tuple[str, Any]] = [
    ("max_concurrency", 0),
    ("max_concurrency", -1),
    ("max_concurrency", "4"),
    ("max_concurrency", True),
    ("max_concurrency", 2.5),
    ("rate_limit", 0),
    ("rate_limit", -5),
    ("rate_limit", "fast"),
    ("rate_limit", float("nan")),
    ("timeout", 0),
    ("timeout", -1),
    ("timeout", "x"),
    ("timeout", float("inf")),
    ("retry", "x"),
    ("retry", 3),
    ("max_pages", 0),
    ("max_pages", "many"),
    ("raw", "yes"),
    ("transport", "not a transport"),
    ("base_url", ""),
    ("base_url", "ftp://example.com"),
    ("base_url", "not a url"),
    ("base_url", "https://"),
    ("base_url", 5),
    ("progress", "yes"),
    ("credentials", 5),
    ("credentials", {"bogus": "value"}),
    # Absurd magnitudes: one worker per slot (10**30 exhausted memory), an int with no float,
    # a rate whose limiter window overflowed int(); and a misspelt option (was a TypeError).
    ("max_concurrency", 10_000),
    ("rate_limit", 1e308),
    ("rate_limit", 10**400),
    ("timeout", 10**400),
    ("page_sise", 5),
    # A rate whose second request waited 1e300 s; URLs whose port failed at connect (an
    # ExceptionGroup), whose query or fragment swallowed the API path, or whose host is not one.
    ("rate_limit", 1e-300),
    ("base_url", "http://127.0.0.1:99999"),
    ("base_url", "http://127.0.0.1:0"),
    ("base_url", "https://proxy.example/api?key=1"),
    ("base_url", "https://proxy.example/#x"),
    ("base_url", "http://%zz"),
    # Hosts no DNS name has, an empty or signed port, user info silently ignored, a bad escape.
    ("base_url", "http://a..b"),
    ("base_url", "http://-a-"),
    ("base_url", "http://x:"),
    ("base_url", "http://x:+80"),
    ("base_url", "http://user:pw@proxy.example"),
    ("base_url", "http://proxy.example/%zz"),
]

# Every registered loader, by its public name: the provider table decides which there are.
LOADERS: dict[str, tuple[str, Callable[..., Any]]] = {
    f"load_{loader_id(loader)}": (loader.provider, sync_loader(loader))
    for loader in registered_loaders()
}
GETTERS: dict[str, tuple[str, Callable[..., Any], str]] = {
    "get_twilio_recording": ("twilio", ra.get_twilio_recording, RT),
    "get_twilio_composition": ("twilio", ra.get_twilio_composition, CJ),
    "get_plivo_recording": ("plivo", ra.get_plivo_recording, "abc-123"),
    "get_zoom_session_recordings": ("zoom", ra.get_zoom_session_recordings, "c2Vzc2lvbg=="),
    "get_signalwire_recording": ("signalwire", ra.get_signalwire_recording, UUID),
}

for option, value in BAD_OPTIONS:
    for name, (provider, loader) in LOADERS.items():
        case(
            f"{name}-{option}={value!r}",
            option,
            lambda c, p=provider, f=loader, o=option, v=value: f(**(c.opts(p) | {o: v})),
        )
    for name, (provider, getter, ident) in GETTERS.items():
        case(
            f"{name}-{option}={value!r}",
            option,
            lambda c, p=provider, f=getter, i=ident, o=option, v=value: f(
                i, **(c.opts(p) | {o: v})
            ),
        )
    for name, func in (("load", ra.load), ("load_with_status", ra.load_with_status)):
        case(
            f"{name}-{option}={value!r}",
            option,
            lambda c, f=func, o=option, v=value: f(**(c.all_opts() | {o: v})),
        )

# --- dates ---------------------------------------------------------------------------------

for name, (provider, loader) in LOADERS.items():
    case(
        f"{name}-since",
        "since",
        lambda c, p=provider, f=loader: f(since="last tuesday", **c.opts(p)),
    )
    case(f"{name}-until", "until", lambda c, p=provider, f=loader: f(until=3.5, **c.opts(p)))
    case(
        f"{name}-since-after-until",
        "since/until",
        lambda c, p=provider, f=loader: f(since="2026-02-01", until="2026-01-01", **c.opts(p)),
    )
    case(
        f"{name}-page_size-0",
        "page_size",
        lambda c, p=provider, f=loader: f(page_size=0, **c.opts(p)),
    )
    case(
        f"{name}-page_size-str",
        "page_size",
        lambda c, p=provider, f=loader: f(page_size="10", **c.opts(p)),
    )
    case(f"{name}-store", "store", lambda c, p=provider, f=loader: f(store="store", **c.opts(p)))
    # Outside 1970..9999: an offset past datetime's range, a year the window splitters overflow
    # on (9999 + one month), a year a provider would receive as "1-01-01".
    for label, parameter, value in [
        ("since-year-1-offset", "since", dt.datetime(1, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=5)))),
        ("since-year-1", "since", "0001-01-01"),
        ("until-year-9999", "until", dt.date(9999, 12, 31)),
    ]:  # fmt: skip
        case(
            f"{name}-{label}",
            parameter,
            lambda c, p=provider, f=loader, k=parameter, v=value: f(**{k: v}, **c.opts(p)),
        )

# --- provider filters ------------------------------------------------------------------------

tw, pv, zm, sw = (
    ra.load_twilio_recordings,
    ra.load_plivo_recordings,
    ra.load_zoom_recordings,
    ra.load_signalwire_recordings,
)
comp = ra.load_twilio_compositions
for name, call, parameter in [
    ("twilio-status", lambda c: tw(status="done", **c.opts("twilio")), "status"),
    ("twilio-source_sid", lambda c: tw(source_sid="MT1", **c.opts("twilio")), "source_sid"),
    ("twilio-grouping_sid-empty", lambda c: tw(grouping_sid=[], **c.opts("twilio")), "grouping_sid"),
    ("twilio-grouping_sid-bad", lambda c: tw(grouping_sid=["RM1"], **c.opts("twilio")), "grouping_sid"),
    ("twilio-media_type", lambda c: tw(media_type="image", **c.opts("twilio")), "media_type"),
    ("twilio-page_size-101", lambda c: tw(page_size=101, **c.opts("twilio")), "page_size"),
    ("compositions-status", lambda c: comp(status="done", **c.opts("twilio")), "status"),
    ("compositions-room_sid", lambda c: comp(room_sid="RM1", **c.opts("twilio")), "room_sid"),
    ("plivo-min>max", lambda c: pv(min_storage_days=10, max_storage_days=5, **c.opts("plivo")), "min_storage_days"),
    ("plivo-storage_days", lambda c: pv(storage_days=-1, **c.opts("plivo")), "storage_days"),
    ("plivo-subaccount", lambda c: pv(subaccount="XX1", **c.opts("plivo")), "subaccount"),
    ("plivo-conference_name", lambda c: pv(conference_name="", **c.opts("plivo")), "conference_name"),
    ("plivo-page_size-21", lambda c: pv(page_size=21, **c.opts("plivo")), "page_size"),
    ("zoom-trash", lambda c: zm(trash="yes", **c.opts("zoom")), "trash"),
    ("zoom-trash_type", lambda c: zm(trash_type="recording_file", **c.opts("zoom")), "trash_type"),
    ("zoom-trash-dates", lambda c: zm(trash=True, since="2026-01-01", **c.opts("zoom")), "since/until"),
    ("zoom-page_size-301", lambda c: zm(page_size=301, **c.opts("zoom")), "page_size"),
    ("signalwire-media_format", lambda c: sw(media_format="ogg", **c.opts("signalwire")), "media_format"),
    ("signalwire-call_sid", lambda c: sw(call_sid="CA1", **c.opts("signalwire")), "call_sid"),
    ("get_twilio_recording-sid", lambda c: ra.get_twilio_recording("CJ" + "a" * 32, **c.opts("twilio")), "sid"),
    ("get_twilio_composition-sid", lambda c: ra.get_twilio_composition("x", **c.opts("twilio")), "sid"),
    ("get_plivo_recording-id", lambda c: ra.get_plivo_recording("../x", **c.opts("plivo")), "recording_id"),
    ("get_signalwire_recording-sid", lambda c: ra.get_signalwire_recording("x", **c.opts("signalwire")), "sid"),
]:  # fmt: skip
    case(name, parameter, call)

# An identifier with a line break after it matched the ``^...$`` checks (``$`` matches before a
# final newline) and reached httpx, which refused the URL with ``InvalidURL``, not a ConfigError.
for name, (provider, getter, ident) in GETTERS.items():
    parameter = "session_id" if "zoom" in name else "recording_id" if "plivo" in name else "sid"
    case(
        f"{name}-newline",
        parameter,
        lambda c, p=provider, f=getter, i=ident: f(i + "\n", **c.opts(p)),
    )
for name, call, parameter in [
    ("twilio-source_sid-newline", lambda c: tw(source_sid="MT" + "a" * 32 + "\n", **c.opts("twilio")), "source_sid"),
    ("twilio-grouping_sid-newline", lambda c: tw(grouping_sid=["RM" + "a" * 32 + "\n"], **c.opts("twilio")), "grouping_sid"),
    ("compositions-room_sid-newline", lambda c: comp(room_sid="RM" + "a" * 32 + "\n", **c.opts("twilio")), "room_sid"),
    ("signalwire-conference_sid-newline", lambda c: sw(conference_sid=UUID + "\n", **c.opts("signalwire")), "conference_sid"),
    ("plivo-subaccount-newline", lambda c: pv(subaccount="SA" + "A" * 18 + "\n", **c.opts("plivo")), "subaccount"),
    # Plivo's filters have documented forms: ids, E.164 numbers or SIP endpoints, days.
    ("plivo-call_uuid-path", lambda c: pv(call_uuid="../x", **c.opts("plivo")), "call_uuid"),
    ("plivo-conference_uuid-space", lambda c: pv(conference_uuid="a b", **c.opts("plivo")), "conference_uuid"),
    ("plivo-mpc_uuid-nul", lambda c: pv(mpc_uuid="\x00", **c.opts("plivo")), "mpc_uuid"),
    ("plivo-from_number-words", lambda c: pv(from_number="my phone", **c.opts("plivo")), "from_number"),
    ("plivo-to_number-too-long", lambda c: pv(to_number="+1" + "5" * 20, **c.opts("plivo")), "to_number"),
    ("plivo-to_number-int", lambda c: pv(to_number=14155550100, **c.opts("plivo")), "to_number"),
    ("plivo-conference_name-nul", lambda c: pv(conference_name="a\x00b", **c.opts("plivo")), "conference_name"),
    ("plivo-mpc_name-newline", lambda c: pv(mpc_name="sales\r\n", **c.opts("plivo")), "mpc_name"),
    ("plivo-storage_days-huge", lambda c: pv(storage_days=10**30, **c.opts("plivo")), "storage_days"),
    ("plivo-min_storage_days-0", lambda c: pv(min_storage_days=0, **c.opts("plivo")), "min_storage_days"),
    ("plivo-max_storage_days-huge", lambda c: pv(max_storage_days=36_501, **c.opts("plivo")), "max_storage_days"),
]:  # fmt: skip
    case(name, parameter, call)

# --- load() and load_with_status() -------------------------------------------------------------

for name, func in (("load", ra.load), ("load_with_status", ra.load_with_status)):
    for label, call, parameter in [
        ("providers-skype", lambda c, f=func: f("skype", **c.all_opts()), "providers"),
        ("providers-list", lambda c, f=func: f(["twilio", "skype"], **c.all_opts()), "providers"),
        ("providers-int", lambda c, f=func: f(5, **c.all_opts()), "providers"),
        # An empty list loaded nothing and returned an empty frame, as if no account had data.
        ("providers-empty", lambda c, f=func: f([], **c.all_opts()), "providers"),
        ("since", lambda c, f=func: f(since="nope", **c.all_opts()), "since"),
        ("credentials-malformed", lambda c, f=func: f(["twilio"], **c.all_opts(credentials={"twilio": {"bogus": 1}})), "credentials"),
        ("credentials-missing-field", lambda c, f=func: f(["plivo"], **c.all_opts(credentials={"plivo": {"auth_id": "MA" + "A" * 18}})), "credentials"),
        ("credentials-unknown-provider", lambda c, f=func: f(["twilio"], **c.all_opts(credentials={"twilio": TWILIO, "skype": {}})), "credentials"),
        ("credentials-wrong-class", lambda c, f=func: f(["plivo"], **c.all_opts(credentials={"plivo": TWILIO})), "credentials"),
        ("base_url-mapping-empty", lambda c, f=func: f(["zoom"], **c.all_opts(base_url={"zoom": ""})), "base_url"),
        ("base_url-mapping-typo", lambda c, f=func: f(["zoom"], **c.all_opts(base_url={"zoom": "https://a.b", "zoon": "x"})), "base_url"),
        ("max_concurrency-0-one-provider", lambda c, f=func: f(["twilio"], max_concurrency=0, **c.all_opts()), "max_concurrency"),
        ("store", lambda c, f=func: f(["twilio"], store="s", **c.all_opts()), "store"),
    ]:  # fmt: skip
        case(f"{name}-{label}", parameter, call)
case(
    "load_with_status-warn",
    "warn",
    lambda c: ra.load_with_status(["twilio"], warn="no", **c.all_opts()),
)

# --- the store ---------------------------------------------------------------------------------

for label, call, parameter in [
    ("Store-empty", lambda c: ra.Store(""), "path"),
    ("Store-blank", lambda c: ra.Store("   "), "path"),
    ("Store-int", lambda c: ra.Store(5), "path"),  # type: ignore[arg-type]
    ("Store-file", lambda c: ra.Store(c.tmp / "file.txt"), "path"),
    ("Store-overlap", lambda c: ra.Store(c.tmp, overlap=dt.timedelta(days=-1)), "overlap"),
    ("Store-overlap-int", lambda c: ra.Store(c.tmp, overlap=3), "overlap"),  # type: ignore[arg-type]
    ("scan-skype", lambda c: ra.Store(c.tmp).scan("skype"), "providers"),
    ("scan-int", lambda c: ra.Store(c.tmp).scan(5), "providers"),  # type: ignore[arg-type]
    ("read-skype", lambda c: ra.Store(c.tmp).read(["twilio", "skype"]), "providers"),
    ("files-skype", lambda c: ra.Store(c.tmp).files("skype"), "provider"),
    ("newest-skype", lambda c: ra.Store(c.tmp).newest("skype"), "provider"),
    ("newest-kind", lambda c: ra.Store(c.tmp).newest("twilio", kind="song"), "kind"),
    ("refresh-skype", lambda c: ra.Store(c.tmp).refresh("skype", **c.all_opts()), "providers"),
    ("refresh-since", lambda c: ra.Store(c.tmp).refresh(["twilio"], since="x", **c.all_opts()), "since"),
    ("refresh-order", lambda c: ra.Store(c.tmp).refresh(["twilio"], since="2026-02-01", until="2026-01-01", **c.all_opts()), "since/until"),
    ("refresh-max_concurrency", lambda c: ra.Store(c.tmp).refresh(["twilio", "zoom"], max_concurrency=0, **c.all_opts()), "max_concurrency"),
    ("refresh-credentials", lambda c: ra.Store(c.tmp).refresh(["twilio", "zoom"], **c.all_opts(credentials={"twilio": TWILIO, "zoom": {"api_key": "k"}})), "credentials"),
    ("refresh-base_url", lambda c: ra.Store(c.tmp).refresh(["zoom"], **c.all_opts(base_url="")), "base_url"),
    ("refresh-timeout", lambda c: ra.Store(c.tmp).refresh(["plivo"], timeout=-1, **c.all_opts()), "timeout"),
    # A frame without providers was written to provider=None/, where no read finds it (and the
    # report said inserted); the others were AttributeErrors or polars errors.
    ("scan-empty", lambda c: ra.Store(c.tmp).scan([]), "providers"),
    ("refresh-empty", lambda c: ra.Store(c.tmp).refresh([], **c.all_opts()), "providers"),
    ("upsert-str", lambda c: ra.Store(c.tmp).upsert("frame.parquet"), "frame"),  # type: ignore[arg-type]
    ("upsert-no-provider", lambda c: ra.Store(c.tmp).upsert(FRAME.drop("provider")), "frame"),
    ("upsert-null-provider", lambda c: ra.Store(c.tmp).upsert(FRAME.with_columns(provider=None)), "frame"),
    ("upsert-unknown-provider", lambda c: ra.Store(c.tmp).upsert(FRAME.with_columns(provider=pl.lit("skype"))), "frame"),
    ("upsert-text-sizes", lambda c: ra.Store(c.tmp).upsert(FRAME.with_columns(size_bytes=pl.lit("big"))), "frame"),
]:  # fmt: skip
    case(label, parameter, call)

# --- media and archive -------------------------------------------------------------------------

MEDIA = pl.DataFrame(
    {
        "provider": ["twilio"],
        "recording_id": [RT],
        "media_url": [f"https://video.twilio.com/v1/Recordings/{RT}/Media"],
        "container": ["mka"],
        "status": ["completed"],
    }
)


def media(c: Ctx, frame: Any = MEDIA, dest: Any = None, **kwargs: Any) -> Any:
    options = {"credentials": TWILIO, "transport": c.transport} | kwargs
    return ra.download_media(frame, c.tmp / "m" if dest is None else dest, **options)


for label, call, parameter in [
    ("dest-empty", lambda c: media(c, dest=""), "dest"),
    ("dest-none", lambda c: ra.download_media(MEDIA, None, transport=c.transport), "dest"),  # type: ignore[arg-type]
    ("dest-int", lambda c: media(c, dest=5), "dest"),
    ("dest-file", lambda c: media(c, dest=c.tmp / "file.txt"), "dest"),
    ("timeout--1", lambda c: media(c, timeout=-1), "timeout"),
    ("timeout-0", lambda c: media(c, timeout=0), "timeout"),
    ("timeout-str", lambda c: media(c, timeout="x"), "timeout"),
    ("retry-str", lambda c: media(c, retry="x"), "retry"),
    ("max_concurrency-0", lambda c: media(c, max_concurrency=0), "max_concurrency"),
    ("max_concurrency-str", lambda c: media(c, max_concurrency="2"), "max_concurrency"),
    ("progress-str", lambda c: media(c, progress="yes"), "progress"),
    ("transport-str", lambda c: media(c, transport="x"), "transport"),
    ("base_url-empty", lambda c: media(c, base_url=""), "base_url"),
    ("base_url-ftp", lambda c: media(c, base_url="ftp://x"), "base_url"),
    ("base_url-mapping", lambda c: media(c, base_url={"twilio": "nope"}), "base_url"),
    ("base_url-typo", lambda c: media(c, base_url={"twilio": "https://a.b", "twillio": "x"}), "base_url"),
    ("credentials-int", lambda c: media(c, credentials=5), "credentials"),
    ("credentials-malformed", lambda c: media(c, credentials={"twilio": {"bogus": 1}}), "credentials"),
    ("credentials-fields", lambda c: media(c, credentials={"account_sid": "AC1"}), "credentials"),
    ("frame-str", lambda c: media(c, frame="frame.parquet"), "frame"),
    ("frame-no-media_url", lambda c: media(c, frame=MEDIA.drop("media_url")), "frame"),
    ("frame-no-provider", lambda c: media(c, frame=MEDIA.drop("provider")), "frame"),
    ("frame-list-ids", lambda c: media(c, frame=MEDIA.with_columns(recording_id=pl.lit([1, 2]))), "frame"),
    ("archive-out-empty", lambda c: ra.archive_twilio("", **c.opts("twilio")), "out"),
    ("archive-out-none", lambda c: ra.archive_twilio(None, **c.opts("twilio")), "out"),  # type: ignore[arg-type]
    ("archive-out-file", lambda c: ra.archive_twilio(c.tmp / "file.txt", **c.opts("twilio")), "out"),
    ("archive-media", lambda c: ra.archive_twilio(c.tmp / "a", media="yes", **c.opts("twilio")), "media"),
    ("archive-since", lambda c: ra.archive_twilio(c.tmp / "a", since="x", **c.opts("twilio")), "since"),
    ("archive-base_url", lambda c: ra.archive_twilio(c.tmp / "a", **c.opts("twilio", base_url="")), "base_url"),
    ("archive-max_concurrency", lambda c: ra.archive_twilio(c.tmp / "a", **c.opts("twilio", max_concurrency=0)), "max_concurrency"),
    ("archive-credentials", lambda c: ra.archive_twilio(c.tmp / "a", **c.opts("twilio", credentials={"x": 1})), "credentials"),
]:  # fmt: skip
    case(f"download_media-{label}" if not label.startswith("archive") else label, parameter, call)

# --- helpers, charts, report, explorer, demo -------------------------------------------------

for label, call, parameter in [
    ("summarize-by-nope", lambda c: ra.summarize(FRAME, by="nope"), "by"),
    ("summarize-by-list", lambda c: ra.summarize(FRAME, by=["provider", "nope"]), "by"),
    ("summarize-by-int", lambda c: ra.summarize(FRAME, by=5), "by"),  # type: ignore[arg-type]
    ("summarize-df", lambda c: ra.summarize("df"), "df"),  # type: ignore[type-var]
    ("summarize-failed", lambda c: ra.summarize(FRAME, failed="failed"), "failed"),
    ("summarize-rates", lambda c: ra.summarize(FRAME, rates={"twilio": -1}), "rates"),
    ("trend-by", lambda c: ra.trend(FRAME, by="nope"), "by"),
    ("trend-every", lambda c: ra.trend(FRAME, every="fortnight"), "every"),
    ("trend-df", lambda c: ra.trend(5), "df"),  # type: ignore[type-var]
    ("storage_growth-by", lambda c: ra.storage_growth(FRAME, by="nope"), "by"),
    ("storage_growth-every", lambda c: ra.storage_growth(FRAME, every="x"), "every"),
    ("cost_summary-by", lambda c: ra.cost_summary(FRAME, by="nope"), "by"),
    ("duration_percentiles-by", lambda c: ra.duration_percentiles(FRAME, by="nope"), "by"),
    ("duration_percentiles-q", lambda c: ra.duration_percentiles(FRAME, quantiles=[2]), "quantiles"),
    ("parse_size", lambda c: ra.parse_size("lots"), "text"),
    ("size_human-decimals", lambda c: ra.size_human("size_bytes", decimals=-1), "decimals"),
    ("bucket_labels", lambda c: ra.bucket_labels([3, 1]), "edges"),
    ("storage_rates", lambda c: ra.storage_rates({"twilio": "x"}), "rates"),  # type: ignore[dict-item]
    ("top_groups-group", lambda c: charts.top_groups_chart(FRAME, group="nope"), "group"),
    ("top_groups-metric", lambda c: charts.top_groups_chart(FRAME, metric="x"), "metric"),  # type: ignore[arg-type]
    ("top_groups-n", lambda c: charts.top_groups_chart(FRAME, n=0), "n"),
    ("codec_mix-column", lambda c: charts.codec_mix_chart(FRAME, column="nope"), "column"),
    ("codec_mix-metric", lambda c: charts.codec_mix_chart(FRAME, metric="x"), "metric"),  # type: ignore[arg-type]
    ("duration_histogram-bins", lambda c: charts.duration_histogram(FRAME, bins_per_decade=0), "bins_per_decade"),
    ("size_duration-bins", lambda c: charts.size_duration_chart(FRAME, bins_per_decade=99), "bins_per_decade"),
    ("save_chart-format", lambda c: charts.save_chart(charts.status_chart(FRAME), c.tmp / "x.xyz"), "format"),
    ("report-path-empty", lambda c: ra.report(FRAME, ""), "path"),
    ("report-path-dir", lambda c: ra.report(FRAME, c.tmp), "path"),
    ("report-title", lambda c: ra.report_html(FRAME, title=5), "title"),  # type: ignore[arg-type]
    ("report-every", lambda c: ra.report_html(FRAME, every="x"), "every"),
    ("report-df", lambda c: ra.report_html("df"), "df"),  # type: ignore[arg-type]
    ("explore-df", lambda c: ra.explore("df"), "df"),  # type: ignore[arg-type]
    ("explore-df-missing", lambda c: ra.explore(FRAME.drop("codec")), "df"),
    ("explore-debounce-neg", lambda c: ra.explore(FRAME, debounce=-1), "debounce"),
    ("explore-debounce-str", lambda c: ra.explore(FRAME, debounce="x"), "debounce"),  # type: ignore[arg-type]
    ("explore-renderer", lambda c: ra.explore(FRAME, renderer="x"), "renderer"),  # type: ignore[arg-type]
    ("explore-since", lambda c: ra.explore(FRAME, since="nope"), "since"),
    ("explore-until", lambda c: ra.explore(FRAME, until="nope"), "until"),
    # Each of these was a TypeError, ValueError, polars or vl-convert error (a Rust panic for
    # the scales) rather than a ConfigError naming the argument.
    ("duration_bucket-edges-nan", lambda c: ra.duration_bucket(edges=[float("nan")]), "edges"),
    ("bucket_labels-huge", lambda c: ra.bucket_labels([1e308]), "edges"),
    ("duration_percentiles-q-scalar", lambda c: ra.duration_percentiles(FRAME, quantiles=0.5), "quantiles"),  # type: ignore[arg-type]
    ("size_human-units-list", lambda c: ra.size_human(units=["iec"]), "units"),  # type: ignore[arg-type]
    ("trend-every-0d", lambda c: ra.trend(FRAME, every="0d"), "every"),
    ("storage_growth-every-empty", lambda c: ra.storage_growth(FRAME, every=""), "every"),
    ("trend-every-huge", lambda c: ra.trend(FRAME, every="1000000y"), "every"),
    ("summarize-failed-none", lambda c: ra.summarize(FRAME, failed=None), "failed"),  # type: ignore[arg-type]
    ("codec_mix-normalize", lambda c: charts.codec_mix_chart(FRAME, normalize="yes"), "normalize"),  # type: ignore[arg-type]
    ("codec_mix-column-none", lambda c: charts.codec_mix_chart(FRAME, column=None), "column"),  # type: ignore[arg-type]
    ("chart_html-title", lambda c: charts.chart_html(charts.status_chart(FRAME), title=5), "title"),  # type: ignore[arg-type]
    ("chart_to_png-scale-0", lambda c: charts.chart_to_png(charts.status_chart(FRAME), scale=0), "scale"),
    ("save_chart-scale-inf", lambda c: charts.save_chart(charts.status_chart(FRAME), c.tmp / "x.png", scale=float("inf")), "scale"),
    ("explore-until-9999", lambda c: ra.explore(FRAME, until=dt.date(9999, 12, 31)), "until"),
    ("explore-since-year-1-offset", lambda c: ra.explore(FRAME, since="0001-01-01T00:00+05:00"), "since"),
    ("load-no-credentials-typo", lambda c: ra.load(["twilio"], page_sise=5), "page_sise"),
    ("load-no-credentials-max_concurrency", lambda c: ra.load(["twilio"], max_concurrency=0), "max_concurrency"),
    ("explore-since-after-until", lambda c: ra.explore(FRAME, since="2026-02-01", until="2026-01-01"), "until"),
    ("explore-loader", lambda c: ra.explore(FRAME, loader=5), "loader"),  # type: ignore[arg-type]
    # Each was a TypeError, FileNotFoundError or OSError from the writer.
    ("Explorer-export-path-int", lambda c: ra.explore(FRAME).export("csv", 5), "path"),  # type: ignore[arg-type]
    ("Explorer-export-path-too-long", lambda c: ra.explore(FRAME).export("csv", c.tmp / ("e" * 300)), "path"),
    ("Explorer-export-path-under-file", lambda c: ra.explore(FRAME).export("parquet", c.tmp / "file.txt" / "x"), "path"),
    ("Explorer-preview_rows", lambda c: ra.Explorer(FRAME, preview_rows=-1), "preview_rows"),
    ("Explorer-tabs", lambda c: ra.Explorer(FRAME, tabs=5), "tabs"),  # type: ignore[arg-type]
    ("FilterPanel-df", lambda c: ra.FilterPanel(None), "df"),  # type: ignore[arg-type]
    ("FilterPanel-debounce", lambda c: ra.FilterPanel(FRAME, debounce=-2), "debounce"),
    ("demo-size", lambda c: ra.demo(size=0), "size"),
    ("demo-seed", lambda c: ra.demo(seed="x"), "seed"),  # type: ignore[arg-type]
    ("demo-seed-huge", lambda c: ra.demo(seed=2**70), "seed"),
    ("RetryPolicy-max_retries", lambda c: ra.RetryPolicy(max_retries="3"), "retry.max_retries"),  # type: ignore[arg-type]
    ("RetryPolicy-backoff", lambda c: ra.RetryPolicy(backoff_cap=-1), "retry.backoff_cap"),
    # Column arguments that are neither a name nor an expression were AttributeErrors from
    # inside the helper; a str of labels was split into letters; repeated quantiles were a
    # polars DuplicateError; a too-long file name an OSError.
    ("billed_minutes-column-int", lambda c: ra.billed_minutes(5), "column"),  # type: ignore[arg-type]
    ("duration_hours-column-none", lambda c: ra.duration_hours(None), "column"),  # type: ignore[arg-type]
    ("duration_bucket-column-empty", lambda c: ra.duration_bucket(""), "column"),
    ("size_human-column-list", lambda c: ra.size_human(["size_bytes"]), "column"),  # type: ignore[arg-type]
    ("fill_bitrate-reported", lambda c: ra.fill_bitrate(reported=64), "reported"),  # type: ignore[arg-type]
    ("fill_bitrate-size", lambda c: ra.fill_bitrate(size=None), "size"),  # type: ignore[arg-type]
    ("estimate_bitrate-duration", lambda c: ra.estimate_bitrate(duration=60), "duration"),  # type: ignore[arg-type]
    ("normalize_codec-expr-int", lambda c: ra.helpers.codec_normalized(7), "column"),  # type: ignore[arg-type]
    ("duration_bucket-labels-str", lambda c: ra.duration_bucket(labels="abcde"), "labels"),  # type: ignore[arg-type]
    ("duration_bucket-labels-int", lambda c: ra.duration_bucket(labels=[1, 2, 3, 4, 5]), "labels"),  # type: ignore[list-item]
    ("duration_bucket-labels-scalar", lambda c: ra.duration_bucket(labels=5), "labels"),  # type: ignore[arg-type]
    ("duration_percentiles-q-repeated", lambda c: ra.duration_percentiles(FRAME, quantiles=[0.5, 0.5]), "quantiles"),
    ("duration_percentiles-column-int", lambda c: ra.duration_percentiles(FRAME, column=5), "column"),  # type: ignore[arg-type]
    ("report-path-name-too-long", lambda c: ra.report(FRAME, c.tmp / ("r" * 300 + ".html")), "path"),
    # A lone surrogate has no UTF-8 form: each was a UnicodeEncodeError from httpx or the OS.
    ("plivo-conference_name-surrogate", lambda c: ra.load_plivo_recordings(conference_name="room\ud800", **c.opts("plivo")), "conference_name"),
    ("Store-path-surrogate", lambda c: ra.Store(c.tmp / "s\ud800"), "path"),
    ("report-path-surrogate", lambda c: ra.report(FRAME, c.tmp / "r\ud800.html"), "path"),
    ("report-title-surrogate", lambda c: ra.report_html(FRAME, title="x\ud800"), "title"),
    ("download_media-dest-surrogate", lambda c: ra.download_media(FRAME, c.tmp / "m\ud800"), "dest"),
    ("archive-out-surrogate", lambda c: ra.archive_twilio(c.tmp / "a\ud800", **c.opts("twilio")), "out"),
    # An expression where a name is asked for: "the truth value of an Expr is ambiguous".
    ("codec_mix-metric-expr", lambda c: charts.codec_mix_chart(FRAME, metric=pl.col("size_bytes")), "metric"),  # type: ignore[arg-type]
    ("top_groups-metric-expr", lambda c: charts.top_groups_chart(FRAME, metric=pl.col("size_bytes")), "metric"),  # type: ignore[arg-type]
    ("top_groups-group-expr", lambda c: charts.top_groups_chart(FRAME, group=pl.col("group_id")), "group"),  # type: ignore[arg-type]
    # A spec vl-convert cannot render: its bare ValueError with a JavaScript stack.
    ("chart_to_svg-spec-invalid", lambda c: charts.chart_to_svg({"mark": "nonsense", "data": {"values": []}}), "chart"),
    ("chart_to_png-spec-invalid", lambda c: charts.chart_to_png({"mark": "nonsense", "data": {"values": []}}), "chart"),
    # Anything but a chart or a spec was an AttributeError ('str' object has no 'to_dict').
    ("save_chart-chart-str", lambda c: charts.save_chart("chart.json", c.tmp / "c.svg"), "chart"),  # type: ignore[arg-type]
    ("chart_to_svg-chart-none", lambda c: charts.chart_to_svg(None), "chart"),  # type: ignore[arg-type]
    ("chart_html-chart-list", lambda c: charts.chart_html([]), "chart"),  # type: ignore[arg-type]
    ("save_chart-path-none", lambda c: charts.save_chart(charts.status_chart(FRAME), None), "path"),  # type: ignore[arg-type]
    ("save_chart-path-int", lambda c: charts.save_chart(charts.status_chart(FRAME), 5), "path"),  # type: ignore[arg-type]
    ("save_chart-path-under-file", lambda c: charts.save_chart(charts.status_chart(FRAME), c.tmp / "file.txt" / "x.svg"), "path"),
    ("Store-name-too-long", lambda c: ra.Store(c.tmp / ("s" * 256)), "path"),
    ("archive-out-name-too-long", lambda c: ra.archive_twilio(c.tmp / ("a" * 256), **c.opts("twilio")), "out"),
    ("download_media-dest-name-too-long", lambda c: media(c, dest=c.tmp / ("d" * 256)), "dest"),
    # Names each short, the whole past PATH_MAX: a bare OSError "File name too long" from the
    # check of its parent folders.
    ("save_chart-path-too-long", lambda c: charts.save_chart(charts.status_chart(FRAME), c.tmp / ("d/" * 2100) / "c.svg"), "path"),
    ("report-path-too-long", lambda c: ra.report(FRAME, c.tmp / ("d/" * 2100) / "r.html"), "path"),
    ("Store-path-too-long", lambda c: ra.Store(c.tmp / ("s/" * 2100)), "path"),
    ("archive-out-too-long", lambda c: ra.archive_twilio(c.tmp / ("a/" * 2100), **c.opts("twilio")), "out"),
]:  # fmt: skip
    case(label, parameter, call)

for chart in ("duration_histogram", "duration_boxplot", "status_chart", "storage_chart",
              "volume_chart", "cost_chart", "overview_chart", "top_groups_chart"):  # fmt: skip
    builder = getattr(charts, chart)
    case(f"{chart}-by", "by", lambda c, f=builder: f(FRAME, by="nope"))
    case(f"{chart}-by-int", "by", lambda c, f=builder: f(FRAME, by=5))
    # None was a TypeError from pl.col deep in four of them.
    case(f"{chart}-by-none", "by", lambda c, f=builder: f(FRAME, by=None))
for chart in ("duration_histogram", "duration_boxplot", "status_chart", "storage_chart",
              "volume_chart", "codec_mix_chart", "cost_chart", "overview_chart",
              "top_groups_chart", "size_duration_chart"):  # fmt: skip
    builder = getattr(charts, chart)
    case(f"{chart}-df", "df", lambda c, f=builder: f("df"))
    case(f"{chart}-df-missing", "df", lambda c, f=builder: f(pl.DataFrame({"a": [1]})))
for chart in ("storage_chart", "volume_chart", "codec_mix_chart", "cost_chart", "overview_chart"):
    builder = getattr(charts, chart)
    case(f"{chart}-every", "every", lambda c, f=builder: f(FRAME, every="x"))


# Options that crashed after every request (raw frames of several providers do not stack), or
# hung (an infinite back-off), or were a TypeError (demo's own sandbox options), or an
# OverflowError (a rate past a float), or a "PaginationError" blaming the API for a URL too long.
MANY_ROOMS = ["RM" + f"{i:032x}" for i in range(101)]
for label, call, parameter in [
    ("load-raw", lambda c: ra.load(raw=True, **c.all_opts()), "raw"),
    ("load_with_status-raw", lambda c: ra.load_with_status(raw=True, **c.all_opts()), "raw"),
    ("demo-raw", lambda c: ra.demo(size=20, raw=True), "raw"),
    ("demo-credentials", lambda c: ra.demo(size=20, credentials=CREDENTIALS), "credentials"),
    ("demo-base_url", lambda c: ra.demo(size=20, base_url="https://example.com"), "base_url"),
    ("demo-transport", lambda c: ra.demo(size=20, transport=c.transport), "transport"),
    # demo passes its own range and providers: a TypeError "got multiple values" before.
    ("demo-since", lambda c: ra.demo(size=20, since="2025-01-01"), "since"),
    ("demo-providers", lambda c: ra.demo(size=20, providers=["zoom"]), "providers"),
    # Anything with a to_dict() was taken for a chart: a raw TypeError from a Series.
    ("chart_html-frame", lambda c: ra.charts.chart_html(FRAME), "chart"),
    ("chart_html-empty-dict", lambda c: ra.charts.chart_html({}), "chart"),
    ("Store-newest-kind-int", lambda c: ra.Store(c.tmp / "s").newest("twilio", kind=5), "kind"),
    ("RetryPolicy-inf", lambda c: ra.RetryPolicy(backoff_base=float("inf")), "retry.backoff_base"),
    ("RetryPolicy-cap-inf", lambda c: ra.RetryPolicy(backoff_cap=float("inf")), "retry.backoff_cap"),
    ("RetryPolicy-retries", lambda c: ra.RetryPolicy(max_retries=10**6), "retry.max_retries"),
    ("StorageRate-huge", lambda c: ra.StorageRate(10**400, "gb_month"), "rates"),
    ("cost_summary-rates-huge", lambda c: ra.cost_summary(FRAME, rates={"zoom": 10**400}), "rates"),
    ("twilio-grouping_sid-many", lambda c: ra.load_twilio_recordings(grouping_sid=MANY_ROOMS, **c.opts("twilio")), "grouping_sid"),
    ("plivo-from_number-long", lambda c: ra.load_plivo_recordings(from_number="sip:" + "a" * 70_000 + "@x.example", **c.opts("plivo")), "from_number"),
]:  # fmt: skip
    case(label, parameter, call)


# Store metadata named by a path reached files outside the store (clear_meta deleted one);
# a chart asking for a 10**9 px canvas aborted the interpreter; size text of thousands of digits
# was past int() and Decimal.
WIDE = charts.status_chart(FRAME).properties(width=10**9)
for label, call, parameter in [
    ("Store-clear_meta-path", lambda c: ra.Store(c.tmp / "s").clear_meta(str(c.tmp / "file.txt")), "name"),
    ("Store-write_meta-up", lambda c: ra.Store(c.tmp / "s").write_meta("../../x.json", {}), "name"),
    ("Store-read_meta-int", lambda c: ra.Store(c.tmp / "s").read_meta(5), "name"),
    ("Store-read_meta-empty", lambda c: ra.Store(c.tmp / "s").read_meta(""), "name"),
    ("save_chart-wide-png", lambda c: charts.save_chart(WIDE, c.tmp / "w.png"), "chart"),
    ("save_chart-wide-svg", lambda c: charts.save_chart(WIDE, c.tmp / "w.svg"), "chart"),
    ("chart_to_png-canvas", lambda c: charts.chart_to_png(charts.status_chart(FRAME).properties(width=20_000, height=20_000)), "scale"),
    # A band a million pixels wide drew a 2,000,000 px canvas (2.9 GB) past every size check.
    ("chart_to_png-step", lambda c: charts.chart_to_png(charts.status_chart(FRAME).properties(width={"step": 10**6})), "chart"),
    ("parse_size-digits", lambda c: ra.parse_size("9" * 5000 + " B"), "text"),
    ("parse_size-million", lambda c: ra.parse_size("9" * 10**6), "text"),
]:  # fmt: skip
    case(label, parameter, call)


def render(c: Ctx, **kwargs: Any) -> Any:
    from recanalytics.notebooks import render_notebooks

    arguments = {"src_dir": "notebooks", "out_dir": c.tmp / "site", "names": "01-quickstart"}
    return render_notebooks(**(arguments | kwargs))


# Checked before any kernel starts (were a TraitError, NoSuchKernel, a name split into letters,
# a RecanalyticsError, and "" wrote into the working directory).
for label, kwargs, parameter in [
    ("render_notebooks-src_dir", {"src_dir": "no-such-folder"}, "src_dir"),
    ("render_notebooks-timeout", {"timeout": "x"}, "timeout"),
    ("render_notebooks-timeout-bool", {"timeout": True}, "timeout"),
    ("render_notebooks-kernel", {"kernel_name": "nope"}, "kernel_name"),
    ("render_notebooks-names", {"names": ["no-such-notebook"]}, "names"),
    ("render_notebooks-names-path", {"names": ["../01-quickstart"]}, "names"),
    ("render_notebooks-out_dir", {"out_dir": ""}, "out_dir"),
]:  # fmt: skip
    case(label, parameter, lambda c, k=kwargs: render(c, **k))


# A folder the system will not make (a path inside /proc): the error names the argument, before
# any request, instead of an OSError after the load (which lost what was loaded).
UNMAKEABLE = Path("/proc/self/recanalytics-test/out")
if Path("/proc/self").is_dir():
    for label, call, parameter in [
        ("archive-out-unmakeable", lambda c: ra.archive_twilio(UNMAKEABLE, **c.opts("twilio")), "out"),
        ("refresh-store-unmakeable", lambda c: ra.Store(UNMAKEABLE).refresh(["twilio"], **c.all_opts()), "store"),
        ("load-store-unmakeable", lambda c: ra.load_twilio_recordings(store=ra.Store(UNMAKEABLE), **c.opts("twilio")), "store"),
        ("report-path-unmakeable", lambda c: ra.report(FRAME, UNMAKEABLE / "r.html"), "path"),
        ("save_chart-path-unmakeable", lambda c: charts.save_chart(charts.status_chart(FRAME), UNMAKEABLE / "c.svg"), "path"),
    ]:  # fmt: skip
        case(label, parameter, call)


# --- the runner ---------------------------------------------------------------------------------


@pytest.fixture
def ctx(
    no_env_credentials: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Ctx, list[str]]]:
    requests: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(str(request.url))
        return httpx.Response(500, json={"message": "no request may be made"})

    async def network(self: Any, request: httpx.Request) -> httpx.Response:
        requests.append(str(request.url))
        raise httpx.ConnectError("no network in this test", request=request)

    monkeypatch.setattr(httpx.AsyncHTTPTransport, "handle_async_request", network)
    (tmp_path / "file.txt").write_text("a file, not a folder")
    yield Ctx(httpx.MockTransport(handler), tmp_path), requests


def test_the_table_is_large() -> None:
    assert len(CASES) > 400


@pytest.mark.filterwarnings("ignore::recanalytics.LoadWarning")
@pytest.mark.parametrize(("call", "parameter"), CASES)
def test_bad_input_raises_config_error_naming_it_before_any_request(
    call: Case, parameter: str, ctx: tuple[Ctx, list[str]]
) -> None:
    context, requests = ctx
    with pytest.raises(ra.ConfigError) as info:
        call(context)
    assert isinstance(info.value, ValueError)
    assert info.value.parameter == parameter, str(info.value)
    assert parameter in str(info.value)
    assert info.value.expected  # the accepted form, in words
    assert requests == []
    for credentials in CREDENTIALS.values():
        for secret in credentials.secrets():
            assert secret not in str(info.value)


def test_demo_names_the_seed_bounds_it_accepts() -> None:
    # A seed past 64 bits was refused by the sandbox with its own form, "from -2^63", which
    # contradicted demo's ">= 0".
    with pytest.raises(ra.ConfigError) as info:
        ra.demo(seed=2**70)
    assert info.value.parameter == "seed" and info.value.expected.startswith("an integer from 0")


def _sync_twins_without_options() -> list[str]:
    import inspect

    names = []
    for name in sorted(ra.__all__):
        wrapped = getattr(getattr(ra, name), "__wrapped__", None)
        if wrapped is None or not inspect.iscoroutinefunction(wrapped):
            continue
        kinds = {p.kind for p in inspect.signature(wrapped).parameters.values()}
        if inspect.Parameter.VAR_KEYWORD not in kinds:
            names.append(name)
    return names


@pytest.mark.parametrize("name", _sync_twins_without_options())
def test_an_unknown_keyword_is_named_like_a_loader_option(name: str) -> None:
    # download_media(bogus=1) was Python's bare TypeError, where a loader raises
    # UnknownOptionError, a ConfigError naming it.
    from recanalytics.errors import UnknownOptionError

    with pytest.raises(UnknownOptionError, match="bogus"):
        getattr(ra, name)(bogus=1)


@pytest.mark.parametrize(
    ("load", "option", "value"),
    [
        (ra.load_twilio_recordings, "status", "Completed"),
        (ra.load_twilio_recordings, "media_type", "AUDIO"),
        (ra.load_twilio_compositions, "status", "Completed"),
        (ra.load_signalwire_recordings, "media_format", "MP3"),
    ],
)
def test_a_choice_in_other_capitals_is_no_bad_input(
    box: Sandbox, load: Callable[..., pl.DataFrame], option: str, value: str
) -> None:
    # Choices are compared in any case and sent in the API's spelling: the same rows.
    provider = load.__name__.split("_")[1]
    options = box.options(provider) | {"since": box.config.start, "until": box.config.end}
    got = load(**options, **{option: value})
    assert got.height > 0 and got.equals(load(**options, **{option: value.lower()}))


def test_a_rejected_base_url_is_shown_without_its_token() -> None:
    with pytest.raises(ra.ConfigError) as info:
        ra.load_twilio_recordings(
            base_url="https://proxy.example/?access_token=eyJSECRETJWT x", credentials=TWILIO
        )
    assert "eyJSECRETJWT" not in str(info.value) and "proxy.example" in str(info.value)


@pytest.mark.parametrize(
    "url",
    [
        "http://user:pa S3CRETVAL@x",
        "https://u:S3CRETVAL/x@proxy.example",
        "https://proxy.example/?Authorization=Bearer%20S3CRETVAL",
    ],
)
def test_a_rejected_base_url_never_shows_user_info_or_its_query(url: str) -> None:
    with pytest.raises(ra.ConfigError) as info:
        ra.load_twilio_recordings(base_url=url, credentials=TWILIO)
    assert "S3CRETVAL" not in str(info.value)


def test_the_back_off_of_a_thousandth_retry_is_a_number() -> None:
    # 2**1024 has no float: the 1,025th back-off raised OverflowError.
    policy = ra.RetryPolicy(max_retries=1000, backoff_base=1e-300, backoff_cap=1e-300)
    assert 0 < policy.backoff(1000) <= 1e-300
    assert ra.RetryPolicy().backoff(10**6) <= ra.RetryPolicy().backoff_cap


@pytest.mark.parametrize(
    "write",
    [
        pytest.param(lambda out: ra.report(FRAME, out / "r.html"), id="report"),
        pytest.param(
            lambda out: charts.save_chart(charts.volume_chart(FRAME), out / "c.html"),
            id="save_chart",
        ),
        pytest.param(lambda out: ra.explore(FRAME).export("csv", out / "e.csv"), id="export"),
        pytest.param(lambda out: ra.download_media(FRAME.head(3), out), id="download_media"),
    ],
)
def test_a_folder_that_cannot_be_written_is_named_before_anything_is_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, write: Callable[[Path], Any]
) -> None:
    # An existing read-only folder was a bare PermissionError after the report or chart had
    # been computed (and every download failed on its own with it).
    from conftest import simulate_read_only

    out = tmp_path / "read-only"
    out.mkdir()
    simulate_read_only(monkeypatch, out)
    with pytest.raises(ra.ConfigError, match=r"invalid (path|dest)") as info:
        write(out)
    assert "can write" in str(info.value)
    assert list(out.iterdir()) == []


def test_a_full_disk_never_writes_an_existing_file_in_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Only a folder refusing new files falls back to writing in place: a disk too full for the
    # temporary file would have cut the existing report short half way.
    import errno
    import tempfile

    target = tmp_path / "r.html"
    target.write_text("old")

    def full(*args: Any, **kwargs: Any) -> tuple[int, str]:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(tempfile, "mkstemp", full)
    with pytest.raises(ra.StoreError, match="No space left"):
        ra.report(FRAME, target)
    assert target.read_text() == "old"


def test_an_existing_file_is_written_in_a_folder_that_cannot_take_new_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The folder probe refused it ("invalid path (got '/dev')" for /dev/null), though the file
    # is written in place and the folder never needed new files.
    from conftest import simulate_read_only

    out = tmp_path / "read-only"
    out.mkdir()
    target = out / "r.html"
    target.write_text("old")
    simulate_read_only(monkeypatch, out)
    assert ra.report(FRAME, target) == target.resolve() and "<html" in target.read_text()
    assert ra.report(FRAME, "/dev/null") == Path("/dev/null")


def test_an_export_is_never_written_in_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A data file, unlike a page made again by the same call: in a folder that takes no new
    # file the export was written over the earlier one in place, which a full disk cut short.
    from conftest import simulate_read_only

    out = tmp_path / "read-only"
    out.mkdir()
    target = out / "e.parquet"
    target.write_bytes(b"an earlier export")
    simulate_read_only(monkeypatch, out)
    with pytest.raises(ra.StoreError, match=f"its folder {out} takes no new file"):
        ra.explore(FRAME).export("parquet", target)
    assert target.read_bytes() == b"an earlier export"


WRITE_EVERY_OUTPUT = """
import sys
from pathlib import Path

import recanalytics as ra
from recanalytics import charts
from recanalytics.sandbox import Sandbox

out = Path(sys.argv[1])
df = ra.demo(size=200)
explorer = ra.explore(df)
chart = charts.storage_chart(df)
writes = {
    "e.parquet": lambda: explorer.export("parquet", out / "e.parquet"),
    "e.csv": lambda: explorer.export("csv", out / "e.csv"),
    "c.html": lambda: charts.save_chart(chart, out / "c.html"),
    "c.svg": lambda: charts.save_chart(chart, out / "c.svg"),
    "c.json": lambda: charts.save_chart(chart, out / "c.json"),
}
for name, write in writes.items():
    try:
        write()
        print(name, "written")
    except Exception as exc:
        print(name, type(exc).__name__, str(exc).splitlines()[0])
"""


@pytest.mark.skipif(sys.platform == "win32", reason="RLIMIT_FSIZE is POSIX")
def test_exports_and_charts_that_cannot_be_written_keep_the_earlier_file(tmp_path: Path) -> None:
    # Written in place: under a file size limit (or on a full disk) an earlier complete export
    # became a cut-off unreadable one, a chart an empty file, with a raw polars error or
    # OSError naming no file.
    import resource
    import subprocess

    names = ["e.parquet", "e.csv", "c.html", "c.svg", "c.json"]
    for name in names:
        (tmp_path / name).write_bytes(b"an earlier file")

    def limited() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))

    root = Path(__file__).resolve().parents[1]
    done = subprocess.run(
        [sys.executable, "-c", WRITE_EVERY_OUTPUT, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
        preexec_fn=limited,
        env={**os.environ, "PYTHONPATH": str(root)},
    )
    assert done.returncode == 0, done.stderr
    for name, line in zip(names, done.stdout.splitlines(), strict=True):
        assert line.startswith(f"{name} StoreError {tmp_path / name}: could not be written"), line
        assert (tmp_path / name).read_bytes() == b"an earlier file"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(names)
