"""Importing units, people, items and milestones: the row rules; validate every row, then
write.

Pure of the CLI and the web: both read the file with `supervision.tabular.read_table` and
call `import_rows`. An import is all or nothing: any bad row means nothing is written, and
every bad row is reported. Items are checked and saved a chunk at a time
(`supervision.item_batch`), so a large file never holds more than a chunk of parsed rows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute, selectinload

from models import AssignmentRole, Item, Person, Role, Source, Unit
from supervision.audit import Actor, apply_changes, record
from supervision.channel_prefs import format_prefs, parse_prefs
from supervision.clock import Clock
from supervision.errors import DomainError, ValidationFailed
from supervision.import_values import (
    LIST_SPLIT,
    ROLE_ALIASES,
    SOURCE_ALIASES,
    parse_bool,
    parse_date,
    split_list,
)
from supervision.item_batch import ItemBatch
from supervision.item_schema import ItemInput
from supervision.items import (
    ItemSpec,
    SaveOutcome,
    is_member,
    owner_outside_unit,
)
from supervision.labels import Problem, say
from supervision.milestones import MilestoneSpec, import_milestone, milestone_problems
from supervision.people import EMAIL_LIMIT, NAME_LIMIT, field_problems, stored_email
from supervision.tabular import Table
from supervision.units import UnitSpec, parent_cycle, save_unit
from supervision.validation import check

__all__ = [
    "COLUMNS",
    "REQUIRED_COLUMNS",
    "ImportKind",
    "ImportResult",
    "RowError",
    "import_rows",
    "parse_bool",
    "parse_date",
]

Progress = Callable[[int, int], None]


class ImportKind(StrEnum):
    """What a file holds."""

    UNITS = "units"
    PEOPLE = "people"
    ITEMS = "items"
    MILESTONES = "milestones"  # 阶段性节点, keyed by the item's 文号


#: the people import's chat-app id columns: the person's attribute and what the id is called
APP_ID_COLUMNS: dict[str, tuple[InstrumentedAttribute[str | None], str]] = {
    "wecom_userid": (Person.wecom_userid, "WeCom userid"),
    "dingtalk_userid": (Person.dingtalk_userid, "DingTalk userid"),
    "feishu_user_id": (Person.feishu_user_id, "Feishu user_id"),
}

COLUMNS: dict[str, tuple[str, ...]] = {
    "units": ("code", "name", "parent_code"),
    "people": (
        "name",
        "email",
        "unit",
        "roles",
        "locale",
        "phone",
        "wecom_userid",
        "dingtalk_userid",
        "feishu_user_id",
        "channels",
    ),
    "items": (
        "ref",
        "title",
        "source",
        "objective",
        "content",
        "received_on",
        "due_on",
        "urgent",
        "lead_unit",
        "co_units",
        "owner_email",
        "leader_email",
        "co_owner_emails",
    ),
    "milestones": ("ref", "name", "due_on", "unit", "owner_email", "leader_email"),
    "calendar": ("date", "is_workday", "note"),
}

# Columns a file must have; the others may be left out (they are then empty).
REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    "units": ("code", "name"),
    "people": ("name", "email", "roles"),
    "items": ("ref", "title", "source", "received_on", "lead_unit", "owner_email"),
    "milestones": ("ref", "name", "due_on", "unit"),
    "calendar": ("date", "is_workday"),
}


@dataclass(frozen=True, slots=True)
class RowError:
    """One problem in one row: ``row N, column: reason`` (the header is row 1)."""

    row: int
    column: str
    reason: str

    def __str__(self) -> str:
        return f"row {self.row}, {self.column}: {self.reason}"


@dataclass(slots=True)
class ImportResult:
    """What an import did (or, for a dry run or on errors, would have done)."""

    kind: str
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    dry_run: bool = False
    provisional_refs: list[str] = field(default_factory=list)
    fallback_years: list[int] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every row was accepted."""
        return not self.errors

    @property
    def written(self) -> bool:
        """True when the changes were kept (the caller still commits)."""
        return self.ok and not self.dry_run

    def summary(self) -> str:
        """One line for people."""
        if self.errors:
            bad = len({e.row for e in self.errors})
            return (
                f"{self.kind}: {bad} bad row(s) out of {self.rows}, {len(self.errors)} "
                "problem(s); nothing was written"
            )
        text = (
            f"{self.kind}: {self.rows} row(s): {self.created} created, "
            f"{self.updated} updated, {self.unchanged} unchanged"
        )
        return text + (" (dry run: nothing was written)" if self.dry_run else "")


class _Rows:
    """Row errors collected while checking a table."""

    def __init__(self) -> None:
        self.errors: list[RowError] = []

    def add(self, row: int, column: str, reason: str) -> None:
        self.errors.append(RowError(row, column, reason))


def said(problem: Problem) -> str:
    """A catalogue problem as a row error says it: in Chinese, as the import's other rules."""
    sentence, values = problem
    return say(sentence, "zh", **values)


def _check_columns(kind: str, table: Table, errs: _Rows) -> None:
    for name in REQUIRED_COLUMNS[kind]:
        if name not in table.columns:
            errs.add(1, name, f"missing column (expected: {', '.join(COLUMNS[kind])})")


#: An item model field → the import column it comes from.
_ITEM_COLUMN: dict[str, str] = {"lead": "lead_unit", "co": "co_units"}


def _date(
    row: dict[str, str], column: str, number: int, errs: _Rows, *, required: bool
) -> date | None:
    """A date cell (None when blank or unreadable; a reason is added for the latter)."""
    text = _text(row, column, number, errs, required=required, limit=40)
    if not text:
        return None
    try:
        return parse_date(text)
    except ValueError as exc:
        errs.add(number, column, str(exc))
        return None


def _text(
    row: dict[str, str], column: str, number: int, errs: _Rows, *, required: bool, limit: int
) -> str:
    value = row.get(column, "").strip()
    if required and not value:
        errs.add(number, column, "required")
    elif len(value) > limit:
        errs.add(number, column, f"longer than {limit} characters")
    return value


async def import_rows(
    session: AsyncSession,
    kind: str | ImportKind,
    rows: Sequence[dict[str, str]],
    *,
    dry_run: bool,
    actor: Actor,
    clock: Clock,
    progress: Progress | None = None,
) -> ImportResult:
    """Check every row, then write them all in the session's transaction.

    On any row error, or for a dry run, the session is rolled back, so nothing is written;
    otherwise the caller commits. ``progress(done, total)`` is called as rows are written.
    """
    try:
        kind = ImportKind(kind)
    except ValueError:
        raise ValidationFailed(
            f"unknown import kind {kind!r} (use {', '.join(k.value for k in ImportKind)})"
        ) from None
    table = rows if isinstance(rows, Table) else Table(list(rows))
    result = ImportResult(kind=kind.value, rows=len(table), dry_run=dry_run)
    errs = _Rows()
    _check_columns(kind.value, table, errs)
    if not errs.errors:
        if kind is ImportKind.UNITS:
            await _import_units(session, table, errs, result, actor=actor, clock=clock)
        elif kind is ImportKind.PEOPLE:
            await _import_people(session, table, errs, result, actor=actor, clock=clock)
        elif kind is ImportKind.MILESTONES:
            await _import_milestones(session, table, errs, result, actor=actor, clock=clock)
        else:
            await _import_items(
                session, table, errs, result, actor=actor, clock=clock, progress=progress
            )
    result.errors = sorted(errs.errors, key=lambda e: e.row)
    if result.errors or dry_run:
        await session.rollback()
    return result


def _tally(result: ImportResult, outcome: SaveOutcome) -> None:
    if outcome is SaveOutcome.CREATED:
        result.created += 1
    elif outcome is SaveOutcome.UPDATED:
        result.updated += 1
    else:
        result.unchanged += 1


async def _import_units(
    session: AsyncSession,
    table: Table,
    errs: _Rows,
    result: ImportResult,
    *,
    actor: Actor,
    clock: Clock,
) -> None:
    """Check the rows, then save each unit with `save_unit`, parents first."""
    existing = {u.code: u for u in (await session.scalars(select(Unit))).all()}
    by_id = {u.id: u for u in existing.values()}
    parsed: dict[str, tuple[int, str, str]] = {}  # code -> (row, name, parent_code)
    for number, row in zip(table.row_numbers, table, strict=True):
        code = _text(row, "code", number, errs, required=True, limit=64)
        name = _text(row, "name", number, errs, required=True, limit=200)
        parent = row.get("parent_code", "").strip()
        if not code:
            continue
        if code in parsed:
            errs.add(number, "code", f"duplicate code {code!r} (first on row {parsed[code][0]})")
            continue
        parsed[code] = (number, name, parent)
    # The parent map after the import: the database's, overridden by the file.
    parents: dict[str, str | None] = {
        code: (by_id[u.parent_id].code if u.parent_id in by_id else None)
        for code, u in existing.items()
    }
    for code, (number, _name, parent) in parsed.items():
        if parent and parent not in parsed and parent not in existing:
            errs.add(number, "parent_code", f"unknown unit code {parent!r}")
        parents[code] = parent or None
    for code, (number, _name, parent) in parsed.items():
        cycle = parent_cycle(parents, code) if parent else None
        if cycle is not None:
            errs.add(number, "parent_code", "parent cycle: " + " → ".join(cycle))
    if errs.errors:
        return
    units = dict(existing)
    for code in _parents_first(parsed):
        number, name, parent = parsed[code]
        unit = existing.get(code)
        before = (unit.name, unit.parent_id) if unit is not None else None
        spec = UnitSpec(
            code, name, units[parent].id if parent else None, unit.active if unit else True
        )
        try:
            saved = await save_unit(
                session, unit_id=unit.id if unit else None, spec=spec, actor=actor, clock=clock
            )
        except DomainError as exc:
            errs.add(number, "code", str(exc))
            continue
        units[code] = saved
        if before is None:
            result.created += 1
        elif before != (saved.name, saved.parent_id):
            result.updated += 1
        else:
            result.unchanged += 1


def _parents_first(parsed: dict[str, tuple[int, str, str]]) -> list[str]:
    """The file's codes, each after its parent when the parent is in the file too."""
    ordered: list[str] = []
    placed: set[str] = set()
    for code in parsed:
        pending: list[str] = []
        current: str | None = code
        while current is not None and current in parsed and current not in placed:
            pending.append(current)
            placed.add(current)
            current = parsed[current][2] or None
        ordered.extend(reversed(pending))
    return ordered


def _roles(text: str, number: int, errs: _Rows) -> set[Role] | None:
    names = split_list(text)
    if not names:
        errs.add(number, "roles", "required (at least one role)")
        return None
    roles: set[Role] = set()
    for name in names:
        role = ROLE_ALIASES.get(name.lower(), ROLE_ALIASES.get(name))
        if role is None:
            errs.add(
                number,
                "roles",
                f"unknown role {name!r} (use {', '.join(r.value for r in Role)}, separated by ;)",
            )
            return None
        roles.add(role)
    return roles


async def _import_people(
    session: AsyncSession,
    table: Table,
    errs: _Rows,
    result: ImportResult,
    *,
    actor: Actor,
    clock: Clock,
) -> None:
    units = {u.code: u for u in (await session.scalars(select(Unit))).all()}
    people = {
        p.email: p
        for p in (await session.scalars(select(Person).where(Person.email.is_not(None)))).all()
        if p.email
    }
    seen: dict[str, int] = {}
    # per chat-app id column: the row each id was first seen on, and who holds it now (by
    # e-mail, the people import's key)
    seen_ids: dict[str, dict[str, int]] = {column: {} for column in APP_ID_COLUMNS}
    holders: dict[str, dict[str, str]] = {}
    for column, (attribute, _) in APP_ID_COLUMNS.items():
        rows = await session.execute(select(attribute, Person.email).where(attribute.is_not(None)))
        holders[column] = {value: email or "" for value, email in rows if value}
    planned: list[tuple[str, dict[str, Any], set[Role]]] = []
    order = {column: i for i, column in enumerate(COLUMNS[ImportKind.PEOPLE])}
    for number, row in zip(table.row_numbers, table, strict=True):
        first = len(errs.errors)
        name = _text(row, "name", number, errs, required=True, limit=NAME_LIMIT)
        email = _text(row, "email", number, errs, required=True, limit=EMAIL_LIMIT).lower()
        unit_code = row.get("unit", "").strip()
        unit = units.get(unit_code) if unit_code else None
        roles = _roles(row.get("roles", ""), number, errs)
        locale = row.get("locale", "").strip().lower() or "zh"
        phone = row.get("phone", "").strip()
        app_ids = {column: row.get(column, "").strip() for column in APP_ID_COLUMNS}
        prefs = None
        try:
            prefs = format_prefs(parse_prefs(row.get("channels", "")))
        except ValidationFailed as exc:
            for problem in exc.errors:
                errs.add(number, "channels", problem.removeprefix("channels: "))
        problems = field_problems(
            email=email,
            phone=phone,
            locale=locale,
            roles=frozenset(roles or ()),
            has_unit=bool(unit_code),
            **app_ids,
        )
        for column, message in problems:
            errs.add(number, column, message)
        email = stored_email(email)  # "" when field_problems found it bad
        if email in seen:
            errs.add(number, "email", f"duplicate email {email!r} (first on row {seen[email]})")
            email = ""
        elif email:
            seen[email] = number
        if unit_code and unit is None:
            errs.add(number, "unit", f"unknown unit code {unit_code!r}")
        for column, value in app_ids.items():
            what = APP_ID_COLUMNS[column][1]
            if value and value in seen_ids[column]:
                first_row = seen_ids[column][value]
                errs.add(number, column, f"duplicate {what} (first on row {first_row})")
            elif value and holders[column].get(value, email) != email:
                errs.add(number, column, f"{value!r} is already used by another person")
            elif value:
                seen_ids[column][value] = number
        # A row's problems in the order of its columns.
        errs.errors[first:] = sorted(errs.errors[first:], key=lambda e: order[e.column])
        if name and email and roles is not None:
            values = {
                "name": name,
                "unit_id": unit.id if unit else None,
                "locale": locale,
                "phone": phone or None,
            }
            for column, value in app_ids.items():
                if column in table.columns:  # a file without the column keeps them
                    values[column] = value or None
            if "channels" in table.columns:  # likewise: an empty cell is the default
                values["channel_prefs"] = prefs
            planned.append((email, values, roles))
    if errs.errors:
        return
    for email, values, roles in planned:
        person = people.get(email)
        if person is None:
            person = Person(email=email, **values)
            person.set_roles(roles)
            session.add(person)
            await session.flush()
            result.created += 1
            record(
                session,
                clock=clock,
                actor=actor,
                entity="person",
                entity_id=person.id,
                action="create",
                detail={"email": email, "roles": sorted(r.value for r in roles)},
            )
            continue
        changed = apply_changes(person, values)
        # An import never removes the admin role, so it cannot lock the office out.
        wanted = roles | (person.roles & {Role.ADMIN})
        if wanted != person.roles:
            changed["roles"] = [sorted(r.value for r in person.roles), sorted(wanted)]
            person.set_roles(wanted)
        if changed:
            result.updated += 1
            record(
                session,
                clock=clock,
                actor=actor,
                entity="person",
                entity_id=person.id,
                action="update",
                detail={"changes": changed},
            )
        else:
            result.unchanged += 1
    await session.flush()


#: Item rows checked and written together: bounds what is held per row to one chunk.
ITEM_CHUNK = 1000


async def _import_items(
    session: AsyncSession,
    table: Table,
    errs: _Rows,
    result: ImportResult,
    *,
    actor: Actor,
    clock: Clock,
    progress: Progress | None,
) -> None:
    """Check the rows a chunk at a time and save each chunk with one `ItemBatch` while no
    row has failed; after a bad row the rest is still checked (every bad row is named)."""
    units = {u.code: u for u in (await session.scalars(select(Unit))).all()}
    people = {
        p.email: p
        for p in (await session.scalars(select(Person).where(Person.email.is_not(None)))).all()
        if p.email
    }
    seen: dict[str, int] = {}
    batch = ItemBatch(session, actor=actor, clock=clock)
    provisional_years: set[int] = set()
    total = len(table)
    for start in range(0, total, ITEM_CHUNK):
        numbers = table.row_numbers[start : start + ITEM_CHUNK]
        specs: list[tuple[int, ItemSpec]] = []
        for number, row in zip(numbers, table[start : start + ITEM_CHUNK], strict=True):
            spec = _item_spec(row, number, errs, units, people, seen)
            if spec is not None:
                specs.append((number, spec))
        if not errs.errors:
            saved = await batch.save([spec for _, spec in specs])
            for (number, _spec), outcome in zip(specs, saved, strict=True):
                if outcome.outcome is None:
                    errs.add(number, "ref", outcome.error or "not saved")
                    continue
                _tally(result, outcome.outcome)
                if outcome.provisional and outcome.active and outcome.due_on is not None:
                    result.provisional_refs.append(outcome.ref)
                    provisional_years.add(outcome.due_on.year)
        if progress is not None:
            for done in range(start + 1, min(start + ITEM_CHUNK, total) + 1):
                progress(done, total)
    calendar = await batch.context.calendar(session)
    result.fallback_years = calendar.fallback_years(provisional_years)


def _co_owners(
    row: dict[str, str], co_codes: list[str], number: int, errs: _Rows, people: dict[str, Person]
) -> list[Person | None]:
    """The owners (协办责任人) of a row's co units, one per code in ``co_codes``.

    ``co_owner_emails`` lists one e-mail per co unit, in the same order (a blank entry, or a
    blank cell, leaves that unit to its liaison); any other count is a row error.
    """
    text = row.get("co_owner_emails", "").strip()
    if not text:
        return [None] * len(co_codes)
    emails = [part.strip().lower() for part in LIST_SPLIT.split(text)]
    if len(emails) != len(co_codes):
        errs.add(
            number,
            "co_owner_emails",
            f"{len(emails)} e-mails for {len(co_codes)} co units "
            "(one per co unit, in the order of co_units; leave one blank for its liaison)",
        )
        return [None] * len(co_codes)
    owners: list[Person | None] = []
    for email in emails:
        person = people.get(email) if email else None
        if email and person is None:
            errs.add(number, "co_owner_emails", f"no person with email {email!r}")
        owners.append(person)
    return owners


def _item_spec(
    row: dict[str, str],
    number: int,
    errs: _Rows,
    units: dict[str, Unit],
    people: dict[str, Person],
    seen: dict[str, int],
) -> ItemSpec | None:
    """An ItemSpec from one row, or None after adding the row's errors."""
    before = len(errs.errors)
    ref = row.get("ref", "").strip()
    if ref in seen:
        errs.add(number, "ref", f"duplicate ref {ref!r} (first on row {seen[ref]})")
    elif ref:
        seen[ref] = number
    source_text = _text(row, "source", number, errs, required=True, limit=32)
    source = SOURCE_ALIASES.get(source_text.lower(), SOURCE_ALIASES.get(source_text))
    if source_text and source is None:
        errs.add(
            number,
            "source",
            f"unknown source {source_text!r} (use {', '.join(s.value for s in Source)} "
            "or 领导批示, 文件, 会议, 年度重点工作, 建议提案, 省长信箱, 其他)",
        )
    received_on = _date(row, "received_on", number, errs, required=True)
    due_on = _date(row, "due_on", number, errs, required=False)
    urgent = False
    try:
        urgent = parse_bool(row.get("urgent", ""))
    except ValueError as exc:
        errs.add(number, "urgent", str(exc))
    lead_code = _text(row, "lead_unit", number, errs, required=True, limit=64)
    lead = units.get(lead_code)
    if lead_code and lead is None:
        errs.add(number, "lead_unit", f"unknown unit code {lead_code!r}")
    co: list[tuple[Unit, Person | None]] = []
    co_codes = split_list(row.get("co_units", ""))
    co_owners = _co_owners(row, co_codes, number, errs, people)
    for code, co_owner in zip(co_codes, co_owners, strict=True):
        unit = units.get(code)
        if unit is None:
            errs.add(number, "co_units", f"unknown unit code {code!r}")
        elif code == lead_code:
            errs.add(number, "co_units", f"{code!r} is already the lead unit")
        elif unit in (u for u, _ in co):
            errs.add(number, "co_units", f"{code!r} is listed twice")
        elif co_owner is not None and not is_member(co_owner.unit_id, unit.id):
            errs.add(number, "co_owner_emails", said(owner_outside_unit(co_owner.name, unit.name)))
        else:
            co.append((unit, co_owner))
    owner_email = _text(row, "owner_email", number, errs, required=True, limit=254).lower()
    owner = people.get(owner_email)
    if owner_email and owner is None:
        errs.add(number, "owner_email", f"no person with email {owner_email!r}")
    elif owner is not None and lead is not None and not is_member(owner.unit_id, lead.id):
        errs.add(
            number,
            "owner_email",
            said(owner_outside_unit(owner.name, lead.name, AssignmentRole.LEAD)),
        )
    leader_email = row.get("leader_email", "").strip().lower()
    leader = people.get(leader_email) if leader_email else None
    if leader_email and leader is None:
        errs.add(number, "leader_email", f"no person with email {leader_email!r}")
    # The item's own rules (ref, title, dates, units) are the model's, as in the API.
    fields: dict[str, Any] = {
        "ref": ref,
        "title": row.get("title", "").strip(),
        "source": source,
        "received_on": received_on,
        "due_on": due_on,
        "urgent": urgent,
        "objective": row.get("objective", "").strip(),
        "content": row.get("content", "").strip(),
        "lead": {
            "unit_id": lead.id if lead else None,
            "owner_id": owner.id if owner else None,
            "leader_id": leader.id if leader else None,
        },
        "co": [{"unit_id": u.id, "owner_id": o.id if o else None} for u, o in co],
    }
    item, found = check(ItemInput, {k: v for k, v in fields.items() if v not in ("", None)})
    bad_columns = {e.column for e in errs.errors[before:]}
    for where, reason in found:
        column = _ITEM_COLUMN.get(where.split(".")[0].split("[")[0], where)
        if column not in bad_columns:
            errs.add(number, column, reason)
    order = {name: n for n, name in enumerate(COLUMNS["items"])}
    errs.errors[before:] = sorted(errs.errors[before:], key=lambda e: order.get(e.column, 99))
    if len(errs.errors) > before or item is None:
        return None
    return item.spec()


#: A milestone spec field → the import column it comes from.
_MILESTONE_COLUMN: dict[str, str] = {
    "name": "name",
    "due_on": "due_on",
    "unit_id": "unit",
    "owner_id": "owner_email",
    "leader_id": "leader_email",
}


async def _import_milestones(
    session: AsyncSession,
    table: Table,
    errs: _Rows,
    result: ImportResult,
    *,
    actor: Actor,
    clock: Clock,
) -> None:
    """Milestones (阶段性节点) by the 文号 of their item; a row naming an existing milestone
    of the item (same name) changes it. Every problem is named in Chinese."""
    refs = {row.get("ref", "").strip() for row in table} - {""}
    items = {
        i.ref: i
        for i in (
            await session.scalars(
                select(Item)
                .where(Item.ref.in_(sorted(refs)))
                .options(selectinload(Item.assignments), selectinload(Item.milestones))
            )
        ).all()
    }
    units = {u.code: u for u in (await session.scalars(select(Unit))).all()}
    people = {
        p.email: p
        for p in (await session.scalars(select(Person).where(Person.email.is_not(None)))).all()
        if p.email
    }
    seen: dict[tuple[str, str], int] = {}
    planned: list[tuple[int, Item, MilestoneSpec]] = []
    for number, row in zip(table.row_numbers, table, strict=True):
        before = len(errs.errors)
        ref = row.get("ref", "").strip()
        item = items.get(ref)
        if not ref:
            errs.add(number, "ref", "文号必填 (required)")
        elif item is None:
            errs.add(number, "ref", f"没有文号为“{ref}”的事项 (no item with this ref)")
        name = " ".join(row.get("name", "").split())
        if not name:
            errs.add(number, "name", "节点名称必填 (required)")
        elif (ref, name) in seen:
            errs.add(number, "name", f"同一事项的节点“{name}”重复（首见于第 {seen[ref, name]} 行）")
        else:
            seen[ref, name] = number
        due_text = row.get("due_on", "").strip()
        due_on = None
        try:
            due_on = parse_date(due_text) if due_text else None
        except ValueError:
            errs.add(number, "due_on", f"节点时限“{due_text}”不是日期（如 2026-11-02）")
        if not due_text:
            errs.add(number, "due_on", "节点时限必填 (required)")
        code = row.get("unit", "").strip()
        unit = units.get(code)
        if not code:
            errs.add(number, "unit", "责任单位必填 (required)")
        elif unit is None:
            errs.add(number, "unit", f"没有代码为“{code}”的单位 (unknown unit code)")
        found: dict[str, Person | None] = {}
        for column, label in (("owner_email", "责任人"), ("leader_email", "责任领导")):
            email = row.get(column, "").strip().lower()
            found[column] = people.get(email) if email else None
            if email and found[column] is None:
                errs.add(number, column, f"没有邮箱为“{email}”的{label} (no such person)")
        if len(errs.errors) > before or item is None or due_on is None or unit is None:
            continue
        owner, leader = found["owner_email"], found["leader_email"]
        spec = MilestoneSpec(
            name, due_on, unit.id, owner.id if owner else None, leader.id if leader else None
        )
        for where, message in await milestone_problems(session, item, spec):
            errs.add(number, _MILESTONE_COLUMN[where], message)
        if item.state not in ("open", "completion_requested"):
            errs.add(number, "ref", f"事项“{ref}”已办结或已撤销 (item is closed)")
        if len(errs.errors) == before:
            planned.append((number, item, spec))
    if errs.errors:
        return
    for number, item, spec in planned:
        try:
            outcome = await import_milestone(session, item, spec, actor=actor, clock=clock)
        except DomainError as exc:
            errs.add(number, "name", str(exc))
            continue
        _tally(result, outcome)
    await session.flush()
