"""Statistics for the FG (functionaris gegevensbescherming): aggregates only.

Input is the FG item frame (:data:`reports.data.FG_ITEM_COLUMNS`: one row per item, active
and cleaned up, without titles or owners) and the runs frame. Any other column the caller
passes is dropped on entry, so even a store query that by mistake selects a subject or an
owner cannot bring it into the report.

Published: counts by category, sensitivity, age and school/department; the trend between the
last two completed runs and over all runs; the oldest data per category (as a year and an
age, never an item); the share cleaned up since the previous run (deletion evidence) and the
false-positive rate. Every count below the minimum group size is hidden (see
:mod:`reports.disclosure`); departments too small to be shown on their own are merged into
"overig".

Output: one self-contained HTML page (inline CSS and SVG, no scripts, no external assets),
a CSV in long format (table, row, column, value) and an XLSX with one sheet per table.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from reports import categories as cats
from reports import charts
from reports.cleanup import CleanupFigures, RunCell
from reports.data import FG_ITEM_COLUMNS, FG_OPTIONAL_COLUMNS, FG_RUN_COLUMNS
from reports.disclosure import ProtectedFigures, ProtectedTable, protect_report
from reports.i18n import check_language, format_date, format_datetime, t
from reports.rendering import render
from scanner.core.cells import cell_safe
from scanner.core.model import DUE_STATUSES, ItemState, RetentionAction, RetentionStatus

STATUS_COLUMNS = [*DUE_STATUSES, RetentionStatus.OK.value]
COUNT_COLUMNS = ["actief", *STATUS_COLUMNS, "opgeruimd"]
AGE_BUCKETS = [("lt1", 0.0, 1.0), ("1to2", 1.0, 2.0), ("2to5", 2.0, 5.0), ("gt5", 5.0, float("inf"))]
FAILED_RUN_STATUSES = frozenset({"failed", "mislukt", "running", "bezig", "aborted", "afgebroken",
                                 "interrupted", "onderbroken"})
OTHER = "__overig__"
UNKNOWN = "__onbekend__"


@dataclass
class FgReport:
    """The computed report; :meth:`write` puts it on disk."""

    language: str
    k: int
    school: str
    generated: datetime
    headline: list[tuple[str, str, str]]
    """``(key, label, published value)``."""
    tables: list[tuple[str, ProtectedTable]]
    """``(title, table)`` in page order."""
    trend: list[tuple[str, str, str]]
    trend_note: str
    oldest: pd.DataFrame
    fp_text: str
    charts: dict[str, str] = field(default_factory=dict)
    cleanup: CleanupFigures | None = None
    """The clean-up figures (issue 18, item 6), when the caller computed them."""
    run_windows: list[tuple[str, datetime | None, datetime]] = field(default_factory=list)
    """``(run id, previous run's end, this run's end)``: the window of each run's "cleaned"."""

    def run_cells(self) -> list[RunCell]:
        """The runs table's "cleaned" cells as published, with their windows: the clean-up
        figures must not let these be derived (nor be derivable from them)."""
        runs = next((table for _, table in self.tables if table.key == "runs"), None)
        if runs is None:
            return []
        shown = runs.display()
        return [RunCell(run, after, until, int(runs.values.loc[run, "cleaned"]), str(shown.loc[run, "cleaned"]))
                for run, after, until in self.run_windows if run in runs.values.index]

    def long_frame(self) -> pd.DataFrame:
        """Every published cell as one row (the CSV): tabel, rij_sleutel, rij, kolom, waarde."""
        rows: list[dict[str, Any]] = []
        for key, label, value in self.headline:
            rows.append({"tabel": "kerncijfers", "rij_sleutel": key, "rij": label, "kolom": "waarde",
                         "waarde": value})
        for key, label, value in self.trend:
            rows.append({"tabel": "verloop", "rij_sleutel": key, "rij": label, "kolom": "waarde",
                         "waarde": value})
        for _title, table in self.tables:
            shown = table.display()
            for row_key in table.values.index:
                for column in shown.columns:
                    rows.append({"tabel": table.key, "rij_sleutel": row_key,
                                 "rij": table.row_labels.get(row_key, row_key),
                                 "kolom": table.column_labels.get(column, column),
                                 "waarde": shown.loc[row_key, column]})
        for row_key, record in self.oldest.iterrows():
            for column, value in record.items():
                if column == "label":
                    continue
                rows.append({"tabel": "oudste", "rij_sleutel": row_key, "rij": record["label"],
                             "kolom": column, "waarde": value})
        if self.cleanup is not None:
            rows += self.cleanup.long_rows()
        return pd.DataFrame(rows, columns=["tabel", "rij_sleutel", "rij", "kolom", "waarde"])

    def html(self, nav: dict[str, Any] | None = None) -> str:
        """The report page; ``nav`` (the served FG page) adds a bar with sign-out and the
        vernietigingsverklaring download (labels, the CSRF field, the dates)."""
        tables = []
        for title, table in self.tables:
            shown = table.display()
            header = [table.column_labels.get(c, c) for c in shown.columns]
            body = [(table.row_labels.get(r, r), [shown.loc[r, c] for c in shown.columns])
                    for r in table.values.index]
            tables.append({"title": title, "key": table.key, "header": header, "rows": body,
                           "chart": self.charts.get(table.key)})
        return render(
            "fg_report.html.j2",
            t=lambda key, **kw: t(key, self.language, **kw),
            language=self.language,
            k=self.k,
            school=self.school,
            generated=format_datetime(self.generated, self.language),
            headline=self.headline,
            tables=tables,
            trend=self.trend,
            trend_note=self.trend_note,
            oldest=[(r["label"], r["oldest_year"], r["age"]) for _, r in self.oldest.iterrows()],
            fp_text=self.fp_text,
            cleanup=self.cleanup.sections() if self.cleanup is not None else None,
            nav=nav,
        )

    def write(self, out_dir: Path) -> dict[str, Path]:
        """Write ``fg-rapport.html``, ``.csv`` and ``.xlsx`` into ``out_dir``."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        paths = {"html": out / "fg-rapport.html", "csv": out / "fg-rapport.csv", "xlsx": out / "fg-rapport.xlsx"}
        _atomic_write(paths["html"], self.html().encode("utf-8"))
        long = _spreadsheet_safe(self.long_frame())
        _atomic_write(paths["csv"], long.to_csv(index=False).encode("utf-8-sig"))
        tmp = paths["xlsx"].with_suffix(".xlsx.tmp")
        with pd.ExcelWriter(tmp, engine="openpyxl") as writer:
            head = pd.DataFrame([(label, value) for _, label, value in self.headline + self.trend],
                                columns=[t("fg.col.metric", self.language), t("fg.col.value", self.language)])
            _spreadsheet_safe(head).to_excel(writer, sheet_name=_sheet(t("fg.headline", self.language)), index=False)
            for title, table in self.tables:
                shown = table.display()
                shown.index = [cell_safe(table.row_labels.get(r, r)) for r in shown.index]
                shown.columns = [table.column_labels.get(c, c) for c in shown.columns]
                _spreadsheet_safe(shown).to_excel(writer, sheet_name=_sheet(title))
            oldest = self.oldest.set_index("label")
            oldest.columns = [t("fg.oldest_year", self.language), t("fg.oldest_age", self.language)]
            _spreadsheet_safe(oldest).to_excel(writer, sheet_name=_sheet(t("fg.oldest", self.language)))
            if self.cleanup is not None:
                cleanup = pd.DataFrame(self.cleanup.long_rows(),
                                       columns=["tabel", "rij_sleutel", "rij", "kolom", "waarde"])
                _spreadsheet_safe(cleanup).to_excel(writer, sheet_name=_sheet(t("cleanup.title", self.language)),
                                                    index=False)
        os.replace(tmp, paths["xlsx"])
        return paths


def _spreadsheet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.map(cell_safe)


def _sheet(title: str) -> str:
    """Excel sheet names: at most 31 characters, no []:*?/\\."""
    cleaned = "".join(" " if c in "[]:*?/\\" else c for c in title)
    return cleaned[:31]


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


# --- building -------------------------------------------------------------------------------


def _utc_naive(series: pd.Series) -> pd.Series:
    converted = pd.to_datetime(series, utc=True, errors="coerce")
    return converted.dt.tz_localize(None)


def _prepare_items(items: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in FG_ITEM_COLUMNS if c not in items.columns]
    if missing:
        raise ValueError(
            f"FG-gegevens missen kolommen {missing} / FG data lacks columns {missing}"
        )
    keep = FG_ITEM_COLUMNS + [c for c in FG_OPTIONAL_COLUMNS if c in items.columns]
    frame = items.loc[:, keep].copy()  # everything else (titles, owners, links) is dropped here
    frame["date"] = _utc_naive(frame["date"])
    frame["closed_at"] = _utc_naive(frame["closed_at"])
    frame["categories"] = frame["categories"].apply(_category_list)
    frame["false_positive"] = frame["false_positive"].fillna(False).astype(bool)
    frame["student_data"] = frame["student_data"].fillna(False).astype(bool)
    frame["department"] = frame["department"].where(frame["department"].notna() & (frame["department"] != ""),
                                                    UNKNOWN).astype(str)
    frame["first_seen_run"] = frame["first_seen_run"].astype(object).map(_run_key)
    return frame


def _run_key(value: Any) -> str | None:
    """Run ids as text; an integer id that pandas turned into 3.0 (a column with gaps) is "3"."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _category_list(value: Any) -> list[str]:
    """Categories as a list of keys, whether the store hands a list, an array, JSON text or
    a comma-separated string."""
    if value is None or (isinstance(value, float) and value != value):
        return []
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                return [str(c) for c in json.loads(text)]
            except ValueError:
                return []
        return [part.strip() for part in text.split(",") if part.strip()]
    try:
        return [str(c) for c in value]
    except TypeError:
        return []


def _prepare_runs(runs: pd.DataFrame | None) -> pd.DataFrame:
    if runs is None or runs.empty:
        return pd.DataFrame(columns=FG_RUN_COLUMNS)
    missing = [c for c in FG_RUN_COLUMNS if c not in runs.columns]
    if missing:
        raise ValueError(f"run-gegevens missen kolommen {missing} / run data lacks columns {missing}")
    frame = runs.loc[:, FG_RUN_COLUMNS].copy()
    frame["run_id"] = frame["run_id"].astype(object).map(_run_key)
    frame["started_at"] = _utc_naive(frame["started_at"])
    frame["finished_at"] = _utc_naive(frame["finished_at"])
    done = frame["finished_at"].notna() & ~frame["status"].astype(str).str.lower().isin(FAILED_RUN_STATUSES)
    return frame[done].sort_values("started_at").reset_index(drop=True)


def _status_counts(frame: pd.DataFrame, group: pd.Series, index: list[str]) -> pd.DataFrame:
    """Counts per group: actief, verlopen, binnenkort, ok (of active items) and opgeruimd."""
    active = frame["state"] == ItemState.ACTIVE.value
    result = pd.DataFrame(0, index=index, columns=COUNT_COLUMNS, dtype=int)
    if frame.empty:
        return result
    keyed = pd.DataFrame({"group": group.values, "active": active.values, "status": frame["status"].values})
    counts = keyed[keyed["active"]].groupby(["group", "status"]).size().unstack(fill_value=0)
    for status in STATUS_COLUMNS:
        if status in counts.columns:
            result[status] = counts[status].reindex(index, fill_value=0).astype(int)
    result["actief"] = keyed[keyed["active"]].groupby("group").size().reindex(index, fill_value=0).astype(int)
    result["opgeruimd"] = keyed[~keyed["active"]].groupby("group").size().reindex(index, fill_value=0).astype(int)
    return result


def _age_years(dates: pd.Series, now: datetime) -> pd.Series:
    return (pd.Timestamp(now) - dates).dt.days / 365.25


ROW_SUMS = [("actief", STATUS_COLUMNS)]
"""The published "actief" total is the sum of its status columns; secondary suppression
must know it, so that no hidden status count can be derived from the total."""


def build_fg_report(
    items_df: pd.DataFrame,
    runs_df: pd.DataFrame | None = None,
    min_group_size: int = 5,
    language: str = "nl",
    school: str = "",
    now: datetime | None = None,
    cleanup: CleanupFigures | None = None,
) -> FgReport:
    """Compute the FG report from the item and run frames (see the module docstring).

    Each table is built by its own function from the same cleaned frames; this one only
    checks the arguments, prepares the frames and puts the pieces in page order.
    """
    language = check_language(language)
    if min_group_size < 2:
        raise ValueError("min_group_size moet minstens 2 zijn / min_group_size must be at least 2")
    k = min_group_size
    generated = now or datetime.now(UTC)
    now_naive = generated.astimezone(UTC).replace(tzinfo=None) if generated.tzinfo else generated
    items = _prepare_items(items_df)
    runs = _prepare_runs(runs_df)

    flagged = items[items["student_data"] | items["false_positive"]]
    data = items[items["student_data"] & ~items["false_positive"]]
    active = data[data["state"] == ItemState.ACTIVE.value]

    category_table, category_keys = _category_table(data, k, language)
    age_table = _age_table(active, k, language, now_naive)
    run_table, trend_note = _trend(data, runs, language)
    tables = [
        (t("fg.by_category", language), category_table),
        (t("fg.by_sensitivity", language), _sensitivity_table(data, k, language)),
        (t("fg.by_age", language), age_table),
        (t("fg.by_department", language), _department_table(data, k, language)),
        (t("fg.trend", language), run_table),
    ]
    if "action" in data.columns:
        tables.insert(4, (t("fg.archive", language), _archive_table(data, category_keys, k, language)))
    if "broad" in data.columns:
        by_category, by_department = _broad_tables(data, category_keys, k, language)
        tables.insert(len(tables) - 1, (t("fg.broad_by_category", language), by_category))
        tables.insert(len(tables) - 1, (t("fg.broad_by_department", language), by_department))
    totals = _totals(data, active, runs, flagged)
    shown = protect_report([table for _, table in tables], totals, k)
    headline, trend = _headline(shown, k, language, len(runs) >= 2)
    report = FgReport(language=language, k=k, school=school, generated=generated, headline=headline,
                      tables=tables, trend=trend, trend_note=trend_note,
                      oldest=_oldest(active, category_keys, k, language, now_naive),
                      fp_text=_false_positive_text(shown, k, language), cleanup=cleanup)
    report.charts = _charts(category_table, age_table, run_table, language, k)
    ends = list(runs["finished_at"])
    report.run_windows = [(str(run), ends[i - 1] if i else None, ends[i]) for i, run in enumerate(runs["run_id"])]
    return report


def _count_labels(language: str) -> dict[str, str]:
    """Column headers of the count columns, shared by every table."""
    return {c: t(f"fg.col.{c}", language) for c in COUNT_COLUMNS}


def _category_table(data: pd.DataFrame, k: int, language: str) -> tuple[ProtectedTable, list[str]]:
    """Counts per category, known categories first in catalogue order; an item counts once in
    each of its categories. Returns the row keys too: the oldest-data table uses the same order."""
    exploded = data.explode("categories")
    exploded = exploded[exploded["categories"].notna()]
    known = cats.known_keys()
    category_keys = known + sorted(set(exploded["categories"]) - set(known), key=cats.sort_key)
    values = _status_counts(exploded, exploded["categories"], category_keys)
    table = ProtectedTable(
        key="categorie", values=values, k=k,
        row_labels={c: _capital(cats.info(c).label(language)) for c in category_keys},
        column_labels={**_count_labels(language), "gevoeligheid": t("fg.col.sensitivity", language)},
        extra=pd.DataFrame({"gevoeligheid": [cats.sensitivity_label(cats.info(c).sensitivity, language)
                                             for c in category_keys]}, index=category_keys),
    )
    return table, category_keys


def _archive_table(data: pd.DataFrame, category_keys: list[str], k: int, language: str) -> ProtectedTable:
    """The items to archive under the Archiefwet (action ``archiveren``), per category: counted
    apart because they are never deleted, so "opgeruimd" here means moved to the archive.
    Each cell is part of the same cell of the category table (the disclosure model knows)."""
    archive = data[data["action"] == RetentionAction.ARCHIVEREN.value].explode("categories")
    archive = archive[archive["categories"].notna()]
    return ProtectedTable(
        key="archief", values=_status_counts(archive, archive["categories"], category_keys), k=k,
        row_labels={c: _capital(cats.info(c).label(language)) for c in category_keys},
        column_labels=_count_labels(language),
    )


def _broad_tables(data: pd.DataFrame, category_keys: list[str], k: int, language: str
                  ) -> tuple[ProtectedTable, ProtectedTable]:
    """Student data that is *breed gedeeld* (anyone with a link, the whole school, a guest),
    per category and per department (issue 20). The department rows are the department
    table's own (small departments merged the same way), so each cell is part of the same cell
    there, as each category cell is of the category table; the disclosure model knows both,
    and that the departments of the broad items add up to a count it never publishes."""
    broad = data[data["broad"].fillna(False).astype(bool)]
    exploded = broad.explode("categories")
    exploded = exploded[exploded["categories"].notna()]
    by_category = ProtectedTable(
        key="breed_categorie", values=_status_counts(exploded, exploded["categories"], category_keys), k=k,
        row_labels={c: _capital(cats.info(c).label(language)) for c in category_keys},
        column_labels=_count_labels(language),
    )
    department = _merge_small_departments(data, k)
    dept_index = sorted(set(department), key=lambda d: (d in (OTHER, UNKNOWN), d == OTHER, d.casefold()))
    by_department = ProtectedTable(
        key="breed_afdeling", values=_status_counts(broad, department.loc[broad.index], dept_index), k=k,
        row_labels={d: t("fg.other", language) if d == OTHER
                    else t("fg.unknown_department", language) if d == UNKNOWN else d
                    for d in dept_index},
        column_labels=_count_labels(language),
    )
    return by_category, by_department


def _sensitivity_table(data: pd.DataFrame, k: int, language: str) -> ProtectedTable:
    """Counts per sensitivity (one per item, so the rows add up to the total)."""
    sens_keys = list(cats.SENSITIVITY_ORDER)
    extra_sens = sorted(set(data["sensitivity"].dropna().astype(str)) - set(sens_keys))
    sens_index = sens_keys + extra_sens
    values = _status_counts(data, data["sensitivity"].fillna("").astype(str), sens_index)
    return ProtectedTable(
        key="gevoeligheid", values=values, k=k,
        row_labels={s: _capital(cats.sensitivity_label(s, language)) for s in sens_index},
        column_labels=_count_labels(language),
    )


def _age_table(active: pd.DataFrame, k: int, language: str, now_naive: datetime) -> ProtectedTable:
    """Counts per age bucket, of active items only: cleaned items have no age that matters."""
    age_cols = ["actief", *STATUS_COLUMNS]
    ages = _age_years(active["date"], now_naive)
    bucket = pd.Series(index=active.index, dtype=object)
    for key, low, high in AGE_BUCKETS:
        bucket[(ages >= low) & (ages < high)] = key
    bucket = bucket.fillna("lt1")  # undated or future-dated items count as young
    age_index = [key for key, _, _ in AGE_BUCKETS]
    values = _status_counts(active, bucket, age_index)[age_cols]
    return ProtectedTable(
        key="ouderdom", values=values, k=k,
        row_labels={key: t(f"fg.age.{key}", language) for key in age_index},
        column_labels=_count_labels(language),
    )


def _department_table(data: pd.DataFrame, k: int, language: str) -> ProtectedTable:
    """Counts per school/department, small ones merged into "overig" (shown last)."""
    department = _merge_small_departments(data, k)
    dept_index = sorted(set(department), key=lambda d: (d in (OTHER, UNKNOWN), d == OTHER, d.casefold()))
    values = _status_counts(data, department, dept_index)
    return ProtectedTable(
        key="afdeling", values=values, k=k,
        row_labels={d: t("fg.other", language) if d == OTHER
                    else t("fg.unknown_department", language) if d == UNKNOWN else d
                    for d in dept_index},
        column_labels=_count_labels(language),
    )


def _totals(data: pd.DataFrame, active: pd.DataFrame, runs: pd.DataFrame, flagged: pd.DataFrame
            ) -> dict[str, int]:
    """The school-wide counts the headline publishes (``nog_verlopen``: overdue items that
    were there before the latest run; ``fp``/``flagged``: the false-positive rate)."""
    current = runs.iloc[-1]["run_id"] if len(runs) else None
    still = ((data["state"] == ItemState.ACTIVE.value) & (data["status"] == RetentionStatus.OVERDUE.value))
    if len(runs) >= 2:
        still &= data["first_seen_run"] != current
    return {
        "actief": len(active), "verlopen": int((active["status"] == RetentionStatus.OVERDUE.value).sum()),
        "binnenkort": int((active["status"] == RetentionStatus.DUE_SOON.value).sum()),
        "opgeruimd": int((data["state"] == ItemState.CLEANED.value).sum()),
        "nog_verlopen": int(still.sum()),
        "fp": int(flagged["false_positive"].sum()), "flagged": len(flagged),
    }


def _headline(shown: ProtectedFigures, k: int, language: str, has_previous: bool
              ) -> tuple[list[tuple[str, str, str]], list[tuple[str, str, str]]]:
    """The key figures at the top of the page and the trend lines, each shown exactly as the
    joint protection decided (the trend figures are cells of the runs table)."""
    headline = [
        ("actief", t("fg.active", language), shown.total("actief")),
        ("verlopen", t("fg.overdue", language), shown.total("verlopen")),
        ("binnenkort", t("fg.soon", language), shown.total("binnenkort")),
        ("opgeruimd", t("fg.cleaned_total", language), shown.total("opgeruimd")),
        ("opgeruimd_sinds_vorige", t("fg.cleaned_share", language),
         _share(shown, "cleaned", "present_before", language) if has_previous else t("fg.cleaned_share_na", language)),
        ("vals_positief", t("fg.fp_rate", language), _fp_rate(shown, k, language)),
    ]
    trend = [("nieuw", t("fg.new", language), shown.run("new"))]
    if has_previous:
        trend.append(("opgeruimd", t("fg.cleaned", language), shown.run("cleaned")))
    trend.append(("nog_verlopen", t("fg.still_overdue", language), shown.total("nog_verlopen")))
    return headline, trend


def _share(shown: ProtectedFigures, part: str, whole: str, language: str) -> str:
    """Deletion evidence: the share cleaned up since the previous run, as a percentage only
    when both counts are published (a percentage of a published whole gives the part away)."""
    part_text, whole_text = shown.run(part), shown.run(whole)
    if not part_text.isdigit() or not whole_text.isdigit():
        return f"{part_text} / {whole_text}"
    return _percent(int(part_text), int(whole_text), language)


def _fp_rate(shown: ProtectedFigures, k: int, language: str) -> str:
    flagged, fp = shown.total("flagged"), shown.total("fp")
    if flagged == "0":
        return t("fg.fp_rate_na", language)
    if not fp.isdigit() or not flagged.isdigit():
        return f"{fp} / {flagged}"
    return _percent(int(fp), int(flagged), language)


def _false_positive_text(shown: ProtectedFigures, k: int, language: str) -> str:
    if shown.total("flagged") == "0":
        return t("fg.fp_rate_na", language)
    return t("fg.fp_text", language, fp=shown.total("fp"), flagged=shown.total("flagged"),
             rate=_fp_rate(shown, k, language))


def _merge_small_departments(data: pd.DataFrame, k: int) -> pd.Series:
    """Departments with fewer than k items (or, when the frame has ``owner_key``, fewer than
    k distinct owners) are shown together as "overig". The merged group must pass the same
    test: while it does not, the smallest remaining department joins it (in the end the whole
    school is one group), because "overig" of one teacher is that teacher."""
    department = data["department"].copy()
    with_owners = "owner_key" in data.columns

    def too_small(mask: pd.Series) -> bool:
        if not mask.any():
            return False
        return bool(mask.sum() < k or (with_owners and data.loc[mask, "owner_key"].nunique() < k))

    small = {d for d in set(department) if too_small(department == d)}
    merged = department.isin(small)
    while too_small(merged):
        rest = department[~merged].value_counts()
        if rest.empty:
            break
        smallest = min(rest.index, key=lambda d: (rest[d], str(d)))
        merged |= department == smallest
    return department.where(~merged, OTHER)


def _trend(data: pd.DataFrame, runs: pd.DataFrame, language: str) -> tuple[ProtectedTable, str]:
    """The runs table (items present, new and cleaned up per completed run) and the note
    that says since when the trend lines count."""
    start_of = dict(zip(runs["run_id"], runs["started_at"], strict=True))
    first_seen = data["first_seen_run"].map(lambda r: start_of.get(r) if r is not None else None)
    first_seen = pd.to_datetime(first_seen)
    rows: dict[str, dict[str, int]] = {}
    labels: dict[str, str] = {}
    previous_end = None
    for _, run in runs.iterrows():
        started, finished = run["started_at"], run["finished_at"]
        existed = first_seen.isna() | (first_seen <= started)
        open_then = data["closed_at"].isna() | (data["closed_at"] > finished)
        closed = data["closed_at"].notna() & (data["closed_at"] <= finished)
        if previous_end is not None:
            closed &= data["closed_at"] > previous_end
        rows[run["run_id"]] = {
            "present": int((existed & open_then).sum()),
            "new": int((data["first_seen_run"] == run["run_id"]).sum()),
            "cleaned": int(closed.sum()),
        }
        labels[run["run_id"]] = format_date(started, language)
        previous_end = finished
    values = pd.DataFrame.from_dict(rows, orient="index", columns=["present", "new", "cleaned"]).astype(int)
    if values.empty:
        values = pd.DataFrame(columns=["present", "new", "cleaned"], dtype=int)
    table = ProtectedTable(
        key="runs", values=values,
        row_labels=labels,
        column_labels={c: t(f"fg.col.{c}", language) for c in ["present", "new", "cleaned"]},
    )
    if len(runs) < 2:
        return table, t("fg.trend_first", language)
    previous = runs.iloc[-2]
    return table, t("fg.trend_since", language, date=format_datetime(previous["finished_at"], language))


def _oldest(active: pd.DataFrame, category_keys: list[str], k: int, language: str, now: datetime) -> pd.DataFrame:
    exploded = active.explode("categories")
    records = []
    for key in category_keys:
        dates = exploded.loc[exploded["categories"] == key, "date"].dropna()
        label = _capital(cats.info(key).label(language))
        if len(dates) == 0:
            continue
        if len(dates) < k:
            records.append({"key": key, "label": label, "oldest_year": f"<{k}", "age": f"<{k}"})
            continue
        oldest = dates.min()
        months = (now.year - oldest.year) * 12 + (now.month - oldest.month) - (1 if now.day < oldest.day else 0)
        age = (t("fg.age_years", language, years=months // 12) if months >= 12
               else t("fg.age_months", language, months=max(months, 0)))
        records.append({"key": key, "label": label, "oldest_year": str(oldest.year), "age": age})
    frame = pd.DataFrame(records, columns=["key", "label", "oldest_year", "age"]).set_index("key")
    return frame


def _charts(categories: ProtectedTable, ages: ProtectedTable, runs: ProtectedTable, language: str,
            k: int) -> dict[str, str]:
    hidden = f"<{k}"
    series = [(s, t(f"fg.col.{s}", language)) for s in STATUS_COLUMNS]
    shown = categories.display()
    rows = [
        (categories.row_labels[c], {s: categories.visible_value(c, s) for s in STATUS_COLUMNS},
         str(shown.loc[c, "actief"]))
        for c in categories.values.index if categories.values.loc[c, "actief"] > 0
    ]
    result = {"categorie": charts.stacked_bars(t("fg.chart.categories", language), rows, series)}
    result["ouderdom"] = charts.columns(
        t("fg.chart.age", language),
        [(ages.row_labels[a], ages.visible_value(a, "actief")) for a in ages.values.index], hidden)
    if len(runs.values.index) > 0:
        result["runs"] = charts.line(
            t("fg.chart.trend", language),
            [(runs.row_labels[r], runs.visible_value(r, "present")) for r in runs.values.index], hidden)
    return result


def _percent(part: int, whole: int, language: str) -> str:
    if whole == 0:
        return "0%" if language == "en" else "0%"
    value = 100.0 * part / whole
    text = f"{value:.1f}%"
    return text.replace(".", ",") if language == "nl" else text


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]
