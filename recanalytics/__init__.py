"""recanalytics: recordings from many communications providers in one polars frame.

Examples
--------
>>> import recanalytics as ra
>>> df = ra.demo()                      # the sandbox dataset, through the real loaders
>>> sorted(df.columns) == sorted(ra.SCHEMA.names())
True
"""

from __future__ import annotations

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
from recanalytics.schema import COLUMNS, KINDS, PROVIDERS, SCHEMA, empty_frame

# --- helpers (issue 4) ---
# --- end helpers ---

__version__ = "0.1.0"

__all__ = [
    "COLUMNS",
    "KINDS",
    "PROVIDERS",
    "SCHEMA",
    "AuthError",
    "ConfigError",
    "CredentialsError",
    "LoadWarning",
    "NotFoundError",
    "PaginationError",
    "ProviderError",
    "RateLimitError",
    "RecanalyticsError",
    "TransportError",
    "empty_frame",
]
