"""items: the open items by deadline in force (issue #15, the dashboard's overdue list)

The dashboard lists the open items past their deadline in force, in the list's order, and
counts them. ``ix_items_due_in_force`` holds every item ever received, so that walk read the
closed history before the first open row; this partial index holds the open items only
(docs/BENCHMARKS.md has the plans at 100,000 items).

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06 08:34:05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0019'
down_revision: str | None = '0018'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = "state IN ('open', 'completion_requested')"


def upgrade() -> None:
    op.create_index(
        'ix_items_open_due',
        'items',
        ['due_in_force', 'ref', 'id'],
        unique=False,
        postgresql_where=sa.text(OPEN),
        sqlite_where=sa.text(OPEN),
    )


def downgrade() -> None:
    op.drop_index('ix_items_open_due', table_name='items')
