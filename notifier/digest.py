"""Digests: one message instead of many, per recipient, per channel, per send window.

The one grouping mechanism for two rules (issue #12):
- 交办通知汇总: two or more 交办通知 for one recipient in one send window are one message;
- 每日待办: when a recipient's ladder messages in one send window number more than the
  policy's ``digest_threshold``, all of them are one message (escalations to leaders and
  principals included: they are rows to those people like any other).

It runs after the scan and before delivery (`scan_and_group`). It reads the pending ladder
rows due by the end of the horizon, decides with `plan_digests` (pure), and for each digest
writes one ``digest`` row (payload ``members``: the row ids, in order; ``buttons``: the
numbered assignments the recipient acts on) and marks its members ``grouped`` in the same
transaction. The members stay in the outbox and the item timeline; only the digest is sent.
A member claimed by delivery first is left to it. Imports models and supervision only.

Telegram: a reply must answer one message per item to be filed against it, so a digest
cannot take replies. It says so, and carries a row of buttons per numbered item (report,
ask to close, ask for extension), which open the same flows as the buttons of a reminder.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models import Item, Notification, NotificationStatus, Policy, StepKind
from notifier.context import ACTING_ROLES, DIGEST, LADDER_STEPS, MILESTONE_KINDS
from notifier.recipients import id_in
from notifier.scan import ScanResult, scan_once
from supervision.calendar import WorkCalendar
from supervision.clock import Clock
from supervision.outbox import OUTBOX_WRITTEN, person_key, webhook_key
from supervision.policy import pick_policy

__all__ = [
    "DIGEST",
    "Candidate",
    "Digest",
    "DigestResult",
    "ScanRound",
    "group_due",
    "plan_digests",
    "scan_and_group",
]

log = logging.getLogger("duban.digest")

NOTICES = "assign"  # payload ``digest``: several 交办通知
DAILY = "daily"  # payload ``digest``: 每日待办


@dataclass(frozen=True, slots=True)
class Candidate:
    """A pending ladder row that may be folded into a digest."""

    id: int
    kind: str
    channel: str
    recipient_id: int | None
    webhook_id: int | None
    assignment_id: int | None
    item_id: int | None
    not_before: datetime
    address: str | None
    locale: str
    roles: tuple[str, ...]
    #: the digest threshold of the item's policy (None: no 每日待办 for it)
    threshold: int | None
    #: the row's cause (its key without recipient and channel), e.g. ``a12:remind:2026-12-07``
    cause: str = ""


@dataclass(frozen=True, slots=True)
class Digest:
    """Rows of one recipient, channel and send window to send as one message."""

    kind: str  # NOTICES or DAILY
    window: date  # the local day of the send window
    members: tuple[Candidate, ...]


def plan_digests(candidates: Iterable[Candidate], tz: ZoneInfo) -> list[Digest]:
    """The digests to write: per recipient, channel and window, a 每日待办 of every row when
    they are more than the lowest threshold among them, else one of the 交办通知 if several."""
    groups: dict[tuple[str, int, str, date], list[Candidate]] = defaultdict(list)
    for c in candidates:
        who = ("p", c.recipient_id) if c.recipient_id is not None else ("w", c.webhook_id)
        if who[1] is None:
            continue
        groups[(who[0], who[1], c.channel, c.not_before.astimezone(tz).date())].append(c)
    out: list[Digest] = []
    for (_, _, _, window), rows in groups.items():
        # In the order the work was assigned, not the order one scan happened to write the
        # rows in (due assignments come in index order, ties in no order): the numbers a
        # person acts on stay the same for the same work.
        rows.sort(key=lambda c: (c.assignment_id or 0, c.id))
        limits = [c.threshold for c in rows if c.threshold is not None]
        if limits and len(rows) > min(limits):
            out.append(Digest(DAILY, window, tuple(rows)))
            continue
        notices = tuple(c for c in rows if c.kind == StepKind.ASSIGN)
        if len(notices) > 1:
            out.append(Digest(NOTICES, window, notices))
    return out


@dataclass
class DigestResult:
    """What one grouping pass did."""

    read: int = 0  # pending ladder rows looked at
    digests: int = 0  # digest rows written
    grouped: int = 0  # rows folded into them
    by_kind: dict[str, int] = field(default_factory=dict)

    def __str__(self) -> str:
        kinds = ", ".join(f"{k}={v}" for k, v in sorted(self.by_kind.items())) or "none"
        return f"digests={self.digests} ({kinds}) grouped={self.grouped} of {self.read}"


_COLUMNS = (
    Notification.id,
    Notification.kind,
    Notification.channel,
    Notification.recipient_id,
    Notification.webhook_id,
    Notification.assignment_id,
    Notification.item_id,
    Notification.not_before,
    Notification.address,
    Notification.locale,
    Notification.payload,
    Notification.dedupe_key,
)


async def _thresholds(
    session: AsyncSession, item_ids: set[int], postgres: bool
) -> dict[int, int | None]:
    """The digest threshold of each item's policy (the policy the ladder follows)."""
    if not item_ids:
        return {}
    policies = (
        await session.execute(
            select(Policy.source, Policy.urgent, Policy.digest_threshold).order_by(Policy.id)
        )
    ).all()
    options = [(source, urgent, limit) for source, urgent, limit in policies]
    if not any(limit is not None for _, _, limit in options):
        return dict.fromkeys(item_ids)
    items = await session.execute(
        select(Item.id, Item.source, Item.urgent).where(id_in(Item.id, item_ids, postgres))
    )
    return {i: pick_policy(options, source, urgent) for i, source, urgent in items}


async def _candidates(session: AsyncSession, until: datetime, postgres: bool) -> list[Candidate]:
    """Pending, never tried ladder rows to a person or a group robot, due by ``until``."""
    stmt = (
        select(*_COLUMNS)
        .where(
            Notification.status == NotificationStatus.PENDING.value,
            Notification.not_before <= until,
            Notification.attempts == 0,
            Notification.kind.in_(sorted(LADDER_STEPS)),
            # every ladder row is about an assignment, or (a milestone step) a milestone
            Notification.assignment_id.is_not(None)
            | Notification.kind.in_(sorted(MILESTONE_KINDS)),
            Notification.fallback_of_id.is_(None),
        )
        .order_by(Notification.id)
    )
    if postgres:
        stmt = stmt.with_for_update(skip_locked=True)
    rows = (await session.execute(stmt)).all()
    limits = await _thresholds(session, {r.item_id for r in rows if r.item_id}, postgres)
    return [
        Candidate(
            id=r.id,
            kind=r.kind,
            channel=r.channel,
            recipient_id=r.recipient_id,
            webhook_id=r.webhook_id,
            assignment_id=r.assignment_id,
            item_id=r.item_id,
            not_before=r.not_before,
            address=r.address,
            locale=r.locale or "zh",
            roles=tuple(str(x) for x in (r.payload or {}).get("roles", ())),
            threshold=limits.get(r.item_id) if r.item_id else None,
            cause=_cause(r.dedupe_key, r.recipient_id is not None),
        )
        for r in rows
    ]


def _cause(key: str, to_person: bool) -> str:
    """The cause part of a row key (``<cause>:p<person>:<channel>`` or ``<cause>:w<hook>``)."""
    return key.rsplit(":", 2 if to_person else 1)[0]


def _payload(digest: Digest) -> dict[str, Any]:
    buttons = [
        [n, c.assignment_id]
        for n, c in enumerate(digest.members, start=1)
        if c.assignment_id is not None and ACTING_ROLES & set(c.roles)
    ]
    return {
        "step": DIGEST,
        "template": DIGEST,
        "digest": digest.kind,
        "window": digest.window.isoformat(),
        "members": [c.id for c in digest.members],
        "buttons": buttons,
    }


async def _write(session: AsyncSession, digest: Digest, now: datetime) -> int | None:
    """Write one digest row and mark its members grouped; None if a member was taken."""
    first = digest.members[0]
    # Named after its first member's cause, which the person's rows on other channels share:
    # the e-mail fallback of a failed chat digest then finds the e-mail digest and adds none.
    cause = f"{DIGEST}:{first.cause or first.id}"
    key = (
        person_key(cause, first.recipient_id, first.channel)
        if first.recipient_id is not None
        else webhook_key(cause, first.webhook_id or 0)
    )
    ids = [c.id for c in digest.members]
    marked = await session.execute(
        update(Notification)
        .where(
            Notification.id.in_(ids),
            Notification.status == NotificationStatus.PENDING.value,
        )
        .values(status=NotificationStatus.GROUPED.value)
        .execution_options(synchronize_session=False)
    )
    if int(getattr(marked, "rowcount", 0) or 0) != len(ids):
        raise _Taken
    row = Notification(
        dedupe_key=key,
        kind=DIGEST,
        channel=first.channel,
        locale=first.locale,
        address=digest.members[-1].address,
        status=NotificationStatus.PENDING.value,
        not_before=max(c.not_before for c in digest.members),
        attempts=0,
        body_text="",
        payload=_payload(digest),
        recipient_id=first.recipient_id,
        webhook_id=first.webhook_id,
        created_at=now,
    )
    session.add(row)
    await session.flush()
    session.info[OUTBOX_WRITTEN] = True
    return row.id


class _Taken(Exception):
    """A member was claimed by delivery between the read and the write."""


async def group_due(
    sessions: async_sessionmaker[AsyncSession],
    *,
    clock: Clock,
    tz: ZoneInfo,
    horizon: timedelta = timedelta(0),
) -> DigestResult:
    """Fold the pending ladder rows due by now + ``horizon`` into digests (one transaction)."""
    now = clock.now().astimezone(UTC)
    result = DigestResult()
    async with sessions() as session, session.begin():
        postgres = session.bind is not None and session.bind.dialect.name == "postgresql"
        if not postgres:
            # SQLite: take the write lock first, so delivery cannot claim a row in between.
            await session.execute(text("UPDATE notifications SET id = id WHERE 0 = 1"))
        candidates = await _candidates(session, now + horizon, postgres)
        result.read = len(candidates)
        for digest in plan_digests(candidates, tz):
            try:
                async with session.begin_nested():
                    await _write(session, digest, now)
            except _Taken:
                log.info("digest of %d rows skipped: a member was taken", len(digest.members))
                continue
            result.digests += 1
            result.grouped += len(digest.members)
            result.by_kind[digest.kind] = result.by_kind.get(digest.kind, 0) + 1
    if result.digests:
        log.info("digest: %s", result)
    return result


@dataclass
class ScanRound:
    """A scan and the grouping after it (reads like a `ScanResult` for the metrics)."""

    scan: ScanResult
    digest: DigestResult

    @property
    def duration_s(self) -> float:
        """The scan's duration."""
        return self.scan.duration_s

    @property
    def rows_written(self) -> int:
        """New outbox rows of the scan."""
        return self.scan.rows_written

    def __str__(self) -> str:
        return f"{self.scan}; {self.digest}"


def scan_and_group(horizon: timedelta = timedelta(0)) -> _ScanAndGroup:
    """A scan function (``notifier.worker.ScanFn``) that groups what it wrote into digests.

    ``horizon``: also group rows due that much later (the arq scan queues rows due before the
    next scan, so it groups them first).
    """
    return _ScanAndGroup(horizon)


@dataclass(frozen=True)
class _ScanAndGroup:
    horizon: timedelta

    async def __call__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        clock: Clock,
        tz: ZoneInfo,
        batch: int = 500,
        calendar: WorkCalendar | None = None,
    ) -> ScanRound:
        scanned = await scan_once(sessions, clock=clock, tz=tz, batch=batch, calendar=calendar)
        grouped = await group_due(sessions, clock=clock, tz=tz, horizon=self.horizon)
        return ScanRound(scanned, grouped)
