"""Shared fixtures: one detector per test session (building loads the lexicons)."""

from __future__ import annotations

import pytest

from detectors import build_detector
from detectors.context import ContextRule
from detectors.settings import DetectionSettings
from scanner.core.model import TextPart
from scanner.core.privacy import ValueHasher

SECRET = b"test-secret-for-detectors-0123456789"


@pytest.fixture(scope="session")
def hasher() -> ValueHasher:
    return ValueHasher(SECRET)


@pytest.fixture(scope="session")
def detector(hasher):
    return build_detector(DetectionSettings(spacy_model="none"), hasher)


def body(text: str, **context) -> list[TextPart]:
    return [TextPart(part="body", text=text, context=context)]


def scored(recognizer, text: str, context: list[str] | None = None) -> list[tuple[str, float]]:
    """(matched text, final score) for every candidate of one recognizer, context applied."""
    results = recognizer.find(text, context or ())
    return [(text[r.start : r.end], round(r.score, 2)) for r in results]


def above(recognizer, text: str, threshold: float = 0.5, context: list[str] | None = None) -> list[str]:
    return [value for value, score in scored(recognizer, text, context) if score >= threshold]


__all__ = ["ContextRule", "above", "body", "scored", "whole_window_rule"]


def whole_window_rule(rule: ContextRule) -> ContextRule:
    """The same rule with every keyword regex run over the whole window (no needle positions):
    what the needle searches must agree with."""
    plain = ContextRule(positive=rule.positive, negative=rule.negative, weak=rule.weak,
                        before=rule.before, after=rule.after, document_cue=rule.document_cue)
    for name in ("_pos_near", "_neg_near", "_weak_near"):
        object.__setattr__(plain, name, None)
    return plain
