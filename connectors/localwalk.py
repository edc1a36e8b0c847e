"""Walking a local or mounted folder tree without taking what it could not read for a deletion.

``Path.rglob`` silently skips a folder it may not open, and a bare ``OSError`` does not say
whether a file vanished (gone: close it) or is unreadable (still there: keep it). Both
mistakes close stored items that exist. This walk reports every folder and file it could not
see as a :class:`LocalProblem` with a code that says which it was, so the connectors can turn
"could not see" into a :class:`~scanner.core.model.Blind` and only "is gone" into a gap.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from scanner.core.model import Blind

UNREADABLE = frozenset({"access_denied", "list_failed"})
"""Problem codes after which the items below the place are protected (a blind spot)."""


@dataclass(frozen=True, slots=True)
class LocalFile:
    """A regular file found by the walk: its absolute path, its path relative to the root
    (the item key of the folder and eml connectors) and its metadata."""

    path: str
    relative: str
    stat: os.stat_result


@dataclass(frozen=True, slots=True)
class LocalProblem:
    """A folder or file that could not be seen. ``relative`` is ``""`` for the root itself;
    ``is_dir`` is False when the entry's type is unknown (its metadata could not be read)."""

    code: str
    relative: str
    is_dir: bool

    @property
    def prefix(self) -> str:
        """The item-key prefix the problem hides: everything below a folder; for an entry of
        unknown type its own path (a file of that name, or anything below a folder of it)."""
        if not self.relative:
            return ""
        return self.relative + "/" if self.is_dir else self.relative

    def blind(self) -> Blind:
        place = self.relative or "."
        if self.code == "access_denied":
            text = (f"geen leesrecht op '{place}', overgeslagen en bewaard / "
                    f"no read access to '{place}', skipped and kept")
        else:
            text = f"'{place}' kon niet worden gelezen, bewaard / '{place}' could not be read, kept"
        return Blind(self.prefix, self.code, text)


def problem_code(exc: OSError) -> str:
    """``vanished`` (really gone), ``access_denied`` (there, but not for us) or
    ``list_failed`` (an I/O error, a stale NFS handle: we cannot tell, so it is kept)."""
    if isinstance(exc, FileNotFoundError) or exc.errno == errno.ENOENT:
        return "vanished"
    if isinstance(exc, PermissionError) or exc.errno in (errno.EACCES, errno.EPERM):
        return "access_denied"
    return "list_failed"


def walk_files(root: Path, start: Path, *, recursive: bool,
               follow_symlinks: bool = False) -> Iterator[LocalFile | LocalProblem]:
    """Depth-first, name-ordered walk from ``start`` (inside ``root``): every regular file as
    a :class:`LocalFile`, every folder or entry that could not be read as a
    :class:`LocalProblem`. A folder reached twice (a symlink loop) is a ``symlink_loop``
    problem and is not walked again."""
    stack = [start]
    visited: set[tuple[int, int]] = set()
    while stack:
        directory = stack.pop()
        relative_dir = _relative(directory, root)
        try:
            info = directory.stat()
            if (info.st_dev, info.st_ino) in visited:
                yield LocalProblem("symlink_loop", relative_dir, True)
                continue
            visited.add((info.st_dev, info.st_ino))
            with os.scandir(directory) as listing:
                entries = sorted(listing, key=lambda e: e.name)
        except OSError as exc:
            yield LocalProblem(problem_code(exc), relative_dir, True)
            continue
        subdirs = []
        for entry in entries:
            relative = _relative(Path(entry.path), root)
            try:
                if entry.is_dir(follow_symlinks=follow_symlinks):
                    if recursive:
                        subdirs.append(Path(entry.path))
                    continue
                if not entry.is_file(follow_symlinks=follow_symlinks):
                    continue
                stat = entry.stat(follow_symlinks=follow_symlinks)
            except OSError as exc:
                yield LocalProblem(problem_code(exc), relative, False)
                continue
            yield LocalFile(entry.path, relative, stat)
        stack.extend(reversed(subdirs))


def _relative(path: Path, root: Path) -> str:
    relative = os.path.relpath(path, root)
    return "" if relative == "." else relative


def root_entries(root: Path, *, what: str = "map / folder") -> list[os.DirEntry]:
    """The entries of a source's root folder, or a :class:`SourceError` that names the path.

    A root that is missing, unreadable or *empty* fails the whole source: an unmounted mount
    point is an empty folder, and listing it as "nothing there" would close every stored item
    of the source. An empty root is therefore never a clean listing; a school that really
    emptied a source disables it (or removes it from the configuration).
    """
    from connectors.base import SourceError

    if not root.exists():
        raise SourceError("not_found", f"{what} {root} bestaat niet / {root} does not exist")
    if not root.is_dir():
        raise SourceError("not_found", f"{root} is geen map / {root} is not a folder")
    try:
        with os.scandir(root) as listing:
            entries = sorted(listing, key=lambda e: e.name)
    except OSError as exc:
        code = problem_code(exc)
        if code == "access_denied":
            raise SourceError("access_denied", f"geen leesrecht op {root} / no read access to {root}") from None
        raise SourceError("unreachable", f"{root} kon niet worden gelezen / {root} could not be read "
                                         f"({exc.strerror})") from None
    if not entries:
        raise SourceError("empty", f"{root} is leeg: is de schijf aangekoppeld? Niets wordt gesloten / "
                                   f"{root} is empty: is the share mounted? Nothing is closed")
    return entries


def readable_size(path: Path) -> int:
    """The size of a file the worker is about to read, after opening it once: a file that is
    there but may not be read is ``access_denied`` (kept), only a missing one ``vanished``."""
    from connectors.base import ItemFetchError

    try:
        with open(path, "rb") as handle:
            return os.fstat(handle.fileno()).st_size
    except OSError as exc:
        code = problem_code(exc)
        if code == "vanished":
            raise ItemFetchError("vanished", "bestand bestaat niet meer / file no longer exists") from None
        if code == "access_denied":
            raise ItemFetchError("access_denied",
                                 "geen leesrecht op het bestand / no read access to the file") from None
        raise ItemFetchError("fetch_failed", f"bestand kon niet worden gelezen / file could not be read "
                                             f"({exc.strerror})") from None
