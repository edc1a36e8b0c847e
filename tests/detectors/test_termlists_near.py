"""Regex terms searched only near their needles find exactly what a whole-text search finds;
ASCII texts split into the same tokens as the token regex.

``TermMatcher.find`` tries a ``re:`` term only at the few positions before each needle that can
start a match (see ``detectors.termlists._Needles``). These tests compare it with plain
``finditer`` over the whole text on generated texts: needles at the start and end, matches
right after each other, needles close enough that their windows overlap, newlines, and the
characters IGNORECASE folds differently from ``str.lower`` (İ, ı, ſ, the Kelvin sign).
"""

from __future__ import annotations

import re

import pytest
from hypothesis import example, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from detectors.termlists import (
    DATA_DIR,
    LEXICON_DIR,
    TOKEN_RE,
    TermMatcher,
    _Tokens,
    read_term_file,
    regex_shape,
)
from detectors.verdict import Cues


def _lexicon_regexes() -> list[str]:
    paths = [DATA_DIR / "student_context.txt", *sorted(LEXICON_DIR.glob("*.txt"))]
    return [t[3:] for path in paths for t in read_term_file(path) if t.startswith("re:")]


STUDENT = [t[3:] for t in read_term_file(DATA_DIR / "student_context.txt") if t.startswith("re:")]

# shapes the lexicons do not have (yet): every way of searching near a needle
EXTRA = [
    r"\bab\b",  # needle is the whole match
    r"aa",  # a needle that overlaps itself: "aaa" holds it twice
    r"aa\b",  # and the second one matches, the first not
    r"b\d?\b",  # a cut string would end in a word boundary the whole text does not have
    r"\d?ab\d?",  # the window before a needle starts inside the last match
    r"a+b",  # matches right after each other, lead 0
    r"(?:xy){2,}q",  # unbounded width, lead 0: tried with match()
    r"\d{1,2}\s?(?:ab|bab)$",  # end of the string inside the reach
    r"\d?ab\Z",
    r"^\s?ab",  # start of the string only
    r"(?m)^ab\s?\d$",  # line starts and ends
    r"(?<=\d)ab",  # lookbehind reads before the window
    r"(?<!b)ab(?!a)",  # and a lookahead: no reach
    r"ab(?=\s\d)",
    r"(a)b\1",  # a backreference
    r"\w{0,5}ab",  # lead 5, bounded: a cut string
    r"[^\n]{0,4}ab[^\n]*",  # lead 4, unbounded: a search to the end
    r"\w*ab",  # no lead at all: whole-text search
    r"(?:ab|b\d{0,3})\s?ab",  # needle inside a branch of unequal widths
    r"(\d\s?ab)+",  # needle inside a repeated group, after a part of the group
    r"\bk(?:a|ab)\b",  # one-letter needle, the Kelvin sign folds to k
    r"is\b",  # ı and ſ match i and s under IGNORECASE
]

PATTERNS = _lexicon_regexes() + EXTRA

FRAGMENTS = [
    "groep", "Groep", "GROEP", "klas", "KLAS", "havo", "HAVO", "vwo", "vmbo", "mavo", "tl", "bb",
    "kb", "gl", "basis", "kader", "gymnasium", "atheneum", "leerjaar", "cijfer", "score",
    "gemiddelde", "kan", "niet", "komen", "naar school", "vandaag", "morgen", "hebben",
    "ab", "aa", "a", "b", "k", "xy", "q", "is", "1", "3", "7", "8", "9", "0", "10", ",5", ".", ":",
    " ", " ", "  ", "\n", "\t", "/", "-", "’", "'", "é", "İ", "ı", "ſ", "\u212a", "ß", "x",
]

texts = st.lists(st.sampled_from(FRAGMENTS), max_size=40).map("".join)


def whole_text(pattern: str, text: str) -> list[tuple[int, int]]:
    return [m.span() for m in re.compile(pattern, re.IGNORECASE).finditer(text) if m.end() > m.start()]


def near(pattern: str, text: str) -> list[tuple[int, int]]:
    matcher = TermMatcher()
    matcher.add("x", "re:" + pattern)
    return [(m.start, m.end) for m in matcher.find(text, remember=False)]


_MATCHERS: dict[str, TermMatcher] = {}


def one(pattern: str) -> TermMatcher:
    if pattern not in _MATCHERS:
        _MATCHERS[pattern] = TermMatcher()
        _MATCHERS[pattern].add("x", "re:" + pattern)
    return _MATCHERS[pattern]


def test_shapes_of_the_student_patterns() -> None:
    assert regex_shape(r"\bgroep\s?[1-8](?:\s?[/-]\s?[1-8])?[abc]?\b") == (frozenset({"groep"}), 0, 14)
    assert regex_shape(r"\b[1-6]\s?(?:havo|vwo)\b") == (frozenset({"havo", "vwo"}), 2, 8)
    assert regex_shape(r"(?:xy){2,}q") == (frozenset({"xy"}), 0, None)
    assert regex_shape(r"ab(?=c)") == (frozenset({"ab"}), 0, None)  # a lookahead reads further
    assert regex_shape(r"\w*ab") == (frozenset({"ab"}), None, None)
    assert regex_shape(r"(?:ab|b\d{0,3})\s?ab") == (frozenset({"ab", "b"}), 0, 9)
    assert regex_shape(r"x?(\d\s?ab)+") == (frozenset({"ab"}), 3, None)
    assert regex_shape(r"[0-9]+") is None


def test_edges() -> None:
    cases = [
        (r"\bgroep\s?[1-8](?:\s?[/-]\s?[1-8])?[abc]?\b", "groep 7"),
        (r"\bgroep\s?[1-8](?:\s?[/-]\s?[1-8])?[abc]?\b", "groep7groep 8 groep 3/4b\ngroep 1-2"),
        (r"\bgroep\s?[1-8](?:\s?[/-]\s?[1-8])?[abc]?\b", "xgroep 7 groep 9 GROEP 5a."),
        (r"\b[1-6]\s?(?:havo|vwo|vmbo|mavo|gymnasium|atheneum|kader|basis|tl|gl|bb|kb)\b",
         "4 havo5vwo 3vwo 2 bb hebben 1tl"),
        (r"\b(?:havo|vwo|vmbo|mavo)[- ]?[1-6]\b", "havo-4havo 5 VWO6"),
        (r"\bklas\s?[1-6]\s?[a-z]{0,2}\d?\b", "klas 3b klas3 klas 4ab1 \u212alas 2 KLAS 6"),
        (r"\bklas\s?[1-6]\s?[a-z]{0,2}\d?\b", "İ klas 3 ſ"),  # whole-text rule for İ/ſ
        (r"is\b", "ıs ſ İS is"),
        (r"aa", "aaaaa"),
        (r"aa\b", "aaa"),
        (r"b\d?\b", "bxxbx"),
        (r"\bklas\s?[1-6]\s?[a-z]{0,2}\d?\b", "klas klas 3basis"),
        (r"\d?ab\d?", "1ab2ab"),
        (r"\d{1,2}\s?(?:ab|bab)$", "12 ab\n"),
        (r"\d{1,2}\s?(?:ab|bab)$", "12 ab\nx"),
        (r"\d?ab\Z", "1ab"),
        (r"^\s?ab", " ab ab"),
        (r"(?<=\d)ab", "1ab2abab"),
        (r"\w{0,5}ab", "xxxxxxxxab"),
        (r"[^\n]{0,4}ab[^\n]*", "ab\nxxab ab\n"),
    ]
    for pattern, text in cases:
        assert near(pattern, text) == whole_text(pattern, text), (pattern, text)


@pytest.mark.parametrize("pattern", PATTERNS)
@hsettings(max_examples=150, deadline=None)
@given(text=texts)
@example(text="abab" * 3)
@example(text="ab")
def test_near_needles_equals_whole_text(pattern: str, text: str) -> None:
    found = [(m.start, m.end) for m in one(pattern).find(text, remember=False)]
    assert found == whole_text(pattern, text)


@hsettings(max_examples=300, deadline=None)
@given(text=texts)
@example(text="Beste ouders van Sanne, zij zit in groep 7 (4 havo) en klas 3b.")
def test_student_words_equal_whole_text_regexes(text: str) -> None:
    """The verdict's student words, token terms and all: the same as with every regex run over
    the whole text (a matcher whose regexes have no needles)."""
    student = Cues().student
    plain = TermMatcher()
    plain.add_many("leerling", read_term_file(DATA_DIR / "student_context.txt"))
    plain._regexes = [(p, None, label, term) for p, _, label, term in plain._regexes]
    assert student.find(text, remember=False) == plain.find(text, remember=False)


ascii_texts = st.text(alphabet=st.characters(max_codepoint=127), max_size=60)
mixed_texts = st.text(alphabet=st.sampled_from("ab Z_09'’-.,\n\t\x0b\x1c\x1f\x7fé İıſ\u00a0\u2028ß"), max_size=60)
# non-ASCII texts without apostrophes (non-ASCII letters, digits such as ² and ٣, non-ASCII
# spaces and punctuation)
unicode_texts = st.text(alphabet=st.sampled_from("ab Z_09-.,\n\té İıſ\u00a0\u2028ß²٣€•“”‘ǅ\u0301"),
                        max_size=60)


@hsettings(max_examples=300, deadline=None)
@given(text=st.one_of(ascii_texts, mixed_texts, unicode_texts, st.text(max_size=30), texts))
@example(text="")
@example(text="  a  ")
@example(text="IB'er, z’n auto's")
@example(text="x\x1cy\x0bz_1")
@example(text="Één café, 2² € • “ok” İstanbul")
def test_tokens_and_spans_are_the_token_regex(text: str) -> None:
    """The split of ASCII texts gives TOKEN_RE's words and spans (and other texts use it)."""
    tokens = _Tokens(text)
    assert tokens.words == TOKEN_RE.findall(tokens.low)
    assert [tokens.span(i) for i in range(len(tokens.words))] == [
        m.span() for m in TOKEN_RE.finditer(tokens.low)]
