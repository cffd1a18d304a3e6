"""/api/v1 assignments, their reports and extension requests.

Imports `models/`, `supervision/` and the web API plumbing only.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from models import (
    Assignment,
    AssignmentRole,
    Extension,
    ItemState,
    Origin,
    Report,
    ReviewState,
)
from supervision.calendar import WorkCalendar
from supervision.light import assignment_light
from supervision.reports import file_report
from supervision.requests import decide_extension, request_extension
from supervision.validation import validate
from web.api_core import (
    ApiContext,
    json_ok,
    paging,
    query_choice,
    query_int,
    read_json,
)
from web.api_lookups import (
    current_person,
    load_assignment,
    load_extension,
    paged,
    today_and_calendar,
    visible_items,
)
from web.api_models import Decision, ExtensionInput, ReportInput


def assignment_json(
    a: Assignment, received_on: date, today: date, cal: WorkCalendar, ctx: ApiContext
) -> dict[str, Any]:
    """An assignment with its unit name and light (``a.unit`` must be loaded)."""
    return {
        "id": a.id,
        "item_id": a.item_id,
        "unit_id": a.unit_id,
        "unit_name": a.unit.name,
        "role": a.role,
        "owner_id": a.owner_id,
        "leader_id": a.leader_id,
        "state": a.state,
        "due_on": a.due_on,
        "light": assignment_light(
            a, received_on=received_on, today=today, calendar=cal, tz=ctx.deps.config.tz
        ),
        "last_report_at": a.last_report_at,
        "closed_at": a.closed_at,
    }


def report_json(r: Report) -> dict[str, Any]:
    """A report (attachments counted, not listed)."""
    return {
        "id": r.id,
        "assignment_id": r.assignment_id,
        "number": r.number,
        "author_id": r.author_id,
        "kind": r.kind,
        "text": r.text,
        "channel": r.channel,
        "review_state": r.review_state,
        "attachments": len(r.attachments),
        "created_at": r.created_at,
    }


def extension_json(x: Extension) -> dict[str, Any]:
    """An extension request."""
    return {
        "id": x.id,
        "assignment_id": x.assignment_id,
        "requested_by_id": x.requested_by_id,
        "reason": x.reason,
        "progress": x.progress,
        "old_due_on": x.old_due_on,
        "new_due_on": x.new_due_on,
        "state": x.state,
        "decided_by_id": x.decided_by_id,
        "decided_at": x.decided_at,
        "comment": x.comment,
        "channel": x.channel,
        "created_at": x.created_at,
    }


async def list_assignments(ctx: ApiContext) -> web.StreamResponse:
    """Assignments of the items the caller may see."""
    r = ctx.request
    page = paging(r)
    item_id = query_int(r, "item_id")
    unit_id = query_int(r, "unit_id")
    state = query_choice(r, "state", [s.value for s in ItemState])
    role = query_choice(r, "role", [s.value for s in AssignmentRole])
    async with ctx.deps.sessions() as session:
        today, cal = await today_and_calendar(session, ctx)
        query = select(Assignment).where(Assignment.item_id.in_(visible_items(ctx)))
        if item_id is not None:
            query = query.where(Assignment.item_id == item_id)
        if unit_id is not None:
            query = query.where(Assignment.unit_id == unit_id)
        if state is not None:
            query = query.where(Assignment.state == state)
        if role is not None:
            query = query.where(Assignment.role == role)
        query = query.order_by(Assignment.due_on, Assignment.id).options(
            selectinload(Assignment.unit), selectinload(Assignment.item)
        )
        rows, total = await paged(session, query, page)
        return page.answer(
            [assignment_json(a, a.item.received_on, today, cal, ctx) for a in rows], total
        )


async def get_assignment(ctx: ApiContext) -> web.StreamResponse:
    """One assignment."""
    async with ctx.deps.sessions() as session:
        a = await load_assignment(session, ctx, ctx.match_id("assignment_id"))
        today, cal = await today_and_calendar(session, ctx)
        return json_ok(assignment_json(a, a.item.received_on, today, cal, ctx))


# --- reports --------------------------------------------------------------------------------


async def list_reports(ctx: ApiContext) -> web.StreamResponse:
    """Reports filed on one assignment, oldest first."""
    page = paging(ctx.request)
    async with ctx.deps.sessions() as session:
        a = await load_assignment(session, ctx, ctx.match_id("assignment_id"))
        query = select(Report).where(Report.assignment_id == a.id).order_by(Report.number)
        rows, total = await paged(session, query, page)
        return page.answer([report_json(x) for x in rows], total)


async def create_report(ctx: ApiContext) -> web.StreamResponse:
    """File a progress report (the assignment's owner or its unit's liaison)."""
    text = validate(ReportInput, await read_json(ctx.request)).text
    async with ctx.deps.sessions() as session, session.begin():
        a = await load_assignment(session, ctx, ctx.match_id("assignment_id"))
        me = await current_person(session, ctx)
        report = await file_report(
            session, assignment=a, author=me, text=text, clock=ctx.deps.clock, channel=Origin.API
        )
        body = report_json(report)
    return json_ok(body, status=201)


# --- extensions -----------------------------------------------------------------------------


async def list_extensions(ctx: ApiContext) -> web.StreamResponse:
    """Extension requests on the items the caller may see, newest first."""
    r = ctx.request
    page = paging(r)
    state = query_choice(r, "state", [s.value for s in ReviewState])
    assignment_id = query_int(r, "assignment_id")
    unit_id = query_int(r, "unit_id")
    async with ctx.deps.sessions() as session:
        query = (
            select(Extension)
            .join(Assignment, Assignment.id == Extension.assignment_id)
            .where(Assignment.item_id.in_(visible_items(ctx)))
        )
        if state is not None:
            query = query.where(Extension.state == state)
        if assignment_id is not None:
            query = query.where(Extension.assignment_id == assignment_id)
        if unit_id is not None:
            query = query.where(Assignment.unit_id == unit_id)
        query = query.order_by(Extension.created_at.desc(), Extension.id.desc())
        rows, total = await paged(session, query, page)
        return page.answer([extension_json(x) for x in rows], total)


async def get_extension(ctx: ApiContext) -> web.StreamResponse:
    """One extension request."""
    async with ctx.deps.sessions() as session:
        x = await load_extension(session, ctx, ctx.match_id("extension_id"))
        return json_ok(extension_json(x))


async def create_extension(ctx: ApiContext) -> web.StreamResponse:
    """Ask for a later deadline on an assignment (its owner or its unit's liaison)."""
    asked = validate(ExtensionInput, await read_json(ctx.request))
    async with ctx.deps.sessions() as session, session.begin():
        a = await load_assignment(session, ctx, ctx.match_id("assignment_id"))
        me = await current_person(session, ctx)
        x = await request_extension(
            session,
            assignment=a,
            person=me,
            reason=asked.reason,
            progress=asked.progress,
            new_due_on=asked.new_due_on,
            clock=ctx.deps.clock,
            tz=ctx.deps.config.tz,
            channel=Origin.API,
        )
        body = extension_json(x)
    return json_ok(body, status=201)


async def decide(ctx: ApiContext) -> web.StreamResponse:
    """Approve or reject a pending extension request (supervisors and admins)."""
    decision = validate(Decision, await read_json(ctx.request))
    async with ctx.deps.sessions() as session, session.begin():
        x = await load_extension(session, ctx, ctx.match_id("extension_id"))
        me = await current_person(session, ctx)
        x = await decide_extension(
            session,
            extension=x,
            reviewer=me,
            approve=decision.approve,
            comment=decision.comment,
            clock=ctx.deps.clock,
        )
        body = extension_json(x)
    return json_ok(body)
