"""Engine pieces that need no server: Retry-After parsing, backoff bounds, error details."""

from __future__ import annotations

import asyncio
import email.utils
import time

import pytest

from recanalytics.engine import Limits, RetryPolicy, TokenBucket, error_details, parse_retry_after
from recanalytics.errors import ConfigError


def test_retry_after_in_seconds_and_as_dates() -> None:
    now = 1_700_000_000.0
    assert parse_retry_after("7", now) == 7.0
    assert parse_retry_after("0.5", now) == 0.5
    assert parse_retry_after(email.utils.formatdate(now + 30, usegmt=True), now) == pytest.approx(
        30, abs=1
    )
    assert parse_retry_after("2023-11-15T00:13:20Z", now) == pytest.approx(7200, abs=1)
    assert parse_retry_after("Thu, 01 Jan 1970 00:00:00 GMT", now) == 0.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    assert parse_retry_after("-3", now) == 0.0


def test_backoff_is_capped_with_jitter() -> None:
    policy = RetryPolicy(backoff_base=1.0, backoff_cap=8.0)
    for attempt in range(10):
        wait = policy.backoff(attempt)
        ceiling = min(8.0, 2**attempt)
        assert ceiling / 2 <= wait <= ceiling


def test_invalid_policies_and_limits() -> None:
    with pytest.raises(ConfigError, match="max_retries"):
        RetryPolicy(max_retries=-1)
    with pytest.raises(ConfigError, match="rate_limit"):
        Limits(rate=0, concurrency=1)
    with pytest.raises(ConfigError, match="max_concurrency"):
        Limits(rate=1, concurrency=0)


def test_error_details_of_every_provider_shape() -> None:
    assert error_details({"code": 20404, "message": "nope", "status": 404}) == ("nope", 20404)
    assert error_details({"api_id": "x", "error": "not found"}) == ("not found", None)
    assert error_details({"errors": [{"code": "20429", "message": "slow down"}]}) == (
        "slow down",
        "20429",
    )
    assert error_details({"code": 124, "message": "Invalid access token."}) == (
        "Invalid access token.",
        124,
    )
    assert error_details("text") == ("", None)


def test_token_bucket_paces_requests_evenly() -> None:
    async def run() -> float:
        bucket = TokenBucket(rate=200.0)
        started = time.monotonic()
        for _ in range(21):
            await bucket.acquire()
        return time.monotonic() - started

    # 21 acquisitions at 200/s need at least 20 intervals of 5 ms (a lower bound, not a timing
    # assertion: pacing can only make it slower).
    assert asyncio.run(run()) >= 0.095
