"""EMAIL_ADDRESS: e-mail addresses, fully offline.

Presidio's EmailRecognizer validates with tldextract, which downloads the public suffix list on
first use (network at run time, and a hang on machines without internet). We only need to
know that the domain ends in a plausible top-level domain, which a regex can say.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from detectors.entities import EMAIL_ADDRESS
from detectors.recognizers.base import DutchRecognizer

_EMAIL = re.compile(
    r"(?<![\w.+\-])[\w!#$%&'*+/=?^`{|}~\-]+(?:\.[\w!#$%&'*+/=?^`{|}~\-]+)*"
    r"@(?:[\w](?:[\w\-]*[\w])?\.)+(?:[a-zA-Z]{2,24}|xn--[\w\-]{2,59})(?![\w\-])"
)


class OfflineEmailRecognizer(DutchRecognizer):
    """Finds e-mail addresses without any lookup."""

    ENTITY = EMAIL_ADDRESS
    RULE = None
    PREFILTER = re.compile("@")

    def candidates(self, text: str) -> Iterable[tuple[int, int, float]]:
        for m in _EMAIL.finditer(text):
            yield m.start(), m.end(), 0.85
