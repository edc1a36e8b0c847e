"""items remember failed attempts; source errors get a severity and the place a listing missed

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01

``items.attempts`` / ``items.last_error``: consecutive failed attempts to read or analyse the
item and the (retryable) code of the last one, so the next run fetches it again whatever the
connector's delta says, and gives up visibly after ``scan.retry_attempts``.
``items.stale``: the stored analysis is the last good one; a newer version could not be read.
``source_errors.severity``: 'warning' (a blind spot, a suspected outage: the run is not failing)
or 'error'. ``source_errors.item_prefix``: for a blind spot, the item key prefix it protects.

Existing stores: an item that an earlier version left with ``change_key`` NULL after a transient
failure becomes a retry candidate (one attempt spent), so it is not lost on delta sources. The
set of codes is a snapshot of ``scanner.core.model.RETRYABLE_ERRORS`` at this revision: a
migration must not change meaning when the code moves on.
"""
import json

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

_RETRYABLE = {"fetch_failed", "throttled", "timeout", "unreachable", "offline", "access_denied", "locked",
              "worker_lost", "crashed", "memory_limit", "analysis_failed"}


def upgrade() -> None:
    # Plain ADD COLUMN, no batch copy: recreating ``items`` on SQLite with foreign keys on
    # would cascade into ``findings``.
    op.add_column('items', sa.Column('attempts', sa.Integer(), nullable=False, server_default='0'))
    op.add_column('items', sa.Column('last_error', sa.String(length=64), nullable=True))
    op.add_column('items', sa.Column('stale', sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column('source_errors', sa.Column('severity', sa.String(length=16), nullable=False,
                                             server_default='error'))
    op.add_column('source_errors', sa.Column('item_prefix', sa.String(length=2048), nullable=True))
    conn = op.get_bind()
    items = sa.table('items', sa.column('id', sa.String), sa.column('change_key', sa.String),
                     sa.column('analysed_run', sa.Integer), sa.column('error_codes', sa.JSON),
                     sa.column('attempts', sa.Integer), sa.column('last_error', sa.String))
    rows = conn.execute(sa.select(items.c.id, items.c.error_codes).where(
        items.c.change_key.is_(None), items.c.analysed_run.is_not(None))).all()
    for ident, codes in rows:
        if isinstance(codes, str):
            codes = json.loads(codes)
        failed = sorted(set(codes or ()) & _RETRYABLE)
        if failed:
            conn.execute(items.update().where(items.c.id == ident).values(attempts=1, last_error=failed[0]))


def downgrade() -> None:
    with op.batch_alter_table('source_errors') as batch:
        batch.drop_column('item_prefix')
        batch.drop_column('severity')
    with op.batch_alter_table('items') as batch:
        batch.drop_column('stale')
        batch.drop_column('last_error')
        batch.drop_column('attempts')
