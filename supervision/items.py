"""Creating and updating supervised items (督查事项) with their assignments, and listing them.

The one use-case behind the import, the web admin and the API. Imports only `models/` and
`supervision/`; I/O goes through the session it is given. Listing lives in
`supervision.item_list` (``ItemRow``, ``item_light`` and ``list_items`` are re-exported here).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from models import (
    ACTIVE_STATES,
    Assignment,
    AssignmentRole,
    Item,
    ItemState,
    Person,
    Policy,
    Source,
    Unit,
)
from supervision.audit import Actor, apply_changes, record
from supervision.calendar import DueDate, WorkCalendar
from supervision.calendar_store import load_calendar
from supervision.clock import Clock
from supervision.deadlines import (
    DeadlineError,
    co_due,
    recompute_provisional,
    resolve_due,
)
from supervision.errors import InvalidTransition, NotFound, ValidationFailed
from supervision.import_words import Both, ImportWord, worded
from supervision.item_list import (
    ItemRow,
    due_in_force,
    due_in_force_column,
    item_light,
    list_items,
)
from supervision.labels import Problem, Sentence, label_of, refusals
from supervision.lifecycle import sync_item_state, transition_assignment
from supervision.policy import co_lead_days_of, due_days_of, load_policy_for
from supervision.schedule import governed_items, reschedule

__all__ = [
    "AssigneeSpec",
    "ItemContext",
    "ItemDiff",
    "ItemRow",
    "ItemSpec",
    "SaveOutcome",
    "SavePlan",
    "SaveResult",
    "StoredAssignment",
    "StoredItem",
    "apply_diff",
    "apply_due",
    "assignment_created_detail",
    "assignment_due",
    "check_refs",
    "check_spec",
    "desired_assignees",
    "due_in_force",
    "due_in_force_column",
    "is_member",
    "item_created_detail",
    "item_diff",
    "item_light",
    "list_items",
    "move_co_deadlines",
    "new_assignment_values",
    "new_item_values",
    "owner_outside_unit",
    "resolve_item_due",
    "role_due",
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
        self.known_units: dict[int, str] = {}  # unit id → name
        self.known_people: dict[int, tuple[str, int | None]] = {}  # person id → (name, unit)

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


def check_spec(spec: ItemSpec) -> None:
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


async def check_refs(session: AsyncSession, spec: ItemSpec, context: ItemContext) -> None:
    """Raise NotFound unless every unit and person the spec names exists, and
    ValidationFailed when a co unit's owner (协办责任人) is not a member of that unit."""
    # Membership tests, not ``set - dict.keys()``, which copies every known key each call.
    unit_ids = {
        u
        for u in (spec.lead.unit_id, *(c.unit_id for c in spec.co))
        if u not in context.known_units
    }
    person_ids = {
        pid
        for a in (spec.lead, *spec.co)
        for pid in (a.owner_id, a.leader_id)
        if pid is not None and pid not in context.known_people
    }
    found_units: dict[int, str] = {}
    found_people: dict[int, tuple[str, int | None]] = {}
    if unit_ids:
        units = await session.execute(select(Unit.id, Unit.name).where(Unit.id.in_(unit_ids)))
        found_units = {uid: name for uid, name in units}
    if person_ids:
        people = await session.execute(
            select(Person.id, Person.name, Person.unit_id).where(Person.id.in_(person_ids))
        )
        found_people = {pid: (name, unit_id) for pid, name, unit_id in people}
    missing = [f"unit #{u}" for u in sorted(unit_ids - found_units.keys())]
    missing += [f"person #{p}" for p in sorted(person_ids - found_people.keys())]
    if missing:
        raise NotFound("no such " + ", ".join(missing))
    context.known_units.update(found_units)
    context.known_people.update(found_people)
    roles = ((spec.lead, AssignmentRole.LEAD), *((c, AssignmentRole.CO) for c in spec.co))
    problems = [
        owner_outside_unit(
            context.known_people[a.owner_id][0], context.known_units[a.unit_id], role
        )
        for a, role in roles
        if a.owner_id is not None and not is_member(context.known_people[a.owner_id][1], a.unit_id)
    ]
    if problems:
        raise refusals(ValidationFailed, problems)


def is_member(person_unit_id: int | None, unit_id: int) -> bool:
    """Whether a person of ``person_unit_id`` may be the owner (责任人) of an assignment to
    ``unit_id``: only a member of that very unit, lead (主办) or co (协办), on creation,
    edit, import and 转办 alike (a parent unit's person is not the unit's)."""
    return person_unit_id == unit_id


def owner_outside_unit(owner: str, unit: str, role: str | None = AssignmentRole.CO) -> Problem:
    """Why ``owner`` may not answer for ``unit`` as its 主办 or 协办 unit (``role``; None: the
    unit an assignment is handed to, 转办)."""
    sentence = Sentence.OWNER_OUTSIDE_UNIT
    if role == AssignmentRole.LEAD:
        sentence = Sentence.OWNER_OUTSIDE_LEAD
    elif role == AssignmentRole.CO:
        sentence = Sentence.OWNER_OUTSIDE_CO
    return sentence, {"owner": owner, "unit": unit}


class StoredItem(Protocol):
    """What the save rules read of an item already stored: an `Item`, or its row."""

    @property
    def ref(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def source(self) -> str: ...
    @property
    def objective(self) -> str: ...
    @property
    def content(self) -> str: ...
    @property
    def received_on(self) -> date: ...
    @property
    def due_on(self) -> date: ...
    @property
    def due_is_default(self) -> bool: ...
    @property
    def due_is_provisional(self) -> bool: ...
    @property
    def urgent(self) -> bool: ...


class StoredAssignment(Protocol):
    """What the save rules read of an assignment already stored: an `Assignment`, or its row."""

    @property
    def unit_id(self) -> int: ...
    @property
    def role(self) -> str: ...
    @property
    def state(self) -> str: ...
    @property
    def owner_id(self) -> int | None: ...
    @property
    def leader_id(self) -> int | None: ...


def resolve_item_due(
    spec: ItemSpec, existing: StoredItem | None, calendar: WorkCalendar, days: int
) -> DueDate:
    """The deadline the spec gives, keeping an already announced default where it stands."""
    if (
        spec.due_on is None
        and existing is not None
        and existing.due_is_default
        and existing.received_on == spec.received_on
        and existing.source == spec.source
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

    A co unit's (协办) deadline is `assignment_due` of the item's. An assignment whose
    deadline differs from the one the item's old deadline gave it has an approved extension
    (延期) and keeps its own date.
    """
    changes: dict[str, list[Any]] = {}
    old_due = item.due_on
    if item.due_on != due.day:
        changes["due_on"] = [old_due.isoformat(), due.day.isoformat()]
        item.due_on = due.day
        cal = calendar if calendar is not None else await load_calendar(session)
        co_days = co_lead_days_of(policy)
        for assignment in assignments:
            old, new = old_due, due.day
            if assignment.role == AssignmentRole.CO.value:
                old = co_due(old_due, item.received_on, cal, co_days)
                new = co_due(due.day, item.received_on, cal, co_days)
            if assignment.is_active and assignment.due_on == old:
                assignment.due_on = new
                await reschedule(session, assignment, clock=clock, calendar=cal, policy=policy)
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
    check_spec(spec)
    await check_refs(session, spec, ctx)
    cal = await ctx.calendar(session)
    policy = await ctx.policy(session, spec.source, spec.urgent)
    days = due_days_of(policy)
    # populate_existing: an item already in the session gets its current assignments.
    existing = await session.scalar(
        select(Item)
        .where(Item.ref == spec.ref)
        .options(selectinload(Item.assignments))
        .execution_options(populate_existing=True)
    )
    due = resolve_item_due(spec, existing, cal, days)
    plan = SavePlan(actor=actor, clock=clock, calendar=cal, policy=policy)
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
class SavePlan:
    """Who saves, when, and the calendar and policy the item's deadlines follow."""

    actor: Actor
    clock: Clock
    calendar: WorkCalendar
    policy: Policy | None


async def _create(
    session: AsyncSession, spec: ItemSpec, due: DueDate, plan: SavePlan
) -> SaveResult:
    actor, clock = plan.actor, plan.clock
    values = new_item_values(spec, due, clock.now())
    item = Item(**values)
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
        detail=item_created_detail(values),
    )
    await _new_assignments(session, item, desired_assignees(spec), plan)
    return SaveResult(item, SaveOutcome.CREATED)


def new_item_values(spec: ItemSpec, due: DueDate, now: datetime) -> dict[str, Any]:
    """The column values of a new item made from ``spec`` with its resolved deadline."""
    return {
        "ref": spec.ref,
        "title": spec.title,
        "source": spec.source,
        "objective": spec.objective,
        "content": spec.content,
        "received_on": spec.received_on,
        "due_on": due.day,
        "due_is_provisional": due.provisional,
        "due_is_default": spec.due_on is None,
        "urgent": spec.urgent,
        "state": ItemState.OPEN,
        "created_at": now,
    }


def item_created_detail(values: Mapping[str, Any]) -> dict[str, Any]:
    """The detail of an item's ``create`` audit event, from `new_item_values`."""
    return {
        "ref": values["ref"],
        "source": values["source"],
        "received_on": values["received_on"].isoformat(),
        "due_on": values["due_on"].isoformat(),
        "due_is_default": values["due_is_default"],
        "due_is_provisional": values["due_is_provisional"],
        "urgent": values["urgent"],
    }


def new_assignment_values(
    item_id: int, role: AssignmentRole, assignee: AssigneeSpec, due_on: date, now: datetime
) -> dict[str, Any]:
    """The column values of a new assignment (its ladder columns are `reschedule`'s)."""
    return {
        "item_id": item_id,
        "unit_id": assignee.unit_id,
        "role": role,
        "owner_id": assignee.owner_id,
        "leader_id": assignee.leader_id,
        "state": ItemState.OPEN,
        "due_on": due_on,
        "created_at": now,
        "assigned_at": now,  # the 交办通知 is due from now
    }


def assignment_created_detail(values: Mapping[str, Any]) -> dict[str, Any]:
    """The detail of an assignment's ``create`` audit event, from `new_assignment_values`."""
    return {
        "item_id": values["item_id"],
        "unit_id": values["unit_id"],
        "role": values["role"],
        "owner_id": values["owner_id"],
        "leader_id": values["leader_id"],
        "due_on": values["due_on"].isoformat(),
    }


def assignment_due(
    item: Item, role: AssignmentRole, calendar: WorkCalendar, policy: Policy | None
) -> date:
    """The deadline an assignment of ``role`` gets from its item's: the lead's is the item's,
    a co unit's (协办) input is due `co_lead_days` working days before it (policy)."""
    return role_due(role, item.due_on, item.received_on, calendar, policy)


def role_due(
    role: AssignmentRole,
    item_due: date,
    received_on: date,
    calendar: WorkCalendar,
    policy: Policy | None,
) -> date:
    """`assignment_due` from the item's deadline and received date."""
    if role is AssignmentRole.LEAD:
        return item_due
    return co_due(item_due, received_on, calendar, co_lead_days_of(policy))


async def move_co_deadlines(
    session: AsyncSession, policy: Policy, old_days: int, *, actor: Actor, clock: Clock
) -> list[int]:
    """After ``policy.co_lead_days`` changed from ``old_days``: move the deadline of every
    open co assignment (协办) it governs that still had the one the old setting gave (one an
    extension moved keeps its date); audit each and return their ids."""
    calendar = await load_calendar(session)
    context = ItemContext(calendar)
    rows = await session.execute(
        select(Assignment, Item)
        .join(Item, Item.id == Assignment.item_id)
        .where(
            Assignment.role == AssignmentRole.CO.value,
            Assignment.state == ItemState.OPEN.value,
            Assignment.item_id.in_(await governed_items(session, policy)),
        )
        .order_by(Assignment.id)
    )
    moved: list[int] = []
    for assignment, item in rows.all():
        if await context.policy(session, item.source, item.urgent) is not policy:
            continue  # governed by a more specific policy
        old = co_due(item.due_on, item.received_on, calendar, old_days)
        new = assignment_due(item, AssignmentRole.CO, calendar, policy)
        if assignment.due_on != old or old == new:
            continue
        assignment.due_on = new
        await reschedule(session, assignment, clock=clock, calendar=calendar, policy=policy)
        record(
            session,
            clock=clock,
            actor=actor,
            entity="assignment",
            entity_id=assignment.id,
            action="update",
            detail={"changes": {"due_on": [old.isoformat(), new.isoformat()]}},
        )
        moved.append(assignment.id)
    return moved


def desired_assignees(spec: ItemSpec) -> list[tuple[AssignmentRole, AssigneeSpec]]:
    """The spec's assignees, the lead unit (主办) first, then the co units (协办)."""
    return [(AssignmentRole.LEAD, spec.lead)] + [(AssignmentRole.CO, c) for c in spec.co]


async def _new_assignments(
    session: AsyncSession,
    item: Item,
    wanted: list[tuple[AssignmentRole, AssigneeSpec]],
    plan: SavePlan,
) -> list[Assignment]:
    now = plan.clock.now()
    values = [
        new_assignment_values(
            item.id, role, assignee, assignment_due(item, role, plan.calendar, plan.policy), now
        )
        for role, assignee in wanted
    ]
    created = [Assignment(**v) for v in values]
    for assignment in created:
        # Placed before the insert, so the row is written once.
        await reschedule(
            session, assignment, clock=plan.clock, calendar=plan.calendar, policy=plan.policy
        )
    session.add_all(created)
    await session.flush()
    for assignment, written in zip(created, values, strict=True):
        record(
            session,
            clock=plan.clock,
            actor=plan.actor,
            entity="assignment",
            entity_id=assignment.id,
            action="create",
            to_state=assignment.state,
            detail=assignment_created_detail(written),
        )
    return created


@dataclass(slots=True)
class ItemDiff:
    """What saving a spec over a stored item would change (empty: the item is unchanged)."""

    changes: dict[str, list[Any]]  # the item's own fields, ``{field: [old, new]}``
    to_add: list[tuple[AssignmentRole, AssigneeSpec]]
    to_change: list[tuple[int, AssignmentRole, AssigneeSpec]]  # by unit id
    removed: list[int]  # unit ids of active assignments the spec leaves out
    due_changes: bool

    @property
    def empty(self) -> bool:
        """True when saving would change nothing."""
        return not (
            self.changes or self.to_add or self.to_change or self.removed or self.due_changes
        )


def _wanted_fields(spec: ItemSpec) -> dict[str, object]:
    return {
        "title": spec.title,
        "source": spec.source,
        "objective": spec.objective,
        "content": spec.content,
        "received_on": spec.received_on,
        "urgent": spec.urgent,
    }


def item_diff(
    item: StoredItem,
    assignments: Iterable[StoredAssignment],
    spec: ItemSpec,
    due: DueDate,
) -> ItemDiff:
    """How ``spec`` (with its resolved deadline) differs from a stored item and its
    assignments; InvalidTransition when it gives back a cancelled assignment."""
    changes: dict[str, list[Any]] = {}
    for name, value in _wanted_fields(spec).items():
        old = getattr(item, name)
        if old != value:
            changes[name] = [_jsonable(old), _jsonable(value)]
    by_unit = {a.unit_id: a for a in assignments}
    desired = desired_assignees(spec)
    desired_units = {a.unit_id for _, a in desired}
    to_add: list[tuple[AssignmentRole, AssigneeSpec]] = []
    to_change: list[tuple[int, AssignmentRole, AssigneeSpec]] = []
    for role, assignee in desired:
        current = by_unit.get(assignee.unit_id)
        if current is None:
            to_add.append((role, assignee))
            continue
        if current.state == ItemState.CANCELLED:
            raise InvalidTransition(
                f"item {item.ref}: the assignment of unit #{assignee.unit_id} was cancelled "
                "and cannot be given back; assign another unit"
            )
        if (
            current.role != role
            or (assignee.owner_id is not None and current.owner_id != assignee.owner_id)
            or (assignee.leader_id is not None and current.leader_id != assignee.leader_id)
        ):
            to_change.append((current.unit_id, role, assignee))
    removed = [
        a.unit_id
        for a in by_unit.values()
        if a.unit_id not in desired_units and a.state in ACTIVE_STATES
    ]
    due_changes = (
        item.due_on != due.day
        or item.due_is_provisional != due.provisional
        or item.due_is_default != (spec.due_on is None)
    )
    return ItemDiff(changes, to_add, to_change, removed, due_changes)


async def _update(
    session: AsyncSession,
    item: Item,
    spec: ItemSpec,
    due: DueDate,
    plan: SavePlan,
) -> SaveResult:
    diff = item_diff(item, item.assignments, spec, due)
    if diff.empty:
        return SaveResult(item, SaveOutcome.UNCHANGED)
    return await apply_diff(session, item, spec, due, diff, plan)


async def apply_diff(
    session: AsyncSession,
    item: Item,
    spec: ItemSpec,
    due: DueDate,
    diff: ItemDiff,
    plan: SavePlan,
) -> SaveResult:
    """Change a stored item (its assignments loaded) as ``diff`` says; audit every change."""
    actor, clock = plan.actor, plan.clock
    assignments = list(item.assignments)
    by_unit = {a.unit_id: a for a in assignments}
    changes = dict(diff.changes)
    wanted = _wanted_fields(spec)
    to_add = diff.to_add
    to_change = [(by_unit[unit_id], role, assignee) for unit_id, role, assignee in diff.to_change]
    removed = [by_unit[unit_id] for unit_id in diff.removed]
    if item.state not in ACTIVE_STATES:
        state = Both(label_of(ItemState, item.state), item.state)
        raise worded(InvalidTransition, ImportWord.ITEM_NOT_OPEN, ref=item.ref, state=state)
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
            "role": role,
            "owner_id": assignee.owner_id,
            "leader_id": assignee.leader_id,
        }
        old_role = AssignmentRole(current.role)
        if old_role is not role and current.due_on == assignment_due(
            item, old_role, plan.calendar, plan.policy
        ):  # lead ↔ co: the deadline of the new role, unless an extension moved it
            wanted["due_on"] = assignment_due(item, role, plan.calendar, plan.policy)
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
            detail={"changes": {k: [_jsonable(v) for v in pair] for k, pair in detail.items()}},
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
