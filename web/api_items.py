"""/api/v1 items: handlers (bodies parsed by `supervision.item_schema`, answers `ItemOut`).

Imports `models/`, `supervision/` and the web API plumbing only.
"""

from __future__ import annotations

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from models import (
    ACTIVE_STATES,
    Assignment,
    AssignmentRole,
    Item,
    ItemState,
    Source,
)
from supervision.audit import Actor
from supervision.errors import ValidationFailed
from supervision.history import history
from supervision.item_schema import ItemInput, ItemPatch
from supervision.items import AssigneeSpec, ItemSpec, due_in_force_column, save_item
from supervision.labels import LANGS
from supervision.rework import reopen_item
from supervision.search import ItemSearch
from supervision.timeline import item_timeline
from supervision.validation import validate
from web.api_core import (
    ApiContext,
    ApiError,
    json_ok,
    paging,
    query_bool,
    query_choice,
    query_date,
    query_int,
    read_json,
)
from web.api_lookups import (
    Keyset,
    current_person,
    keyset_paged,
    load_item,
    office_day,
)
from web.api_models import ReopenInput
from web.api_out import HistoryLineOut, ItemOut, TimelineEntryOut


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
        day = await office_day(session, ctx)
        due = due_in_force_column()
        query = ctx.principal.scope.filter_items(select(Item))
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
            query = query.where(due >= due_from)
        if due_to is not None:
            query = query.where(due <= due_to)
        if overdue is not None:
            late = select(Assignment.item_id).where(
                Assignment.state.in_(ACTIVE_STATES),
                Assignment.due_on < day.today,
            )
            query = query.where(Item.id.in_(late) if overdue else Item.id.not_in(late))
        if text:
            query = query.where((await ItemSearch.find(session, text)).condition())
        query = query.options(
            selectinload(Item.assignments).selectinload(Assignment.unit),
            selectinload(Item.milestones),
        )
        # the items list's order (deadline in force, 文号), ix_items_due_in_force's
        order = Keyset((due, Item.ref, Item.id))
        items, total, next_id = await keyset_paged(session, query, page, order)
        return page.answer([ItemOut.of(i, day) for i in items], total, keyset=True, next_id=next_id)


async def get_item(ctx: ApiContext) -> web.StreamResponse:
    """One item with its assignments."""
    async with ctx.deps.sessions() as session:
        item = await load_item(session, ctx, ctx.match_id("item_id"))
        return json_ok(ItemOut.of(item, await office_day(session, ctx)))


async def get_timeline(ctx: ApiContext) -> web.StreamResponse:
    """An item's history (办理过程), oldest first (`supervision.timeline`)."""
    page = paging(ctx.request)
    item_id = ctx.match_id("item_id")
    async with ctx.deps.sessions() as session:
        entries = await item_timeline(session, scope=ctx.principal.scope, item_id=item_id)
    shown = entries[page.offset : page.offset + page.per_page]
    return page.answer([TimelineEntryOut.model_validate(e) for e in shown], len(entries))


async def get_history(ctx: ApiContext) -> web.StreamResponse:
    """An item's history told in words (`supervision.history`), oldest first, in ``lang`` or
    the caller's language."""
    page = paging(ctx.request)
    lang = query_choice(ctx.request, "lang", list(LANGS)) or ctx.principal.locale
    item_id = ctx.match_id("item_id")
    async with ctx.deps.sessions() as session:
        entries = await item_timeline(session, scope=ctx.principal.scope, item_id=item_id)
    lines = history(entries, lang)
    shown = lines[page.offset : page.offset + page.per_page]
    return page.answer([HistoryLineOut.model_validate(line) for line in shown], len(lines))


def _current_spec(item: Item) -> ItemSpec | None:
    """The spec that reproduces an item as it stands (None when it has no live lead unit)."""
    live = [a for a in item.assignments if a.state != ItemState.CANCELLED]
    lead = next((a for a in live if a.role == AssignmentRole.LEAD), None)
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
            if a.role == AssignmentRole.CO
        ),
    )


async def create_item(ctx: ApiContext) -> web.StreamResponse:
    """Create an item with its lead and co units (supervision.items.save_item)."""
    spec = validate(ItemInput, await read_json(ctx.request)).spec()
    async with ctx.deps.sessions() as session, session.begin():
        if await session.scalar(select(Item.id).where(Item.ref == spec.ref)) is not None:
            raise ApiError(409, "conflict", f"an item with ref {spec.ref!r} exists; update it")
        me = await current_person(session, ctx)
        result = await save_item(session, spec, actor=Actor.of(me), clock=ctx.deps.clock)
        item_id = result.item.id
    async with ctx.deps.sessions() as session:
        item = await load_item(session, ctx, item_id)
        return json_ok(ItemOut.of(item, await office_day(session, ctx)), status=201)


async def update_item(ctx: ApiContext) -> web.StreamResponse:
    """Change some fields of an item (the others keep their values)."""
    patch = validate(ItemPatch, await read_json(ctx.request))
    item_id = ctx.match_id("item_id")
    async with ctx.deps.sessions() as session, session.begin():
        item = await load_item(session, ctx, item_id)
        base = _current_spec(item)
        if base is None:
            raise ValidationFailed(f"item {item.ref} has no live lead unit; it cannot be changed")
        spec = patch.apply(base)
        me = await current_person(session, ctx)
        await save_item(session, spec, actor=Actor.of(me), clock=ctx.deps.clock)
    async with ctx.deps.sessions() as session:
        item = await load_item(session, ctx, item_id)
        return json_ok(ItemOut.of(item, await office_day(session, ctx)))


async def reopen(ctx: ApiContext) -> web.StreamResponse:
    """退回重办: send a closed item back with a reason and a new deadline."""
    body = validate(ReopenInput, await read_json(ctx.request))
    item_id = ctx.match_id("item_id")
    async with ctx.deps.sessions() as session, session.begin():
        item = await load_item(session, ctx, item_id)
        me = await current_person(session, ctx)
        await reopen_item(
            session,
            item,
            reason=body.reason,
            due_on=body.due_on,
            actor=Actor.of(me),
            clock=ctx.deps.clock,
            tz=ctx.deps.config.tz,
        )
    async with ctx.deps.sessions() as session:
        item = await load_item(session, ctx, item_id)
        return json_ok(ItemOut.of(item, await office_day(session, ctx)))
