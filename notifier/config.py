"""The notifier edge's configuration: a plain dataclass the composition root builds from Settings.

Imports nothing from ``duban``; secrets are kept out of ``repr`` so a logged config shows none.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from notifier.dingtalk import DingTalkConfig
from notifier.feishu import FeishuConfig
from notifier.templating import RenderLimits
from notifier.wecom.api import WeComConfig

#: Seconds to wait before retry n (1-based) after a transient failure; after the last one the
#: row fails for good and falls back (morpheus-style schedule as a list).
DEFAULT_RETRY_SCHEDULE: tuple[float, ...] = (10, 30, 60, 300, 900, 1800, 3600, 3 * 3600, 6 * 3600)


@dataclass(frozen=True)
class MailConfig:
    """SMTP server and envelope settings (from ``DUBAN_SMTP_URL`` and ``DUBAN_MAIL_FROM``)."""

    host: str
    port: int
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    starttls: bool = False
    use_tls: bool = False
    timeout: float = 15.0


@dataclass(frozen=True)
class NotifierConfig:
    """Everything delivery, the worker and the in-process runner need from the settings."""

    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Shanghai"))
    office_name: str = "督查室"
    base_url: str = "http://127.0.0.1:8080"
    telegram_token: str | None = field(default=None, repr=False)
    telegram_api_base: str | None = None
    mail: MailConfig | None = None
    mail_from: str = "督查室 <duban@localhost>"
    #: the mailbox Duban reads replies from (``DUBAN_MAIL_REPLY_TO``): reminder e-mails
    #: carry a signed ``Reply-To: local+<token>@domain`` there; None: no Reply-To
    mail_reply_to: str | None = None
    #: the WeCom self-built application for messages to individuals; None: not configured
    wecom: WeComConfig | None = None
    #: WeCom app: messages a second for the app, and per person (30 a minute per member)
    wecom_rate: float = 20.0
    wecom_user_rate: float = 0.5
    #: DingTalk work notifications (工作通知) to individuals; None: not configured
    dingtalk: DingTalkConfig | None = None
    #: Feishu app messages to individuals; None: not configured
    feishu: FeishuConfig | None = None
    redis_url: str | None = field(default=None, repr=False)
    #: opens sealed payload values (invite links); None: such a message cannot be rendered
    secret_key: str | None = field(default=None, repr=False)
    retry_schedule: tuple[float, ...] = DEFAULT_RETRY_SCHEDULE
    #: a row in ``sending`` longer than this is taken to be lost with its worker
    lease_seconds: float = 300.0
    scan_interval_seconds: float = 60.0
    #: how often the worker's sweeper looks for rows whose job was lost
    sweep_interval_seconds: float = 60.0
    #: the sweeper re-enqueues pending rows that have been due this long
    sweep_after_seconds: float = 60.0
    #: due rows one sweep looks at; the next sweep continues where it stopped
    sweep_limit: int = 2_000
    #: the worker's scan and sweep jobs may run this long (the lease bounds one send)
    scan_timeout_seconds: float = 600.0
    #: deliveries in flight at once (runner tasks / arq ``max_jobs``)
    concurrency: int = 30
    #: Telegram flood limits held across all workers: per bot and per chat, messages/second
    telegram_rate: float = 30.0
    telegram_chat_rate: float = 1.0
    #: WeCom / DingTalk robots accept about 20 messages a minute each
    group_rate_per_minute: float = 20.0
    #: a rate-limit wait up to this long is slept through; a longer one defers the row
    max_wait_seconds: float = 10.0
    send_timeout_seconds: float = 30.0
    worker_name: str | None = None
    #: the render workers' hard limits (time and memory per render, processes)
    render: RenderLimits = field(default_factory=RenderLimits)
