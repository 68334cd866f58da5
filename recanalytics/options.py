"""The keyword options every loader and getter shares, and their validation."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypedDict

import httpx

from recanalytics import network, validate
from recanalytics.credentials import Credentials
from recanalytics.engine import Limits, RetryPolicy, Session, in_process, shared_limiter
from recanalytics.errors import ConfigError, UnknownOptionError
from recanalytics.hosts import ScopedAuth
from recanalytics.paging import DEFAULT_MAX_PAGES
from recanalytics.progress import resolve_progress
from recanalytics.redact import Secrets

if TYPE_CHECKING:
    from recanalytics.providers.base import Archival, ProviderSpec
    from recanalytics.store import ParquetStore


MIN_RATE = 0.001
"""The lowest ``rate_limit``: a request every 1,000 s. Far lower would pace the second request
of a load past any lifetime (1e-300 waited 1e300 s)."""

MAX_RATE = 1e6
"""The highest ``rate_limit`` (requests per second): far above any provider's, and low enough
that the limiter's window (rate x period requests) stays a countable integer."""


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
        Seconds per request, its whole body included (default 30): an answer that has not
        fully arrived by then is retried.
    max_pages
        Page cap per query, a guard against pagers that never end (default 100000).
    raw
        Return the provider's own typed columns (plus ``extra``) instead of the unified frame.
    store
        A :class:`recanalytics.Store`: load only what it lacks, upsert, and return the
        requested range from it (loaders only; see :func:`recanalytics.incremental.with_store`).
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
    store: ParquetStore | None


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

    @property
    def retired(self) -> Archival | None:
        """The provider's retirement, when this load reaches its retired API
        (:meth:`~recanalytics.providers.base.ProviderSpec.retired_at`)."""
        return self.spec.retired_at(self.base_url, self.transport)

    def retirement_note(self) -> str | None:
        """What an error of this load adds once the provider's service has retired (by
        :func:`recanalytics.clock.now` when asked), else None: a session asks it when an
        answer or an error arrives, not once when the load starts."""
        retired = self.retired
        return None if retired is None else retired.gone(self.spec.name)

    def reached(self) -> tuple[str, str, str]:
        """The provider, account and origin a load reaches: what its rate limit is counted
        against, and what a store keeps its loads apart by. The account is its id (an Auth
        Token and an API key of one account are one account), never a secret.

        Examples
        --------
        >>> from recanalytics.providers.registry import spec_for
        >>> options = {"credentials": {"account_sid": "AC1", "auth_token": "t0ken"}}
        >>> resolve(spec_for("twilio"), options).reached()
        ('twilio', 'account_sid=AC1', 'https://video.twilio.com')
        """
        url = httpx.URL(self.base_url)
        origin = f"{url.scheme}://{url.host}" + (f":{url.port}" if url.port else "")
        return self.spec.name, self.credentials.account(), origin

    def session(self, label: str | None = None) -> Session:
        """A session for one load; ``label`` names its progress bar (default the provider)."""
        secrets = Secrets(self.credentials.secrets())
        scope = self.spec.credential_scope(self.credentials, self.base_url)
        # One account's loads share its rate on the host they reach.
        key = self.reached()
        own = self.transport if in_process(self.transport, self.base_url) else None
        return Session(
            self.spec.name,
            label=label,
            limiter=shared_limiter(key, self.limits, transport=own),
            auth=ScopedAuth(self.spec.auth(self.credentials), scope, secrets),
            limits=self.limits,
            retry=self.retry,
            transport=self.transport,
            timeout=self.timeout,
            progress=self.progress,
            secrets=secrets,
            base_url=self.base_url,
            retired=self.retirement_note,
        )


def retry_policy(value: Any, parameter: str = "retry") -> RetryPolicy:
    """A :class:`RetryPolicy`, or None for the default one."""
    if value is None:
        return RetryPolicy()
    if not isinstance(value, RetryPolicy):
        raise ConfigError(parameter, "a recanalytics.RetryPolicy or None", value)
    return value


def transport_option(value: Any) -> httpx.AsyncBaseTransport | None:
    if value is not None and not isinstance(value, httpx.AsyncBaseTransport):
        raise ConfigError("transport", "an httpx.AsyncBaseTransport", type(value).__name__)
    return value


def check_options(spec: ProviderSpec, options: Mapping[str, Any]) -> dict[str, Any]:
    """Validate every option that needs no credentials; the settings of a :class:`Context`
    (``base_url`` None when not given). No I/O happens here.

    ``load()`` checks a provider it skips for lack of credentials with this, so a typo or a bad
    value is an error whether or not the credentials happen to be set.
    """
    if options.get("store") is not None:
        raise ConfigError(
            "store",
            "no store here (the loaders keep a store; getters and the archive do not)",
            options["store"],
        )
    unknown = sorted(set(options) - OPTION_NAMES)
    if unknown:
        raise UnknownOptionError(
            ", ".join(unknown),
            "an option among " + ", ".join(sorted(OPTION_NAMES)),
            hint=f"unexpected keyword argument(s) {unknown}",
        )
    given = options.get("base_url")
    # An empty base_url is a mistake, not a request for the default host.
    base_url = None if given is None else validate.url(given, "base_url")
    transport = transport_option(options.get("transport"))
    concurrency = options.get("max_concurrency")
    concurrency = validate.concurrency(spec.concurrency if concurrency is None else concurrency)
    concurrency = network.within_open_files(concurrency)
    rate = options.get("rate_limit")
    rate = validate.number(
        spec.rate if rate is None else rate,
        "rate_limit",
        low=MIN_RATE,
        inclusive=True,
        high=MAX_RATE,
        form=f"requests per second from {MIN_RATE:g} to {MAX_RATE:g}",
    )
    retry = retry_policy(options.get("retry"))
    timeout = validate.number(options.get("timeout", 30.0), "timeout", form="seconds > 0")
    max_pages = validate.int_range(options.get("max_pages", DEFAULT_MAX_PAGES), "max_pages", 1)
    raw = validate.boolean(options.get("raw", False), "raw")
    progress = validate.optional_boolean(options.get("progress"), "progress")
    return {
        "base_url": base_url,
        "transport": transport,
        "progress": resolve_progress(progress),
        "limits": Limits(rate=rate, concurrency=concurrency, period=spec.rate_period),
        "retry": retry,
        "timeout": timeout,
        "max_pages": max_pages,
        "raw": raw,
    }


def resolve(spec: ProviderSpec, options: Mapping[str, Any]) -> Context:
    """Validate ``options`` for ``spec`` and fill in defaults. No I/O happens here."""
    settings = check_options(spec, options)
    credentials = spec.credentials.coerce(options.get("credentials"))
    base_url = settings.pop("base_url") or spec.default_base_url(credentials)
    return Context(spec=spec, credentials=credentials, base_url=base_url.rstrip("/"), **settings)
