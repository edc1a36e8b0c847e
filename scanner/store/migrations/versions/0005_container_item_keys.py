"""Item keys include their container: IMAP folder + UIDVALIDITY + UID; EWS folder names escaped

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01

Why a data migration and not a fresh crawl: with new keys every stored IMAP message would
count as deleted (``opgeruimd``) and be analysed again as a new item, which costs a night of
downloads and falsifies the FG's deletion evidence. The stored rows already know their folder
(``unit_key`` is ``"<owner>/<IMAP folder name>"``), so the keys are rewritten in place:

* IMAP: ``"<uidvalidity>:<uid>"`` becomes ``"<folder>/<uidvalidity>:<uid>"`` and the item id
  (a hash of source and key) is recomputed; findings and item errors follow the new id. When
  two folders had shared a UIDVALIDITY, the one stored row belonged to the folder in its
  ``unit_key``; the other folder's messages were never stored and are analysed as new items.
* EWS: item keys are Exchange item ids and stay. Folder names in unit keys now escape ``%``
  (as ``%25``) besides ``/`` (as ``%2F``), so a unit key whose path holds ``%`` is rewritten.
  A name with ``/`` was indistinguishable from a nested folder before and cannot be told
  apart now; that unit is listed afresh by the next run (an invalid sync state is a resync).

The key format and the id hash are frozen copies here on purpose: a migration must keep
doing what it did when it was written, whatever later code does.
"""
import hashlib
import re

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Table
from sqlalchemy.engine import Connection

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

_OLD_IMAP_KEY = re.compile(r"^[0-9]+:[0-9]+$")


def _item_id(source: str, item_key: str) -> str:
    return hashlib.sha256(f"{source}\x00{item_key}".encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _folder_of(unit_key: str, owner: str) -> str:
    prefix = f"{owner}/"
    if unit_key.startswith(prefix):
        return unit_key[len(prefix):]
    return unit_key.partition("/")[2]


def upgrade() -> None:
    bind = op.get_bind()
    meta = sa.MetaData()
    items = sa.Table("items", meta, autoload_with=bind)
    findings = sa.Table("findings", meta, autoload_with=bind)
    item_errors = sa.Table("item_errors", meta, autoload_with=bind)
    units = sa.Table("units", meta, autoload_with=bind)
    run_units = sa.Table("run_units", meta, autoload_with=bind)
    _rekey_imap_items(bind, items, findings, item_errors)
    _escape_ews_unit_keys(bind, items, units, run_units)


def _rekey_imap_items(bind: Connection, items: Table, findings: Table, item_errors: Table) -> None:
    c = items.c
    rows = bind.execute(sa.select(c.id, c.source, c.item_key, c.unit_key, c.owner)
                        .where(c.source_kind == "imap")).all()
    columns = [col for col in items.columns if col.name not in ("id", "item_key")]
    for row in rows:
        if not _OLD_IMAP_KEY.match(row.item_key or ""):
            continue  # already in the new form
        new_key = f"{_folder_of(row.unit_key, row.owner)}/{row.item_key}"
        new_id = _item_id(row.source, new_key)
        if bind.execute(sa.select(c.id).where(c.id == new_id)).first() is None:
            # Copy the row under its new id, move the children, drop the old row: updating the
            # primary key in place would break the foreign keys of findings and item errors.
            bind.execute(items.insert().from_select(
                ["id", "item_key", *[col.name for col in columns]],
                sa.select(sa.literal(new_id), sa.literal(new_key), *columns).where(c.id == row.id)))
            bind.execute(findings.update().where(findings.c.item_id == row.id).values(item_id=new_id))
            bind.execute(item_errors.update().where(item_errors.c.item_id == row.id).values(item_id=new_id))
        bind.execute(findings.delete().where(findings.c.item_id == row.id))
        bind.execute(item_errors.delete().where(item_errors.c.item_id == row.id))
        bind.execute(items.delete().where(c.id == row.id))


def _escape_ews_unit_keys(bind: Connection, items: Table, units: Table, run_units: Table) -> None:
    sources = [r[0] for r in bind.execute(
        sa.select(items.c.source).where(items.c.source_kind == "ews").distinct())]
    for source in sources:
        keys = [r[0] for r in bind.execute(sa.select(units.c.unit_key).where(units.c.source == source))]
        keys += [r[0] for r in bind.execute(sa.select(items.c.unit_key).where(
            items.c.source == source).distinct())]
        for old in sorted(set(keys)):
            mailbox, sep, path = old.partition("/")
            if not sep or "%" not in path:
                continue
            new = f"{mailbox}/{path.replace('%', '%25')}"
            for table in (units, run_units):
                bind.execute(table.update().where(table.c.source == source, table.c.unit_key == old)
                             .values(unit_key=new))
            bind.execute(items.update().where(items.c.source == source, items.c.unit_key == old)
                         .values(unit_key=new))


def downgrade() -> None:
    # The old keys merged different messages into one row; there is nothing sound to go back to.
    raise NotImplementedError("0003_keys cannot be downgraded / kan niet worden teruggedraaid")
