"""NL_ONDERWIJSNUMMER: the PGN of pupils without a BSN (9 digits, starts with 10, sum = 5 mod 11).

Same scoring design as :mod:`detectors.recognizers.bsn` (see there): a validated candidate
starts at 0.45 and context decides. The check is python-stdnum's ``stdnum.nl.onderwijsnummer``;
it cannot collide with a BSN (that needs weighted sum 0 mod 11).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from stdnum.nl import onderwijsnummer as stdnum_onr

from detectors.context import ContextRule
from detectors.entities import NL_ONDERWIJSNUMMER
from detectors.recognizers.base import (
    DutchRecognizer,
    bounded,
    checked_candidates,
    digit_stretches,
)
from detectors.recognizers.bsn import NEGATIVE, POSITIVE, WEAK

RULE = ContextRule(
    positive=(*POSITIVE, "onderwijsnummer", "onderwijs-nummer", "onderwijsnr",
              "onderwijsnummers", "leerling zonder bsn"),
    negative=NEGATIVE, weak=WEAK, boost=0.45, penalty=0.4, weak_boost=0.15,
    before=60, after=25, document_cue=True,
)

_PATTERNS = (
    (re.compile(bounded(r"10\d{2}\.\d{2}\.\d{3}")), 0.55),
    (re.compile(bounded(r"10\d{7}")), 0.45),
    (re.compile(bounded(r"10\d-\d{3}-\d{3}")), 0.45),
    (re.compile(bounded(r"10\d \d{3} \d{3}(?! \d)")), 0.45),
)
_PREFILTER = re.compile(r"10\d")


def is_onderwijsnummer(value: str) -> bool:
    """True when ``value`` is a valid onderwijsnummer."""
    return bool(stdnum_onr.is_valid(re.sub(r"\D", "", value)))


class OnderwijsnummerRecognizer(DutchRecognizer):
    """Finds onderwijsnummers (PGN for pupils without a BSN)."""

    ENTITY = NL_ONDERWIJSNUMMER
    RULE = RULE
    MIN_DIGITS = 3
    PREFILTER = _PREFILTER

    def candidates(self, text: str) -> Iterable[tuple[int, int, float]]:
        # every notation is 9+ digits, dots, spaces, hyphens from a digit to a digit, so it
        # lies in one of the BSN's windows (shared per text): the patterns scan only those
        return checked_candidates(text, _PATTERNS, is_onderwijsnummer,
                                  windows=digit_stretches(text))
