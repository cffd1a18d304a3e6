"""Telegram: aiogram ``Bot`` with HTML parse mode, message buttons and error mapping.

The callback data format of the buttons under notifier messages lives here and only here
(:class:`AssignmentAction` under reminders, :class:`ReviewAction` under review requests,
:class:`SignoffAction` under sign-off requests); the bot imports it to read presses.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Final

from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.session.base import DEFAULT_TIMEOUT
from aiogram.client.telegram import PRODUCTION, TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramRetryAfter,
)
from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from models import Decision
from notifier.channels.base import (
    BaseChannel,
    OutgoingMessage,
    PermanentError,
    RateLimited,
    SendResult,
    TransientError,
    redact,
)
from notifier.ratelimit import Rate
from notifier.templating import fit_telegram
from supervision.labels import Button, label

TEXT_LIMIT: Final = 4096


class AssignmentAction(CallbackData, prefix="a"):
    """A button under a reminder: ``a:r:12`` report progress, ``a:c:12`` ask to close,
    ``a:e:12`` ask for an extension (at most 64 bytes, as Telegram requires)."""

    action: str
    assignment_id: int


REPORT: Final = "r"  # 填报进展
CLOSE: Final = "c"  # 申请办结
EXTEND: Final = "e"  # 申请延期

#: the buttons under a reminder: the action each sends and the catalogue's word for it
BUTTONS: Final = ((REPORT, Button.REPORT), (CLOSE, Button.CLOSE), (EXTEND, Button.EXTEND))


def reminder_buttons(locale: str | None) -> list[tuple[str, str]]:
    """(action, word) of each button under a reminder in ``locale`` (填报进展 / Report progress)."""
    return [(action, label(word, locale, alone=True)) for action, word in BUTTONS]


def _one_row(buttons: Sequence[tuple[str, CallbackData]]) -> InlineKeyboardMarkup:
    """One row of inline buttons: (text, callback data)."""
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text=text, callback_data=data.pack()) for text, data in buttons]
        ]
    )


def reminder_keyboard(assignment_id: int, locale: str = "zh") -> InlineKeyboardMarkup:
    """The three buttons under a reminder for one assignment."""
    return _one_row(
        [
            (word, AssignmentAction(action=action, assignment_id=assignment_id))
            for action, word in reminder_buttons(locale)
        ]
    )


class ReviewAction(CallbackData, prefix="v"):
    """A supervisor's decision under a review request: ``v:a:c:7`` approve completion report 7,
    ``v:r:x:9`` reject extension 9 (at most 64 bytes, as Telegram requires)."""

    decision: str
    subject: str
    subject_id: int


APPROVE: Final = "a"  # 同意
REJECT: Final = "r"  # 退回
COMPLETION: Final = "c"  # a completion report (payload ``report_id``)
EXTENSION: Final = "x"  # an extension request (payload ``extension_id``)

REVIEW_DECISIONS: Final = ((APPROVE, Decision.APPROVE), (REJECT, Decision.REJECT))


class SignoffAction(CallbackData, prefix="s"):
    """The principal's button under a sign-off request: ``s:7`` signs off report 7."""

    report_id: int


REVIEW_REQUEST: Final = "review_request"
DIGEST: Final = "digest"
SIGNOFF_REQUEST: Final = "signoff_request"


def _payload_id(payload: Mapping[str, object], key: str) -> int | None:
    value = payload.get(key)
    if isinstance(value, bool) or not isinstance(value, int | str):
        return None
    try:
        number = int(value)
    except ValueError:
        return None
    return number if number > 0 else None


def review_keyboard(subject: str, subject_id: int, locale: str = "zh") -> InlineKeyboardMarkup:
    """同意 / 退回 under a review request for a completion report or an extension."""
    return _one_row(
        [
            (
                label(word, locale, alone=True),
                ReviewAction(decision=decision, subject=subject, subject_id=subject_id),
            )
            for decision, word in REVIEW_DECISIONS
        ]
    )


def signoff_keyboard(report_id: int, locale: str = "zh") -> InlineKeyboardMarkup:
    """签发 under a sign-off request for one completion report."""
    text = label(Button.SIGN_OFF, locale, alone=True)
    return _one_row([(text, SignoffAction(report_id=report_id))])


#: items of a digest that get their row of buttons (Telegram allows 100 buttons a message)
DIGEST_BUTTON_ROWS: Final = 30
#: a digest item's short buttons (进展 / 办结 / 延期)
DIGEST_BUTTONS: Final = (
    (REPORT, Button.DIGEST_REPORT),
    (CLOSE, Button.DIGEST_CLOSE),
    (EXTEND, Button.DIGEST_EXTEND),
)


def digest_keyboard(
    payload: Mapping[str, object], locale: str = "zh"
) -> InlineKeyboardMarkup | None:
    """A row of buttons per numbered item of a digest (payload ``buttons``: [number, id])."""
    words = [(action, label(word, locale)) for action, word in DIGEST_BUTTONS]
    listed = payload.get("buttons")
    rows: list[list[InlineKeyboardButton]] = []
    for entry in listed if isinstance(listed, list) else ():
        if not (isinstance(entry, list) and len(entry) == 2):
            continue
        number, assignment_id = entry
        if not (isinstance(number, int) and isinstance(assignment_id, int)):
            continue
        rows.append(
            [
                InlineKeyboardButton(
                    text=f"{number}·{word}",
                    callback_data=AssignmentAction(
                        action=action, assignment_id=assignment_id
                    ).pack(),
                )
                for action, word in words
            ]
        )
        if len(rows) == DIGEST_BUTTON_ROWS:
            break
    return InlineKeyboardMarkup(inline_keyboard=rows) if rows else None


def keyboard_for(message: OutgoingMessage) -> InlineKeyboardMarkup | None:
    """The buttons a message gets from its kind and payload, or None."""
    if message.kind == DIGEST:
        return digest_keyboard(message.payload, message.locale)
    if message.kind == REVIEW_REQUEST:
        extension_id = _payload_id(message.payload, "extension_id")
        if extension_id is not None:
            return review_keyboard(EXTENSION, extension_id, message.locale)
        report_id = _payload_id(message.payload, "report_id")
        if report_id is not None:
            return review_keyboard(COMPLETION, report_id, message.locale)
        return None
    if message.kind == SIGNOFF_REQUEST:
        report_id = _payload_id(message.payload, "report_id")
        return signoff_keyboard(report_id, message.locale) if report_id is not None else None
    if message.buttons and message.assignment_id is not None:
        return reminder_keyboard(message.assignment_id, message.locale)
    return None


class BotApiSession(AiohttpSession):
    """aiogram's HTTP session to the Bot API. Its close waits 250 ms for TLS connections to
    shut down (aiohttp's graceful-shutdown advice); a Bot API server reached over plain HTTP
    (a local ``telegram-bot-api``, the tests' fake) has none to wait for."""

    async def close(self) -> None:
        if self.api.base.startswith("https:"):
            await super().close()
        elif self._session is not None:
            await self._session.close()


def telegram_session(api_base: str | None, *, timeout: float = DEFAULT_TIMEOUT) -> BotApiSession:
    """The session to ``api_base`` (a custom Bot API server), else to Telegram's own."""
    api = TelegramAPIServer.from_base(api_base) if api_base else PRODUCTION
    return BotApiSession(api=api, timeout=timeout)


class TelegramChannel(BaseChannel):
    """Sends HTML messages through the Bot API (or a local/fake server at ``api_base``)."""

    kind = "telegram"

    def __init__(
        self,
        token: str,
        *,
        api_base: str | None = None,
        rate: float = 30.0,
        chat_rate: float = 1.0,
        timeout: float = 30.0,
    ) -> None:
        self._token = token
        session = telegram_session(api_base, timeout=timeout)
        self.bot = Bot(
            token, session=session, default=DefaultBotProperties(parse_mode=ParseMode.HTML)
        )
        self.bot_key = f"tg:{token.split(':', 1)[0]}"
        self.rate = rate
        self.chat_rate = chat_rate

    def rates(self, message: OutgoingMessage) -> Sequence[Rate]:
        """About 30 messages a second for the bot, one a second per chat.

        The bot may run two sends ahead of its steady rate: a send that waited a little too
        long (the event loop was busy) is made up by the next one instead of being lost, while
        no second ever holds more than one send above the rate.
        """
        return (
            Rate(self.bot_key, self.rate, burst=2),
            Rate(f"{self.bot_key}:c{message.address}", self.chat_rate),
        )

    async def send(self, message: OutgoingMessage) -> SendResult:
        """Send one HTML message, with buttons when the message asks for them."""
        try:
            chat_id = int(message.address or "")
        except ValueError:
            raise PermanentError(f"not a Telegram chat id: {message.address!r}") from None
        markup = keyboard_for(message)
        text = fit_telegram(message.text, TEXT_LIMIT)
        try:
            sent = await self.bot.send_message(chat_id=chat_id, text=text, reply_markup=markup)
        except TelegramRetryAfter as exc:
            raise RateLimited(
                self._safe(exc), retry_after=float(exc.retry_after), pause_key=self.bot_key
            ) from None
        except TelegramForbiddenError as exc:
            raise PermanentError(self._safe(exc)) from None
        except TelegramMigrateToChat as exc:
            raise PermanentError(
                f"group moved to chat {exc.migrate_to_chat_id}; update the chat id"
            ) from None
        except TelegramBadRequest as exc:
            # "chat not found", unparseable HTML, … : the same request would fail again.
            raise PermanentError(self._safe(exc)) from None
        except TelegramAPIError as exc:  # 401/404/409/5xx and network errors
            raise TransientError(self._safe(exc)) from None
        except (TimeoutError, OSError) as exc:
            raise TransientError(f"network error: {type(exc).__name__}") from None
        return SendResult(
            provider_message_id=str(sent.message_id),
            chat_id=sent.chat.id,
            chat_message_id=sent.message_id,
        )

    def _safe(self, exc: Exception) -> str:
        return redact(f"{type(exc).__name__}: {exc}", self._token)

    async def close(self) -> None:
        """Close the bot's HTTP session."""
        await self.bot.session.close()
