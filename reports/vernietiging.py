"""The *vernietigingsverklaring* (issue 18, item 6): the school's filed proof of deletion.

Counts per category and per block of four weeks of what was cleaned up (deleted at the
source, or moved to Verwijderde items / the recycle bin / a quarantine folder on the owner's
answer), with the retention rules applied, the school's name, the period and the date of
issue; nothing about any person. The cells are exactly the cells of the clean-up figures
(:mod:`reports.cleanup`) for the same blocks, protected there block by block: a declaration
over any period says nothing that the FG report of those blocks does not, and two
declarations over overlapping periods publish the same cells for the blocks they share. No
total over several blocks is published unless every part of it is (a sum of hidden cells
would give them away when two declarations are set side by side).

Output: a self-contained HTML page (print it to PDF or file it as it is) and a CSV with the
same cells, rendered with the reports' one Jinja2 environment.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime

from reports.cleanup import CleanupFigures, block_end, block_start
from reports.i18n import format_date, t
from reports.rendering import render
from scanner.core.cells import row_safe


@dataclass
class Declaration:
    school: str
    start: date
    end: date
    issued: datetime
    figures: CleanupFigures

    def rows(self) -> list[dict[str, str]]:
        """One row per block and category with anything cleaned: the published cells."""
        lang = self.figures.language
        out = []
        for block in self.figures.blocks:
            if int(block.totals.values.loc["totaal", "opgeruimd"]) == 0:
                continue  # a zero says nothing about anyone, and nothing to prove
            shown = block.categories.display()
            for category in block.categories.values.index:
                if int(block.categories.values.loc[category, "opgeruimd"]) == 0:
                    continue
                total, moved = str(shown.loc[category, "opgeruimd"]), str(shown.loc[category, "verplaatst"])
                deleted = _difference(total, moved)
                out.append({"period": block.label, "from": block_start(block.block).isoformat(),
                            "to": block_end(block.block).isoformat(),
                            "category": block.categories.row_labels.get(category, category),
                            "total": total, "moved": moved, "deleted": deleted,
                            "rules": ", ".join(block.rules.get(category, [])), "is_total": False})
            totals = block.totals.display()
            out.append({"period": block.label, "from": block_start(block.block).isoformat(),
                        "to": block_end(block.block).isoformat(), "category": t("cleanup.total", lang),
                        "total": str(totals.loc["totaal", "opgeruimd"]),
                        "moved": str(totals.loc["totaal", "verplaatst"]), "deleted": _difference(
                            str(totals.loc["totaal", "opgeruimd"]), str(totals.loc["totaal", "verplaatst"])),
                        "rules": "", "is_total": True})
        return out

    def period_total(self) -> str | None:
        """The period's total when every block total is published, else None."""
        values = [str(b.totals.display().loc["totaal", "opgeruimd"]) for b in self.figures.blocks]
        return str(sum(int(v) for v in values)) if values and all(v.isdigit() for v in values) else None

    def covered(self) -> str | None:
        """The sentence naming the first and last day the counted blocks cover."""
        if not self.figures.blocks:
            return None
        lang = self.figures.language
        return t("vv.covered", lang, first=format_date(block_start(self.figures.blocks[0].block), lang),
                 last=format_date(block_end(self.figures.blocks[-1].block), lang))

    def html(self) -> str:
        lang = self.figures.language
        return render("vernietigingsverklaring.html.j2", t=lambda key, **kw: t(key, lang, **kw), language=lang,
                      school=self.school or "schoonschip", start=format_date(self.start, lang),
                      end=format_date(self.end, lang), issued=format_date(self.issued, lang),
                      k=self.figures.k, rows=self.rows(), period_total=self.period_total(),
                      covered=self.covered())

    def csv(self) -> str:
        lang = self.figures.language
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        issued = t("vv.issued", lang, date=self.issued.date().isoformat())
        writer.writerow(row_safe([t("vv.title", lang), self.school, format_date(self.start, lang),
                                  format_date(self.end, lang), issued]))
        writer.writerow([t("vv.period", lang), "van", "tot en met", t("vv.category", lang), t("vv.total", lang),
                         t("vv.moved", lang), t("vv.deleted", lang), t("vv.rules", lang)])
        for row in self.rows():
            writer.writerow(row_safe([row["period"], row["from"], row["to"], row["category"], row["total"],
                                      row["moved"], row["deleted"], row["rules"]]))
        return buffer.getvalue()


def _difference(total: str, moved: str) -> str:
    """Deleted = cleaned - moved, shown only when both are (nothing moved: as the total)."""
    if moved == "0":
        return total
    return str(int(total) - int(moved)) if total.isdigit() and moved.isdigit() else "*"


def declaration(figures: CleanupFigures, *, school: str, start: date, end: date, issued: datetime) -> Declaration:
    return Declaration(school, start, end, issued, figures)
