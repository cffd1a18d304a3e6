"""/api/v1 bulletins: stored ones and the live preview of a period.

Imports `models/`, `supervision/` and the web API plumbing only.
"""

from __future__ import annotations

import asyncio

from aiohttp import web
from sqlalchemy import select

from models import (
    Bulletin,
)
from supervision.bulletins import compute_bulletin, get_bulletin
from supervision.errors import ValidationFailed
from supervision.periods import parse_period
from web.api_core import (
    ApiContext,
    json_ok,
    paging,
)
from web.api_lookups import (
    office_day,
    paged,
)
from web.api_out import BulletinDataOut, BulletinOut


async def list_bulletins(ctx: ApiContext) -> web.StreamResponse:
    """Stored bulletins, newest first."""
    page = paging(ctx.request)
    async with ctx.deps.sessions() as session:
        query = select(Bulletin).order_by(Bulletin.created_at.desc(), Bulletin.id.desc())
        rows, total = await paged(session, query, page)
        return page.answer([BulletinOut.model_validate(b) for b in rows], total)


async def get_bulletin_route(ctx: ApiContext) -> web.StreamResponse:
    """One stored bulletin."""
    async with ctx.deps.sessions() as session:
        b = await get_bulletin(session, ctx.match_id("bulletin_id"))
        return json_ok(BulletinOut.model_validate(b))


async def preview_bulletin(ctx: ApiContext) -> web.StreamResponse:
    """The figures of a period as they stand now (nothing is stored), with one page of
    its overdue assignments (``?page=&per_page=``): the figures and the urged units are
    whole, ``overdue_items`` is the page and ``overdue_total`` counts them all."""
    raw = ctx.request.query.get("period")
    if not raw:
        raise ValidationFailed("period: required (2026-11, 2026-W47 or 2026-Q4)")
    period = parse_period(raw)
    page = paging(ctx.request)
    async with ctx.deps.sessions() as session:
        day = await office_day(session, ctx)
        data = await compute_bulletin(
            session, period, today=day.today, calendar=day.calendar, tz=day.tz
        )

    # Off the event loop (the answer made, checked and serialised): a provincial office's
    # bulletin names thousands of overdue items.
    def answer() -> web.Response:
        body = data.as_json(page=(page.page, page.per_page), urged_items=0)
        return json_ok(BulletinDataOut.model_validate(body))

    return await asyncio.to_thread(answer)
