"""Detection of student personal data in Dutch school texts (Presidio + Dutch recognizers).

Public interface (used by the pipeline and the CLI)::

    build_detector(settings, hasher) -> Detector
    Detector.mode, Detector.mode_notice, Detector.analyze(parts), Detector.analyze_many(items)
    explain(verdict, lang="nl") -> list[str]
    run_evaluation(corpus_dir, settings) -> EvaluationReport   (detectors.evaluation)
"""

from detectors.engine import Detector, build_detector, explain

__all__ = ["Detector", "build_detector", "explain"]
