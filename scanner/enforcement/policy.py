"""Which items the school's policy may move, and the day a digest announces for each.

One home for the rules, read by the digest (which announces) and by the nightly run (which
moves), so the two can never disagree about an item:

* only overdue items (``verlopen``) with student data, still active;
* never an item with an owner mark (Bewaren / Geen leerlinggegevens) or any other exemption,
  never an ``archiveren`` record (the Archiefwet keeps it: it is filed, never deleted);
* never an item its teacher answered (a standing answer), and never again one whose policy
  move was reversed (a person decided after the policy did);
* only sources listed in ``enforcement.sources`` whose connector can move items.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from typing import Final
from zoneinfo import ZoneInfo

from connectors.registry import connector_class
from scanner.config import Settings
from scanner.core.dates import local_date
from scanner.core.model import ItemState, RetentionAction, RetentionStatus
from scanner.store import Store
from scanner.store.rows import StoredItem

POLICY: Final = "school_policy"
"""``answers.owner_key`` of a move by the school's policy ("who": not a teacher; an owner's
key is a 32-character hex hash, so the two cannot collide)."""


def acting_sources(settings: Settings) -> tuple[set[str], list[str]]:
    """(names of the sources the policy acts on, names of listed sources that cannot act)."""
    wanted = set(settings.enforcement.sources)
    acting: set[str] = set()
    cannot: list[str] = []
    for source in settings.sources:
        if not source.enabled or not ({source.name, source.kind} & wanted):
            continue
        try:
            able = connector_class(source.kind).supports_remove()
        except Exception:  # noqa: BLE001 - an unknown kind cannot act
            able = False
        if able:
            acting.add(source.name)
        else:
            cannot.append(source.name)
    return acting, sorted(cannot)


def may_move(row: StoredItem, acting: set[str]) -> bool:
    """The item's own facts allow a policy move (answers are checked by :func:`unanswered`)."""
    return (row.state == ItemState.ACTIVE.value and bool(row.student_data)
            and row.retention_status == RetentionStatus.OVERDUE.value
            and not row.exempt_reason and not row.owner_mark
            and row.action != RetentionAction.ARCHIVEREN.value
            and row.source in acting)


def unanswered(store: Store, ids: Sequence[str]) -> set[str]:
    """Of ``ids``, those without a standing answer and without any policy answer."""
    touched: set[str] = set()
    for answer in store.answers_of(list(ids)):
        if answer["reversed_at"] is None or answer["owner_key"] == POLICY:
            touched.add(answer["item_id"])
    return set(ids) - touched


def candidates(settings: Settings, store: Store, rows: Iterable[StoredItem]) -> list[StoredItem]:
    """The rows the policy may move or announce (empty while enforcement is off)."""
    if not settings.enforcement.enabled:
        return []
    acting, _ = acting_sources(settings)
    if not acting:
        return []
    allowed = [row for row in rows if may_move(row, acting)]
    free = unanswered(store, [row.id for row in allowed])
    return [row for row in allowed if row.id in free]


def move_days(settings: Settings, store: Store, rows: Sequence[StoredItem], today: date) -> dict[str, date]:
    """The day each candidate will be moved, as the digest announces it.

    The day a sent digest already announced stays (the teacher was told it); otherwise it is
    ``weeks_after_first_digest`` after the first delivered digest that named the item (today
    for one never named), and never sooner than ``notice_days`` from today: this digest is
    then the first to announce it, so the teacher gets at least one digest with the day."""
    picked = candidates(settings, store, rows)
    if not picked:
        return {}
    zone = ZoneInfo(settings.school.timezone)
    ids = [row.id for row in picked]
    announced = store.announced_moves(ids)
    first = store.first_digests(ids)
    weeks = timedelta(weeks=settings.enforcement.weeks_after_first_digest)
    notice = today + timedelta(days=settings.enforcement.notice_days)
    days: dict[str, date] = {}
    for ident in ids:
        if ident in announced:
            days[ident] = max(announced[ident], today)
        else:
            start = local_date(first[ident], zone) if ident in first else today
            days[ident] = max(start + weeks, notice)
    return days
