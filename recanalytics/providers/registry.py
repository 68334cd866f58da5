"""Provider name -> its connection facts and credentials class."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import polars as pl

from recanalytics.credentials import (
    Credentials,
    PlivoCredentials,
    SignalWireCredentials,
    TwilioCredentials,
    ZoomCredentials,
)
from recanalytics.errors import ConfigError
from recanalytics.schema import PROVIDERS

if TYPE_CHECKING:
    from recanalytics.providers.base import ProviderSpec

CREDENTIALS: dict[str, type[Credentials]] = {
    "twilio": TwilioCredentials,
    "plivo": PlivoCredentials,
    "zoom": ZoomCredentials,
    "signalwire": SignalWireCredentials,
}


def credentials_class(provider: str) -> type[Credentials]:
    if provider not in CREDENTIALS:
        raise ConfigError("provider", "one of " + ", ".join(PROVIDERS), provider)
    return CREDENTIALS[provider]


def loaders_for(provider: str) -> tuple[Callable[..., Awaitable[pl.DataFrame]], ...]:
    """The async loaders that ``load()`` runs for ``provider`` (each takes since/until)."""
    # Imported here, not at module level: the sandbox imports this module and must not need
    # the HTTP engine.
    from recanalytics.providers import plivo, signalwire, twilio, twilio_compositions, zoom

    loaders: dict[str, tuple[Callable[..., Awaitable[pl.DataFrame]], ...]] = {
        "twilio": (twilio.aload_twilio_recordings, twilio_compositions.aload_twilio_compositions),
        "plivo": (plivo.aload_plivo_recordings,),
        "zoom": (zoom.aload_zoom_recordings,),
        "signalwire": (signalwire.aload_signalwire_recordings,),
    }
    credentials_class(provider)
    return loaders[provider]


def spec_for(provider: str) -> ProviderSpec:
    """The connection facts (host, auth, rate) of ``provider``."""
    from recanalytics.providers import plivo, signalwire, twilio, zoom

    specs: dict[str, ProviderSpec] = {
        "twilio": twilio.TWILIO,
        "plivo": plivo.PLIVO,
        "zoom": zoom.ZOOM,
        "signalwire": signalwire.SIGNALWIRE,
    }
    credentials_class(provider)
    return specs[provider]
