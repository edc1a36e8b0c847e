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
from detectors.recognizers.base import DutchRecognizer, digit_runs

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


def _matches(pattern: re.Pattern[str], text: str, runs: list[tuple[int, int]],
             shortest: int, longest: int) -> list[re.Match[str]]:
    """What ``pattern.finditer(text)`` yields, for a pattern whose matches start only at the
    start of a digit run of ``shortest`` to ``longest`` digits."""
    found: list[re.Match[str]] = []
    match = pattern.match
    last = 0
    for start, end in runs:
        if start < last or not shortest <= end - start <= longest:
            continue
        m = match(text, start)
        if m is not None:
            found.append(m)
            last = m.end()
    return found


class BirthDateRecognizer(DutchRecognizer):
    """Finds dates; context decides whether they are birth dates."""

    ENTITY = DATE_OF_BIRTH
    RULE = RULE
    MIN_DIGITS = 4  # the year
    PREFILTER = re.compile(r"(?:19|20)\d\d")

    def candidates(self, text: str) -> Iterable[tuple[int, int, float]]:
        # Each pattern starts at the start of a digit run (its left guard rejects \w before
        # the first digit, and digits are \w): the day of a numeric or written date is a run
        # of 1-2 digits, the year of an ISO date one of exactly 4. So each pattern is tried
        # only at such runs (shared per text), in order and from the end of its last match on
        # as finditer does, instead of scanning the text three times. Same matches.
        runs = digit_runs(text)
        for m in _matches(_NUMERIC, text, runs, 1, 2):
            if _plausible(int(m.group(4)), int(m.group(3)), int(m.group(1))):
                yield m.start(), m.end(), 0.25
        for m in _matches(_ISO, text, runs, 4, 4):
            if _plausible(int(m.group(1)), int(m.group(2)), int(m.group(3))):
                yield m.start(), m.end(), 0.25
        for m in _matches(_WRITTEN, text, runs, 1, 2):
            month = _WRITTEN_MONTH.search(m.group())
            if month and _plausible(int(m.group(2)), MONTHS[month.group(1).lower()], int(m.group(1))):
                yield m.start(), m.end(), 0.25
