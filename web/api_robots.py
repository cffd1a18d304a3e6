"""/api/v1 robots: group robots (群机器人), set up, changed, tested and removed by admins.

Imports `models/`, `supervision/`, `notifier.robot_probe` and the web API plumbing only.
"""

from __future__ import annotations

from aiohttp import web

from models import GroupWebhook
from notifier.robot_probe import send_test
from supervision.audit import Actor
from supervision.robots import ROBOT_STEPS, RobotSpec, get_robot, remove_robot, robots_query
from supervision.robots import save_robot as save
from supervision.sealing import Sealer
from supervision.validation import validate
from web.api_core import ApiContext, json_ok, paging, read_json
from web.api_lookups import current_person, paged
from web.api_models import RobotInput, RobotPatch
from web.api_out import RobotOut, RobotTestOut


async def list_robots_route(ctx: ApiContext) -> web.StreamResponse:
    """Every robot (the leadership's first, then by unit), URLs masked."""
    page = paging(ctx.request)
    async with ctx.deps.sessions() as session:
        rows, total = await paged(session, robots_query(), page)
        return page.answer([RobotOut.of(h) for h in rows], total)


async def get_robot_route(ctx: ApiContext) -> web.StreamResponse:
    """One robot."""
    async with ctx.deps.sessions() as session:
        return json_ok(RobotOut.of(await get_robot(session, ctx.match_id("robot_id"))))


async def create_robot_route(ctx: ApiContext) -> web.StreamResponse:
    """Set up a robot."""
    new = validate(RobotInput, await read_json(ctx.request))
    spec = RobotSpec(
        name=new.name,
        kind=new.kind,
        unit_id=new.unit_id,
        leadership=new.leadership is True,
        url=new.url,
        secret=new.secret,
        steps=tuple(s.value for s in (new.steps if new.steps is not None else ROBOT_STEPS)),
        active=new.active is not False,
    )
    async with ctx.deps.sessions() as session, session.begin():
        hook = await save(
            session,
            robot_id=None,
            spec=spec,
            actor=Actor.of(await current_person(session, ctx)),
            clock=ctx.deps.clock,
            sealer=Sealer(ctx.deps.config.secret_key),
            extra_hosts=ctx.deps.config.robot_hosts,
        )
        body = RobotOut.of(hook)
    return json_ok(body, status=201)


def _patched(hook: GroupWebhook, patch: RobotPatch) -> RobotSpec:
    out = RobotOut.of(hook)
    unit_id, leadership = hook.unit_id, out.leadership
    if "unit_id" in patch.model_fields_set:
        unit_id = patch.unit_id
        leadership = leadership and unit_id is None
    if patch.leadership is not None:
        leadership = patch.leadership
        unit_id = None if leadership else unit_id
    return RobotSpec(
        name=patch.name if patch.name is not None else hook.name,
        kind=patch.kind if patch.kind is not None else out.kind,
        unit_id=unit_id,
        leadership=leadership,
        url=patch.url,
        secret=patch.secret,
        clear_secret=patch.clear_secret is True,
        steps=tuple(s.value for s in (patch.steps if patch.steps is not None else out.steps)),
        active=patch.active if patch.active is not None else hook.active,
    )


async def update_robot_route(ctx: ApiContext) -> web.StreamResponse:
    """Change a robot; URL and secret stay unless sent."""
    patch = validate(RobotPatch, await read_json(ctx.request))
    async with ctx.deps.sessions() as session, session.begin():
        hook = await get_robot(session, ctx.match_id("robot_id"))
        hook = await save(
            session,
            robot_id=hook.id,
            spec=_patched(hook, patch),
            actor=Actor.of(await current_person(session, ctx)),
            clock=ctx.deps.clock,
            sealer=Sealer(ctx.deps.config.secret_key),
            extra_hosts=ctx.deps.config.robot_hosts,
        )
        body = RobotOut.of(hook)
    return json_ok(body)


async def remove_robot_route(ctx: ApiContext) -> web.StreamResponse:
    """Remove a robot; the answer is the robot as it was."""
    async with ctx.deps.sessions() as session, session.begin():
        hook = await get_robot(session, ctx.match_id("robot_id"))
        body = RobotOut.of(hook)
        await remove_robot(
            session,
            robot_id=hook.id,
            actor=Actor.of(await current_person(session, ctx)),
            clock=ctx.deps.clock,
        )
    return json_ok(body)


async def test_robot_route(ctx: ApiContext) -> web.StreamResponse:
    """Send the test message through the robot's channel; the robot's answer."""
    outcome = await send_test(
        ctx.deps.sessions,
        robot_id=ctx.match_id("robot_id"),
        actor_id=ctx.person_id,
        clock=ctx.deps.clock,
        sealer=Sealer(ctx.deps.config.secret_key),
        office=ctx.deps.config.office_name,
    )
    return json_ok(
        RobotTestOut(
            accepted=outcome.accepted,
            reached=outcome.reached,
            answer=outcome.answer,
            message=outcome.said("zh") + " (" + outcome.said("en") + ")",
        )
    )
