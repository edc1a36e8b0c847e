"""Generate the labelled development corpus in ``eval/corpus`` (deterministic, seed 20261122).

Run ``python eval/generate_corpus.py`` to rewrite it. Every document is built from realistic
Dutch school-mail templates with random names, numbers and dates; while a text is assembled
each inserted value is recorded with its span, so the labels are exact. All numbers, names and
addresses are synthetic: BSNs and onderwijsnummers come from the demo's generators
(``scanner.demo.people``: BSNs in the test range 99999xxxx, which is never issued to a person),
the hard negatives' 11-proof numbers from the same module.

Pupils come from many origins (``ORIGINS``): their PERSON spans carry ``"origin"`` so the
evaluation prints PER per origin group. ``word_names`` documents use names that are also
ordinary words (Roos, Bas, Winter, Visser) as words: they must not be flagged.

Label file ``labels.json``::

    {"settings": {...corpus-level detection settings...},
     "documents": {"<id>": {"file": "<id>.txt", "kind": "...", "student_data": bool,
                            "categories": [...], "hard_negative": bool,
                            "parts": "whole" | "lines", "column_headers": [...],
                            "entities": [{"entity": ..., "start": ..., "end": ...,
                                          "optional": bool}]}}}

``parts: "lines"`` means each line is passed as its own TextPart (spreadsheet rows), with
``column_headers`` as TextPart.context. ``optional`` spans (a sender's signature details) may be
found or not without counting either way.
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass, field
from pathlib import Path

from scanner.demo.people import make_bsn, make_eleven_proof_number, make_onderwijsnummer

SEED = 20261122
OUT = Path(__file__).parent / "corpus"

# Names: mostly common Dutch names (which the name lists know), plus a held-out set that is
# NOT in detectors/data, so the evaluation shows what the name lists miss.
FIRST = ["Sanne", "Daan", "Emma", "Lucas", "Julia", "Sem", "Tess", "Milan", "Zoë", "Noah",
         "Lotte", "Finn", "Yara", "Thijs", "Fenna", "Jesse", "Anouk", "Ruben", "Lieke", "Bram",
         "Yusuf", "Aya", "Mohammed", "Fatima", "Elif", "Emre", "Noor", "Ilias", "Senna", "Mees",
         "Jasmijn", "Luuk", "Isabel", "Hamza", "Sophie", "Teun", "Femke", "Joep", "Nina", "Ravi"]
FIRST_HELDOUT = ["Jaylinn", "Mirza", "Rowan", "Idris", "Liv", "Kaylee", "Djayden", "Ouassim"]
TV = ["", "", "", "de ", "van ", "van der ", "van den ", "de ", "el ", "ter "]
LAST = ["Vries", "Jansen", "Bakker", "Visser", "Smit", "Meijer", "Boer", "Mulder", "Bos",
        "Dijk", "Berg", "Hendriks", "Dekker", "Brouwer", "Yilmaz", "Amrani", "Kaya", "Hoekstra",
        "Kramer", "Postma", "Wijk", "Koster", "Prins", "Huisman", "Ramdin", "Nguyen", "Kok",
        "Willems", "Groen", "Scholten"]
LAST_HELDOUT = ["Zwartkruis", "Oudejans", "Brandsma", "Tjon-A-Fong", "Verduyn"]
STAFF_FIRST = ["Anna", "Mark", "Petra", "Jeroen", "Marieke", "Wouter", "Ingrid", "Kees",
               "Mirjam", "Ronald", "Els", "Hanneke"]
STREETS = ["Kerkstraat", "Dorpsstraat", "Schoolstraat", "Molenweg", "Julianalaan", "Beatrixlaan",
           "Lindelaan", "Kastanjelaan", "Prinsengracht", "Wilhelminastraat", "Parallelweg",
           "Eikenlaan", "Sportlaan", "Vondelstraat", "Rembrandtplein"]
CITIES = ["Utrecht", "Amersfoort", "Zwolle", "Deventer", "Haarlem", "Leiden", "Gouda",
          "Apeldoorn", "Tilburg", "Breda", "Almere", "Assen", "Emmen", "Delft", "Nijmegen"]
MONTHS = ["januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus",
          "september", "oktober", "november", "december"]
SCHOOL = ["OBS De Regenboog", "CBS Het Anker", "Het Baken College", "Montessorischool De Linde",
          "SG Het Rijnlands", "KBS De Wegwijzer"]
SUBJECTS = ["rekenen", "taal", "begrijpend lezen", "Engels", "wiskunde", "Nederlands",
            "aardrijkskunde", "geschiedenis", "biologie"]


@dataclass
class Doc:
    """A document under construction; ``put`` records labelled spans as it goes."""

    kind: str
    student_data: bool
    categories: list[str] = field(default_factory=list)
    hard_negative: bool = False
    parts: str = "whole"
    column_headers: list[str] = field(default_factory=list)
    text: str = ""
    entities: list[dict] = field(default_factory=list)

    def add(self, s: str) -> Doc:
        self.text += s
        return self

    origin: str | None = None

    def put(self, entity: str | None, value: str, optional: bool = False,
            origin: str | None = None) -> Doc:
        start = len(self.text)
        self.text += value
        if entity:
            span = {"entity": entity, "start": start, "end": len(self.text), "optional": optional}
            if origin:
                span["origin"] = origin
            self.entities.append(span)
        return self


class Gen:
    def __init__(self, seed: int) -> None:
        self.r = random.Random(seed)
        self.roster: list[tuple[str, str, str, str, str]] = []  # roepnaam, tv, achternaam, geb, llnr

    # -- values ------------------------------------------------------------------------------
    def bsn(self, fmt: str | None = None) -> str:
        digits = make_bsn(self.r)
        fmt = fmt or self.r.choice(["plain", "dots", "spaces", "dashes"])
        return {"plain": digits, "dots": f"{digits[:4]}.{digits[4:6]}.{digits[6:]}",
                "spaces": f"{digits[:3]} {digits[3:6]} {digits[6:]}",
                "dashes": f"{digits[:3]}-{digits[3:6]}-{digits[6:]}"}[fmt]

    def onderwijsnummer(self) -> str:
        return make_onderwijsnummer(self.r)

    def first(self, heldout_rate: float = 0.08) -> str:
        pool = FIRST_HELDOUT if self.r.random() < heldout_rate else FIRST
        return self.r.choice(pool)

    def full(self, heldout_rate: float = 0.08) -> str:
        last = self.r.choice(LAST_HELDOUT if self.r.random() < heldout_rate else LAST)
        return f"{self.first(heldout_rate)} {self.r.choice(TV)}{last}"

    def staff(self) -> str:
        return self.r.choice(STAFF_FIRST)

    def staff_full(self) -> str:
        return f"{self.staff()} {self.r.choice(TV)}{self.r.choice(LAST)}"

    def groep(self) -> str:
        return self.r.choice([f"groep {self.r.randint(1, 8)}",
                              f"klas {self.r.randint(1, 4)}{self.r.choice('ABCDE')}",
                              f"{self.r.randint(1, 5)} {self.r.choice(['havo', 'vwo', 'vmbo'])}"])

    def birth(self) -> str:
        y, m, d = self.r.randint(2008, 2020), self.r.randint(1, 12), self.r.randint(1, 28)
        return self.r.choice([f"{d:02d}-{m:02d}-{y}", f"{d}-{m}-{y}", f"{d} {MONTHS[m - 1]} {y}",
                              f"{d:02d}/{m:02d}/{y}"])

    def date(self) -> str:
        return f"{self.r.randint(1, 28)} {self.r.choice(MONTHS)} 2025"

    def phone(self) -> str:
        n = "".join(str(self.r.randint(0, 9)) for _ in range(8))
        return self.r.choice([f"06-{n}", f"06 {n[:2]} {n[2:4]} {n[4:6]} {n[6:]}",
                              f"+31 6 {n}", f"0{self.r.choice(['30', '20', '53', '38'])}-{n[:7]}"])

    def email(self, name: str) -> str:
        local = name.lower().replace(" ", ".").replace("ë", "e")
        return f"{local}@{self.r.choice(['gmail.com', 'hotmail.com', 'outlook.com', 'ziggo.nl', 'kpnmail.nl'])}"

    def address(self) -> tuple[str, str]:
        street = f"{self.r.choice(STREETS)} {self.r.randint(1, 180)}{self.r.choice(['', '', 'a', 'b'])}"
        pc = f"{self.r.randint(1000, 9999)} {self.r.choice('ABCDEFGHJKLMNPRTVWXZ')}{self.r.choice('ABCDEGHJKLMNPRTVWXZ')}"
        return street, f"{pc} {self.r.choice(CITIES)}"

    def iban(self) -> str:
        from stdnum import iban
        bank = self.r.choice(["ABNA", "INGB", "RABO", "SNSB", "TRIO"])
        while True:
            acct = "".join(str(self.r.randint(0, 9)) for _ in range(10))
            for check in range(2, 99):
                cand = f"NL{check:02d}{bank}{acct}"
                if iban.is_valid(cand):
                    return " ".join(cand[i:i + 4] for i in range(0, len(cand), 4))

    def id_doc(self) -> str:
        letters = "ABCDEFGHIJKLMNPQRSTUVWXYZ"
        mid = "".join(self.r.choice(letters + "0123456789") for _ in range(6))
        if not any(c.isdigit() for c in mid):
            mid = mid[:5] + "7"
        return "".join(self.r.choice(letters) for _ in range(2)) + mid + str(self.r.randint(0, 9))

    def eleven_proof_number(self) -> str:
        return make_eleven_proof_number(self.r)

    # -- shared fragments -------------------------------------------------------------------
    def signature(self, doc: Doc, name: str, role: str, with_contact: bool = True) -> None:
        doc.add(self.r.choice(["\n\nMet vriendelijke groet,\n\n", "\n\nGroet,\n", "\n\nHartelijke groet,\n"]))
        doc.put("PERSON", name).add(f"\n{role}\n")
        if with_contact:
            doc.add(f"{self.r.choice(SCHOOL)}\nT: ").put("PHONE_NUMBER", self.phone(), optional=True).add("\n")

    # -- positives --------------------------------------------------------------------------
    def ziekmelding(self) -> Doc:
        d = Doc("ziekmelding", True, ["verzuim"])
        child = self.first()
        d.add("Beste juf ").put("PERSON", self.staff()).add(",\n\n")
        d.put("PERSON", child)
        variant = self.r.randrange(4)
        d.add([" is vandaag ziek en blijft thuis.", " heeft koorts en kan vandaag niet komen.",
               " is ziek, hij heeft buikgriep.", " is vanochtend naar de huisarts geweest en blijft thuis."][variant])
        if variant:
            d.categories.append("gezondheid")
        if self.r.random() < 0.5:
            d.add(f" Ze zit in {self.groep()}.")
        d.add(" Morgen laat ik weten hoe het gaat.")
        parent = self.full(0)
        d.add("\n\nGroet,\n").put("PERSON", parent).add("\n").put("PHONE_NUMBER", self.phone(), optional=True)
        d.categories = sorted(set(d.categories), key=CAT_ORDER.index)
        return d

    def zorg(self) -> Doc:
        d = Doc("zorgoverleg", True, ["zorg"])
        child = self.full()
        d.add("Hoi ").put("PERSON", self.staff()).add(",\n\nVolgende week bespreken we ")
        d.put("PERSON", child)
        diag = self.r.choice(["ADHD", "dyslexie", "ASS", "dyscalculie", None])
        d.add(self.r.choice([" in het zorgoverleg. Het OPP moet worden bijgesteld.",
                             " met de IB'er. Het handelingsplan werkt nog niet goed.",
                             " in het MDO; de leerling heeft extra ondersteuning nodig.",
                             " met schoolmaatschappelijk werk en de jeugdarts."]))
        if diag:
            d.add(f" Er is sinds vorig jaar een diagnose {diag}.")
            d.categories.append("gezondheid")
        d.add(" Wil je je observaties toevoegen aan het groeidocument?")
        self.signature(d, self.staff_full(), "Intern begeleider")
        d.categories = sorted(set(d.categories), key=CAT_ORDER.index)
        return d

    def klassenlijst_csv(self) -> Doc:
        d = Doc("klassenlijst_csv", True, ["identificatie"])
        sep = self.r.choice([";", ",", "\t"])
        header = sep.join(["Leerlingnummer", "Roepnaam", "Achternaam", "Geboortedatum", "BSN"])
        d.add(header + "\n")
        for _ in range(self.r.randint(4, 12)):
            llnr = str(self.r.randint(100000, 999999))
            d.put("NL_LEERLINGNUMMER", llnr).add(sep).put("PERSON", self.first(0)).add(sep)
            d.add(self.r.choice(LAST) + sep).put("DATE_OF_BIRTH", self.birth()).add(sep)
            d.put("NL_BSN", self.bsn(self.r.choice(["plain", "plain", "dots"]))).add("\n")
        # the roster-free CSV names are first names alone in a cell: label only the first names
        return d

    def sheet_rows(self) -> Doc:
        d = Doc("spreadsheet_rijen", True, ["identificatie", "contactgegevens"], parts="lines",
                column_headers=["Naam", "Groep", "BSN", "Telefoon ouders"])
        for _ in range(self.r.randint(5, 15)):
            d.put("PERSON", self.full(0)).add("\t" + self.groep() + "\t")
            d.put("NL_BSN", self.bsn("plain")).add("\t").put("PHONE_NUMBER", self.phone()).add("\n")
        return d

    def aanmelding(self) -> Doc:
        d = Doc("aanmeldformulier", True, ["identificatie", "contactgegevens"])
        child = self.full(0)
        street, city = self.address()
        d.add("AANMELDFORMULIER LEERLING\n\nAchternaam en voornaam leerling: ").put("PERSON", child)
        d.add("\nGeboortedatum: ").put("DATE_OF_BIRTH", self.birth())
        d.add(f"\n{self.r.choice(['BSN', 'Burgerservicenummer', 'BSN-nummer', 'Sofinummer'])}: ").put("NL_BSN", self.bsn())
        d.add("\nAdres: ").put("NL_ADDRESS", f"{street}\n{city}")
        parent = self.full(0)
        d.add("\nNaam ouder/verzorger: ").put("PERSON", parent)
        d.add("\nTelefoon: ").put("PHONE_NUMBER", self.phone())
        d.add("\nE-mail: ").put("EMAIL_ADDRESS", self.email(parent))
        if self.r.random() < 0.5:
            d.add("\nIBAN ouderbijdrage: ").put("IBAN_CODE", self.iban())
        if self.r.random() < 0.4:
            d.add("\nBijzonderheden: allergie voor noten, heeft een EpiPen.")
            d.categories.append("gezondheid")
        d.add("\nVorige school: " + self.r.choice(SCHOOL) + "\n")
        d.categories = sorted(set(d.categories), key=CAT_ORDER.index)
        return d

    def onderwijsnummer_mail(self) -> Doc:
        d = Doc("onderwijsnummer", True, ["identificatie"])
        child = self.full(0)
        d.add("Beste administratie,\n\nDe nieuwe leerling ").put("PERSON", child)
        d.add(self.r.choice([" heeft nog geen BSN. Het onderwijsnummer is ", " (zonder BSN) staat in BRON met PGN ",
                             " is ingeschreven; persoonsgebonden nummer: "]))
        d.put("NL_ONDERWIJSNUMMER", self.onderwijsnummer()).add(".\nKunnen jullie dit verwerken in ParnasSys?")
        self.signature(d, self.staff_full(), "Leerkracht " + self.groep())
        return d

    def veilig_thuis(self) -> Doc:
        d = Doc("veilig_thuis", True, ["thuissituatie", "veiligheid"])
        child = self.full()
        d.add("Vertrouwelijk\n\nWe hebben vandaag de meldcode doorlopen voor ").put("PERSON", child)
        d.add(self.r.choice([". Er waren opnieuw blauwe plekken zichtbaar.", ". Er zijn zorgen over huiselijk geweld.",
                             ". Moeder vertelde over de vechtscheiding en er is sprake van verwaarlozing."]))
        d.add(" Na overleg met de aandachtsfunctionaris is Veilig Thuis gebeld voor advies.")
        d.add(" Vader heeft geen gezag; de gezinsvoogd is op de hoogte.")
        self.signature(d, self.staff_full(), "Aandachtsfunctionaris", with_contact=False)
        return d

    def scheiding(self) -> Doc:
        d = Doc("thuissituatie", True, ["thuissituatie"])
        d.add("Beste meester ").put("PERSON", self.staff()).add(",\n\nIk wil u laten weten dat mijn man en ik gaan scheiden. ")
        child = self.first()
        d.put("PERSON", child).add(self.r.choice([" woont voortaan de ene week bij mij en de andere week bij haar vader (co-ouderschap).",
                                                   " heeft het er moeilijk mee; er is een omgangsregeling via de rechter.",
                                                   " blijft bij mij wonen; ik heb voorlopig eenhoofdig gezag."]))
        d.add(" Wilt u de rapporten voortaan naar beide adressen sturen?")
        d.add("\n\nVriendelijke groet,\n").put("PERSON", self.full(0))
        return d

    def cijfers(self) -> Doc:
        d = Doc("cijfers", True, ["cijfers"])
        child = self.full()
        d.add("Beste ouders van ").put("PERSON", child).add(",\n\n")
        d.add(self.r.choice([f"Het rapportcijfer voor {self.r.choice(SUBJECTS)} is een {self.r.randint(3, 5)},{self.r.randint(0, 9)}.",
                             f"Bij de Cito-toets van deze maand scoorde uw kind onder het gemiddelde voor {self.r.choice(SUBJECTS)}.",
                             f"De toetsresultaten voor {self.r.choice(SUBJECTS)} blijven achter; het eindcijfer is onvoldoende."]))
        d.add(" In de rapportvergadering bespreken we of bevorderen verantwoord is.")
        self.signature(d, self.staff_full(), "Mentor " + self.groep())
        return d

    def religie(self) -> Doc:
        d = Doc("religie", True, ["religie"])
        child = self.first()
        d.add("Beste juf ").put("PERSON", self.staff()).add(",\n\n").put("PERSON", child)
        variant = self.r.randrange(3)
        d.add([" is morgen afwezig vanwege het Suikerfeest.", " doet tijdens de ramadan niet mee aan de gymles.",
               " heeft vrijdagmiddag verlof nodig voor de moskee; kan dat als extra verlof?"][variant])
        if variant != 1:
            d.categories = ["verzuim", "religie"]
        d.add("\n\nGroeten,\n").put("PERSON", self.full(0))
        return d

    def etniciteit(self) -> Doc:
        d = Doc("etniciteit", True, ["etniciteit"])
        child = self.full()
        d.add("Hallo team,\n\nVolgende week start ").put("PERSON", child)
        d.add(self.r.choice([" in de internationale schakelklas. Ze is nieuwkomer uit Syrië en heeft een verblijfsvergunning.",
                             ", een statushouder uit Eritrea, in groep 6. Er is een taalachterstand.",
                             " in de ISK; het gezin woont in het AZC."]))
        self.signature(d, self.staff_full(), "Zorgcoördinator")
        return d

    def id_copy(self) -> Doc:
        d = Doc("id_kopie", True, ["identificatie"])
        d.add("Bijlage: kopie paspoort leerling\n\nNaam: ").put("PERSON", self.full(0))
        d.add("\nGeboortedatum: ").put("DATE_OF_BIRTH", self.birth())
        d.add(f"\n{self.r.choice(['Documentnummer', 'Paspoortnummer', 'Nummer ID-kaart'])}: ").put("NL_ID_DOCUMENT", self.id_doc())
        d.add("\nNationaliteit: Nederlandse\n")
        d.categories = ["identificatie", "etniciteit"]
        return d

    def leerlingnummer_mail(self) -> Doc:
        d = Doc("leerlingnummer", True, ["identificatie"])
        d.add("Hoi ").put("PERSON", self.staff()).add(",\n\nKun je in Magister het cijfer aanpassen voor leerlingnummer ")
        llnr = str(self.r.randint(100000, 999999))
        d.put("NL_LEERLINGNUMMER", llnr).add(f"? Het gaat om de toets {self.r.choice(SUBJECTS)} van vorige week.")
        d.categories = ["identificatie", "cijfers"]
        self.signature(d, self.staff_full(), "Docent", with_contact=False)
        return d

    def roster_mail(self) -> Doc:
        first, tv, last, geb, llnr = self.r.choice(self.roster)
        name = f"{first} {tv + ' ' if tv else ''}{last}"
        d = Doc("leerlingenlijst", True, [])
        d.add("Hoi ").put("PERSON", self.staff()).add(",\n\n")
        d.add(self.r.choice(["Wil jij het werkstuk van ", "Heb je de toets van ", "Kun je even kijken naar de tekening van "]))
        d.put("STUDENT_ROSTER", name).add(self.r.choice([" nog nakijken?", " al terug?", " voor de tentoonstelling?"]))
        self.signature(d, self.staff_full(), "Leerkracht", with_contact=False)
        return d

    def newsletter_student(self) -> Doc:
        d = Doc("nieuwsbrief_met_leerling", True, [])
        d.add(f"Nieuwsbrief {self.r.choice(SCHOOL)} - {self.date()}\n\nVoorleeswedstrijd\nDe winnaar van de schoolronde is ")
        d.put("PERSON", self.full(0)).add(f" uit {self.groep()}! Gefeliciteerd.\n\n")
        d.add("Agenda\n- Studiedag: kinderen vrij\n- Schoolreis groep 3 t/m 6\n")
        return d

    def mentor_verzuim(self) -> Doc:
        d = Doc("verzuim_mentor", True, ["verzuim"])
        child = self.full()
        d.add("Beste leerplichtambtenaar,\n\n").put("PERSON", child)
        d.add(f" uit {self.groep()} heeft dit blok 14 uur ongeoorloofd verzuim en kwam 9 keer te laat.")
        d.add(" Een verzuimmelding is gedaan in het verzuimloket.")
        self.signature(d, self.staff_full(), "Mentor", with_contact=False)
        return d

    def origin_mail(self, origin: str) -> Doc:
        """A pupil of ``origin`` named in school mail: full name first, then alone."""
        first, last = self.r.choice(ORIGINS[origin])
        full = f"{first} {last}"
        d = Doc("herkomst_" + origin, True, ["verzuim"])
        d.origin = origin
        variant = self.r.randrange(4)
        if variant == 0:
            d.add("Beste juf ").put("PERSON", self.staff()).add(",\n\n")
            d.put("PERSON", full, origin=origin).add(" uit " + self.groep() + " is vandaag ziek en blijft thuis. ")
            d.put("PERSON", first, origin=origin).add(" heeft koorts; morgen bel ik weer.")
            d.categories = ["gezondheid", "verzuim"]
            d.add("\n\nGroet,\n").put("PERSON", self.full(0))
        elif variant == 1:
            d.add("Hoi ").put("PERSON", self.staff()).add(",\n\nDe moeder van ").put("PERSON", first, origin=origin)
            d.add(" belde: ").put("PERSON", full, origin=origin)
            d.add(" is ziek gemeld voor de hele week. Wil jij het huiswerk klaarzetten?")
            self.signature(d, self.staff_full(), "Mentor " + self.groep(), with_contact=False)
        elif variant == 2:
            d.add("Verzuimoverzicht " + self.groep() + "\n\n").put("PERSON", full, origin=origin)
            d.add(" was deze maand drie keer ongeoorloofd afwezig. Volgens de leerplichtambtenaar moet ")
            d.put("PERSON", last.split()[-1], origin=origin).add(" een gesprek krijgen.")
            self.signature(d, self.staff_full(), "Verzuimcoördinator", with_contact=False)
        else:
            d.add("Beste ouders van ").put("PERSON", full, origin=origin).add(",\n\n")
            d.put("PERSON", first, origin=origin).add(" was gisteren niet op school. Wilt u de ziekmelding ")
            d.add("nog doorgeven? Groep " + str(self.r.randint(5, 8)) + " gaat vrijdag op excursie.")
            d.add("\n\nGroet,\n").put("PERSON", "meester " + self.staff())
        return d

    def word_names(self) -> Doc:
        """Names that are ordinary words, used as words: no person here."""
        d = Doc("woorden_als_naam", False, [], hard_negative=True)
        d.add(self.r.choice(WORD_SENTENCES))
        d.add("\n\nGroet,\n").put("PERSON", self.staff_full())
        return d

    # -- negatives --------------------------------------------------------------------------
    def invoice(self) -> Doc:
        d = Doc("factuur", False, [], hard_negative=True)
        street, city = self.address()
        d.add("FACTUUR\n\nLeermiddelen BV\n").put("NL_ADDRESS", f"{street}\n{city}")
        d.add("\nKvK 3412").add(str(self.r.randint(1000, 9999))).add("\n\n")
        label = self.r.choice(["Factuurnummer", "Klantnummer", "Ordernummer", "Bestelnummer", "Debiteurnummer"])
        d.add(f"{label}: {self.eleven_proof_number()}\n")
        d.add(f"{self.r.choice(['Klantnummer', 'Referentie', 'Ordernummer'])}: {self.eleven_proof_number()}\n")
        d.add(f"Factuurdatum: {self.date()}\n\n")
        d.add("Omschrijving                          Bedrag\nWerkboeken rekenen groep 5      € 412,50\n")
        d.add("Totaal incl. btw                       € 499,13\n\nGraag betalen op ")
        d.put("IBAN_CODE", self.iban()).add(" o.v.v. factuurnummer.\n")
        return d

    def order_confirmation(self) -> Doc:
        d = Doc("orderbevestiging", False, [], hard_negative=True)
        d.add(f"Bedankt voor je bestelling!\n\nBestelnummer {self.eleven_proof_number()}\n")
        n = self.eleven_proof_number()
        d.add(f"Artikelnummer 8712345 - Gymschoenen maat 34 (2x)\nOrdernummer: {n[:3]}-{n[3:6]}-{n[6:]}\n")
        d.add("Verwachte levering: morgen tussen 9:00 en 13:00.\nVragen? Bel onze klantenservice ")
        d.put("PHONE_NUMBER", "088-1234567").add(".\n")
        return d

    def newsletter(self) -> Doc:
        d = Doc("nieuwsbrief", False, [], hard_negative=True)
        school = self.r.choice(SCHOOL)
        d.add(f"Nieuwsbrief {school} - {self.date()}\n\nBeste ouders en verzorgers,\n\n")
        d.add("Volgende week is de Kinderboekenweek. Juf ").put("PERSON", self.staff())
        d.add(f" van {self.groep()} organiseert een voorleesochtend.\n\n")
        d.add("Ziekmeldingen\nMeld uw kind ziek vóór 8.15 uur via de Parro-app of bel ")
        d.put("PHONE_NUMBER", self.phone()).add(".\n\n")
        d.add("Nieuwe collega\nWelkom aan onze nieuwe collega ").put("PERSON", self.staff_full())
        d.add(f", zij wordt leerkracht van {self.groep()}.\n\n")
        d.add("Rapporten\nDe rapporten gaan vrijdag mee. De oudergesprekken zijn in week 12.\n\n")
        street, city = self.address()
        d.add("Bezoekadres: ").put("NL_ADDRESS", f"{street}, {city}").add("\n")
        return d

    def timetable(self) -> Doc:
        d = Doc("rooster", False, [], hard_negative=True)
        d.add("Lesrooster week 38\n\n")
        for day in ["Maandag", "Dinsdag", "Woensdag", "Donderdag", "Vrijdag"]:
            d.add(f"{day}\n 08:30-09:20  {self.r.choice(SUBJECTS)}  {self.groep()}  lokaal {self.r.randint(1, 30)}  ")
            d.put("PERSON", "juf " + self.staff()).add("\n")
            d.add(f" 09:20-10:10  {self.r.choice(SUBJECTS)}  {self.groep()}  lokaal {self.r.randint(1, 30)}  ")
            d.put("PERSON", "meester " + self.staff()).add("\n")
        return d

    def staff_mail(self) -> Doc:
        d = Doc("collega_mail", False, [], hard_negative=True)
        a, b = self.staff(), self.staff_full()
        d.add("Hoi ").put("PERSON", a).add(",\n\n")
        d.add(self.r.choice([f"Kun jij donderdag {self.groep()} overnemen? Ik heb een cursus.",
                             "De teamvergadering is verplaatst naar dinsdag 15.30 uur in de teamkamer.",
                             f"Wil je het rooster voor {self.groep()} nog even checken? Er zit een dubbel uur in.",
                             "Ik ben vandaag ziek, ik heb griep. Mijn lessen vallen uit; de invaller is geregeld."]))
        d.add("\n\nGroet,\n").put("PERSON", b)
        return d

    def policy(self, paragraphs: list[str]) -> Doc:
        d = Doc("beleidstekst", False, [], hard_negative=True)
        start = self.r.randrange(0, max(1, len(paragraphs) - 4))
        d.add("\n\n".join(paragraphs[start : start + self.r.randint(2, 5)]))
        return d

    def mr_minutes(self) -> Doc:
        d = Doc("notulen_mr", False, [], hard_negative=True)
        d.add(f"Notulen MR-vergadering {self.date()}\n\nAanwezig: ")
        for i in range(3):
            d.put("PERSON", self.staff_full()).add(", " if i < 2 else "\n")
        d.add("Voorzitter: ").put("PERSON", self.staff_full()).add("\n\n")
        d.add("1. Het verzuimbeleid wordt besproken; het aantal ziekmeldingen daalt.\n")
        d.add("2. Het nieuwe privacyreglement (BSN en leerlingdossiers) wordt vastgesteld.\n")
        d.add("3. Rondvraag: geen.\n")
        return d

    def supplier_mail(self) -> Doc:
        d = Doc("leverancier", False, [], hard_negative=True)
        d.add(f"Geachte heer/mevrouw,\n\nUw licentie voor de rekenmethode verloopt op {self.date()}. ")
        d.add(f"Uw klantnummer is {self.eleven_proof_number()} en uw contractnummer {self.eleven_proof_number()}.\n")
        d.add("Voor vragen kunt u ons bellen op ").put("PHONE_NUMBER", f"030-{self.r.randint(1000000, 9999999)}")
        d.add(" of mailen naar ").put("EMAIL_ADDRESS", "support@leermiddelen.nl").add(".\n\nMet vriendelijke groet,\nTeam Klantenservice\n")
        return d

    def excursion(self) -> Doc:
        d = Doc("uitje", False, [], hard_negative=True)
        d.add(f"Beste ouders van {self.groep()},\n\nOp {self.date()} gaan we naar het Natuurmuseum. ")
        d.add("We vertrekken om 8.45 uur. Geef uw kind een lunchpakket en een regenjas mee. ")
        d.add("Heeft uw kind een allergie of medicijnen nodig, meld dit dan bij de leerkracht.\n")
        d.add("\nGroet,\nJuf ").put("PERSON", self.staff())
        return d

    def bank_note(self) -> Doc:
        d = Doc("betaling", False, [], hard_negative=True)
        d.add(f"Betalingsherinnering ouderbijdrage\n\nBetalingskenmerk {self.eleven_proof_number()}\n")
        d.add("Rekeningnummer school: ").put("IBAN_CODE", self.iban())
        n = self.eleven_proof_number()
        d.add(f"\nTransactienummer: {n[:3]} {n[3:6]} {n[6:]}\nBedrag: € 45,00\n")
        return d


# Pupils from the origins a Dutch school sees; the evaluation prints PER per group.
ORIGINS = {
    "nederlands": [("Sanne", "de Vries"), ("Daan", "Bakker"), ("Lotte", "van Dijk"), ("Jesse", "Mulder"),
                   ("Fenna", "Hoekstra"), ("Teun", "van der Meer"), ("Femke", "Brouwer"), ("Bram", "Kramer")],
    "vlaams": [("Katrijn", "Serneels"), ("Wout", "Vandenbroucke"), ("Lien", "Van Gheluwe"), ("Jens", "De Clercq"),
               ("Febe", "Verstraete"), ("Arne", "Claes"), ("Ine", "Wouters"), ("Seppe", "Goossens")],
    "turks": [("Aylin", "Yılmaz"), ("Emre", "Demir"), ("Elif", "Kaya"), ("Mehmet", "Öztürk"),
              ("Zeynep", "Çelik"), ("Burak", "Şahin"), ("Ayşe", "Arslan"), ("Kerem", "Aydın")],
    "marokkaans": [("Ilias", "El Amrani"), ("Nour", "Bouzid"), ("Hamza", "Benali"), ("Salma", "El Idrissi"),
                   ("Yassin", "Ouali"), ("Imane", "Azzouzi"), ("Rayan", "Boukhari"), ("Meryem", "Ziani")],
    "pools": [("Zofia", "Kowalska"), ("Jakub", "Nowak"), ("Kacper", "Wiśniewski"), ("Julia", "Wójcik"),
              ("Szymon", "Kamiński"), ("Maja", "Lewandowska"), ("Oliwia", "Zielińska"), ("Mateusz", "Kozłowski")],
    "surinaams": [("Priya", "Ramdin"), ("Shanti", "Jagessar"), ("Kevin", "Pinas"), ("Rishi", "Sewdien"),
                  ("Naomi", "Tjon-A-Fong"), ("Jair", "Kartosen"), ("Anjali", "Mahabier"), ("Romano", "Doest")],
    "engels": [("Olivia", "Smith"), ("Jack", "Thompson"), ("Emily", "Clarke"), ("Harry", "Wilson"),
               ("Grace", "Taylor"), ("Oliver", "Hughes"), ("Chloe", "Evans"), ("George", "Walker")],
    "overig": [("Rami", "Haddad"), ("Lina", "Al-Masri"), ("Yonas", "Tesfay"), ("Abdi", "Warsame"),
               ("Amina", "Hassan"), ("Ahmad", "Rahimi"), ("Minh", "Tran"), ("Pedro", "Lopes")],
}
WORD_SENTENCES = [
    "In de winter gaan we schaatsen. De Winter-wandeling begint om 10 uur bij de kerk.",
    "Roos en tulpen: groep 4 maakt een bloemenkrans. Elke Roos op het plaatje krijgt een kleur.",
    "De Bas in de muziekles klinkt te hard. Bas en gitaar staan in het muzieklokaal.",
    "Visser en bakker zijn beroepen uit het thema Werk. Visser is ook een woord in het spel.",
    "Bakker, Visser en Smid: de beroepen van vroeger. In de Winter van 1963 vroor alles dicht.",
    "Hoop doet leven. Fleur je lokaal op met planten. Iris en roos bloeien in mei.",
]

CAT_ORDER = ["identificatie", "contactgegevens", "gezondheid", "zorg", "verzuim", "thuissituatie",
             "veiligheid", "religie", "etniciteit", "cijfers"]


def _policy_paragraphs() -> list[str]:
    seeds = Path("/work/shared/seeds")
    paragraphs: list[str] = []
    for path in sorted(seeds.glob("*.txt")):
        if path.name == "README.md":
            continue
        for para in path.read_text(encoding="utf-8").split("\n\n"):
            para = " ".join(para.split())
            if 200 < len(para) < 1500:
                paragraphs.append(para)
    if not paragraphs:  # fallback when the seeds are not there
        paragraphs = [
            "Scholen verwerken persoonsgegevens van leerlingen, zoals naam, adres, geboortedatum en "
            "burgerservicenummer (BSN). Ook gegevens over dyslexie of ADHD zijn gevoelig.",
            "Het persoonsgebonden nummer (PGN) is het BSN of, voor leerlingen zonder BSN, het "
            "onderwijsnummer. Het mag alleen worden uitgewisseld als daar een wettelijke grond voor is.",
        ]
    return paragraphs


def build(seed: int = SEED) -> tuple[dict, dict[str, str], str]:
    g = Gen(seed)
    # a roster of 30 students (its names partly reappear in roster mails)
    roster_rows = []
    for _ in range(30):
        first, tv, last = g.r.choice(FIRST), g.r.choice(TV).strip(), g.r.choice(LAST)
        geb = f"{g.r.randint(1, 28):02d}-{g.r.randint(1, 12):02d}-{g.r.randint(2010, 2019)}"
        llnr = str(g.r.randint(100000, 999999))
        g.roster.append((first, tv, last, geb, llnr))
        roster_rows.append(";".join([llnr, first, tv, last, geb]))
    roster_csv = "leerlingnummer;roepnaam;tussenvoegsel;achternaam;geboortedatum\n" + "\n".join(roster_rows) + "\n"
    paragraphs = _policy_paragraphs()
    plan = [
        (g.ziekmelding, 10), (g.zorg, 9), (g.klassenlijst_csv, 5), (g.sheet_rows, 4),
        (g.aanmelding, 7), (g.onderwijsnummer_mail, 6), (g.veilig_thuis, 5), (g.scheiding, 5),
        (g.cijfers, 6), (g.religie, 4), (g.etniciteit, 4), (g.id_copy, 4), (g.leerlingnummer_mail, 4),
        (g.roster_mail, 6), (g.newsletter_student, 3), (g.mentor_verzuim, 4),
        (g.invoice, 10), (g.order_confirmation, 6), (g.newsletter, 8), (g.timetable, 4),
        (g.staff_mail, 10), (lambda: g.policy(paragraphs), 8), (g.mr_minutes, 4),
        (g.supplier_mail, 5), (g.excursion, 5), (g.bank_note, 5),
    ]
    plan += [(lambda o=o: g.origin_mail(o), 6) for o in ORIGINS]
    plan += [(g.word_names, 6)]
    docs: dict = {}
    texts: dict[str, str] = {}
    n = 0
    for make, count in plan:
        for _ in range(count):
            doc = make()
            n += 1
            doc_id = f"{n:03d}_{doc.kind}"
            texts[doc_id] = doc.text
            _label_roster_names(doc, g.roster)
            docs[doc_id] = {
                "file": f"{doc_id}.txt", "kind": doc.kind, "student_data": doc.student_data,
                "categories": doc.categories, "hard_negative": doc.hard_negative,
                "parts": doc.parts, "column_headers": doc.column_headers,
                "entities": doc.entities,
            }
            if doc.origin:
                docs[doc_id]["origin"] = doc.origin
    for stem, label, text in handwritten():
        doc_id = f"{stem}"
        texts[doc_id] = text
        docs[doc_id] = {"file": f"{doc_id}.txt", **label}
    labels = {
        "settings": {"student_number_pattern": r"\b\d{6}\b", "roster": "roster.csv"},
        "documents": docs,
    }
    return labels, texts, roster_csv


def _label_roster_names(doc: Doc, roster: list[tuple[str, str, str, str, str]]) -> None:
    """A name on the roster is a STUDENT_ROSTER span wherever it appears, also where the text
    was written as a PERSON (a random name that happens to be a rostered pupil's, or a CSV row
    "Femke<TAB>Mulder" of the pupil "Femke el Mulder"). The forms are the ones the roster
    documents (roepnaam [tussenvoegsel] achternaam, and the surname first as in sorted lists
    and in a LAS export's column order),
    separated by spaces, tabs or a comma, in any case."""
    forms: set[tuple[str, ...]] = set()
    for first, tv, last, _geb, _llnr in roster:
        infix = tuple(tv.split())
        forms |= {(first, *infix, last), (first, last), (*infix, last, first), (last, first, *infix),
                  (last, *infix, first)}
    pattern = "|".join(
        r"[ \t,]+".join(re.escape(w) for w in form) for form in sorted(forms, key=len, reverse=True))
    spans = [m.span() for m in re.finditer(rf"(?<![\w'’-])(?:{pattern})(?![\w'’-])", doc.text, re.I)]
    if not spans:
        return
    kept = [e for e in doc.entities
            if not (e["entity"] == "PERSON" and any(s < e["end"] and e["start"] < t for s, t in spans))]
    kept += [{"entity": "STUDENT_ROSTER", "start": s, "end": t, "optional": False} for s, t in spans
             if not any(e["entity"] == "STUDENT_ROSTER" and e["start"] == s and e["end"] == t for e in kept)]
    doc.entities = sorted(kept, key=lambda e: (e["start"], e["end"]))


_MARK = re.compile(r"\[\[(\??)([A-Z_]+)\|(.*?)\]\]", re.S)


def handwritten(folder: Path = Path(__file__).parent / "handwritten") -> list[tuple[str, dict, str]]:
    """Hand-written documents with inline labels (see handwritten/README.txt)."""
    docs = []
    for path in sorted(folder.glob("h*.txt")):
        raw = path.read_text(encoding="utf-8")
        header, _, body = raw.partition("\n")
        meta = {}
        for item in header.lstrip("# ").split(";"):
            key, _, value = item.partition(":")
            meta[key.strip()] = value.strip()
        text, entities, pos = "", [], 0
        for m in _MARK.finditer(body):
            text += body[pos : m.start()]
            start = len(text)
            text += m.group(3)
            entities.append({"entity": m.group(2), "start": start, "end": len(text),
                             "optional": m.group(1) == "?"})
            pos = m.end()
        text += body[pos:]
        label = {
            "kind": "handgeschreven", "student_data": meta["student_data"] == "true",
            "categories": [c.strip() for c in meta.get("categories", "").split(",") if c.strip()],
            "hard_negative": meta.get("hard_negative") == "true", "parts": "whole",
            "column_headers": [], "entities": entities,
        }
        docs.append((path.stem, label, text))
    return docs


def main() -> None:
    labels, texts, roster_csv = build()
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.glob("*.txt"):
        old.unlink()
    for doc_id, text in texts.items():
        (OUT / f"{doc_id}.txt").write_text(text, encoding="utf-8")
    (OUT / "roster.csv").write_text(roster_csv, encoding="utf-8")
    (OUT / "labels.json").write_text(json.dumps(labels, ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"{len(texts)} documenten geschreven naar {OUT}")


if __name__ == "__main__":
    main()
