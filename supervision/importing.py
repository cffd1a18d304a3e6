"""Importing units, people, items and milestones: the row rules; validate every row, then
write.

Pure of the CLI and the web: both read the file with `supervision.tabular.read_table` and
call `import_rows`. An import is all or nothing: any bad row means nothing is written, and
every bad row is reported. Items are checked and saved a chunk at a time
(`supervision.item_batch`), so a large file never holds more than a chunk of parsed rows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from models import AssignmentRole, Person, Role, Source, Unit
from supervision.audit import Actor, apply_changes, record
from supervision.channel_prefs import PrefsRefused, format_prefs, parse_prefs
from supervision.clock import Clock
from supervision.errors import DomainError, ValidationFailed
from supervision.import_columns import IMPORT_COLUMNS
from supervision.import_milestones import import_milestones
from supervision.import_result import ImportKind, ImportResult, RowError, RowErrors, read_header
from supervision.import_values import (
    LIST_SPLIT,
    ROLE_ALIASES,
    SOURCE_ALIASES,
    NotARealDate,
    parse_bool,
    parse_date,
    split_list,
)
from supervision.import_words import Both, ImportWord
from supervision.item_batch import ItemBatch
from supervision.item_schema import MAX_TEXT, ItemInput
from supervision.items import (
    MAX_REF,
    MAX_TITLE,
    ItemSpec,
    is_member,
    owner_outside_unit,
)
from supervision.labels import labels
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

#: the people import's chat-app id columns: the person's attribute and what the id is called
APP_ID_COLUMNS: dict[str, tuple[InstrumentedAttribute[str | None], Both]] = {
    "wecom_userid": (Person.wecom_userid, Both("企业微信账号", "WeCom userid")),
    "dingtalk_userid": (Person.dingtalk_userid, Both("钉钉账号", "DingTalk userid")),
    "feishu_user_id": (Person.feishu_user_id, Both("飞书账号", "Feishu user_id")),
}

#: each kind's columns by code, in order (the catalogue's `IMPORT_COLUMNS`), and the
#: calendar schedule's (`supervision.calendar_admin`)
COLUMNS: dict[str, tuple[str, ...]] = {
    **{kind: tuple(c.code for c in columns) for kind, columns in IMPORT_COLUMNS.items()},
    "calendar": ("date", "is_workday", "note"),
}

# Columns a file must have; the others may be left out (they are then empty).
REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    **{
        kind: tuple(c.code for c in columns if c.required)
        for kind, columns in IMPORT_COLUMNS.items()
    },
    "calendar": ("date", "is_workday"),
}

#: the sources an item row may name, as a refusal lists them
_SOURCES = Both(
    "、".join(labels(Source, "zh").values()),
    ", ".join(s.value for s in Source)
    + " or 领导批示, 文件, 会议, 年度重点工作, 建议提案, 省长信箱, 其他",
)

#: An item model field → the import column it comes from.
_ITEM_COLUMN: dict[str, str] = {"lead": "lead_unit", "co": "co_units"}


def _date(
    row: dict[str, str], column: str, number: int, errs: RowErrors, *, required: bool
) -> date | None:
    """A date cell (None when blank or unreadable; a reason is added for the latter)."""
    text = _text(row, column, number, errs, required=required, limit=40)
    if not text:
        return None
    try:
        return parse_date(text)
    except NotARealDate:
        errs.add(number, column, ImportWord.NOT_A_REAL_DATE, text=text)
    except ValueError:
        errs.add(number, column, ImportWord.NOT_A_DATE, text=text)
    return None


def _text(
    row: dict[str, str], column: str, number: int, errs: RowErrors, *, required: bool, limit: int
) -> str:
    value = row.get(column, "").strip()
    if required and not value:
        errs.add(number, column, ImportWord.REQUIRED)
    elif len(value) > limit:
        errs.add(number, column, ImportWord.TOO_LONG, limit=limit)
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

    The header may name the columns in Chinese or English (`supervision.import_columns`).
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
    errs = RowErrors(kind.value, table)
    table = read_header(kind.value, table, errs)
    if not errs.errors:
        if kind is ImportKind.UNITS:
            await _import_units(session, table, errs, result, actor=actor, clock=clock)
        elif kind is ImportKind.PEOPLE:
            await _import_people(session, table, errs, result, actor=actor, clock=clock)
        elif kind is ImportKind.MILESTONES:
            await import_milestones(session, table, errs, result, actor=actor, clock=clock)
        else:
            await _import_items(
                session, table, errs, result, actor=actor, clock=clock, progress=progress
            )
    result.errors = sorted(errs.errors, key=lambda e: e.row)
    if result.errors or dry_run:
        await session.rollback()
    return result


async def _import_units(
    session: AsyncSession,
    table: Table,
    errs: RowErrors,
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
            errs.add(number, "code", ImportWord.DUPLICATE_CODE, code=code, first=parsed[code][0])
            continue
        parsed[code] = (number, name, parent)
    # The parent map after the import: the database's, overridden by the file.
    parents: dict[str, str | None] = {
        code: (by_id[u.parent_id].code if u.parent_id in by_id else None)
        for code, u in existing.items()
    }
    for code, (number, _name, parent) in parsed.items():
        if parent and parent not in parsed and parent not in existing:
            errs.add(number, "parent_code", ImportWord.UNKNOWN_UNIT, code=parent)
        parents[code] = parent or None
    for code, (number, _name, parent) in parsed.items():
        cycle = parent_cycle(parents, code) if parent else None
        if cycle is not None:
            errs.add(number, "parent_code", ImportWord.PARENT_CYCLE, cycle=" → ".join(cycle))
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
            errs.add_refused(number, "code", exc)
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


def _roles(text: str, number: int, errs: RowErrors) -> set[Role] | None:
    names = split_list(text)
    if not names:
        errs.add(number, "roles", ImportWord.ROLES_REQUIRED)
        return None
    roles: set[Role] = set()
    for name in names:
        role = ROLE_ALIASES.get(name.lower(), ROLE_ALIASES.get(name))
        if role is None:
            roles_zh = "、".join(labels(Role, "zh").values())
            roles_en = ", ".join(r.value for r in Role)
            errs.add(
                number, "roles", ImportWord.UNKNOWN_ROLE, role=name, roles=Both(roles_zh, roles_en)
            )
            return None
        roles.add(role)
    return roles


async def _import_people(
    session: AsyncSession,
    table: Table,
    errs: RowErrors,
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
        except PrefsRefused as exc:
            for problem, zh in zip(exc.errors, exc.errors_zh, strict=True):
                errs.add_text(number, "channels", problem.removeprefix("channels: "), zh)
        problems = field_problems(
            email=email,
            phone=phone,
            locale=locale,
            roles=frozenset(roles or ()),
            has_unit=bool(unit_code),
            **app_ids,
        )
        for column, message, zh in problems:
            errs.add_text(number, column, message, zh)
        email = stored_email(email)  # "" when field_problems found it bad
        if email in seen:
            errs.add(number, "email", ImportWord.DUPLICATE_EMAIL, email=email, first=seen[email])
            email = ""
        elif email:
            seen[email] = number
        if unit_code and unit is None:
            errs.add(number, "unit", ImportWord.UNKNOWN_UNIT, code=unit_code)
        for column, value in app_ids.items():
            what = APP_ID_COLUMNS[column][1]
            if value and value in seen_ids[column]:
                first_row = seen_ids[column][value]
                errs.add(number, column, ImportWord.DUPLICATE_APP_ID, what=what, first=first_row)
            elif value and holders[column].get(value, email) != email:
                errs.add(number, column, ImportWord.APP_ID_TAKEN, value=value)
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
    errs: RowErrors,
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
            for (number, spec), outcome in zip(specs, saved, strict=True):
                if outcome.outcome is None:
                    errs.add_text(number, "ref", outcome.error or "not saved", outcome.error_zh)
                    continue
                result.tally(outcome.outcome)
                if not outcome.active or outcome.due_on is None:
                    continue
                if spec.due_on is None:  # 计算所得: the policy counted it
                    result.computed.append((outcome.ref, outcome.due_on))
                if outcome.provisional:  # 待确认: no official calendar for its year
                    result.provisional.append((outcome.ref, outcome.due_on))
                    provisional_years.add(outcome.due_on.year)
        if progress is not None:
            for done in range(start + 1, min(start + ITEM_CHUNK, total) + 1):
                progress(done, total)
    calendar = await batch.context.calendar(session)
    result.fallback_years = calendar.fallback_years(provisional_years)


def _co_owners(
    row: dict[str, str],
    co_codes: list[str],
    number: int,
    errs: RowErrors,
    people: dict[str, Person],
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
            ImportWord.CO_OWNER_COUNT,
            emails=len(emails),
            units=len(co_codes),
        )
        return [None] * len(co_codes)
    owners: list[Person | None] = []
    for email in emails:
        person = people.get(email) if email else None
        if email and person is None:
            errs.add(number, "co_owner_emails", ImportWord.NO_PERSON, email=email)
        owners.append(person)
    return owners


def _item_spec(
    row: dict[str, str],
    number: int,
    errs: RowErrors,
    units: dict[str, Unit],
    people: dict[str, Person],
    seen: dict[str, int],
) -> ItemSpec | None:
    """An ItemSpec from one row, or None after adding the row's errors."""
    before = len(errs.errors)
    ref = _text(row, "ref", number, errs, required=True, limit=MAX_REF)
    if ref in seen:
        errs.add(number, "ref", ImportWord.DUPLICATE_REF, ref=ref, first=seen[ref])
    elif ref:
        seen[ref] = number
    title = _text(row, "title", number, errs, required=True, limit=MAX_TITLE)
    source_text = _text(row, "source", number, errs, required=True, limit=32)
    source = SOURCE_ALIASES.get(source_text.lower(), SOURCE_ALIASES.get(source_text))
    if source_text and source is None:
        errs.add(number, "source", ImportWord.UNKNOWN_SOURCE, text=source_text, sources=_SOURCES)
    objective = _text(row, "objective", number, errs, required=False, limit=MAX_TEXT)
    content = _text(row, "content", number, errs, required=False, limit=MAX_TEXT)
    received_on = _date(row, "received_on", number, errs, required=True)
    due_on = _date(row, "due_on", number, errs, required=False)
    if received_on is not None and due_on is not None and due_on < received_on:
        errs.add(
            number,
            "due_on",
            ImportWord.DUE_BEFORE_RECEIVED,
            due=due_on.isoformat(),
            received=received_on.isoformat(),
        )
    urgent = False
    try:
        urgent = parse_bool(row.get("urgent", ""))
    except ValueError:
        errs.add(number, "urgent", ImportWord.NOT_YES_NO, text=row.get("urgent", ""))
    lead_code = _text(row, "lead_unit", number, errs, required=True, limit=64)
    lead = units.get(lead_code)
    if lead_code and lead is None:
        errs.add(number, "lead_unit", ImportWord.UNKNOWN_UNIT, code=lead_code)
    co: list[tuple[Unit, Person | None]] = []
    co_codes = split_list(row.get("co_units", ""))
    co_owners = _co_owners(row, co_codes, number, errs, people)
    for code, co_owner in zip(co_codes, co_owners, strict=True):
        unit = units.get(code)
        if unit is None:
            errs.add(number, "co_units", ImportWord.UNKNOWN_UNIT, code=code)
        elif code == lead_code:
            errs.add(number, "co_units", ImportWord.ALREADY_LEAD, code=code)
        elif unit in (u for u, _ in co):
            errs.add(number, "co_units", ImportWord.LISTED_TWICE, code=code)
        elif co_owner is not None and not is_member(co_owner.unit_id, unit.id):
            outside = owner_outside_unit(co_owner.name, unit.name, AssignmentRole.CO)
            errs.add_problem(number, "co_owner_emails", outside)
        else:
            co.append((unit, co_owner))
    owner_email = _text(row, "owner_email", number, errs, required=True, limit=254).lower()
    owner = people.get(owner_email)
    if owner_email and owner is None:
        errs.add(number, "owner_email", ImportWord.NO_PERSON, email=owner_email)
    elif owner is not None and lead is not None and not is_member(owner.unit_id, lead.id):
        outside = owner_outside_unit(owner.name, lead.name, AssignmentRole.LEAD)
        errs.add_problem(number, "owner_email", outside)
    leader_email = row.get("leader_email", "").strip().lower()
    leader = people.get(leader_email) if leader_email else None
    if leader_email and leader is None:
        errs.add(number, "leader_email", ImportWord.NO_PERSON, email=leader_email)
    # The item's own rules (ref, title, dates, units) are the model's, as in the API.
    fields: dict[str, Any] = {
        "ref": ref,
        "title": title,
        "source": source,
        "received_on": received_on,
        "due_on": due_on,
        "urgent": urgent,
        "objective": objective,
        "content": content,
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
        if column not in bad_columns:  # a rule of the model the row checks above missed
            errs.add_text(number, column, reason)
    order = {name: n for n, name in enumerate(COLUMNS["items"])}
    errs.errors[before:] = sorted(errs.errors[before:], key=lambda e: order.get(e.column, 99))
    if len(errs.errors) > before or item is None:
        return None
    return item.spec()
