"""The name recognizer's tokens without a regex match per piece are exactly the old ones.

``names._Tokens`` used to cut a text with one ``_PIECE.findall`` (a token of ``_WORD`` and the
whitespace after it). It now takes the pieces from ``termlists.words_of``'s words and the single
non-space characters between them, and runs ``_WORD`` only at the words where one of its special
alternatives can start ("Jansen-de Boer", "dhr.", "J.P."). These tests compare every field of the
new ``_Tokens`` (and what its methods answer) with the old definition, copied here verbatim, on
generated texts made of the characters that decide a token's edges.
"""

from __future__ import annotations

import itertools
import re

from hypothesis import example, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from detectors.recognizers.names import (
    _CLOSING,
    _WORD,
    NameLexiconRecognizer,
    _PieceInfo,
    _same_line_gap,
    _Tokens,
)

# -- the old definition, verbatim (names.py at 23a03ad) ----------------------------------------
_PIECE = re.compile(rf"(?:{_WORD.pattern})\s*")
"""A token with the whitespace after it. Every character of a text is whitespace or part of a
token (``\\S`` is the last alternative), so the pieces' lengths give the tokens' offsets."""


class OldTokens:
    __slots__ = ("text", "pieces", "starts", "n", "lead_same", "cache", "_closings")

    def __init__(self, text: str, cache: _PieceInfo) -> None:
        # trailing whitespace holds no token; leaving it out keeps the last piece's gap empty
        # (same tokens: a token never ends in or looks past whitespace)
        pieces = _PIECE.findall(text, 0, len(text.rstrip()))
        lead = len(text) - len(text.lstrip()) if pieces else 0
        self.pieces: list[str] = pieces
        self.starts = list(itertools.accumulate(map(len, pieces), initial=lead))
        self.n = len(pieces)
        self.lead_same = _same_line_gap(text[:lead])
        self.cache = cache
        self.text = text
        self._closings: list[int] | None = None

    def closings(self) -> list[int]:
        if self._closings is None:
            self._closings = [m.end() for m in _CLOSING.finditer(self.text)]
        return self._closings


# -- generated texts ----------------------------------------------------------------------------
PIECES = [
    # words, capitals, hyphenated names and the tussenvoegsels _WORD's first alternative takes
    "a", "x", "Z", "Daan", "Jansen", "Boer", "Smit", "de", "van der", "ter", "el", "Jansen-de Boer",
    "Jansen-van der Berg", "Boer-Smit", "Noord-Holland", "e-mail", "-de ", "-van den ", "Łukasz",
    "Şahin", "Yılmaz", "Élodie", "Ÿ", "Ö", "ÿ", "é", "ß",
    # titles, initials, dots
    "dhr", "Dhr", "DHR", "mevr", "Mevr", "mw", "mnr", "mr", "dr", "drs", "Drs", "prof", "fam", "ir",
    "ing", "İr", "ır", "dſ", "drſ", "J", "P", "J.", "P.", "J.P.", "A.B.C.D.E.", ".", "..", "x.",
    # hyphens, apostrophes, digits, _, word characters beyond Latin-1
    "-", "--", "'", "’", "'s", "’t", "12", "3", "_", "ş", "İ", "ı", "ſ", "α", "Ω", "中文",
    # signs, brackets, quotes
    "@", "€", "“", "”", "•", "–", ",", "(", ")", "/", "!", "?", ":", ">", "*", "×", "÷",
    # whitespace of every kind
    " ", "  ", "   ", "\t", "\n", "\r\n", " \n ", "\xa0", "\u2003", "\x1c", "\x85", "\u2028",
]
TEXTS = st.lists(st.sampled_from(PIECES), max_size=40).map("".join)
MANY_WIDE = "αβγδεζηθικλμνξ"  # more distinct characters beyond Latin-1 than words_of' fast way

_RECOGNIZER: NameLexiconRecognizer | None = None


def _cache() -> _PieceInfo:
    global _RECOGNIZER
    if _RECOGNIZER is None:
        _RECOGNIZER = NameLexiconRecognizer()
    return _RECOGNIZER._info


def _assert_same(text: str) -> None:
    cache = _cache()
    old = OldTokens(text, cache)
    new = _Tokens(text, cache)
    assert new.text == old.text
    assert new.pieces == old.pieces
    assert new.starts == old.starts
    assert new.n == old.n
    assert new.lead_same is old.lead_same
    assert new.cache is old.cache
    assert new.closings() == old.closings()
    for k in range(old.n):
        assert new.info(k) == cache[old.pieces[k]]
        assert new.end(k) == old.starts[k] + len(cache[old.pieces[k]][1])
        assert new.same_line_before(k) == (
            bool(cache[old.pieces[k - 1]][0] & 64) if k else old.lead_same
        )
        assert new.line_start(k) == (k == 0 or bool(cache[old.pieces[k - 1]][0] & 128))


@hsettings(max_examples=4000, deadline=None)
@given(TEXTS)
@example("")
@example("   ")
@example(" \n Jansen-de Boer-smit zei: dhr.J.P. ")
@example("xJansen-de Boer Jansen-de Boer@x Jansen-de Boerx Jansen-de Boer's")
@example("Jansen-de Boer-Smit-van der Berg de Boer")
@example("J.P.x J.P.Q.R.S.T. A.B. drs.dr.mnr.İr.ır.drſ. ing.-x")
@example("’s-Hertogenbosch 't Veld Yılmaz’ İlse ş-")
def test_the_tokens_are_the_old_findall_pieces(text: str) -> None:
    _assert_same(text)


@hsettings(max_examples=500, deadline=None)
@given(TEXTS, st.text(alphabet=MANY_WIDE, min_size=9, max_size=14))
def test_a_text_with_many_wide_characters_too(text: str, wide: str) -> None:
    _assert_same(text + " " + wide + "-" + text)
