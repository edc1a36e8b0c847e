"""The evaluation harness: scoring arithmetic on a tiny corpus, and the targets on eval/corpus."""

from __future__ import annotations

import json

import pytest

from detectors.evaluation import DEFAULT_CORPUS, Score, main, run_evaluation
from detectors.settings import DetectionSettings


def test_score_arithmetic():
    s = Score(tp=8, fp=2, fn=8)
    assert s.precision == 0.8 and s.recall == 0.5 and round(s.f1, 3) == 0.615
    assert Score().precision == 1.0 and Score().recall == 1.0


def _write(tmp_path, docs):
    labels = {"settings": {}, "documents": {}}
    for doc_id, (text, student, categories, entities) in docs.items():
        (tmp_path / f"{doc_id}.txt").write_text(text, encoding="utf-8")
        labels["documents"][doc_id] = {
            "file": f"{doc_id}.txt", "kind": "test", "student_data": student,
            "categories": categories, "hard_negative": not student, "parts": "whole",
            "column_headers": [], "entities": entities}
    (tmp_path / "labels.json").write_text(json.dumps(labels), encoding="utf-8")


def test_small_corpus_counts_hits_and_misses(tmp_path):
    bsn_text = "BSN: 123456782"
    _write(tmp_path, {
        "a": (bsn_text, True, ["identificatie"], [{"entity": "NL_BSN", "start": 5, "end": 14}]),
        # labelled as student data but there is nothing to find: a verdict miss
        "b": ("Een gewone zin.", True, ["zorg"], []),
        # a hard negative where the detector does find a BSN: a false hit
        "c": ("BSN 123456782", False, [], []),
    })
    report = run_evaluation(tmp_path, DetectionSettings(spacy_model="none"))
    assert report.documents == 3
    assert (report.entities["NL_BSN"].tp, report.entities["NL_BSN"].fp) == (1, 1)
    assert (report.verdict.tp, report.verdict.fp, report.verdict.fn) == (1, 1, 1)
    assert report.hard_negative_hits["NL_BSN"] == 1
    assert report.categories["zorg"].fn == 1
    assert report.wrong_verdicts == ["b", "c"]
    failures = report.target_failures()
    assert any("hard negatives" in f for f in failures)
    text = report.format()
    assert "NL_BSN" in text and "student_data" in text


@pytest.mark.slow
def test_development_corpus_meets_targets(capsys):
    report = run_evaluation(DEFAULT_CORPUS, DetectionSettings(spacy_model="none"))
    assert report.documents >= 120
    assert report.entities["NL_BSN"].recall == 1.0
    assert report.entities["NL_ONDERWIJSNUMMER"].recall == 1.0
    assert report.hard_negative_hits == {"NL_BSN": 0, "NL_ONDERWIJSNUMMER": 0}
    assert report.verdict.precision >= 0.95 and report.verdict.recall >= 0.95
    assert report.target_failures() == []
    assert main([str(DEFAULT_CORPUS)]) == 0
    assert "doelen / targets: gehaald" in capsys.readouterr().out


def test_corpus_has_every_category_and_hard_negatives():
    labels = json.loads((DEFAULT_CORPUS / "labels.json").read_text(encoding="utf-8"))
    docs = labels["documents"].values()
    categories = {c for d in docs for c in d["categories"]}
    assert categories >= {"identificatie", "contactgegevens", "gezondheid", "zorg", "verzuim",
                          "thuissituatie", "veiligheid", "religie", "etniciteit", "cijfers"}
    assert sum(1 for d in docs if d["hard_negative"]) >= 40
    assert sum(1 for d in docs if d["student_data"]) >= 60


def test_corpus_settings_replace_the_callers_roster(tmp_path):
    from detectors.evaluation import _effective_settings
    from detectors.settings import RosterSettings

    mine = DetectionSettings(roster=RosterSettings(path=tmp_path / "eigen.csv"),
                             student_number_pattern=r"\d{7}")
    labels = {"settings": {"roster": "roster.csv", "student_number_pattern": r"\b\d{6}\b"}}
    effective = _effective_settings(mine, labels, tmp_path)
    assert effective.roster.path == tmp_path / "roster.csv"
    assert effective.student_number_pattern == r"\b\d{6}\b"
    assert _effective_settings(mine, {"settings": {}}, tmp_path) is mine


def test_default_corpus_dir_and_missing_labels(tmp_path):
    from detectors.evaluation import default_corpus_dir

    assert (default_corpus_dir() / "labels.json").is_file()
    with pytest.raises(FileNotFoundError, match="geen labels.json"):
        run_evaluation(tmp_path)
