"""E-mail replies → stored reports: latency with IMAP IDLE, and throughput for a backlog.

    .venv/bin/python -m bench.mail_replies [--replies 1000] [--latency 30] [--db pg|sqlite]

A real Dovecot on 127.0.0.1 (``scripts/imap`` installs it; ``testing/imap_server.py`` runs it
with its own config in a temp dir) holds the office mailbox; the database is a PostgreSQL
database of its own (or a SQLite file) with ``--replies`` owners, each with one open
assignment and the reminder e-mail they answer.

* **latency**: ``MailboxReader.run`` waits in IDLE; ``--latency`` times one reply is appended
  to the inbox (IMAP APPEND on a second, already open connection, as the mail server's
  delivery does) and the clock runs from the APPEND until the reader's callback says the
  report is committed (IDLE push, fetch, parse, file, commit). Median, p90 and max.
* **throughput**: ``--replies`` replies (quoted original and phone footer included, one
  owner each) are appended first, untimed; then one ``poll_once`` is timed: search, fetch,
  parse, strip the quote, match the reminder, check the sender, file the report, queue the
  answer, commit, mark \\Seen, one message after another (as the reader does).
"""

from __future__ import annotations

import argparse
import asyncio
import imaplib
import shutil
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models import Base, Notification, NotificationStatus, Report
from models.db import create_engine, create_sessionmaker
from notifier.mailbox import MailboxReader, MailFiler, parse_imap_url
from supervision.clock import SystemClock
from supervision.mail_replies import MailResult
from supervision.policy import ensure_default_policies
from testing import factories as f
from testing.databases import create_pg_database, drop_pg_database
from testing.imap_server import Dovecot, dovecot_binary
from testing.mail_support import DOMAIN, Reply, replies

QUOTE = (
    "\n\n发自我的iPhone\n\n在 2026年12月5日 上午9:00，督查室 <duban@office.test> 写道：\n"
    "> 【督办提醒】督〔2026〕15号 关于加快推进老旧小区改造工作的批示（还有5个工作日）\n"
    "> 请对照目标任务抓紧推进，按时办结并报送办理情况。\n"
)


async def _office(sessions: async_sessionmaker[AsyncSession], n: int) -> list[tuple[str, str]]:
    """``n`` owners, each with an item, its assignment and a sent reminder (address, id)."""
    out: list[tuple[str, str]] = []
    async with sessions() as s:
        await ensure_default_policies(s)
        unit = await f.unit(s, name="市住建局")
        for i in range(n):
            item = await f.item(s, title=f"老旧小区改造第{i}批")
            owner = await f.person(s, name=f"责任人{i}", email=f"owner{i}@units.test", unit=unit)
            a = await f.assignment(s, item=item, unit=unit, owner=owner)
            row = Notification(
                dedupe_key=f"bench:{a.id}",
                kind="remind",
                channel="email",
                assignment_id=a.id,
                item_id=item.id,
                recipient_id=owner.id,
                address=owner.email,
                status=NotificationStatus.SENT.value,
                not_before=datetime(2026, 12, 1, tzinfo=UTC),
                payload={},
            )
            s.add(row)
            await s.flush()
            row.provider_message_id = f"<notification-{row.id}@{DOMAIN}>"
            out.append((owner.email or "", row.provider_message_id))
        await s.commit()
    return out


def _raw(address: str, message_id: str, n: int) -> bytes:
    text = f"本周完成第{n}批次小区招标，已进场施工，下周完成管线迁改。" + QUOTE
    return Reply(address, text, in_reply_to=message_id, message_id=f"<bench-{n}@units.test>").raw()


def _append_all(server: Dovecot, raws: list[bytes]) -> None:
    client = server.client()
    try:
        for raw in raws:
            client.append("INBOX", "", imaplib.Time2Internaldate(time.time()), raw)
    finally:
        client.logout()


async def _latency(
    server: Dovecot,
    sessions: async_sessionmaker[AsyncSession],
    targets: list[tuple[str, str]],
    times: int,
) -> list[float]:
    done = asyncio.Event()

    def on_result(result: MailResult) -> None:
        assert result.outcome == "filed", result.line()
        done.set()

    reader = MailboxReader(parse_imap_url(server.url), MailFiler(sessions, replies(SystemClock())))
    stop = asyncio.Event()
    task = asyncio.create_task(reader.run(stop, on_result))
    loop = asyncio.get_running_loop()
    # The mail server's side keeps one session open, so the figure is the reader's, not the
    # cost of a fresh IMAP login per delivery.
    sender = await loop.run_in_executor(None, server.client)
    out: list[float] = []
    try:
        for n in range(times):
            await asyncio.wait_for(reader.waiting.wait(), 30)
            address, message_id = targets[n % len(targets)]
            raw = _raw(address, message_id, 100_000 + n)
            done.clear()
            started = time.perf_counter()
            await loop.run_in_executor(None, sender.append, "INBOX", "", None, raw)
            await asyncio.wait_for(done.wait(), 30)
            out.append(time.perf_counter() - started)
    finally:
        stop.set()
        await task
        await loop.run_in_executor(None, sender.logout)
    return out


async def main(args: argparse.Namespace) -> None:
    if dovecot_binary() is None:
        raise SystemExit("dovecot is not installed (scripts/imap installs it)")
    root = Path(tempfile.mkdtemp(prefix="duban-bench-dovecot-"))
    server = Dovecot(root)
    server.start()
    pg_url = await create_pg_database() if args.db == "pg" else None
    if args.db == "pg" and pg_url is None:
        raise SystemExit("PostgreSQL is not reachable (DUBAN_TEST_PG_URL)")
    url = pg_url or f"sqlite+aiosqlite:///{root}/bench.db"
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(Base.metadata.create_all)
        sessions = create_sessionmaker(engine)
        targets = await _office(sessions, args.replies)
        print(f"database: {args.db}; {args.replies} owners with one reminder each")

        latencies = await _latency(server, sessions, targets, args.latency)
        ms = sorted(x * 1000 for x in latencies)
        p90 = ms[max(0, int(len(ms) * 0.9) - 1)]
        print(
            f"latency (IDLE, append -> report committed), {len(ms)} replies: "
            f"median {statistics.median(ms):.0f} ms, p90 {p90:.0f} ms, max {ms[-1]:.0f} ms"
        )

        raws = [_raw(address, mid, n) for n, (address, mid) in enumerate(targets)]
        await asyncio.get_running_loop().run_in_executor(None, _append_all, server, raws)
        reader = MailboxReader(
            parse_imap_url(server.url), MailFiler(sessions, replies(SystemClock()))
        )
        async with reader:
            started = time.perf_counter()
            results = await reader.poll_once()
            elapsed = time.perf_counter() - started
        filed = sum(1 for r in results if r.outcome == "filed")
        async with sessions() as s:
            stored = await s.scalar(select(func.count()).select_from(Report))
        print(
            f"throughput: {len(results)} replies read, {filed} filed in {elapsed:.2f} s = "
            f"{len(results) / elapsed:.1f} replies/s ({stored} reports stored in all)"
        )
        assert filed == args.replies, "every reply of the backlog must be filed"
    finally:
        await engine.dispose()
        if pg_url is not None:
            await drop_pg_database(pg_url)
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replies", type=int, default=1000)
    parser.add_argument("--latency", type=int, default=30, help="replies timed one by one")
    parser.add_argument("--db", choices=("pg", "sqlite"), default="pg")
    asyncio.run(main(parser.parse_args()))
