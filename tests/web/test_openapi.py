"""The OpenAPI document matches the app's /api/v1 routes and is a valid OpenAPI 3.1 document."""

from __future__ import annotations

import json
import re

from aiohttp import web
from openapi_spec_validator import validate

from models import Source
from supervision.item_schema import ItemInput, ItemPatch
from web.api import API_PREFIX, OPENAPI_DOC, setup_api
from web.api_models import Decision, ExtensionInput, ReportInput, TokenInput, UnitInput, UnitPatch
from web.app import WebConfig, WebDeps, create_app

METHODS = {"get", "post", "put", "patch", "delete"}


def registered(app: web.Application) -> set[tuple[str, str]]:
    """(method, path) of every /api/v1 route the app really serves (HEAD is aiohttp's)."""
    out = set()
    for route in app.router.routes():
        path = route.resource.canonical if route.resource is not None else ""
        if path.startswith(API_PREFIX) and route.method.lower() in METHODS:
            out.add((route.method.lower(), path))
    return out


def documented(doc: dict) -> set[tuple[str, str]]:
    return {
        (method, path) for path, ops in doc["paths"].items() for method in ops if method in METHODS
    }


async def test_document_matches_routes_and_validates(aiohttp_client_factory, sessions):
    app = create_app(WebDeps(config=WebConfig(secret_key="k"), sessions=sessions), [setup_api])
    client = await aiohttp_client_factory(app)
    resp = await client.get(API_PREFIX + "/openapi.json")  # public: no token
    assert resp.status == 200
    doc = await resp.json()
    assert doc["openapi"].startswith("3.1")
    routes = registered(app)
    assert len(routes) > 20
    assert documented(doc) == routes
    validate(doc)
    # Every path parameter of a documented path is declared.
    for path, ops in doc["paths"].items():
        names = set(re.findall(r"{(\w+)}", path))
        for op in ops.values():
            declared = {p["name"] for p in op.get("parameters", []) if p["in"] == "path"}
            assert declared == names, path
    # Every $ref points at a schema that exists.
    for name in re.findall(r"#/components/schemas/(\w+)", json.dumps(doc)):
        assert name in doc["components"]["schemas"], name


def test_input_components_are_the_models_schemas():
    schemas = setup_doc()["components"]["schemas"]
    models = (ItemInput, ItemPatch, ReportInput, ExtensionInput, Decision, UnitInput, UnitPatch)
    for model in (*models, TokenInput):
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        schema.pop("$defs", None)
        assert schemas[model.__name__] == schema
    assert schemas["Source"]["enum"] == [s.value for s in Source]
    assert schemas["Item"]["properties"]["source"]["enum"] == [s.value for s in Source]
    assert "unit_id" in schemas["AssigneeInput"]["required"]


def setup_doc() -> dict:
    app = web.Application()
    setup_api(app)
    return app[OPENAPI_DOC]


def test_a_new_route_without_documentation_is_caught():
    app = web.Application()
    setup_api(app)

    async def extra(request: web.Request) -> web.Response:
        return web.json_response({})

    app.router.add_get(API_PREFIX + "/undocumented", extra)
    assert documented(app[OPENAPI_DOC]) != registered(app)


async def test_responses_match_the_documented_schemas(aiohttp_client_factory, sessions, clock):
    """Every GET answer (and the bodies of a few writes) validates against the document."""
    from datetime import date

    from jsonschema import Draft202012Validator

    from models import Role
    from supervision.audit import Actor
    from supervision.bulletins import compute_bulletin, freeze_bulletin
    from supervision.calendar import WorkCalendar
    from supervision.periods import parse_period
    from testing import factories as f
    from web.api_tokens import create_token

    async with sessions() as s, s.begin():
        unit = await f.unit(s, code="A", name="甲局")
        admin = await f.person(s, roles={Role.ADMIN})
        liaison = await f.person(s, unit=unit, roles={Role.LIAISON}, telegram_user_id=42)
        tokens = {
            p.id: (
                await create_token(s, person=p, name="t", actor=Actor.system(), clock=clock)
            ).secret
            for p in (admin, liaison)
        }
        data = await compute_bulletin(
            s,
            parse_period("2026-10"),
            today=date(2026, 11, 2),
            calendar=WorkCalendar(),
            tz=WebConfig(secret_key="k").tz,
        )
        bulletin = await freeze_bulletin(s, data, actor=Actor.system(), clock=clock)
    app = create_app(
        WebDeps(config=WebConfig(secret_key="k"), sessions=sessions, clock=clock), [setup_api]
    )
    client = await aiohttp_client_factory(app)
    doc = await (await client.get(API_PREFIX + "/openapi.json")).json()
    as_admin = {"Authorization": f"Bearer {tokens[admin.id]}"}
    as_liaison = {"Authorization": f"Bearer {tokens[liaison.id]}"}

    def check(method: str, path: str, status: int, body: object) -> None:
        op = doc["paths"][path][method]
        answer = op["responses"][str(status)]
        schema = answer["content"]["application/json"]["schema"]
        validator = Draft202012Validator({**schema, "components": doc["components"]})
        errors = [e.message for e in validator.iter_errors(body)]
        assert not errors, (method, path, errors[:3])

    item_body = {
        "ref": "R-1",
        "title": "事项",
        "source": "meeting",
        "received_on": "2026-10-08",
        "due_on": "2026-10-20",
        "lead": {"unit_id": unit.id, "owner_id": liaison.id},
    }
    robot_body = {
        "name": "甲局工作群",
        "kind": "wecom",
        "url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx-4bc4",
        "unit_id": unit.id,
    }
    writes = [
        ("post", "/items", as_admin, item_body, 201),
        ("post", "/assignments/{assignment_id}/reports", as_liaison, {"text": "进展"}, 201),
        ("post", "/tokens", as_admin, {"person_id": liaison.id, "name": "n"}, 201),
        ("post", "/units", as_admin, {"code": "B", "name": "乙局"}, 201),
        ("post", "/robots", as_admin, robot_body, 201),
        ("post", "/items", as_admin, {"ref": ""}, 400),
        ("post", "/items", as_liaison, item_body, 403),
    ]
    ids = {
        "item_id": 1,
        "assignment_id": 1,
        "person_id": liaison.id,
        "unit_id": unit.id,
        "bulletin_id": bulletin.id,
        "token_id": 1,
        "extension_id": 1,
        "robot_id": 1,
    }
    for method, path, headers, body, status in writes:
        resp = await client.request(
            method, API_PREFIX + path.format(**ids), json=body, headers=headers
        )
        assert resp.status == status, (path, await resp.text())
        check(method, API_PREFIX + path, status, await resp.json())
    # an extension, created before the deadline passes (the clock is at 2026-11-02; move the
    # item's deadline later first)
    resp = await client.patch(
        API_PREFIX + "/items/1", json={"due_on": "2026-12-30"}, headers=as_admin
    )
    check("patch", API_PREFIX + "/items/{item_id}", 200, await resp.json())
    resp = await client.post(
        API_PREFIX + "/assignments/1/extensions",
        json={"reason": "需协调", "progress": "已完成初稿", "new_due_on": "2027-01-15"},
        headers=as_liaison,
    )
    assert resp.status == 201
    check("post", API_PREFIX + "/assignments/{assignment_id}/extensions", 201, await resp.json())
    # (a rejection needs a comment: without one this checked an error body against Extension,
    # which passed only while the hand-written schema required no field)
    resp = await client.post(
        API_PREFIX + "/extensions/1/decision",
        json={"approve": False, "comment": "请补充材料"},
        headers=as_admin,
    )
    assert resp.status == 200, await resp.text()
    check("post", API_PREFIX + "/extensions/{extension_id}/decision", 200, await resp.json())

    checked = 0
    for path, ops in doc["paths"].items():
        if "get" not in ops or path.endswith("openapi.json"):
            continue
        url = path.format(**ids)
        if path.endswith("/preview"):
            url += "?period=2026-10"
        for headers in (as_admin, as_liaison):
            resp = await client.get(url, headers=headers)
            assert resp.status in (200, 403), (url, resp.status)
            check("get", path, resp.status, await resp.json())
            checked += 1
    assert checked >= 30
    resp = await client.get(API_PREFIX + "/items/999", headers=as_admin)
    check("get", API_PREFIX + "/items/{item_id}", 404, await resp.json())
