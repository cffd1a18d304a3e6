"""Writing audit events: who did what, when, and from which state to which."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from models import AuditEvent, Person
from supervision.clock import Clock


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acts: a person, or a labelled system component (``system``, ``cli``, ``import``)."""

    person_id: int | None
    label: str

    @classmethod
    def of(cls, person: Person) -> Actor:
        """The actor for a person."""
        return cls(person.id, person.name)

    @classmethod
    def system(cls, label: str = "system") -> Actor:
        """A non-person actor."""
        return cls(None, label)


def apply_changes(obj: object, values: dict[str, Any]) -> dict[str, list[Any]]:
    """Set ``values`` on ``obj``; return ``{field: [old, new]}`` for those that differ.

    What an ``update`` event's ``changes`` detail holds.
    """
    changed: dict[str, list[Any]] = {}
    for name, value in values.items():
        old = getattr(obj, name)
        if old != value:
            changed[name] = [old, value]
            setattr(obj, name, value)
    return changed


@dataclass(frozen=True, slots=True)
class Event:
    """One event for :func:`record_all`: the arguments of :func:`record` but the clock."""

    actor: Actor
    entity: str
    entity_id: int
    action: str
    from_state: str | None = None
    to_state: str | None = None
    detail: dict[str, Any] | None = None

    def row(self, clock: Clock) -> dict[str, Any]:
        """The audit_events row of the event, stamped now."""
        return {
            "at": clock.now(),
            "actor_id": self.actor.person_id,
            "actor_label": self.actor.label,
            "entity": self.entity,
            "entity_id": self.entity_id,
            "action": self.action,
            "from_state": self.from_state,
            "to_state": self.to_state,
            "detail": self.detail or {},
        }


async def record_all(session: AsyncSession, *, clock: Clock, events: Sequence[Event]) -> None:
    """Write many events now, in one statement (no ORM objects: for batches)."""
    if events:
        await session.execute(insert(AuditEvent), [e.row(clock) for e in events])


def record(
    session: AsyncSession,
    *,
    clock: Clock,
    actor: Actor,
    entity: str,
    entity_id: int,
    action: str,
    from_state: str | None = None,
    to_state: str | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Add one audit event to the session (written with the change it describes)."""
    event = AuditEvent(
        **Event(actor, entity, entity_id, action, from_state, to_state, detail).row(clock)
    )
    session.add(event)
    return event
