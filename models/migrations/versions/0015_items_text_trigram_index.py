"""items: trigram index for the list's text search (PostgreSQL only)

The items list searches the title and the 文号 with ILIKE '%…%' (`supervision.search`).
A B-tree cannot serve a pattern with a leading wildcard, so every search read all items;
a GIN index of trigrams (extension pg_trgm, trusted: the database's owner may create it)
lets PostgreSQL read only the items that contain the text's trigrams (docs/BENCHMARKS.md
holds the plans at 100,000 items). SQLite has no such index and scans, with the same query.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 06:10:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0015'
down_revision: str | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.execute('CREATE EXTENSION IF NOT EXISTS pg_trgm')
    op.create_index(
        'ix_items_text_trgm',
        'items',
        ['title', 'ref'],
        postgresql_using='gin',
        postgresql_ops={'title': 'gin_trgm_ops', 'ref': 'gin_trgm_ops'},
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.drop_index('ix_items_text_trgm', table_name='items')
