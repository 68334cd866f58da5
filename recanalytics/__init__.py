"""recanalytics: recordings from many communications providers in one polars frame.

Examples
--------
>>> import recanalytics as ra
>>> df = ra.demo()                      # the sandbox dataset, through the real loaders
>>> sorted(df.columns) == sorted(ra.SCHEMA.names())
True
"""

from __future__ import annotations

from recanalytics import charts
from recanalytics.archive import aarchive_twilio, archive_twilio
from recanalytics.charts import save_chart
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
from recanalytics.media import adownload_media, download_media
from recanalytics.options import LoadOptions
from recanalytics.probe import probe_media
from recanalytics.providers.plivo import (
    aget_plivo_recording,
    aload_plivo_recordings,
    get_plivo_recording,
    load_plivo_recordings,
)
from recanalytics.providers.signalwire import (
    aget_signalwire_recording,
    aload_signalwire_recordings,
    get_signalwire_recording,
    load_signalwire_recordings,
)
from recanalytics.providers.twilio import (
    aget_twilio_recording,
    aload_twilio_recordings,
    get_twilio_recording,
    load_twilio_recordings,
)
from recanalytics.providers.twilio_compositions import (
    aget_twilio_composition,
    aload_twilio_compositions,
    get_twilio_composition,
    load_twilio_compositions,
)
from recanalytics.providers.zoom import (
    aget_zoom_session_recordings,
    aload_zoom_recordings,
    get_zoom_session_recordings,
    load_zoom_recordings,
)
from recanalytics.report import report, report_html
from recanalytics.schema import COLUMNS, KINDS, PROVIDERS, SCHEMA, empty_frame
from recanalytics.store import RefreshReport, Store, UpsertReport
from recanalytics.sync import run_sync
from recanalytics.verify import MediaVerification, fill_from_media, verify_media
from recanalytics.widgets import Explorer, FilterPanel, explore

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
    "Explorer",
    "FilterPanel",
    "LoadOptions",
    "LoadResult",
    "LoadWarning",
    "MediaVerification",
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
    "aarchive_twilio",
    "adownload_media",
    "aget_plivo_recording",
    "aget_signalwire_recording",
    "aget_twilio_composition",
    "aget_twilio_recording",
    "aget_zoom_session_recordings",
    "aload",
    "aload_plivo_recordings",
    "aload_signalwire_recordings",
    "aload_twilio_compositions",
    "aload_twilio_recordings",
    "aload_with_status",
    "aload_zoom_recordings",
    "archive_twilio",
    "billed_minutes",
    "bucket_labels",
    "charts",
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
    "download_media",
    "duration_bucket",
    "duration_hours",
    "duration_human",
    "duration_minutes",
    "duration_percentiles",
    "duration_seconds",
    "empty_frame",
    "estimate_bitrate",
    "explore",
    "fill_bitrate",
    "fill_from_media",
    "get_plivo_recording",
    "get_signalwire_recording",
    "get_twilio_composition",
    "get_twilio_recording",
    "get_zoom_session_recordings",
    "load",
    "load_plivo_recordings",
    "load_signalwire_recordings",
    "load_twilio_compositions",
    "load_twilio_recordings",
    "load_with_status",
    "load_zoom_recordings",
    "monthly_storage_cost",
    "normalize_codec",
    "normalize_container",
    "parse_size",
    "probe_media",
    "report",
    "report_html",
    "run_sync",
    "save_chart",
    "size_human",
    "storage_growth",
    "storage_rates",
    "summarize",
    "trend",
    "verify_media",
]
