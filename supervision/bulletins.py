"""Bulletins (督查通报): per-unit on-time figures for a week, month or quarter, frozen and sent.

Imports only ``models/`` and ``supervision/``. Seed 四(三): 对落实情况好的进行总结推广，
对工作不得力的督促整改 — the well-performing units are praised, the overdue items are named.

Definitions (all dates are local office dates in the office's time zone; ``due_on`` is the
assignment's deadline in force, i.e. after approved extensions):

- **period** ``[start, end]``: ``2026-11`` a month, ``2026-W47`` an ISO week (Mon–Sun),
  ``2026-Q4`` a quarter. **as of** = ``min(end, today)``: a running period is judged on today.
- **completed on** (办结日): a closed assignment counts as completed on the day its completion
  report (办结报告) was submitted — or signed off (签发), for items that need the principal's
  sign-off — once that report is approved; the report is the latest approved completion
  report of the assignment. A close without one (an admin close) counts on ``closed_at``.
  An item submitted on its due day and approved later is therefore on time.
- Lead 主办 and co 协办 assignments are counted **separately**: a unit has one row per role it
  holds, and each role has its own ranking (主办排名, 协办排名).
- An assignment **counts** for a unit's row when it is not cancelled, its item was received
  on or before *as of*, and it was not completed before ``start``.
- **assigned** = the number of assignments that count: everything the unit had to work on
  at some time during the period.
- **closed in period** = counted assignments completed on a day in ``[start, as of]`` and
  closed by the time the bulletin is computed.
- **closed on time** = closed in period and ``completed on <= due_on``.
- **closed late** = closed in period and ``completed on > due_on``.
- **open overdue** = not completed by *as of* (still open, awaiting review, or completed
  only after *as of*) and ``due_on < as of`` — the red light on *as of*.
- **overdue** = open overdue + closed late. Each is named in the bulletin's overdue list with
  its working days overdue (to *as of* when open, to the completion day when closed late).
- **extensions** = extension requests of the row's non-cancelled assignments approved
  (``decided_at``) on a day in ``[start, as of]``.
- **judged** = closed in period + open overdue: what fell due (or was finished) in the
  period. **on-time rate** (按期率) = closed on time / judged; ``None`` when judged is 0.
- **ranking**: only rows with something judged are ranked, by on-time rate descending, then
  overdue ascending, then closed on time descending (then unit name for the order); rows
  equal in those three share a rank and the next rank skips (1, 2, 2, 4). Rows with
  nothing judged are listed apart as **本期无到期事项** (``unranked``), never ranked.
- **praised** (通报表扬, 总结推广): units with at least one assignment closed on time and
  none overdue, over both roles. **urged** (督促整改): units with at least one overdue
  assignment, worst first (more overdue assignments, then more working days late in total,
  then unit name), each with its overdue items and days late.
- Units with no assignment that counts and no approved extension are left out.
- **节点按期率** (milestone punctuality, seed 二(三)): over the milestones of annual tasks
  (年度重点工作, items not cancelled), per responsible unit: done on a day in
  ``[start, as of]`` on or before the milestone's date (on time) or after it (late), and
  open ones past their date on *as of* (open overdue); rate = on time / (done + open
  overdue; not counted once the task is closed). Only units with a milestone judged are
  listed, best rate first; ``milestones`` in ``Bulletin.data`` holds them and their totals
  (bulletins frozen earlier have none).

``Bulletin.data`` carries ``"version": 2``; bulletins frozen before it (no version) have one
row per unit with both roles mixed and no ``unranked``/``urged``; readers treat a missing
``role`` as both roles and missing lists as empty.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    Date,
    and_,
    case,
    cast,
    func,
    literal,
    literal_column,
    or_,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    Assignment,
    AssignmentRole,
    Bulletin,
    Extension,
    ExtensionState,
    Item,
    ItemState,
    Person,
    PersonRole,
    Report,
    ReportKind,
    ReviewState,
    Role,
    Unit,
)
from supervision.audit import Actor, record
from supervision.calendar import WorkCalendar
from supervision.clock import Clock
from supervision.deadlines import days_late
from supervision.doc_numbers import year_sequence
from supervision.errors import NotFound, ValidationFailed
from supervision.labels import label_of
from supervision.milestone_figures import MilestoneFigures, milestone_figures
from supervision.outbox import CHAT, EMAIL, next_send_time, notify_person
from supervision.periods import Period, parse_period

__all__ = [
    "BULLETIN_KIND",
    "BulletinData",
    "OverdueEntry",
    "Period",
    "UnitFigures",
    "UrgedUnit",
    "compute_bulletin",
    "default_recipients",
    "freeze_bulletin",
    "get_bulletin",
    "parse_period",
    "send_bulletin",
]

BULLETIN_KIND = "bulletin"
SEND_WINDOW = (time(8, 30), time(18, 0))
DATA_VERSION = 2


@dataclass(slots=True)
class UnitFigures:
    """One unit's line in a bulletin, for one role (lead 主办 or co 协办)."""

    unit_id: int
    unit_code: str
    unit_name: str
    role: str = AssignmentRole.LEAD
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
    def judged(self) -> int:
        """Closed in period plus open overdue: what fell due or was finished in the period."""
        return self.closed_in_period + self.open_overdue

    @property
    def on_time_rate(self) -> float | None:
        """closed on time / judged; None when nothing was judged."""
        return self.closed_on_time / self.judged if self.judged else None

    def as_json(self) -> dict[str, Any]:
        """The row as stored in ``Bulletin.data`` and returned by the API."""
        return {
            "rank": self.rank,
            "unit_id": self.unit_id,
            "unit_code": self.unit_code,
            "unit_name": self.unit_name,
            "role": self.role,
            "role_label": label_of(AssignmentRole, self.role),
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
    unit_id: int = 0
    role: str = AssignmentRole.LEAD

    def as_json(self) -> dict[str, Any]:
        """The entry as stored in ``Bulletin.data``."""
        return {
            "assignment_id": self.assignment_id,
            "item_id": self.item_id,
            "ref": self.ref,
            "title": self.title,
            "unit_name": self.unit_name,
            "unit_id": self.unit_id,
            "role": self.role,
            "role_label": label_of(AssignmentRole, self.role),
            "due_on": self.due_on.isoformat(),
            "days_overdue": self.days_overdue,
            "closed_late": self.closed_late,
        }


@dataclass(frozen=True, slots=True)
class UrgedUnit:
    """A unit named for 督促整改: its overdue assignments (both roles) and days late."""

    unit_id: int
    unit_name: str
    items: tuple[OverdueEntry, ...]

    @property
    def days_overdue(self) -> int:
        """Working days late, summed over the unit's overdue assignments."""
        return sum(o.days_overdue for o in self.items)

    def as_json(self, *, items: int | None = None) -> dict[str, Any]:
        """The entry as stored in ``Bulletin.data`` (with its first ``items`` items only,
        when given: the counts stay whole)."""
        return {
            "unit_id": self.unit_id,
            "unit_name": self.unit_name,
            "overdue": len(self.items),
            "days_overdue": self.days_overdue,
            "items": [o.as_json() for o in self.items[:items]],
        }


@dataclass(slots=True)
class BulletinData:
    """A computed bulletin: ranked rows per role, rows with nothing due, praise and urging."""

    period: Period
    as_of: date
    issued_on: date
    rows: list[UnitFigures] = field(default_factory=list)
    unranked: list[UnitFigures] = field(default_factory=list)
    overdue_items: list[OverdueEntry] = field(default_factory=list)
    number: str = ""
    milestones: list[MilestoneFigures] = field(default_factory=list)  # by unit, best first

    def milestone_totals(self) -> MilestoneFigures:
        """节点按期率 over every unit."""
        total = MilestoneFigures(None, "合计")
        for row in self.milestones:
            total.add(row)
        return total

    def ranking(self, role: str) -> list[UnitFigures]:
        """The ranked rows of one role (``lead`` 主办 or ``co`` 协办)."""
        return [r for r in self.rows if r.role == role]

    @property
    def praised_units(self) -> list[str]:
        """Units with an assignment closed on time and none overdue, over both roles."""
        every = self.rows + self.unranked
        late = {r.unit_id for r in every if r.overdue > 0}
        praised = {r.unit_id for r in every if r.closed_on_time > 0} - late
        seen: dict[int, str] = {}
        for r in self.rows:
            if r.unit_id in praised:
                seen.setdefault(r.unit_id, r.unit_name)
        return list(seen.values())

    @property
    def urged(self) -> list[UrgedUnit]:
        """Units with overdue assignments, worst first, each with its overdue items."""
        by_unit: dict[int, list[OverdueEntry]] = {}
        for o in self.overdue_items:
            by_unit.setdefault(o.unit_id, []).append(o)
        # each unit's sum of days once (a province names thousands of overdue items)
        keyed = [
            ((-len(items), -sum(o.days_overdue for o in items), items[0].unit_name), uid, items)
            for uid, items in by_unit.items()
        ]
        keyed.sort(key=lambda k: k[0])
        return [UrgedUnit(uid, items[0].unit_name, tuple(items)) for _, uid, items in keyed]

    @property
    def urged_units(self) -> list[str]:
        """Names of the urged units (督促整改), worst first."""
        return [u.unit_name for u in self.urged]

    def totals(self) -> dict[str, Any]:
        """Sums over every row, and the overall on-time rate."""
        every = self.rows + self.unranked
        closed = sum(r.closed_in_period for r in every)
        open_overdue = sum(r.open_overdue for r in every)
        on_time = sum(r.closed_on_time for r in every)
        judged = closed + open_overdue
        return {
            "assigned": sum(r.assigned for r in every),
            "closed_in_period": closed,
            "closed_on_time": on_time,
            "overdue": sum(r.overdue for r in every),
            "extensions": sum(r.extensions for r in every),
            "on_time_rate": on_time / judged if judged else None,
        }

    def as_json(
        self, *, page: tuple[int, int] | None = None, urged_items: int | None = None
    ) -> dict[str, Any]:
        """The frozen form kept in ``Bulletin.data`` (keys match the notifier's BulletinView).

        With ``page`` = (page, per page), a preview's form: ``overdue_items`` is that page
        of the list (``overdue_total`` counts it whole, ``overdue_page`` names the page);
        the figures stay whole. With ``urged_items``, each urged unit names at most that
        many of its items (its counts stay whole).
        """
        overdue, paged, urged = self.overdue_items, dict[str, Any](), self.urged
        if page is not None:
            number, size = page
            overdue = overdue[(number - 1) * size : number * size]
            paged = {"overdue_total": len(self.overdue_items), "overdue_page": number}
        return {
            "version": DATA_VERSION,
            "number": self.number,
            "period": self.period.key,
            "period_kind": self.period.kind,
            "period_label": self.period.label,
            "starts_on": self.period.starts_on.isoformat(),
            "ends_on": self.period.ends_on.isoformat(),
            "as_of": self.as_of.isoformat(),
            "issued_on": self.issued_on.isoformat(),
            "rows": [r.as_json() for r in self.rows],
            "unranked": [r.as_json() for r in self.unranked],
            "overdue_items": [o.as_json() for o in overdue],
            **paged,
            "praised_units": self.praised_units,
            "urged_units": [u.unit_name for u in urged],
            "urged": [u.as_json(items=urged_items) for u in urged],
            "totals": self.totals(),
            "milestones": {
                "units": [m.as_json() for m in self.milestones],
                "totals": self.milestone_totals().as_json(),
            },
        }


def rank_units(rows: list[UnitFigures]) -> list[UnitFigures]:
    """Rank rows with something judged: rate desc, overdue asc, on time desc; ties share."""

    def key(r: UnitFigures) -> tuple[float, int, int, str]:
        return (-(r.on_time_rate or 0.0), r.overdue, -r.closed_on_time, r.unit_name)

    ordered = sorted((r for r in rows if r.judged), key=key)
    previous: tuple[float, int, int] | None = None
    for position, row in enumerate(ordered, start=1):
        tie = key(row)[:3]
        if tie != previous:
            row.rank = position
            previous = tie
        else:
            row.rank = ordered[position - 2].rank
    return ordered


def _completed_at() -> Any:
    """When the latest approved completion report of the outer `Assignment` was submitted,
    or signed off when it needed sign-off (NULL when there is none), as a scalar subquery."""
    return (
        select(func.coalesce(Report.signed_off_at, Report.created_at))
        .where(
            Report.assignment_id == Assignment.id,
            Report.kind == ReportKind.COMPLETION.value,
            Report.review_state == ReviewState.APPROVED.value,
        )
        .order_by(Report.id.desc())
        .limit(1)
        .scalar_subquery()
    )


_PARTITION = 1000  # overdue rows handled between two turns of the event loop


@dataclass(frozen=True, slots=True)
class LocalDays:
    """Local office days of UTC instants, computed in SQL, for one period's window.

    ``lo`` and ``hi`` are the UTC instants of the period's first local midnight and of the
    local midnight after *as of*. Between them the zone's UTC offset is piecewise constant:
    ``segments`` holds ``(until, offset)`` pairs (``until`` None for the last), so a local day
    is ``date(instant + offset)`` of the instant's segment — one expression for every zone
    (Asia/Shanghai: one segment; a zone with summer time: a ``CASE`` over its changes). An
    instant before ``lo`` gets a day before the period, one at or after ``hi`` a day after
    *as of*, which is all the rules ask of them.
    """

    lo: datetime
    hi: datetime
    segments: tuple[tuple[datetime | None, timedelta], ...]

    @classmethod
    def of(cls, tz: ZoneInfo, start: date, as_of: date) -> LocalDays:
        """The window ``[start, as_of]`` of the zone ``tz``."""
        lo = datetime.combine(start, time(0), tzinfo=tz).astimezone(UTC)
        hi = datetime.combine(as_of + timedelta(days=1), time(0), tzinfo=tz).astimezone(UTC)

        def offset(at: datetime) -> timedelta:
            return at.astimezone(tz).utcoffset() or timedelta(0)

        segments: list[tuple[datetime | None, timedelta]] = []
        current, at = offset(lo), lo
        while at < hi:
            step = min(at + timedelta(days=1), hi)
            if offset(step) != current:  # a change in (at, step]: find its second
                low, high = 0, int((step - at).total_seconds())  # changed at at + high
                while high - low > 1:
                    middle = (low + high) // 2
                    if offset(at + timedelta(seconds=middle)) != current:
                        high = middle
                    else:
                        low = middle
                change = at + timedelta(seconds=high)
                segments.append((change, current))
                current = offset(change)
            at = step
        segments.append((None, current))
        return cls(lo, hi, tuple(segments))

    def day(self, instant: Any, dialect: str) -> Any:
        """The local day of ``instant`` (a UTC timestamp expression) as a SQL date."""

        def shifted(offset: timedelta) -> Any:
            seconds = int(offset.total_seconds())
            if dialect == "sqlite":
                return func.date(instant, f"{seconds:+d} seconds", type_=Date)
            return cast(instant + literal_column(f"interval '{seconds} seconds'"), Date)

        if len(self.segments) == 1:
            return shifted(self.segments[0][1])
        at = Assignment.closed_at.type
        return case(
            *[(instant < literal(until, at), shifted(off)) for until, off in self.segments[:-1]],
            else_=shifted(self.segments[-1][1]),
        )


#: Work not yet finished (neither closed nor cancelled); ``ix_assignments_unfinished`` holds
#: these rows only, so the scan's updates of closed work never touch it.
UNFINISHED = (ItemState.OPEN.value, ItemState.COMPLETION_REQUESTED.value)


def _period_rows(session: AsyncSession, days: LocalDays, as_of: date) -> Any:
    """The assignments that count for the period (see the module docstring) as a subquery:
    ``id``, ``item_id``, ``unit_id``, ``role``, ``due_on`` and ``closed_on`` (the local
    completion day; NULL while open).

    Read in the database by the period, never the history: the unfinished work (through the
    partial index ``ix_assignments_unfinished``) and the work closed since the period's
    first instant (``ix_assignments_closed_at``). A completion is submitted, signed off and
    approved (which closes) in that order, so an assignment closed before the period was
    also completed before it and never counts. The item's receipt date is looked up by its
    key for each of these rows (a join would read every item ever received).
    """
    closed = ItemState.CLOSED.value
    received = select(Item.received_on).where(Item.id == Assignment.item_id).scalar_subquery()
    instant = func.coalesce(_completed_at(), Assignment.closed_at)
    dialect = session.get_bind().dialect.name
    day = days.day(instant, dialect)

    def part(closed_on: Any, *where: ColumnElement[bool], fence: bool = False) -> Any:
        query = select(
            Assignment.id.label("id"),
            Assignment.item_id.label("item_id"),
            Assignment.unit_id.label("unit_id"),
            Assignment.role.label("role"),
            Assignment.due_on.label("due_on"),
            closed_on.label("closed_on"),
        ).where(received <= as_of, *where)
        # PostgreSQL: a fenced part is not pulled up, so the completion subquery runs once
        # per row, not once per use; the unfinished part is, so the caller's filter (the
        # overdue ones) applies before the receipt date is looked up. SQLite allows no
        # OFFSET in a part of a UNION, and does not pull it up.
        return query.offset(0) if fence and dialect != "sqlite" else query

    unfinished = part(cast(literal(None), Date), Assignment.state.in_(UNFINISHED))
    finished = part(
        case((Assignment.closed_at.is_(None), None), else_=day),
        Assignment.state == closed,
        or_(Assignment.closed_at.is_(None), Assignment.closed_at >= days.lo),
        fence=True,
    )
    return unfinished.union_all(finished).subquery()


async def _summed(
    session: AsyncSession, start: date, as_of: date, days: LocalDays
) -> Sequence[Any]:
    """(unit id, role, assigned, closed in period, on time, late, open overdue) for the
    period, one ``GROUP BY``: the cost follows the period's work and the number of units."""
    rows = _period_rows(session, days, as_of)
    closed_on, due_on = rows.c.closed_on, rows.c.due_on
    in_period = and_(closed_on.is_not(None), closed_on <= as_of)

    def total(condition: ColumnElement[bool]) -> Any:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    query = (
        select(
            rows.c.unit_id,
            rows.c.role,
            func.count(),
            total(in_period),
            total(and_(in_period, closed_on <= due_on)),
            total(and_(in_period, closed_on > due_on)),
            total(and_(or_(closed_on.is_(None), closed_on > as_of), due_on < as_of)),
        )
        .where(or_(closed_on.is_(None), closed_on >= start))
        .group_by(rows.c.unit_id, rows.c.role)
    )
    return (await session.execute(query)).all()


async def _overdue_entries(
    session: AsyncSession,
    start: date,
    as_of: date,
    days: LocalDays,
    calendar: WorkCalendar,
    units: dict[int, Any],
) -> list[OverdueEntry]:
    """The overdue assignments of the period (open overdue on *as of*, or closed late in
    it) with their items' 文号 and titles, worst first: only what the bulletin names is
    read. Working days late run to the completion day when closed late, to *as of* when
    still open. Streamed in partitions: the event loop answers others between them."""
    rows = _period_rows(session, days, as_of)
    closed_on, due_on = rows.c.closed_on, rows.c.due_on
    still_open = and_(or_(closed_on.is_(None), closed_on > as_of), due_on < as_of)
    late = and_(closed_on >= start, closed_on <= as_of, closed_on > due_on)
    query = select(
        rows.c.id,
        rows.c.item_id,
        rows.c.unit_id,
        rows.c.role,
        rows.c.due_on,
        case((still_open, None), else_=closed_on),
        # by key for each named row (a join may read every item to merge)
        select(Item.ref).where(Item.id == rows.c.item_id).scalar_subquery(),
        select(Item.title).where(Item.id == rows.c.item_id).scalar_subquery(),
    ).where(or_(still_open, late))
    overdue: list[OverdueEntry] = []
    spans: dict[tuple[date, date], int] = {}  # thousands of rows share a few hundred spans

    def late_by(due_on: date, until: date) -> int:
        days = spans.get((due_on, until))
        if days is None:
            days = spans[due_on, until] = days_late(due_on, until, calendar)
        return days

    async for partition in (await session.stream(query)).partitions(_PARTITION):
        overdue += [
            OverdueEntry(
                assignment_id=assignment_id,
                item_id=item_id,
                ref=ref,
                title=title,
                unit_name=units[unit_id].name,
                due_on=due_on,
                days_overdue=late_by(due_on, closed_on or as_of),
                closed_late=closed_on is not None,
                unit_id=unit_id,
                role=role,
            )
            for assignment_id, item_id, unit_id, role, due_on, closed_on, ref, title in partition
        ]
    overdue.sort(key=lambda o: (-o.days_overdue, o.unit_name, o.due_on, o.ref, o.assignment_id))
    return overdue


async def compute_bulletin(
    session: AsyncSession,
    period: Period,
    *,
    today: date,
    calendar: WorkCalendar,
    tz: ZoneInfo,
    overdue_list: bool = True,
) -> BulletinData:
    """Compute the per-unit figures of ``period`` as the module docstring defines them
    (without the named overdue assignments when not ``overdue_list``: the figures only).

    The figures are counted in the database per unit and role (`_summed`), so their cost
    follows the period and the number of units; the overdue assignments are read as plain
    columns, titles included, because the bulletin names each of them.
    """
    start = period.starts_on
    as_of = min(period.ends_on, today)
    if as_of < start:
        raise ValidationFailed(
            f"period {period.key} has not started yet (it starts on {start.isoformat()})"
        )
    figures: dict[tuple[int, str], UnitFigures] = {}

    def unit_row(unit_id: int, role: str) -> UnitFigures:
        row = figures.get((unit_id, role))
        if row is None:
            row = figures[unit_id, role] = UnitFigures(unit_id, "", "", role)
        return row

    days = LocalDays.of(tz, start, as_of)
    for unit_id, role, *sums in await _summed(session, start, as_of, days):
        row = unit_row(unit_id, role)
        row.assigned, row.closed_in_period, row.closed_on_time = map(int, sums[:3])
        row.closed_late, row.open_overdue = int(sums[3]), int(sums[4])
    approved = (
        await session.execute(
            select(Assignment.unit_id, Assignment.role, func.count(Extension.id))
            .select_from(Extension)
            .join(Assignment, Assignment.id == Extension.assignment_id)
            .where(
                Extension.state == ExtensionState.APPROVED,
                Extension.decided_at >= days.lo,
                Extension.decided_at < days.hi,
                Assignment.state != ItemState.CANCELLED,
            )
            .group_by(Assignment.unit_id, Assignment.role)
        )
    ).all()
    for unit_id, role, n in approved:
        unit_row(unit_id, role).extensions += int(n)
    units = {
        u.id: u
        for u in (
            await session.execute(
                select(Unit.id, Unit.code, Unit.name).where(
                    Unit.id.in_(sorted({k[0] for k in figures}))
                )
            )
        ).all()
    }
    for (unit_id, _role), row in figures.items():
        row.unit_code, row.unit_name = units[unit_id].code, units[unit_id].name
    overdue: list[OverdueEntry] = []
    if overdue_list:
        overdue = await _overdue_entries(session, start, as_of, days, calendar, units)
    every = list(figures.values())
    lead = AssignmentRole.LEAD
    return BulletinData(
        period=period,
        as_of=as_of,
        issued_on=today,
        rows=rank_units([r for r in every if r.role == lead])
        + rank_units([r for r in every if r.role != lead]),
        unranked=sorted(
            (r for r in every if not r.judged), key=lambda r: (r.role != lead, r.unit_name)
        ),
        overdue_items=overdue,
        milestones=await milestone_figures(session, start, as_of, tz),
    )


async def freeze_bulletin(
    session: AsyncSession, data: BulletinData, *, actor: Actor, clock: Clock
) -> Bulletin:
    """Store a computed bulletin as a numbered Bulletin row (第N期 of its year) and audit it."""
    year = data.period.starts_on.year
    data.number = f"{year}年第{await year_sequence(session, year)}期"
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
                        PersonRole.role.in_([Role.SUPERVISOR, Role.PRINCIPAL])
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
