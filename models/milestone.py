"""Milestones (阶段性节点): the dated stages an item, typically an annual task, is cut into."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, TimestampMixin, enum_column, utcnow
from models.item import Item
from models.org import Person, Unit


class MilestoneState(StrEnum):
    """A milestone is open until the office records it done (with who and when)."""

    OPEN = "open"
    DONE = "done"


class Milestone(TimestampMixin, Base):
    """One stage of an item: what is due by when, from which unit, person and leader."""

    __tablename__ = "milestones"
    # The scan reads only the milestones whose next ladder step is due.
    __table_args__ = (Index("ix_milestones_next_action_at", "next_action_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    due_on: Mapped[date]
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="RESTRICT"), index=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    leader_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    state: Mapped[MilestoneState] = mapped_column(
        enum_column(MilestoneState, 16), default=MilestoneState.OPEN
    )
    completed_at: Mapped[datetime | None]
    completed_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("people.id", ondelete="SET NULL")
    )
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # Its own short ladder (节点提醒 → 节点催办 → 节点逾期督办, supervision.milestones): the
    # moment of the next step, and the steps up to ``last_step_at`` done for ``ladder_due_on``.
    next_action_at: Mapped[datetime | None]
    last_step: Mapped[str | None] = mapped_column(String(16))
    ladder_due_on: Mapped[date | None]
    last_step_at: Mapped[datetime | None]

    item: Mapped[Item] = relationship(back_populates="milestones", lazy="raise")
    unit: Mapped[Unit] = relationship(lazy="raise")
    owner: Mapped[Person | None] = relationship(foreign_keys=[owner_id], lazy="raise")
    leader: Mapped[Person | None] = relationship(foreign_keys=[leader_id], lazy="raise")

    @property
    def is_open(self) -> bool:
        """True until the milestone is recorded done."""
        return self.state == MilestoneState.OPEN
