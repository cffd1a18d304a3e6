"""Scan tick cost on PostgreSQL for growing numbers of open assignments and a fixed number due.

    .venv/bin/python -m bench.scan --sizes 10000,100000,1000000 --due 1000

Builds a dedicated database (``duban_bench_scan``, dropped at the end unless ``--keep``) from
the models, fills it with ``generate_series`` (units, people with roles, supervisors, items,
assignments), makes ``--due`` assignments due now (80 % remind, 15 % urge, 5 % overdue: about
2.4 outbox rows each), then times ``--reps`` scan ticks (``scan_once`` as the worker runs it:
batches of 500, two lanes), resetting the due rows (and VACUUMing) between repetitions so
every tick does the same work. Also times the claim query alone and an
empty tick, and prints the claim query's EXPLAIN. ``--phases`` times the parts of a tick in
this process; ``--server`` has PostgreSQL report each statement's execution time
(auto_explain), which a loaded machine inflates far less than wall time.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import time
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.util import await_only

from duban.process import settle_gc
from models import Base
from models.db import create_engine, create_sessionmaker
from notifier.outbox_writers import PgCopyWriter
from notifier.recipients import RecipientDirectory
from notifier.scan import _Batch, claim_query, scan_once
from supervision.calendar import WorkCalendar
from supervision.clock import FixedClock
from supervision.policy import ensure_default_policies

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 12, 7, 9, 0, tzinfo=TZ)  # Monday; a remind for 14 Dec is due at 08:30
NOW_SQL = "timestamp '2026-12-07 01:00:00'"  # the same instant, naive UTC as stored
UNITS = 1000
PEOPLE_PER_UNIT = 8  # 5 owners, liaison, leader, principal
SUPERVISORS = 20
ADMIN_URL = os.environ.get("DUBAN_BENCH_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/test")
DB_NAME = os.environ.get("DUBAN_BENCH_SCAN_DB", "duban_bench_scan")  # one per concurrent run

# The due rows' ladder state, as a function of the assignment id g (1..due): 80 % have a fresh
# ladder with the remind due, 15 % had the remind and now get the urge, 5 % had the urge and
# now get the overdue step. The periodic request was sent yesterday, so it is not due.
DUE_STATE = f"""
    next_action_at = timestamp '2026-12-07 00:30:00',
    due_on = CASE WHEN g % 20 < 16 THEN date '2026-12-14'
                  WHEN g % 20 < 19 THEN date '2026-12-08' ELSE date '2026-12-04' END,
    ladder_due_on = CASE WHEN g % 20 < 16 THEN NULL
                         WHEN g % 20 < 19 THEN date '2026-12-08' ELSE date '2026-12-04' END,
    last_step = CASE WHEN g % 20 < 16 THEN NULL WHEN g % 20 < 19 THEN 'remind' ELSE 'urge' END,
    last_step_at = CASE WHEN g % 20 < 16 THEN NULL
                        WHEN g % 20 < 19 THEN timestamp '2026-12-01 01:00:00'
                        ELSE timestamp '2026-12-03 01:00:00' END,
    last_periodic_at = {NOW_SQL} - interval '1 day'
"""


def _pct(values: list[float], q: int) -> float:
    """The q-th percentile (nearest rank) of ``values``, in ms."""
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank] * 1000


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(ADMIN_URL)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def build(engine: AsyncEngine, conn: asyncpg.Connection, size: int, due: int) -> float:
    """Fill the database with ``size`` assignments, ``due`` of them due now; return seconds."""
    started = time.perf_counter()
    tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
    await conn.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
    await conn.execute(
        f"""
        INSERT INTO units (id, code, name, active, created_at)
        SELECT u, 'U' || u, '单位' || u, true, {NOW_SQL} FROM generate_series(1, {UNITS}) u;
        INSERT INTO people (id, name, email, locale, unit_id, active, telegram_chat_id, created_at)
        SELECT (u - 1) * {PEOPLE_PER_UNIT} + k, '人员' || ((u - 1) * {PEOPLE_PER_UNIT} + k),
               'p' || ((u - 1) * {PEOPLE_PER_UNIT} + k) || '@bench.gov.cn', 'zh', u, true,
               100000 + (u - 1) * {PEOPLE_PER_UNIT} + k, {NOW_SQL}
        FROM generate_series(1, {UNITS}) u, generate_series(1, {PEOPLE_PER_UNIT}) k;
        INSERT INTO people (id, name, email, locale, unit_id, active, telegram_chat_id, created_at)
        SELECT {UNITS * PEOPLE_PER_UNIT} + s, '督查员' || s, 's' || s || '@bench.gov.cn', 'zh',
               NULL, true, 900000 + s, {NOW_SQL}
        FROM generate_series(1, {SUPERVISORS}) s;
        INSERT INTO person_roles (person_id, role)
        SELECT id, CASE WHEN unit_id IS NULL THEN 'supervisor'
                        WHEN (id - 1) % {PEOPLE_PER_UNIT} = 5 THEN 'liaison'
                        WHEN (id - 1) % {PEOPLE_PER_UNIT} = 6 THEN 'leader'
                        WHEN (id - 1) % {PEOPLE_PER_UNIT} = 7 THEN 'principal'
                        ELSE 'owner' END
        FROM people;
        SELECT setval(pg_get_serial_sequence('people', 'id'), (SELECT max(id) FROM people));
        SELECT setval(pg_get_serial_sequence('units', 'id'), {UNITS});
        """
    )
    await conn.execute(
        f"""
        INSERT INTO items (id, ref, title, source, objective, content, received_on, due_on,
                           due_is_provisional, due_is_default, urgent, state, created_at,
                           updated_at)
        SELECT g, 'B-' || g, '督查事项' || g,
               (ARRAY['instruction','document','meeting','annual_task','proposal','mailbox',
                      'other'])[1 + g % 7],
               '', '', date '2026-10-01', date '2026-12-08' + (g % 90), false, false,
               g > {due} AND g % 10 = 0, CASE WHEN g % 10 = 3 THEN 'closed' ELSE 'open' END,
               {NOW_SQL}, {NOW_SQL}
        FROM generate_series(1, {size}) g;
        SELECT setval(pg_get_serial_sequence('items', 'id'), {size});
        """
    )
    # Open assignments wait for a future step (spread over the next 60 days); closed ones
    # (10 %) have none. The first ``due`` ids are open and due now.
    await conn.execute(
        f"""
        INSERT INTO assignments (id, item_id, unit_id, role, owner_id, leader_id, state, due_on,
                                 next_action_at, created_at, updated_at)
        SELECT g, g, 1 + g % {UNITS}, 'lead',
               (g % {UNITS}) * {PEOPLE_PER_UNIT} + 1 + g % 5,
               CASE WHEN g % 2 = 0 THEN (g % {UNITS}) * {PEOPLE_PER_UNIT} + 7 END,
               CASE WHEN g % 10 = 3 AND g > {due} THEN 'closed' ELSE 'open' END,
               date '2026-12-08' + (g % 90),
               CASE WHEN g % 10 = 3 AND g > {due} THEN NULL
                    ELSE timestamp '2026-12-08 00:30:00' + (g % 60) * interval '1 day' END,
               timestamp '2026-11-20 01:00:00', {NOW_SQL}
        FROM generate_series(1, {size}) g;
        SELECT setval(pg_get_serial_sequence('assignments', 'id'), {size});
        """
    )
    await reset_due(conn, due)
    await conn.execute("VACUUM ANALYZE")
    async with create_sessionmaker(engine)() as session, session.begin():
        await ensure_default_policies(session)
    return time.perf_counter() - started


async def reset_due(conn: asyncpg.Connection, due: int) -> None:
    """Put the due rows back and drop what the last tick wrote (not timed)."""
    await conn.execute("DELETE FROM notifications; DELETE FROM audit_events")
    await conn.execute(
        f"UPDATE assignments AS a SET {DUE_STATE} "
        f"FROM generate_series(1, {due}) AS g WHERE a.id = g"
    )
    await conn.execute("VACUUM assignments, notifications, audit_events")


async def explain(conn: asyncpg.Connection, due: int) -> list[str]:
    """EXPLAIN (ANALYZE, BUFFERS) of the claim query, as run by the scan."""
    engine = create_engine("postgresql+asyncpg://")
    stmt = claim_query(NOW, due, True).compile(
        dialect=engine.dialect, compile_kwargs={"literal_binds": True}
    )
    await engine.dispose()
    async with conn.transaction():  # FOR UPDATE needs a transaction; it changes nothing
        rows = await conn.fetch(f"EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) {stmt}")
    return [r[0] for r in rows]


async def claim_only(engine: AsyncEngine, due: int) -> float:
    """Time the claim query alone (rolled back)."""
    sessions = create_sessionmaker(engine)
    async with sessions() as session:
        started = time.perf_counter()
        rows = (await session.execute(claim_query(NOW, due, True))).all()
        elapsed = time.perf_counter() - started
        await session.rollback()
    assert len(rows) == due, (len(rows), due)
    return elapsed


PHASES: dict[str, list[float]] = {}


def _timed(name: str, fn: Any) -> Any:
    """Wrap an async function so each call's wall time is added to PHASES[name]."""

    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return await fn(*args, **kwargs)
        finally:
            PHASES.setdefault(name, []).append(time.perf_counter() - started)

    return wrapper


def instrument() -> None:
    """Time the parts of a tick (bench only: patches the scan's internals in this process)."""
    for name in ("outbox", "advance"):
        setattr(PgCopyWriter, name, _timed(f"write {name}", getattr(PgCopyWriter, name)))
    load = RecipientDirectory.load.__func__  # type: ignore[attr-defined]
    RecipientDirectory.load = classmethod(_timed("load recipients", load))  # type: ignore[assignment]
    plan = _Batch._plan

    def timed_plan(self: _Batch, *args: Any) -> Any:
        started = time.perf_counter()
        try:
            return plan(self, *args)
        finally:
            PHASES.setdefault("plan (sum over rows)", []).append(time.perf_counter() - started)

    _Batch._plan = timed_plan  # type: ignore[method-assign]


SERVER: dict[str, list[float]] = {}  # statement -> server execution times (ms), per tick
_NOTICES: list[str] = []


def explain_server_side(engine: AsyncEngine) -> None:
    """Have PostgreSQL report every statement's execution time (auto_explain, as notices).

    Bench only: needs a superuser (LOAD). The statements' server time, without the client,
    the network or this process's scheduling, which a shared machine inflates.
    """

    @event.listens_for(engine.sync_engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        raw = dbapi_connection.driver_connection
        raw.add_log_listener(lambda _conn, message: _NOTICES.append(message.message))
        for sql in (
            "LOAD 'auto_explain'",
            "SET auto_explain.log_min_duration = 0",
            "SET auto_explain.log_analyze = on",
            "SET auto_explain.log_timing = off",
            "SET auto_explain.log_level = notice",
        ):
            await_only(raw.execute(sql))


def collect_server_side() -> None:
    """Add the statements of the tick just run to SERVER (by their first words)."""
    for message in _NOTICES:
        took = re.search(r"duration: ([\d.]+) ms", message)
        if took is None or "Query Text:" not in message:
            continue
        words = " ".join(message.split("Query Text:", 1)[1].split())
        if words.startswith("WITH new AS"):
            words = words.split("(", 1)[1]
        SERVER.setdefault(" ".join(words.split()[:3]), []).append(float(took.group(1)))
    _NOTICES.clear()


async def measure(
    size: int, due: int, reps: int, warmup: int, server: bool = False
) -> dict[str, object]:
    """Build one size and time its ticks."""
    url = ADMIN_URL.rsplit("/", 1)[0] + "/" + DB_NAME
    engine = create_engine(url.replace("postgresql://", "postgresql+asyncpg://"))
    if server:
        explain_server_side(engine)
    conn = await asyncpg.connect(url)
    try:
        build_s = await build(engine, conn, size, due)
        sessions = create_sessionmaker(engine)
        clock = FixedClock(NOW)
        settle_gc()  # as `duban worker` and `duban run` do once they are built
        calendar = WorkCalendar()
        ticks: list[float] = []
        empty: list[float] = []
        claims: list[float] = []
        rows_written = 0
        for rep in range(warmup + reps):
            claims.append(await claim_only(engine, due))
            started = time.perf_counter()
            result = await scan_once(sessions, clock=clock, tz=TZ, calendar=calendar)
            elapsed = time.perf_counter() - started
            assert result.claimed == due and result.fired == due, result
            rows_written = result.rows_written
            started = time.perf_counter()
            nothing = await scan_once(sessions, clock=clock, tz=TZ, calendar=calendar)
            empty_elapsed = time.perf_counter() - started
            assert nothing.claimed == 0
            if rep >= warmup:
                ticks.append(elapsed)
                empty.append(empty_elapsed)
                collect_server_side()
            elif rep == warmup - 1:
                PHASES.clear()
            _NOTICES.clear()
            await reset_due(conn, due)
        claims = claims[warmup:]
        plan = await explain(conn, due)
    finally:
        await conn.close()
        await engine.dispose()
    return {
        "size": size,
        "due": due,
        "rows": rows_written,
        "build_s": build_s,
        "tick_p50": _pct(ticks, 50),
        "tick_p99": _pct(ticks, 99),
        "claim_p50": _pct(claims, 50),
        "claim_p99": _pct(claims, 99),
        "empty_p50": _pct(empty, 50),
        "empty_p99": _pct(empty, 99),
        "plan": plan,
        "phases": {k: sum(v) / reps * 1000 for k, v in PHASES.items()},
        "server": {k: statistics.median(v) for k, v in SERVER.items()},
    }


async def main(
    sizes: list[int],
    due: int,
    reps: int,
    warmup: int,
    keep: bool,
    phases: bool,
    server: bool = False,
) -> None:
    """Run every size and print a Markdown table plus the claim plans."""
    if phases:
        instrument()
    print(f"load average before: {os.getloadavg()[0]:.2f}", flush=True)
    await _admin(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
    await _admin(f'CREATE DATABASE "{DB_NAME}"')
    url = ADMIN_URL.rsplit("/", 1)[0] + "/" + DB_NAME
    engine = create_engine(url.replace("postgresql://", "postgresql+asyncpg://"))
    async with engine.begin() as c:
        await c.run_sync(Base.metadata.create_all)
    await engine.dispose()
    results = []
    try:
        for size in sizes:
            PHASES.clear()
            SERVER.clear()
            r = await measure(size, due, reps, warmup, server)
            results.append(r)
            print(
                f"size={size} built in {r['build_s']:.1f}s: tick p50={r['tick_p50']:.1f}ms "
                f"p99={r['tick_p99']:.1f}ms; claim p50={r['claim_p50']:.2f}ms "
                f"p99={r['claim_p99']:.2f}ms; empty tick p50={r['empty_p50']:.2f}ms",
                flush=True,
            )
    finally:
        if not keep:
            await _admin(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
    print()
    print(
        "| open assignments | due | outbox rows | tick p50 | tick p99 | claim p50 | claim p99 "
        "| empty tick p50 | empty tick p99 |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        print(
            f"| {r['size']:,} | {r['due']:,} | {r['rows']:,} | {r['tick_p50']:.1f} ms "
            f"| {r['tick_p99']:.1f} ms | {r['claim_p50']:.2f} ms | {r['claim_p99']:.2f} ms "
            f"| {r['empty_p50']:.2f} ms | {r['empty_p99']:.2f} ms |"
        )
    if phases:
        for r in results:
            parts = ", ".join(f"{k} {v:.1f} ms" for k, v in r["phases"].items())  # type: ignore[attr-defined]
            print(f"\nmean per tick at {r['size']:,}: {parts}")
    if server:
        for r in results:
            parts = ", ".join(f"{k} {v:.2f} ms" for k, v in r["server"].items())  # type: ignore[attr-defined]
            print(f"\nserver time per statement (median) at {r['size']:,}: {parts}")
    for r in results:
        print(f"\nclaim plan at {r['size']:,}:")
        for line in r["plan"]:  # type: ignore[attr-defined]
            print("    " + line)
    print(f"\n{reps} timed repetitions per size after {warmup} warm-up (nearest-rank percentiles)")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


def cli() -> None:
    """Parse arguments and run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--due", type=int, default=1000)
    parser.add_argument("--reps", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument(
        "--phases", action="store_true", help="also time the parts of a tick (adds overhead)"
    )
    parser.add_argument(
        "--server",
        action="store_true",
        help="also report each statement's server time (auto_explain; superuser; adds overhead)",
    )
    args = parser.parse_args()
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    if args.due < 1 or any(s < args.due for s in sizes):
        parser.error("--due must be at least 1 and no larger than every size")
    asyncio.run(main(sizes, args.due, args.reps, args.warmup, args.keep, args.phases, args.server))


if __name__ == "__main__":
    cli()
