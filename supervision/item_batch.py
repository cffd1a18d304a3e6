"""Saving many items (督查事项) at once, with set-based statements in the caller's transaction.

The bulk form of `supervision.items.save_item`, under the same rules (its checks, deadline,
value builders, diff and audit details): the stored items of a batch are read by 文号 in one
query and their assignments in another; new items, their assignments (with the ladder
columns `supervision.schedule.reschedule` would give them, so the scan sends each 交办通知
once) and every audit event are inserted in one statement each; only stored items that
change are loaded as objects and changed by `supervision.items.apply_diff`. Imports
`models/` and `supervision/` only.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import Table, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from models import ACTIVE_STATES, Assignment, Item, ItemState, Person, Policy, Unit
from supervision.audit import Actor, Event, record_all
from supervision.calendar import DueDate, WorkCalendar
from supervision.clock import Clock
from supervision.errors import DomainError
from supervision.items import (
    ItemContext,
    ItemDiff,
    ItemSpec,
    SaveOutcome,
    SavePlan,
    apply_diff,
    assignment_created_detail,
    check_refs,
    check_spec,
    desired_assignees,
    item_created_detail,
    item_diff,
    new_assignment_values,
    new_item_values,
    resolve_item_due,
    role_due,
)
from supervision.policy import due_days_of
from supervision.schedule import (
    OFFICE_TZ,
    AssignmentFacts,
    Ladder,
    next_action_at,
    notice_waived,
)

__all__ = ["ItemBatch", "Saved"]

log = logging.getLogger("duban.items")

#: New items after which a batch first refreshes the planner's statistics (then at each doubling).
ANALYZE_FIRST = 1000


@dataclass(frozen=True, slots=True)
class Saved:
    """What saving one spec of a batch did: its outcome and deadline, or why it was refused."""

    ref: str
    outcome: SaveOutcome | None
    error: str | None = None
    due_on: date | None = None
    provisional: bool = False
    active: bool = False  # open or completion requested
    error_zh: str = ""  # the reason in Chinese, when the catalogue words it

    @classmethod
    def refused(cls, ref: str, error: DomainError) -> Saved:
        """A spec refused with ``error``."""
        return cls(ref, None, str(error), error_zh=error.said("zh") if error.said else "")


@dataclass(frozen=True, slots=True)
class _StoredItem:
    """An item's row as the save rules read it (`supervision.items.StoredItem`)."""

    id: int
    ref: str
    title: str
    source: str
    objective: str
    content: str
    received_on: date
    due_on: date
    due_is_default: bool
    due_is_provisional: bool
    urgent: bool
    state: str


@dataclass(frozen=True, slots=True)
class _StoredAssignment:
    """An assignment's row as the save rules read it (`supervision.items.StoredAssignment`)."""

    unit_id: int
    role: str
    state: str
    owner_id: int | None
    leader_id: int | None


@dataclass(frozen=True, slots=True)
class _New:
    index: int
    spec: ItemSpec
    due: DueDate
    policy: Policy | None


@dataclass(frozen=True, slots=True)
class _Changed:
    index: int
    spec: ItemSpec
    due: DueDate
    policy: Policy | None
    diff: ItemDiff


# Core inserts of the tables: the ORM's bulk insert runs row by row on SQLite here.
_ITEMS = cast(Table, Item.__table__)
_ASSIGNMENTS = cast(Table, Assignment.__table__)
_ITEM_COLUMNS = (
    Item.id,
    Item.ref,
    Item.title,
    Item.source,
    Item.objective,
    Item.content,
    Item.received_on,
    Item.due_on,
    Item.due_is_default,
    Item.due_is_provisional,
    Item.urgent,
    Item.state,
)


class ItemBatch:
    """Saves batches of item specs in one session's transaction; keep one per import."""

    def __init__(
        self,
        session: AsyncSession,
        *,
        actor: Actor,
        clock: Clock,
        context: ItemContext | None = None,
    ) -> None:
        self.session = session
        self.actor = actor
        self.clock = clock
        self.context = context if context is not None else ItemContext()
        self._ladders: dict[int, Ladder] = {}  # by policy object: the context keeps them
        # (ladder, deadline, now) → the ladder columns of a new assignment.
        self._columns: dict[tuple[Ladder, date, datetime], tuple[datetime | None, bool]] = {}
        self._created = 0  # new items this batch has inserted
        self._analyze_at = ANALYZE_FIRST  # ... when the planner next learns of them

    async def save(self, specs: Sequence[ItemSpec]) -> list[Saved]:
        """Create or update every spec's item by its 文号; one answer per spec, in order.

        A refused spec (`DomainError`) is answered with its reason and the others are still
        saved: the caller decides whether the transaction is kept.
        """
        session, ctx = self.session, self.context
        specs = [
            s
            if s.ref == s.ref.strip() and s.title == s.title.strip()
            else replace(s, ref=s.ref.strip(), title=s.title.strip())
            for s in specs
        ]
        answers: list[Saved | None] = [None] * len(specs)
        calendar = await ctx.calendar(session)
        stored = await self._stored([s.ref for s in specs])
        await self._know(specs)
        new: list[_New] = []
        changed: list[_Changed] = []
        refs: set[str] = set()
        for index, spec in enumerate(specs):
            if spec.ref in refs:
                answers[index] = Saved(spec.ref, None, f"ref {spec.ref!r} is twice in the batch")
                continue
            refs.add(spec.ref)
            try:
                check_spec(spec)
                await check_refs(session, spec, ctx)
                policy = await ctx.policy(session, spec.source, spec.urgent)
                current = stored.get(spec.ref)
                item = current[0] if current is not None else None
                due = resolve_item_due(spec, item, calendar, due_days_of(policy))
                if current is None:
                    new.append(_New(index, spec, due, policy))
                    continue
                diff = item_diff(current[0], current[1], spec, due)
            except DomainError as exc:
                answers[index] = Saved.refused(spec.ref, exc)
                continue
            if diff.empty:
                answers[index] = _answer(SaveOutcome.UNCHANGED, current[0])
            else:
                changed.append(_Changed(index, spec, due, policy, diff))
        if new:
            await self._create(new, calendar, answers)
            await self._tell_planner(len(new))
        if changed:
            await self._update(changed, calendar, answers)
        written = [
            a
            for a in answers
            if a is not None and a.provisional and a.due_on is not None
            and a.outcome in (SaveOutcome.CREATED, SaveOutcome.UPDATED)
        ]  # fmt: skip
        provisional = sorted({a.due_on.year for a in written if a.due_on is not None})
        if provisional:
            count = len(written)
            log.warning(
                "%d item(s) saved with a provisional deadline (no official calendar for %s)",
                count,
                ", ".join(map(str, provisional)),
            )
        # Every spec is answered above: refused, unchanged, created or updated.
        return [
            a if a is not None else Saved(s.ref, None, "not saved")
            for a, s in zip(answers, specs, strict=True)
        ]

    async def _tell_planner(self, created: int) -> None:
        """Refresh PostgreSQL's statistics of the tables a batch fills each time the rows it
        added double. The whole import is one transaction, which autovacuum cannot see into:
        without this the planner keeps the sizes it saw at the start and reads the growing
        tables whole (the 文号 lookups of every chunk, the triggers' updates), so an import's
        time grows with the square of its rows. ``ANALYZE`` inside the transaction counts its
        own new rows and makes cached plans be made again. SQLite plans without statistics."""
        self._created += created
        if self._created < self._analyze_at:
            return
        self._analyze_at = 2 * self._created
        if self.session.get_bind().dialect.name == "postgresql":
            await self.session.execute(text("ANALYZE items, assignments"))

    async def _know(self, specs: Sequence[ItemSpec]) -> None:
        """Look up the batch's units and people in one query each, so that `check_refs`
        finds them known (it still refuses the ones that do not exist)."""
        ctx = self.context
        units = {a.unit_id for s in specs for a in (s.lead, *s.co)} - ctx.known_units.keys()
        people = (
            {pid for s in specs for a in (s.lead, *s.co) for pid in (a.owner_id, a.leader_id)}
            - {None}
            - ctx.known_people.keys()
        )
        if units:
            found = await self.session.execute(
                select(Unit.id, Unit.name).where(Unit.id.in_(sorted(units)))
            )
            ctx.known_units.update({uid: name for uid, name in found})
        if people:
            rows = await self.session.execute(
                select(Person.id, Person.name, Person.unit_id).where(
                    Person.id.in_(sorted(p for p in people if p is not None))
                )
            )
            ctx.known_people.update({pid: (name, unit_id) for pid, name, unit_id in rows})

    async def _stored(
        self, refs: list[str]
    ) -> dict[str, tuple[_StoredItem, list[_StoredAssignment]]]:
        """The stored items with these refs and their assignments, as plain rows."""
        if not refs:
            return {}
        rows = await self.session.execute(select(*_ITEM_COLUMNS).where(Item.ref.in_(refs)))
        items = {row.id: _StoredItem(**row._mapping) for row in rows}
        found: dict[int, list[_StoredAssignment]] = {item_id: [] for item_id in items}
        if items:
            assignments = await self.session.execute(
                select(
                    Assignment.item_id,
                    Assignment.unit_id,
                    Assignment.role,
                    Assignment.state,
                    Assignment.owner_id,
                    Assignment.leader_id,
                )
                .where(Assignment.item_id.in_(list(items)))
                .order_by(Assignment.id)
            )
            for item_id, unit_id, role, state, owner_id, leader_id in assignments:
                found[item_id].append(_StoredAssignment(unit_id, role, state, owner_id, leader_id))
        return {item.ref: (item, found[item.id]) for item in items.values()}

    def _ladder_columns(
        self, policy: Policy | None, due_on: date, calendar: WorkCalendar, now: datetime
    ) -> tuple[datetime | None, bool]:
        """``next_action_at`` of a new open assignment, and whether its 交办通知 is waived:
        what `supervision.schedule.reschedule` sets, computed once per ladder and deadline."""
        if policy is None:
            return None, False
        ladder = self._ladders.get(id(policy))
        if ladder is None:
            # One per policy object: the context holds its policies for the batch's life.
            ladder = self._ladders[id(policy)] = Ladder.of(policy)
        key = (ladder, due_on, now)
        columns = self._columns.get(key)
        if columns is None:
            if len(self._columns) > 4096:
                self._columns.clear()
            facts = AssignmentFacts(
                state=ItemState.OPEN, due_on=due_on, started_at=now, assigned_at=now
            )
            columns = self._columns[key] = (
                next_action_at(ladder, facts, calendar, OFFICE_TZ, now),
                notice_waived(ladder, facts),
            )
        return columns

    async def _create(
        self, new: list[_New], calendar: WorkCalendar, answers: list[Saved | None]
    ) -> None:
        """Insert the new items, then their assignments, then every audit event."""
        session, now = self.session, self.clock.now()
        refs = {n.spec.ref for n in new}
        # each new item starts with its one lead unit's name (`models.lead_unit_name`): the
        # triggers then find it unchanged when the assignments go in, instead of rewriting
        # every new item (with all its indexes) a second time in the same transaction
        names = self.context.known_units
        item_rows = [
            new_item_values(n.spec, n.due, now)
            | {"lead_unit_name": names.get(n.spec.lead.unit_id, "")}
            for n in new
        ]
        # No RETURNING: SQLite would insert (and splice the results) one row at a time to
        # keep their order; the keys are read back by the unique 文号 instead.
        await session.execute(insert(_ITEMS), item_rows)
        rows = await session.execute(select(Item.ref, Item.id).where(Item.ref.in_(list(refs))))
        by_ref = {ref: item_id for ref, item_id in rows}
        ids = [by_ref[n.spec.ref] for n in new]
        assignment_rows: list[dict[str, Any]] = []
        for n, item_id in zip(new, ids, strict=True):
            for role, assignee in desired_assignees(n.spec):
                due_on = role_due(role, n.due.day, n.spec.received_on, calendar, n.policy)
                values = new_assignment_values(item_id, role, assignee, due_on, now)
                at, waived = self._ladder_columns(n.policy, due_on, calendar, now)
                values["next_action_at"] = at
                values["assign_noticed_at"] = now if waived else None
                assignment_rows.append(values)
        await session.execute(insert(_ASSIGNMENTS), assignment_rows)
        by_unit = {
            (item_id, unit_id): assignment_id
            for assignment_id, item_id, unit_id in await session.execute(
                select(Assignment.id, Assignment.item_id, Assignment.unit_id).where(
                    Assignment.item_id.in_(ids)
                )
            )
        }
        assignment_ids = [by_unit[row["item_id"], row["unit_id"]] for row in assignment_rows]
        events: list[Event] = []
        position = 0
        for n, item_id, values in zip(new, ids, item_rows, strict=True):
            events.append(
                Event(
                    self.actor,
                    "item",
                    item_id,
                    "create",
                    to_state=ItemState.OPEN,
                    detail=item_created_detail(values),
                )
            )
            for _ in desired_assignees(n.spec):
                row = assignment_rows[position]
                events.append(
                    Event(
                        self.actor,
                        "assignment",
                        assignment_ids[position],
                        "create",
                        to_state=ItemState.OPEN,
                        detail=assignment_created_detail(row),
                    )
                )
                position += 1
            answers[n.index] = Saved(
                n.spec.ref,
                SaveOutcome.CREATED,
                due_on=n.due.day,
                provisional=n.due.provisional,
                active=True,
            )
        await record_all(session, clock=self.clock, events=events)

    async def _update(
        self, changed: list[_Changed], calendar: WorkCalendar, answers: list[Saved | None]
    ) -> None:
        """Change the stored items that differ, one by one through `apply_diff`; objects the
        batch loaded leave the session afterwards, so a long import keeps it small."""
        session = self.session
        before = set(session.identity_map.values())
        # populate_existing: an item already in the session gets its current assignments.
        loaded = (
            await session.scalars(
                select(Item)
                .where(Item.ref.in_([c.spec.ref for c in changed]))
                .options(selectinload(Item.assignments))
                .execution_options(populate_existing=True)
            )
        ).all()
        items = {item.ref: item for item in loaded}
        for c in changed:
            plan = SavePlan(self.actor, self.clock, calendar, c.policy)
            item = items[c.spec.ref]
            try:
                await apply_diff(session, item, c.spec, c.due, c.diff, plan)
            except DomainError as exc:
                answers[c.index] = Saved.refused(c.spec.ref, exc)
                continue
            answers[c.index] = _answer(SaveOutcome.UPDATED, item)
        await session.flush()
        for obj in list(session.identity_map.values()):
            if obj not in before and obj in session:  # an item takes its assignments along
                session.expunge(obj)


def _answer(outcome: SaveOutcome, item: _StoredItem | Item) -> Saved:
    return Saved(
        item.ref,
        outcome,
        due_on=item.due_on,
        provisional=item.due_is_provisional,
        active=item.state in ACTIVE_STATES,
    )
