"""The item input models: every rule about an item's own fields, and how its problems read."""

from __future__ import annotations

from datetime import date

import pytest

from models import Source
from supervision.errors import ValidationFailed
from supervision.item_schema import ItemInput, ItemPatch
from supervision.items import AssigneeSpec, ItemSpec
from supervision.validation import validate

GOOD = {
    "ref": " A-1 ",
    "title": " 标题 ",
    "source": "meeting",
    "received_on": "2026-11-02",
    "lead": {"unit_id": 1, "owner_id": 2},
}


def details(model: type, data: object) -> list[str]:
    with pytest.raises(ValidationFailed) as caught:
        validate(model, data)
    return caught.value.errors


def test_a_good_item_becomes_a_trimmed_spec():
    spec = validate(ItemInput, {**GOOD, "co": [{"unit_id": 3}]}).spec()
    assert spec == ItemSpec(
        ref="A-1",
        title="标题",
        source=Source.MEETING,
        received_on=date(2026, 11, 2),
        lead=AssigneeSpec(1, 2, None),
        co=(AssigneeSpec(3),),
    )


def test_every_problem_is_one_line_named_by_its_field():
    bad = {
        "ref": "  ",
        "title": "x" * 501,
        "source": "gossip",
        "received_on": 20261102,
        "urgent": "yes",
        "lead": {"unit_id": "1", "owner_id": 0},
        "co": [{"unit_id": 2, "x": 1}],
        "extra": 1,
    }
    found = details(ItemInput, bad)
    assert found[:2] == ["ref: must not be empty", "title: longer than 500 characters"]
    assert found[2].startswith("source: must be one of instruction, document")
    assert found[3:] == [
        "received_on: must be a date like 2026-11-30",
        "urgent: must be true or false",
        "lead.unit_id: must be a positive integer",
        "lead.owner_id: must be a positive integer",
        "co[0].x: unknown field",
        "extra: unknown field",
    ]
    assert details(ItemInput, {}) == [
        f"{name}: required" for name in ("ref", "title", "source", "received_on", "lead")
    ]


def test_due_not_before_received_and_units_not_twice():
    early = {**GOOD, "due_on": "2026-11-01"}
    assert details(ItemInput, early) == ["due_on: 2026-11-01 is before received_on 2026-11-02"]
    assert details(ItemInput, {**GOOD, "co": [{"unit_id": 1}]}) == [
        "co: the lead unit cannot also be a co unit"
    ]
    assert details(ItemInput, {**GOOD, "co": [{"unit_id": 3}, {"unit_id": 3}]}) == [
        "co: a co unit is listed twice"
    ]
    assert validate(ItemInput, {**GOOD, "due_on": "2026-11-02"}).due_on == date(2026, 11, 2)


def test_a_patch_changes_only_what_was_sent():
    base = validate(ItemInput, {**GOOD, "due_on": "2026-12-01", "urgent": True}).spec()
    changed = validate(ItemPatch, {"title": " 新 ", "due_on": None}).apply(base)
    assert changed == ItemSpec(
        ref="A-1",
        title="新",
        source=Source.MEETING,
        received_on=date(2026, 11, 2),
        lead=AssigneeSpec(1, 2, None),
        due_on=None,
        urgent=True,
    )
    assert validate(ItemPatch, {"urgent": False}).apply(base).due_on == date(2026, 12, 1)
    assert details(ItemPatch, {}) == ["send at least one field to change"]
    assert details(ItemPatch, {"ref": "B"}) == ["ref: unknown field"]
    with pytest.raises(ValidationFailed) as caught:
        validate(ItemPatch, {"received_on": "2026-12-02"}).apply(base)
    assert caught.value.errors == ["due_on: 2026-12-01 is before received_on 2026-12-02"]
    with pytest.raises(ValidationFailed) as caught:
        validate(ItemPatch, {"co": [{"unit_id": 1}]}).apply(base)
    assert caught.value.errors == ["co: the lead unit cannot also be a co unit"]
