"""Estimated monthly storage cost from a rate table, next to the provider-reported cost.

The reported ``cost`` is not the same kind of amount everywhere: Plivo's is a storage charge per
month kept, SignalWire's a one-off price (each provider's spec says which, ``cost_kind``), so
amounts of different kinds are never added, as amounts in different currencies are not.

The default rates are list prices with their source and date; some are assumptions, and every
one can be overridden with ``rates={"zoom": 0.08}`` (same unit) or a full :class:`StorageRate`.
Estimates ignore free allowances (Twilio's first 10 GB, Plivo's first 90 days per recording,
…), which apply per account, so they err high.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Final

import polars as pl

from recanalytics.errors import ConfigError
from recanalytics.helpers._common import By, FrameT, ReadOnlyMapping, by_list, checked_lazy, finish
from recanalytics.helpers.durations import billed_minutes
from recanalytics.helpers.sizes import is_deleted
from recanalytics.providers.registry import SPECS
from recanalytics.rates import StorageRate

__all__ = [
    "COST_KIND_OF",
    "STORAGE_RATES",
    "StorageRate",
    "cost_kind",
    "cost_summary",
    "monthly_storage_cost",
    "storage_rates",
]

BYTES_PER_GB: Final = 1_000_000_000
"""Rate tables say "GB"; we read it as 10^9 bytes (SI), which errs high against 2^30."""


STORAGE_RATES: Final[Mapping[str, StorageRate]] = ReadOnlyMapping(
    {name: spec.storage_rate for name, spec in SPECS.items() if spec.storage_rate is not None}
)
"""Default storage rates per provider (USD), each stated in its provider's module (sources: the
Cost section of docs/helpers.md)."""


COST_KIND_OF: Final[Mapping[str, str]] = ReadOnlyMapping(
    {name: spec.cost_kind for name, spec in SPECS.items() if spec.cost_kind is not None}
)
"""What each provider's reported ``cost`` is (``monthly storage`` or ``one-off``), as its
provider module declares it; a provider that reports no cost is not listed."""


def cost_kind() -> pl.Expr:
    """What each row's reported ``cost`` is (String): ``monthly storage`` (Plivo, a charge per
    month kept) or ``one-off`` (SignalWire, a price charged once); null where the row has no
    cost, or its provider declares no kind.

    Group by it (``summarize(df.with_columns(cost_kind()), by=["cost_kind", "cost_unit"])``)
    for a reported-cost total per kind: the helpers give none across kinds.

    Examples
    --------
    >>> import polars as pl
    >>> from recanalytics.schema import conform
    >>> df = conform(
    ...     pl.DataFrame({"provider": ["plivo", "signalwire", "twilio"], "cost": [0.1, 0.2, None]})
    ... ).collect()
    >>> df.select(cost_kind()).to_series().to_list()
    ['monthly storage', 'one-off', None]
    """
    kind = (
        pl.col("provider")
        .cast(pl.String)
        .replace_strict(
            list(COST_KIND_OF), list(COST_KIND_OF.values()), default=None, return_dtype=pl.String
        )
    )
    return pl.when(pl.col("cost").is_not_null()).then(kind).alias("cost_kind")


def _resolve(rates: Mapping[str, float | StorageRate] | None) -> dict[str, StorageRate]:
    table = dict(STORAGE_RATES)
    if rates is None:
        return table
    if not isinstance(rates, Mapping):
        raise ConfigError("rates", "a mapping of provider to amount or StorageRate", rates)
    for provider, rate in rates.items():
        if isinstance(rate, StorageRate):
            table[provider] = rate
        elif provider in STORAGE_RATES:
            # Keeps the default's basis, so {"zoom": 0.08} means 0.08 USD per GB-month.
            table[provider] = StorageRate(rate, STORAGE_RATES[provider].basis)
        else:
            raise ConfigError(
                "rates",
                f"a StorageRate for {provider!r} (no default basis to apply a bare number to)",
                rate,
            )
    return table


def storage_rates(rates: Mapping[str, float | StorageRate] | None = None) -> pl.DataFrame:
    """The rate table in use (defaults updated by ``rates``) as a frame, for display.

    Examples
    --------
    >>> from recanalytics.helpers import storage_rates
    >>> storage_rates({"zoom": 0.08}).filter(provider="zoom")["amount"].item()
    0.08
    """
    table = _resolve(rates)
    return pl.DataFrame(
        {
            "provider": list(table),
            "amount": [r.amount for r in table.values()],
            "basis": [r.basis for r in table.values()],
            "source": [r.source for r in table.values()],
            "as_of": [r.as_of for r in table.values()],
            "assumption": [r.assumption for r in table.values()],
        },
        schema={
            "provider": pl.String,
            "amount": pl.Float64,
            "basis": pl.String,
            "source": pl.String,
            "as_of": pl.String,
            "assumption": pl.Boolean,
        },
    )


def monthly_storage_cost(rates: Mapping[str, float | StorageRate] | None = None) -> pl.Expr:
    """Estimated USD per month to keep each recording stored (Float64), on a unified frame.

    ``gb_month`` providers: ``size_bytes / 1e9 × rate``; ``minute_month`` providers: billed
    minutes (each started minute) × rate. Deleted recordings (``deleted_at`` set or status
    ``deleted``) cost 0. Null where the provider has no rate or the size is unknown.

    Parameters
    ----------
    rates : mapping, optional
        Overrides by provider: a number (USD, in the default's basis) or a :class:`StorageRate`.

    Examples
    --------
    >>> import polars as pl
    >>> from datetime import timedelta
    >>> from recanalytics.schema import conform
    >>> df = conform(
    ...     pl.DataFrame(
    ...         {
    ...             "provider": ["twilio", "plivo"],
    ...             "size_bytes": [2_000_000_000, None],
    ...             "duration": [timedelta(minutes=10), timedelta(seconds=61)],
    ...         }
    ...     )
    ... ).collect()
    >>> df.select(monthly_storage_cost()).to_series().to_list()
    [0.1, 0.0008]
    """
    table = _resolve(rates)
    providers = list(table)
    provider = pl.col("provider").cast(pl.String)
    amount = provider.replace_strict(
        providers, [r.amount for r in table.values()], default=None, return_dtype=pl.Float64
    )
    basis = provider.replace_strict(
        providers, [r.basis for r in table.values()], default=None, return_dtype=pl.String
    )
    quantity = (
        pl.when(basis == "gb_month")
        .then(pl.col("size_bytes").cast(pl.Float64) / BYTES_PER_GB)
        .when(basis == "minute_month")
        .then(billed_minutes("duration").cast(pl.Float64))
    )
    deleted = is_deleted()
    return (
        pl.when(deleted & amount.is_not_null())
        .then(pl.lit(0.0))
        .otherwise(quantity * amount)
        .alias("estimated_monthly_cost")
    )


COST_OUTPUTS: Final = ("estimated_monthly_cost", "reported_cost")
"""The columns :func:`cost_aggregations` makes besides ``cost_unit`` and ``cost_kind``."""

_LISTS: Final = ("cost_unit", "cost_kind")
"""The columns :func:`cost_aggregations` lists a group's values in (none where grouped by it)."""


_COST_COLUMNS: Final = ("provider", "size_bytes", "duration", "status", "deleted_at", "created_at")


def cost_summary(
    df: FrameT,
    by: By = "provider",
    *,
    rates: Mapping[str, float | StorageRate] | None = None,
) -> FrameT:
    """Estimated monthly storage cost next to the provider-reported cost, per group.

    Parameters
    ----------
    df : polars.DataFrame or polars.LazyFrame
        A unified frame.
    by : str or sequence of str, default "provider"
        None gives one overall row. A column named twice counts once; one named like a result
        column (``recordings``, …) is a ConfigError, except ``cost_unit`` and ``cost_kind``
        (added with :func:`cost_kind`), which then hold each group's unit or kind.
    rates : mapping, optional
        Rate overrides, as for :func:`monthly_storage_cost`.

    Returns
    -------
    polars.DataFrame or polars.LazyFrame
        The ``by`` columns, ``recordings``, ``estimated_monthly_cost`` (USD, null when the
        group holds recordings none of which could be estimated: deleted ones cost 0 but do
        not make the held ones known), ``reported_cost`` (sum of ``cost``, null
        when the provider reports none: Twilio, Zoom, and when the group's costs are in more
        than one currency, or some in none: no sum of EUR and USD, or of more than one kind:
        no sum of Plivo's monthly storage charge and SignalWire's one-off price),
        ``cost_unit`` (the distinct reported currencies, comma-separated) and ``cost_kind``
        (the distinct kinds of the reported amounts, comma-separated, see :func:`cost_kind`).

    Examples
    --------
    >>> import polars as pl
    >>> from datetime import timedelta
    >>> from recanalytics.schema import conform
    >>> df = conform(
    ...     pl.DataFrame(
    ...         {
    ...             "provider": ["twilio", "plivo"],
    ...             "size_bytes": [2_000_000_000, None],
    ...             "duration": [timedelta(minutes=9), timedelta(seconds=50)],
    ...             "cost": [None, 0.0004],
    ...             "cost_unit": [None, "USD"],
    ...         }
    ...     )
    ... ).collect()
    >>> cost_summary(df).rows()
    [('twilio', 1, 0.1, None, None, None), ('plivo', 1, 0.0004, 0.0004, 'USD', 'monthly storage')]
    """
    keys: list[str] = by_list(by, reserved=("recordings", *COST_OUTPUTS))
    lazy = checked_lazy(df, [*_COST_COLUMNS, "cost", "cost_unit"], by=keys)
    aggs = [
        pl.len().cast(pl.Int64).alias("recordings"),
        *cost_aggregations(rates, keys),
    ]
    result = lazy.select(aggs) if not keys else lazy.group_by(keys).agg(aggs).sort(keys)
    return finish(df, result)


def _sum_or_null(expr: pl.Expr) -> pl.Expr:
    # polars sums an all-null group to 0; "unknown" must not read as "free".
    return pl.when(expr.count() > 0).then(expr.sum())


def _estimate_or_null(estimate: pl.Expr) -> pl.Expr:
    # Known when some held recording is priced, or none is held (every one deleted, at 0). A
    # deleted recording's 0 alone made held recordings of unknown size read as free.
    held = ~is_deleted()
    known = (estimate.filter(held).count() > 0) | ((held.sum() == 0) & (estimate.count() > 0))
    return pl.when(known).then(estimate.sum())


def cost_aggregations(
    rates: Mapping[str, float | StorageRate] | None, keys: Sequence[str] = ()
) -> list[pl.Expr]:
    """Aggregations shared by :func:`cost_summary` and ``summarize``.

    Grouped by ``cost_unit`` (or ``cost_kind``), the group column already holds the unit (or
    kind): a second one would collide with it.
    """
    reported = pl.col("cost")
    # Grouped by cost_unit or cost_kind, each group holds one: only the others are checked.
    values = {"cost_unit": pl.col("cost_unit"), "cost_kind": cost_kind()}
    listed = {name: value for name, value in values.items() if name not in keys}
    # Amounts in several currencies (or some in none) have no total: EUR and USD summed read
    # as one amount in "EUR, USD"; nor amounts of several kinds: a monthly storage charge
    # plus a one-off price is neither.
    alike = pl.all_horizontal(
        pl.lit(True),
        *(value.filter(reported.is_not_null()).n_unique() <= 1 for value in listed.values()),
    )
    return [
        _estimate_or_null(monthly_storage_cost(rates)).alias("estimated_monthly_cost"),
        pl.when(alike).then(_sum_or_null(reported)).alias("reported_cost"),
        *(
            value.drop_nulls().unique().sort().str.join(", ").replace("", None).alias(name)
            for name, value in listed.items()
        ),
    ]
