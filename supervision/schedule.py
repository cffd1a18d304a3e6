"""When the next ladder step of an assignment is due (交办通知; 提醒 → 催办 → 督办 → 升级).

Also 定期报告, the periodic report request.

The planner (`next_step`, `due_steps`) is pure; `reschedule` stores its answer in
``assignment.next_action_at`` so the scan reads only what is due. Imports models and
supervision only.

Rules:
- the 交办通知 (``assign`` step) is due once each time the assignment is made or handed over
  (``assigned_at``), at that moment (the scan holds it to the send window); it stands apart
  from the deadline steps: a deadline step due at the same time is sent as well; under a
  ladder without the step, the scan marks it done (switching the step back on later does not
  send old notices);
- a deadline step is due at the send-window opening of the working day ``due_on`` shifted by
  its ``offset_days`` working days; steps up to ``last_step_at`` are done for the deadline
  ``ladder_due_on`` (a moved deadline starts a fresh ladder);
- when several deadline steps are overdue (the service was down), only the latest is sent and
  the earlier ones are reported as skipped;
- a periodic request is due every N working days after the latest of: assignment created,
  last report, last periodic request; a missed one is sent once, and when a deadline step is
  sent at the same time it stands in for the request (one message per assignment per scan);
- only ``open`` assignments have steps: a completion request pauses the ladder, and closed or
  cancelled work never produces messages.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time
from functools import lru_cache
from zoneinfo import ZoneInfo

from sqlalchemy import Select, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    MILESTONE_STEPS,
    Assignment,
    Item,
    ItemState,
    Milestone,
    MilestoneState,
    Policy,
    StepKind,
)
from supervision.calendar import WorkCalendar
from supervision.calendar_store import load_calendar
from supervision.clock import Clock
from supervision.policy import load_policy_for, policy_for

__all__ = [
    "OFFICE_TZ",
    "AssignmentFacts",
    "Ladder",
    "PlannedStep",
    "SendWindow",
    "StepRule",
    "Tick",
    "advance",
    "due_steps",
    "governed_items",
    "next_action_at",
    "next_step",
    "notice_occurrence",
    "notice_waived",
    "plan_tick",
    "reschedule",
    "step_moment",
]

OFFICE_TZ = ZoneInfo("Asia/Shanghai")
DEFAULT_WINDOW_START = time(8, 30)
DEFAULT_WINDOW_END = time(18, 0)


@dataclass(frozen=True, slots=True)
class SendWindow:
    """Office hours in which messages go out (working days only unless said otherwise)."""

    start: time
    end: time
    workdays_only: bool = True

    @classmethod
    def of(cls, policy: Policy) -> SendWindow:
        """The window of a policy (the policy's window wins over the settings')."""
        # Unflushed policies have no column defaults yet: fall back to the model's defaults.
        return cls(
            policy.send_window_start or DEFAULT_WINDOW_START,
            policy.send_window_end or DEFAULT_WINDOW_END,
            policy.workdays_only is not False,
        )


@dataclass(frozen=True, slots=True)
class StepRule:
    """One ladder step as plain data, detached from the session."""

    kind: str
    position: int
    offset_days: int
    roles: tuple[str, ...]
    channels: tuple[str, ...]
    template: str
    ignore_send_window: bool = False

    @property
    def is_periodic(self) -> bool:
        """True for the 'every N working days without a report' step."""
        return self.kind == StepKind.PERIODIC

    @property
    def is_notice(self) -> bool:
        """True for the 交办通知, sent when the assignment is made or handed over."""
        return self.kind == StepKind.ASSIGN

    @property
    def for_milestones(self) -> bool:
        """True for a step of a milestone's ladder (not an assignment's)."""
        return self.kind in MILESTONE_STEPS


@dataclass(frozen=True, slots=True, eq=False)
class Ladder:
    """A policy's active steps and send window, ready for planning (compared by identity)."""

    policy_id: int | None
    window: SendWindow
    deadline_steps: tuple[StepRule, ...]
    periodic: StepRule | None
    notice: StepRule | None = None
    #: a milestone's own short ladder (节点提醒 → 节点催办 → 节点逾期督办), by offset
    milestone_steps: tuple[StepRule, ...] = ()

    @property
    def for_milestones(self) -> Ladder:
        """The ladder a milestone follows: the milestone steps as its deadline steps."""
        key = (self.policy_id, self.window, self.milestone_steps, None, None, ())
        ladder = _LADDERS.get(key)
        if ladder is None:
            ladder = _LADDERS[key] = Ladder(*key)
        return ladder

    @classmethod
    def of(cls, policy: Policy) -> Ladder:
        """The ladder of a policy with its steps loaded (inactive steps left out)."""
        rules = [
            StepRule(
                kind=s.kind,
                position=s.position,
                offset_days=s.offset_days,
                roles=tuple(s.roles or ()),
                channels=tuple(s.channels or ()),
                template=s.template or s.kind,
                ignore_send_window=bool(s.ignore_send_window),
            )
            for s in policy.steps
            if s.active is not False  # None: a new step not yet flushed (default True)
        ]
        periodic = [r for r in rules if r.is_periodic and r.offset_days >= 1]
        notices = [r for r in rules if r.is_notice]
        milestone = sorted(
            (r for r in rules if r.for_milestones), key=lambda r: (r.offset_days, r.position)
        )
        deadline = sorted(
            (r for r in rules if not (r.is_periodic or r.is_notice or r.for_milestones)),
            key=lambda r: (r.offset_days, r.position),
        )
        key: _LadderKey = (
            policy.id,
            SendWindow.of(policy),
            tuple(deadline),
            min(periodic, key=lambda r: r.position) if periodic else None,
            min(notices, key=lambda r: r.position) if notices else None,
            tuple(milestone),
        )
        # The same content gives the same ladder object, so the memoised step moments below
        # (keyed by identity) serve every load of an unchanged policy, not only one batch.
        ladder = _LADDERS.get(key)
        if ladder is None:
            if len(_LADDERS) >= 256:
                _LADDERS.clear()
            ladder = _LADDERS[key] = cls(*key)
        return ladder


_LadderKey = tuple[
    int | None,
    SendWindow,
    tuple[StepRule, ...],
    StepRule | None,
    StepRule | None,
    tuple[StepRule, ...],
]
_LADDERS: dict[_LadderKey, Ladder] = {}


@dataclass(frozen=True, slots=True)
class AssignmentFacts:
    """What the planner needs to know about one assignment."""

    state: str
    due_on: date
    started_at: datetime
    last_report_at: datetime | None = None
    ladder_due_on: date | None = None
    last_step: str | None = None
    last_step_at: datetime | None = None
    last_periodic_at: datetime | None = None
    assigned_at: datetime | None = None
    assign_noticed_at: datetime | None = None

    @property
    def notice_pending(self) -> bool:
        """True while the 交办通知 of the latest assignment or handover is not sent."""
        return self.assigned_at is not None and (
            self.assign_noticed_at is None or self.assign_noticed_at < self.assigned_at
        )

    @classmethod
    def of(cls, assignment: Assignment, *, now: datetime) -> AssignmentFacts:
        """Facts of an ORM assignment (``now`` stands in for a not yet flushed created_at)."""
        return cls(
            state=assignment.state or ItemState.OPEN,
            due_on=assignment.due_on,
            started_at=assignment.created_at or now,
            last_report_at=assignment.last_report_at,
            ladder_due_on=assignment.ladder_due_on,
            last_step=assignment.last_step,
            last_step_at=assignment.last_step_at,
            last_periodic_at=assignment.last_periodic_at,
            assigned_at=assignment.assigned_at,
            assign_noticed_at=assignment.assign_noticed_at,
        )

    def stepped(self, kind: str, now: datetime) -> AssignmentFacts:
        """These facts after deadline step ``kind`` was sent at ``now``."""
        # Built directly: dataclasses.replace costs several times more, and the scan calls
        # this for every claimed assignment.
        return AssignmentFacts(
            self.state, self.due_on, self.started_at, self.last_report_at,
            ladder_due_on=self.due_on, last_step=kind, last_step_at=now,
            last_periodic_at=self.last_periodic_at, assigned_at=self.assigned_at,
            assign_noticed_at=self.assign_noticed_at,
        )  # fmt: skip

    def polled(self, now: datetime) -> AssignmentFacts:
        """These facts after a periodic report request was sent (or stood in for) at ``now``."""
        return AssignmentFacts(
            self.state, self.due_on, self.started_at, self.last_report_at,
            ladder_due_on=self.ladder_due_on, last_step=self.last_step,
            last_step_at=self.last_step_at, last_periodic_at=now, assigned_at=self.assigned_at,
            assign_noticed_at=self.assign_noticed_at,
        )  # fmt: skip

    def noticed(self, now: datetime) -> AssignmentFacts:
        """These facts after the 交办通知 was sent at ``now``."""
        return replace(self, assign_noticed_at=now)


@dataclass(frozen=True, slots=True)
class PlannedStep:
    """A step to send: which, for which occurrence, when, and the earlier ones it replaces."""

    step: StepRule
    occurrence: str  # the step's local date, part of the outbox key
    at: datetime  # aware UTC: the send-window opening of the step's day
    skipped: tuple[str, ...] = ()  # deadline steps missed and not sent (oldest first)

    @property
    def kind(self) -> str:
        """The step kind (remind, urge, overdue, escalate, periodic)."""
        return self.step.kind


def step_moment(day: date, window: SendWindow, tz: ZoneInfo) -> datetime:
    """The send-window opening of ``day`` in the office time zone, as aware UTC."""
    return _moment(day, window.start, tz)


# A scan plans thousands of assignments that share a few deadlines and step offsets. These
# helpers are pure (a WorkCalendar never changes after it is built, and hashes by identity),
# so their answers are memoised. The caches hold on to the calendars and ladders they saw;
# their sizes keep that to a few MB even when every call brings a freshly loaded calendar.
@lru_cache(maxsize=16384)
def _moment(day: date, start: time, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, start, tzinfo=tz).astimezone(UTC)


@lru_cache(maxsize=8192)
def _shift(calendar: WorkCalendar, day: date, n: int) -> date:
    return calendar.add_workdays(day, n).day


def _deadline_pending(
    ladder: Ladder,
    facts: AssignmentFacts,
    calendar: WorkCalendar,
    tz: ZoneInfo,
    window: SendWindow,
) -> list[PlannedStep]:
    """The deadline steps not yet done, in ladder order (which is also time order)."""
    steps = _deadline_steps(ladder, facts.due_on, calendar, window.start, tz)
    done_until = facts.last_step_at
    if facts.ladder_due_on != facts.due_on or done_until is None:
        return list(steps)
    return [p for p in steps if p.at > done_until]


@lru_cache(maxsize=2048)
def _deadline_steps(
    ladder: Ladder, due_on: date, calendar: WorkCalendar, start: time, tz: ZoneInfo
) -> tuple[PlannedStep, ...]:
    """Every deadline step of ``ladder`` for ``due_on``; memoised like `_shift`."""
    # Steps are sorted by offset and add_workdays is monotonic, so moments never decrease.
    out = []
    for rule in ladder.deadline_steps:
        day = _shift(calendar, due_on, rule.offset_days)
        out.append(PlannedStep(rule, day.isoformat(), _moment(day, start, tz)))
    return tuple(out)


def _latest_due(pending: list[PlannedStep], now: datetime) -> tuple[PlannedStep | None, int]:
    """The latest step due at ``now`` (earlier due ones marked skipped) and the due count."""
    due = 0
    while due < len(pending) and pending[due].at <= now:
        due += 1
    if not due:
        return None, 0
    latest = pending[due - 1]
    if due > 1:
        latest = replace(latest, skipped=tuple(p.kind for p in pending[: due - 1]))
    return latest, due


def _deadline_plan(
    ladder: Ladder,
    facts: AssignmentFacts,
    calendar: WorkCalendar,
    tz: ZoneInfo,
    window: SendWindow,
    after: datetime,
) -> PlannedStep | None:
    """The deadline step to act on: the latest overdue one, else the next one to come."""
    pending = _deadline_pending(ladder, facts, calendar, tz, window)
    latest, _ = _latest_due(pending, after)
    return latest or (pending[0] if pending else None)


def _periodic_plan(
    ladder: Ladder,
    facts: AssignmentFacts,
    calendar: WorkCalendar,
    tz: ZoneInfo,
    window: SendWindow,
) -> PlannedStep | None:
    """The next periodic report request: N working days after the latest report or request."""
    rule = ladder.periodic
    if rule is None:
        return None
    anchor = facts.started_at
    if facts.last_report_at is not None and facts.last_report_at > anchor:
        anchor = facts.last_report_at
    if facts.last_periodic_at is not None and facts.last_periodic_at > anchor:
        anchor = facts.last_periodic_at
    return _periodic_step(ladder, anchor.astimezone(tz).date(), calendar, window.start, tz)


@lru_cache(maxsize=8192)
def _periodic_step(
    ladder: Ladder, anchor: date, calendar: WorkCalendar, start: time, tz: ZoneInfo
) -> PlannedStep:
    """The ladder's periodic request N working days after the local day ``anchor``; memoised
    (keyed by the ladder, which hashes by identity, rather than by its step's fields)."""
    rule = ladder.periodic
    assert rule is not None
    day = _shift(calendar, anchor, rule.offset_days)
    return PlannedStep(rule, day.isoformat(), _moment(day, start, tz))


def notice_occurrence(assigned_at: datetime) -> str:
    """The occurrence of a 交办通知 in its outbox key: the moment of the assignment, in UTC."""
    return assigned_at.astimezone(UTC).strftime("%Y%m%dT%H%M%S")


def _notice_plan(ladder: Ladder, facts: AssignmentFacts) -> PlannedStep | None:
    """The 交办通知 of the latest assignment or handover, while it is not sent."""
    rule = ladder.notice
    if rule is None or facts.assigned_at is None or not facts.notice_pending:
        return None
    at = facts.assigned_at.astimezone(UTC)
    return PlannedStep(rule, notice_occurrence(at), at)


def _plans(
    ladder: Ladder,
    facts: AssignmentFacts,
    calendar: WorkCalendar,
    tz: ZoneInfo,
    window: SendWindow | None,
    after: datetime,
) -> list[PlannedStep]:
    """Deadline and periodic candidates, earliest first (deadline first on a tie)."""
    if facts.state != ItemState.OPEN:
        return []
    win = window or ladder.window
    plans = [
        p
        for p in (
            _deadline_plan(ladder, facts, calendar, tz, win, after),
            _periodic_plan(ladder, facts, calendar, tz, win),
            _notice_plan(ladder, facts),
        )
        if p is not None
    ]
    plans.sort(key=lambda p: (p.at, p.step.is_periodic))
    return plans


def _as_ladder(policy: Policy | Ladder) -> Ladder:
    return policy if isinstance(policy, Ladder) else Ladder.of(policy)


def next_step(
    policy: Policy | Ladder,
    facts: AssignmentFacts,
    calendar: WorkCalendar,
    tz: ZoneInfo,
    window: SendWindow | None,
    after: datetime,
) -> PlannedStep | None:
    """The first step to act on at or after ``after`` (already due ones first); None if done."""
    plans = _plans(_as_ladder(policy), facts, calendar, tz, window, after)
    return plans[0] if plans else None


def due_steps(
    policy: Policy | Ladder,
    facts: AssignmentFacts,
    calendar: WorkCalendar,
    tz: ZoneInfo,
    now: datetime,
    window: SendWindow | None = None,
) -> list[PlannedStep]:
    """The steps to send at ``now``: a due 交办通知, and a deadline step (standing in for a due
    periodic request, which it lists as skipped), else a periodic request."""
    due = [p for p in _plans(_as_ladder(policy), facts, calendar, tz, window, now) if p.at <= now]
    notice = [p for p in due if p.step.is_notice]
    due = [p for p in due if not p.step.is_notice]
    deadline = [p for p in due if not p.step.is_periodic]
    if deadline and len(due) > 1:
        due = [replace(deadline[0], skipped=(*deadline[0].skipped, StepKind.PERIODIC))]
    return notice + due


@dataclass(frozen=True, slots=True)
class Tick:
    """What one scan does to one assignment: steps to send, new facts, next moment."""

    fired: tuple[PlannedStep, ...]
    facts: AssignmentFacts
    next_at: datetime | None


def plan_tick(
    ladder: Ladder,
    facts: AssignmentFacts,
    calendar: WorkCalendar,
    tz: ZoneInfo,
    now: datetime,
) -> Tick:
    """`due_steps`, `advance` and `next_step` in one pass (the scan's hot path)."""
    if facts.state != ItemState.OPEN:
        return Tick((), facts, None)
    window = ladder.window
    fired: list[PlannedStep] = []
    notice = _notice_plan(ladder, facts)
    if (notice is not None and notice.at <= now) or (
        ladder.notice is None and facts.notice_pending
    ):
        # Sent now; or the step is switched off, which means never, not later when it is back.
        facts = facts.noticed(now)
    pending = _deadline_pending(ladder, facts, calendar, tz, window)
    latest, due = _latest_due(pending, now)
    upcoming = pending[due] if due < len(pending) else None
    if latest is not None:
        fired.append(latest)
        facts = facts.stepped(latest.kind, now)
    periodic = _periodic_plan(ladder, facts, calendar, tz, window)
    if periodic is not None and periodic.at <= now:
        if fired:
            # One message per assignment per tick: the deadline step stands in for the request.
            fired[0] = replace(fired[0], skipped=(*fired[0].skipped, periodic.kind))
        else:
            fired.append(periodic)
        facts = facts.polled(now)
        periodic = _periodic_plan(ladder, facts, calendar, tz, window)
    if notice is not None and notice.at <= now:
        fired.insert(0, notice)
        notice = None
    moments = [p.at for p in (upcoming, periodic, notice) if p is not None]
    return Tick(tuple(fired), facts, min(moments) if moments else None)


def advance(facts: AssignmentFacts, fired: Iterable[PlannedStep], now: datetime) -> AssignmentFacts:
    """The facts after ``fired`` steps were sent at ``now`` (a skipped request counts as sent)."""
    for planned in fired:
        if planned.step.is_notice:
            facts = facts.noticed(now)
            continue
        if planned.step.is_periodic or StepKind.PERIODIC in planned.skipped:
            facts = facts.polled(now)
        if not planned.step.is_periodic:
            facts = facts.stepped(planned.kind, now)
    return facts


async def governed_items(session: AsyncSession, policy: Policy) -> Select[int]:
    """``SELECT id`` of the items whose source and urgency ``policy`` governs."""
    items = select(Item.id)
    if policy.source is not None:
        items = items.where(Item.source == policy.source)
        # An urgent item without an urgent policy of its own follows the normal one.
        urgent_has_own = (
            not policy.urgent and await policy_for(session, policy.source, True) is not None
        )
        if policy.urgent or urgent_has_own:
            items = items.where(Item.urgent.is_(policy.urgent))
    return items


async def replan_policy(session: AsyncSession, policy: Policy, *, clock: Clock) -> int:
    """After a policy edit, have the next scan re-plan every open assignment it governs.

    Setting ``next_action_at`` to now is enough: the scan fires only steps whose moment has
    passed (once, by key) and moves the others to their new moment, so a step moved earlier
    is not held back until its old time. Returns how many assignments were marked.
    """
    items = await governed_items(session, policy)
    result = await session.execute(
        update(Assignment)
        .where(Assignment.state == ItemState.OPEN, Assignment.item_id.in_(items))
        .values(next_action_at=clock.now())
        .execution_options(synchronize_session=False)
    )
    # The milestones' own ladders follow the same policy.
    await session.execute(
        update(Milestone)
        .where(Milestone.state == MilestoneState.OPEN, Milestone.item_id.in_(items))
        .values(next_action_at=clock.now())
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def reschedule(
    session: AsyncSession,
    assignment: Assignment,
    *,
    clock: Clock,
    calendar: WorkCalendar | None = None,
    policy: Policy | Ladder | None = None,
    tz: ZoneInfo | None = None,
) -> datetime | None:
    """Set ``assignment.next_action_at`` to its next ladder step (None when nothing is left).

    Call it whenever an assignment is written or changed: created, deadline moved, report
    filed (set ``last_report_at`` first), extension approved, state changed. A caller that
    reschedules many assignments passes each policy's ``Ladder`` (built once) as ``policy``.
    """
    now = clock.now()
    if assignment.state not in (None, ItemState.OPEN):
        assignment.next_action_at = None
        return None
    if policy is None:
        row = (
            await session.execute(
                select(Item.source, Item.urgent).where(Item.id == assignment.item_id)
            )
        ).one_or_none()
        if row is not None:
            policy = await load_policy_for(session, row.source, row.urgent)
    if policy is None:
        assignment.next_action_at = None
        return None
    if calendar is None:
        calendar = await load_calendar(session)
    ladder = _as_ladder(policy)
    facts = AssignmentFacts.of(assignment, now=now)
    if notice_waived(ladder, facts):
        assignment.assign_noticed_at = assignment.assigned_at
    assignment.next_action_at = next_action_at(ladder, facts, calendar, tz or OFFICE_TZ, now)
    return assignment.next_action_at


def notice_waived(ladder: Ladder, facts: AssignmentFacts) -> bool:
    """True when no 交办通知 is owed for a pending notice: the ladder has no such step (none
    is owed, not even once the step is switched on); `reschedule` then marks it done."""
    return ladder.notice is None and facts.notice_pending


def next_action_at(
    ladder: Ladder, facts: AssignmentFacts, calendar: WorkCalendar, tz: ZoneInfo, now: datetime
) -> datetime | None:
    """When the scan should next look at an assignment with these facts (None: never)."""
    plan = next_step(ladder, facts, calendar, tz, None, now)
    return plan.at if plan else None
