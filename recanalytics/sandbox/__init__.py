"""A faithful, offline emulator of the provider APIs, with a deterministic synthetic dataset.

Use it in-process (an httpx transport, no socket) or as a real HTTP server on 127.0.0.1.

Examples
--------
>>> import recanalytics as ra
>>> from recanalytics.sandbox import Sandbox
>>> box = Sandbox(seed=7, size=300)
>>> df = ra.load_twilio_recordings(**box.options("twilio"))
>>> df.height
300
>>> with box.serve() as server:                       # real HTTP on 127.0.0.1
...     df = ra.load_twilio_recordings(**box.options("twilio", base_url=server.url))
>>> checked = Sandbox(seed=7, size=100, small_media=True)  # metadata that fits the media
>>> checked.planted_media().columns
['provider', 'recording_id', 'fault']
"""

from __future__ import annotations

import datetime as dt
import importlib
import inspect
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import polars as pl

from recanalytics import validate
from recanalytics.credentials import Credentials
from recanalytics.errors import ConfigError, UnknownOptionError
from recanalytics.providers.registry import SPECS, credentials_class
from recanalytics.sandbox import storage
from recanalytics.sandbox.common import DEFAULT_END, DEFAULT_START, DataConfig
from recanalytics.sandbox.core import (
    Anomalies,
    Faults,
    Route,
    SandboxApp,
    SandboxRequest,
    SandboxResponse,
)
from recanalytics.sandbox.serve import SandboxServer, SandboxTransport
from recanalytics.schema import SCHEMA
from recanalytics.windows import DATE_FORMS, WhenLike, parse_when

IN_PROCESS_URL = "http://sandbox.invalid"
SIZE_MAX = 10_000_000  # Twilio track recordings; a dataset this size already takes minutes


class Emulator(Protocol):
    name: str
    rate_limit: tuple[float, float]
    credentials: dict[str, str]
    #: a listing to try on the served sandbox (path and query), or "" where curl cannot sign in
    example_path: str

    def routes(self) -> list[Route]: ...
    def error_body(self, status: int, message: str) -> Any: ...


def _emulator_class(path: str) -> type[Any]:
    module, _, name = path.partition(":")
    cls: type[Any] = getattr(importlib.import_module(module), name)
    return cls


EMULATORS: dict[str, type[Any]] = {
    name: _emulator_class(spec.emulator) for name, spec in SPECS.items() if spec.emulator
}
"""Provider name -> its emulator class, as each provider's spec names it."""

RATE_FORM = (
    "True, False, or a mapping of provider name to (requests, period_seconds): "
    "requests >= 1 and period_seconds > 0, both finite numbers"
)


def _instant(value: Any, parameter: str) -> dt.datetime:
    """``start`` or ``end``, read as the loaders read ``since``/``until`` (naive is UTC)."""
    moment = parse_when(value, parameter)
    if moment is None:
        raise ConfigError(parameter, DATE_FORMS, value)
    return moment


def _span(start: Any, end: Any) -> tuple[dt.datetime, dt.datetime]:
    """``[start, end)``, which must hold an instant for rows to be created in."""
    first, last = _instant(start, "start"), _instant(end, "end")
    if first >= last:
        raise ConfigError("start/end", "start earlier than end (end is exclusive)", (start, end))
    return first, last


def _emulated(providers: Any) -> list[str]:
    """The providers to emulate, in :data:`EMULATORS` order (a str is one name, not letters)."""
    if providers is None:
        return list(EMULATORS)
    names = validate.providers(providers)
    for name in names:
        if name not in EMULATORS:
            raise ConfigError(
                "providers", "providers with an emulator: " + ", ".join(EMULATORS), name
            )
    return [name for name in EMULATORS if name in names]


def _by_provider(value: Any, parameter: str, emulated: list[str], form: str) -> Mapping[str, Any]:
    """A mapping keyed by emulated providers only: an entry that cannot take effect (a typo, a
    provider left out) is refused rather than ignored."""
    if not isinstance(value, Mapping):
        raise ConfigError(parameter, form, value)
    stray = sorted(str(key) for key in value if key not in emulated)
    if stray:
        where = "a mapping keyed by the emulated providers (" + ", ".join(emulated) + ")"
        raise ConfigError(parameter, where, stray)
    return value


def _rate_limits(value: Any, emulated: list[str]) -> dict[str, tuple[float, float]]:
    """``rate_limits`` as ``{provider: (requests, period_seconds)}``."""
    if isinstance(value, bool):
        return {name: EMULATORS[name].rate_limit for name in emulated} if value else {}
    limits = _by_provider(value, "rate_limits", emulated, RATE_FORM)
    return {name: _rate(name, pair) for name, pair in limits.items()}


def _rate(name: str, pair: Any) -> tuple[float, float]:
    form = "(requests, period_seconds): requests >= 1 and period_seconds > 0, both finite numbers"
    if isinstance(pair, tuple | list) and len(pair) == 2:
        try:
            # A limit below one request refuses every request: a dead server, not a limit.
            requests = validate.number(pair[0], "requests", low=1.0, inclusive=True)
            return requests, validate.number(pair[1], "period_seconds")
        except ConfigError:
            pass
    raise ConfigError(f"rate_limits.{name}", form, pair)


def _instance(value: Any, parameter: str, cls: type[Any]) -> None:
    """None or a ``cls``: anything else failed only at the first request."""
    if value is not None and not isinstance(value, cls):
        raise ConfigError(parameter, f"None or an instance of {cls.__name__}", value)


def _option_names(cls: type[Any]) -> list[str]:
    return [p.name for p in inspect.signature(cls).parameters.values() if p.kind is p.KEYWORD_ONLY]


def _emulator_options(value: Any, emulated: list[str]) -> dict[str, dict[str, Any]]:
    """``emulator_options``, each provider's checked by its emulator before any dataset is made."""
    if value is None:
        return {}
    form = "None or a mapping of provider name to a mapping of that emulator's options"
    settings = {
        name: _options_of(name, given)
        for name, given in _by_provider(value, "emulator_options", emulated, form).items()
    }
    for name, options in settings.items():
        # On an empty dataset, so that a bad Zoom option is said before Twilio's ten million
        # tracks are made; the emulator's own checks name the option.
        try:
            EMULATORS[name](DataConfig(size=0), **options)
        except ConfigError as exc:
            parameter = f"emulator_options.{name}.{exc.parameter}"
            raise ConfigError(parameter, exc.expected, exc.value, hint=exc.hint) from exc
    return settings


def _options_of(name: str, given: Any) -> dict[str, Any]:
    """One provider's options: a mapping of the names its emulator takes."""
    known = _option_names(EMULATORS[name])
    if not isinstance(given, Mapping):
        form = f"a mapping of option name to value; {name}'s options: " + ", ".join(known)
        raise ConfigError(f"emulator_options.{name}", form, given)
    unknown = sorted(str(key) for key in given if key not in known)
    if unknown:
        raise UnknownOptionError(
            ", ".join(f"emulator_options.{name}.{key}" for key in unknown),
            f"an option of the {name} emulator among " + ", ".join(known),
        )
    return dict(given)


class Sandbox:
    """The emulated provider APIs over one synthetic dataset.

    Parameters
    ----------
    seed : int
        Everything in the dataset derives from it: a 64-bit integer.
    size : int
        Number of Twilio track recordings, 0 to 10,000,000; the other endpoints scale with it.
    start, end : datetime, date or str
        Rooms, calls and sessions are created in ``[start, end)``; a room's tracks and
        compositions follow it by up to an hour, so a few may fall just after ``end``. Read as
        the loaders read ``since``/``until``: an aware datetime, a naive one or a date (UTC),
        or ISO 8601 text, from 1970-01-01 to 9999-01-01; ``start`` before ``end``.
    latency : float
        Seconds added to every request, 0 to 60.
    rate_limits : bool or mapping
        True enforces each provider's documented limit (429 above it); a mapping gives some of
        the emulated providers a limit ``(requests, period_seconds)``: requests >= 1 per
        period of seconds > 0.
    faults : Faults, optional
        Injected 429/5xx answers, dropped connections and truncated bodies.
    anomalies : Anomalies, optional
        Page anomalies real APIs show: empty pages that still link further, repeated pages,
        200 answers without the list; transient or persistent.
    providers : str or list of str, optional
        Emulate only these (default: all): provider names, as the loaders take them.
    emulator_options : mapping, optional
        Per-provider emulator settings, keyed by emulated provider: e.g.
        ``{"plivo": {"paging": "cursor"}}`` (Plivo's ``offset``, ``cursor`` or ``hybrid``
        paging). Each emulator class lists its options (:class:`~.twilio.TwilioEmulator`,
        :class:`~.plivo.PlivoEmulator`, :class:`~.zoom.ZoomEmulator`,
        :class:`~.signalwire.SignalWireEmulator`).
    small_media : bool
        Every recording lasts as long as, and is as large as, the small real file the storage
        host serves for it (a few seconds), except for planted faults listed by
        :meth:`planted_media`: truncated files, durations 10 s off, Twilio tracks reporting the
        other codec. Default False: the dataset keeps realistic durations and sizes (hours,
        GiB), and the files served are the same short ones.
    skew : float
        How creation times crowd towards ``end``, above 0 and at most 1 (default 0.6; 0.03
        puts about four in five rows of the default 22 months into the last month).

    Raises
    ------
    ConfigError
        Any argument outside those forms, before any dataset is made; it names the argument
        (``emulator_options.plivo.paging`` for an emulator's option).
    """

    def __init__(
        self,
        *,
        seed: int = 7,
        size: int = 2000,
        start: WhenLike = DEFAULT_START,
        end: WhenLike = DEFAULT_END,
        latency: float = 0.0,
        rate_limits: bool | Mapping[str, tuple[float, float]] = False,
        faults: Faults | None = None,
        anomalies: Anomalies | None = None,
        providers: str | Sequence[str] | None = None,
        emulator_options: Mapping[str, Mapping[str, Any]] | None = None,
        small_media: bool = False,
        skew: float = 0.6,
    ) -> None:
        # Checked here so `recanalytics sandbox --size -1` says so instead of serving nothing.
        validate.int_range(size, "size", 0, SIZE_MAX)
        validate.int_range(seed, "seed", -(2**63), 2**63 - 1)
        validate.number(latency, "latency", inclusive=True, high=60.0)
        validate.number(skew, "skew", high=1.0)
        first, last = _span(start, end)
        validate.boolean(small_media, "small_media")
        _instance(faults, "faults", Faults)
        _instance(anomalies, "anomalies", Anomalies)
        emulated = _emulated(providers)
        limits = _rate_limits(rate_limits, emulated)
        settings = _emulator_options(emulator_options, emulated)
        self.config = DataConfig(
            seed=seed, size=size, start=first, end=last, small_media=small_media, skew=skew
        )
        self.emulators: dict[str, Any] = {
            name: EMULATORS[name](self.config, **settings.get(name, {})) for name in emulated
        }
        self.app = SandboxApp(
            [route for e in self.emulators.values() for route in e.routes()] + storage.routes(),
            error_bodies={name: e.error_body for name, e in self.emulators.items()},
            latency=latency,
            rate_limits=limits,
            faults=faults,
            anomalies=anomalies,
            clock_of=self._server_time,
        )
        self.transport = SandboxTransport(self.app)

    def _server_time(self, provider: str) -> float | None:
        """The clock of ``provider``'s emulator, read now (tests replace an emulator's clock)."""
        emulator = self.emulators.get(provider)
        return None if emulator is None else emulator.clock()

    def __getitem__(self, provider: str) -> Any:
        return self.emulators[provider]

    @property
    def requests(self) -> int:
        """Requests answered so far (all providers)."""
        return self.app.requests["total"]

    def planted_media(self) -> pl.DataFrame:
        """The faults planted on media files with ``small_media=True`` (none otherwise).

        One row per recording: ``provider``, ``recording_id`` and ``fault`` (``truncated``,
        ``duration`` or ``codec``), whatever the recording's status.
        """
        rows = [
            (name, recording_id, fault)
            for name, emulator in self.emulators.items()
            for recording_id, fault in sorted(emulator.planted.items())
        ]
        return pl.DataFrame(
            rows,
            # The unified frame's dtypes, so it joins the loaded recordings as it is.
            schema={"provider": SCHEMA["provider"], "recording_id": pl.String, "fault": pl.String},
            orient="row",
        )

    def credentials(self, provider: str) -> Credentials:
        """The credentials the sandbox accepts for ``provider`` (one it emulates)."""
        if not isinstance(provider, str) or provider not in self.emulators:
            form = "a provider this sandbox emulates: " + ", ".join(self.emulators)
            raise ConfigError("provider", form, provider)
        return credentials_class(provider)(**self.emulators[provider].credentials)

    def options(self, provider: str, *, base_url: str | None = None) -> dict[str, Any]:
        """Keyword options that point a loader at this sandbox: in-process by default, or at a
        served sandbox when ``base_url`` is given."""
        options: dict[str, Any] = {"credentials": self.credentials(provider)}
        if base_url is None:
            options.update(base_url=IN_PROCESS_URL, transport=self.transport)
        else:
            options["base_url"] = base_url
        return options

    def load_options(self, *, base_url: str | None = None) -> dict[str, Any]:
        """Keyword options for :func:`recanalytics.load` across every emulated provider."""
        return {
            "credentials": {name: self.credentials(name) for name in self.emulators},
            "base_url": base_url or IN_PROCESS_URL,
            **({} if base_url else {"transport": self.transport}),
        }

    def serve(self, port: int = 0) -> SandboxServer:
        """A real HTTP server for this sandbox on 127.0.0.1 (use ``with``, or ``.start()``).

        ``port`` is an integer from 0 to 65535 (0: any free port); another value is a
        ConfigError, a port that is taken an OSError.
        """
        return SandboxServer(self.app, port)


__all__ = [
    "EMULATORS",
    "IN_PROCESS_URL",
    "Anomalies",
    "DataConfig",
    "Faults",
    "Sandbox",
    "SandboxApp",
    "SandboxRequest",
    "SandboxResponse",
    "SandboxServer",
    "SandboxTransport",
]
