"""The dashboard (总览): open items by unit and light, the overdue items page by page with
their working days late, a period's per-unit figures with an SVG chart, and a warning for
years in use without an official calendar.

Every figure is counted in the database and scoped to the viewer (a unit role sees its
units only): `supervision.overview` (the matrix), `supervision.item_list` (the overdue
list), `supervision.bulletins` (the period's figures, summed per unit)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from urllib.parse import urlencode

from aiohttp import web
from markupsafe import Markup, escape
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import ACTIVE_STATES, Item
from supervision.access import Permission
from supervision.bulletins import BulletinData, UnitFigures, compute_bulletin
from supervision.calendar_store import load_calendar
from supervision.clock import local_today
from supervision.deadlines import days_left
from supervision.errors import ValidationFailed
from supervision.item_list import Cursor, ItemFilter, ItemPage, ItemRow, page_items
from supervision.light import Light
from supervision.overview import MATRIX_LIGHTS, LightMatrix, light_matrix
from supervision.periods import Period, parse_period
from web.access import require
from web.app import DEPS, WebDeps
from web.auth import Principal
from web.views.common import int_or_none, render_large, t_for

CHART_WIDTH = 640
OVERDUE_SHOWN = 50
BAR_HEIGHT = 22
ZERO_BAR = 3  # px: a 0 % bar is a sliver in the track, so it reads as 0 %, not as missing


@dataclass(frozen=True, slots=True)
class OverdueRow:
    """An overdue item as the dashboard lists it."""

    item: ItemRow
    days_late: int  # working days past the deadline in force (`deadlines.days_late`)


@dataclass(frozen=True, slots=True)
class DashboardData:
    """What the dashboard shows."""

    matrix: LightMatrix
    units: list[UnitFigures]
    overdue: list[OverdueRow]  # one page, most days late first
    overdue_total: int
    overdue_more: bool  # rows beyond these in the direction read
    overdue_since: date  # the list is the open items due before this day (today)
    fallback_years: list[int]
    period_label: str  # in Chinese (2026年11月)
    period_key: str  # as typed (2026-11): what an English page shows


def month_period(day: date) -> Period:
    """The month of ``day`` (the dashboard's default period: its figures cost what a month
    holds, where a year's cost ten times as much at 100,000 items; docs/BENCHMARKS.md)."""
    return parse_period(f"{day:%Y-%m}")


async def dashboard_data(
    deps: WebDeps,
    me: Principal,
    period: Period | None = None,
    cursor: Cursor | None = None,
) -> DashboardData:
    """Compute the dashboard for ``me``: the matrix, one page of the overdue items (the page
    next to ``cursor``) and the period's per-unit figures, all counted in the database.

    The three parts do not depend on each other: each runs in a session of its own, at the
    same time, so the page waits for the slowest part, not for their sum."""
    tz = deps.config.tz
    today = local_today(deps.clock, tz)
    async with deps.sessions() as session:
        calendar = await load_calendar(session)

    async def matrix() -> LightMatrix:
        async with deps.sessions() as session:
            return await light_matrix(session, me.scope, today=today, calendar=calendar, tz=tz)

    async def overdue() -> ItemPage:
        async with deps.sessions() as session:
            return await page_items(
                session,
                ItemFilter(scope=me.scope, overdue_on=today, scope_by_key=True),
                today=today,
                calendar=calendar,
                tz=tz,
                limit=OVERDUE_SHOWN,
                cursor=cursor,
            )

    async def figures(period: Period) -> tuple[BulletinData, set[int]]:
        async with deps.sessions() as session:
            data = await compute_bulletin(
                session, period, today=today, calendar=calendar, tz=tz, overdue_list=False
            )
            # the office's calendar, for everyone's deadlines: the years of all open items
            return data, await _years_in_use(session, ItemFilter())

    period = period or month_period(today)
    lights, late, (summed, years) = await asyncio.gather(matrix(), overdue(), figures(period))
    # The chart shows each unit's lead (主办) work: ranked units, then those with nothing due.
    lead = summed.ranking("lead") + [u for u in summed.unranked if u.role == "lead"]
    return DashboardData(
        matrix=lights,
        units=[u for u in lead if me.scope.sees_unit(u.unit_id)],
        overdue=[OverdueRow(r, -days_left(today, r.due_on, calendar)) for r in late.rows],
        overdue_total=late.total,
        overdue_more=late.more,
        overdue_since=today,
        fallback_years=calendar.fallback_years({today.year, *years}),
        period_label=period.label,
        period_key=period.key,
    )


async def _years_in_use(session: AsyncSession, where: ItemFilter) -> set[int]:
    """The years from the earliest to the latest of the open items' received and due dates:
    counting working days between two of them needs each year between (one aggregate over
    the open items, not a list of their dates)."""
    query = where.apply(
        select(
            func.min(Item.received_on),
            func.max(Item.received_on),
            func.max(Item.due_on),
            func.max(Item.due_in_force),
        )
    ).where(Item.state.in_(ACTIVE_STATES))
    first, *lasts = (await session.execute(query)).one()
    if first is None:
        return set()
    return set(range(first.year, max(day.year for day in lasts if day is not None) + 1))


def overdue_pager(
    period: str, cursor: Cursor | None, rows: list[OverdueRow], more: bool
) -> dict[str, str]:
    """The overdue list's links (query strings of ``/``): the next page after the last row
    shown, the previous one before the first, and the first page (keyset: a page costs the
    same however deep it is)."""

    def query(**cursor_value: int) -> str:
        values: dict[str, str | int] = {"period": period} if period else {}
        values.update(cursor_value)
        return "?" + urlencode(values) if values else ""

    if not rows:
        return {"first": query()} if cursor is not None else {}
    back = cursor is not None and cursor.before
    links: dict[str, str] = {}
    if more or back:
        links["next"] = query(after=rows[-1].item.id)
    if cursor is not None:
        links["first"] = query()
        if more or not back:
            links["prev"] = query(before=rows[0].item.id)
    return links


def _cursor(query: Mapping[str, str]) -> Cursor | None:
    """The overdue list's keyset cursor from ``after`` / ``before`` (``after`` wins)."""
    for name, before in (("after", False), ("before", True)):
        value = int_or_none(query.get(name))
        if value is not None and 0 < value < 2**31:
            return Cursor(value, before=before)
    return None


def rate_chart(units: list[UnitFigures], title: str) -> Markup:
    """A horizontal bar chart of on-time rates as inline SVG (every label escaped): each
    unit with something judged gets a track for 100 % and its bar in it, a 0 % bar a sliver
    and its label; a unit with nothing judged gets "—"."""
    label_w = 160
    bar_w = CHART_WIDTH - label_w - 60
    height = max(1, len(units)) * (BAR_HEIGHT + 6) + 10
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" class="chart" '
        f'width="{CHART_WIDTH}" height="{height}" viewBox="0 0 {CHART_WIDTH} {height}">',
        f"<title>{escape(title)}</title>",
    ]
    for i, unit in enumerate(units):
        y = 5 + i * (BAR_HEIGHT + 6)
        rate = unit.on_time_rate
        name = escape(unit.unit_name)
        parts.append(
            f'<text x="{label_w - 6}" y="{y + 16}" text-anchor="end" font-size="13">{name}</text>'
        )
        if rate is None:
            parts.append(f'<text x="{label_w + 6}" y="{y + 16}" font-size="13">—</text>')
            continue
        width = max(ZERO_BAR, round(bar_w * rate))
        colour = "#1e8e3e" if rate >= 0.9 else "#c98a00" if rate >= 0.6 else "#c5221f"
        text = f"{rate * 100:.0f}%"
        parts.append(
            f'<rect class="track" x="{label_w}" y="{y}" width="{bar_w}" height="{BAR_HEIGHT}" '
            f'fill="#eef0f3"/>'
            f'<rect class="bar" data-rate="{text}" x="{label_w}" y="{y}" width="{width}" '
            f'height="{BAR_HEIGHT}" fill="{colour}"><title>{name}: {text}</title></rect>'
            f'<text x="{label_w + width + 6}" y="{y + 16}" font-size="13">{text}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text above went through escape()


async def dashboard(request: web.Request) -> web.StreamResponse:
    """GET /: the dashboard."""
    me = require(request, Permission.VIEW)
    deps: WebDeps = request.app[DEPS]
    errors: list[str] = []
    raw = request.query.get("period", "").strip()[:20]
    period = None
    if raw:
        try:
            period = parse_period(raw)
        except ValidationFailed:
            errors.append(t_for(request, "dash.bad_period", period=raw))
    today = local_today(deps.clock, deps.config.tz)
    if period is not None and period.starts_on > today:
        errors.append(t_for(request, "dash.future_period", period=raw, start=period.starts_on))
        period = None
    cursor = _cursor(request.query)
    data = await dashboard_data(deps, me, period, cursor)
    # a row per unit in three places (300 units: 0.2 MB): built off the event loop
    return await render_large(
        request,
        "dashboard.html",
        {
            "data": data,
            "lights": MATRIX_LIGHTS,
            "chart": rate_chart(data.units, t_for(request, "dash.chart")),
            "period": raw,
            "pager": overdue_pager("" if errors else raw, cursor, data.overdue, data.overdue_more),
            "overdue_all": "/items?"
            + urlencode(
                {"light": Light.RED.value, "due_to": data.overdue_since - timedelta(days=1)}
            ),
            "errors": errors,
        },
        status=400 if errors else 200,
    )


def routes(app: web.Application) -> None:
    """Register the dashboard."""
    app.router.add_get("/", dashboard, name="dashboard")
