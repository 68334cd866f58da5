"""What counts as no value: null, or text that is empty or whitespace only.

Providers send ``""`` for an id or a name they do not have as well as null (Plivo's
``conference_name``, a ``sid`` of ``""``). An id of ``""`` is no id: the loaders (paging,
de-duplication, the unified ``recording_id``), the store, media downloads and the archive all
read ids through :func:`is_blank` and :func:`present`, so three recordings sent with ``""`` stay
three rows, as three sent with null do, and never share a stored row or a file.
"""

from __future__ import annotations

from typing import Final

import polars as pl

BLANK: Final = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
    "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
"""Every character Python counts as whitespace (``str.isspace``), for Python and polars alike."""


def is_blank(value: object) -> bool:
    """Whether ``value`` is no value: None, or a string of whitespace only.

    Examples
    --------
    >>> is_blank(""), is_blank(" \\t"), is_blank(None), is_blank("RT01"), is_blank(0)
    (True, True, True, False, False)
    """
    return value is None or (isinstance(value, str) and not value.strip(BLANK))


def present(column: str | pl.Expr) -> pl.Expr:
    """``column`` (text) with blank values null: what :func:`is_blank` says of each value.

    Examples
    --------
    >>> frame = pl.DataFrame({"sid": ["RT01", "", " ", None]})
    >>> frame.select(present("sid")).to_series().to_list()
    ['RT01', None, None, None]
    """
    value = pl.col(column) if isinstance(column, str) else column
    return pl.when(value.str.strip_chars(BLANK) != "").then(value)


def any_blank(values: list[object]) -> bool:
    """Whether any of ``values`` :func:`is_blank`, without a Python call per value where they
    are all text (a page's ids: the pager asks this of every page).

    Examples
    --------
    >>> any_blank(["RT01", "RT02"]), any_blank(["RT01", " "]), any_blank([None]), any_blank([7])
    (False, True, True, False)
    """
    if None in values or "" in values:
        return True
    try:
        return any(map(str.isspace, values))  # type: ignore[arg-type]
    except TypeError:  # an id sent as a number or an object
        return any(map(is_blank, values))
