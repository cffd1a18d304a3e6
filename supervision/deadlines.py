"""Deadline rules (完成时限): the 30-working-day default and days left or overdue.

Pure domain code on top of `supervision.calendar`: it imports no I/O.
"""

from __future__ import annotations

from datetime import date, timedelta

from supervision.calendar import DueDate, WorkCalendar

__all__ = [
    "DEFAULT_CO_LEAD_DAYS",
    "DEFAULT_DUE_WORKING_DAYS",
    "DeadlineError",
    "co_due",
    "days_late",
    "days_left",
    "default_due",
    "recompute_provisional",
    "resolve_due",
]

DEFAULT_DUE_WORKING_DAYS = 30  # seed document 四(二): 30 working days when no deadline is given
DEFAULT_CO_LEAD_DAYS = 5  # 协办 input is due this many working days before the lead's deadline


class DeadlineError(ValueError):
    """A deadline that the rules do not allow; the message says why."""


def default_due(
    received_on: date,
    calendar: WorkCalendar,
    working_days: int = DEFAULT_DUE_WORKING_DAYS,
) -> DueDate:
    """The default deadline: `working_days` working days after the item was received."""
    if working_days < 1:
        raise DeadlineError(
            f"the default deadline needs at least 1 working day, got {working_days}"
        )
    return calendar.add_workdays(received_on, working_days)


def resolve_due(
    received_on: date,
    due_on: date | None,
    calendar: WorkCalendar,
    working_days: int = DEFAULT_DUE_WORKING_DAYS,
) -> DueDate:
    """The deadline of an item: the given `due_on`, or the default when none is given."""
    if due_on is None:
        return default_due(received_on, calendar, working_days)
    if due_on < received_on:
        raise DeadlineError(
            f"the deadline {due_on.isoformat()} is before the date the item was received "
            f"({received_on.isoformat()})"
        )
    return DueDate(due_on, provisional=False)


def recompute_provisional(
    received_on: date,
    current_due: date,
    calendar: WorkCalendar,
    working_days: int = DEFAULT_DUE_WORKING_DAYS,
) -> DueDate:
    """Recompute a provisional default deadline after a calendar import; never earlier."""
    recomputed = default_due(received_on, calendar, working_days)
    if recomputed.day >= current_due:
        return recomputed
    # The announced date stands: nobody should become overdue earlier than they were told.
    provisional = recomputed.provisional or any(
        calendar.is_provisional(recomputed.day + timedelta(days=i))
        for i in range(1, (current_due - recomputed.day).days + 1)
    )
    return DueDate(current_due, provisional)


def co_due(lead_due: date, received_on: date, calendar: WorkCalendar, lead_days: int) -> date:
    """When a co unit's (协办) input is due to the lead unit: ``lead_days`` working days
    before the lead's deadline, never before the item was received (0: the lead's own day)."""
    if lead_days <= 0:
        return lead_due
    return max(calendar.add_workdays(lead_due, -lead_days).day, min(received_on, lead_due))


def days_left(today: date, due_on: date, calendar: WorkCalendar) -> int:
    """Working days from `today` to `due_on`: 0 on the due day, negative when overdue
    (`days_late`: a red item never reads "due today")."""
    if today > due_on:
        return -days_late(due_on, today, calendar)
    return calendar.workdays_between(today, due_on)


def days_late(due_on: date, until: date, calendar: WorkCalendar) -> int:
    """Working days ``until`` is past ``due_on``: 0 up to the due day, at least 1 after it.

    A deadline missed on a Friday is one working day late on the Saturday already: the item
    is red (`supervision.light`), and a bulletin must not call it late by 0 days."""
    if until <= due_on:
        return 0
    return max(1, calendar.workdays_between(due_on, until))
