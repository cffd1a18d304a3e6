"""Process wiring: which parts run in this process, and for how long."""

from __future__ import annotations

import asyncio
import gc
import logging
from datetime import timedelta

from aiohttp import web
from redis.asyncio import Redis

from duban.chat import open_chat
from duban.runtime import Runtime
from duban.settings import RenderSettings, Settings
from notifier.config import MailConfig, NotifierConfig
from notifier.digest import scan_and_group
from notifier.dingtalk import DingTalkConfig
from notifier.feishu import FeishuConfig
from notifier.runner import RoundLog, Runner
from notifier.templating import RenderLimits
from notifier.tokens import token_store
from notifier.wecom.api import WeComApi, WeComConfig, token_key
from notifier.wecom.crypto import WeComCrypt
from notifier.worker import NotifierDeps, ScanFn
from supervision.wecom_replies import WeComReplies
from web.admin import setup_admin
from web.api import setup_api
from web.app import AppPart, WebConfig, WebDeps, create_app
from web.health import ROUNDS_KEY
from web.metrics import SCAN_METRICS_KEY, ScanMetrics, record_scans, setup_metrics
from web.sessions import SessionPolicy
from web.views.bulletins import setup_bulletin_pages
from web.views.tokens import setup_token_pages
from web.wecom import setup_wecom_callback
from web.wecom_binding import setup_wecom_binding

log = logging.getLogger("duban")

#: This process's scan figures for GET /metrics: whoever runs the scanner in this process
#: wraps its scan function with ``web.metrics.record_scans(scan, SCAN_METRICS, clock)``.
SCAN_METRICS = ScanMetrics()
#: The in-process runner's last rounds (``duban run`` without Redis), for GET /healthz.
NOTIFIER_ROUNDS = RoundLog()


def settle_gc() -> None:
    """Once the process is built: take what start-up made out of the cyclic GC, collect less.

    Everything alive now (modules, ORM mappers, routers, pydantic models) lives as long as the
    process, yet every full collection walked it again: with the default thresholds the
    collector cost the webhook about a quarter of its CPU (``bench/bot_ingest.py``). Frozen
    objects are never scanned; cycles made later are still collected, just less often.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 20, 20)


def render_limits(render: RenderSettings) -> RenderLimits:
    """The render workers' hard limits, from their settings."""
    return RenderLimits(
        timeout_seconds=render.timeout_seconds, memory_mb=render.memory_mb, workers=render.workers
    )


def web_deps(runtime: Runtime) -> WebDeps:
    """The web edge's dependencies, built from the settings."""
    s = runtime.settings
    web_settings = s.web
    config = WebConfig(
        secret_key=s.security.secret_key.get_secret_value(),
        tz=s.office.tz,
        base_url=web_settings.base_url,
        office_name=s.office.name,
        bulletin_number=s.office.bulletin_number,
        bulletin_copy_to=s.office.copy_to,
        office_locale=s.office.locale,
        redis_url=s.redis.url,
        secure_cookies=web_settings.base_url.startswith("https://"),
        telegram_bot_username=s.telegram.bot_username,
        wecom=wecom_app_config(s),
        wecom_oauth_base=s.wecom.oauth_base,
        sessions=SessionPolicy(
            idle=timedelta(minutes=web_settings.session_idle_minutes),
            lifetime=timedelta(hours=web_settings.session_max_hours),
        ),
        proxy_hops=web_settings.trusted_proxy_hops,
        scan_interval_seconds=s.notifier.scan_interval_seconds,
        render_limits=render_limits(s.render),
        robot_hosts=s.notifier.robot_host_list,
    )
    extra: dict[str, object] = {SCAN_METRICS_KEY: SCAN_METRICS}
    if s.single_process:  # the runner scans and delivers in this process
        extra[ROUNDS_KEY] = NOTIFIER_ROUNDS
    return WebDeps(config=config, sessions=runtime.sessions, clock=runtime.clock, extra=extra)


def wecom_parts(runtime: Runtime) -> list[AppPart]:
    """The WeCom routes: binding by invite link when the application can call WeCom, and the
    callback when its Token and EncodingAESKey are set too."""
    wecom = runtime.settings.wecom
    config = wecom_app_config(runtime.settings)
    parts: list[AppPart] = []
    if config is not None:
        key = token_key(config.corp_id, config.agent_id)  # the token the notifier shares
        store = token_store(runtime.settings.redis.url, key)
        api = WeComApi(config, store=store, clock=runtime.clock)
        parts.append(lambda app: setup_wecom_binding(app, api))
    if not (wecom.receiving and wecom.corp_id and wecom.token and wecom.aes_key):
        return parts
    crypt = WeComCrypt(
        wecom.token.get_secret_value(), wecom.aes_key.get_secret_value(), wecom.corp_id
    )
    replies = WeComReplies(clock=runtime.clock, tz=runtime.settings.office.tz)
    parts.append(lambda app: setup_wecom_callback(app, crypt, replies))
    return parts


async def serve_web(runtime: Runtime, stop: asyncio.Event) -> None:
    """Serve the web app (and the Telegram bot, when a token is set) until ``stop`` is set."""
    async with open_chat(runtime) as chat:
        parts: list[AppPart] = [
            setup_admin,
            setup_bulletin_pages,
            setup_token_pages,
            setup_api,
            setup_metrics,
            *(chat.parts if chat else []),
            *wecom_parts(runtime),
        ]
        deps = web_deps(runtime)
        if runtime.settings.redis.url:  # /healthz pings it
            deps.redis = Redis.from_url(runtime.settings.redis.url, socket_timeout=5)
        app = create_app(deps, parts)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, runtime.settings.web.host, runtime.settings.web.port)
        await site.start()
        settle_gc()
        log.info("serving on %s", runtime.settings.web.base_url)
        try:
            await stop.wait()
        finally:
            await runner.cleanup()
            if deps.redis is not None:
                await deps.redis.aclose()


def wecom_app_config(settings: Settings) -> WeComConfig | None:
    """The WeCom application's API configuration, or None when it cannot send."""
    wecom = settings.wecom
    if not (wecom.sending and wecom.corp_id and wecom.agent_id and wecom.secret):
        return None
    return WeComConfig(
        corp_id=wecom.corp_id,
        agent_id=wecom.agent_id,
        secret=wecom.secret.get_secret_value(),
        api_base=wecom.api_base,
    )


def notifier_config(settings: Settings) -> NotifierConfig:
    """The notifier edge's configuration, built from the settings."""
    smtp = settings.mail.smtp
    mail = None
    if smtp is not None:
        mail = MailConfig(
            host=smtp.host,
            port=smtp.port,
            username=smtp.username,
            password=smtp.password.get_secret_value() if smtp.password else None,
            starttls=smtp.starttls,
            use_tls=smtp.use_tls,
            timeout=smtp.timeout,
        )
    wecom = settings.wecom
    wecom_config = wecom_app_config(settings)
    dingtalk = settings.dingtalk
    dingtalk_config = None
    if dingtalk.sending and dingtalk.app_key and dingtalk.agent_id and dingtalk.app_secret:
        dingtalk_config = DingTalkConfig(
            app_key=dingtalk.app_key,
            agent_id=dingtalk.agent_id,
            app_secret=dingtalk.app_secret.get_secret_value(),
            api_base=dingtalk.api_base,
            rate=dingtalk.rate,
            user_rate=dingtalk.user_rate,
        )
    feishu = settings.feishu
    feishu_config = None
    if feishu.sending and feishu.app_id and feishu.app_secret:
        feishu_config = FeishuConfig(
            app_id=feishu.app_id,
            app_secret=feishu.app_secret.get_secret_value(),
            api_base=feishu.api_base,
            rate=feishu.rate,
            user_rate=feishu.user_rate,
        )
    return NotifierConfig(
        tz=settings.office.tz,
        office_name=settings.office.name,
        base_url=settings.web.base_url,
        telegram_token=settings.telegram.bot_token,
        telegram_api_base=settings.telegram.api_base or None,
        mail=mail,
        mail_from=settings.mail.mail_from,
        mail_reply_to=settings.mail.reply_to,
        wecom=wecom_config,
        wecom_rate=wecom.rate,
        wecom_user_rate=wecom.user_rate,
        dingtalk=dingtalk_config,
        feishu=feishu_config,
        redis_url=settings.redis.url,
        secret_key=settings.security.secret_key.get_secret_value(),
        scan_interval_seconds=settings.notifier.scan_interval_seconds,
        scan_timeout_seconds=settings.notifier.scan_timeout_seconds,
        lease_seconds=settings.notifier.delivery_lease_seconds,
        concurrency=settings.notifier.delivery_concurrency,
        sweep_interval_seconds=settings.notifier.sweep_interval_seconds,
        sweep_after_seconds=settings.notifier.sweep_after_seconds,
        telegram_rate=settings.telegram.rate,
        telegram_chat_rate=settings.telegram.chat_rate,
        render=render_limits(settings.render),
    )


def notifier_scan(runtime: Runtime, horizon: timedelta = timedelta(0)) -> ScanFn:
    """``scan_once`` and the grouping into digests after it, timed into this process's
    /metrics figures; ``horizon``: group rows due that much later too (see `scan_and_group`)."""
    return record_scans(scan_and_group(horizon), SCAN_METRICS, runtime.clock)


def notifier_deps(runtime: Runtime) -> NotifierDeps:
    """The arq worker's dependencies (``duban worker``)."""
    return NotifierDeps(
        config=notifier_config(runtime.settings),
        sessions=runtime.sessions,
        clock=runtime.clock,
        # The arq scan queues the rows due before the next scan: group those first.
        scan=notifier_scan(
            runtime, timedelta(seconds=runtime.settings.notifier.scan_interval_seconds)
        ),
    )


async def run_notifier(runtime: Runtime, stop: asyncio.Event) -> None:
    """Scan and deliver inside this process (single-process mode) until ``stop`` is set."""
    config = notifier_config(runtime.settings)
    async with Runner(
        config,
        runtime.sessions,
        clock=runtime.clock,
        scan=notifier_scan(runtime),
        log_to=NOTIFIER_ROUNDS,
    ) as runner:
        with runner.waking_on_outbox_commits():
            await runner.run(stop)
