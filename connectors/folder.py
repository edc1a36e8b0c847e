"""A local or mounted folder of files: the stand-in for a share mounted on the scan server.

Every run lists every file's metadata (cheap: ``scandir`` gives size and modification time
without opening a file); the pipeline fetches only files whose size or mtime changed and closes
files that are gone. Each top-level subfolder is a unit, so a large share is checkpointed and
spread over workers folder by folder.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from pydantic import Field

from connectors.base import Connector, ItemFetchError, SourceConfig, SourceError
from scanner.core.model import CrawlStream, Cursor, Fetched, ItemKind, ItemRef, Seen, Unit

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


class FolderConnector(Connector):
    kind = "folder"
    config_model = FolderConfig
    config: FolderConfig

    def _root(self) -> Path:
        root = Path(self.config.path)
        if not root.is_dir():
            raise SourceError("not_found", f"map {root} bestaat niet / folder {root} does not exist")
        return root

    def units(self) -> Iterator[Unit]:
        root = self._root()
        yield Unit(key=ROOT_UNIT, label="", owner=None)
        try:
            entries = sorted(os.scandir(root), key=lambda e: e.name)
        except OSError as exc:
            raise SourceError("access_denied", f"map niet leesbaar / folder unreadable ({exc.strerror})") from None
        for entry in entries:
            if entry.is_dir(follow_symlinks=self.config.follow_symlinks) and self.config.wants(entry.name + "/"):
                yield Unit(key=entry.name, label=entry.name, owner=None)

    def owner_of(self, relative: str) -> str:
        for pattern, owner in self.config.owners.items():
            if fnmatch.fnmatch(relative.lower(), pattern.lower()) or relative.lower().startswith(
                pattern.lower().rstrip("*").rstrip("/") + "/"
            ):
                return owner
        return self.config.owner

    def crawl(self, unit: Unit, cursor: str | None) -> CrawlStream:
        root = self._root()
        if unit.key == ROOT_UNIT:
            yield from self._files_in(unit, root, root, recursive=False)
        else:
            yield from self._files_in(unit, root, root / unit.key, recursive=True)
        yield Cursor(None)

    def _files_in(self, unit: Unit, root: Path, start: Path, recursive: bool) -> Iterator[Seen]:
        stack = [start]
        visited: set[tuple[int, int]] = set()
        while stack:
            directory = stack.pop()
            try:
                info = directory.stat()
                if (info.st_dev, info.st_ino) in visited:
                    self.warn(unit.key, "symlink_loop", "map komt twee keer voor (lus) / folder loop skipped")
                    continue
                visited.add((info.st_dev, info.st_ino))
                entries = sorted(os.scandir(directory), key=lambda e: e.name)
            except OSError as exc:
                self.warn(unit.key, "access_denied",
                          f"submap niet leesbaar / subfolder unreadable ({exc.strerror})")
                continue
            subdirs = []
            for entry in entries:
                try:
                    if entry.is_dir(follow_symlinks=self.config.follow_symlinks):
                        if recursive:
                            subdirs.append(Path(entry.path))
                        continue
                    if not entry.is_file(follow_symlinks=self.config.follow_symlinks):
                        continue
                    stat = entry.stat(follow_symlinks=self.config.follow_symlinks)
                except OSError:
                    self.warn(unit.key, "vanished", "bestand verdween tijdens het lezen / file vanished")
                    continue
                relative = os.path.relpath(entry.path, root)
                if not self.config.wants(relative):
                    continue
                folder = os.path.dirname(relative)
                yield Seen(ItemRef(
                    source=self.config.name, item_key=relative, kind=ItemKind.FILE,
                    owner=self.owner_of(relative), folder=folder, title=entry.name,
                    date=datetime.fromtimestamp(stat.st_mtime, tz=UTC), size=stat.st_size,
                    change_key=f"{stat.st_size}:{stat.st_mtime_ns}", link=entry.path,
                    unit_key=unit.key, labels=("pst",) if entry.name.lower().endswith(".pst") else (),
                ))
            stack.extend(reversed(subdirs))

    def fetch(self, ref: ItemRef) -> Fetched:
        path = Path(self.config.path) / ref.item_key
        try:
            size = path.stat().st_size
        except OSError:
            raise ItemFetchError("vanished", "bestand bestaat niet meer / file no longer exists") from None
        if size > self.context.max_item_bytes:
            raise ItemFetchError(
                "too_large", f"bestand groter dan {self.context.max_item_bytes} bytes / file too large")
        return Fetched(name=path.name, size=size, path=path, open=lambda: open(path, "rb"))
