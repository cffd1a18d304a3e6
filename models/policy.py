"""Escalation policies (交办通知 -> 提醒 -> 催办 -> 督办 -> 升级) with their ladder steps."""

from __future__ import annotations

from datetime import time
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, TimestampMixin, enum_column
from models.item import Source


class StepKind(StrEnum):
    """The steps of a ladder."""

    ASSIGN = "assign"  # 交办通知: once when an assignment is made or handed over
    REMIND = "remind"  # 提醒
    URGE = "urge"  # 催办
    OVERDUE = "overdue"  # 逾期督办
    ESCALATE = "escalate"  # 升级督办
    PERIODIC = "periodic"  # 定期报告
    # A milestone's (阶段性节点) own short ladder, from the milestone's due date
    MS_REMIND = "ms_remind"  # 节点提醒: before the milestone is due
    MS_URGE = "ms_urge"  # 节点催办: on its due day
    MS_OVERDUE = "ms_overdue"  # 节点逾期督办: after it, also to its 责任领导

    @property
    def for_milestones(self) -> bool:
        """True for the steps of a milestone's ladder (the others are an assignment's)."""
        return self in MILESTONE_STEPS


MILESTONE_STEPS = frozenset({StepKind.MS_REMIND, StepKind.MS_URGE, StepKind.MS_OVERDUE})


class StepChannel(StrEnum):
    """Where a ladder step sends: the person's chat, their e-mail, or the unit's group robots."""

    CHAT = "chat"  # Telegram
    EMAIL = "email"
    GROUP = "group"  # WeCom / DingTalk / Feishu robots of the unit


class Policy(TimestampMixin, Base):
    """The ladder and deadline rule for one source (or all, ``source`` NULL) and urgency."""

    __tablename__ = "policies"
    __table_args__ = (UniqueConstraint("source", "urgent"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    source: Mapped[Source | None] = mapped_column(enum_column(Source, 16))
    urgent: Mapped[bool] = mapped_column(default=False)
    due_working_days: Mapped[int] = mapped_column(default=30)
    # 协办 input is due to the lead unit this many working days before the lead's deadline.
    co_lead_days: Mapped[int] = mapped_column(default=5, server_default="5")
    send_window_start: Mapped[time] = mapped_column(default=time(8, 30))
    send_window_end: Mapped[time] = mapped_column(default=time(18, 0))
    workdays_only: Mapped[bool] = mapped_column(default=True)
    #: 每日待办: a person with more than this many messages in one send window gets them as
    #: one digest (None: never; several 交办通知 in one window are always one digest)
    digest_threshold: Mapped[int | None]

    steps: Mapped[list[LadderStep]] = relationship(
        lazy="selectin",
        cascade="all, delete-orphan",
        order_by="LadderStep.position",
        back_populates="policy",
    )


class LadderStep(Base):
    """One step: when (working days from due), to whom, on which channels, with which template."""

    __tablename__ = "ladder_steps"

    id: Mapped[int] = mapped_column(primary_key=True)
    policy_id: Mapped[int] = mapped_column(
        ForeignKey("policies.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(default=0)
    kind: Mapped[StepKind] = mapped_column(enum_column(StepKind, 16))
    offset_days: Mapped[int] = mapped_column(default=0)  # periodic: every N working days
    roles: Mapped[list[str]] = mapped_column(JSON, default=list)
    channels: Mapped[list[str]] = mapped_column(JSON, default=list)
    template: Mapped[str | None] = mapped_column(String(32))  # template step key; None = kind
    ignore_send_window: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)

    policy: Mapped[Policy] = relationship(back_populates="steps", lazy="raise")
