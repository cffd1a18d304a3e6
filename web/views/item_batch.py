"""Batch actions from the items list (批量操作): 催办, 转办, 延期, 撤销 with a confirmation page.

``POST /items/batch`` without ``confirm`` runs the batch in a transaction that is rolled
back and shows what would happen to each item (or why it cannot); with ``confirm`` it runs
it again and commits only when no item was refused (`supervision.item_actions`).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from supervision.access import Permission
from supervision.errors import DomainError
from supervision.item_actions import BatchAction, BatchRequest, Outcome, refused, run_batch
from supervision.labels import Sentence, say
from web.access import require
from web.app import DEPS, WebDeps
from web.views.common import date_or_none, int_or_none, lang_of, redirect, render, text_field
from web.views.common import refused as told_why

__all__ = ["routes"]


def _request_of(form: Any) -> BatchRequest:
    """The batch asked for by the posted form (an unknown action is a 400)."""
    try:
        action = BatchAction(str(form.get("action", "")))
    except ValueError:
        raise web.HTTPBadRequest(text="400: unknown batch action") from None
    ids = tuple(
        value
        for raw in form.getall("ids", [])
        if (value := int_or_none(raw)) is not None and 0 < value < 2**31
    )
    return BatchRequest(
        action=action,
        item_ids=ids,
        reason=text_field(form, "reason", 1000),
        unit_id=int_or_none(form.get("unit_id")),
        due_on=date_or_none(form.get("due_on")),
    )


def _back(form: Any) -> str:
    """The list to return to: only a query string of /items (never another address)."""
    query = text_field(form, "back", 2000)
    return "/items?" + query if query and "\n" not in query and "//" not in query else "/items"


async def items_batch(request: web.Request) -> web.StreamResponse:
    """POST /items/batch: the confirmation page, or (``confirm``) the batch, all or nothing."""
    me = require(request, Permission.EDIT_ITEMS)
    deps: WebDeps = request.app[DEPS]
    form = await request.post()
    batch = _request_of(form)
    back = _back(form)
    confirm = form.get("confirm") == "1"
    errors: list[str] = []
    outcomes: list[Outcome] = []
    async with deps.sessions() as session:
        transaction = await session.begin()
        try:
            outcomes = await run_batch(
                session, batch, scope=me.scope, clock=deps.clock, tz=deps.config.tz
            )
            if confirm and not refused(outcomes):
                await transaction.commit()
                raise redirect(f"{back}{'&' if '?' in back else '?'}msg=flash.batch_done")
        except DomainError as exc:
            errors = told_why(request, exc)
        finally:
            if transaction.is_active:
                await transaction.rollback()
    failed = refused(outcomes)
    if failed:
        errors.append(say(Sentence.BATCH_REFUSED, lang_of(request), count=len(failed)))
    status = 400 if errors else 200
    return render(
        request,
        "items/batch.html",
        {
            "batch": batch,
            "outcomes": outcomes,
            "why": {o.item_id: told_why(request, o.refusal) for o in failed if o.refusal},
            "errors": errors,
            "back": back,
            "back_query": back.partition("?")[2],
        },
        status=status,
    )


def routes(app: web.Application) -> None:
    """Register the batch page."""
    app.router.add_post("/items/batch", items_batch, name="items_batch")
