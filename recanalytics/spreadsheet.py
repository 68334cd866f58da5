"""Frames as CSV for spreadsheets: durations as seconds, enums as text, no text read as a formula.

A track, room or session name is chosen by whoever joins a call (a client SDK sets it), and
Excel, LibreOffice and Google Sheets run a cell that starts like a formula
(``=HYPERLINK(...)``, ``+1+cmd|...``, ``@SUM(...)``) when the CSV is opened. Every CSV the
package writes (an archive's ``recordings.csv`` and ``media.csv``, the explorer's export) goes
through :func:`spreadsheet_ready`; parquet files keep the exact values.
"""

from __future__ import annotations

import polars as pl

from recanalytics.helpers._common import duration_micros

QUOTE = "'"
"""What a formula-like text cell is prefixed with: spreadsheets read the cell as text and hide
the quote."""

# OWASP's CSV injection guidance: = + - @ TAB CR as the first character (ASVS 1.2.10 adds NUL);
# also LF, and = + - @ after leading white space (LibreOffice's import can trim it, and a
# spreadsheet then reads the formula).
FORMULA_START = r"^(?:[\t\r\n\x00]|\s*[=+\-@])"


def formula_safe(column: pl.Expr) -> pl.Expr:
    """``column`` (text) with every value a spreadsheet would read as a formula prefixed with
    :data:`QUOTE`; other values, and nulls, as they are.

    Examples
    --------
    >>> names = pl.Series(["=1+1", " @SUM(A1)", "-2", "room-1", None])
    >>> pl.select(formula_safe(pl.lit(names))).to_series().to_list()
    ["'=1+1", "' @SUM(A1)", "'-2", 'room-1', None]
    """
    return (
        pl.when(column.str.contains(FORMULA_START)).then(pl.lit(QUOTE) + column).otherwise(column)
    )


def spreadsheet_ready(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` as a CSV for spreadsheets should hold it.

    Durations become seconds (a ``duration`` column becomes ``duration_s``, Float64), enums and
    categoricals text, and every text value a spreadsheet would run as a formula (see
    :func:`formula_safe`) is prefixed with a single quote. Numbers, times and booleans are
    left as they are, so a negative number stays a number.

    Examples
    --------
    >>> import datetime as dt
    >>> frame = pl.DataFrame(
    ...     {"track_name": ["=HYPERLINK(\\"http://x\\")", "mic"], "cost": [-0.5, 1.0],
    ...      "duration": [dt.timedelta(seconds=90), None]}
    ... )
    >>> spreadsheet_ready(frame).rows()
    [('\\'=HYPERLINK("http://x")', -0.5, 90.0), ('mic', 1.0, None)]
    """
    durations = [name for name, dtype in frame.schema.items() if dtype == pl.Duration]
    frame = frame.with_columns(
        # Microseconds that never wrap (10**16 ms read as -8.4e12 s through
        # total_microseconds), rounded: a division polars may make a multiplication by 0.001
        # wrote 237081 ms as 237.08100000000002 s.
        [
            (duration_micros(pl.col(name)) / 1_000_000).round(6).alias(f"{name}_s")
            for name in durations
        ]
        + [pl.col(pl.Enum, pl.Categorical).cast(pl.String)]
    ).drop(durations)
    text = [name for name, dtype in frame.schema.items() if dtype == pl.String]
    return frame.with_columns(formula_safe(pl.col(name)).alias(name) for name in text)
