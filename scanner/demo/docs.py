"""Attachments and shared-folder documents for the demo corpus (DOCX, XLSX, CSV, PDF, ZIP, HTML).

Why caching: building an Office file costs 5-20 ms, a mail costs well under one. So documents
are built once per key and reused: class lists per (groep, school year), student documents per
student (LRU-bounded so a 50,000-mail run does not grow without limit), hard negatives as a
handful of variants. DOCX files are built once as a template with ``{{PLACEHOLDER}}`` runs and
then filled by replacing text in ``word/document.xml``, which is about ten times faster than
python-docx and keeps every planted value findable by a normal DOCX reader.

Why normalising: python-docx, openpyxl and zipfile stamp the current time into archives and
document properties; every archive is rewritten with fixed timestamps so the same seed gives the
same bytes.
"""

from __future__ import annotations

import csv
import io
import random
import re
import textwrap
import zipfile
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import TypeVar
from xml.sax.saxutils import escape

from scanner.demo.people import (
    COLLEAGUES,
    SCHOOL_NAME,
    SUPPLIERS,
    Staff,
    Student,
    make_eleven_proof_number,
)
from scanner.demo.planted import Planter

FIXED_ZIP_TIME = (2020, 1, 1, 0, 0, 0)
FIXED_DT = datetime(2020, 1, 1, 0, 0, 0)
_CORE_DATES = re.compile(rb"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:\2>)")

T = TypeVar("T")

ZORG_ISSUES: tuple[tuple[str, bool], ...] = (
    ("leesproblemen; vermoeden van dyslexie, onderzoek aangevraagd via de zorgverzekeraar", False),
    ("rekenproblemen; werkt op een eigen leerlijn rekenen", False),
    ("faalangst en weinig zelfvertrouwen; begeleiding door schoolmaatschappelijk werk (SMW)", False),
    ("gediagnosticeerd met ADHD; gebruikt methylfenidaat (Ritalin) op schooldagen", True),
    ("autismespectrumstoornis (ASS); heeft behoefte aan vaste structuur en een prikkelarme werkplek", True),
    ("taalachterstand; NT2-leerling, extra ondersteuning bij woordenschat", False),
    ("gedragsproblemen in de klas; traject met jeugdzorg via het wijkteam", False),
    ("epilepsie; noodmedicatie ligt in de kast bij de administratie", True),
)


def zorg_issue(seed: int, student: Student) -> tuple[str, bool]:
    """The (fictional) support need of a student: the same everywhere it is mentioned."""
    return random.Random(f"{seed}:zorg:{student.number}").choice(ZORG_ISSUES)


def school_year_label(school_year: int) -> str:
    return f"{school_year}-{school_year + 1}"


def normalize_zip(data: bytes, drop: set[str] | None = None) -> bytes:
    """Rewrite a ZIP-based file with fixed timestamps (optionally without some members)."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            if drop and info.filename in drop:
                continue
            blob = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                blob = _CORE_DATES.sub(rb"\g<1>2020-01-01T00:00:00Z\g<3>", blob)
            fixed = zipfile.ZipInfo(info.filename, date_time=FIXED_ZIP_TIME)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o644 << 16
            dst.writestr(fixed, blob)
    return out.getvalue()


def make_zip(members: list[tuple[str, bytes]]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for name, blob in members:
            info = zipfile.ZipInfo(name, date_time=FIXED_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            dst.writestr(info, blob)
    return out.getvalue()


def _latin1(text: str) -> str:
    """PDF core fonts are latin-1 only: map the few typographic characters we might use."""
    text = text.replace("–", "-").replace("’", "'").replace("€", "EUR")
    return text.encode("latin-1", "replace").decode("latin-1")


class _Lru(OrderedDict):
    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size

    def get_or(self, key: object, build: Callable[[], T]) -> T:
        if key in self:
            self.move_to_end(key)
            return self[key]
        value = build()
        self[key] = value
        if len(self) > self.size:
            self.popitem(last=False)
        return value


class DocFactory:
    """Builds (and caches) every document kind the corpus uses.

    Each builder draws its randomness from ``Random(f"{seed}:<kind>:<key>")``, so a document
    depends only on the seed and its key, never on the order of calls or cache evictions.
    """

    def __init__(self, seed: int, planter: Planter, cache_size: int = 128) -> None:
        self.seed = seed
        self.plant = planter
        self._cohort_docs: dict[tuple, bytes] = {}
        self._student_docs = _Lru(cache_size)
        self._variants: dict[tuple, tuple] = {}
        self._templates: dict[str, bytes] = {}

    def _rng(self, *key: object) -> random.Random:
        return random.Random(":".join([str(self.seed), *map(str, key)]))

    # --- class-level documents ---------------------------------------------------------------

    def klassenlijst_xlsx(self, groep: int, school_year: int, students: list[Student]) -> bytes:
        """Klassenlijst with the columns Naam, Geboortedatum, BSN (the classic leak)."""
        key = ("klassenlijst", groep, school_year)
        if key not in self._cohort_docs:
            import openpyxl

            wb = openpyxl.Workbook()
            ws = wb.worksheets[0]  # a new workbook's one (and active) sheet
            ws.title = f"Groep {groep}"
            ws.append([f"Klassenlijst groep {groep} {school_year_label(school_year)}"])
            ws.append(["Naam", "Geboortedatum", "BSN"])
            for s in students:
                ws.append([self.plant.name(s), self.plant.birth(s), self.plant.pgn(s)])
            self._cohort_docs[key] = self._save_xlsx(wb)
        return self._cohort_docs[key]

    def toetsuitslagen_xlsx(self, groep: int, school_year: int, students: list[Student]) -> bytes:
        key = ("toets", groep, school_year)
        if key not in self._cohort_docs:
            import openpyxl

            rng = self._rng("toets", groep, school_year)
            wb = openpyxl.Workbook()
            ws = wb.worksheets[0]  # a new workbook's one (and active) sheet
            ws.title = "Midden" if rng.random() < 0.5 else "Eind"
            ws.append(["Naam", "Rekenen-Wiskunde", "Spelling", "Begrijpend lezen", "Technisch lezen"])
            for s in students:
                ws.append([self.plant.name(s)] + [rng.choice(("I", "II", "III", "IV", "V")) for _ in range(4)])
            cijfers = wb.create_sheet("Rapportcijfers")
            cijfers.append(["Naam", "Rekenen", "Taal", "Aardrijkskunde", "Geschiedenis"])
            for s in students:
                cijfers.append([s.name] + [round(rng.uniform(4.5, 9.5), 1) for _ in range(4)])
            self._cohort_docs[key] = self._save_xlsx(wb)
        return self._cohort_docs[key]

    def las_csv(self, groep: int, school_year: int, students: list[Student]) -> bytes:
        """A LAS export as schools get it: semicolons, UTF-8 with BOM, Dutch dates."""
        key = ("lascsv", groep, school_year)
        if key not in self._cohort_docs:
            buf = io.StringIO()
            writer = csv.writer(buf, delimiter=";", lineterminator="\r\n")
            writer.writerow(
                ["Leerlingnummer", "Achternaam", "Tussenvoegsel", "Roepnaam", "Geboortedatum", "BSN",
                 "Adres", "Naam ouder", "Telefoon ouder", "E-mail ouder", "Groep"]
            )
            for s in students:
                self.plant.name(s)
                parent = s.parents[0]
                writer.writerow(
                    [s.number, s.surname, s.tussenvoegsel, s.first, self.plant.birth(s), self.plant.pgn(s),
                     self.plant.address(s), self.plant.parent(parent), self.plant.phone(parent),
                     self.plant.email(parent), groep]
                )
            self._cohort_docs[key] = b"\xef\xbb\xbf" + buf.getvalue().encode("utf-8")
        return self._cohort_docs[key]

    def las_zip(self, groep: int, school_year: int, students: list[Student]) -> bytes:
        key = ("laszip", groep, school_year)
        if key not in self._cohort_docs:
            self._cohort_docs[key] = make_zip(
                [(f"export/leerlingen_groep{groep}.csv", self.las_csv(groep, school_year, students))]
            )
        return self._cohort_docs[key]

    # --- student documents -------------------------------------------------------------------

    def handelingsplan_docx(self, student: Student, groep: int, school_year: int, teacher: Staff) -> bytes:
        def build() -> bytes:
            issue, _ = zorg_issue(self.seed, student)
            rng = self._rng("hp", student.number)
            values = {
                "TITEL": "Individueel handelingsplan",
                "NAAM": self.plant.name(student),
                "GEBOORTEDATUM": self.plant.birth(student),
                "NUMMER": "",
                "GROEP": f"Groep {groep} ({school_year_label(school_year)})",
                "LEERKRACHT": teacher.name,
                "ADRES": "",
                "OUDERS": "",
                "PROBLEEM": f"Beginsituatie: {student.first} heeft {issue}.",
                "DOEL1": f"Doel 1: {student.first} {rng.choice(_DOELEN)} voor de volgende toetsperiode.",
                "DOEL2": f"Doel 2: {student.first} {rng.choice(_DOELEN)}.",
                "AANPAK": "Aanpak: " + rng.choice(_AANPAK),
                "EVALUATIE": f"Evaluatie in het zorgoverleg met de IB'er ({COLLEAGUES[0].name}) na zes weken.",
            }
            return self._fill_docx("plan", values)

        return self._student_docs.get_or(("hp", student.number, groep, school_year), build)

    def opp_docx(self, student: Student, groep: int, school_year: int, teacher: Staff) -> bytes:
        def build() -> bytes:
            issue, _ = zorg_issue(self.seed, student)
            rng = self._rng("opp", student.number)
            parent = student.parents[0]
            values = {
                "TITEL": "Ontwikkelingsperspectiefplan (OPP)",
                "NAAM": self.plant.name(student),
                "GEBOORTEDATUM": self.plant.birth(student),
                "NUMMER": f"BSN: {self.plant.pgn(student, rng.randrange(3))}",
                "GROEP": f"Groep {groep} ({school_year_label(school_year)})",
                "LEERKRACHT": teacher.name,
                "ADRES": f"Adres: {self.plant.address(student)}",
                "OUDERS": f"Ouder/verzorger: {self.plant.parent(parent)} ({parent.role}), "
                f"tel. {self.plant.phone(parent, 1)}, {self.plant.email(parent)}",
                "PROBLEEM": f"Belemmerende factoren: {issue}.",
                "DOEL1": f"Verwacht uitstroomprofiel: {rng.choice(_UITSTROOM)}.",
                "DOEL2": "Bevorderende factoren: " + rng.choice(_BEVORDEREND),
                "AANPAK": "Ondersteuning: " + rng.choice(_AANPAK),
                "EVALUATIE": "Besproken met ouders en ondertekend voor akkoord. Volgende evaluatie over een half jaar.",
            }
            return self._fill_docx("plan", values)

        return self._student_docs.get_or(("opp", student.number, groep, school_year), build)

    def rapport_pdf(self, student: Student, groep: int, school_year: int, teacher: Staff) -> bytes:
        """Onderwijskundig rapport (OKR) for a move to another school: the full student file."""

        def build() -> bytes:
            rng = self._rng("okr", student.number)
            issue, _ = zorg_issue(self.seed, student)
            parent = student.parents[0]
            lines = [
                ("Onderwijskundig rapport", True),
                (f"{SCHOOL_NAME} - schooljaar {school_year_label(school_year)}", False),
                ("", False),
                ("Gegevens leerling", True),
                (f"Naam: {self.plant.name(student)}", False),
                (f"Geboren op {self.plant.birth(student)}", False),
                (f"BSN: {self.plant.pgn(student)}", False),
                (f"Adres: {self.plant.address(student)}", False),
                (f"Ouder/verzorger: {self.plant.parent(parent)}, telefoon {self.plant.phone(parent, 2)}", False),
                (f"Groep: {groep}, leerkracht {teacher.name}", False),
                ("", False),
                ("Leerresultaten (LVS)", True),
                *[(f"{vak}: {rng.choice(('I', 'II', 'III', 'IV', 'V'))}", False)
                  for vak in ("Rekenen-Wiskunde", "Spelling", "Begrijpend lezen", "Technisch lezen")],
                ("", False),
                ("Ondersteuning", True),
                (f"{student.first} heeft {issue}.", False),
                ("Sociaal-emotioneel: " + rng.choice(_SOC_EMO), False),
                ("Verzuim dit schooljaar: " + f"{rng.randrange(0, 14)} dagen ziek, {rng.randrange(0, 4)} keer te laat.", False),
            ]
            return self._pdf(lines)

        return self._student_docs.get_or(("okr", student.number, groep, school_year), build)

    def verslag_pdf(self, student: Student) -> bytes:
        """A health-related report forwarded by parents (logopedie, fysiotherapie)."""

        def build() -> bytes:
            rng = self._rng("verslag", student.number)
            kind, finding = rng.choice(_VERSLAGEN)
            return self._pdf(
                [
                    (f"Verslag {kind}", True),
                    (f"Betreft: {self.plant.name(student)}, geboren {self.plant.birth(student)}", False),
                    ("", False),
                    (finding, False),
                    ("Advies: behandeling voortzetten, 1x per week. Evaluatie over drie maanden.", False),
                ]
            )

        return self._student_docs.get_or(("verslag", student.number), build)

    # --- hard negatives ----------------------------------------------------------------------

    def factuur_pdf(self, variant: int, quote: bool = False) -> tuple[bytes, str, str, str]:
        """An invoice (or quote): returns (pdf, factuurnummer, klantnummer, supplier name).

        Both numbers pass the 11-proef on purpose: the classic BSN false positive.
        """
        key = ("factuur", variant, quote)
        if key not in self._variants:
            rng = self._rng("factuur", variant, quote)
            supplier, _ = SUPPLIERS[variant % len(SUPPLIERS)]
            nummer = self.plant.decoy(make_eleven_proof_number(rng))
            klant = self.plant.decoy(make_eleven_proof_number(rng))
            label = "Offerte" if quote else "Factuur"
            items = rng.sample(_ARTIKELEN, 3)
            lines = [
                (f"{label} {supplier}", True),
                (f"{label}nummer: {nummer}", False),
                (f"Klantnummer: {klant}", False),
                (f"Aan: {SCHOOL_NAME}, t.a.v. de administratie", False),
                ("", False),
            ]
            total = 0.0
            for name, price in items:
                qty = rng.randrange(1, 30)
                total += qty * price
                lines.append((f"{qty} x {name} a EUR {price:.2f} = EUR {qty * price:.2f}", False))
            lines += [
                ("", False),
                (f"Totaal excl. btw: EUR {total:.2f}; btw 21%: EUR {total * 0.21:.2f}", False),
                (f"Graag betalen binnen 30 dagen onder vermelding van {label.lower()}nummer {nummer}.", False),
            ]
            self._variants[key] = (self._pdf(lines), nummer, klant, supplier)
        return self._variants[key]

    def rooster_xlsx(self, variant: int) -> bytes:
        key = ("rooster", variant)
        if key not in self._variants:
            import openpyxl

            rng = self._rng("rooster", variant)
            wb = openpyxl.Workbook()
            ws = wb.worksheets[0]  # a new workbook's one (and active) sheet
            ws.title = "Gymrooster"
            ws.append(["Dag", "Tijd", "Groep", "Zaal", "Leerkracht"])
            for day in ("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag"):
                for slot in rng.sample(("08:45", "09:30", "10:30", "11:15", "13:15", "14:00"), 3):
                    ws.append([day, slot, f"Groep {rng.randrange(1, 9)}", rng.choice(("Zaal A", "Zaal B")),
                               rng.choice(COLLEAGUES[3:]).name])
            self._variants[key] = (self._save_xlsx(wb),)
        return self._variants[key][0]

    def notulen_docx(self, variant: int, when: date) -> bytes:
        key = ("notulen", variant)
        if key not in self._variants:
            rng = self._rng("notulen", variant)
            present = ", ".join(c.name for c in COLLEAGUES)
            values = {
                "TITEL": "Notulen teamvergadering",
                "NAAM": f"Aanwezig: {present}",
                "GEBOORTEDATUM": f"Datum: {when.strftime('%d-%m-%Y')}",
                "NUMMER": f"Notulist: {rng.choice(COLLEAGUES).name}",
                "GROEP": "1. Opening en mededelingen",
                "LEERKRACHT": "2. " + rng.choice(_VERGADERPUNTEN),
                "ADRES": "3. " + rng.choice(_VERGADERPUNTEN),
                "OUDERS": "4. Jaarplanning: studiedag en ouderavonden vastgesteld.",
                "PROBLEEM": "Actiepunten: " + rng.choice(_ACTIEPUNTEN),
                "DOEL1": f"{COLLEAGUES[1].name} stuurt de nieuwe schoolgids rond.",
                "DOEL2": f"{COLLEAGUES[3].name} regelt het vervoer voor het schoolreisje.",
                "AANPAK": "Rondvraag: geen bijzonderheden.",
                "EVALUATIE": "Volgende vergadering over vier weken.",
            }
            self._variants[key] = (self._fill_docx("plan", values),)
        return self._variants[key][0]

    def nieuwsbrief_html(self, variant: int, when: date) -> str:
        rng = self._rng("nieuws", variant)
        items = rng.sample(_NIEUWS, 3)
        body = "".join(f"<h2>{escape(t)}</h2><p>{escape(p)}</p>" for t, p in items)
        return (
            "<!DOCTYPE html><html lang=\"nl\"><head><meta charset=\"utf-8\">"
            f"<title>Nieuwsbrief {when.strftime('%B %Y')}</title></head><body>"
            f"<h1>Nieuwsbrief {escape(SCHOOL_NAME)}</h1><p>{when.strftime('%d-%m-%Y')}</p>{body}"
            f"<p>Met vriendelijke groet,<br>{escape(COLLEAGUES[1].name)}, directeur</p></body></html>"
        )

    def nieuwsbrief_pdf(self, variant: int) -> bytes:
        key = ("nieuwspdf", variant)
        if key not in self._variants:
            rng = self._rng("nieuwspdf", variant)
            lines: list[tuple[str, bool]] = [(f"Nieuwsbrief {SCHOOL_NAME}", True)]
            for title, text in rng.sample(_NIEUWS, 3):
                lines += [(title, True), (text, False)]
            self._variants[key] = (self._pdf(lines),)
        return self._variants[key][0]

    # --- helpers -----------------------------------------------------------------------------

    def _save_xlsx(self, wb) -> bytes:
        wb.properties.creator = SCHOOL_NAME
        wb.properties.created = FIXED_DT
        wb.properties.modified = FIXED_DT
        buf = io.BytesIO()
        wb.save(buf)
        return normalize_zip(buf.getvalue())

    def _template(self, name: str) -> bytes:
        """A DOCX with one placeholder per paragraph or table cell, built once."""
        if name not in self._templates:
            import docx

            doc = docx.Document()
            doc.core_properties.author = SCHOOL_NAME
            doc.core_properties.created = FIXED_DT
            doc.core_properties.modified = FIXED_DT
            doc.add_heading("{{TITEL}}", level=1)
            table = doc.add_table(rows=4, cols=2)
            for row, (label, ph) in enumerate(
                (("Leerling", "{{NAAM}}"), ("Geboortedatum", "{{GEBOORTEDATUM}}"),
                 ("Groep", "{{GROEP}}"), ("Leerkracht", "{{LEERKRACHT}}"))
            ):
                table.cell(row, 0).text = label
                table.cell(row, 1).text = ph
            for ph in ("NUMMER", "ADRES", "OUDERS"):
                doc.add_paragraph("{{" + ph + "}}")
            doc.add_heading("Analyse en doelen", level=2)
            for ph in ("PROBLEEM", "DOEL1", "DOEL2", "AANPAK", "EVALUATIE"):
                doc.add_paragraph("{{" + ph + "}}")
            buf = io.BytesIO()
            doc.save(buf)
            self._templates[name] = buf.getvalue()
        return self._templates[name]

    def _fill_docx(self, template: str, values: dict[str, str]) -> bytes:
        """Fill a template without recompressing it.

        The 800 kB of styles in python-docx's default template dominate the cost of a rewrite,
        so the template is normalised once without ``word/document.xml``; each fill appends
        only the filled document part (zipfile append mode copies nothing else).
        """
        if template + ":base" not in self._templates:
            raw = self._template(template)
            document = zipfile.ZipFile(io.BytesIO(raw)).read("word/document.xml")
            base = normalize_zip(raw, drop={"word/document.xml"})
            self._templates[template + ":base"] = base
            self._templates[template + ":doc"] = document
        xml = self._templates[template + ":doc"]
        for key, value in values.items():
            xml = xml.replace(("{{" + key + "}}").encode(), escape(value).encode("utf-8"))
        buf = io.BytesIO(self._templates[template + ":base"])
        with zipfile.ZipFile(buf, "a", zipfile.ZIP_DEFLATED) as out:
            info = zipfile.ZipInfo("word/document.xml", date_time=FIXED_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            out.writestr(info, xml)
        return buf.getvalue()

    def _pdf(self, lines: list[tuple[str, bool]]) -> bytes:
        from fpdf import FPDF

        pdf = FPDF()
        pdf.set_creation_date(FIXED_DT.replace(tzinfo=UTC))  # naive would use the local zone
        pdf.set_author(SCHOOL_NAME)
        pdf.add_page()
        for text, bold in lines:
            pdf.set_font("Helvetica", "B" if bold else "", 13 if bold else 11)
            if not text:
                pdf.ln(4)
                continue
            # Wrapping ourselves and writing plain cells is several times faster than
            # multi_cell's per-character line breaking (about 90 characters fit at 11 pt).
            for line in textwrap.wrap(_latin1(text), 80 if bold else 95):
                pdf.cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
        return bytes(pdf.output())


_DOELEN = (
    "leest een AVI-niveau hoger",
    "beheerst de tafels van 1 tot en met 10",
    "vraagt zelf om hulp als het niet lukt",
    "maakt de spellingcategorieen van blok 3 foutloos",
    "werkt 20 minuten zelfstandig aan een taak",
    "neemt actief deel aan het kringgesprek",
)
_AANPAK = (
    "dagelijks 15 minuten extra leesinstructie in de verlengde instructiegroep.",
    "inzet van de onderwijsassistent, twee keer per week pre-teaching rekenen.",
    "time-timer en een vaste werkplek; dagelijks kort evaluatiegesprek.",
    "compacten en verrijken; deelname aan de plusklas op vrijdag.",
    "wekelijkse gesprekken met de schoolmaatschappelijk werker.",
)
_UITSTROOM = ("vmbo basis/kader", "vmbo-tl", "havo", "praktijkonderwijs", "vso")
_BEVORDEREND = (
    "betrokken ouders, goede motivatie en sterke sociale vaardigheden.",
    "doorzettingsvermogen en creatief in het bedenken van oplossingen.",
    "werkt graag samen en reageert goed op complimenten.",
)
_SOC_EMO = (
    "voelt zich veilig in de groep, heeft een paar goede vriendjes.",
    "trekt zich soms terug, heeft moeite met contact maken.",
    "reageert snel boos bij tegenslag, werkt aan zelfregulatie.",
)
_VERSLAGEN = (
    ("logopedie", "Uit het onderzoek blijkt een achterstand in de mondelinge taalontwikkeling en een lichte stotter."),
    ("fysiotherapie", "Motorische achterstand: grove motoriek onder leeftijdsniveau, moeite met evenwicht."),
    ("jeugdarts GGD", "Bij het periodiek gezondheidsonderzoek zijn gehoorproblemen vastgesteld; verwezen naar KNO-arts."),
    ("kinderpsycholoog", "De observaties passen bij een angststoornis; start behandeling met cognitieve gedragstherapie."),
)
_ARTIKELEN = (
    ("Rekenschrift groep 5", 4.95), ("Werkboek taal blok 2", 7.50), ("Whiteboardstiften (doos)", 12.40),
    ("Kopieerpapier A4 (doos 5 pakken)", 24.99), ("Licentie digibord-software", 149.00),
    ("Gymmatten", 89.00), ("Leesboeken AVI M5 (set)", 64.50), ("Onderhoudscontract printer", 210.00),
)
_VERGADERPUNTEN = (
    "Evaluatie van de nieuwe rekenmethode: positief, wel meer oefenstof nodig.",
    "Voorbereiding ouderavond: iedere leerkracht maakt een planning voor de tien-minutengesprekken.",
    "ICT: de nieuwe laptops worden in de herfstvakantie geleverd.",
    "Werkdrukmiddelen: extra onderwijsassistent voor de middenbouw.",
    "Schoolplan: de visie op burgerschap wordt in de volgende studiedag uitgewerkt.",
)
_ACTIEPUNTEN = (
    "iedereen vult voor vrijdag de jaarplanning in de gedeelde map in.",
    "de bouwcoordinatoren plannen een bouwvergadering.",
    "de privacyverklaring wordt op de website gezet.",
)
_NIEUWS = (
    ("Studiedag", "Op vrijdag zijn alle leerlingen vrij in verband met een studiedag van het team."),
    ("Schoolreis", "De groepen 3 tot en met 6 gaan in juni op schoolreis naar een speelpark. Meer informatie volgt."),
    ("Ouderavond", "In de week na de herfstvakantie zijn de tien-minutengesprekken. U kunt zich inschrijven via de ouderapp."),
    ("Sportdag", "De jaarlijkse sportdag wordt gehouden op het sportpark. Wie wil helpen als begeleider?"),
    ("Luizencontrole", "Na iedere vakantie is er luizencontrole. Wilt u op die dag geen ingewikkelde vlechten maken?"),
    ("Nieuwe speeltoestellen", "Dankzij de ouderbijdrage staan er nieuwe speeltoestellen op het schoolplein."),
    ("Kerstviering", "Op donderdagavond vieren we kerst met een buffet in de klassen."),
    ("Verkeersexamen", "Groep 7 doet in april het theoretisch verkeersexamen."),
)
