"""The shared folder ``gedeeld/``: the documents a school keeps on its share next to mail.

Subfolders as schools name them: ``Zorg`` (support plans), ``Groep N`` per teacher (class
lists, test results, reports, with an ``Archief`` of old years), ``Administratie`` (LAS
exports, an address list, an invoice), ``Nieuwsbrieven`` and ``Team`` (hard negatives). Every
file format the extractors support in the demo appears at least once: DOCX, XLSX, CSV, PDF,
TXT, HTML and a ZIP with a CSV inside. File times are set to plausible dates so retention
statuses differ. Files are 0640 in 0755 folders; one class list is world-readable (0644), so the
demo shows a *breed gedeeld* item at the top of its teacher's digest.
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from html import escape
from pathlib import Path

from scanner.demo.docs import DocFactory, school_year_label, zorg_issue
from scanner.demo.people import COLLEAGUES, SCHOOL_NAME, Population, Staff
from scanner.demo.planted import Planter
from scanner.demo.scenarios import aware

FileCallback = Callable[[str, bool, list[str]], None]


def _school_year_of(d: date) -> int:
    return d.year if d.month >= 8 else d.year - 1


def write_shared_folder(
    shared: Path,
    *,
    root: Path,
    seed: int,
    today: date,
    teachers: list[Staff],
    population: Population,
    docs: DocFactory,
    planter: Planter,
    on_item: FileCallback,
) -> dict[str, str]:
    """Write ``gedeeld/`` and return the ``owners`` map (glob on the relative path -> owner)."""
    rng = random.Random(f"{seed}:shared")
    sy_now = _school_year_of(today)

    def put(rel: str, data: bytes, student_data: bool, cats: set[str], when: date, mode: int = 0o640) -> None:
        """Files are for their owner and group (0640, folders 0755), as on a school share; the
        one file with ``mode=0o644`` can be read by every account: *breed gedeeld* (issue 20)."""
        path = shared / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        for folder in (shared, *[shared / p for p in Path(rel).parents if str(p) != "."]):
            folder.chmod(0o755)
        path.write_bytes(data)
        path.chmod(mode)
        when = min(when, today - timedelta(days=1))
        ts = aware(datetime.combine(when, time(rng.randrange(8, 18), rng.randrange(60)))).timestamp()
        os.utime(path, (ts, ts))
        on_item(path.relative_to(root).as_posix(), student_data, sorted(cats))

    def in_year(sy: int) -> date:
        """A day in school year ``sy`` (before today: nothing on a share is from the future)."""
        start = date(sy, 9, 1)
        return min(start + timedelta(days=rng.randrange(300)), today - timedelta(days=1))

    owners: dict[str, str] = {"Zorg/*": teachers[0].email}
    first = teachers[0]
    for teacher in teachers:
        g = teacher.groep or 1
        owners[f"Groep {g}/*"] = teacher.email
        now_students = population.group(g, sy_now)
        # The first teacher's class list of this year is open to every account on the server.
        put(f"Groep {g}/Klassenlijst groep {g} {school_year_label(sy_now)}.xlsx",
            docs.klassenlijst_xlsx(g, sy_now, now_students), True, {"identificatie"}, date(sy_now, 8, 25),
            mode=0o644 if teacher is first else 0o640)
        put(f"Groep {g}/Toetsuitslagen M{g}.xlsx", docs.toetsuitslagen_xlsx(g, sy_now, now_students), True,
            {"cijfers"}, today - timedelta(days=rng.randrange(5, 40)))
        old = rng.randrange(2018, max(2019, sy_now - 1))
        put(f"Groep {g}/Archief/Klassenlijst groep {g} {school_year_label(old)}.xlsx",
            docs.klassenlijst_xlsx(g, old, population.group(g, old)), True, {"identificatie"}, in_year(old))
        prev = sy_now - 1
        s = rng.choice(population.group(g, prev))
        put(f"Groep {g}/Onderwijskundig rapport {s.first} {s.last}.pdf", docs.rapport_pdf(s, g, prev, teacher),
            True, {"zorg", "identificatie", "cijfers", "contactgegevens"}, date(prev + 1, 6, 20))
        s = rng.choice(now_students)
        issue, _ = zorg_issue(seed, s)
        note = (
            f"Verslag oudergesprek {planter.name(s)} - {today - timedelta(days=12):%d-%m-%Y}\r\n\r\n"
            f"Aanwezig: {planter.parent(s.parents[0])}, {teacher.name} (leerkracht), {COLLEAGUES[0].name} (IB)\r\n"
            f"- {s.first} heeft {issue}.\r\n- Afspraak: evaluatie na zes weken.\r\n"
        )
        put(f"Groep {g}/Verslag oudergesprek {s.first}.txt", note.encode("utf-8"), True, {"zorg"},
            today - timedelta(days=12))

    g0 = first.groep or 1
    zorg = rng.sample(population.group(g0, sy_now), 3)
    for s in zorg:
        put(f"Zorg/Handelingsplan {s.first} {s.last}.docx", docs.handelingsplan_docx(s, g0, sy_now, first), True,
            {"zorg"}, today - timedelta(days=rng.randrange(20, 90)))
    old_sy = rng.randrange(2017, max(2018, sy_now - 2))
    for s in rng.sample(population.group(g0, old_sy), 2):
        put(f"Zorg/OPP {s.first} {s.last} {school_year_label(old_sy)}.docx", docs.opp_docx(s, g0, old_sy, first),
            True, {"zorg", "identificatie", "contactgegevens"}, in_year(old_sy))

    put("Administratie/LAS-export leerlingen.csv", docs.las_csv(g0, sy_now, population.group(g0, sy_now)), True,
        {"identificatie", "contactgegevens"}, date(sy_now, 9, 2))
    zip_sy = rng.randrange(2018, max(2019, sy_now - 1))
    put(f"Administratie/Export {school_year_label(zip_sy)}.zip",
        docs.las_zip(g0, zip_sy, population.group(g0, zip_sy)), True, {"identificatie", "contactgegevens"},
        in_year(zip_sy))
    rows = "".join(
        f"<tr><td>{escape(planter.name(s))}</td><td>{escape(planter.address(s))}</td>"
        f"<td>{escape(planter.phone(s.parents[0], 1))}</td></tr>"
        for s in population.group(g0, sy_now)[:12]
    )
    adres = (
        f"<!DOCTYPE html><html lang=\"nl\"><head><meta charset=\"utf-8\"><title>Adreslijst groep {g0}</title>"
        f"</head><body><h1>Adreslijst groep {g0}</h1><table><tr><th>Naam</th><th>Adres</th><th>Telefoon</th></tr>"
        f"{rows}</table></body></html>"
    )
    put(f"Administratie/Adreslijst groep {g0}.html", adres.encode("utf-8"), True, {"contactgegevens"},
        date(sy_now, 9, 10))
    pdf, nummer, _, _ = docs.factuur_pdf(rng.randrange(8))
    put(f"Administratie/Factuur {nummer}.pdf", pdf, False, set(), today - timedelta(days=rng.randrange(30, 400)))

    for k in range(3):
        when = in_year(rng.randrange(2019, sy_now + 1))
        put(f"Nieuwsbrieven/Nieuwsbrief {when:%Y-%m}.html", docs.nieuwsbrief_html(k, when).encode("utf-8"), False,
            set(), when)
    put("Nieuwsbrieven/Nieuwsbrief september.pdf", docs.nieuwsbrief_pdf(0), False, set(), date(sy_now, 9, 5))
    planning = (
        f"Jaarplanning {SCHOOL_NAME} {school_year_label(sy_now)}\n\n"
        "september: informatieavond, schoolfotograaf\noktober: herfstvakantie, studiedag\n"
        "december: sinterklaas, kerstviering\nfebruari: rapport 1, tien-minutengesprekken\n"
        "april: koningsspelen, verkeersexamen groep 7\njuni: schoolreis, rapport 2\njuli: musical groep 8\n"
    )
    put(f"Nieuwsbrieven/Jaarplanning {school_year_label(sy_now)}.txt", planning.encode("utf-8"), False, set(),
        date(sy_now, 8, 28))
    put("Team/Notulen teamvergadering.docx", docs.notulen_docx(1, today - timedelta(days=20)), False, set(),
        today - timedelta(days=20))
    put("Team/Gymrooster.xlsx", docs.rooster_xlsx(0), False, set(), date(sy_now, 8, 30))

    # Retention that follows the pupil and the law (an rng of their own: the files above stay
    # as they were). A leaver's care dossier, dated in groep 8 three school years ago: the
    # pupil left in July after it, so it is overdue by "2 years after leaving". And the
    # grade list of the central exam of that year: the Archiefwet keeps it, never deleted.
    extra = random.Random(f"{seed}:lifecycle")
    left_sy = sy_now - 3
    leavers = population.group(8, left_sy)
    if leavers:
        s = extra.choice(leavers)
        put(f"Zorg/OPP {s.first} {s.last} {school_year_label(left_sy)}.docx",
            docs.opp_docx(s, 8, left_sy, first), True, {"zorg", "identificatie", "contactgegevens"},
            date(left_sy + 1, 3, 9))
        put(f"Administratie/Examens/Cijferlijst centraal examen {school_year_label(left_sy)}.xlsx",
            docs.toetsuitslagen_xlsx(8, left_sy, leavers), True, {"cijfers"}, date(left_sy + 1, 6, 26))
    return owners
