"""Process wiring: which parts run in this process, and for how long."""

from __future__ import annotations

import asyncio
import logging
import signal

from aiohttp import web

from duban.runtime import Runtime
from web.admin import setup_admin
from web.app import WebConfig, WebDeps, create_app

log = logging.getLogger("duban")


def web_deps(runtime: Runtime) -> WebDeps:
    """The web edge's dependencies, built from the settings."""
    s = runtime.settings
    config = WebConfig(
        secret_key=s.secret_key.get_secret_value(),
        tz=s.tz,
        base_url=s.base_url,
        office_name=s.office_name,
        redis_url=s.redis_url,
        secure_cookies=s.base_url.startswith("https://"),
        telegram_bot_username=s.telegram_bot_username,
    )
    return WebDeps(config=config, sessions=runtime.sessions, clock=runtime.clock)


async def serve_web(runtime: Runtime, stop: asyncio.Event) -> None:
    """Serve the web app on the configured host and port until ``stop`` is set."""
    app = create_app(web_deps(runtime), [setup_admin])
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, runtime.settings.web_host, runtime.settings.web_port)
    await site.start()
    log.info("serving on %s", runtime.settings.base_url)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


def stop_event() -> asyncio.Event:
    """An event set on SIGINT or SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return stop
