"""PHONE_NUMBER: Dutch phone numbers (06 mobile, landlines, +31/0031), offline.

Presidio's PhoneRecognizer runs libphonenumber's matcher over every text, which is slow and
finds foreign formats we do not need. A Dutch number is 10 digits starting with 0 (second digit
not 0), or +31/0031 followed by 9 digits; that is checked on the digits after a permissive
shape regex. Mobile numbers start at 0.7, landlines at 0.6; "tel", "mobiel", "bel" add 0.25,
"factuur"/"BSN"/"KvK" nearby subtract 0.35.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from detectors.context import ContextRule
from detectors.entities import PHONE_NUMBER
from detectors.recognizers.base import DutchRecognizer, digit_runs

RULE = ContextRule(
    positive=("tel", "tel.", "telefoon", "telefoonnummer", "telnr", "mobiel", "mobiele nummer",
              "gsm", "bel", "bellen", "gebeld", "whatsapp", "nummer", "bereikbaar", "06"),
    negative=("bsn", "burgerservicenummer", "factuur", "factuurnummer", "kvk", "klantnummer",
              "ordernummer", "rekeningnummer", "iban", "onderwijsnummer"),
    boost=0.25, penalty=0.35, before=40, after=10,
)

_AFTER_31 = r"[ .\-]?(?:\(0\)[ .\-]?)?"
_SHAPE = re.compile(
    # +31 / 0031 / (0 / 0, with the first character matched before the left guards look back
    # over it (a leading character class lets the regex engine skip to candidates; see
    # base.bounded): same matches as "(?<![\w+])(?<![A-Z]{4} )(?:(?:\+|00)31..|\(?0)"
    rf"[+0(](?<![\w+][+0(])(?<![A-Z]{{4}} [+0(])(?:(?<=\+)31{_AFTER_31}|(?<=0)031{_AFTER_31}|(?<=\()0|(?<=0))"
    r"\d{1,3}\)?(?:[ .\-]?\d){6,8}(?![\w])(?![.\-]\d)"
)


def national_digits(candidate: str) -> str | None:
    """The 10-digit national form of ``candidate`` or None when it is not a Dutch number."""
    digits = re.sub(r"\D", "", candidate)
    if candidate.lstrip().startswith("+") or digits.startswith("0031"):
        digits = digits[4:] if digits.startswith("0031") else digits[2:]
        if digits.startswith("0"):  # +31 (0)20 ...
            digits = digits[1:]
        digits = "0" + digits
    if len(digits) != 10 or not digits.startswith("0") or digits[1] == "0":
        return None
    return digits


class DutchPhoneRecognizer(DutchRecognizer):
    """Finds Dutch phone numbers in the notations people type."""

    ENTITY = PHONE_NUMBER
    RULE = RULE
    MIN_DIGITS = 2  # "0" or "31" and the next digit (the regex prefilter "\d{2}" it replaces)

    def candidates(self, text: str) -> Iterable[tuple[int, int, float]]:
        for start, end in self._shapes(text):
            national = national_digits(text[start:end])
            if national is None:
                continue
            yield start, end, (0.7 if national.startswith("06") else 0.6)

    @staticmethod
    def _shapes(text: str) -> list[tuple[int, int]]:
        """The spans of ``_SHAPE.finditer(text)``, trying the shape only at its anchors.

        A match starts with ``+`` or ``(`` followed by a digit (``31``, ``0``), so one before
        a digit run's start, or with ``0`` after no word character (the left guard), so at a
        digit run's start (digit runs shared per text). Those places are tried in order, from
        the end of the last match on, as finditer does: the same matches, without the charset
        scan over every ``+``, ``0`` and ``(`` of the text and the guards at each."""
        found: list[tuple[int, int]] = []
        match = _SHAPE.match
        last = 0
        for start, _end in digit_runs(text):
            before = start - 1
            if before >= last and (text[before] == "+" or text[before] == "("):
                m = match(text, before)
                if m is not None:
                    last = m.end()
                    found.append((before, last))
                    continue
            if start >= last and text[start] == "0":
                m = match(text, start)
                if m is not None:
                    last = m.end()
                    found.append((start, last))
        return found
