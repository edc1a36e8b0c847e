"""NL_LEERLINGNUMMER: the school's own student number, from a configured regular expression.

Student numbers are short digit runs (5-7 digits at most schools) that look like anything, so
a match scores only 0.2 and needs "leerlingnummer", "llnr" or a column header saying so
(+0.6). The pattern comes from ``DetectionSettings.student_number_pattern``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from detectors.context import ContextRule
from detectors.entities import NL_LEERLINGNUMMER
from detectors.recognizers.base import DutchRecognizer
from detectors.recognizers.bsn import NEGATIVE

RULE = ContextRule(
    positive=("leerlingnummer", "leerlingnummers", "leerlingnr", "leerling nr", "llnr",
              "lln.nr", "lln nr", "lln-nr", "llnnr", "leerling-nummer", "studentnummer",
              "leerlingcode", "leerling id", "leerling-id", "stamnummer"),
    negative=NEGATIVE,
    boost=0.6, penalty=0.2, before=50, after=15,
)


def compile_student_pattern(pattern: str) -> re.Pattern[str]:
    """Compile the configured pattern or raise ValueError with a Dutch-first message."""
    try:
        compiled = re.compile(pattern)
    except re.error as exc:
        raise ValueError(
            f"student_number_pattern is geen geldige reguliere expressie ({exc.msg}) / "
            f"student_number_pattern is not a valid regular expression"
        ) from None
    if compiled.search("") is not None:
        raise ValueError(
            "student_number_pattern mag geen lege tekst matchen / "
            "student_number_pattern must not match empty text"
        )
    return compiled


class StudentNumberRecognizer(DutchRecognizer):
    """Finds the school's student numbers next to a student-number label."""

    ENTITY = NL_LEERLINGNUMMER
    RULE = RULE

    def __init__(self, pattern: str) -> None:
        self.pattern = compile_student_pattern(pattern)
        super().__init__()

    def candidates(self, text: str) -> Iterable[tuple[int, int, float]]:
        for m in self.pattern.finditer(text):
            if m.end() > m.start():
                yield m.start(), m.end(), 0.2
