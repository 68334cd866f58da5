"""Provider name -> its connection facts and credentials class."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

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
    from recanalytics.providers import twilio

    loaders: dict[str, tuple[Callable[..., Awaitable[pl.DataFrame]], ...]] = {
        "twilio": (twilio.aload_twilio_recordings,),
        "plivo": (),
        "zoom": (),
        "signalwire": (),
    }
    credentials_class(provider)
    return loaders[provider]
