"""The offline HTML report: summary table, every chart, no external resource; CLI and browser."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from headless import headless_chromium
from synthetic import synthetic_frame

import recanalytics as ra
from recanalytics.cli import main
from recanalytics.report import report, report_charts, report_html, summary_table
from recanalytics.schema import PROVIDERS


@pytest.fixture(scope="module")
def frame() -> pl.DataFrame:
    return synthetic_frame(3_000, seed=5)


@pytest.fixture(scope="module")
def page(frame: pl.DataFrame) -> str:
    return report_html(frame, title="Test <report>")


def test_no_script_or_resource_is_loaded_from_the_network(page: str) -> None:
    assert re.search(r"<script[^>]*\ssrc=", page) is None
    assert re.search(r"<link[^>]*\shref=", page) is None
    assert re.search(r"<img[^>]*\ssrc=[\"']?https?:", page) is None
    assert "@import" not in page
    # The libraries are inlined: vl-convert's bundle defines vegaEmbed on window.
    assert "vegaEmbed" in page and len(page) > 500_000


def test_page_has_the_summary_and_every_chart(frame: pl.DataFrame, page: str) -> None:
    assert "<title>Test &lt;report&gt;</title>" in page  # escaped
    assert "<table class='summary'>" in page
    for provider in (*PROVIDERS, "total"):
        assert f"<td>{provider}</td>" in page
    headings = list(report_charts(frame))
    assert len(headings) == 8
    for heading in headings:
        assert f"<h2>{heading}</h2>" in page
    assert page.count('vegaEmbed("#chart-') == len(headings)
    assert f"{frame.height:,} recordings" in page


def test_the_heading_the_period_and_each_chart_are_the_frames(
    frame: pl.DataFrame, page: str
) -> None:
    # Found by mutation testing (session 24): the page's own heading escaped as its <title>,
    # the period from the first creation day to the last, and the hours chart of hours.
    assert "<h1>Test &lt;report&gt;</h1>" in page and "<h1>Test <report>" not in page
    first, last = frame["created_at"].min(), frame["created_at"].max()
    assert isinstance(first, datetime) and isinstance(last, datetime)
    assert first.date() < last.date()
    assert f"created {first:%Y-%m-%d} to {last:%Y-%m-%d} (UTC)" in page
    assert re.search(r"Top \d+ groups by hours", page)
    assert re.search(r"Top \d+ groups by size", page)


def test_embedded_specs_are_valid_json_and_break_no_script(page: str) -> None:
    specs = re.findall(r'vegaEmbed\("#chart-\d+", (\{.*?\}), \{"renderer"', page)
    assert len(specs) == 8
    for text in specs:
        spec: dict[str, Any] = json.loads(text.replace("<\\/", "</"))
        assert spec["$schema"].endswith(".json")
    body = page.rsplit("</head>", 1)[1]  # the inlined bundle itself contains "</head>" text
    assert body.count("<script>") == body.count("</script>") == 8


def test_summary_table_comes_from_summarize(frame: pl.DataFrame) -> None:
    table = summary_table(frame)
    assert table.columns[:3] == ["provider", "recordings", "hours"]
    assert table.columns[3] in {"size (MiB)", "size (GiB)", "size (TiB)"}
    assert table["provider"].to_list() == [*PROVIDERS, "total"]
    overall = ra.summarize(frame)
    assert table.row(4, named=True)["recordings"] == overall["count"].item()
    plivo = table.row(1, named=True)
    assert plivo[table.columns[3]] is None and plivo["cost unit"] == "USD"
    assert plivo["reported cost"] == pytest.approx(
        frame.filter(pl.col("provider") == "plivo")["cost"].sum(), abs=0.006
    )


def test_summary_table_values_are_typed_not_quoted_text(frame: pl.DataFrame) -> None:
    """Finding 4 of issue 15: numbers stay numbers (a notebook showed every value quoted)."""
    table = summary_table(frame)
    schema = table.schema
    assert schema["recordings"] == pl.Int64
    assert all(schema[c] == pl.Float64 for c in ("hours", table.columns[3], "USD/month"))
    assert all(schema[c] == pl.Duration("ms") for c in ("mean", "median", "p95"))
    strings = [c for c, t in schema.items() if t == pl.String]
    assert strings == ["provider", "cost unit", "cost kind"]
    assert all(
        (d.total_seconds() if d is not None else 0) % 1 == 0 for d in table["mean"].to_list()
    )
    page = report_html(frame)
    assert f">{table.row(4, named=True)['recordings']:,}<" in page  # formatted in the report


def test_report_of_an_empty_frame_still_renders(tmp_path: Path) -> None:
    path = report(ra.empty_frame(), tmp_path / "empty.html")
    text = path.read_text()
    assert "0 recordings" in text and "No recordings to show." in text


def test_report_writes_an_absolute_path(tmp_path: Path, frame: pl.DataFrame) -> None:
    path = report(frame.lazy(), tmp_path / "sub" / "r.html", every="1mo")
    assert path.is_absolute() and path.exists()


def test_report_to_a_relative_path_returns_it_absolute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Found by mutation testing (session 24): the documented absolute path, whatever was given.
    monkeypatch.chdir(tmp_path)
    path = report(ra.empty_frame(), "r.html")
    assert path.is_absolute() and path == (tmp_path / "r.html").resolve() and path.is_file()


def test_cli_report_from_parquet(
    tmp_path: Path, frame: pl.DataFrame, capsys: pytest.CaptureFixture[str]
) -> None:
    parquet = tmp_path / "f.parquet"
    frame.write_parquet(parquet)
    out = tmp_path / "r.html"
    assert main(["report", str(parquet), "-o", str(out), "--every", "1q"]) == 0
    assert str(out.resolve()) in capsys.readouterr().out
    assert "Recordings report: f.parquet" in out.read_text()


def test_cli_report_reads_a_file_whose_name_looks_like_a_glob_pattern(
    tmp_path: Path, frame: pl.DataFrame, capsys: pytest.CaptureFixture[str]
) -> None:
    # polars read the path as a glob pattern: "x [1].parquet" matched nothing, and the
    # command called a readable file "invalid PARQUET".
    parquet = tmp_path / "calls [1].parquet"
    frame.write_parquet(parquet)
    out = tmp_path / "r.html"
    assert main(["report", str(parquet), "-o", str(out)]) == 0
    assert "Recordings report: calls [1].parquet" in out.read_text()


def test_cli_report_without_parquet_uses_the_demo(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "demo.html"
    assert main(["report", "-o", str(out), "--size", "150"]) == 0
    assert "recanalytics demo report" in out.read_text()


def test_cli_demo_writes_the_report_next_to_the_parquet(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "demo.parquet"
    assert main(["demo", "--size", "150", "--out", str(out)]) == 0
    html = out.with_suffix(".html")
    assert html.exists()
    assert f"report written to {html.resolve()}" in capsys.readouterr().out


# --- a real browser ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    profile = tmp_path_factory.mktemp("chromium-profile")
    with headless_chromium(profile, "--window-size=1280,2000") as driver:
        yield driver


COUNT_MARKS = """
return Array.from(document.querySelectorAll('.chart')).map(function (el) {
  var svg = el.querySelector('svg');
  return [el.id, svg ? svg.querySelectorAll('.mark-rect path, .mark-area path, .mark-line path,'
    + ' .mark-rule line, .mark-symbol path, .mark-text text').length : -1];
});
"""


@pytest.mark.browser
def test_report_draws_every_chart_in_headless_chromium(
    browser: Any, tmp_path: Path, frame: pl.DataFrame
) -> None:
    path = report(frame, tmp_path / "browser.html")
    browser.get(path.as_uri())
    deadline = time.monotonic() + 30
    drawn: list[list[Any]] = []
    while time.monotonic() < deadline:
        drawn = browser.execute_script(COUNT_MARKS)
        if drawn and all(count > 0 for _, count in drawn):
            break
        time.sleep(0.2)
    assert len(drawn) == 8
    assert all(count > 0 for _, count in drawn), drawn
    logs = browser.get_log("browser")
    problems = [e for e in logs if e["level"] == "SEVERE" or "WARN" in e["message"]]
    assert problems == []
    resources = browser.execute_script(
        "return performance.getEntriesByType('resource').map(function (e) { return e.name; })"
    )
    assert [r for r in resources if r.startswith("http")] == []


TABLE_FIT = """
var wrap = document.querySelector('.table-scroll'), table = wrap.querySelector('table');
return {page: document.documentElement.scrollWidth, window: window.innerWidth,
        wrap: wrap.clientWidth, table: table.getBoundingClientRect().width,
        scrolls: getComputedStyle(wrap).overflowX};
"""


@pytest.mark.browser
def test_summary_table_fits_or_scrolls_at_900_px(
    browser: Any, tmp_path: Path, frame: pl.DataFrame
) -> None:
    """Finding 4 of issue 15: at 900 px the table was 1193 px wide, cost columns off-screen."""
    path = report(frame, tmp_path / "narrow.html")
    browser.set_window_size(900, 1000)
    try:
        browser.get(path.as_uri())
        size = browser.execute_script(TABLE_FIT)
    finally:
        browser.set_window_size(1280, 2000)
    assert size["page"] <= size["window"], size  # the page itself never scrolls sideways
    assert size["table"] <= size["wrap"] or size["scrolls"] in ("auto", "scroll"), size
    assert size["table"] <= 900, size  # and at 900 px it fits whole


def test_report_of_unsized_recordings_says_so(tmp_path: Path) -> None:
    # Plivo sends no size: the report drew "Storage held (GiB)" at 0 and said "No recordings to
    # show." under "Largest groups by size" although every recording was there.
    plivo = ra.demo(size=200).filter(pl.col("provider") == "plivo")
    page = report_html(plivo)
    assert f"no sizes: {plivo.height:,} recordings without a size" in page
    assert "No recordings to show." not in page
    table = summary_table(plivo)
    assert table[table.columns[3]].to_list() == [None, None]
    assert "<td class=num>n/a</td>" in page


def test_summary_cells_never_print_nan_nor_a_sum_of_currencies(frame: pl.DataFrame) -> None:
    # A NaN cost printed "nan" in the report's table, and the total row summed EUR and USD into
    # one "reported cost" in "EUR, USD".
    index = pl.int_range(pl.len())
    odd = frame.with_columns(
        cost=pl.when(index == 0).then(float("nan")).otherwise(pl.col("cost")),
        cost_unit=pl.when(pl.col("provider") == "signalwire")
        .then(pl.lit("EUR"))
        .otherwise(pl.col("cost_unit")),
    )
    table = summary_table(odd)
    total = table.row(table.height - 1, named=True)
    assert total["reported cost"] is None and total["cost unit"] == "EUR, USD"
    page = report_html(odd)
    summary = page[page.index("<table class='summary'>") :]
    # The kinds of the reported costs are a note under the unit: read as "unit kinds".
    summary = re.sub(r"<span class=note>(.*?)</span>", r" \1", summary)
    rows = {
        cells[0]: cells
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", summary[: summary.index("</table>")])
        if (cells := re.findall(r"<td[^>]*>([^<]*)</td>", row))
    }
    assert not {"nan", "NaN", "inf"} & {cell for cells in rows.values() for cell in cells}
    assert rows["total"][-2:] == ["n/a", "EUR, USD monthly storage, one-off"]
    assert rows[str(odd["provider"][0])][-2] == "n/a"  # the NaN cost's provider


def test_an_empty_frame_s_total_holds_nothing_under_its_unknown_size() -> None:
    # The total row read "n/a" over "0.00 held": an empty frame has nothing listed or held.
    page = ra.report_html(ra.empty_frame())
    table = re.search(r"<table class='summary'>.*?</table>", page, re.DOTALL)
    assert table is not None and ">total<" in table[0] and "held" not in table[0]
