"""The 台账 XLSX: the office's columns, the list's filter and order, the viewer's scope."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime

from openpyxl import load_workbook

from models import Assignment, AssignmentRole, Item, Report, ReportKind, Unit
from supervision.calendar_store import load_calendar
from supervision.item_list import ItemFilter, ItemSort, SortKey
from supervision.ledger import ledger_rows
from testing import SHANGHAI
from testing import factories as f
from tests.web.conftest import Seed, Web

ZH = [
    "序号",
    "文号",
    "事项",
    "来源",
    "交办时间",
    "牵头领导",
    "责任单位（主办/协办）",
    "责任人",
    "完成时限",
    "最新进展",
    "办结情况",
    "红黄灯",
]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


async def _sheet(web: Web, query: str = "") -> list[list[object]]:
    response = await web.get("/items/ledger.xlsx" + query)
    assert response.status == 200 and response.headers["Content-Type"] == XLSX
    book = load_workbook(io.BytesIO(await response.read()), read_only=True)
    return [list(row) for row in book.active.iter_rows(values_only=True)]


async def test_columns_and_rows_as_offices_keep_them(as_admin: Web, seed: Seed, sessions) -> None:
    async with sessions() as s, s.begin():
        leader = await f.person(s, name="王副市长")
        co_owner = await f.person(s, name="协办人乙")
        item = await s.get_one(Item, seed.item_a)
        unit_b = await s.get_one(Unit, seed.unit_b)
        co = await f.assignment(s, item=item, unit=unit_b, owner=co_owner, role=AssignmentRole.CO)
        lead = await s.get_one(Assignment, seed.assignment_a)
        lead.leader_id = leader.id
        lead.assigned_at = datetime(2026, 11, 3, 1, 0, tzinfo=UTC)
        for n, (day, text) in enumerate([(20, "第一次进展"), (25, "已完成主体工程")]):
            s.add(
                Report(
                    assignment_id=lead.id if n else co.id,
                    number=1,
                    kind=ReportKind.PROGRESS,
                    text=text,
                    created_at=datetime(2026, 11, day, 2, 0, tzinfo=UTC),
                )
            )
        await f.item(s, ref="督〔2026〕3号", title='=HYPERLINK("http://x")')
    rows = await _sheet(as_admin)
    assert rows[0] == ZH
    assert [r[0] for r in rows[1:]] == [1, 2, 3]
    by_ref = {r[1]: r for r in rows[1:]}
    a = by_ref["督〔2026〕1号"]
    assert a[2] == "甲单位的事项" and a[3] == "领导批示"
    assert a[4].date() == date(2026, 11, 3)  # the lead unit's assignment, office day
    assert a[5] == "王副市长"
    assert a[6] == "甲单位（主办）；乙单位（协办）"
    assert a[7] == "责任人甲；协办人乙"
    assert a[8].date() == date(2026, 12, 14)
    assert a[9] == "2026-11-25 已完成主体工程"
    assert a[10].startswith("办理中，剩余") and a[10].endswith("个工作日")
    assert a[11] == "绿灯"
    assert by_ref["督〔2026〕3号"][2] == '=HYPERLINK("http://x")'  # text, not a formula


async def test_filter_order_scope_and_language(as_admin: Web, as_liaison: Web, seed: Seed) -> None:
    only_b = await _sheet(as_admin, f"?unit={seed.unit_b}")
    assert [r[1] for r in only_b[1:]] == ["督〔2026〕2号"]
    newest = await _sheet(as_admin, "?sort=due&dir=desc")
    assert [r[1] for r in newest[1:]] == ["督〔2026〕2号", "督〔2026〕1号"]  # ties: id desc
    mine = await _sheet(as_liaison)
    assert [r[1] for r in mine[1:]] == ["督〔2026〕1号"]
    as_admin.client.session.cookie_jar.update_cookies({"lang": "en"})
    english = await _sheet(as_admin)
    assert english[0][:3] == ["No.", "Reference", "Item"]
    assert english[0][-1] == "Light" and english[1][11] == "green"
    html = await (await as_admin.get("/items?sort=received&unit=" + str(seed.unit_a))).text()
    assert f'href="/items/ledger.xlsx?unit={seed.unit_a}&amp;sort=received&amp;dir=desc"' in html


async def test_rows_come_in_batches_that_walk_the_whole_list(session) -> None:
    unit = await f.unit(session)
    for k in range(7):
        item = await f.item(session, ref=f"B-{k}", received_on=date(2026, 10, 1 + k))
        await f.assignment(session, item=item, unit=unit)
    calendar = await load_calendar(session)
    seen: list[list[str]] = []
    async for lines in ledger_rows(
        session,
        ItemFilter(),
        sort=ItemSort(SortKey.RECEIVED, True),
        today=date(2026, 11, 2),
        calendar=calendar,
        tz=SHANGHAI,
        batch=3,
    ):
        seen.append([line.row.ref for line in lines])
    assert seen == [["B-6", "B-5", "B-4"], ["B-3", "B-2", "B-1"], ["B-0"]]
