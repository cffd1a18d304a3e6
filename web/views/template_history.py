"""The template editor's history: the difference from the default (side by side, computed
with difflib on the server and escaped by the page), restoring an earlier version, and
resetting to the default after a confirmation (a POST that carries it; no script needed).

Every change is audited by `notifier.template_store`; every form carries the CSRF token.
"""

from __future__ import annotations

import difflib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from aiohttp import web
from sqlalchemy import select

from models import Person, Template
from notifier.template_store import (
    TemplateRejected,
    VersionNotRestorable,
    reset_override,
    restore_version,
)
from supervision.access import Permission
from supervision.audit import Actor
from supervision.labels import Sentence, say, told
from web.access import require
from web.app import DEPS, WebDeps
from web.views.common import lang_of, redirect, render
from web.views.template_keys import RENDER_POOL, Key, default_body, key_from


@dataclass(frozen=True, slots=True)
class DiffRow:
    """One line of a side-by-side diff: the default's line and the current one (None where
    a side has no line), and how they differ: ``same``, ``changed``, ``removed``, ``added``."""

    kind: str
    old_no: int | None
    old: str | None
    new_no: int | None
    new: str | None


def diff_rows(default: str, current: str) -> list[DiffRow]:
    """The default and the current source side by side, line by line; [] when equal."""
    old, new = default.split("\n"), current.split("\n")
    if old == new:
        return []
    rows: list[DiffRow] = []
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            rows.extend(
                DiffRow("same", i + 1, old[i], j + 1, new[j])
                for i, j in zip(range(i1, i2), range(j1, j2), strict=True)
            )
            continue
        for n in range(max(i2 - i1, j2 - j1)):
            i, j = i1 + n, j1 + n
            left = i < i2
            right = j < j2
            kind = "changed" if left and right else "removed" if left else "added"
            rows.append(
                DiffRow(
                    kind,
                    i + 1 if left else None,
                    old[i] if left else None,
                    j + 1 if right else None,
                    new[j] if right else None,
                )
            )
    return rows


class EditPage(Protocol):
    """The editor page (``templates_admin``), shown again with what went wrong."""

    def __call__(
        self, request: web.Request, key: Key, *, errors: list[str] | None = ..., status: int = ...
    ) -> Awaitable[web.Response]: ...


async def _current_body(request: web.Request, key: Key) -> str | None:
    deps: WebDeps = request.app[DEPS]
    async with deps.sessions() as session:
        return await session.scalar(
            select(Template.body).where(
                Template.step == key.step,
                Template.channel == key.channel,
                Template.locale == key.locale,
                Template.part == key.part,
            )
        )


async def reset_confirm(request: web.Request, *, error: str | None = None) -> web.Response:
    """GET .../reset: what resetting drops (the customised lines), and the confirmation."""
    require(request, Permission.EDIT_TEMPLATES)
    key = key_from(request)
    body = await _current_body(request, key)
    if body is None:
        raise redirect(key.url)
    return render(
        request,
        "templates/reset.html",
        {
            "key": key,
            "diff": diff_rows(default_body(key), body),
            "errors": [error] if error else [],
        },
        status=400 if error else 200,
    )


async def template_reset(request: web.Request) -> web.StreamResponse:
    """POST .../reset with ``confirm=yes``: drop the override so the default applies again."""
    me = require(request, Permission.EDIT_TEMPLATES)
    key = key_from(request)
    form = await request.post()
    if form.get("confirm") != "yes":
        return await reset_confirm(
            request, error=say(Sentence.TEMPLATE_RESET_UNCONFIRMED, lang_of(request))
        )
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


def restore_handler(
    edit_page: EditPage,
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """POST .../restore/{version}: the earlier version becomes the template again."""

    async def template_restore(request: web.Request) -> web.StreamResponse:
        me = require(request, Permission.EDIT_TEMPLATES)
        key = key_from(request)
        deps: WebDeps = request.app[DEPS]
        try:
            version = int(request.match_info["version"])
        except ValueError:
            raise web.HTTPNotFound(text="404: no such version") from None
        try:
            async with deps.sessions() as session, session.begin():
                person = await session.get_one(Person, me.person_id)
                await restore_version(
                    session,
                    step=key.step,
                    channel=key.channel,
                    locale=key.locale,
                    part=key.part,
                    version=version,
                    actor=Actor.of(person),
                    clock=deps.clock,
                    pool=request.app[RENDER_POOL],
                )
        except VersionNotRestorable as exc:
            return await edit_page(request, key, errors=[told(exc, lang_of(request))], status=400)
        except TemplateRejected as exc:
            return await edit_page(request, key, errors=[str(exc.error)], status=400)
        raise redirect(f"{key.url}?msg=flash.restored")

    return template_restore


def routes(app: web.Application, base: str, *, edit_page: EditPage) -> None:
    """Register reset (confirm, then POST) and restore under the editor's ``base`` URL."""
    app.router.add_get(base + "/reset", reset_confirm, name="template_reset_confirm")
    app.router.add_post(base + "/reset", template_reset, name="template_reset")
    app.router.add_post(
        base + "/restore/{version}", restore_handler(edit_page), name="template_restore"
    )
