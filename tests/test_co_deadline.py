"""A 协办 unit's input is due to the lead unit before the lead's deadline (issue 12 §3)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select

from models import Assignment, AssignmentRole, AuditEvent, Policy, Role, Source, Unit
from supervision.access import scope_for
from supervision.audit import Actor
from supervision.items import AssigneeSpec, ItemSpec, save_item
from supervision.policy import ensure_default_policies
from supervision.requests import decide_extension, request_extension
from supervision.timeline import item_timeline
from testing import SHANGHAI
from testing import factories as f

ACTOR = Actor.system("test")


async def _save(session, clock, due_on: date | None, received_on=date(2026, 11, 2)):
    lead = await session.scalar(select(Unit).where(Unit.code == "LEAD"))
    co = await session.scalar(select(Unit).where(Unit.code == "CO"))
    if lead is None:
        await ensure_default_policies(session)
        lead = await f.unit(session, code="LEAD")
        co = await f.unit(session, code="CO")
    result = await save_item(
        session,
        ItemSpec(
            ref="协-1",
            title="协办事项",
            source=Source.MEETING,
            received_on=received_on,
            due_on=due_on,
            lead=AssigneeSpec(lead.id),
            co=(AssigneeSpec(co.id),),
        ),
        actor=ACTOR,
        clock=clock,
    )
    rows = await session.scalars(
        select(Assignment).where(Assignment.item_id == result.item.id).order_by(Assignment.id)
    )
    by_role = {AssignmentRole(a.role): a for a in rows}
    return by_role[AssignmentRole.LEAD], by_role[AssignmentRole.CO]


async def test_a_co_units_input_is_due_five_working_days_before_the_leads_deadline(session, clock):
    lead, co = await _save(session, clock, date(2026, 12, 30))
    assert lead.due_on == date(2026, 12, 30)
    assert co.due_on == date(2026, 12, 23)  # Wed 30 → Tue 29, Mon 28, Fri 25, Thu 24, Wed 23


async def test_the_co_ladder_runs_against_the_co_deadline(session, clock):
    await ensure_default_policies(session)
    policy = await session.scalar(
        select(Policy).where(Policy.source == "meeting", Policy.urgent.is_(False))
    )
    assert policy is not None
    for step in policy.steps:  # the first step due is then the 提醒, 5 working days before
        step.active = step.kind not in {"periodic", "assign"}  # no 交办通知 first
    await session.flush()
    lead, co = await _save(session, clock, date(2026, 12, 30))
    assert lead.next_action_at is not None and co.next_action_at is not None
    assert lead.next_action_at.date() == date(2026, 12, 23)  # 30 Dec − 5 working days
    assert co.next_action_at.date() == date(2026, 12, 16)  # 23 Dec − 5 working days


async def test_moving_the_items_deadline_moves_the_co_deadline_along(session, clock):
    await _save(session, clock, date(2026, 12, 30))
    _, co = await _save(session, clock, date(2026, 12, 31))
    assert co.due_on == date(2026, 12, 24)


async def test_a_co_deadline_never_falls_before_the_item_was_received(session, clock):
    _, co = await _save(session, clock, date(2026, 11, 4))
    assert co.due_on == date(2026, 11, 2)


async def test_the_co_lead_days_come_from_the_items_policy(session, clock):
    await ensure_default_policies(session)
    policy = await session.scalar(
        select(Policy).where(Policy.source == "meeting", Policy.urgent.is_(False))
    )
    assert policy is not None and policy.co_lead_days == 5
    policy.co_lead_days = 0
    await session.flush()
    lead, co = await _save(session, clock, date(2026, 12, 30))
    assert co.due_on == lead.due_on


async def test_each_source_has_its_own_default_deadline(session, clock):
    """Seed 四(二)'s 30 working days are for instructions; letters and proposals differ."""
    await ensure_default_policies(session)
    rows = await session.execute(select(Policy.source, Policy.urgent, Policy.due_working_days))
    days = {(source, urgent): n for source, urgent, n in rows}
    assert days[("instruction", False)] == days[("instruction", True)] == 30
    assert days[("mailbox", False)] == days[("mailbox", True)] == 15
    assert days[("proposal", False)] == 60


async def test_an_item_without_a_deadline_gets_its_sources_default(session, clock):
    await ensure_default_policies(session)
    unit = await f.unit(session)
    saved = await save_item(
        session,
        ItemSpec(
            ref="信-1",
            title="来信办理",
            source=Source.MAILBOX,
            received_on=date(2026, 11, 2),
            lead=AssigneeSpec(unit.id),
        ),
        actor=ACTOR,
        clock=clock,
    )
    assert saved.item.due_on == date(2026, 11, 23)  # 15 working days after Mon 2 November


async def test_an_extension_of_the_lead_moves_the_co_deadlines(session, clock):
    lead, co = await _save(session, clock, date(2026, 12, 30))
    assert co.due_on == date(2026, 12, 23)
    owner = await f.person(session, unit=await session.get(Unit, lead.unit_id))
    lead.owner_id = owner.id
    supervisor = await f.person(session, roles={Role.SUPERVISOR})
    clock.set(datetime(2026, 12, 1, 10, 0, tzinfo=SHANGHAI))
    extension = await request_extension(
        session,
        assignment=lead,
        person=owner,
        reason="需等待省厅批复",
        progress="方案已上报",
        new_due_on=date(2027, 1, 29),
        clock=clock,
        tz=SHANGHAI,
    )
    await decide_extension(
        session, extension=extension, reviewer=supervisor, approve=True, comment=None, clock=clock
    )
    # Fri 29 Jan − 5 working days → Fri 22 Jan, as a new item due 29 Jan would get.
    assert (lead.due_on, co.due_on) == (date(2027, 1, 29), date(2027, 1, 22))
    moved = await session.scalar(
        select(AuditEvent).where(AuditEvent.action == "due_moved", AuditEvent.entity_id == co.id)
    )
    assert moved is not None and moved.detail["from"] == "2026-12-23"
    assert moved.detail["to"] == "2027-01-22" and moved.detail["extension_id"] == extension.id
    scope = await scope_for(session, supervisor)
    entries = await item_timeline(session, scope=scope, item_id=lead.item_id)
    shown = [e for e in entries if e.subject == "assignment:due_moved"]
    assert {e.assignment_id for e in shown} == {lead.id, co.id}


async def test_a_rejected_extension_leaves_the_co_deadline(session, clock):
    lead, co = await _save(session, clock, date(2026, 12, 30))
    owner = await f.person(session, unit=await session.get(Unit, lead.unit_id))
    supervisor = await f.person(session, roles={Role.SUPERVISOR})
    lead.owner_id = owner.id
    clock.set(datetime(2026, 12, 1, 10, 0, tzinfo=SHANGHAI))
    extension = await request_extension(
        session, assignment=lead, person=owner, reason="原因", progress="进展",
        new_due_on=date(2027, 1, 29), clock=clock, tz=SHANGHAI,
    )  # fmt: skip
    await decide_extension(
        session, extension=extension, reviewer=supervisor, approve=False, comment="不同意",
        clock=clock,
    )  # fmt: skip
    assert (lead.due_on, co.due_on) == (date(2026, 12, 30), date(2026, 12, 23))
