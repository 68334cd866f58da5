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
from collections.abc import Mapping
from typing import Any, Protocol

import polars as pl

from recanalytics import validate
from recanalytics.credentials import Credentials
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


class Sandbox:
    """The emulated provider APIs over one synthetic dataset.

    Parameters
    ----------
    seed : int
        Everything in the dataset derives from it.
    size : int
        Number of Twilio track recordings; the other endpoints scale with it.
    start, end : datetime
        Rooms, calls and sessions are created in ``[start, end)``; a room's tracks and
        compositions follow it by up to an hour, so a few may fall just after ``end``.
    latency : float
        Seconds added to every request.
    rate_limits : bool or dict
        True enforces each provider's documented limit (429 above it); a dict maps provider to
        ``(requests, period_seconds)``.
    faults : Faults, optional
        Injected 429/5xx answers, dropped connections and truncated bodies.
    anomalies : Anomalies, optional
        Page anomalies real APIs show: empty pages that still link further, repeated pages,
        200 answers without the list; transient or persistent.
    providers : list of str, optional
        Emulate only these (default: all).
    emulator_options : mapping, optional
        Per-provider emulator settings, e.g. ``{"plivo": {"paging": "cursor"}}`` (Plivo's
        ``offset``, ``cursor`` or ``hybrid`` paging).
    small_media : bool
        Every recording lasts as long as, and is as large as, the small real file the storage
        host serves for it (a few seconds), except for planted faults listed by
        :meth:`planted_media`: truncated files, durations 10 s off, Twilio tracks reporting the
        other codec. Default False: the dataset keeps realistic durations and sizes (hours,
        GiB), and the files served are the same short ones.
    skew : float
        How creation times crowd towards ``end`` (default 0.6; 0.03 puts about four in five
        rows of the default 22 months into the last month).
    """

    def __init__(
        self,
        *,
        seed: int = 7,
        size: int = 2000,
        start: dt.datetime = DEFAULT_START,
        end: dt.datetime = DEFAULT_END,
        latency: float = 0.0,
        rate_limits: bool | dict[str, tuple[float, float]] = False,
        faults: Faults | None = None,
        anomalies: Anomalies | None = None,
        providers: list[str] | None = None,
        emulator_options: Mapping[str, Mapping[str, Any]] | None = None,
        small_media: bool = False,
        skew: float = 0.6,
    ) -> None:
        # Checked here so `recanalytics sandbox --size -1` says so instead of serving nothing.
        validate.int_range(size, "size", 0, SIZE_MAX)
        validate.int_range(seed, "seed", -(2**63), 2**63 - 1)
        validate.number(latency, "latency", inclusive=True, high=60.0)
        validate.number(skew, "skew", high=1.0)
        self.config = DataConfig(
            seed=seed, size=size, start=start, end=end, small_media=small_media, skew=skew
        )
        settings = emulator_options or {}
        self.emulators: dict[str, Any] = {
            name: cls(self.config, **settings.get(name, {}))
            for name, cls in EMULATORS.items()
            if providers is None or name in providers
        }
        if rate_limits is True:
            limits = {name: e.rate_limit for name, e in self.emulators.items()}
        elif rate_limits:
            limits = dict(rate_limits)
        else:
            limits = {}
        self.app = SandboxApp(
            [route for e in self.emulators.values() for route in e.routes()] + storage.routes(),
            error_bodies={name: e.error_body for name, e in self.emulators.items()},
            latency=latency,
            rate_limits=limits,
            faults=faults,
            anomalies=anomalies,
        )
        self.transport = SandboxTransport(self.app)

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
        """The credentials the sandbox accepts for ``provider``."""
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
        """A real HTTP server for this sandbox on 127.0.0.1 (use ``with``, or ``.start()``)."""
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
