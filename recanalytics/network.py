"""What the environment says about reaching the network: proxies and certificate authorities.

Every client the loaders and media downloads build for the network (no ``transport=``) comes
from :func:`client`: it honours ``HTTP_PROXY``, ``HTTPS_PROXY``, ``ALL_PROXY`` and ``NO_PROXY``
(as httpx does; loopback hosts always go direct) and ``SSL_CERT_FILE`` / ``SSL_CERT_DIR``, and
turns a bad value of any of them into a :class:`~recanalytics.errors.ConfigError` naming the
variable before any request. A caller's ``transport=`` takes none of them.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import ssl
import urllib.request
from typing import Any

import httpx

from recanalytics.errors import ConfigError
from recanalytics.schema import PROVIDERS

PROXY_SCHEMES = ("http", "https", "all")
"""The schemes whose ``<scheme>_proxy`` variable httpx reads."""

PROXY_FORM = (
    "a proxy URL such as http://proxy.example:3128 (http, https, socks5 or socks5h), or unset"
)
CA_FORM = "a readable PEM file of CA certificates, or unset"

# A proxy on another machine cannot reach this one's loopback (the served sandbox): requests to
# these hosts never go through one, whatever NO_PROXY says.
LOOPBACK = ("127.0.0.1", "localhost", "[::1]")


def without_userinfo(value: str) -> str:
    """A proxy setting fit for a message: anything before an ``@`` in its authority dropped.

    Examples
    --------
    >>> without_userinfo("http://alice:s3cret@proxy.example:3128")
    'http://proxy.example:3128'
    >>> without_userinfo("alice:s3cret@proxy.example")
    'proxy.example'
    """
    start = value.find("://")
    start = start + 3 if start >= 0 else 0
    at = value.rfind("@")  # a password may hold an unescaped "@" of its own
    return value[:start] + value[at + 1 :] if at >= start else value


def _variable(scheme: str) -> str:
    """The variable a proxy setting came from: the lower-case one wins, as in urllib."""
    lower = f"{scheme}_proxy"
    return lower if os.environ.get(lower) else lower.upper()


def _bad_proxy(scheme: str, value: str, hint: str = "") -> ConfigError:
    return ConfigError(_variable(scheme), PROXY_FORM, without_userinfo(value), hint=hint)


def check_proxies() -> None:
    """Raise a ConfigError naming a proxy variable httpx could not build a client from.

    Raises
    ------
    ConfigError
        An unknown scheme (``ftp://``), an unparsable URL (``http://[::1``, a port that is no
        number) or a SOCKS proxy without ``socksio`` installed; the value shown without any
        user name or password.

    Examples
    --------
    >>> check_proxies()  # nothing set, or something httpx takes
    """
    proxies = urllib.request.getproxies_environment()
    for scheme in PROXY_SCHEMES:
        value = proxies.get(scheme)
        if not value:
            continue
        url = value if "://" in value else f"http://{value}"  # httpx's own default
        try:
            proxy = httpx.Proxy(url)
        except (ValueError, httpx.InvalidURL):
            raise _bad_proxy(scheme, value) from None
        if proxy.url.scheme.startswith("socks") and importlib.util.find_spec("socksio") is None:
            hint = "a SOCKS proxy needs pip install 'httpx[socks]'"
            raise _bad_proxy(scheme, value, hint) from None


def proxy_note(url: str | httpx.URL) -> str:
    """What to add to a failed connection's message when a proxy variable applies to ``url``
    (empty when none does): the proxy, without credentials, and how to bypass it.

    Examples
    --------
    With ``HTTPS_PROXY=http://user:pw@proxy.example:3128``, a failed request to
    ``https://video.twilio.com`` adds "the request went through the proxy in HTTPS_PROXY
    (http://proxy.example:3128); to reach video.twilio.com directly, add it to NO_PROXY".
    A loopback host never goes through a proxy:

    >>> proxy_note("http://127.0.0.1:8765/v1/Recordings")
    ''
    """
    url = httpx.URL(str(url))
    host = url.host
    if not host or host in LOOPBACK or f"[{host}]" in LOOPBACK:
        return ""
    proxies = urllib.request.getproxies_environment()
    netloc = host if url.port is None else f"{host}:{url.port}"
    if urllib.request.proxy_bypass_environment(netloc, proxies):  # type: ignore[attr-defined]
        return ""
    for scheme in (url.scheme, "all"):
        if value := proxies.get(scheme):
            return (
                f"the request went through the proxy in {_variable(scheme)} "
                f"({without_userinfo(value)}); to reach {host} directly, add it to NO_PROXY"
            )
    return ""


CONNECT_ERRORS = (httpx.ConnectError, httpx.ConnectTimeout, httpx.ProxyError)
"""What a request that never reached the server raises (a proxy's refusal included)."""


def connect_note(exc: Exception, url: str | httpx.URL | None = None) -> str:
    """:func:`proxy_note` for a request that failed with ``exc`` before reaching its server
    (empty for any other failure). ``url`` defaults to the request's own."""
    if not isinstance(exc, CONNECT_ERRORS):
        return ""
    if url is None:
        try:
            url = exc.request.url
        except RuntimeError:  # raised outside a request
            return ""
    return proxy_note(url)


@functools.cache
def _context(cert_file: str | None, cert_dir: str | None) -> ssl.SSLContext:
    """One context per setting of the variables: reading the CA bundle took 25 ms a client."""
    if cert_file:
        try:
            return ssl.create_default_context(cafile=cert_file)
        except (OSError, ssl.SSLError, ValueError) as exc:
            if isinstance(exc, ssl.SSLError) or not isinstance(exc, OSError):
                reason = "it holds no PEM CA certificate"
            else:
                reason = f"it cannot be read ({exc.strerror or type(exc).__name__})"
            raise ConfigError("SSL_CERT_FILE", CA_FORM, cert_file, hint=reason) from None
    if cert_dir:
        if not os.path.isdir(cert_dir):
            form = "a folder of hashed CA certificates (c_rehash), or unset"
            raise ConfigError("SSL_CERT_DIR", form, cert_dir)
        return ssl.create_default_context(capath=cert_dir)
    return httpx.create_ssl_context(trust_env=False)  # certifi's bundle


def tls_context() -> ssl.SSLContext:
    """The verifying TLS context ``SSL_CERT_FILE`` / ``SSL_CERT_DIR`` ask for (httpx's rules:
    the file wins; neither: certifi's bundle), rebuilt when they change.

    Raises
    ------
    ConfigError
        A variable names a missing or unreadable file, one without any CA certificate, or a
        missing folder.

    Examples
    --------
    >>> tls_context().verify_mode == ssl.CERT_REQUIRED
    True
    """
    return _context(os.environ.get("SSL_CERT_FILE") or None, os.environ.get("SSL_CERT_DIR") or None)


def _refusing(problem: ConfigError) -> tuple[ssl.SSLContext, Any]:
    """A TLS context that trusts nothing, and a request hook raising ``problem`` for https:
    a client that needs no CA bundle (plain http) never reaches an https URL unverified."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # verifies, with no CA to verify against

    async def refuse(request: httpx.Request) -> None:
        if request.url.scheme != "http":
            raise problem

    return context, refuse


def client(*, network: bool, https: bool = True, **options: Any) -> httpx.AsyncClient:
    """An ``httpx.AsyncClient``; for the network (``network=True``, no caller's transport) with
    the environment's proxies and CA bundle, checked first.

    ``https=False`` says the client is meant for plain http URLs (the served sandbox): a bad
    CA setting then only fails a request to an https URL, which it raises for.

    Raises
    ------
    ConfigError
        A bad proxy, NO_PROXY or CA variable, naming it.

    Examples
    --------
    >>> import asyncio
    >>> asyncio.run(client(network=True, https=False).aclose())
    """
    if not network:
        return httpx.AsyncClient(**options)
    check_proxies()
    try:
        options["verify"] = tls_context()
    except ConfigError as problem:
        if https:
            raise
        options["verify"], refuse = _refusing(problem)
        hooks = options.get("event_hooks", {})  # the caller's dict is left as it was
        options["event_hooks"] = hooks | {"request": [refuse, *hooks.get("request", [])]}
    options["mounts"] = {f"all://{host}": None for host in LOOPBACK} | options.get("mounts", {})
    try:
        return httpx.AsyncClient(**options)
    except (ValueError, httpx.InvalidURL):
        # The proxies were checked above: what is left is a NO_PROXY entry httpx cannot read.
        value = urllib.request.getproxies_environment().get("no", "")
        name = "no_proxy" if os.environ.get("no_proxy") else "NO_PROXY"
        form = "comma-separated host names, IP addresses or URLs"
        raise ConfigError(name, form, without_userinfo(value)) from None


FILES_BESIDE = 48
"""Descriptors a load needs besides its connections (the interpreter's, polars' files, the
time-zone database, the event loop's, a store's)."""
PROVIDERS_AT_ONCE = len(PROVIDERS)
"""Providers ``load()`` reaches at once, each with its own connections."""


def within_open_files(wanted: int) -> int:
    """``wanted`` connections, or fewer where the process may open few files (``ulimit -n``):
    every connection is a descriptor, and at 32 the four providers' default 52 left polars
    none to open (a raw ``OSError``, or a Rust panic). Unchanged at the usual limits (macOS's
    256 allows 52 a provider; Linux's 1024, 244); Windows has no such limit here.

    Examples
    --------
    >>> within_open_files(24) <= 24
    True
    """
    try:
        import resource
    except ImportError:
        return wanted
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return wanted
    return max(1, min(wanted, (soft - FILES_BESIDE) // PROVIDERS_AT_ONCE))
