"""Message templates (消息模板): the list by step, and the editor: a live preview of the whole
message as its channel shows it (sample or a real item), a side panel of the step's
variables and macros, line-marked errors, a length counter, and saving a new version.

Uses `notifier.templating` (sandboxed rendering, validation) through ``template_preview``,
`notifier.template_store` (save) and ``template_history`` (diff, restore, reset).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

from aiohttp import web
from markupsafe import Markup
from sqlalchemy import select

from models import Item, Person, Template
from notifier.template_store import TemplateRejected, history, save_override
from notifier.templating import (
    LOCALES,
    OUTPUT_LIMITS,
    STEPS,
    RenderPool,
    TemplateError,
    parts_for,
)
from supervision.access import Permission
from supervision.audit import Actor
from web.access import require
from web.app import DEPS, WebDeps
from web.views import template_history
from web.views.common import int_or_none, lang_of, redirect, render
from web.views.template_keys import (
    EDIT_CHANNELS,
    RENDER_POOL,
    Key,
    default_body,
    key_from,
)
from web.views.template_panel import helpers, macros, variables
from web.views.template_preview import fragment, preview, template_preview


@dataclass(frozen=True, slots=True)
class Cell:
    """One channel x language of a step on the list: its parts, and which are customised."""

    channel: str
    locale: str
    parts: list[tuple[Key, bool]]

    @property
    def customised(self) -> bool:
        """True when any part of it is an admin override."""
        return any(custom for _, custom in self.parts)


async def templates_index(request: web.Request) -> web.StreamResponse:
    """GET /templates: every step (in words), its channels and languages, customised first."""
    require(request, Permission.EDIT_TEMPLATES)
    deps: WebDeps = request.app[DEPS]
    async with deps.sessions() as session:
        rows = (await session.execute(select(Template.step, Template.channel, Template.locale,
                                             Template.part))).all()  # fmt: skip
    overridden = {tuple(r) for r in rows}
    groups = []
    for step in STEPS:
        cells = [
            Cell(
                channel,
                locale,
                [
                    (key := Key(step, channel, locale, part), key.as_tuple() in overridden)
                    for part in parts_for("email" if channel == "email" else "telegram")
                ],
            )
            for channel in EDIT_CHANNELS
            for locale in LOCALES
        ]
        groups.append((step, cells, sum(c.customised for c in cells)))
    return render(request, "templates/index.html", {"groups": groups})


async def _edit_page(
    request: web.Request,
    key: Key,
    *,
    body: str | None = None,
    error: TemplateError | None = None,
    errors: list[str] | None = None,
    status: int = 200,
) -> web.Response:
    me = require(request, Permission.EDIT_TEMPLATES)
    deps: WebDeps = request.app[DEPS]
    item_id = int_or_none(request.query.get("item")) if key.about_an_item else None
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
        items = []
        if key.about_an_item:
            items = list(
                (
                    await session.scalars(
                        me.scope.filter_items(select(Item)).order_by(Item.id.desc()).limit(200)
                    )
                ).all()
            )
        source = body if body is not None else (current.body if current else default_body(key))
        result = await preview(request, session, key, source, item_id)
    if error is None:
        error = result.error
    lang = lang_of(request)
    limit = OUTPUT_LIMITS[(key.sends_as, key.part)]
    return render(
        request,
        "templates/edit.html",
        {
            "key": key,
            "body": source,
            "lines": source.split("\n"),
            "current": current,
            "versions": list(reversed(versions)),
            "authors": authors,
            "items": items,
            "item_id": item_id,
            "result": result,
            "preview_html": Markup(fragment(request, result)),  # noqa: S704 (autoescaped)
            "error": error,
            "error_line": getattr(error, "line", None),
            "length": result.length,
            "limit": limit,
            "variables": variables(key.step, key.locale, lang),
            "macros": macros(key.step, key.locale, lang, part=key.part),
            "helpers": helpers(lang),
            "siblings": [
                Key(key.step, key.channel, key.locale, part)
                for part in parts_for("email" if key.channel == "email" else "telegram")
                if part != key.part
            ]
            + [
                Key(key.step, key.channel, other, key.part)
                for other in LOCALES
                if other != key.locale
            ],
            "diff": template_history.diff_rows(default_body(key), source),
            "errors": errors or [],
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


async def render_pool_ctx(app: web.Application) -> AsyncIterator[None]:
    """cleanup_ctx: this app's render workers, killed when the app stops (a pool handed in
    through ``WebDeps.render_pool`` is its owner's to close)."""
    deps = app[DEPS]
    if deps.render_pool is not None:
        app[RENDER_POOL] = deps.render_pool
        yield
        return
    pool = RenderPool(deps.config.render_limits)
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
    template_history.routes(app, base, edit_page=_edit_page)
