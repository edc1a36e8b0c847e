"""Which batch may start next: per-key limits and a bounded waiting room, for every executor.

Graph allows 4 concurrent requests per mailbox, so batches that share a concurrency key run at
most ``per_key_limit`` at a time. The driver is the only submitter (the scan lock makes it so),
so counting in-flight batches per key here holds for a local pool and a whole cluster alike.
The driver interleaves units only where the connector allows it (``Connector.parallel_units``;
not IMAP or EWS) and one unit at a time otherwise, so reaching the next mailbox's batches may mean
holding many of this one's: up to ``max_waiting`` held batches (about 16 MB at 16 items each)
keep memory bounded. Held batches are offered again first, oldest first.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Callable, Collection, Iterable
from typing import Generic, TypeVar

T = TypeVar("T")


class Admission(Generic[T]):
    """Admits batches from a lazy source under a per-key limit.

    The executor says when a batch started (:meth:`started`) and when it no longer runs
    (:meth:`finished`); retries and batches that could not be handed over go back with
    :meth:`hold`.
    """

    def __init__(self, source: Iterable[T], key: Callable[[T], str | None], per_key_limit: int,
                 max_waiting: int) -> None:
        self._source = iter(source)
        self._key = key
        self.per_key_limit = per_key_limit
        self.max_waiting = max_waiting
        self.exhausted = False
        self._waiting: deque[T] = deque()
        self._running: dict[str, int] = defaultdict(int)

    @property
    def drained(self) -> bool:
        """Nothing is left to start: the source is used up and nothing is held."""
        return self.exhausted and not self._waiting

    def startable(self, item: T, busy_keys: Collection[str] = ()) -> bool:
        """Whether ``item`` may start now; ``busy_keys`` are keys the caller refuses besides
        those at their limit (a pool worker does not queue a second batch of its mailbox)."""
        key = self._key(item)
        return key is None or (self._running[key] < self.per_key_limit and key not in busy_keys)

    def next(self, busy_keys: Collection[str] = ()) -> T | None:
        """The oldest held batch that may start, else the next one from the source (holding
        those that may not, while there is room); None when nothing may start now."""
        for index, item in enumerate(self._waiting):
            if self.startable(item, busy_keys):
                del self._waiting[index]
                return item
        while not self.exhausted and len(self._waiting) < self.max_waiting:
            try:
                item = next(self._source)
            except StopIteration:
                self.exhausted = True
                return None
            if self.startable(item, busy_keys):
                return item
            self._waiting.append(item)
        return None

    def hold(self, item: T, first: bool = False) -> None:
        """Keep ``item`` for a later :meth:`next`: a retry at the back, or at the front (``first``)
        a batch that never ran and should not lose its turn."""
        if first:
            self._waiting.appendleft(item)
        else:
            self._waiting.append(item)

    def started(self, item: T) -> None:
        """``item`` runs now and counts against its key's limit."""
        key = self._key(item)
        if key:
            self._running[key] += 1

    def finished(self, item: T) -> None:
        """``item`` no longer runs (done, failed or lost with its worker)."""
        key = self._key(item)
        if key:
            self._running[key] -= 1
