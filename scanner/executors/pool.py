"""A local process pool: all cores of the scan server, one analysis engine per worker.

Why not :class:`concurrent.futures.ProcessPoolExecutor`: when one of its workers dies (the OOM
killer, a segfault in a parser) the whole executor is marked broken, every in-flight future
fails with ``BrokenProcessPool`` and further ``submit`` calls raise at once; nobody can tell
which batch killed the worker, so innocent batches are charged and the engines of the healthy
workers (a spaCy pipeline each) are thrown away. This pool keeps one pipe per worker; a worker
holds at most two batches (it starts the next while the driver stores the last) and answers in
order, so the batch a dead worker was running is known exactly: only that worker is replaced,
only that batch is charged a retry, and the other workers keep running.

Workers are forked from a ``forkserver`` (where the platform has one, else ``spawn``): a fresh
interpreter started once per driver process that has imported the worker's modules
(:data:`FORKSERVER_PRELOAD`) and holds no threads, locks or database connections, so each
worker starts without paying the interpreter start and the imports again. Each builds its
:class:`~scanner.analysis.Analyzer` once, before it reports ready; batches then carry only item
refs. The ready message also carries the detection mode, so the driver does not need an engine
of its own. Batches that share a concurrency key (a mailbox) run at most ``per_key_limit`` at a
time. A batch that kills its worker is retried up to ``max_attempts`` times; then it is split
and its items retried one by one, so one poisonous item is recorded as ``worker_lost`` instead
of taking its neighbours with it.
"""

from __future__ import annotations

import itertools
import logging
import multiprocessing
import os
import time
import traceback
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from typing import Any

from scanner.analysis import AnalysisSpec, worker_analyzer
from scanner.core.model import AnalysisResult
from scanner.executors import Executor, Work
from scanner.executors.admission import Admission
from scanner.executors.splitting import emit, lost_results, split

log = logging.getLogger(__name__)

STARTUP_FAILURES = 3
"""Workers that die before they are ready, in a row, before the pool gives up (a broken
configuration or a missing model would otherwise restart workers forever)."""

JOIN_SECONDS = 10.0
STARTUP_SECONDS = 600.0
"""How long the first worker may take to load its engine (a large spaCy model on a slow disk)."""
FORKSERVER_PRELOAD = ("scanner.executors.pool", "scanner.analysis", "scanner.config",
                      "scanner.extract", "detectors", "detectors.engine", "detectors.recognizers",
                      "connectors.registry", "scanner.executors.warm")
"""What the forkserver imports once for every worker of the driver process: the worker's own
code, the settings models its spec unpickles into, detection and extraction. A spawned worker
imported these itself (with the driver's ``__main__``, the whole CLI): ~0.4 s of CPU per
worker. The last, :mod:`scanner.executors.warm`, also loads what the engine needs that does
not depend on the spec (the name lists) and the modules of the first batch, once instead of
once per worker and restart. Plug-in modules (``preload``) and the sources' connectors are still imported by each
worker, as before; the connectors' modules are light."""
QUEUE_DEPTH = 2
"""Batches given to a worker at a time: it starts the next while the driver stores the last.
Workers answer in order, so after a death the oldest unanswered batch is the one that ran."""


def _worker_main(spec: AnalysisSpec, conn: Connection, preload: tuple[str, ...],
                 environment: dict[str, str] | None = None, cwd: str | None = None) -> None:
    """A worker process: build the engine once, then analyse batches until told to stop.

    ``environment`` and ``cwd``: the driver's when it started this worker; a forked worker
    would otherwise have the forkserver's (those of the driver's first pool), a spawned one
    always had the current.

    When the driver dies (kill -9, OOM) the worker leaves at once and quietly: a watcher thread
    ends the process as soon as the parent is gone, also in the middle of a long batch, and a
    pipe that broke while sending is a normal end, not a traceback on the cron mail.
    """
    import importlib
    import signal

    # Ctrl-C in a terminal reaches the whole process group; the driver decides how a run stops
    # (its workers are closed or killed by it), so a worker must not die mid-batch on SIGINT.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _exit_with_parent()
    if environment is not None:
        os.environ.clear()
        os.environ.update(environment)
    if cwd is not None:
        try:
            os.chdir(cwd)
        except OSError:
            pass  # the driver's folder is gone: a spawned worker would have failed to start there
    try:
        for module in preload:
            importlib.import_module(module)
        analyzer = worker_analyzer(spec)
        conn.send(("ready", analyzer.mode, analyzer.mode_notice))
        while True:
            try:
                message = conn.recv()
            except (EOFError, OSError):
                break  # the driver is gone
            if message is None:
                break
            task_id, refs = message
            try:
                results = analyzer.analyse(refs)
            except Exception as exc:  # noqa: BLE001 - reported to the driver, the worker lives on
                log.debug("analysis raised in a worker: %s", "".join(traceback.format_exception_only(exc)))
                conn.send(("failed", task_id, type(exc).__name__))
                continue
            conn.send(("done", task_id, results))
    except (BrokenPipeError, ConnectionResetError, EOFError):
        os._exit(0)  # the driver went away while we answered: nobody is left to tell
    analyzer.close()


def _exit_with_parent() -> None:
    """End this worker as soon as its driver process is gone (a daemon thread waiting on the
    parent's sentinel; ``os._exit`` so no cleanup prints or blocks on the dead pipe)."""
    import threading
    from multiprocessing import parent_process
    from multiprocessing.connection import wait

    parent = parent_process()
    if parent is None:
        return

    def watch() -> None:
        wait([parent.sentinel])
        os._exit(0)

    threading.Thread(target=watch, name="schoonschip-parent-watch", daemon=True).start()


@dataclass(eq=False)
class _Task:
    work: Work
    attempts: int = 0
    id: int = 0


@dataclass(eq=False)
class _Worker:
    process: Any
    conn: Connection
    ready: bool = False
    tasks: deque[_Task] = field(default_factory=deque)


class PoolStartupError(RuntimeError):
    """Workers keep dying before they are ready: the engine cannot be built."""


class PoolExecutor(Executor):
    """Runs batches on ``workers`` local processes (default: all cores)."""

    name = "pool"

    def __init__(self, spec: AnalysisSpec, workers: int | None = None, per_key_limit: int = 4,
                 max_attempts: int = 2, preload: tuple[str, ...] = (), max_waiting: int = 1024) -> None:
        super().__init__(spec)
        self.workers = workers or os.cpu_count() or 1
        self.per_key_limit = per_key_limit
        self.max_attempts = max_attempts
        self.preload = tuple(preload)
        self.max_waiting = max_waiting
        self.restarts = 0
        self._context = _start_context()
        self._pool: list[_Worker] = []
        self._mode: tuple[str, str | None] | None = None
        self._startup_failures = 0
        self._ids = itertools.count(1)

    # --- workers --------------------------------------------------------------------------

    def _spawn(self) -> _Worker:
        parent, child = self._context.Pipe(duplex=True)
        process = self._context.Process(target=_worker_main,
                                        args=(self.spec, child, self.preload, dict(os.environ),
                                              _current_folder()),
                                        name="schoonschip-analyse", daemon=True)
        process.start()
        child.close()
        return _Worker(process, parent)

    def _ensure_pool(self) -> None:
        while len(self._pool) < self.workers:
            self._pool.append(self._spawn())

    def _replace(self, worker: _Worker) -> None:
        """Reap a dead worker and start a fresh one in its place."""
        worker.conn.close()
        worker.process.join(timeout=JOIN_SECONDS)
        if not worker.ready:
            self._startup_failures += 1
            if self._startup_failures >= STARTUP_FAILURES:
                raise PoolStartupError(
                    "analyseprocessen stoppen tijdens het opstarten / analysis workers die while starting "
                    f"(exit code {worker.process.exitcode})")
        self._pool[self._pool.index(worker)] = self._spawn()
        self.restarts += 1
        log.warning("an analysis worker process died (exit code %s); it was replaced (%d)",
                    worker.process.exitcode, self.restarts)

    def _receive(self, worker: _Worker) -> tuple[Any, ...] | None:
        """The worker's next message, or None if it died."""
        try:
            message: tuple[Any, ...] = worker.conn.recv()
            return message
        except (EOFError, OSError):
            return None

    @property
    def detection_mode(self) -> tuple[str, str | None]:
        """Reported by the first worker that is ready (its engine is then loaded)."""
        self._ensure_pool()
        deadline = time.monotonic() + STARTUP_SECONDS
        while self._mode is None:
            ready = wait([w.conn for w in self._pool], timeout=max(0.0, deadline - time.monotonic()))
            if not ready:
                raise PoolStartupError("analyseprocessen werden niet op tijd klaar met opstarten / "
                                       f"analysis workers were not ready within {STARTUP_SECONDS:.0f} s")
            for worker in [w for w in self._pool if w.conn in ready]:
                message = self._receive(worker)
                if message is None:
                    self._replace(worker)
                    continue
                self._on_message(worker, message)
        return self._mode

    def wait_ready(self, timeout: float = STARTUP_SECONDS) -> None:
        """Block until every worker has loaded its engine (benchmarks and tests that want to
        measure or exercise the pool at full strength from the first batch)."""
        self._ensure_pool()
        deadline = time.monotonic() + timeout
        while not all(w.ready for w in self._pool):
            pending = [w for w in self._pool if not w.ready]
            ready = wait([w.conn for w in pending], timeout=max(0.0, deadline - time.monotonic()))
            if not ready:
                raise PoolStartupError("analyseprocessen werden niet op tijd klaar met opstarten / "
                                       f"analysis workers were not ready within {timeout:.0f} s")
            for worker in [w for w in pending if w.conn in ready]:
                message = self._receive(worker)
                if message is None:
                    self._replace(worker)
                else:
                    self._on_message(worker, message)

    def _on_message(self, worker: _Worker, message: tuple[Any, ...]) -> tuple[Any, ...] | None:
        """Handle a message; returns ``(task, outcome, payload)`` for a finished task."""
        if message[0] == "ready":
            worker.ready = True
            self._startup_failures = 0
            self._mode = self._mode or (message[1], message[2])
            return None
        task = worker.tasks.popleft()  # a worker answers in the order it was given batches
        assert task.id == message[1]
        return task, message[0], message[2]

    # --- the run --------------------------------------------------------------------------

    def run(self, work: Iterable[Work]) -> Iterator[tuple[Any, list[AnalysisResult]]]:
        """Keep every worker busy, collect what finished or died, then hand results out.

        Idle workers get their next batch before the results are yielded, so they work while
        the driver stores the previous ones.
        """
        self._ensure_pool()
        admission: Admission[_Task] = Admission((_Task(w) for w in work), key=_task_key,
                                                per_key_limit=self.per_key_limit, max_waiting=self.max_waiting)
        while True:
            self._fill(admission)
            if admission.drained and not any(w.tasks for w in self._pool):
                return
            finished = self._collect(admission)
            self._fill(admission)
            for task, outcome, payload in finished:
                if outcome == "done":
                    yield from emit(task.work.tag, payload)
                elif outcome == "died":
                    yield from self._retry_or_give_up(task, admission, died=True)
                else:
                    log.warning("analysis of a batch raised %s in a worker", payload)
                    yield from self._retry_or_give_up(task, admission, died=False)

    def _fill(self, admission: Admission[_Task]) -> None:
        """Keep every ready worker's queue at ``QUEUE_DEPTH`` batches, so a worker starts its
        next batch while the driver is still storing the previous one. Idle workers are
        served first; a worker never queues a second batch of a mailbox it is already working
        on, or one mailbox's share of the limit would run one after the other."""
        for depth in range(1, QUEUE_DEPTH + 1):
            for worker in self._pool:
                if not worker.ready or len(worker.tasks) >= depth:
                    continue
                task = admission.next({t.work.concurrency_key for t in worker.tasks if t.work.concurrency_key})
                if task is None:
                    continue
                if not self._assign(worker, task, admission):
                    admission.hold(task, first=True)

    def _assign(self, worker: _Worker, task: _Task, admission: Admission[_Task]) -> bool:
        """Send ``task`` to ``worker``; False if the worker was already dead (no charge)."""
        task.attempts += 1
        task.id = next(self._ids)
        try:
            worker.conn.send((task.id, task.work.refs))
        except (OSError, EOFError, BrokenPipeError):
            task.attempts -= 1  # the worker was already dead: not this batch's fault
            return False
        worker.tasks.append(task)
        admission.started(task)
        return True

    def _collect(self, admission: Admission[_Task]) -> list[tuple[_Task, str, Any]]:
        """Wait until a worker answers or dies; ``(task, outcome, payload)`` for each batch that
        ended, outcome ``done``, ``failed`` (it raised) or ``died`` (it killed its worker)."""
        handles = [w.conn for w in self._pool] + [w.process.sentinel for w in self._pool]
        ready = set(wait(handles))
        finished: list[tuple[_Task, str, Any]] = []
        for worker in list(self._pool):
            if worker.conn not in ready and worker.process.sentinel not in ready:
                continue
            while worker.conn.poll():
                message = self._receive(worker)
                if message is None:
                    break
                outcome = self._on_message(worker, message)
                if outcome is not None:
                    finished.append(outcome)
            if not worker.process.is_alive():
                finished.extend(self._bury(worker, admission))
        for task, ended, _ in finished:
            if ended != "died":
                admission.finished(task)
        return finished

    def _bury(self, worker: _Worker, admission: Admission[_Task]) -> list[tuple[_Task, str, Any]]:
        """Replace a dead worker. The oldest unanswered batch was running and is charged;
        batches still queued behind it were never started and go back without a charge."""
        lost = list(worker.tasks)
        worker.tasks.clear()
        self._replace(worker)
        charged: list[tuple[_Task, str, Any]] = []
        for n, task in enumerate(lost):
            admission.finished(task)
            if n == 0:
                charged.append((task, "died", None))
            else:
                task.attempts -= 1
                admission.hold(task, first=True)
        return charged

    def _retry_or_give_up(self, task: _Task, admission: Admission[_Task], *,
                          died: bool) -> Iterator[tuple[Any, list[AnalysisResult]]]:
        """Retry a failed batch; after ``max_attempts`` split it, and record a lone item lost."""
        if task.attempts < self.max_attempts:
            admission.hold(task)
            return
        if len(task.work.refs) > 1:
            # Isolate the item that kills workers: retry each on its own, the tag shared.
            for part in split(task.work):
                admission.hold(_Task(part))
            return
        yield from emit(task.work.tag, lost_results(task.work, died))

    def close(self) -> None:
        for worker in self._pool:
            try:
                worker.conn.send(None)
            except (OSError, EOFError, BrokenPipeError):
                pass
        for worker in self._pool:
            worker.process.join(timeout=JOIN_SECONDS)
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join()
            worker.conn.close()
        self._pool = []


def _current_folder() -> str | None:
    """The driver's working directory, None when it was removed under it (the worker then
    keeps the forkserver's, where a spawned worker would have started in a missing folder)."""
    try:
        return os.getcwd()
    except OSError:
        return None


def _start_context() -> Any:
    """``forkserver`` with :data:`FORKSERVER_PRELOAD` where there is one (Linux), else ``spawn``.

    The preload list is the process-wide forkserver's: it counts from the first pool of a
    driver process on (a later pool's workers come from the same server)."""
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(list(FORKSERVER_PRELOAD))
        return context
    return multiprocessing.get_context("spawn")


def _task_key(task: _Task) -> str | None:
    """The mailbox limit a task counts against (the admission's key)."""
    return task.work.concurrency_key
