"""Reading CSV/XLSX and importing units, people and items: all or nothing, every error."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from models import Assignment, AuditEvent, Item, Person, Role, Unit
from supervision.audit import Actor
from supervision.import_values import parse_bool, parse_date
from supervision.importing import (
    ImportResult,
    RowError,
    import_rows,
)
from supervision.policy import ensure_default_policies
from supervision.tabular import Table, read_table

ACTOR = Actor.system("import")

UNITS = "code,name,parent_code\nGOV,省政府,\nFGW,省发展改革委,GOV\nNJ,南京市,GOV\nNJ-JN,江宁区,NJ\n"
PEOPLE = (
    "name,email,unit,roles,locale,phone\n"
    "张伟,ZhangWei@demo.cn,FGW,owner;liaison,zh,025-1234567\n"
    "王强,wangqiang@demo.cn,FGW,leader,,\n"
    "陈静,chenjing@demo.cn,NJ,责任人；联络员,en,\n"
    "郑华,zhenghua@demo.cn,,supervisor,,\n"
)
ITEMS = (
    "ref,title,source,objective,content,received_on,due_on,urgent,lead_unit,co_units,"
    "owner_email,leader_email\n"
    "督〔2026〕1号,稳经济政策落实,会议,目标,内容,2026-11-02,,0,FGW,NJ;NJ-JN,"
    "zhangwei@demo.cn,wangqiang@demo.cn\n"
    "督〔2026〕2号,批示件办理,领导批示,,,2026/9/25,,急,NJ,,chenjing@demo.cn,\n"
    "督〔2026〕3号,年度重点工作,annual_task,,,2026年12月15日,2027年1月8日,否,NJ,FGW,"
    "chenjing@demo.cn,\n"
)


async def _count(session, model) -> int:
    return await session.scalar(select(func.count()).select_from(model))


async def _run(session, clock, kind, text, *, dry_run=False, commit=True) -> ImportResult:
    result = await import_rows(
        session,
        kind,
        read_table(text.encode(), f"{kind}.csv"),
        dry_run=dry_run,
        actor=ACTOR,
        clock=clock,
    )
    if commit and result.written:
        await session.commit()
    return result


async def _load_all(session, clock):
    await ensure_default_policies(session)
    for kind, text in (("units", UNITS), ("people", PEOPLE), ("items", ITEMS)):
        result = await _run(session, clock, kind, text)
        assert result.ok, result.errors


@pytest.mark.parametrize(
    "text",
    [
        "2026-11-02",
        "2026/11/02",
        "2026/11/2",
        "2026.11.2",
        "2026年11月2日",
        " 2026 年 11 月 2 号 ",
        "２０２６年１１月２日",
        "2026-11-02T00:00:00",
    ],
)
def test_date_forms(text):
    assert parse_date(text) == date(2026, 11, 2)


@pytest.mark.parametrize("text", ["2026-02-30", "02/11/2026", "明天", ""])
def test_bad_dates(text):
    with pytest.raises(ValueError):
        parse_date(text)


def test_bool_forms():
    assert [parse_bool(t) for t in ("1", "true", "TRUE", "是", "急", "yes")] == [True] * 6
    assert [parse_bool(t) for t in ("0", "false", "否", "", "no")] == [False] * 5
    with pytest.raises(ValueError, match="not yes or no"):
        parse_bool("maybe")


def test_row_error_text():
    assert str(RowError(7, "owner_email", "no person")) == "row 7, owner_email: no person"


async def test_happy_path(session, clock):
    await _load_all(session, clock)
    assert await _count(session, Unit) == 4
    jn = await session.scalar(select(Unit).where(Unit.code == "NJ-JN"))
    nj = await session.scalar(select(Unit).where(Unit.code == "NJ"))
    assert jn.parent_id == nj.id
    zhang = await session.scalar(select(Person).where(Person.email == "zhangwei@demo.cn"))
    assert zhang.roles == {Role.OWNER, Role.LIAISON} and zhang.phone == "025-1234567"
    chen = await session.scalar(select(Person).where(Person.email == "chenjing@demo.cn"))
    assert chen.roles == {Role.OWNER, Role.LIAISON} and chen.locale == "en"
    items = {i.ref: i for i in (await session.scalars(select(Item))).all()}
    assert items["督〔2026〕1号"].due_on == date(2026, 12, 14)
    assert items["督〔2026〕1号"].source == "meeting"
    assert (items["督〔2026〕2号"].source, items["督〔2026〕2号"].urgent) == ("instruction", True)
    assert items["督〔2026〕2号"].due_on == date(2026, 11, 12)
    assert items["督〔2026〕3号"].due_on == date(2027, 1, 8)
    assert not items["督〔2026〕3号"].due_is_default
    assert await _count(session, Assignment) == 3 + 1 + 2
    assert (
        await session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "create")
        )
        == 4 + 4 + 3 + 6
    )


async def test_reimport_updates_and_never_duplicates(session, clock):
    await _load_all(session, clock)
    units = UNITS.replace("南京市,GOV", "南京市人民政府,GOV")
    result = await _run(session, clock, "units", units)
    assert (result.created, result.updated, result.unchanged) == (0, 1, 3)
    people = PEOPLE.replace(
        "王强,wangqiang@demo.cn,FGW,leader", "王强,WANGQIANG@demo.cn,FGW,leader;principal"
    )
    result = await _run(session, clock, "people", people)
    assert (result.created, result.updated, result.unchanged) == (0, 1, 3)
    items = ITEMS.replace("批示件办理", "领导批示件办理")
    result = await _run(session, clock, "items", items)
    assert (result.created, result.updated, result.unchanged) == (0, 1, 2)
    assert (await _count(session, Unit), await _count(session, Person)) == (4, 4)
    assert (await _count(session, Item), await _count(session, Assignment)) == (3, 6)
    wang = await session.scalar(select(Person).where(Person.email == "wangqiang@demo.cn"))
    assert wang.roles == {Role.LEADER, Role.PRINCIPAL}


async def test_people_import_never_removes_admin(session, clock):
    await _load_all(session, clock)
    zheng = await session.scalar(select(Person).where(Person.email == "zhenghua@demo.cn"))
    zheng.set_roles(zheng.roles | {Role.ADMIN})
    await session.commit()
    result = await _run(session, clock, "people", PEOPLE)
    assert result.unchanged == 4
    assert zheng.roles == {Role.SUPERVISOR, Role.ADMIN}


async def test_dry_run_counts_and_writes_nothing(session, clock):
    await ensure_default_policies(session)
    await session.commit()
    result = await _run(session, clock, "units", UNITS, dry_run=True)
    assert result.ok and (result.created, result.dry_run, result.written) == (4, True, False)
    assert "dry run" in result.summary()
    await session.commit()
    assert await _count(session, Unit) == 0
    assert await _count(session, AuditEvent) == 0


async def test_every_unit_error_at_once_and_nothing_written(session, clock):
    bad = (
        "code,name,parent_code\n"
        "A,甲,B\n"  # row 2: A -> B -> A
        "B,乙,A\n"  # row 3
        "C,,\n"  # row 4: no name
        "A,重复,\n"  # row 5: duplicate
        "D,丁,ZZ\n"  # row 6: unknown parent
        "E,戊,E\n"  # row 7: its own parent
    )
    result = await _run(session, clock, "units", bad)
    assert [str(e) for e in result.errors] == [
        "row 2, parent_code: parent cycle: A → B → A",
        "row 3, parent_code: parent cycle: B → A → B",
        "row 4, name: required",
        "row 5, code: duplicate code 'A' (first on row 2)",
        "row 6, parent_code: unknown unit code 'ZZ'",
        "row 7, parent_code: parent cycle: E → E",
    ]
    assert "nothing was written" in result.summary()
    assert await _count(session, Unit) == 0


async def test_cycle_through_existing_units(session, clock):
    await _run(session, clock, "units", "code,name,parent_code\nA,甲,\nB,乙,A\n")
    result = await _run(session, clock, "units", "code,name,parent_code\nA,甲,B\n")
    assert [str(e) for e in result.errors] == ["row 2, parent_code: parent cycle: A → B → A"]
    a = await session.scalar(select(Unit).where(Unit.code == "A"))
    assert a.parent_id is None


async def test_units_are_saved_by_the_admin_pages_rule_parents_first(session, clock):
    # Children listed before their parents, and a swap of two existing units that would be
    # refused as a loop if saved in the file's order: saved parents first, through save_unit.
    await _run(session, clock, "units", "code,name,parent_code\nX,戌,\nP,亥,X\n")
    x = await session.scalar(select(Unit).where(Unit.code == "X"))
    x.active = False
    await session.commit()
    result = await _run(
        session, clock, "units", "code,name,parent_code\nC,子,N\nN,新,\nX,戌,P\nP,亥,\n"
    )
    assert result.ok, result.errors
    assert (result.created, result.updated, result.unchanged) == (2, 2, 0)
    tree = {u.code: u for u in (await session.scalars(select(Unit))).all()}
    parent_of = {code: u.parent_id for code, u in tree.items()}
    assert parent_of == {"X": tree["P"].id, "P": None, "N": None, "C": tree["N"].id}
    assert tree["X"].active is False  # an import does not touch a unit's active flag
    events = (
        await session.scalars(
            select(AuditEvent).where(AuditEvent.entity == "unit").order_by(AuditEvent.id)
        )
    ).all()
    assert events[-2].detail == {"changes": {"parent_id": [tree["X"].id, None]}}  # P first
    assert events[-1].detail == {"changes": {"parent_id": [None, tree["P"].id]}}  # then X
    assert events[-3].detail == {
        "code": "C",
        "name": "子",
        "parent_id": tree["N"].id,
        "active": True,
    }


async def test_every_people_error_at_once(session, clock):
    await _run(session, clock, "units", UNITS)
    bad = (
        "name,email,unit,roles,locale,phone\n"
        "甲,not-an-email,FGW,owner,,\n"
        "乙,b@x.cn,NOPE,owner;boss,fr,abc\n"
        "丙,B@x.cn,,leader,,\n"
        ",c@x.cn,FGW,,,\n"
    )
    result = await _run(session, clock, "people", bad)
    assert [str(e) for e in result.errors] == [
        "row 2, email: 'not-an-email' is not an email address",
        "row 3, unit: unknown unit code 'NOPE'",
        "row 3, roles: unknown role 'boss' (use owner, liaison, leader, principal, supervisor, "
        "admin, viewer, separated by ;)",
        "row 3, locale: 'fr' is not a language (use zh or en)",
        "row 3, phone: 'abc' is not a phone number",
        "row 4, email: duplicate email 'b@x.cn' (first on row 3)",
        "row 4, unit: required for the role(s) leader",
        "row 5, name: required",
        "row 5, roles: required (at least one role)",
    ]
    assert await _count(session, Person) == 0


async def test_every_item_error_at_once_and_nothing_written(session, clock):
    await _run(session, clock, "units", UNITS)
    await _run(session, clock, "people", PEOPLE)
    header = (
        "ref,title,source,objective,content,received_on,due_on,urgent,lead_unit,co_units,"
        "owner_email,leader_email\n"
    )
    good = "R1,好的,会议,,,2026-11-02,,0,FGW,,zhangwei@demo.cn,\n"
    bad = (
        header
        + good
        + "R1,重复,会议,,,2026-11-02,,0,FGW,,zhangwei@demo.cn,\n"  # row 3
        + "R3,,传说,,,2026-13-01,,也许,XX,NJ;YY;NJ,nobody@demo.cn,ghost@demo.cn\n"  # row 4
        + "R4,早于,other,,,2026-11-02,2026-11-01,,FGW,FGW,zhangwei@demo.cn,\n"  # row 5
        + ",,,,,,,,,,,\n"  # row 6 is blank: skipped
        + "R6,缺,other,,,,,,,,,\n"  # row 7
    )
    result = await _run(session, clock, "items", bad)
    assert [str(e) for e in result.errors] == [
        "row 3, ref: duplicate ref 'R1' (first on row 2)",
        "row 4, title: required",
        "row 4, source: unknown source '传说' (use instruction, document, meeting, annual_task, "
        "proposal, mailbox, other or 领导批示, 文件, 会议, 年度重点工作, 建议提案, 省长信箱, 其他)",
        "row 4, received_on: '2026-13-01' is not a real date",
        "row 4, urgent: '也许' is not yes or no (use 1/0, true/false, 是/否 or 急)",
        "row 4, lead_unit: unknown unit code 'XX'",
        "row 4, co_units: unknown unit code 'YY'",
        "row 4, co_units: 'NJ' is listed twice",
        "row 4, owner_email: no person with email 'nobody@demo.cn'",
        "row 4, leader_email: no person with email 'ghost@demo.cn'",
        "row 5, due_on: 2026-11-01 is before received_on 2026-11-02",
        "row 5, co_units: 'FGW' is already the lead unit",
        "row 7, received_on: required",
        "row 7, lead_unit: required",
        "row 7, owner_email: required",
    ]
    assert await _count(session, Item) == 0


async def test_item_rows_follow_the_item_model(session, clock):
    """Rows obey the rules of `supervision.item_schema.ItemInput`, the API's item model."""
    await _run(session, clock, "units", UNITS)
    await _run(session, clock, "people", PEOPLE)
    header = "ref,title,source,objective,received_on,due_on,lead_unit,owner_email\n"
    rows = (
        header
        + f"{'R' * 101},{'长' * 501},会议,,2026-11-02,,FGW,zhangwei@demo.cn\n"  # row 2
        + f"R2,好,会议,{'目' * 8001},2026-11-02,2026-11-01,FGW,zhangwei@demo.cn\n"  # row 3
    )
    result = await _run(session, clock, "items", rows)
    assert [str(e) for e in result.errors] == [
        "row 2, ref: longer than 100 characters",
        "row 2, title: longer than 500 characters",
        "row 3, objective: longer than 8000 characters",
        "row 3, due_on: 2026-11-01 is before received_on 2026-11-02",
    ]
    assert await _count(session, Item) == 0


async def test_missing_columns_and_unknown_kind(session, clock):
    result = await _run(session, clock, "items", "ref,title\nR1,x\n")
    assert [str(e) for e in result.errors][:2] == [
        "row 1, source: missing column (expected: ref, title, source, objective, content, "
        "received_on, due_on, urgent, lead_unit, co_units, owner_email, leader_email, "
        "co_owner_emails)",
        "row 1, received_on: missing column (expected: ref, title, source, objective, content, "
        "received_on, due_on, urgent, lead_unit, co_units, owner_email, leader_email, "
        "co_owner_emails)",
    ]
    assert {e.column for e in result.errors} == {
        "source",
        "received_on",
        "lead_unit",
        "owner_email",
    }
    from supervision.errors import ValidationFailed

    with pytest.raises(ValidationFailed, match="unknown import kind"):
        await import_rows(session, "things", Table([]), dry_run=False, actor=ACTOR, clock=clock)


async def test_plain_dicts_are_numbered_from_row_2(session, clock):
    rows = [{"code": "A", "name": "甲"}, {"code": "", "name": "乙"}]
    result = await import_rows(session, "units", rows, dry_run=False, actor=ACTOR, clock=clock)
    assert [str(e) for e in result.errors] == ["row 3, code: required"]


async def test_progress_is_reported(session, clock):
    await _run(session, clock, "units", UNITS)
    await _run(session, clock, "people", PEOPLE)
    calls: list[tuple[int, int]] = []
    await import_rows(
        session,
        "items",
        read_table(ITEMS.encode(), "i.csv"),
        dry_run=True,
        actor=ACTOR,
        clock=clock,
        progress=lambda done, total: calls.append((done, total)),
    )
    assert calls == [(1, 3), (2, 3), (3, 3)]
    assert await _count(session, Item) == 0


async def test_provisional_deadlines_are_reported(session, clock):
    await _run(session, clock, "units", UNITS)
    await _run(session, clock, "people", PEOPLE)
    text = (
        "ref,title,source,received_on,lead_unit,owner_email\n"
        "P1,年末收到,document,2026-12-15,FGW,zhangwei@demo.cn\n"
    )
    result = await _run(session, clock, "items", text)
    assert result.provisional_refs == ["P1"] and result.fallback_years == [2027]


async def test_xlsx_items_with_real_date_cells(session, clock, tmp_path):
    await _run(session, clock, "units", UNITS)
    await _run(session, clock, "people", PEOPLE)
    book = Workbook()
    sheet = book.active
    sheet.append(["ref", "title", "source", "received_on", "due_on", "urgent", "lead_unit"])
    sheet.cell(row=1, column=8, value="owner_email")
    sheet.append(
        ["X-1", "表格导入", "省长信箱", date(2026, 11, 2), datetime(2026, 11, 30), 1, "NJ"]
    )
    sheet.cell(row=2, column=8, value="chenjing@demo.cn")
    path = tmp_path / "items.xlsx"
    book.save(path)
    result = await import_rows(
        session, "items", read_table(path), dry_run=False, actor=ACTOR, clock=clock
    )
    assert result.ok and result.created == 1, result.errors
    item = await session.scalar(select(Item).where(Item.ref == "X-1"))
    assert (item.source, item.received_on, item.due_on, item.urgent) == (
        "mailbox",
        date(2026, 11, 2),
        date(2026, 11, 30),
        True,
    )


async def test_changing_a_closed_item_is_a_row_error(session, clock):
    from models import ItemState
    from supervision.lifecycle import transition_assignment

    await _load_all(session, clock)
    item = await session.scalar(select(Item).where(Item.ref == "督〔2026〕2号"))
    lead = await session.scalar(select(Assignment).where(Assignment.item_id == item.id))
    await transition_assignment(session, lead, ItemState.CLOSED, actor=ACTOR, clock=clock)
    await session.commit()
    result = await _run(session, clock, "items", ITEMS.replace("批示件办理", "改标题"))
    assert [str(e) for e in result.errors] == [
        "row 3, ref: item 督〔2026〕2号 is closed; reopen it before changing it"
    ]
    assert (
        result.errors[0].said("zh")
        == "第 3 行，ref：事项 督〔2026〕2号 已办结，须先退回重办才能修改"
    )
    await session.refresh(item)
    assert item.title == "批示件办理"
    assert (await _run(session, clock, "items", ITEMS)).unchanged == 3


async def test_people_import_refuses_malformed_addresses_and_stores_the_normal_form(session, clock):
    await _run(session, clock, "units", UNITS)
    head = "name,email,unit,roles,locale,phone\n"
    bad = head + "甲,x@example.org.,FGW,owner,,\n乙,x@ex..org,FGW,owner,,\n"
    result = await _run(session, clock, "people", bad)
    assert [str(e) for e in result.errors] == [
        "row 2, email: 'x@example.org.' is not an email address: "
        "an email address cannot end with a period",
        "row 3, email: 'x@ex..org' is not an email address: "
        "an email address cannot have two periods in a row",
    ]
    assert await _count(session, Person) == 0
    good = head + "张三,张三@例子.中国,FGW,owner,,\n李四,LiSi@Demo.CN,FGW,owner,,\n"
    assert (await _run(session, clock, "people", good)).errors == []
    emails = set((await session.scalars(select(Person.email))).all())
    assert emails == {"张三@例子.中国", "lisi@demo.cn"}


CO_HEADER = "ref,title,source,received_on,lead_unit,co_units,owner_email,co_owner_emails\n"


async def test_co_owner_emails_are_aligned_with_co_units(session, clock):
    await _run(session, clock, "units", UNITS)
    await _run(session, clock, "people", PEOPLE)
    rows = CO_HEADER + "R1,协办,会议,2026-11-02,FGW,NJ;NJ-JN,zhangwei@demo.cn,ChenJing@demo.cn；\n"
    result = await _run(session, clock, "items", rows)
    assert result.ok, result.errors
    chen = await session.scalar(select(Person.id).where(Person.email == "chenjing@demo.cn"))
    owners = (
        await session.execute(
            select(Unit.code, Assignment.owner_id)
            .join(Unit, Unit.id == Assignment.unit_id)
            .where(Assignment.role == "co")
            .order_by(Unit.code)
        )
    ).all()
    assert [tuple(r) for r in owners] == [("NJ", chen), ("NJ-JN", None)]


async def test_a_co_owner_count_that_does_not_match_the_co_units_is_a_row_error(session, clock):
    await _run(session, clock, "units", UNITS)
    await _run(session, clock, "people", PEOPLE)
    rows = (
        CO_HEADER + "R1,协办,会议,2026-11-02,FGW,NJ,zhangwei@demo.cn,chenjing@demo.cn;x@demo.cn\n"
    )
    result = await _run(session, clock, "items", rows)
    assert [str(e) for e in result.errors] == [
        "row 2, co_owner_emails: 2 e-mails for 1 co units (one per co unit, in the order of "
        "co_units; leave one blank for its liaison)"
    ]
    assert await _count(session, Item) == 0


async def test_an_import_refuses_a_co_owner_who_is_not_in_that_co_unit(session, clock):
    await _run(session, clock, "units", UNITS)
    await _run(session, clock, "people", PEOPLE)
    rows = (
        CO_HEADER
        + "R1,协办,会议,2026-11-02,NJ,FGW,chenjing@demo.cn,chenjing@demo.cn\n"
        + "R2,协办,会议,2026-11-02,NJ,FGW,chenjing@demo.cn,ghost@demo.cn\n"
    )
    result = await _run(session, clock, "items", rows)
    assert [e.said("zh") for e in result.errors] == [
        "第 2 行，co_owner_emails：陈静不是协办单位「省发展改革委」的人员，不能担任其责任人"
        "（请选择该单位的人员）",
        "第 3 行，co_owner_emails：没有邮箱为“ghost@demo.cn”的人员",
    ]
    assert str(result.errors[0]) == (
        "row 2, co_owner_emails: 陈静 is not a member of the co-operating unit “省发展改革委” "
        "and cannot be its responsible person (choose one of its people)"
    )
    assert await _count(session, Item) == 0


async def test_an_import_refuses_an_owner_who_is_not_in_the_lead_unit(session, clock):
    """A row whose owner belongs to another unit (here the lead unit's parent) is a row
    error in Chinese, and nothing is imported."""
    await _run(session, clock, "units", UNITS)
    await _run(session, clock, "people", PEOPLE)
    rows = CO_HEADER + "R1,主办,会议,2026-11-02,NJ-JN,,chenjing@demo.cn,\n"
    result = await _run(session, clock, "items", rows)
    assert [e.said("zh") for e in result.errors] == [
        "第 2 行，owner_email：陈静不是主办单位「江宁区」的人员，不能担任其责任人"
        "（请选择该单位的人员）"
    ]
    assert await _count(session, Item) == 0


async def test_people_import_binds_wecom_userids(session, clock):
    await _run(session, clock, "units", UNITS)
    people = PEOPLE.replace("locale,phone\n", "locale,phone,wecom_userid\n")
    people = people.replace("025-1234567\n", "025-1234567,zhangwei\n")
    result = await _run(session, clock, "people", people)
    assert not result.errors
    zhang = await session.scalar(select(Person).where(Person.email == "zhangwei@demo.cn"))
    assert zhang.wecom_userid == "zhangwei"
    # a file without the column keeps the bindings
    result = await _run(session, clock, "people", PEOPLE)
    await session.refresh(zhang)
    assert zhang.wecom_userid == "zhangwei"
    # the same userid twice, on another person, or malformed: every row named, nothing written
    bad = (
        "name,email,unit,roles,locale,phone,wecom_userid\n"
        "王强,wangqiang@demo.cn,FGW,leader,,,zhangwei\n"
        "陈静,chenjing@demo.cn,NJ,owner,,,chen jing\n"
        "郑华,zhenghua@demo.cn,,supervisor,,,zh\n"
        "新人,new@demo.cn,,supervisor,,,zh\n"
    )
    result = await _run(session, clock, "people", bad)
    problems = {(e.row, e.column) for e in result.errors}
    assert problems == {(2, "wecom_userid"), (3, "wecom_userid"), (5, "wecom_userid")}
    assert not result.written


async def test_people_import_binds_dingtalk_and_feishu_ids(session, clock):
    await _run(session, clock, "units", UNITS)
    people = PEOPLE.replace("locale,phone\n", "locale,phone,dingtalk_userid,feishu_user_id\n")
    people = people.replace("025-1234567\n", "025-1234567,ding-zw,ou_3f2a\n")
    result = await _run(session, clock, "people", people)
    assert not result.errors
    zhang = await session.scalar(select(Person).where(Person.email == "zhangwei@demo.cn"))
    assert (zhang.dingtalk_userid, zhang.feishu_user_id) == ("ding-zw", "ou_3f2a")
    result = await _run(session, clock, "people", PEOPLE)  # no columns: the ids stay
    await session.refresh(zhang)
    assert (zhang.dingtalk_userid, zhang.feishu_user_id) == ("ding-zw", "ou_3f2a")
    bad = (
        "name,email,unit,roles,locale,phone,dingtalk_userid,feishu_user_id\n"
        "王强,wangqiang@demo.cn,FGW,leader,,,ding-zw,\n"
        "陈静,chenjing@demo.cn,NJ,owner,,,,ou@x\n"
        "郑华,zhenghua@demo.cn,,supervisor,,,d2,f2\n"
        "新人,new@demo.cn,,supervisor,,,d3,f2\n"
    )
    result = await _run(session, clock, "people", bad)
    problems = {(e.row, e.column) for e in result.errors}
    assert problems == {(2, "dingtalk_userid"), (3, "feishu_user_id"), (5, "feishu_user_id")}
    assert not result.written


async def test_people_import_sets_channel_preferences(session, clock):
    await _run(session, clock, "units", UNITS)
    people = PEOPLE.replace("locale,phone\n", "locale,phone,channels\n")
    people = people.replace("025-1234567\n", "025-1234567,wecom_app;email\n")
    people = people.replace("责任人；联络员,en,\n", "责任人；联络员,en,,电子邮件；Telegram\n")
    result = await _run(session, clock, "people", people)
    assert not result.errors
    zhang = await session.scalar(select(Person).where(Person.email == "zhangwei@demo.cn"))
    chen = await session.scalar(select(Person).where(Person.email == "chenjing@demo.cn"))
    wang = await session.scalar(select(Person).where(Person.email == "wangqiang@demo.cn"))
    assert (zhang.channel_prefs, chen.channel_prefs) == ("wecom_app,email", "email,telegram")
    assert wang.channel_prefs is None  # an empty cell: the default
    # a file without the column keeps them
    await _run(session, clock, "people", PEOPLE)
    await session.refresh(zhang)
    assert zhang.channel_prefs == "wecom_app,email"
    # an unknown or repeated channel: the row and column named, nothing written
    bad = (
        "name,email,unit,roles,locale,phone,channels\n"
        "张伟,zhangwei@demo.cn,FGW,owner,,,email\n"
        "王强,wangqiang@demo.cn,FGW,leader,,,sms;email\n"
        "陈静,chenjing@demo.cn,NJ,owner,,,email;email\n"
    )
    result = await _run(session, clock, "people", bad)
    assert [(e.row, e.column) for e in result.errors] == [(3, "channels"), (4, "channels")]
    assert "'sms' is not a channel for a person" in result.errors[0].reason
    assert not result.written
    await session.refresh(zhang)
    assert zhang.channel_prefs == "wecom_app,email"
