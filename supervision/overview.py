"""The supervisor's view in figures (总览): the open items by unit and light, counted in SQL.

Imports only `models/` and `supervision/`; I/O goes through the session it is given.

A cell counts what the items list shows for that unit and light (`ItemFilter` with
``unit_id`` and ``light``): the open items in the viewer's scope with an assignment to the
unit (any role, any state), by the item's light (`item_severity`: the worst of its lead
assignments and open milestones). Each open item's light is computed once and its units are
read by key (``uq_assignments_item_id_unit_id``), so the cost follows the open work and the
number of units, never the history.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, null, select, true, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from models import ACTIVE_STATES, Assignment, Item, Unit
from supervision.access import Scope
from supervision.calendar import WorkCalendar
from supervision.item_list import ItemFilter, item_severity
from supervision.light import BY_SEVERITY, Light, LightCuts

__all__ = ["MATRIX_LIGHTS", "LightMatrix", "UnitLights", "light_matrix"]

#: The matrix's columns, most severe first (closed work has no light to chase).
MATRIX_LIGHTS = (Light.RED, Light.YELLOW, Light.GREEN)


@dataclass(slots=True)
class UnitLights:
    """One unit's row of the matrix: its open items by light."""

    unit_id: int
    code: str
    name: str
    red: int = 0
    yellow: int = 0
    green: int = 0

    def count(self, light: Light) -> int:
        """The open items of the unit showing ``light``."""
        return int(getattr(self, light.value))

    @property
    def open(self) -> int:
        """The unit's open items, whatever their light."""
        return self.red + self.yellow + self.green


@dataclass(frozen=True, slots=True)
class LightMatrix:
    """Open items by light in all (each item once) and by unit (an item in each of its
    units), the units most red first."""

    totals: dict[Light, int]
    units: list[UnitLights]


async def light_matrix(
    session: AsyncSession,
    scope: Scope | None,
    *,
    today: date,
    calendar: WorkCalendar,
    tz: ZoneInfo,
) -> LightMatrix:
    """The unit x light matrix of the open items ``scope`` sees (a unit role: its units
    only), in one statement: the open items' lights, then their units."""
    cuts = LightCuts.on(today, calendar, tz)
    lit = ItemFilter(scope=scope, scope_by_key=True).apply(
        select(Item.id.label("id"), item_severity(cuts).label("severity")).where(
            Item.state.in_(ACTIVE_STATES)
        ),
        cuts,
    )
    lights = lit.cte("lit")  # used twice: PostgreSQL computes it once
    if session.get_bind().dialect.name == "postgresql":
        # Each open item's units by key (a nested loop on the unique index); as a plain
        # join the planner hashes every assignment ever made to find them.
        units_of = (
            select(Assignment.unit_id.label("unit_id"))
            .where(Assignment.item_id == lights.c.id)
            .offset(0)  # a fence: the lateral part is not pulled up into a join
            .lateral("units_of")
        )
        pairs: Any = lights.join(units_of, true())
        unit_id: Any = units_of.c.unit_id
    else:  # SQLite knows no LATERAL; it seeks each open item's units by the index itself
        pairs = lights.join(Assignment, Assignment.item_id == lights.c.id)
        unit_id = Assignment.unit_id
    # No join to the units nor filter on them here: either would let SQLite walk every
    # assignment of each unit instead of each open item's few; the scope's items are
    # already the only ones counted, the scope's units are kept below.
    per_unit = select(unit_id, lights.c.severity, func.count()).select_from(pairs)
    in_all = select(null(), lights.c.severity, func.count()).group_by(lights.c.severity)
    statement = union_all(in_all, per_unit.group_by(unit_id, lights.c.severity))
    totals = dict.fromkeys(MATRIX_LIGHTS, 0)
    cells: dict[int, dict[Light, int]] = {}
    for unit, severity, n in (await session.execute(statement)).all():
        light = BY_SEVERITY[int(severity)]  # an open item's light is never grey
        if unit is None:
            totals[light] += int(n)
        elif scope is None or scope.sees_unit(unit):
            cells.setdefault(unit, {})[light] = int(n)
    names = select(Unit.id, Unit.code, Unit.name).where(Unit.id.in_(sorted(cells)))
    units = [
        UnitLights(uid, code, name, **{light.value: n for light, n in cells[uid].items()})
        for uid, code, name in (await session.execute(names)).all()
    ]
    ordered = sorted(units, key=lambda u: (-u.red, -u.yellow, -u.green, u.code))
    return LightMatrix(totals, ordered)
