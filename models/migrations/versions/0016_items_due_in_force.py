"""items: due_in_force, kept by triggers, indexed with the lists' order

The items list and the API order by the deadline in force (the live lead units' latest,
else the item's own). As a subquery per item, every page computed it for every matching
item before sorting (0.7-1 s at 100,000 items); as a column kept by the database's
triggers (`models.due_in_force`), page 1 and each keyset page read the first rows of the
index and stop (docs/BENCHMARKS.md holds the plans).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 06:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from models import due_in_force

revision: str = '0016'
down_revision: str | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    postgresql = op.get_bind().dialect.name == 'postgresql'
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('due_in_force', sa.Date(), nullable=True))
        batch_op.create_index('ix_items_due_in_force', ['due_in_force', 'ref', 'id'], unique=False)
    for statement in due_in_force.POSTGRESQL if postgresql else due_in_force.SQLITE:
        op.execute(statement)
    op.execute(
        "UPDATE items SET due_in_force = COALESCE((SELECT max(a.due_on) FROM assignments AS a "
        "WHERE a.item_id = items.id AND a.role = 'lead' AND a.state <> 'cancelled'), due_on)"
    )


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == 'postgresql'
    for statement in due_in_force.DROP_POSTGRESQL if postgresql else due_in_force.DROP_SQLITE:
        op.execute(statement)
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.drop_index('ix_items_due_in_force')
        batch_op.drop_column('due_in_force')
