"""Base class of the Dutch recognizers: candidates with a base score, moved by context.

The recognizers are plain Python, with no Presidio or spaCy import, so that a default run
(no Dutch NER model) starts fast and pays no per-recognizer framework overhead: the detector
runs them itself (:mod:`detectors.native`). When a NER model is configured the same recognizers
run inside Presidio's ``AnalyzerEngine`` through a thin adapter (:mod:`detectors.presidio_bridge`).
They do two things differently from a Presidio ``PatternRecognizer``:

* validation (11-proef, IBAN check) decides *whether* a match is a candidate and never pins the
  score at 1.0, so context can still move it;
* context is applied by a :class:`~detectors.context.ContextRule`, which also reads table column
  headers (passed as context words).
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import ClassVar

from detectors.context import ContextRule, TableHeaders


@dataclass(slots=True)
class Result:
    """One candidate after context scoring (offsets in the analysed text)."""

    entity: str
    start: int
    end: int
    score: float
    category: str | None = None
    rule: str | None = None  # which context rule decided the score (for explanations)


class _HeaderCache:
    """Table headers of the text being analysed, computed once and shared by all recognizers."""

    text: ClassVar[str | None] = None
    given: ClassVar[tuple[str, ...]] = ()
    headers: ClassVar[TableHeaders | None] = None

    @classmethod
    def get(cls, text: str, given: Sequence[str]) -> TableHeaders:
        key = tuple(given)
        if cls.text is not text or cls.given != key or cls.headers is None:
            cls.text, cls.given, cls.headers = text, key, TableHeaders(text, key)
        return cls.headers


# ``\d\d*`` rather than ``\d+`` (the same matches): Python's regex engine builds a prefix
# scan that skips to the next candidate character only when a pattern's first item is a
# character class; the first item of ``\d+`` is a repeat, so finditer would call the full
# matcher at every position of the text (about 40 % more instructions here).
_DIGIT_RUN = re.compile(r"\d\d*")
# In an ASCII text ``\d`` (all Unicode decimal digits) matches exactly ``[0-9]``, which the
# engine tests faster than the ``\d`` category.
_ASCII_DIGIT_RUN = re.compile(r"[0-9][0-9]*")


class DigitRuns:
    """The maximal runs of ``\\d`` characters of one text (``\\d`` as in the recognizers'
    patterns: all Unicode decimal digits), shared by the number recognizers: most of them need
    a digit run of some length, and their patterns can only start at a few places relative to
    the runs, so they look there instead of scanning the whole text."""

    __slots__ = ("longest", "runs", "stretches")

    def __init__(self, text: str) -> None:
        pattern = _ASCII_DIGIT_RUN if text.isascii() else _DIGIT_RUN
        self.runs: list[tuple[int, int]] = [m.span() for m in pattern.finditer(text)]
        longest = 0
        for start, end in self.runs:
            if end - start > longest:
                longest = end - start
        self.longest = longest
        self.stretches: list[tuple[int, int]] | None = None


class _DigitCache:
    """:class:`DigitRuns` of the text being analysed, computed once and shared by all
    recognizers (kept by identity, like :class:`_HeaderCache`; the reference keeps the text
    alive, so a new text can never have the old one's identity)."""

    text: ClassVar[str | None] = None
    facts: ClassVar[DigitRuns | None] = None

    @classmethod
    def get(cls, text: str) -> DigitRuns:
        facts = cls.facts
        if cls.text is not text or facts is None:
            facts = DigitRuns(text)
            cls.text, cls.facts = text, facts
        return facts


def digit_runs(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` of every maximal run of ``\\d`` characters in ``text``, in order."""
    return _DigitCache.get(text).runs


def digit_stretches(text: str) -> list[tuple[int, int]]:
    """Windows ``(pos, endpos)`` of ``text`` where a check-digit number (BSN, onderwijsnummer)
    can match: the same windows as :func:`number_runs` with the pattern
    ``\\d[\\d. \\-]{6,}\\d`` (a maximal stretch of digits, dots, spaces and hyphens, from its
    first digit to its last, 8 or more characters), built from :func:`digit_runs` instead of
    another regex pass: consecutive runs join when only dots, spaces and hyphens lie between."""
    facts = _DigitCache.get(text)
    stretches = facts.stretches
    if stretches is None:
        stretches = []
        runs = facts.runs
        n = len(text)
        i, count = 0, len(runs)
        while i < count:
            start, end = runs[i]
            i += 1
            while i < count and not text[end:runs[i][0]].strip(". -"):
                end = runs[i][1]
                i += 1
            if end - start >= 8:
                stretches.append((start, min(n, end + LOOKAHEAD)))
        facts.stretches = stretches
    return stretches


class DutchRecognizer:
    """A recognizer that yields candidates with base scores and scores them by context."""

    ENTITY: ClassVar[str] = ""
    RULE: ClassVar[ContextRule | None] = None
    PREFILTER: ClassVar[re.Pattern[str] | None] = None
    """A cheap regex that must match somewhere before the candidate search runs at all."""

    def __init__(self, rule: ContextRule | None = None, name: str | None = None) -> None:
        self.rule = rule if rule is not None else self.RULE
        self.name = name or type(self).__name__
        self.supported_entities = [self.ENTITY]
        self.context = list(self.rule.positive) if self.rule else []

    def candidates(self, text: str) -> Iterable[tuple[int, int, float]]:
        """Yield ``(start, end, base_score)`` for every validated candidate in ``text``."""
        raise NotImplementedError

    MIN_DIGITS: ClassVar[int] = 0
    """When > 0: every candidate holds at least this many consecutive ``\\d`` characters, so a
    text whose longest digit run (:func:`digit_runs`, computed once per text for all
    recognizers) is shorter has none; tested before :attr:`PREFILTER`. Cheaper than a
    ``\\d{3}`` prefilter regex, which the regex engine tries at every position."""

    def raw(self, text: str) -> list[Result]:
        """Candidates in ``text`` with their base scores (before context)."""
        if self.MIN_DIGITS and _DigitCache.get(text).longest < self.MIN_DIGITS:
            return []
        if self.PREFILTER is not None and self.PREFILTER.search(text) is None:
            return []
        entity = self.ENTITY
        return [Result(entity, start, end, score) for start, end, score in self.candidates(text)]

    def rescore(self, text: str, results: Sequence[Result], context: Sequence[str] = ()) -> None:
        """Move the scores of ``results`` by this recognizer's context rule (in place)."""
        rule = self.rule
        if rule is None or not results:
            return
        headers = _HeaderCache.get(text, context)
        doc_cue = rule.in_document(text) if rule.document_cue else False
        for result in results:
            result.score, result.rule = rule.score(
                text, result.start, result.end, result.score, headers=headers, doc_cue=doc_cue
            )

    def find(self, text: str, context: Sequence[str] = ()) -> list[Result]:
        """Candidates in ``text`` with their context-adjusted scores (any score: the caller
        applies the threshold)."""
        results = self.raw(text)
        self.rescore(text, results, context)
        return results


def _first_digit(pattern: str) -> tuple[str, str]:
    """Split a number pattern into its first digit (``\\d`` or a literal digit) and the rest."""
    repeat = re.match(r"\\d\{(\d+)\}", pattern)
    if repeat:
        n = int(repeat.group(1))
        return r"\d", (rf"\d{{{n - 1}}}" if n > 2 else r"\d") + pattern[repeat.end():]
    if pattern.startswith(r"\d"):
        return r"\d", pattern[2:]
    if pattern[:1].isdigit():
        return pattern[0], pattern[1:]
    raise ValueError("a bounded number pattern starts with a digit")


def bounded(pattern: str) -> str:
    """Wrap a number pattern so it is not part of a longer number, word or code.

    Left: no word character, no ``+`` (phone), no digit separator before. Right: no word
    character and no ``.``/``-``/``/`` followed by a digit (``1234.56.782.1`` is no BSN).
    Patterns with space-separated groups add their own guard against a following group.

    The first digit is matched *before* the left guards (which then look back over it): a
    pattern that starts with a character class or literal lets Python's regex engine skip
    ahead to candidate positions, where one that starts with a lookbehind is tried at every
    position of the text (2-80x faster scans, same matches).
    """
    head, rest = _first_digit(pattern)
    return rf"{head}(?<![\w+/@]{head})(?<![\w][.\-]{head})(?:{rest})(?![\w])(?![.\-/]\d)"


class SpanSet:
    """Non-overlapping spans already taken, with an O(log n) overlap test (long texts have
    thousands of candidates, so a linear scan per candidate would be quadratic)."""

    def __init__(self) -> None:
        self._starts: list[int] = []
        self._ends: list[int] = []

    def overlaps(self, start: int, end: int) -> bool:
        i = bisect.bisect_left(self._starts, end)
        return i > 0 and self._ends[i - 1] > start

    def add(self, start: int, end: int) -> None:
        i = bisect.bisect_left(self._starts, start)
        self._starts.insert(i, start)
        self._ends.insert(i, end)


LOOKAHEAD = 2
"""Characters past a match that the bounded number patterns' lookaheads read (a dot, hyphen or
slash, then a digit)."""


def number_runs(runs: re.Pattern[str], text: str) -> list[tuple[int, int]]:
    """Windows ``(pos, endpos)`` of ``text`` where a number pattern can match: each match of
    ``runs`` (a maximal run of the characters such numbers are made of), extended by
    :data:`LOOKAHEAD` so the patterns' lookaheads see what they see in the whole text (their
    lookbehinds see before ``pos`` anyway)."""
    n = len(text)
    return [(m.start(), min(n, m.end() + LOOKAHEAD)) for m in runs.finditer(text)]


def checked_candidates(text: str, patterns: Iterable[tuple[re.Pattern[str], float]],
                       is_valid: Callable[[str], bool],
                       windows: list[tuple[int, int]] | None = None,
                       ) -> Iterator[tuple[int, int, float]]:
    """Candidates for check-digit numbers: every match of the notation patterns (in order of
    preference) that passes ``is_valid`` and does not overlap an earlier accepted match, with
    the pattern's base score. Shared by the BSN and onderwijsnummer recognizers.

    ``windows``, when given, are windows ``(pos, endpos)`` holding every match of every
    pattern (:func:`digit_stretches`; by definition :func:`number_runs` of a regex of maximal
    runs of the characters such matches consist of): the patterns then scan only those.
    Exact: no match lies outside a window, a match ends inside its window so the next one is
    looked for from there as in a scan of the whole text, and the windows give the patterns'
    guards the same characters to look at."""
    taken = SpanSet()
    if windows is not None:
        if not windows:
            return
        finditer = re.Pattern.finditer
        for pattern, base in patterns:
            for pos, endpos in windows:
                for match in finditer(pattern, text, pos, endpos):
                    start, end = match.span()
                    if taken.overlaps(start, end):
                        continue
                    if is_valid(match.group()):
                        taken.add(start, end)
                        yield start, end, base
        return
    for pattern, base in patterns:
        for match in pattern.finditer(text):
            start, end = match.span()
            if taken.overlaps(start, end):
                continue
            if is_valid(match.group()):
                taken.add(start, end)
                yield start, end, base
