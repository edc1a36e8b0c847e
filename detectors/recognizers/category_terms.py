"""CATEGORY_TERM: words of the category lexicons (gezondheid, zorg, verzuim, ...).

Category terms are reported as findings (entity ``CATEGORY_TERM``, with the category in
``Finding.category``) rather than only as verdict categories, so the teacher digest can say
*where* in an item the health or care information is, and the FG statistics can count terms
per category. The value of a term is not personal data by itself ("dyslexie"), but it is
masked and hashed like every other finding so no code path treats findings differently.
"""

from __future__ import annotations

from collections.abc import Iterable

from presidio_analyzer import RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts

from detectors.entities import CATEGORY_TERM
from detectors.recognizers.base import DutchRecognizer
from detectors.termlists import TermMatcher

CATEGORY_KEY = "schoonschip_category"
TERM_SCORE = 0.75


class CategoryTermRecognizer(DutchRecognizer):
    """Finds lexicon terms and tags each result with its category."""

    ENTITY = CATEGORY_TERM
    RULE = None

    def __init__(self, matcher: TermMatcher) -> None:
        self.matcher = matcher
        super().__init__()

    def candidates(self, text: str) -> Iterable[tuple[int, int, float]]:  # pragma: no cover
        raise NotImplementedError("analyze() is overridden")

    def analyze(self, text: str, entities: list[str],
                nlp_artifacts: NlpArtifacts | None = None) -> list[RecognizerResult]:
        if entities and CATEGORY_TERM not in entities:
            return []
        results = []
        for match in self.matcher.find(text):
            results.append(
                RecognizerResult(
                    CATEGORY_TERM, match.start, match.end, TERM_SCORE, None,  # type: ignore[arg-type]
                    {
                        RecognizerResult.RECOGNIZER_NAME_KEY: self.name,
                        RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
                        CATEGORY_KEY: match.label,
                    },
                )
            )
        return results
