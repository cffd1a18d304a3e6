"""The items use-case: create/update with assignments, deadlines, audit; and the items list."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import delete, func, insert, literal, select, update
from sqlalchemy.orm import selectinload

from models import (
    Assignment,
    AssignmentRole,
    AuditEvent,
    CalendarDay,
    Item,
    ItemState,
    Policy,
    Source,
)
from supervision.audit import Actor
from supervision.calendar import WorkCalendar
from supervision.calendar_store import load_calendar
from supervision.errors import InvalidTransition, NotFound, ValidationFailed
from supervision.items import (
    AssigneeSpec,
    ItemSpec,
    SaveOutcome,
    due_in_force,
    due_in_force_column,
    list_items,
    save_item,
)
from supervision.labels import told
from supervision.lifecycle import transition_assignment
from supervision.light import Light
from supervision.policy import due_working_days, ensure_default_policies
from testing import SHANGHAI
from testing import factories as f

ACTOR = Actor.system("test")


async def _org(session):
    await ensure_default_policies(session)
    root = await f.unit(session, code="ROOT")
    a = await f.unit(session, code="A", parent=root)
    a1 = await f.unit(session, code="A1", parent=a)
    b = await f.unit(session, code="B", parent=root)
    owner = await f.person(session, email="owner@x.cn", unit=a)
    leader = await f.person(session, email="leader@x.cn", unit=a)
    co_owner = await f.person(session, email="co@x.cn", unit=b)
    return root, a, a1, b, owner, leader, co_owner


def _spec(a, owner, leader, *co, **kw) -> ItemSpec:
    values = {
        "ref": "督〔2026〕1号",
        "title": "领导批示件办理",
        "source": Source.INSTRUCTION,
        "received_on": date(2026, 11, 2),
        "lead": AssigneeSpec(a.id, owner.id, leader.id),
        "co": tuple(AssigneeSpec(u.id) for u in co),
    }
    values.update(kw)
    return ItemSpec(**values)


async def _assignments(session, item_id):
    rows = await session.scalars(
        select(Assignment).where(Assignment.item_id == item_id).order_by(Assignment.id)
    )
    return list(rows.all())


async def _audits(session, entity: str, action: str) -> int:
    return await session.scalar(
        select(func.count())
        .select_from(AuditEvent)
        .where(AuditEvent.entity == entity, AuditEvent.action == action)
    )


@pytest.mark.parametrize(
    ("received_on", "due", "provisional"),
    [
        (date(2026, 9, 25), date(2026, 11, 12), False),  # over 国庆 and 中秋
        (date(2026, 11, 2), date(2026, 12, 14), False),
        (date(2026, 12, 15), date(2027, 1, 27), True),  # 2027: the fallback knows 元旦
    ],
)
async def test_default_deadline_examples(session, clock, received_on, due, provisional):
    _, a, _, b, owner, leader, _ = await _org(session)
    saved = await save_item(
        session, _spec(a, owner, leader, b, received_on=received_on), actor=ACTOR, clock=clock
    )
    assert saved.outcome is SaveOutcome.CREATED
    item = saved.item
    assert (item.due_on, item.due_is_provisional, item.due_is_default) == (due, provisional, True)
    lead, co = await _assignments(session, item.id)
    assert (lead.role, lead.unit_id, lead.owner_id, lead.leader_id, lead.due_on) == (
        AssignmentRole.LEAD.value,
        a.id,
        owner.id,
        leader.id,
        due,
    )
    co_due = (await load_calendar(session)).add_workdays(due, -5).day  # 协办: 5 days earlier
    assert (co.role, co.unit_id, co.owner_id, co.leader_id, co.due_on) == (
        "co",
        b.id,
        None,
        None,
        co_due,
    )
    assert lead.next_action_at is not None and lead.next_action_at >= clock.now()
    assert await _audits(session, "item", "create") == 1
    assert await _audits(session, "assignment", "create") == 2


async def test_default_deadline_days_come_from_the_source_policy(session, clock):
    _, a, _, _, owner, leader, _ = await _org(session)
    document = Policy.source == Source.DOCUMENT.value
    normal = await session.scalar(select(Policy).where(document, Policy.urgent.is_(False)))
    normal.due_working_days = 10
    urgent = await session.scalar(select(Policy).where(document, Policy.urgent.is_(True)))

    async def due(ref: str, source: Source, is_urgent: bool) -> date:
        spec = _spec(a, owner, leader, ref=ref, source=source, urgent=is_urgent)
        return (await save_item(session, spec, actor=ACTOR, clock=clock)).item.due_on

    assert await due("D-1", Source.DOCUMENT, False) == date(2026, 11, 16)  # 10 after 11-02
    assert await due("I-1", Source.INSTRUCTION, False) == date(2026, 12, 14)  # still 30
    assert await due("D-2", Source.DOCUMENT, True) == date(2026, 12, 14)  # its urgent policy
    await session.delete(urgent)
    await session.flush()
    assert await due("D-3", Source.DOCUMENT, True) == date(2026, 11, 16)  # falls back to normal
    assert await due_working_days(session, Source.DOCUMENT.value, True) == 10
    assert await due_working_days(session, Source.INSTRUCTION.value) == 30


async def test_given_deadline_is_kept(session, clock):
    _, a, _, _, owner, leader, _ = await _org(session)
    saved = await save_item(
        session, _spec(a, owner, leader, due_on=date(2026, 11, 20)), actor=ACTOR, clock=clock
    )
    assert (saved.item.due_on, saved.item.due_is_default) == (date(2026, 11, 20), False)


async def test_update_moves_assignments_but_not_an_extended_one(session, clock):
    _, a, _, b, owner, leader, co_owner = await _org(session)
    c = await f.unit(session, code="C")
    first = await save_item(
        session,
        ItemSpec(
            ref="R1",
            title="t",
            source=Source.MEETING,
            received_on=date(2026, 11, 2),
            lead=AssigneeSpec(a.id, owner.id, leader.id),
            co=(AssigneeSpec(b.id, co_owner.id), AssigneeSpec(c.id)),
        ),
        actor=ACTOR,
        clock=clock,
    )
    lead, co_b, co_c = await _assignments(session, first.item.id)
    co_c.due_on = date(2026, 12, 31)  # an approved extension
    again = await save_item(
        session,
        ItemSpec(
            ref="R1",
            title="t",
            source=Source.MEETING,
            received_on=date(2026, 11, 2),
            lead=AssigneeSpec(a.id, owner.id, leader.id),
            co=(AssigneeSpec(b.id, co_owner.id), AssigneeSpec(c.id)),
        ),
        actor=ACTOR,
        clock=clock,
    )
    assert again.outcome is SaveOutcome.UNCHANGED
    assert await _audits(session, "item", "update") == 0
    updated = await save_item(
        session,
        ItemSpec(
            ref="R1",
            title="新标题",
            source=Source.MEETING,
            received_on=date(2026, 11, 2),
            due_on=date(2026, 12, 1),
            lead=AssigneeSpec(a.id, owner.id, leader.id),
            co=(AssigneeSpec(b.id), AssigneeSpec(c.id)),  # None keeps the co owner
        ),
        actor=ACTOR,
        clock=clock,
    )
    assert updated.outcome is SaveOutcome.UPDATED
    assert updated.changes["title"] == ["t", "新标题"]
    assert updated.changes["due_on"] == ["2026-12-14", "2026-12-01"]
    assert updated.changes["due_is_default"] == [True, False]
    assert (lead.due_on, co_b.due_on, co_c.due_on) == (
        date(2026, 12, 1),
        date(2026, 11, 24),  # a co unit's input: 5 working days before the lead's deadline
        date(2026, 12, 31),
    )
    assert co_b.owner_id == co_owner.id
    event = await session.scalar(
        select(AuditEvent).where(AuditEvent.entity == "item", AuditEvent.action == "update")
    )
    assert event is not None and event.detail["changes"]["title"] == ["t", "新标题"]


async def test_removing_and_changing_units(session, clock):
    _, a, _, b, owner, leader, co_owner = await _org(session)
    saved = await save_item(session, _spec(a, owner, leader, b), actor=ACTOR, clock=clock)
    # The lead moves to B (the co unit becomes lead); A's assignment is cancelled.
    moved = await save_item(
        session,
        _spec(a, owner, leader, lead=AssigneeSpec(b.id, co_owner.id)),
        actor=ACTOR,
        clock=clock,
    )
    assert moved.outcome is SaveOutcome.UPDATED
    old_lead, new_lead = await _assignments(session, saved.item.id)
    assert old_lead.state == ItemState.CANCELLED.value and old_lead.next_action_at is None
    assert (new_lead.role, new_lead.owner_id) == ("lead", co_owner.id)
    assert saved.item.state == ItemState.OPEN.value
    # A cancelled assignment cannot be given back.
    with pytest.raises(InvalidTransition, match="cancelled"):
        await save_item(session, _spec(a, owner, leader, b), actor=ACTOR, clock=clock)


async def test_closed_item_cannot_change_but_can_be_reimported(session, clock):
    _, a, _, _, owner, leader, _ = await _org(session)
    saved = await save_item(session, _spec(a, owner, leader), actor=ACTOR, clock=clock)
    (lead,) = await _assignments(session, saved.item.id)
    await transition_assignment(session, lead, ItemState.CLOSED, actor=ACTOR, clock=clock)
    assert saved.item.state == ItemState.CLOSED.value
    same = await save_item(session, _spec(a, owner, leader), actor=ACTOR, clock=clock)
    assert same.outcome is SaveOutcome.UNCHANGED
    with pytest.raises(InvalidTransition, match="reopen"):
        await save_item(session, _spec(a, owner, leader, title="x"), actor=ACTOR, clock=clock)


async def test_bad_specs_change_nothing(session, clock):
    _, a, _, _, owner, leader, _ = await _org(session)
    with pytest.raises(ValidationFailed, match="before the date the item was received"):
        await save_item(
            session, _spec(a, owner, leader, due_on=date(2026, 11, 1)), actor=ACTOR, clock=clock
        )
    with pytest.raises(NotFound, match="unit #999999"):
        await save_item(
            session,
            _spec(a, owner, leader, lead=AssigneeSpec(999999, owner.id)),
            actor=ACTOR,
            clock=clock,
        )
    with pytest.raises(ValidationFailed, match="title is required"):
        await save_item(session, _spec(a, owner, leader, title=" "), actor=ACTOR, clock=clock)
    with pytest.raises(ValidationFailed, match="lead unit cannot also be a co unit"):
        await save_item(session, _spec(a, owner, leader, a), actor=ACTOR, clock=clock)
    assert await session.scalar(select(func.count()).select_from(Item)) == 0


async def test_list_items_lights_and_filters(session, clock):
    _, a, a1, b, owner, leader, co_owner = await _org(session)
    today = date(2026, 11, 2)
    specs = [
        ("RED", a, date(2026, 9, 1), date(2026, 10, 30)),  # overdue
        ("YELLOW", a1, date(2026, 10, 30), date(2026, 11, 4)),  # due in 2 working days
        ("GREEN", b, date(2026, 10, 30), None),  # default: 30 working days
    ]
    # each lead unit's owner is one of its own people (A1's is not A's, its parent's)
    a1_owner = await f.person(session, email="a1@x.cn", unit=a1)
    owners = {a.id: owner, a1.id: a1_owner, b.id: co_owner}
    for ref, unit, received, due in specs:
        who = owners[unit.id]
        await save_item(
            session,
            _spec(
                a,
                owner,
                leader,
                ref=ref,
                received_on=received,
                due_on=due,
                lead=AssigneeSpec(unit.id, who.id),
            ),
            actor=ACTOR,
            clock=clock,
        )
    calendar = await load_calendar(session)
    rows = await list_items(session, today=today, calendar=calendar, tz=SHANGHAI)
    assert [(r.ref, r.light) for r in rows] == [
        ("RED", Light.RED),
        ("YELLOW", Light.YELLOW),
        ("GREEN", Light.GREEN),
    ]
    green = rows[2].as_json()
    assert green == {
        "ref": "GREEN",
        "title": "领导批示件办理",
        "source": "instruction",
        "received_on": "2026-10-30",
        "due_on": "2026-12-11",
        "due_is_provisional": False,
        "light": "green",
        "state": "open",
        "lead_unit": "B",
        "owner_email": "co@x.cn",
    }
    overdue = await list_items(session, today=today, calendar=calendar, overdue_only=True)
    assert [r.ref for r in overdue] == ["RED"]
    under_a = await list_items(session, today=today, calendar=calendar, unit_code="A")
    assert [r.ref for r in under_a] == ["RED", "YELLOW"]  # A and the unit below it
    assert [
        r.ref for r in await list_items(session, today=today, calendar=calendar, unit_code="B")
    ] == ["GREEN"]
    with pytest.raises(NotFound, match="NOPE"):
        await list_items(session, today=today, calendar=calendar, unit_code="NOPE")


async def test_a_lead_owner_from_another_unit_is_refused(session, clock):
    """The lead unit's owner (责任人) is one of its members, as a co unit's is: a person of
    the parent unit (or any other) is refused with the reason, and nothing is saved."""
    _, a, a1, _b, owner, leader, co_owner = await _org(session)
    for lead in (AssigneeSpec(a1.id, owner.id), AssigneeSpec(a.id, co_owner.id)):
        with pytest.raises(ValidationFailed) as refused:
            await save_item(session, _spec(a, owner, leader, lead=lead), actor=ACTOR, clock=clock)
        unit = a1 if lead.unit_id == a1.id else a
        person = owner if lead.owner_id == owner.id else co_owner
        assert told(refused.value, "zh") == (
            f"{person.name}不是主办单位「{unit.name}」的人员，"
            "不能担任其责任人（请选择该单位的人员）"
        )
    assert (await session.scalars(select(Item))).all() == []
    saved = await save_item(session, _spec(a, owner, leader), actor=ACTOR, clock=clock)
    assert saved.item.ref == "督〔2026〕1号"  # the unit's own person is accepted


async def test_the_deadline_in_force_is_the_lead_units(session, clock):
    """An approved extension moves the lead assignment's date, not the item's: the list, the
    API and the filters show the lead's (a co unit's or a cancelled lead's does not count)."""
    a, b, c = [await f.unit(session) for _ in range(3)]
    extended = await f.item(session, ref="EXT", due_on=date(2026, 12, 1))
    await f.assignment(session, item=extended, unit=a, due_on=date(2026, 12, 31))
    await f.assignment(session, item=extended, unit=b, role=AssignmentRole.CO)
    plain = await f.item(session, ref="PLAIN", due_on=date(2026, 12, 10))
    await f.assignment(session, item=plain, unit=a)
    await f.assignment(
        session, item=plain, unit=c, role=AssignmentRole.CO, due_on=date(2027, 1, 31)
    )
    handed = await f.item(session, ref="HANDED", due_on=date(2026, 12, 5))
    gone = await f.assignment(session, item=handed, unit=b, due_on=date(2027, 3, 1))
    gone.state = ItemState.CANCELLED.value
    bare = await f.item(session, ref="BARE", due_on=date(2026, 12, 20))
    await session.flush()
    expected = {
        "EXT": date(2026, 12, 31),
        "PLAIN": date(2026, 12, 10),
        "HANDED": date(2026, 12, 5),
        "BARE": date(2026, 12, 20),
    }
    rows = await list_items(session, today=date(2026, 11, 2), calendar=WorkCalendar())
    assert {r.ref: r.due_on for r in rows} == expected
    assert [r.ref for r in rows] == ["HANDED", "PLAIN", "BARE", "EXT"]  # by the date in force
    items = (
        await session.scalars(
            select(Item)
            .where(Item.id.in_([extended.id, plain.id, handed.id, bare.id]))
            .options(selectinload(Item.assignments))
            .execution_options(populate_existing=True)
        )
    ).all()
    assert {i.ref: due_in_force(i) for i in items} == expected
    in_sql = await session.execute(select(Item.ref, due_in_force_column()))
    assert {ref: due for ref, due in in_sql.all()} == expected


async def test_stale_report_and_closed_lights(session, clock):
    _, a, _, _, owner, leader, _ = await _org(session)
    saved = await save_item(
        session,
        _spec(a, owner, leader, received_on=date(2026, 10, 9), due_on=date(2026, 12, 31)),
        actor=ACTOR,
        clock=clock,
    )
    calendar = WorkCalendar()
    today = date(2026, 11, 2)
    (row,) = await list_items(session, today=today, calendar=calendar)
    assert row.light is Light.YELLOW  # no report for more than 10 working days
    (lead,) = await _assignments(session, saved.item.id)
    lead.last_report_at = datetime(2026, 10, 30, 2, 0, tzinfo=SHANGHAI) - timedelta(hours=1)
    (row,) = await list_items(session, today=today, calendar=calendar)
    assert row.light is Light.GREEN
    await transition_assignment(session, lead, ItemState.CLOSED, actor=ACTOR, clock=clock)
    (row,) = await list_items(session, today=today, calendar=calendar)
    assert (row.light, row.state) == (Light.GREY, "closed")


async def test_calendar_override_is_used(session, clock):
    _, a, _, _, owner, leader, _ = await _org(session)
    session.add(CalendarDay(day=date(2026, 12, 14), is_workday=False, source="override"))
    await session.flush()
    saved = await save_item(session, _spec(a, owner, leader), actor=ACTOR, clock=clock)
    assert saved.item.due_on == date(2026, 12, 15)


async def test_repeated_saves_in_one_session(session, clock):
    _, a, _, b, owner, leader, _ = await _org(session)
    c = await f.unit(session, code="C")
    await save_item(session, _spec(a, owner, leader, b), actor=ACTOR, clock=clock)
    added = await save_item(session, _spec(a, owner, leader, b, c), actor=ACTOR, clock=clock)
    assert added.outcome is SaveOutcome.UPDATED
    assert added.changes["assignments_added"] == [c.id]
    again = await save_item(
        session, _spec(a, owner, leader, b, c, ref=" 督〔2026〕1号 "), actor=ACTOR, clock=clock
    )
    assert again.outcome is SaveOutcome.UNCHANGED
    assert len(await _assignments(session, added.item.id)) == 3


async def test_the_database_keeps_the_deadline_in_force_whoever_writes(session):
    """`models.due_in_force`: the column follows every change of an item's own deadline and
    of its assignments' deadline, state, role or item, by the ORM or by plain SQL."""
    a, b = await f.unit(session), await f.unit(session)
    item = await f.item(session, ref="KEPT", due_on=date(2026, 12, 1))
    other = await f.item(session, ref="OTHER", due_on=date(2026, 12, 2))

    async def stored() -> dict[str, date | None]:
        rows = await session.execute(select(Item.ref, Item.due_in_force))
        return {ref: due for ref, due in rows.all()}

    assert await stored() == {"KEPT": date(2026, 12, 1), "OTHER": date(2026, 12, 2)}
    lead = await f.assignment(session, item=item, unit=a, due_on=date(2026, 12, 20))
    co = await f.assignment(
        session, item=item, unit=b, role=AssignmentRole.CO, due_on=date(2027, 2, 1)
    )
    assert (await stored())["KEPT"] == date(2026, 12, 20)  # the lead's, not the co unit's
    lead.due_on = date(2027, 1, 10)  # an approved extension
    await session.flush()
    assert (await stored())["KEPT"] == date(2027, 1, 10)
    co.role = AssignmentRole.LEAD.value
    await session.flush()
    assert (await stored())["KEPT"] == date(2027, 2, 1)  # the later of two leads
    co.state = ItemState.CANCELLED.value
    await session.flush()
    assert (await stored())["KEPT"] == date(2027, 1, 10)
    lead.item_id = other.id  # moved: both items follow
    await session.flush()
    assert await stored() == {"KEPT": date(2026, 12, 1), "OTHER": date(2027, 1, 10)}
    await session.execute(update(Item).where(Item.ref == "KEPT").values(due_on=date(2026, 11, 30)))
    await session.execute(delete(Assignment).where(Assignment.id == lead.id))
    assert await stored() == {"KEPT": date(2026, 11, 30), "OTHER": date(2026, 12, 2)}
    await session.execute(  # set-based, as imports and the bench write
        insert(Assignment).from_select(
            ["item_id", "unit_id", "role", "due_on", "state"],
            select(
                Item.id,
                literal(a.id),
                literal(AssignmentRole.LEAD.value),
                literal(date(2027, 3, 3)),
                literal(ItemState.OPEN.value),
            ).where(Item.ref == "KEPT"),
        )
    )
    assert (await stored())["KEPT"] == date(2027, 3, 3)
