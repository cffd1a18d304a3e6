"""退回重办 and 转办.

退回重办: a supervisor sends a closed item back to be done again, with a reason and a new
deadline. Its closed assignments (主办 and 协办) reopen, their ladders restart from the new
deadline (a co unit's runs `co_lead_days` earlier), the people concerned are told through
the outbox (kind ``reopened``) and everything is audited. 转办: an open assignment is handed
to another unit or 责任人 with a reason (kind ``transferred``), audited likewise.

Imports `models/` and `supervision/` only; I/O through the session it is given.
"""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    Assignment,
    AssignmentRole,
    AuditAction,
    AuditEntity,
    Item,
    ItemState,
    MessageKind,
    Milestone,
    MilestoneState,
    Person,
    Unit,
)
from supervision.access import assignment_people
from supervision.audit import Actor, record
from supervision.calendar import WorkCalendar
from supervision.calendar_store import load_calendar
from supervision.clock import Clock, local_today
from supervision.errors import InvalidTransition, NotFound, ValidationFailed
from supervision.items import assignment_due, is_member, owner_outside_unit
from supervision.labels import Problem, Sentence, refusal, refusals
from supervision.lifecycle import transition_assignment
from supervision.outbox import CHAT, EMAIL, notify_person
from supervision.policy import load_policy_for
from supervision.schedule import OFFICE_TZ

__all__ = ["MAX_REASON", "REOPENED", "TRANSFERRED", "reopen_item", "transfer_assignment"]

REOPENED = MessageKind.REOPENED
MAX_REASON = 1000


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
    if item.state != ItemState.CLOSED:
        raise refusal(InvalidTransition, Sentence.REOPEN_NOT_CLOSED)
    problems: list[Problem] = []
    if not reason:
        problems.append((Sentence.REOPEN_REASON_REQUIRED, {}))
    elif len(reason) > MAX_REASON:
        problems.append((Sentence.REASON_TOO_LONG, {"max": MAX_REASON}))
    if due_on <= local_today(clock, tz):
        problems.append((Sentence.REOPEN_DUE_NOT_LATER, {}))
    if problems:
        raise refusals(ValidationFailed, problems)
    cal = calendar if calendar is not None else await load_calendar(session)
    policy = await load_policy_for(session, item.source, item.urgent)
    closed = (
        await session.scalars(
            select(Assignment)
            .where(Assignment.item_id == item.id, Assignment.state == ItemState.CLOSED)
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
        entity=AuditEntity.ITEM,
        entity_id=item.id,
        action=AuditAction.REOPEN,
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
            reason=reason,  # the item's reopen event says why it reopened (退回重办)
        )
        for person in await assignment_people(session, assignment):
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
    # The item's open milestones take up their own ladders again at the next scan.
    await session.execute(
        update(Milestone)
        .where(Milestone.item_id == item.id, Milestone.state == MilestoneState.OPEN)
        .values(next_action_at=now)
        .execution_options(synchronize_session=False)
    )
    return list(closed)


TRANSFERRED = MessageKind.TRANSFERRED


async def transfer_assignment(
    session: AsyncSession,
    assignment: Assignment,
    *,
    reason: str,
    unit_id: int | None = None,
    owner_id: int | None = None,
    actor: Actor,
    clock: Clock,
) -> None:
    """转办: hand an open assignment to another unit and/or another 责任人, with a reason.

    The new owner must be a member of the (new) unit; a unit already on the item cannot take
    a second assignment. The assignment keeps its deadline, reports and ladder; the new
    people (owner or the unit's liaisons) and the previous owner are told (kind
    ``transferred``), and the change is audited. A bad request raises and changes nothing.
    """
    reason = reason.strip()
    problems: list[Problem] = []
    if assignment.state != ItemState.OPEN:
        raise refusal(InvalidTransition, Sentence.TRANSFER_NOT_OPEN)
    if not reason:
        problems.append((Sentence.TRANSFER_REASON_REQUIRED, {}))
    elif len(reason) > MAX_REASON:
        problems.append((Sentence.REASON_TOO_LONG, {"max": MAX_REASON}))
    target_unit = unit_id if unit_id is not None else assignment.unit_id
    if unit_id is None and owner_id is None:
        problems.append((Sentence.TRANSFER_TO_WHOM, {}))
    elif target_unit == assignment.unit_id and owner_id in (None, assignment.owner_id):
        problems.append((Sentence.TRANSFER_SAME, {}))
    unit = await session.get(Unit, target_unit)
    if unit is None:
        raise NotFound(f"no such unit #{target_unit}")
    if target_unit != assignment.unit_id:
        taken = await session.scalar(
            select(Assignment.id).where(
                Assignment.item_id == assignment.item_id,
                Assignment.unit_id == target_unit,
                Assignment.id != assignment.id,
            )
        )
        if taken is not None:
            problems.append((Sentence.UNIT_ALREADY_ON_ITEM, {"unit": unit.name}))
    owner = await session.get(Person, owner_id) if owner_id is not None else None
    if owner_id is not None and owner is None:
        raise NotFound(f"no such person #{owner_id}")
    if owner is not None and not is_member(owner.unit_id, target_unit):
        problems.append(owner_outside_unit(owner.name, unit.name, None))
    if problems:
        raise refusals(ValidationFailed, problems)
    previous_owner = (
        await session.get(Person, assignment.owner_id) if assignment.owner_id is not None else None
    )
    before = {"unit_id": assignment.unit_id, "owner_id": assignment.owner_id}
    if target_unit != assignment.unit_id:
        assignment.unit_id = target_unit
        assignment.leader_id = None  # the new unit's leaders stand in until one is named
    assignment.owner_id = owner.id if owner is not None else None
    after = {"unit_id": assignment.unit_id, "owner_id": assignment.owner_id}
    record(
        session,
        clock=clock,
        actor=actor,
        entity=AuditEntity.ASSIGNMENT,
        entity_id=assignment.id,
        action=AuditAction.TRANSFER,
        detail={"reason": reason, "before": before, "after": after},
    )
    await session.flush()
    now = clock.now()
    told = list(await assignment_people(session, assignment))
    if previous_owner is not None and previous_owner not in told and previous_owner.active:
        told.append(previous_owner)
    for person in told:
        await notify_person(
            session,
            person=person,
            kind=TRANSFERRED,
            key=f"a{assignment.id}:{TRANSFERRED}:{now.isoformat()}",
            channels=(CHAT, EMAIL),
            not_before=now,
            now=now,
            assignment_id=assignment.id,
            item_id=assignment.item_id,
            payload={"reason": reason},
        )
