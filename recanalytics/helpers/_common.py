"""Plumbing shared by the helper modules: column arguments, frame in/out, validation."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TypeAlias, TypeVar

import polars as pl

from recanalytics.errors import ConfigError
from recanalytics.schema import SCHEMA

ColumnLike: TypeAlias = str | pl.Expr
"""A column name or any polars expression."""

FrameT = TypeVar("FrameT", pl.DataFrame, pl.LazyFrame)

By: TypeAlias = str | Sequence[str] | None


def to_expr(column: ColumnLike, parameter: str = "column") -> pl.Expr:
    """A column name becomes ``pl.col(name)``; an expression is used as given."""
    if isinstance(column, pl.Expr):
        return column
    if not isinstance(column, str) or not column:
        raise ConfigError(
            parameter, "a column name (a non-empty str) or a polars expression", column
        )
    return pl.col(column)


def by_list(by: By) -> list[str]:
    """Normalise a ``by=`` argument to a list of column names."""
    if by is None:
        return []
    if isinstance(by, str):
        return [by]
    form = "a column name, a sequence of column names, or None"
    if not isinstance(by, Sequence):
        raise ConfigError("by", form, by)
    names = list(by)
    if not all(isinstance(name, str) for name in names):
        raise ConfigError("by", form, by)
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


def conform_dtypes(lazy: pl.LazyFrame, *, parameter: str = "df") -> pl.LazyFrame:
    """Check every unified column the frame has against :data:`recanalytics.SCHEMA`.

    A column of the right kind passes as it is (String for an Enum, Float64 for Int64, any
    datetime unit; datetimes are put in UTC); an all-null column without a type (``pl.lit(None)``) takes the
    schema's type; any other kind (a date, text sizes) is a ConfigError naming the column, not a
    polars error from deep inside a query.
    """
    casts: list[pl.Expr] = []
    for name, dtype in lazy.collect_schema().items():
        wanted = SCHEMA.get(name)
        if wanted is None:
            continue
        if dtype == pl.Null:
            casts.append(pl.col(name).cast(wanted))
        elif isinstance(dtype, pl.Datetime) and dtype.time_zone != "UTC":
            # Naive means UTC (as for since/until); another zone is the same instant in UTC.
            # Mixed zones (created_at naive, deleted_at UTC) have no common type in a query.
            column = pl.col(name)
            casts.append(
                column.dt.replace_time_zone("UTC")
                if dtype.time_zone is None
                else column.dt.convert_time_zone("UTC")
            )
        elif _family(dtype) != _family(wanted):
            raise ConfigError(
                parameter,
                f"a frame whose column {name} holds {_family(wanted)} values ({wanted})",
                f"{name}: {dtype}",
                hint="pass the unified frame returned by the loaders (see recanalytics.SCHEMA)",
            )
    return lazy.with_columns(casts) if casts else lazy


def checked_lazy(
    df: pl.DataFrame | pl.LazyFrame,
    columns: Sequence[str],
    *,
    by: Sequence[str] = (),
    by_parameter: str = "by",
) -> pl.LazyFrame:
    """``df`` as a LazyFrame after checking its type, its ``by`` columns and ``columns``."""
    if not isinstance(df, pl.DataFrame | pl.LazyFrame):
        raise ConfigError("df", "a polars DataFrame or LazyFrame", type(df).__name__)
    lazy = df.lazy()
    require_columns(lazy, [*by, *columns], by=by, by_parameter=by_parameter)
    return conform_dtypes(lazy)


def check_every(every: str) -> str:
    """Validate a polars interval string (``"1d"``, ``"1w"``, ``"1mo"``, ``"1q"``, ``"1y"``).

    A bad interval would otherwise only fail when a lazy query is collected, far from the call.
    """
    form = 'a positive polars interval such as "1d", "1w", "1mo", "1q" or "1y"'
    start = datetime(1970, 1, 1, tzinfo=UTC)
    try:
        # Truncating parses it; stepping from 1970 refuses "0d" and "" (no step, an endless
        # grid) and steps that leave polars' dates ("1000000y"), which failed only at collect.
        _, stepped = pl.select(
            pl.lit(start).dt.truncate(every).alias("truncated"),
            pl.lit(start).dt.offset_by(every).alias("stepped"),
        ).row(0)
    except (pl.exceptions.PolarsError, TypeError, ValueError, OverflowError) as exc:
        raise ConfigError("every", form, every) from exc
    if not isinstance(stepped, datetime) or stepped <= start:
        raise ConfigError("every", form, every)
    return every


def finish(original: FrameT, result: pl.LazyFrame) -> FrameT:
    """Return ``result`` in the flavour of ``original``: eager in, eager out; lazy stays lazy."""
    if isinstance(original, pl.DataFrame):
        return result.collect()
    return result
