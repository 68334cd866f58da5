"""The one synthetic unified frame: chart, explorer and report tests, and the helper and explorer
benchmarks, build their data with :func:`synthetic_frame`.

Built with polars expressions only (hash-based pseudo-random columns, fixed seed), so a million
rows take well under a second. The mixes read the provider table: every registered provider
appears, with the kinds its loaders return, codecs and containers typical of each kind,
log-spread durations, bitrates per codec, some failures and deletions, and sizes only where the
provider's storage is billed by size (it reports bytes). For realistic data through the real
loaders use ``ra.demo()``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import accumulate

import polars as pl

from recanalytics.providers.registry import LOADERS, SPECS
from recanalytics.schema import KINDS, conform

# kind -> (media_type, codec, container, kbps) choices; a row takes one of its provider's
# (kind, format) pairs.
FORMATS: dict[str, list[tuple[str, str, str, float]]] = {
    "track": [
        ("audio", "opus", "mka", 40.0),
        ("video", "vp8", "mkv", 600.0),
        ("video", "h264", "mkv", 900.0),
    ],
    "composition": [("video", "h264", "mp4", 1200.0)],
    "call": [("audio", "mp3", "mp3", 32.0), ("audio", "pcm_s16le", "wav", 128.0)],
    "conference": [("audio", "pcm_s16le", "wav", 128.0)],
    "session_file": [("video", "h264", "mp4", 1500.0), ("audio", "aac", "m4a", 64.0)],
    "participant_file": [("text", "webvtt", "vtt", 0.2)],
}
# Sessions and conferences have names; calls and room recordings carry none.
NAMED_KINDS = ("conference", "session_file", "participant_file")
# Each provider's share of the rows; one not listed (a new provider) gets DEFAULT_SHARE.
SHARES = {"twilio": 45, "zoom": 25, "plivo": 20, "signalwire": 10}
DEFAULT_SHARE = 10
if set(FORMATS) != set(KINDS):
    raise AssertionError(f"tests/synthetic.py: give FORMATS for {set(KINDS) - set(FORMATS)}")


def options(provider: str) -> list[tuple[str, str, str, str, float]]:
    """The (kind, media_type, codec, container, kbps) choices of a provider's rows."""
    return [
        (kind, *fmt)
        for loader in LOADERS[provider]
        for kind in loader.kinds
        for fmt in FORMATS[kind]
    ]


def synthetic_frame(rows: int, *, seed: int = 42, days: int = 540) -> pl.DataFrame:
    """A unified frame of ``rows`` recordings over ``days`` days from 2025-01-01 (UTC).

    Examples
    --------
    >>> synthetic_frame(1000).height
    1000
    """
    idx = pl.int_range(rows, dtype=pl.UInt64)

    def rnd(k: int, modulo: int) -> pl.Expr:
        return (idx.hash(seed + k) % modulo).cast(pl.Int64)

    # The largest shares first; the roll picks a provider in proportion to its share.
    providers = sorted(SPECS, key=lambda p: -SHARES.get(p, DEFAULT_SHARE))
    shares = [SHARES.get(p, DEFAULT_SHARE) for p in providers]
    roll = rnd(1, sum(shares))
    provider = pl.lit(providers[-1])
    for name, bound in reversed(list(zip(providers, accumulate(shares), strict=True))):
        provider = pl.when(roll < bound).then(pl.lit(name)).otherwise(provider)
    formats = {p: options(p) for p in providers}
    pick = rnd(2, 1_000)
    counts = {p: len(choices) for p, choices in formats.items()}
    choice = pick % provider.replace_strict(counts, return_dtype=pl.Int64)
    key = pl.format("{}:{}", provider, choice)
    fields: dict[str, pl.Expr] = {}
    for position, name in enumerate(("kind", "media_type", "codec", "container", "kbps")):
        mapping = {
            f"{p}:{i}": option[position]
            for p, choices in formats.items()
            for i, option in enumerate(choices)
        }
        fields[name] = key.replace_strict(mapping).alias(name)
    status_roll = rnd(3, 1_000)
    status = (
        pl.when(status_roll < 25)
        .then(pl.lit("failed"))
        .when(status_roll < 90)
        .then(pl.lit("deleted"))
        .when(status_roll < 100)
        .then(pl.lit("processing"))
        .otherwise(pl.lit("completed"))
    )
    # Growth over time: later days are more likely (square root of a uniform draw).
    day = (rnd(4, 1_000_000).cast(pl.Float64) / 1_000_000).sqrt() * days
    created = pl.lit(datetime(2025, 1, 1, tzinfo=UTC)) + pl.duration(
        seconds=(day * 86_400).cast(pl.Int64)
    )
    # Log-spread durations from about 3 s to 3 h.
    seconds = (pl.lit(10.0) ** (0.5 + rnd(5, 10_000).cast(pl.Float64) / 10_000 * 3.5)).round(3)
    # Storage billed by size: the provider reports bytes (the others bill recorded minutes).
    by_size = [p for p in providers if (r := SPECS[p].storage_rate) and r.basis == "gb_month"]
    sized = provider.is_in(by_size)
    jitter = 0.7 + rnd(6, 600).cast(pl.Float64) / 1_000
    group = rnd(7, max(rows // 40, 3))
    frame = pl.select(
        provider.alias("provider"),
        fields["kind"],
        idx.cast(pl.String).alias("recording_id"),
        pl.lit("AC-synthetic").alias("account_id"),
        pl.format("{}-{}", provider.str.slice(0, 2).str.to_uppercase(), group).alias("group_id"),
        pl.when(fields["kind"].is_in(NAMED_KINDS))
        .then(pl.format("room {}", group))
        .alias("group_name"),
        pl.format("PA{}", rnd(8, 5_000)).alias("participant_id"),
        pl.format("track-{}", rnd(9, 20)).alias("track_name"),
        status.alias("status"),
        fields["media_type"],
        fields["codec"],
        fields["container"],
        created.alias("created_at"),
        created.alias("started_at"),
        (created + pl.duration(milliseconds=(seconds * 1000).cast(pl.Int64))).alias("ended_at"),
        pl.when(status == "deleted")
        .then(created + pl.duration(days=30 + rnd(10, 60)))
        .alias("deleted_at"),
        pl.duration(milliseconds=(seconds * 1000).cast(pl.Int64)).alias("duration"),
        pl.when(sized)
        .then((fields["kbps"] * jitter * 1000 / 8 * seconds).cast(pl.Int64))
        .alias("size_bytes"),
        (fields["kbps"] * jitter).alias("bitrate_kbps"),
        pl.lit(1, dtype=pl.Int8).alias("channels"),
        pl.when(sized.not_()).then((seconds / 60).ceil() * 0.0004).alias("cost"),
        pl.when(sized.not_()).then(pl.lit("USD")).alias("cost_unit"),
        pl.format("https://media.invalid/{}", idx).alias("media_url"),
    )
    return conform(frame).collect()
