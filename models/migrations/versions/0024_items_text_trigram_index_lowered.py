"""items: the trigram index on the lowered title and 文号, not the columns

pg_trgm's operator class serves ``=`` too, so with the columns themselves in the index
(0015) PostgreSQL took it for the lookups by 文号, which belong to the unique B-tree: a
trigram lookup of one 文号 reads every item sharing its trigrams (``DB-2026-…``: all of
them), and the import's chunk lookups grew with the table (100,000 rows: 180 s instead of
tens). On ``lower(title)`` and ``lower(ref)`` the index serves the search
(`supervision.search`: ``lower(…) LIKE lower('%…%')``) and nothing else. PostgreSQL only.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-06 14:50:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0024'
down_revision: str | None = '0023'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.drop_index('ix_items_text_trgm', table_name='items')
    op.execute(
        'CREATE INDEX ix_items_text_trgm ON items'
        ' USING gin (lower(title) gin_trgm_ops, lower(ref) gin_trgm_ops)'
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.drop_index('ix_items_text_trgm', table_name='items')
    op.create_index(
        'ix_items_text_trgm',
        'items',
        ['title', 'ref'],
        postgresql_using='gin',
        postgresql_ops={'title': 'gin_trgm_ops', 'ref': 'gin_trgm_ops'},
    )
