"""The ladder planner and `reschedule`: step moments, done steps, missed ladders, periodic."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st

from models import ItemState, Policy, Source
from supervision.audit import Actor
from supervision.calendar import DayOverride, WorkCalendar
from supervision.clock import FixedClock
from supervision.lifecycle import transition_assignment
from supervision.policy import DEFAULT_LADDER, URGENT_LADDER, build_policy, ensure_default_policies
from supervision.schedule import (
    AssignmentFacts,
    Ladder,
    SendWindow,
    advance,
    due_steps,
    next_step,
    plan_tick,
    reschedule,
)
from testing import SHANGHAI
from testing import factories as f

CAL = WorkCalendar()
DUE = date(2026, 12, 14)  # a Monday
START = datetime(2026, 11, 2, 9, 0, tzinfo=SHANGHAI)


def _sh(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


def _policy(urgent: bool = False) -> Policy:
    return build_policy(
        "p", Source.INSTRUCTION, urgent, URGENT_LADDER if urgent else DEFAULT_LADDER
    )


LADDER = Ladder.of(_policy())


def _facts(**kw) -> AssignmentFacts:
    base = {"state": "open", "due_on": DUE, "started_at": START}
    base.update(kw)
    return AssignmentFacts(**base)


def _next(facts: AssignmentFacts, after: datetime, ladder: Ladder = LADDER):
    return next_step(ladder, facts, CAL, SHANGHAI, None, after)


def test_ladder_of_policy_orders_deadline_steps_and_separates_periodic():
    assert [s.kind for s in LADDER.deadline_steps] == ["remind", "urge", "overdue", "escalate"]
    assert LADDER.periodic is not None and LADDER.periodic.offset_days == 10
    assert LADDER.window == SendWindow(time(8, 30), time(18, 0), True)
    assert LADDER.notice is not None and LADDER.notice.roles == ("owner",)
    policy = _policy()
    next(s for s in policy.steps if s.kind == "remind").active = False
    assert [s.kind for s in Ladder.of(policy).deadline_steps] == ["urge", "overdue", "escalate"]


def test_first_step_is_the_periodic_request_then_remind():
    plan = _next(_facts(), START)
    assert plan is not None and plan.kind == "periodic"
    assert plan.at == _sh(2026, 11, 16, 8, 30)  # 10 working days after 2 Nov
    far = _facts(started_at=_sh(2026, 11, 30, 9, 0))
    plan = _next(far, _sh(2026, 11, 30, 9, 0))
    assert plan is not None and plan.kind == "remind"
    assert plan.at == _sh(2026, 12, 7, 8, 30) and plan.occurrence == "2026-12-07"


def test_deadline_moments_skip_done_steps():
    facts = _facts(started_at=_sh(2026, 12, 1, 9, 0))
    moments = []
    now = _sh(2026, 12, 1, 9, 0)
    for _ in range(4):
        plan = _next(facts, now)
        assert plan is not None and not plan.step.is_periodic
        moments.append((plan.kind, plan.at))
        now = plan.at
        assert due_steps(LADDER, facts, CAL, SHANGHAI, now)[0] == plan
        facts = advance(facts, [plan], now)
        facts = AssignmentFacts(**{**_asdict(facts), "last_periodic_at": now})
    assert moments == [
        ("remind", _sh(2026, 12, 7, 8, 30)),
        ("urge", _sh(2026, 12, 11, 8, 30)),
        ("overdue", _sh(2026, 12, 15, 8, 30)),
        ("escalate", _sh(2026, 12, 17, 8, 30)),
    ]
    after = _next(facts, now)
    assert after is not None and after.kind == "periodic"  # only periodic remains


def _asdict(facts: AssignmentFacts) -> dict:
    return {name: getattr(facts, name) for name in AssignmentFacts.__slots__}


def test_missed_ladder_yields_only_the_latest_step():
    facts = _facts(started_at=_sh(2026, 12, 1, 9, 0))
    now = _sh(2026, 12, 21, 10, 0)  # after escalate (17 Dec)
    steps = due_steps(LADDER, facts, CAL, SHANGHAI, now)
    assert len(steps) == 1
    assert steps[0].kind == "escalate"
    # the missed periodic request is not sent on top: the escalation stands in for it
    assert steps[0].skipped == ("remind", "urge", "overdue", "periodic")
    facts = advance(facts, steps, now)
    assert facts.last_periodic_at == now and facts.last_step_at == now
    nxt = _next(facts, now)
    assert nxt is not None and nxt.kind == "periodic" and nxt.at > now
    # a periodic request due alone is sent
    alone = _facts(started_at=_sh(2026, 11, 2, 9, 0))
    steps = due_steps(LADDER, alone, CAL, SHANGHAI, _sh(2026, 11, 16, 9, 0))
    assert [s.kind for s in steps] == ["periodic"] and steps[0].skipped == ()


def test_moved_deadline_starts_a_fresh_ladder():
    fired = _facts(
        ladder_due_on=DUE,
        last_step="escalate",
        last_step_at=_sh(2026, 12, 17, 8, 30),
        last_periodic_at=_sh(2026, 12, 17, 8, 30),
    )
    assert _next(fired, _sh(2026, 12, 17, 9, 0)).kind == "periodic"
    extended = AssignmentFacts(**{**_asdict(fired), "due_on": date(2027, 1, 29)})
    plan = _next(extended, _sh(2026, 12, 17, 9, 0))
    assert plan is not None and plan.kind == "periodic"  # 31 Dec comes before the remind
    only_deadline = Ladder(LADDER.policy_id, LADDER.window, LADDER.deadline_steps, None)
    plan = _next(extended, _sh(2026, 12, 17, 9, 0), only_deadline)
    assert plan is not None and plan.kind == "remind" and plan.occurrence == "2027-01-22"


def test_report_resets_the_periodic_clock():
    base = _facts(due_on=date(2027, 6, 30))
    assert _next(base, START).at == _sh(2026, 11, 16, 8, 30)
    reported = AssignmentFacts(**{**_asdict(base), "last_report_at": _sh(2026, 11, 13, 15, 0)})
    assert _next(reported, START).at == _sh(2026, 11, 27, 8, 30)


def test_holidays_and_window_shift_moments():
    cal = WorkCalendar([DayOverride(date(2026, 12, 7), False)])
    facts = _facts(started_at=_sh(2026, 12, 1, 9, 0))
    only_deadline = Ladder(None, SendWindow(time(9, 0), time(17, 0)), LADDER.deadline_steps, None)
    plan = next_step(only_deadline, facts, cal, SHANGHAI, None, _sh(2026, 12, 1, 9, 0))
    assert plan is not None and plan.at == _sh(2026, 12, 4, 9, 0)  # 7 Dec is now a holiday
    window = SendWindow(time(7, 0), time(8, 0))
    plan = next_step(only_deadline, facts, cal, SHANGHAI, window, _sh(2026, 12, 1, 9, 0))
    assert plan is not None and plan.at == _sh(2026, 12, 4, 7, 0)


def test_urgent_ladder_is_shorter():
    urgent = Ladder.of(_policy(urgent=True))
    facts = _facts(started_at=_sh(2026, 12, 1, 9, 0))
    kinds = [(s.kind, s.offset_days) for s in urgent.deadline_steps]
    assert kinds == [("remind", -2), ("urge", 0), ("overdue", 1), ("escalate", 2)]
    plan = _next(facts, _sh(2026, 12, 1, 9, 0), urgent)
    assert plan is not None and plan.kind == "periodic" and plan.at == _sh(2026, 12, 4, 8, 30)
    no_periodic = Ladder(urgent.policy_id, urgent.window, urgent.deadline_steps, None)
    plan = _next(facts, _sh(2026, 12, 1, 9, 0), no_periodic)
    assert plan is not None and plan.kind == "remind" and plan.at == _sh(2026, 12, 10, 8, 30)


def test_only_open_assignments_have_steps():
    for state in ("completion_requested", "closed", "cancelled"):
        assert _next(_facts(state=state), START) is None
        assert due_steps(LADDER, _facts(state=state), CAL, SHANGHAI, _sh(2027, 1, 4, 9)) == []


async def test_reschedule_sets_and_clears_next_action_at(session, clock):
    await ensure_default_policies(session)
    unit = await f.unit(session)
    owner = await f.person(session, unit=unit)
    item = await f.item(session, due_on=date(2026, 11, 20))
    a = await f.assignment(session, item=item, unit=unit, owner=owner)
    a.created_at = clock.now()
    assert await reschedule(session, a, clock=clock) == _sh(2026, 11, 13, 8, 30)  # remind
    assert a.next_action_at == _sh(2026, 11, 13, 8, 30)
    a.due_on = date(2026, 12, 14)  # extension approved
    assert await reschedule(session, a, clock=clock) == _sh(2026, 11, 16, 8, 30)  # periodic
    a.last_report_at = _sh(2026, 11, 10, 16, 0)  # a report moves the periodic request
    assert await reschedule(session, a, clock=clock) == _sh(2026, 11, 24, 8, 30)
    await transition_assignment(session, a, ItemState.CLOSED, actor=Actor.system(), clock=clock)
    assert a.next_action_at is None
    assert await reschedule(session, a, clock=clock) is None
    later = FixedClock(_sh(2026, 11, 25, 10, 0))
    await transition_assignment(session, a, ItemState.OPEN, actor=Actor.system(), clock=later)
    assert a.next_action_at == _sh(2026, 11, 24, 8, 30)  # reopened: the missed request is due
    await session.commit()


async def test_reschedule_urgent_item_uses_the_urgent_policy(session, clock):
    await ensure_default_policies(session)
    unit = await f.unit(session)
    item = await f.item(session, due_on=date(2026, 11, 20), urgent=True)
    a = await f.assignment(session, item=item, unit=unit)
    a.created_at = clock.now()
    # urgent: periodic every 3 working days comes first (5 Nov), remind -2 on 18 Nov
    assert await reschedule(session, a, clock=clock) == _sh(2026, 11, 5, 8, 30)


async def test_reschedule_without_policy_clears(session, clock):
    unit = await f.unit(session)
    item = await f.item(session)
    a = await f.assignment(session, item=item, unit=unit)
    a.next_action_at = clock.now()
    assert await reschedule(session, a, clock=clock) is None
    assert a.next_action_at is None


def test_plan_tick_agrees_with_due_steps_advance_and_next_step():
    scenarios = [
        _facts(),
        _facts(started_at=_sh(2026, 12, 1, 9, 0)),
        _facts(ladder_due_on=DUE, last_step="remind", last_step_at=_sh(2026, 12, 7, 8, 30)),
        _facts(ladder_due_on=date(2026, 11, 30), last_step="escalate", last_step_at=START),
        _facts(last_report_at=_sh(2026, 12, 10, 15, 0), last_periodic_at=_sh(2026, 12, 1, 9)),
        _facts(state="closed"),
    ]
    moments = [_sh(2026, 11, 16, 8, 30), _sh(2026, 12, 11, 20, 0), _sh(2026, 12, 21, 10, 0)]
    for ladder in (LADDER, Ladder.of(_policy(urgent=True))):
        for facts in scenarios:
            for now in moments:
                tick = plan_tick(ladder, facts, CAL, SHANGHAI, now)
                steps = due_steps(ladder, facts, CAL, SHANGHAI, now)
                after = advance(facts, steps, now)
                upcoming = next_step(ladder, after, CAL, SHANGHAI, None, now)
                assert list(tick.fired) == steps
                assert tick.facts == after
                assert tick.next_at == (upcoming.at if upcoming else None)
                assert tick.next_at is None or tick.next_at > now


@settings(max_examples=150, deadline=None)
@given(
    due_offset=st.integers(min_value=-10, max_value=60),
    urgent=st.booleans(),
    gaps=st.lists(st.integers(min_value=1, max_value=60 * 24 * 9), min_size=1, max_size=40),
)
def test_scan_loop_invariants(due_offset, urgent, gaps):
    """Scanning at arbitrary later times: each step at most once, in order, never early."""
    ladder = Ladder.of(_policy(urgent=urgent))
    due = CAL.add_workdays(START.date(), due_offset).day if due_offset else START.date()
    facts = _facts(due_on=due)
    now = START
    fired_kinds: list[str] = []
    periodic_days: list[date] = []
    for gap in gaps:
        now = now + timedelta(minutes=gap)
        tick = plan_tick(ladder, facts, CAL, SHANGHAI, now)
        assert len(tick.fired) <= 1  # one message per assignment per scan
        for planned in tick.fired:
            assert planned.at <= now
            if planned.step.is_periodic or "periodic" in planned.skipped:
                periodic_days.append(now.astimezone(SHANGHAI).date())
            if not planned.step.is_periodic:
                skipped = [k for k in planned.skipped if k != "periodic"]
                fired_kinds.extend([*skipped, planned.kind])
        assert tick.next_at is None or tick.next_at > now
        facts = tick.facts
    order = [s.kind for s in ladder.deadline_steps]
    assert fired_kinds == order[: len(fired_kinds)]  # a prefix, in ladder order, no repeats
    passed = [
        s.kind
        for s in ladder.deadline_steps
        if datetime.combine(CAL.add_workdays(due, s.offset_days).day, time(8, 30), SHANGHAI) <= now
    ]
    assert fired_kinds == passed
    assert ladder.periodic is not None
    for before, after in pairwise(periodic_days):
        assert CAL.workdays_between(before, after) >= ladder.periodic.offset_days
