"""The scan: claim due assignments, write their ladder steps to the outbox, plan the next step.

Reads only what is due (indexed ``next_action_at <= now``), in batches, one transaction per
batch; ``FOR UPDATE SKIP LOCKED`` on PostgreSQL lets several workers scan at once, and the
outbox's unique keys make a repeated scan write nothing twice. Rows are rendered at delivery.
Imports models and supervision only.
"""

from __future__ import annotations

import json
import logging
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import Row, Table, bindparam, select, text, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models import (
    Assignment,
    AuditEvent,
    GroupWebhook,
    Item,
    ItemState,
    Notification,
    NotificationStatus,
    Policy,
)
from notifier.recipients import RecipientDirectory, RecipientNeed, id_in
from supervision.calendar import WorkCalendar
from supervision.calendar_store import load_calendar
from supervision.clock import Clock
from supervision.outbox import next_send_time, person_addresses, person_key, webhook_key
from supervision.schedule import (
    AssignmentFacts,
    Ladder,
    PlannedStep,
    SendWindow,
    ladder_for,
    plan_tick,
)

__all__ = ["ScanResult", "claim_query", "scan_once", "step_key"]

log = logging.getLogger("duban.scan")

GROUP = "group"  # step channel: the unit's group robots
ACTOR_LABEL = "scan"

# Core tables: the batch writes many rows per statement without building ORM objects.
_assignments = cast(Table, Assignment.__table__)
_notifications = cast(Table, Notification.__table__)
_audit = cast(Table, AuditEvent.__table__)


@dataclass
class ScanResult:
    """What one scan did."""

    claimed: int = 0  # due assignments read under lock
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
            f"claimed={self.claimed} fired={self.fired} ({steps}) rows={self.rows_written} "
            f"skipped={self.skipped} cleared={self.cleared} batches={self.batches} "
            f"duration={self.duration_s * 1000:.1f}ms"
        )


def step_key(assignment_id: int, planned: PlannedStep) -> str:
    """The outbox cause key of one step occurrence, e.g. ``a12:remind:2026-12-07``."""
    return f"a{assignment_id}:{planned.kind}:{planned.occurrence}"


async def _load_ladders(session: AsyncSession) -> list[tuple[str | None, bool, Ladder]]:
    policies = (await session.scalars(select(Policy).order_by(Policy.id))).all()
    return [(p.source, p.urgent, Ladder.of(p)) for p in policies]


def claim_query(now: datetime, batch: int, postgres: bool) -> Any:
    """The claim: up to ``batch`` assignments due at ``now``, locked (skipping locked ones)."""
    stmt = (
        select(
            Assignment.id,
            Assignment.item_id,
            Assignment.unit_id,
            Assignment.owner_id,
            Assignment.leader_id,
            Assignment.state,
            Assignment.due_on,
            Assignment.created_at,
            Assignment.last_report_at,
            Assignment.ladder_due_on,
            Assignment.last_step,
            Assignment.last_step_at,
            Assignment.last_periodic_at,
        )
        .where(Assignment.next_action_at <= now)
        .order_by(Assignment.next_action_at)  # index order: a backlog costs only one batch
        .limit(batch)
    )
    # No join here: with one, the planner may hash-join against the whole items table, and
    # the claim would grow with the number of items. Items are read by id afterwards.
    if postgres:
        stmt = stmt.with_for_update(skip_locked=True)
    return stmt


@dataclass
class _Fired:
    row: Row[Any]
    planned: PlannedStep
    ladder: Ladder


class _Batch:
    """One batch in one transaction: plan, write rows and audit events, advance."""

    def __init__(
        self,
        session: AsyncSession,
        *,
        now: datetime,
        tz: ZoneInfo,
        calendar: WorkCalendar,
        ladders: Sequence[tuple[str | None, bool, Ladder]],
        result: ScanResult,
    ) -> None:
        self.session = session
        self.now = now
        self.tz = tz
        self.calendar = calendar
        self.ladders = ladders
        self.result = result
        self.postgres = session.bind is not None and session.bind.dialect.name == "postgresql"
        self._not_before: dict[SendWindow, datetime] = {}
        self._ladders: dict[tuple[str, bool], Ladder | None] = {}
        self._items: dict[int, tuple[str, bool]] = {}

    async def run(self, batch: int) -> set[int]:
        """Process up to ``batch`` due assignments; return their ids."""
        if not self.postgres:
            # SQLite has no row locks: take the database's write lock before reading, so a
            # second scanner waits for this batch to commit and then sees it advanced.
            await self.session.execute(text("UPDATE assignments SET id = id WHERE 0 = 1"))
        rows = (await self.session.execute(claim_query(self.now, batch, self.postgres))).all()
        self.result.claimed += len(rows)
        if rows:
            items = await self.session.execute(
                select(Item.id, Item.source, Item.urgent).where(
                    id_in(Item.id, {row.item_id for row in rows}, self.postgres)
                )
            )
            self._items = {item_id: (source, urgent) for item_id, source, urgent in items}
        fired: list[_Fired] = []
        updates: list[dict[str, Any]] = []
        for row in rows:
            fired_here, update_values = self._plan(row)
            fired.extend(fired_here)
            updates.append(update_values)
        written = await self._write_outbox(fired)
        writer = _PgWriter if self.postgres else _GenericWriter
        if fired:
            await writer.audit(self.session, self._audit_rows(fired, written))
        if updates:
            await writer.advance(self.session, updates)
        return {row.id for row in rows}

    def _plan(self, row: Row[Any]) -> tuple[list[_Fired], dict[str, Any]]:
        """The steps due for one claimed assignment and its new ladder columns."""
        facts = AssignmentFacts(
            state=row.state,
            due_on=row.due_on,
            started_at=row.created_at or self.now,
            last_report_at=row.last_report_at,
            ladder_due_on=row.ladder_due_on,
            last_step=row.last_step,
            last_step_at=row.last_step_at,
            last_periodic_at=row.last_periodic_at,
        )
        item = self._items.get(row.item_id)
        ladder = self._ladder(*item) if item is not None else None
        fired: list[_Fired] = []
        next_at: datetime | None = None
        if row.state != ItemState.OPEN:
            self.result.cleared += 1  # closed work never produces messages
        elif ladder is not None:
            tick = plan_tick(ladder, facts, self.calendar, self.tz, self.now)
            fired = [_Fired(row, planned, ladder) for planned in tick.fired]
            facts, next_at = tick.facts, tick.next_at
        return fired, {
            "b_id": row.id,
            "b_next": next_at,
            "b_ladder_due_on": facts.ladder_due_on,
            "b_last_step": facts.last_step,
            "b_last_step_at": facts.last_step_at,
            "b_last_periodic_at": facts.last_periodic_at,
            "b_updated_at": self.now,
        }

    def _ladder(self, source: str, urgent: bool) -> Ladder | None:
        """The ladder of an item's source and urgency (looked up once per pair)."""
        key = (source, urgent)
        if key not in self._ladders:
            self._ladders[key] = ladder_for(self.ladders, source, urgent)
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
                calendar=self.calendar,
                workdays_only=window.workdays_only,
            )
            self._not_before[window] = cached
        return cached

    async def _write_outbox(self, fired: list[_Fired]) -> dict[str, int]:
        """Insert every row of the fired steps in one statement; count new rows per cause key."""
        if not fired:
            return {}
        needs = [
            RecipientNeed(f.row.unit_id, f.row.owner_id, f.row.leader_id, f.planned.step.roles)
            for f in fired
        ]
        directory = await RecipientDirectory.load(self.session, needs)
        hooks = await self._group_hooks(
            {f.row.unit_id for f in fired if GROUP in f.planned.step.channels}
        )
        created_at = self.now
        rows: list[dict[str, Any]] = []
        cause_of: dict[str, str] = {}
        for f, need in zip(fired, needs, strict=True):
            planned = f.planned
            key = step_key(f.row.id, planned)
            not_before = self._send_at(f)
            base = {
                "kind": planned.kind,
                "assignment_id": f.row.id,
                "item_id": f.row.item_id,
                "not_before": not_before,
                "status": NotificationStatus.PENDING.value,
                "attempts": 0,
                "body_text": "",
                "created_at": created_at,
                "thread_key": f"item-{f.row.item_id}",
                "webhook_id": None,
                "recipient_id": None,
                "locale": "zh",
                "address": None,
            }
            payload = {
                "step": planned.kind,
                "template": planned.step.template,
                "occurrence": planned.occurrence,
                "due_on": f.row.due_on.isoformat(),
            }
            for person, roles in directory.resolve(need):
                person_payload = payload | {"roles": list(roles)}
                for channel, address in person_addresses(person, planned.step.channels):
                    rows.append(
                        base
                        | {
                            "dedupe_key": person_key(key, person.id, channel),
                            "channel": channel,
                            "recipient_id": person.id,
                            "address": address,
                            "locale": person.locale,
                            "payload": person_payload,
                        }
                    )
                    cause_of[rows[-1]["dedupe_key"]] = key
            if GROUP in planned.step.channels:
                for hook_id, hook_kind in hooks.get(f.row.unit_id, ()):
                    rows.append(
                        base
                        | {
                            "dedupe_key": webhook_key(key, hook_id),
                            "channel": hook_kind,
                            "webhook_id": hook_id,
                            "thread_key": None,
                            "payload": payload,
                        }
                    )
                    cause_of[rows[-1]["dedupe_key"]] = key
        if not rows:
            return {}
        writer = _PgWriter if self.postgres else _GenericWriter
        keys = await writer.outbox(self.session, rows)
        self.result.rows_written += len(keys)
        per_cause: dict[str, int] = defaultdict(int)
        for new_key in keys:
            per_cause[cause_of[new_key]] += 1
        return per_cause

    async def _group_hooks(self, unit_ids: set[int]) -> dict[int, list[tuple[int, str]]]:
        """Active group robots of the given units, by unit."""
        out: dict[int, list[tuple[int, str]]] = defaultdict(list)
        if not unit_ids:
            return out
        rows = await self.session.execute(
            select(GroupWebhook.unit_id, GroupWebhook.id, GroupWebhook.kind)
            .where(GroupWebhook.unit_id.in_(sorted(unit_ids)), GroupWebhook.active)
            .order_by(GroupWebhook.id)
        )
        for unit_id, hook_id, kind in rows:
            if unit_id is not None:
                out[unit_id].append((hook_id, kind))
        return out

    def _audit_rows(self, fired: list[_Fired], written: dict[str, int]) -> list[dict[str, Any]]:
        """One ``ladder_step`` audit event per fired step, for the item's timeline."""
        events: list[dict[str, Any]] = []
        for f in fired:
            planned = f.planned
            key = step_key(f.row.id, planned)
            self.result.fired += 1
            self.result.skipped += len(planned.skipped)
            self.result.by_step[planned.kind] = self.result.by_step.get(planned.kind, 0) + 1
            if planned.skipped:
                log.info(
                    "assignment %d: missed steps %s replaced by %s",
                    f.row.id,
                    ",".join(planned.skipped),
                    planned.kind,
                )
            if not written.get(key):
                # No active recipient with an address, or every row already existed.
                log.info("assignment %d: %s wrote no new outbox row", f.row.id, planned.kind)
            detail: dict[str, Any] = {
                "step": planned.kind,
                "occurrence": planned.occurrence,
                "due_on": f.row.due_on.isoformat(),
                "rows": written.get(key, 0),
            }
            if planned.skipped:
                detail["skipped"] = list(planned.skipped)
            events.append(
                {
                    "at": self.now,
                    "actor_id": None,
                    "actor_label": ACTOR_LABEL,
                    "entity": "assignment",
                    "entity_id": f.row.id,
                    "action": "ladder_step",
                    "from_state": None,
                    "to_state": None,
                    "detail": detail,
                }
            )
        return events


def _naive_utc(value: datetime | None) -> datetime | None:
    """How UTCDateTime stores a value (for the raw PostgreSQL arrays)."""
    return value.astimezone(UTC).replace(tzinfo=None) if value is not None else None


class _GenericWriter:
    """Batch writes through SQLAlchemy Core executemany (SQLite)."""

    @staticmethod
    async def outbox(session: AsyncSession, rows: list[dict[str, Any]]) -> Sequence[str]:
        """Insert outbox rows unless their key exists; return the keys inserted."""
        stmt = (
            sqlite_insert(_notifications)
            .on_conflict_do_nothing(index_elements=["dedupe_key"])
            .returning(_notifications.c.dedupe_key)
        )
        return [str(key) for key in (await session.execute(stmt, rows)).scalars()]

    @staticmethod
    async def audit(session: AsyncSession, events: list[dict[str, Any]]) -> None:
        """Insert audit events."""
        await session.execute(_audit.insert(), events)

    @staticmethod
    async def advance(session: AsyncSession, updates: list[dict[str, Any]]) -> None:
        """Store each assignment's new ladder columns."""
        await session.execute(
            update(_assignments)
            .where(_assignments.c.id == bindparam("b_id"))
            .values(
                next_action_at=bindparam("b_next"),
                ladder_due_on=bindparam("b_ladder_due_on"),
                last_step=bindparam("b_last_step"),
                last_step_at=bindparam("b_last_step_at"),
                last_periodic_at=bindparam("b_last_periodic_at"),
                updated_at=bindparam("b_updated_at"),
            ),
            updates,
        )


# PostgreSQL: one statement per kind of write, the values passed as arrays and unnested on the
# server. A row-per-execute loop costs a round trip and Python-side parameter processing per
# row; at 1,000 assignments and 2,400 outbox rows that dominated the tick (see BENCHMARKS.md).
_PG_OUTBOX = text(
    """
    INSERT INTO notifications (dedupe_key, kind, channel, locale, address, status, not_before,
                               attempts, body_text, payload, thread_key, assignment_id, item_id,
                               recipient_id, webhook_id, created_at)
    SELECT u.key, u.kind, u.channel, u.locale, u.address, :status, u.not_before, 0, '',
           CAST(u.payload AS json), u.thread_key, u.assignment_id, u.item_id, u.recipient_id,
           u.webhook_id, u.created_at
    FROM unnest(CAST(:keys AS varchar[]), CAST(:kinds AS varchar[]),
                CAST(:channels AS varchar[]), CAST(:locales AS varchar[]),
                CAST(:addresses AS varchar[]), CAST(:not_before AS timestamp[]),
                CAST(:payloads AS text[]), CAST(:thread_keys AS varchar[]),
                CAST(:assignment_ids AS integer[]), CAST(:item_ids AS integer[]),
                CAST(:recipient_ids AS integer[]), CAST(:webhook_ids AS integer[]),
                CAST(:created_at AS timestamp[]))
         AS u(key, kind, channel, locale, address, not_before, payload, thread_key,
              assignment_id, item_id, recipient_id, webhook_id, created_at)
    ON CONFLICT (dedupe_key) DO NOTHING
    RETURNING dedupe_key
    """
)
_PG_AUDIT = text(
    """
    INSERT INTO audit_events (at, actor_label, entity, entity_id, action, detail)
    SELECT u.at, u.actor_label, u.entity, u.entity_id, u.action, CAST(u.detail AS json)
    FROM unnest(CAST(:at AS timestamp[]), CAST(:actor_label AS varchar[]),
                CAST(:entity AS varchar[]), CAST(:entity_id AS integer[]),
                CAST(:action AS varchar[]), CAST(:detail AS text[]))
         AS u(at, actor_label, entity, entity_id, action, detail)
    """
)
_PG_ADVANCE = text(
    """
    UPDATE assignments AS a
    SET next_action_at = u.next_at, ladder_due_on = u.ladder_due_on, last_step = u.last_step,
        last_step_at = u.last_step_at, last_periodic_at = u.last_periodic_at,
        updated_at = u.updated_at
    FROM unnest(CAST(:ids AS integer[]), CAST(:next_at AS timestamp[]),
                CAST(:ladder_due_on AS date[]), CAST(:last_step AS varchar[]),
                CAST(:last_step_at AS timestamp[]), CAST(:last_periodic_at AS timestamp[]),
                CAST(:updated_at AS timestamp[]))
         AS u(id, next_at, ladder_due_on, last_step, last_step_at, last_periodic_at, updated_at)
    WHERE a.id = u.id
    """
)


def _json_column(values: list[dict[str, Any]]) -> list[str]:
    """JSON text of each value; rows of one person and step share their payload object."""
    memo: dict[int, str] = {}
    out: list[str] = []
    for value in values:
        encoded = memo.get(id(value))
        if encoded is None:
            encoded = memo[id(value)] = json.dumps(value)
        out.append(encoded)
    return out


class _PgWriter:
    """Batch writes as one array-unnest statement each (PostgreSQL)."""

    @staticmethod
    async def outbox(session: AsyncSession, rows: list[dict[str, Any]]) -> Sequence[str]:
        """Insert outbox rows unless their key exists; return the keys inserted."""
        params = {
            "status": NotificationStatus.PENDING.value,
            "keys": [r["dedupe_key"] for r in rows],
            "kinds": [r["kind"] for r in rows],
            "channels": [r["channel"] for r in rows],
            "locales": [r["locale"] for r in rows],
            "addresses": [r["address"] for r in rows],
            "not_before": [_naive_utc(r["not_before"]) for r in rows],
            "payloads": _json_column([r["payload"] for r in rows]),
            "thread_keys": [r["thread_key"] for r in rows],
            "assignment_ids": [r["assignment_id"] for r in rows],
            "item_ids": [r["item_id"] for r in rows],
            "recipient_ids": [r["recipient_id"] for r in rows],
            "webhook_ids": [r["webhook_id"] for r in rows],
            "created_at": [_naive_utc(r["created_at"]) for r in rows],
        }
        return [str(key) for key in (await session.execute(_PG_OUTBOX, params)).scalars()]

    @staticmethod
    async def audit(session: AsyncSession, events: list[dict[str, Any]]) -> None:
        """Insert audit events."""
        await session.execute(
            _PG_AUDIT,
            {
                "at": [_naive_utc(e["at"]) for e in events],
                "actor_label": [e["actor_label"] for e in events],
                "entity": [e["entity"] for e in events],
                "entity_id": [e["entity_id"] for e in events],
                "action": [e["action"] for e in events],
                "detail": [json.dumps(e["detail"]) for e in events],
            },
        )

    @staticmethod
    async def advance(session: AsyncSession, updates: list[dict[str, Any]]) -> None:
        """Store each assignment's new ladder columns."""
        await session.execute(
            _PG_ADVANCE,
            {
                "ids": [u["b_id"] for u in updates],
                "next_at": [_naive_utc(u["b_next"]) for u in updates],
                "ladder_due_on": [u["b_ladder_due_on"] for u in updates],
                "last_step": [u["b_last_step"] for u in updates],
                "last_step_at": [_naive_utc(u["b_last_step_at"]) for u in updates],
                "last_periodic_at": [_naive_utc(u["b_last_periodic_at"]) for u in updates],
                "updated_at": [_naive_utc(u["b_updated_at"]) for u in updates],
            },
        )


async def scan_once(
    sessions: async_sessionmaker[AsyncSession],
    *,
    clock: Clock,
    tz: ZoneInfo,
    batch: int = 500,
    calendar: WorkCalendar | None = None,
) -> ScanResult:
    """Send every ladder step due now, batch by batch, one transaction per batch."""
    if batch < 1:
        raise ValueError("batch must be at least 1")
    started = time.perf_counter()
    now = clock.now()
    result = ScanResult()
    async with sessions() as session:
        if calendar is None:
            calendar = await load_calendar(session)
        ladders = await _load_ladders(session)
    seen: set[int] = set()
    while True:
        async with sessions() as session, session.begin():
            claimed = await _Batch(
                session, now=now, tz=tz, calendar=calendar, ladders=ladders, result=result
            ).run(batch)
        result.batches += 1
        # Every claimed row now has next_action_at > now, so a full batch means "read on";
        # the seen-check only guards against a row that could not be advanced.
        if len(claimed) < batch or claimed <= seen:
            break
        seen |= claimed
    result.duration_s = time.perf_counter() - started
    log.debug("scan: %s", result)
    return result
