"""The scan: discover, decide what needs analysis, analyse, store, evaluate retention.

The driver in this module is the only writer to the store. It walks sources and units,
compares what a connector reports with what is stored (one query per 500 items), writes
nothing for what is unchanged (only metadata that moved), closes what is gone, and streams the
rest to an executor in batches. A unit's
cursor is saved, and a fully listed unit's unseen items closed, only once every batch of that
unit was stored; so a run killed at any point resumes with the same results as a run that was
never interrupted: completed units are skipped, the interrupted unit is crawled again from its
old cursor, and items already stored with an unchanged change key are not analysed twice.

What the store says must stay true whatever the sources do (docs/architecture.md, "The store
tells the truth"):

- a unit whose crawl yielded :class:`~scanner.core.model.Resync` is a full listing for this run;
- nothing under a :class:`~scanner.core.model.Blind` prefix is closed, and the blind spot is a
  warning naming the place, not a failure;
- an item whose last attempt failed with a retryable error is queued again from the store in
  the next run (a delta never lists it again by itself), for ``scan.retry_attempts`` attempts,
  keeping its last good analysis meanwhile;
- a listing that would close more than ``scan.outage_share`` of what a unit or source held
  closes nothing until a second run sees the same or IT confirms (``--confirm-removals``);
- the run's figures are saved with every finished unit, so a resumed run reports all of it;
- a unit an interrupted attempt finished with a blind spot is crawled again when the run resumes
  (its figures taken back first): the resumed run is the next run, and the fault may be gone.
"""

from __future__ import annotations

import itertools
import logging
import os
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from connectors.base import Connector, ConnectorContext, SourceConfig, SourceError
from connectors.registry import connector_class
from detectors.settings import check_detection_settings
from scanner.analysis import AnalysisSpec
from scanner.config import Settings
from scanner.contained import MAIL_ARCHIVE_LABEL
from scanner.core.model import (
    AnalysisResult,
    Blind,
    Cursor,
    Exposure,
    Gone,
    ItemRef,
    Resync,
    Seen,
    Unit,
    contained_key,
    container_of,
)
from scanner.core.privacy import could_mask_to, load_installation_secret, private_directory, scrub
from scanner.executors import Executor, Work, build_executor
from scanner.retention_pass import WriteJudge, recompute_retention
from scanner.store import Store, open_store
from scanner.store.lock import RunLock, acquire

log = logging.getLogger(__name__)

TRIAGE_CHUNK = 500
OUTAGE = "suspected_outage"
HEARTBEAT_SECONDS = 60.0
INTERLEAVE_UNITS = 4
"""Units of one source crawled at once when its connector allows it (``parallel_units``):
with Graph's 4 requests per mailbox, four mailboxes keep 16 workers busy without the executor
holding one mailbox's batches to find another's (scanner.executors.admission)."""
WRITE_BATCH = 500
"""Results written per store transaction at most (measured: benchmarks/bench_driver.py)."""
WRITE_SECONDS = 0.5
COMPLETE_BATCH = 200
"""Finished units that close nothing are saved together, up to this many (or COMPLETE_SECONDS)
in one transaction of a few statements: an unchanged nightly scan costs per unit, and one
transaction of five statements per unit was most of it (docs/performance.md). A kill before
they are saved only makes the resumed run crawl those units again, which costs a listing."""
COMPLETE_SECONDS = 5.0
"""Results wait at most this long to be written: progress and a kill lose little."""


class DetectionSettingsError(Exception):
    """The detection engine refuses its settings (an unreadable roster, a bad number pattern):
    a configuration problem, raised before any item is touched."""


UNIT_COUNTS = ("seen", "analysed", "unchanged", "closed", "flagged", "item_errors", "bytes_read", "seconds",
               "retried", "stale", "gave_up")
"""Figures that belong to one unit's crawl: a unit interrupted before it finished is crawled
again by the resumed run, so these are saved only with the finished unit."""


@dataclass
class SourceStats:
    kind: str
    seen: int = 0
    analysed: int = 0
    unchanged: int = 0
    closed: int = 0
    """Items closed as deleted at the source (deletion evidence); moves are not in it."""
    moved: int = 0
    """Items found again under another key (same content): not deletions."""
    flagged: int = 0
    item_errors: int = 0
    source_errors: int = 0
    warnings: int = 0
    """Blind spots and suspected outages: handled safely, reported, not failures."""
    retried: int = 0
    """Items queued from the store because their last attempt failed (not listed by the source)."""
    stale: int = 0
    """Items that could not be read and keep their last good analysis."""
    gave_up: int = 0
    """Items whose last allowed attempt failed in this run: permanent errors now."""
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
        keys = ("seen", "analysed", "unchanged", "closed", "moved", "flagged", "item_errors", "source_errors",
                "warnings", "retried", "stale", "gave_up", "bytes_read")
        return {k: sum(getattr(s, k) for s in self.sources.values()) for k in keys}


@dataclass(eq=False)
class _UnitState:
    source: SourceConfig
    unit: Unit
    outstanding: int = 0
    crawl_done: bool = False
    failed: bool = False
    interrupted: bool = False
    """Stopped by a stop request: the resumed run crawls it again (and counts it then)."""
    cursor: str | None = None
    cursor_seen: bool = False
    resync: bool = False
    """The crawl said :class:`Resync`: a full listing this run, whatever the unit says."""
    blind: list[str] = field(default_factory=list)
    warned: bool = False
    """The connector recorded a warning during this unit's crawl."""
    """Item key prefixes this crawl could not see (:class:`Blind`): never closed this run."""
    seen: set[str] = field(default_factory=set)
    """Ids found unchanged and not written at all (for closing what was not seen)."""
    queued: set[str] = field(default_factory=set)
    """Ids this crawl queued for analysis (so the retry queue does not queue them twice)."""
    stats: dict[str, Any] = field(default_factory=lambda: dict.fromkeys(UNIT_COUNTS, 0))

    def count(self, runner_stats: SourceStats, key: str, value: int | float = 1) -> None:
        """Add to this unit's figure and the source's live figure at once."""
        self.stats[key] += value
        setattr(runner_stats, key, getattr(runner_stats, key) + value)


ProgressHook = Callable[[str, dict[str, Any]], None]


class ScanRunner:
    """Runs one scan (or resumes an interrupted one) over every enabled source."""

    def __init__(self, settings: Settings, store: Store | None = None, *,
                 executor: Executor | None = None, stop: threading.Event | None = None,
                 progress: ProgressHook | None = None, today: datetime | None = None,
                 confirm_removals: Iterable[str] = ()) -> None:
        self.settings = settings
        self.confirm_removals = frozenset(confirm_removals)
        """Sources whose suspected outage IT confirmed: their removals are real this run."""
        self.store = store or open_store(settings)
        self.stop = stop or threading.Event()
        self.progress = progress
        self.today = today
        self.secret = load_installation_secret(settings.secret_path, self.store)
        self.sources = [s for s in settings.sources if s.enabled]
        self.context = ConnectorContext(
            max_item_bytes=settings.extraction.max_item_bytes,
            state_dir=str(settings.state_dir / "cache"),
        )
        self.spec = AnalysisSpec(sources=tuple(self.sources), detection=settings.detection,
                                 extraction=settings.extraction, secret=self.secret, context=self.context)
        self._executor = executor
        self.stats: dict[str, SourceStats] = {}
        """Live figures of the whole run (earlier attempts included)."""
        self._open: set[_UnitState] = set()
        """Units crawled but not finished: their figures are not saved yet."""
        self.resumed = False
        self.run_id = 0
        self._last_heartbeat = 0.0
        self._unwritten: list[tuple[_UnitState, list[AnalysisResult]]] = []
        self._unwritten_count = 0
        self._last_write = 0.0
        self._lock: RunLock | None = None
        self._completions: list[tuple[_UnitState, dict[str, Any]]] = []
        """Finished units waiting to be saved together (:meth:`_save_completions`); they stay
        in ``_open`` until then, so the figures saved meanwhile leave them out."""
        self._first_completion = 0.0
        self._retry_units: dict[str, set[str]] | None = None
        """Per source, the units with items to try again (:meth:`_retry_queue`), read once."""
        self._cursors: dict[str, dict[str, str | None]] | None = None
        """Per source, the stored cursors by unit key when crawling began (:meth:`_cursors_of`)."""
        self._judge: WriteJudge | None = None
        """Judges new items' retention as they are written (built when analysis begins)."""
        self._answered: dict[str, int] = {}
        """Per source, the units whose crawl this run ended with a cursor, no failure and no
        blind spot: the source answered, even where an unchanged delta listed nothing."""

    # --- the run ------------------------------------------------------------------------

    def run(self) -> RunSummary:
        started = time.monotonic()
        try:  # every night, not only the nights that bring something to analyse
            check_detection_settings(self.settings.detection)
        except ValueError as exc:
            raise DetectionSettingsError(str(exc)) from None
        private_directory(self.settings.state_dir)
        lock = self._lock = acquire(self.store, "scan")
        executor = self._executor or build_executor(self.settings, self.spec)
        resumed = False
        try:
            unfinished = self.store.unfinished_run("scan")
            host, pid = socket.gethostname(), os.getpid()
            if unfinished:
                self.run_id = unfinished["id"]
                resumed = self.resumed = True
                self.store.reopen_run(self.run_id, pid=pid, host=host, detection_mode=None,
                                      detection_notice=None)
                self._restore_stats(unfinished.get("stats") or {})
                # What the earlier attempt judged as it wrote is judged again: its rules or day
                # may not be this attempt's.
                self.store.forget_judged(self.run_id)
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
                    self._judge = WriteJudge.build(self.store, self.settings, self.today)
                    for state, results in executor.run(itertools.chain([first], work)):
                        self._store_results(state, results)
                        self._heartbeat()
                    self._write_results()
                else:
                    self.store.set_detection_mode(self.run_id, mode, notice)
                self._save_completions()
                if self.stop.is_set():
                    status = "interrupted"
            except Exception as exc:
                status, error = "failed", f"{type(exc).__name__}"
                try:  # analysis already done is kept, unless writing is what failed
                    self._write_results()
                except Exception:  # noqa: BLE001 - the first error is the one to report
                    log.warning("results gathered before the failure could not be written")
                if self._judge is not None:
                    # No pass vouches for what was judged as it was written: the next run's pass
                    # judges it (a failed run is not resumed; its rules may not be the next one's).
                    try:
                        self.store.forget_judged(self.run_id)
                    except Exception:  # noqa: BLE001 - the first error is the one to report
                        log.warning("retention judged during the failed run could not be reset")
                self.store.finish_run(self.run_id, status, self._stats_payload({}, executor), error)
                raise
            for name, moves in self.store.absorb_moves(self.run_id).items():
                # A move is not deletion evidence: out of "cleaned up", into "moved".
                log.info("%d items of %s moved within their source (findings kept)", moves, name)
                if name in self.stats:
                    self.stats[name].closed -= moves
                    self.stats[name].moved += moves
            retention = recompute_retention(self.store, self.settings, today=self.today, judged=self._judge,
                                            run_id=self.run_id)
            self.store.finish_run(self.run_id, status, self._stats_payload(retention, executor), error)
            return RunSummary(self.run_id, status, time.monotonic() - started, self.stats, retention,
                              mode, notice, resumed)
        finally:
            if self._executor is None:
                executor.close()
            lock.release()

    # --- discovery and triage (runs in the driver, pulled by the executor) ---------------

    def _work(self) -> Iterator[Work]:
        """Every source's batches, interleaved: round robin over the sources, and within a
        source whose connector allows it (:attr:`Connector.parallel_units`) over up to
        ``INTERLEAVE_UNITS`` units at once, so the executor is fed batches of different
        mailboxes instead of one mailbox's batches behind its per-mailbox limit. Nothing is
        held back: a stream is asked for its next batch only when it is its turn."""
        return _round_robin([self._crawl_source(source) for source in self.sources])

    def _crawl_source(self, source: SourceConfig) -> Generator[Work, None, None]:
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
            return
        except Exception as exc:  # noqa: BLE001 - a broken source never stops the others
            self._source_error(source.name, None, "failed",
                               f"bron kon niet worden gelezen / source could not be read ({type(exc).__name__})")
            self._close(connector)
            return
        stats.units = len(units)
        if self.resumed:
            self._reopen_blind_units(source.name)
        # A new run has finished no unit yet: a source's units complete only after its crawl
        # has begun here, so only a resumed run asks.
        done = self.store.done_units(self.run_id, source.name) if self.resumed else set()
        stats.units_done = len(done)
        # All cursors at once: a unit's cursor changes only when that unit completes, and
        # each unit is crawled once per run; so every source's are read in one query, the
        # first time a source starts (another source's completions change only its own).
        cursors = self._cursors_of(source.name)
        todo = deque(unit for unit in units if unit.key not in done)
        connector.plan(list(todo), cursors)
        connectors = [connector]
        lanes = INTERLEAVE_UNITS if connector.parallel_units else 1
        try:
            # One connector per lane (Connector.sibling): a connector's warnings belong to
            # the unit its lane is crawling.
            while len(connectors) < min(lanes, len(todo)):
                connectors.append(connector.sibling())
        except Exception as exc:  # noqa: BLE001 - fewer lanes, not a failed source
            log.warning("source %s: a second connector could not be made (%s): fewer units at once",
                        source.name, type(exc).__name__)

        crawling: set[str] = set()

        def lane(crawler: Connector) -> Generator[Work, None, None]:
            # Never two units of one concurrency key (a mailbox) at once: the driver's listing
            # requests to a mailbox stay one at a time, as when units were crawled in turn.
            # A lane that finds only busy keys ends; the lane holding the key takes them.
            while not self.stop.is_set():
                unit = next((u for u in todo if u.concurrency_key is None or u.concurrency_key not in crawling),
                            None)
                if unit is None:
                    return
                todo.remove(unit)
                if unit.concurrency_key is not None:
                    crawling.add(unit.concurrency_key)
                try:
                    yield from self._crawl_unit(crawler, source, unit, cursors.get(unit.key))
                finally:
                    crawling.discard(unit.concurrency_key or "")

        yield from _round_robin([lane(crawler) for crawler in connectors])
        for crawler in connectors:
            self._close(crawler)
        if not self.stop.is_set():
            # After the crawl, so blind spots met in any unit protect vanished units too.
            self._close_vanished_units(source, units)

    def _cursors_of(self, source: str) -> dict[str, str | None]:
        """The stored cursors of ``source`` by unit key as they were when the run began
        crawling (:meth:`Store.cursors_by_source`, read once per run); its keys are the units
        an earlier run completed (:meth:`Store.unit_keys`) at that moment."""
        if self._cursors is None:
            self._cursors = self.store.cursors_by_source()
        return self._cursors.get(source, {})

    def _crawl_unit(self, connector: Connector, source: SourceConfig, unit: Unit,
                    cursor: str | None) -> Iterator[Work]:
        state = _UnitState(source=source, unit=unit)
        self._open.add(state)
        pending: list[ItemRef] = []
        gone: list[str] = []
        try:
            for event in connector.crawl(unit, cursor):
                if isinstance(event, Seen):
                    pending.append(event.ref)
                    if len(pending) >= TRIAGE_CHUNK:
                        yield from self._triage(state, pending, connector)
                        pending = []
                elif isinstance(event, Gone):
                    gone.append(event.item_key)
                    if len(gone) >= TRIAGE_CHUNK:
                        self._close_gone(state, gone)
                        gone = []
                elif isinstance(event, Cursor):
                    state.cursor, state.cursor_seen = event.value, True
                elif isinstance(event, Resync):
                    state.resync = True
                    log.info("source %s: a unit is listed afresh (%s): full listing this run",
                             source.name, event.reason)
                elif isinstance(event, Blind):
                    state.blind.append(event.item_prefix)
                    self._source_error(source.name, unit.key, event.code, event.message,
                                       severity="warning", item_prefix=event.item_prefix)
                if self.stop.is_set():
                    state.failed = state.interrupted = True  # the resumed run crawls it again
                    break
            yield from self._triage(state, pending, connector)
            self._close_gone(state, gone)
            if not state.cursor_seen and not state.failed:
                raise SourceError("protocol", "crawl eindigde zonder cursor / crawl ended without cursor")
            if not state.failed and not (unit.full_listing or state.resync):
                yield from self._retry_queue(state)
            if not state.failed and not state.blind:
                self._answered[source.name] = self._answered.get(source.name, 0) + 1
        except SourceError as exc:
            state.failed = True
            self._source_error(source.name, unit.key, exc.code, str(exc))
        except Exception as exc:
            state.failed = True
            log.exception("crawl of a unit of %s failed", source.name)
            self._source_error(source.name, unit.key, "crawl_failed",
                               f"map kon niet worden doorlopen / folder could not be crawled ({type(exc).__name__})")
        finally:
            state.warned = state.warned or bool(connector.warnings)
            for unit_key, code, message in connector.warnings:
                # Non-fatal by the connector contract (base.Connector.warnings): a warning.
                self._source_error(source.name, unit_key, code, message, severity="warning")
            connector.warnings.clear()
        state.crawl_done = True
        self._maybe_complete(state)

    def _close_vanished_units(self, source: SourceConfig, units: list[Unit]) -> None:
        """Close the items of units an earlier run completed but the source no longer lists
        (a deleted mail folder or home directory). A unit key ending in ``/*`` is a connector's
        sign that listing below that prefix failed this run: nothing under it is closed; nor
        is anything under a blind spot met in this run (all attempts). When the vanished units
        hold more than ``scan.outage_share`` of the source (an unmounted share lists nothing),
        that is a suspected outage: nothing is closed."""
        listed = {unit.key for unit in units}
        failed_prefixes = tuple(key[:-1] for key in listed if key.endswith("/*"))
        # The units completed before this run (those completed in it are listed ones).
        vanished = [key for key in set(self._cursors_of(source.name)) - listed
                    if not (failed_prefixes and key.startswith(failed_prefixes))]
        if not vanished:
            return
        protect = sorted(p for p in self.store.blind_prefixes(self.run_id, source.name) if p)
        closing = self.store.unit_item_count(source.name, vanished, protect)
        stats = self.stats[source.name]
        # "Listed nothing" means the source did not answer: a delta unit that confirmed its
        # cursor (an unchanged Maildir folder, an empty Graph delta) answered without a Seen.
        answered = stats.seen or self._answered.get(source.name, 0)
        if closing and self._suspected_outage(source, None, closing, self.store.unit_item_count(source.name),
                                              answered):
            return
        for unit_key in sorted(vanished):
            def payload(closed: int) -> dict[str, Any]:
                stats.closed += closed
                return self._stats_payload({}, None)

            self.store.close_unit(source.name, unit_key, self.run_id, protect=protect, run_stats=payload)

    def _suspected_outage(self, source: SourceConfig, unit_key: str | None, closing: int, total: int,
                          listed: int) -> bool:
        """Would closing ``closing`` of ``total`` stored items (the listing saw ``listed``) be
        taken for deletions while the source may just be away (an unmounted share, a revoked
        permission)? Then record a warning naming the place and close nothing: a second
        consecutive run that sees the same, or ``--confirm-removals SOURCE``, closes them."""
        settings = self.settings.scan
        suspicious = closing > 0 and (listed == 0 or (
            total >= settings.outage_min_items and closing > settings.outage_share * total))
        if not suspicious:
            return False
        if source.name in self.confirm_removals:
            log.info("source %s: %d removals confirmed by IT", source.name, closing)
            return False
        if self.store.warned_in_previous_run(self.run_id, source.name, unit_key, OUTAGE):
            log.info("source %s: %d removals seen by a second run in a row: closed", source.name, closing)
            return False
        where = (f"map {unit_key!r} van bron / folder {unit_key!r} of source" if unit_key is not None
                 else "bron / source")
        self._source_error(
            source.name, unit_key, OUTAGE,
            f"{where} {source.name}: {closing} van {total} items niet gevonden; vermoedelijk een storing, "
            f"niets opgeruimd (bevestig met 'scan --confirm-removals {source.name}') / {closing} of {total} "
            f"items not found; suspected outage, nothing closed (confirm with --confirm-removals)",
            severity="warning")
        return True

    def _triage(self, state: _UnitState, refs: list[ItemRef], connector: Connector) -> Iterator[Work]:
        if not refs:
            return
        source = state.source.name
        stats = self.stats[source]
        known = self.store.known_items(source, [ref.item_key for ref in refs])
        attempts = self.settings.scan.retry_attempts
        unchanged, changed = [], []
        for ref in refs:
            item = known.get(ref.item_key)
            if (item and item.analysed and ref.change_key is not None and item.change_key == ref.change_key
                    and not item.retry_due(attempts)):
                unchanged.append(ref)
                continue
            state.queued.add(item.id if item is not None else self.store.item_id(source, ref.item_key))
            if item and item.analysed and item.content_hash and (not item.attempts or item.stale):
                # A good stored analysis: the same bytes again keep it without detection.
                changed.append(replace(ref, stored_hash=item.content_hash))
            else:
                changed.append(ref)
        # Unchanged content. Write only rows whose metadata moved (an unchanged night then
        # writes nothing); facts the retention rules look at send the item back through them.
        # The stored folder is masked (the worker masked the values in it), the listed one is
        # raw: a folder that really moved goes back to a worker, which masks the new name
        # (the content is only hashed, not analysed again, when it did not change).
        moved, retention_facts, listed_unchanged = [], [], unchanged
        unchanged = []
        for ref in listed_unchanged:
            item = known[ref.item_key]
            if not could_mask_to(item.folder or "", ref.folder):
                changed.append(replace(ref, stored_hash=item.content_hash) if item.content_hash else ref)
                continue
            unchanged.append(ref)
            if MAIL_ARCHIVE_LABEL in ref.labels:
                # An unchanged archive is not reopened: its mails stay as they are stored.
                state.blind.append(contained_key(ref.item_key, ""))
            facts_changed = set(item.labels) != set(ref.labels) or item.state != "actief"
            if facts_changed or item.unit_key != ref.unit_key or item.owner != ref.owner or item.link != ref.link:
                moved.append(replace(ref, folder=item.folder or ""))
                if facts_changed:
                    retention_facts.append(item.id)
            else:
                state.seen.add(item.id)
        self.store.touch_items(self.run_id, moved)
        if retention_facts:  # an unchanged night has none: no empty transaction per chunk
            self.store.invalidate_retention(retention_facts)
        self._refresh_exposure(connector, [r for r in unchanged if r.sharing_key is not None
                                           and r.sharing_key != known[r.item_key].sharing_key])
        # A resumed run crawls an interrupted unit again: what an earlier attempt of this run
        # analysed shows up unchanged now, and is counted as analysed (once), not unchanged.
        earlier = [known[r.item_key] for r in unchanged
                   if self.resumed and known[r.item_key].analysed_run == self.run_id]
        state.count(stats, "seen", len(refs))
        state.count(stats, "unchanged", len(unchanged) - len(earlier))
        state.count(stats, "analysed", len(earlier))
        state.count(stats, "flagged", sum(1 for item in earlier if item.student_data))
        yield from self._queue(state, changed)

    def _refresh_exposure(self, connector: Connector, refs: list[ItemRef]) -> None:
        """The listing says an unchanged item's sharing may have changed (Graph: a new eTag or
        ``shared`` facet with the same content): read its exposure here, in the driver (one
        small request, no download, no worker), and store it with the new sharing key."""
        if not refs:
            return
        updates = []
        for ref in refs:
            try:
                updates.append((ref, connector.exposure(ref)))
            except Exception as exc:  # noqa: BLE001 - the connector contract says never raise
                log.warning("sharing of an item of %s could not be read: %s", ref.source, type(exc).__name__)
                updates.append((ref, Exposure.unknown()))
        self.store.set_exposure(updates)

    def _retry_queue(self, state: _UnitState) -> Iterator[Work]:
        """Queue the unit's items whose last attempt failed with a retryable error and that the
        crawl did not list (a delta lists an item once; our failed download of it does not
        make it list it again). Their refs are built from the store.

        The units that hold any candidate are read once per run for every source
        (:meth:`Store.retry_units_by_source`), lazily, and only those units are asked: a
        nightly delta run otherwise pays one query per folder (or per source) for nothing. Why
        a unit missing from that set has no candidate later either: an item becomes a candidate
        only by a failed attempt written by this run, and a result is written with the unit key
        of the unit that queued it, whose ``state.queued`` leaves it out here anyway."""
        source = state.source.name
        attempts = self.settings.scan.retry_attempts
        if self._retry_units is None:
            self._retry_units = self.store.retry_units_by_source(attempts)
        units = self._retry_units.get(source, set())
        if state.unit.key not in units:
            return
        refs = self.store.retry_candidates(source, state.unit.key, attempts, exclude=state.queued)
        if refs:
            log.info("source %s: %d items tried again after a failed attempt", source, len(refs))
            state.count(self.stats[source], "retried", len(refs))
            yield from self._queue(state, refs)

    def _queue(self, state: _UnitState, changed: list[ItemRef]) -> Iterator[Work]:
        batch_size = self.settings.executor.batch_size
        for start in range(0, len(changed), batch_size):
            state.outstanding += 1
            yield Work(refs=changed[start:start + batch_size], tag=state,
                       concurrency_key=state.unit.concurrency_key)
        self._report_progress(state)

    def _close_gone(self, state: _UnitState, keys: list[str]) -> None:
        if keys:
            closed = self.store.close_items(state.source.name, keys, self.run_id)
            state.count(self.stats[state.source.name], "closed", closed)

    # --- results (single writer) ------------------------------------------------------------

    def _store_results(self, state: _UnitState, results: list[AnalysisResult]) -> None:
        """Take a finished batch; write what has gathered once there are ``WRITE_BATCH``
        results or ``WRITE_SECONDS`` have passed since the last write (the first batch of a
        run is written at once). A unit completes only after its last result was written, so
        a kill loses nothing but unwritten analysis, which the resumed run does again."""
        self._unwritten.append((state, results))
        self._unwritten_count += len(results)
        if (self._unwritten_count >= WRITE_BATCH
                or time.monotonic() - self._last_write >= WRITE_SECONDS):
            self._write_results()

    def _write_results(self) -> None:
        """Write every gathered batch in one store transaction, then do each batch's
        bookkeeping (figures, unit completion, progress) as if it had been written alone."""
        pending, self._unwritten, self._unwritten_count = self._unwritten, [], 0
        self._last_write = time.monotonic()
        if not pending:
            return
        same = [r for _, results in pending for r in results if r.content_unchanged]
        if same:
            # Only the change key moved: keep the findings, remember the new key.
            self.store.touch_items(self.run_id, [r.ref for r in same], refresh_change_key=True)
            self.store.set_exposure([(r.ref, r.exposure) for r in same])
            self.store.invalidate_retention(self.store.item_id(r.ref.source, r.ref.item_key) for r in same)
        saved = self.store.save_result_groups(self.run_id, [
            ([r for r in results if not r.content_unchanged], state.source.kind,
             state.unit.department or state.source.department) for state, results in pending], judge=self._judge)
        limit = self.settings.scan.retry_attempts
        for state, results in pending:
            stats = self.stats[state.source.name]
            ids = [self.store.item_id(r.ref.source, r.ref.item_key) for r in results]
            state.count(stats, "analysed", len(results))
            self._archives_read(state, results)
            state.count(stats, "stale", sum(1 for ident in ids if ident in saved.stale))
            state.count(stats, "gave_up", sum(1 for ident in ids if saved.failed.get(ident) == limit))
            # The whole numbers once per batch (the same sums); the seconds, a float, item by
            # item as ever, so the figure is the same to the last bit.
            flagged = 0
            for ident, result in zip(ids, results, strict=True):
                state.count(stats, "seconds", result.seconds)
                if ident in saved.stale:
                    flagged += 1 if self._was_flagged(result) else 0
                elif result.verdict and result.verdict.student_data:
                    flagged += 1
            state.count(stats, "bytes_read", sum(result.bytes_read for result in results))
            state.count(stats, "item_errors", sum(len(result.errors) for result in results))
            if flagged:
                state.count(stats, "flagged", flagged)
            state.outstanding -= 1
            self._maybe_complete(state)
            self._report_progress(state)

    def _archives_read(self, state: _UnitState, results: list[AnalysisResult]) -> None:
        """Mails of an archive (.pst/.ost) are items the crawl never lists: they count as seen
        when the archive's analysis brings them, and the stored mails of an archive that was
        not read in full (unreadable this time, cut off by a limit) are not closed."""
        stats = self.stats[state.source.name]
        for result in results:
            if container_of(result.ref.item_key) is not None:
                state.count(stats, "seen")
            elif ((result.listed_contents is not None or MAIL_ARCHIVE_LABEL in result.ref.labels)
                  and result.listed_contents is not True):
                state.blind.append(contained_key(result.ref.item_key, ""))

    def _was_flagged(self, result: AnalysisResult) -> bool:
        known = self.store.known_items(result.ref.source, [result.ref.item_key]).get(result.ref.item_key)
        return bool(known and known.student_data)

    def _maybe_complete(self, state: _UnitState) -> None:
        if not state.crawl_done or state.outstanding:
            return
        if state.interrupted:
            self._open.discard(state)
            return  # crawled again (and counted then) by the resumed run
        source, unit = state.source, state.unit
        stats = self.stats[source.name]
        if state.failed:
            self._open.discard(state)
            self.store.save_run_stats(self.run_id, self._stats_payload({}, None))
            return
        close: list[str] = []
        if unit.full_listing or state.resync:
            gone, total = self.store.unseen_items(source.name, unit.key, self.run_id, state.seen, state.blind)
            state.seen = set()
            if gone and not self._suspected_outage(source, unit.key, len(gone), total, state.stats["seen"]):
                close = gone
            state.count(stats, "closed", len(close))
        stats.units_done += 1
        if not close and not state.blind and not state.warned:
            # A unit with a warning or blind spot is saved at once, with its warnings: a
            # resumed run must find it done to take it back (Store.reopen_blind_units).
            if not self._completions:
                self._first_completion = time.monotonic()
            self._completions.append((state, dict(source=source.name, unit_key=unit.key, label=scrub(unit.label),
                                                  owner=unit.owner, cursor=state.cursor, stats=state.stats)))
            if (len(self._completions) >= COMPLETE_BATCH
                    or time.monotonic() - self._first_completion >= COMPLETE_SECONDS):
                self._save_completions()
            return
        self._open.discard(state)
        self.store.complete_unit(self.run_id, source.name, unit.key, scrub(unit.label), unit.owner,
                                 state.cursor, state.stats, close=close,
                                 run_stats=self._stats_payload({}, None))

    def _save_completions(self) -> None:
        """Save the finished units gathered by :meth:`_maybe_complete`, with the run's figures
        that now include them, in one transaction."""
        pending, self._completions = self._completions, []
        if not pending:
            return
        for state, _ in pending:
            self._open.discard(state)
        self.store.complete_units(self.run_id, [unit for _, unit in pending],
                                  run_stats=self._stats_payload({}, None))

    # --- bookkeeping --------------------------------------------------------------------

    def _source_error(self, source: str, unit_key: str | None, code: str, message: str, *,
                      severity: str = "error", item_prefix: str | None = None) -> None:
        message = scrub(message)  # a message may name a folder; identity numbers in it are masked
        log.warning("source %s: %s (%s)", source, message, code)
        if severity == "warning":
            self.stats[source].warnings += 1
        else:
            self.stats[source].source_errors += 1
        self.store.record_source_error(self.run_id, source, unit_key, code, message,
                                       severity=severity, item_prefix=item_prefix)
        self.store.save_run_stats(self.run_id, self._stats_payload({}, None))

    def _heartbeat(self) -> None:
        now = time.monotonic()
        if self._lock is not None and now - self._last_heartbeat > HEARTBEAT_SECONDS:
            self._lock.heartbeat()
            self._last_heartbeat = now

    def _report_progress(self, state: _UnitState) -> None:
        if self.progress is not None:
            totals = {name: s.as_dict() for name, s in self.stats.items()}
            self.progress(state.source.name, totals[state.source.name])

    def _reopen_blind_units(self, source: str) -> None:
        """A resumed run crawls again the units an earlier attempt finished with a blind spot
        (a folder unreadable then may be readable now), without counting them twice: their saved
        figures and withdrawn warnings come off the restored totals. What they closed stays
        closed and counted (a new crawl does not close it again)."""
        stats = self.stats[source]
        for _unit_key, saved, warnings in self.store.reopen_blind_units(self.run_id, source):
            log.info("source %s: a unit finished with a blind spot is crawled again by the resumed run", source)
            for key in UNIT_COUNTS:
                if key != "closed" and isinstance(saved.get(key), int | float):
                    setattr(stats, key, getattr(stats, key) - saved[key])
            stats.warnings -= warnings
        self.store.save_run_stats(self.run_id, self._stats_payload({}, None))

    def _restore_stats(self, payload: dict[str, Any]) -> None:
        for name, values in (payload.get("sources") or {}).items():
            known = {k: v for k, v in values.items() if k in SourceStats.__dataclass_fields__}
            self.stats[name] = SourceStats(**known)

    def _stats_payload(self, retention: dict[str, int], executor: Executor | None) -> dict[str, Any]:
        """The run's figures as they are saved: live figures minus those of units still being
        crawled (a resumed run crawls those again and counts them then)."""
        sources = {name: s.as_dict() for name, s in self.stats.items()}
        for state in self._open:
            values = sources[state.source.name]
            for key in UNIT_COUNTS:
                values[key] -= state.stats[key]
        payload: dict[str, Any] = {"sources": sources, "retention": retention}
        if executor is not None:
            payload.update(executor=executor.name, finished=datetime.now(UTC).isoformat())
        return payload

    @staticmethod
    def _close(connector: Connector | None) -> None:
        if connector is not None:
            try:
                connector.close()
            except Exception:  # noqa: BLE001 - closing is best effort
                pass


def _round_robin(streams: list[Generator[Work, None, None]]) -> Generator[Work, None, None]:
    """One item from each stream in turn until all are used up. Closing this generator closes
    the streams still open (their ``finally`` blocks run now, in order, not at garbage
    collection)."""
    active = deque(streams)
    try:
        while active:
            stream = active.popleft()
            try:
                item = next(stream)
            except StopIteration:
                continue
            active.append(stream)
            yield item
    finally:
        for stream in active:
            stream.close()
