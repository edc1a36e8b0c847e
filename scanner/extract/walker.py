"""The recursive core of extraction: one item in, text parts and per-part errors out.

A :class:`Walker` visits a blob (the item itself, an attachment, an archive member), decides
its format from magic bytes, hands it to that format's handler (named in
:mod:`scanner.extract.formats`, imported on first use) and lets handlers visit their
children again (attachments of a mail, members of a zip, files inside a winmail.dat). All the
per-item limits live here so every handler shares one budget: text characters, uncompressed
archive bytes, archive members, nesting depth and a cooperative deadline.

The same code runs in two places: inside the sandbox worker process (every format) and in the
caller's own process as a fast path (``in_process=True``) for mail, where it reads the plain and
HTML bodies itself and *defers* each part that needs a binary parser (a :class:`Deferred`: its
bytes, part path, depth and format, and where it stood among the parts and errors). The
deferred parts of an item go to the sandbox (with those of the other items of a batch), which
resumes them with
:meth:`Walker.resume_all` under the item's remaining budgets; :func:`merge` puts their results
back in the places they were deferred from, so the item's parts and errors come out in the
same order as a walk of the whole item in the sandbox.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from scanner.core.model import ItemError, TextPart
from scanner.extract.cache import CacheEntry
from scanner.extract.errors import ExtractError, ItemTimeout, item_error
from scanner.extract.formats import handler_for
from scanner.extract.handler import Blob, clean_name, here, sub
from scanner.extract.limits import ExtractionLimits
from scanner.extract.sniff import mismatch, sniff

# Formats the in-process fast path may handle: pure-Python, linear-time parsers only.
IN_PROCESS_FORMATS = frozenset({"mail", "text", "csv", "html", "empty", "image"})
MAX_ERRORS = 200
NO_CACHE_FORMATS = frozenset({"pst"})
# Errors that say more about where a blob sat (depth, the item's shared budgets, time) than
# about the blob itself: results with these are not reused for another item.
_CONTEXT_DEPENDENT = frozenset({"zip_bomb", "too_many_members", "nesting_too_deep", "timeout",
                                "memory_limit", "text_truncated", "too_large"})


@dataclass(slots=True)
class Deferred:
    """A part the in-process walk met that needs a binary parser, left for the sandbox.

    Everything the sandbox needs to carry on exactly where the walk stood (the checks before
    the handler, depth, name, size and type, have been made already), plus the number of parts
    and errors the item had at that moment, which is where :func:`merge` puts its results."""

    blob: Blob
    name: str
    path: str
    depth: int
    fmt: str
    media_type: str | None
    content_hash: str
    use_cache: bool
    parts_at: int
    errors_at: int

    def to_wire(self) -> dict[str, Any]:
        """The request entry of this part (its bytes travel as a frame of their own)."""
        return {"name": self.name, "path": self.path, "depth": self.depth, "fmt": self.fmt,
                "media_type": self.media_type, "content_hash": self.content_hash,
                "use_cache": self.use_cache}


@dataclass(slots=True)
class Resumed:
    """What the sandbox found for the deferred parts of one item: its parts and errors in
    order, ``slots[k]`` = (parts, errors) counts once deferred part ``k`` was done, and
    ``stopped``: the part during which the walk ended (time or memory), None if it did not."""

    parts: list[TextPart]
    errors: list[ItemError]
    slots: list[tuple[int, int]]
    stopped: int | None


class CacheLike(Protocol):
    def get(self, key: str) -> CacheEntry | None: ...
    def put(self, key: str, entry: CacheEntry) -> None: ...


class Walker:
    """Extracts one item, sharing the item's limits between all its nested parts."""

    def __init__(
        self,
        limits: ExtractionLimits,
        cache: CacheLike | None = None,
        *,
        in_process: bool = False,
        deadline: float | None = None,
    ) -> None:
        self.limits = limits
        self.cache: CacheLike | None = cache
        self._local_cache: dict[str, CacheEntry] = {}
        self.in_process = in_process
        self.deadline = deadline
        self.parts: list[TextPart] = []
        self.errors: list[ItemError] = []
        self.text_left = limits.max_text_chars
        self.archive_bytes_left = limits.max_archive_total_bytes
        self.members_left = limits.max_archive_members
        self.exhausted = False  # text budget used up: stop visiting
        self.timed_out = False
        self.bombed = False  # a bomb was found: no further archive of this item is opened
        self.memory_hit = False  # the worker should be replaced after this item
        self._member_error = False
        self.deferred: list[Deferred] = []
        """In-process only: the parts left for the sandbox, in the order they were met."""
        self.slots: list[tuple[int, int]] = []
        """Sandbox only (:meth:`resume_all`): parts and errors counts after each deferred part."""
        self.stopped: int | None = None
        """Sandbox only: the deferred part during which the walk ended (time or memory)."""
        self.headers: dict[str, Any] | None = None
        """The item's own mail headers (subject, date) as the mail handler parsed them."""
        self.messages: list[dict[str, Any]] = []
        """Mails announced by a mail archive handler (.pst/.ost): each becomes a child item."""
        self.listing_complete: bool | None = None
        """None: not an archive of mails; True: every mail of the archive was listed."""

    # --- entry point -------------------------------------------------------------------

    def run(self, blob: Blob, name: str, *, fmt: str | None = None, media_type: str | None = None,
            content_hash: str | None = None) -> None:
        """Extract the whole item. Never raises except ``MemoryError`` (the sandbox turns it
        into ``memory_limit``) and interpreter exits. In process, the parts that need a binary
        parser are left in :attr:`deferred`."""
        try:
            self.visit(blob, name, "", 0, fmt=fmt, media_type=media_type, content_hash=content_hash)
        except ItemTimeout:
            self.timed_out = True
            self.error("timeout", "body")
            if self.listing_complete is not None or self.messages:
                self.listing_complete = False

    def resume_all(self, deferred: Sequence[tuple[Blob, dict[str, Any]]]) -> None:
        """Sandbox side: carry on with the deferred parts of one item (blob, wire entry), in
        order, sharing this walker's budgets between them as one walk of the item would.
        Records :attr:`slots`; a timeout ends the walk like :meth:`run` (``stopped`` says
        where); ``MemoryError`` is raised after ``stopped`` is set."""
        for index, (blob, entry) in enumerate(deferred):
            try:
                self.resume(blob, entry)
            except ItemTimeout:
                self.stopped = index
                self.slots.append((len(self.parts), len(self.errors)))
                self.timed_out = True
                self.error("timeout", "body")
                if self.listing_complete is not None or self.messages:
                    self.listing_complete = False
                return
            except MemoryError:
                self.stopped = index
                self.slots.append((len(self.parts), len(self.errors)))
                raise
            self.slots.append((len(self.parts), len(self.errors)))

    def resume(self, blob: Blob, entry: dict[str, Any]) -> None:
        """One deferred part: the in-process walk made every check before the handler; only
        the item's own earlier parts (this walker's local cache) or an earlier item of the same
        batch (the worker's batch cache, :attr:`cache` here) may have answered it since."""
        if self.exhausted:
            return
        self.tick()
        path, fmt, chash = str(entry["path"]), str(entry["fmt"]), str(entry["content_hash"])
        use_cache = bool(entry["use_cache"])
        cache_key = f"{fmt}:{chash}"
        if use_cache and self._replay(cache_key, path):
            return
        self._dispatch(blob, str(entry["name"]), path, int(entry["depth"]), fmt, chash,
                       use_cache, cache_key)

    def mail_headers(self, headers: dict[str, Any]) -> None:
        """The mail handler's raw subject and date of the item itself (see ``Extraction``)."""
        self.headers = headers

    def add_message(self, meta: dict[str, Any]) -> None:
        """Announce one mail of a mail archive (key, folder, prefix, subject, date, size, hash)."""
        self.messages.append(meta)

    def listing_done(self, complete: bool) -> None:
        """A mail archive handler says whether it has listed every mail (False when it starts,
        True once it walked the whole archive without a broken folder)."""
        self.listing_complete = complete

    # --- budget and bookkeeping ---------------------------------------------------------

    def tick(self) -> None:
        """Cooperative deadline check, called between pages, rows and members."""
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise ItemTimeout()

    def error(self, code: str, part: str, detail: str | None = None) -> None:
        if code == "zip_bomb":
            self.bombed = True
        if len(self.errors) >= MAX_ERRORS:
            return  # an item's error list is stored: keep it bounded
        for existing in self.errors:
            if existing.code == code and existing.part == part:
                return
        self.errors.append(item_error(code, part, detail))

    def add_text(self, part: str, text: str, location: str | None = None,
                 context: dict[str, Any] | None = None, content_hash: str | None = None) -> bool:
        """Record text; returns False once the item's text budget is used up."""
        if self.exhausted:
            return False
        if "\x00" in text:
            text = text.replace("\x00", " ")
        if not text.strip():
            return True
        if len(text) > self.text_left:
            text = text[: self.text_left]
            self.exhausted = True
            self.error("text_truncated", part, f"max {self.limits.max_text_chars} tekens / characters")
        self.text_left -= len(text)
        if text:
            self.parts.append(TextPart(part=part, text=text, location=location,
                                       context=dict(context or {}), content_hash=content_hash))
        return not self.exhausted

    def take_member(self, archive_part: str) -> bool:
        """Count one archive member against the item's member limit."""
        if self.members_left <= 0:
            if not self._member_error:
                self._member_error = True
                self.error("too_many_members", archive_part,
                           f"max {self.limits.max_archive_members}")
            return False
        self.members_left -= 1
        return True

    def reserve_archive_bytes(self, n: int) -> bool:
        """Reserve ``n`` uncompressed bytes of the item-wide archive budget."""
        if n > self.archive_bytes_left:
            return False
        self.archive_bytes_left -= n
        return True

    def ratio_exceeded(self, uncompressed: int, compressed: int) -> bool:
        """A member (or stream) inflates too much. Small members are exempt: a 20 kB run of
        spaces may compress 200:1 legitimately, a bomb needs bulk to hurt."""
        if uncompressed <= 1024 * 1024:
            return False
        return uncompressed > self.limits.max_archive_ratio * max(compressed, 1)

    # --- visiting --------------------------------------------------------------------------

    def child(self, data: bytes | Blob, name: str | None, parent: str, depth: int,
              fallback: str, *, fmt: str | None = None, media_type: str | None = None) -> str:
        """Visit an attachment or archive member; returns the part path it was given."""
        cleaned, bad = clean_name(name, fallback)
        path = sub(parent, cleaned)
        if bad:
            self.error("bad_name", path)
        blob = data if isinstance(data, Blob) else Blob(data=data)
        self.visit(blob, cleaned, path, depth, fmt=fmt, media_type=media_type)
        return path

    def too_deep(self, depth: int, part: str) -> bool:
        """True (and the error recorded against ``part``) when ``depth`` exceeds the nesting
        limit. Archives ask for ``depth + 1`` before they open their members."""
        if depth > self.limits.max_depth:
            self.error("nesting_too_deep", part, f"max {self.limits.max_depth}")
            return True
        return False

    def visit(self, blob: Blob, name: str, path: str, depth: int, *, fmt: str | None = None,
              media_type: str | None = None, content_hash: str | None = None) -> None:
        part = here(path)
        if self.exhausted:
            return
        self.tick()
        if self.too_deep(depth, part):
            return
        size = blob.size
        if size == 0:
            self.error("empty", part)
            return
        if size > self.limits.max_item_bytes:
            self.error("too_large", part)
            return
        detected = sniff(blob.head(), name, media_type)
        if fmt is None or fmt == "mail" and detected in ("empty", "binary"):
            fmt = detected
        if mismatch(detected, name):
            self.error("type_mismatch", part)
        if fmt == "image" and not self.limits.ocr:
            return  # images are skipped silently unless OCR is switched on
        if fmt == "binary" and _is_media(name, media_type):
            return  # audio and video hold no text we read: not worth an error per file
        if content_hash is None:
            content_hash = blob.sha256()
        # A mail archive announces child items, which a cache entry does not carry.
        use_cache = (bool(path) or fmt != "mail") and fmt not in NO_CACHE_FORMATS
        # The same bytes read as another format give other parts (a .csv has cells, a .txt
        # lines): the format is part of the key.
        cache_key = f"{fmt}:{content_hash}"
        if use_cache and self._replay(cache_key, path):
            return  # before the sandbox check: a cached PDF costs no round trip
        if self.in_process and (fmt not in IN_PROCESS_FORMATS or fmt == "image"):
            self.deferred.append(Deferred(blob, name, path, depth, fmt, media_type, content_hash,
                                          use_cache, len(self.parts), len(self.errors)))
            return
        self._dispatch(blob, name, path, depth, fmt, content_hash, use_cache, cache_key)

    def _dispatch(self, blob: Blob, name: str, path: str, depth: int, fmt: str,
                  content_hash: str, use_cache: bool, cache_key: str) -> None:
        """Run the format's handler on a node that passed :meth:`visit`'s checks, and keep its
        outcome for the cache (not when part of it was deferred: the entry would lack it)."""
        part = here(path)
        start_parts, start_errors = len(self.parts), len(self.errors)
        start_deferred = len(self.deferred)
        was_exhausted = self.exhausted
        try:
            handler = handler_for(fmt)
            if handler is None:
                self.error("unsupported", part)
            else:
                handler(self, blob, name, path, depth, content_hash)
        except ExtractError as exc:
            self.error(exc.code, part, exc.detail)
        except (ItemTimeout, MemoryError, KeyboardInterrupt, SystemExit):
            raise
        except RecursionError:
            self.error("corrupt", part)
        except Exception as exc:  # noqa: BLE001 - a parser failing on hostile input is data
            if _memory_related(exc):
                # C parsers (expat, libxml2) report an allocation failure under the memory
                # cap as their own error type; it is still the cap, not a damaged file
                self.memory_hit = True
                self.error("memory_limit", part)
            else:
                self.error("corrupt", part)
        if (use_cache and not self.exhausted and not was_exhausted
                and len(self.deferred) == start_deferred):
            self._store(cache_key, path, start_parts, start_errors)

    # --- cache -------------------------------------------------------------------------------

    def _lookup(self, key: str) -> CacheEntry | None:
        entry = self._local_cache.get(key)
        if entry is None and self.cache is not None:
            entry = self.cache.get(key)
        return entry

    def _replay(self, key: str, path: str) -> bool:
        entry = self._lookup(key)
        if entry is None:
            return False
        for rel, text, location, context, chash in entry.parts:
            self.add_text(_reroot(path, rel), text, location, context, chash)
        if self.bombed and any(code == "zip_bomb" for code, _, _ in entry.errors):
            return True  # the same bomb again: already reported once for this item
        for code, message, rel in entry.errors:
            target = _reroot(path, rel)
            if code == "zip_bomb":
                self.bombed = True
            if len(self.errors) < MAX_ERRORS and not any(
                    e.code == code and e.part == target for e in self.errors):
                self.errors.append(ItemError(code=code, message=message, part=target))
        return True

    def _store(self, key: str, path: str, start_parts: int, start_errors: int) -> None:
        if any(e.code in _CONTEXT_DEPENDENT for e in self.errors[start_errors:]):
            return  # the outcome depended on this item's budgets or depth, not on the bytes
        parts = tuple((_relative(path, p.part), p.text, p.location, p.context, p.content_hash)
                      for p in self.parts[start_parts:])
        errors = tuple((e.code, e.message, _relative(path, e.part))
                       for e in self.errors[start_errors:] if e.code != "timeout")
        entry = CacheEntry(parts=parts, errors=errors)
        self._local_cache[key] = entry
        if self.cache is not None:
            self.cache.put(key, entry)


_MEDIA_EXTENSIONS = frozenset({"mp3", "mp4", "m4a", "m4v", "mov", "avi", "wav", "wma", "wmv",
                               "mkv", "webm", "ogg", "flac", "aac", "3gp", "mpg", "mpeg"})


def _is_media(name: str, media_type: str | None) -> bool:
    from scanner.extract.sniff import extension

    kind = (media_type or "").split("/", 1)[0].lower()
    return kind in ("audio", "video") or extension(name) in _MEDIA_EXTENSIONS


def _memory_related(exc: BaseException) -> bool:
    seen = 0
    current: BaseException | None = exc
    while current is not None and seen < 10:
        if isinstance(current, MemoryError):
            return True
        text = str(current).lower()
        if "out of memory" in text or "memory allocation failed" in text or "no memory" in text:
            return True
        current = current.__cause__ or current.__context__
        seen += 1
    return False


def _relative(path: str, part: str) -> str:
    if not path:
        return "" if part == "body" else part
    if part == path:
        return ""
    return part[len(path) + 1:] if part.startswith(path + "/") else part


def _reroot(path: str, rel: str) -> str:
    if rel == "":
        return here(path)
    return sub(path, rel)


def merge(walked: Walker, resumed: Resumed) -> tuple[list[TextPart], list[ItemError]]:
    """The item's parts and errors as one walk would have given them: the in-process results
    with each deferred part's results put back where it was deferred from. Errors are
    de-duplicated by (code, part) across both sides, as :meth:`Walker.error` does within one.
    When the sandbox walk stopped (time, memory) during part ``k``, what the in-process walk
    found after that point is dropped, as the walk of the whole item would never have reached
    it. The caller makes sure no budget ran out (see ``Extractor``): only then does the order
    of visiting not change what each part gave."""
    parts: list[TextPart] = []
    errors: list[ItemError] = []
    seen: set[tuple[str, str]] = set()

    def add_errors(more: Sequence[ItemError]) -> None:
        for error in more:
            key = (error.code, error.part)
            if key not in seen and len(errors) < MAX_ERRORS:
                seen.add(key)
                errors.append(error)

    own_parts = own_errors = done_parts = done_errors = 0
    for index, deferred in enumerate(walked.deferred):
        parts.extend(walked.parts[own_parts:deferred.parts_at])
        add_errors(walked.errors[own_errors:deferred.errors_at])
        own_parts, own_errors = deferred.parts_at, deferred.errors_at
        if index >= len(resumed.slots):
            break  # not reached: the walk stopped before (only with ``stopped`` set)
        end_parts, end_errors = resumed.slots[index]
        parts.extend(resumed.parts[done_parts:end_parts])
        add_errors(resumed.errors[done_errors:end_errors])
        done_parts, done_errors = end_parts, end_errors
        if resumed.stopped == index:
            break
    else:
        parts.extend(walked.parts[own_parts:])
        add_errors(walked.errors[own_errors:])
    add_errors(resumed.errors[done_errors:])  # the error that ended a stopped walk
    return parts, errors
