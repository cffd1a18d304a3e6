"""``duban import``, ``duban items list`` and ``duban calendar`` through the real CLI."""

from __future__ import annotations

import asyncio
import json

import pytest
from sqlalchemy import func, select

import duban.cli
from duban.runtime import open_runtime
from models import Item, Milestone, Unit
from supervision.policy import ensure_default_policies
from testing.xlsx_files import inline, row, shared_strings_bomb, sheet_xml, workbook

UNITS = "code,name,parent_code\nGOV,省政府,\nFGW,省发展改革委,GOV\nNJ,南京市,GOV\nNJ-JN,江宁区,NJ\n"
PEOPLE = (
    "name,email,unit,roles,locale,phone\n"
    "张伟,zhangwei@demo.cn,FGW,owner,,\n"
    "陈静,chenjing@demo.cn,NJ,owner;liaison,,\n"
    "罗斌,luobin@demo.cn,NJ-JN,owner,,\n"
)
HEADER = (
    "ref,title,source,objective,content,received_on,due_on,urgent,lead_unit,co_units,"
    "owner_email,leader_email\n"
)
ITEMS = HEADER + (
    "A-1,稳经济政策措施贯彻落实,会议,,,2026-09-25,,0,FGW,NJ,zhangwei@demo.cn,\n"
    "A-2,领导批示件办理,领导批示,,,2026-11-02,,急,NJ,,chenjing@demo.cn,\n"
    "A-3,春节前收到的事项,文件,,,2027-01-18,,否,NJ-JN,,luobin@demo.cn,\n"
    "A-4,早已逾期,其他,,,2026-09-01,2026-10-30,0,NJ-JN,,luobin@demo.cn,\n"
)
#: 2027 as the State Council would publish it: 元旦, 春节 from 除夕 to 初七, a working Saturday.
SCHEDULE = (
    "date,is_workday,note\n2027-01-01,0,元旦\n"
    + "".join(f"2027-02-{day:02d},0,春节\n" for day in range(5, 13))
    + "2027-02-20,1,春节调休\n"
)


@pytest.fixture
async def cli(engine, db_url, clock, monkeypatch, capsys):
    """Run ``duban ...`` in-process on the test database with the test clock."""
    from models.db import create_sessionmaker

    async with create_sessionmaker(engine)() as session, session.begin():
        await ensure_default_policies(session)
    monkeypatch.setenv("DUBAN_DATABASE_URL", db_url)
    # the tests below read the English words; the office's default (zh) is checked at the end
    monkeypatch.setenv("DUBAN_OFFICE_LOCALE", "en")
    monkeypatch.setattr(duban.cli, "open_runtime", lambda settings: open_runtime(settings, clock))

    async def run(*args: str) -> tuple[int, str, str]:
        code = await asyncio.to_thread(duban.cli.main, list(args))
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


def _write(tmp_path, name: str, text: str, *, bom: bool = False):
    path = tmp_path / name
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    return str(path)


async def _setup(cli, tmp_path):
    for kind, text in (("units", UNITS), ("people", PEOPLE)):
        code, out, err = await cli("import", kind, _write(tmp_path, f"{kind}.csv", text, bom=True))
        assert code == 0, err
    code, out, err = await cli("import", "items", _write(tmp_path, "items.csv", ITEMS))
    assert code == 0, err
    return out, err


async def test_import_and_the_four_deadline_examples(cli, tmp_path, engine):
    out, err = await _setup(cli, tmp_path)
    assert "items: 4 row(s): 4 created, 0 updated, 0 unchanged" in out
    assert "1 item(s) have a provisional deadline (no official calendar for 2027 yet" in out
    assert "A-3 (2027-03-05)" in out
    assert "warning: no official working-day calendar for 2027" in err
    code, out, err = await cli("items", "list", "--format", "json")
    assert code == 0
    rows = {r["ref"]: r for r in json.loads(out)}
    assert set(rows["A-1"]) == {
        "ref",
        "title",
        "source",
        "received_on",
        "due_on",
        "due_is_provisional",
        "light",
        "state",
        "lead_unit",
        "owner_email",
    }
    assert (rows["A-1"]["due_on"], rows["A-1"]["source"]) == ("2026-11-12", "meeting")
    assert (rows["A-2"]["due_on"], rows["A-2"]["due_is_provisional"]) == ("2026-12-14", False)
    assert (rows["A-3"]["due_on"], rows["A-3"]["due_is_provisional"]) == ("2027-03-05", True)
    assert rows["A-2"]["owner_email"] == "chenjing@demo.cn" and rows["A-2"]["lead_unit"] == "NJ"
    assert "warning: no official working-day calendar for 2027" in err

    code, out, err = await cli("calendar", "import", _write(tmp_path, "cal.csv", SCHEDULE))
    assert code == 0, err
    assert "calendar: 10 day(s) for 2027: 10 created, 0 updated, 0 unchanged" in out
    assert "1 item deadline(s) changed:\n  A-3: 2027-03-05 → 2027-03-08\n" in out
    code, out, err = await cli("items", "list", "--format", "json")
    rows = {r["ref"]: r for r in json.loads(out)}
    assert (rows["A-3"]["due_on"], rows["A-3"]["due_is_provisional"]) == ("2027-03-08", False)
    assert "warning" not in err


async def test_list_filters_and_table(cli, tmp_path):
    await _setup(cli, tmp_path)
    code, out, _ = await cli("items", "list", "--overdue", "--format", "json")
    assert [r["ref"] for r in json.loads(out)] == ["A-4"]
    assert json.loads(out)[0]["light"] == "red"
    code, out, _ = await cli("items", "list", "--unit", "NJ", "--format", "json")
    # A-1 has NJ as co unit; belong to NJ-JN, below NJ.
    assert sorted(r["ref"] for r in json.loads(out)) == ["A-1", "A-2", "A-3", "A-4"]
    code, out, _ = await cli("items", "list", "--unit", "FGW", "--format", "json")
    assert [r["ref"] for r in json.loads(out)] == ["A-1"]
    code, out, err = await cli("items", "list", "--unit", "NOPE")
    assert code == 1 and err.strip() == "duban: error: no unit with code 'NOPE'"

    code, out, _ = await cli("items", "list")
    lines = out.splitlines()
    assert lines[0].split() == ["REF", "LIGHT", "DUE", "STATE", "LEAD", "OWNER", "TITLE"]
    by_ref = {line.split()[0]: line for line in lines[1:5]}
    assert by_ref["A-4"].split()[1:5] == ["红", "2026-10-30", "办理中", "NJ-JN"]
    assert by_ref["A-3"].split()[2] == "2027-03-05*"
    assert "【急】领导批示件办理" in by_ref["A-2"]
    # Columns line up in display width, CJK characters counting two.
    title_at = {duban_width(line[: line.index(t)]) for line, t in _titles(lines)}
    assert len(title_at) == 1
    assert lines[-1].startswith("* provisional deadline")


def duban_width(text: str) -> int:
    from duban.table import display_width

    return display_width(text)


def _titles(lines):
    titles = ["TITLE", "稳经济", "【急】", "年末收到", "早已逾期"]
    for line in lines:
        for t in titles:
            if t in line:
                yield line, t
                break


async def test_bad_file_reports_every_row_and_writes_nothing(cli, tmp_path, engine):
    await _setup(cli, tmp_path)
    bad = HEADER + (
        "B-1,新事项,会议,,,2026-11-02,,0,FGW,,zhangwei@demo.cn,\n"
        "B-2,,传说,,,2026/11/31,,0,XX,,nobody@demo.cn,\n"
        "B-1,重复,会议,,,2026年11月2日,,是,FGW,,zhangwei@demo.cn,\n"
    )
    code, out, err = await cli("import", "items", _write(tmp_path, "bad.csv", bad))
    assert code == 1 and out == ""
    lines = err.strip().splitlines()
    assert lines[:2] == [
        "row 3, title: required",
        "row 3, source: unknown source '传说' "
        "(use instruction, document, meeting, annual_task, proposal, mailbox, "
        "other or 领导批示, 文件, 会议, 年度重点工作, 建议提案, 省长信箱, 其他)",
    ]
    assert "row 3, received_on: '2026/11/31' is not a real date" in lines
    assert "row 3, lead_unit: unknown unit code 'XX'" in lines
    assert "row 3, owner_email: no person with email 'nobody@demo.cn'" in lines
    assert "row 4, ref: duplicate ref 'B-1' (first on row 2)" in lines
    assert lines[-1] == (
        "duban: error: items: 2 bad row(s) out of 3, 6 problem(s); nothing was written"
    )
    async with engine.connect() as conn:
        assert await conn.scalar(select(func.count()).select_from(Item)) == 4


async def test_reimport_and_dry_run(cli, tmp_path, engine):
    await _setup(cli, tmp_path)
    path = _write(tmp_path, "items2.csv", ITEMS.replace("早已逾期", "早已逾期（更新）"))
    code, out, _ = await cli("import", "items", path, "--dry-run")
    assert out.startswith("items: 4 row(s): 0 created, 1 updated, 3 unchanged (dry run")
    code, out, _ = await cli("import", "items", path)
    assert out.startswith("items: 4 row(s): 0 created, 1 updated, 3 unchanged\n")
    code, out, _ = await cli("import", "units", _write(tmp_path, "u.csv", UNITS), "--dry-run")
    assert code == 0 and out.startswith("units: 4 row(s): 0 created, 0 updated, 4 unchanged")
    async with engine.connect() as conn:
        assert await conn.scalar(select(func.count()).select_from(Item)) == 4
        assert await conn.scalar(select(func.count()).select_from(Unit)) == 4
        titles = (await conn.scalars(select(Item.title).where(Item.ref == "A-4"))).all()
    assert titles == ["早已逾期（更新）"]


async def test_xlsx_import(cli, tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    for line in UNITS.strip().splitlines():
        sheet.append(line.split(","))
    path = tmp_path / "units.xlsx"
    book.save(path)
    code, out, err = await cli("import", "units", str(path))
    assert code == 0 and "4 created" in out, err


async def test_progress_bar_only_for_large_files(cli, tmp_path):
    await _setup(cli, tmp_path)
    big = HEADER + "".join(
        f"P-{n:03d},事项{n},document,,,2026-11-02,2026-12-31,0,FGW,,zhangwei@demo.cn,\n"
        for n in range(500)
    )
    code, out, err = await cli("import", "items", _write(tmp_path, "big.csv", big))
    assert code == 0 and "500 created" in out
    assert "importing items [" in err and "500/500 100%" in err
    assert err.count("\r") <= 101
    small = HEADER + "S-1,小文件,document,,,2026-11-02,2026-12-31,0,FGW,,zhangwei@demo.cn,\n"
    code, out, err = await cli("import", "items", _write(tmp_path, "small.csv", small))
    assert code == 0 and "importing" not in err


async def test_file_errors_are_one_line(cli, tmp_path):
    code, _, err = await cli("import", "units", str(tmp_path / "missing.csv"))
    assert code == 1 and "No such file" in err and "Traceback" not in err
    path = tmp_path / "binary.csv"
    path.write_bytes(b"code,name\nA,\xff\n")
    code, _, err = await cli("import", "units", str(path))
    assert code == 1 and "neither UTF-8 nor GB18030/GBK" in err and err.count("\n") == 1


async def test_calendar_check(cli, tmp_path):
    code, out, _ = await cli("calendar", "check", "2026", "2027")
    assert code == 0
    assert out.splitlines() == [
        "2026: official data (bundled chinesecalendar); 0 override(s)",
        "2027: no official data — fallback (Mon–Fri less the statutory holidays, 调休 unknown); "
        "deadlines are provisional until the schedule is imported (duban calendar import FILE); "
        "0 override(s)",
    ]
    code, _, _ = await cli("calendar", "check", "2027", "--strict")
    assert code == 3
    await cli("calendar", "import", _write(tmp_path, "cal.csv", SCHEDULE))
    code, out, err = await cli("calendar", "set", "2027-02-01", "off", "--note", "停电")
    assert code == 0 and "2027-02-01: day off (override)" in out, err
    code, out, _ = await cli("calendar", "check", "2027", "--strict")
    assert code == 0
    assert out.strip() == "2027: imported official schedule (10 days listed); 1 override(s)"
    code, _, err = await cli("calendar", "import", _write(tmp_path, "bad.csv", "date,x\n1,2\n"))
    assert code == 1 and "row 1, is_workday: missing column" in err


async def test_a_hostile_workbook_is_one_line_and_writes_nothing(cli, engine, tmp_path):
    far = tmp_path / "far.xlsx"
    far.write_bytes(
        workbook(sheet_xml([row([inline("code")], 1), row([inline("x", "A1048576")], 1048576)]))
    )
    code, out, err = await cli("import", "units", str(far))
    assert code == 1 and out == ""
    assert err == "duban: error: the file has more than 100,000 rows (row 100,001 and beyond)\n"
    bomb = tmp_path / "bomb.xlsx"
    bomb.write_bytes(workbook(sheet_xml([row([inline("date")], 1)]), shared_strings_bomb(100)))
    code, _, err = await cli("calendar", "import", str(bomb))
    assert code == 1
    assert err == "duban: error: the workbook unpacks to 100 MB, more than 96 MB\n"
    async with engine.connect() as conn:
        assert await conn.scalar(select(func.count()).select_from(Unit)) == 0


async def test_duban_import_milestones_keyed_by_ref(cli, tmp_path, engine):
    await _setup(cli, tmp_path)
    text = "ref,name,due_on,unit,owner_email\nA-1,完成方案,2026-10-15,FGW,zhangwei@demo.cn\n"
    code, out, err = await cli("import", "milestones", _write(tmp_path, "m.csv", text))
    assert code == 0, err
    assert out.startswith("milestones: 1 row(s): 1 created, 0 updated, 0 unchanged")
    bad = text + "A-9,验收,2026-10-20,FGW,\n"
    code, out, err = await cli("import", "milestones", _write(tmp_path, "bad.csv", bad))
    assert code == 1
    assert "row 3, ref: no item with ref 'A-9'" in err.splitlines()
    async with engine.connect() as conn:
        assert await conn.scalar(select(func.count()).select_from(Milestone)) == 1


async def test_import_speaks_the_office_language(cli, tmp_path, monkeypatch, engine):
    """With the office locale zh (the default), row errors name the column as the file heads
    it, in Chinese, and the summary counts 新增/更新/未变 and names the computed deadlines;
    a GBK file with Chinese headers imports like a UTF-8 one."""
    await _setup(cli, tmp_path)
    monkeypatch.delenv("DUBAN_OFFICE_LOCALE")
    bad = "文号,标题,来源,收到日期,牵头单位,责任人邮箱\nC-1,,会议,2026/11/31,XX,zhangwei@demo.cn\n"
    path = tmp_path / "bad.csv"
    path.write_bytes(bad.encode("gbk"))
    code, out, err = await cli("import", "items", str(path))
    assert code == 1 and out == ""
    assert err.strip().splitlines() == [
        "第 2 行，标题：必填",
        "第 2 行，收到日期：“2026/11/31”不是有效日期",
        "第 2 行，牵头单位：没有代码为“XX”的单位",
        "duban: error: 督查事项：1 行中有 1 行有误，共 3 处问题；未写入任何数据",
    ]
    good = (
        "文号,事项,来源,交办时间,牵头单位,责任人\n"
        "C-1,新事项,会议,2026-11-02,FGW,zhangwei@demo.cn\n"
        "C-2,明年的事项,会议,2027-11-02,FGW,zhangwei@demo.cn\n"
    )
    path.write_bytes(good.encode("gbk"))
    code, out, err = await cli("import", "items", str(path))
    assert code == 0, err
    lines = out.strip().splitlines()
    assert lines[0] == "督查事项：共 2 行，新增 2，更新 0，未变 0"
    assert lines[1].startswith("2 项事项的完成时限为计算所得") and "C-1 (2026-12-14)" in lines[1]
    assert lines[2].startswith("1 项事项的完成时限待确认（2027 年尚无官方工作日历")
    assert "duban: warning: 2027 年尚无官方工作日历" in err
    path.write_bytes(b"a,b\n\xff,x\n")
    code, out, err = await cli("import", "items", str(path))
    assert code == 1 and err.startswith("duban: error: 文件既不是 UTF-8 也不是 GB18030/GBK 文本")
    async with engine.connect() as conn:
        titles = (await conn.scalars(select(Item.title).where(Item.ref == "C-1"))).all()
    assert titles == ["新事项"]
