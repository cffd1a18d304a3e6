"""Pending completion and extension requests, approved or rejected by the office."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy import select

from models import Assignment, Extension, Item, Person, Report, ReportKind, ReviewState, Unit
from supervision.access import Permission
from supervision.errors import DomainError
from supervision.requests import MAX_COMMENT, decide_completion, decide_extension
from web.access import require
from web.app import DEPS, WebDeps
from web.auth import safe_next
from web.views.common import path_id, redirect, render, t_for, text_field


class ReasonRequired(Exception):
    """A rejection posted without a reason: refused before anything changes."""


async def _pending(request: web.Request, errors: list[str], status: int) -> web.Response:
    deps: WebDeps = request.app[DEPS]
    async with deps.sessions() as session:
        completions = (
            await session.execute(
                select(Report, Assignment, Item, Unit, Person)
                .join(Assignment, Assignment.id == Report.assignment_id)
                .join(Item, Item.id == Assignment.item_id)
                .join(Unit, Unit.id == Assignment.unit_id)
                .outerjoin(Person, Person.id == Report.author_id)
                .where(
                    Report.kind == ReportKind.COMPLETION.value,
                    Report.review_state == ReviewState.PENDING.value,
                )
                .order_by(Report.created_at)
            )
        ).all()
        extensions = (
            await session.execute(
                select(Extension, Assignment, Item, Unit, Person)
                .join(Assignment, Assignment.id == Extension.assignment_id)
                .join(Item, Item.id == Assignment.item_id)
                .join(Unit, Unit.id == Assignment.unit_id)
                .outerjoin(Person, Person.id == Extension.requested_by_id)
                .where(Extension.state == ReviewState.PENDING.value)
                .order_by(Extension.created_at)
            )
        ).all()
    return render(
        request,
        "reviews.html",
        {"completions": completions, "extensions": extensions, "errors": errors},
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
    needs_reason = decision == "reject" and comment is None
    try:
        async with deps.sessions() as session, session.begin():
            reviewer = await session.get_one(Person, me.person_id)
            if what == "completion":
                report = await session.get(Report, record_id)
                if report is None:
                    raise web.HTTPNotFound(text="404: no such request")
                if needs_reason and report.review_state == ReviewState.PENDING.value:
                    raise ReasonRequired
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
                if needs_reason and extension.state == ReviewState.PENDING.value:
                    raise ReasonRequired
                await decide_extension(
                    session,
                    extension=extension,
                    reviewer=reviewer,
                    approve=decision == "approve",
                    comment=comment,
                    clock=deps.clock,
                )
    except ReasonRequired:
        return await _pending(request, [t_for(request, "reviews.reason_required")], 400)
    except DomainError as exc:
        return await _pending(request, [str(exc)], 400)
    back = safe_next(text_field(form, "next", 200))
    back = back if back.startswith("/items/") else "/reviews"
    raise redirect(f"{back}?msg=flash.decided")


async def decide_completion_post(request: web.Request) -> web.StreamResponse:
    """POST /reviews/completion/{id}: approve or reject a completion request."""
    return await _decide(request, "completion")


async def decide_extension_post(request: web.Request) -> web.StreamResponse:
    """POST /reviews/extension/{id}: approve or reject an extension request."""
    return await _decide(request, "extension")


def routes(app: web.Application) -> None:
    """Register the review pages."""
    app.router.add_get("/reviews", reviews_page, name="reviews")
    app.router.add_post("/reviews/completion/{id:\\d+}", decide_completion_post)
    app.router.add_post("/reviews/extension/{id:\\d+}", decide_extension_post)
