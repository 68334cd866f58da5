"""Regenerate the chart images used in the README.

Run from the repository root::

    .venv/bin/python scripts/readme_charts.py            # the demo dataset (seed 7, size 2000)
    .venv/bin/python scripts/readme_charts.py --size 4000 --out docs/img

The data is the sandbox demo loaded through the real loaders (``ra.demo``), so the images show
what a user sees after ``recanalytics demo``. Rendering is offline (vl-convert); the same seed and
size give the same pictures.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

import polars as pl

import recanalytics as ra
from recanalytics import charts
from recanalytics.charts import ChartLike

IMAGES: dict[str, Callable[[pl.DataFrame], ChartLike]] = {
    "overview.png": lambda df: charts.overview_chart(df),
    "storage.png": lambda df: charts.storage_chart(df),
    "volume.png": lambda df: charts.volume_chart(df),
    "duration_histogram.png": lambda df: charts.duration_histogram(df),
    "duration_boxplot.png": lambda df: charts.duration_boxplot(df, by="kind"),
    "codec_mix.png": lambda df: charts.codec_mix_chart(df),
    "status.png": lambda df: charts.status_chart(df),
    "size_duration.png": lambda df: charts.size_duration_chart(df),
    "top_groups.png": lambda df: charts.top_groups_chart(df, metric="hours", n=10),
    "cost.png": lambda df: charts.cost_chart(df),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="docs/img", help="folder for the PNGs")
    parser.add_argument("--size", type=int, default=2000, help="demo dataset size")
    parser.add_argument("--seed", type=int, default=7, help="demo dataset seed")
    parser.add_argument("--scale", type=float, default=1.5, help="pixel density")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    df = ra.demo(size=args.size, seed=args.seed)
    for name, make in IMAGES.items():
        path = charts.save_chart(make(df), out / name, scale=args.scale)
        print(f"{path}  {path.stat().st_size / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
