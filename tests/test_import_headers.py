"""Files as offices hold them: Chinese column headers, GBK text, row errors in the reader's
language naming the column as the file headed it, and the summary of what an import did."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from models import Item, Person, Unit
from supervision.audit import Actor
from supervision.import_columns import IMPORT_COLUMNS, accepted_headers, column_of, header_key
from supervision.importing import COLUMNS, REQUIRED_COLUMNS, ImportResult, import_rows
from supervision.policy import ensure_default_policies
from supervision.tabular import read_table

ACTOR = Actor.system("import")

UNITS_ZH = "单位代码,单位名称,上级单位代码\nGOV,省政府,\nFGW,省发展改革委,GOV\nNJ,南京市,GOV\n"
PEOPLE_ZH = (
    "姓名,邮箱,单位代码,角色,语言,手机\n"
    "张伟,zhangwei@demo.cn,FGW,责任人;联络员,zh,025-1234567\n"
    "王强,wangqiang@demo.cn,FGW,责任领导,,\n"
    "陈静,chenjing@demo.cn,NJ,责任人,,\n"
)
ITEMS_ZH = (
    "文号,事项,来源,要求,收到日期,完成时限,急件,牵头单位,协办单位,责任人邮箱,牵头领导\n"
    "督〔2026〕1号,稳经济政策落实,会议决定,目标,2026-11-02,2026-12-31,否,FGW,NJ,"
    "zhangwei@demo.cn,wangqiang@demo.cn\n"
    "督〔2026〕2号,批示件办理,领导批示,,2026/11/02,,急,NJ,,chenjing@demo.cn,\n"
)


async def _run(session, clock, kind, data: bytes, *, dry_run=False) -> ImportResult:
    result = await import_rows(
        session,
        kind,
        read_table(data, f"{kind}.csv"),
        dry_run=dry_run,
        actor=ACTOR,
        clock=clock,
    )
    if result.written:
        await session.commit()
    return result


async def test_units_people_and_items_with_chinese_headers_in_gbk(session, clock) -> None:
    await ensure_default_policies(session)
    for kind, text in (("units", UNITS_ZH), ("people", PEOPLE_ZH), ("items", ITEMS_ZH)):
        result = await _run(session, clock, kind, text.encode("gbk"))
        assert result.ok, [e.said("zh") for e in result.errors]
    item = await session.scalar(select(Item).where(Item.ref == "督〔2026〕1号"))
    assert item is not None
    assert (item.title, item.source, item.objective) == ("稳经济政策落实", "meeting", "目标")
    assert item.due_on == date(2026, 12, 31) and not item.urgent
    urgent = await session.scalar(select(Item).where(Item.ref == "督〔2026〕2号"))
    assert urgent is not None and urgent.urgent and urgent.due_is_default
    person = await session.scalar(select(Person).where(Person.email == "zhangwei@demo.cn"))
    assert person is not None and person.phone == "025-1234567"
    parent = await session.scalar(select(Unit).where(Unit.code == "GOV"))
    child = await session.scalar(select(Unit).where(Unit.code == "FGW"))
    assert parent is not None and child is not None and child.parent_id == parent.id


async def test_chinese_and_english_headers_may_be_mixed_and_spaced(session, clock) -> None:
    text = " 代码 ,name,上级 单位\nA,甲,\n"
    result = await _run(session, clock, "units", text.encode("utf-8-sig"))
    assert result.ok and result.created == 1


async def test_an_unknown_header_lists_the_accepted_ones_and_writes_nothing(session, clock) -> None:
    result = await _run(session, clock, "units", "单位代码,单位名称,备注\nA,甲,x\n".encode())
    assert [(e.row, e.column_in("zh")) for e in result.errors] == [(1, "备注")]
    zh = result.errors[0].said("zh")
    assert zh.startswith(
        "第 1 行，备注：无法识别的列名（可用的列名：单位代码（code）、单位名称（name）"
    )
    assert "上级单位代码（parent_code）" in zh
    en = result.errors[0].said("en")
    assert en == (
        "row 1, 备注: unknown column (accepted: code (单位代码), name (单位名称), "
        "parent_code (上级单位代码))"
    )
    assert await session.scalar(select(func.count()).select_from(Unit)) == 0


async def test_a_column_named_twice_and_a_missing_one(session, clock) -> None:
    result = await _run(session, clock, "units", "code,单位代码\nA,A\n".encode())
    said = [e.said("zh") for e in result.errors]
    assert said == [
        "第 1 行，单位代码：与“code”是同一列，只能出现一次",
        "第 1 行，单位名称：缺少此列（应有的列：单位代码、单位名称、上级单位代码）",
    ]
    assert [str(e) for e in result.errors][1] == (
        "row 1, name: missing column (expected: code, name, parent_code)"
    )


async def test_row_errors_name_the_column_as_the_file_heads_it_in_both_languages(
    session, clock
) -> None:
    await ensure_default_policies(session)
    await _run(session, clock, "units", UNITS_ZH.encode())
    await _run(session, clock, "people", PEOPLE_ZH.encode())
    bad = (
        "文号,标题,来源,交办时间,完成时限,急件,牵头单位,责任人\n"
        "督〔2026〕9号,,传说,2026-13-01,明天,也许,XX,nobody@demo.cn\n"
        "督〔2026〕9号,重复,会议,2026-11-02,2026-11-01,否,FGW,zhangwei@demo.cn\n"
    )
    result = await _run(session, clock, "items", bad.encode("gbk"))
    assert [e.said("zh") for e in result.errors] == [
        "第 2 行，标题：必填",
        "第 2 行，来源：无法识别的来源“传说”（可用：领导批示、文件要求、会议决定、年度重点工作、"
        "建议提案、省长信箱、其他）",
        "第 2 行，交办时间：“2026-13-01”不是有效日期",
        "第 2 行，完成时限：“明天”不是日期（请写作 2026-11-02、2026/11/02 或 2026年11月2日）",
        "第 2 行，急件：“也许”不是是/否（请写 是/否、1/0 或 急）",
        "第 2 行，牵头单位：没有代码为“XX”的单位",
        "第 2 行，责任人：没有邮箱为“nobody@demo.cn”的人员",
        "第 3 行，文号：文号“督〔2026〕9号”重复（首见于第 2 行）",
        "第 3 行，完成时限：完成时限 2026-11-01 早于收到日期 2026-11-02",
    ]
    assert [e.said("en") for e in result.errors][:3] == [
        "row 2, 标题: required",
        "row 2, 来源: unknown source '传说' (use instruction, document, meeting, annual_task, "
        "proposal, mailbox, other or 领导批示, 文件, 会议, 年度重点工作, 建议提案, 省长信箱, 其他)",
        "row 2, 交办时间: '2026-13-01' is not a real date",
    ]
    assert result.summary("zh") == "督查事项：2 行中有 2 行有误，共 9 处问题；未写入任何数据"
    assert await session.scalar(select(func.count()).select_from(Item)) == 0


async def test_people_errors_in_chinese(session, clock) -> None:
    await _run(session, clock, "units", UNITS_ZH.encode())
    bad = (
        "姓名,邮箱,单位代码,角色,语言,手机,企业微信账号\n"
        "甲,not-an-email,FGW,老板,fr,abc,bad id\n"
        "乙,b@x.cn,,责任领导,,,\n"
    )
    result = await _run(session, clock, "people", bad.encode())
    assert [e.said("zh") for e in result.errors] == [
        "第 2 行，邮箱：“not-an-email”不是有效的邮箱地址",
        "第 2 行，角色：无法识别的角色“老板”（可用：责任人、联络员、责任领导、主要负责同志、"
        "督查室工作人员、管理员、只读，多个以 ; 分隔）",
        "第 2 行，语言：“fr”不是可用的语言（请写 zh 或 en）",
        "第 2 行，手机：“abc”不是电话号码",
        "第 2 行，企业微信账号：“bad id”不是有效的企业微信账号（字母、数字及 _-.@）",
        "第 3 行，单位代码：角色为责任领导的人员必须填写单位",
    ]
    channels = "姓名,邮箱,角色,接收渠道\n丙,c@x.cn,督查室工作人员,短信;电子邮件;email\n"
    result = await _run(session, clock, "people", channels.encode())
    assert [e.said("zh") for e in result.errors] == [
        "第 2 行，接收渠道：“短信”不是人员可用的接收渠道（可用：Telegram、电子邮件、企业微信、"
        "钉钉工作通知、飞书）",
        "第 2 行，接收渠道：电子邮件 列了两次",
    ]
    assert str(result.errors[1]) == "row 2, 接收渠道: email is listed twice"


async def test_the_summary_counts_and_names_computed_and_provisional_deadlines(
    session, clock
) -> None:
    await ensure_default_policies(session)
    await _run(session, clock, "units", UNITS_ZH.encode())
    await _run(session, clock, "people", PEOPLE_ZH.encode())
    # received late in a year without official calendar data: the deadline is provisional
    far = "督〔2040〕1号,远期事项,会议,,2040-11-02,,否,NJ,,chenjing@demo.cn,\n"
    checked = await _run(session, clock, "items", (ITEMS_ZH + far).encode(), dry_run=True)
    assert (checked.created, checked.updated, checked.unchanged) == (3, 0, 0)
    assert checked.summary("zh") == (
        "督查事项：共 3 行，新增 3，更新 0，未变 0（仅检查，未写入任何数据）"
    )
    result = await _run(session, clock, "items", (ITEMS_ZH + far).encode())
    assert result.summary("zh") == "督查事项：共 3 行，新增 3，更新 0，未变 0"
    assert [ref for ref, _ in result.computed] == ["督〔2026〕2号", "督〔2040〕1号"]
    assert [ref for ref, _ in result.provisional] == ["督〔2040〕1号"]
    assert result.fallback_years == [2040]
    notes = result.deadline_notes("zh")
    assert notes[0].startswith("2 项事项的完成时限为计算所得")
    assert f"督〔2026〕2号 ({result.computed[0][1].isoformat()})" in notes[0]
    assert notes[1].startswith("1 项事项的完成时限待确认（2040 年尚无官方工作日历")
    assert result.deadline_notes("en")[1].startswith("1 item(s) have a provisional deadline")
    changed = ITEMS_ZH.replace("稳经济政策落实", "稳经济政策落实（二）") + far
    again = await _run(session, clock, "items", changed.encode())
    assert (again.created, again.updated, again.unchanged) == (0, 1, 2)
    assert again.summary("zh") == "督查事项：共 3 行，新增 0，更新 1，未变 2"
    assert again.summary() == "items: 3 row(s): 0 created, 1 updated, 2 unchanged"


def test_every_column_has_one_code_and_unique_headers_per_kind() -> None:
    for kind, columns in IMPORT_COLUMNS.items():
        codes = [c.code for c in columns]
        assert codes == list(COLUMNS[kind])
        assert [c.code for c in columns if c.required] == list(REQUIRED_COLUMNS[kind])
        names = [header_key(n) for c in columns for n in (c.code, c.zh, *c.aliases)]
        assert len(names) == len(set(names)), kind
        for column in columns:
            assert column.note.zh and column.note.en, (kind, column.code)
            assert column_of(kind, column.zh) == column.code
            assert column_of(kind, f" {column.zh.upper()} *") == column.code
    assert column_of("items", "交办时间") == "received_on"
    assert column_of("items", "标题/事项") is None
    assert "文号（ref）" in accepted_headers("items") and "ref (文号)" in accepted_headers(
        "items", "en"
    )


@pytest.mark.parametrize("kind", list(IMPORT_COLUMNS))
def test_the_glossary_page_lists_the_import_columns(kind: str) -> None:
    from pathlib import Path

    page = (Path(__file__).resolve().parent.parent / "docs" / "GLOSSARY.md").read_text("utf-8")
    for column in IMPORT_COLUMNS[kind]:
        assert f"| `{column.code}` | {column.zh} |" in page


def test_every_import_sentence_has_both_languages() -> None:
    from supervision.import_words import IMPORT_WORDS, ImportWord

    assert set(IMPORT_WORDS) == set(ImportWord)
    for word, (zh, en) in IMPORT_WORDS.items():
        assert zh.strip() and en.strip(), word
        assert any("\u4e00" <= ch <= "\u9fff" for ch in zh) or zh.startswith("（"), word
