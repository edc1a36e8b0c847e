"""Small-cell protection for the FG statistics (minimum group size k).

A count below k (but above zero) is not published: it is shown as ``<k`` (primary
suppression). Hiding one cell is not enough when totals are published next to it: with
``actief = 12`` and ``verlopen = 9`` shown, a hidden ``binnenkort`` of 3 is simple arithmetic,
and with ``actief = 6`` a hidden ``binnenkort`` of at least 5 leaves 1 for the small cell. So
every published count of a report and every relation between them (row totals, column
totals, the headline, the runs) form one linear system, and secondary cells (shown as ``*``)
are added greedily until a linear program, the adversary, leaves every ``<k`` cell at least
three possible counts (:func:`suppress`, :func:`audit`, :func:`protection`; see
docs/decisions.md).

Zero is published: "no items" about a group of people is not information about a person.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

SECONDARY = "*"


@dataclass
class ProtectedTable:
    """A table of counts with its suppression masks and display labels."""

    key: str
    values: pd.DataFrame  # int counts; index = row keys, columns = column keys
    row_labels: dict[str, str] = field(default_factory=dict)
    column_labels: dict[str, str] = field(default_factory=dict)
    primary: pd.DataFrame | None = None
    secondary: pd.DataFrame | None = None
    k: int = 5
    extra: pd.DataFrame | None = None
    """Non-count columns shown before the counts (labels such as sensitivity)."""

    def display(self) -> pd.DataFrame:
        """The table as published: counts, ``<k`` and ``*`` (strings), labelled."""
        shown = self.values.astype(object).copy()
        if self.primary is not None:
            shown = shown.mask(self.primary, f"<{self.k}")
        if self.secondary is not None:
            shown = shown.mask(self.secondary & ~(self.primary if self.primary is not None else False),
                               SECONDARY)
        if self.extra is not None:
            shown = pd.concat([self.extra, shown], axis=1)
        return shown

    def is_hidden(self, row: str, column: str) -> bool:
        hidden = False
        if self.primary is not None:
            hidden |= bool(self.primary.loc[row, column])
        if self.secondary is not None:
            hidden |= bool(self.secondary.loc[row, column])
        return hidden

    def visible_value(self, row: str, column: str) -> int | None:
        """The count when it may be shown, else ``None`` (charts use this, never ``values``)."""
        return None if self.is_hidden(row, column) else int(self.values.loc[row, column])


Cell = tuple[str, str, str]
"""``(table, row, column)``; table ``"_"`` names a quantity that is never published (the
number of items with status ok across the school), which the adversary may still reason with."""


@dataclass
class Relation:
    """``sum(coef * cell) (== or <=) rhs``; an equation's ``rhs`` is computed from the true
    counts, so the auditor's adversary knows every relation exactly (a stronger adversary
    than a real one)."""

    terms: dict[Cell, int]
    kind: str = "eq"  # eq | le
    rhs: int = 0


@dataclass
class Problem:
    """Every published count of one report and how they hang together."""

    values: dict[Cell, int] = field(default_factory=dict)
    relations: list[Relation] = field(default_factory=list)

    def add(self, terms: dict[Cell, int], kind: str = "eq") -> None:
        """An equation holds with the offset the true counts give it (usually 0); an
        inequality is the structural one, ``<= 0`` (a part is at most its whole)."""
        rhs = sum(coef * self.values.get(cell, 0) for cell, coef in terms.items()) if kind == "eq" else 0
        self.relations.append(Relation(terms, kind, rhs))


def _bounds(problem: Problem, k: int, primary: set[Cell], secondary: set[Cell]
            ) -> list[tuple[float | None, float | None]]:
    """What the adversary knows of each cell: a published value; ``<k`` means 1..k-1; ``*``
    means at least 1 (zero is published, and a small cell may be shown as ``*``); an
    unpublished quantity is only non-negative."""
    bounds: list[tuple[float | None, float | None]] = []
    for cell, value in problem.values.items():
        if cell[0] == "_":
            bounds.append((0, None))
        elif cell in primary:
            bounds.append((1, k - 1))
        elif cell in secondary:
            bounds.append((1, None))  # may be a small cell shown as * (see suppress)
        else:
            bounds.append((value, value))
    return bounds


def audit(problem: Problem, k: int, primary: set[Cell], secondary: set[Cell],
          cells: set[Cell] | None = None) -> dict[Cell, tuple[float, float]]:
    """The interval the published tables leave for each hidden cell: the minimum and maximum
    of a linear program over every cell, with the published values fixed, the relations,
    and the bounds of :func:`_bounds`. This is what an adversary with a solver learns."""
    from scipy.optimize import linprog

    index = {cell: i for i, cell in enumerate(problem.values)}
    bounds = _bounds(problem, k, primary, secondary)
    eq_rows: list[list[float]] = []
    le_rows: list[list[float]] = []
    eq_rhs: list[float] = []
    le_rhs: list[float] = []
    for relation in problem.relations:
        row = [0.0] * len(index)
        for cell, coef in relation.terms.items():
            row[index[cell]] += coef
        (eq_rows if relation.kind == "eq" else le_rows).append(row)
        (eq_rhs if relation.kind == "eq" else le_rhs).append(relation.rhs)
    result: dict[Cell, tuple[float, float]] = {}
    for cell in sorted(cells if cells is not None else primary | secondary):
        ends = []
        for sign in (1.0, -1.0):
            objective = [0.0] * len(index)
            objective[index[cell]] = sign
            answer = linprog(objective, A_ub=le_rows or None, b_ub=le_rhs or None,
                             A_eq=eq_rows or None, b_eq=eq_rhs or None, bounds=bounds, method="highs")
            if answer.status == 3:  # unbounded: only a maximum can be (counts are >= 0)
                ends.append(float("inf"))
            elif answer.status != 0:
                raise RuntimeError(f"onderdrukking niet te toetsen / suppression audit failed ({answer.message})")
            else:
                ends.append(sign * answer.fun)  # min x, then -min(-x) = max x
        result[cell] = (ends[0], ends[1])
    return result


def protection(k: int) -> int:
    """The width of the interval the published tables must leave a ``<k`` cell: 2 (three
    possible counts) for k >= 4. Not the whole of 1..k-1: two small parts under a small
    total already make that total at least 2 by their labels alone."""
    return max(1, min(2, k - 2))


def safe(interval: tuple[float, float], k: int, width: float | None = None) -> bool:
    """The protection claimed for a primary cell: the adversary's interval is at least
    :func:`protection` wide, so the cell is never pinned to one count or two (``width``: the
    wider interval a concentrated cell needs, :func:`need`)."""
    low, high = interval
    return high - low >= (protection(k) if width is None else width) - 1e-6


def need(value: int, k: int) -> float:
    """The interval width a concentrated cell (a count of fewer than k people) must keep: at
    least its own count, so "those few did nothing" and "they did twice as much" both stay
    possible for the adversary."""
    return float(max(protection(k), value))


def suppress(problem: Problem, k: int, frozen: set[Cell] | None = None,
             forced: set[Cell] | None = None,
             concentrated: set[Cell] | None = None) -> tuple[set[Cell], set[Cell]]:
    """Primary suppression (``0 < count < k``), then secondary suppression, greedy with an
    LP audit: while the audit narrows a primary cell below :func:`protection`, hide one more
    published cell that shares a relation with it (through the hidden cells it is linked
    to), preferring a cell with room to absorb a small count (value >= 2k-1), then the
    smallest such; when nothing linked is left, the small cell itself is shown as ``*``.
    Adding suppression only widens intervals, so a cell found safe stays safe.
    ``frozen`` cells are never chosen (rows an earlier report published); ``forced`` cells
    are hidden from the start (their value was hidden elsewhere). ``concentrated`` cells are
    counts of fewer than k people (the clean-up figures: one teacher's week); they are shown as
    ``*`` and protected until the adversary's interval is at least as wide as the count itself,
    so the published tables cannot tell "nothing" from "twice as much" (:func:`need`)."""
    frozen = frozen or set()
    small = {c for c, v in problem.values.items() if c[0] != "_" and 0 < v < k}
    primary = set(small)
    heavy = {c for c in (concentrated or set()) if c not in primary and problem.values.get(c, 0) > 0}
    secondary = {c for c in (forced or set()) if c not in primary and problem.values.get(c, 0) > 0} | heavy
    widths = {c: need(problem.values[c], k) for c in heavy}
    pending = set(small) | heavy
    while pending:
        intervals = audit(problem, k, primary, secondary, pending)
        pending = {c for c, interval in intervals.items() if not safe(interval, k, widths.get(c))}
        if not pending:
            break
        target = min(pending)
        choice = _best_candidate(problem, k, target, primary, secondary, frozen, intervals[target],
                                 widths.get(target))
        if choice is not None:
            secondary.add(choice)
        elif target in primary:
            # The labels alone pin it (four "<5" parts of a "<5" total are all 1): show this
            # small cell as "*", which says less than "<k"
            primary.discard(target)
            secondary.add(target)
        else:
            rest = {c for c, v in problem.values.items()
                    if c[0] != "_" and v > 0 and c not in frozen and c not in primary | secondary}
            if not rest:
                break  # nothing left to hide: the audit test refuses such a report
            secondary |= rest
    return primary, secondary


MAX_TRIES = 24
"""Candidates tried by LP per step (the nearest first); enough for the FG's small tables."""


def _best_candidate(problem: Problem, k: int, target: Cell, primary: set[Cell], secondary: set[Cell],
                    frozen: set[Cell], current: tuple[float, float], width: float | None = None) -> Cell | None:
    """The linked cell whose hiding widens ``target``'s interval most (ties: the smallest
    count, so the least is hidden). Hiding a cell the others still give away (a total the
    runs table publishes) widens nothing and is not chosen; when no single cell widens the
    interval, the nearest roomy one is taken, as a pair may be needed."""
    candidates = _candidates(problem, target, primary | secondary, frozen)
    if not candidates:
        return None
    direct = {c for r in problem.relations if target in r.terms for c in r.terms}
    ordered = sorted(candidates, key=lambda c: (c not in direct, problem.values[c], c))[:MAX_TRIES]
    width = current[1] - current[0]
    best, best_width = None, width
    for cell in ordered:
        low, high = audit(problem, k, primary, secondary | {cell}, {target})[target]
        if high - low > best_width + 1e-9:
            best, best_width = cell, high - low
            if safe((low, high), k, width):
                break
    return best if best is not None else _fallback(problem, k, target, candidates)


def _candidates(problem: Problem, target: Cell, hidden: set[Cell], frozen: set[Cell]) -> set[Cell]:
    """The published, non-zero cells that share a relation with ``target`` or with a hidden
    cell linked to it."""
    linked, frontier, candidates = {target}, [target], set()
    while frontier:
        cell = frontier.pop()
        for relation in problem.relations:
            # inequalities count too: a published part bounds its hidden whole from below
            if cell not in relation.terms:
                continue
            for other in relation.terms:
                if other in linked:
                    continue
                if other in hidden or other[0] == "_":
                    linked.add(other)
                    frontier.append(other)
                elif problem.values.get(other, 0) > 0 and other not in frozen:
                    candidates.add(other)
    return candidates


def _fallback(problem: Problem, k: int, target: Cell, candidates: set[Cell]) -> Cell:
    roomy = [c for c in candidates if problem.values[c] >= 2 * k - 1]
    pool = roomy or list(candidates)
    direct = [c for c in pool if any(target in r.terms and c in r.terms for r in problem.relations)]
    pick_from = direct or pool
    if roomy:
        return min(pick_from, key=lambda c: (problem.values[c], c))
    return max(pick_from, key=lambda c: (problem.values[c], c))


def table_problem(values: pd.DataFrame, name: str, row_sums: list[tuple[str, list[str]]] | None = None,
                  columns_sum_to_total: bool = False, problem: Problem | None = None,
                  total_table: str | None = None) -> Problem:
    """Add one table's cells and relations to ``problem``: each row's total is the sum of its
    parts; with ``columns_sum_to_total`` each column adds up to a total (a cell of
    ``total_table`` when given, else a published total of the column)."""
    problem = problem or Problem()
    counts = values.fillna(0).astype(int)
    for row in counts.index:
        for column in counts.columns:
            problem.values[(name, str(row), str(column))] = int(counts.loc[row, column])
    for total, parts in row_sums or []:
        for row in counts.index:
            terms = {(name, str(row), total): 1}
            for part in parts:
                terms[(name, str(row), part)] = -1
            problem.add(terms)
    if columns_sum_to_total:
        for column in counts.columns:
            total_cell = (total_table or f"{name}.totaal", "totaal", str(column))
            if total_cell not in problem.values:
                problem.values[total_cell] = int(counts[column].sum())
            terms = {(name, str(row), str(column)): 1 for row in counts.index}
            terms[total_cell] = -1
            problem.add(terms)
    return problem


def masks(values: pd.DataFrame, name: str, primary: set[Cell], secondary: set[Cell]
          ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The boolean masks of one table from the cell sets of :func:`suppress`."""
    p = pd.DataFrame(False, index=values.index, columns=values.columns)
    q = p.copy()
    for row in values.index:
        for column in values.columns:
            cell = (name, str(row), str(column))
            p.loc[row, column] = cell in primary
            q.loc[row, column] = cell in secondary and cell not in primary
    return p, q


def protect(
    values: pd.DataFrame,
    k: int,
    row_sums: list[tuple[str, list[str]]] | None = None,
    columns_sum_to_total: bool = False,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return ``(primary, secondary)`` boolean masks for one table on its own.

    ``row_sums`` lists, per row, which column is the published total of which part columns
    (``("actief", ["verlopen", "binnenkort", "ok"])``). ``columns_sum_to_total`` says that the
    rows of each column add up to a published total elsewhere (age buckets add up to the
    headline). The report itself protects all its tables together (:func:`suppress`).
    """
    problem = table_problem(values, "t", row_sums, columns_sum_to_total)
    primary, secondary = suppress(problem, k)
    return masks(values, "t", primary, secondary)


def protect_number(value: int, k: int) -> str:
    """A single published count (headline figures)."""
    return f"<{k}" if 0 < value < k else str(value)


STATUS_PARTS = ["verlopen", "binnenkort", "ok"]
TOTALS = ("actief", "verlopen", "binnenkort", "opgeruimd")
_TOTAL_OF = {"actief": ("H", "totaal", "actief"), "verlopen": ("H", "totaal", "verlopen"),
             "binnenkort": ("H", "totaal", "binnenkort"), "ok": ("_", "totaal", "ok"),
             "opgeruimd": ("H", "totaal", "opgeruimd")}
ADDS_UP = frozenset({"gevoeligheid", "ouderdom", "afdeling"})
PART_OF = {"archief": "categorie", "breed_categorie": "categorie", "breed_afdeling": "afdeling"}
"""Tables whose every cell counts a subset of the same cell of another table (the items to
archive of a category are among that category's items; so are its broadly shared items, and a
department's broadly shared items are among its items)."""
BROAD_PARTS = ("breed_afdeling", "breed_categorie")
"""The broadly shared items counted once per item (by department) and per category: the
department column adds up to the unpublished number of broadly shared items, which no
category cell exceeds and which is at most the school-wide total."""
"""Tables whose rows add up to the school-wide totals (one row per item); an item counts in
every one of its categories, so a category's count is only at most the total."""


@dataclass
class ProtectedFigures:
    """The headline and trend figures as published, after the joint protection."""

    k: int
    problem: Problem
    primary: set[Cell]
    secondary: set[Cell]
    runs: list[str]

    def shown(self, cell: Cell) -> str:
        if cell in self.primary:
            return f"<{self.k}"
        if cell in self.secondary:
            return SECONDARY
        return str(self.problem.values.get(cell, 0))

    def total(self, key: str) -> str:
        return self.shown(("fp", "totaal", key) if key in ("fp", "flagged") else ("H", "totaal", key))

    def run(self, key: str) -> str:
        """A cell of the latest run's row (``present_before``: the row before it)."""
        if not self.runs or (key == "present_before" and len(self.runs) < 2):
            return "0"
        if key == "present_before":
            return self.shown(("runs", self.runs[-2], "present"))
        return self.shown(("runs", self.runs[-1], key))


def report_problem(tables: list[ProtectedTable], totals: dict[str, int]) -> Problem:
    """Every count one FG report publishes, and every linear relation between them."""
    problem = Problem()
    for key in (*TOTALS, "nog_verlopen"):
        problem.values[("H", "totaal", key)] = totals[key]
    problem.values[("_", "totaal", "ok")] = totals["actief"] - totals["verlopen"] - totals["binnenkort"]
    problem.values[("fp", "totaal", "fp")] = totals["fp"]
    problem.values[("fp", "totaal", "flagged")] = totals["flagged"]
    problem.add({_TOTAL_OF["actief"]: 1, _TOTAL_OF["verlopen"]: -1, _TOTAL_OF["binnenkort"]: -1,
                 _TOTAL_OF["ok"]: -1})
    problem.add({("H", "totaal", "nog_verlopen"): 1, _TOTAL_OF["verlopen"]: -1}, "le")
    problem.add({("fp", "totaal", "fp"): 1, ("fp", "totaal", "flagged"): -1}, "le")
    for table in tables:
        if table.key == "runs":
            _runs_relations(problem, table.values)
            if len(table.values.index):
                # the items present at the latest run are (about) the active ones
                problem.add({("runs", str(table.values.index[-1]), "present"): 1, _TOTAL_OF["actief"]: -1})
            continue
        table_problem(table.values, table.key, [("actief", STATUS_PARTS)] if "ok" in table.values.columns
                      else None, problem=problem)
        if "ok" not in table.values.columns:
            _row_sums(problem, table.key, table.values)
        for column in table.values.columns:
            total = _TOTAL_OF.get(str(column))
            if total is None:
                continue
            cells = [(table.key, str(row), str(column)) for row in table.values.index]
            if table.key in ADDS_UP:
                problem.add({**dict.fromkeys(cells, 1), total: -1})
            else:
                for cell in cells:
                    problem.add({cell: 1, total: -1}, "le")
    by_key = {table.key: table for table in tables}
    for part, whole in PART_OF.items():
        if part in by_key and whole in by_key:
            shared = [c for c in by_key[part].values.columns if c in by_key[whole].values.columns]
            for row in by_key[part].values.index:
                if row in by_key[whole].values.index:
                    for column in shared:
                        problem.add({(part, str(row), str(column)): 1, (whole, str(row), str(column)): -1}, "le")
    _broad_relations(problem, by_key)
    return problem


def _broad_relations(problem: Problem, by_key: dict[str, ProtectedTable]) -> None:
    once, per_category = BROAD_PARTS
    if once not in by_key:
        return
    values = by_key[once].values
    for column in values.columns:
        hidden = ("_", "breed", str(column))  # never published: the adversary only reasons with it
        problem.values[hidden] = int(values[column].sum())
        problem.add({**{(once, str(row), str(column)): 1 for row in values.index}, hidden: -1})
        total = _TOTAL_OF.get(str(column))
        if total is not None:
            problem.add({hidden: 1, total: -1}, "le")
        if per_category in by_key:
            for row in by_key[per_category].values.index:
                problem.add({(per_category, str(row), str(column)): 1, hidden: -1}, "le")


def _row_sums(problem: Problem, name: str, values: pd.DataFrame) -> None:
    """A table without an ok column (ages of active items) still has actief = its parts plus
    an unpublished ok count per row."""
    parts = [c for c in STATUS_PARTS if c in values.columns]
    for row in values.index:
        ok = ("_", f"{name}:{row}", "ok")
        problem.values[ok] = int(values.loc[row, "actief"]) - sum(int(values.loc[row, c]) for c in parts)
        problem.add({(name, str(row), "actief"): 1, **{(name, str(row), c): -1 for c in parts}, ok: -1})


def _runs_relations(problem: Problem, values: pd.DataFrame, upto: int | None = None) -> None:
    rows = [str(r) for r in values.index][: upto]
    for row in rows:
        for column in values.columns:
            problem.values[("runs", row, str(column))] = int(values.loc[row, column])
    for before, after in zip(rows, rows[1:], strict=False):
        # present now = present before + new - cleaned (exactly, up to an offset the auditor knows)
        problem.add({("runs", after, "present"): 1, ("runs", before, "present"): -1,
                     ("runs", after, "new"): -1, ("runs", after, "cleaned"): 1})


def protect_runs(values: pd.DataFrame, k: int) -> set[Cell]:
    """Secondary cells of the runs table, decided row by row from the oldest run: a row's
    pattern depends only on that row and the rows before it, so the next report, which adds
    a row, shows every earlier row exactly as this one did (no difference between two
    reports uncovers a cell)."""
    secondary: set[Cell] = set()
    rows = [str(r) for r in values.index]
    for upto in range(1, len(rows) + 1):
        problem = Problem()
        _runs_relations(problem, values, upto)
        frozen = {c for c in problem.values if c[1] in rows[: upto - 1]}
        _, secondary = suppress(problem, k, frozen=frozen, forced=secondary)
    return secondary


def protect_report(tables: list[ProtectedTable], totals: dict[str, int], k: int) -> ProtectedFigures:
    """Protect every table of a report together and set each table's masks."""
    runs = next((t for t in tables if t.key == "runs"), None)
    run_secondary = protect_runs(runs.values, k) if runs is not None else set()
    problem = report_problem(tables, totals)
    frozen = {c for c in problem.values if c[0] == "runs"}
    primary, secondary = suppress(problem, k, frozen=frozen, forced=run_secondary)
    for table in tables:
        table.k = k
        table.primary, table.secondary = masks(table.values, table.key, primary, secondary)
    return ProtectedFigures(k, problem, primary, secondary,
                            [str(r) for r in runs.values.index] if runs is not None else [])
