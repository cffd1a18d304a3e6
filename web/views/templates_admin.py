"""Message templates (消息模板): every step x channel x locale, editing with a live preview
against a real item, line-numbered validation errors, reset to default and version history.

Uses `notifier.templating` (sandboxed rendering, validation), `notifier.template_store`
(save/reset/history) and `notifier.context` (the context of a real item).
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Final

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    MILESTONE_STEPS,
    Assignment,
    AssignmentRole,
    Item,
    Milestone,
    MilestoneState,
    Notification,
    Person,
    Template,
)
from notifier.context import ContextConfig, build_context
from notifier.template_store import TemplateRejected, history, reset_override, save_override
from notifier.templating import (
    DEFAULT_TEMPLATES_DIR,
    GROUP,
    LOCALES,
    STEPS,
    WECOM_APP,
    InMemoryTemplateStore,
    MessageContext,
    Renderer,
    RenderPool,
    TemplateError,
    parts_for,
    sample_context,
    template_channels,
    validate,
)
from supervision.access import Permission
from supervision.audit import Actor
from supervision.calendar_store import load_calendar
from web.access import require
from web.app import DEPS, WebDeps
from web.views.common import int_or_none, redirect, render

#: The render workers of this app's previews and saves (started on first use).
RENDER_POOL: Final = web.AppKey("render_pool", RenderPool)

#: Channels edited on this page; ``group`` is shared by WeCom, DingTalk and Feishu robots
#: unless one of them has its own override.
EDIT_CHANNELS: Final = (
    "telegram", "email", GROUP, "wecom", "dingtalk", "feishu", "log", WECOM_APP,
    "dingtalk_app", "feishu_app",
)  # fmt: skip
ITEM_STEPS: Final = frozenset(
    {"remind", "urge", "overdue", "escalate", "periodic", "review_request", "review_outcome",
     "signoff_request", "co_input", "reopened", "transferred", "ms_remind", "ms_urge",
     "ms_overdue"}
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Key:
    """One editable template."""

    step: str
    channel: str
    locale: str
    part: str

    @property
    def url(self) -> str:
        """The edit page of this template."""
        return f"/templates/{self.step}/{self.channel}/{self.locale}/{self.part}"


def key_from(request: web.Request) -> Key:
    """The template key in the URL; 404 for anything unknown."""
    info = request.match_info
    key = Key(info["step"], info["channel"], info["locale"], info["part"])
    channel_parts = parts_for("email" if key.channel == "email" else "telegram")
    if (
        key.step not in STEPS
        or key.channel not in EDIT_CHANNELS
        or key.locale not in LOCALES
        or key.part not in channel_parts
    ):
        raise web.HTTPNotFound(text="404: no such template")
    return key


def default_body(key: Key) -> str:
    """The bundled default source of a template (a group robot's falls back to ``group``)."""
    for channel in template_channels(key.channel):
        path = DEFAULT_TEMPLATES_DIR / key.locale / f"{key.step}.{channel}.{key.part}.j2"
        if path.is_file():
            return path.read_text(encoding="utf-8")
    return ""


async def item_context(
    session: AsyncSession, deps: WebDeps, key: Key, item_id: int | None
) -> MessageContext:
    """The sample context, with the item, assignment and report of a real item when given."""
    sample = sample_context(key.step, key.locale)
    if item_id is None or key.step not in ITEM_STEPS:
        return sample
    item = await session.get(Item, item_id)
    if item is None:
        return sample
    assignment = await session.scalar(
        select(Assignment)
        .where(Assignment.item_id == item.id)
        .order_by(Assignment.role != AssignmentRole.LEAD, Assignment.id)
    )
    payload: dict[str, object] = {"step": key.step}
    if key.step in MILESTONE_STEPS:  # a milestone's message: the item's next milestone
        payload["milestone_id"] = await session.scalar(
            select(Milestone.id)
            .where(Milestone.item_id == item.id)
            .order_by(Milestone.state != MilestoneState.OPEN, Milestone.due_on, Milestone.id)
            .limit(1)
        )
    row = Notification(
        dedupe_key="preview",
        kind=key.step,
        item_id=item.id,
        assignment_id=assignment.id if assignment else None,
        recipient_id=assignment.owner_id if assignment else None,
        channel="wecom" if key.channel == GROUP else key.channel,
        locale=key.locale,
        payload=payload,
    )
    config = ContextConfig(
        office_name=deps.config.office_name, base_url=deps.config.base_url, tz=deps.config.tz
    )
    built = await build_context(
        session, row, config=config, clock=deps.clock, calendar=await load_calendar(session)
    )
    real = built.context
    keep = {
        name: getattr(real, name)
        for name in ("item", "assignment", "milestone", "last_report", "recipient_name", "links")
        if getattr(real, name)
    }
    return dataclasses.replace(sample, **keep)


async def preview_text(
    request: web.Request, session: AsyncSession, key: Key, body: str, item_id: int | None
) -> str:
    """Validate ``body`` and render it on the chosen item, in the render workers; raise
    TemplateError."""
    deps: WebDeps = request.app[DEPS]
    pool = request.app[RENDER_POOL]
    await validate(
        body, step=key.step, channel=key.channel, part=key.part, locale=key.locale, pool=pool
    )
    context = await item_context(session, deps, key, item_id)
    store = InMemoryTemplateStore({(key.step, key.channel, key.locale, key.part): body})
    channel = "wecom" if key.channel == GROUP else key.channel
    rendered = await Renderer(store, pool=pool).render(key.step, channel, key.locale, context)
    if key.part == "subject":
        return rendered.subject or ""
    if key.part == "html":
        return rendered.html or ""
    return rendered.text


async def templates_index(request: web.Request) -> web.StreamResponse:
    """GET /templates: every step x channel x locale x part, marking overrides."""
    require(request, Permission.EDIT_TEMPLATES)
    deps: WebDeps = request.app[DEPS]
    async with deps.sessions() as session:
        rows = (await session.scalars(select(Template))).all()
    overrides = {(r.step, r.channel, r.locale, r.part): r for r in rows}
    grid = [
        (
            step,
            [
                (
                    channel,
                    locale,
                    [
                        (
                            Key(step, channel, locale, part),
                            overrides.get((step, channel, locale, part)),
                        )
                        for part in parts_for("email" if channel == "email" else "telegram")
                    ],
                )
                for channel in EDIT_CHANNELS
                for locale in LOCALES
            ],
        )
        for step in STEPS
    ]
    return render(request, "templates/index.html", {"grid": grid, "locales": LOCALES})


async def _edit_page(
    request: web.Request,
    key: Key,
    *,
    body: str | None = None,
    error: TemplateError | None = None,
    status: int = 200,
) -> web.Response:
    deps: WebDeps = request.app[DEPS]
    item_id = int_or_none(request.query.get("item"))
    async with deps.sessions() as session:
        current = await session.scalar(
            select(Template).where(
                Template.step == key.step,
                Template.channel == key.channel,
                Template.locale == key.locale,
                Template.part == key.part,
            )
        )
        versions = await history(
            session, step=key.step, channel=key.channel, locale=key.locale, part=key.part
        )
        authors = {
            p.id: p.name
            for p in (
                await session.scalars(
                    select(Person).where(Person.id.in_({v.created_by_id for v in versions}))
                )
            ).all()
        }
        items = (await session.scalars(select(Item).order_by(Item.id.desc()).limit(200))).all()
        source = body if body is not None else (current.body if current else default_body(key))
        preview = ""
        if error is None:
            try:
                preview = await preview_text(request, session, key, source, item_id)
            except TemplateError as exc:
                error = exc
    lines = source.split("\n")
    return render(
        request,
        "templates/edit.html",
        {
            "key": key,
            "body": source,
            "lines": lines,
            "current": current,
            "versions": list(reversed(versions)),
            "authors": authors,
            "items": items,
            "item_id": item_id,
            "preview": preview,
            "error": error,
            "error_line": getattr(error, "line", None),
        },
        status=status,
    )


async def template_edit(request: web.Request) -> web.StreamResponse:
    """GET /templates/{step}/{channel}/{locale}/{part}: the editor."""
    require(request, Permission.EDIT_TEMPLATES)
    return await _edit_page(request, key_from(request))


async def template_save(request: web.Request) -> web.StreamResponse:
    """POST .../{part}: validate and save an override; errors come back next to the line."""
    me = require(request, Permission.EDIT_TEMPLATES)
    key = key_from(request)
    deps: WebDeps = request.app[DEPS]
    form = await request.post()
    body = form.get("body")
    if not isinstance(body, str):
        raise web.HTTPBadRequest(text="400: body is required")
    body = body.replace("\r\n", "\n")
    note = form.get("note")
    try:
        async with deps.sessions() as session, session.begin():
            person = await session.get_one(Person, me.person_id)
            await save_override(
                session,
                step=key.step,
                channel=key.channel,
                locale=key.locale,
                part=key.part,
                body=body,
                actor=Actor.of(person),
                clock=deps.clock,
                note=note[:200] if isinstance(note, str) and note.strip() else None,
                pool=request.app[RENDER_POOL],
            )
    except TemplateRejected as exc:
        return await _edit_page(request, key, body=body, error=exc.error, status=400)
    raise redirect(f"{key.url}?msg=flash.saved")


async def template_reset(request: web.Request) -> web.StreamResponse:
    """POST .../reset: drop the override so the default applies again."""
    me = require(request, Permission.EDIT_TEMPLATES)
    key = key_from(request)
    deps: WebDeps = request.app[DEPS]
    async with deps.sessions() as session, session.begin():
        person = await session.get_one(Person, me.person_id)
        await reset_override(
            session,
            step=key.step,
            channel=key.channel,
            locale=key.locale,
            part=key.part,
            actor=Actor.of(person),
            clock=deps.clock,
        )
    raise redirect(f"{key.url}?msg=flash.reset")


async def template_preview(request: web.Request) -> web.StreamResponse:
    """POST .../preview (JSON): render a draft on an item; errors carry their line."""
    require(request, Permission.EDIT_TEMPLATES)
    key = key_from(request)
    deps: WebDeps = request.app[DEPS]
    form = await request.post()
    body = form.get("body")
    if not isinstance(body, str):
        return web.json_response(
            {"ok": False, "error": "body is required", "line": None}, status=400
        )
    item_id = int_or_none(form.get("item"))
    async with deps.sessions() as session:
        try:
            text = await preview_text(request, session, key, body.replace("\r\n", "\n"), item_id)
        except TemplateError as exc:
            return web.json_response({"ok": False, "error": str(exc), "line": exc.line})
    return web.json_response({"ok": True, "preview": text})


async def render_pool_ctx(app: web.Application) -> AsyncIterator[None]:
    """cleanup_ctx: this app's render workers, killed when the app stops."""
    pool = RenderPool(app[DEPS].config.render_limits)
    app[RENDER_POOL] = pool
    yield
    await pool.aclose()


def routes(app: web.Application) -> None:
    """Register the template pages and their render workers."""
    app.cleanup_ctx.append(render_pool_ctx)
    base = "/templates/{step}/{channel}/{locale}/{part}"
    app.router.add_get("/templates", templates_index, name="templates")
    app.router.add_get(base, template_edit, name="template_edit")
    app.router.add_post(base, template_save)
    app.router.add_post(base + "/preview", template_preview, name="template_preview")
    app.router.add_post(base + "/reset", template_reset, name="template_reset")
