"""A local fake of Entra ID and Microsoft Graph for the connector tests.

It speaks the documented shapes, over TLS on 127.0.0.1 (msal accepts only https
authorities): OpenID discovery and the OAuth2 client-credentials token endpoint (client
secret or a signed client assertion, verified against the app certificate), users, group
members, mailFolders/childFolders (hidden and search folders), per-folder message delta with
``@odata.nextLink``/``@odata.deltaLink`` and ``@removed``, ``$value``, categories PATCH,
sendMail (base64 MIME), drives, drive delta with the ``deleted`` facet, item lookup, and
``/content`` with a 302 to an unauthenticated download URL on another host name. Actions:
``POST /users/{id}/messages/{id}/move`` (``destinationId`` a folder id or a well-known name such
as ``deleteditems``; 201 Created with the moved message; the id changes unless the request
asks for immutable ids; 404 ``ErrorItemNotFound`` for a message that is gone) and
``DELETE /drives/{id}/items/{id}`` (204 No Content; the item goes to the drive's recycle bin
and delta reports it ``deleted``; 404 ``itemNotFound`` once it is there). An app without write
permission (:attr:`FakeGraph.read_only_app`) gets 403 ``ErrorAccessDenied`` / ``accessDenied``.

Faults follow a SCHEDULE: a list of (request matcher, fault) entries, consumed in order (the
first entry whose regex matches ``METHOD /path`` and has uses left answers the request), on
every endpoint: Graph, the download host and Entra's token endpoint. The faults are the ones
Microsoft documents: 429 / 503 / 504 with ``Retry-After`` (Graph throttling guidance), 500,
401 ``InvalidAuthenticationToken`` (the presented token is treated as expired), 403
``ErrorAccessDenied``, 410 on a delta token (mail: ``SyncStateNotFound``; drives:
``resyncChangesApplyDifferences`` with a ``Location`` header holding a fresh delta link, as
the driveItem delta page says), a dropped connection, a connection reset half-way through a
body (``$value`` or a download), and on the token endpoint 429 with ``Retry-After`` and a body
that is not JSON ("Too Many Requests", as Entra sends it) or 5xx.

The world can also hold lasting states: a folder or a whole mailbox the app may not read
(403), items a delta round lists twice ("the same item may appear more than once in a delta
feed ... use the last occurrence"), and business drives whose delta, as documented for
OneDrive for Business, carries no ``cTag`` (and on deletion no ``name``), gives
``file.hashes.quickXorHash`` and changes ``eTag`` on a rename. A delta round's membership is
fixed when it starts and every page renders the current state of its items, so an item
changed during a round shows its latest state, as Graph does.

Archive mailboxes (In-Place Archive, Graph beta only, as "Use the Mail API with Exchange archive
mailboxes" documents): ``GET /beta/users/{id}/settings/exchange`` gives ``primaryMailboxId`` and
``inPlaceArchiveMailboxId`` (``MBX:<guid>@<tenant>``; absent for a user without an archive); the
archive is addressed by that id only, on ``/beta`` only (v1.0 answers 404), with the same
mailFolders/childFolders/messages/delta/``$value`` routes as a primary mailbox. A folder
expanded to an auxiliary archive (:meth:`FakeGraph.expand_folder`, auto-expanding archiving)
answers its message reads and delta with ``308 Permanent Redirect`` and a ``Location`` on the
auxiliary mailbox's id, whose links then stay there, as "Handle archive mailbox redirects" shows.

The server also enforces Exchange's limit of 4 concurrent requests per mailbox (answering 429
above it) and LOGS every request with its answer (:attr:`FakeGraph.log`), so tests count on
the server side what was fetched.

JSON batching (``POST /v1.0/$batch``, "Combine multiple HTTP requests using JSON batching"):
``{"requests": [{"id", "method", "url", "headers"?, "body"?, "dependsOn"?}]}``, at most 20
requests (400 otherwise), ids unique, ``url`` relative to the version (``/users/...``; an
absolute or ``/v1.0``-prefixed url answers that request 400). Each inner request is served like a
request of its own (token of the batch, per-mailbox concurrency, the fault schedule matched on
its own path, so one inner request can get its 429 with its own ``Retry-After``, its 410
``SyncStateNotFound`` or its 5xx while the batch answers 200) and is logged with
``batched=True``; the ``responses`` come back shuffled (the documentation: "might appear in a
different order"), each with ``id``, ``status``, ``headers`` and ``body`` (JSON as an object,
other content base64). ``dependsOn`` runs the batch in its order; a request whose dependency
failed answers 424 (Failed Dependency), a dependency on an id not before it in the batch is a
400 for the whole batch. The batch itself takes the schedule's faults on ``/$batch`` (429 or
503 for the whole batch). :attr:`FakeGraph.batch_requests` counts batches and
:attr:`FakeGraph.batched_requests` the requests inside them.
"""

from __future__ import annotations

import base64
import email.message
import hashlib
import itertools
import json
import random
import re
import secrets
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

import jwt
from cryptography import x509

from .graph_tls import CertFiles, serve_tls

MAILBOX_CONCURRENCY = 4
BATCH_LIMIT = 20
"""Requests one JSON batch may hold (Microsoft Graph JSON batching)."""


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode()


def _unb64(token: str) -> dict[str, Any]:
    return json.loads(base64.urlsafe_b64decode(token.encode()))


def _graph_id(prefix: str, n: int) -> str:
    """Ids shaped like Exchange's (base64 with ``-``, ``_`` and ``=`` padding)."""
    raw = f"{prefix}-{n:06d}".encode()
    return "AAMkAD" + base64.urlsafe_b64encode(raw).decode() + "_x-="


@dataclass
class Folder:
    id: str
    name: str
    parent_id: str | None
    hidden: bool = False
    search: bool = False


@dataclass
class Message:
    id: str
    folder_id: str
    subject: str
    received: str
    categories: list[str]
    mime: bytes
    version: int
    change: int = 1

    @property
    def change_key(self) -> str:
        return f"CQAAABYAAA{self.id[-12:-4]}{self.change:04d}"


@dataclass
class Mailbox:
    user_id: str
    mail: str
    folders: dict[str, Folder] = field(default_factory=dict)
    messages: dict[str, Message] = field(default_factory=dict)
    tombstones: list[tuple[str, str, int]] = field(default_factory=list)  # folder, message, seq
    archive_id: str | None = None  # the user's In-Place Archive (a Mailbox in FakeGraph.archives)
    redirects: dict[str, str] = field(default_factory=dict)  # folder id -> auxiliary archive id


@dataclass
class DriveItem:
    id: str
    name: str
    parent_id: str | None
    is_folder: bool
    content: bytes = b""
    version: int = 0
    change: int = 1
    created_by: str | None = None
    deleted_seq: int | None = None
    permissions: list[dict[str, Any]] = field(default_factory=list)
    """Sharing permissions besides the owner's (Graph permission resources, as documented)."""


@dataclass
class Drive:
    id: str
    owner: str | None
    root_id: str
    items: dict[str, DriveItem] = field(default_factory=dict)
    business: bool = False
    """OneDrive for Business / SharePoint: delta omits cTag (and a deleted item's name)."""


def quick_xor_hash(data: bytes) -> str:
    """OneDrive's QuickXorHash (base64): the bytes XORed into a 160-bit register, each one
    shifted 11 bits further than the last, then the length XORed into the last 64 bits."""
    width, shift = 160, 11
    register = 0
    for index, byte in enumerate(data):
        offset = (index * shift) % width
        register ^= byte << offset
        if offset > width - 8:
            register ^= byte >> (width - offset)
    digest = bytearray((register & ((1 << width) - 1)).to_bytes(width // 8, "little"))
    for i, b in enumerate(len(data).to_bytes(8, "little")):
        digest[width // 8 - 8 + i] ^= b
    return base64.b64encode(bytes(digest)).decode()


FAULT_KINDS = frozenset({"429", "503", "504", "500", "401", "403", "404", "410", "drop", "reset"})


@dataclass
class Fault:
    """One schedule entry: ``pattern`` (a regex) is searched in the request path, or in
    ``"METHOD /path"`` when it starts with a method name; ``times`` uses are left."""

    kind: str  # one of FAULT_KINDS
    pattern: str
    times: int = 1
    method: str | None = None
    retry_after: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}")

    def matches(self, method: str, path: str) -> bool:
        if self.times <= 0 or self.method not in (None, method):
            return False
        return re.search(self.pattern, f"{method} {path}" if re.match(r"[A-Z]+ ", self.pattern) else path) is not None


@dataclass(frozen=True)
class Logged:
    """One request as the server saw it, with its answer (``fault`` names an injected one)."""

    method: str
    path: str
    query: str
    status: int
    fault: str | None = None
    batched: bool = False
    """Served inside a ``$batch`` (the batch itself is logged too, as ``POST /v1.0/$batch``)."""


class _Drop(Exception):
    pass


class FakeGraph:
    """State and HTTP front of the fake. Use :meth:`start` / :meth:`stop` (or ``with``)."""

    def __init__(
        self,
        certs: CertFiles,
        *,
        tenant: str = "contoso-tenant",
        client_id: str = "11111111-2222-3333-4444-555555555555",
        client_secret: str | None = "s3cret-value",
        token_lifetime: int = 3599,
    ) -> None:
        self.certs = certs
        self.tenant = tenant
        self.client_id = client_id
        self.client_secret = client_secret
        self.token_lifetime = token_lifetime
        self.app_public_key = x509.load_pem_x509_certificate(certs.app_cert_pem).public_key()
        self.lock = threading.RLock()
        self._seq = itertools.count(1)
        self._ids = itertools.count(1)
        self.seq = 0
        self.mailboxes: dict[str, Mailbox] = {}
        self.archives: dict[str, Mailbox] = {}  # MBX id -> archive (main or auxiliary) mailbox
        self.groups: dict[str, list[tuple[str, str]]] = {}
        self.drives: dict[str, Drive] = {}
        self.tokens: dict[str, bool] = {}
        self.token_requests: list[dict[str, Any]] = []
        self.requests: list[tuple[str, str, str]] = []  # method, path, query
        self.prefer_headers: list[str] = []
        self.downloads: list[dict[str, Any]] = []
        self.sent: list[tuple[str, str, bytes]] = []  # sender, content type, mime
        self.faults: list[Fault] = []
        self.fault_hits: list[tuple[str, str]] = []
        self.log: list[Logged] = []
        self.denied_folders: set[str] = set()
        self.denied_mailboxes: set[str] = set()
        self.read_only_app = False
        """The app has Mail.Read / Files.Read.All only (or RBAC scopes it out): writes are 403."""
        self.recycle_bin: list[tuple[str, str]] = []  # (drive id, item id) deleted through the API
        self.repeats: set[str] = set()
        """Item ids that every delta round listing them lists a second time, at its end."""
        self.hooks: list[tuple[str, Any]] = []
        self._rounds: dict[str, dict[str, Any]] = {}
        self.inflight: dict[str, int] = {}
        self.max_inflight: dict[str, int] = {}
        self.concurrency_rejections = 0
        self.latency = 0.0
        self.chunked_mime = False  # send $value without Content-Length (chunked), as proxies may
        self.delta_generation = 0
        self.folder_page_cap = 3
        self.permission_page_size = 2
        self._downloads: dict[str, tuple[str, str]] = {}
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.port = 0
        self.connections = 0
        """TCP (TLS) connections accepted since the start, counted by the handler."""
        self.batch_requests = 0
        """``$batch`` requests received (each one HTTP request)."""
        self.batched_requests = 0
        """Requests served inside those batches."""
        self.batches: list[tuple[str, ...]] = []
        """The paths of each batch's requests, in the order sent."""
        self.batch_rng = random.Random(21)
        """Shuffles each batch's responses (any order, as Graph documents)."""

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self) -> FakeGraph:
        fake = self

        class Handler(_Handler):
            graph = fake

        self._server, self._thread = serve_tls(Handler, self.certs, "fake-graph")
        self.port = self._server.server_address[1]
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeGraph:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    @property
    def base(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def graph_url(self) -> str:
        return f"{self.base}/v1.0"

    @property
    def token_endpoint(self) -> str:
        return f"{self.base}/{self.tenant}/oauth2/v2.0/token"

    # -- building the world --------------------------------------------------------------------

    def _next(self) -> int:
        self.seq = next(self._seq)
        return self.seq

    def add_mailbox(self, mail: str) -> Mailbox:
        with self.lock:
            box = Mailbox(user_id=f"user-{next(self._ids):04d}", mail=mail)
            self.mailboxes[mail.lower()] = box
            return box

    def add_archive(self, mail: str) -> Mailbox:
        """Give ``mail`` an In-Place Archive; address it with ``archive=True`` below."""
        with self.lock:
            owner = self.mailboxes[mail.lower()]
            archive = Mailbox(user_id=f"MBX:{secrets.token_hex(4)}@{self.tenant}", mail=f"{mail.lower()}#archive")
            owner.archive_id = archive.user_id
            self.archives[archive.user_id] = archive
            return archive

    def _box(self, mail: str, archive: bool = False) -> Mailbox:
        box = self.mailboxes[mail.lower()]
        if archive:
            assert box.archive_id is not None, "add_archive first"
            return self.archives[box.archive_id]
        return box

    def expand_folder(self, mail: str, path: str) -> Mailbox:
        """Auto-expanding archiving moved the content of archive folder ``path`` to an auxiliary
        archive: the main archive keeps the folder, its messages live in the auxiliary one, and
        reads of them on the main archive answer 308 to the auxiliary mailbox."""
        with self.lock:
            main = self._box(mail, archive=True)
            folder_id = self.folder_id(mail, path, archive=True)
            aux = Mailbox(user_id=f"MBX:{secrets.token_hex(4)}@{self.tenant}", mail=main.mail)
            self.archives[aux.user_id] = aux
            aux.folders[folder_id] = main.folders[folder_id]
            for message_id in [m for m, msg in main.messages.items() if msg.folder_id == folder_id]:
                aux.messages[message_id] = main.messages.pop(message_id)
            main.redirects[folder_id] = aux.user_id
            return aux

    def add_folder(
        self, mail: str, path: str, *, hidden: bool = False, search: bool = False, archive: bool = False
    ) -> Folder:
        """Create ``path`` (slash-separated) and missing parents; returns the leaf folder."""
        with self.lock:
            box = self._box(mail, archive)
            parent: str | None = None
            folder: Folder | None = None
            parts = path.split("/")
            for i, name in enumerate(parts):
                found = [f for f in box.folders.values() if f.parent_id == parent and f.name == name]
                if found:
                    folder = found[0]
                else:
                    last = i == len(parts) - 1
                    folder = Folder(
                        _graph_id("folder", next(self._ids)), name, parent,
                        hidden=hidden and last, search=search and last,
                    )
                    box.folders[folder.id] = folder
                parent = folder.id
            assert folder is not None
            return folder

    def folder_id(self, mail: str, path: str, archive: bool = False) -> str:
        box = self._box(mail, archive)
        parent: str | None = None
        for name in path.split("/"):
            parent = next(f.id for f in box.folders.values() if f.parent_id == parent and f.name == name)
        assert parent is not None
        return parent

    def add_message(
        self,
        mail: str,
        folder_path: str,
        subject: str,
        *,
        body: str = "Hallo",
        categories: list[str] | None = None,
        received: str = "2023-03-01T08:00:00Z",
        mime: bytes | None = None,
        archive: bool = False,
    ) -> Message:
        with self.lock:
            box = self._box(mail, archive)
            folder = self.add_folder(mail, folder_path, archive=archive)
            if folder.id in box.redirects:  # an expanded folder: its content is in the auxiliary
                box = self.archives[box.redirects[folder.id]]
            message_id = _graph_id("msg", next(self._ids))
            if mime is None:
                mime = (
                    f"From: ouder@example.nl\r\nTo: {mail}\r\nSubject: {subject}\r\n"
                    f"Message-ID: <{message_id[-12:]}@example.nl>\r\n"
                    f"Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
                ).encode()
            message = Message(message_id, folder.id, subject, received, list(categories or []), mime, self._next())
            box.messages[message_id] = message
            return message

    def update_message(self, mail: str, message_id: str, **changes: Any) -> None:
        with self.lock:
            message = self.mailboxes[mail.lower()].messages[message_id]
            for name, value in changes.items():
                setattr(message, name, value)
            message.change += 1
            message.version = self._next()

    def delete_message(self, mail: str, message_id: str, archive: bool = False) -> None:
        with self.lock:
            box = self._box(mail, archive)
            if message_id not in box.messages:  # in an auxiliary archive
                box = next(b for b in self.archives.values() if message_id in b.messages)
            message = box.messages.pop(message_id)
            box.tombstones.append((message.folder_id, message_id, self._next()))

    def move_message(self, mail: str, message_id: str, folder_path: str) -> None:
        with self.lock:
            box = self.mailboxes[mail.lower()]
            message = box.messages[message_id]
            box.tombstones.append((message.folder_id, message_id, self._next()))
            message.folder_id = self.add_folder(mail, folder_path).id
            message.version = self._next()

    def add_group(self, group_id: str, members: list[tuple[str, str]]) -> None:
        """``members``: ("user", mail), ("group", group id) or ("nomail", name)."""
        self.groups[group_id] = members

    def add_drive(self, drive_id: str, owner: str | None = None, *, business: bool = False) -> Drive:
        with self.lock:
            root = DriveItem(f"{drive_id}-root", "root", None, True, version=self._next())
            drive = Drive(drive_id, owner.lower() if owner else None, root.id, {root.id: root}, business=business)
            self.drives[drive_id] = drive
            return drive

    def drive_folder(self, drive_id: str, path: str) -> DriveItem:
        with self.lock:
            drive = self.drives[drive_id]
            parent = drive.root_id
            item = drive.items[parent]
            for name in [p for p in path.split("/") if p]:
                found = [
                    i for i in drive.items.values()
                    if i.parent_id == parent and i.name == name and i.deleted_seq is None
                ]
                if found:
                    item = found[0]
                else:
                    item = DriveItem(f"{drive_id}-{next(self._ids):05d}", name, parent, True, version=self._next())
                    drive.items[item.id] = item
                parent = item.id
            return item

    def add_file(self, drive_id: str, path: str, content: bytes, created_by: str | None = None) -> DriveItem:
        with self.lock:
            folder, _, name = path.rpartition("/")
            parent = self.drive_folder(drive_id, folder)
            item = DriveItem(
                f"{drive_id}-{next(self._ids):05d}", name, parent.id, False, content,
                version=self._next(), created_by=created_by,
            )
            self.drives[drive_id].items[item.id] = item
            return item

    def modify_file(self, drive_id: str, item_id: str, content: bytes) -> None:
        with self.lock:
            item = self.drives[drive_id].items[item_id]
            item.content = content
            item.change += 1
            item.version = self._next()

    def share(self, drive_id: str, item_id: str, permission: dict[str, Any]) -> None:
        """Add a sharing permission (a Graph permission resource). Sharing changes the item's
        eTag, not its cTag or hashes, and the delta lists the item again."""
        with self.lock:
            item = self.drives[drive_id].items[item_id]
            item.permissions.append({"id": f"perm-{next(self._ids):05d}", **permission})
            item.version = self._next()

    def unshare(self, drive_id: str, item_id: str) -> None:
        """Remove every permission but the owner's (the link was deleted, access stopped)."""
        with self.lock:
            item = self.drives[drive_id].items[item_id]
            item.permissions.clear()
            item.version = self._next()

    def rename(self, drive_id: str, item_id: str, name: str) -> None:
        with self.lock:
            item = self.drives[drive_id].items[item_id]
            item.name = name
            item.version = self._next()  # content unchanged: cTag and hashes stay, eTag changes

    def delete_item(self, drive_id: str, item_id: str) -> None:
        """Delete an item; a folder's descendants are reported deleted too (as OneDrive for
        Business and SharePoint do)."""
        with self.lock:
            drive = self.drives[drive_id]
            seq = self._next()
            doomed = {item_id}
            changed = True
            while changed:
                changed = False
                for item in drive.items.values():
                    if item.parent_id in doomed and item.id not in doomed:
                        doomed.add(item.id)
                        changed = True
            for doomed_id in doomed:
                drive.items[doomed_id].deleted_seq = seq

    def expire_delta_tokens(self) -> None:
        """Every delta token handed out so far now answers 410 (sync state gone)."""
        with self.lock:
            self.delta_generation += 1

    def expire_tokens(self) -> None:
        with self.lock:
            for token in self.tokens:
                self.tokens[token] = False

    def inject(self, kind: str, pattern: str, times: int = 1, *, method: str | None = None,
               retry_after: str | None = None) -> None:
        with self.lock:
            self.faults.append(Fault(kind, pattern, times, method, retry_after))

    def schedule(self, entries: list[tuple[str, str]] | list[tuple[str, str, str | None]]) -> None:
        """Append (matcher, fault kind[, Retry-After]) entries, each used once, in order."""
        with self.lock:
            for entry in entries:
                pattern, kind, *rest = entry
                self.faults.append(Fault(kind, pattern, 1, None, rest[0] if rest else None))

    def clear_faults(self) -> None:
        with self.lock:
            self.faults.clear()

    def deny_folder(self, mail: str, path: str, denied: bool = True) -> None:
        """The app may not read this folder (403 on its messages, delta and child folders)."""
        folder_id = self.folder_id(mail, path)
        with self.lock:
            (self.denied_folders.add if denied else self.denied_folders.discard)(folder_id)

    def deny_mailbox(self, mail: str, denied: bool = True) -> None:
        """The mailbox is outside the app's RBAC scope: every request for it answers 403."""
        with self.lock:
            (self.denied_mailboxes.add if denied else self.denied_mailboxes.discard)(mail.lower())

    def repeat(self, item_id: str) -> None:
        """Delta rounds that list this item list it once more at their end."""
        with self.lock:
            self.repeats.add(item_id)

    def on_request(self, pattern: str, callback: Any) -> None:
        """Run ``callback()`` once, before the first request whose path matches is served."""
        with self.lock:
            self.hooks.append((pattern, callback))

    def logged(self, pattern: str = "", method: str | None = None) -> list[Logged]:
        """Logged requests whose path matches ``pattern`` (all endpoints, faults included)."""
        with self.lock:
            return [r for r in self.log if re.search(pattern, r.path) and method in (None, r.method)]

    def graph_requests(self, pattern: str = "") -> list[tuple[str, str, str]]:
        with self.lock:
            return [r for r in self.requests if re.search(pattern, r[1])]

    # -- helpers used by the handler -------------------------------------------------------------

    def user(self, ident: str) -> Mailbox | None:
        if ident in self.archives:  # an archive is opened by its MBX id only
            return self.archives[ident]
        ident = ident.lower()
        if ident in self.mailboxes:
            return self.mailboxes[ident]
        return next((b for b in self.mailboxes.values() if b.user_id.lower() == ident), None)

    def take_fault(self, method: str, path: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.matches(method, path):
                    fault.times -= 1
                    self.fault_hits.append((fault.kind, path))
                    return fault
        return None

    def new_round(self, **round_: Any) -> str:
        """Remember a delta round's membership (fixed at its start) under a fresh id."""
        round_id = secrets.token_hex(6)
        self._rounds[round_id] = {**round_, "g": self.delta_generation}
        return round_id

    def run_hooks(self, path: str) -> None:
        with self.lock:
            due = [hook for hook in self.hooks if re.search(hook[0], path)]
            for hook in due:
                self.hooks.remove(hook)
        for _, callback in due:
            callback()

    def issue_token(self) -> str:
        token = secrets.token_urlsafe(24)
        with self.lock:
            self.tokens[token] = True
        return token

    def file_path(self, drive: Drive, item: DriveItem) -> str:
        names = []
        current = drive.items.get(item.parent_id or "")
        while current is not None and current.parent_id is not None:
            names.append(current.name)
            current = drive.items.get(current.parent_id)
        return "/".join(reversed(names))


class _Handler(BaseHTTPRequestHandler):
    graph: FakeGraph
    _captured: list[tuple[int, bytes, dict[str, str], str]] | None = None
    """Set while an inner request of a ``$batch`` is served: its answer, instead of the wire."""
    protocol_version = "HTTP/1.1"
    # One TLS record per response and no Nagle: otherwise every request waits for a delayed ACK.
    wbufsize = 256 * 1024
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def setup(self) -> None:
        """Count every connection the server accepts (each a TLS handshake): a client that keeps
        its connection alive makes one per run, not one per request."""
        super().setup()
        with self.graph.lock:
            self.graph.connections += 1

    def send_response(self, code: int, message: str | None = None) -> None:
        self._status = code
        super().send_response(code, message)

    # -- response helpers -------------------------------------------------------------------------

    def _send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None,
              content_type: str = "application/json") -> None:
        if self._captured is not None:  # inside a $batch: the answer becomes one response entry
            if getattr(self, "_reset_body", False):
                raise _Drop()
            self._status = status
            self._captured.append((status, body, dict(headers or {}), content_type))
            return
        self.send_response(status)
        if body or status not in (202, 204, 302):
            self.send_header("Content-Type", content_type)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body and getattr(self, "_reset_body", False) and status == 200:
            # A connection reset half-way through the body: the headers promised all of it.
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            raise _Drop()
        if body:
            self.wfile.write(body)

    def _send_chunked(self, body: bytes, content_type: str) -> None:
        if self._captured is not None:
            return self._send(200, body, content_type=content_type)
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        if getattr(self, "_reset_body", False):
            piece = body[: max(1, len(body) // 2)]
            self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
            self.wfile.flush()
            raise _Drop()
        for start in range(0, len(body), 1 << 20):
            piece = body[start: start + (1 << 20)]
            self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
        self.wfile.write(b"0\r\n\r\n")

    def _json(self, status: int, data: Any, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(data).encode(), headers)

    def _error(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        self._json(status, {"error": {"code": code, "message": message,
                                      "innerError": {"request-id": "00000000-0000-0000-0000-000000000000"}}},
                   headers)

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    # -- dispatch -------------------------------------------------------------------------------

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PATCH(self) -> None:
        self._dispatch("PATCH")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def _dispatch(self, method: str) -> None:
        parts = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        body = self._body()
        self._status = 0
        self._fault_kind: str | None = None
        self._reset_body = False
        self.graph.run_hooks(unquote(parts.path))
        try:
            if parts.path in ("/v1.0/$batch", "/beta/$batch") and method == "POST":
                self._version = parts.path[1:5]
                self._batch(parts.path, body)
            elif parts.path.startswith(("/v1.0/", "/beta/")):
                self._version = parts.path[1:5]
                self._graph(method, parts.path, query, body, parts.query)
            elif parts.path.startswith("/download/"):
                self._download(parts.path)
            elif parts.path == f"/{self.graph.tenant}/v2.0/.well-known/openid-configuration":
                self._openid()
            elif parts.path == f"/{self.graph.tenant}/oauth2/v2.0/token" and method == "POST":
                self._token(body)
            else:
                self._error(404, "NotFound", "no such endpoint")
        except _Drop:
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        finally:
            with self.graph.lock:
                self.graph.log.append(Logged(method, unquote(parts.path), parts.query, self._status, self._fault_kind))

    def _take_fault(self, method: str, path: str) -> Fault | None:
        fault = self.graph.take_fault(method, path)
        if fault is not None:
            self._fault_kind = fault.kind
        return fault

    # -- Entra -------------------------------------------------------------------------------

    def _openid(self) -> None:
        g = self.graph
        tenant_base = f"{g.base}/{g.tenant}"
        self._json(200, {
            "token_endpoint": f"{tenant_base}/oauth2/v2.0/token",
            "authorization_endpoint": f"{tenant_base}/oauth2/v2.0/authorize",
            "issuer": f"{tenant_base}/v2.0",
            "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt"],
        })

    def _token(self, body: bytes) -> None:
        g = self.graph
        fault = self._take_fault("POST", f"/{g.tenant}/oauth2/v2.0/token")
        if fault is not None:
            headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
            if fault.kind in ("drop", "reset"):
                raise _Drop()
            if fault.kind == "429":
                # Entra throttles client-credentials requests with 429 and Retry-After; the body
                # is not an OAuth JSON error (msal cannot parse it).
                return self._send(429, b"Too Many Requests", headers, content_type="text/plain")
            if fault.kind in ("500", "503", "504"):
                return self._json(int(fault.kind), {
                    "error": "temporarily_unavailable",
                    "error_description": "AADSTS90033: A transient error has occurred. Please try again.",
                    "error_codes": [90033],
                }, headers)
            raise AssertionError(f"no token-endpoint form of fault {fault.kind}")
        form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
        record: dict[str, Any] = {"grant_type": form.get("grant_type"), "scope": form.get("scope")}
        with g.lock:
            g.token_requests.append(record)
        if form.get("grant_type") != "client_credentials" or form.get("client_id") != g.client_id:
            return self._json(400, {"error": "unauthorized_client", "error_codes": [700016]})
        if "client_assertion" in form:
            assertion = form["client_assertion"]
            header = jwt.get_unverified_header(assertion)
            record["alg"] = header.get("alg")
            record["x5t"] = header.get("x5t")
            record["x5t#S256"] = header.get("x5t#S256")
            try:
                claims = jwt.decode(
                    assertion, g.app_public_key, algorithms=["PS256", "RS256"], audience=g.token_endpoint
                )
            except jwt.PyJWTError:
                return self._json(401, {"error": "invalid_client", "error_codes": [700027]})
            if claims.get("iss") != g.client_id or claims.get("sub") != g.client_id:
                return self._json(401, {"error": "invalid_client", "error_codes": [700027]})
            record["auth"] = "certificate"
        elif g.client_secret is not None and form.get("client_secret") == g.client_secret:
            record["auth"] = "secret"
        else:
            return self._json(401, {"error": "invalid_client", "error_codes": [7000215]})
        self._json(200, {
            "token_type": "Bearer",
            "expires_in": g.token_lifetime,
            "ext_expires_in": g.token_lifetime,
            "access_token": g.issue_token(),
        })

    # -- Graph -------------------------------------------------------------------------------

    def _mailbox_key(self, segments: list[str]) -> str | None:
        if len(segments) >= 2 and segments[0] == "users":
            box = self.graph.user(segments[1])
            return box.mail.lower() if box else segments[1].lower()
        if len(segments) >= 2 and segments[0] == "drives":
            return f"drive:{segments[1]}"
        return None

    def _graph(self, method: str, path: str, query: dict[str, str], body: bytes, raw_query: str) -> None:
        g = self.graph
        segments = [unquote(s) for s in path[len("/v1.0/"):].split("/")]  # "/beta/" is as long
        with g.lock:
            g.requests.append((method, "/" + "/".join(segments), raw_query))
            if "Prefer" in self.headers:
                g.prefer_headers.append(self.headers["Prefer"])
        fault = self._take_fault(method, "/" + "/".join(segments))
        if fault is not None and fault.kind == "reset":
            self._reset_body = True  # served normally, but the body breaks off half-way
        elif fault is not None:
            return self._fault(fault, segments)
        auth = self.headers.get("Authorization", "")
        token = auth[len("Bearer "):] if auth.startswith("Bearer ") else ""
        if not g.tokens.get(token):
            return self._error(401, "InvalidAuthenticationToken", "Access token has expired or is not yet valid.")
        key = self._mailbox_key(segments)
        with g.lock:
            count = g.inflight.get(key, 0) + 1 if key else 0
            if key:
                g.inflight[key] = count
                g.max_inflight[key] = max(g.max_inflight.get(key, 0), count)
        try:
            if key and not key.startswith("drive:") and count > MAILBOX_CONCURRENCY:
                with g.lock:
                    g.concurrency_rejections += 1
                return self._error(429, "ApplicationThrottled", "MailboxConcurrency limit exceeded",
                                   {"Retry-After": "1"})
            if g.latency:
                time.sleep(g.latency)
            self._route(method, segments, query, body)
        finally:
            if key:
                with g.lock:
                    g.inflight[key] -= 1

    # -- JSON batching ------------------------------------------------------------------------

    def _batch(self, path: str, body: bytes) -> None:
        """``POST /$batch``: the requests inside served one by one, the responses shuffled."""
        g = self.graph
        with g.lock:
            g.batch_requests += 1
            g.requests.append(("POST", "/$batch", ""))
        fault = self._take_fault("POST", path)
        if fault is not None:
            return self._fault(fault)
        auth = self.headers.get("Authorization", "")
        if not g.tokens.get(auth[len("Bearer "):] if auth.startswith("Bearer ") else ""):
            return self._error(401, "InvalidAuthenticationToken", "Access token has expired or is not yet valid.")
        try:
            requests = json.loads(body or b"null")["requests"]
        except (ValueError, KeyError, TypeError):
            return self._error(400, "BadRequest", "Invalid batch payload format.")
        if not isinstance(requests, list) or not requests:
            return self._error(400, "BadRequest", "Invalid batch payload format.")
        if len(requests) > BATCH_LIMIT:
            return self._error(400, "BadRequest", f"Maximum number of requests in a batch is {BATCH_LIMIT}.")
        ids: list[str] = []
        for request in requests:
            if not isinstance(request, dict) or not all(isinstance(request.get(k), str) and request[k]
                                                        for k in ("id", "method", "url")):
                return self._error(400, "BadRequest", "Each request needs an id, a method and a url.")
            depends = request.get("dependsOn", [])
            if not isinstance(depends, list) or any(d not in ids for d in depends):
                # Only earlier requests of the same batch can be depended on.
                return self._error(400, "BadRequest", "dependsOn must name requests earlier in the batch.")
            if request["id"] in ids:
                return self._error(400, "BadRequest", "Batch request ids must be unique.")
            ids.append(request["id"])
        with g.lock:
            g.batches.append(tuple(str(r["url"]).split("?")[0] for r in requests))
        statuses: dict[str, int] = {}
        responses = []
        for request in requests:
            failed = [d for d in request.get("dependsOn", []) if statuses[d] >= 400]
            if failed:
                error = {"error": {"code": "FailedDependency", "message": "The dependent request failed."}}
                status, content, headers, kind = 424, json.dumps(error).encode(), {}, "application/json"
            else:
                status, content, headers, kind = self._inner(request)
            statuses[request["id"]] = status
            headers = {"Content-Type": kind, **headers}
            answer: Any
            if kind.startswith("application/json") and content:
                answer = json.loads(content)
            else:
                answer = base64.b64encode(content).decode() if content else None
            entry: dict[str, Any] = {"id": request["id"], "status": status, "headers": headers}
            if answer is not None:
                entry["body"] = answer
            responses.append(entry)
        with g.lock:
            g.batch_rng.shuffle(responses)
        self._json(200, {"responses": responses})

    def _inner(self, request: dict[str, Any]) -> tuple[int, bytes, dict[str, str], str]:
        """Serve one request of a batch as if it had come alone (logged with ``batched``)."""
        g = self.graph
        url = request["url"]
        if url.startswith(("http://", "https://", "/v1.0/", "/beta/", "v1.0/", "beta/")):
            return 400, json.dumps({"error": {"code": "BadRequest", "message": "Invalid request URL."}}).encode(), \
                {}, "application/json"
        inner_path, _, raw_query = ("/" + self._version + "/" + url.lstrip("/")).partition("?")
        query = {k: v[0] for k, v in parse_qs(raw_query).items()}
        headers = email.message.Message()
        headers["Authorization"] = self.headers.get("Authorization", "")
        for name, value in (request.get("headers") or {}).items():
            headers[name] = str(value)
        content = request.get("body")
        raw_body = b"" if content is None else json.dumps(content).encode()
        outer = (self.headers, self.path, self._status, self._fault_kind)
        self.headers, self.path = headers, inner_path + (f"?{raw_query}" if raw_query else "")  # type: ignore[assignment]
        self._status, self._fault_kind, self._captured = 0, None, []
        try:
            g.run_hooks(unquote(inner_path))
            self._graph(request["method"].upper(), inner_path, query, raw_body, raw_query)
            captured = self._captured[-1]
            status = self._status
            with g.lock:
                g.batched_requests += 1
                g.log.append(Logged(request["method"].upper(), unquote(inner_path), raw_query, status,
                                    self._fault_kind, batched=True))
        finally:
            self.headers, self.path, self._status, self._fault_kind = outer  # type: ignore[assignment]
            self._captured = None
        _, body, answer_headers, kind = captured
        return status, body, answer_headers, kind

    def _fault(self, fault: Fault, segments: list[str] | None = None) -> None:
        headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
        if fault.kind in ("drop", "reset"):
            raise _Drop()
        if fault.kind == "429":
            return self._error(429, "TooManyRequests", "Too many requests", headers)
        if fault.kind == "503":
            return self._error(503, "ServiceUnavailable", "Service unavailable", headers)
        if fault.kind == "504":
            return self._error(504, "GatewayTimeout", "Gateway timeout", headers)
        if fault.kind == "500":
            return self._error(500, "generalException", "General exception")
        if fault.kind == "401":
            self.graph.expire_tokens()
            return self._error(401, "InvalidAuthenticationToken", "Lifetime validation failed, the token is expired.")
        if fault.kind == "403":
            return self._denied()
        if fault.kind == "404":
            return self._error(404, "itemNotFound", "The resource could not be found.")
        if fault.kind == "410":
            if segments and segments[0] == "drives" and len(segments) > 1:
                return self._drive_resync(segments[1])
            return self._error(410, "SyncStateNotFound", "The sync state generation is not found.")
        raise AssertionError(fault.kind)

    def _denied(self) -> None:
        self._error(403, "ErrorAccessDenied", "Access is denied. Check credentials and try again.")

    def _drive_resync(self, drive_id: str) -> None:
        """410 as the driveItem delta page documents it: a resync code and a Location header
        with a new link that starts a fresh enumeration."""
        fresh = f"{self.graph.graph_url}/drives/{quote(drive_id)}/root/delta"
        self._error(410, "resyncChangesApplyDifferences",
                    "Resync required. Replace any local items with the server's version.", {"Location": fresh})

    def _route(self, method: str, s: list[str], query: dict[str, str], body: bytes) -> None:
        g = self.graph
        n = len(s)
        if s[0] == "users" and n >= 2:
            box = g.user(s[1])
            if box is None or (s[1] in g.archives and self._version != "beta"):
                return self._error(404, "ResourceNotFound", "User not found")
            if n == 4 and s[2:] == ["settings", "exchange"] and method == "GET" and self._version == "beta":
                if s[1] in g.archives:
                    return self._error(404, "ResourceNotFound", "User not found")
                context = f"{g.base}/beta/$metadata#users('{box.user_id}')/settings/exchange/$entity"
                settings = {"@odata.context": context, "id": box.user_id,
                            "primaryMailboxId": f"MBX:{box.user_id}@{g.tenant}"}
                if box.archive_id is not None:
                    settings["inPlaceArchiveMailboxId"] = box.archive_id
                return self._json(200, settings)
            redirect = self._archive_redirect(box, s)
            if redirect is not None:
                return self._send(308, headers={"Location": redirect})
            if box.mail.lower() in g.denied_mailboxes and not (n == 3 and s[2] in ("drive", "sendMail")):
                return self._denied()
            if n == 3 and s[2] == "mailFolders" and method == "GET":
                return self._folders(box, None, query)
            if n == 5 and s[2] == "mailFolders" and s[4] == "childFolders":
                return self._folders(box, s[3], query)
            if n == 6 and s[2] == "mailFolders" and s[4:] == ["messages", "delta"]:
                return self._message_delta(box, s[3], query)
            if n == 5 and s[2] == "messages" and s[4] == "$value":
                message = box.messages.get(s[3])
                if message is None:
                    return self._error(404, "ErrorItemNotFound", "The specified object was not found in the store.")
                if message.folder_id in g.denied_folders:
                    return self._denied()
                if g.chunked_mime:
                    return self._send_chunked(message.mime, "text/plain")
                return self._send(200, message.mime, content_type="text/plain")
            if n == 5 and s[2] == "messages" and s[4] == "move" and method == "POST":
                return self._move(box, s[3], body)
            if n == 4 and s[2] == "messages":
                return self._message(box, s[3], method, query, body)
            if n == 3 and s[2] == "sendMail" and method == "POST":
                content_type = self.headers.get("Content-Type", "")
                try:
                    mime = base64.b64decode(body, validate=True)
                except ValueError:
                    return self._error(400, "ErrorMimeContentInvalidBase64String", "Invalid base64")
                with g.lock:
                    g.sent.append((box.mail, content_type, mime))
                return self._send(202)
            if n == 3 and s[2] == "drive":
                drive = next((d for d in g.drives.values() if d.owner == box.mail.lower()), None)
                if drive is None:
                    return self._error(404, "itemNotFound", "OneDrive not provisioned")
                return self._json(200, {"id": drive.id, "driveType": "business",
                                        "owner": {"user": {"email": box.mail, "id": box.user_id}}})
        if s[0] == "groups" and n == 3 and s[2] == "members":
            members = g.groups.get(s[1])
            if members is None:
                return self._error(404, "Request_ResourceNotFound", "Group not found")
            value = []
            for kind, ident in members:
                if kind == "group":
                    value.append({"@odata.type": "#microsoft.graph.group", "id": ident})
                elif kind == "nomail":
                    value.append({"@odata.type": "#microsoft.graph.user", "id": ident, "mail": None,
                                  "userPrincipalName": f"{ident}@school.nl"})
                else:
                    box = g.mailboxes[ident.lower()]
                    value.append({"@odata.type": "#microsoft.graph.user", "id": box.user_id,
                                  "mail": box.mail, "userPrincipalName": box.mail})
            return self._json(200, {"@odata.context": "...", "value": value})
        if s[0] == "drives" and n >= 2:
            drive = g.drives.get(s[1])
            if drive is None:
                return self._error(404, "itemNotFound", "Drive not found")
            if s[2:] == ["root", "delta"]:
                return self._drive_delta(drive, query)
            if n == 4 and s[2] == "items" and method == "DELETE":
                return self._delete_drive_item(drive, s[3])
            if n == 4 and s[2] == "items":
                return self._drive_item(drive, s[3])
            if n == 5 and s[2] == "items" and s[4] == "permissions":
                return self._permissions(drive, s[3], query)
            if n == 5 and s[2] == "items" and s[4] == "content":
                item = drive.items.get(s[3])
                if item is None or item.deleted_seq is not None or item.is_folder:
                    return self._error(404, "itemNotFound", "Item not found")
                ticket = secrets.token_urlsafe(16)
                with g.lock:
                    g._downloads[ticket] = (drive.id, item.id)
                return self._send(302, headers={"Location": f"https://localhost:{g.port}/download/{ticket}"})
        return self._error(400, "BadRequest", "Unsupported request")

    # -- mail ----------------------------------------------------------------------------------

    def _archive_redirect(self, box: Mailbox, s: list[str]) -> str | None:
        """The ``Location`` of a 308 when the request reads content of an expanded archive folder
        (its message delta, or a message that lives in the auxiliary archive), else None."""
        g = self.graph
        if not box.redirects:
            return None
        target = None
        if len(s) >= 5 and s[2] == "mailFolders" and s[4] == "messages":
            target = box.redirects.get(s[3])
        elif len(s) >= 4 and s[2] == "messages" and s[3] not in box.messages:
            target = next((aux for aux in set(box.redirects.values()) if s[3] in g.archives[aux].messages), None)
        if target is None:
            return None
        rest = "/".join(quote(part, safe="$") for part in s[2:])
        query = urlsplit(self.path).query
        return f"{g.base}/beta/users/{quote(target, safe='')}/{rest}" + (f"?{query}" if query else "")

    def _folders(self, box: Mailbox, parent: str | None, query: dict[str, str]) -> None:
        g = self.graph
        if parent is not None and parent not in box.folders:
            return self._error(404, "ErrorItemNotFound", "Folder not found")
        if parent in g.denied_folders:
            return self._denied()
        hidden = query.get("includeHiddenFolders") == "true"
        with g.lock:
            folders = sorted(
                (f for f in box.folders.values() if f.parent_id == parent and (hidden or not f.hidden)),
                key=lambda f: f.name,
            )
            children = {f.id: sum(1 for c in box.folders.values() if c.parent_id == f.id) for f in folders}
        top = min(int(query.get("$top", "10")), g.folder_page_cap)
        skip = int(query.get("$skip", "0"))
        page = folders[skip: skip + top]
        value = []
        for folder in page:
            entry = {
                "@odata.type": "#microsoft.graph.mailSearchFolder" if folder.search else "#microsoft.graph.mailFolder",
                "id": folder.id,
                "displayName": folder.name,
                "parentFolderId": folder.parent_id or "root-folder-id",
                "childFolderCount": children[folder.id],
                "isHidden": folder.hidden,
            }
            value.append(entry)
        result: dict[str, Any] = {"@odata.context": "...", "value": value}
        if skip + top < len(folders):
            base = self.path.split("?")[0]
            rest = "&".join(f"{k}={quote(v)}" for k, v in query.items() if k != "$skip")
            result["@odata.nextLink"] = f"{g.base}{base}?{rest}&$skip={skip + top}"
        self._json(200, result)

    def _page_size(self) -> int:
        match = re.search(r"odata\.maxpagesize=(\d+)", self.headers.get("Prefer", ""))
        return min(int(match.group(1)), 1000) if match else 10

    def _message_delta(self, box: Mailbox, folder_id: str, query: dict[str, str]) -> None:
        g = self.graph
        if folder_id not in box.folders:
            return self._error(404, "ErrorItemNotFound", "Folder not found")
        if folder_id in g.denied_folders:
            return self._denied()
        with g.lock:
            if "$skiptoken" in query:
                state = _unb64(query["$skiptoken"])
                round_ = g._rounds.get(state["r"])
                if round_ is None or round_["g"] != g.delta_generation:
                    return self._error(410, "SyncStateNotFound", "The sync state generation is not found.")
            else:
                since = None
                sel = query.get("$select", "")
                if "$deltatoken" in query:
                    token = _unb64(query["$deltatoken"])
                    if token["g"] != g.delta_generation:
                        return self._error(410, "SyncStateNotFound", "The sync state generation is not found.")
                    since, sel = token["s"], token["sel"]
                entries: list[tuple[str, str]] = [
                    ("m", m.id) for m in sorted(box.messages.values(), key=lambda m: m.id)
                    if m.folder_id == folder_id and m.version <= g.seq and (since is None or m.version > since)
                ]
                if since is not None:
                    entries += [("x", message_id) for folder, message_id, seq in box.tombstones
                                if folder == folder_id and since < seq <= g.seq]
                entries += [("m", i) for kind, i in list(entries) if kind == "m" and i in g.repeats]
                state = {"r": g.new_round(entries=entries, upto=g.seq, sel=sel), "o": 0}
                round_ = g._rounds[state["r"]]
            size = self._page_size()
            offset = state["o"]
            page = []
            for kind, message_id in round_["entries"][offset: offset + size]:
                message = box.messages.get(message_id)
                if kind == "m" and message is not None and message.folder_id == folder_id:
                    page.append(self._message_json(message, round_["sel"]))
                else:  # deleted, or moved out of this folder while the round was being read
                    page.append({"@odata.type": "#microsoft.graph.message", "id": message_id,
                                 "@removed": {"reason": "deleted"}})
            base = (f"{g.base}/{self._version}/users/{quote(box.user_id, safe='')}"
                    f"/mailFolders/{quote(folder_id)}/messages/delta")
            result: dict[str, Any] = {"@odata.context": f"{g.graph_url}/$metadata#Collection(message)", "value": page}
            if offset + size < len(round_["entries"]):
                result["@odata.nextLink"] = f"{base}?$skiptoken={_b64({**state, 'o': offset + size})}"
            else:
                token = _b64({"s": round_["upto"], "sel": round_["sel"], "g": round_["g"]})
                result["@odata.deltaLink"] = f"{base}?$deltatoken={token}"
        self._json(200, result)

    def _message_json(self, message: Message, select: str) -> dict[str, Any]:
        full = {
            "receivedDateTime": message.received,
            "lastModifiedDateTime": message.received,
            "parentFolderId": message.folder_id,
            "webLink": f"https://outlook.office365.com/owa/?ItemID={quote(message.id)}&exvsurl=1&viewmodel=ReadMessageItem",
            "hasAttachments": False,
            "categories": list(message.categories),
            "subject": message.subject,
            "changeKey": message.change_key,
            "bodyPreview": "never selected by the connector",
        }
        fields = [f for f in select.split(",") if f] or list(full)
        data = {"@odata.type": "#microsoft.graph.message", "@odata.etag": f'W/"{message.change_key}"', "id": message.id}
        data.update({f: full[f] for f in fields if f in full})
        return data

    def _message(self, box: Mailbox, message_id: str, method: str, query: dict[str, str], body: bytes) -> None:
        g = self.graph
        with g.lock:
            message = box.messages.get(message_id)
            if message is None:
                return self._error(404, "ErrorItemNotFound", "The specified object was not found in the store.")
            if method == "PATCH":
                patch = json.loads(body)
                if set(patch) - {"categories"}:
                    return self._error(400, "BadRequest", "only categories in this fake")
                message.categories = list(patch["categories"])
                message.change += 1
                message.version = g._next()
            self._json(200, self._message_json(message, query.get("$select", "")))

    WELL_KNOWN = {"deleteditems": ("Verwijderde items", "Deleted Items"), "inbox": ("Postvak IN", "Inbox")}

    def _move(self, box: Mailbox, message_id: str, body: bytes) -> None:
        """``message: move``: 201 Created and the message in its new folder. Graph gives a moved
        message a new id unless ``Prefer: IdType="ImmutableId"`` was sent."""
        g = self.graph
        try:
            destination = json.loads(body or b"{}").get("destinationId")
        except ValueError:
            destination = None
        if not isinstance(destination, str) or not destination:
            return self._error(400, "ErrorInvalidRequest", "destinationId is required")
        with g.lock:
            message = box.messages.get(message_id)
            if message is None:
                return self._error(404, "ErrorItemNotFound", "The specified object was not found in the store.")
            if g.read_only_app:
                return self._denied()
            if destination.lower() in self.WELL_KNOWN:
                names = self.WELL_KNOWN[destination.lower()]
                folder = next((f for f in box.folders.values() if f.parent_id is None and f.name in names), None)
                folder_id = folder.id if folder else g.add_folder(box.mail, names[0]).id
            elif destination in box.folders:
                folder_id = destination
            else:
                return self._error(404, "ErrorItemNotFound", "The destination folder was not found.")
            if message.folder_id != folder_id:
                box.tombstones.append((message.folder_id, message.id, g._next()))
                message.folder_id = folder_id
                message.version = g._next()
                message.change += 1
                if 'IdType="ImmutableId"' not in self.headers.get("Prefer", ""):
                    del box.messages[message.id]
                    message.id = _graph_id("msg", next(g._ids))
                    box.messages[message.id] = message
            data = self._message_json(message, "")
        self._json(201, data)

    # -- files ----------------------------------------------------------------------------------

    def _delete_drive_item(self, drive: Drive, item_id: str) -> None:
        """``DELETE`` a driveItem: to the recycle bin (delta reports it deleted), 204."""
        g = self.graph
        item = drive.items.get(item_id)
        if item is None or item.deleted_seq is not None:
            return self._error(404, "itemNotFound", "The resource could not be found.")
        if g.read_only_app:
            return self._error(403, "accessDenied", "Access denied")
        g.delete_item(drive.id, item_id)
        with g.lock:
            g.recycle_bin.append((drive.id, item_id))
        self._send(204)

    def _item_json(self, drive: Drive, item: DriveItem, with_path: bool) -> dict[str, Any]:
        """``with_path`` False is the delta form: no parentReference.path, and on a business
        drive no cTag (nor, for a deleted item, its name), as the delta remarks say."""
        g = self.graph
        in_delta = not with_path
        if item.deleted_seq is not None:
            gone: dict[str, Any] = {"id": item.id, "deleted": {"state": "deleted"},
                                    "parentReference": {"driveId": drive.id, "id": drive.root_id}}
            if not (drive.business and in_delta):
                gone["name"] = item.name
            return gone
        data: dict[str, Any] = {
            "id": item.id,
            "name": item.name,
            "eTag": f'"{{{item.id}}},{item.version}"',
            "cTag": f'"c:{{{item.id}}},{item.change}"',
            "lastModifiedDateTime": "2022-06-15T10:00:00Z",
            "webUrl": f"https://school.sharepoint.com/{quote(drive.id)}/{quote(item.id)}",
            "createdBy": {"user": {"email": item.created_by, "displayName": "Docent"}} if item.created_by else {},
        }
        if item.permissions:
            scopes = {str((p.get("link") or {}).get("scope") or "users") for p in item.permissions}
            data["shared"] = {"scope": next((x for x in ("anonymous", "organization") if x in scopes), "users"),
                              "owner": {"user": {"displayName": "Eigenaar"}}}
        if drive.business and in_delta:
            del data["cTag"]
        if item.parent_id is None:
            data["root"] = {}
            data["folder"] = {"childCount": 0}
        else:
            reference: dict[str, Any] = {"driveId": drive.id, "id": item.parent_id}
            if with_path:
                reference["path"] = f"/drives/{drive.id}/root:" + (
                    "/" + g.file_path(drive, item) if g.file_path(drive, item) else ""
                )
            data["parentReference"] = reference
            if item.is_folder:
                data["folder"] = {"childCount": 0}
            else:
                hashes = ({"quickXorHash": quick_xor_hash(item.content)} if drive.business
                          else {"sha1Hash": hashlib.sha1(item.content).hexdigest().upper(),
                                "quickXorHash": quick_xor_hash(item.content)})
                data["file"] = {"mimeType": "application/octet-stream", "hashes": hashes}
                data["size"] = len(item.content)
        return data

    def _permissions(self, drive: Drive, item_id: str, query: dict[str, str]) -> None:
        """``GET /drives/{id}/items/{id}/permissions``: the owner's permission first (roles
        ``owner``), then the sharing ones, in pages of :attr:`FakeGraph.permission_page_size`
        with an ``@odata.nextLink``, as a collection response pages."""
        g = self.graph
        item = drive.items.get(item_id)
        if item is None or item.deleted_seq is not None:
            return self._error(404, "itemNotFound", "The resource could not be found.")
        owner = drive.owner or "beheer@school.nl"
        everything = [{"id": "owner", "roles": ["owner"],
                       "grantedToV2": {"user": {"id": "owner-id", "displayName": "Eigenaar", "email": owner}}},
                      *item.permissions]
        start = int(query.get("$skiptoken", "0"))
        size = g.permission_page_size
        page: dict[str, Any] = {"@odata.context": "...", "value": everything[start:start + size]}
        if start + size < len(everything):
            page["@odata.nextLink"] = (f"{g.graph_url}/drives/{quote(drive.id)}/items/{quote(item_id)}"
                                       f"/permissions?$skiptoken={start + size}")
        self._json(200, page)

    def _drive_item(self, drive: Drive, item_id: str) -> None:
        item = drive.items.get(item_id)
        if item is None or item.deleted_seq is not None:
            return self._error(404, "itemNotFound", "Item not found")
        self._json(200, self._item_json(drive, item, with_path=True))

    def _drive_delta(self, drive: Drive, query: dict[str, str]) -> None:
        g = self.graph
        with g.lock:
            if "$skiptoken" in query:
                state = _unb64(query["$skiptoken"])
                round_ = g._rounds.get(state["r"])
                if round_ is None or round_["g"] != g.delta_generation:
                    return self._drive_resync(drive.id)
            else:
                since = None
                if "token" in query:
                    token = _unb64(query["token"])
                    if token["g"] != g.delta_generation:
                        return self._drive_resync(drive.id)
                    since = token["s"]

                def depth(item: DriveItem) -> int:
                    d, current = 0, item
                    while current.parent_id is not None:
                        d += 1
                        current = drive.items[current.parent_id]
                    return d

                entries = []
                for item in sorted(drive.items.values(), key=lambda i: (depth(i), i.id)):
                    if item.deleted_seq is not None:
                        if since is not None and since < item.deleted_seq <= g.seq:
                            entries.append(("i", item.id))
                    elif item.version <= g.seq and (since is None or item.version > since):
                        entries.append(("i", item.id))
                entries += [entry for entry in list(entries) if entry[1] in g.repeats]
                state = {"r": g.new_round(entries=entries, upto=g.seq, sel=""), "o": 0}
                round_ = g._rounds[state["r"]]
            size = self._page_size()
            offset = state["o"]
            page = [self._item_json(drive, drive.items[i], with_path=False)
                    for _, i in round_["entries"][offset: offset + size]]
            base = f"{g.graph_url}/drives/{quote(drive.id)}/root/delta"
            result: dict[str, Any] = {"@odata.context": "...", "value": page}
            if offset + size < len(round_["entries"]):
                result["@odata.nextLink"] = f"{base}?$skiptoken={_b64({**state, 'o': offset + size})}"
            else:
                result["@odata.deltaLink"] = f"{base}?token={_b64({'s': round_['upto'], 'g': round_['g']})}"
        self._json(200, result)

    def _download(self, path: str) -> None:
        g = self.graph
        fault = self._take_fault("GET", path)
        if fault is not None and fault.kind == "reset":
            self._reset_body = True
        elif fault is not None:
            return self._fault(fault)
        ticket = path[len("/download/"):]
        with g.lock:
            target = g._downloads.get(ticket)
            g.downloads.append({"authorization": "Authorization" in self.headers, "host": self.headers.get("Host")})
        if target is None:
            return self._error(404, "itemNotFound", "Download expired")
        drive_id, item_id = target
        self._send(200, g.drives[drive_id].items[item_id].content, content_type="application/octet-stream")
