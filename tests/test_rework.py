"""退回重办: a supervisor sends a closed item back with a reason and a new deadline
(issue 12 §6)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from models import Assignment, AuditEvent, Item, ItemState, Notification, Role, Source
from supervision.audit import Actor
from supervision.errors import InvalidTransition, ValidationFailed
from supervision.items import AssigneeSpec, ItemSpec, save_item
from supervision.lifecycle import transition_assignment
from supervision.policy import ensure_default_policies
from supervision.rework import reopen_item
from testing import factories as f

ACTOR = Actor.system("test")


async def _closed_item(session, clock):
    await ensure_default_policies(session)
    lead_unit = await f.unit(session, name="主办局")
    co_unit = await f.unit(session, name="协办局")
    owner = await f.person(session, name="主办责任人", unit=lead_unit, telegram_user_id=601)
    co_liaison = await f.person(session, name="协办联络员", unit=co_unit, roles={Role.LIAISON})
    saved = await save_item(
        session,
        ItemSpec(
            ref="督〔2026〕80号",
            title="退回事项",
            source=Source.MEETING,
            received_on=date(2026, 10, 8),
            due_on=date(2026, 10, 30),
            lead=AssigneeSpec(lead_unit.id, owner.id),
            co=(AssigneeSpec(co_unit.id),),
        ),
        actor=ACTOR,
        clock=clock,
    )
    rows = await session.scalars(
        select(Assignment).where(Assignment.item_id == saved.item.id).order_by(Assignment.id)
    )
    lead, co = rows.all()
    for a in (lead, co):  # the scan sent the 交办通知 long before the item was closed
        a.assign_noticed_at = a.assigned_at
    await transition_assignment(session, lead, ItemState.CLOSED, actor=ACTOR, clock=clock)
    assert saved.item.state == ItemState.CLOSED and co.state == ItemState.CLOSED
    return saved.item, lead, co, owner, co_liaison


async def test_a_supervisor_reopens_a_closed_item_with_a_reason_and_a_new_deadline(session, clock):
    item, lead, co, owner, co_liaison = await _closed_item(session, clock)
    reopened = await reopen_item(
        session, item, reason="现场核查不符", due_on=date(2026, 11, 30), actor=ACTOR, clock=clock
    )
    assert {a.id for a in reopened} == {lead.id, co.id}
    assert item.state == ItemState.OPEN and item.due_on == date(2026, 11, 30)
    assert lead.state == co.state == ItemState.OPEN
    assert lead.due_on == date(2026, 11, 30)
    assert co.due_on == date(2026, 11, 23)  # the co unit's input: 5 working days earlier
    # The ladder restarts: the next step is planned from the new deadline, in the future.
    assert lead.next_action_at is not None and lead.next_action_at > clock.now()
    events = (
        await session.scalars(
            select(AuditEvent).where(AuditEvent.entity == "item", AuditEvent.action == "reopen")
        )
    ).all()
    assert [e.detail["reason"] for e in events] == ["现场核查不符"]
    told = await session.execute(
        select(Notification.recipient_id, Notification.channel, Notification.payload).where(
            Notification.kind == "reopened"
        )
    )
    rows = {(r, c) for r, c, p in told if p["reason"] == "现场核查不符"}
    assert (owner.id, "telegram") in rows and (owner.id, "email") in rows
    assert (co_liaison.id, "email") in rows  # a co unit without an owner: its liaisons


async def test_reopening_needs_a_closed_item_a_reason_and_a_later_deadline(session, clock):
    item, *_ = await _closed_item(session, clock)
    with pytest.raises(ValidationFailed) as caught:
        await reopen_item(
            session, item, reason=" ", due_on=date(2026, 11, 2), actor=ACTOR, clock=clock
        )
    assert len(caught.value.errors) == 2
    assert item.state == ItemState.CLOSED
    await reopen_item(
        session, item, reason="重办", due_on=date(2026, 11, 30), actor=ACTOR, clock=clock
    )
    with pytest.raises(InvalidTransition):
        await reopen_item(
            session, item, reason="再次", due_on=date(2026, 12, 30), actor=ACTOR, clock=clock
        )
    assert await session.scalar(select(Item.due_on).where(Item.id == item.id)) == date(2026, 11, 30)
