"""退回重办: a supervisor sends a closed item back to be done again, with a reason and a new
deadline. Its closed assignments (主办 and 协办) reopen, their ladders restart from the new
deadline (a co unit's runs `co_lead_days` earlier), the people concerned are told through
the outbox (kind ``reopened``) and everything is audited.

Imports `models/` and `supervision/` only; I/O through the session it is given.
"""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models import Assignment, AssignmentRole, Item, ItemState, Person
from supervision.access import unit_liaisons
from supervision.audit import Actor, record
from supervision.calendar import WorkCalendar
from supervision.calendar_store import load_calendar
from supervision.clock import Clock, local_today
from supervision.errors import InvalidTransition, ValidationFailed
from supervision.items import assignment_due
from supervision.lifecycle import transition_assignment
from supervision.outbox import CHAT, EMAIL, notify_person
from supervision.policy import load_policy_for
from supervision.schedule import OFFICE_TZ

__all__ = ["MAX_REASON", "REOPENED", "reopen_item"]

REOPENED = "reopened"
MAX_REASON = 1000


async def _people_of(session: AsyncSession, assignment: Assignment) -> list[Person]:
    """Whom a reopened assignment concerns: its owner and leader, else its unit's liaisons."""
    people = [
        p
        for pid in (assignment.owner_id, assignment.leader_id)
        if pid is not None and (p := await session.get(Person, pid)) is not None and p.active
    ]
    if assignment.owner_id is None or not people:
        people += [p for p in await unit_liaisons(session, assignment.unit_id) if p not in people]
    return people


async def reopen_item(
    session: AsyncSession,
    item: Item,
    *,
    reason: str,
    due_on: date,
    actor: Actor,
    clock: Clock,
    calendar: WorkCalendar | None = None,
    tz: ZoneInfo = OFFICE_TZ,
) -> list[Assignment]:
    """Send a closed item back (退回重办); return the assignments reopened.

    A bad request (no reason, a deadline not after today, an item not closed) raises and
    changes nothing.
    """
    reason = reason.strip()
    if item.state != ItemState.CLOSED.value:
        raise InvalidTransition("只有已办结的事项才能退回重办 (only a closed item can be reopened)")
    problems: list[str] = []
    if not reason:
        problems.append("请填写退回重办的理由 (a reason is required)")
    elif len(reason) > MAX_REASON:
        problems.append(f"理由不能超过{MAX_REASON}字 (reason too long)")
    if due_on <= local_today(clock, tz):
        problems.append("新的完成时限须晚于今天 (the new deadline must be after today)")
    if problems:
        raise ValidationFailed("; ".join(problems), problems)
    cal = calendar if calendar is not None else await load_calendar(session)
    policy = await load_policy_for(session, item.source, item.urgent)
    closed = (
        await session.scalars(
            select(Assignment)
            .where(Assignment.item_id == item.id, Assignment.state == ItemState.CLOSED.value)
            .order_by(Assignment.id)
        )
    ).all()
    old_due = item.due_on
    item.due_on = due_on
    item.due_is_default = False
    item.due_is_provisional = cal.is_provisional(due_on)
    record(
        session,
        clock=clock,
        actor=actor,
        entity="item",
        entity_id=item.id,
        action="reopen",
        detail={
            "reason": reason,
            "due_on": [old_due.isoformat(), due_on.isoformat()],
            "assignments": [a.id for a in closed],
        },
    )
    now = clock.now()
    for assignment in closed:
        # The new deadline first: a moved deadline starts a fresh ladder.
        assignment.due_on = assignment_due(item, AssignmentRole(assignment.role), cal, policy)
        await transition_assignment(
            session,
            assignment,
            ItemState.OPEN,
            actor=actor,
            clock=clock,
            reason=f"退回重办：{reason}",
        )
        for person in await _people_of(session, assignment):
            await notify_person(
                session,
                person=person,
                kind=REOPENED,
                key=f"a{assignment.id}:{REOPENED}:{now.isoformat()}",
                channels=(CHAT, EMAIL),
                not_before=now,
                now=now,
                assignment_id=assignment.id,
                item_id=item.id,
                payload={"reason": reason},
            )
    return list(closed)
