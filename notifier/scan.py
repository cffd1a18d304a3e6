"""The scan: claim due assignments, write their ladder steps to the outbox, plan the next step.

Reads only what is due (indexed ``next_action_at <= now``), in batches, one transaction per
batch; ``FOR UPDATE SKIP LOCKED`` on PostgreSQL lets several workers (and two lanes of one
scan) work at once, and the outbox's unique keys make a repeated scan write nothing twice.
Rows are rendered at delivery; the batch's writes go through an ``OutboxWriter``
(``notifier.outbox_writers``, where PostgreSQL's COPY lives). Then the due milestones
(阶段性节点) the same way: their own short ladder, planned by the same planner, written to
the same outbox under ``m<milestone>:…`` keys. Imports models, supervision and
notifier.recipients / notifier.outbox_writers only.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Final, cast
from zoneinfo import ZoneInfo

from sqlalchemy import Table, bindparam, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models import (
    ACTIVE_STATES,
    Assignment,
    AuditEvent,
    Item,
    ItemState,
    Milestone,
    MilestoneState,
    Notification,
    Policy,
    Role,
)
from models.db import one_writer
from notifier.outbox_writers import LadderAdvance, writer_for
from notifier.recipients import RecipientDirectory, RecipientNeed, id_in
from supervision.calendar import WorkCalendar
from supervision.calendar_store import load_calendar
from supervision.channel_prefs import format_via
from supervision.clock import Clock
from supervision.outbox import (
    OutboxRow,
    item_thread_key,
    next_send_time,
    person_addresses,
    person_key,
    row_values,
    webhook_key,
)
from supervision.policy import pick_policy
from supervision.robots import RobotBook
from supervision.schedule import (
    AssignmentFacts,
    Ladder,
    PlannedStep,
    SendWindow,
    plan_tick,
)

__all__ = [
    "ScanResult",
    "claim_query",
    "milestone_claim_query",
    "milestone_step_key",
    "scan_once",
    "step_key",
]

log = logging.getLogger("duban.scan")

GROUP = "group"  # step channel: the unit's group robots
ACTOR_LABEL = "scan"

# Core tables: the batch reads and writes many rows per statement without ORM objects.
_assignments = cast(Table, Assignment.__table__)
_audit = cast(Table, AuditEvent.__table__)
_milestones = cast(Table, Milestone.__table__)
_notifications = cast(Table, Notification.__table__)


@dataclass
class ScanResult:
    """What one scan did."""

    claimed: int = 0  # due assignments read under lock
    milestones: int = 0  # due milestones (阶段性节点) read under lock
    fired: int = 0  # ladder steps sent (one per assignment and step occurrence)
    rows_written: int = 0  # new outbox rows
    skipped: int = 0  # missed deadline steps replaced by a later one, not sent
    cleared: int = 0  # closed, cancelled or paused assignments that had a stray next_action_at
    batches: int = 0
    duration_s: float = 0.0
    by_step: dict[str, int] = field(default_factory=dict)

    def __str__(self) -> str:
        steps = ", ".join(f"{k}={v}" for k, v in sorted(self.by_step.items())) or "none"
        return (
            f"claimed={self.claimed} milestones={self.milestones} fired={self.fired} ({steps}) "
            f"rows={self.rows_written} "
            f"skipped={self.skipped} cleared={self.cleared} batches={self.batches} "
            f"duration={self.duration_s * 1000:.1f}ms"
        )


def step_key(assignment_id: int, planned: PlannedStep) -> str:
    """The outbox cause key of one step occurrence, e.g. ``a12:remind:2026-12-07``."""
    return f"a{assignment_id}:{planned.kind}:{planned.occurrence}"


def milestone_step_key(milestone_id: int, planned: PlannedStep) -> str:
    """The outbox cause key of a milestone's step, e.g. ``m7:ms_urge:2026-12-07``."""
    return f"m{milestone_id}:{planned.kind}:{planned.occurrence}"


async def load_ladders(session: AsyncSession) -> list[tuple[str | None, bool, Ladder]]:
    """Every policy's ladder with what it applies to, for ``supervision.policy.pick_policy``."""
    policies = (await session.scalars(select(Policy).order_by(Policy.id))).all()
    return [(p.source, p.urgent, Ladder.of(p)) for p in policies]


def claim_query(now: datetime, batch: int, postgres: bool) -> Any:
    """The claim: up to ``batch`` assignments due at ``now``, locked (skipping locked ones)."""
    a = _assignments.c  # Core columns: the rows skip the ORM's loading machinery
    stmt = (
        select(
            a.id,
            a.item_id,
            a.unit_id,
            a.owner_id,
            a.leader_id,
            a.state,
            a.due_on,
            a.created_at,
            a.last_report_at,
            a.ladder_due_on,
            a.last_step,
            a.last_step_at,
            a.last_periodic_at,
            a.assigned_at,
            a.assign_noticed_at,
        )
        .where(a.next_action_at <= now)
        .order_by(a.next_action_at)  # index order: a backlog costs only one batch
        .limit(batch)
    )
    # No join here: with one, the planner may hash-join against the whole items table, and
    # the claim would grow with the number of items. Items are read by id afterwards.
    if postgres:
        stmt = stmt.with_for_update(skip_locked=True)
    return stmt


def milestone_claim_query(now: datetime, batch: int, postgres: bool) -> Any:
    """The claim of milestones (阶段性节点) whose next step is due, as `claim_query`'s."""
    m = _milestones.c
    stmt = (
        select(
            m.id,
            m.item_id,
            m.unit_id,
            m.owner_id,
            m.leader_id,
            m.state,
            m.due_on,
            m.created_at,
            m.ladder_due_on,
            m.last_step,
            m.last_step_at,
        )
        .where(m.next_action_at <= now)
        .order_by(m.next_action_at)
        .limit(batch)
    )
    if postgres:
        stmt = stmt.with_for_update(skip_locked=True)
    return stmt


@dataclass(slots=True)
class _Fired:
    """A step to send for one claimed assignment (its columns the rows need)."""

    id: int
    item_id: int
    unit_id: int
    owner_id: int | None
    leader_id: int | None
    due_on: date
    planned: PlannedStep
    ladder: Ladder


class _Batch:
    """One batch in one transaction: plan, write the outbox rows, advance."""

    _calendar: WorkCalendar  # the calendar and ladders once loaded
    _rules: Sequence[tuple[str | None, bool, Ladder]]

    def __init__(
        self,
        session: AsyncSession,
        *,
        now: datetime,
        tz: ZoneInfo,
        calendar: WorkCalendar | None,
        ladders: Sequence[tuple[str | None, bool, Ladder]] | None,
        result: ScanResult,
    ) -> None:
        self.session = session
        self.now = now
        self.tz = tz
        self.calendar = calendar  # None: loaded by the first batch that claims something
        self.ladders = ladders  # likewise
        self.result = result
        self.postgres = session.bind is not None and session.bind.dialect.name == "postgresql"
        self._writer = writer_for(session)
        self._not_before: dict[SendWindow, datetime] = {}
        self._ladders: dict[tuple[str, bool], Ladder | None] = {}
        self._items: dict[int, tuple[str, bool]] = {}
        self._payloads: dict[tuple[Any, ...], dict[str, Any]] = {}

    async def run(self, batch: int) -> set[int]:
        """Process up to ``batch`` due assignments; return their ids."""
        if not self.postgres:
            # SQLite has no row locks: take the database's write lock before reading, so a
            # second scanner waits for this batch to commit and then sees it advanced.
            await self.session.execute(text("UPDATE assignments SET id = id WHERE 0 = 1"))
        rows = (await self.session.execute(claim_query(self.now, batch, self.postgres))).all()
        self.result.claimed += len(rows)
        if not rows:
            return set()
        if self.postgres:
            # The commit does not wait for the WAL flush (docs/BENCHMARKS.md, "Scan"), so its
            # durability lags it by a fraction of a second. If the database server or its
            # machine crashes in that moment (a crash of this process loses nothing), the
            # commit is lost as a whole — outbox rows and the advance together, never one
            # without the other — and the next tick claims the same assignments again and
            # writes the same rows under the same keys. The only cost is the one any outbox
            # has: a row delivered from a commit that was then lost can be sent once more.
            await self.session.execute(text("SET LOCAL synchronous_commit = off"))
        await self._load_rules()
        items = await self.session.execute(
            select(Item.id, Item.source, Item.urgent).where(
                id_in(Item.id, {row.item_id for row in rows}, self.postgres)
            )
        )
        self._items = {item_id: (source, urgent) for item_id, source, urgent in items}
        fired: list[_Fired] = []
        advance = LadderAdvance()
        for row in rows:
            self._plan(row, fired, advance)
        written = await self._write_outbox(fired)
        events = self._audit_rows(fired, written)
        if events:
            await self.session.execute(_audit.insert(), events)
        await self._writer.advance(self.session, advance, self.now)
        return set(advance.ids)

    async def _load_rules(self) -> None:
        """The calendar and the ladders, read by the first batch that claims something."""
        if self.calendar is None:
            self.calendar = await load_calendar(self.session)
        if self.ladders is None:
            self.ladders = await load_ladders(self.session)
        self._calendar, self._rules = self.calendar, self.ladders

    def _plan(self, row: Sequence[Any], fired: list[_Fired], advance: LadderAdvance) -> None:
        """Add the steps due for one claimed assignment and its new ladder columns."""
        # Unpacked by position (claim_query's column order): cheaper than access by name.
        (
            assignment_id, item_id, unit_id, owner_id, leader_id, state, due_on, created_at,
            last_report_at, ladder_due_on, last_step, last_step_at, last_periodic_at,
            assigned_at, assign_noticed_at,
        ) = row  # fmt: skip
        facts = AssignmentFacts(
            state, due_on, created_at or self.now, last_report_at, ladder_due_on, last_step,
            last_step_at, last_periodic_at, assigned_at, assign_noticed_at,
        )  # fmt: skip
        next_at: datetime | None = None
        if state != ItemState.OPEN:
            self.result.cleared += 1  # closed work never produces messages
        else:
            item = self._items.get(item_id)
            ladder = self._ladder(*item) if item is not None else None
            if ladder is not None:
                tick = plan_tick(ladder, facts, self._calendar, self.tz, self.now)
                columns = (assignment_id, item_id, unit_id, owner_id, leader_id, due_on)
                for planned in tick.fired:
                    fired.append(_Fired(*columns, planned, ladder))
                facts, next_at = tick.facts, tick.next_at
        advance.add(assignment_id, facts, next_at)

    def _ladder(self, source: str, urgent: bool) -> Ladder | None:
        """The ladder of an item's source and urgency (looked up once per pair)."""
        key = (source, urgent)
        if key not in self._ladders:
            self._ladders[key] = pick_policy(self._rules, source, urgent)
        return self._ladders[key]

    def _send_at(self, fired: _Fired) -> datetime:
        """``not_before``: now inside the send window, else the next opening."""
        if fired.planned.step.ignore_send_window:
            return self.now
        window = fired.ladder.window
        cached = self._not_before.get(window)
        if cached is None:
            cached = next_send_time(
                self.now,
                tz=self.tz,
                start=window.start,
                end=window.end,
                calendar=self._calendar,
                workdays_only=window.workdays_only,
            )
            self._not_before[window] = cached
        return cached

    def _payload(self, f: _Fired, roles: tuple[str, ...] | None) -> dict[str, Any]:
        """The payload of a row of ``f`` (with the person's roles), one object per content."""
        planned = f.planned
        key = (planned.kind, planned.step.template, planned.occurrence, f.due_on, roles)
        payload = self._payloads.get(key)
        if payload is None:
            payload = {
                "step": planned.kind,
                "template": planned.step.template,
                "occurrence": planned.occurrence,
                "due_on": f.due_on.isoformat(),
            }
            if roles is not None:
                payload["roles"] = list(roles)
            self._payloads[key] = payload
        return payload

    async def _write_outbox(self, fired: list[_Fired]) -> Counter[tuple[int, str]]:
        """Insert every row of the fired steps in one statement; count new rows per step."""
        if not fired:
            return Counter()
        needs = [
            RecipientNeed(f.unit_id, f.owner_id, f.leader_id, f.planned.step.roles) for f in fired
        ]
        directory = await RecipientDirectory.load(self.session, needs)
        hooks = await RobotBook.load(
            self.session, {f.unit_id for f in fired if GROUP in f.planned.step.channels}
        )
        out: list[OutboxRow] = []
        for f, need in zip(fired, needs, strict=True):
            key = step_key(f.id, f.planned)
            not_before = self._send_at(f)
            kind, channels = f.planned.kind, f.planned.step.channels
            via = format_via(channels)
            for person, roles in directory.resolve(need):
                payload = self._payload(f, roles)
                for channel, address in person_addresses(person, channels):
                    out.append(
                        OutboxRow(
                            person_key(key, person.id, channel), kind, channel, not_before,
                            payload, person.locale, address, item_thread_key(f.item_id),
                            f.id, f.item_id, recipient_id=person.id, via=via,
                        )
                    )  # fmt: skip
            if GROUP in channels:
                for hook_id, hook_kind in hooks.of(f.unit_id, kind):
                    out.append(
                        OutboxRow(
                            webhook_key(key, hook_id), kind, hook_kind, not_before,
                            self._payload(f, None), assignment_id=f.id, item_id=f.item_id,
                            webhook_id=hook_id,
                        )
                    )  # fmt: skip
        if not out:
            return Counter()
        written = await self._writer.outbox(self.session, out, self.now)
        self.result.rows_written += written.total()
        return written

    def _audit_rows(
        self, fired: list[_Fired], written: Counter[tuple[int, str]]
    ) -> list[dict[str, Any]]:
        """A ``ladder_step`` audit event for each fired step the outbox cannot explain.

        A step that wrote its rows is recorded by them (kind, occurrence, recipients, roles
        in the payload; the item timeline lists them). An event is written only when there
        is more to say: earlier steps were skipped for it, or it wrote no new row (no active
        recipient with an address, or every row already existed).
        """
        events: list[dict[str, Any]] = []
        for f in fired:
            planned = f.planned
            self.result.fired += 1
            self.result.skipped += len(planned.skipped)
            self.result.by_step[planned.kind] = self.result.by_step.get(planned.kind, 0) + 1
            rows = written[(f.id, planned.kind)]
            if rows and not planned.skipped:
                continue
            if planned.skipped:
                log.info(
                    "assignment %d: missed steps %s replaced by %s",
                    f.id,
                    ",".join(planned.skipped),
                    planned.kind,
                )
            if not rows:
                log.info("assignment %d: %s wrote no new outbox row", f.id, planned.kind)
            detail: dict[str, Any] = {
                "step": planned.kind,
                "occurrence": planned.occurrence,
                "due_on": f.due_on.isoformat(),
                "rows": rows,
            }
            if planned.skipped:
                detail["skipped"] = list(planned.skipped)
            events.append(
                {
                    "at": self.now,
                    "actor_id": None,
                    "actor_label": ACTOR_LABEL,
                    "entity": "assignment",
                    "entity_id": f.id,
                    "action": "ladder_step",
                    "from_state": None,
                    "to_state": None,
                    "detail": detail,
                }
            )
        return events


class _MilestoneBatch(_Batch):
    """One batch of due milestones (阶段性节点) in one transaction: their own short ladder
    (节点提醒 → 节点催办 → 节点逾期督办) planned by the same planner, written to the same outbox.

    A milestone's steps go to its responsible person (else its unit's liaisons) and, where a
    step names the leader, to its 责任领导 only if one is set. Milestones are few next to
    assignments (a handful per annual task), so the rows go in by one plain insert.
    """

    async def run(self, batch: int) -> set[int]:
        """Process up to ``batch`` due milestones; return their ids."""
        if not self.postgres:  # SQLite: the write lock first, as for assignments
            await self.session.execute(text("UPDATE milestones SET id = id WHERE 0 = 1"))
        rows = (
            await self.session.execute(milestone_claim_query(self.now, batch, self.postgres))
        ).all()
        self.result.milestones += len(rows)
        if not rows:
            return set()
        await self._load_rules()
        items = await self.session.execute(
            select(Item.id, Item.source, Item.urgent, Item.state).where(
                id_in(Item.id, {row.item_id for row in rows}, self.postgres)
            )
        )
        live = {i: (source, urgent) for i, source, urgent, state in items if state in ACTIVE_STATES}
        fired: list[_Fired] = []
        advance: list[dict[str, Any]] = []
        for row in rows:
            (
                milestone_id, item_id, unit_id, owner_id, leader_id, state, due_on, created_at,
                ladder_due_on, last_step, last_step_at,
            ) = row  # fmt: skip
            facts = AssignmentFacts(
                ItemState.OPEN, due_on, created_at or self.now, None, ladder_due_on, last_step,
                last_step_at,
            )  # fmt: skip
            next_at: datetime | None = None
            item = live.get(item_id)
            ladder = self._ladder(*item) if item is not None else None
            if state != MilestoneState.OPEN or item is None:
                self.result.cleared += 1  # done, or its item closed or cancelled: no more
            elif ladder is not None:
                tick = plan_tick(ladder.for_milestones, facts, self._calendar, self.tz, self.now)
                columns = (milestone_id, item_id, unit_id, owner_id, leader_id, due_on)
                for planned in tick.fired:
                    fired.append(_Fired(*columns, planned, ladder))
                facts, next_at = tick.facts, tick.next_at
            advance.append(
                {
                    "b_id": milestone_id,
                    "b_next": next_at,
                    "b_ladder_due_on": facts.ladder_due_on,
                    "b_last_step": facts.last_step,
                    "b_last_step_at": facts.last_step_at,
                }
            )
        written = await self._write_milestone_outbox(fired)
        events = self._audit_rows(fired, written)
        for event in events:
            event["entity"] = "milestone"
        if events:
            await self.session.execute(_audit.insert(), events)
        m = _milestones.c
        await self.session.execute(
            update(_milestones)
            .where(m.id == bindparam("b_id"))
            .values(
                next_action_at=bindparam("b_next"),
                ladder_due_on=bindparam("b_ladder_due_on"),
                last_step=bindparam("b_last_step"),
                last_step_at=bindparam("b_last_step_at"),
            ),
            advance,
        )
        return {a["b_id"] for a in advance}

    async def _write_milestone_outbox(self, fired: list[_Fired]) -> Counter[tuple[int, str]]:
        """Insert the rows of the fired milestone steps; count new rows per milestone and step."""
        if not fired:
            return Counter()

        def roles(f: _Fired) -> tuple[str, ...]:
            # 责任领导 "if set": a milestone without one does not reach the unit's leaders.
            return tuple(
                r for r in f.planned.step.roles if r != Role.LEADER or f.leader_id is not None
            )

        needs = [RecipientNeed(f.unit_id, f.owner_id, f.leader_id, roles(f)) for f in fired]
        directory = await RecipientDirectory.load(self.session, needs)
        hooks = await RobotBook.load(
            self.session, {f.unit_id for f in fired if GROUP in f.planned.step.channels}
        )
        out: list[tuple[int, OutboxRow]] = []
        for f, need in zip(fired, needs, strict=True):
            key = milestone_step_key(f.id, f.planned)
            not_before = self._send_at(f)
            kind, channels = f.planned.kind, f.planned.step.channels
            via = format_via(channels)
            base = {
                "step": kind,
                "template": f.planned.step.template,
                "occurrence": f.planned.occurrence,
                "due_on": f.due_on.isoformat(),
                "milestone_id": f.id,
            }
            for person, person_roles in directory.resolve(need):
                payload = {**base, "roles": list(person_roles)}
                for channel, address in person_addresses(person, channels):
                    row = OutboxRow(
                        person_key(key, person.id, channel), kind, channel, not_before, payload,
                        person.locale, address, item_thread_key(f.item_id), None, f.item_id,
                        recipient_id=person.id, via=via,
                    )  # fmt: skip
                    out.append((f.id, row))
            if GROUP in channels:
                for hook_id, hook_kind in hooks.of(f.unit_id, kind):
                    row = OutboxRow(
                        webhook_key(key, hook_id), kind, hook_kind, not_before, base,
                        item_id=f.item_id, webhook_id=hook_id,
                    )  # fmt: skip
                    out.append((f.id, row))
        if not out:
            return Counter()
        insert = pg_insert if self.postgres else sqlite_insert
        stmt = (
            insert(_notifications)
            .on_conflict_do_nothing(index_elements=["dedupe_key"])
            .returning(_notifications.c.dedupe_key)
        )
        new = set(await self.session.scalars(stmt, [row_values(r, self.now) for _, r in out]))
        written: Counter[tuple[int, str]] = Counter(
            (milestone_id, row.kind) for milestone_id, row in out if row.dedupe_key in new
        )
        self.result.rows_written += written.total()
        return written


#: lanes scanning at once on PostgreSQL: one plans while another writes, and the database
#: spreads their writes over two cores (SQLite has a single writer: one lane)
LANES: Final = 2


async def scan_once(
    sessions: async_sessionmaker[AsyncSession],
    *,
    clock: Clock,
    tz: ZoneInfo,
    batch: int = 500,
    calendar: WorkCalendar | None = None,
) -> ScanResult:
    """Send every ladder step due now, batch by batch, one transaction per batch.

    On PostgreSQL `LANES` lanes take batches at once; ``SKIP LOCKED`` gives each its own rows;
    the milestones' lane runs beside them (after them on SQLite).
    """
    if batch < 1:
        raise ValueError("batch must be at least 1")
    started = time.perf_counter()
    # In UTC: the planner compares it with thousands of UTC moments, and datetimes that share
    # a tzinfo compare without asking it for offsets.
    now = clock.now().astimezone(UTC)
    result = ScanResult()
    ladders: Sequence[tuple[str | None, bool, Ladder]] | None = None  # read when first needed
    seen: set[int] = set()

    async def lane() -> None:
        nonlocal calendar, ladders  # read by the first batch that claims something, then shared
        while True:
            async with sessions() as session, session.begin():
                work = _Batch(
                    session, now=now, tz=tz, calendar=calendar, ladders=ladders, result=result
                )
                claimed = await work.run(batch)
            calendar, ladders = work.calendar, work.ladders
            result.batches += 1
            # Every claimed row now has next_action_at > now, so a full batch means "read on";
            # the seen-check only guards against a row that could not be advanced.
            if len(claimed) < batch or claimed <= seen:
                return
            seen.update(claimed)

    async def milestone_lane() -> None:
        """The milestones' own ladders, batch by batch, the same way."""
        nonlocal calendar, ladders
        seen_milestones: set[int] = set()
        while True:
            async with sessions() as session, session.begin():
                stage = _MilestoneBatch(
                    session, now=now, tz=tz, calendar=calendar, ladders=ladders, result=result
                )
                claimed = await stage.run(batch)
            calendar, ladders = stage.calendar, stage.ladders
            result.batches += 1 if claimed else 0
            if len(claimed) < batch or claimed <= seen_milestones:
                return
            seen_milestones.update(claimed)

    single = one_writer(sessions)
    lanes = 1 if single else LANES
    tasks = [asyncio.ensure_future(lane()) for _ in range(lanes)]
    if not single:  # beside the assignment lanes: a tick takes no longer for it
        tasks.append(asyncio.ensure_future(milestone_lane()))
    try:
        await asyncio.gather(*tasks)
        if single:  # SQLite has one writer: after them
            await milestone_lane()
    except BaseException:
        for task in tasks:  # one lane failed: stop the others before reporting it
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
    result.duration_s = time.perf_counter() - started
    log.debug("scan: %s", result)
    return result
