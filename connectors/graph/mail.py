"""Exchange Online mailboxes through Microsoft Graph (kind ``graph_mail``).

Units are mail folders, one per folder of every configured mailbox, including hidden ones,
Verwijderde items, Verzonden items and Archief (search folders are skipped: they only repeat
mail stored elsewhere). Each folder is crawled with the per-folder message delta query:

* the first run pages through the whole folder (``@odata.nextLink``) and ends with an
  ``@odata.deltaLink``, which becomes the unit's cursor;
* later runs follow that deltaLink and get only what changed: new and changed messages
  (``Seen``) and removed ones (``@removed`` -> ``Gone``);
* an expired delta token (410, ``syncStateNotFound``, ``resyncRequired``) falls back to a
  full resync within the same crawl, announced with a ``Resync`` event so the pipeline treats
  it as a full listing (messages deleted during the gap are closed); unchanged messages keep
  their ``changeKey``, so the pipeline does not analyse them again;
* a message listed twice in one round is handed out once, in its last form (``DeltaRound``);
* a folder Graph answers 403 for is a ``Blind`` spot (a warning naming the folder, nothing
  closed, the cursor kept), and so is the part of the tree below a folder whose child folders
  answer 403 (a ``<mailbox>/<folder>/*`` unit). Only a 403 on the mailbox itself (outside the
  app's RBAC scope) gives the mailbox up, as an ``access_denied`` source error naming it.

Only cheap metadata is listed (``$select``); MIME is downloaded with ``$value`` in
:meth:`GraphMailConnector.fetch`, only for messages the pipeline wants to analyse.

Item keys are ``<mailbox>:<message id>`` with immutable ids (``Prefer:
IdType="ImmutableId"``), which survive moves between folders. Delta is per folder, so a move
shows up as ``@removed`` in one folder and as new in the other, in whatever order the units
are crawled. A removal is therefore checked before it becomes ``Gone``: only a message that no
longer exists, or now lies in a folder this source does not scan, is reported gone. Moving
mail to Archief or Verwijderde items is not deletion and does not count as clean-up for the
FG's deletion evidence; emptying Verwijderde items does. The check costs one small GET per
removed message, at most 4 in parallel.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, ClassVar

from connectors.base import ConnectorContext, ItemFetchError, SourceError
from connectors.graph._common import (
    CURSOR_IGNORED_MESSAGE,
    DeltaRound,
    GraphConnector,
    TooLarge,
    access_denied_blind,
    action_error,
    decode_cursor,
    encode_cursor,
    fetch_error,
    group_member_addresses,
    parse_time,
    receive,
    unique_lower,
)
from connectors.graph.client import IMMUTABLE_ID, GraphClient, GraphError, path_id
from connectors.graph.config import GraphMailConfig
from scanner.core.model import (
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

MESSAGE_FIELDS = (
    "receivedDateTime,lastModifiedDateTime,parentFolderId,webLink,hasAttachments,categories,subject,changeKey"
)
FOLDER_FIELDS = "id,displayName,parentFolderId,childFolderCount,isHidden"
SEARCH_FOLDER_TYPE = "#microsoft.graph.mailSearchFolder"
BROKEN_SUFFIX = "/*"
DELETED_ITEMS = "Verwijderde items / Deleted Items"
"""Where a removed message goes (the well-known folder ``deleteditems``), as the page says it."""
RESYNC_MESSAGE = (
    "deltatoken verlopen, map opnieuw volledig gelezen / delta token expired, folder listed in full again"
)


class GraphMailConnector(GraphConnector):
    """Mail folders of Exchange Online mailboxes, crawled with message delta queries."""

    kind: ClassVar[str] = "graph_mail"
    config_model: ClassVar[type[GraphMailConfig]] = GraphMailConfig
    config: GraphMailConfig

    def __init__(
        self,
        config: GraphMailConfig,
        context: ConnectorContext | None = None,
        *,
        client: GraphClient | None = None,
    ) -> None:
        super().__init__(config, context, client=client)
        self._folder_ids: dict[str, str] = {}
        """unit key -> folder id, filled by :meth:`units` (re-walked when crawled elsewhere)."""
        self._scanned: dict[str, set[str]] = {}
        """mailbox -> ids of the folders this source scans (for checking removals)."""

    def _prefer(self) -> dict[str, str]:
        return {"Prefer": f"{IMMUTABLE_ID}, odata.maxpagesize={self.config.page_size}"}

    # -- units --------------------------------------------------------------------------------

    def mailboxes(self) -> list[str]:
        """Configured mailboxes plus the members of the configured groups, lower-cased, unique."""
        members = group_member_addresses(self.client, self.config.groups) if self.config.groups else []
        return unique_lower([*self.config.mailboxes, *members])

    def units(self) -> Iterator[Unit]:
        self.client.check_sign_in()
        for mailbox in self.mailboxes():
            try:
                folders = list(self._walk_folders(mailbox))
            except (SourceError, GraphError) as exc:
                # One unreachable mailbox must not hide the others: hand out a unit that
                # reports the problem when crawled (and retries the listing there).
                log.warning("folder listing failed for a mailbox: %s", exc)
                yield Unit(
                    key=mailbox + BROKEN_SUFFIX,
                    label=mailbox,
                    owner=mailbox,
                    concurrency_key=mailbox,
                    full_listing=False,
                )
                continue
            self._scanned[mailbox] = {f for p, f in folders if f and self.config.wants(p)}
            for path, folder_id in folders:
                if not folder_id:  # "<folder>/*": its child folders could not be listed
                    if self.config.wants(path):
                        key = f"{mailbox}/{path}"
                        yield Unit(key=key, label=key, owner=mailbox, concurrency_key=mailbox, full_listing=False)
                    continue
                if not self.config.wants(path):
                    continue
                key = f"{mailbox}/{path}"
                self._folder_ids[key] = folder_id
                yield Unit(key=key, label=key, owner=mailbox, concurrency_key=mailbox, full_listing=False)

    def _walk_folders(self, mailbox: str) -> Iterator[tuple[str, str]]:
        """Depth-first ``(path, folder id)`` over the whole folder tree of ``mailbox``.

        When the child folders of one folder answer 403, ``("<folder>/*", "")`` stands for the
        part of the tree that could not be seen (the ``/*`` unit-key convention); a 403 on the
        mailbox's top level is the mailbox's own problem and is raised.
        """
        params = {"$select": FOLDER_FIELDS, "$top": "100"}
        if self.config.include_hidden_folders:
            params["includeHiddenFolders"] = "true"
        headers = {"Prefer": IMMUTABLE_ID}
        stack: list[tuple[str, str]] = [("", f"users/{path_id(mailbox)}/mailFolders")]
        while stack:
            prefix, collection = stack.pop()
            try:
                folders = list(self.client.items(
                    collection, mailbox=mailbox, params=params, headers=headers, what="mappen / folders"
                ))
            except GraphError as exc:
                if exc.status == 403 and prefix:
                    yield prefix + "*", ""
                    continue
                raise
            for folder in folders:
                if self.config.skip_search_folders and folder.get("@odata.type") == SEARCH_FOLDER_TYPE:
                    continue
                name = str(folder.get("displayName") or folder["id"]).replace("/", "%2F")
                path = f"{prefix}{name}"
                yield path, folder["id"]
                if folder.get("childFolderCount", 1):
                    stack.append(
                        (
                            path + "/",
                            f"users/{path_id(mailbox)}/mailFolders/{path_id(folder['id'])}/childFolders",
                        )
                    )

    def _folder_id(self, unit: Unit, mailbox: str) -> str:
        folder_id = self._folder_ids.get(unit.key)
        if folder_id is None:
            try:
                for path, found in self._walk_folders(mailbox):
                    if found:
                        self._folder_ids[f"{mailbox}/{path}"] = found
            except GraphError as exc:
                raise exc.source_error(unit.key) from None
            folder_id = self._folder_ids.get(unit.key)
        if folder_id is None:
            raise SourceError("not_found", f"{unit.key}: map bestaat niet meer / folder no longer exists")
        return folder_id

    # -- crawl --------------------------------------------------------------------------------

    def crawl(self, unit: Unit, cursor: str | None) -> CrawlStream:
        mailbox = unit.owner or unit.key.split("/", 1)[0]
        if unit.key.endswith(BROKEN_SUFFIX):
            yield from self._crawl_unlisted(unit, mailbox)
            return
        folder_path = unit.key[len(mailbox) + 1 :]
        stored = decode_cursor(cursor, "folder", "delta")
        resync = None if cursor is None else "opgeslagen cursor onleesbaar / stored cursor unreadable"
        if stored is not None and not self._own_link(stored["delta"]):
            self.warn(unit.key, "cursor_ignored", CURSOR_IGNORED_MESSAGE)
            stored, resync = None, "cursor_ignored"
        if stored is not None:
            try:
                yield from self._delta(unit, mailbox, folder_path, stored["folder"], stored["delta"])
                return
            except GraphError as exc:
                if exc.status == 403:
                    yield from self._blind(unit, cursor)
                    return
                if not exc.sync_reset:
                    raise exc.source_error(unit.key) from None
                self.warn(unit.key, "resync", RESYNC_MESSAGE)
                resync = f"Graph {exc.status} {exc.code}"
        if resync is not None:
            # The stored cursor was refused: what follows is a full listing of the folder.
            yield Resync(resync)
        folder_id = self._folder_id(unit, mailbox)
        start = f"users/{path_id(mailbox)}/mailFolders/{path_id(folder_id)}/messages/delta"
        for attempt in (1, 2):
            try:
                yield from self._delta(unit, mailbox, folder_path, folder_id, start, {"$select": MESSAGE_FIELDS})
                return
            except GraphError as exc:
                if exc.status == 403:
                    yield from self._blind(unit, cursor)
                    return
                # A sync state can also vanish between the pages of a full listing: start
                # over once (everything yielded so far was true), then give the unit up.
                if not (exc.sync_reset and attempt == 1):
                    raise exc.source_error(unit.key) from None

    @staticmethod
    def _blind(unit: Unit, cursor: str | None) -> CrawlStream:
        """The folder answered 403: a blind spot, not a deletion; the cursor stays where it was,
        so the changes this run could not read are read when access is back."""
        yield access_denied_blind(unit.key)
        yield Cursor(cursor)

    def _crawl_unlisted(self, unit: Unit, mailbox: str) -> CrawlStream:
        """A ``/*`` unit: the listing below this place failed while the units were listed."""
        if unit.key != mailbox + BROKEN_SUFFIX:
            # Child folders of one folder answered 403: a warning; nothing below it is closed.
            yield access_denied_blind(unit.key, f"{unit.key[: -len(BROKEN_SUFFIX)]} (submappen / subfolders)")
            yield Cursor(None)
            return
        # The mailbox's own folder list failed: name the mailbox (and retry the listing once).
        try:
            list(self._walk_folders(mailbox))
        except GraphError as exc:
            raise exc.source_error(f"mailbox {mailbox}") from None
        raise SourceError(
            "unreachable",
            f"mailbox {mailbox}: mappen waren niet op te halen; volgende run opnieuw / "
            "folders could not be listed; retried next run",
        )

    def _own_link(self, link: str) -> bool:
        try:
            self.client.url(link)
        except SourceError:
            return False
        return True

    def _delta(
        self,
        unit: Unit,
        mailbox: str,
        folder_path: str,
        folder_id: str,
        start: str,
        params: dict[str, str] | None = None,
    ) -> CrawlStream:
        delta_link: str | None = None
        changes = DeltaRound()
        for page in self.client.pages(
            start, mailbox=mailbox, params=params, headers=self._prefer(), what=unit.key
        ):
            for message in page.get("value", []):
                key = f"{mailbox}:{message['id']}"
                event: Seen | Gone = (
                    Gone(key) if "@removed" in message else Seen(self._ref(unit, mailbox, folder_path, key, message))
                )
                yield from self._settle(unit, mailbox, changes.add(key, event))
            delta_link = page.get("@odata.deltaLink")
        if not delta_link:
            raise SourceError("protocol", f"{unit.key}: Graph gaf geen deltaLink / Graph gave no deltaLink")
        yield from self._settle(unit, mailbox, changes.drain())
        yield Cursor(encode_cursor(folder=folder_id, delta=delta_link))

    def _settle(self, unit: Unit, mailbox: str, events: list[Seen | Gone]) -> Iterator[Seen | Gone]:
        """Hand out a round's events; a removal only when the message is really gone."""
        if not events:
            return
        removed = [e.item_key.partition(":")[2] for e in events if isinstance(e, Gone)]
        gone = {f"{mailbox}:{message_id}" for message_id in self._really_gone(unit, mailbox, removed)}
        for event in events:
            if isinstance(event, Seen) or event.item_key in gone:
                yield event

    def _really_gone(self, unit: Unit, mailbox: str, removed: list[str]) -> list[str]:
        """The removed message ids that are gone from everything this source scans."""
        if not removed:
            return []
        scanned = self._scanned_folders(unit, mailbox)
        workers = min(len(removed), self.config.max_concurrent_per_mailbox)
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="graph-check") as pool:
            places = list(pool.map(lambda message_id: self._where(unit, mailbox, message_id), removed))
        return [m for m, place in zip(removed, places, strict=True) if place is None or place not in scanned]

    def _where(self, unit: Unit, mailbox: str, message_id: str) -> str | None:
        """The folder id a message lies in now, or ``None`` when it no longer exists."""
        try:
            message = self.client.get_json(
                f"users/{path_id(mailbox)}/messages/{path_id(message_id)}",
                mailbox=mailbox,
                params={"$select": "id,parentFolderId"},
                headers={"Prefer": IMMUTABLE_ID},
                what=unit.key,
                item=True,
            )
        except GraphError as exc:
            if exc.status == 404:
                return None
            raise
        return str(message.get("parentFolderId") or "")

    def _scanned_folders(self, unit: Unit, mailbox: str) -> set[str]:
        if mailbox not in self._scanned:
            self._scanned[mailbox] = {f for p, f in self._walk_folders(mailbox) if f and self.config.wants(p)}
        return self._scanned[mailbox]

    def _ref(self, unit: Unit, mailbox: str, folder_path: str, key: str, message: dict[str, Any]) -> ItemRef:
        return ItemRef(
            source=self.config.name,
            item_key=key,
            kind=ItemKind.MAIL,
            owner=mailbox,
            folder=folder_path,
            title=message.get("subject") or "",
            date=parse_time(message.get("receivedDateTime"), message.get("lastModifiedDateTime")),
            size=None,
            change_key=message.get("changeKey"),
            link=message.get("webLink"),
            unit_key=unit.key,
            labels=tuple(message.get("categories") or ()),
        )

    # -- content and actions --------------------------------------------------------------------

    @staticmethod
    def _split_key(item_key: str) -> tuple[str, str]:
        mailbox, _, message_id = item_key.partition(":")
        return mailbox, message_id

    def fetch(self, ref: ItemRef) -> Fetched:
        """The message as MIME (``$value``), streamed and cut off at ``max_item_bytes``."""
        mailbox, message_id = self._split_key(ref.item_key)
        limit = self.context.max_item_bytes
        try:
            fetched = self.client.request(
                "GET",
                f"users/{path_id(mailbox)}/messages/{path_id(message_id)}/$value",
                mailbox=mailbox,
                headers={"Prefer": IMMUTABLE_ID},
                consume=lambda response: receive(
                    response, limit, name="bericht.eml", media_type="message/rfc822",
                    spool_dir=self.context.state_dir,
                ),
                what="bericht / message",
                item=True,
            )
        except TooLarge:
            raise ItemFetchError.too_large(limit) from None
        except (GraphError, SourceError) as exc:
            raise fetch_error(exc) from None
        assert isinstance(fetched, Fetched)
        return fetched

    def set_label(self, ref: ItemRef, label: str, present: bool = True) -> str | None:
        """Add or remove an Outlook category (needs Mail.ReadWrite; actions are opt-in).

        Reads the current categories first, so a category the teacher set in the meantime is
        kept. Changing categories changes the message's ``changeKey``; the new one is returned
        (``None`` when nothing had to change) so the caller can store it and the next run does
        not analyse the message again just because of its own label.
        """
        mailbox, message_id = self._split_key(ref.item_key)
        path = f"users/{path_id(mailbox)}/messages/{path_id(message_id)}"
        headers = {"Prefer": IMMUTABLE_ID}
        try:
            current = self.client.get_json(
                path, mailbox=mailbox, params={"$select": "categories"}, headers=headers,
                what="categorie / category", item=True,
            ).get("categories") or []
            if (label in current) == present:
                return None
            wanted = [c for c in current if c != label] + ([label] if present else [])
            response = self.client.request(
                "PATCH", path, mailbox=mailbox, headers=headers, json={"categories": wanted},
                what="categorie / category", item=True,
            )
        except GraphError as exc:
            raise exc.source_error("categorie / category") from None
        try:
            body = response.json()
        except ValueError:
            return None
        change_key = body.get("changeKey") if isinstance(body, dict) else None
        return change_key if isinstance(change_key, str) else None

    def remove(self, ref: ItemRef) -> str:
        """Move the message to Verwijderde items: ``POST /users/{id}/messages/{id}/move`` with
        the well-known name ``deleteditems`` (needs Mail.ReadWrite, scoped with RBAC for
        Applications). By immutable id the message keeps its id in the new folder, so a
        repeated move changes nothing and is retried like a GET; 404 (already emptied from
        Verwijderde items, or deleted by the teacher) is success. The next delta crawl sees
        the message in Verwijderde items, which is scanned like any folder: the pipeline
        keeps it as the same item (moved), with its owner's mark."""
        mailbox, message_id = self._split_key(ref.item_key)
        try:
            self.client.request(
                "POST", f"users/{path_id(mailbox)}/messages/{path_id(message_id)}/move",
                mailbox=mailbox, headers={"Prefer": IMMUTABLE_ID}, json={"destinationId": "deleteditems"},
                what="verplaatsen / move", item=True, idempotent=True,
            )
        except GraphError as exc:
            if exc.status == 404 and exc.code.lower() == "erroritemnotfound":
                return DELETED_ITEMS
            raise action_error(exc) from None
        except SourceError as exc:
            raise action_error(exc) from None
        return DELETED_ITEMS

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
