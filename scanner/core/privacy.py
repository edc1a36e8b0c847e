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

import functools
import hashlib
import hmac
import os
import re
import secrets
from pathlib import Path
from typing import Protocol

_SECRET_BYTES = 32
_BLOCK = 64  # SHA-256's block size, HMAC's key length
_XOR_IPAD = bytes(b ^ 0x36 for b in range(256))
_XOR_OPAD = bytes(b ^ 0x5C for b in range(256))
_NON_ALNUM = re.compile(r"[^0-9a-z@.]+")
_NON_DIGIT = re.compile(r"\D")
_DIGIT = re.compile(r"\d")


class ValueHasher:
    """Keyed hashing of detected values (HMAC-SHA256, truncated to 128 bits, hex)."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) < 16:
            raise ValueError("HMAC secret must be at least 16 bytes")
        self._secret = secret
        # HMAC-SHA256 as RFC 2104 defines it: sha256((K ^ opad) + sha256((K ^ ipad) + message)),
        # K the secret (its sha256 when longer than the 64-byte block) padded with zeros. The two
        # keyed states are hashed once here and copied per value: ``hmac.digest`` builds and
        # keys a new OpenSSL HMAC context on every call, about twice the instructions of two
        # state copies (callgrind; detection hashes every distinct finding of a batch and the
        # roster every candidate window). tests/core/test_privacy_speed.py pins it to hmac.digest.
        key = secret if len(secret) <= _BLOCK else hashlib.sha256(secret).digest()
        key = key.ljust(_BLOCK, b"\0")
        self._inner = hashlib.sha256(key.translate(_XOR_IPAD))
        self._outer = hashlib.sha256(key.translate(_XOR_OPAD))

    def __reduce__(self) -> tuple[type[ValueHasher], tuple[bytes]]:
        # hashlib states cannot be pickled; a copy sent to a worker keys its own from the secret
        return ValueHasher, (self._secret,)

    def hash(self, entity: str, value: str) -> str:
        inner = self._inner.copy()
        inner.update(f"{entity}\x00{normalise(value)}".encode())
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.hexdigest()[:32]

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
    # precompiled (not re.sub with its pattern-cache lookup): once per distinct value of a batch.
    # Names and terms hold no digit, and removing each of their characters as a match of \D
    # was most of masking them (a list entry per character): one search for a digit first.
    digits = _NON_DIGIT.sub("", stripped) if _DIGIT.search(stripped) else ""
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
    (``111.22.333`` for ``111222333``); other values match case-insensitively, their words
    joined by any separator a file name uses (``Lotte_Bos``, ``Lotte.Bos``).

    For many strings with the same values (every finding's part and location of an item) build
    one :class:`Redactor` instead: it prepares the values once."""
    if not text or not values:
        return text
    return Redactor(values)(text)


_DIGITS_ONLY = re.compile(r"\D")
_SPACE = re.compile(r"\s")
_NUMBER_SEPARATOR = re.compile(r"[\s.\-/]")


@functools.lru_cache(maxsize=1024)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


class Redactor:
    """:func:`redact` with one item's values prepared once: sorted longest first, masked once,
    their patterns built once, and each pattern compiled and tried only on text that can hold it.

    WHY: an item with a hundred findings masked its subject, folder and every finding's part
    and location against every value, building, compiling and running each value's pattern
    each time; in the bulk scan that was ~40 % of an item's CPU (docs/performance.md). The
    result is the same as before, value by value in the same order: a value is skipped only
    when a necessary condition for a match fails (its digits, separators removed, are not in
    the text; or, for ASCII text and value, one of its words is not in the lower-cased text),
    and identical strings are answered from a memo.

    A value's pattern and mask are made only when a text passes that condition (:class:`_Step`):
    most of an item's values never occur in its names, and making all of them up front was
    most of the preparation (0.1 ms of a bulk mail)."""

    def __init__(self, values: dict[str, str]) -> None:
        self._steps: list[_Step] = []
        self._memo: dict[str, str] = {}
        for value, entity in sorted(values.items(), key=lambda item: -len(item[0])):
            digits = _DIGITS_ONLY.sub("", value)
            if len(digits) >= 6 and len(digits) >= len(_SPACE.sub("", value)) * 0.6:
                self._steps.append(_Step(value, entity, digits, ()))
            elif split := value.split():  # no words, no pattern: nothing to mask
                # words may be joined differently in a name than in the text (Lotte_Bos.docx)
                self._steps.append(_Step(value, entity, None,
                                         tuple(word.lower() for word in split) if value.isascii() else ()))

    def __call__(self, text: str) -> str:
        if not text or not self._steps:
            return text
        done = self._memo.get(text)
        if done is None:
            done = self._memo[text] = self._redact(text)
        return done

    def _redact(self, text: str) -> str:
        numbers: str | None = None  # the text's characters without number separators
        lowered: str | None = None  # the text lower-cased, when it is ASCII
        for step in self._steps:
            needle, words = step.needle, step.words
            if needle is not None:
                if numbers is None:
                    numbers = _NUMBER_SEPARATOR.sub("", text)
                if needle not in numbers:
                    continue
            elif words:
                if lowered is None:
                    lowered = text.lower() if text.isascii() else ""
                if lowered and not all(map(lowered.__contains__, words)):
                    continue
            changed = step.sub(text)
            if changed != text:
                text, numbers, lowered = changed, None, None
        return text


class _Step:
    """One value of a :class:`Redactor`: what decides whether a text can hold it (``needle``:
    its digits; ``words``: its lower-cased words, ASCII only), and its pattern and mask, made
    on first use."""

    __slots__ = ("value", "entity", "needle", "words", "_pattern", "_replacement")

    def __init__(self, value: str, entity: str, needle: str | None, words: tuple[str, ...]) -> None:
        self.value, self.entity, self.needle, self.words = value, entity, needle, words
        self._pattern: re.Pattern[str] | None = None
        self._replacement = ""

    def sub(self, text: str) -> str:
        if self._pattern is None:
            if self.needle is not None:
                pattern = r"(?<!\d)" + r"[\s.\-/]?".join(self.needle) + r"(?!\d)"
            else:
                pattern = r"[\s_./\\\-]+".join(re.escape(word) for word in self.value.split())
            # compiled only here: most values never occur in a name, and compiling every
            # value's pattern up front was a tenth of a bulk mail's CPU
            self._pattern = _compiled(pattern)
            # the mask as a literal replacement (backslashes escaped), the same for every match
            self._replacement = mask(self.value, self.entity).replace("\\", "\\\\")
        return self._pattern.sub(self._replacement, text)


class SecretError(Exception):
    """The installation secret cannot be used: ``unreadable``, ``missing`` (while the database
    holds hashes made with it) or ``replaced`` (another key than the one the hashes were made
    with). The message is Dutch first and names the file, never the key."""

    def __init__(self, code: str, message: str, path: Path) -> None:
        super().__init__(message)
        self.code = code
        self.path = path


class SecretStore(Protocol):
    """What :func:`load_installation_secret` needs of the store (kept abstract so this module
    stays on the ground floor)."""

    def meta_get(self, key: str) -> str | None: ...

    def meta_set(self, key: str, value: str) -> None: ...

    def has_value_hashes(self) -> bool: ...


FINGERPRINT_KEY = "secret_fingerprint"


def secret_fingerprint(secret: bytes) -> str:
    """A keyed fingerprint of the secret (an HMAC of a fixed label): recognises the key again
    without revealing it, and without being usable to test guesses of stored values."""
    return hmac.new(secret, b"schoonschip installation secret fingerprint", hashlib.sha256).hexdigest()[:32]


# An identity number in one of the four notations seen in the wild (123456782, 1234.56.782,
# 123 456 782, 123-456-782), or an old 8-digit BSN, not part of a longer number.
_ID_NUMBER = re.compile(
    r"(?<![\d.\-])(?:\d{9}|\d{8}|\d{4}\.\d{2}\.\d{3}|\d{3} \d{3} \d{3}|\d{3}-\d{3}-\d{3})(?![\d]|[.\-]\d)")


def _id_checksum(digits: str) -> int:
    """The 11-proef sum shared by BSN (0) and onderwijsnummer (5): weights 9..2, last -1."""
    return (sum((9 - i) * int(d) for i, d in enumerate(digits[:-1])) - int(digits[-1])) % 11


def identity_kind(text: str) -> str | None:
    """``"bsn"`` or ``"onderwijsnummer"`` when ``text`` (any notation) passes that number's
    check digit, else ``None``."""
    digits = re.sub(r"\D", "", text).zfill(9)
    if len(digits) != 9 or digits == "000000000":
        return None
    check = _id_checksum(digits)
    if check == 0:
        return "bsn"
    return "onderwijsnummer" if check == 5 and digits.startswith("10") else None


def identity_numbers(text: str) -> list[tuple[int, int]]:
    """Spans of valid BSNs and onderwijsnummers in ``text``, in the four notations."""
    if not text:
        return []
    return [m.span() for m in _ID_NUMBER.finditer(text) if identity_kind(m.group())]


def scrub(text: str) -> str:
    """Mask every valid BSN or onderwijsnummer in a display string, whatever detection said.

    The safety net under :func:`redact` for names (subjects, file, folder, attachment, member
    and sheet names) and for strings only the driver sees (unit labels, source errors, log
    lines): a number that passes the 11-proef in a *name* is masked without asking for
    context, because masking a name costs nothing and a leaked BSN cannot be taken back.
    """
    if not text:
        return text
    spans = identity_numbers(text)
    for start, end in reversed(spans):
        text = text[:start] + mask(text[start:end]) + text[end:]
    return text


def could_mask_to(masked: str, raw: str) -> bool:
    """Whether ``masked`` is ``raw`` with some values replaced by their masked samples.

    The driver compares a connector's raw folder with the stored one, which the worker
    masked; without this every folder holding a value would count as moved on every run.
    A run of ``*`` stands for at least one character; digits after it may have lost their
    separators (``*****6782`` for ``1234.56.782``).
    """
    if masked == raw:
        return True
    if "*" not in masked or len(masked) > 4096:
        return False
    pattern: list[str] = []
    after_stars = False
    for token in re.split(r"(\*+)", masked):
        if not token:
            continue
        if token.startswith("*"):
            pattern.append(".+?")
            after_stars = True
            continue
        for index, char in enumerate(token):
            if after_stars and char.isdigit() and index > 0 and token[index - 1].isdigit():
                pattern.append(r"[\s.\-/]?")
            pattern.append(re.escape(char))
            if not char.isdigit():
                after_stars = False
    return re.fullmatch("".join(pattern), raw, flags=re.DOTALL) is not None


def load_or_create_secret(path: Path, *, create: bool = True) -> bytes:
    """Read the installation's HMAC secret, creating it (mode 0600) on first use.

    The secret lives next to the database by default but in its own file, so a copy of the
    database alone cannot be used to test guesses against the stored hashes. With
    ``create=False`` a missing file is a :class:`SecretError`; a file that cannot be read always
    is (never "unreachable", never silently a new key).
    """
    path = Path(path)
    try:
        data = path.read_bytes().strip()
    except FileNotFoundError:
        data = None
    except OSError as exc:
        raise SecretError("unreadable", f"geheime sleutel {path} is niet leesbaar ({exc.strerror}) / "
                                        f"secret key {path} is not readable", path) from None
    if data is not None:
        return bytes.fromhex(data.decode()) if _is_hex(data) else data
    if not create:
        raise SecretError("missing", f"geheime sleutel {path} ontbreekt, maar de database bevat sleutel-hashes: "
                                     f"zet het oorspronkelijke bestand terug (een nieuwe sleutel maakt alle "
                                     f"hashes onbruikbaar) / secret key {path} is missing while the database "
                                     f"holds hashes made with it: restore the original file", path)
    private_directory(path.parent)
    secret = secrets.token_bytes(_SECRET_BYTES)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        os.fchmod(handle.fileno(), 0o600)
        handle.write(secret.hex())
    return secret


def load_installation_secret(path: Path, store: SecretStore) -> bytes:
    """The secret the store's hashes were made with, or a :class:`SecretError`.

    A new key is created only for a database without hashes. Its fingerprint is kept in the
    database, so a replaced key file (a restore from another server, a re-install) is refused
    instead of silently splitting every value's hash in two; databases from before the
    fingerprint accept the key they find once and remember it.
    """
    stored = store.meta_get(FINGERPRINT_KEY)
    secret = load_or_create_secret(path, create=stored is None and not store.has_value_hashes())
    fingerprint = secret_fingerprint(secret)
    if stored is None:
        store.meta_set(FINGERPRINT_KEY, fingerprint)
    elif not hmac.compare_digest(stored, fingerprint):
        raise SecretError("replaced", f"geheime sleutel {path} is niet de sleutel waarmee de database is gevuld: "
                                      f"zet de oorspronkelijke sleutel terug / secret key {path} is not the key "
                                      f"the database was filled with: restore the original key", path)
    return secret


def private_directory(path: Path) -> Path:
    """Create ``path`` (and missing parents) as 0700, whatever the umask (cron often runs with
    022 or even 000): it holds the database, the secret and token caches."""
    path = Path(path)
    missing = [p for p in (path, *path.parents) if not p.exists()]
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    for created in missing:  # parents we made: never writable by others
        os.chmod(created, 0o700 if created == path else 0o755)
    return path


def _is_hex(data: bytes) -> bool:
    try:
        bytes.fromhex(data.decode())
    except (ValueError, UnicodeDecodeError):
        return False
    return len(data) >= 32
