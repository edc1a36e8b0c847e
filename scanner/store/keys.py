"""Which keys a store is opened with, refusing a missing or wrong one, and key rotation.

Two secrets, both in files outside the database (mode 0600, in ``state_dir`` by default):

* the **store key** (``store.key``, :mod:`scanner.store.crypt`): encrypts names, paths, keys,
  links and owners. It can be rotated (:func:`rotate_key`): every encrypted value is
  re-encrypted with a new key.
* the **HMAC secret** (``hmac.key``, :mod:`scanner.core.privacy`): keys the hashes of detected
  values and the item ids. It cannot be rotated: the values behind the stored hashes are not
  stored, so nothing could be hashed again.

The database records a fingerprint of each (``meta``), never the secret. Opening a store whose
rows were encrypted with a key that is missing or different is refused with one line that says
what to do; a new key is made only for a store that holds no encrypted value yet, because a
silently regenerated key would leave every stored name unreadable and every item id new.

Rotation is atomic: the new key is written to ``store.key.new`` first, every value is
re-encrypted in ONE transaction that also records the new fingerprint, and only then is the
new key file moved into place (the old one kept as ``store.key.old-<fingerprint>``). A rotation
interrupted before the commit leaves the database on the old key (the ``.new`` file is
discarded at the next open); one interrupted after the commit is finished at the next open,
which finds the fingerprint in ``meta`` matching ``store.key.new``.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, column, inspect, select, table, update
from sqlalchemy.engine import Connection, Engine

from scanner.core.privacy import load_or_create_secret
from scanner.store.crypt import (
    ID_KEY_META,
    KEY_ID_META,
    FieldCipher,
    ItemIds,
    StoreKeyError,
    fingerprint,
    new_key,
    read_key,
    write_key,
)

KEY_FILE = "store.key"
SECRET_FILE = "hmac.key"


@dataclass(frozen=True)
class StoreKeys:
    """The cipher for the encrypted columns and the secret item ids are keyed with."""

    cipher: FieldCipher
    id_secret: bytes
    key_file: Path | None = None
    item_ids: ItemIds = field(init=False, repr=False, compare=False)
    """The item ids under ``id_secret`` (:class:`scanner.store.crypt.ItemIds`)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "item_ids", ItemIds(self.id_secret))  # frozen: set once, here

    @property
    def id_key_id(self) -> str:
        return secret_fingerprint(self.id_secret)

    def item_id(self, source: str, item_key: str) -> str:
        return self.item_ids(source, item_key)

    @classmethod
    def ephemeral(cls) -> StoreKeys:
        """Keys that live as long as the process (an in-memory database)."""
        return cls(FieldCipher(new_key()), secrets.token_bytes(32))


def secret_fingerprint(secret: bytes) -> str:
    return hmac.new(secret, b"schoonschip item ids", hashlib.sha256).hexdigest()[:16]


def default_files(url: str) -> tuple[Path, Path] | None:
    """``store.key`` and ``hmac.key`` next to a SQLite database file (where ``state_dir`` puts
    all three by default); None for other databases, which must be told."""
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        folder = Path(url.removeprefix("sqlite:///")).parent
        return folder / KEY_FILE, folder / SECRET_FILE
    return None


def stored_fingerprints(engine: Engine) -> dict[str, str]:
    """The key fingerprints the database records (empty for a store that encrypted nothing yet,
    or one older than the ``meta`` table)."""
    with engine.connect() as conn:
        if "meta" not in inspect(conn).get_table_names():
            return {}
        meta = table("meta", column("key"), column("setting"))
        rows = conn.execute(select(meta.c.key, meta.c.setting).where(
            meta.c.key.in_((KEY_ID_META, ID_KEY_META)))).all()
    return {str(row.key): str(row.setting) for row in rows}


def load_keys(engine: Engine, key_file: Path, secret_file: Path, *, create: bool = True) -> StoreKeys:
    """The keys for the database behind ``engine``; created only when it encrypted nothing yet.

    Raises :class:`StoreKeyError` (one line) when the database needs a key or secret that is
    missing, or holds values encrypted with another one."""
    recorded = stored_fingerprints(engine)
    key_id, id_key_id = recorded.get(KEY_ID_META), recorded.get(ID_KEY_META)
    key = _store_key(Path(key_file), key_id, create=create)
    secret_file = Path(secret_file)
    if id_key_id is not None and not secret_file.exists():
        raise StoreKeyError(
            f"HMAC-geheim {secret_file} ontbreekt; de database heeft het nodig: zet het terug uit de backup "
            f"(docs/operations.md) / HMAC secret {secret_file} is missing and this database needs it: "
            f"restore it from the backup (docs/operations.md)")
    if not create and not secret_file.exists():
        raise StoreKeyError(f"HMAC-geheim {secret_file} ontbreekt / HMAC secret {secret_file} is missing")
    secret = load_or_create_secret(secret_file)
    if id_key_id is not None and secret_fingerprint(secret) != id_key_id:
        raise StoreKeyError(
            f"HMAC-geheim {secret_file} hoort niet bij deze database (vingerafdruk {id_key_id} verwacht) / "
            f"HMAC secret {secret_file} does not belong to this database (fingerprint {id_key_id} expected)")
    return StoreKeys(FieldCipher(key), secret, Path(key_file))


def _store_key(path: Path, key_id: str | None, *, create: bool) -> bytes:
    pending = _pending(path)
    if key_id is None:  # nothing encrypted yet: the key may be made now
        if pending.exists():
            pending.unlink()
        if path.exists():
            return read_key(path)
        if not create:
            raise StoreKeyError(f"sleutelbestand {path} ontbreekt / key file {path} is missing")
        key = new_key()
        write_key(path, key)
        return key
    if pending.exists():
        new = read_key(pending)
        if fingerprint(new) == key_id:  # a rotation committed, its key file was not moved yet
            _promote(path, pending)
            return new
        pending.unlink()  # a rotation that never committed: the database is on the old key
    if not path.exists():
        raise StoreKeyError(
            f"sleutelbestand {path} ontbreekt; de namen in de database zijn ermee versleuteld: zet het terug "
            f"uit de backup, een nieuwe sleutel kan ze niet lezen (docs/operations.md) / key file {path} is "
            f"missing and the database is encrypted with it: restore it from the backup; a new key cannot "
            f"read it (docs/operations.md)")
    key = read_key(path)
    if fingerprint(key) != key_id:
        raise StoreKeyError(
            f"sleutelbestand {path} hoort niet bij deze database (sleutel {fingerprint(key)}, verwacht {key_id}) "
            f"/ key file {path} does not belong to this database (key {fingerprint(key)}, expected {key_id})")
    return key


def _pending(path: Path) -> Path:
    return path.with_name(path.name + ".new")


def _promote(path: Path, pending: Path) -> None:
    """Move a committed rotation's key into place, keeping the old key file aside."""
    if path.exists():
        old = read_key(path)
        os.replace(path, path.with_name(f"{path.name}.old-{fingerprint(old)}"))
    os.replace(pending, path)


# --- re-encryption (migration 0004 and key rotation) ---------------------------------------

Transform = Callable[[str, str | None], str | None]
"""``(mode, value) -> new value``; mode is ``seal`` or ``tag``."""


def recrypt_tables(conn: Connection, columns: Mapping[str, Mapping[str, str]], transform: Transform,
                   batch: int = 2000) -> int:
    """Rewrite every encrypted column of every table in ``columns`` through ``transform``, in
    the caller's transaction. Returns the number of rows rewritten.

    Tables with an integer or fixed id are walked in id order, a batch at a time (flat memory
    on any size); tables whose primary key is itself encrypted (``units``, ``run_units``,
    ``deliveries``) are small and read whole first, because rewriting a key while walking it
    would meet rows twice."""
    names = set(inspect(conn).get_table_names())
    total = 0
    for name, modes in columns.items():
        if name not in names:
            continue
        key_cols = list(inspect(conn).get_pk_constraint(name)["constrained_columns"])
        listed = list(dict.fromkeys([*key_cols, *modes]))
        t = table(name, *(column(c) for c in listed))
        statement = update(t).where(*(t.c[k] == bindparam(f"k_{k}") for k in key_cols)).values(
            {c: bindparam(f"v_{c}") for c in modes})
        if set(key_cols) & set(modes):
            whole = conn.execute(select(*t.c)).all()
            for start in range(0, len(whole), batch):
                conn.execute(statement, _params(whole[start:start + batch], listed, key_cols, modes, transform))
            total += len(whole)
            continue
        (ident,) = key_cols
        last: Any = None
        while True:
            query = select(*t.c).order_by(t.c[ident]).limit(batch)
            if last is not None:
                query = query.where(t.c[ident] > last)
            chunk = conn.execute(query).all()
            if not chunk:
                break
            conn.execute(statement, _params(chunk, listed, key_cols, modes, transform))
            total += len(chunk)
            last = chunk[-1][0]
    return total


def _params(rows: Sequence[Any], listed: list[str], key_cols: list[str], modes: Mapping[str, str],
            transform: Transform) -> list[dict[str, Any]]:
    """Bind parameters of the UPDATE for ``rows``: the old key to find each row, the new values."""
    out = []
    for row in rows:
        values = dict(zip(listed, row, strict=True))
        params = {f"k_{k}": values[k] for k in key_cols}
        params.update({f"v_{c}": transform(mode, values[c]) for c, mode in modes.items()})
        out.append(params)
    return out


def set_meta(conn: Connection, key: str, setting: str) -> None:
    from datetime import UTC, datetime

    meta = table("meta", column("key"), column("setting"), column("updated_at"))
    now = datetime.now(UTC)
    if conn.execute(select(meta.c.key).where(meta.c.key == key)).first():
        conn.execute(update(meta).where(meta.c.key == key).values(setting=setting, updated_at=now))
    else:
        conn.execute(meta.insert().values(key=key, setting=setting, updated_at=now))


def rotate_key(engine: Engine, keys: StoreKeys, columns: Mapping[str, Mapping[str, str]]) -> tuple[str, str, int]:
    """Re-encrypt every value with a new key; return (old fingerprint, new fingerprint, rows).

    See the module docstring for why this is atomic. The caller holds the run lock, so no
    scan writes with the old key while the transaction runs."""
    if keys.key_file is None:
        raise StoreKeyError("deze database heeft geen sleutelbestand / this database has no key file")
    path = keys.key_file
    pending = _pending(path)
    if pending.exists():
        pending.unlink()  # a rotation that never committed (load_keys would have finished one that did)
    key = new_key()
    write_key(pending, key)
    new = FieldCipher(key)
    old = keys.cipher

    def transform(mode: str, value: str | None) -> str | None:
        clear = old.open(value)
        return new.tag(clear) if mode == "tag" else new.seal(clear)

    with engine.begin() as conn:
        rows = recrypt_tables(conn, columns, transform)
        set_meta(conn, KEY_ID_META, new.key_id)
    _promote(path, pending)
    return old.key_id, new.key_id, rows


__all__ = ["KEY_FILE", "SECRET_FILE", "StoreKeyError", "StoreKeys", "default_files", "load_keys",
           "recrypt_tables", "rotate_key", "set_meta"]
