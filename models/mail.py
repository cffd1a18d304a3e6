"""E-mails read from the office mailbox (IMAP): one row per message, written with its outcome.

The row is inserted in the same transaction as the report (or refusal) the message caused, so
a message is acted on exactly once: a crash before the commit leaves no row and the message
unseen; a second pass finds the row and only marks the message seen.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, enum_column


class InboundOutcome(StrEnum):
    """What a read e-mail came to."""

    FILED = "filed"  # a report, a completion request or an extension request
    REFUSED = "refused"  # answered with the reason; nothing filed
    IGNORED = "ignored"  # automatic mail (bounces, auto-replies): neither filed nor answered


class InboundMail(Base):
    """One message of the office mailbox that Duban has acted on."""

    __tablename__ = "inbound_mails"
    __table_args__ = (
        UniqueConstraint("mailbox", "uidvalidity", "uid", name="uq_inbound_mails_uid"),
        # The same message delivered twice (two folders, a re-sent copy) files once.
        Index("ux_inbound_mails_message_id", "message_id", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    mailbox: Mapped[str] = mapped_column(String(255))
    uidvalidity: Mapped[int] = mapped_column(BigInteger)
    uid: Mapped[int] = mapped_column(BigInteger)
    message_id: Mapped[str | None] = mapped_column(String(255))
    sender: Mapped[str] = mapped_column(String(320), default="")
    subject: Mapped[str] = mapped_column(String(500), default="")
    outcome: Mapped[InboundOutcome] = mapped_column(enum_column(InboundOutcome, 12))
    reason: Mapped[str | None] = mapped_column(Text)
    person_id: Mapped[int | None]
    assignment_id: Mapped[int | None]
    report_id: Mapped[int | None]
    extension_id: Mapped[int | None]
    received_at: Mapped[datetime]
