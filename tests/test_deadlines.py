"""Deadline rules: the 30-working-day default, explicit deadlines, days left."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from supervision.calendar import DayOverride, DaySource, DueDate, WorkCalendar
from supervision.deadlines import (
    DEFAULT_DUE_WORKING_DAYS,
    DeadlineError,
    days_late,
    days_left,
    default_due,
    recompute_provisional,
    resolve_due,
)

SCHEDULE_2027 = [DayOverride(date(2027, 1, 1), is_workday=False, source=DaySource.SCHEDULE)]
#: An official 2027 schedule as the State Council publishes it: 春节 from 除夕 to 初七 (eight
#: days, two more weekdays off than the statutory four and their 补休) and a working Saturday.
SPRING_2027 = [
    *SCHEDULE_2027,
    *(
        DayOverride(date(2027, 2, d), is_workday=False, source=DaySource.SCHEDULE)
        for d in range(5, 13)
    ),
    DayOverride(date(2027, 2, 20), is_workday=True, source=DaySource.SCHEDULE),
]


def test_default_is_thirty_working_days() -> None:
    assert DEFAULT_DUE_WORKING_DAYS == 30


@pytest.mark.parametrize(
    ("overrides", "received_on", "expected"),
    [
        ([], date(2026, 9, 25), DueDate(date(2026, 11, 12), provisional=False)),  # 中秋节
        ([], date(2026, 11, 2), DueDate(date(2026, 12, 14), provisional=False)),
        ([], date(2026, 12, 15), DueDate(date(2027, 1, 27), provisional=True)),  # 元旦 known
        (SCHEDULE_2027, date(2026, 12, 15), DueDate(date(2027, 1, 27), provisional=False)),
        ([], date(2027, 1, 18), DueDate(date(2027, 3, 5), provisional=True)),  # over 春节
        (SPRING_2027, date(2027, 1, 18), DueDate(date(2027, 3, 8), provisional=False)),
        (
            [DayOverride(date(2026, 10, 10), is_workday=False)],  # the 调休 Saturday cancelled
            date(2026, 9, 25),
            DueDate(date(2026, 11, 13), provisional=False),
        ),
    ],
)
def test_default_due(overrides: list[DayOverride], received_on: date, expected: DueDate) -> None:
    calendar = WorkCalendar(overrides)
    assert default_due(received_on, calendar) == expected
    assert resolve_due(received_on, None, calendar) == expected


def test_default_due_with_other_working_days() -> None:
    calendar = WorkCalendar()
    assert default_due(date(2026, 9, 30), calendar, working_days=1).day == date(2026, 10, 8)
    assert resolve_due(date(2026, 9, 30), None, calendar, 3).day == date(2026, 10, 10)
    with pytest.raises(DeadlineError, match="at least 1 working day"):
        default_due(date(2026, 9, 30), calendar, working_days=0)


@pytest.mark.parametrize(
    "due_on",
    [date(2026, 9, 25), date(2026, 10, 3), date(2027, 6, 5)],  # same day, holiday, no data
)
def test_explicit_due_is_kept_and_never_provisional(due_on: date) -> None:
    assert resolve_due(date(2026, 9, 25), due_on, WorkCalendar()) == DueDate(due_on, False)


def test_explicit_due_before_received_is_rejected() -> None:
    with pytest.raises(DeadlineError, match=r"2026-09-24 is before .*2026-09-25") as info:
        resolve_due(date(2026, 9, 25), date(2026, 9, 24), WorkCalendar())
    assert isinstance(info.value, ValueError)


def test_recompute_after_a_schedule_import_moves_the_deadline_later() -> None:
    provisional = default_due(date(2027, 1, 18), WorkCalendar())
    assert provisional == DueDate(date(2027, 3, 5), True)
    imported = WorkCalendar(SPRING_2027)
    assert recompute_provisional(date(2027, 1, 18), provisional.day, imported) == DueDate(
        date(2027, 3, 8), False
    )


def test_recompute_never_moves_the_deadline_earlier() -> None:
    received_on = date(2026, 12, 15)
    provisional = default_due(received_on, WorkCalendar())
    # The imported schedule adds a working Saturday and leaves 元旦 a working day: the rule
    # alone would give 2027-01-25.
    extra_workday = [DayOverride(date(2027, 1, 9), is_workday=True, source=DaySource.SCHEDULE)]
    imported = WorkCalendar(extra_workday)
    assert default_due(received_on, imported).day == date(2027, 1, 25)
    assert recompute_provisional(received_on, provisional.day, imported) == DueDate(
        date(2027, 1, 27), False
    )


def test_recompute_stays_provisional_without_new_data() -> None:
    calendar = WorkCalendar()
    due = default_due(date(2026, 12, 15), calendar)
    assert recompute_provisional(date(2026, 12, 15), due.day, calendar) == due
    # A kept later date is still provisional when the days up to it are guesses.
    later = recompute_provisional(date(2026, 12, 15), date(2027, 2, 1), calendar)
    assert later == DueDate(date(2027, 2, 1), True)


@pytest.mark.parametrize(
    ("today", "due_on", "expected"),
    [
        (date(2026, 11, 12), date(2026, 11, 12), 0),  # the due day
        (date(2026, 11, 11), date(2026, 11, 12), 1),
        (date(2026, 11, 5), date(2026, 11, 12), 5),  # the default 提醒 step
        (date(2026, 11, 13), date(2026, 11, 12), -1),  # the first working day after
        (date(2026, 11, 17), date(2026, 11, 12), -3),  # the default 升级 step
        (date(2026, 10, 9), date(2026, 10, 12), 2),  # Fri -> Mon over the 调休 Saturday
        (date(2026, 10, 11), date(2026, 10, 9), -1),  # a Sunday, 1 working day late
        # past the due day only rest days: red, so late by one working day, never "due today"
        (date(2026, 10, 11), date(2026, 10, 10), -1),  # due on the 调休 Sat, today Sunday
        (date(2026, 11, 14), date(2026, 11, 13), -1),  # due Friday, today Saturday
        (date(2026, 11, 16), date(2026, 11, 13), -1),  # and on Monday still one
        (date(2026, 11, 17), date(2026, 11, 13), -2),
        (date(2026, 10, 12), date(2026, 10, 11), -1),  # due on a Sunday, Monday is late
        (date(2026, 9, 30), date(2026, 10, 8), 1),  # over 国庆
    ],
)
def test_days_left(today: date, due_on: date, expected: int) -> None:
    assert days_left(today, due_on, WorkCalendar()) == expected
    assert days_late(due_on, today, WorkCalendar()) == max(0, -expected)


@given(
    received_on=st.dates(min_value=date(2003, 1, 1), max_value=date(2029, 12, 31)),
    working_days=st.integers(min_value=1, max_value=60),
)
def test_property_days_left_on_receipt_matches_the_default(
    received_on: date, working_days: int
) -> None:
    calendar = WorkCalendar()
    due = default_due(received_on, calendar, working_days)
    assert due.day > received_on
    assert days_left(received_on, due.day, calendar) == working_days
    assert days_left(due.day, due.day, calendar) == 0
    assert days_left(calendar.next_workday(due.day, inclusive=False), due.day, calendar) == -1
