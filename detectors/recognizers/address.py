"""NL_ADDRESS: a Dutch postcode with the street line before it and/or the city after it.

The postcode (``1234 AB``; python-stdnum's ``nl.postcode`` decides validity: the letters SA,
SD, SS are never issued) is the anchor, because it is cheap to find and rarely anything else.
With a street and house number before it the address scores 0.85, with only a city after it
0.7, a bare postcode 0.4 (context words "adres", "woont", "postcode" lift it above the
threshold). A street with a house number but no postcode ("Kerkstraat 12") starts at 0.4
and needs the same context.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from stdnum.nl import postcode

from detectors.context import ContextRule
from detectors.entities import NL_ADDRESS
from detectors.recognizers.base import DutchRecognizer, digit_runs

RULE = ContextRule(
    positive=("adres", "adresgegevens", "woonadres", "huisadres", "postadres", "woont",
              "woonachtig", "wonende", "postcode", "woonplaats", "verhuisd", "verhuist",
              "nieuw adres", "straat"),
    boost=0.35, penalty=0.0, before=60, after=20,
)

# leading character before the lookbehind: the regex engine can skip to candidates (base.bounded)
_POSTCODE = re.compile(r"[1-9](?<![\w][1-9])\d{3} ?[A-Z]{2}(?![\w])")
_STREET_BEFORE = re.compile(
    r"(?:^|(?<=[\s,:(]))([A-Z][\w'’.\-]*(?: (?:[A-Z][\w'’.\-]*|[a-z']{1,4})){0,4}"
    r" \d{1,5}(?: ?[a-zA-Z]{1,2}\b| ?- ?\d{1,4}\b)?)[ ,]*\n?[ \t]*$"
)
_CITY_AFTER = re.compile(r"[ ,]{1,3}((?:'s-)?[A-Z][a-zë'\-]+(?: (?:aan|op|a/d|bij|[A-Z][a-zë'\-]+)){0,3})")
_STREET_SUFFIX = (
    r"(?:straat|laan|weg|plein|gracht|kade|singel|dijk|hof|pad|dreef|steeg|park|baan|erf|"
    r"ring|markt|veld|wal|hoven|dreef|zijde|akker|weide|burg|haven|oord|rade|horst)"
)
_STREET_ONLY = re.compile(
    rf"[A-Z](?<![\w][A-Z])[a-zë'\-]*{_STREET_SUFFIX} \d{{1,5}}(?: ?[a-zA-Z]{{1,2}}\b| ?- ?\d{{1,4}}\b)?(?![\w])"
)
_STREET_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzë'-")
"""The characters of ``[a-zë'\\-]`` in :data:`_STREET_ONLY` (between its capital and the number)."""
_NOT_CITY = frozenset({"Tel", "Telefoon", "E", "Email", "Mail", "Nederland", "NL", "Postbus", "De", "Het"})


class DutchAddressRecognizer(DutchRecognizer):
    """Finds addresses anchored on a postcode, and street + number with address context."""

    ENTITY = NL_ADDRESS
    RULE = RULE
    MIN_DIGITS = 1

    def candidates(self, text: str) -> Iterable[tuple[int, int, float]]:
        spans: list[tuple[int, int]] = []
        # a postcode's digits are a whole digit run of exactly 4 (no \w before; a space or a
        # capital after): try _POSTCODE only at those runs (shared per text), not over the text
        match = _POSTCODE.match
        for run_start, run_end in digit_runs(text):
            if run_end - run_start != 4:
                continue
            m = match(text, run_start)
            if m is None or not postcode.is_valid(m.group()):
                continue
            start, end = m.span()
            score = 0.4
            line_start = text.rfind("\n", 0, max(0, start - 1))
            window_start = max(0, line_start - 80) if line_start >= 0 else max(0, start - 120)
            before = text[window_start:start]
            street = _STREET_BEFORE.search(before)
            if street:
                start = window_start + street.start(1)
                score = 0.85
            city = _CITY_AFTER.match(text, end)
            if city and city.group(1).split(" ")[0] not in _NOT_CITY:
                end = city.end(1)
                score = max(score, 0.7)
            spans.append((start, end))
            yield start, end, score
        # _STREET_ONLY's house number is a digit run of at most 5 right after one space, and
        # its start is then fixed: the capital just before the [a-zë'-] characters that end at
        # that space. So it is tried only there (in order, from the last match's end on, as
        # finditer does) instead of at every capital of the text. Same matches.
        street_at = _STREET_ONLY.match
        last = 0
        for run_start, run_end in digit_runs(text):
            if run_end - run_start > 5 or text[run_start - 1:run_start] != " ":
                continue
            first = run_start - 1
            while first > 0 and text[first - 1] in _STREET_CHARS:
                first -= 1
            if first - 1 < last:
                continue
            m = street_at(text, first - 1)
            if m is None:
                continue
            last = m.end()
            if not any(s <= m.start() < e for s, e in spans):
                yield m.start(), m.end(), 0.4
