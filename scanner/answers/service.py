"""What an answer does: check the claim against the store, act at the source, record it.

The web layer (:mod:`scanner.answers.web`) only renders; every rule about answers lives here
so it is tested without HTTP:

* every item of a claim must still belong to the claim's owner, else nothing happens
  (``not_yours``); an item no longer in the store is ``gone``;
* a destructive link is spent *before* it acts, so a replay (or a double click) acts once;
* *verwijderen* asks the source's connector to ``remove`` the item when it can; a source that
  cannot records the answer only and the page says what to do by hand; a failure is recorded
  with the connector's code (never its message: it may hold a path);
* *bewaren* / *geen_leerlinggegevens* set ``items.owner_mark``, which the retention policy
  honours; a reversal within ``undo_days`` puts the previous mark back.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from connectors.base import Connector, ConnectorContext, ItemFetchError, SourceConfig, close_all
from connectors.registry import connector_class
from scanner.answers.links import Claim
from scanner.answers.model import (
    FAILED,
    HOLD_REASONS,
    MARKS,
    MOVED,
    RECORDED,
    TERUGDRAAIEN,
    VERWIJDEREN,
)
from scanner.config import Settings
from scanner.core.model import ItemState, RetentionAction
from scanner.core.privacy import ValueHasher, load_installation_secret
from scanner.store import Store
from scanner.store.rows import StoredItem

log = logging.getLogger(__name__)

ConnectorFactory = Callable[[SourceConfig, ConnectorContext], Connector]


def registry_connector(source: SourceConfig, context: ConnectorContext) -> Connector:
    """The configured source's own connector (the default factory)."""
    return connector_class(source.kind)(source, context)


class AnswerRefused(Exception):
    """The claim may not act: ``not_yours``, ``gone``, ``used`` or ``bad_reason``."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass
class ItemOutcome:
    """What happened to one item (shown on the result page)."""

    item: StoredItem
    outcome: str  # recorded | moved | failed
    manual: bool = False  # recorded only: the source cannot act, the teacher must do it
    place: str | None = None
    error_code: str | None = None
    reverted_move: bool = False  # a reversal of a move: the item is still at ``place``
    restored: bool = False  # a reversal of a move that the source put back (``place``: where)
    origin: str | None = None  # a reversal of a move: the unit (mailbox folder) it was moved from


@dataclass
class Result:
    action: str
    items: list[ItemOutcome] = field(default_factory=list)

    def counts(self) -> Counter[str]:
        return Counter(o.outcome for o in self.items)


class AnswerService:
    """Applies claims to the store and the sources. One per server process; thread-safe (one
    answer at a time: connectors are not made for concurrent use)."""

    def __init__(self, settings: Settings, store: Store,
                 connector_factory: ConnectorFactory = registry_connector,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                 hasher: ValueHasher | None = None) -> None:
        self.settings = settings
        self.store = store
        self._hasher = hasher or ValueHasher(load_installation_secret(settings.secret_path, store))
        self._factory = connector_factory
        self._clock = clock
        self._lock = threading.Lock()
        self._context = ConnectorContext(max_item_bytes=settings.extraction.max_item_bytes,
                                         state_dir=str(settings.state_dir / "cache"))

    def _owner_key(self, owner: str) -> str:
        """Who answered, as stored: the keyed hash the FG frame uses for owners too."""
        return self._hasher.hash("OWNER", owner.strip())

    # -- reading ---------------------------------------------------------------------------

    def items_of(self, claim: Claim) -> list[StoredItem]:
        """The claim's items, checked: all must exist and belong to the claim's owner."""
        items = []
        for ident in claim.item_ids:
            row = self.store.item(ident)
            if row is None or row.id != ident:
                raise AnswerRefused("gone")
            if row.owner.strip().lower() != claim.owner.strip().lower():
                raise AnswerRefused("not_yours")
            if claim.action == VERWIJDEREN and row.action == RetentionAction.ARCHIVEREN.value:
                raise AnswerRefused("archive")  # the Archiefwet keeps it: file it, never delete
            items.append(row)
        return items

    def check(self, claim: Claim) -> list[StoredItem]:
        """What a GET may know: the items, or why the link cannot act (changes nothing)."""
        items = self.items_of(claim)
        if claim.destructive and self.store.link_used(claim.nonce):
            raise AnswerRefused("used")
        return items

    def can_remove(self, source_name: str) -> bool:
        """Whether the source's connector can move items itself (else: record only)."""
        try:
            source = self.settings.source(source_name)
        except KeyError:
            return False
        try:
            return self._factory(source, self._context).supports_remove()
        except Exception:  # noqa: BLE001 - a connector that cannot be built cannot act
            return False

    # -- acting ----------------------------------------------------------------------------

    def apply(self, claim: Claim, reason: str | None = None) -> Result:
        """Act on a claim (the POST). Raises :class:`AnswerRefused` and then changes nothing."""
        if claim.action == TERUGDRAAIEN:
            return self.undo(claim)
        if reason is not None and (claim.action != "bewaren" or reason not in HOLD_REASONS):
            raise AnswerRefused("bad_reason")
        with self._lock:
            items = self.items_of(claim)
            if claim.destructive and not self.store.spend_link(claim.nonce):
                raise AnswerRefused("used")
            now = self._clock()
            result = Result(claim.action)
            if claim.action == VERWIJDEREN:
                result.items = self._remove(items)
            else:
                result.items = [ItemOutcome(item, RECORDED) for item in items]
            rows = [{"item_id": o.item.id, "owner_key": self._owner_key(claim.owner), "action": claim.action,
                     "reason": reason, "answered_at": now, "outcome": o.outcome,
                     "error_code": o.error_code, "place": o.place,
                     "origin": o.item.unit_key if o.outcome == MOVED else None} for o in result.items]
            marks = {} if claim.action == VERWIJDEREN else {o.item.id: MARKS[claim.action] for o in result.items}
            self.store.record_answers(rows, marks, moved=[o.item.id for o in result.items if o.outcome == MOVED],
                                      when=now)
        log.info("answer %s: %s", claim.action, dict(result.counts()))
        return result

    def _remove(self, items: list[StoredItem]) -> list[ItemOutcome]:
        outcomes: list[ItemOutcome] = []
        connectors: dict[str, Connector | None] = {}
        try:
            for item in items:
                if item.state == ItemState.CLEANED.value:
                    outcomes.append(ItemOutcome(item, RECORDED))  # already gone at the source
                    continue
                if item.source not in connectors:
                    connectors[item.source] = self._connector(item.source)
                connector = connectors[item.source]
                if connector is None or not connector.supports_remove():
                    outcomes.append(ItemOutcome(item, RECORDED, manual=True))
                    continue
                try:
                    place = connector.remove(item.ref())
                except ItemFetchError as exc:
                    outcomes.append(ItemOutcome(item, FAILED, error_code=exc.code))
                except Exception as exc:  # noqa: BLE001 - one item never stops the rest
                    log.warning("remove failed (%s)", type(exc).__name__)
                    outcomes.append(ItemOutcome(item, FAILED, error_code="action_failed"))
                else:
                    outcomes.append(ItemOutcome(item, MOVED, place=(place or "")[:255] or None))
        finally:
            close_all(connectors.values())
        return outcomes

    def _connector(self, source_name: str) -> Connector | None:
        try:
            source = self.settings.source(source_name)
        except KeyError:
            return None  # the source was taken out of the configuration: record only
        try:
            return self._factory(source, self._context)
        except Exception as exc:  # noqa: BLE001 - a connector that cannot be built cannot act
            log.warning("connector for an answer could not be built (%s)", type(exc).__name__)
            return None

    def undo(self, claim: Claim) -> Result:
        """Reverse the owner's standing answers on the claim's items given in the last
        ``undo_days``; each item's mark goes back to what its earlier standing answer set."""
        with self._lock:
            items = self.items_of(claim)
            now = self._clock()
            since = now - timedelta(days=self.settings.answers.undo_days)
            history = self.store.answers_of([i.id for i in items])
            result = Result(TERUGDRAAIEN)
            to_reverse: list[int] = []
            marks: dict[str, str | None] = {}
            for item in items:
                standing = [a for a in history if a["item_id"] == item.id and a["reversed_at"] is None]
                recent = [a for a in standing if a["answered_at"] >= since
                          and a["owner_key"] == self._owner_key(claim.owner)]
                if not recent:
                    continue
                last = recent[-1]
                to_reverse.append(last["id"])
                earlier = [a for a in standing if a["id"] != last["id"] and MARKS.get(a["action"])]
                if MARKS.get(last["action"]) is not None:
                    marks[item.id] = MARKS[earlier[-1]["action"]] if earlier else None
                result.items.append(ItemOutcome(
                    item, RECORDED, place=last["place"], origin=last.get("origin"),
                    reverted_move=last["action"] == VERWIJDEREN and last["outcome"] == MOVED))
            if not to_reverse:
                raise AnswerRefused("nothing_to_undo")
            self._restore([o for o in result.items if o.reverted_move])
            self.store.reverse_answers(to_reverse, marks, when=now,
                                       reopen=[o.item.id for o in result.items if o.restored])
        log.info("answers reversed: %d", len(to_reverse))
        return result

    def _restore(self, outcomes: list[ItemOutcome]) -> None:
        """Undo of a move: the source puts the item back where it can (``Connector.restore``);
        where it cannot, the outcome keeps the place and the page says to do it by hand."""
        connectors: dict[str, Connector | None] = {}
        try:
            for outcome in outcomes:
                source = outcome.item.source
                if source not in connectors:
                    connectors[source] = self._connector(source)
                connector = connectors[source]
                if connector is None or not connector.supports_restore():
                    continue
                ref = outcome.item.ref()
                if outcome.origin and outcome.origin != ref.unit_key:
                    # the next scan found it in Verwijderde items: it goes back to where it was
                    ref = dataclasses.replace(ref, unit_key=outcome.origin)
                try:
                    back = connector.restore(ref)
                except ItemFetchError as exc:
                    outcome.error_code = exc.code
                    continue
                except Exception as exc:  # noqa: BLE001 - one item never stops the rest
                    log.warning("restore failed (%s)", type(exc).__name__)
                    outcome.error_code = "action_failed"
                    continue
                outcome.restored, outcome.reverted_move, outcome.place = True, False, (back or "")[:255] or None
        finally:
            close_all(connectors.values())

    def last_answers(self, items: list[StoredItem]) -> dict[str, dict[str, Any]]:
        """The standing answer of each item, if any (shown on the confirmation page)."""
        out: dict[str, dict[str, Any]] = {}
        for answer in self.store.answers_of([i.id for i in items]):
            if answer["reversed_at"] is None:
                out[answer["item_id"]] = answer
        return out
