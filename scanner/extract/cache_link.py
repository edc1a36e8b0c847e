"""One run-level extraction cache for every worker of a local pool, held by the driver.

Why: a pool worker used to have a cache of its own, so an attachment that recurs in the mails
of two workers (the klassenlijst forwarded to the whole team) was parsed twice, once in each
worker's sandbox. Now the driver holds the run's one :class:`ExtractionCache` and each worker
reaches it over a pipe of its own: a look-up is one round trip, a new entry one message.

Why in the driver's memory and not a cache file in the run's temp dir: extracted text then
stays where it was before, in the memory of our own processes and never on disk, so a run that
is killed leaves nothing readable behind. Entries are the same budget-independent outcomes the
walker already stores (it does not store an outcome its item's budgets or depth cut short), so
a worker that reuses another worker's entry gets what its own extraction would have given.

Why one thread per worker pipe: a thread blocked in ``recv`` releases the GIL, so the driver's
own loop (collecting batches, storing) needs no polling; it ends when its worker's end of the
pipe closes (the worker stopped or died). The pipes carry pickles between our own processes
only: the sandbox still talks JSON to its worker, which turns that into a :class:`CacheEntry`.
"""

from __future__ import annotations

import threading
from multiprocessing.connection import Connection

from scanner.extract.cache import CacheEntry, ExtractionCache


class CacheServer:
    """The driver's side: answers every worker's look-ups from one cache."""

    def __init__(self, cache: ExtractionCache) -> None:
        self.cache = cache

    def serve(self, conn: Connection) -> threading.Thread:
        """Answer ``conn`` (a worker's pipe) on a daemon thread until the worker closes it."""
        thread = threading.Thread(target=self._loop, args=(conn,), name="schoonschip-cache", daemon=True)
        thread.start()
        return thread

    def _loop(self, conn: Connection) -> None:
        try:
            while True:
                try:
                    op, key, entry = conn.recv()
                except (EOFError, OSError):
                    return  # the worker is gone
                if op == "get":
                    try:
                        conn.send(self.cache.get(key))
                    except OSError:
                        return
                elif op == "put" and isinstance(entry, CacheEntry):
                    self.cache.put(key, entry)
        finally:
            conn.close()


class CacheClient:
    """A worker's side: the driver's cache, with the ``get``/``put`` of an ExtractionCache.

    Used by one thread of the worker at a time (the extractor serialises its requests). When
    the pipe breaks (the driver is gone, and the worker is about to end with it) look-ups
    miss and entries are dropped: extraction goes on, uncached, and gives the same text.
    """

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._broken = False

    def get(self, key: str) -> CacheEntry | None:
        if self._broken:
            return None
        try:
            self._conn.send(("get", key, None))
            entry = self._conn.recv()
        except (EOFError, OSError):
            self._broken = True
            return None
        return entry if isinstance(entry, CacheEntry) else None

    def put(self, key: str, entry: CacheEntry) -> None:
        if self._broken:
            return
        try:
            self._conn.send(("put", key, entry))
        except OSError:
            self._broken = True
