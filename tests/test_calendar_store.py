"""Calendar rows in the database reach the WorkCalendar."""

from __future__ import annotations

from datetime import date

from models import CalendarDay
from supervision.calendar import Coverage
from supervision.calendar_store import load_calendar
from supervision.deadlines import default_due


async def test_imported_schedule_row_is_applied(session):
    cal = await load_calendar(session)
    assert default_due(date(2027, 1, 18), cal).day == date(2027, 3, 5)
    spring = CalendarDay(day=date(2027, 2, 11), is_workday=False, note="春节", source="schedule")
    session.add(spring)
    await session.commit()
    cal = await load_calendar(session)
    assert cal.coverage(2027) == Coverage.SCHEDULE
    due = default_due(date(2027, 1, 18), cal)
    # The schedule lists the days that differ from Mon-Fri: here only 2027-02-11.
    assert (due.day, due.provisional) == (date(2027, 3, 2), False)
