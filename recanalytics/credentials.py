"""Credentials: read from the environment or given explicitly, never shown.

:class:`Credentials` is the mechanism; each provider's class (its fields, which are secret,
its environment variables) lives in its provider module and its spec names it. Every class
keeps its secret fields out of ``repr`` and ``str``; error messages name the environment
variables that are missing, never a value.
"""

from __future__ import annotations

import base64
import dataclasses
import os
import re
from collections.abc import Mapping
from typing import Any, ClassVar, Self

from recanalytics.errors import ConfigError, CredentialsError
from recanalytics.validate import has_control

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
    #: field name -> (pattern its whole value matches, the form in words), checked when set
    forms: ClassVar[dict[str, tuple[re.Pattern[str], str]]] = {}
    #: fields that name the account the credentials reach, the first one set winning; never a
    #: secret field (the name is written to the store's coverage, hashed)
    account_fields: ClassVar[tuple[str, ...]] = ()
    #: the field whose value the provider's rows carry as ``account_id``, spelled as they spell
    #: it (None: no field does); never a secret field
    row_account_field: ClassVar[str | None] = None

    def __post_init__(self) -> None:
        self.check_types()
        missing = [name for name in self.required if not getattr(self, name)]
        if missing:
            names = ", ".join(f"{m} (env {' or '.join(self.env.get(m, ()))})" for m in missing)
            raise CredentialsError(self.provider, f"missing {names}")

    def check_types(self) -> None:
        """Every field is a string or None (a number would reach the auth header as text), and
        each id field that is set has its provider's form (a malformed one is refused before
        a request carries the secret beside it)."""
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if value is not None and not isinstance(value, str):
                # The type only: the value may be a secret.
                raise CredentialsError(
                    self.provider, f"{field.name} must be a string, not {type(value).__name__}"
                )
            if value and has_control(value):
                # A byte that is not UTF-8 in an environment variable arrives as a lone
                # surrogate: encoding it for the auth header raised with the value in its repr.
                names = " or ".join(self.env.get(field.name, ()))
                raise CredentialsError(
                    self.provider,
                    f"{field.name} (env {names}) must be printable text (valid UTF-8, no "
                    "control characters)",
                )
            if value is not None and value != value.strip():
                # A secret pasted with the line's padding, or a blank one: every request would
                # answer 401, which says nothing of why.
                names = " or ".join(self.env.get(field.name, ()))
                problem = "is blank" if not value.strip() else "has spaces before or after it"
                raise CredentialsError(self.provider, f"{field.name} (env {names}) {problem}")
            form = self.forms.get(field.name)
            if value and form is not None and not form[0].fullmatch(value):
                names = " or ".join(self.env.get(field.name, ()))
                raise CredentialsError(
                    self.provider, f"{field.name} (env {names}) must be {form[1]}"
                )

    def __reduce__(self) -> Any:
        # Pickling would write the secrets in clear to whatever file or process receives it.
        raise TypeError(
            f"{type(self).__name__} is not picklable: it holds secrets; let each process read "
            "them from the environment"
        )

    def __copy__(self) -> Self:
        return self  # frozen: a copy is the same value

    def __deepcopy__(self, memo: dict[int, Any]) -> Self:
        return self

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
        if not isinstance(environ, Mapping):
            raise ConfigError("environ", "a mapping of environment variables, or None", environ)
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
        if _earlier_class(type(value), cls):
            # The same class from an earlier import of its module (importlib.reload, IPython's
            # %autoreload): objects made before the reload are refused by isinstance though
            # they are the provider's own credentials. Rebuilt, and so checked again, as now.
            fields = dataclasses.fields(cls)
            return cls(**{f.name: getattr(value, f.name) for f in fields if hasattr(value, f.name)})
        if isinstance(value, Mapping):
            known = {f.name for f in dataclasses.fields(cls)}
            unknown = sorted(map(str, set(value) - known))
            if unknown:
                raise CredentialsError(
                    cls.provider, f"unknown keys {unknown}; accepted: {sorted(known)}"
                )
            return cls(**value)
        got = type(value).__name__
        if got == cls.__name__:  # another class of that name: say whose each is
            got = f"{type(value).__module__}.{got}, not {cls.__module__}.{cls.__name__}"
        raise CredentialsError(
            cls.provider, f"expected {cls.__name__}, a mapping or None, got {got}"
        )

    def basic_auth(self) -> tuple[str, str]:
        """The (username, password) pair for HTTP Basic auth."""
        raise NotImplementedError

    def account(self) -> str:
        """The account these credentials reach, as ``field=value`` of the first account field
        set (never a secret): loads of one account share its rate limiter, and a store keeps
        what it loaded per account (an Auth Token and an API key of one account are one).

        Examples
        --------
        >>> from recanalytics.credentials import TwilioCredentials
        >>> TwilioCredentials(account_sid="AC1", auth_token="t0ken").account()
        'account_sid=AC1'
        """
        for name in self.account_fields:
            if name not in self.secret_fields and (value := getattr(self, name)):
                return f"{name}={value}"
        raise NotImplementedError(f"{type(self).__name__} names no account field")

    def row_account(self) -> str | None:
        """The ``account_id`` the rows of the account these credentials reach carry, or None
        when the credentials do not name it (a Twilio API key given without its Account SID;
        Zoom, whose rows name no account): a store answers its rows of this account even when
        no load has yet returned one.

        Examples
        --------
        >>> from recanalytics.credentials import TwilioCredentials
        >>> TwilioCredentials(account_sid="AC1", auth_token="t0ken").row_account()
        'AC1'
        >>> TwilioCredentials(api_key="SK1", api_secret="s3cret").row_account() is None
        True
        """
        name = self.row_account_field
        if name is None or name in self.secret_fields:
            return None
        value = getattr(self, name)
        return value if isinstance(value, str) and value else None


def _earlier_class(kind: type, cls: type[Credentials]) -> bool:
    """Whether ``kind`` is ``cls`` as an earlier import of its module defined it."""
    return (
        kind is not cls
        and dataclasses.is_dataclass(kind)
        and (kind.__module__, kind.__qualname__) == (cls.__module__, cls.__qualname__)
    )


def __getattr__(name: str) -> type[Credentials]:
    """A provider's credentials class by name, as ``recanalytics.credentials`` exported them
    before they moved into their provider modules (``from recanalytics.credentials import
    TwilioCredentials`` keeps working).

    Importing this module imports the package, which registers every provider, so each class is
    already defined: it is found among the subclasses, without naming a provider here.
    """
    for cls in _subclasses(Credentials):
        if cls.__name__ == name and cls.__module__.startswith("recanalytics.providers."):
            return cls
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _subclasses(cls: type[Credentials]) -> list[type[Credentials]]:
    found = []
    for sub in cls.__subclasses__():
        found += [sub, *_subclasses(sub)]
    return found
