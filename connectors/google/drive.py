"""Google Drive: My Drive of users and shared drives (kind ``google_drive``).

Units: one per user (``<user>/Mijn Drive``: the files that user owns, read as that user) and
one per configured shared drive (``gedeeld:<name>``, read as a member). Owning, not "can see":
a file shared with ten teachers is listed once, under its owner.

- First run (or no usable cursor): ``changes.getStartPageToken`` *before* the full
  ``files.list`` (``corpora=user`` with ``'me' in owners``, or ``corpora=drive`` with
  ``driveId``, ``includeItemsFromAllDrives`` and ``supportsAllDrives``), so changes during the
  listing are replayed next time. Folders are walked only to name paths.
- Next runs: ``changes.list`` from the stored page token up to ``newStartPageToken``;
  ``removed`` or ``trashed`` files are ``Gone``, so is a file that is no longer this user's.
  A refused page token (400/404) gives a :class:`Resync` and a full listing.
- Change key: ``md5Checksum`` (else ``size``) for binary files; ``modifiedTime`` and
  ``version`` for native Google files, which have neither.
- Content: ``files.get(alt=media)`` for binary files; Docs, Sheets and Slides through
  ``files.export`` to docx, xlsx and pdf. Google refuses exports above 10 MB
  (``exportSizeLimitExceeded``): that is the item error ``too_large``, not a crash. Other native
  types (Forms, Sites, shortcuts) hold no exportable document and are not listed.
- A 403 that is not a rate limit on a unit's listing (a member who lost access to a shared
  drive) is a :class:`Blind` for the whole unit: nothing is closed and the cursor stays.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import partial
from typing import Any, ClassVar

from connectors.base import Connector, ConnectorContext, ItemFetchError, SourceError
from connectors.google import cursor as cursor_field
from connectors.google.client import GoogleApi, GoogleError
from connectors.google.config import DRIVE_SCOPE, GoogleDriveConfig, SharedDriveSpec
from connectors.google.directory import source_users
from scanner.core.model import (
    Blind,
    CrawlStream,
    Cursor,
    Fetched,
    Gone,
    ItemKind,
    ItemRef,
    Resync,
    Seen,
    Unit,
)

log = logging.getLogger(__name__)

SCOPES = (DRIVE_SCOPE,)
FOLDER = "application/vnd.google-apps.folder"
NATIVE = "application/vnd.google-apps."
EXPORTS: dict[str, tuple[str, str]] = {
    "application/vnd.google-apps.document": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document", ".docx"),
    "application/vnd.google-apps.spreadsheet": (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ".xlsx"),
    "application/vnd.google-apps.presentation": ("application/pdf", ".pdf"),
}
FILE_FIELDS = "id,name,mimeType,parents,md5Checksum,size,modifiedTime,version,webViewLink,trashed,ownedByMe,driveId"
MY_DRIVE = "Mijn Drive"
SHARED_PREFIX = "gedeeld:"
RESYNC_MESSAGE = (
    "wijzigingstoken geweigerd, drive opnieuw volledig gelezen / change token refused, drive listed in full again"
)


class GoogleDriveConnector(Connector):
    """My Drive of the configured users and the configured shared drives."""

    kind: ClassVar[str] = "google_drive"
    config_model: ClassVar[type[GoogleDriveConfig]] = GoogleDriveConfig
    config: GoogleDriveConfig

    def __init__(
        self, config: GoogleDriveConfig, context: ConnectorContext | None = None, *, api: GoogleApi | None = None
    ) -> None:
        super().__init__(config, context)
        self._api = api
        self._names: dict[str, tuple[str, str]] = {}
        """folder id -> (name, parent id), learnt from listings and lookups."""
        self._roots: set[str] = set()
        """Ids of roots (My Drive, a shared drive) and of folders we may not read: paths stop there."""

    @property
    def api(self) -> GoogleApi:
        if self._api is None:
            self._api = GoogleApi(self.config)
        return self._api

    # -- units --------------------------------------------------------------------------------

    def units(self) -> Iterator[Unit]:
        users = source_users(self.api, self.config) if (
            self.config.users or self.config.org_units or self.config.groups) else []
        for user in users:
            yield Unit(key=f"{user}/{MY_DRIVE}", label=f"{user}/{MY_DRIVE}", owner=user, concurrency_key=user,
                       full_listing=False)
        for spec in self.config.shared_drives:
            key = SHARED_PREFIX + (spec.name or spec.id)
            yield Unit(key=key, label=key, owner=spec.owner or self.config.owner, concurrency_key=spec.id,
                       full_listing=False)

    def _target(self, unit: Unit) -> tuple[str, SharedDriveSpec | None]:
        """(user to act as, shared drive or None) for a unit."""
        if unit.key.startswith(SHARED_PREFIX):
            name = unit.key[len(SHARED_PREFIX):]
            spec = next((d for d in self.config.shared_drives if (d.name or d.id) == name), None)
            if spec is None:
                raise SourceError("not_found", f"{unit.key}: niet meer ingesteld / no longer configured")
            return spec.member or self.config.admin_user or "", spec
        return unit.key.rsplit("/", 1)[0], None

    # -- crawl --------------------------------------------------------------------------------

    def crawl(self, unit: Unit, cursor: str | None) -> CrawlStream:
        user, drive = self._target(unit)
        stored = cursor_field.decode(cursor, "changes")
        try:
            if stored is not None:
                try:
                    changes, new_token = self._changes(user, drive, stored)
                except GoogleError as exc:
                    if exc.status not in (400, 404) or drive is not None and exc.status == 404:
                        raise
                    self.warn(unit.key, "resync", RESYNC_MESSAGE)
                    yield Resync(RESYNC_MESSAGE)
                else:
                    yield from self._emit_changes(unit, user, drive, changes)
                    yield Cursor(cursor_field.encode("changes", new_token))
                    return
            yield from self._full(unit, user, drive)
        except GoogleError as exc:
            if exc.status == 403 and not exc.throttled:
                where = f"{unit.key}: geen toegang / no access"
                yield Blind("", "access_denied", f"{where} (Google 403 {exc.reason})")
                yield Cursor(cursor)
                return
            raise exc.source_error(unit.key) from None

    def _drive_args(self, drive: SharedDriveSpec | None) -> dict[str, Any]:
        if drive is None:
            return {"supportsAllDrives": True}
        return {"supportsAllDrives": True, "driveId": drive.id}

    def _full(self, unit: Unit, user: str, drive: SharedDriveSpec | None) -> CrawlStream:
        start = self.api.call("drive", user, SCOPES, lambda s: s.changes().getStartPageToken(
            **self._drive_args(drive)))
        token = str(start.get("startPageToken") or "")
        if drive is None:
            args: dict[str, Any] = {"corpora": "user", "q": "'me' in owners and trashed = false"}
        else:
            args = {"corpora": "drive", "driveId": drive.id, "includeItemsFromAllDrives": True,
                    "q": "trashed = false"}
        files: list[dict[str, Any]] = []
        for page in self.api.pages("drive", user, SCOPES, lambda s, t: s.files().list(
            pageSize=self.config.page_size, pageToken=t, supportsAllDrives=True,
            fields=f"nextPageToken,files({FILE_FIELDS})", **args,
        )):
            files.extend(page.get("files", []))
        for item in files:
            if item.get("mimeType") == FOLDER:
                self._learn(item)
        for item in files:
            ref = self._ref(unit, user, drive, item)
            if ref is not None:
                yield Seen(ref)
        if not token:
            raise SourceError("protocol", f"{unit.key}: Drive gaf geen startPageToken / Drive gave no startPageToken")
        yield Cursor(cursor_field.encode("changes", token))

    def _changes(
        self, user: str, drive: SharedDriveSpec | None, token: str
    ) -> tuple[list[dict[str, Any]], str]:
        """Every change since ``token`` (read in full first: a refused token means Resync)."""
        extra: dict[str, Any] = (
            {"restrictToMyDrive": True} if drive is None
            else {"driveId": drive.id, "includeItemsFromAllDrives": True}
        )
        changes: list[dict[str, Any]] = []
        new_token = token
        for page in self.api.pages("drive", user, SCOPES, lambda s, t: s.changes().list(
            pageToken=t or token, pageSize=self.config.page_size, includeRemoved=True, supportsAllDrives=True,
            spaces="drive", fields=f"nextPageToken,newStartPageToken,changes(removed,fileId,file({FILE_FIELDS}))",
            **extra,
        )):
            changes.extend(page.get("changes", []))
            new_token = str(page.get("newStartPageToken") or new_token)
        return changes, new_token

    def _emit_changes(
        self, unit: Unit, user: str, drive: SharedDriveSpec | None, changes: list[dict[str, Any]]
    ) -> CrawlStream:
        for change in changes:
            item = change.get("file")
            if isinstance(item, dict) and item.get("mimeType") == FOLDER and not item.get("trashed"):
                self._learn(item)
        for change in changes:
            file_id = str(change.get("fileId") or "")
            item = change.get("file")
            if not file_id:
                continue
            if change.get("removed") or not isinstance(item, dict) or item.get("trashed"):
                yield Gone(file_id)
                continue
            if item.get("mimeType") == FOLDER:
                continue
            ref = self._ref(unit, user, drive, item)
            yield Seen(ref) if ref is not None else Gone(file_id)

    def _learn(self, folder: dict[str, Any]) -> None:
        parents = folder.get("parents") or [""]
        self._names[str(folder["id"])] = (str(folder.get("name") or folder["id"]), str(parents[0]))

    def _path(self, user: str, parent: str) -> str:
        """The folder path of ``parent`` (names joined by '/'), looking unknown folders up."""
        names: list[str] = []
        seen: set[str] = set()
        while parent and parent not in seen and parent not in self._roots and len(names) < 64:
            seen.add(parent)
            if parent not in self._names:
                try:
                    folder = self.api.call("drive", user, SCOPES, partial(_folder_request, parent))
                except GoogleError as exc:
                    if exc.status not in (403, 404) or exc.throttled:
                        raise  # a wrong path would be stored: the unit fails and is read again
                    self._roots.add(parent)  # someone else's folder: the path starts below it
                    break
                if not folder.get("parents"):
                    self._roots.add(parent)
                    break  # My Drive's or the shared drive's root
                self._learn(folder)
            name, parent = self._names[parent]
            names.append(name.replace("/", "%2F"))
        return "/".join(reversed(names))

    def _ref(self, unit: Unit, user: str, drive: SharedDriveSpec | None, item: dict[str, Any]) -> ItemRef | None:
        mime = str(item.get("mimeType") or "")
        if mime == FOLDER or (mime.startswith(NATIVE) and mime not in EXPORTS):
            return None
        if drive is None and item.get("ownedByMe") is False:
            return None
        parents = item.get("parents") or [""]
        folder = self._path(user, str(parents[0]))
        name = str(item.get("name") or item["id"])
        if not self.config.wants(f"{folder}/{name}" if folder else name):
            return None
        if mime in EXPORTS:
            change_key = f"{item.get('modifiedTime')}/{item.get('version')}"
            size = None
        else:
            change_key = str(item.get("md5Checksum") or f"size:{item.get('size')}/{item.get('modifiedTime')}")
            size = int(item["size"]) if str(item.get("size") or "").isdigit() else None
        owner = unit.owner or user
        return ItemRef(
            source=self.config.name,
            item_key=str(item["id"]),
            kind=ItemKind.FILE,
            owner=owner,
            folder=folder,
            title=name + (EXPORTS[mime][1] if mime in EXPORTS and not name.endswith(EXPORTS[mime][1]) else ""),
            date=parse_iso(item.get("modifiedTime")),
            size=size,
            change_key=change_key,
            link=item.get("webViewLink"),
            unit_key=unit.key,
            locator=json.dumps({"as": user, "mime": mime}, separators=(",", ":")),
        )

    # -- content --------------------------------------------------------------------------------

    def _where(self, ref: ItemRef) -> tuple[str, str]:
        """(user to act as, MIME type) of an item. The locator holds both when the item comes
        from this run's listing; a ref rebuilt from the store (the retry queue) has none, so the
        user follows from the unit and the type is asked (one small ``files.get``)."""
        where = json.loads(ref.locator) if ref.locator else {}
        if where.get("as") and where.get("mime"):
            return str(where["as"]), str(where["mime"])
        try:
            user = self._target(Unit(key=ref.unit_key, label=ref.unit_key))[0] if ref.unit_key else ""
        except SourceError:
            user = ""
        user = user or ref.owner
        item = self.api.call("drive", user, SCOPES, lambda s: s.files().get(
            fileId=ref.item_key, supportsAllDrives=True, fields="id,mimeType"))
        return user, str(item.get("mimeType") or "")

    def fetch(self, ref: ItemRef) -> Fetched:
        limit = self.context.max_item_bytes
        if ref.size is not None and ref.size > limit:
            raise ItemFetchError.too_large(limit)
        try:
            user, mime = self._where(ref)
            if mime in EXPORTS:
                target, _ = EXPORTS[mime]
                data = self.api.call("drive", user, SCOPES, lambda s: s.files().export(
                    fileId=ref.item_key, mimeType=target))
                media_type: str | None = target
            else:
                data = self.api.call("drive", user, SCOPES, lambda s: s.files().get_media(
                    fileId=ref.item_key, supportsAllDrives=True))
                media_type = mime or None
        except GoogleError as exc:
            if exc.reason == "exportSizeLimitExceeded":
                raise ItemFetchError(
                    "too_large",
                    "groter dan Google's exportlimiet (10 MB), niet gelezen / "
                    "larger than Google's export limit (10 MB), not read",
                ) from None
            code = ("not_found" if exc.status == 404 else "throttled" if exc.throttled
                    else "access_denied" if exc.status == 403 else "fetch_failed")
            raise ItemFetchError(code, f"ophalen mislukt / fetch failed: {exc}") from None
        except SourceError as exc:
            raise ItemFetchError("fetch_failed", f"ophalen mislukt / fetch failed: {exc}") from None
        if not isinstance(data, bytes):
            raise ItemFetchError("fetch_failed", "Drive gaf geen inhoud / Drive gave no content")
        if len(data) > limit or (mime in EXPORTS and len(data) > self.config.max_export_bytes):
            raise ItemFetchError.too_large(limit)
        return Fetched(name=ref.title, size=len(data), media_type=media_type, data=data)


def _folder_request(folder_id: str, service: Any) -> Any:
    return service.files().get(fileId=folder_id, supportsAllDrives=True, fields="id,name,parents")


def parse_iso(value: Any) -> datetime:
    """Drive's RFC 3339 ``modifiedTime`` (``...Z``), UTC; the epoch when absent."""
    if isinstance(value, str) and value:
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            pass
        else:
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return datetime(1970, 1, 1, tzinfo=UTC)



