"""The Telegram webhook on the web app: 401 without the right secret header, else handled.

The body is read by `web.json_body` like the API's: at most ``MAX_UPDATE_BYTES`` even when
chunked (413), UTF-8 JSON nested at most 64 deep (400). Gets the dispatcher and bot from the
composition root; imports aiogram and `web.json_body`, never `bot/`.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.types import Update
from aiohttp import web
from pydantic import ValidationError

from web.auth import add_public_path
from web.json_body import BodyError, read_json_body

log = logging.getLogger("duban.web")

WEBHOOK_PATH = "/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 (a header name)
MAX_UPDATE_BYTES = 1024 * 1024

# Takes the raw update JSON; returns the response body once it has handled the update, or
# None to leave it to the dispatcher.
FastPath = Callable[[Any], Awaitable[dict[str, Any] | None]]


def setup_telegram_webhook(
    app: web.Application,
    dispatcher: Dispatcher,
    bot: Bot,
    secret: str,
    *,
    path: str = WEBHOOK_PATH,
    fast_path: FastPath | None = None,
) -> None:
    """Mount ``POST path``: each update is stored and handled before the 200 goes back.

    ``fast_path`` sees each update first (the bot's batched reply filing); its answer may
    carry a Bot API method, which Telegram executes as if the bot had called it.
    """
    if not secret:
        raise ValueError("the Telegram webhook needs a secret token")
    expected = secret.encode()

    async def receive(request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, expected):
            return web.json_response({"ok": False, "error": "unauthorized"}, status=401)
        try:
            data: Any = await read_json_body(request, max_bytes=MAX_UPDATE_BYTES)
        except BodyError as exc:
            return web.json_response({"ok": False, "error": exc.message}, status=exc.status)
        if fast_path is not None and (answer := await fast_path(data)) is not None:
            return web.json_response(answer)
        try:
            update = Update.model_validate(data, context={"bot": bot})
        except (ValueError, ValidationError):
            return web.json_response({"ok": False, "error": "not an update"}, status=400)
        # The update middleware logs it before handling and answers errors itself;
        # Telegram must not resend what was stored, so the answer is 200 from here on.
        await dispatcher.feed_update(bot, update)
        return web.json_response({"ok": True})

    app.router.add_post(path, receive)
    add_public_path(app, path)  # it brings its own secret: no session, no CSRF token
