"""The provider table: one line per provider, everything else reads it.

A provider describes itself in its own module: its :class:`~recanalytics.providers.base.ProviderSpec`
(name, hosts, credentials class and so its environment variables, rate, media authentication,
colour, storage rate, emulator) and its :class:`~recanalytics.providers.base.Loader` objects
(the loaders ``load()`` runs and the kinds of rows each returns). ``load()``, the CLI, the cost
helpers, the charts, media downloads and the sandbox read this table.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import polars as pl

from recanalytics.credentials import Credentials
from recanalytics.errors import ConfigError
from recanalytics.providers import plivo, signalwire, twilio, twilio_compositions, zoom
from recanalytics.providers.base import Archival, Loader, ProviderSpec

TABLE: tuple[tuple[ProviderSpec, tuple[Loader[Any], ...]], ...] = (
    (twilio.TWILIO, (twilio.LOADER, twilio_compositions.LOADER)),
    (plivo.PLIVO, (plivo.LOADER,)),
    (zoom.ZOOM, (zoom.LOADER,)),
    (signalwire.SIGNALWIRE, (signalwire.LOADER,)),
)

SPECS: dict[str, ProviderSpec] = {spec.name: spec for spec, _ in TABLE}
LOADERS: dict[str, tuple[Loader[Any], ...]] = {spec.name: loaders for spec, loaders in TABLE}
CREDENTIALS: dict[str, type[Credentials]] = {name: s.credentials for name, s in SPECS.items()}
READINGS: dict[str, int] = {
    twilio.TWILIO.name: twilio.READING,
    plivo.PLIVO.name: plivo.READING,
    zoom.ZOOM.name: zoom.READING,
    signalwire.SIGNALWIRE.name: signalwire.READING,
}
"""Each provider's ``READING``, declared in its module: the version of how its answers are read
into unified rows. A store's coverage and an archive's manifest record it; what was read under
an older one is loaded again (a store) or not carried forward (an archive)."""
REREADS: dict[str, dict[int, frozenset[str]]] = {
    twilio.TWILIO.name: twilio.REREAD,
    plivo.PLIVO.name: plivo.REREAD,
    zoom.ZOOM.name: zoom.REREAD,
    signalwire.SIGNALWIRE.name: signalwire.REREAD,
}
"""Each provider's ``REREAD``: the unified columns each of its readings changed."""
ARCHIVABLE: dict[str, Archival] = {name: s.archive for name, s in SPECS.items() if s.archive}
"""The providers whose spec says their whole account is worth archiving (``recanalytics
archive`` offers them), and why."""


def credentials_class(provider: str) -> type[Credentials]:
    if provider not in CREDENTIALS:
        raise ConfigError("provider", "one of " + ", ".join(SPECS), provider)
    return CREDENTIALS[provider]


def loaders_of(provider: str) -> tuple[Loader[Any], ...]:
    """The loaders ``load()`` runs for ``provider``, with the kinds of rows each returns."""
    credentials_class(provider)
    return LOADERS[provider]


def loaders_for(provider: str) -> tuple[Callable[..., Awaitable[pl.DataFrame]], ...]:
    """The async loaders that ``load()`` runs for ``provider`` (each takes since/until)."""
    return tuple(loader.load for loader in loaders_of(provider))


def spec_for(provider: str) -> ProviderSpec:
    """The connection facts (host, auth, rate) of ``provider``."""
    credentials_class(provider)
    return SPECS[provider]


def reading_of(provider: str) -> int:
    """The version of how ``provider``'s answers are read into unified rows (its module's
    ``READING``; see :data:`READINGS`).

    Examples
    --------
    >>> reading_of("plivo") >= 2
    True
    """
    credentials_class(provider)
    return READINGS[provider]


def reread_since(provider: str, reading: int) -> frozenset[str]:
    """The unified columns ``provider``'s readings after ``reading`` (0: an older version's,
    unrecorded) read otherwise: what an archive does not carry from a run read under it.

    Examples
    --------
    >>> sorted(reread_since("plivo", 0))
    ['bitrate_kbps', 'duration']
    >>> reread_since("plivo", reading_of("plivo"))
    frozenset()
    """
    changes = REREADS.get(provider, {})
    return frozenset().union(*(cols for r, cols in changes.items() if r > reading))
