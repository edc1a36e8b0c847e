"""Context rules: the needle pre-checks never change what the keyword regexes decide."""

from __future__ import annotations

import random

from detectors.recognizers import address, birthdate, bsn, phone
from tests.detectors.conftest import whole_window_rule


def test_needle_prechecks_change_no_decision():
    rng = random.Random(5)
    words = ["BSN", "bsn-nummer", "Burger Service-Nummer", "factuur", "KVK", "tel.", "06",
             "geboren", "geb.", "leerling", "adres", "Postcode", "123456782", "ſofinummer",
             "İban", "ıban", "\u212avk", "x", " ", "\n", "-", ",", "BSNx", "xbsn", "Ǆ", "ß"]
    for rule in (bsn.RULE, phone.RULE, address.RULE, birthdate.RULE):
        plain = whole_window_rule(rule)
        assert rule._pos_near is not None  # the rule under test does use the pre-check
        for _ in range(1500):
            text = " ".join(rng.choice(words) for _ in range(rng.randrange(1, 30)))
            assert rule.in_document(text) == plain.in_document(text), text
            for _ in range(3):
                start = rng.randrange(len(text) + 1)
                end = rng.randrange(start, len(text) + 1)
                assert rule.nearest(text, start, end) == plain.nearest(text, start, end), text
                assert rule.weak_nearby(text, start, end) == plain.weak_nearby(text, start, end)
