"""Numbers as the report, the CLI and the explorer show them: a value that is not zero never
reads as zero, and a total that leaves recordings out says how many.

Fixed decimals suit amounts of 1 and more (``3.1`` hours, ``$12.40``); below 1 they turned a
Plivo call of 0.0336 hours into ``0.0`` and $0.0012 into ``0.00``, so small values keep three
significant figures instead.
"""

from __future__ import annotations

import math
from typing import Final

import polars as pl

__all__ = ["known_total", "readable", "shown_round"]

SIGNIFICANT: Final = 3
"""Significant figures a value below 1 keeps."""


def shown_round(expr: pl.Expr, decimals: int) -> pl.Expr:
    """``expr`` rounded for a table that stays numeric: ``decimals`` decimals from 1 up, three
    significant figures below 1 (0.0336 stays 0.0336; 0.0012 stays 0.0012, never 0.0).

    Examples
    --------
    >>> import polars as pl
    >>> from recanalytics.helpers.shown import shown_round
    >>> pl.select(shown_round(pl.Series([0.033612, 2.25829e-5, 3.14159, 0.0]), 1)).to_series().to_list()
    [0.0336, 2.26e-05, 3.1, 0.0]
    """
    return (
        pl.when(expr.abs() < 1)
        .then(expr.round_sig_figs(SIGNIFICANT))
        .otherwise(expr.round(decimals))
    )


def readable(value: float, decimals: int, *, separators: bool = True) -> str:
    """``value`` as text with ``decimals`` decimals, or, below 1 and not zero, with three
    significant figures (trailing zeros past ``decimals`` dropped); never in exponent form.

    Examples
    --------
    >>> from recanalytics.helpers.shown import readable
    >>> readable(0.0336, 1), readable(0.0012, 2), readable(0.23, 2), readable(1234.5, 2)
    ('0.0336', '0.0012', '0.23', '1,234.50')
    >>> readable(0.0, 1), readable(2.25829e-5, 2)
    ('0.0', '0.0000226')
    """
    comma = "," if separators else ""
    if not math.isfinite(value) or value == 0 or abs(value) >= 1:
        return f"{value:{comma}.{decimals}f}"
    places = max(decimals, SIGNIFICANT - 1 - math.floor(math.log10(abs(value))))
    text = f"{value:.{places}f}"
    # 0.00120 → 0.0012, but never fewer than ``decimals`` places (0.50 stays 0.50 for money).
    keep = len(text) - (places - decimals)
    trimmed = text.rstrip("0")
    return trimmed if len(trimmed) >= keep else text[:keep]


def known_total(total: str, name: str, count: int, known: int, what: str, left_out: int = 0) -> str:
    """``total`` of the ``known`` of ``count`` recordings, saying how many it leaves out: an
    unknown size (Plivo, SignalWire), duration or price is not 0, so none known reads
    ``<name> n/a``, some unknown ``(N without <what>)``; those a filter took out of the
    selection (``left_out``) are said too.

    Examples
    --------
    >>> from recanalytics.helpers.shown import known_total
    >>> known_total("3.1 hours", "hours", 14, 13, "duration")
    '3.1 hours (1 without duration)'
    >>> known_total("0 B", "size", 2, 0, "size")
    'size n/a'
    """
    gone = f" ({left_out:,} without {what} left out)" if left_out else ""
    if known == count:
        return total + gone
    if known == 0:
        return f"{name} n/a"
    return f"{total} ({count - known:,} without {what})"
