"""Presidio for the NER path: our recognizers inside an ``AnalyzerEngine`` beside spaCy's NER.

Only imported when a Dutch NER model is configured and found (or by the benchmarks that run
plain Presidio as a peer): importing Presidio imports spaCy and Presidio's predefined
recognizers, which a default run does not need (see :mod:`detectors.native`). Here Presidio
earns its place: its ``SpacyRecognizer`` and NLP engine turn the model's entities into results
that merge with ours under the same threshold and duplicate rules.

Why a subclass of ``SpacyNlpEngine``: Presidio turns every doc into ``NlpArtifacts`` with
lemmas and a stop-word-filtered keyword list per token, which only its lemma context enhancer
reads. Our recognizers do their own context scoring, so artifacts carry just the entities. The
pipeline is loaded by :func:`detectors.nlp.choose_pipeline` and handed over ready-made, because
Presidio's ``SpacyNlpEngine.load`` would call ``spacy.cli.download`` for a missing model.
"""

from __future__ import annotations

from collections.abc import Generator, Iterable, Sequence
from typing import Any

from presidio_analyzer import (
    AnalyzerEngine,
    EntityRecognizer,
    LocalRecognizer,
    RecognizerRegistry,
    RecognizerResult,
)
from presidio_analyzer.context_aware_enhancers import ContextAwareEnhancer
from presidio_analyzer.nlp_engine import NerModelConfiguration, NlpArtifacts, SpacyNlpEngine
from presidio_analyzer.predefined_recognizers import SpacyRecognizer
from spacy.tokens import Doc

from detectors import entities as E
from detectors.nlp import LANGUAGE, NlpChoice
from detectors.recognizers.base import DutchRecognizer, Result

CATEGORY_KEY = "schoonschip_category"
RULE_KEY = "schoonschip_context"
"""recognition_metadata key recording which context rule decided a score (for reasons)."""
_ENHANCED = RecognizerResult.IS_SCORE_ENHANCED_BY_CONTEXT_KEY


class PresidioRecognizer(LocalRecognizer):
    """One of our recognizers as a Presidio recognizer: same candidates, same context rule."""

    name: str  # set by Presidio's __init__; declared so that mypy knows its type

    def __init__(self, inner: DutchRecognizer) -> None:
        self.inner = inner
        super().__init__(supported_entities=[inner.ENTITY], supported_language=LANGUAGE,
                         name=inner.name, context=list(inner.context) or None)

    def load(self) -> None:
        pass

    def analyze(self, text: str, entities: list[str],
                nlp_artifacts: NlpArtifacts | None = None) -> list[RecognizerResult]:
        if entities and self.inner.ENTITY not in entities:
            return []
        return [
            # Presidio hints analysis_explanation without Optional, but defaults it to None
            RecognizerResult(r.entity, r.start, r.end, r.score, None,  # type: ignore[arg-type]
                             {RecognizerResult.RECOGNIZER_NAME_KEY: self.name,
                              RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
                              CATEGORY_KEY: r.category})
            for r in self.inner.raw(text)
        ]

    def enhance_using_context(self, text: str, raw_recognizer_results: list[RecognizerResult],
                              other_raw_recognizer_results: list[RecognizerResult],
                              nlp_artifacts: NlpArtifacts | None = None,
                              context: list[str] | None = None) -> list[RecognizerResult]:
        ours = [Result(r.entity_type, r.start, r.end, r.score) for r in raw_recognizer_results]
        self.inner.rescore(text, ours, context or ())
        for result, scored in zip(raw_recognizer_results, ours, strict=True):
            result.score = scored.score
            result.recognition_metadata[_ENHANCED] = True
            result.recognition_metadata[RULE_KEY] = scored.rule
        return raw_recognizer_results


class _NoContextEnhancer(ContextAwareEnhancer):
    """Presidio's engine-level context step, left empty: recognizers score context themselves."""

    def __init__(self) -> None:
        super().__init__(context_similarity_factor=0.0, min_score_with_context_similarity=0.0,
                         context_prefix_count=0, context_suffix_count=0)

    def enhance_using_context(self, text: str, raw_results: list[RecognizerResult], nlp_artifacts: NlpArtifacts,
                              recognizers: list[EntityRecognizer],
                              context: list[str] | None = None) -> list[RecognizerResult]:
        return raw_results


class SchoolSpacyNlpEngine(SpacyNlpEngine):
    """Presidio's spaCy engine around a pipeline we loaded ourselves (see module doc)."""

    def __init__(self, choice: NlpChoice) -> None:
        mapping = {"PER": "PERSON", "PERSON": "PERSON", "LOC": "LOCATION", "GPE": "LOCATION"}
        ignore = ["ORG", "MISC", "NORP", "DATE", "TIME", "CARDINAL", "ORDINAL", "QUANTITY",
                  "MONEY", "PERCENT", "EVENT", "FAC", "LAW", "LANGUAGE", "PRODUCT", "WORK_OF_ART"]
        super().__init__(
            models=[{"lang_code": LANGUAGE, "model_name": choice.model or "blank:nl"}],
            ner_model_configuration=NerModelConfiguration(
                model_to_presidio_entity_mapping=mapping, labels_to_ignore=ignore,
            ),
        )
        # presidio declares ``self.nlp = None`` in __init__ and fills the dict in load()
        self.nlp = {LANGUAGE: choice.nlp}  # type: ignore[assignment]

    def load(self) -> None:
        """Already loaded in :func:`choose_pipeline`; never download anything."""

    def _doc_to_nlp_artifact(self, doc: Doc, language: str) -> NlpArtifacts:
        entities, scores = self._get_updated_entities(
            list(doc.ents), self._get_scores_for_entities(doc)
        )
        return NlpArtifacts(
            entities=entities, tokens=doc, tokens_indices=[], lemmas=[], nlp_engine=None,
            language=language, scores=scores,
        )

    def process_batch(
        self,
        # NlpEngine's contract (any iterable: the Detector streams a generator); presidio's
        # SpacyNlpEngine narrows it to lists, of texts or of (text, context) tuples
        texts: Iterable[str],  # type: ignore[override]
        language: str,
        batch_size: int = 1,
        n_process: int = 1,
        **kwargs: Any,
    ) -> Generator[Any, Any, None]:
        # spaCy's nlp.pipe, which presidio hands ``texts`` to, takes any iterable
        yield from super().process_batch(
            texts, language, batch_size=batch_size, n_process=n_process, as_tuples=False,  # type: ignore[arg-type]
        )


class NerAnalyzer:
    """Presidio's engine with spaCy NER plus our recognizers, batched over ``nlp.pipe``."""

    def __init__(self, choice: NlpChoice, recognizers: Sequence[DutchRecognizer],
                 threshold: float) -> None:
        self.nlp_engine = SchoolSpacyNlpEngine(choice)
        registry = RecognizerRegistry(
            recognizers=[PresidioRecognizer(r) for r in recognizers]
            + [SpacyRecognizer(supported_language=LANGUAGE, supported_entities=[E.PERSON, E.LOCATION])],
            supported_languages=[LANGUAGE],
        )
        self.engine = AnalyzerEngine(
            registry=registry, nlp_engine=self.nlp_engine, supported_languages=[LANGUAGE],
            default_score_threshold=threshold, context_aware_enhancer=_NoContextEnhancer(),
        )

    def artifacts(self, texts: Iterable[str], batch_size: int) -> Generator[Any, Any, None]:
        """``(text, NlpArtifacts)`` per text, spaCy streaming over all of them."""
        return self.nlp_engine.process_batch(texts, LANGUAGE, batch_size=batch_size)

    def analyze(self, text: str, nlp_artifacts: NlpArtifacts, entities: list[str],
                threshold: float, context: Sequence[str]) -> list[Result]:
        results = self.engine.analyze(text, language=LANGUAGE, entities=entities,
                                      score_threshold=threshold, context=list(context) or None,
                                      nlp_artifacts=nlp_artifacts)
        return [Result(r.entity_type, r.start, r.end, r.score,
                       (r.recognition_metadata or {}).get(CATEGORY_KEY)) for r in results]
