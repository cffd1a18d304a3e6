"""Who a ladder step goes to: the recipient roles of a step resolved to people, in bulk.

owner = the assignment's owner (an assignment without one, say a 协办 unit given no 责任人,
falls back to its unit's active liaisons); liaison = active liaisons of its unit; leader = the
assignment's leader (else the unit's leaders); principal = the unit's principals;
supervisors = every active supervisor of the office. Imports models and supervision only.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import ARRAY, ColumnElement, Integer, Table, any_, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from models import Person, PersonRole, Role
from supervision.policy import SUPERVISORS

__all__ = ["Recipient", "RecipientDirectory", "RecipientNeed", "id_in"]

_UNIT_ROLES = (Role.LIAISON, Role.LEADER, Role.PRINCIPAL)


@dataclass(frozen=True, slots=True)
class Recipient:
    """The parts of a person that the outbox needs (read once per scan batch)."""

    id: int
    locale: str
    email: str | None
    telegram_chat_id: int | None
    wecom_userid: str | None = None
    dingtalk_userid: str | None = None
    feishu_user_id: str | None = None
    channel_prefs: str | None = None


@dataclass(frozen=True, slots=True)
class RecipientNeed:
    """One assignment's people-bearing columns and the roles one of its steps names."""

    unit_id: int
    owner_id: int | None
    leader_id: int | None
    roles: tuple[str, ...]


# Core tables and columns: the rows skip the ORM's loading machinery (a batch reads many).
_people = cast(Table, Person.__table__)
_roles = cast(Table, PersonRole.__table__)
_COLUMNS = (
    _people.c.id,
    _people.c.locale,
    _people.c.email,
    _people.c.telegram_chat_id,
    _people.c.wecom_userid,
    _people.c.dingtalk_userid,
    _people.c.feishu_user_id,
    _people.c.channel_prefs,
)


def _recipient(
    person_id: int,
    locale: str,
    email: str | None,
    chat_id: int | None,
    wecom: str | None,
    dingtalk: str | None,
    feishu: str | None,
    prefs: str | None,
) -> Recipient:
    return Recipient(
        id=person_id,
        locale=locale or "zh",
        email=email,
        telegram_chat_id=chat_id,
        wecom_userid=wecom,
        dingtalk_userid=dingtalk,
        feishu_user_id=feishu,
        channel_prefs=prefs,
    )


def id_in(
    column: InstrumentedAttribute[Any] | ColumnElement[Any], values: set[int], postgres: bool
) -> ColumnElement[bool]:
    """``column IN values``; on PostgreSQL one array parameter, so the statement is reused."""
    if postgres:
        return column == any_(bindparam(None, sorted(values), type_=ARRAY(Integer)))
    return column.in_(sorted(values))


class RecipientDirectory:
    """Active people by id, by (unit, role) and the supervisors, loaded in a few queries."""

    def __init__(
        self,
        by_id: dict[int, Recipient],
        by_unit_role: dict[tuple[int, str], list[Recipient]],
        supervisors: list[Recipient],
    ) -> None:
        self._by_id = by_id
        self._by_unit_role = by_unit_role
        self._supervisors = supervisors

    @classmethod
    async def load(
        cls, session: AsyncSession, needs: Iterable[RecipientNeed]
    ) -> RecipientDirectory:
        """Load exactly the people ``needs`` can name (one query per kind of lookup)."""
        postgres = session.bind is not None and session.bind.dialect.name == "postgresql"
        ids: set[int] = set()
        unit_roles: set[str] = set()
        units: set[int] = set()
        want_supervisors = False
        for need in needs:
            roles = set(need.roles)
            if Role.OWNER in roles:
                if need.owner_id is not None:
                    ids.add(need.owner_id)
                else:  # no owner named: the unit's liaisons stand in
                    roles.add(Role.LIAISON)
            if Role.LEADER in roles and need.leader_id is not None:
                ids.add(need.leader_id)
            wanted = roles & set(_UNIT_ROLES)  # unit leaders stand in for a missing leader
            if wanted:
                unit_roles |= wanted
                units.add(need.unit_id)
            want_supervisors = want_supervisors or SUPERVISORS in roles
        by_id: dict[int, Recipient] = {}
        if ids:
            rows = await session.execute(
                select(*_COLUMNS).where(id_in(_people.c.id, ids, postgres), _people.c.active)
            )
            by_id = {r[0]: _recipient(*r) for r in rows}
        by_unit_role: dict[tuple[int, str], list[Recipient]] = defaultdict(list)
        if units:
            unit_rows = await session.execute(
                select(*_COLUMNS, _people.c.unit_id, _roles.c.role)
                .join(_roles, _roles.c.person_id == _people.c.id)
                .where(
                    id_in(_people.c.unit_id, units, postgres),
                    _roles.c.role.in_(sorted(unit_roles)),
                    _people.c.active,
                )
                .order_by(_people.c.id)
            )
            for *columns, unit_id, role in unit_rows:
                if unit_id is None:
                    continue
                by_unit_role[(unit_id, role)].append(_recipient(*columns))
        supervisors: list[Recipient] = []
        if want_supervisors:
            rows = await session.execute(
                select(*_COLUMNS)
                .join(_roles, _roles.c.person_id == _people.c.id)
                .where(_roles.c.role == Role.SUPERVISOR, _people.c.active)
                .order_by(_people.c.id)
            )
            supervisors = [_recipient(*r) for r in rows]
        return cls(by_id, dict(by_unit_role), supervisors)

    def resolve(self, need: RecipientNeed) -> list[tuple[Recipient, tuple[str, ...]]]:
        """The people a step reaches, each once, with the roles they were chosen for."""
        chosen: dict[int, tuple[Recipient, list[str]]] = {}

        def take(people: Iterable[Recipient], role: str) -> None:
            for person in people:
                entry = chosen.setdefault(person.id, (person, []))
                if role not in entry[1]:
                    entry[1].append(role)

        for role in need.roles:
            if role == Role.OWNER:
                if need.owner_id is None:  # no owner named: the unit's liaisons stand in
                    take(self._by_unit_role.get((need.unit_id, Role.LIAISON), []), role)
                    continue
                owner = self._by_id.get(need.owner_id)
                take([owner] if owner else [], role)
            elif role == Role.LEADER:
                leader = self._by_id.get(need.leader_id) if need.leader_id is not None else None
                if leader is not None:
                    take([leader], role)
                else:  # no leader named, or no longer active: the unit's leaders
                    take(self._by_unit_role.get((need.unit_id, role), []), role)
            elif role in _UNIT_ROLES:
                take(self._by_unit_role.get((need.unit_id, role), []), role)
            elif role == SUPERVISORS:
                take(self._supervisors, role)
        return [(person, tuple(roles)) for person, roles in chosen.values()]
