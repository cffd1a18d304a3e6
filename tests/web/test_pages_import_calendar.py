"""Import (dry run, row errors, commit) and the calendar page (coverage, schedule, override)."""

from __future__ import annotations

import base64
import re

from aiohttp import FormData
from sqlalchemy import select

from models import CalendarDay, Item, Unit
from supervision.tabular import read_table
from tests.web.conftest import Seed, Web

ITEMS_CSV = (
    "ref,title,source,received_on,due_on,lead_unit,owner_email\n"
    "督〔2026〕30号,道路整治,会议决定,2026-11-02,2026-12-31,A,liaison@example.gov.cn\n"
    "督〔2026〕31号,河道清淤,meeting,2026-11-02,,A,liaison@example.gov.cn\n"
)
BAD_CSV = (
    "ref,title,source,received_on,due_on,lead_unit,owner_email\n"
    "督〔2026〕32号,,meeting,2026-13-40,,ZZ,\n"
)


def upload(kind: str, content: str, name: str, token: str) -> FormData:
    data = FormData()
    data.add_field("csrf_token", token)
    data.add_field("action", "check")
    data.add_field("kind", kind)
    data.add_field("file", content.encode(), filename=name, content_type="text/csv")
    return data


async def test_import_dry_run_then_commit(as_supervisor: Web, seed: Seed, sessions) -> None:
    assert (await as_supervisor.get("/import")).status == 200
    response = await as_supervisor.post(
        "/import", upload("items", ITEMS_CSV, "items.csv", as_supervisor.token())
    )
    assert response.status == 200, await response.text()
    html = await response.text()
    assert "2 行可以导入" in html
    async with sessions() as s:
        assert len((await s.scalars(select(Item))).all()) == 2  # dry run wrote nothing
    payload = re.search(r'name="payload" value="([^"]+)"', html)
    assert payload is not None
    assert base64.b64decode(payload.group(1)).decode() == ITEMS_CSV
    response = await as_supervisor.post(
        "/import",
        {"action": "commit", "kind": "items", "filename": "items.csv", "payload": payload.group(1)},
    )
    assert response.status == 200
    html = await response.text()
    # what it did: 新增/更新/未变, and the item whose deadline the policy computed
    assert "导入完成。" in html and "督查事项：共 2 行，新增 2，更新 0，未变 0" in html
    assert re.search(r'data-count="created"><span>新增</span><b>2</b>', html)
    assert re.search(r'data-count="unchanged"><span>未变</span><b>0</b>', html)
    assert "1 项事项的完成时限为计算所得" in html
    assert re.search(r"督〔2026〕31号</td><td[^>]*>2026-12-14</td><td[^>]*>计算所得<", html)
    assert 'name="payload"' not in html  # nothing left to confirm
    async with sessions() as s:
        refs = set((await s.scalars(select(Item.ref))).all())
        assert {"督〔2026〕30号", "督〔2026〕31号"} <= refs


async def test_import_row_errors_change_nothing(as_admin: Web, seed: Seed, sessions) -> None:
    response = await as_admin.post("/import", upload("items", BAD_CSV, "bad.csv", as_admin.token()))
    assert response.status == 400
    html = await response.text()
    assert "title" in html and "received_on" in html and 'name="payload"' not in html
    assert "必填" in html and "“2026-13-40”不是有效日期" in html
    response = await as_admin.post("/import", upload("items", "x", "items.pdf", as_admin.token()))
    assert response.status == 400 and "不支持的文件类型 .pdf" in await response.text()
    await as_admin.get("/lang/en?next=/import")
    response = await as_admin.post("/import", upload("items", "x", "items.pdf", as_admin.token()))
    assert response.status == 400 and "unsupported file type" in await response.text()
    response = await as_admin.post(
        "/import", {"action": "commit", "kind": "items", "payload": "!!!not base64"}
    )
    assert response.status == 400 and "The form is no longer valid" in await response.text()
    await as_admin.get("/lang/zh?next=/import")
    response = await as_admin.post("/import", {"action": "check", "kind": "items"})
    assert response.status == 400 and "请选择要导入的文件。" in await response.text()
    async with sessions() as s:
        assert len((await s.scalars(select(Item))).all()) == 2


async def test_import_roles(as_supervisor: Web, as_liaison: Web, seed: Seed, sessions) -> None:
    units = "code,name,parent_code\nC,丙单位,\n"
    response = await as_supervisor.post(
        "/import", upload("units", units, "u.csv", as_supervisor.token())
    )
    assert response.status == 403
    assert (await as_liaison.get("/import")).status == 403
    async with sessions() as s:
        assert await s.scalar(select(Unit).where(Unit.code == "C")) is None


async def test_calendar_coverage_override_and_import(as_admin: Web, seed: Seed, sessions) -> None:
    html = await (await as_admin.get("/calendar")).text()
    assert "2026" in html and "官方数据" in html
    response = await as_admin.post(
        "/calendar/override", {"day": "2026-11-07", "is_workday": "1", "note": "调休上班"}
    )
    assert response.status == 200, await response.text()
    assert "调休上班" in await response.text()
    bad = await as_admin.post("/calendar/override", {"day": "someday", "is_workday": "1"})
    assert bad.status == 400
    schedule = "date,is_workday,note\n2040-01-01,休,元旦\n2040-01-02,休,元旦\n"
    data = FormData()
    data.add_field("csrf_token", as_admin.token())
    data.add_field("file", schedule.encode(), filename="2040.csv", content_type="text/csv")
    response = await as_admin.post("/calendar/import", data)
    assert response.status == 200, await response.text()
    async with sessions() as s:
        days = (await s.scalars(select(CalendarDay).order_by(CalendarDay.day))).all()
        assert [d.day.isoformat() for d in days] == ["2026-11-07", "2040-01-01", "2040-01-02"]


async def test_calendar_roles(as_supervisor: Web, as_liaison: Web, seed: Seed) -> None:
    assert (await as_supervisor.get("/calendar")).status == 200
    assert (await as_liaison.get("/calendar")).status == 403
    response = await as_supervisor.post(
        "/calendar/override", {"day": "2026-11-07", "is_workday": "1"}
    )
    assert response.status == 403


async def test_calendar_import_lists_moved_deadlines(as_admin: Web, seed: Seed, sessions) -> None:
    response = await as_admin.post(
        "/items/new",
        {
            "ref": "督〔2040〕1号",
            "title": "远期事项",
            "source": "meeting",
            "received_on": "2040-01-02",
            "lead_unit": str(seed.unit_a),
        },
    )
    assert response.status == 303, await response.text()
    async with sessions() as s:
        before = await s.scalar(select(Item).where(Item.ref == "督〔2040〕1号"))
        assert before is not None and before.due_is_provisional
    html = await (await as_admin.get("/")).text()
    assert "2040" in html  # the dashboard warns about the year without an official calendar
    # The schedule lists every day off that differs from Mon-Fri: 春节 as well as three more.
    schedule = "date,is_workday,note\n2040-01-03,休,假\n2040-01-04,休,假\n2040-01-05,休,假\n"
    schedule += "".join(f"2040-02-{day},休,春节\n" for day in range(11, 18))
    data = FormData()
    data.add_field("csrf_token", as_admin.token())
    data.add_field("file", schedule.encode(), filename="2040.csv", content_type="text/csv")
    response = await as_admin.post("/calendar/import", data)
    assert response.status == 200, await response.text()
    html = await response.text()
    async with sessions() as s:
        after = await s.get_one(Item, before.id)
    assert after.due_on > before.due_on
    assert f"督〔2040〕1号: {before.due_on.isoformat()} → {after.due_on.isoformat()}" in html


ITEMS_ZH_CSV = (
    "文号,事项,来源,交办时间,完成时限,牵头单位,责任人邮箱\n"
    "督〔2026〕40号,,会议决定,2026-11-02,2026-10-01,ZZ,liaison@example.gov.cn\n"
)


async def test_row_errors_in_the_readers_language_name_the_column_as_written(
    as_supervisor: Web, seed: Seed
) -> None:
    data = FormData()
    data.add_field("csrf_token", as_supervisor.token())
    data.add_field("action", "check")
    data.add_field("kind", "items")
    data.add_field("file", ITEMS_ZH_CSV.encode("gbk"), filename="gbk.csv", content_type="text/csv")
    response = await as_supervisor.post("/import", data)
    assert response.status == 400
    html = await response.text()
    cells = re.findall(r'<td data-label="[^"]*">([^<]*)</td>', html)
    assert cells == [
        "2", "事项", "必填",
        "2", "完成时限", "完成时限 2026-10-01 早于收到日期 2026-11-02",
        "2", "牵头单位", "没有代码为“ZZ”的单位",
    ]  # fmt: skip
    await as_supervisor.get("/lang/en?next=/import")
    data = FormData()
    data.add_field("csrf_token", as_supervisor.token())
    data.add_field("action", "check")
    data.add_field("kind", "items")
    data.add_field("file", ITEMS_ZH_CSV.encode(), filename="utf8.csv", content_type="text/csv")
    html = await (await as_supervisor.post("/import", data)).text()
    cells = re.findall(r'<td data-label="[^"]*">([^<]*)</td>', html)
    assert cells[:3] == ["2", "事项", "required"]
    assert "unknown unit code &#39;ZZ&#39;" in html
    assert "items: 1 bad row(s) out of 1, 3 problem(s); nothing was written" in html


async def test_templates_are_linked_and_follow_the_import_rights(
    as_supervisor: Web, as_admin: Web, as_liaison: Web, seed: Seed
) -> None:
    html = await (await as_supervisor.get("/import")).text()
    assert 'href="/import/template/items.xlsx"' in html
    assert 'href="/import/template/milestones.xlsx"' in html
    assert "/import/template/units.xlsx" not in html  # people and units are the admin's
    assert '<option value="units"' not in html and ">督查事项</option>" in html
    response = await as_supervisor.get("/import/template/items.xlsx")
    assert response.status == 200
    assert response.content_type == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="import-template-items.xlsx"; ')
    assert "filename*=UTF-8''%E5%AF%BC%E5%85%A5" in disposition  # 导入模板-督查事项.xlsx
    table = read_table(await response.read(), "t.xlsx")
    assert table.headers[:3] == ["文号", "标题", "来源"] and len(table) == 1
    english = await as_supervisor.get("/import/template/items.xlsx?lang=en")
    assert read_table(await english.read(), "t.xlsx").headers[:3] == ["ref", "title", "source"]
    assert (await as_supervisor.get("/import/template/units.xlsx")).status == 403
    assert (await as_admin.get("/import/template/units.xlsx")).status == 200
    assert (await as_admin.get("/import/template/nothing.xlsx")).status == 404
    assert (await as_liaison.get("/import/template/items.xlsx")).status == 403
