"""Progress of a long run: a live line on a terminal, periodic log lines otherwise."""

from __future__ import annotations

import logging
import sys
import time
from typing import Any

log = logging.getLogger("schoonschip.progress")


class ProgressReporter:
    """Called by the pipeline after each batch with the source's running totals."""

    def __init__(self, interactive: bool, interval: float | None = None, stream=None) -> None:
        self.interactive = interactive
        self.interval = interval if interval is not None else (0.5 if interactive else 30.0)
        self.stream = stream or sys.stderr
        self.started = time.monotonic()
        self._last = 0.0
        self._line_open = False

    def __call__(self, source: str, stats: dict[str, Any]) -> None:
        now = time.monotonic()
        if now - self._last < self.interval:
            return
        self._last = now
        elapsed = max(now - self.started, 1e-6)
        done = stats.get("seen", 0)
        rate = done / elapsed
        mb = stats.get("bytes_read", 0) / 1e6
        text = (f"{source}: {done} items ({stats.get('analysed', 0)} geanalyseerd / analysed, "
                f"{stats.get('unchanged', 0)} ongewijzigd / unchanged), "
                f"mappen / units {stats.get('units_done', 0)}/{stats.get('units', 0)}, "
                f"{rate:.1f} items/s, {mb:.1f} MB")
        if self.interactive:
            self.stream.write("\r\x1b[2K" + text[:200])
            self.stream.flush()
            self._line_open = True
        else:
            log.info("%s", text)

    def close(self) -> None:
        if self.interactive and self._line_open:
            self.stream.write("\n")
            self.stream.flush()


def progress_hook(enabled: bool | None) -> ProgressReporter | None:
    """``None``: show a live line on a terminal, log lines otherwise; ``False``: off."""
    if enabled is False:
        return None
    interactive = sys.stderr.isatty() if enabled is None else bool(enabled) and sys.stderr.isatty()
    return ProgressReporter(interactive)
