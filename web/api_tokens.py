"""Bearer API tokens for /api/v1: create (shown once), hash, authenticate, revoke.

Imports `models/` and `supervision/` only. A token is ``dbn_`` + 43 url-safe random
characters; only its SHA-256 hex digest is stored. Lookup goes by the digest (a unique index)
and the stored digest is compared with ``hmac.compare_digest``; the token itself is never
logged or stored. A token acts with the roles of its person, and stops working when it is
revoked, when its optional expiry (a number of days from creation) has come, or when the
person is deactivated. Its last use is recorded (at most once a minute).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Final

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models import ApiToken, Person
from supervision.audit import Actor, record
from supervision.clock import Clock
from supervision.errors import InvalidTransition, NotFound, ValidationFailed
from supervision.labels import Sentence, refusal

__all__ = [
    "TOKEN_PREFIX",
    "CreatedToken",
    "authenticate",
    "create_token",
    "hash_token",
    "parse_bearer",
    "revoke_token",
]

TOKEN_PREFIX: Final = "dbn_"  # noqa: S105 -- a public marker, not a secret
MAX_NAME: Final = 100
MAX_VALID_DAYS: Final = 3660
# RFC 6750's b64token, at most as long as a value `authenticate` looks up.
_B64TOKEN: Final = re.compile(r"[A-Za-z0-9\-._~+/]{1,200}=*", re.ASCII)
#: last_used_at is written at most this often per token, so reads do not turn into writes.
TOUCH_EVERY: Final = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class CreatedToken:
    """A new token row and its secret value (the only time the value exists)."""

    token: ApiToken
    secret: str


def hash_token(value: str) -> str:
    """The SHA-256 hex digest stored for a token value."""
    return hashlib.sha256(value.encode()).hexdigest()


def parse_bearer(header: str | None) -> str | None:
    """The token from an ``Authorization: Bearer <token>`` header, or None: RFC 6750's
    characters only, so raw bytes or other text in the header never reach the hashing."""
    if not header:
        return None
    scheme, _, value = header.strip().partition(" ")
    value = value.strip()
    if scheme.lower() != "bearer" or not _B64TOKEN.fullmatch(value):
        return None
    return value


async def create_token(
    session: AsyncSession,
    *,
    person: Person,
    name: str,
    actor: Actor,
    clock: Clock,
    valid_days: int | None = None,
) -> CreatedToken:
    """Create a token acting as ``person`` (for ``valid_days`` days, or until revoked);
    the caller shows ``secret`` once and forgets it."""
    label = name.strip()
    if not label:
        raise ValidationFailed("a token name is required")
    if len(label) > MAX_NAME:
        raise ValidationFailed(f"the token name is longer than {MAX_NAME} characters")
    if valid_days is not None and not 1 <= valid_days <= MAX_VALID_DAYS:
        raise refusal(ValidationFailed, Sentence.TOKEN_VALID_DAYS, max=MAX_VALID_DAYS)
    if not person.active:
        raise ValidationFailed(f"{person.name} is deactivated; a token would not work")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = clock.now()
    token = ApiToken(
        name=label,
        token_hash=hash_token(secret),
        person_id=person.id,
        created_at=now,
        expires_at=now + timedelta(days=valid_days) if valid_days is not None else None,
    )
    session.add(token)
    await session.flush()
    record(
        session,
        clock=clock,
        actor=actor,
        entity="api_token",
        entity_id=token.id,
        action="create",
        detail={
            "person_id": person.id,
            "name": label,
            "expires_at": token.expires_at.isoformat() if token.expires_at else None,
        },
    )
    return CreatedToken(token, secret)


async def revoke_token(
    session: AsyncSession, token_id: int, *, actor: Actor, clock: Clock
) -> ApiToken:
    """Revoke a token; revoking twice is refused."""
    token = await session.get(ApiToken, token_id)
    if token is None:
        raise NotFound(f"no API token #{token_id}")
    if token.revoked_at is not None:
        raise InvalidTransition(f"API token #{token_id} is already revoked")
    token.revoked_at = clock.now()
    record(
        session,
        clock=clock,
        actor=actor,
        entity="api_token",
        entity_id=token.id,
        action="revoke",
    )
    return token


async def authenticate(session: AsyncSession, value: str, *, clock: Clock) -> Person | None:
    """The active person a live token acts for, or None; records ``last_used_at``."""
    if not value.startswith(TOKEN_PREFIX) or len(value) > 200:
        return None
    digest = hash_token(value)
    token = await session.scalar(select(ApiToken).where(ApiToken.token_hash == digest))
    if token is None or not hmac.compare_digest(token.token_hash, digest):
        return None
    now = clock.now()
    if token.revoked_at is not None or (token.expires_at is not None and now >= token.expires_at):
        return None
    person = await session.get(Person, token.person_id)
    if person is None or not person.active:
        return None
    if token.last_used_at is None or now - token.last_used_at >= TOUCH_EVERY:
        token.last_used_at = now
    return person
