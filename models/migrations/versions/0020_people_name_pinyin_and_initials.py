"""people: name pinyin and initials

The people list is sorted by unit, then by the pinyin of the name (as offices file their
rosters), and searched by pinyin initials (``zs`` finds 张三). The model keeps both columns
in step with ``name``; this fills them for the people already stored.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06 08:29:08.802681
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from models.org import pinyin_of

revision: str = '0020'
down_revision: str | None = '0019'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('people', schema=None) as batch_op:
        batch_op.add_column(sa.Column('name_pinyin', sa.String(length=400), server_default='', nullable=False))
        batch_op.add_column(sa.Column('name_initials', sa.String(length=100), server_default='', nullable=False))
    conn = op.get_bind()
    people = sa.table('people', sa.column('id'), sa.column('name'), sa.column('name_pinyin'),
                      sa.column('name_initials'))
    rows = conn.execute(sa.select(people.c.id, people.c.name)).all()
    for person_id, name in rows:
        spoken, initials = pinyin_of(name or '')
        conn.execute(
            people.update().where(people.c.id == person_id)
            .values(name_pinyin=spoken, name_initials=initials)
        )


def downgrade() -> None:
    with op.batch_alter_table('people', schema=None) as batch_op:
        batch_op.drop_column('name_initials')
        batch_op.drop_column('name_pinyin')
