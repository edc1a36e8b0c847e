"""FG statistics: counts, small-cell protection, trends, outputs, and no teacher or subject."""

from __future__ import annotations

import re
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from reports import charts
from reports.disclosure import protect
from reports.fg import build_fg_report

from .reports_testkit import assert_not_blank, fg_frames, screenshot

NOW = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)


def _runs(*ids: str) -> pd.DataFrame:
    starts = pd.date_range("2026-11-01 02:00", periods=len(ids), freq="7D", tz="UTC")
    return pd.DataFrame({"run_id": list(ids), "started_at": starts,
                         "finished_at": starts + pd.Timedelta(hours=1), "status": "completed"})


def _item(i: int, categories: list[str], status: str = "verlopen", state: str = "actief",
          department: str | None = "Onderbouw", age_days: int = 800, first: str = "r1",
          closed_at: str | None = None, fp: bool = False, student: bool = True,
          sensitivity: str = "normaal") -> dict:
    return {"item_id": f"i{i}", "source_kind": "maildir", "kind": "mail", "department": department,
            "date": pd.Timestamp(NOW) - pd.Timedelta(days=age_days), "categories": categories,
            "sensitivity": sensitivity, "status": status, "state": state,
            "closed_at": pd.Timestamp(closed_at, tz="UTC") if closed_at else None,
            "first_seen_run": first, "false_positive": fp, "student_data": student}


def _cell(report, table_key: str, row: str, column: str):
    table = next(t for _, t in report.tables if t.key == table_key)
    return table.display().loc[row, column]


def test_counts_by_category_sensitivity_and_age() -> None:
    rows = ([_item(i, ["cijfers"], age_days=100) for i in range(6)]
            + [_item(10 + i, ["cijfers", "gezondheid"], status="binnenkort", age_days=500,
                     sensitivity="bijzonder") for i in range(7)]
            + [_item(20 + i, ["verzuim"], status="ok", age_days=1000) for i in range(5)]
            + [_item(30 + i, ["verzuim"], age_days=4000) for i in range(8)]
            + [_item(40 + i, ["verzuim"], state="opgeruimd", closed_at="2026-11-15 02:30") for i in range(5)])
    report = build_fg_report(pd.DataFrame(rows), _runs("r1", "r2", "r3"), 5, "nl", now=NOW)
    assert _cell(report, "categorie", "cijfers", "actief") == 13
    assert _cell(report, "categorie", "cijfers", "verlopen") == 6
    assert _cell(report, "categorie", "cijfers", "binnenkort") == 7
    assert _cell(report, "categorie", "gezondheid", "actief") == 7
    assert _cell(report, "categorie", "verzuim", "opgeruimd") == 5
    assert _cell(report, "categorie", "verzuim", "actief") == 13
    assert _cell(report, "gevoeligheid", "bijzonder", "actief") == 7
    assert _cell(report, "gevoeligheid", "normaal", "actief") == 19
    assert [_cell(report, "ouderdom", b, "actief") for b in ("lt1", "1to2", "2to5", "gt5")] == [6, 7, 5, 8]
    headline = {key: value for key, _, value in report.headline}
    assert headline["actief"] == "26" and headline["verlopen"] == "14" and headline["opgeruimd"] == "5"
    oldest = report.oldest
    assert oldest.loc["verzuim", "oldest_year"] == str((pd.Timestamp(NOW) - pd.Timedelta(days=4000)).year)
    assert oldest.loc["verzuim", "age"] == "10 jaar"
    assert oldest.loc["cijfers", "age"] == "1 jaar"
    assert oldest.loc["gezondheid", "oldest_year"] == "2025"


def test_small_cells_are_hidden_and_cannot_be_worked_out() -> None:
    rows = ([_item(i, ["zorg"]) for i in range(9)]
            + [_item(10 + i, ["zorg"], status="binnenkort") for i in range(3)]
            + [_item(20 + i, ["religie"], sensitivity="bijzonder") for i in range(2)])
    report = build_fg_report(pd.DataFrame(rows), _runs("r1"), 5, "nl", now=NOW)
    assert _cell(report, "categorie", "zorg", "actief") == 12
    assert _cell(report, "categorie", "zorg", "binnenkort") == "<5"
    # 12 - 9 = 3: so the 9 has to go as well
    assert _cell(report, "categorie", "zorg", "verlopen") == "*"
    assert _cell(report, "categorie", "religie", "actief") == "<5"
    assert report.oldest.loc["religie", "oldest_year"] == "<5"
    # no published number anywhere is between 1 and k-1
    long = report.long_frame()
    numbers = pd.to_numeric(long["waarde"], errors="coerce").dropna()
    assert not ((numbers > 0) & (numbers < 5)).any()


def test_secondary_suppression_over_rows_and_columns() -> None:
    values = pd.DataFrame({"actief": [12, 40, 7], "verlopen": [9, 30, 4], "binnenkort": [3, 10, 3]},
                          index=["a", "b", "c"])
    primary, secondary = protect(values, 5, [("actief", ["verlopen", "binnenkort"])], columns_sum_to_total=True)
    hidden = primary | secondary
    for row in values.index:  # never exactly one hidden part in a row
        assert hidden.loc[row, ["verlopen", "binnenkort"]].sum() != 1 or hidden.loc[row, "actief"]
    for column in values.columns:  # nor exactly one hidden cell in a column with a published total
        assert hidden[column].sum() != 1
    assert primary.loc["a", "binnenkort"] and secondary.loc["a", "verlopen"]


def test_small_departments_are_merged_into_overig() -> None:
    rows = ([_item(i, ["cijfers"], department="Bovenbouw") for i in range(8)]
            + [_item(10 + i, ["cijfers"], department="Onderbouw") for i in range(7)]
            + [_item(20, ["cijfers"], department="Gym")]
            + [_item(21 + i, ["cijfers"], department="Muziek") for i in range(2)]
            + [_item(30 + i, ["cijfers"], department=None) for i in range(6)])
    report = build_fg_report(pd.DataFrame(rows), _runs("r1"), 5, "nl", now=NOW)
    table = next(t for _, t in report.tables if t.key == "afdeling")
    labels = [table.row_labels[r] for r in table.values.index]
    # Gym (1) and Muziek (2) make an "overig" of 3: too small itself, so the smallest other
    # group (the 6 without a department) joins it
    assert labels == ["Bovenbouw", "Onderbouw", "overig"]
    html = report.html()
    assert "Gym" not in html and "Muziek" not in html
    assert int(table.values.loc["__overig__", "actief"]) == 9

    # with owner keys: a department with many items but one teacher is merged as well
    # (Onderbouw: one owner; the undepartmented items: one owner)
    frame = pd.DataFrame(rows)
    frame["owner_key"] = ["k-" + str(i % 6) if d == "Bovenbouw" else "k-single" if d == "Onderbouw" else "k-x"
                          for i, d in enumerate(frame["department"])]
    by_owner = build_fg_report(frame, _runs("r1"), 5, "nl", now=NOW)
    table = next(t for _, t in by_owner.tables if t.key == "afdeling")
    # Onderbouw and the rest have one owner each: an "overig" of two teachers is merged on
    # until it holds five, here the whole school
    assert [table.row_labels[r] for r in table.values.index] == ["overig"]


def test_trend_between_runs_and_share_cleaned() -> None:
    rows = ([_item(i, ["cijfers"], first="r1") for i in range(10)]                         # still overdue
            + [_item(10 + i, ["cijfers"], first="r1", state="opgeruimd", closed_at="2026-11-15 02:30")
               for i in range(6)]                                                         # cleaned in r3
            + [_item(20 + i, ["cijfers"], first="r1", state="opgeruimd", closed_at="2026-11-08 02:30")
               for i in range(4)]                                                         # cleaned in r2
            + [_item(30 + i, ["verzuim"], first="r3", status="binnenkort") for i in range(7)])  # new
    report = build_fg_report(pd.DataFrame(rows), _runs("r1", "r2", "r3"), 5, "nl", now=NOW)
    trend = {key: value for key, _, value in report.trend}
    # 4 cleaned in r2 is hidden, and with it what gives it back: present at r2 (20 - 16 = 4)
    # and, because 17 = 20 - 4 + 7 - 6 at r3, the 6 cleaned in r3 (the LP audit's choice: it
    # keeps the active total and the headline shown); the share is then not a percentage
    assert trend == {"nieuw": "7", "opgeruimd": "*", "nog_verlopen": "10"}
    headline = {key: value for key, _, value in report.headline}
    assert headline["opgeruimd_sinds_vorige"] == "* / *"
    assert headline["actief"] == "17"
    runs = next(t for _, t in report.tables if t.key == "runs")
    assert runs.values["present"].tolist() == [20, 16, 17]
    assert runs.display()["cleaned"].tolist() == [0, "<5", "*"]
    assert runs.display()["present"].tolist() == [20, "*", 17]
    assert "8 november 2026" in report.trend_note

    first_only = build_fg_report(pd.DataFrame(rows[:10]), _runs("r1"), 5, "en", now=NOW)
    assert "first completed run" in first_only.trend_note
    assert {k: v for k, _, v in first_only.headline}["opgeruimd_sinds_vorige"] == "no previous run yet"


def test_failed_runs_do_not_count_as_previous_report() -> None:
    runs = _runs("r1", "r2", "r3")
    runs.loc[1, "status"] = "failed"
    rows = [_item(i, ["cijfers"], first="r1", state="opgeruimd", closed_at="2026-11-09 02:30") for i in range(5)]
    rows += [_item(10 + i, ["cijfers"]) for i in range(5)]
    report = build_fg_report(pd.DataFrame(rows), runs, 5, "nl", now=NOW)
    assert "1 november 2026" in report.trend_note
    assert {k: v for k, _, v in report.trend}["opgeruimd"] == "5"


def test_false_positive_rate() -> None:
    rows = ([_item(i, ["cijfers"]) for i in range(15)]
            + [_item(20 + i, ["cijfers"], fp=True) for i in range(5)]
            + [_item(30 + i, [], student=False) for i in range(50)])  # never flagged: not counted
    report = build_fg_report(pd.DataFrame(rows), _runs("r1"), 5, "nl", now=NOW)
    assert {k: v for k, _, v in report.headline}["vals_positief"] == "25,0%"
    assert "5 van 20" in report.fp_text
    assert {k: v for k, _, v in report.headline}["actief"] == "15"
    few = build_fg_report(pd.DataFrame(rows[:16] ), _runs("r1"), 5, "nl", now=NOW)
    assert {k: v for k, _, v in few.headline}["vals_positief"] == "<5 / 16"


def test_missing_columns_are_a_clear_error() -> None:
    with pytest.raises(ValueError, match="lacks columns"):
        build_fg_report(pd.DataFrame({"item_id": ["a"]}), None)


def test_no_teacher_or_subject_reaches_any_output(tmp_path: Path) -> None:
    items, runs = fg_frames()
    planted = {
        "owner": [f"docent{i % 40}@school.nl" for i in range(len(items))],
        "title": [f"Ziekmelding GEHEIM{i} van leerling" for i in range(len(items))],
        "folder": ["Inbox/Zorg/GEHEIMEMAP"] * len(items),
        "link": ["https://outlook.office.com/mail/GEHEIMLINK"] * len(items),
        "masked": ["*****6782"] * len(items),
    }
    store_side = items.assign(**planted)
    report = build_fg_report(store_side, runs, 5, "nl", school="CSG Het Baken", now=NOW)
    paths = report.write(tmp_path)
    texts = [paths["html"].read_text(encoding="utf-8"), paths["csv"].read_text(encoding="utf-8-sig")]
    with zipfile.ZipFile(paths["xlsx"]) as book:
        texts += [book.read(name).decode("utf-8") for name in book.namelist() if name.endswith(".xml")]
    everything = "\n".join(texts)
    assert "@school.nl" not in everything
    for needle in ("GEHEIM", "Ziekmelding", "6782", "outlook.office.com"):
        assert needle not in everything
    assert "Onderbouw" in everything  # departments are published (merged when small)


def test_outputs_are_self_contained_and_readable(tmp_path: Path) -> None:
    items, runs = fg_frames()
    report = build_fg_report(items, runs, 5, "en", school="CSG Het Baken", now=NOW)
    paths = report.write(tmp_path)
    html = paths["html"].read_text(encoding="utf-8")
    assert "<script" not in html.lower()
    external = re.findall(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", html, re.I)
    assert external == []
    assert html.count("<svg") == 3
    assert "Statistics for the data protection officer" in html
    long = pd.read_csv(paths["csv"], encoding="utf-8-sig")
    assert list(long.columns) == ["tabel", "rij_sleutel", "rij", "kolom", "waarde"]
    assert {"kerncijfers", "categorie", "gevoeligheid", "ouderdom", "afdeling", "runs", "oudste"} <= set(long["tabel"])
    sheets = pd.read_excel(paths["xlsx"], sheet_name=None, engine="openpyxl")
    assert len(sheets) == 7
    by_category = sheets["By category"]
    assert "Health" in by_category.iloc[:, 0].tolist()


def test_charts_never_draw_hidden_values() -> None:
    svg = charts.stacked_bars("t", [("Zorg", {"verlopen": None, "binnenkort": 12, "ok": None}, "20")],
                              [("verlopen", "V"), ("binnenkort", "B"), ("ok", "O")])
    assert svg.count("<rect") == 3 + 1  # three legend swatches, one visible segment
    column_svg = charts.columns("t", [("a", 10), ("b", None)], "<5")
    assert column_svg.count("<rect") == 1 and "&lt;5" in column_svg


@pytest.mark.service
@pytest.mark.slow
def test_fg_report_renders_in_chromium(tmp_path: Path) -> None:
    items, runs = fg_frames()
    paths = build_fg_report(items, runs, 5, "nl", school="CSG Het Baken", now=NOW).write(tmp_path)
    png = screenshot(paths["html"], tmp_path / "fg.png", 1100, 3400)
    assert_not_blank(png)
    phone = screenshot(paths["html"], tmp_path / "fg-phone.png", 390, 3000)
    assert_not_blank(phone)


def test_empty_store_still_gives_a_report(tmp_path: Path) -> None:
    from reports.data import FG_ITEM_COLUMNS

    report = build_fg_report(pd.DataFrame(columns=FG_ITEM_COLUMNS), None, 5, "nl", now=NOW)
    headline = {key: value for key, _, value in report.headline}
    assert headline["actief"] == "0" and headline["vals_positief"] == "nog geen markeringen"
    paths = report.write(tmp_path)
    assert "Per categorie" in paths["html"].read_text(encoding="utf-8")


def test_department_names_cannot_become_formulas(tmp_path: Path) -> None:
    rows = [_item(i, ["cijfers"], department="=HYPERLINK(\"http://x\",\"klik\")") for i in range(6)]
    paths = build_fg_report(pd.DataFrame(rows), _runs("r1"), 5, "nl", now=NOW).write(tmp_path)
    from openpyxl import load_workbook

    book = load_workbook(paths["xlsx"])
    values = [c.value for sheet in book.worksheets for row in sheet.iter_rows() for c in row]
    assert not any(isinstance(v, str) and v.startswith("=") for v in values)
    assert "'=HYPERLINK" in paths["csv"].read_text(encoding="utf-8-sig")


def test_store_shapes_integer_run_ids_and_json_categories() -> None:
    rows = [_item(i, ["cijfers"], first=None) for i in range(5)] + [_item(10 + i, ["zorg"]) for i in range(6)]
    frame = pd.DataFrame(rows)
    frame["first_seen_run"] = [None] * 5 + [2] * 6  # pandas makes this a float column: 2.0
    frame["categories"] = ['["cijfers"]'] * 5 + ["zorg, verzuim"] * 6
    runs = _runs("1", "2")
    runs["run_id"] = [1, 2]
    report = build_fg_report(frame, runs, 5, "nl", now=NOW)
    assert {k: v for k, _, v in report.trend}["nieuw"] == "6"
    assert _cell(report, "categorie", "verzuim", "actief") == 6
    assert _cell(report, "categorie", "cijfers", "actief") == 5


def test_items_to_archive_are_counted_apart() -> None:
    rows = ([{**_item(i, ["cijfers"]), "action": "archiveren"} for i in range(6)]
            + [{**_item(10 + i, ["cijfers"]), "action": "dossier_en_verwijderen"} for i in range(9)]
            + [{**_item(30 + i, ["zorg"]), "action": "archiveren"} for i in range(2)])
    report = build_fg_report(pd.DataFrame(rows), _runs("r1", "r2", "r3"), 5, "nl", now=NOW)
    assert _cell(report, "archief", "cijfers", "actief") == 6
    assert _cell(report, "categorie", "cijfers", "actief") == 15
    assert _cell(report, "archief", "zorg", "actief") == "<5"  # k-anonymous like every table
    assert "Te archiveren (Archiefwet), per categorie" in report.html()
    assert "archief" in set(report.long_frame()["tabel"])
    # a caller without the action column gets the report as before
    plain = build_fg_report(pd.DataFrame([{k: v for k, v in r.items() if k != "action"} for r in rows]),
                            _runs("r1", "r2", "r3"), 5, "nl", now=NOW)
    assert "archief" not in {t.key for _, t in plain.tables}
