"""What a format handler is given and may use: the blob, the walker's services, part paths.

Format handlers (mime, textual, pdf, archives, office, outlook, ocr) depend on this small
module, not on :mod:`scanner.extract.walker`: the walker finds them through the lazy registry
in :mod:`scanner.extract.formats`, and they reach the walker only through :class:`WalkContext`,
so no handler imports back the module that dispatches to it.
"""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from scanner.extract.limits import ExtractionLimits
from scanner.extract.sniff import HEAD_BYTES

_BAD_NAME_CHARS = re.compile(r"[\x00-\x1f\x7f]")
_HASH_CHUNK = 1024 * 1024


@dataclass(slots=True)
class Blob:
    """Bytes to extract: in memory (``data``) or a local file (``path``), never both."""

    data: bytes | None = None
    path: Path | None = None

    @property
    def size(self) -> int:
        if self.data is not None:
            return len(self.data)
        return self.path.stat().st_size if self.path is not None else 0

    def _file(self) -> Path:
        """The local file of a blob that holds no bytes in memory."""
        if self.path is None:
            raise TypeError("a Blob holds data or a path, this one holds neither")
        return self.path

    def head(self, n: int = HEAD_BYTES) -> bytes:
        if self.data is not None:
            return self.data[:n]
        with open(self._file(), "rb") as handle:
            return handle.read(n)

    def read(self) -> bytes:
        if self.data is not None:
            return self.data
        return self._file().read_bytes()

    def open(self) -> BinaryIO:
        if self.data is not None:
            return io.BytesIO(self.data)
        return open(self._file(), "rb")

    def sha256(self) -> str:
        if self.data is not None:
            return hashlib.sha256(self.data).hexdigest()
        digest = hashlib.sha256()
        with self.open() as handle:
            for chunk in iter(lambda: handle.read(_HASH_CHUNK), b""):
                digest.update(chunk)
        return digest.hexdigest()


class WalkContext(Protocol):
    """The walker as a handler sees it: the item's shared budgets and the way to record text,
    errors and children (see :class:`scanner.extract.walker.Walker`)."""

    limits: ExtractionLimits
    deadline: float | None
    text_left: int
    archive_bytes_left: int
    exhausted: bool
    bombed: bool

    def tick(self) -> None: ...

    def add_message(self, meta: dict[str, Any]) -> None: ...

    def mail_headers(self, headers: dict[str, Any]) -> None: ...

    def listing_done(self, complete: bool) -> None: ...

    def error(self, code: str, part: str, detail: str | None = None) -> None: ...

    def add_text(self, part: str, text: str, location: str | None = None,
                 context: dict[str, Any] | None = None, content_hash: str | None = None) -> bool: ...

    def take_member(self, archive_part: str) -> bool: ...

    def reserve_archive_bytes(self, n: int) -> bool: ...

    def ratio_exceeded(self, uncompressed: int, compressed: int) -> bool: ...

    def too_deep(self, depth: int, part: str) -> bool: ...

    def child(self, data: bytes | Blob, name: str | None, parent: str, depth: int,
              fallback: str, *, fmt: str | None = None, media_type: str | None = None) -> str: ...


Handler = Callable[[WalkContext, Blob, str, str, int, str], None]
"""``handler(walker, blob, name, path, depth, content_hash)``: extract one node of an item."""


def sub(path: str, name: str) -> str:
    """Path of a child part: ``"export.zip" + "leerlingen.csv"``."""
    return f"{path}/{name}" if path else name


def here(path: str) -> str:
    """Part name of a node's own text: the top-level item's own text is ``"body"``."""
    return path or "body"


def clean_name(name: str | None, fallback: str) -> tuple[str, bool]:
    """A safe part name from an untrusted file name; the flag says whether it had to change.

    Control characters (a NUL-filled name) are replaced, path traversal is flattened, and an
    empty result falls back to a neutral name so part paths stay unambiguous.
    """
    raw = name or ""
    cleaned = _BAD_NAME_CHARS.sub("_", raw).replace("\\", "/")
    parts = [p for p in cleaned.split("/") if p not in ("", ".", "..")]
    cleaned = "/".join(parts)[:255].strip()
    bad = bool(_BAD_NAME_CHARS.search(raw)) or ".." in raw.replace("\\", "/").split("/")
    if not cleaned.strip("_ "):
        return fallback, bool(raw) and bad
    return cleaned, bad
