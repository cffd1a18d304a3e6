"""/api/v1/robots: group robots set up, changed, tested (against fake robots on loopback) and
removed by admins; URLs masked and secrets never in an answer."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from models import AuditEvent, GroupWebhook, Role
from supervision.audit import Actor
from supervision.robots import opened
from supervision.sealing import Sealer
from testing import factories as f
from testing.fakes.robots import FakeRobots
from web.api import setup_api
from web.api_tokens import create_token
from web.app import WebConfig, WebDeps, create_app

P = "/api/v1"
DING_SECRET = "SEC" + "0123456789abcdef" * 4


@pytest.fixture
async def robots(clock):
    async with FakeRobots(clock=clock) as server:
        yield server


@pytest.fixture
async def api(sessions, clock, aiohttp_client_factory, robots):
    async with sessions() as s, s.begin():
        unit = await f.unit(s, code="FGW", name="发改委")
        admin = await f.person(s, roles={Role.ADMIN})
        liaison = await f.person(s, unit=unit, roles={Role.LIAISON})
        sup = await f.person(s, roles={Role.SUPERVISOR})
        tokens = {}
        for key, person in (("admin", admin), ("liaison", liaison), ("sup", sup)):
            made = await create_token(
                s, person=person, name=key, actor=Actor.system("test"), clock=clock
            )
            tokens[key] = made.secret
        unit_id = unit.id
    config = WebConfig(secret_key="k", robot_hosts=(robots.host,))
    app = create_app(WebDeps(config=config, sessions=sessions, clock=clock), [setup_api])
    client = await aiohttp_client_factory(app)

    async def call(method: str, who: str, path: str, body: Any = None) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {tokens[who]}"}
        resp = await client.request(method, P + path, headers=headers, json=body)
        return resp.status, await resp.json()

    call.unit_id = unit_id  # type: ignore[attr-defined]
    return call


async def test_admin_sets_up_changes_tests_and_removes_a_robot(api, robots, sessions) -> None:
    url = robots.add("dingtalk", secret=DING_SECRET)
    body = {"name": "发改委工作群", "kind": "dingtalk", "url": url, "secret": DING_SECRET,
            "unit_id": api.unit_id, "steps": ["overdue", "escalate"]}  # fmt: skip
    status, made = await api("POST", "admin", "/robots", body)
    assert status == 201, made
    assert made["url"].endswith("/robot/send?access_token=***") and made["secret_set"] is True
    assert made["steps"] == ["overdue", "escalate"] and made["leadership"] is False
    assert DING_SECRET not in repr(made) and url not in repr(made)
    rid = made["id"]
    status, tested = await api("POST", "admin", f"/robots/{rid}/test")
    assert status == 200 and tested["accepted"] and tested["answer"].startswith("HTTP 200")
    # A wrong secret: the robot's own refusal comes back.
    status, changed = await api("PATCH", "admin", f"/robots/{rid}", {"secret": "SEC" + "e" * 64})
    assert status == 200 and changed["secret_set"]
    status, tested = await api("POST", "admin", f"/robots/{rid}/test")
    assert status == 200 and not tested["accepted"] and tested["reached"]
    assert "errcode 310000" in tested["answer"] and "机器人拒收" in tested["message"]
    # The leadership's group, then back to the URL kept all along.
    status, lead = await api("PATCH", "admin", f"/robots/{rid}", {"leadership": True})
    assert status == 200 and lead["unit_id"] is None and lead["leadership"] is True
    async with sessions() as s:
        hook = await s.get_one(GroupWebhook, rid)
        assert opened(hook, Sealer("k")) == (url, "SEC" + "e" * 64)
        assert url not in hook.url and "e" * 64 not in (hook.secret or "")
    status, page = await api("GET", "admin", "/robots")
    assert status == 200 and page["total"] == 1 and page["data"][0]["id"] == rid
    status, gone = await api("DELETE", "admin", f"/robots/{rid}")
    assert status == 200 and gone["id"] == rid
    assert (await api("GET", "admin", f"/robots/{rid}"))[0] == 404
    async with sessions() as s:
        actions = (await s.scalars(select(AuditEvent.action).where(
            AuditEvent.entity == "group_robot").order_by(AuditEvent.id))).all()  # fmt: skip
    assert actions == ["create", "test_message", "update", "test_message", "update", "delete"]


async def test_bad_bodies_are_400_in_both_languages_and_change_nothing(api, sessions) -> None:
    cases = [
        ({"name": "群", "kind": "slack", "url": "https://x", "unit_id": 1}, "kind"),
        ({"name": "群", "kind": "wecom", "url": "https://evil.example/cgi-bin/webhook/send?key=abcdefgh1",
          "unit_id": api.unit_id}, "evil.example"),
        ({"name": "群", "kind": "feishu", "url": "https://open.feishu.cn/open-apis/bot/v2/hook/abcdefgh1"},
         "领导群"),
        ({"name": "群", "kind": "wecom", "url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abcdefgh1",
          "unit_id": api.unit_id, "secret": "whatever1"}, "没有加签密钥"),
    ]  # fmt: skip
    for body, fragment in cases:
        status, answer = await api("POST", "admin", "/robots", body)
        assert status == 400, body
        text = answer["error"]["message"] + repr(answer["error"].get("details"))
        assert fragment in text, (fragment, text)
    async with sessions() as s:
        assert (await s.scalars(select(GroupWebhook))).all() == []


@pytest.mark.parametrize("who", ["liaison", "sup"])
async def test_only_admins_reach_robots(api, who) -> None:
    for method, path in (("GET", "/robots"), ("POST", "/robots"), ("POST", "/robots/1/test"),
                         ("DELETE", "/robots/1")):  # fmt: skip
        status, answer = await api(method, who, path, {} if method == "POST" else None)
        assert status == 403 and answer["error"]["code"] == "forbidden", (method, path)
