"""Importing milestones (阶段性节点) from CSV/XLSX, keyed by the item's 文号: all or nothing."""

from __future__ import annotations

from datetime import date

from openpyxl import Workbook
from sqlalchemy import func, select

from models import AuditEvent, Milestone
from supervision.importing import import_rows
from supervision.tabular import read_table
from tests.test_importing import ACTOR, _load_all, _run

HEADER = "ref,name,due_on,unit,owner_email,leader_email\n"
GOOD = (
    HEADER + "督〔2026〕1号,完成方案,2026-11-20,FGW,zhangwei@demo.cn,wangqiang@demo.cn\n"
    "督〔2026〕1号,中期评估,2026年12月1日,FGW,,\n"
    "督〔2026〕3号,启动,2026/12/20,NJ,chenjing@demo.cn,\n"
)


async def _milestones(session) -> list[tuple[str, str, date, int | None]]:
    rows = await session.execute(
        select(Milestone.name, Milestone.due_on, Milestone.owner_id).order_by(Milestone.id)
    )
    return [tuple(r) for r in rows]


async def test_a_milestones_file_adds_stages_by_ref_and_a_second_import_changes_them(
    session, clock
) -> None:
    await _load_all(session, clock)
    result = await _run(session, clock, "milestones", GOOD)
    assert result.ok, result.errors
    assert (result.created, result.updated, result.unchanged) == (3, 0, 0)
    got = await _milestones(session)
    assert [(name, due) for name, due, _ in got] == [
        ("完成方案", date(2026, 11, 20)),
        ("中期评估", date(2026, 12, 1)),
        ("启动", date(2026, 12, 20)),
    ]
    moved = GOOD.replace("2026年12月1日", "2026-12-02")
    again = await _run(session, clock, "milestones", moved)
    assert (again.created, again.updated, again.unchanged) == (0, 1, 2)
    assert len(await _milestones(session)) == 3
    actions = (
        await session.scalars(select(AuditEvent.action).where(AuditEvent.entity == "milestone"))
    ).all()
    assert sorted(actions) == ["create", "create", "create", "update"]


async def test_a_bad_milestones_file_names_every_bad_row_in_chinese_and_writes_nothing(
    session, clock
) -> None:
    await _load_all(session, clock)
    text = (
        GOOD + "督〔2099〕9号,调研,2026-11-20,FGW,,\n"  # row 5
        ",,明天,XX,nobody@demo.cn,\n"  # row 6
        "督〔2026〕1号,验收,2027-03-01,FGW,chenjing@demo.cn,\n"  # row 7
        "督〔2026〕1号,完成方案,2026-11-21,FGW,,\n"  # row 8
    )
    result = await _run(session, clock, "milestones", text)
    assert not result.ok
    assert [e.said("zh") for e in result.errors] == [
        "第 5 行，ref：没有文号为“督〔2099〕9号”的事项",
        "第 6 行，ref：必填",
        "第 6 行，name：必填",
        "第 6 行，due_on：“明天”不是日期（请写作 2026-11-02、2026/11/02 或 2026年11月2日）",
        "第 6 行，unit：没有代码为“XX”的单位",
        "第 6 行，owner_email：没有邮箱为“nobody@demo.cn”的人员",
        "第 7 行，due_on：节点时限 2027-03-01 晚于事项完成时限 2026-12-14",
        "第 7 行，owner_email：责任人 陈静 不属于责任单位 省发展改革委",
        "第 8 行，name：同一事项的节点“完成方案”重复（首见于第 2 行）",
    ]
    assert [str(e) for e in result.errors][-3:] == [
        "row 7, due_on: due after the item's deadline",
        "row 7, owner_email: owner not in unit",
        "row 8, name: milestone '完成方案' of this item is repeated (first on row 2)",
    ]
    assert "nothing was written" in result.summary()
    assert await session.scalar(select(func.count()).select_from(Milestone)) == 0


async def test_an_xlsx_milestones_file_reads_real_date_cells(session, clock, tmp_path) -> None:
    await _load_all(session, clock)
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["ref", "name", "due_on", "unit"])
    sheet.append(["督〔2026〕1号", "完成方案", date(2026, 11, 20), "FGW"])
    path = tmp_path / "milestones.xlsx"
    book.save(path)
    result = await import_rows(
        session, "milestones", read_table(path), dry_run=False, actor=ACTOR, clock=clock
    )
    assert result.ok and result.created == 1
    await session.commit()
    assert [(n, d) for n, d, _ in await _milestones(session)] == [("完成方案", date(2026, 11, 20))]
