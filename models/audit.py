"""The audit trail: who did what to which record, from which state to which."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base


class AuditEntity(StrEnum):
    """What kind of record an audit event is about."""

    ITEM = "item"
    ASSIGNMENT = "assignment"
    REPORT = "report"
    EXTENSION = "extension"
    MILESTONE = "milestone"
    PERSON = "person"
    UNIT = "unit"
    POLICY = "policy"
    TEMPLATE = "template"
    CALENDAR = "calendar"
    CALENDAR_DAY = "calendar_day"
    BULLETIN = "bulletin"
    NOTIFICATION = "notification"
    API_TOKEN = "api_token"  # noqa: S105 (an entity name, not a secret)
    GROUP_ROBOT = "group_robot"  # 群机器人
    HEALTH = "health"  # the health probe's write check


class AuditAction(StrEnum):
    """What was done, as the audit trail and the item timeline name it."""

    CREATE = "create"
    UPDATE = "update"
    TRANSITION = "transition"
    FILED = "filed"
    EDITED = "edited"
    ATTACHMENTS_ADDED = "attachments_added"
    REQUESTED = "requested"
    SIGNED_OFF = "signed_off"
    SIGNOFF_SKIPPED = "signoff_skipped"
    REVIEWED = "reviewed"
    COMPLETE = "complete"  # a milestone recorded done
    DUE_MOVED = "due_moved"
    INVITE_CREATED = "invite_created"
    CHAT_BOUND = "chat_bound"
    CHAT_UNBOUND = "chat_unbound"
    WECOM_BOUND = "wecom_bound"
    WECOM_UNBOUND = "wecom_unbound"
    IMPORT_SCHEDULE = "import_schedule"
    RECOMPUTE_DUE = "recompute_due"
    SET_OVERRIDE = "set_override"
    CLEAR_OVERRIDE = "clear_override"
    TEMPLATE_SAVE = "template.save"
    TEMPLATE_RESET = "template.reset"
    TEMPLATE_RESTORE = "template.restore"
    SEND = "send"
    RETRY = "retry"
    REVOKE = "revoke"
    PROBE = "probe"
    REOPEN = "reopen"  # 退回重办
    TRANSFER = "transfer"  # 转办
    DELETE = "delete"
    TEST_MESSAGE = "test_message"  # a group robot's test message (测试消息)
    URGE = "urge"  # 催办 sent by the office at once (the items list's batch action)


class AuditEvent(Base):
    """One change worth a line in a timeline."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_entity", "entity", "entity_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    actor_label: Mapped[str] = mapped_column(String(100), default="system")
    entity: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[int]
    action: Mapped[str] = mapped_column(String(48))
    from_state: Mapped[str | None] = mapped_column(String(24))
    to_state: Mapped[str | None] = mapped_column(String(24))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
