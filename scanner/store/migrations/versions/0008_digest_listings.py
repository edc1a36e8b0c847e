"""which items each digest named: the first-digest date of an item (issue 18)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02

``digest_listings``: one row per item and digest period that named it (shown, or covered by a
folder link), with the owner tagged as in ``deliveries``. Joined with a "sent" delivery it is
when the teacher was first told of the item. The table is new, so nothing is re-encrypted:
the store writes the owner tagged from the start.
"""
import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'digest_listings',
        sa.Column('id', sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column('item_id', sa.String(length=32), nullable=False),
        sa.Column('period', sa.String(length=32), nullable=False),
        sa.Column('owner', sa.Text().with_variant(sa.String(length=320), 'sqlite'), nullable=False),
        sa.UniqueConstraint('item_id', 'period', name='uq_digest_listings_item_period'),
    )
    op.create_index('ix_digest_listings_item', 'digest_listings', ['item_id'])


def downgrade() -> None:
    op.drop_index('ix_digest_listings_item', table_name='digest_listings')
    op.drop_table('digest_listings')
