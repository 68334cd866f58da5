"""recanalytics: recordings from many communications providers in one polars frame.

Examples
--------
>>> import recanalytics as ra
>>> df = ra.demo()                      # the sandbox dataset, through the real loaders
>>> sorted(df.columns) == sorted(ra.SCHEMA.names())
True
"""

from __future__ import annotations

from recanalytics.credentials import (
    Credentials,
    PlivoCredentials,
    SignalWireCredentials,
    TwilioCredentials,
    ZoomCredentials,
)
from recanalytics.demo import demo
from recanalytics.engine import RetryPolicy

# --- foundation ---
from recanalytics.errors import (
    AuthError,
    ConfigError,
    CredentialsError,
    LoadWarning,
    NotFoundError,
    PaginationError,
    ProviderError,
    RateLimitError,
    RecanalyticsError,
    TransportError,
)
from recanalytics.load import (
    LoadResult,
    ProviderStatus,
    aload,
    aload_with_status,
    load,
    load_with_status,
)
from recanalytics.options import LoadOptions
from recanalytics.providers.twilio import (
    aget_twilio_recording,
    aload_twilio_recordings,
    get_twilio_recording,
    load_twilio_recordings,
)
from recanalytics.schema import COLUMNS, KINDS, PROVIDERS, SCHEMA, empty_frame
from recanalytics.store import RefreshReport, Store, UpsertReport
from recanalytics.sync import run_sync

# --- helpers (issue 4) ---
# isort: split
from recanalytics.helpers import (
    CODECS,
    CONTAINERS,
    DEFAULT_BUCKET_EDGES,
    FAILED_STATUSES,
    STORAGE_RATES,
    CodecInfo,
    ContainerInfo,
    StorageRate,
    billed_minutes,
    bucket_labels,
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
    cost_summary,
    duration_bucket,
    duration_hours,
    duration_human,
    duration_minutes,
    duration_percentiles,
    duration_seconds,
    estimate_bitrate,
    fill_bitrate,
    monthly_storage_cost,
    normalize_codec,
    normalize_container,
    parse_size,
    size_human,
    storage_growth,
    storage_rates,
    summarize,
    trend,
)

# --- end helpers ---

__version__ = "0.1.0"

__all__ = [
    "CODECS",
    "COLUMNS",
    "CONTAINERS",
    "DEFAULT_BUCKET_EDGES",
    "FAILED_STATUSES",
    "KINDS",
    "PROVIDERS",
    "SCHEMA",
    "STORAGE_RATES",
    "AuthError",
    "CodecInfo",
    "ConfigError",
    "ContainerInfo",
    "Credentials",
    "CredentialsError",
    "LoadOptions",
    "LoadResult",
    "LoadWarning",
    "NotFoundError",
    "PaginationError",
    "PlivoCredentials",
    "ProviderError",
    "ProviderStatus",
    "RateLimitError",
    "RecanalyticsError",
    "RefreshReport",
    "RetryPolicy",
    "SignalWireCredentials",
    "StorageRate",
    "Store",
    "TransportError",
    "TwilioCredentials",
    "UpsertReport",
    "ZoomCredentials",
    "aget_twilio_recording",
    "aload",
    "aload_twilio_recordings",
    "aload_with_status",
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
    "cost_summary",
    "demo",
    "duration_bucket",
    "duration_hours",
    "duration_human",
    "duration_minutes",
    "duration_percentiles",
    "duration_seconds",
    "empty_frame",
    "estimate_bitrate",
    "fill_bitrate",
    "get_twilio_recording",
    "load",
    "load_twilio_recordings",
    "load_with_status",
    "monthly_storage_cost",
    "normalize_codec",
    "normalize_container",
    "parse_size",
    "run_sync",
    "size_human",
    "storage_growth",
    "storage_rates",
    "summarize",
    "trend",
]
