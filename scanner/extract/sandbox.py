"""The caller's side of the sandbox: one long-lived worker subprocess, killed on timeout.

Why a plain ``subprocess.Popen`` and not ``multiprocessing``: extraction is called from the
pipeline's local pool workers (daemonic processes may not start multiprocessing children),
from Dask workers and from threads. A subprocess with pipes works in all of them, needs no
pickling, and can be killed with SIGKILL without corrupting any shared state. The worker is
started once and reused, so a request costs one pipe round trip, not a process start.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from scanner.extract.cache import CacheEntry
from scanner.extract.protocol import (
    ProtocolClosed,
    ProtocolTimeout,
    read_json,
    write_frame,
    write_json,
)
from scanner.extract.worker import EXIT_MEMORY

_PROJECT_ROOT = str(Path(__file__).resolve().parents[2])
STARTUP_SECONDS = 60.0
KILL_GRACE_SECONDS = 1.0


class SandboxTimeout(Exception):
    """The worker did not answer in time; it has been killed."""


class SandboxCrashed(Exception):
    """The worker died while handling the request."""

    def __init__(self, out_of_memory: bool) -> None:
        super().__init__("crashed")
        self.out_of_memory = out_of_memory


class Sandbox:
    """Owns one worker process. Not thread-safe: :class:`Extractor` serialises access."""

    def __init__(self, memory_bytes: int) -> None:
        self.memory_bytes = memory_bytes
        self._proc: subprocess.Popen[bytes] | None = None
        self._owner_pid = os.getpid()
        self.starts = 0

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def _start(self) -> None:
        env = dict(os.environ)
        env["PYTHONPATH"] = _PROJECT_ROOT + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        env.setdefault("PYTHONHASHSEED", "0")
        debug = bool(os.environ.get("SCHOONSCHIP_EXTRACT_DEBUG"))
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "scanner.extract.worker", str(self.memory_bytes), str(os.getpid())],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=None if debug else subprocess.DEVNULL,
            env=env,
            close_fds=True,
            start_new_session=True,  # a Ctrl-C to the run is handled by the caller, not here
        )
        self.starts += 1
        try:
            hello = read_json(self._proc.stdout.fileno(), time.monotonic() + STARTUP_SECONDS)  # type: ignore[union-attr]
        except (ProtocolTimeout, ProtocolClosed, ValueError) as exc:
            self.close()
            raise SandboxCrashed(False) from exc
        if hello.get("op") != "ready":
            self.close()
            raise SandboxCrashed(False)

    def _ensure(self) -> subprocess.Popen[bytes]:
        if self._owner_pid != os.getpid():
            # we are a forked copy: the pipes belong to our parent's worker
            self._proc = None
            self._owner_pid = os.getpid()
        if self._proc is None or self._proc.poll() is not None:
            self._proc = None
            self._start()
        assert self._proc is not None
        return self._proc

    def request(self, request: dict[str, Any], data: bytes | None, cache: Any,
                hard_seconds: float) -> dict[str, Any]:
        """Send one ``extract`` request (its item bytes as ``data``, or none: ``path``) and
        serve cache look-ups until the result arrives.

        A worker that dies before answering gets one successor to retry the item: the
        worker may have died before it saw the item (killed from outside). If the item
        itself kills the parser, the retry fails the same way and the item is ``crashed``.
        Out of memory and timeouts are never retried.
        """
        request = dict(request, has_data=data is not None, cache=cache is not None, frames=0)
        try:
            return self._attempt(request, data, cache, hard_seconds)
        except SandboxCrashed as exc:
            if exc.out_of_memory:
                raise
        return self._attempt(request, data, cache, hard_seconds)

    def batch(self, request: dict[str, Any], items: list[dict[str, Any]], frames: list[list[bytes]],
              cache: Any, hard_seconds: float) -> list[dict[str, Any] | SandboxTimeout | SandboxCrashed]:
        """Send the deferred parts of several items in one ``resume_batch`` request; one
        outcome per item, in order: its ``item`` reply, or the exception that stopped it.

        Each item has ``hard_seconds`` of its own, counted from the reply before it (the
        worker answers item by item), so a hang or a crash is charged to the item the worker
        was on, never to the batch. The items after it go to a fresh worker in a new request.
        A crash gets one retry, as :meth:`request` gives it: the worker may have been killed
        from outside; if the same item kills the successor too, it is ``crashed``. Out of
        memory and timeouts are never retried."""
        out: list[dict[str, Any] | SandboxTimeout | SandboxCrashed] = []
        retried: set[int] = set()
        while len(out) < len(items):
            first = len(out)
            try:
                self._batch_attempt(request, items[first:], frames[first:], cache, hard_seconds, out)
            except SandboxTimeout as exc:
                out.append(exc)
            except SandboxCrashed as exc:
                if exc.out_of_memory or len(out) in retried:
                    out.append(exc)
                else:
                    retried.add(len(out))
        return out

    def _batch_attempt(self, request: dict[str, Any], items: list[dict[str, Any]],
                       frames: list[list[bytes]], cache: Any, hard_seconds: float,
                       out: list[dict[str, Any] | SandboxTimeout | SandboxCrashed]) -> None:
        proc = self._ensure()
        fd_in = proc.stdout.fileno()  # type: ignore[union-attr]
        fd_out = proc.stdin.fileno()  # type: ignore[union-attr]
        flat = [frame for mine in frames for frame in mine]
        message = dict(request, op="resume_batch", items=items, cache=cache is not None,
                       has_data=False, frames=len(flat))
        try:
            write_json(fd_out, message)
            for frame in flat:
                write_frame(fd_out, frame)
        except (BrokenPipeError, OSError) as exc:
            raise self._crashed() from exc
        del flat
        answered = 0
        deadline = time.monotonic() + hard_seconds
        while answered < len(items):
            reply = self._next(fd_in, fd_out, deadline, cache)
            if reply.get("op") != "item" or reply.get("index") != answered:
                raise self._crashed()
            out.append(reply)
            answered += 1
            if reply.get("restart"):
                self.kill()
                return
            deadline = time.monotonic() + hard_seconds

    def _next(self, fd_in: int, fd_out: int, deadline: float, cache: Any) -> dict[str, Any]:
        """The worker's next reply, serving its cache look-ups and notices meanwhile."""
        while True:
            try:
                message = read_json(fd_in, deadline)
            except ProtocolTimeout as exc:
                self.kill()
                raise SandboxTimeout() from exc
            except (ProtocolClosed, ValueError, UnicodeDecodeError) as exc:
                raise self._crashed() from exc
            op = message.get("op")
            if op == "cache_get":
                entry = cache.get(str(message.get("key"))) if cache is not None else None
                try:
                    write_json(fd_out, {"op": "cache_reply", "entry": entry.to_wire() if entry else None})
                except (BrokenPipeError, OSError) as exc:
                    raise self._crashed() from exc
            elif op == "cache_put":
                if cache is not None:
                    try:
                        cache.put(str(message["key"]), CacheEntry.from_wire(message["entry"]))
                    except (KeyError, TypeError, ValueError, IndexError):
                        pass
            else:
                return message

    def _attempt(self, request: dict[str, Any], data: bytes | None, cache: Any,
                 hard_seconds: float) -> dict[str, Any]:
        proc = self._ensure()
        fd_in = proc.stdout.fileno()  # type: ignore[union-attr]
        fd_out = proc.stdin.fileno()  # type: ignore[union-attr]
        try:
            write_json(fd_out, request)
            if data is not None:
                write_frame(fd_out, data)
        except (BrokenPipeError, OSError) as exc:
            raise self._crashed() from exc
        deadline = time.monotonic() + hard_seconds
        message = self._next(fd_in, fd_out, deadline, cache)
        if message.get("op") != "result":
            raise self._crashed()
        if message.get("restart"):
            self.kill()
        return message

    def _crashed(self) -> SandboxCrashed:
        proc = self._proc
        code = None
        if proc is not None:
            try:
                code = proc.wait(timeout=KILL_GRACE_SECONDS)
            except subprocess.TimeoutExpired:
                pass
        self.kill()
        return SandboxCrashed(out_of_memory=code == EXIT_MEMORY)

    def kill(self) -> None:
        """Kill the worker (a hung parser cannot be interrupted any other way)."""
        proc = self._proc
        self._proc = None
        if proc is None:
            return
        try:
            proc.kill()
        except OSError:
            pass
        for stream in (proc.stdin, proc.stdout):
            try:
                if stream is not None:
                    stream.close()
            except OSError:
                pass
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass

    def __del__(self) -> None:
        # an Extractor dropped without close() (a finished thread's default) must not
        # leave its worker behind
        try:
            self.kill()
        except Exception:  # noqa: BLE001 - interpreter shutdown
            pass

    def close(self) -> None:
        """Ask the worker to exit (EOF on its stdin), then make sure it did."""
        proc = self._proc
        if proc is None or self._owner_pid != os.getpid():
            self._proc = None
            return
        try:
            if proc.stdin is not None:
                proc.stdin.close()
            proc.wait(timeout=2)
        except (OSError, subprocess.TimeoutExpired):
            pass
        self.kill()
