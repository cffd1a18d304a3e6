"""items: lead_unit_name, kept by triggers, indexed for the order by unit

/items?sort=unit ordered every item by its lead unit's name, computed by a grouped pass over
every lead assignment for each page (1 s at 100,000 items, ×4.7 from 10,000). As a column
kept by the database's triggers (`models.lead_unit_name`) and an index on it and the id, a
page reads its rows from the index and stops (docs/BENCHMARKS.md holds the plans).

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-06 11:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from models import lead_unit_name

revision: str = '0023'
down_revision: str | None = '0022'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    postgresql = op.get_bind().dialect.name == 'postgresql'
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('lead_unit_name', sa.String(length=200), server_default='', nullable=False)
        )
        batch_op.create_index('ix_items_lead_unit_name', ['lead_unit_name', 'id'], unique=False)
    for statement in lead_unit_name.POSTGRESQL if postgresql else lead_unit_name.SQLITE:
        op.execute(statement)
    op.execute(
        "UPDATE items SET lead_unit_name = COALESCE((SELECT min(u.name) FROM assignments AS a"
        " JOIN units AS u ON u.id = a.unit_id WHERE a.item_id = items.id AND a.role = 'lead'),"
        " '')"
    )


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == 'postgresql'
    for statement in lead_unit_name.DROP_POSTGRESQL if postgresql else lead_unit_name.DROP_SQLITE:
        op.execute(statement)
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.drop_index('ix_items_lead_unit_name')
        batch_op.drop_column('lead_unit_name')
