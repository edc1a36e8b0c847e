"""Encryption at rest: the names the store keeps are unreadable without the installation's key.

Subjects, file names, paths, folder names, item and unit keys, links and owners are personal
data ("Handelingsplan Amira Öztürk.docx"). The store keeps them because the owner's own digest,
a link, an action or a fetch needs them, but a copy of the database file alone must reveal no
person. So every such column holds a ciphertext, made here, with a key that lives outside the
database in its own file (mode 0600, next to the HMAC secret by default), exactly like the
secret of :func:`scanner.core.privacy.load_or_create_secret`.

One primitive, AES-SIV (RFC 5297, :class:`cryptography.hazmat.primitives.ciphers.aead.AESSIV`,
a 512-bit key: AES-256 for both halves), in two modes:

* **sealed** (``e1:``): a fresh 16-byte random nonce per value, so equal subjects give unequal
  ciphertexts. Titles, item keys, links, labels, cursors, finding parts, error messages.
* **tagged** (``d1:``): deterministic, no nonce. The same owner, unit key or folder always gives
  the same ciphertext, so the store can look rows up, group and count by these columns in SQL
  without ever holding the clear value: the ciphertext doubles as the keyed hash. What that
  reveals to someone holding only the file is which rows share an owner, unit or folder,
  never who or which.

SIV is misuse-resistant (a repeated nonce only reveals equality, it breaks nothing), and it is
the one AEAD in ``cryptography`` with a deterministic mode, so the store needs neither a second
cipher nor separate hash columns (docs/decisions.md, 2026-12-01).

Why the values decrypt in Python, not in SQL: the database never sees a key, and the few prefix
questions the pipeline asks (items under a blind spot, keys under a unit) are answered over the
candidate rows of one unit, which an equality lookup on the tagged ``unit_key`` already narrows.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESSIV

from scanner.core.memo import remember

KEY_BYTES = 64
SEALED = "e1:"
TAGGED = "d1:"
_NONCE = 16
_CACHE_LIMIT = 8192
KEY_ID_META = "store_key_id"
"""The ``meta`` row that holds the fingerprint of the key the store's values are encrypted with
(never the key): a missing or different key is recognised before anything is read or written."""
ID_KEY_META = "item_id_key_id"
"""The ``meta`` row that holds the fingerprint of the secret item ids are keyed with."""


class StoreKeyError(Exception):
    """The store's key is missing, wrong or unreadable. The message is one line that says what
    to do; the database is left as it is (a key is never silently regenerated)."""


class FieldCipher:
    """Seals, tags and opens the store's personal text columns with one installation key."""

    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_BYTES:
            raise StoreKeyError(f"sleutel heeft {len(key)} bytes, verwacht {KEY_BYTES} / "
                                f"key has {len(key)} bytes, expected {KEY_BYTES}")
        self._siv = AESSIV(key)
        self.key_id = fingerprint(key)
        # Tagged values repeat (a few hundred owners, units and folders over a million items):
        # both directions are cached, so a scan pays the cipher once per distinct value.
        self._tags: dict[str, str] = {}
        self._opened: dict[str, str] = {}

    def seal(self, value: str | None) -> str | None:
        """Randomised ciphertext of ``value`` (None stays None)."""
        if value is None:
            return None
        nonce = os.urandom(_NONCE)
        data = self._siv.encrypt(value.encode("utf-8", "surrogatepass"), [nonce])
        return SEALED + _b64(nonce + data)

    def tag(self, value: str | None) -> str | None:
        """Deterministic ciphertext of ``value``: equal values, equal tags (for lookups)."""
        if value is None:
            return None
        cached = self._tags.get(value)
        if cached is None:
            cached = remember(self._tags, value,
                              TAGGED + _b64(self._siv.encrypt(value.encode("utf-8", "surrogatepass"), None)),
                              _CACHE_LIMIT)
            self._remember(cached, value)
        return cached

    def open(self, value: str | None) -> str | None:
        """The clear value of a sealed or tagged ciphertext (None stays None).

        A value that is neither is refused: after migration 0004 every value in these columns
        is encrypted, and silently passing a clear one through would hide a leak."""
        if value is None:
            return None
        cached = self._opened.get(value)
        if cached is not None:
            return cached
        try:
            if value.startswith(TAGGED):
                clear = self._siv.decrypt(_unb64(value[len(TAGGED):]), None).decode("utf-8", "surrogatepass")
                self._remember(value, clear)
                return clear
            if value.startswith(SEALED):
                raw = _unb64(value[len(SEALED):])
                return self._siv.decrypt(raw[_NONCE:], [raw[:_NONCE]]).decode("utf-8", "surrogatepass")
        except (InvalidTag, ValueError) as exc:
            raise StoreKeyError("een versleutelde waarde past niet bij de sleutel / an encrypted value "
                                "does not match the key (wrong key file?)") from exc
        raise StoreKeyError("onversleutelde waarde in een versleutelde kolom / clear value in an "
                            "encrypted column (run the store migrations)")

    def _remember(self, tag: str, clear: str) -> None:
        remember(self._opened, tag, clear, _CACHE_LIMIT)


def is_encrypted(value: str | None) -> bool:
    return value is not None and value.startswith((SEALED, TAGGED))


def fingerprint(key: bytes) -> str:
    """A key's public name: HMAC of a fixed label, so it identifies the key without revealing it."""
    return hmac.new(key, b"schoonschip store key", hashlib.sha256).hexdigest()[:16]


def new_key() -> bytes:
    return AESSIV.generate_key(KEY_BYTES * 8)


def read_key(path: Path) -> bytes:
    """The key in ``path`` (hex, one line)."""
    try:
        data = Path(path).read_text(encoding="ascii").strip()
        key = bytes.fromhex(data)
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise StoreKeyError(f"sleutelbestand {path} is onleesbaar / key file {path} is unreadable "
                            f"({type(exc).__name__})") from None
    if len(key) != KEY_BYTES:
        raise StoreKeyError(f"sleutelbestand {path} bevat geen sleutel van {KEY_BYTES} bytes / key file "
                            f"{path} does not hold a {KEY_BYTES}-byte key")
    return key


def write_key(path: Path, key: bytes) -> None:
    """Write a new key file (mode 0600, never over an existing one), flushed to disk before
    anything is encrypted with it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(key.hex() + "\n")
        handle.flush()
        os.fsync(handle.fileno())


class ItemIds:
    """Stable, opaque ids of items: HMAC-SHA256 under the store's id secret of ``item``, the
    source and the item key (NUL-separated, UTF-8 with surrogates passed), hex, 128 bits, so a
    copied database cannot be searched for a guessed path ("\\\\server\\leerlingen\\<name>.docx").

    The secret's HMAC pads are hashed once (RFC 2104: the digest of the outer pad and the digest
    of the inner pad and the message): per id two copies of a SHA-256 state and two short
    updates, where ``hmac.digest`` sets up OpenSSL's MAC anew on every call (2.6 times the CPU;
    the driver computes an id for every listed item of every scan). A test checks the ids
    against ``hmac.digest`` byte for byte."""

    __slots__ = ("_inner", "_outer")

    def __init__(self, secret: bytes) -> None:
        block = hashlib.sha256().block_size
        key = hashlib.sha256(secret).digest() if len(secret) > block else secret
        key = key.ljust(block, b"\0")
        self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in key))
        self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in key))
        self._inner.update(b"item\x00")

    def __call__(self, source: str, item_key: str) -> str:
        inner = self._inner.copy()
        inner.update(f"{source}\x00{item_key}".encode("utf-8", "surrogatepass"))
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.hexdigest()[:32]


def _b64(data: bytes) -> str:
    # base64.urlsafe_b64encode, without its two Python-level calls (a seal per item key and title)
    return binascii.b2a_base64(data, newline=False).translate(_URLSAFE).rstrip(b"=").decode("ascii")


_URLSAFE = bytes.maketrans(b"+/", b"-_")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
