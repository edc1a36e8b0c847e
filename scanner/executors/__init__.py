"""Executors run analysis batches: in-process, on a local process pool, or on a Dask cluster.

The pipeline driver hands an executor a lazy stream of :class:`Work` (a batch of item refs
plus an opaque tag) and gets back ``(tag, results)`` pairs as batches finish, in any order.
The driver stays the single writer; executors never touch the store. An executor keeps only a
bounded number of batches in flight, so memory stays flat however many items a run sees.
"""

from __future__ import annotations

import abc
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from scanner.analysis import AnalysisSpec
from scanner.core.model import AnalysisResult, ItemRef


@dataclass(frozen=True)
class Work:
    refs: list[ItemRef]
    tag: Any
    concurrency_key: str | None = None
    """Batches with the same key share a server-side limit (Graph: 4 requests per mailbox)."""


class Executor(abc.ABC):
    """Runs analysis batches for the pipeline driver."""

    name: str = "executor"

    def __init__(self, spec: AnalysisSpec) -> None:
        self.spec = spec

    @abc.abstractmethod
    def run(self, work: Iterable[Work]) -> Iterator[tuple[Any, list[AnalysisResult]]]:
        """Analyse every batch of ``work`` and yield ``(tag, results)`` as they complete."""

    @property
    @abc.abstractmethod
    def detection_mode(self) -> tuple[str, str | None]:
        """(mode, notice) of the detection engine the workers use, as the workers report it
        (never by building a second engine in the driver)."""

    def close(self) -> None:  # noqa: B027 - optional hook: an in-process executor holds nothing
        """Stop workers and release resources."""

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def build_executor(settings: Any, spec: AnalysisSpec) -> Executor:
    """The executor the configuration asks for (``executor.kind``)."""
    kind = settings.executor.kind
    if kind == "inline":
        from scanner.executors.inline import InlineExecutor

        return InlineExecutor(spec)
    if kind == "pool":
        from scanner.executors.pool import PoolExecutor

        return PoolExecutor(spec, workers=settings.executor.workers,
                            per_key_limit=settings.executor.per_mailbox_concurrency)
    if kind == "dask":
        from scanner.executors.dask import DaskExecutor

        return DaskExecutor(spec, address=settings.executor.dask_scheduler,
                            per_key_limit=settings.executor.per_mailbox_concurrency)
    raise ValueError(kind)
