"""The outbox: one Notification row per (cause, recipient, channel), never twice.

Rows are added in the caller's transaction, so a message exists exactly when the change that
caused it commits. Rendering happens at delivery (notifier/), from the ids in the row. The
rules every reader and writer of the outbox shares live here once: a row's shape and keys,
its e-mail thread, and when it is due.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, time, timedelta
from types import MappingProxyType
from typing import Any, Final, NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from models import Channel, Notification, NotificationStatus, Person
from supervision.calendar import WorkCalendar
from supervision.channel_prefs import Reachable, first_sends, format_via
from supervision.robots import RobotBook

OUTBOX_WRITTEN = "duban.outbox_written"  # key in Session.info set by add()
CHAT = Channel.TELEGRAM
EMAIL = Channel.EMAIL
#: WeCom application messages to one person (the group robot's kind is ``wecom``)
WECOM_APP = Channel.WECOM_APP
GROUP_KINDS = (Channel.WECOM, Channel.DINGTALK, Channel.FEISHU)
PENDING, SENDING = NotificationStatus.PENDING, NotificationStatus.SENDING


class OutboxRow(NamedTuple):
    """One new outbox row: the columns its writer sets, in the writers' record order.

    Every writer (``add`` below, the scan's batch writers in ``notifier.outbox_writers``)
    takes its column list, order and defaults from here, then ``NEW_ROW`` and ``created_at``.
    """

    dedupe_key: str
    kind: str
    channel: str
    not_before: datetime
    payload: dict[str, Any]
    locale: str = "zh"
    address: str | None = None
    thread_key: str | None = None
    assignment_id: int | None = None
    item_id: int | None = None
    recipient_id: int | None = None
    webhook_id: int | None = None
    fallback_of_id: int | None = None
    #: the channels the cause allowed (`supervision.channel_prefs.format_via`)
    via: str | None = None


#: the values every new row starts with, whoever writes it
NEW_ROW: Final[Mapping[str, Any]] = MappingProxyType(
    {"status": PENDING, "attempts": 0, "body_text": ""}
)
#: every column a writer fills, in record order: the row's own, ``NEW_ROW``'s, ``created_at``
COLUMNS: Final = (*OutboxRow._fields, *NEW_ROW, "created_at")


def row_values(row: OutboxRow, created_at: datetime) -> dict[str, Any]:
    """The values of every column in ``COLUMNS`` for a new row (an INSERT's parameters)."""
    return {**row._asdict(), **NEW_ROW, "created_at": created_at}


def item_thread_key(item_id: int | None) -> str | None:
    """The thread a person's messages about an item share (e-mail replies answer its first
    message): one per item; None for messages about no item."""
    return f"item-{item_id}" if item_id is not None else None


# When a row is due. A pending row is due at the later of ``not_before`` (the send window)
# and ``next_attempt_at`` (a retry or rate-limit wait); a ``sending`` row, claimed by a
# worker, is due again when its lease (``next_attempt_at``) runs out.


def due_at(status: str, not_before: datetime, next_attempt_at: datetime | None) -> datetime | None:
    """The moment a row in ``status`` falls due (None: sent, failed or cancelled)."""
    if status == PENDING:
        return max(not_before, next_attempt_at or not_before)
    if status == SENDING:
        return next_attempt_at
    return None


def pending_due(moment: datetime) -> ColumnElement[bool]:
    """SQL: pending rows due by ``moment``."""
    return and_(
        Notification.status == PENDING,
        Notification.not_before <= moment,
        or_(Notification.next_attempt_at.is_(None), Notification.next_attempt_at <= moment),
    )


def lease_lapsed(moment: datetime) -> ColumnElement[bool]:
    """SQL: rows being sent whose lease ran out by ``moment``."""
    return and_(Notification.status == SENDING, Notification.next_attempt_at <= moment)


def due_clause(now: datetime, *, pending_by: datetime | None = None) -> ColumnElement[bool]:
    """SQL: rows to deliver now — pending and due (by ``pending_by``, default ``now``), or
    sending with a lapsed lease."""
    return or_(pending_due(now if pending_by is None else pending_by), lease_lapsed(now))


async def first_due_at(session: AsyncSession, *, by: datetime | None = None) -> datetime | None:
    """The earliest moment an unsettled row falls (or fell) due; with ``by``, among the rows
    due by then only. None when there is none."""
    # Two indexed minima, one per case of ``due_at``, instead of a greatest() that SQLite
    # spells differently: first tries wait for not_before, retries and leases for
    # next_attempt_at.
    first = select(func.min(Notification.not_before)).where(
        Notification.status == PENDING,
        or_(
            Notification.next_attempt_at.is_(None),
            Notification.next_attempt_at < Notification.not_before,
        ),
    )
    again = select(func.min(Notification.next_attempt_at)).where(
        Notification.status.in_((PENDING, SENDING)),
        Notification.next_attempt_at >= Notification.not_before,
    )
    if by is not None:
        first = first.where(Notification.not_before <= by)
        again = again.where(Notification.next_attempt_at <= by)
    moments = [await session.scalar(first), await session.scalar(again)]
    found = [m for m in moments if m is not None]
    return min(found) if found else None


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


def person_key(cause: str, person_id: int, channel: str) -> str:
    """The unique key of a message to a person: ``<cause>:p<person>:<channel>``."""
    return f"{cause}:p{person_id}:{channel}"


def on_channel(key: str, channel: str) -> str:
    """The key of the same message to the same person on ``channel`` (from a key made by
    :func:`person_key`)."""
    cause_and_person = key.rpartition(":")[0]
    return f"{cause_and_person}:{channel}" if cause_and_person else key


def fallback_key(key: str) -> str:
    """The key of the message that stands in for ``key`` on the next channel of its route
    (``key`` failed for good, or the person's preference moved it)."""
    return f"{key}:fallback"


def webhook_key(cause: str, webhook_id: int) -> str:
    """The unique key of a message to a group robot: ``<cause>:w<webhook>``."""
    return f"{cause}:w{webhook_id}"


def person_addresses(person: Reachable, channels: Sequence[str]) -> list[tuple[str, str]]:
    """The (channel, address) pairs a new message to a person goes to, from step channels
    ``chat`` / ``email`` (also accepted: channel codes such as ``telegram``, ``wecom_app``).

    The person's channel preference decides (`supervision.channel_prefs.first_sends`):
    without one, ``chat`` is every chat app the person is bound to, and e-mail goes too.
    """
    return [(channel.value, address) for channel, address in first_sends(person, channels)]


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
    via: str | None = None,
) -> int | None:
    """Insert one outbox row unless its key exists; return its id, or None if it existed.

    ``now`` (the caller's clock) stamps ``created_at``.
    """
    row = OutboxRow(
        dedupe_key=dedupe_key,
        kind=kind,
        channel=channel,
        not_before=not_before,
        payload=payload or {},
        locale=locale,
        address=address,
        thread_key=thread_key,
        assignment_id=assignment_id,
        item_id=item_id,
        recipient_id=recipient_id,
        webhook_id=webhook_id,
        fallback_of_id=fallback_of_id,
        via=via,
    )
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = (
        insert(Notification)
        .values(**row_values(row, now))
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
            thread_key=item_thread_key(item_id),
            via=format_via(channels),
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
    """Queue ``kind`` for every active group robot (WeCom, DingTalk, Feishu) that hears it
    for a unit: the unit's, and the leadership's for the steps they receive (`RobotBook`)."""
    book = await RobotBook.load(session, [unit_id])
    ids: list[int] = []
    for hook_id, channel in book.of(unit_id, kind):
        new_id = await add(
            session,
            dedupe_key=webhook_key(key, hook_id),
            kind=kind,
            channel=channel,
            not_before=not_before,
            now=now,
            webhook_id=hook_id,
            assignment_id=assignment_id,
            item_id=item_id,
            payload=payload,
        )
        if new_id is not None:
            ids.append(new_id)
    return ids
