"""The FG as an adversary with a solver (issue 16, item 1).

From what one report publishes (every table, the headline and the trend lines, as the CSV
shows them) and every relation an FG can know (a row's total is its parts, the tables that
count each item once add up to the headline, a category is at most the total, the items
present at one run are those of the run before plus the new minus the cleaned, and the
present at the last run are the active ones, the items to archive of a category are among that
category's items), a linear program finds the smallest and the
largest value each hidden cell can have. Every ``<k`` cell must keep an interval at least 2
wide (three possible counts; for k = 5): never pinned to one count, nor to two. The same
holds over two consecutive reports together (the runs rows of the earlier one are the same
unknowns in the later one), and the CSV, the XLSX and the HTML publish exactly the same cells.

The relations are written here from the published layout, not taken from
``reports.disclosure``: the test checks the protection, not the protector's own model.
"""

from __future__ import annotations

import html
import io
import random
import zipfile

import pandas as pd
import pytest
from scipy.optimize import linprog

from reports.fg import build_fg_report
from tests.reports.test_reports_fg import NOW, _item, _runs

K = 5
PARTS = ["verlopen", "binnenkort", "ok"]
HEAD = {"actief", "verlopen", "binnenkort", "opgeruimd", "nog_verlopen"}


class Adversary:
    def __init__(self) -> None:
        self.index: dict[tuple, int] = {}
        self.bounds: list[tuple[float | None, float | None]] = []
        self.eq: list[tuple[dict[tuple, int], float]] = []
        self.le: list[tuple[dict[tuple, int], float]] = []
        self.small: set[tuple] = set()

    def var(self, key: tuple, shown: object = None, true: int | None = None) -> tuple:
        if key not in self.index:
            self.index[key] = len(self.bounds)
            self.bounds.append((0, None))
        if shown is not None:
            text = str(shown)
            i = self.index[key]
            if text == f"<{K}":
                self.bounds[i] = (1, K - 1)
                self.small.add(key)
            elif text == "*":  # hidden; zero is always shown
                self.bounds[i] = (1, None)
                if true is not None and 0 < true < K:  # a small cell shown as *: protected alike
                    self.small.add(key)
            else:
                self.bounds[i] = (int(text), int(text))
        return key

    def interval(self, key: tuple) -> tuple[float, float]:
        n = len(self.bounds)

        def rows(relations):
            out_a, out_b = [], []
            for terms, rhs in relations:
                row = [0.0] * n
                for k, c in terms.items():
                    row[self.index[k]] += c
                out_a.append(row)
                out_b.append(rhs)
            return out_a or None, out_b or None

        a_eq, b_eq = rows(self.eq)
        a_le, b_le = rows(self.le)
        ends = []
        for sign in (1, -1):
            c = [0.0] * n
            c[self.index[key]] = sign
            res = linprog(c, A_ub=a_le, b_ub=b_le, A_eq=a_eq, b_eq=b_eq, bounds=self.bounds, method="highs")
            ends.append(float("inf") if res.status == 3 else sign * res.fun)
            assert res.status in (0, 3), res.message
        return ends[0], ends[1]


def observe(adv: Adversary, report, tag: str, truth: dict) -> None:
    """Add what one report publishes; ``truth`` gives the offsets of the runs relations."""
    head = {key: value for key, _, value in report.headline}
    head.update({f"trend_{key}": value for key, _, value in report.trend})
    total = {c: adv.var((tag, "H", c), head[c]) for c in ("actief", "verlopen", "binnenkort", "opgeruimd")}
    total["ok"] = adv.var((tag, "H", "ok"))
    adv.eq.append(({total["actief"]: 1, total["verlopen"]: -1, total["binnenkort"]: -1, total["ok"]: -1}, 0))
    still = adv.var((tag, "H", "nog"), head["trend_nog_verlopen"])
    adv.le.append(({still: 1, total["verlopen"]: -1}, 0))
    for _, table in report.tables:
        shown = table.display()
        if table.key == "runs":
            rows = [str(r) for r in table.values.index]
            for r in rows:
                for c in ("present", "new", "cleaned"):
                    # one run, one unknown, in every report
                    adv.var(("runs", r, c), shown.loc[r, c], int(table.values.loc[r, c]))
            for before, after in zip(rows, rows[1:], strict=False):
                offset = truth["runs"][after]
                adv.eq.append(({("runs", after, "present"): 1, ("runs", before, "present"): -1,
                                ("runs", after, "new"): -1, ("runs", after, "cleaned"): 1}, offset))
            if rows:
                adv.eq.append(({("runs", rows[-1], "present"): 1, total["actief"]: -1}, truth[tag]))
                adv.var(("runs", rows[-1], "new"), head["trend_nieuw"])
                if "trend_opgeruimd" in head:
                    adv.var(("runs", rows[-1], "cleaned"), head["trend_opgeruimd"])
            continue
        counts = list(table.values.columns)
        for r in table.values.index:
            cell = {c: adv.var((tag, table.key, str(r), c), shown.loc[r, c], int(table.values.loc[r, c]))
                    for c in counts}
            if "ok" not in cell:
                cell["ok"] = adv.var((tag, table.key, str(r), "ok"))
            adv.eq.append(({cell["actief"]: 1, **{cell[p]: -1 for p in PARTS}}, 0))
        for c in [*counts, *(["ok"] if "ok" not in counts else [])]:
            cells = [(tag, table.key, str(r), c) for r in table.values.index]
            if table.key in ("categorie", "archief", "breed_categorie"):
                for cell in cells:
                    adv.le.append(({cell: 1, total[c]: -1}, 0))
                if table.key in ("archief", "breed_categorie"):  # among the category's own items
                    for cell in cells:
                        adv.le.append(({cell: 1, (tag, "categorie", *cell[2:]): -1}, 0))
                if table.key == "breed_categorie":  # at most all broadly shared items
                    for cell in cells:
                        adv.le.append(({cell: 1, adv.var((tag, "breed", c)): -1}, 0))
            elif table.key == "breed_afdeling":
                # every broadly shared item once, by department: the column adds up to their
                # number, which is not published, is at most the total, and each cell is part
                # of the same department's cell
                broad = adv.var((tag, "breed", c))
                adv.eq.append(({**dict.fromkeys(cells, 1), broad: -1}, 0))
                adv.le.append(({broad: 1, total[c]: -1}, 0))
                for cell in cells:
                    adv.le.append(({cell: 1, (tag, "afdeling", *cell[2:]): -1}, 0))
            elif c in table.values.columns:
                # a column adds up to the total up to what it does not count (items without a
                # sensitivity): the adversary is given that offset, the strongest assumption
                offset = int(table.values[c].sum()) - truth["totals"][c]
                adv.eq.append(({**dict.fromkeys(cells, 1), total[c]: -1}, offset))


def truth_of(report, tag: str) -> dict:
    runs = next(t for _, t in report.tables if t.key == "runs").values
    rows = [str(r) for r in runs.index]
    offsets = {after: int(runs.loc[after, "present"] - runs.loc[before, "present"] - runs.loc[after, "new"]
                          + runs.loc[after, "cleaned"]) for before, after in zip(rows, rows[1:], strict=False)}
    ages = report.tables[2][1].values  # active items, each once
    departments = report.tables[3][1].values  # every item, each once
    totals = {c: int(ages[c].sum()) for c in ("actief", "verlopen", "binnenkort", "ok")}
    totals["opgeruimd"] = int(departments["opgeruimd"].sum())
    active = totals["actief"]
    return {"runs": offsets, "totals": totals, tag: int(runs.loc[rows[-1], "present"]) - active if rows else 0}


def school(seed: int, size: int) -> list[dict]:
    rng = random.Random(seed)
    departments = ["Onderbouw", "Bovenbouw", "Gym", "Muziek", None]
    rows = []
    for i in range(size):
        state = "opgeruimd" if rng.random() < 0.2 else "actief"
        first = rng.choice(["r1", "r1", "r2", "r3"])
        closed = None
        if state == "opgeruimd":
            closed = rng.choice(["2026-11-08 02:30", "2026-11-15 02:30"])
            first = "r1"
        rows.append(_item(i, rng.sample(["zorg", "verzuim", "cijfers", "gezondheid", "religie"], rng.choice([1, 1, 2])),
                          status=rng.choice(["verlopen", "verlopen", "binnenkort", "ok"]), state=state,
                          department=rng.choice(departments), age_days=rng.choice([100, 500, 1000, 3000]),
                          first=first, closed_at=closed, sensitivity=rng.choice(["normaal", "hoog", "bijzonder"])))
        rows[-1]["action"] = "archiveren" if i % 6 == 0 else "dossier_en_verwijderen"  # Archiefwet records
        rows[-1]["broad"] = i % 5 == 1 or (i % 7 == 3 and rows[-1]["department"] == "Gym")  # breed gedeeld
    return rows


def assert_protected(adv: Adversary) -> int:
    pinned = []
    for key in sorted(adv.small, key=str):
        low, high = adv.interval(key)
        if high - low < 2 - 1e-6:
            pinned.append((key, low, high))
    assert not pinned, pinned
    return len(adv.small)


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5, 6])
def test_no_small_cell_can_be_worked_out_from_one_report(seed: int) -> None:
    rows = school(seed, 40 + 7 * seed)
    report = build_fg_report(pd.DataFrame(rows), _runs("r1", "r2", "r3"), K, "nl", now=NOW)
    adv = Adversary()
    observe(adv, report, "now", truth_of(report, "now"))
    assert assert_protected(adv) > 0  # the data has small cells to protect


@pytest.mark.parametrize("seed", [7, 8, 9])
def test_two_consecutive_reports_together_reveal_no_small_cell(seed: int) -> None:
    rows = school(seed, 60)
    before = [r for r in rows if r["first_seen_run"] != "r3"]
    for r in before:  # as the store stood after r2: what was cleaned in r3 was still there
        if r["closed_at"] is not None and r["closed_at"] > pd.Timestamp("2026-11-08 04:00", tz="UTC"):
            r.update(state="actief", closed_at=None)
    earlier = build_fg_report(pd.DataFrame(before), _runs("r1", "r2"), K, "nl", now=NOW)
    later = build_fg_report(pd.DataFrame(rows), _runs("r1", "r2", "r3"), K, "nl", now=NOW)
    runs_then = next(t for _, t in earlier.tables if t.key == "runs").display()
    runs_now = next(t for _, t in later.tables if t.key == "runs").display()
    # every row the earlier report published is shown alike (and equal where both show numbers)
    assert runs_now.loc[runs_then.index].astype(str).equals(runs_then.astype(str))
    adv = Adversary()
    observe(adv, earlier, "then", truth_of(earlier, "then"))
    observe(adv, later, "now", truth_of(later, "now"))
    assert_protected(adv)


def test_csv_xlsx_and_html_publish_the_same_cells(tmp_path) -> None:
    report = build_fg_report(pd.DataFrame(school(11, 50)), _runs("r1", "r2", "r3"), K, "nl", now=NOW)
    paths = report.write(tmp_path)
    csv = pd.read_csv(io.BytesIO(paths["csv"].read_bytes()), encoding="utf-8-sig", dtype=str)
    long = report.long_frame().astype(str)
    assert csv["waarde"].fillna("").str.lstrip("'").tolist() == long["waarde"].tolist()
    text = html.unescape(paths["html"].read_text(encoding="utf-8"))
    book = pd.read_excel(paths["xlsx"], sheet_name=None, dtype=str)
    with zipfile.ZipFile(paths["xlsx"]):
        pass
    for title, table in report.tables:
        shown = table.display().astype(str)
        sheet = next(frame for name, frame in book.items() if title.startswith(name[:20]))
        values = sheet.iloc[:, 1:].astype(str).reset_index(drop=True)
        published = shown.reset_index(drop=True)
        published.columns = values.columns
        assert values.equals(published), title
        for value in shown.to_numpy().ravel():
            assert value in text


def test_the_runs_table_gives_no_small_count_away() -> None:
    """The issue's example: present 20 then 22 with nothing cleaned says "2 new" however the
    new count is labelled."""
    rows = ([_item(i, ["cijfers"], first="r1") for i in range(20)]
            + [_item(100 + i, ["verzuim"], first="r2") for i in range(2)])
    report = build_fg_report(pd.DataFrame(rows), _runs("r1", "r2"), K, "nl", now=NOW)
    adv = Adversary()
    observe(adv, report, "now", truth_of(report, "now"))
    assert ("runs", "r2", "new") in adv.small
    assert_protected(adv)


def test_a_merged_group_of_one_teacher_is_not_shown() -> None:
    """Five teachers in Onderbouw and one in Directie: "overig" would be that one teacher."""
    rows = [_item(i, ["cijfers"], department="Onderbouw") for i in range(25)]
    rows += [_item(100 + i, ["cijfers"], department="Directie") for i in range(50)]
    frame = pd.DataFrame(rows)
    frame["owner_key"] = [f"o{i % 5}" for i in range(25)] + ["director"] * 50
    report = build_fg_report(frame, _runs("r1"), K, "nl", now=NOW)
    table = next(t for _, t in report.tables if t.key == "afdeling")
    # Directie alone is too small, and "overig" = Directie would be one teacher: Onderbouw
    # joins it, and the table is the whole school (6 teachers)
    assert list(table.values.index) == ["__overig__"]
