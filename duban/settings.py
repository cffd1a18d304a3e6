"""Settings from the environment (``DUBAN_*``) and an optional ``.env`` file, in groups.

Each group (database, web, telegram, mail, notifier, render, …) is handed to the part that
uses it; every field keeps its flat variable name (``DUBAN_WEB_PORT``, …) and is documented
in ``.env.example``. Secrets are ``SecretStr``: they print as ``**********``, never logged.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final, Literal
from urllib.parse import parse_qs, unquote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from supervision.doc_numbers import DEFAULT_PATTERN, check_pattern
from supervision.errors import ValidationFailed

if TYPE_CHECKING:
    from notifier.mailbox.config import ImapConfig


class SettingsError(Exception):
    """A missing or malformed setting; the message names it in one line."""


#: The built-in secret key: good for tests and the first look, refused by the services.
DEV_SECRET_KEY = "dev-only-change-me"  # noqa: S105 -- the known default the services refuse
MIN_SECRET_KEY_LENGTH = 32


class SmtpConfig(BaseModel):
    """Parsed ``DUBAN_SMTP_URL`` (``smtp://user:pass@host:port?starttls=true``)."""

    host: str
    port: int
    username: str | None = None
    password: SecretStr | None = None
    starttls: bool = False
    use_tls: bool = False
    timeout: float = 15.0


def parse_smtp_url(url: str) -> SmtpConfig:
    """Parse an ``smtp://`` or ``smtps://`` URL into an :class:`SmtpConfig`."""
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps"):
        raise ValueError("must start with smtp:// or smtps://")
    if not parts.hostname:
        raise ValueError("has no host")
    try:
        port = parts.port
    except ValueError as exc:
        raise ValueError("has an invalid port") from exc
    query = {k: v[-1].lower() for k, v in parse_qs(parts.query).items()}
    truthy = {"1", "true", "yes", "on"}
    use_tls = parts.scheme == "smtps" or query.get("ssl", "") in truthy
    return SmtpConfig(
        host=parts.hostname,
        port=port or (465 if use_tls else 25),
        username=unquote(parts.username) if parts.username else None,
        password=SecretStr(unquote(parts.password)) if parts.password else None,
        starttls=query.get("starttls", "") in truthy,
        use_tls=use_tls,
        timeout=float(query.get("timeout", "15")),
    )


class _Group(BaseSettings):
    """One group of settings; each field reads the ``DUBAN_*`` variable named in its alias."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", populate_by_name=True
    )


def _env(name: str, default: Any, description: str, **constraints: Any) -> Any:
    """A field read from ``DUBAN_<NAME>`` (the environment or ``.env``)."""
    return Field(default, validation_alias=f"DUBAN_{name}", description=description, **constraints)


class DatabaseSettings(_Group):
    """Where the data lives."""

    url: str = _env(
        "DATABASE_URL",
        "sqlite+aiosqlite:///./duban.db",
        "sqlite+aiosqlite:///file.db (one process) or postgresql+asyncpg://user:pass@host/db",
    )

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
        return value


class RedisSettings(_Group):
    """Redis: jobs, rate limits and bot dialogs of a multi-process deployment."""

    url: str | None = _env(
        "REDIS_URL", None, "redis://host:6379/0; unset: everything runs in one process"
    )

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        assert value is not None
        if not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis:// or rediss://")
        return value


class OfficeSettings(_Group):
    """The office: its name in messages, its time zone and its language."""

    name: str = _env("OFFICE_NAME", "督查室", "the office's name in messages and pages")
    timezone: str = _env("TIMEZONE", "Asia/Shanghai", "the office's time zone (IANA name)")
    bulletin_number: str = _env(
        "BULLETIN_NUMBER",
        DEFAULT_PATTERN,
        "the 发文字号 of a bulletin document: {n} its number in the year, {year} the year",
    )
    bulletin_copy_to: str = _env(
        "BULLETIN_COPY_TO",
        "",
        "抄送 of a bulletin document: the offices it is copied to, separated by 、 or commas",
    )

    @field_validator("bulletin_number")
    @classmethod
    def _check_number(cls, value: str) -> str:
        try:
            return check_pattern(value)
        except ValidationFailed as exc:
            raise ValueError(str(exc)) from None

    @property
    def copy_to(self) -> tuple[str, ...]:
        """The 抄送 offices, in the order given."""
        parts = self.bulletin_copy_to.replace("，", "、").replace(",", "、").split("、")
        return tuple(p.strip() for p in parts if p.strip())

    locale: Literal["zh", "en"] = _env(
        "OFFICE_LOCALE", "zh", "the office's language for the command line: zh or en"
    )

    @field_validator("timezone")
    @classmethod
    def _check_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @property
    def tz(self) -> ZoneInfo:
        """The office's time zone."""
        return ZoneInfo(self.timezone)


class WebSettings(_Group):
    """The web admin, JSON API and webhooks."""

    host: str = _env("WEB_HOST", "127.0.0.1", "address the web server listens on")
    port: int = _env("WEB_PORT", 8080, "port the web server listens on", ge=1, le=65535)
    public_url: str | None = _env(
        "PUBLIC_URL", None, "the admin's public URL, for links in messages (https://…)"
    )
    session_idle_minutes: float = _env(
        "SESSION_IDLE_MINUTES", 120.0, "a web session ends after this long without a request", gt=0
    )
    session_max_hours: float = _env(
        "SESSION_MAX_HOURS", 12.0, "a web session ends this long after login", gt=0
    )
    trusted_proxy_hops: int = _env(
        "TRUSTED_PROXY_HOPS",
        0,
        "reverse proxies in front that append to X-Forwarded-For (0: the TCP peer is the client)",
        ge=0,
        le=10,
    )

    @property
    def base_url(self) -> str:
        """The public URL of the web admin, for links in messages."""
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")


class SecuritySettings(_Group):
    """Keys: session cookies, CSRF tokens and sealed invite links."""

    secret_key: SecretStr = _env(
        "SECRET_KEY",
        SecretStr(DEV_SECRET_KEY),
        f"a random value of at least {MIN_SECRET_KEY_LENGTH} characters (the services refuse "
        "the built-in one)",
    )

    def require_secret_key(self) -> None:
        """Raise SettingsError unless the secret key is set and long enough (the services)."""
        key = self.secret_key.get_secret_value()
        if key == DEV_SECRET_KEY or len(key) < MIN_SECRET_KEY_LENGTH:
            raise SettingsError(
                "setting DUBAN_SECRET_KEY must be set to a random value of at least "
                f"{MIN_SECRET_KEY_LENGTH} characters (e.g. the output of "
                "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`)"
            )


class TelegramSettings(_Group):
    """The Telegram bot: its token, webhook and flood limits."""

    token: SecretStr | None = _env("TELEGRAM_TOKEN", None, "the bot token; unset: no Telegram")
    api_base: str | None = _env(
        "TELEGRAM_API_BASE", None, "another Bot API server (a local one, or a test fake)"
    )
    bot_username: str | None = _env(
        "TELEGRAM_BOT_USERNAME", None, "the bot's @username, for invite links"
    )
    webhook_url: str | None = _env(
        "TELEGRAM_WEBHOOK_URL", None, "the public webhook URL; unset: long polling"
    )
    webhook_secret: SecretStr | None = _env(
        "TELEGRAM_WEBHOOK_SECRET", None, "the webhook's secret token (needed with a webhook)"
    )
    rate: float = _env("TELEGRAM_RATE", 30.0, "messages per second to all chats", gt=0)
    chat_rate: float = _env("TELEGRAM_CHAT_RATE", 1.0, "messages per second to one chat", gt=0)

    @property
    def bot_token(self) -> str | None:
        """The Telegram bot token, or None when it is unset or empty (no Telegram)."""
        token = self.token.get_secret_value() if self.token else ""
        return token or None


class MailSettings(_Group):
    """Outgoing e-mail."""

    smtp_url: SecretStr | None = _env(
        "SMTP_URL",
        None,
        "smtp://user:pass@host:587?starttls=true or smtps://…:465; unset: mail goes to the log",
    )
    mail_from: str = _env("MAIL_FROM", "督查室 <duban@localhost>", "the From of every e-mail")
    imap_url: SecretStr | None = _env(
        "IMAP_URL",
        None,
        "the office mailbox replies are read from: imaps://user:pass@host:993/INBOX "
        "(user part URL-encoded; ?idle=no polls, ?move=Folder moves handled mail)",
    )
    reply_to: str | None = _env(
        "MAIL_REPLY_TO",
        None,
        "the address reminders name as Reply-To, signed per recipient as local+<token>@domain",
    )
    attachment_max_mb: float = _env(
        "MAIL_ATTACHMENT_MAX_MB", 10.0, "largest attachment of an e-mail reply, in MB", gt=0, le=100
    )
    attachments_total_mb: float = _env(
        "MAIL_ATTACHMENTS_TOTAL_MB",
        20.0,
        "all attachments of one e-mail reply together, in MB",
        gt=0,
        le=200,
    )

    @field_validator("smtp_url")
    @classmethod
    def _check_smtp_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        parse_smtp_url(value.get_secret_value())
        return value

    @property
    def smtp(self) -> SmtpConfig | None:
        """The parsed SMTP settings, or None when mail is not configured."""
        if self.smtp_url is None:
            return None
        return parse_smtp_url(self.smtp_url.get_secret_value())

    @field_validator("imap_url")
    @classmethod
    def _check_imap_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        from notifier.mailbox.config import parse_imap_url

        parse_imap_url(value.get_secret_value())
        return value

    @field_validator("reply_to")
    @classmethod
    def _check_reply_to(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        from supervision.emails import BadEmail, normal_email

        try:
            address = normal_email(value)
        except BadEmail as exc:
            raise ValueError(str(exc)) from None
        if "+" in address.partition("@")[0]:
            raise ValueError("must be a plain address: Duban adds +<token> itself")
        return address

    @property
    def imap(self) -> ImapConfig | None:
        """The parsed mailbox settings, or None when e-mail replies are not read."""
        if self.imap_url is None:
            return None
        from notifier.mailbox.config import parse_imap_url

        return parse_imap_url(self.imap_url.get_secret_value())


class WeComSettings(_Group):
    """The WeCom (企业微信 / 政务微信) self-built application: messages to people, callbacks."""

    corp_id: str | None = _env("WECOM_CORP_ID", None, "the CorpID (我的企业); unset: no WeCom app")
    agent_id: int | None = _env("WECOM_AGENT_ID", None, "the self-built application's AgentId")
    secret: SecretStr | None = _env("WECOM_SECRET", None, "the application's Secret")
    token: SecretStr | None = _env(
        "WECOM_TOKEN", None, "the callback Token (接收消息 → API接收); unset: no callbacks"
    )
    aes_key: SecretStr | None = _env(
        "WECOM_AES_KEY", None, "the callback EncodingAESKey (43 characters)"
    )
    api_base: str = _env(
        "WECOM_API_BASE",
        "https://qyapi.weixin.qq.com",
        "the WeCom API server (a 政务微信 private deployment, or a test fake)",
    )
    oauth_base: str = _env(
        "WECOM_OAUTH_BASE",
        "https://open.weixin.qq.com",
        "where WeCom's web authorize page is (binding by invite link; a private deployment)",
    )
    rate: float = _env("WECOM_RATE", 20.0, "application messages per second in all", gt=0)
    user_rate: float = _env(
        "WECOM_USER_RATE", 0.5, "messages per second to one person (WeCom: 30 a minute)", gt=0
    )

    @field_validator("aes_key")
    @classmethod
    def _check_aes_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        from notifier.wecom.crypto import WeComCryptoError, aes_key

        try:
            aes_key(value.get_secret_value())
        except WeComCryptoError as exc:
            raise ValueError(f"DUBAN_WECOM_AES_KEY: {exc}") from None
        return value

    @property
    def sending(self) -> bool:
        """True when CorpID, AgentId and Secret are all set (the app can send)."""
        return bool(
            self.corp_id and self.agent_id and self.secret and self.secret.get_secret_value()
        )

    @property
    def receiving(self) -> bool:
        """True when the callback Token and EncodingAESKey are set too."""
        return bool(self.sending and self.token and self.token.get_secret_value() and self.aes_key)


class DingTalkSettings(_Group):
    """DingTalk (钉钉) work notifications (工作通知) to people, from an internal application."""

    app_key: str | None = _env(
        "DINGTALK_APP_KEY", None, "the application's AppKey (Client ID); unset: no DingTalk app"
    )
    app_secret: SecretStr | None = _env(
        "DINGTALK_APP_SECRET", None, "the application's AppSecret (Client Secret)"
    )
    agent_id: int | None = _env("DINGTALK_AGENT_ID", None, "the application's AgentId")
    api_base: str = _env(
        "DINGTALK_API_BASE",
        "https://oapi.dingtalk.com",
        "the DingTalk API server (a private deployment, or a test fake)",
    )
    rate: float = _env("DINGTALK_RATE", 20.0, "work notifications per second in all", gt=0)
    user_rate: float = _env(
        "DINGTALK_USER_RATE", 0.5, "work notifications per second to one person", gt=0
    )

    @property
    def sending(self) -> bool:
        """True when AppKey, AppSecret and AgentId are all set."""
        return bool(
            self.app_key
            and self.agent_id
            and self.app_secret
            and self.app_secret.get_secret_value()
        )


class FeishuSettings(_Group):
    """Feishu (飞书) messages to people, from a self-built application's bot."""

    app_id: str | None = _env("FEISHU_APP_ID", None, "the application's App ID; unset: no app")
    app_secret: SecretStr | None = _env("FEISHU_APP_SECRET", None, "the App Secret")
    api_base: str = _env(
        "FEISHU_API_BASE",
        "https://open.feishu.cn",
        "the Feishu API server (https://open.larksuite.com for Lark, or a test fake)",
    )
    rate: float = _env("FEISHU_RATE", 20.0, "app messages per second in all", gt=0)
    user_rate: float = _env("FEISHU_USER_RATE", 0.5, "messages per second to one person", gt=0)

    @property
    def sending(self) -> bool:
        """True when App ID and App Secret are set."""
        return bool(self.app_id and self.app_secret and self.app_secret.get_secret_value())


class NotifierSettings(_Group):
    """The scan and delivery (the runner or the arq worker)."""

    scan_interval_seconds: float = _env(
        "SCAN_INTERVAL_SECONDS", 60.0, "seconds between scans for due ladder steps", gt=0
    )
    scan_timeout_seconds: float = _env(
        "SCAN_TIMEOUT_SECONDS",
        600.0,
        "how long the worker's scan and sweep jobs may run (one send's bound is the lease)",
        gt=0,
    )
    delivery_lease_seconds: float = _env(
        "DELIVERY_LEASE_SECONDS",
        300.0,
        "a row being sent is taken over by another worker after this long",
        gt=0,
    )
    # 30 in flight keep Telegram at its ~30 msg/s cap (docs/BENCHMARKS.md); each waits on I/O.
    delivery_concurrency: int = _env(
        "DELIVERY_CONCURRENCY", 30, "sends in flight at once per process", ge=1, le=1000
    )
    sweep_interval_seconds: float = _env(
        "SWEEP_INTERVAL_SECONDS", 60.0, "seconds between sweeps for lost jobs", gt=0
    )
    sweep_after_seconds: float = _env(
        "SWEEP_AFTER_SECONDS", 60.0, "a due row waiting this long has lost its job", ge=0
    )
    robot_hosts: str = _env(
        "ROBOT_HOSTS",
        "",
        "more servers group robot webhooks may point at, comma-separated host or host:port "
        "(e.g. a 政务微信 private deployment); http is allowed there",
    )

    @property
    def robot_host_list(self) -> tuple[str, ...]:
        """`robot_hosts` as a tuple of lower-case ``host`` / ``host:port``."""
        return tuple(h.strip().lower() for h in self.robot_hosts.split(",") if h.strip())


class RenderSettings(_Group):
    """Render workers: admin templates run only there, under hard limits."""

    timeout_seconds: float = _env(
        "RENDER_TIMEOUT_SECONDS", 2.0, "wall-clock limit of one render", gt=0, le=60
    )
    memory_mb: int = _env(
        "RENDER_MEMORY_MB", 256, "address space of one render worker", ge=64, le=8192
    )
    workers: int = _env("RENDER_WORKERS", 2, "render worker processes per pool", ge=1, le=32)


class LoggingSettings(_Group):
    """Logging."""

    level: str = _env("LOG_LEVEL", "INFO", "DEBUG, INFO, WARNING, ERROR or CRITICAL")

    @field_validator("level")
    @classmethod
    def _check_level(cls, value: str) -> str:
        level = value.strip().upper()
        if level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
            raise ValueError("must be DEBUG, INFO, WARNING, ERROR or CRITICAL")
        return level


#: each group of ``Settings``, by its attribute name
GROUPS: Final[dict[str, type[_Group]]] = {
    "database": DatabaseSettings,
    "redis": RedisSettings,
    "office": OfficeSettings,
    "web": WebSettings,
    "security": SecuritySettings,
    "telegram": TelegramSettings,
    "mail": MailSettings,
    "wecom": WeComSettings,
    "dingtalk": DingTalkSettings,
    "feishu": FeishuSettings,
    "notifier": NotifierSettings,
    "render": RenderSettings,
    "logging": LoggingSettings,
}


def env_names() -> dict[str, tuple[str, str]]:
    """Every setting's variable (``DUBAN_WEB_PORT``) → its (group, field)."""
    return {
        str(info.validation_alias): (group, name)
        for group, cls in GROUPS.items()
        for name, info in cls.model_fields.items()
    }


class Settings(BaseModel):
    """All of Duban's configuration, in groups; build one per process and hand each part
    its group (the edges build their own small config dataclasses from it).

    Each group reads its ``DUBAN_*`` variables when it is not given. Keyword arguments may
    also name a setting by its variable without ``DUBAN_`` (``Settings(web_port=8081)``).
    """

    model_config = ConfigDict(frozen=True)

    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    redis: RedisSettings = Field(default_factory=RedisSettings)
    office: OfficeSettings = Field(default_factory=OfficeSettings)
    web: WebSettings = Field(default_factory=WebSettings)
    security: SecuritySettings = Field(default_factory=SecuritySettings)
    telegram: TelegramSettings = Field(default_factory=TelegramSettings)
    mail: MailSettings = Field(default_factory=MailSettings)
    wecom: WeComSettings = Field(default_factory=WeComSettings)
    dingtalk: DingTalkSettings = Field(default_factory=DingTalkSettings)
    feishu: FeishuSettings = Field(default_factory=FeishuSettings)
    notifier: NotifierSettings = Field(default_factory=NotifierSettings)
    render: RenderSettings = Field(default_factory=RenderSettings)
    logging: LoggingSettings = Field(default_factory=LoggingSettings)

    @model_validator(mode="before")
    @classmethod
    def _by_variable(cls, data: Any) -> Any:
        """Fold settings named by variable (``web_port=...``) into their groups."""
        if not isinstance(data, dict):
            return data
        return _grouped(data, env_file=".env")

    @property
    def single_process(self) -> bool:
        """True when no Redis is configured: everything runs inside one process."""
        return self.redis.url is None


def _grouped(data: dict[str, Any], *, env_file: Any) -> dict[str, Any]:
    """``data`` with every setting named by variable moved into its group, and each group
    that got one built from the environment and ``env_file`` plus those values."""
    names = env_names()
    out: dict[str, Any] = {}
    given: dict[str, dict[str, Any]] = {}
    for key, value in data.items():
        variable = "DUBAN_" + key.upper()
        if key in GROUPS or variable not in names:
            out[key] = value
            continue
        group, _ = names[variable]
        given.setdefault(group, {})[variable] = value  # by alias: errors name the variable
    for group, values in given.items():
        if group in out:
            raise SettingsError(f"settings of group {group!r} given twice")
        out[group] = GROUPS[group](_env_file=env_file, **values)
    return out


def load_settings(_env_file: Any = ".env", **overrides: object) -> Settings:
    """Build settings from the environment and ``_env_file`` (None: none); a bad value raises
    one clear SettingsError. ``overrides`` name settings by variable (``web_port=8081``)."""
    try:
        data = _grouped(overrides, env_file=_env_file)
        for group, cls in GROUPS.items():
            data.setdefault(group, cls(_env_file=_env_file))
        return Settings(**data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = [str(p) for p in first["loc"]]
        name = next((p for p in where if p.startswith("DUBAN_")), None)
        if name is None:
            name = "DUBAN_" + "_".join(where).upper()
        reason = str(first["msg"]).removeprefix("Value error, ")
        raise SettingsError(f"setting {name} is invalid: {reason}") from None
