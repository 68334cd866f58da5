"""Frames as CSV for spreadsheets: durations as seconds, enums as text, no text read as a formula.

A track, room or session name is chosen by whoever joins a call (a client SDK sets it), and
Excel, LibreOffice and Google Sheets run a cell that starts like a formula
(``=HYPERLINK(...)``, ``+1+cmd|...``, ``@SUM(...)``) when the CSV is opened. Every CSV the
package writes (an archive's ``recordings.csv`` and ``media.csv``, the explorer's export) goes
through :func:`write_spreadsheet_csv`; parquet files keep the exact values.
"""

from __future__ import annotations

from pathlib import Path

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

    Durations become seconds (a ``duration`` column becomes ``duration_s``, Float64, in its
    place), enums and
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
    schema = frame.schema
    # A duration's seconds replace a column already named so (a user's own duration_s beside
    # duration): two columns of one name cannot be written.
    replaced = {f"{name}_s" for name, dtype in schema.items() if dtype == pl.Duration}
    return frame.select(
        _cell(name, dtype) for name, dtype in schema.items() if name not in replaced
    )


def _cell(name: str, dtype: pl.DataType) -> pl.Expr:
    """Column ``name`` as :func:`spreadsheet_ready` writes it, in its place among the others."""
    column = pl.col(name)
    if dtype == pl.Duration:
        # Microseconds that never wrap (10**16 ms read as -8.4e12 s through
        # total_microseconds), rounded: a division polars may make a multiplication by 0.001
        # wrote 237081 ms as 237.08100000000002 s.
        return (duration_micros(column) / 1_000_000).round(6).alias(f"{name}_s")
    if isinstance(dtype, pl.Enum | pl.Categorical):
        column = column.cast(pl.String)
    elif dtype != pl.String:
        return column
    return formula_safe(column).alias(name)


def write_spreadsheet_csv(frame: pl.DataFrame, target: str | Path) -> None:
    """Write ``frame`` as :func:`spreadsheet_ready` holds it to the CSV file ``target``, UTF-8
    with a byte order mark: Excel reads a CSV without one in the system's legacy code page
    ("CafÃ©"); LibreOffice, Google Sheets, polars and pandas read the mark as what it is.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "names.csv"
    >>> write_spreadsheet_csv(pl.DataFrame({"name": ["Café", "=1+1"]}), path)
    >>> path.read_bytes()
    b"\\xef\\xbb\\xbfname\\nCaf\\xc3\\xa9\\n'=1+1\\n"
    >>> pl.read_csv(path)["name"].to_list()
    ['Café', "'=1+1"]
    """
    spreadsheet_ready(frame).write_csv(target, include_bom=True)
