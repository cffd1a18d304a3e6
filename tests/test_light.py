"""The status light rules."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from models import Assignment, Milestone
from supervision.calendar import WorkCalendar
from supervision.light import Light, assignment_light, light_for, milestone_light, worst

CAL = WorkCalendar()


@pytest.mark.parametrize(
    ("today", "last_report", "state", "expected"),
    [
        (date(2026, 11, 2), None, "open", Light.GREEN),  # 30 working days left
        (date(2026, 12, 9), None, "open", Light.YELLOW),  # 3 working days left
        (date(2026, 12, 8), date(2026, 12, 7), "open", Light.GREEN),  # 4 left, reported
        (date(2026, 12, 14), date(2026, 12, 14), "open", Light.YELLOW),  # due today
        (date(2026, 12, 15), date(2026, 12, 14), "open", Light.RED),  # overdue
        (date(2026, 11, 16), None, "open", Light.YELLOW),  # 10 working days without report
        (date(2026, 11, 16), date(2026, 11, 13), "open", Light.GREEN),
        (date(2026, 12, 20), None, "closed", Light.GREY),
        (date(2026, 12, 20), None, "cancelled", Light.GREY),
    ],
)
def test_light(today, last_report, state, expected):
    got = light_for(
        state=state,
        due_on=date(2026, 12, 14),
        today=today,
        last_report_on=last_report,
        started_on=date(2026, 11, 2),
        calendar=CAL,
    )
    assert got == expected


def test_worst():
    assert worst([Light.GREEN, Light.RED, Light.YELLOW]) == Light.RED
    assert worst([]) == Light.GREY


@pytest.mark.parametrize(
    ("last_report_at", "expected"),
    [
        (None, Light.YELLOW),  # 10 working days since the item was received
        (datetime(2026, 11, 2, 17, 0, tzinfo=UTC), Light.GREEN),  # 11-03 01:00 in Shanghai
        (datetime(2026, 11, 2, 15, 0, tzinfo=UTC), Light.YELLOW),  # 11-02 23:00 in Shanghai
    ],
)
def test_assignment_light_counts_the_report_on_the_office_date(last_report_at, expected):
    a = Assignment(state="open", due_on=date(2026, 12, 14), last_report_at=last_report_at)
    got = assignment_light(
        a,
        received_on=date(2026, 11, 2),
        today=date(2026, 11, 16),
        calendar=CAL,
        tz=ZoneInfo("Asia/Shanghai"),
    )
    assert got == expected


@pytest.mark.parametrize(
    ("today", "state", "expected"),
    [
        (date(2026, 11, 2), "open", Light.GREEN),  # no report asked of a milestone: no stale
        (date(2026, 12, 9), "open", Light.YELLOW),  # 3 working days left
        (date(2026, 12, 15), "open", Light.RED),
        (date(2026, 12, 15), "done", Light.GREY),
    ],
)
def test_a_milestones_light_is_held_to_its_date_only(today, state, expected):
    m = Milestone(state=state, due_on=date(2026, 12, 14))
    assert milestone_light(m, today=today, calendar=CAL) == expected
