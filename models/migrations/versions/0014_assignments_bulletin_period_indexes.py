"""assignments: partial indexes for a bulletin period's work (issue #15)

A bulletin reads the unfinished work and the work closed since the period began, never the
history (EXPLAIN ANALYZE at 100,000 items in docs/BENCHMARKS.md). Both indexes are partial:
the scan's updates of open assignments never touch ``ix_assignments_closed_at``.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 06:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0014'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UNFINISHED = "state IN ('open', 'completion_requested')"
CLOSED = "state = 'closed'"


def upgrade() -> None:
    op.create_index(
        'ix_assignments_unfinished',
        'assignments',
        ['item_id'],
        unique=False,
        postgresql_where=sa.text(UNFINISHED),
        sqlite_where=sa.text(UNFINISHED),
    )
    op.create_index(
        'ix_assignments_closed_at',
        'assignments',
        ['closed_at'],
        unique=False,
        postgresql_where=sa.text(CLOSED),
        sqlite_where=sa.text(CLOSED),
    )


def downgrade() -> None:
    op.drop_index('ix_assignments_closed_at', table_name='assignments')
    op.drop_index('ix_assignments_unfinished', table_name='assignments')
