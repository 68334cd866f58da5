"""The vectorized page path gives exactly the frames of the tolerant per-record path."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal

import recanalytics as ra
from recanalytics.fields import RecordSpec
from recanalytics.sandbox import Sandbox

LOADS: dict[str, tuple[str, Callable[..., pl.DataFrame], dict[str, Any]]] = {
    "twilio-tracks": ("twilio", ra.load_twilio_recordings, {}),
    "twilio-compositions": ("twilio", ra.load_twilio_compositions, {}),
    "plivo": ("plivo", ra.load_plivo_recordings, {"span": True}),
    "signalwire": ("signalwire", ra.load_signalwire_recordings, {}),
    "zoom": ("zoom", ra.load_zoom_recordings, {"span": True}),
}


def counting_fallbacks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count the pages that take the tolerant path."""
    pages = [0]
    original = RecordSpec.decode_page_tolerant

    def counted(self: RecordSpec, *args: Any, **kwargs: Any) -> Any:
        pages[0] += 1
        return original(self, *args, **kwargs)

    monkeypatch.setattr(RecordSpec, "decode_page_tolerant", counted)
    return pages


@pytest.mark.parametrize("name", LOADS)
@pytest.mark.parametrize("raw", [True, False], ids=["raw", "unified"])
def test_both_paths_give_the_same_frame(
    name: str, raw: bool, box: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    provider, load, extra = LOADS[name]
    kwargs: dict[str, Any] = {"raw": raw, **box.options(provider)}
    if extra.get("span"):
        kwargs |= {"since": box.config.start, "until": box.config.end}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the same warnings on both paths
        with monkeypatch.context() as patch:
            fallbacks = counting_fallbacks(patch)
            fast = load(**kwargs)
        # Zoom flattens sessions into file rows, always by the per-record path.
        assert fallbacks[0] == 0 or name == "zoom", "clean sandbox pages take the typed path"
        with monkeypatch.context() as patch:
            patch.setattr(RecordSpec, "fast", False)
            slow = load(**kwargs)
    assert fast.height > 0
    assert_frame_equal(fast, slow)
