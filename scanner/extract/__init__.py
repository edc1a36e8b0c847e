"""Text extraction that survives real attachments and hostile input.

``extract(fetched, kind, limits, cache)`` turns one fetched item (a raw RFC 822 mail or a file)
into :class:`~scanner.core.model.TextPart` s plus per-part :class:`~scanner.core.model.ItemError` s and
never raises. How:

* the item is size-checked before it is read (``Fetched.size``), then hashed while read;
* mails up to ``limits.inprocess_max_bytes`` are parsed in the caller's process: their plain
  and HTML bodies never leave it (no round trip for the most common item);
* everything that needs a binary parser (PDF, Office, archives, .msg, ...) runs in a sandbox
  worker subprocess (:mod:`scanner.extract.worker`) with an address-space cap, which is killed
  and restarted when an item exceeds ``limits.max_seconds_per_item``. A mail's attachments go
  there together, the attachments of several mails in one request (:meth:`Extractor.finish`),
  each mail with the budgets it has left and its own time limit; a file that
  needs a parser, or an item above the in-process size, goes there whole;
* identical attachments are extracted once per run through :class:`ExtractionCache`.
"""

from __future__ import annotations

import atexit
import hashlib
import os
import tempfile
import threading
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from scanner.core.model import Fetched, ItemError, ItemKind, TextPart
from scanner.extract.cache import CacheEntry, ExtractionCache
from scanner.extract.errors import MESSAGES, item_error
from scanner.extract.handler import Blob, clean_name
from scanner.extract.limits import ExtractionLimits
from scanner.extract.sandbox import KILL_GRACE_SECONDS, Sandbox, SandboxCrashed, SandboxTimeout
from scanner.extract.walker import MAX_ERRORS, NO_CACHE_FORMATS, Resumed, Walker, merge

__all__ = [
    "CacheEntry", "Extraction", "ExtractionCache", "ExtractionLimits", "Extractor", "MESSAGES",
    "Pending", "extract",
]

_READ_CHUNK = 1024 * 1024
_KEEP_IN_MEMORY = 8 * 1024 * 1024
SOFT_DEADLINE_SHARE = 0.9
"""The worker stops itself (returning what it found) at 90% of the time limit; the caller
kills it at 100% plus a short grace, which only a hung parser ever reaches."""


@dataclass
class Extraction:
    """What extraction learned about one item. ``content_hash`` is the sha256 of the item's
    full raw bytes (None when they could not be read in full)."""

    parts: list[TextPart] = field(default_factory=list)
    errors: list[ItemError] = field(default_factory=list)
    content_hash: str | None = None
    bytes_read: int = 0
    messages: list[dict[str, Any]] = field(default_factory=list)
    """The mails of a mail archive (.pst/.ost), each with the part prefix of its text: the
    analysis makes each one a child item (see :mod:`scanner.extract.pst`)."""
    headers: dict[str, Any] | None = None
    """A mail read in process: its raw ``subject`` and ``date`` headers and ``header_bytes``,
    the length of its header block (see :func:`scanner.extract.mime.raw_headers`)."""
    listing_complete: bool | None = None
    """None: the item is no mail archive; True: every mail in it was listed (so a stored mail
    that is not among them is gone); False: the listing broke off (keep what was stored)."""


@dataclass
class _Material:
    """An item's bytes as extraction has them: in memory (``data``), at a local file
    (``path``; ``temp`` when it is our own spool file), or both for a local file small enough
    to be walked in process (read once, hashed from memory; the sandbox still gets the path)."""

    data: bytes | None = None
    path: Path | None = None
    temp: Path | None = None
    size: int = 0
    content_hash: str | None = None
    error: ItemError | None = None


BATCH_BYTES = 16 * 1024 * 1024
"""Deferred attachment bytes per batch request at most (a larger batch is split): the frames
are held in the caller and read by the worker before it starts, under its memory cap."""


@dataclass
class Pending:
    """An item :meth:`Extractor.begin` walked in process whose deferred attachments wait for
    :meth:`Extractor.finish`. Only mails up to ``inprocess_max_bytes`` become pending, so a
    batch of them holds at most that much each."""

    fetched: Fetched
    fmt: str | None
    limits: ExtractionLimits
    cache: ExtractionCache | None
    material: _Material
    walker: Walker
    done: Extraction
    bad_name: bool = False


def _materialise(fetched: Fetched, limits: ExtractionLimits) -> _Material:
    """Get the item's bytes (memory or a local file) and its hash, honouring the size limit
    before reading and while reading (a stream may be longer than announced)."""
    limit = limits.max_item_bytes
    if fetched.size is not None and fetched.size > limit:
        return _Material(error=item_error("too_large"))
    try:
        if fetched.data is not None:
            data = fetched.data
            if len(data) > limit:
                return _Material(error=item_error("too_large"))
            return _Material(data=data, size=len(data), content_hash=hashlib.sha256(data).hexdigest())
        path = Path(fetched.path) if fetched.path is not None else None
        if path is not None and path.is_file():
            size = path.stat().st_size
            if size > limit:
                return _Material(error=item_error("too_large"))
            if size <= limits.inprocess_max_bytes:
                # read once: the in-process walk (_run) needs the bytes anyway, and hashing
                # the file first and reading it again cost a second open and read per mail
                data = path.read_bytes()
                if len(data) > limit:  # grown since the stat
                    return _Material(error=item_error("too_large"))
                return _Material(data=data, path=path, size=len(data),
                                 content_hash=hashlib.sha256(data).hexdigest())
            blob = Blob(path=path)
            return _Material(path=path, size=size, content_hash=blob.sha256())
        if fetched.open is None:
            return _Material(error=item_error("fetch_failed"))
        return _spool(fetched.open, limit)
    except (OSError, ValueError) as exc:
        del exc
        return _Material(error=item_error("fetch_failed"))


def _spool(opener: Callable[[], BinaryIO], limit: int) -> _Material:
    digest = hashlib.sha256()
    chunks: list[bytes] = []
    size = 0
    temp: Path | None = None
    handle: BinaryIO | None = None
    try:
        with opener() as stream:
            while True:
                chunk = stream.read(_READ_CHUNK)
                if not chunk:
                    break
                size += len(chunk)
                if size > limit:
                    if temp is not None and handle is not None:
                        handle.close()
                        temp.unlink(missing_ok=True)
                    return _Material(size=size, error=item_error("too_large"))
                digest.update(chunk)
                if temp is None and size > _KEEP_IN_MEMORY:
                    fd, name = tempfile.mkstemp(prefix="schoonschip-", suffix=".item")
                    temp = Path(name)
                    handle = os.fdopen(fd, "wb")
                    handle.writelines(chunks)
                    chunks.clear()
                if handle is not None:
                    handle.write(chunk)
                else:
                    chunks.append(chunk)
    except BaseException:
        if handle is not None:
            handle.close()
        if temp is not None:
            temp.unlink(missing_ok=True)
        raise
    if handle is not None:
        handle.close()
        return _Material(path=temp, temp=temp, size=size, content_hash=digest.hexdigest())
    return _Material(data=b"".join(chunks), size=size, content_hash=digest.hexdigest())


class Extractor:
    """Extraction with its own sandbox worker process. Thread-safe (one request at a time);
    give each thread its own Extractor for parallelism, or use :func:`extract`, which keeps
    one per thread."""

    def __init__(self, limits: ExtractionLimits | None = None) -> None:
        self.limits = limits or ExtractionLimits()
        self._sandbox: Sandbox | None = None
        self._lock = threading.Lock()
        self.requests = 0
        """Round trips to the sandbox so far (one per item that needed it)."""
        _ALL.add(self)

    @property
    def worker_pid(self) -> int | None:
        return self._sandbox.pid if self._sandbox is not None else None

    def extract(self, fetched: Fetched, kind: ItemKind, cache: ExtractionCache | None = None) -> Extraction:
        return self.extract_with(fetched, kind, self.limits, cache)

    def extract_with(self, fetched: Fetched, kind: ItemKind, limits: ExtractionLimits,
                     cache: ExtractionCache | None = None) -> Extraction:
        """Like :meth:`extract` with explicit limits. Never raises (except interpreter exits)."""
        started = self.begin(fetched, kind, limits, cache)
        if isinstance(started, Pending):
            return self.finish([started])[0]
        return started

    def extract_many(self, items: Sequence[tuple[Fetched, ItemKind]], limits: ExtractionLimits,
                     cache: ExtractionCache | None = None) -> list[Extraction]:
        """Extract several items; the attachments their in-process walks defer go to the
        sandbox together (:meth:`finish`). Same results as :meth:`extract_with` one by one."""
        started = [self.begin(fetched, kind, limits, cache) for fetched, kind in items]
        finished = iter(self.finish([s for s in started if isinstance(s, Pending)]))
        return [next(finished) if isinstance(s, Pending) else s for s in started]

    def begin(self, fetched: Fetched, kind: ItemKind, limits: ExtractionLimits,
              cache: ExtractionCache | None = None) -> Extraction | Pending:
        """Everything of the item that needs no batch: read and hash it, walk it in process,
        or send it whole to the sandbox. A :class:`Pending` is returned when the in-process
        walk deferred attachments that can go to the sandbox on their own: :meth:`finish`
        sends them, with other items' attachments, and completes the extraction. Never raises
        (except interpreter exits)."""
        material: _Material | None = None
        try:
            material = _materialise(fetched, limits)
            if material.error is not None:
                return Extraction(errors=[material.error], content_hash=None, bytes_read=material.size)
            started = self._run(fetched, kind, limits, cache, material)
            _, bad = clean_name(fetched.name, "item")
            if bad and fetched.name:
                if isinstance(started, Pending):
                    started.bad_name = True  # put first once the item is finished
                else:
                    started.errors.insert(0, item_error("bad_name", "body"))
            return started
        except (KeyboardInterrupt, SystemExit):
            raise
        except MemoryError:
            return Extraction(errors=[item_error("memory_limit")],
                              content_hash=material.content_hash if material else None,
                              bytes_read=material.size if material else 0)
        except Exception:  # noqa: BLE001 - the contract: bad input never stops a run
            return Extraction(errors=[item_error("crashed")],
                              content_hash=material.content_hash if material else None,
                              bytes_read=material.size if material else 0)
        finally:
            if material is not None and material.temp is not None:
                material.temp.unlink(missing_ok=True)

    def finish(self, pending: Sequence[Pending]) -> list[Extraction]:
        """Complete the items :meth:`begin` left pending: their deferred parts go to the
        sandbox in as few requests as the byte cap allows (items with the same limits and
        cache together), each item with its own budgets and its own hard time limit. Never
        raises (except interpreter exits)."""
        out: dict[int, Extraction] = {}
        groups: dict[tuple[int, int], list[int]] = {}
        for index, item in enumerate(pending):
            groups.setdefault((id(item.limits), id(item.cache)), []).append(index)
        for indexes in groups.values():
            chunk: list[int] = []
            size = 0
            for index in indexes:
                item_bytes = sum(d.blob.size for d in pending[index].walker.deferred)
                if chunk and size + item_bytes > BATCH_BYTES:
                    self._finish_chunk([pending[i] for i in chunk], out, chunk)
                    chunk, size = [], 0
                chunk.append(index)
                size += item_bytes
            if chunk:
                self._finish_chunk([pending[i] for i in chunk], out, chunk)
        return [out[index] for index in range(len(pending))]

    def _finish_chunk(self, chunk: list[Pending], out: dict[int, Extraction], indexes: list[int]) -> None:
        limits, cache = chunk[0].limits, chunk[0].cache
        request = {"limits": limits.model_dump(),
                   "soft_seconds": limits.max_seconds_per_item * SOFT_DEADLINE_SHARE}
        items = [{"text_left": p.walker.text_left, "parts": [d.to_wire() for d in p.walker.deferred]}
                 for p in chunk]
        try:
            frames = [[d.blob.read() for d in p.walker.deferred] for p in chunk]
            replies = self._batch(request, items, frames, cache, limits)
        except (KeyboardInterrupt, SystemExit):
            raise
        except Exception:  # noqa: BLE001 - the contract: bad input never stops a run
            replies = [SandboxCrashed(False)] * len(chunk)
        for index, item, reply in zip(indexes, chunk, replies, strict=True):
            try:
                out[index] = self._complete(item, reply)
            except (KeyboardInterrupt, SystemExit):
                raise
            except MemoryError:
                out[index] = Extraction(errors=[item_error("memory_limit")],
                                        content_hash=item.done.content_hash, bytes_read=item.done.bytes_read)
            except Exception:  # noqa: BLE001 - the contract: bad input never stops a run
                out[index] = Extraction(errors=[item_error("crashed")],
                                        content_hash=item.done.content_hash, bytes_read=item.done.bytes_read)

    def _complete(self, item: Pending, reply: dict[str, Any] | SandboxTimeout | SandboxCrashed) -> Extraction:
        """One item's extraction from its batch reply (as one request per item gave it)."""
        walker, done = item.walker, item.done
        if isinstance(reply, (SandboxTimeout, SandboxCrashed)):
            # The body the in-process walk read before the first deferred part is kept; what
            # the walk met later would have been read after the part that stopped it.
            done.parts, done.errors = merge(walker, Resumed([], [_stop_error(reply)], [], 0))
        else:
            errors = [ItemError(code=e[0], message=e[1], part=e[2]) for e in reply.get("errors", [])]
            if (reply.get("truncated") or reply.get("messages") or reply.get("listing_complete") is not None
                    or len(errors) + len(walker.errors) >= MAX_ERRORS):
                # the order of visiting could have mattered: the whole item, as before
                done = self._whole(item.fetched, item.fmt, item.fetched.name or "", item.limits, item.cache,
                                   item.material, done)
            else:
                stopped = reply.get("stopped")
                resumed = Resumed(parts=_parts(reply), errors=errors,
                                  slots=[(int(a), int(b)) for a, b in reply.get("slots", [])],
                                  stopped=int(stopped) if stopped is not None else None)
                done.parts, done.errors = merge(walker, resumed)
        if item.bad_name:
            done.errors.insert(0, item_error("bad_name", "body"))
        return done

    def _run(self, fetched: Fetched, kind: ItemKind, limits: ExtractionLimits,
             cache: ExtractionCache | None, material: _Material) -> Extraction | Pending:
        fmt = "mail" if kind == ItemKind.MAIL else None
        name = fetched.name or ""
        done = Extraction(content_hash=material.content_hash, bytes_read=material.size)
        if material.size <= limits.inprocess_max_bytes:
            data = material.data if material.data is not None else material.path.read_bytes()  # type: ignore[union-attr]
            walker = Walker(limits, cache, in_process=True)
            walker.run(Blob(data=data), name, fmt=fmt, media_type=fetched.media_type,
                       content_hash=material.content_hash)
            done.headers = walker.headers
            if not walker.deferred:
                done.parts, done.errors = walker.parts, walker.errors
                return done
            if _resumable(walker) and material.temp is None:
                # the item's bytes stay in memory (``data``) or at their own path until finish
                kept = _Material(data=data if material.path is None else None, path=material.path,
                                 size=material.size, content_hash=material.content_hash)
                return Pending(fetched=fetched, fmt=fmt, limits=limits, cache=cache, material=kept,
                               walker=walker, done=done)
        return self._whole(fetched, fmt, name, limits, cache, material, done)

    def _whole(self, fetched: Fetched, fmt: str | None, name: str, limits: ExtractionLimits,
               cache: ExtractionCache | None, material: _Material, done: Extraction) -> Extraction:
        """The whole item in the sandbox: files that need a binary parser, large items."""
        done.headers = None  # read in the sandbox, not here
        request = {
            "op": "extract", "name": name, "fmt": fmt, "media_type": fetched.media_type,
            "limits": limits.model_dump(), "content_hash": material.content_hash,
            "soft_seconds": limits.max_seconds_per_item * SOFT_DEADLINE_SHARE,
            "path": str(material.path) if material.path is not None else None,
        }
        try:
            reply = self._request(request, material.data if material.path is None else None,
                                  cache, limits)
        except (SandboxTimeout, SandboxCrashed) as exc:
            done.errors = [_stop_error(exc)]
            return done
        done.parts = _parts(reply)
        done.errors = [ItemError(code=e[0], message=e[1], part=e[2]) for e in reply.get("errors", [])]
        done.messages = [m for m in reply.get("messages") or [] if isinstance(m, dict)]
        done.listing_complete = reply.get("listing_complete")
        return done

    def _sandbox_for(self, limits: ExtractionLimits) -> Sandbox:
        """This Extractor's sandbox (started, or restarted with another memory cap, on
        demand); call with the lock held."""
        sandbox = self._sandbox
        if sandbox is None or sandbox.memory_bytes != limits.max_memory_bytes:
            if sandbox is not None:
                sandbox.close()
            sandbox = self._sandbox = Sandbox(limits.max_memory_bytes)
        return sandbox

    def _request(self, request: dict[str, Any], data: bytes | None, cache: ExtractionCache | None,
                 limits: ExtractionLimits) -> dict[str, Any]:
        """One round trip to this Extractor's sandbox. Raises SandboxTimeout or SandboxCrashed."""
        with self._lock:
            sandbox = self._sandbox_for(limits)
            self.requests += 1
            return sandbox.request(request, data, cache, limits.max_seconds_per_item + KILL_GRACE_SECONDS)

    def _batch(self, request: dict[str, Any], items: list[dict[str, Any]], frames: list[list[bytes]],
               cache: ExtractionCache | None, limits: ExtractionLimits,
               ) -> list[dict[str, Any] | SandboxTimeout | SandboxCrashed]:
        """The deferred parts of several items in one request (more only after a failure)."""
        with self._lock:
            sandbox = self._sandbox_for(limits)
            self.requests += 1
            return sandbox.batch(request, items, frames, cache,
                                 limits.max_seconds_per_item + KILL_GRACE_SECONDS)

    def close(self) -> None:
        """Stop the sandbox worker. The Extractor can still be used (a new one starts)."""
        with self._lock:
            if self._sandbox is not None:
                self._sandbox.close()
                self._sandbox = None

    def __enter__(self) -> Extractor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


_ALL: weakref.WeakSet[Extractor] = weakref.WeakSet()
_local = threading.local()


def _default_extractor() -> Extractor:
    extractor = getattr(_local, "extractor", None)
    if extractor is None or getattr(_local, "pid", None) != os.getpid():
        extractor = Extractor()
        _local.extractor = extractor
        _local.pid = os.getpid()
    return extractor


def extract(fetched: Fetched, kind: ItemKind, limits: ExtractionLimits,
            cache: ExtractionCache | None = None) -> Extraction:
    """Extract one item. Never raises (except KeyboardInterrupt/SystemExit).

    Uses one sandbox worker per calling thread (started on first need, stopped at exit).
    """
    return _default_extractor().extract_with(fetched, kind, limits, cache)


def _resumable(walker: Walker) -> bool:
    """Whether the deferred parts can be sent on their own: not when the item itself needs
    the sandbox (nothing was read in process), the text budget or the error list already ran
    out in process (the order of visiting would decide what is cut), or a mail archive is
    among them (it gives each mail a fresh text budget and announces child items)."""
    return (walker.deferred[0].path != "" and not walker.exhausted
            and len(walker.errors) < MAX_ERRORS
            and not any(d.fmt in NO_CACHE_FORMATS for d in walker.deferred))


def _parts(reply: dict[str, Any]) -> list[TextPart]:
    return [TextPart(part=p[0], text=p[1], location=p[2], context=p[3] or {}, content_hash=p[4])
            for p in reply.get("parts", [])]


def _stop_error(exc: SandboxTimeout | SandboxCrashed) -> ItemError:
    if isinstance(exc, SandboxCrashed):
        return item_error("memory_limit" if exc.out_of_memory else "crashed")
    return item_error("timeout")


@atexit.register
def _close_all() -> None:
    for extractor in list(_ALL):
        try:
            extractor.close()
        except Exception:  # noqa: BLE001
            pass
