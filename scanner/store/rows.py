"""Typed rows that the store's read methods return, so callers read fields, not dict keys.

One frozen dataclass per row shape the hot paths read (the retention pass, digests, FG
statistics, export, mailbox actions). Rows are built straight from the database's tuples:
no per-row dict, timestamps made aware (SQLite keeps no offset; everything stored is UTC),
JSON lists as tuples, so a row can be passed around without anyone changing it. The fields
follow ``schema.items`` one to one; the schema stays the only definition of the table.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, overload

from scanner.core.model import ExposureLevel, ItemKind, ItemRef


@overload
def aware(value: datetime) -> datetime: ...
@overload
def aware(value: None) -> None: ...
def aware(value: datetime | None) -> datetime | None:
    """SQLite returns naive datetimes; everything stored is UTC. Overloaded so that a column
    that is never NULL (``item_date``) keeps its ``datetime`` type."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


@dataclass(frozen=True, slots=True)
class StoredItem:
    """One row of ``items``: an item's metadata, verdict summary and retention outcome."""

    id: str
    source: str
    source_kind: str
    item_key: str
    unit_key: str
    kind: str
    owner: str
    department: str | None
    folder: str | None
    title: str | None
    link: str | None
    item_date: datetime
    size: int | None
    change_key: str | None
    content_hash: str | None
    labels: tuple[str, ...]
    state: str
    closed_at: datetime | None
    first_seen_run: int
    last_seen_run: int
    analysed_run: int | None
    analysed_at: datetime | None
    student_data: bool | None
    categories: tuple[str, ...]
    entity_counts: Mapping[str, int]
    reasons: tuple[str, ...]
    error_codes: tuple[str, ...]
    retention_status: str | None
    due_date: date | None
    rule_id: str | None
    action: str | None
    exempt_reason: str | None
    owner_mark: str | None
    tagged: bool | None
    attempts: int
    last_error: str | None
    stale: bool
    exposure: str | None = None
    """:class:`~scanner.core.model.ExposureLevel` key, ``None`` for items without sharing (mail)."""
    exposure_reasons: tuple[str, ...] = ()
    sharing_key: str | None = None

    @property
    def broadly_shared(self) -> bool:
        """Student data that anyone with a link, the whole school or a guest can reach: *breed gedeeld*."""
        return bool(self.student_data) and self.exposure == ExposureLevel.BROAD.value

    @classmethod
    def from_row(cls, row: Sequence[Any], reveal: Callable[[Any], Any] = lambda value: value) -> StoredItem:
        """From a ``select(schema.items)`` row, in the table's column order. ``reveal`` opens
        the encrypted columns (:data:`scanner.store.schema.ENCRYPTED`)."""
        (ident, source, source_kind, item_key, unit_key, kind, owner, department, folder, title, link,
         item_date, size, change_key, content_hash, labels, state, closed_at, first_seen_run,
         last_seen_run, analysed_run, analysed_at, student_data, categories, entity_counts, reasons,
         error_codes, retention_status, due_date, rule_id, action, exempt_reason, owner_mark,
         tagged, attempts, last_error, stale, exposure, exposure_reasons, sharing_key) = row
        return cls(ident, source, source_kind, reveal(item_key), reveal(unit_key), kind, reveal(owner),
                   department, reveal(folder), reveal(title), reveal(link), aware(item_date), size, change_key,
                   content_hash, tuple(labels or ()), state,
                   aware(closed_at), first_seen_run, last_seen_run, analysed_run, aware(analysed_at),
                   student_data, tuple(categories or ()), dict(entity_counts or {}), tuple(reasons or ()),
                   tuple(error_codes or ()), retention_status, due_date, rule_id, action, exempt_reason,
                   owner_mark, tagged, int(attempts or 0), last_error, bool(stale), exposure,
                   tuple(exposure_reasons or ()), sharing_key)

    def ref(self) -> ItemRef:
        """The item as its connector knows it, rebuilt from the store (the one home for that
        mapping): mailbox actions and the retry queue address an item without a listing. The
        title is the stored (masked) one, so a retried item that fails again keeps it;
        ``locator`` is not stored, so connectors that need one (an mbox byte range) find the
        item by listing, which full listings do every run."""
        return ItemRef(source=self.source, item_key=self.item_key, kind=ItemKind(self.kind), owner=self.owner,
                       folder=self.folder or "", title=self.title or "", date=self.item_date, size=self.size,
                       change_key=self.change_key, link=self.link, unit_key=self.unit_key, labels=self.labels,
                       sharing_key=self.sharing_key)


@dataclass(frozen=True, slots=True)
class RetentionRow:
    """What the retention pass reads of an item: the facts the policy judges and the stored
    outcome it compares with. A narrow row: the keys, owner and link stay encrypted and the
    reasons unparsed, because the nightly pass reads every new item (two of six decryptions
    and three of five JSON columns per row on a first scan)."""

    id: str
    source: str
    source_kind: str
    kind: str
    folder: str | None
    title: str | None
    item_date: datetime
    labels: tuple[str, ...]
    student_data: bool | None
    categories: tuple[str, ...]
    entity_counts: Mapping[str, int]
    owner_mark: str | None
    retention_status: str | None
    due_date: date | None
    rule_id: str | None
    action: str | None
    exempt_reason: str | None
