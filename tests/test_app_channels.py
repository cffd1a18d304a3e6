"""DingTalk work notifications and Feishu app messages against their fakes: the card with the
item summary and its link, the token cached / renewed on expiry / shared through Redis,
error codes mapped to retry, pause or fail, and the real delivery path with its fallback."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from models import Notification, Person
from notifier.channels.base import (
    ChannelRegistry,
    OutgoingMessage,
    PermanentError,
    RateLimited,
    TransientError,
)
from notifier.channels.dingtalk_app import DingTalkAppChannel, build_msg
from notifier.channels.feishu_app import FeishuAppChannel
from notifier.channels.feishu_app import build_card as feishu_card
from notifier.channels.log import LogChannel
from notifier.delivery import Deliverer
from notifier.dingtalk import DingTalkApi, DingTalkConfig
from notifier.feishu import FeishuApi, FeishuConfig
from notifier.templating import Renderer, sample_context
from notifier.tokens import SharedTokenStore
from supervision.clock import FixedClock
from testing.fakes.dingtalk import FakeDingTalk
from testing.fakes.feishu import FakeFeishu
from testing.notifier_support import limiter_for, options, reminder

TEXT = """督办提醒｜DB-2026-001
推进老旧小区改造
责任单位：住建局（牵头）
责任人：张三
完成时限：2026年11月30日

张三同志：该事项将于2026年11月30日到期，请按时办结并报送办理情况。
@url https://duban.example/items/7
"""


def _message(channel: str, n: int = 1, *, to: str = "zhangsan", text: str = TEXT):
    return OutgoingMessage(
        notification_id=n, kind="remind", channel=channel, address=to, text=text,
        assignment_id=12, buttons=True,
    )  # fmt: skip


def _dingtalk(fake: FakeDingTalk, clock: FixedClock, secret: str | None = None, store=None):
    config = DingTalkConfig(
        app_key=fake.app_key, agent_id=fake.agent_id, app_secret=secret or fake.app_secret,
        api_base=fake.base_url,
    )  # fmt: skip
    return DingTalkAppChannel(DingTalkApi(config, clock=clock, store=store))


def _feishu(fake: FakeFeishu, clock: FixedClock, secret: str | None = None, store=None):
    config = FeishuConfig(
        app_id=fake.app_id, app_secret=secret or fake.app_secret, api_base=fake.base_url
    )
    return FeishuAppChannel(FeishuApi(config, clock=clock, store=store))


# DingTalk


async def test_dingtalk_sends_an_action_card_with_the_item_link(clock: FixedClock) -> None:
    async with FakeDingTalk(clock=clock, users={"zhangsan"}) as fake:
        channel = _dingtalk(fake, clock)
        result = await channel.send(_message("dingtalk_app"))
        await channel.close()
    [sent] = fake.sent
    assert result.provider_message_id == str(sent.task_id)
    assert sent.users == ["zhangsan"] and sent.body["agent_id"] == fake.agent_id
    card = sent.msg["action_card"]
    assert sent.msg["msgtype"] == "action_card"
    assert card["title"] == "督办提醒｜DB-2026-001"
    assert card["single_title"] == "查看详情"
    assert card["single_url"] == "https://duban.example/items/7"
    assert "推进老旧小区改造" in card["markdown"] and "责任人：张三" in card["markdown"]
    assert "请按时办结" in card["markdown"] and "@url" not in card["markdown"]


def test_dingtalk_escapes_people_words_and_drops_odd_links() -> None:
    text = "标题\n[点我](http://evil.example) **粗**\n\n正文 <b>x</b>\n@url javascript:alert(1)"
    msg = build_msg(_message("dingtalk_app", text=text))
    assert msg["msgtype"] == "markdown"  # no usable link: plain markdown, no button
    body = msg["markdown"]["text"]
    assert "[点我](" not in body and "**粗**" not in body and "<b>" not in body
    assert "［点我］" in body and "javascript" not in json.dumps(msg)


@pytest.mark.parametrize("locale", ["zh", "en"])
async def test_dingtalk_default_templates_make_valid_cards(locale: str) -> None:
    for step in ("remind", "urge", "overdue", "escalate", "periodic", "assign", "invite"):
        rendered = await Renderer().render(
            step, "dingtalk_app", locale, sample_context(step, locale)
        )
        msg = build_msg(_message("dingtalk_app", text=rendered.text))
        content = msg.get("action_card") or msg["markdown"]
        assert 0 < len(content["title"]) <= 64, step
        assert "{" not in rendered.text and "None" not in rendered.text, step
        if step in ("remind", "assign"):  # card templates: a summary with fields and the link
            assert msg["msgtype"] == "action_card", step
            assert content["single_url"].startswith("http"), step
            assert content["markdown"].count("\n- ") >= 3, step


async def test_dingtalk_token_cached_refreshed_and_renewed(clock: FixedClock) -> None:
    async with FakeDingTalk(clock=clock, users={"zhangsan"}) as fake:
        channel = _dingtalk(fake, clock)
        for n in range(3):
            await channel.send(_message("dingtalk_app", n + 1))
        assert fake.tokens_issued == 1
        clock.advance(timedelta(seconds=7200 - 200))  # inside the refresh margin
        await channel.send(_message("dingtalk_app", 4))
        assert fake.tokens_issued == 2
        fake.expire_tokens()  # 42001: renewed once, the send goes through
        await channel.send(_message("dingtalk_app", 5))
        fake.revoke_tokens()  # 40014 likewise
        await channel.send(_message("dingtalk_app", 6))
        await channel.close()
    assert fake.tokens_issued == 4 and len(fake.sent) == 6


async def test_dingtalk_token_shared_through_redis(clock: FixedClock, redis_url: str) -> None:
    from redis.asyncio import Redis

    async with FakeDingTalk(clock=clock, users={"zhangsan"}) as fake:
        workers = [
            _dingtalk(fake, clock, store=SharedTokenStore(Redis.from_url(redis_url), "t:dt"))
            for _ in range(3)
        ]
        for n, worker in enumerate(workers):
            await worker.send(_message("dingtalk_app", n + 1))
        for worker in workers:
            await worker.close()
    assert fake.tokens_issued == 1 and len(fake.sent) == 3


async def test_dingtalk_error_codes(clock: FixedClock) -> None:
    async with FakeDingTalk(clock=clock, users={"zhangsan"}) as fake:
        channel = _dingtalk(fake, clock)
        fake.fail_next(90018)
        with pytest.raises(RateLimited) as caught:
            await channel.send(_message("dingtalk_app"))
        assert caught.value.retry_after >= 60 and caught.value.pause_key == channel.app_key
        fake.fail_next(-1)  # system busy: try again later
        with pytest.raises(TransientError) as busy:
            await channel.send(_message("dingtalk_app"))
        assert not isinstance(busy.value, RateLimited)
        with pytest.raises(PermanentError, match="33012"):
            await channel.send(_message("dingtalk_app", to="nobody"))
        with pytest.raises(PermanentError, match="userid"):
            await channel.send(_message("dingtalk_app", to="bad id;drop"))
        await channel.close()
        wrong = _dingtalk(fake, clock, secret="wrong-secret")
        with pytest.raises(PermanentError, match="40089") as bad:
            await wrong.send(_message("dingtalk_app"))
        assert "wrong-secret" not in str(bad.value) and fake.app_secret not in str(bad.value)
        await wrong.close()
    assert fake.sent == []


async def test_dingtalk_unreachable_is_transient(clock: FixedClock) -> None:
    async with FakeDingTalk(clock=clock) as fake:
        channel = _dingtalk(fake, clock)
    with pytest.raises(TransientError, match="network"):
        await channel.send(_message("dingtalk_app"))
    await channel.close()


# Feishu


async def test_feishu_sends_a_card_with_the_item_link(clock: FixedClock) -> None:
    open_id = "ou_7d8a6e6df7621556ce0d21922b676706"
    async with FakeFeishu(clock=clock, users={"zhangsan", open_id}) as fake:
        channel = _feishu(fake, clock)
        result = await channel.send(_message("feishu_app"))
        await channel.send(_message("feishu_app", 2, to=open_id))
        await channel.close()
    first, second = fake.sent
    assert result.provider_message_id == first.message_id
    assert (first.receive_id_type, second.receive_id_type) == ("user_id", "open_id")
    assert first.body["msg_type"] == "interactive" and first.body["uuid"] == "duban-n1"
    card = first.content
    assert card["header"]["title"]["content"] == "督办提醒｜DB-2026-001"
    flat = json.dumps(card, ensure_ascii=False)
    assert "推进老旧小区改造" in flat and "**责任人**\\n张三" in flat and "请按时办结" in flat
    [action] = [e for e in card["elements"] if e["tag"] == "action"]
    [button] = action["actions"]
    assert button["url"] == "https://duban.example/items/7"
    assert button["text"]["content"] == "查看详情"


def test_feishu_escapes_people_words() -> None:
    text = '标题 <at user_id="all">\n描述 [x](http://evil.example)\n\n正文 @所有人'
    card = feishu_card(_message("feishu_app", text=text))
    flat = json.dumps(card, ensure_ascii=False)
    assert "[x](" not in flat and "<at" not in flat.replace("<at user_id", "")
    assert "@所有人" not in flat and "＠所有人" in flat
    assert not [e for e in card["elements"] if e["tag"] == "action"]


async def test_feishu_resend_of_a_row_is_not_shown_twice(clock: FixedClock) -> None:
    async with FakeFeishu(clock=clock, users={"zhangsan"}) as fake:
        channel = _feishu(fake, clock)
        first = await channel.send(_message("feishu_app", 7))
        again = await channel.send(_message("feishu_app", 7))  # same row, e.g. after a crash
        await channel.close()
    assert len(fake.sent) == 1 and first == again


async def test_feishu_token_cached_refreshed_and_renewed(clock: FixedClock) -> None:
    async with FakeFeishu(clock=clock, users={"zhangsan"}) as fake:
        channel = _feishu(fake, clock)
        for n in range(3):
            await channel.send(_message("feishu_app", n + 1))
        assert fake.tokens_issued == 1
        clock.advance(timedelta(seconds=7200 - 100))
        await channel.send(_message("feishu_app", 4))
        assert fake.tokens_issued == 2
        fake.expire_tokens()  # 99991663: renewed once
        await channel.send(_message("feishu_app", 5))
        await channel.close()
    assert fake.tokens_issued == 3 and len(fake.sent) == 5


async def test_feishu_error_codes(clock: FixedClock) -> None:
    async with FakeFeishu(clock=clock, users={"zhangsan"}) as fake:
        channel = _feishu(fake, clock)
        fake.fail_next(99991400)  # HTTP 429 with x-ogw-ratelimit-reset: 7
        with pytest.raises(RateLimited) as app_limit:
            await channel.send(_message("feishu_app"))
        assert app_limit.value.retry_after == 7 and app_limit.value.pause_key == channel.app_key
        fake.fail_next(230020)  # one person's limit pauses that person only
        with pytest.raises(RateLimited) as user_limit:
            await channel.send(_message("feishu_app"))
        assert user_limit.value.pause_key == f"{channel.app_key}:uzhangsan"
        with pytest.raises(PermanentError, match="230013"):
            await channel.send(_message("feishu_app", to="left_the_office"))
        with pytest.raises(PermanentError, match="user_id"):
            await channel.send(_message("feishu_app", to="bad id"))
        await channel.close()
        wrong = _feishu(fake, clock, secret="wrong-secret")
        with pytest.raises(PermanentError, match="10014") as bad:
            await wrong.send(_message("feishu_app"))
        assert "wrong-secret" not in str(bad.value)
        await wrong.close()
    assert fake.sent == []


# the real delivery path


@pytest.mark.parametrize("platform", ["dingtalk_app", "feishu_app"])
async def test_a_queued_reminder_goes_out_and_falls_back_once(
    sessions, clock: FixedClock, platform: str
) -> None:
    """A step's chat reaches the person's bound app through delivery; when the platform
    refuses the person for good, the message goes once by e-mail (the log stands in)."""
    column = "dingtalk_userid" if platform == "dingtalk_app" else "feishu_user_id"
    case = await reminder(sessions, clock, chat_id=None, channels=(), email="wang@example.gov.cn")
    async with sessions() as s:
        setattr(await s.get_one(Person, case.owner.id), column, "wangjianguo")
        await s.commit()
        case.owner = await s.get_one(Person, case.owner.id)
    await reminder(sessions, clock, channels=("chat",), case=case, occurrence="x")
    await reminder(sessions, clock, channels=("chat",), case=case, kind="urge", occurrence="y")
    async with FakeDingTalk(clock=clock) as dt, FakeFeishu(clock=clock) as fs:
        fake = dt if platform == "dingtalk_app" else fs
        fake.users.add("wangjianguo")
        log_channel = LogChannel()
        channel = _dingtalk(dt, clock) if platform == "dingtalk_app" else _feishu(fs, clock)
        channels = ChannelRegistry([log_channel, channel], substitute=log_channel)
        deliverer = Deliverer(
            sessions, channels=channels, renderer=Renderer(), clock=clock,
            limiter=limiter_for(clock), options=options(),
        )  # fmt: skip
        assert await deliverer.deliver_due() == {"sent": 2}
        fake.expire_tokens()  # the token lapsed between rounds: renewed, the row still goes out
        await reminder(
            sessions, clock, channels=("chat",), case=case, kind="overdue", occurrence="o"
        )
        assert await deliverer.deliver_due() == {"sent": 1}
        fake.users.clear()  # the person left: the next reminder is refused for good
        await reminder(sessions, clock, channels=("chat",), case=case, occurrence="z")
        assert await deliverer.deliver_due() == {"failed": 1, "sent": 1}
        await channels.close()
    assert len(fake.sent) == 3 and fake.tokens_issued == 2
    async with sessions() as s:
        rows = (await s.scalars(select(Notification).order_by(Notification.id))).all()
    assert [(r.channel, r.status) for r in rows] == [
        (platform, "sent"), (platform, "sent"), (platform, "sent"), (platform, "failed"),
        ("email", "sent"),
    ]  # fmt: skip
    assert rows[4].fallback_of_id == rows[3].id and rows[4].address == "wang@example.gov.cn"
    assert rows[0].provider_message_id


def test_the_apps_can_be_named_in_a_channel_preference() -> None:
    from types import SimpleNamespace

    from models import Channel
    from supervision.channel_prefs import parse_prefs
    from supervision.outbox import person_addresses

    assert parse_prefs("钉钉工作通知；飞书；电子邮件") == (
        Channel.DINGTALK_APP, Channel.FEISHU_APP, Channel.EMAIL,
    )  # fmt: skip
    assert parse_prefs("feishu_app,dingtalk_app") == (Channel.FEISHU_APP, Channel.DINGTALK_APP)
    person = SimpleNamespace(
        email="a@b.cn", telegram_chat_id=None, wecom_userid=None, dingtalk_userid="d1",
        feishu_user_id="ou_1", channel_prefs="feishu_app,email",
    )  # fmt: skip
    assert person_addresses(person, ["chat", "email"]) == [("feishu_app", "ou_1")]
