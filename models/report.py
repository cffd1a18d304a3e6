"""Progress and completion reports (进展报告/办理情况报告), attachments, extensions (延期申请)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import BigInteger, ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, TimestampMixin, enum_column
from models.item import Assignment
from models.org import Person


class ReportKind(StrEnum):
    """A progress report, or a completion report that asks to close (申请办结)."""

    PROGRESS = "progress"
    COMPLETION = "completion"


class ReviewState(StrEnum):
    """Where a request stands with the supervision office."""

    NONE = "none"  # progress reports need no review
    AWAITING_SIGNOFF = "awaiting_signoff"  # 主要负责同志签发 before it reaches the office
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


ExtensionState = ReviewState


class Decision(StrEnum):
    """A supervisor's answer to a request (同意 / 退回): the words on buttons and pages."""

    APPROVE = "approve"
    REJECT = "reject"


class RequestKind(StrEnum):
    """What a unit asks the office for."""

    COMPLETION = "completion"  # 办结申请
    EXTENSION = "extension"  # 延期申请


class Origin(StrEnum):
    """Where a report or a request came in (its ``channel``)."""

    CHAT = "chat"
    EMAIL = "email"
    WEB = "web"
    API = "api"
    WECOM = "wecom_app"  # the WeCom application (企业微信)


class Report(TimestampMixin, Base):
    """A report filed against an assignment from chat, email or the web."""

    __tablename__ = "reports"
    # A chat message files at most one report: filing looks it up by (chat, message).
    __table_args__ = (Index("ix_reports_chat_message", "chat_id", "chat_message_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(
        ForeignKey("assignments.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column(default=1)  # 1, 2, 3... per assignment
    # The milestone of the assignment's item the report is about (None: the item as a whole).
    milestone_id: Mapped[int | None] = mapped_column(
        ForeignKey("milestones.id", ondelete="SET NULL"), index=True
    )
    author_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    kind: Mapped[ReportKind] = mapped_column(
        enum_column(ReportKind, 16), default=ReportKind.PROGRESS
    )
    text: Mapped[str] = mapped_column(Text, default="")
    channel: Mapped[Origin] = mapped_column(enum_column(Origin, 16), default=Origin.WEB)
    review_state: Mapped[ReviewState] = mapped_column(
        enum_column(ReviewState, 20), default=ReviewState.NONE, index=True
    )
    signed_off_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("people.id", ondelete="SET NULL")
    )
    signed_off_at: Mapped[datetime | None]
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    reviewed_at: Mapped[datetime | None]
    review_comment: Mapped[str | None] = mapped_column(Text)
    chat_id: Mapped[int | None] = mapped_column(BigInteger)
    chat_message_id: Mapped[int | None] = mapped_column(BigInteger)
    # A Telegram album (several photos or files sent together) files one report.
    media_group_id: Mapped[str | None] = mapped_column(String(64))
    edited_at: Mapped[datetime | None]

    assignment: Mapped[Assignment] = relationship(lazy="raise")
    author: Mapped[Person | None] = relationship(foreign_keys=[author_id], lazy="raise")
    attachments: Mapped[list[Attachment]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", back_populates="report"
    )


class ReportRevision(TimestampMixin, Base):
    """An earlier text of a report that was edited in chat (kept as history)."""

    __tablename__ = "report_revisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(Text)


class Attachment(TimestampMixin, Base):
    """A file sent with a report (Telegram file id or a stored upload)."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    storage: Mapped[str] = mapped_column(String(16), default="telegram")
    file_id: Mapped[str] = mapped_column(String(255))
    file_unique_id: Mapped[str | None] = mapped_column(String(255))
    file_name: Mapped[str | None] = mapped_column(String(255))
    mime_type: Mapped[str | None] = mapped_column(String(127))
    size: Mapped[int | None]
    # The bytes of a web upload (storage "db"); deferred: read only when downloaded.
    content: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)

    report: Mapped[Report] = relationship(back_populates="attachments", lazy="raise")


class Extension(TimestampMixin, Base):
    """A request for more time: reason, progress so far and the new date."""

    __tablename__ = "extensions"
    # /api/v1/extensions, newest first: each page reads its rows from here and stops.
    __table_args__ = (Index("ix_extensions_created_at", "created_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(
        ForeignKey("assignments.id", ondelete="CASCADE"), index=True
    )
    requested_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("people.id", ondelete="SET NULL")
    )
    reason: Mapped[str] = mapped_column(Text)
    progress: Mapped[str] = mapped_column(Text, default="")
    old_due_on: Mapped[date]
    new_due_on: Mapped[date]
    state: Mapped[ReviewState] = mapped_column(
        enum_column(ReviewState, 20), default=ReviewState.PENDING, index=True
    )
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None]
    comment: Mapped[str | None] = mapped_column(Text)
    channel: Mapped[Origin] = mapped_column(enum_column(Origin, 16), default=Origin.WEB)

    assignment: Mapped[Assignment] = relationship(lazy="raise")
