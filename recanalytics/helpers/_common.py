"""Plumbing shared by the helper modules: column arguments, frame in/out, validation."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, Final, NamedTuple, TypeAlias, TypeVar

import polars as pl

from recanalytics.errors import ConfigError, warn_user
from recanalytics.parsers import int_bounds
from recanalytics.schema import SCHEMA

ColumnLike: TypeAlias = str | pl.Expr
"""A column name or any polars expression."""

FrameT = TypeVar("FrameT", pl.DataFrame, pl.LazyFrame)

By: TypeAlias = str | Sequence[str] | None


def counted(count: int, one: str = "recording", several: str | None = None) -> str:
    """``count`` with its noun, singular for exactly one, for text shown to people.

    Parameters
    ----------
    count : int
        How many (written with thousands separators).
    one : str, default "recording"
        The singular noun.
    several : str, optional
        The plural noun (default ``one`` + "s").

    Examples
    --------
    >>> from recanalytics.helpers._common import counted
    >>> counted(1), counted(1_204), counted(1, "media file")
    ('1 recording', '1,204 recordings', '1 media file')
    """
    return f"{count:,} {one if count == 1 else several or one + 's'}"


K = TypeVar("K")
V = TypeVar("V")


class ReadOnlyMapping(Mapping[K, V]):
    """A table that cannot be changed, as ``types.MappingProxyType`` gives one, that pickles
    and copies: a mapping proxy refuses to, so ``ra.STORAGE_RATES`` could not be passed to a
    process pool's worker. ``|`` and ``copy()`` give a new dict, as a proxy's do.

    Examples
    --------
    >>> import pickle
    >>> from recanalytics.helpers._common import ReadOnlyMapping
    >>> rates = ReadOnlyMapping({"zoom": 0.08})
    >>> pickle.loads(pickle.dumps(rates)) == rates, rates | {"plivo": 0.01}
    (True, {'zoom': 0.08, 'plivo': 0.01})
    """

    __slots__ = ("_items",)

    def __init__(self, items: Mapping[K, V]) -> None:
        self._items = dict(items)

    def __getitem__(self, key: K) -> V:
        return self._items[key]

    def __iter__(self) -> Iterator[K]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._items!r})"

    def __reversed__(self) -> Iterator[K]:
        return reversed(self._items)  # as the mapping proxy it replaced

    def __or__(self, other: Mapping[K, V]) -> dict[K, V]:
        if not isinstance(other, Mapping):
            return NotImplemented
        return {**self._items, **other}

    def __ror__(self, other: Mapping[K, V]) -> dict[K, V]:
        if not isinstance(other, Mapping):
            return NotImplemented
        return {**other, **self._items}

    def copy(self) -> dict[K, V]:
        """A new dict of the same items."""
        return dict(self._items)


def to_expr(column: ColumnLike, parameter: str = "column") -> pl.Expr:
    """A column name becomes ``pl.col(name)``; an expression is used as given."""
    if isinstance(column, pl.Expr):
        return column
    if not isinstance(column, str) or not column:
        raise ConfigError(
            parameter, "a column name (a non-empty str) or a polars expression", column
        )
    return pl.col(column)


def by_list(by: By, *, reserved: Collection[str] = ()) -> list[str]:
    """Normalise a ``by=`` argument to a list of column names, each once, in the order given.

    A repeated name is dropped rather than refused: grouping by a column twice means the same
    as grouping by it once. ``reserved`` holds the names of the columns the helper makes (and
    any it uses on the way); a group column of the same name would collide with one of them.
    """
    if by is None:
        return []
    form = "a column name, a sequence of column names, or None"
    if isinstance(by, str):
        names = [by]
    elif not isinstance(by, Sequence) or not all(isinstance(name, str) for name in by):
        raise ConfigError("by", form, by)
    else:
        names = list(dict.fromkeys(by))
    clashes = [name for name in names if name in reserved]
    if clashes:
        raise ConfigError(
            "by",
            "group columns not named like a column of the result ("
            + ", ".join(sorted(reserved))
            + ")",
            clashes[0] if len(clashes) == 1 else clashes,
            hint=f"rename the column first, e.g. df.rename({{{clashes[0]!r}: {clashes[0] + '_'!r}}})",
        )
    return names


def require_columns(
    lazy: pl.LazyFrame,
    columns: Sequence[str],
    *,
    parameter: str = "df",
    by: Sequence[str] = (),
    by_parameter: str = "by",
) -> None:
    """Raise ConfigError naming every missing column, before any work is planned.

    A missing ``by`` column is the fault of the argument that named it (``by_parameter``), and
    the error says so.
    """
    present = set(lazy.collect_schema().names())
    missing = [name for name in columns if name not in present and name not in by]
    if missing:
        raise ConfigError(
            parameter,
            f"a frame with the column(s) {', '.join(missing)}",
            hint="pass the unified frame returned by the loaders (see recanalytics.SCHEMA)",
        )
    absent = [name for name in by if name not in present]
    if absent:
        raise ConfigError(
            by_parameter,
            "column names of the frame (" + ", ".join(sorted(present)) + ")",
            absent[0] if len(absent) == 1 else absent,
        )


def _family(dtype: pl.DataType) -> str:
    """The kind of values a unified column holds, as the dtype check compares them."""
    if dtype.is_numeric():
        return "numeric"
    if isinstance(dtype, pl.Datetime):
        return "a datetime"
    if isinstance(dtype, pl.Duration):
        return "a duration"
    if isinstance(dtype, pl.String | pl.Enum | pl.Categorical):
        return "text"
    return str(dtype)


def conform_dtypes(
    lazy: pl.LazyFrame,
    *,
    parameter: str = "df",
    schema: pl.Schema = SCHEMA,
    strict_numbers: bool = False,
    hint: str = "pass the unified frame returned by the loaders (see recanalytics.SCHEMA)",
) -> pl.LazyFrame:
    """Check every column of ``schema`` the frame has (:data:`recanalytics.SCHEMA`'s unless
    told) against it.

    A text column passes as it is where the schema has an Enum (``provider``, ``kind``); a
    Categorical or Enum column where it has String (``status``, ``group_name``, …) becomes
    String, as the helpers' string functions refuse categories; numbers of another type are
    cast to the schema's, a value that does not fit it (NaN, infinity or 1e19 as a size, 300 channels)
    becoming null, or, with ``strict_numbers``, failing the query; datetimes of any unit and
    zone, and durations of any unit, are put in the schema's (microseconds, UTC;
    milliseconds), so columns from pandas or pyarrow (nanoseconds) join and compare with the
    others; an all-null column without a type (``pl.lit(None)``) takes the schema's type; any
    other kind (a date, text sizes) is a ConfigError naming the column, not a polars error
    from deep inside a query.
    """
    casts: list[pl.Expr] = []
    for name, dtype in lazy.collect_schema().items():
        wanted = schema.get(name)
        if wanted is None:
            continue
        if dtype == pl.Null:
            casts.append(pl.col(name).cast(wanted))
        elif isinstance(dtype, pl.Datetime) and dtype != wanted:
            # Naive means UTC (as for since/until); another zone is the same instant in UTC.
            # Mixed zones or units (created_at naive, deleted_at UTC; ns beside us) have no
            # common type in a query (a join on periods fails).
            column = pl.col(name)
            if dtype.time_zone is None:
                column = column.dt.replace_time_zone("UTC")
            elif dtype.time_zone != "UTC":
                column = column.dt.convert_time_zone("UTC")
            casts.append(column.cast(wanted))
        elif _family(dtype) != _family(wanted):
            raise ConfigError(
                parameter,
                f"a frame whose column {name} holds {_family(wanted)} values ({wanted})",
                f"{name}: {dtype}",
                hint=hint,
            )
        elif wanted == pl.String and dtype != wanted:
            # A Categorical status (pandas' category, or cast to save memory) failed
            # str.to_lowercase and every comparison with a String deep inside a query.
            casts.append(pl.col(name).cast(pl.String))
        elif dtype != wanted and (dtype.is_numeric() or isinstance(dtype, pl.Duration)):
            # A float or Decimal size, an unsigned or wider integer: the strict casts inside
            # the helpers would fail on a value that does not fit, or JSON would not take it.
            casts.append(pl.col(name).cast(wanted, strict=strict_numbers))
    return lazy.with_columns(casts) if casts else lazy


NON_NEGATIVE: Final = ("duration", "size_bytes", "bitrate_kbps", "channels")
"""Unified columns that hold no negative value: a loader reads a negative one as unknown (null,
with a ``LoadWarning``), and :func:`conform_values` does the same on a frame made elsewhere.
``cost`` holds none either, but a negative price is a charge (Twilio's 2010 API and SignalWire
write them so): the loaders keep its absolute value, and so does :func:`conform_values`."""


class _Odd(NamedTuple):
    """Values a recording cannot have, and how they are taken instead."""

    column: str
    """The column rewritten."""
    flag: pl.Expr
    """True on the rows whose value is taken otherwise."""
    taken: pl.Expr
    """The column as taken."""


def _odd_checks(names: Collection[str]) -> list[_Odd]:
    """The checks that apply to a frame whose columns (among those a function reads) are
    ``names``."""
    checks = []
    for name in NON_NEGATIVE:
        if name in names:
            # Physical: a Duration compares with 0 as its integer. NaN is not below 0.
            negative = pl.col(name).to_physical() < 0
            checks.append(_Odd(name, negative, pl.when(~negative).then(pl.col(name))))
    if "cost" in names:
        charged = pl.col("cost") < 0
        checks.append(_Odd("cost", charged, pl.col("cost").abs()))
    if "created_at" in names and "deleted_at" in names:
        # A recording cannot be removed before it exists (epoch zero as "no date", a clock
        # reset): removed at creation, as one deleted with no time given is.
        early = pl.col("deleted_at") < pl.col("created_at")
        taken = pl.when(early).then(pl.col("created_at")).otherwise(pl.col("deleted_at"))
        checks.append(_Odd("deleted_at", early, taken))
    return checks


def odd_values_note(counts: Sequence[tuple[str, int]]) -> str | None:
    """What :func:`conform_values` says about the odd values it found: ``counts`` holds each
    checked column and how many of its values were taken otherwise.

    Examples
    --------
    >>> odd_values_note([("size_bytes", 3), ("duration", 1), ("deleted_at", 2)])
    'negative values are taken as unknown (null), as the loaders take them: size_bytes in 3 recordings, duration in 1 recording; deleted_at is earlier than created_at in 2 recordings: taken as deleted when created'
    """
    negative = [(n, count) for n, count in counts if count and n not in ("deleted_at", "cost")]
    early = sum(count for name, count in counts if name == "deleted_at")
    charged = sum(count for name, count in counts if name == "cost")
    parts = []
    if negative:
        listed = ", ".join(f"{name} in {counted(count)}" for name, count in negative)
        parts.append(
            f"negative values are taken as unknown (null), as the loaders take them: {listed}"
        )
    if charged:
        parts.append(
            f"a negative cost in {counted(charged)} is taken as the charge it is (its "
            "absolute value), as the loaders read prices"
        )
    if early:
        parts.append(
            f"deleted_at is earlier than created_at in {counted(early)}: taken as deleted when "
            "created"
        )
    return "; ".join(parts) or None


_TAKEN: Final = "__recanalytics_taken"


def conform_values(lazy: pl.LazyFrame, columns: Collection[str], *, now: bool) -> pl.LazyFrame:
    """Take the values a recording cannot have as the loaders take them, with a ``LoadWarning``
    counting them: a negative size, duration, bitrate or channel count (the columns of
    :data:`NON_NEGATIVE`) is unknown (null), a negative cost is its absolute value (a charge),
    and a ``deleted_at`` earlier than ``created_at`` is taken as ``created_at`` (removed when
    created). Only ``columns`` (those the caller
    reads) are checked, after :func:`conform_dtypes`.

    With ``now`` the values are counted at once (one pass over those columns) and the warning
    given here; otherwise the count runs inside the query, so a LazyFrame stays lazy and the
    warning comes the first time it is collected.
    """
    schema = lazy.collect_schema()
    checks = _odd_checks(set(columns) & set(schema.names()))
    if not checks:
        return lazy
    if now:
        counts = lazy.select(
            check.flag.sum().alias(f"_{i}") for i, check in enumerate(checks)
        ).collect()
        found = [(check, int(counts.item(0, i) or 0)) for i, check in enumerate(checks)]
        note = odd_values_note([(check.column, count) for check, count in found])
        if note is None:
            return lazy
        warn_user(note)
        return lazy.with_columns(check.taken.alias(check.column) for check, count in found if count)
    names = [check.column for check in checks]
    said: list[str] = []

    def taken(batch: pl.Series) -> pl.Series:
        fields = batch.struct.unnest()
        note = odd_values_note(
            [(name, int(fields.get_column(f"_{i}").sum())) for i, name in enumerate(names)]
        )
        # Once a query: one whose branches each read the frame (trend's volume and storage)
        # runs this for each.
        if note is not None and note not in said:
            said.append(note)
            warn_user(note)
        return fields.select(names).to_struct(_TAKEN)

    packed = pl.struct(
        *(check.taken.alias(check.column) for check in checks),
        *(check.flag.alias(f"_{i}") for i, check in enumerate(checks)),
    )
    dtype = pl.Struct({name: schema[name] for name in names})
    return (
        lazy.with_columns(packed.map_batches(taken, return_dtype=dtype).alias(_TAKEN))
        .with_columns(pl.col(_TAKEN).struct.field(name) for name in names)
        .drop(_TAKEN)
    )


def refuse_changed_numbers(frame: pl.DataFrame, parameter: str, schema: pl.Schema = SCHEMA) -> None:
    """Raise a ConfigError naming the first number column whose values a cast to ``schema``'s
    type would change: a fraction, NaN or infinity for an integer column, or a value past its
    range (a strict cast truncates 8606866.7 to 8606866 without a word).

    Examples
    --------
    >>> refuse_changed_numbers(pl.DataFrame({"size_bytes": [1.0, 2.5]}), "frame")
    Traceback (most recent call last):
    ...
    recanalytics.errors.ConfigError: invalid frame (got 'size_bytes: 2.5'): expected a frame whose column size_bytes holds whole numbers that fit Int64 (a fraction would be stored changed)
    """
    for name, dtype in frame.schema.items():
        wanted = schema.get(name)
        if wanted is None or dtype == wanted or not dtype.is_numeric() or not wanted.is_integer():
            continue
        values = frame.get_column(name).drop_nulls()
        if dtype.is_decimal():
            values = values.cast(pl.Float64)
        if values.dtype.is_float():
            bad = values.filter(~values.is_finite())
            problem = "NaN or infinity has no whole number"
            if bad.is_empty():
                bad = values.filter(values != values.round(0))
                problem = "a fraction would be stored changed"
        else:
            bad = values.head(0)
        shown = bad[0] if not bad.is_empty() else _out_of_range(values, wanted)
        if shown is None:
            continue
        if bad.is_empty():
            problem = f"a value past {wanted}'s range does not fit it"
        raise ConfigError(
            parameter,
            f"a frame whose column {name} holds whole numbers that fit {wanted} ({problem})",
            f"{name}: {shown}",
        )


def refuse_negative_numbers(frame: pl.DataFrame, parameter: str) -> None:
    """Raise a ConfigError naming the first column of :data:`NON_NEGATIVE` that holds a
    negative value: where values are kept as given (a store), a negative size or duration
    would be stored as a fact, where every reader takes it as unknown.

    Examples
    --------
    >>> refuse_negative_numbers(pl.DataFrame({"size_bytes": [1, -5]}), "frame")
    Traceback (most recent call last):
    ...
    recanalytics.errors.ConfigError: invalid frame (got 'size_bytes: -5'): expected a frame whose column size_bytes holds no negative value (a negative size_bytes is unknown, as the loaders read it: null it first)
    """
    for name in (*NON_NEGATIVE, "cost"):
        dtype = frame.schema.get(name)
        if dtype is None or not (dtype.is_numeric() or isinstance(dtype, pl.Duration)):
            continue
        values = frame.get_column(name)
        negative = values.filter(values.to_physical() < 0)
        if not negative.is_empty():
            # A timedelta reads "-1 day, 23:59:57" for -3 s: the number and its unit instead.
            shown = (
                f"{negative.to_physical()[0]} {dtype.time_unit}"
                if isinstance(dtype, pl.Duration)
                else negative[0]
            )
            how = (
                "a charge, as the loaders read prices: store its absolute value"
                if name == "cost"
                else "unknown, as the loaders read it: null it first"
            )
            raise ConfigError(
                parameter,
                f"a frame whose column {name} holds no negative value (a negative {name} is {how})",
                f"{name}: {shown}",
            )


def _out_of_range(values: pl.Series, dtype: pl.DataType) -> Any:
    """A value of ``values`` outside ``dtype``'s range, or None."""
    low, high = int_bounds(dtype) or (0, -1)
    lowest, highest = values.min(), values.max()
    if lowest is not None and lowest < low:  # type: ignore[operator]
        return lowest
    if highest is not None and highest > high:  # type: ignore[operator]
        return highest
    return None


_CHECKED: ContextVar[bool] = ContextVar("recanalytics_values_checked", default=False)


@contextmanager
def values_checked() -> Iterator[None]:
    """Within it, :func:`checked_lazy` leaves values as they are: for a helper called on a frame
    that has been through :func:`conform_values` already (a chart's, trend's storage), which
    would only count nothing again, once per query."""
    token = _CHECKED.set(True)
    try:
        yield
    finally:
        _CHECKED.reset(token)


def checked_lazy(
    df: pl.DataFrame | pl.LazyFrame,
    columns: Sequence[str],
    *,
    by: Sequence[str] = (),
    by_parameter: str = "by",
    now: bool | None = None,
) -> pl.LazyFrame:
    """``df`` as a LazyFrame after checking its type, its ``by`` columns and ``columns``, with
    the values of ``columns`` a recording cannot have taken as the loaders take them (see
    :func:`conform_values`; counted ``now``, or by default now for a DataFrame and when
    collected for a LazyFrame)."""
    if not isinstance(df, pl.DataFrame | pl.LazyFrame):
        raise ConfigError("df", "a polars DataFrame or LazyFrame", type(df).__name__)
    lazy = df.lazy()
    require_columns(lazy, [*by, *columns], by=by, by_parameter=by_parameter)
    lazy = conform_dtypes(lazy)
    if _CHECKED.get():
        return lazy
    eager = isinstance(df, pl.DataFrame) if now is None else now
    return conform_values(lazy, columns, now=eager)


EVERY_FORM: Final = 'a positive polars interval such as "1d", "1w", "1mo", "1q" or "1y"'

MAX_PERIODS: Final = 200_000
"""The most periods ``trend`` and ``storage_growth`` lay out from the first to the last event.

Every period is a row for every group, zero-filled. 200 000 holds monthly periods across the
whole calendar (year 1 to 9999 is 119 988 months: a provider's default date next to real ones)
and daily ones across five centuries; a finer ``every`` over a long span ("1s" over a year is
31 million periods per group) would only exhaust memory. A chart shows far fewer."""

_INTERVAL_PART: Final = re.compile(r"([0-9]+)(ns|us|ms|mo|s|m|h|d|w|q|y)")
_MONTHS: Final = {"mo": 1, "q": 3, "y": 12}
_NANOSECONDS: Final = {
    "ns": 1,
    "us": 1_000,
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60_000_000_000,
    "h": 3_600_000_000_000,
    # A day is 24 hours here: periods are laid out in UTC, which has no daylight saving.
    "d": 86_400_000_000_000,
    "w": 604_800_000_000_000,
}


def _interval_parts(every: str) -> tuple[int, int] | None:
    """``every`` as (calendar months, fixed nanoseconds); None outside that grammar."""
    parts = _INTERVAL_PART.findall(every)
    if "".join(number + unit for number, unit in parts) != every:
        return None
    months = sum(int(number) * _MONTHS[unit] for number, unit in parts if unit in _MONTHS)
    fixed = sum(int(number) * _NANOSECONDS[unit] for number, unit in parts if unit in _NANOSECONDS)
    return months, fixed


def check_every(every: str) -> str:
    """Validate a polars interval string (``"1d"``, ``"1w"``, ``"1mo"``, ``"1q"``, ``"1y"``).

    A bad interval would otherwise only fail when a lazy query is collected, far from the call.
    """
    if not isinstance(every, str):  # polars would also take an expression, which is not counted
        raise ConfigError("every", EVERY_FORM, every)
    start = datetime(1970, 1, 1, tzinfo=UTC)
    try:
        # Truncating parses it; stepping from 1970 refuses "0d" and "" (no step, an endless
        # grid) and steps that leave polars' dates ("1000000y"), which failed only at collect.
        _, stepped = pl.select(
            pl.lit(start).dt.truncate(every).alias("truncated"),
            pl.lit(start).dt.offset_by(every).alias("stepped"),
        ).row(0)
    except (pl.exceptions.PolarsError, TypeError, ValueError, OverflowError) as exc:
        raise ConfigError("every", EVERY_FORM, every) from exc
    # An interval polars reads but period_count cannot (none known today) is refused rather
    # than let through uncounted.
    if not isinstance(stepped, datetime) or stepped <= start or _interval_parts(every) is None:
        raise ConfigError("every", EVERY_FORM, every)
    return every


def period_count(start: pl.Expr, end: pl.Expr, every: str) -> pl.Expr:
    """How many periods ``pl.datetime_ranges(start, end, every)`` makes, without making them.

    ``start`` and ``end`` are period starts (datetimes truncated to ``every``). The count
    (Int128) is exact for calendar intervals ("1mo", "1q", "1y") and fixed ones ("1s", "1d",
    "1w"), over any span from year 1 to 9999; one mixing both (which polars does not truncate
    to today) is counted with 28-day months, so it may only overstate.
    """
    parts = _interval_parts(every)
    if parts is None:
        raise ConfigError("every", EVERY_FORM, every)
    months, fixed = parts
    if months and not fixed:

        def month_index(moment: pl.Expr) -> pl.Expr:
            return moment.dt.year().cast(pl.Int128) * 12 + moment.dt.month().cast(pl.Int128)

        steps = (month_index(end) - month_index(start)) // months
    else:
        step = months * 28 * _NANOSECONDS["d"] + fixed
        # Int128: nanoseconds from year 1 to 9999 (3e20) do not fit Int64.
        steps = (end - start).dt.total_microseconds().cast(pl.Int128) * 1_000 // step
    return (steps + 1).alias("periods")


# Intervals a refused ``every`` is pointed to, shortest first.
_LONGER_INTERVALS: Final = ("1m", "1h", "1d", "1w", "1mo", "1q", "1y")


def longer_every(every: str, periods: int, limit: int) -> str:
    """The shortest of a few usual intervals giving at most ``limit`` periods over the span
    that ``every`` cut into ``periods`` (months counted as 31 days, so it errs long)."""
    parts = _interval_parts(every) or (0, 0)
    month = 31 * _NANOSECONDS["d"]
    span = periods * (parts[0] * month + parts[1])
    for candidate in _LONGER_INTERVALS:
        months, fixed = _interval_parts(candidate) or (0, 0)
        if span // (months * month + fixed) + 1 <= limit:
            return candidate
    return _LONGER_INTERVALS[-1]


def period_start_unit(every: str) -> str:
    """The finest unit a period start of ``every`` is written to: ``"day"`` for whole days and
    calendar intervals (they start at UTC midnight), ``"minute"`` for "1h" or "90m",
    ``"second"`` below a minute.

    Examples
    --------
    >>> from recanalytics.helpers._common import period_start_unit
    >>> [period_start_unit(e) for e in ("1mo", "1w", "1d12h", "30s")]
    ['day', 'day', 'minute', 'second']
    """
    _, fixed = _interval_parts(every) or (0, 0)
    if fixed % _NANOSECONDS["d"] == 0:
        return "day"
    return "minute" if fixed % _NANOSECONDS["m"] == 0 else "second"


def within_period_limit(
    start: pl.Expr, end: pl.Expr, every: str, *, limit: int = MAX_PERIODS
) -> pl.Expr:
    """A filter that keeps every row, or raises ConfigError naming ``every`` when collected.

    It raises when a row's grid from ``start`` to ``end`` (see :func:`period_count`) would hold
    more than ``limit`` periods. The check runs inside the query, so a LazyFrame stays lazy until
    it is collected; polars passes the exception through unchanged.
    """

    def check(counts: pl.Series) -> pl.Series:
        largest = counts.max()
        if isinstance(largest, int) and largest > limit:
            raise ConfigError(
                "every",
                f"a period length giving at most {limit:,} periods from the first to the last "
                f"event (this one gives {largest:,})",
                every,
                hint=f'pass a longer interval, such as every="{longer_every(every, largest, limit)}"',
            )
        return pl.Series(counts.name, [True] * counts.len(), dtype=pl.Boolean)

    return period_count(start, end, every).map_batches(check, return_dtype=pl.Boolean)


MICROS_FIT_MS: Final = (2**63 - 1) // 1000
"""The longest duration, in milliseconds, whose microseconds fit Int64 (about 292,000 years)."""


def duration_parts(duration: pl.Expr) -> tuple[pl.Expr, pl.Expr, pl.Expr]:
    """A Duration expression of any unit as (microseconds, milliseconds, fits): Int64
    microseconds, null where they do not fit Int64; Int64 milliseconds, which always fit; and
    whether the microseconds are given.

    ``total_microseconds`` multiplies a millisecond column by 1000 in Int64, which wraps past
    292,000 years (2**62 ms read as 0 s). Only a millisecond column reaches that far, and it has
    no part below a millisecond to lose, so its milliseconds say all there is.
    """
    millis = duration.dt.total_milliseconds()
    fits = millis.is_between(-MICROS_FIT_MS, MICROS_FIT_MS)
    return pl.when(fits).then(duration.dt.total_microseconds()), millis, fits


def duration_micros(duration: pl.Expr) -> pl.Expr:
    """Microseconds of a Duration expression (any unit, any length) as Float64, never wrapped
    around (see :func:`duration_parts`)."""
    micros, millis, fits = duration_parts(duration)
    return pl.when(fits).then(micros.cast(pl.Float64)).otherwise(millis.cast(pl.Float64) * 1000)


def int64_sum(expr: pl.Expr) -> pl.Expr:
    """Sum of an integer expression as Int64, null where the true total does not fit Int64.

    polars sums Int64 in Int64 and wraps around: 2**63 - 1 plus 2 * 2**62 bytes read -1.
    Summing in Int128 and casting back turns a total past Int64 into null (unknown) instead.
    """
    return expr.cast(pl.Int128).sum().cast(pl.Int64, strict=False)


def finish(original: FrameT, result: pl.LazyFrame) -> FrameT:
    """Return ``result`` in the flavour of ``original``: eager in, eager out; lazy stays lazy."""
    if isinstance(original, pl.DataFrame):
        return result.collect()
    return result
