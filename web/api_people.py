"""/api/v1 people and the caller (`/me`): handlers (answers `PersonOut`, `MeOut`).

Imports `models/`, `supervision/` and the web API plumbing only.
"""

from __future__ import annotations

from aiohttp import web
from sqlalchemy import select

from models import (
    Person,
    PersonRole,
    Role,
)
from supervision.channel_prefs import set_prefs
from supervision.errors import NotFound
from supervision.roster import person_search
from supervision.validation import validate
from web.api_core import (
    ApiContext,
    json_ok,
    paging,
    query_bool,
    query_choice,
    query_int,
    read_json,
)
from web.api_lookups import (
    current_person,
    paged,
)
from web.api_models import ChannelsInput
from web.api_out import MeOut, PersonOut


async def get_me(ctx: ApiContext) -> web.StreamResponse:
    """Who the token acts for, with their access level."""
    async with ctx.deps.sessions() as session:
        me = await current_person(session, ctx)
        units = ctx.principal.scope.unit_ids
        return json_ok(
            MeOut(
                person=PersonOut.model_validate(me),
                access=ctx.principal.tier,
                unit_ids=sorted(units) if units is not None else None,
            )
        )


async def list_people(ctx: ApiContext) -> web.StreamResponse:
    """People (a liaison sees those of their units)."""
    r = ctx.request
    page = paging(r)
    role = query_choice(r, "role", [x.value for x in Role])
    unit_id = query_int(r, "unit_id")
    active = query_bool(r, "active")
    text = r.query.get("q", "").strip()[:100]
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
        if text:
            query = query.where(person_search(text))
        rows, total = await paged(session, query.order_by(Person.id), page)
        return page.answer([PersonOut.model_validate(p) for p in rows], total)


async def get_person(ctx: ApiContext) -> web.StreamResponse:
    """One person."""
    person_id = ctx.match_id("person_id")
    async with ctx.deps.sessions() as session:
        p = await session.get(Person, person_id)
        if p is None or not ctx.principal.scope.sees_unit(p.unit_id):
            raise NotFound(f"no person #{person_id}")
        return json_ok(PersonOut.model_validate(p))


async def set_channels(ctx: ApiContext) -> web.StreamResponse:
    """Set a person's channel preference: one's own, or anyone's as an admin."""
    body = validate(ChannelsInput, await read_json(ctx.request))
    person_id = ctx.match_id("person_id")
    async with ctx.deps.sessions() as session, session.begin():
        me = await current_person(session, ctx)
        target = await session.get(Person, person_id)
        if target is None or not (
            me.id == person_id or ctx.principal.scope.sees_unit(target.unit_id)
        ):
            raise NotFound(f"no person #{person_id}")
        person = await set_prefs(
            session,
            person_id=person_id,
            channels=[c.value for c in body.channels],
            actor=me,
            clock=ctx.deps.clock,
        )
        after = PersonOut.model_validate(person)
    return json_ok(after)
