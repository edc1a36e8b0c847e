"""Evaluation against a labelled corpus: precision/recall per entity, per category, for the verdict.

``python -m detectors.evaluation [corpus_dir]`` prints the report; ``run_evaluation`` returns it
for the CLI (``schoonschip evaluate``) and the tests. The corpus format is described in
``eval/generate_corpus.py`` (one ``.txt`` per document plus ``labels.json``).

Matching: a finding matches a labelled span of the same entity when they overlap (one to one).
Names found via the roster (``STUDENT_ROSTER``) also count as ``PERSON`` for the PERSON line,
and have their own line. Spans labelled ``optional`` (a sender's signature details, which the
verdict deliberately ignores) count neither as a miss nor as a false hit. Category terms and
LOCATION are not scored per span; categories are scored per document, against the categories of
documents that hold student data.

Corpus-level ``settings`` in labels.json (a student-number pattern, a roster file) replace the
caller's, because the labels were made for them: a school's own roster or number pattern would
not match the synthetic students. Everything else (spaCy model, threshold, lexicon folders) is
the caller's, so ``schoonschip evaluate`` measures the configured detector.
"""

from __future__ import annotations

import json
import secrets
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from detectors import entities as E
from detectors.engine import build_detector
from detectors.settings import DetectionSettings, RosterSettings
from scanner.core.categories import CATEGORY_ORDER
from scanner.core.model import Finding, TextPart, Verdict
from scanner.core.privacy import ValueHasher

_SOURCE_CORPUS = Path(__file__).resolve().parent.parent / "eval" / "corpus"
_PACKAGED_CORPUS = Path(__file__).resolve().parent / "_eval" / "corpus"  # in the wheel
DEFAULT_CORPUS = _SOURCE_CORPUS if _SOURCE_CORPUS.is_dir() else _PACKAGED_CORPUS
HELDOUT_CORPUS = DEFAULT_CORPUS.parent / "heldout"
SCORED_ENTITIES = (
    E.NL_BSN, E.NL_ONDERWIJSNUMMER, E.NL_ID_DOCUMENT, E.NL_LEERLINGNUMMER, E.DATE_OF_BIRTH,
    E.PHONE_NUMBER, E.EMAIL_ADDRESS, E.NL_ADDRESS, E.IBAN_CODE, E.PERSON, E.STUDENT_ROSTER,
)
HARD_NEGATIVE_ENTITIES = (E.NL_BSN, E.NL_ONDERWIJSNUMMER)


def default_corpus_dir() -> Path:
    """The development corpus: ``eval/corpus`` in the source tree, ``detectors/_eval`` in a wheel."""
    return DEFAULT_CORPUS


@dataclass
class Score:
    """Counts of true positives, false positives and false negatives."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass
class EvaluationReport:
    """The outcome of one evaluation run."""

    corpus: str
    documents: int
    mode: str
    seconds: float
    entities: dict[str, Score] = field(default_factory=dict)
    categories: dict[str, Score] = field(default_factory=dict)
    verdict: Score = field(default_factory=Score)
    hard_negative_hits: dict[str, int] = field(default_factory=dict)
    person_by_origin: dict[str, Score] = field(default_factory=dict)
    wrong_verdicts: list[str] = field(default_factory=list)

    def target_failures(self) -> list[str]:
        """The project's targets that are not met (empty when all are)."""
        failures = []
        for entity in HARD_NEGATIVE_ENTITIES:
            score = self.entities.get(entity)
            if score is not None and score.recall < 1.0:
                failures.append(f"{entity} recall {score.recall:.3f} < 1.0")
            if self.hard_negative_hits.get(entity, 0):
                failures.append(f"{entity}: {self.hard_negative_hits[entity]} hits on hard negatives")
        roster = self.entities.get(E.STUDENT_ROSTER)
        # the roster decides for pupils (issue 17)
        if roster is not None and roster.tp + roster.fn and (roster.precision < 1.0 or roster.recall < 1.0):
            failures.append(f"{E.STUDENT_ROSTER} precision/recall {roster.precision:.3f}/"
                            f"{roster.recall:.3f} < 1.0")
        if self.verdict.precision < 0.95:
            failures.append(f"verdict precision {self.verdict.precision:.3f} < 0.95")
        if self.verdict.recall < 0.95:
            failures.append(f"verdict recall {self.verdict.recall:.3f} < 0.95")
        return failures

    def format(self) -> str:
        """A plain-text report (Dutch headings, English in brackets)."""
        lines = [
            f"Evaluatie / evaluation: {self.documents} documenten, detector: {self.mode}, "
            f"{self.seconds:.2f} s",
            "",
            f"{'entiteit / entity':<22}{'prec':>7}{'recall':>8}{'f1':>7}{'tp':>6}{'fp':>5}{'fn':>5}",
        ]
        for name, score in self.entities.items():
            lines.append(_row(name, score))
        if self.person_by_origin:
            lines += ["", f"{'PERSON per herkomst':<22}{'prec':>7}{'recall':>8}{'f1':>7}{'tp':>6}{'fp':>5}{'fn':>5}"]
            for name, score in sorted(self.person_by_origin.items()):
                lines.append(_row(name, score))
        lines += ["", f"{'categorie / category':<22}{'prec':>7}{'recall':>8}{'f1':>7}{'tp':>6}{'fp':>5}{'fn':>5}"]
        for name, score in self.categories.items():
            lines.append(_row(name, score))
        lines += ["", f"{'oordeel / verdict':<22}{'prec':>7}{'recall':>8}{'f1':>7}{'tp':>6}{'fp':>5}{'fn':>5}",
                  _row("student_data", self.verdict), ""]
        hits = ", ".join(f"{k}={v}" for k, v in self.hard_negative_hits.items())
        lines.append(f"treffers op harde negatieven / hits on hard negatives: {hits}")
        if self.wrong_verdicts:
            lines.append("verkeerd oordeel / wrong verdict: " + ", ".join(self.wrong_verdicts))
        failures = self.target_failures()
        lines.append("doelen / targets: " + ("gehaald / met" if not failures else "; ".join(failures)))
        return "\n".join(lines)


def _row(name: str, s: Score) -> str:
    return f"{name:<22}{s.precision:>7.3f}{s.recall:>8.3f}{s.f1:>7.3f}{s.tp:>6}{s.fp:>5}{s.fn:>5}"


@dataclass
class CorpusDocument:
    """One labelled document, with the text parts the detector will see."""

    doc_id: str
    label: dict[str, Any]
    text: str
    parts: list[TextPart]
    offsets: dict[str | None, int]


def load_corpus(corpus_dir: Path) -> tuple[dict[str, Any], list[CorpusDocument]]:
    """Read labels.json and the documents; ``parts: lines`` documents become one part per line."""
    corpus_dir = Path(corpus_dir)
    label_file = corpus_dir / "labels.json"
    if not label_file.is_file():
        raise FileNotFoundError(
            "geen labels.json in de corpusmap (het ontwikkelcorpus staat in eval/corpus van de "
            "broncode) / no labels.json in the corpus folder"
        )
    labels = json.loads(label_file.read_text(encoding="utf-8"))
    documents = []
    for doc_id, label in sorted(labels["documents"].items()):
        text = (corpus_dir / label["file"]).read_text(encoding="utf-8")
        if label.get("parts") == "lines":
            context = {"column_headers": label.get("column_headers", [])}
            offsets: dict[str | None, int] = {}
            parts, pos = [], 0
            for number, line in enumerate(text.split("\n"), start=1):
                location = f"regel {number}"
                if line.strip():
                    parts.append(TextPart(part="rijen.xlsx", text=line, location=location, context=context))
                offsets[location] = pos
                pos += len(line) + 1
        else:
            parts, offsets = [TextPart(part="body", text=text)], {None: 0}
        documents.append(CorpusDocument(doc_id, label, text, parts, offsets))
    return labels, documents


def _effective_settings(settings: DetectionSettings, labels: dict[str, Any], corpus_dir: Path) -> DetectionSettings:
    extra = labels.get("settings") or {}
    update: dict[str, Any] = {}
    if "student_number_pattern" in extra:
        update["student_number_pattern"] = extra["student_number_pattern"] or None
    if "roster" in extra:
        roster = extra["roster"]
        update["roster"] = RosterSettings(path=Path(corpus_dir) / roster) if roster else None
    return settings.model_copy(update=update) if update else settings


def _match(gold: list[tuple[int, int]], found: list[tuple[int, int]]) -> tuple[int, set[int], set[int]]:
    """Greedy one-to-one overlap matching; returns (#matched, matched gold idx, matched found idx)."""
    used_gold: set[int] = set()
    used_found: set[int] = set()
    for fi, (fs, fe) in enumerate(found):
        for gi, (gs, ge) in enumerate(gold):
            if gi not in used_gold and fs < ge and gs < fe:
                used_gold.add(gi)
                used_found.add(fi)
                break
    return len(used_found), used_gold, used_found


def _score_entities(report: EvaluationReport, doc: CorpusDocument, findings: list[Finding]) -> None:
    spans: dict[str, list[tuple[int, int]]] = {}
    for f in findings:
        offset = doc.offsets.get(f.location, 0)
        spans.setdefault(f.entity, []).append((offset + f.start, offset + f.end))
    gold: dict[str, list[tuple[int, int, bool]]] = {}
    for ent in doc.label["entities"]:
        gold.setdefault(ent["entity"], []).append((ent["start"], ent["end"], bool(ent.get("optional"))))
    groups = {e: ({e}, {e}) for e in SCORED_ENTITIES}
    groups[E.PERSON] = ({E.PERSON, E.STUDENT_ROSTER}, {E.PERSON, E.STUDENT_ROSTER})
    for entity, (gold_kinds, found_kinds) in groups.items():
        g = [x for k in gold_kinds for x in gold.get(k, [])]
        found = [x for k in found_kinds for x in spans.get(k, [])]
        required = [(s, e) for s, e, opt in g if not opt]
        optional = [(s, e) for s, e, opt in g if opt]
        n, _, used = _match(required, found)
        rest = [x for i, x in enumerate(found) if i not in used]
        _, _, used_optional = _match(optional, rest)
        score = report.entities.setdefault(entity, Score())
        score.tp += n
        score.fn += len(required) - n
        score.fp += len(rest) - len(used_optional)
        if entity == E.PERSON:
            _score_origins(report, doc, found)
        if doc.label.get("hard_negative") and entity in HARD_NEGATIVE_ENTITIES:
            report.hard_negative_hits[entity] = report.hard_negative_hits.get(entity, 0) + len(found)


def _score_origins(report: EvaluationReport, doc: CorpusDocument, found: list[tuple[int, int]]) -> None:
    """PERSON per origin group: gold spans labelled with an ``origin``; a false hit in a
    document of one origin (``label["origin"]``) or of ordinary-word names counts there."""
    people = [ent for ent in doc.label["entities"] if ent["entity"] in (E.PERSON, E.STUDENT_ROSTER)]
    labelled = [(ent["start"], ent["end"], ent["origin"]) for ent in people if ent.get("origin")]
    group = doc.label.get("origin") or ("woorden" if doc.label.get("kind") == "woorden_als_naam" else None)
    if not labelled and group is None:
        return
    for origin in sorted({o for _, _, o in labelled}):
        spans = [(s, e) for s, e, o in labelled if o == origin]
        n, _, _ = _match(spans, found)
        score = report.person_by_origin.setdefault(origin, Score())
        score.tp += n
        score.fn += len(spans) - n
    if group is not None:
        _, _, used = _match([(ent["start"], ent["end"]) for ent in people], found)
        report.person_by_origin.setdefault(group, Score()).fp += len(found) - len(used)


def _score_verdict(report: EvaluationReport, doc: CorpusDocument, verdict: Verdict) -> None:
    expected = bool(doc.label["student_data"])
    if expected and verdict.student_data:
        report.verdict.tp += 1
    elif verdict.student_data:
        report.verdict.fp += 1
    elif expected:
        report.verdict.fn += 1
    if expected != verdict.student_data:
        report.wrong_verdicts.append(doc.doc_id)
    gold = set(doc.label.get("categories", [])) if expected else set()
    got = set(verdict.categories)
    for category in CATEGORY_ORDER:
        score = report.categories.setdefault(category, Score())
        if category in gold and category in got:
            score.tp += 1
        elif category in got:
            score.fp += 1
        elif category in gold:
            score.fn += 1


def run_evaluation(corpus_dir: Path | None = None, settings: DetectionSettings | None = None,
                   hasher: ValueHasher | None = None) -> EvaluationReport:
    """Run the detector over a labelled corpus and score it (see module docstring)."""
    corpus_dir = Path(corpus_dir) if corpus_dir is not None else DEFAULT_CORPUS
    labels, documents = load_corpus(corpus_dir)
    settings = _effective_settings(settings or DetectionSettings(), labels, corpus_dir)
    detector = build_detector(settings, hasher or ValueHasher(secrets.token_bytes(32)))
    report = EvaluationReport(corpus=str(corpus_dir), documents=len(documents), mode=detector.mode,
                              seconds=0.0)
    for entity in HARD_NEGATIVE_ENTITIES:
        report.hard_negative_hits[entity] = 0
    started = time.perf_counter()
    verdicts = detector.analyze_many([doc.parts for doc in documents])
    report.seconds = time.perf_counter() - started
    for doc, verdict in zip(documents, verdicts, strict=True):
        _score_entities(report, doc, verdict.findings)
        _score_verdict(report, doc, verdict)
    return report


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    corpus = Path(args[0]) if args else DEFAULT_CORPUS
    report = run_evaluation(corpus)
    print(report.format())
    return 0 if not report.target_failures() else 1


if __name__ == "__main__":
    raise SystemExit(main())
