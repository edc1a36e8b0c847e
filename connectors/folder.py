"""A local or mounted folder of files: the stand-in for a share mounted on the scan server.

Every run lists every file's metadata (cheap: ``scandir`` gives size and modification time
without opening a file); the pipeline fetches only files whose size or mtime changed and closes
files that are gone. Each top-level subfolder is a unit, so a large share is checkpointed and
spread over workers folder by folder.

What the walk could not see is never taken for a deletion: an unreadable subfolder is a
``Blind`` for its path, an unreadable file is listed (and its fetch is ``access_denied``), and
a missing or empty root (an unmounted mount point) fails the source before anything is closed.

A teacher's "Verwijderen" moves the file into the source's quarantine folder (see
:mod:`connectors.quarantine`), which the walk never enters.
"""

from __future__ import annotations

import errno
import fnmatch
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator

from connectors.base import Connector, ItemFetchError, SourceConfig, SourceError, refuse_contained
from connectors.localwalk import (
    UNREADABLE,
    LocalProblem,
    problem_code,
    readable_size,
    root_entries,
    walk_files,
)
from connectors.posixacl import PosixRules, sharing_key
from connectors.quarantine import (
    NOT_IN_QUARANTINE,
    PATH_TAKEN,
    check_quarantine_name,
    free_name,
    is_inside,
    quarantine_field,
)
from scanner.core.model import (
    MAIL_ARCHIVE_LABEL,
    CrawlStream,
    Cursor,
    Exposure,
    Fetched,
    ItemKind,
    ItemRef,
    Seen,
    Unit,
    archive_change_key,
    is_mail_archive,
)

ROOT_UNIT = "."


class FolderConfig(SourceConfig):
    kind: Literal["folder"]
    path: Path
    owner: str = Field(default="onbekend", description="Owner of files no 'owners' pattern matches.")
    owners: dict[str, str] = Field(
        default_factory=dict,
        description="Glob on the relative path -> owner (first match wins), e.g. {'Zorg/*': 'ib@school.nl'}.",
    )
    follow_symlinks: bool = False
    quarantine: str = quarantine_field()
    broad_groups: list[str] = Field(
        default_factory=list,
        description="Whole-school groups (name or gid): a file they may read is broadly shared, as is "
                    "a file every account can read (o+r).",
    )
    world_readable_is_broad: bool = Field(
        default=True,
        description="Count o+r files as broadly shared. Turn off for a CIFS/SMB mount, whose mode bits "
                    "are the mount's file_mode, not the server's ACL (scan such a share with kind 'smb').",
    )

    @field_validator("quarantine")
    @classmethod
    def _quarantine(cls, value: str) -> str:
        return check_quarantine_name(value)


class FolderConnector(Connector):
    kind = "folder"
    parallel_units = True  # units are folders of their own: independent
    config_model = FolderConfig
    config: FolderConfig

    def units(self) -> Iterator[Unit]:
        entries = root_entries(Path(self.config.path))
        yield Unit(key=ROOT_UNIT, label="", owner=None)
        for entry in entries:
            try:
                is_dir = entry.is_dir(follow_symlinks=self.config.follow_symlinks)
            except OSError:
                continue  # its type cannot be read: the root unit's crawl reports it as a blind spot
            if is_dir and self.config.wants(entry.name + "/") \
                    and not is_inside(entry.name, self.config.quarantine):
                yield Unit(key=entry.name, label=entry.name, owner=None)

    def owner_of(self, relative: str) -> str:
        for pattern, owner in self.config.owners.items():
            if fnmatch.fnmatch(relative.lower(), pattern.lower()) or relative.lower().startswith(
                pattern.lower().rstrip("*").rstrip("/") + "/"
            ):
                return owner
        return self.config.owner

    def crawl(self, unit: Unit, cursor: str | None) -> CrawlStream:
        root = Path(self.config.path)
        start = root if unit.key == ROOT_UNIT else root / unit.key
        if not start.is_dir():  # unmounted or removed since units(): this run closes nothing here
            raise SourceError("not_found", f"map {start} bestaat niet (meer) / folder {start} does not exist")
        for found in walk_files(root, start, recursive=unit.key != ROOT_UNIT,
                                follow_symlinks=self.config.follow_symlinks):
            if isinstance(found, LocalProblem):
                if found.code in UNREADABLE:
                    yield found.blind()
                elif found.code == "symlink_loop":
                    self.warn(unit.key, "symlink_loop", "map komt twee keer voor (lus) / folder loop skipped")
                else:
                    self.warn(unit.key, "vanished", "bestand verdween tijdens het lezen / file vanished")
                continue
            relative = found.relative
            if not self.config.wants(relative):
                continue
            stat, name = found.stat, os.path.basename(relative)
            change_key = f"{stat.st_size}:{stat.st_mtime_ns}"
            archive = is_mail_archive(name)
            yield Seen(ItemRef(
                source=self.config.name, item_key=relative, kind=ItemKind.FILE,
                owner=self.owner_of(relative), folder=os.path.dirname(relative), title=name,
                date=datetime.fromtimestamp(stat.st_mtime, tz=UTC), size=stat.st_size,
                change_key=archive_change_key(change_key) if archive else change_key, link=found.path,
                unit_key=unit.key, labels=(MAIL_ARCHIVE_LABEL,) if archive else (),
                sharing_key=sharing_key(stat),
            ))
        yield Cursor(None)

    def fetch(self, ref: ItemRef) -> Fetched:
        path = Path(self.config.path) / ref.item_key
        size = readable_size(path)
        if size > self.context.max_item_bytes:
            raise ItemFetchError.too_large(self.context.max_item_bytes)
        return Fetched(name=path.name, size=size, path=path, open=lambda: open(path, "rb"))

    def exposure(self, ref: ItemRef) -> Exposure:
        """World-readable (o+r, reachable) or readable by a configured whole-school group
        (mode or access ACL): :mod:`connectors.posixacl`."""
        rules = PosixRules(self.config.broad_groups, world_readable=self.config.world_readable_is_broad)
        return rules.exposure(Path(self.config.path), ref.item_key)

    def remove(self, ref: ItemRef) -> str:
        """Move the file to ``<root>/<quarantine>/<its relative path>`` (never unlinked).

        Already moved or gone: success. A name already taken in quarantine gets a number, so
        nothing there is overwritten. A rename never crosses file systems: a quarantine folder
        on another mount fails (``action_failed``) instead of copying and deleting.
        """
        refuse_contained(ref)
        root = Path(self.config.path)
        relative = _safe_relative(ref.item_key)
        where = f"{self.config.quarantine} / quarantine folder"
        if is_inside(relative, self.config.quarantine):
            return where  # already in quarantine (an old key): nothing to do
        try:  # an unmounted share would make every file look "already gone"
            root_entries(root)
        except SourceError as exc:
            raise ItemFetchError("unreachable", str(exc)) from None
        source = root / relative
        try:
            os.lstat(source)
        except OSError as exc:
            if problem_code(exc) == "vanished":
                return where  # already moved (a retried action) or deleted by the teacher
            raise _action_error(exc) from None
        target_dir = root / self.config.quarantine / os.path.dirname(relative)
        try:
            target_dir.mkdir(parents=True, exist_ok=True)
            name = free_name(source.name, lambda n: os.path.lexists(target_dir / n))
            os.rename(source, target_dir / name)
        except FileNotFoundError:
            return where  # gone between the check and the rename: someone else removed it
        except OSError as exc:
            raise _action_error(exc) from None
        return where


    def restore(self, ref: ItemRef) -> str:
        """Move ``<root>/<quarantine>/<relative path>`` back to ``<root>/<relative path>``.

        Back already (nothing in quarantine, the file at its path): success. Not in quarantine
        under its own name (emptied, moved on, or it got a number there because the name was
        taken): ``not_found``, for the teacher to do by hand. A file that has its path again
        is never overwritten (``action_failed``).
        """
        root = Path(self.config.path)
        relative = _safe_relative(ref.item_key)
        back = os.path.dirname(relative) or "/"
        if is_inside(relative, self.config.quarantine):
            raise ItemFetchError("not_found", "niet in quarantaine / not in quarantine")
        try:
            root_entries(root)
        except SourceError as exc:
            raise ItemFetchError("unreachable", str(exc)) from None
        held, target = root / self.config.quarantine / relative, root / relative
        if not os.path.lexists(held):
            if os.path.lexists(target):
                return back  # restored before (a retried undo)
            raise ItemFetchError("not_found", NOT_IN_QUARANTINE)
        if os.path.lexists(target):
            raise ItemFetchError("action_failed", PATH_TAKEN)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            os.rename(held, target)
        except FileNotFoundError:
            if os.path.lexists(target):
                return back
            raise ItemFetchError("not_found", NOT_IN_QUARANTINE) from None
        except OSError as exc:
            raise _action_error(exc) from None
        return back


def _safe_relative(item_key: str) -> str:
    """The item key as a path inside the root: a key that would leave it is refused."""
    parts = item_key.split("/")
    if os.path.isabs(item_key) or any(p in ("", ".", "..") for p in parts):
        raise ItemFetchError("action_failed", "ongeldig pad voor deze bron / invalid path for this source")
    return "/".join(parts)


def _action_error(exc: OSError) -> ItemFetchError:
    """A failed move, by code: no write access and a locked file are retryable; no path."""
    code = problem_code(exc)
    if code == "access_denied":
        return ItemFetchError("access_denied", "geen schrijfrecht om te verplaatsen / no write access to move the file")
    if exc.errno == errno.EBUSY:
        return ItemFetchError("locked", "bestand is in gebruik / file is in use")
    return ItemFetchError("action_failed", f"verplaatsen mislukt / move failed ({exc.strerror})")
