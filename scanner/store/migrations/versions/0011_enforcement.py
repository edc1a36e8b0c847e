"""optional enforcement: the move date a sent digest announced, and the rule of a policy move (issue 18, item 5)

Revision ID: 0011
Revises: 0009
Create Date: 2026-12-02

``digest_listings.move_on``: the date the digest told the teacher the item would be moved to
Verwijderde items if they did not answer ("wordt op 15 december verplaatst"); NULL when that
digest announced no move. Joined with a "sent" delivery it is the only licence the nightly run
has to move an item. ``answers.rule``: for a move by the school's policy (``owner_key`` is
"school_policy"), the retention rule that made the item overdue. Neither names a person or an
item, so neither is encrypted. ``answers.origin``: where a moved item was (its unit: a
mailbox folder), so an undo can put it back after the next scan found it in Verwijderde
items; a folder name is personal data, so it is sealed like ``items.unit_key``'s neighbours
(the table is written with it sealed from the start: no rows to re-encrypt).
"""
import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('digest_listings', sa.Column('move_on', sa.Date(), nullable=True))
    op.add_column('answers', sa.Column('rule', sa.String(length=64), nullable=True))
    op.add_column('answers', sa.Column('origin', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('answers') as batch:
        batch.drop_column('origin')
        batch.drop_column('rule')
    with op.batch_alter_table('digest_listings') as batch:
        batch.drop_column('move_on')
