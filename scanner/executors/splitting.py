"""Batches split after repeated failures, and the results of items that could not be analysed.

Shared by the pool and Dask executors: a batch that keeps killing its worker (or raising) is
split so one poisonous item is recorded alone, and the pipeline still gets the original tag
exactly once, with every part's results, as it expects.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from scanner.core.model import AnalysisResult, ItemError
from scanner.executors import Work


@dataclass(eq=False)
class SplitTag:
    """Tag of a batch that was split into single items after repeated worker deaths; the
    original tag is reported once, when every part is back, as the pipeline expects."""

    tag: Any
    remaining: int
    results: list[AnalysisResult] = field(default_factory=list)


def split(work: Work) -> list[Work]:
    """One single-item batch per ref of ``work``, all reporting under one :class:`SplitTag`."""
    tag = SplitTag(work.tag, len(work.refs))
    return [Work([ref], tag, work.concurrency_key) for ref in work.refs]


def emit(tag: Any, results: list[AnalysisResult]) -> Iterator[tuple[Any, list[AnalysisResult]]]:
    """Yield ``(tag, results)`` for a whole batch; a split batch's part is collected and its
    original tag yielded once, when the last part is back."""
    if isinstance(tag, SplitTag):
        tag.results.extend(results)
        tag.remaining -= 1
        if tag.remaining == 0:
            yield tag.tag, tag.results
        return
    yield tag, results


def lost_results(work: Work, died: bool = True) -> list[AnalysisResult]:
    """Results for items that could not be analysed because they kept crashing the worker."""
    if died:
        error = ItemError("worker_lost",
                          "analyse liet het verwerkingsproces vastlopen / analysis crashed the worker")
    else:
        error = ItemError("analysis_failed", "analyse mislukt / analysis failed")
    return [AnalysisResult(ref=ref, content_hash=None, verdict=None, errors=[error]) for ref in work.refs]
