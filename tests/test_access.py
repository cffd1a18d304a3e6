"""Who may see and do what (`supervision.access`): every rule, tried from the wrong side too."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import Assignment, Item, Person, Role, Unit
from supervision.access import (
    Action,
    Permission,
    Tier,
    actionable_assignments,
    can,
    holders,
    is_reviewer,
    item_visible,
    reviewers,
    scope_for,
    unit_principals,
)
from supervision.calendar import WorkCalendar
from supervision.items import list_items
from testing import factories as f
from testing.bot_world import build_world


async def test_owner_and_liaison_report_others_do_not(session: AsyncSession) -> None:
    w = await build_world(session)
    a = w.a_document
    assert can(w.owner, Action.REPORT, a)
    assert can(w.liaison, Action.REPORT, a)
    assert not can(w.outsider, Action.REPORT, a)
    assert not can(w.supervisor, Action.REPORT, a)
    assert not can(w.principal, Action.REPORT, a)
    assert not can(None, Action.REPORT, a)


async def test_liaison_of_another_unit_may_not_report(session: AsyncSession) -> None:
    w = await build_world(session)
    other_liaison = await f.person(session, unit=w.other_unit, roles={Role.LIAISON})
    assert not can(other_liaison, Action.REPORT, w.a_document)
    assert can(other_liaison, Action.REPORT, w.a_outside)


async def test_sign_off_only_by_the_units_principal(session: AsyncSession) -> None:
    w = await build_world(session)
    other_principal = await f.person(session, unit=w.other_unit, roles={Role.PRINCIPAL})
    assert can(w.principal, Action.SIGN_OFF, w.a_instruction)
    assert not can(other_principal, Action.SIGN_OFF, w.a_instruction)
    assert not can(w.owner, Action.SIGN_OFF, w.a_instruction)
    assert not can(w.supervisor, Action.SIGN_OFF, w.a_instruction)


async def test_review_only_by_supervisors_and_admins(session: AsyncSession) -> None:
    w = await build_world(session)
    admin = await f.person(session, roles={Role.ADMIN})
    assert can(w.supervisor, Action.REVIEW, w.a_document)
    assert can(admin, Action.REVIEW, w.a_document)
    assert not can(w.owner, Action.REVIEW, w.a_document)
    assert not can(w.principal, Action.REVIEW, w.a_document)
    assert [is_reviewer(p) for p in (w.supervisor, admin, w.owner, w.principal)] == [
        True,
        True,
        False,
        False,
    ]


async def test_deactivated_person_may_do_nothing(session: AsyncSession) -> None:
    w = await build_world(session)
    w.owner.active = False
    for action in Action:
        assert not can(w.owner, action, w.a_document)


async def test_lists(session: AsyncSession) -> None:
    w = await build_world(session)
    mine = await actionable_assignments(session, w.owner)
    assert {a.id for a in mine} == {w.a_instruction.id, w.a_document.id}
    liaison = await actionable_assignments(session, w.liaison)
    assert {a.id for a in liaison} == {w.a_instruction.id, w.a_document.id}
    assert [a.id for a in await actionable_assignments(session, w.outsider)] == [w.a_outside.id]
    assert [p.id for p in await unit_principals(session, w.unit.id)] == [w.principal.id]
    assert [p.id for p in await reviewers(session)] == [w.supervisor.id]


# --- the Scope: the role table written out, so a changed rule shows here ---------------------


async def _office(session: AsyncSession) -> dict[str, Any]:
    """Units A > A1 and B, one person per role (in A where the role has a unit), four items."""
    a = await f.unit(session, code="A")
    a1 = await f.unit(session, code="A1", parent=a)
    b = await f.unit(session, code="B")
    people = {
        "admin": await f.person(session, roles={Role.ADMIN}),
        "supervisor": await f.person(session, roles={Role.SUPERVISOR}),
        "liaison": await f.person(session, unit=a, roles={Role.LIAISON}),
        "owner": await f.person(session, unit=a, roles={Role.OWNER}),
        "principal": await f.person(session, unit=a, roles={Role.PRINCIPAL}),
        "viewer": await f.person(session, roles={Role.VIEWER}),
        "nobody": await f.person(session),
        "inactive": await f.person(session, unit=a, roles={Role.LIAISON}),
    }
    people["nobody"].set_roles(set())
    people["inactive"].active = False
    a1_owner = await f.person(session, unit=a1)
    b_owner = await f.person(session, unit=b)
    spec = {
        "A": (a, people["owner"]),
        "A1": (a1, a1_owner),
        "B": (b, b_owner),
        "named": (b, people["nobody"]),
    }
    assignments = {}
    for key, (unit, owner) in spec.items():
        item = await f.item(session, ref=f"ref-{key}")
        assignments[key] = await f.assignment(session, item=item, unit=unit, owner=owner)
    await session.commit()
    return {"units": {"A": a, "A1": a1, "B": b}, "people": people, "assignments": assignments}


async def test_tiers_and_their_permissions(session: AsyncSession) -> None:
    o = await _office(session)
    scopes = {k: await scope_for(session, p) for k, p in o["people"].items()}
    assert {k: s.tier for k, s in scopes.items()} == {
        "admin": Tier.ADMIN,
        "supervisor": Tier.SUPERVISOR,
        "liaison": Tier.LIAISON,
        "owner": Tier.LIAISON,
        "principal": Tier.LIAISON,
        "viewer": Tier.VIEWER,
        "nobody": None,
        "inactive": None,
    }
    assert all(scopes["admin"].allows(p) for p in Permission)
    office = {p for p in Permission if scopes["supervisor"].allows(p)}
    assert office == {
        Permission.VIEW,
        Permission.EDIT_ITEMS,
        Permission.IMPORT_ITEMS,
        Permission.REVIEW,
        Permission.VIEW_BULLETINS,
        Permission.ISSUE_BULLETINS,
        Permission.VIEW_DELIVERIES,
        Permission.RETRY_DELIVERIES,
        Permission.VIEW_POLICIES,
        Permission.VIEW_CALENDAR,
    }
    # Bulletins rank the whole office: viewers read them, liaisons do not.
    assert {p for p in Permission if scopes["viewer"].allows(p)} == {
        Permission.VIEW,
        Permission.VIEW_BULLETINS,
    }
    assert {p for p in Permission if scopes["liaison"].allows(p)} == {Permission.VIEW}
    assert not any(scopes["nobody"].allows(p) for p in Permission)
    assert not any(scopes["inactive"].allows(p) for p in Permission)
    assert holders(Permission.VIEW_BULLETINS) == (Tier.ADMIN, Tier.SUPERVISOR, Tier.VIEWER)
    assert {k for k, s in scopes.items() if s.signs_off} == {"principal"}


@pytest.mark.dialects  # filter_items_by_key fences its EXISTS with OFFSET 0
async def test_who_sees_which_items_units_and_desk(session: AsyncSession) -> None:
    o = await _office(session)
    people, asg, units = o["people"], o["assignments"], o["units"]
    key_of = {a.item_id: k for k, a in asg.items()}

    async def seen(who: str) -> set[str]:
        scope = await scope_for(session, people[who])
        ids = (await session.scalars(scope.filter_items(select(Item.id)))).all()
        by_key = (await session.scalars(scope.filter_items_by_key(select(Item.id)))).all()
        assert sorted(by_key) == sorted(ids)  # the same rule, asked item by item
        listed = (await session.scalars(scope.filter_assignments(select(Assignment)))).all()
        assert {a.item_id for a in listed} == set(ids)  # assignments follow their items
        for item_id in key_of:
            assert await item_visible(session, scope, item_id) is (item_id in ids)
        return {key_of[i] for i in ids}

    async def desk(who: str) -> set[str]:
        scope = await scope_for(session, people[who])
        return {key_of[a.item_id] for a in (await session.scalars(scope.worklist())).all()}

    everything = {"A", "A1", "B", "named"}
    for who in ("admin", "supervisor", "viewer"):
        assert await seen(who) == everything
        assert await desk(who) == set()  # the office is not handed every item in chat
    for who in ("liaison", "owner", "principal"):
        assert await seen(who) == {"A", "A1"}  # their unit and the unit below it
        assert await desk(who) == {"A", "A1"}
    assert await seen("nobody") == {"named"}  # only what names them
    assert await desk("nobody") == {"named"}
    assert await seen("inactive") == set() and await desk("inactive") == set()
    liaison = await scope_for(session, people["liaison"])
    assert liaison.unit_ids == {units["A"].id, units["A1"].id}
    assert [liaison.sees_unit(units[k].id) for k in ("A", "A1", "B")] == [True, True, False]
    listed = (await session.scalars(liaison.filter_units(select(Unit.code)))).all()
    assert sorted(listed) == ["A", "A1"]
    people_seen = (await session.scalars(liaison.filter_people(select(Person.unit_id)))).all()
    assert set(people_seen) == {units["A"].id, units["A1"].id}
    # Seeing the subunit's item does not make it theirs to act on.
    assert liaison.can(Action.REPORT, asg["A"]) and not liaison.can(Action.REPORT, asg["A1"])
    assert not liaison.can(Action.REPORT, asg["B"])


async def test_item_list_is_filtered_in_the_database(sessions) -> None:
    async with sessions() as session:
        o = await _office(session)
        scope = await scope_for(session, o["people"]["liaison"])
    seen: list[str] = []

    def remember(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    async with sessions() as session:
        engine = session.bind.sync_engine  # type: ignore[union-attr]
        event.listen(engine, "before_cursor_execute", remember)
        try:
            rows = await list_items(
                session, today=date(2026, 11, 2), calendar=WorkCalendar(), visible_to=scope
            )
        finally:
            event.remove(engine, "before_cursor_execute", remember)
    assert sorted(r.ref for r in rows) == ["ref-A", "ref-A1"]
    item_queries = [s for s in seen if "FROM items" in s and "items.ref" in s]
    assert item_queries and all("assignments.unit_id IN" in s for s in item_queries)
