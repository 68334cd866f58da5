"""Altair charts of the unified recordings frame.

Every function takes a unified frame (DataFrame or LazyFrame), aggregates it in polars, and
returns an altair chart whose spec size depends on periods, groups or bins, never on the number
of recordings. Charts share one provider colour scheme (:data:`PROVIDER_COLORS`); an empty frame
gives a chart with a note. Export with :func:`save_chart` (PNG, SVG, PDF, offline HTML, JSON).
"""

from __future__ import annotations

from recanalytics.charts._base import PROVIDER_COLORS, STATUS_COLORS, ChartLike
from recanalytics.charts.dist import (
    BITRATE_GUIDES_KBPS,
    duration_boxplot,
    duration_histogram,
    size_duration_chart,
    status_chart,
    top_groups_chart,
)
from recanalytics.charts.export import chart_html, chart_to_png, chart_to_svg, save_chart
from recanalytics.charts.offline import arrange
from recanalytics.charts.time import (
    codec_mix_chart,
    cost_chart,
    overview_chart,
    storage_chart,
    volume_chart,
)

__all__ = [
    "BITRATE_GUIDES_KBPS",
    "PROVIDER_COLORS",
    "STATUS_COLORS",
    "ChartLike",
    "chart_html",
    "chart_to_png",
    "chart_to_svg",
    "codec_mix_chart",
    "cost_chart",
    "duration_boxplot",
    "duration_histogram",
    "overview_chart",
    "save_chart",
    "size_duration_chart",
    "status_chart",
    "storage_chart",
    "top_groups_chart",
    "volume_chart",
]

# In a Jupyter kernel on altair's default (CDN) renderer, draw with the bundled Vega instead.
arrange()
