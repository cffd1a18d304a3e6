"""Wiring the bot into a process: long polling, or the webhook on the web app.

Part of the composition root: builds `bot.BotConfig` from the settings and hands the
dispatcher and bot to `web.telegram` when the webhook is configured.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import partial
from urllib.parse import urlsplit

from aiogram import Bot, Dispatcher
from aiogram.exceptions import TelegramAPIError
from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage
from aiogram.fsm.storage.memory import MemoryStorage
from aiogram.fsm.storage.redis import RedisStorage

from bot import BotConfig, create_bot, create_dispatcher, reprocess_pending, set_commands
from bot.dispatcher import filer_of
from duban.runtime import Runtime
from duban.settings import Settings, SettingsError
from web.app import AppPart
from web.telegram import setup_telegram_webhook

log = logging.getLogger("duban.bot")


def bot_config(settings: Settings) -> BotConfig:
    """The bot's configuration; raises SettingsError without a token."""
    if settings.telegram.bot_token is None:
        raise SettingsError("setting DUBAN_TELEGRAM_TOKEN is required for the bot")
    return BotConfig(
        token=settings.telegram.bot_token,
        api_base=settings.telegram.api_base,
        username=settings.telegram.bot_username,
        tz=settings.office.tz,
        office_name=settings.office.name,
        base_url=settings.web.base_url,
    )


def webhook_secret(settings: Settings) -> str | None:
    """The webhook secret when webhook mode is on; SettingsError if the URL has none."""
    if not settings.telegram.webhook_url:
        return None
    secret = settings.telegram.webhook_secret
    if secret is None or not secret.get_secret_value():
        raise SettingsError(
            "setting DUBAN_TELEGRAM_WEBHOOK_SECRET is required when "
            "DUBAN_TELEGRAM_WEBHOOK_URL is set"
        )
    return secret.get_secret_value()


def fsm_storage(settings: Settings) -> tuple[BaseStorage, BaseEventIsolation | None]:
    """Dialog state and the per-person lock in Redis when configured, else in memory."""
    if settings.redis.url:
        storage = RedisStorage.from_url(settings.redis.url)
        return storage, storage.create_isolation()
    return MemoryStorage(), None


@dataclass
class Chat:
    """A running bot: what the web app must mount (webhook mode), if anything."""

    bot: Bot
    dispatcher: Dispatcher
    parts: list[AppPart]


@asynccontextmanager
async def open_chat(runtime: Runtime, *, polling: bool | None = None) -> AsyncIterator[Chat | None]:
    """Start the bot for this process (None without a token); stop and close it after.

    Webhook mode when ``DUBAN_TELEGRAM_WEBHOOK_URL`` is set, else long polling in a task.
    """
    settings = runtime.settings
    if settings.telegram.bot_token is None:
        yield None
        return
    config = bot_config(settings)
    secret = webhook_secret(settings)
    use_polling = secret is None if polling is None else polling
    bot = create_bot(config)
    storage, isolation = fsm_storage(settings)
    dp = create_dispatcher(
        sessions=runtime.sessions,
        config=config,
        clock=runtime.clock,
        storage=storage,
        events_isolation=isolation,
    )
    task: asyncio.Task[None] | None = None
    try:
        fed = await reprocess_pending(dp, bot, runtime.sessions, config, runtime.clock)
        if fed:
            log.info("re-processed %d stored updates", fed)
        await _try("setMyCommands", set_commands(bot))
        parts: list[AppPart] = []
        if use_polling:
            await _try("deleteWebhook", bot.delete_webhook(drop_pending_updates=False))
            task = asyncio.create_task(
                dp.start_polling(bot, handle_signals=False, close_bot_session=False)
            )
            log.info("telegram: long polling")
        else:
            assert secret is not None and settings.telegram.webhook_url is not None
            await _try(
                "setWebhook",
                bot.set_webhook(
                    settings.telegram.webhook_url,
                    secret_token=secret,
                    allowed_updates=dp.resolve_used_update_types(),
                ),
            )
            path = _path_of(settings.telegram.webhook_url)
            parts.append(
                partial(setup_telegram_webhook, dispatcher=dp, bot=bot, secret=secret, path=path)
            )
            log.info("telegram: webhook at %s", path)
        yield Chat(bot, dp, parts)
    finally:
        if task is not None:
            try:
                await dp.stop_polling()
            except RuntimeError:  # polling had not started yet
                task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await filer_of(dp).close()  # the replies in its batches are waiting for them
        await dp.storage.close()
        await bot.session.close()


async def _try(what: str, call: Awaitable[object]) -> None:
    """A start-up call to Telegram; when it fails the service still starts, and says so."""
    try:
        await call
    except (TelegramAPIError, OSError, TimeoutError) as exc:
        log.error("telegram: %s failed at start: %s", what, exc.__class__.__name__)


def _path_of(url: str) -> str:
    return urlsplit(url).path or "/telegram/webhook"
