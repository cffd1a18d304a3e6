"""The 督查通报 as an official document (DOCX): 版头, 标题, 主送, the ranking table from the
one computation, 成文日期, 版记, the 发文字号 (typed or by pattern), access and refusals."""

from __future__ import annotations

from datetime import date
from io import BytesIO
from urllib.parse import quote

import pytest
from docx import Document
from docx.oxml.ns import qn
from sqlalchemy import select

from models import Bulletin
from tests.web.conftest import SECRET, Web
from tests.web.test_bulletin_pages import OLD_BULLETIN, office  # noqa: F401 -- the fixture
from web.admin import setup_admin
from web.app import WebConfig, WebDeps, create_app
from web.bulletin_docx import BulletinLetter, render_bulletin_docx
from web.views.bulletins import setup_bulletin_pages

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


async def client(sessions, clock, factory, email: str, person_id: int, **config) -> Web:
    deps = WebDeps(config=WebConfig(secret_key=SECRET, **config), sessions=sessions, clock=clock)
    web_client = Web(await factory(create_app(deps, [setup_admin, setup_bulletin_pages])))
    assert (await web_client.login(email, person_id=person_id)).status == 303
    return web_client


@pytest.fixture
async def sup(sessions, clock, aiohttp_client_factory, seed) -> Web:
    return await client(
        sessions,
        clock,
        aiohttp_client_factory,
        "sup@example.gov.cn",
        seed.supervisor,
        office_name="某市人民政府督查室",
        bulletin_copy_to=("市委办公室", "市政府办公室"),
    )


def opened(body: bytes):
    return Document(BytesIO(body))


def texts(doc) -> list[str]:
    return [p.text for p in doc.paragraphs if p.text]


def border(paragraph, side: str):
    borders = paragraph._p.pPr.find(qn("w:pBdr"))
    edge = None if borders is None else borders.find(qn(f"w:{side}"))
    return None if edge is None else (edge.get(qn("w:sz")), edge.get(qn("w:color")))


def by_text(doc, text: str):
    return next(p for p in doc.paragraphs if p.text == text)


async def test_preview_as_an_official_document(sup: Web, office, sessions):  # noqa: F811
    resp = await sup.get("/bulletins/preview.docx?period=2026-10")
    assert resp.status == 200 and resp.content_type == DOCX
    name = quote("督查通报-督查通报〔2026〕1号.docx", safe="")
    assert resp.headers["Content-Disposition"] == (
        f"attachment; filename=\"bulletin-2026-10.docx\"; filename*=UTF-8''{name}"
    )
    doc = opened(await resp.read())
    lines = texts(doc)
    # 版头: the office in red, the 发文字号 over the red line
    assert lines[:2] == ["某市人民政府督查室", "督查通报〔2026〕1号"]
    mark = by_text(doc, "某市人民政府督查室").runs[0]
    assert str(mark.font.color.rgb) == "E60012" and mark._r.rPr.rFonts.get(qn("w:eastAsia")) == (
        "方正小标宋简体"
    )
    assert border(by_text(doc, "督查通报〔2026〕1号"), "bottom") == ("12", "E60012")
    assert lines[2] == "关于2026年10月督查事项办理情况的通报"
    assert lines[3] == "好单位、<b>慢</b>单位："  # 主送: the bulletin's units, as text
    assert lines[4] == "现将2026年10月督查事项办理情况（统计截至2026年10月31日）通报如下。"
    assert lines[5].startswith("本期共交办事项2项，办结1项，其中按期办结1项；逾期1项；")
    assert "一、主办单位排名" in lines
    # the ranking is the bulletin's own rows, as the page shows them
    (ranking,) = doc.tables
    assert [[c.text for c in r.cells] for r in ranking.rows] == [
        ["排名", "单位", "交办", "办结", "按期办结", "逾期", "延期", "按期率"],
        ["1", "好单位", "1", "1", "1", "0", "0", "100.0%"],
        ["2", "<b>慢</b>单位", "1", "0", "0", "1", "0", "0.0%"],
    ]
    widths = [c.width.mm for c in ranking.rows[0].cells]
    assert [round(w) for w in widths[:2]] == [10, 34] and round(sum(widths)) == 156  # 版心
    assert "对好单位予以通报表扬，其经验做法值得总结推广。" in lines
    assert any(
        t.startswith("<b>慢</b>单位：逾期1项，共逾期10个工作日（R-2 逾期事项）") for t in lines
    )
    # 署名 and 成文日期 in Chinese, then the 版记 between lines
    assert lines[-4:-2] == ["某市人民政府督查室　　　　", "二〇二六年十一月二日　　　　"]
    copied = by_text(doc, "抄送：市委办公室、市政府办公室。")
    assert border(copied, "top") == ("12", "000000")
    assert border(copied, "bottom") == ("6", "000000")
    issued = by_text(doc, "某市人民政府督查室\t2026年11月2日印发")
    assert border(issued, "bottom") == ("12", "000000")
    async with sessions() as s:
        assert (await s.scalars(select(Bulletin))).all() == []  # a preview stores nothing


async def test_number_typed_or_by_pattern(sup: Web, seed, office, sessions):  # noqa: F811
    typed = quote("督查通报〔2026〕12号")
    resp = await sup.get(f"/bulletins/preview.docx?period=2026-10&number={typed}")
    assert texts(opened(await resp.read()))[1] == "督查通报〔2026〕12号"
    for _ in range(2):
        await sup.post("/bulletins", {"period": "2026-10", "recipient": str(seed.supervisor)})
    async with sessions() as s:
        first, second = (await s.scalars(select(Bulletin).order_by(Bulletin.id))).all()
    for bulletin, n in ((first, 1), (second, 2)):
        resp = await sup.get(f"/bulletins/{bulletin.id}.docx")
        assert resp.status == 200
        assert texts(opened(await resp.read()))[1] == f"督查通报〔2026〕{n}号"
    # the next one is the third of the year
    resp = await sup.get("/bulletins/preview.docx?period=2026-10")
    assert texts(opened(await resp.read()))[1] == "督查通报〔2026〕3号"


async def test_office_pattern(sessions, clock, aiohttp_client_factory, seed, office):  # noqa: F811
    web_client = await client(
        sessions,
        clock,
        aiohttp_client_factory,
        "sup@example.gov.cn",
        seed.supervisor,
        bulletin_number="市督通〔{year}〕第{n}期",
    )
    resp = await web_client.get("/bulletins/preview.docx?period=2026-10")
    doc = opened(await resp.read())
    assert texts(doc)[1] == "市督通〔2026〕第1期"
    # no 抄送 configured: the 印发 line carries both rules
    issued = by_text(doc, "督查室\t2026年11月2日印发")
    assert border(issued, "top") == ("12", "000000")
    assert not any(t.startswith("抄送") for t in texts(doc))


@pytest.mark.parametrize("number", ["x" * 51, "督查通报\n〔2026〕1号", " "])
async def test_a_bad_number_is_refused(sup: Web, office, number):  # noqa: F811
    resp = await sup.get("/bulletins/preview.docx", params={"period": "2026-10", "number": number})
    if not number.strip():  # empty: the office's pattern numbers it
        assert resp.status == 200
        return
    assert resp.status == 400 and resp.content_type == "text/html"
    html = await resp.text()
    assert "发文字号须为 1 至 50 个字符的一行文字" in html and "(The document" not in html
    assert 'action="/bulletins/preview.docx"' in html  # the preview again, to try once more


async def test_a_bad_number_for_a_stored_bulletin(sup: Web, seed, office, sessions):  # noqa: F811
    await sup.post("/bulletins", {"period": "2026-10", "recipient": str(seed.supervisor)})
    async with sessions() as s:
        bulletin = (await s.scalars(select(Bulletin))).one()
    await sup.get("/lang/en?next=/")
    resp = await sup.get(f"/bulletins/{bulletin.id}.docx", params={"number": "x" * 60})
    assert resp.status == 400
    html = await resp.text()
    assert "The document number must be one line of 1 to 50 characters" in html
    assert f'action="/bulletins/{bulletin.id}.docx"' in html and "发文字号须为" not in html


async def test_english_rendering(sup: Web, office):  # noqa: F811
    await sup.get("/lang/en?next=/")
    resp = await sup.get("/bulletins/preview.docx?period=2026-10")
    assert "filename*=UTF-8''Bulletins-" in resp.headers["Content-Disposition"]
    doc = opened(await resp.read())
    lines = texts(doc)
    assert lines[2] == "Bulletin on the supervised items of 2026-10"
    assert lines[3] == "To: 好单位, <b>慢</b>单位"
    assert "1. Ranking — lead units" in lines
    assert [c.text for c in doc.tables[0].rows[0].cells][:3] == ["Rank", "Unit", "Assigned"]
    assert "2 November 2026" in lines
    assert "Copy to: 市委办公室, 市政府办公室." in lines


async def test_who_may_download(sessions, clock, aiohttp_client_factory, seed, office):  # noqa: F811
    viewer = await client(
        sessions, clock, aiohttp_client_factory, "viewer@example.gov.cn", seed.viewer
    )
    assert (await viewer.get("/bulletins/preview.docx?period=2026-10")).status == 200
    liaison = await client(
        sessions, clock, aiohttp_client_factory, "liaison@example.gov.cn", seed.liaison_a
    )
    assert (await liaison.get("/bulletins/preview.docx?period=2026-10")).status == 403
    assert (await viewer.get("/bulletins/999.docx")).status == 404


async def test_pages_link_the_document(sup: Web, seed, office, sessions):  # noqa: F811
    html = await (await sup.get("/bulletins/preview?period=2026-10")).text()
    assert 'href="/bulletins/preview.docx?period=2026-10"' in html
    assert 'action="/bulletins/preview.docx"' in html and 'name="number"' in html
    await sup.post("/bulletins", {"period": "2026-10", "recipient": str(seed.supervisor)})
    async with sessions() as s:
        bulletin = (await s.scalars(select(Bulletin))).one()
    html = await (await sup.get(f"/bulletins/{bulletin.id}")).text()
    assert f'href="/bulletins/{bulletin.id}.docx"' in html


def test_a_bulletin_frozen_before_lead_and_co_renders_as_issued():
    letter = BulletinLetter("督查室", "督查通报〔2026〕1号", (), date(2026, 11, 2))
    doc = opened(render_bulletin_docx(OLD_BULLETIN, letter, "zh"))
    lines = texts(doc)
    assert "一、排名" in lines and "二、表扬与督促" in lines
    assert lines[3] == "旧好单位、旧无事单位："
    assert [c.text for c in doc.tables[0].rows[2].cells] == [
        "2", "旧无事单位", "1", "0", "0", "0", "0", "—"
    ]  # fmt: skip
    assert "对旧慢单位予以督促整改。" in lines
