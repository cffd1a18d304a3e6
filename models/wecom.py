"""WeCom callbacks: each message or button press acted on once, and each person's dialog.

A ``wecom_inbound`` row is inserted in the same transaction as what the callback caused (a
report, a request, a dialog step), keyed by WeCom's MsgId (an event has none: its sender,
CreateTime and key stand in). WeCom retries a callback it got no answer to within 5 s; the
retry finds the row and gets the same answer, nothing is filed twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base


class WeComInbound(Base):
    """One callback from WeCom that Duban has acted on, with the answer it gave."""

    __tablename__ = "wecom_inbound"

    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    userid: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))  # text, button, other
    outcome: Mapped[str] = mapped_column(String(12))  # filed, asked, refused, ignored
    answer: Mapped[str] = mapped_column(Text, default="")
    person_id: Mapped[int | None]
    assignment_id: Mapped[int | None]
    report_id: Mapped[int | None]
    extension_id: Mapped[int | None]
    received_at: Mapped[datetime]


class WeComDialog(Base):
    """Where a person's conversation with the WeCom application stands (one row a userid)."""

    __tablename__ = "wecom_dialogs"

    userid: Mapped[str] = mapped_column(String(64), primary_key=True)
    #: report / close / extend: the next text is that for ``assignment_id``;
    #: choose: the next text is a number picking one of ``choices`` for ``pending``
    step: Mapped[str] = mapped_column(String(16))
    assignment_id: Mapped[int | None]
    choices: Mapped[list[Any]] = mapped_column(JSON, default=list)
    pending: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime]
