"""The scan: claim due assignments, write their ladder steps to the outbox, plan the next step.

Reads only what is due (indexed ``next_action_at <= now``), in batches, one transaction per
batch; ``FOR UPDATE SKIP LOCKED`` on PostgreSQL lets several workers (and two lanes of one
scan) work at once, and the outbox's unique keys make a repeated scan write nothing twice.
Rows are rendered at delivery. Imports models and supervision only (and, for PostgreSQL's
COPY, the asyncpg driver under the session).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from itertools import repeat
from typing import Any, Final, cast
from zoneinfo import ZoneInfo

from asyncpg.exceptions import UniqueViolationError  # type: ignore[import-untyped]
from sqlalchemy import Table, bindparam, select, text, update
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
from models.db import one_writer
from notifier.recipients import Recipient, RecipientDirectory, RecipientNeed, id_in
from supervision.calendar import WorkCalendar
from supervision.calendar_store import load_calendar
from supervision.clock import Clock
from supervision.outbox import next_send_time, person_addresses, person_key, webhook_key
from supervision.policy import pick_policy
from supervision.schedule import (
    AssignmentFacts,
    Ladder,
    PlannedStep,
    SendWindow,
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


@dataclass(slots=True)
class _Outbox:
    """The outbox rows of one batch, column by column (PostgreSQL takes them as arrays)."""

    keys: list[str] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)
    channels: list[str] = field(default_factory=list)
    locales: list[str] = field(default_factory=list)
    addresses: list[str | None] = field(default_factory=list)
    not_before: list[datetime] = field(default_factory=list)
    payloads: list[dict[str, Any]] = field(default_factory=list)  # shared between rows
    thread_keys: list[str | None] = field(default_factory=list)
    assignment_ids: list[int] = field(default_factory=list)
    item_ids: list[int] = field(default_factory=list)
    recipient_ids: list[int | None] = field(default_factory=list)
    webhook_ids: list[int | None] = field(default_factory=list)

    def add(
        self,
        f: _Fired,
        not_before: datetime,
        key: str,
        channel: str,
        payload: dict[str, Any],
        *,
        person: Recipient | None = None,
        address: str | None = None,
        webhook_id: int | None = None,
    ) -> None:
        """One row of fired step ``f``: to ``person`` at ``address``, or to a group robot."""
        self.keys.append(key)
        self.kinds.append(f.planned.kind)
        self.channels.append(channel)
        self.locales.append(person.locale if person is not None else "zh")
        self.addresses.append(address)
        self.not_before.append(not_before)
        self.payloads.append(payload)
        self.thread_keys.append(f"item-{f.item_id}" if person is not None else None)
        self.assignment_ids.append(f.id)
        self.item_ids.append(f.item_id)
        self.recipient_ids.append(person.id if person is not None else None)
        self.webhook_ids.append(webhook_id)

    def dicts(self, created_at: datetime) -> list[dict[str, Any]]:
        """The rows as column dicts (for executemany)."""
        return [
            {
                "dedupe_key": key,
                "kind": kind,
                "channel": channel,
                "locale": locale,
                "address": address,
                "status": NotificationStatus.PENDING,
                "not_before": not_before,
                "attempts": 0,
                "body_text": "",
                "payload": payload,
                "thread_key": thread_key,
                "assignment_id": assignment_id,
                "item_id": item_id,
                "recipient_id": recipient_id,
                "webhook_id": webhook_id,
                "created_at": created_at,
            }
            for (
                key,
                kind,
                channel,
                locale,
                address,
                not_before,
                payload,
                thread_key,
                assignment_id,
                item_id,
                recipient_id,
                webhook_id,
            ) in zip(
                self.keys,
                self.kinds,
                self.channels,
                self.locales,
                self.addresses,
                self.not_before,
                self.payloads,
                self.thread_keys,
                self.assignment_ids,
                self.item_ids,
                self.recipient_ids,
                self.webhook_ids,
                strict=True,
            )
        ]


@dataclass(slots=True)
class _Advance:
    """Each claimed assignment's new ladder columns, column by column."""

    ids: list[int] = field(default_factory=list)
    next_at: list[datetime | None] = field(default_factory=list)
    ladder_due_on: list[date | None] = field(default_factory=list)
    last_step: list[str | None] = field(default_factory=list)
    last_step_at: list[datetime | None] = field(default_factory=list)
    last_periodic_at: list[datetime | None] = field(default_factory=list)

    def add(self, assignment_id: int, facts: AssignmentFacts, next_at: datetime | None) -> None:
        """Store ``facts`` and ``next_at`` for one assignment."""
        self.ids.append(assignment_id)
        self.next_at.append(next_at)
        self.ladder_due_on.append(facts.ladder_due_on)
        self.last_step.append(facts.last_step)
        self.last_step_at.append(facts.last_step_at)
        self.last_periodic_at.append(facts.last_periodic_at)

    def dicts(self, updated_at: datetime) -> list[dict[str, Any]]:
        """The updates as bound-parameter dicts (for executemany)."""
        return [
            {
                "b_id": i,
                "b_next": n,
                "b_ladder_due_on": d,
                "b_last_step": s,
                "b_last_step_at": s_at,
                "b_last_periodic_at": p_at,
                "b_updated_at": updated_at,
            }
            for i, n, d, s, s_at, p_at in zip(
                self.ids,
                self.next_at,
                self.ladder_due_on,
                self.last_step,
                self.last_step_at,
                self.last_periodic_at,
                strict=True,
            )
        ]


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
        self._writer = _PgWriter if self.postgres else _GenericWriter
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
        if self.calendar is None:
            self.calendar = await load_calendar(self.session)
        if self.ladders is None:
            self.ladders = await _load_ladders(self.session)
        self._calendar, self._rules = self.calendar, self.ladders
        items = await self.session.execute(
            select(Item.id, Item.source, Item.urgent).where(
                id_in(Item.id, {row.item_id for row in rows}, self.postgres)
            )
        )
        self._items = {item_id: (source, urgent) for item_id, source, urgent in items}
        fired: list[_Fired] = []
        advance = _Advance()
        for row in rows:
            self._plan(row, fired, advance)
        written = await self._write_outbox(fired)
        events = self._audit_rows(fired, written)
        if events:
            await self.session.execute(_audit.insert(), events)
        await self._writer.advance(self.session, advance, self.now)
        return set(advance.ids)

    def _plan(self, row: Sequence[Any], fired: list[_Fired], advance: _Advance) -> None:
        """Add the steps due for one claimed assignment and its new ladder columns."""
        # Unpacked by position (claim_query's column order): cheaper than access by name.
        (
            assignment_id, item_id, unit_id, owner_id, leader_id, state, due_on, created_at,
            last_report_at, ladder_due_on, last_step, last_step_at, last_periodic_at,
        ) = row  # fmt: skip
        facts = AssignmentFacts(
            state, due_on, created_at or self.now, last_report_at, ladder_due_on, last_step,
            last_step_at, last_periodic_at,
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
        hooks = await self._group_hooks(
            {f.unit_id for f in fired if GROUP in f.planned.step.channels}
        )
        out = _Outbox()
        for f, need in zip(fired, needs, strict=True):
            key = step_key(f.id, f.planned)
            not_before = self._send_at(f)
            channels = f.planned.step.channels
            for person, roles in directory.resolve(need):
                payload = self._payload(f, roles)
                for channel, address in person_addresses(person, channels):
                    out.add(
                        f,
                        not_before,
                        person_key(key, person.id, channel),
                        channel,
                        payload,
                        person=person,
                        address=address,
                    )
            if GROUP in channels:
                for hook_id, hook_kind in hooks.get(f.unit_id, ()):
                    out.add(
                        f,
                        not_before,
                        webhook_key(key, hook_id),
                        hook_kind,
                        self._payload(f, None),
                        webhook_id=hook_id,
                    )
        if not out.keys:
            return Counter()
        written = await self._writer.outbox(self.session, out, self.now)
        self.result.rows_written += written.total()
        return written

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


class _GenericWriter:
    """Batch writes through SQLAlchemy Core executemany (SQLite)."""

    @staticmethod
    async def outbox(
        session: AsyncSession, rows: _Outbox, created_at: datetime
    ) -> Counter[tuple[int, str]]:
        """Insert outbox rows unless their key exists; count new rows per (assignment, step)."""
        stmt = (
            sqlite_insert(_notifications)
            .on_conflict_do_nothing(index_elements=["dedupe_key"])
            .returning(_notifications.c.assignment_id, _notifications.c.kind)
        )
        result = await session.execute(stmt, rows.dicts(created_at))
        return Counter((int(a), str(k)) for a, k in result.all())

    @staticmethod
    async def advance(session: AsyncSession, rows: _Advance, updated_at: datetime) -> None:
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
            rows.dicts(updated_at),
        )


# PostgreSQL: the outbox rows go in by COPY (below); the advance, and the outbox rows when a key
# already exists, as one statement each, the values passed as arrays and unnested on the server.
# A row-per-execute loop costs a round trip and Python-side parameter processing per row; at
# 1,000 assignments and 2,400 outbox rows that dominated the tick (see BENCHMARKS.md). Values
# common to the batch are single parameters; the insert answers with the number of new rows per
# (assignment, step), not with every key.
_PG_OUTBOX = text(
    """
    WITH new AS (
        INSERT INTO notifications (dedupe_key, kind, channel, locale, address, status,
                                   not_before, attempts, body_text, payload, thread_key,
                                   assignment_id, item_id, recipient_id, webhook_id, created_at)
        SELECT u.key, u.kind, u.channel, u.locale, u.address, :status, u.not_before, 0, '',
               CAST(u.payload AS json), u.thread_key, u.assignment_id, u.item_id,
               u.recipient_id, u.webhook_id, :created_at
        FROM unnest(CAST(:keys AS varchar[]), CAST(:kinds AS varchar[]),
                    CAST(:channels AS varchar[]), CAST(:locales AS varchar[]),
                    CAST(:addresses AS varchar[]), CAST(:not_before AS timestamp[]),
                    CAST(:payloads AS text[]), CAST(:thread_keys AS varchar[]),
                    CAST(:assignment_ids AS integer[]), CAST(:item_ids AS integer[]),
                    CAST(:recipient_ids AS integer[]), CAST(:webhook_ids AS integer[]))
             AS u(key, kind, channel, locale, address, not_before, payload, thread_key,
                  assignment_id, item_id, recipient_id, webhook_id)
        ON CONFLICT (dedupe_key) DO NOTHING
        RETURNING assignment_id, kind
    )
    SELECT assignment_id, kind, count(*) FROM new GROUP BY assignment_id, kind
    """
)
_PG_ADVANCE = text(
    """
    UPDATE assignments AS a
    SET next_action_at = u.next_at, ladder_due_on = u.ladder_due_on, last_step = u.last_step,
        last_step_at = u.last_step_at, last_periodic_at = u.last_periodic_at,
        updated_at = :updated_at
    FROM unnest(CAST(:ids AS integer[]), CAST(:next_at AS timestamp[]),
                CAST(:ladder_due_on AS date[]), CAST(:last_step AS varchar[]),
                CAST(:last_step_at AS timestamp[]), CAST(:last_periodic_at AS timestamp[]))
         AS u(id, next_at, ladder_due_on, last_step, last_step_at, last_periodic_at)
    WHERE a.id = u.id
    """
)


def _naive_utc(values: list[datetime | None]) -> list[datetime | None]:
    """How UTCDateTime stores each value (for the raw arrays); a batch repeats few values."""
    memo: dict[datetime, datetime] = {}
    out: list[datetime | None] = []
    for value in values:
        if value is None:
            out.append(None)
            continue
        naive = memo.get(value)
        if naive is None:
            naive = memo[value] = value.astimezone(UTC).replace(tzinfo=None)
        out.append(naive)
    return out


def _json_column(values: list[dict[str, Any]]) -> list[str]:
    """JSON text of each value; rows with the same payload share one object."""
    memo: dict[int, str] = {}
    out: list[str] = []
    for value in values:
        encoded = memo.get(id(value))
        if encoded is None:
            encoded = memo[id(value)] = json.dumps(value)
        out.append(encoded)
    return out


# The columns a copied outbox row fills (the rest keep their defaults), in record order.
_COPY_COLUMNS = (
    "dedupe_key", "kind", "channel", "locale", "address", "status", "not_before", "attempts",
    "body_text", "payload", "thread_key", "assignment_id", "item_id", "recipient_id",
    "webhook_id", "created_at",
)  # fmt: skip


async def _driver(session: AsyncSession) -> Any:
    """The asyncpg connection under ``session``, inside the transaction it has begun."""
    connection = await session.connection()
    return (await connection.get_raw_connection()).driver_connection


class _PgWriter:
    """Batch writes: a COPY for the outbox, array-unnest statements otherwise (PostgreSQL)."""

    @staticmethod
    async def outbox(
        session: AsyncSession, rows: _Outbox, created_at: datetime
    ) -> Counter[tuple[int, str]]:
        """Write outbox rows unless their key exists; count new rows per (assignment, step).

        A binary COPY: no per-row conflict check, which costs as much as the rest of the
        insert (docs/BENCHMARKS.md, "Scan"). A claimed assignment's rows are new unless a step
        occurrence comes round again (a deadline moved away and back); then a key exists, the
        copy fails as a whole inside its savepoint, and the rows go in again skipping the
        existing keys.
        """
        created = _naive_utc([created_at])[0]
        records = zip(
            rows.keys, rows.kinds, rows.channels, rows.locales, rows.addresses,
            repeat(NotificationStatus.PENDING),
            _naive_utc(cast(list[datetime | None], rows.not_before)), repeat(0), repeat(""),
            _json_column(rows.payloads), rows.thread_keys, rows.assignment_ids, rows.item_ids,
            rows.recipient_ids, rows.webhook_ids, repeat(created),
        )  # fmt: skip
        driver = await _driver(session)
        try:
            async with driver.transaction():  # nested in the batch's: a savepoint
                await driver.copy_records_to_table(
                    _notifications.name, records=list(records), columns=_COPY_COLUMNS
                )
        except UniqueViolationError:
            return await _PgWriter.outbox_new_only(session, rows, created_at)
        return Counter(zip(rows.assignment_ids, rows.kinds, strict=True))

    @staticmethod
    async def outbox_new_only(
        session: AsyncSession, rows: _Outbox, created_at: datetime
    ) -> Counter[tuple[int, str]]:
        """Insert the rows whose key does not exist yet; count them per (assignment, step)."""
        params = {
            "status": NotificationStatus.PENDING,
            "created_at": _naive_utc([created_at])[0],
            "keys": rows.keys,
            "kinds": rows.kinds,
            "channels": rows.channels,
            "locales": rows.locales,
            "addresses": rows.addresses,
            "not_before": _naive_utc(cast(list[datetime | None], rows.not_before)),
            "payloads": _json_column(rows.payloads),
            "thread_keys": rows.thread_keys,
            "assignment_ids": rows.assignment_ids,
            "item_ids": rows.item_ids,
            "recipient_ids": rows.recipient_ids,
            "webhook_ids": rows.webhook_ids,
        }
        new = await session.execute(_PG_OUTBOX, params)
        return Counter({(int(a), str(k)): int(n) for a, k, n in new})

    @staticmethod
    async def advance(session: AsyncSession, rows: _Advance, updated_at: datetime) -> None:
        """Store each assignment's new ladder columns."""
        await session.execute(
            _PG_ADVANCE,
            {
                "updated_at": _naive_utc([updated_at])[0],
                "ids": rows.ids,
                "next_at": _naive_utc(rows.next_at),
                "ladder_due_on": rows.ladder_due_on,
                "last_step": rows.last_step,
                "last_step_at": _naive_utc(rows.last_step_at),
                "last_periodic_at": _naive_utc(rows.last_periodic_at),
            },
        )


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

    On PostgreSQL `LANES` lanes take batches at once; ``SKIP LOCKED`` gives each its own rows.
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

    lanes = 1 if one_writer(sessions) else LANES
    tasks = [asyncio.ensure_future(lane()) for _ in range(lanes)]
    try:
        await asyncio.gather(*tasks)
    except BaseException:
        for task in tasks:  # one lane failed: stop the others before reporting it
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
    result.duration_s = time.perf_counter() - started
    log.debug("scan: %s", result)
    return result
