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
from itertools import compress, count
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


def regex_needles(pattern: str) -> frozenset[str] | None:
    """Lower-case ASCII strings one of which every match of ``pattern`` (case-insensitive)
    contains, or None when the pattern's structure does not give such a set.

    WHY: a ``re:`` term starting with ``\\b`` is tried at every position of every text (the
    regex engine cannot skip ahead to a literal under IGNORECASE), about as slow as tokenizing
    the text. ``"groep" in text.lower()`` is a C substring search; when no needle is in the
    lower-cased text the pattern cannot match and is not run (see :meth:`TermMatcher.find`).
    """
    if _re_parser is None:  # pragma: no cover
        return None
    try:
        parsed = _re_parser.parse(pattern, re.IGNORECASE)
    except Exception:  # noqa: BLE001 - private parser; without needles the regex just runs
        return None
    try:
        return _required(list(parsed))
    except Exception:  # noqa: BLE001
        return None


def _required(items: Sequence[tuple[Any, Any]]) -> frozenset[str] | None:
    """Needles of the first element of a parsed sequence that every match must contain."""
    i = 0
    while i < len(items):
        op, av = items[i]
        name = str(op)
        if name == "LITERAL":
            run = []
            while i < len(items) and str(items[i][0]) == "LITERAL":
                run.append(chr(items[i][1]))
                i += 1
            literal = "".join(run)
            if literal.isascii():
                return frozenset({literal.lower()})
            continue
        found: frozenset[str] | None = None
        if name == "SUBPATTERN" and not av[1] and not av[2]:
            found = _required(list(av[3]))  # (group, add_flags, del_flags, sub): no local flags
        elif name == "BRANCH":
            sets = [_required(list(alternative)) for alternative in av[1]]
            if all(s is not None for s in sets):
                found = frozenset(needle for s in sets if s is not None for needle in s)
        elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT") and av[0] >= 1:
            found = _required(list(av[2]))  # (min, max, sub): at least once
        if found is not None:
            return found
        i += 1
    return None


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

    __slots__ = ("text", "norm", "low", "words", "present", "_matches", "_pre3", "_plain",
                 "_distinct", "_heads")
    _recent: ClassVar[list[_Tokens]] = []
    KEEP: ClassVar[int] = 8

    def __init__(self, text: str) -> None:
        norm = text.replace("’", "'")
        low = norm.lower()
        if len(low) != len(norm):  # rare characters whose lower case changes length
            low = "".join(c.lower() if len(c.lower()) == 1 else c for c in norm)
        self.text, self.norm, self.low = text, norm, low
        self.words: list[str] = TOKEN_RE.findall(low)
        self.present = frozenset(self.words)
        self._matches: list[re.Match[str]] | None = None
        self._pre3: frozenset[str] | None = None
        self._plain: bool | None = None
        self._distinct: tuple[str, ...] = ()
        self._heads: list[str] = []

    def span(self, i: int) -> tuple[int, int]:
        if self._matches is None:
            self._matches = list(TOKEN_RE.finditer(self.low))
        return self._matches[i].span()

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
        # (pattern, a search for its needles in the lower-cased text or None, label, term)
        self._regexes: list[tuple[re.Pattern[str], re.Pattern[str] | None, str, str]] = []
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
            needles = regex_needles(term[3:])
            # one case-sensitive alternation over the lower-cased text: a single C search
            finder = (re.compile("|".join(re.escape(n) for n in sorted(needles)))
                      if needles else None)
            self._regexes.append((compiled, finder, label, term))
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
        for pattern, finder, label, term in self._regexes:
            if finder is not None and finder.search(tokens.low) is None and tokens.plain_case():
                continue  # no match possible (see regex_needles)
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
