"""``duban import items`` at scale: 100,000 rows from CSV and XLSX, on PostgreSQL and SQLite.

    .venv/bin/python -m bench.import_scale [--rows 100000] [--dbs pg,sqlite] [--formats csv,xlsx]

Writes an items file of ``--rows`` rows (the header and rows-1 items: the reader's
`supervision.tabular.MAX_ROWS` counts the header) as CSV and as XLSX, with realistic data:
Chinese titles and sources, 文号 like ``督2026-123``, received dates over 2026, half the
rows with a deadline (the others take the policy's default), 1 in 10 urgent, every other row
with a co unit (协办; half of those naming its owner in ``co_owner_emails``), 1 in 4 with a
leader, 1 in 10 with an objective. Terse on purpose: 100,000 rows must fit the reader's
10 MB file limit (`supervision.tabular.MAX_FILE_BYTES`), about 100 bytes a row. The office
behind it has 300 units (20 cities, 280 counties) with three owners and a leader each,
imported through the units and people imports.

For each database a fresh one is made (PostgreSQL ``duban_import_bench``, SQLite
``$TMPDIR/duban_import_bench.db``), then each run happens in a child process of its own,
which does what ``duban import items FILE`` does (`read_table`, `import_rows` with a progress
callback, commit) and reports the time of each part; the parent reads the child's peak RSS
from ``wait4``. The runs, in order: the CSV into the empty office (every row new), the same
CSV again (every row unchanged), the CSV with 1 row in 10 retitled (updated), and the XLSX
into a fresh database (every row new). The clock is fixed at 2026-12-07 10:00 Shanghai.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import text

NOW = datetime(2026, 12, 7, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
PG_ADMIN = os.environ.get("DUBAN_BENCH_PG", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
DB_NAME = "duban_import_bench"
CITIES = 20
COUNTIES = 280
HEADER = [
    "ref",
    "title",
    "source",
    "objective",
    "content",
    "received_on",
    "due_on",
    "urgent",
    "lead_unit",
    "co_units",
    "owner_email",
    "leader_email",
    "co_owner_emails",
]
SOURCES = ("领导批示", "文件", "会议", "年度重点工作", "建议提案", "省长信箱", "其他")
TOPICS = ("稳经济", "防汛抗旱", "安全生产", "乡村振兴", "营商环境", "生态环保", "民生实事")
TOPICS += ("招商引资", "城市更新", "交通建设", "教育提升", "医疗保障", "数字政府", "就业创业")
ACTIONS = ("政策落实", "专项督查", "问题整改", "工作部署", "任务推进", "批示办理", "建议答复")


def unit_codes() -> list[str]:
    """20 cities and 280 counties, 14 under each city."""
    return [f"C{c:02d}" for c in range(CITIES)] + [f"K{k:03d}" for k in range(COUNTIES)]


def units_csv() -> str:
    """The office's units as the units import reads them."""
    out = ["code,name,parent_code", "GOV,省政府,"]
    for code in unit_codes():
        county = code.startswith("K")
        parent = f"C{int(code[1:]) // 14:02d}" if county else "GOV"
        out.append(f"{code},{'区县' if county else '市'}{code},{parent}")
    return "\n".join(out) + "\n"


def people_csv() -> str:
    """Three owners and a leader in every unit, as the people import reads them."""
    out = ["name,email,unit,roles"]
    for code in unit_codes():
        for k in range(3):
            out.append(f"责任人{code}{k},{owner(code, k)},{code},owner")
        out.append(f"领导{code},{leader(code)},{code},leader")
    return "\n".join(out) + "\n"


def owner(code: str, k: int) -> str:
    return f"o{k}.{code.lower()}@b.cn"


def leader(code: str) -> str:
    return f"l.{code.lower()}@b.cn"


def item_rows(rows: int, seed: int = 15) -> list[list[str]]:
    """``rows - 1`` item rows (the header is the file's first row)."""
    rng = random.Random(seed)
    codes = unit_codes()
    out = []
    for n in range(1, rows):
        lead = rng.choice(codes)
        received = date(2026, 1, 1) + timedelta(days=rng.randrange(337))
        due = received + timedelta(days=rng.randrange(20, 90)) if rng.random() < 0.5 else None
        co, co_owner = "", ""
        if n % 2 == 0:
            co = rng.choice([c for c in codes[:40] if c != lead])
            if rng.random() < 0.5:
                co_owner = owner(co, rng.randrange(3))
        out.append(
            [
                f"督2026-{n}",
                f"{rng.choice(TOPICS)}{rng.choice(ACTIONS)}",
                rng.choice(SOURCES),
                "按期报送办理情况" if rng.random() < 0.1 else "",
                "",
                received.isoformat(),
                due.isoformat() if due else "",
                "急" if rng.random() < 0.1 else "",
                lead,
                co,
                owner(lead, rng.randrange(3)),
                leader(lead) if rng.random() < 0.25 else "",
                co_owner,
            ]
        )
    return out


def write_csv(path: Path, rows: list[list[str]]) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(HEADER)
    writer.writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")


def write_xlsx(path: Path, rows: list[list[str]]) -> None:
    """The rows as a workbook an office would export: dates as real date cells."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(HEADER)
    for row in rows:
        cells: list[object] = list(row)
        for i in (5, 6):
            cells[i] = date.fromisoformat(row[i]) if row[i] else None
        sheet.append(cells)
    book.save(path)


CHILD = """
import asyncio, json, sys, time
from datetime import datetime
from zoneinfo import ZoneInfo
from models.db import create_engine, create_sessionmaker
from supervision.audit import Actor
from supervision.clock import FixedClock
from supervision.importing import import_rows
from supervision.tabular import read_table

async def main(url, path):
    engine = create_engine(url)
    sessions = create_sessionmaker(engine)
    clock = FixedClock(datetime(2026, 12, 7, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai")))
    started = time.perf_counter()
    table = read_table(path)
    read = time.perf_counter() - started
    shown = []
    async with sessions() as session:
        result = await import_rows(session, "items", table, dry_run=False,
            actor=Actor.system("import"), clock=clock,
            progress=lambda done, total: shown.append(done) if done % 10000 == 0 else None)
        saved = time.perf_counter() - started - read
        if result.written:
            await session.commit()
    total = time.perf_counter() - started
    await engine.dispose()
    print(json.dumps({"read": read, "import": saved, "commit": total - read - saved,
        "total": total, "summary": result.summary(), "ok": result.ok,
        "progress_calls": len(shown)}))

asyncio.run(main(sys.argv[1], sys.argv[2]))
"""


def run_child(url: str, path: Path) -> dict[str, object]:
    """One import in a fresh process; its figures and its peak RSS (MB)."""
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, url, str(path)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    output = proc.stdout.read()
    _pid, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise SystemExit(f"the import child failed ({proc.returncode})")
    figures: dict[str, object] = json.loads(output.strip().splitlines()[-1])
    figures["peak_rss_mb"] = usage.ru_maxrss / 1024
    figures["cpu"] = usage.ru_utime + usage.ru_stime
    return figures


def _remove(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


async def fresh_database(kind: str) -> str:
    """An empty database with the schema, the default policies, units and people."""
    from models import Base
    from models.db import create_engine, create_sessionmaker
    from supervision.audit import Actor
    from supervision.clock import FixedClock
    from supervision.importing import import_rows
    from supervision.policy import ensure_default_policies
    from supervision.tabular import read_table

    if kind == "sqlite":
        path = Path(tempfile.gettempdir()) / f"{DB_NAME}.db"
        _remove(path)
        url = f"sqlite+aiosqlite:///{path}"
    else:
        admin = create_engine(PG_ADMIN)
        async with admin.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)'))
            await conn.execute(text(f'CREATE DATABASE "{DB_NAME}"'))
        await admin.dispose()
        url = PG_ADMIN.rsplit("/", 1)[0] + "/" + DB_NAME
    engine = create_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    clock = FixedClock(NOW)
    async with create_sessionmaker(engine)() as session:
        await ensure_default_policies(session)
        for kind_, data in (("units", units_csv()), ("people", people_csv())):
            table = read_table(data.encode(), f"{kind_}.csv")
            result = await import_rows(
                session, kind_, table, dry_run=False, actor=Actor.system("bench"), clock=clock
            )
            assert result.ok, result.errors[:5]
        await session.commit()
    await engine.dispose()
    return url


def show(db: str, run: str, figures: dict[str, object]) -> None:
    def s(key: str) -> str:
        value = figures[key]
        assert isinstance(value, float)
        return f"{value:6.1f}"

    print(
        f"{db:6} {run:24} total {s('total')} s  read {s('read')} s  import {s('import')} s  "
        f"commit {s('commit')} s  cpu {s('cpu')} s  peak RSS {figures['peak_rss_mb']:5.0f} MB  "
        f"{figures['summary']}",
        flush=True,
    )


def load() -> None:
    print("load average: {:.1f} {:.1f} {:.1f}".format(*os.getloadavg()), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000, help="file rows, header included")
    parser.add_argument("--dbs", default="pg,sqlite")
    parser.add_argument("--formats", default="csv,xlsx")
    args = parser.parse_args()
    formats = args.formats.split(",")
    dbs = args.dbs.split(",")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        rows = item_rows(args.rows)
        write_csv(folder / "items.csv", rows)
        # Retitled to the same length, so that the file stays under the reader's size limit.
        retitled = [[r[0], r[1][::-1], *r[2:]] if i % 10 == 0 else r for i, r in enumerate(rows)]
        write_csv(folder / "items-updated.csv", retitled)
        for name in ("items.csv", "items-updated.csv"):
            print(f"{name}: {args.rows - 1} rows, {(folder / name).stat().st_size / 1e6:.1f} MB")
        load()
        for db in dbs if "csv" in formats else ():
            url = asyncio.run(fresh_database(db))
            show(db, "csv, all new", run_child(url, folder / "items.csv"))
            show(db, "csv again, unchanged", run_child(url, folder / "items.csv"))
            show(db, "csv, 1 in 10 updated", run_child(url, folder / "items-updated.csv"))
            load()
        if "xlsx" in formats:
            started = time.perf_counter()
            write_xlsx(folder / "items.xlsx", rows)
            size = (folder / "items.xlsx").stat().st_size / 1e6
            print(f"items.xlsx: {size:.1f} MB, written in {time.perf_counter() - started:.1f} s")
        for db in dbs if "xlsx" in formats else ():
            url = asyncio.run(fresh_database(db))
            show(db, "xlsx, all new", run_child(url, folder / "items.xlsx"))
            load()


if __name__ == "__main__":
    main()
