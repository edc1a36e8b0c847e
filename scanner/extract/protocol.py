"""Framing between the caller and the sandbox worker: length-prefixed frames on pipes.

Each frame is a 4-byte big-endian length followed by the payload; control messages are JSON
(never pickle: the worker handles hostile input, so nothing it sends is trusted to execute),
raw item bytes travel as one binary frame. The reader side supports a deadline so the caller
can stop waiting for a hung worker.
"""

from __future__ import annotations

import json
import os
import select
import struct
import time
from typing import Any

_HEADER = struct.Struct(">I")
MAX_FRAME = 1 << 31


class ProtocolTimeout(Exception):
    """The deadline passed while waiting for the other side."""


class ProtocolClosed(Exception):
    """The other side closed the pipe (it exited or crashed)."""


def write_frame(fd: int, payload: bytes) -> None:
    _write_all(fd, _HEADER.pack(len(payload)))
    _write_all(fd, payload)


def write_json(fd: int, message: dict[str, Any]) -> None:
    write_frame(fd, json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view[: 1 << 20])
        view = view[written:]


def read_exact(fd: int, n: int, deadline: float | None = None) -> bytes:
    chunks: list[bytes] = []
    remaining = n
    while remaining:
        if deadline is not None:
            timeout = deadline - time.monotonic()
            if timeout <= 0:
                raise ProtocolTimeout()
            ready, _, _ = select.select([fd], [], [], timeout)
            if not ready:
                raise ProtocolTimeout()
        chunk = os.read(fd, min(remaining, 1 << 20))
        if not chunk:
            raise ProtocolClosed()
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def read_frame(fd: int, deadline: float | None = None) -> bytes:
    (length,) = _HEADER.unpack(read_exact(fd, _HEADER.size, deadline))
    if length > MAX_FRAME:
        raise ProtocolClosed()
    return read_exact(fd, length, deadline)


def read_json(fd: int, deadline: float | None = None) -> dict[str, Any]:
    message = json.loads(read_frame(fd, deadline).decode("utf-8"))
    if not isinstance(message, dict):
        raise ProtocolClosed()
    return message
