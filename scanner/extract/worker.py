"""The sandbox worker: ``python -m scanner.extract.worker <memory-bytes>``.

Runs every binary parser (pypdf, openpyxl, python-docx, py7zr, ...) in a separate process so
that a hostile file can hang or bloat only this process: the caller kills it on timeout and
starts a new one. The address space is capped with ``RLIMIT_AS`` before any parser is
imported; an allocation beyond it raises ``MemoryError`` here instead of swapping the machine.
A watchdog thread exits the worker when its parent goes away, so a killed caller never leaves
a parser running.

Protocol (see :mod:`scanner.extract.protocol`): the caller sends ``extract`` requests (JSON,
then optionally the item bytes), answered with one ``result``, or ``resume_batch`` requests
(the parts that the caller's in-process walks of several items deferred: JSON, then one frame
of bytes per part, item after item), answered with one ``item`` reply per item, in order, each
as soon as that item is done. The worker may ask ``cache_get`` (and waits for the reply) and
sends ``cache_put`` notices.
"""

from __future__ import annotations

import gc
import os
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported lazily below: the sandbox starts before the parsers load
    from scanner.extract.walker import Walker

EXIT_MEMORY = 3


def _limit_memory(limit: int) -> None:
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ImportError, ValueError, OSError):
        pass  # not on this platform: the timeout still bounds the damage


def _die_with_parent(parent: int) -> None:
    """Linux: have the kernel SIGKILL us when the parent goes away, even while a C parser
    holds the GIL (the watchdog thread could not run then). The kernel ties this to the
    thread that started us; if that thread ends first, the next request starts a new worker."""
    try:
        import ctypes
        import signal

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, int(signal.SIGKILL), 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError, ValueError):
        return
    if os.getppid() != parent:
        os._exit(1)


def _watch_parent(parent: int) -> None:
    while True:
        time.sleep(1.0)
        if os.getppid() != parent:
            os._exit(1)


PRELOAD = ("scanner.extract.mime", "scanner.extract.textual", "scanner.extract.archives",
           "scanner.extract.office", "scanner.extract.pdf", "scanner.extract.xlsx",
           "scanner.extract.docx_xml", "pypdf", "python_calamine", "lxml.etree", "charset_normalizer")
"""The parsers of the attachments school mail is full of (PDF, Word, Excel, ZIP). The rarer
ones (PowerPoint, OpenDocument, .msg, 7z, .xls, winmail.dat, RTF) are imported by their
handler on first use: together they took half of a worker's start-up CPU (0.45 of 0.87 s),
paid by every worker of every run whether such a file came or not. openpyxl is one of them
now: calamine reads XLSX, openpyxl only the workbooks calamine leaves to it
(:mod:`scanner.extract.xlsx`), and its import (with numpy) was ~0.2 s of every start-up.
python-docx too: :mod:`scanner.extract.docx_xml` reads .docx files with lxml, python-docx only
the few it is not certain of (imported by the handler then); its import was 9 % of the
preload (0.13 G of 1.48 G instructions, ~50 ms) of every start-up."""


def _preload() -> None:
    """Import the common parsers once per worker, before the first item, so the first PDF
    does not spend its time limit importing pypdf."""
    import importlib

    for module in PRELOAD:
        try:
            importlib.import_module(module)
        except Exception:  # noqa: BLE001 - a missing optional parser shows up per item
            pass


class RemoteCache:
    """The caller's run-level cache, reached over the pipe."""

    def __init__(self, fd_in: int, fd_out: int) -> None:
        self.fd_in = fd_in
        self.fd_out = fd_out

    def get(self, key: str) -> Any:
        from scanner.extract.cache import CacheEntry
        from scanner.extract.protocol import read_json, write_json

        write_json(self.fd_out, {"op": "cache_get", "key": key})
        reply = read_json(self.fd_in)
        entry = reply.get("entry")
        return CacheEntry.from_wire(entry) if entry else None

    def put(self, key: str, entry: Any) -> None:
        from scanner.extract.protocol import write_json

        write_json(self.fd_out, {"op": "cache_put", "key": key, "entry": entry.to_wire()})


def _handle(request: dict[str, Any], data: bytes | None, fd_in: int, fd_out: int) -> dict[str, Any]:
    from scanner.extract.handler import Blob
    from scanner.extract.limits import ExtractionLimits
    from scanner.extract.walker import Walker

    limits = ExtractionLimits(**request["limits"])
    deadline = time.monotonic() + float(request["soft_seconds"])
    walker = Walker(limits, RemoteCache(fd_in, fd_out) if request.get("cache") else None,
                    in_process=False, deadline=deadline)
    blob = Blob(data=data) if data is not None else Blob(path=Path(request["path"]))
    restart = False
    try:
        walker.run(blob, request["name"], fmt=request.get("fmt"), media_type=request.get("media_type"),
                   content_hash=request.get("content_hash"))
    except MemoryError:
        restart = True
        blob = None  # type: ignore[assignment]
        data = None
        gc.collect()
        walker.error("memory_limit", "body")
    return _result(walker, restart)


class BatchCache:
    """The cache of one batch: an attachment that two mails of the batch carry is parsed once,
    as the caller's run-level cache would have answered the second mail had it been sent
    alone (its in-process walk asked that cache already, so no look-up crosses the pipe);
    new entries still go to the caller's cache."""

    def __init__(self, remote: RemoteCache) -> None:
        self.remote = remote
        self.entries: dict[str, Any] = {}

    def get(self, key: str) -> Any:
        return self.entries.get(key)

    def put(self, key: str, entry: Any) -> None:
        self.entries[key] = entry
        self.remote.put(key, entry)


def _resume(limits: Any, item: dict[str, Any], frames: list[bytes], soft_seconds: float,
            cache: BatchCache | None) -> dict[str, Any]:
    """Carry on with the deferred parts of one item under the budgets it has left (its own
    text budget and its own deadline, as if it had been sent alone)."""
    from scanner.extract.handler import Blob
    from scanner.extract.walker import Walker

    walker = Walker(limits, cache, in_process=False, deadline=time.monotonic() + soft_seconds)
    walker.text_left = int(item["text_left"])
    entries = item["parts"]
    restart = False
    try:
        walker.resume_all([(Blob(data=data), entry) for data, entry in zip(frames, entries, strict=True)])
    except MemoryError:
        restart = True
        frames.clear()
        gc.collect()
        walker.error("memory_limit", "body")
    return _result(walker, restart, slots=walker.slots, stopped=walker.stopped, truncated=walker.exhausted)


def _resume_batch(request: dict[str, Any], frames: list[bytes], fd_in: int, fd_out: int) -> bool:
    """The deferred parts of several items, one ``item`` reply per item as soon as it is done
    (so the caller's per-item hard deadline knows which item a hang belongs to). Returns True
    when the worker must be replaced (an item hit the memory cap): the caller sends the items
    after it again, to a fresh worker."""
    from scanner.extract.limits import ExtractionLimits
    from scanner.extract.protocol import write_json

    limits = ExtractionLimits(**request["limits"])
    cache = BatchCache(RemoteCache(fd_in, fd_out)) if request.get("cache") else None
    soft_seconds = float(request["soft_seconds"])
    start = 0
    for index, item in enumerate(request["items"]):
        count = len(item["parts"])
        mine = frames[start:start + count]
        frames[start:start + count] = [b""] * count  # an item's bytes go once it is done
        start += count
        result = _resume(limits, item, mine, soft_seconds, cache)
        del mine
        result["op"] = "item"
        result["index"] = index
        write_json(fd_out, result)
        if result["restart"]:
            return True
    return False


def _result(walker: Walker, restart: bool, **extra: Any) -> dict[str, Any]:
    """The reply frame of a whole item and of a resumed one alike (``extra``: what only a
    resumed item reports); a walker that hit the memory limit asks for a fresh sandbox."""
    return {
        "op": "result",
        "parts": [[p.part, p.text, p.location, p.context, p.content_hash] for p in walker.parts],
        "errors": [[e.code, e.message, e.part] for e in walker.errors],
        "messages": walker.messages,
        "listing_complete": walker.listing_complete,
        "restart": restart or walker.memory_hit,
        **extra,
    }


def main(argv: list[str]) -> int:
    memory = int(argv[1]) if len(argv) > 1 else 0
    if memory:
        _limit_memory(memory)
    # The protocol owns private copies of stdin/stdout; fd 1 goes to stderr so a library that
    # prints cannot corrupt the frames, fd 0 is emptied.
    fd_in = os.dup(0)
    fd_out = os.dup(1)
    os.dup2(2, 1)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    parent = int(argv[2]) if len(argv) > 2 else os.getppid()
    _die_with_parent(parent)
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()

    from scanner.extract.protocol import ProtocolClosed, read_frame, read_json, write_json

    _preload()
    write_json(fd_out, {"op": "ready", "pid": os.getpid()})
    while True:
        try:
            request = read_json(fd_in)
            data = read_frame(fd_in) if request.get("has_data") else None
            frames = [read_frame(fd_in) for _ in range(int(request.get("frames") or 0))]
        except ProtocolClosed:
            return 0
        except MemoryError:
            os._exit(EXIT_MEMORY)  # the item itself does not fit under the cap
        op = request.get("op")
        if op not in ("extract", "resume_batch"):
            continue
        try:
            if op == "resume_batch":
                restart = _resume_batch(request, frames, fd_in, fd_out)
            else:
                result = _handle(request, data, fd_in, fd_out)
                write_json(fd_out, result)
                restart = bool(result.get("restart"))
            del data, frames
        except MemoryError:
            os._exit(EXIT_MEMORY)
        except ProtocolClosed:
            return 0
        if restart:
            return EXIT_MEMORY


if __name__ == "__main__":
    sys.exit(main(sys.argv))
