"""A token bucket that paces outgoing digests.

Mail relays throttle senders (Office 365 SMTP: 30 messages per minute per mailbox) and a
burst of 800 digests at 06:00 looks like spam to every filter on the way. The clock and the
sleep function are injected so the pacing can be verified without waiting.
"""

from __future__ import annotations

import time


class Clock:
    """Monotonic time and sleep; the default clock of :class:`TokenBucket`."""

    def now(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


class TokenBucket:
    """``rate_per_minute`` tokens are added per minute, at most ``burst`` are kept.

    :meth:`acquire` takes one token, sleeping (through the clock) until one is available, and
    returns how long it waited.
    """

    def __init__(self, rate_per_minute: float, burst: int = 1, clock: Clock | None = None) -> None:
        if rate_per_minute <= 0:
            raise ValueError("rate_per_minute moet positief zijn / must be positive")
        if burst < 1:
            raise ValueError("burst moet minstens 1 zijn / must be at least 1")
        self.rate = rate_per_minute / 60.0
        self.capacity = float(burst)
        self.clock = clock or Clock()
        self._tokens = float(burst)
        self._last = self.clock.now()

    def _refill(self) -> None:
        now = self.clock.now()
        elapsed = max(0.0, now - self._last)
        self._last = now
        self._tokens = min(self.capacity, self._tokens + elapsed * self.rate)

    def acquire(self) -> float:
        waited = 0.0
        self._refill()
        # The tolerance keeps float rounding (elapsed * rate landing at 0.9999999) from
        # turning into an endless series of ever smaller sleeps.
        while self._tokens < 1.0 - 1e-9:
            needed = (1.0 - self._tokens) / self.rate
            self.clock.sleep(needed)
            waited += needed
            self._refill()
        self._tokens = max(0.0, self._tokens - 1.0)
        return waited
