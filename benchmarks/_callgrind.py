"""Zeroing and dumping callgrind's counters from inside the measured Python process.

Used by the ``callgrind_*.py`` benchmarks, so that imports, set-up and warm-up are not counted.

Why the counters are driven from here: callgrind_control reaches a process that runs Python
code (valgrind polls for commands between basic blocks), so the script waits in a short
sleep loop, not in one blocking call, while the command is delivered.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time


def under_valgrind() -> bool:
    """Whether this process runs under valgrind (its preload library is in ``LD_PRELOAD``)."""
    return "vgpreload" in os.environ.get("LD_PRELOAD", "")


def control(option: str) -> None:
    """Send ``callgrind_control option`` to this process and wait until it has been handled."""
    if not under_valgrind():
        return
    tool = shutil.which("callgrind_control")
    if tool is None:
        raise SystemExit("callgrind_control not found")
    child = subprocess.Popen([tool, option, str(os.getpid())], stdout=subprocess.DEVNULL)
    while child.poll() is None:
        time.sleep(0.005)  # Python keeps running basic blocks: valgrind sees the command
    if child.returncode:
        raise SystemExit(f"callgrind_control {option} failed ({child.returncode})")
