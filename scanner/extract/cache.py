"""A run-level cache so identical attachments are extracted once.

Schools forward the same klassenlijst.xlsx or the same newsletter PDF to dozens of colleagues;
parsing it once per run instead of once per mailbox is a large saving. The key is the format
the attachment is read as and the sha256 of its raw bytes (the same bytes as .csv and as .txt
are two extractions); the value is what extraction produced for it, with part paths relative
to the attachment so a hit can be re-rooted under a different mail or archive.

The cache holds text (content) in memory only, is never persisted, and is bounded both in
entries and in characters so a run over 20,000 mails cannot grow it without limit.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

# (relative part path, text, location, context, content_hash); "" is the node itself.
CachedPart = tuple[str, str, "str | None", dict[str, Any], "str | None"]
# (code, message, relative part path)
CachedError = tuple[str, str, str]


@dataclass(frozen=True, slots=True)
class CacheEntry:
    """Extraction result of one attachment, relative to that attachment."""

    parts: tuple[CachedPart, ...]
    errors: tuple[CachedError, ...]

    @property
    def chars(self) -> int:
        return sum(len(p[1]) for p in self.parts) + 64

    def to_wire(self) -> dict[str, Any]:
        return {"parts": [list(p) for p in self.parts], "errors": [list(e) for e in self.errors]}

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> CacheEntry:
        parts = tuple((str(p[0]), str(p[1]), p[2], dict(p[3] or {}), p[4]) for p in data["parts"])
        errors = tuple((str(e[0]), str(e[1]), str(e[2])) for e in data["errors"])
        return cls(parts=parts, errors=errors)


class ExtractionCache:
    """Bounded, thread-safe LRU: "format:sha256" of an attachment -> :class:`CacheEntry`.

    One per run (or per worker process); threads of a local pool may share it.
    """

    def __init__(self, max_entries: int = 2048, max_chars: int = 50_000_000) -> None:
        self.max_entries = max(1, int(max_entries))
        self.max_chars = max(0, int(max_chars))
        self._data: OrderedDict[str, CacheEntry] = OrderedDict()
        self._chars = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: str) -> CacheEntry | None:
        with self._lock:
            entry = self._data.get(key)
            if entry is None:
                self.misses += 1
                return None
            self._data.move_to_end(key)
            self.hits += 1
            return entry

    def put(self, key: str, entry: CacheEntry) -> None:
        size = entry.chars
        if size > self.max_chars:
            return
        with self._lock:
            old = self._data.pop(key, None)
            if old is not None:
                self._chars -= old.chars
            self._data[key] = entry
            self._chars += size
            while self._data and (len(self._data) > self.max_entries or self._chars > self.max_chars):
                _, evicted = self._data.popitem(last=False)
                self._chars -= evicted.chars

    def __len__(self) -> int:
        return len(self._data)

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
            self._chars = 0
