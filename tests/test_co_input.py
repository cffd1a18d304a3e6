"""A co unit's (协办) input is forwarded to the lead unit's 责任人 (issue 12 §3)."""

from __future__ import annotations

from sqlalchemy import select

from models import AssignmentRole, Notification, Role
from notifier.context import ContextConfig, build_context
from notifier.templating import Renderer
from supervision.calendar import WorkCalendar
from supervision.reports import file_report
from testing import factories as f


async def _world(session, *, lead_owner: bool = True):
    lead_unit = await f.unit(session, name="主办局")
    co_unit = await f.unit(session, name="协办局")
    owner = await f.person(session, name="主办责任人", unit=lead_unit, telegram_user_id=501)
    liaison = await f.person(session, name="主办联络员", unit=lead_unit, roles={Role.LIAISON})
    co_owner = await f.person(session, name="协办责任人", unit=co_unit, telegram_user_id=502)
    item = await f.item(session, ref="督〔2026〕70号")
    lead = await f.assignment(
        session, item=item, unit=lead_unit, owner=owner if lead_owner else None
    )
    co = await f.assignment(
        session, item=item, unit=co_unit, owner=co_owner, role=AssignmentRole.CO
    )
    return owner, liaison, co_owner, lead, co


async def _forwarded(session):
    rows = await session.scalars(
        select(Notification).where(Notification.kind == "co_input").order_by(Notification.id)
    )
    return list(rows.all())


async def test_a_co_units_report_is_forwarded_to_the_lead_units_owner(session, clock):
    owner, _, co_owner, _, co = await _world(session)
    report = await file_report(
        session, assignment=co, author=co_owner, text="已完成用地审查，意见已反馈。", clock=clock
    )
    rows = await _forwarded(session)
    assert sorted((r.recipient_id, r.channel) for r in rows) == [
        (owner.id, "email"),
        (owner.id, "telegram"),
    ]
    assert all(r.assignment_id == co.id and r.payload["report_id"] == report.id for r in rows)
    await session.commit()
    telegram = next(r for r in rows if r.channel == "telegram")
    built = await build_context(
        session, telegram, config=ContextConfig(), clock=clock, calendar=WorkCalendar()
    )
    message = await Renderer().render(built.template_step, "telegram", "zh", built.context)
    assert "协办单位反馈" in message.text and "已完成用地审查" in message.text
    assert "主办责任人同志" in message.text


async def test_a_lead_units_own_report_is_not_forwarded(session, clock):
    owner, _, _, lead, _ = await _world(session)
    await file_report(session, assignment=lead, author=owner, text="进展", clock=clock)
    assert await _forwarded(session) == []


async def test_co_input_goes_to_the_lead_units_liaisons_when_the_lead_has_no_owner(session, clock):
    _, liaison, co_owner, _, co = await _world(session, lead_owner=False)
    await file_report(session, assignment=co, author=co_owner, text="反馈", clock=clock)
    assert {r.recipient_id for r in await _forwarded(session)} == {liaison.id}
