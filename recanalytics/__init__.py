"""recanalytics: recordings from many communications providers in one polars frame.

The top level is the contract: the loaders and getters (each with an async twin), ``load``,
``demo``, ``SCHEMA``, the store, media, the report and the explorer, errors, credentials and
options, plus the most used helpers. Every helper is in :mod:`recanalytics.helpers` and on the
``rec`` namespace (``df.rec``, ``pl.col(...).rec``). Charts, the explorer, the report, notebooks,
media and the sandbox are imported on first use, so ``import recanalytics`` stays quick.

Examples
--------
>>> import recanalytics as ra
>>> df = ra.demo()                      # the sandbox dataset, through the real loaders
>>> sorted(df.columns) == sorted(ra.SCHEMA.names())
True
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

from recanalytics import helpers
from recanalytics.credentials import Credentials
from recanalytics.engine import RetryPolicy
from recanalytics.errors import (
    ArchiveWarning,
    AuthError,
    ConfigError,
    CredentialsError,
    IncompleteLoadError,
    LoadWarning,
    NotFoundError,
    PaginationError,
    ProviderError,
    RateLimitError,
    RecanalyticsError,
    StoreError,
    TransportError,
    UnfinishedArchiveError,
    UnknownOptionError,
)
from recanalytics.incremental import (
    Store,
    aload,
    aload_with_status,
    arefresh,
    load,
    load_with_status,
    refresh,
)
from recanalytics.load import LoadResult, ProviderStatus
from recanalytics.loaders import (
    aload_plivo_recordings,
    aload_signalwire_recordings,
    aload_twilio_compositions,
    aload_twilio_recordings,
    aload_zoom_recordings,
    load_plivo_recordings,
    load_signalwire_recordings,
    load_twilio_compositions,
    load_twilio_recordings,
    load_zoom_recordings,
)
from recanalytics.options import LoadOptions
from recanalytics.providers.plivo import PlivoCredentials, aget_plivo_recording, get_plivo_recording
from recanalytics.providers.signalwire import (
    SignalWireCredentials,
    aget_signalwire_recording,
    get_signalwire_recording,
)
from recanalytics.providers.twilio import (
    TwilioCredentials,
    aget_twilio_recording,
    get_twilio_recording,
)
from recanalytics.providers.twilio_compositions import (
    aget_twilio_composition,
    get_twilio_composition,
)
from recanalytics.providers.zoom import (
    ZoomCredentials,
    aget_zoom_session_recordings,
    get_zoom_session_recordings,
)
from recanalytics.schema import COLUMNS, KINDS, PROVIDERS, SCHEMA, empty_frame
from recanalytics.store import RefreshReport, UpsertReport
from recanalytics.sync import run_sync

# isort: split
# The most used helpers; importing recanalytics.helpers also registers the `rec` namespace.
from recanalytics.helpers import (
    FAILED_STATUSES,
    STORAGE_RATES,
    StorageRate,
    billed_minutes,
    cost_summary,
    duration_bucket,
    duration_hours,
    duration_minutes,
    duration_percentiles,
    fill_bitrate,
    monthly_storage_cost,
    normalize_codec,
    parse_size,
    size_human,
    storage_growth,
    summarize,
    trend,
)

if TYPE_CHECKING:
    from recanalytics import charts, notebooks, sandbox
    from recanalytics.archive import ArchiveContents, read_archive
    from recanalytics.charts import save_chart
    from recanalytics.demo import demo
    from recanalytics.media import adownload_media, download_media
    from recanalytics.probe import probe_media
    from recanalytics.providers.twilio_archive import aarchive_twilio, archive_twilio
    from recanalytics.report import report, report_html
    from recanalytics.verify import MediaVerification, fill_from_media, verify_media
    from recanalytics.widgets import Explorer, FilterPanel, explore

__version__ = "0.1.0"

_LAZY: dict[str, str] = {
    "ArchiveContents": "recanalytics.archive",
    "Explorer": "recanalytics.widgets",
    "FilterPanel": "recanalytics.widgets",
    "MediaVerification": "recanalytics.verify",
    "aarchive_twilio": "recanalytics.providers.twilio_archive",
    "adownload_media": "recanalytics.media",
    "archive_twilio": "recanalytics.providers.twilio_archive",
    "demo": "recanalytics.demo",
    "download_media": "recanalytics.media",
    "explore": "recanalytics.widgets",
    "fill_from_media": "recanalytics.verify",
    "probe_media": "recanalytics.probe",
    "read_archive": "recanalytics.archive",
    "report": "recanalytics.report",
    "report_html": "recanalytics.report",
    "save_chart": "recanalytics.charts",
    "verify_media": "recanalytics.verify",
    "charts": "recanalytics.charts",
    "notebooks": "recanalytics.notebooks",
    "sandbox": "recanalytics.sandbox",
}
"""Names imported on first use (they pull in altair, ipywidgets, PyAV or the emulators)."""

_MODULES = frozenset({"charts", "notebooks", "sandbox"})
"""The lazily imported names that are modules rather than attributes of one."""


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        module = importlib.import_module(_LAZY[name])
        value = module if name in _MODULES else getattr(module, name)
        globals()[name] = value
        return value
    if name in helpers.__all__:
        # Every helper stays reachable here as it was before the top level was curated.
        return getattr(helpers, name)
    raise AttributeError(f"module 'recanalytics' has no attribute {name!r}")


class _Package(types.ModuleType):
    """The package's module type: ``ra.demo`` and ``ra.report`` stay functions.

    Importing a submodule binds it on its package, so a first ``import recanalytics.report``
    would shadow the ``report`` function with the module of the same name.
    """

    def __setattr__(self, name: str, value: Any) -> None:
        if (
            isinstance(value, types.ModuleType)
            and name not in _MODULES
            and _LAZY.get(name) == value.__name__
        ):
            value = getattr(value, name, value)
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package

# In a Jupyter kernel, importing the charts switches altair to the offline renderer
# (charts/offline.py), which notebooks rely on as soon as they import recanalytics.
if "ipykernel" in sys.modules:
    importlib.import_module("recanalytics.charts")


def __dir__() -> list[str]:
    # The public names (those loaded on first use included), not every global: the imports
    # (sys, Any, TYPE_CHECKING...) and the private submodules made tab completion a maze.
    dunders = {name for name in globals() if name.startswith("__") and name.endswith("__")}
    return sorted(dunders | set(__all__))


__all__ = [
    "COLUMNS",
    "FAILED_STATUSES",
    "KINDS",
    "PROVIDERS",
    "SCHEMA",
    "STORAGE_RATES",
    "ArchiveContents",
    "ArchiveWarning",
    "AuthError",
    "ConfigError",
    "Credentials",
    "CredentialsError",
    "Explorer",
    "FilterPanel",
    "IncompleteLoadError",
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
    "StoreError",
    "TransportError",
    "TwilioCredentials",
    "UnfinishedArchiveError",
    "UnknownOptionError",
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
    "arefresh",
    "billed_minutes",
    "charts",
    "cost_summary",
    "demo",
    "download_media",
    "duration_bucket",
    "duration_hours",
    "duration_minutes",
    "duration_percentiles",
    "empty_frame",
    "explore",
    "fill_bitrate",
    "fill_from_media",
    "get_plivo_recording",
    "get_signalwire_recording",
    "get_twilio_composition",
    "get_twilio_recording",
    "get_zoom_session_recordings",
    "helpers",
    "load",
    "load_plivo_recordings",
    "load_signalwire_recordings",
    "load_twilio_compositions",
    "load_twilio_recordings",
    "load_with_status",
    "load_zoom_recordings",
    "monthly_storage_cost",
    "normalize_codec",
    "notebooks",
    "parse_size",
    "probe_media",
    "read_archive",
    "refresh",
    "report",
    "report_html",
    "run_sync",
    "sandbox",
    "save_chart",
    "size_human",
    "storage_growth",
    "summarize",
    "trend",
    "verify_media",
]
