"""The fast tokenizers give exactly the old regexes' tokens.

``words_of`` (the roster's and the name recognizer's words) and ``word_starts`` replace
``[\\w'’]+(?:-[\\w'’]+)*`` with ``finditer``; the roster's ``_digest_with`` replaces
``_digest``. These tests compare them with the old definitions on generated texts made of the
characters that decide a token's edges: letters and capitals, hyphens (single, double, at
edges), both apostrophes, dots, initials, titles, digits, ``_``, Latin-1 letters, letters
beyond Latin-1 (ş, İ, ı, Greek, CJK), symbols (€, “, •, the no-break space), tabs and line
breaks.
"""

from __future__ import annotations

import re

from hypothesis import example, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from detectors.recognizers.roster import _digest, _digest_with, _keyed
from detectors.termlists import _WIDE_MAX, word_starts, words_of

OLD_WORD = re.compile(r"[\w'’]+(?:-[\w'’]+)*")
"""The roster's ``_TOKEN`` and the name recognizer's word alternative before ``words_of``."""

PIECES = [
    "a", "b", "Z", "Daan", "de", "van der", "Jansen-de Boer", "ib'er", "’s", "'", "’", "-", "--",
    "- ", " -", ".", "J.P.", "dhr.", "Mevr.", "A.", "12", "3", "_", "x_y", "é", "Ö", "ß", "ÿ",
    "ª", "²", "ş", "Ş", "İ", "ı", "ſ", "α", "Ω", "中文", "€", "“", "”", "•", "–", "\xa0",
    "\u2003", " ", "  ", "\t", "\n", "\r\n", ",", "(", ")", "@", "/", "!",
]
TEXTS = st.lists(st.sampled_from(PIECES), max_size=40).map("".join)
MANY_WIDE = "αβγδεζηθικλμνξ"  # more distinct characters beyond Latin-1 than the fast way takes


@hsettings(max_examples=3000, deadline=None)
@given(TEXTS)
@example("Jansen-de Boer-x")
@example("-a--b-c- d'-e ’f’")
@example("Yılmaz’ İlse ş-")
def test_words_of_are_the_regex_words_with_their_starts(text: str) -> None:
    found = list(OLD_WORD.finditer(text))
    words = words_of(text)
    assert words == [m.group() for m in found]
    assert word_starts(text, words, len(words)) == [m.start() for m in found]
    for n in range(len(words)):
        assert word_starts(text, words, n) == [m.start() for m in found[:n]]


@hsettings(max_examples=500, deadline=None)
@given(TEXTS, st.text(alphabet=MANY_WIDE, min_size=_WIDE_MAX + 1, max_size=_WIDE_MAX + 4))
def test_a_text_with_many_wide_characters_runs_the_regex(text: str, wide: str) -> None:
    text = text + " " + wide + "-" + text
    assert words_of(text) == OLD_WORD.findall(text)


@hsettings(max_examples=1000, deadline=None)
@given(st.lists(st.sampled_from(PIECES), min_size=1, max_size=6).map("".join))
@example("Sanne de Vries")
@example("DAAN")
@example("Jansen-de")
def test_digest_with_a_keyed_copy_is_the_digest(token: str) -> None:
    key = b"k" * 32
    assert _digest_with(_keyed(key), token) == _digest(key, token)
