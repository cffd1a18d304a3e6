"""The status light (红黄绿灯), computed in one place for the CLI, bot, web and bulletins."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Protocol
from zoneinfo import ZoneInfo

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
    if state in (ItemState.CLOSED, ItemState.CANCELLED):
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
