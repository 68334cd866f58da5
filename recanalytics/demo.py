"""``demo()``: the sandbox dataset through the real loaders, no credentials needed."""

from __future__ import annotations

from typing import Any

import polars as pl

from recanalytics import validate
from recanalytics.errors import ConfigError
from recanalytics.incremental import load
from recanalytics.sandbox import Sandbox


def demo(*, size: int = 2000, seed: int = 7, **options: Any) -> pl.DataFrame:
    """Load every endpoint of an in-process sandbox into the unified frame.

    The data is synthetic and deterministic (same ``seed`` and ``size``, same frame), and it
    travels the same path as real data: HTTP requests, paging, retries, parsing.

    Parameters
    ----------
    size : int, default 2000
        Number of Twilio track recordings; the other endpoints scale with it.
    seed : int, default 7
    **options
        Passed to :func:`recanalytics.load` (e.g. ``progress=True``).

    Examples
    --------
    >>> import recanalytics as ra
    >>> df = ra.demo(size=300)
    >>> sorted(df["provider"].unique().cast(str).to_list())  # doctest: +SKIP
    ['plivo', 'signalwire', 'twilio', 'zoom']
    """
    for own in ("credentials", "base_url", "transport", "since", "until", "providers"):
        if own in options:
            raise ConfigError(
                own,
                "not given to demo() (it loads its own sandbox: every provider, the whole "
                "dataset; filter the frame it returns instead)",
                type(options[own]).__name__,
            )
    validate.int_range(size, "size", 1, 1_000_000)
    validate.int_range(seed, "seed", 0, 2**63 - 1)  # the sandbox seeds a 64-bit generator
    box = Sandbox(seed=seed, size=size)
    start, end = box.config.start, box.config.end
    return load(list(box.emulators), since=start, until=end, **box.load_options(), **options)
