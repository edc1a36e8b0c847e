"""findings lose the index on value_hash, which no query uses (issue 21, item 3)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03

Every read of ``findings`` selects by ``item_id`` (an item's findings, the hashes of given
items); none looks rows up by ``value_hash``. The index still had to be kept up to date on
every finding written, and keyed hashes are random, so each of a first scan's ~13 findings
per mail was an insert at a random place in a second B-tree: with the bulk corpus's load,
dropping it took the driver's write path from 0.48 to 0.30 ms per item on SQLite
(docs/performance.md). A later feature that looks values up across items can add an index
back in its own revision.
"""
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index('ix_findings_value_hash', table_name='findings')


def downgrade() -> None:
    op.create_index('ix_findings_value_hash', 'findings', ['value_hash'], unique=False)
