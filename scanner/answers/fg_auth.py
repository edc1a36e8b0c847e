"""The FG's sign-in for ``/fg``: a password hash (scrypt), signed expiring sessions, a
CSRF-protected login form and a limit on wrong passwords.

Why scrypt from ``cryptography``: a memory-hard KDF from a maintained library that is
already a dependency (the store's encryption, the answer links), so no new package. The
parameters (n = 2^15, r = 8, p = 1: 32 MiB, about 0.1 s) follow OWASP's password storage
guidance for scrypt.

Sessions are stateless signed cookies (itsdangerous, a key derived from the installation
secret) carrying a random session id, an expiry and a fingerprint of the password hash: a new
password ends every session; logout ends the session at once (its id is remembered as
revoked until it would have expired). The login POST carries a double-submit token as the
answer pages do. Wrong passwords are counted per client address and in total; past the limit
the form answers "try later" without checking the password, so guessing is slow also when
many addresses take part.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from cryptography.exceptions import InvalidKey
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from itsdangerous import BadSignature, URLSafeSerializer

LOG2_N, R, P, KEY_BYTES = 15, 8, 1, 32
GLOBAL_FACTOR = 10
"""All addresses together may fail ``max_failures * GLOBAL_FACTOR`` times per lockout window."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def hash_password(password: str) -> str:
    """The line for ``fg_page.password_hash``."""
    if len(password) < 12:
        raise ValueError("kies een wachtwoord van minstens 12 tekens / choose a password of at least 12 characters")
    salt = secrets.token_bytes(16)
    key = Scrypt(salt=salt, length=KEY_BYTES, n=2 ** LOG2_N, r=R, p=P).derive(password.encode("utf-8"))
    return f"scrypt${LOG2_N}${R}${P}${_b64(salt)}${_b64(key)}"


def parse_hash(text: str) -> tuple[int, int, int, bytes, bytes]:
    parts = text.split("$")
    try:
        if len(parts) != 6 or parts[0] != "scrypt":
            raise ValueError
        log2_n, r, p = int(parts[1]), int(parts[2]), int(parts[3])
        salt, key = _unb64(parts[4]), _unb64(parts[5])
        if not (14 <= log2_n <= 22 and 1 <= r <= 32 and 1 <= p <= 16 and len(salt) >= 16 and len(key) >= 32):
            raise ValueError
    except ValueError:
        raise ValueError("geen geldige wachtwoord-hash; maak er een met `schoonschip fg-password` / "
                         "not a valid password hash; make one with `schoonschip fg-password`") from None
    return log2_n, r, p, salt, key


def verify_password(password: str, stored: str) -> bool:
    log2_n, r, p, salt, key = parse_hash(stored)
    try:
        Scrypt(salt=salt, length=len(key), n=2 ** log2_n, r=r, p=p).verify(password.encode("utf-8"), key)
    except InvalidKey:
        return False
    return True


@dataclass(frozen=True)
class Session:
    ident: str
    expires: float


class FgSessions:
    """Issue and read the FG session cookie (the part an Entra sign-in would reuse)."""

    COOKIE = "schoonschip_fg"

    def __init__(self, key: bytes, password_hash: str, minutes: int, clock: Callable[[], float] = time.time) -> None:
        self._signer = URLSafeSerializer(key, salt="schoonschip fg session")
        self._fingerprint = hashlib.sha256(password_hash.encode("utf-8")).hexdigest()[:16]
        self._seconds = minutes * 60
        self._clock = clock
        self._revoked: dict[str, float] = {}
        self._lock = threading.Lock()

    def issue(self) -> str:
        return str(self._signer.dumps({"s": secrets.token_urlsafe(18), "e": int(self._clock()) + self._seconds,
                                       "h": self._fingerprint}))

    def read(self, cookie: str | None) -> tuple[Session | None, str]:
        """The session and ``"ok"``, or None and why: ``none``, ``forged``, ``expired``, ``ended``."""
        if not cookie:
            return None, "none"
        try:
            data = self._signer.loads(cookie)
        except BadSignature:
            return None, "forged"
        if not isinstance(data, dict) or data.get("h") != self._fingerprint:
            return None, "forged"
        now = self._clock()
        if float(data.get("e", 0)) <= now:
            return None, "expired"
        with self._lock:
            self._revoked = {k: v for k, v in self._revoked.items() if v > now}
            if data.get("s") in self._revoked:
                return None, "ended"
        return Session(str(data["s"]), float(data["e"])), "ok"

    def end(self, session: Session) -> None:
        with self._lock:
            self._revoked[session.ident] = session.expires

    @property
    def seconds(self) -> int:
        return self._seconds


class FailureLimit:
    """Wrong passwords per address and in total within a sliding window."""

    def __init__(self, per_address: int, minutes: int, clock: Callable[[], float] = time.time) -> None:
        self._per_address = per_address
        self._total = per_address * GLOBAL_FACTOR
        self._window = minutes * 60
        self._clock = clock
        self._seen: dict[str, deque[float]] = {}
        self._all: deque[float] = deque()
        self._lock = threading.Lock()

    def _trim(self, queue: deque[float], now: float) -> None:
        while queue and queue[0] <= now - self._window:
            queue.popleft()

    def blocked(self, address: str) -> bool:
        now = self._clock()
        with self._lock:
            queue = self._seen.get(address, deque())
            self._trim(queue, now)
            self._trim(self._all, now)
            return len(queue) >= self._per_address or len(self._all) >= self._total

    def failed(self, address: str) -> None:
        now = self._clock()
        with self._lock:
            self._seen.setdefault(address, deque()).append(now)
            self._all.append(now)

    def succeeded(self, address: str) -> None:
        with self._lock:
            self._seen.pop(address, None)
