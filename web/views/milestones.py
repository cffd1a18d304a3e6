"""The milestones (阶段性节点) on an item's page: add, edit and complete them (the office's
work, CSRF-checked by the admin app, scope-checked by `supervision.milestones`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from models import Person
from supervision.access import Permission
from supervision.audit import Actor
from supervision.errors import DomainError, NotFound
from supervision.milestones import (
    MilestoneInput,
    add_milestone,
    complete_milestone,
    edit_milestone,
    get_milestone,
)
from supervision.validation import validate
from web.access import require
from web.app import DEPS, WebDeps
from web.auth import Principal
from web.views.common import path_id, redirect, refused, text_field
from web.views.items import detail_page

#: One change on a milestone page: (session, the person, their actor, the posted form).
Change = Callable[[AsyncSession, Principal, Actor, Any], Awaitable[object]]


def _input(form: Any) -> MilestoneInput:
    """The posted fields checked by `MilestoneInput` (an empty choice is none)."""
    body: dict[str, Any] = {"name": text_field(form, "name", 500)}
    body["due_on"] = text_field(form, "due_on") or None
    for name in ("unit_id", "owner_id", "leader_id"):
        raw = text_field(form, name)
        body[name] = int(raw) if raw.isdigit() else (raw or None)
    return validate(MilestoneInput, body)


async def _change(request: web.Request, change: Change) -> web.StreamResponse:
    """Run ``change`` in one transaction; its broken rule shows on the item page."""
    me = require(request, Permission.EDIT_ITEMS)
    deps: WebDeps = request.app[DEPS]
    item_id = path_id(request)
    form = await request.post()
    try:
        async with deps.sessions() as session, session.begin():
            actor = Actor.of(await session.get_one(Person, me.person_id))
            await change(session, me, actor, form)
    except NotFound as exc:
        raise web.HTTPNotFound(text=f"404: {exc}") from None
    except DomainError as exc:
        return await detail_page(request, item_id, errors=refused(request, exc), status=400)
    raise redirect(f"/items/{item_id}?msg=flash.saved#milestones")


async def milestone_add(request: web.Request) -> web.StreamResponse:
    """POST /items/{id}/milestones: add a milestone."""
    item_id = path_id(request)

    async def change(session: AsyncSession, me: Principal, actor: Actor, form: Any) -> object:
        return await add_milestone(
            session,
            scope=me.scope,
            actor=actor,
            item_id=item_id,
            spec=_input(form).spec(),
            clock=request.app[DEPS].clock,
        )

    return await _change(request, change)


async def milestone_edit(request: web.Request) -> web.StreamResponse:
    """POST /items/{id}/milestones/{mid}/edit: change an open milestone."""
    item_id, milestone_id = path_id(request), int(request.match_info["mid"])

    async def change(session: AsyncSession, me: Principal, actor: Actor, form: Any) -> object:
        await get_milestone(session, scope=me.scope, item_id=item_id, milestone_id=milestone_id)
        return await edit_milestone(
            session,
            scope=me.scope,
            actor=actor,
            milestone_id=milestone_id,
            spec=_input(form).spec(),
            clock=request.app[DEPS].clock,
        )

    return await _change(request, change)


async def milestone_done(request: web.Request) -> web.StreamResponse:
    """POST /items/{id}/milestones/{mid}/done: record an open milestone done now."""
    item_id, milestone_id = path_id(request), int(request.match_info["mid"])

    async def change(session: AsyncSession, me: Principal, actor: Actor, form: Any) -> object:
        await get_milestone(session, scope=me.scope, item_id=item_id, milestone_id=milestone_id)
        return await complete_milestone(
            session,
            scope=me.scope,
            actor=actor,
            milestone_id=milestone_id,
            clock=request.app[DEPS].clock,
        )

    return await _change(request, change)


def routes(app: web.Application) -> None:
    """Register the milestone actions of the item page."""
    app.router.add_post("/items/{id:\\d+}/milestones", milestone_add, name="milestone_add")
    app.router.add_post(
        "/items/{id:\\d+}/milestones/{mid:\\d+}/edit", milestone_edit, name="milestone_edit"
    )
    app.router.add_post(
        "/items/{id:\\d+}/milestones/{mid:\\d+}/done", milestone_done, name="milestone_done"
    )
