"""The people list (人员名册) at an office's size: `supervision.roster.people_roster` timed.

    .venv/bin/python -m bench.people_roster [--people 20000] [--units 300] [--rounds 30]

Builds a throw-away PostgreSQL database from the models with ``--units`` units in a
three-level tree and ``--people`` people with generated Chinese names (their pinyin columns
filled by the model, as every write path fills them), then times the calls the people page
makes: page 1, a late page, a search by pinyin initials, a search by unit name and a unit's
subtree, ``--rounds`` each after one warm-up. Prints p50 / p95 per call and the load
average. The database is dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import time
from datetime import UTC, datetime

from sqlalchemy import insert

from models import Person, Unit
from models.db import create_engine, create_sessionmaker
from models.org import pinyin_of
from supervision.roster import people_roster
from testing.databases import create_pg_database, create_schema, drop_pg_database

SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段钱汤尹黎易常武乔贺赖龚文单"  # noqa: E501
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍建国红梅鹏辉林斌宇浩凯晨瑞琳欣"
NOW = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)


async def _seed(url: str, people: int, units: int) -> tuple[int, int]:
    """Units as a tree (1 top, ~units/10 second level, the rest below); people spread."""
    engine = create_engine(url)
    rng = random.Random(13)
    try:
        async with engine.begin() as conn:
            rows = [{"id": 1, "code": "U0000", "name": "省政府", "parent_id": None}]
            for n in range(2, units + 1):
                parent = 1 if n <= units // 10 + 1 else rng.randint(2, units // 10 + 1)
                rows.append({"id": n, "code": f"U{n:04d}", "name": f"第{n}局", "parent_id": parent})
            await conn.execute(insert(Unit), [{**r, "active": True} for r in rows])
            batch = []
            for n in range(people):
                name = rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.randint(1, 2)))
                spoken, initials = pinyin_of(name)
                batch.append({
                    "name": name, "name_pinyin": spoken, "name_initials": initials,
                    "email": f"p{n}@bench.gov.cn", "unit_id": rng.randint(1, units),
                    "locale": "zh", "active": True,
                })  # fmt: skip
            for start in range(0, len(batch), 5000):
                await conn.execute(insert(Person), batch[start : start + 5000])
            await conn.exec_driver_sql("ANALYZE")
    finally:
        await engine.dispose()
    return 2, units // 10 + 1  # a second-level unit with a subtree


async def _time(url: str, rounds: int, subtree_unit: int) -> None:
    engine = create_engine(url)
    sessions = create_sessionmaker(engine)
    calls = {
        "page 1": {},
        "page 300": {"page": 300},
        "q=zw (initials)": {"text": "zw"},
        "q=第7局 (unit)": {"text": "第7局"},
        "unit subtree": {"unit_id": subtree_unit},
    }
    try:
        for title, kw in calls.items():
            times = []
            for n in range(rounds + 1):
                async with sessions() as session:
                    start = time.perf_counter()
                    roster = await people_roster(session, now=NOW, **kw)  # type: ignore[arg-type]
                    if n:
                        times.append((time.perf_counter() - start) * 1000)
            times.sort()
            p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
            print(
                f"{title:18} rows {len(roster.rows):3} of {roster.total:6}  "
                f"p50 {statistics.median(times):7.1f} ms  p95 {p95:7.1f} ms"
            )
    finally:
        await engine.dispose()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--people", type=int, default=20_000)
    parser.add_argument("--units", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    url = await create_pg_database()
    if url is None:
        raise SystemExit("PostgreSQL is not reachable")
    try:
        await create_schema(url)
        started = time.perf_counter()
        _, subtree_unit = await _seed(url, args.people, args.units)
        print(f"seeded {args.people} people in {args.units} units in "
              f"{time.perf_counter() - started:.1f} s")  # fmt: skip
        await _time(url, args.rounds, subtree_unit)
        print("load average: " + " ".join(f"{x:.1f}" for x in os.getloadavg()))
    finally:
        await drop_pg_database(url)


if __name__ == "__main__":
    asyncio.run(main())
