"""Write what the detector finds on every evaluation text, to compare two versions of it.

A speed change to the detector must not change what it finds. Run this before and after the
change and compare the two files (``cmp``/``diff``): every finding (entity, offsets, score),
every verdict (student data, categories, reasons) of every text, with each finding's masked
sample, keyed value hash, category and location, in ``eval/corpus`` and
``eval/heldout``, once without and once with the corpus roster. The hasher key is fixed, so
the file is the same on every run of the same code; it holds masked samples and keyed hashes
only.

    python scripts/detector_snapshot.py /tmp/before.txt
"""

from __future__ import annotations

import sys
from pathlib import Path

from detectors.engine import build_detector
from detectors.evaluation import _effective_settings, load_corpus
from detectors.settings import DetectionSettings
from scanner.core.privacy import ValueHasher

ROOT = Path(__file__).resolve().parent.parent


def main(out: Path) -> int:
    hasher = ValueHasher(b"detector-snapshot-fixed-key-0000")
    lines: list[str] = []
    for corpus in (ROOT / "eval" / "corpus", ROOT / "eval" / "heldout"):
        labels, docs = load_corpus(corpus)
        for settings in (DetectionSettings(spacy_model="none"),
                         _effective_settings(DetectionSettings(spacy_model="none"), labels, corpus)):
            detector = build_detector(settings, hasher)
            for doc, verdict in zip(docs, detector.analyze_many([d.parts for d in docs]), strict=True):
                lines.append(f"{corpus.name}/{doc.doc_id} {verdict.student_data} {verdict.categories} "
                             f"{verdict.reasons}")
                lines += [f"  {f.entity} {f.part} {f.start}-{f.end} {f.score:.4f} {f.masked} "
                             f"{f.value_hash} {f.category} {f.location}"
                          for f in verdict.findings]
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"{len(lines)} regels naar {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
