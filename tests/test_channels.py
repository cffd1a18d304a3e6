"""Channels one by one: group robots against a small aiohttp fake (JSON bodies, DingTalk and
Feishu signatures, error codes), Telegram against the fake Bot API (trimming, buttons, error
mapping, no token in errors), the log channel, the in-memory limiter, template overrides."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
from datetime import timedelta
from urllib.parse import unquote

import pytest
from aiohttp import web
from sqlalchemy import select

from models import AuditEvent, DeliveryAttempt, GroupWebhook, Notification, Template
from notifier.channels.base import (
    ChannelRegistry,
    OutgoingMessage,
    PermanentError,
    RateLimited,
    TransientError,
    redact_url,
)
from notifier.channels.log import LogChannel
from notifier.channels.telegram import AssignmentAction, TelegramChannel, reminder_keyboard
from notifier.channels.webhooks import (
    ROBOT_PAUSE_SECONDS,
    DingTalkChannel,
    FeishuChannel,
    WeComChannel,
)
from notifier.delivery import Deliverer
from notifier.ratelimit import MemoryLimiter, Rate
from notifier.template_store import (
    DbTemplateStore,
    TemplateRejected,
    history,
    reset_override,
    save_override,
)
from notifier.templating import Renderer, sample_context
from supervision.audit import Actor
from supervision.outbox import notify_unit_groups
from testing.fakes.telegram import FakeTelegram, parse_html
from testing.notifier_support import clock_sleep, limiter_for, options, registry, reminder

KEY = "5c0ffee0-robot-key-secret"
SECRET = "SECdingtalk-signing-secret"


class Robots:
    """A fake WeCom / DingTalk / Feishu robot endpoint: records requests, answers ``answer``."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict, dict]] = []
        self.answer: dict = {"errcode": 0, "errmsg": "ok"}
        self.status = 200
        self.headers: dict[str, str] = {}

    async def handle(self, request: web.Request) -> web.Response:
        self.requests.append((request.path, dict(request.query), await request.json()))
        return web.json_response(self.answer, status=self.status, headers=self.headers)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/{tail:.*}", self.handle)
        return app


@pytest.fixture
async def robots(aiohttp_client_factory):
    fake = Robots()
    client = await aiohttp_client_factory(fake.app())
    fake.base = str(client.make_url("")).rstrip("/")
    return fake


def msg(**kw) -> OutgoingMessage:
    base = {"notification_id": 1, "kind": "remind", "channel": "wecom", "address": None}
    base.update(kw)
    base.setdefault("text", "**督办提醒**\n请按时报送")
    return OutgoingMessage(**base)


async def test_wecom_posts_markdown(robots, clock):
    channel = WeComChannel(clock=clock)
    url = f"{robots.base}/cgi-bin/webhook/send?key={KEY}"
    await channel.send(msg(webhook_url=url, webhook_id=3))
    await channel.close()
    [(path, query, body)] = robots.requests
    assert path == "/cgi-bin/webhook/send" and query == {"key": KEY}
    assert body == {"msgtype": "markdown", "markdown": {"content": "**督办提醒**\n请按时报送"}}
    assert channel.rates(msg(webhook_id=3)) == (Rate("wecom:w3", 20 / 60),)


async def test_dingtalk_signs_with_timestamp_and_hmac(robots, clock):
    channel = DingTalkChannel(clock=clock)
    url = f"{robots.base}/robot/send?access_token={KEY}"
    await channel.send(msg(channel="dingtalk", subject="督办提醒", webhook_url=url,
                           webhook_secret=SECRET))  # fmt: skip
    await channel.close()
    [(_, query, body)] = robots.requests
    assert body["msgtype"] == "markdown"
    assert body["markdown"] == {"title": "督办提醒", "text": "**督办提醒**\n请按时报送"}
    ts = query["timestamp"]
    assert int(ts) == int(clock.now().timestamp() * 1000)
    expected = base64.b64encode(
        hmac.new(SECRET.encode(), f"{ts}\n{SECRET}".encode(), hashlib.sha256).digest()
    ).decode()
    assert unquote(query["sign"]) == expected or query["sign"] == expected
    assert query["access_token"] == KEY


async def test_feishu_text_with_signature(robots, clock):
    channel = FeishuChannel(clock=clock)
    url = f"{robots.base}/open-apis/bot/v2/hook/{KEY}"
    robots.answer = {"code": 0, "msg": "success"}
    await channel.send(msg(channel="feishu", text="督办提醒", webhook_url=url,
                           webhook_secret=SECRET))  # fmt: skip
    await channel.close()
    [(_, _, body)] = robots.requests
    ts = str(int(clock.now().timestamp()))
    sign = base64.b64encode(
        hmac.new(f"{ts}\n{SECRET}".encode(), b"", hashlib.sha256).digest()
    ).decode()
    assert body == {
        "msg_type": "text",
        "content": {"text": "督办提醒"},
        "timestamp": ts,
        "sign": sign,
    }


@pytest.mark.parametrize(
    ("cls", "answer", "status", "error"),
    [
        (WeComChannel, {"errcode": 45009, "errmsg": "api freq out of limit"}, 200, RateLimited),
        (WeComChannel, {"errcode": 93000, "errmsg": "invalid webhook url"}, 200, PermanentError),
        (DingTalkChannel, {"errcode": 130101, "errmsg": "send too fast"}, 200, RateLimited),
        (DingTalkChannel, {"errcode": 310000, "errmsg": "sign not match"}, 200, PermanentError),
        (FeishuChannel, {"code": 9499, "msg": "too many request"}, 200, RateLimited),
        (FeishuChannel, {"code": 19021, "msg": "sign match fail"}, 200, PermanentError),
        (WeComChannel, {}, 502, TransientError),
        (DingTalkChannel, {}, 429, RateLimited),
        (FeishuChannel, {}, 404, PermanentError),
    ],
)
async def test_robot_errors_are_classified_and_keys_redacted(
    robots, clock, cls, answer, status, error
):
    robots.answer, robots.status = answer, status
    channel = cls(clock=clock)
    url = f"{robots.base}/cgi-bin/webhook/send?key={KEY}"
    with pytest.raises(error) as caught:
        await channel.send(
            msg(channel=cls.kind, webhook_id=7, webhook_url=url, webhook_secret=SECRET)
        )
    await channel.close()
    assert KEY not in str(caught.value) and SECRET not in str(caught.value)
    if error is RateLimited:  # the robot's own rate is paused for the platform's minute
        assert caught.value.pause_key == f"{cls.kind}:w7"
        assert caught.value.retry_after == ROBOT_PAUSE_SECONDS
    else:
        assert not isinstance(caught.value, RateLimited)


async def test_robot_429_pauses_for_its_retry_after_and_the_limiter_holds_it(robots, clock):
    robots.answer, robots.status, robots.headers = {}, 429, {"Retry-After": "12"}
    channel = WeComChannel(clock=clock)
    message = msg(webhook_id=7, webhook_url=f"{robots.base}/send?key={KEY}")
    with pytest.raises(RateLimited) as caught:
        await channel.send(message)
    await channel.close()
    assert caught.value.retry_after == 12.0
    limiter = MemoryLimiter(clock, sleep=clock_sleep(clock))
    await limiter.pause(caught.value.pause_key, caught.value.retry_after)
    assert await limiter.paused_for(channel.rates(message)) == pytest.approx(12.0)
    other = msg(webhook_id=8, webhook_url=f"{robots.base}/send?key={KEY}")
    assert await limiter.paused_for(channel.rates(other)) == 0.0


async def test_robot_unreachable_is_transient_without_the_key(clock):
    channel = WeComChannel(clock=clock, timeout=2)
    with pytest.raises(TransientError) as caught:
        await channel.send(msg(webhook_url=f"http://127.0.0.1:1/send?key={KEY}"))
    await channel.close()
    assert KEY not in str(caught.value)
    assert redact_url(f"https://h.cn/open-apis/bot/v2/hook/{KEY}") == (
        "https://h.cn/open-apis/bot/v2/hook/***"
    )


async def test_group_rows_delivered_through_the_outbox(sessions, clock, robots, caplog):
    caplog.set_level(logging.DEBUG)
    case = await reminder(sessions, clock, channels=())
    async with sessions() as s, s.begin():
        for kind, path in (("wecom", "/wecom"), ("dingtalk", "/dingtalk"), ("feishu", "/feishu")):
            s.add(
                GroupWebhook(
                    name=f"{kind} 群", kind=kind, url=f"{robots.base}{path}?key={KEY}",
                    secret=SECRET if kind != "wecom" else None, unit_id=case.unit.id,
                )
            )  # fmt: skip
        await s.flush()
        ids = await notify_unit_groups(
            s,
            unit_id=case.unit.id,
            kind="overdue",
            key=f"a{case.assignment.id}:overdue:0",
            not_before=clock.now(),
            now=clock.now(),
            assignment_id=case.assignment.id,
            item_id=case.item.id,
        )
    assert len(ids) == 3
    robots.answer = {"errcode": 0, "errmsg": "ok", "code": 0}
    channels = registry(clock=clock, groups=True)
    counts = await Deliverer(
        sessions,
        channels=channels,
        renderer=Renderer(),
        clock=clock,
        limiter=limiter_for(clock),
        options=options(),
    ).deliver_due()
    await channels.close()
    assert counts == {"sent": 3}
    paths = sorted(path for path, _, _ in robots.requests)
    assert paths == ["/dingtalk", "/feishu", "/wecom"]
    wecom = next(body for path, _, body in robots.requests if path == "/wecom")
    assert "市住房和城乡建设局" in wecom["markdown"]["content"]
    # Apart from the driver echoing the test's own INSERT and the fake robot's access log
    # (the provider's side), no log line shows the key.
    theirs = ("aiosqlite", "aiohttp.access")
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name not in theirs)
    assert KEY not in ours and SECRET not in ours


async def test_closed_robot_is_not_used(sessions, clock, robots):
    case = await reminder(sessions, clock, channels=())
    async with sessions() as s, s.begin():
        hook = GroupWebhook(name="群", kind="wecom", url=f"{robots.base}/w?key={KEY}",
                            unit_id=case.unit.id)  # fmt: skip
        s.add(hook)
        await s.flush()
        await notify_unit_groups(
            s,
            unit_id=case.unit.id,
            kind="overdue",
            key="k",
            not_before=clock.now(),
            now=clock.now(),
            assignment_id=case.assignment.id,
        )
        hook.active = False
    counts = await Deliverer(
        sessions, channels=registry(clock=clock, groups=True), renderer=Renderer(),
        clock=clock, limiter=limiter_for(clock), options=options(),
    ).deliver_due()  # fmt: skip
    assert counts == {"cancelled": 1} and robots.requests == []


# --- Telegram -------------------------------------------------------------------------------


@pytest.fixture
async def tg():
    async with FakeTelegram(global_rate=None, per_chat_rate=None) as fake:
        yield fake


async def test_long_text_is_trimmed_without_breaking_tags(tg):
    channel = TelegramChannel(tg.token, api_base=tg.base_url)
    text = "<b>督办提醒</b>\n" + "<i>" + ("进展情况说明，" * 800) + "</i>" + "<b>结尾</b>"
    assert len(text) > 4096
    await channel.send(msg(channel="telegram", address="42", text=text))
    await channel.close()
    [sent] = tg.sent
    assert len(sent.text) <= 4096 and sent.text.endswith("…")
    parse_html(sent.raw_text)  # balanced, valid Telegram HTML


async def test_buttons_carry_short_callback_data():
    keyboard = reminder_keyboard(123456789, "en")
    row = keyboard.inline_keyboard[0]
    assert [b.text for b in row] == ["Report progress", "Ask to close", "Ask for extension"]
    assert all(len(b.callback_data.encode()) <= 64 for b in row)
    action = AssignmentAction.unpack(row[2].callback_data)
    assert (action.action, action.assignment_id) == ("e", 123456789)


async def test_telegram_errors_are_mapped_and_the_token_is_never_shown(tg, caplog):
    caplog.set_level(logging.DEBUG)
    channel = TelegramChannel(tg.token, api_base=tg.base_url)
    tg.block(1)
    with pytest.raises(PermanentError, match="blocked by the user"):
        await channel.send(msg(channel="telegram", address="1"))
    tg.forget(2)
    with pytest.raises(PermanentError, match="chat not found"):
        await channel.send(msg(channel="telegram", address="2"))
    tg.fail_next(1, 500)
    with pytest.raises(TransientError) as transient:
        await channel.send(msg(channel="telegram", address="3"))
    tg.force_429(1, retry_after=4)
    with pytest.raises(RateLimited) as limited:
        await channel.send(msg(channel="telegram", address="3"))
    with pytest.raises(PermanentError):
        await channel.send(msg(channel="telegram", address="not-a-chat"))
    await channel.close()
    assert limited.value.retry_after == 4 and limited.value.pause_key == "tg:123456"
    assert tg.token not in str(transient.value) and tg.token not in caplog.text


async def test_telegram_network_down_is_transient():
    channel = TelegramChannel("123456:SECRET-TOKEN", api_base="http://127.0.0.1:1", timeout=2)
    with pytest.raises(TransientError) as caught:
        await channel.send(msg(channel="telegram", address="5"))
    await channel.close()
    assert "SECRET-TOKEN" not in str(caught.value)


# --- log channel, registry, limiter ---------------------------------------------------------


async def test_log_channel_stands_in_visibly(caplog):
    caplog.set_level(logging.INFO)
    log_channel = LogChannel()
    reg = ChannelRegistry([log_channel], substitute=log_channel)
    assert reg.get("telegram") is log_channel and not reg.configured("telegram")
    result = await reg.get("telegram").send(msg(channel="telegram", address="9", text="提醒正文"))
    assert result.substituted_by == "log" and "NOT SENT" in (result.note or "")
    assert "NOT SENT (log channel) (telegram is not configured)" in caplog.text
    assert "提醒正文" in caplog.text
    with pytest.raises(KeyError):
        ChannelRegistry([]).get("email")


async def test_telegram_without_token_goes_to_the_log_channel(sessions, clock):
    case = await reminder(sessions, clock, channels=("chat",))
    counts = await Deliverer(
        sessions, channels=registry(), renderer=Renderer(), clock=clock,
        limiter=limiter_for(clock), options=options(),
    ).deliver_due()  # fmt: skip
    assert counts == {"sent": 1}
    async with sessions() as s:
        row = await s.get_one(Notification, case.ids[0])
        [attempt] = (await s.scalars(select(DeliveryAttempt))).all()
    assert row.status == "sent" and row.chat_message_id is None
    assert attempt.channel == "log" and "telegram is not configured" in (attempt.error or "")


async def test_memory_limiter_spreads_and_pauses(clock):
    limiter = MemoryLimiter(clock, sleep=clock_sleep(clock))
    chat = Rate("c", 1.0)
    assert await limiter.try_acquire([chat]) == 0
    assert await limiter.try_acquire([chat]) == pytest.approx(1.0)
    start = clock.now()
    assert await limiter.acquire([chat], max_wait=5) == 0  # slept (moved the clock) 1 s
    assert clock.now() - start == timedelta(seconds=1)
    await limiter.pause("c", 30)
    assert await limiter.acquire([chat], max_wait=5) == pytest.approx(30.0)  # too long: defer
    burst = Rate("b", 10.0, burst=3)
    assert [await limiter.try_acquire([burst]) == 0 for _ in range(4)] == [True] * 3 + [False]


# --- template overrides ---------------------------------------------------------------------


async def test_overrides_are_validated_versioned_and_used(sessions, clock):
    actor = Actor.system("admin")
    async with sessions() as s, s.begin():
        with pytest.raises(TemplateRejected):
            await save_override(s, step="remind", channel="telegram", locale="zh", part="text",
                                body="{{ nope.x }", actor=actor, clock=clock)  # fmt: skip
    async with sessions() as s, s.begin():
        saved = await save_override(
            s, step="remind", channel="telegram", locale="zh", part="text",
            body="【提醒】{{ recipient_name }}：{{ item.title }}", actor=actor, clock=clock,
        )  # fmt: skip
        assert "王建国" in saved.preview
        await save_override(
            s, step="remind", channel="telegram", locale="zh", part="text",
            body="【提醒2】{{ recipient_name }}", actor=actor, clock=clock,
        )  # fmt: skip
    store = DbTemplateStore(sessions, ttl=0)
    rendered = await Renderer(store).render(
        "remind", "telegram", "zh", sample_context("remind", "zh")
    )
    assert rendered.text == "【提醒2】王建国"
    async with sessions() as s, s.begin():
        assert await reset_override(
            s, step="remind", channel="telegram", locale="zh", part="text", actor=actor,
            clock=clock,
        )  # fmt: skip
        versions = await history(s, step="remind", channel="telegram", locale="zh", part="text")
        audits = (await s.scalars(select(AuditEvent.action).order_by(AuditEvent.id))).all()
        assert (await s.scalars(select(Template))).all() == []
    assert [v.version for v in versions] == [1, 2, 3] and versions[-1].body == ""
    assert audits == ["template.save", "template.save", "template.reset"]
    default = await Renderer(store).render(
        "remind", "telegram", "zh", sample_context("remind", "zh")
    )
    assert "【提醒2】" not in default.text


@pytest.mark.parametrize(
    ("base", "waits"), [("http://127.0.0.1:8081", []), ("https://api.example", [0.25])]
)
async def test_a_bot_api_session_waits_on_close_only_for_tls(monkeypatch, base, waits):
    """aiogram waits 250 ms after closing, for TLS connections to shut down; a Bot API server
    over plain HTTP (a local telegram-bot-api) has none, and its session closes at once."""
    import aiogram.client.session.aiohttp as aiogram_aiohttp

    from notifier.channels.telegram import telegram_session

    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    monkeypatch.setattr(aiogram_aiohttp.asyncio, "sleep", sleep)
    session = telegram_session(base)
    http = await session.create_session()
    await session.close()
    assert http.closed and slept == waits
