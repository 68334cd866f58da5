"""Where a provider's credentials may go: origins, host patterns, and an auth that keeps to them.

A provider declares the hosts its credentials belong to (``ProviderSpec.api_hosts``); the
``base_url`` a caller gives is added to them. :class:`ScopedAuth` wraps the provider's own
``httpx.Auth``: a request to any other origin goes out without credentials, whatever URL a
page, a media answer or a frame supplied. Every credential it does send is remembered in a
:class:`~recanalytics.redact.Secrets`, so a server that echoes it back cannot get it into an
error, a log line or a file.
"""

from __future__ import annotations

from collections.abc import Generator, Iterable
from dataclasses import dataclass

import httpx

from recanalytics.redact import Secrets

DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class Origin:
    """Scheme, host (lower case) and port of a URL; ``*.example.com`` matches subdomains."""

    scheme: str
    host: str
    port: int

    @classmethod
    def of(cls, url: str | httpx.URL) -> Origin | None:
        """The origin of ``url``, or None for a URL without an http(s) scheme and a host."""
        try:
            parsed = url if isinstance(url, httpx.URL) else httpx.URL(url)
        except (httpx.InvalidURL, TypeError, ValueError):
            return None
        scheme = parsed.scheme.lower()
        if scheme not in DEFAULT_PORTS or not parsed.host:
            return None
        if parsed.port is not None and not 0 < parsed.port <= 65535:
            return None  # httpx takes it, and fails only when connecting
        return cls(scheme, parsed.host.lower().rstrip("."), parsed.port or DEFAULT_PORTS[scheme])

    def matches(self, other: Origin) -> bool:
        if (self.scheme, self.port) != (other.scheme, other.port):
            return False
        if self.host.startswith("*."):
            return other.host.endswith(self.host[1:])
        return self.host == other.host

    def __str__(self) -> str:
        port = "" if DEFAULT_PORTS[self.scheme] == self.port else f":{self.port}"
        return f"{self.scheme}://{self.host}{port}"


def https_origins(hosts: Iterable[str]) -> tuple[Origin, ...]:
    """``Origin`` values for host names (or ``*.domain`` patterns) served over https on 443."""
    return tuple(Origin("https", host.lower(), 443) for host in hosts)


@dataclass(frozen=True)
class CredentialScope:
    """The origins one provider's credentials may be sent to."""

    provider: str
    origins: tuple[Origin, ...]

    def allows(self, url: str | httpx.URL) -> bool:
        origin = Origin.of(url)
        return origin is not None and any(allowed.matches(origin) for allowed in self.origins)

    def describe(self) -> str:
        return ", ".join(str(o) for o in self.origins)


class ScopedAuth(httpx.Auth):
    """Apply ``inner`` only to requests inside ``scope``; remember what it sent in ``secrets``.

    Examples
    --------
    >>> scope = CredentialScope("twilio", https_origins(["video.twilio.com"]))
    >>> auth = ScopedAuth(httpx.BasicAuth("AC1", "token"), scope, Secrets())
    >>> request = httpx.Request("GET", "https://evil.example/x")
    >>> "authorization" in next(auth.auth_flow(request)).headers
    False
    """

    def __init__(self, inner: httpx.Auth, scope: CredentialScope, secrets: Secrets) -> None:
        self.inner = inner
        self.scope = scope
        self.secrets = secrets

    def __repr__(self) -> str:
        return f"ScopedAuth({self.scope.provider!r}, {self.scope.describe()!r})"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if not self.scope.allows(request.url):
            request.headers.pop("Authorization", None)
            yield request
            return
        flow = self.inner.auth_flow(request)
        outgoing = next(flow)
        while True:
            self._remember(outgoing)
            response = yield outgoing
            try:
                outgoing = flow.send(response)
            except StopIteration:
                return

    def _remember(self, request: httpx.Request) -> None:
        value = request.headers.get("Authorization")
        if value:
            credential = value.partition(" ")[2] or value
            self.secrets.add(credential)
            if credential.count(".") == 2:
                # A JWT's signature part alone would still prove the secret's holder.
                self.secrets.add(credential.rsplit(".", 1)[1])
