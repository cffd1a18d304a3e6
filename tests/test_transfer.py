"""转办: an open assignment is handed to another unit or 责任人 with a reason (issue 12 §6)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from models import AuditEvent, Notification, Role
from supervision.audit import Actor
from supervision.errors import InvalidTransition, ValidationFailed
from supervision.rework import transfer_assignment
from testing import factories as f

ACTOR = Actor.system("test")


async def _world(session):
    old_unit = await f.unit(session, name="原单位")
    new_unit = await f.unit(session, name="接办单位")
    old_owner = await f.person(session, name="原责任人", unit=old_unit)
    new_owner = await f.person(session, name="新责任人", unit=new_unit, telegram_user_id=701)
    new_liaison = await f.person(session, name="接办联络员", unit=new_unit, roles={Role.LIAISON})
    item = await f.item(session, ref="督〔2026〕90号", due_on=date(2026, 12, 14))
    a = await f.assignment(session, item=item, unit=old_unit, owner=old_owner)
    return a, old_owner, new_owner, new_liaison, new_unit


async def _told(session):
    rows = await session.execute(
        select(Notification.recipient_id, Notification.channel).where(
            Notification.kind == "transferred"
        )
    )
    return {tuple(r) for r in rows}


async def test_an_assignment_is_handed_to_another_unit_and_person_with_a_reason(session, clock):
    a, old_owner, new_owner, _, new_unit = await _world(session)
    await transfer_assignment(
        session,
        a,
        reason="属接办单位职责",
        unit_id=new_unit.id,
        owner_id=new_owner.id,
        actor=ACTOR,
        clock=clock,
    )
    assert (a.unit_id, a.owner_id, a.due_on) == (new_unit.id, new_owner.id, date(2026, 12, 14))
    event = await session.scalar(select(AuditEvent).where(AuditEvent.action == "transfer"))
    assert event is not None and event.detail["reason"] == "属接办单位职责"
    told = await _told(session)
    assert (new_owner.id, "telegram") in told and (new_owner.id, "email") in told
    assert (old_owner.id, "email") in told  # the previous owner learns it left them


async def test_a_unit_without_a_new_owner_is_reached_through_its_liaisons(session, clock):
    a, _, _, new_liaison, new_unit = await _world(session)
    await transfer_assignment(
        session, a, reason="转区办理", unit_id=new_unit.id, actor=ACTOR, clock=clock
    )
    assert a.owner_id is None
    assert (new_liaison.id, "email") in await _told(session)


async def test_a_transfer_needs_a_reason_and_an_owner_of_the_new_unit(session, clock):
    a, old_owner, new_owner, _, new_unit = await _world(session)
    with pytest.raises(ValidationFailed) as caught:
        await transfer_assignment(
            session,
            a,
            reason=" ",
            unit_id=new_unit.id,
            owner_id=old_owner.id,
            actor=ACTOR,
            clock=clock,
        )
    assert len(caught.value.errors) == 2
    assert a.owner_id == old_owner.id and await _told(session) == set()
    a.state = "closed"
    with pytest.raises(InvalidTransition):
        await transfer_assignment(
            session, a, reason="x", owner_id=new_owner.id, actor=ACTOR, clock=clock
        )
