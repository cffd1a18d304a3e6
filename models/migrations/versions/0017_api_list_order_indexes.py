"""assignments, extensions: indexes in the API lists' orders

/api/v1/assignments (by deadline) and /api/v1/extensions (newest first) sorted every row
in scope to show 50 (0.10-0.13 s at 100,000 items, growing with history); with an index in
each order, a page (by number or by ``after`` cursor) reads its rows and stops
(docs/BENCHMARKS.md holds the plans).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 06:35:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0017'
down_revision: str | None = '0016'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.create_index('ix_assignments_due_on', ['due_on', 'id'], unique=False)
    with op.batch_alter_table('extensions', schema=None) as batch_op:
        batch_op.create_index('ix_extensions_created_at', ['created_at', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('extensions', schema=None) as batch_op:
        batch_op.drop_index('ix_extensions_created_at')
    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.drop_index('ix_assignments_due_on')
