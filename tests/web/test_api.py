"""/api/v1: bearer tokens, role and unit boundaries, error format, paging, every resource."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from models import ApiToken, Assignment, AuditEvent, Item, Notification, Person, Role, Unit
from supervision.audit import Actor
from supervision.lifecycle import cancel_item
from testing import factories as f
from tests.web.raw_http import raw_request
from web.api import ROUTES, setup_api
from web.api_tokens import hash_token
from web.app import WebConfig, WebDeps, create_app

P = "/api/v1"


@dataclass
class World:
    client: Any
    tokens: dict[str, str]
    people: dict[str, Person]
    units: dict[str, Any]
    items: dict[str, Item]
    assignments: dict[str, Assignment]
    sessions: Any
    clock: Any

    def h(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    async def get(self, who: str | None, path: str, **kw: Any) -> tuple[int, Any]:
        headers = self.h(who) if who else {}
        resp = await self.client.get(P + path, headers=headers, **kw)
        return resp.status, await resp.json()

    async def send(
        self, method: str, who: str | None, path: str, body: Any = None, **kw: Any
    ) -> tuple[int, Any]:
        headers = self.h(who) if who else {}
        resp = await self.client.request(method, P + path, headers=headers, json=body, **kw)
        return resp.status, await resp.json()


@pytest.fixture
async def world(sessions, clock, aiohttp_client_factory) -> World:
    async with sessions() as s, s.begin():
        units = {
            "A": await f.unit(s, code="A", name="甲局"),
            "B": await f.unit(s, code="B", name="乙局"),
        }
        units["A1"] = await f.unit(s, code="A1", name="甲局一科", parent=units["A"])
        people = {
            "admin": await f.person(s, roles={Role.ADMIN}),
            "sup": await f.person(s, roles={Role.SUPERVISOR}),
            "viewer": await f.person(s, roles={Role.VIEWER}),
            "liaisonA": await f.person(s, unit=units["A"], roles={Role.LIAISON}),
            "liaisonB": await f.person(s, unit=units["B"], roles={Role.LIAISON}),
            "ownerA": await f.person(s, unit=units["A"], roles={Role.OWNER}),
            "nobody": await f.person(s, roles=set()),
        }
        items = {
            "a": await f.item(s, ref="A-1", title="甲局事项", due_on=date(2026, 12, 14)),
            "b": await f.item(s, ref="B-1", title="乙局事项", due_on=date(2026, 12, 1)),
        }
        assignments = {
            "a": await f.assignment(s, item=items["a"], unit=units["A"], owner=people["ownerA"]),
            "b": await f.assignment(s, item=items["b"], unit=units["B"]),
        }
        tokens = await f.api_tokens(s, people, now=clock.now())
    app = create_app(
        WebDeps(config=WebConfig(secret_key="k"), sessions=sessions, clock=clock), [setup_api]
    )
    client = await aiohttp_client_factory(app)
    return World(client, tokens, people, units, items, assignments, sessions, clock)


def assert_error(body: Any, code: str) -> None:
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]


# --- authentication ---------------------------------------------------------------------------


async def test_every_route_needs_a_token(world):
    for op in ROUTES:
        if op.public:
            continue
        path = P + op.path.replace(r":\d+", "").format(
            **{
                n: 1
                for n in (
                    "item_id",
                    "assignment_id",
                    "extension_id",
                    "person_id",
                    "unit_id",
                    "bulletin_id",
                    "token_id",
                    "milestone_id",
                    "robot_id",
                )
            }
        )
        resp = await world.client.request(op.method, path)
        assert resp.status == 401, (op.method, path)
        assert_error(await resp.json(), "unauthorized")


async def test_bad_tokens_are_401(world):
    for header in ["Bearer", "Basic abc", "Bearer dbn_nope", "Bearer " + "x" * 300, "token"]:
        resp = await world.client.get(P + "/me", headers={"Authorization": header})
        assert resp.status == 401
        assert_error(await resp.json(), "unauthorized")


async def test_token_acts_as_its_person_and_records_use(world):
    status, body = await world.get("liaisonA", "/me")
    assert status == 200
    assert body["person"]["id"] == world.people["liaisonA"].id
    assert body["access"] == "liaison"
    assert body["unit_ids"] == sorted([world.units["A"].id, world.units["A1"].id])
    async with world.sessions() as s:
        token = await s.scalar(
            select(ApiToken).where(ApiToken.token_hash == hash_token(world.tokens["liaisonA"]))
        )
        assert token.last_used_at == world.clock.now()
        assert world.tokens["liaisonA"] not in token.token_hash


async def test_revoked_token_and_deactivated_person_are_401(world):
    async with world.sessions() as s:
        token_id = await s.scalar(
            select(ApiToken.id).where(ApiToken.token_hash == hash_token(world.tokens["liaisonA"]))
        )
    status, body = await world.send("DELETE", "admin", f"/tokens/{token_id}")
    assert status == 200 and body["revoked_at"] is not None
    status, body = await world.get("liaisonA", "/me")
    assert status == 401
    status, body = await world.send("DELETE", "admin", f"/tokens/{token_id}")
    assert status == 409
    async with world.sessions() as s, s.begin():
        (await s.get(Person, world.people["liaisonB"].id)).active = False
    assert (await world.get("liaisonB", "/me"))[0] == 401


async def test_person_without_web_access_is_403(world):
    status, body = await world.get("nobody", "/items")
    assert status == 403
    assert_error(body, "forbidden")


# --- role and unit boundaries -----------------------------------------------------------------


async def test_viewer_reads_but_cannot_write(world):
    assert (await world.get("viewer", "/items"))[1]["total"] == 2
    a = world.assignments["a"].id
    for method, path, body in [
        ("POST", "/items", {"ref": "X"}),
        ("PATCH", f"/items/{world.items['a'].id}", {"title": "x"}),
        ("POST", f"/assignments/{a}/reports", {"text": "x"}),
        (
            "POST",
            f"/assignments/{a}/extensions",
            {"reason": "x", "progress": "y", "new_due_on": "2027-01-01"},
        ),
        ("POST", "/units", {"code": "Z", "name": "z"}),
        ("POST", "/tokens", {"person_id": 1, "name": "x"}),
    ]:
        status, out = await world.send(method, "viewer", path, body)
        assert status == 403, (method, path)
        assert_error(out, "forbidden")


async def test_liaison_sees_only_their_unit(world):
    status, body = await world.get("liaisonA", "/items")
    assert status == 200
    assert [i["ref"] for i in body["data"]] == ["A-1"]
    b_item, b_assign = world.items["b"].id, world.assignments["b"].id
    for path in [
        f"/items/{b_item}",
        f"/assignments/{b_assign}",
        f"/assignments/{b_assign}/reports",
        f"/people/{world.people['liaisonB'].id}",
    ]:
        status, out = await world.get("liaisonA", path)
        assert status == 404, path
        assert_error(out, "not_found")
    status, out = await world.send(
        "POST", "liaisonA", f"/assignments/{b_assign}/reports", {"text": "进展"}
    )
    assert status == 404
    assert (await world.get("liaisonA", "/assignments"))[1]["total"] == 1
    people = (await world.get("liaisonA", "/people"))[1]
    assert {p["id"] for p in people["data"]} == {
        world.people["liaisonA"].id,
        world.people["ownerA"].id,
    }


async def test_supervisor_and_liaison_limits(world):
    status, out = await world.send("POST", "sup", "/units", {"code": "Z", "name": "z"})
    assert status == 403
    assert_error(out, "forbidden")
    status, out = await world.get("liaisonA", "/tokens")
    assert status == 403
    assert_error(out, "forbidden")


# --- items ------------------------------------------------------------------------------------


def new_item(world: World, ref: str = "NEW-1", **extra: Any) -> dict[str, Any]:
    return {
        "ref": ref,
        "title": "新事项",
        "source": "meeting",
        "received_on": "2026-11-02",
        "due_on": "2026-12-30",
        "lead": {"unit_id": world.units["A"].id, "owner_id": world.people["ownerA"].id},
        "co": [{"unit_id": world.units["B"].id}],
        **extra,
    }


async def test_create_get_update_item(world):
    status, item = await world.send("POST", "sup", "/items", new_item(world))
    assert status == 201
    assert item["ref"] == "NEW-1" and item["state"] == "open" and item["light"] == "green"
    assert [(a["role"], a["unit_name"]) for a in item["assignments"]] == [
        ("lead", "甲局"),
        ("co", "乙局"),
    ]
    status, again = await world.send("POST", "admin", "/items", new_item(world))
    assert status == 409
    assert_error(again, "conflict")
    status, got = await world.get("liaisonB", f"/items/{item['id']}")  # co unit sees it
    assert status == 200 and got["title"] == "新事项"
    status, changed = await world.send(
        "PATCH", "sup", f"/items/{item['id']}", {"title": "改后的标题", "urgent": True}
    )
    assert status == 200
    assert changed["title"] == "改后的标题" and changed["urgent"] is True
    assert changed["due_on"] == "2026-12-30" and len(changed["assignments"]) == 2
    status, out = await world.send("PATCH", "sup", f"/items/{item['id']}", {"ref": "NEW-2"})
    assert status == 400 and out["error"]["details"] == ["ref: unknown field"]
    status, out = await world.send("PATCH", "sup", "/items/9999", {"title": "x"})
    assert status == 404


async def test_item_validation_lists_every_problem(world):
    body = {"ref": "", "source": "gossip", "received_on": "2026-13-01", "lead": {}, "extra": 1}
    status, out = await world.send("POST", "sup", "/items", body)
    assert status == 400
    assert_error(out, "validation_failed")
    details = out["error"]["details"]
    for expected in [
        "extra: unknown field",
        "ref: must not be empty",
        "title: required",
        "received_on: must be a date like 2026-11-30",
        "lead.unit_id: required",
    ]:
        assert expected in details
    assert any(d.startswith("source: must be one of") for d in details)
    status, out = await world.send("POST", "sup", "/items", new_item(world, lead={"unit_id": 999}))
    assert status == 404
    async with world.sessions() as s:
        assert len((await s.scalars(select(Item))).all()) == 2


async def test_item_rules_from_the_shared_model(world):
    """The API answers the item rules of `supervision.item_schema` (also the import's)."""
    early = new_item(world, received_on="2026-12-31")
    status, out = await world.send("POST", "sup", "/items", early)
    assert status == 400
    assert out["error"]["details"] == ["due_on: 2026-12-30 is before received_on 2026-12-31"]
    status, item = await world.send("POST", "sup", "/items", new_item(world))
    assert status == 201
    lead_again = {"co": [{"unit_id": world.units["A"].id}]}
    status, out = await world.send("PATCH", "sup", f"/items/{item['id']}", lead_again)
    assert status == 400
    assert out["error"]["details"] == ["co: the lead unit cannot also be a co unit"]
    status, out = await world.send("PATCH", "sup", f"/items/{item['id']}", {})
    assert out["error"]["details"] == ["send at least one field to change"]


async def test_other_bodies_answer_through_their_models(world):
    """Reports, units and tokens parse with `web.api_models`: one line per problem."""
    a = world.assignments["a"].id
    long = {"text": "长" * 8001}
    status, out = await world.send("POST", "liaisonA", f"/assignments/{a}/reports", long)
    assert status == 400 and out["error"]["details"] == ["text: longer than 8000 characters"]
    unit = world.units["A"].id
    status, out = await world.send("PATCH", "admin", f"/units/{unit}", {})
    assert status == 400 and out["error"]["details"] == ["send at least one field to change"]
    status, out = await world.send("PATCH", "admin", f"/units/{unit}", {"code": " ", "x": 1})
    assert out["error"]["details"] == ["code: must not be empty", "x: unknown field"]
    token = {"person_id": world.people["sup"].id, "name": "x", "valid_days": 100_000}
    status, out = await world.send("POST", "admin", "/tokens", token)
    assert status == 400 and out["error"]["details"] == ["valid_days: at most 3660"]


async def test_cancelled_item_cannot_change(world):
    async with world.sessions() as s, s.begin():
        item = await s.get(Item, world.items["a"].id)
        await cancel_item(s, item, actor=Actor.system(), clock=world.clock, reason="撤销")
    status, out = await world.send("PATCH", "sup", f"/items/{world.items['a'].id}", {"title": "x"})
    assert status == 400  # no live lead unit is left
    assert_error(out, "validation_failed")


async def test_item_filters_and_paging(world):
    for n in range(5):
        status, _ = await world.send(
            "POST", "sup", "/items", new_item(world, ref=f"P-{n}", due_on=f"2026-12-2{n}", co=[])
        )
        assert status == 201
    status, page = await world.get("admin", "/items?per_page=2&page=2")
    assert status == 200
    assert (page["page"], page["per_page"], page["total"]) == (2, 2, 7)
    assert [i["ref"] for i in page["data"]] == ["P-0", "P-1"]  # by deadline after B-1, A-1
    assert (await world.get("admin", "/items?per_page=2&page=9"))[1]["data"] == []
    assert (await world.get("admin", "/items?per_page=200"))[0] == 200
    for bad in ["per_page=201", "page=0", "page=x", "state=done", "overdue=maybe", "due_from=x"]:
        status, out = await world.get("admin", f"/items?{bad}")
        assert status == 400, bad
        assert_error(out, "validation_failed")
    unit_b = world.units["B"].id
    assert [
        i["ref"] for i in (await world.get("admin", f"/items?unit_id={unit_b}"))[1]["data"]
    ] == ["B-1"]
    assert (await world.get("admin", "/items?q=P-"))[1]["total"] == 5
    assert (await world.get("admin", "/items?q=%25"))[1]["total"] == 0  # % is literal
    world.clock.set(world.clock.now().replace(month=12, day=5))
    overdue = (await world.get("admin", "/items?overdue=true"))[1]
    assert [i["ref"] for i in overdue["data"]] == ["B-1"]
    assert overdue["data"][0]["light"] == "red"
    assert (await world.get("admin", "/items?overdue=false"))[1]["total"] == 6


# --- reports and extensions -------------------------------------------------------------------


async def test_file_and_list_reports(world):
    a = world.assignments["a"].id
    status, report = await world.send(
        "POST", "liaisonA", f"/assignments/{a}/reports", {"text": "已完成调研"}
    )
    assert status == 201
    assert (report["number"], report["channel"], report["kind"]) == (1, "api", "progress")
    status, report2 = await world.send(
        "POST", "ownerA", f"/assignments/{a}/reports", {"text": "第二次"}
    )
    assert status == 201 and report2["number"] == 2
    status, out = await world.send("POST", "sup", f"/assignments/{a}/reports", {"text": "x"})
    assert status == 403  # the office reviews; it does not report
    assert_error(out, "forbidden")
    status, out = await world.send("POST", "liaisonA", f"/assignments/{a}/reports", {"text": "  "})
    assert status == 400
    assert_error(out, "validation_failed")
    status, listed = await world.get("viewer", f"/assignments/{a}/reports")
    assert status == 200 and [r["text"] for r in listed["data"]] == ["已完成调研", "第二次"]
    async with world.sessions() as s:
        assert (await s.get(Assignment, a)).last_report_at == world.clock.now()


async def test_extension_request_and_decision(world):
    a = world.assignments["a"].id
    body = {"reason": "需要协调省直部门", "progress": "已完成初稿", "new_due_on": "2026-12-31"}
    status, ext = await world.send("POST", "liaisonA", f"/assignments/{a}/extensions", body)
    assert status == 201 and ext["state"] == "pending" and ext["old_due_on"] == "2026-12-14"
    status, out = await world.send("POST", "liaisonA", f"/assignments/{a}/extensions", body)
    assert status == 400 and "pending" in out["error"]["message"]
    status, out = await world.send(
        "POST", "liaisonA", f"/extensions/{ext['id']}/decision", {"approve": True}
    )
    assert status == 403
    status, out = await world.send(
        "POST", "sup", f"/extensions/{ext['id']}/decision", {"approve": "yes"}
    )
    assert status == 400 and out["error"]["details"] == ["approve: must be true or false"]
    status, decided = await world.send(
        "POST", "sup", f"/extensions/{ext['id']}/decision", {"approve": True, "comment": "同意"}
    )
    assert status == 200 and decided["state"] == "approved"
    assert decided["decided_by_id"] == world.people["sup"].id
    status, out = await world.send(
        "POST", "sup", f"/extensions/{ext['id']}/decision", {"approve": False}
    )
    assert status == 409
    assert_error(out, "invalid_transition")
    status, got = await world.get("admin", f"/assignments/{a}")
    assert got["due_on"] == "2026-12-31"
    status, listed = await world.get("liaisonA", "/extensions?state=approved")
    assert [x["id"] for x in listed["data"]] == [ext["id"]]
    assert (await world.get("liaisonB", f"/extensions/{ext['id']}"))[0] == 404
    async with world.sessions() as s:
        kinds = (await s.scalars(select(Notification.kind))).all()
        assert kinds  # reviewers were told, the requester got the outcome


async def test_a_return_without_a_reason_is_refused_by_the_api(world):
    """退回 needs a reason (the rule of supervision.requests): 400, the request stays pending."""
    a = world.assignments["a"].id
    body = {"reason": "需要协调省直部门", "progress": "已完成初稿", "new_due_on": "2026-12-31"}
    status, ext = await world.send("POST", "liaisonA", f"/assignments/{a}/extensions", body)
    assert status == 201
    for decision in ({"approve": False}, {"approve": False, "comment": " … "}):
        status, out = await world.send("POST", "sup", f"/extensions/{ext['id']}/decision", decision)
        assert status == 400
        assert_error(out, "validation_failed")
        assert out["error"]["message"].startswith("退回须填写理由")
    status, got = await world.get("sup", f"/extensions/{ext['id']}")
    assert got["state"] == "pending" and got["decided_by_id"] is None
    async with world.sessions() as s:
        reviewed = select(AuditEvent).where(AuditEvent.action == "reviewed")
        assert (await s.scalars(reviewed)).all() == []


# --- people, units ----------------------------------------------------------------------------


async def test_people(world):
    status, page = await world.get("sup", "/people?role=liaison")
    assert status == 200 and page["total"] == 2
    person = page["data"][0]
    assert set(person) == {
        "id",
        "name",
        "email",
        "unit_id",
        "roles",
        "active",
        "locale",
        "telegram_bound",
        "wecom_userid",
        "dingtalk_userid",
        "feishu_user_id",
        "channels",
    }
    assert person["channels"] == []  # the default
    assert (await world.get("sup", "/people/9999"))[0] == 404


async def test_people_searched_by_pinyin_initials_and_unit_within_the_scope(world):
    async with world.sessions() as s, s.begin():
        s.add(Person(name="张三", unit_id=world.units["A"].id, email="zs@example.gov.cn"))
        s.add(Person(name="张散", unit_id=world.units["B"].id, email="zs2@example.gov.cn"))
    status, page = await world.get("sup", "/people?q=zs")
    assert status == 200 and sorted(p["name"] for p in page["data"]) == ["张三", "张散"]
    status, page = await world.get("liaisonA", "/people?q=zhangsan")
    assert [p["name"] for p in page["data"]] == ["张三"]  # 乙局's is outside the scope
    status, page = await world.get("sup", "/people?q=乙局")
    assert "张散" in [p["name"] for p in page["data"]] and page["total"] == 2


async def test_person_shows_the_chat_app_ids(world):
    async with world.sessions() as s:
        person = await s.get_one(Person, world.people["ownerA"].id)
        person.dingtalk_userid, person.feishu_user_id = "ding-a", "ou_a1"
        await s.commit()
    status, out = await world.get("sup", f"/people/{world.people['ownerA'].id}")
    assert status == 200
    assert (out["dingtalk_userid"], out["feishu_user_id"], out["wecom_userid"]) == (
        "ding-a", "ou_a1", None,
    )  # fmt: skip


async def test_units_admin(world):
    status, unit = await world.send("POST", "admin", "/units", {"code": "C", "name": "丙局"})
    assert status == 201 and unit["active"] is True
    status, out = await world.send("POST", "admin", "/units", {"code": "C", "name": "重复"})
    assert status == 409
    status, out = await world.send(
        "POST", "admin", "/units", {"code": "D", "name": "x", "parent_id": 999}
    )
    assert status == 400
    a, a1 = world.units["A"].id, world.units["A1"].id
    status, out = await world.send("PATCH", "admin", f"/units/{a}", {"parent_id": a1})
    assert status == 400 and "below itself" in out["error"]["message"]
    status, out = await world.send(
        "PATCH", "admin", f"/units/{unit['id']}", {"name": "丙局（新）", "parent_id": a}
    )
    assert status == 200 and out["parent_id"] == a and out["name"] == "丙局（新）"
    status, out = await world.send("PATCH", "admin", f"/units/{unit['id']}", {})
    assert status == 400
    status, out = await world.send("PATCH", "sup", f"/units/{unit['id']}", {"name": "x"})
    assert status == 403
    # A liaison lists their own unit and the units below it (A, A1 and C, now below A) only.
    assert (await world.get("sup", "/units"))[1]["total"] == 4
    assert (await world.get("liaisonA", "/units"))[1]["total"] == 3
    assert (await world.get("liaisonA", f"/units/{unit['id']}"))[1]["code"] == "C"
    assert (await world.get("liaisonA", f"/units/{world.units['B'].id}"))[0] == 404
    assert (await world.get("liaisonA", "/units/999"))[0] == 404


# --- bulletins ---------------------------------------------------------------------------------


async def test_bulletins(world):
    # Bulletins rank the whole office: the API refuses a liaison as the pages do.
    assert (await world.get("liaisonA", "/bulletins/preview?period=2026-11"))[0] == 403
    assert (await world.get("liaisonA", "/bulletins"))[0] == 403
    status, data = await world.get("viewer", "/bulletins/preview?period=2026-11")
    assert status == 200
    assert data["period_label"] == "2026年11月" and data["as_of"] == "2026-11-02"
    # Nothing is due yet on 11-02: both units are listed apart, unranked (issue #12 §5).
    assert data["rows"] == []
    assert {r["unit_code"] for r in data["unranked"]} == {"A", "B"}
    status, out = await world.get("admin", "/bulletins/preview?period=2026-13")
    assert status == 400
    assert "month must be 01-12" in out["error"]["message"]
    assert (await world.get("admin", "/bulletins/preview"))[0] == 400
    status, listed = await world.get("admin", "/bulletins")
    assert status == 200 and listed == {"data": [], "page": 1, "per_page": 50, "total": 0}
    assert (await world.get("admin", "/bulletins/1"))[0] == 404


async def test_the_bulletin_preview_names_overdue_work_a_page_at_a_time(world):
    # A large office names thousands of overdue assignments: the preview returns the
    # figures whole and one page of them, with the count of all.
    async with world.sessions() as s, s.begin():
        unit = world.units["A"]
        for n in range(7):
            item = await f.item(s, ref=f"P-{n}", title=f"逾期{n}", received_on=date(2026, 9, 1))
            due = date(2026, 10, 9) + timedelta(days=2 * n)
            await f.assignment(s, item=item, unit=unit, due_on=due)
    status, data = await world.get("admin", "/bulletins/preview?period=2026-10&per_page=3&page=2")
    assert status == 200
    assert (data["overdue_total"], data["overdue_page"]) == (7, 2)
    _, whole = await world.get("admin", "/bulletins/preview?period=2026-10&per_page=200")
    assert len(whole["overdue_items"]) == 7 and whole["overdue_items"][3:6] == data["overdue_items"]
    days = [o["days_overdue"] for o in whole["overdue_items"]]
    assert days == sorted(days, reverse=True) and days[0] > days[-1]  # worst first
    urged = data["urged"][0]
    assert (urged["overdue"], urged["items"]) == (7, [])
    assert sum(r["open_overdue"] for r in data["rows"]) == 7
    status, out = await world.get("admin", "/bulletins/preview?period=2026-10&per_page=500")
    assert status == 400 and "per_page: at most 200" in out["error"]["message"]


# --- tokens -----------------------------------------------------------------------------------


async def test_token_lifecycle_through_the_api(world):
    viewer = world.people["viewer"].id
    status, created = await world.send(
        "POST", "admin", "/tokens", {"person_id": viewer, "name": "报表系统"}
    )
    assert status == 201 and created["secret"].startswith("dbn_")
    headers = {"Authorization": f"Bearer {created['secret']}"}
    resp = await world.client.get(P + "/me", headers=headers)
    assert resp.status == 200
    status, listed = await world.get("admin", f"/tokens?person_id={viewer}")
    assert listed["total"] == 2
    assert all(
        set(t)
        == {"id", "name", "person_id", "created_at", "last_used_at", "revoked_at", "expires_at"}
        for t in listed["data"]
    )
    status, out = await world.send("POST", "admin", "/tokens", {"person_id": 999, "name": "x"})
    assert status == 404
    assert_error(out, "not_found")
    status, out = await world.send("POST", "admin", "/tokens", {"person_id": viewer, "name": ""})
    assert status == 400
    assert_error(out, "validation_failed")
    status, _ = await world.send("DELETE", "admin", f"/tokens/{created['token']['id']}")
    assert status == 200
    assert (await world.client.get(P + "/me", headers=headers)).status == 401
    assert (await world.send("DELETE", "admin", "/tokens/999"))[0] == 404


# --- bodies and unknown routes ----------------------------------------------------------------


async def test_bad_bodies(world):
    url = P + "/units"
    h = world.h("admin")
    resp = await world.client.post(url, data="code=x", headers={**h, "Content-Type": "text/plain"})
    assert resp.status == 415
    assert_error(await resp.json(), "unsupported_media_type")
    big = b'{"code": "' + b"x" * (1024 * 1024) + b'"}'
    resp = await world.client.post(url, data=big, headers={**h, "Content-Type": "application/json"})
    assert resp.status == 413
    assert_error(await resp.json(), "body_too_large")
    resp = await world.client.post(
        url, data=b"{nope", headers={**h, "Content-Type": "application/json"}
    )
    assert resp.status == 400
    assert_error(await resp.json(), "invalid_json")
    resp = await world.client.post(
        url, data=b"[1]", headers={**h, "Content-Type": "application/json"}
    )
    assert resp.status == 400
    async with world.sessions() as s:
        from models import Unit

        assert len((await s.scalars(select(Unit))).all()) == 3


async def test_unknown_routes_answer_json(world):
    resp = await world.client.get(P + "/nope", headers=world.h("admin"))
    assert resp.status == 404
    assert_error(await resp.json(), "not_found")
    resp = await world.client.put(P + "/items", headers=world.h("admin"), json={})
    assert resp.status == 405
    assert_error(await resp.json(), "method_not_allowed")
    assert set(resp.headers["Allow"].split(",")) == {"GET", "POST"}


async def test_api_beside_the_admin_pages(world, sessions, clock, aiohttp_client_factory):
    """With the session/CSRF middleware installed, the API still answers bearer JSON only."""
    from web.admin import setup_admin

    deps = WebDeps(config=WebConfig(secret_key="k"), sessions=sessions, clock=clock)
    client = await aiohttp_client_factory(create_app(deps, [setup_admin, setup_api]))
    resp = await client.get(P + "/items")
    assert resp.status == 401
    assert_error(await resp.json(), "unauthorized")
    resp = await client.post(
        P + "/units", json={"code": "Z", "name": "新单位"}, headers=world.h("admin")
    )
    assert resp.status == 201  # no CSRF token needed with a bearer token
    resp = await client.get(P + "/nope", headers=world.h("admin"))
    assert resp.status == 404
    assert_error(await resp.json(), "not_found")


async def test_stored_bulletin_and_single_records(world):
    from supervision.bulletins import compute_bulletin, freeze_bulletin
    from supervision.calendar import WorkCalendar
    from supervision.periods import parse_period
    from web.app import WebConfig as Config

    async with world.sessions() as s, s.begin():
        data = await compute_bulletin(
            s,
            parse_period("2026-11"),
            today=date(2026, 11, 2),
            calendar=WorkCalendar(),
            tz=Config(secret_key="k").tz,
        )
        stored = await freeze_bulletin(s, data, actor=Actor.system("test"), clock=world.clock)
    status, listed = await world.get("viewer", "/bulletins")
    assert status == 200 and [b["id"] for b in listed["data"]] == [stored.id]
    assert (await world.get("liaisonA", f"/bulletins/{stored.id}"))[0] == 403  # as the pages
    status, got = await world.get("viewer", f"/bulletins/{stored.id}")
    assert status == 200
    assert got["period"] == "2026-11" and got["data"]["number"] == "2026年第1期"
    assert got["sent_at"] is None
    status, person = await world.get("liaisonA", f"/people/{world.people['ownerA'].id}")
    assert status == 200 and person["roles"] == ["owner"] and person["telegram_bound"] is False
    status, unit = await world.get("viewer", f"/units/{world.units['A1'].id}")
    assert status == 200 and unit["parent_id"] == world.units["A"].id
    status, asg = await world.get("liaisonA", f"/assignments/{world.assignments['a'].id}")
    assert status == 200
    assert (asg["unit_name"], asg["role"], asg["state"], asg["light"]) == (
        "甲局",
        "lead",
        "open",
        "green",
    )
    status, listed = await world.get("sup", f"/assignments?item_id={world.items['b'].id}")
    assert [a["unit_id"] for a in listed["data"]] == [world.units["B"].id]


# --- absurd input: a 4xx in the error shape, never a 500 ----------------------------------

JSON = {"Content-Type": "application/json"}
UNIT = b'{"code": "Z", "name": "z"}'


@pytest.mark.parametrize(
    "query",
    [
        "page=-1",
        "page=0",
        "page=" + "1" + "0" * 30,
        "page=abc",
        "page=%C2%B2",  # "²": str.isdigit says yes, int() says no
        "page=%D9%A1",  # an Arabic-Indic one
        "page=1e3",
        "per_page=0",
        "per_page=201",
        "per_page=" + "9" * 5000,
        "unit_id=" + "9" * 30,
        "unit_id=2147483648",
        "unit_id=-3",
    ],
)
async def test_absurd_paging_and_ids_are_400(world, query):
    resp = await world.client.get(f"{P}/items?{query}", headers=world.h("admin"))
    assert resp.status == 400, await resp.text()
    assert_error(await resp.json(), "validation_failed")


async def test_the_last_page_allowed_is_empty_not_an_overflow(world):
    status, body = await world.get("admin", "/items?page=1000000&per_page=200")
    assert status == 200 and body["data"] == [] and body["page"] == 1_000_000
    status, body = await world.get("admin", "/items?page=1000001")
    assert status == 400 and body["error"]["details"] == ["page: at most 1000000"]


async def test_an_id_past_any_key_is_404(world):
    status, body = await world.get("admin", "/items/" + "9" * 40)
    assert status == 404
    assert_error(body, "not_found")


@pytest.mark.parametrize(
    ("content_type", "body", "code"),
    [
        ("application/json; charset=x-unknown", UNIT, "unsupported_charset"),
        ("application/json; charset=latin-1", UNIT[:-3] + b'\xe9"}', "unsupported_charset"),
        ("application/json", UNIT[:-3] + b'\xff\xfe"}', "invalid_json"),
        ("application/json", b"[" * 100_000 + b"]" * 100_000, "invalid_json"),
        ("application/json", b'{"a":' * 65 + b"1" + b"}" * 65, "invalid_json"),
    ],
)
async def test_bad_charsets_invalid_utf8_and_deep_json_are_400(world, content_type, body, code):
    resp = await world.client.post(
        P + "/units", data=body, headers={**world.h("admin"), "Content-Type": content_type}
    )
    assert resp.status == 400, await resp.text()
    assert_error(await resp.json(), code)
    async with world.sessions() as s:
        assert await s.scalar(select(func.count()).select_from(Unit)) == 3


async def test_json_nested_up_to_the_limit_is_read(world):
    body = b'{"code": "Z", "name": "z", "x":' + b"[" * 63 + b"]" * 63 + b"}"
    resp = await world.client.post(P + "/units", data=body, headers={**world.h("admin"), **JSON})
    assert resp.status == 400  # read and parsed: refused for its unknown field, not its depth
    assert (await resp.json())["error"]["details"] == ["x: unknown field"]


async def test_a_chunked_body_is_capped_too(world):
    token = world.tokens["admin"]
    head = (
        f"POST {P}/units HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
        "Content-Type: application/json\r\n"
    )
    chunk = b" " * 64 * 1024
    status = await raw_request(world.client, head, [b'{"code": "Z", "name": "z"', *[chunk] * 17])
    assert status.startswith(b"HTTP/1.1 413"), status
    status = await raw_request(world.client, head, [b'{"code": "Z", ', '"name": "乙"}'.encode()])
    assert status.startswith(b"HTTP/1.1 201"), status


@pytest.mark.parametrize(
    "header",
    [
        "Bearer ",
        "Bearer",
        "",
        "Basic dXNlcjpwYXNz",
        "bearer\tdbn_x",
        "Bearer dbn_" + "\u00e9" * 10,
        "Bearer dbn_\u4e2d\u6587",
        "Bearer dbn_a b",
        "Bearer " + "A" * 5_000,
        "Bearer dbn_%00",
    ],
)
async def test_malformed_bearer_tokens_are_401(world, header):
    resp = await world.client.get(
        P + "/me", headers={"Authorization": header.encode("utf-8").decode("latin-1")}
    )
    assert resp.status == 401, await resp.text()
    assert_error(await resp.json(), "unauthorized")


async def test_a_bearer_token_of_raw_bytes_is_401(world):
    for value in (b"Bearer dbn_\xff\xfe", b"Bearer dbn_\x7f\x01", b"Bearer \xe4\xb8\xad"):
        head = b"GET " + P.encode() + b"/me HTTP/1.1\r\nHost: x\r\nAuthorization: " + value
        status = await raw_request(world.client, head + b"\r\n", [])
        assert status.split()[1] in (b"400", b"401"), (value, status)


async def test_a_co_owner_from_another_unit_is_refused_by_the_api(world):
    outsider = new_item(
        world, co=[{"unit_id": world.units["B"].id, "owner_id": world.people["ownerA"].id}]
    )
    status, out = await world.send("POST", "sup", "/items", outsider)
    assert status == 400
    assert_error(out, "validation_failed")
    assert "不是协办单位「乙局」的人员" in out["error"]["message"]
    async with world.sessions() as s:
        assert await s.scalar(select(Item.id).where(Item.ref == "NEW-1")) is None
    own = new_item(
        world, co=[{"unit_id": world.units["B"].id, "owner_id": world.people["liaisonB"].id}]
    )
    status, item = await world.send("POST", "sup", "/items", own)
    assert status == 201
    co = [a for a in item["assignments"] if a["role"] == "co"]
    assert [a["owner_id"] for a in co] == [world.people["liaisonB"].id]
    status, out = await world.send(
        "PATCH",
        "sup",
        f"/items/{item['id']}",
        {"co": [{"unit_id": world.units["B"].id, "owner_id": world.people["ownerA"].id}]},
    )
    assert status == 400 and "不是协办单位「乙局」的人员" in out["error"]["message"]


async def test_a_lead_owner_from_another_unit_is_refused_by_the_api(world):
    """The lead unit's owner must be one of its people (as a co unit's): 400, nothing saved."""
    lead = {"unit_id": world.units["A"].id, "owner_id": world.people["liaisonB"].id}
    status, out = await world.send("POST", "sup", "/items", new_item(world, lead=lead))
    assert status == 400
    assert_error(out, "validation_failed")
    assert "不是主办单位「甲局」的人员，不能担任其责任人" in out["error"]["message"]
    async with world.sessions() as s:
        assert await s.scalar(select(Item.id).where(Item.ref == "NEW-1")) is None
    status, item = await world.send("POST", "sup", "/items", new_item(world))
    assert status == 201
    status, out = await world.send("PATCH", "sup", f"/items/{item['id']}", {"lead": lead})
    assert status == 400 and "不是主办单位「甲局」的人员" in out["error"]["message"]
    status, got = await world.get("sup", f"/items/{item['id']}")
    [own] = [a for a in got["assignments"] if a["role"] == "lead"]
    assert own["owner_id"] == world.people["ownerA"].id


async def test_a_closed_item_is_sent_back_through_the_api(world):
    from models import ItemState
    from supervision.lifecycle import transition_assignment

    path = f"/items/{world.items['a'].id}/reopen"
    body = {"reason": "现场核查不符", "due_on": "2026-12-30"}
    status, out = await world.send("POST", "sup", path, body)
    assert status == 409 and out["error"]["code"] == "invalid_transition"  # still open
    async with world.sessions() as s, s.begin():
        assignment = await s.get_one(Assignment, world.assignments["a"].id)
        await transition_assignment(
            s, assignment, ItemState.CLOSED, actor=Actor.system("t"), clock=world.clock
        )
    status, out = await world.send("POST", "liaisonA", path, body)
    assert status == 403
    status, out = await world.send("POST", "sup", path, {"reason": " ", "due_on": "2026-11-01"})
    assert status == 400 and out["error"]["code"] == "validation_failed"
    status, item = await world.send("POST", "sup", path, body)
    assert status == 200, item
    assert item["state"] == "open" and item["due_on"] == "2026-12-30"


async def test_an_assignment_is_handed_over_through_the_api(world):
    path = f"/assignments/{world.assignments['a'].id}/transfer"
    body = {"reason": "属乙局职责", "unit_id": world.units["B"].id}
    status, _ = await world.send("POST", "liaisonA", path, body)
    assert status == 403
    wrong = {**body, "owner_id": world.people["ownerA"].id}
    status, out = await world.send("POST", "sup", path, wrong)
    assert status == 400 and "不是「乙局」的人员" in out["error"]["message"]
    status, out = await world.send("POST", "sup", path, body)
    assert status == 200, out
    assert out["unit_id"] == world.units["B"].id and out["owner_id"] is None


async def test_lists_page_by_cursor_in_their_order(world):
    """``?after=`` (keyset): following ``next`` from page 1 yields every row once, in the
    list's order, each page without a total; a cursor outside the caller's rows starts from
    the first page; ``page`` numbers keep working beside it."""
    body = {"reason": "需要协调", "progress": "已完成初稿", "new_due_on": "2027-01-29"}
    for n in range(7):
        status, item = await world.send(
            "POST", "sup", "/items", new_item(world, ref=f"C-{n}", due_on="2026-12-21", co=[])
        )
        assert status == 201
        a = item["assignments"][0]["id"]
        status, _ = await world.send("POST", "liaisonA", f"/assignments/{a}/extensions", body)
        assert status == 201
    for path in ("/items", "/assignments", "/extensions"):
        status, everything = await world.get("admin", f"{path}?per_page=200")
        assert status == 200 and everything["total"] == len(everything["data"])
        assert everything["next"] is None
        ids: list[int] = []
        status, body = await world.get("admin", f"{path}?per_page=2")
        while True:
            assert status == 200
            ids += [row["id"] for row in body["data"]]
            if body["next"] is None:
                break
            assert body["next"] == body["data"][-1]["id"]
            status, body = await world.get("admin", f"{path}?per_page=2&after={body['next']}")
            assert body["total"] is None and body["page"] is None
        assert ids == [row["id"] for row in everything["data"]], path
        assert len(ids) >= 7
    refs = [i["ref"] for i in (await world.get("admin", "/items?per_page=200"))[1]["data"]]
    assert refs.index("C-0") < refs.index("C-6")  # one deadline: by 文号
    status, body = await world.get("admin", "/items?after=x")
    assert status == 400
    other = [i["id"] for i in (await world.get("admin", "/items?per_page=200"))[1]["data"]]
    mine = {i["id"] for i in (await world.get("liaisonA", "/items?per_page=200"))[1]["data"]}
    hidden = next(i for i in other if i not in mine)
    status, body = await world.get("liaisonA", f"/items?after={hidden}")
    assert status == 200 and [i["id"] for i in body["data"]][: len(mine)] == [
        i for i in other if i in mine
    ]
