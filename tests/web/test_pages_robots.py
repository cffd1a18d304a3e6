"""The group robot pages: admins only; set up with validation in both languages, URL and
secret never shown again, the test message's answer from fake robots, removal confirmed."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from models import AuditEvent, GroupWebhook
from testing.fakes.robots import FakeRobots
from tests.web.conftest import Seed, Web, make_app
from web.app import WebConfig
from web.i18n import LANG_COOKIE

from .conftest import SECRET

FEISHU_SECRET = "feishuSecret42"


@pytest.fixture
async def robots(clock):
    async with FakeRobots(clock=clock) as server:
        yield server


@pytest.fixture
async def admin(sessions, clock, aiohttp_client_factory, seed: Seed, robots) -> Web:
    config = WebConfig(secret_key=SECRET, robot_hosts=(robots.host,))
    client = Web(await aiohttp_client_factory(make_app(sessions, clock, config=config)))
    assert (await client.login("admin@example.gov.cn", person_id=seed.admin)).status == 303
    return client


async def test_robot_pages_are_admin_only(as_supervisor: Web, as_liaison: Web) -> None:
    for who in (as_supervisor, as_liaison):
        for path in ("/robots", "/robots/new"):
            assert (await who.get(path)).status == 403, path
        assert (await who.post("/robots/new", {"name": "x"})).status == 403
        assert (await who.post("/robots/1/test")).status == 403
        assert (await who.post("/robots/1/remove", {"confirm": "on"})).status == 403
    html = await (await as_supervisor.get("/")).text()
    assert 'href="/robots"' not in html


async def test_set_up_test_and_remove_without_ever_showing_the_secret(
    admin: Web, seed: Seed, robots: FakeRobots, sessions
) -> None:
    url = robots.add("feishu", secret=FEISHU_SECRET)
    form = {"name": "乙单位工作群", "kind": "feishu", "owner": str(seed.unit_b), "url": url,
            "secret": FEISHU_SECRET, "steps": ["overdue", "escalate"], "active": "on"}  # fmt: skip
    response = await admin.post("/robots/new", form)
    assert response.status == 303, await response.text()
    async with sessions() as s:
        hook = await s.scalar(select(GroupWebhook))
        assert hook is not None and hook.steps == "overdue,escalate" and hook.unit_id == seed.unit_b
    token = url.rsplit("/", 1)[1]
    for path in ("/robots", f"/robots/{hook.id}"):
        html = await (await admin.get(path)).text()
        assert "乙单位工作群" in html and "/open-apis/bot/v2/hook/***" in html
        assert token not in html and FEISHU_SECRET not in html, path
    html = await (await admin.get(f"/robots/{hook.id}")).text()
    assert 'name="secret" value=""' in html and 'name="url" value=""' in html
    # An edit without URL or secret keeps both; the test message goes out signed.
    form.update(url="", secret="", name="乙单位督办群")
    assert (await admin.post(f"/robots/{hook.id}", form)).status == 303
    answer = await admin.post(f"/robots/{hook.id}/test")
    html = await answer.text()
    assert (
        answer.status == 200 and "机器人已接收" in html and "HTTP 200, code 0, msg success" in html
    )
    assert "乙单位督办群" in repr(robots.received[-1].body)
    # A wrong secret typed in: the robot's refusal is shown as it answered.
    form.update(secret="wrongSecret99")
    assert (await admin.post(f"/robots/{hook.id}", form)).status == 303
    admin.client.session.cookie_jar.update_cookies({LANG_COOKIE: "en"})
    html = await (await admin.post(f"/robots/{hook.id}/test")).text()
    assert "The robot refused it" in html and "code 19021" in html and "wrongSecret99" not in html
    # Removal needs the tick.
    refused = await admin.post(f"/robots/{hook.id}/remove")
    assert refused.status == 400 and "Tick “confirm removal”" in await refused.text()
    removed = await admin.post(f"/robots/{hook.id}/remove", {"confirm": "on"})
    assert removed.status == 303
    async with sessions() as s:
        assert await s.get(GroupWebhook, hook.id) is None
        details = (await s.scalars(select(AuditEvent.detail).where(
            AuditEvent.entity == "group_robot"))).all()  # fmt: skip
    assert len(details) == 6 and token not in repr(details) and FEISHU_SECRET not in repr(details)


async def test_bad_form_is_refused_in_the_readers_language_and_changes_nothing(
    admin: Web, seed: Seed, sessions
) -> None:
    form = {"name": "", "kind": "dingtalk", "owner": "", "secret": "SEC1",
            "url": "http://oapi.dingtalk.com/robot/send?access_token=abcdefgh12"}  # fmt: skip
    response = await admin.post("/robots/new", form)
    html = await response.text()
    assert response.status == 400
    for text in ("请填写群机器人的名称", "https://", "以 SEC 开头", "领导群", "至少选择一个"):
        assert text in html, text
    assert "SEC1" not in html and "access_token=abcdefgh12" not in html
    admin.client.session.cookie_jar.update_cookies({LANG_COOKIE: "en"})
    html = await (await admin.post("/robots/new", form)).text()
    assert "Give the group robot a name" in html and "starts with SEC" in html
    async with sessions() as s:
        assert (await s.scalars(select(GroupWebhook))).all() == []
    assert (await admin.get("/robots/999")).status == 404
    assert (await admin.post("/robots/999/test")).status == 404
