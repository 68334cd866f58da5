"""Loading across providers: every provider's loaders concurrently into one unified frame.

:func:`gather` is the core of every ``load()``; the public ``load``/``aload`` and their
``_with_status`` twins are in :mod:`recanalytics.incremental`, which adds ``store=``. This module
knows nothing of the store.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

import polars as pl

from recanalytics import validate
from recanalytics.credentials import Credentials
from recanalytics.errors import (
    ConfigError,
    CredentialsError,
    ProviderError,
    RecanalyticsError,
    warn_user,
)
from recanalytics.options import check_options, resolve
from recanalytics.providers.registry import credentials_class, spec_for
from recanalytics.redact import redact_frame, redact_text
from recanalytics.schema import SCHEMA, empty_frame, newest_first
from recanalytics.sync import all_or_none
from recanalytics.windows import WhenLike, parse_range

State = Literal["ok", "failed", "skipped"]
PerProvider = Mapping[str, Any]
T = TypeVar("T")


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
    #: the provider's error itself (``error`` is its text), for ``isinstance`` checks: a
    #: ``CredentialsError`` for credential variables set but incomplete or malformed
    exception: ProviderError | CredentialsError | None = field(
        default=None, repr=False, compare=False
    )


@dataclass(eq=False)
class LoadResult:
    """The unified frame plus one :class:`ProviderStatus` per provider asked for.

    ``named`` says whether the providers were named by the caller (rather than every one,
    the default), which decides whether one without credentials makes the load not ``ok``.
    """

    frame: pl.DataFrame
    status: dict[str, ProviderStatus] = field(default_factory=dict)
    named: bool = True

    def __eq__(self, other: object) -> bool:
        # The dataclass's own compared the frames with ==, which polars refuses ("the truth
        # value of a DataFrame is ambiguous"): a result and its copy could not be compared.
        if not isinstance(other, LoadResult):
            return NotImplemented
        same = (self.status, self.named) == (other.status, other.named)
        return same and self.frame.equals(other.frame)

    @property
    def ok(self) -> bool:
        """Every provider named loaded whole; with none named, every configured one did and
        at least one was configured (the others are ``skipped``)."""
        states = [s.state for s in self.status.values()]
        if self.named:
            return all(state == "ok" for state in states)
        return "ok" in states and all(state in ("ok", "skipped") for state in states)

    def status_frame(self) -> pl.DataFrame:
        """The statuses as a small frame, for display in a notebook."""
        return pl.DataFrame(
            [
                {k: v for k, v in vars(s).items() if k not in ("partial", "exception")}
                for s in self.status.values()
            ],
            schema={
                "provider": pl.String,
                "state": pl.String,
                "rows": pl.Int64,
                "seconds": pl.Float64,
                "error": pl.String,
            },
        )


def _providers(providers: str | Iterable[str] | None) -> list[str]:
    return validate.providers(providers)


def configured_in_env(provider: str, environ: Mapping[str, str] | None = None) -> bool:
    """Whether any of ``provider``'s credential variables is set (non-empty) in ``environ``
    (default: the environment), whether or not the set is complete and well-formed.

    Examples
    --------
    >>> configured_in_env("zoom", {"ZOOM_VIDEOSDK_API_KEY": "key"})  # no secret: still True
    True
    >>> configured_in_env("zoom", {"PLIVO_AUTH_ID": "MA" + "0" * 18})
    False
    """
    environ = os.environ if environ is None else environ
    env = credentials_class(provider).env
    return any(environ.get(name) for names in env.values() for name in names)


def plan(
    names: list[str],
    credentials: Any,
    base_url: Any,
    options: Mapping[str, Any],
) -> tuple[dict[str, dict[str, Any]], dict[str, ProviderStatus]]:
    """Each provider's loader keywords, every one validated before any request is made.

    What the caller passed must be right for every provider: a malformed credentials mapping,
    a bad base_url or option raises here (``ConfigError``). A provider with no credentials
    given and none of its variables in the environment is returned as ``skipped``; one whose
    variables are set but incomplete or malformed as ``failed``, with its ``CredentialsError``.
    """
    validate.check_keyed(credentials, "credentials")
    validate.check_keyed(base_url, "base_url")
    kwargs: dict[str, dict[str, Any]] = {}
    not_run: dict[str, ProviderStatus] = {}
    for name in names:
        creds = validate.per_provider(credentials, name)
        if isinstance(credentials, Credentials) and not isinstance(
            credentials, credentials_class(name)
        ):
            creds = None  # one provider's credentials object: the others use the environment
        if creds is None:
            try:
                creds = credentials_class(name).from_env()
            except CredentialsError as exc:
                # Not configured only when none of its variables is set: one set beside a
                # missing or malformed one is a provider the caller meant to load, and calling
                # it skipped lost its rows from a load that said it succeeded.
                configured = configured_in_env(name)
                state: State = "failed" if configured else "skipped"
                not_run[name] = ProviderStatus(
                    name, state, error=str(exc), exception=exc if configured else None
                )
                # Not run for want of credentials, but a bad option is still the caller's error.
                check_options(
                    spec_for(name),
                    dict(options)
                    | {"base_url": validate.per_provider(base_url, name), "store": None},
                )
                continue
        per_provider = dict(options) | {
            "credentials": credentials_class(name).coerce(creds),
            "base_url": validate.per_provider(base_url, name),
        }
        # Checks every shared option now (no I/O), so nothing starts before all are valid.
        # ``store`` is the store-aware layer's option (recanalytics.incremental), checked there.
        resolve(spec_for(name), {k: v for k, v in per_provider.items() if k != "store"})
        kwargs[name] = per_provider
    return kwargs, not_run


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
        credentials = kwargs.get("credentials")
        secrets = credentials.secrets() if isinstance(credentials, Credentials) else []
        frame = (
            redact_frame(pl.concat(partial), secrets, ids=["recording_id"])
            if partial
            else empty_frame()
        )
        message = redact_text(str(errors[0]), secrets)
        failure = errors[0] if isinstance(errors[0], ProviderError) else None  # error's own
        status = ProviderStatus(provider, "failed", frame.height, seconds, message, frame, failure)
        return empty_frame(), status
    frame = pl.concat(frames) if frames else empty_frame()
    return frame, ProviderStatus(provider, "ok", frame.height, seconds)


LoadersOf = Callable[[str], Iterable[Callable[..., Awaitable[pl.DataFrame]]]]


async def gather(
    providers: str | Iterable[str] | None,
    *,
    since: WhenLike | None,
    until: WhenLike | None,
    credentials: Credentials | PerProvider | None,
    base_url: str | PerProvider | None,
    warn: bool,
    loaders: LoadersOf,
    options: Mapping[str, Any],
) -> LoadResult:
    """Run ``loaders(name)`` for every provider concurrently: the core of every ``load``."""
    names = _providers(providers)
    if options.get("raw"):
        # Each provider's raw frame has its own columns: they do not stack into one frame.
        raise ConfigError(
            "raw", "False for load() (raw=True is for one provider's loader)", options["raw"]
        )
    parse_range(since, until)  # validate once, before any request
    validate.boolean(warn, "warn")
    explicit = providers is not None
    planned, status = plan(names, credentials, base_url, options)
    jobs: dict[str, Awaitable[tuple[pl.DataFrame, ProviderStatus]]] = {
        name: _one(name, loaders(name), kwargs | {"since": since, "until": until})
        for name, kwargs in planned.items()
    }
    results = await all_or_none(jobs.values())
    frames = []
    for name, (frame, state) in zip(jobs, results, strict=True):
        status[name] = state
        frames.append(frame)
    for name in names:
        state = status[name]
        if warn and (state.state == "failed" or (state.state == "skipped" and explicit)):
            loaded = (
                f" ({state.rows} rows loaded before it failed are in "
                f"ra.load_with_status(...).status[{name!r}].partial)"
                if state.rows
                else ""
            )
            # The error's text starts with the provider's name: said once, as
            # IncompleteLoadError's message says it ("zoom failed: zoom: Invalid..." twice).
            message = f"{name} {state.state}: {state.error.removeprefix(f'{name}: ')}{loaded}"
            warn_user(message)
    frame = pl.concat(frames) if frames else empty_frame()
    # Newest first, then by id, across providers as each loader sorts its own rows: stacked
    # one provider after another, head() showed one provider's newest, not the load's.
    frame = newest_first(frame)
    return LoadResult(frame.select(SCHEMA.names()), {n: status[n] for n in names}, explicit)
