"""Loading the working-day calendar from the database (admin overrides and schedules)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models import CalendarDay
from supervision.calendar import DayOverride, DaySource, WorkCalendar


async def load_calendar(session: AsyncSession) -> WorkCalendar:
    """A WorkCalendar with every CalendarDay row applied."""
    rows = (await session.scalars(select(CalendarDay))).all()
    return WorkCalendar(
        DayOverride(day=r.day, is_workday=r.is_workday, note=r.note, source=DaySource(r.source))
        for r in rows
    )
