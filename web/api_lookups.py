"""Lookups shared by the /api/v1 handlers: paging queries, visible rows, the caller.

Imports `models/`, `supervision/`, `web.api_core` and `web.api_out` only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from models import (
    Assignment,
    Extension,
    Item,
    Person,
)
from supervision.calendar_store import load_calendar
from supervision.clock import local_today
from supervision.errors import NotFound
from web.api_core import (
    ApiContext,
    Page,
)
from web.api_out import OfficeDay


async def count_rows(session: AsyncSession, query: Select[Any]) -> int:
    """Rows ``query`` would return."""
    total = await session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    return int(total or 0)


async def paged(session: AsyncSession, query: Select[Any], page: Page) -> tuple[list[Any], int]:
    """One page of ``query``'s rows and the total count."""
    total = await count_rows(session, query)
    rows = (await session.scalars(query.offset(page.offset).limit(page.per_page))).all()
    return list(rows), total


@dataclass(frozen=True, slots=True)
class Keyset:
    """A list's order as keyset columns, the row's id last (``descending``: newest first)."""

    columns: tuple[Any, ...]
    descending: bool = False

    def ordered(self, query: Select[Any]) -> Select[Any]:
        """``query`` in this order."""
        return query.order_by(*(c.desc() if self.descending else c for c in self.columns))


async def keyset_paged(
    session: AsyncSession, query: Select[Any], page: Page, keyset: Keyset
) -> tuple[list[Any], int | None, int | None]:
    """One page of ``query``'s rows in ``keyset``'s order: the ``page``-th, counted, or the
    rows after ``page.after`` (a row of ``query``, else from the first) by keyset, not
    counted (its cost follows the page, not the list); and the next page's cursor."""
    total: int | None = None
    offset = page.offset
    if page.after is None:
        total = await count_rows(session, query)
    else:
        offset = 0
        # the anchor must be one of the query's rows (scope and filters included)
        mine = query.order_by(None).where(keyset.columns[-1] == page.after).subquery()
        anchor = (await session.execute(select(*(mine.c[c.name] for c in keyset.columns)))).first()
        if anchor is not None:
            key = tuple_(*keyset.columns)
            query = query.where(
                key < tuple_(*anchor) if keyset.descending else key > tuple_(*anchor)
            )
    shown = keyset.ordered(query).offset(offset).limit(page.per_page + 1)
    rows = list((await session.scalars(shown)).all())
    next_id = rows[page.per_page - 1].id if len(rows) > page.per_page else None
    return rows[: page.per_page], total, next_id


def visible_items(ctx: ApiContext) -> Select[int]:
    """Ids of the items the caller may see."""
    return ctx.principal.scope.visible_item_ids()


async def load_item(session: AsyncSession, ctx: ApiContext, item_id: int) -> Item:
    """A visible item with its assignments and their units (404 otherwise)."""
    item = await session.scalar(
        select(Item)
        .where(Item.id == item_id, Item.id.in_(visible_items(ctx)))
        .options(
            selectinload(Item.assignments).selectinload(Assignment.unit),
            selectinload(Item.milestones),
        )
        .execution_options(populate_existing=True)
    )
    if item is None:
        raise NotFound(f"no item #{item_id}")
    return item


async def load_assignment(session: AsyncSession, ctx: ApiContext, assignment_id: int) -> Assignment:
    """A visible assignment with its unit and item (404 otherwise)."""
    assignment = await session.scalar(
        select(Assignment)
        .where(Assignment.id == assignment_id, Assignment.item_id.in_(visible_items(ctx)))
        .options(selectinload(Assignment.unit), selectinload(Assignment.item))
    )
    if assignment is None:
        raise NotFound(f"no assignment #{assignment_id}")
    return assignment


async def load_extension(session: AsyncSession, ctx: ApiContext, extension_id: int) -> Extension:
    """A visible extension request (404 otherwise)."""
    extension = await session.scalar(
        select(Extension)
        .join(Assignment, Assignment.id == Extension.assignment_id)
        .where(Extension.id == extension_id, Assignment.item_id.in_(visible_items(ctx)))
    )
    if extension is None:
        raise NotFound(f"no extension request #{extension_id}")
    return extension


async def current_person(session: AsyncSession, ctx: ApiContext) -> Person:
    """The person the token acts for."""
    return await session.get_one(Person, ctx.person_id)


async def office_day(session: AsyncSession, ctx: ApiContext) -> OfficeDay:
    """The office's today, the working-day calendar and the time zone: what lights,
    deadlines and bulletin figures are computed against."""
    tz = ctx.deps.config.tz
    return OfficeDay(local_today(ctx.deps.clock, tz), await load_calendar(session), tz)
