"""Loading the working-day calendar from the database (admin overrides and schedules)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models import CalendarDay
from supervision.calendar import DayOverride, DaySource, WorkCalendar

_QUERY = select(CalendarDay.day, CalendarDay.is_workday, CalendarDay.note, CalendarDay.source)

_Rows = tuple[tuple[date, bool, str, str], ...]

# The calendar built from the rows read last time. The rows are read on every call, so a
# change is seen at once; only building the calendar again (and warming its per-day cache)
# is spared when they are the same, which is nearly always.
_last: dict[_Rows, WorkCalendar] = {}


async def load_calendar(session: AsyncSession) -> WorkCalendar:
    """A WorkCalendar with every CalendarDay row applied."""
    result = await session.execute(_QUERY)
    rows: _Rows = tuple((day, workday, note, source) for day, workday, note, source in result)
    calendar = _last.get(rows)
    if calendar is None:
        calendar = WorkCalendar(
            DayOverride(day=day, is_workday=workday, note=note, source=DaySource(source))
            for day, workday, note, source in rows
        )
        _last.clear()
        _last[rows] = calendar
    return calendar
