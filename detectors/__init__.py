"""Detection of student personal data in Dutch school texts (Presidio + Dutch recognizers).

Public interface (used by the pipeline and the CLI)::

    build_detector(settings, hasher) -> Detector
    Detector.mode, Detector.mode_notice, Detector.analyze(parts), Detector.analyze_many(items)
    explain(verdict, lang="nl") -> list[str]
    run_evaluation(corpus_dir, settings) -> EvaluationReport   (detectors.evaluation)
"""

from pathlib import Path

from scanner.core.compiled import guard

# Before any submodule: the mypyc build of the hot path runs only while it matches the sources.
COMPILED = guard(__name__, Path(__file__).resolve().parent)

from detectors.engine import Detector, build_detector, explain  # noqa: E402

__all__ = ["Detector", "build_detector", "explain"]
