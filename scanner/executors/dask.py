"""A Dask distributed cluster for the first scan of a school board (tens of millions of items).

The driver (``schoonschip scan`` on the scan server) stays the only writer to the database: it
crawls and triages, submits analysis batches to the scheduler, and stores the results as they
come back. Workers only fetch, extract and detect; they need network access to the sources,
never to the database. Each worker process builds its :class:`~scanner.analysis.Analyzer` once
(:func:`~scanner.analysis.worker_analyzer`) and reuses it for every batch.

Failure handling is the scheduler's: a worker that dies has its tasks rescheduled on another
worker (up to ``distributed.scheduler.allowed-failures`` times, then the task fails with
``KilledWorker``); a task that raises is retried ``retries`` times. A batch that still fails is
split and its items retried one by one. A single item whose task still dies may have been a
bystander on the poisoned worker (the scheduler blames every task assigned to it), so it is
run once more with nothing else in flight: only an item that fails on its own ends as
``worker_lost`` (or ``analysis_failed`` if it only raised), and its neighbours are stored
normally.

Per-mailbox limits (Graph allows 4 concurrent requests per mailbox) are enforced by the driver
at submission: it is the only process that submits this scan's tasks (the scan lock makes it the
only driver per database), so counting in-flight batches per concurrency key holds across the
whole cluster without distributed semaphores. A semaphore acquired inside a task would block a
worker thread while it waits and, when a worker dies, hold its lease until the lease times out.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Iterable, Iterator
from importlib import metadata
from typing import Any

from scanner.analysis import AnalysisSpec, worker_analyzer
from scanner.core.model import AnalysisResult, ItemRef
from scanner.executors import Executor, Work
from scanner.executors.admission import Admission
from scanner.executors.splitting import emit, lost_results, split

log = logging.getLogger(__name__)

_ANALYSE_LOCK = threading.Lock()
"""One analysis at a time per worker process: the process-wide Analyzer is shared by the
worker's threads (run workers with ``--nthreads 1`` and scale with ``--nworkers``)."""


def _package_version() -> str:
    try:
        return metadata.version("schoonschip")
    except metadata.PackageNotFoundError:
        return "unknown"


def analyse_task(spec: AnalysisSpec, refs: list[ItemRef]) -> list[AnalysisResult]:
    """The task run on a worker: analyse a batch with the process's analyzer."""
    with _ANALYSE_LOCK:
        return worker_analyzer(spec).analyse(refs)


def mode_task(spec: AnalysisSpec) -> tuple[str, str | None]:
    """The detection mode of a worker's engine (and the engine is loaded as a side effect)."""
    with _ANALYSE_LOCK:
        analyzer = worker_analyzer(spec)
        return analyzer.mode, analyzer.mode_notice


class DaskConfigError(RuntimeError):
    """The cluster cannot be used for this scan (no address, version mismatch, no workers)."""


class DaskExecutor(Executor):
    """Submits batches to a Dask scheduler and yields results as they complete."""

    name = "dask"

    def __init__(self, spec: AnalysisSpec, address: str | None, per_key_limit: int = 4,
                 retries: int = 2, in_flight_per_thread: int = 2, client: Any = None,
                 connect_timeout: float = 30.0, max_waiting: int = 1024) -> None:
        super().__init__(spec)
        if client is None and not address:
            raise DaskConfigError("executor.dask_scheduler ontbreekt (bijv. tcp://host:8786) / "
                                  "executor.dask_scheduler is missing (e.g. tcp://host:8786)")
        self.address = address
        self.per_key_limit = per_key_limit
        self.retries = retries
        self.in_flight_per_thread = in_flight_per_thread
        self.connect_timeout = connect_timeout
        self.max_waiting = max_waiting
        self._client = client
        self._own_client = client is None
        self.lost_batches = 0

    @property
    def client(self) -> Any:
        if self._client is None:
            from distributed import Client

            try:
                self._client = Client(  # type: ignore[no-untyped-call]  # distributed leaves it unannotated
                    self.address, timeout=self.connect_timeout, set_as_default=False)
            except (OSError, TimeoutError) as exc:
                raise DaskConfigError(f"Dask-scheduler {self.address} niet bereikbaar / Dask scheduler "
                                      f"{self.address} unreachable ({type(exc).__name__})") from None
            try:
                self._check_cluster(self._client)
            except Exception:
                self._client.close()
                self._client = None
                raise
        return self._client

    def _check_cluster(self, client: Any) -> None:
        """Refuse a cluster whose workers run another schoonschip (results would differ)."""
        try:
            client.wait_for_workers(1, timeout=self.connect_timeout)
        except TimeoutError:
            raise DaskConfigError("de Dask-cluster heeft geen workers / the Dask cluster has no workers") from None
        ours = _package_version()
        theirs = client.run(_package_version)
        wrong = sorted({v for v in theirs.values() if v != ours})
        if wrong:
            raise DaskConfigError(
                f"workers draaien schoonschip {', '.join(wrong)}, de scanserver {ours} / "
                f"workers run schoonschip {', '.join(wrong)}, the scan server {ours}")

    def capacity(self) -> int:
        threads: int = sum(self.client.nthreads().values())
        return max(2, threads * self.in_flight_per_thread)

    @property
    def detection_mode(self) -> tuple[str, str | None]:
        mode: tuple[str, str | None] = self.client.submit(mode_task, self.spec, pure=False,
                                                          retries=self.retries).result()
        return mode

    def run(self, work: Iterable[Work]) -> Iterator[tuple[Any, list[AnalysisResult]]]:
        """Keep the cluster at :meth:`capacity` and yield each batch's results as it completes."""
        from distributed import as_completed

        admission: Admission[Work] = Admission(work, key=_work_key, per_key_limit=self.per_key_limit,
                                               max_waiting=self.max_waiting)
        # Single items whose task died while other tasks shared the worker: any of them may
        # have been the one that killed it. Each is run again alone, so a death is unambiguous.
        suspects: deque[Work] = deque()
        alone: set[int] = set()
        running: dict[Any, Work] = {}
        completed = as_completed(loop=self.client.loop)  # type: ignore[no-untyped-call]
        try:
            while True:
                self._fill(admission, suspects, alone, running, completed)
                if not running:
                    if admission.drained and not suspects:
                        return
                    continue
                future = next(completed)
                item = running.pop(future)
                admission.finished(item)
                try:
                    results = future.result()
                except Exception as exc:  # noqa: BLE001 - KilledWorker, or a task that kept raising
                    yield from self._failed(item, exc, admission, suspects, alone)
                    continue
                finally:
                    future.release()
                yield from emit(item.tag, results)
        finally:
            for future in running:
                future.cancel()

    def _fill(self, admission: Admission[Work], suspects: deque[Work], alone: set[int],
              running: dict[Any, Work], completed: Any) -> None:
        """Submit batches up to the cluster's capacity; while a suspect is tried on its own,
        nothing else runs."""
        if suspects:
            if not running:
                suspect = suspects.popleft()
                alone.add(id(suspect))
                self._submit(suspect, admission, running, completed)
            return
        limit = self.capacity()
        while len(running) < limit:
            item = admission.next()
            if item is None:
                return
            self._submit(item, admission, running, completed)

    def _submit(self, item: Work, admission: Admission[Work], running: dict[Any, Work], completed: Any) -> None:
        # The spec travels with every task (a few KB, pickled once per submit). Scattering it
        # once is cheaper but fragile: when every worker holding the scattered copy has died
        # (a poisonous item can kill them one after the other) the copy is gone and every task
        # that depends on it is cancelled.
        future = self.client.submit(analyse_task, self.spec, item.refs, pure=False, retries=self.retries)
        running[future] = item
        admission.started(item)
        completed.add(future)

    def _failed(self, item: Work, exc: BaseException, admission: Admission[Work], suspects: deque[Work],
                alone: set[int]) -> Iterator[tuple[Any, list[AnalysisResult]]]:
        """Split a failed batch; try a single item again alone; record it lost if it fails alone."""
        from distributed.scheduler import KilledWorker

        died = isinstance(exc, KilledWorker)
        if len(item.refs) > 1:
            log.warning("a batch failed on the cluster (%s); splitting it", type(exc).__name__)
            for part in split(item):
                admission.hold(part)
            return
        if id(item) not in alone:
            suspects.append(item)
            return
        log.warning("an item failed on the cluster on its own (%s); recording it as lost", type(exc).__name__)
        self.lost_batches += 1
        yield from emit(item.tag, lost_results(item, died))

    def close(self) -> None:
        if self._client is not None and self._own_client:
            try:
                self._client.close()
            except Exception:  # noqa: BLE001 - closing is best effort
                pass
        self._client = None


def _work_key(item: Work) -> str | None:
    """The mailbox limit a batch counts against (the admission's key)."""
    return item.concurrency_key
