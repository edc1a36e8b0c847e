"""Recompute every stored item's retention status from metadata, without reading content.

Runs at the end of every scan and before every report, so a status moves from ``ok`` to
``binnenkort`` to ``verlopen`` as the calendar moves, even for items nobody touched. Streams
the items table in id order and writes only the rows whose outcome changed.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Iterator, Mapping
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

from detectors.entities import STUDENT_ROSTER
from detectors.recognizers.roster import RosterError
from scanner.core.model import AnalysisResult, RetentionStatus
from scanner.core.privacy import ValueHasher, load_installation_secret
from scanner.retention import ItemFacts, RetentionPolicy
from scanner.retention.pupils import PupilFacts, PupilIndex
from scanner.store import Store, StoredItem
from scanner.store.rows import RetentionRow
from scanner.store.store import RETENTION_COLUMNS, RetentionOutcome

RETENTION_FINGERPRINT = "retention_fingerprint"
_UPDATE_KEYS = ("b_id", *RETENTION_COLUMNS)
"""The keys of a row of :meth:`Store.update_retention`."""
log = logging.getLogger(__name__)


Row = TypeVar("Row", StoredItem, RetentionRow)


def facts_of(row: StoredItem | RetentionRow, pupil: PupilFacts | None = None) -> ItemFacts:
    """What the retention policy judges an item by: its stored metadata, never its content
    (``pupil``: the state of the pupils its roster findings name, from :func:`pupil_index`)."""
    return item_facts(
        kind=row.kind, source=row.source, source_kind=row.source_kind, folder=row.folder,
        item_date=row.item_date, categories=row.categories, entity_counts=row.entity_counts,
        labels=row.labels, owner_mark=row.owner_mark, student_data=row.student_data,
        title=row.title, pupil=pupil,
    )


def item_facts(*, kind: str, source: str, source_kind: str, folder: str | None, item_date: datetime,
               categories: Iterable[str], entity_counts: Mapping[str, int], labels: Iterable[str],
               owner_mark: str | None, student_data: bool | None, title: str | None,
               pupil: PupilFacts | None) -> ItemFacts:
    """:class:`ItemFacts` from an item's clear column values (named as the store's columns).

    The one place that turns stored values into the policy's facts, for a row read back
    (:func:`facts_of`) and for a row about to be written (:class:`WriteJudge`): the judgement
    of an item written and judged in one run must equal the retention pass's judgement of the
    same row read back, so the small normalisations (no folder or title is "", the counted
    entities and the lists as tuples, student data as a bool) live here only."""
    return ItemFacts(
        kind=kind, source=source, source_kind=source_kind, folder=folder or "", date=item_date,
        categories=tuple(categories), entities=tuple(entity_counts), labels=tuple(labels),
        owner_mark=owner_mark, student_data=bool(student_data), title=title or "", pupil=pupil,
    )


class WriteJudge:
    """Judges each new item's retention as the driver writes it (the ``judge`` of
    :meth:`Store.save_result_groups`), with the rules, the pupils' lifecycles and the day the
    retention pass at the end of the same run would use: that pass then reads back only what
    it cannot vouch for (:func:`recompute_retention` with ``judged``).

    Why: a first scan's pass read every item it had just written, opened its title, judged
    it and wrote its outcome back in one UPDATE per item, a third of the driver's
    instructions per item (docs/performance.md). The facts come from the row's clear values,
    the ones the pass would read back: the same judgement, without the round trip."""

    def __init__(self, policy: RetentionPolicy, index: PupilIndex | None, fingerprint: str) -> None:
        self._policy = policy
        self._index = index
        self.key = (fingerprint, policy.today)
        """What the judgements depend on besides the item: the rules' fingerprint, the day."""

    @classmethod
    def build(cls, store: Store, settings: Any, today: date | datetime | None = None) -> WriteJudge | None:
        """The judge of a run; None when the roster cannot be read (the pass then decides
        what a degraded night keeps, as before)."""
        if isinstance(today, datetime):
            today = today.date()
        try:
            index = pupil_index(store, settings)
        except RosterError:
            return None
        return cls(RetentionPolicy(settings.retention, today=today), index, fingerprint(settings, index))

    def __call__(self, values: Mapping[str, Any], result: AnalysisResult) -> RetentionOutcome:
        pupil = None
        if self._index is not None and values["entity_counts"].get(STUDENT_ROSTER):
            findings = result.verdict.findings if result.verdict else []
            keys = {f.value_hash for f in findings if f.entity == STUDENT_ROSTER}
            pupil = self._index.facts(keys) if keys else None
        return self._policy.outcome(item_facts(
            kind=values["kind"], source=values["source"], source_kind=values["source_kind"],
            folder=values["folder"], item_date=values["item_date"], categories=values["categories"],
            entity_counts=values["entity_counts"], labels=values["labels"], owner_mark=None,
            student_data=values["student_data"], title=values["title"], pupil=pupil))


def pupil_index(store: Store, settings: Any) -> PupilIndex | None:
    """The roster's lifecycle map (hash -> leaving date), built in memory for this pass;
    ``None`` when no roster is configured or it carries no lifecycle columns."""
    roster = settings.detection.roster
    if roster is None:
        return None
    hasher = ValueHasher(load_installation_secret(settings.secret_path, store))
    index = PupilIndex.load(roster, hasher)
    if index.bad_dates:
        log.warning("leerlingenlijst: %d uitschrijfdatum(s) onleesbaar, die leerlingen tellen als "
                    "onbekend / %d unreadable leaving date(s)", index.bad_dates, index.bad_dates)
    return index if index.carries_lifecycle else None


def _with_pupils(store: Store, rows: Iterator[Row], index: PupilIndex | None,
                 batch: int = 2000) -> Iterator[tuple[Row, PupilFacts | None]]:
    """Each row with its pupil state; the roster hashes are read from the findings a batch at
    a time (only of items with roster findings, so a school without lifecycle pays nothing)."""
    if index is None:
        for row in rows:
            yield row, None
        return
    chunk: list[Row] = []

    def flush() -> Iterator[tuple[Row, PupilFacts | None]]:
        wanted = [r.id for r in chunk if r.entity_counts.get(STUDENT_ROSTER)]
        hashes = store.value_hashes(wanted, STUDENT_ROSTER) if wanted else {}
        for r in chunk:
            keys = hashes.get(r.id)
            yield r, index.facts(keys) if keys else None

    for row in rows:
        chunk.append(row)
        if len(chunk) >= batch:
            yield from flush()
            chunk = []
    yield from flush()


def fingerprint(settings: Any, index: PupilIndex | None = None) -> str:
    """Identifies the retention rules (and the pupils' lifecycles) a stored status was
    computed with."""
    text = settings.retention.model_dump_json() + (index.fingerprint() if index else "")
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def recompute_retention(store: Store, settings: Any, today: date | datetime | None = None,
                        full: bool = False, *, judged: WriteJudge | None = None,
                        run_id: int | None = None) -> dict[str, int]:
    """Bring every active item's retention status up to date; return counts per status
    (student data only).

    Cheap on an ordinary night: only items whose facts changed since they were last evaluated
    (analysed again, moved, relabelled, reopened: their status was reset to NULL) are run
    through the policy; every other item keeps its rule and due date, and one UPDATE moves it to
    the status that due date gives today. The full pass over every item runs when the rules
    changed (their fingerprint differs from the one stored) or when asked.

    ``judged`` and ``run_id``: the judge that wrote the outcomes of the items run ``run_id``
    analysed. With the rules and the day of this pass, those outcomes are the ones this pass
    would give: a full pass leaves them out (and counts from the store); otherwise they are
    reset first and judged here, as if no judge had been.
    """
    if isinstance(today, datetime):
        today = today.date()
    policy = RetentionPolicy(settings.retention, today=today)
    try:
        index = pupil_index(store, settings)
        degraded = False
    except RosterError as exc:
        # A roster that cannot be read tonight must not undo what the leaving dates decided:
        # stored outcomes stay (only new or changed items are judged, without pupil states),
        # and the fingerprint is cleared so the next pass that reads the roster is a full one.
        log.warning("bewaartermijnen zonder leerlingstatus: %s", exc)
        index, degraded = None, True
    current = fingerprint(settings, index)
    full = not degraded and (full or store.meta_get(RETENTION_FINGERPRINT) != current)
    skip = None
    if judged is not None and run_id is not None:
        if not degraded and judged.key == (current, policy.today):
            skip = run_id if full else None  # not full: judged outcomes are not NULL, not read anyway
        else:
            store.forget_judged(run_id)
    counts = {status.value: 0 for status in RetentionStatus}
    updates: list[dict[str, Any]] = []
    rows = store.iter_retention_rows(unevaluated_only=not full, titles=policy.uses_titles, skip_judged=skip)
    for row, pupil in _with_pupils(store, rows, index):
        outcome = policy.outcome(facts_of(row, pupil))
        if row.student_data:
            counts[outcome[0]] += 1
        if (row.retention_status, row.due_date, row.rule_id, row.action, row.exempt_reason) != outcome:
            updates.append(dict(zip(_UPDATE_KEYS, (row.id, *outcome), strict=True)))
        if len(updates) >= 2000:
            store.update_retention(updates)
            updates = []
    store.update_retention(updates)
    if degraded:
        store.meta_set(RETENTION_FINGERPRINT, "")
    if full:
        store.meta_set(RETENTION_FINGERPRINT, current)
        # Every active item now holds this pass's outcome: the judged ones are counted by the store.
        return counts if skip is None else store.retention_counts()
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
    index = pupil_index(store, settings)
    _, pupil = next(_with_pupils(store, iter([row]), index))
    decision = RetentionPolicy(settings.retention, today=today).evaluate(facts_of(row, pupil))
    return row, decision.explain(lang)
