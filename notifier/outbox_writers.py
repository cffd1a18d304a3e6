"""How the scan writes a batch: its outbox rows and its assignments' new ladder columns.

``OutboxWriter`` is the interface; ``GenericWriter`` (SQLAlchemy Core, any database) is the
default, ``PgCopyWriter`` the PostgreSQL option (a binary COPY and array statements through
asyncpg). The driver-specific code lives here and nowhere else. The rows' shape (columns,
order, defaults) comes from ``supervision.outbox``.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from itertools import repeat
from typing import Any, Protocol, cast

from asyncpg.exceptions import UniqueViolationError  # type: ignore[import-untyped]
from sqlalchemy import JSON, Table, bindparam, text, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from models import Assignment, Notification
from supervision.outbox import COLUMNS, NEW_ROW, OutboxRow, row_values
from supervision.schedule import AssignmentFacts

__all__ = [
    "GenericWriter",
    "LadderAdvance",
    "OutboxWriter",
    "PgCopyWriter",
    "writer_for",
]

_assignments = cast(Table, Assignment.__table__)
_notifications = cast(Table, Notification.__table__)

#: new outbox rows per (assignment id, step kind)
Written = Counter[tuple[int, str]]


@dataclass(slots=True)
class LadderAdvance:
    """Each claimed assignment's new ladder columns, column by column."""

    ids: list[int] = field(default_factory=list)
    next_at: list[datetime | None] = field(default_factory=list)
    ladder_due_on: list[date | None] = field(default_factory=list)
    last_step: list[str | None] = field(default_factory=list)
    last_step_at: list[datetime | None] = field(default_factory=list)
    last_periodic_at: list[datetime | None] = field(default_factory=list)
    assign_noticed_at: list[datetime | None] = field(default_factory=list)

    def add(self, assignment_id: int, facts: AssignmentFacts, next_at: datetime | None) -> None:
        """Store ``facts`` and ``next_at`` for one assignment."""
        self.ids.append(assignment_id)
        self.next_at.append(next_at)
        self.ladder_due_on.append(facts.ladder_due_on)
        self.last_step.append(facts.last_step)
        self.last_step_at.append(facts.last_step_at)
        self.last_periodic_at.append(facts.last_periodic_at)
        self.assign_noticed_at.append(facts.assign_noticed_at)

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
                "b_assign_noticed_at": n_at,
                "b_updated_at": updated_at,
            }
            for i, n, d, s, s_at, p_at, n_at in zip(
                self.ids,
                self.next_at,
                self.ladder_due_on,
                self.last_step,
                self.last_step_at,
                self.last_periodic_at,
                self.assign_noticed_at,
                strict=True,
            )
        ]


class OutboxWriter(Protocol):
    """Writes one scan batch inside the session's transaction."""

    async def outbox(
        self, session: AsyncSession, rows: Sequence[OutboxRow], created_at: datetime
    ) -> Written:
        """Insert ``rows`` unless their key exists; count new rows per (assignment, step)."""
        ...

    async def advance(
        self, session: AsyncSession, rows: LadderAdvance, updated_at: datetime
    ) -> None:
        """Store each assignment's new ladder columns."""
        ...


class GenericWriter:
    """Batch writes through SQLAlchemy Core executemany: any dialect, the default."""

    async def outbox(
        self, session: AsyncSession, rows: Sequence[OutboxRow], created_at: datetime
    ) -> Written:
        """Insert ``rows`` unless their key exists; count new rows per (assignment, step)."""
        postgres = session.bind is not None and session.bind.dialect.name == "postgresql"
        insert = pg_insert if postgres else sqlite_insert
        stmt = (
            insert(_notifications)
            .on_conflict_do_nothing(index_elements=["dedupe_key"])
            .returning(_notifications.c.assignment_id, _notifications.c.kind)
        )
        result = await session.execute(stmt, [row_values(r, created_at) for r in rows])
        return Counter((int(a), str(k)) for a, k in result.all())

    async def advance(
        self, session: AsyncSession, rows: LadderAdvance, updated_at: datetime
    ) -> None:
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
                assign_noticed_at=bindparam("b_assign_noticed_at"),
                updated_at=bindparam("b_updated_at"),
            ),
            rows.dicts(updated_at),
        )


# PostgreSQL: the outbox rows go in by COPY; the advance, and the outbox rows when a key
# already exists, as one statement each, the values passed as arrays and unnested on the
# server. A row-per-execute loop costs a round trip and Python-side parameter processing per
# row; at 1,000 assignments and 2,400 outbox rows that dominated the tick (see BENCHMARKS.md).
# Values common to the batch are single parameters; the insert answers with the number of new
# rows per (assignment, step), not with every key.


_PG_DIALECT = postgresql.dialect()  # type: ignore[no-untyped-call]


def _array_of(column: str) -> str:
    """The PostgreSQL array type an outbox column's values travel in (JSON as text)."""
    type_ = _notifications.c[column].type
    if isinstance(type_, JSON):
        return "text[]"
    return f"{type_.compile(dialect=_PG_DIALECT)}[]"


def _unnest_insert() -> str:
    """The insert of array-passed outbox rows that skips existing keys (from ``COLUMNS``)."""
    own = OutboxRow._fields
    chosen = [
        f"CAST(u.{name} AS json)" if isinstance(_notifications.c[name].type, JSON) else f"u.{name}"
        for name in own
    ]
    chosen += [f":{name}" for name in (*NEW_ROW, "created_at")]
    arrays = ", ".join(f"CAST(:{name} AS {_array_of(name)})" for name in own)
    # Built from the model's own names and types, never from input: no injection.
    return f"""
    WITH new AS (
        INSERT INTO {_notifications.name} ({", ".join(COLUMNS)})
        SELECT {", ".join(chosen)}
        FROM unnest({arrays}) AS u({", ".join(own)})
        ON CONFLICT (dedupe_key) DO NOTHING
        RETURNING assignment_id, kind
    )
    SELECT assignment_id, kind, count(*) FROM new GROUP BY assignment_id, kind
    """  # noqa: S608


_PG_OUTBOX = text(_unnest_insert())
_PG_ADVANCE = text(
    """
    UPDATE assignments AS a
    SET next_action_at = u.next_at, ladder_due_on = u.ladder_due_on, last_step = u.last_step,
        last_step_at = u.last_step_at, last_periodic_at = u.last_periodic_at,
        assign_noticed_at = u.assign_noticed_at, updated_at = :updated_at
    FROM unnest(CAST(:ids AS integer[]), CAST(:next_at AS timestamp[]),
                CAST(:ladder_due_on AS date[]), CAST(:last_step AS varchar[]),
                CAST(:last_step_at AS timestamp[]), CAST(:last_periodic_at AS timestamp[]),
                CAST(:assign_noticed_at AS timestamp[]))
         AS u(id, next_at, ladder_due_on, last_step, last_step_at, last_periodic_at,
              assign_noticed_at)
    WHERE a.id = u.id
    """
)


def _naive_utc(values: Sequence[datetime | None]) -> list[datetime | None]:
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


def _json_column(values: Sequence[dict[str, Any]]) -> list[str]:
    """JSON text of each value; rows with the same payload share one object."""
    memo: dict[int, str] = {}
    out: list[str] = []
    for value in values:
        encoded = memo.get(id(value))
        if encoded is None:
            encoded = memo[id(value)] = json.dumps(value)
        out.append(encoded)
    return out


def _columns(rows: Sequence[OutboxRow]) -> dict[str, list[Any]]:
    """The rows' own columns as arrays, in ``OutboxRow`` order, as PostgreSQL takes them."""
    columns: dict[str, list[Any]] = {
        name: list(values)
        for name, values in zip(OutboxRow._fields, zip(*rows, strict=True), strict=True)
    }
    columns["not_before"] = _naive_utc(columns["not_before"])
    columns["payload"] = _json_column(columns["payload"])
    return columns


async def _driver(session: AsyncSession) -> Any:
    """The asyncpg connection under ``session``, inside the transaction it has begun."""
    connection = await session.connection()
    return (await connection.get_raw_connection()).driver_connection


class PgCopyWriter:
    """Batch writes: a binary COPY for the outbox, array-unnest statements otherwise
    (PostgreSQL through asyncpg)."""

    async def outbox(
        self, session: AsyncSession, rows: Sequence[OutboxRow], created_at: datetime
    ) -> Written:
        """Write ``rows`` unless their key exists; count new rows per (assignment, step).

        A binary COPY: no per-row conflict check, which costs as much as the rest of the
        insert (docs/BENCHMARKS.md, "Scan"). A claimed assignment's rows are new unless a step
        occurrence comes round again (a deadline moved away and back); then a key exists, the
        copy fails as a whole inside its savepoint, and the rows go in again skipping the
        existing keys.
        """
        if not rows:
            return Counter()
        columns = _columns(rows)
        created = _naive_utc([created_at])[0]
        records = zip(
            *columns.values(), *(repeat(value) for value in NEW_ROW.values()), repeat(created)
        )
        driver = await _driver(session)
        try:
            async with driver.transaction():  # nested in the batch's: a savepoint
                await driver.copy_records_to_table(
                    _notifications.name, records=list(records), columns=COLUMNS
                )
        except UniqueViolationError:
            return await self.outbox_new_only(session, rows, created_at)
        return Counter((r.assignment_id, r.kind) for r in rows if r.assignment_id is not None)

    async def outbox_new_only(
        self, session: AsyncSession, rows: Sequence[OutboxRow], created_at: datetime
    ) -> Written:
        """Insert the rows whose key does not exist yet; count them per (assignment, step)."""
        params = {**_columns(rows), **NEW_ROW, "created_at": _naive_utc([created_at])[0]}
        new = await session.execute(_PG_OUTBOX, params)
        return Counter({(int(a), str(k)): int(n) for a, k, n in new})

    async def advance(
        self, session: AsyncSession, rows: LadderAdvance, updated_at: datetime
    ) -> None:
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
                "assign_noticed_at": _naive_utc(rows.assign_noticed_at),
            },
        )


def writer_for(session: AsyncSession) -> OutboxWriter:
    """The writer for ``session``'s database: the COPY writer on PostgreSQL through asyncpg,
    the generic one otherwise."""
    bind = session.bind
    if bind is not None and bind.dialect.name == "postgresql" and bind.dialect.driver == "asyncpg":
        return PgCopyWriter()
    return GenericWriter()
