"""Messages sent without and with digests, for the demo and for a 3,000-item import.

    .venv/bin/python -m bench.digest_count [--items 3000] [--days 30] [--threshold 5]
        [--scenarios demo,import]

Each scenario runs twice on a fresh SQLite database: **before** (every ladder row is a message:
`scan_once`), **after** (`scan_and_group`: several 交办通知 of one window are one message, and
more than ``--threshold`` messages of one window are one 每日待办). The notifier is simulated
for ``--days`` calendar days from Monday 2026-11-02: a scan at every half hour of the send
window, each row "delivered" (marked sent) after its scan. Counts are messages that would be
sent (ladder rows not grouped, plus digests), by channel. Messages only: no network.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update

from duban.demo import load_demo
from models import Base, Notification, NotificationStatus, Person, Policy, Source
from models.db import create_engine, create_sessionmaker
from notifier.digest import scan_and_group
from notifier.scan import scan_once
from supervision.audit import Actor
from supervision.clock import FixedClock
from supervision.importing import import_rows
from supervision.policy import ensure_default_policies
from supervision.tabular import Table

TZ = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 11, 2, 9, 0, tzinfo=TZ)  # a Monday
UNITS = 40


@dataclass
class Count:
    """Messages of one run, by channel."""

    by_channel: Counter[str]
    first_day: int = 0  # messages on the first day (the import's 交办通知 among them)

    @property
    def total(self) -> int:
        """All messages."""
        return sum(self.by_channel.values())

    def __str__(self) -> str:
        parts = ", ".join(f"{k} {v:,}" for k, v in sorted(self.by_channel.items()))
        return f"{self.total:,} ({parts}; first day {self.first_day:,})"


def _import_tables(items: int, seed: int) -> tuple[Table, Table, Table]:
    """Units, their people (owner, liaison, leader, principal) and ``items`` items."""
    rng = random.Random(seed)
    units = Table(
        [{"code": f"U{u:02d}", "name": f"单位{u:02d}", "parent_code": ""} for u in range(UNITS)]
    )
    people = []
    for u in range(UNITS):
        for role in ("owner", "liaison", "leader", "principal"):
            people.append(
                {"name": f"{role}{u}", "email": f"{role}{u}@bench.cn", "unit": f"U{u:02d}",
                 "roles": role}
            )  # fmt: skip
    sources = [s.value for s in Source]
    rows = []
    for n in range(items):
        lead = rng.randrange(UNITS)
        co = [c for c in rng.sample(range(UNITS), 2) if c != lead][: rng.choice((0, 0, 1, 2))]
        received = START.date() - timedelta(days=rng.randrange(0, 40))
        due = received + timedelta(days=rng.randrange(10, 70)) if rng.random() < 0.7 else None
        rows.append(
            {
                "ref": f"督〔2026〕{n + 1}号",
                "title": f"督查事项{n + 1}",
                "source": rng.choice(sources),
                "received_on": received.isoformat(),
                "due_on": due.isoformat() if due else "",
                "urgent": "是" if rng.random() < 0.1 else "否",
                "lead_unit": f"U{lead:02d}",
                "co_units": ";".join(f"U{c:02d}" for c in co),
                "owner_email": f"owner{lead}@bench.cn",
            }
        )
    return units, Table(people), Table(rows)


async def _setup(url: str, scenario: str, items: int, threshold: int | None) -> None:
    engine = create_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    sessions = create_sessionmaker(engine)
    clock = FixedClock(START)
    async with sessions() as session, session.begin():
        await ensure_default_policies(session)
        if scenario == "demo":
            await load_demo(session, clock=clock, tz=TZ)
        else:
            actor = Actor.system("bench")
            for kind, table in zip(
                ("units", "people", "items"), _import_tables(items, 7), strict=True
            ):
                result = await import_rows(
                    session, kind, table, dry_run=False, actor=actor, clock=clock
                )
                assert result.ok, result.errors[:3]
            # Everyone is bound to Telegram as well as e-mail.
            await session.execute(update(Person).values(telegram_chat_id=1_000_000 + Person.id))
        await session.execute(update(Policy).values(digest_threshold=threshold))
    await engine.dispose()


def _moments(days: int) -> list[datetime]:
    """Every half hour of the default send window (08:30–18:00) on each calendar day."""
    out = []
    for d in range(days):
        day: date = START.date() + timedelta(days=d)
        at = datetime.combine(day, time(8, 30), tzinfo=TZ)
        while at.time() < time(18, 0):
            if at >= START:
                out.append(at)
            at += timedelta(minutes=30)
    return out


async def _run(url: str, *, grouped: bool, days: int) -> Count:
    engine = create_engine(url)
    sessions = create_sessionmaker(engine)
    scan = scan_and_group() if grouped else scan_once
    sent: Counter[str] = Counter()
    first_day = 0
    for at in _moments(days):
        clock = FixedClock(at)
        await scan(sessions, clock=clock, tz=TZ)
        async with sessions() as session, session.begin():
            due = (Notification.status == NotificationStatus.PENDING.value) & (
                Notification.not_before <= clock.now()
            )
            rows = await session.execute(
                select(Notification.channel, func.count()).where(due).group_by(Notification.channel)
            )
            counted = {channel: n for channel, n in rows}
            sent.update(counted)
            if at.date() == START.date():
                first_day += sum(counted.values())
            await session.execute(update(Notification).where(due).values(status="sent"))
    await engine.dispose()
    return Count(sent, first_day)


async def _scenario(name: str, items: int, days: int, threshold: int, tmp: Path) -> None:
    results = {}
    for grouped in (False, True):
        url = f"sqlite+aiosqlite:///{tmp / f'{name}-{grouped}.db'}"
        await _setup(url, name, items, threshold if grouped else None)
        results[grouped] = await _run(url, grouped=grouped, days=days)
    label = "demo" if name == "demo" else f"{items:,}-item import"
    print(f"{label}: before {results[False]}")
    print(f"{label}: after  {results[True]}")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=3000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--threshold", type=int, default=5)
    parser.add_argument("--scenarios", default="demo,import", help="demo, import or both")
    args = parser.parse_args()
    print(f"{args.days} days from {START.date()}, 每日待办 threshold {args.threshold}")
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.scenarios.split(","):
            await _scenario(name.strip(), args.items, args.days, args.threshold, Path(tmp))


if __name__ == "__main__":
    asyncio.run(main())
