"""/api/v1 tokens: list, create (value shown once), revoke.

Imports `models/`, `supervision/` and the web API plumbing only.
"""

from __future__ import annotations

from aiohttp import web
from sqlalchemy import select

from models import (
    ApiToken,
    Person,
)
from supervision.audit import Actor
from supervision.errors import NotFound
from supervision.validation import validate
from web.api_core import (
    ApiContext,
    json_ok,
    paging,
    query_int,
    read_json,
)
from web.api_lookups import (
    current_person,
    paged,
)
from web.api_models import TokenInput
from web.api_out import TokenCreatedOut, TokenOut
from web.api_tokens import create_token, revoke_token


async def list_tokens(ctx: ApiContext) -> web.StreamResponse:
    """API tokens (metadata only), newest first."""
    page = paging(ctx.request)
    person_id = query_int(ctx.request, "person_id")
    async with ctx.deps.sessions() as session:
        query = select(ApiToken)
        if person_id is not None:
            query = query.where(ApiToken.person_id == person_id)
        query = query.order_by(ApiToken.id.desc())
        rows, total = await paged(session, query, page)
        return page.answer([TokenOut.model_validate(t) for t in rows], total)


async def create_token_route(ctx: ApiContext) -> web.StreamResponse:
    """Create a token for a person; its value is in this answer only."""
    new = validate(TokenInput, await read_json(ctx.request))
    person_id = new.person_id
    async with ctx.deps.sessions() as session, session.begin():
        person = await session.get(Person, person_id)
        if person is None:
            raise NotFound(f"no person #{person_id}")
        me = await current_person(session, ctx)
        created = await create_token(
            session,
            person=person,
            name=new.name,
            actor=Actor.of(me),
            clock=ctx.deps.clock,
            valid_days=new.valid_days,
        )
        body = TokenCreatedOut.model_validate(created)
    return json_ok(body, status=201)


async def revoke_token_route(ctx: ApiContext) -> web.StreamResponse:
    """Revoke a token."""
    async with ctx.deps.sessions() as session, session.begin():
        me = await current_person(session, ctx)
        token = await revoke_token(
            session, ctx.match_id("token_id"), actor=Actor.of(me), clock=ctx.deps.clock
        )
        body = TokenOut.model_validate(token)
    return json_ok(body)
