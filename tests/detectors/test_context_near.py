"""Context rules: keyword regexes tried only at their needles (``_Near``) find what the plain
whole-window regex search finds, for every rule of the recognizers."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from detectors.context import ContextRule, _Lowered, _Near, keyword_regex
from detectors.recognizers import (
    address,
    birthdate,
    bsn,
    iban,
    id_document,
    onderwijsnummer,
    phone,
    student_number,
)
from detectors.recognizers.roster import PUPIL_CONTEXT, RosterNumberRecognizer
from tests.detectors.conftest import whole_window_rule

RULES: list[ContextRule] = [
    address.RULE, birthdate.RULE, bsn.RULE, iban.RULE, id_document.RULE, onderwijsnummer.RULE,
    phone.RULE, student_number.RULE, PUPIL_CONTEXT, RosterNumberRecognizer.RULE,
    # multiword keywords (spaces become [\s\-]*) that overlap and share words
    ContextRule(positive=("x y", "y z", "te laat", "laat", "a.a"), negative=("y", "z x", "ten name van"),
                weak=("name", "van de"), before=12, after=7, document_cue=True),
]

_FILLER = [" ", "  ", "\n", "\t", "-", "--", " - ", ".", ",", ":", "/", "x", "y", "z", "a", "1",
           "123456782", "é", "İ", "ı", "ſ", "\u212a", "ß", "_", "'"]


def _pieces(rule: ContextRule) -> list[str]:
    words: list[str] = []
    for word in (*rule.positive, *rule.negative, *rule.weak):
        words += [word, word.upper(), word.title(), word.replace(" ", "-"), word.replace(" ", " \n-"),
                  word.replace(" ", ""), word[:-1], word + "s"]
    return words + _FILLER


@st.composite
def _case(draw: st.DrawFn) -> tuple[ContextRule, str, int, int]:
    rule = draw(st.sampled_from(RULES))
    # adjacent pieces (no separator) as often as separated ones: keywords inside longer words
    text = "".join(draw(st.lists(st.sampled_from(_pieces(rule)), max_size=24)))
    start = draw(st.integers(0, len(text)))
    end = draw(st.integers(start, len(text)))
    return rule, text, start, end


def _patterns(rule: ContextRule) -> list[tuple[re.Pattern[str], _Near]]:
    pairs = [(rule._pos, rule._pos_near), (rule._neg, rule._neg_near),
             (rule._weak, rule._weak_near)]
    return [(p, n) for p, n in pairs if p is not None and n is not None]


def test_every_keyword_regex_has_needles_and_lead_zero():
    for rule in RULES:
        for pattern, near in _patterns(rule):
            assert near.lead == 0, pattern.pattern
        assert rule._pos_near is not None
        assert (rule._neg is None) == (rule._neg_near is None)
        assert (rule._weak is None) == (rule._weak_near is None)


@settings(max_examples=1500, deadline=None)
@given(_case())
def test_near_search_equals_regex_search(case: tuple[ContextRule, str, int, int]) -> None:
    rule, text, lo, hi = case
    low, plain = _Lowered.get(text)
    if not plain:
        return  # İ/ı/ſ: the rule runs the regex itself (next test)
    for pattern, near in _patterns(rule):
        m = near.first(text, low, lo, hi)
        want = pattern.search(text, lo, hi)
        assert (m and m.span()) == (want and want.span()), (pattern.pattern, text, lo, hi)
        ends = [w.end() for w in pattern.finditer(text, lo, hi)]
        assert near.last_end(text, low, lo, hi) == (ends[-1] if ends else -1), (text, lo, hi)
        # windows that start or end exactly at a match's edges, or one character off
        for w in pattern.finditer(text):
            for a in (w.start() - 1, w.start(), w.start() + 1, w.end() - 1, w.end()):
                for b in (w.end() - 1, w.end(), w.end() + 1, len(text)):
                    if 0 <= a <= b <= len(text):
                        got = near.first(text, low, a, b)
                        exp = pattern.search(text, a, b)
                        assert (got and got.span()) == (exp and exp.span()), (text, a, b)
                        tail = [x.end() for x in pattern.finditer(text, a, b)]
                        assert near.last_end(text, low, a, b) == (tail[-1] if tail else -1)


@settings(max_examples=1500, deadline=None)
@given(_case())
def test_rule_decisions_equal_whole_window_regex(case: tuple[ContextRule, str, int, int]) -> None:
    rule, text, start, end = case
    plain = whole_window_rule(rule)
    assert rule.nearest(text, start, end) == plain.nearest(text, start, end), text
    assert rule.weak_nearby(text, start, end) == plain.weak_nearby(text, start, end), text
    assert rule.in_document(text) == plain.in_document(text), text
    # a second text between two calls on the first: the positions are kept per text
    other = text[::-1]
    assert rule.nearest(other, 0, 0) == plain.nearest(other, 0, 0)
    assert rule.nearest(text, start, end) == plain.nearest(text, start, end), text


def test_keyword_regex_spaces_match_hyphens_and_newlines():
    pattern = keyword_regex(["te laat"])
    assert pattern is not None
    near = _Near.of(pattern)
    assert near is not None and near.needles == ("te",)
    for text in ("is te-laat.", "is te \n- laat", "is TE LAAT", "is telaat"):
        low, plain = _Lowered.get(text)
        assert plain
        got = near.first(text, low, 0, len(text))
        want = pattern.search(text)
        assert want is not None and got is not None and got.span() == want.span()
    assert near.first("xte laat", "xte laat", 0, 8) is None


def test_every_window_of_overlapping_keywords():
    """Matches that overlap (the chain of finditer skips the second) and a needle that overlaps
    itself ("a.a" in "a.a.a"), in every window of short texts."""
    rule = RULES[-1]
    for text in ("x y z", "x y z x y", "a.a.a", "a.a.a.a x", "te laat laat", "y z x y z",
                 "ten name van de", "x-y z", "a.aa.a"):
        low, plain = _Lowered.get(text)
        assert plain
        for pattern, near in _patterns(rule):
            for a in range(len(text) + 1):
                for b in range(a, len(text) + 1):
                    got = near.first(text, low, a, b)
                    exp = pattern.search(text, a, b)
                    assert (got and got.span()) == (exp and exp.span()), (text, a, b)
                    ends = [w.end() for w in pattern.finditer(text, a, b)]
                    assert near.last_end(text, low, a, b) == (ends[-1] if ends else -1), (text, a, b)
