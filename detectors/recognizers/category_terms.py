"""CATEGORY_TERM: words of the category lexicons (gezondheid, zorg, verzuim, ...).

Category terms are reported as findings (entity ``CATEGORY_TERM``, with the category in
``Finding.category``) rather than only as verdict categories, so the teacher digest can say
*where* in an item the health or care information is, and the FG statistics can count terms
per category. The value of a term is not personal data by itself ("dyslexie"), but it is
masked and hashed like every other finding so no code path treats findings differently.
"""

from __future__ import annotations

from collections.abc import Iterable

from detectors.entities import CATEGORY_TERM
from detectors.recognizers.base import DutchRecognizer, Result
from detectors.termlists import TermMatcher

TERM_SCORE = 0.75


class CategoryTermRecognizer(DutchRecognizer):
    """Finds lexicon terms and tags each result with its category."""

    ENTITY = CATEGORY_TERM
    RULE = None

    def __init__(self, matcher: TermMatcher) -> None:
        self.matcher = matcher
        super().__init__()

    def candidates(self, text: str) -> Iterable[tuple[int, int, float]]:  # pragma: no cover
        raise NotImplementedError("raw() is overridden")

    def raw(self, text: str) -> list[Result]:
        return [Result(CATEGORY_TERM, m.start, m.end, TERM_SCORE, m.label)
                for m in self.matcher.find(text)]
