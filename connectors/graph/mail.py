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

With ``archive: true`` each mailbox's In-Place Archive is read too, through Graph **beta**
(v1.0 cannot reach archives): ``GET /beta/users/{id}/settings/exchange`` gives
``inPlaceArchiveMailboxId`` (none: the user has no archive, no unit), and the archive is then
addressed like a mailbox by that id (``/beta/users/{archive id}/mailFolders/...``), folders
walked and crawled with per-folder message delta exactly as the primary's. A folder whose
content auto-expanding archiving moved to an auxiliary archive answers 308 with a ``Location``
on the same Graph host; the HTTP client (``requests``) follows a 308 with the same method, body
and bearer token on that host (and drops the token on a redirect to any other host), and the
delta links it then gets stay on the auxiliary archive. Archive units are keyed
``<mailbox>/%archief/<path>`` (``%archief`` is never an escaped folder name, so no primary
folder, not even "Archief", collides) and shown as ``<mailbox>/Online archief/<path>``; item
keys are ``<mailbox>:%archief:<message id>``. Primary-mailbox keys are unchanged. The archive is
a mailbox of its own for the client's concurrency slots and failure count
(``<mailbox>/%archief``), so a beta outage never makes the primary mailbox fail fast. Moving or
labelling archive mail is refused as an item error: Graph supports no well-known folder names
in archives and documents only reads there.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, ClassVar
from urllib.parse import urlencode

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
from connectors.graph.client import (
    BATCH_LIMIT,
    IMMUTABLE_ID,
    SYNC_RESET_CODES,
    BatchAnswer,
    BatchRequest,
    GraphClient,
    GraphError,
    path_id,
)
from connectors.graph.config import GraphMailConfig
from connectors.graph.throttle import RETRY_AFTER_STATUSES, parse_retry_after
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
ARCHIVE_SEGMENT = "%archief"
"""Unit-key segment (and item-key part) of the In-Place Archive: never an escaped folder name."""
ARCHIVE_LABEL = "Online archief"
"""How archive folders are shown: ``<mailbox>/Online archief/<path>``."""
ARCHIVE_ACTION_MESSAGE = (
    "niet mogelijk in het online archief via Graph (alleen lezen) / "
    "not possible in the online archive through Graph (read only)"
)
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
        self._scanned: dict[tuple[str, bool], set[str]] = {}
        """(mailbox, archive) -> ids of the folders this source scans (for checking removals)."""
        self._archive_ids: dict[str, str | None] = {}
        """mailbox -> its In-Place Archive's mailbox id (None: no archive)."""
        self._planned: dict[str, tuple[str, str]] = {}
        """unit key -> (mailbox, stored delta link) of the units whose first delta request may
        go into a JSON batch, in crawl order (:meth:`plan`); shared with the siblings."""
        self._listed: dict[str, list[dict[str, Any]]] = {}
        """folder collection (``users/{id}/mailFolders``, ``.../childFolders``) -> its folders,
        listed in JSON batches by :meth:`_prelist` and taken (once) by :meth:`_walk_folders`."""
        self._prefetched: dict[str, tuple[str, BatchAnswer]] = {}
        """unit key -> (delta link, the batch's answer to it): the first page, taken by the
        unit's crawl (:meth:`_first_page`)."""

    def _prefer(self) -> dict[str, str]:
        return {"Prefer": f"{IMMUTABLE_ID}, odata.maxpagesize={self.config.page_size}"}

    # -- units --------------------------------------------------------------------------------

    def mailboxes(self) -> list[str]:
        """Configured mailboxes plus the members of the configured groups, lower-cased, unique."""
        members = group_member_addresses(self.client, self.config.groups) if self.config.groups else []
        return unique_lower([*self.config.mailboxes, *members])

    def units(self) -> Iterator[Unit]:
        self.client.check_sign_in()
        mailboxes = self.mailboxes()
        for start in range(0, len(mailboxes), BATCH_LIMIT):
            chunk = mailboxes[start:start + BATCH_LIMIT]
            self._prelist(chunk)
            try:
                for mailbox in chunk:
                    yield from self._mailbox_units(mailbox)
            finally:
                self._listed.clear()

    def _mailbox_units(self, mailbox: str) -> Iterator[Unit]:
        """The units of one mailbox (and of its archive), or a ``<mailbox>/*`` unit when its
        folders cannot be listed."""
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
            return
        self._scanned[(mailbox, False)] = {f for p, f in folders if f and self.config.wants(p)}
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
        if self.config.archive:
            yield from self._archive_units(mailbox)

    def _archive_units(self, mailbox: str) -> Iterator[Unit]:
        """The folders of ``mailbox``'s In-Place Archive as units (none without an archive).
        When the archive cannot be listed, one ``<mailbox>/%archief/*`` unit stands for it, so
        nothing stored for the archive is closed and the crawl names the problem."""
        prefix = f"{mailbox}/{ARCHIVE_SEGMENT}/"
        try:
            folders = list(self._walk_folders(mailbox, archive=True))
        except (SourceError, GraphError) as exc:
            log.warning("archive folder listing failed for a mailbox: %s", exc)
            yield Unit(key=prefix + "*", label=f"{mailbox}/{ARCHIVE_LABEL}", owner=mailbox,
                       concurrency_key=mailbox, full_listing=False)
            return
        self._scanned[(mailbox, True)] = {f for p, f in folders if f and self.config.wants(f"{ARCHIVE_LABEL}/{p}")}
        for path, folder_id in folders:
            if not self.config.wants(f"{ARCHIVE_LABEL}/{path}"):
                continue
            if folder_id:
                self._folder_ids[prefix + path] = folder_id
            yield Unit(key=prefix + path, label=f"{mailbox}/{ARCHIVE_LABEL}/{path}", owner=mailbox,
                       concurrency_key=mailbox, full_listing=False)

    @property
    def _beta_url(self) -> str:
        """The Graph beta endpoint on the configured host (``.../v1.0`` becomes ``.../beta``)."""
        base = self.config.graph_url
        head, _, last = base.rpartition("/")
        return f"{head}/beta" if last.startswith("v") or last == "beta" else f"{base}/beta"

    def _archive_id(self, mailbox: str) -> str | None:
        """The mailbox id of the user's In-Place Archive (``inPlaceArchiveMailboxId`` of
        ``GET /beta/users/{id}/settings/exchange``; needs User.Read.All), None without one."""
        if mailbox not in self._archive_ids:
            body = self.client.get_json(
                f"{self._beta_url}/users/{path_id(mailbox)}/settings/exchange",
                mailbox=self._account(mailbox, True), what=f"{mailbox}: {ARCHIVE_LABEL.lower()} / online archive",
            )
            found = body.get("inPlaceArchiveMailboxId")
            self._archive_ids[mailbox] = found if isinstance(found, str) and found else None
        return self._archive_ids[mailbox]

    def _box_url(self, mailbox: str, archive: bool) -> str | None:
        """Where the mailbox (or its archive) is addressed; None: the user has no archive."""
        if not archive:
            return f"users/{path_id(mailbox)}"
        archive_id = self._archive_id(mailbox)
        return None if archive_id is None else f"{self._beta_url}/users/{path_id(archive_id)}"

    @staticmethod
    def _account(mailbox: str, archive: bool) -> str:
        """The client's key for concurrency slots and failure counting: the archive is a
        mailbox of its own in Exchange Online."""
        return f"{mailbox}/{ARCHIVE_SEGMENT}" if archive else mailbox

    @staticmethod
    def _in_archive(unit_key: str, mailbox: str) -> bool:
        return unit_key.startswith(f"{mailbox}/{ARCHIVE_SEGMENT}/")

    def _folder_params(self) -> dict[str, str]:
        params = {"$select": FOLDER_FIELDS, "$top": "100"}
        if self.config.include_hidden_folders:
            params["includeHiddenFolders"] = "true"
        return params

    def _walks_into(self, folder: dict[str, Any]) -> bool:
        """Whether the walk lists this folder's child folders (a folder it does not skip, with
        children or not saying)."""
        if self.config.skip_search_folders and folder.get("@odata.type") == SEARCH_FOLDER_TYPE:
            return False
        return bool(folder.get("childFolderCount", 1))

    def _prelist(self, mailboxes: list[str]) -> None:
        """List the folder trees of these mailboxes in JSON batches, level by level: each
        round asks up to :data:`BATCH_LIMIT` collections (a mailbox's top level, a folder's
        child folders, a next page) at once, so 20 mailboxes of 25 folders cost a handful of
        requests instead of hundreds. Only complete, successful collections are kept: whatever
        failed in a batch (403, 5xx, 429, a failed batch) is listed again with plain requests
        by :meth:`_walk_folders`, with exactly the handling it has always had."""
        if not self.config.batch_requests:
            return
        query = "?" + urlencode(self._folder_params(), safe="$,")
        headers = {"Prefer": IMMUTABLE_ID}
        pending: list[tuple[str, str]] = [
            (f"users/{path_id(m)}/mailFolders", f"/users/{path_id(m)}/mailFolders{query}")
            for m in mailboxes if not self.client.failures.blocked(m)
        ]
        partial: dict[str, list[dict[str, Any]]] = {}
        throttled: set[str] = set()
        while pending:
            round_, pending = pending[:BATCH_LIMIT], pending[BATCH_LIMIT:]
            wait = 0.0
            answers = self.client.batch(
                [BatchRequest(id=str(n), url=url, headers=headers) for n, (_, url) in enumerate(round_)],
                what="mappen / folders ($batch)",
            )
            if answers is None:
                return  # the plain walk lists everything not yet complete
            for n, (collection, _) in enumerate(round_):
                answer = answers.get(str(n))
                if answer is not None and answer.status in RETRY_AFTER_STATUSES and collection not in throttled:
                    # Throttled inside the batch: once more in a later round, after the wait
                    # Graph asked for (then, if need be, alone with the plain walk's retries).
                    throttled.add(collection)
                    pending.append(round_[n])
                    wait = max(wait, self._advised_wait(answer))
                    continue
                page = answer.body if answer is not None and answer.status == 200 else None
                value = page.get("value") if isinstance(page, dict) else None
                if not isinstance(page, dict) or not isinstance(value, list):
                    partial.pop(collection, None)
                    continue
                folders = partial.setdefault(collection, [])
                folders.extend(value)
                next_link = page.get("@odata.nextLink")
                if next_link:
                    relative = self.client.relative(next_link) if isinstance(next_link, str) else None
                    if relative is None or not self._own_link(next_link):
                        partial.pop(collection, None)
                    else:
                        pending.append((collection, relative))
                    continue
                self._listed[collection] = partial.pop(collection)
                base = collection.rsplit("/mailFolders", 1)[0]
                for folder in folders:
                    if isinstance(folder, dict) and isinstance(folder.get("id"), str) and self._walks_into(folder):
                        child = f"{base}/mailFolders/{path_id(folder['id'])}/childFolders"
                        pending.append((child, f"/{child}{query}"))
            if wait:
                self.client.policy.sleep(wait)

    def _walk_folders(self, mailbox: str, archive: bool = False) -> Iterator[tuple[str, str]]:
        """Depth-first ``(path, folder id)`` over the whole folder tree of ``mailbox`` (of its
        In-Place Archive with ``archive``; nothing when it has none).

        When the child folders of one folder answer 403, ``("<folder>/*", "")`` stands for the
        part of the tree that could not be seen (the ``/*`` unit-key convention); a 403 on the
        mailbox's top level is the mailbox's own problem and is raised.
        """
        params = self._folder_params()
        headers = {"Prefer": IMMUTABLE_ID}
        box = self._box_url(mailbox, archive)
        if box is None:
            return
        stack: list[tuple[str, str]] = [("", f"{box}/mailFolders")]
        while stack:
            prefix, collection = stack.pop()
            try:
                listed = None if archive else self._listed.pop(collection, None)
                folders = listed if listed is not None else list(self.client.items(
                    collection, mailbox=self._account(mailbox, archive), params=params, headers=headers,
                    what="mappen / folders",
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
                if self._walks_into(folder):
                    stack.append(
                        (
                            path + "/",
                            f"{box}/mailFolders/{path_id(folder['id'])}/childFolders",
                        )
                    )

    def _folder_id(self, unit: Unit, mailbox: str) -> str:
        folder_id = self._folder_ids.get(unit.key)
        if folder_id is None:
            archive = self._in_archive(unit.key, mailbox)
            prefix = f"{mailbox}/{ARCHIVE_SEGMENT}/" if archive else f"{mailbox}/"
            try:
                for path, found in self._walk_folders(mailbox, archive):
                    if found:
                        self._folder_ids[prefix + path] = found
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
        archive = self._in_archive(unit.key, mailbox)
        folder_path = unit.key[len(mailbox) + 1 :]
        if archive:
            folder_path = f"{ARCHIVE_LABEL}/{folder_path[len(ARCHIVE_SEGMENT) + 1:]}"
        stored = decode_cursor(cursor, "folder", "delta")
        resync = None if cursor is None else "opgeslagen cursor onleesbaar / stored cursor unreadable"
        if stored is not None and not self._own_link(stored["delta"]):
            self.warn(unit.key, "cursor_ignored", CURSOR_IGNORED_MESSAGE)
            stored, resync = None, "cursor_ignored"
        if stored is not None:
            try:
                first = self._first_page(unit, mailbox, stored["delta"])
                yield from self._delta(unit, mailbox, folder_path, stored["folder"], stored["delta"], first=first)
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
        box = self._box_url(mailbox, archive)
        if box is None:  # the archive was removed since the units were listed
            raise SourceError(
                "not_found", f"{unit.key}: online archief bestaat niet meer / online archive no longer exists"
            )
        start = f"{box}/mailFolders/{path_id(folder_id)}/messages/delta"
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

    # -- JSON batching of the first delta requests -----------------------------------------------

    def plan(self, units: Sequence[Unit], cursors: Mapping[str, str | None]) -> None:
        """Remember the folders whose crawl starts from a stored deltaLink on the v1.0
        endpoint: their first delta requests go to Graph 20 at a time in one ``$batch``
        (:meth:`_prefetch`). On an unchanged night that first page is all a folder costs, so a
        mailbox of 25 folders costs 2 requests instead of 25. Archive folders (beta, 308
        redirects to auxiliary archives) and folders without a usable cursor are crawled as
        before."""
        if not self.config.batch_requests:
            return
        for unit in units:
            mailbox = unit.owner or unit.key.split("/", 1)[0]
            if unit.key.endswith(BROKEN_SUFFIX) or self._in_archive(unit.key, mailbox):
                continue
            stored = decode_cursor(cursors.get(unit.key), "folder", "delta")
            if stored is None or not self._own_link(stored["delta"]) or self.client.relative(stored["delta"]) is None:
                continue
            self._planned[unit.key] = (mailbox, stored["delta"])

    def _prefetch(self, first_key: str) -> None:
        """Send the first delta requests of ``first_key`` and the next planned folders (up to
        :data:`BATCH_LIMIT`) in one batch and keep the answers for their crawls. When the
        batch fails as a whole, these folders are crawled with plain requests (nothing is
        taken from a failed batch)."""
        keys = [first_key, *(k for k in self._planned if k != first_key)][:BATCH_LIMIT]
        planned = [(k, *self._planned.pop(k)) for k in keys]
        planned = [p for p in planned if not self.client.failures.blocked(p[1])]
        calls = [
            BatchRequest(id=str(n), url=str(self.client.relative(link)), headers=self._prefer())
            for n, (_, _, link) in enumerate(planned)
        ]
        answers = self.client.batch(calls, what="mappen / folders ($batch)") if calls else None
        for n, (key, _, link) in enumerate(planned):
            answer = (answers or {}).get(str(n))
            if answer is not None:
                self._prefetched[key] = (link, answer)

    def _first_page(self, unit: Unit, mailbox: str, link: str) -> dict[str, Any] | None:
        """The batch's answer to this folder's first delta request, as the first page; None:
        ask with a plain request (no batch answer, or one that is not the folder's: a 5xx, a
        429 after its own Retry-After, anything unexpected). A 410 (expired delta token) is
        raised as a plain request's would be, so the folder alone is resynced."""
        if unit.key in self._planned:
            self._prefetch(unit.key)
        found = self._prefetched.pop(unit.key, None)
        if found is None or found[0] != link or self.client.failures.blocked(mailbox):
            return None
        answer = found[1]
        if answer.status == 200 and isinstance(answer.body, dict):
            return answer.body
        if answer.status == 410 or answer.code.lower() in SYNC_RESET_CODES:
            raise GraphError(answer.status, answer.code)
        if answer.status in RETRY_AFTER_STATUSES:
            # Throttled inside the batch: wait what Graph asked for this request, then alone.
            self.client.policy.sleep(self._advised_wait(answer))
        return None

    def _advised_wait(self, answer: BatchAnswer) -> float:
        """The wait a throttled batch response asks for (its own ``Retry-After``; back-off
        without one), bounded by the policy's longest single wait."""
        advice = parse_retry_after(answer.headers.get("retry-after"))
        policy = self.client.policy
        return min(policy.cap, advice if advice is not None else policy.backoff(1))

    @staticmethod
    def _blind(unit: Unit, cursor: str | None) -> CrawlStream:
        """The folder answered 403: a blind spot, not a deletion; the cursor stays where it was,
        so the changes this run could not read are read when access is back."""
        yield access_denied_blind(unit.key)
        yield Cursor(cursor)

    def _crawl_unlisted(self, unit: Unit, mailbox: str) -> CrawlStream:
        """A ``/*`` unit: the listing below this place failed while the units were listed."""
        if unit.key == f"{mailbox}/{ARCHIVE_SEGMENT}{BROKEN_SUFFIX}":
            # The archive (its id or its folder list) could not be read: name it, retry once.
            self._archive_ids.pop(mailbox, None)
            try:
                list(self._walk_folders(mailbox, archive=True))
            except GraphError as exc:
                raise exc.source_error(f"{mailbox}: {ARCHIVE_LABEL.lower()} / online archive") from None
            raise SourceError(
                "unreachable",
                f"{mailbox}: mappen van het online archief waren niet op te halen; volgende run opnieuw / "
                "online archive folders could not be listed; retried next run",
            )
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
        *,
        first: dict[str, Any] | None = None,
    ) -> CrawlStream:
        delta_link: str | None = None
        changes = DeltaRound()
        key_prefix = f"{mailbox}:{ARCHIVE_SEGMENT}:" if self._in_archive(unit.key, mailbox) else f"{mailbox}:"
        for page in self.client.pages(
            start, mailbox=self._account(mailbox, self._in_archive(unit.key, mailbox)), params=params,
            headers=self._prefer(), what=unit.key, first=first,
        ):
            for message in page.get("value", []):
                key = key_prefix + message["id"]
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
        removed = [e.item_key for e in events if isinstance(e, Gone)]
        gone = set(self._really_gone(unit, mailbox, removed))
        for event in events:
            if isinstance(event, Seen) or event.item_key in gone:
                yield event

    def _really_gone(self, unit: Unit, mailbox: str, removed: list[str]) -> list[str]:
        """The removed item keys whose messages are gone from everything this source scans (in
        the same mailbox part: a message leaves the archive only by deletion or by a move
        that its new folder's crawl reports)."""
        if not removed:
            return []
        scanned = self._scanned_folders(unit, mailbox)
        workers = min(len(removed), self.config.max_concurrent_per_mailbox)
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="graph-check") as pool:
            places = list(pool.map(lambda key: self._where(unit, key), removed))
        return [k for k, place in zip(removed, places, strict=True) if place is None or place not in scanned]

    def _where(self, unit: Unit, item_key: str) -> str | None:
        """The folder id a message lies in now, or ``None`` when it no longer exists."""
        mailbox, archive, message_id = self._locate_key(item_key)
        box = self._box_url(mailbox, archive)
        if box is None:
            return None
        try:
            message = self.client.get_json(
                f"{box}/messages/{path_id(message_id)}",
                mailbox=self._account(mailbox, archive),
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
        archive = self._in_archive(unit.key, mailbox)
        if (mailbox, archive) not in self._scanned:
            label = f"{ARCHIVE_LABEL}/" if archive else ""
            self._scanned[(mailbox, archive)] = {
                f for p, f in self._walk_folders(mailbox, archive) if f and self.config.wants(label + p)
            }
        return self._scanned[(mailbox, archive)]

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
    def _locate_key(item_key: str) -> tuple[str, bool, str]:
        """``(mailbox, in the archive, message id)`` of an item key."""
        mailbox, _, rest = item_key.partition(":")
        segment, sep, message_id = rest.partition(":")
        if segment == ARCHIVE_SEGMENT and sep:
            return mailbox, True, message_id
        return mailbox, False, rest

    def fetch(self, ref: ItemRef) -> Fetched:
        """The message as MIME (``$value``), streamed and cut off at ``max_item_bytes``; an
        archive message through beta on the archive's id (a 308 to an auxiliary archive is
        followed by the client)."""
        mailbox, archive, message_id = self._locate_key(ref.item_key)
        limit = self.context.max_item_bytes
        try:
            box = self._box_url(mailbox, archive)
            if box is None:
                raise ItemFetchError("not_found", "online archief bestaat niet meer / online archive no longer exists")
            fetched = self.client.request(
                "GET",
                f"{box}/messages/{path_id(message_id)}/$value",
                mailbox=self._account(mailbox, archive),
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
        not analyse the message again just because of its own label. Not in the archive
        (:data:`ARCHIVE_ACTION_MESSAGE`).
        """
        mailbox, archive, message_id = self._locate_key(ref.item_key)
        if archive:
            raise ItemFetchError("action_failed", ARCHIVE_ACTION_MESSAGE)
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
        keeps it as the same item (moved), with its owner's mark. Archive mail is refused
        (:data:`ARCHIVE_ACTION_MESSAGE`): well-known folder names do not work in archives."""
        mailbox, archive, message_id = self._locate_key(ref.item_key)
        if archive:
            raise ItemFetchError("action_failed", ARCHIVE_ACTION_MESSAGE)
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

    def restore(self, ref: ItemRef) -> str:
        """Move the message back from Verwijderde items to the folder it was moved from
        (``ref.unit_key``, ``<mailbox>/<folder path>``): the same ``message: move`` with that
        folder's id, by immutable id, so a repeat changes nothing. 404 (emptied from
        Verwijderde items: only Outlook's "Recover deleted items" brings it back) and a folder
        that no longer exists are ``not_found``: the teacher does it by hand."""
        mailbox, archive, message_id = self._locate_key(ref.item_key)
        if archive or self._in_archive(ref.unit_key, mailbox) or not ref.unit_key.startswith(f"{mailbox}/"):
            raise ItemFetchError("action_failed", ARCHIVE_ACTION_MESSAGE)
        unit = Unit(key=ref.unit_key, label=ref.unit_key, owner=mailbox, concurrency_key=mailbox,
                    full_listing=False)
        try:
            folder_id = self._folder_id(unit, mailbox)
            self.client.request(
                "POST", f"users/{path_id(mailbox)}/messages/{path_id(message_id)}/move",
                mailbox=mailbox, headers={"Prefer": IMMUTABLE_ID}, json={"destinationId": folder_id},
                what="terugzetten / restore", item=True, idempotent=True,
            )
        except GraphError as exc:
            if exc.status == 404 and exc.code.lower() == "erroritemnotfound":
                raise ItemFetchError("not_found", "niet meer in Verwijderde items / not in Deleted Items") from None
            raise action_error(exc) from None
        except SourceError as exc:
            if exc.code == "not_found":
                raise ItemFetchError("not_found", "de map bestaat niet meer / the folder no longer exists") from None
            raise action_error(exc) from None
        return ref.unit_key[len(mailbox) + 1:]

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
