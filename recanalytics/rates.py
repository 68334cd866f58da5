"""A storage price (the unit each provider's spec states its storage rate in)."""

from __future__ import annotations

from dataclasses import dataclass
from math import isfinite
from typing import Literal

from recanalytics.errors import ConfigError

Basis = Literal["gb_month", "minute_month"]


@dataclass(frozen=True, slots=True)
class StorageRate:
    """A storage price: ``amount`` USD per ``basis`` (GB-month or recorded-minute-month).

    Attributes
    ----------
    amount : float
        USD per unit per month, 0 or more.
    basis : {"gb_month", "minute_month"}
        ``gb_month`` charges ``size_bytes`` / 10^9; ``minute_month`` charges billed minutes
        (each started minute) of ``duration``.
    source : str
        Where the number comes from.
    as_of : str
        When the number was looked up (ISO date).
    assumption : bool
        True when the number could not be confirmed from a provider source.
    """

    amount: float
    basis: Basis
    source: str = "user"
    as_of: str = ""
    assumption: bool = False

    def __post_init__(self) -> None:
        if (
            isinstance(self.amount, bool)
            or not isinstance(self.amount, int | float)
            or not isfinite(self.amount)
            or self.amount < 0
        ):
            raise ConfigError("rates", "a finite amount of 0 or more USD", self.amount)
        # An int amount (0) beside float ones would make polars infer an integer column.
        object.__setattr__(self, "amount", float(self.amount))
        if self.basis not in ("gb_month", "minute_month"):
            raise ConfigError("rates", 'basis "gb_month" or "minute_month"', self.basis)
