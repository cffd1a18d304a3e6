"""Item and assignment lifecycle: open -> completion_requested -> closed, plus cancelled.

An item closes when all its lead assignments close, and its co assignments (协办) still
active close with it. Every transition writes an AuditEvent; an invalid one raises
:class:`InvalidTransition` and changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models import Assignment, AssignmentRole, Item, ItemState
from supervision.audit import Actor, record
from supervision.clock import Clock
from supervision.errors import InvalidTransition
from supervision.labels import label
from supervision.schedule import reschedule

S = ItemState

ALLOWED: dict[ItemState, frozenset[ItemState]] = {
    S.OPEN: frozenset({S.COMPLETION_REQUESTED, S.CLOSED, S.CANCELLED}),
    S.COMPLETION_REQUESTED: frozenset({S.OPEN, S.CLOSED, S.CANCELLED}),
    S.CLOSED: frozenset({S.OPEN}),  # reopened by a supervisor
    S.CANCELLED: frozenset(),
}

#: Why a co assignment closed without a review of its own.
CLOSED_WITH_ITEM = "主办单位已办结，协办随之办结 (closed with the item)"


def check_transition(kind: str, current: str, target: ItemState) -> None:
    """Raise InvalidTransition unless ``current -> target`` is allowed."""
    state = ItemState(current)
    if target not in ALLOWED[state]:
        raise InvalidTransition(
            f"{kind} cannot go from {state.value} ({label(state)}) "
            f"to {target.value} ({label(target)})"
        )


def derive_item_state(lead_states: Iterable[str], current: str) -> ItemState:
    """The item's state implied by its lead assignments' states."""
    states = [ItemState(s) for s in lead_states if s != S.CANCELLED]
    if ItemState(current) == S.CANCELLED:
        return S.CANCELLED
    if not states:
        return ItemState(current)
    if all(s == S.CLOSED for s in states):
        return S.CLOSED
    if all(s in (S.CLOSED, S.COMPLETION_REQUESTED) for s in states):
        return S.COMPLETION_REQUESTED
    return S.OPEN


def _audit_transition(
    session: AsyncSession,
    *,
    clock: Clock,
    actor: Actor,
    entity: str,
    entity_id: int,
    before: str,
    after: ItemState,
    reason: str | None,
) -> None:
    record(
        session,
        clock=clock,
        actor=actor,
        entity=entity,
        entity_id=entity_id,
        action="transition",
        from_state=before,
        to_state=after.value,
        detail={"reason": reason} if reason else None,
    )


async def _move_assignment(
    session: AsyncSession,
    assignment: Assignment,
    target: ItemState,
    *,
    actor: Actor,
    clock: Clock,
    reason: str | None,
) -> None:
    check_transition("assignment", assignment.state, target)
    before = assignment.state
    assignment.state = target
    assignment.closed_at = clock.now() if target == S.CLOSED else None
    # Closed, cancelled and completion-requested work has no next step; reopened work resumes.
    await reschedule(session, assignment, clock=clock)
    _audit_transition(
        session,
        clock=clock,
        actor=actor,
        entity="assignment",
        entity_id=assignment.id,
        before=before,
        after=target,
        reason=reason,
    )


async def transition_assignment(
    session: AsyncSession,
    assignment: Assignment,
    target: ItemState,
    *,
    actor: Actor,
    clock: Clock,
    reason: str | None = None,
) -> None:
    """Move one assignment to ``target``, audit it, and bring its item along."""
    await _move_assignment(session, assignment, target, actor=actor, clock=clock, reason=reason)
    await sync_item_state(session, assignment.item_id, actor=actor, clock=clock)


async def sync_item_state(
    session: AsyncSession, item_id: int, *, actor: Actor, clock: Clock
) -> ItemState:
    """Recompute an item's state from its lead assignments; audit a change.

    When the item closes, its co assignments still active close with it: a co unit's duty
    is input to the lead unit, and there is nothing left to give once the item is done.
    """
    item = await session.get_one(Item, item_id)
    await session.flush()
    lead_states = (
        await session.scalars(
            select(Assignment.state).where(
                Assignment.item_id == item_id, Assignment.role == AssignmentRole.LEAD
            )
        )
    ).all()
    new_state = derive_item_state(lead_states, item.state)
    if new_state != item.state:
        before = item.state
        item.state = new_state
        item.closed_at = clock.now() if new_state == S.CLOSED else None
        _audit_transition(
            session,
            clock=clock,
            actor=actor,
            entity="item",
            entity_id=item.id,
            before=before,
            after=new_state,
            reason=None,
        )
        if new_state == S.CLOSED:
            await _close_co_assignments(session, item_id, actor=actor, clock=clock)
    return new_state


async def _close_co_assignments(
    session: AsyncSession, item_id: int, *, actor: Actor, clock: Clock
) -> None:
    active = (
        await session.scalars(
            select(Assignment)
            .where(
                Assignment.item_id == item_id,
                Assignment.role == AssignmentRole.CO,
                Assignment.state.in_([S.OPEN.value, S.COMPLETION_REQUESTED.value]),
            )
            .order_by(Assignment.id)
        )
    ).all()
    for assignment in active:
        await _move_assignment(
            session, assignment, S.CLOSED, actor=actor, clock=clock, reason=CLOSED_WITH_ITEM
        )


async def cancel_item(
    session: AsyncSession, item: Item, *, actor: Actor, clock: Clock, reason: str
) -> None:
    """Cancel an item and every assignment still active (撤销)."""
    check_transition("item", item.state, S.CANCELLED)
    if not reason.strip():
        raise InvalidTransition("a reason is required to cancel an item")
    assignments = (
        await session.scalars(select(Assignment).where(Assignment.item_id == item.id))
    ).all()
    for assignment in assignments:
        if assignment.state in (S.OPEN, S.COMPLETION_REQUESTED):
            await _move_assignment(
                session, assignment, S.CANCELLED, actor=actor, clock=clock, reason=reason
            )
    before = item.state
    item.state = S.CANCELLED
    _audit_transition(
        session,
        clock=clock,
        actor=actor,
        entity="item",
        entity_id=item.id,
        before=before,
        after=S.CANCELLED,
        reason=reason,
    )
