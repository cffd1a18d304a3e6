"""/api/v1 bulletins: stored ones and the live preview of a period.

Imports `models/`, `supervision/` and the web API plumbing only.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from sqlalchemy import select

from models import (
    Bulletin,
)
from supervision.bulletins import compute_bulletin, get_bulletin, parse_period
from supervision.errors import ValidationFailed
from web.api_core import (
    ApiContext,
    json_ok,
    paging,
)
from web.api_lookups import (
    paged,
    today_and_calendar,
)


def bulletin_json(b: Bulletin) -> dict[str, Any]:
    """A stored bulletin with its frozen figures."""
    return {
        "id": b.id,
        "period": b.period,
        "starts_on": b.starts_on,
        "ends_on": b.ends_on,
        "created_by_id": b.created_by_id,
        "created_at": b.created_at,
        "sent_at": b.sent_at,
        "data": b.data,
    }


async def list_bulletins(ctx: ApiContext) -> web.StreamResponse:
    """Stored bulletins, newest first."""
    page = paging(ctx.request)
    async with ctx.deps.sessions() as session:
        query = select(Bulletin).order_by(Bulletin.created_at.desc(), Bulletin.id.desc())
        rows, total = await paged(session, query, page)
        return page.answer([bulletin_json(b) for b in rows], total)


async def get_bulletin_route(ctx: ApiContext) -> web.StreamResponse:
    """One stored bulletin."""
    async with ctx.deps.sessions() as session:
        b = await get_bulletin(session, ctx.match_id("bulletin_id"))
        return json_ok(bulletin_json(b))


async def preview_bulletin(ctx: ApiContext) -> web.StreamResponse:
    """The figures of a period as they stand now (nothing is stored)."""
    raw = ctx.request.query.get("period")
    if not raw:
        raise ValidationFailed("period: required (2026-11, 2026-W47 or 2026-Q4)")
    period = parse_period(raw)
    async with ctx.deps.sessions() as session:
        today, cal = await today_and_calendar(session, ctx)
        data = await compute_bulletin(
            session, period, today=today, calendar=cal, tz=ctx.deps.config.tz
        )
        return json_ok(data.as_json())
