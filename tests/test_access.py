"""Who may act on an assignment: every rule, tried from the wrong side too."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from models import Role
from supervision.access import (
    Action,
    actionable_assignments,
    can,
    is_reviewer,
    reviewers,
    unit_principals,
)
from tests import factories as f
from tests.bot_world import build_world


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
