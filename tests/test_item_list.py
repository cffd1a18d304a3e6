"""The items list in SQL: lights, filters, counts and pages agree with `light_for`."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import ColumnElement, select, update
from sqlalchemy.exc import OperationalError

from models import ACTIVE_STATES, AssignmentRole, Item, ItemState, Milestone, MilestoneState
from supervision.calendar_store import load_calendar
from supervision.item_list import ItemFilter, light_counts, list_items, page_items
from supervision.light import SEVERITY, Light
from testing import SHANGHAI
from testing import factories as f

OPEN, ASKED = ItemState.OPEN.value, ItemState.COMPLETION_REQUESTED.value
CLOSED, CANCELLED = ItemState.CLOSED.value, ItemState.CANCELLED.value


def _report_at(day: date, rng: random.Random) -> datetime:
    """A report late or early on an office day: the UTC date differs from the local one."""
    local = time(rng.choice([0, 7, 23]), 30)
    return datetime.combine(day, local, tzinfo=SHANGHAI).astimezone(UTC)


async def _grid(session, today: date, n: int = 160, *, milestones: bool = False) -> None:
    """Items around every edge of the light on ``today``: due just before or after the
    due-soon cut, reports just inside and outside the quiet time, 0-2 lead assignments,
    co assignments that must not count, and closed or cancelled work; with ``milestones``,
    0-3 milestones (阶段性节点) each, open or done, due around the same cuts."""
    rng = random.Random(today.toordinal())
    units = [await f.unit(session, code=f"G{k}") for k in range(3)]
    for k in range(n):
        received = today - timedelta(days=rng.choice([0, 3, 12, 14, 15, 16, 30]))
        due = today + timedelta(days=rng.randint(-3, 20))
        item = await f.item(session, ref=f"L-{today}-{k:03d}", received_on=received, due_on=due)
        kind = rng.random()
        leads = rng.choice([0, 1, 1, 2])
        for u in range(leads + 1):
            role = AssignmentRole.LEAD if u < leads else AssignmentRole.CO
            a = await f.assignment(
                session,
                item=item,
                unit=units[u],
                role=role,
                due_on=today + timedelta(days=rng.randint(-3, 20)),
            )
            if rng.random() < 0.7:
                a.last_report_at = _report_at(today - timedelta(days=rng.randint(0, 18)), rng)
            if kind < 0.1:
                a.state = CANCELLED
            elif kind < 0.2:
                a.state = CLOSED
            else:
                a.state = rng.choice([OPEN, OPEN, ASKED, CLOSED])
        if kind < 0.1:
            item.state = CANCELLED
        elif kind < 0.2:
            item.state = CLOSED
        for m in range(rng.randint(0, 3) if milestones else 0):
            session.add(
                Milestone(
                    item_id=item.id,
                    name=f"节点{m}",
                    due_on=today + timedelta(days=rng.randint(-3, 20)),
                    unit_id=units[0].id,
                    state=rng.choice(
                        [MilestoneState.OPEN, MilestoneState.OPEN, MilestoneState.DONE]
                    ),
                )
            )
    await session.flush()


async def _shown_and_selected(session, today: date) -> dict[int, Light]:
    """The lights the list shows, after checking that the SQL light selects and counts
    exactly those."""
    calendar = await load_calendar(session)
    every = await list_items(session, today=today, calendar=calendar, tz=SHANGHAI)
    shown = {r.id: r.light for r in every}
    for light in Light:
        page = await page_items(
            session,
            ItemFilter(light=light),
            today=today,
            calendar=calendar,
            tz=SHANGHAI,
            limit=1000,
        )
        assert {r.id for r in page.rows} == {i for i, lit in shown.items() if lit is light}
        assert all(r.light is light for r in page.rows) and page.total == len(page.rows)
    counts = await light_counts(session, ItemFilter(), today=today, calendar=calendar, tz=SHANGHAI)
    assert counts == Counter(shown.values())
    return shown


@pytest.mark.parametrize("today", [date(2026, 12, 7), date(2026, 10, 9), date(2026, 2, 13)])
@pytest.mark.dialects  # the worst of two severities is greatest() or max() by dialect
async def test_the_sql_light_selects_what_light_for_shows(session, today: date) -> None:
    await _grid(session, today)
    calendar = await load_calendar(session)
    every = await list_items(session, today=today, calendar=calendar, tz=SHANGHAI)
    shown = {r.id: r.light for r in every}
    assert len(shown) == 160 and len(set(shown.values())) == 4
    for light in Light:
        page = await page_items(
            session,
            ItemFilter(light=light),
            today=today,
            calendar=calendar,
            tz=SHANGHAI,
            limit=1000,
        )
        assert {r.id for r in page.rows} == {i for i, lit in shown.items() if lit is light}
        assert all(r.light is light for r in page.rows) and page.total == len(page.rows)
    counts = await light_counts(session, ItemFilter(), today=today, calendar=calendar, tz=SHANGHAI)
    assert counts == Counter(shown.values())
    red = await list_items(session, today=today, calendar=calendar, tz=SHANGHAI, overdue_only=True)
    assert [r.id for r in red] == [r.id for r in every if r.light is Light.RED]


@pytest.mark.parametrize("today", [date(2026, 12, 7), date(2026, 10, 9)])
@pytest.mark.dialects
async def test_the_sql_light_counts_open_milestones_as_the_shown_light_does(
    session, today: date
) -> None:
    """An open item's light is also its open milestones' worst (held to their dates only):
    the filters and counts follow, and done milestones stop counting."""
    await _grid(session, today, milestones=True)
    with_stages = await _shown_and_selected(session, today)
    assert len(set(with_stages.values())) == 4
    await session.execute(update(Milestone).values(state=MilestoneState.DONE))
    await session.flush()
    without = await _shown_and_selected(session, today)
    worse = [i for i in with_stages if with_stages[i] != without[i]]
    assert worse, "no light came from a milestone: the grid does not test them"
    assert all(SEVERITY[with_stages[i]] > SEVERITY[without[i]] for i in worse)
    assert all(without[i] is not Light.GREY for i in worse)  # done items ignore their stages


async def test_pages_follow_the_list_order_and_count_every_match(session) -> None:
    today = date(2026, 12, 7)
    await _grid(session, today, n=60)
    calendar = await load_calendar(session)
    every = await list_items(session, today=today, calendar=calendar, tz=SHANGHAI)
    pages = [
        await page_items(
            session, ItemFilter(), today=today, calendar=calendar, tz=SHANGHAI, offset=o, limit=25
        )
        for o in (0, 25, 50)
    ]
    assert [r.id for p in pages for r in p.rows] == [r.id for r in every]
    assert {p.total for p in pages} == {60}
    needle = await page_items(
        session,
        ItemFilter(text="l-2026-12-07-01", due_to=today + timedelta(days=20)),
        today=today,
        calendar=calendar,
        tz=SHANGHAI,
    )
    assert {r.ref for r in needle.rows} == {f"L-2026-12-07-01{k}" for k in range(10)}
    percent = await page_items(
        session, ItemFilter(text="%"), today=today, calendar=calendar, tz=SHANGHAI
    )
    assert percent.rows == [] and percent.total == 0


async def test_search_reads_titles_refs_units_and_owners_with_one_meaning(session) -> None:
    """`supervision.search`: case-insensitive substring of the title, the 文号, the name of a
    unit the item is assigned to (主办 or 协办) or of its 责任人; pattern characters literal."""
    today = date(2026, 12, 7)
    city = await f.unit(session, name="滨江区发展改革局")
    other = await f.unit(session, name="市财政局")
    zhang = await f.person(session, name="张晓明", unit=city)
    by_title = await f.item(session, ref="A-1", title="Road Repair 道路修缮 100%")
    by_ref = await f.item(session, ref="滨〔2026〕7号", title="其他事项")
    by_co_unit = await f.item(session, ref="A-3", title="第三件")
    by_owner = await f.item(session, ref="A-4", title="第四件")
    await f.assignment(session, item=by_title, unit=other)
    await f.assignment(session, item=by_ref, unit=other)
    await f.assignment(session, item=by_co_unit, unit=other)
    await f.assignment(session, item=by_co_unit, unit=city, role=AssignmentRole.CO)
    await f.assignment(session, item=by_owner, unit=other, owner=zhang)
    await session.commit()
    calendar = await load_calendar(session)

    async def found(text: str) -> set[str]:
        page = await page_items(
            session, ItemFilter(text=text), today=today, calendar=calendar, tz=SHANGHAI
        )
        assert page.total == len(page.rows)
        return {r.ref for r in page.rows}

    assert await found("road REPAIR") == {"A-1"}
    assert await found("道路") == {"A-1"}
    assert await found("100%") == {"A-1"}
    assert await found("1_0") == set()  # "_" is not a wildcard
    assert await found("〔2026〕7") == {"滨〔2026〕7号"}
    assert await found("滨江区") == {"A-3"}  # a co unit's name
    assert await found("晓明") == {"A-4"}  # the 责任人's name
    assert await found("财政") == {"A-1", "滨〔2026〕7号", "A-3", "A-4"}
    assert await found("不存在") == set()


async def test_the_overdue_filter_can_read_the_open_items_index_on_sqlite(sqlite_engine) -> None:
    """`ItemFilter.overdue_on` writes the open states into the statement, so SQLite can read
    ``ix_items_open_due`` (the open items alone, in the list's order); the same states as
    bound values never match a partial index (``INDEXED BY`` then finds no plan), and
    SQLite walks every item's deadline instead."""

    async def usable(where: ColumnElement[bool]) -> bool:
        query = select(Item.id).where(where, Item.due_in_force < date(2026, 11, 2))
        compiled = query.order_by(Item.due_in_force, Item.ref, Item.id).compile(
            dialect=sqlite_engine.dialect, compile_kwargs={"render_postcompile": True}
        )
        forced = str(compiled).replace("FROM items", "FROM items INDEXED BY ix_items_open_due")
        params = tuple(compiled.params[name] for name in compiled.positiontup or ())
        async with sqlite_engine.connect() as conn:
            try:
                await conn.exec_driver_sql(forced, params)
            except OperationalError as exc:
                assert "no query solution" in str(exc)
                return False
        return True

    filtered = ItemFilter(overdue_on=date(2026, 11, 2)).apply(select(Item.id))
    assert filtered.whereclause is not None
    assert await usable(filtered.whereclause)
    assert not await usable(Item.state.in_(ACTIVE_STATES))
