"""The WeCom application channel against the fake WeCom server: template cards with the
reminder buttons, the access token cached / refreshed / shared through Redis, 40014/42001
renewal, 45009 rate limits and unknown userids."""

from __future__ import annotations

from datetime import timedelta

import pytest

from notifier.channels.base import OutgoingMessage, PermanentError, RateLimited, TransientError
from notifier.channels.telegram import AssignmentAction
from notifier.channels.wecom_app import WeComAppChannel, build_card
from notifier.templating import Renderer, sample_context
from notifier.wecom.api import RedisTokenStore, WeComApi, WeComConfig
from supervision.clock import FixedClock
from testing.fakes.wecom import FakeWeCom

TEXT = """督办提醒｜DB-2026-001
推进老旧小区改造
责任单位：住建局（牵头）
责任人：张三
完成时限：2026年11月30日

张三同志：该事项将于2026年11月30日到期，请按时办结并报送办理情况。
"""


def _message(n: int = 1, *, to: str = "zhangsan", text: str = TEXT) -> OutgoingMessage:
    return OutgoingMessage(
        notification_id=n,
        kind="remind",
        channel="wecom_app",
        address=to,
        text=text,
        assignment_id=12,
        buttons=True,
    )


def _config(fake: FakeWeCom, secret: str | None = None) -> WeComConfig:
    return WeComConfig(
        corp_id=fake.corp_id,
        agent_id=fake.agent_id,
        secret=secret or fake.secret,
        api_base=fake.base_url,
    )


def _channel(fake: FakeWeCom, clock: FixedClock) -> WeComAppChannel:
    return WeComAppChannel(WeComApi(_config(fake), clock=clock))


async def test_reminder_goes_as_a_button_card(clock: FixedClock) -> None:
    async with FakeWeCom(clock=clock, users={"zhangsan"}) as fake:
        channel = _channel(fake, clock)
        result = await channel.send(_message())
        await channel.close()
    [sent] = fake.sent
    assert result.provider_message_id == sent.msgid
    assert sent.touser == ["zhangsan"] and sent.body["agentid"] == fake.agent_id
    card = sent.card
    assert card["card_type"] == "button_interaction"
    assert card["main_title"] == {"title": "督办提醒｜DB-2026-001", "desc": "推进老旧小区改造"}
    assert {"keyname": "责任人", "value": "张三"} in card["horizontal_content_list"]
    assert "请按时办结" in card["sub_title_text"]
    labels = [b["text"] for b in card["button_list"]]
    assert labels == ["填报进展", "申请办结", "申请延期", "查看详情"]
    keys = [AssignmentAction.unpack(b["key"]) for b in card["button_list"]]
    assert [(k.action, k.assignment_id) for k in keys] == [
        ("r", 12),
        ("c", 12),
        ("e", 12),
        ("v", 12),
    ]
    assert card["task_id"] == "duban-n1"


def test_card_link_and_field_limits() -> None:
    long_value = "很长的单位名称" * 10
    text = f"标题\n描述\n单位：{long_value}\n@url https://duban.example/items/7\n\n正文"
    card = build_card(_message(text=text))
    assert card["card_action"] == {"type": 1, "url": "https://duban.example/items/7"}
    assert card["button_list"][-1] == {
        "type": 1,
        "text": "查看详情",
        "style": 4,
        "url": "https://duban.example/items/7",
    }
    [field] = card["horizontal_content_list"]
    assert len(field["value"]) == 26 and field["value"].endswith("…")
    assert card["sub_title_text"] == "正文"


@pytest.mark.parametrize("locale", ["zh", "en"])
async def test_default_card_templates_fit_the_card(locale: str) -> None:
    for step in ("remind", "urge", "overdue", "escalate", "periodic"):
        rendered = await Renderer().render(step, "wecom_app", locale, sample_context(step, locale))
        card = build_card(_message(text=rendered.text))
        assert len(card["main_title"]["title"]) <= 36, step
        assert 3 <= len(card["horizontal_content_list"]) <= 6, step
        assert "{" not in rendered.text and "None" not in rendered.text


async def test_token_is_cached_and_refreshed_before_expiry(clock: FixedClock) -> None:
    async with FakeWeCom(clock=clock, users={"zhangsan"}) as fake:
        channel = _channel(fake, clock)
        for n in range(3):
            await channel.send(_message(n + 1))
        assert fake.tokens_issued == 1
        clock.advance(timedelta(seconds=7200 - 200))  # inside the refresh margin
        await channel.send(_message(4))
        assert fake.tokens_issued == 2
        await channel.close()


@pytest.mark.parametrize("stale", ["expire", "revoke"])
async def test_expired_or_invalid_token_is_renewed_once(clock: FixedClock, stale: str) -> None:
    async with FakeWeCom(clock=clock, users={"zhangsan"}) as fake:
        channel = _channel(fake, clock)
        await channel.send(_message(1))
        fake.expire_tokens() if stale == "expire" else fake.revoke_tokens()
        await channel.send(_message(2))
        await channel.close()
    assert fake.tokens_issued == 2 and len(fake.sent) == 2


async def test_token_shared_across_workers_through_redis(clock: FixedClock, redis_url: str) -> None:
    from redis.asyncio import Redis

    async with FakeWeCom(clock=clock, users={"zhangsan"}) as fake:
        workers = [
            WeComAppChannel(
                WeComApi(
                    _config(fake),
                    clock=clock,
                    store=RedisTokenStore(Redis.from_url(redis_url), fake.corp_id, fake.agent_id),
                )
            )
            for _ in range(3)
        ]
        for n, worker in enumerate(workers):
            await worker.send(_message(n + 1))
        assert fake.tokens_issued == 1
        fake.expire_tokens()
        await workers[0].send(_message(10))  # renews for everyone
        await workers[1].send(_message(11))
        assert fake.tokens_issued == 2
        for worker in workers:
            await worker.close()


async def test_rate_limit_pauses_the_app(clock: FixedClock) -> None:
    async with FakeWeCom(clock=clock, users={"zhangsan"}) as fake:
        channel = _channel(fake, clock)
        fake.fail_next(45009)
        with pytest.raises(RateLimited) as caught:
            await channel.send(_message())
        assert caught.value.retry_after >= 60 and caught.value.pause_key == channel.app_key
        await channel.send(_message())  # the retry goes through
        await channel.close()
    assert len(fake.sent) == 1


async def test_unknown_user_and_bad_secret(clock: FixedClock) -> None:
    async with FakeWeCom(clock=clock, users={"zhangsan"}) as fake:
        channel = _channel(fake, clock)
        with pytest.raises(PermanentError, match="81013"):
            await channel.send(_message(to="nobody"))
        with pytest.raises(PermanentError, match="userid"):
            await channel.send(_message(to="bad id;drop"))
        await channel.close()
        wrong = WeComAppChannel(WeComApi(_config(fake, secret="wrong"), clock=clock))
        with pytest.raises(PermanentError, match="40001") as caught:
            await wrong.send(_message())
        assert "wrong" not in str(caught.value) and fake.secret not in str(caught.value)
        await wrong.close()
    assert fake.sent == []


async def test_unreachable_server_is_transient(clock: FixedClock) -> None:
    async with FakeWeCom(clock=clock, users={"zhangsan"}) as fake:
        config = _config(fake)
    channel = WeComAppChannel(WeComApi(config, clock=clock))  # the fake has stopped
    with pytest.raises(TransientError, match="network"):
        await channel.send(_message())
    await channel.close()


async def test_a_queued_reminder_goes_out_as_a_card(sessions, clock: FixedClock) -> None:
    """A step's chat channel queues a wecom_app row for a bound person; delivery sends the
    rendered card through the fake and marks the row sent."""
    from sqlalchemy import select

    from models import Notification, Person
    from notifier.channels.base import ChannelRegistry
    from notifier.channels.log import LogChannel
    from notifier.delivery import Deliverer
    from testing.notifier_support import limiter_for, options, reminder

    case = await reminder(sessions, clock, chat_id=None, channels=())
    async with sessions() as s:
        (await s.get_one(Person, case.owner.id)).wecom_userid = "wangjianguo"
        await s.commit()
        case.owner = await s.get_one(Person, case.owner.id)
    case = await reminder(sessions, clock, channels=("chat",), case=case, occurrence="x")
    async with FakeWeCom(clock=clock, users={"wangjianguo"}) as fake:
        log_channel = LogChannel()
        channels = ChannelRegistry([log_channel, _channel(fake, clock)], substitute=log_channel)
        counts = await Deliverer(
            sessions, channels=channels, renderer=Renderer(), clock=clock,
            limiter=limiter_for(clock), options=options(),
        ).deliver_due()  # fmt: skip
        await channels.close()
    assert counts == {"sent": 1}
    [sent] = fake.sent
    assert sent.touser == ["wangjianguo"]
    assert "老旧小区改造" in sent.card["main_title"]["desc"]
    assert [b["text"] for b in sent.card["button_list"]][:3] == ["填报进展", "申请办结", "申请延期"]
    async with sessions() as s:
        row = (await s.scalars(select(Notification))).one()
    assert (row.channel, row.status, row.provider_message_id) == ("wecom_app", "sent", sent.msgid)


@pytest.mark.parametrize("on_telegram", [False, True])
async def test_unknown_userid_falls_back_to_one_email(
    sessions, clock: FixedClock, on_telegram: bool
) -> None:
    """WeCom refuses the userid (and Telegram, when the person is there too, has blocked the
    bot): the chat rows fail for good and the person gets the message once, by e-mail (the
    log channel stands in for SMTP)."""
    from sqlalchemy import select

    from models import Notification, Person
    from notifier.channels.base import ChannelRegistry
    from notifier.channels.log import LogChannel
    from notifier.channels.telegram import TelegramChannel
    from notifier.delivery import Deliverer
    from testing.fakes.telegram import FakeTelegram
    from testing.notifier_support import limiter_for, options, reminder

    chat_id = 555 if on_telegram else None
    case = await reminder(
        sessions, clock, channels=(), email="wang@example.gov.cn", chat_id=chat_id
    )
    async with sessions() as s:
        (await s.get_one(Person, case.owner.id)).wecom_userid = "left-the-office"
        await s.commit()
        case.owner = await s.get_one(Person, case.owner.id)
    await reminder(sessions, clock, channels=("chat",), case=case, occurrence="y")
    async with (
        FakeWeCom(clock=clock, users={"someone-else"}) as fake,
        FakeTelegram(
            global_rate=None, per_chat_rate=None, clock=lambda: clock.now().timestamp()
        ) as tg,
    ):
        tg.block(555)
        log_channel = LogChannel()
        channels = ChannelRegistry(
            [
                log_channel,
                _channel(fake, clock),
                TelegramChannel(tg.token, api_base=tg.base_url),
            ],
            substitute=log_channel,
        )
        counts = await Deliverer(
            sessions, channels=channels, renderer=Renderer(), clock=clock,
            limiter=limiter_for(clock), options=options(),
        ).deliver_due()  # fmt: skip
        await channels.close()
    assert counts == {"failed": 1 + on_telegram, "sent": 1}
    async with sessions() as s:
        rows = (await s.scalars(select(Notification).order_by(Notification.id))).all()
    by_channel = {r.channel: r for r in rows}
    assert sorted(by_channel) == ["email", *(["telegram"] if on_telegram else []), "wecom_app"]
    assert "81013" in (by_channel["wecom_app"].last_error or "")
    assert by_channel["email"].fallback_of_id in {r.id for r in rows if r.channel != "email"}
    assert by_channel["email"].address == "wang@example.gov.cn"
