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

from sqlalchemy import ColumnElement, case, func, or_, select
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
    "telegram_binding",
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


async def telegram_binding(session: AsyncSession, person: Person, now: datetime) -> Binding:
    """One person's Telegram binding (the person page shows it as the list does)."""
    return (await _bindings(session, [person], now))[person.id]


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


def _page_units(
    order: Sequence[int | None], matched: dict[int | None, int], start: int, size: int
) -> tuple[list[int | None], int]:
    """The units (in list order) whose people fall on the rows ``start`` to ``start + size``,
    and how many of the first one's people come before the page."""
    units: list[int | None] = []
    skip, seen = 0, 0
    for uid in order:
        count = matched.get(uid, 0)
        if count and seen + count > start and seen < start + size:
            if not units:
                skip = start - seen
            units.append(uid)
        seen += count
        if seen >= start + size:
            break
    return units, skip


async def people_roster(
    session: AsyncSession,
    *,
    now: datetime,
    text: str = "",
    unit_id: int | None = None,
    page: int = 1,
    per_page: int = PER_PAGE,
) -> Roster:
    """The page ``page`` of the people matching ``text`` in ``unit_id`` and the units below.

    Paged in SQL without sorting everyone: the matches are counted per unit (one aggregate),
    the units whose people fill the page are found along the tree's order, and only their
    people are read, by pinyin, from the first one's offset.
    """
    units = list((await session.scalars(select(Unit))).all())
    tree = unit_tree(units)
    where: list[ColumnElement[bool]] = []
    if text:
        where.append(person_search(text))
    if unit_id is not None:
        below = subtree(((u.id, u.parent_id) for u in units), unit_id)
        where.append(Person.unit_id.in_(sorted(below)))
    per_unit = select(Person.unit_id, func.count()).group_by(Person.unit_id)
    everyone = {uid: n for uid, n in await session.execute(per_unit)}
    matched = (
        {uid: n for uid, n in await session.execute(per_unit.where(*where))} if where else everyone
    )
    total = sum(matched.values())
    pages = max(1, -(-total // per_page))
    page = min(max(page, 1), pages)
    order: list[int | None] = [*tree_order(tree), None]  # people without a unit last
    on_page, skip = _page_units(order, matched, (page - 1) * per_page, per_page)
    people: Sequence[Person] = []
    if on_page:
        ids = [uid for uid in on_page if uid is not None]
        in_units: ColumnElement[bool] = Person.unit_id.in_(ids)
        if None in on_page:
            in_units = or_(in_units, Person.unit_id.is_(None))
        rank: dict[Any, int] = {uid: n for n, uid in enumerate(ids)}
        by_unit = case(rank, value=Person.unit_id, else_=len(rank)) if rank else None
        ordering: list[Any] = [by_unit] if by_unit is not None else []
        query = (
            select(Person)
            .where(*where, in_units)
            .order_by(*ordering, Person.name_pinyin, Person.name, Person.id)
            .offset(skip)
            .limit(per_page)
        )
        people = (await session.scalars(query)).all()
    by_id = {u.id: u for u in units}
    bindings = await _bindings(session, people, now)
    rows = [
        RosterRow(p, by_id.get(p.unit_id) if p.unit_id is not None else None, bindings[p.id])
        for p in people
    ]
    counts = {uid: n for uid, n in everyone.items() if uid is not None}
    return Roster(rows, total, page, pages, tree, counts)
