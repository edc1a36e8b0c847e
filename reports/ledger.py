"""Which digest went to whom for which period: the guarantee of exactly one mail per week.

The store implements :class:`DeliveryLedger` on its database; :class:`InMemoryLedger` is a
real implementation for runs without a database (``--dry-run``, the demo, tests), and
:class:`JsonFileLedger` keeps the same record in a small JSON file when a school delivers
from the outbox without a database. A digest counts as delivered only after the transport
accepted it; a failed delivery is recorded with its reason and retried on the next call.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Protocol, runtime_checkable


@runtime_checkable
class DeliveryLedger(Protocol):
    def already_sent(self, owner: str, period: str) -> bool: ...

    def record(self, owner: str, period: str, status: str, reason: str | None) -> None:
        """``status`` is "sending" (written just before the transport is asked), "sent" or
        "failed"; ``reason`` never contains content. A "sending" left behind by a run that
        died mid-send is not "sent": the next run sends again, with the same Message-ID, so
        the receiving side can recognise the repeat."""
        ...


@runtime_checkable
class ListingLedger(Protocol):
    """A ledger that also remembers which items a digest listed (issue 18: "answered within 3
    weeks of the first digest", and enforcement that may only act on what a sent digest
    announced). Optional: a ledger without a store (a JSON file) has nothing to join with."""

    def record_listed(self, owner: str, period: str, item_ids: Sequence[str],
                      moves: Mapping[str, date] | None = None) -> None:
        """Written before the transport is asked, like "sending": an item counts as listed
        only once the digest of ``owner`` for ``period`` is also recorded "sent", so a
        delivery that failed or died half-way announced nothing. ``moves``: the date this
        digest announces each item will be moved by the school's policy (optional
        enforcement); a move is allowed only on or after a date a sent digest announced."""
        ...


@dataclass(frozen=True)
class LedgerEntry:
    owner: str
    period: str
    status: str
    reason: str | None
    at: str


class InMemoryLedger:
    """The ledger as a list of entries in memory (every attempt is kept, in order)."""

    def __init__(self) -> None:
        self.entries: list[LedgerEntry] = []
        self.listed: dict[tuple[str, str], tuple[str, ...]] = {}
        """What each digest listed (:class:`ListingLedger`); not kept by :class:`JsonFileLedger`,
        which has no items to join it with."""
        self.moves: dict[tuple[str, str], dict[str, date]] = {}
        """The move dates each digest announced (optional enforcement)."""

    def already_sent(self, owner: str, period: str) -> bool:
        key = owner.casefold()
        return any(e.owner.casefold() == key and e.period == period and e.status == "sent"
                   for e in self.entries)

    def record(self, owner: str, period: str, status: str, reason: str | None) -> None:
        if status not in ("sending", "sent", "failed"):
            raise ValueError(f"onbekende status {status!r} / unknown status {status!r}")
        self.entries.append(LedgerEntry(owner, period, status, reason,
                                        datetime.now(UTC).isoformat(timespec="seconds")))

    def record_listed(self, owner: str, period: str, item_ids: Sequence[str],
                      moves: Mapping[str, date] | None = None) -> None:
        self.listed[(owner.casefold(), period)] = tuple(item_ids)
        self.moves[(owner.casefold(), period)] = dict(moves or {})

    def attempts(self, owner: str, period: str) -> list[LedgerEntry]:
        key = owner.casefold()
        return [e for e in self.entries if e.owner.casefold() == key and e.period == period]


class JsonFileLedger(InMemoryLedger):
    """:class:`InMemoryLedger` persisted to a JSON file (written atomically, mode 0600)."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = Path(path)
        if self.path.exists():
            raw = json.loads(self.path.read_text(encoding="utf-8"))
            self.entries = [LedgerEntry(**entry) for entry in raw.get("entries", [])]

    def record(self, owner: str, period: str, status: str, reason: str | None) -> None:
        super().record(owner, period, status, reason)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".ledger-", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump({"entries": [asdict(e) for e in self.entries]}, handle, indent=1)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
