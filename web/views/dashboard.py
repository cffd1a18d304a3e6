"""The dashboard (总览): counts by light, per-unit figures with an SVG chart, overdue items,
and a warning for years in use without an official calendar."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from aiohttp import web
from markupsafe import Markup, escape
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import ACTIVE_STATES, Item
from supervision.access import Permission
from supervision.bulletins import UnitFigures, compute_bulletin
from supervision.calendar_store import load_calendar
from supervision.clock import local_today
from supervision.errors import ValidationFailed
from supervision.item_list import ItemFilter, ItemRow, light_counts, page_items
from supervision.light import Light
from supervision.periods import Period, parse_period
from web.access import require
from web.app import DEPS, WebDeps
from web.auth import Principal
from web.views.common import render, t_for

CHART_WIDTH = 640
OVERDUE_SHOWN = 50
BAR_HEIGHT = 22


@dataclass(frozen=True, slots=True)
class DashboardData:
    """What the dashboard shows."""

    counts: dict[str, int]
    units: list[UnitFigures]
    overdue: list[ItemRow]  # the first OVERDUE_SHOWN by deadline
    red_total: int
    fallback_years: list[int]
    period_label: str


def year_period(year: int) -> Period:
    """A whole calendar year as a bulletin period (the dashboard's default)."""
    return Period(str(year), "year", date(year, 1, 1), date(year, 12, 31), f"{year}")


async def dashboard_data(
    session: AsyncSession, me: Principal, deps: WebDeps, period: Period | None = None
) -> DashboardData:
    """Compute the dashboard for ``me`` (a liaison sees only their units): the counts and
    the overdue list in the database, the first `OVERDUE_SHOWN` overdue items listed."""
    today = local_today(deps.clock, deps.config.tz)
    calendar = await load_calendar(session)
    mine = ItemFilter(scope=me.scope)
    counts = await light_counts(session, mine, today=today, calendar=calendar, tz=deps.config.tz)
    red = await page_items(
        session,
        ItemFilter(scope=me.scope, light=Light.RED),
        today=today,
        calendar=calendar,
        tz=deps.config.tz,
        limit=OVERDUE_SHOWN,
        count=False,
    )
    period = period or year_period(today.year)
    figures = await compute_bulletin(
        session, period, today=today, calendar=calendar, tz=deps.config.tz, overdue_list=False
    )
    # The chart shows each unit's lead (主办) work: ranked units, then those with nothing due.
    lead = figures.ranking("lead") + [u for u in figures.unranked if u.role == "lead"]
    units = [u for u in lead if me.scope.sees_unit(u.unit_id)]
    years = {today.year, *await _years_in_use(session, mine)}
    return DashboardData(
        counts={light.value: n for light, n in counts.items()},
        units=units,
        overdue=red.rows,
        red_total=counts[Light.RED],
        fallback_years=calendar.fallback_years(years),
        period_label=period.label,
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


def rate_chart(units: list[UnitFigures], title: str) -> Markup:
    """A horizontal bar chart of on-time rates as inline SVG (every label escaped)."""
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
        width = round(bar_w * rate) if rate is not None else 0
        colour = "#1e8e3e" if (rate or 0) >= 0.9 else "#c98a00" if (rate or 0) >= 0.6 else "#c5221f"
        text = "—" if rate is None else f"{rate * 100:.0f}%"
        parts.append(
            f'<text x="{label_w - 6}" y="{y + 16}" text-anchor="end" font-size="13">'
            f"{escape(unit.unit_name)}</text>"
            f'<rect x="{label_w}" y="{y}" width="{width}" height="{BAR_HEIGHT}" fill="{colour}">'
            f"<title>{escape(unit.unit_name)}: {text}</title></rect>"
            f'<text x="{label_w + width + 6}" y="{y + 16}" font-size="13">{text}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text above went through escape()


async def dashboard(request: web.Request) -> web.StreamResponse:
    """GET /: the dashboard."""
    me = require(request, Permission.VIEW)
    deps: WebDeps = request.app[DEPS]
    errors: list[str] = []
    period = None
    raw = request.query.get("period", "").strip()[:20]
    if raw:
        try:
            period = parse_period(raw)
        except ValidationFailed as exc:
            errors.append(str(exc))
    async with deps.sessions() as session:
        try:
            data = await dashboard_data(session, me, deps, period)
        except ValidationFailed as exc:  # a period that has not started yet
            errors.append(str(exc))
            data = await dashboard_data(session, me, deps)
    return render(
        request,
        "dashboard.html",
        {
            "data": data,
            "chart": rate_chart(data.units, t_for(request, "dash.chart")),
            "period": raw,
            "errors": errors,
        },
        status=400 if errors else 200,
    )


def routes(app: web.Application) -> None:
    """Register the dashboard."""
    app.router.add_get("/", dashboard, name="dashboard")
