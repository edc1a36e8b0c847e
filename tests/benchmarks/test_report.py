"""report.py and sizing.py build their tables from fixed JSON lines (arithmetic, not timing)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def _module(name: str) -> ModuleType:
    sys.path.insert(0, str(BENCHMARKS))
    try:
        spec = importlib.util.spec_from_file_location(f"bench_{name}_under_test", BENCHMARKS / f"{name}.py")
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(BENCHMARKS))


report, sizing = _module("report"), _module("sizing")

ROWS = [
    {"bench": "scan", "executor": "inline", "workers": None, "date": "2026-12-02 13:00 UTC",
     "first": {"seen": 2000, "analysed": 2000, "cpu_total": 22.0, "driver_cpu": 2.0, "seconds": 30.0,
               "load": [2.5, 2.6]}},
    {"bench": "scan", "executor": "pool", "workers": 2, "date": "2026-12-02 13:05 UTC",
     "first": {"seen": 2000, "analysed": 2000, "cpu_total": 26.0, "driver_cpu": 2.0, "seconds": 20.0,
               "load": [3.0, 3.5]}},
    {"bench": "driver", "backend": "sqlite", "items": 20000, "units": 40, "date": "2026-12-02 13:10 UTC",
     "load": 2.0, "scans": {"first": {"written": 20000, "wall": 3.0, "cpu_ms_per_item": 0.125,
                                                "write_ms_per_written": 0.05},
                            "unchanged": {"written": 0, "wall": 1.0, "cpu_ms_per_item": 0.03,
                                          "write_ms_per_written": None}}},
    {"bench": "driver", "backend": "postgresql", "items": 20000, "units": 40, "date": "2026-12-02 13:11 UTC",
     "load": 4.0, "scans": {"first": {"written": 20000, "wall": 3.0, "cpu_ms_per_item": 0.1,
                                                "write_ms_per_written": 0.04}}},
    {"bench": "memory", "size": 10000, "executor": "driver-only", "items": 10000, "hwm_driver": 100 * 2**20,
     "hwm_others": 0, "largest_folder": 677},
    {"bench": "ner", "model": "nl_core_news_md", "source": "assumption", "extra_ms_per_item": 15.0,
     "date": "2026-12-02 13:20 UTC"},
]


@pytest.fixture()
def rows(tmp_path: Path) -> dict:
    path = tmp_path / "bench.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in ROWS), encoding="utf-8")
    return report.load([path])


def test_sizing_is_computed_from_the_lines(rows: dict) -> None:
    text = sizing.table(rows)
    # pool: (26 - 2) s / 2000 mails = 12 ms (inline: all 22 s, 11 ms); 40 M x 12 ms = 133 core-hours;
    # /60 h and /168 h; one SQLite driver (0.125 ms) keeps up with 12 / 0.125 = 96 workers, PostgreSQL 120
    assert "| name lists, `pool` figure | 12.0 | 133 | 2.2 | 0.8 | 96 | 120 |" in text
    assert "| name lists, `inline` figure | 11.0 | 122 | 2.0 | 0.7 | 88 | 110 |" in text
    # NER on the pool figure: 27 ms, labelled as the assumption it is
    assert "assumption, not measured: +15 ms per mail on the `pool` figure) | 27.0 | 300 | 5.0 | 1.8 | 216 | 270 |" \
        in text
    assert "| sqlite | 0.125 | 8,000 | 1.4 |" in text
    assert "| postgresql | 0.100 | 10,000 | 1.1 |" in text
    assert "load average 2.0-4.0" in text
    assert text.startswith(sizing.BEGIN) and text.endswith(sizing.END)


def test_missing_benchmarks_are_said_missing(tmp_path: Path) -> None:
    path = tmp_path / "bench.jsonl"
    path.write_text(json.dumps(ROWS[2]) + "\n", encoding="utf-8")
    text = sizing.table(report.load([path]))
    assert "no `bench_scan.py` line" in text and "| sqlite | 0.125 |" in text


def test_readme_section_has_driver_and_memory_rows(rows: dict) -> None:
    text = report.section(rows)
    assert "| sqlite | 20,000 | 0.125 | 8,000 | 0.030 | 2.0 |" in text
    assert "| postgresql | 20,000 | 0.100 | 10,000 | - | 4.0 |" in text
    assert "| driver-only | 10,000 | 100 MB | 0 MB | 677 mails |" in text
    assert "| pool x2 | 2,000 | 13.00 |" in text


def test_write_replaces_only_between_the_markers(rows: dict, tmp_path: Path) -> None:
    doc = tmp_path / "scale-out.md"
    doc.write_text("# x\n\n## Sizing\n\nprose before\n\nprose after\n", encoding="utf-8")
    report.write(doc, sizing.table(rows), sizing.BEGIN, sizing.END, "## Sizing")
    first = doc.read_text(encoding="utf-8")
    assert first.index("## Sizing") < first.index(sizing.END) < first.index("prose before")  # under the heading
    report.write(doc, sizing.BEGIN + "\nnew\n" + sizing.END, sizing.BEGIN, sizing.END, "## Sizing")
    second = doc.read_text(encoding="utf-8")
    assert "new" in second and "12.0" not in second and second.count(sizing.BEGIN) == 1
    assert "prose before" in second and "prose after" in second


def test_driver_rows_are_the_median_run(tmp_path: Path) -> None:
    """Three driver runs of one backend: the table and the sizing take the middle one, and the
    table says how many runs it is the median of."""
    runs = []
    for ms, load in ((0.2, 1.0), (0.125, 1.5), (0.16, 2.5)):
        run = json.loads(json.dumps(ROWS[2]))
        run["scans"]["first"]["cpu_ms_per_item"], run["load"] = ms, load
        runs.append(run)
    path = tmp_path / "bench.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in runs), encoding="utf-8")
    rows = report.load([path])
    assert sizing.driver_ms(rows) == {"sqlite": 0.16}
    text = report.section(rows)
    assert "median of 3 runs" in text
    assert "| sqlite | 20,000 | 0.160 | 6,250 | 0.030 | 2.5 |" in text
