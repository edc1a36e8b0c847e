"""What a connector tells the pipeline, collected for tests: a sleeping clock and one crawl of
every unit. One home for the Graph and Google connector tests (both speak the same contract:
``Seen``/``Gone``, ``Resync`` before a fresh listing, ``Blind``, one ``Cursor`` at the end)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from connectors.base import SourceError
from scanner.core.model import Blind, Cursor, Gone, Resync, Seen


@dataclass
class FakeClock:
    """Stands in for time.sleep / time.monotonic / time.time: sleeping advances the clock."""

    now: float = 1_700_000_000.0
    waits: list[float] = field(default_factory=list)

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds

    def time(self) -> float:
        return self.now


@dataclass
class CrawlResult:
    events: dict[str, list[Seen | Gone]]
    cursors: dict[str, str | None]
    errors: dict[str, SourceError]
    resyncs: dict[str, list[str]] = field(default_factory=dict)
    blinds: dict[str, list[Blind]] = field(default_factory=dict)

    def snapshot(self) -> dict[str, list[tuple[Any, ...]]]:
        """What a run tells the pipeline, in a comparable form (order within a unit ignored)."""
        result = {}
        for unit, events in self.events.items():
            rows = []
            for event in events:
                if isinstance(event, Seen):
                    r = event.ref
                    rows.append(("seen", r.item_key, r.change_key, r.title, r.folder, r.owner, r.labels,
                                 r.link, r.size))
                else:
                    rows.append(("gone", event.item_key))
            result[unit] = sorted(rows, key=repr)
        return result

    def seen(self) -> list[Any]:
        return [e.ref for events in self.events.values() for e in events if isinstance(e, Seen)]

    def gone(self) -> list[str]:
        return [e.item_key for events in self.events.values() for e in events if isinstance(e, Gone)]

    def blind(self) -> list[Blind]:
        return [e for events in self.blinds.values() for e in events]


def crawl_all(connector: Any, cursors: dict[str, str | None] | None = None) -> CrawlResult:
    """Crawl every unit once from ``cursors``; checks the contract's shape on the way."""
    cursors = cursors or {}
    result = CrawlResult({}, {}, {})
    for unit in connector.units():
        try:
            events = list(connector.crawl(unit, cursors.get(unit.key)))
        except SourceError as exc:
            result.errors[unit.key] = exc
            continue
        assert events and isinstance(events[-1], Cursor), unit.key
        assert sum(isinstance(e, Cursor) for e in events) == 1
        resyncs = [e.reason for e in events if isinstance(e, Resync)]
        if resyncs:
            # The contract: announced before any item of the fresh listing.
            assert isinstance(events[0], Resync), unit.key
            result.resyncs[unit.key] = resyncs
        blinds = [e for e in events if isinstance(e, Blind)]
        if blinds:
            result.blinds[unit.key] = blinds
        result.events[unit.key] = [e for e in events[:-1] if isinstance(e, Seen | Gone)]
        result.cursors[unit.key] = events[-1].value
    return result
