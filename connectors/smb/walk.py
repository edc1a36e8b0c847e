"""Walking a share tree over SMB without ever stopping on one bad folder.

A teacher's share is a messy place: folders the service account may not read, files that
vanish while we list, symlink loops, junctions, folders with 10,000 entries, names with '#',
'%', accents and trailing dots, paths longer than 260 characters. The walk lists one folder at
a time (fully, so no directory handle is held while recursing), yields every file and reports
every problem as a :class:`WalkProblem` instead of raising. Only a failure of the start folder
itself, or of the connection, ends the walk (the caller turns it into a ``SourceError``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from connectors.smb.client import DirEntry, SmbClient, classify

log = logging.getLogger(__name__)

FATAL_CODES = {"unreachable", "auth_failed"}


@dataclass(frozen=True, slots=True)
class FileFound:
    """A file: its server-relative path (``share/dir/name``) and listing metadata."""

    path: str
    entry: DirEntry


@dataclass(frozen=True, slots=True)
class WalkProblem:
    """A folder that could not be (fully) walked. ``folder`` is for debug logs only."""

    code: str
    folder: str


class WalkAborted(Exception):
    """The start folder or the connection failed: the whole unit cannot be listed."""

    def __init__(self, code: str, cause: BaseException) -> None:
        super().__init__(code)
        self.code = code
        self.cause = cause


def walk(
    client: SmbClient,
    start: str,
    *,
    recursive: bool,
    max_depth: int,
    follow_reparse_points: bool,
    skip_folder: Callable[[str], bool],
    start_ids: frozenset[int] = frozenset(),
) -> Iterator[FileFound | WalkProblem]:
    """Depth-first walk from ``start`` (server-relative), files in name order per folder.

    Loops are caught by directory file ids: a folder whose id is one of its own ancestors is a
    loop (``symlink_loop``); a folder already walked elsewhere (a second link to it) is skipped
    quietly so its files are not reported twice. Servers that report no file ids are still
    bounded by ``max_depth``. ``start_ids`` are the ids of the start folder and of every folder
    above it up to the share root, so a link from inside the unit back up to a parent is a
    loop too (otherwise a unit would wander out over the whole share).
    """
    ancestors0 = frozenset(i for i in start_ids if i)
    stack: list[tuple[str, int, frozenset[int]]] = [(start, 0, ancestors0)]
    visited: set[int] = set(ancestors0)
    while stack:
        folder, depth, ancestors = stack.pop()
        try:
            entries = client.list_dir(folder)
        except Exception as exc:  # noqa: BLE001 - classified below, never swallowed silently
            code = classify(exc)
            if folder == start or code in FATAL_CODES:
                raise WalkAborted(code, exc) from None
            log.debug("SMB folder %s not listed: %s", folder, code)
            yield WalkProblem("vanished" if code == "not_found" else
                              code if code == "access_denied" else "list_failed", folder)
            continue
        entries.sort(key=lambda e: e.name)
        subfolders: list[tuple[str, int, frozenset[int]]] = []
        for entry in entries:
            path = f"{folder}/{entry.name}"
            if not entry.is_dir:
                yield FileFound(path, entry)
                continue
            if not recursive:
                continue
            if entry.is_reparse_point and not follow_reparse_points:
                log.debug("SMB reparse point %s not followed", path)
                yield WalkProblem("reparse_point", path)
                continue
            if entry.file_id and entry.file_id in ancestors:
                log.debug("SMB folder loop at %s", path)
                yield WalkProblem("symlink_loop", path)
                continue
            if entry.file_id and entry.file_id in visited:
                log.debug("SMB folder %s already walked through another link", path)
                continue
            if depth + 1 > max_depth:
                yield WalkProblem("too_deep", path)
                continue
            if skip_folder(path):
                continue
            if entry.file_id:
                visited.add(entry.file_id)
            below = ancestors | {entry.file_id} if entry.file_id else ancestors
            subfolders.append((path, depth + 1, below))
        stack.extend(reversed(subfolders))
