"""Pages and API lists at 1k, 10k and 100k items, on PostgreSQL and SQLite.

    .venv/bin/python -m bench.web_scale --sizes 1000,10000,100000 --dbs pg,sqlite [--requests 20]

Builds one database per size and engine (PostgreSQL ``duban_scale_<size>``, SQLite
``$TMPDIR/duban_scale_<size>.db``), kept between runs and reused when it already holds that
many items (``--rebuild`` starts again), with set-based SQL only (a series table and
``INSERT … SELECT``; 100,000 items in well under a minute on PostgreSQL):

* 300 units in a tree (20 cities, 280 counties under them), 7 people each (4 owners, a
  liaison, a leader, a principal), 10 supervisors, an admin and a viewer;
* N items received over three years (2024-01-01 to the day before the bench's today,
  2026-12-07), due 20-60 days after receipt; the history is closed (2 % still open and
  overdue, 1 % cancelled, 1 in 8 closed late), the recent ones open (1 in 10 with a
  completion awaiting review);
* 1.5 assignments per item (every item a lead unit, every other one a co unit), about 3
  reports per item (progress, then completion approved for closed work), 5 % extensions,
  three outbox rows per item (sent, one delivery attempt each), two audit events per item.

Each endpoint is then requested ``--requests`` times (after one warm-up) through the real
app (``web.app.create_app`` with the parts ``duban run`` serves) on a loopback test server, as the
admin and as a city's liaison (their city and its 14 counties: about 5 % of the items), and
the *server time* (a middleware around everything else, session lookup included) is
reported as p50/p95 with the response size, and the CPU time the process spent on the
request (p50; every thread's, so the page templates and files made in threads count) — on a
shared machine the load stretches the server time several-fold, the CPU time much less.
The clock is fixed at Monday 2026-12-07 10:00 Shanghai.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from aiohttp import ClientSession, CookieJar, web
from aiohttp.test_utils import TestClient, TestServer
from alembic import command
from sqlalchemy import func, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from yarl import URL

from duban.process import settle_gc
from models import Base, Item, Person, Source
from models.db import create_engine, create_sessionmaker, is_sqlite
from models.migrate import alembic_config
from supervision.accounts import hash_password
from supervision.audit import Actor
from supervision.clock import FixedClock
from supervision.policy import ensure_default_policies
from web.admin import setup_admin
from web.api import setup_api
from web.api_tokens import create_token
from web.app import WebConfig, WebDeps, create_app
from web.auth import CSRF_COOKIE, csrf_for
from web.throttle import LoginGuard
from web.views.bulletins import setup_bulletin_pages
from web.views.tokens import setup_token_pages

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 12, 7, 10, 0, tzinfo=TZ)
BASE = date(2024, 1, 1)
TODAY_OFF = (NOW.date() - BASE).days  # day offsets below count from BASE
UNITS = 300
CITIES = 20
PER_UNIT = 7  # 4 owners, liaison, leader, principal
SUPERVISORS = 10
STAFF = UNITS * PER_UNIT  # people ids above this are office staff
ADMIN_ID = STAFF + 1
VIEWER_ID = STAFF + 2
LIAISON_ID = 5  # the liaison of unit 1, a city with 14 counties below it
SECRET = "bench-web-scale-secret"
PASSWORD = "bench password 2026"
PG_ADMIN = os.environ.get("DUBAN_BENCH_PG", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
PERIOD = "2026-11"
#: Database name prefix (``<prefix>_<size>``): a different one keeps concurrent runs apart.
PREFIX = os.environ.get("DUBAN_BENCH_SCALE_PREFIX", "duban_scale")


class Sql:
    """The few expressions that differ between PostgreSQL and SQLite."""

    def __init__(self, sqlite: bool) -> None:
        self.sqlite = sqlite

    def day(self, offset: str) -> str:
        """The date ``offset`` days after BASE."""
        if self.sqlite:
            return f"date('{BASE}', printf('%+d days', {offset}))"
        return f"(date '{BASE}' + ({offset}))"

    def at(self, offset: str, hours: int = 2) -> str:
        """The UTC timestamp ``offset`` days after BASE, at ``hours`` o'clock (as stored)."""
        if self.sqlite:
            return (
                f"strftime('%Y-%m-%d %H:%M:%S.000000', '{BASE}', "
                f"printf('%+d minutes', ({offset}) * 1440 + {hours * 60}))"
            )
        return f"(timestamp '{BASE}' + ({offset}) * interval '1 day' + interval '{hours} hours')"

    def json(self, value: str) -> str:
        """A JSON literal."""
        return f"'{value}'" if self.sqlite else f"'{value}'::json"


async def _fill_series(conn: AsyncConnection, sql: Sql, n: int) -> None:
    await conn.execute(text("DROP TABLE IF EXISTS bench_series"))
    await conn.execute(text("CREATE TABLE bench_series (g INTEGER PRIMARY KEY)"))
    if sql.sqlite:
        await conn.execute(
            text(
                "INSERT INTO bench_series (g) WITH RECURSIVE s(g) AS "
                f"(SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < {n}) SELECT g FROM s"
            )
        )
    else:
        await conn.execute(text(f"INSERT INTO bench_series SELECT generate_series(1, {n})"))


def _statements(sql: Sql, n: int, pw: str) -> list[str]:
    """The INSERT … SELECT statements that fill an empty schema with ``n`` items."""
    created = sql.at("0", 1)
    span = TODAY_OFF - 1
    day, at = sql.day, sql.at
    return [
        # units: 20 cities, then 14 counties under each
        f"""INSERT INTO units (id, code, name, parent_id, active, created_at)
        SELECT g, 'U' || g, CASE WHEN g <= {CITIES} THEN '市' ELSE '县' END || g,
               CASE WHEN g > {CITIES} THEN 1 + (g - {CITIES + 1}) % {CITIES} END, true, {created}
        FROM bench_series WHERE g <= {UNITS}""",
        f"""INSERT INTO people (id, name, email, locale, unit_id, active, telegram_chat_id,
                                password_hash, created_at)
        SELECT g, '人员' || g, 'p' || g || '@bench.gov.cn', 'zh', 1 + (g - 1) / {PER_UNIT}, true,
               100000 + g, CASE WHEN g = {LIAISON_ID} THEN '{pw}' END, {created}
        FROM bench_series WHERE g <= {STAFF}""",
        f"""INSERT INTO people (id, name, email, locale, active, password_hash, created_at)
        SELECT {STAFF} + g, CASE g WHEN 1 THEN '管理员' WHEN 2 THEN '观察员' ELSE '督查员' END || g,
               's' || g || '@bench.gov.cn', 'zh', true,
               CASE WHEN g = 1 THEN '{pw}' END, {created}
        FROM bench_series WHERE g <= {SUPERVISORS + 2}""",
        f"""INSERT INTO person_roles (person_id, role)
        SELECT id, CASE WHEN id = {ADMIN_ID} THEN 'admin' WHEN id = {VIEWER_ID} THEN 'viewer'
                        WHEN unit_id IS NULL THEN 'supervisor'
                        WHEN (id - 1) % {PER_UNIT} = 4 THEN 'liaison'
                        WHEN (id - 1) % {PER_UNIT} = 5 THEN 'leader'
                        WHEN (id - 1) % {PER_UNIT} = 6 THEN 'principal' ELSE 'owner' END
        FROM people""",
        # the items' shape as day offsets: received, due, state, closed, units
        "DROP TABLE IF EXISTS bench_items",
        """CREATE TABLE bench_items (g INTEGER PRIMARY KEY, recv INTEGER, due INTEGER,
               state VARCHAR(24), lead_state VARCHAR(24), closed INTEGER, lead_unit INTEGER,
               co_unit INTEGER)""",
        f"""INSERT INTO bench_items
        SELECT g, recv, due,
               CASE WHEN due < {TODAY_OFF - 10} THEN
                    CASE WHEN g % 100 = 1 THEN 'cancelled' WHEN g % 50 = 0 THEN 'open'
                         ELSE 'closed' END
                    ELSE 'open' END,
               CASE WHEN due < {TODAY_OFF - 10} THEN
                    CASE WHEN g % 100 = 1 THEN 'cancelled' WHEN g % 50 = 0 THEN 'open'
                         ELSE 'closed' END
                    WHEN g % 10 = 0 THEN 'completion_requested' ELSE 'open' END,
               CASE WHEN due < {TODAY_OFF - 10} AND g % 100 <> 1 AND g % 50 <> 0 THEN
                    CASE WHEN g % 8 = 0 THEN due + 1 + g % 5 ELSE due - g % 7 END END,
               1 + lead, CASE WHEN g % 2 = 0 THEN 1 + (lead + 1 + g % 37) % {UNITS} END
        FROM (SELECT g, (g * 7919) % {span} AS recv, (g * 7919) % {span} + 20 + g % 41 AS due,
                     (g * 4099) % {UNITS} AS lead
              FROM bench_series WHERE g <= {n}) s""",
        f"""INSERT INTO items (id, ref, title, source, objective, content, received_on, due_on,
                               due_is_provisional, due_is_default, urgent, state, closed_at,
                               created_at, updated_at)
        SELECT g, '督〔' || (2024 + recv / 366) || '〕' || g || '号',
               '关于推进第' || g || '项重点工作落实情况的督查事项',
               (ARRAY_SOURCES)[1 + g % 7],
               '按期完成目标任务', '工作内容：落实第' || g || '项部署', {day("recv")},
               {day("due")}, false, g % 3 = 0, g % 25 = 0, state,
               CASE WHEN closed IS NOT NULL THEN {at("closed", 3)} END,
               {at("recv")}, {at("recv")}
        FROM bench_items""",
        f"""INSERT INTO assignments (id, item_id, unit_id, role, owner_id, leader_id, state,
                                     due_on, next_action_at, closed_at, created_at, updated_at)
        SELECT g, g, lead_unit, 'lead', (lead_unit - 1) * {PER_UNIT} + 1 + g % 4,
               (lead_unit - 1) * {PER_UNIT} + 6, lead_state, {day("due")},
               CASE WHEN state = 'open' THEN {at(f"{TODAY_OFF + 1} + g % 30")} END,
               CASE WHEN closed IS NOT NULL THEN {at("closed", 3)} END,
               {at("recv")}, {at("recv")}
        FROM bench_items""",
        f"""INSERT INTO assignments (id, item_id, unit_id, role, owner_id, leader_id, state,
                                     due_on, next_action_at, closed_at, created_at, updated_at)
        SELECT {n} + g, g, co_unit, 'co', (co_unit - 1) * {PER_UNIT} + 1 + g % 4,
               (co_unit - 1) * {PER_UNIT} + 6, state, {day("due")},
               CASE WHEN state = 'open' THEN {at(f"{TODAY_OFF + 1} + g % 30")} END,
               CASE WHEN closed IS NOT NULL THEN {at("closed", 3)} END,
               {at("recv")}, {at("recv")}
        FROM bench_items WHERE co_unit IS NOT NULL""",
        # reports: a progress report 3 days in, then a completion (approved when closed,
        # pending when requested) or a second progress report
        f"""INSERT INTO reports (assignment_id, number, author_id, kind, text, channel,
                                 review_state, created_at)
        SELECT a.id, 1, a.owner_id, 'progress', '已召开专题会议部署，正在按计划推进。', 'chat',
               'none', {at("b.recv + 3", 4)}
        FROM assignments a JOIN bench_items b ON b.g = a.item_id
        WHERE b.recv + 3 <= {TODAY_OFF}""",
        f"""INSERT INTO reports (assignment_id, number, author_id, kind, text, channel,
                                 review_state, reviewed_by_id, reviewed_at, created_at)
        SELECT a.id, 2, a.owner_id,
               CASE WHEN a.state = 'open' THEN 'progress' ELSE 'completion' END,
               '阶段任务已完成，相关材料已归档。', 'web',
               CASE a.state WHEN 'closed' THEN 'approved' WHEN 'completion_requested'
                    THEN 'pending' ELSE 'none' END,
               CASE WHEN a.state = 'closed' THEN {STAFF + 3} END,
               CASE WHEN a.state = 'closed' THEN {at("b.closed", 3)} END,
               CASE WHEN a.state = 'closed' THEN {at("b.closed", 1)}
                    WHEN a.state = 'completion_requested' THEN {at(f"{TODAY_OFF} - b.g % 5", 1)}
                    ELSE {at("b.recv + 12", 4)} END
        FROM assignments a JOIN bench_items b ON b.g = a.item_id
        WHERE a.state IN ('closed', 'completion_requested')
           OR (a.state = 'open' AND b.recv + 12 <= {TODAY_OFF})""",
        """UPDATE assignments SET last_report_at =
               (SELECT max(r.created_at) FROM reports r WHERE r.assignment_id = assignments.id)""",
        f"""INSERT INTO extensions (assignment_id, requested_by_id, reason, progress, old_due_on,
                                    new_due_on, state, decided_by_id, decided_at, channel,
                                    created_at)
        SELECT g, (lead_unit - 1) * {PER_UNIT} + 1, '需协调多个部门，申请延期。', '已完成过半',
               {day("due - 10")}, {day("due")},
               CASE WHEN recv + 10 <= {TODAY_OFF} THEN 'approved' ELSE 'pending' END,
               CASE WHEN recv + 10 <= {TODAY_OFF} THEN {STAFF + 3} END,
               CASE WHEN recv + 10 <= {TODAY_OFF} THEN {at("recv + 10", 5)} END,
               'web', {at("recv + 8", 5)}
        FROM bench_items WHERE g % 20 = 0 AND recv + 8 <= {TODAY_OFF}""",
        # the outbox: assign, remind, urge to the lead's owner, sent, one attempt each
        f"""INSERT INTO notifications (dedupe_key, kind, assignment_id, item_id, recipient_id,
                                       channel, locale, status, not_before, attempts, body_text,
                                       payload, sent_at, created_at)
        SELECT 'a' || a.id || ':' || k.kind || ':' || 'p' || a.owner_id || ':' || k.channel, k.kind,
               a.id, a.item_id, a.owner_id, k.channel, 'zh', 'sent',
               {at("b.recv + k.dx", 1)}, 1, '请按时报送办理进展。', {sql.json("{}")},
               {at("b.recv + k.dx", 1)}, {at("b.recv + k.dx", 1)}
        FROM assignments a JOIN bench_items b ON b.g = a.item_id
        CROSS JOIN (SELECT 'assign' AS kind, 'telegram' AS channel, 0 AS dx
                    UNION ALL SELECT 'remind', 'email', 15
                    UNION ALL SELECT 'urge', 'telegram', 19) k
        WHERE a.role = 'lead' AND b.recv + k.dx <= {TODAY_OFF}""",
        """INSERT INTO delivery_attempts (notification_id, channel, started_at, finished_at,
                                          outcome)
        SELECT id, channel, sent_at, sent_at, 'sent' FROM notifications""",
        f"""INSERT INTO audit_events (at, actor_id, actor_label, entity, entity_id, action,
                                      detail)
        SELECT {at("recv")}, {STAFF + 3}, '督查员3', 'item', g, 'create', {sql.json("{}")}
        FROM bench_items""",
        f"""INSERT INTO audit_events (at, actor_id, actor_label, entity, entity_id, action,
                                      from_state, to_state, detail)
        SELECT {at("closed", 3)}, {STAFF + 3}, '督查员3', 'assignment', g, 'transition',
               'completion_requested', 'closed', {sql.json("{}")}
        FROM bench_items WHERE closed IS NOT NULL""",
        "DROP TABLE bench_items",
        "DROP TABLE bench_series",
    ]


SOURCES = [s.value for s in Source]


async def build(engine: AsyncEngine, n: int) -> float:
    """Fill an empty schema with ``n`` items and their history; return the seconds taken."""
    started = time.perf_counter()
    sql = Sql(is_sqlite(engine))
    pw = hash_password(PASSWORD)
    sources = (
        "CASE (g % 7) " + " ".join(f"WHEN {i} THEN '{s}'" for i, s in enumerate(SOURCES)) + " END"
    )
    async with engine.begin() as conn:
        await _fill_series(conn, sql, max(n, STAFF))
        for stmt in _statements(sql, n, pw):
            stmt = stmt.replace("(ARRAY_SOURCES)[1 + g % 7]", sources)
            if sql.sqlite:
                stmt = stmt.replace("g % 3 = 0, g % 25 = 0", "(g % 3 = 0), (g % 25 = 0)")
            await conn.execute(text(stmt))
        if not sql.sqlite:
            for table in ("units", "people", "person_roles", "items", "assignments", "reports"):
                await conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT max(id) FROM {table}))"
                    )
                )
            for table in ("extensions", "notifications", "delivery_attempts", "audit_events"):
                await conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"coalesce((SELECT max(id) FROM {table}), 1))"
                    )
                )
    async with create_sessionmaker(engine)() as session, session.begin():
        await ensure_default_policies(session)
    async with engine.connect() as conn:
        if sql.sqlite:
            await conn.execute(text("ANALYZE"))
        else:
            await (await conn.execution_options(isolation_level="AUTOCOMMIT")).execute(
                text("VACUUM ANALYZE")
            )
    return time.perf_counter() - started


def _remove(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def _new_indexes(conn: Connection) -> None:
    """Create the models' indexes a kept database lacks (``ddl_if`` respected)."""
    for table in Base.metadata.sorted_tables:
        for index in table.indexes:
            index.create(conn, checkfirst=True)


async def open_database(kind: str, n: int, rebuild: bool) -> tuple[AsyncEngine, str]:
    """The engine of the size-``n`` database (built unless it holds ``n`` items already)."""
    if kind == "sqlite":
        path = Path(tempfile.gettempdir()) / f"{PREFIX}_{n}.db"
        if rebuild:
            _remove(path)
        engine = create_engine(f"sqlite+aiosqlite:///{path}")
    else:
        name = f"{PREFIX}_{n}"
        admin = create_engine(PG_ADMIN)
        async with admin.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            exists = await conn.scalar(
                text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
            )
            if exists and rebuild:
                await conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
                exists = None
            if not exists:
                await conn.execute(text(f'CREATE DATABASE "{name}"'))
        await admin.dispose()
        engine = create_engine(PG_ADMIN.rsplit("/", 1)[0] + "/" + name)
    async with engine.begin() as conn:
        if not is_sqlite(engine):
            await conn.execute(text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
        await conn.run_sync(Base.metadata.create_all)  # new tables of the models
        await conn.run_sync(_new_indexes)  # and new indexes on the kept ones
        held = await conn.scalar(select(func.count()).select_from(Item))
    built = ""
    if held != n:
        if held:
            raise SystemExit(f"{kind} database for {n} holds {held} items: use --rebuild")
        built = f"built in {await build(engine, n):.1f} s"
    return engine, built


@dataclass
class Timing:
    """Server times (seconds) of the requests to one endpoint."""

    times: list[float]
    size: int
    status: int
    #: the process's CPU seconds per request (every thread's; the server runs in this process)
    cpu: list[float] = field(default_factory=list)

    def pct(self, q: int, *, cpu: bool = False) -> float:
        """The q-th percentile (nearest rank), in ms (of the CPU times with ``cpu``)."""
        ordered = sorted(self.cpu if cpu else self.times)
        if not ordered:
            return float("nan")
        rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
        return ordered[rank] * 1000


SERVER_TIME = web.RequestKey("bench_server_time", float)
TIMES: list[float] = []
CPU_TIMES: list[float] = []

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def server_time(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Record how long the app took for the request, and the CPU it took (outermost
    middleware): the CPU time says what a request costs on a machine the load stretches."""
    started, cpu = time.perf_counter(), time.process_time()
    try:
        return await handler(request)
    finally:
        TIMES.append(time.perf_counter() - started)
        CPU_TIMES.append(time.process_time() - cpu)


def timing_part(app: web.Application) -> None:
    """Put the timing middleware outside every other one."""
    app.middlewares.insert(0, server_time)


async def _login(client: TestClient, email: str, person_id: int) -> None:
    await client.get("/login")
    jar = client.session.cookie_jar.filter_cookies(client.make_url("/"))
    token = csrf_for(SECRET, jar[CSRF_COOKIE].value, None)
    response = await client.post(
        "/login",
        data={"email": email, "password": PASSWORD, "csrf_token": token},
        allow_redirects=False,
    )
    assert response.status == 303, await response.text()


async def _token(engine: AsyncEngine, person_id: int, clock: FixedClock) -> str:
    async with create_sessionmaker(engine)() as session, session.begin():
        person = await session.get(Person, person_id)
        assert person is not None
        created = await create_token(
            session, person=person, name="bench", actor=Actor.system("bench"), clock=clock
        )
        return created.secret


#: Timed only when ``--only`` names the ledger: the whole 台账 (every item of the database).
ONLY_NAMED = ("/items/ledger.xlsx",)


def endpoints(liaison: bool, only_named: bool = False) -> list[str]:
    """The pages and API lists to time (a liaison is refused bulletins: not listed)."""
    pages = [
        "/",
        "/items",
        "/items?page=50",
        "/items?light=red",
        "/items?unit=3",
        "/items?q=" + "重点工作",  # in every title: the list's order, a count of every item
        "/items?q=" + "第4217项",  # in one title: the trigram index
        "/items?after=50000",  # keyset: about half-way down (the liaison: not theirs, page 1)
        "/items?sort=light",  # red first: the light of every item in the order
        "/items?sort=unit",  # by lead unit name
        "/items/ledger.xlsx?unit=3",  # the 台账 of one unit's items
        "/items/12",
        "/reviews",
        "/api/v1/items",
        "/api/v1/items?state=open",
        "/api/v1/assignments",
        "/api/v1/assignments?after=75000",
        "/api/v1/extensions",
        "/api/v1/people",
        "/api/v1/units",
    ]
    if only_named:
        pages += list(ONLY_NAMED)
    if not liaison:
        pages += [
            f"/bulletins/preview?period={PERIOD}",
            f"/bulletins/preview.xlsx?period={PERIOD}",
            "/deliveries",
            "/people",
            f"/api/v1/bulletins/preview?period={PERIOD}",
        ]
    return pages


async def measure(
    engine: AsyncEngine, requests: int, only: str, probes: bool = False
) -> dict[tuple[str, str], Timing]:
    """Time every endpoint as the admin and as the liaison (and probe ``/healthz`` while the
    heaviest ones are built: always without ``only``, with it when ``probes``)."""
    clock = FixedClock(NOW)
    deps = WebDeps(
        config=WebConfig(secret_key=SECRET, tz=TZ),
        sessions=create_sessionmaker(engine),
        clock=clock,
        login_guard=LoginGuard(sleep=_no_wait),
    )
    results: dict[tuple[str, str], Timing] = {}
    for role, email, person_id in (
        ("admin", "s1@bench.gov.cn", ADMIN_ID),
        ("liaison", f"p{LIAISON_ID}@bench.gov.cn", LIAISON_ID),
    ):
        parts = [setup_admin, setup_bulletin_pages, setup_token_pages, setup_api, timing_part]
        app = create_app(deps, parts)
        bearer = await _token(engine, person_id, clock)
        async with TestClient(TestServer(app)) as client:
            await _login(client, email, person_id)
            settle_gc()  # as `duban run` does once it serves (else full collections stall p95)
            for path in endpoints(role == "liaison", only_named="ledger" in only):
                if only and (path != only[1:] if only.startswith("=") else only not in path):
                    continue
                headers = {"Authorization": f"Bearer {bearer}"} if path.startswith("/api") else {}
                status, size = 0, 0
                TIMES.clear()
                CPU_TIMES.clear()
                for _ in range(requests + 1):
                    response = await client.get(path, headers=headers, allow_redirects=False)
                    body = await response.read()
                    status, size = response.status, len(body)
                results[role, path] = Timing(TIMES[1:], size, status, CPU_TIMES[1:])
                t = results[role, path]
                print(
                    f"  {role:8} {path:45} {status} {size / 1024:8.1f} KB "
                    f"p50 {t.pct(50):8.1f} ms  p95 {t.pct(95):8.1f} ms  "
                    f"cpu p50 {t.pct(50, cpu=True):7.1f} ms",
                    flush=True,
                )
            if role == "admin" and (probes or not only):
                for heavy in HEAVY:
                    if only and only not in heavy:
                        continue
                    auth = {"Authorization": f"Bearer {bearer}"} if "/api/" in heavy else {}
                    times = await _probe_while(client, heavy, auth)
                    results[role, f"/healthz during {heavy}"] = Timing(times, 0, 200)
                    t = results[role, f"/healthz during {heavy}"]
                    print(
                        f"  {role:8} /healthz during {heavy}: {len(times)} probes, "
                        f"p50 {t.pct(50):.1f} ms, max {max(times) * 1000:.1f} ms",
                        flush=True,
                    )
    return results


HEAVY = (
    "/",
    f"/bulletins/preview?period={PERIOD}",
    f"/bulletins/preview.xlsx?period={PERIOD}",
    f"/api/v1/bulletins/preview?period={PERIOD}",
)


async def _probe_while(client: TestClient, heavy: str, headers: dict[str, str]) -> list[float]:
    """Client times of /healthz, one after another, while ``heavy`` is being built."""
    task = asyncio.create_task(client.get(heavy, headers=headers))
    probes: list[float] = []
    while not task.done():
        started = time.perf_counter()
        response = await client.get("/healthz")
        await response.read()
        probes.append(time.perf_counter() - started)
    (await task).release()
    return probes


async def _no_wait(_seconds: float) -> None:
    return None


RSS_SECRET = "bench-web-scale-rss-secret-0123456789"  # a loopback bench's key
RSS_PORT = int(os.environ.get("DUBAN_BENCH_RSS_PORT", "18431"))


def _peak_rss_mb(pid: int) -> tuple[float, float]:
    """(peak, current) resident set of process ``pid`` in MB, from /proc (Linux)."""
    fields = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
    )
    return (int(fields["VmHWM"].split()[0]) / 1024, int(fields["VmRSS"].split()[0]) / 1024)


async def measure_rss(engine: AsyncEngine, requests: int) -> dict[str, float]:
    """Start a real ``duban run`` on the database (web, in-process scan and delivery) and
    read its peak RSS after every admin endpoint has been requested ``requests`` times."""
    url = engine.url.render_as_string(hide_password=False)
    async with engine.begin() as conn:  # built by create_all: mark it as migrated
        await conn.run_sync(_stamp, url)
    env = {
        **os.environ,
        "DUBAN_DATABASE_URL": url,
        "DUBAN_SECRET_KEY": RSS_SECRET,
        "DUBAN_WEB_HOST": "127.0.0.1",
        "DUBAN_WEB_PORT": str(RSS_PORT),
        "DUBAN_TIMEZONE": str(TZ),
    }
    env.pop("DUBAN_REDIS_URL", None)  # single process: the scan and delivery run inside
    duban = Path(sys.executable).with_name("duban")
    proc = await asyncio.create_subprocess_exec(
        str(duban), "run", env=env, stdout=asyncio.subprocess.DEVNULL
    )
    base = f"http://127.0.0.1:{RSS_PORT}"
    out: dict[str, float] = {}
    try:
        async with ClientSession(cookie_jar=CookieJar(unsafe=True)) as http:  # an IP host
            for _ in range(600):  # up to 60 s to start (migrations, policies)
                try:
                    async with http.get(base + "/healthz") as r:
                        if r.status == 200:
                            break
                except OSError:
                    pass
                await asyncio.sleep(0.1)
            out["started"] = _peak_rss_mb(proc.pid)[0]
            (await http.get(base + "/login")).release()
            cookies = http.cookie_jar.filter_cookies(URL(base))
            token = csrf_for(RSS_SECRET, cookies[CSRF_COOKIE].value, None)
            login = {"email": "s1@bench.gov.cn", "password": PASSWORD, "csrf_token": token}
            async with http.post(base + "/login", data=login, allow_redirects=False) as r:
                assert r.status == 303, await r.text()
            bearer = await _token(engine, ADMIN_ID, FixedClock(NOW))
            for path in endpoints(liaison=False):
                headers = {"Authorization": f"Bearer {bearer}"} if path.startswith("/api") else {}
                for _ in range(requests):
                    async with http.get(base + path, headers=headers) as r:
                        await r.read()
                out[path] = _peak_rss_mb(proc.pid)[0]
            out["peak"], out["end"] = _peak_rss_mb(proc.pid)
    finally:
        proc.terminate()
        await proc.wait()
    return out


def _stamp(connection: Connection, url: str) -> None:
    config = alembic_config(url)
    config.attributes["connection"] = connection
    command.stamp(config, "head")


async def main() -> None:
    """Build (or reuse) the databases and time the endpoints."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--dbs", default="pg,sqlite")
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument(
        "--only", default="", help="time only paths containing this text (=path: that path)"
    )
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--build-only", action="store_true")
    parser.add_argument(
        "--probes", action="store_true", help="probe /healthz during the heavy pages with --only"
    )
    parser.add_argument(
        "--rss",
        action="store_true",
        help="instead of timing: peak RSS of a real `duban run` while every page is requested",
    )
    args = parser.parse_args()
    table: dict[tuple[str, int], dict[tuple[str, str], Timing]] = {}
    for kind in args.dbs.split(","):
        for n in (int(s) for s in args.sizes.split(",")):
            engine, built = await open_database(kind, n, args.rebuild)
            print(f"{kind} {n:,} items {built}", flush=True)
            if args.rss:
                for what, mb in (await measure_rss(engine, args.requests)).items():
                    print(f"  duban run peak RSS after {what}: {mb:.0f} MB", flush=True)
            elif not args.build_only:
                table[kind, n] = await measure(engine, args.requests, args.only, args.probes)
            await engine.dispose()
    if table:
        _print_table(table)


def _print_table(table: dict[tuple[str, int], dict[tuple[str, str], Timing]]) -> None:
    columns = sorted(table)
    keys = list(dict.fromkeys(k for result in table.values() for k in result))
    print("\n| role | endpoint | " + " | ".join(f"{k} {n:,} p50 / p95" for k, n in columns) + " |")
    print("|---|---|" + "---:|" * len(columns))
    for role, path in keys:
        cells = []
        for column in columns:
            t = table[column].get((role, path))
            cells.append(
                "—"
                if t is None
                else f"{t.pct(50):.0f} / {t.pct(95):.0f} ms"
                + (f" (cpu {t.pct(50, cpu=True):.0f})" if t.cpu else "")
            )
        print(f"| {role} | `{path}` | " + " | ".join(cells) + " |")
    print(
        "\nsizes (KB): "
        + "; ".join(
            f"{role} {path} " + "/".join(f"{table[c][role, path].size / 1024:.0f}" for c in columns)
            for role, path in keys
            if all((role, path) in table[c] for c in columns)
        )
    )


if __name__ == "__main__":
    started = time.perf_counter()
    asyncio.run(main())
    print(f"total {timedelta(seconds=round(time.perf_counter() - started))}")
