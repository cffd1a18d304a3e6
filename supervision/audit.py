"""Writing audit events: who did what, when, and from which state to which."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

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
        at=clock.now(),
        actor_id=actor.person_id,
        actor_label=actor.label,
        entity=entity,
        entity_id=entity_id,
        action=action,
        from_state=from_state,
        to_state=to_state,
        detail=detail or {},
    )
    session.add(event)
    return event
