"""Progress: bars per source on a terminal, paced plain log lines otherwise."""

from __future__ import annotations

import io
import logging

from scanner.progress import ProgressReporter, progress_hook


class Ticks:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def stats(seen: int, units_done: int, units: int = 10, **extra) -> dict:
    return {"seen": seen, "analysed": seen // 2, "unchanged": seen - seen // 2, "flagged": 1, "item_errors": 0,
            "source_errors": 0, "units": units, "units_done": units_done, "bytes_read": 2_500_000, **extra}


def test_log_lines_are_paced_and_the_last_state_is_logged_on_close(caplog):
    ticks = Ticks()
    reporter = ProgressReporter(False, interval=30.0, clock=ticks)
    with caplog.at_level(logging.INFO, logger="schoonschip.progress"):
        for second in range(100):
            ticks.now = float(second)
            reporter("mail", stats(seen=second * 10, units_done=second // 10))
        reporter.close()
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 5  # t=0, 30, 60, 90 and the closing line
    assert lines[1].startswith("mail: [######..............] 3/10 mappen/units, 300 items")
    assert "10.0 items/s" in lines[1] and "2.5 MB" in lines[1] and "0:00:30" in lines[1]
    assert "990 items" in lines[-1]


def test_terminal_bars_one_line_per_source_redrawn_in_place():
    ticks = Ticks()
    out = io.StringIO()
    reporter = ProgressReporter(True, interval=0.5, stream=out, clock=ticks)
    reporter("mail", stats(seen=100, units_done=5))
    ticks.now = 1.0
    reporter("schijf", stats(seen=40, units_done=1, units=4))
    ticks.now = 2.0
    reporter("mail", stats(seen=300, units_done=10))
    reporter.close()
    text = out.getvalue()
    assert "\x1b[1F" in text and "\x1b[2F" in text  # cursor moved back over the block
    last_block = text.rsplit("\x1b[2F", 1)[1]
    assert "mail: [####################] 10/10" in last_block and "schijf: [#####...............] 1/4" in last_block
    assert "100.0 items/s" in last_block  # mail: 200 more items in 2 seconds


def test_throughput_uses_a_recent_window():
    ticks = Ticks()
    reporter = ProgressReporter(False, interval=1e9, clock=ticks)
    reporter("mail", stats(seen=0, units_done=0))
    for second in range(1, 121):  # 100 items/s for a minute, then 10 items/s
        ticks.now = float(second)
        seen = second * 100 if second <= 60 else 6000 + (second - 60) * 10
        reporter("mail", stats(seen=seen, units_done=0))
    assert 9.0 <= reporter.rate("mail") <= 11.0


def test_progress_off_and_default():
    assert progress_hook(False) is None
    hook = progress_hook(None)
    assert hook is not None and hook.interactive is False  # pytest's stderr is not a terminal
