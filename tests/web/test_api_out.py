"""The /api/v1 answer models (`web.api_out`): what they read, derive and publish."""

from __future__ import annotations

from datetime import UTC, date, datetime
from types import SimpleNamespace
from typing import Any

from models import AssignmentRole, ItemState, ReviewState, Role, Source
from supervision.access import Tier
from supervision.audit import Actor
from supervision.light import Light
from supervision.timeline import EntryKind
from testing import factories as f
from web.api import setup_api
from web.api_core import error_response
from web.api_out import BulletinOut, ErrorOut, PersonOut
from web.api_tokens import create_token
from web.app import WebConfig, WebDeps, create_app
from web.openapi import SCHEMAS

P = "/api/v1"
AT = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)


def _enum_of(schema: dict[str, Any]) -> list[str]:
    return list(schema.get("items", schema)["enum"])


def test_answer_components_are_named_as_before_and_take_the_model_enums():
    props = {name: s["properties"] for name, s in SCHEMAS.items() if "properties" in s}
    assert not [name for name in SCHEMAS if name.endswith("Out")]
    assert _enum_of(props["Item"]["source"]) == [s.value for s in Source]
    assert _enum_of(props["Item"]["state"]) == [s.value for s in ItemState]
    assert _enum_of(props["Item"]["light"]) == [x.value for x in Light]
    assert _enum_of(props["Assignment"]["role"]) == [r.value for r in AssignmentRole]
    assert _enum_of(props["Extension"]["state"]) == [s.value for s in ReviewState]
    assert _enum_of(props["Person"]["roles"]) == [r.value for r in Role]
    assert _enum_of(props["Me"]["access"]) == [t.value for t in Tier]
    assert _enum_of(props["TimelineEntry"]["kind"]) == [k.value for k in EntryKind]
    # every field of an answer is always sent, so the schema says so
    assert set(SCHEMAS["Item"]["required"]) == set(props["Item"])
    assert SCHEMAS["Item"]["properties"]["assignments"]["items"] == {
        "$ref": "#/components/schemas/Assignment"
    }
    # the error body's details are optional, as sent
    assert SCHEMAS["ErrorDetail"]["required"] == ["code", "message"]


def test_person_is_read_from_the_row_without_its_secrets():
    row = SimpleNamespace(
        id=3,
        name="张三",
        email=None,
        unit_id=None,
        roles=frozenset({Role.SUPERVISOR, Role.ADMIN}),
        active=True,
        locale="zh",
        telegram_chat_id=-100123,
        password_hash="$argon2id$...",
    )
    body = PersonOut.model_validate(row).body()
    assert body["roles"] == [Role.ADMIN, Role.SUPERVISOR]
    assert body["telegram_bound"] is True
    assert "password_hash" not in body and "telegram_chat_id" not in body


def test_a_bulletin_frozen_before_version_2_is_still_served():
    """Old frozen data has no version, no role per row and no unranked/urged lists."""
    v1 = {
        "number": "2026年第1期",
        "period": "2026-10",
        "period_kind": "month",
        "period_label": "2026年10月",
        "starts_on": "2026-10-01",
        "ends_on": "2026-10-31",
        "as_of": "2026-10-31",
        "issued_on": "2026-11-02",
        "rows": [
            {
                "rank": 1,
                "unit_id": 1,
                "unit_code": "A",
                "unit_name": "甲局",
                "assigned": 2,
                "closed_in_period": 1,
                "closed_on_time": 1,
                "closed_late": 0,
                "open_overdue": 0,
                "overdue": 0,
                "extensions": 0,
                "on_time_rate": 1.0,
            }
        ],
        "overdue_items": [
            {
                "assignment_id": 4,
                "item_id": 2,
                "ref": "R-2",
                "title": "事项",
                "unit_name": "甲局",
                "due_on": "2026-10-20",
                "days_overdue": 3,
                "closed_late": True,
            }
        ],
        "praised_units": ["甲局"],
        "urged_units": [],
        "totals": {"assigned": 2, "on_time_rate": 1.0},
    }
    row = SimpleNamespace(
        id=1,
        period="2026-10",
        starts_on=date(2026, 10, 1),
        ends_on=date(2026, 10, 31),
        created_by_id=None,
        created_at=AT,
        sent_at=None,
        data=v1,
    )
    data = BulletinOut.model_validate(row).body()["data"]
    assert data["version"] == 1 and data["unranked"] == [] and data["urged"] == []
    assert data["rows"][0]["role"] is None and data["rows"][0]["unit_name"] == "甲局"
    assert data["overdue_items"][0]["due_on"] == date(2026, 10, 20)


async def test_errors_are_served_through_their_model():
    assert ErrorOut.of("not_found", "no item #9").body() == {
        "error": {"code": "not_found", "message": "no item #9"}
    }
    resp = error_response(400, "validation_failed", "bad", ["a: x", "b: y"])
    assert resp.text == (
        '{"error": {"code": "validation_failed", "message": "bad", "details": ["a: x", "b: y"]}}'
    )


async def test_an_approved_extension_moves_the_items_deadline_in_the_api(
    sessions, clock, aiohttp_client_factory
):
    """The item shows the deadline in force (the lead unit's, extended); the item's own date
    stays as registered, and filters and ordering use the one in force."""
    async with sessions() as s, s.begin():
        lead_unit = await f.unit(s, code="A", name="甲局")
        co_unit = await f.unit(s, code="B", name="乙局")
        owner = await f.person(s, unit=lead_unit, roles={Role.OWNER})
        sup = await f.person(s, roles={Role.SUPERVISOR})
        item = await f.item(s, ref="X-1", due_on=date(2026, 12, 14))
        other = await f.item(s, ref="X-2", due_on=date(2026, 12, 20))
        lead = await f.assignment(s, item=item, unit=lead_unit, owner=owner)
        co = await f.assignment(s, item=item, unit=co_unit, role=AssignmentRole.CO)
        await f.assignment(s, item=other, unit=co_unit)
        tokens = {
            p.id: (
                await create_token(s, person=p, name="t", actor=Actor.system(), clock=clock)
            ).secret
            for p in (owner, sup)
        }
    app = create_app(
        WebDeps(config=WebConfig(secret_key="k"), sessions=sessions, clock=clock), [setup_api]
    )
    client = await aiohttp_client_factory(app)

    def as_(p: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {tokens[p.id]}"}

    resp = await client.post(
        f"{P}/assignments/{lead.id}/extensions",
        json={"reason": "需协调", "progress": "已完成初稿", "new_due_on": "2026-12-31"},
        headers=as_(owner),
    )
    assert resp.status == 201, await resp.text()
    ext = await resp.json()
    got = await (await client.get(f"{P}/items/{item.id}", headers=as_(sup))).json()
    assert (got["due_on"], got["original_due_on"]) == ("2026-12-14", "2026-12-14")  # pending

    resp = await client.post(
        f"{P}/extensions/{ext['id']}/decision", json={"approve": True}, headers=as_(sup)
    )
    assert resp.status == 200, await resp.text()
    got = await (await client.get(f"{P}/items/{item.id}", headers=as_(sup))).json()
    assert (got["due_on"], got["original_due_on"]) == ("2026-12-31", "2026-12-14")
    dues = {a["id"]: a["due_on"] for a in got["assignments"]}
    # the co unit's follows the lead's, 5 working days (the policy's co_lead_days) earlier
    assert dues == {lead.id: "2026-12-31", co.id: "2026-12-24"}

    # filters and the order go by the deadline in force
    listed = await (await client.get(f"{P}/items", headers=as_(sup))).json()
    assert [i["ref"] for i in listed["data"]] == ["X-2", "X-1"]
    late = await (await client.get(f"{P}/items?due_from=2026-12-21", headers=as_(sup))).json()
    assert [i["ref"] for i in late["data"]] == ["X-1"]
    early = await (await client.get(f"{P}/items?due_to=2026-12-21", headers=as_(sup))).json()
    assert [i["ref"] for i in early["data"]] == ["X-2"]

    # changing another field keeps the extension (the item's own date is what PATCH edits)
    resp = await client.patch(f"{P}/items/{item.id}", json={"title": "新标题"}, headers=as_(sup))
    assert resp.status == 200, await resp.text()
    got = await resp.json()
    assert (got["title"], got["due_on"], got["original_due_on"]) == (
        "新标题",
        "2026-12-31",
        "2026-12-14",
    )


async def test_an_items_timeline_through_the_api(sessions, clock, aiohttp_client_factory):
    """GET /items/{id}/timeline: the same history as the page, in codes, paged, in scope."""
    async with sessions() as s, s.begin():
        mine = await f.unit(s, code="A", name="甲局")
        other = await f.unit(s, code="B", name="乙局")
        owner = await f.person(s, name="李四", unit=mine, roles={Role.OWNER})
        outsider = await f.person(s, unit=other, roles={Role.LIAISON})
        sup = await f.person(s, roles={Role.SUPERVISOR})
        item = await f.item(s, ref="TL-1", due_on=date(2026, 12, 14))
        lead = await f.assignment(s, item=item, unit=mine, owner=owner)
        tokens = {
            p.id: (
                await create_token(s, person=p, name="t", actor=Actor.system(), clock=clock)
            ).secret
            for p in (owner, outsider, sup)
        }
    app = create_app(
        WebDeps(config=WebConfig(secret_key="k"), sessions=sessions, clock=clock), [setup_api]
    )
    client = await aiohttp_client_factory(app)

    def as_(p: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {tokens[p.id]}"}

    resp = await client.post(
        f"{P}/assignments/{lead.id}/reports", json={"text": "已完成调研"}, headers=as_(owner)
    )
    assert resp.status == 201
    url = f"{P}/items/{item.id}/timeline"
    resp = await client.get(url, headers=as_(owner))
    assert resp.status == 200
    page = await resp.json()
    report = next(e for e in page["data"] if e["kind"] == "report")
    assert report == {
        "at": report["at"],
        "kind": "report",
        "subject": "progress",
        "assignment_id": lead.id,
        "unit_name": "甲局",
        "entity_id": report["entity_id"],
        "number": 1,
        "channel": "api",
        "status": None,
        "state_from": None,
        "state_to": None,
        "old_due_on": None,
        "new_due_on": None,
        "detail": "已完成调研",
        "who": "李四",
        "files": [],
    }
    assert any(e["subject"] == "report:filed" for e in page["data"])
    assert page["total"] == len(page["data"]) >= 2
    first = await (await client.get(url + "?per_page=1&page=2", headers=as_(sup))).json()
    assert first["total"] == page["total"] and first["data"] == page["data"][1:2]

    # out of scope, missing, unauthenticated: the API's usual answers
    resp = await client.get(url, headers=as_(outsider))
    assert resp.status == 404 and (await resp.json())["error"]["code"] == "not_found"
    assert (await client.get(f"{P}/items/{item.id + 99}/timeline", headers=as_(sup))).status == 404
    assert (await client.get(url)).status == 401


async def test_an_items_history_in_words_through_the_api(sessions, clock, aiohttp_client_factory):
    """GET /items/{id}/history: the page's sentences, in the caller's language or ``lang``."""
    async with sessions() as s, s.begin():
        unit = await f.unit(s, code="A", name="甲局")
        owner = await f.person(s, name="李四", unit=unit, roles={Role.OWNER}, locale="en")
        item = await f.item(s, ref="TL-2", due_on=date(2026, 12, 14))
        lead = await f.assignment(s, item=item, unit=unit, owner=owner)
        token = await create_token(s, person=owner, name="t", actor=Actor.system(), clock=clock)
    app = create_app(
        WebDeps(config=WebConfig(secret_key="k"), sessions=sessions, clock=clock), [setup_api]
    )
    client = await aiohttp_client_factory(app)
    auth = {"Authorization": f"Bearer {token.secret}"}
    resp = await client.post(
        f"{P}/assignments/{lead.id}/reports", json={"text": "已完成调研"}, headers=auth
    )
    assert resp.status == 201
    url = f"{P}/items/{item.id}/history"
    said = await (await client.get(url, headers=auth)).json()  # the caller's locale: English
    report = next(line for line in said["data"] if line["kind"] == "report")
    assert report == {
        "at": report["at"],
        "kind": "report",
        "text": "李四 (甲局) reported progress (report 1, by API)",
        "detail": "已完成调研",
        "files": [],
    }
    zh = await (await client.get(url + "?lang=zh", headers=auth)).json()
    assert "李四（甲局）提交了进展（第1次，通过接口）" in [line["text"] for line in zh["data"]]
    assert zh["total"] == said["total"]
    resp = await client.get(url + "?lang=fr", headers=auth)
    assert resp.status == 400
