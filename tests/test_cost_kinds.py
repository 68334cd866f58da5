"""The reported cost is not one kind of amount: Plivo's is a storage charge per month kept,
SignalWire's a one-off price. Read by the real loaders from a fake API, the helpers, the report
and the cost chart never add the two, and say which is which."""

from __future__ import annotations

import re
import warnings
from typing import Any

import polars as pl

import recanalytics as ra
from recanalytics.charts import cost_chart
from recanalytics.helpers import COST_KIND_OF, cost_kind
from recanalytics.providers.registry import SPECS
from recanalytics.report import report_html, summary_table
from tests.numbers_fake import Fake, plivo, signalwire


def plivo_and_signalwire() -> pl.DataFrame:
    """A Plivo call at 0.0012 USD a month beside a SignalWire recording priced 0.0075 USD."""
    fake = Fake()
    fake.plivo = [plivo(1, "61000", "0.0008"), plivo(2, "59999.5", "0.0004")]
    fake.signalwire = [signalwire(1, 30, "-0.0075")]
    return fake.load("plivo", "signalwire")


def test_each_provider_module_says_what_its_cost_is() -> None:
    assert {name: spec.cost_kind for name, spec in SPECS.items()} == {
        "twilio": None,
        "plivo": "monthly storage",
        "zoom": None,
        "signalwire": "one-off",
    }
    assert dict(COST_KIND_OF) == {"plivo": "monthly storage", "signalwire": "one-off"}


def test_a_monthly_charge_and_a_one_off_price_have_no_total() -> None:
    frame = plivo_and_signalwire()
    # The frame's own values are the providers' amounts, unchanged.
    assert frame.select("provider", "cost", "cost_unit").rows() == [
        ("plivo", 0.0008, "USD"),
        ("plivo", 0.0004, "USD"),
        ("signalwire", 0.0075, "USD"),
    ]
    assert frame.select(cost_kind()).to_series().to_list() == [
        "monthly storage",
        "monthly storage",
        "one-off",
    ]
    # The overall row read 0.0087 "USD": 0.0012 a month plus 0.0075 once.
    for total in (ra.summarize(frame), ra.cost_summary(frame, by=None)):
        row = total.row(0, named=True)
        assert row["reported_cost"] is None
        assert (row["cost_unit"], row["cost_kind"]) == ("USD", "monthly storage, one-off")
    money = pl.col("reported_cost").round(9)
    per_provider = ra.cost_summary(frame).select("provider", money, "cost_kind")
    assert per_provider.rows() == [
        ("plivo", 0.0012, "monthly storage"),
        ("signalwire", 0.0075, "one-off"),
    ]
    # Grouped by kind, each group holds one: a total per kind.
    per_kind = ra.summarize(frame.with_columns(cost_kind()), by="cost_kind")
    assert per_kind.columns.count("cost_kind") == 1
    assert per_kind.select("cost_kind", money, "cost_unit").rows() == [
        ("monthly storage", 0.0012, "USD"),
        ("one-off", 0.0075, "USD"),
    ]
    # One kind alone is still summed.
    plivo_only = frame.filter(pl.col("provider") == "plivo")
    alone = ra.summarize(plivo_only).with_columns(money).row(0, named=True)
    assert (alone["reported_cost"], alone["cost_kind"]) == (0.0012, "monthly storage")


def test_the_summary_table_and_report_say_the_kinds_and_give_no_mixed_total() -> None:
    frame = plivo_and_signalwire()
    table = {row["provider"]: row for row in summary_table(frame).iter_rows(named=True)}
    assert (table["plivo"]["reported cost"], table["plivo"]["cost kind"]) == (
        0.0012,
        "monthly storage",
    )
    assert (table["signalwire"]["reported cost"], table["signalwire"]["cost kind"]) == (
        0.0075,
        "one-off",
    )
    total = table["total"]
    assert total["reported cost"] is None  # it read 0.0087
    assert (total["cost unit"], total["cost kind"]) == ("USD", "monthly storage, one-off")

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        page = report_html(frame)
    summary = page[page.index("<table class='summary'>") :]
    summary = summary[: summary.index("</table>")]
    summary = re.sub(r"<span class=note>(.*?)</span>", r" \1", summary)
    rows = {
        cells[0]: cells
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", summary)
        if (cells := re.findall(r"<td[^>]*>([^<]*)</td>", row))
    }
    assert rows["total"][-2:] == ["n/a", "USD monthly storage, one-off"]
    assert rows["plivo"][-2:] == ["0.0012", "USD monthly storage"]
    assert rows["signalwire"][-2:] == ["0.0075", "USD one-off"]


def reported_panel(spec: dict[str, Any]) -> dict[str, Any]:
    panels = spec["vconcat"]
    (panel,) = [p for p in panels if p["title"]["text"].startswith("Provider-reported cost")]
    return panel  # type: ignore[no-any-return]


def test_the_cost_chart_says_a_monthly_charge_is_no_one_off() -> None:
    frame = plivo_and_signalwire()
    spec = cost_chart(frame, every="1mo").to_dict()
    panel = reported_panel(spec)
    subtitle = " / ".join(panel["title"]["subtitle"])
    assert "monthly storage (plivo): a storage charge per month kept" in subtitle
    assert "not each month" in subtitle
    assert "one-off (signalwire): a one-off price" in subtitle
    assert "kinds not added" in subtitle
    rows = panel["data"]["values"]
    assert {(r["provider"], r["cost_kind"], round(r["reported"], 9)) for r in rows} == {
        ("plivo", "monthly storage", 0.0012),
        ("signalwire", "one-off", 0.0075),
    }
    # Each kind is its own line, told apart and named in the tooltip.
    assert panel["encoding"]["strokeDash"]["field"] == "cost_kind"
    assert "cost_kind" in {t["field"] for t in panel["encoding"]["tooltip"]}
