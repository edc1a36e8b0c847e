"""The spaCy model path: a tiny Dutch NER pipeline trained here, loaded by path.

The nl_core_news models cannot be installed in CI (no network), so the test trains its own
pipeline (spacy.blank("nl") + sentencizer + ner, a few dozen examples), saves it to a temp
folder and points DetectionSettings.spacy_model at it. That exercises the real code path:
loading by path, disabling components NER does not need, batching through nlp.pipe and
Presidio's SpacyRecognizer turning entities into PERSON/LOCATION findings.
"""

from __future__ import annotations

import random

import pytest
import spacy
from spacy.training import Example

from detectors import build_detector
from detectors.nlp import choose_pipeline
from detectors.settings import DetectionSettings
from tests.detectors.conftest import body

# names deliberately absent from the shipped name lists
NAMES = ["Quirijn Oudejans", "Xandrijn Vossebeld", "Ozzy Brandsma", "Wikke Zwartkruis"]
PLACES = ["Zwolle", "Deventer", "Assen"]
TEMPLATES = [
    "{name} is vandaag ziek.",
    "Ik sprak {name} gisteren na de les.",
    "De ouders van {name} belden vanochtend.",
    "{name} woont in {place} bij haar oma.",
    "Gisteren kwam {name} te laat op school.",
]


def _examples(nlp):
    examples = []
    for name in NAMES:
        for template in TEMPLATES:
            place = PLACES[len(examples) % len(PLACES)]
            text = template.format(name=name, place=place)
            ents = [(text.index(name), text.index(name) + len(name), "PERSON")]
            if "{place}" in template:
                ents.append((text.index(place), text.index(place) + len(place), "LOC"))
            examples.append(Example.from_dict(nlp.make_doc(text), {"entities": ents}))
    return examples


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    spacy.util.fix_random_seed(7)
    nlp = spacy.blank("nl")
    nlp.add_pipe("sentencizer")
    nlp.add_pipe("ner")
    examples = _examples(nlp)
    optimizer = nlp.initialize(lambda: examples)
    rng = random.Random(7)
    for _ in range(40):
        rng.shuffle(examples)
        nlp.update(examples, sgd=optimizer, drop=0.1)
    path = tmp_path_factory.mktemp("models") / "nl_tiny_ner"
    nlp.to_disk(path)
    return path


@pytest.mark.slow
def test_model_loaded_by_path_with_unneeded_components_disabled(tiny_model):
    choice = choose_pipeline(str(tiny_model))
    assert choice.has_ner and choice.notice is None
    assert choice.nlp.pipe_names == ["ner"]
    assert "sentencizer" in choice.nlp.disabled


@pytest.mark.slow
def test_detector_uses_model_for_person(tiny_model, hasher):
    detector = build_detector(DetectionSettings(spacy_model=str(tiny_model)), hasher)
    assert detector.mode.startswith("spaCy nl_tiny_ner")
    assert detector.mode_notice is None
    text = "De ouders van Quirijn Oudejans belden vanochtend. Zij zit in groep 6."
    verdict = detector.analyze(body(text))
    persons = [f for f in verdict.findings if f.entity == "PERSON"]
    assert [text[f.start : f.end] for f in persons] == ["Quirijn Oudejans"]
    assert verdict.student_data
    # the same text batched with others gives the same result
    batch = detector.analyze_many([body("Niets bijzonders."), body(text)])
    assert [(f.entity, f.start) for f in batch[1].findings] == [(f.entity, f.start) for f in verdict.findings]
