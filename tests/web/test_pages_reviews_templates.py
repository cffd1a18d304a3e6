"""Review decisions and the template editor: preview, line errors, save, reset, history."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from models import (
    Assignment,
    Extension,
    Item,
    Milestone,
    Report,
    ReportKind,
    ReviewState,
    Source,
    Template,
    TemplateVersion,
    Unit,
)
from testing import factories as f
from tests.web.conftest import Seed, Web, make_app


async def _pending(as_liaison: Web, seed: Seed, sessions) -> None:
    async with sessions() as s, s.begin():
        (await s.get_one(Item, seed.item_a)).source = Source.MEETING.value
    r = await as_liaison.post(
        f"/items/{seed.item_a}/assignments/{seed.assignment_a}/extension",
        {"reason": "需要协调多个部门", "progress": "已完成初稿", "new_due_on": "2027-01-15"},
    )
    assert r.status == 303, await r.text()


async def test_approve_extension(as_liaison: Web, as_supervisor: Web, seed: Seed, sessions) -> None:
    await _pending(as_liaison, seed, sessions)
    page = await as_supervisor.get("/reviews")
    html = await page.text()
    assert "需要协调多个部门" in html
    async with sessions() as s:
        ext_id = await s.scalar(select(Extension.id))
    response = await as_supervisor.post(
        f"/reviews/extension/{ext_id}", {"decision": "approve", "comment": "同意"}
    )
    assert response.status == 303
    async with sessions() as s:
        ext = await s.get_one(Extension, ext_id)
        assert ext.state == ReviewState.APPROVED
        assert (await s.get_one(Assignment, seed.assignment_a)).due_on == date(2027, 1, 15)
    again = await as_supervisor.post(f"/reviews/extension/{ext_id}", {"decision": "reject"})
    assert again.status == 400  # already decided: clear message, nothing changes
    assert (
        await as_supervisor.post("/reviews/extension/999", {"decision": "reject"})
    ).status == 404


async def _pending_extension(as_liaison: Web, seed: Seed, sessions) -> int:
    await _pending(as_liaison, seed, sessions)
    async with sessions() as s:
        ext_id = await s.scalar(select(Extension.id))
    assert ext_id is not None
    return ext_id


async def _still_pending(sessions, ext_id: int, seed: Seed) -> None:
    async with sessions() as s:
        ext = await s.get_one(Extension, ext_id)
        assert ext.state == ReviewState.PENDING and ext.comment is None
        assert (await s.get_one(Assignment, seed.assignment_a)).due_on != date(2027, 1, 15)


async def test_decision_buttons_say_what_happens_and_enter_cannot_decide(
    as_liaison: Web, as_supervisor: Web, seed: Seed, sessions
) -> None:
    ext_id = await _pending_extension(as_liaison, seed, sessions)
    for url in ("/reviews", f"/items/{seed.item_a}"):
        html = await (await as_supervisor.get(url)).text()
        form = html[html.index(f'action="/reviews/extension/{ext_id}"') :]
        form = form[: form.index("</form>")]
        assert "同意延期至 2027-01-15" in form and "退回：请填写理由" in form
        # The comment is a textarea (Enter is a new line) and the form's first submit
        # button, the target of an implicit submission, is disabled: Enter sends nothing.
        assert '<textarea name="comment"' in form and 'type="text"' not in form
        first = form[form.index("<button") :]
        assert first.startswith('<button type="submit" class="implicit-guard" disabled')


async def test_post_without_decision_decides_nothing(
    as_liaison: Web, as_supervisor: Web, seed: Seed, sessions
) -> None:
    ext_id = await _pending_extension(as_liaison, seed, sessions)
    # What an implicit submission would send: the comment and no decision button.
    for form in ({"comment": "理由不足，请补充材料"}, {"decision": "", "comment": "x"}):
        r = await as_supervisor.post(f"/reviews/extension/{ext_id}", form)
        assert r.status == 400
        assert "未作出决定" in await r.text()
        await _still_pending(sessions, ext_id, seed)


async def test_reject_requires_a_reason(
    as_liaison: Web, as_supervisor: Web, seed: Seed, sessions
) -> None:
    ext_id = await _pending_extension(as_liaison, seed, sessions)
    for comment in (None, "", "   \n "):
        form = (
            {"decision": "reject"}
            if comment is None
            else {"decision": "reject", "comment": comment}
        )
        r = await as_supervisor.post(f"/reviews/extension/{ext_id}", form)
        assert r.status == 400
        assert "退回须填写理由" in await r.text()
        await _still_pending(sessions, ext_id, seed)
    r = await as_supervisor.post(
        f"/reviews/extension/{ext_id}", {"decision": "reject", "comment": "理由不足"}
    )
    assert r.status == 303
    async with sessions() as s:
        ext = await s.get_one(Extension, ext_id)
        assert ext.state == ReviewState.REJECTED and ext.comment == "理由不足"


async def test_completion_request_rejected(
    as_liaison: Web, as_admin: Web, seed: Seed, sessions
) -> None:
    async with sessions() as s, s.begin():
        (await s.get_one(Item, seed.item_a)).source = Source.MEETING.value
    r = await as_liaison.post(
        f"/items/{seed.item_a}/assignments/{seed.assignment_a}/report",
        {"kind": "completion", "text": "全部完成"},
    )
    assert r.status == 303, await r.text()
    async with sessions() as s:
        report_id = await s.scalar(select(Report.id))
    assert "全部完成" in await (await as_admin.get("/reviews")).text()
    bad = await as_admin.post(f"/reviews/completion/{report_id}", {"decision": "maybe"})
    assert bad.status == 400
    r = await as_admin.post(
        f"/reviews/completion/{report_id}", {"decision": "reject", "comment": "材料不全"}
    )
    assert r.status == 303
    async with sessions() as s:
        assert (await s.get_one(Report, report_id)).review_state == ReviewState.REJECTED


async def test_reviews_are_office_only(as_liaison: Web, as_viewer: Web, seed: Seed) -> None:
    assert (await as_liaison.get("/reviews")).status == 403
    assert (await as_viewer.get("/reviews")).status == 403
    assert (await as_viewer.post("/reviews/extension/1", {"decision": "approve"})).status == 403


async def test_templates_admin_only(as_supervisor: Web, as_viewer: Web, seed: Seed) -> None:
    assert (await as_supervisor.get("/templates")).status == 403
    assert (await as_viewer.get("/templates/remind/telegram/zh/text")).status == 403


async def test_template_index_and_unknown_keys(as_admin: Web) -> None:
    html = await (await as_admin.get("/templates")).text()
    assert "/templates/remind/telegram/zh/text" in html
    assert "/templates/escalate/email/en/subject" in html
    assert (await as_admin.get("/templates/nope/telegram/zh/text")).status == 404
    assert (await as_admin.get("/templates/remind/telegram/zh/subject")).status == 404


async def test_template_preview_uses_real_item(as_admin: Web, seed: Seed) -> None:
    url = "/templates/remind/telegram/zh/text"
    page = await as_admin.get(url)
    assert page.status == 200
    response = await as_admin.post(
        url + "/preview", {"body": "事项：{{ item.title }}", "item": str(seed.item_a)}
    )
    data = await response.json()
    assert (data["ok"], data["preview"]) == (True, "事项：甲单位的事项")
    response = await as_admin.post(url + "/preview", {"body": "ok\n{{ item.nope }}"})
    data = await response.json()
    assert data["ok"] is False and data["line"] == 2
    response = await as_admin.post(url + "/preview", {"body": "{{ x.__class__ }}"})
    assert (await response.json())["ok"] is False


async def test_a_milestone_template_previews_the_items_own_milestone(
    as_admin: Web, seed: Seed, sessions
) -> None:
    async with sessions() as s, s.begin():
        s.add(
            Milestone(
                item_id=seed.item_a, name="完成方案编制", due_on=date(2026, 12, 1),
                unit_id=seed.unit_a, state="open",
            )
        )  # fmt: skip
    url = "/templates/ms_remind/telegram/zh/text"
    assert (await as_admin.get(url)).status == 200
    body = "{{ item.title }}｜{{ milestone.name }}｜{{ milestone.due_on|cn_date(false) }}"
    response = await as_admin.post(url + "/preview", {"body": body, "item": str(seed.item_a)})
    data = await response.json()
    assert (data["ok"], data["preview"]) == (True, "甲单位的事项｜完成方案编制｜2026年12月1日")


async def test_template_save_error_reset_history(as_admin: Web, seed: Seed, sessions) -> None:
    url = "/templates/remind/telegram/zh/text"
    bad = await as_admin.post(url, {"body": "第一行\n{% if %}"})
    assert bad.status == 400
    html = await bad.text()
    assert 'class="line-error"' in html
    async with sessions() as s:
        assert (await s.scalars(select(Template))).all() == []
    ok = await as_admin.post(url, {"body": "请办理：{{ item.title }}", "note": "简化"})
    assert ok.status == 303
    ok = await as_admin.post(url, {"body": "请尽快办理：{{ item.title }}"})
    assert ok.status == 303
    html = await (await as_admin.get(url + f"?item={seed.item_b}")).text()
    assert "请尽快办理：乙单位的事项" in html and "简化" in html and "管理员" in html
    reset = await as_admin.post(url + "/reset", {"confirm": "yes"})
    assert reset.status == 303
    async with sessions() as s:
        assert (await s.scalars(select(Template))).all() == []
        versions = (
            await s.scalars(select(TemplateVersion).order_by(TemplateVersion.version))
        ).all()
        assert [v.version for v in versions] == [1, 2, 3] and versions[-1].body == ""


async def test_template_preview_for_non_item_step(as_admin: Web, sessions) -> None:
    async with sessions() as s, s.begin():
        await f.unit(s)
    response = await as_admin.post(
        "/templates/invite/email/en/subject/preview", {"body": "Join {{ office_name }}"}
    )
    data = await response.json()
    assert data["ok"] is True and data["preview"].startswith("Join")


async def test_group_robot_channel_override(as_admin: Web, seed: Seed, sessions) -> None:
    page = await (await as_admin.get("/templates/overdue/dingtalk/zh/text")).text()
    assert "{{" in page  # the shared group default is shown to start from
    response = await as_admin.post(
        "/templates/overdue/dingtalk/zh/text", {"body": "### 逾期：{{ item.title }}"}
    )
    assert response.status == 303
    async with sessions() as s:
        row = await s.scalar(select(Template))
        assert row is not None and (row.channel, row.step) == ("dingtalk", "overdue")


async def test_decide_from_the_item_page(
    as_liaison: Web, as_supervisor: Web, seed: Seed, sessions
) -> None:
    await _pending(as_liaison, seed, sessions)
    async with sessions() as s:
        ext_id = await s.scalar(select(Extension.id))
    html = await (await as_supervisor.get(f"/items/{seed.item_a}")).text()
    assert f'id="extension-{ext_id}"' in html
    liaison_view = await (await as_liaison.get(f"/items/{seed.item_a}")).text()
    assert f'id="extension-{ext_id}"' not in liaison_view
    response = await as_supervisor.post(
        f"/reviews/extension/{ext_id}",
        {"decision": "reject", "comment": "理由不足", "next": f"/items/{seed.item_a}"},
    )
    assert response.status == 303
    assert response.headers["Location"] == f"/items/{seed.item_a}?msg=flash.decided"
    async with sessions() as s:
        assert (await s.get_one(Extension, ext_id)).state == ReviewState.REJECTED
    html = await (await as_supervisor.get(f"/items/{seed.item_a}")).text()
    assert f'id="extension-{ext_id}"' not in html and "理由不足" in html


#: runs for far longer than the render timeout
FOREVER = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"
#: doubles a string by %-formatting until it passes the render workers' address-space cap
DOUBLING = "{% set x = 'x' * 100000 %}" + "{% set x = '%s%s' % (x, x) %}" * 12 + "{{ x|length }}"


async def test_a_hostile_preview_is_bounded_and_healthz_answers_meanwhile(as_admin: Web) -> None:
    import asyncio

    url = "/templates/remind/telegram/zh/text/preview"
    preview = asyncio.ensure_future(as_admin.post(url, {"body": FOREVER}))
    health = await as_admin.get("/healthz")
    assert health.status == 200 and (await health.json())["status"] == "ok"
    assert not preview.done(), "/healthz answered while the template was still rendering"
    data = await (await preview).json()
    assert data["ok"] is False and "渲染超过 2 秒" in data["error"]
    # The worker was replaced: the next preview renders.
    data = await (await as_admin.post(url, {"body": "{{ item.ref }}"})).json()
    assert (data["ok"], data["preview"]) == (True, "督字〔2026〕37号")


async def test_an_app_closes_only_the_render_workers_it_started(
    sessions, clock, render_pool
) -> None:
    from aiohttp import web

    from notifier.templating import validate
    from web.views.template_keys import RENDER_POOL

    shared, own = make_app(sessions, clock, render_pool=render_pool), make_app(sessions, clock)
    runners = [web.AppRunner(app) for app in (shared, own)]
    for runner in runners:
        await runner.setup()
    assert shared[RENDER_POOL] is render_pool and own[RENDER_POOL] is not render_pool
    for app in (shared, own):
        await validate("{{ item.ref }}", step="remind", channel="log", pool=app[RENDER_POOL])
        assert app[RENDER_POOL].processes == 1
    for runner in runners:
        await runner.cleanup()
    assert own[RENDER_POOL].closed and own[RENDER_POOL].processes == 0
    assert not render_pool.closed and render_pool.processes == 1


async def test_a_hostile_template_is_refused_at_save(as_admin: Web, sessions) -> None:
    url = "/templates/remind/email/zh/html"
    refused = await as_admin.post(url, {"body": DOUBLING})
    assert refused.status == 400
    assert "内存" in await refused.text()
    async with sessions() as s:
        assert (await s.scalars(select(Template))).all() == []
        assert (await s.scalars(select(TemplateVersion))).all() == []
    data = await (await as_admin.post(url + "/preview", {"body": DOUBLING})).json()
    assert data["ok"] is False and "内存" in data["error"]


async def test_output_outside_the_allow_lists_is_refused_over_http(as_admin: Web, sessions) -> None:
    url = "/templates/remind/email/zh/html"
    for body in (
        '<p>{{ item.ref }}</p><a href="&#106;avascript:alert(1)">详情</a>',
        '<p>{{ item.ref }}</p><svg onload="alert(1)"></svg>',
        "<p>{{ item.ref }}</p><style>p{}</style>",
    ):
        assert (await as_admin.post(url, {"body": body})).status == 400, body
        data = await (await as_admin.post(url + "/preview", {"body": body})).json()
        assert data["ok"] is False
    async with sessions() as s:
        assert (await s.scalars(select(Template))).all() == []
    tg = "/templates/remind/telegram/zh/text/preview"
    data = await (
        await as_admin.post(tg, {"body": '<a href="javascript:alert(1)">{{ item.ref }}</a>'})
    ).json()
    assert data["ok"] is False and "http" in data["error"]
    data = await (await as_admin.post(tg, {"body": '<a href="tg://resolve?domain=x">t</a>'})).json()
    assert (data["ok"], data["preview"]) == (True, '<a href="tg://resolve?domain=x">t</a>')


async def test_reviews_page_fifty_at_a_time_in_request_order(
    as_supervisor: Web, seed: Seed, sessions
) -> None:
    # Same created_at for many rows: the cursor must still step through each exactly once.
    at = datetime(2026, 11, 1, 2, 0, tzinfo=UTC)
    async with sessions() as s, s.begin():
        unit = await s.get_one(Unit, seed.unit_a)
        for n in range(120):
            item = await f.item(s, ref=f"审〔2026〕{n:03d}号")
            asg = await f.assignment(s, item=item, unit=unit)
            s.add(
                Report(
                    assignment_id=asg.id,
                    kind=ReportKind.COMPLETION.value,
                    text=f"办结报告{n:03d}",
                    review_state=ReviewState.PENDING.value,
                    created_at=at + timedelta(minutes=n // 7),
                )
            )
    seen: list[str] = []
    path = "/reviews"
    for _ in range(3):
        html = await (await as_supervisor.get(path)).text()
        assert "共 120 项" in html
        seen += re.findall(r"办结报告(\d{3})", html)
        cursor = re.search(r'href="/reviews\?completions_after=(\d+)"', html)
        if cursor is None:
            break
        path = f"/reviews?completions_after={cursor[1]}"
    assert seen == [f"{n:03d}" for n in range(120)]
    assert "回到第一页" in html
