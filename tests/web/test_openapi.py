"""The OpenAPI document matches the app's /api/v1 routes and is a valid OpenAPI 3.1 document."""

from __future__ import annotations

import json
import re

from aiohttp import web
from openapi_spec_validator import validate

from web.api import API_PREFIX, OPENAPI_DOC, setup_api
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


def test_a_new_route_without_documentation_is_caught():
    app = web.Application()
    setup_api(app)

    async def extra(request: web.Request) -> web.Response:
        return web.json_response({})

    app.router.add_get(API_PREFIX + "/undocumented", extra)
    assert documented(app[OPENAPI_DOC]) != registered(app)
