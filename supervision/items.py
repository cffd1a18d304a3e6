"""Creating and updating supervised items (督查事项) with their assignments, and listing them.

The one use-case behind the import, the web admin and the API. Imports only `models/` and
`supervision/`; I/O goes through the session it is given.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from models import (
    ACTIVE_STATES,
    Assignment,
    AssignmentRole,
    Item,
    ItemState,
    Milestone,
    MilestoneState,
    Person,
    Policy,
    Source,
    Unit,
)
from supervision.access import Scope
from supervision.audit import Actor, apply_changes, record
from supervision.calendar import DueDate, WorkCalendar
from supervision.calendar_store import load_calendar
from supervision.clock import Clock
from supervision.deadlines import (
    DeadlineError,
    recompute_provisional,
    resolve_due,
)
from supervision.errors import InvalidTransition, NotFound, ValidationFailed
from supervision.lifecycle import sync_item_state, transition_assignment
from supervision.light import Light, Staged, assignment_light, light_for, milestone_light, worst
from supervision.policy import due_days_of, load_policy_for
from supervision.schedule import reschedule
from supervision.units import subtree

__all__ = [
    "AssigneeSpec",
    "ItemContext",
    "ItemRow",
    "ItemSpec",
    "SaveOutcome",
    "SaveResult",
    "apply_due",
    "due_in_force",
    "due_in_force_column",
    "item_light",
    "list_items",
    "save_item",
]

log = logging.getLogger("duban.items")

MAX_REF = 100
MAX_TITLE = 500


@dataclass(frozen=True, slots=True)
class AssigneeSpec:
    """A unit an item is given to, with its responsible person and leader (None keeps)."""

    unit_id: int
    owner_id: int | None = None
    leader_id: int | None = None


@dataclass(frozen=True, slots=True)
class ItemSpec:
    """The desired state of an item: its fields, its lead unit (主办) and co units (协办)."""

    ref: str
    title: str
    source: Source
    received_on: date
    lead: AssigneeSpec
    due_on: date | None = None  # None: the default rule (30 working days, per policy)
    urgent: bool = False
    objective: str = ""
    content: str = ""
    co: tuple[AssigneeSpec, ...] = ()


class SaveOutcome(StrEnum):
    """What `save_item` did."""

    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


@dataclass(slots=True)
class SaveResult:
    """The saved item, what happened, and the changed fields as ``{field: [old, new]}``."""

    item: Item
    outcome: SaveOutcome
    changes: dict[str, list[Any]] = field(default_factory=dict)

    @property
    def provisional(self) -> bool:
        """True when the item's deadline relies on the Mon–Fri fallback."""
        return self.item.due_is_provisional


class ItemContext:
    """Lookups shared by many saves in one transaction: calendar, policies, checked ids."""

    def __init__(self, calendar: WorkCalendar | None = None) -> None:
        self._calendar = calendar
        self._policies: dict[tuple[str, bool], Policy | None] = {}
        self.known_units: set[int] = set()
        self.known_people: set[int] = set()

    async def calendar(self, session: AsyncSession) -> WorkCalendar:
        """The working-day calendar (loaded once)."""
        if self._calendar is None:
            self._calendar = await load_calendar(session)
        return self._calendar

    async def policy(self, session: AsyncSession, source: str, urgent: bool) -> Policy | None:
        """The policy of an item with this source and urgency (looked up once)."""
        key = (source, urgent)
        if key not in self._policies:
            self._policies[key] = await load_policy_for(session, source, urgent)
        return self._policies[key]

    async def working_days(self, session: AsyncSession, source: str, urgent: bool) -> int:
        """Working days of the default deadline for this source and urgency."""
        return due_days_of(await self.policy(session, source, urgent))


def _jsonable(value: object) -> object:
    """A value fit for an audit event's JSON detail."""
    if isinstance(value, date):
        return value.isoformat()
    return value


def _check_spec(spec: ItemSpec) -> None:
    """Raise ValidationFailed listing every problem with the spec's own fields."""
    problems: list[str] = []
    if not spec.ref.strip():
        problems.append("ref is required")
    elif len(spec.ref) > MAX_REF:
        problems.append(f"ref is longer than {MAX_REF} characters")
    if not spec.title.strip():
        problems.append("title is required")
    elif len(spec.title) > MAX_TITLE:
        problems.append(f"title is longer than {MAX_TITLE} characters")
    co_units = [c.unit_id for c in spec.co]
    if spec.lead.unit_id in co_units:
        problems.append("the lead unit cannot also be a co unit")
    if len(set(co_units)) != len(co_units):
        problems.append("a co unit is listed twice")
    if problems:
        raise ValidationFailed("; ".join(problems), problems)


async def _check_refs(session: AsyncSession, spec: ItemSpec, context: ItemContext) -> None:
    """Raise NotFound unless every unit and person the spec names exists."""
    unit_ids = {spec.lead.unit_id, *(c.unit_id for c in spec.co)} - context.known_units
    person_ids = {
        pid for a in (spec.lead, *spec.co) for pid in (a.owner_id, a.leader_id) if pid is not None
    } - context.known_people
    found_units: set[int] = set()
    found_people: set[int] = set()
    if unit_ids:
        found_units = set(
            (await session.scalars(select(Unit.id).where(Unit.id.in_(unit_ids)))).all()
        )
    if person_ids:
        found_people = set(
            (await session.scalars(select(Person.id).where(Person.id.in_(person_ids)))).all()
        )
    missing = [f"unit #{u}" for u in sorted(unit_ids - found_units)]
    missing += [f"person #{p}" for p in sorted(person_ids - found_people)]
    if missing:
        raise NotFound("no such " + ", ".join(missing))
    context.known_units |= found_units
    context.known_people |= found_people


async def _resolve(
    session: AsyncSession,
    spec: ItemSpec,
    existing: Item | None,
    calendar: WorkCalendar,
    days: int,
) -> DueDate:
    """The deadline the spec gives, keeping an already announced default where it stands."""
    if (
        spec.due_on is None
        and existing is not None
        and existing.due_is_default
        and existing.received_on == spec.received_on
        and existing.source == spec.source.value
        and existing.urgent == spec.urgent
    ):
        # Same inputs as before: the announced default stands (a calendar import moves it).
        if existing.due_is_provisional:
            return recompute_provisional(spec.received_on, existing.due_on, calendar, days)
        return DueDate(existing.due_on, provisional=False)
    try:
        return resolve_due(spec.received_on, spec.due_on, calendar, days)
    except DeadlineError as exc:
        raise ValidationFailed(str(exc)) from None


async def apply_due(
    session: AsyncSession,
    item: Item,
    assignments: Iterable[Assignment],
    due: DueDate,
    *,
    is_default: bool,
    clock: Clock,
    calendar: WorkCalendar | None = None,
    policy: Policy | None = None,
) -> dict[str, list[Any]]:
    """Set an item's deadline and move its assignments along; return the changed fields.

    An assignment whose deadline differs from the item's old one has an approved extension
    (延期) and keeps its own date.
    """
    changes: dict[str, list[Any]] = {}
    old_due = item.due_on
    if item.due_on != due.day:
        changes["due_on"] = [old_due.isoformat(), due.day.isoformat()]
        item.due_on = due.day
        for assignment in assignments:
            if assignment.is_active and assignment.due_on == old_due:
                assignment.due_on = due.day
                await reschedule(session, assignment, clock=clock, calendar=calendar, policy=policy)
    if item.due_is_provisional != due.provisional:
        changes["due_is_provisional"] = [item.due_is_provisional, due.provisional]
        item.due_is_provisional = due.provisional
    if item.due_is_default != is_default:
        changes["due_is_default"] = [item.due_is_default, is_default]
        item.due_is_default = is_default
    return changes


async def save_item(
    session: AsyncSession,
    spec: ItemSpec,
    *,
    actor: Actor,
    clock: Clock,
    calendar: WorkCalendar | None = None,
    context: ItemContext | None = None,
) -> SaveResult:
    """Create the item with ``spec.ref``, or update it to match ``spec``; audit every change.

    Pass one ``context`` to many saves in a transaction (a bulk import) to look things up once.
    """
    ctx = context if context is not None else ItemContext(calendar)
    spec = replace(spec, ref=spec.ref.strip(), title=spec.title.strip())
    _check_spec(spec)
    await _check_refs(session, spec, ctx)
    cal = await ctx.calendar(session)
    policy = await ctx.policy(session, spec.source.value, spec.urgent)
    days = due_days_of(policy)
    # populate_existing: an item already in the session gets its current assignments.
    existing = await session.scalar(
        select(Item)
        .where(Item.ref == spec.ref)
        .options(selectinload(Item.assignments))
        .execution_options(populate_existing=True)
    )
    due = await _resolve(session, spec, existing, cal, days)
    plan = _Plan(actor=actor, clock=clock, calendar=cal, policy=policy)
    if existing is None:
        result = await _create(session, spec, due, plan)
    else:
        result = await _update(session, existing, spec, due, plan)
    if due.provisional and result.outcome is not SaveOutcome.UNCHANGED:
        log.warning(
            "item %s: deadline %s is provisional (no official calendar for %d)",
            spec.ref,
            due.day.isoformat(),
            due.day.year,
        )
    return result


@dataclass(frozen=True, slots=True)
class _Plan:
    """Who saves, when, and the calendar and policy the item's deadlines follow."""

    actor: Actor
    clock: Clock
    calendar: WorkCalendar
    policy: Policy | None


async def _create(session: AsyncSession, spec: ItemSpec, due: DueDate, plan: _Plan) -> SaveResult:
    actor, clock = plan.actor, plan.clock
    item = Item(
        ref=spec.ref,
        title=spec.title,
        source=spec.source.value,
        objective=spec.objective,
        content=spec.content,
        received_on=spec.received_on,
        due_on=due.day,
        due_is_provisional=due.provisional,
        due_is_default=spec.due_on is None,
        urgent=spec.urgent,
        state=ItemState.OPEN.value,
        created_at=clock.now(),
    )
    session.add(item)
    await session.flush()
    record(
        session,
        clock=clock,
        actor=actor,
        entity="item",
        entity_id=item.id,
        action="create",
        to_state=item.state,
        detail={
            "ref": item.ref,
            "source": item.source,
            "received_on": item.received_on.isoformat(),
            "due_on": item.due_on.isoformat(),
            "due_is_default": item.due_is_default,
            "due_is_provisional": item.due_is_provisional,
            "urgent": item.urgent,
        },
    )
    await _new_assignments(session, item, _desired(spec), plan)
    return SaveResult(item, SaveOutcome.CREATED)


def _desired(spec: ItemSpec) -> list[tuple[AssignmentRole, AssigneeSpec]]:
    return [(AssignmentRole.LEAD, spec.lead)] + [(AssignmentRole.CO, c) for c in spec.co]


async def _new_assignments(
    session: AsyncSession,
    item: Item,
    wanted: list[tuple[AssignmentRole, AssigneeSpec]],
    plan: _Plan,
) -> list[Assignment]:
    created = [
        Assignment(
            item_id=item.id,
            unit_id=assignee.unit_id,
            role=role.value,
            owner_id=assignee.owner_id,
            leader_id=assignee.leader_id,
            state=ItemState.OPEN.value,
            due_on=item.due_on,
            created_at=plan.clock.now(),
            assigned_at=plan.clock.now(),  # the 交办通知 is due from now
        )
        for role, assignee in wanted
    ]
    for assignment in created:
        # Placed before the insert, so the row is written once.
        await reschedule(
            session, assignment, clock=plan.clock, calendar=plan.calendar, policy=plan.policy
        )
    session.add_all(created)
    await session.flush()
    for assignment in created:
        record(
            session,
            clock=plan.clock,
            actor=plan.actor,
            entity="assignment",
            entity_id=assignment.id,
            action="create",
            to_state=assignment.state,
            detail={
                "item_id": item.id,
                "unit_id": assignment.unit_id,
                "role": assignment.role,
                "owner_id": assignment.owner_id,
                "leader_id": assignment.leader_id,
                "due_on": assignment.due_on.isoformat(),
            },
        )
    return created


async def _update(
    session: AsyncSession,
    item: Item,
    spec: ItemSpec,
    due: DueDate,
    plan: _Plan,
) -> SaveResult:
    actor, clock = plan.actor, plan.clock
    changes: dict[str, list[Any]] = {}
    wanted: dict[str, object] = {
        "title": spec.title,
        "source": spec.source.value,
        "objective": spec.objective,
        "content": spec.content,
        "received_on": spec.received_on,
        "urgent": spec.urgent,
    }
    for name, value in wanted.items():
        old = getattr(item, name)
        if old != value:
            changes[name] = [_jsonable(old), _jsonable(value)]
    assignments = list(item.assignments)
    by_unit = {a.unit_id: a for a in assignments}
    desired = _desired(spec)
    desired_units = {a.unit_id for _, a in desired}
    to_add: list[tuple[AssignmentRole, AssigneeSpec]] = []
    to_change: list[tuple[Assignment, AssignmentRole, AssigneeSpec]] = []
    for role, assignee in desired:
        current = by_unit.get(assignee.unit_id)
        if current is None:
            to_add.append((role, assignee))
            continue
        if current.state == ItemState.CANCELLED.value:
            raise InvalidTransition(
                f"item {item.ref}: the assignment of unit #{assignee.unit_id} was cancelled "
                "and cannot be given back; assign another unit"
            )
        if (
            current.role != role.value
            or (assignee.owner_id is not None and current.owner_id != assignee.owner_id)
            or (assignee.leader_id is not None and current.leader_id != assignee.leader_id)
        ):
            to_change.append((current, role, assignee))
    removed = [a for a in assignments if a.unit_id not in desired_units and a.is_active]
    due_changes = (
        item.due_on != due.day
        or item.due_is_provisional != due.provisional
        or item.due_is_default != (spec.due_on is None)
    )
    if not changes and not to_add and not to_change and not removed and not due_changes:
        return SaveResult(item, SaveOutcome.UNCHANGED)
    if item.state not in ACTIVE_STATES:
        raise InvalidTransition(f"item {item.ref} is {item.state}; reopen it before changing it")
    for name, value in wanted.items():
        setattr(item, name, value)
    changes.update(
        await apply_due(
            session,
            item,
            assignments,
            due,
            is_default=spec.due_on is None,
            clock=clock,
            calendar=plan.calendar,
            policy=plan.policy,
        )
    )
    if "source" in changes or "urgent" in changes:
        # Another policy, another ladder.
        for assignment in assignments:
            if assignment.is_active:
                await reschedule(
                    session, assignment, clock=clock, calendar=plan.calendar, policy=plan.policy
                )
    if to_add:
        await _new_assignments(session, item, to_add, plan)
        changes["assignments_added"] = [assignee.unit_id for _, assignee in to_add]
    for current, role, assignee in to_change:
        wanted = {
            "role": role.value,
            "owner_id": assignee.owner_id,
            "leader_id": assignee.leader_id,
        }
        handed_over = assignee.owner_id is not None and assignee.owner_id != current.owner_id
        detail = apply_changes(current, {k: v for k, v in wanted.items() if v is not None})
        if handed_over and current.state == ItemState.OPEN.value:
            # Handed to another person: the new owner gets a 交办通知 of their own.
            current.assigned_at = clock.now()
            await reschedule(
                session, current, clock=clock, calendar=plan.calendar, policy=plan.policy
            )
        record(
            session,
            clock=clock,
            actor=actor,
            entity="assignment",
            entity_id=current.id,
            action="update",
            detail={"changes": detail},
        )
        changes.setdefault("assignments_changed", []).append(current.unit_id)
    for assignment in removed:
        await transition_assignment(
            session,
            assignment,
            ItemState.CANCELLED,
            actor=actor,
            clock=clock,
            reason=f"unit #{assignment.unit_id} removed from item {item.ref}",
        )
        changes.setdefault("assignments_removed", []).append(assignment.unit_id)
    record(
        session,
        clock=clock,
        actor=actor,
        entity="item",
        entity_id=item.id,
        action="update",
        detail={"changes": changes},
    )
    await session.flush()
    await sync_item_state(session, item.id, actor=actor, clock=clock)
    return SaveResult(item, SaveOutcome.UPDATED, changes)


@dataclass(frozen=True, slots=True)
class ItemRow:
    """One line of the items list, as the CLI, the web and the API show it."""

    id: int
    ref: str
    title: str
    source: str
    received_on: date
    due_on: date  # the deadline in force (`due_in_force`)
    due_is_provisional: bool
    urgent: bool
    light: Light
    state: str
    lead_unit: str | None
    lead_unit_name: str | None
    owner_email: str | None
    owner_name: str | None

    def as_json(self) -> dict[str, Any]:
        """The documented JSON object (dates as ISO strings)."""
        return {
            "ref": self.ref,
            "title": self.title,
            "source": self.source,
            "received_on": self.received_on.isoformat(),
            "due_on": self.due_on.isoformat(),
            "due_is_provisional": self.due_is_provisional,
            "light": self.light.value,
            "state": self.state,
            "lead_unit": self.lead_unit,
            "owner_email": self.owner_email,
        }


@dataclass(frozen=True, slots=True)
class _Lead:
    """What the light and the list need of one lead assignment."""

    state: str
    due_on: date
    last_report_at: datetime | None
    unit_code: str | None = None
    unit_name: str | None = None
    owner_email: str | None = None
    owner_name: str | None = None

    @property
    def is_active(self) -> bool:
        return self.state in ACTIVE_STATES


def _light(
    state: str,
    due_on: date,
    received_on: date,
    leads: Iterable[_Lead],
    milestones: Iterable[Staged] = (),
    *,
    today: date,
    calendar: WorkCalendar,
    tz: ZoneInfo,
) -> Light:
    active = [a for a in leads if a.is_active]
    if not active:
        own = light_for(
            state=state,
            due_on=due_on,
            today=today,
            last_report_on=None,
            started_on=received_on,
            calendar=calendar,
        )
    else:
        own = worst(
            [
                assignment_light(a, received_on=received_on, today=today, calendar=calendar, tz=tz)
                for a in active
            ]
        )
    if state not in ACTIVE_STATES:
        return own  # a closed or cancelled item is grey, whatever stage was left open
    return worst(
        [own]
        + [
            milestone_light(m, today=today, calendar=calendar)
            for m in milestones
            if m.state == MilestoneState.OPEN.value
        ]
    )


def item_light(item: Item, *, today: date, calendar: WorkCalendar, tz: ZoneInfo) -> Light:
    """An item's light: the worst of its active lead assignments (the item's own if none)
    and of its open milestones (阶段性节点).

    ``item.assignments`` and ``item.milestones`` must be loaded.
    """
    leads = [
        _Lead(a.state, a.due_on, a.last_report_at)
        for a in item.assignments
        if a.role == AssignmentRole.LEAD.value
    ]
    return _light(
        item.state,
        item.due_on,
        item.received_on,
        leads,
        item.milestones,
        today=today,
        calendar=calendar,
        tz=tz,
    )


def due_in_force(item: Item) -> date:
    """The deadline an item is held to now: its lead unit's (主办), which an approved
    extension (延期) moves, or the item's own when it has no lead left (cancelled ones do not
    count). ``item.assignments`` must be loaded; `due_in_force_column` is the same in SQL."""
    leads = [(a.state, a.due_on) for a in item.assignments if a.role == AssignmentRole.LEAD.value]
    return _in_force(item.due_on, leads)


def _in_force(own: date, leads: Iterable[tuple[str, date]]) -> date:
    """`due_in_force` from the item's date and its lead assignments' (state, due_on)."""
    return max((due for state, due in leads if state != ItemState.CANCELLED.value), default=own)


def due_in_force_column() -> ColumnElement[date]:
    """`due_in_force` as a column expression over ``items`` (for filters and ordering)."""
    lead_due = (
        select(func.max(Assignment.due_on))
        .where(
            Assignment.item_id == Item.id,
            Assignment.role == AssignmentRole.LEAD.value,
            Assignment.state != ItemState.CANCELLED.value,
        )
        .correlate(Item)
        .scalar_subquery()
    )
    return func.coalesce(lead_due, Item.due_on)


async def list_items(
    session: AsyncSession,
    *,
    today: date,
    calendar: WorkCalendar,
    overdue_only: bool = False,
    unit_code: str | None = None,
    tz: ZoneInfo | None = None,
    visible_to: Scope | None = None,
) -> list[ItemRow]:
    """Items by deadline, with their light; only overdue ones, one unit's (and below), or
    those in a person's scope (filtered in the database)."""
    zone = tz or ZoneInfo("Asia/Shanghai")
    scope: list[ColumnElement[bool]] = []
    if visible_to is not None and not visible_to.sees_all:
        scope.append(Item.id.in_(visible_to.visible_item_ids()))
    if unit_code is not None:
        units = (await session.execute(select(Unit.id, Unit.code, Unit.parent_id))).all()
        root = next((u.id for u in units if u.code == unit_code), None)
        if root is None:
            raise NotFound(f"no unit with code {unit_code!r}")
        ids = subtree(((u.id, u.parent_id) for u in units), root)
        scope.append(Item.id.in_(select(Assignment.item_id).where(Assignment.unit_id.in_(ids))))
    # Plain rows, not ORM objects: the dashboard lists every item on each page view.
    items = (
        await session.execute(
            select(
                Item.id,
                Item.ref,
                Item.title,
                Item.source,
                Item.received_on,
                Item.due_on,
                Item.due_is_provisional,
                Item.urgent,
                Item.state,
            )
            .where(*scope)
            .order_by(Item.due_on, Item.ref)
        )
    ).all()
    lead_query = (
        select(
            Assignment.item_id,
            Assignment.state,
            Assignment.due_on,
            Assignment.last_report_at,
            Unit.code,
            Unit.name,
            Person.email,
            Person.name,
        )
        .join(Unit, Unit.id == Assignment.unit_id)
        .outerjoin(Person, Person.id == Assignment.owner_id)
        .where(Assignment.role == AssignmentRole.LEAD.value)
        .order_by(Assignment.id)
    )
    if scope:
        lead_query = lead_query.where(Assignment.item_id.in_(select(Item.id).where(*scope)))
    leads: dict[int, list[_Lead]] = {}
    for row in (await session.execute(lead_query)).all():
        leads.setdefault(row[0], []).append(_Lead(*row[1:]))
    stage_query = select(Milestone.item_id, Milestone.state, Milestone.due_on).where(
        Milestone.state == MilestoneState.OPEN.value
    )
    if scope:
        stage_query = stage_query.where(Milestone.item_id.in_(select(Item.id).where(*scope)))
    stages: dict[int, list[Staged]] = {}
    for stage in (await session.execute(stage_query)).all():
        stages.setdefault(stage.item_id, []).append(stage)
    out: list[ItemRow] = []
    for item in items:
        mine = leads.get(item.id, [])
        light = _light(
            item.state,
            item.due_on,
            item.received_on,
            mine,
            stages.get(item.id, []),
            today=today,
            calendar=calendar,
            tz=zone,
        )
        if overdue_only and light is not Light.RED:
            continue
        lead = next((a for a in mine if a.is_active), mine[0] if mine else None)
        out.append(
            ItemRow(
                id=item.id,
                ref=item.ref,
                title=item.title,
                source=item.source,
                received_on=item.received_on,
                due_on=_in_force(item.due_on, ((a.state, a.due_on) for a in mine)),
                due_is_provisional=item.due_is_provisional,
                urgent=item.urgent,
                light=light,
                state=item.state,
                lead_unit=lead.unit_code if lead else None,
                lead_unit_name=lead.unit_name if lead else None,
                owner_email=lead.owner_email if lead else None,
                owner_name=lead.owner_name if lead else None,
            )
        )
    out.sort(key=lambda r: (r.due_on, r.ref))  # an extension can move an item down the list
    return out
