"""``load()`` / ``aload()``: every configured provider, concurrently, into one unified frame."""

from __future__ import annotations

import asyncio
import time
import warnings
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import polars as pl

from recanalytics.credentials import Credentials
from recanalytics.errors import (
    ConfigError,
    CredentialsError,
    LoadWarning,
    ProviderError,
    RecanalyticsError,
)
from recanalytics.providers.registry import credentials_class, loaders_for
from recanalytics.schema import PROVIDERS, SCHEMA, empty_frame
from recanalytics.sync import syncify
from recanalytics.windows import WhenLike, parse_range

State = Literal["ok", "failed", "skipped"]
PerProvider = Mapping[str, Any]


@dataclass
class ProviderStatus:
    """How one provider's part of a :func:`load` went.

    ``rows`` counts the rows loaded; for a provider that failed part-way these are the rows
    loaded before the failure, kept in ``partial`` (they are not in the merged frame, which
    holds only complete providers).
    """

    provider: str
    state: State
    rows: int = 0
    seconds: float = 0.0
    error: str = ""
    partial: pl.DataFrame | None = field(default=None, repr=False, compare=False)


@dataclass
class LoadResult:
    """The unified frame plus one :class:`ProviderStatus` per provider asked for."""

    frame: pl.DataFrame
    status: dict[str, ProviderStatus] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return all(s.state == "ok" for s in self.status.values())

    def status_frame(self) -> pl.DataFrame:
        """The statuses as a small frame, for display in a notebook."""
        return pl.DataFrame(
            [{k: v for k, v in vars(s).items() if k != "partial"} for s in self.status.values()],
            schema={
                "provider": pl.String,
                "state": pl.String,
                "rows": pl.Int64,
                "seconds": pl.Float64,
                "error": pl.String,
            },
        )


def _providers(providers: str | Iterable[str] | None) -> list[str]:
    if providers is None:
        return list(PROVIDERS)
    names = [providers] if isinstance(providers, str) else list(providers)
    for name in names:
        if name not in PROVIDERS:
            raise ConfigError("providers", "None or a list of " + ", ".join(PROVIDERS), name)
    return list(dict.fromkeys(names))


def _per_provider(value: Any, provider: str, keyed: bool) -> Any:
    """A per-provider mapping picks this provider's entry; anything else applies to all."""
    if keyed and isinstance(value, Mapping) and (set(value) & set(PROVIDERS)):
        return value.get(provider)
    return value


async def _one(
    provider: str,
    loaders: Iterable[Callable[..., Awaitable[pl.DataFrame]]],
    kwargs: dict[str, Any],
) -> tuple[pl.DataFrame, ProviderStatus]:
    started = time.perf_counter()
    outcomes = await asyncio.gather(
        *(loader(**kwargs) for loader in loaders), return_exceptions=True
    )
    frames = [o for o in outcomes if isinstance(o, pl.DataFrame)]
    errors = [o for o in outcomes if isinstance(o, BaseException)]
    for error in errors:
        if not isinstance(error, RecanalyticsError) or isinstance(error, ConfigError):
            raise error  # a bug, or what the caller passed: never a provider's status
    seconds = time.perf_counter() - started
    if errors:
        partial = frames + [
            e.partial for e in errors if isinstance(e, ProviderError) and e.partial is not None
        ]
        frame = pl.concat(partial) if partial else empty_frame()
        status = ProviderStatus(provider, "failed", frame.height, seconds, str(errors[0]), frame)
        return empty_frame(), status
    frame = pl.concat(frames) if frames else empty_frame()
    return frame, ProviderStatus(provider, "ok", frame.height, seconds)


async def aload_with_status(
    providers: str | Iterable[str] | None = None,
    *,
    since: WhenLike | None = None,
    until: WhenLike | None = None,
    credentials: Credentials | PerProvider | None = None,
    base_url: str | PerProvider | None = None,
    warn: bool = True,
    **options: Any,
) -> LoadResult:
    """Like :func:`aload`, and also say how each provider went (``warn=False``: no warnings,
    the statuses alone tell).

    Examples
    --------
    >>> result = await ra.aload_with_status(["twilio"], **box.load_options())
    >>> result.status["twilio"].state
    'ok'
    """
    names = _providers(providers)
    parse_range(since, until)  # validate once, before any request
    explicit = providers is not None
    jobs: dict[str, Awaitable[tuple[pl.DataFrame, ProviderStatus]]] = {}
    status: dict[str, ProviderStatus] = {}
    for name in names:
        creds = _per_provider(credentials, name, keyed=True)
        if creds is None:
            try:
                creds = credentials_class(name).from_env()
            except CredentialsError as exc:
                status[name] = ProviderStatus(name, "skipped", error=str(exc))
                continue
        kwargs = dict(options) | {
            "since": since,
            "until": until,
            "credentials": creds,
            "base_url": _per_provider(base_url, name, keyed=True),
        }
        jobs[name] = _one(name, loaders_for(name), kwargs)
    results = await asyncio.gather(*jobs.values())
    frames = []
    for name, (frame, state) in zip(jobs, results, strict=True):
        status[name] = state
        frames.append(frame)
    for name in names:
        state = status[name]
        if warn and (state.state == "failed" or (state.state == "skipped" and explicit)):
            loaded = (
                f" ({state.rows} rows loaded before it failed are in .partial)"
                if state.rows
                else ""
            )
            warnings.warn(f"{name} {state.state}: {state.error}{loaded}", LoadWarning, stacklevel=3)
    frame = pl.concat(frames) if frames else empty_frame()
    return LoadResult(frame.select(SCHEMA.names()), {n: status[n] for n in names})


async def aload(
    providers: str | Iterable[str] | None = None,
    *,
    since: WhenLike | None = None,
    until: WhenLike | None = None,
    credentials: Credentials | PerProvider | None = None,
    base_url: str | PerProvider | None = None,
    **options: Any,
) -> pl.DataFrame:
    """Load several providers concurrently into one unified frame.

    ``providers=None`` means every provider whose credentials are configured (the others are
    skipped quietly); a provider named explicitly but unconfigured, or one that fails, is named
    in a :class:`~recanalytics.errors.LoadWarning` while the others still load. Use
    :func:`load_with_status` to inspect each provider's outcome.

    Parameters
    ----------
    providers : str or list of str, optional
        Any of ``twilio``, ``plivo``, ``zoom``, ``signalwire``.
    since, until : str, date or datetime, optional
        Passed to every loader (``until`` exclusive; naive is UTC).
    credentials : credentials object or mapping, optional
        A mapping keyed by provider name gives each provider its own; default: environment.
    base_url : str or mapping, optional
        One host for all (e.g. a served sandbox) or a mapping keyed by provider name.
    **options
        Any other :class:`~recanalytics.options.LoadOptions` (``transport``, ``progress``, …).

    Examples
    --------
    >>> df = await ra.aload(["twilio"], since="2026-01-01", **box.load_options())
    >>> df = ra.load()                                   # the sync twin: every configured provider
    """
    result = await aload_with_status(
        providers, since=since, until=until, credentials=credentials, base_url=base_url, **options
    )
    return result.frame


load = syncify(aload, "load")
load_with_status = syncify(aload_with_status, "load_with_status")
