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
        self.drive: Any = None  # set by the Drive part (tests.services.fake_google_drive)
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
            elif path.startswith(("/drive/v3/", "/download/")) and fake.drive is not None:
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
