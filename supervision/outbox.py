"""Writing the outbox: one Notification row per (cause, recipient, channel), never twice.

Rows are added in the caller's transaction, so a message exists exactly when the change that
caused it commits. Rendering happens at delivery (notifier/), from the ids in the row.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from models import Channel, GroupWebhook, Notification, NotificationStatus, Person, StepChannel
from supervision.calendar import WorkCalendar

OUTBOX_WRITTEN = "duban.outbox_written"  # key in Session.info set by add()
CHAT = Channel.TELEGRAM
EMAIL = Channel.EMAIL
GROUP_KINDS = (Channel.WECOM, Channel.DINGTALK, Channel.FEISHU)


def next_send_time(
    at: datetime,
    *,
    tz: ZoneInfo,
    start: time,
    end: time,
    calendar: WorkCalendar,
    workdays_only: bool = True,
) -> datetime:
    """``at`` if it falls inside the send window, else the next opening (aware, UTC)."""
    local = at.astimezone(tz)
    day = local.date()
    for _ in range(400):
        open_day = calendar.is_workday(day) or not workdays_only
        opens = datetime.combine(day, start, tzinfo=tz)
        closes = datetime.combine(day, end, tzinfo=tz)
        if open_day and local < closes:
            return max(local, opens).astimezone(at.tzinfo or tz)
        day += timedelta(days=1)
        local = datetime.combine(day, time(0, 0), tzinfo=tz)
    raise ValueError("no send window opening within 400 days; check the calendar and window")


class Reachable(Protocol):
    """The contact columns of a person (`models.Person` or a row read from them)."""

    @property
    def email(self) -> str | None: ...

    @property
    def telegram_chat_id(self) -> int | None: ...


def person_key(cause: str, person_id: int, channel: str) -> str:
    """The unique key of a message to a person: ``<cause>:p<person>:<channel>``."""
    return f"{cause}:p{person_id}:{channel}"


def webhook_key(cause: str, webhook_id: int) -> str:
    """The unique key of a message to a group robot: ``<cause>:w<webhook>``."""
    return f"{cause}:w{webhook_id}"


def person_addresses(person: Reachable, channels: Sequence[str]) -> list[tuple[str, str]]:
    """The (channel, address) pairs a person can be reached on, from step channels
    ``chat`` / ``email`` (also accepted: ``telegram``)."""
    out: list[tuple[str, str]] = []
    for channel in channels:
        if channel in (StepChannel.CHAT, CHAT) and person.telegram_chat_id is not None:
            out.append((CHAT, str(person.telegram_chat_id)))
        elif channel == EMAIL and person.email:
            out.append((EMAIL, person.email))
    return out


async def add(
    session: AsyncSession,
    *,
    dedupe_key: str,
    kind: str,
    channel: str,
    not_before: datetime,
    now: datetime,
    recipient_id: int | None = None,
    address: str | None = None,
    assignment_id: int | None = None,
    item_id: int | None = None,
    webhook_id: int | None = None,
    locale: str = "zh",
    payload: dict[str, Any] | None = None,
    thread_key: str | None = None,
    fallback_of_id: int | None = None,
) -> int | None:
    """Insert one outbox row unless its key exists; return its id, or None if it existed.

    ``now`` (the caller's clock) stamps ``created_at``.
    """
    values: dict[str, Any] = {
        "dedupe_key": dedupe_key,
        "kind": kind,
        "channel": channel,
        "not_before": not_before,
        "recipient_id": recipient_id,
        "address": address,
        "assignment_id": assignment_id,
        "item_id": item_id,
        "webhook_id": webhook_id,
        "locale": locale,
        "payload": payload or {},
        "thread_key": thread_key,
        "fallback_of_id": fallback_of_id,
        "status": NotificationStatus.PENDING,
        "attempts": 0,
        "body_text": "",
        "created_at": now,
    }
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = (
        insert(Notification)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
        .returning(Notification.id)
    )
    result = await session.execute(stmt)
    session.info[OUTBOX_WRITTEN] = True  # lets an in-process deliverer wake after the commit
    return result.scalar_one_or_none()


async def notify_person(
    session: AsyncSession,
    *,
    person: Person,
    kind: str,
    key: str,
    channels: Sequence[str],
    not_before: datetime,
    now: datetime,
    assignment_id: int | None = None,
    item_id: int | None = None,
    payload: dict[str, Any] | None = None,
) -> list[int]:
    """Queue ``kind`` for ``person`` on each of ``channels`` they can be reached on.

    ``key`` identifies the cause (e.g. ``a12:remind:0``); the row key adds person and channel.
    """
    ids: list[int] = []
    if not person.active:
        return ids
    for channel, address in person_addresses(person, channels):
        new_id = await add(
            session,
            dedupe_key=person_key(key, person.id, channel),
            kind=kind,
            channel=channel,
            not_before=not_before,
            now=now,
            recipient_id=person.id,
            address=address,
            assignment_id=assignment_id,
            item_id=item_id,
            locale=person.locale,
            payload=payload,
            thread_key=f"item-{item_id}" if item_id is not None else None,
        )
        if new_id is not None:
            ids.append(new_id)
    return ids


async def notify_unit_groups(
    session: AsyncSession,
    *,
    unit_id: int,
    kind: str,
    key: str,
    not_before: datetime,
    now: datetime,
    assignment_id: int | None = None,
    item_id: int | None = None,
    payload: dict[str, Any] | None = None,
) -> list[int]:
    """Queue ``kind`` for every active group robot of a unit (WeCom, DingTalk, Feishu)."""
    hooks = (
        await session.scalars(
            select(GroupWebhook).where(GroupWebhook.unit_id == unit_id, GroupWebhook.active)
        )
    ).all()
    ids: list[int] = []
    for hook in hooks:
        new_id = await add(
            session,
            dedupe_key=webhook_key(key, hook.id),
            kind=kind,
            channel=hook.kind,
            not_before=not_before,
            now=now,
            webhook_id=hook.id,
            assignment_id=assignment_id,
            item_id=item_id,
            payload=payload,
        )
        if new_id is not None:
            ids.append(new_id)
    return ids
