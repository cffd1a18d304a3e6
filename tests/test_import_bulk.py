"""The items import at scale: set-based batches by 文号, still all or nothing and audited."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import bindparam, func, select, text

from models import Assignment, AuditEvent, Item, Notification, Person, Role, Source, Unit
from notifier.scan import scan_once
from supervision.audit import Actor
from supervision.clock import FixedClock
from supervision.importing import ITEM_CHUNK, import_rows
from supervision.item_batch import ANALYZE_FIRST, ItemBatch
from supervision.items import AssigneeSpec, ItemSpec, save_item
from supervision.policy import ensure_default_policies
from supervision.tabular import read_table
from testing import SHANGHAI
from testing import factories as f

ACTOR = Actor.system("import")
HEADER = (
    "ref,title,source,received_on,due_on,urgent,lead_unit,co_units,owner_email,leader_email,"
    "co_owner_emails\n"
)


async def _office(session):
    """Default policies; two units with an owner each (``a@x.cn`` in A, ``b@x.cn`` in B)."""
    await ensure_default_policies(session)
    a = await f.unit(session, code="A", name="甲局")
    b = await f.unit(session, code="B", name="乙局")
    await f.person(session, email="a@x.cn", unit=a, roles={Role.OWNER}, telegram_user_id=1)
    await f.person(session, email="b@x.cn", unit=b, roles={Role.OWNER}, telegram_user_id=2)
    await f.person(session, email="a2@x.cn", unit=a, roles={Role.OWNER}, telegram_user_id=3)
    await session.commit()


def _file(rows: int, *, bad: dict[int, str] | None = None) -> str:
    """``rows`` good rows (file rows 2..rows+1), some replaced by ``bad`` (by file row)."""
    lines = [
        (bad or {}).get(n + 1, f"R{n},标题{n},会议,2026-11-02,,,A,,a@x.cn,,\n")
        for n in range(1, rows + 1)
    ]
    return HEADER + "".join(lines)


async def _run(session, clock, text, *, dry_run=False):
    result = await import_rows(
        session,
        "items",
        read_table(text.encode(), "items.csv"),
        dry_run=dry_run,
        actor=ACTOR,
        clock=clock,
    )
    if result.written:
        await session.commit()
    return result


async def _count(session, model, *where) -> int:
    return await session.scalar(select(func.count()).select_from(model).where(*where))


async def test_a_bad_row_deep_in_a_large_file_writes_nothing(session, clock):
    await _office(session)
    rows = 2 * ITEM_CHUNK + 500  # the chunks before the bad row are saved, then rolled back
    bad = {
        2 * ITEM_CHUNK + 100: "R-bad,坏行,会议,2026-11-02,,,ZZ,,a@x.cn,,\n",
        2 * ITEM_CHUNK + 400: "R-late,晚行,会议,2026-13-02,,,A,,a@x.cn,,\n",
    }
    result = await _run(session, clock, _file(rows, bad=bad))
    assert [str(e) for e in result.errors] == [
        f"row {2 * ITEM_CHUNK + 100}, lead_unit: unknown unit code 'ZZ'",
        f"row {2 * ITEM_CHUNK + 400}, received_on: '2026-13-02' is not a real date",
    ]
    assert "nothing was written" in result.summary() and result.rows == rows
    assert await _count(session, Item) == 0
    assert await _count(session, Assignment) == 0
    assert await _count(session, AuditEvent) == 0


async def test_a_large_file_is_saved_whole_with_its_progress(session, clock):
    await _office(session)
    rows = ITEM_CHUNK + 7
    calls: list[int] = []
    result = await import_rows(
        session,
        "items",
        read_table(_file(rows).encode(), "items.csv"),
        dry_run=False,
        actor=ACTOR,
        clock=clock,
        progress=lambda done, total: calls.append(done) if total == rows else None,
    )
    await session.commit()
    assert (result.created, result.updated, result.unchanged) == (rows, 0, 0)
    assert calls == list(range(1, rows + 1))
    assert await _count(session, Item) == rows
    assert await _count(session, Assignment) == rows


async def test_a_long_import_keeps_the_planner_told_of_its_rows(session, clock):
    """One transaction, which autovacuum cannot see into: the batch refreshes PostgreSQL's
    statistics as its rows double (from `ANALYZE_FIRST`), and a chunk's lookup by 文号 reads
    the unique B-tree, never the search's trigram index (each made a 100,000-row import
    grow with the square of its rows)."""
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("PostgreSQL's planner statistics and indexes")
    await _office(session)
    rows = ITEM_CHUNK + 7
    assert ANALYZE_FIRST <= ITEM_CHUNK
    result = await import_rows(
        session,
        "items",
        read_table(_file(rows).encode(), "items.csv"),
        dry_run=False,
        actor=ACTOR,
        clock=clock,
    )
    assert result.created == rows
    # still inside the import's transaction
    known = await session.scalar(text("SELECT reltuples FROM pg_class WHERE relname = 'items'"))
    assert known is not None and known >= ANALYZE_FIRST
    lookup = text("EXPLAIN SELECT id FROM items WHERE ref IN :refs").bindparams(
        bindparam("refs", expanding=True)
    )
    refs = [f"R{n}" for n in range(1, 11)]
    plan = "\n".join((await session.execute(lookup, {"refs": refs})).scalars())
    assert "uq_items_ref" in plan and "trgm" not in plan, plan
    await session.commit()


async def test_a_duplicate_ref_in_another_chunk_is_named(session, clock):
    await _office(session)
    late = ITEM_CHUNK + 50
    text = _file(late, bad={late: "R1,重复,会议,2026-11-02,,,A,,a@x.cn,,\n"})
    result = await _run(session, clock, text)
    assert [str(e) for e in result.errors] == [
        f"row {late}, ref: duplicate ref 'R1' (first on row 2)"
    ]
    assert await _count(session, Item) == 0


async def test_updates_and_unchanged_counted_by_ref(session, clock):
    await _office(session)
    first = HEADER + (
        "U1,标题一,会议,2026-11-02,,,A,,a@x.cn,,\n"
        "U2,标题二,文件,2026-11-02,2026-12-31,,A,B,a@x.cn,,b@x.cn\n"
        "U3,标题三,文件,2026-11-02,,急,B,,b@x.cn,,\n"
    )
    assert (await _run(session, clock, first)).created == 3
    again = await _run(session, clock, first)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    changed = first.replace("标题一", "新标题一").replace(",急,B,,b@x.cn", ",急,B,A,b@x.cn")
    result = await _run(session, clock, changed)
    assert (result.created, result.updated, result.unchanged) == (0, 2, 1)
    u1 = await session.scalar(
        select(Item).where(Item.ref == "U1").execution_options(populate_existing=True)
    )
    assert u1.title == "新标题一"
    updates = (
        await session.scalars(
            select(AuditEvent.detail)
            .where(AuditEvent.entity == "item", AuditEvent.action == "update")
            .order_by(AuditEvent.id)
        )
    ).all()
    assert updates[0] == {"changes": {"title": ["标题一", "新标题一"]}}
    unit_a = await session.scalar(select(Unit.id).where(Unit.code == "A"))
    assert updates[1] == {"changes": {"assignments_added": [unit_a]}}
    assert await _count(session, Assignment) == 1 + 2 + 2


async def test_every_created_row_is_audited(session, clock):
    await _office(session)
    text = HEADER + (
        "A1,标题一,会议,2026-11-02,,,A,B,a@x.cn,,b@x.cn\n"
        "A2,标题二,领导批示,2026-11-02,2026-11-30,急,B,,b@x.cn,,\n"
    )
    assert (await _run(session, clock, text)).created == 2
    events = (
        await session.scalars(
            select(AuditEvent).where(AuditEvent.action == "create").order_by(AuditEvent.id)
        )
    ).all()
    assert [(e.entity, e.actor_label, e.to_state) for e in events] == [
        ("item", "import", "open"),
        ("assignment", "import", "open"),
        ("assignment", "import", "open"),
        ("item", "import", "open"),
        ("assignment", "import", "open"),
    ]
    items = {i.id: i for i in (await session.scalars(select(Item))).all()}
    assignments = {a.id: a for a in (await session.scalars(select(Assignment))).all()}
    for event in events:
        if event.entity == "item":
            item = items[event.entity_id]
            assert event.detail["ref"] == item.ref
            assert event.detail["due_on"] == item.due_on.isoformat()
        else:
            assignment = assignments[event.entity_id]
            assert event.detail["unit_id"] == assignment.unit_id
            assert event.detail["role"] == assignment.role
            assert event.detail["due_on"] == assignment.due_on.isoformat()
            assert event.detail["owner_id"] == assignment.owner_id


async def test_assign_notices_are_written_once(session, sessions, clock):
    await _office(session)
    text = HEADER + (
        "N1,标题一,会议,2026-11-02,,,A,B,a@x.cn,,b@x.cn\nN2,标题二,会议,2026-11-02,,,B,,b@x.cn,,\n"
    )
    assert (await _run(session, clock, text)).created == 2
    result = await scan_once(sessions, clock=clock, tz=SHANGHAI)
    assert result.by_step.get("assign") == 3  # N1's lead and co, N2's lead

    async def notices() -> list[tuple[int | None, str]]:
        rows = await session.execute(
            select(Notification.recipient_id, Notification.channel)
            .where(Notification.kind == "assign")
            .order_by(Notification.id)
        )
        return [tuple(r) for r in rows]

    assert len(await notices()) == 3 * 2  # telegram and e-mail for each owner
    later = FixedClock(datetime(2026, 11, 2, 11, 0, tzinfo=SHANGHAI))
    assert (await _run(session, later, text)).unchanged == 2
    again = await scan_once(sessions, clock=later, tz=SHANGHAI)
    assert "assign" not in again.by_step  # unchanged rows owe no new notice
    assert len(await notices()) == 6
    # Handing N2 to another owner of the same unit is a new 交办通知, for that owner only.
    handed = text.replace(
        "N1,标题一,会议,2026-11-02,,,A,B,a@x.cn", "N1,标题一,会议,2026-11-02,,,A,B,a2@x.cn"
    )
    assert (await _run(session, later, handed)).updated == 1
    await scan_once(sessions, clock=later, tz=SHANGHAI)
    assert len(await notices()) == 6 + 2


async def test_a_batch_saves_what_save_item_saves(session, clock):
    """The set-based create gives the very rows `save_item` gives (one rule, two sizes)."""
    await _office(session)
    units = {code: uid for code, uid in await session.execute(select(Unit.code, Unit.id))}
    people = {email: pid for email, pid in await session.execute(select(Person.email, Person.id))}

    def spec(ref: str, due_on: date | None, urgent: bool) -> ItemSpec:
        return ItemSpec(
            ref=ref,
            title="批示件办理",
            source=Source.INSTRUCTION,
            received_on=date(2026, 11, 2),
            lead=AssigneeSpec(units["A"], people["a@x.cn"]),
            due_on=due_on,
            urgent=urgent,
            co=(AssigneeSpec(units["B"], people["b@x.cn"]),),
        )

    cases = [(None, False), (date(2026, 12, 31), False), (None, True)]
    for n, (due_on, urgent) in enumerate(cases):
        await save_item(session, spec(f"S{n}", due_on, urgent), actor=ACTOR, clock=clock)
    saved = await ItemBatch(session, actor=ACTOR, clock=clock).save(
        [spec(f"B{n}", due_on, urgent) for n, (due_on, urgent) in enumerate(cases)]
    )
    assert [s.outcome for s in saved] == ["created"] * 3
    await session.commit()
    columns = (
        Item.title, Item.due_on, Item.due_is_default, Item.due_is_provisional, Item.urgent,
        Item.state, Assignment.role, Assignment.unit_id, Assignment.owner_id, Assignment.state,
        Assignment.due_on, Assignment.next_action_at, Assignment.assigned_at,
        Assignment.assign_noticed_at, Assignment.created_at,
    )  # fmt: skip

    async def rows(prefix: str) -> list[tuple[object, ...]]:
        found = await session.execute(
            select(Item.ref, *columns)
            .join(Assignment, Assignment.item_id == Item.id)
            .where(Item.ref.like(f"{prefix}%"))
            .order_by(Item.ref, Assignment.role.desc())
        )
        return [tuple(r)[1:] for r in found]

    assert await rows("B") == await rows("S")
