"""Small builders for test data; every argument has a sensible default."""

from __future__ import annotations

from datetime import date, datetime
from itertools import count

from sqlalchemy.ext.asyncio import AsyncSession

from models import ApiToken, Assignment, AssignmentRole, Item, Person, Role, Source, Unit
from web.api_tokens import TOKEN_PREFIX, hash_token

_seq = count(1)


async def unit(
    session: AsyncSession,
    *,
    code: str | None = None,
    name: str | None = None,
    parent: Unit | None = None,
) -> Unit:
    n = next(_seq)
    u = Unit(code=code or f"U{n}", name=name or f"单位{n}", parent_id=parent.id if parent else None)
    session.add(u)
    await session.flush()
    return u


async def person(
    session: AsyncSession,
    *,
    name: str | None = None,
    email: str | None = None,
    unit: Unit | None = None,
    roles: set[Role] | None = None,
    locale: str = "zh",
    telegram_user_id: int | None = None,
) -> Person:
    n = next(_seq)
    p = Person(
        name=name or f"人员{n}",
        email=email or f"p{n}@example.gov.cn",
        unit_id=unit.id if unit else None,
        locale=locale,
        telegram_user_id=telegram_user_id,
        telegram_chat_id=telegram_user_id,
    )
    p.set_roles(roles or {Role.OWNER})
    session.add(p)
    await session.flush()
    return p


async def item(
    session: AsyncSession,
    *,
    ref: str | None = None,
    title: str = "督查事项",
    source: Source = Source.INSTRUCTION,
    received_on: date = date(2026, 11, 2),
    due_on: date = date(2026, 12, 14),
    urgent: bool = False,
) -> Item:
    n = next(_seq)
    i = Item(
        ref=ref or f"督〔2026〕{n}号",
        title=title,
        source=source.value,
        received_on=received_on,
        due_on=due_on,
        urgent=urgent,
    )
    session.add(i)
    await session.flush()
    return i


async def assignment(
    session: AsyncSession,
    *,
    item: Item,
    unit: Unit,
    owner: Person | None = None,
    leader: Person | None = None,
    role: AssignmentRole = AssignmentRole.LEAD,
    due_on: date | None = None,
) -> Assignment:
    a = Assignment(
        item_id=item.id,
        unit_id=unit.id,
        role=role.value,
        owner_id=owner.id if owner else None,
        leader_id=leader.id if leader else None,
        due_on=due_on or item.due_on,
    )
    session.add(a)
    await session.flush()
    return a


async def api_tokens(
    session: AsyncSession, people: dict[str, Person], *, now: datetime
) -> dict[str, str]:
    """One API token a person, in one flush: the secret of each by the same key. The rows
    are stored as `web.api_tokens.create_token` stores them (its hash, no expiry); what
    creating one checks and records is tested where tokens are created."""
    secrets = {key: f"{TOKEN_PREFIX}test-{next(_seq)}-{key}" for key in people}
    session.add_all(
        ApiToken(
            name=f"{key} token",
            token_hash=hash_token(secrets[key]),
            person_id=p.id,
            created_at=now,
        )
        for key, p in people.items()
    )
    await session.flush()
    return secrets
