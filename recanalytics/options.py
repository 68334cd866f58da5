"""The keyword options every loader and getter shares, and their validation."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypedDict

import httpx

from recanalytics.credentials import Credentials
from recanalytics.engine import Limits, RetryPolicy, Session
from recanalytics.errors import ConfigError
from recanalytics.paging import DEFAULT_MAX_PAGES
from recanalytics.progress import resolve_progress

if TYPE_CHECKING:
    from recanalytics.providers.base import ProviderSpec
    from recanalytics.store import Store


class LoadOptions(TypedDict, total=False):
    """Options shared by every loader and getter (all keyword-only, all optional).

    credentials
        A credentials object or a mapping of its fields; default: environment variables.
    base_url
        Another host for the provider's API, such as the sandbox or a proxy.
    transport
        Any ``httpx.AsyncBaseTransport`` (``httpx.MockTransport``, the in-process sandbox).
    progress
        Show a progress bar; default on in a notebook, off elsewhere.
    max_concurrency
        Requests in flight at once (default per provider).
    rate_limit
        Requests per second this client allows itself (default: the provider's documented limit).
    retry
        A :class:`RetryPolicy` for 429, 5xx and dropped connections.
    timeout
        Seconds per request (default 30).
    max_pages
        Page cap per query, a guard against pagers that never end (default 100000).
    raw
        Return the provider's own typed columns (plus ``extra``) instead of the unified frame.
    store
        A :class:`~recanalytics.store.Store`: load only what it lacks, upsert, and return the
        requested range from it (loaders only; see :func:`recanalytics.incremental.storable`).
    """

    credentials: Credentials | Mapping[str, Any] | None
    base_url: str | None
    transport: httpx.AsyncBaseTransport | None
    progress: bool | None
    max_concurrency: int | None
    rate_limit: float | None
    retry: RetryPolicy | None
    timeout: float
    max_pages: int
    raw: bool
    store: Store | None


OPTION_NAMES = frozenset(LoadOptions.__annotations__)


@dataclass
class Context:
    """Resolved options for one load against one provider."""

    spec: ProviderSpec
    credentials: Credentials
    base_url: str
    transport: httpx.AsyncBaseTransport | None
    progress: bool
    limits: Limits
    retry: RetryPolicy
    timeout: float
    max_pages: int
    raw: bool

    def url(self, path: str) -> str:
        return self.base_url + path

    def session(self, label: str | None = None) -> Session:
        """A session for one load; ``label`` names its progress bar (default the provider)."""
        return Session(
            self.spec.name,
            label=label,
            auth=self.spec.auth(self.credentials),
            limits=self.limits,
            retry=self.retry,
            transport=self.transport,
            timeout=self.timeout,
            progress=self.progress,
            secrets=self.credentials.secrets(),
        )


def _positive(value: Any, parameter: str, form: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ConfigError(parameter, form, value)
    return float(value)


def resolve(spec: ProviderSpec, options: Mapping[str, Any]) -> Context:
    """Validate ``options`` for ``spec`` and fill in defaults. No I/O happens here."""
    if options.get("store") is not None:
        raise ConfigError(
            "store", "no store for a getter (only loaders keep a store)", options["store"]
        )
    unknown = sorted(set(options) - OPTION_NAMES)
    if unknown:
        raise TypeError(
            f"unexpected keyword argument(s) {unknown}; options: {sorted(OPTION_NAMES)}"
        )
    credentials = spec.credentials.coerce(options.get("credentials"))
    base_url = options.get("base_url") or spec.default_base_url(credentials)
    if not isinstance(base_url, str) or not base_url.startswith(("http://", "https://")):
        raise ConfigError("base_url", "an http:// or https:// URL", base_url)
    transport = options.get("transport")
    if transport is not None and not isinstance(transport, httpx.AsyncBaseTransport):
        raise ConfigError("transport", "an httpx.AsyncBaseTransport", type(transport).__name__)
    concurrency = options.get("max_concurrency")
    concurrency = spec.concurrency if concurrency is None else concurrency
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise ConfigError("max_concurrency", "an integer >= 1", concurrency)
    rate = options.get("rate_limit")
    rate = _positive(spec.rate if rate is None else rate, "rate_limit", "requests per second > 0")
    retry = options.get("retry") or RetryPolicy()
    if not isinstance(retry, RetryPolicy):
        raise ConfigError("retry", "a recanalytics.RetryPolicy", retry)
    timeout = _positive(options.get("timeout", 30.0), "timeout", "seconds > 0")
    max_pages = options.get("max_pages", DEFAULT_MAX_PAGES)
    if isinstance(max_pages, bool) or not isinstance(max_pages, int) or max_pages < 1:
        raise ConfigError("max_pages", "an integer >= 1", max_pages)
    raw = options.get("raw", False)
    if not isinstance(raw, bool):
        raise ConfigError("raw", "True or False", raw)
    return Context(
        spec=spec,
        credentials=credentials,
        base_url=base_url.rstrip("/"),
        transport=transport,
        progress=resolve_progress(options.get("progress")),
        limits=Limits(rate=rate, concurrency=concurrency, burst=spec.burst),
        retry=retry,
        timeout=timeout,
        max_pages=max_pages,
        raw=raw,
    )
