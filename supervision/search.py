"""Text search (搜索): one meaning for every list that takes a ``q``.

A search is a case-insensitive substring match (``ILIKE '%…%'``; SQLite's ``LIKE`` on
``lower()`` of both sides, the same rows for Chinese text), with ``%``, ``_`` and the escape
character taken literally. An item matches when its title or 文号 contains the text, or when
one of its assignments is to a unit, or held by a person (责任人), whose name contains it.

On PostgreSQL the items' part is served by the trigram index ``ix_items_text_trgm``
(migration 0010) and the names are read from the small units and people tables, so a search
reads the matching items only; SQLite runs the same statements and scans.

Imports `models/` only.
"""

from __future__ import annotations

from typing import Any, Final

from sqlalchemy import ColumnElement, Select, select, union

from models import Assignment, Item, Person, Unit

__all__ = ["ESCAPE", "item_ids_matching", "like_pattern", "text_matches"]

ESCAPE: Final = "\\"


def like_pattern(text: str) -> str:
    """``%text%`` with the pattern characters of ``text`` escaped (by `ESCAPE`)."""
    for char in (ESCAPE, "%", "_"):
        text = text.replace(char, ESCAPE + char)
    return f"%{text}%"


def text_matches(column: Any, text: str) -> ColumnElement[bool]:
    """``column`` contains ``text``, ignoring case."""
    return column.ilike(like_pattern(text), escape=ESCAPE)  # type: ignore[no-any-return]


def item_ids_matching(text: str) -> Select[tuple[int]]:
    """Ids of the items whose title, 文号, unit's name or 责任人's name contains ``text``."""
    units = select(Unit.id).where(text_matches(Unit.name, text))
    people = select(Person.id).where(text_matches(Person.name, text))
    own = select(Item.id).where(text_matches(Item.title, text) | text_matches(Item.ref, text))
    # three branches, each served by its own index (an OR would scan every assignment)
    by_unit = select(Assignment.item_id).where(Assignment.unit_id.in_(units))
    by_owner = select(Assignment.item_id).where(Assignment.owner_id.in_(people))
    return select(union(own, by_unit, by_owner).subquery().c[0])
