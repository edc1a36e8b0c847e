"""ZIP, 7z, tar and single-file gzip/bzip2/xz, nested, with bomb guards.

Guards, in the order they act:

1. *Declared sizes, before inflating anything.* ZIP, 7z and tar headers declare every
   member's uncompressed size. The sum is reserved against the item-wide budget
   ``max_archive_total_bytes`` (shared by all nesting levels, so a 42.zip cannot spread its
   petabytes over 16x16 levels), and a member whose declared size exceeds
   ``max_archive_ratio`` times its compressed size is refused (members under 1 MiB exempt).
2. *Counting while streaming*, because headers lie and gzip/bzip2/xz declare nothing:
   every copy loop counts the bytes it produced and stops as soon as a member produces more
   than it declared, the item budget is used up, or the running ratio is exceeded.
3. *Depth and member count*: ``max_depth`` and ``max_archive_members``.

Members larger than :data:`SPOOL_BYTES` are spooled to a temporary file instead of memory,
so a 200 MB CSV inside a zip is read with bounded memory (text is read only as far as the
item's text budget goes).

Office documents (DOCX, XLSX, PPTX, ODF) are ZIP containers too: they pass the same declared
size checks before their library is allowed to open them.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import os
import tarfile
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from scanner.extract.errors import ExtractError
from scanner.extract.handler import Blob, Handler, WalkContext, clean_name, here, sub

SPOOL_BYTES = 16 * 1024 * 1024
_COPY_CHUNK = 1024 * 1024


class _Reader(Protocol):
    """What the copy loop reads from: ``BinaryIO``, a zip member, a decompressor's stream or
    :class:`_Counting` (the stubs give these no common base)."""

    def read(self, n: int = -1, /) -> bytes: ...


class _Counting:
    """A read-only file wrapper that counts the compressed bytes consumed."""

    def __init__(self, raw: BinaryIO) -> None:
        self.raw = raw
        self.count = 0

    def read(self, n: int = -1) -> bytes:
        data = self.raw.read(n)
        self.count += len(data)
        return data

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        self.raw.close()


class _Spool:
    """Collects one member's bytes: in memory while small, in a temp file when large."""

    def __init__(self, walker: WalkContext, expected: int) -> None:
        self.walker = walker
        self.size = 0
        self._chunks: list[bytes] = []
        self._file: BinaryIO | None = None
        self._path: Path | None = None
        self._on_disk = expected > SPOOL_BYTES

    def write(self, data: bytes) -> None:
        self.size += len(data)
        if not self._on_disk and self.size > SPOOL_BYTES:
            self._on_disk = True
        if self._on_disk:
            if self._file is None:
                handle, name = tempfile.mkstemp(prefix="schoonschip-", suffix=".part")
                self._path = Path(name)
                self._file = os.fdopen(handle, "wb")
                for chunk in self._chunks:
                    self._file.write(chunk)
                self._chunks.clear()
            self._file.write(data)
        else:
            self._chunks.append(data)

    def blob(self) -> Blob:
        if self._file is not None:
            self._file.close()
            return Blob(path=self._path)
        return Blob(data=b"".join(self._chunks))

    def discard(self) -> None:
        if self._file is not None and not self._file.closed:
            self._file.close()
        if self._path is not None:
            self._path.unlink(missing_ok=True)
        self._chunks.clear()


def _copy(walker: WalkContext, source: _Reader, spool: _Spool, *, declared: int | None,
          counter: _Counting | None, part: str) -> None:
    """Copy a member stream into ``spool`` with the streaming guards of rule 2."""
    limit = walker.limits.max_item_bytes
    while True:
        walker.tick()
        chunk = source.read(_COPY_CHUNK)
        if not chunk:
            return
        spool.write(chunk)
        if declared is not None and spool.size > declared:
            raise ExtractError("zip_bomb", "meer dan opgegeven / more than declared")
        if declared is None:
            if spool.size > walker.archive_bytes_left:
                raise ExtractError("zip_bomb", f"max {walker.limits.max_archive_total_bytes} bytes")
            if counter is not None and walker.ratio_exceeded(spool.size, counter.count):
                raise ExtractError("zip_bomb", f"max ratio {walker.limits.max_archive_ratio:g}")
        if spool.size > limit:
            raise ExtractError("too_large")


def _visit_spooled(walker: WalkContext, spool: _Spool, name: str, parent: str, depth: int,
                   fallback: str) -> None:
    blob = spool.blob()
    try:
        walker.child(blob, name, parent, depth + 1, fallback)
    finally:
        spool.discard()


# --- ZIP -------------------------------------------------------------------------------


def classify_zip(zf: zipfile.ZipFile) -> str:
    """Refine a ZIP container: ``docx xlsx pptx odt ods odp`` or plain ``zip``."""
    names = set(zf.namelist())
    if "word/document.xml" in names:
        return "docx"
    if "xl/workbook.xml" in names:
        return "xlsx"
    if "ppt/presentation.xml" in names:
        return "pptx"
    if "mimetype" in names:
        info = zf.getinfo("mimetype")
        if info.file_size < 200 and not info.flag_bits & 1:
            mimetype = zf.read(info).decode("ascii", "replace").strip()
            for suffix, fmt in (("opendocument.text", "odt"), ("opendocument.spreadsheet", "ods"),
                                ("opendocument.presentation", "odp")):
                if mimetype.endswith(suffix):
                    return fmt
    return "zip"


def check_declared(walker: WalkContext, infos: list[zipfile.ZipInfo], part: str) -> None:
    """Rule 1 for a whole container: refuse before anything is inflated."""
    total = sum(i.file_size for i in infos)
    if not walker.reserve_archive_bytes(total):
        raise ExtractError("zip_bomb", f"max {walker.limits.max_archive_total_bytes} bytes")


def handle_zip(walker: WalkContext, blob: Blob, name: str, path: str, depth: int, chash: str) -> None:
    part = here(path)
    with blob.open() as stream:
        try:
            zf = zipfile.ZipFile(stream)
            infos = zf.infolist()
        except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError) as exc:
            raise ExtractError("corrupt") from exc
        with zf:
            kind = classify_zip(zf)
            if kind != "zip":
                for info in infos:
                    if walker.ratio_exceeded(info.file_size, info.compress_size):
                        raise ExtractError("zip_bomb", f"max ratio {walker.limits.max_archive_ratio:g}")
                check_declared(walker, infos, part)
                from scanner.extract import office

                office.HANDLERS[kind](walker, zf, stream, path, depth, chash)
                return
            if walker.bombed:
                return  # this item already held a bomb: open no further archives
            _zip_members(walker, zf, [i for i in infos if not i.filename.endswith("/")], path, depth)


def _zip_members(walker: WalkContext, zf: zipfile.ZipFile, infos: list[zipfile.ZipInfo],
                 path: str, depth: int) -> None:
    part = here(path)
    if walker.too_deep(depth + 1, part):
        return
    check_declared(walker, infos, part)
    for index, info in enumerate(infos, 1):
        walker.tick()
        if walker.exhausted or not walker.take_member(part):
            return
        member = sub(path, clean_name(info.orig_filename, f"bestand-{index}")[0])
        if info.flag_bits & 0x1:
            walker.error("encrypted", member)
            continue
        if walker.ratio_exceeded(info.file_size, info.compress_size):
            walker.error("zip_bomb", member, f"max ratio {walker.limits.max_archive_ratio:g}")
            continue
        if info.compress_size > info.file_size + info.file_size // 100 + 4096:
            # no codec expands data like that: the declared size is a lie, and zipfile would
            # inflate up to it and then fail the CRC. Refuse it as what it is.
            walker.error("zip_bomb", member, "grootte in kop klopt niet / header size is inconsistent")
            continue
        if info.file_size > walker.limits.max_item_bytes:
            walker.error("too_large", member)
            continue
        if info.file_size == 0:
            walker.child(b"", info.orig_filename, path, depth + 1, f"bestand-{index}")
            continue
        spool = _Spool(walker, info.file_size)
        try:
            with zf.open(info) as source:
                _copy(walker, source, spool, declared=info.file_size, counter=None, part=member)
        except ExtractError as exc:
            spool.discard()
            walker.error(exc.code, member, exc.detail)
            continue
        except NotImplementedError:
            spool.discard()
            walker.error("unsupported", member)
            continue
        except (zipfile.BadZipFile, OSError, EOFError, ValueError, RuntimeError, lzma.LZMAError):
            spool.discard()
            walker.error("corrupt", member)
            continue
        except BaseException:
            spool.discard()
            raise
        _visit_spooled(walker, spool, info.orig_filename, path, depth, f"bestand-{index}")


# --- 7z ------------------------------------------------------------------------------------


def handle_7z(walker: WalkContext, blob: Blob, name: str, path: str, depth: int, chash: str) -> None:
    """7z: declared sizes are checked before anything is inflated; the wanted members are
    spooled (each refused if it grows past its declared size), then visited one by one."""
    part = here(path)
    if walker.bombed or walker.too_deep(depth + 1, part):
        return
    with blob.open() as stream:
        archive = _open_7z(stream)
        with archive:
            wanted, declared = _7z_admit(walker, archive, blob.size, part, path)
            writers = _7z_extract(archive, wanted, _7z_writers(walker, declared))
    for index, filename in enumerate(wanted, 1):
        writer = writers.get(filename)
        if writer is None:
            continue
        if writer.overflow:
            writer.spool.discard()
            walker.error("zip_bomb", sub(path, clean_name(filename, "bestand")[0]),
                         "meer dan opgegeven / more than declared")
            continue
        _visit_spooled(walker, writer.spool, filename, path, depth, f"bestand-{index}")


def _open_7z(stream: BinaryIO) -> Any:
    """The archive, or the item error for an encrypted or unreadable one."""
    import py7zr

    try:
        return py7zr.SevenZipFile(stream, mode="r")
    except py7zr.PasswordRequired as exc:
        raise ExtractError("encrypted") from exc
    except Exception as exc:
        raise ExtractError("corrupt") from exc


def _7z_admit(walker: WalkContext, archive: Any, archive_size: int, part: str,
              path: str) -> tuple[list[str], dict[str, int]]:
    """The members to extract and every member's declared size. The declared total is checked
    against the ratio and reserved against the item's budget before anything is inflated."""
    if archive.needs_password():
        raise ExtractError("encrypted")
    files = [f for f in archive.list() if f.is_file]
    total = sum(int(f.uncompressed or 0) for f in files)
    if walker.ratio_exceeded(total, archive_size):
        raise ExtractError("zip_bomb", f"max ratio {walker.limits.max_archive_ratio:g}")
    if not walker.reserve_archive_bytes(total):
        raise ExtractError("zip_bomb", f"max {walker.limits.max_archive_total_bytes} bytes")
    declared = {f.filename: int(f.uncompressed or 0) for f in files}
    wanted = []
    for f in files:
        if not walker.take_member(part):
            break
        if declared[f.filename] > walker.limits.max_item_bytes:
            walker.error("too_large", sub(path, clean_name(f.filename, "bestand")[0]))
            continue
        wanted.append(f.filename)
    return wanted, declared


def _7z_extract(archive: Any, wanted: list[str], factory: Any) -> dict[str, Any]:
    """Extract ``wanted`` into the factory's spools; on any failure every spool is discarded
    (a temp file must not outlive the item) and the failure becomes an item error."""
    import py7zr

    try:
        if wanted:
            archive.extract(targets=wanted, factory=factory)
    except py7zr.PasswordRequired as exc:
        factory.discard()
        raise ExtractError("encrypted") from exc
    except (ExtractError, MemoryError):
        factory.discard()
        raise
    except Exception as exc:
        factory.discard()
        raise ExtractError("corrupt") from exc
    writers: dict[str, Any] = factory.writers
    return writers


def _7z_writers(walker: WalkContext, declared: dict[str, int]) -> Any:
    """A py7zr writer factory whose writers spool one member each and refuse to grow past the
    member's declared size. Built on call because py7zr is imported only when a 7z is met."""
    from py7zr.io import Py7zIO, WriterFactory

    class _Writer(Py7zIO):
        """Collects one member, refusing to grow past its declared size."""

        def __init__(self, filename: str) -> None:
            self.spool = _Spool(walker, declared.get(filename, 0))
            self.limit = declared.get(filename, 0)
            self.overflow = False

        def write(self, s: bytes | bytearray) -> int:
            if self.spool.size + len(s) > self.limit:
                self.overflow = True
                return len(s)
            self.spool.write(bytes(s))
            return len(s)

        def read(self, size: int | None = None) -> bytes:
            return b""

        def seek(self, offset: int, whence: int = 0) -> int:
            return 0

        def flush(self) -> None:
            return None

        def size(self) -> int:
            return self.spool.size

    class _Factory(WriterFactory):
        def __init__(self) -> None:
            self.writers: dict[str, _Writer] = {}

        def create(self, filename: str) -> Py7zIO:
            writer = _Writer(filename)
            self.writers[filename] = writer
            return writer

        def discard(self) -> None:
            for writer in self.writers.values():
                writer.spool.discard()

    return _Factory()


# --- tar and single-file compressed streams --------------------------------------------------


def _tar_stream(walker: WalkContext, raw: _Counting, mode: str, path: str, depth: int) -> None:
    part = here(path)
    if walker.bombed:
        return
    if walker.too_deep(depth + 1, part):
        return
    try:
        # opened outside `with` so a corrupt header is told apart from a failure inside
        tf = tarfile.open(fileobj=raw, mode=mode)  # type: ignore[call-overload]  # noqa: SIM115
    except (tarfile.TarError, OSError, EOFError, lzma.LZMAError) as exc:
        raise ExtractError("corrupt") from exc
    with tf:
        index = 0
        while True:
            walker.tick()
            try:
                info = tf.next()
            except (tarfile.TarError, OSError, EOFError, lzma.LZMAError) as exc:
                raise ExtractError("corrupt") from exc
            if info is None:
                return
            if walker.ratio_exceeded(tf.offset, raw.count):
                raise ExtractError("zip_bomb", f"max ratio {walker.limits.max_archive_ratio:g}")
            if not info.isfile():
                continue
            index += 1
            if walker.exhausted or not walker.take_member(part):
                return
            member = sub(path, clean_name(info.name, f"bestand-{index}")[0])
            if info.size > walker.limits.max_item_bytes:
                walker.error("too_large", member)
                continue
            if not walker.reserve_archive_bytes(info.size):
                raise ExtractError("zip_bomb", f"max {walker.limits.max_archive_total_bytes} bytes")
            spool = _Spool(walker, info.size)
            try:
                source = tf.extractfile(info)
                if source is not None:
                    _copy(walker, source, spool, declared=info.size, counter=None, part=member)
            except ExtractError as exc:
                spool.discard()
                walker.error(exc.code, member, exc.detail)
                continue
            except (tarfile.TarError, OSError, EOFError, lzma.LZMAError) as exc:
                spool.discard()
                raise ExtractError("corrupt") from exc
            except BaseException:
                spool.discard()
                raise
            _visit_spooled(walker, spool, info.name, path, depth, f"bestand-{index}")


def handle_tar(walker: WalkContext, blob: Blob, name: str, path: str, depth: int, chash: str) -> None:
    with blob.open() as stream:
        _tar_stream(walker, _Counting(stream), "r|", path, depth)


def _stream_handler(opener: Callable[[BinaryIO], io.BufferedIOBase], tar_mode: str,
                    suffixes: tuple[str, ...]) -> Handler:
    def handle(walker: WalkContext, blob: Blob, name: str, path: str, depth: int, chash: str) -> None:
        if walker.bombed:
            return
        with blob.open() as stream:
            try:
                head = opener(stream).read(512)
            except (OSError, EOFError, lzma.LZMAError, ValueError) as exc:
                raise ExtractError("corrupt") from exc
        if len(head) == 512 and head[257:262] == b"ustar":
            with blob.open() as stream:
                _tar_stream(walker, _Counting(stream), tar_mode, path, depth)
            return
        if walker.too_deep(depth + 1, here(path)):
            return
        inner = _strip_suffix(name, suffixes)
        spool = _Spool(walker, 0)
        with blob.open() as stream:
            counter = _Counting(stream)
            try:
                with opener(counter) as source:  # type: ignore[arg-type]  # _Counting reads like one
                    _copy(walker, source, spool, declared=None, counter=counter, part=here(path))
            except (OSError, EOFError, lzma.LZMAError, ValueError) as exc:
                spool.discard()
                raise ExtractError("corrupt") from exc
            except BaseException:
                spool.discard()
                raise
        walker.reserve_archive_bytes(spool.size)
        _visit_spooled(walker, spool, inner, path, depth, "bestand")

    return handle


def _strip_suffix(name: str, suffixes: tuple[str, ...]) -> str:
    base = name.rsplit("/", 1)[-1]
    for suffix in suffixes:
        if base.lower().endswith(suffix) and len(base) > len(suffix):
            return base[: -len(suffix)]
    return "bestand"


# Single-file compressed streams (a tar inside is read as a tar); named in scanner.extract.formats.
handle_gzip = _stream_handler(lambda f: gzip.GzipFile(fileobj=f, mode="rb"), "r|gz", (".gz", ".gzip"))
handle_bz2 = _stream_handler(lambda f: bz2.BZ2File(f, mode="rb"), "r|bz2", (".bz2",))
handle_xz = _stream_handler(lambda f: lzma.LZMAFile(f, mode="rb"), "r|xz", (".xz",))  # noqa: SIM115 - the handler closes it

__all__ = ["classify_zip", "handle_7z", "handle_bz2", "handle_gzip", "handle_tar", "handle_xz", "handle_zip"]
