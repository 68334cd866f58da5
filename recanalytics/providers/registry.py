"""Provider name -> its connection facts, credentials class and the loaders ``load()`` runs."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import polars as pl

from recanalytics.credentials import (
    Credentials,
    PlivoCredentials,
    SignalWireCredentials,
    TwilioCredentials,
    ZoomCredentials,
)
from recanalytics.errors import ConfigError
from recanalytics.providers import plivo, signalwire, twilio, twilio_compositions, zoom
from recanalytics.providers.base import Loader, ProviderSpec
from recanalytics.schema import PROVIDERS

CREDENTIALS: dict[str, type[Credentials]] = {
    "twilio": TwilioCredentials,
    "plivo": PlivoCredentials,
    "zoom": ZoomCredentials,
    "signalwire": SignalWireCredentials,
}

LOADERS: dict[str, tuple[Loader[Any], ...]] = {
    "twilio": (twilio.LOADER, twilio_compositions.LOADER),
    "plivo": (plivo.LOADER,),
    "zoom": (zoom.LOADER,),
    "signalwire": (signalwire.LOADER,),
}

SPECS: dict[str, ProviderSpec] = {
    "twilio": twilio.TWILIO,
    "plivo": plivo.PLIVO,
    "zoom": zoom.ZOOM,
    "signalwire": signalwire.SIGNALWIRE,
}


def credentials_class(provider: str) -> type[Credentials]:
    if provider not in CREDENTIALS:
        raise ConfigError("provider", "one of " + ", ".join(PROVIDERS), provider)
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
