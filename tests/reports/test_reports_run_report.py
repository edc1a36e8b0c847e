"""The IT run report: per-source figures, errors with reasons, duration, throughput, mode."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from reports.data import RunReportData, SourceError, SourceRunStats
from reports.run_report import format_bytes, format_duration, render_run_report

from .reports_testkit import assert_not_blank, screenshot


def _data(**overrides) -> RunReportData:
    values = dict(
        run_id="r42",
        started_at=datetime(2026, 11, 22, 2, 0, tzinfo=UTC),
        finished_at=datetime(2026, 11, 22, 2, 50, tzinfo=UTC),
        status="completed",
        detection_mode="fallback",
        detection_notice="geen spaCy-model gevonden, namen alleen via de lijst / no spaCy model found",
        sources=[
            SourceRunStats("m365-mail", "graph_mail", 20000, 1200, 18800, 35,
                           [("throttled", "Graph vraagt om te wachten / Graph throttled", 12),
                            SourceError("access_denied", "geen toegang tot een mailbox / access denied", 1)],
                           2_400_000_000, 2500.0),
            SourceRunStats("share-zorg", "smb", 5000, 300, 4700, 3, [], 600_000_000, 400.0),
        ],
        item_errors_by_code={"encrypted": 4, "too_large": 2, "corrupt": 7},
    )
    values.update(overrides)
    return RunReportData(**values)


def test_text_report_has_totals_errors_and_throughput() -> None:
    report = render_run_report(_data(), "nl")
    text = report.text
    assert report.subject == "schoonschip run r42: completed"
    assert "Duur: 50 min 00 s" in text
    # 1500 analysed items and 3.0 GB in 3000 s
    assert "Doorvoer: 0,5 items/s, 1,0 MB/s" in text
    assert "Detectie: fallback" in text and "geen spaCy-model gevonden" in text
    total = next(line for line in text.splitlines() if line.startswith("Totaal"))
    assert total.split()[1:6] == ["25000", "1500", "23500", "38", "13"]
    assert "throttled" in text and "Graph vraagt om te wachten" in text
    # item errors most frequent first
    codes = [line.split()[0] for line in text.split("== Fouten per item, per code ==")[1].splitlines()
             if line.startswith("  ")]
    assert codes == ["corrupt", "encrypted", "too_large"]


def test_english_and_unfinished_run() -> None:
    report = render_run_report(_data(finished_at=None, status="failed", detection_notice=None,
                                     detection_mode="spacy:nl_core_news_lg", item_errors_by_code={},
                                     sources=[]), "en")
    assert "Finished: not finished" in report.text
    assert "Duration: -" in report.text
    assert "No sources were scanned." in report.text
    assert "No errors on individual items." in report.text
    assert "spacy:nl_core_news_lg" in report.html
    assert "#b42318" in report.html  # a failed run has a red header


def test_html_escapes_and_has_no_scripts() -> None:
    data = _data(sources=[SourceRunStats("<b>share</b>", "smb", 1, 1, 0, 0, [("corrupt", "<i>x</i>", 1)], 10, 1.0)])
    html = render_run_report(data, "nl").html
    assert "<b>share</b>" not in html and "&lt;b&gt;share&lt;/b&gt;" in html
    assert "<script" not in html.lower()


@pytest.mark.parametrize(("count", "text"), [(512, "512 B"), (1_500, "1.5 KB"), (2_400_000_000, "2.4 GB")])
def test_format_bytes(count: int, text: str) -> None:
    assert format_bytes(count) == text


def test_format_duration() -> None:
    assert format_duration(12.34) == "12.3 s"
    assert format_duration(125) == "2 min 05 s"
    assert format_duration(3 * 3600 + 65) == "3 h 01 min"


@pytest.mark.service
@pytest.mark.slow
def test_run_report_renders_in_chromium(tmp_path: Path) -> None:
    page = tmp_path / "run.html"
    page.write_text(render_run_report(_data(), "nl").html, encoding="utf-8")
    assert_not_blank(screenshot(page, tmp_path / "run.png", 1000, 1100))
