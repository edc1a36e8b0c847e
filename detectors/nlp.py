"""The spaCy side of detection: which Dutch pipeline to load (spaCy imported only if there is one).

Model choice (``DetectionSettings.spacy_model``):

* ``"auto"``: the largest installed ``nl_core_news_{lg,md,sm}`` package;
* a package name or a path: that pipeline (tests train a tiny one and load it by path);
* ``"none"``: no model, names come from the name lists only.

Nothing is ever downloaded: Presidio's ``SpacyNlpEngine.load`` calls ``spacy.cli.download`` for
a missing model, so the pipeline is loaded here and handed to the engine ready-made. When no
usable model is found the engine still runs (tokenizer-free, see below) and says so once, in the
log and in :attr:`NlpChoice.notice`, Dutch first, with how to install a model.

spaCy (and Presidio, :mod:`detectors.presidio_bridge`) are imported only when a model is
actually loaded: ``auto`` looks for the packages' metadata without importing spaCy, so a default
run without a model starts in a fraction of a second.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

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

    nlp: Any  # a spacy.language.Language with NER, or None for the name lists only
    model: str | None
    has_ner: bool
    mode: str
    notice: str | None


def _ner_dependencies(nlp: Any) -> set[str]:
    """Components NER needs: itself and any shared tok2vec/transformer it listens to."""
    needed = {"ner"}
    for name, component in nlp.pipeline:
        listeners = getattr(component, "listening_components", None) or []
        if "ner" in listeners:
            needed.add(name)
    return needed


def _lean(nlp: Any) -> Any:
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
    return NlpChoice(None, None, False, FALLBACK_MODE, notice)


def _is_package(name: str) -> bool:
    """Whether a distribution ``name`` is installed (what ``spacy.util.is_package`` checks),
    without importing spaCy."""
    try:
        metadata.distribution(name)
    except Exception:  # noqa: BLE001 - as spaCy: an odd name or broken metadata is "not there"
        return False
    return True


def choose_pipeline(spec: str) -> NlpChoice:
    """Load the pipeline ``spec`` asks for, never downloading, falling back to the name lists."""
    spec = (spec or "auto").strip()
    if spec.lower() == "none":
        return NlpChoice(None, None, False, "naamlijsten (spaCy-model uitgezet)", None)
    if spec.lower() == "auto":
        name = next((m for m in MODEL_CANDIDATES if _is_package(m)), None)
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
        elif _is_package(spec):
            target, label = spec, spec
        else:
            return _fallback(
                "Het ingestelde spaCy-model is niet gevonden (geen pakket en geen map).",
                "The configured spaCy model was not found (neither a package nor a folder).",
            )
    try:
        import spacy  # only here: a run without a model never imports it

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
