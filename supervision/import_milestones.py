"""The milestones import (阶段性节点): rows keyed by their item's 文号 and their name, checked
by `supervision.milestones`' rules, every problem named in the reader's language.

Called by `supervision.importing.import_rows` with the header already read. Imports
`models/` and `supervision/` only.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from models import ACTIVE_STATES, Item, Person, Unit
from supervision.audit import Actor
from supervision.clock import Clock
from supervision.errors import DomainError
from supervision.import_result import ImportResult, RowErrors
from supervision.import_values import NotARealDate, parse_date
from supervision.import_words import ImportWord
from supervision.milestones import MilestoneSpec, import_milestone, milestone_problems
from supervision.tabular import Table

__all__ = ["import_milestones"]


def _halves(message: str) -> tuple[str, str]:
    """A `supervision.milestones` message, worded ``中文 (English)``, as (中文, English)."""
    zh, sep, en = message.rpartition(" (")
    if not sep or not en.endswith(")"):
        return message, message
    return zh, en[:-1]


#: A milestone spec field → the import column it comes from.
_MILESTONE_COLUMN: dict[str, str] = {
    "name": "name",
    "due_on": "due_on",
    "unit_id": "unit",
    "owner_id": "owner_email",
    "leader_id": "leader_email",
}


async def import_milestones(
    session: AsyncSession,
    table: Table,
    errs: RowErrors,
    result: ImportResult,
    *,
    actor: Actor,
    clock: Clock,
) -> None:
    """Milestones (阶段性节点) by the 文号 of their item; a row naming an existing milestone
    of the item (same name) changes it."""
    refs = {row.get("ref", "").strip() for row in table} - {""}
    items = {
        i.ref: i
        for i in (
            await session.scalars(
                select(Item)
                .where(Item.ref.in_(sorted(refs)))
                .options(selectinload(Item.assignments), selectinload(Item.milestones))
            )
        ).all()
    }
    units = {u.code: u for u in (await session.scalars(select(Unit))).all()}
    people = {
        p.email: p
        for p in (await session.scalars(select(Person).where(Person.email.is_not(None)))).all()
        if p.email
    }
    seen: dict[tuple[str, str], int] = {}
    planned: list[tuple[int, Item, MilestoneSpec]] = []
    for number, row in zip(table.row_numbers, table, strict=True):
        before = len(errs.errors)
        ref = row.get("ref", "").strip()
        item = items.get(ref)
        if not ref:
            errs.add(number, "ref", ImportWord.REQUIRED)
        elif item is None:
            errs.add(number, "ref", ImportWord.NO_ITEM, ref=ref)
        name = " ".join(row.get("name", "").split())
        if not name:
            errs.add(number, "name", ImportWord.REQUIRED)
        elif (ref, name) in seen:
            errs.add(number, "name", ImportWord.MILESTONE_TWICE, name=name, first=seen[ref, name])
        else:
            seen[ref, name] = number
        due_text = row.get("due_on", "").strip()
        due_on = None
        try:
            due_on = parse_date(due_text) if due_text else None
        except NotARealDate:
            errs.add(number, "due_on", ImportWord.NOT_A_REAL_DATE, text=due_text)
        except ValueError:
            errs.add(number, "due_on", ImportWord.NOT_A_DATE, text=due_text)
        if not due_text:
            errs.add(number, "due_on", ImportWord.REQUIRED)
        code = row.get("unit", "").strip()
        unit = units.get(code)
        if not code:
            errs.add(number, "unit", ImportWord.REQUIRED)
        elif unit is None:
            errs.add(number, "unit", ImportWord.UNKNOWN_UNIT, code=code)
        found: dict[str, Person | None] = {}
        for column in ("owner_email", "leader_email"):
            email = row.get(column, "").strip().lower()
            found[column] = people.get(email) if email else None
            if email and found[column] is None:
                errs.add(number, column, ImportWord.NO_PERSON, email=email)
        if len(errs.errors) > before or item is None or due_on is None or unit is None:
            continue
        owner, leader = found["owner_email"], found["leader_email"]
        spec = MilestoneSpec(
            name, due_on, unit.id, owner.id if owner else None, leader.id if leader else None
        )
        for where, message in await milestone_problems(session, item, spec):
            zh, en = _halves(message)
            errs.add_text(number, _MILESTONE_COLUMN[where], en, zh)
        if item.state not in ACTIVE_STATES:
            errs.add(number, "ref", ImportWord.ITEM_CLOSED, ref=ref)
        if len(errs.errors) == before:
            planned.append((number, item, spec))
    if errs.errors:
        return
    for number, item, spec in planned:
        try:
            outcome = await import_milestone(session, item, spec, actor=actor, clock=clock)
        except DomainError as exc:
            zh, en = _halves(str(exc))
            errs.add_text(number, "name", en, zh)
            continue
        result.tally(outcome)
    await session.flush()
