"""DigitRuns finds its runs with ``\\d\\d*`` (and ``[0-9][0-9]*`` for ASCII texts) instead of
``\\d+``, because only a pattern that starts with a character class gets the regex engine's
prefix scan. The runs must be exactly those of the old definition, kept here verbatim."""

from __future__ import annotations

import re
import sys

from hypothesis import example, given, settings
from hypothesis import strategies as st

from detectors.recognizers.base import DigitRuns


def old_runs(text: str) -> list[tuple[int, int]]:
    # the definition before (DigitRuns.__init__ with _DIGIT_RUN = re.compile(r"\d+"))
    return [m.span() for m in re.finditer(r"\d+", text)]


def old_longest(text: str) -> int:
    return max((end - start for start, end in old_runs(text)), default=0)


# ASCII digits; Unicode decimal digits (Nd) that \d matches: Arabic-Indic, extended
# Arabic-Indic, Devanagari, fullwidth, mathematical (outside the BMP); digit-like characters
# that \d does not match: superscripts, circled, Roman numeral, vulgar fraction, CJK; letters,
# spaces and separators
ALPHABET = [
    *"0123456789", *"\u0660\u0661\u0663\u0669", *"\u06f0\u06f5", *"\u0966\u096f",
    *"\uff10\uff13\uff19", "\U0001d7ce", "\U0001d7ff",
    *"\u00b2\u00b3\u00b9\u2070\u2074", "\u2460", "\u216b", "\u00bd", "\u4e09",
    *"aZé_ß", " ", "\u00a0", "\n", "\t", ".", "-", "+", "/",
]
texts = st.lists(st.sampled_from(ALPHABET), max_size=40).map("".join)
ascii_texts = st.text(alphabet="0123456789 a.-\n", max_size=40)


def _check(text: str) -> None:
    facts = DigitRuns(text)
    assert facts.runs == old_runs(text)
    assert facts.longest == old_longest(text)
    assert facts.stretches is None


@settings(max_examples=3000, deadline=None)
@given(texts)
@example("")
@example("12\u00b2 3")
@example("\u0663\u0664 12\u0661")
@example("7\U0001d7ce9")
@example("0123456789")
def test_digit_runs_are_the_old_runs(text):
    _check(text)


@settings(max_examples=1000, deadline=None)
@given(ascii_texts)
def test_digit_runs_of_ascii_texts_are_the_old_runs(text):
    _check(text)


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=30))
def test_digit_runs_of_any_text_are_the_old_runs(text):
    _check(text)


def test_every_code_point():
    # each code point alone, doubled and next to an ASCII digit: both branches (ASCII and not)
    # see every character \d matches and every one it does not
    chars = [chr(code) for code in range(sys.maxunicode + 1)]
    for text in ("a".join(chars), "".join(c + c + "x" for c in chars), "".join("1" + c for c in chars)):
        _check(text)
    for code in range(128):
        c = chr(code)
        _check(c)
        _check(c + "1" + c + c + "22")
