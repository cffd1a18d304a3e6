"""The floor under a scan tick: only the writes a tick must make, with no planning at all.

    .venv/bin/python -m bench.scan_floor --size 1000000 --due 1000

What PostgreSQL alone needs for the tick that `bench.scan` times (1,000 assignments due, 2,400
outbox rows), so that the scan's own figures can be read against it. Each tick here, in one
transaction per lane with ``synchronous_commit = off`` as the scan sets it:

1. claim the due rows (``ORDER BY next_action_at LIMIT n FOR UPDATE SKIP LOCKED``);
2. COPY 2.4 outbox rows per claimed row (2, and 2 more for every fifth), keys in the scan's
   format — built from the claimed ids, nothing read, nothing planned;
3. advance the claimed rows (new ``next_action_at`` and ladder columns, one array statement).

Two schemas:

- ``product``: Duban's tables as the models make them (``assignments`` with its five indexes;
  ``notifications`` with its primary key, unique key, ``(status, not_before)`` for delivery and
  ``item_id`` for the item timeline);
- ``lean``: the narrowest tables that can still do the job: the ladder columns in their own
  table (primary key and ``next_action_at`` indexed), an outbox with a primary key and the
  unique key only — no index for delivery or for the timeline, which a product cannot do
  without.

Each with one lane and with two lanes (two connections taking half the rows each, at once).
Uses the database of `bench.scan` (``duban_bench_scan`` or ``$DUBAN_BENCH_SCAN_DB``), built
the same way, and drops it at the end unless ``--keep``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
from datetime import datetime, timedelta
from typing import Any

import asyncpg  # type: ignore[import-untyped]

from bench.scan import ADMIN_URL, DB_NAME, _admin, _pct, build, reset_due
from models import Base
from models.db import create_engine
from supervision.outbox import COLUMNS, NEW_ROW, OutboxRow, item_thread_key

NOW = datetime(2026, 12, 7, 1, 0)  # the scan instant of bench.scan, naive UTC as stored
NEXT = NOW + timedelta(days=4)
PAYLOAD = json.dumps(
    {"step": "remind", "template": "remind", "occurrence": "2026-12-07", "due_on": "2026-12-14"}
)

LEAN_TABLES = """
    DROP TABLE IF EXISTS lean_ladders, lean_outbox;
    CREATE TABLE lean_ladders (
        assignment_id integer PRIMARY KEY, next_action_at timestamp, ladder_due_on date,
        last_step varchar(16), last_step_at timestamp, last_periodic_at timestamp);
    INSERT INTO lean_ladders
        SELECT id, next_action_at, ladder_due_on, last_step, last_step_at, last_periodic_at
        FROM assignments;
    CREATE INDEX ON lean_ladders (next_action_at);
    CREATE TABLE lean_outbox (LIKE notifications INCLUDING DEFAULTS);
    ALTER TABLE lean_outbox ADD PRIMARY KEY (id);
    CREATE UNIQUE INDEX ON lean_outbox (dedupe_key);
"""

SCHEMAS: dict[str, dict[str, str]] = {
    "product": {
        "claim": "SELECT id FROM assignments WHERE next_action_at <= $1 "
        "ORDER BY next_action_at LIMIT $2 FOR UPDATE SKIP LOCKED",
        "outbox": "notifications",
        "advance": "UPDATE assignments AS a SET next_action_at = $2, ladder_due_on = a.due_on, "
        "last_step = 'remind', last_step_at = $3, last_periodic_at = $3, updated_at = $3 "
        "FROM unnest($1::integer[]) AS u(id) WHERE a.id = u.id",
    },
    "lean": {
        "claim": "SELECT assignment_id FROM lean_ladders WHERE next_action_at <= $1 "
        "ORDER BY next_action_at LIMIT $2 FOR UPDATE SKIP LOCKED",
        "outbox": "lean_outbox",
        "advance": "UPDATE lean_ladders AS l SET next_action_at = $2, "
        "ladder_due_on = date '2026-12-14', last_step = 'remind', last_step_at = $3, "
        "last_periodic_at = $3 FROM unnest($1::integer[]) AS u(id) WHERE l.assignment_id = u.id",
    },
}


def outbox_rows(ids: list[int]) -> list[tuple[Any, ...]]:
    """2.4 rows per claimed assignment on average, shaped like the scan's."""
    rows = []
    for a in ids:
        for person in (a, a + 1) if a % 5 == 0 else (a,):
            for channel, address in (("telegram", str(100000 + person)), ("email", f"p{a}@b.cn")):
                key = f"a{a}:remind:2026-12-07:p{person}:{channel}"
                row = OutboxRow(
                    key, "remind", channel, NOW, {}, "zh", address, item_thread_key(a), a, a,
                    person,
                )._asdict()  # fmt: skip
                row["payload"] = PAYLOAD  # JSON text, as asyncpg's COPY takes it
                rows.append((*row.values(), *NEW_ROW.values(), NOW))
    return rows


async def lane(conn: asyncpg.Connection, sql: dict[str, str], batch: int) -> tuple[int, int]:
    """One transaction: claim, copy the outbox rows, advance; return (claimed, rows)."""
    async with conn.transaction():
        await conn.execute("SET LOCAL synchronous_commit = off")
        ids = [r[0] for r in await conn.fetch(sql["claim"], NOW, batch)]
        rows = outbox_rows(ids)
        await conn.copy_records_to_table(sql["outbox"], records=rows, columns=COLUMNS)
        await conn.execute(sql["advance"], ids, NEXT, NOW)
    return len(ids), len(rows)


async def reset(conn: asyncpg.Connection, schema: str, due: int) -> None:
    """Put the due rows back (not timed)."""
    if schema == "product":
        await reset_due(conn, due)
        return
    await conn.execute("DELETE FROM lean_outbox")
    await conn.execute(
        "UPDATE lean_ladders SET next_action_at = $1::timestamp - interval '30 minutes', "
        "ladder_due_on = NULL, last_step = NULL, last_step_at = NULL, "
        "last_periodic_at = $1::timestamp - interval '1 day' WHERE assignment_id <= $2",
        NOW,
        due,
    )
    await conn.execute("VACUUM lean_ladders, lean_outbox")


async def measure(
    url: str, schema: str, lanes: int, due: int, reps: int, warmup: int
) -> dict[str, float]:
    """Time ``reps`` ticks of one schema with ``lanes`` lanes."""
    admin = await asyncpg.connect(url)
    conns = [await asyncpg.connect(url) for _ in range(lanes)]
    ticks: list[float] = []
    try:
        for rep in range(warmup + reps):
            await reset(admin, schema, due)
            started = time.perf_counter()
            done = await asyncio.gather(*(lane(c, SCHEMAS[schema], due // lanes) for c in conns))
            elapsed = time.perf_counter() - started
            claimed, rows = (sum(x) for x in zip(*done, strict=True))
            assert claimed == due, (claimed, due)
            if rep >= warmup:
                ticks.append(elapsed)
    finally:
        for c in (admin, *conns):
            await c.close()
    return {"p50": _pct(ticks, 50), "p99": _pct(ticks, 99), "rows": rows}


async def main(size: int, due: int, reps: int, warmup: int, keep: bool) -> None:
    """Build the database, run both schemas with one and two lanes, print a table."""
    print(f"load average before: {os.getloadavg()[0]:.2f}", flush=True)
    await _admin(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
    await _admin(f'CREATE DATABASE "{DB_NAME}"')
    url = ADMIN_URL.rsplit("/", 1)[0] + "/" + DB_NAME
    engine = create_engine(url.replace("postgresql://", "postgresql+asyncpg://"))
    try:
        async with engine.begin() as c:
            await c.run_sync(Base.metadata.create_all)
        conn = await asyncpg.connect(url)
        try:
            await build(engine, conn, size, due)
            await conn.execute(LEAN_TABLES)
            await conn.execute("VACUUM ANALYZE lean_ladders, lean_outbox")
        finally:
            await conn.close()
        await engine.dispose()
        print("| schema | lanes | outbox rows | tick p50 | tick p99 |\n|---|---:|---:|---:|---:|")
        for schema in SCHEMAS:
            for lanes in (1, 2):
                r = await measure(url, schema, lanes, due, reps, warmup)
                print(
                    f"| {schema} | {lanes} | {r['rows']:,.0f} | {r['p50']:.1f} ms "
                    f"| {r['p99']:.1f} ms |",
                    flush=True,
                )
    finally:
        await engine.dispose()
        if not keep:
            await _admin(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
    print(f"\n{size:,} assignments, {due:,} due; {reps} timed ticks after {warmup} warm-up each")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


def cli() -> None:
    """Parse arguments and run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--due", type=int, default=1000)
    parser.add_argument("--reps", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    if args.due < 2 or args.size < args.due:
        parser.error("--due must be at least 2 and no larger than --size")
    asyncio.run(main(args.size, args.due, args.reps, args.warmup, args.keep))


if __name__ == "__main__":
    cli()
