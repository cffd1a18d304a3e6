"""Milestones (阶段性节点, seed 二(三) 时序进度): add, edit, complete and list an item's stages.

Every use-case is the office's work (`Permission.EDIT_ITEMS`) on an item in the actor's scope,
is validated whole (every problem named, nothing changed) and is audited.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from models import (
    ACTIVE_STATES,
    AuditAction,
    AuditEntity,
    Item,
    Milestone,
    MilestoneState,
    Person,
    Unit,
)
from supervision.access import NotPermitted, Permission, Scope, item_visible
from supervision.audit import Actor, apply_changes, record
from supervision.calendar import WorkCalendar
from supervision.clock import Clock
from supervision.errors import InvalidTransition, NotFound, ValidationFailed
from supervision.item_schema import Day, Id, not_blank
from supervision.items import SaveOutcome, due_in_force
from supervision.labels import Sentence, refusal
from supervision.light import Light, milestone_light
from supervision.validation import Body, Patch

MAX_NAME = 200
ENTITY = AuditEntity.MILESTONE


@dataclass(frozen=True, slots=True)
class MilestoneSpec:
    """What a milestone is: its name, date, responsible unit, person and (optional) leader."""

    name: str
    due_on: date
    unit_id: int
    owner_id: int | None = None
    leader_id: int | None = None


def spec_of(milestone: Milestone) -> MilestoneSpec:
    """The spec that reproduces ``milestone`` as it stands (the base of a partial change)."""
    return MilestoneSpec(
        milestone.name, milestone.due_on, milestone.unit_id, milestone.owner_id, milestone.leader_id
    )


Name = Annotated[
    str, BeforeValidator(not_blank), Field(strict=True, min_length=1, max_length=MAX_NAME)
]


class MilestoneInput(Body):
    """A new milestone (阶段性节点) of an item."""

    name: Name = Field(description="节点名称")
    due_on: Day = Field(description="节点时限, within the item's period")
    unit_id: Id = Field(description="责任单位")
    owner_id: Id | None = Field(default=None, description="责任人, a person of the unit")
    leader_id: Id | None = Field(default=None, description="责任领导")

    def spec(self) -> MilestoneSpec:
        """The milestone as `add_milestone` takes it."""
        return MilestoneSpec(self.name, self.due_on, self.unit_id, self.owner_id, self.leader_id)


class MilestonePatch(Patch):
    """Some fields of an open milestone, and/or ``done: true`` to record it done now."""

    name: Name | None = Field(default=None, description="节点名称")
    due_on: Day | None = Field(default=None, description="节点时限")
    unit_id: Id | None = Field(default=None, description="责任单位")
    owner_id: Id | None = Field(default=None, description="责任人; null clears it")
    leader_id: Id | None = Field(default=None, description="责任领导; null clears it")
    done: Literal[True] | None = Field(default=None, description="true: record it done now")

    @property
    def edits(self) -> bool:
        """True if a field other than ``done`` was sent."""
        return bool(self.model_fields_set - {"done"})

    def apply(self, base: MilestoneSpec) -> MilestoneSpec:
        """``base`` with the sent fields changed (a sent null clears the person or leader)."""
        sent = self.model_fields_set
        return MilestoneSpec(
            name=self.name if self.name is not None else base.name,
            due_on=self.due_on if self.due_on is not None else base.due_on,
            unit_id=self.unit_id if self.unit_id is not None else base.unit_id,
            owner_id=self.owner_id if "owner_id" in sent else base.owner_id,
            leader_id=self.leader_id if "leader_id" in sent else base.leader_id,
        )


@dataclass(frozen=True, slots=True)
class MilestoneRow:
    """One milestone as the web, the API and the CLI show it."""

    id: int
    item_id: int
    name: str
    due_on: date
    unit_id: int
    unit_name: str
    owner_id: int | None
    owner_name: str | None
    leader_id: int | None
    leader_name: str | None
    state: str
    completed_at: datetime | None
    light: Light


def _allow(scope: Scope) -> None:
    if not scope.allows(Permission.EDIT_ITEMS):
        raise refusal(NotPermitted, Sentence.MILESTONES_NOT_ALLOWED)


async def _item(session: AsyncSession, scope: Scope, item_id: int) -> Item:
    """The item in scope, with its assignments (for the deadline in force); else NotFound."""
    if not await item_visible(session, scope, item_id):
        raise refusal(NotFound, Sentence.ITEM_NOT_FOUND)
    item = await session.scalar(
        select(Item).where(Item.id == item_id).options(selectinload(Item.assignments))
    )
    assert item is not None
    return item


async def milestone_problems(
    session: AsyncSession, item: Item, spec: MilestoneSpec
) -> list[tuple[str, str]]:
    """Every problem of ``spec`` as a milestone of ``item``: (field of the spec, message).

    ``item.assignments`` must be loaded (the deadline in force bounds the milestone's)."""
    problems: list[tuple[str, str]] = []
    name = _clean(spec.name)
    if not name:
        problems.append(("name", "节点名称不能为空 (name is required)"))
    elif len(name) > MAX_NAME:
        problems.append(("name", f"节点名称过长：最多 {MAX_NAME} 字 (name too long)"))
    if spec.due_on < item.received_on:
        problems.append(
            (
                "due_on",
                f"节点时限 {spec.due_on} 早于事项收文日期 {item.received_on} (due before received)",
            )
        )
    deadline = due_in_force(item)
    if spec.due_on > deadline:
        problems.append(
            (
                "due_on",
                f"节点时限 {spec.due_on} 晚于事项完成时限 {deadline}"
                " (due after the item's deadline)",
            )
        )
    unit = await session.get(Unit, spec.unit_id)
    if unit is None:
        problems.append(("unit_id", "责任单位不存在 (unit not found)"))
    for field, label, person_id in (
        ("owner_id", "责任人", spec.owner_id),
        ("leader_id", "责任领导", spec.leader_id),
    ):
        if person_id is None:
            continue
        person = await session.get(Person, person_id)
        if person is None or not person.active:
            problems.append((field, f"{label}不存在或已停用 (person not found or inactive)"))
        elif field == "owner_id" and unit is not None and person.unit_id != unit.id:
            problems.append(
                (field, f"责任人 {person.name} 不属于责任单位 {unit.name} (owner not in unit)")
            )
    return problems


def _clean(name: str) -> str:
    return " ".join(name.split())


async def _check(session: AsyncSession, item: Item, spec: MilestoneSpec) -> dict[str, Any]:
    """The column values of ``spec`` for ``item``, or ValidationFailed naming every problem."""
    problems = await milestone_problems(session, item, spec)
    if problems:
        raise ValidationFailed(problems[0][1], [message for _, message in problems])
    return {
        "name": _clean(spec.name),
        "due_on": spec.due_on,
        "unit_id": spec.unit_id,
        "owner_id": spec.owner_id,
        "leader_id": spec.leader_id,
    }


def _require_active(item: Item) -> None:
    if item.state not in ACTIVE_STATES:
        raise refusal(InvalidTransition, Sentence.MILESTONE_ITEM_CLOSED)


async def add_milestone(
    session: AsyncSession,
    *,
    scope: Scope,
    actor: Actor,
    item_id: int,
    spec: MilestoneSpec,
    clock: Clock,
) -> Milestone:
    """Add a milestone to an open item in scope (audited ``create``)."""
    _allow(scope)
    item = await _item(session, scope, item_id)
    return await _create(session, item, spec, actor=actor, clock=clock)


async def _create(
    session: AsyncSession, item: Item, spec: MilestoneSpec, *, actor: Actor, clock: Clock
) -> Milestone:
    _require_active(item)
    values = await _check(session, item, spec)
    # Its ladder (节点提醒 → 节点催办 → 节点逾期督办) is planned by the next scan.
    milestone = Milestone(
        item_id=item.id, state=MilestoneState.OPEN, next_action_at=clock.now(), **values
    )
    session.add(milestone)
    await session.flush()
    detail = {k: v.isoformat() if isinstance(v, date) else v for k, v in values.items()}
    record(
        session,
        clock=clock,
        actor=actor,
        entity=ENTITY,
        entity_id=milestone.id,
        action=AuditAction.CREATE,
        to_state=milestone.state,
        detail={"item_id": item.id, **detail},
    )
    return milestone


async def _milestone(session: AsyncSession, scope: Scope, milestone_id: int) -> Milestone:
    """The milestone if its item is in scope (locked for the change); else NotFound."""
    milestone = await session.scalar(
        select(Milestone).where(Milestone.id == milestone_id).with_for_update()
    )
    if milestone is None or not await item_visible(session, scope, milestone.item_id):
        raise refusal(NotFound, Sentence.MILESTONE_NOT_FOUND)
    return milestone


async def get_milestone(
    session: AsyncSession, *, scope: Scope, item_id: int, milestone_id: int
) -> Milestone:
    """A milestone of item ``item_id`` in scope; NotFound otherwise (or of another item)."""
    milestone = await _milestone(session, scope, milestone_id)
    if milestone.item_id != item_id:
        raise refusal(NotFound, Sentence.MILESTONE_NOT_FOUND)
    return milestone


async def edit_milestone(
    session: AsyncSession,
    *,
    scope: Scope,
    actor: Actor,
    milestone_id: int,
    spec: MilestoneSpec,
    clock: Clock,
) -> dict[str, list[Any]]:
    """Change an open milestone; return the changes (audited ``update`` when any)."""
    _allow(scope)
    milestone = await _milestone(session, scope, milestone_id)
    item = await _item(session, scope, milestone.item_id)
    return await _update(session, item, milestone, spec, actor=actor, clock=clock)


async def _update(
    session: AsyncSession,
    item: Item,
    milestone: Milestone,
    spec: MilestoneSpec,
    *,
    actor: Actor,
    clock: Clock,
) -> dict[str, list[Any]]:
    if not milestone.is_open:
        raise InvalidTransition("节点已完成，不能修改 (milestone is done)")
    _require_active(item)
    changes = apply_changes(milestone, await _check(session, item, spec))
    if changes:
        # Re-planned by the next scan: a moved date starts its ladder afresh, and a step
        # whose moment has passed is sent once (by its key), never twice.
        milestone.next_action_at = clock.now()
        record(
            session,
            clock=clock,
            actor=actor,
            entity=ENTITY,
            entity_id=milestone.id,
            action=AuditAction.UPDATE,
            detail={
                "changes": {
                    k: [v.isoformat() if isinstance(v, date) else v for v in pair]
                    for k, pair in changes.items()
                }
            },
        )
    return changes


async def import_milestone(
    session: AsyncSession, item: Item, spec: MilestoneSpec, *, actor: Actor, clock: Clock
) -> SaveOutcome:
    """Add ``spec`` to ``item``, or change its open milestone of the same name; return
    what it did. For `supervision.importing`, whose callers
    hold `Permission.IMPORT_ITEMS` (the web page) or run the CLI; ``item.assignments`` and
    ``item.milestones`` must be loaded."""
    name = _clean(spec.name)
    same = next((m for m in item.milestones if m.name == name), None)
    if same is None:
        item.milestones.append(await _create(session, item, spec, actor=actor, clock=clock))
        return SaveOutcome.CREATED
    if same.is_open:
        changed = await _update(session, item, same, spec, actor=actor, clock=clock)
        return SaveOutcome.UPDATED if changed else SaveOutcome.UNCHANGED
    if spec_of(same) != replace(spec, name=name):
        raise InvalidTransition(f"节点“{name}”已完成，不能修改 (milestone is done)")
    return SaveOutcome.UNCHANGED


async def complete_milestone(
    session: AsyncSession,
    *,
    scope: Scope,
    actor: Actor,
    milestone_id: int,
    clock: Clock,
) -> Milestone:
    """Record an open milestone done now, by ``actor`` (audited ``complete``, open -> done)."""
    _allow(scope)
    milestone = await _milestone(session, scope, milestone_id)
    if not milestone.is_open:
        raise InvalidTransition("节点已完成 (milestone already done)")
    milestone.state = MilestoneState.DONE
    milestone.next_action_at = None  # a done milestone gets no more reminders
    milestone.completed_at = clock.now()
    milestone.completed_by_id = actor.person_id
    record(
        session,
        clock=clock,
        actor=actor,
        entity=ENTITY,
        entity_id=milestone.id,
        action=AuditAction.COMPLETE,
        from_state=MilestoneState.OPEN,
        to_state=MilestoneState.DONE,
    )
    return milestone


async def list_milestones(
    session: AsyncSession,
    *,
    scope: Scope,
    item_id: int,
    today: date,
    calendar: WorkCalendar,
) -> list[MilestoneRow]:
    """An item's milestones in scope, by date, each with its light (NotFound out of scope)."""
    if not await item_visible(session, scope, item_id):
        raise refusal(NotFound, Sentence.ITEM_NOT_FOUND)
    milestones = (
        await session.scalars(
            select(Milestone)
            .where(Milestone.item_id == item_id)
            .options(
                selectinload(Milestone.unit),
                selectinload(Milestone.owner),
                selectinload(Milestone.leader),
            )
            .order_by(Milestone.due_on, Milestone.id)
        )
    ).all()
    return [
        MilestoneRow(
            id=m.id,
            item_id=m.item_id,
            name=m.name,
            due_on=m.due_on,
            unit_id=m.unit_id,
            unit_name=m.unit.name,
            owner_id=m.owner_id,
            owner_name=m.owner.name if m.owner else None,
            leader_id=m.leader_id,
            leader_name=m.leader.name if m.leader else None,
            state=m.state,
            completed_at=m.completed_at,
            light=milestone_light(m, today=today, calendar=calendar),
        )
        for m in milestones
    ]
