"""Dashboard and item pages: role boundaries, unit scoping, create, edit, cancel, reports."""

from __future__ import annotations

import re
from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy import select

from models import Assignment, AuditEvent, Extension, Item, ItemState, Person, Report, Unit
from supervision.requests import decide_extension, request_extension
from testing import factories as f
from tests.web.conftest import Seed, Web


async def test_dashboard_for_office_and_liaison(as_admin: Web, as_liaison: Web, seed: Seed) -> None:
    html = await (await as_admin.get("/")).text()
    assert "甲单位的事项" not in html  # nothing overdue yet
    assert "甲单位" in html and "乙单位" in html
    assert "<svg" in html
    assert 'data-light="green">2<' in html
    liaison = await (await as_liaison.get("/")).text()
    assert 'data-light="green">1<' in liaison
    assert "乙单位" not in liaison


async def test_dashboard_lists_overdue_and_warns_about_fallback_year(
    as_admin: Web, seed: Seed, sessions
) -> None:
    async with sessions() as s, s.begin():
        late = await f.item(s, ref="督〔2026〕9号", title="逾期的事项", due_on=date(2026, 10, 30))
        await f.assignment(s, item=late, unit=await f.unit(s, name="丙单位"))
        future = await f.item(
            s, ref="督〔2031〕1号", received_on=date(2026, 11, 2), due_on=date(2031, 3, 3)
        )
        await f.assignment(s, item=future, unit=await f.unit(s))
    html = await (await as_admin.get("/")).text()
    assert "逾期的事项" in html
    assert "2031" in html and 'role="alert"' in html


async def test_items_list_filters_and_scoping(as_admin: Web, as_liaison: Web, seed: Seed) -> None:
    html = await (await as_admin.get("/items")).text()
    assert "甲单位的事项" in html and "乙单位的事项" in html
    html = await (await as_admin.get(f"/items?unit={seed.unit_b}")).text()
    assert "乙单位的事项" in html and "甲单位的事项" not in html
    html = await (await as_admin.get("/items?q=2号")).text()
    assert "乙单位的事项" in html and "甲单位的事项" not in html
    html = await (await as_admin.get("/items?light=red")).text()
    assert "甲单位的事项" not in html
    html = await (await as_admin.get("/items?due_from=2027-01-01")).text()
    assert "甲单位的事项" not in html
    html = await (await as_admin.get("/items?source=meeting&light=bogus&page=x")).text()
    assert "甲单位的事项" not in html
    html = await (await as_liaison.get("/items")).text()
    assert "甲单位的事项" in html and "乙单位的事项" not in html


async def test_liaison_gets_404_for_other_units_item(as_liaison: Web, seed: Seed) -> None:
    assert (await as_liaison.get(f"/items/{seed.item_a}")).status == 200
    assert (await as_liaison.get(f"/items/{seed.item_b}")).status == 404
    assert (await as_liaison.get("/items/999999")).status == 404
    response = await as_liaison.post(
        f"/items/{seed.item_b}/assignments/{seed.assignment_b}/report", {"text": "x"}
    )
    assert response.status == 404
    # Another unit's assignment under one's own item id is refused as well.
    response = await as_liaison.post(
        f"/items/{seed.item_a}/assignments/{seed.assignment_b}/report", {"text": "x"}
    )
    assert response.status == 404


async def test_liaison_and_viewer_cannot_edit(as_liaison: Web, as_viewer: Web, seed: Seed) -> None:
    assert (await as_liaison.get("/items/new")).status == 403
    assert (await as_liaison.get(f"/items/{seed.item_a}/edit")).status == 403
    assert (await as_liaison.post(f"/items/{seed.item_a}/cancel", {"reason": "x"})).status == 403
    assert (await as_viewer.get(f"/items/{seed.item_b}")).status == 200
    assert (await as_viewer.post("/items/new", {"ref": "x"})).status == 403
    response = await as_viewer.post(
        f"/items/{seed.item_a}/assignments/{seed.assignment_a}/report", {"text": "x"}
    )
    assert response.status == 403


async def test_create_item_with_default_deadline(as_supervisor: Web, seed: Seed, sessions) -> None:
    page = await as_supervisor.get("/items/new")
    assert page.status == 200
    response = await as_supervisor.post(
        "/items/new",
        {
            "ref": "督〔2026〕50号",
            "title": "新事项",
            "source": "meeting",
            "received_on": "2026-11-02",
            "due_on": "",
            "lead_unit": str(seed.unit_a),
            "co_units": str(seed.unit_b),
        },
    )
    assert response.status == 303, await response.text()
    async with sessions() as s:
        item = await s.scalar(select(Item).where(Item.ref == "督〔2026〕50号"))
        assert item is not None and item.due_is_default
    default = await (
        await as_supervisor.get("/items/default-due?received_on=2026-11-02&source=meeting")
    ).json()
    assert default["due_on"] == item.due_on.isoformat()
    assert default["working_days"] == 30
    detail = await (await as_supervisor.get(response.headers["Location"])).text()
    assert "新事项" in detail and "乙单位" in detail and "已保存" in detail


async def test_create_item_bad_input_changes_nothing(as_admin: Web, seed: Seed, sessions) -> None:
    response = await as_admin.post(
        "/items/new",
        {"ref": "", "title": "", "source": "nope", "received_on": "someday", "lead_unit": ""},
    )
    assert response.status == 400
    html = await response.text()
    assert "没有“nope”这种事项来源" in html and "收到日期须为日期" in html
    response = await as_admin.post(
        "/items/new",
        {
            "ref": "督〔2026〕1号",
            "title": "重复",
            "source": "meeting",
            "received_on": "2026-11-02",
            "lead_unit": str(seed.unit_a),
        },
    )
    assert response.status == 400 and "already exists" in await response.text()
    async with sessions() as s:
        assert len((await s.scalars(select(Item))).all()) == 2


async def test_item_form_follows_the_item_model(as_admin: Web, seed: Seed, sessions) -> None:
    """The form answers the rules of `supervision.item_schema.ItemInput`, as API and import do."""
    response = await as_admin.post(
        "/items/new",
        {
            "ref": "督〔2026〕77号",
            "title": "长" * 501,
            "source": "meeting",
            "received_on": "2026-11-02",
            "due_on": "2026-11-01",
            "lead_unit": str(seed.unit_a),
        },
    )
    assert response.status == 400
    html = await response.text()
    assert "title: longer than 500 characters" in html
    assert "due_on: 2026-11-01 is before received_on 2026-11-02" in html
    async with sessions() as s:
        assert len((await s.scalars(select(Item))).all()) == 2


async def test_default_due_endpoint_validates(as_admin: Web) -> None:
    response = await as_admin.get("/items/default-due?received_on=bad&source=meeting")
    assert response.status == 400
    assert "error" in await response.json()


async def test_edit_and_cancel_item(as_admin: Web, seed: Seed, sessions) -> None:
    form = await (await as_admin.get(f"/items/{seed.item_a}/edit")).text()
    assert "甲单位的事项" in form
    response = await as_admin.post(
        f"/items/{seed.item_a}/edit",
        {
            "ref": "ignored",
            "title": "改过的标题",
            "source": "instruction",
            "received_on": "2026-11-02",
            "due_on": "2026-12-31",
            "lead_unit": str(seed.unit_a),
        },
    )
    assert response.status == 303, await response.text()
    assert (await as_admin.post(f"/items/{seed.item_a}/cancel", {"reason": ""})).status == 400
    assert (
        await as_admin.post(f"/items/{seed.item_a}/cancel", {"reason": "重复立项"})
    ).status == 303
    async with sessions() as s:
        item = await s.get_one(Item, seed.item_a)
        assert item.title == "改过的标题" and item.ref == "督〔2026〕1号"
        assert item.due_on == date(2026, 12, 31)
        assert item.state == ItemState.CANCELLED
    detail = await (await as_admin.get(f"/items/{seed.item_a}")).text()
    assert "重复立项" in detail  # the reason, in the timeline
    assert "管理员撤销了事项" in detail and "→" not in detail  # in words, not states


async def test_liaison_files_report_and_extension(as_liaison: Web, seed: Seed, sessions) -> None:
    response = await as_liaison.post(
        f"/items/{seed.item_a}/assignments/{seed.assignment_a}/report",
        {"text": "已完成调研", "kind": "progress"},
    )
    assert response.status == 303, await response.text()
    response = await as_liaison.post(
        f"/items/{seed.item_a}/assignments/{seed.assignment_a}/extension",
        {"reason": "需要协调", "progress": "过半", "new_due_on": "2027-01-15"},
    )
    assert response.status == 303, await response.text()
    bad = await as_liaison.post(
        f"/items/{seed.item_a}/assignments/{seed.assignment_a}/extension",
        {"reason": "x", "new_due_on": "not a date"},
    )
    assert bad.status == 400
    async with sessions() as s:
        assert (await s.scalar(select(Report.text))) == "已完成调研"
        assert (await s.scalar(select(Extension.new_due_on))) == date(2027, 1, 15)
        assert await s.scalar(select(AuditEvent.id).where(AuditEvent.entity == "report"))
    html = await (await as_liaison.get(f"/items/{seed.item_a}")).text()
    assert "已完成调研" in html and "需要协调" in html


async def test_an_approved_extension_shows_as_the_items_deadline(
    as_admin: Web, seed: Seed, sessions, clock
) -> None:
    """The list and the page show the deadline in force, the page the registered one too."""
    async with sessions() as s, s.begin():
        assignment = await s.get_one(Assignment, seed.assignment_a)
        liaison = await s.get_one(Person, seed.liaison_a)
        sup = await s.get_one(Person, seed.supervisor)
        ext = await request_extension(
            s,
            assignment=assignment,
            person=liaison,
            reason="需要协调",
            progress="过半",
            new_due_on=date(2027, 1, 15),
            clock=clock,
            tz=ZoneInfo("Asia/Shanghai"),
            channel="web",
        )
        await decide_extension(
            s, extension=ext, reviewer=sup, approve=True, comment=None, clock=clock
        )
    html = await (await as_admin.get(f"/items/{seed.item_a}")).text()
    assert '<b class="due">2027-01-15</b> （原定 2026-12-14，已延期）' in html
    listed = await (await as_admin.get("/items?q=%E7%94%B2")).text()
    assert "2027-01-15" in listed and "2026-12-14" not in listed


async def test_browsers_get_error_pages_in_the_layout(as_liaison: Web, seed: Seed) -> None:
    response = await as_liaison.get(f"/items/{seed.item_b}", headers={"Accept": "text/html"})
    assert response.status == 404
    html = await response.text()
    assert "<main>" in html and "页面不存在" in html and "联络员甲" in html
    response = await as_liaison.get("/people", headers={"Accept": "text/html"})
    assert response.status == 403 and "<main>" in await response.text()


async def test_user_text_is_escaped_everywhere(as_admin: Web, seed: Seed, sessions) -> None:
    async with sessions() as s, s.begin():
        evil_unit = await f.unit(s, name="<b>坏</b>单位")
        evil = await f.item(s, title="<script>alert(1)</script>", due_on=date(2026, 10, 1))
        await f.assignment(s, item=evil, unit=evil_unit)
    for path in ("/", "/items", f"/items/{evil.id}", "/units"):
        html = await (await as_admin.get(path)).text()
        assert "<script>alert(1)</script>" not in html and "<b>坏</b>" not in html, path
        assert "&lt;script&gt;" in html or "&lt;b&gt;坏" in html, path


async def test_report_with_files_and_download(
    as_liaison: Web, as_supervisor: Web, seed: Seed, sessions
) -> None:
    from aiohttp import FormData

    from models import Attachment

    form = FormData()
    form.add_field("csrf_token", as_liaison.token())
    form.add_field("kind", "progress")
    form.add_field("text", "附调研报告")
    form.add_field(
        "files", b"%PDF-1.4 report", filename="调研报告.pdf", content_type="application/pdf"
    )
    response = await as_liaison.post(
        f"/items/{seed.item_a}/assignments/{seed.assignment_a}/report", form
    )
    assert response.status == 303, await response.text()
    async with sessions() as s:
        att = await s.scalar(select(Attachment))
        assert att is not None and att.storage == "db" and att.size == 15
    html = await (await as_liaison.get(f"/items/{seed.item_a}")).text()
    assert f'href="/attachments/{att.id}"' in html and "调研报告.pdf" in html
    for client in (as_liaison, as_supervisor):
        download = await client.get(f"/attachments/{att.id}")
        assert download.status == 200
        assert await download.read() == b"%PDF-1.4 report"
        assert download.headers["Content-Type"] == "application/octet-stream"
        assert "attachment;" in download.headers["Content-Disposition"]
    # A file on unit B's item is invisible to unit A's liaison.
    async with sessions() as s, s.begin():
        report = Report(assignment_id=seed.assignment_b, text="乙", channel="web")
        s.add(report)
        await s.flush()
        other = Attachment(report_id=report.id, storage="db", file_id="web-x", content=b"secret")
        s.add(other)
        await s.flush()
        other_id = other.id
    assert (await as_liaison.get(f"/attachments/{other_id}")).status == 404
    assert (await as_supervisor.get(f"/attachments/{other_id}")).status == 200
    assert (await as_supervisor.get("/attachments/99999")).status == 404


async def test_oversized_or_empty_upload_is_refused(as_liaison: Web, seed: Seed, sessions) -> None:
    from aiohttp import FormData

    form = FormData()
    form.add_field("csrf_token", as_liaison.token())
    form.add_field("text", "空文件")
    form.add_field("files", b"", filename="empty.txt", content_type="text/plain")
    response = await as_liaison.post(
        f"/items/{seed.item_a}/assignments/{seed.assignment_a}/report", form
    )
    assert response.status == 400 and "是空文件" in await response.text()
    async with sessions() as s:
        assert await s.scalar(select(Report.id)) is None


async def test_dashboard_period(as_admin: Web, seed: Seed) -> None:
    html = await (await as_admin.get("/?period=2026-Q4")).text()
    assert "2026年第四季度" in html
    bad = await as_admin.get("/?period=2026-Q9")
    assert bad.status == 400 and "无法识别统计期间“2026-Q9”" in await bad.text()
    future = await as_admin.get("/?period=2030-01", cookies={"lang": "en"})
    text = await future.text()
    assert future.status == 400 and "has not started yet (it starts on 2030-01-01)" in text
    assert "Per unit · 2026-11<" in text  # the month instead


async def test_items_paging(as_admin: Web, seed: Seed, sessions) -> None:
    async with sessions() as s, s.begin():
        for n in range(55):
            extra = await f.item(s, ref=f"督〔2026〕{100 + n}号", title=f"批量事项{n:02d}")
            await f.assignment(s, item=extra, unit=await s.get_one(Unit, seed.unit_a))
    first = await (await as_admin.get("/items?unit=" + str(seed.unit_a))).text()
    assert first.count('<tr data-id="') == 50 and "共 56 条" in first
    second = await (await as_admin.get(f"/items?unit={seed.unit_a}&page=2")).text()
    assert second.count('<tr data-id="') == 6 and "page=1" in second


async def test_liaison_sees_units_below_their_own(as_liaison: Web, seed: Seed, sessions) -> None:
    async with sessions() as s, s.begin():
        parent = await s.get_one(Unit, seed.unit_a)
        child = await f.unit(s, name="甲单位下属科室", parent=parent)
        below = await f.item(s, title="下属科室的事项")
        await f.assignment(s, item=below, unit=child)
    assert (await as_liaison.get(f"/items/{below.id}")).status == 200
    html = await (await as_liaison.get("/items")).text()
    assert "下属科室的事项" in html and "乙单位的事项" not in html


def _co_form(web: Web, seed: Seed, ref: str, co_owners: list[str]) -> list[tuple[str, str]]:
    return [
        ("csrf_token", web.token()),
        ("ref", ref),
        ("title", "协办事项"),
        ("source", "meeting"),
        ("received_on", "2026-11-02"),
        ("lead_unit", str(seed.unit_a)),
        ("co_units", str(seed.unit_b)),
        *(("co_owners", v) for v in co_owners),
    ]


async def test_the_item_form_names_a_co_units_own_owner(
    as_supervisor: Web, seed: Seed, sessions
) -> None:
    async with sessions() as s, s.begin():
        b_owner = await f.person(s, name="乙单位责任人", unit=await s.get_one(Unit, seed.unit_b))
        b_owner_id = b_owner.id
    form = await (await as_supervisor.get("/items/new")).text()
    assert f'value="{seed.unit_b}:{b_owner_id}"' in form and "协办责任人" in form
    response = await as_supervisor.post(
        "/items/new",
        _co_form(as_supervisor, seed, "督〔2026〕60号", [f"{seed.unit_b}:{b_owner_id}"]),
    )
    assert response.status == 303, await response.text()
    async with sessions() as s:
        co = await s.scalar(
            select(Assignment)
            .join(Item, Item.id == Assignment.item_id)
            .where(Item.ref == "督〔2026〕60号", Assignment.role == "co")
        )
        assert co is not None and co.owner_id == b_owner_id
        item_id = co.item_id
    edit = await (await as_supervisor.get(f"/items/{item_id}/edit")).text()
    assert f'value="{seed.unit_b}:{b_owner_id}" selected' in edit


async def test_the_item_form_refuses_a_lead_owner_from_another_unit(
    as_supervisor: Web, seed: Seed, sessions
) -> None:
    async with sessions() as s, s.begin():
        b_owner = await f.person(s, name="乙单位责任人", unit=await s.get_one(Unit, seed.unit_b))
        b_owner_id = b_owner.id
    form = [*_co_form(as_supervisor, seed, "督〔2026〕62号", []), ("owner", str(b_owner_id))]
    response = await as_supervisor.post("/items/new", form)
    assert response.status == 400
    assert "不是主办单位「甲单位」的人员" in await response.text()
    async with sessions() as s:
        assert await s.scalar(select(Item.id).where(Item.ref == "督〔2026〕62号")) is None


async def test_the_item_form_refuses_a_co_owner_from_another_unit(
    as_supervisor: Web, seed: Seed, sessions
) -> None:
    async with sessions() as s:
        a_owner = await s.scalar(select(Person.id).where(Person.name == "责任人甲"))
    forged = _co_form(as_supervisor, seed, "督〔2026〕61号", [f"{seed.unit_b}:{a_owner}"])
    response = await as_supervisor.post("/items/new", forged)
    assert response.status == 400
    assert "不是协办单位「乙单位」的人员" in await response.text()
    unchosen = _co_form(as_supervisor, seed, "督〔2026〕61号", [f"{seed.unit_a}:{a_owner}"])
    response = await as_supervisor.post("/items/new", unchosen)
    assert response.status == 400
    assert "未被选为协办单位" in await response.text()
    async with sessions() as s:
        assert await s.scalar(select(Item.id).where(Item.ref == "督〔2026〕61号")) is None


async def test_a_supervisor_sends_a_closed_item_back_from_its_page(
    as_supervisor: Web, as_viewer: Web, seed: Seed, sessions, clock
) -> None:
    from supervision.audit import Actor
    from supervision.lifecycle import transition_assignment

    async with sessions() as s, s.begin():
        assignment = await s.get_one(Assignment, seed.assignment_a)
        await transition_assignment(
            s, assignment, ItemState.CLOSED, actor=Actor.system("test"), clock=clock
        )
    page = await (await as_supervisor.get(f"/items/{seed.item_a}")).text()
    assert f'action="/items/{seed.item_a}/reopen"' in page and "退回重办" in page
    form = {"reason": "现场核查不符", "due_on": "2026-11-30"}
    unconfirmed = await as_supervisor.post(f"/items/{seed.item_a}/reopen", form)
    assert unconfirmed.status == 400 and "请勾选确认" in await unconfirmed.text()
    assert (
        await as_viewer.post(f"/items/{seed.item_a}/reopen", {**form, "confirm": "on"})
    ).status == 403
    async with sessions() as s:
        assert (await s.get_one(Item, seed.item_a)).state == ItemState.CLOSED
    response = await as_supervisor.post(f"/items/{seed.item_a}/reopen", {**form, "confirm": "on"})
    assert response.status == 303, await response.text()
    async with sessions() as s:
        item = await s.get_one(Item, seed.item_a)
        assert item.state == ItemState.OPEN and item.due_on == date(2026, 11, 30)
    page = await (await as_supervisor.get(f"/items/{seed.item_a}")).text()
    assert "退回重办" in page and "现场核查不符" in page  # on the item's timeline


async def test_a_supervisor_hands_an_assignment_over_from_the_item_page(
    as_supervisor: Web, as_liaison: Web, seed: Seed, sessions
) -> None:
    page = await (await as_supervisor.get(f"/items/{seed.item_a}")).text()
    action = f"/items/{seed.item_a}/assignments/{seed.assignment_a}/transfer"
    assert f'action="{action}"' in page and "转办" in page
    form = {"reason": "属乙单位职责", "unit_id": str(seed.unit_b)}
    assert (await as_supervisor.post(action, form)).status == 400  # not confirmed
    assert (await as_liaison.post(action, {**form, "confirm": "on"})).status == 403
    response = await as_supervisor.post(action, {**form, "confirm": "on"})
    assert response.status == 303, await response.text()
    async with sessions() as s:
        assignment = await s.get_one(Assignment, seed.assignment_a)
        assert assignment.unit_id == seed.unit_b and assignment.owner_id is None
        event = await s.scalar(select(AuditEvent).where(AuditEvent.action == "transfer"))
        assert event is not None and event.detail["reason"] == "属乙单位职责"
    page = await (await as_supervisor.get(f"/items/{seed.item_a}")).text()
    assert "转办" in page and "属乙单位职责" in page  # on the item's timeline


async def test_dashboard_lists_the_first_overdue_items_and_counts_them_all(
    as_admin: Web, as_liaison: Web, seed: Seed, sessions
) -> None:
    async with sessions() as s, s.begin():
        unit_b = await s.get_one(Unit, seed.unit_b)
        for n in range(53):
            late = await f.item(
                s,
                ref=f"逾〔2026〕{n:02d}号",
                received_on=date(2026, 9, 1),
                due_on=date(2026, 10, n % 28 + 1),
            )
            await f.assignment(s, item=late, unit=unit_b)
    html = await (await as_admin.get("/")).text()
    assert 'data-light="red">53<' in html
    assert html.count('<a href="/items/') == 50 and "逾〔2026〕00号" in html
    assert "共 53 项" in html and 'href="/items?light=red"' in html
    mine = await (await as_liaison.get("/")).text()  # unit B's items are not theirs
    assert 'data-light="red">0<' in mine and "逾〔2026〕" not in mine


async def test_items_pages_by_cursor_walk_the_list_both_ways(
    as_admin: Web, as_liaison: Web, seed: Seed, sessions
) -> None:
    """Keyset paging: "next" leads from page 1 through every item once, in the list's order
    (deadline in force, then 文号), and "previous" leads back; numbered pages still work; a
    cursor one may not see, or one that is gone, starts again from the first page."""
    import re

    async with sessions() as s, s.begin():
        unit = await s.get_one(Unit, seed.unit_b)
        for n in range(120):  # many on the same day: the 文号 orders them
            due = date(2026, 12, 14 + n % 3)
            item = await f.item(s, ref=f"K-{n:03d}", title=f"游标事项{n}", due_on=due)
            await f.assignment(s, item=item, unit=unit)
    expected = sorted(
        [(date(2026, 12, 14 + n % 3), f"K-{n:03d}") for n in range(120)]
    )  # plus the seed's two items, filtered out by the search below

    def refs(html: str) -> list[str]:
        return re.findall(r">(K-\d{3})</a>", html)

    def link(html: str, rel: str) -> str | None:
        found = re.search(rf'href="(/items\?[^"]*)" rel="{rel}"', html)
        return found.group(1).replace("&amp;", "&") if found else None

    pages: list[list[str]] = []
    url: str | None = "/items?q=K-"
    while url is not None:
        html = await (await as_admin.get(url)).text()
        pages.append(refs(html))
        assert "共 120 条" in html
        url = link(html, "next")
    assert [r for p in pages for r in p] == [ref for _, ref in expected]
    assert [len(p) for p in pages] == [50, 50, 20]
    assert "after=" in (link(await (await as_admin.get("/items?q=K-")).text(), "next") or "")
    back = link(html, "prev")
    assert back is not None and "before=" in back
    html = await (await as_admin.get(back)).text()
    assert refs(html) == pages[1]
    html = await (await as_admin.get(link(html, "prev") or "")).text()
    assert refs(html) == pages[0] and link(html, "prev") is None
    numbered = await (await as_admin.get("/items?q=K-&page=2")).text()
    assert refs(numbered) == pages[1] and "第 2 / 3 页" in numbered
    first = await (await as_admin.get("/items?q=K-&after=999999")).text()
    assert refs(first) == pages[0]
    async with sessions() as s:
        hidden = await s.scalar(select(Item.id).where(Item.ref == "K-060"))
    shown = await (await as_liaison.get(f"/items?after={hidden}")).text()
    assert "K-0" not in shown and "甲单位的事项" in shown  # not theirs: the first page


async def test_items_list_sorts_by_column_and_shows_days_left(
    as_admin: Web, seed: Seed, sessions
) -> None:
    async with sessions() as s, s.begin():
        late = await f.item(s, ref="督〔2026〕9号", title="逾期的事项", due_on=date(2026, 10, 29))
        leader = await f.person(s, name="王副市长")
        await f.assignment(s, item=late, unit=await f.unit(s, name="丙单位"), leader=leader)
    html = await (await as_admin.get("/items?sort=light")).text()
    order = re.findall(r'<tr data-id="(\d+)"', html)
    assert order[0] == str(late.id)  # red first
    assert 'aria-sort="ascending"' in html and "已逾期2个工作日" in html
    assert 'data-days="-2"' in html and "剩余" in html
    assert 'href="/items?sort=light&amp;dir=desc"' in html  # clicking again reverses
    html = await (await as_admin.get("/items?sort=light&dir=desc")).text()
    assert re.findall(r'<tr data-id="(\d+)"', html)[-1] == str(late.id)
    html = await (await as_admin.get("/items?q=王副市长")).text()  # a leader's name finds it
    assert re.findall(r'<tr data-id="(\d+)"', html) == [str(late.id)]
    as_admin.client.session.cookie_jar.update_cookies({"lang": "en"})
    html = await (await as_admin.get("/items?sort=light")).text()
    assert "Days left / late (working days)" in html and "2 working days overdue" in html
