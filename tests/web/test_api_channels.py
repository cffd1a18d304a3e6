"""PUT /api/v1/people/{id}/channels: a person sets their own channel preference, an admin
anyone's; bad lists are 400 and change nothing; the answer and GET show the list."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from models import AuditEvent, Person, Role
from supervision.audit import Actor
from testing import factories as f
from web.api import setup_api
from web.api_tokens import create_token
from web.app import WebConfig, WebDeps, create_app

P = "/api/v1"


@pytest.fixture
async def api(sessions, clock, aiohttp_client_factory):
    async with sessions() as s, s.begin():
        unit = await f.unit(s, code="A")
        other_unit = await f.unit(s, code="B")
        people = {
            "admin": await f.person(s, roles={Role.ADMIN}),
            "owner": await f.person(s, unit=unit, roles={Role.OWNER}),
            "liaison": await f.person(s, unit=unit, roles={Role.LIAISON}),
            "stranger": await f.person(s, unit=other_unit, roles={Role.OWNER}),
        }
        tokens = {}
        for key, p in people.items():
            made = await create_token(s, person=p, name=key, actor=Actor.system("t"), clock=clock)
            tokens[key] = made.secret
    app = create_app(
        WebDeps(config=WebConfig(secret_key="k"), sessions=sessions, clock=clock), [setup_api]
    )
    client = await aiohttp_client_factory(app)

    async def call(method: str, who: str, path: str, body: Any = None) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {tokens[who]}"}
        resp = await client.request(method, P + path, headers=headers, json=body)
        return resp.status, await resp.json()

    return call, {k: p.id for k, p in people.items()}


async def _prefs(sessions, person_id: int) -> str | None:
    async with sessions() as s:
        return (await s.get(Person, person_id)).channel_prefs


async def test_a_person_sets_their_own_channels(api, sessions):
    call, ids = api
    me = ids["owner"]
    status, body = await call("PUT", "owner", f"/people/{me}/channels", {"channels": ["email"]})
    assert status == 200 and body["channels"] == ["email"]
    status, body = await call(
        "PUT", "owner", f"/people/{me}/channels", {"channels": ["wecom_app", "email"]}
    )
    assert status == 200 and body["channels"] == ["wecom_app", "email"]
    assert (await call("GET", "owner", "/me"))[1]["person"]["channels"] == ["wecom_app", "email"]
    assert await _prefs(sessions, me) == "wecom_app,email"
    async with sessions() as s:
        events = (
            await s.scalars(
                select(AuditEvent).where(AuditEvent.entity == "person", AuditEvent.entity_id == me)
            )
        ).all()
    assert [e.detail["changes"]["channel_prefs"] for e in events] == [
        [None, "email"],
        ["email", "wecom_app,email"],
    ]
    # an empty list is the default again
    status, body = await call("PUT", "owner", f"/people/{me}/channels", {"channels": []})
    assert status == 200 and body["channels"] == [] and await _prefs(sessions, me) is None


async def test_only_oneself_or_an_admin_sets_channels(api, sessions):
    call, ids = api
    owner = ids["owner"]
    # a liaison sees the owner of their unit but may not change their channels
    status, body = await call(
        "PUT", "liaison", f"/people/{owner}/channels", {"channels": ["email"]}
    )
    assert status == 403 and "only your own" in body["error"]["message"]
    # someone of another unit does not even see them
    status, _ = await call("PUT", "stranger", f"/people/{owner}/channels", {"channels": ["email"]})
    assert status == 404
    assert await _prefs(sessions, owner) is None
    status, body = await call(
        "PUT", "admin", f"/people/{owner}/channels", {"channels": ["telegram", "email"]}
    )
    assert status == 200 and body["channels"] == ["telegram", "email"]


@pytest.mark.parametrize(
    ("channels", "reason"),
    [
        (["sms"], "channels"),
        (["email", "email"], "listed twice"),
        (["wecom"], "not a channel for a person"),  # a group robot
        ("email", "channels"),
    ],
)
async def test_a_bad_list_is_refused_and_changes_nothing(api, sessions, channels, reason):
    call, ids = api
    me = ids["owner"]
    status, body = await call("PUT", "owner", f"/people/{me}/channels", {"channels": channels})
    assert status == 400 and reason in body["error"]["message"]
    assert await _prefs(sessions, me) is None
