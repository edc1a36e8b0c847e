"""Context rules: the needle pre-checks never change what the keyword regexes decide."""

from __future__ import annotations

import random

from detectors.context import ContextRule
from detectors.recognizers import address, birthdate, bsn, phone


def _without_needles(rule: ContextRule) -> ContextRule:
    plain = ContextRule(positive=rule.positive, negative=rule.negative, weak=rule.weak,
                        before=rule.before, after=rule.after, document_cue=rule.document_cue)
    for name in ("_pos_near", "_neg_near", "_weak_near"):
        object.__setattr__(plain, name, None)
    return plain


def test_needle_prechecks_change_no_decision():
    rng = random.Random(5)
    words = ["BSN", "bsn-nummer", "Burger Service-Nummer", "factuur", "KVK", "tel.", "06",
             "geboren", "geb.", "leerling", "adres", "Postcode", "123456782", "ſofinummer",
             "İban", "ıban", "\u212avk", "x", " ", "\n", "-", ",", "BSNx", "xbsn", "Ǆ", "ß"]
    for rule in (bsn.RULE, phone.RULE, address.RULE, birthdate.RULE):
        plain = _without_needles(rule)
        assert rule._pos_near is not None  # the rule under test does use the pre-check
        for _ in range(1500):
            text = " ".join(rng.choice(words) for _ in range(rng.randrange(1, 30)))
            assert rule.in_document(text) == plain.in_document(text), text
            for _ in range(3):
                start = rng.randrange(len(text) + 1)
                end = rng.randrange(start, len(text) + 1)
                assert rule.nearest(text, start, end) == plain.nearest(text, start, end), text
                assert rule.weak_nearby(text, start, end) == plain.weak_nearby(text, start, end)
