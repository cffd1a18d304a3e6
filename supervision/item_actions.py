"""Batch actions on items (批量操作): 催办 now, 转办, 延期 and 撤销 for many items at once.

Each item goes through the use-case that owns the rule: the outbox (`supervision.outbox`,
the urge step of the item's own policy), `supervision.rework.transfer_assignment`,
`supervision.requests.grant_extension` and `supervision.lifecycle.cancel_item`, inside a
savepoint of its own (inside a transaction begun as a writer, `models.db.begin_writing`),
so that a refusal is that use-case's own words and leaves nothing of that item behind.
`run_batch` says what happened (or why not) to each item; the caller makes it all-or-nothing
by rolling its transaction back when any item was refused, and shows the confirmation page
by running it once and rolling back. Office work only (the tier's
`Permission.EDIT_ITEMS`), and per item: in the person's scope, and the per-assignment
`Action.REVIEW` where a use-case asks it.

Imports `models/` and `supervision/` only; I/O through the session it is given.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Final
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from models import (
    ACTIVE_STATES,
    Assignment,
    AssignmentRole,
    AuditAction,
    AuditEntity,
    Item,
    ItemState,
    Notification,
    Person,
    Role,
    StepChannel,
    StepKind,
    Unit,
)
from models.db import begin_writing
from supervision.access import (
    NotPermitted,
    Permission,
    Scope,
    unit_liaisons,
    unit_principals,
)
from supervision.audit import Actor, record
from supervision.clock import Clock, local_today
from supervision.errors import DomainError, InvalidTransition, NotFound, ValidationFailed
from supervision.labels import Problem, Sentence, refusal, refusals
from supervision.lifecycle import cancel_item
from supervision.outbox import CHAT, EMAIL, notify_person, notify_unit_groups
from supervision.policy import load_policy_for
from supervision.requests import grant_extension
from supervision.rework import transfer_assignment
from supervision.schedule import Ladder

__all__ = ["MAX_BATCH", "BatchAction", "BatchRequest", "Outcome", "refused", "run_batch"]

#: At most this many items per batch (one page of the list is 50).
MAX_BATCH: Final = 200
#: Who an urge goes to when the item's policy has no urge step (the default ladder's).
URGE_ROLES: Final = ("owner", "liaison")


class BatchAction(StrEnum):
    """What a batch does to each selected item."""

    URGE = "urge"  # 催办: the urge step, now, to each open assignment's people
    TRANSFER = "transfer"  # 转办: the open lead assignment to another unit
    EXTEND = "extend"  # 延期: the open lead assignment's deadline, given by the office
    CANCEL = "cancel"  # 撤销: the item and its open assignments


@dataclass(frozen=True, slots=True)
class BatchRequest:
    """A batch as the person asked for it."""

    action: BatchAction
    item_ids: tuple[int, ...]
    reason: str = ""
    unit_id: int | None = None  # 转办: the unit taking the lead assignments
    due_on: date | None = None  # 延期: the new deadline

    def problems(self) -> list[Problem]:
        """What is missing from the request as a whole (before any item is looked at)."""
        out: list[Problem] = []
        if not self.item_ids:
            out.append((Sentence.BATCH_NONE_SELECTED, {}))
        elif len(self.item_ids) > MAX_BATCH:
            out.append((Sentence.BATCH_TOO_MANY, {"max": MAX_BATCH, "got": len(self.item_ids)}))
        if self.action is not BatchAction.URGE and not self.reason.strip():
            out.append((Sentence.BATCH_REASON_REQUIRED, {}))
        if self.action is BatchAction.TRANSFER and self.unit_id is None:
            out.append((Sentence.BATCH_UNIT_REQUIRED, {}))
        if self.action is BatchAction.EXTEND and self.due_on is None:
            out.append((Sentence.BATCH_DATE_REQUIRED, {}))
        return out


@dataclass(slots=True)
class Outcome:
    """What the batch does to one item: the values before and after (a unit, a deadline,
    the people urged), or the refusal that stops the whole batch."""

    item_id: int
    ref: str = ""
    title: str = ""
    before: list[str] = field(default_factory=list)
    after: list[str] = field(default_factory=list)
    refusal: DomainError | None = None


@dataclass(frozen=True, slots=True)
class _Run:
    """What each item's action in one batch works with."""

    session: AsyncSession
    request: BatchRequest
    person: Person
    actor: Actor
    clock: Clock
    tz: ZoneInfo


def refused(outcomes: Sequence[Outcome]) -> list[Outcome]:
    """The outcomes that were refused (any one of them stops the batch)."""
    return [o for o in outcomes if o.refusal is not None]


async def run_batch(
    session: AsyncSession,
    request: BatchRequest,
    *,
    scope: Scope,
    clock: Clock,
    tz: ZoneInfo,
) -> list[Outcome]:
    """Apply ``request`` to each item in its own savepoint; one outcome per item, in the
    order asked. Raises (changing nothing) when the person may not run batches or the
    request itself is incomplete. The caller commits only when `refused` is empty."""
    if not scope.allows(Permission.EDIT_ITEMS):
        raise refusal(NotPermitted, Sentence.NOT_ALLOWED_ON_ITEM)
    problems = request.problems()
    if problems:
        raise refusals(ValidationFailed, problems)
    await begin_writing(session)  # the caller's rollback must undo the savepoints' work
    person = await session.get_one(Person, scope.person_id)
    run = _Run(session, request, person, Actor.of(person), clock, tz)
    if request.unit_id is not None and await session.get(Unit, request.unit_id) is None:
        raise NotFound(f"no such unit #{request.unit_id}")
    ids = list(dict.fromkeys(request.item_ids))
    query = scope.filter_items(
        select(Item)
        .where(Item.id.in_(ids))
        .options(selectinload(Item.assignments).selectinload(Assignment.unit))
    )
    items = {item.id: item for item in (await session.scalars(query)).all()}
    outcomes: list[Outcome] = []
    for item_id in ids:
        item = items.get(item_id)
        if item is None:  # absent or out of scope: the same answer, its existence not told
            unknown = refusal(NotFound, Sentence.BATCH_ITEM_UNKNOWN, id=item_id)
            outcomes.append(Outcome(item_id, refusal=unknown))
            continue
        outcome = Outcome(item.id, item.ref, item.title)
        try:
            async with session.begin_nested():
                if item.state not in ACTIVE_STATES:
                    raise refusal(InvalidTransition, Sentence.BATCH_NOT_ACTIVE)
                await _ACTIONS[request.action](run, item, outcome)
        except DomainError as exc:
            outcome.refusal = exc
        outcomes.append(outcome)
    return outcomes


def _open_leads(item: Item) -> list[Assignment]:
    """The item's open lead assignments (主办), or a refusal when it has none."""
    leads = [
        a
        for a in item.assignments
        if a.role == AssignmentRole.LEAD.value and a.state == ItemState.OPEN
    ]
    if not leads:
        raise refusal(InvalidTransition, Sentence.BATCH_NO_LEAD)
    return leads


async def _urge(run: _Run, item: Item, outcome: Outcome) -> None:
    """催办 now: the urge step of the item's policy (its roles, channels and template) to
    each active assignment's people, as outbox rows keyed like the scan's urge of today, so
    that neither sends it twice."""
    session, actor, clock, tz = run.session, run.actor, run.clock, run.tz
    policy = await load_policy_for(session, item.source, item.urgent)
    ladder = Ladder.of(policy) if policy is not None else None
    step = next(
        (s for s in (ladder.deadline_steps if ladder else ()) if s.kind == StepKind.URGE), None
    )
    roles = step.roles if step is not None else URGE_ROLES
    channels = step.channels if step is not None else (CHAT, EMAIL)
    template = step.template if step is not None else StepKind.URGE.value
    today = local_today(clock, tz).isoformat()
    now = clock.now()
    active = [a for a in item.assignments if a.state in ACTIVE_STATES]
    if not active:
        raise refusal(InvalidTransition, Sentence.BATCH_NO_LEAD)
    for assignment in active:
        unit = assignment.unit.name
        key = f"a{assignment.id}:{StepKind.URGE.value}:{today}"
        sent = await session.scalar(
            select(Notification.id).where(Notification.dedupe_key.startswith(f"{key}:"))
        )
        if sent is not None:
            raise refusal(ValidationFailed, Sentence.BATCH_URGED_TODAY, unit=unit)
        people = await _urged(session, assignment, roles)
        if not people:
            raise refusal(ValidationFailed, Sentence.BATCH_NOBODY_TO_URGE, unit=unit)
        names: list[str] = []
        for target, their_roles in people:
            payload = {
                "step": StepKind.URGE.value,
                "template": template,
                "occurrence": today,
                "due_on": assignment.due_on.isoformat(),
                "roles": list(their_roles),
            }
            written = await notify_person(
                session,
                person=target,
                kind=StepKind.URGE,
                key=key,
                channels=channels,
                not_before=now,
                now=now,
                assignment_id=assignment.id,
                item_id=item.id,
                payload=payload,
            )
            if written:
                names.append(target.name)
        if StepChannel.GROUP in channels:  # the unit's group robots, as the scan's urge
            step_payload = {
                "step": StepKind.URGE.value,
                "template": template,
                "occurrence": today,
                "due_on": assignment.due_on.isoformat(),
            }
            await notify_unit_groups(
                session,
                unit_id=assignment.unit_id,
                kind=StepKind.URGE,
                key=key,
                not_before=now,
                now=now,
                assignment_id=assignment.id,
                item_id=item.id,
                payload=step_payload,
            )
        if not names:
            raise refusal(ValidationFailed, Sentence.BATCH_NOBODY_TO_URGE, unit=unit)
        record(
            session,
            clock=clock,
            actor=actor,
            entity=AuditEntity.ASSIGNMENT,
            entity_id=assignment.id,
            action=AuditAction.URGE,
            detail={"to": names, "key": key},
        )
        outcome.before.append(unit)
        outcome.after.append("、".join(names))


async def _urged(
    session: AsyncSession, assignment: Assignment, roles: Sequence[str]
) -> list[tuple[Person, tuple[str, ...]]]:
    """The active people the urge step's roles name for ``assignment``, each once with the
    roles they hold (the owner falls back to the unit's liaisons, as the scan's)."""
    found: dict[int, tuple[Person, list[str]]] = {}

    def add(people: Sequence[Person], role: str) -> None:
        for p in people:
            if p.active:
                found.setdefault(p.id, (p, []))[1].append(role)

    for role in roles:
        if role == Role.OWNER.value:
            owner = (
                await session.get(Person, assignment.owner_id)
                if assignment.owner_id is not None
                else None
            )
            if owner is not None and owner.active:
                add([owner], role)
            else:
                add(await unit_liaisons(session, assignment.unit_id), role)
        elif role == Role.LIAISON.value:
            add(await unit_liaisons(session, assignment.unit_id), role)
        elif role == Role.LEADER.value and assignment.leader_id is not None:
            leader = await session.get(Person, assignment.leader_id)
            if leader is not None:
                add([leader], role)
        elif role == Role.PRINCIPAL.value:
            add(await unit_principals(session, assignment.unit_id), role)
    return [(p, tuple(r)) for p, r in found.values()]


async def _transfer(run: _Run, item: Item, outcome: Outcome) -> None:
    """转办: each open lead assignment to the chosen unit (its liaisons stand in for an
    owner until one is named), by `transfer_assignment`'s rules."""
    session, request, actor, clock = run.session, run.request, run.actor, run.clock
    target = await session.get_one(Unit, request.unit_id)
    for assignment in _open_leads(item):
        before = assignment.unit.name
        await transfer_assignment(
            session,
            assignment,
            reason=request.reason,
            unit_id=request.unit_id,
            actor=actor,
            clock=clock,
        )
        outcome.before.append(before)
        outcome.after.append(target.name)


async def _extend(run: _Run, item: Item, outcome: Outcome) -> None:
    """延期: each open lead assignment's deadline moved to the new date, by
    `grant_extension` (the rules of an extension, approved by the office at once)."""
    session, request, person, clock, tz = run.session, run.request, run.person, run.clock, run.tz
    assert request.due_on is not None
    for assignment in _open_leads(item):
        before = assignment.due_on
        await grant_extension(
            session,
            assignment=assignment,
            reviewer=person,
            new_due_on=request.due_on,
            reason=request.reason,
            clock=clock,
            tz=tz,
        )
        outcome.before.append(before.isoformat())
        outcome.after.append(request.due_on.isoformat())


async def _cancel(run: _Run, item: Item, outcome: Outcome) -> None:
    """撤销: the item and its open assignments, by `cancel_item`."""
    session, request, actor, clock = run.session, run.request, run.actor, run.clock
    before = item.state
    await cancel_item(session, item, actor=actor, clock=clock, reason=request.reason.strip())
    outcome.before.append(before)
    outcome.after.append(item.state)


_ACTIONS: Final = {
    BatchAction.URGE: _urge,
    BatchAction.TRANSFER: _transfer,
    BatchAction.EXTEND: _extend,
    BatchAction.CANCEL: _cancel,
}
