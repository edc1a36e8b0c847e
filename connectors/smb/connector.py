"""The SMB connector: teachers' file shares ("P-schijf", "Gedeeld/Zorg") read directly over
SMB 2/3 with smbprotocol, without mounting them on the scan server.

Every run lists the metadata of every file (a directory listing already carries size and
modification time, so no file is opened); the pipeline fetches only files whose
``change_key`` changed and closes files that are no longer there (``full_listing``). Problems
with single folders never stop the walk. A folder that is there but could not be listed
(access denied, a listing error) is a :class:`~scanner.core.model.Blind` for its path, so its stored
files are kept, never closed as deleted; other problems (loops, reparse points, vanished
folders) are collected in :attr:`SmbConnector.warnings` for the run report. A unit that lists
no file where the last run listed some is reported (``empty_listing``).

A teacher's "Verwijderen" renames the file into the quarantine folder at the top of its share
(:mod:`connectors.quarantine`), which no unit and no walk enters.
"""

from __future__ import annotations

import fnmatch
import functools
import hashlib
import json
import logging
import mimetypes
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from connectors.base import (
    Connector,
    ConnectorContext,
    ItemFetchError,
    SourceError,
    refuse_contained,
)
from connectors.quarantine import NOT_IN_QUARANTINE, PATH_TAKEN, free_name, is_inside
from connectors.smb.client import SmbClient, classify, describe
from connectors.smb.config import SmbConfig, SmbShare
from connectors.smb.exposure import SidRules
from connectors.smb.owners import OwnerCache
from connectors.smb.walk import FATAL_CODES, FileFound, WalkAborted, WalkProblem, walk
from scanner.core.model import (
    MAIL_ARCHIVE_LABEL,
    Blind,
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

log = logging.getLogger(__name__)

ROOT_FILES = "."
"""Last key segment of the unit holding the files directly in a split share's folder ('.'
cannot be a folder name, so it never collides with a subfolder unit)."""
UNKNOWN_OWNER = "onbekend"
WARNINGS_PER_CODE = 20
"""Per unit and code, so a folder with 5,000 vanished files does not flood the run report."""
BLIND_CODES = frozenset({"access_denied", "list_failed"})
"""Walk problems after which the folder's stored files are kept: the folder is there, we only
could not list it. (``vanished`` is gone for real; loops, reparse points and ``max_depth`` are
configuration, not blindness.)"""

_PROBLEM_TEXT = {
    "access_denied": "submap niet leesbaar (geen toegang), overgeslagen / "
    "subfolder not readable (access denied), skipped",
    "vanished": "submap verdween tijdens het lezen / subfolder vanished while listing",
    "list_failed": "submap kon niet worden gelezen / subfolder could not be listed",
    "symlink_loop": "map verwijst naar zichzelf (lus), niet gevolgd / folder loop not followed",
    "reparse_point": "koppeling (junction/symlink) niet gevolgd / reparse point not followed",
    "too_deep": "map dieper dan max_depth, overgeslagen / folder deeper than max_depth skipped",
}


class SmbConnector(Connector):
    """Crawls the configured shares of one SMB server. See the module docstring."""

    kind = "smb"
    config_model = SmbConfig
    config: SmbConfig

    def __init__(self, config: SmbConfig, context: ConnectorContext | None = None) -> None:
        super().__init__(config, context)
        self._client: SmbClient | None = None
        self._owner_cache: OwnerCache | None = None
        self._unlisted: dict[str, tuple[BaseException, Any]] = {}
        self.warnings: list[tuple[str, str, str]] = []
        """Non-fatal walk problems as ``(unit_key, code, message)``; messages name no file
        (and no folder unless ``report_folder_names``). The pipeline records them as source
        errors; they are appended during :meth:`crawl`."""

    # --- plumbing -----------------------------------------------------------------------------

    @property
    def client(self) -> SmbClient:
        """Created on first use, so building a connector (on a worker) opens no connection."""
        if self._client is None:
            self._client = SmbClient(self.config)
        return self._client

    @property
    def owner_cache(self) -> OwnerCache | None:
        """Owner SIDs of unchanged files, kept in ``state_dir`` (None without one)."""
        if self._owner_cache is None and self.config.sid_owners and self.config.owner_cache \
                and self.context.state_dir:
            scope = f"{self.config.server.lower()}:{self.config.port}"
            name = hashlib.sha256(f"{self.config.name}\0{scope}".encode()).hexdigest()[:16]
            path = Path(self.context.state_dir) / f"smb-owners-{name}.sqlite"
            self._owner_cache = OwnerCache(path, scope)
        return self._owner_cache

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
        if self._owner_cache is not None:
            self._owner_cache.close()
            self._owner_cache = None

    def warn(self, unit_key: str, code: str, message: str) -> None:
        self.warnings.append((unit_key, code, message))

    def _where(self, entry: SmbShare) -> str:
        return f"\\\\{self.config.server}\\{entry.base.replace('/', chr(92))}"

    def _base_key(self, entry: SmbShare) -> str:
        return f"{self.config.server}/{entry.base}"

    def _locate(self, unit_key: str) -> tuple[SmbShare, str, bool]:
        """Unit key -> (share entry, server-relative folder, recursive). Pure function of the
        configuration, so a unit can be crawled in another process than the one listing it."""
        for entry in self.config.shares:
            base_key = self._base_key(entry)
            if not entry.split_subfolders:
                if unit_key == base_key:
                    return entry, entry.base, True
                continue
            if unit_key == f"{base_key}/{ROOT_FILES}":
                return entry, entry.base, False
            prefix = base_key + "/"
            if unit_key.startswith(prefix) and "/" not in unit_key[len(prefix):]:
                return entry, f"{entry.base}/{unit_key[len(prefix):]}", True
        raise SourceError("not_found",
                          "onbekende unit voor deze bron / unknown unit for this source")

    def _relative(self, entry: SmbShare, path: str) -> str:
        """Server-relative ``share/sub/x`` -> relative to the entry's folder (for globs)."""
        return path[len(entry.base) + 1:] if path.startswith(entry.base + "/") else path

    def _folder_excluded(self, entry: SmbShare, path: str) -> bool:
        in_share = path.partition("/")[2]
        if is_inside(in_share, self.config.quarantine):
            return True  # removed files: never crawled, so the next scan closes them
        relative = self._relative(entry, path).lower()
        return any(
            fnmatch.fnmatch(relative, p.lower()) or fnmatch.fnmatch(relative + "/", p.lower())
            for p in self.config.exclude
        )

    def _source_error(self, exc: BaseException, entry: SmbShare) -> SourceError:
        if isinstance(exc, SourceError):
            return exc
        code = classify(exc)
        if code == "locked":
            code = "protocol"
        return SourceError(code, describe(code, self._where(entry), exc))

    # --- the contract -------------------------------------------------------------------------

    def units(self) -> Iterator[Unit]:
        """One unit per configured share entry, or per top-level subfolder of a split entry.

        Listing subfolders needs the server; if that fails for one split share (denied,
        missing), that share still gets its root-files unit, whose crawl then reports the error
        against that share while the other shares go on. Unreachable server or failed logon
        fails the whole source here.
        """
        concurrency = f"smb:{self.config.server.lower()}:{self.config.port}"
        for entry in self.config.shares:
            owner = entry.owner or self.config.owner
            base_key = self._base_key(entry)
            label = self._where(entry)
            if not entry.split_subfolders:
                yield Unit(key=base_key, label=label, owner=owner, concurrency_key=concurrency,
                           department=entry.department)
                continue
            yield Unit(key=f"{base_key}/{ROOT_FILES}", label=label, owner=owner,
                       concurrency_key=concurrency, department=entry.department)
            try:
                entries = self.client.list_dir(entry.base)
            except SourceError:
                raise
            except Exception as exc:  # noqa: BLE001
                code = classify(exc)
                if code in FATAL_CODES:
                    raise self._source_error(exc, entry) from None
                # A "<share>/*" unit tells the pipeline that the subfolders could not be listed
                # (so it must not close their items); crawling it reports the error.
                self._unlisted[f"{base_key}/*"] = (exc, entry)
                yield Unit(key=f"{base_key}/*", label=label, owner=owner,
                           concurrency_key=concurrency, department=entry.department)
                continue
            for item in sorted(entries, key=lambda e: e.name):
                if not item.is_dir:
                    continue
                if item.is_reparse_point and not self.config.follow_reparse_points:
                    continue
                path = f"{entry.base}/{item.name}"
                if self._folder_excluded(entry, path):
                    continue
                folder_owner = self._template_owner(entry, f"{path}/x") or owner
                yield Unit(key=f"{base_key}/{item.name}", label=f"{label}\\{item.name}",
                           owner=folder_owner, concurrency_key=concurrency, department=entry.department)

    def crawl(self, unit: Unit, cursor: str | None) -> CrawlStream:
        """List every file of the unit (a full listing each run; ``cursor`` is not needed) and
        end with a cursor holding counts only: ``{"files", "bytes", "problems"}``."""
        if unit.key in self._unlisted:
            exc, failed_entry = self._unlisted[unit.key]
            raise self._source_error(exc, failed_entry)
        entry, folder, recursive = self._locate(unit.key)
        client = self.client
        try:
            start_ids = self._folder_chain_ids(folder)
        except Exception as exc:  # noqa: BLE001
            if folder != entry.base and classify(exc) in BLIND_CODES:
                yield self._blind_unit(unit, classify(exc))
                yield Cursor(cursor)
                return
            raise self._source_error(exc, entry) from None
        files = 0
        total = 0
        problems: Counter[str] = Counter()
        events = walk(
            client, folder, recursive=recursive, max_depth=self.config.max_depth,
            follow_reparse_points=self.config.follow_reparse_points,
            skip_folder=functools.partial(self._folder_excluded, entry), start_ids=start_ids,
        )
        try:
            for event in events:
                if isinstance(event, WalkProblem):
                    problems[event.code] += 1
                    if event.code in BLIND_CODES:
                        # Every one: each protects its own folder's files from being closed.
                        yield Blind(event.folder + "/", event.code, self._blind_message(unit, entry, event))
                    elif problems[event.code] <= WARNINGS_PER_CODE:
                        self.warn(unit.key, event.code, self._problem_message(entry, event))
                    continue
                ref = self._ref(unit, entry, event)
                if ref is None:
                    continue
                files += 1
                total += ref.size or 0
                yield Seen(ref)
        except WalkAborted as aborted:
            if folder != entry.base and aborted.code in BLIND_CODES and not files:
                # A top-level folder of a split share that we may not open: a blind spot (a
                # warning, kept items), not a failing source night after night.
                yield self._blind_unit(unit, aborted.code)
                yield Cursor(cursor)
                return
            raise self._source_error(aborted.cause, entry) from None
        if self._owner_cache is not None:
            self._owner_cache.flush()
        previous = _previous_files(cursor)
        if files == 0 and previous and not problems:
            # An emptied share and an outage look alike from here; say it, the pipeline's
            # outage rule decides about closing.
            self.warn(unit.key, "empty_listing",
                      f"{unit.label} toont geen bestanden meer (vorige keer {previous}) / "
                      f"{unit.label} lists no files any more (last time {previous})")
        for code, count in sorted(problems.items()):
            if code in BLIND_CODES:
                continue
            if count > WARNINGS_PER_CODE:
                more = count - WARNINGS_PER_CODE
                self.warn(unit.key, code,
                          f"nog {more} keer dezelfde melding / {more} more of the same")
        summary = {"files": files, "bytes": total, "problems": sum(problems.values())}
        yield Cursor(json.dumps(summary))

    def _folder_chain_ids(self, folder: str) -> frozenset[int]:
        """File ids of ``folder`` and each folder above it (one stat each). Also the check
        that the unit's folder exists and is readable before anything is yielded."""
        parts = folder.split("/")
        ids = {self.client.file_id(folder)}
        for depth in range(len(parts) - 1, 0, -1):
            try:  # best effort: a share root may allow traversal but not reading attributes
                ids.add(self.client.file_id("/".join(parts[:depth])))
            except Exception as exc:
                if classify(exc) in FATAL_CODES:
                    raise
        return frozenset(ids)

    def _blind_unit(self, unit: Unit, code: str) -> Blind:
        text = _PROBLEM_TEXT.get(code, _PROBLEM_TEXT["list_failed"]).replace("submap", "map").replace(
            "subfolder", "folder")
        return Blind("", code, f"{text}, bestanden bewaard / files kept ({unit.label})")

    def _blind_message(self, unit: Unit, entry: SmbShare, problem: WalkProblem) -> str:
        """The warning for a folder that could not be listed: names the unit (share and
        top-level folder), and the folder itself only with ``report_folder_names``."""
        text = _PROBLEM_TEXT.get(problem.code, _PROBLEM_TEXT["list_failed"])
        kept = "bestanden bewaard / files kept"
        if self.config.report_folder_names:
            return f"{text}, {kept}: {self._relative(entry, problem.folder)}"
        return f"{text}, {kept} ({unit.label})"

    def _problem_message(self, entry: SmbShare, problem: WalkProblem) -> str:
        text = _PROBLEM_TEXT.get(problem.code, _PROBLEM_TEXT["list_failed"])
        if self.config.report_folder_names:
            return f"{text}: {self._relative(entry, problem.folder)}"
        return text

    def _ref(self, unit: Unit, entry: SmbShare, found: FileFound) -> ItemRef | None:
        relative = self._relative(entry, found.path)
        if not self.config.wants(relative):
            return None
        info = found.entry
        change_key = f"{info.size}:{info.mtime_ns}"
        if info.file_id:
            change_key += f":{info.file_id}"
        folder, _, name = found.path.rpartition("/")
        labels: tuple[str, ...] = ()
        if is_mail_archive(name):
            labels += (MAIL_ARCHIVE_LABEL,)
            change_key = archive_change_key(change_key)
        if info.is_offline:
            labels += ("offline",)
        return ItemRef(
            source=self.config.name,
            item_key=found.path,
            kind=ItemKind.FILE,
            owner=self._owner(entry, found.path, change_key),
            folder=folder,
            title=name,
            date=info.mtime,
            size=info.size,
            change_key=change_key,
            link=self.client.unc(found.path),
            unit_key=unit.key,
            labels=labels,
        )

    def _owner(self, entry: SmbShare, path: str, change_key: str) -> str:
        """Owner SID mapped via ``sid_owners``, else the share's owner, else the source's."""
        if self.config.sid_owners:
            sid = self._owner_sid(path, change_key)
            mapped = self.config.sid_owners.get(sid.upper()) if sid else None
            if mapped:
                return mapped
        return (self._template_owner(entry, path) or entry.owner or self.config.owner
                or UNKNOWN_OWNER)

    def _template_owner(self, entry: SmbShare, path: str) -> str | None:
        """``owner_template`` applied to the top-level subfolder a file lies in (home folder
        ``j.devries`` -> ``j.devries@school.nl``); None for files directly in the share."""
        if not entry.owner_template:
            return None
        relative = self._relative(entry, path)
        if "/" not in relative:
            return None
        return entry.owner_template.format(folder=relative.split("/", 1)[0].lower())

    def _owner_sid(self, path: str, change_key: str) -> str | None:
        cache = self.owner_cache
        if cache is not None:
            cached = cache.get(path, change_key)
            if cached is not None:
                return cached
        try:
            sid = self.client.owner_sid(path)
        except Exception as exc:  # noqa: BLE001 - fall back, the file itself is still listed
            if classify(exc) in FATAL_CODES:
                raise WalkAborted(classify(exc), exc) from None
            log.debug("owner of an SMB file not readable: %s", classify(exc))
            return None
        if cache is not None:
            cache.put(path, change_key, sid)
        return sid

    def exposure(self, ref: ItemRef) -> Exposure:
        """The file's DACL against the broad SIDs (:mod:`connectors.smb.exposure`): one compound
        round trip, only for new or changed files. An unreadable descriptor is unknown."""
        try:
            dacl = self.client.dacl(ref.item_key)
        except Exception as exc:  # noqa: BLE001 - never a stop: the item keeps its analysis
            log.debug("DACL of an SMB file not readable: %s", classify(exc))
            return Exposure.unknown()
        return SidRules(self.config.broad_sids).exposure(dacl)

    def fetch(self, ref: ItemRef) -> Fetched:
        """Check the file can be opened and is not too large, then hand out a stream opener;
        nothing is read here, so a 2 GB file costs one open and close."""
        path = ref.item_key
        name = path.rpartition("/")[2]
        if "offline" in ref.labels and not self.config.fetch_offline_files:
            raise ItemFetchError(
                "offline",
                "bestand staat offline (cloud tiering/archief), niet opgehaald / "
                "file is offline (cloud tiering/archive), not recalled",
            )
        try:
            size = self.client.probe(path)
        except SourceError as exc:
            raise ItemFetchError(exc.code, str(exc)) from None
        except Exception as exc:  # noqa: BLE001
            code = classify(exc)
            raise ItemFetchError(*_fetch_error(code)) from None
        if size > self.context.max_item_bytes:
            raise ItemFetchError.too_large(self.context.max_item_bytes)
        client = self.client
        return Fetched(
            name=name,
            size=size,
            media_type=mimetypes.guess_type(name)[0],
            open=functools.partial(client.open, path),
        )

    def remove(self, ref: ItemRef) -> str:
        """Rename ``share/dir/file`` to ``share/<quarantine>/dir/file`` (never deleted).

        Already moved or gone: success, but only once the share itself answered (a share that
        is gone says "not found" too). A name taken in quarantine gets a number; the server
        never overwrites. No write access (the usual read-only service account) is
        ``access_denied``, a file open in another program ``locked``: both retryable.
        """
        refuse_contained(ref)
        share, _, below = ref.item_key.partition("/")
        parts = below.split("/")
        if not below or any(p in ("", ".", "..") for p in parts):
            raise ItemFetchError("action_failed", "ongeldig pad voor deze bron / invalid path for this source")
        where = f"\\\\{self.config.server}\\{share}\\{self.config.quarantine}"
        if is_inside(below, self.config.quarantine):
            return where
        client = self.client
        folder, _, name = below.rpartition("/")
        target_dir = "/".join(p for p in (share, self.config.quarantine, folder) if p)
        try:  # the share must answer first: a missing share says "not found" for every file
            client.file_id(share)
        except SourceError as exc:
            raise ItemFetchError("unreachable" if exc.code == "unreachable" else "action_failed",
                                 str(exc)) from None
        except Exception as exc:  # noqa: BLE001
            code = classify(exc)
            if code != "access_denied":  # a root we may traverse but not stat is fine
                raise ItemFetchError(*_action_error(code)) from None
        try:
            if not client.exists(ref.item_key):
                return where
            client.makedirs(target_dir)
            free = free_name(name, lambda n: client.exists(f"{target_dir}/{n}"))
            client.rename(ref.item_key, f"{target_dir}/{free}")
        except SourceError as exc:
            raise ItemFetchError("unreachable" if exc.code == "unreachable" else "action_failed",
                                 str(exc)) from None
        except Exception as exc:  # noqa: BLE001
            code = classify(exc)
            if code == "not_found" and not client.exists(ref.item_key):
                return where  # gone between the check and the rename
            raise ItemFetchError(*_action_error(code)) from None
        return where


    def restore(self, ref: ItemRef) -> str:
        """Rename ``share/<quarantine>/dir/file`` back to ``share/dir/file`` (the undo of
        :meth:`remove`). Back already: success; not in quarantine under its own name:
        ``not_found`` (by hand); a file that has the path again is never overwritten."""
        share, _, below = ref.item_key.partition("/")
        parts = below.split("/")
        if not below or any(p in ("", ".", "..") for p in parts) or is_inside(below, self.config.quarantine):
            raise ItemFetchError("action_failed", "ongeldig pad voor deze bron / invalid path for this source")
        folder = below.rpartition("/")[0]
        back = f"\\\\{self.config.server}\\{share}" + ("\\" + folder.replace("/", "\\") if folder else "")
        held = "/".join((share, self.config.quarantine, below))
        client = self.client
        try:
            client.file_id(share)
            if not client.exists(held):
                if client.exists(ref.item_key):
                    return back  # restored before (a retried undo)
                raise ItemFetchError("not_found", NOT_IN_QUARANTINE)
            if client.exists(ref.item_key):
                raise ItemFetchError("action_failed", PATH_TAKEN)
            if folder:
                client.makedirs(f"{share}/{folder}")
            client.rename(held, ref.item_key)
        except ItemFetchError:
            raise
        except SourceError as exc:
            raise ItemFetchError("unreachable" if exc.code == "unreachable" else "action_failed",
                                 str(exc)) from None
        except Exception as exc:  # noqa: BLE001
            raise ItemFetchError(*_action_error(classify(exc))) from None
        return back


def _action_error(code: str) -> tuple[str, str]:
    if code == "access_denied":
        return "access_denied", "geen schrijfrecht om te verplaatsen / no write access to move the file"
    if code == "locked":
        return "locked", "bestand is in gebruik door een ander programma / file is locked by another program"
    if code == "unreachable":
        return "unreachable", describe(code, "SMB-server")
    return "action_failed", "verplaatsen mislukt / move failed"


def _previous_files(cursor: str | None) -> int:
    """How many files the unit listed last run (its cursor is that run's summary)."""
    try:
        return int(json.loads(cursor).get("files", 0)) if cursor else 0
    except (ValueError, TypeError, AttributeError):
        return 0


def _fetch_error(code: str) -> tuple[str, str]:
    if code == "not_found":
        return "vanished", "bestand bestaat niet meer / file no longer exists"
    if code == "access_denied":
        return "access_denied", "geen leesrecht op het bestand / no read access to the file"
    if code == "locked":
        return "locked", ("bestand is in gebruik door een ander programma / "
                          "file is locked by another program")
    if code in FATAL_CODES:
        return "fetch_failed", describe(code, "SMB-server")
    return "fetch_failed", "bestand kon niet worden geopend / file could not be opened"
