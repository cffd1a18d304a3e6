"""The people list (人员名册): by unit (in the tree's order), then by the pinyin of the name;
searched by name, pinyin, pinyin initials, e-mail or unit; one page at a time in SQL; and
each person's Telegram binding (bound, invited until a date, invite expired, not bound).

Imports `models/`, `supervision.search` and `supervision.units` only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Final

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import Channel, InviteToken, Person, Unit
from supervision.search import ESCAPE, like_pattern, text_matches
from supervision.units import UnitNode, subtree, tree_order, unit_tree

__all__ = [
    "PER_PAGE",
    "Binding",
    "Roster",
    "RosterRow",
    "TelegramState",
    "people_roster",
    "person_search",
]

PER_PAGE: Final = 50


class TelegramState(StrEnum):
    """Where a person stands with the Telegram bot."""

    BOUND = "bound"
    INVITED = "invited"  # an unused invite still valid
    EXPIRED = "expired"  # only invites past their date
    NONE = "none"


@dataclass(frozen=True, slots=True)
class Binding:
    """A person's Telegram binding: its state, and the invite's end when invited or expired."""

    state: TelegramState
    until: datetime | None = None
    username: str | None = None


@dataclass(frozen=True, slots=True)
class RosterRow:
    """One person on the list, with their unit and Telegram binding."""

    person: Person
    unit: Unit | None
    telegram: Binding


@dataclass(frozen=True, slots=True)
class Roster:
    """One page of the people list, the unit tree beside it, and how many matched."""

    rows: list[RosterRow]
    total: int
    page: int
    pages: int
    tree: list[UnitNode]
    counts: dict[int, int]  # people per unit (all of them, not only the matches)


def person_search(text: str) -> ColumnElement[bool]:
    """A person matches by name, e-mail, unit name or code, and (ASCII text) by pinyin with
    or without spaces or by the start of the initials (``zs`` finds 张三)."""
    units = select(Unit.id).where(text_matches(Unit.name, text) | (Unit.code == text))
    found = (
        text_matches(Person.name, text)
        | text_matches(Person.email, text)
        | Person.unit_id.in_(units)
    )
    plain = text.lower().replace(" ", "")
    if plain.isascii() and plain.isalpha():
        spoken = func.replace(Person.name_pinyin, " ", "")
        found |= spoken.like(like_pattern(plain), escape=ESCAPE)
        found |= Person.name_initials.like(like_pattern(plain)[1:], escape=ESCAPE)
    return found


async def _bindings(
    session: AsyncSession, people: Sequence[Person], now: datetime
) -> dict[int, Binding]:
    waiting = [p.id for p in people if p.telegram_user_id is None]
    latest: dict[int, datetime] = {}
    if waiting:
        rows = await session.execute(
            select(InviteToken.person_id, func.max(InviteToken.expires_at))
            .where(
                InviteToken.person_id.in_(waiting),
                InviteToken.channel == Channel.TELEGRAM,
                InviteToken.used_at.is_(None),
            )
            .group_by(InviteToken.person_id)
        )
        latest = {person_id: until for person_id, until in rows}
    out: dict[int, Binding] = {}
    for p in people:
        if p.telegram_user_id is not None:
            out[p.id] = Binding(TelegramState.BOUND, username=p.telegram_username)
        elif p.id in latest:
            until = latest[p.id]
            state = TelegramState.INVITED if until > now else TelegramState.EXPIRED
            out[p.id] = Binding(state, until)
        else:
            out[p.id] = Binding(TelegramState.NONE)
    return out


async def people_roster(
    session: AsyncSession,
    *,
    now: datetime,
    text: str = "",
    unit_id: int | None = None,
    page: int = 1,
    per_page: int = PER_PAGE,
) -> Roster:
    """The page ``page`` of the people matching ``text`` in ``unit_id`` and the units below."""
    units = list((await session.scalars(select(Unit))).all())
    tree = unit_tree(units)
    rank: dict[Any, int] = {uid: n for n, uid in enumerate(tree_order(tree))}
    query = select(Person).outerjoin(Unit, Unit.id == Person.unit_id)
    if text:
        query = query.where(person_search(text))
    if unit_id is not None:
        below = subtree(((u.id, u.parent_id) for u in units), unit_id)
        query = query.where(Person.unit_id.in_(sorted(below)))
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    pages = max(1, -(-total // per_page))
    page = min(max(page, 1), pages)
    unit_rank = case(rank, value=Person.unit_id, else_=len(rank)) if rank else None
    order: list[Any] = [unit_rank] if unit_rank is not None else []
    order += [Person.name_pinyin, Person.name, Person.id]
    people = (
        await session.scalars(query.order_by(*order).offset((page - 1) * per_page).limit(per_page))
    ).all()
    counted = await session.execute(
        select(Person.unit_id, func.count())
        .where(Person.unit_id.is_not(None))
        .group_by(Person.unit_id)
    )
    counts = {uid: n for uid, n in counted if uid is not None}
    by_id = {u.id: u for u in units}
    bindings = await _bindings(session, people, now)
    rows = [
        RosterRow(p, by_id.get(p.unit_id) if p.unit_id is not None else None, bindings[p.id])
        for p in people
    ]
    return Roster(rows, total, page, pages, tree, counts)
