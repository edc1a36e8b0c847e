"""The nightly move of what a teacher left unanswered (optional enforcement, issue 18 item 5).

Runs after a completed scan, before the digest. An item is moved only when all of these hold:

* :func:`scanner.enforcement.policy.candidates` allows it (overdue, not held, not archived,
  not answered, a source that can act);
* a *delivered* digest announced a day for it and that day has come
  (:meth:`Store.announced_moves`): a digest that failed or was never sent announced nothing;
* the last scan saw it: its unit was completed in that run and no blind spot of the run
  covers it (an item the scan could not see may already be gone or changed).

Each move goes through ``Connector.remove`` (never a hard delete, idempotent at the source)
and is recorded at once, item by item, like an answer (who: ``school_policy``, when, the
retention rule), so a run that dies half-way loses at most the record of the item in hand,
and the next run's ``remove`` of that item is the idempotent repeat. A refusal is counted by
its code and tried again the next night; a listed source that cannot act is reported.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from connectors.base import Connector, ConnectorContext, ItemFetchError, SourceConfig, close_all
from connectors.registry import connector_class
from scanner.answers.model import MOVED, VERWIJDEREN
from scanner.config import Settings
from scanner.core.dates import local_date
from scanner.enforcement.policy import POLICY, acting_sources, candidates
from scanner.store import Store
from scanner.store.rows import StoredItem

log = logging.getLogger(__name__)

ConnectorFactory = Callable[[SourceConfig, ConnectorContext], Connector]


def _registry_connector(source: SourceConfig, context: ConnectorContext) -> Connector:
    return connector_class(source.kind)(source, context)


@dataclass
class EnforcementStats:
    """What the policy did in one run (for the run report; counts and codes only)."""

    enabled: bool = False
    moved: Counter[str] = field(default_factory=Counter)
    """Per source: items moved."""
    failed: Counter[str] = field(default_factory=Counter)
    """Per error code: moves the source refused (tried again next night)."""
    waiting: int = 0
    """Candidates whose announced day has not come, or that no sent digest announced yet."""
    unseen: int = 0
    """Candidates the last scan did not see (left alone)."""
    cannot_act: list[str] = field(default_factory=list)
    """Listed sources whose connector cannot move items."""
    skipped: str | None = None
    """Why nothing was tried: ``run_not_completed``."""

    def as_dict(self) -> dict[str, Any]:
        return {"moved": dict(self.moved), "failed": dict(self.failed), "waiting": self.waiting,
                "unseen": self.unseen, "cannot_act": list(self.cannot_act), "skipped": self.skipped}


def enforce(settings: Settings, store: Store, run_id: int, *, today: date | None = None,
            connector_factory: ConnectorFactory = _registry_connector,
            clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> EnforcementStats:
    """Move every due, announced, unanswered item the scan ``run_id`` saw; record each move."""
    stats = EnforcementStats(enabled=settings.enforcement.enabled)
    if not settings.enforcement.enabled:
        return stats
    _, stats.cannot_act = acting_sources(settings)
    run = store.run(run_id)
    if run is None or run["status"] != "completed":
        stats.skipped = "run_not_completed"  # a scan that did not finish did not see everything
        _save(store, run_id, stats)
        return stats
    today = today or local_date(clock(), ZoneInfo(settings.school.timezone))
    rows = candidates(settings, store, store.iter_items(active_only=True, student_data_only=True))
    announced = store.announced_moves([row.id for row in rows])
    seen = _seen_by(store, run_id, {row.source for row in rows})
    due: list[StoredItem] = []
    for row in rows:
        day = announced.get(row.id)
        if day is None or day > today:
            stats.waiting += 1
        elif not seen(row):
            stats.unseen += 1
        else:
            due.append(row)
    connectors: dict[str, Connector | None] = {}
    context = ConnectorContext(max_item_bytes=settings.extraction.max_item_bytes,
                               state_dir=str(settings.state_dir / "cache"))
    try:
        for row in due:
            if row.source not in connectors:
                connectors[row.source] = _connector(settings, row.source, connector_factory, context)
            connector = connectors[row.source]
            if connector is None:
                stats.failed["connector_unavailable"] += 1
                continue
            try:
                place = connector.remove(row.ref())
            except ItemFetchError as exc:
                stats.failed[exc.code] += 1
                continue
            except Exception as exc:  # noqa: BLE001 - one item never stops the rest
                log.warning("policy move failed (%s)", type(exc).__name__)
                stats.failed["action_failed"] += 1
                continue
            now = clock()
            store.record_answers([{
                "item_id": row.id, "owner_key": POLICY, "action": VERWIJDEREN, "reason": None,
                "answered_at": now, "outcome": MOVED, "error_code": None,
                "place": (place or "")[:255] or None, "rule": (row.rule_id or "")[:64] or None,
                "origin": row.unit_key,
            }], {}, moved=[row.id], when=now)
            stats.moved[row.source] += 1
    finally:
        close_all(connectors.values())
    log.info("enforcement: moved %d, failed %s, waiting %d, unseen %d",
             sum(stats.moved.values()), dict(stats.failed), stats.waiting, stats.unseen)
    _save(store, run_id, stats)
    return stats


def _seen_by(store: Store, run_id: int, sources: set[str]) -> Callable[[StoredItem], bool]:
    """Whether the scan ``run_id`` saw an item: its unit was completed in that run (a full
    listing closes what it did not list; a delta reports what went) and no blind spot of
    the run lies over it."""
    done = {source: store.done_units(run_id, source) for source in sources}
    blind = {source: store.blind_prefixes(run_id, source) for source in sources}

    def seen(row: StoredItem) -> bool:
        if row.unit_key not in done.get(row.source, set()):
            return False
        return not any(row.item_key.startswith(prefix) for prefix in blind.get(row.source, ()))

    return seen


def _connector(settings: Settings, name: str, factory: ConnectorFactory,
               context: ConnectorContext) -> Connector | None:
    try:
        return factory(settings.source(name), context)
    except Exception as exc:  # noqa: BLE001 - a connector that cannot be built cannot act
        log.warning("connector for the policy could not be built (%s)", type(exc).__name__)
        return None


def _save(store: Store, run_id: int, stats: EnforcementStats) -> None:
    """Into the run's figures, so the run report shows what the policy did."""
    run = store.run(run_id)
    if run is None:
        return
    figures = dict(run.get("stats") or {})
    figures["enforcement"] = stats.as_dict()
    store.save_run_stats(run_id, figures)
