"""Replies to reminders ingested through the Telegram webhook: reports stored per second, p99.

    .venv/bin/python -m bench.bot_ingest --requests 4000 --concurrency 32

Builds a dedicated PostgreSQL database (``duban_bench_bot``, dropped at the end unless
``--keep``) from the models with ``--people`` owners, one assignment and one sent reminder
each (the Notification row carries its chat and message id, as delivery records it). Serves
the real web app with the real webhook part (``web.telegram``) and the real dispatcher on
127.0.0.1. A second process runs the fake Bot API (``testing/fakes/telegram.py``, flood limits
off), which receives what the bot sends itself, and the client, which posts ``--requests``
Update JSONs, each a reply to one reminder, ``--concurrency`` at a time on keep-alive
connections, timing each POST until its 200 (stored, handled, report committed) and checking
that the body is the ``sendMessage`` confirming it. The client is deliberately lean (raw
asyncio streams, requests serialised beforehand): it shares the 2 cores with the server and
PostgreSQL. Prints throughput, latency percentiles, CPU per report of the server, the
client and the PostgreSQL backends, the load average, and the counts of reports and
``done`` updates (one each per request).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import multiprocessing
import os
import pstats
import statistics
import time
from collections import Counter
from datetime import datetime
from functools import partial
from multiprocessing.connection import Connection
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
from aiohttp import web
from sqlalchemy import event, func, select

from bot import BotConfig, create_bot, create_dispatcher
from bot.dispatcher import filer_of
from duban.process import settle_gc
from models import Base, Report, TelegramUpdate
from models.db import create_engine, create_sessionmaker
from supervision.clock import FixedClock
from supervision.policy import ensure_default_policies
from testing.fakes.telegram import FakeTelegram
from web.app import WebConfig, WebDeps, create_app
from web.telegram import SECRET_HEADER, setup_telegram_webhook

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 2, 10, 0, tzinfo=TZ)
ADMIN_URL = os.environ.get("DUBAN_BENCH_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/test")
DB_NAME = "duban_bench_bot"
SECRET = "bench-secret"
FIRST_USER = 500_000


async def _backend_cpu() -> float | None:
    """CPU seconds used so far by the PostgreSQL backends serving the bench database (None
    when their /proc entries cannot be read, e.g. PostgreSQL on another machine)."""
    conn = await asyncpg.connect(ADMIN_URL)
    try:
        pids = [
            r["pid"]
            for r in await conn.fetch(
                "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
                DB_NAME,
            )
        ]
    finally:
        await conn.close()
    return _proc_cpu(pids)


def _proc_cpu(pids: list[int]) -> float | None:
    total = 0
    try:
        for pid in pids:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime in clock ticks
    except OSError:
        return None
    return total / os.sysconf("SC_CLK_TCK")


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


async def seed(url: str, people: int) -> None:
    """Owners with a bound chat, an assignment and a sent reminder each."""
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await conn.execute(
            """
            INSERT INTO units (id, code, name, active, created_at)
            VALUES (1, 'U1', '市发改委', true, now());
            INSERT INTO items (id, ref, title, source, objective, content, received_on, due_on,
                               due_is_provisional, due_is_default, urgent, state, created_at,
                               updated_at)
            SELECT g, '督〔压测〕' || g || '号', '压测事项' || g, 'document', '', '',
                   date '2026-11-02', date '2026-12-21', false, false, false, 'open', now(), now()
            FROM generate_series(1, $1) g;
            """.replace("$1", str(people))
        )
        await conn.execute(
            f"""
            INSERT INTO people (id, name, email, locale, unit_id, active, telegram_user_id,
                                telegram_chat_id, created_at)
            SELECT g, '人员' || g, 'p' || g || '@bench.cn', 'zh', 1, true, {FIRST_USER} + g,
                   {FIRST_USER} + g, now()
            FROM generate_series(1, {people}) g;
            INSERT INTO person_roles (person_id, role) SELECT g, 'owner'
            FROM generate_series(1, {people}) g;
            INSERT INTO assignments (id, item_id, unit_id, role, owner_id, state, due_on,
                                     created_at, updated_at)
            SELECT g, g, 1, 'lead', g, 'open', date '2026-12-21', now(), now()
            FROM generate_series(1, {people}) g;
            INSERT INTO notifications (dedupe_key, kind, channel, locale, address, status,
                                       not_before, attempts, body_text, payload, assignment_id,
                                       item_id, recipient_id, chat_id, chat_message_id,
                                       created_at)
            SELECT 'a' || g || ':remind:p' || g || ':telegram', 'remind', 'telegram', 'zh',
                   ({FIRST_USER} + g)::text, 'sent', now(), 1, '提醒', '{{}}', g, g, g,
                   {FIRST_USER} + g, 1, now()
            FROM generate_series(1, {people}) g;
            SELECT setval(pg_get_serial_sequence('people', 'id'), {people});
            SELECT setval(pg_get_serial_sequence('items', 'id'), {people});
            SELECT setval(pg_get_serial_sequence('assignments', 'id'), {people});
            ANALYZE;
            """
        )
    finally:
        await conn.close()


def reply_update(update_id: int, person: int) -> dict[str, Any]:
    """A private reply to the person's reminder (message 1 in their chat)."""
    user = FIRST_USER + person
    chat = {"id": user, "type": "private", "first_name": f"人员{person}"}
    sender = {"id": user, "is_bot": False, "first_name": f"人员{person}", "language_code": "zh"}
    reminder = {
        "message_id": 1,
        "date": 1_790_000_000,
        "chat": chat,
        "from": {"id": 123456, "is_bot": True, "first_name": "Duban"},
        "text": "【提醒】",
    }
    return {
        "update_id": update_id,
        "message": {
            "message_id": 1000 + update_id,
            "date": 1_790_000_000,
            "chat": chat,
            "from": sender,
            "text": f"第{update_id}条进展：按计划推进",
            "reply_to_message": reminder,
        },
    }


def _is_confirmation(answer: Any, chat_id: int) -> bool:
    """True for a webhook answer that confirms a report in ``chat_id`` (Telegram would send it)."""
    return (
        isinstance(answer, dict)
        and answer.get("method") == "sendMessage"
        and str(answer.get("chat_id")) == str(chat_id)
        and "次报告" in str(answer.get("text", ""))
    )


def _request(host: str, port: int, path: str, update: dict[str, Any]) -> bytes:
    """One POST of ``update`` as bytes, ready to write (HTTP/1.1, the connection kept)."""
    body = json.dumps(update, ensure_ascii=False).encode()
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
        f"{SECRET_HEADER}: {SECRET}\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def _exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> tuple[int, bytes]:
    """Write one request and read its response: the status and the whole body."""
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.lower() == b"content-length":
            length = int(value)
            break
    else:
        raise RuntimeError(f"a response without Content-Length: {head!r}")
    return status, await reader.readexactly(length)


def _peer(pipe: Connection, people: int, requests: int, concurrency: int) -> None:
    """Child process: the fake Bot API and the load generator, off the server's CPU."""
    asyncio.run(_peer_main(pipe, people, requests, concurrency))


async def _peer_main(pipe: Connection, people: int, requests: int, concurrency: int) -> None:
    # The client plays Telegram and is deliberately lean: the requests are serialised before
    # the clock starts, each connection writes one and reads the status line, the headers and
    # the body (parsed, to check it confirms that report); no HTTP client library. On 2 cores
    # shared with the server and PostgreSQL, the load generator's CPU is taken from them.
    fake = FakeTelegram(global_rate=None, per_chat_rate=None)
    await fake.start()
    loop = asyncio.get_running_loop()
    try:
        pipe.send((fake.token, fake.base_url))
        host, port, path = await loop.run_in_executor(None, pipe.recv)
        updates = [reply_update(n, (n - 1) % people + 1) for n in range(1, requests + 1)]
        posts = [(u["message"]["chat"]["id"], _request(host, port, path, u)) for u in updates]
        latencies: list[float] = []
        statuses: Counter[int] = Counter()
        answered = 0  # confirmations carried in the webhook answer
        next_post = 0

        async def worker() -> None:
            nonlocal answered, next_post
            reader, writer = await asyncio.open_connection(host, port)
            try:
                while next_post < len(posts):
                    chat_id, request = posts[next_post]
                    next_post += 1
                    started = time.perf_counter()
                    status, body = await _exchange(reader, writer, request)
                    latencies.append(time.perf_counter() - started)
                    statuses[status] += 1
                    if status == 200 and _is_confirmation(json.loads(body), chat_id):
                        answered += 1
            finally:
                writer.close()

        warm = reply_update(10_000_000, 1)  # the first request pays for pools and caches
        reader, writer = await asyncio.open_connection(host, port)
        await _exchange(reader, writer, _request(host, port, path, warm))
        writer.close()
        warm_sent = len(fake.sent)  # the warm-up's own confirmation, when sent by the bot
        pipe.send("warm")
        await loop.run_in_executor(None, pipe.recv)
        began, cpu_began = time.perf_counter(), time.process_time()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        wall, cpu = time.perf_counter() - began, time.process_time() - cpu_began
        confirmed = answered + sum(1 for m in fake.sent[warm_sent:] if "次报告" in m.text)
        pipe.send((latencies, dict(statuses), wall, confirmed, cpu))
    finally:
        await fake.stop()


async def run(args: argparse.Namespace) -> None:
    """Build, serve, let the peer post, report, clean up."""
    await _admin(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
    await _admin(f'CREATE DATABASE "{DB_NAME}"')
    url = ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    url += "/" + DB_NAME
    engine = create_engine(url)
    runner: web.AppRunner | None = None
    ctx = multiprocessing.get_context("spawn")
    pipe, child_end = ctx.Pipe()
    peer = ctx.Process(target=_peer, args=(child_end, args.people, args.requests, args.concurrency))
    loop = asyncio.get_running_loop()
    try:
        async with engine.begin() as conn:
            await conn.run_sync(Base.metadata.create_all)
        sessions = create_sessionmaker(engine)
        async with sessions() as session, session.begin():
            await ensure_default_policies(session)
        await seed(url, args.people)
        peer.start()
        token, api_base = await loop.run_in_executor(None, pipe.recv)
        clock = FixedClock(NOW)
        config = BotConfig(token=token, api_base=api_base, tz=TZ)
        bot = create_bot(config)
        dp = create_dispatcher(sessions=sessions, config=config, clock=clock)
        deps = WebDeps(config=WebConfig(secret_key="bench"), sessions=sessions, clock=clock)
        if args.in_flight is not None:
            filer_of(dp).in_flight = args.in_flight
        webhook = partial(setup_telegram_webhook, dispatcher=dp, bot=bot, secret=SECRET)
        app = create_app(deps, [webhook])
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        host, port = runner.addresses[0][:2]
        pipe.send((host, port, "/telegram/webhook"))
        await loop.run_in_executor(None, pipe.recv)  # warmed up
        statements: Counter[str] = Counter()

        def count(_c: Any, _cur: Any, sql: str, *_rest: Any) -> None:
            statements[" ".join(sql.split())[:70]] += 1

        event.listen(engine.sync_engine, "before_cursor_execute", count)
        profiler = cProfile.Profile(time.process_time) if args.profile else None  # CPU, not wall
        load_began = os.getloadavg()[0]
        pg_began = await _backend_cpu()
        cpu_began, usage_began = time.process_time(), os.times()
        if profiler is not None:
            profiler.enable()
        if not args.default_gc:
            settle_gc()  # as `duban run` does once it serves
        pipe.send("go")
        latencies, statuses, wall, sent, client_cpu = await loop.run_in_executor(None, pipe.recv)
        if profiler is not None:
            profiler.disable()
        event.remove(engine.sync_engine, "before_cursor_execute", count)
        cpu = time.process_time() - cpu_began
        usage = os.times()
        user, system = usage.user - usage_began.user, usage.system - usage_began.system
        pg_ended = await _backend_cpu()
        peer.join(30)

        async with sessions() as session:
            reports = await session.scalar(select(func.count()).select_from(Report)) or 0
            done = await session.scalar(
                select(func.count())
                .select_from(TelegramUpdate)
                .where(TelegramUpdate.status == "done")
            )
        reports -= 1  # the warm-up
        print(
            f"requests={args.requests} concurrency={args.concurrency} people={args.people} "
            f"statuses={statuses}"
        )
        print(f"reports stored={reports} updates done={done} (incl. warm-up)")
        print(f"wall={wall:.2f}s  throughput={reports / wall:.0f} reports/s")
        print(
            f"latency ms: p50={_pct(latencies, 50):.1f} p90={_pct(latencies, 90):.1f} "
            f"p99={_pct(latencies, 99):.1f} max={max(latencies) * 1000:.1f} "
            f"mean={statistics.fmean(latencies) * 1000:.1f}"
        )
        print(
            f"server process CPU {cpu:.2f}s = {cpu / max(reports, 1) * 1000:.2f} ms per report "
            f"(client and fake Bot API run in a separate process); load average "
            f"{load_began:.1f} at the start, {os.getloadavg()[0]:.1f} at the end, on "
            f"{os.cpu_count()} cores"
        )
        print(f"  of which user {user:.2f}s, system (kernel: sockets) {system:.2f}s")
        print(
            f"client process CPU {client_cpu:.2f}s = "
            f"{client_cpu / args.requests * 1000:.2f} ms per request"
        )
        if pg_began is not None and pg_ended is not None:
            pg = pg_ended - pg_began
            print(
                f"PostgreSQL backends of the bench database: CPU {pg:.2f}s = "
                f"{pg / max(reports, 1) * 1000:.2f} ms per report"
            )
        print(f"confirmations (webhook answers and sent messages): {sent}")
        per_report = statements.total() / max(reports, 1)
        print(f"statements: {statements.total()} ({per_report:.2f} per report)")
        if args.profile:
            for sql, n in statements.most_common(20):
                print(f"  {n:6d}  {sql}")
        if profiler is not None:
            if out := os.environ.get("BENCH_PROFILE_OUT"):
                profiler.dump_stats(out)
            order, top = os.environ.get("BENCH_SORT", "tottime"), os.environ.get("BENCH_TOP", "25")
            pstats.Stats(profiler).sort_stats(order).print_stats(int(top))
        await bot.session.close()
    finally:
        if peer.is_alive():
            peer.terminate()
        if runner is not None:
            await runner.cleanup()
        await engine.dispose()
        if not args.keep:
            await _admin(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')


def main() -> None:
    """Parse arguments and run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=4000, help="updates to post (bounded)")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--people", type=int, default=2000, help="owners with a reminder each")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of the run")
    parser.add_argument(
        "--default-gc", action="store_true", help="leave the cyclic GC as Python sets it"
    )
    parser.add_argument(
        "--in-flight",
        type=int,
        default=None,
        help="reply batches at once (default: the filer's, 2 on PostgreSQL); 1: no pipelining",
    )
    args = parser.parse_args()
    if not 1 <= args.requests <= 100_000:
        parser.error("--requests must be between 1 and 100000")
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
