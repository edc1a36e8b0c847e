"""Progress of a long run: a live bar per source on a terminal, periodic log lines otherwise.

The pipeline calls the reporter after every batch with the running totals of one source.
On a terminal that becomes one redrawn line per source (units bar, items, throughput); under
systemd, cron or a pipe it becomes a plain log line at most every ``interval`` seconds and a
closing line per source, so a journal shows how far a night got without thousands of lines.
Only source names and counts are shown: never unit labels (mailbox addresses, folder names).
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TextIO

log = logging.getLogger("schoonschip.progress")

BAR_WIDTH = 20
RATE_WINDOW = 30.0  # seconds of history behind the "current" throughput


@dataclass
class _SourceProgress:
    started: float
    stats: dict[str, Any]
    samples: list[tuple[float, int]]
    logged_seen: int = -1


class ProgressReporter:
    """Called by the pipeline after each batch with the source's running totals.

    ``clock`` (monotonic seconds) is injectable so tests can check throughput and pacing
    without sleeping.
    """

    def __init__(self, interactive: bool, interval: float | None = None, stream: TextIO | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.interactive = interactive
        self.interval = interval if interval is not None else (0.5 if interactive else 30.0)
        self.stream = stream or sys.stderr
        self.clock = clock
        self.started = clock()
        self._sources: dict[str, _SourceProgress] = {}
        self._last_draw = float("-inf")
        self._drawn_lines = 0

    def __call__(self, source: str, stats: dict[str, Any]) -> None:
        now = self.clock()
        entry = self._sources.get(source)
        if entry is None:
            entry = self._sources[source] = _SourceProgress(now, dict(stats), [(now, stats.get("seen", 0))])
        entry.stats = dict(stats)
        entry.samples.append((now, stats.get("seen", 0)))
        while len(entry.samples) > 2 and now - entry.samples[1][0] > RATE_WINDOW:
            entry.samples.pop(0)
        if now - self._last_draw < self.interval:
            return
        self._last_draw = now
        if self.interactive:
            self._draw()
        else:
            log.info("%s", self.line(source))
            entry.logged_seen = stats.get("seen", 0)

    # --- text ---------------------------------------------------------------------------

    def rate(self, source: str) -> float:
        """Items per second over the last ``RATE_WINDOW`` seconds (whole run when shorter)."""
        samples = self._sources[source].samples
        (t0, n0), (t1, n1) = samples[0], samples[-1]
        return (n1 - n0) / (t1 - t0) if t1 > t0 else 0.0

    def line(self, source: str) -> str:
        entry = self._sources[source]
        stats = entry.stats
        units, done = stats.get("units", 0), stats.get("units_done", 0)
        elapsed = self.clock() - entry.started
        errors = stats.get("item_errors", 0) + stats.get("source_errors", 0)
        return (f"{source}: {_bar(done, units)} {done}/{units} mappen/units, {stats.get('seen', 0)} items "
                f"({stats.get('analysed', 0)} geanalyseerd/analysed, {stats.get('unchanged', 0)} ongewijzigd/"
                f"unchanged, {stats.get('flagged', 0)} gemarkeerd/flagged, {errors} fouten/errors), "
                f"{self.rate(source):.1f} items/s, {stats.get('bytes_read', 0) / 1e6:.1f} MB, {_clock(elapsed)}")

    def _draw(self) -> None:
        width = _terminal_width(self.stream)
        out = []
        if self._drawn_lines:
            out.append(f"\x1b[{self._drawn_lines}F")  # back to the first line of the block
        for source in self._sources:
            out.append("\x1b[2K" + self.line(source)[:width - 1] + "\n")
        self.stream.write("".join(out))
        self.stream.flush()
        self._drawn_lines = len(self._sources)

    def close(self) -> None:
        """Final state: redraw the bars once more, or log a closing line per source."""
        if not self._sources:
            return
        if self.interactive:
            self._draw()
            return
        for source, entry in self._sources.items():
            if entry.logged_seen != entry.stats.get("seen", 0):
                log.info("%s", self.line(source))


def _bar(done: int, total: int) -> str:
    if total <= 0:
        return "[" + "." * BAR_WIDTH + "]"
    filled = min(BAR_WIDTH, int(BAR_WIDTH * done / total))
    return "[" + "#" * filled + "." * (BAR_WIDTH - filled) + "]"


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}"


def _terminal_width(stream: TextIO) -> int:
    import os

    try:
        return os.get_terminal_size(stream.fileno()).columns
    except (OSError, ValueError, AttributeError):
        return 200


def progress_hook(enabled: bool | None) -> ProgressReporter | None:
    """``None``: bars on a terminal, log lines otherwise; ``True``: bars when on a terminal,
    else log lines; ``False``: off."""
    if enabled is False:
        return None
    return ProgressReporter(sys.stderr.isatty())
