"""Server-side web sessions: a random id in the cookie, its SHA-256 in ``web_sessions``.

Imports `models/` only. Why a random id and no signature: 256 random bits cannot be guessed,
and a signature would add nothing but a dependence on ``DUBAN_SECRET_KEY``; the database
keeps only the hash, so a leaked table cannot be replayed as cookies. A session ends on
logout (its row is deleted: a copied cookie stops working), after ``idle`` without a request,
``lifetime`` after login, and when the person's password, roles, unit or active flag change
(`models.auth.end_sessions_on_access_change`).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import Person, WebSession

#: last_seen_at is written at most this often per session, so reading pages stays read-only.
TOUCH_EVERY: Final = timedelta(minutes=1)
_ID_RE: Final = re.compile(r"[A-Za-z0-9_-]{43}")


@dataclass(frozen=True, slots=True)
class SessionPolicy:
    """How long a session lives: without a request (``idle``) and at most (``lifetime``)."""

    idle: timedelta = timedelta(hours=2)
    lifetime: timedelta = timedelta(hours=12)


def hash_session_id(raw: str) -> str:
    """The SHA-256 hex digest a session id is stored under."""
    return hashlib.sha256(raw.encode()).hexdigest()


async def start_session(
    session: AsyncSession, *, person: Person, policy: SessionPolicy, now: datetime, ip: str
) -> str:
    """Store a new session for ``person`` and return its id (the cookie value)."""
    raw = secrets.token_urlsafe(32)
    # Ended sessions are deleted as they are found; this clears the ones nobody came back to.
    await session.execute(delete(WebSession).where(WebSession.expires_at <= now))
    session.add(
        WebSession(
            id_hash=hash_session_id(raw),
            person_id=person.id,
            created_at=now,
            last_seen_at=now,
            expires_at=now + policy.lifetime,
            ip=ip[:64] or None,
        )
    )
    await session.flush()
    return raw


async def resume_session(
    session: AsyncSession, raw: str, *, policy: SessionPolicy, now: datetime
) -> Person | None:
    """The person of a live session (its last use recorded), or None; ended ones are deleted."""
    if not _ID_RE.fullmatch(raw):
        return None
    row = await session.scalar(select(WebSession).where(WebSession.id_hash == hash_session_id(raw)))
    if row is None:
        return None
    if now >= row.expires_at or now - row.last_seen_at >= policy.idle:
        await session.delete(row)
        return None
    if now - row.last_seen_at >= TOUCH_EVERY:
        row.last_seen_at = now
    return await session.get(Person, row.person_id)


async def end_session(session: AsyncSession, raw: str) -> None:
    """Delete the session with this id (logout); unknown ids are ignored."""
    await session.execute(delete(WebSession).where(WebSession.id_hash == hash_session_id(raw)))
