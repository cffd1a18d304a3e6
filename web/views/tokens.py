"""API tokens page (admins): list, create (the value is shown once, on that answer only), revoke.

Imports `web.api_tokens`, `web.auth` and `web.views.common`; the token value is never logged,
stored or put in a URL.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aiohttp import web
from sqlalchemy import select

from models import ApiToken, Person
from supervision.access import Permission
from supervision.audit import Actor
from supervision.errors import DomainError
from web.access import require
from web.api_tokens import create_token, revoke_token
from web.app import DEPS, WebDeps
from web.views.common import int_or_none, page_strings, path_id, render, text_field


async def _page(
    request: web.Request,
    *,
    errors: Sequence[str] = (),
    secret: str | None = None,
    status: int = 200,
) -> web.Response:
    deps: WebDeps = request.app[DEPS]
    async with deps.sessions() as session:
        rows = (
            await session.execute(
                select(ApiToken, Person)
                .join(Person, Person.id == ApiToken.person_id)
                .order_by(ApiToken.id.desc())
            )
        ).all()
        people = (
            await session.scalars(select(Person).where(Person.active).order_by(Person.name))
        ).all()
    context: dict[str, Any] = {
        "s": page_strings(request, "token."),
        "rows": rows,
        "people": people,
        "secret": secret,
        "errors": list(errors),
        "now": deps.clock.now(),
    }
    return render(request, "tokens.html", context, status=status)


async def tokens_page(request: web.Request) -> web.StreamResponse:
    """GET /api-tokens."""
    require(request, Permission.MANAGE_TOKENS)
    return await _page(request)


async def tokens_create(request: web.Request) -> web.StreamResponse:
    """POST /api-tokens: create a token and show its value on this answer only."""
    me = require(request, Permission.MANAGE_TOKENS)
    deps: WebDeps = request.app[DEPS]
    form = await request.post()
    person_id = int_or_none(form.get("person_id"))
    name = text_field(form, "name", 200)
    days_text = text_field(form, "valid_days", 10)
    valid_days = int_or_none(days_text) if days_text else None
    s = page_strings(request, "token.")
    if days_text and valid_days is None:
        return await _page(request, errors=[s("bad_days")], status=400)
    try:
        async with deps.sessions() as session, session.begin():
            person = await session.get(Person, person_id) if person_id else None
            if person is None:
                return await _page(request, errors=[s("choose_person")], status=400)
            actor = Actor.of(await session.get_one(Person, me.person_id))
            created = await create_token(
                session,
                person=person,
                name=name,
                actor=actor,
                clock=deps.clock,
                valid_days=valid_days,
            )
    except DomainError as exc:
        return await _page(request, errors=[str(exc)], status=400)
    return await _page(request, secret=created.secret)


async def tokens_revoke(request: web.Request) -> web.StreamResponse:
    """POST /api-tokens/{id}/revoke."""
    me = require(request, Permission.MANAGE_TOKENS)
    deps: WebDeps = request.app[DEPS]
    token_id = path_id(request)
    try:
        async with deps.sessions() as session, session.begin():
            actor = Actor.of(await session.get_one(Person, me.person_id))
            await revoke_token(session, token_id, actor=actor, clock=deps.clock)
    except DomainError as exc:
        return await _page(request, errors=[str(exc)], status=400)
    raise web.HTTPSeeOther("/api-tokens")


def setup_token_pages(app: web.Application) -> None:
    """An `AppPart` adding the API tokens page after the admin part."""
    if "api_tokens" in app.router.named_resources():
        return
    app.router.add_get("/api-tokens", tokens_page, name="api_tokens")
    app.router.add_post("/api-tokens", tokens_create)
    app.router.add_post(r"/api-tokens/{id:\d+}/revoke", tokens_revoke)
