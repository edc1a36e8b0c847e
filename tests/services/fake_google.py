"""A local fake of Google's OAuth2 token endpoint, Gmail API, Drive API v3 and the Admin SDK
Directory API, for the Google connector tests.

It follows Google's documented shapes, not what our client happens to send:

- Token endpoint (OAuth 2.0 for server-to-server applications): ``POST /token`` with
  ``grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer`` and an RS256 ``assertion`` whose
  claims are ``iss`` (the service account), ``scope`` (space-separated), ``aud``
  (``https://oauth2.googleapis.com/token``), ``iat``/``exp`` (at most an hour) and ``sub``
  (the impersonated user). The signature is checked against the service account's public
  key; a scope not granted in the "admin console" answers ``unauthorized_client``, an unknown user ``invalid_grant``.
- Errors are Google's JSON error shape ``{"error": {"code", "message", "status", "errors":
  [{"domain", "reason", "message"}]}}`` (403 ``rateLimitExceeded`` /
  ``userRateLimitExceeded``, 429, 404 ``notFound``, 400 ``failedPrecondition``).
- Gmail: ``users/{userId}/profile``, ``labels``, ``messages`` (``maxResults``, ``pageToken``,
  ``includeSpamTrash``, ``nextPageToken``), ``messages/{id}`` with ``format=metadata`` (and
  ``metadataHeaders``) or ``raw`` (base64url), ``history`` (``startHistoryId``,
  ``historyTypes``, paging, records with ``messagesAdded`` / ``messagesDeleted`` /
  ``labelsAdded`` / ``labelsRemoved`` and the mailbox's current ``historyId``; a start id older
  than the retained history answers 404).
- Directory: ``admin/directory/v1/users`` (``customer``, ``query=orgUnitPath='...'`` including
  sub-units) and ``groups/{groupKey}/members`` (``type`` USER/GROUP).

``fields`` partial responses are accepted and ignored (a superset is a valid answer). Faults can
be scheduled per path (429 and 403 rate limits with or without Retry-After, 500, 503, a dropped
connection); every request is logged as (method, path, query, subject).
"""

from __future__ import annotations

import base64
import itertools
import json
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
GOOGLE_TOKEN_AUDIENCE = "https://oauth2.googleapis.com/token"
"""The documented ``aud`` of the assertion, whatever host the token request is sent to."""
SYSTEM_LABELS = ("INBOX", "SENT", "DRAFT", "SPAM", "TRASH", "UNREAD", "STARRED", "IMPORTANT")


@dataclass
class GMessage:
    id: str
    labels: set[str]
    raw: bytes
    internal_date: int
    history_id: int


@dataclass
class GMailbox:
    email: str
    org_unit: str = "/"
    suspended: bool = False
    gmail: bool = True
    labels: dict[str, str] = field(default_factory=dict)  # user label id -> name
    messages: dict[str, GMessage] = field(default_factory=dict)
    history: list[dict[str, Any]] = field(default_factory=list)
    history_id: int = 1000
    history_floor: int = 0
    """Start ids below this are expired (404)."""


@dataclass
class Fault:
    kind: str
    pattern: re.Pattern[str]
    times: int
    retry_after: str | None = None
    query: re.Pattern[str] | None = None


class _Drop(Exception):
    pass


class FakeGoogle:
    """The fake server. Use as a context manager; ``base`` is its root URL."""

    def __init__(self) -> None:
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.client_email = "schoonschip@school-project.iam.gserviceaccount.com"
        self.granted_scopes: set[str] = {
            "https://www.googleapis.com/auth/gmail.readonly",
            "https://www.googleapis.com/auth/drive.readonly",
            "https://www.googleapis.com/auth/admin.directory.user.readonly",
            "https://www.googleapis.com/auth/admin.directory.group.member.readonly",
        }
        self.admins: set[str] = set()
        self.users: dict[str, GMailbox] = {}
        self.groups: dict[str, list[tuple[str, str]]] = {}
        self.tokens: dict[str, tuple[str, set[str], float]] = {}
        self.faults: list[Fault] = []
        self.requests: list[tuple[str, str, str, str]] = []
        self.token_requests = 0
        self.drive = FakeDrive(self)
        self._ids = itertools.count(1)
        self._lock = threading.RLock()
        self._server: ThreadingHTTPServer | None = None

    # -- lifecycle ------------------------------------------------------------------------------

    def __enter__(self) -> FakeGoogle:
        fake = self

        class Handler(_Handler):
            server_fake = fake

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def base(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}/"

    @property
    def token_uri(self) -> str:
        return self.base + "token"

    def key_json(self) -> str:
        """A service-account key file as the Cloud console downloads it."""
        pem = self._key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()
        return json.dumps({
            "type": "service_account", "project_id": "school-project", "private_key_id": "k1",
            "private_key": pem, "client_email": self.client_email, "client_id": "1234567890",
            "auth_uri": "https://accounts.google.com/o/oauth2/auth",
            "token_uri": "https://oauth2.googleapis.com/token",
        })

    # -- state: Gmail -----------------------------------------------------------------------

    def next_id(self) -> str:
        return f"18c{next(self._ids):013x}"

    def add_user(self, email: str, org_unit: str = "/", *, gmail: bool = True, suspended: bool = False) -> GMailbox:
        with self._lock:
            box = GMailbox(email.lower(), org_unit=org_unit, gmail=gmail, suspended=suspended)
            self.users[box.email] = box
            return box

    def add_label(self, email: str, name: str) -> str:
        with self._lock:
            box = self.users[email]
            label_id = f"Label_{next(self._ids)}"
            box.labels[label_id] = name
            return label_id

    def _record(self, box: GMailbox, kind: str, message: GMessage, labels: list[str] | None = None) -> None:
        box.history_id += 1
        message.history_id = box.history_id
        entry: dict[str, Any] = {"message": {"id": message.id, "threadId": message.id,
                                             "labelIds": sorted(message.labels)}}
        if labels is not None:
            entry["labelIds"] = labels
        box.history.append({"id": str(box.history_id), "kind": kind, "entry": entry})

    def add_message(self, email: str, subject: str, labels: tuple[str, ...] = ("INBOX",), *,
                    body: str = "Hallo.", received: str = "2021-03-02T08:00:00Z", size_pad: int = 0) -> GMessage:
        with self._lock:
            box = self.users[email]
            when = datetime.fromisoformat(received.replace("Z", "+00:00"))
            mime = EmailMessage()
            mime["From"] = "ouder@example.nl"
            mime["To"] = email
            mime["Subject"] = subject
            mime["Date"] = format_datetime(when)
            mime.set_content(body + ("\n" + "x" * size_pad if size_pad else ""))
            message = GMessage(self.next_id(), set(labels), mime.as_bytes(), int(when.timestamp() * 1000), 0)
            box.messages[message.id] = message
            self._record(box, "messagesAdded", message)
            return message

    def relabel(self, email: str, message_id: str, add: tuple[str, ...] = (), remove: tuple[str, ...] = ()) -> None:
        with self._lock:
            box = self.users[email]
            message = box.messages[message_id]
            if add:
                message.labels |= set(add)
                self._record(box, "labelsAdded", message, list(add))
            if remove:
                message.labels -= set(remove)
                self._record(box, "labelsRemoved", message, list(remove))

    def delete_message(self, email: str, message_id: str) -> None:
        with self._lock:
            box = self.users[email]
            message = box.messages.pop(message_id)
            self._record(box, "messagesDeleted", message)

    def expire_history(self, email: str) -> None:
        """Gmail keeps history for a limited time: every start id issued so far becomes invalid."""
        with self._lock:
            box = self.users[email]
            box.history_floor = box.history_id + 1
            box.history.clear()
            box.history_id += 1

    def add_group(self, email: str, members: list[tuple[str, str]]) -> None:
        self.groups[email.lower()] = members

    # -- faults and log ---------------------------------------------------------------------

    def inject(self, kind: str, pattern: str, times: int = 1, retry_after: str | None = None,
               query: str | None = None) -> None:
        """``kind``: 429, 403rate, 403user, 500, 503, drop; ``pattern`` matches the path,
        ``query`` (optional) the query string."""
        self.faults.append(Fault(kind, re.compile(pattern), times, retry_after,
                                 re.compile(query) if query else None))

    def take_fault(self, path: str, query: str = "") -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.times > 0 and fault.pattern.search(path) and (
                    fault.query is None or fault.query.search(query)
                ):
                    fault.times -= 1
                    return fault
        return None

    def logged(self, pattern: str = "") -> list[tuple[str, str, str, str]]:
        regex = re.compile(pattern)
        return [r for r in self.requests if regex.search(r[1])]

    # -- token --------------------------------------------------------------------------------

    def issue(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        self.token_requests += 1
        if form.get("grant_type") != JWT_BEARER:
            return 400, {"error": "unsupported_grant_type", "error_description": "Invalid grant_type"}
        public = self._key.public_key()
        try:
            claims = jwt.decode(form.get("assertion", ""), public, algorithms=["RS256"],
                                audience=GOOGLE_TOKEN_AUDIENCE, options={"require": ["iss", "aud", "iat", "exp"]})
        except jwt.PyJWTError:
            return 400, {"error": "invalid_grant", "error_description": "Invalid JWT Signature."}
        if claims.get("iss") != self.client_email or claims["exp"] - claims["iat"] > 3600:
            return 400, {"error": "invalid_grant", "error_description": "Invalid JWT: claims"}
        scopes = set(str(claims.get("scope", "")).split())
        if not scopes or not scopes <= self.granted_scopes:
            return 401, {"error": "unauthorized_client",
                         "error_description": "Client is unauthorized to retrieve access tokens using this method, "
                                              "or client not authorized for any of the scopes requested."}
        subject = str(claims.get("sub") or "").lower()
        if subject not in self.users and subject not in self.admins:
            return 400, {"error": "invalid_grant", "error_description": "Invalid email or User ID"}
        token = "ya29." + secrets.token_urlsafe(24)
        self.tokens[token] = (subject, scopes, time.time() + 3599)
        return 200, {"access_token": token, "expires_in": 3599, "token_type": "Bearer"}


def gerror(status: int, reason: str, message: str, state: str) -> dict[str, Any]:
    return {"error": {"code": status, "message": message, "status": state,
                      "errors": [{"message": message, "domain": "global", "reason": reason}]}}


class HttpAnswer(Exception):
    def __init__(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = headers or {}


def not_found(what: str = "Requested entity was not found.") -> HttpAnswer:
    return HttpAnswer(404, gerror(404, "notFound", what, "NOT_FOUND"))


def _page(items: list[Any], query: dict[str, list[str]], default: int, limit: int) -> tuple[list[Any], str | None]:
    size = min(int(query.get("maxResults", [str(default)])[0]), limit)
    start = int(query.get("pageToken", ["0"])[0] or 0)
    end = start + size
    return items[start:end], (str(end) if end < len(items) else None)


class _Handler(BaseHTTPRequestHandler):
    server_fake: FakeGoogle
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send(self, status: int, data: dict[str, Any] | bytes, headers: dict[str, str] | None = None,
              content_type: str = "application/json; charset=UTF-8") -> None:
        body = data if isinstance(data, bytes) else json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def _dispatch(self, method: str) -> None:
        fake = self.server_fake
        parts = urlsplit(self.path)
        path = unquote(parts.path)
        query = parse_qs(parts.query)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        try:
            if path == "/token" and method == "POST":
                form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
                fake.requests.append((method, path, "", ""))
                status, answer = fake.issue(form)
                self._send(status, answer)
                return
            subject, scopes = self._auth()
            fake.requests.append((method, path, parts.query, subject))
            fault = fake.take_fault(path, parts.query)
            if fault is not None:
                self._fault(fault)
                return
            if path.startswith("/gmail/v1/users/"):
                self._send(200, self._gmail(path[len("/gmail/v1/users/"):], query, subject, scopes))
            elif path.startswith("/admin/directory/v1/"):
                self._send(200, self._directory(path[len("/admin/directory/v1/"):], query, subject, scopes))
            elif path.startswith("/drive/v3/"):
                status, data, content_type = fake.drive.handle(method, path, query, subject, scopes)
                self._send(status, data, content_type=content_type)
            else:
                raise not_found()
        except HttpAnswer as answer:
            self._send(answer.status, answer.body, answer.headers)
        except _Drop:
            self.close_connection = True
            try:
                self.connection.shutdown(2)
            except OSError:
                pass

    def _auth(self) -> tuple[str, set[str]]:
        header = self.headers.get("Authorization", "")
        token = header[7:] if header.startswith("Bearer ") else ""
        found = self.server_fake.tokens.get(token)
        if found is None or found[2] < time.time():
            raise HttpAnswer(401, gerror(401, "authError", "Invalid Credentials", "UNAUTHENTICATED"),
                             {"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/"'})
        return found[0], found[1]

    def _fault(self, fault: Fault) -> None:
        headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
        if fault.kind == "drop":
            raise _Drop()
        if fault.kind == "429":
            raise HttpAnswer(429, gerror(429, "rateLimitExceeded", "Too many requests", "RESOURCE_EXHAUSTED"), headers)
        if fault.kind == "403rate":
            raise HttpAnswer(403, gerror(403, "rateLimitExceeded", "Rate Limit Exceeded", "PERMISSION_DENIED"),
                             headers)
        if fault.kind == "403user":
            raise HttpAnswer(403, gerror(403, "userRateLimitExceeded", "User Rate Limit Exceeded",
                                         "PERMISSION_DENIED"), headers)
        status = int(fault.kind)
        raise HttpAnswer(status, gerror(status, "backendError", "Backend Error", "UNAVAILABLE"), headers)

    # -- Gmail ----------------------------------------------------------------------------------

    def _gmail(self, rest: str, query: dict[str, list[str]], subject: str, scopes: set[str]) -> dict[str, Any]:
        fake = self.server_fake
        if "https://www.googleapis.com/auth/gmail.readonly" not in scopes:
            raise HttpAnswer(403, gerror(403, "insufficientPermissions", "Insufficient Permission",
                                         "PERMISSION_DENIED"))
        user_id, _, tail = rest.partition("/")
        email = subject if user_id == "me" else user_id.lower()
        if email != subject:
            raise HttpAnswer(403, gerror(403, "forbidden", "Delegation denied", "PERMISSION_DENIED"))
        with fake._lock:
            box = fake.users.get(email)
            if box is None:
                raise not_found()
            if not box.gmail:
                raise HttpAnswer(400, gerror(400, "failedPrecondition", "Mail service not enabled",
                                             "FAILED_PRECONDITION"))
            if tail == "profile":
                return {"emailAddress": box.email, "messagesTotal": len(box.messages),
                        "threadsTotal": len(box.messages), "historyId": str(box.history_id)}
            if tail == "labels":
                system = [{"id": x, "name": x, "type": "system"} for x in SYSTEM_LABELS]
                own = [{"id": i, "name": n, "type": "user"} for i, n in box.labels.items()]
                return {"labels": system + own}
            if tail == "messages":
                spam_trash = query.get("includeSpamTrash", ["false"])[0] == "true"
                listed = [m for m in sorted(box.messages.values(), key=lambda m: -m.internal_date)
                          if spam_trash or not m.labels & {"SPAM", "TRASH"}]
                page, token = _page(listed, query, 100, 500)
                answer: dict[str, Any] = {"messages": [{"id": m.id, "threadId": m.id} for m in page],
                                          "resultSizeEstimate": len(listed)}
                if not page:
                    answer = {"resultSizeEstimate": 0}
                if token:
                    answer["nextPageToken"] = token
                return answer
            if tail.startswith("messages/"):
                message = box.messages.get(tail[len("messages/"):])
                if message is None:
                    raise not_found()
                return self._message(message, query)
            if tail == "history":
                return self._history(box, query)
        raise not_found()

    @staticmethod
    def _message(message: GMessage, query: dict[str, list[str]]) -> dict[str, Any]:
        fmt = query.get("format", ["full"])[0]
        base: dict[str, Any] = {"id": message.id, "threadId": message.id, "labelIds": sorted(message.labels),
                                "historyId": str(message.history_id), "internalDate": str(message.internal_date),
                                "sizeEstimate": len(message.raw), "snippet": ""}
        if fmt == "raw":
            base["raw"] = base64.urlsafe_b64encode(message.raw).decode()
            return base
        if fmt == "metadata":
            import email as email_lib

            parsed = email_lib.message_from_bytes(message.raw)
            wanted = {h.lower() for h in query.get("metadataHeaders", [])}
            headers = [{"name": k, "value": str(v)} for k, v in parsed.items() if not wanted or k.lower() in wanted]
            base["payload"] = {"mimeType": parsed.get_content_type(), "headers": headers}
            return base
        if fmt == "minimal":
            return base
        raise HttpAnswer(400, gerror(400, "invalidArgument", "Invalid format", "INVALID_ARGUMENT"))

    @staticmethod
    def _history(box: GMailbox, query: dict[str, list[str]]) -> dict[str, Any]:
        start_text = query.get("startHistoryId", [""])[0]
        if not start_text.isdigit():
            raise HttpAnswer(400, gerror(400, "invalidArgument", "Invalid startHistoryId", "INVALID_ARGUMENT"))
        start = int(start_text)
        if start < box.history_floor:
            raise not_found()
        types = set(query.get("historyTypes", [])) or {"messageAdded", "messageDeleted", "labelAdded", "labelRemoved"}
        kind_of = {"messagesAdded": "messageAdded", "messagesDeleted": "messageDeleted",
                   "labelsAdded": "labelAdded", "labelsRemoved": "labelRemoved"}
        records = []
        for record in box.history:
            if int(record["id"]) > start and kind_of[record["kind"]] in types:
                records.append({"id": record["id"], "messages": [record["entry"]["message"]],
                                record["kind"]: [record["entry"]]})
        page, token = _page(records, query, 100, 500)
        answer: dict[str, Any] = {"historyId": str(box.history_id)}
        if page:
            answer["history"] = page
        if token:
            answer["nextPageToken"] = token
        return answer

    # -- Directory ------------------------------------------------------------------------------

    def _directory(self, rest: str, query: dict[str, list[str]], subject: str, scopes: set[str]) -> dict[str, Any]:
        fake = self.server_fake
        if subject not in fake.admins:
            raise HttpAnswer(403, gerror(403, "forbidden", "Not Authorized to access this resource/api",
                                         "PERMISSION_DENIED"))
        if rest == "users":
            if "https://www.googleapis.com/auth/admin.directory.user.readonly" not in scopes:
                raise HttpAnswer(403, gerror(403, "insufficientPermissions", "Insufficient Permission",
                                             "PERMISSION_DENIED"))
            text = query.get("query", [""])[0]
            match = re.fullmatch(r"orgUnitPath='((?:[^'\\]|\\.)*)'", text) if text else None
            wanted = match.group(1).replace("\\'", "'") if match else None
            users = [u for u in fake.users.values()
                     if wanted is None or u.org_unit == wanted or u.org_unit.startswith(wanted.rstrip("/") + "/")]
            page, token = _page([{"primaryEmail": u.email, "orgUnitPath": u.org_unit, "suspended": u.suspended}
                                 for u in users], query, 100, 500)
            answer: dict[str, Any] = {"kind": "admin#directory#users", "users": page}
            if token:
                answer["nextPageToken"] = token
            return answer
        match = re.fullmatch(r"groups/([^/]+)/members", rest)
        if match:
            members = fake.groups.get(match.group(1).lower())
            if members is None:
                raise not_found("Resource Not Found: groupKey")
            rows = [{"email": email, "type": kind, "status": "ACTIVE", "role": "MEMBER"} for kind, email in members]
            page, token = _page(rows, query, 200, 200)
            answer = {"kind": "admin#directory#members", "members": page}
            if token:
                answer["nextPageToken"] = token
            return answer
        raise not_found()


# -- Drive API v3 -----------------------------------------------------------------------------

FOLDER_MIME = "application/vnd.google-apps.folder"
EXPORT_LIMIT = 10 * 1024 * 1024
"""files.export refuses larger results with 403 exportSizeLimitExceeded (Drive API docs)."""
EXPORTS = {
    "application/vnd.google-apps.document": {
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "application/pdf", "text/plain"},
    "application/vnd.google-apps.spreadsheet": {
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "application/pdf", "text/csv"},
    "application/vnd.google-apps.presentation": {
        "application/vnd.openxmlformats-officedocument.presentationml.presentation", "application/pdf"},
}


@dataclass
class DFile:
    id: str
    name: str
    mime: str
    parent: str
    owner: str | None
    drive_id: str | None
    content: bytes = b""
    version: int = 1
    modified: str = "2021-03-02T08:00:00.000Z"
    trashed: bool = False
    export_size: int | None = None
    """Size of the exported file of a native Google file (default: len(content))."""


class FakeDrive:
    """Files in My Drive of users and in shared drives, with a change log."""

    def __init__(self, fake: FakeGoogle) -> None:
        self.fake = fake
        self.files: dict[str, DFile] = {}
        self.shared: dict[str, tuple[str, set[str]]] = {}  # drive id -> (name, members)
        self.roots: dict[str, str] = {}  # user -> root folder id
        self.changes: list[tuple[int, str]] = []  # (change number, file id)
        self.forbidden: set[tuple[str, str]] = set()  # (subject, drive id) answering 403
        self._clock = itertools.count(1)

    def _touch(self, item: DFile) -> None:
        n = next(self._clock)
        item.version += 1
        item.modified = f"2021-04-{1 + n % 27:02d}T08:{n % 60:02d}:00.000Z"
        self.changes.append((len(self.changes) + 1, item.id))

    def root(self, owner: str) -> str:
        if owner not in self.roots:
            self.roots[owner] = "0A" + self.fake.next_id()
            self.files[self.roots[owner]] = DFile(self.roots[owner], "My Drive", FOLDER_MIME, "", owner, None)
        return self.roots[owner]

    def add_shared_drive(self, drive_id: str, name: str, members: set[str]) -> None:
        self.shared[drive_id] = (name, {m.lower() for m in members})
        self.files[drive_id] = DFile(drive_id, name, FOLDER_MIME, "", None, drive_id)

    def folder(self, path: str, owner: str | None = None, drive_id: str | None = None) -> str:
        with self.fake._lock:
            parent = drive_id if drive_id else self.root(owner or "")
            for name in [p for p in path.split("/") if p]:
                found = next((f for f in self.files.values() if f.parent == parent and f.name == name
                              and f.mime == FOLDER_MIME and not f.trashed), None)
                if found is None:
                    found = DFile(self.fake.next_id(), name, FOLDER_MIME, parent, owner, drive_id)
                    self.files[found.id] = found
                    self._touch(found)
                parent = found.id
            return parent

    def add_file(self, path: str, content: bytes = b"", *, owner: str | None = None, drive_id: str | None = None,
                 mime: str = "text/plain", export_size: int | None = None) -> DFile:
        with self.fake._lock:
            folder, _, name = path.rpartition("/")
            parent = self.folder(folder, owner, drive_id)
            item = DFile(self.fake.next_id(), name, mime, parent, None if drive_id else owner, drive_id,
                         content, export_size=export_size)
            self.files[item.id] = item
            self._touch(item)
            return item

    def modify(self, file_id: str, content: bytes) -> None:
        with self.fake._lock:
            self.files[file_id].content = content
            self._touch(self.files[file_id])

    def trash(self, file_id: str) -> None:
        with self.fake._lock:
            self.files[file_id].trashed = True
            self._touch(self.files[file_id])

    def delete(self, file_id: str) -> None:
        with self.fake._lock:
            item = self.files[file_id]
            item.trashed = True
            item.mime = "deleted"
            self.changes.append((len(self.changes) + 1, item.id))

    # -- protocol ---------------------------------------------------------------------------

    def _resource(self, item: DFile, subject: str) -> dict[str, Any]:
        data: dict[str, Any] = {
            "kind": "drive#file", "id": item.id, "name": item.name, "mimeType": item.mime,
            "parents": [item.parent] if item.parent else [], "trashed": item.trashed,
            "modifiedTime": item.modified, "version": str(item.version),
            "webViewLink": f"https://drive.google.com/file/d/{item.id}/view?usp=drivesdk",
            "ownedByMe": item.owner == subject,
        }
        if item.owner:
            data["owners"] = [{"emailAddress": item.owner, "kind": "drive#user"}]
        if item.drive_id:
            data["driveId"] = item.drive_id
        if not item.mime.startswith("application/vnd.google-apps."):
            import hashlib

            data["md5Checksum"] = hashlib.md5(item.content).hexdigest()
            data["size"] = str(len(item.content))
        return data

    def _visible(self, item: DFile, subject: str, drive_id: str | None) -> bool:
        if item.mime == "deleted" or item.id in self.shared or item.id in self.roots.values():
            return False
        if drive_id:
            return item.drive_id == drive_id
        return item.drive_id is None and item.owner == subject

    def _check_drive(self, drive_id: str | None, subject: str) -> None:
        if not drive_id:
            return
        if (subject, drive_id) in self.forbidden:
            raise HttpAnswer(403, gerror(403, "insufficientFilePermissions",
                                         "The user does not have sufficient permissions for this file.",
                                         "PERMISSION_DENIED"))
        if drive_id not in self.shared or subject not in self.shared[drive_id][1]:
            raise not_found(f"Shared drive not found: {drive_id}")

    def handle(self, method: str, path: str, query: dict[str, list[str]], subject: str,
               scopes: set[str]) -> tuple[int, dict[str, Any] | bytes, str]:
        if "https://www.googleapis.com/auth/drive.readonly" not in scopes:
            raise HttpAnswer(403, gerror(403, "insufficientPermissions", "Insufficient Permission",
                                         "PERMISSION_DENIED"))
        one = query.get
        drive_id = one("driveId", [None])[0]
        with self.fake._lock:
            if path == "/drive/v3/changes/startPageToken":
                self._check_drive(drive_id, subject)
                return 200, {"kind": "drive#startPageToken", "startPageToken": str(len(self.changes) + 1)}, JSON
            if path == "/drive/v3/changes":
                self._check_drive(drive_id, subject)
                if drive_id and one("supportsAllDrives", ["false"])[0] != "true":
                    raise HttpAnswer(400, gerror(400, "invalid", "supportsAllDrives required", "INVALID_ARGUMENT"))
                token = one("pageToken", [""])[0]
                if not token.isdigit() or int(token) < 1:
                    raise HttpAnswer(400, gerror(400, "invalid", "Invalid Value", "INVALID_ARGUMENT"))
                size = min(int(one("pageSize", ["100"])[0]), 1000)
                start = int(token)
                rows = []
                last = start
                latest: dict[str, int] = {}
                for number, file_id in self.changes:
                    latest[file_id] = number
                for number, file_id in self.changes[start - 1:]:
                    last = number + 1
                    if latest[file_id] != number:
                        continue  # Drive lists a file once, with its latest state
                    item = self.files[file_id]
                    if drive_id and item.drive_id != drive_id or not drive_id and item.drive_id is not None:
                        continue
                    if not drive_id and item.owner != subject:
                        continue
                    change: dict[str, Any] = {"kind": "drive#change", "changeType": "file", "fileId": file_id,
                                              "time": item.modified, "removed": item.mime == "deleted"}
                    if item.mime != "deleted":
                        change["file"] = self._resource(item, subject)
                    rows.append(change)
                    if len(rows) == size:
                        break
                answer: dict[str, Any] = {"kind": "drive#changeList", "changes": rows}
                if last <= len(self.changes) and len(rows) == size:
                    answer["nextPageToken"] = str(last)
                else:
                    answer["newStartPageToken"] = str(len(self.changes) + 1)
                return 200, answer, JSON
            if path == "/drive/v3/files":
                corpora = one("corpora", ["user"])[0]
                if corpora == "drive":
                    self._check_drive(drive_id, subject)
                    if one("includeItemsFromAllDrives", ["false"])[0] != "true":
                        raise HttpAnswer(400, gerror(400, "invalid", "includeItemsFromAllDrives required",
                                                     "INVALID_ARGUMENT"))
                q = one("q", [""])[0]
                items = [f for f in self.files.values() if self._visible(f, subject, drive_id if corpora == "drive"
                                                                         else None)]
                if "trashed = false" in q:
                    items = [f for f in items if not f.trashed]
                page, token2 = _page_size(items, query)
                answer = {"kind": "drive#fileList", "files": [self._resource(f, subject) for f in page]}
                if token2:
                    answer["nextPageToken"] = token2
                return 200, answer, JSON
            match = re.fullmatch(r"/drive/v3/files/([^/]+)(/export)?", path)
            if match:
                item = self.files.get(match.group(1))
                members = self.shared.get(item.drive_id or "", ("", set()))[1] if item else set()
                if item is None or item.mime == "deleted" or not (item.owner == subject or subject in members):
                    raise not_found(f"File not found: {match.group(1)}.")
                if match.group(2):
                    wanted = one("mimeType", [""])[0]
                    if wanted not in EXPORTS.get(item.mime, set()):
                        raise HttpAnswer(403, gerror(403, "fileNotExportable", "Export only supports Docs Editors "
                                                     "files.", "PERMISSION_DENIED"))
                    size = item.export_size if item.export_size is not None else len(item.content)
                    if size > EXPORT_LIMIT:
                        raise HttpAnswer(403, gerror(403, "exportSizeLimitExceeded",
                                                     "This file is too large to be exported.", "PERMISSION_DENIED"))
                    return 200, item.content, wanted
                if one("alt", [""])[0] == "media":
                    if item.mime.startswith("application/vnd.google-apps."):
                        raise HttpAnswer(403, gerror(403, "fileNotDownloadable", "Only files with binary content "
                                                     "can be downloaded. Use Export with Docs Editors files.",
                                                     "PERMISSION_DENIED"))
                    return 200, item.content, item.mime
                return 200, self._resource(item, subject), JSON
        raise not_found()


JSON = "application/json; charset=UTF-8"


def _page_size(items: list[Any], query: dict[str, list[str]]) -> tuple[list[Any], str | None]:
    size = min(int(query.get("pageSize", ["100"])[0]), 1000)
    start = int(query.get("pageToken", ["0"])[0] or 0)
    return items[start:start + size], (str(start + size) if start + size < len(items) else None)
