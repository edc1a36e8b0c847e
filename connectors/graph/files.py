"""OneDrive and SharePoint document libraries through Microsoft Graph (kind ``graph_files``).

One unit per drive: the OneDrive of each configured teacher (``onedrive:<address>``) and
each configured document library (``drive:<name>``). A drive is crawled with the drive delta
query (``/drives/{id}/root/delta``): the first run lists everything, later runs follow the
stored deltaLink and see only changes; items with the ``deleted`` facet become ``Gone``; an
expired token (410 ``resyncChangesApplyDifferences`` and the like) falls back to a full
listing, announced with ``Resync`` so that files deleted during the gap are closed. An item
listed twice in one round is handed out once, in its last form (``DeltaRound``).

The change key is the ``cTag`` (changes with the content only) where the delta gives one. The
delta of OneDrive for Business and SharePoint omits ``cTag``, and its ``eTag`` changes on a
rename too, so there the key is the content hash Graph gives (``file.hashes``: quickXorHash,
else sha256/sha1/crc32) with the size: a renamed or moved file is not downloaded again. Only
when neither is there does the ``eTag`` serve.

Delta responses of OneDrive for Business carry no ``parentReference.path`` (renaming a folder
does not re-report its descendants), so paths are rebuilt from the folder items in the feed
and, for parents not in it (incremental runs), from one ``GET /items/{id}`` per unknown
folder. Content is downloaded only in :meth:`GraphFilesConnector.fetch`, through
``/content`` and its 302 to a pre-authenticated URL (``requests`` drops the bearer token when
the redirect leaves the Graph host); files over the size limit are refused without download.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

from connectors.base import ItemFetchError, SourceError
from connectors.graph._common import (
    CURSOR_IGNORED_MESSAGE,
    DeltaRound,
    GraphConnector,
    TooLarge,
    action_error,
    decode_cursor,
    encode_cursor,
    fetch_error,
    group_member_addresses,
    parse_time,
    receive,
    unique_lower,
)
from connectors.graph.client import GraphError, path_id
from connectors.graph.config import DriveSpec, GraphFilesConfig
from connectors.graph.sharing import SharingRules, sharing_key
from scanner.core.model import (
    CrawlStream,
    Cursor,
    Exposure,
    Fetched,
    Gone,
    ItemKind,
    ItemRef,
    Resync,
    Seen,
    Unit,
)

ITEM_FIELDS = ("id,name,size,file,folder,package,root,deleted,parentReference,lastModifiedDateTime,"
               "webUrl,eTag,cTag,createdBy,shared")
RESYNC_MESSAGE = "deltatoken verlopen, drive opnieuw volledig gelezen / delta token expired, drive listed in full again"
RECYCLE_BIN = "Prullenbak / Recycle bin"
"""Where a removed file goes (OneDrive's or the SharePoint site's recycle bin)."""
HASH_NAMES = ("quickXorHash", "sha256Hash", "sha1Hash", "crc32Hash")
"""``file.hashes`` in order of preference (business drives give quickXorHash only)."""


def change_key(item: dict[str, Any]) -> str | None:
    """What changes when the content may have changed, and not on a rename or move."""
    ctag = item.get("cTag")
    if ctag:
        return str(ctag)
    hashes = (item.get("file") or {}).get("hashes") or {}
    for name in HASH_NAMES:
        if hashes.get(name):
            return f"{name}:{hashes[name]}:{item.get('size')}"
    etag = item.get("eTag")
    return str(etag) if etag else None


class GraphFilesConnector(GraphConnector):
    """OneDrive drives of teachers and SharePoint libraries, crawled with drive delta."""

    kind: ClassVar[str] = "graph_files"
    config_model: ClassVar[type[GraphFilesConfig]] = GraphFilesConfig
    config: GraphFilesConfig

    @property
    def max_bytes(self) -> int:
        return self.config.max_file_bytes or self.context.max_item_bytes

    # -- units --------------------------------------------------------------------------------

    def units(self) -> Iterator[Unit]:
        self.client.check_sign_in()
        members = group_member_addresses(self.client, self.config.groups) if self.config.groups else []
        for user in unique_lower([*self.config.users, *members]):
            key = f"onedrive:{user}"
            yield Unit(key=key, label=key, owner=user, concurrency_key=user, full_listing=False)
        for spec in self.config.drives:
            key = f"drive:{spec.name or spec.id}"
            yield Unit(
                key=key,
                label=key,
                owner=spec.owner or self.config.owner,
                concurrency_key=f"drive:{spec.id}",
                full_listing=False,
            )

    def _spec(self, unit: Unit) -> DriveSpec | None:
        for spec in self.config.drives:
            if unit.key == f"drive:{spec.name or spec.id}":
                return spec
        return None

    def _drive_id(self, unit: Unit) -> str:
        spec = self._spec(unit)
        if spec is not None:
            return spec.id
        user = unit.key.partition(":")[2]
        try:
            drive = self.client.get_json(
                f"users/{path_id(user)}/drive", params={"$select": "id,driveType"}, what=unit.key
            )
        except GraphError as exc:
            raise exc.source_error(f"{unit.key} (OneDrive)") from None
        return str(drive["id"])

    # -- crawl --------------------------------------------------------------------------------

    def crawl(self, unit: Unit, cursor: str | None) -> CrawlStream:
        stored = decode_cursor(cursor, "drive", "delta")
        resync = None if cursor is None else "opgeslagen cursor onleesbaar / stored cursor unreadable"
        if stored is not None:
            try:
                self.client.url(stored["delta"])
            except SourceError:
                self.warn(unit.key, "cursor_ignored", CURSOR_IGNORED_MESSAGE)
                stored, resync = None, "cursor_ignored"
        if stored is not None:
            try:
                yield from _DriveCrawl(self, unit, stored["drive"]).run(stored["delta"])
                return
            except GraphError as exc:
                if not exc.sync_reset:
                    raise exc.source_error(unit.key) from None
                self.warn(unit.key, "resync", RESYNC_MESSAGE)
                resync = f"Graph {exc.status} {exc.code}"
        if resync is not None:
            # The stored cursor was refused: what follows is a full listing of the drive. (A
            # 410 also names a fresh link in Location; we start over ourselves, with $select.)
            yield Resync(resync)
        drive_id = self._drive_id(unit)
        for attempt in (1, 2):
            try:
                yield from _DriveCrawl(self, unit, drive_id).run(
                    f"drives/{path_id(drive_id)}/root/delta", {"$select": ITEM_FIELDS}
                )
                return
            except GraphError as exc:
                if not (exc.sync_reset and attempt == 1):  # start over once, as for mail
                    raise exc.source_error(unit.key) from None

    # -- content ------------------------------------------------------------------------------

    def fetch(self, ref: ItemRef) -> Fetched:
        """Download the file (following the 302), refusing files over the size limit."""
        limit = self.max_bytes
        if ref.size is not None and ref.size > limit:
            raise ItemFetchError.too_large(limit)
        drive_id, _, item_id = ref.item_key.partition(":")
        try:
            fetched = self.client.request(
                "GET",
                f"drives/{path_id(drive_id)}/items/{path_id(item_id)}/content",
                mailbox=f"drive:{drive_id}",
                consume=lambda response: receive(
                    response, limit, name=ref.title, media_type=None, spool_dir=self.context.state_dir
                ),
                what="bestand / file",
                item=True,
            )
        except TooLarge:
            raise ItemFetchError.too_large(limit) from None
        except (GraphError, SourceError) as exc:
            raise fetch_error(exc) from None
        assert isinstance(fetched, Fetched)
        return fetched

    def exposure(self, ref: ItemRef) -> Exposure:
        """The file's sharing: ``GET /drives/{id}/items/{id}/permissions`` (all pages; needs
        Files.Read.All or Sites.Read.All, the permissions the scan already has). A refusal (403),
        an item gone meanwhile (404) or retries given up make the exposure unknown, never private
        and never a stop: the item keeps its analysis and the next change reads it again."""
        drive_id, _, item_id = ref.item_key.partition(":")
        try:
            permissions = [permission for page in self.client.pages(
                f"drives/{path_id(drive_id)}/items/{path_id(item_id)}/permissions",
                mailbox=f"drive:{drive_id}", what="deelrechten / sharing permissions", item=True)
                for permission in page.get("value", [])]
        except (GraphError, SourceError):
            return Exposure.unknown()
        return self.sharing_rules.exposure(permissions)

    @property
    def sharing_rules(self) -> SharingRules:
        config = self.config
        domains = list(config.internal_domains)
        if not domains:
            addresses = [*config.users, config.owner or "", *(spec.owner or "" for spec in config.drives)]
            domains = [a.rpartition("@")[2] for a in addresses if "@" in a]
            if "." in config.tenant_id:
                domains.append(config.tenant_id)
        return SharingRules(domains, config.broad_groups)

    def remove(self, ref: ItemRef) -> str:
        """Move the file to the recycle bin: ``DELETE /drives/{id}/items/{id}``, which Graph
        documents as "moves the items to the recycle bin instead of permanently deleting"
        (needs Files.ReadWrite.All). 404 (already in the recycle bin, or gone) is success.
        The next delta crawl reports the item ``deleted`` and the pipeline closes it."""
        drive_id, _, item_id = ref.item_key.partition(":")
        try:
            self.client.request(
                "DELETE", f"drives/{path_id(drive_id)}/items/{path_id(item_id)}",
                mailbox=f"drive:{drive_id}", what="naar prullenbak / to recycle bin", item=True,
            )
        except GraphError as exc:
            if exc.status == 404:
                return RECYCLE_BIN
            raise action_error(exc) from None
        except SourceError as exc:
            raise action_error(exc) from None
        return RECYCLE_BIN

    def close(self) -> None:
        if self._client is not None:
            self._client.close()


class _DriveCrawl:
    """State of one drive crawl: the folder map used to rebuild paths."""

    def __init__(self, connector: GraphFilesConnector, unit: Unit, drive_id: str) -> None:
        self.connector = connector
        self.client = connector.client
        self.unit = unit
        self.drive_id = drive_id
        self.limit_key = f"drive:{drive_id}"
        self.folders: dict[str, tuple[str, str | None]] = {}
        """folder id -> (name, parent id); the root maps to ("", None)."""
        self.paths: dict[str, str] = {}

    def key(self, item_id: str) -> str:
        return f"{self.drive_id}:{item_id}"

    def run(self, start: str, params: dict[str, str] | None = None) -> CrawlStream:
        delta_link: str | None = None
        changes = DeltaRound()
        headers = {"Prefer": f"odata.maxpagesize={self.connector.config.page_size}"}
        for page in self.client.pages(
            start, mailbox=self.limit_key, params=params, headers=headers, what=self.unit.key
        ):
            items = page.get("value", [])
            # Record this page's folders first: a child may come before its parent.
            for item in items:
                if "deleted" in item or "@removed" in item:
                    continue
                if "root" in item:
                    self.folders[item["id"]] = ("", None)
                elif "folder" in item or "package" in item:
                    self.folders[item["id"]] = (item.get("name", ""), _parent_id(item))
                    self.paths.clear()  # a renamed folder changes the paths below it
            for item in items:
                key = self.key(item["id"])
                if "deleted" in item or "@removed" in item:
                    if item["id"] not in self.folders:
                        yield from changes.add(key, Gone(key))
                    continue
                if "file" not in item:
                    continue
                folder = self.folder_path(_parent_id(item))
                name = item.get("name", "")
                full = f"{folder}/{name}" if folder else name
                if not self.connector.config.wants(full):
                    changes.discard(key)  # an earlier occurrence in this round is not the last
                    continue
                yield from changes.add(key, Seen(self.ref(item, folder)))
            delta_link = page.get("@odata.deltaLink")
        if not delta_link:
            raise SourceError("protocol", f"{self.unit.key}: Graph gaf geen deltaLink / Graph gave no deltaLink")
        yield from changes.drain()
        yield Cursor(encode_cursor(drive=self.drive_id, delta=delta_link))

    def folder_path(self, folder_id: str | None) -> str:
        """Slash-separated path of a folder below the drive root (``""`` for the root)."""
        if folder_id is None:
            return ""
        if folder_id in self.paths:
            return self.paths[folder_id]
        chain: list[str] = []
        current: str | None = folder_id
        for _ in range(64):  # deeper than any real drive; guards against a cycle
            if current is None:
                break
            if current not in self.folders:
                self.lookup(current)
            name, parent = self.folders[current]
            if parent is None:
                break
            chain.append(name.replace("/", "%2F"))
            current = parent
        path = "/".join(reversed(chain))
        self.paths[folder_id] = path
        return path

    def lookup(self, folder_id: str) -> None:
        """Fetch one folder not seen in this delta feed (incremental runs)."""
        item = self.client.get_json(
            f"drives/{path_id(self.drive_id)}/items/{path_id(folder_id)}",
            mailbox=self.limit_key,
            params={"$select": "id,name,parentReference,root"},
            what=self.unit.key,
        )
        if "root" in item:
            self.folders[folder_id] = ("", None)
        else:
            self.folders[folder_id] = (item.get("name", ""), _parent_id(item))

    def ref(self, item: dict[str, Any], folder: str) -> ItemRef:
        owner = self.unit.owner
        if not owner:
            creator = (item.get("createdBy") or {}).get("user") or {}
            owner = str(creator.get("email") or creator.get("id") or "")
        return ItemRef(
            source=self.connector.config.name,
            item_key=self.key(item["id"]),
            kind=ItemKind.FILE,
            owner=owner.lower(),
            folder=folder,
            title=item.get("name", ""),
            date=parse_time(item.get("lastModifiedDateTime")),
            size=item.get("size"),
            change_key=change_key(item),
            link=item.get("webUrl"),
            unit_key=self.unit.key,
            sharing_key=sharing_key(item),
        )


def _parent_id(item: dict[str, Any]) -> str | None:
    return (item.get("parentReference") or {}).get("id")
