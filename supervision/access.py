"""Who may act on an assignment: one place for the bot, the web admin and the API.

Owner, leader and the unit's liaison report and ask; the unit's principal signs off (签发);
supervisors and admins review. Imports only `models/` and `supervision.errors`.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import ACTIVE_STATES, Assignment, Person, PersonRole, Role
from supervision.errors import NotAllowed

__all__ = [
    "Action",
    "NotPermitted",
    "actionable_assignments",
    "can",
    "is_reviewer",
    "require",
    "reviewers",
    "unit_principals",
]


class NotPermitted(NotAllowed):
    """The person may not act on this assignment at all (as opposed to a rule of timing)."""


class Action(StrEnum):
    """Things a person may do to an assignment."""

    REPORT = "report"  # file or edit progress, ask to close, ask for more time
    SIGN_OFF = "sign_off"  # 主要负责同志签发 a completion report
    REVIEW = "review"  # approve or reject a completion or an extension
    VIEW = "view"


def _acts_for_unit(person: Person, assignment: Assignment) -> bool:
    return (
        person.unit_id is not None
        and person.unit_id == assignment.unit_id
        and person.has_role(Role.LIAISON)
    )


def is_reviewer(person: Person) -> bool:
    """Whether ``person`` reviews completions and extensions (office staff or an admin)."""
    return person.has_role(Role.SUPERVISOR, Role.ADMIN)


def can(person: Person | None, action: Action, assignment: Assignment) -> bool:
    """True if ``person`` may do ``action`` on ``assignment``."""
    if person is None or not person.active:
        return False
    is_reporter = (
        assignment.owner_id == person.id
        or assignment.leader_id == person.id
        or _acts_for_unit(person, assignment)
    )
    signs_off = person.unit_id == assignment.unit_id and person.has_role(Role.PRINCIPAL)
    if action == Action.REPORT:
        return is_reporter
    if action == Action.SIGN_OFF:
        return signs_off
    if action == Action.REVIEW:
        return is_reviewer(person)
    return is_reporter or signs_off or is_reviewer(person)


def require(person: Person | None, action: Action, assignment: Assignment) -> None:
    """Raise NotAllowed unless ``person`` may do ``action`` on ``assignment``."""
    if not can(person, action, assignment):
        raise NotPermitted("您无权对该事项执行此操作 (not allowed)")


async def actionable_assignments(session: AsyncSession, person: Person) -> Sequence[Assignment]:
    """The active assignments ``person`` may report on, oldest deadline first."""
    conditions = [Assignment.owner_id == person.id, Assignment.leader_id == person.id]
    if person.unit_id is not None and person.has_role(Role.LIAISON):
        conditions.append(Assignment.unit_id == person.unit_id)
    stmt = (
        select(Assignment)
        .where(or_(*conditions), Assignment.state.in_(ACTIVE_STATES))
        .order_by(Assignment.due_on, Assignment.id)
    )
    return (await session.scalars(stmt)).all()


async def _people_with_role(
    session: AsyncSession, role: Role, unit_id: int | None = None
) -> Sequence[Person]:
    stmt = (
        select(Person)
        .join(PersonRole, PersonRole.person_id == Person.id)
        .where(PersonRole.role == role.value, Person.active)
        .order_by(Person.id)
    )
    if unit_id is not None:
        stmt = stmt.where(Person.unit_id == unit_id)
    return (await session.scalars(stmt)).unique().all()


async def unit_principals(session: AsyncSession, unit_id: int) -> Sequence[Person]:
    """The active principals (主要负责同志) of a unit."""
    return await _people_with_role(session, Role.PRINCIPAL, unit_id)


async def reviewers(session: AsyncSession) -> Sequence[Person]:
    """The active supervisors (督查室工作人员) who receive review requests."""
    return await _people_with_role(session, Role.SUPERVISOR)
