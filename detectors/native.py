"""Running our recognizers without Presidio: the default (no NER model) detection path.

Why not Presidio's ``AnalyzerEngine`` here: importing ``presidio_analyzer`` imports spaCy and
all of Presidio's predefined recognizers (~0.9 s of the CLI's start-up), and per text it walks
its registry, builds result objects with metadata dicts and calls an engine-level context
enhancer for every recognizer (about a fifth of warm detection time). Our recognizers need
none of that: they find candidates by regex + checksum or by lists and score context
themselves. What Presidio's engine does with their results is kept exactly: results below the
threshold go, then :func:`remove_duplicates` (same rule as ``EntityRecognizer.remove_duplicates``).
With a NER model the detector uses Presidio instead (:mod:`detectors.presidio_bridge`).
"""

from __future__ import annotations

from collections.abc import Sequence

from detectors.recognizers.base import DutchRecognizer, Result


def analyze_text(recognizers: Sequence[DutchRecognizer], text: str, threshold: float,
                 context: Sequence[str] = ()) -> list[Result]:
    """Results of ``recognizers`` on ``text`` at or above ``threshold``, duplicates removed."""
    results: list[Result] = []
    for recognizer in recognizers:
        found = recognizer.find(text, context)
        if found:  # most recognizers find nothing in most texts: no generator for those
            results.extend([r for r in found if r.score >= threshold])
    return remove_duplicates(results)


def remove_duplicates(results: list[Result]) -> list[Result]:
    """Presidio's rule: drop zero scores, and a result that another result of the same entity
    contains with an equal or higher score (identical spans: the first one found stays)."""
    if len(results) < 2:  # nothing to compare: only the zero-score rule applies
        return [r for r in results if r.score != 0]
    # the sort keys as tuples built in one comprehension (no key function call per result);
    # the index makes every key unique, so the order is exactly that of the keyed sort
    order = sorted([(r.entity, r.start, r.start - r.end, -r.score, i)
                    for i, r in enumerate(results)])
    kept: list[Result] = []
    active: list[Result] = []
    entity = None
    for *_, i in order:
        result = results[i]
        if result.entity != entity:
            entity, active = result.entity, []
        if result.score == 0:
            continue
        active = [a for a in active if a.end >= result.start]
        if any(a.start <= result.start and result.end <= a.end and result.score <= a.score
               for a in active):
            continue
        kept.append(result)
        active.append(result)
    kept.sort(key=lambda r: (-r.score, r.start, r.start - r.end))
    return kept
