"""The 交办通知: a new or handed-over assignment tells its people in the next send window."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

from sqlalchemy import select, update
from sqlalchemy.orm import selectinload

from models import Assignment, Item, LadderStep, Notification, Policy, Role, Source
from notifier.context import ContextConfig, build_context
from notifier.scan import scan_once
from notifier.templating import Renderer
from supervision.audit import Actor
from supervision.calendar import WorkCalendar
from supervision.clock import FixedClock
from supervision.items import AssigneeSpec, ItemSpec, save_item
from supervision.policy import ensure_default_policies
from supervision.schedule import AssignmentFacts, Ladder, plan_tick
from testing import SHANGHAI
from testing import factories as f
from web.views.items import timeline

ACTOR = Actor.system("test")


def _sh(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


async def _org(session):
    """Default policies; a lead unit and a co unit, each with an owner and a principal."""
    await ensure_default_policies(session)
    lead = await f.unit(session, name="市住建局")
    co = await f.unit(session, name="市财政局")
    people = {
        "lead_owner": await f.person(session, unit=lead, roles={Role.OWNER}, telegram_user_id=11),
        "lead_principal": await f.person(
            session, unit=lead, roles={Role.PRINCIPAL}, telegram_user_id=12
        ),
        "co_owner": await f.person(session, unit=co, roles={Role.OWNER}, telegram_user_id=21),
        "co_principal": await f.person(
            session, unit=co, roles={Role.PRINCIPAL}, telegram_user_id=22
        ),
    }
    await session.commit()
    return lead, co, people


def _spec(ref: str, lead, co, people, *, urgent: bool = False) -> ItemSpec:
    return ItemSpec(
        ref=ref,
        title="关于老旧小区改造的批示",
        source=Source.INSTRUCTION,
        received_on=date(2026, 11, 2),
        lead=AssigneeSpec(lead.id, people["lead_owner"].id),
        co=(AssigneeSpec(co.id, people["co_owner"].id),),
        urgent=urgent,
        objective="年底前开工42个小区",
        content="制定计划，落实资金",
    )


async def _notices(session) -> list[tuple[int | None, str, datetime]]:
    rows = await session.scalars(
        select(Notification).where(Notification.kind == "assign").order_by(Notification.id)
    )
    return [(r.recipient_id, r.channel, r.not_before) for r in rows]


async def test_a_new_assignment_notifies_its_owner_in_the_next_window(session, sessions):
    lead, co, people = await _org(session)
    evening = FixedClock(_sh(2026, 11, 2, 19, 30))  # after the 18:00 window closed
    saved = await save_item(
        session, _spec("督〔2026〕1号", lead, co, people), actor=ACTOR, clock=evening
    )
    await session.commit()

    result = await scan_once(sessions, clock=evening, tz=SHANGHAI)
    assert result.by_step == {"assign": 2}  # the lead and the co assignment
    owners = {people["lead_owner"].id, people["co_owner"].id}
    rows = await _notices(session)
    assert {(r, c) for r, c, _ in rows} == {(p, ch) for p in owners for ch in ("telegram", "email")}
    assert {nb for _, _, nb in rows} == {_sh(2026, 11, 3, 8, 30)}  # the next window opening
    row = (await session.scalars(select(Notification).where(Notification.kind == "assign"))).first()
    assert row is not None and row.payload["step"] == "assign" and row.payload["roles"] == ["owner"]

    again = await scan_once(sessions, clock=FixedClock(_sh(2026, 11, 3, 8, 30)), tz=SHANGHAI)
    assert "assign" not in again.by_step  # sent once: re-running never duplicates
    assert len(await _notices(session)) == 4

    entries = await timeline(session, await _item_with_assignments(session, saved.item.id))
    # one line per channel, naming both owners (the messages of one step are grouped)
    lines = sorted(e.text for e in entries if e.text.startswith("交办通知"))
    assert [line.rsplit("（", 1)[1] for line in lines] == ["Telegram）", "电子邮件）"]
    both = sorted(people[k].name for k in ("lead_owner", "co_owner"))
    for line in lines:
        said = line.removeprefix("交办通知待发送：").rsplit("（", 1)[0]
        assert sorted(said.split("、")) == both


async def _item_with_assignments(session, item_id: int):
    return await session.scalar(
        select(Item)
        .where(Item.id == item_id)
        .options(selectinload(Item.assignments).selectinload(Assignment.unit))
        .execution_options(populate_existing=True)
    )


async def test_an_urgent_item_notice_goes_to_the_principal_too(session, sessions, clock):
    lead, co, people = await _org(session)
    await save_item(
        session, _spec("督〔2026〕2号", lead, co, people, urgent=True), actor=ACTOR, clock=clock
    )
    await session.commit()

    await scan_once(sessions, clock=clock, tz=SHANGHAI)
    rows = (
        await session.scalars(
            select(Notification)
            .where(Notification.kind == "assign", Notification.channel == "telegram")
            .order_by(Notification.id)
        )
    ).all()
    by_person = {r.recipient_id: r.payload["roles"] for r in rows}
    assert by_person == {
        people["lead_owner"].id: ["owner"],
        people["lead_principal"].id: ["principal"],
        people["co_owner"].id: ["owner"],
        people["co_principal"].id: ["principal"],
    }
    assert all(r.not_before == clock.now() for r in rows)  # inside the window: now


async def test_a_normal_item_notice_does_not_go_to_the_principal(session, sessions, clock):
    lead, co, people = await _org(session)
    await save_item(session, _spec("督〔2026〕3号", lead, co, people), actor=ACTOR, clock=clock)
    await session.commit()
    await scan_once(sessions, clock=clock, tz=SHANGHAI)
    recipients = {r for r, _, _ in await _notices(session)}
    assert recipients == {people["lead_owner"].id, people["co_owner"].id}


async def test_a_handover_to_another_person_notifies_the_new_owner(session, sessions, clock):
    lead, co, people = await _org(session)
    spec = _spec("督〔2026〕4号", lead, co, people)
    await save_item(session, spec, actor=ACTOR, clock=clock)
    await session.commit()
    await scan_once(sessions, clock=clock, tz=SHANGHAI)
    newcomer = await f.person(session, unit=lead, roles={Role.OWNER}, telegram_user_id=13)
    await session.commit()

    later = FixedClock(_sh(2026, 11, 4, 10, 0))
    await save_item(
        session, replace(spec, lead=AssigneeSpec(lead.id, newcomer.id)), actor=ACTOR, clock=later
    )
    await session.commit()
    result = await scan_once(sessions, clock=later, tz=SHANGHAI)
    assert result.by_step.get("assign") == 1
    rows = await _notices(session)
    assert [(r, c) for r, c, _ in rows[-2:]] == [(newcomer.id, "telegram"), (newcomer.id, "email")]


async def test_a_switched_off_notice_step_sends_nothing(session, sessions, clock):
    lead, co, people = await _org(session)
    steps = await session.scalars(select(LadderStep).where(LadderStep.kind == "assign"))
    for step in steps:
        step.active = False
    await session.commit()
    await save_item(session, _spec("督〔2026〕5号", lead, co, people), actor=ACTOR, clock=clock)
    await session.commit()
    result = await scan_once(sessions, clock=clock, tz=SHANGHAI)
    assert "assign" not in result.by_step and await _notices(session) == []

    # Switched back on: the assignment made meanwhile gets no late notice.
    for step in await session.scalars(select(LadderStep).where(LadderStep.kind == "assign")):
        step.active = True
    await session.execute(update(Assignment).values(next_action_at=clock.now()))
    await session.commit()
    later = FixedClock(_sh(2026, 11, 2, 10, 0))
    result = await scan_once(sessions, clock=later, tz=SHANGHAI)
    assert "assign" not in result.by_step and await _notices(session) == []


async def test_the_notice_does_not_hold_back_a_deadline_step_due_at_once(session, clock):
    await ensure_default_policies(session)
    policy = await session.scalar(
        select(Policy).where(Policy.source == "instruction", Policy.urgent.is_(False))
    )
    facts = AssignmentFacts(
        state="open",
        due_on=date(2026, 11, 4),  # remind (-5) is due, urge (-1) tomorrow
        started_at=clock.now(),
        assigned_at=clock.now(),
    )
    tick = plan_tick(Ladder.of(policy), facts, WorkCalendar(), SHANGHAI, clock.now())
    assert [p.kind for p in tick.fired] == ["assign", "remind"]  # both: the notice is apart
    assert not tick.facts.notice_pending


async def test_the_notice_names_the_item_and_everyone_on_it(session, sessions, clock):
    lead, co, people = await _org(session)
    await save_item(
        session, _spec("督〔2026〕6号", lead, co, people, urgent=True), actor=ACTOR, clock=clock
    )
    await session.commit()
    await scan_once(sessions, clock=clock, tz=SHANGHAI)
    rows = (
        await session.scalars(
            select(Notification)
            .where(Notification.kind == "assign", Notification.channel == "telegram")
            .order_by(Notification.id)
        )
    ).all()
    texts = {}
    for row in rows:
        built = await build_context(
            session, row, config=ContextConfig(), clock=clock, calendar=WorkCalendar()
        )
        texts[row.recipient_id] = (
            await Renderer().render("assign", "telegram", "zh", built.context)
        ).text
        assert built.buttons == (
            row.recipient_id in (people["lead_owner"].id, people["co_owner"].id)
        )
    lead_text = texts[people["lead_owner"].id]
    for part in (
        "【急件】【交办通知】",
        "督〔2026〕6号",
        "领导批示",
        "年底前开工42个小区",
        "制定计划，落实资金",
    ):
        assert part in lead_text
    assert "市住建局（主办）" in lead_text and "市财政局（协办）" in lead_text
    assert "牵头承办" in lead_text
    assert "配合主办单位" in texts[people["co_owner"].id]
    assert "阅批" in texts[people["lead_principal"].id]


async def test_a_handover_to_another_unit_notifies_that_units_owner(session, sessions, clock):
    lead, co, people = await _org(session)
    spec = _spec("督〔2026〕7号", lead, co, people)
    await save_item(session, spec, actor=ACTOR, clock=clock)
    await session.commit()
    await scan_once(sessions, clock=clock, tz=SHANGHAI)
    other = await f.unit(session, name="市商务局")
    other_owner = await f.person(session, unit=other, roles={Role.OWNER}, telegram_user_id=31)
    await session.commit()

    later = FixedClock(_sh(2026, 11, 4, 10, 0))
    await save_item(
        session,
        replace(spec, lead=AssigneeSpec(other.id, other_owner.id)),
        actor=ACTOR,
        clock=later,
    )
    await session.commit()
    result = await scan_once(sessions, clock=later, tz=SHANGHAI)
    assert result.by_step.get("assign") == 1
    rows = await _notices(session)
    assert [(r, c) for r, c, _ in rows[-2:]] == [
        (other_owner.id, "telegram"),
        (other_owner.id, "email"),
    ]
