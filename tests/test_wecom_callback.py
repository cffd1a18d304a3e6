"""The /wecom/callback route driven by the fake WeCom server: URL verification, signatures,
decryption, passive replies, MsgId de-duplication of retries, button dialogs, free text
filed against the one active item or after choosing among several, and authorization."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models import Assignment, Extension, Person, Report, ReportKind, WeComInbound
from notifier.wecom.crypto import xml_fields
from supervision.clock import FixedClock
from supervision.wecom_replies import WeComReplies
from testing.bot_world import World
from testing.fakes.wecom import FakeWeCom
from web.app import WebConfig, WebDeps, create_app
from web.wecom import CALLBACK_PATH, setup_wecom_callback

SHANGHAI_TZ = "Asia/Shanghai"


class Office:
    """The app on 127.0.0.1 and the fake WeCom pushing callbacks to it."""

    def __init__(self, fake: FakeWeCom, url: str, sessions: async_sessionmaker[AsyncSession]):
        self.fake, self.url, self.sessions = fake, url, sessions

    async def send(self, inner: str, **kw: Any) -> str:
        """Deliver one callback; the plaintext of the passive reply ("" for none)."""
        delivery = await self.fake.deliver(self.url, inner, **kw)
        assert delivery.answer is not None and delivery.answer[0] == 200, delivery.attempts
        body = delivery.answer[1]
        return xml_fields(self.fake.open_reply(body)).get("Content", "") if body else ""

    async def text(self, user: str, content: str, *, msg_id: int | None = None) -> str:
        return await self.send(self.fake.text_message(user, content, msg_id=msg_id))

    async def press(self, user: str, key: str) -> str:
        return await self.send(self.fake.button_event(user, key, "duban-n1"))

    async def count(self, model: Any, *where: Any) -> int:
        async with self.sessions() as session:
            return int(await session.scalar(select(func.count()).select_from(model).where(*where)))


@pytest.fixture
async def office(
    sessions: async_sessionmaker[AsyncSession],
    clock: FixedClock,
    world: World,
    aiohttp_client_factory: Any,
) -> Any:
    from zoneinfo import ZoneInfo

    async with sessions() as session:
        for person, userid in ((world.owner, "zhangsan"), (world.outsider, "zhaoliu")):
            (await session.get_one(Person, person.id)).wecom_userid = userid
        await session.commit()
    async with FakeWeCom(clock=clock, users={"zhangsan", "zhaoliu"}) as fake:
        deps = WebDeps(config=WebConfig(secret_key="x" * 48), sessions=sessions, clock=clock)
        replies = WeComReplies(clock=clock, tz=ZoneInfo(SHANGHAI_TZ))
        app = create_app(deps, [lambda a: setup_wecom_callback(a, fake.crypt, replies)])
        client = await aiohttp_client_factory(app)
        yield Office(fake, str(client.make_url(CALLBACK_PATH)), sessions)


async def test_url_verification_echoes_and_refuses_forgery(office: Office) -> None:
    from aiohttp import ClientSession

    async with ClientSession() as http:
        query = office.fake.verify_url_query("echo-123")
        async with http.get(office.url, params=query) as resp:
            assert (resp.status, await resp.text()) == (200, "echo-123")
        query["msg_signature"] = "0" * 40
        async with http.get(office.url, params=query) as resp:
            assert resp.status == 403
        q, body = office.fake.signed(office.fake.text_message("zhangsan", "伪造"))
        q["timestamp"] = str(int(q["timestamp"]) + 1)
        async with http.post(office.url, params=q, data=body.encode()) as resp:
            assert resp.status == 403
    assert await office.count(Report) == 0


async def test_text_with_one_active_item_is_filed_there(office: Office, world: World) -> None:
    answer = await office.text("zhaoliu", "已完成现场核查，正在整改。")
    assert "第1次进展报告" in answer and world.document.title in answer
    async with office.sessions() as session:
        report = await session.scalar(select(Report))
        assert report is not None
        assert (report.assignment_id, report.author_id) == (world.a_outside.id, world.outsider.id)
        assert report.text == "已完成现场核查，正在整改。" and report.channel == "wecom_app"


async def test_retry_of_the_same_msgid_files_once(office: Office) -> None:
    first = await office.text("zhaoliu", "进展一", msg_id=777)
    again = await office.text("zhaoliu", "进展一", msg_id=777)
    assert first == again and "第1次" in first
    assert await office.count(Report) == 1
    assert await office.count(WeComInbound) == 1


async def test_a_slow_answer_is_retried_and_still_filed_once(
    office: Office, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = 0
    original = WeComReplies.handle

    async def slow_first(self: WeComReplies, session: AsyncSession, msg: Any) -> Any:
        nonlocal calls
        calls += 1
        answer = await original(self, session, msg)
        if calls == 1:
            await asyncio.Event().wait()  # never answers: WeCom gives up and retries
        return answer

    monkeypatch.setattr(WeComReplies, "handle", slow_first)
    delivery = await office.fake.deliver(
        office.url, office.fake.text_message("zhaoliu", "进展", msg_id=9), wait=0.5
    )
    assert delivery.attempts[0] is None and delivery.answer is not None
    assert delivery.answer[0] == 200
    assert await office.count(Report) == 1


async def test_several_items_ask_which_and_the_number_files_it(
    office: Office, world: World
) -> None:
    answer = await office.text("zhangsan", "本周完成方案初稿。")
    assert "请回复序号" in answer and "1. " in answer and "2. " in answer
    assert await office.count(Report) == 0
    assert "1 到 2" in await office.text("zhangsan", "第三个")
    lines = [line for line in answer.splitlines() if line.startswith("2. ")]
    filed = await office.text("zhangsan", "2")
    assert "第1次进展报告" in filed
    async with office.sessions() as session:
        report = await session.scalar(select(Report))
        assert report is not None and report.text == "本周完成方案初稿。"
        chosen = await session.get_one(Assignment, report.assignment_id)
        item_title = (
            world.instruction.title
            if chosen.item_id == world.instruction.id
            else (world.document.title)
        )
        assert item_title in lines[0]


async def test_buttons_open_the_same_dialogs(office: Office, world: World) -> None:
    a = world.a_document.id
    assert "进展情况" in await office.press("zhangsan", f"a:r:{a}")
    assert "第1次进展报告" in await office.text("zhangsan", "按计划推进")
    assert "办结报告" in await office.press("zhangsan", f"a:c:{a}")
    assert "办结申请已提交" in await office.text("zhangsan", "全部完成，详见附件。")
    async with office.sessions() as session:
        kinds = (await session.scalars(select(Report.kind).order_by(Report.id))).all()
    assert kinds == [ReportKind.PROGRESS.value, ReportKind.COMPLETION.value]
    b = world.a_instruction.id
    assert "2027-01-20" in await office.press("zhangsan", f"a:e:{b}")
    answer = await office.text("zhangsan", "2027-01-20\n原因：需协调省直部门\n进展：已完成初稿")
    assert "延期申请已提交" in answer and "2027-01-20" in answer
    assert await office.count(Extension) == 1
    details = await office.press("zhangsan", f"a:v:{b}")
    assert world.instruction.title in details
    assert "进展情况" in await office.press("zhangsan", f"a:r:{b}")
    assert "已取消" in await office.text("zhangsan", "取消")
    assert "请回复序号" in await office.text("zhangsan", "取消之后的消息不进入原对话")


async def test_strangers_and_other_units_are_refused(office: Office, world: World) -> None:
    assert "尚未在督办系统登记" in await office.text("nobody", "hello")
    assert "无权" in await office.press("zhaoliu", f"a:r:{world.a_document.id}")
    assert "无权" in await office.press("zhaoliu", f"a:v:{world.a_document.id}")
    assert await office.count(Report) == 0


async def test_a_broken_rule_is_answered_and_files_nothing(office: Office, world: World) -> None:
    await office.press("zhangsan", f"a:e:{world.a_document.id}")
    answer = await office.text("zhangsan", "2020-01-01\n原因：x\n进展：y")
    assert answer.startswith("未予登记")
    assert await office.count(Extension) == 0


async def test_other_events_get_no_answer(office: Office) -> None:
    inner = (
        f"<xml><ToUserName><![CDATA[{office.fake.corp_id}]]></ToUserName>"
        "<FromUserName><![CDATA[zhangsan]]></FromUserName><CreateTime>1</CreateTime>"
        "<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[enter_agent]]></Event>"
        "<AgentID>1000002</AgentID></xml>"
    )
    assert await office.send(inner) == ""


async def test_a_stale_dialog_is_dropped(office: Office, world: World, clock: FixedClock) -> None:
    from datetime import timedelta

    await office.press("zhaoliu", f"a:c:{world.a_outside.id}")
    clock.advance(timedelta(hours=3))
    answer = await office.text("zhaoliu", "三小时后的普通进展")
    assert "进展报告" in answer  # a progress report, not a completion request
    async with office.sessions() as session:
        kinds = (await session.scalars(select(Report.kind))).all()
    assert kinds == [ReportKind.PROGRESS.value]


async def test_channels_are_set_in_the_wecom_dialog(office: Office, world: World) -> None:
    async def prefs() -> str | None:
        async with office.sessions() as session:
            return (await session.get_one(Person, world.owner.id)).channel_prefs

    shown = await office.text("zhangsan", "接收渠道")
    assert shown.startswith("接收渠道: 默认") and "接收渠道 企业微信 电子邮件" in shown
    saved = await office.text("zhangsan", "接收渠道：企业微信；电子邮件")
    assert saved == "接收渠道已保存。\n接收渠道: 企业微信 → 电子邮件"
    assert await prefs() == "wecom_app,email"
    refused = await office.text("zhangsan", "接收渠道 短信")
    assert refused.startswith("未予登记") and "接收渠道：“短信”不是人员可用的接收渠道" in refused
    assert await prefs() == "wecom_app,email"
    await office.text("zhangsan", "接收渠道 默认")
    assert await prefs() is None
    assert await office.count(Report) == 0  # none of these is a progress report
