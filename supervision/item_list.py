"""Listing items (督查事项列表): rows with their light, one page at a time, and counts by light.

Imports only `models/` and `supervision/`; I/O goes through the session it is given.

What a page shows is read for that page only: filters, scope, the light (as `LightCuts` in
SQL), the order and the count run in the database, and the lead assignments, units and
owners are read for the rows shown. The light shown is still `light_for`'s, computed from
the rows read; the SQL light only selects and counts, and tests hold the two equal.
An open item's light is the worst of its lead assignments' (its own deadline's when it has
none) and of its open milestones' (阶段性节点, held to their dates only).
The SQL light counts an item that is closed or cancelled as grey without looking at its
assignments or milestones: `supervision.lifecycle` closes an item only when its lead assignments are
closed, and cancels its assignments with it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Integer, Select, case, func, select, text, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import GenericFunction

from models import (
    ACTIVE_STATES,
    OPEN_LEAD,
    OPEN_WORK,
    Assignment,
    AssignmentRole,
    Item,
    ItemState,
    Milestone,
    MilestoneState,
    Person,
    Source,
    Unit,
    in_open_work,
)
from supervision.access import Scope
from supervision.calendar import WorkCalendar
from supervision.deadlines import days_left
from supervision.errors import NotFound
from supervision.light import (
    BY_SEVERITY,
    SEVERITY,
    Light,
    LightCuts,
    Staged,
    assignment_light,
    light_for,
    milestone_light,
    worst,
)
from supervision.search import ItemSearch
from supervision.units import subtree

__all__ = [
    "Cursor",
    "ItemFilter",
    "ItemPage",
    "ItemRow",
    "ItemSort",
    "Part",
    "SortKey",
    "due_in_force",
    "due_in_force_column",
    "item_light",
    "item_severity",
    "light_counts",
    "list_items",
    "page_items",
]

ZONE = ZoneInfo("Asia/Shanghai")
Q = TypeVar("Q", bound=Select[*tuple[Any, ...]])


@dataclass(frozen=True, slots=True)
class ItemRow:
    """One line of the items list, as the CLI, the web and the API show it."""

    id: int
    ref: str
    title: str
    source: str
    received_on: date
    due_on: date  # the deadline in force (`due_in_force`)
    due_is_provisional: bool
    urgent: bool
    light: Light
    state: str
    lead_unit: str | None
    lead_unit_name: str | None
    owner_email: str | None
    owner_name: str | None
    # working days from today to the deadline in force (`supervision.deadlines.days_left`:
    # 0 on the day, negative when late); None once the item is closed or cancelled
    days_left: int | None = None

    def as_json(self) -> dict[str, Any]:
        """The documented JSON object (dates as ISO strings)."""
        return {
            "ref": self.ref,
            "title": self.title,
            "source": self.source,
            "received_on": self.received_on.isoformat(),
            "due_on": self.due_on.isoformat(),
            "due_is_provisional": self.due_is_provisional,
            "light": self.light.value,
            "state": self.state,
            "lead_unit": self.lead_unit,
            "owner_email": self.owner_email,
        }


@dataclass(frozen=True, slots=True)
class _Lead:
    """What the light and the list need of one lead assignment."""

    state: str
    due_on: date  # the deadline in force (`due_in_force`)
    last_report_at: datetime | None
    unit_code: str | None = None
    unit_name: str | None = None
    owner_email: str | None = None
    owner_name: str | None = None

    @property
    def is_active(self) -> bool:
        return self.state in ACTIVE_STATES


def _light(
    state: str,
    due_on: date,
    received_on: date,
    leads: Iterable[_Lead],
    milestones: Iterable[Staged] = (),
    *,
    today: date,
    calendar: WorkCalendar,
    tz: ZoneInfo,
) -> Light:
    active = [a for a in leads if a.is_active]
    if not active:
        own = light_for(
            state=state,
            due_on=due_on,
            today=today,
            last_report_on=None,
            started_on=received_on,
            calendar=calendar,
        )
    else:
        own = worst(
            [
                assignment_light(a, received_on=received_on, today=today, calendar=calendar, tz=tz)
                for a in active
            ]
        )
    if state not in ACTIVE_STATES:
        return own  # a closed or cancelled item is grey, whatever stage was left open
    return worst(
        [own]
        + [
            milestone_light(m, today=today, calendar=calendar)
            for m in milestones
            if m.state == MilestoneState.OPEN
        ]
    )


def item_light(item: Item, *, today: date, calendar: WorkCalendar, tz: ZoneInfo) -> Light:
    """An item's light: the worst of its active lead assignments (the item's own if none)
    and of its open milestones (阶段性节点).

    ``item.assignments`` and ``item.milestones`` must be loaded.
    """
    leads = [
        _Lead(a.state, a.due_on, a.last_report_at)
        for a in item.assignments
        if a.role == AssignmentRole.LEAD.value
    ]
    return _light(
        item.state,
        item.due_on,
        item.received_on,
        leads,
        item.milestones,
        today=today,
        calendar=calendar,
        tz=tz,
    )


def due_in_force(item: Item) -> date:
    """The deadline an item is held to now: its lead unit's (主办), which an approved
    extension (延期) moves, or the item's own when it has no lead left (cancelled ones do not
    count). ``item.assignments`` must be loaded; `due_in_force_column` is the same in SQL."""
    leads = [(a.state, a.due_on) for a in item.assignments if a.role == AssignmentRole.LEAD.value]
    return _in_force(item.due_on, leads)


def _in_force(own: date, leads: Iterable[tuple[str, date]]) -> date:
    """`due_in_force` from the item's date and its lead assignments' (state, due_on)."""
    return max((due for state, due in leads if state != ItemState.CANCELLED.value), default=own)


def due_in_force_column() -> ColumnElement[date]:
    """`due_in_force` as a column over ``items`` (for filters and ordering): the database
    keeps ``items.due_in_force`` by triggers (`models.due_in_force`); tests hold the two
    equal."""
    return Item.due_in_force  # type: ignore[return-value]


def item_severity(cuts: LightCuts) -> ColumnElement[int]:
    """`SEVERITY` of an open item's light in SQL (over `Item`): the worst of its active
    lead assignments (or its own deadline when it has none) and of its open milestones."""
    leads = (
        select(
            func.max(
                cuts.severity(
                    state=Assignment.state,
                    due_on=Assignment.due_on,
                    started_on=Item.received_on,
                    last_report_at=Assignment.last_report_at,
                )
            )
        )
        .where(
            Assignment.item_id == Item.id,
            Assignment.role == AssignmentRole.LEAD.value,
            Assignment.state.in_(ACTIVE_STATES),
        )
        .scalar_subquery()
    )
    own = cuts.severity(state=Item.state, due_on=Item.due_on, started_on=Item.received_on)
    stages = (
        select(func.max(cuts.milestone_severity(due_on=Milestone.due_on)))
        .where(Milestone.item_id == Item.id, Milestone.state == MilestoneState.OPEN)
        .scalar_subquery()
    )
    # the larger of the two, each subquery written once (a CASE comparing them ran the
    # assignments' twice per item); no open milestone counts as grey, the least severe
    return _Greatest(func.coalesce(leads, own), func.coalesce(stages, SEVERITY[Light.GREY]))


class _Greatest(GenericFunction[int]):
    """``greatest(a, b)`` of two severities that are never NULL (SQLite spells it ``max``)."""

    type = Integer()
    name = "greatest"
    identifier = "duban_greatest"
    inherit_cache = True


@compiles(_Greatest, "sqlite")
def _greatest_sqlite(element: _Greatest, compiler: SQLCompiler, **kw: Any) -> str:
    return "max" + compiler.process(element.clause_expr, **kw)


def overdue_ids(cuts: LightCuts) -> Select[tuple[int]]:
    """The ids of the open items whose light is red (`item_severity` is red exactly when one
    of these holds: an active lead assignment past its date, no active lead and the item's
    own date past, an open milestone past its date), read from what is overdue only: the
    partial index ``ix_assignments_lead_due`` and the milestones' and items' dates."""
    # the partial indexes' own predicates, in their words (`models.item.OPEN_LEAD`,
    # `OPEN_WORK`): each statement has one table in its FROM, whose columns they name
    leads = select(Assignment.item_id).where(text(OPEN_LEAD), Assignment.due_on < cuts.today)
    active_lead = (
        select(Assignment.id)
        .where(
            Assignment.item_id == Item.id,
            Assignment.role == AssignmentRole.LEAD.value,
            Assignment.state.in_(ACTIVE_STATES),
        )
        .exists()
    )
    own = select(Item.id).where(text(OPEN_WORK), Item.due_on < cuts.today, ~active_lead)
    stages = select(Milestone.item_id).where(
        Milestone.state == MilestoneState.OPEN, Milestone.due_on < cuts.today
    )
    return leads.union(own, stages)  # type: ignore[return-value]


def showing(light: Light, cuts: LightCuts | None, *, counting: bool = False) -> ColumnElement[bool]:
    """The items (over `Item`) whose light is ``light`` on the day of ``cuts`` (grey needs
    none: closed or cancelled).

    ``counting`` reads the red ones from what is overdue (`overdue_ids`) and the others by
    their light's value. A page instead walks the list's order and asks each item's light
    until it is full: the light as inequalities (at least this light, not the next one),
    which PostgreSQL estimates at a third of the open items, not at 0.5 % as an equality,
    so that it walks the index of the open items (``ix_items_open_due``) and stops instead
    of reading every open item to sort them."""
    if light is Light.GREY:
        return Item.state.not_in(ACTIVE_STATES)
    assert cuts is not None
    severity = item_severity(cuts)
    if counting and light is Light.RED:
        return Item.state.in_(ACTIVE_STATES) & Item.id.in_(overdue_ids(cuts))
    if counting:
        return Item.state.in_(ACTIVE_STATES) & (severity == SEVERITY[light])
    shown = in_open_work(Item.state) & (severity >= SEVERITY[light])
    if light is Light.RED:
        return shown
    return shown & ~(severity >= SEVERITY[light] + 1)


@dataclass(frozen=True, slots=True)
class ItemFilter:
    """What the list is restricted to (every field optional)."""

    scope: Scope | None = None
    unit_id: int | None = None  # items with an assignment to this unit
    unit_ids: frozenset[int] | None = None  # items with an assignment to one of these units
    source: str = ""
    light: Light | None = None
    due_from: date | None = None
    due_to: date | None = None
    text: str = ""  # `supervision.search`: title, 文号, unit or 责任人 name, ignoring case
    search: ItemSearch | None = None  # the text's names looked up (`looked_up`)
    # open items past their deadline in force on this day (逾期): each is red that day, and
    # ``ix_items_open_due`` holds exactly the open items in the list's order
    overdue_on: date | None = None
    # the scope asked of each item read (`Scope.filter_items_by_key`): for filters that
    # read few items (the open ones), where the set form reads the scope's whole history
    scope_by_key: bool = False
    postgres: bool = False  # counts read the scope as an array of ids (`Scope.filter_items`)

    async def looked_up(self, session: AsyncSession) -> ItemFilter:
        """These filters for ``session``'s database, the search's names looked up (the
        cheaper statements)."""
        postgres = session.bind is not None and session.bind.dialect.name == "postgresql"
        where = self if self.postgres == postgres else replace(self, postgres=postgres)
        if not self.text or (self.search is not None and self.search.text == self.text):
            return where
        return replace(where, search=await ItemSearch.find(session, self.text))

    def apply(self, query: Q, cuts: LightCuts | None = None, *, counting: bool = False) -> Q:
        """``query`` over `Item` restricted to these filters (a light needs its ``cuts``).

        ``counting``: a count reads every item in scope, best by key from the array of their
        ids on PostgreSQL; a page walks the list's order and stops, best as a semi-join."""
        if self.scope is not None and self.scope_by_key:
            query = self.scope.filter_items_by_key(query)
        elif self.scope is not None:
            query = self.scope.filter_items(query, as_array=self.postgres and counting)
        if self.unit_id is not None:
            query = query.where(
                Item.id.in_(select(Assignment.item_id).where(Assignment.unit_id == self.unit_id))
            )
        if self.unit_ids is not None:
            query = query.where(
                Item.id.in_(
                    select(Assignment.item_id).where(Assignment.unit_id.in_(sorted(self.unit_ids)))
                )
            )
        if self.source:
            query = query.where(Item.source == self.source)
        if self.due_from is not None:
            query = query.where(due_in_force_column() >= self.due_from)
        if self.due_to is not None:
            query = query.where(due_in_force_column() <= self.due_to)
        if self.text:
            search = self.search if self.search and self.search.text == self.text else None
            query = query.where((search or ItemSearch(self.text)).condition())
        if self.overdue_on is not None:
            query = query.where(in_open_work(Item.state), due_in_force_column() < self.overdue_on)
        if self.light is not None:
            if cuts is None and self.light is not Light.GREY:
                raise ValueError("filtering by a light needs the cuts of the day")
            query = query.where(showing(self.light, cuts, counting=counting))
        return query


@dataclass(frozen=True, slots=True)
class ItemPage:
    """One page of rows and the number of rows on every page."""

    rows: list[ItemRow]
    total: int
    more: bool = False  # rows beyond these, in the direction read (after them, or before)


_ROW_COLUMNS = (
    Item.id,
    Item.ref,
    Item.title,
    Item.source,
    Item.received_on,
    Item.due_on,
    Item.due_is_provisional,
    Item.urgent,
    Item.state,
)


async def _rows(
    session: AsyncSession,
    items: Sequence[Any],
    *,
    today: date,
    calendar: WorkCalendar,
    tz: ZoneInfo,
) -> list[ItemRow]:
    """The list rows of ``items`` (rows of `_ROW_COLUMNS`), their lead assignments and open
    milestones read."""
    leads: dict[int, list[_Lead]] = {}
    stages: dict[int, list[Staged]] = {}
    ids = [item.id for item in items]
    for start in range(0, len(ids), 5000):  # bound the statement's parameters
        chunk = ids[start : start + 5000]
        lead_query = (
            select(
                Assignment.item_id,
                Assignment.state,
                Assignment.due_on,
                Assignment.last_report_at,
                Unit.code,
                Unit.name,
                Person.email,
                Person.name,
            )
            .join(Unit, Unit.id == Assignment.unit_id)
            .outerjoin(Person, Person.id == Assignment.owner_id)
            .where(Assignment.role == AssignmentRole.LEAD.value, Assignment.item_id.in_(chunk))
            .order_by(Assignment.id)
        )
        for row in (await session.execute(lead_query)).all():
            leads.setdefault(row[0], []).append(_Lead(*row[1:]))
        stage_query = select(Milestone.item_id, Milestone.state, Milestone.due_on).where(
            Milestone.state == MilestoneState.OPEN, Milestone.item_id.in_(chunk)
        )
        for stage in (await session.execute(stage_query)).all():
            stages.setdefault(stage.item_id, []).append(stage)
    out: list[ItemRow] = []
    for item in items:
        mine = leads.get(item.id, [])
        light = _light(
            item.state,
            item.due_on,
            item.received_on,
            mine,
            stages.get(item.id, []),
            today=today,
            calendar=calendar,
            tz=tz,
        )
        lead = next((a for a in mine if a.is_active), mine[0] if mine else None)
        due = _in_force(item.due_on, ((a.state, a.due_on) for a in mine))
        out.append(
            ItemRow(
                id=item.id,
                ref=item.ref,
                title=item.title,
                source=item.source,
                received_on=item.received_on,
                due_on=due,
                due_is_provisional=item.due_is_provisional,
                urgent=item.urgent,
                light=light,
                state=item.state,
                lead_unit=lead.unit_code if lead else None,
                lead_unit_name=lead.unit_name if lead else None,
                owner_email=lead.owner_email if lead else None,
                owner_name=lead.owner_name if lead else None,
                days_left=days_left(today, due, calendar) if item.state in ACTIVE_STATES else None,
            )
        )
    return out


@dataclass(frozen=True, slots=True)
class Cursor:
    """Keyset paging (游标): the rows after (or before) the item ``item_id`` in the list's
    order, whatever its position; a page costs the same however deep it is."""

    item_id: int
    before: bool = False


class SortKey(StrEnum):
    """What the list can be ordered by (the column a person clicks)."""

    DUE = "due"  # the deadline in force; days left / late follow it (same order)
    UNIT = "unit"  # the lead unit's name (主办单位)
    SOURCE = "source"  # 事项来源, in the glossary's order
    RECEIVED = "received"  # 收到日期
    LIGHT = "light"  # 红黄绿灯: red first (then by deadline), grey last


#: The way each column reads first: the most pressing or the newest on top.
DEFAULT_DESCENDING: dict[SortKey, bool] = {
    SortKey.DUE: False,
    SortKey.UNIT: False,
    SortKey.SOURCE: False,
    SortKey.RECEIVED: True,
    SortKey.LIGHT: False,
}


@dataclass(frozen=True, slots=True)
class ItemSort:
    """An order of the list: a column, a direction, and always the item id last (the
    tie-breaker that makes keyset pages stable when many rows share a value)."""

    key: SortKey = SortKey.DUE
    descending: bool = False

    @classmethod
    def of(cls, key: str, direction: str = "") -> ItemSort:
        """The sort named by a query string (``sort``, ``dir`` = ``asc``/``desc``); unknown
        values give the default order (by deadline)."""
        try:
            column = SortKey(key)
        except ValueError:
            return cls()
        if direction in ("asc", "desc"):
            return cls(column, direction == "desc")
        return cls(column, DEFAULT_DESCENDING[column])

    def columns(self, cuts: LightCuts) -> tuple[Any, ...]:
        """The keys of this order over `Item`, the id last (never NULL: tuples compare)."""
        if self.key is SortKey.DUE:
            return (due_in_force_column(), Item.ref, Item.id)
        if self.key is SortKey.RECEIVED:
            return (Item.received_on, Item.id)
        if self.key is SortKey.SOURCE:
            rank = case(
                *((Item.source == s.value, n) for n, s in enumerate(Source)), else_=len(Source)
            )
            return (rank, Item.id)
        if self.key is SortKey.LIGHT:
            # red 0 … grey 3, so that one direction reads the most pressing and, within a
            # light, the most overdue first
            rank = case(
                (Item.state.in_(ACTIVE_STATES), SEVERITY[Light.RED] - item_severity(cuts)),
                else_=SEVERITY[Light.RED] - SEVERITY[Light.GREY],
            )
            return (rank, due_in_force_column(), Item.id)
        # the lead unit's name, first by name ('' without one), kept by the database
        # (`models.lead_unit_name`) and indexed with the id: a page reads its rows and stops
        return (Item.lead_unit_name, Item.id)

    def parts(self, cuts: LightCuts, only: Light | None = None) -> list[Part]:
        """This order as consecutive parts, ascending, each read by its own keys: the whole
        list, or by light one part per light, red to grey (the items of ``only`` when the
        list is filtered to one light). A page reads the parts in turn and stops once full,
        so the red items on top never wait for the light of every stored item: each part
        walks the deadline index and asks the light of the items it reads (`showing`)."""
        keys = self.columns(cuts)
        if self.key is not SortKey.LIGHT:
            return [Part(0, None, keys)]
        parts = []
        for light in (Light.RED, Light.YELLOW, Light.GREEN, Light.GREY):
            if only is not None and light is not only:
                continue
            rank = SEVERITY[Light.RED] - SEVERITY[light]
            # filtered to one light, the filter already holds the part to it
            parts.append(Part(rank, None if only else showing(light, cuts), keys[1:]))
        return parts

    def placed(self, anchor: Sequence[Any]) -> tuple[int, tuple[Any, ...]]:
        """The rank of the part holding the row whose `columns` are ``anchor``, and its
        keys within that part."""
        if self.key is SortKey.LIGHT:
            return int(anchor[0]), tuple(anchor[1:])
        return 0, tuple(anchor)


@dataclass(frozen=True, slots=True)
class Part:
    """One part of an order (`ItemSort.parts`): its place among the parts, the items in it
    (None: every item) and the keys that order them within it."""

    rank: int
    condition: ColumnElement[bool] | None
    keys: tuple[Any, ...]


def _ordered(query: Q, backwards: bool, keys: Sequence[Any] = ()) -> Q:
    """``query`` in the order of ``keys`` (default: by deadline in force, 文号, id), read
    backwards when paging before a cursor."""
    order = keys or (due_in_force_column(), Item.ref, Item.id)
    return query.order_by(*(k.desc() if backwards else k for k in order))


async def page_items(
    session: AsyncSession,
    where: ItemFilter,
    *,
    today: date,
    calendar: WorkCalendar,
    tz: ZoneInfo,
    offset: int = 0,
    limit: int = 50,
    count: bool = True,
    cursor: Cursor | None = None,
    sort: ItemSort | None = None,
) -> ItemPage:
    """Rows ``offset`` to ``offset + limit`` of the filtered items in ``sort``'s order (by
    deadline in force, then 文号, by default), or the ``limit`` rows next to ``cursor`` (then
    ``offset`` is ignored; an item that no longer exists starts again from the first row),
    and how many match (0 when not ``count``)."""
    cuts = LightCuts.on(today, calendar, tz)
    where = await where.looked_up(session)
    order = sort or ItemSort()
    query = where.apply(select(*_ROW_COLUMNS), cuts)
    # a descending order is the ascending one read backwards: one comparison of the whole
    # key tuple (the id included) serves both, and the tie-breaker follows the direction
    backwards = order.descending
    anchor = None
    if cursor is not None:
        # the anchor must match the filters (scope included): an item one may not see is
        # no cursor, so its place in the list reveals nothing
        anchor_keys = select(*order.columns(cuts)).select_from(Item)
        anchor_keys = anchor_keys.where(Item.id == cursor.item_id)
        anchor = (await session.execute(where.apply(anchor_keys, cuts))).first()
    reverse = False
    parts = order.parts(cuts, where.light)
    start: tuple[int, tuple[Any, ...]] | None = None
    if anchor is not None:
        assert cursor is not None
        reverse = cursor.before
        backwards = order.descending != cursor.before
        start = order.placed(anchor)
        offset = 0
    items: list[Any] = []
    for part in reversed(parts) if backwards else parts:
        if start is not None and (part.rank > start[0] if backwards else part.rank < start[0]):
            continue  # before the cursor's part
        read = query if part.condition is None else query.where(part.condition)
        if start is not None and part.rank == start[0]:
            key, at = tuple_(*part.keys), tuple_(*start[1])
            read = read.where(key < at if backwards else key > at)
        if offset and len(parts) > 1:  # a part wholly before the offset is skipped
            held = await session.scalar(select(func.count()).select_from(read.subquery())) or 0
            if held <= offset:
                offset -= held
                continue
        page = _ordered(read, backwards, part.keys).offset(offset).limit(limit + 1 - len(items))
        items += (await session.execute(page)).all()
        offset = 0
        if len(items) > limit:
            break
    more = len(items) > limit
    items = items[:limit]
    if reverse:
        items.reverse()
    total = 0
    if count:
        counted = where.apply(select(func.count()).select_from(Item), cuts, counting=True)
        total = int(await session.scalar(counted) or 0)
    rows = await _rows(session, items, today=today, calendar=calendar, tz=tz)
    return ItemPage(rows, total, more)


async def light_counts(
    session: AsyncSession, where: ItemFilter, *, today: date, calendar: WorkCalendar, tz: ZoneInfo
) -> dict[Light, int]:
    """How many of the filtered items show each light (every light present, 0 if none)."""
    cuts = LightCuts.on(today, calendar, tz)
    where = await where.looked_up(session)
    counts = dict.fromkeys((Light.RED, Light.YELLOW, Light.GREEN, Light.GREY), 0)
    active = where.apply(
        select(item_severity(cuts).label("severity"), func.count()).select_from(Item),
        cuts,
        counting=True,
    ).where(Item.state.in_(ACTIVE_STATES))
    for severity, n in (await session.execute(active.group_by("severity"))).all():
        counts[BY_SEVERITY[int(severity)]] += int(n)
    done = where.apply(select(func.count()).select_from(Item), cuts, counting=True).where(
        Item.state.not_in(ACTIVE_STATES)
    )
    counts[Light.GREY] += int(await session.scalar(done) or 0)
    return counts


async def list_items(
    session: AsyncSession,
    *,
    today: date,
    calendar: WorkCalendar,
    overdue_only: bool = False,
    unit_code: str | None = None,
    tz: ZoneInfo | None = None,
    visible_to: Scope | None = None,
) -> list[ItemRow]:
    """Every item by deadline, with its light; only overdue ones, one unit's (and below), or
    those in a person's scope (filtered in the database). For exports and the CLI: pages
    use `page_items`."""
    zone = tz or ZONE
    unit_ids: frozenset[int] | None = None
    if unit_code is not None:
        units = (await session.execute(select(Unit.id, Unit.code, Unit.parent_id))).all()
        root = next((u.id for u in units if u.code == unit_code), None)
        if root is None:
            raise NotFound(f"no unit with code {unit_code!r}")
        unit_ids = frozenset(subtree(((u.id, u.parent_id) for u in units), root))
    where = ItemFilter(
        scope=visible_to, unit_ids=unit_ids, light=Light.RED if overdue_only else None
    )
    cuts = LightCuts.on(today, calendar, zone)
    query = where.apply(select(*_ROW_COLUMNS), cuts).order_by(due_in_force_column(), Item.ref)
    items = (await session.execute(query)).all()
    return await _rows(session, items, today=today, calendar=calendar, tz=zone)
