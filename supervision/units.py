"""Creating and changing units (责任单位): the one set of rules the admin page, the API and the
unit import share."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models import Unit
from supervision.audit import Actor, apply_changes, record
from supervision.clock import Clock
from supervision.errors import DomainError, NotFound, ValidationFailed
from supervision.import_columns import FieldProblem, field_problem, form_refusal
from supervision.import_words import ImportWord, worded

K = TypeVar("K", bound=Hashable)


def parent_cycle(parents: Mapping[K, K | None], start: K) -> list[K] | None:
    """The loop that following parents up from ``start`` runs into, as ``[a, b, …, a]``
    starting where it closes, or None when the chain ends at a top unit.

    A unit may not sit below itself: the loop of a unit whose parent changes must not start
    at that unit. (A loop further up was stored before; `save_unit` lets it be.)
    """
    chain: list[K] = [start]
    seen = {start}
    current = parents.get(start)
    while current is not None:
        if current in seen:
            return [*chain[chain.index(current) :], current]
        chain.append(current)
        seen.add(current)
        current = parents.get(current)
    return None


class CodeTaken(DomainError):
    """Another unit already has this code."""


def subtree(units: Iterable[tuple[int, int | None]], root_id: int) -> frozenset[int]:
    """``root_id`` and the ids of every unit below it, from (id, parent_id) pairs."""
    children: dict[int | None, list[int]] = {}
    for unit_id, parent_id in units:
        children.setdefault(parent_id, []).append(unit_id)
    found: set[int] = set()
    stack = [root_id]
    while stack:
        uid = stack.pop()
        if uid in found:  # a cycle already stored must not loop forever
            continue
        found.add(uid)
        stack.extend(children.get(uid, []))
    return frozenset(found)


@dataclass(frozen=True, slots=True)
class UnitNode:
    """A unit in the tree, with the units directly below it (by code)."""

    unit: Unit
    children: list[UnitNode]
    depth: int


def unit_tree(units: Sequence[Unit]) -> list[UnitNode]:
    """The units as a tree, each level by code; a unit whose parent is missing, or caught in a
    loop stored before, stands at the top so that every unit is shown once."""
    ids = {u.id for u in units}
    children: dict[int | None, list[Unit]] = {}
    for u in sorted(units, key=lambda u: (u.code, u.id)):
        parent = u.parent_id if u.parent_id in ids else None
        children.setdefault(parent, []).append(u)
    placed: set[int] = set()

    def grow(unit: Unit, depth: int) -> UnitNode:
        placed.add(unit.id)
        below = [grow(c, depth + 1) for c in children.get(unit.id, []) if c.id not in placed]
        return UnitNode(unit, below, depth)

    roots = [grow(u, 0) for u in children.get(None, [])]
    for u in sorted(units, key=lambda u: (u.code, u.id)):
        if u.id not in placed:  # in a loop: no top unit leads to it
            roots.append(grow(u, 0))
    return roots


def tree_order(nodes: Sequence[UnitNode]) -> list[int]:
    """The unit ids depth first, as the tree is read top to bottom."""
    out: list[int] = []
    for node in nodes:
        out.append(node.unit.id)
        out.extend(tree_order(node.children))
    return out


def pruned(nodes: Sequence[UnitNode], keep: Callable[[Unit], bool]) -> list[UnitNode]:
    """The tree cut down to the units ``keep`` accepts and the units above them."""
    out: list[UnitNode] = []
    for node in nodes:
        below = pruned(node.children, keep)
        if below or keep(node.unit):
            out.append(UnitNode(node.unit, below, node.depth))
    return out


@dataclass(frozen=True, slots=True)
class UnitSpec:
    """A unit as an admin wants it."""

    code: str
    name: str
    parent_id: int | None = None
    active: bool = True


async def save_unit(
    session: AsyncSession, *, unit_id: int | None, spec: UnitSpec, actor: Actor, clock: Clock
) -> Unit:
    """Create (``unit_id`` None) or change a unit; every problem is reported at once."""
    unit = None
    if unit_id is not None:
        unit = await session.get(Unit, unit_id)
        if unit is None:
            raise NotFound(f"no unit #{unit_id}")
    code, name = spec.code.strip(), spec.name.strip()
    problems: list[FieldProblem] = []
    if not code:
        problems.append(field_problem("code", ImportWord.REQUIRED))
    if not name:
        problems.append(field_problem("name", ImportWord.REQUIRED))
    if spec.parent_id is not None:
        rows = (await session.execute(select(Unit.id, Unit.parent_id))).all()
        parents: dict[int, int | None] = {unit: parent for unit, parent in rows}
        if spec.parent_id not in parents:
            problems.append(field_problem("parent_code", ImportWord.NO_UNIT_ID, id=spec.parent_id))
        if unit_id is not None:
            parents[unit_id] = spec.parent_id
            cycle = parent_cycle(parents, unit_id)
            if cycle is not None and cycle[0] == unit_id:
                problems.append(field_problem("parent_code", ImportWord.UNIT_BELOW_ITSELF))
    if problems:
        raise form_refusal(ValidationFailed, "units", problems)
    other = await session.scalar(select(Unit.id).where(Unit.code == code))
    if other is not None and other != unit_id:
        raise worded(CodeTaken, ImportWord.CODE_TAKEN, code=code)
    created = unit is None
    if unit is None:
        unit = Unit(code=code, name=name, created_at=clock.now())
        session.add(unit)
    changes = apply_changes(
        unit, {"code": code, "name": name, "parent_id": spec.parent_id, "active": spec.active}
    )
    await session.flush()
    if created or changes:
        record(
            session,
            clock=clock,
            actor=actor,
            entity="unit",
            entity_id=unit.id,
            action="create" if created else "update",
            detail=asdict(spec) | {"code": code, "name": name} if created else {"changes": changes},
        )
    return unit
