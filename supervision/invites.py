"""One-time invite tokens that bind a Telegram chat or a WeCom userid to a person (valid 7
days, kept hashed).

The clear token is stored nowhere: the invite row keeps its hash, and the e-mail queued with
`queue_invite_email` carries the link sealed (`supervision.sealing`) until it is delivered.

Imports only `models/` and `supervision/`; I/O goes through the session it is given.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from models import AuditAction, Channel, InviteToken, Person
from supervision import outbox
from supervision.audit import Actor, record
from supervision.clock import Clock
from supervision.errors import NotAllowed, NotFound, ValidationFailed
from supervision.sealing import Sealer

__all__ = [
    "INVITE_VALIDITY",
    "InviteExpired",
    "InviteUnknown",
    "InviteUsed",
    "NewInvite",
    "bind_by_token",
    "bind_wecom_by_token",
    "create_invite",
    "deep_link",
    "hash_token",
    "queue_invite_email",
]

#: The outbox payload key of the sealed invite link (the notifier opens it to render).
SEALED_LINK = "invite_link_sealed"

INVITE_VALIDITY = timedelta(days=7)
# Telegram deep-link payloads: up to 64 characters of A-Z a-z 0-9 _ -
TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{16,64}")
#: the apps an invite can bind
INVITE_APPS = (Channel.TELEGRAM, Channel.WECOM_APP)


class InviteUnknown(NotFound):
    """No invite has this token."""


class InviteUsed(NotAllowed):
    """The invite was already used."""


class InviteExpired(NotAllowed):
    """The invite is older than seven days."""


@dataclass(frozen=True, slots=True)
class NewInvite:
    """A fresh invite: the clear token exists only here, the DB keeps its hash."""

    token: str
    invite: InviteToken
    person: Person


def hash_token(token: str) -> str:
    """The SHA-256 hex digest under which a token is stored."""
    return hashlib.sha256(token.encode()).hexdigest()


def deep_link(bot_username: str, token: str) -> str:
    """The ``https://t.me/<bot>?start=<token>`` link for an invite."""
    return f"https://t.me/{bot_username.lstrip('@')}?start={token}"


async def create_invite(
    session: AsyncSession,
    *,
    person: Person,
    clock: Clock,
    created_by: Person | None = None,
    channel: Channel = Channel.TELEGRAM,
) -> NewInvite:
    """Create a single-use token for ``person`` that binds ``channel``, valid for seven days."""
    if not person.active:
        raise ValidationFailed(f"{person.name} is deactivated; reactivate before inviting")
    if channel not in INVITE_APPS:
        raise ValidationFailed(f"an invite cannot bind {channel}")
    # WeCom carries the token in the authorize link's ``state``: letters and digits only
    token = secrets.token_urlsafe(24) if channel == Channel.TELEGRAM else secrets.token_hex(20)
    invite = InviteToken(
        token_hash=hash_token(token),
        channel=channel,
        person_id=person.id,
        expires_at=clock.now() + INVITE_VALIDITY,
        created_by_id=created_by.id if created_by else None,
        created_at=clock.now(),
    )
    session.add(invite)
    await session.flush()
    record(
        session,
        clock=clock,
        actor=Actor.of(created_by) if created_by else Actor.system("cli"),
        entity="person",
        entity_id=person.id,
        action="invite_created",
        detail={
            "invite_id": invite.id,
            "expires_at": invite.expires_at.isoformat(),
            "channel": channel.value,
        },
    )
    return NewInvite(token, invite, person)


async def queue_invite_email(
    session: AsyncSession,
    *,
    new: NewInvite,
    link: str,
    sealer: Sealer,
    clock: Clock,
    tz: ZoneInfo,
) -> bool:
    """Queue the invite link to the person by e-mail, sealed; False when they have none."""
    expires_on = new.invite.expires_at.astimezone(tz).date().isoformat()
    ids = await outbox.notify_person(
        session,
        person=new.person,
        kind="invite",
        key=f"invite{new.invite.id}",
        channels=[outbox.EMAIL],
        not_before=clock.now(),
        now=clock.now(),
        payload={
            SEALED_LINK: sealer.seal(link),
            "invite_expires_on": expires_on,
            "invite_app": new.invite.channel.value,
        },
    )
    return bool(ids)


async def _open_invite(
    session: AsyncSession, token: str, channel: Channel, now: datetime
) -> tuple[InviteToken, Person]:
    """The unused, unexpired invite of ``token`` for ``channel`` (locked) and its person."""
    if not TOKEN_RE.fullmatch(token):
        raise InviteUnknown("邀请链接无效 (unknown invite)")
    invite = await session.scalar(
        select(InviteToken).where(InviteToken.token_hash == hash_token(token)).with_for_update()
    )
    if invite is None or invite.channel != channel:
        raise InviteUnknown("邀请链接无效 (unknown invite)")
    if invite.used_at is not None:
        raise InviteUsed("该邀请链接已被使用，请联系督查室重新发送 (invite already used)")
    if invite.expires_at <= now:
        raise InviteExpired("该邀请链接已过期，请联系督查室重新发送 (invite expired)")
    person = await session.get_one(Person, invite.person_id)
    if not person.active:
        raise InviteUnknown("邀请链接无效 (unknown invite)")
    return invite, person


async def bind_by_token(
    session: AsyncSession,
    *,
    token: str,
    telegram_user_id: int,
    chat_id: int,
    username: str | None,
    clock: Clock,
) -> Person:
    """Bind a Telegram user and private chat to the invite's person; the token is spent."""
    now: datetime = clock.now()
    invite, person = await _open_invite(session, token, Channel.TELEGRAM, now)
    # A Telegram account belongs to one person: a new invite moves it, nothing else does.
    previous = await session.scalar(
        select(Person).where(Person.telegram_user_id == telegram_user_id, Person.id != person.id)
    )
    if previous is not None:
        previous.telegram_user_id = None
        previous.telegram_chat_id = None
        previous.telegram_username = None
        await session.flush()
        record(
            session,
            clock=clock,
            actor=Actor.of(person),
            entity="person",
            entity_id=previous.id,
            action="chat_unbound",
            detail={"moved_to_person_id": person.id},
        )
    await session.execute(
        update(Person)
        .where(Person.telegram_chat_id == chat_id, Person.id != person.id)
        .values(telegram_chat_id=None)
    )
    person.telegram_user_id = telegram_user_id
    person.telegram_chat_id = chat_id
    person.telegram_username = (username or "")[:64] or None
    invite.used_at = now
    invite.used_by_telegram_id = telegram_user_id
    record(
        session,
        clock=clock,
        actor=Actor.of(person),
        entity="person",
        entity_id=person.id,
        action="chat_bound",
        detail={"invite_id": invite.id},
    )
    await session.flush()
    return person


async def bind_wecom_by_token(
    session: AsyncSession, *, token: str, userid: str, clock: Clock
) -> Person:
    """Bind the WeCom ``userid`` (as WeCom's web authorization told it) to the invite's
    person; the token is spent. A userid already bound to someone else moves to this person."""
    now = clock.now()
    invite, person = await _open_invite(session, token, Channel.WECOM_APP, now)
    previous = await session.scalar(
        select(Person).where(Person.wecom_userid == userid, Person.id != person.id)
    )
    if previous is not None:
        previous.wecom_userid = None
        await session.flush()
        record(
            session,
            clock=clock,
            actor=Actor.of(person),
            entity="person",
            entity_id=previous.id,
            action=AuditAction.WECOM_UNBOUND,
            detail={"moved_to_person_id": person.id},
        )
    before = person.wecom_userid
    person.wecom_userid = userid
    invite.used_at = now
    invite.used_by_wecom_userid = userid
    record(
        session,
        clock=clock,
        actor=Actor.of(person),
        entity="person",
        entity_id=person.id,
        action=AuditAction.WECOM_BOUND,
        detail={"invite_id": invite.id, "wecom_userid": [before, userid]},
    )
    await session.flush()
    return person
