"""API tokens: an optional expiry (API, CLI, page) and the time of last use."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from models import ApiToken
from supervision.audit import Actor
from supervision.errors import ValidationFailed
from tests.web.test_api import P, world  # noqa: F401 -- the API world fixture
from web.api_tokens import authenticate, create_token, hash_token


async def test_a_token_stops_working_when_it_expires(world) -> None:  # noqa: F811
    new = {"person_id": world.people["sup"].id, "name": "报表", "valid_days": 2}
    status, body = await world.send("POST", "admin", "/tokens", new)
    assert status == 201
    secret = body["secret"]
    created_at = world.clock.now()
    assert body["token"]["expires_at"] == (created_at + timedelta(days=2)).isoformat()
    headers = {"Authorization": f"Bearer {secret}"}
    assert (await world.client.get(P + "/me", headers=headers)).status == 200
    async with world.sessions() as s:
        token = await s.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(secret)))
    assert token is not None and token.last_used_at == created_at
    world.clock.advance(timedelta(days=2))
    assert (await world.client.get(P + "/me", headers=headers)).status == 401
    # Tokens made without a validity keep working.
    assert (await world.get("admin", "/me"))[0] == 200


async def test_a_bad_validity_is_a_400_and_creates_nothing(world) -> None:  # noqa: F811
    async with world.sessions() as s:
        before = len((await s.scalars(select(ApiToken))).all())
    for days in (0, -3, 100_000, "ten"):
        body = {"person_id": world.people["sup"].id, "name": "x", "valid_days": days}
        status, answer = await world.send("POST", "admin", "/tokens", body)
        assert status == 400, days
        assert answer["error"]["message"]
    async with world.sessions() as s:
        assert len((await s.scalars(select(ApiToken))).all()) == before


async def test_authenticate_refuses_an_expired_token(sessions, clock) -> None:
    from testing import factories as f

    async with sessions() as s, s.begin():
        person = await f.person(s)
        created = await create_token(
            s, person=person, name="t", actor=Actor.system("t"), clock=clock, valid_days=1
        )
        with pytest.raises(ValidationFailed, match="有效天数"):
            await create_token(
                s, person=person, name="t", actor=Actor.system("t"), clock=clock, valid_days=0
            )
    async with sessions() as s, s.begin():
        assert await authenticate(s, created.secret, clock=clock) is not None
    clock.advance(timedelta(hours=23, minutes=59))
    async with sessions() as s, s.begin():
        assert await authenticate(s, created.secret, clock=clock) is not None
    clock.advance(timedelta(minutes=1))
    async with sessions() as s, s.begin():
        assert await authenticate(s, created.secret, clock=clock) is None


def test_cli_creates_a_token_with_a_validity_and_lists_it(tmp_path, monkeypatch, capsys) -> None:
    from duban.cli import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DUBAN_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path}/t.db")
    assert main(["init", "--admin-email", "a@b.cn", "--admin-password", "long-password"]) == 0
    assert main(["token", "create", "--email", "a@b.cn", "--name", "报表", "--days", "30"]) == 0
    assert "valid until" in capsys.readouterr().out
    assert main(["token", "list"]) == 0
    assert "expires: " in capsys.readouterr().out
    assert main(["token", "create", "--email", "a@b.cn", "--name", "x", "--days", "0"]) == 1
    assert "有效天数" in capsys.readouterr().err
