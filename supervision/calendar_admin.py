"""Administering the working-day calendar: official schedules, single-day overrides, coverage.

Shared by ``duban calendar`` and the web admin's calendar page. After any change, every open
item whose default deadline was provisional is recomputed (never earlier) and audited.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from models import ACTIVE_STATES, CalendarDay, Item
from supervision.audit import Actor, record
from supervision.calendar import Coverage, DaySource
from supervision.calendar_store import load_calendar
from supervision.clock import Clock
from supervision.deadlines import recompute_provisional
from supervision.errors import ValidationFailed
from supervision.import_result import RowError, RowErrors
from supervision.import_values import NotARealDate, parse_bool, parse_date
from supervision.import_words import ImportWord
from supervision.importing import COLUMNS, REQUIRED_COLUMNS
from supervision.items import ItemContext, apply_due
from supervision.tabular import Table

__all__ = [
    "ChangedDeadline",
    "RecomputeResult",
    "ScheduleImportResult",
    "YearCoverage",
    "clear_override",
    "coverage_report",
    "import_schedule",
    "recompute_deadlines",
    "set_override",
]

log = logging.getLogger("duban.calendar")

WORKDAY_WORDS = {"班": True, "上班": True, "工作日": True, "休": False, "休息": False, "假": False}
MAX_NOTE = 200


class ChangedDeadline(NamedTuple):
    """An item whose deadline moved: ``(ref, old, new)``, shown as ``ref: old → new``."""

    ref: str
    old: date
    new: date

    def __str__(self) -> str:
        return f"{self.ref}: {self.old.isoformat()} → {self.new.isoformat()}"


@dataclass(slots=True)
class RecomputeResult:
    """Provisional deadlines recomputed after a calendar change."""

    changed_items: list[ChangedDeadline] = field(default_factory=list)
    confirmed: list[str] = field(default_factory=list)  # refs no longer provisional
    still_provisional: list[str] = field(default_factory=list)


@dataclass(slots=True)
class ScheduleImportResult:
    """What a schedule import did, and which item deadlines it moved."""

    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    kept_overrides: int = 0
    years: list[int] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    changed_items: list[ChangedDeadline] = field(default_factory=list)
    confirmed: list[str] = field(default_factory=list)
    still_provisional: list[str] = field(default_factory=list)
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        """True when every row was accepted."""
        return not self.errors


@dataclass(frozen=True, slots=True)
class YearCoverage:
    """Where one year's working days come from, and how many days the office set itself."""

    year: int
    coverage: Coverage
    schedule_days: int
    overrides: int

    def describe(self) -> str:
        """One line for people."""
        if self.coverage is Coverage.OFFICIAL:
            text = f"{self.year}: official data (bundled chinesecalendar)"
        elif self.coverage is Coverage.SCHEDULE:
            text = f"{self.year}: imported official schedule ({self.schedule_days} days listed)"
        else:
            text = (
                f"{self.year}: no official data — fallback (Mon–Fri less the statutory "
                "holidays, 调休 unknown); deadlines are provisional "
                "until the schedule is imported (duban calendar import FILE)"
            )
        return f"{text}; {self.overrides} override(s)"


def _schedule_day(text: str, number: int, errs: RowErrors) -> date | None:
    """A schedule row's date (None when blank or unreadable; the reason goes to ``errs``)."""
    if not text:
        errs.add(number, "date", ImportWord.REQUIRED)
        return None
    try:
        return parse_date(text)
    except NotARealDate:
        errs.add(number, "date", ImportWord.NOT_A_REAL_DATE, text=text)
    except ValueError:
        errs.add(number, "date", ImportWord.NOT_A_DATE, text=text)
    return None


def _parse_workday(text: str) -> bool:
    """1/0, true/false, 是/否, or 班/休 (not blank)."""
    value = text.strip()
    if value in WORKDAY_WORDS:
        return WORKDAY_WORDS[value]
    return parse_bool(value)


def _day_id(day: date) -> int:
    """A calendar day as an audit entity id (20270101)."""
    return day.year * 10000 + day.month * 100 + day.day


async def import_schedule(
    session: AsyncSession,
    rows: Sequence[dict[str, str]],
    *,
    actor: Actor,
    clock: Clock,
    dry_run: bool = False,
) -> ScheduleImportResult:
    """Write an official schedule (``date,is_workday,note``), then recompute deadlines.

    All or nothing: on any row error, or for a dry run, the session is rolled back.
    A day the admin overrode by hand keeps its override.
    """
    table = rows if isinstance(rows, Table) else Table(list(rows))
    result = ScheduleImportResult(rows=len(table), dry_run=dry_run)
    errs = RowErrors("calendar", table)
    for name in REQUIRED_COLUMNS["calendar"]:
        if name not in table.columns:
            errs.add(1, name, ImportWord.MISSING_COLUMN, expected=", ".join(COLUMNS["calendar"]))
    parsed: dict[date, tuple[int, bool, str]] = {}
    if not len(errs):
        for number, row in zip(table.row_numbers, table, strict=True):
            day = _schedule_day(row.get("date", "").strip(), number, errs)
            workday: bool | None = None
            text = row.get("is_workday", "").strip()
            if not text:
                errs.add(number, "is_workday", ImportWord.REQUIRED)
            else:
                try:
                    workday = _parse_workday(text)
                except ValueError:
                    errs.add(number, "is_workday", ImportWord.NOT_A_WORKDAY, text=text)
            note = row.get("note", "").strip()
            if len(note) > MAX_NOTE:
                errs.add(number, "note", ImportWord.TOO_LONG, limit=MAX_NOTE)
            if day is not None and day in parsed:
                errs.add(number, "date", ImportWord.DATE_TWICE, day=day, first=parsed[day][0])
            elif day is not None and workday is not None:
                parsed[day] = (number, workday, note)
    errors = errs.errors
    if errors:
        result.errors = sorted(errors, key=lambda e: e.row)
        await session.rollback()
        return result
    result.years = sorted({d.year for d in parsed})
    existing = (
        {
            r.day: r
            for r in (
                await session.scalars(select(CalendarDay).where(CalendarDay.day.in_(list(parsed))))
            ).all()
        }
        if parsed
        else {}
    )
    for day, (_number, workday, note) in sorted(parsed.items()):
        current = existing.get(day)
        if current is None:
            session.add(
                CalendarDay(
                    day=day,
                    is_workday=workday,
                    note=note,
                    source=DaySource.SCHEDULE.value,
                    created_by_id=actor.person_id,
                    created_at=clock.now(),
                )
            )
            result.created += 1
        elif current.source == DaySource.OVERRIDE.value:
            result.kept_overrides += 1
        elif current.is_workday != workday or current.note != note:
            current.is_workday = workday
            current.note = note
            result.updated += 1
        else:
            result.unchanged += 1
    await session.flush()
    if result.created or result.updated:
        record(
            session,
            clock=clock,
            actor=actor,
            entity="calendar",
            entity_id=result.years[0],
            action="import_schedule",
            detail={
                "years": result.years,
                "created": result.created,
                "updated": result.updated,
                "kept_overrides": result.kept_overrides,
            },
        )
    recomputed = await recompute_deadlines(session, actor=actor, clock=clock)
    result.changed_items = recomputed.changed_items
    result.confirmed = recomputed.confirmed
    result.still_provisional = recomputed.still_provisional
    if dry_run:
        await session.rollback()
    return result


async def recompute_deadlines(
    session: AsyncSession, *, actor: Actor, clock: Clock
) -> RecomputeResult:
    """Recompute every open item's provisional default deadline with the current calendar."""
    calendar = await load_calendar(session)
    items = (
        await session.scalars(
            select(Item)
            .where(
                Item.due_is_default.is_(True),
                Item.due_is_provisional.is_(True),
                Item.state.in_(ACTIVE_STATES),
            )
            .options(selectinload(Item.assignments))
            .order_by(Item.ref)
            .execution_options(populate_existing=True)
        )
    ).all()
    result = RecomputeResult()
    context = ItemContext(calendar)  # one policy lookup per source and urgency
    for item in items:
        days = await context.working_days(session, item.source, item.urgent)
        old = item.due_on
        new = recompute_provisional(item.received_on, old, calendar, days)
        changes = await apply_due(
            session,
            item,
            item.assignments,
            new,
            is_default=True,
            clock=clock,
            calendar=calendar,
            policy=await context.policy(session, item.source, item.urgent),
        )
        if not changes:
            result.still_provisional.append(item.ref)
            continue
        record(
            session,
            clock=clock,
            actor=actor,
            entity="item",
            entity_id=item.id,
            action="recompute_due",
            detail={"changes": changes},
        )
        if new.day != old:
            result.changed_items.append(ChangedDeadline(item.ref, old, new.day))
            log.info("item %s: deadline %s -> %s", item.ref, old, new.day)
        if not new.provisional:
            result.confirmed.append(item.ref)
        else:
            result.still_provisional.append(item.ref)
    await session.flush()
    return result


async def set_override(
    session: AsyncSession,
    day: date,
    is_workday: bool,
    note: str,
    actor: Actor,
    clock: Clock,
) -> RecomputeResult:
    """Make one day a working day or a day off by hand (wins over any schedule)."""
    note = note.strip()
    if len(note) > MAX_NOTE:
        raise ValidationFailed(f"the note is longer than {MAX_NOTE} characters")
    current = await session.get(CalendarDay, day)
    before = (
        {"is_workday": current.is_workday, "source": current.source, "note": current.note}
        if current
        else None
    )
    if current is None:
        session.add(
            CalendarDay(
                day=day,
                is_workday=is_workday,
                note=note,
                source=DaySource.OVERRIDE.value,
                created_by_id=actor.person_id,
                created_at=clock.now(),
            )
        )
    else:
        current.is_workday = is_workday
        current.note = note
        current.source = DaySource.OVERRIDE.value
        current.created_by_id = actor.person_id
    await session.flush()
    record(
        session,
        clock=clock,
        actor=actor,
        entity="calendar_day",
        entity_id=_day_id(day),
        action="set_override",
        detail={
            "day": day.isoformat(),
            "before": before,
            "is_workday": is_workday,
            "note": note,
        },
    )
    return await recompute_deadlines(session, actor=actor, clock=clock)


async def clear_override(
    session: AsyncSession, day: date, *, actor: Actor, clock: Clock
) -> RecomputeResult:
    """Remove the office's own setting for one day (the day falls back to the data)."""
    current = await session.get(CalendarDay, day)
    if current is None:
        raise ValidationFailed(f"{day.isoformat()} has no override")
    await session.delete(current)
    await session.flush()
    record(
        session,
        clock=clock,
        actor=actor,
        entity="calendar_day",
        entity_id=_day_id(day),
        action="clear_override",
        detail={"day": day.isoformat(), "was_workday": current.is_workday},
    )
    return await recompute_deadlines(session, actor=actor, clock=clock)


async def coverage_report(session: AsyncSession, years: Iterable[int]) -> list[YearCoverage]:
    """For each year: official data, an imported schedule or the fallback, and overrides."""
    wanted = sorted(set(years))
    for year in wanted:
        if not 1900 <= year <= 2200:
            raise ValidationFailed(f"{year} is not a plausible year")
    calendar = await load_calendar(session)
    counts: dict[tuple[int, str], int] = {}
    if wanted:
        rows = (
            await session.execute(
                select(CalendarDay.day, CalendarDay.source).where(
                    CalendarDay.day >= date(wanted[0], 1, 1),
                    CalendarDay.day <= date(wanted[-1], 12, 31),
                )
            )
        ).all()
        for day, source in rows:
            key = (day.year, source)
            counts[key] = counts.get(key, 0) + 1
    return [
        YearCoverage(
            year=year,
            coverage=calendar.coverage(year),
            schedule_days=counts.get((year, DaySource.SCHEDULE.value), 0),
            overrides=counts.get((year, DaySource.OVERRIDE.value), 0),
        )
        for year in wanted
    ]
