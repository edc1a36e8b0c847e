"""termlists ``_Tokens`` gives exactly the old tokenization: same words, same spans.

The old ``__init__`` (verbatim below, as ``OldTokens``) split ASCII texts without apostrophes
with a ``str.translate`` table and ran ``TOKEN_RE.findall`` on every other text; the new one
spaces every Latin-1 text with a byte table and blanks the apostrophes that join no two word
characters. Generated texts mix the characters that decide a token's edges: letters, capitals
(that lower-case to Latin-1 or beyond), both apostrophes (single, double, at edges), hyphens,
digits, ``_``, Latin-1 letters and signs, characters beyond Latin-1, whitespace of all kinds.
"""

from __future__ import annotations

import re
from itertools import accumulate, compress

from hypothesis import example, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from detectors.termlists import TOKEN_RE, _Tokens

_PLUS1 = (1).__add__
_SEPARATORS = str.maketrans({chr(c): " " for c in range(128)
                             if not (chr(c).isalnum() or chr(c) in "_'")})


class OldTokens:
    """The words and starts of the old ``_Tokens.__init__`` and ``span`` (verbatim)."""

    def __init__(self, text: str) -> None:
        norm = text.replace("’", "'")
        low = norm.lower()
        if len(low) != len(norm):  # rare characters whose lower case changes length
            low = "".join(c.lower() if len(c.lower()) == 1 else c for c in norm)
        self.text, self.norm, self.low = text, norm, low
        spaced: str | None = None
        words: list[str]
        if low.isascii() and "'" not in low:
            spaced = low.translate(_SEPARATORS)
            words = spaced.split()
        else:
            words = TOKEN_RE.findall(low)
        self._spaced = spaced
        self.words = words

    def starts(self) -> list[int]:
        if self._spaced is not None:
            pieces = self._spaced.split(" ")
            return list(compress(accumulate(map(_PLUS1, map(len, pieces)), initial=0), pieces))
        return [m.start() for m in TOKEN_RE.finditer(self.low)]


PIECES = [
    "a", "b", "Z", "Daan", "IB'er", "ib’er", "'", "’", "''", "’’", "'s", "’t", "-", "--", ".",
    "12", "_", "x_y", "é", "É", "Ö", "ß", "ÿ", "À", "ª", "²", "µ", "×", "÷", "«", "\xad", "\x85",
    "\x1c", "ş", "Ş", "İ", "ı", "ſ", "α", "Ω", "中文", "€", "“", "•", "–", "\xa0", "\u2003", " ",
    "  ", "\t", "\n", "\r\n", ",", "(", "@", "/", "ǅ", "ﬁ",
]
TEXTS = st.lists(st.sampled_from(PIECES), max_size=40).map("".join)


@hsettings(max_examples=4000, deadline=None)
@given(TEXTS)
@example("IB'er d''a 'x' y'")
@example("l’école ’s-Hertogenbosch")
@example("Ö'' 'É")
def test_tokens_are_the_old_tokens(text: str) -> None:
    old = OldTokens(text)
    new = _Tokens(text)
    assert new.low == old.low and new.norm == old.norm
    assert new.words == old.words
    assert new.present == frozenset(old.words)
    starts = old.starts()
    assert [new.span(i) for i in range(len(new.words))] == [
        (s, s + len(w)) for s, w in zip(starts, old.words, strict=True)]


def test_regex_words_equal_findall_on_latin1() -> None:
    """A direct check of the apostrophe rule against TOKEN_RE on every pair of edge characters."""
    chars = ["a", "'", " ", "é", "-"]
    for x in chars:
        for y in chars:
            for z in chars:
                text = x + "'" + y + "'" + z
                assert _Tokens(text).words == TOKEN_RE.findall(text), re.escape(text)
