"""Answer links: an encrypted, signed, expiring claim "this owner, these items, this action".

Why Fernet (from ``cryptography``) and not a signed-only token: the claim names the owner and
the items, and a link travels through mail servers, link scanners and proxy logs. A signed
token (itsdangerous, JWT) is readable by anyone who has the link; Fernet (AES-128-CBC +
HMAC-SHA256, with its own timestamp) hides what it carries and refuses any change, so the URL
shows nothing personal and nothing guessable. The key is derived (HKDF) from the installation
secret the value hashes use, with its own label, so the two uses never share a key and no new
secret has to be kept. See docs/decisions.md (2026-12-01, answer links).

The claim is packed in bytes, not JSON, so a link for a whole folder of 100 items stays
under about 2,300 characters (item ids are 16 bytes each).
"""

from __future__ import annotations

import base64
import secrets
import struct
import time
from dataclasses import dataclass

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from scanner.answers.model import ACTIONS, DESTRUCTIVE, TERUGDRAAIEN

_VERSION = 1
_CODES = {action: code for code, action in enumerate((*ACTIONS, TERUGDRAAIEN), start=1)}
_ACTIONS = {code: action for action, code in _CODES.items()}
_NONCE = 12
MAX_ITEMS = 100
"""At most this many items per link (a folder group above it gets a link for its first 100)."""


class LinkError(Exception):
    """A link that cannot be used: ``forged`` (changed, made with another key, garbled) or
    ``expired``. The message never repeats the link."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class Claim:
    """What a valid link says. ``nonce`` identifies the link (a single-use link is spent by
    storing it); ``issued`` is when it was made (POSIX seconds)."""

    owner: str
    action: str
    item_ids: tuple[str, ...]
    nonce: str
    issued: int

    @property
    def destructive(self) -> bool:
        return self.action in DESTRUCTIVE


def derive_key(secret: bytes, label: bytes) -> bytes:
    """A 32-byte key for one purpose, derived from the installation secret."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=label).derive(secret)


class LinkCodec:
    """Makes and reads answer links with the installation secret."""

    def __init__(self, secret: bytes, *, link_days: int = 28, undo_days: int = 30) -> None:
        key = derive_key(secret, b"schoonschip answer links v1")
        self._fernet = Fernet(base64.urlsafe_b64encode(key))
        self._ttl = dict.fromkeys(ACTIONS, link_days * 86400)
        self._ttl[TERUGDRAAIEN] = undo_days * 86400

    def make(self, owner: str, action: str, item_ids: tuple[str, ...] | list[str],
             now: float | None = None) -> str:
        """The token for a link (URL-safe, no padding)."""
        if action not in _CODES:
            raise ValueError(f"unknown action {action!r}")
        ids = tuple(item_ids)
        if not ids or len(ids) > MAX_ITEMS:
            raise ValueError(f"a link holds 1 to {MAX_ITEMS} items")
        owner_bytes = owner.encode("utf-8")
        packed = struct.pack(">BB", _VERSION, _CODES[action]) + secrets.token_bytes(_NONCE)
        packed += struct.pack(">H", len(owner_bytes)) + owner_bytes + b"".join(bytes.fromhex(i) for i in ids)
        issued = int(now if now is not None else time.time())
        return self._fernet.encrypt_at_time(packed, issued).decode("ascii").rstrip("=")

    def read(self, token: str, now: float | None = None) -> Claim:
        """The claim of ``token``, or :class:`LinkError` (``forged`` or ``expired``)."""
        raw = (token + "=" * (-len(token) % 4)).encode("ascii", "replace")
        try:
            issued = self._fernet.extract_timestamp(raw)  # checks the signature
            packed = self._fernet.decrypt(raw)
        except (InvalidToken, ValueError, TypeError):
            raise LinkError("forged") from None
        try:
            version, code = struct.unpack_from(">BB", packed)
            nonce = packed[2:2 + _NONCE]
            (length,) = struct.unpack_from(">H", packed, 2 + _NONCE)
            start = 4 + _NONCE
            owner = packed[start:start + length].decode("utf-8")
            rest = packed[start + length:]
            action = _ACTIONS[code]
        except (struct.error, KeyError, UnicodeDecodeError):
            raise LinkError("forged") from None
        if version != _VERSION or len(nonce) != _NONCE or not rest or len(rest) % 16:
            raise LinkError("forged")
        current = now if now is not None else time.time()
        if current - issued > self._ttl[action] or issued - current > 300:
            raise LinkError("expired")
        ids = tuple(rest[i:i + 16].hex() for i in range(0, len(rest), 16))
        return Claim(owner=owner, action=action, item_ids=ids, nonce=nonce.hex(), issued=issued)
