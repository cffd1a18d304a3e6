"""/api/v1/items/{id}/milestones: list, add, change and complete an item's milestones."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from models import AuditEvent
from tests.web.test_api import World, assert_error, world

__all__ = ["world"]  # the API world fixture, shared with tests/web/test_api.py


def stage(world: World, **extra: Any) -> dict[str, Any]:
    return {
        "name": "完成方案",
        "due_on": "2026-11-20",
        "unit_id": world.units["A"].id,
        "owner_id": world.people["ownerA"].id,
        **extra,
    }


async def test_the_office_adds_changes_and_completes_a_milestone(world: World) -> None:
    item_id = world.items["a"].id
    path = f"/items/{item_id}/milestones"
    status, added = await world.send("POST", "sup", path, stage(world))
    assert status == 201
    assert (added["name"], added["state"], added["light"], added["unit_name"]) == (
        "完成方案",
        "open",
        "green",
        "甲局",
    )
    status, changed = await world.send(
        "PATCH", "sup", f"{path}/{added['id']}", {"due_on": "2026-11-04", "owner_id": None}
    )
    assert status == 200
    assert (changed["due_on"], changed["owner_id"], changed["light"]) == (
        "2026-11-04",
        None,
        "yellow",
    )
    status, item = await world.get("sup", f"/items/{item_id}")
    assert item["light"] == "yellow"  # the item shows its worst open milestone
    status, done = await world.send("PATCH", "sup", f"{path}/{added['id']}", {"done": True})
    assert status == 200 and done["state"] == "done" and done["light"] == "grey"
    assert done["completed_at"] is not None
    status, again = await world.send("PATCH", "sup", f"{path}/{added['id']}", {"done": True})
    assert status == 409
    assert_error(again, "invalid_transition")
    status, listed = await world.get("liaisonA", path)
    assert status == 200 and [m["id"] for m in listed["data"]] == [added["id"]]
    async with world.sessions() as s:
        actions = (
            await s.scalars(
                select(AuditEvent.action).where(
                    AuditEvent.entity == "milestone", AuditEvent.entity_id == added["id"]
                )
            )
        ).all()
    assert sorted(actions) == ["complete", "create", "update"]


async def test_milestone_bodies_are_checked_and_the_office_alone_writes(world: World) -> None:
    path = f"/items/{world.items['a'].id}/milestones"
    status, out = await world.send("POST", "sup", path, stage(world, name=" ", extra=1))
    assert status == 400
    assert sorted(out["error"]["details"]) == ["extra: unknown field", "name: must not be empty"]
    status, out = await world.send(
        "POST", "sup", path, stage(world, due_on="2027-01-10", unit_id=world.units["B"].id)
    )
    assert status == 400
    assert len(out["error"]["details"]) == 2  # after the deadline; owner not of unit B
    for who in ("liaisonA", "viewer"):
        status, out = await world.send("POST", who, path, stage(world))
        assert status == 403
    status, out = await world.get("liaisonB", path)  # item a is not in unit B's scope
    assert status == 404
    status, added = await world.send("POST", "sup", path, stage(world))
    other = f"/items/{world.items['b'].id}/milestones/{added['id']}"
    status, out = await world.send("PATCH", "sup", other, {"name": "改"})
    assert status == 404  # a milestone is reached through its own item only
    status, out = await world.send("PATCH", "sup", f"{path}/{added['id']}", {})
    assert status == 400


async def test_a_report_filed_through_the_api_may_name_a_milestone_of_its_item(
    world: World,
) -> None:
    path = f"/items/{world.items['a'].id}/milestones"
    status, mine = await world.send("POST", "sup", path, stage(world))
    other = {"name": "乙", "due_on": "2026-11-20", "unit_id": world.units["B"].id}
    status, theirs = await world.send(
        "POST", "sup", f"/items/{world.items['b'].id}/milestones", other
    )
    assert status == 201
    reports = f"/assignments/{world.assignments['a'].id}/reports"
    status, report = await world.send(
        "POST", "ownerA", reports, {"text": "方案已完成", "milestone_id": mine["id"]}
    )
    assert status == 201 and report["milestone_id"] == mine["id"]
    status, out = await world.send(
        "POST", "ownerA", reports, {"text": "方案已完成", "milestone_id": theirs["id"]}
    )
    assert status == 400
    assert "不属于本事项" in out["error"]["message"]
