"""Audit events: one added with the change (record), or many written at once (record_all)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models import AuditEvent
from supervision.audit import Actor, Event, record, record_all
from supervision.clock import FixedClock
from testing.bot_world import build_world


async def test_record_all_writes_what_record_writes(
    session: AsyncSession, clock: FixedClock
) -> None:
    w = await build_world(session)
    event = Event(Actor.of(w.owner), "report", 7, "filed", None, None, {"number": 2})
    record(session, clock=clock, **{k: getattr(event, k) for k in Event.__slots__})
    await record_all(session, clock=clock, events=[event, Event(Actor.system(), "item", 1, "x")])
    await record_all(session, clock=clock, events=[])
    await session.commit()
    rows = [
        (e.at, e.actor_id, e.actor_label, e.entity, e.entity_id, e.action, e.detail)
        for e in await session.scalars(select(AuditEvent).order_by(AuditEvent.id))
    ]
    one = (clock.now(), w.owner.id, w.owner.name, "report", 7, "filed", {"number": 2})
    assert sorted(rows, key=str) == sorted(
        [one, one, (clock.now(), None, "system", "item", 1, "x", {})], key=str
    )
