"""Recompute every stored item's retention status from metadata, without reading content.

Runs at the end of every scan and before every report, so a status moves from ``ok`` to
``binnenkort`` to ``verlopen`` as the calendar moves, even for items nobody touched. Streams
the items table in id order and writes only the rows whose outcome changed.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime, timedelta
from typing import Any

from scanner.core.model import RetentionStatus
from scanner.retention import ItemFacts, RetentionPolicy
from scanner.store import Store, StoredItem

RETENTION_FINGERPRINT = "retention_fingerprint"


def facts_of(row: StoredItem) -> ItemFacts:
    """What the retention policy judges an item by: its stored metadata, never its content."""
    return ItemFacts(
        kind=row.kind, source=row.source, source_kind=row.source_kind, folder=row.folder or "",
        date=row.item_date, categories=row.categories, entities=tuple(row.entity_counts),
        labels=row.labels, owner_mark=row.owner_mark, student_data=bool(row.student_data),
    )


def fingerprint(settings: Any) -> str:
    """Identifies the retention rules a stored status was computed with."""
    return hashlib.sha256(settings.retention.model_dump_json().encode()).hexdigest()[:32]


def recompute_retention(store: Store, settings: Any, today: date | datetime | None = None,
                        full: bool = False) -> dict[str, int]:
    """Bring every active item's retention status up to date; return counts per status
    (student data only).

    Cheap on an ordinary night: only items whose facts changed since they were last evaluated
    (analysed again, moved, relabelled, reopened: their status was reset to NULL) are run
    through the policy; every other item keeps its rule and due date, and one UPDATE moves it to
    the status that due date gives today. The full pass over every item runs when the rules
    changed (their fingerprint differs from the one stored) or when asked.
    """
    if isinstance(today, datetime):
        today = today.date()
    policy = RetentionPolicy(settings.retention, today=today)
    current = fingerprint(settings)
    full = full or store.meta_get(RETENTION_FINGERPRINT) != current
    counts = {status.value: 0 for status in RetentionStatus}
    updates: list[dict[str, Any]] = []
    for row in store.iter_items(active_only=True, unevaluated_only=not full):
        decision = policy.evaluate(facts_of(row))
        new = dict(b_id=row.id, retention_status=decision.status.value, due_date=decision.due_date,
                   rule_id=decision.rule_id, action=decision.action, exempt_reason=decision.exempt_reason)
        if row.student_data:
            counts[decision.status.value] += 1
        if (row.retention_status, row.due_date, row.rule_id, row.action, row.exempt_reason) != (
                new["retention_status"], new["due_date"], new["rule_id"], new["action"], new["exempt_reason"]):
            updates.append(new)
        if len(updates) >= 2000:
            store.update_retention(updates)
            updates = []
    store.update_retention(updates)
    if full:
        store.meta_set(RETENTION_FINGERPRINT, current)
        return counts
    day = policy.today
    fixed = [rule.id for rule in settings.retention.active_rules() if rule.term.immediately]
    store.shift_retention(day, day + timedelta(days=settings.retention.due_soon_days), fixed)
    return store.retention_counts()


def explain_item(store: Store, settings: Any, ident: str, lang: str = "nl",
                 today: date | None = None) -> tuple[StoredItem, str] | None:
    """The stored item and the policy's explanation of its status (for ``retention explain``)."""
    row = store.item(ident)
    if row is None:
        return None
    decision = RetentionPolicy(settings.retention, today=today).evaluate(facts_of(row))
    return row, decision.explain(lang)
