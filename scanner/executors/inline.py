"""The default executor for a single school: analysis in the driver's own process."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from scanner.analysis import AnalysisSpec, Analyzer
from scanner.core.model import AnalysisResult
from scanner.executors import Executor, Work


class InlineExecutor(Executor):
    """Runs each batch in-process, one after the other. No pickling, no extra memory."""

    name = "inline"

    def __init__(self, spec: AnalysisSpec) -> None:
        super().__init__(spec)
        self._analyzer: Analyzer | None = None

    @property
    def analyzer(self) -> Analyzer:
        if self._analyzer is None:
            self._analyzer = Analyzer(self.spec)
        return self._analyzer

    @property
    def detection_mode(self) -> tuple[str, str | None]:
        return self.analyzer.mode, self.analyzer.mode_notice

    def run(self, work: Iterable[Work]) -> Iterator[tuple[Any, list[AnalysisResult]]]:
        for batch in work:
            yield batch.tag, self.analyzer.analyse(batch.refs)

    def close(self) -> None:
        if self._analyzer is not None:
            self._analyzer.close()
            self._analyzer = None
