"""An approved extension (延期) of the lead unit (主办) moves its item's co deadlines (协办).

A co unit's input is due ``co_lead_days`` working days before the lead's deadline (the
policy's, as when the co assignment was made); when the office grants the lead more time,
the open co deadlines follow, never earlier than they were. Called by
`supervision.requests` when an extension is approved.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models import ACTIVE_STATES, Assignment, AssignmentRole, Item
from supervision.audit import Actor, record
from supervision.calendar_store import load_calendar
from supervision.clock import Clock
from supervision.deadlines import co_due
from supervision.policy import co_lead_days_of, load_policy_for
from supervision.schedule import reschedule

__all__ = ["follow_lead_extension"]


async def follow_lead_extension(
    session: AsyncSession,
    lead: Assignment,
    *,
    extension_id: int,
    actor: Actor,
    clock: Clock,
) -> list[int]:
    """After an approved extension (延期) of the lead assignment: move its item's open co
    assignments (协办) to the lead's new deadline minus the policy's ``co_lead_days`` working
    days, as when they were created; a co deadline already later stays. Audited as
    ``due_moved`` on each co assignment (the item timeline shows it); returns their ids."""
    if lead.role != AssignmentRole.LEAD:
        return []
    item = await session.get_one(Item, lead.item_id)
    calendar = await load_calendar(session)
    policy = await load_policy_for(session, item.source, item.urgent)
    new = co_due(lead.due_on, item.received_on, calendar, co_lead_days_of(policy))
    co = await session.scalars(
        select(Assignment)
        .where(
            Assignment.item_id == item.id,
            Assignment.role == AssignmentRole.CO.value,
            Assignment.state.in_([s.value for s in ACTIVE_STATES]),
        )
        .order_by(Assignment.id)
    )
    moved: list[int] = []
    for assignment in co:
        if assignment.due_on >= new:
            continue  # never shortened: an own extension past the new date stands
        before = assignment.due_on
        assignment.due_on = new
        await reschedule(session, assignment, clock=clock, calendar=calendar, policy=policy)
        record(
            session,
            clock=clock,
            actor=actor,
            entity="assignment",
            entity_id=assignment.id,
            action="due_moved",
            detail={
                "from": before.isoformat(),
                "to": new.isoformat(),
                "extension_id": extension_id,
                "lead_assignment_id": lead.id,
            },
        )
        moved.append(assignment.id)
    return moved
