"""Per-provider credentials: read from the environment or given explicitly, never shown.

Every class keeps its secret fields out of ``repr`` and ``str``; error messages name the
environment variables that are missing, never a value.
"""

from __future__ import annotations

import base64
import dataclasses
import os
import re
from collections.abc import Mapping
from typing import Any, ClassVar, Self

from recanalytics.errors import CredentialsError

_HIDDEN = "'***'"


@dataclasses.dataclass(frozen=True, repr=False)
class Credentials:
    """Base class. Subclasses list their fields, the secret ones, and their environment names."""

    provider: ClassVar[str] = ""
    #: field name -> environment variable names tried in order
    env: ClassVar[dict[str, tuple[str, ...]]] = {}
    secret_fields: ClassVar[frozenset[str]] = frozenset()
    required: ClassVar[tuple[str, ...]] = ()
    #: (user field, secret field) pairs sent as HTTP Basic auth
    basic_pairs: ClassVar[tuple[tuple[str, str], ...]] = ()

    def __post_init__(self) -> None:
        missing = [name for name in self.required if not getattr(self, name)]
        if missing:
            names = ", ".join(f"{m} (env {' or '.join(self.env.get(m, ()))})" for m in missing)
            raise CredentialsError(self.provider, f"missing {names}")

    def __repr__(self) -> str:
        parts = []
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            shown = _HIDDEN if field.name in self.secret_fields and value else repr(value)
            parts.append(f"{field.name}={shown}")
        return f"{type(self).__name__}({', '.join(parts)})"

    __str__ = __repr__

    def secrets(self) -> list[str]:
        """The secret values and the Basic auth tokens made of them, so that log and error text
        can be scrubbed of them (:func:`recanalytics.redact.redact_text` adds their other forms).
        """
        values = [v for name in sorted(self.secret_fields) if (v := getattr(self, name))]
        for user_field, secret_field in self.basic_pairs:
            user, secret = getattr(self, user_field), getattr(self, secret_field)
            if user and secret:
                values.append(base64.b64encode(f"{user}:{secret}".encode()).decode())
        return values

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Self:
        """Build from environment variables (``CredentialsError`` names any that are missing)."""
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for field, names in cls.env.items():
            for name in names:
                if environ.get(name):
                    values[field] = environ[name]
                    break
        return cls(**values)

    @classmethod
    def available(cls, environ: Mapping[str, str] | None = None) -> bool:
        """Whether the environment holds enough for :meth:`from_env` to succeed."""
        try:
            cls.from_env(environ)
        except CredentialsError:
            return False
        return True

    @classmethod
    def coerce(cls, value: Credentials | Mapping[str, Any] | None) -> Self:
        """Accept an instance, a mapping of field names, or None (environment variables)."""
        if value is None:
            return cls.from_env()
        if isinstance(value, cls):
            return value
        if isinstance(value, Mapping):
            known = {f.name for f in dataclasses.fields(cls)}
            unknown = sorted(set(value) - known)
            if unknown:
                raise CredentialsError(
                    cls.provider, f"unknown keys {unknown}; accepted: {sorted(known)}"
                )
            return cls(**value)
        raise CredentialsError(
            cls.provider, f"expected {cls.__name__}, a mapping or None, got {type(value).__name__}"
        )

    def basic_auth(self) -> tuple[str, str]:
        """The (username, password) pair for HTTP Basic auth."""
        raise NotImplementedError


# A space name or host[:port], or an http(s) URL of one (whose path is ignored).
_HOST = r"[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?(?::\d{1,5})?"
_SPACE_RE = re.compile(rf"(?i:https?)://{_HOST}(?:/.*)?|{_HOST}/?")


@dataclasses.dataclass(frozen=True, repr=False)
class TwilioCredentials(Credentials):
    """Account SID + Auth Token, or API Key SID + secret (the key pair wins when both are set).

    Examples
    --------
    >>> creds = TwilioCredentials(account_sid="AC" + "0" * 32, auth_token="t0ken-value")
    >>> "t0ken-value" in repr(creds)
    False
    """

    account_sid: str | None = None
    auth_token: str | None = None
    api_key: str | None = None
    api_secret: str | None = None

    provider: ClassVar[str] = "twilio"
    env: ClassVar[dict[str, tuple[str, ...]]] = {
        "account_sid": ("TWILIO_ACCOUNT_SID",),
        "auth_token": ("TWILIO_AUTH_TOKEN",),
        "api_key": ("TWILIO_API_KEY",),
        "api_secret": ("TWILIO_API_SECRET", "TWILIO_API_KEY_SECRET"),
    }
    secret_fields: ClassVar[frozenset[str]] = frozenset({"auth_token", "api_secret"})
    basic_pairs: ClassVar[tuple[tuple[str, str], ...]] = (
        ("account_sid", "auth_token"),
        ("api_key", "api_secret"),
    )

    def __post_init__(self) -> None:
        if not ((self.api_key and self.api_secret) or (self.account_sid and self.auth_token)):
            raise CredentialsError(
                "twilio",
                "missing credentials: set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN, "
                "or TWILIO_API_KEY and TWILIO_API_SECRET",
            )

    def basic_auth(self) -> tuple[str, str]:
        if self.api_key and self.api_secret:
            return self.api_key, self.api_secret
        assert self.account_sid and self.auth_token
        return self.account_sid, self.auth_token


@dataclasses.dataclass(frozen=True, repr=False)
class PlivoCredentials(Credentials):
    """Plivo Auth ID (``MA…`` or ``SA…``, 20 characters) and Auth Token."""

    auth_id: str | None = None
    auth_token: str | None = None

    provider: ClassVar[str] = "plivo"
    env: ClassVar[dict[str, tuple[str, ...]]] = {
        "auth_id": ("PLIVO_AUTH_ID",),
        "auth_token": ("PLIVO_AUTH_TOKEN",),
    }
    secret_fields: ClassVar[frozenset[str]] = frozenset({"auth_token"})
    required: ClassVar[tuple[str, ...]] = ("auth_id", "auth_token")
    basic_pairs: ClassVar[tuple[tuple[str, str], ...]] = (("auth_id", "auth_token"),)

    def __post_init__(self) -> None:
        super().__post_init__()
        auth_id = self.auth_id or ""
        if len(auth_id) != 20 or auth_id[:2] not in ("MA", "SA"):
            raise CredentialsError(
                "plivo", "auth_id (PLIVO_AUTH_ID) must be 20 characters starting MA or SA"
            )

    def basic_auth(self) -> tuple[str, str]:
        assert self.auth_id and self.auth_token
        return self.auth_id, self.auth_token


@dataclasses.dataclass(frozen=True, repr=False)
class ZoomCredentials(Credentials):
    """Zoom Video SDK *API* key and secret, used to sign the API JWT."""

    api_key: str | None = None
    api_secret: str | None = None

    provider: ClassVar[str] = "zoom"
    env: ClassVar[dict[str, tuple[str, ...]]] = {
        "api_key": ("ZOOM_VIDEOSDK_API_KEY",),
        "api_secret": ("ZOOM_VIDEOSDK_API_SECRET",),
    }
    secret_fields: ClassVar[frozenset[str]] = frozenset({"api_secret"})
    required: ClassVar[tuple[str, ...]] = ("api_key", "api_secret")


@dataclasses.dataclass(frozen=True, repr=False)
class SignalWireCredentials(Credentials):
    """SignalWire Project ID, API token and space: a name (``example``), a host
    (``example.signalwire.com``) or a URL (``https://example.signalwire.com``), read from
    ``SIGNALWIRE_SPACE`` or, as the official SDK names it, ``SIGNALWIRE_SPACE_URL``."""

    project_id: str | None = None
    api_token: str | None = None
    space: str | None = None

    provider: ClassVar[str] = "signalwire"
    env: ClassVar[dict[str, tuple[str, ...]]] = {
        "project_id": ("SIGNALWIRE_PROJECT_ID",),
        "api_token": ("SIGNALWIRE_API_TOKEN",),
        "space": ("SIGNALWIRE_SPACE", "SIGNALWIRE_SPACE_URL"),
    }
    secret_fields: ClassVar[frozenset[str]] = frozenset({"api_token"})
    required: ClassVar[tuple[str, ...]] = ("project_id", "api_token", "space")
    basic_pairs: ClassVar[tuple[tuple[str, str], ...]] = (("project_id", "api_token"),)

    def __post_init__(self) -> None:
        super().__post_init__()
        if not isinstance(self.space, str) or not _SPACE_RE.fullmatch(self.space.strip()):
            raise CredentialsError(
                self.provider,
                "space (env SIGNALWIRE_SPACE or SIGNALWIRE_SPACE_URL) must be a space name, "
                "a host such as example.signalwire.com, or an http(s):// URL of one",
            )

    @property
    def space_url(self) -> str:
        """``https://{space}.signalwire.com``; a host or URL keeps its host (and scheme)."""
        text = (self.space or "").strip()
        scheme, _, rest = text.rpartition("://")
        host = rest.split("/", 1)[0]
        host = host if "." in host or ":" in host else f"{host}.signalwire.com"
        return f"{scheme.lower() or 'https'}://{host}"

    def basic_auth(self) -> tuple[str, str]:
        assert self.project_id and self.api_token
        return self.project_id, self.api_token
