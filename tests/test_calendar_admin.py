"""Calendar administration: schedule import, overrides, coverage, and recomputed deadlines."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from models import Assignment, AuditEvent, CalendarDay, Item, Source, Unit
from supervision.audit import Actor
from supervision.calendar import Coverage
from supervision.calendar_admin import (
    ChangedDeadline,
    clear_override,
    coverage_report,
    import_schedule,
    set_override,
)
from supervision.errors import ValidationFailed
from supervision.items import AssigneeSpec, ItemSpec, save_item
from supervision.policy import ensure_default_policies
from supervision.tabular import Table, read_table
from testing import factories as f

ACTOR = Actor.system("test")
#: An official 2027 schedule as the State Council publishes it: 元旦, 春节 from 除夕 to 初七
#: (two more weekdays off than the fallback's statutory four and their 补休) and a working
#: Saturday. It moves a deadline over 春节 by one working day.
SPRING_DAYS = [(date(2027, 2, d), False, "schedule", "春节") for d in range(5, 13)]
SCHEDULE_DAYS = [
    (date(2027, 1, 1), False, "schedule", "元旦"),
    *SPRING_DAYS,
    (date(2027, 2, 20), True, "schedule", "春节调休"),
]
SCHEDULE_2027 = "date,is_workday,note\n" + "".join(
    f"{day.isoformat()},{'班' if workday else '0'},{note}\n"
    for day, workday, _, note in SCHEDULE_DAYS
)


async def _item(session, clock, ref="R1", received_on=date(2027, 1, 18), due_on=None):
    unit = await session.scalar(select(Unit).where(Unit.code == "A")) or await f.unit(
        session, code="A"
    )
    owner = await f.person(session, unit=unit)
    saved = await save_item(
        session,
        ItemSpec(
            ref=ref,
            title="年末收到的批示件",
            source=Source.INSTRUCTION,
            received_on=received_on,
            due_on=due_on,
            lead=AssigneeSpec(unit.id, owner.id),
        ),
        actor=ACTOR,
        clock=clock,
    )
    return saved.item


async def test_schedule_import_recomputes_provisional_deadlines(session, clock):
    await ensure_default_policies(session)
    item = await _item(session, clock)
    given = await _item(session, clock, ref="R2", due_on=date(2027, 3, 5))
    assert (item.due_on, item.due_is_provisional) == (date(2027, 3, 5), True)
    await session.commit()
    result = await import_schedule(
        session, read_table(SCHEDULE_2027.encode(), "s.csv"), actor=ACTOR, clock=clock
    )
    await session.commit()
    assert result.ok and (result.created, result.years) == (10, [2027])
    assert result.changed_items == [ChangedDeadline("R1", date(2027, 3, 5), date(2027, 3, 8))]
    assert str(result.changed_items[0]) == "R1: 2027-03-05 → 2027-03-08"
    ref, old, new = result.changed_items[0]
    assert (ref, old, new) == ("R1", date(2027, 3, 5), date(2027, 3, 8))
    assert result.confirmed == ["R1"] and result.still_provisional == []
    await session.refresh(item)
    assert (item.due_on, item.due_is_provisional) == (date(2027, 3, 8), False)
    lead = await session.scalar(select(Assignment).where(Assignment.item_id == item.id))
    assert lead.due_on == date(2027, 3, 8)
    assert given.due_on == date(2027, 3, 5)  # a given deadline never moves
    days = (await session.scalars(select(CalendarDay).order_by(CalendarDay.day))).all()
    assert [(d.day, d.is_workday, d.source, d.note) for d in days] == SCHEDULE_DAYS
    actions = (await session.scalars(select(AuditEvent.action))).all()
    assert "import_schedule" in actions and "recompute_due" in actions
    again = await import_schedule(
        session, read_table(SCHEDULE_2027.encode(), "s.csv"), actor=ACTOR, clock=clock
    )
    assert (again.created, again.unchanged, again.changed_items) == (0, 10, [])


async def test_schedule_errors_write_nothing(session, clock):
    bad = (
        "date,is_workday,note\n"
        "2027-01-01,0,元旦\n"
        "2027-01-01,1,重复\n"
        "2027-02-30,1,\n"
        ",,\n"
        "2027-03-01,maybe," + "x" * 201 + "\n"
    )
    result = await import_schedule(
        session, read_table(bad.encode(), "s.csv"), actor=ACTOR, clock=clock
    )
    assert [str(e) for e in result.errors] == [
        "row 3, date: 2027-01-01 is listed twice (row 2)",
        "row 4, date: '2027-02-30' is not a real date",
        "row 6, is_workday: 'maybe' is not a working-day mark "
        "(use 1/0, true/false, 是/否 or 班/休)",
        "row 6, note: longer than 200 characters",
    ]
    # said to a Chinese office in Chinese, from the catalogue
    assert result.errors[0].said("zh") == "第 3 行，date：2027-01-01 出现了两次（首见于第 2 行）"
    assert await session.scalar(select(func.count()).select_from(CalendarDay)) == 0
    missing = await import_schedule(
        session, Table([{"day": "2027-01-01"}]), actor=ACTOR, clock=clock
    )
    assert [e.column for e in missing.errors] == ["date", "is_workday"]


async def test_dry_run_reports_changes_and_writes_nothing(session, clock):
    item = await _item(session, clock)
    await session.commit()
    result = await import_schedule(
        session, read_table(SCHEDULE_2027.encode(), "s.csv"), actor=ACTOR, clock=clock, dry_run=True
    )
    assert [c.ref for c in result.changed_items] == ["R1"]
    await session.refresh(item)
    assert (item.due_on, item.due_is_provisional) == (date(2027, 3, 5), True)
    assert await session.scalar(select(func.count()).select_from(CalendarDay)) == 0


async def test_schedule_keeps_a_hand_override(session, clock):
    await set_override(session, date(2027, 1, 1), True, "加班", ACTOR, clock)
    result = await import_schedule(
        session, read_table(SCHEDULE_2027.encode(), "s.csv"), actor=ACTOR, clock=clock
    )
    assert (result.created, result.kept_overrides) == (9, 1)
    day = await session.get(CalendarDay, date(2027, 1, 1))
    assert (day.is_workday, day.source) == (True, "override")


async def test_override_moves_a_provisional_deadline_and_can_be_cleared(session, clock):
    item = await _item(session, clock)
    moved = await set_override(session, date(2027, 1, 19), False, "停电", ACTOR, clock)
    assert moved.changed_items == [ChangedDeadline("R1", date(2027, 3, 5), date(2027, 3, 8))]
    assert moved.still_provisional == ["R1"]  # the rest of 2027 still has no data
    assert item.due_is_provisional
    cleared = await clear_override(session, date(2027, 1, 19), actor=ACTOR, clock=clock)
    assert cleared.changed_items == []  # never earlier than announced
    assert item.due_on == date(2027, 3, 8)
    with pytest.raises(ValidationFailed, match="has no override"):
        await clear_override(session, date(2027, 1, 4), actor=ACTOR, clock=clock)
    with pytest.raises(ValidationFailed, match="longer than 200"):
        await set_override(session, date(2027, 1, 5), False, "x" * 201, ACTOR, clock)
    events = (
        await session.scalars(
            select(AuditEvent).where(AuditEvent.entity == "calendar_day").order_by(AuditEvent.id)
        )
    ).all()
    assert [(e.action, e.entity_id) for e in events] == [
        ("set_override", 20270119),
        ("clear_override", 20270119),
    ]


async def test_closed_items_are_not_recomputed(session, clock):
    item = await _item(session, clock)
    item.state = "cancelled"
    await session.flush()
    result = await import_schedule(
        session, read_table(SCHEDULE_2027.encode(), "s.csv"), actor=ACTOR, clock=clock
    )
    assert result.changed_items == []
    assert (await session.get(Item, item.id)).due_on == date(2027, 3, 5)


async def test_coverage_report(session, clock):
    await set_override(session, date(2026, 10, 10), False, "", ACTOR, clock)
    before = await coverage_report(session, [2027, 2026])
    assert [(c.year, c.coverage, c.overrides, c.schedule_days) for c in before] == [
        (2026, Coverage.OFFICIAL, 1, 0),
        (2027, Coverage.FALLBACK, 0, 0),
    ]
    assert before[0].describe() == "2026: official data (bundled chinesecalendar); 1 override(s)"
    assert "Mon–Fri less the statutory holidays" in before[1].describe()
    await import_schedule(
        session, read_table(SCHEDULE_2027.encode(), "s.csv"), actor=ACTOR, clock=clock
    )
    (after,) = await coverage_report(session, [2027])
    assert (after.coverage, after.schedule_days) == (Coverage.SCHEDULE, 10)
    assert after.describe() == "2027: imported official schedule (10 days listed); 0 override(s)"
    with pytest.raises(ValidationFailed, match="not a plausible year"):
        await coverage_report(session, [27])
