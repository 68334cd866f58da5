"""Provider name -> its connection facts and credentials class."""

from __future__ import annotations

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
