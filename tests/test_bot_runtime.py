"""The update log under failure, long polling, the webhook route, Redis FSM and ``duban invite``."""

from __future__ import annotations

import argparse
import asyncio
from functools import partial
from typing import Any

import pytest
from aiogram.fsm.storage.redis import RedisStorage
from aiogram.types import Update
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

import supervision.reports
from bot import BotConfig, create_bot, create_dispatcher, reprocess_pending
from bot import updates as update_log
from duban.chat import open_chat
from duban.commands.bot import invite
from duban.runtime import Runtime
from duban.settings import Settings, SettingsError
from models import InviteToken, Notification, Report, TelegramUpdate
from notifier.channels.base import ChannelRegistry
from notifier.channels.email import EmailChannel
from notifier.context import ContextConfig
from notifier.delivery import Deliverer, DeliveryOptions
from notifier.ratelimit import MemoryLimiter
from notifier.templating import Renderer
from supervision.calendar import WorkCalendar
from supervision.clock import FixedClock
from supervision.invites import SEALED_LINK, hash_token
from supervision.sealing import Sealer
from testing import SHANGHAI
from testing.bot_harness import Harness, harness
from testing.bot_world import OWNER_TG, World
from testing.fakes.telegram import FakeTelegram, ManualClock
from testing.notifier_support import MAIL_FROM, SmtpServer
from web.app import WebConfig, WebDeps, create_app
from web.telegram import setup_telegram_webhook

#: On SQLite and PostgreSQL: the update log inserts with each dialect's ON CONFLICT.
update_log_test = pytest.mark.dialects

SECRET = "webhook-s3cret"


async def _logged(h: Harness, update_id: int) -> TelegramUpdate:
    async with h.sessions() as session:
        return await session.get_one(TelegramUpdate, update_id)


async def _reports(h: Harness) -> list[Report]:
    async with h.sessions() as session:
        return list((await session.scalars(select(Report))).all())


@update_log_test
async def test_handler_error_apologises_keeps_update_and_retry_files_it(
    h: Harness, world: World, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    reminder = await h.remind(world.owner, world.a_document)
    update = h.fake.make_private_message(OWNER_TG, "进展顺利", reply_to=reminder)

    async def broken(*args: Any, **kwargs: Any) -> list[Report]:
        raise RuntimeError("database went away")

    # Filing fails for the reply filer's batch and for the handler it leaves the update to.
    monkeypatch.setattr(supervision.reports, "file_reports", broken)
    await h.feed(update)
    assert "抱歉" in h.last_text(OWNER_TG)
    assert f"update {update['update_id']} failed" in caplog.text
    logged = await _logged(h, update["update_id"])
    assert (logged.status, logged.attempts) == ("failed", 1)
    assert logged.error is not None and "database went away" in logged.error
    assert await _reports(h) == []

    monkeypatch.undo()
    fed = await reprocess_pending(h.dp, h.bot, h.sessions, h.config, h.clock)
    assert fed == 1
    [report] = await _reports(h)
    assert report.text == "进展顺利"
    logged = await _logged(h, update["update_id"])
    assert (logged.status, logged.attempts) == ("done", 2)
    assert "第1次" in h.last_text(OWNER_TG)
    assert await reprocess_pending(h.dp, h.bot, h.sessions, h.config, h.clock) == 0


@update_log_test
async def test_a_refused_update_is_done_once_and_its_replay_skipped(
    h: Harness, world: World
) -> None:
    await h.feed(h.fake.make_private_message(OWNER_TG, "/help"))
    press = h.fake.make_callback_query(OWNER_TG, h.fake.sent_to(OWNER_TG)[-1], "rv:c:999999:1")
    await h.feed(press)
    assert len(h.fake.answers) == 1 and "失效" in h.fake.answers[-1]["text"]
    logged = await _logged(h, press["update_id"])
    assert (logged.status, logged.attempts, logged.error) == ("done", 1, None)
    await h.feed(press)  # Telegram delivers it again: nothing is answered twice
    assert len(h.fake.answers) == 1
    assert (await _logged(h, press["update_id"])).attempts == 1
    assert await reprocess_pending(h.dp, h.bot, h.sessions, h.config, h.clock) == 0


@update_log_test
async def test_update_stored_before_a_crash_is_handled_on_restart(h: Harness, world: World) -> None:
    reminder = await h.remind(world.owner, world.a_document)
    raw = h.fake.make_private_message(OWNER_TG, "崩溃前收到的报告", reply_to=reminder)
    # The process stored the update, then died before handling it.
    assert await update_log.store(h.sessions, Update.model_validate(raw), h.clock)
    assert (await _logged(h, raw["update_id"])).status == "pending"
    assert await reprocess_pending(h.dp, h.bot, h.sessions, h.config, h.clock) == 1
    assert [r.text for r in await _reports(h)] == ["崩溃前收到的报告"]
    assert (await _logged(h, raw["update_id"])).status == "done"


@update_log_test
async def test_long_polling_against_the_fake(h: Harness, world: World) -> None:
    reminder = await h.remind(world.owner, world.a_document)
    h.fake.push_update(h.fake.make_private_message(OWNER_TG, "轮询收到", reply_to=reminder))
    polling = asyncio.create_task(
        h.dp.start_polling(h.bot, handle_signals=False, close_bot_session=False, polling_timeout=1)
    )
    try:
        await h.fake.wait_for_sent(2)
    finally:
        await h.dp.stop_polling()
        await polling
    assert [r.text for r in await _reports(h)] == ["轮询收到"]
    assert "第1次" in h.last_text(OWNER_TG)


@update_log_test
async def test_webhook_needs_the_secret_and_files_the_report(
    h: Harness, world: World, aiohttp_client_factory: Any
) -> None:
    deps = WebDeps(config=WebConfig(secret_key="x"), sessions=h.sessions, clock=h.clock)
    app = create_app(
        deps, [partial(setup_telegram_webhook, dispatcher=h.dp, bot=h.bot, secret=SECRET)]
    )
    client = await aiohttp_client_factory(app)
    reminder = await h.remind(world.owner, world.a_document)
    update = h.fake.make_private_message(OWNER_TG, "网络钩子收到", reply_to=reminder)
    for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": "wrong"}):
        resp = await client.post("/telegram/webhook", json=update, headers=headers)
        assert resp.status == 401
    assert await _reports(h) == []
    async with h.sessions() as session:
        assert await session.get(TelegramUpdate, update["update_id"]) is None
    good = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    resp = await client.post("/telegram/webhook", data=b"{not json", headers=good)
    assert resp.status == 400
    # Through the fake, as Telegram would deliver it after setWebhook.
    await h.bot.set_webhook(str(client.make_url("/telegram/webhook")), secret_token=SECRET)
    assert await h.fake.post_webhook(update) == 200
    assert await h.fake.post_webhook(update) == 200  # a resend is recognised
    assert [r.text for r in await _reports(h)] == ["网络钩子收到"]


async def test_dialog_state_in_redis(
    sessions: async_sessionmaker[AsyncSession], clock: FixedClock, world: World, redis_url: str
) -> None:
    async with harness(sessions, clock, storage=RedisStorage.from_url(redis_url)) as h:
        await h.feed(h.fake.make_private_message(OWNER_TG, "/report"))
        offer = h.fake.sent_to(OWNER_TG)[-1]
        assert offer.reply_markup is not None
        data = offer.reply_markup["inline_keyboard"][0][0]["callback_data"]
        await h.feed(h.fake.make_callback_query(OWNER_TG, offer, data))
        await h.feed(h.fake.make_private_message(OWNER_TG, "存在 Redis 的对话"))
        assert [r.text for r in await _reports(h)] == ["存在 Redis 的对话"]


async def _runtime(engine: AsyncEngine, clock: FixedClock, **settings: Any) -> Runtime:
    url = engine.url.render_as_string(hide_password=False)
    return Runtime(
        Settings(database_url=url, telegram_bot_username="duban_test_bot", **settings),
        engine,
        async_sessionmaker(engine, expire_on_commit=False),
        clock,
    )


async def test_invite_prints_the_link_and_says_mail_is_not_configured(
    engine: AsyncEngine, clock: FixedClock, world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    rt = await _runtime(engine, clock)
    assert await invite(argparse.Namespace(email=world.owner.email.upper()), rt) == 0
    out = capsys.readouterr().out.splitlines()
    assert "mail is not configured" in out[0]
    assert out[1].startswith("https://t.me/duban_test_bot?start=")
    token = out[1].split("start=", 1)[1]
    async with rt.sessions() as session:
        stored = await session.scalar(select(InviteToken))
        assert stored is not None and stored.token_hash == hash_token(token)
        assert stored.person_id == world.owner.id
        assert await session.scalar(select(Notification)) is None


async def test_invite_queues_an_email_when_mail_is_configured(
    engine: AsyncEngine, clock: FixedClock, world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    rt = await _runtime(engine, clock, smtp_url="smtp://127.0.0.1:2525")
    assert await invite(argparse.Namespace(email=world.owner.email), rt) == 0
    out = capsys.readouterr().out.splitlines()
    assert "queued for e-mail" in out[0]
    async with rt.sessions() as session:
        row = await session.scalar(select(Notification))
    assert row is not None and (row.kind, row.channel, row.address) == (
        "invite",
        "email",
        world.owner.email,
    )
    # The link is sealed with the secret key: the clear token is in no column.
    sealer = Sealer(rt.settings.security.secret_key.get_secret_value())
    assert sealer.open(row.payload[SEALED_LINK]) == out[1]
    assert out[1] not in str(row.payload)
    # The notifier renders and mails it (here to a local SMTP server).
    smtp = SmtpServer().start()
    channel = EmailChannel(smtp.config(), mail_from=MAIL_FROM, clock=clock)
    try:
        await Deliverer(
            rt.sessions,
            channels=ChannelRegistry([channel]),
            renderer=Renderer(),
            clock=clock,
            limiter=MemoryLimiter(clock),
            options=DeliveryOptions(
                calendar=WorkCalendar(), worker="test", context=ContextConfig(sealer=sealer)
            ),
        ).deliver(row.id)
    finally:
        smtp.stop()
    async with rt.sessions() as session:
        sent = await session.get_one(Notification, row.id)
    assert sent.status == "sent" and "t.me/" not in (sent.body_text or "")
    assert out[1].rsplit("=", 1)[-1] not in (sent.body_html or "") + (sent.body_text or "")
    [mail] = smtp.sink.messages
    assert world.owner.email in mail["To"]
    bodies = [
        part.get_payload(decode=True).decode() for part in mail.walk() if not part.is_multipart()
    ]
    assert any(out[1] in body for body in bodies)


async def test_invite_for_an_unknown_email_is_a_clear_error(
    engine: AsyncEngine, clock: FixedClock, world: World
) -> None:
    from duban.cli import CliError

    rt = await _runtime(engine, clock)
    with pytest.raises(CliError, match="no person"):
        await invite(argparse.Namespace(email="nobody@example.cn"), rt)


@update_log_test
async def test_run_wiring_webhook_mode_needs_the_secret_and_registers_the_webhook(
    engine: AsyncEngine, clock: FixedClock, world: World, aiohttp_client_factory: Any
) -> None:
    async with FakeTelegram(global_rate=None, per_chat_rate=None) as fake:
        base = {
            "telegram_token": fake.token,
            "telegram_api_base": fake.base_url,
            "telegram_webhook_url": "https://duban.example.gov.cn/tg/hook",
        }
        rt = await _runtime(engine, clock, **base)
        with pytest.raises(SettingsError, match="DUBAN_TELEGRAM_WEBHOOK_SECRET"):
            async with open_chat(rt):
                pass
        rt = await _runtime(engine, clock, telegram_webhook_secret=SECRET, **base)
        async with open_chat(rt) as chat:
            assert chat is not None and len(chat.parts) == 1
            assert fake.webhook["url"] == "https://duban.example.gov.cn/tg/hook"
            assert fake.webhook["secret_token"] == SECRET
            deps = WebDeps(config=WebConfig(secret_key="x"), sessions=rt.sessions, clock=clock)
            client = await aiohttp_client_factory(create_app(deps, chat.parts))
            update = fake.make_private_message(OWNER_TG, "/my")
            assert (await client.post("/tg/hook", json=update)).status == 401
            headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
            assert (await client.post("/tg/hook", json=update, headers=headers)).status == 200
            assert "年度项目推进" in fake.sent_to(OWNER_TG)[-1].text


@update_log_test
async def test_run_wiring_polls_and_first_handles_what_a_crash_left(
    engine: AsyncEngine, clock: FixedClock, world: World
) -> None:
    async with FakeTelegram(global_rate=None, per_chat_rate=None) as fake:
        rt = await _runtime(
            engine, clock, telegram_token=fake.token, telegram_api_base=fake.base_url
        )
        left = fake.make_private_message(OWNER_TG, "/my")
        assert await update_log.store(rt.sessions, Update.model_validate(left), clock)
        async with open_chat(rt) as chat:
            assert chat is not None and chat.parts == []
            await fake.wait_for_sent(1)  # the stored update, handled on start
            fake.push_update(fake.make_private_message(OWNER_TG, "/help"))
            await fake.wait_for_sent(2)
        assert "年度项目推进" in fake.sent[0].text and "/report" in fake.sent[1].text
        assert {c.method for c in fake.requests} >= {"setMyCommands", "deleteWebhook", "getUpdates"}
        async with rt.sessions() as session:
            logged = await session.get_one(TelegramUpdate, left["update_id"])
        assert logged.status == "done"


async def test_a_short_flood_pause_is_waited_out_and_the_report_kept(
    sessions: async_sessionmaker[AsyncSession], clock: FixedClock, world: World
) -> None:
    tg_clock = ManualClock()
    waited: list[float] = []

    async def sleep(seconds: float) -> None:
        waited.append(seconds)
        tg_clock.advance(seconds)

    async with FakeTelegram(global_rate=None, per_chat_rate=None, clock=tg_clock) as fake:
        config = BotConfig(token=fake.token, api_base=fake.base_url, tz=SHANGHAI)
        bot = create_bot(config, sleep=sleep)
        dp = create_dispatcher(sessions=sessions, config=config, clock=clock)
        try:
            fake.force_429(1, retry_after=2, chat_id=OWNER_TG)
            update = fake.make_private_message(OWNER_TG, "/report")
            await dp.feed_update(bot, Update.model_validate(update, context={"bot": bot}))
            assert waited == [2.0]
            assert "请选择" in fake.sent_to(OWNER_TG)[-1].text
            fake.force_429(1, retry_after=60, chat_id=OWNER_TG)  # too long to wait in a handler
            update = fake.make_private_message(OWNER_TG, "/my")
            await dp.feed_update(bot, Update.model_validate(update, context={"bot": bot}))
            async with sessions() as session:
                logged = await session.get_one(TelegramUpdate, update["update_id"])
            assert logged.status == "failed" and "RetryAfter" in (logged.error or "")
        finally:
            await bot.session.close()


async def test_start_survives_telegram_errors(
    engine: AsyncEngine, clock: FixedClock, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    async with FakeTelegram(global_rate=None, per_chat_rate=None) as fake:
        rt = await _runtime(
            engine, clock, telegram_token=fake.token, telegram_api_base=fake.base_url
        )
        fake.fail_next(2, 502)  # setMyCommands and deleteWebhook
        async with open_chat(rt):
            fake.push_update(fake.make_private_message(OWNER_TG, "/help"))
            await fake.wait_for_sent(1)
    assert "setMyCommands failed at start" in caplog.text
    assert "deleteWebhook failed at start" in caplog.text


async def test_invite_with_wecom_prints_the_authorize_link(
    engine: AsyncEngine, clock: FixedClock, world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    from urllib.parse import parse_qs, urlsplit

    from duban.commands import CliError
    from models import Channel

    rt = await _runtime(engine, clock)
    with pytest.raises(CliError, match="DUBAN_WECOM_CORP_ID"):
        await invite(argparse.Namespace(email=world.owner.email, wecom=True), rt)
    rt = await _runtime(
        engine, clock, wecom_corp_id="ww01", wecom_agent_id=1000002, wecom_secret="s" * 20,
        public_url="https://duban.example.gov.cn",
    )  # fmt: skip
    assert await invite(argparse.Namespace(email=world.owner.email, wecom=True), rt) == 0
    link = capsys.readouterr().out.splitlines()[-1]
    assert link.startswith("https://open.weixin.qq.com/connect/oauth2/authorize?")
    query = parse_qs(urlsplit(link).query)
    assert query["redirect_uri"] == ["https://duban.example.gov.cn/wecom/bind"]
    async with rt.sessions() as session:
        stored = await session.scalar(select(InviteToken))
    assert stored is not None and stored.channel == Channel.WECOM_APP
    assert stored.token_hash == hash_token(query["state"][0])
