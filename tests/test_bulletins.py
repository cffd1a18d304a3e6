"""Bulletin (督查通报) figures on a hand-built dataset, periods, freezing and sending."""

from __future__ import annotations

from datetime import date, datetime
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
    Notification,
    Role,
)
from supervision.audit import Actor
from supervision.bulletins import (
    compute_bulletin,
    default_recipients,
    freeze_bulletin,
    parse_period,
    send_bulletin,
)
from supervision.calendar import WorkCalendar
from supervision.errors import ValidationFailed
from tests import factories as f

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
        r.unit_code: (
            r.rank,
            r.assigned,
            r.closed_in_period,
            r.closed_on_time,
            r.overdue,
            r.extensions,
            r.on_time_rate,
        )
        for r in data.rows
    }
    assert table == {
        "A": (1, 3, 2, 2, 0, 0, 1.0),
        "C": (2, 2, 2, 1, 1, 0, 0.5),
        "D": (2, 2, 1, 1, 1, 0, 0.5),
        "B": (4, 5, 2, 1, 3, 1, 0.25),
        "G": (5, 1, 0, 0, 0, 0, None),
    }
    assert [r.unit_code for r in data.rows] == ["A", "D", "C", "B", "G"]  # 丁 sorts before 丙
    assert data.praised_units == ["甲局"]
    assert data.urged_units == ["丁局", "丙局", "乙局"]
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
    b = next(r for r in data.rows if r.unit_code == "B")
    # b1 closed late on 11-10, b2 on time 11-11; b3..b5 not yet due on 11-15.
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
    from supervision.bulletins import UnitFigures, _rank

    rows = []
    for n, (on_time, late, open_overdue, name) in enumerate(figures):
        row = UnitFigures(n, f"U{n}", name + str(n % 3))
        row.closed_on_time, row.closed_late, row.open_overdue = on_time, late, open_overdue
        row.closed_in_period = on_time + late
        rows.append(row)
    ranked = _rank(rows)

    def better(a, b) -> bool:
        ra, rb = a.on_time_rate, b.on_time_rate
        if (ra is None) != (rb is None):
            return rb is None
        if ra != rb:
            return ra is not None and rb is not None and ra > rb
        return a.overdue < b.overdue

    for row in ranked:
        assert row.rank == 1 + sum(better(other, row) for other in ranked)
    assert [r.rank for r in ranked] == sorted(r.rank for r in ranked)


async def test_sent_bulletin_is_rendered_by_the_notifier(sessions, clock):
    """End to end: a sent bulletin (one unit without a rate) is delivered through the outbox."""
    from notifier.delivery import deliver_due
    from notifier.template_store import DbTemplateStore
    from notifier.templating import Renderer
    from tests.notifier_support import limiter_for, options, registry

    async with sessions() as s:
        await build_dataset(s)
        supervisor = await f.person(s, roles={Role.SUPERVISOR}, telegram_user_id=321)
        data = await compute_bulletin(
            s, parse_period("2026-11"), today=date(2026, 12, 3), calendar=CAL, tz=TZ
        )
        assert any(r.on_time_rate is None for r in data.rows)
        bulletin = await freeze_bulletin(s, data, actor=Actor.system(), clock=clock)
        await send_bulletin(
            s, bulletin, [supervisor], actor=Actor.system(), clock=clock, calendar=CAL, tz=TZ
        )
        await s.commit()
    counts = await deliver_due(
        sessions,
        channels=registry(),
        renderer=Renderer(DbTemplateStore(sessions)),
        clock=clock,
        limiter=limiter_for(clock),
        options=options(),
    )
    async with sessions() as s:
        rows = (await s.scalars(select(Notification))).all()
    assert {r.status for r in rows} == {"sent"}, (counts, [r.last_error for r in rows])
    assert all("甲局" in r.body_text for r in rows)


async def test_bulletin_with_every_unit_judged_is_delivered(sessions, clock):
    """End to end through the notifier's delivery: the row renders from ``bulletin_id``."""
    from notifier.delivery import deliver_due
    from notifier.template_store import DbTemplateStore
    from notifier.templating import Renderer
    from tests.notifier_support import limiter_for, options, registry

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
    await deliver_due(
        sessions,
        channels=registry(),
        renderer=Renderer(DbTemplateStore(sessions)),
        clock=clock,
        limiter=limiter_for(clock),
        options=options(),
    )
    async with sessions() as s:
        rows = (await s.scalars(select(Notification))).all()
    assert {r.status for r in rows} == {"sent"}, [r.last_error for r in rows]
    for r in rows:
        assert "按期局" in r.body_text and "逾期局" in r.body_text and "E2E-2" in r.body_text
