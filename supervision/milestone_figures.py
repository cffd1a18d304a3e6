"""节点按期率 (milestone punctuality, seed 二(三)) for the bulletin: per responsible unit, the
milestones of annual tasks done in the period on time or late, and those still open past their
date. `supervision.bulletins` puts the figures in ``Bulletin.data["milestones"]``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models import Item, ItemState, Milestone, MilestoneState, Source, Unit

__all__ = ["MilestoneFigures", "milestone_figures"]


@dataclass(slots=True)
class MilestoneFigures:
    """节点按期率 of one unit (or all): the milestones of annual tasks (年度重点工作) done in the
    period, on time or late, and those still open past their date; judged like assignments."""

    unit_id: int | None
    unit_name: str
    completed: int = 0
    on_time: int = 0
    late: int = 0
    open_overdue: int = 0

    @property
    def judged(self) -> int:
        """Done in the period plus open overdue."""
        return self.completed + self.open_overdue

    @property
    def on_time_rate(self) -> float | None:
        """Done on time / judged; None when no milestone was judged."""
        return self.on_time / self.judged if self.judged else None

    def add(self, other: MilestoneFigures) -> None:
        """Count ``other``'s milestones in this row too (for the totals)."""
        self.completed += other.completed
        self.on_time += other.on_time
        self.late += other.late
        self.open_overdue += other.open_overdue

    def as_json(self) -> dict[str, Any]:
        """The row as stored in ``Bulletin.data``."""
        return {
            "unit_id": self.unit_id,
            "unit_name": self.unit_name,
            "completed": self.completed,
            "on_time": self.on_time,
            "late": self.late,
            "open_overdue": self.open_overdue,
            "on_time_rate": self.on_time_rate,
        }


async def milestone_figures(
    session: AsyncSession, start: date, as_of: date, tz: ZoneInfo
) -> list[MilestoneFigures]:
    """节点按期率 per responsible unit for the annual tasks' milestones (seed 二(三)): done in
    [start, as_of] on or before their date, or late; open ones past their date are overdue."""
    rows = (
        await session.execute(
            select(Milestone, Unit, Item.state)
            .join(Item, Item.id == Milestone.item_id)
            .join(Unit, Unit.id == Milestone.unit_id)
            .where(
                Item.source == Source.ANNUAL_TASK.value,
                Item.state != ItemState.CANCELLED.value,
                Item.received_on <= as_of,
            )
            .order_by(Milestone.id)
        )
    ).all()
    by_unit: dict[int, MilestoneFigures] = {}
    for milestone, unit, item_state in rows:
        done = milestone.state == MilestoneState.DONE.value and milestone.completed_at is not None
        done_on = (
            milestone.completed_at.astimezone(tz).date()
            if done and milestone.completed_at
            else None
        )
        if done_on is not None and done_on < start:
            continue
        row = by_unit.setdefault(unit.id, MilestoneFigures(unit.id, unit.name))
        if done_on is not None and done_on <= as_of:
            row.completed += 1
            if done_on <= milestone.due_on:
                row.on_time += 1
            else:
                row.late += 1
        elif milestone.due_on < as_of and item_state != ItemState.CLOSED.value:
            row.open_overdue += 1  # a stage left open on a task since closed is not owed
    judged = [r for r in by_unit.values() if r.judged]
    return sorted(judged, key=lambda r: (-(r.on_time_rate or 0.0), r.open_overdue, r.unit_name))
