"""Size helpers: human text (IEC or SI), parsing human sizes, bitrate estimates, storage growth."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal
from typing import Final, Literal

import polars as pl

from recanalytics.errors import ConfigError
from recanalytics.helpers._common import (
    By,
    ColumnLike,
    FrameT,
    by_list,
    check_every,
    checked_lazy,
    duration_micros,
    finish,
    to_expr,
    within_period_limit,
)

__all__ = [
    "estimate_bitrate",
    "fill_bitrate",
    "parse_size",
    "size_human",
    "storage_growth",
]

Units = Literal["iec", "si"]

_UNIT_NAMES: Final[dict[str, tuple[str, ...]]] = {
    "iec": ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"),
    "si": ("B", "kB", "MB", "GB", "TB", "PB", "EB"),
}
_BASES: Final[dict[str, int]] = {"iec": 1024, "si": 1000}

# Case-insensitive unit spellings accepted by parse_size. Bare "k", "m", "g" are left out on
# purpose: whether "1G" means 10^9 or 2^30 differs between tools, so we ask instead of guessing.
_PARSE_FACTORS: Final[dict[str, int]] = {
    "": 1,
    "b": 1,
    "byte": 1,
    "bytes": 1,
    **{f"{p}b": 1000 ** (i + 1) for i, p in enumerate("kmgtpe")},
    **{f"{p}ib": 1024 ** (i + 1) for i, p in enumerate("kmgtpe")},
}
# ASCII only, as the date parsers: \d would also read "١٢٣" (Arabic-Indic digits) as 123.
_SIZE_RE: Final = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*([A-Za-z]*)\s*$", re.ASCII)


def size_human(
    column: ColumnLike = "size_bytes", *, units: Units = "iec", decimals: int = 1
) -> pl.Expr:
    """Short human text for a byte count: ``"1023 B"``, ``"1.0 KiB"``, ``"1.5 GB"`` (String).

    Bytes are shown whole; larger units with ``decimals`` decimals, rounded half up. A value that
    rounds up to the next unit moves to it (1 048 575 bytes reads ``"1.0 MiB"``, not
    ``"1024.0 KiB"``). Negative values (net changes) get a leading ``-``.

    Parameters
    ----------
    column : str or polars.Expr, default "size_bytes"
        Any numeric column of bytes.
    units : {"iec", "si"}, default "iec"
        ``"iec"``: powers of 1024 (KiB, MiB, GiB, …); ``"si"``: powers of 1000 (kB, MB, GB, …).
    decimals : int, default 1

    Examples
    --------
    >>> import polars as pl
    >>> from recanalytics.helpers import size_human
    >>> df = pl.DataFrame({"size_bytes": [1023, 1024, 1_500_000]})
    >>> df.select(size_human()).to_series().to_list()
    ['1023 B', '1.0 KiB', '1.4 MiB']
    >>> df.select(size_human(units="si")).to_series().to_list()
    ['1.0 kB', '1.0 kB', '1.5 MB']
    """
    if not isinstance(units, str) or units not in _UNIT_NAMES:
        raise ConfigError("units", '"iec" or "si"', units)
    if isinstance(decimals, bool) or not isinstance(decimals, int) or not 0 <= decimals <= 6:
        raise ConfigError("decimals", "an integer from 0 to 6", decimals)
    names = _UNIT_NAMES[units]
    base = float(_BASES[units])
    top = len(names) - 1
    raw = to_expr(column).cast(pl.Float64)
    # NaN and infinities have no size to show; they would also break the integer cast below.
    value = pl.when(raw.is_finite()).then(raw)
    magnitude = value.abs()

    # Unit k is used from the value that would round to base·10^d in unit k-1: 1 048 575 B is
    # 1024.0 KiB after rounding, so it must already read 1.0 MiB. Thresholds are plain floats,
    # which keeps the expression flat (nested re-rounding made it ~15x slower on 1M rows).
    def shown(k: int) -> float:
        return 1.0 if k == 0 else 10.0**decimals

    thresholds = [base**k - 0.5 * base ** (k - 1) / shown(k - 1) for k in range(1, top + 1)]
    power = pl.sum_horizontal([(magnitude >= t).cast(pl.Int32) for t in thresholds])
    keys = list(range(top + 1))
    divisor = power.replace_strict(
        keys, [base**k / shown(k) for k in keys], return_dtype=pl.Float64
    )
    # A magnitude beyond Int64 even in EiB (a float column such as 1e300) has no text: null.
    scaled = (magnitude / divisor + 0.5).floor().cast(pl.Int64, strict=False)
    unit = power.replace_strict(keys, list(names), return_dtype=pl.String)
    if decimals == 0:
        number = scaled.cast(pl.String)
    else:
        factor = 10**decimals
        fraction = (scaled % factor).cast(pl.String).str.zfill(decimals)
        number = (
            pl.when(power == 0)
            .then(scaled.cast(pl.String))
            .otherwise(pl.format("{}.{}", scaled // factor, fraction))
        )
    sign = pl.when((value < 0) & (scaled > 0)).then(pl.lit("-")).otherwise(pl.lit(""))
    return pl.concat_str([sign, number, pl.lit(" "), unit]).alias("size_human")


MAX_SIZE_TEXT = 64
"""The longest size text :func:`parse_size` reads."""


def parse_size(text: str | int) -> int:
    """Parse a human size such as ``"1.5 GiB"``, ``"200 MB"`` or ``"512"`` into whole bytes.

    Units are case-insensitive: ``B``/``bytes``; SI ``kB MB GB TB PB EB`` (powers of 1000);
    IEC ``KiB MiB GiB TiB PiB EiB`` (powers of 1024). No unit means bytes. Digits are ASCII
    ``0-9`` only. Fractions of a byte round half up. An ``int`` is returned as is.

    Parameters
    ----------
    text : str or int
        The size.

    Returns
    -------
    int
        Whole bytes.

    Raises
    ------
    ConfigError
        (a ``ValueError``, naming ``text``) for negative numbers, unknown units, bare
        ``K``/``M``/``G`` (ambiguous between tools), digits other than ASCII, or anything that is
        not a size.

    Examples
    --------
    >>> from recanalytics.helpers import parse_size
    >>> parse_size("1.5 GiB"), parse_size("200 MB"), parse_size("512")
    (1610612736, 200000000, 512)
    """
    expected = 'a size such as "512", "200 MB" or "1.5 GiB"'
    if isinstance(text, bool):
        raise ConfigError("text", expected, text)
    if isinstance(text, int):
        if text < 0:
            raise ConfigError("text", "a size of zero or more bytes", text)
        return text
    if not isinstance(text, str):
        raise ConfigError("text", expected, text)
    if len(text) > MAX_SIZE_TEXT:
        # Past any size there is (10**60 bytes); thousands of digits are past int() and Decimal.
        raise ConfigError("text", f"{expected}, at most {MAX_SIZE_TEXT} characters", text)
    match = _SIZE_RE.match(text)
    if match is None:
        raise ConfigError("text", expected, text)
    number, unit = match.groups()
    factor = _PARSE_FACTORS.get(unit.lower())
    if factor is None:
        hint = ""
        if unit.lower() in {"k", "m", "g", "t", "p", "e"}:
            hint = (
                f'write "{unit.upper()}B" (powers of 1000) or "{unit.upper()}iB" (powers of 1024)'
            )
        raise ConfigError("text", expected, text, hint=hint)
    try:
        amount = Decimal(number) * factor
        return int(amount.to_integral_value(rounding=ROUND_HALF_UP))
    except (ArithmeticError, ValueError) as exc:  # InvalidOperation, Overflow: not a size
        raise ConfigError("text", expected, text) from exc


def estimate_bitrate(size: ColumnLike = "size_bytes", duration: ColumnLike = "duration") -> pl.Expr:
    """Average bitrate in kilobits per second from size and duration: ``size·8 / duration``.

    Bytes·8 per millisecond is exactly kilobits (1000 bits) per second. Null when the size or
    duration is null, or the duration is zero or negative (no division by zero, no infinities).

    Examples
    --------
    >>> import polars as pl
    >>> from datetime import timedelta
    >>> from recanalytics.helpers import estimate_bitrate
    >>> df = pl.DataFrame({"size_bytes": [240_000], "duration": [timedelta(seconds=60)]})
    >>> df.select(estimate_bitrate()).item()
    32.0
    """
    millis = duration_micros(to_expr(duration, "duration")) / 1000
    bits = to_expr(size, "size").cast(pl.Float64) * 8
    return pl.when(millis > 0).then(bits / millis).alias("estimated_bitrate_kbps")


def fill_bitrate(
    reported: ColumnLike = "bitrate_kbps",
    size: ColumnLike = "size_bytes",
    duration: ColumnLike = "duration",
) -> pl.Expr:
    """The reported bitrate where there is one, else :func:`estimate_bitrate` (kbps, Float64).

    A reported bitrate that is not a finite number above 0 counts as missing: Twilio
    compositions report ``bitrate: 0`` when they have none, and NaN or infinity is no bitrate
    (it would also turn every mean it enters into NaN or infinity).

    Examples
    --------
    >>> import polars as pl
    >>> from datetime import timedelta
    >>> from recanalytics.helpers import fill_bitrate
    >>> df = pl.DataFrame(
    ...     {
    ...         "bitrate_kbps": [64.0, None],
    ...         "size_bytes": [1, 240_000],
    ...         "duration": [timedelta(seconds=1), timedelta(seconds=60)],
    ...     }
    ... )
    >>> df.select(fill_bitrate()).to_series().to_list()
    [64.0, 32.0]
    """
    given = to_expr(reported, "reported").cast(pl.Float64)
    # is_finite first: polars orders NaN above every number, so NaN > 0 holds.
    usable = given.is_finite() & (given > 0)
    return pl.coalesce(pl.when(usable).then(given), estimate_bitrate(size, duration)).alias(
        "bitrate_kbps"
    )


def is_deleted() -> pl.Expr:
    """True where the media is gone: ``deleted_at`` is set or the status is ``deleted``."""
    return (pl.col("deleted_at").is_not_null() | _status_is_deleted()).fill_null(False)


def _status_is_deleted() -> pl.Expr:
    # Cast first: monthly_storage_cost is an expression on the user's frame, whose status may be
    # Categorical (str.to_lowercase refuses it; a String column casts for free).
    return pl.col("status").cast(pl.String).str.to_lowercase() == "deleted"


def deletion_time() -> pl.Expr:
    """When a recording's bytes stop being held: ``deleted_at``, else ``created_at`` if deleted.

    A recording whose status is ``deleted`` but which has no ``deleted_at`` is treated as removed
    when it was created: we cannot know when it went, and it is certainly not held now.
    """
    return (
        pl.when(pl.col("deleted_at").is_not_null())
        .then(pl.col("deleted_at"))
        .when(_status_is_deleted())
        .then(pl.col("created_at"))
    )


STORAGE_READS: Final = ("created_at", "deleted_at", "status", "size_bytes")
"""The columns storage_growth reads."""

STORAGE_COLUMNS: Final = (
    "period",
    "bytes_added",
    "bytes_deleted",
    "bytes_held",
    "_size",
    "_added",
    "_deleted",
)
"""The columns storage_growth makes on the way; no ``by`` column may share a name with one."""


def storage_growth(df: FrameT, every: str = "1mo", *, by: By = None) -> FrameT:
    """Bytes added, bytes deleted and cumulative bytes held per period.

    A recording adds ``size_bytes`` in the period of its ``created_at`` and removes it in the
    period of its ``deleted_at`` (or of ``created_at`` when its status is ``deleted`` but no
    deletion time is known, or the deletion time is earlier than the creation time: a
    ``LoadWarning`` counts those, and negative sizes, which are unknown). Periods with no events are filled with 0 so ``bytes_held`` carries
    forward. An unknown size (Plivo and SignalWire give none) is never counted as 0 bytes: totals
    are of the known sizes, and null where none is known (as ``summarize``'s
    ``total_size_bytes``); rows without ``created_at`` are skipped. Totals are summed without
    wrapping around: one past Int64 (8 EiB) is null.

    Parameters
    ----------
    df : polars.DataFrame or polars.LazyFrame
        A unified frame (needs created_at, deleted_at, status, size_bytes).
    every : str, default "1mo"
        Period length as a polars interval: ``"1d"``, ``"1w"``, ``"1mo"``, ``"1q"``, ``"1y"``.
        At most 200 000 periods may lie between the first and the last event (enough for
        monthly periods across the whole calendar); more is a ConfigError naming ``every``,
        raised before any period is made (for a LazyFrame, when it is collected).
    by : str or sequence of str, optional
        Extra group columns (e.g. ``"provider"``); each group gets every period. A column named
        twice counts once.

    Returns
    -------
    polars.DataFrame or polars.LazyFrame
        Columns ``period`` (start, UTC), the ``by`` columns, ``bytes_added``,
        ``bytes_deleted``, ``bytes_held`` (all Int64), sorted by group then period. A total is
        null where it does not fit Int64, and where no size of what it adds up is known:
        ``bytes_added`` (``bytes_deleted``) of a period whose recordings created (deleted) in
        it all lack a size, ``bytes_held`` until a size of the group is known. A period with
        nothing created (deleted) in it adds (deletes) 0.

    Examples
    --------
    >>> import polars as pl
    >>> from datetime import datetime, UTC
    >>> from recanalytics.helpers import storage_growth
    >>> from recanalytics.schema import conform
    >>> df = conform(
    ...     pl.DataFrame(
    ...         {
    ...             "created_at": [datetime(2025, 1, 5, tzinfo=UTC)],
    ...             "deleted_at": [datetime(2025, 3, 1, tzinfo=UTC)],
    ...             "status": ["deleted"],
    ...             "size_bytes": [100],
    ...         }
    ...     )
    ... ).collect()
    >>> storage_growth(df)["bytes_held"].to_list()
    [100, 100, 0]
    """
    keys: list[str] = by_list(by, reserved=STORAGE_COLUMNS)
    check_every(every)
    lazy = checked_lazy(df, STORAGE_READS, by=keys)
    events = lazy.filter(pl.col("created_at").is_not_null()).select(
        *keys,
        # Int128 until the end: Int64 sums wrap around silently (2**63 - 1 + 2 reads negative).
        pl.col("size_bytes").cast(pl.Int64).cast(pl.Int128).alias("_size"),
        pl.col("created_at").dt.truncate(every).alias("_added"),
        deletion_time().dt.truncate(every).alias("_deleted"),
    )
    added = events.group_by([*keys, pl.col("_added").alias("period")]).agg(
        *_known_total("bytes_added")
    )
    deleted = (
        events.filter(pl.col("_deleted").is_not_null())
        .group_by([*keys, pl.col("_deleted").alias("period")])
        .agg(*_known_total("bytes_deleted"))
    )
    grid = period_grid(events, ["_added", "_deleted"], every, keys)
    result = (
        grid.join(added, on=["period", *keys], how="left", nulls_equal=True)
        .join(deleted, on=["period", *keys], how="left", nulls_equal=True)
        .with_columns(
            # No row joined: nothing happened in the period, which adds or deletes 0 bytes.
            pl.when(pl.col(f"_{name}_known").is_null()).then(0).otherwise(pl.col(name)).alias(name)
            for name in ("bytes_added", "bytes_deleted")
        )
        .sort([*keys, "period"])
        .with_columns(_held(keys))
        .select(
            "period",
            *keys,
            pl.col("bytes_added", "bytes_deleted", "bytes_held").cast(pl.Int64, strict=False),
        )
    )
    return finish(df, result)


def _known_total(name: str) -> tuple[pl.Expr, pl.Expr]:
    """The known sizes of a period's events summed as ``name`` (null when none is known), and
    ``_<name>_known``, how many were known."""
    known = pl.col("_size").count()
    return (
        pl.when(known > 0).then(pl.col("_size").sum()).alias(name),
        known.alias(f"_{name}_known"),
    )


def _held(keys: list[str]) -> pl.Expr:
    """What is held at the end of each period: the known sizes added less those deleted, carried
    forward; null until a size of the group is known (nothing recorded yet is 0 held)."""
    # Null here is an unknown size only: totals stay Int128 (no overflow) until the end.
    change = pl.col("bytes_added").fill_null(0) - pl.col("bytes_deleted").fill_null(0)
    held = change.cum_sum()
    known = (
        pl.col("_bytes_added_known").fill_null(0) + pl.col("_bytes_deleted_known").fill_null(0)
    ).cum_sum()
    happened = (
        pl.col("_bytes_added_known").is_not_null() | pl.col("_bytes_deleted_known").is_not_null()
    ).cum_sum()
    if keys:
        held, known, happened = held.over(keys), known.over(keys), happened.over(keys)
    return pl.when((known > 0) | (happened == 0)).then(held).alias("bytes_held")


def period_grid(
    events: pl.LazyFrame, period_columns: list[str], every: str, keys: list[str]
) -> pl.LazyFrame:
    """Every period from the first to the last event, for every group present.

    Gaps must exist as rows: a cumulative total has to carry through months with no activity.
    More than ``MAX_PERIODS`` periods is a ConfigError naming ``every`` when collected.
    """
    bounds = events.select(
        pl.min_horizontal([pl.col(c).min() for c in period_columns]).alias("_start"),
        pl.max_horizontal([pl.col(c).max() for c in period_columns]).alias("_end"),
    )
    start, end = pl.col("_start"), pl.col("_end")
    periods = (
        bounds.filter(start.is_not_null())
        # Counted from the bounds before any period exists: "1s" over a year would otherwise
        # make 31 million rows per group before anything could refuse them.
        .filter(within_period_limit(start, end, every))
        .select(pl.datetime_ranges(start, end, every).alias("period"))
        .explode("period")
    )
    if not keys:
        return periods
    groups = events.select(keys).unique()
    return periods.join(groups, how="cross")


SIZE_UNITS: Final = (("KiB", 2**10), ("MiB", 2**20), ("GiB", 2**30), ("TiB", 2**40), ("PiB", 2**50))
"""Binary units in which tables and charts show sizes."""


def size_unit(max_bytes: float | None) -> tuple[str, int]:
    """The largest binary unit in which ``max_bytes`` is at least 1 (MiB at least... KiB)."""
    if not max_bytes or max_bytes <= 0:
        return "GiB", 2**30
    name, factor = SIZE_UNITS[0]
    for candidate, candidate_factor in SIZE_UNITS:
        if max_bytes >= candidate_factor:
            name, factor = candidate, candidate_factor
    return name, factor
