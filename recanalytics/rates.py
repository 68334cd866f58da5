"""A storage price (the unit each provider's spec states its storage rate in), and the kinds of
amount a provider's reported ``cost`` can be."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

from recanalytics import validate
from recanalytics.errors import ConfigError

Basis = Literal["gb_month", "minute_month"]

CostKind = Literal["monthly storage", "one-off"]
"""What a provider's reported ``cost`` is: ``monthly storage``, a charge per month the recording
is kept (Plivo's ``monthly_recording_storage_amount``); ``one-off``, a price charged once for
the recording (SignalWire's ``price``). Amounts of different kinds are never summed."""

COST_KINDS: Final[dict[str, str]] = {
    "monthly storage": "a storage charge per month kept",
    "one-off": "a one-off price",
}
"""Each :data:`CostKind` said in words, as the cost chart says it."""


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
        # A float, also for an int amount (0 beside floats would make polars infer integers);
        # an int too large for a float (10**400) is refused, not an OverflowError.
        amount = validate.number(
            self.amount, "rates", inclusive=True, form="a finite amount of 0 or more USD"
        )
        object.__setattr__(self, "amount", amount)
        if self.basis not in ("gb_month", "minute_month"):
            raise ConfigError("rates", 'basis "gb_month" or "minute_month"', self.basis)
