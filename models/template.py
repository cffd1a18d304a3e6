"""Admin overrides of message templates, with their version history."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, TimestampMixin, utcnow


class Template(Base):
    """The current override for one step x channel x locale x part (text, html, subject)."""

    __tablename__ = "templates"
    __table_args__ = (UniqueConstraint("step", "channel", "locale", "part"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    step: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(16))
    locale: Mapped[str] = mapped_column(String(8))
    part: Mapped[str] = mapped_column(String(8), default="text")
    body: Mapped[str] = mapped_column(Text)
    version: Mapped[int] = mapped_column(default=1)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class TemplateVersion(TimestampMixin, Base):
    """Every saved body of a template, newest last; a reset stores an empty body, a restore
    the earlier version's body with that version's number in ``restored_from``."""

    __tablename__ = "template_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    step: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(16))
    locale: Mapped[str] = mapped_column(String(8))
    part: Mapped[str] = mapped_column(String(8), default="text")
    version: Mapped[int]
    body: Mapped[str] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    note: Mapped[str | None] = mapped_column(String(200))
    restored_from: Mapped[int | None] = mapped_column(default=None)
