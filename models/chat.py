"""Chat-side records: the log of incoming Telegram updates and one-time invite tokens."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, TimestampMixin, enum_column
from models.notification import Channel


class TelegramUpdate(Base):
    """An update stored before it is handled: replays are recognised, crashes are retried."""

    __tablename__ = "telegram_updates"

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    received_at: Mapped[datetime]
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(12), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    processed_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(Text)


class InviteToken(TimestampMixin, Base):
    """A single-use token that binds a Telegram chat or a WeCom userid to a person (7 days)."""

    __tablename__ = "invite_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    used_by_telegram_id: Mapped[int | None] = mapped_column(BigInteger)
    #: the app the invite binds: ``telegram`` (a /start deep link) or ``wecom_app`` (a link
    #: opened in WeCom, through its web authorization)
    channel: Mapped[Channel] = mapped_column(
        enum_column(Channel, 16), default=Channel.TELEGRAM, server_default=Channel.TELEGRAM.value
    )
    used_by_wecom_userid: Mapped[str | None] = mapped_column(String(64))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
