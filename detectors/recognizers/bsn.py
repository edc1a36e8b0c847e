"""NL_BSN: the burgerservicenummer, found by shape, checked by the 11-proef, decided by context.

About 9% of random 9-digit numbers pass the 11-proef, so a passing number is only a
*candidate*. Scoring (threshold 0.5 by default):

* validated 9-digit candidate: base 0.45, just *below* the threshold; the dotted form
  ``1234.56.782`` (the classic sofinummer notation, rarely used for anything else) 0.55;
  an 8-digit number (older BSNs, left-padded with a zero) 0.30, so only a BSN keyword lifts it;
* the nearest keyword within 60 characters before / 25 after decides: ``BSN``,
  ``burgerservicenummer``, ``sofinummer``, ``PGN`` ... +0.45; ``factuurnummer``,
  ``klantnummer``, ``ordernummer``, ``KvK`` ... -0.40;
* else a column header (spreadsheet row context or a header line of a CSV text) does the same;
* else weak cues each add 0.15: student words nearby (leerling, geboortedatum, naam, ...) and a
  BSN keyword anywhere in the text (lists under a heading "BSN-nummers:").

So a bare valid number with no context is not reported (0.45), one with student words or in a
document that talks about BSNs is (0.60), and one labelled as an invoice number never is.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from stdnum.nl import bsn as stdnum_bsn

from detectors.context import ContextRule
from detectors.entities import NL_BSN
from detectors.recognizers.base import (
    DutchRecognizer,
    bounded,
    checked_candidates,
    digit_stretches,
)

POSITIVE = (
    "bsn", "bsn-nummer", "bsn nummer", "bsnnummer", "bsn's", "burgerservicenummer",
    "burgerservicenummers", "burger service nummer", "burgerservice nummer", "sofinummer",
    "sofi-nummer", "sofi nummer", "sofi", "persoonsgebonden nummer", "pgn", "b.s.n",
    "citizen service number", "bsn/pgn", "bsn-nr", "bsn nr",
)
NEGATIVE = (
    "factuur", "factuurnummer", "factuurnr", "factuurnr.", "klantnummer", "klantnr",
    "ordernummer", "ordernr", "order", "bestelnummer", "bestelnr", "bestelling",
    "rekeningnummer", "rekeningnr", "rekening", "kvk", "kvk-nummer", "kvk nummer",
    "btw", "btw-nummer", "btw-id", "rsin", "debiteurnummer", "debiteurnr", "crediteurnummer",
    "artikelnummer", "artikelnr", "polisnummer", "referentie", "referentienummer", "ref",
    "kenmerk", "betalingskenmerk", "transactie", "transactienummer", "iban", "tel",
    "telefoon", "telefoonnummer", "mobiel", "zaaknummer", "relatienummer", "lidnummer",
    "contractnummer", "pasnummer", "ticketnummer", "vestigingsnummer", "offertenummer",
    "projectnummer", "bedrag", "totaal", "ean", "serienummer",
)
WEAK = (
    "leerling", "leerlingen", "geboren", "geboortedatum", "geb", "naam", "achternaam",
    "voornaam", "roepnaam", "ouders", "ouder", "verzorger", "inschrijving",
    "inschrijfformulier", "aanmelding", "aanmeldformulier", "leerlingdossier", "dossier",
    "groep", "klas", "zorgverzekering", "verzekerde", "id", "identificatie",
)

RULE = ContextRule(
    positive=POSITIVE, negative=NEGATIVE, weak=WEAK, boost=0.45, penalty=0.4,
    weak_boost=0.15, before=60, after=25, document_cue=True,
)

_PATTERNS: tuple[tuple[re.Pattern[str], float], ...] = (
    (re.compile(bounded(r"\d{4}\.\d{2}\.\d{3}")), 0.55),
    (re.compile(bounded(r"\d{9}")), 0.45),
    (re.compile(bounded(r"\d{3}-\d{3}-\d{3}")), 0.45),
    (re.compile(bounded(r"\d{3} \d{3} \d{3}(?! \d)")), 0.45),
    (re.compile(bounded(r"\d{8}")), 0.30),
)
_DATE8 = re.compile(
    r"(?:19|20)\d\d(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])"
    r"|(?:0[1-9]|[12]\d|3[01])(?:0[1-9]|1[0-2])(?:19|20)\d\d"
)
_RUNS = re.compile(r"\d[\d. \-]{6,}\d")
"""A maximal run of digits, dots, spaces and hyphens from a digit to a digit, 8 or more long:
every match of every BSN notation (at least 8 characters of these, digits at both ends) lies in
one, so the five patterns scan only these runs (see ``checked_candidates``). The recognizer
gets the same windows from the shared digit runs (``base.digit_stretches``); this pattern is
their definition, which the tests compare them with."""


_NON_DIGIT = re.compile(r"\D")
_WEIGHTS = (9, 8, 7, 6, 5, 4, 3, 2, -1)


def _fails_11_proef(digits: str) -> bool:
    """True when ``digits`` (ASCII, 8 or 9 of them) certainly fail stdnum's 11-proef: the same
    weighted sum, without stdnum's cleaning and checks. About 10 in 11 candidates fail, so
    stdnum (which stays the judge of every other candidate) runs for one in eleven."""
    if not digits.isascii() or not digits.isdigit():
        return False  # let stdnum decide
    padded = digits.zfill(9)
    if len(padded) != 9:
        return False
    return sum(w * (ord(c) - 48) for w, c in zip(_WEIGHTS, padded, strict=True)) % 11 != 0


def is_bsn(value: str) -> bool:
    """True when ``value`` (9 digits, or 8 padded) passes the 11-proef and is no date."""
    digits = _NON_DIGIT.sub("", value)
    if len(digits) == 8 and _DATE8.fullmatch(digits):
        return False
    if len(set(digits)) == 1:
        return False
    if _fails_11_proef(digits):
        return False
    return bool(stdnum_bsn.is_valid(digits))


class BsnRecognizer(DutchRecognizer):
    """Finds burgerservicenummers in all four notations seen in school documents."""

    ENTITY = NL_BSN
    RULE = RULE
    MIN_DIGITS = 3  # every notation has a group of 3 or more digits

    def candidates(self, text: str) -> Iterable[tuple[int, int, float]]:
        return checked_candidates(text, _PATTERNS, is_bsn, windows=digit_stretches(text))
