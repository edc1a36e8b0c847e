"""IBAN_CODE: bank account numbers (NL and other SEPA countries), checked with stdnum.iban.

A validated IBAN is a strong signal by itself (mod-97 check), so it starts at 0.8; "IBAN",
"rekening" nearby add 0.15. Spaced notation (``NL91 ABNA 0417 1643 00``) is accepted; when the
greedy match took a trailing group too many, groups are dropped until the check passes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from stdnum import iban as stdnum_iban

from detectors.context import ContextRule
from detectors.entities import IBAN_CODE
from detectors.recognizers.base import DutchRecognizer, digit_runs

RULE = ContextRule(
    positive=("iban", "rekening", "rekeningnummer", "bankrekening", "bank", "rek.nr",
              "rekeningnr", "overmaken", "t.n.v", "ten name van"),
    boost=0.15, penalty=0.0, before=50, after=10,
)

_SHAPE = re.compile(r"(?<![\w])[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?(?![\w])")


def _valid_prefix(candidate: str) -> str | None:
    """The longest prefix of ``candidate`` (whole groups) that is a valid IBAN."""
    text = candidate
    while len(text.replace(" ", "")) >= 15:
        if stdnum_iban.is_valid(text):
            return text
        cut = text.rfind(" ")
        if cut < 0:
            return None
        text = text[:cut]
    return None


class IbanRecognizer(DutchRecognizer):
    """Finds IBANs; the Dutch form is the common one, other SEPA IBANs pass the same check."""

    ENTITY = IBAN_CODE
    RULE = RULE
    MIN_DIGITS = 2

    def candidates(self, text: str) -> Iterable[tuple[int, int, float]]:
        # _SHAPE starts with a lookbehind, so a scan tries it at every position. A match starts
        # two letters before a digit run of 2 or more (its check digits): try it only there
        # (digit runs shared per text), in order, from the end of the last match on, as
        # finditer does. Same matches.
        match = _SHAPE.match
        last = 0
        for start, end in digit_runs(text):
            if end - start < 2 or start - 2 < last:
                continue
            m = match(text, start - 2)
            if m is None:
                continue
            last = m.end()
            valid = _valid_prefix(m.group())
            if valid:
                yield m.start(), m.start() + len(valid), 0.8
