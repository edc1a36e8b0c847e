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
from detectors.recognizers.base import DutchRecognizer, digit_runs
from detectors.recognizers.bsn import NEGATIVE

RULE = ContextRule(
    positive=("leerlingnummer", "leerlingnummers", "leerlingnr", "leerling nr", "llnr",
              "lln.nr", "lln nr", "lln-nr", "llnnr", "leerling-nummer", "studentnummer",
              "leerlingcode", "leerling id", "leerling-id", "stamnummer"),
    negative=NEGATIVE,
    boost=0.6, penalty=0.2, before=50, after=15,
)


_WHOLE_NUMBER = re.compile(r"\\b\\d\{([1-9]\d*)(?:,([1-9]\d*))?\}\\b")
"""The usual configured pattern, ``\\b\\d{n}\\b`` or ``\\b\\d{m,n}\\b``: its matches are whole
digit runs of so many digits (no \\w before or after; digits are \\w)."""


def run_lengths(pattern: str) -> tuple[int, int] | None:
    """``(shortest, longest)`` digits when ``pattern`` is exactly a whole-number pattern
    (:data:`_WHOLE_NUMBER`), else None."""
    m = _WHOLE_NUMBER.fullmatch(pattern)
    if m is None:
        return None
    shortest = int(m.group(1))
    longest = int(m.group(2)) if m.group(2) is not None else shortest
    return (shortest, longest) if shortest <= longest else None


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
        self.lengths = run_lengths(pattern)
        super().__init__()

    def candidates(self, text: str) -> Iterable[tuple[int, int, float]]:
        lengths = self.lengths
        if lengths is not None:
            # The pattern starts with \b, so a scan tries it at every position; its matches
            # are whole digit runs of the right length, so try it only at those (shared per
            # text). Same matches, in the same order.
            shortest, longest = lengths
            match = self.pattern.match
            for start, end in digit_runs(text):
                if shortest <= end - start <= longest:
                    m = match(text, start)
                    if m is not None:
                        yield m.start(), m.end(), 0.2
            return
        for m in self.pattern.finditer(text):
            if m.end() > m.start():
                yield m.start(), m.end(), 0.2
