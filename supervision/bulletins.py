"""Bulletins (督查通报): per-unit on-time figures for a week, month or quarter, frozen and sent.

Imports only ``models/`` and ``supervision/``. Seed 四(三): 对落实情况好的进行总结推广，
对工作不得力的督促整改 — the well-performing units are praised, the overdue items are named.

Definitions (all dates are local office dates; ``closed on`` is ``closed_at`` in the office's
time zone; ``due_on`` is the assignment's deadline in force, i.e. after approved extensions):

- **period** ``[start, end]``: ``2026-11`` a month, ``2026-W47`` an ISO week (Mon–Sun),
  ``2026-Q4`` a quarter. **as of** = ``min(end, today)``: a running period is judged on today.
- An assignment (lead 主办 *and* co 协办) **counts** for a unit when it is not cancelled, its
  item was received on or before *as of*, and it was not closed before ``start``.
- **assigned** = the number of assignments that count: everything the unit had to work on
  at some time during the period.
- **closed in period** = counted assignments closed on a day in ``[start, as of]``.
- **closed on time** = closed in period and ``closed on <= due_on``.
- **closed late** = closed in period and ``closed on > due_on``.
- **open overdue** = not closed by *as of* (still open, awaiting completion review, or closed
  only after *as of*) and ``due_on < as of`` — the red light on *as of*.
- **overdue** = open overdue + closed late. Each is named in the bulletin's overdue list with
  its working days overdue (to *as of* when open, to the closing day when closed late).
- **extensions** = extension requests of the unit's non-cancelled assignments approved
  (``decided_at``) on a day in ``[start, as of]``.
- **on-time rate** = closed on time / (closed in period + open overdue)
  = closed on time / (closed on time + overdue). When nothing was due or closed
  (denominator 0) the rate is ``None`` (shown as "—"): there is nothing to judge yet.
- **ranking**: by on-time rate descending (``None`` after every number), then overdue
  ascending, then unit name; units equal in both rate and overdue share a rank and the next
  rank skips (1, 2, 2, 4).
- **praised** (总结推广): units with an on-time rate of 100 % on at least one judged
  assignment. **urged** (督促整改): units with at least one overdue assignment.
- Units with no assignment that counts and no approved extension are left out.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    Assignment,
    Bulletin,
    Extension,
    ExtensionState,
    Item,
    ItemState,
    Person,
    PersonRole,
    Role,
    Unit,
)
from supervision.audit import Actor, record
from supervision.calendar import WorkCalendar
from supervision.clock import Clock
from supervision.errors import NotFound, ValidationFailed
from supervision.outbox import CHAT, EMAIL, next_send_time, notify_person

__all__ = [
    "BULLETIN_KIND",
    "BulletinData",
    "OverdueEntry",
    "Period",
    "UnitFigures",
    "compute_bulletin",
    "default_recipients",
    "freeze_bulletin",
    "get_bulletin",
    "parse_period",
    "send_bulletin",
]

BULLETIN_KIND = "bulletin"
SEND_WINDOW = (time(8, 30), time(18, 0))
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})-Q(\d)$")
_QUARTER_ZH = {1: "一", 2: "二", 3: "三", 4: "四"}


@dataclass(frozen=True, slots=True)
class Period:
    """A bulletin period: its key (``2026-11``), kind, first and last day, and label."""

    key: str
    kind: str  # week | month | quarter
    starts_on: date
    ends_on: date
    label: str


def _month_end(year: int, month: int) -> date:
    nxt = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    return nxt - timedelta(days=1)


def parse_period(text: str) -> Period:
    """Parse ``2026-11`` (month), ``2026-W47`` (ISO week) or ``2026-Q4`` (quarter)."""
    raw = text.strip().upper()
    hint = "use 2026-11 (month), 2026-W47 (ISO week) or 2026-Q4 (quarter)"
    if m := _MONTH.match(raw):
        year, month = int(m[1]), int(m[2])
        if not 1 <= month <= 12:
            raise ValidationFailed(f"period {text!r}: month must be 01-12; {hint}")
        return Period(
            raw, "month", date(year, month, 1), _month_end(year, month), f"{year}年{month}月"
        )
    if m := _WEEK.match(raw):
        year, week = int(m[1]), int(m[2])
        try:
            start = date.fromisocalendar(year, week, 1)
        except ValueError:
            raise ValidationFailed(f"period {text!r}: {year} has no ISO week {week}") from None
        end = start + timedelta(days=6)
        label = f"{year}年第{week}周（{start.month}月{start.day}日—{end.month}月{end.day}日）"
        return Period(raw, "week", start, end, label)
    if m := _QUARTER.match(raw):
        year, quarter = int(m[1]), int(m[2])
        if not 1 <= quarter <= 4:
            raise ValidationFailed(f"period {text!r}: quarter must be Q1-Q4")
        first = 3 * quarter - 2
        return Period(
            raw,
            "quarter",
            date(year, first, 1),
            _month_end(year, first + 2),
            f"{year}年第{_QUARTER_ZH[quarter]}季度",
        )
    raise ValidationFailed(f"period {text!r} is not understood; {hint}")


@dataclass(slots=True)
class UnitFigures:
    """One unit's line in a bulletin."""

    unit_id: int
    unit_code: str
    unit_name: str
    assigned: int = 0
    closed_in_period: int = 0
    closed_on_time: int = 0
    closed_late: int = 0
    open_overdue: int = 0
    extensions: int = 0
    rank: int = 0

    @property
    def overdue(self) -> int:
        """Open overdue plus closed late."""
        return self.open_overdue + self.closed_late

    @property
    def on_time_rate(self) -> float | None:
        """closed on time / (closed in period + open overdue); None when that is 0."""
        judged = self.closed_in_period + self.open_overdue
        return self.closed_on_time / judged if judged else None

    def as_json(self) -> dict[str, Any]:
        """The row as stored in ``Bulletin.data`` and returned by the API."""
        return {
            "rank": self.rank,
            "unit_id": self.unit_id,
            "unit_code": self.unit_code,
            "unit_name": self.unit_name,
            "assigned": self.assigned,
            "closed_in_period": self.closed_in_period,
            "closed_on_time": self.closed_on_time,
            "closed_late": self.closed_late,
            "open_overdue": self.open_overdue,
            "overdue": self.overdue,
            "extensions": self.extensions,
            "on_time_rate": self.on_time_rate,
        }


@dataclass(frozen=True, slots=True)
class OverdueEntry:
    """An overdue assignment named in a bulletin."""

    assignment_id: int
    item_id: int
    ref: str
    title: str
    unit_name: str
    due_on: date
    days_overdue: int  # working days
    closed_late: bool

    def as_json(self) -> dict[str, Any]:
        """The entry as stored in ``Bulletin.data``."""
        return {
            "assignment_id": self.assignment_id,
            "item_id": self.item_id,
            "ref": self.ref,
            "title": self.title,
            "unit_name": self.unit_name,
            "due_on": self.due_on.isoformat(),
            "days_overdue": self.days_overdue,
            "closed_late": self.closed_late,
        }


@dataclass(slots=True)
class BulletinData:
    """A computed bulletin: the ranked unit rows, the overdue items, praised and urged units."""

    period: Period
    as_of: date
    issued_on: date
    rows: list[UnitFigures] = field(default_factory=list)
    overdue_items: list[OverdueEntry] = field(default_factory=list)
    number: str = ""

    @property
    def praised_units(self) -> list[str]:
        """Units with every judged assignment closed on time (总结推广)."""
        return [r.unit_name for r in self.rows if r.on_time_rate == 1.0]

    @property
    def urged_units(self) -> list[str]:
        """Units with at least one overdue assignment (督促整改)."""
        return [r.unit_name for r in self.rows if r.overdue > 0]

    def totals(self) -> dict[str, Any]:
        """Sums over every unit, and the overall on-time rate."""
        closed = sum(r.closed_in_period for r in self.rows)
        open_overdue = sum(r.open_overdue for r in self.rows)
        on_time = sum(r.closed_on_time for r in self.rows)
        judged = closed + open_overdue
        return {
            "assigned": sum(r.assigned for r in self.rows),
            "closed_in_period": closed,
            "closed_on_time": on_time,
            "overdue": sum(r.overdue for r in self.rows),
            "extensions": sum(r.extensions for r in self.rows),
            "on_time_rate": on_time / judged if judged else None,
        }

    def as_json(self) -> dict[str, Any]:
        """The frozen form kept in ``Bulletin.data`` (keys match the notifier's BulletinView)."""
        return {
            "number": self.number,
            "period": self.period.key,
            "period_kind": self.period.kind,
            "period_label": self.period.label,
            "starts_on": self.period.starts_on.isoformat(),
            "ends_on": self.period.ends_on.isoformat(),
            "as_of": self.as_of.isoformat(),
            "issued_on": self.issued_on.isoformat(),
            "rows": [r.as_json() for r in self.rows],
            "overdue_items": [o.as_json() for o in self.overdue_items],
            "praised_units": self.praised_units,
            "urged_units": self.urged_units,
            "totals": self.totals(),
        }


def _local_day(at: datetime, tz: ZoneInfo) -> date:
    return at.astimezone(tz).date()


def _rank(rows: list[UnitFigures]) -> list[UnitFigures]:
    """Sort by rate desc (None last), overdue asc, name; equal (rate, overdue) share a rank."""

    def key(r: UnitFigures) -> tuple[int, float, int, str]:
        rate = r.on_time_rate
        return (rate is None, -(rate or 0.0), r.overdue, r.unit_name)

    ordered = sorted(rows, key=key)
    previous: tuple[int, float, int] | None = None
    for position, row in enumerate(ordered, start=1):
        tie = key(row)[:3]
        if tie != previous:
            row.rank = position
            previous = tie
        else:
            row.rank = ordered[position - 2].rank
    return ordered


async def compute_bulletin(
    session: AsyncSession,
    period: Period,
    *,
    today: date,
    calendar: WorkCalendar,
    tz: ZoneInfo,
) -> BulletinData:
    """Compute the per-unit figures of ``period`` as the module docstring defines them."""
    start = period.starts_on
    as_of = min(period.ends_on, today)
    if as_of < start:
        raise ValidationFailed(
            f"period {period.key} has not started yet (it starts on {start.isoformat()})"
        )
    rows = (
        await session.execute(
            select(Assignment, Item, Unit)
            .join(Item, Item.id == Assignment.item_id)
            .join(Unit, Unit.id == Assignment.unit_id)
            .where(Assignment.state != ItemState.CANCELLED.value, Item.received_on <= as_of)
            .order_by(Assignment.id)
        )
    ).all()
    figures: dict[int, UnitFigures] = {}
    overdue: list[OverdueEntry] = []

    def unit_row(unit: Unit) -> UnitFigures:
        if unit.id not in figures:
            figures[unit.id] = UnitFigures(unit.id, unit.code, unit.name)
        return figures[unit.id]

    for assignment, item, unit in rows:
        closed_on = (
            _local_day(assignment.closed_at, tz)
            if assignment.state == ItemState.CLOSED.value and assignment.closed_at is not None
            else None
        )
        if closed_on is not None and closed_on < start:
            continue
        row = unit_row(unit)
        row.assigned += 1
        entry_days: int | None = None
        late_close = False
        if closed_on is not None and closed_on <= as_of:
            row.closed_in_period += 1
            if closed_on <= assignment.due_on:
                row.closed_on_time += 1
            else:
                row.closed_late += 1
                late_close = True
                entry_days = calendar.workdays_between(assignment.due_on, closed_on)
        elif assignment.due_on < as_of:
            row.open_overdue += 1
            entry_days = calendar.workdays_between(assignment.due_on, as_of)
        if entry_days is not None:
            overdue.append(
                OverdueEntry(
                    assignment_id=assignment.id,
                    item_id=item.id,
                    ref=item.ref,
                    title=item.title,
                    unit_name=unit.name,
                    due_on=assignment.due_on,
                    days_overdue=entry_days,
                    closed_late=late_close,
                )
            )
    lo = datetime.combine(start, time(0), tzinfo=tz).astimezone(UTC)
    hi = datetime.combine(as_of + timedelta(days=1), time(0), tzinfo=tz).astimezone(UTC)
    approved = (
        await session.execute(
            select(Unit, func.count(Extension.id))
            .select_from(Extension)
            .join(Assignment, Assignment.id == Extension.assignment_id)
            .join(Unit, Unit.id == Assignment.unit_id)
            .where(
                Extension.state == ExtensionState.APPROVED.value,
                Extension.decided_at >= lo,
                Extension.decided_at < hi,
                Assignment.state != ItemState.CANCELLED.value,
            )
            .group_by(Unit.id)
        )
    ).all()
    for unit, n in approved:
        unit_row(unit).extensions += int(n)
    overdue.sort(key=lambda o: (-o.days_overdue, o.unit_name, o.due_on, o.ref))
    return BulletinData(
        period=period,
        as_of=as_of,
        issued_on=today,
        rows=_rank(list(figures.values())),
        overdue_items=overdue,
    )


async def freeze_bulletin(
    session: AsyncSession, data: BulletinData, *, actor: Actor, clock: Clock
) -> Bulletin:
    """Store a computed bulletin as a numbered Bulletin row (第N期 of its year) and audit it."""
    year = data.period.starts_on.year
    issued = await session.scalar(
        select(func.count(Bulletin.id)).where(
            Bulletin.starts_on >= date(year, 1, 1), Bulletin.starts_on <= date(year, 12, 31)
        )
    )
    data.number = f"{year}年第{int(issued or 0) + 1}期"
    bulletin = Bulletin(
        period=data.period.key,
        starts_on=data.period.starts_on,
        ends_on=data.period.ends_on,
        created_by_id=actor.person_id,
        data=data.as_json(),
        created_at=clock.now(),
    )
    session.add(bulletin)
    await session.flush()
    record(
        session,
        clock=clock,
        actor=actor,
        entity="bulletin",
        entity_id=bulletin.id,
        action="create",
        detail={"period": data.period.key, "number": data.number},
    )
    return bulletin


async def default_recipients(session: AsyncSession) -> list[Person]:
    """Active supervisors (督查室工作人员) and unit principals (主要负责同志)."""
    people = (
        await session.scalars(
            select(Person)
            .where(
                Person.active,
                Person.id.in_(
                    select(PersonRole.person_id).where(
                        PersonRole.role.in_([Role.SUPERVISOR.value, Role.PRINCIPAL.value])
                    )
                ),
            )
            .order_by(Person.id)
        )
    ).all()
    return list(people)


async def send_bulletin(
    session: AsyncSession,
    bulletin: Bulletin,
    recipients: Sequence[Person],
    *,
    actor: Actor,
    clock: Clock,
    calendar: WorkCalendar,
    tz: ZoneInfo,
    channels: Sequence[str] = (CHAT, EMAIL),
) -> int:
    """Queue the bulletin to each recipient on each channel they have; return the rows queued.

    Rows carry ``payload={"bulletin_id": ...}``; the notifier renders them at delivery.
    Sending again to the same person adds nothing (the outbox key names the bulletin).
    """
    if not recipients:
        raise ValidationFailed("choose at least one recipient")
    start, end = SEND_WINDOW
    not_before = next_send_time(clock.now(), tz=tz, start=start, end=end, calendar=calendar)
    queued = 0
    for person in recipients:
        ids = await notify_person(
            session,
            person=person,
            kind=BULLETIN_KIND,
            key=f"bulletin{bulletin.id}",
            channels=channels,
            not_before=not_before,
            now=clock.now(),
            payload={"bulletin_id": bulletin.id},
        )
        queued += len(ids)
    bulletin.sent_at = clock.now()
    record(
        session,
        clock=clock,
        actor=actor,
        entity="bulletin",
        entity_id=bulletin.id,
        action="send",
        detail={"recipients": [p.id for p in recipients], "queued": queued},
    )
    return queued


async def get_bulletin(session: AsyncSession, bulletin_id: int) -> Bulletin:
    """The stored bulletin, or NotFound."""
    bulletin = await session.get(Bulletin, bulletin_id)
    if bulletin is None:
        raise NotFound(f"no bulletin #{bulletin_id}")
    return bulletin
