"""The working-day calendar (工作日): official Chinese data, imported schedules, overrides.

Pure domain code: it imports no I/O. Admin overrides arrive as plain `DayOverride` values.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

import chinese_calendar

from supervision.holidays import statutory_holidays

__all__ = [
    "OFFICIAL_YEARS",
    "Coverage",
    "DayOverride",
    "DaySource",
    "DueDate",
    "WorkCalendar",
]

logger = logging.getLogger("duban.calendar")

# chinese_calendar's own lookups rescan its tables on every call to validate the year, so
# the official data is read once here and the same rule is applied with plain dict lookups.
_OFFICIAL_HOLIDAYS: frozenset[date] = frozenset(chinese_calendar.holidays)
_OFFICIAL_WORKDAYS: frozenset[date] = frozenset(chinese_calendar.workdays)

OFFICIAL_YEARS: range = range(min(_OFFICIAL_HOLIDAYS).year, max(_OFFICIAL_HOLIDAYS).year + 1)

_ONE_DAY = timedelta(days=1)


class Coverage(StrEnum):
    """Where the working days of a year come from."""

    OFFICIAL = "official"
    SCHEDULE = "schedule"
    FALLBACK = "fallback"


class DaySource(StrEnum):
    """Origin of a `DayOverride`: an imported official schedule or a single admin edit."""

    SCHEDULE = "schedule"
    OVERRIDE = "override"


@dataclass(frozen=True, slots=True)
class DayOverride:
    """One day whose working status is set by the admin, not by the bundled data."""

    day: date
    is_workday: bool
    note: str = ""
    source: DaySource = DaySource.OVERRIDE


@dataclass(frozen=True, slots=True)
class DueDate:
    """A computed date; `provisional` when it relied on the fallback (no official data)."""

    day: date
    provisional: bool


class WorkCalendar:
    """Answers "is this a working day?" and walks working days, with per-day caching."""

    __slots__ = (
        "_cache",
        "_decisions",
        "_overrides",
        "_prefix",
        "_schedule_years",
        "_warned_years",
    )

    def __init__(self, overrides: Iterable[DayOverride] = ()) -> None:
        """Build a calendar; a single-day OVERRIDE beats a SCHEDULE row for the same day."""
        rows = list(overrides)
        by_day: dict[date, DayOverride] = {}
        for override in rows:
            previous = by_day.get(override.day)
            if (
                previous is not None
                and previous.source is DaySource.OVERRIDE
                and override.source is DaySource.SCHEDULE
            ):
                continue
            by_day[override.day] = override
        self._overrides: dict[date, bool] = {d: o.is_workday for d, o in by_day.items()}
        # A year counts as covered by any schedule row, even one shadowed by an OVERRIDE.
        self._schedule_years: frozenset[int] = frozenset(
            o.day.year for o in rows if o.source is DaySource.SCHEDULE
        )
        # day -> (is_workday, provisional)
        self._cache: dict[date, tuple[bool, bool]] = {}
        self._decisions = 0
        # year -> working days in [1 Jan, day] for each day of the year (index: day - 1 Jan)
        self._prefix: dict[int, list[int]] = {}
        self._warned_years: set[int] = set()

    def is_workday(self, day: date) -> bool:
        """Whether `day` is a working day: override, official data, schedule, else fallback."""
        return self._lookup(day)[0]

    def is_provisional(self, day: date) -> bool:
        """Whether `day` was decided by the fallback rather than real data."""
        return self._lookup(day)[1]

    @property
    def decisions(self) -> int:
        """How many times a day was decided by the precedence rules; each day is decided
        once and then answered from the cache."""
        return self._decisions

    def coverage(self, year: int) -> Coverage:
        """Where the working days of `year` come from."""
        if year in OFFICIAL_YEARS:
            return Coverage.OFFICIAL
        if year in self._schedule_years:
            return Coverage.SCHEDULE
        return Coverage.FALLBACK

    def fallback_years(self, years: Iterable[int]) -> list[int]:
        """The years among `years` that use the fallback, sorted and without repeats."""
        return sorted({y for y in years if self.coverage(y) is Coverage.FALLBACK})

    def add_workdays(self, start: date, n: int) -> DueDate:
        """The n-th working day after `start` (before it when n < 0; n == 0: next_workday)."""
        if n == 0:
            day = start
            workday, provisional = self._lookup(day)
            while not workday:
                day += _ONE_DAY
                workday, fallback = self._lookup(day)
                provisional = provisional or fallback
            return DueDate(day, provisional)
        step = _ONE_DAY if n > 0 else -_ONE_DAY
        remaining = abs(n)
        day = start
        provisional = False
        while remaining:
            day += step
            workday, fallback = self._lookup(day)
            provisional = provisional or fallback
            if workday:
                remaining -= 1
        return DueDate(day, provisional)

    def workdays_between(self, start: date, end: date) -> int:
        """Working days in (start, end]; if end < start, minus those in (end, start]."""
        if end < start:
            return -self.workdays_between(end, start)
        # From the prefix sums of each year: a bulletin counts thousands of spans a request.
        count = self._upto(end) - self._upto(start)
        for year in range(start.year, end.year):
            count += self._year_prefix(year)[-1]
        return count

    def _upto(self, day: date) -> int:
        """Working days in [1 Jan of day's year, day]."""
        return self._year_prefix(day.year)[day.toordinal() - date(day.year, 1, 1).toordinal()]

    def _year_prefix(self, year: int) -> list[int]:
        prefix = self._prefix.get(year)
        if prefix is None:
            prefix, total, day = [], 0, date(year, 1, 1)
            while day.year == year:
                total += self._lookup(day)[0]
                prefix.append(total)
                day += _ONE_DAY
            self._prefix[year] = prefix
        return prefix

    def next_workday(self, day: date, *, inclusive: bool = True) -> date:
        """The first working day on or after `day` (strictly after if not inclusive)."""
        if not inclusive:
            day += _ONE_DAY
        while not self._lookup(day)[0]:
            day += _ONE_DAY
        return day

    def _lookup(self, day: date) -> tuple[bool, bool]:
        """(is_workday, provisional) for `day`, cached."""
        cached = self._cache.get(day)
        if cached is not None:
            return cached
        result = self._decide(day)
        self._decisions += 1
        self._cache[day] = result
        return result

    def _decide(self, day: date) -> tuple[bool, bool]:
        """Apply the precedence: override, official data, schedule year, fallback."""
        override = self._overrides.get(day)
        if override is not None:
            return override, False
        year = day.year
        if year in OFFICIAL_YEARS:
            return (
                day in _OFFICIAL_WORKDAYS or (day.weekday() < 5 and day not in _OFFICIAL_HOLIDAYS)
            ), False
        weekday = day.weekday() < 5
        if year in self._schedule_years:
            # An imported schedule lists only the exceptions; the rest of its year is Mon–Fri.
            return weekday, False
        if year not in self._warned_years:
            self._warned_years.add(year)
            logger.warning(
                "no official calendar for %d: using Mon-Fri less the statutory holidays as "
                "working days until an official schedule is imported",
                year,
            )
        # The fallback knows the statutory holidays (and their 补休) but not the 调休 swaps.
        return weekday and day not in statutory_holidays(year), True
