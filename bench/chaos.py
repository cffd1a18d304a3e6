"""Chaos: real ``duban worker`` processes under one fault each; messages lost and duplicated.

    .venv/bin/python -m bench.chaos --scenario kill|flush|smtp|db [--messages 1000]

Each run makes a PostgreSQL database of its own (``testing.databases.create_pg_database``),
seeds ``--messages`` due reminders (``testing.fault_support.seed_reminders``: one item each,
ref ``FT00001``…), flushes a Redis database and starts two ``duban worker`` processes
(``testing.fault_support.WorkerProcess``: lease 8 s, sweeper every second, 20 sends in flight
each). Once a fifth of the messages went out, the fault:

* ``kill``: SIGKILL one worker while it has sends in flight, start a replacement;
* ``flush``: ``FLUSHDB`` on Redis (queued jobs, deferred retries, rate limits, arq's records);
* ``smtp``: the SMTP sink stops for ``--outage`` seconds (connections refused), then comes
  back (e-mail reminders instead of Telegram);
* ``db``: ``pg_terminate_backend`` on every connection of the workers, twice, 2 s apart.

``backlog`` starts no worker: it seeds ``--messages`` due rows and times what a scan or a
sweep does with them (``notifier.worker.enqueue_due`` over the whole backlog, in one call):
queuing their jobs (a batch of rows each), then again with all queued (a worker's start, a
sweep). (Queuing one ``enqueue_job`` per row, as the worker did before issue #16, is gone
with the one-row jobs, issue #15.)

Telegram is ``testing.fakes.telegram.FakeTelegram`` (50 ms a request, 1 message a second per
chat); e-mail is aiosmtpd (``testing.notifier_support.SmtpServer``), both in this process on
127.0.0.1. A message is *lost* when its row is not ``sent`` at the end or the fake never
received its ref; *duplicated* counts receipts beyond one per message. *Drain* is from the
fault to the last row sent. Prints one line and a JSON object per run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass
from email.header import decode_header, make_header
from pathlib import Path

from redis.asyncio import Redis
from sqlalchemy import text

from supervision.outbox import CHAT, EMAIL
from testing.databases import RedisLease, create_pg_database, create_schema, drop_pg_database
from testing.fakes.telegram import FakeTelegram
from testing.fault_support import (
    REF_PREFIX,
    OutboxProbe,
    WorkerProcess,
    seed_reminders,
    until,
    worker_env,
)
from testing.notifier_support import SmtpServer, free_port

SCENARIOS = ("kill", "flush", "smtp", "db", "backlog")
REF_RE = re.compile(rf"{REF_PREFIX}\d{{5}}")
MAIL_FROM = "督查室 <duban@office.example.gov.cn>"

#: sends in flight per worker, and the rows of one delivery job
WORKER_CONCURRENCY = 20


@dataclass
class Outcome:
    """One run's figures."""

    scenario: str
    messages: int
    lost: int
    duplicated: int
    drain_s: float
    total_s: float
    note: str = ""


class Sink:
    """Where the workers send: the fake Bot API or the SMTP sink; counts receipts by ref."""

    def __init__(self, scenario: str) -> None:
        self.email = scenario == "smtp"
        self.tg = FakeTelegram(global_rate=None, per_chat_rate=1.0, delay=0.05)
        self.smtp = SmtpServer(port=free_port())

    async def __aenter__(self) -> Sink:
        if self.email:
            self.smtp.start()
        else:
            await self.tg.__aenter__()
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.email:
            self.smtp.stop()
        else:
            await self.tg.__aexit__(None, None, None)

    def env(self) -> dict[str, str]:
        if self.email:
            return {
                "DUBAN_SMTP_URL": f"smtp://127.0.0.1:{self.smtp.port}",
                "DUBAN_MAIL_FROM": MAIL_FROM,
            }
        return {"DUBAN_TELEGRAM_TOKEN": self.tg.token, "DUBAN_TELEGRAM_API_BASE": self.tg.base_url}

    def received(self) -> Counter[str]:
        """Receipts by item ref (in the e-mail's subject, the chat message's text)."""
        if self.email:
            texts = [str(make_header(decode_header(m["Subject"]))) for m in self.smtp.sink.messages]
        else:
            texts = [m.text for m in self.tg.sent]
        found = [REF_RE.findall(t) for t in texts]
        return Counter(refs[0] for refs in found if refs)

    def count(self) -> int:
        return len(self.smtp.sink.messages) if self.email else len(self.tg.sent)


async def terminate_backends(url: str) -> int:
    """Close every other connection to the run's database, as a failover or restart would."""
    probe = OutboxProbe(url)
    try:
        async with probe.engine.connect() as conn:
            killed = await conn.scalar(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            )
    finally:
        await probe.close()
    return int(killed or 0)


async def run(
    scenario: str, messages: int, outage: float, workdir: Path, redis_url: str
) -> Outcome:
    """One run of ``scenario`` on the Redis database ``redis_url`` (flushed); raises when the
    outbox did not drain in time."""
    url = await create_pg_database()
    if url is None:
        raise SystemExit("PostgreSQL is not reachable on 127.0.0.1:5432")
    redis = Redis.from_url(redis_url)
    await redis.flushdb()
    workers: list[WorkerProcess] = []
    probe = OutboxProbe(url)
    note = ""
    try:
        await create_schema(url)
        channel = EMAIL if scenario == "smtp" else CHAT
        seeded = await seed_reminders(
            url, rows=messages, chats=max(1, messages // 5), channel=channel
        )
        async with Sink(scenario) as sink:
            env = (
                worker_env(
                    database_url=url,
                    redis_url=redis_url,
                    lease_seconds=8,
                    telegram_rate=500,
                    concurrency=WORKER_CONCURRENCY,
                )
                | sink.env()
            )
            started = time.monotonic()
            for name in ("one", "two"):
                workers.append(await WorkerProcess(env, workdir / f"{scenario}-{name}.log").start())

            async def fifth_out() -> bool:
                return sink.count() >= messages // 5

            await until(fifth_out, timeout=120, what="a fifth of the messages sent")
            fault_at = time.monotonic()
            note = await inject(scenario, sink, workers, probe, url, redis, env, workdir, outage)
            await until(probe.all_sent, timeout=600, what="every row sent after the fault")
            done = time.monotonic()
        rows = await probe.rows()
        received = sink.received()
        unsent = sum(r.status != "sent" for r in rows)
        missing = len(set(seeded.ids) - set(received))
        return Outcome(
            scenario=scenario,
            messages=messages,
            lost=max(unsent, missing),
            duplicated=sum(received.values()) - len(received),
            drain_s=round(done - fault_at, 1),
            total_s=round(done - started, 1),
            note=note,
        )
    finally:
        for worker in workers:
            await worker.stop()
        await probe.close()
        await redis.aclose()
        await drop_pg_database(url)


async def inject(
    scenario: str,
    sink: Sink,
    workers: list[WorkerProcess],
    probe: OutboxProbe,
    url: str,
    redis: Redis,
    env: dict[str, str],
    workdir: Path,
    outage: float,
) -> str:
    """Cause the scenario's fault; returns what it did, for the report."""
    if scenario == "kill":
        victim = workers[0]

        async def sending() -> bool:
            return await probe.in_flight(victim.pid) > 0

        await until(sending, timeout=60, what="the victim sending", every=0.01)
        await victim.kill()
        in_flight = await probe.in_flight(victim.pid)
        workers.append(await WorkerProcess(env, workdir / "kill-restarted.log").start())
        return f"{in_flight} sends in flight at the kill"
    if scenario == "flush":
        await redis.flushdb()
        return "FLUSHDB"
    if scenario == "smtp":
        sink.smtp.stop()
        await asyncio.sleep(outage)
        sink.smtp = restarted(sink.smtp)
        return f"SMTP refused for {outage:.0f}s"
    killed = await terminate_backends(url)
    await asyncio.sleep(2)
    killed += await terminate_backends(url)
    return f"{killed} backends terminated"


def restarted(server: SmtpServer) -> SmtpServer:
    """The same sink listening again on the same port (an aiosmtpd controller starts once)."""
    again = SmtpServer(port=server.port)
    again.sink = server.sink
    again.controller.handler = server.sink
    return again.start()


async def backlog(messages: int, redis_url: str) -> str:
    """Seconds to queue a backlog's jobs in bulk, and to find them all queued."""
    from arq.connections import RedisSettings, create_pool

    from notifier.worker import enqueue_due, rows_per_job

    url = await create_pg_database()
    if url is None:
        raise SystemExit("PostgreSQL is not reachable on 127.0.0.1:5432")
    pool = await create_pool(RedisSettings.from_dsn(redis_url))
    probe = OutboxProbe(url)
    try:
        await create_schema(url)
        await seed_reminders(url, rows=messages, chats=max(1, messages // 5))
        await pool.flushdb()
        now = max(r.not_before for r in await probe.rows())
        times = []
        for _ in range(2):
            started = time.perf_counter()
            done = await enqueue_due(
                pool,
                probe.sessions,
                now=now,
                per_job=rows_per_job(WORKER_CONCURRENCY),
                limit=messages,
            )
            times.append((time.perf_counter() - started, done.queued))
    finally:
        await pool.flushdb()
        await pool.aclose()
        await probe.close()
        await drop_pg_database(url)
    (bulk, queued), (again, requeued) = times
    return (
        f"backlog rows={messages} bulk={bulk:.2f}s (queued {queued} jobs) "
        f"all-queued={again:.2f}s (queued {requeued})"
    )


async def main_async(args: argparse.Namespace) -> int:
    failures = 0
    # a Redis database of its own, as the tests and the other benches take one: each run
    # flushes it, which must never reach a test run's database beside it
    lease = RedisLease.claim()
    if lease is None:
        raise SystemExit("Redis is not reachable on 127.0.0.1:6379")
    with tempfile.TemporaryDirectory(prefix="duban-chaos-") as tmp:
        try:
            failures = await _runs(args, Path(tmp), lease.url)
        finally:
            lease.release()
    return 1 if failures else 0


async def _runs(args: argparse.Namespace, workdir: Path, redis_url: str) -> int:
    """Every run asked for; the number that lost a message."""
    failures = 0
    for scenario in args.scenario:
        for _ in range(args.runs):
            if scenario == "backlog":
                print(await backlog(args.messages, redis_url))
                continue
            outcome = await run(scenario, args.messages, args.outage, workdir, redis_url)
            print(
                f"{outcome.scenario:5} messages={outcome.messages} lost={outcome.lost} "
                f"duplicated={outcome.duplicated} drain={outcome.drain_s}s "
                f"total={outcome.total_s}s ({outcome.note})"
            )
            print(json.dumps(asdict(outcome), ensure_ascii=False))
            failures += outcome.lost > 0
    return failures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", choices=SCENARIOS, action="append", required=True)
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--outage", type=float, default=20.0, help="smtp: seconds refused")
    raise SystemExit(asyncio.run(main_async(parser.parse_args())))


if __name__ == "__main__":
    main()
