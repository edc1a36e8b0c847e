"""NL_ID_DOCUMENT: Dutch passport and identity card numbers, only with document context.

The document number has 9 characters: two letters, six letters or digits, one digit; the
letter O is never used (it would read as zero). python-stdnum's ``nl.identiteitskaartnummer``
decides what is a valid number; we only add that the six middle characters hold at least one
digit (a word in capitals is not a document number). That shape also fits product codes, so the
base score is 0.25 and "paspoort", "ID-kaart", "identiteitskaart", "documentnummer" nearby
add 0.55. Copies of ID documents should not exist in a school mailbox at all, which is why
this is worth finding even though it is rare.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from stdnum.nl import identiteitskaartnummer

from detectors.context import ContextRule
from detectors.entities import NL_ID_DOCUMENT
from detectors.recognizers.base import DutchRecognizer, digit_runs

RULE = ContextRule(
    positive=("paspoort", "paspoortnummer", "paspoortnr", "id-kaart", "id kaart", "idkaart",
              "identiteitskaart", "identiteitsbewijs", "id-bewijs", "documentnummer",
              "documentnr", "document nr", "legitimatie", "legitimatiebewijs", "nationaliteit",
              "rijbewijs", "identiteitsdocument", "id-nummer", "passport", "identity card"),
    negative=("artikelnummer", "artikel", "bestelnummer", "order", "serienummer", "licentie",
              "product", "code", "wachtwoord", "voucher"),
    boost=0.55, penalty=0.2, before=80, after=20,
)

_SHAPE = re.compile(r"(?<![\w\-])[A-Z]{2}[A-Z0-9]{6}\d(?![\w\-])")


class IdDocumentRecognizer(DutchRecognizer):
    """Finds passport / ID-card numbers near document words."""

    ENTITY = NL_ID_DOCUMENT
    RULE = RULE
    MIN_DIGITS = 1  # the last character is a digit

    def candidates(self, text: str) -> Iterable[tuple[int, int, float]]:
        # A match is 9 characters and ends with a \d that no word character follows (\d is
        # \w), so it ends where a digit run ends (digit runs shared per text) and starts 9
        # before: try _SHAPE only there, in order. Same matches as a finditer scan (two matches
        # cannot overlap: a match starts after a non-word character and holds only word
        # characters), without it. The scan, and the "[A-Z]{2}[A-Z0-9]{6}\d" prefilter before it,
        # ran the matcher at every position of every text: the pattern starts with a lookbehind
        # or a repeat, and the regex engine skips ahead only to a leading character class.
        match = _SHAPE.match
        for _start, end in digit_runs(text):
            if end < 9:
                continue
            m = match(text, end - 9)
            if m is None:
                continue
            number = m.group()
            if any(c.isdigit() for c in number[2:8]) and identiteitskaartnummer.is_valid(number):
                yield m.start(), m.end(), 0.25
