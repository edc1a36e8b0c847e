"""Term lists (category lexicons, context words) and a fast token-based matcher for them.

Why not one big regular expression: Python's ``re`` does not build a trie from an alternation,
so a pattern with a thousand alternatives is tried alternative by alternative at every
position. Looking tokens up in a dict keyed by their first word costs one hash lookup per
token, whatever the size of the lexicon, and a school can add thousands of its own terms.

File format (one term per line, see ``detectors/lexicons/README.txt``):

* ``term`` or ``several words``: case-insensitive, whole tokens;
* ``term*``: the last word is a prefix (inflections: ``dyslect*`` -> dyslectische);
* ``=TERM``: case-sensitive (abbreviations that are also ordinary words: ``=ASS``, ``=OPP``);
* ``re:<regex>``: a case-insensitive regular expression, for forms with digits;
* ``#`` starts a comment.
"""

from __future__ import annotations

import importlib
import logging
import operator
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import accumulate, compress, count
from pathlib import Path
from typing import Any, ClassVar

from detectors.entities import LEXICON_CATEGORIES

# the regex module's own parser, to read a pattern's structure (private, so every use is
# guarded: if it is missing or changes, patterns get no needles and simply run)
try:
    _re_parser: Any = importlib.import_module("re._parser")
except ImportError:  # pragma: no cover - other Python versions
    _re_parser = None

logger = logging.getLogger(__name__)

LEXICON_DIR = Path(__file__).parent / "lexicons"
DATA_DIR = Path(__file__).parent / "data"

TOKEN_RE = re.compile(r"\w+(?:['’]\w+)*")
"""A word, keeping internal apostrophes (IB'er). Hyphens split words, in terms and text alike,
so "pinda-allergie" still matches itself and "dyscalculie-onderzoek" finds "dyscalculie"."""


@dataclass(frozen=True, slots=True)
class TermMatch:
    """One occurrence of a term: where it is and which list (category) it belongs to."""

    start: int
    end: int
    label: str
    term: str


FOLDS_TO_ASCII = re.compile("[\u0130\u0131\u017f]")
"""The only characters ``re.IGNORECASE`` matches to an ASCII letter that ``str.lower()`` does
not turn into that letter (İ, ı, ſ; computed over all of Unicode for Python 3.11)."""


_HEAD3 = operator.itemgetter(slice(0, 3))
_PLUS1 = (1).__add__
_START = operator.methodcaller("start")

_TOKEN_BYTES = bytes(c if chr(c).isalnum() or chr(c) in "_'" else 32 for c in range(256))
"""For a Latin-1 encoded text: every character that is not a word character (``\\w`` is
``str.isalnum()`` or ``_``) or an apostrophe to a space (see :class:`_Tokens`)."""
_LOOSE_APOSTROPHE = re.compile(r"'(?:(?<![^ ']')|(?![^ ']))")
"""In a text spaced by :data:`_TOKEN_BYTES`: an apostrophe that does not join two word
characters (at an edge, or next to a space or another apostrophe); the rest of the text is
then exactly TOKEN_RE's words, split by spaces."""


WORD_RE = re.compile(r"[\w'’]+(?:-[\w'’]+)*")
"""A word as the roster and the name recognizers read it: letters, digits, ``_`` and
apostrophes, with single hyphens inside ("Jansen-de", "ib'er"). See :func:`words_of`."""

_WORD_BYTES = bytes(c if chr(c).isalnum() or chr(c) in "_'-" else 32 for c in range(256))
"""For a Latin-1 encoded text: every character that is no word character (``\\w`` is
``str.isalnum()`` or ``_``), apostrophe or hyphen to a space (a byte table: one C pass, no
lookup per distinct character as ``str.translate`` does)."""
_LOOSE_HYPHEN = re.compile(r"-(?:(?<![^ -]-)|(?![^ -]))")
"""In a text spaced by :data:`_WORD_BYTES`: a hyphen that does not join two word characters
(at an edge, or next to a space or another hyphen). Literal first, so ``re`` skips to hyphens."""
_WIDE = re.compile(r"[^\x00-\xff]")
_WIDE_MAX = 8
"""Distinct characters beyond Latin-1 up to which a text takes :func:`words_of`' fast way."""


def words_of(text: str) -> list[str]:
    """``WORD_RE.findall(text)``, without the regex for most texts.

    WHY: the regex costs a search restart, a string and a Unicode category lookup per
    character for every word (~2,400 instructions a word, compiled, as a Match per word in the
    roster scan). Here the words are ``str.split()``'s of the text with every character that
    is no word character turned into a space, and a hyphen kept only where it joins two word
    characters, which is exactly where ``WORD_RE`` takes one in. Characters beyond Latin-1
    (’, ş, “, €) are first replaced by a stand-in of the same class ("a" for a word character
    or ’, a space for anything else), which keeps the offsets; when a word character was
    replaced, the words are cut from the text itself. A text with many distinct such
    characters (Greek, CJK) runs the regex.
    """
    plain = text
    exact = True
    if not text.isascii():
        wide = _WIDE.findall(text)
        if wide:
            odd = set(wide)
            if len(odd) > _WIDE_MAX:
                return WORD_RE.findall(text)
            for c in odd:
                if c.isalnum() or c == "’":
                    plain = plain.replace(c, "a")
                    exact = False
                else:
                    plain = plain.replace(c, " ")
    spaced = plain.encode("latin-1").translate(_WORD_BYTES).decode("latin-1")
    if "-" in spaced:
        spaced = _LOOSE_HYPHEN.sub(" ", spaced)
    words = spaced.split()
    if exact:
        return words
    starts = word_starts(plain, words, len(words))
    return [text[start:start + len(word)] for start, word in zip(starts, words, strict=True)]


def word_starts(text: str, words: list[str], n: int) -> list[int]:
    """Where the first ``n`` of ``words`` (:func:`words_of`'s of ``text``) start in ``text``.

    Exact with ``find`` from the end of the word before: the text between two words holds no
    word character, and every word starts with one."""
    starts: list[int] = []
    pos = 0
    for i in range(n):
        word = words[i]
        pos = text.find(word, pos)
        starts.append(pos)
        pos += len(word)
    return starts


def regex_needles(pattern: str) -> frozenset[str] | None:
    """Lower-case ASCII strings one of which every match of ``pattern`` (case-insensitive)
    contains, or None when the pattern's structure does not give such a set.

    WHY: a ``re:`` term starting with ``\\b`` is tried at every position of every text (the
    regex engine cannot skip ahead to a literal under IGNORECASE), about as slow as tokenizing
    the text. ``"groep" in text.lower()`` is a C substring search; when no needle is in the
    lower-cased text the pattern cannot match and is not run (see :meth:`TermMatcher.find`).
    """
    shape = regex_shape(pattern)
    return None if shape is None else shape[0]


def regex_shape(pattern: str) -> tuple[frozenset[str], int | None, int | None] | None:
    """``(needles, lead, reach)`` of ``pattern`` (case-insensitive), or None without needles.

    * ``needles``: see :func:`regex_needles`;
    * ``lead``: a match starts at most this many characters before the start of a needle it
      contains (None: no bound, e.g. ``\\w*groep``);
    * ``reach``: an attempt to match at position ``s`` reads no character at or after
      ``s + reach``, and ``$``/``\\Z``/``\\b`` there decide the same as in the whole text when
      the string is cut at ``s + reach`` (the pattern's maximum width plus 2; None when the
      width has no bound or a lookahead reads further).

    WHY: a needle in a text still leaves the pattern to be tried at every position of the
    text. With ``lead`` and ``reach`` :meth:`TermMatcher.find` tries it only at the positions
    that can start a match, in a short slice around each needle, and gets the same matches.
    """
    if _re_parser is None:  # pragma: no cover
        return None
    try:
        parsed = _re_parser.parse(pattern, re.IGNORECASE)
    except Exception:  # noqa: BLE001 - private parser; without needles the regex just runs
        return None
    try:
        found = _required(parsed)
        if found is None:
            return None
        width = parsed.getwidth()[1]
        reach = None if width >= _UNBOUNDED or _looks_ahead(parsed) else width + 2
        return found[0], found[1], reach
    except Exception:  # noqa: BLE001
        return None


_UNBOUNDED = 1 << 30
"""A pattern wider than this counts as having no maximum width (``re`` caps widths at 2**64)."""


def _width(sub: Any, items: Sequence[tuple[Any, Any]]) -> int | None:
    """Maximum width of ``items``, elements of the parsed ``sub``, or None when unbounded."""
    if not items:
        return 0
    width = int(_re_parser.SubPattern(sub.state, list(items)).getwidth()[1])
    return None if width >= _UNBOUNDED else width


def _required(sub: Any) -> tuple[frozenset[str], int | None] | None:
    """Needles of the first element of a parsed sequence that every match must contain, and
    the most characters a match can have before the needle (see :func:`regex_shape`)."""
    items = list(sub)
    i = 0
    while i < len(items):
        op, av = items[i]
        name = str(op)
        if name == "LITERAL":
            first = i
            run = []
            while i < len(items) and str(items[i][0]) == "LITERAL":
                run.append(chr(items[i][1]))
                i += 1
            literal = "".join(run)
            if literal.isascii():
                return frozenset({literal.lower()}), _width(sub, items[:first])
            continue
        found: tuple[frozenset[str], int | None] | None = None
        if name == "SUBPATTERN" and not av[1] and not av[2]:
            found = _required(av[3])  # (group, add_flags, del_flags, sub): no local flags
        elif name == "BRANCH":
            sets = [_required(alternative) for alternative in av[1]]
            if all(s is not None for s in sets):
                needles = frozenset(needle for s in sets if s is not None for needle in s[0])
                leads = [s[1] for s in sets if s is not None]
                inner = None if None in leads else max(lead for lead in leads if lead is not None)
                found = needles, inner
        elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT") and av[0] >= 1:
            # (min, max, sub): at least once, and the first time holds a needle
            found = _required(av[2])
        if found is not None:
            before = _width(sub, items[:i])
            inner_lead = found[1]
            return found[0], (None if before is None or inner_lead is None
                              else before + inner_lead)
        i += 1
    return None


def _looks_ahead(sub: Any) -> bool:
    """Whether a parsed pattern holds a lookahead (``(?=``, ``(?!``) anywhere."""
    for op, av in sub:
        name = str(op)
        inner: list[Any] = []
        if name in ("ASSERT", "ASSERT_NOT"):  # (direction, sub): 1 ahead, -1 behind
            if av[0] >= 0:
                return True
            inner = [av[1]]
        elif name == "SUBPATTERN":
            inner = [av[3]]
        elif name == "BRANCH":
            inner = list(av[1])
        elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            inner = [av[2]]
        elif name == "ATOMIC_GROUP":
            inner = [av]
        elif name == "GROUPREF_EXISTS":  # (group, yes, no or None)
            inner = [s for s in av[1:] if s is not None]
        if any(_looks_ahead(s) for s in inner):
            return True
    return False


class _Needles:
    """Where a ``re:`` term can match: near a needle of it in the lower-cased text.

    WHY: ``finditer`` over the whole text tries the pattern at every position of a text that
    holds a needle somewhere (a student word such as ``\\bgroep\\s?[1-8]...``, ``\\b`` first, is
    about 50 instructions a character under IGNORECASE, five such patterns a text). Every match
    starts at most ``lead`` characters before a needle it contains (see :func:`regex_shape`), so
    only those few positions are tried, with the same matches in the same order.
    """

    __slots__ = ("needles", "single", "finder", "lead", "reach")

    def __init__(self, needles: frozenset[str], lead: int | None, reach: int | None) -> None:
        self.needles = tuple(sorted(needles))
        # one needle: str.find; several: a case-sensitive alternation on the lower-cased text
        self.single = self.needles[0] if len(self.needles) == 1 else None
        self.finder = re.compile("|".join(re.escape(n) for n in self.needles))
        self.lead = lead
        self.reach = reach

    def first(self, low: str) -> int:
        """Where the first needle is in ``low``, or -1.

        Most texts hold none: ``in`` is a plain C substring search per needle, a few
        instructions a character, where the alternation costs a match attempt at every
        character that starts one of its needles (for the student words' ``havo|...|tl|bb``,
        any a, b, g, h, k, m, t or v)."""
        single = self.single
        if single is not None:
            return low.find(single)
        for needle in self.needles:
            if needle in low:
                found = self.finder.search(low)
                assert found is not None
                return found.start()
        return -1

    def matches(self, pattern: re.Pattern[str], text: str, low: str, q: int,
                label: str, term: str, out: list[TermMatch]) -> None:
        """Append ``pattern.finditer(text)``'s matches to ``out``; ``q`` is where the first
        needle is in ``low`` (``text`` lower-cased, same length, no İ/ı/ſ) and ``lead`` is not
        None.

        ``finditer`` searches from where its last match ended (``lo``) for the first position
        where the pattern matches. No position before the next needle's ``q - lead`` can start a
        match, so the search starts there; a match starting at ``s`` does not depend on where
        the search began (``\\b``, ``^`` and lookbehinds read the whole string before it). With a
        ``reach`` the string is cut at ``q + reach``: a match starting at or before ``q`` is the
        same in the cut string and the whole one; one found after ``q`` is not trusted, and the
        next needle is tried. Without a reach, the few start positions are each tried with
        ``match`` (``lead`` <= 3) or the search runs to the end of the text.
        """
        finder, single, lead, reach = self.finder, self.single, self.lead, self.reach
        assert lead is not None
        lo = 0  # no match starts before lo: the last match's end, or past a needle tried
        while q >= 0:
            x = q - lead
            if x < lo:
                x = lo
            m: re.Match[str] | None
            if reach is not None:
                m = pattern.search(text, x, q + reach)  # an endpos past the end is the end
                if m is not None and m.start() > q:
                    m = None
            elif lead <= 3:
                m = None
                while x <= q:
                    m = pattern.match(text, x)
                    if m is not None:
                        break
                    x += 1
            else:
                m = pattern.search(text, x)
                if m is None:
                    return
            if m is None:
                lo = q + 1
            else:
                out.append(TermMatch(m.start(), m.end(), label, term))
                lo = m.end()
            if single is not None:
                q = low.find(single, lo)
            else:
                found = finder.search(low, lo)
                q = -1 if found is None else found.start()


def _norm(token: str) -> str:
    return token.replace("’", "'")


class _Tokens:
    """One text's tokens, shared by every matcher that reads that text.

    The category terms and the verdict's cue lists (student words, staff titles, staff
    sentences) all look at the same text; tokenizing it once instead of four times, and
    finding the positions worth a look with set operations and ``list.index`` (C speed)
    instead of a Python step per token, is most of the matcher's cost. The last few texts are
    kept by identity, whatever their length: the engine judges an item right after analysing
    its texts, so the verdict's cue lists find the tokens the category terms made. Short slices
    the verdict matches in between are not remembered (``remember=False``), so they do not push
    a text out.
    """

    __slots__ = ("text", "norm", "low", "words", "present", "_spaced", "_starts", "_pre3",
                 "_plain", "_distinct", "_heads")
    _recent: ClassVar[list[_Tokens]] = []
    KEEP: ClassVar[int] = 8

    def __init__(self, text: str) -> None:
        norm = text.replace("’", "'")
        low = norm.lower()
        if len(low) != len(norm):  # rare characters whose lower case changes length
            low = "".join(c.lower() if len(c.lower()) == 1 else c for c in norm)
        self.text, self.norm, self.low = text, norm, low
        # most texts are ASCII without apostrophes: separators turned into spaces and a C split,
        # about a tenth of the regex's instructions (it costs a match attempt, a string and a
        # freed stack per token; see span)
        spaced: str | None = None
        words: list[str]
        if low.isascii() or _WIDE.search(low) is None:
            # Latin-1 (nearly every text): a byte table, one C pass with no lookup per
            # distinct character (str.translate raised and cleared a KeyError for every
            # distinct character not in its table); apostrophes that join no two word
            # characters blanked, as TOKEN_RE's "\w+(?:'\w+)*" takes only joining ones
            spaced = low.encode("latin-1").translate(_TOKEN_BYTES).decode("latin-1")
            if "'" in spaced:
                spaced = _LOOSE_APOSTROPHE.sub(" ", spaced)
            words = spaced.split()
        else:
            words = TOKEN_RE.findall(low)
        self._spaced = spaced
        self.words = words
        self.present = frozenset(words)
        self._starts: list[int] | None = None
        self._pre3: frozenset[str] | None = None
        self._plain: bool | None = None
        self._distinct: tuple[str, ...] = ()
        self._heads: list[str] = []

    def span(self, i: int) -> tuple[int, int]:
        """Start and end of token ``i`` in the text.

        The start offsets of all tokens are computed on the first call, with C-level maps
        instead of a Match object per token (most texts need a span: a term matched in them).
        In the spaced text (see __init__) the token after ``k`` single-space pieces starts at
        the sum of their lengths plus ``k``."""
        starts = self._starts
        if starts is None:
            if self._spaced is not None:
                pieces = self._spaced.split(" ")
                starts = list(compress(accumulate(map(_PLUS1, map(len, pieces)), initial=0),
                                       pieces))
            else:
                starts = list(map(_START, TOKEN_RE.finditer(self.low)))
            self._starts = starts
        start = starts[i]
        return start, start + len(self.words[i])

    def pre3(self) -> frozenset[str]:
        """The first three letters of every distinct word (for the prefix terms)."""
        if self._pre3 is None:
            # C-level map instead of a generator step per word
            self._distinct = tuple(self.present)
            self._heads = list(map(_HEAD3, self._distinct))
            self._pre3 = frozenset(self._heads)
        return self._pre3

    def starting_with(self, keys: frozenset[str]) -> set[str]:
        """The distinct words whose first three letters are in ``keys`` (after :meth:`pre3`)."""
        return set(compress(self._distinct, map(keys.__contains__, self._heads)))

    def plain_case(self) -> bool:
        """True when, for ASCII literals, an IGNORECASE match in the text is a substring of
        ``low`` (no İ, ı or ſ in the text)."""
        if self._plain is None:
            self._plain = self.text.isascii() or FOLDS_TO_ASCII.search(self.text) is None
        return self._plain

    def positions(self, hot: set[str] | frozenset[str]) -> list[int]:
        """Indexes of the tokens that are in ``hot``, in text order."""
        words = self.words
        if len(hot) > 6:  # many distinct hot words: one C-level pass instead of a scan per word
            return list(compress(count(), map(hot.__contains__, words)))
        found: list[int] = []
        index = words.index
        for word in hot:
            i = -1
            try:
                while True:
                    i = index(word, i + 1)
                    found.append(i)
            except ValueError:
                pass
        found.sort()
        return found

    @classmethod
    def of(cls, text: str, remember: bool = True) -> _Tokens:
        recent = cls._recent
        for entry in recent:
            if entry.text is text:
                return entry
        entry = cls(text)
        if remember:
            cls._recent = [entry] + recent[: cls.KEEP - 1]
        return entry


def read_term_file(path: Path) -> list[str]:
    """Return the terms in ``path`` (comments and blank lines dropped, order kept)."""
    terms: list[str] = []
    for raw in Path(path).read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        terms.append(line)
    return terms


class TermMatcher:
    """Finds the terms of several labelled lists in a text, longest match first."""

    def __init__(self) -> None:
        # first token (casefolded) -> [(tokens, is_prefix, label, term)]
        self._folded: dict[str, list[tuple[tuple[str, ...], bool, str, str]]] = {}
        # first three letters of a one-word prefix term -> [(prefix, label, term)]
        self._prefix1: dict[str, list[tuple[str, str, str]]] = {}
        # first token (exact case) -> [(tokens, label, term)]
        self._exact: dict[str, list[tuple[tuple[str, ...], str, str]]] = {}
        # (pattern, where its needles are (a search for them in the lower-cased text) or None,
        # label, term)
        self._regexes: list[tuple[re.Pattern[str], _Needles | None, str, str]] = []
        # lower-cased first tokens of all token terms, and first three letters of prefix terms:
        # a token in neither cannot start a match
        self._starts: set[str] = set()
        self._pre3: set[str] = set()
        # lower-cased first tokens of the case-sensitive terms: only a token among them can
        # start one (exact when every such token is ASCII; otherwise every hot token is tried)
        self._exact_low: set[str] = set()
        self._exact_ascii = True
        self.size = 0

    def add(self, label: str, term: str) -> None:
        """Add one term (in file syntax) under ``label``; bad regexes are skipped with a warning."""
        term = term.strip()
        if not term:
            return
        if term.startswith("re:"):
            try:
                compiled = re.compile(term[3:], re.IGNORECASE)
            except re.error:
                logger.warning(
                    "ongeldige reguliere expressie in lexicon %s overgeslagen / "
                    "invalid regular expression in lexicon %s skipped", label, label
                )
                return
            shape = regex_shape(term[3:])
            needles = (_Needles(shape[0], shape[1], shape[2]) if shape is not None and shape[0]
                       else None)
            self._regexes.append((compiled, needles, label, term))
        elif term.startswith("="):
            tokens = tuple(_norm(t) for t in TOKEN_RE.findall(term[1:]))
            if not tokens:
                return
            self._exact.setdefault(tokens[0], []).append((tokens, label, term))
            self._starts.add(tokens[0].lower())
            self._exact_low.add(tokens[0].lower())
            self._exact_ascii = self._exact_ascii and tokens[0].isascii()
        else:
            is_prefix = term.endswith("*")
            tokens = tuple(_norm(t).casefold() for t in TOKEN_RE.findall(term.rstrip("*")))
            if not tokens:
                return
            if is_prefix and len(tokens) == 1:
                prefix = tokens[0]
                if len(prefix) < 3:
                    logger.warning(
                        "voorvoegsel in lexicon %s te kort (min. 3 letters) / "
                        "prefix in lexicon %s too short (min. 3 letters)", label, label
                    )
                    return
                self._prefix1.setdefault(prefix[:3], []).append((prefix, label, term))
                self._pre3.add(prefix[:3])
            else:
                self._folded.setdefault(tokens[0], []).append((tokens, is_prefix, label, term))
                self._starts.add(tokens[0])
        self.size += 1

    def add_many(self, label: str, terms: Iterable[str]) -> None:
        for term in terms:
            self.add(label, term)

    def find(self, text: str, remember: bool = True) -> list[TermMatch]:
        """All matches in ``text``: token terms greedily (longest first), then regex terms.

        ``remember=False`` for a short slice of a text being judged: its tokens are not kept
        (see :class:`_Tokens`)."""
        tokens = _Tokens.of(text, remember)
        matches: list[TermMatch] = []
        hot = tokens.present & self._starts
        if self._pre3:
            keys = tokens.pre3() & self._pre3
            if keys:
                hot |= tokens.starting_with(keys)
        if hot:
            self._match_tokens(tokens, hot, matches)
        for pattern, needles, label, term in self._regexes:
            if needles is not None and tokens.plain_case():
                q = needles.first(tokens.low)
                if q < 0:
                    continue  # no match possible (see regex_needles)
                if needles.lead is not None:
                    needles.matches(pattern, text, tokens.low, q, label, term, matches)
                    continue
            for m in pattern.finditer(text):
                if m.end() > m.start():
                    matches.append(TermMatch(m.start(), m.end(), label, term))
        return matches

    def _match_tokens(self, tokens: _Tokens, hot: set[str] | frozenset[str],
                      matches: list[TermMatch]) -> None:
        """Token terms greedily at the positions of ``hot`` words (longest match first; a
        match consumes its tokens, so a term inside a longer match is not matched again)."""
        words, norm, span = tokens.words, tokens.norm, tokens.span
        folded_index = self._folded
        prefix_index = self._prefix1
        exact_index = self._exact
        exact_low = self._exact_low if self._exact_ascii else None
        n = len(words)
        free = 0  # first token not consumed by an earlier match
        for i in tokens.positions(hot):
            if i < free:
                continue
            tok = words[i]
            best: tuple[int, str, str] | None = None  # (length in tokens, label, term)
            cands = folded_index.get(tok)
            if cands:
                for cand, is_prefix, label, term in cands:
                    k = len(cand)
                    if i + k > n or (best and k <= best[0]):
                        continue
                    ok = True
                    for j in range(1, k):
                        word = words[i + j]
                        if is_prefix and j == k - 1:
                            ok = word.startswith(cand[j])
                        else:
                            ok = word == cand[j]
                        if not ok:
                            break
                    if ok:
                        best = (k, label, term)
            if best is None and len(tok) >= 3:
                pre = prefix_index.get(tok[:3])
                if pre:
                    for prefix, label, term in pre:
                        if tok.startswith(prefix):
                            best = (1, label, term)
                            break
            if exact_index and (exact_low is None or tok in exact_low):
                s, e = span(i)
                exact = exact_index.get(norm[s:e])
                if exact:
                    for cand, label, term in exact:
                        k = len(cand)
                        if (i + k <= n and (best is None or k > best[0])
                                and all(norm[slice(*span(i + j))] == cand[j] for j in range(1, k))):
                            best = (k, label, term)
            if best is not None:
                k, label, term = best
                matches.append(TermMatch(span(i)[0], span(i + k - 1)[1], label, term))
                free = i + k


def category_lexicon_files(extra_dirs: Iterable[Path] = ()) -> dict[str, list[Path]]:
    """Map each lexicon category to its files: the built-in one plus any in ``extra_dirs``.

    Files in an extra folder whose name is not a category are reported once and ignored, so a
    typo in a school's file name does not silently add terms nowhere.
    """
    files: dict[str, list[Path]] = {cat: [LEXICON_DIR / f"{cat}.txt"] for cat in LEXICON_CATEGORIES}
    for folder in extra_dirs:
        folder = Path(folder)
        if not folder.is_dir():
            logger.warning(
                "lexiconmap bestaat niet en wordt overgeslagen / lexicon folder does not exist, skipped"
            )
            continue
        for path in sorted(folder.glob("*.txt")):
            if path.stem in files:
                files[path.stem].append(path)
            else:
                logger.warning(
                    "lexiconbestand %s hoort niet bij een categorie (%s) / lexicon file is not a "
                    "category", path.name, ", ".join(LEXICON_CATEGORIES)
                )
    return files


def build_category_matcher(extra_dirs: Iterable[Path] = ()) -> TermMatcher:
    """One matcher over all category lexicons; each match is labelled with its category."""
    matcher = TermMatcher()
    for category, paths in category_lexicon_files(extra_dirs).items():
        for path in paths:
            matcher.add_many(category, read_term_file(path))
    return matcher
