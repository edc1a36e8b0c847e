"""Fictional people for the demo corpus: students, parents, staff and suppliers.

Every person is a random combination of common Dutch first names and surnames, every number
is generated: BSNs come from the test range 99999xxxx (reserved for test systems, so a
generated BSN cannot belong to a real person) and pass the 11-proef; onderwijsnummers start
with "10" and pass their own check; IBANs carry a valid mod-97 check; phone numbers are 06
numbers without meaning. The population is a pure function of the seed, so two runs with the
same seed produce the same people in the same order.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date

from stdnum import iban as std_iban
from stdnum.nl import bsn as std_bsn
from stdnum.nl import onderwijsnummer as std_onr

FIRST_NAMES_GIRLS = (
    "Emma", "Julia", "Mila", "Tess", "Sophie", "Zoë", "Sara", "Nora", "Yara", "Eva", "Liv",
    "Lotte", "Saar", "Anna", "Noor", "Fenna", "Lieke", "Fleur", "Isa", "Roos", "Sanne", "Femke",
    "Lisa", "Anouk", "Iris", "Maud", "Jasmijn", "Esmee", "Floor", "Elin", "Nina", "Amira",
    "Fatima", "Ilse", "Hanna", "Vera", "Lynn", "Benthe", "Romy", "Jill",
)
FIRST_NAMES_BOYS = (
    "Noah", "Sem", "Liam", "Lucas", "Daan", "Finn", "Levi", "Luuk", "Mees", "James", "Milan",
    "Bram", "Sven", "Thijs", "Jesse", "Ruben", "Tim", "Lars", "Stijn", "Jayden", "Thomas",
    "Gijs", "Hugo", "Teun", "Jens", "Niels", "Siem", "Jurre", "Mats", "Olivier", "Rayan",
    "Mohammed", "Youssef", "Adam", "Ties", "Boaz", "Cas", "Joep", "Pepijn", "Wout",
)
# (tussenvoegsel, achternaam): the surname prefix is its own roster column in LAS exports.
SURNAMES = (
    ("de", "Jong"), ("", "Jansen"), ("de", "Vries"), ("van den", "Berg"), ("van", "Dijk"),
    ("", "Bakker"), ("", "Janssen"), ("", "Visser"), ("", "Smit"), ("", "Meijer"),
    ("de", "Boer"), ("", "Mulder"), ("de", "Groot"), ("", "Bos"), ("", "Vos"), ("", "Peters"),
    ("", "Hendriks"), ("van", "Leeuwen"), ("", "Dekker"), ("", "Brouwer"), ("de", "Wit"),
    ("", "Dijkstra"), ("", "Smits"), ("de", "Graaf"), ("van der", "Meer"), ("van der", "Linden"),
    ("", "Kok"), ("", "Jacobs"), ("de", "Haan"), ("", "Vermeulen"), ("van den", "Heuvel"),
    ("van der", "Veen"), ("van den", "Broek"), ("de", "Bruijn"), ("de", "Bruin"),
    ("van der", "Heijden"), ("", "Schouten"), ("van", "Beek"), ("", "Willems"), ("van", "Vliet"),
    ("", "Hoekstra"), ("", "Maas"), ("", "Verhoeven"), ("", "Koster"), ("van", "Dam"),
    ("", "Prins"), ("", "Blom"), ("", "Huisman"), ("", "Peeters"), ("", "Kuipers"),
    ("El", "Amrani"), ("", "Yilmaz"), ("", "Öztürk"), ("", "Bouzid"), ("", "Pinas"),
)
PARENT_FIRST_MOTHERS = (
    "Linda", "Sandra", "Mirjam", "Esther", "Petra", "Anouk", "Judith", "Kim", "Nicole",
    "Ilona", "Miranda", "Karin", "Wendy", "Naima", "Samira", "Chantal", "Ellen", "Manon",
)
PARENT_FIRST_FATHERS = (
    "Mark", "Jeroen", "Bas", "Dennis", "Erik", "Martijn", "Jeroen", "Rob", "Sander", "Patrick",
    "Michiel", "Vincent", "Hakim", "Mustafa", "Ronald", "Wouter", "Joost", "Arjen",
)
STREETS = (
    "Dorpsstraat", "Kerkstraat", "Schoolstraat", "Molenweg", "Julianastraat", "Beatrixlaan",
    "Wilhelminastraat", "Lindelaan", "Eikenlaan", "Sportlaan", "Parkweg", "Stationsweg",
    "Merelstraat", "Vlinderhof", "Zonnebloemstraat", "Tulpstraat", "Rembrandtlaan",
    "Vondelstraat", "Bloemgracht", "Havenkade",
)
# Real towns, fictional addresses: the street/number/postcode combinations are random.
TOWNS = ("Amersfoort", "Utrecht", "Zwolle", "Apeldoorn", "Leusden", "Soest", "Baarn", "Nijkerk")
MAIL_DOMAINS = ("example.com", "example.org", "example.net")
BANK_CODES = ("INGB", "RABO", "ABNA", "SNSB", "TRIO", "ASNB", "KNAB")

SCHOOL_DOMAIN = "demoschool.nl"
SCHOOL_NAME = "OBS De Demoschool"


def _bsn_check_digit(first8: str) -> int:
    return sum((9 - i) * int(d) for i, d in enumerate(first8)) % 11


def make_bsn(rng: random.Random) -> str:
    """A BSN in the test range 99999xxxx that passes the 11-proef."""
    while True:
        first8 = "99999" + f"{rng.randrange(1000):03d}"
        check = _bsn_check_digit(first8)
        if check <= 9:
            value = first8 + str(check)
            assert std_bsn.is_valid(value)
            return value


def make_eleven_proof_number(rng: random.Random, prefix: str = "") -> str:
    """A 9-digit number that passes the 11-proef but is not a BSN (invoice, customer number).

    These are the hard negatives: only the context ("factuurnummer") tells them apart.
    """
    while True:
        first8 = prefix + "".join(str(rng.randrange(10)) for _ in range(8 - len(prefix)))
        if first8[0] == "0":
            continue
        check = _bsn_check_digit(first8)
        if check <= 9 and not first8.startswith("9999"):
            return first8 + str(check)


def make_onderwijsnummer(rng: random.Random) -> str:
    """An onderwijsnummer: 9 digits starting with 10, weighted sum = 5 (mod 11)."""
    while True:
        first8 = "10" + "".join(str(rng.randrange(10)) for _ in range(6))
        total = sum((9 - i) * int(d) for i, d in enumerate(first8))
        # total - last == 5 (mod 11)  ->  last == total - 5 (mod 11)
        last = (total - 5) % 11
        if last <= 9:
            value = first8 + str(last)
            if std_onr.is_valid(value):
                return value


def make_iban(rng: random.Random) -> str:
    """A Dutch IBAN with a valid check (compact form, e.g. NL91ABNA0417164300)."""
    bank = rng.choice(BANK_CODES)
    account = "".join(str(rng.randrange(10)) for _ in range(10))
    bban = bank + account
    check = std_iban.calc_check_digits("NL00" + bban)
    return f"NL{check}{bban}"  # validity is checked in the tests, not on the hot path


def make_phone(rng: random.Random) -> str:
    """A Dutch mobile number, digits only (0612345678)."""
    return "06" + str(rng.randrange(1, 7)) + "".join(str(rng.randrange(10)) for _ in range(7))


def make_postcode(rng: random.Random) -> str:
    letters = "ABCDEGHJKLMNPRSTVWXZ"  # postcodes avoid F, I, O, Q, U, Y
    return f"{rng.randrange(1000, 9999)} {rng.choice(letters)}{rng.choice(letters)}"


@dataclass(frozen=True, slots=True)
class Address:
    street: str
    number: int
    postcode: str
    town: str

    def line(self) -> str:
        return f"{self.street} {self.number}, {self.postcode} {self.town}"


@dataclass(frozen=True, slots=True)
class Parent:
    first: str
    last: str
    email: str
    phone: str
    iban: str
    role: str  # "moeder" / "vader"

    @property
    def name(self) -> str:
        return f"{self.first} {self.last}"


@dataclass(frozen=True, slots=True)
class Student:
    number: int  # leerlingnummer in the LAS
    first: str
    tussenvoegsel: str
    surname: str
    birth: date
    cohort: int  # birth year, decides the groep in a given school year
    bsn: str | None
    onderwijsnummer: str | None
    address: Address
    parents: tuple[Parent, ...]
    boy: bool

    @property
    def last(self) -> str:
        return f"{self.tussenvoegsel} {self.surname}".strip()

    @property
    def name(self) -> str:
        return f"{self.first} {self.last}"

    @property
    def pgn(self) -> str:
        """The persoonsgebonden nummer: the BSN, or the onderwijsnummer without one."""
        return self.bsn or self.onderwijsnummer or ""

    def groep(self, school_year: int) -> int:
        """Groep in the school year that starts on 1 August ``school_year``."""
        return groep_of(self.cohort, school_year)


def groep_of(cohort: int, school_year: int) -> int:
    # A child born in year Y starts groep 1 in the school year starting Aug Y+4.
    return school_year - cohort - 3


def cohort_for(groep: int, school_year: int) -> int:
    return school_year - groep - 3


@dataclass(frozen=True, slots=True)
class Staff:
    first: str
    last: str
    email: str
    role: str
    groep: int | None = None
    department: str | None = None

    @property
    def name(self) -> str:
        return f"{self.first} {self.last}"

    @property
    def slug(self) -> str:
        return self.email.split("@", 1)[0].split(".")[-1]


# The teachers: one group each, as in a Dutch primary school (leerkracht van groep N).
TEACHER_PROFILES: tuple[tuple[str, str, str, int, str], ...] = (
    ("Marieke", "Jansen", "m.jansen", 3, "Onderbouw"),
    ("Pieter", "de Vries", "p.devries", 7, "Bovenbouw"),
    ("Sanne", "Bakker", "s.bakker", 5, "Middenbouw"),
    ("Rutger", "Smit", "r.smit", 8, "Bovenbouw"),
    ("Ayla", "Meijer", "a.meijer", 1, "Onderbouw"),
    ("Tom", "Hendriks", "t.hendriks", 6, "Middenbouw"),
    ("Joyce", "Kok", "j.kok", 4, "Middenbouw"),
    ("Evelien", "Prins", "e.prins", 2, "Onderbouw"),
)

COLLEAGUES = (
    Staff("Ingrid", "Visser", f"i.visser@{SCHOOL_DOMAIN}", "intern begeleider"),
    Staff("Hans", "Mulder", f"directie@{SCHOOL_DOMAIN}", "directeur"),
    Staff("Carla", "Dekker", f"administratie@{SCHOOL_DOMAIN}", "administratie"),
    Staff("Bart", "Vos", f"b.vos@{SCHOOL_DOMAIN}", "vakleerkracht gym"),
    Staff("Yvonne", "Brouwer", f"y.brouwer@{SCHOOL_DOMAIN}", "onderwijsassistent"),
)

SUPPLIERS = (
    ("Leermiddelen Noord B.V.", "facturen@leermiddelen-noord.nl"),
    ("Kopieer Service Midden", "administratie@kopieerservice-midden.nl"),
    ("SchoolICT Beheer", "support@schoolict-beheer.nl"),
    ("Speeltoestellen Oost", "verkoop@speeltoestellen-oost.nl"),
    ("Drukkerij De Letterbak", "info@letterbak-drukwerk.nl"),
)


def teachers(count: int) -> list[Staff]:
    if not 1 <= count <= len(TEACHER_PROFILES):
        raise ValueError(
            f"aantal leerkrachten moet 1..{len(TEACHER_PROFILES)} zijn / "
            f"teachers must be 1..{len(TEACHER_PROFILES)}"
        )
    return [
        Staff(first, last, f"{local}@{SCHOOL_DOMAIN}", "leerkracht", groep, dept)
        for first, last, local, groep, dept in TEACHER_PROFILES[:count]
    ]


@dataclass(slots=True)
class Population:
    """All students of the school over the years the corpus spans, grouped by cohort."""

    cohorts: dict[int, list[Student]] = field(default_factory=dict)

    def group(self, groep: int, school_year: int) -> list[Student]:
        return self.cohorts.get(cohort_for(groep, school_year), [])

    def all(self) -> list[Student]:
        return [s for year in sorted(self.cohorts) for s in self.cohorts[year]]


def build_population(seed: int, first_cohort: int, last_cohort: int, per_cohort: int = 24) -> Population:
    """Build every cohort from ``first_cohort`` to ``last_cohort`` (birth years, inclusive).

    About one in twenty students has no BSN (newcomers) and gets an onderwijsnummer instead.
    BSNs are unique within the population; the test range holds about 900 valid numbers,
    beyond that the range is widened to 9999xxxxx numbers (still a test range).
    """
    rng = random.Random(f"{seed}:population")
    used_bsn: set[str] = set()
    # Staff names are never student names, so a mail naming only colleagues stays a negative.
    used_names: set[str] = {f"{first} {last}" for first, last, *_ in TEACHER_PROFILES}
    used_names |= {s.name for s in COLLEAGUES}
    pop = Population()
    number = 104000
    for cohort in range(first_cohort, last_cohort + 1):
        students: list[Student] = []
        for _ in range(per_cohort):
            boy = rng.random() < 0.5
            while True:
                first = rng.choice(FIRST_NAMES_BOYS if boy else FIRST_NAMES_GIRLS)
                tv, sur = rng.choice(SURNAMES)
                full = f"{first} {tv} {sur}".replace("  ", " ")
                if full not in used_names:
                    used_names.add(full)
                    break
            birth = date(cohort, 1, 1).fromordinal(date(cohort, 1, 1).toordinal() + rng.randrange(365))
            bsn: str | None = None
            onr: str | None = None
            if rng.random() < 0.05:
                onr = make_onderwijsnummer(rng)
            else:
                for _attempt in range(50):
                    candidate = make_bsn(rng) if len(used_bsn) < 800 else _wide_test_bsn(rng)
                    if candidate not in used_bsn:
                        break
                used_bsn.add(candidate)
                bsn = candidate
            address = Address(rng.choice(STREETS), rng.randrange(1, 180), make_postcode(rng), rng.choice(TOWNS))
            parents = []
            for role in ("moeder", "vader")[: 1 + (rng.random() < 0.7)]:
                pfirst = rng.choice(PARENT_FIRST_MOTHERS if role == "moeder" else PARENT_FIRST_FATHERS)
                plast = f"{tv} {sur}" if role == "vader" or rng.random() < 0.5 else " ".join(rng.choice(SURNAMES))
                plast = plast.strip()
                if f"{pfirst} {plast}" in used_names:
                    pfirst = "Nadia" if role == "moeder" else "Kees"
                local = f"{pfirst}.{plast}".lower().replace(" ", "")
                email = f"{_ascii(local)}{rng.randrange(10, 99)}@{rng.choice(MAIL_DOMAINS)}"
                parents.append(Parent(pfirst, plast, email, make_phone(rng), make_iban(rng), role))
            students.append(
                Student(number, first, tv, sur, birth, cohort, bsn, onr, address, tuple(parents), boy)
            )
            number += rng.randrange(1, 9)
        pop.cohorts[cohort] = students
    return pop


def _wide_test_bsn(rng: random.Random) -> str:
    while True:
        first8 = "9999" + f"{rng.randrange(10000):04d}"
        check = _bsn_check_digit(first8)
        if check <= 9:
            return first8 + str(check)


def _ascii(text: str) -> str:
    table = str.maketrans("ëéèïöüäÖÜË'", "eeeiouaOUE-")
    return text.translate(table)


def format_bsn(value: str, style: int) -> str:
    """The forms BSNs take in the wild: 123456782, 1234.56.782, 123 456 782, 123-456-782."""
    if style == 1:
        return f"{value[:4]}.{value[4:6]}.{value[6:]}"
    if style == 2:
        return f"{value[:3]} {value[3:6]} {value[6:]}"
    if style == 3:
        return f"{value[:3]}-{value[3:6]}-{value[6:]}"
    return value


def format_phone(value: str, style: int) -> str:
    if style == 1:
        return f"{value[:2]}-{value[2:]}"
    if style == 2:
        return f"{value[:2]} {value[2:6]} {value[6:]}"
    if style == 3:
        return f"+31 6 {value[2:]}"
    return value
