"""The status light (红黄绿灯), computed in one place for the CLI, bot, web and bulletins."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, SQLColumnExpression, and_, case, or_

from models import ItemState, MilestoneState
from supervision.calendar import WorkCalendar

DUE_SOON_WORKING_DAYS = 3
STALE_AFTER_WORKING_DAYS = 10


class Light(StrEnum):
    """green on track, yellow due soon or no recent report, red overdue; grey when done."""

    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"
    GREY = "grey"


SEVERITY = {Light.GREY: 0, Light.GREEN: 1, Light.YELLOW: 2, Light.RED: 3}
BY_SEVERITY = {n: light for light, n in SEVERITY.items()}
DONE_STATES = (ItemState.CLOSED.value, ItemState.CANCELLED.value)


def light_for(
    *,
    state: str,
    due_on: date,
    today: date,
    last_report_on: date | None,
    started_on: date,
    calendar: WorkCalendar,
    due_soon: int = DUE_SOON_WORKING_DAYS,
    stale_after: int | None = STALE_AFTER_WORKING_DAYS,
) -> Light:
    """The light of one assignment (or an item without assignments) on ``today``.

    ``stale_after`` None: no yellow for a quiet spell (a milestone is held to its date only;
    reports are asked of the assignments)."""
    if state in DONE_STATES:
        return Light.GREY
    if today > due_on:
        return Light.RED
    if calendar.workdays_between(today, due_on) <= due_soon:
        return Light.YELLOW
    since = last_report_on or started_on
    if stale_after is not None and calendar.workdays_between(since, today) >= stale_after:
        return Light.YELLOW
    return Light.GREEN


class Tracked(Protocol):
    """What the light reads of an assignment (`models.Assignment` or a row of its columns)."""

    @property
    def state(self) -> str: ...

    @property
    def due_on(self) -> date: ...

    @property
    def last_report_at(self) -> datetime | None: ...


def assignment_light(
    assignment: Tracked,
    *,
    received_on: date,
    today: date,
    calendar: WorkCalendar,
    tz: ZoneInfo,
) -> Light:
    """The light of one assignment: its last report counts on the office's date in ``tz``, and
    with no report yet the quiet time runs from ``received_on``, the item's received date."""
    last = assignment.last_report_at
    return light_for(
        state=assignment.state,
        due_on=assignment.due_on,
        today=today,
        last_report_on=last.astimezone(tz).date() if last is not None else None,
        started_on=received_on,
        calendar=calendar,
    )


class Staged(Protocol):
    """What the light reads of a milestone (`models.Milestone` or a row of its columns)."""

    @property
    def state(self) -> str: ...

    @property
    def due_on(self) -> date: ...


def milestone_light(milestone: Staged, *, today: date, calendar: WorkCalendar) -> Light:
    """The light of one milestone (阶段性节点): `light_for`'s dates, grey once done."""
    return light_for(
        state=ItemState.CLOSED if milestone.state == MilestoneState.DONE else ItemState.OPEN,
        due_on=milestone.due_on,
        today=today,
        last_report_on=None,
        started_on=today,
        calendar=calendar,
        stale_after=None,
    )


def worst(lights: list[Light]) -> Light:
    """The most severe of several lights (an item shows its worst assignment)."""
    return max(lights, key=SEVERITY.__getitem__, default=Light.GREY)


@dataclass(frozen=True, slots=True)
class LightCuts:
    """`light_for` on one day as three dates, so that a query can compute lights in SQL.

    Working-day counts are monotonic in the date, so "due within ``due_soon`` working days"
    is "due before ``soon_before``" and "no report for ``stale_after`` working days" is
    "last report on or before ``quiet_since``" (before ``quiet_before`` as an instant).
    """

    today: date
    soon_before: date
    quiet_since: date
    quiet_before: datetime  # UTC

    @classmethod
    def on(
        cls,
        today: date,
        calendar: WorkCalendar,
        tz: ZoneInfo,
        *,
        due_soon: int = DUE_SOON_WORKING_DAYS,
        stale_after: int = STALE_AFTER_WORKING_DAYS,
    ) -> LightCuts:
        """The cuts of ``today``: the same rule as `light_for` with the same arguments."""
        # workdays_between(today, due) <= due_soon  <=>  due < the (due_soon + 1)th working
        # day after today
        soon_before = calendar.add_workdays(today, due_soon + 1).day
        # workdays_between(since, today) >= stale_after  <=>  since <= quiet_since: walk back
        # until the working days in [day, today] reach stale_after
        day, seen = today, 0
        while seen < stale_after:
            seen += calendar.is_workday(day)
            day -= timedelta(days=1)
        quiet_before = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)
        return cls(today, soon_before, day, quiet_before.astimezone(UTC))

    def severity(
        self,
        *,
        state: SQLColumnExpression[Any],
        due_on: SQLColumnExpression[Any],
        started_on: SQLColumnExpression[Any],
        last_report_at: SQLColumnExpression[Any] | None = None,
    ) -> ColumnElement[int]:
        """`SEVERITY` of `light_for`'s light, as a SQL expression over the given columns
        (``last_report_at`` None: no report, as for an item without active assignments)."""
        quiet: ColumnElement[bool] = started_on <= self.quiet_since
        if last_report_at is not None:
            quiet = or_(and_(last_report_at.is_(None), quiet), last_report_at < self.quiet_before)
        return case(
            (state.in_(DONE_STATES), SEVERITY[Light.GREY]),
            (due_on < self.today, SEVERITY[Light.RED]),
            (due_on < self.soon_before, SEVERITY[Light.YELLOW]),
            (quiet, SEVERITY[Light.YELLOW]),
            else_=SEVERITY[Light.GREEN],
        )

    def milestone_severity(self, *, due_on: SQLColumnExpression[Any]) -> ColumnElement[int]:
        """`SEVERITY` of `milestone_light`'s light of an open milestone, as a SQL expression:
        red past its date, yellow due soon, green otherwise (no quiet-spell rule)."""
        return case(
            (due_on < self.today, SEVERITY[Light.RED]),
            (due_on < self.soon_before, SEVERITY[Light.YELLOW]),
            else_=SEVERITY[Light.GREEN],
        )
