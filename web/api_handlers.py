"""Handlers of /api/v1: items, assignments, reports, extensions, people, units, bulletins, tokens.

Imports `models/`, `supervision/` and the web API plumbing only. Every change goes through the
same use-cases the pages and the bot use (supervision.items, .reports, .requests,
.bulletins); what the caller sees is their `supervision.access.Scope`, applied in SQL (a liaison
sees only their units' items, people and units and gets 404 for the others).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from aiohttp import web
from sqlalchemy import Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from models import (
    ACTIVE_STATES,
    ApiToken,
    Assignment,
    AssignmentRole,
    Bulletin,
    Extension,
    Item,
    ItemState,
    Person,
    PersonRole,
    Report,
    ReviewState,
    Role,
    Source,
    Unit,
)
from supervision.audit import Actor
from supervision.bulletins import compute_bulletin, get_bulletin, parse_period
from supervision.calendar import WorkCalendar
from supervision.calendar_store import load_calendar
from supervision.clock import local_today
from supervision.errors import NotFound, ValidationFailed
from supervision.items import AssigneeSpec, ItemSpec, item_light, save_item
from supervision.light import assignment_light
from supervision.reports import file_report
from supervision.requests import decide_extension, request_extension
from supervision.units import UnitSpec, save_unit
from web.api_core import (
    ApiContext,
    ApiError,
    Fields,
    Page,
    json_ok,
    paging,
    query_bool,
    query_choice,
    query_date,
    query_int,
    read_json,
)
from web.api_tokens import create_token, revoke_token

# --- serialisers ----------------------------------------------------------------------------


def person_json(p: Person) -> dict[str, Any]:
    """A person as the API shows them (no password hash, no chat ids)."""
    return {
        "id": p.id,
        "name": p.name,
        "email": p.email,
        "unit_id": p.unit_id,
        "roles": sorted(r.value for r in p.roles),
        "active": p.active,
        "locale": p.locale,
        "telegram_bound": p.telegram_chat_id is not None,
    }


def unit_json(u: Unit) -> dict[str, Any]:
    """A unit."""
    return {
        "id": u.id,
        "code": u.code,
        "name": u.name,
        "parent_id": u.parent_id,
        "active": u.active,
    }


def assignment_json(
    a: Assignment, received_on: date, today: date, cal: WorkCalendar, ctx: ApiContext
) -> dict[str, Any]:
    """An assignment with its unit name and light (``a.unit`` must be loaded)."""
    return {
        "id": a.id,
        "item_id": a.item_id,
        "unit_id": a.unit_id,
        "unit_name": a.unit.name,
        "role": a.role,
        "owner_id": a.owner_id,
        "leader_id": a.leader_id,
        "state": a.state,
        "due_on": a.due_on,
        "light": assignment_light(
            a, received_on=received_on, today=today, calendar=cal, tz=ctx.deps.config.tz
        ),
        "last_report_at": a.last_report_at,
        "closed_at": a.closed_at,
    }


def item_json(item: Item, today: date, cal: WorkCalendar, ctx: ApiContext) -> dict[str, Any]:
    """An item with its assignments and light (assignments and their units loaded)."""
    return {
        "id": item.id,
        "ref": item.ref,
        "title": item.title,
        "source": item.source,
        "objective": item.objective,
        "content": item.content,
        "received_on": item.received_on,
        "due_on": item.due_on,
        "due_is_default": item.due_is_default,
        "due_is_provisional": item.due_is_provisional,
        "urgent": item.urgent,
        "state": item.state,
        "light": item_light(item, today=today, calendar=cal, tz=ctx.deps.config.tz),
        "closed_at": item.closed_at,
        "created_at": item.created_at,
        "assignments": [
            assignment_json(a, item.received_on, today, cal, ctx)
            for a in sorted(item.assignments, key=lambda a: (a.role != "lead", a.id))
        ],
    }


def report_json(r: Report) -> dict[str, Any]:
    """A report (attachments counted, not listed)."""
    return {
        "id": r.id,
        "assignment_id": r.assignment_id,
        "number": r.number,
        "author_id": r.author_id,
        "kind": r.kind,
        "text": r.text,
        "channel": r.channel,
        "review_state": r.review_state,
        "attachments": len(r.attachments),
        "created_at": r.created_at,
    }


def extension_json(x: Extension) -> dict[str, Any]:
    """An extension request."""
    return {
        "id": x.id,
        "assignment_id": x.assignment_id,
        "requested_by_id": x.requested_by_id,
        "reason": x.reason,
        "progress": x.progress,
        "old_due_on": x.old_due_on,
        "new_due_on": x.new_due_on,
        "state": x.state,
        "decided_by_id": x.decided_by_id,
        "decided_at": x.decided_at,
        "comment": x.comment,
        "channel": x.channel,
        "created_at": x.created_at,
    }


def bulletin_json(b: Bulletin) -> dict[str, Any]:
    """A stored bulletin with its frozen figures."""
    return {
        "id": b.id,
        "period": b.period,
        "starts_on": b.starts_on,
        "ends_on": b.ends_on,
        "created_by_id": b.created_by_id,
        "created_at": b.created_at,
        "sent_at": b.sent_at,
        "data": b.data,
    }


def token_json(t: ApiToken) -> dict[str, Any]:
    """A token's metadata (never its value or hash)."""
    return {
        "id": t.id,
        "name": t.name,
        "person_id": t.person_id,
        "created_at": t.created_at,
        "last_used_at": t.last_used_at,
        "revoked_at": t.revoked_at,
        "expires_at": t.expires_at,
    }


# --- shared lookups -------------------------------------------------------------------------


async def _count(session: AsyncSession, query: Select[Any]) -> int:
    total = await session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    return int(total or 0)


async def _paged(session: AsyncSession, query: Select[Any], page: Page) -> tuple[list[Any], int]:
    total = await _count(session, query)
    rows = (await session.scalars(query.offset(page.offset).limit(page.per_page))).all()
    return list(rows), total


def _visible_items(ctx: ApiContext) -> Select[int]:
    """Ids of the items the caller may see."""
    return ctx.principal.scope.visible_item_ids()


async def _load_item(session: AsyncSession, ctx: ApiContext, item_id: int) -> Item:
    item = await session.scalar(
        select(Item)
        .where(Item.id == item_id, Item.id.in_(_visible_items(ctx)))
        .options(selectinload(Item.assignments).selectinload(Assignment.unit))
        .execution_options(populate_existing=True)
    )
    if item is None:
        raise NotFound(f"no item #{item_id}")
    return item


async def _load_assignment(
    session: AsyncSession, ctx: ApiContext, assignment_id: int
) -> Assignment:
    assignment = await session.scalar(
        select(Assignment)
        .where(Assignment.id == assignment_id, Assignment.item_id.in_(_visible_items(ctx)))
        .options(selectinload(Assignment.unit), selectinload(Assignment.item))
    )
    if assignment is None:
        raise NotFound(f"no assignment #{assignment_id}")
    return assignment


async def _load_extension(session: AsyncSession, ctx: ApiContext, extension_id: int) -> Extension:
    extension = await session.scalar(
        select(Extension)
        .join(Assignment, Assignment.id == Extension.assignment_id)
        .where(Extension.id == extension_id, Assignment.item_id.in_(_visible_items(ctx)))
    )
    if extension is None:
        raise NotFound(f"no extension request #{extension_id}")
    return extension


async def _me(session: AsyncSession, ctx: ApiContext) -> Person:
    return await session.get_one(Person, ctx.person_id)


async def _today_and_calendar(session: AsyncSession, ctx: ApiContext) -> tuple[date, WorkCalendar]:
    return local_today(ctx.deps.clock, ctx.deps.config.tz), await load_calendar(session)


# --- me, openapi ----------------------------------------------------------------------------


async def get_me(ctx: ApiContext) -> web.StreamResponse:
    """Who the token acts for, with their access level."""
    async with ctx.deps.sessions() as session:
        me = await _me(session, ctx)
        units = ctx.principal.scope.unit_ids
        return json_ok(
            {
                "person": person_json(me),
                "access": ctx.principal.tier.value,
                "unit_ids": sorted(units) if units is not None else None,
            }
        )


# --- items ----------------------------------------------------------------------------------

ITEM_FIELDS = (
    "ref",
    "title",
    "source",
    "received_on",
    "due_on",
    "urgent",
    "objective",
    "content",
    "lead",
    "co",
)


async def list_items(ctx: ApiContext) -> web.StreamResponse:
    """Items the caller may see, by deadline, with filters."""
    r = ctx.request
    page = paging(r)
    state = query_choice(r, "state", [s.value for s in ItemState])
    source = query_choice(r, "source", [s.value for s in Source])
    unit_id = query_int(r, "unit_id")
    urgent = query_bool(r, "urgent")
    overdue = query_bool(r, "overdue")
    due_from = query_date(r, "due_from")
    due_to = query_date(r, "due_to")
    text = (r.query.get("q") or "").strip()
    async with ctx.deps.sessions() as session:
        today, cal = await _today_and_calendar(session, ctx)
        query = select(Item).where(Item.id.in_(_visible_items(ctx)))
        if state is not None:
            query = query.where(Item.state == state)
        if source is not None:
            query = query.where(Item.source == source)
        if urgent is not None:
            query = query.where(Item.urgent.is_(urgent))
        if unit_id is not None:
            query = query.where(
                Item.id.in_(select(Assignment.item_id).where(Assignment.unit_id == unit_id))
            )
        if due_from is not None:
            query = query.where(Item.due_on >= due_from)
        if due_to is not None:
            query = query.where(Item.due_on <= due_to)
        if overdue is not None:
            late = select(Assignment.item_id).where(
                Assignment.state.in_(ACTIVE_STATES),
                Assignment.due_on < today,
            )
            query = query.where(Item.id.in_(late) if overdue else Item.id.not_in(late))
        if text:
            query = query.where(
                or_(
                    Item.title.icontains(text, autoescape=True),
                    Item.ref.icontains(text, autoescape=True),
                )
            )
        query = query.order_by(Item.due_on, Item.id).options(
            selectinload(Item.assignments).selectinload(Assignment.unit)
        )
        items, total = await _paged(session, query, page)
        return page.answer([item_json(i, today, cal, ctx) for i in items], total)


async def get_item(ctx: ApiContext) -> web.StreamResponse:
    """One item with its assignments."""
    async with ctx.deps.sessions() as session:
        item = await _load_item(session, ctx, ctx.match_id("item_id"))
        today, cal = await _today_and_calendar(session, ctx)
        return json_ok(item_json(item, today, cal, ctx))


def _assignee(fields: Fields, name: str, value: Any) -> AssigneeSpec | None:
    if not isinstance(value, dict):
        fields.problems.append(f"{name}: must be an object with unit_id")
        return None
    sub = Fields(value, ("unit_id", "owner_id", "leader_id"))
    unit_id = sub.integer("unit_id", required=True)
    owner_id = sub.integer("owner_id")
    leader_id = sub.integer("leader_id")
    fields.problems.extend(f"{name}.{p}" for p in sub.problems)
    if unit_id is None or sub.problems:
        return None
    return AssigneeSpec(unit_id=unit_id, owner_id=owner_id, leader_id=leader_id)


def _co(fields: Fields, value: Any) -> tuple[AssigneeSpec, ...]:
    if not isinstance(value, list):
        fields.problems.append("co: must be a list")
        return ()
    out = [_assignee(fields, f"co[{n}]", v) for n, v in enumerate(value)]
    return tuple(a for a in out if a is not None)


def _item_spec(body: dict[str, Any], base: ItemSpec | None) -> ItemSpec:
    """An ItemSpec from a full body (create) or a partial body over ``base`` (update)."""
    allowed = ITEM_FIELDS if base is None else tuple(f for f in ITEM_FIELDS if f != "ref")
    fields = Fields(body, allowed)
    creating = base is None
    ref = fields.text("ref", required=creating, max_len=100)
    title = fields.text("title", required=creating, max_len=500)
    source = fields.choice("source", Source, required=creating)
    received_on = fields.day("received_on", required=creating)
    due_on = fields.day("due_on")
    urgent = fields.boolean("urgent")
    objective = fields.text("objective")
    content = fields.text("content")
    lead: AssigneeSpec | None = None
    if fields.has("lead"):
        lead = _assignee(fields, "lead", body["lead"])
    elif creating:
        fields.problems.append("lead: required")
    co = _co(fields, body["co"]) if fields.has("co") else None
    if not creating and not body:
        fields.problems.append("send at least one field to change")
    fields.check()
    if base is None:
        assert ref is not None and title is not None and source is not None
        assert received_on is not None and lead is not None
        return ItemSpec(
            ref=ref.strip(),
            title=title.strip(),
            source=source,
            received_on=received_on,
            lead=lead,
            due_on=due_on,
            urgent=bool(urgent),
            objective=objective or "",
            content=content or "",
            co=co or (),
        )
    return ItemSpec(
        ref=base.ref,
        title=title.strip() if title is not None else base.title,
        source=source if source is not None else base.source,
        received_on=received_on if received_on is not None else base.received_on,
        lead=lead if lead is not None else base.lead,
        due_on=due_on if fields.has("due_on") else base.due_on,
        urgent=urgent if urgent is not None else base.urgent,
        objective=objective if objective is not None else base.objective,
        content=content if content is not None else base.content,
        co=co if co is not None else base.co,
    )


def _current_spec(item: Item) -> ItemSpec | None:
    """The spec that reproduces an item as it stands (None when it has no live lead unit)."""
    live = [a for a in item.assignments if a.state != ItemState.CANCELLED.value]
    lead = next((a for a in live if a.role == AssignmentRole.LEAD.value), None)
    if lead is None:
        return None
    return ItemSpec(
        ref=item.ref,
        title=item.title,
        source=Source(item.source),
        received_on=item.received_on,
        lead=AssigneeSpec(lead.unit_id, lead.owner_id, lead.leader_id),
        due_on=None if item.due_is_default else item.due_on,
        urgent=item.urgent,
        objective=item.objective,
        content=item.content,
        co=tuple(
            AssigneeSpec(a.unit_id, a.owner_id, a.leader_id)
            for a in live
            if a.role == AssignmentRole.CO.value
        ),
    )


async def create_item(ctx: ApiContext) -> web.StreamResponse:
    """Create an item with its lead and co units (supervision.items.save_item)."""
    spec = _item_spec(await read_json(ctx.request), None)
    async with ctx.deps.sessions() as session, session.begin():
        if await session.scalar(select(Item.id).where(Item.ref == spec.ref)) is not None:
            raise ApiError(409, "conflict", f"an item with ref {spec.ref!r} exists; update it")
        me = await _me(session, ctx)
        result = await save_item(session, spec, actor=Actor.of(me), clock=ctx.deps.clock)
        item_id = result.item.id
    async with ctx.deps.sessions() as session:
        item = await _load_item(session, ctx, item_id)
        today, cal = await _today_and_calendar(session, ctx)
        return json_ok(item_json(item, today, cal, ctx), status=201)


async def update_item(ctx: ApiContext) -> web.StreamResponse:
    """Change some fields of an item (the others keep their values)."""
    body = await read_json(ctx.request)
    item_id = ctx.match_id("item_id")
    async with ctx.deps.sessions() as session, session.begin():
        item = await _load_item(session, ctx, item_id)
        base = _current_spec(item)
        if base is None:
            raise ValidationFailed(f"item {item.ref} has no live lead unit; it cannot be changed")
        spec = _item_spec(body, base)
        me = await _me(session, ctx)
        await save_item(session, spec, actor=Actor.of(me), clock=ctx.deps.clock)
    async with ctx.deps.sessions() as session:
        item = await _load_item(session, ctx, item_id)
        today, cal = await _today_and_calendar(session, ctx)
        return json_ok(item_json(item, today, cal, ctx))


# --- assignments ----------------------------------------------------------------------------


async def list_assignments(ctx: ApiContext) -> web.StreamResponse:
    """Assignments of the items the caller may see."""
    r = ctx.request
    page = paging(r)
    item_id = query_int(r, "item_id")
    unit_id = query_int(r, "unit_id")
    state = query_choice(r, "state", [s.value for s in ItemState])
    role = query_choice(r, "role", [s.value for s in AssignmentRole])
    async with ctx.deps.sessions() as session:
        today, cal = await _today_and_calendar(session, ctx)
        query = select(Assignment).where(Assignment.item_id.in_(_visible_items(ctx)))
        if item_id is not None:
            query = query.where(Assignment.item_id == item_id)
        if unit_id is not None:
            query = query.where(Assignment.unit_id == unit_id)
        if state is not None:
            query = query.where(Assignment.state == state)
        if role is not None:
            query = query.where(Assignment.role == role)
        query = query.order_by(Assignment.due_on, Assignment.id).options(
            selectinload(Assignment.unit), selectinload(Assignment.item)
        )
        rows, total = await _paged(session, query, page)
        return page.answer(
            [assignment_json(a, a.item.received_on, today, cal, ctx) for a in rows], total
        )


async def get_assignment(ctx: ApiContext) -> web.StreamResponse:
    """One assignment."""
    async with ctx.deps.sessions() as session:
        a = await _load_assignment(session, ctx, ctx.match_id("assignment_id"))
        today, cal = await _today_and_calendar(session, ctx)
        return json_ok(assignment_json(a, a.item.received_on, today, cal, ctx))


# --- reports --------------------------------------------------------------------------------


async def list_reports(ctx: ApiContext) -> web.StreamResponse:
    """Reports filed on one assignment, oldest first."""
    page = paging(ctx.request)
    async with ctx.deps.sessions() as session:
        a = await _load_assignment(session, ctx, ctx.match_id("assignment_id"))
        query = select(Report).where(Report.assignment_id == a.id).order_by(Report.number)
        rows, total = await _paged(session, query, page)
        return page.answer([report_json(x) for x in rows], total)


async def create_report(ctx: ApiContext) -> web.StreamResponse:
    """File a progress report (the assignment's owner or its unit's liaison)."""
    fields = Fields(await read_json(ctx.request), ("text",))
    text = fields.text("text", required=True)
    fields.check()
    async with ctx.deps.sessions() as session, session.begin():
        a = await _load_assignment(session, ctx, ctx.match_id("assignment_id"))
        me = await _me(session, ctx)
        report = await file_report(
            session, assignment=a, author=me, text=text, clock=ctx.deps.clock, channel="api"
        )
        body = report_json(report)
    return json_ok(body, status=201)


# --- extensions -----------------------------------------------------------------------------


async def list_extensions(ctx: ApiContext) -> web.StreamResponse:
    """Extension requests on the items the caller may see, newest first."""
    r = ctx.request
    page = paging(r)
    state = query_choice(r, "state", [s.value for s in ReviewState])
    assignment_id = query_int(r, "assignment_id")
    unit_id = query_int(r, "unit_id")
    async with ctx.deps.sessions() as session:
        query = (
            select(Extension)
            .join(Assignment, Assignment.id == Extension.assignment_id)
            .where(Assignment.item_id.in_(_visible_items(ctx)))
        )
        if state is not None:
            query = query.where(Extension.state == state)
        if assignment_id is not None:
            query = query.where(Extension.assignment_id == assignment_id)
        if unit_id is not None:
            query = query.where(Assignment.unit_id == unit_id)
        query = query.order_by(Extension.created_at.desc(), Extension.id.desc())
        rows, total = await _paged(session, query, page)
        return page.answer([extension_json(x) for x in rows], total)


async def get_extension(ctx: ApiContext) -> web.StreamResponse:
    """One extension request."""
    async with ctx.deps.sessions() as session:
        x = await _load_extension(session, ctx, ctx.match_id("extension_id"))
        return json_ok(extension_json(x))


async def create_extension(ctx: ApiContext) -> web.StreamResponse:
    """Ask for a later deadline on an assignment (its owner or its unit's liaison)."""
    fields = Fields(await read_json(ctx.request), ("reason", "progress", "new_due_on"))
    reason = fields.text("reason", required=True, max_len=4000)
    progress = fields.text("progress", required=True, max_len=4000)
    new_due_on = fields.day("new_due_on", required=True)
    fields.check()
    assert reason is not None and progress is not None and new_due_on is not None
    async with ctx.deps.sessions() as session, session.begin():
        a = await _load_assignment(session, ctx, ctx.match_id("assignment_id"))
        me = await _me(session, ctx)
        x = await request_extension(
            session,
            assignment=a,
            person=me,
            reason=reason,
            progress=progress,
            new_due_on=new_due_on,
            clock=ctx.deps.clock,
            tz=ctx.deps.config.tz,
            channel="api",
        )
        body = extension_json(x)
    return json_ok(body, status=201)


async def decide(ctx: ApiContext) -> web.StreamResponse:
    """Approve or reject a pending extension request (supervisors and admins)."""
    fields = Fields(await read_json(ctx.request), ("approve", "comment"))
    approve = fields.boolean("approve", required=True)
    comment = fields.text("comment", max_len=2000)
    fields.check()
    assert approve is not None
    async with ctx.deps.sessions() as session, session.begin():
        x = await _load_extension(session, ctx, ctx.match_id("extension_id"))
        me = await _me(session, ctx)
        x = await decide_extension(
            session,
            extension=x,
            reviewer=me,
            approve=approve,
            comment=comment,
            clock=ctx.deps.clock,
        )
        body = extension_json(x)
    return json_ok(body)


# --- people and units -----------------------------------------------------------------------


async def list_people(ctx: ApiContext) -> web.StreamResponse:
    """People (a liaison sees those of their units)."""
    r = ctx.request
    page = paging(r)
    role = query_choice(r, "role", [x.value for x in Role])
    unit_id = query_int(r, "unit_id")
    active = query_bool(r, "active")
    async with ctx.deps.sessions() as session:
        query = ctx.principal.scope.filter_people(select(Person))
        if role is not None:
            query = query.where(
                Person.id.in_(select(PersonRole.person_id).where(PersonRole.role == role))
            )
        if unit_id is not None:
            query = query.where(Person.unit_id == unit_id)
        if active is not None:
            query = query.where(Person.active.is_(active))
        rows, total = await _paged(session, query.order_by(Person.id), page)
        return page.answer([person_json(p) for p in rows], total)


async def get_person(ctx: ApiContext) -> web.StreamResponse:
    """One person."""
    person_id = ctx.match_id("person_id")
    async with ctx.deps.sessions() as session:
        p = await session.get(Person, person_id)
        if p is None or not ctx.principal.scope.sees_unit(p.unit_id):
            raise NotFound(f"no person #{person_id}")
        return json_ok(person_json(p))


async def list_units(ctx: ApiContext) -> web.StreamResponse:
    """Units in the caller's scope (a liaison: their unit and below), by code."""
    r = ctx.request
    page = paging(r)
    active = query_bool(r, "active")
    parent_id = query_int(r, "parent_id")
    async with ctx.deps.sessions() as session:
        query = ctx.principal.scope.filter_units(select(Unit))
        if active is not None:
            query = query.where(Unit.active.is_(active))
        if parent_id is not None:
            query = query.where(Unit.parent_id == parent_id)
        rows, total = await _paged(session, query.order_by(Unit.code, Unit.id), page)
        return page.answer([unit_json(u) for u in rows], total)


async def get_unit(ctx: ApiContext) -> web.StreamResponse:
    """One unit."""
    unit_id = ctx.match_id("unit_id")
    async with ctx.deps.sessions() as session:
        u = await session.get(Unit, unit_id)
        if u is None or not ctx.principal.scope.sees_unit(u.id):
            raise NotFound(f"no unit #{unit_id}")
        return json_ok(unit_json(u))


async def create_unit(ctx: ApiContext) -> web.StreamResponse:
    """Create a unit (admins)."""
    fields = Fields(await read_json(ctx.request), ("code", "name", "parent_id", "active"))
    code = fields.text("code", required=True, max_len=64)
    name = fields.text("name", required=True, max_len=200)
    parent_id = fields.integer("parent_id")
    active = fields.boolean("active")
    fields.check()
    assert code is not None and name is not None
    async with ctx.deps.sessions() as session, session.begin():
        unit = await save_unit(
            session,
            unit_id=None,
            spec=UnitSpec(code, name, parent_id, True if active is None else active),
            actor=Actor.of(await _me(session, ctx)),
            clock=ctx.deps.clock,
        )
        body = unit_json(unit)
    return json_ok(body, status=201)


async def update_unit(ctx: ApiContext) -> web.StreamResponse:
    """Change a unit's code, name, parent or active flag (admins)."""
    body = await read_json(ctx.request)
    fields = Fields(body, ("code", "name", "parent_id", "active"))
    code = fields.text("code", required="code" in body, max_len=64)
    name = fields.text("name", required="name" in body, max_len=200)
    parent_id = fields.integer("parent_id")
    active = fields.boolean("active")
    if not body:
        fields.problems.append("send at least one field to change")
    fields.check()
    unit_id = ctx.match_id("unit_id")
    async with ctx.deps.sessions() as session, session.begin():
        unit = await session.get(Unit, unit_id)
        if unit is None:
            raise NotFound(f"no unit #{unit_id}")
        spec = UnitSpec(
            code if code is not None else unit.code,
            name if name is not None else unit.name,
            parent_id if fields.has("parent_id") else unit.parent_id,
            active if active is not None else unit.active,
        )
        await save_unit(
            session,
            unit_id=unit.id,
            spec=spec,
            actor=Actor.of(await _me(session, ctx)),
            clock=ctx.deps.clock,
        )
        after = unit_json(unit)
    return json_ok(after)


# --- bulletins ------------------------------------------------------------------------------


async def list_bulletins(ctx: ApiContext) -> web.StreamResponse:
    """Stored bulletins, newest first."""
    page = paging(ctx.request)
    async with ctx.deps.sessions() as session:
        query = select(Bulletin).order_by(Bulletin.created_at.desc(), Bulletin.id.desc())
        rows, total = await _paged(session, query, page)
        return page.answer([bulletin_json(b) for b in rows], total)


async def get_bulletin_route(ctx: ApiContext) -> web.StreamResponse:
    """One stored bulletin."""
    async with ctx.deps.sessions() as session:
        b = await get_bulletin(session, ctx.match_id("bulletin_id"))
        return json_ok(bulletin_json(b))


async def preview_bulletin(ctx: ApiContext) -> web.StreamResponse:
    """The figures of a period as they stand now (nothing is stored)."""
    raw = ctx.request.query.get("period")
    if not raw:
        raise ValidationFailed("period: required (2026-11, 2026-W47 or 2026-Q4)")
    period = parse_period(raw)
    async with ctx.deps.sessions() as session:
        today, cal = await _today_and_calendar(session, ctx)
        data = await compute_bulletin(
            session, period, today=today, calendar=cal, tz=ctx.deps.config.tz
        )
        return json_ok(data.as_json())


# --- tokens ---------------------------------------------------------------------------------


async def list_tokens(ctx: ApiContext) -> web.StreamResponse:
    """API tokens (metadata only), newest first."""
    page = paging(ctx.request)
    person_id = query_int(ctx.request, "person_id")
    async with ctx.deps.sessions() as session:
        query = select(ApiToken)
        if person_id is not None:
            query = query.where(ApiToken.person_id == person_id)
        query = query.order_by(ApiToken.id.desc())
        rows, total = await _paged(session, query, page)
        return page.answer([token_json(t) for t in rows], total)


async def create_token_route(ctx: ApiContext) -> web.StreamResponse:
    """Create a token for a person; its value is in this answer only."""
    fields = Fields(await read_json(ctx.request), ("person_id", "name", "valid_days"))
    person_id = fields.integer("person_id", required=True)
    name = fields.text("name", required=True, max_len=100)
    valid_days = fields.integer("valid_days")
    fields.check()
    assert person_id is not None and name is not None
    async with ctx.deps.sessions() as session, session.begin():
        person = await session.get(Person, person_id)
        if person is None:
            raise NotFound(f"no person #{person_id}")
        me = await _me(session, ctx)
        created = await create_token(
            session,
            person=person,
            name=name,
            actor=Actor.of(me),
            clock=ctx.deps.clock,
            valid_days=valid_days,
        )
        body = {"token": token_json(created.token), "secret": created.secret}
    return json_ok(body, status=201)


async def revoke_token_route(ctx: ApiContext) -> web.StreamResponse:
    """Revoke a token."""
    async with ctx.deps.sessions() as session, session.begin():
        me = await _me(session, ctx)
        token = await revoke_token(
            session, ctx.match_id("token_id"), actor=Actor.of(me), clock=ctx.deps.clock
        )
        body = token_json(token)
    return json_ok(body)
