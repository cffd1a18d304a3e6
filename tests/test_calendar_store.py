"""Calendar rows in the database reach the WorkCalendar."""

from __future__ import annotations

from datetime import date

from models import CalendarDay
from supervision.calendar import Coverage
from supervision.calendar_store import load_calendar
from supervision.deadlines import default_due


async def test_imported_schedule_row_is_applied(session):
    cal = await load_calendar(session)
    assert default_due(date(2026, 12, 15), cal).day == date(2027, 1, 26)
    session.add(CalendarDay(day=date(2027, 1, 1), is_workday=False, note="元旦", source="schedule"))
    await session.commit()
    cal = await load_calendar(session)
    assert cal.coverage(2027) == Coverage.SCHEDULE
    due = default_due(date(2026, 12, 15), cal)
    assert (due.day, due.provisional) == (date(2027, 1, 27), False)
