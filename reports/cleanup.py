"""The clean-up figures for the FG (issue 18, item 6): what teachers cleaned, how fast, what
they held and what they called a false positive.

The time unit is the *block*: four whole ISO weeks, counted from a fixed Monday
(:data:`EPOCH`), so every block holds exactly four weeks and a week is never split between two
blocks. Only complete blocks are published, and each block is protected on its own, from its
own events only: the figures of a block never change from one report to the next (no
difference between two reports uncovers anything), and two blocks share no published total
(no difference between two blocks does either). The share answered within three weeks of the
first digest waits until the last item of the block's cohort had its three weeks.

Per block, three tables are protected together (:func:`reports.disclosure.suppress`): the
four weeks, the categories and the departments, with the block totals; the cohort (items
first named in a digest in the block) is a second, separate problem. Every count below k is
``<k``; a count made up by fewer than k teachers is *concentrated* and shown as ``*``, and
secondary suppression keeps every hidden cell's interval wide (see ``need`` there).
Departments with fewer than k teachers in the block are merged into "overig".

The input frames carry no title, owner address, subject or path: the owner is a keyed hash
(``owner_key``), used only to count how many teachers a cell is made of.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pandas as pd

from reports import categories as cats
from reports.disclosure import Cell, Problem, ProtectedTable, masks, suppress
from reports.i18n import check_language, format_date, t

EPOCH = date(2024, 1, 1)
"""A Monday (ISO week 1 of 2024): block n runs from EPOCH + 28n for 28 days."""
BLOCK_DAYS = 28
ANSWER_DAYS = 21
"""The FG's question: answered within three weeks of the first digest."""
COUNT_COLUMNS = ["opgeruimd", "verplaatst", "bewaard", "geen_ll"]
"""Cleaned (closed: gone at the source or moved on the owner's answer), of which moved by
schoonschip on a *Verwijderen* answer, held (*Bewaren*), false positives (*Geen
leerlinggegevens*)."""
WEEK_COLUMNS = ["opgeruimd", "verplaatst"]
COHORT_COLUMNS = ["overzicht", "binnen_3_weken"]
OTHER = "__overig__"
UNKNOWN = "__onbekend__"

CLEANUP_ITEM_COLUMNS: list[str] = [
    "item_id", "owner_key", "department", "categories", "state", "closed_at", "status", "rule_id",
    "first_digest_at", "false_positive",
]
"""One row per item that held student data: ``first_digest_at`` is the "sent" time of the
first delivered digest that named it (``Store.first_digests``), else empty;
``false_positive`` items (an owner's *Geen leerlinggegevens*, a label) are not counted as
cleaned, as in the FG report's own "opgeruimd"."""
CLEANUP_ANSWER_COLUMNS: list[str] = ["item_id", "action", "answered_at", "reversed_at", "outcome", "by_policy"]
"""``by_policy``: the school's enforcement moved the item (issue 18 item 5), no teacher answered.
Such a move counts as cleaned and as moved (it is in Verwijderde items, as the proof of deletion
must say), never as a teacher's answer within three weeks."""


@dataclass(frozen=True)
class RunCell:
    """One published "cleaned" cell of the FG report's runs table: the items closed after
    ``after`` up to ``until`` (UTC), its true count and what the report shows. A block's
    total relates to these (the runs inside it add up to at most the block, the runs that
    touch it to at least), so they join the block's problem as fixed cells."""

    run: str
    after: datetime | None
    until: datetime
    value: int
    shown: str
"""One row per answer (``answers`` table): never a value, never a reason text."""


def block_of(day: date) -> int:
    return (day - EPOCH).days // BLOCK_DAYS


def block_start(block: int) -> date:
    return EPOCH + timedelta(days=BLOCK_DAYS * block)


def block_end(block: int) -> date:
    """The last day of the block (a Sunday)."""
    return block_start(block) + timedelta(days=BLOCK_DAYS - 1)


def block_label(block: int, language: str) -> str:
    start, end = block_start(block), block_end(block)
    first, last = start.isocalendar(), end.isocalendar()
    weeks = (f"{first.week}-{last.week} {last.year}" if first.year == last.year
             else f"{first.week} {first.year} - {last.week} {last.year}")
    return t("cleanup.block", language, weeks=weeks, start=format_date(start, language), end=format_date(end, language))


def complete_blocks(now: datetime, count: int, tz: str = "Europe/Amsterdam") -> list[int]:
    """The ``count`` latest blocks that ended before today (the oldest first)."""
    today = _local_day(now, tz)
    last = block_of(today) - 1
    return list(range(last - count + 1, last + 1))


def blocks_between(start: date, end: date, now: datetime, tz: str = "Europe/Amsterdam") -> list[int]:
    """The complete blocks that lie wholly within ``start`` .. ``end`` (dates included)."""
    last_done = block_of(_local_day(now, tz)) - 1
    first = block_of(start) + (0 if block_start(block_of(start)) == start else 1)
    last = block_of(end) - (0 if block_end(block_of(end)) == end else 1)
    return list(range(first, min(last, last_done) + 1))


def _local_day(moment: datetime, tz: str) -> date:
    from zoneinfo import ZoneInfo

    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(ZoneInfo(tz)).date()


@dataclass
class BlockFigures:
    """One published block: its tables as protected, the medians and the cohort."""

    block: int
    label: str
    weeks: ProtectedTable
    categories: ProtectedTable
    departments: ProtectedTable
    totals: ProtectedTable
    medians: dict[str, dict[str, str]]
    """Table key (categorie / afdeling / totaal) -> row -> median days, or ``<k``."""
    cohort: list[ProtectedTable] | None
    """[per category, per department, total]; None until the cohort's three weeks are over."""
    rules: dict[str, list[str]] = field(default_factory=dict)
    """Category -> the retention rules of its cleaned items (only for published counts)."""

    def tables(self) -> list[ProtectedTable]:
        return [self.totals, self.weeks, self.categories, self.departments, *(self.cohort or [])]


@dataclass
class CleanupFigures:
    language: str
    k: int
    blocks: list[BlockFigures]

    def long_rows(self) -> list[dict[str, Any]]:
        """Every published cell (the CSV and XLSX of the FG report): tabel, rij_sleutel, rij,
        kolom, waarde; the table name carries the block."""
        rows: list[dict[str, Any]] = []
        for block in self.blocks:
            for table in block.tables():
                shown = table.display()
                for row in table.values.index:
                    for column in table.values.columns:
                        rows.append({"tabel": f"opruimen.{block.block}.{table.key}", "rij_sleutel": row,
                                     "rij": table.row_labels.get(row, row),
                                     "kolom": table.column_labels.get(column, column),
                                     "waarde": shown.loc[row, column]})
            for key, medians in block.medians.items():
                for row, value in medians.items():
                    rows.append({"tabel": f"opruimen.{block.block}.mediaan.{key}", "rij_sleutel": row,
                                 "rij": _row_label(row, self.language), "kolom": t("cleanup.col.median", self.language),
                                 "waarde": value})
        return rows

    def sections(self) -> list[dict[str, Any]]:
        """What the HTML template shows per block (display strings only)."""
        out = []
        for block in self.blocks:
            tables = []
            for table in [block.totals, block.weeks, block.categories, block.departments]:
                tables.append(_html_table(table, block.medians.get(table.key), self.language))
            cohort = None
            if block.cohort is not None:
                cohort = [_cohort_table(table, self.language) for table in block.cohort]
            out.append({"block": block.block, "label": block.label, "tables": tables, "cohort": cohort})
        return out


def _row_label(row: str, language: str) -> str:
    if row == OTHER:
        return t("fg.other", language)
    if row == UNKNOWN:
        return t("fg.unknown_department", language)
    if row == "totaal":
        return t("cleanup.total", language)
    if row in cats.known_keys():
        return _capital(cats.info(row).label(language))
    return row


def _html_table(table: ProtectedTable, medians: dict[str, str] | None, language: str) -> dict[str, Any]:
    shown = table.display()
    header = [table.column_labels.get(c, c) for c in table.values.columns]
    rows = []
    for row in table.values.index:
        cells = [str(shown.loc[row, c]) for c in table.values.columns]
        if medians is not None:
            cells.append(medians.get(row, "-"))
        rows.append((table.row_labels.get(row, row), cells))
    if medians is not None:
        header.append(t("cleanup.col.median", language))
    return {"key": table.key, "title": t(f"cleanup.table.{table.key}", language), "header": header, "rows": rows}


def _cohort_table(table: ProtectedTable, language: str) -> dict[str, Any]:
    shown = table.display()
    header = [table.column_labels.get(c, c) for c in table.values.columns] + [t("cleanup.col.share", language)]
    rows = []
    for row in table.values.index:
        whole, part = str(shown.loc[row, "overzicht"]), str(shown.loc[row, "binnen_3_weken"])
        share = _percent(int(part), int(whole), language) if whole.isdigit() and part.isdigit() and whole != "0" \
            else "-" if whole == "0" else f"{part} / {whole}"
        rows.append((table.row_labels.get(row, row), [whole, part, share]))
    return {"key": table.key, "title": t(f"cleanup.table.{table.key}", language), "header": header, "rows": rows}


# --- building -------------------------------------------------------------------------------


def _category_list(value: Any) -> list[str]:
    if value is None or (isinstance(value, float) and value != value):
        return []
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            return [str(c) for c in json.loads(text)]
        return [p.strip() for p in text.split(",") if p.strip()]
    return [str(c) for c in value]


def _days(series: pd.Series, tz: str) -> pd.Series:
    """UTC moments as local calendar dates (None stays None)."""
    stamps = pd.to_datetime(series, utc=True, errors="coerce")
    return stamps.map(lambda s: None if pd.isna(s) else _local_day(s.to_pydatetime(), tz))


def prepare(items: pd.DataFrame, answers: pd.DataFrame, tz: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Keep only the contract's columns (anything else, a title by mistake, is dropped here),
    normalise types, and join each answer to its item's owner, department and categories."""
    missing = [c for c in CLEANUP_ITEM_COLUMNS if c not in items.columns]
    if missing:
        raise ValueError(f"opruimgegevens missen kolommen {missing} / clean-up data lacks columns {missing}")
    frame = items.loc[:, CLEANUP_ITEM_COLUMNS].copy()
    frame["categories"] = frame["categories"].apply(_category_list)
    frame["false_positive"] = frame["false_positive"].fillna(False).astype(bool)
    frame["department"] = frame["department"].where(frame["department"].notna() & (frame["department"] != ""),
                                                    UNKNOWN).astype(str)
    frame["closed_day"] = _days(frame["closed_at"], tz)
    frame["closed_ts"] = pd.to_datetime(frame["closed_at"], utc=True, errors="coerce")
    frame["digest_ts"] = pd.to_datetime(frame["first_digest_at"], utc=True, errors="coerce")
    frame["digest_day"] = _days(frame["first_digest_at"], tz)
    answers = answers if "by_policy" in answers.columns else answers.assign(by_policy=False)
    given = answers.loc[:, CLEANUP_ANSWER_COLUMNS].copy() if len(answers) else pd.DataFrame(
        columns=CLEANUP_ANSWER_COLUMNS)
    given["by_policy"] = given["by_policy"].eq(True)  # a missing value is no policy move
    given["answered_ts"] = pd.to_datetime(given["answered_at"], utc=True, errors="coerce")
    given["reversed_ts"] = pd.to_datetime(given["reversed_at"], utc=True, errors="coerce")
    given["answered_day"] = _days(given["answered_at"], tz)
    given["reversed_day"] = _days(given["reversed_at"], tz)
    given = given.merge(frame[["item_id", "owner_key", "department", "categories"]], on="item_id", how="inner")
    return frame, given


@dataclass
class _Cells:
    """Counts and the teachers behind each count, for one problem."""

    values: dict[Cell, int] = field(default_factory=dict)
    owners: dict[Cell, set[str]] = field(default_factory=dict)

    def add(self, cell: Cell, owner: str) -> None:
        self.values[cell] = self.values.get(cell, 0) + 1
        self.owners.setdefault(cell, set()).add(owner)


def _merge_departments(events: pd.DataFrame, k: int) -> dict[str, str]:
    """Department -> its shown group: fewer than k teachers (or k events) in the block is
    "overig"; while "overig" itself is too small, the smallest other department joins it."""
    owners = events.groupby("department")["owner_key"].agg(lambda s: set(s))
    count = events.groupby("department").size()

    def small(names: set[str]) -> bool:
        if not names:
            return False
        people = set().union(*(owners[n] for n in names))
        return len(people) < k or int(sum(count[n] for n in names)) < k

    merged = {d for d in owners.index if small({d})}
    while small(merged):
        rest = [d for d in owners.index if d not in merged]
        if not rest:
            break
        merged.add(min(rest, key=lambda d: (count[d], d)))
    return {d: (OTHER if d in merged else d) for d in owners.index}


def build_cleanup(items: pd.DataFrame, answers: pd.DataFrame, *, blocks: list[int], min_group_size: int = 5,
                  language: str = "nl", now: datetime | None = None, tz: str = "Europe/Amsterdam",
                  runs: list[RunCell] | None = None) -> CleanupFigures:
    """The clean-up figures of ``blocks`` (complete blocks only: an incomplete one is refused,
    because its figures would still change). ``runs``: the FG report's published cleaned-per-
    run cells (:meth:`reports.fg.FgReport.run_cells`), which the blocks must not give away."""
    language = check_language(language)
    k = min_group_size
    if k < 2:
        raise ValueError("min_group_size moet minstens 2 zijn / min_group_size must be at least 2")
    now = now or datetime.now(UTC)
    today = _local_day(now, tz)
    frame, given = prepare(items, answers, tz)
    out = []
    for block in blocks:
        if block_end(block) >= today:
            raise ValueError(f"blok {block} is nog niet voorbij / block {block} is not complete")
        out.append(_block(frame, given, block, k, language, today, runs or [], tz))
    return CleanupFigures(language, k, out)


def _where(days: pd.Series, test: Any) -> pd.Series:
    """A boolean mask from a test per value: always of dtype bool, also when ``days`` is empty
    (an empty object mask would select columns instead of rows)."""
    return pd.Series([bool(test(d)) for d in days], index=days.index, dtype=bool)


def _events(frame: pd.DataFrame, given: pd.DataFrame, start: date, end: date) -> list[tuple[str, pd.Series]]:
    """``(column, row)`` per counted event of the block: a cleaned item, a move on an answer,
    a hold, a false positive (answers reversed within the block do not count)."""
    events: list[tuple[str, pd.Series]] = []
    standing = given.loc[_where(given["reversed_day"], lambda d: d is None or d > end)]
    moved = set(standing.loc[(standing["action"] == "verwijderen") & (standing["outcome"] == "moved"), "item_id"])
    inside = _where(frame["closed_day"], lambda d: d is not None and start <= d <= end)
    for _, row in frame[inside & (frame["state"] == "opgeruimd") & ~frame["false_positive"]].iterrows():
        events.append(("opgeruimd", row))
        if row["item_id"] in moved:  # a part of the cleaned, in the same week (one relation)
            events.append(("verplaatst", row))
    standing = standing.loc[_where(standing["answered_day"], lambda d: d is not None and start <= d <= end)]
    kinds = {"bewaren": "bewaard", "geen_leerlinggegevens": "geen_ll"}
    seen: set[tuple[str, str]] = set()
    for _, row in standing.iterrows():
        column = kinds.get(row["action"])
        if column is None or (row["item_id"], column) in seen:
            continue
        seen.add((row["item_id"], column))
        events.append((column, row))
    return events


def _block(frame: pd.DataFrame, given: pd.DataFrame, block: int, k: int, language: str,
           today: date, runs: list[RunCell], tz: str) -> BlockFigures:
    start, end = block_start(block), block_end(block)
    events = _events(frame, given, start, end)
    event_frame = pd.DataFrame([{"department": r["department"], "owner_key": r["owner_key"]} for _, r in events],
                               columns=["department", "owner_key"])
    group = _merge_departments(event_frame, k) if len(event_frame) else {}
    cells = _Cells()
    weeks = [start + timedelta(days=7 * i) for i in range(4)]
    week_keys = [f"{d.isocalendar().year}-W{d.isocalendar().week:02d}" for d in weeks]
    for column, row in events:
        owner = str(row["owner_key"])
        cells.add(("T", "totaal", column), owner)
        cells.add(("afdeling", group.get(row["department"], row["department"]), column), owner)
        for category in row["categories"]:
            cells.add(("categorie", category, column), owner)
        if column in WEEK_COLUMNS:
            cells.add(("weken", week_keys[(row["closed_day"] - start).days // 7], column), owner)
    category_rows = [c for c in cats.known_keys() if any(cell[:2] == ("categorie", c) for cell in cells.values)]
    category_rows += sorted({cell[1] for cell in cells.values if cell[0] == "categorie"} - set(category_rows))
    department_rows = sorted({cell[1] for cell in cells.values if cell[0] == "afdeling"},
                             key=lambda d: (d in (OTHER, UNKNOWN), d == OTHER, d.casefold()))
    layout = {"T": (["totaal"], COUNT_COLUMNS), "weken": (week_keys, WEEK_COLUMNS),
              "categorie": (category_rows, COUNT_COLUMNS), "afdeling": (department_rows, COUNT_COLUMNS)}
    problem = _problem(cells, layout, sums_to_total=("afdeling", "weken"), parts_of_total=("categorie",))
    concentrated = {c for c, v in problem.values.items() if v > 0 and len(cells.owners.get(c, ())) < k}
    frozen, forced = _link_runs(problem, runs, start, end, tz)
    primary, secondary = suppress(problem, k, frozen=frozen, forced=forced, concentrated=concentrated)
    tables = {name: _table(name, rows, columns, problem, primary, secondary, k, language)
              for name, (rows, columns) in layout.items()}
    tables["weken"].row_labels = {key: t("cleanup.week", language, week=key.split("-W")[1], year=key[:4])
                                  for key in week_keys}
    medians = _medians(frame, start, end, group, tables, k)
    cohort = None
    if end + timedelta(days=ANSWER_DAYS) < today:
        cohort = _cohort(frame, given, start, end, k, language)
    rules = _rules(frame, start, end, tables["categorie"])
    return BlockFigures(block, block_label(block, language), tables["weken"], tables["categorie"],
                        tables["afdeling"], tables["T"], medians, cohort, rules)


def _link_runs(problem: Problem, runs: list[RunCell], start: date, end: date, tz: str) -> tuple[set[Cell], set[Cell]]:
    """Add the FG report's published cleaned-per-run cells and what an FG knows of them: the
    runs whose window lies inside the block clean at most the block's total, the runs whose
    window touches it at least. The cells are frozen (the runs table decided them) and those
    it hides stay hidden here. A relation the true counts do not satisfy (an item reopened
    after a run counted it) is left out: the adversary cannot rely on it either."""
    from zoneinfo import ZoneInfo

    if not runs:
        return set(), set()
    zone = ZoneInfo(tz)
    begin = datetime.combine(start, datetime.min.time(), zone).astimezone(UTC)
    finish = datetime.combine(end + timedelta(days=1), datetime.min.time(), zone).astimezone(UTC)

    def utc(moment: datetime | None) -> datetime | None:
        if moment is None or pd.isna(moment):
            return None
        stamp = pd.Timestamp(moment)
        return (stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")).to_pydatetime()

    inside, touching, frozen, forced = [], [], set(), set()
    for run in runs:
        after, until = utc(run.after), utc(run.until)
        if until is None:
            continue
        cell = ("runs", run.run, "cleaned")
        if after is not None and after >= begin and until < finish:
            inside.append(cell)
        if until > begin and (after is None or after < finish):
            touching.append(cell)
        else:
            continue
        problem.values[cell] = run.value
        frozen.add(cell)
        if run.shown == "*":
            forced.add(cell)
    total = ("T", "totaal", "opgeruimd")
    for cells, sign in ((inside, 1), (touching, -1)):
        if not cells:
            continue
        terms = {**dict.fromkeys(cells, sign), total: -sign}
        if sum(coef * problem.values[c] for c, coef in terms.items()) <= 0:
            problem.add(terms, "le")
    return frozen, forced


def _problem(cells: _Cells, layout: dict[str, tuple[list[str], list[str]]], *, sums_to_total: tuple[str, ...],
             parts_of_total: tuple[str, ...], total: str = "T") -> Problem:
    """The counts and every relation an FG can know: per row, moved is part of cleaned; the
    rows of ``sums_to_total`` (one row per event) add up to the block total; a row of
    ``parts_of_total`` (an item counts in each of its categories) is at most the total."""
    problem = Problem()
    for name, (rows, columns) in layout.items():
        for row in rows:
            for column in columns:
                problem.values[(name, row, column)] = cells.values.get((name, row, column), 0)
    for name, (rows, columns) in layout.items():
        for row in rows:
            if "verplaatst" in columns:
                problem.add({(name, row, "verplaatst"): 1, (name, row, "opgeruimd"): -1}, "le")
            if name == total:
                continue
            for column in columns:
                if name in parts_of_total:
                    problem.add({(name, row, column): 1, (total, "totaal", column): -1}, "le")
        if name in sums_to_total:
            for column in columns:
                problem.add({**{(name, row, column): 1 for row in rows}, (total, "totaal", column): -1})
    return problem


def _table(name: str, rows: list[str], columns: list[str], problem: Problem, primary: set[Cell],
           secondary: set[Cell], k: int, language: str) -> ProtectedTable:
    values = pd.DataFrame([[problem.values[(name, r, c)] for c in columns] for r in rows],
                          index=rows, columns=columns, dtype=int) if rows else pd.DataFrame(columns=columns, dtype=int)
    table = ProtectedTable(key={"T": "totaal", "weken": "weken"}.get(name, name), values=values, k=k,
                           row_labels={r: _row_label(r, language) for r in rows},
                           column_labels={c: t(f"cleanup.col.{c}", language) for c in columns})
    table.primary, table.secondary = masks(values, name, primary, secondary)
    return table


def _medians(frame: pd.DataFrame, start: date, end: date, group: dict[str, str],
             tables: dict[str, ProtectedTable], k: int) -> dict[str, dict[str, str]]:
    """Median days from the first digest to the clean-up, of the items cleaned in the block
    after a digest named them; shown only for at least k items of at least k teachers."""
    inside = _where(frame["closed_day"], lambda d: d is not None and start <= d <= end)
    cleaned = inside & (frame["state"] == "opgeruimd") & ~frame["false_positive"]
    done = frame[cleaned & frame["digest_ts"].notna()].copy()
    done = done[done["closed_ts"] >= done["digest_ts"]]
    done["days"] = (done["closed_ts"] - done["digest_ts"]).dt.total_seconds() / 86400
    done["group"] = done["department"].map(lambda d: group.get(d, OTHER))

    def median(part: pd.DataFrame) -> str:
        if len(part) == 0:
            return "-"
        if len(part) < k or part["owner_key"].nunique() < k:
            return f"<{k}"
        return str(int(round(float(part["days"].median()))))

    out: dict[str, dict[str, str]] = {"totaal": {"totaal": median(done)}, "afdeling": {}, "categorie": {}}
    for row in tables["afdeling"].values.index:
        out["afdeling"][row] = median(done[done["group"] == row])
    exploded = done.explode("categories")
    for row in tables["categorie"].values.index:
        out["categorie"][row] = median(exploded[exploded["categories"] == row])
    return out


def _cohort(frame: pd.DataFrame, given: pd.DataFrame, start: date, end: date, k: int,
            language: str) -> list[ProtectedTable]:
    """Items first named in a sent digest during the block, and how many of them were
    answered (any answer) or cleaned within three weeks of that digest. A digest names items
    that are overdue or due soon; which of the two an item was on that day is not stored (an
    answer clears the status), so the cohort is every named item: filtering on today's status
    would drop exactly the answered ones (docs/decisions.md, 2026-12-02)."""
    inside = _where(frame["digest_day"], lambda d: d is not None and start <= d <= end)
    cohort = frame[inside]
    teachers = given.loc[~given["by_policy"]]
    first_answer = teachers.groupby("item_id")["answered_ts"].min() if len(teachers) else pd.Series(dtype=object)
    # an item the school's policy moved was not cleaned by its teacher in time
    by_policy = set(given.loc[given["by_policy"] & (given["outcome"] == "moved"), "item_id"])
    event_frame = cohort[["department", "owner_key"]]
    group = _merge_departments(event_frame, k) if len(event_frame) else {}
    cells = _Cells()
    for _, row in cohort.iterrows():
        limit = row["digest_ts"] + pd.Timedelta(days=ANSWER_DAYS)
        answered = row["item_id"] in first_answer.index and first_answer[row["item_id"]] <= limit
        cleaned = (pd.notna(row["closed_ts"]) and row["closed_ts"] <= limit
                   and row["item_id"] not in by_policy)
        columns = ["overzicht", *(["binnen_3_weken"] if answered or cleaned else [])]
        owner = str(row["owner_key"])
        for column in columns:
            cells.add(("T3", "totaal", column), owner)
            cells.add(("afdeling3", group.get(row["department"], row["department"]), column), owner)
            for category in row["categories"]:
                cells.add(("categorie3", category, column), owner)
    category_rows = [c for c in cats.known_keys() if ("categorie3", c, "overzicht") in cells.values]
    category_rows += sorted({c[1] for c in cells.values if c[0] == "categorie3"} - set(category_rows))
    department_rows = sorted({c[1] for c in cells.values if c[0] == "afdeling3"},
                             key=lambda d: (d in (OTHER, UNKNOWN), d == OTHER, d.casefold()))
    layout = {"T3": (["totaal"], COHORT_COLUMNS), "categorie3": (category_rows, COHORT_COLUMNS),
              "afdeling3": (department_rows, COHORT_COLUMNS)}
    problem = _problem(cells, layout, sums_to_total=("afdeling3",), parts_of_total=("categorie3",), total="T3")
    for name, (rows, _) in layout.items():
        for row in rows:
            problem.add({(name, row, "binnen_3_weken"): 1, (name, row, "overzicht"): -1}, "le")
    concentrated = {c for c, v in problem.values.items() if v > 0 and len(cells.owners.get(c, ())) < k}
    primary, secondary = suppress(problem, k, concentrated=concentrated)
    names = {"T3": "totaal3", "categorie3": "categorie3", "afdeling3": "afdeling3"}
    tables = []
    for name in ("categorie3", "afdeling3", "T3"):
        rows, columns = layout[name]
        table = _table(name, rows, columns, problem, primary, secondary, k, language)
        table.key = names[name]
        tables.append(table)
    return tables


def _rules(frame: pd.DataFrame, start: date, end: date, categories: ProtectedTable) -> dict[str, list[str]]:
    """The retention rules of the items cleaned in the block, per category whose count is
    published (a rule beside a hidden count would say more than the count)."""
    inside = _where(frame["closed_day"], lambda d: d is not None and start <= d <= end)
    done = frame[inside & (frame["state"] == "opgeruimd") & ~frame["false_positive"]].explode("categories")
    out: dict[str, list[str]] = {}
    for row in categories.values.index:
        if categories.is_hidden(row, "opgeruimd") or categories.values.loc[row, "opgeruimd"] == 0:
            continue
        rules = done.loc[done["categories"] == row, "rule_id"].dropna().astype(str)
        out[row] = sorted(set(rules))
    return out


def _percent(part: int, whole: int, language: str) -> str:
    text = f"{100.0 * part / whole:.0f}%"
    return text


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]
