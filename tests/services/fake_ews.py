"""A small Exchange Web Services server on loopback for the EWS connector tests.

It answers the SOAP operations the connector drives through exchangelib, with the response
shapes Exchange 2016 sends (namespaces ``m:``/``t:``, ``ResponseClass``/``ResponseCode``,
``RootFolder`` paging attributes, ``SyncState`` + ``IncludesLastItemInRange``, SOAP faults with
``BackOffMilliseconds``): GetFolder, FindFolder (deep, paged), SyncFolderItems (paged with a
real change log), GetItem (MimeContent base64), UpdateItem (categories), CreateItem
(MimeContent, SendAndSaveCopy), MoveItem (to a folder id or a distinguished folder such as
``deleteditems``; the moved item gets a new ItemId, returned in the response, as Exchange does;
an unknown id is ``ErrorItemNotFound``). A mailbox may have an In-Place Archive
(:meth:`FakeExchange.add_archive`): the distinguished folders ``archiveroot``,
``archivemsgfolderroot`` and ``archivedeleteditems`` resolve in it, and for a mailbox without one
they are ``ErrorFolderNotFound``, as Exchange answers. Basic authentication and the ExchangeImpersonation header are
checked, so wrong passwords and denied impersonation are real failures, not simulated ones.

The mailbox contents live in :class:`FakeExchange`, which tests change between crawls
(new mail, deleted mail, moved categories, a folder deleted and made again) exactly like a
user would. Faults follow Microsoft's documented ResponseCodeType: :meth:`FakeExchange.fail`
schedules a response code for the next calls of an operation (``ErrorServerBusy`` as the SOAP
fault with ``BackOffMilliseconds`` that Exchange sends, the others as an ``Error`` response
message), :meth:`FakeExchange.invalidate_sync_states` makes every issued sync state invalid
(as a mailbox move does: ``ErrorInvalidSyncStateData``), and ``calls`` logs every request
with the folder, whether a sync state was sent, and the item ids asked for.
"""

from __future__ import annotations

import base64
import itertools
import ssl
import threading
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

S = "http://schemas.xmlsoap.org/soap/envelope/"
M = "http://schemas.microsoft.com/exchange/services/2006/messages"
T = "http://schemas.microsoft.com/exchange/services/2006/types"
E = "http://schemas.microsoft.com/exchange/services/2006/errors"

# The accounts the tests use.
SERVICE_USER = "svc-schoonschip@school.nl"
SERVICE_PASSWORD = "Welkom01!"
JUF = "juf.jansen@school.nl"
MEESTER = "meester.bakker@school.nl"


@dataclass
class FakeItem:
    id: str
    subject: str
    received: datetime
    mime: bytes
    categories: list[str] = field(default_factory=list)
    version: int = 1

    @property
    def changekey(self) -> str:
        return f"CQAAABYAAA{self.version:04d}"


@dataclass
class FakeFolder:
    id: str
    name: str
    parent: str | None
    folder_class: str = "IPF.Note"
    items: dict[str, FakeItem] = field(default_factory=dict)
    log: list[tuple[int, str, str]] = field(default_factory=list)  # (seq, kind, item id)


class FakeExchange:
    """The state of the fake server: mailboxes, folders, items, a change log per folder.

    ``auth`` is ``"basic"`` (checked against username/password) or ``"ntlm"`` (a real NTLM
    handshake verified by pyspnego's acceptor against the file named by ``NTLM_USER_FILE``).
    """

    def __init__(self, username: str, password: str, auth: str = "basic") -> None:
        self.username, self.password = username, password
        self.auth = auth
        self.lock = threading.RLock()
        self.mailboxes: dict[str, dict[str, FakeFolder]] = {}
        self.roots: dict[str, str] = {}
        self.archive_roots: dict[str, str] = {}  # mailbox -> id of its archiveroot
        self.archive_down: dict[str, str] = {}  # mailbox -> response code for its archive folders
        self.impersonation_allowed: set[str] = set()
        self.read_only: set[str] = set()  # mailboxes the account may read but not change
        self.busy: dict[str, int] = {}  # operation -> how many times to answer ErrorServerBusy
        self.busy_backoff_ms = 100
        self.requests: list[str] = []  # operation names, in order
        self.calls: list[dict] = []  # one entry per operation: folder, had a sync state, item ids
        self.faults: list[list] = []  # [operation, response code, times left, back-off ms]
        self.state_epoch = 0  # sync states carry it; bumping it invalidates all of them
        self.sent: list[tuple[str, bytes]] = []
        self._seq = itertools.count(1)
        self._ids = itertools.count(1)

    # --- building a mailbox ---------------------------------------------------------------

    def _id(self, mailbox: str, prefix: str) -> str:
        raw = f"{prefix}:{mailbox}:{next(self._ids)}:+/".encode()
        return "AAMkAD" + base64.b64encode(raw).decode()

    def add_mailbox(self, mailbox: str, impersonation: bool = True) -> None:
        with self.lock:
            folders: dict[str, FakeFolder] = {}
            root = FakeFolder(self._id(mailbox, "F"), "root", None, "")
            top = FakeFolder(self._id(mailbox, "F"), "Bovenkant van gegevensarchief", root.id, "IPF.Note")
            folders[root.id] = root
            folders[top.id] = top
            self.mailboxes[mailbox] = folders
            self.roots[mailbox] = root.id
            for name, cls in (("Postvak IN", "IPF.Note"), ("Verzonden items", "IPF.Note"),
                              ("Verwijderde items", "IPF.Note"), ("Agenda", "IPF.Appointment"),
                              ("Contactpersonen", "IPF.Contact")):
                self.add_folder(mailbox, name, cls)
            if impersonation:
                self.impersonation_allowed.add(mailbox)

    def add_archive(self, mailbox: str) -> None:
        """Give ``mailbox`` an In-Place Archive: its own root (``archiveroot``), message-folder
        root (``archivemsgfolderroot``) and the folders Exchange makes in it."""
        with self.lock:
            folders = self.mailboxes[mailbox]
            root = FakeFolder(self._id(mailbox, "F"), "root", None, "")
            top = FakeFolder(self._id(mailbox, "F"), "Bovenkant van gegevensarchief", root.id, "IPF.Note")
            folders[root.id] = root
            folders[top.id] = top
            self.archive_roots[mailbox] = root.id
            self.add_folder(mailbox, "Verwijderde items", archive=True)

    def msgroot(self, mailbox: str, archive: bool = False) -> FakeFolder:
        root_id = self.archive_roots[mailbox] if archive else self.roots[mailbox]
        return next(f for f in self.mailboxes[mailbox].values() if f.parent == root_id)

    def fail(self, operation: str, code: str, times: int = 1, backoff_ms: int | None = None) -> None:
        """Answer the next ``times`` calls of ``operation`` with the response code ``code``."""
        with self.lock:
            self.faults.append([operation, code, times, backoff_ms])

    def next_fault(self, operation: str) -> tuple[str, int | None] | None:
        with self.lock:
            for fault_ in self.faults:
                if fault_[0] == operation and fault_[2] > 0:
                    fault_[2] -= 1
                    return fault_[1], fault_[3]
        return None

    def invalidate_sync_states(self) -> None:
        with self.lock:
            self.state_epoch += 1

    def folder(self, mailbox: str, path: str | tuple[str, ...], archive: bool = False) -> FakeFolder:
        """A folder by its path below the message-folder root (of the archive with ``archive``):
        ``"A/B"``, or a tuple of names for names that hold ``/`` themselves."""
        current = self.msgroot(mailbox, archive)
        for name in (path.split("/") if isinstance(path, str) else path):
            current = next(f for f in self.mailboxes[mailbox].values()
                           if f.parent == current.id and f.name == name)
        return current

    def add_folder(self, mailbox: str, path: str | tuple[str, ...], folder_class: str = "IPF.Note",
                   archive: bool = False) -> FakeFolder:
        with self.lock:
            names = tuple(path.split("/")) if isinstance(path, str) else tuple(path)
            parent = (self.folder(mailbox, names[:-1], archive) if len(names) > 1
                      else self.msgroot(mailbox, archive))
            name = names[-1]
            folder = FakeFolder(self._id(mailbox, "F"), name, parent.id, folder_class)
            self.mailboxes[mailbox][folder.id] = folder
            return folder

    def delete_folder(self, mailbox: str, path: str | tuple[str, ...]) -> None:
        with self.lock:
            folder = self.folder(mailbox, path)
            del self.mailboxes[mailbox][folder.id]

    def add_item(self, mailbox: str, path: str | tuple[str, ...], subject: str, mime: bytes,
                 received: datetime | None = None, categories: list[str] | None = None,
                 archive: bool = False) -> FakeItem:
        with self.lock:
            folder = self.folder(mailbox, path, archive)
            item = FakeItem(self._id(mailbox, "I"), subject, received or datetime.now(UTC),
                            mime, list(categories or []))
            folder.items[item.id] = item
            folder.log.append((next(self._seq), "create", item.id))
            return item

    def delete_item(self, mailbox: str, path: str | tuple[str, ...], item_id: str,
                    archive: bool = False) -> None:
        with self.lock:
            folder = self.folder(mailbox, path, archive)
            del folder.items[item_id]
            folder.log.append((next(self._seq), "delete", item_id))

    def touch_item(self, mailbox: str, path: str, item_id: str, categories: list[str]) -> None:
        with self.lock:
            folder = self.folder(mailbox, path)
            self._update(folder, folder.items[item_id], categories)

    def mark_read(self, mailbox: str, path: str, item_id: str) -> None:
        with self.lock:
            self.folder(mailbox, path).log.append((next(self._seq), "read", item_id))

    def _update(self, folder: FakeFolder, item: FakeItem, categories: list[str]) -> None:
        item.categories = categories
        item.version += 1
        folder.log.append((next(self._seq), "update", item.id))

    def find_item(self, item_id: str) -> tuple[FakeFolder, FakeItem] | None:
        for folders in self.mailboxes.values():
            for folder in folders.values():
                if item_id in folder.items:
                    return folder, folder.items[item_id]
        return None

    def mailbox_of(self, some_id: str) -> str | None:
        try:
            return base64.b64decode(some_id[len("AAMkAD"):]).decode().split(":")[1]
        except Exception:  # noqa: BLE001
            return None


# --- SOAP helpers ------------------------------------------------------------------------------


def envelope(body: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        f'<s:Envelope xmlns:s="{S}"><s:Header>'
        f'<h:ServerVersionInfo MajorVersion="15" MinorVersion="1" MajorBuildNumber="2507" '
        f'MinorBuildNumber="6" Version="V2017_07_11" xmlns:h="{T}" xmlns="{T}" '
        'xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"/>'
        f"</s:Header><s:Body>{body}</s:Body></s:Envelope>"
    ).encode()


def response(operation: str, messages: list[str]) -> bytes:
    return envelope(
        f'<m:{operation}Response xmlns:m="{M}" xmlns:t="{T}"><m:ResponseMessages>'
        + "".join(messages)
        + f"</m:ResponseMessages></m:{operation}Response>"
    )


def ok(operation: str, inner: str) -> str:
    return (
        f'<m:{operation}ResponseMessage ResponseClass="Success"><m:ResponseCode>NoError</m:ResponseCode>'
        f"{inner}</m:{operation}ResponseMessage>"
    )


def error(operation: str, code: str, text: str, tail: str = "") -> str:
    return (
        f'<m:{operation}ResponseMessage ResponseClass="Error"><m:MessageText>{escape(text)}</m:MessageText>'
        f"<m:ResponseCode>{code}</m:ResponseCode><m:DescriptiveLinkKey>0</m:DescriptiveLinkKey>{tail}"
        f"</m:{operation}ResponseMessage>"
    )


# Exchange writes the (empty) sync elements into error responses too; exchangelib reads them.
SYNC_ERROR_TAIL = "<m:SyncState/><m:IncludesLastItemInRange>true</m:IncludesLastItemInRange>"


def fault(code: str, text: str, backoff_ms: int | None = None) -> bytes:
    extra = (
        f'<t:MessageXml xmlns:t="{T}"><t:Value Name="BackOffMilliseconds">{backoff_ms}</t:Value></t:MessageXml>'
        if backoff_ms is not None else ""
    )
    return envelope(
        f'<s:Fault><faultcode xmlns:a="{T}">a:{code}</faultcode>'
        f'<faultstring xml:lang="en-US">{escape(text)}</faultstring><detail>'
        f'<e:ResponseCode xmlns:e="{E}">{code}</e:ResponseCode>'
        f'<e:Message xmlns:e="{E}">{escape(text)}</e:Message>{extra}</detail></s:Fault>'
    )


def folder_xml(folder: FakeFolder) -> str:
    parent = f'<t:ParentFolderId Id={quoteattr(folder.parent)} ChangeKey="AQAAAA=="/>' if folder.parent else ""
    cls = f"<t:FolderClass>{folder.folder_class}</t:FolderClass>" if folder.folder_class else ""
    return (
        f'<t:Folder><t:FolderId Id={quoteattr(folder.id)} ChangeKey="AQAAABYAAAA="/>{parent}{cls}'
        f"<t:DisplayName>{escape(folder.name)}</t:DisplayName>"
        f"<t:TotalCount>{len(folder.items)}</t:TotalCount><t:ChildFolderCount>0</t:ChildFolderCount>"
        f"<t:UnreadCount>0</t:UnreadCount></t:Folder>"
    )


def item_xml(item: FakeItem, folder: FakeFolder, mime: bool = False) -> str:
    categories = "".join(f"<t:String>{escape(c)}</t:String>" for c in item.categories)
    mime_xml = (
        f'<t:MimeContent CharacterSet="UTF-8">{base64.b64encode(item.mime).decode()}</t:MimeContent>'
        if mime else ""
    )
    return (
        f"<t:Message>{mime_xml}<t:ItemId Id={quoteattr(item.id)} ChangeKey={quoteattr(item.changekey)}/>"
        f'<t:ParentFolderId Id={quoteattr(folder.id)} ChangeKey="AQAAAA=="/>'
        f"<t:Subject>{escape(item.subject)}</t:Subject>"
        f"<t:DateTimeReceived>{item.received.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}</t:DateTimeReceived>"
        f"<t:Size>{len(item.mime)}</t:Size>"
        + (f"<t:Categories>{categories}</t:Categories>" if item.categories else "")
        + "</t:Message>"
    )


# --- the HTTP handler ---------------------------------------------------------------------


class Handler(BaseHTTPRequestHandler):
    server: FakeEwsServer
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:  # keep test output quiet
        pass

    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "text/xml; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        exchange = self.server.exchange
        if not self._authenticated(exchange):
            return
        root = ET.fromstring(body)
        header = root.find(f"{{{S}}}Header")
        request = root.find(f"{{{S}}}Body")[0]
        operation = request.tag.split("}")[1]
        with exchange.lock:
            exchange.requests.append(operation)
            scheduled = exchange.next_fault(operation)
            if scheduled is not None:
                code, backoff = scheduled
                if code == "ErrorServerBusy":
                    self._send(500, fault(code, "The server cannot service this request right now.", backoff))
                else:
                    tail = SYNC_ERROR_TAIL if operation == "SyncFolderItems" else ""
                    self._send(200, response(operation, [error(operation, code, f"{code} (fault schedule)", tail)]))
                return
            if exchange.busy.get(operation, 0) > 0:
                exchange.busy[operation] -= 1
                self._send(500, fault("ErrorServerBusy", "The server cannot service this request right now."
                                      " Try again later.", exchange.busy_backoff_ms))
                return
            impersonated = None
            if header is not None:
                address = header.find(f".//{{{T}}}ExchangeImpersonation//{{{T}}}PrimarySmtpAddress")
                impersonated = address.text if address is not None else None
            if impersonated is not None and impersonated not in exchange.impersonation_allowed:
                self._send(500, fault("ErrorImpersonateUserDenied",
                                      "The account does not have permission to impersonate the requested user."))
                return
            handler = getattr(self, f"op_{operation}", None)
            if handler is None:
                self._send(500, fault("ErrorInvalidRequest", f"Unsupported operation {operation}"))
                return
            self._send(200, handler(request, exchange))

    _ntlm = None  # the NTLM acceptor of this connection, between challenge and response

    def _authenticated(self, exchange: FakeExchange) -> bool:
        """Check the Authorization header; answer 401 (with a challenge) and return False if
        the request may not proceed."""
        header = self.headers.get("Authorization", "")
        if exchange.auth == "basic":
            expected = "Basic " + base64.b64encode(f"{exchange.username}:{exchange.password}".encode()).decode()
            if header == expected:
                return True
            self._send(401, b"", {"WWW-Authenticate": 'Basic realm="mail.school.nl"'})
            return False
        import spnego
        import spnego.exceptions

        if not header.startswith("NTLM "):
            self._send(401, b"", {"WWW-Authenticate": "NTLM"})
            return False
        token = base64.b64decode(header[5:])
        if self._ntlm is None or token[8:12] == b"\x01\x00\x00\x00":  # NEGOTIATE starts over
            self._ntlm = spnego.server(protocol="ntlm")
        try:
            answer = self._ntlm.step(token)
        except spnego.exceptions.SpnegoError:
            self._ntlm = None
            self._send(401, b"", {"WWW-Authenticate": "NTLM"})
            return False
        if not self._ntlm.complete:
            self._send(401, b"", {"WWW-Authenticate": "NTLM " + base64.b64encode(answer or b"").decode()})
            return False
        self._ntlm = None
        return True

    # --- operations --------------------------------------------------------------------------

    def _resolve_folder(self, elem: ET.Element, exchange: FakeExchange) -> FakeFolder | None:
        if elem.tag == f"{{{T}}}DistinguishedFolderId":
            mailbox_elem = elem.find(f"{{{T}}}Mailbox/{{{T}}}EmailAddress")
            mailbox = mailbox_elem.text if mailbox_elem is not None else None
            if mailbox not in exchange.mailboxes:
                return None
            distinguished = elem.get("Id")
            if distinguished == "root":
                return exchange.mailboxes[mailbox][exchange.roots[mailbox]]
            if distinguished == "msgfolderroot":
                return exchange.msgroot(mailbox)
            if distinguished.startswith("archive"):
                # Documented as ErrorFolderNotFound for a mailbox without an archive.
                if mailbox not in exchange.archive_roots:
                    return None
                if distinguished == "archiveroot":
                    return exchange.mailboxes[mailbox][exchange.archive_roots[mailbox]]
                if distinguished == "archivemsgfolderroot":
                    return exchange.msgroot(mailbox, archive=True)
                if distinguished == "archivedeleteditems":
                    return exchange.folder(mailbox, "Verwijderde items", archive=True)
                return None
            names = {"inbox": "Postvak IN", "sentitems": "Verzonden items", "deleteditems": "Verwijderde items"}
            if distinguished in names:
                return exchange.folder(mailbox, names[distinguished])
            return None
        mailbox = exchange.mailbox_of(elem.get("Id", ""))
        return exchange.mailboxes.get(mailbox, {}).get(elem.get("Id"))

    def op_GetFolder(self, request: ET.Element, exchange: FakeExchange) -> bytes:
        messages = []
        for elem in request.find(f"{{{M}}}FolderIds"):
            mailbox_elem = elem.find(f"{{{T}}}Mailbox/{{{T}}}EmailAddress")
            down = exchange.archive_down.get(mailbox_elem.text if mailbox_elem is not None else "")
            if down and (elem.get("Id") or "").startswith("archive"):  # the archive's store is away
                messages.append(error("GetFolder", down, f"{down} (archive)", "<m:Folders/>"))
                continue
            folder = self._resolve_folder(elem, exchange)
            if folder is None:
                messages.append(error("GetFolder", "ErrorFolderNotFound", "The specified folder could not be found.",
                                      "<m:Folders/>"))
            else:
                messages.append(ok("GetFolder", f"<m:Folders>{folder_xml(folder)}</m:Folders>"))
        return response("GetFolder", messages)

    def op_FindFolder(self, request: ET.Element, exchange: FakeExchange) -> bytes:
        deep = request.get("Traversal") == "Deep"
        view = request.find(f"{{{M}}}IndexedPageFolderView")
        offset = int(view.get("Offset", "0")) if view is not None else 0
        limit = int(view.get("MaxEntriesReturned", "1000")) if view is not None else 1000
        messages = []
        for elem in request.find(f"{{{M}}}ParentFolderIds"):
            parent = self._resolve_folder(elem, exchange)
            if parent is None:
                messages.append(error("FindFolder", "ErrorFolderNotFound", "The specified folder could not be found."))
                continue
            folders = exchange.mailboxes[exchange.mailbox_of(parent.id)]
            found, queue = [], [parent.id]
            while queue:
                current = queue.pop(0)
                children = [f for f in folders.values() if f.parent == current]
                found.extend(children)
                if deep:
                    queue.extend(c.id for c in children)
            page = found[offset:offset + limit]
            last = offset + len(page) >= len(found)
            messages.append(ok("FindFolder", (
                f'<m:RootFolder IndexedPagingOffset="{offset + len(page)}" TotalItemsInView="{len(found)}" '
                f'IncludesLastItemInRange="{str(last).lower()}"><t:Folders>'
                + "".join(folder_xml(f) for f in page) + "</t:Folders></m:RootFolder>"
            )))
        return response("FindFolder", messages)

    def op_SyncFolderItems(self, request: ET.Element, exchange: FakeExchange) -> bytes:
        folder = self._resolve_folder(request.find(f"{{{M}}}SyncFolderId")[0], exchange)
        state_elem = request.find(f"{{{M}}}SyncState")
        exchange.calls.append({"op": "SyncFolderItems", "folder": folder.id if folder else None,
                               "state": bool(state_elem is not None and state_elem.text)})
        if folder is None:  # documented for "a folder that cannot be found on the server"
            return response("SyncFolderItems", [error("SyncFolderItems", "ErrorSyncFolderNotFound",
                                                      "The specified folder could not be found.", SYNC_ERROR_TAIL)])
        since = 0
        if state_elem is not None and state_elem.text:
            try:
                folder_id, epoch, seq = base64.b64decode(state_elem.text).decode().split("|")
                since = int(seq)
                if folder_id != folder.id or int(epoch) != exchange.state_epoch:
                    raise ValueError
            except ValueError:
                return response("SyncFolderItems", [error(
                    "SyncFolderItems", "ErrorInvalidSyncStateData",
                    "Synchronization state data is corrupt or otherwise invalid.", SYNC_ERROR_TAIL)])
        limit = int(request.find(f"{{{M}}}MaxChangesReturned").text)
        # Net change per item since 'since', ordered by the item's last change.
        first_seen: dict[str, int] = {}
        last: dict[str, tuple[int, str]] = {}
        for seq, kind, item_id in folder.log:
            if seq <= since:
                continue
            first_seen.setdefault(item_id, seq)
            previous = last.get(item_id, (0, ""))[1]
            if kind == "read" and previous in ("create", "update"):
                kind = previous
            last[item_id] = (seq, kind)
        created_before = {item_id for seq, kind, item_id in folder.log if seq <= since and kind == "create"}
        changes = []
        for item_id, (seq, kind) in sorted(last.items(), key=lambda kv: kv[1][0]):
            existed = item_id in created_before
            if kind == "delete":
                if existed:
                    changes.append((seq, f'<t:Delete><t:ItemId Id={quoteattr(item_id)} ChangeKey="AAAA"/></t:Delete>'))
                continue
            if kind == "read":
                item = folder.items[item_id]
                changes.append((seq, f"<t:ReadFlagChange><t:ItemId Id={quoteattr(item_id)} "
                                     f"ChangeKey={quoteattr(item.changekey)}/><t:IsRead>true</t:IsRead>"
                                     "</t:ReadFlagChange>"))
                continue
            tag = "Update" if existed else "Create"
            changes.append((seq, f"<t:{tag}>{item_xml(folder.items[item_id], folder)}</t:{tag}>"))
        page = changes[:limit]
        new_since = page[-1][0] if page else max([since] + [s for s, _, _ in folder.log])
        state = base64.b64encode(f"{folder.id}|{exchange.state_epoch}|{new_since}".encode()).decode()
        last_in_range = len(page) == len(changes)
        return response("SyncFolderItems", [ok("SyncFolderItems", (
            f"<m:SyncState>{state}</m:SyncState>"
            f"<m:IncludesLastItemInRange>{str(last_in_range).lower()}</m:IncludesLastItemInRange>"
            "<m:Changes>" + "".join(xml for _, xml in page) + "</m:Changes>"
        ))])

    def op_GetItem(self, request: ET.Element, exchange: FakeExchange) -> bytes:
        wants_mime = any(f.get("FieldURI") == "item:MimeContent" for f in request.iter(f"{{{T}}}FieldURI"))
        messages = []
        exchange.calls.append({"op": "GetItem", "items": [e.get("Id", "") for e in request.find(f"{{{M}}}ItemIds")],
                               "mime": wants_mime})
        for elem in request.find(f"{{{M}}}ItemIds"):
            found = exchange.find_item(elem.get("Id", ""))
            if found is None:
                messages.append(error("GetItem", "ErrorItemNotFound",
                                      "The specified object was not found in the store.", "<m:Items/>"))
            else:
                folder, item = found
                messages.append(ok("GetItem", f"<m:Items>{item_xml(item, folder, wants_mime)}</m:Items>"))
        return response("GetItem", messages)

    def op_UpdateItem(self, request: ET.Element, exchange: FakeExchange) -> bytes:
        messages = []
        for change in request.iter(f"{{{T}}}ItemChange"):
            item_id = change.find(f"{{{T}}}ItemId")
            found = exchange.find_item(item_id.get("Id", ""))
            if found is None:
                messages.append(error("UpdateItem", "ErrorItemNotFound", "The specified object was not found."))
                continue
            folder, item = found
            if item_id.get("ChangeKey") != item.changekey:
                messages.append(error("UpdateItem", "ErrorIrresolvableConflict",
                                      "The send or update operation could not be performed because the change key"
                                      " passed in the request does not match the current change key for the item."))
                continue
            categories = item.categories
            for update in change.find(f"{{{T}}}Updates"):
                uri = update.find(f"{{{T}}}FieldURI")
                if uri is None or uri.get("FieldURI") != "item:Categories":
                    continue
                if update.tag == f"{{{T}}}DeleteItemField":
                    categories = []
                else:
                    categories = [s.text or "" for s in update.iter(f"{{{T}}}String")]
            exchange._update(folder, item, categories)
            messages.append(ok("UpdateItem", (
                f"<m:Items><t:Message><t:ItemId Id={quoteattr(item.id)} ChangeKey={quoteattr(item.changekey)}/>"
                "</t:Message></m:Items><m:ConflictResults><t:Count>0</t:Count></m:ConflictResults>"
            )))
        return response("UpdateItem", messages)

    def op_MoveItem(self, request: ET.Element, exchange: FakeExchange) -> bytes:
        target_elem = request.find(f"{{{M}}}ToFolderId")[0]
        target = self._resolve_folder(target_elem, exchange)
        ids = [e.get("Id", "") for e in request.find(f"{{{M}}}ItemIds")]
        exchange.calls.append({"op": "MoveItem", "items": ids, "to": target.name if target else None})
        messages = []
        for item_id in ids:
            found = exchange.find_item(item_id)
            if found is None:
                messages.append(error("MoveItem", "ErrorItemNotFound",
                                      "The specified object was not found in the store.", "<m:Items/>"))
                continue
            if target is None:
                messages.append(error("MoveItem", "ErrorFolderNotFound", "The specified folder could not be found.",
                                      "<m:Items/>"))
                continue
            folder, item = found
            if exchange.mailbox_of(folder.id) in exchange.read_only:
                messages.append(error("MoveItem", "ErrorAccessDenied", "Access is denied.", "<m:Items/>"))
                continue
            with exchange.lock:
                del folder.items[item.id]
                folder.log.append((next(exchange._seq), "delete", item.id))
                item.id = exchange._id(exchange.mailbox_of(target.id) or "", "I")
                item.version += 1
                target.items[item.id] = item
                target.log.append((next(exchange._seq), "create", item.id))
            messages.append(ok("MoveItem", (
                f"<m:Items><t:Message><t:ItemId Id={quoteattr(item.id)} ChangeKey={quoteattr(item.changekey)}/>"
                "</t:Message></m:Items>"
            )))
        return response("MoveItem", messages)

    def op_CreateItem(self, request: ET.Element, exchange: FakeExchange) -> bytes:
        messages = []
        for mime in request.iter(f"{{{T}}}MimeContent"):
            exchange.sent.append((request.get("MessageDisposition", ""), base64.b64decode(mime.text or "")))
            messages.append(ok("CreateItem", "<m:Items/>"))
        return response("CreateItem", messages)


class FakeEwsServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, exchange: FakeExchange, tls: tuple[Path, Path] | None = None) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.exchange = exchange
        self.tls = tls is not None
        if tls is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(str(tls[0]), str(tls[1]))
            self.socket = context.wrap_socket(self.socket, server_side=True)
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def endpoint(self) -> str:
        scheme, host = ("https", "localhost") if self.tls else ("http", "127.0.0.1")
        return f"{scheme}://{host}:{self.server_address[1]}/EWS/Exchange.asmx"

    def start(self) -> FakeEwsServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
        self.thread.join(timeout=5)


def make_certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for localhost/127.0.0.1 (its own CA), made in-process."""
    import ipaddress
    from datetime import timedelta

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName(
            [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "ews-cert.pem", directory / "ews-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path
