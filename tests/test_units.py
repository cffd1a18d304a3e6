"""Unit rules shared by the admin page and the API."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from models import AuditEvent, Unit
from supervision.audit import Actor
from supervision.errors import NotFound, ValidationFailed
from supervision.labels import told
from supervision.units import CodeTaken, UnitSpec, save_unit

ADMIN = Actor(None, "admin")


async def test_create_change_and_audit(session, clock):
    top = await save_unit(
        session, unit_id=None, spec=UnitSpec("JS", "省政府"), actor=ADMIN, clock=clock
    )
    child = await save_unit(
        session, unit_id=None, spec=UnitSpec(" NJ ", "南京市", top.id), actor=ADMIN, clock=clock
    )
    assert (child.code, child.parent_id, child.created_at) == ("NJ", top.id, clock.now())
    await save_unit(
        session,
        unit_id=child.id,
        spec=UnitSpec("NJ", "南京市人民政府", top.id),
        actor=ADMIN,
        clock=clock,
    )
    await save_unit(
        session,
        unit_id=child.id,
        spec=UnitSpec("NJ", "南京市人民政府", top.id),
        actor=ADMIN,
        clock=clock,
    )  # no change: no audit event
    events = (await session.scalars(select(AuditEvent).order_by(AuditEvent.id))).all()
    assert [e.action for e in events] == ["create", "create", "update"]
    assert events[2].detail == {"changes": {"name": ["南京市", "南京市人民政府"]}}


async def test_every_problem_at_once_and_nothing_written(session, clock):
    with pytest.raises(ValidationFailed) as err:
        await save_unit(
            session, unit_id=None, spec=UnitSpec("", " ", 999), actor=ADMIN, clock=clock
        )
    assert err.value.errors == ["code: required", "name: required", "parent_code: no unit #999"]
    assert (
        told(err.value, "zh")
        == "单位代码：必填；单位名称：必填；上级单位代码：没有编号为 999 的单位"
    )
    assert (await session.scalars(select(Unit))).all() == []


async def test_no_unit_below_itself_and_codes_unique(session, clock):
    a = await save_unit(session, unit_id=None, spec=UnitSpec("A", "甲"), actor=ADMIN, clock=clock)
    b = await save_unit(
        session, unit_id=None, spec=UnitSpec("B", "乙", a.id), actor=ADMIN, clock=clock
    )
    with pytest.raises(ValidationFailed, match="below itself"):
        await save_unit(
            session, unit_id=a.id, spec=UnitSpec("A", "甲", b.id), actor=ADMIN, clock=clock
        )
    with pytest.raises(CodeTaken):
        await save_unit(
            session, unit_id=b.id, spec=UnitSpec("A", "乙", a.id), actor=ADMIN, clock=clock
        )
    with pytest.raises(NotFound):
        await save_unit(session, unit_id=9999, spec=UnitSpec("Z", "z"), actor=ADMIN, clock=clock)
    assert (a.parent_id, b.code) == (None, "B")


async def test_a_cycle_already_stored_does_not_hang(session, clock):
    a = await save_unit(session, unit_id=None, spec=UnitSpec("A", "甲"), actor=ADMIN, clock=clock)
    b = await save_unit(
        session, unit_id=None, spec=UnitSpec("B", "乙", a.id), actor=ADMIN, clock=clock
    )
    a.parent_id = b.id  # bad data written behind the rules' back
    await session.flush()
    c = await save_unit(
        session, unit_id=None, spec=UnitSpec("C", "丙", a.id), actor=ADMIN, clock=clock
    )
    assert c.parent_id == a.id
