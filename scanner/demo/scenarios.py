"""The kinds of mail a Dutch primary-school teacher receives and sends, as small generators.

Each scenario turns a :class:`MailContext` (who owns the mailbox, which group, which date, a
random stream) into a :class:`MailSpec`: headers, a Dutch body, attachments and the ground
truth (does it hold student data, which categories). Student-data scenarios write values only
through :class:`~scanner.demo.planted.Planter`, so every planted value is recorded; hard
negatives (invoices with numbers passing the 11-proef, newsletters, timetables, staff notes)
mention no student, parent or student number at all.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Literal

from scanner.core.dates import MONTHS, SCHOOL_ZONE
from scanner.demo.docs import DocFactory, school_year_label, zorg_issue
from scanner.demo.people import (
    COLLEAGUES,
    SCHOOL_DOMAIN,
    SCHOOL_NAME,
    SUPPLIERS,
    Parent,
    Staff,
    Student,
    make_eleven_proof_number,
    make_iban,
)
from scanner.demo.planted import Planter

Address = tuple[str, str]  # (display name, e-mail address)
AMSTERDAM = SCHOOL_ZONE


def aware(when: datetime) -> datetime:
    """School mail lives in Dutch local time; never depend on the machine's time zone."""
    return when.replace(tzinfo=AMSTERDAM)

IB, DIRECTIE, ADMIN, GYM, ONDERWIJSASSISTENT = COLLEAGUES
FEMALE_STAFF = {"Marieke", "Sanne", "Ayla", "Joyce", "Evelien", "Ingrid", "Carla", "Yvonne"}
DAGEN = ("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag")
MAANDEN = MONTHS["nl"]


@dataclass
class Attachment:
    filename: str
    data: bytes | str | EmailMessage
    maintype: str = "application"
    subtype: str = "octet-stream"


XLSX = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")
DOCX = ("application", "vnd.openxmlformats-officedocument.wordprocessingml.document")
PDF = ("application", "pdf")
ZIP = ("application", "zip")
CSV = ("text", "csv")


@dataclass
class MailSpec:
    subject: str
    sender: Address
    to: list[Address]
    body: str
    student_data: bool
    categories: set[str] = field(default_factory=set)
    attachments: list[Attachment] = field(default_factory=list)
    cc: list[Address] = field(default_factory=list)
    outgoing: bool = False
    html: bool = False
    html_only: bool = False


@dataclass
class MailContext:
    rng: random.Random
    seed: int
    owner: Staff
    groep: int
    school_year: int
    when: datetime
    students: list[Student]
    docs: DocFactory
    plant: Planter
    attach: bool

    # --- small helpers used by the scenarios --------------------------------------------------
    def student(self) -> Student:
        return self.rng.choice(self.students)

    def parent(self, student: Student) -> Parent:
        return self.rng.choice(student.parents)

    @property
    def me(self) -> Address:
        return (self.owner.name, self.owner.email)

    def title(self) -> str:
        return ("juf " if self.owner.first in FEMALE_STAFF else "meester ") + self.owner.first

    def aanhef(self) -> str:
        return self.rng.choice(
            (f"Beste {self.title()},", f"Hoi {self.title()},", f"Goedemorgen {self.title()},",
             f"Beste {self.owner.first},", f"Geachte {'mevrouw' if self.owner.first in FEMALE_STAFF else 'meneer'} {self.owner.last},")
        )

    def groet(self) -> str:
        return self.rng.choice(("Met vriendelijke groet,", "Groetjes,", "Vriendelijke groet,", "Groet,", "Alvast bedankt!"))

    def day(self, offset: int = 0) -> str:
        d = self.when + timedelta(days=offset)
        return f"{DAGEN[d.weekday()]} {d.day} {MAANDEN[d.month - 1]}"

    def zijn(self, s: Student) -> str:
        return "hij" if s.boy else "zij"

    def zn(self, s: Student) -> str:
        return "zoon" if s.boy else "dochter"

    def signature_parent(self, p: Parent) -> str:
        lines = [self.plant.parent(p)]
        if self.rng.random() < 0.6:
            lines.append(f"Tel. {self.plant.phone(p, self.rng.randrange(4))}")
        return "\n".join(lines)

    def signature_staff(self, s: Staff) -> str:
        return f"{s.name}\n{s.role.capitalize()}\n{SCHOOL_NAME}"

    def parent_addr(self, p: Parent) -> Address:
        return (self.plant.parent(p), self.plant.email(p))


def _addr(s: Staff) -> Address:
    return (s.name, s.email)


# --- scenarios with student data -------------------------------------------------------------

_ZIEKTES = (
    ("koorts en buikpijn", False), ("waterpokken", False), ("een flinke griep", False),
    ("een oorontsteking, de huisarts heeft antibiotica voorgeschreven", True),
    ("migraine", True), ("vannacht een astma-aanval gehad", True), ("krentenbaard", False),
    ("overgegeven, waarschijnlijk een buikgriep", False), ("hoge koorts, we gaan vanmiddag naar de huisarts", False),
)
_ZIEK_EXTRA = (
    "{Hij} neemt vanaf morgen weer gewoon {zijn} medicijnen mee, de pufjes liggen in {zijn} tas.",
    "Wilt u bij de traktatie van vrijdag rekening houden met {zijn} notenallergie?",
    "{Hij} heeft vanochtend {zijn} Ritalin niet ingenomen, dus morgen kan {hij} wat drukker zijn.",
    "Kunt u het huiswerk meegeven aan {vriend}?",
    "",
    "",
)


def ziekmelding(ctx: MailContext) -> MailSpec:
    s, rng = ctx.student(), ctx.rng
    p = ctx.parent(s)
    ziekte, _ = rng.choice(_ZIEKTES)
    extra = rng.choice(_ZIEK_EXTRA)
    pron = {"Hij": "Hij" if s.boy else "Zij", "hij": ctx.zijn(s), "zijn": "zijn" if s.boy else "haar"}
    if "{vriend}" in extra:
        pron["vriend"] = ctx.plant.name(ctx.student())
    extra = extra.format(**pron)
    name = ctx.plant.name(s) if rng.random() < 0.5 else s.first
    body = (
        f"{ctx.aanhef()}\n\n{name} is vannacht ziek geworden: {ziekte}. "
        f"{pron['Hij']} blijft vandaag ({ctx.day()}) thuis. {extra}\n\n{ctx.groet()}\n{ctx.signature_parent(p)}"
    )
    kind = rng.randrange(4)
    subject = (f"Ziekmelding {s.first}", f"{s.first} ziek", "", "ziek")[kind] or f"Afmelding {ctx.plant.name(s)}"
    return MailSpec(subject, ctx.parent_addr(p), [ctx.me], body, True, {"gezondheid", "verzuim"},
                    html=rng.random() < 0.4)


def verzuim(ctx: MailContext) -> MailSpec:
    s, rng = ctx.student(), ctx.rng
    n = rng.randrange(3, 12)
    dagen = ", ".join(ctx.day(-rng.randrange(3, 60)) for _ in range(3))
    body = (
        f"Beste {ctx.owner.first},\n\nIn de verzuimregistratie zie ik dat {ctx.plant.name(s)} "
        f"(leerlingnummer {s.number}, groep {ctx.groep}) de afgelopen weken {n} keer ongeoorloofd afwezig "
        f"of te laat was, onder andere op {dagen}.\n"
        "Volgens het verzuimprotocol moeten we dit bij 16 uur ongeoorloofd verzuim binnen vier weken "
        "melden bij de leerplichtambtenaar via het verzuimregister van DUO. Wil jij eerst contact opnemen "
        f"met de ouders? Het telefoonnummer van {s.parents[0].role} is {ctx.plant.phone(s.parents[0], 1)}.\n\n"
        f"{ctx.groet()}\n{ctx.signature_staff(ADMIN)}"
    )
    subject = rng.choice((f"Verzuim {s.first} {s.last}", "Verzuimmelding groep " + str(ctx.groep), "Melding leerplicht"))
    return MailSpec(subject, _addr(ADMIN), [ctx.me], body, True, {"verzuim", "contactgegevens"})


def zorgoverleg(ctx: MailContext) -> MailSpec:
    rng = ctx.rng
    chosen = rng.sample(ctx.students, min(len(ctx.students), rng.randrange(2, 5)))
    lines, cats = [], {"zorg"}
    for s in chosen:
        issue, medical = zorg_issue(ctx.seed, s)
        if medical:
            cats.add("gezondheid")
        lines.append(f"- {ctx.plant.name(s)}: {issue}")
    body = (
        f"Hoi {ctx.owner.first},\n\nHierbij de agenda voor het zorgoverleg van groep {ctx.groep} op {ctx.day(7)}. "
        "Wil je de groepsoverzichten en handelingsplannen bijwerken?\n\n" + "\n".join(lines) +
        "\n\nDe schoolmaatschappelijk werker en de jeugdverpleegkundige van de GGD sluiten aan bij het tweede deel.\n\n"
        f"Groetjes,\n{ctx.signature_staff(IB)}"
    )
    spec = MailSpec(rng.choice((f"Zorgoverleg groep {ctx.groep}", "Agenda zorgoverleg", "Leerlingbespreking")),
                    _addr(IB), [ctx.me], body, True, cats, html=rng.random() < 0.5)
    if ctx.attach:
        s = chosen[0]
        spec.attachments.append(Attachment(f"Handelingsplan {s.first} {s.last}.docx",
                                           ctx.docs.handelingsplan_docx(s, ctx.groep, ctx.school_year, ctx.owner), *DOCX))
    return spec


def opp(ctx: MailContext) -> MailSpec:
    s = ctx.student()
    body = (
        f"Beste {IB.first},\n\nIn de bijlage het OPP van {ctx.plant.name(s)} (geboren op {ctx.plant.birth(s)}). "
        "Ik heb het ontwikkelingsperspectief en de uitstroombestemming aangepast na het gesprek met de "
        "orthopedagoog van het samenwerkingsverband. Ouders hebben het plan gisteren ondertekend.\n\n"
        f"{ctx.groet()}\n{ctx.owner.name}\nGroep {ctx.groep}"
    )
    spec = MailSpec(f"OPP {s.first} ter ondertekening", ctx.me, [_addr(IB)], body, True,
                    {"zorg", "identificatie"}, outgoing=True)
    spec.attachments.append(Attachment(f"OPP {s.first} {s.last} {school_year_label(ctx.school_year)}.docx",
                                       ctx.docs.opp_docx(s, ctx.groep, ctx.school_year, ctx.owner), *DOCX))
    return spec


_GEZAG = (
    "Vader heeft geen ouderlijk gezag en mag {naam} niet zonder overleg van school ophalen.",
    "We hebben gezamenlijk gezag; wilt u de rapporten en uitnodigingen voor de ouderavond naar ons allebei sturen?",
    "De voogdij ligt sinds kort bij de gecertificeerde instelling (jeugdbescherming); de voogd neemt contact met u op.",
    "We hebben een co-ouderschapsregeling: {naam} is de ene week bij mij en de andere week bij {ex}.",
)


def thuissituatie(ctx: MailContext) -> MailSpec:
    s, rng = ctx.student(), ctx.rng
    p = s.parents[0]
    template = rng.choice(_GEZAG)
    ex = "de andere ouder"
    if "{ex}" in template and len(s.parents) > 1:
        ex = ctx.plant.parent(s.parents[1])
    gezag = template.format(naam=s.first, ex=ex)
    body = (
        f"{ctx.aanhef()}\n\nIk wil u laten weten dat {ctx.plant.name(s)} een moeilijke periode heeft: "
        f"wij zijn aan het scheiden. {gezag}\n"
        f"Mijn nieuwe adres is {ctx.plant.address(s)}. Ik ben bereikbaar op {ctx.plant.phone(p, 2)}.\n"
        f"Wilt u het ons laten weten als u merkt dat het niet goed gaat met {s.first} in de klas?\n\n"
        f"{ctx.groet()}\n{ctx.plant.parent(p)}"
    )
    return MailSpec(rng.choice(("Thuissituatie " + s.first, "Even ter info", "Vertrouwelijk")),
                    ctx.parent_addr(p), [ctx.me], body, True, {"thuissituatie", "contactgegevens"},
                    html=rng.random() < 0.5)


def veiligheid(ctx: MailContext) -> MailSpec:
    s = ctx.student()
    body = (
        f"{ctx.owner.first},\n\nNaar aanleiding van jouw zorgen over {ctx.plant.name(s)} (blauwe plekken op de "
        f"bovenarmen, {s.first} vertelde dat papa heel boos was) hebben we vandaag de stappen van de meldcode "
        "huiselijk geweld en kindermishandeling doorlopen. Ik heb advies gevraagd bij Veilig Thuis; zij adviseren "
        "eerst een gesprek met moeder. Ik leg alles vast in het dossier in ParnasSys.\n"
        "Dit is vertrouwelijk: deel het niet met collega's buiten het zorgteam.\n\n"
        f"{ctx.signature_staff(IB)}"
    )
    return MailSpec(f"Vertrouwelijk: {s.first}", _addr(IB), [ctx.me], body, True, {"veiligheid", "thuissituatie"})


def religie(ctx: MailContext) -> MailSpec:
    s, rng = ctx.student(), ctx.rng
    p = ctx.parent(s)
    text = rng.choice((
        f"{s.first} doet dit jaar voor het eerst mee met de ramadan en vast overdag. Wilt u daar bij de gymles rekening mee houden?",
        f"Wij vragen verlof aan voor {s.first} op {ctx.day(10)} in verband met het Suikerfeest.",
        f"Omdat wij Jehova's getuigen zijn, viert {s.first} geen verjaardagen en doet {ctx.zijn(s)} niet mee aan de kerstviering.",
        f"{s.first} gaat op zondag naar de kerk en mag van ons niet mee naar het sporttoernooi op zondag.",
    ))
    cats = {"religie"} | ({"verzuim"} if "verlof" in text else set())
    body = f"{ctx.aanhef()}\n\n{text}\n\n{ctx.groet()}\n{ctx.plant.parent(p)} ({p.role} van {ctx.plant.name(s)})"
    return MailSpec(rng.choice(("Vraag over " + s.first, "Verlofaanvraag", "Geloof")), ctx.parent_addr(p),
                    [ctx.me], body, True, cats)


def etniciteit(ctx: MailContext) -> MailSpec:
    s, rng = ctx.student(), ctx.rng
    text = rng.choice((
        f"{ctx.plant.name(s)} is vorig jaar met het gezin uit Syrië gevlucht en spreekt nog weinig Nederlands. "
        "Ik heb NT2-ondersteuning aangevraagd bij de taalklas.",
        f"Let op bij de oudergesprekken: de ouders van {ctx.plant.name(s)} hebben een Marokkaanse achtergrond en "
        "vader spreekt beter Arabisch dan Nederlands; regel een tolk.",
        f"{ctx.plant.name(s)} is van Surinaams-Hindoestaanse afkomst; de familie viert Divali en vraagt een vrije dag.",
    ))
    body = f"Hoi {ctx.owner.first},\n\n{text}\n\nGroet,\n{ctx.signature_staff(IB)}"
    return MailSpec(f"Nieuwe leerling {s.first}" if "Syri" in text else "Info oudergesprek", _addr(IB),
                    [ctx.me], body, True, {"etniciteit"})


def cijfers(ctx: MailContext) -> MailSpec:
    rng = ctx.rng
    picks = rng.sample(ctx.students, min(3, len(ctx.students)))
    lines = "\n".join(
        f"- {ctx.plant.name(s)}: rekenen {rng.choice(('I', 'II', 'III', 'IV', 'V'))}, "
        f"begrijpend lezen {rng.choice(('I', 'II', 'III', 'IV', 'V'))}, rapportcijfer taal {rng.uniform(4.5, 9.5):.1f}".replace(".", ",")
        for s in picks
    )
    moment = rng.choice(("M", "E"))
    body = (
        f"Beste {IB.first},\n\nHierbij de uitslagen van de {moment}{ctx.groep}-toetsen van het leerlingvolgsysteem. "
        f"Opvallend zijn:\n{lines}\n\nDe volledige groepsoverzichten staan in de bijlage. "
        f"Zullen we dit bespreken in de groepsbespreking?\n\n{ctx.groet()}\n{ctx.owner.name}"
    )
    spec = MailSpec(f"Toetsuitslagen {moment}{ctx.groep} groep {ctx.groep}", ctx.me, [_addr(IB)], body, True,
                    {"cijfers"}, outgoing=True, html=rng.random() < 0.3)
    if ctx.attach:
        spec.attachments.append(Attachment(f"Toetsuitslagen groep {ctx.groep}.xlsx",
                                           ctx.docs.toetsuitslagen_xlsx(ctx.groep, ctx.school_year, ctx.students), *XLSX))
    return spec


def klassenlijst(ctx: MailContext) -> MailSpec:
    rng = ctx.rng
    body = (
        f"Beste collega's,\n\nIn de bijlage de klassenlijst van groep {ctx.groep} voor schooljaar "
        f"{school_year_label(ctx.school_year)}, met geboortedata en BSN voor de aanmelding bij de "
        "schoolfotograaf en de jeugdgezondheidszorg. Niet doorsturen buiten school.\n\n"
        f"{ctx.groet()}\n{ctx.signature_staff(ADMIN)}"
    )
    spec = MailSpec(f"Klassenlijst groep {ctx.groep} {school_year_label(ctx.school_year)}", _addr(ADMIN), [ctx.me],
                    body, True, {"identificatie"})
    if rng.random() < 0.7:
        spec.attachments.append(Attachment(f"Klassenlijst groep {ctx.groep}.xlsx",
                                           ctx.docs.klassenlijst_xlsx(ctx.groep, ctx.school_year, ctx.students), *XLSX))
    else:
        spec.categories.add("contactgegevens")
        spec.attachments.append(Attachment(f"leerlingen_groep{ctx.groep}.csv",
                                           ctx.docs.las_csv(ctx.groep, ctx.school_year, ctx.students), *CSV))
    return spec


def las_export(ctx: MailContext) -> MailSpec:
    body = (
        f"Hoi {ctx.owner.first},\n\nZoals gevraagd de export uit het leerlingadministratiesysteem voor het "
        f"nieuwe leerplatform (gezipt). Kun je controleren of de adressen kloppen?\n\n{ctx.signature_staff(ADMIN)}"
    )
    spec = MailSpec("Export leerlinggegevens", _addr(ADMIN), [ctx.me], body, True, {"identificatie", "contactgegevens"})
    spec.attachments.append(Attachment(f"export-groep{ctx.groep}.zip",
                                       ctx.docs.las_zip(ctx.groep, ctx.school_year, ctx.students), *ZIP))
    return spec


def adreswijziging(ctx: MailContext) -> MailSpec:
    s, rng = ctx.student(), ctx.rng
    p = ctx.parent(s)
    body = (
        f"{ctx.aanhef()}\n\nWij zijn verhuisd. Het nieuwe adres van {ctx.plant.name(s)} is:\n{ctx.plant.address(s)}\n\n"
        f"Mijn mobiele nummer is {ctx.plant.phone(p, rng.randrange(4))} en mijn e-mailadres {ctx.plant.email(p)}.\n"
        f"Wilt u dit doorgeven aan de administratie?\n\n{ctx.groet()}\n{ctx.plant.parent(p)}"
    )
    return MailSpec(rng.choice(("Adreswijziging", "Nieuw adres", f"Verhuizing {s.first}")), ctx.parent_addr(p),
                    [ctx.me], body, True, {"contactgegevens"}, html=rng.random() < 0.5, html_only=rng.random() < 0.2)


def aanmelding(ctx: MailContext) -> MailSpec:
    s, rng = ctx.student(), ctx.rng
    p = s.parents[0]
    body = (
        f"Beste {ctx.owner.first},\n\nPer {ctx.day(14)} komt er een nieuwe leerling in jouw groep:\n\n"
        f"Naam: {ctx.plant.name(s)}\nGeboren op {ctx.plant.birth(s)}\n"
        f"BSN: {ctx.plant.pgn(s, rng.randrange(4))}\nAdres: {ctx.plant.address(s)}\n"
        f"Ouder: {ctx.plant.parent(p)}, {ctx.plant.phone(p, 1)}, {ctx.plant.email(p)}\n\n"
        "Het onderwijskundig rapport van de vorige school volgt nog.\n\n"
        f"{ctx.groet()}\n{ctx.signature_staff(ADMIN)}"
    )
    return MailSpec(f"Nieuwe leerling groep {ctx.groep}", _addr(ADMIN), [ctx.me], body, True,
                    {"identificatie", "contactgegevens"})


def onderwijskundig_rapport(ctx: MailContext) -> MailSpec:
    s = ctx.student()
    body = (
        f"Geachte collega,\n\nIn de bijlage het onderwijskundig rapport van {ctx.plant.name(s)}, die per volgende "
        "maand naar uw school overstapt. Ouders hebben het rapport ingezien. Voor vragen ben ik bereikbaar "
        f"op school.\n\n{ctx.groet()}\n{ctx.owner.name}\n{SCHOOL_NAME}"
    )
    spec = MailSpec(f"Onderwijskundig rapport {s.first} {s.last}", ctx.me,
                    [("Administratie", "leerlingzaken@example.org")], body, True,
                    {"zorg", "identificatie", "cijfers", "contactgegevens"}, outgoing=True)
    spec.attachments.append(Attachment(f"OKR {s.first} {s.last}.pdf",
                                       ctx.docs.rapport_pdf(s, ctx.groep, ctx.school_year, ctx.owner), *PDF))
    return spec


def doorgestuurd_verslag(ctx: MailContext) -> MailSpec:
    """A forwarded parent mail (message/rfc822) that itself carries a PDF: nested attachments."""
    s, rng = ctx.student(), ctx.rng
    p = ctx.parent(s)
    inner = EmailMessage()
    inner["From"] = f"{ctx.plant.parent(p)} <{ctx.plant.email(p)}>"
    inner["To"] = f"{IB.name} <{IB.email}>"
    inner["Subject"] = f"Verslag {s.first}"
    inner["Date"] = format_datetime(aware(ctx.when - timedelta(days=2)))
    inner["Message-ID"] = f"<fw.{ctx.seed}.{s.number}.{int(aware(ctx.when).timestamp())}@{p.email.split('@')[1]}>"
    inner.set_content(
        f"Beste mevrouw {IB.last},\n\nHierbij het verslag over {ctx.plant.name(s)}. "
        f"Kunnen we dit bespreken?\n\n{ctx.signature_parent(p)}\n"
    )
    inner.add_attachment(ctx.docs.verslag_pdf(s), *PDF, filename=f"verslag {s.first}.pdf")
    body = (
        f"Hoi {ctx.owner.first},\n\nTer info, zie het doorgestuurde bericht van de ouders van {s.first} "
        f"hieronder, met het verslag. Graag bespreken in het zorgoverleg.\n\n{ctx.signature_staff(IB)}"
    )
    spec = MailSpec(f"FW: Verslag {s.first}", _addr(IB), [ctx.me], body, True, {"zorg", "gezondheid"},
                    html=rng.random() < 0.5)
    spec.attachments.append(Attachment(f"Verslag {s.first}.eml", inner, "message", "rfc822"))
    return spec


def oudergesprek(ctx: MailContext) -> MailSpec:
    s, rng = ctx.student(), ctx.rng
    p = ctx.parent(s)
    body = (
        f"Beste {ctx.plant.parent(p)},\n\nDank voor het fijne gesprek van {ctx.day(-2)}. Kort samengevat: "
        f"{s.first} {rng.choice(('gaat vooruit met lezen maar heeft moeite met de tafels', 'voelt zich niet prettig in de groep en wordt soms buitengesloten', 'is erg moe in de klas; u gaf aan dat er thuis veel speelt', 'werkt hard, het rapportcijfer voor rekenen is een 5,5'))}. "
        "We spreken af dat we over zes weken opnieuw evalueren.\n\n"
        f"{ctx.groet()}\n{ctx.owner.name}, leerkracht groep {ctx.groep}"
    )
    return MailSpec(f"Verslag gesprek over {s.first}", ctx.me, [ctx.parent_addr(p)], body, True,
                    {"zorg", "cijfers"}, outgoing=True, html=rng.random() < 0.6)


def ouderbijdrage(ctx: MailContext) -> MailSpec:
    s = ctx.student()
    p = ctx.parent(s)
    body = (
        f"{ctx.aanhef()}\n\nDe ouderbijdrage en het schoolreisje voor {ctx.plant.name(s)} zijn vandaag overgemaakt "
        f"vanaf rekening {ctx.plant.iban(p)} t.n.v. {ctx.plant.parent(p)}. Zou u dit kunnen doorgeven?\n\n{ctx.groet()}\n"
        f"{p.first}"
    )
    return MailSpec("Ouderbijdrage", ctx.parent_addr(p), [ctx.me], body, True, {"contactgegevens"})


# --- hard negatives (no student data at all) --------------------------------------------------


def factuur(ctx: MailContext) -> MailSpec:
    rng = ctx.rng
    variant = rng.randrange(8)
    quote = rng.random() < 0.3
    pdf, nummer, klant, supplier = ctx.docs.factuur_pdf(variant, quote)
    sender = next(addr for name, addr in SUPPLIERS if name == supplier)
    label = "offerte" if quote else "factuur"
    iban_supplier = make_iban(random.Random(f"supplier:{supplier}"))  # a business account, not sensitive
    body = (
        f"Geachte heer/mevrouw,\n\nIn de bijlage ontvangt u {label} {nummer} voor klantnummer {klant}. "
        + ("Deze offerte is 30 dagen geldig." if quote else
           f"Wij verzoeken u het bedrag binnen 30 dagen over te maken op {iban_supplier} onder vermelding van het factuurnummer.")
        + f"\n\nMet vriendelijke groet,\n{supplier}\nAfdeling debiteuren\nKvK 12345678"
    )
    spec = MailSpec(f"{label.capitalize()} {nummer}", (supplier, sender), [ctx.me], body, False, set())
    if ctx.attach:
        spec.attachments.append(Attachment(f"{label}_{nummer}.pdf", pdf, *PDF))
    return spec


def nieuwsbrief(ctx: MailContext) -> MailSpec:
    variant = ctx.rng.randrange(12)
    html = ctx.docs.nieuwsbrief_html(variant, ctx.when.date())
    spec = MailSpec(f"Nieuwsbrief {MAANDEN[ctx.when.month - 1]} {ctx.when.year}", _addr(DIRECTIE),
                    [("Team", f"team@{SCHOOL_DOMAIN}"), ctx.me], html, False, set(), html=True, html_only=True)
    if ctx.attach:
        spec.attachments.append(Attachment("nieuwsbrief.pdf", ctx.docs.nieuwsbrief_pdf(variant % 4), *PDF))
    return spec


def rooster(ctx: MailContext) -> MailSpec:
    body = (
        f"Hallo allemaal,\n\nVanaf {ctx.day(7)} geldt het nieuwe gymrooster, zie bijlage. Groep {ctx.groep} "
        "gymt voortaan op dinsdag en donderdag. Denken jullie aan de gymschoenen?\n\n"
        f"Sportieve groet,\n{ctx.signature_staff(GYM)}"
    )
    spec = MailSpec("Nieuw gymrooster", _addr(GYM), [("Team", f"team@{SCHOOL_DOMAIN}"), ctx.me], body, False, set())
    if ctx.attach:
        spec.attachments.append(Attachment("gymrooster.xlsx", ctx.docs.rooster_xlsx(ctx.rng.randrange(3)), *XLSX))
    return spec


def notulen(ctx: MailContext) -> MailSpec:
    body = (
        f"Beste collega's,\n\nHierbij de notulen van de teamvergadering. Aanwezig: "
        f"{', '.join(c.name for c in COLLEAGUES)}. {ctx.owner.name} en {GYM.name} zorgen voor de "
        "jaarplanning, de studiedag gaat over het nieuwe rekenprogramma.\n\n"
        f"Groet,\n{DIRECTIE.name}\nDirecteur {SCHOOL_NAME}"
    )
    spec = MailSpec("Notulen teamvergadering", _addr(DIRECTIE), [("Team", f"team@{SCHOOL_DOMAIN}"), ctx.me],
                    body, False, set(), html=ctx.rng.random() < 0.5)
    if ctx.attach:
        spec.attachments.append(Attachment("Notulen teamvergadering.docx",
                                           ctx.docs.notulen_docx(ctx.rng.randrange(4), ctx.when.date()), *DOCX))
    return spec


def leverancier(ctx: MailContext) -> MailSpec:
    rng = ctx.rng
    ticket = ctx.plant.decoy(make_eleven_proof_number(rng))
    name, addr = rng.choice(SUPPLIERS)
    text = rng.choice((
        "Op zaterdag vindt er onderhoud plaats aan de leeromgeving. Tussen 08:00 en 12:00 uur is het platform niet bereikbaar.",
        "Uw melding over het digibord in lokaal 4 is opgelost. De lamp is vervangen.",
        "Goed nieuws: de nieuwe versie van de methode-software staat klaar. U hoeft zelf niets te doen.",
        "Uw wachtwoord verloopt over 7 dagen. Wijzig het via het selfserviceportaal.",
    ))
    body = f"Beste klant,\n\n{text}\n\nTicketnummer: {ticket}\n\nMet vriendelijke groet,\nServicedesk {name}\n{addr}"
    return MailSpec(f"[Ticket {ticket}] Bericht van {name}", (name, addr), [ctx.me], body, False, set(),
                    html=rng.random() < 0.5)


def collega(ctx: MailContext) -> MailSpec:
    rng = ctx.rng
    c = rng.choice(COLLEAGUES[3:])
    text = rng.choice((
        "Zullen we vrijdag samen lunchen? Ik neem de soep mee.",
        "Wil jij morgen mijn pleinwacht overnemen? Ik moet naar de tandarts.",
        "De kopieermachine op de eerste verdieping is weer stuk; ik heb de leverancier gebeld.",
        "Heb jij de sleutel van de materialenkast nog?",
    ))
    return MailSpec(rng.choice(("Vraagje", "Vrijdag", "Pleinwacht", "Kopieerapparaat")), _addr(c), [ctx.me],
                    f"Hoi {ctx.owner.first},\n\n{text}\n\nGroetjes,\n{c.first}", False, set())


Scenario = Callable[[MailContext], MailSpec]
AttachMode = Literal["always", "optional", "never"]

# (scenario, weight, attachment mode); weights are relative within the corpus.
SCENARIOS: tuple[tuple[Scenario, float, AttachMode], ...] = (
    (ziekmelding, 14, "never"),
    (verzuim, 5, "never"),
    (zorgoverleg, 7, "optional"),
    (opp, 3, "always"),
    (thuissituatie, 3, "never"),
    (veiligheid, 1, "never"),
    (religie, 1, "never"),
    (etniciteit, 1, "never"),
    (cijfers, 5, "optional"),
    (klassenlijst, 4, "always"),
    (las_export, 2, "always"),
    (adreswijziging, 4, "never"),
    (aanmelding, 3, "never"),
    (onderwijskundig_rapport, 2, "always"),
    (doorgestuurd_verslag, 3, "always"),
    (oudergesprek, 5, "never"),
    (ouderbijdrage, 3, "never"),
    (factuur, 7, "optional"),
    (nieuwsbrief, 6, "optional"),
    (rooster, 3, "optional"),
    (notulen, 4, "optional"),
    (leverancier, 5, "never"),
    (collega, 6, "never"),
)

_WITH = [(fn, w) for fn, w, mode in SCENARIOS if mode != "never"]
_WITHOUT = [(fn, w) for fn, w, mode in SCENARIOS if mode != "always"]


def pick_scenario(rng: random.Random, attachments_ratio: float) -> tuple[Scenario, bool]:
    """Choose a scenario so that about ``attachments_ratio`` of all mails carry attachments."""
    attach = rng.random() < attachments_ratio
    pool = _WITH if attach else _WITHOUT
    fns = [fn for fn, _ in pool]
    return rng.choices(fns, weights=[w for _, w in pool])[0], attach
