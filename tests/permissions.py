"""File permissions that really apply in tests, also when the suite runs as root.

Root passes every permission check through the capabilities ``CAP_DAC_OVERRIDE`` and
``CAP_DAC_READ_SEARCH``, so a ``chmod 000`` folder is readable to a test run as root and a test
of "unreadable" would pass without testing anything. :func:`permissions_apply` clears both
capabilities from the calling thread's *effective* set for the duration of a block (they stay
permitted, so they are raised again afterwards); the kernel then checks the mode bits of
root-owned files against their owner, exactly as for any other user. :func:`unprivileged`
gives the command prefix that does the same for a child process (its bounding set).
"""

from __future__ import annotations

import ctypes
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager

_CAP_V3 = 0x20080522
_DAC_BITS = (1 << 1) | (1 << 2)  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH


class _Header(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _Data(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                ("inheritable", ctypes.c_uint32)]


def _capabilities():
    libc = ctypes.CDLL(None, use_errno=True)
    header, data = _Header(_CAP_V3, 0), (_Data * 2)()
    if libc.capget(ctypes.byref(header), data) != 0:
        raise OSError(ctypes.get_errno(), "capget")
    return libc, header, data


@contextmanager
def permissions_apply() -> Iterator[None]:
    """Within the block, this thread is bound by file mode bits (a no-op for non-root)."""
    if os.geteuid() != 0:
        yield
        return
    libc, header, data = _capabilities()
    saved = data[0].effective
    data[0].effective = saved & ~_DAC_BITS
    if libc.capset(ctypes.byref(header), data) != 0:
        raise OSError(ctypes.get_errno(), "capset")
    try:
        yield
    finally:
        data[0].effective = saved
        libc.capset(ctypes.byref(header), data)


def unprivileged() -> list[str]:
    """Command prefix for a child process bound by file mode bits (empty for non-root)."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        raise RuntimeError("setpriv (util-linux) is needed to drop root's file capabilities in tests")
    return [setpriv, "--bounding-set=-dac_override,-dac_read_search", "--"]
