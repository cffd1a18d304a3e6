"""The aiohttp application factory: health, and the admin pages, API and webhook mounted here."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from notifier.templating import RenderLimits, RenderPool
from notifier.wecom.api import DEFAULT_OAUTH_BASE, WeComConfig
from supervision.clock import Clock, SystemClock
from supervision.doc_numbers import DEFAULT_PATTERN
from web.health import ROUNDS_KEY, Health, livez
from web.sessions import SessionPolicy
from web.throttle import LoginGuard

log = logging.getLogger("duban.web")


@dataclass
class WebConfig:
    """What the web edge needs from the settings (built by the composition root)."""

    secret_key: str
    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Shanghai"))
    base_url: str = "http://127.0.0.1:8080"
    office_name: str = "督查室"
    #: a bulletin document's 发文字号 pattern and its 抄送 offices (`supervision.doc_numbers`)
    bulletin_number: str = DEFAULT_PATTERN
    bulletin_copy_to: tuple[str, ...] = ()
    office_locale: str = "zh"  # the office's language: the import templates' headers
    redis_url: str | None = None
    secure_cookies: bool = False
    telegram_bot_username: str | None = None  # for invite deep links (t.me/<bot>?start=)
    #: the WeCom application, when invites may bind WeCom accounts (web authorization)
    wecom: WeComConfig | None = None
    wecom_oauth_base: str = DEFAULT_OAUTH_BASE
    sessions: SessionPolicy = field(default_factory=SessionPolicy)
    proxy_hops: int = 0  # trusted proxies appending to X-Forwarded-For (0: use the peer)
    #: set: /healthz also judges the scan and the delivery against this interval
    scan_interval_seconds: float | None = None
    #: the render workers of admin-template previews and saves
    render_limits: RenderLimits = field(default_factory=RenderLimits)
    #: servers besides the platforms' own that group robot webhooks may point at
    robot_hosts: tuple[str, ...] = ()


@dataclass
class WebDeps:
    """Shared clients handed to every handler through ``app[DEPS]``."""

    config: WebConfig
    sessions: async_sessionmaker[AsyncSession]
    clock: Clock = field(default_factory=SystemClock)
    redis: Any = None  # arq/redis client when configured; health checks ping it
    login_guard: LoginGuard = field(default_factory=LoginGuard)
    extra: dict[str, Any] = field(default_factory=dict)
    #: render workers owned by the caller, who closes them (tests share one pool among many
    #: apps); None: the app starts its own under ``config.render_limits`` and closes them
    render_pool: RenderPool | None = None


DEPS = web.AppKey("deps", WebDeps)

# Other parts of the web edge register their routes here: f(app) adds routes/middlewares.
AppPart = Callable[[web.Application], None]


async def healthz(request: web.Request) -> web.Response:
    """Each part's state (``web.health``); 503 when any fails."""
    deps = request.app[DEPS]
    ok, body = await Health(
        deps.sessions,
        clock=deps.clock,
        redis=deps.redis,
        scan_interval=deps.config.scan_interval_seconds,
        rounds=deps.extra.get(ROUNDS_KEY),
    ).report()
    return web.json_response(body, status=200 if ok else 503)


#: HSTS for a site served over HTTPS: a year; no includeSubDomains, the office's domain may
#: host other services that are not ready for it.
HSTS = "max-age=31536000"


async def security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """On every response: no software version in ``Server``; HSTS when the site is https."""
    response.headers["Server"] = "Duban"
    if request.app[DEPS].config.base_url.startswith("https://"):
        response.headers.setdefault("Strict-Transport-Security", HSTS)


def create_app(deps: WebDeps, parts: list[AppPart] | None = None) -> web.Application:
    """Build the web application with its dependencies and any extra parts."""
    app = web.Application(client_max_size=20 * 1024 * 1024)
    app[DEPS] = deps
    app.on_response_prepare.append(security_headers)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/livez", livez)
    for part in parts or []:
        part(app)
    return app
