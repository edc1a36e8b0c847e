"""MIME mail (RFC 822 / .eml): subject, bodies and attachments, recursively.

Parsed with the standard library ``email`` package (compat32 policy): it is pure Python,
maintained with CPython, tolerant (it records defects instead of raising) and needs no extra
dependency. The parse goes through :mod:`scanner.extract.mimeparse`, the same parser with
CPython 3.13's cheaper multipart boundary match on Python 3.11 (the parse is the walk's hot
spot). Bodies become part ``"body"`` (plain text preferred over the HTML alternative),
the subject becomes part ``"subject"``, attachments become children named by their file name.
A missing or wrong charset and a broken multipart structure are recorded as errors but the
text is still read, because a half-broken mail is exactly where student data hides.
"""

from __future__ import annotations

import email.errors
import email.header
from email.message import Message
from typing import Any

from scanner.extract import mimeparse
from scanner.extract.errors import ExtractError
from scanner.extract.handler import Blob, WalkContext, here, sub
from scanner.extract.textual import decode, html_to_text

_SIGNATURES = {"application/pkcs7-signature", "application/x-pkcs7-signature",
               "application/pgp-signature"}
_SMIME = {"application/pkcs7-mime", "application/x-pkcs7-mime"}
_ENCRYPTED = {"application/pgp-encrypted"}

_BOUNDARY_DEFECTS = (
    email.errors.NoBoundaryInMultipartDefect,
    email.errors.StartBoundaryNotFoundDefect,
    email.errors.CloseBoundaryNotFoundDefect,
    email.errors.MultipartInvariantViolationDefect,
)


def decode_header_value(value: object) -> str:
    """Decode an RFC 2047 header to text without ever raising."""
    if value is None:
        return ""
    if isinstance(value, email.header.Header):
        value = str(value)
    text = str(value)
    try:
        chunks = email.header.decode_header(text)
    except Exception:  # noqa: BLE001 - malformed encoded-words: keep the raw header
        return text
    out: list[str] = []
    for chunk, charset in chunks:
        if isinstance(chunk, str):
            out.append(chunk)
            continue
        decoded, _ = decode(chunk, charset or None)
        out.append(decoded)
    return "".join(out).replace("\r", " ").replace("\n", " ").strip()


def raw_headers(msg: Message, raw: bytes) -> dict[str, Any]:
    """Subject and Date as the header parser gives them (text, undecoded), and the length of
    the header block: the bytes up to and including the first empty line (all of ``raw``
    when there is none), which tells a reader of the block alone whether it saw all of it."""
    if raw.startswith((b"\n", b"\r\n")):
        block = raw.index(b"\n") + 1
    else:
        ends = [i + len(mark) for mark in (b"\n\n", b"\n\r\n") if (i := raw.find(mark)) >= 0]
        block = min(ends) if ends else len(raw)
    subject, date = msg.get("Subject"), msg.get("Date")
    return {"subject": None if subject is None else str(subject),
            "date": None if date is None else str(date), "header_bytes": block}


_UNREAD: Any = object()


class _Part:
    """A part with its content type, file name and disposition, each read from its headers
    once, the first time the walk needs it. Why: every ``Message.get_content_type``,
    ``get_filename`` and ``get_content_disposition`` call searches and re-parses the headers,
    and the walk asks several times per part (an alternative's children are asked while the
    best one is chosen, again for attachments, again when visited). Read on first use, not all
    up front, so each is read at the point the walk first read it before."""

    __slots__ = ("_ctype", "_disposition", "_filename", "msg")

    def __init__(self, msg: Message) -> None:
        self.msg = msg
        self._ctype: str = _UNREAD
        self._filename: str | None = _UNREAD
        self._disposition: str | None = _UNREAD

    @property
    def ctype(self) -> str:
        if self._ctype is _UNREAD:
            self._ctype = self.msg.get_content_type()
        return self._ctype

    @property
    def filename(self) -> str | None:
        if self._filename is _UNREAD:
            self._filename = self.msg.get_filename()
        return self._filename

    @property
    def disposition(self) -> str | None:
        if self._disposition is _UNREAD:
            self._disposition = self.msg.get_content_disposition()
        return self._disposition


class _MailWalk:
    """State of one mail's walk: names already used for attachments, body chosen."""

    def __init__(self, walker: WalkContext, path: str, depth: int, chash: str) -> None:
        self.walker = walker
        self.path = path
        self.depth = depth
        self.chash = chash
        self.used: dict[str, int] = {}
        self.counter = 0

    def unique(self, name: str) -> str:
        count = self.used.get(name, 0)
        self.used[name] = count + 1
        if count == 0:
            return name
        stem, dot, ext = name.rpartition(".")
        return f"{stem} ({count + 1}).{ext}" if dot and stem else f"{name} ({count + 1})"

    def fallback(self, ext: str = "") -> str:
        self.counter += 1
        return f"bijlage-{self.counter}{ext}"

    def body_text(self, part: Message, payload: bytes, ctype: str) -> None:
        text, wrong = decode(payload, part.get_content_charset())
        where = here(self.path)
        if wrong:
            self.walker.error("bad_charset", where)
        if ctype == "text/html":
            text = html_to_text(text)
        self.walker.add_text(where, text, None, None, self.chash)

    def visit(self, node: _Part) -> None:
        walker = self.walker
        walker.tick()
        if walker.exhausted:
            return
        part = node.msg
        ctype = node.ctype
        if part.is_multipart():
            payload_parts = part.get_payload()
            if not isinstance(payload_parts, list):
                return
            # the parser makes a multipart's payload its sub-parts; the stubs also allow str
            children = [_Part(child) for child in payload_parts if isinstance(child, Message)]
            if ctype == "multipart/alternative" and children:
                self.visit(_best_alternative(children))
                # attachments hidden inside an alternative are still attachments
                for child in children:
                    if child.filename or child.disposition == "attachment":
                        self.visit(child)
                return
            for child in children:
                self.visit(child)
            return
        if ctype == "message/rfc822" or (ctype.startswith("message/") and
                                         isinstance(part.get_payload(), list)):
            inner = part.get_payload()
            if isinstance(inner, list) and inner and isinstance(inner[0], Message):
                filename = decode_header_value(node.filename) or self.fallback(".eml")
                try:
                    raw = inner[0].as_bytes()
                except Exception:  # noqa: BLE001 - unserialisable nested mail
                    walker.error("corrupt", sub(self.path, self.unique(filename)))
                    return
                walker.child(raw, self.unique(filename), self.path, self.depth + 1,
                             "bijlage.eml", fmt="mail")
            return
        if ctype in _SIGNATURES:
            return  # a detached S/MIME or PGP signature holds no text
        if ctype in _ENCRYPTED or (ctype in _SMIME and "enveloped" in str(part.get_param("smime-type") or "")):
            walker.error("encrypted", here(self.path))
            return
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes):
            payload = b""
        filename = decode_header_value(node.filename) if node.filename else ""
        disposition = node.disposition
        maintype = ctype.split("/")[0]  # what get_content_maintype() computes
        if maintype == "multipart":
            # declared multipart but unparsable (missing boundary): read the raw text
            walker.error("malformed_mime", here(self.path))
            undecoded = part.get_payload(decode=False)
            raw_bytes = undecoded.encode("utf-8", "replace") if isinstance(undecoded, str) else payload
            text, _ = decode(raw_bytes, part.get_content_charset())
            walker.add_text(here(self.path), text, None, None, self.chash)
            return
        if maintype == "text" and disposition != "attachment" and not filename:
            self.body_text(part, payload, ctype)
            return
        if not payload:
            return
        name = self.unique(filename or self.fallback(_guess_ext(ctype)))
        walker.child(payload, name, self.path, self.depth + 1, self.fallback(),
                     media_type=ctype)


def _best_alternative(children: list[_Part]) -> _Part:
    for wanted in ("text/plain", "text/html"):
        for child in children:
            if child.ctype == wanted and not child.filename:
                return child
    for child in children:
        if child.msg.is_multipart():
            return child
    return children[-1]


def _guess_ext(ctype: str) -> str:
    return {"application/pdf": ".pdf", "text/plain": ".txt", "text/html": ".html",
            "text/csv": ".csv", "application/ms-tnef": ".dat"}.get(ctype, "")


def handle_mail(walker: WalkContext, blob: Blob, name: str, path: str, depth: int, chash: str) -> None:
    raw = blob.read()
    try:
        msg = mimeparse.message_from_bytes(raw)
    except Exception as exc:
        raise ExtractError("corrupt") from exc
    if not path:
        # The analysis needs the item's subject and date; handing over the values parsed here
        # saves it reading and parsing the header block a second time.
        walker.mail_headers(raw_headers(msg, raw))
    subject = decode_header_value(msg.get("Subject"))
    if subject:
        walker.add_text(sub(path, "subject") if path else "subject", subject, None, None, chash)
    if any(isinstance(d, _BOUNDARY_DEFECTS) for p in msg.walk() for d in getattr(p, "defects", [])):
        walker.error("malformed_mime", here(path))
    _MailWalk(walker, path, depth, chash).visit(_Part(msg))
