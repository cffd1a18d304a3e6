"""milestones: their own ladder (节点提醒 → 节点催办 → 节点逾期督办)

Adds the ladder columns of a milestone and gives every existing policy the milestone steps
of the default ladder (supervision.policy.MILESTONE_LADDER), after its own steps.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 06:20:00.000000
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import models.base


revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The default milestone steps as they were when this migration was written (kind, offset in
# working days from the milestone's date, roles, channels): data, not an import of the code.
_STEPS = (
    ('ms_remind', -3, ['owner'], ['chat', 'email']),
    ('ms_urge', 0, ['owner'], ['chat', 'email']),
    ('ms_overdue', 1, ['owner', 'leader'], ['chat', 'email']),
)


def upgrade() -> None:
    with op.batch_alter_table('milestones', schema=None) as batch_op:
        batch_op.add_column(sa.Column('next_action_at', models.base.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('last_step', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('ladder_due_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('last_step_at', models.base.UTCDateTime(), nullable=True))
        batch_op.create_index('ix_milestones_next_action_at', ['next_action_at'], unique=False)

    conn = op.get_bind()
    steps = sa.table(
        'ladder_steps',
        sa.column('policy_id', sa.Integer()),
        sa.column('position', sa.Integer()),
        sa.column('kind', sa.String()),
        sa.column('offset_days', sa.Integer()),
        sa.column('roles', sa.JSON()),
        sa.column('channels', sa.JSON()),
        sa.column('template', sa.String()),
        sa.column('ignore_send_window', sa.Boolean()),
        sa.column('active', sa.Boolean()),
    )
    policies = conn.execute(
        sa.text(
            'SELECT p.id, COALESCE(MAX(s.position), -1) FROM policies p '
            'LEFT JOIN ladder_steps s ON s.policy_id = p.id GROUP BY p.id ORDER BY p.id'
        )
    ).all()
    rows = [
        {
            'policy_id': policy_id,
            'position': last + 1 + n,
            'kind': kind,
            'offset_days': offset,
            'roles': roles,
            'channels': channels,
            'template': kind,
            'ignore_send_window': False,
            'active': True,
        }
        for policy_id, last in policies
        for n, (kind, offset, roles, channels) in enumerate(_STEPS)
    ]
    if rows:
        op.bulk_insert(steps, rows)
    # Every open milestone of a live item is planned by the next scan.
    milestones = sa.table(
        'milestones',
        sa.column('state', sa.String()),
        sa.column('next_action_at', models.base.UTCDateTime()),
    )
    conn.execute(
        milestones.update()
        .where(milestones.c.state == 'open')
        .values(next_action_at=datetime.now(UTC))
    )


def downgrade() -> None:
    op.execute("DELETE FROM ladder_steps WHERE kind IN ('ms_remind', 'ms_urge', 'ms_overdue')")
    with op.batch_alter_table('milestones', schema=None) as batch_op:
        batch_op.drop_index('ix_milestones_next_action_at')
        batch_op.drop_column('last_step_at')
        batch_op.drop_column('ladder_due_on')
        batch_op.drop_column('last_step')
        batch_op.drop_column('next_action_at')
