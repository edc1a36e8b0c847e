"""An in-test source that follows the connector contract (connectors/base.py), with faults.

The source's state (a :class:`World`: folders of files, a change log per folder) lives in this
process; a source config names its world. It can behave as a full listing (like ``folder`` or
SMB: every run lists everything) or as a delta source (like Graph delta / EWS sync: a cursor
is a position in the change log, changes since it are reported as ``Seen`` / ``Gone``, the last
occurrence of a key winning, and an expired cursor answers with ``Resync`` and a fresh
listing, as Graph's 410 ``syncStateNotFound`` asks the client to do).

Faults are what real servers and shares do, described by the contract, not by our client:

- ``fetch``: item key -> error code raised by ``fetch`` as :class:`ItemFetchError` (429 /
  reset / token errors surface as ``throttled`` / ``fetch_failed``, a chmod-000 file as
  ``access_denied``);
- ``blind``: folder -> item key prefix the listing cannot read (an unreadable subfolder):
  reported with ``Blind`` and left out of the listing. A delta unit cannot list what changed
  in a part it cannot read, so it reports ``Blind("")`` and keeps its old cursor;
- ``expire``: folders whose stored cursor is no longer valid (410 on the delta token);
- ``unit_error``: folders whose listing breaks off half way (``SourceError``, no cursor);
- ``no_units``: the source lists no units at all (an unmounted share);
- ``empty``: every unit lists nothing (an empty mount point; a delta unit answers "no changes"
  and keeps its cursor).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal

from connectors.base import Connector, ItemFetchError, SourceConfig, SourceError
from scanner.core.model import (
    Blind,
    CrawlStream,
    Cursor,
    Fetched,
    Gone,
    ItemKind,
    ItemRef,
    Resync,
    Seen,
    Unit,
)

KIND = "memory"
IMPORT_PATH = "tests.pipeline.memory_source:MemoryConnector"


@dataclass
class Faults:
    fetch: dict[str, str] = field(default_factory=dict)
    blind: dict[str, str] = field(default_factory=dict)
    expire: set[str] = field(default_factory=set)
    unit_error: set[str] = field(default_factory=set)
    no_units: bool = False
    empty: bool = False

    def any(self) -> bool:
        return bool(self.fetch or self.blind or self.expire or self.unit_error or self.no_units or self.empty)


@dataclass
class World:
    """What the source holds now. Item keys are ``"<folder>/<name>"``."""

    folders: dict[str, dict[str, bytes]] = field(default_factory=dict)
    log: dict[str, list[tuple[int, str]]] = field(default_factory=dict)
    seq: int = 0
    faults: Faults = field(default_factory=Faults)
    fetched: list[str] = field(default_factory=list)
    """Every item key whose content was delivered (the server's log)."""

    def put(self, folder: str, name: str, content: bytes) -> None:
        self.folders.setdefault(folder, {})[name] = content
        self._changed(folder, f"{folder}/{name}")

    def delete(self, folder: str, name: str) -> None:
        del self.folders[folder][name]
        self._changed(folder, f"{folder}/{name}")

    def move(self, folder: str, name: str, to: str) -> None:
        content = self.folders[folder][name]
        self.delete(folder, name)
        self.put(to, name, content)

    def _changed(self, folder: str, key: str) -> None:
        self.seq += 1
        self.log.setdefault(folder, []).append((self.seq, key))

    def items(self) -> dict[str, bytes]:
        return {f"{folder}/{name}": content
                for folder, files in self.folders.items() for name, content in files.items()}


WORLDS: dict[str, World] = {}


class MemoryConfig(SourceConfig):
    kind: Literal["memory"]
    world: str
    delta: bool = False
    owner: str = "docent@school.nl"


def change_key(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()[:16]


def item_date(key: str) -> datetime:
    """A stable date per item, spread over some school years (retention varies with it)."""
    days = int(hashlib.sha256(key.encode()).hexdigest()[:6], 16) % 2000
    return datetime(2019, 1, 1, 12, tzinfo=UTC) + timedelta(days=days)


class MemoryConnector(Connector):
    kind = KIND
    config_model = MemoryConfig
    config: MemoryConfig

    @property
    def world(self) -> World:
        return WORLDS[self.config.world]

    def units(self) -> Iterator[Unit]:
        if self.world.faults.no_units:
            return
        for folder in sorted(self.world.folders):
            yield Unit(key=folder, label=folder, owner=self.config.owner, full_listing=not self.config.delta)

    def _ref(self, unit: Unit, key: str, content: bytes) -> ItemRef:
        folder, _, name = key.partition("/")
        return ItemRef(source=self.config.name, item_key=key, kind=ItemKind.FILE, owner=self.config.owner,
                       folder=folder, title=name, date=item_date(key), size=len(content),
                       change_key=change_key(content), unit_key=unit.key)

    def crawl(self, unit: Unit, cursor: str | None) -> CrawlStream:
        world, faults, folder = self.world, self.world.faults, unit.key
        files = {} if faults.empty else world.folders.get(folder, {})
        blind = faults.blind.get(folder)
        if self.config.delta and faults.empty:
            yield Cursor(cursor)
            return
        if self.config.delta and blind is not None:
            yield Blind("", "access_denied", f"map {folder} niet leesbaar / folder {folder} unreadable")
            yield Cursor(cursor)
            return
        full = cursor is None or not self.config.delta
        if self.config.delta and cursor is not None and folder in faults.expire:
            yield Resync("syncStateNotFound")
            full = True
        if blind is not None:
            yield Blind(blind, "access_denied", f"submap {blind} niet leesbaar / subfolder {blind} unreadable")
        keys = sorted(f"{folder}/{name}" for name in files) if full else self._delta(folder, int(cursor))
        for index, key in enumerate(keys):
            if folder in faults.unit_error and index >= len(keys) // 2:
                raise SourceError("unreachable", f"map {folder} onbereikbaar / folder {folder} unreachable")
            if blind is not None and key.startswith(blind):
                continue
            name = key.partition("/")[2]
            if name in files:
                yield Seen(self._ref(unit, key, files[name]))
            else:
                yield Gone(key)
        if folder in faults.unit_error:
            raise SourceError("unreachable", f"map {folder} onbereikbaar / folder {folder} unreachable")
        yield Cursor(str(world.seq))

    def _delta(self, folder: str, since: int) -> list[str]:
        """Keys changed after ``since``, each once (its last change decides Seen or Gone)."""
        order: dict[str, int] = {}
        for seq, key in self.world.log.get(folder, []):
            if seq > since:
                order.pop(key, None)
                order[key] = seq
        return list(order)

    def fetch(self, ref: ItemRef) -> Fetched:
        world = self.world
        code = world.faults.fetch.get(ref.item_key)
        if code is not None:
            raise ItemFetchError(code, f"ophalen mislukt / fetch failed ({code})")
        folder, _, name = ref.item_key.partition("/")
        content = world.folders.get(folder, {}).get(name)
        if content is None:
            raise ItemFetchError("not_found", "item bestaat niet meer / item no longer exists")
        world.fetched.append(ref.item_key)
        return Fetched(name=name, size=len(content), media_type="text/plain", data=content)
