"""Telegram send rate and due-to-sent latency through the arq worker, against the fake Bot API
holding Telegram's limits (30 messages/s per bot, 1 message/s per chat).

    .venv/bin/python -m bench.telegram_rate --messages 600 [--arrival 20] [--chats 300]

Each run gets a PostgreSQL database of its own with ``--messages`` pending Telegram reminders
(one open assignment each, owners spread over ``--chats`` chats) and a flushed Redis database
(``--redis-url``). The production worker (``notifier.worker.worker_settings``: cron scan that
queues rows due before the next scan with ``_defer_by``, one arq job per row, the shared
``RedisLimiter``, aiogram ``TelegramChannel``, default ``NotifierConfig``: 30 msg/s, 1 msg/s
per chat, 10 jobs at once) runs in this process beside ``testing.fakes.telegram.FakeTelegram``
(``global_rate=30``, ``per_chat_rate=1``), both on 127.0.0.1.

Two loads: **burst** — every row due at the same instant (the cap is the bottleneck; the
achieved rate is what counts); **arrival** — rows due one after another at ``--arrival``
messages/s, below the cap (latency is what counts). Due = the row's ``not_before``, sent = its
``sent_at``; the achieved rate is accepted messages over the span from first to last at the
fake; "send p50" is the median of one attempt from claim to recorded result (the
``delivery_attempts`` row). Runs are bounded by ``--timeout``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from redis.asyncio import Redis
from sqlalchemy import select, update

from models import DeliveryAttempt, Notification
from models.db import create_engine, create_sessionmaker
from notifier.config import NotifierConfig
from notifier.worker import DeliveryWorker, NotifierDeps, worker_settings
from testing.databases import create_pg_database, create_schema, drop_pg_database
from testing.fakes.telegram import FakeTelegram
from testing.fault_support import OutboxProbe, seed_reminders

LEAD_SECONDS = 3.0  # rows fall due this long after the worker starts (start-up not timed)


@dataclass
class RunResult:
    load: str
    messages: int
    sent: int
    rate: float
    too_many: int
    violations: int
    p50: float
    p99: float
    worst: float
    seconds: float
    claim_to_record: float  # p50 of one attempt, claim to recorded result


def _pct(values: list[float], q: float) -> float:
    """The q-th percentile (nearest rank)."""
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, math.ceil(q / 100 * len(ordered)) - 1))
    return ordered[rank]


async def _schedule(url: str, start: datetime, arrival: float | None) -> None:
    """Make the rows due at ``start`` (burst) or one every 1/``arrival`` s from ``start``."""
    engine = create_engine(url)
    try:
        async with create_sessionmaker(engine)() as session, session.begin():
            ids = list((await session.scalars(select(Notification.id).order_by("id"))).all())
            step = 0.0 if arrival is None else 1.0 / arrival
            await session.execute(
                update(Notification),
                [
                    {"id": nid, "not_before": start + timedelta(seconds=i * step)}
                    for i, nid in enumerate(ids)
                ],
            )
    finally:
        await engine.dispose()


async def run_once(
    *,
    load: str,
    messages: int,
    chats: int,
    arrival: float | None,
    redis_url: str,
    limit: float,
    concurrency: int,
) -> RunResult:
    """One load against a fresh database, Redis database and fake."""
    url = await create_pg_database()
    if url is None:
        raise SystemExit("PostgreSQL is required (DUBAN_TEST_PG_URL)")
    redis = Redis.from_url(redis_url)
    await redis.flushdb()
    engine = create_engine(url)
    probe = OutboxProbe(url)
    try:
        await create_schema(url)
        await seed_reminders(
            url, rows=messages, chats=chats, not_before=datetime.now(UTC) + timedelta(hours=1)
        )
        async with FakeTelegram(global_rate=30.0, per_chat_rate=1.0) as fake:
            start = datetime.now(UTC) + timedelta(seconds=LEAD_SECONDS)
            await _schedule(url, start, arrival)
            config = NotifierConfig(
                telegram_token=fake.token,
                telegram_api_base=fake.base_url,
                redis_url=redis_url,
                concurrency=concurrency,
            )
            deps = NotifierDeps(config=config, sessions=create_sessionmaker(engine))
            worker = DeliveryWorker(**worker_settings(deps, handle_signals=False))
            task = asyncio.create_task(worker.async_run())
            deadline = time.monotonic() + limit
            try:
                while not await probe.all_sent():
                    if time.monotonic() > deadline or task.done():
                        print(f"{load}: not finished: {await probe.counts()}", file=sys.stderr)
                        break
                    await asyncio.sleep(0.2)
            finally:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
                await worker.close()
            rows = await probe.rows()
            async with probe.sessions() as session:
                spans = [
                    (done - began).total_seconds()
                    for began, done in (
                        await session.execute(
                            select(DeliveryAttempt.started_at, DeliveryAttempt.finished_at)
                        )
                    ).all()
                    if done is not None
                ]
            latencies = [
                (r.sent_at - r.not_before).total_seconds() for r in rows if r.sent_at is not None
            ]
            times = [m.at for m in fake.sent]
            span = (max(times) - min(times)) if len(times) > 1 else float("nan")
            last_sent = max((r.sent_at for r in rows if r.sent_at), default=start)
            return RunResult(
                load=load,
                messages=messages,
                sent=len(fake.sent),
                rate=(len(times) - 1) / span if len(times) > 1 else float("nan"),
                too_many=sum(r.status == 429 for r in fake.requests),
                violations=fake.violations,
                p50=_pct(latencies, 50) if latencies else float("nan"),
                p99=_pct(latencies, 99) if latencies else float("nan"),
                worst=max(latencies, default=float("nan")),
                seconds=(last_sent - start).total_seconds(),
                claim_to_record=_pct(spans, 50) if spans else float("nan"),
            )
    finally:
        await probe.close()
        await engine.dispose()
        await redis.flushdb()
        await redis.aclose()
        await drop_pg_database(url)


async def amain(args: argparse.Namespace) -> None:
    chats = args.chats or max(1, args.messages // 2)
    loads: list[tuple[str, float | None]] = []
    if args.load in ("both", "burst"):
        loads.append(("burst", None))
    if args.load in ("both", "arrival"):
        loads.append((f"arrival {args.arrival:g}/s", args.arrival))
    print(
        f"Telegram send rate: {args.messages} messages over {chats} chats; fake caps 30 msg/s "
        f"per bot, 1 msg/s per chat; worker limits 30 and 1, {args.concurrency} jobs at once"
    )
    results = [
        await run_once(
            load=name,
            messages=args.messages,
            chats=chats,
            arrival=arrival,
            redis_url=args.redis_url,
            limit=args.timeout,
            concurrency=args.concurrency,
        )
        for name, arrival in loads
    ]
    print(
        f"{'load':<16} {'sent':>5} {'msg/s':>6} {'of cap':>6} {'429s':>5} {'viol.':>5} "
        f"{'p50 s':>6} {'p99 s':>6} {'max s':>6} {'span s':>6} {'send p50 ms':>11}"
    )
    for r in results:
        print(
            f"{r.load:<16} {r.sent:>5} {r.rate:>6.2f} {r.rate / 30:>6.1%} {r.too_many:>5} "
            f"{r.violations:>5} {r.p50:>6.2f} {r.p99:>6.2f} {r.worst:>6.2f} {r.seconds:>6.1f} "
            f"{r.claim_to_record * 1000:>11.0f}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--messages", type=int, default=600)
    parser.add_argument("--chats", type=int, default=0, help="default: messages / 2")
    parser.add_argument("--arrival", type=float, default=20.0, help="arrival load, messages/s")
    parser.add_argument("--load", choices=("both", "burst", "arrival"), default="both")
    parser.add_argument(
        "--concurrency",
        type=int,
        default=NotifierConfig().concurrency,
        help="jobs at once (default: NotifierConfig's, as `duban worker` runs)",
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/13")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per run, at most")
    asyncio.run(amain(parser.parse_args(argv)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
