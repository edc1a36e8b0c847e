"""The exit codes of every ``schoonschip`` command, in one place.

Cron, systemd and monitoring read them, so they are a public contract (README "Exit codes"):
a job function returns one, the CLI exits with it, the scheduler logs it.
"""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    """Process exit status of a command (an ``int``, so ``sys.exit(code)`` works)."""

    OK = 0
    FAILED = 1
    """The job failed (a scan that did not complete, a delivery with errors)."""
    CONFIG = 2
    """Bad usage or an invalid configuration."""
    LOCKED = 3
    """Another run holds the lock."""
    LAST_RUN_FAILED = 4
    """``status``: the last run failed."""
    STALE = 5
    """``status``: no successful scan for more than two days."""
