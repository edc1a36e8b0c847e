"""The FG's clean-up figures (issue 18, item 6) on a constructed history (tests/reports/
cleanup_data.py), worked out by hand: exact published values, the adversary with a solver
(written here from the published layout, not from reports.disclosure), differencing between
two reports a week apart and between two declarations over overlapping periods, and the
planted values of the input never reaching an output."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import pytest
from scipy.optimize import linprog

from reports.cleanup import (
    block_end,
    block_of,
    block_start,
    blocks_between,
    build_cleanup,
    complete_blocks,
)
from reports.vernietiging import declaration
from tests.planted import notations, valid_bsns
from tests.reports.cleanup_data import NOW, at, history

K = 5
PLANTED = valid_bsns(1)[0]


@pytest.fixture(scope="module")
def figures():
    items, answers = history(PLANTED)
    return build_cleanup(items, answers, blocks=complete_blocks(NOW, 2), min_group_size=K, now=NOW)


def shown(table) -> pd.DataFrame:
    return table.display()


def test_blocks_are_four_whole_iso_weeks():
    assert block_start(36) == date(2026, 10, 5) and block_end(36) == date(2026, 11, 1)
    assert block_start(36).isoweekday() == 1 and block_end(36).isoweekday() == 7
    assert complete_blocks(NOW, 2) == [36, 37]
    assert block_of(NOW.date()) == 38  # the running block is never published
    assert blocks_between(date(2026, 10, 1), date(2026, 11, 30), NOW) == [36, 37]
    assert blocks_between(date(2026, 10, 6), date(2026, 11, 29), NOW) == [37]  # 5 Oct missing: 36 left out
    items, answers = history()
    with pytest.raises(ValueError):
        build_cleanup(items, answers, blocks=[38], now=NOW)


def test_exact_figures_of_a_block(figures):
    block = figures.blocks[0]
    assert block.label == "week 41-44 2026 (5 oktober 2026 t/m 1 november 2026)"
    assert figures.blocks[1].label.startswith("week 45-48 2026")
    from reports.cleanup import block_label

    assert block_label(39, "en") == "week 53 2026 - 3 2027 (28 December 2026 to 24 January 2027)"
    totals = shown(block.totals)
    # 12 Onderbouw + 6 Bovenbouw + 3 Praktijk cleaned; 6 held; the false positive reversed within the block
    assert totals.loc["totaal", "opgeruimd"] == 21 and totals.loc["totaal", "bewaard"] == 6
    assert totals.loc["totaal", "geen_ll"] == 0
    assert block.totals.values.loc["totaal", "verplaatst"] == 6
    assert totals.loc["totaal", "verplaatst"] == "*"  # six items of three teachers: concentrated
    weeks = shown(block.weeks)
    assert list(block.weeks.values["opgeruimd"]) == [6, 6, 6, 3]
    assert list(weeks["opgeruimd"]) == ["*", "*", 6, "<5"]  # weeks 41 and 42: three teachers each
    categories = shown(block.categories)
    assert categories.loc["identificatie", "opgeruimd"] == 18 and categories.loc["zorg", "bewaard"] == 6
    assert categories.loc["gezondheid", "opgeruimd"] == "<5"
    departments = shown(block.departments)
    # Praktijk (one teacher) is merged; "overig" of one teacher is too small, so Bovenbouw joins it
    assert list(departments.index) == ["Onderbouw", "__overig__"]
    assert departments.loc["Onderbouw", "opgeruimd"] == 12 and departments.loc["__overig__", "opgeruimd"] == 9
    # median days from the first digest: 1,1..8,8..15,15..22,22,22 -> 8; Onderbouw 1 and 8 -> 4.5 -> 4
    assert block.medians["totaal"]["totaal"] == "8" and block.medians["categorie"]["zorg"] == "15"
    assert block.medians["categorie"]["gezondheid"] == "<5"
    assert block.rules == {"zorg": ["email_leerling"], "identificatie": ["email_leerling"]}


def test_answered_within_three_weeks_of_the_first_digest(figures):
    category, department, total = figures.blocks[0].cohort
    # 33 items first named on 5 Oct; within 21 days: 12 Onderbouw cleaned, 6 Bovenbouw
    # cleaned, 6 held, the false positive answered; not: Praktijk (22 days), five never answered
    assert shown(total).loc["totaal", "overzicht"] == 33 and shown(total).loc["totaal", "binnen_3_weken"] == 25
    assert shown(category).loc["zorg", "binnen_3_weken"] == 12
    section = figures.sections()[0]["cohort"][2]
    assert section["rows"][0][1] == ["33", "25", "76%"]
    # block 37 ended on 29 November: its cohort has not had three weeks yet
    assert figures.blocks[1].cohort is None
    assert shown(figures.blocks[1].totals).loc["totaal", "geen_ll"] == 5


def test_no_input_column_beyond_the_contract_reaches_an_output(figures):
    items, answers = history(PLANTED)
    made = declaration(figures, school="De Proefschool", start=date(2026, 10, 1), end=date(2026, 11, 30),
                       issued=NOW)
    outputs = [made.html(), made.csv(), str(figures.long_rows()), str(figures.sections())]
    for text in outputs:
        for form in notations(PLANTED):
            assert form not in text
        assert "@school.nl" not in text and "Dossier" not in text
        assert not any(f"'{owner}'" in text or f">{owner}<" in text for owner in set(items["owner_key"]))


# --- the adversary ---------------------------------------------------------------------------


def intervals(block) -> dict[tuple, tuple[float, float, int]]:
    """From the published cells of one block and the relations an FG knows (weeks and
    departments add up to the total, a category is at most the total, moved is part of
    cleaned), the smallest and largest value of each hidden cell, with its true value."""
    tables = {"T": block.totals, "weken": block.weeks, "categorie": block.categories, "afdeling": block.departments}
    index: dict[tuple, int] = {}
    bounds, truth = [], {}
    for name, table in tables.items():
        display = table.display()
        for row in table.values.index:
            for column in table.values.columns:
                key = (name, row, column)
                index[key] = len(bounds)
                text = str(display.loc[row, column])
                truth[key] = int(table.values.loc[row, column])
                bounds.append((1, K - 1) if text == f"<{K}" else (1, None) if text == "*" else (int(text), int(text)))
    eq, le = [], []
    for name in ("weken", "afdeling"):
        table = tables[name]
        for column in table.values.columns:
            eq.append({**{(name, r, column): 1 for r in table.values.index}, ("T", "totaal", column): -1})
    for row in block.categories.values.index:
        for column in block.categories.values.columns:
            le.append({("categorie", row, column): 1, ("T", "totaal", column): -1})
    for name, table in tables.items():
        if "verplaatst" in table.values.columns:
            for row in table.values.index:
                le.append({(name, row, "verplaatst"): 1, (name, row, "opgeruimd"): -1})

    def matrix(rows):
        return [[float(r.get(key, 0)) for key in index] for r in rows] or None

    out = {}
    for key, i in index.items():
        if bounds[i][0] == bounds[i][1]:
            continue
        ends = []
        for sign in (1.0, -1.0):
            objective = [0.0] * len(index)
            objective[i] = sign
            result = linprog(objective, A_ub=matrix(le), b_ub=[0.0] * len(le) if le else None, A_eq=matrix(eq),
                             b_eq=[0.0] * len(eq) if eq else None, bounds=bounds, method="highs")
            assert result.status in (0, 3)
            ends.append(float("inf") if result.status == 3 else sign * result.fun)
        out[key] = (ends[0], ends[1], truth[key])
    return out


def test_the_adversary_pins_no_hidden_cell(figures):
    checked = 0
    for block in figures.blocks:
        for key, (low, high, true) in intervals(block).items():
            assert low <= true <= high, key
            assert high - low >= max(2, min(true, 99)) - 1e-6 or high - low >= 2 and true < K, (key, low, high, true)
            checked += 1
    assert checked >= 8


def test_two_reports_a_week_apart_publish_the_same_cells():
    items, answers = history(PLANTED)
    before = build_cleanup(items, answers, blocks=[36, 37], now=NOW)
    # a week later more was cleaned (in block 38), and an old answer was reversed
    later_items = pd.concat([items, pd.DataFrame([{
        "item_id": f"x{n}", "owner_key": "t1", "department": "Onderbouw", "categories": ["identificatie"],
        "state": "opgeruimd", "closed_at": at(1, 12), "status": "verlopen", "rule_id": "email_leerling",
        "first_digest_at": at(3, 11), "false_positive": False} for n in range(4)])], ignore_index=True)
    later_answers = answers.copy()
    later_answers.loc[later_answers["action"] == "bewaren", "reversed_at"] = at(5, 12)
    after = build_cleanup(later_items, later_answers, blocks=[36, 37], now=NOW + timedelta(days=7))
    for one, two in zip(before.blocks, after.blocks, strict=True):
        for a, b in zip(one.tables(), two.tables(), strict=True):
            assert a.display().equals(b.display()), a.key


def test_two_declarations_share_their_common_blocks(figures):
    items, answers = history(PLANTED)
    wide = declaration(build_cleanup(items, answers, blocks=blocks_between(date(2026, 10, 1), date(2026, 11, 30), NOW),
                                     now=NOW), school="S", start=date(2026, 10, 1), end=date(2026, 11, 30), issued=NOW)
    narrow = declaration(build_cleanup(items, answers, blocks=[36], now=NOW), school="S", start=date(2026, 10, 5),
                         end=date(2026, 11, 1), issued=NOW)
    assert [r for r in wide.rows() if r["from"] == "2026-10-05"] == narrow.rows()
    # no total over several blocks unless every part is published
    assert wide.period_total() == "21" and narrow.period_total() == "21"
    rows = {(r["category"], r["from"]): r for r in narrow.rows()}
    assert rows[("Identificatie (BSN, ID-bewijs)", "2026-10-05")]["total"] == "18"
    assert rows[("Identificatie (BSN, ID-bewijs)", "2026-10-05")]["moved"] == "*"
    assert rows[("Gezondheid", "2026-10-05")] | {"period": ""} == {
        "period": "", "from": "2026-10-05", "to": "2026-11-01", "category": "Gezondheid", "total": "<5",
        "moved": "0", "deleted": "<5", "rules": "", "is_total": False}
    csv_text = narrow.csv()
    assert "Vernietigingsverklaring" in csv_text and "S" in csv_text and "email_leerling" in csv_text


def test_a_block_total_does_not_give_away_a_hidden_run_of_the_fg_report():
    """The FG report's runs table shows per run how many items were cleaned; the runs inside
    a block add up to at most the block total, the runs that touch it to at least. Two runs
    covering block 36 exactly (3 hidden as <5, 18 shown) and a published block total of 21
    would pin the hidden 3: the block total is hidden then."""
    from datetime import UTC, datetime

    from reports.cleanup import RunCell

    items, answers = history(PLANTED)
    plain = build_cleanup(items, answers, blocks=[36], now=NOW)
    assert shown(plain.blocks[0].totals).loc["totaal", "opgeruimd"] == 21
    runs = [RunCell("1", datetime(2026, 10, 4, 22, 0, tzinfo=UTC), datetime(2026, 10, 12, 1, 0, tzinfo=UTC), 3, "<5"),
            RunCell("2", datetime(2026, 10, 12, 1, 0, tzinfo=UTC), datetime(2026, 10, 31, 1, 0, tzinfo=UTC), 18, "18")]
    linked = build_cleanup(items, answers, blocks=[36], now=NOW, runs=runs)
    total = shown(linked.blocks[0].totals).loc["totaal", "opgeruimd"]
    assert total != 21  # with 21 shown, 21 - 18 = 3
    # the other tables are protected with it: the department rows and the weeks add up to it
    assert not all(str(v).isdigit() for v in shown(linked.blocks[0].departments)["opgeruimd"])
    assert not all(str(v).isdigit() for v in shown(linked.blocks[0].weeks)["opgeruimd"])


def test_the_fg_report_publishes_the_same_cleanup_cells_in_html_csv_and_xlsx(figures, tmp_path):
    from reports.fg import build_fg_report
    from tests.reports.test_reports_fg import _item

    report = build_fg_report(pd.DataFrame([_item(n, ["zorg"]) for n in range(6)]), None, min_group_size=K, now=NOW,
                             cleanup=figures)
    paths = report.write(tmp_path)
    csv_frame = pd.read_csv(paths["csv"], dtype=str, keep_default_na=False)
    cleanup_rows = csv_frame[csv_frame["tabel"].str.startswith("opruimen.")]
    assert len(cleanup_rows) == len(figures.long_rows())
    total = cleanup_rows[(cleanup_rows["tabel"] == "opruimen.36.totaal") & (cleanup_rows["kolom"] == "opgeruimd")]
    assert total["waarde"].tolist() == ["21"]
    sheet = pd.read_excel(paths["xlsx"], sheet_name="Opruimen door docenten", dtype=str)
    assert sheet["waarde"].fillna("").tolist() == [str(r["waarde"]) for r in figures.long_rows()]
    html = paths["html"].read_text(encoding="utf-8")
    assert 'id="opruimen"' in html and 'id="blok-36"' in html and "76%" in html


def test_a_store_without_answers_or_clean_up():
    items, answers = history(PLANTED)
    empty = build_cleanup(items.iloc[0:0], answers.iloc[0:0], blocks=[36], now=NOW)
    assert empty.blocks[0].totals.values.loc["totaal", "opgeruimd"] == 0 and empty.blocks[0].cohort is not None
    unanswered = build_cleanup(items, answers.iloc[0:0], blocks=[36], now=NOW)
    assert shown(unanswered.blocks[0].totals).loc["totaal", "bewaard"] == 0


def test_a_move_by_the_school_policy_is_no_answer_within_three_weeks():
    """Enforcement (issue 18 item 5) moves what nobody answered: it is cleaned and moved, as
    the proof of deletion must say, but no teacher answered in time."""
    items, answers = history(PLANTED)
    moved = (answers["action"] == "verwijderen") & (answers["outcome"] == "moved")
    assert moved.sum() == 6
    policy = answers.assign(by_policy=moved)
    before = build_cleanup(items, answers, blocks=complete_blocks(NOW, 2), min_group_size=K, now=NOW)
    after = build_cleanup(items, policy, blocks=complete_blocks(NOW, 2), min_group_size=K, now=NOW)
    *_, total = after.blocks[0].cohort
    assert shown(total).loc["totaal", "binnen_3_weken"] == 25 - 6
    assert shown(after.blocks[0].totals).equals(shown(before.blocks[0].totals))  # cleaned, moved: the same
