"""Pending completion and extension requests, approved or rejected by the office, and the
menu's count of them (`waiting_badge`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from aiohttp import web
from sqlalchemy import Select, and_, func, or_, select

from models import Assignment, Extension, Item, Person, Report, Unit
from supervision.access import Permission
from supervision.errors import DomainError
from supervision.requests import MAX_COMMENT, decide_completion, decide_extension
from supervision.review_queue import PENDING_COMPLETION, PENDING_EXTENSION, awaiting_decision
from web.access import require
from web.app import DEPS, WebDeps
from web.auth import maybe_viewer, safe_next
from web.views.common import (
    WAITING,
    int_or_none,
    path_id,
    redirect,
    refused,
    render,
    t_for,
    text_field,
)

REVIEWS_SHOWN = 50

Row = TypeVar("Row", Report, Extension)
Q = TypeVar("Q", bound=Select[*tuple[Any, ...]])
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _after(query: Q, model: type[Row], after: int | None) -> Q:
    """``query`` from the row after ``after`` on, in (created_at, id) order (keyset paging:
    a page costs the same however many requests wait before it)."""
    query = query.order_by(model.created_at, model.id).limit(REVIEWS_SHOWN + 1)
    if after is None:
        return query
    at = select(model.created_at).where(model.id == after).scalar_subquery()
    return query.where(or_(model.created_at > at, and_(model.created_at == at, model.id > after)))


def _next(rows: Sequence[Any]) -> int | None:
    """The cursor of the next page: the last row shown, when there are more."""
    return int(rows[REVIEWS_SHOWN - 1][0].id) if len(rows) > REVIEWS_SHOWN else None


async def _pending(request: web.Request, errors: list[str], status: int) -> web.Response:
    deps: WebDeps = request.app[DEPS]
    completions_after = int_or_none(request.query.get("completions_after"))
    extensions_after = int_or_none(request.query.get("extensions_after"))
    pending_completion, pending_extension = PENDING_COMPLETION, PENDING_EXTENSION
    async with deps.sessions() as session:
        completions = (
            await session.execute(
                _after(
                    select(Report, Assignment, Item, Unit, Person)
                    .join(Assignment, Assignment.id == Report.assignment_id)
                    .join(Item, Item.id == Assignment.item_id)
                    .join(Unit, Unit.id == Assignment.unit_id)
                    .outerjoin(Person, Person.id == Report.author_id)
                    .where(pending_completion),
                    Report,
                    completions_after,
                )
            )
        ).all()
        extensions = (
            await session.execute(
                _after(
                    select(Extension, Assignment, Item, Unit, Person)
                    .join(Assignment, Assignment.id == Extension.assignment_id)
                    .join(Item, Item.id == Assignment.item_id)
                    .join(Unit, Unit.id == Assignment.unit_id)
                    .outerjoin(Person, Person.id == Extension.requested_by_id)
                    .where(pending_extension),
                    Extension,
                    extensions_after,
                )
            )
        ).all()
        totals = {
            "completions": await session.scalar(
                select(func.count()).select_from(Report).where(pending_completion)
            ),
            "extensions": await session.scalar(
                select(func.count()).select_from(Extension).where(pending_extension)
            ),
        }
    more = {"completions": _next(completions), "extensions": _next(extensions)}
    return render(
        request,
        "reviews.html",
        {
            "completions": completions[:REVIEWS_SHOWN],
            "extensions": extensions[:REVIEWS_SHOWN],
            "totals": totals,
            "more": more,
            "paged": completions_after is not None or extensions_after is not None,
            "errors": errors,
        },
        status=status,
    )


async def reviews_page(request: web.Request) -> web.StreamResponse:
    """GET /reviews: everything awaiting the office's decision."""
    require(request, Permission.REVIEW)
    return await _pending(request, [], 200)


async def _decide(request: web.Request, what: str) -> web.StreamResponse:
    me = require(request, Permission.REVIEW)
    deps: WebDeps = request.app[DEPS]
    record_id = path_id(request)
    form = await request.post()
    decision = text_field(form, "decision")
    # Only a click on a decision button sends ``decision``: a post without it (an implicit
    # submission, a stale form) decides nothing, and a rejection must say why.
    if decision not in ("approve", "reject"):
        return await _pending(request, [t_for(request, "reviews.no_decision")], 400)
    comment = text_field(form, "comment", MAX_COMMENT) or None
    try:
        async with deps.sessions() as session, session.begin():
            reviewer = await session.get_one(Person, me.person_id)
            if what == "completion":
                report = await session.get(Report, record_id)
                if report is None:
                    raise web.HTTPNotFound(text="404: no such request")
                await decide_completion(
                    session,
                    report=report,
                    reviewer=reviewer,
                    approve=decision == "approve",
                    comment=comment,
                    clock=deps.clock,
                )
            else:
                extension = await session.get(Extension, record_id)
                if extension is None:
                    raise web.HTTPNotFound(text="404: no such request")
                await decide_extension(
                    session,
                    extension=extension,
                    reviewer=reviewer,
                    approve=decision == "approve",
                    comment=comment,
                    clock=deps.clock,
                )
    except DomainError as exc:  # 退回 without a reason among them (supervision.requests)
        return await _pending(request, refused(request, exc), 400)
    back = safe_next(text_field(form, "next", 200))
    back = back if back.startswith("/items/") else "/reviews"
    raise redirect(f"{back}?msg=flash.decided")


async def decide_completion_post(request: web.Request) -> web.StreamResponse:
    """POST /reviews/completion/{id}: approve or reject a completion request."""
    return await _decide(request, "completion")


async def decide_extension_post(request: web.Request) -> web.StreamResponse:
    """POST /reviews/extension/{id}: approve or reject an extension request."""
    return await _decide(request, "extension")


@web.middleware
async def waiting_badge(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Count what the logged-in reviewer may decide, for the menu's badge on every page
    (`web.views.common.WAITING`): one indexed COUNT, never for the API or static files."""
    me = maybe_viewer(request)
    if me is not None and me.allows(Permission.REVIEW) and not _is_plumbing(request.path):
        deps: WebDeps = request.app[DEPS]
        async with deps.sessions() as session:
            request[WAITING] = await awaiting_decision(session, me.scope)
    return await handler(request)


def _is_plumbing(path: str) -> bool:
    return path.startswith(("/api/", "/static/"))


def routes(app: web.Application) -> None:
    """Register the review pages."""
    app.router.add_get("/reviews", reviews_page, name="reviews")
    app.router.add_post("/reviews/completion/{id:\\d+}", decide_completion_post)
    app.router.add_post("/reviews/extension/{id:\\d+}", decide_extension_post)
