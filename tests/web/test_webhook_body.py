"""The Telegram webhook reads its body like the API: capped even when chunked, UTF-8 JSON,
nesting limited; a refused body is a 4xx before anything is stored or dispatched."""

from __future__ import annotations

from functools import partial

import pytest
from aiogram import Bot, Dispatcher
from sqlalchemy import func, select

from models import TelegramUpdate
from tests.web.raw_http import raw_request
from web.app import WebConfig, WebDeps, create_app
from web.telegram import MAX_UPDATE_BYTES, SECRET_HEADER, WEBHOOK_PATH, setup_telegram_webhook

SECRET = "webhook-s3cret"
HEAD = (
    f"POST {WEBHOOK_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\n{SECRET_HEADER}: {SECRET}\r\n"
    "Content-Type: application/json\r\n"
)


@pytest.fixture
async def hook(sessions, clock, aiohttp_client_factory):
    dispatcher = Dispatcher()
    seen: list[int] = []

    @dispatcher.update.outer_middleware()
    async def record(handler, update, data):
        seen.append(update.update_id)
        return await handler(update, data)

    bot = Bot(token="123456:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw")
    deps = WebDeps(config=WebConfig(secret_key="x"), sessions=sessions, clock=clock)
    app = create_app(
        deps, [partial(setup_telegram_webhook, dispatcher=dispatcher, bot=bot, secret=SECRET)]
    )
    client = await aiohttp_client_factory(app)
    yield client, seen
    await bot.session.close()


async def _stored(sessions) -> int:
    async with sessions() as s:
        return await s.scalar(select(func.count()).select_from(TelegramUpdate))


async def test_a_chunked_body_over_the_cap_is_413(hook, sessions):
    client, seen = hook
    chunk = b" " * 64 * 1024
    chunks = [b'{"update_id": 7', *[chunk] * (MAX_UPDATE_BYTES // len(chunk) + 1), b"}"]
    status = await raw_request(client, HEAD, chunks)
    assert status.startswith(b"HTTP/1.1 413"), status
    assert seen == [] and await _stored(sessions) == 0


async def test_a_chunked_update_under_the_cap_is_read_whole(hook):
    client, seen = hook
    update = (
        b'{"update_id": 8, "message": {"message_id": 1, "date": 0, '
        b'"chat": {"id": 5, "type": "private"}, "text": "hi"}}'
    )
    status = await raw_request(client, HEAD, [update[:10], update[10:50], update[50:]])
    assert status.startswith(b"HTTP/1.1 200"), status
    assert seen == [8]


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/json", b"[" * 100_000 + b"]" * 100_000),
        ("application/json", b'{"update_id": 9, "x":' + b"[" * 64 + b"]" * 64 + b"}"),
        ("application/json; charset=x-unknown", b'{"update_id": 9}'),
        ("application/json", b'{"update_id": 9, "message": "\xff"}'),
    ],
)
async def test_deep_json_bad_charsets_and_invalid_utf8_are_400(hook, sessions, content_type, body):
    client, seen = hook
    resp = await client.post(
        WEBHOOK_PATH, data=body, headers={SECRET_HEADER: SECRET, "Content-Type": content_type}
    )
    assert resp.status == 400, await resp.text()
    assert (await resp.json())["ok"] is False
    assert seen == [] and await _stored(sessions) == 0


async def test_a_declared_length_over_the_cap_is_413_unread(hook):
    client, seen = hook
    resp = await client.post(
        WEBHOOK_PATH,
        data=b"{" + b" " * MAX_UPDATE_BYTES + b"}",
        headers={SECRET_HEADER: SECRET, "Content-Type": "application/json"},
    )
    assert resp.status == 413 and seen == []
