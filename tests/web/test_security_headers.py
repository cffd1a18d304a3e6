"""Security headers on every response, and a Telegram webhook mounted outside /telegram/."""

from __future__ import annotations

from functools import partial

from aiogram import Bot, Dispatcher

from tests.web.conftest import SECRET
from web.admin import setup_admin
from web.app import HSTS, WebConfig, WebDeps, create_app
from web.telegram import SECRET_HEADER, setup_telegram_webhook


async def test_server_header_has_no_version_and_hsts_follows_https(
    sessions, clock, aiohttp_client_factory
) -> None:
    for base_url, hsts in (("http://127.0.0.1:8080", None), ("https://duban.example.gov.cn", HSTS)):
        config = WebConfig(secret_key=SECRET, base_url=base_url)
        app = create_app(WebDeps(config=config, sessions=sessions, clock=clock), [setup_admin])
        client = await aiohttp_client_factory(app)
        for path in ("/healthz", "/login", "/no-such-page"):
            response = await client.get(path, allow_redirects=False)
            assert response.headers["Server"] == "Duban", path
            assert response.headers.get("Strict-Transport-Security") == hsts, (base_url, path)


async def test_a_webhook_outside_telegram_prefix_needs_only_its_secret(
    sessions, clock, aiohttp_client_factory
) -> None:
    bot = Bot("123456:TEST-token-for-a-webhook-test")
    try:
        hook = partial(
            setup_telegram_webhook, dispatcher=Dispatcher(), bot=bot, secret="s3", path="/hooks/tg"
        )
        deps = WebDeps(config=WebConfig(secret_key=SECRET), sessions=sessions, clock=clock)
        client = await aiohttp_client_factory(create_app(deps, [setup_admin, hook]))
        # Reached the handler (no CSRF 403): a wrong secret is 401, a bad body 400.
        response = await client.post("/hooks/tg", data=b"{}", headers={SECRET_HEADER: "nope"})
        assert response.status == 401
        response = await client.post("/hooks/tg", data=b"[not json", headers={SECRET_HEADER: "s3"})
        assert response.status == 400
        # Only that exact path is let through: its neighbours still need a login and a token.
        response = await client.post("/hooks/tg2", data=b"{}", allow_redirects=False)
        assert response.status == 403
    finally:
        await bot.session.close()
