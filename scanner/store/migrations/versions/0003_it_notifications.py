"""it_notifications: the IT-notification ledger, created by a migration like every other table

Until 0003, scanner.notify created this table itself when it first needed it, so databases
that ever notified IT already have it (with these columns): it is created only when missing.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    if 'it_notifications' in sa.inspect(op.get_bind()).get_table_names():
        return
    op.create_table(
        'it_notifications',
        sa.Column('key', sa.String(length=300), nullable=False),
        sa.Column('scope', sa.String(length=32), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('first_seen', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_seen', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_sent_day', sa.String(length=10), nullable=True),
        sa.Column('summary', sa.String(length=500), nullable=True),
        sa.PrimaryKeyConstraint('key'),
    )


def downgrade() -> None:
    op.drop_table('it_notifications')
