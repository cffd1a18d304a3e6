"""The API tokens page: admins create (value shown once) and revoke; others are refused."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from models import ApiToken
from tests.web.conftest import SECRET, Web
from web.admin import setup_admin
from web.api import setup_api
from web.api_tokens import hash_token
from web.app import WebConfig, WebDeps, create_app
from web.views.tokens import setup_token_pages


async def client_for(sessions, clock, factory, email: str, person_id: int) -> Web:
    deps = WebDeps(config=WebConfig(secret_key=SECRET), sessions=sessions, clock=clock)
    app = create_app(deps, [setup_admin, setup_token_pages, setup_api])
    web_client = Web(await factory(app))
    assert (await web_client.login(email, person_id=person_id)).status == 303
    return web_client


@pytest.fixture
async def admin(sessions, clock, aiohttp_client_factory, seed) -> Web:
    return await client_for(
        sessions, clock, aiohttp_client_factory, "admin@example.gov.cn", seed.admin
    )


async def test_create_use_and_revoke(admin, seed, sessions):
    resp = await admin.post("/api-tokens", {"person_id": str(seed.viewer), "name": "报表"})
    assert resp.status == 200
    html = await resp.text()
    secret = re.search(r'<code id="new-token">(dbn_[^<]+)</code>', html)[1]
    async with sessions() as s:
        token = (await s.scalars(select(ApiToken))).one()
    assert token.token_hash == hash_token(secret) and token.person_id == seed.viewer
    api = await admin.client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert api.status == 200
    listing = await (await admin.get("/api-tokens")).text()
    assert "报表" in listing and secret not in listing
    resp = await admin.post(f"/api-tokens/{token.id}/revoke")
    assert resp.status == 303
    api = await admin.client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert api.status == 401
    resp = await admin.post(f"/api-tokens/{token.id}/revoke")
    assert resp.status == 400 and "already revoked" in await resp.text()
    await admin.get("/lang/en?next=/api-tokens")
    english = await (await admin.get("/api-tokens")).text()
    assert "Create token" in english and "revoked" in english and "创建令牌" not in english


async def test_bad_input_and_roles(admin, seed, sessions, clock, aiohttp_client_factory):
    assert (await admin.post("/api-tokens", {"person_id": "", "name": "x"})).status == 400
    resp = await admin.post("/api-tokens", {"person_id": str(seed.viewer), "name": " "})
    assert resp.status == 400 and "name is required" in await resp.text()
    assert (await admin.post("/api-tokens", {"name": "x"}, csrf=False)).status == 403
    async with sessions() as s:
        assert (await s.scalars(select(ApiToken))).all() == []
    sup = await client_for(
        sessions, clock, aiohttp_client_factory, "sup@example.gov.cn", seed.supervisor
    )
    assert (await sup.get("/api-tokens")).status == 403
    assert (
        await sup.post("/api-tokens", {"person_id": str(seed.supervisor), "name": "x"})
    ).status == 403


async def test_validity_in_days_from_the_page(admin, seed, sessions, clock):
    from datetime import timedelta

    resp = await admin.post(
        "/api-tokens", {"person_id": str(seed.viewer), "name": "短期", "valid_days": "7"}
    )
    assert resp.status == 200
    async with sessions() as s:
        token = (await s.scalars(select(ApiToken))).one()
    assert token.expires_at == clock.now() + timedelta(days=7)
    listing = await (await admin.get("/api-tokens")).text()
    assert "有效期至" in listing and "有效" in listing
    clock.advance(timedelta(days=7))
    admin.person_id = None  # the web session ended long before the token
    assert (await admin.login("admin@example.gov.cn", person_id=seed.admin)).status == 303
    assert "已过期" in await (await admin.get("/api-tokens")).text()
    for bad in ("abc", "0"):
        resp = await admin.post(
            "/api-tokens", {"person_id": str(seed.viewer), "name": "x", "valid_days": bad}
        )
        assert resp.status == 400 and "有效天数" in await resp.text()
    async with sessions() as s:
        assert len((await s.scalars(select(ApiToken))).all()) == 1
