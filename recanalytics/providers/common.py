"""Pieces several provider modules share: time formats, window planning, unified expressions."""

from __future__ import annotations

import datetime as dt

import polars as pl

UTC_TIME = pl.Datetime("us", "UTC")


def ceil_second(moment: dt.datetime) -> dt.datetime:
    """The first whole second at or after ``moment`` (APIs that filter in whole seconds)."""
    whole = moment.replace(microsecond=0)
    return whole if whole == moment else whole + dt.timedelta(seconds=1)


def iso_z(moment: dt.datetime) -> str:
    """``YYYY-MM-DDThh:mm:ssZ`` in UTC."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def seconds_to_duration(seconds: pl.Expr) -> pl.Expr:
    """A number of seconds (int or float) as a Duration(ms)."""
    return (seconds.cast(pl.Float64) * 1000).round(0).cast(pl.Int64).cast(pl.Duration("ms"))


def bitrate_kbps(size_bytes: pl.Expr, duration: pl.Expr) -> pl.Expr:
    """size·8/duration in kbps; null when either is missing or the duration is zero."""
    seconds = duration.dt.total_milliseconds() / 1000
    return pl.when(seconds > 0).then(size_bytes.cast(pl.Float64) * 8 / seconds / 1000)


def in_range(moment: pl.Expr, since: dt.datetime | None, until: dt.datetime | None) -> pl.Expr:
    """Rows whose ``moment`` is in ``[since, until)``, or unknown (a row without a readable
    time cannot be placed, so it is kept rather than lost)."""
    inside = pl.lit(True)
    if since is not None:
        inside &= moment >= since
    if until is not None:
        inside &= moment < until
    return moment.is_null() | inside
