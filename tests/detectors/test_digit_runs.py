"""The number recognizers that look only at the shared digit runs (base.digit_runs) find exactly
what their patterns find in a scan of the whole text (the definitions they replaced, kept here
as the reference): same candidates, same order, same scores."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable

from hypothesis import example, given, settings
from hypothesis import strategies as st

from detectors.recognizers import (
    BirthDateRecognizer,
    BsnRecognizer,
    DutchAddressRecognizer,
    DutchPhoneRecognizer,
    IbanRecognizer,
    IdDocumentRecognizer,
    OnderwijsnummerRecognizer,
    StudentNumberRecognizer,
    address,
    birthdate,
    bsn,
    iban,
    id_document,
    onderwijsnummer,
    phone,
)
from detectors.recognizers.base import (
    DutchRecognizer,
    Result,
    checked_candidates,
    digit_runs,
    digit_stretches,
    number_runs,
)
from detectors.recognizers.roster import _NUMBER, Roster, RosterNumberRecognizer
from detectors.recognizers.student_number import run_lengths
from detectors.settings import RosterSettings
from scanner.core.privacy import ValueHasher

# pieces that make candidates of every number recognizer when run together, and break them
# (digits, separators, letters, Unicode digits that \d matches and one it does not, line breaks)
PIECES = [
    *"0123456789", " ", " ", ".", "-", "/", "+", "(", ")", "\n", "\t", ",", "a", "k", "A", "B",
    "N", "L", "Z", "_", "é", "@",
    "\u0663", "\u0661\u0662\u0663", "\uff13", "\uff11\uff12\uff13\uff14", "\u00b2",
    "19", "20", "10", "31", "06", "0031", "+31", "(0)", "12", "2012", "1999",
    "123456782", "1234.56.782", "123 456 782", "123-456-782", "12345674", "101234567",
    "1012.34.567", "123456", "1234567", "1234", "1234 AB", "1234AB", "3062 SA",
    "12-03-2012", "3/4/1999", "12.03.2012", "2012-03-12", "1999-02-30", " maart ", " MRT. ",
    " mrt ", "jan", "NL91ABNA0417164300", "NL91 ABNA 0417 1643 00", "NL", "ABNA", "GB82",
    "06-12345678", "+31 6 1234 5678", "020-1234567", "(020) 123 4567",
    "Kerkstraat ", "Dorpsweg", "Laan ", " Utrecht", "12a", "12-3", "Zoë-laan ", "ëweg ",
]
texts = st.lists(st.sampled_from(PIECES), max_size=24).map("".join)


def spans(results: Iterable[Result]) -> list[tuple[object, ...]]:
    return [(r.entity, r.start, r.end, r.score) for r in results]


def whole_text(recognizer: DutchRecognizer, prefilter: str | None,
               candidates: Iterable[tuple[int, int, float]], text: str) -> list[tuple[object, ...]]:
    if prefilter is not None and re.search(prefilter, text) is None:
        return []
    return [(recognizer.ENTITY, s, e, b) for s, e, b in candidates]


# ---- the definitions before the shared digit runs (whole-text scans), as the reference ----

def old_bsn(text: str) -> list[tuple[int, int, float]]:
    return list(checked_candidates(text, bsn._PATTERNS, bsn.is_bsn, number_runs(bsn._RUNS, text)))


def old_onr(text: str) -> list[tuple[int, int, float]]:
    return list(checked_candidates(text, onderwijsnummer._PATTERNS,
                                   onderwijsnummer.is_onderwijsnummer))


def old_iban(text: str) -> list[tuple[int, int, float]]:
    found = []
    for m in iban._SHAPE.finditer(text):
        valid = iban._valid_prefix(m.group())
        if valid:
            found.append((m.start(), m.start() + len(valid), 0.8))
    return found


def old_address(text: str) -> list[tuple[int, int, float]]:
    from stdnum.nl import postcode

    found: list[tuple[int, int, float]] = []
    spans_: list[tuple[int, int]] = []
    for m in address._POSTCODE.finditer(text):
        if not postcode.is_valid(m.group()):
            continue
        start, end = m.span()
        score = 0.4
        line_start = text.rfind("\n", 0, max(0, start - 1))
        window_start = max(0, line_start - 80) if line_start >= 0 else max(0, start - 120)
        street = address._STREET_BEFORE.search(text[window_start:start])
        if street:
            start = window_start + street.start(1)
            score = 0.85
        city = address._CITY_AFTER.match(text, end)
        if city and city.group(1).split(" ")[0] not in address._NOT_CITY:
            end = city.end(1)
            score = max(score, 0.7)
        spans_.append((start, end))
        found.append((start, end, score))
    for m in address._STREET_ONLY.finditer(text):
        if not any(s <= m.start() < e for s, e in spans_):
            found.append((m.start(), m.end(), 0.4))
    return found


def old_birthdate(text: str) -> list[tuple[int, int, float]]:
    found = []
    plausible = birthdate._plausible
    for m in birthdate._NUMERIC.finditer(text):
        if plausible(int(m.group(4)), int(m.group(3)), int(m.group(1))):
            found.append((m.start(), m.end(), 0.25))
    for m in birthdate._ISO.finditer(text):
        if plausible(int(m.group(1)), int(m.group(2)), int(m.group(3))):
            found.append((m.start(), m.end(), 0.25))
    for m in birthdate._WRITTEN.finditer(text):
        month = birthdate._WRITTEN_MONTH.search(m.group())
        if month and plausible(int(m.group(2)), birthdate.MONTHS[month.group(1).lower()],
                               int(m.group(1))):
            found.append((m.start(), m.end(), 0.25))
    return found


def old_phone(text: str) -> list[tuple[int, int, float]]:
    found = []
    for m in phone._SHAPE.finditer(text):
        national = phone.national_digits(m.group())
        if national is not None:
            found.append((m.start(), m.end(), 0.7 if national.startswith("06") else 0.6))
    return found


def old_id(text: str) -> list[tuple[int, int, float]]:
    # IdDocumentRecognizer.candidates before the digit runs (behind its prefilter
    # "[A-Z]{2}[A-Z0-9]{6}\d", see OLD)
    found = []
    for m in id_document._SHAPE.finditer(text):
        number = m.group()
        if any(c.isdigit() for c in number[2:8]) and id_document.identiteitskaartnummer.is_valid(
                number):
            found.append((m.start(), m.end(), 0.25))
    return found


HASHER = ValueHasher(b"k" * 32)
ROSTER_NUMBERS = ("123", "1234", "123456", "1234567", "123456782", "101234567", "12345678901",
                  "1234\u0661")


def _roster() -> Roster:
    import tempfile
    from pathlib import Path

    path = Path(tempfile.mkdtemp()) / "roster.csv"
    rows = "".join(f"{n};Sanne{i};;Vries\n" for i, n in enumerate(ROSTER_NUMBERS))
    path.write_text("leerlingnummer;roepnaam;tussenvoegsel;achternaam\n" + rows, encoding="utf-8")
    return Roster.load(RosterSettings(path=path), HASHER)


ROSTER = _roster()
RECOGNIZERS = {
    "bsn": BsnRecognizer(), "onr": OnderwijsnummerRecognizer(), "iban": IbanRecognizer(),
    "address": DutchAddressRecognizer(), "birthdate": BirthDateRecognizer(),
    "phone": DutchPhoneRecognizer(), "id": IdDocumentRecognizer(), "roster": RosterNumberRecognizer(ROSTER, HASHER),
    "student6": StudentNumberRecognizer(r"\b\d{6}\b"),
    "student5-7": StudentNumberRecognizer(r"\b\d{5,7}\b"),
}


def old_roster(text: str) -> list[tuple[int, int, float]]:
    rec = RECOGNIZERS["roster"]
    assert isinstance(rec, RosterNumberRecognizer)
    return [(m.start(), m.end(), 0.3) for m in _NUMBER.finditer(text)
            if len(m.group()) in ROSTER.number_lengths
            and HASHER.hash(rec.ENTITY, m.group()) in ROSTER.number_hashes]


def old_student(pattern: str, text: str) -> list[tuple[int, int, float]]:
    return [(m.start(), m.end(), 0.2) for m in re.finditer(pattern, text) if m.end() > m.start()]


OLD = {
    "bsn": (r"\d{3}", old_bsn), "onr": (r"10\d", old_onr), "iban": (r"[A-Z]{2}\d\d", old_iban),
    "address": (r"\d", old_address), "birthdate": (r"(?:19|20)\d\d", old_birthdate),
    "phone": (r"\d{2}", old_phone), "id": (r"[A-Z]{2}[A-Z0-9]{6}\d", old_id), "roster": (r"\d{3}", old_roster),
    "student6": (None, lambda t: old_student(r"\b\d{6}\b", t)),
    "student5-7": (None, lambda t: old_student(r"\b\d{5,7}\b", t)),
}
EXAMPLES = [
    "NL91ABNA0417164300 en NL91 ABNA 0417 1643 00", "Kerkstraat 12\n1234 AB Utrecht",
    "3 mrt. 2012, 12-03-2012 en 2012-03-12", "BSN 123456782 / 1234.56.782", "1012.34.567",
    "tel 06-12345678 of +31 6 1234 5678", "llnr 123456, 1234567 en \u0661\u0662\u0663456",
    "Kerkstraat 12345, Kerkstraat 123456 b", "Hoofdweg 12 A-weg 5", "Dorpsstraat 7 - 9a",
    "", "\uff11\uff12\uff13\uff14\uff15\uff16", "a123456", "123456_", "1.2.3.4.5.6.7.8",
    "SPECI2014", "paspoort IR7K2LP44, EM0000000-XR1001R58", "AB12CD345\u0663", "-NPEK1J471",
    "IR6ZZZZZ0 XR1001R5\uff18", "EM00000001", "ABC123456 OO1234567 ABCDEFGH1",
]


def _check(text: str) -> None:
    for name, rec in RECOGNIZERS.items():
        prefilter, old = OLD[name]
        got = spans(rec.raw(text))
        want = whole_text(rec, prefilter, old(text), text)
        assert got == want, (name, text)


@settings(max_examples=3000, deadline=None)
@given(texts)
def test_digit_run_scans_find_what_whole_text_scans_find(text):
    _check(text)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=40))
def test_digit_run_scans_on_any_characters(text):
    _check(text)


def test_digit_run_scans_examples():
    for text in EXAMPLES:
        _check(text)
        _check(text + text)


@settings(max_examples=2000, deadline=None)
@given(texts)
@example("1 2 3 4")
@example("1 2 3 4 5")
@example("1-2.3 4\u0663 5")
def test_digit_stretches_are_the_bsn_runs(text):
    assert digit_stretches(text) == number_runs(bsn._RUNS, text)
    assert digit_runs(text) == [m.span() for m in re.finditer(r"\d+", text)]


def test_str_isdecimal_is_the_regex_digit():
    # \d for str patterns is "Unicode decimal digit"; the runs are found with \d itself, but the
    # recognizers' reasoning ("digits are \w") relies on this: every \d is \w
    for code in range(sys.maxunicode + 1):
        c = chr(code)
        if re.match(r"\d", c):
            assert c.isdecimal() and re.match(r"\w", c), hex(code)
        else:
            assert not c.isdecimal(), hex(code)


def test_whole_number_student_patterns():
    assert run_lengths(r"\b\d{6}\b") == (6, 6)
    assert run_lengths(r"\b\d{5,7}\b") == (5, 7)
    for other in (r"\d{6}", r"\b\d{6}\b|x", r"\b\d{0,3}\b", r"\b\d{6,}\b", r"\b\d{7,5}\b",
                  r"(?a)\b\d{6}\b", r"\b\d{06}\b"):
        assert run_lengths(other) is None, other


# pieces of ID document numbers (valid ones, and ones that break at either end or in the middle)
ID_PIECES = [
    "SPECI2014", "IR7K2LP44", "EM0000000", "XR1001R58", "AB12CD345", "NPEK1J471", "IR6ZZZZZ0",
    "EM", "XR", "IR7K", "2LP44", "0000000", "1001R58", "R58", "1", "12", "9", "O", "A", "z",
    "\u0663", "\uff18", "_", "-", " ", ".", "\n", "é",
]
id_texts = st.lists(st.sampled_from(ID_PIECES), max_size=16).map("".join)


@settings(max_examples=3000, deadline=None)
@given(id_texts)
def test_id_documents_at_digit_runs_are_the_whole_text_scan(text):
    rec = RECOGNIZERS["id"]
    prefilter, old = OLD["id"]
    assert spans(rec.raw(text)) == whole_text(rec, prefilter, old(text), text)
