"""The working-day calendar (工作日历): coverage per year, importing an official schedule,
single-day overrides; items whose deadlines change are listed. Uses `supervision.calendar_admin`."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web
from sqlalchemy import select

from models import ACTIVE_STATES, CalendarDay, Item, Person
from supervision.access import Permission
from supervision.audit import Actor
from supervision.calendar_admin import coverage_report, import_schedule, set_override
from supervision.clock import local_today
from supervision.errors import DomainError
from supervision.import_words import ImportWord, say_import
from supervision.tabular import TableError, read_table
from web.access import require
from web.app import DEPS, WebDeps
from web.views.common import (
    date_or_none,
    lang_of,
    refused,
    render,
    t_for,
    table_error,
    text_field,
)

MAX_UPLOAD = 1024 * 1024


async def _page(request: web.Request, extra: dict[str, Any], status: int = 200) -> web.Response:
    deps: WebDeps = request.app[DEPS]
    today = local_today(deps.clock, deps.config.tz)
    async with deps.sessions() as session:
        due_years = (
            await session.scalars(select(Item.due_on).where(Item.state.in_(ACTIVE_STATES)))
        ).all()
        years = sorted({today.year, today.year + 1, *(d.year for d in due_years)})
        coverage = await coverage_report(session, years)
        in_use = {y: 0 for y in years}
        for day in due_years:
            in_use[day.year] = in_use.get(day.year, 0) + 1
        overrides = (
            await session.scalars(
                select(CalendarDay)
                .where(CalendarDay.source == "override")
                .order_by(CalendarDay.day.desc())
                .limit(100)
            )
        ).all()
    context = {
        "coverage": coverage,
        "in_use": in_use,
        "overrides": overrides,
        "changed": None,
        "import_result": None,
    }
    context.update(extra)
    return render(request, "calendar.html", context, status=status)


async def calendar_page(request: web.Request) -> web.StreamResponse:
    """GET /calendar."""
    require(request, Permission.VIEW_CALENDAR)
    return await _page(request, {})


async def calendar_import(request: web.Request) -> web.StreamResponse:
    """POST /calendar/import: an official schedule (CSV/XLSX: date,is_workday,note)."""
    me = require(request, Permission.EDIT_CALENDAR)
    deps: WebDeps = request.app[DEPS]
    form = await request.post()
    upload = form.get("file")
    dry_run = text_field(form, "dry_run") == "on"
    if not isinstance(upload, web.FileField):
        return await _page(request, {"errors": [t_for(request, "import.choose_file")]}, status=400)
    data = upload.file.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        too_large = say_import(ImportWord.TOO_LARGE, lang_of(request), mb=MAX_UPLOAD // 2**20)
        return await _page(request, {"errors": [too_large]}, status=400)
    try:
        table = await asyncio.to_thread(read_table, data, upload.filename)
    except TableError as exc:
        return await _page(request, {"errors": [table_error(request, exc)]}, status=400)
    try:
        async with deps.sessions() as session, session.begin():
            actor = Actor.of(await session.get_one(Person, me.person_id))
            result = await import_schedule(
                session, table, actor=actor, clock=deps.clock, dry_run=dry_run
            )
    except DomainError as exc:
        return await _page(request, {"errors": refused(request, exc)}, status=400)
    if not result.ok:
        return await _page(
            request,
            {"errors": [e.said(lang_of(request)) for e in result.errors], "import_result": result},
            status=400,
        )
    return await _page(request, {"import_result": result, "changed": result.changed_items})


async def calendar_override(request: web.Request) -> web.StreamResponse:
    """POST /calendar/override: make one day a working day or a day off."""
    me = require(request, Permission.EDIT_CALENDAR)
    deps: WebDeps = request.app[DEPS]
    form = await request.post()
    day = date_or_none(form.get("day"))
    kind = text_field(form, "is_workday")
    if day is None or kind not in ("1", "0"):
        return await _page(
            request, {"errors": ["day (YYYY-MM-DD) and working day yes/no are required"]}, 400
        )
    try:
        async with deps.sessions() as session, session.begin():
            actor = Actor.of(await session.get_one(Person, me.person_id))
            result = await set_override(
                session, day, kind == "1", text_field(form, "note", 200), actor, deps.clock
            )
    except DomainError as exc:
        return await _page(request, {"errors": refused(request, exc)}, status=400)
    saved = t_for(request, "common.saved")
    return await _page(request, {"changed": result.changed_items, "flash": f"{day}: {saved}"})


def routes(app: web.Application) -> None:
    """Register the calendar pages."""
    app.router.add_get("/calendar", calendar_page, name="calendar")
    app.router.add_post("/calendar/import", calendar_import)
    app.router.add_post("/calendar/override", calendar_override)
