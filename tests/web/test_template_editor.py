"""The template editor (issue #13): the list in the catalogue's words, each channel's preview
as its reader gets it, real data or the sample (never both), the side panel, error lines,
the length counter, the diff, restore and reset with a confirmation."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from models import AuditEvent, Report, ReportKind, Template, TemplateVersion
from notifier.templating import DEFAULT_TEMPLATES_DIR, LOCALES, STEPS, sample_context
from notifier.templating.sandbox import SandboxEnvironment
from supervision.template_words import HtmlMacro, TemplateHelper, TemplateMacro, TemplateVariable
from testing import factories as f
from tests.web.conftest import Seed, Web
from web.message_preview import markdown_html, telegram_html
from web.views.template_history import diff_rows
from web.views.template_panel import macro_signatures, variable_names

TG = "/templates/remind/telegram/zh/text"


async def _preview(web: Web, url: str, body: str, item: int | None = None) -> dict:
    data = {"body": body} | ({"item": str(item)} if item else {})
    return await (await web.post(url + "/preview", data)).json()


# --- the list -----------------------------------------------------------------------------


async def test_the_list_speaks_the_catalogue_grouped_by_step(as_admin: Web, sessions) -> None:
    assert (await as_admin.post(TG, {"body": "请办理：{{ item.title }}"})).status == 303
    html = await (await as_admin.get("/templates")).text()
    section = html.split('id="step-remind"', 1)[1].split("</section>", 1)[0]
    assert "<h2>提醒" in section and "1 处已自定义" in section
    assert "电子邮件" in section and "邮件主题" in section and "单位群机器人" in section
    assert "中文" in section and "英文" in section and "已自定义</span>" in section
    assert 'class="tpl-part override"' in section and f'href="{TG}"' in section
    assert "全部为默认模板" in html.split('id="step-urge"', 1)[1].split("</section>", 1)[0]
    visible = re.sub(r"<[^>]+>", " ", html)
    assert not re.search(r"\b(remind|telegram|subject|html)\b", visible)
    await as_admin.get("/lang/en?next=/templates")
    english = await (await as_admin.get("/templates")).text()
    assert "<h2>Reminder" in english and "1 customised" in english
    assert "Subject" in english and "Chinese" in english and "E-mail" in english


# --- the preview, per channel ---------------------------------------------------------------


async def test_telegram_preview_is_a_bubble_with_formatting_and_buttons(as_admin: Web) -> None:
    data = await _preview(as_admin, TG, "<b>{{ item.ref }}</b> <i>请办理</i>")
    assert data["ok"] is True and data["preview"] == "<b>督字〔2026〕37号</b> <i>请办理</i>"
    html = data["html"]
    bubble = '<div class="tg-bubble" id="tg-bubble"><b>督字〔2026〕37号</b> <i>请办理</i></div>'
    assert bubble in html and "&lt;b&gt;" not in html
    assert re.findall(r'class="tg-button">([^<]+)<', html) == [
        "填报进展",
        "申请办结",
        "申请延期",
    ]
    review = await _preview(
        as_admin, "/templates/review_request/telegram/en/text", "{{ requester_name }}"
    )
    assert re.findall(r'class="tg-button">([^<]+)<', review["html"]) == ["Approve", "Return"]


async def test_email_preview_is_subject_sandboxed_html_and_text(as_admin: Web) -> None:
    url = "/templates/remind/email/zh/html"
    data = await _preview(as_admin, url, "<p>请办理 <b>{{ item.title }}</b></p>")
    assert data["ok"] is True
    html = data["html"]
    frame = re.search(r"<iframe[^>]*>", html)
    assert frame is not None
    assert 'sandbox=""' in frame.group(0) and "srcdoc=" in frame.group(0)
    assert "&lt;b&gt;关于加快推进城镇老旧小区改造工作的批示&lt;/b&gt;" in frame.group(0)
    assert "<script" not in html
    assert re.search(r'id="mail-subject">[^<]*督字〔2026〕37号', html)
    assert re.search(r'id="mail-text">[^<]*关于加快推进城镇老旧小区改造工作的批示', html)


async def test_group_robot_markdown_is_rendered_safely(as_admin: Web, sessions) -> None:
    async with sessions() as s, s.begin():
        await f.unit(s)
    body = "### 逾期：{{ item.title }}\n**请办理** {{ link('详情', links.item) }}\n> 引用\n<b>x</b>"
    data = await _preview(as_admin, "/templates/overdue/group/zh/text", body)
    assert data["ok"] is True, data
    html = data["html"]
    assert "<h5>逾期：关于加快推进城镇老旧小区改造工作的批示</h5>" in html
    assert "<b>请办理</b>" in html and "<blockquote>引用</blockquote>" in html
    assert '<a href="https://duban.example.gov.cn/items/37"' in html
    assert "&lt;b&gt;x&lt;/b&gt;" in html


def test_the_drawings_write_no_markup_of_their_own() -> None:
    hostile = (
        '<a href="javascript:alert(1)">x</a><script>alert(1)</script><b onclick="y">b</b>'
        "<img src=x onerror=alert(1)>&lt;i&gt;"
    )
    shown = str(telegram_html(hostile))
    assert "<script" not in shown and "javascript:" not in shown and "onclick" not in shown
    assert "<img" not in shown and "<b>b</b>" in shown and "&lt;i&gt;" in shown
    assert str(telegram_html("<b>open")) == "<b>open</b>"
    md = str(markdown_html('[x](javascript:alert(1)) <img src=x onerror="a"> **b**'))
    assert "<img" not in md and 'href="javascript' not in md and "<b>b</b>" in md


async def test_a_real_items_preview_uses_its_data_only(as_admin: Web, seed: Seed) -> None:
    body = "{{ item.title }}｜{{ last_report.text if last_report else '尚无报告' }}"
    sample = await _preview(as_admin, TG, body)
    assert sample["preview"].startswith("关于加快推进城镇老旧小区改造工作的批示｜已完成31个小区")
    real = await _preview(as_admin, TG, body, seed.item_a)
    assert real["preview"] == "甲单位的事项｜尚无报告"
    assert "所选事项的真实数据" in real["html"] and "示例数据" in sample["html"]


async def test_a_real_review_request_previews_that_items_request(
    as_admin: Web, seed: Seed, sessions, clock
) -> None:
    async with sessions() as s, s.begin():
        s.add(
            Report(
                assignment_id=seed.assignment_a, kind=ReportKind.COMPLETION,
                text="已全部完成", review_state="pending", created_at=clock.now(),
            )
        )  # fmt: skip
    url = "/templates/review_request/telegram/zh/text"
    body = "{{ pending }}｜{{ last_report.text if last_report else '' }}"
    data = await _preview(as_admin, url, body, seed.item_a)
    assert data["preview"] == "completion｜已全部完成"
    assert re.findall(r'class="tg-button">([^<]+)<', data["html"]) == ["同意", "退回"]


async def test_the_preview_refuses_what_the_previewer_may_not_see(
    as_admin: Web, as_supervisor: Web, as_viewer: Web, seed: Seed
) -> None:
    assert (await as_admin.post(TG + "/preview", {"body": "x", "item": "99999"})).status == 404
    for web in (as_supervisor, as_viewer):
        for path in ("/templates", TG):
            assert (await web.get(path)).status == 403
        for path, form in (
            (TG + "/preview", {"body": "x", "item": str(seed.item_a)}),
            (TG, {"body": "x"}),
            (TG + "/reset", {"confirm": "yes"}),
            (TG + "/restore/1", {}),
        ):
            assert (await web.post(path, form)).status == 403, path


# --- the side panel, errors, length -----------------------------------------------------------


async def test_the_panel_lists_the_steps_variables_and_macros(as_admin: Web) -> None:
    html = await (await as_admin.get(TG)).text()
    panel = html.split('id="template-panel"', 1)[1].split("</aside>", 1)[0]
    assert 'data-insert="{{ item.title }}"' in panel and "事项名称" in panel
    assert 'data-insert="{{ assignment.due_on|cn_date }}"' in panel
    assert 'data-insert="{{ m.item_block() }}"' in panel and "事项信息块" in panel
    assert 'data-insert="{% import &#34;zh/_macros.j2&#34; as m with context %}"' in panel
    assert "bulletin.number" not in panel
    bulletin = await (await as_admin.get("/templates/bulletin/email/en/text")).text()
    panel = bulletin.split('id="template-panel"', 1)[1].split("</aside>", 1)[0]
    assert "bulletin.number" in panel and "item.title" not in panel
    assert "m.item_block()" not in panel and "m.bulletin_block()" in panel
    await as_admin.get("/lang/en?next=/templates")
    english = await (await as_admin.get(TG)).text()
    assert "the item&#39;s title" in english and "Variables" in english


@pytest.mark.parametrize("locale", LOCALES)
def test_every_variable_and_macro_offered_has_its_words(locale: str) -> None:
    described = {str(v) for v in TemplateVariable}
    for step in STEPS:
        names = {name for name, _ in variable_names(sample_context(step, locale))}
        assert names - {"channel", "locale"} <= described | {"step"}, step
    assert {name for name, _ in macro_signatures(locale)} == {str(m) for m in TemplateMacro}
    html = {name for name, _ in macro_signatures(locale, "_html.j2")}
    assert html == {str(m) for m in HtmlMacro}


def test_every_helper_offered_is_one_the_sandbox_has() -> None:
    env = SandboxEnvironment(channel="telegram", part="text", templates_dir=DEFAULT_TEMPLATES_DIR)
    for helper in TemplateHelper:
        assert helper in env.globals or helper in env.filters, helper


async def test_an_email_html_panel_offers_the_layout_macros(as_admin: Web) -> None:
    html = await (await as_admin.get("/templates/remind/email/zh/html")).text()
    panel = html.split('id="template-panel"', 1)[1].split("</aside>", 1)[0]
    assert 'data-insert="{% import &#34;zh/_html.j2&#34; as h with context %}"' in panel
    assert 'data-insert="{{ h.item_table() }}"' in panel and "事项信息表" in panel
    assert 'data-insert="{{ h.button(&#34;…&#34;, &#34;…&#34;) }}"' in panel
    assert 'data-insert="|cn_date"' in panel and 'data-insert="{{ b(&#34;…&#34;) }}"' in panel
    text = await (await as_admin.get(TG)).text()
    assert "h.item_table" not in text and 'data-insert="|days_phrase"' in text


async def test_a_syntax_error_points_at_its_line(as_admin: Web, sessions) -> None:
    data = await _preview(as_admin, TG, "第一行\n第二行\n{% if %}")
    assert data["ok"] is False and data["line"] == 3
    page = await as_admin.post(TG, {"body": "第一行\n第二行\n{% if %}"})
    assert page.status == 400
    html = await page.text()
    assert "错误位置：第 3 行" in html
    gutter = html.split('id="gutter"', 1)[1].split("</ol>", 1)[0]
    assert gutter.count("<li") == 3 and gutter.count('class="line-error"') == 1
    assert gutter.rindex('class="line-error"') > gutter.rindex("<li")
    async with sessions() as s:
        assert (await s.scalars(select(Template))).all() == []


async def test_the_length_counter_measures_as_the_channel_counts(as_admin: Web) -> None:
    data = await _preview(as_admin, TG, "<b>四个字符</b>")
    assert data["length"] == {"used": 4, "limit": 4096, "unit": "tg", "over": False}
    data = await _preview(as_admin, TG, "{{ '长' * 5000 }}")
    assert data["ok"] is False
    assert data["length"] == {"used": 5000, "limit": 4096, "unit": "tg", "over": True}
    robot = await _preview(as_admin, "/templates/remind/wecom/zh/text", "汉字")
    assert robot["length"] == {"used": 6, "limit": 4096, "unit": "utf8", "over": False}
    html = await (await as_admin.get(TG)).text()
    assert re.search(r'id="length-used">\d+</b> / <span id="length-limit">4096</span> 字符', html)


# --- diff, history, restore, reset --------------------------------------------------------------


def test_the_diff_lines_up_the_default_and_the_template() -> None:
    rows = diff_rows("a\nb\nc", "a\nB\nc\nd")
    assert [(r.kind, r.old, r.new) for r in rows] == [
        ("same", "a", "a"),
        ("changed", "b", "B"),
        ("same", "c", "c"),
        ("added", None, "d"),
    ]
    assert diff_rows("x", "x") == []


async def test_diff_restore_and_audit(as_admin: Web, seed: Seed, sessions) -> None:
    assert (await as_admin.post(TG, {"body": "<b>第一版</b>{{ item.title }}"})).status == 303
    assert (await as_admin.post(TG, {"body": "第二版"})).status == 303
    html = await (await as_admin.get(TG)).text()
    diff = html.split('<table class="diff">', 1)[1].split("</table>", 1)[0]
    assert '<tr class="diff-changed">' in diff or '<tr class="diff-added">' in diff
    assert "第二版" in diff and "&lt;b&gt;" not in diff  # v1 is not in the diff against v2
    assert 'action="/templates/remind/telegram/zh/text/restore/1"' in html
    restored = await as_admin.post(TG + "/restore/1")
    assert restored.status == 303 and restored.headers["Location"] == TG + "?msg=flash.restored"
    async with sessions() as s:
        row = await s.scalar(select(Template))
        assert row is not None and (row.body, row.version) == ("<b>第一版</b>{{ item.title }}", 3)
        last = await s.scalar(select(TemplateVersion).where(TemplateVersion.version == 3))
        assert last is not None and last.restored_from == 1
        event = await s.scalar(select(AuditEvent).order_by(AuditEvent.id.desc()))
        assert event is not None and event.action == "template.restore"
        assert event.detail["restored_from"] == 1 and event.actor_id == seed.admin
    html = await (await as_admin.get(TG)).text()
    assert "恢复自第 1 版" in html and "&lt;b&gt;第一版&lt;/b&gt;" in html


async def test_restoring_nothing_says_so_and_changes_nothing(as_admin: Web, sessions) -> None:
    assert (await as_admin.post(TG, {"body": "第一版"})).status == 303
    assert (await as_admin.post(TG + "/reset", {"confirm": "yes"})).status == 303
    for version in ("2", "9"):  # a reset, and no such version
        refused = await as_admin.post(TG + f"/restore/{version}")
        assert refused.status == 400
        assert f"该模板没有可恢复的第 {version} 版" in await refused.text()
    assert (await as_admin.post(TG + "/restore/1", csrf=False)).status == 403
    async with sessions() as s:
        assert (await s.scalars(select(Template))).all() == []
        assert len((await s.scalars(select(TemplateVersion))).all()) == 2


async def test_reset_asks_for_a_confirmation(as_admin: Web, sessions) -> None:
    assert (await as_admin.post(TG, {"body": "自定义 <b>{{ item.ref }}</b>"})).status == 303
    page = await as_admin.get(TG + "/reset")
    assert page.status == 200
    html = await page.text()
    assert 'name="confirm" value="yes" required' in html and "&lt;b&gt;" in html
    unconfirmed = await as_admin.post(TG + "/reset")
    assert unconfirmed.status == 400
    assert "请勾选确认后再恢复默认模板" in await unconfirmed.text()
    assert (await as_admin.post(TG + "/reset", {"confirm": "yes"}, csrf=False)).status == 403
    async with sessions() as s:
        assert len((await s.scalars(select(Template))).all()) == 1
    done = await as_admin.post(TG + "/reset", {"confirm": "yes"})
    assert done.status == 303 and done.headers["Location"] == TG + "?msg=flash.reset"
    async with sessions() as s:
        assert (await s.scalars(select(Template))).all() == []
        event = await s.scalar(select(AuditEvent).order_by(AuditEvent.id.desc()))
        assert event is not None and event.action == "template.reset"
    assert (await as_admin.get(TG + "/reset")).status == 303  # nothing left to reset
