"""Base class of the Dutch recognizers: candidates with a base score, moved by context.

Each recognizer is a Presidio ``LocalRecognizer`` so it runs inside the one
``AnalyzerEngine`` like any Presidio recognizer, but it does two things differently from a
``PatternRecognizer``:

* validation (11-proef, IBAN check) decides *whether* a match is a candidate and never pins the
  score at 1.0, so context can still move it;
* context is applied in :meth:`enhance_using_context` (Presidio's hook for recognizer-level
  context) by a :class:`~detectors.context.ContextRule`, which also reads table column headers
  passed as Presidio ``context`` words. The result is marked as enhanced so no other
  enhancer touches it again.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Iterable, Iterator, Sequence

from presidio_analyzer import LocalRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts

from detectors.context import ContextRule, TableHeaders

_ENHANCED = RecognizerResult.IS_SCORE_ENHANCED_BY_CONTEXT_KEY
RULE_KEY = "schoonschip_context"
"""recognition_metadata key recording which context rule decided a score (for reasons)."""


class _HeaderCache:
    """Table headers of the text being analysed, computed once and shared by all recognizers."""

    text: str | None = None
    given: tuple[str, ...] = ()
    headers: TableHeaders | None = None

    @classmethod
    def get(cls, text: str, given: Sequence[str]) -> TableHeaders:
        key = tuple(given)
        if cls.text is not text or cls.given != key or cls.headers is None:
            cls.text, cls.given, cls.headers = text, key, TableHeaders(text, key)
        return cls.headers


class DutchRecognizer(LocalRecognizer):
    """A recognizer that yields candidates with base scores and scores them by context."""

    name: str  # set by Presidio's __init__; declared so that mypy knows its type
    ENTITY: str = ""
    RULE: ContextRule | None = None
    PREFILTER: re.Pattern[str] | None = None
    """A cheap regex that must match somewhere before the candidate search runs at all."""

    def __init__(self, rule: ContextRule | None = None, **kwargs: object) -> None:
        self.rule = rule if rule is not None else self.RULE
        super().__init__(
            supported_entities=[self.ENTITY],
            supported_language="nl",
            name=kwargs.pop("name", None) or type(self).__name__,  # type: ignore[arg-type]
            context=list(self.rule.positive) if self.rule else None,
        )

    def load(self) -> None:
        pass

    def candidates(self, text: str) -> Iterable[tuple[int, int, float]]:
        """Yield ``(start, end, base_score)`` for every validated candidate in ``text``."""
        raise NotImplementedError

    def analyze(self, text: str, entities: list[str],
                nlp_artifacts: NlpArtifacts | None = None) -> list[RecognizerResult]:
        if entities and self.ENTITY not in entities:
            return []
        if self.PREFILTER is not None and self.PREFILTER.search(text) is None:
            return []
        meta = {
            RecognizerResult.RECOGNIZER_NAME_KEY: self.name,
            RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
        }
        return [
            # Presidio hints analysis_explanation without Optional, but defaults it to None
            RecognizerResult(self.ENTITY, start, end, score, None, dict(meta))  # type: ignore[arg-type]
            for start, end, score in self.candidates(text)
        ]

    def enhance_using_context(
        self,
        text: str,
        raw_recognizer_results: list[RecognizerResult],
        other_raw_recognizer_results: list[RecognizerResult],
        nlp_artifacts: NlpArtifacts | None = None,
        context: list[str] | None = None,
    ) -> list[RecognizerResult]:
        if self.rule is None or not raw_recognizer_results:
            for result in raw_recognizer_results:
                result.recognition_metadata[_ENHANCED] = True
            return raw_recognizer_results
        headers = _HeaderCache.get(text, context or ())
        doc_cue = self.rule.in_document(text) if self.rule.document_cue else False
        for result in raw_recognizer_results:
            result.score, how = self.rule.score(
                text, result.start, result.end, result.score, headers=headers, doc_cue=doc_cue
            )
            result.recognition_metadata[_ENHANCED] = True
            result.recognition_metadata[RULE_KEY] = how
        return raw_recognizer_results


def bounded(pattern: str) -> str:
    """Wrap a number pattern so it is not part of a longer number, word or code.

    Left: no word character, no ``+`` (phone), no digit separator before. Right: no word
    character and no ``.``/``-``/``/`` followed by a digit (``1234.56.782.1`` is no BSN).
    Patterns with space-separated groups add their own guard against a following group.
    """
    return rf"(?<![\w+/@])(?<![\w][.\-])(?:{pattern})(?![\w])(?![.\-/]\d)"


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


def checked_candidates(text: str, patterns: Iterable[tuple[re.Pattern[str], float]],
                       is_valid: Callable[[str], bool]) -> Iterator[tuple[int, int, float]]:
    """Candidates for check-digit numbers: every match of the notation patterns (in order of
    preference) that passes ``is_valid`` and does not overlap an earlier accepted match, with
    the pattern's base score. Shared by the BSN and onderwijsnummer recognizers."""
    taken = SpanSet()
    for pattern, base in patterns:
        for match in pattern.finditer(text):
            start, end = match.span()
            if taken.overlaps(start, end):
                continue
            if is_valid(match.group()):
                taken.add(start, end)
                yield start, end, base
