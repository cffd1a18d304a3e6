"""Channels, steps, roles, sources and states are enum columns that store the very strings
the plain text columns held: existing databases keep working without a data migration."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import Enum, String, select, text
from sqlalchemy.exc import StatementError

from models import (
    Assignment,
    AssignmentRole,
    Base,
    Channel,
    DeliveryOutcome,
    EnumUnion,
    InboundOutcome,
    Item,
    ItemState,
    MessageKind,
    Notification,
    NotificationStatus,
    Origin,
    ReportKind,
    ReviewState,
    Role,
    Source,
    StepChannel,
    StepKind,
)
from supervision.outbox import notify_person
from testing import factories as f

NOW = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)

#: (table, column) → (enum, the VARCHAR length the column had as plain text)
ENUM_COLUMNS = {
    ("items", "source"): (Source, 16),
    ("items", "state"): (ItemState, 24),
    ("assignments", "role"): (AssignmentRole, 8),
    ("assignments", "state"): (ItemState, 24),
    ("assignments", "last_step"): (StepKind, 16),
    ("person_roles", "role"): (Role, 16),
    ("policies", "source"): (Source, 16),
    ("ladder_steps", "kind"): (StepKind, 16),
    ("notifications", "channel"): (Channel, 16),
    ("notifications", "status"): (NotificationStatus, 12),
    ("delivery_attempts", "channel"): (Channel, 16),
    ("delivery_attempts", "outcome"): (DeliveryOutcome, 12),
    ("group_webhooks", "kind"): (Channel, 16),
    ("reports", "kind"): (ReportKind, 16),
    ("reports", "channel"): (Origin, 16),
    ("reports", "review_state"): (ReviewState, 20),
    ("extensions", "state"): (ReviewState, 20),
    ("extensions", "channel"): (Origin, 16),
    ("inbound_mails", "outcome"): (InboundOutcome, 12),
}


@pytest.mark.parametrize("key", sorted(ENUM_COLUMNS), ids=lambda k: ".".join(k))
def test_an_enum_column_is_the_old_varchar(key: tuple[str, str]) -> None:
    enum, length = ENUM_COLUMNS[key]
    table, name = key
    column = Base.metadata.tables[table].c[name]
    assert isinstance(column.type, Enum) and isinstance(column.type, String)
    assert column.type.enum_class is enum
    assert column.type.native_enum is False and column.type.create_constraint is False
    assert column.type.length == length
    assert column.type.enums == [m.value for m in enum]  # values, not member names


async def test_enums_are_stored_as_their_values_and_read_back_as_members(session) -> None:
    unit = await f.unit(session)
    owner = await f.person(session, unit=unit, roles={Role.OWNER})
    item = await f.item(session, source=Source.ANNUAL_TASK)
    await f.assignment(session, item=item, unit=unit, owner=owner, role=AssignmentRole.CO)
    await session.commit()
    raw = (
        await session.execute(
            text(
                "SELECT i.source, i.state, a.role, a.state, r.role FROM items i "
                "JOIN assignments a ON a.item_id = i.id "
                "JOIN person_roles r ON r.person_id = a.owner_id"
            )
        )
    ).one()
    assert tuple(raw) == ("annual_task", "open", "co", "open", "owner")
    assert all(type(v) is str for v in raw)
    session.expunge_all()
    again = await session.get_one(Item, item.id)
    assert again.source is Source.ANNUAL_TASK and again.state is ItemState.OPEN


async def test_rows_written_as_plain_text_read_as_members(session) -> None:
    """A database written before the enum columns (plain strings) reads as it did."""
    await session.execute(
        text(
            "INSERT INTO items (ref, title, source, objective, content, received_on, due_on, "
            "due_is_provisional, due_is_default, urgent, state, created_at, updated_at) VALUES "
            "('旧-1', '旧事项', 'meeting', '', '', :d, :d, false, false, false, "
            "'completion_requested', :t, :t)"
        ),
        {"d": date(2026, 11, 2), "t": datetime(2026, 11, 2, 1, 0)},
    )
    await session.commit()
    item = await session.scalar(select(Item).where(Item.ref == "旧-1"))
    assert item is not None
    assert item.source is Source.MEETING and item.state is ItemState.COMPLETION_REQUESTED
    assert item.source == "meeting"  # a StrEnum still equals its stored string


async def test_a_value_outside_the_enum_is_refused_and_changes_nothing(session) -> None:
    item = await f.item(session)
    item_id = item.id
    await session.commit()
    item.state = "finished"  # type: ignore[assignment]
    with pytest.raises(StatementError):
        await session.flush()
    await session.rollback()
    state = await session.scalar(text("SELECT state FROM items WHERE id = :i"), {"i": item_id})
    assert state == "open"


# --- an outbox row's kind: a ladder step or another message kind ----------------------------


def test_an_outbox_rows_kind_is_a_step_or_a_message_kind_in_the_old_varchar() -> None:
    column = Base.metadata.tables["notifications"].c["kind"]
    assert isinstance(column.type, EnumUnion) and column.type.enums == (StepKind, MessageKind)
    assert column.type.impl_instance.length == 24
    longest = max(len(m.value) for e in column.type.enums for m in e)
    assert longest <= 24
    overlap = {m.value for m in StepKind} & {m.value for m in MessageKind}
    assert overlap == set()  # a stored kind names one member only


async def test_kinds_and_last_steps_are_stored_as_strings_and_read_as_members(session) -> None:
    unit = await f.unit(session)
    owner = await f.person(session, unit=unit, roles={Role.OWNER})
    item = await f.item(session)
    a = await f.assignment(session, item=item, unit=unit, owner=owner)
    a.last_step = StepKind.URGE
    await notify_person(
        session,
        person=owner,
        kind=StepKind.REMIND,
        key=f"a{a.id}:remind",
        channels=[StepChannel.EMAIL],
        not_before=NOW,
        now=NOW,
        assignment_id=a.id,
    )
    await notify_person(
        session,
        person=owner,
        kind="review_outcome",  # the plain string a caller may pass
        key=f"a{a.id}:outcome",
        channels=[StepChannel.EMAIL],
        not_before=NOW,
        now=NOW,
        assignment_id=a.id,
    )
    await session.commit()
    raw = (await session.execute(text("SELECT kind FROM notifications ORDER BY id"))).all()
    assert [tuple(r) for r in raw] == [("remind",), ("review_outcome",)]
    assert all(type(r[0]) is str for r in raw)
    step = await session.scalar(
        text("SELECT last_step FROM assignments WHERE id = :i"), {"i": a.id}
    )
    assert step == "urge" and type(step) is str
    session.expunge_all()
    kinds = (await session.scalars(select(Notification.kind).order_by(Notification.id))).all()
    assert kinds == [StepKind.REMIND, MessageKind.REVIEW_OUTCOME]
    assert type(kinds[0]) is StepKind and type(kinds[1]) is MessageKind
    again = await session.get_one(Assignment, a.id)
    assert again.last_step is StepKind.URGE


async def test_a_kind_written_by_raw_sql_reads_as_its_member(session) -> None:
    """The scan's COPY writer writes plain strings; the ORM reads them as members."""
    await session.execute(
        text(
            "INSERT INTO notifications (dedupe_key, kind, channel, status, attempts, not_before, "
            "locale, body_text, payload, created_at) VALUES "
            "('k1', 'escalate', 'email', 'pending', 0, :t, 'zh', '', '{}', :t)"
        ),
        {"t": datetime(2026, 11, 2, 1, 0)},
    )
    await session.commit()
    kind = await session.scalar(select(Notification.kind).where(Notification.dedupe_key == "k1"))
    assert kind is StepKind.ESCALATE and kind == "escalate"


async def test_a_kind_outside_both_enums_is_refused_and_changes_nothing(session) -> None:
    row = Notification(
        dedupe_key="k2",
        kind="reminder",
        channel=Channel.EMAIL,
        not_before=NOW,
        payload={},
        created_at=NOW,
    )
    session.add(row)
    with pytest.raises(StatementError):
        await session.flush()
    await session.rollback()
    assert await session.scalar(text("SELECT count(*) FROM notifications")) == 0
