"""An item's 督办单 and 催办单 as DOCX: the form's fields, the 签收栏, fonts, page, access."""

from __future__ import annotations

import zipfile
from datetime import date, datetime
from io import BytesIO
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest
from docx import Document
from docx.oxml.ns import qn

from models import AssignmentRole, Report, Role, Unit
from testing import factories as f
from tests.web.conftest import Web

TZ = ZoneInfo("Asia/Shanghai")
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
FACES = {"仿宋_GB2312", "黑体", "方正小标宋简体"}


@pytest.fixture
async def overdue(sessions, seed):
    """Item A given to unit A (lead, with its leader) and unit B (co), overdue since
    Fri 2026-10-23, with a progress report of Wed 10-28."""
    async with sessions() as s, s.begin():
        item = await f.item(
            s, ref="督〔2026〕8号", title="推进老旧小区改造", due_on=date(2026, 10, 23)
        )
        item.objective = "年底前完成改造方案"
        item.content = "逐户摸排，形成台账"
        leader = await f.person(s, name="王副市长", roles={Role.LEADER})
        owner = await f.person(s, name="李责任")
        unit_a, unit_b = await s.get(Unit, seed.unit_a), await s.get(Unit, seed.unit_b)
        lead = await f.assignment(
            s, item=item, unit=unit_a, owner=owner, leader=leader, due_on=date(2026, 10, 23)
        )
        lead.assigned_at = datetime(2026, 10, 9, 10, tzinfo=TZ)
        await f.assignment(s, item=item, unit=unit_b, role=AssignmentRole.CO)
        s.add(
            Report(
                assignment_id=lead.id,
                text="已完成摸排",
                created_at=datetime(2026, 10, 28, 15, tzinfo=TZ),
            )
        )
        return item.id


def opened(body: bytes):
    return Document(BytesIO(body))


def texts(doc) -> list[str]:
    return [p.text for p in doc.paragraphs if p.text]


def east_asia(run) -> str | None:
    fonts = run._r.rPr.rFonts if run._r.rPr is not None else None
    return None if fonts is None else fonts.get(qn("w:eastAsia"))


def every_run(doc):
    for p in doc.paragraphs:
        yield from p.runs
    for table in doc.tables:
        for row in table.rows:
            for cell in row.cells:
                for p in cell.paragraphs:
                    yield from p.runs


async def test_supervision_sheet(as_supervisor: Web, overdue):
    resp = await as_supervisor.get(f"/items/{overdue}/supervision.docx")
    assert resp.status == 200
    assert resp.content_type == DOCX
    name = quote("督办单-督〔2026〕8号.docx", safe="")
    assert resp.headers["Content-Disposition"] == (
        f"attachment; filename=\"supervision_sheet-{overdue}.docx\"; filename*=UTF-8''{name}"
    )
    body = await resp.read()
    doc = opened(body)
    section = doc.sections[0]
    page = (section.page_width, section.page_height)
    margins = (section.top_margin, section.bottom_margin, section.left_margin, section.right_margin)
    # stored in twentieths of a point: to the tenth of a millimetre
    assert [round(length.mm, 1) for length in page] == [210, 297]
    assert [round(length.mm, 1) for length in margins] == [37, 35, 28, 26]
    lines = texts(doc)
    assert lines[:2] == ["督查室", "督　办　单"]
    assert lines[-2:] == ["督查室", "二〇二六年十一月二日"]
    form, receipt = doc.tables
    rows = [[c.text for c in r.cells] for r in form.rows]
    assert rows == [
        ["文号", "督〔2026〕8号"],
        ["事项", "推进老旧小区改造"],
        ["事项来源", "领导批示"],
        ["要求", "年底前完成改造方案\n逐户摸排，形成台账"],
        ["交办时间", "2026年10月9日"],
        ["完成时限", "2026年10月23日"],
        ["牵头领导", "王副市长"],
        ["责任单位（主办/协办）", "主办：甲单位\n协办：乙单位"],
        ["责任人", "李责任（甲单位）"],
    ]
    assert [[c.text for c in r.cells] for r in receipt.rows] == [
        ["签收单位", "签收人", "签收日期"],
        ["甲单位（主办）", "", "　　年　　月　　日"],
        ["乙单位（协办）", "", "　　年　　月　　日"],
    ]
    # room to sign: every receipt row at least 27 pt high; the form's names in a narrow column
    assert all(row.height.pt >= 27 for row in receipt.rows)
    assert round(form.rows[0].cells[0].width.mm) == 38
    fonts = {east_asia(r) for r in every_run(doc)}
    assert fonts <= FACES and {"仿宋_GB2312", "黑体", "方正小标宋简体"} <= fonts
    assert east_asia(form.rows[0].cells[0].paragraphs[0].runs[0]) == "黑体"
    assert east_asia(form.rows[0].cells[1].paragraphs[0].runs[0]) == "仿宋_GB2312"
    title = doc.paragraphs[1].runs[0]
    assert east_asia(title) == "方正小标宋简体" and title.font.size.pt == 22
    assert doc.styles["Normal"].element.rPr.rFonts.get(qn("w:eastAsia")) == "仿宋_GB2312"
    assert doc.core_properties.author == "督查室"
    # a machine without 仿宋_GB2312 or 方正小标宋简体 is told what to fall back to
    with zipfile.ZipFile(BytesIO(body)) as package:
        fonts_xml = package.read("word/fontTable.xml").decode()
        assert "docProps/thumbnail.jpeg" not in package.namelist()
    assert '<w:font w:name="仿宋_GB2312"><w:altName w:val="仿宋"/>' in fonts_xml
    assert '<w:font w:name="方正小标宋简体"><w:altName w:val="宋体"/>' in fonts_xml


async def test_urging_sheet_says_where_the_item_stands(as_supervisor: Web, overdue):
    resp = await as_supervisor.get(f"/items/{overdue}/urging.docx")
    assert resp.status == 200
    assert (
        "filename*=UTF-8''" + quote("催办单-督〔2026〕8号.docx", safe="")
        in (resp.headers["Content-Disposition"])
    )
    doc = opened(await resp.read())
    assert texts(doc)[1] == "催　办　单"
    rows = dict((r.cells[0].text, r.cells[1].text) for r in doc.tables[0].rows)
    assert rows["办理状态"] == "办理中 · 红灯"
    # Fri 10-23 to Mon 11-02: 10-26…10-30 and 11-02, six working days
    assert rows["时限情况"] == "已逾期6个工作日"
    assert rows["最新进展"] == "2026年10月28日: 已完成摸排"
    assert any("该事项已逾期6个工作日" in t for t in texts(doc))


async def test_sheet_in_english(as_supervisor: Web, overdue):
    assert (await as_supervisor.get("/lang/en?next=/")).status in (302, 303)
    resp = await as_supervisor.get(f"/items/{overdue}/urging.docx")
    assert "filename*=UTF-8''Urging%20sheet-" in resp.headers["Content-Disposition"]
    doc = opened(await resp.read())
    assert texts(doc)[1] == "Urging sheet"
    rows = dict((r.cells[0].text, r.cells[1].text) for r in doc.tables[0].rows)
    assert rows["Units (lead / co-operating)"] == "Lead unit: 甲单位\nCo-operating unit: 乙单位"
    assert rows["Against the deadline"] == "6 working days overdue"
    assert rows["Deadline"] == "23 October 2026"
    assert rows["State"] == "Open · Red" and rows["Source"] == "Leader's instruction"
    assert [c.text for c in doc.tables[1].rows[0].cells] == ["Unit", "Signed by", "Date"]


async def test_only_who_may_see_the_item_gets_its_sheets(
    as_liaison: Web, as_viewer: Web, anon: Web, seed, overdue
):
    # unit A's liaison sees item A (its unit leads it), not unit B's item
    assert (await as_liaison.get(f"/items/{overdue}/supervision.docx")).status == 200
    assert (await as_liaison.get(f"/items/{seed.item_b}/supervision.docx")).status == 404
    assert (await as_liaison.get(f"/items/{seed.item_b}/urging.docx")).status == 404
    assert (await as_viewer.get(f"/items/{seed.item_b}/urging.docx")).status == 200
    assert (await as_viewer.get("/items/999999/urging.docx")).status == 404
    assert (await as_viewer.get(f"/items/{seed.item_b}/other.docx")).status == 404
    response = await anon.get(f"/items/{seed.item_a}/supervision.docx")
    assert response.status in (302, 303) and "/login" in response.headers["Location"]


async def test_item_page_links_its_sheets(as_supervisor: Web, seed):
    html = await (await as_supervisor.get(f"/items/{seed.item_a}")).text()
    assert f'href="/items/{seed.item_a}/supervision.docx"' in html
    assert f'href="/items/{seed.item_a}/urging.docx"' in html
    assert "督办单" in html and "催办单" in html
