"""交办通知 step and 每日待办 threshold

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 03:05:00

Adds the assignment columns of the 交办通知 (``assigned_at``, ``assign_noticed_at``) and the
policy's digest threshold. Every existing policy gets an active ``assign`` step first in its
ladder (owner; urgent policies: owner and principal). Existing assignments are stamped as
already noticed, so the upgrade itself sends no notice for work people already know about.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base


revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('assigned_at', models.base.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('assign_noticed_at', models.base.UTCDateTime(), nullable=True))
    with op.batch_alter_table('policies', schema=None) as batch_op:
        batch_op.add_column(sa.Column('digest_threshold', sa.Integer(), nullable=True))
    op.execute('UPDATE assignments SET assigned_at = created_at, assign_noticed_at = created_at')
    op.execute(
        "UPDATE ladder_steps SET position = position + 1 "
        "WHERE policy_id NOT IN (SELECT policy_id FROM ladder_steps WHERE kind = 'assign')"
    )
    for urgent, roles in (("urgent", '["owner", "principal"]'), ("NOT urgent", '["owner"]')):
        # Plain literals: PostgreSQL reads them as json, SQLite stores the text.
        op.execute(
            "INSERT INTO ladder_steps (policy_id, position, kind, offset_days, roles, channels, "
            f"template, ignore_send_window, active) SELECT id, 0, 'assign', 0, '{roles}', "
            "'[\"chat\", \"email\"]', 'assign', false, true FROM policies "
            f"WHERE {urgent} AND id NOT IN (SELECT policy_id FROM ladder_steps WHERE kind = 'assign')"
        )


def downgrade() -> None:
    op.execute("DELETE FROM ladder_steps WHERE kind = 'assign'")
    with op.batch_alter_table('policies', schema=None) as batch_op:
        batch_op.drop_column('digest_threshold')
    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.drop_column('assign_noticed_at')
        batch_op.drop_column('assigned_at')
