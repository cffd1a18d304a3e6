"""An item's documents to file and print: its 督办单 and 催办单 as DOCX (`web.item_docx`).

Whoever may see the item may download them (`Permission.VIEW` and the item in the person's
scope, as for the item page); others get the item page's 404. The bulletin's document is a
download of the bulletin pages (`web.views.bulletins`).
"""

from __future__ import annotations

import asyncio
from datetime import date
from zoneinfo import ZoneInfo

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models import Report
from supervision.access import Permission
from supervision.calendar_store import load_calendar
from supervision.clock import local_today
from supervision.items import due_in_force, item_light
from web.access import require
from web.app import DEPS, WebDeps
from web.docx_layout import DOCX_TYPE, attachment_disposition
from web.item_docx import SHEETS, render_sheet, sheet_name, sheet_of
from web.views.common import lang_of, path_id
from web.views.items import load_item

__all__ = ["item_sheet", "routes"]


async def _latest_report(
    session: AsyncSession, assignment_ids: list[int], tz: ZoneInfo
) -> tuple[date, str] | None:
    """The day and text of the item's latest report (any of its units'), if any."""
    if not assignment_ids:
        return None
    row = (
        await session.execute(
            select(Report.created_at, Report.text)
            .where(Report.assignment_id.in_(assignment_ids))
            .order_by(Report.created_at.desc(), Report.id.desc())
            .limit(1)
        )
    ).first()
    if row is None:
        return None
    return row.created_at.astimezone(tz).date(), row.text


async def item_sheet(request: web.Request) -> web.StreamResponse:
    """GET /items/{id}/{kind}.docx: the item's 督办单 (``supervision``) or 催办单 (``urging``)."""
    me = require(request, Permission.VIEW)
    deps: WebDeps = request.app[DEPS]
    kind = SHEETS[request.match_info["kind"]]
    tz = deps.config.tz
    async with deps.sessions() as session:
        item = await load_item(session, me, path_id(request))
        calendar = await load_calendar(session)
        today = local_today(deps.clock, tz)
        latest = await _latest_report(session, [a.id for a in item.assignments], tz)
    sheet = sheet_of(
        item,
        kind,
        due_on=due_in_force(item),
        light=item_light(item, today=today, calendar=calendar, tz=tz),
        latest=latest,
        today=today,
        calendar=calendar,
        tz=tz,
        office_name=deps.config.office_name,
    )
    lang = lang_of(request)
    body = await asyncio.to_thread(render_sheet, sheet, lang)
    fallback = f"{kind.value}-{item.id}.docx"
    return web.Response(
        body=body,
        content_type=DOCX_TYPE,
        headers={
            "Content-Disposition": attachment_disposition(sheet_name(sheet, lang), fallback),
            "Cache-Control": "private, no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


def routes(app: web.Application) -> None:
    """Register the item documents."""
    kinds = "|".join(SHEETS)
    app.router.add_get(rf"/items/{{id:\d+}}/{{kind:({kinds})}}.docx", item_sheet, name="item_sheet")
