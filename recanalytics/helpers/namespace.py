"""The ``rec`` namespace on polars expressions, DataFrames and LazyFrames.

Registered when ``recanalytics.helpers`` (or ``recanalytics``) is imported::

    pl.col("duration").rec.human()
    pl.col("size_bytes").rec.human_size(units="si")
    df.rec.summarize(by="provider")
    lf.rec.trend(every="1q")          # stays lazy

Every method delegates to the module-level helper of the same meaning; see their docstrings.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import timedelta
from typing import Generic

import polars as pl

from recanalytics.helpers import codecs, cost, durations, sizes, summary
from recanalytics.helpers._common import By, FrameT
from recanalytics.helpers.cost import StorageRate
from recanalytics.helpers.sizes import Units

__all__ = ["RecExprNamespace", "RecFrameNamespace"]

Rates = Mapping[str, float | StorageRate] | None


@pl.api.register_expr_namespace("rec")
class RecExprNamespace:
    """``expr.rec``: duration, size and codec helpers as expression methods.

    Examples
    --------
    >>> import polars as pl
    >>> from datetime import timedelta
    >>> import recanalytics.helpers
    >>> pl.DataFrame({"duration": [timedelta(minutes=62)]}).select(
    ...     pl.col("duration").rec.human()
    ... ).item()
    '1 h 02 min'
    """

    def __init__(self, expr: pl.Expr) -> None:
        self._expr = expr

    # durations
    def human(self) -> pl.Expr:
        """Human duration text, see ``duration_human``."""
        return durations.duration_human(self._expr)

    def seconds(self) -> pl.Expr:
        """Duration in seconds, see ``duration_seconds``."""
        return durations.duration_seconds(self._expr)

    def minutes(self) -> pl.Expr:
        """Duration in minutes, see ``duration_minutes``."""
        return durations.duration_minutes(self._expr)

    def hours(self) -> pl.Expr:
        """Duration in hours, see ``duration_hours``."""
        return durations.duration_hours(self._expr)

    def billed_minutes(self) -> pl.Expr:
        """Started minutes, see ``billed_minutes``."""
        return durations.billed_minutes(self._expr)

    def bucket(
        self,
        *,
        edges: Sequence[timedelta | float] = durations.DEFAULT_BUCKET_EDGES,
        labels: Sequence[str] | None = None,
    ) -> pl.Expr:
        """Ordered duration buckets, see ``duration_bucket``."""
        return durations.duration_bucket(self._expr, edges=edges, labels=labels)

    # sizes
    def human_size(self, *, units: Units = "iec", decimals: int = 1) -> pl.Expr:
        """Human byte count, see ``size_human``."""
        return sizes.size_human(self._expr, units=units, decimals=decimals)

    # codecs and containers
    def codec(self) -> pl.Expr:
        """Normalised codec, see ``codec_normalized``."""
        return codecs.codec_normalized(self._expr)

    def codec_known(self) -> pl.Expr:
        """Whether the codec is in the table, see ``codec_known``."""
        return codecs.codec_known(self._expr)

    def codec_media_type(self) -> pl.Expr:
        """audio / video / text, see ``codec_media_type``."""
        return codecs.codec_media_type(self._expr)

    def codec_family(self) -> pl.Expr:
        """speech / music / video / text, see ``codec_family``."""
        return codecs.codec_family(self._expr)

    def codec_lossy(self) -> pl.Expr:
        """Whether the codec is lossy, see ``codec_lossy``."""
        return codecs.codec_lossy(self._expr)

    def codec_typical_kbps(self) -> pl.Expr:
        """Typical bitrate, see ``codec_typical_kbps``."""
        return codecs.codec_typical_kbps(self._expr)

    def container(self) -> pl.Expr:
        """Normalised container, see ``container_normalized``."""
        return codecs.container_normalized(self._expr)

    def container_known(self) -> pl.Expr:
        """Whether the container is in the table, see ``container_known``."""
        return codecs.container_known(self._expr)

    def mime_type(self) -> pl.Expr:
        """Container MIME type, see ``container_mime_type``."""
        return codecs.container_mime_type(self._expr)

    def extension(self) -> pl.Expr:
        """Container file extension, see ``container_extension``."""
        return codecs.container_extension(self._expr)


class RecFrameNamespace(Generic[FrameT]):
    """``df.rec`` / ``lf.rec``: summary tables; a LazyFrame stays lazy.

    Examples
    --------
    >>> import recanalytics as ra
    >>> ra.empty_frame().rec.summarize()["count"].item()
    0
    """

    def __init__(self, frame: FrameT) -> None:
        self._frame: FrameT = frame

    def summarize(
        self,
        by: By = None,
        *,
        rates: Rates = None,
        failed: Collection[str] = summary.FAILED_STATUSES,
    ) -> FrameT:
        """See ``summarize``."""
        return summary.summarize(self._frame, by, rates=rates, failed=failed)

    def trend(self, every: str = "1mo", *, by: By = None) -> FrameT:
        """See ``trend``."""
        return summary.trend(self._frame, every, by=by)

    def storage_growth(self, every: str = "1mo", *, by: By = None) -> FrameT:
        """See ``storage_growth``."""
        return sizes.storage_growth(self._frame, every, by=by)

    def duration_percentiles(
        self,
        by: By = None,
        *,
        column: str = "duration",
        quantiles: Sequence[float] = (0.5, 0.9, 0.95, 0.99),
    ) -> FrameT:
        """See ``duration_percentiles``."""
        return durations.duration_percentiles(self._frame, by, column=column, quantiles=quantiles)

    def cost_summary(self, by: By = "provider", *, rates: Rates = None) -> FrameT:
        """See ``cost_summary``."""
        return cost.cost_summary(self._frame, by, rates=rates)


pl.api.register_dataframe_namespace("rec")(RecFrameNamespace)
pl.api.register_lazyframe_namespace("rec")(RecFrameNamespace)
