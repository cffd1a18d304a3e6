"""/api/v1 assignments, their reports and extension requests (answers from `web.api_out`).

Imports `models/`, `supervision/` and the web API plumbing only.
"""

from __future__ import annotations

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
from supervision.audit import Actor
from supervision.reports import file_report
from supervision.requests import decide_extension, request_extension
from supervision.rework import transfer_assignment
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
    Keyset,
    current_person,
    keyset_paged,
    load_assignment,
    load_extension,
    office_day,
    paged,
)
from web.api_models import Decision, ExtensionInput, ReportInput, TransferInput
from web.api_out import AssignmentOut, ExtensionOut, ReportOut


async def list_assignments(ctx: ApiContext) -> web.StreamResponse:
    """Assignments of the items the caller may see."""
    r = ctx.request
    page = paging(r)
    item_id = query_int(r, "item_id")
    unit_id = query_int(r, "unit_id")
    state = query_choice(r, "state", [s.value for s in ItemState])
    role = query_choice(r, "role", [s.value for s in AssignmentRole])
    async with ctx.deps.sessions() as session:
        day = await office_day(session, ctx)
        # The scope's own filter: none for those who see every unit (no semi-join).
        query = ctx.principal.scope.filter_assignments(select(Assignment))
        if item_id is not None:
            query = query.where(Assignment.item_id == item_id)
        if unit_id is not None:
            query = query.where(Assignment.unit_id == unit_id)
        if state is not None:
            query = query.where(Assignment.state == state)
        if role is not None:
            query = query.where(Assignment.role == role)
        query = query.options(selectinload(Assignment.unit), selectinload(Assignment.item))
        order = Keyset((Assignment.due_on, Assignment.id))  # ix_assignments_due_on
        rows, total, next_id = await keyset_paged(session, query, page, order)
        return page.answer(
            [AssignmentOut.of(a, day) for a in rows], total, keyset=True, next_id=next_id
        )


async def get_assignment(ctx: ApiContext) -> web.StreamResponse:
    """One assignment."""
    async with ctx.deps.sessions() as session:
        a = await load_assignment(session, ctx, ctx.match_id("assignment_id"))
        return json_ok(AssignmentOut.of(a, await office_day(session, ctx)))


async def transfer(ctx: ApiContext) -> web.StreamResponse:
    """转办: hand an open assignment to another unit and/or 责任人, with a reason."""
    body = validate(TransferInput, await read_json(ctx.request))
    assignment_id = ctx.match_id("assignment_id")
    async with ctx.deps.sessions() as session, session.begin():
        a = await load_assignment(session, ctx, assignment_id)
        me = await current_person(session, ctx)
        await transfer_assignment(
            session,
            a,
            reason=body.reason,
            unit_id=body.unit_id,
            owner_id=body.owner_id,
            actor=Actor.of(me),
            clock=ctx.deps.clock,
        )
    async with ctx.deps.sessions() as session:
        a = await load_assignment(session, ctx, assignment_id)
        return json_ok(AssignmentOut.of(a, await office_day(session, ctx)))


# --- reports --------------------------------------------------------------------------------


async def list_reports(ctx: ApiContext) -> web.StreamResponse:
    """Reports filed on one assignment, oldest first."""
    page = paging(ctx.request)
    async with ctx.deps.sessions() as session:
        a = await load_assignment(session, ctx, ctx.match_id("assignment_id"))
        query = select(Report).where(Report.assignment_id == a.id).order_by(Report.number)
        rows, total = await paged(session, query, page)
        return page.answer([ReportOut.model_validate(x) for x in rows], total)


async def create_report(ctx: ApiContext) -> web.StreamResponse:
    """File a progress report (the assignment's owner or its unit's liaison)."""
    body_in = validate(ReportInput, await read_json(ctx.request))
    async with ctx.deps.sessions() as session, session.begin():
        a = await load_assignment(session, ctx, ctx.match_id("assignment_id"))
        me = await current_person(session, ctx)
        report = await file_report(
            session,
            assignment=a,
            author=me,
            text=body_in.text,
            clock=ctx.deps.clock,
            channel=Origin.API,
            milestone_id=body_in.milestone_id,
        )
        body = ReportOut.model_validate(report)
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
        query = ctx.principal.scope.filter_assignments(
            select(Extension).join(Assignment, Assignment.id == Extension.assignment_id)
        )
        if state is not None:
            query = query.where(Extension.state == state)
        if assignment_id is not None:
            query = query.where(Extension.assignment_id == assignment_id)
        if unit_id is not None:
            query = query.where(Assignment.unit_id == unit_id)
        order = Keyset((Extension.created_at, Extension.id), descending=True)
        rows, total, next_id = await keyset_paged(session, query, page, order)
        return page.answer(
            [ExtensionOut.model_validate(x) for x in rows], total, keyset=True, next_id=next_id
        )


async def get_extension(ctx: ApiContext) -> web.StreamResponse:
    """One extension request."""
    async with ctx.deps.sessions() as session:
        x = await load_extension(session, ctx, ctx.match_id("extension_id"))
        return json_ok(ExtensionOut.model_validate(x))


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
        body = ExtensionOut.model_validate(x)
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
        body = ExtensionOut.model_validate(x)
    return json_ok(body)
