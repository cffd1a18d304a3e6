"""The dispatcher and bot factories: routers in order, the update middleware, FSM storage."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

from aiogram import Bot, Dispatcher, Router
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.enums import ParseMode
from aiogram.exceptions import TelegramRetryAfter
from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage
from aiogram.fsm.storage.memory import MemoryStorage, SimpleEventIsolation
from aiogram.methods import (
    AnswerCallbackQuery,
    DeleteWebhook,
    EditMessageReplyMarkup,
    GetMe,
    GetUpdates,
    SendMessage,
    SetMyCommands,
    SetWebhook,
    TelegramMethod,
)
from aiogram.methods.base import Response, TelegramType
from aiogram.types import BotCommand, Update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import (
    binding,
    fallback,
    my,
    reminders,
    replies,
    reports,
    requests,
    review,
    settings,
    updates,
)
from bot.config import BotConfig
from bot.middlewares import UpdateMiddleware
from notifier.channels.telegram import telegram_session
from supervision.clock import Clock
from supervision.labels import Button, label
from supervision.reports import ReplyFiler

log = logging.getLogger("duban.bot")

#: the command menu: each command with the catalogue's word for it
COMMANDS: tuple[tuple[str, Button], ...] = (
    ("my", Button.MY_ITEMS),
    ("report", Button.REPORT),
    ("complete", Button.CLOSE),
    ("extend", Button.EXTEND),
    ("review", Button.REVIEW),
    ("signoff", Button.SIGN_OFF),
    ("settings", Button.SETTINGS),
    ("cancel", Button.CANCEL),
)


# pydantic keeps parametrised generic models in a weak cache, and aiogram parametrises
# ``Response[<result type>]`` for every API answer: without a strong reference each garbage
# collection drops the class and the next answer rebuilds it, several ms of CPU each time.
_PINNED: list[type[Any]] = []
_USED_METHODS: tuple[type[TelegramMethod[Any]], ...] = (
    SendMessage,
    AnswerCallbackQuery,
    EditMessageReplyMarkup,
    SetMyCommands,
    SetWebhook,
    DeleteWebhook,
    GetMe,
    GetUpdates,
)


def pin_response_types() -> None:
    """Keep the Bot API answer models the bot uses alive for the life of the process."""
    if not _PINNED:
        _PINNED.extend(Response[m.__returning__] for m in _USED_METHODS)  # type: ignore[name-defined]


class WaitOutFloodControl(BaseRequestMiddleware):
    """On a short 429 (retry_after), wait and send again instead of failing the update.

    A failed reply would roll back the report it confirms; a long pause still fails, and the
    update is then retried from the update log.
    """

    def __init__(
        self,
        *,
        max_wait: float = 5.0,
        retries: int = 2,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.max_wait = max_wait
        self.retries = retries
        self.sleep = sleep

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        """Send, waiting out at most ``retries`` short flood-control pauses."""
        attempt = 0
        while True:
            try:
                return await make_request(bot, method)
            except TelegramRetryAfter as exc:
                if attempt >= self.retries or exc.retry_after > self.max_wait:
                    raise
                attempt += 1
                log.info(
                    "flood control: waiting %ss before %s", exc.retry_after, method.__api_method__
                )
                await self.sleep(float(exc.retry_after))


def create_bot(
    config: BotConfig, *, sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
) -> Bot:
    """A Bot for the configured token and API server, sending HTML."""
    pin_response_types()
    session = telegram_session(config.api_base)
    session.middleware(WaitOutFloodControl(sleep=sleep))
    return Bot(
        config.token, session=session, default=DefaultBotProperties(parse_mode=ParseMode.HTML)
    )


def create_dispatcher(
    *,
    sessions: async_sessionmaker[AsyncSession],
    config: BotConfig,
    clock: Clock,
    storage: BaseStorage | None = None,
    events_isolation: BaseEventIsolation | None = None,
) -> Dispatcher:
    """The dispatcher with every flow; ``storage`` defaults to memory (use Redis with Redis).

    One person's updates are handled one after another (``events_isolation``, in-process by
    default; Redis's lock across processes), so dialogs and albums see each other's state.
    """
    filer = ReplyFiler(
        sessions, clock, receipts=updates.UpdateReceipts(clock), not_reports=reports.REQUEST_KINDS
    )
    # What every handler may ask for by parameter name (aiogram's workflow data); the update
    # middleware adds ``session`` and ``person``, the FSM middleware ``state``.
    dp = Dispatcher(
        storage=storage or MemoryStorage(),
        events_isolation=events_isolation or SimpleEventIsolation(),
        sessions=sessions,
        config=config,
        clock=clock,
        filer=filer,
    )
    flows = Router(name="flows")
    flows.include_routers(
        binding.groups.build(),
        binding.binding.build(),
        binding.gate.build(),
        my.router.build(),
        settings.router.build(),
        review.router.build(),
        reminders.router.build(),
        requests.router.build(),
        reports.router.build(),
        fallback.router.build(),
    )
    logged = UpdateMiddleware(sessions, clock)
    for name, observer in flows.observers.items():
        if name not in ("update", "error"):
            observer.outer_middleware(logged)
    # A reply to a reminder goes to the filer first; what it leaves goes on to the flows.
    dp.include_routers(replies.router.build(), flows)
    return dp


def filer_of(dp: Dispatcher) -> ReplyFiler:
    """The dispatcher's report filer (to close it when the bot stops)."""
    filer = dp["filer"]
    assert isinstance(filer, ReplyFiler)
    return filer


async def handle_update(dp: Dispatcher, bot: Bot, update: Update) -> None:
    """Handle one update outside a webhook, as long polling does: a Bot API method a handler
    returned (for a webhook's answer) is called."""
    answer = await dp.feed_update(bot, update)
    if isinstance(answer, TelegramMethod):
        await dp.silent_call_request(bot, answer)


async def set_commands(bot: Bot) -> None:
    """Publish the command menu."""
    await bot.set_my_commands(
        [
            BotCommand(command=c, description=f"{label(w, 'zh')} / {label(w, 'en')}")
            for c, w in COMMANDS
        ]
    )


async def reprocess_pending(
    dp: Dispatcher,
    bot: Bot,
    sessions: async_sessionmaker[AsyncSession],
    config: BotConfig,
    clock: Clock,
) -> int:
    """Handle again what a crash or an error left unhandled; return how many were fed."""

    return await updates.reprocess_pending(
        sessions, partial(handle_update, dp, bot), max_attempts=config.max_attempts, clock=clock
    )
