"""Supervised items (督查事项) and their assignments to units (交办/承办)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    DDL,
    ColumnElement,
    ForeignKey,
    Index,
    SQLColumnExpression,
    String,
    Text,
    UniqueConstraint,
    event,
    func,
    literal_column,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models import due_in_force, lead_unit_name
from models.base import Base, TimestampMixin, enum_column, install_on_create, utcnow
from models.org import Person, Unit
from models.steps import StepKind

if TYPE_CHECKING:
    from models.milestone import Milestone


class Source(StrEnum):
    """Where an item comes from (事项来源)."""

    INSTRUCTION = "instruction"  # 领导批示
    DOCUMENT = "document"  # 文件要求
    MEETING = "meeting"  # 会议决定
    ANNUAL_TASK = "annual_task"  # 年度重点工作
    PROPOSAL = "proposal"  # 人大建议 / 政协提案
    MAILBOX = "mailbox"  # 省长信箱来信
    OTHER = "other"


class ItemState(StrEnum):
    """Lifecycle of items and assignments: open -> completion_requested -> closed, or cancelled."""

    OPEN = "open"
    COMPLETION_REQUESTED = "completion_requested"
    CLOSED = "closed"
    CANCELLED = "cancelled"


# Open work: it still receives reminders and reports (closed and cancelled work does not).
ACTIVE_STATES = (ItemState.OPEN, ItemState.COMPLETION_REQUESTED)
#: ACTIVE_STATES in SQL: the predicate of the partial indexes that hold open work only.
OPEN_WORK = "state IN ('open', 'completion_requested')"


def in_open_work(state: SQLColumnExpression[Any]) -> ColumnElement[bool]:
    """``state`` in ACTIVE_STATES with the values written into the statement: the form in
    which both databases match a partial index on `OPEN_WORK` (SQLite never does for bound
    values, PostgreSQL not in a prepared statement's generic plan)."""
    return state.in_([literal_column(f"'{s.value}'") for s in ACTIVE_STATES])


class AssignmentRole(StrEnum):
    """主办 (lead) or 协办 (co-operating) unit."""

    LEAD = "lead"
    CO = "co"


class Item(TimestampMixin, Base):
    """One supervised matter."""

    __tablename__ = "items"
    __table_args__ = (
        # The lists' order (deadline in force, then 文号): page 1 and each keyset page read
        # their rows from here and stop.
        Index("ix_items_due_in_force", "due_in_force", "ref", "id"),
        # The open items in the same order: the dashboard's overdue list (and its count)
        # reads the open items past their deadline and stops, however long the history.
        Index(
            "ix_items_open_due",
            "due_in_force",
            "ref",
            "id",
            postgresql_where=text(OPEN_WORK),
            sqlite_where=text(OPEN_WORK),
        ),
        # /items?sort=unit: the list by lead unit name, then id; each page reads its rows
        # from here and stops (`models.lead_unit_name`).
        Index("ix_items_lead_unit_name", "lead_unit_name", "id"),
        # /items?light=red: the open items past their own date (`OPEN_WORK`, said as is).
        Index(
            "ix_items_open_own_due",
            "due_on",
            postgresql_where=text(OPEN_WORK),
            sqlite_where=text(OPEN_WORK),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(100), unique=True)  # 文号
    title: Mapped[str] = mapped_column(String(500))
    source: Mapped[Source] = mapped_column(enum_column(Source, 16), index=True)
    objective: Mapped[str] = mapped_column(Text, default="")  # 目标任务
    content: Mapped[str] = mapped_column(Text, default="")  # 工作内容
    received_on: Mapped[date]
    due_on: Mapped[date] = mapped_column(index=True)  # 完成时限
    # The deadline in force: the live lead units' latest, else due_on. Written by the
    # database's triggers only (`models.due_in_force`); never set it.
    due_in_force: Mapped[date | None]
    # The lead unit's name, first by name ('' without a lead unit): the order by unit.
    # Kept by the database's triggers (`models.lead_unit_name`); only a batch of new items
    # starts it at the one lead unit's name (`supervision.item_batch`), which they verify.
    lead_unit_name: Mapped[str] = mapped_column(String(200), default="", server_default="")
    due_is_provisional: Mapped[bool] = mapped_column(default=False)
    due_is_default: Mapped[bool] = mapped_column(default=False)
    urgent: Mapped[bool] = mapped_column(default=False)  # 急件
    state: Mapped[ItemState] = mapped_column(
        enum_column(ItemState, 24), default=ItemState.OPEN, index=True
    )
    closed_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    assignments: Mapped[list[Assignment]] = relationship(
        back_populates="item", lazy="raise", cascade="all, delete-orphan"
    )
    milestones: Mapped[list[Milestone]] = relationship(
        back_populates="item", lazy="raise", cascade="all, delete-orphan"
    )


# `supervision.search`: the lists' text search (``lower(…) LIKE '%…%'`` on the title or the
# 文号) reads only the matching items on PostgreSQL (trigrams); SQLite scans, same query. On
# the lowered texts (migration 0024), not the columns: pg_trgm also serves ``=``, and with
# the columns themselves the planner took this index for the lookups by 文号 (the unique
# B-tree's), which read every item sharing the 文号's trigrams (an import's chunk lookups
# grew with the table: docs/BENCHMARKS.md, "the import's regression").
Index(
    "ix_items_text_trgm",
    func.lower(Item.__table__.c.title).label("title_lower"),
    func.lower(Item.__table__.c.ref).label("ref_lower"),
    postgresql_using="gin",
    postgresql_ops={"title_lower": "gin_trgm_ops", "ref_lower": "gin_trgm_ops"},
    info={"dialects": ("postgresql",)},
).ddl_if(dialect="postgresql")

# The trigram operator classes of `ix_items_text_trgm` (migrations 0015, 0024 create it too).
event.listen(
    Item.__table__,
    "before_create",
    DDL("CREATE EXTENSION IF NOT EXISTS pg_trgm").execute_if(  # type: ignore[no-untyped-call]
        dialect="postgresql"
    ),
)


#: The open lead work (主办, 办理中 or 申请办结), as SQL text: the predicate of the partial index
#: ``ix_assignments_lead_due``. A query reaches that index only by saying it in these words,
#: as literals: a bound parameter is no proof for SQLite, nor for PostgreSQL's generic plans.
OPEN_LEAD = "role = 'lead' AND state IN ('open', 'completion_requested')"


class Assignment(TimestampMixin, Base):
    """An item given to one unit, with its own responsible person, leader and deadline."""

    __tablename__ = "assignments"
    __table_args__ = (
        UniqueConstraint("item_id", "unit_id"),
        # The scanner reads only what is due: (next_action_at) where it is not null.
        Index("ix_assignments_next_action_at", "next_action_at"),
        # Bulletins read a period's work, never the history: the unfinished work, and the
        # work closed since the period began. Partial, so the scan's updates of open rows
        # never touch the closed one (docs/BENCHMARKS.md, EXPLAIN ANALYZE at 100k).
        Index(
            "ix_assignments_unfinished",
            "item_id",
            postgresql_where=text(OPEN_WORK),
            sqlite_where=text(OPEN_WORK),
        ),
        Index(
            "ix_assignments_closed_at",
            "closed_at",
            postgresql_where=text("state = 'closed'"),
            sqlite_where=text("state = 'closed'"),
        ),
        # /api/v1/assignments by deadline: each page reads its rows from here and stops
        # (the scan never changes due_on; its cost per advance: docs/BENCHMARKS.md "Scan").
        Index("ix_assignments_due_on", "due_on", "id"),
        # /items?light=red reads the open lead work past its date only, not every open
        # item's light (docs/BENCHMARKS.md, EXPLAIN ANALYZE at 100k).
        Index(
            "ix_assignments_lead_due",
            "due_on",
            postgresql_where=text(OPEN_LEAD),
            sqlite_where=text(OPEN_LEAD),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Indexed by the (item_id, unit_id) unique constraint, whose first column it is.
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="RESTRICT"), index=True)
    role: Mapped[AssignmentRole] = mapped_column(
        enum_column(AssignmentRole, 8), default=AssignmentRole.LEAD
    )
    owner_id: Mapped[int | None] = mapped_column(
        ForeignKey("people.id", ondelete="SET NULL"), index=True
    )
    # Indexed with unit_id and owner_id: a liaison's scope (`Scope.visible_item_ids`, an OR
    # of the three) is then read by a bitmap OR of the three indexes, not a scan of them all.
    leader_id: Mapped[int | None] = mapped_column(
        ForeignKey("people.id", ondelete="SET NULL"), index=True
    )
    # Not indexed: a handful of values, most rows open; an index would only slow the scan's
    # advance (every indexed column of a row updated off-page is written again).
    state: Mapped[ItemState] = mapped_column(enum_column(ItemState, 24), default=ItemState.OPEN)
    due_on: Mapped[date]
    next_action_at: Mapped[datetime | None]
    # the last deadline step fired
    last_step: Mapped[StepKind | None] = mapped_column(enum_column(StepKind, 16))
    # Ladder progress (supervision.schedule): deadline steps up to ``last_step_at`` are done
    # for the deadline ``ladder_due_on``; periodic requests count from ``last_periodic_at``.
    ladder_due_on: Mapped[date | None]
    last_step_at: Mapped[datetime | None]
    last_periodic_at: Mapped[datetime | None]
    last_report_at: Mapped[datetime | None]
    # 交办通知 (supervision.schedule): made or handed over at ``assigned_at``; the notice is
    # due while ``assign_noticed_at`` is older (None: the assignment predates the notice).
    assigned_at: Mapped[datetime | None]
    assign_noticed_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    item: Mapped[Item] = relationship(back_populates="assignments", lazy="raise")
    unit: Mapped[Unit] = relationship(lazy="raise")
    owner: Mapped[Person | None] = relationship(foreign_keys=[owner_id], lazy="raise")
    leader: Mapped[Person | None] = relationship(foreign_keys=[leader_id], lazy="raise")

    @property
    def is_active(self) -> bool:
        """True while the assignment can still receive reminders and reports."""
        return self.state in ACTIVE_STATES


# The triggers once ``assignments``, the last of their tables, exists.
for _kept in (due_in_force, lead_unit_name):
    install_on_create(
        Assignment.__table__,  # type: ignore[arg-type]
        postgresql=_kept.POSTGRESQL,
        sqlite=_kept.SQLITE,
    )
