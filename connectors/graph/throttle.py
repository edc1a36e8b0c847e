"""Throttling and retry policy for Microsoft Graph.

Why a policy object of its own: Graph throttles per app *and* per mailbox (Exchange Online
allows 4 concurrent requests per mailbox and per app), and it tells the client how long to
wait (``Retry-After`` on 429 and often 503). Honouring that is both the fastest and the
politest strategy; guessing with back-off is only for faults that come without advice
(other 5xx, dropped connections). Every wait is bounded twice, per attempt and in total, so a
mailbox that keeps failing costs a bounded time and then becomes a unit error while the other
mailboxes go on. The sleep function, clock and random source are injected so tests run the
real policy without sleeping.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime

RETRY_AFTER_STATUSES = frozenset({429, 503})
"""Graph did not act on the request (throttled / unavailable): safe to repeat even a POST."""
RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


@dataclass
class RetryPolicy:
    """Bounded retries: ``max_attempts`` tries, at most ``max_total_wait`` seconds of waiting."""

    max_attempts: int = 6
    max_total_wait: float = 300.0
    base: float = 1.0
    cap: float = 60.0
    sleep: Callable[[float], None] = time.sleep
    rng: Callable[[], float] = random.random

    def backoff(self, attempt: int) -> float:
        """Exponential back-off with full jitter for fault number ``attempt`` (1-based).

        Full jitter (a random wait between 0 and the exponential bound) spreads the retries of
        many workers hit by the same outage, so they do not come back in lock step.
        """
        bound = min(self.cap, self.base * (2 ** (attempt - 1)))
        return bound * self.rng()

    def delay(self, attempt: int, retry_after: float | None) -> float:
        """The wait before the next attempt: the server's advice when given, else back-off."""
        if retry_after is not None:
            return retry_after
        return self.backoff(attempt)


@dataclass
class RetryState:
    """Book-keeping for one logical request across its attempts."""

    policy: RetryPolicy
    attempts: int = 0
    waited: float = 0.0

    def next_wait(self, retry_after: float | None) -> float | None:
        """Record a failed attempt; return how long to wait, or ``None`` to give up."""
        self.attempts += 1
        if self.attempts >= self.policy.max_attempts:
            return None
        wait = self.policy.delay(self.attempts, retry_after)
        if self.waited + wait > self.policy.max_total_wait:
            return None
        self.waited += wait
        return wait


@dataclass
class MailboxLimiter:
    """A semaphore per mailbox (or drive), created on first use.

    Exchange Online answers a fifth concurrent request for one mailbox with 429
    (``MailboxConcurrency``); waiting locally for a slot is cheaper than being throttled.
    This limiter covers the threads of one process; cluster-wide limits are the executor's job.
    """

    limit: int = 4
    _semaphores: dict[str, threading.BoundedSemaphore] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _semaphore(self, key: str) -> threading.BoundedSemaphore:
        with self._lock:
            sem = self._semaphores.get(key)
            if sem is None:
                sem = self._semaphores[key] = threading.BoundedSemaphore(self.limit)
            return sem

    @contextmanager
    def slot(self, key: str | None) -> Iterator[None]:
        """Hold one of the ``limit`` request slots of ``key`` (no limit when ``key`` is None)."""
        if key is None:
            yield
            return
        sem = self._semaphore(key.lower())
        sem.acquire()
        try:
            yield
        finally:
            sem.release()


@dataclass
class FailureTracker:
    """Counts listings that failed per mailbox, so a dead mailbox stops costing retries.

    Only mailbox-level requests count (folder listings, delta pages): a request about one
    item that runs out of retries costs that item only (``GraphClient.request(item=True)``),
    so a few unlucky downloads never block a mailbox. After ``limit`` failed listings of one
    mailbox, further requests for it fail at once for ``cooldown`` seconds (default: the rest
    of a nightly run), with a source error naming the mailbox. Other mailboxes are unaffected.
    """

    limit: int = 2
    cooldown: float = 3600.0
    clock: Callable[[], float] = time.monotonic
    _failures: dict[str, list[float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, key: str) -> None:
        with self._lock:
            self._failures.setdefault(key.lower(), []).append(self.clock())

    def blocked(self, key: str | None) -> bool:
        if key is None:
            return False
        now = self.clock()
        with self._lock:
            recent = [t for t in self._failures.get(key.lower(), []) if now - t < self.cooldown]
            if recent:
                self._failures[key.lower()] = recent
            return len(recent) >= self.limit
