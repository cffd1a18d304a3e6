"""Settings from the environment (``DUBAN_*``) and an optional ``.env`` file.

Secrets are ``SecretStr``: they print as ``**********`` and are never logged.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated
from urllib.parse import parse_qs, unquote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

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


class Settings(BaseSettings):
    """All of Duban's configuration; build one per process and pass it down."""

    model_config = SettingsConfigDict(
        env_prefix="DUBAN_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    database_url: str = "sqlite+aiosqlite:///./duban.db"
    redis_url: str | None = None
    timezone: str = "Asia/Shanghai"
    web_host: str = "127.0.0.1"
    web_port: Annotated[int, Field(ge=1, le=65535)] = 8080
    public_url: str | None = None
    secret_key: SecretStr = SecretStr(DEV_SECRET_KEY)
    # Web sessions: ended after this long without a request, and this long after login.
    session_idle_minutes: Annotated[float, Field(gt=0)] = 120.0
    session_max_hours: Annotated[float, Field(gt=0)] = 12.0
    # How many reverse proxies in front of the web app append to X-Forwarded-For (0: trust
    # none, the client address is the TCP peer).
    trusted_proxy_hops: Annotated[int, Field(ge=0, le=10)] = 0
    telegram_token: SecretStr | None = None
    telegram_api_base: str | None = None
    telegram_bot_username: str | None = None
    telegram_webhook_url: str | None = None
    telegram_webhook_secret: SecretStr | None = None
    smtp_url: SecretStr | None = None
    mail_from: str = "督查室 <duban@localhost>"
    # The office mailbox replies are read from (imaps://user:pass@host:993/INBOX), and the
    # address reminders name as Reply-To (signed per recipient: local+<token>@domain).
    imap_url: SecretStr | None = None
    mail_reply_to: str | None = None
    # E-mail replies: largest attachment, and all of a message's attachments, in MB.
    mail_attachment_max_mb: Annotated[float, Field(gt=0, le=100)] = 10.0
    mail_attachments_total_mb: Annotated[float, Field(gt=0, le=200)] = 20.0
    office_name: str = "督查室"
    scan_interval_seconds: Annotated[float, Field(gt=0)] = 60.0
    # How long the worker's scan and sweep jobs may run (one send's bound is the lease).
    scan_timeout_seconds: Annotated[float, Field(gt=0)] = 600.0
    # Delivery (notifier): lease of a row in flight, sweeper cadence, Telegram flood limits.
    delivery_lease_seconds: Annotated[float, Field(gt=0)] = 300.0
    # 30 in flight keep Telegram at its ~30 msg/s cap (docs/BENCHMARKS.md); each waits on I/O.
    delivery_concurrency: Annotated[int, Field(ge=1, le=1000)] = 30
    sweep_interval_seconds: Annotated[float, Field(gt=0)] = 60.0
    sweep_after_seconds: Annotated[float, Field(ge=0)] = 60.0
    telegram_rate: Annotated[float, Field(gt=0)] = 30.0
    telegram_chat_rate: Annotated[float, Field(gt=0)] = 1.0
    # Render workers (admin templates run only there): wall clock per render, address space
    # per worker, worker processes per pool.
    render_timeout_seconds: Annotated[float, Field(gt=0, le=60)] = 2.0
    render_memory_mb: Annotated[int, Field(ge=64, le=8192)] = 256
    render_workers: Annotated[int, Field(ge=1, le=32)] = 2
    log_level: str = "INFO"

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
        return value

    @field_validator("redis_url")
    @classmethod
    def _check_redis_url(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        assert value is not None
        if not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis:// or rediss://")
        return value

    @field_validator("log_level")
    @classmethod
    def _check_log_level(cls, value: str) -> str:
        level = value.strip().upper()
        if level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
            raise ValueError("must be DEBUG, INFO, WARNING, ERROR or CRITICAL")
        return level

    @field_validator("timezone")
    @classmethod
    def _check_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("smtp_url")
    @classmethod
    def _check_smtp_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        parse_smtp_url(value.get_secret_value())
        return value

    @field_validator("imap_url")
    @classmethod
    def _check_imap_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        from notifier.mailbox.config import parse_imap_url

        parse_imap_url(value.get_secret_value())
        return value

    @field_validator("mail_reply_to")
    @classmethod
    def _check_mail_reply_to(cls, value: str | None) -> str | None:
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

    def require_secret_key(self) -> None:
        """Raise SettingsError unless the secret key is set and long enough (the services)."""
        key = self.secret_key.get_secret_value()
        if key == DEV_SECRET_KEY or len(key) < MIN_SECRET_KEY_LENGTH:
            raise SettingsError(
                "setting DUBAN_SECRET_KEY must be set to a random value of at least "
                f"{MIN_SECRET_KEY_LENGTH} characters (e.g. the output of "
                "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`)"
            )

    @property
    def tz(self) -> ZoneInfo:
        """The office's time zone."""
        return ZoneInfo(self.timezone)

    @property
    def smtp(self) -> SmtpConfig | None:
        """The parsed SMTP settings, or None when mail is not configured."""
        if self.smtp_url is None:
            return None
        return parse_smtp_url(self.smtp_url.get_secret_value())

    @property
    def imap(self) -> ImapConfig | None:
        """The parsed mailbox settings, or None when e-mail replies are not read."""
        if self.imap_url is None:
            return None
        from notifier.mailbox.config import parse_imap_url

        return parse_imap_url(self.imap_url.get_secret_value())

    @property
    def bot_token(self) -> str | None:
        """The Telegram bot token, or None when it is unset or empty (no Telegram)."""
        token = self.telegram_token.get_secret_value() if self.telegram_token else ""
        return token or None

    @property
    def single_process(self) -> bool:
        """True when no Redis is configured: everything runs inside one process."""
        return self.redis_url is None

    @property
    def base_url(self) -> str:
        """The public URL of the web admin, for links in messages."""
        return (self.public_url or f"http://{self.web_host}:{self.web_port}").rstrip("/")


def load_settings(**overrides: object) -> Settings:
    """Build settings from the environment; a bad value raises one clear SettingsError."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        name = "DUBAN_" + "_".join(str(p) for p in first["loc"]).upper()
        reason = str(first["msg"]).removeprefix("Value error, ")
        raise SettingsError(f"setting {name} is invalid: {reason}") from None
