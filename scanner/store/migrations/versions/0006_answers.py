"""the owners' answers from the digest and the used single-use links (issue 18)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01

``answers``: one row per item and answer (verwijderen, bewaren, geen_leerlinggegevens) with the
outcome at the source and when it was reversed; who answered is a keyed hash of the owner.
``items.owner_mark`` stays what the retention policy reads. ``used_links``: the nonce of every
destructive link that acted, so a replayed link changes nothing.
"""
import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'answers',
        sa.Column('id', sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column('item_id', sa.String(length=32), nullable=False),
        sa.Column('owner_key', sa.String(length=32), nullable=False),
        sa.Column('action', sa.String(length=32), nullable=False),
        sa.Column('reason', sa.String(length=32), nullable=True),
        sa.Column('answered_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('outcome', sa.String(length=16), nullable=False),
        sa.Column('error_code', sa.String(length=64), nullable=True),
        sa.Column('place', sa.String(length=255), nullable=True),
        sa.Column('reversed_at', sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index('ix_answers_item', 'answers', ['item_id'])
    op.create_table(
        'used_links',
        sa.Column('nonce', sa.String(length=32), primary_key=True),
        sa.Column('used_at', sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table('used_links')
    op.drop_index('ix_answers_item', table_name='answers')
    op.drop_table('answers')
