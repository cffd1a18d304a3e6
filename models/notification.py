"""The outbox (Notification rows), their delivery attempts, and group-robot webhooks."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, EnumUnion, TimestampMixin, enum_column
from models.steps import StepKind


class Channel(StrEnum):
    """The channel a message is delivered on (an outbox row's ``channel``)."""

    TELEGRAM = "telegram"
    EMAIL = "email"
    WECOM = "wecom"  # 企业微信群机器人
    WECOM_APP = "wecom_app"  # 企业微信自建应用, to one person
    DINGTALK = "dingtalk"  # 钉钉群机器人
    FEISHU = "feishu"  # 飞书群机器人
    DINGTALK_APP = "dingtalk_app"  # 钉钉工作通知, to one person (send only)
    FEISHU_APP = "feishu_app"  # 飞书应用消息, to one person (send only)
    LOG = "log"  # the stand-in when a channel is not configured


#: the group-robot channels (a GroupWebhook's ``kind``)
GROUP_CHANNELS = frozenset({Channel.WECOM, Channel.DINGTALK, Channel.FEISHU})


class MessageKind(StrEnum):
    """Messages that are not ladder steps (an outbox row's ``kind`` is one of these or a step)."""

    REVIEW_REQUEST = "review_request"  # 审核提醒
    REVIEW_OUTCOME = "review_outcome"  # 审核结果
    SIGNOFF_REQUEST = "signoff_request"  # 签发提醒
    INVITE = "invite"  # 绑定邀请
    BULLETIN = "bulletin"  # 督查通报
    DIGEST = "digest"  # 汇总/每日待办: many messages to one person as one
    MAIL_REPLY = "mail_reply"  # the answer to an e-mail reply (filed or refused)
    CO_INPUT = "co_input"  # 协办反馈: a co unit's report, forwarded to the lead unit
    REOPENED = "reopened"  # 退回重办: a closed item sent back to be done again
    TRANSFERRED = "transferred"  # 转办: an assignment handed to another unit or person
    DUE_MOVED = "due_moved"  # 期限调整通知: the office moved a deadline (a batch 延期)


class NotificationStatus(StrEnum):
    """Outbox row states: the database is the truth, Redis only carries jobs."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"
    GROUPED = "grouped"  # sent as part of a digest row (payload ``members``), not on its own


class DeliveryOutcome(StrEnum):
    """What one delivery attempt came to."""

    SENDING = "sending"  # in flight; a worker that died mid-send leaves it so
    SENT = "sent"
    TRANSIENT = "transient"  # will retry
    PERMANENT = "permanent"  # failed for good; fall back to the next channel
    SKIPPED = "skipped"  # e.g. the assignment closed before sending


class GroupWebhook(TimestampMixin, Base):
    """A WeCom / DingTalk / Feishu group robot for a unit or the leadership."""

    __tablename__ = "group_webhooks"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[Channel] = mapped_column(enum_column(Channel, 16))  # wecom, dingtalk, feishu
    #: the webhook URL, which holds the robot's key: sealed (``sealed:`` + Fernet,
    #: `supervision.robots.seal`); a robot stored before sealing keeps it in clear
    url: Mapped[str] = mapped_column(String(1000))
    #: what a page may show of the URL: its key masked (`supervision.robots.masked_url`)
    url_shown: Mapped[str] = mapped_column(String(600), default="", server_default="")
    #: the DingTalk / Feishu signing secret, sealed like ``url``
    secret: Mapped[str | None] = mapped_column(String(255))
    unit_id: Mapped[int | None] = mapped_column(
        ForeignKey("units.id", ondelete="CASCADE"), index=True
    )
    scope: Mapped[str] = mapped_column(String(16), default="unit")  # unit, leadership, office
    active: Mapped[bool] = mapped_column(default=True)
    #: the ladder steps the robot receives (``overdue,escalate``; `supervision.robots`);
    #: None: every step whose policy sends to group robots
    steps: Mapped[str | None] = mapped_column(String(200))


class Notification(TimestampMixin, Base):
    """One message to send to one recipient on one channel.

    Written in the same transaction as the change that caused it; ``dedupe_key`` makes
    (assignment, step, occurrence, recipient, channel) unique so a second scan cannot add it again.
    """

    __tablename__ = "notifications"
    __table_args__ = (
        # Delivery's claim, the sweeper and the metrics: pending/sending rows by due time.
        Index("ix_notifications_status_not_before", "status", "not_before"),
        # The bot maps a reply to the message it answers; only sent chat messages have an id,
        # so the rows the scan writes (NULL) never touch this index.
        Index(
            "ix_notifications_chat_message_id",
            "chat_message_id",
            postgresql_where=text("chat_message_id IS NOT NULL"),
            sqlite_where=text("chat_message_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(255), unique=True)
    kind: Mapped[StepKind | MessageKind] = mapped_column(
        EnumUnion(StepKind, MessageKind, length=24)
    )
    # The outbox is a log: each row carries its own addressing (address, locale, payload),
    # and assignments, items, people and group robots are never deleted (people and robots
    # are deactivated; delivery re-checks that and copes with a missing one). So these ids
    # are plain columns, not foreign keys: a key costs a trigger call per inserted row, and
    # the scan inserts thousands per tick (docs/BENCHMARKS.md, "Scan").
    assignment_id: Mapped[int | None]
    # Every row about an assignment also names its item; the item timeline reads by item.
    item_id: Mapped[int | None] = mapped_column(index=True)
    recipient_id: Mapped[int | None]
    webhook_id: Mapped[int | None]
    channel: Mapped[Channel] = mapped_column(enum_column(Channel, 16))
    locale: Mapped[str] = mapped_column(String(8), default="zh")
    address: Mapped[str | None] = mapped_column(
        String(320)
    )  # chat id or e-mail at the time of writing
    status: Mapped[NotificationStatus] = mapped_column(
        enum_column(NotificationStatus, 12), default=NotificationStatus.PENDING
    )
    not_before: Mapped[datetime]  # inside the send window
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None]
    subject: Mapped[str | None] = mapped_column(String(500))
    body_text: Mapped[str] = mapped_column(Text, default="")
    body_html: Mapped[str | None] = mapped_column(Text)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # buttons, thread ids
    thread_key: Mapped[str | None] = mapped_column(String(100))  # e-mail threading per item
    provider_message_id: Mapped[str | None] = mapped_column(String(255))
    chat_id: Mapped[int | None] = mapped_column(BigInteger)
    chat_message_id: Mapped[int | None] = mapped_column(BigInteger)
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    fallback_of_id: Mapped[int | None]  # the row this one stands in for (failed or moved)
    #: the channels the cause allowed (``chat,email``; `supervision.channel_prefs`), read
    #: again at delivery to follow the person's current preference; None: ``chat,email``
    via: Mapped[str | None] = mapped_column(String(64))

    attempts_log: Mapped[list[DeliveryAttempt]] = relationship(
        lazy="raise", back_populates="notification", cascade="all, delete-orphan"
    )


class DeliveryAttempt(Base):
    """One try at sending a notification, kept for the delivery log."""

    __tablename__ = "delivery_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    notification_id: Mapped[int] = mapped_column(
        ForeignKey("notifications.id", ondelete="CASCADE"), index=True
    )
    channel: Mapped[Channel] = mapped_column(enum_column(Channel, 16))
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    outcome: Mapped[DeliveryOutcome] = mapped_column(enum_column(DeliveryOutcome, 12))
    provider_message_id: Mapped[str | None] = mapped_column(String(255))
    error: Mapped[str | None] = mapped_column(Text)
    worker: Mapped[str | None] = mapped_column(String(100))

    notification: Mapped[Notification] = relationship(back_populates="attempts_log", lazy="raise")
