"""The aiohttp application factory: health now; admin pages, API and webhook are mounted here."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from notifier.templating import RenderLimits
from supervision.clock import Clock, SystemClock

log = logging.getLogger("duban.web")


@dataclass
class WebConfig:
    """What the web edge needs from the settings (built by the composition root)."""

    secret_key: str
    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Shanghai"))
    base_url: str = "http://127.0.0.1:8080"
    office_name: str = "督查室"
    redis_url: str | None = None
    secure_cookies: bool = False
    telegram_bot_username: str | None = None  # for invite deep links (t.me/<bot>?start=)
    #: the render workers of admin-template previews and saves
    render_limits: RenderLimits = field(default_factory=RenderLimits)


@dataclass
class WebDeps:
    """Shared clients handed to every handler through ``app[DEPS]``."""

    config: WebConfig
    sessions: async_sessionmaker[AsyncSession]
    clock: Clock = field(default_factory=SystemClock)
    redis: Any = None  # arq/redis client when configured; health checks ping it
    extra: dict[str, Any] = field(default_factory=dict)


DEPS = web.AppKey("deps", WebDeps)

# Other parts of the web edge register their routes here: f(app) adds routes/middlewares.
AppPart = Callable[[web.Application], None]


async def healthz(request: web.Request) -> web.Response:
    """Database (and Redis when configured) reachability; 503 when either is down."""
    deps = request.app[DEPS]
    checks: dict[str, str] = {}
    ok = True
    try:
        async with deps.sessions() as session:
            await session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # any failure means unhealthy; say which
        log.warning("health: database check failed: %s", exc.__class__.__name__)
        checks["database"] = "error"
        ok = False
    if deps.redis is not None:
        try:
            await deps.redis.ping()
            checks["redis"] = "ok"
        except Exception as exc:
            log.warning("health: redis check failed: %s", exc.__class__.__name__)
            checks["redis"] = "error"
            ok = False
    return web.json_response(
        {"status": "ok" if ok else "error", "checks": checks}, status=200 if ok else 503
    )


def create_app(deps: WebDeps, parts: list[AppPart] | None = None) -> web.Application:
    """Build the web application with its dependencies and any extra parts."""
    app = web.Application(client_max_size=20 * 1024 * 1024)
    app[DEPS] = deps
    app.router.add_get("/healthz", healthz)
    for part in parts or []:
        part(app)
    return app
