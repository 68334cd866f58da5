"""The vectorized page path gives exactly the frames of the tolerant per-record path."""

from __future__ import annotations

import warnings
from typing import Any

import pytest
from polars.testing import assert_frame_equal
from provider_cases import LOADER_PARAMS, mock_endpoint, sync_loader

from recanalytics.fields import RecordSpec
from recanalytics.providers.base import Loader
from recanalytics.sandbox import Sandbox


def counting_fallbacks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count the pages that take the tolerant path."""
    pages = [0]
    original = RecordSpec.decode_page_tolerant

    def counted(self: RecordSpec, *args: Any, **kwargs: Any) -> Any:
        pages[0] += 1
        return original(self, *args, **kwargs)

    monkeypatch.setattr(RecordSpec, "decode_page_tolerant", counted)
    return pages


@pytest.mark.parametrize("loader", LOADER_PARAMS)
@pytest.mark.parametrize("raw", [True, False], ids=["raw", "unified"])
def test_both_paths_give_the_same_frame(
    loader: Loader[Any], raw: bool, box: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    load = sync_loader(loader)
    kwargs: dict[str, Any] = {"raw": raw, **box.options(loader.provider)}
    if mock_endpoint(loader).span:  # it defaults to recent days: ask for the whole dataset
        kwargs |= {"since": box.config.start, "until": box.config.end}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the same warnings on both paths
        with monkeypatch.context() as patch:
            fallbacks = counting_fallbacks(patch)
            fast = load(**kwargs)
        # Zoom flattens sessions into file rows, always by the per-record path.
        assert fallbacks[0] == 0 or loader.provider == "zoom", (
            "clean sandbox pages take the typed path"
        )
        with monkeypatch.context() as patch:
            patch.setattr(RecordSpec, "fast", False)
            slow = load(**kwargs)
    assert fast.height > 0
    assert_frame_equal(fast, slow)
