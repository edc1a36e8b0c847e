"""Masking and keyed hashing: how schoonschip remembers a value without storing it.

The store, the logs and the reports only ever see two derived forms of a detected value:

* a *masked sample* that shows the shape of the value but not the value (``*****6782`` for a
  BSN, ``j***@***.nl`` for an e-mail address), so an IT person can judge a false positive;
* a *keyed hash*: HMAC-SHA256 over the entity type and the normalised value with a secret that
  is created once per installation and kept outside the database. The same BSN in two mails
  gives the same hash (so it can be counted and matched across runs), but without the secret
  a hash cannot be reversed by trying all 10^9 BSNs, which a plain SHA-256 could.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from pathlib import Path

_SECRET_BYTES = 32
_NON_ALNUM = re.compile(r"[^0-9a-z@.]+")


class ValueHasher:
    """Keyed hashing of detected values (HMAC-SHA256, truncated to 128 bits, hex)."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) < 16:
            raise ValueError("HMAC secret must be at least 16 bytes")
        self._secret = secret

    def hash(self, entity: str, value: str) -> str:
        normalised = normalise(value)
        digest = hmac.new(self._secret, f"{entity}\x00{normalised}".encode(), hashlib.sha256)
        return digest.hexdigest()[:32]

    def hash_text(self, text: str) -> str:
        """Keyed hash of an arbitrary text (roster names), normalised the same way."""
        return self.hash("TEXT", text)


def normalise(value: str) -> str:
    """The last step before every keyed hash: case-fold, then keep only ``a-z``, ``0-9``, ``@``
    and ``.``.

    It does *not* make ``1234.56.782`` and ``123456782`` alike: dots are kept (in e-mail
    addresses ``j.jansen@`` and ``jjansen@`` are different people). Numbers reach the hasher
    already in their canonical form (:mod:`detectors.canonical`). Letters outside a-z (``ë``)
    are dropped too; stored hashes depend on exactly this, so it must not change.
    """
    return _NON_ALNUM.sub("", value.casefold())


def mask(value: str, entity: str | None = None) -> str:
    """Return a masked sample of ``value`` that never reveals it.

    Numbers keep their last 4 digits only when they are long enough that 4 digits say little
    (9-digit BSN: 5 hidden); e-mail keeps the first letter and the top-level domain; names
    and everything else keep only the first letter and the length.
    """
    stripped = value.strip()
    if not stripped:
        return ""
    if entity == "EMAIL_ADDRESS" and "@" in stripped:
        local, _, domain = stripped.partition("@")
        tld = domain.rsplit(".", 1)[-1] if "." in domain else ""
        return f"{local[:1]}***@***.{tld}" if tld else f"{local[:1]}***@***"
    digits = re.sub(r"\D", "", stripped)
    if len(digits) >= 8 and len(digits) >= len(stripped) * 0.6:
        return "*" * (len(digits) - 4) + digits[-4:]
    if entity in {"IBAN_CODE"} and len(stripped) > 8:
        return stripped[:2] + "*" * (len(stripped) - 6) + stripped[-4:]
    if len(digits) >= 4 and len(digits) >= len(stripped) * 0.6:
        return "*" * (len(digits) - 2) + digits[-2:]
    return stripped[:1] + "*" * max(len(stripped) - 1, 2)


def redact(text: str, values: dict[str, str]) -> str:
    """Replace every occurrence of a detected value in ``text`` (a subject, an attachment name)
    by its masked sample. ``values`` maps value -> entity. Numbers match in any notation
    (``111.22.333`` for ``111222333``); other values match case-insensitively."""
    if not text or not values:
        return text
    for value, entity in sorted(values.items(), key=lambda item: -len(item[0])):
        digits = re.sub(r"\D", "", value)
        if len(digits) >= 6 and len(digits) >= len(re.sub(r"\s", "", value)) * 0.6:
            pattern = r"(?<!\d)" + r"[\s.\-/]?".join(digits) + r"(?!\d)"
        else:
            pattern = re.escape(value.strip())
        if pattern:
            # the mask as a literal replacement (backslashes escaped), the same for every match
            replacement = mask(value, entity).replace("\\", "\\\\")
            text = re.sub(pattern, replacement, text, flags=re.IGNORECASE)
    return text


def load_or_create_secret(path: Path) -> bytes:
    """Read the installation's HMAC secret, creating it (mode 0600) on first use.

    The secret lives next to the database by default but in its own file, so a copy of the
    database alone cannot be used to test guesses against the stored hashes.
    """
    path = Path(path)
    if path.exists():
        data = path.read_bytes().strip()
        return bytes.fromhex(data.decode()) if _is_hex(data) else data
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_bytes(_SECRET_BYTES)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(secret.hex())
    return secret


def _is_hex(data: bytes) -> bool:
    try:
        bytes.fromhex(data.decode())
    except (ValueError, UnicodeDecodeError):
        return False
    return len(data) >= 32
