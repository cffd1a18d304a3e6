"""/api/v1 milestones (阶段性节点) of an item: list, add, change or complete
(`supervision.milestones`; bodies `MilestoneInput`/`MilestonePatch`, answers `MilestoneOut`).

Imports `models/`, `supervision/` and the web API plumbing only.
"""

from __future__ import annotations

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from supervision.audit import Actor
from supervision.milestones import (
    MilestoneInput,
    MilestonePatch,
    add_milestone,
    complete_milestone,
    edit_milestone,
    get_milestone,
    list_milestones,
    spec_of,
)
from supervision.validation import validate
from web.api_core import ApiContext, json_ok, paging, read_json
from web.api_lookups import current_person, office_day
from web.api_out import MilestoneOut


async def _rows(session: AsyncSession, ctx: ApiContext, item_id: int) -> list[MilestoneOut]:
    day = await office_day(session, ctx)
    rows = await list_milestones(
        session,
        scope=ctx.principal.scope,
        item_id=item_id,
        today=day.today,
        calendar=day.calendar,
    )
    return [MilestoneOut.model_validate(r) for r in rows]


async def _one(ctx: ApiContext, item_id: int, milestone_id: int, status: int) -> web.Response:
    async with ctx.deps.sessions() as session:
        [row] = [r for r in await _rows(session, ctx, item_id) if r.id == milestone_id]
    return json_ok(row, status=status)


async def list_item_milestones(ctx: ApiContext) -> web.StreamResponse:
    """An item's milestones by date, each with its light."""
    page = paging(ctx.request)
    async with ctx.deps.sessions() as session:
        rows = await _rows(session, ctx, ctx.match_id("item_id"))
    return page.answer(rows[page.offset : page.offset + page.per_page], len(rows))


async def create_milestone(ctx: ApiContext) -> web.StreamResponse:
    """Add a milestone to an open item (supervision.milestones.add_milestone)."""
    spec = validate(MilestoneInput, await read_json(ctx.request)).spec()
    item_id = ctx.match_id("item_id")
    async with ctx.deps.sessions() as session, session.begin():
        me = await current_person(session, ctx)
        milestone = await add_milestone(
            session,
            scope=ctx.principal.scope,
            actor=Actor.of(me),
            item_id=item_id,
            spec=spec,
            clock=ctx.deps.clock,
        )
        milestone_id = milestone.id
    return await _one(ctx, item_id, milestone_id, 201)


async def update_milestone(ctx: ApiContext) -> web.StreamResponse:
    """Change an open milestone's fields, and/or record it done (``done: true``)."""
    patch = validate(MilestonePatch, await read_json(ctx.request))
    item_id = ctx.match_id("item_id")
    milestone_id = ctx.match_id("milestone_id")
    scope = ctx.principal.scope
    async with ctx.deps.sessions() as session, session.begin():
        me = await current_person(session, ctx)
        actor, clock = Actor.of(me), ctx.deps.clock
        milestone = await get_milestone(
            session, scope=scope, item_id=item_id, milestone_id=milestone_id
        )
        if patch.edits:
            spec = patch.apply(spec_of(milestone))
            await edit_milestone(
                session, scope=scope, actor=actor, milestone_id=milestone_id, spec=spec, clock=clock
            )
        if patch.done:
            await complete_milestone(
                session, scope=scope, actor=actor, milestone_id=milestone_id, clock=clock
            )
    return await _one(ctx, item_id, milestone_id, 200)
