"""Text search (搜索): one meaning for every list that takes a ``q``.

A search is a case-insensitive substring match (``LIKE '%…%'`` on ``lower()`` of both sides,
on both databases), with ``%``, ``_`` and the escape
character taken literally. An item matches when its title or 文号 contains the text, or when
one of its assignments is to a unit, or held by a person (责任人 or 责任领导), whose name
contains it.

The names are looked up first in the small units and people tables (`ItemSearch.find`), so
the items' condition is two ``LIKE``s plus, only when some name matched, their ids: on
PostgreSQL the planner then estimates the matches from the column statistics and either
reads the few matching items through the trigram index ``ix_items_text_trgm`` (migration
0024) or, when most items match, walks the list's order and stops after one page. SQLite
runs the same statements and scans.

Imports `models/` only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import Assignment, Item, Person, Unit

__all__ = ["ESCAPE", "ItemSearch", "like_pattern", "text_matches"]

ESCAPE: Final = "\\"


def like_pattern(text: str) -> str:
    """``%text%`` with the pattern characters of ``text`` escaped (by `ESCAPE`)."""
    for char in (ESCAPE, "%", "_"):
        text = text.replace(char, ESCAPE + char)
    return f"%{text}%"


def text_matches(column: Any, text: str) -> ColumnElement[bool]:
    """``column`` contains ``text``, ignoring case: ``lower()`` of both sides, the form the
    items' trigram index holds (`models.item`), and what SQLite makes of ``ILIKE`` too."""
    return func.lower(column).like(func.lower(like_pattern(text)), escape=ESCAPE)


@dataclass(frozen=True, slots=True)
class ItemSearch:
    """A search of items: the text, and the units and people whose names contain it."""

    text: str
    unit_ids: tuple[int, ...] | None = None  # None: not looked up (then read by subqueries)
    person_ids: tuple[int, ...] | None = None

    @classmethod
    async def find(cls, session: AsyncSession, text: str) -> ItemSearch:
        """The search for ``text``, its names looked up."""
        units = await session.scalars(select(Unit.id).where(text_matches(Unit.name, text)))
        people = await session.scalars(select(Person.id).where(text_matches(Person.name, text)))
        return cls(text, tuple(sorted(units.all())), tuple(sorted(people.all())))

    def condition(self) -> ColumnElement[bool]:
        """The items matching (a condition over `Item`)."""
        own = text_matches(Item.title, self.text) | text_matches(Item.ref, self.text)
        if self.unit_ids is None or self.person_ids is None:
            units: Any = select(Unit.id).where(text_matches(Unit.name, self.text))
            people: Any = select(Person.id).where(text_matches(Person.name, self.text))
        elif self.unit_ids or self.person_ids:
            units, people = self.unit_ids, self.person_ids
        else:
            return own  # no name matched: the planner sees the two patterns alone
        by_name = (
            Assignment.unit_id.in_(units)
            | Assignment.owner_id.in_(people)
            | Assignment.leader_id.in_(people)
        )
        return own | Item.id.in_(select(Assignment.item_id).where(by_name))
