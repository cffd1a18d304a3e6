"""template_versions: the version a restore brought back

The template editor restores an earlier version as a new one; the history says which
version it came from in the reader's language, so the number is kept, not a sentence.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 08:30:54
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0018'
down_revision: str | None = '0017'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('template_versions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('restored_from', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('template_versions', schema=None) as batch_op:
        batch_op.drop_column('restored_from')
