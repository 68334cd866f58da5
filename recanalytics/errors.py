"""One exception tree for everything recanalytics raises.

``RecanalyticsError`` is the root. Bad input is a ``ConfigError``, which is also a ``ValueError``
so ordinary ``except ValueError`` code catches it; it is always raised before any request.
Everything a provider answers with is a ``ProviderError`` carrying the provider, HTTP status and
the URL with secrets removed.

Every error pickles and copies with its message and attributes (``partial`` included), so a
load that fails in a process pool's worker reaches the parent as it was raised.
"""

from __future__ import annotations

import asyncio
import os
import pickle
import sys
import warnings
from typing import Any

MAX_SHOWN = 200
"""How much of a rejected value's repr a ConfigError message shows."""

MAX_URL = 300
"""How much of a URL an error message shows: the start and the end of a longer one."""


class RecanalyticsError(Exception):
    """Base class of every error raised by recanalytics.

    Examples
    --------
    >>> import pickle
    >>> error = ProviderError("zoom", "Invalid access token.", status=401)
    >>> again = pickle.loads(pickle.dumps(error))
    >>> str(again), again.status
    ('zoom: Invalid access token. (401)', 401)
    """

    def __reduce__(self) -> tuple[Any, ...]:
        # Exception's own rebuilds an error as type(self)(*self.args), args being the message
        # alone: the subclasses' __init__ take other arguments, so unpickling raised TypeError
        # (a failed load broke a process pool). Rebuilt from the message (which a store= load
        # amends in args) and the attributes, without __init__.
        return (_rebuilt, (type(self), self.args), vars(self))


def _portable(value: Any) -> Any:
    """``value``, or its repr where it does not pickle: the rejected value of a
    ``ConfigError`` may be anything a caller passed (a lock, a generator, a lambda)."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    try:
        pickle.dumps(value)
    except Exception:  # any object's own __reduce__ may raise anything
        return repr(value)[:MAX_SHOWN]
    return value


def _rebuilt(cls: type[RecanalyticsError], args: tuple[Any, ...]) -> RecanalyticsError:
    error = cls.__new__(cls)
    error.args = args
    return error


def shortened(text: str, limit: int = MAX_URL) -> str:
    """``text``, or its start and end with how many characters were left out between them.

    Examples
    --------
    >>> shortened("https://example.com/" + "z" * 1000, 60)
    'https://example.com/zzzzzzzzzz...(975 characters left out)...zzzzzzzzzzzzzzz'
    """
    if len(text) <= limit:
        return text
    head, tail = limit // 2, limit // 4
    return f"{text[:head]}...({len(text) - head - tail} characters left out)...{text[-tail:]}"


class ConfigError(RecanalyticsError, ValueError):
    """An argument or setting is invalid; raised before any request is made.

    Attributes
    ----------
    parameter : str
        The keyword argument (or setting) at fault.
    expected : str
        The accepted form, in words.
    value : object
        What was given (never a secret: credentials raise ``CredentialsError``).
    hint : str
        What to do about it, where there is more to say than the accepted form.
    """

    hint: str = ""

    def __init__(self, parameter: str, expected: str, value: Any = None, *, hint: str = "") -> None:
        self.parameter = parameter
        self.expected = expected
        self.value = value
        self.hint = hint
        got = repr(value)
        if len(got) > MAX_SHOWN:  # a megabyte of text given by mistake stays out of the message
            got = got[:MAX_SHOWN] + f"... ({len(got)} characters)"
        shown = "" if value is None else f" (got {got})"
        message = f"invalid {parameter}{shown}: expected {expected}"
        if hint:
            message += f". {hint}"
        super().__init__(message)

    def __reduce__(self) -> tuple[Any, ...]:
        # The rejected value may be anything a caller passed (a lock, a generator): its repr
        # where it does not pickle. No other attribute of any error is a caller's object.
        rebuild, args, state = super().__reduce__()
        return rebuild, args, {**state, "value": _portable(state.get("value"))}


class UnknownOptionError(ConfigError, TypeError):
    """A keyword option no loader knows (a typo such as ``page_sise``).

    A ``ConfigError`` naming the option, like every other bad argument; also a ``TypeError``,
    which is what Python raises for an unexpected keyword argument.
    """


class CredentialsError(ConfigError):
    """Credentials are missing or malformed. The message names variables, never values."""

    def __init__(self, provider: str, message: str) -> None:
        self.provider = provider
        RecanalyticsError.__init__(self, f"{provider} credentials: {message}")
        self.parameter = "credentials"
        self.expected = message
        self.value = None


class ProviderError(RecanalyticsError):
    """The provider answered with an error, or could not be reached.

    Attributes
    ----------
    provider : str
    status : int or None
        HTTP status, None for transport failures.
    url : str
        The request URL with secrets redacted, whole (the message shows the start and end of
        one longer than ``MAX_URL`` characters).
    code : str or int or None
        The provider's own error code, where it sent one.
    partial : polars.DataFrame or None
        When a load fails part-way, the rows it had loaded before the failure (in the frame the
        load would have returned: unified, or raw with ``raw=True``); None when nothing was
        loaded or the error did not come from a load.
    """

    partial: Any = None

    def __init__(
        self,
        provider: str,
        message: str,
        *,
        status: int | None = None,
        url: str = "",
        code: Any = None,
    ) -> None:
        self.provider = provider
        self.status = status
        self.url = url
        self.code = code
        self.message = message
        # A next link can be any length (a 60,000-character page token): whole, it made
        # the message, the traceback and every status and warning quoting it that long.
        where = " on ".join(
            str(part) for part in (status, shortened(url)) if part not in (None, "")
        )
        where = f" ({where})" if where else ""
        super().__init__(f"{provider}: {message}{where}")


class AuthError(ProviderError):
    """The provider rejected the credentials (HTTP 401 or 403)."""


class NotFoundError(ProviderError):
    """The requested recording does not exist (HTTP 404)."""


class RateLimitError(ProviderError):
    """The provider kept answering 429 after every retry, or its 429 asked to wait longer than
    ``RetryPolicy.max_retry_after`` (another status asking that long keeps its own class)."""


class TransportError(ProviderError):
    """The connection failed (refused, dropped, timed out, truncated) after every retry, or an
    answer was larger than any answer is read to (``recanalytics.answers.MAX_BYTES``, a gzip
    bomb or an endless body), at once: asked again, it would not shrink."""


class PaginationError(ProviderError):
    """A load could not be paged to its end, so its result would be incomplete.

    Raised exactly when:

    - the API answers with a page or cursor already loaded, and again on every re-request
      (``paging.Pager``, after ``MAX_REPEATS``);
    - more than ``MAX_EMPTY_RUN`` empty pages in a row still point to a next page
      (``paging.Pager``);
    - the page cap (``max_pages``) is reached before the last page (``paging.Pager``, and
      Plivo's concurrent offsets when the reported total needs more pages than the cap);
    - a 200 body lacks the list of records on every retry (``engine.Session.get``);
    - fewer records arrived than the provider reported for a query (``expected`` and
      ``loaded`` then say how many; ``providers.base.Endpoint.check_total``).

    The rows loaded so far are in ``partial`` when the driver could keep them.
    """

    def __init__(
        self,
        provider: str,
        message: str,
        *,
        url: str = "",
        expected: int | None = None,
        loaded: int | None = None,
    ) -> None:
        super().__init__(provider, message, url=url)
        self.expected = expected
        self.loaded = loaded


class IncompleteLoadError(ProviderError):
    """A :func:`recanalytics.load` over several providers in which one or more failed, so the
    frame would miss their rows.

    Attributes
    ----------
    provider : str
        The providers that failed, comma-separated.
    partial : polars.DataFrame
        Every row loaded: the providers that loaded whole and what the failed ones loaded
        before failing.
    outcomes : dict of str to ProviderStatus
        Each provider's outcome, as ``load_with_status(...).status`` gives it
        (:func:`recanalytics.load_with_status` reports failures without raising).
    """

    def __init__(self, failed: list[str], message: str, outcomes: dict[str, Any]) -> None:
        super().__init__(", ".join(failed), message)
        self.outcomes = outcomes
        # The message names each failed provider itself: "plivo: plivo failed: ..." said it
        # twice over.
        self.args = (message,)


class StoreError(RecanalyticsError):
    """A file of a store or an archive, or a report, could not be read or written.

    Raised when a stored file is damaged or foreign (the message names it and what to do), and
    when writing fails after a load (a full disk, a folder made read-only meanwhile): then
    ``partial`` holds the rows that were loaded but could not be written, so none are lost.

    Attributes
    ----------
    path : str
        The file or folder at fault.
    partial : polars.DataFrame or None
        The loaded rows a failed write could not keep; None when nothing loaded is at stake.
    """

    partial: Any = None

    def __init__(self, path: Any, message: str, *, partial: Any = None) -> None:
        self.path = str(path)
        self.partial = partial
        # One line: the command prints it as is on standard error.
        super().__init__(" ".join(f"{path}: {message}".split()))


class UnfinishedArchiveError(StoreError):
    """An archive folder holds the rows of a first run that was stopped before it finished:
    ``recordings.parquet`` without ``manifest.json``, or only the tables it staged
    (``.recordings.parquet.….tmp``, a run killed before putting them in place). ``partial``
    holds those rows; running the archive again into the folder finishes it (it keeps every
    row, even when the provider lists nothing now)."""


def reason(error: BaseException) -> str:
    """What went wrong, in one line: an OSError's system reason, else its first line."""
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


class LoadWarning(UserWarning):
    """Something the user should know about a load that still returned data."""


class ArchiveWarning(LoadWarning):
    """An archive was written but is not whole (media files that could not be downloaded, see
    its ``media.csv``: running the archive again fetches them; recordings still being
    processed), or holds what this run's listing lacked: rows kept from earlier runs because
    no longer listed, or values an earlier run archived that the listing left out."""


# Frames that are never the user's: this package's, the event loop's, the shim that nests a
# loop inside a notebook's running one, and polars' (a check inside a lazy query warns from
# its collect).
_INTERNAL = (os.path.dirname(os.path.abspath(__file__)), os.path.dirname(asyncio.__file__))
_POLARS = f"{os.sep}polars{os.sep}"


def _internal(filename: str) -> bool:
    return filename.startswith(_INTERNAL) or "nest_asyncio" in filename or _POLARS in filename


def warn_user(message: str, category: type[Warning] = LoadWarning) -> None:
    """Warn at the user's own line: the first frame outside recanalytics and asyncio.

    A loader warns from inside a coroutine that a sync wrapper runs in an event loop; a fixed
    ``stacklevel`` pointed at ``asyncio/events.py`` or at the package, never at the call.
    """
    frame = sys._getframe(1)
    level = 2  # warnings.warn counts its caller (this function) as 1
    while frame is not None and _internal(frame.f_code.co_filename):
        frame = frame.f_back  # type: ignore[assignment]
        level += 1
    warnings.warn(message, category, stacklevel=level if frame is not None else 2)
