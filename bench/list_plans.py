"""The query plans behind the lists' indexes, at the size of a `bench.web_scale` database.

    .venv/bin/python -m bench.list_plans [--size 100000]

Prints ``EXPLAIN (ANALYZE, BUFFERS)`` of the statements the items list and the API lists
run, built by the application's own code (`ItemFilter`, `ItemSearch`, the API's keysets), on
the PostgreSQL database ``duban_scale_<size>`` that ``bench.web_scale`` builds: the evidence
docs/BENCHMARKS.md cites for ``ix_items_due_in_force``, ``ix_items_text_trgm``,
``ix_assignments_due_on`` and ``ix_extensions_created_at``.
"""

from __future__ import annotations

import argparse
import asyncio
from datetime import date
from typing import Any

from sqlalchemy import func, select, text, tuple_
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession

from bench.web_scale import LIAISON_ID, NOW, PG_ADMIN, PREFIX, TZ
from models import Assignment, Extension, Item, Person
from models.db import create_engine, create_sessionmaker
from supervision.access import scope_for
from supervision.calendar_store import load_calendar
from supervision.item_list import _ROW_COLUMNS, ItemFilter, ItemSort, SortKey, _ordered
from supervision.light import Light, LightCuts

ONLY = ""


async def _explain(session: AsyncSession, title: str, statement: Any) -> None:
    if ONLY not in title:
        return
    sql = statement.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True})
    plan = await session.scalars(text(f"EXPLAIN (ANALYZE, BUFFERS) {sql}"))
    print(f"== {title}")
    print("\n".join(plan.all()))
    print()


def rows_of() -> Any:
    """The list's row columns."""
    return select(*_ROW_COLUMNS)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--only", default="", help="only the plans whose title contains this")
    args = parser.parse_args()
    engine = create_engine(PG_ADMIN.rsplit("/", 1)[0] + f"/{PREFIX}_{args.size}")
    today: date = NOW.date()
    global ONLY
    ONLY = args.only
    async with create_sessionmaker(engine)() as session:
        cuts = LightCuts.on(today, await load_calendar(session), TZ)
        liaison = await scope_for(session, await session.get_one(Person, LIAISON_ID))
        for title, where in (
            ("/items?light=red", ItemFilter(light=Light.RED)),
            ("liaison /items", ItemFilter(scope=liaison)),
            ("liaison /items?light=red", ItemFilter(scope=liaison, light=Light.RED)),
        ):
            where = await where.looked_up(session)  # as the pages run it (PostgreSQL's form)
            await _explain(session, title, _ordered(where.apply(rows_of(), cuts), False).limit(51))
            counted = where.apply(select(func.count()).select_from(Item), cuts, counting=True)
            await _explain(session, f"{title} (count)", counted)
        await _explain(
            session,
            "liaison /items?page=50 (offset)",
            _ordered(
                (await ItemFilter(scope=liaison).looked_up(session)).apply(rows_of(), cuts), False
            )
            .offset(2450)
            .limit(51),
        )
        for column in (SortKey.LIGHT, SortKey.UNIT):
            for who, where in (("", ItemFilter()), ("liaison ", ItemFilter(scope=liaison))):
                where = await where.looked_up(session)
                for part in ItemSort(column).parts(cuts):  # page 1 reads the first part
                    read = where.apply(rows_of(), cuts)
                    if part.condition is not None:
                        read = read.where(part.condition)
                    await _explain(
                        session,
                        f"{who}/items?sort={column} (part {part.rank})",
                        _ordered(read, False, part.keys).limit(51),
                    )
        rows = select(*_ROW_COLUMNS)
        deep = await session.scalar(
            _ordered(select(Item.id), False).offset(args.size // 2).limit(1)
        )
        anchor = (
            await session.execute(
                select(Item.due_in_force, Item.ref, Item.id).where(Item.id == deep)
            )
        ).one()
        key = tuple_(Item.due_in_force, Item.ref, Item.id)
        await _explain(session, "/items page 1", _ordered(rows, False).limit(51))
        await _explain(
            session,
            f"/items?after={deep} (half-way down, keyset)",
            _ordered(rows.where(key > tuple_(*anchor)), False).limit(51),
        )
        await _explain(
            session, "/items?page=1000 (offset)", _ordered(rows, False).offset(49_950).limit(51)
        )
        for needle in ("第4217项", "重点工作"):
            where = await ItemFilter(text=needle).looked_up(session)
            await _explain(
                session, f"/items?q={needle}", _ordered(where.apply(rows, cuts), False).limit(51)
            )
            counted = where.apply(select(func.count()).select_from(Item), cuts)
            await _explain(session, f"/items?q={needle} (count)", counted)
        await _explain(
            session,
            "/api/v1/assignments page 1",
            select(Assignment).order_by(Assignment.due_on, Assignment.id).limit(51),
        )
        await _explain(
            session,
            "/api/v1/extensions page 1",
            select(Extension)
            .join(Assignment, Assignment.id == Extension.assignment_id)
            .order_by(Extension.created_at.desc(), Extension.id.desc())
            .limit(51),
        )
        # a liaison's API lists: page 1 (by keyset order) and its count, as `keyset_paged`
        # runs them with the scope's filter
        for title, query, order in (
            (
                "liaison /api/v1/assignments",
                liaison.filter_assignments(select(Assignment)),
                (Assignment.due_on, Assignment.id),
            ),
            (
                "liaison /api/v1/extensions",
                liaison.filter_assignments(
                    select(Extension).join(Assignment, Assignment.id == Extension.assignment_id)
                ),
                (Extension.created_at.desc(), Extension.id.desc()),
            ),
        ):
            await _explain(session, f"{title} page 1", query.order_by(*order).limit(51))
            counted = select(func.count()).select_from(query.subquery())
            await _explain(session, f"{title} (count)", counted)
    await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())
