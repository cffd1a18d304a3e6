"""The 台账 (ledger): the items list as offices keep it, one row per item, read in batches.

The rows are the list's (`supervision.item_list.page_items`: the same filters, scope, order
and light), walked by keyset cursor so that any number of rows costs memory for one batch
only; each batch reads the rest of what the columns need (every assignment's unit, role and
people, the latest report) for its own items. Imports `models/` and `supervision/` only.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Final
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from models import Assignment, AssignmentRole, ItemState, Person, Report, Unit
from supervision.calendar import WorkCalendar
from supervision.item_list import Cursor, ItemFilter, ItemRow, ItemSort, page_items

__all__ = ["BATCH", "LedgerRow", "ledger_rows"]

#: Items read per statement (and kept in memory at once).
BATCH: Final = 1000
#: The latest report is cut to this many characters in a cell.
EXCERPT: Final = 500


@dataclass(frozen=True, slots=True)
class Member:
    """One assignment of an item, as the ledger names it."""

    role: str
    state: str
    unit: str
    owner: str | None
    leader: str | None
    assigned_on: date | None


@dataclass(frozen=True, slots=True)
class LedgerRow:
    """One line of the 台账: the list's row plus the item's units, people and last report."""

    row: ItemRow
    assigned_on: date  # 交办时间: the lead unit's assignment, else the day received
    leader: str  # 牵头领导: the lead assignment's leader
    units: tuple[tuple[str, str], ...]  # (unit name, role) lead first: 责任单位（主办/协办）
    owners: tuple[str, ...]  # 责任人, lead first
    latest_on: date | None  # 最新进展: when
    latest: str  # and what (an excerpt)
    closed_on: date | None  # 办结情况: the day it closed


async def ledger_rows(
    session: AsyncSession,
    where: ItemFilter,
    *,
    sort: ItemSort,
    today: date,
    calendar: WorkCalendar,
    tz: ZoneInfo,
    batch: int = BATCH,
) -> AsyncIterator[list[LedgerRow]]:
    """Every item the filters select, in ``sort``'s order, ``batch`` rows at a time."""
    cursor: Cursor | None = None
    where = await where.looked_up(session)
    while True:
        page = await page_items(
            session,
            where,
            today=today,
            calendar=calendar,
            tz=tz,
            limit=batch,
            count=False,
            cursor=cursor,
            sort=sort,
        )
        if not page.rows:
            return
        yield await _complete(session, page.rows, tz)
        if not page.more:
            return
        cursor = Cursor(page.rows[-1].id)


async def _complete(
    session: AsyncSession, rows: Sequence[ItemRow], tz: ZoneInfo
) -> list[LedgerRow]:
    """The ledger rows of ``rows``: their assignments and latest reports read in two
    statements each."""
    ids = [r.id for r in rows]
    owner, leader = aliased(Person), aliased(Person)
    members: dict[int, list[Member]] = {}
    query = (
        select(
            Assignment.item_id,
            Assignment.role,
            Assignment.state,
            Unit.name,
            owner.name,
            leader.name,
            Assignment.assigned_at,
        )
        .join(Unit, Unit.id == Assignment.unit_id)
        .outerjoin(owner, owner.id == Assignment.owner_id)
        .outerjoin(leader, leader.id == Assignment.leader_id)
        .where(Assignment.item_id.in_(ids))
        .order_by(Assignment.item_id, Assignment.id)
    )
    for item_id, role, state, unit, owner_name, leader_name, assigned_at in await session.execute(
        query
    ):
        members.setdefault(item_id, []).append(
            Member(role, state, unit, owner_name, leader_name, _local_day(assigned_at, tz))
        )
    last_ids = (
        select(func.max(Report.id))
        .join(Assignment, Assignment.id == Report.assignment_id)
        .where(Assignment.item_id.in_(ids))
        .group_by(Assignment.item_id)
    )
    latest: dict[int, tuple[date | None, str]] = {}
    reports = (
        select(Assignment.item_id, Report.created_at, Report.text)
        .join(Assignment, Assignment.id == Report.assignment_id)
        .where(Report.id.in_(last_ids))
    )
    for item_id, created_at, text in await session.execute(reports):
        latest[item_id] = (_local_day(created_at, tz), _excerpt(text))
    closed = await _closed_days(session, ids, tz)
    return [_line(r, members.get(r.id, []), latest.get(r.id), closed.get(r.id)) for r in rows]


async def _closed_days(session: AsyncSession, ids: Sequence[int], tz: ZoneInfo) -> dict[int, date]:
    """The day each closed item of ``ids`` closed (its lead assignments' last closing)."""
    query = (
        select(Assignment.item_id, func.max(Assignment.closed_at))
        .where(
            Assignment.item_id.in_(ids),
            Assignment.role == AssignmentRole.LEAD.value,
            Assignment.state == ItemState.CLOSED.value,
        )
        .group_by(Assignment.item_id)
    )
    out: dict[int, date] = {}
    for item_id, closed_at in await session.execute(query):
        day = _local_day(closed_at, tz)
        if day is not None:
            out[item_id] = day
    return out


def _line(
    row: ItemRow,
    members: list[Member],
    latest: tuple[date | None, str] | None,
    closed_on: date | None,
) -> LedgerRow:
    live = [m for m in members if m.state != ItemState.CANCELLED.value] or members
    live.sort(key=lambda m: m.role != AssignmentRole.LEAD.value)  # lead first, stable
    leads = [m for m in live if m.role == AssignmentRole.LEAD.value]
    assigned = [m.assigned_on for m in leads if m.assigned_on is not None]
    return LedgerRow(
        row=row,
        assigned_on=min(assigned, default=row.received_on),
        leader=next((m.leader for m in leads if m.leader), ""),
        units=tuple((m.unit, m.role) for m in live),
        owners=tuple(dict.fromkeys(m.owner for m in live if m.owner)),
        latest_on=latest[0] if latest else None,
        latest=latest[1] if latest else "",
        closed_on=closed_on if row.state == ItemState.CLOSED.value else None,
    )


def _local_day(moment: datetime | None, tz: ZoneInfo) -> date | None:
    return moment.astimezone(tz).date() if moment is not None else None


def _excerpt(text: str | None) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= EXCERPT else text[: EXCERPT - 1] + "…"
