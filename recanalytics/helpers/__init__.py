"""Helpers for the unified recordings frame: durations, sizes, codecs, cost and summaries.

Expression helpers take a column name or a polars expression and return an expression usable in
``select``, ``with_columns``, ``group_by().agg()`` and lazy queries. Frame helpers take a
DataFrame or LazyFrame and return the same flavour, never mutating the input. Importing this
package registers the ``rec`` namespace on expressions, DataFrames and LazyFrames.
"""

from __future__ import annotations

from recanalytics.helpers import namespace as _namespace  # registers the `rec` namespace
from recanalytics.helpers.codecs import (
    CODECS,
    CONTAINERS,
    CodecInfo,
    ContainerInfo,
    codec_family,
    codec_info,
    codec_known,
    codec_lossy,
    codec_media_type,
    codec_normalized,
    codec_table,
    codec_typical_kbps,
    container_extension,
    container_info,
    container_known,
    container_media_type,
    container_mime_type,
    container_normalized,
    container_table,
    normalize_codec,
    normalize_container,
)
from recanalytics.helpers.cost import (
    COST_KIND_OF,
    STORAGE_RATES,
    StorageRate,
    cost_kind,
    cost_summary,
    monthly_storage_cost,
    storage_rates,
)
from recanalytics.helpers.durations import (
    DEFAULT_BUCKET_EDGES,
    billed_minutes,
    bucket_labels,
    duration_bucket,
    duration_hours,
    duration_human,
    duration_minutes,
    duration_percentiles,
    duration_seconds,
)
from recanalytics.helpers.sizes import (
    estimate_bitrate,
    fill_bitrate,
    parse_size,
    size_human,
    storage_growth,
)
from recanalytics.helpers.summary import FAILED_STATUSES, summarize, trend

del _namespace

__all__ = [
    "CODECS",
    "CONTAINERS",
    "COST_KIND_OF",
    "DEFAULT_BUCKET_EDGES",
    "FAILED_STATUSES",
    "STORAGE_RATES",
    "CodecInfo",
    "ContainerInfo",
    "StorageRate",
    "billed_minutes",
    "bucket_labels",
    "codec_family",
    "codec_info",
    "codec_known",
    "codec_lossy",
    "codec_media_type",
    "codec_normalized",
    "codec_table",
    "codec_typical_kbps",
    "container_extension",
    "container_info",
    "container_known",
    "container_media_type",
    "container_mime_type",
    "container_normalized",
    "container_table",
    "cost_kind",
    "cost_summary",
    "duration_bucket",
    "duration_hours",
    "duration_human",
    "duration_minutes",
    "duration_percentiles",
    "duration_seconds",
    "estimate_bitrate",
    "fill_bitrate",
    "monthly_storage_cost",
    "normalize_codec",
    "normalize_container",
    "parse_size",
    "size_human",
    "storage_growth",
    "storage_rates",
    "summarize",
    "trend",
]
