"""The Telegram webhook on the web app: aiogram's request handler with the web app's rules.

`WebhookHandler` is aiogram's ``SimpleRequestHandler`` answering only once the update is
handled (``handle_in_background=False``), so a Bot API method a handler returns (the
confirmation of a report) rides in the webhook's answer, which Telegram executes; the answer
is JSON rather than aiogram's multipart form (see `WebhookHandler._build_response_writer`).
What it adds: 401 without the right secret header (compared as bytes, in constant time); the body
read by `web.json_body` like the API's: at most ``MAX_UPDATE_BYTES`` even when chunked
(413), UTF-8 JSON nested at most 64 deep (400); 400 for JSON that is no update. Gets the
dispatcher and bot from the composition root; imports aiogram and `web.json_body`, never
`bot/`.
"""

from __future__ import annotations

import hmac
import logging
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.methods import TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import InputFile, Update
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import JsonPayload, Payload, web
from pydantic import ValidationError

from web.auth import add_public_path
from web.json_body import BodyError, read_json_body

log = logging.getLogger("duban.web")

WEBHOOK_PATH = "/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 (a header name)
MAX_UPDATE_BYTES = 1024 * 1024


class WebhookHandler(SimpleRequestHandler):
    """Each update is stored and handled before the 200 goes back (see the module)."""

    def __init__(self, dispatcher: Dispatcher, bot: Bot, secret: str) -> None:
        if not secret:
            raise ValueError("the Telegram webhook needs a secret token")
        super().__init__(dispatcher, bot, handle_in_background=False, secret_token=secret)
        self._expected = secret.encode()

    def verify_secret(self, telegram_secret_token: str, bot: Bot) -> bool:
        """True for the configured secret (bytes: any header value compares, none raises)."""
        return hmac.compare_digest(telegram_secret_token.encode(), self._expected)

    async def handle(self, request: web.Request) -> web.Response:
        """Check the secret, read and validate the update, handle it, answer."""
        bot = await self.resolve_bot(request)
        if not self.verify_secret(request.headers.get(SECRET_HEADER, ""), bot):
            return web.json_response({"ok": False, "error": "unauthorized"}, status=401)
        try:
            data: Any = await read_json_body(request, max_bytes=MAX_UPDATE_BYTES)
        except BodyError as exc:
            return web.json_response({"ok": False, "error": exc.message}, status=exc.status)
        try:
            update = Update.model_validate(data, context={"bot": bot})
        except (ValueError, ValidationError):
            return web.json_response({"ok": False, "error": "not an update"}, status=400)
        # The update middleware logs it before handling and answers errors itself;
        # Telegram must not resend what was stored, so the answer is 200 from here on.
        answer: TelegramMethod[Any] | None = await self.dispatcher.feed_webhook_update(
            bot, update, **self.data
        )
        return web.Response(body=self._build_response_writer(bot=bot, result=answer))

    __call__ = handle

    def _build_response_writer(
        self, bot: Bot, result: TelegramMethod[TelegramType] | None
    ) -> Payload:
        """The answer as one JSON body, the fields prepared as aiogram prepares them.

        aiogram writes ``multipart/form-data``, a socket write per field (about 18 system
        calls per answer, the larger part of an answer's CPU); Telegram takes JSON as well.
        A method carrying files to upload keeps aiogram's form.
        """
        if result is None:
            return JsonPayload({"ok": True})
        files: dict[str, InputFile] = {}
        body: dict[str, Any] = {"method": result.__api_method__}
        for key, value in result.model_dump(warnings=False).items():
            prepared = bot.session.prepare_value(value, bot=bot, files=files)
            if prepared:
                body[key] = prepared
        if files:
            return super()._build_response_writer(bot, result)
        return JsonPayload(body)

    async def close(self) -> None:
        """Nothing: the bot's session belongs to whoever made the bot (`duban.chat`)."""


def setup_telegram_webhook(
    app: web.Application,
    dispatcher: Dispatcher,
    bot: Bot,
    secret: str,
    *,
    path: str = WEBHOOK_PATH,
) -> None:
    """Mount ``POST path`` with :class:`WebhookHandler`."""
    handler = WebhookHandler(dispatcher, bot, secret)
    app.router.add_post(path, handler.handle)
    add_public_path(app, path)  # it brings its own secret: no session, no CSRF token
