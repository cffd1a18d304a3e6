"""Walk one item through its whole ladder by moving the clock, asserting the outbox rows."""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import select

from models import AuditEvent, ItemState, Notification, Role
from notifier.scan import scan_once
from supervision.audit import Actor
from supervision.calendar import WorkCalendar
from supervision.clock import FixedClock
from supervision.lifecycle import transition_assignment
from supervision.policy import ensure_default_policies
from supervision.schedule import reschedule
from testing import SHANGHAI
from testing import factories as f

DUE = date(2026, 12, 14)  # Monday
CAL = WorkCalendar()


def _sh(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


class Walk:
    """One assignment with everyone a ladder can reach, and a clock to move."""

    def __init__(self, session, sessions, clock: FixedClock) -> None:
        self.session = session
        self.sessions = sessions
        self.clock = clock
        self.seen: set[int] = set()

    async def build(self, *, created: datetime, due: date = DUE, urgent: bool = False) -> Walk:
        s = self.session
        self.clock.set(created)
        await ensure_default_policies(s)
        office = await f.unit(s, name="督查室")
        unit = await f.unit(s)
        self.owner = await f.person(s, unit=unit, roles={Role.OWNER}, telegram_user_id=11)
        self.liaison = await f.person(s, unit=unit, roles={Role.LIAISON}, telegram_user_id=12)
        self.leader = await f.person(s, unit=unit, roles={Role.LEADER}, telegram_user_id=13)
        self.other_leader = await f.person(s, unit=unit, roles={Role.LEADER}, telegram_user_id=14)
        self.principal = await f.person(s, unit=unit, roles={Role.PRINCIPAL}, telegram_user_id=15)
        self.sup1 = await f.person(s, unit=office, roles={Role.SUPERVISOR}, telegram_user_id=16)
        self.sup2 = await f.person(s, unit=office, roles={Role.SUPERVISOR})
        self.sup2.telegram_chat_id = None  # e-mail only
        retired = await f.person(s, unit=office, roles={Role.SUPERVISOR}, telegram_user_id=18)
        retired.active = False
        await f.person(s, roles={Role.LIAISON}, telegram_user_id=19)  # another unit's liaison
        item = await f.item(s, due_on=due, urgent=urgent, received_on=created.date())
        self.a = await f.assignment(s, item=item, unit=unit, owner=self.owner, leader=self.leader)
        self.a.created_at = created
        await reschedule(s, self.a, clock=self.clock, tz=SHANGHAI)
        await s.commit()
        return self

    async def scan_at(self, at: datetime) -> set[tuple[str, int | None, str]]:
        """Scan at ``at``; the new rows as (kind, recipient, channel), window checked."""
        self.clock.set(at)
        await scan_once(self.sessions, clock=self.clock, tz=SHANGHAI)
        rows = (
            await self.session.scalars(
                select(Notification).where(Notification.id.not_in(self.seen or {0}))
            )
        ).all()
        self.seen |= {r.id for r in rows}
        for r in rows:
            local = r.not_before.astimezone(SHANGHAI)
            assert CAL.is_workday(local.date()), r.dedupe_key
            assert time(8, 30) <= local.time() <= time(18, 0), r.dedupe_key
            assert r.not_before >= at, r.dedupe_key
        return {(r.kind, r.recipient_id, r.channel) for r in rows}

    def both(self, kind: str, *people) -> set[tuple[str, int | None, str]]:
        out = set()
        for p in people:
            if p.telegram_chat_id is not None:
                out.add((kind, p.id, "telegram"))
            out.add((kind, p.id, "email"))
        return out


async def test_default_ladder_end_to_end(session, sessions, clock):
    w = await Walk(session, sessions, clock).build(created=_sh(2026, 12, 4, 9, 0))
    assert w.a.next_action_at == _sh(2026, 12, 7, 8, 30)
    assert await w.scan_at(_sh(2026, 12, 7, 7, 59)) == set()

    assert await w.scan_at(_sh(2026, 12, 7, 8, 30)) == w.both("remind", w.owner)
    assert await w.scan_at(_sh(2026, 12, 7, 8, 30)) == set()  # same instant: nothing twice
    assert await w.scan_at(_sh(2026, 12, 10, 17, 0)) == set()

    assert await w.scan_at(_sh(2026, 12, 11, 8, 31)) == w.both("urge", w.owner, w.liaison)
    assert await w.scan_at(_sh(2026, 12, 14, 12, 0)) == set()  # due day itself: no step

    assert await w.scan_at(_sh(2026, 12, 15, 9, 0)) == w.both("overdue", w.owner, w.leader)

    escalate = await w.scan_at(_sh(2026, 12, 17, 8, 30))
    assert escalate == w.both("escalate", w.principal, w.sup1, w.sup2)
    assert await w.scan_at(_sh(2026, 12, 17, 16, 0)) == set()

    # 10 working days after creation (4 Dec) with no report: the periodic request, chat only
    assert await w.scan_at(_sh(2026, 12, 18, 8, 30)) == {("periodic", w.owner.id, "telegram")}

    await transition_assignment(
        session, w.a, ItemState.CLOSED, actor=Actor.system("test"), clock=w.clock
    )
    await session.commit()
    assert w.a.next_action_at is None
    assert await w.scan_at(_sh(2027, 1, 29, 9, 0)) == set()  # nothing after it closes

    # The outbox is the step log: each step's rows, in order, carry their step in the payload.
    rows = (
        await session.scalars(
            select(Notification)
            .where(Notification.assignment_id == w.a.id)
            .order_by(Notification.id)
        )
    ).all()
    steps = [r.payload["step"] for r in rows]
    assert list(dict.fromkeys(steps)) == ["remind", "urge", "overdue", "escalate", "periodic"]
    assert [steps.count(k) for k in dict.fromkeys(steps)] == [2, 4, 4, 5, 1]
    assert all(r.kind == r.payload["step"] and r.item_id == w.a.item_id for r in rows)
    skipped = await session.scalars(
        select(AuditEvent).where(AuditEvent.action == "ladder_step", AuditEvent.entity_id == w.a.id)
    )
    assert skipped.all() == []  # every step went out in its turn, nothing to explain


async def test_periodic_requests_and_a_report_resets_them(session, sessions, clock):
    w = await Walk(session, sessions, clock).build(
        created=_sh(2026, 11, 2, 9, 0), due=date(2027, 3, 1)
    )
    assert await w.scan_at(_sh(2026, 11, 13, 17, 0)) == set()
    periodic = {("periodic", w.owner.id, "telegram")}
    assert await w.scan_at(_sh(2026, 11, 16, 8, 30)) == periodic  # 10 working days
    assert w.a.next_action_at is not None

    # A progress report on 20 Nov: the next request counts from the report.
    w.clock.set(_sh(2026, 11, 20, 15, 0))
    await session.refresh(w.a)
    w.a.last_report_at = w.clock.now()
    await reschedule(session, w.a, clock=w.clock, tz=SHANGHAI)
    await session.commit()
    assert w.a.next_action_at == _sh(2026, 12, 4, 8, 30)
    assert await w.scan_at(_sh(2026, 11, 30, 9, 0)) == set()  # would have been due without it
    assert await w.scan_at(_sh(2026, 12, 4, 8, 30)) == periodic
    assert await w.scan_at(_sh(2026, 12, 18, 8, 30)) == periodic  # and every 10 after


async def test_urgent_items_use_the_shorter_ladder(session, sessions, clock):
    w = await Walk(session, sessions, clock).build(created=_sh(2026, 12, 9, 9, 0), urgent=True)
    remind = await w.scan_at(_sh(2026, 12, 10, 8, 30))  # -2 working days
    assert remind == w.both("remind", w.owner, w.liaison)
    # On the due day; the periodic request (every 3 days) falls due too, and the urge
    # stands in for it.
    urge = await w.scan_at(_sh(2026, 12, 14, 8, 30))
    assert urge == w.both("urge", w.owner, w.liaison, w.leader)
    overdue = await w.scan_at(_sh(2026, 12, 15, 8, 30))
    assert overdue == w.both("overdue", w.owner, w.leader, w.principal)
    escalate = await w.scan_at(_sh(2026, 12, 16, 8, 30))
    assert escalate == w.both("escalate", w.principal, w.sup1, w.sup2)


async def test_a_missed_ladder_yields_one_step(session, sessions, clock):
    w = await Walk(session, sessions, clock).build(created=_sh(2026, 12, 4, 9, 0))
    assert await w.scan_at(_sh(2026, 12, 4, 10, 0)) == set()
    # The service was down from 4 Dec to 21 Dec: remind, urge, overdue and escalate all passed.
    rows = await w.scan_at(_sh(2026, 12, 21, 10, 0))
    assert rows == w.both("escalate", w.principal, w.sup1, w.sup2)  # one step, no burst
    event = await session.scalar(
        select(AuditEvent).where(
            AuditEvent.action == "ladder_step", AuditEvent.detail["step"].as_string() == "escalate"
        )
    )
    assert event is not None
    assert event.detail["skipped"] == ["remind", "urge", "overdue", "periodic"]
    assert await w.scan_at(_sh(2026, 12, 21, 10, 0)) == set()
    assert await w.scan_at(_sh(2026, 12, 31, 18, 0)) == set()  # next periodic: 5 Jan 2027
    assert await w.scan_at(_sh(2027, 1, 4, 8, 30)) == set()  # 元旦 is a day off, even unlisted
    assert await w.scan_at(_sh(2027, 1, 5, 8, 30)) == {("periodic", w.owner.id, "telegram")}


async def test_an_extension_restarts_the_ladder(session, sessions, clock):
    w = await Walk(session, sessions, clock).build(created=_sh(2026, 12, 4, 9, 0))
    assert await w.scan_at(_sh(2026, 12, 7, 9, 0)) == w.both("remind", w.owner)
    w.clock.set(_sh(2026, 12, 8, 11, 0))
    await session.refresh(w.a)
    w.a.due_on = date(2026, 12, 31)  # extension approved: remind again 5 days before
    w.a.last_report_at = w.clock.now()
    await reschedule(session, w.a, clock=w.clock, tz=SHANGHAI)
    await session.commit()
    assert w.a.next_action_at == _sh(2026, 12, 22, 8, 30)  # the periodic request comes first
    assert await w.scan_at(_sh(2026, 12, 11, 9, 0)) == set()  # the old urge is gone
    # 24 Dec: the remind for the new deadline; the periodic request missed on 22 Dec rides on it
    assert await w.scan_at(_sh(2026, 12, 24, 9, 0)) == w.both("remind", w.owner)
