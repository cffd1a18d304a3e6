"""An item's timeline (办理过程): everything that happened to it, oldest first, as typed entries.

One query for the web page, the API and the bot: audit events (the item's, its assignments',
reports', extensions' and milestones'), messages and their delivery attempts, reports and
their reviews, extension requests and their decisions. Entries carry
codes (entity, action, states, channel), not words: each edge labels them in its language.
Imports `models/` and `supervision/` only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from models import (
    Assignment,
    AuditAction,
    AuditEntity,
    AuditEvent,
    Extension,
    Item,
    Milestone,
    Notification,
    Person,
    Report,
    Unit,
)
from supervision.access import Scope, item_visible
from supervision.errors import NotFound

__all__ = ["EntryKind", "FileRef", "TimelineEntry", "item_timeline", "timeline_of"]

#: Attachments kept in the database (uploaded on the web); others are held by the chat service.
DB_STORAGE = "db"
#: How much of a message's text an entry shows.
MESSAGE_EXCERPT = 300


class EntryKind(StrEnum):
    """What a timeline entry records."""

    AUDIT = "audit"  # a change: created, edited, a state transition, a deadline moved
    NOTIFICATION = "notification"  # a message queued (its current status)
    ATTEMPT = "attempt"  # one try at delivering a message
    REPORT = "report"  # a progress or completion report filed
    EXTENSION = "extension"  # an extension request (延期申请) filed
    REVIEW = "review"  # a supervisor's decision on a report or an extension


@dataclass(frozen=True, slots=True)
class FileRef:
    """A file attached to a report; ``stored_here`` when this service can hand it out."""

    id: int
    name: str
    stored_here: bool


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    """One event of an item's history, in codes the edges label.

    ``subject`` names what it is about: an audit event's ``entity:action`` (``item:create``),
    a message's ``kind`` (``remind``), a report's ``kind`` (``progress``) or ``extension``.
    ``status`` is a message's status, an attempt's outcome or a decision's review state.
    """

    at: datetime
    kind: EntryKind
    subject: str
    assignment_id: int | None = None
    unit_name: str | None = None
    entity_id: int | None = None  # the row it is about: audited row, message, report, request
    number: int | None = None  # a report's number on its assignment (1, 2, …)
    channel: str | None = None
    status: str | None = None
    state_from: str | None = None
    state_to: str | None = None
    old_due_on: date | None = None
    new_due_on: date | None = None
    detail: str = ""
    who: str = ""
    who_unit: str = ""  # the unit of who filed a report or a request (theirs, then as now)
    files: tuple[FileRef, ...] = ()
    role: str | None = None  # the role of an assignment created (lead | co)
    step: str | None = None  # a ladder step the scan recorded (its kind)
    skipped: tuple[str, ...] = ()  # the earlier steps it missed
    moved_from: str = ""  # 转办: the unit and person that had the work
    moved_to: str = ""  # 转办: the unit and person that have it now


async def item_timeline(
    session: AsyncSession, *, scope: Scope, item_id: int
) -> list[TimelineEntry]:
    """The timeline of an item in ``scope`` (`NotFound` when it is missing or out of scope)."""
    if not await item_visible(session, scope, item_id):
        raise NotFound(f"no item #{item_id}")
    item = await session.scalar(
        select(Item)
        .where(Item.id == item_id)
        .options(selectinload(Item.assignments).selectinload(Assignment.unit))
    )
    if item is None:
        raise NotFound(f"no item #{item_id}")
    return await timeline_of(session, item)


async def _names(session: AsyncSession, ids: set[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = await session.execute(select(Person.id, Person.name).where(Person.id.in_(wanted)))
    return {pid: name for pid, name in rows.all()}


async def _homes(session: AsyncSession, ids: set[int | None]) -> dict[int, str]:
    """The unit name of each person in ``ids`` who has one."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = await session.execute(
        select(Person.id, Unit.name)
        .join(Unit, Unit.id == Person.unit_id)
        .where(Person.id.in_(wanted))
    )
    return {pid: name for pid, name in rows.all()}


async def _unit_names(session: AsyncSession, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = await session.execute(select(Unit.id, Unit.name).where(Unit.id.in_(ids)))
    return {uid: name for uid, name in rows.all()}


def _audit_entry(
    ev: AuditEvent,
    units: dict[int, str],
    owners: dict[tuple[str, int], int],
    holders: Holders,
) -> TimelineEntry:
    facts = ev.detail or {}
    reason = facts.get("reason")
    on = ev.entity_id if ev.entity == "assignment" else owners.get((ev.entity, ev.entity_id))
    entry = TimelineEntry(
        at=ev.at,
        kind=EntryKind.AUDIT,
        subject=f"{ev.entity}:{ev.action}",
        assignment_id=on,
        unit_name=units.get(on) if on is not None else None,
        entity_id=ev.entity_id,
        state_from=ev.from_state,
        state_to=ev.to_state,
        detail=str(reason) if reason else "",
        who=ev.actor_label,
    )
    match ev.action:
        case AuditAction.CREATE if ev.entity == AuditEntity.ASSIGNMENT:
            return replace(entry, role=facts.get("role"))
        case AuditAction.DUE_MOVED:
            return replace(
                entry, old_due_on=_day(facts.get("from")), new_due_on=_day(facts.get("to"))
            )
        case AuditAction.REOPEN:
            old, new = (facts.get("due_on") or [None, None])[:2]
            return replace(entry, old_due_on=_day(old), new_due_on=_day(new))
        case AuditAction.TRANSFER:
            return replace(
                entry,
                moved_from=holders.named(facts.get("before")),
                moved_to=holders.named(facts.get("after")),
            )
        case "ladder_step":
            return replace(
                entry,
                step=facts.get("step"),
                skipped=tuple(str(k) for k in facts.get("skipped") or ()),
            )
    return entry


@dataclass(frozen=True, slots=True)
class Holders:
    """Names of the units and people a 转办 moved work between."""

    units: dict[int, str]
    people: dict[int, str]

    @staticmethod
    def ids(audits: Sequence[AuditEvent]) -> tuple[set[int], set[int]]:
        """The unit and person ids the transfers among ``audits`` name."""
        units: set[int] = set()
        people: set[int] = set()
        for ev in audits:
            if ev.action != AuditAction.TRANSFER:
                continue
            for side in ("before", "after"):
                held = (ev.detail or {}).get(side) or {}
                if isinstance(held.get("unit_id"), int):
                    units.add(held["unit_id"])
                if isinstance(held.get("owner_id"), int):
                    people.add(held["owner_id"])
        return units, people

    def named(self, held: object) -> str:
        """``unit person`` for a transfer's ``before``/``after`` ids."""
        if not isinstance(held, dict):
            return ""
        names = [
            self.units.get(held.get("unit_id") or 0, ""),
            self.people.get(held.get("owner_id") or 0, ""),
        ]
        return " ".join(n for n in names if n)


def _day(value: object) -> date | None:
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _message_entries(
    n: Notification, names: dict[int, str], units: dict[int, str]
) -> list[TimelineEntry]:
    unit = units.get(n.assignment_id) if n.assignment_id is not None else None
    # a group robot's row names no person: it reaches the unit's group
    who = names.get(n.recipient_id or 0) or (unit if n.webhook_id else None) or n.address or ""
    out = [
        TimelineEntry(
            at=n.created_at,
            kind=EntryKind.NOTIFICATION,
            subject=n.kind,
            assignment_id=n.assignment_id,
            unit_name=unit,
            entity_id=n.id,
            channel=n.channel,
            status=n.status,
            detail=n.body_text[:MESSAGE_EXCERPT],
            who=who,
        )
    ]
    out += [
        TimelineEntry(
            at=a.started_at,
            kind=EntryKind.ATTEMPT,
            subject=n.kind,
            assignment_id=n.assignment_id,
            unit_name=unit,
            entity_id=n.id,
            channel=a.channel,
            status=a.outcome,
            detail=a.error or "",
            who=who,
        )
        for a in n.attempts_log
    ]
    return out


def _report_entries(
    r: Report, names: dict[int, str], units: dict[int, str], homes: dict[int, str]
) -> list[TimelineEntry]:
    unit = units.get(r.assignment_id, "")
    files = tuple(
        FileRef(a.id, a.file_name or a.file_id, a.storage == DB_STORAGE) for a in r.attachments
    )
    out = [
        TimelineEntry(
            at=r.created_at,
            kind=EntryKind.REPORT,
            subject=r.kind,
            assignment_id=r.assignment_id,
            unit_name=unit,
            entity_id=r.id,
            number=r.number,
            channel=r.channel,
            detail=r.text,
            who=names.get(r.author_id or 0, ""),
            who_unit=homes.get(r.author_id or 0, ""),
            files=files,
        )
    ]
    if r.reviewed_at is not None:
        out.append(
            TimelineEntry(
                at=r.reviewed_at,
                kind=EntryKind.REVIEW,
                subject=r.kind,
                assignment_id=r.assignment_id,
                unit_name=unit,
                entity_id=r.id,
                number=r.number,
                status=r.review_state,
                detail=r.review_comment or "",
                who=names.get(r.reviewed_by_id or 0, ""),
            )
        )
    return out


def _extension_entries(
    e: Extension, names: dict[int, str], units: dict[int, str], homes: dict[int, str]
) -> list[TimelineEntry]:
    unit = units.get(e.assignment_id, "")
    asked = TimelineEntry(
        at=e.created_at,
        kind=EntryKind.EXTENSION,
        subject="extension",
        assignment_id=e.assignment_id,
        unit_name=unit,
        entity_id=e.id,
        channel=e.channel,
        old_due_on=e.old_due_on,
        new_due_on=e.new_due_on,
        detail=e.reason,
        who=names.get(e.requested_by_id or 0, ""),
        who_unit=homes.get(e.requested_by_id or 0, ""),
    )
    if e.decided_at is None:
        return [asked]
    decided = TimelineEntry(
        at=e.decided_at,
        kind=EntryKind.REVIEW,
        subject="extension",
        assignment_id=e.assignment_id,
        unit_name=unit,
        entity_id=e.id,
        status=e.state,
        old_due_on=e.old_due_on,
        new_due_on=e.new_due_on,
        detail=e.comment or "",
        who=names.get(e.decided_by_id or 0, ""),
    )
    return [asked, decided]


async def timeline_of(session: AsyncSession, item: Item) -> list[TimelineEntry]:
    """Everything that happened to ``item``, oldest first (its assignments and their units
    loaded; the caller has checked that it may be seen)."""
    asg_ids = [a.id for a in item.assignments]
    reports = (
        await session.scalars(
            select(Report).where(Report.assignment_id.in_(asg_ids)).order_by(Report.id)
        )
    ).all()
    extensions = (
        await session.scalars(
            select(Extension).where(Extension.assignment_id.in_(asg_ids)).order_by(Extension.id)
        )
    ).all()
    notifications = (
        await session.scalars(
            select(Notification)
            .where(Notification.item_id == item.id)  # rows about an assignment name its item too
            .options(selectinload(Notification.attempts_log))
            .order_by(Notification.id)
        )
    ).all()
    stages = {
        m.id: (m.name, unit)
        for m, unit in (
            await session.execute(
                select(Milestone, Unit.name)
                .join(Unit, Unit.id == Milestone.unit_id)
                .where(Milestone.item_id == item.id)
            )
        ).all()
    }
    conditions = [(AuditEvent.entity == "item") & (AuditEvent.entity_id == item.id)]
    if stages:
        conditions.append(
            (AuditEvent.entity == "milestone") & (AuditEvent.entity_id.in_(sorted(stages)))
        )
    if asg_ids:
        conditions.append((AuditEvent.entity == "assignment") & (AuditEvent.entity_id.in_(asg_ids)))
    if reports:
        conditions.append(
            (AuditEvent.entity == "report") & (AuditEvent.entity_id.in_([r.id for r in reports]))
        )
    if extensions:
        conditions.append(
            (AuditEvent.entity == "extension")
            & (AuditEvent.entity_id.in_([e.id for e in extensions]))
        )
    audits = (
        await session.scalars(select(AuditEvent).where(or_(*conditions)).order_by(AuditEvent.id))
    ).all()
    names = await _names(
        session,
        {n.recipient_id for n in notifications}
        | {r.author_id for r in reports}
        | {r.reviewed_by_id for r in reports}
        | {e.requested_by_id for e in extensions}
        | {e.decided_by_id for e in extensions},
    )
    units = {a.id: a.unit.name for a in item.assignments}
    homes = await _homes(
        session, {r.author_id for r in reports} | {e.requested_by_id for e in extensions}
    )
    unit_ids, people_ids = Holders.ids(audits)
    holders = Holders(await _unit_names(session, unit_ids), await _names(session, set(people_ids)))
    owners = {("report", r.id): r.assignment_id for r in reports} | {
        ("extension", e.id): e.assignment_id for e in extensions
    }
    out = [_audit_entry(ev, units, owners, holders) for ev in audits]
    # A milestone's change names the milestone and its unit (阶段性节点, 时序进度).
    out = [
        replace(e, detail=stages[e.entity_id][0], unit_name=stages[e.entity_id][1])
        if e.subject.startswith("milestone:") and e.entity_id in stages
        else e
        for e in out
    ]
    for n in notifications:
        out += _message_entries(n, names, units)
    for r in reports:
        out += _report_entries(r, names, units, homes)
    for e in extensions:
        out += _extension_entries(e, names, units, homes)
    out.sort(key=lambda entry: entry.at)  # stable: same-moment entries keep the order above
    return out
