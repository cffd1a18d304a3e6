"""/api/v1 units: serialiser and handlers (admins change them).

Imports `models/`, `supervision/` and the web API plumbing only.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from sqlalchemy import select

from models import (
    Unit,
)
from supervision.audit import Actor
from supervision.errors import NotFound
from supervision.units import UnitSpec, save_unit
from web.api_core import (
    ApiContext,
    Fields,
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


def unit_json(u: Unit) -> dict[str, Any]:
    """A unit."""
    return {
        "id": u.id,
        "code": u.code,
        "name": u.name,
        "parent_id": u.parent_id,
        "active": u.active,
    }


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
            actor=Actor.of(await current_person(session, ctx)),
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
            actor=Actor.of(await current_person(session, ctx)),
            clock=ctx.deps.clock,
        )
        after = unit_json(unit)
    return json_ok(after)
