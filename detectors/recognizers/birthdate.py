"""DATE_OF_BIRTH: a calendar date that context marks as a birth date.

Dates are everywhere in school mail (meetings, deadlines), so a date alone starts at 0.25
and is not reported; "geboren", "geb.", "geboortedatum" within 40 characters before it (or a
column headed "geboortedatum") add 0.6. Numeric (12-03-2012, 12/3/2012, 2012-03-12) and
written (12 maart 2012, 3 mrt. 2012) forms; the date must exist and the year must be plausible
for a living person (1900 up to next year).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date

from detectors.context import ContextRule
from detectors.entities import DATE_OF_BIRTH
from detectors.recognizers.base import DutchRecognizer

RULE = ContextRule(
    positive=("geboren", "geb", "geb.", "geboortedatum", "geboortedag", "geboren op",
              "geb.datum", "geb. datum", "gebdatum", "date of birth", "dob", "birth date",
              "geboorte"),
    negative=("vergadering", "deadline", "afspraak", "datum factuur", "factuurdatum",
              "vervaldatum", "verzonden", "gesprek op", "inleveren"),
    boost=0.6, penalty=0.2, before=40, after=10,
)

MONTHS = {
    "januari": 1, "jan": 1, "februari": 2, "feb": 2, "maart": 3, "mrt": 3, "mar": 3,
    "april": 4, "apr": 4, "mei": 5, "juni": 6, "jun": 6, "juli": 7, "jul": 7,
    "augustus": 8, "aug": 8, "september": 9, "sep": 9, "sept": 9, "oktober": 10, "okt": 10,
    "oct": 10, "november": 11, "nov": 11, "december": 12, "dec": 12,
}
_MONTH_ALT = "|".join(sorted(MONTHS, key=len, reverse=True))
# the first digit comes before the left guard, which looks back over it: a leading character
# class lets the regex engine skip to candidates (see base.bounded); same matches
_NUMERIC = re.compile(r"(\d(?<![\w\-/.]\d)\d?)([\-/.])(\d{1,2})\2((?:19|20)\d{2})(?![\w])(?![\-/.]\d)")
_ISO = re.compile(
    r"([12](?<![\w\-/.][12])(?:(?<=1)9|(?<=2)0)\d{2})-(\d{2})-(\d{2})(?![\w])(?![\-/.]\d)"
)
_WRITTEN = re.compile(
    rf"(\d(?<![\w]\d)\d?)\s(?:{_MONTH_ALT})\.?\s((?:19|20)\d{{2}})(?![\w])", re.IGNORECASE
)
_WRITTEN_MONTH = re.compile(rf"\s({_MONTH_ALT})\.?\s", re.IGNORECASE)


def _plausible(year: int, month: int, day: int) -> bool:
    try:
        value = date(year, month, day)
    except ValueError:
        return False
    return 1900 <= value.year <= date.today().year + 1


class BirthDateRecognizer(DutchRecognizer):
    """Finds dates; context decides whether they are birth dates."""

    ENTITY = DATE_OF_BIRTH
    RULE = RULE
    PREFILTER = re.compile(r"(?:19|20)\d\d")

    def candidates(self, text: str) -> Iterable[tuple[int, int, float]]:
        for m in _NUMERIC.finditer(text):
            if _plausible(int(m.group(4)), int(m.group(3)), int(m.group(1))):
                yield m.start(), m.end(), 0.25
        for m in _ISO.finditer(text):
            if _plausible(int(m.group(1)), int(m.group(2)), int(m.group(3))):
                yield m.start(), m.end(), 0.25
        for m in _WRITTEN.finditer(text):
            month = _WRITTEN_MONTH.search(m.group())
            if month and _plausible(int(m.group(2)), MONTHS[month.group(1).lower()], int(m.group(1))):
                yield m.start(), m.end(), 0.25
