"""/api/v1 units: handlers (admins change them; answers `UnitOut`).

Imports `models/`, `supervision/` and the web API plumbing only.
"""

from __future__ import annotations

from aiohttp import web
from sqlalchemy import select

from models import (
    Unit,
)
from supervision.audit import Actor
from supervision.errors import NotFound
from supervision.units import UnitSpec, save_unit
from supervision.validation import validate
from web.api_core import (
    ApiContext,
    json_ok,
    paging,
    query_bool,
    query_int,
    read_json,
)
from web.api_lookups import (
    current_person,
    paged,
)
from web.api_models import UnitInput, UnitPatch
from web.api_out import UnitOut


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
        rows, total = await paged(session, query.order_by(Unit.code, Unit.id), page)
        return page.answer([UnitOut.model_validate(u) for u in rows], total)


async def get_unit(ctx: ApiContext) -> web.StreamResponse:
    """One unit."""
    unit_id = ctx.match_id("unit_id")
    async with ctx.deps.sessions() as session:
        u = await session.get(Unit, unit_id)
        if u is None or not ctx.principal.scope.sees_unit(u.id):
            raise NotFound(f"no unit #{unit_id}")
        return json_ok(UnitOut.model_validate(u))


async def create_unit(ctx: ApiContext) -> web.StreamResponse:
    """Create a unit (admins)."""
    new = validate(UnitInput, await read_json(ctx.request))
    async with ctx.deps.sessions() as session, session.begin():
        unit = await save_unit(
            session,
            unit_id=None,
            spec=UnitSpec(new.code, new.name, new.parent_id, new.active is not False),
            actor=Actor.of(await current_person(session, ctx)),
            clock=ctx.deps.clock,
        )
        body = UnitOut.model_validate(unit)
    return json_ok(body, status=201)


async def update_unit(ctx: ApiContext) -> web.StreamResponse:
    """Change a unit's code, name, parent or active flag (admins)."""
    patch = validate(UnitPatch, await read_json(ctx.request))
    unit_id = ctx.match_id("unit_id")
    async with ctx.deps.sessions() as session, session.begin():
        unit = await session.get(Unit, unit_id)
        if unit is None:
            raise NotFound(f"no unit #{unit_id}")
        spec = UnitSpec(
            patch.code if patch.code is not None else unit.code,
            patch.name if patch.name is not None else unit.name,
            patch.parent_id if "parent_id" in patch.model_fields_set else unit.parent_id,
            patch.active if patch.active is not None else unit.active,
        )
        await save_unit(
            session,
            unit_id=unit.id,
            spec=spec,
            actor=Actor.of(await current_person(session, ctx)),
            clock=ctx.deps.clock,
        )
        after = UnitOut.model_validate(unit)
    return json_ok(after)
