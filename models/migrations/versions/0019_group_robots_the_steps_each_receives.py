"""group robots: the steps each receives

An admin now sets up group robots (群机器人) on the web, the API and the CLI, and chooses which
ladder steps each one receives; a robot stored before keeps receiving every step (NULL).

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06 08:29:23.588015
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0019'
down_revision: str | None = '0018'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('group_webhooks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('steps', sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('group_webhooks', schema=None) as batch_op:
        batch_op.drop_column('steps')
