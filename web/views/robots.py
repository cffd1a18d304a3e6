"""Group robots (群机器人): list, set up, change, send a test message, remove. Admins only.

The rules are `supervision.robots`'; the test message is `notifier.robot_probe.send_test`
(the robot's real channel). A robot's URL and signing secret are never put in a page: the
form shows them masked and keeps them unless new ones are typed.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from sqlalchemy import select

from models import GroupWebhook, Person, Unit
from notifier.robot_probe import send_test
from supervision.access import Permission
from supervision.audit import Actor
from supervision.errors import DomainError, NotFound
from supervision.labels import Sentence, say
from supervision.robots import (
    KINDS,
    LEADERSHIP,
    NAME_LIMIT,
    ROBOT_STEPS,
    SECRET_LIMIT,
    SECRET_MASK,
    URL_LIMIT,
    RobotSpec,
    get_robot,
    list_robots,
    remove_robot,
    save_robot,
    shown_url,
    steps_of,
)
from supervision.sealing import Sealer
from web.access import require
from web.app import DEPS, WebDeps
from web.views.common import int_or_none, lang_of, path_id, redirect, refused, render, text_field


async def _units(deps: WebDeps) -> list[Unit]:
    async with deps.sessions() as session:
        return list((await session.scalars(select(Unit).order_by(Unit.code))).all())


def _row(hook: GroupWebhook) -> dict[str, Any]:
    """What a page may show of a robot: never its URL or secret."""
    return {
        "id": hook.id,
        "name": hook.name,
        "kind": str(hook.kind),
        "unit_id": hook.unit_id,
        "leadership": hook.unit_id is None,
        "url": shown_url(hook),
        "secret": SECRET_MASK if hook.secret else "",
        "steps": [s.value for s in steps_of(hook)],
        "active": hook.active,
    }


async def robots_list(
    request: web.Request,
    *,
    outcome: dict[str, Any] | None = None,
    errors: list[str] | None = None,
    status: int = 200,
) -> web.Response:
    """GET /robots: every robot, masked, with its test and remove buttons."""
    require(request, Permission.MANAGE_ROBOTS)
    deps: WebDeps = request.app[DEPS]
    async with deps.sessions() as session:
        robots = [_row(h) for h in await list_robots(session)]
    units = {u.id: u for u in await _units(deps)}
    context = {"robots": robots, "units": units, "outcome": outcome, "errors": errors or []}
    return render(request, "robots/list.html", context, status=status)


async def _list(request: web.Request) -> web.StreamResponse:
    return await robots_list(request)


async def _form(
    request: web.Request,
    robot_id: int | None,
    raw: dict[str, Any],
    *,
    errors: list[str] | None = None,
    status: int = 200,
) -> web.Response:
    deps: WebDeps = request.app[DEPS]
    return render(
        request,
        "robots/form.html",
        {
            "robot_id": robot_id,
            "raw": raw,
            "units": await _units(deps),
            "kinds": [k.value for k in KINDS],
            "all_steps": [s.value for s in ROBOT_STEPS],
            "leadership": LEADERSHIP,
            "errors": errors or [],
            "limits": {"name": NAME_LIMIT, "url": URL_LIMIT, "secret": SECRET_LIMIT},
        },
        status=status,
    )


def _blank() -> dict[str, Any]:
    return {
        "name": "", "kind": "wecom", "owner": "", "stored_url": "", "stored_secret": "",
        "steps": [s.value for s in ROBOT_STEPS], "active": True,
    }  # fmt: skip


def _raw_of(hook: GroupWebhook) -> dict[str, Any]:
    row = _row(hook)
    return {
        "name": hook.name,
        "kind": row["kind"],
        "owner": LEADERSHIP if hook.unit_id is None else str(hook.unit_id),
        "stored_url": row["url"],
        "stored_secret": row["secret"],
        "steps": row["steps"],
        "active": hook.active,
    }


async def robot_new(request: web.Request) -> web.StreamResponse:
    """GET /robots/new: the set-up form."""
    require(request, Permission.MANAGE_ROBOTS)
    return await _form(request, None, _blank())


async def robot_edit(request: web.Request) -> web.StreamResponse:
    """GET /robots/{id}: the form, the URL and secret masked."""
    require(request, Permission.MANAGE_ROBOTS)
    deps: WebDeps = request.app[DEPS]
    try:
        async with deps.sessions() as session:
            raw = _raw_of(await get_robot(session, path_id(request)))
    except NotFound as exc:
        raise web.HTTPNotFound(text="404: no such robot") from exc
    return await _form(request, path_id(request), raw)


async def _save(request: web.Request, robot_id: int | None) -> web.StreamResponse:
    me = require(request, Permission.MANAGE_ROBOTS)
    deps: WebDeps = request.app[DEPS]
    form = await request.post()
    owner = text_field(form, "owner")
    steps = [s for s in form.getall("steps", []) if isinstance(s, str)]
    spec = RobotSpec(
        name=text_field(form, "name", NAME_LIMIT + 1),
        kind=text_field(form, "kind"),
        unit_id=int_or_none(owner),
        leadership=owner == LEADERSHIP,
        url=text_field(form, "url", URL_LIMIT + 1) or None,
        secret=text_field(form, "secret", SECRET_LIMIT + 1) or None,
        clear_secret=form.get("clear_secret") == "on",
        steps=tuple(steps),
        active=form.get("active") == "on",
    )
    try:
        async with deps.sessions() as session, session.begin():
            admin = await session.get_one(Person, me.person_id)
            hook = await save_robot(
                session,
                robot_id=robot_id,
                spec=spec,
                actor=Actor.of(admin),
                clock=deps.clock,
                sealer=Sealer(deps.config.secret_key),
                extra_hosts=deps.config.robot_hosts,
            )
            saved = hook.id
    except NotFound as exc:
        raise web.HTTPNotFound(text="404: no such robot") from exc
    except DomainError as exc:
        raw = _blank()
        if robot_id is not None:
            async with deps.sessions() as session:
                stored = await session.get(GroupWebhook, robot_id)
                raw = _raw_of(stored) if stored is not None else raw
        # what was typed comes back, but never a URL or secret
        raw.update(name=spec.name, kind=spec.kind, owner=owner, steps=steps, active=spec.active)
        return await _form(request, robot_id, raw, errors=refused(request, exc), status=400)
    raise redirect(f"/robots?msg=flash.saved#robot-{saved}")


async def robot_create(request: web.Request) -> web.StreamResponse:
    """POST /robots/new."""
    return await _save(request, None)


async def robot_update(request: web.Request) -> web.StreamResponse:
    """POST /robots/{id}."""
    return await _save(request, path_id(request))


async def robot_test(request: web.Request) -> web.StreamResponse:
    """POST /robots/{id}/test: send the test message; the list shows the robot's answer."""
    me = require(request, Permission.MANAGE_ROBOTS)
    deps: WebDeps = request.app[DEPS]
    robot_id = path_id(request)
    await request.post()  # the CSRF check has read it; nothing else is taken from it
    try:
        outcome = await send_test(
            deps.sessions,
            robot_id=robot_id,
            actor_id=me.person_id,
            clock=deps.clock,
            sealer=Sealer(deps.config.secret_key),
            office=deps.config.office_name,
            locale=lang_of(request),
        )
    except NotFound as exc:
        raise web.HTTPNotFound(text="404: no such robot") from exc
    shown = {
        "robot_id": robot_id,
        "accepted": outcome.accepted,
        "text": outcome.said(lang_of(request)),
    }
    return await robots_list(request, outcome=shown)


async def robot_remove(request: web.Request) -> web.StreamResponse:
    """POST /robots/{id}/remove: delete the robot once ``confirm`` is ticked."""
    me = require(request, Permission.MANAGE_ROBOTS)
    deps: WebDeps = request.app[DEPS]
    robot_id = path_id(request)
    form = await request.post()
    if form.get("confirm") != "on":
        unconfirmed = [say(Sentence.ROBOT_REMOVE_CONFIRM, lang_of(request))]
        return await robots_list(request, errors=unconfirmed, status=400)
    try:
        async with deps.sessions() as session, session.begin():
            admin = await session.get_one(Person, me.person_id)
            await remove_robot(session, robot_id=robot_id, actor=Actor.of(admin), clock=deps.clock)
    except NotFound as exc:
        raise web.HTTPNotFound(text="404: no such robot") from exc
    raise redirect("/robots?msg=flash.robot_removed")


def routes(app: web.Application) -> None:
    """Register the group robot pages."""
    app.router.add_get("/robots", _list, name="robots")
    app.router.add_get("/robots/new", robot_new)
    app.router.add_post("/robots/new", robot_create)
    app.router.add_get("/robots/{id:\\d+}", robot_edit, name="robot")
    app.router.add_post("/robots/{id:\\d+}", robot_update)
    app.router.add_post("/robots/{id:\\d+}/test", robot_test)
    app.router.add_post("/robots/{id:\\d+}/remove", robot_remove)
