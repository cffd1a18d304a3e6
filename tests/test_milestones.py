"""Milestones (阶段性节点): added, edited, completed and listed by the office, audited."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from models import (
    AuditEvent,
    Item,
    ItemState,
    Milestone,
    MilestoneState,
    Report,
    Role,
    Source,
)
from supervision.access import NotPermitted, scope_for
from supervision.audit import Actor
from supervision.calendar import WorkCalendar
from supervision.clock import FixedClock
from supervision.errors import InvalidTransition, NotFound, ValidationFailed
from supervision.items import item_light, list_items
from supervision.lifecycle import cancel_item
from supervision.light import Light
from supervision.milestones import (
    MilestoneSpec,
    add_milestone,
    complete_milestone,
    edit_milestone,
    list_milestones,
)
from supervision.reports import file_report
from supervision.timeline import item_timeline
from testing import factories as f

CAL = WorkCalendar()
SHANGHAI = ZoneInfo("Asia/Shanghai")


async def _annual_task(session: AsyncSession):  # type: ignore[no-untyped-def]
    unit = await f.unit(session, name="发展改革委")
    owner = await f.person(session, unit=unit, roles={Role.OWNER})
    leader = await f.person(session, roles={Role.LEADER})
    office = await f.person(session, roles={Role.SUPERVISOR})
    item = await f.item(
        session,
        source=Source.ANNUAL_TASK,
        received_on=date(2026, 11, 2),
        due_on=date(2026, 12, 31),
    )
    assignment = await f.assignment(session, item=item, unit=unit, owner=owner)
    return item, assignment, unit, owner, leader, office


async def _events(session: AsyncSession, milestone_id: int) -> list[AuditEvent]:
    rows = await session.scalars(
        select(AuditEvent)
        .where(AuditEvent.entity == "milestone", AuditEvent.entity_id == milestone_id)
        .order_by(AuditEvent.id)
    )
    return list(rows)


async def test_a_supervisor_adds_a_milestone_and_it_is_audited(
    session: AsyncSession, clock: FixedClock
) -> None:
    item, _, unit, owner, leader, office = await _annual_task(session)
    scope = await scope_for(session, office)
    m = await add_milestone(
        session,
        scope=scope,
        actor=Actor.of(office),
        item_id=item.id,
        spec=MilestoneSpec("  完成  方案编制 ", date(2026, 11, 30), unit.id, owner.id, leader.id),
        clock=clock,
    )
    await session.commit()
    assert (m.name, m.state, m.owner_id, m.leader_id) == (
        "完成 方案编制",
        MilestoneState.OPEN,
        owner.id,
        leader.id,
    )
    [event] = await _events(session, m.id)
    assert (event.action, event.actor_id, event.to_state) == ("create", office.id, "open")
    assert event.detail["due_on"] == "2026-11-30"


async def test_a_bad_milestone_is_refused_naming_every_problem_and_nothing_is_added(
    session: AsyncSession, clock: FixedClock
) -> None:
    item, _, unit, _, _, office = await _annual_task(session)
    stranger = await f.person(session, unit=await f.unit(session), roles={Role.OWNER})
    scope = await scope_for(session, office)
    with pytest.raises(ValidationFailed) as caught:
        await add_milestone(
            session,
            scope=scope,
            actor=Actor.of(office),
            item_id=item.id,
            spec=MilestoneSpec(" ", date(2027, 1, 5), unit.id, stranger.id, 999_999),
            clock=clock,
        )
    assert len(caught.value.errors) == 4
    assert "节点名称不能为空" in caught.value.errors[0]
    assert "晚于事项完成时限 2026-12-31" in caught.value.errors[1]
    assert "不属于责任单位" in caught.value.errors[2]
    assert "责任领导不存在" in caught.value.errors[3]
    assert await session.scalar(select(func.count()).select_from(Milestone)) == 0
    with pytest.raises(ValidationFailed, match="早于事项收文日期"):
        await add_milestone(
            session,
            scope=scope,
            actor=Actor.of(office),
            item_id=item.id,
            spec=MilestoneSpec("调研", date(2026, 10, 30), unit.id),
            clock=clock,
        )


async def test_only_the_office_manages_milestones_of_items_that_exist(
    session: AsyncSession, clock: FixedClock
) -> None:
    item, _, unit, owner, _, office = await _annual_task(session)
    spec = MilestoneSpec("调研", date(2026, 11, 20), unit.id)
    with pytest.raises(NotPermitted):
        await add_milestone(
            session,
            scope=await scope_for(session, owner),
            actor=Actor.of(owner),
            item_id=item.id,
            spec=spec,
            clock=clock,
        )
    with pytest.raises(NotFound):
        await add_milestone(
            session,
            scope=await scope_for(session, office),
            actor=Actor.of(office),
            item_id=item.id + 1000,
            spec=spec,
            clock=clock,
        )


async def test_a_closed_item_takes_no_new_milestones(
    session: AsyncSession, clock: FixedClock
) -> None:
    item, _, unit, _, _, office = await _annual_task(session)
    item.state = ItemState.CLOSED.value
    await session.flush()
    with pytest.raises(InvalidTransition):
        await add_milestone(
            session,
            scope=await scope_for(session, office),
            actor=Actor.of(office),
            item_id=item.id,
            spec=MilestoneSpec("调研", date(2026, 11, 20), unit.id),
            clock=clock,
        )


async def test_editing_records_the_changes_and_completing_records_who_and_when(
    session: AsyncSession, clock: FixedClock
) -> None:
    item, _, unit, owner, _, office = await _annual_task(session)
    scope = await scope_for(session, office)
    actor = Actor.of(office)
    m = await add_milestone(
        session,
        scope=scope,
        actor=actor,
        item_id=item.id,
        spec=MilestoneSpec("调研", date(2026, 11, 20), unit.id),
        clock=clock,
    )
    unchanged = MilestoneSpec("调研", date(2026, 11, 20), unit.id)
    assert (
        await edit_milestone(
            session, scope=scope, actor=actor, milestone_id=m.id, spec=unchanged, clock=clock
        )
        == {}
    )
    moved = MilestoneSpec("调研", date(2026, 11, 27), unit.id, owner.id)
    changes = await edit_milestone(
        session, scope=scope, actor=actor, milestone_id=m.id, spec=moved, clock=clock
    )
    assert changes == {
        "due_on": [date(2026, 11, 20), date(2026, 11, 27)],
        "owner_id": [None, owner.id],
    }
    clock.advance(timedelta(days=3))
    await complete_milestone(session, scope=scope, actor=actor, milestone_id=m.id, clock=clock)
    await session.commit()
    assert m.state == MilestoneState.DONE
    assert m.completed_by_id == office.id
    assert m.completed_at == datetime(2026, 11, 5, 1, 0, tzinfo=UTC)
    events = await _events(session, m.id)
    assert [e.action for e in events] == ["create", "update", "complete"]
    assert events[1].detail == {
        "changes": {"due_on": ["2026-11-20", "2026-11-27"], "owner_id": [None, owner.id]}
    }
    assert (events[2].from_state, events[2].to_state) == ("open", "done")
    with pytest.raises(InvalidTransition):
        await complete_milestone(session, scope=scope, actor=actor, milestone_id=m.id, clock=clock)
    with pytest.raises(InvalidTransition):
        await edit_milestone(
            session, scope=scope, actor=actor, milestone_id=m.id, spec=unchanged, clock=clock
        )


async def test_an_items_milestones_are_listed_by_date_each_with_its_light(
    session: AsyncSession, clock: FixedClock
) -> None:
    item, _, unit, owner, _, office = await _annual_task(session)
    scope = await scope_for(session, office)
    actor = Actor.of(office)
    dates = [date(2026, 12, 20), date(2026, 11, 20), date(2026, 11, 24), date(2026, 11, 10)]
    ids = []
    for n, due in enumerate(dates):
        spec = MilestoneSpec(f"节点{n}", due, unit.id, owner.id)
        m = await add_milestone(
            session, scope=scope, actor=actor, item_id=item.id, spec=spec, clock=clock
        )
        ids.append(m.id)
    await complete_milestone(session, scope=scope, actor=actor, milestone_id=ids[3], clock=clock)
    rows = await list_milestones(
        session, scope=scope, item_id=item.id, today=date(2026, 11, 23), calendar=CAL
    )
    assert [(r.name, r.light) for r in rows] == [
        ("节点3", Light.GREY),  # done, though its date has passed
        ("节点1", Light.RED),  # overdue
        ("节点2", Light.YELLOW),  # due within 3 working days
        ("节点0", Light.GREEN),
    ]
    assert rows[1].owner_name == owner.name
    assert rows[1].unit_name == "发展改革委"


async def test_a_report_can_be_filed_against_a_milestone_of_its_item_only(
    session: AsyncSession, clock: FixedClock
) -> None:
    item, assignment, unit, owner, _, office = await _annual_task(session)
    other = await f.item(session)
    other_unit = await f.unit(session)
    scope = await scope_for(session, office)
    actor = Actor.of(office)
    spec = MilestoneSpec("调研", date(2026, 11, 20), unit.id)
    mine = await add_milestone(
        session, scope=scope, actor=actor, item_id=item.id, spec=spec, clock=clock
    )
    theirs = await add_milestone(
        session,
        scope=scope,
        actor=actor,
        item_id=other.id,
        spec=MilestoneSpec("调研", date(2026, 11, 20), other_unit.id),
        clock=clock,
    )
    report = await file_report(
        session,
        assignment=assignment,
        author=owner,
        text="调研已完成",
        clock=clock,
        milestone_id=mine.id,
    )
    assert report.milestone_id == mine.id
    with pytest.raises(ValidationFailed, match="不属于本事项"):
        await file_report(
            session,
            assignment=assignment,
            author=owner,
            text="调研已完成",
            clock=clock,
            milestone_id=theirs.id,
        )
    await session.commit()
    assert await session.scalar(select(func.count()).select_from(Report)) == 1


async def test_an_items_light_is_the_worst_of_its_open_milestones_and_its_assignments(
    session: AsyncSession, clock: FixedClock
) -> None:
    item, _, unit, _, _, office = await _annual_task(session)
    scope = await scope_for(session, office)
    actor = Actor.of(office)
    late = await add_milestone(
        session,
        scope=scope,
        actor=actor,
        item_id=item.id,
        spec=MilestoneSpec("方案", date(2026, 11, 4), unit.id),
        clock=clock,
    )
    await session.commit()
    today = date(2026, 11, 5)  # the assignment alone is green: due 12-31, received 11-02

    async def lights() -> tuple[Light, Light]:
        [row] = await list_items(session, today=today, calendar=CAL, tz=SHANGHAI)
        loaded = await session.scalar(
            select(Item)
            .where(Item.id == item.id)
            .options(selectinload(Item.assignments), selectinload(Item.milestones))
            .execution_options(populate_existing=True)
        )
        assert loaded is not None
        return row.light, item_light(loaded, today=today, calendar=CAL, tz=SHANGHAI)

    assert await lights() == (Light.RED, Light.RED)
    await complete_milestone(session, scope=scope, actor=actor, milestone_id=late.id, clock=clock)
    await session.commit()
    assert await lights() == (Light.GREEN, Light.GREEN)
    await add_milestone(
        session,
        scope=scope,
        actor=actor,
        item_id=item.id,
        spec=MilestoneSpec("验收", date(2026, 11, 6), unit.id),
        clock=clock,
    )
    await session.commit()
    assert await lights() == (Light.YELLOW, Light.YELLOW)
    # A cancelled item is grey, open stages or not.
    await cancel_item(session, item, actor=actor, clock=clock, reason="任务调整")
    await session.commit()
    assert await lights() == (Light.GREY, Light.GREY)


async def test_an_items_timeline_shows_its_milestones_changes(
    session: AsyncSession, clock: FixedClock
) -> None:
    item, _, unit, _, _, office = await _annual_task(session)
    scope = await scope_for(session, office)
    actor = Actor.of(office)
    m = await add_milestone(
        session,
        scope=scope,
        actor=actor,
        item_id=item.id,
        spec=MilestoneSpec("完成方案", date(2026, 11, 20), unit.id),
        clock=clock,
    )
    clock.advance(timedelta(hours=1))
    await complete_milestone(session, scope=scope, actor=actor, milestone_id=m.id, clock=clock)
    await session.commit()
    entries = await item_timeline(session, scope=scope, item_id=item.id)
    mine = [e for e in entries if e.subject.startswith("milestone:")]
    assert [(e.subject, e.detail, e.unit_name, e.state_to, e.who) for e in mine] == [
        ("milestone:create", "完成方案", "发展改革委", "open", office.name),
        ("milestone:complete", "完成方案", "发展改革委", "done", office.name),
    ]
