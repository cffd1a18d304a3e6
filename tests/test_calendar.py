"""The working-day calendar: official data, imported schedules, overrides, fallback."""

from __future__ import annotations

import logging
from datetime import date, timedelta

import chinese_calendar
import pytest
from hypothesis import given
from hypothesis import strategies as st

from supervision.calendar import (
    OFFICIAL_YEARS,
    Coverage,
    DayOverride,
    DaySource,
    DueDate,
    WorkCalendar,
)

SCHEDULE_2027 = DayOverride(
    date(2027, 1, 1), is_workday=False, note="元旦", source=DaySource.SCHEDULE
)


def test_official_years_come_from_the_bundled_data() -> None:
    assert OFFICIAL_YEARS.start == 2004
    assert 2026 in OFFICIAL_YEARS
    last = OFFICIAL_YEARS[-1]
    chinese_calendar.is_workday(date(last, 6, 1))
    with pytest.raises(NotImplementedError):
        chinese_calendar.is_workday(date(last + 1, 6, 1))


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 9, 25), False),  # 中秋节, a Friday
        (date(2026, 10, 1), False),  # 国庆节
        (date(2026, 10, 10), True),  # 调休: a working Saturday
        (date(2026, 10, 11), False),  # an ordinary Sunday
        (date(2026, 10, 12), True),  # an ordinary Monday
    ],
)
def test_official_days(day: date, expected: bool) -> None:
    calendar = WorkCalendar()
    assert calendar.is_workday(day) is expected
    assert calendar.is_workday(day) is chinese_calendar.is_workday(day)
    assert calendar.is_provisional(day) is False


def test_agrees_with_chinese_calendar_on_every_official_day() -> None:
    calendar = WorkCalendar()
    day = date(OFFICIAL_YEARS.start, 1, 1)
    end = date(OFFICIAL_YEARS[-1], 12, 31)
    while day <= end:
        assert calendar.is_workday(day) is chinese_calendar.is_workday(day), day
        day += timedelta(days=1)


def test_weekend_in_lieu_workday_counts() -> None:
    calendar = WorkCalendar()
    # Friday 2026-10-09 -> the next working day is the 调休 Saturday, not Monday.
    assert calendar.next_workday(date(2026, 10, 9), inclusive=False) == date(2026, 10, 10)
    assert calendar.add_workdays(date(2026, 10, 9), 1) == DueDate(date(2026, 10, 10), False)


def test_override_beats_official_data_and_does_not_cover_the_year() -> None:
    calendar = WorkCalendar([DayOverride(date(2026, 10, 10), is_workday=False, note="停工")])
    assert calendar.is_workday(date(2026, 10, 10)) is False
    assert calendar.next_workday(date(2026, 10, 9), inclusive=False) == date(2026, 10, 12)

    holiday_made_workday = WorkCalendar([DayOverride(date(2026, 10, 1), is_workday=True)])
    assert holiday_made_workday.is_workday(date(2026, 10, 1)) is True

    in_fallback_year = WorkCalendar([DayOverride(date(2027, 3, 1), is_workday=False)])
    assert in_fallback_year.coverage(2027) is Coverage.FALLBACK
    assert in_fallback_year.is_workday(date(2027, 3, 1)) is False
    assert in_fallback_year.is_provisional(date(2027, 3, 1)) is False  # decided by a person
    assert in_fallback_year.is_provisional(date(2027, 3, 2)) is True


def test_single_day_override_beats_schedule_row_for_the_same_day() -> None:
    rows = [
        DayOverride(date(2027, 2, 6), is_workday=False, source=DaySource.OVERRIDE),
        DayOverride(date(2027, 2, 6), is_workday=True, source=DaySource.SCHEDULE),
    ]
    for ordered in (rows, rows[::-1]):
        calendar = WorkCalendar(ordered)
        assert calendar.is_workday(date(2027, 2, 6)) is False
        assert calendar.coverage(2027) is Coverage.SCHEDULE


def test_coverage() -> None:
    calendar = WorkCalendar([SCHEDULE_2027])
    assert calendar.coverage(2026) is Coverage.OFFICIAL
    assert calendar.coverage(2004) is Coverage.OFFICIAL
    assert calendar.coverage(2027) is Coverage.SCHEDULE
    assert calendar.coverage(2028) is Coverage.FALLBACK
    assert calendar.coverage(2003) is Coverage.FALLBACK
    assert calendar.fallback_years([2028, 2026, 2003, 2027, 2028]) == [2003, 2028]
    assert WorkCalendar().fallback_years(range(2025, 2028)) == [2027]


def test_schedule_year_follows_monday_to_friday_outside_its_exceptions() -> None:
    calendar = WorkCalendar(
        [
            SCHEDULE_2027,
            DayOverride(date(2027, 2, 20), is_workday=True, note="调休", source=DaySource.SCHEDULE),
        ]
    )
    assert calendar.is_workday(date(2027, 1, 1)) is False  # a Friday holiday
    assert calendar.is_workday(date(2027, 2, 20)) is True  # a working Saturday
    assert calendar.is_workday(date(2027, 1, 4)) is True  # an ordinary Monday
    assert calendar.is_workday(date(2027, 1, 9)) is False  # an ordinary Saturday
    assert calendar.is_provisional(date(2027, 1, 4)) is False
    assert calendar.is_provisional(date(2027, 1, 9)) is False


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2027, 1, 1), False),  # 元旦, a Friday
        (date(2027, 1, 4), True),  # an ordinary Monday
        (date(2027, 1, 2), False),  # Saturday
        (date(2027, 2, 9), False),  # 春节补休, a Tuesday
        (date(2003, 10, 1), False),  # before the bundled data: 国庆 too
        (date(2003, 10, 8), True),
        (date(2003, 10, 4), False),
    ],
)
def test_fallback_is_monday_to_friday_less_statutory_holidays_and_provisional(
    day: date, expected: bool
) -> None:
    calendar = WorkCalendar()
    assert calendar.is_workday(day) is expected
    assert calendar.is_provisional(day) is True


def test_fallback_warns_once_per_year_per_instance(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="duban.calendar")
    calendar = WorkCalendar()
    calendar.add_workdays(date(2026, 12, 1), 300)  # walks through all of 2027 and into 2028
    calendar.is_workday(date(2027, 5, 5))
    calendar.is_workday(date(2003, 5, 5))
    calendar.is_workday(date(2026, 5, 5))
    messages = [r.getMessage() for r in caplog.records if r.name == "duban.calendar"]
    assert len(messages) == 3
    for year in ("2003", "2027", "2028"):
        assert sum(year in message for message in messages) == 1
    assert all(r.levelno == logging.WARNING for r in caplog.records)

    caplog.clear()
    WorkCalendar().is_workday(date(2027, 5, 5))
    assert len(caplog.records) == 1

    caplog.clear()
    WorkCalendar([SCHEDULE_2027]).add_workdays(date(2027, 1, 1), 100)
    assert caplog.records == []


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        (date(2026, 9, 25), 30, DueDate(date(2026, 11, 12), False)),
        (date(2026, 11, 2), 30, DueDate(date(2026, 12, 14), False)),
        (date(2026, 12, 15), 30, DueDate(date(2027, 1, 27), True)),  # 元旦 known
        (date(2026, 9, 30), 1, DueDate(date(2026, 10, 8), False)),  # over 国庆 (10-01..07)
        (date(2026, 10, 12), -1, DueDate(date(2026, 10, 10), False)),  # back to the 调休 Sat
        (date(2026, 10, 8), -1, DueDate(date(2026, 9, 30), False)),
        (date(2026, 10, 3), 0, DueDate(date(2026, 10, 8), False)),  # not a workday: next one
        (date(2026, 10, 9), 0, DueDate(date(2026, 10, 9), False)),  # a workday: itself
        (date(2027, 1, 4), 0, DueDate(date(2027, 1, 4), True)),
        (date(2027, 1, 5), -1, DueDate(date(2027, 1, 4), True)),  # Monday, by the fallback
        (date(2027, 1, 4), -1, DueDate(date(2026, 12, 31), True)),  # over 元旦 (fallback)
        (date(2027, 1, 1), -1, DueDate(date(2026, 12, 31), False)),
        (date(2026, 12, 31), 0, DueDate(date(2026, 12, 31), False)),
    ],
)
def test_add_workdays(start: date, n: int, expected: DueDate) -> None:
    assert WorkCalendar().add_workdays(start, n) == expected


def test_add_workdays_with_an_imported_schedule() -> None:
    calendar = WorkCalendar([SCHEDULE_2027])
    assert calendar.add_workdays(date(2026, 12, 15), 30) == DueDate(date(2027, 1, 27), False)


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (date(2026, 11, 12), date(2026, 11, 12), 0),
        (date(2026, 9, 25), date(2026, 11, 12), 30),
        (date(2026, 11, 12), date(2026, 9, 25), -30),
        (date(2026, 10, 9), date(2026, 10, 12), 2),  # the 调休 Saturday and Monday
        (date(2026, 10, 10), date(2026, 10, 11), 0),
        (date(2026, 10, 11), date(2026, 10, 10), 0),  # (10th, 11th]: Sunday only
        (date(2026, 10, 12), date(2026, 10, 10), -1),  # (10th, 12th]: Monday
    ],
)
def test_workdays_between(start: date, end: date, expected: int) -> None:
    assert WorkCalendar().workdays_between(start, end) == expected


def test_next_workday() -> None:
    calendar = WorkCalendar()
    assert calendar.next_workday(date(2026, 10, 1)) == date(2026, 10, 8)
    assert calendar.next_workday(date(2026, 10, 9)) == date(2026, 10, 9)
    assert calendar.next_workday(date(2026, 10, 9), inclusive=False) == date(2026, 10, 10)
    assert calendar.next_workday(date(2026, 12, 31), inclusive=False) == date(2027, 1, 4)


def test_add_workdays_decides_each_day_once() -> None:
    # Cheapness without timing: every day's precedence rules run once; repeats hit the cache.
    calendar = WorkCalendar()
    first = calendar.add_workdays(date(2026, 3, 2), 30)
    walked = calendar.decisions
    # The walk visits each day after the start once: as many decisions as days means no day
    # was decided twice.
    assert walked == (first.day - date(2026, 3, 2)).days
    for _ in range(5):
        assert calendar.add_workdays(date(2026, 3, 2), 30) == first
    assert calendar.decisions == walked


# -- properties -------------------------------------------------------------------------

DAYS = st.dates(min_value=date(2001, 1, 1), max_value=date(2030, 12, 31))
STEPS = st.integers(min_value=1, max_value=400)
OVERRIDES = st.lists(
    st.builds(
        DayOverride,
        day=DAYS,
        is_workday=st.booleans(),
        source=st.sampled_from(DaySource),
    ),
    max_size=20,
)


@given(overrides=OVERRIDES, day=DAYS, n=STEPS)
def test_property_add_workdays_forward(overrides: list[DayOverride], day: date, n: int) -> None:
    calendar = WorkCalendar(overrides)
    result = calendar.add_workdays(day, n).day
    assert result > day
    assert calendar.is_workday(result)
    assert calendar.workdays_between(day, result) == n
    assert calendar.workdays_between(result, day) == -n


@given(overrides=OVERRIDES, day=DAYS, n=STEPS)
def test_property_add_workdays_backward(overrides: list[DayOverride], day: date, n: int) -> None:
    calendar = WorkCalendar(overrides)
    result = calendar.add_workdays(day, -n).day
    assert result < day
    assert calendar.is_workday(result)
    # Exactly n working days in [result, day): walking forward n again reaches `day`'s workday.
    assert calendar.workdays_between(result, day) == n - 1 + calendar.is_workday(day)
    assert calendar.add_workdays(result, n).day == calendar.next_workday(day)
    if calendar.is_workday(day):
        assert calendar.workdays_between(day, result) == -n


@given(overrides=OVERRIDES, day=DAYS, n=STEPS)
def test_property_monotonic_in_n(overrides: list[DayOverride], day: date, n: int) -> None:
    calendar = WorkCalendar(overrides)
    assert calendar.add_workdays(day, n).day < calendar.add_workdays(day, n + 1).day
    assert calendar.add_workdays(day, -n - 1).day < calendar.add_workdays(day, -n).day
    zero = calendar.add_workdays(day, 0).day
    assert calendar.add_workdays(day, -1).day < zero <= calendar.add_workdays(day, 1).day


@given(overrides=OVERRIDES, day=DAYS, n=STEPS)
def test_property_provisional_iff_a_fallback_day_was_walked(
    overrides: list[DayOverride], day: date, n: int
) -> None:
    calendar = WorkCalendar(overrides)
    due = calendar.add_workdays(day, n)
    walked = [day + timedelta(days=i) for i in range(1, (due.day - day).days + 1)]
    assert due.provisional is any(calendar.is_provisional(d) for d in walked)


@given(overrides=OVERRIDES, a=DAYS, b=DAYS, c=DAYS)
def test_property_workdays_between_adds_up(
    overrides: list[DayOverride], a: date, b: date, c: date
) -> None:
    calendar = WorkCalendar(overrides)
    assert calendar.workdays_between(a, b) + calendar.workdays_between(b, c) == (
        calendar.workdays_between(a, c)
    )


def test_workdays_between_matches_a_day_by_day_count_across_years() -> None:
    # The prefix sums must agree with walking the days, over year ends, overrides, the
    # official data and the fallback years alike, in both directions.
    cal = WorkCalendar(
        [DayOverride(date(2026, 12, 31), False), DayOverride(date(2027, 1, 2), True)]
    )
    days = [date(2024, 12, 30) + timedelta(days=n * 37) for n in range(40)]

    def walked(a: date, b: date) -> int:
        return sum(cal.is_workday(a + timedelta(days=k)) for k in range(1, (b - a).days + 1))

    for start in days[::3]:
        for end in days:
            expected = walked(start, end) if end >= start else -walked(end, start)
            assert cal.workdays_between(start, end) == expected, (start, end)
