"""A small office for the report, request and bot tests: one unit with its people and items."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from models import Assignment, Item, Person, Role, Source, Unit
from supervision.policy import ensure_default_policies
from testing import factories as f

OWNER_TG, LIAISON_TG, PRINCIPAL_TG, SUPERVISOR_TG, OUTSIDER_TG = 1001, 1002, 1003, 1004, 1005


@dataclass
class World:
    """The people and items every scenario starts from."""

    unit: Unit
    other_unit: Unit
    owner: Person
    liaison: Person
    principal: Person
    supervisor: Person
    outsider: Person  # an owner in another unit
    instruction: Item  # 领导批示: completion needs the principal's sign-off
    document: Item
    a_instruction: Assignment
    a_document: Assignment
    a_outside: Assignment


async def build_world(session: AsyncSession) -> World:
    """Create the office and commit it."""
    await ensure_default_policies(session)
    unit = await f.unit(session, name="市发改委")
    other = await f.unit(session, name="市教育局")
    owner = await f.person(session, name="张三", unit=unit, telegram_user_id=OWNER_TG)
    liaison = await f.person(
        session, name="李四", unit=unit, roles={Role.LIAISON}, telegram_user_id=LIAISON_TG
    )
    principal = await f.person(
        session, name="王主任", unit=unit, roles={Role.PRINCIPAL}, telegram_user_id=PRINCIPAL_TG
    )
    supervisor = await f.person(
        session, name="陈静", roles={Role.SUPERVISOR}, telegram_user_id=SUPERVISOR_TG
    )
    outsider = await f.person(session, name="赵六", unit=other, telegram_user_id=OUTSIDER_TG)
    instruction = await f.item(
        session, title="落实省长批示整改", source=Source.INSTRUCTION, due_on=date(2026, 12, 14)
    )
    document = await f.item(
        session, title="年度项目推进", source=Source.DOCUMENT, due_on=date(2026, 12, 21)
    )
    a_instruction = await f.assignment(session, item=instruction, unit=unit, owner=owner)
    a_document = await f.assignment(session, item=document, unit=unit, owner=owner)
    a_outside = await f.assignment(session, item=document, unit=other, owner=outsider)
    await session.commit()
    return World(
        unit,
        other,
        owner,
        liaison,
        principal,
        supervisor,
        outsider,
        instruction,
        document,
        a_instruction,
        a_document,
        a_outside,
    )
