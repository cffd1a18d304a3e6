"""Web and API access: API tokens, web sessions, login attempts and login throttle counters.

Also the one rule that ends a person's web sessions when their credentials or access change
(`end_sessions_on_access_change`, a flush hook): whatever changes a password, the roles, the
unit or deactivates someone (people form, API, import, ``duban init``) goes through it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Table, delete, event, inspect
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import Base, TimestampMixin
from models.org import Person, PersonRole


class ApiToken(TimestampMixin, Base):
    """A bearer token for /api/v1; acts with the roles of ``person_id``. Only a hash is kept."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]  # None: until revoked


class WebSession(Base):
    """A login to the web admin. The cookie holds a random id; only its SHA-256 is kept."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    id_hash: Mapped[str] = mapped_column(String(64), unique=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)  # the absolute end
    ip: Mapped[str | None] = mapped_column(String(64))


class LoginAttempt(Base):
    """One login attempt, kept as a record (the throttle counts in `LoginThrottle`)."""

    __tablename__ = "login_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), index=True)
    at: Mapped[datetime] = mapped_column(index=True)
    success: Mapped[bool]
    ip: Mapped[str | None] = mapped_column(String(64))


class LoginThrottle(Base):
    """Failed logins counted per key (``account:<email>`` or ``ip:<address>``) in a window.

    Incremented with one upsert statement, so parallel attempts each get their own count.
    """

    __tablename__ = "login_throttle"

    key: Mapped[str] = mapped_column(String(320), primary_key=True)
    failures: Mapped[int]
    window_start: Mapped[datetime]


#: Person columns whose change ends that person's web sessions.
_ACCESS_ATTRS = ("password_hash", "active", "unit_id", "role_links")


def _access_changed(session: Session) -> set[int]:
    changed: set[int] = set()
    for obj in session.dirty:
        if isinstance(obj, Person) and obj.id is not None:
            attrs = inspect(obj).attrs
            if any(attrs[name].history.has_changes() for name in _ACCESS_ATTRS):
                changed.add(obj.id)
    for obj in (*session.new, *session.deleted):
        if isinstance(obj, PersonRole) and obj.person_id is not None:
            changed.add(obj.person_id)
    return changed


@event.listens_for(Session, "before_flush")
def end_sessions_on_access_change(session: Session, _context: Any, _instances: Any) -> None:
    """A changed password, role, unit or active flag ends that person's web sessions at once."""
    people = _access_changed(session)
    if people:
        table: Table = WebSession.__table__  # type: ignore[assignment]
        session.connection().execute(delete(table).where(table.c.person_id.in_(people)))
