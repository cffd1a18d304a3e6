"""Who may see and do what: the one authorization rule for the web pages, the API and the bot.

Imports only `models/`, `supervision.errors`, `supervision.units` and `supervision.people`.

A person's `Scope` is computed once (`scope_for`) from their roles and unit:

==========  =========================================  =========================================
tier        sees                                       may (office-level `Permission`)
==========  =========================================  =========================================
admin       every unit                                 everything
supervisor  every unit                                 create, edit, cancel and import items;
                                                       review; issue bulletins; see and retry
                                                       deliveries; read policies and calendar
liaison     their unit and every unit below it, and    nothing office-level; act per assignment
            any item that names them owner or leader
viewer      every unit                                 read the dashboard, items and bulletins
(none)      only the items that name them              nothing; the web and the API refuse them
==========  =========================================  =========================================

The liaison tier is any liaison, owner, leader or principal who belongs to a unit. Decisions
for the cases the role table leaves open:

- A liaison sees their whole subtree on every surface: web pages, API and the bot's ``/my``.
  Seeing an item shows all of its assignments (co units elsewhere included); an item outside
  the scope answers 404, never 403, so its existence is not disclosed.
- Acting on an assignment (`Action`) never depends on the tier but on the person's place on
  that assignment: its owner, its leader, or the liaison of its own unit (not of a unit above)
  report, ask to close and ask for more time; the unit's principal signs off; supervisors and
  admins review. A viewer therefore writes nothing, but a bound owner with no web role can
  still answer in chat.
- Bulletins rank every unit of the office: they are for the office and viewers only. A
  liaison is refused on the pages and the API alike.
- The API lists people and units inside the scope only (a liaison: their subtree).
- The bot's ``/my`` is the person's worklist: the active assignments of their unit and below
  (when they hold a unit role there) and those naming them. Office staff and viewers, who see
  every unit, are not handed the whole office there.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final, TypeVar

from sqlalchemy import ColumnElement, Select, any_, false, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import ACTIVE_STATES, Assignment, Item, Person, PersonRole, Role, Unit
from supervision.errors import NotAllowed
from supervision.labels import Sentence, refusal
from supervision.people import UNIT_ROLES
from supervision.units import subtree

__all__ = [
    "Action",
    "Member",
    "NotPermitted",
    "Permission",
    "Scope",
    "Tier",
    "actionable_assignments",
    "assignment_people",
    "can",
    "holders",
    "is_reviewer",
    "item_visible",
    "require",
    "reviewers",
    "scope_for",
    "tier_of",
    "unit_liaisons",
    "unit_principals",
]


class NotPermitted(NotAllowed):
    """The person may not act on this assignment at all (as opposed to a rule of timing)."""


class Tier(StrEnum):
    """How much of the office a person sees, from their roles (the value names the role)."""

    ADMIN = "admin"
    SUPERVISOR = "supervisor"
    LIAISON = "liaison"  # a liaison, owner, leader or principal with a unit
    VIEWER = "viewer"


class Permission(StrEnum):
    """Office-level things a tier may do (per-assignment acts are `Action`)."""

    VIEW = "view"  # dashboard, items, assignments, reports, extensions, people, units in scope
    EDIT_ITEMS = "edit_items"  # create, edit, cancel items
    IMPORT_ITEMS = "import_items"
    REVIEW = "review"  # approve or reject completions and extensions
    VIEW_BULLETINS = "view_bulletins"
    ISSUE_BULLETINS = "issue_bulletins"
    VIEW_DELIVERIES = "view_deliveries"
    RETRY_DELIVERIES = "retry_deliveries"
    VIEW_POLICIES = "view_policies"
    EDIT_POLICIES = "edit_policies"
    VIEW_CALENDAR = "view_calendar"
    EDIT_CALENDAR = "edit_calendar"
    MANAGE_PEOPLE = "manage_people"  # people pages, people import, invites
    MANAGE_UNITS = "manage_units"  # unit pages, unit import, the units API writes
    EDIT_TEMPLATES = "edit_templates"
    MANAGE_TOKENS = "manage_tokens"
    MANAGE_ROBOTS = "manage_robots"  # group robots (群机器人): set up, change, test, remove


class Action(StrEnum):
    """Things a person may do to one assignment."""

    REPORT = "report"  # file or edit progress, ask to close, ask for more time
    SIGN_OFF = "sign_off"  # 主要负责同志签发 a completion report
    REVIEW = "review"  # approve or reject a completion or an extension


_OFFICE_WORK: Final = frozenset(
    {
        Permission.VIEW,
        Permission.EDIT_ITEMS,
        Permission.IMPORT_ITEMS,
        Permission.REVIEW,
        Permission.VIEW_BULLETINS,
        Permission.ISSUE_BULLETINS,
        Permission.VIEW_DELIVERIES,
        Permission.RETRY_DELIVERIES,
        Permission.VIEW_POLICIES,
        Permission.VIEW_CALENDAR,
    }
)
#: The rule: what each tier may do. Nothing else in the code base lists tiers.
GRANTS: Final[Mapping[Tier | None, frozenset[Permission]]] = {
    Tier.ADMIN: frozenset(Permission),
    Tier.SUPERVISOR: _OFFICE_WORK,
    Tier.LIAISON: frozenset({Permission.VIEW}),
    Tier.VIEWER: frozenset({Permission.VIEW, Permission.VIEW_BULLETINS}),
    None: frozenset(),
}
#: Tiers that see every unit.
_SEE_ALL: Final = frozenset({Tier.ADMIN, Tier.SUPERVISOR, Tier.VIEWER})


def tier_of(person: Person) -> Tier | None:
    """The tier of an active person, from their roles (None: no web or API access)."""
    if not person.active:
        return None
    if person.has_role(Role.ADMIN):
        return Tier.ADMIN
    if person.has_role(Role.SUPERVISOR):
        return Tier.SUPERVISOR
    if person.unit_id is not None and any(r in UNIT_ROLES for r in person.roles):
        return Tier.LIAISON
    if person.has_role(Role.VIEWER):
        return Tier.VIEWER
    return None


def holders(permission: Permission) -> tuple[Tier, ...]:
    """The tiers granted ``permission``, highest first (for documents such as the OpenAPI)."""
    return tuple(t for t in Tier if permission in GRANTS[t])


Q = TypeVar("Q", bound=Select[Any])


@dataclass(frozen=True, slots=True)
class Member:
    """A person's place in the office as plain values: enough for the per-assignment rules
    (`Action`) and the tier's permissions, without the unit tree (that is `Scope`'s)."""

    person_id: int
    unit_id: int | None
    roles: frozenset[Role]
    active: bool
    tier: Tier | None

    @staticmethod
    def of(person: Person) -> Member:
        """The member for ``person`` (a `Scope` needs the unit tree: `scope_for`)."""
        roles = frozenset(person.roles)
        return Member(person.id, person.unit_id, roles, person.active, tier_of(person))

    def allows(self, permission: Permission) -> bool:
        """True if the person's tier grants ``permission``."""
        return permission in GRANTS[self.tier]

    def sets_channels_of(self, person_id: int) -> bool:
        """True if the person may change ``person_id``'s channel preference (接收渠道): their
        own, or anyone's as an admin of people."""
        return self.active and (
            person_id == self.person_id or self.allows(Permission.MANAGE_PEOPLE)
        )

    def can(self, action: Action, assignment: Assignment) -> bool:
        """True if the person may do ``action`` on ``assignment``."""
        if not self.active:
            return False
        if action == Action.REPORT:
            return (
                assignment.owner_id == self.person_id
                or assignment.leader_id == self.person_id
                or (self.unit_id == assignment.unit_id and Role.LIAISON in self.roles)
            )
        if action == Action.SIGN_OFF:
            return self.signs_off and self.unit_id == assignment.unit_id
        return self.allows(Permission.REVIEW)

    @property
    def signs_off(self) -> bool:
        """True for an active principal of a unit (they sign off that unit's completions)."""
        return self.active and self.unit_id is not None and Role.PRINCIPAL in self.roles

    def filter_signable(self, query: Q) -> Q:
        """Restrict a query joined to `Assignment` to those ``can(Action.SIGN_OFF, ·)``."""
        if not self.signs_off:
            return query.where(false())
        return query.where(Assignment.unit_id == self.unit_id)

    def actionable(self) -> Select[Assignment]:
        """The active assignments the person may report on (`can(Action.REPORT, ·)` in SQL,
        kept next to it), by deadline."""
        named = [Assignment.owner_id == self.person_id, Assignment.leader_id == self.person_id]
        if self.unit_id is not None and Role.LIAISON in self.roles:
            named.append(Assignment.unit_id == self.unit_id)
        return (
            select(Assignment)
            .where(or_(*named) if self.active else false(), Assignment.state.in_(ACTIVE_STATES))
            .order_by(Assignment.due_on, Assignment.id)
        )


@dataclass(frozen=True, slots=True)
class Scope(Member):
    """What one person sees and may do; plain values, safe after the session closed."""

    unit_ids: frozenset[int] | None  # the units whose items they see; None: every unit
    home_unit_ids: frozenset[int]  # their unit and below, when they hold a unit role there

    @classmethod
    def of_tree(cls, person: Person, units: Sequence[tuple[int, int | None]]) -> Scope:
        """The scope of ``person``, given the (id, parent_id) pairs of every unit."""
        member = Member.of(person)
        home: frozenset[int] = frozenset()
        if person.active and person.unit_id is not None and UNIT_ROLES & member.roles:
            home = subtree(units, person.unit_id)
        return cls(
            person_id=member.person_id,
            unit_id=member.unit_id,
            roles=member.roles,
            active=member.active,
            tier=member.tier,
            unit_ids=None if member.tier in _SEE_ALL else home,
            home_unit_ids=home,
        )

    @property
    def sees_all(self) -> bool:
        """True when every unit is in scope (admins, supervisors, viewers)."""
        return self.unit_ids is None

    def _in_units(self, units: frozenset[int]) -> ColumnElement[bool]:
        return or_(
            Assignment.unit_id.in_(sorted(units)),
            Assignment.owner_id == self.person_id,
            Assignment.leader_id == self.person_id,
        )

    def visible_item_ids(self) -> Select[int]:
        """The ids of the items in scope, as a subquery to filter with."""
        if self.unit_ids is None:
            return select(Item.id)
        return select(Assignment.item_id).where(self._in_units(self.unit_ids))

    def filter_items(self, query: Q, *, as_array: bool = False) -> Q:
        """Restrict a query over `Item` to the items in scope.

        ``as_array`` (PostgreSQL only): the ids are collected once into an array
        (``items.id = ANY(ARRAY(…))``), so that the planner reads the items in scope by
        their key instead of joining every item to them (docs/BENCHMARKS.md: a liaison's
        list and count at 100k)."""
        if self.unit_ids is None:
            return query
        if as_array:
            ids = func.array(self.visible_item_ids().scalar_subquery())
            return query.where(Item.id == any_(ids))
        return query.where(Item.id.in_(self.visible_item_ids()))

    def filter_items_by_key(self, query: Q) -> Q:
        """`filter_items` asked of each item read, through its own assignments (by key): for
        a query that reads few items (the open ones), where `filter_items` reads every
        assignment the scope's units were ever given."""
        if self.unit_ids is None:
            return query
        mine = (
            select(Assignment.id)
            .where(Assignment.item_id == Item.id, self._in_units(self.unit_ids))
            .offset(0)  # PostgreSQL: asked per item, not turned into a join of the scope's
        )
        return query.where(mine.exists())

    def filter_assignments(self, query: Q) -> Q:
        """Restrict a query over `Assignment` to those of the items in scope."""
        if self.unit_ids is None:
            return query
        return query.where(Assignment.item_id.in_(self.visible_item_ids()))

    def filter_units(self, query: Q) -> Q:
        """Restrict a query over `Unit` to the units in scope."""
        if self.unit_ids is None:
            return query
        return query.where(Unit.id.in_(sorted(self.unit_ids)))

    def filter_people(self, query: Q) -> Q:
        """Restrict a query over `Person` to the people of the units in scope."""
        if self.unit_ids is None:
            return query
        return query.where(Person.unit_id.in_(sorted(self.unit_ids)))

    def sees_unit(self, unit_id: int | None) -> bool:
        """True if ``unit_id`` is in scope."""
        return self.unit_ids is None or unit_id in self.unit_ids

    def worklist(self) -> Select[Assignment]:
        """The active assignments on the person's desk (the bot's ``/my``), by deadline."""
        return (
            select(Assignment)
            .where(
                self._in_units(self.home_unit_ids) if self.active else false(),
                Assignment.state.in_(ACTIVE_STATES),
            )
            .order_by(Assignment.due_on, Assignment.id)
        )


async def scope_for(session: AsyncSession, person: Person) -> Scope:
    """The scope of ``person`` (one query for the unit tree when they belong to a unit)."""
    units: list[tuple[int, int | None]] = []
    if person.unit_id is not None:
        units = [(u, p) for u, p in (await session.execute(select(Unit.id, Unit.parent_id)))]
    return Scope.of_tree(person, units)


async def item_visible(session: AsyncSession, scope: Scope, item_id: int) -> bool:
    """True if the item exists and is in scope."""
    query = scope.filter_items(select(Item.id).where(Item.id == item_id))
    return (await session.scalar(query)) is not None


def is_reviewer(person: Person) -> bool:
    """Whether ``person`` reviews completions and extensions (office staff or an admin)."""
    return Permission.REVIEW in GRANTS[tier_of(person)]


def can(person: Person | None, action: Action, assignment: Assignment) -> bool:
    """True if ``person`` may do ``action`` on ``assignment``."""
    return person is not None and Member.of(person).can(action, assignment)


def require(person: Person | None, action: Action, assignment: Assignment) -> None:
    """Raise NotAllowed unless ``person`` may do ``action`` on ``assignment``."""
    if not can(person, action, assignment):
        raise refusal(NotPermitted, Sentence.NOT_ALLOWED_ON_ITEM)


async def actionable_assignments(session: AsyncSession, person: Person) -> Sequence[Assignment]:
    """The active assignments ``person`` may report on, oldest deadline first."""
    return (await session.scalars(Member.of(person).actionable())).all()


async def _people_with_role(
    session: AsyncSession, role: Role, unit_id: int | None = None
) -> Sequence[Person]:
    stmt = (
        select(Person)
        .join(PersonRole, PersonRole.person_id == Person.id)
        .where(PersonRole.role == role, Person.active)
        .order_by(Person.id)
    )
    if unit_id is not None:
        stmt = stmt.where(Person.unit_id == unit_id)
    return (await session.scalars(stmt)).unique().all()


async def unit_principals(session: AsyncSession, unit_id: int) -> Sequence[Person]:
    """The active principals (主要负责同志) of a unit."""
    return await _people_with_role(session, Role.PRINCIPAL, unit_id)


async def unit_liaisons(session: AsyncSession, unit_id: int) -> Sequence[Person]:
    """The active liaisons (联络员) of a unit."""
    return await _people_with_role(session, Role.LIAISON, unit_id)


async def assignment_people(session: AsyncSession, assignment: Assignment) -> list[Person]:
    """Whom news of an assignment concerns: its active owner and leader, and its unit's
    liaisons when it has no active owner (or nobody else)."""
    people = [
        p
        for pid in (assignment.owner_id, assignment.leader_id)
        if pid is not None and (p := await session.get(Person, pid)) is not None and p.active
    ]
    if assignment.owner_id is None or not people:
        people += [p for p in await unit_liaisons(session, assignment.unit_id) if p not in people]
    return people


async def reviewers(session: AsyncSession) -> Sequence[Person]:
    """The active supervisors (督查室工作人员) who receive review requests."""
    return await _people_with_role(session, Role.SUPERVISOR)
