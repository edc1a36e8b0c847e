"""encrypt names, paths, keys, links and owners at rest; item ids become keyed hashes

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01

Every column of ``_ENCRYPTED`` (a snapshot of ``scanner.store.schema.ENCRYPTED`` at this
revision: a migration must not change meaning when the code moves on) is rewritten from clear
text to its ciphertext (:mod:`scanner.store.crypt`), in place, in the migration's one
transaction; and ``items.id``, until now ``sha256(source, item_key)`` which anyone can compute
for a guessed path, becomes the keyed hash of the same (findings and errors follow). The keys
come from the opening :class:`scanner.store.Store` (``config.attributes['store_keys']``) or, on
the command line, ``-x key_file=... -x secret_file=...``. The fingerprints of both are recorded
in ``meta``, so the store can refuse a missing or wrong key from now on.

PostgreSQL: the encrypted VARCHAR(n) columns become TEXT (a ciphertext is longer than its clear
value). SQLite enforces no length and keeps its declarations.

It follows ``0006`` (answers, whose item ids it re-keys too) and ``0005`` (which re-keyed
IMAP items with the old, unkeyed id formula from clear item keys): the ids are recomputed
here from the clear ``item_key``, so the order is what makes both right.
"""
from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import context, op

from scanner.store.crypt import ID_KEY_META, KEY_ID_META
from scanner.store.keys import StoreKeys, load_keys, recrypt_tables, set_meta

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

_ENCRYPTED = {
    "items": {"item_key": "seal", "unit_key": "tag", "owner": "tag", "folder": "tag", "title": "seal",
              "link": "seal"},
    "units": {"unit_key": "tag", "label": "seal", "owner": "tag", "cursor": "seal"},
    "run_units": {"unit_key": "tag"},
    "findings": {"part": "tag", "location": "tag"},
    "item_errors": {"part": "tag", "message": "seal"},
    "source_errors": {"unit_key": "tag", "message": "seal", "item_prefix": "seal"},
    "deliveries": {"owner": "tag", "reason": "seal"},
}
_VARCHAR = {
    "items": {"item_key": 2048, "unit_key": 1024, "owner": 320, "folder": 2048, "title": 1024},
    "units": {"unit_key": 1024, "label": 1024, "owner": 320},
    "run_units": {"unit_key": 1024},
    "findings": {"part": 1024, "location": 255},
    "item_errors": {"part": 1024},
    "source_errors": {"unit_key": 1024, "item_prefix": 2048},
    "deliveries": {"owner": 320},
}


def _keys(conn: sa.Connection) -> StoreKeys:
    keys = context.config.attributes.get("store_keys")
    if isinstance(keys, StoreKeys):
        return keys
    args = context.get_x_argument(as_dictionary=True)
    if not args.get("key_file") or not args.get("secret_file"):
        raise SystemExit("geef -x key_file=... -x secret_file=... / pass -x key_file=... -x secret_file=...")
    return load_keys(conn.engine, Path(args["key_file"]), Path(args["secret_file"]))


def upgrade() -> None:
    conn = op.get_bind()
    keys = _keys(conn)
    if conn.dialect.name == "sqlite":
        # the clear values the rows are rewritten from must not linger in freed pages
        conn.exec_driver_sql("PRAGMA secure_delete = ON")
    else:
        for name, columns in _VARCHAR.items():
            for col, length in columns.items():
                op.alter_column(name, col, type_=sa.Text(), existing_type=sa.String(length=length))
    _rekey_items(conn, keys)
    cipher = keys.cipher

    def encrypt(mode: str, value: str | None) -> str | None:
        return cipher.tag(value) if mode == "tag" else cipher.seal(value)

    recrypt_tables(conn, _ENCRYPTED, encrypt)
    set_meta(conn, KEY_ID_META, cipher.key_id)
    set_meta(conn, ID_KEY_META, keys.id_key_id)


def _rekey_items(conn: sa.Connection, keys: StoreKeys, batch: int = 2000) -> None:
    """Give every item its keyed id: copy the row under the new id, move its findings and
    errors, delete the old row (no foreign key is updated in place, so this runs the same with
    SQLite's immediate and PostgreSQL's non-deferrable constraints)."""
    columns = [c["name"] for c in sa.inspect(conn).get_columns("items")]
    others = [c for c in columns if c != "id"]
    listed = ", ".join(others)
    copy = sa.text(f"INSERT INTO items (id, {listed}) SELECT :new, {listed} FROM items WHERE id = :old")
    move = [sa.text(f"UPDATE {name} SET item_id = :new WHERE item_id = :old")
            for name in ("findings", "item_errors", "answers")]
    drop = sa.text("DELETE FROM items WHERE id = :old")
    items = sa.table("items", sa.column("id"), sa.column("source"), sa.column("item_key"))
    last = None
    while True:
        query = sa.select(items.c.id, items.c.source, items.c.item_key).order_by(items.c.id).limit(batch)
        if last is not None:
            query = query.where(items.c.id > last)
        rows = conn.execute(query).all()
        if not rows:
            return
        last = rows[-1].id
        # rows already under their keyed id (copied earlier in this walk) are left alone
        pairs = [{"old": r.id, "new": keys.item_id(r.source, r.item_key)} for r in rows]
        pairs = [p for p in pairs if p["new"] != p["old"]]
        if pairs:
            conn.execute(copy, pairs)
            for statement in move:
                conn.execute(statement, pairs)
            conn.execute(drop, pairs)


def downgrade() -> None:
    raise NotImplementedError("encryption at rest is not undone: restore the backup made before upgrading")
