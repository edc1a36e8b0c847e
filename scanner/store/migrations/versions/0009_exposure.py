"""items carry their exposure: who besides the owner can reach them (issue 20, item 3)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02

``items.exposure``: ``beperkt`` / ``breed_gedeeld`` / ``onbekend`` (NULL: a source without
sharing, such as a mailbox, or an item analysed before this revision). ``items.exposure_reasons``:
reason codes (anonymous_link, organisation_link, broad_group, external_guest, world_readable),
never a name or address, so in clear like the category keys. ``items.sharing_key``: a hash of
what the listing said about the item's sharing (Graph: eTag and ``shared`` facet), so a sharing
change without a content change is read again without downloading the file.

Existing items get NULL: their sharing is read the next time they change (an unchanged night
must not cost a permissions request per item); ``scan --full`` is not needed for correctness.
"""
import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN (no batch copy: rebuilding ``items`` on SQLite would cascade into findings).
    op.add_column('items', sa.Column('exposure', sa.String(length=16), nullable=True))
    op.add_column('items', sa.Column('exposure_reasons', sa.JSON(), nullable=True))
    op.add_column('items', sa.Column('sharing_key', sa.String(length=64), nullable=True))


def downgrade() -> None:
    op.drop_column('items', 'sharing_key')
    op.drop_column('items', 'exposure_reasons')
    op.drop_column('items', 'exposure')
