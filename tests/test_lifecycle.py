"""Item and assignment lifecycle on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from models import AssignmentRole, AuditEvent, Item, ItemState
from supervision.audit import Actor
from supervision.errors import InvalidTransition
from supervision.lifecycle import (
    CLOSED_WITH_ITEM,
    cancel_item,
    derive_item_state,
    transition_assignment,
)
from testing import factories as f

S = ItemState


async def _setup(session):
    lead_unit = await f.unit(session)
    co_unit = await f.unit(session)
    second_lead = await f.unit(session)
    owner = await f.person(session, unit=lead_unit)
    item = await f.item(session)
    a1 = await f.assignment(session, item=item, unit=lead_unit, owner=owner)
    a2 = await f.assignment(session, item=item, unit=second_lead)
    co = await f.assignment(session, item=item, unit=co_unit, role=AssignmentRole.CO)
    await session.commit()
    return item, a1, a2, co


async def test_item_closes_when_all_lead_assignments_close(session, clock):
    item, a1, a2, _co = await _setup(session)
    actor = Actor.system("test")
    await transition_assignment(session, a1, S.COMPLETION_REQUESTED, actor=actor, clock=clock)
    await transition_assignment(session, a1, S.CLOSED, actor=actor, clock=clock)
    await session.commit()
    assert (await session.get(Item, item.id)).state == S.OPEN
    await transition_assignment(session, a2, S.CLOSED, actor=actor, clock=clock)
    await session.commit()
    refreshed = await session.get(Item, item.id)
    assert refreshed.state == S.CLOSED  # a co-operating unit does not hold the item open
    assert refreshed.closed_at == clock.now()
    assert a1.next_action_at is None


async def test_open_co_assignments_close_with_the_item(session, clock):
    _item, a1, a2, co = await _setup(session)
    actor = Actor.system("test")
    await transition_assignment(session, a1, S.CLOSED, actor=actor, clock=clock)
    await session.commit()
    assert co.state == S.OPEN  # the item is still open: the co unit's work goes on
    await transition_assignment(session, a2, S.CLOSED, actor=actor, clock=clock)
    await session.commit()
    assert (co.state, co.closed_at, co.next_action_at) == (S.CLOSED, clock.now(), None)
    event = await session.scalar(
        select(AuditEvent).where(AuditEvent.entity == "assignment", AuditEvent.entity_id == co.id)
    )
    assert event is not None and event.detail == {"reason": CLOSED_WITH_ITEM}


async def test_every_transition_is_audited(session, clock):
    _item, a1, a2, _ = await _setup(session)
    actor = Actor(None, "督查员")
    await transition_assignment(session, a1, S.CLOSED, actor=actor, clock=clock, reason="ok")
    await transition_assignment(session, a2, S.CLOSED, actor=actor, clock=clock)
    await session.commit()
    events = (await session.scalars(select(AuditEvent).order_by(AuditEvent.id))).all()
    triples = [(e.entity, e.from_state, e.to_state) for e in events]
    assert triples == [
        ("assignment", "open", "closed"),
        ("assignment", "open", "closed"),
        ("item", "open", "closed"),
        ("assignment", "open", "closed"),  # the co assignment, closed with the item
    ]
    assert events[0].actor_label == "督查员" and events[0].at == clock.now()
    assert events[0].detail == {"reason": "ok"}


async def test_invalid_transition_raises_and_changes_nothing(session, clock):
    item, a1, _, _ = await _setup(session)
    await cancel_item(session, item, actor=Actor.system(), clock=clock, reason="重复交办")
    await session.commit()
    before = (await session.scalars(select(AuditEvent))).all()
    with pytest.raises(InvalidTransition, match="cancelled"):
        await transition_assignment(session, a1, S.CLOSED, actor=Actor.system(), clock=clock)
    assert a1.state == S.CANCELLED
    after = (await session.scalars(select(AuditEvent))).all()
    assert len(after) == len(before)


async def test_cancel_needs_a_reason(session, clock):
    item, *_ = await _setup(session)
    with pytest.raises(InvalidTransition, match="reason"):
        await cancel_item(session, item, actor=Actor.system(), clock=clock, reason=" ")
    assert item.state == S.OPEN


@pytest.mark.parametrize(
    ("leads", "current", "expected"),
    [
        (["open", "closed"], "open", S.OPEN),
        (["completion_requested", "closed"], "open", S.COMPLETION_REQUESTED),
        (["closed", "closed", "cancelled"], "open", S.CLOSED),
        ([], "open", S.OPEN),
        (["closed"], "cancelled", S.CANCELLED),
    ],
)
def test_derive_item_state(leads, current, expected):
    assert derive_item_state(leads, current) == expected
