"""The scan: discover, decide what needs analysis, analyse, store, evaluate retention.

The driver in this module is the only writer to the store. It walks sources and units,
compares what a connector reports with what is stored (one query per 500 items), writes
nothing for what is unchanged (only metadata that moved), closes what is gone, and streams the
rest to an executor in batches. A unit's
cursor is saved, and a fully listed unit's unseen items closed, only once every batch of that
unit was stored; so a run killed at any point resumes with the same results as a run that was
never interrupted: completed units are skipped, the interrupted unit is crawled again from its
old cursor, and items already stored with an unchanged change key are not analysed twice.
"""

from __future__ import annotations

import itertools
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from connectors.base import Connector, ConnectorContext, SourceConfig, SourceError
from connectors.registry import connector_class
from scanner.analysis import AnalysisSpec
from scanner.config import Settings
from scanner.core.model import AnalysisResult, Cursor, Gone, ItemRef, Seen, Unit
from scanner.core.privacy import load_or_create_secret
from scanner.executors import Executor, Work, build_executor
from scanner.retention_pass import recompute_retention
from scanner.store import Store, open_store
from scanner.store.lock import RunLock, acquire

log = logging.getLogger(__name__)

TRIAGE_CHUNK = 500
HEARTBEAT_SECONDS = 60.0


class DetectionSettingsError(Exception):
    """The detection engine refuses its settings (an unreadable roster, a bad number pattern):
    a configuration problem, raised before any item is touched."""


@dataclass
class SourceStats:
    kind: str
    seen: int = 0
    analysed: int = 0
    unchanged: int = 0
    closed: int = 0
    flagged: int = 0
    item_errors: int = 0
    source_errors: int = 0
    units: int = 0
    units_done: int = 0
    bytes_read: int = 0
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class RunSummary:
    run_id: int
    status: str
    seconds: float
    sources: dict[str, SourceStats]
    retention: dict[str, int]
    detection_mode: str
    detection_notice: str | None
    resumed: bool = False

    def totals(self) -> dict[str, int]:
        keys = ("seen", "analysed", "unchanged", "closed", "flagged", "item_errors", "source_errors", "bytes_read")
        return {k: sum(getattr(s, k) for s in self.sources.values()) for k in keys}


@dataclass(eq=False)
class _UnitState:
    source: SourceConfig
    unit: Unit
    outstanding: int = 0
    crawl_done: bool = False
    failed: bool = False
    cursor: str | None = None
    cursor_seen: bool = False
    seen: set[str] = field(default_factory=set)
    """Ids found unchanged and not written at all (for closing what was not seen)."""
    stats: dict[str, int] = field(default_factory=lambda: {"seen": 0, "analysed": 0, "unchanged": 0, "closed": 0})


ProgressHook = Callable[[str, dict[str, Any]], None]


class ScanRunner:
    """Runs one scan (or resumes an interrupted one) over every enabled source."""

    def __init__(self, settings: Settings, store: Store | None = None, *,
                 executor: Executor | None = None, stop: threading.Event | None = None,
                 progress: ProgressHook | None = None, today: datetime | None = None) -> None:
        self.settings = settings
        self.store = store or open_store(settings)
        self.stop = stop or threading.Event()
        self.progress = progress
        self.today = today
        self.secret = load_or_create_secret(settings.secret_path)
        self.sources = [s for s in settings.sources if s.enabled]
        self.context = ConnectorContext(
            max_item_bytes=settings.extraction.max_item_bytes,
            state_dir=str(settings.state_dir / "cache"),
        )
        self.spec = AnalysisSpec(sources=tuple(self.sources), detection=settings.detection,
                                 extraction=settings.extraction, secret=self.secret, context=self.context)
        self._executor = executor
        self.stats: dict[str, SourceStats] = {}
        self.run_id = 0
        self._last_heartbeat = 0.0
        self._lock: RunLock | None = None

    # --- the run ------------------------------------------------------------------------

    def run(self) -> RunSummary:
        started = time.monotonic()
        self.settings.state_dir.mkdir(parents=True, exist_ok=True)
        lock = self._lock = acquire(self.store, "scan")
        executor = self._executor or build_executor(self.settings, self.spec)
        resumed = False
        try:
            unfinished = self.store.unfinished_run("scan")
            host, pid = socket.gethostname(), os.getpid()
            if unfinished:
                self.run_id = unfinished["id"]
                resumed = True
                self.store.reopen_run(self.run_id, pid=pid, host=host, detection_mode=None,
                                      detection_notice=None)
                self._restore_stats(unfinished.get("stats") or {})
                log.info("resuming interrupted run %s", self.run_id)
            else:
                self.run_id = self.store.begin_run("scan", pid=pid, host=host)
            for source in self.sources:
                self.stats.setdefault(source.name, SourceStats(kind=source.kind))
            status = "completed"
            error = None
            mode, notice = self.store.last_detection_mode()
            try:
                # Crawl until the first batch that needs analysis: an incremental run in which
                # nothing changed never starts workers or loads a detection engine.
                work = self._work()
                first = next(work, None)
                if first is not None:
                    try:
                        # The engine logs its fallback notice once itself; the run keeps it for
                        # the run report and ``status``.
                        mode, notice = executor.detection_mode
                    except ValueError as exc:
                        raise DetectionSettingsError(str(exc)) from None
                    self.store.set_detection_mode(self.run_id, mode, notice)
                    for state, results in executor.run(itertools.chain([first], work)):
                        self._store_results(state, results)
                        self._heartbeat()
                else:
                    self.store.set_detection_mode(self.run_id, mode, notice)
                if self.stop.is_set():
                    status = "interrupted"
            except Exception as exc:
                status, error = "failed", f"{type(exc).__name__}"
                self.store.finish_run(self.run_id, status, self._stats_payload({}, executor), error)
                raise
            moved = self.store.absorb_moves(self.run_id)
            if moved:
                log.info("%d items moved within their source (findings kept)", moved)
            retention = recompute_retention(self.store, self.settings, today=self.today)
            self.store.finish_run(self.run_id, status, self._stats_payload(retention, executor), error)
            return RunSummary(self.run_id, status, time.monotonic() - started, self.stats, retention,
                              mode, notice, resumed)
        finally:
            if self._executor is None:
                executor.close()
            lock.release()

    # --- discovery and triage (runs in the driver, pulled by the executor) ---------------

    def _work(self) -> Iterator[Work]:
        for source in self.sources:
            if self.stop.is_set():
                return
            stats = self.stats[source.name]
            connector: Connector | None = None
            try:
                connector = connector_class(source.kind)(source, self.context)
                units = list(connector.units())
            except SourceError as exc:
                self._source_error(source.name, None, exc.code, str(exc))
                self._close(connector)
                continue
            except Exception as exc:  # noqa: BLE001 - a broken source never stops the others
                self._source_error(source.name, None, "failed",
                                   f"bron kon niet worden gelezen / source could not be read ({type(exc).__name__})")
                self._close(connector)
                continue
            stats.units = len(units)
            self._close_vanished_units(source, units)
            done = self.store.done_units(self.run_id, source.name)
            stats.units_done = len(done)
            for unit in units:
                if self.stop.is_set():
                    break
                if unit.key in done:
                    continue
                yield from self._crawl_unit(connector, source, unit)
            self._close(connector)

    def _crawl_unit(self, connector: Connector, source: SourceConfig, unit: Unit) -> Iterator[Work]:
        state = _UnitState(source=source, unit=unit)
        pending: list[ItemRef] = []
        gone: list[str] = []
        try:
            cursor = self.store.cursor(source.name, unit.key)
            for event in connector.crawl(unit, cursor):
                if isinstance(event, Seen):
                    pending.append(event.ref)
                    if len(pending) >= TRIAGE_CHUNK:
                        yield from self._triage(state, pending)
                        pending = []
                elif isinstance(event, Gone):
                    gone.append(event.item_key)
                    if len(gone) >= TRIAGE_CHUNK:
                        self._close_gone(state, gone)
                        gone = []
                elif isinstance(event, Cursor):
                    state.cursor, state.cursor_seen = event.value, True
                if self.stop.is_set():
                    state.failed = True  # not complete: the resumed run crawls it again
                    break
            yield from self._triage(state, pending)
            self._close_gone(state, gone)
            if not state.cursor_seen and not state.failed:
                raise SourceError("protocol", "crawl eindigde zonder cursor / crawl ended without cursor")
        except SourceError as exc:
            state.failed = True
            self._source_error(source.name, unit.key, exc.code, str(exc))
        except Exception as exc:
            state.failed = True
            log.exception("crawl of a unit of %s failed", source.name)
            self._source_error(source.name, unit.key, "crawl_failed",
                               f"map kon niet worden doorlopen / folder could not be crawled ({type(exc).__name__})")
        finally:
            for unit_key, code, message in connector.warnings:
                self._source_error(source.name, unit_key, code, message)
            connector.warnings.clear()
        state.crawl_done = True
        self._maybe_complete(state)

    def _close_vanished_units(self, source: SourceConfig, units: list[Unit]) -> None:
        """Close the items of units an earlier run completed but the source no longer lists
        (a deleted mail folder or home directory). A unit key ending in ``/*`` is a connector's
        sign that listing below that prefix failed this run: nothing under it is closed."""
        listed = {unit.key for unit in units}
        failed_prefixes = tuple(key[:-1] for key in listed if key.endswith("/*"))
        for unit_key in self.store.unit_keys(source.name) - listed:
            if failed_prefixes and unit_key.startswith(failed_prefixes):
                continue
            closed = self.store.close_unit(source.name, unit_key, self.run_id)
            self.stats[source.name].closed += closed

    def _triage(self, state: _UnitState, refs: list[ItemRef]) -> Iterator[Work]:
        if not refs:
            return
        source = state.source.name
        stats = self.stats[source]
        known = self.store.known_items(source, [ref.item_key for ref in refs])
        unchanged, changed = [], []
        for ref in refs:
            item = known.get(ref.item_key)
            if item and item.analysed and ref.change_key is not None and item.change_key == ref.change_key:
                unchanged.append(ref)
            elif item and item.analysed and item.content_hash:
                changed.append(replace(ref, stored_hash=item.content_hash))
            else:
                changed.append(ref)
        # Unchanged content. Write only rows whose metadata moved (an unchanged night then
        # writes nothing); facts the retention rules look at send the item back through them.
        moved, retention_facts = [], []
        for ref in unchanged:
            item = known[ref.item_key]
            facts_changed = ((item.folder or "") != ref.folder or set(item.labels) != set(ref.labels)
                             or item.state != "actief")
            if facts_changed or item.unit_key != ref.unit_key or item.owner != ref.owner or item.link != ref.link:
                moved.append(ref)
                if facts_changed:
                    retention_facts.append(item.id)
            else:
                state.seen.add(item.id)
        self.store.touch_items(self.run_id, moved)
        self.store.invalidate_retention(retention_facts)
        stats.seen += len(refs)
        stats.unchanged += len(unchanged)
        state.stats["seen"] += len(refs)
        state.stats["unchanged"] += len(unchanged)
        batch_size = self.settings.executor.batch_size
        for start in range(0, len(changed), batch_size):
            state.outstanding += 1
            yield Work(refs=changed[start:start + batch_size], tag=state,
                       concurrency_key=state.unit.concurrency_key)
        self._report_progress(state)

    def _close_gone(self, state: _UnitState, keys: list[str]) -> None:
        if keys:
            closed = self.store.close_items(state.source.name, keys, self.run_id)
            self.stats[state.source.name].closed += closed
            state.stats["closed"] += closed

    # --- results (single writer) ------------------------------------------------------------

    def _store_results(self, state: _UnitState, results: list[AnalysisResult]) -> None:
        source = state.source
        same = [r for r in results if r.content_unchanged]
        if same:
            # Only the change key moved: keep the findings, remember the new key.
            self.store.touch_items(self.run_id, [r.ref for r in same], refresh_change_key=True)
            self.store.invalidate_retention(self.store.item_id(r.ref.source, r.ref.item_key) for r in same)
            results = [r for r in results if not r.content_unchanged]
        self.store.save_results(self.run_id, results, source_kind=source.kind,
                                department=state.unit.department or source.department)
        results = results + same
        stats = self.stats[source.name]
        stats.analysed += len(results)
        state.stats["analysed"] += len(results)
        for result in results:
            stats.bytes_read += result.bytes_read
            stats.seconds += result.seconds
            stats.item_errors += len(result.errors)
            if result.verdict and result.verdict.student_data:
                stats.flagged += 1
        state.outstanding -= 1
        self._maybe_complete(state)
        self._report_progress(state)

    def _maybe_complete(self, state: _UnitState) -> None:
        if not state.crawl_done or state.outstanding or state.failed:
            return
        source, unit = state.source, state.unit
        if unit.full_listing:
            closed = self.store.close_unseen(source.name, unit.key, self.run_id, state.seen)
            state.seen = set()
            self.stats[source.name].closed += closed
            state.stats["closed"] += closed
        self.store.complete_unit(self.run_id, source.name, unit.key, unit.label, unit.owner,
                                 state.cursor, state.stats)
        self.stats[source.name].units_done += 1

    # --- bookkeeping --------------------------------------------------------------------

    def _source_error(self, source: str, unit_key: str | None, code: str, message: str) -> None:
        log.warning("source %s: %s (%s)", source, message, code)
        self.stats[source].source_errors += 1
        self.store.record_source_error(self.run_id, source, unit_key, code, message)

    def _heartbeat(self) -> None:
        now = time.monotonic()
        if self._lock is not None and now - self._last_heartbeat > HEARTBEAT_SECONDS:
            self._lock.heartbeat()
            self._last_heartbeat = now

    def _report_progress(self, state: _UnitState) -> None:
        if self.progress is not None:
            totals = {name: s.as_dict() for name, s in self.stats.items()}
            self.progress(state.source.name, totals[state.source.name])

    def _restore_stats(self, payload: dict[str, Any]) -> None:
        for name, values in (payload.get("sources") or {}).items():
            known = {k: v for k, v in values.items() if k in SourceStats.__dataclass_fields__}
            self.stats[name] = SourceStats(**known)

    def _stats_payload(self, retention: dict[str, int], executor: Executor) -> dict[str, Any]:
        return {
            "sources": {name: s.as_dict() for name, s in self.stats.items()},
            "retention": retention,
            "executor": executor.name,
            "finished": datetime.now(UTC).isoformat(),
        }

    @staticmethod
    def _close(connector: Connector | None) -> None:
        if connector is not None:
            try:
                connector.close()
            except Exception:  # noqa: BLE001 - closing is best effort
                pass
