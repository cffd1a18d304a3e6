"""outbox log without foreign keys; fewer indexes on the scan's write path

The scan writes thousands of outbox rows per tick and advances as many assignments: each
foreign key on ``notifications`` cost a trigger call per inserted row, and each index of
``assignments`` is written again when ``next_action_at`` moves. Dropped: the outbox's five
foreign keys and its ``assignment_id`` index (rows name their item, the timeline reads by
item); the ``chat_message_id`` index becomes partial (only sent chat messages have one);
``assignments.item_id`` (covered by the (item_id, unit_id) unique constraint) and
``assignments.state`` (a few values, most rows open) lose their indexes.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 03:54:33.799905
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Outside the batch: SQLite's table copy would not carry the partial index's WHERE.
    op.drop_index('ix_notifications_chat_message_id', table_name='notifications')
    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_assignments_item_id'))
        batch_op.drop_index(batch_op.f('ix_assignments_state'))

    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notifications_assignment_id'))
        batch_op.drop_constraint(batch_op.f('fk_notifications_assignment_id_assignments'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_notifications_item_id_items'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_notifications_recipient_id_people'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_notifications_fallback_of_id_notifications'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_notifications_webhook_id_group_webhooks'), type_='foreignkey')

    op.create_index(
        'ix_notifications_chat_message_id',
        'notifications',
        ['chat_message_id'],
        unique=False,
        postgresql_where=sa.text('chat_message_id IS NOT NULL'),
        sqlite_where=sa.text('chat_message_id IS NOT NULL'),
    )


def downgrade() -> None:
    op.drop_index('ix_notifications_chat_message_id', table_name='notifications')
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.create_foreign_key(batch_op.f('fk_notifications_webhook_id_group_webhooks'), 'group_webhooks', ['webhook_id'], ['id'], ondelete='SET NULL')
        batch_op.create_foreign_key(batch_op.f('fk_notifications_fallback_of_id_notifications'), 'notifications', ['fallback_of_id'], ['id'], ondelete='SET NULL')
        batch_op.create_foreign_key(batch_op.f('fk_notifications_recipient_id_people'), 'people', ['recipient_id'], ['id'], ondelete='SET NULL')
        batch_op.create_foreign_key(batch_op.f('fk_notifications_item_id_items'), 'items', ['item_id'], ['id'], ondelete='CASCADE')
        batch_op.create_foreign_key(batch_op.f('fk_notifications_assignment_id_assignments'), 'assignments', ['assignment_id'], ['id'], ondelete='CASCADE')
        batch_op.create_index(batch_op.f('ix_notifications_assignment_id'), ['assignment_id'], unique=False)

    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assignments_state'), ['state'], unique=False)
        batch_op.create_index(batch_op.f('ix_assignments_item_id'), ['item_id'], unique=False)

    op.create_index(
        'ix_notifications_chat_message_id', 'notifications', ['chat_message_id'], unique=False
    )
