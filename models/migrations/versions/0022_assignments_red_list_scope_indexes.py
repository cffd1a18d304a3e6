"""assignments, items: indexes for the red list and a liaison's scope

/items?light=red computed the light of every open item (49,799 buffers at 100,000 items);
it now reads the open lead work and the open items past their dates from partial indexes. A liaison's scope is an
OR of unit, owner and leader: with leader_id indexed too it is a bitmap OR of three index
scans instead of a scan of every assignment (docs/BENCHMARKS.md holds the plans).

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-06 08:46:06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0022'
down_revision: str | None = '0021'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN_LEAD = "role = 'lead' AND state IN ('open', 'completion_requested')"
OPEN_ITEM = "state IN ('open', 'completion_requested')"


def upgrade() -> None:
    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.create_index(
            'ix_assignments_lead_due',
            ['due_on'],
            unique=False,
            postgresql_where=sa.text(OPEN_LEAD),
            sqlite_where=sa.text(OPEN_LEAD),
        )
        batch_op.create_index('ix_assignments_leader_id', ['leader_id'], unique=False)
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.create_index(
            'ix_items_open_own_due',
            ['due_on'],
            unique=False,
            postgresql_where=sa.text(OPEN_ITEM),
            sqlite_where=sa.text(OPEN_ITEM),
        )


def downgrade() -> None:
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.drop_index('ix_items_open_own_due')
    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.drop_index('ix_assignments_leader_id')
        batch_op.drop_index('ix_assignments_lead_due')
