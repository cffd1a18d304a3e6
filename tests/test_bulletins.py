"""Bulletin (督查通报) figures on a hand-built dataset, periods, freezing and sending."""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from models import (
    Assignment,
    AssignmentRole,
    Extension,
    ExtensionState,
    ItemState,
    Milestone,
    Notification,
    Report,
    ReportKind,
    ReviewState,
    Role,
    Source,
)
from supervision.audit import Actor
from supervision.bulletins import (
    compute_bulletin,
    default_recipients,
    freeze_bulletin,
    send_bulletin,
)
from supervision.calendar import WorkCalendar
from supervision.errors import ValidationFailed
from supervision.periods import parse_period
from testing import factories as f

TZ = ZoneInfo("Asia/Shanghai")
CAL = WorkCalendar()


def local(y: int, m: int, d: int, hh: int = 10, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=TZ)


async def closed(session, a: Assignment, at: datetime) -> None:
    a.state = ItemState.CLOSED.value
    a.closed_at = at
    await session.flush()


async def build_dataset(session) -> dict[str, object]:
    """Units A..G with assignments whose figures for 2026-11 are worked out by hand below."""
    u = {
        k: await f.unit(session, code=k, name=name)
        for k, name in [
            ("A", "甲局"),
            ("B", "乙局"),
            ("C", "丙局"),
            ("D", "丁局"),
            ("E", "戊局"),
            ("F", "己局"),
            ("G", "庚局"),
        ]
    }

    async def assign(unit: str, due: date, *, received=date(2026, 11, 2), role=None):
        item = await f.item(session, title=f"{unit}-{due}", received_on=received, due_on=due)
        return await f.assignment(
            session, item=item, unit=u[unit], due_on=due, role=role or AssignmentRole.LEAD
        )

    # A: two closed on time (one at 23:30 local on its due day), one closed before the
    # period (not counted), one open and not yet due.
    await closed(session, await assign("A", date(2026, 11, 10)), local(2026, 11, 9))
    await closed(session, await assign("A", date(2026, 11, 20)), local(2026, 11, 20, 23, 30))
    await closed(
        session,
        await assign("A", date(2026, 10, 30), received=date(2026, 10, 1)),
        local(2026, 10, 30),
    )
    await assign("A", date(2026, 12, 15))
    # B: one closed late, one on time, one co assignment open past due, one due on the
    # last day (not overdue), one closed only after the period (open overdue at its end).
    await closed(session, await assign("B", date(2026, 11, 5)), local(2026, 11, 10))
    await closed(session, await assign("B", date(2026, 11, 12)), local(2026, 11, 11))
    await assign("B", date(2026, 11, 25), role=AssignmentRole.CO)
    b4 = await assign("B", date(2026, 11, 30))
    await closed(session, await assign("B", date(2026, 11, 20)), local(2026, 12, 1))
    # C: one on time, one closed late. D: one on time, one open overdue. C and D tie.
    await closed(session, await assign("C", date(2026, 11, 10)), local(2026, 11, 9))
    await closed(session, await assign("C", date(2026, 11, 11)), local(2026, 11, 18))
    await closed(session, await assign("D", date(2026, 11, 10)), local(2026, 11, 10))
    await assign("D", date(2026, 11, 3))
    # E: received after the period; F: cancelled. Neither appears.
    await assign("E", date(2026, 12, 20), received=date(2026, 12, 2))
    fa = await assign("F", date(2026, 11, 3))
    fa.state = ItemState.CANCELLED.value
    # G: only open, not yet due: assigned but nothing to judge.
    await assign("G", date(2026, 12, 30))
    # Extensions of B: approved in the period (counts), pending, approved before the period.
    for state, decided in [
        (ExtensionState.APPROVED, local(2026, 11, 15)),
        (ExtensionState.PENDING, None),
        (ExtensionState.APPROVED, local(2026, 10, 31, 23, 0)),
    ]:
        session.add(
            Extension(
                assignment_id=b4.id,
                reason="需协调",
                old_due_on=date(2026, 11, 20),
                new_due_on=date(2026, 11, 30),
                state=state.value,
                decided_at=decided,
            )
        )
    await session.commit()
    return u


async def test_figures_for_a_month(session):
    await build_dataset(session)
    data = await compute_bulletin(
        session, parse_period("2026-11"), today=date(2026, 12, 3), calendar=CAL, tz=TZ
    )
    assert data.as_of == date(2026, 11, 30)
    table = {
        (r.unit_code, r.role): (
            r.rank,
            r.assigned,
            r.closed_in_period,
            r.closed_on_time,
            r.overdue,
            r.extensions,
            r.on_time_rate,
        )
        for r in data.rows + data.unranked
    }
    # 主办 and 协办 are counted apart: B's co assignment is its own row and ranking.
    assert table == {
        ("A", "lead"): (1, 3, 2, 2, 0, 0, 1.0),
        ("C", "lead"): (2, 2, 2, 1, 1, 0, 0.5),
        ("D", "lead"): (2, 2, 1, 1, 1, 0, 0.5),
        ("B", "lead"): (4, 4, 2, 1, 2, 1, pytest.approx(1 / 3)),
        ("B", "co"): (1, 1, 0, 0, 1, 0, 0.0),
        ("G", "lead"): (0, 1, 0, 0, 0, 0, None),
    }
    assert [r.unit_code for r in data.ranking("lead")] == ["A", "D", "C", "B"]  # 丁 before 丙
    assert [r.unit_code for r in data.ranking("co")] == ["B"]
    assert [r.unit_code for r in data.unranked] == ["G"]
    assert data.praised_units == ["甲局"]
    # Urged worst first: B has three overdue assignments, then D (19 days) before C (5).
    assert data.urged_units == ["乙局", "丁局", "丙局"]
    assert [(u.unit_name, len(u.items), u.days_overdue) for u in data.urged] == [
        ("乙局", 3, 12),
        ("丁局", 1, 19),
        ("丙局", 1, 5),
    ]
    named = [(o.unit_name, o.due_on, o.days_overdue, o.closed_late) for o in data.overdue_items]
    assert named == [
        ("丁局", date(2026, 11, 3), 19, False),
        ("乙局", date(2026, 11, 20), 6, False),
        ("丙局", date(2026, 11, 11), 5, True),
        ("乙局", date(2026, 11, 5), 3, True),
        ("乙局", date(2026, 11, 25), 3, False),
    ]
    totals = data.totals()
    assert totals["assigned"] == 13 and totals["overdue"] == 5
    assert totals["on_time_rate"] == pytest.approx(5 / 10)


async def test_running_period_is_judged_on_today(session):
    await build_dataset(session)
    data = await compute_bulletin(
        session, parse_period("2026-11"), today=date(2026, 11, 15), calendar=CAL, tz=TZ
    )
    assert data.as_of == date(2026, 11, 15)
    b = next(r for r in data.rows if r.unit_code == "B" and r.role == "lead")
    # b1 closed late on 11-10, b2 on time 11-11; b4, b5 not yet due on 11-15.
    assert (b.closed_on_time, b.closed_late, b.open_overdue, b.extensions) == (1, 1, 0, 1)
    c = next(r for r in data.rows if r.unit_code == "C")
    # c2 (due 11-11) is still open on 11-15: open overdue, not yet closed late.
    assert (c.closed_on_time, c.closed_late, c.open_overdue) == (1, 0, 1)


async def test_week_and_quarter(session):
    await build_dataset(session)
    week = await compute_bulletin(
        session, parse_period("2026-W46"), today=date(2026, 12, 3), calendar=CAL, tz=TZ
    )
    assert (week.period.starts_on, week.period.ends_on) == (date(2026, 11, 9), date(2026, 11, 15))
    a = next(r for r in week.rows if r.unit_code == "A")
    assert (a.assigned, a.closed_on_time) == (3, 1)
    quarter = await compute_bulletin(
        session, parse_period("2026-q4"), today=date(2026, 12, 3), calendar=CAL, tz=TZ
    )
    a = next(r for r in quarter.rows if r.unit_code == "A")
    assert (a.assigned, a.closed_on_time) == (4, 3)  # the October closing counts now


async def month_of(session, today: date = date(2026, 12, 3)):
    return await compute_bulletin(
        session, parse_period("2026-11"), today=today, calendar=CAL, tz=TZ
    )


async def lead_item(session, unit, due: date, **kw):
    item = await f.item(session, title=f"{unit.name}-{due}", due_on=due)
    return await f.assignment(session, item=item, unit=unit, due_on=due, **kw)


async def test_a_unit_with_nothing_due_is_not_ranked(session):
    late = await f.unit(session, code="L", name="逾期局")
    idle = await f.unit(session, code="I", name="无事局")
    await lead_item(session, late, date(2026, 11, 10))
    await lead_item(session, idle, date(2026, 12, 20))
    await session.commit()
    data = await month_of(session)
    assert [(r.unit_code, r.rank) for r in data.rows] == [("L", 1)]
    assert [r.unit_code for r in data.unranked] == ["I"]
    assert data.unranked[0].rank == 0
    assert data.praised_units == [] and data.urged_units == ["逾期局"]
    stored = data.as_json()
    assert stored["version"] == 2
    assert [r["unit_name"] for r in stored["unranked"]] == ["无事局"]


async def test_equal_rate_and_overdue_rank_more_completed_first(session):
    one = await f.unit(session, code="O", name="甲局")
    two = await f.unit(session, code="T", name="乙局")
    await closed(session, await lead_item(session, one, date(2026, 11, 10)), local(2026, 11, 9))
    for due in (date(2026, 11, 10), date(2026, 11, 12)):
        await closed(session, await lead_item(session, two, due), local(2026, 11, 9))
    await session.commit()
    data = await month_of(session)
    assert [(r.unit_code, r.rank) for r in data.rows] == [("T", 1), ("O", 2)]


async def test_praise_needs_an_on_time_completion_and_nothing_overdue(session):
    good = await f.unit(session, code="G", name="好局")
    mixed = await f.unit(session, code="M", name="混局")
    idle = await f.unit(session, code="I", name="闲局")
    await closed(session, await lead_item(session, good, date(2026, 11, 10)), local(2026, 11, 9))
    # On time as lead, but overdue as co: not praised, urged.
    await closed(session, await lead_item(session, mixed, date(2026, 11, 10)), local(2026, 11, 9))
    await lead_item(session, mixed, date(2026, 11, 12), role=AssignmentRole.CO)
    # Nothing due: neither praised nor urged.
    await lead_item(session, idle, date(2026, 12, 20))
    await session.commit()
    data = await month_of(session)
    assert data.praised_units == ["好局"]
    assert data.urged_units == ["混局"]


async def test_urged_units_worst_first_with_days_late(session):
    one = await f.unit(session, code="1", name="一局")
    two = await f.unit(session, code="2", name="二局")
    three = await f.unit(session, code="3", name="三局")
    await lead_item(session, one, date(2026, 11, 27))  # 1 overdue, 1 working day
    await lead_item(session, two, date(2026, 11, 26))  # 1 overdue, 2 working days
    for due in (date(2026, 11, 26), date(2026, 11, 27)):
        await lead_item(session, three, due)  # 2 overdue
    await session.commit()
    data = await month_of(session)
    assert [(u.unit_name, len(u.items), u.days_overdue) for u in data.urged] == [
        ("三局", 2, 3),
        ("二局", 1, 2),
        ("一局", 1, 1),
    ]
    stored = data.as_json()["urged"]
    assert [i["days_overdue"] for i in stored[0]["items"]] == [2, 1]
    assert stored[0]["items"][0]["due_on"] == "2026-11-26"


async def completion_report(session, a: Assignment, *, at: datetime, signed: datetime | None):
    session.add(
        Report(
            assignment_id=a.id,
            kind=ReportKind.COMPLETION.value,
            text="已办结",
            review_state=ReviewState.APPROVED.value,
            signed_off_at=signed,
            created_at=at,
        )
    )
    await session.flush()


async def test_a_completion_counts_on_the_day_its_report_was_submitted(session):
    unit = await f.unit(session, code="U", name="办结局")
    due = date(2026, 11, 10)
    # Submitted on its due day, approved three days later: on time.
    submitted = await lead_item(session, unit, due)
    await completion_report(session, submitted, at=local(2026, 11, 10, 17), signed=None)
    await closed(session, submitted, local(2026, 11, 13))
    # Needs sign-off: submitted before the due day but signed after it: late.
    signed = await lead_item(session, unit, due)
    await completion_report(session, signed, at=local(2026, 11, 9), signed=local(2026, 11, 11, 9))
    await closed(session, signed, local(2026, 11, 12))
    # An admin close without a completion report counts on closed_at: late.
    admin = await lead_item(session, unit, due)
    await closed(session, admin, local(2026, 11, 11))
    await session.commit()
    data = await month_of(session)
    (row,) = data.rows
    assert (row.closed_on_time, row.closed_late) == (1, 2)
    late = {o.assignment_id: o.days_overdue for o in data.overdue_items}
    assert late == {signed.id: 1, admin.id: 1}


async def test_closed_on_the_weekend_after_a_friday_deadline_is_one_day_late(session):
    unit = await f.unit(session, code="U", name="周末局")
    friday = date(2026, 11, 13)
    weekend = await lead_item(session, unit, friday)
    await completion_report(session, weekend, at=local(2026, 11, 14, 10), signed=None)
    await closed(session, weekend, local(2026, 11, 14, 11))
    await session.commit()
    data = await month_of(session)
    assert [(o.assignment_id, o.days_overdue, o.closed_late) for o in data.overdue_items] == [
        (weekend.id, 1, True)
    ]


async def test_a_completion_submitted_before_the_period_is_not_counted(session):
    unit = await f.unit(session, code="U", name="早办局")
    a = await lead_item(session, unit, date(2026, 11, 5))
    await completion_report(session, a, at=local(2026, 10, 30), signed=None)
    await closed(session, a, local(2026, 11, 2))
    await session.commit()
    assert (await month_of(session)).rows == []


async def test_lead_and_co_are_counted_separately(session):
    unit = await f.unit(session, code="U", name="双局")
    await closed(session, await lead_item(session, unit, date(2026, 11, 10)), local(2026, 11, 9))
    await lead_item(session, unit, date(2026, 11, 10), role=AssignmentRole.CO)
    await session.commit()
    data = await month_of(session)
    rows = {r.role: (r.rank, r.closed_on_time, r.overdue, r.on_time_rate) for r in data.rows}
    assert rows == {"lead": (1, 1, 0, 1.0), "co": (1, 0, 1, 0.0)}
    stored = {r["role"]: r["role_label"] for r in data.as_json()["rows"]}
    assert stored == {"lead": "主办", "co": "协办"}
    assert data.overdue_items[0].role == "co"


def test_parse_period():
    assert parse_period("2026-11").label == "2026年11月"
    assert parse_period("2026-02").ends_on == date(2026, 2, 28)
    assert parse_period("2026-12").ends_on == date(2026, 12, 31)
    w = parse_period("2026-W53")
    assert (w.starts_on, w.ends_on) == (date(2026, 12, 28), date(2027, 1, 3))
    q = parse_period("2026-Q1")
    assert (q.starts_on, q.ends_on, q.label) == (
        date(2026, 1, 1),
        date(2026, 3, 31),
        "2026年第一季度",
    )
    for bad in ["2026-13", "2026-W54", "2025-W53", "2026-Q5", "nov", "", "2026-1"]:
        with pytest.raises(ValidationFailed):
            parse_period(bad)


async def test_future_period_is_refused(session):
    with pytest.raises(ValidationFailed, match="not started"):
        await compute_bulletin(
            session, parse_period("2027-01"), today=date(2026, 12, 3), calendar=CAL, tz=TZ
        )


async def test_freeze_and_send(session, clock):
    u = await build_dataset(session)
    supervisor = await f.person(session, roles={Role.SUPERVISOR}, telegram_user_id=555)
    principal = await f.person(session, unit=u["B"], roles={Role.PRINCIPAL})
    await f.person(session, roles={Role.OWNER})
    inactive = await f.person(session, roles={Role.SUPERVISOR})
    inactive.active = False
    data = await compute_bulletin(
        session, parse_period("2026-11"), today=date(2026, 12, 3), calendar=CAL, tz=TZ
    )
    bulletin = await freeze_bulletin(session, data, actor=Actor.of(supervisor), clock=clock)
    assert bulletin.data["number"] == "2026年第1期"
    assert bulletin.data["rows"][0]["unit_name"] == "甲局"
    recipients = await default_recipients(session)
    assert [p.id for p in recipients] == [supervisor.id, principal.id]
    queued = await send_bulletin(
        session, bulletin, recipients, actor=Actor.of(supervisor), clock=clock, calendar=CAL, tz=TZ
    )
    assert queued == 3  # supervisor: telegram + email; principal: email
    again = await send_bulletin(
        session, bulletin, recipients, actor=Actor.of(supervisor), clock=clock, calendar=CAL, tz=TZ
    )
    assert again == 0
    await session.commit()
    rows = (await session.scalars(select(Notification).order_by(Notification.id))).all()
    assert {(r.kind, r.recipient_id, r.channel) for r in rows} == {
        ("bulletin", supervisor.id, "telegram"),
        ("bulletin", supervisor.id, "email"),
        ("bulletin", principal.id, "email"),
    }
    assert all(r.payload == {"bulletin_id": bulletin.id} for r in rows)
    assert bulletin.sent_at == clock.now()
    second = await freeze_bulletin(session, data, actor=Actor.system("cli"), clock=clock)
    assert second.data["number"] == "2026年第2期"
    with pytest.raises(ValidationFailed):
        await send_bulletin(
            session, bulletin, [], actor=Actor.system(), clock=clock, calendar=CAL, tz=TZ
        )


@given(
    st.lists(
        st.tuples(
            st.integers(0, 4), st.integers(0, 4), st.integers(0, 4), st.sampled_from("甲乙丙丁戊")
        ),
        max_size=12,
    )
)
def test_ranking_is_competition_ranking(figures):
    from supervision.bulletins import UnitFigures, rank_units

    rows = []
    for n, (on_time, late, open_overdue, name) in enumerate(figures):
        row = UnitFigures(n, f"U{n}", name + str(n % 3))
        row.closed_on_time, row.closed_late, row.open_overdue = on_time, late, open_overdue
        row.closed_in_period = on_time + late
        rows.append(row)
    ranked = rank_units(rows)
    assert {r.unit_id for r in ranked} == {r.unit_id for r in rows if r.on_time_rate is not None}

    def better(a, b) -> bool:
        if a.on_time_rate != b.on_time_rate:
            return a.on_time_rate > b.on_time_rate
        if a.overdue != b.overdue:
            return a.overdue < b.overdue
        return a.closed_on_time > b.closed_on_time

    for row in ranked:
        assert row.rank == 1 + sum(better(other, row) for other in ranked)
    assert [r.rank for r in ranked] == sorted(r.rank for r in ranked)


async def test_sent_bulletin_is_rendered_by_the_notifier(sessions, clock):
    """End to end: a sent bulletin (one unit with nothing due) is delivered through the outbox."""
    from notifier.delivery import Deliverer
    from notifier.template_store import DbTemplateStore
    from notifier.templating import Renderer
    from testing.notifier_support import limiter_for, options, registry

    async with sessions() as s:
        await build_dataset(s)
        supervisor = await f.person(s, roles={Role.SUPERVISOR}, telegram_user_id=321)
        data = await compute_bulletin(
            s, parse_period("2026-11"), today=date(2026, 12, 3), calendar=CAL, tz=TZ
        )
        assert [r.unit_code for r in data.unranked] == ["G"]
        bulletin = await freeze_bulletin(s, data, actor=Actor.system(), clock=clock)
        await send_bulletin(
            s, bulletin, [supervisor], actor=Actor.system(), clock=clock, calendar=CAL, tz=TZ
        )
        await s.commit()
    counts = await Deliverer(
        sessions,
        channels=registry(),
        renderer=Renderer(DbTemplateStore(sessions)),
        clock=clock,
        limiter=limiter_for(clock),
        options=options(),
    ).deliver_due()
    async with sessions() as s:
        rows = (await s.scalars(select(Notification))).all()
    assert {r.status for r in rows} == {"sent"}, (counts, [r.last_error for r in rows])
    assert all("甲局" in r.body_text for r in rows)
    assert all("乙局（协办）" in r.body_text for r in rows)


async def test_bulletin_with_every_unit_judged_is_delivered(sessions, clock):
    """End to end through the notifier's delivery: the row renders from ``bulletin_id``."""
    from notifier.delivery import Deliverer
    from notifier.template_store import DbTemplateStore
    from notifier.templating import Renderer
    from testing.notifier_support import limiter_for, options, registry

    async with sessions() as s:
        unit = await f.unit(s, name="按期局")
        item = await f.item(s, ref="E2E-1", due_on=date(2026, 11, 20))
        a = await f.assignment(s, item=item, unit=unit)
        await closed(s, a, local(2026, 11, 19))
        late_unit = await f.unit(s, name="逾期局")
        late_item = await f.item(s, ref="E2E-2", title="逾期的事项", due_on=date(2026, 11, 10))
        await f.assignment(s, item=late_item, unit=late_unit)
        supervisor = await f.person(s, roles={Role.SUPERVISOR}, telegram_user_id=321)
        data = await compute_bulletin(
            s, parse_period("2026-11"), today=date(2026, 12, 3), calendar=CAL, tz=TZ
        )
        bulletin = await freeze_bulletin(s, data, actor=Actor.system(), clock=clock)
        queued = await send_bulletin(
            s, bulletin, [supervisor], actor=Actor.system(), clock=clock, calendar=CAL, tz=TZ
        )
        await s.commit()
    assert queued == 2
    await Deliverer(
        sessions,
        channels=registry(),
        renderer=Renderer(DbTemplateStore(sessions)),
        clock=clock,
        limiter=limiter_for(clock),
        options=options(),
    ).deliver_due()
    async with sessions() as s:
        rows = (await s.scalars(select(Notification))).all()
    assert {r.status for r in rows} == {"sent"}, [r.last_error for r in rows]
    for r in rows:
        assert "按期局" in r.body_text and "逾期局" in r.body_text and "E2E-2" in r.body_text


async def test_milestone_punctuality_counts_the_annual_tasks_milestones_judged_in_the_period(
    session,
):
    a = await f.unit(session, code="MA", name="甲厅")
    b = await f.unit(session, code="MB", name="乙厅")
    annual = await f.item(
        session, source=Source.ANNUAL_TASK, received_on=date(2026, 10, 1), due_on=date(2026, 12, 31)
    )
    meeting = await f.item(session, received_on=date(2026, 10, 1), due_on=date(2026, 12, 31))
    dropped = await f.item(
        session, source=Source.ANNUAL_TASK, received_on=date(2026, 10, 1), due_on=date(2026, 12, 31)
    )
    dropped.state = ItemState.CANCELLED.value
    finished = await f.item(
        session, source=Source.ANNUAL_TASK, received_on=date(2026, 10, 1), due_on=date(2026, 12, 31)
    )
    finished.state = ItemState.CLOSED.value

    def stage(item, unit, due: date, done: datetime | None = None) -> Milestone:
        return Milestone(
            item_id=item.id,
            name=f"节点{due}",
            due_on=due,
            unit_id=unit.id,
            state="done" if done else "open",
            completed_at=done,
        )

    session.add_all(
        [
            stage(annual, a, date(2026, 11, 10), local(2026, 11, 9)),  # on time
            stage(annual, a, date(2026, 11, 10), local(2026, 11, 12)),  # late
            stage(annual, a, date(2026, 11, 20)),  # open overdue on 11-30
            stage(annual, a, date(2026, 12, 10)),  # not yet due: not judged
            stage(annual, b, date(2026, 11, 5), local(2026, 10, 30)),  # done before the period
            stage(annual, b, date(2026, 11, 25), local(2026, 11, 25, 23, 30)),  # on the day
            stage(meeting, a, date(2026, 11, 10)),  # not an annual task
            stage(dropped, b, date(2026, 11, 10)),  # a cancelled task
            stage(finished, b, date(2026, 11, 10)),  # left open on a task since closed
        ]
    )
    await session.flush()
    data = await compute_bulletin(
        session, parse_period("2026-11"), today=date(2026, 12, 5), calendar=CAL, tz=TZ
    )
    got = [(m.unit_name, m.completed, m.on_time, m.late, m.open_overdue) for m in data.milestones]
    assert got == [("乙厅", 1, 1, 0, 0), ("甲厅", 2, 1, 1, 1)]
    assert data.milestones[1].on_time_rate == pytest.approx(1 / 3)
    totals = data.as_json()["milestones"]["totals"]
    assert (totals["completed"], totals["open_overdue"], totals["on_time_rate"]) == (3, 1, 0.5)


@pytest.mark.parametrize("key", ["2026-10", "2026-Q4", "2026-W44"])
async def test_the_figures_alone_match_the_full_computation(session, key: str) -> None:
    # The dashboard asks for the figures without the overdue list; they are then summed in
    # the database and must be the bulletin's own, row for row.
    rng = random.Random(key)
    units = [await f.unit(session, code=f"F{k}") for k in range(4)]
    for n in range(120):
        received = date(2026, 8, 1) + timedelta(days=rng.randint(0, 90))
        item = await f.item(session, ref=f"F-{n}", received_on=received)
        for k, role in enumerate([AssignmentRole.LEAD, AssignmentRole.CO][: rng.randint(1, 2)]):
            a = await f.assignment(
                session,
                item=item,
                unit=units[(n + k) % 4],
                role=role,
                due_on=received + timedelta(days=rng.randint(5, 60)),
            )
            fate = rng.random()
            if fate < 0.1:
                a.state = ItemState.CANCELLED.value
            elif fate < 0.7:
                a.state = ItemState.CLOSED.value
                local = datetime.combine(a.due_on + timedelta(days=rng.randint(-9, 9)), time(0))
                a.closed_at = (local + timedelta(minutes=rng.choice([30, 600, 1420]))).replace(
                    tzinfo=TZ
                )
                if rng.random() < 0.6:  # an approved completion report, days before
                    session.add(
                        Report(
                            assignment_id=a.id,
                            kind=ReportKind.COMPLETION.value,
                            review_state=ReviewState.APPROVED.value,
                            created_at=a.closed_at - timedelta(hours=rng.randint(1, 200)),
                        )
                    )
    await session.flush()
    period, today, calendar = parse_period(key), date(2026, 11, 20), WorkCalendar()
    full = await compute_bulletin(session, period, today=today, calendar=calendar, tz=TZ)
    alone = await compute_bulletin(
        session, period, today=today, calendar=calendar, tz=TZ, overdue_list=False
    )
    assert full.rows and alone.overdue_items == []
    assert [r.as_json() for r in alone.rows] == [r.as_json() for r in full.rows]
    assert [r.as_json() for r in alone.unranked] == [r.as_json() for r in full.unranked]


def test_local_days_follow_the_zones_clock_changes() -> None:
    from supervision.bulletins import LocalDays

    shanghai = LocalDays.of(TZ, date(2026, 11, 1), date(2026, 11, 30))
    assert shanghai.segments == ((None, timedelta(hours=8)),)
    assert shanghai.lo == datetime(2026, 10, 31, 16, tzinfo=ZoneInfo("UTC"))
    new_york = LocalDays.of(ZoneInfo("America/New_York"), date(2026, 10, 1), date(2026, 11, 30))
    # Summer time ends on 1 November 2026 at 02:00 local (06:00 UTC).
    assert new_york.segments == (
        (datetime(2026, 11, 1, 6, tzinfo=ZoneInfo("UTC")), timedelta(hours=-4)),
        (None, timedelta(hours=-5)),
    )


@pytest.mark.parametrize("key", ["2026-10", "2026-11", "2026-Q4"])
async def test_completion_days_are_local_across_a_clock_change(session, key: str) -> None:
    # In a zone with summer time, a completion an hour either side of local midnight around
    # the change counts on its local day: the database's figures equal the rules applied
    # here in Python, assignment by assignment.
    zone = ZoneInfo("America/New_York")
    utc = ZoneInfo("UTC")
    rng = random.Random(key)
    units = [await f.unit(session, code=f"Z{k}") for k in range(3)]
    made: list[tuple[Assignment, datetime | None, str, date]] = []
    for n in range(90):
        received = date(2026, 9, 20) + timedelta(days=rng.randint(0, 60))
        item = await f.item(session, ref=f"Z-{n}", received_on=received)
        due = date(2026, 10, 28) + timedelta(days=rng.randint(0, 8))
        a = await f.assignment(session, item=item, unit=units[n % 3], due_on=due)
        done: datetime | None = None
        if rng.random() < 0.75:
            day = due + timedelta(days=rng.randint(-2, 2))
            local_at = datetime.combine(day, time(0), tzinfo=zone) + timedelta(
                minutes=rng.choice([-50, -5, 5, 50, 700])
            )
            done = local_at.astimezone(utc)
            a.state, a.closed_at = ItemState.CLOSED.value, done
        made.append((a, done, units[n % 3].code, received))
    await session.flush()
    period, today = parse_period(key), date(2026, 11, 20)
    data = await compute_bulletin(session, period, today=today, calendar=CAL, tz=zone)
    start, as_of = period.starts_on, min(period.ends_on, today)
    expected: dict[str, list[int]] = {}
    for a, done, code, received in made:
        closed_on = done.astimezone(zone).date() if done else None
        if received > as_of or (closed_on and closed_on < start):
            continue
        row = expected.setdefault(code, [0, 0, 0, 0, 0])
        row[0] += 1
        if closed_on and closed_on <= as_of:
            row[1] += 1
            row[2 if closed_on <= a.due_on else 3] += 1
        elif a.due_on < as_of:
            row[4] += 1
    got = {
        r.unit_code: [
            r.assigned,
            r.closed_in_period,
            r.closed_on_time,
            r.closed_late,
            r.open_overdue,
        ]
        for r in data.rows + data.unranked
    }
    assert got == expected
    late = {o.assignment_id for o in data.overdue_items if o.closed_late}
    assert late == {
        a.id
        for a, done, _code, received in made
        if done
        and start <= done.astimezone(zone).date() <= as_of
        and done.astimezone(zone).date() > a.due_on
        and received <= as_of
    }
