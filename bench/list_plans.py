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

from bench.web_scale import NOW, PG_ADMIN, TZ
from models import Assignment, Extension, Item
from models.db import create_engine, create_sessionmaker
from supervision.calendar_store import load_calendar
from supervision.item_list import _ROW_COLUMNS, ItemFilter, _ordered
from supervision.light import LightCuts


async def _explain(session: AsyncSession, title: str, statement: Any) -> None:
    sql = statement.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True})
    plan = await session.scalars(text(f"EXPLAIN (ANALYZE, BUFFERS) {sql}"))
    print(f"== {title}")
    print("\n".join(plan.all()))
    print()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=100_000)
    args = parser.parse_args()
    engine = create_engine(PG_ADMIN.rsplit("/", 1)[0] + f"/duban_scale_{args.size}")
    today: date = NOW.date()
    async with create_sessionmaker(engine)() as session:
        cuts = LightCuts.on(today, await load_calendar(session), TZ)
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
    await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())
