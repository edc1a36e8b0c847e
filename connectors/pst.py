"""Outlook archives handed over as an export: one .pst/.ost file, or a folder of them.

What a school gives when a teacher leaves with an "archief 2012.pst" on a USB stick, or when a
former mail host exported every mailbox as a .pst. Each archive is listed as one file with the
label ``pst``; the worker reads it in the extraction sandbox and every mail inside becomes an
item of its own (:mod:`scanner.contained`), owned by the source's ``owner`` (whose mail it
is). Archives found on a share or in a ``folder`` source are read the same way; this kind only
says "these files are someone's mail" where the file system cannot.

Like the folder source, every run lists the files (size and mtime, no content), so an
unchanged archive is not opened again, and a missing path fails the source before anything
is closed.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from pydantic import Field

from connectors.base import Connector, ItemFetchError, SourceConfig, SourceError, refuse_contained
from connectors.localwalk import UNREADABLE, LocalProblem, readable_size, walk_files
from scanner.core.model import (
    MAIL_ARCHIVE_LABEL,
    CrawlStream,
    Cursor,
    Fetched,
    ItemKind,
    ItemRef,
    Seen,
    Unit,
    archive_change_key,
    is_mail_archive,
)

ROOT_UNIT = "."


class PstConfig(SourceConfig):
    kind: Literal["pst"]
    path: Path = Field(description="A .pst/.ost file, or a folder whose .pst/.ost files (at any depth) are read.")
    owner: str = Field(description="The teacher whose mail the archives hold (e-mail address).")


class PstConnector(Connector):
    kind = "pst"
    config_model = PstConfig
    config: PstConfig

    def units(self) -> Iterator[Unit]:
        yield Unit(key=ROOT_UNIT, label="", owner=self.config.owner)

    def _root(self) -> Path:
        path = Path(self.config.path)
        if not path.exists():
            raise SourceError("not_found", f"pad {path} bestaat niet / path {path} does not exist")
        return path

    def crawl(self, unit: Unit, cursor: str | None) -> CrawlStream:
        path = self._root()
        if path.is_file():
            yield Seen(self._ref(unit, path.name, path, path.stat()))
            yield Cursor(None)
            return
        for found in walk_files(path, path, recursive=True):
            if isinstance(found, LocalProblem):
                if found.code in UNREADABLE:
                    yield found.blind()
                continue
            if is_mail_archive(found.relative) and self.config.wants(found.relative):
                yield Seen(self._ref(unit, found.relative, Path(found.path), found.stat))
        yield Cursor(None)

    def _ref(self, unit: Unit, relative: str, path: Path, stat: os.stat_result) -> ItemRef:
        return ItemRef(
            source=self.config.name, item_key=relative, kind=ItemKind.FILE, owner=self.config.owner,
            folder=os.path.dirname(relative), title=os.path.basename(relative),
            date=datetime.fromtimestamp(stat.st_mtime, tz=UTC), size=stat.st_size,
            change_key=archive_change_key(f"{stat.st_size}:{stat.st_mtime_ns}"), link=str(path),
            unit_key=unit.key, labels=(MAIL_ARCHIVE_LABEL,),
        )

    def fetch(self, ref: ItemRef) -> Fetched:
        refuse_contained(ref)
        root = self._root()
        path = root if root.is_file() else root / ref.item_key
        size = readable_size(path)
        if size > self.context.max_item_bytes:
            raise ItemFetchError.too_large(self.context.max_item_bytes)
        return Fetched(name=path.name, size=size, path=path, open=lambda: open(path, "rb"))
