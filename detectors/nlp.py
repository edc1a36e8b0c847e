"""The spaCy side of detection: which Dutch pipeline to load, and a lean Presidio NLP engine.

Model choice (``DetectionSettings.spacy_model``):

* ``"auto"``: the largest installed ``nl_core_news_{lg,md,sm}`` package;
* a package name or a path: that pipeline (tests train a tiny one and load it by path);
* ``"none"``: no model, names come from the name lists only.

Nothing is ever downloaded: Presidio's ``SpacyNlpEngine.load`` calls ``spacy.cli.download`` for
a missing model, so the pipeline is loaded here and handed to the engine ready-made. When no
usable model is found the engine still runs (tokenizer-free, see below) and says so once, in the
log and in :attr:`NlpChoice.notice`, Dutch first, with how to install a model.

Why a subclass of ``SpacyNlpEngine``: Presidio turns every doc into ``NlpArtifacts`` with
lemmas and a stop-word-filtered keyword list per token, which only its lemma context enhancer
reads. Our recognizers do their own context scoring, so artifacts carry just the entities.
Without NER nothing of spaCy is needed at all, so no doc is made (the name lists and patterns
work on the raw text).
"""

from __future__ import annotations

import logging
from collections.abc import Generator, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import spacy
from presidio_analyzer.nlp_engine import NerModelConfiguration, NlpArtifacts, SpacyNlpEngine
from spacy.language import Language
from spacy.tokens import Doc

logger = logging.getLogger(__name__)

MODEL_CANDIDATES = ("nl_core_news_lg", "nl_core_news_md", "nl_core_news_sm")
LANGUAGE = "nl"

INSTALL_HINT_NL = (
    "Installeer voor betere naamherkenning een Nederlands spaCy-model: "
    "`python -m spacy download nl_core_news_md` (eenmalig, met internet) of op een offline machine "
    "`pip install nl_core_news_md-<versie>-py3-none-any.whl`, en laat detection.spacy_model op 'auto'."
)
INSTALL_HINT_EN = (
    "For better name detection install a Dutch spaCy model: `python -m spacy download "
    "nl_core_news_md` (once, online) or `pip install nl_core_news_md-<version>-py3-none-any.whl` "
    "offline, and keep detection.spacy_model at 'auto'."
)
FALLBACK_MODE = "naamlijsten (geen spaCy-model)"

_NOTICE_LOGGED: set[str] = set()


@dataclass
class NlpChoice:
    """The pipeline in use and how to describe it to the IT person reading the run report."""

    nlp: Language
    model: str | None
    has_ner: bool
    mode: str
    notice: str | None


def _ner_dependencies(nlp: Language) -> set[str]:
    """Components NER needs: itself and any shared tok2vec/transformer it listens to."""
    needed = {"ner"}
    for name, component in nlp.pipeline:
        listeners = getattr(component, "listening_components", None) or []
        if "ner" in listeners:
            needed.add(name)
    return needed


def _lean(nlp: Language) -> Language:
    """Disable every component NER does not need (tagger, parser, lemmatizer, ...)."""
    needed = _ner_dependencies(nlp)
    for name in list(nlp.pipe_names):
        if name not in needed:
            nlp.disable_pipe(name)
    return nlp


def _fallback(reason_nl: str, reason_en: str) -> NlpChoice:
    notice = (
        f"{reason_nl} Namen worden herkend met de ingebouwde naamlijsten (minder volledig). "
        f"{INSTALL_HINT_NL} / {reason_en} Names are found with the built-in name lists "
        f"(less complete). {INSTALL_HINT_EN}"
    )
    if notice not in _NOTICE_LOGGED:
        _NOTICE_LOGGED.add(notice)
        logger.warning(notice)
    return NlpChoice(spacy.blank(LANGUAGE), None, False, FALLBACK_MODE, notice)


def choose_pipeline(spec: str) -> NlpChoice:
    """Load the pipeline ``spec`` asks for, never downloading, falling back to the name lists."""
    spec = (spec or "auto").strip()
    if spec.lower() == "none":
        return NlpChoice(spacy.blank(LANGUAGE), None, False, "naamlijsten (spaCy-model uitgezet)", None)
    if spec.lower() == "auto":
        name = next((m for m in MODEL_CANDIDATES if spacy.util.is_package(m)), None)
        if name is None:
            return _fallback(
                "Geen Nederlands spaCy-model (nl_core_news_sm/md/lg) geïnstalleerd.",
                "No Dutch spaCy model (nl_core_news_sm/md/lg) is installed.",
            )
        target: str | Path = name
        label = name
    else:
        path = Path(spec).expanduser()
        if path.exists():
            target, label = path, f"{path.name} (pad)"
        elif spacy.util.is_package(spec):
            target, label = spec, spec
        else:
            return _fallback(
                "Het ingestelde spaCy-model is niet gevonden (geen pakket en geen map).",
                "The configured spaCy model was not found (neither a package nor a folder).",
            )
    try:
        nlp = spacy.load(target)
    except Exception:  # a broken or incompatible model must not stop the run
        logger.exception("spaCy-model laden mislukt / loading spaCy model failed")
        return _fallback(
            "Het spaCy-model kon niet geladen worden (beschadigd of verkeerde spaCy-versie).",
            "The spaCy model could not be loaded (damaged or wrong spaCy version).",
        )
    if nlp.lang != LANGUAGE or "ner" not in nlp.pipe_names:
        return _fallback(
            "Het spaCy-model is niet Nederlands of heeft geen NER-component.",
            "The spaCy model is not Dutch or has no NER component.",
        )
    return NlpChoice(_lean(nlp), str(target), True, f"spaCy {label} + naamlijsten", None)


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
        self.has_ner = choice.has_ner
        self._empty = choice.nlp.make_doc("")

    def load(self) -> None:
        """Already loaded in :func:`choose_pipeline`; never download anything."""

    def empty_artifacts(self) -> NlpArtifacts:
        return NlpArtifacts(
            entities=[], tokens=self._empty, tokens_indices=[], lemmas=[], nlp_engine=None,
            language=LANGUAGE, scores=[],
        )

    def _doc_to_nlp_artifact(self, doc: Doc, language: str) -> NlpArtifacts:
        entities, scores = self._get_updated_entities(
            list(doc.ents), self._get_scores_for_entities(doc)
        )
        return NlpArtifacts(
            entities=entities, tokens=doc, tokens_indices=[], lemmas=[], nlp_engine=None,
            language=language, scores=scores,
        )

    def process_text(self, text: str, language: str) -> NlpArtifacts:
        if not self.has_ner:
            return self.empty_artifacts()
        return super().process_text(text, language)

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
        if not self.has_ner:
            for text in texts:
                yield text, self.empty_artifacts()
            return
        # spaCy's nlp.pipe, which presidio hands ``texts`` to, takes any iterable
        yield from super().process_batch(
            texts, language, batch_size=batch_size, n_process=n_process, as_tuples=False,  # type: ignore[arg-type]
        )
