"""The items list's orders: every column sorts both ways, and keyset pages walk it exactly
(ties broken by id), forwards and backwards, on both databases."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest
from sqlalchemy import delete, insert, literal, select, update

from models import Assignment, AssignmentRole, Item, ItemState, Source, Unit
from supervision.calendar_store import load_calendar
from supervision.deadlines import days_left
from supervision.item_list import (
    Cursor,
    ItemFilter,
    ItemRow,
    ItemSort,
    SortKey,
    list_items,
    page_items,
)
from supervision.light import SEVERITY, Light
from testing import SHANGHAI
from testing import factories as f

pytestmark = pytest.mark.dialects

TODAY = date(2026, 12, 7)
SOURCES = list(Source)


async def _items(session) -> None:
    """Items with many ties in every column: 4 deadlines, 3 received dates, 3 units (and
    none), every source, open, closed and cancelled."""
    rng = random.Random(7)
    units = [await f.unit(session, code=f"S{k}", name=name) for k, name in enumerate("cab")]
    for k in range(40):
        item = await f.item(
            session,
            ref=f"S-{k:02d}",
            source=rng.choice(SOURCES),
            received_on=TODAY - timedelta(days=rng.choice([3, 20, 40])),
            due_on=TODAY + timedelta(days=rng.choice([-4, 0, 2, 30])),
        )
        if k % 9:
            asg = await f.assignment(
                session, item=item, unit=units[k % 3], role=AssignmentRole.LEAD
            )
            asg.due_on = item.due_on
        if k % 7 == 0:
            item.state = ItemState.CLOSED
            if k % 9:
                asg.state = ItemState.CLOSED
    await session.flush()


def _expected(rows: list[ItemRow], sort: ItemSort) -> list[int]:
    def key(r: ItemRow) -> tuple[object, ...]:
        if sort.key is SortKey.DUE:
            return (r.due_on, r.ref, r.id)
        if sort.key is SortKey.RECEIVED:
            return (r.received_on, r.id)
        if sort.key is SortKey.SOURCE:
            return (SOURCES.index(Source(r.source)), r.id)
        if sort.key is SortKey.UNIT:
            return (r.lead_unit_name or "", r.id)
        return (SEVERITY[Light.RED] - SEVERITY[r.light], r.due_on, r.id)

    return [r.id for r in sorted(rows, key=key, reverse=sort.descending)]


@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("column", list(SortKey))
async def test_every_order_pages_by_cursor_without_gaps_or_repeats(
    session, column: SortKey, descending: bool
) -> None:
    await _items(session)
    calendar = await load_calendar(session)
    every = await list_items(session, today=TODAY, calendar=calendar, tz=SHANGHAI)
    sort = ItemSort(column, descending)
    expected = _expected(every, sort)
    assert len(expected) == 40

    async def page(cursor: Cursor | None, offset: int = 0) -> tuple[list[int], bool]:
        found = await page_items(
            session,
            ItemFilter(),
            today=TODAY,
            calendar=calendar,
            tz=SHANGHAI,
            limit=7,
            offset=offset,
            count=False,
            cursor=cursor,
            sort=sort,
        )
        return [r.id for r in found.rows], found.more

    walked: list[int] = []
    ids, more = await page(None)
    walked += ids
    while more:
        ids, more = await page(Cursor(walked[-1]))
        walked += ids
    assert walked == expected
    # backwards from the last page: each page is the slice before its first row
    ids, _ = await page(None, offset=35)
    assert ids == expected[35:]
    start = 35
    while start > 0:
        ids, more = await page(Cursor(expected[start], before=True))
        assert ids == expected[max(0, start - 7) : start]
        assert more == (start > 7)
        start -= 7


@pytest.mark.parametrize("light", list(Light))
async def test_the_order_by_light_of_a_list_filtered_to_one_light(session, light: Light) -> None:
    """Filtered to one light, the order by light reads that light's part alone: the same
    rows, in the same order, as the whole order by light keeps of them."""
    await _items(session)
    calendar = await load_calendar(session)
    every = await list_items(session, today=TODAY, calendar=calendar, tz=SHANGHAI)
    sort = ItemSort(SortKey.LIGHT)
    shown = {r.id for r in every if r.light is light}
    expected = [i for i in _expected(every, sort) if i in shown]
    assert expected
    found = await page_items(
        session,
        ItemFilter(light=light),
        today=TODAY,
        calendar=calendar,
        tz=SHANGHAI,
        limit=50,
        sort=sort,
    )
    assert [r.id for r in found.rows] == expected
    assert found.total == len(expected)


async def test_sort_names_from_a_query_string() -> None:
    assert ItemSort.of("received") == ItemSort(SortKey.RECEIVED, True)  # newest first
    assert ItemSort.of("light") == ItemSort(SortKey.LIGHT, False)  # red first
    assert ItemSort.of("unit", "desc") == ItemSort(SortKey.UNIT, True)
    assert ItemSort.of("bogus", "desc") == ItemSort()
    assert ItemSort.of("due", "sideways") == ItemSort()


async def test_days_left_are_working_days_to_the_deadline_in_force(session) -> None:
    await _items(session)
    calendar = await load_calendar(session)
    every = await list_items(session, today=TODAY, calendar=calendar, tz=SHANGHAI)
    for row in every:
        if row.state in (ItemState.CLOSED, ItemState.CANCELLED):
            assert row.days_left is None
        else:
            assert row.days_left == days_left(TODAY, row.due_on, calendar)
    # Monday 2026-12-07: due the Thursday before, it is 2 working days late (Friday, Monday)
    late = [r for r in every if r.due_on == TODAY - timedelta(days=4) and r.days_left is not None]
    assert late and {r.days_left for r in late} == {-2}
    on_day = [r for r in every if r.due_on == TODAY and r.days_left is not None]
    assert on_day and {r.days_left for r in on_day} == {0}


async def test_the_database_keeps_the_lead_unit_name_whoever_writes(session) -> None:
    """`models.lead_unit_name`: the order by unit's column is the item's lead unit first by
    name ('' with none; co units do not count, cancelled leads do, as the list shows them),
    through every change of an assignment's unit, role or item and of a unit's name, by the
    ORM or by plain SQL."""
    b, a = await f.unit(session, name="B局"), await f.unit(session, name="A局")
    item = await f.item(session, ref="KEPT")
    other = await f.item(session, ref="OTHER")

    async def stored() -> dict[str, str]:
        rows = await session.execute(select(Item.ref, Item.lead_unit_name))
        return {ref: name for ref, name in rows.all()}

    assert await stored() == {"KEPT": "", "OTHER": ""}
    co = await f.assignment(session, item=item, unit=a, role=AssignmentRole.CO)
    assert (await stored())["KEPT"] == ""  # a co unit is no lead
    lead = await f.assignment(session, item=item, unit=b)
    assert (await stored())["KEPT"] == "B局"
    co.role = AssignmentRole.LEAD.value
    await session.flush()
    assert (await stored())["KEPT"] == "A局"  # the first of two leads by name
    co.state = ItemState.CANCELLED.value  # still listed as the item's lead unit
    await session.flush()
    assert (await stored())["KEPT"] == "A局"
    await session.execute(update(Unit).where(Unit.id == a.id).values(name="AB局"))
    assert (await stored())["KEPT"] == "AB局"  # renamed: its items follow
    lead.unit_id = (await f.unit(session, name="AA局")).id
    await session.flush()
    assert (await stored())["KEPT"] == "AA局"
    co.item_id = other.id  # moved: both items follow
    await session.flush()
    assert await stored() == {"KEPT": "AA局", "OTHER": "AB局"}
    await session.execute(delete(Assignment).where(Assignment.id == lead.id))
    assert await stored() == {"KEPT": "", "OTHER": "AB局"}
    await session.execute(  # set-based, as imports and the bench write
        insert(Assignment).from_select(
            ["item_id", "unit_id", "role", "due_on", "state"],
            select(
                Item.id,
                literal(b.id),
                literal(AssignmentRole.LEAD.value),
                Item.due_on,
                literal(ItemState.OPEN.value),
            ).where(Item.ref == "KEPT"),
        )
    )
    assert await stored() == {"KEPT": "B局", "OTHER": "AB局"}
