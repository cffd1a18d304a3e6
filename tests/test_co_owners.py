"""协办 units have their own 责任人 (issue 12 §3): the rules, as `save_item` and the
recipients of a ladder step hold them."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from models import Assignment, AssignmentRole, Item, Role, Source
from notifier.recipients import RecipientDirectory, RecipientNeed
from supervision.audit import Actor
from supervision.errors import ValidationFailed
from supervision.items import AssigneeSpec, ItemSpec, save_item
from supervision.labels import told
from supervision.policy import ensure_default_policies
from testing import factories as f

ACTOR = Actor.system("test")


async def _org(session):
    await ensure_default_policies(session)
    lead = await f.unit(session, code="LEAD", name="主办局")
    co = await f.unit(session, code="CO", name="协办局")
    other = await f.unit(session, code="OTHER", name="他局")
    return {
        "lead": lead,
        "co": co,
        "other": other,
        "lead_owner": await f.person(session, name="主办责任人", unit=lead),
        "co_owner": await f.person(session, name="协办责任人", unit=co),
        "co_liaison": await f.person(session, name="协办联络员", unit=co, roles={Role.LIAISON}),
        "outsider": await f.person(session, name="外单位人员", unit=other),
    }


def _spec(org, *co: AssigneeSpec) -> ItemSpec:
    return ItemSpec(
        ref="督〔2026〕9号",
        title="协办事项",
        source=Source.MEETING,
        received_on=date(2026, 11, 2),
        lead=AssigneeSpec(org["lead"].id, org["lead_owner"].id),
        co=co,
    )


async def test_a_co_unit_gets_its_own_owner(session, clock):
    org = await _org(session)
    spec = _spec(org, AssigneeSpec(org["co"].id, org["co_owner"].id))
    result = await save_item(session, spec, actor=ACTOR, clock=clock)
    co = await session.scalar(
        select(Assignment).where(
            Assignment.item_id == result.item.id, Assignment.role == AssignmentRole.CO.value
        )
    )
    assert co is not None and co.owner_id == org["co_owner"].id


async def test_a_co_owner_must_belong_to_the_co_unit(session, clock):
    org = await _org(session)
    spec = _spec(org, AssigneeSpec(org["co"].id, org["outsider"].id))
    with pytest.raises(ValidationFailed) as caught:
        await save_item(session, spec, actor=ACTOR, clock=clock)
    said = "外单位人员不是协办单位「协办局」的人员，不能担任其责任人（请选择该单位的人员）"
    assert told(caught.value, "zh") == said  # and in English for an English reader
    assert told(caught.value, "en").startswith("外单位人员 is not a member of the co-operating")
    assert await session.scalar(select(func.count()).select_from(Item)) == 0


async def test_a_co_owner_cannot_be_changed_to_someone_of_another_unit(session, clock):
    org = await _org(session)
    await save_item(session, _spec(org, AssigneeSpec(org["co"].id)), actor=ACTOR, clock=clock)
    with pytest.raises(ValidationFailed):
        await save_item(
            session,
            _spec(org, AssigneeSpec(org["co"].id, org["lead_owner"].id)),
            actor=ACTOR,
            clock=clock,
        )


async def test_a_co_unit_without_an_owner_is_reached_through_its_liaisons(session, clock):
    org = await _org(session)
    co, liaison, owner = org["co"], org["co_liaison"], org["co_owner"]
    await session.flush()
    without = RecipientNeed(co.id, None, None, (Role.OWNER.value,))
    named = RecipientNeed(co.id, owner.id, None, (Role.OWNER.value,))
    directory = await RecipientDirectory.load(session, [without, named])
    assert [(p.id, roles) for p, roles in directory.resolve(without)] == [(liaison.id, ("owner",))]
    assert [p.id for p, _ in directory.resolve(named)] == [owner.id]
