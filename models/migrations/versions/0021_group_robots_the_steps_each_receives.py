"""group robots: the steps each receives

An admin now sets up group robots (群机器人) on the web, the API and the CLI, and chooses which
ladder steps each one receives; a robot stored before keeps receiving every step (NULL).
New robots keep their URL and secret sealed (the database alone does not give the robot's
key) and the URL as it may be shown, key masked: filled here for the robots stored before,
whose URL and secret stay readable in clear until they are saved again.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06 08:29:23.588015
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from supervision.robots import masked_url

revision: str = '0021'
down_revision: str | None = '0020'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('group_webhooks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('steps', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('url_shown', sa.String(length=600), server_default='', nullable=False))
    conn = op.get_bind()
    hooks = sa.table('group_webhooks', sa.column('id'), sa.column('url'), sa.column('url_shown'))
    for hook_id, url in conn.execute(sa.select(hooks.c.id, hooks.c.url)).all():
        conn.execute(hooks.update().where(hooks.c.id == hook_id).values(url_shown=masked_url(url)))


def downgrade() -> None:
    with op.batch_alter_table('group_webhooks', schema=None) as batch_op:
        batch_op.drop_column('url_shown')
        batch_op.drop_column('steps')
