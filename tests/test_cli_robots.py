"""``duban robots list|add|set|remove|test`` through the real CLI, against fake robots."""

from __future__ import annotations

import asyncio
import io

import pytest
from sqlalchemy import select

import duban.cli
from duban.runtime import open_runtime
from models import AuditEvent, GroupWebhook
from models.db import create_sessionmaker
from supervision.robots import opened
from supervision.sealing import Sealer
from testing import factories as f
from testing.fakes.robots import FakeRobots

DING_SECRET = "SEC" + "0123456789abcdef" * 4
KEY = "cli-robots-secret-key-0123456789abcdefghij"


@pytest.fixture
async def robots(clock):
    async with FakeRobots(clock=clock) as server:
        yield server


@pytest.fixture
async def cli(engine, db_url, clock, monkeypatch, capsys, robots):
    """Run ``duban ...`` in-process on the test database, the fake robots' host allowed."""
    async with create_sessionmaker(engine)() as session, session.begin():
        await f.unit(session, code="FGW", name="发改委")
    monkeypatch.setenv("DUBAN_DATABASE_URL", db_url)
    monkeypatch.setenv("DUBAN_ROBOT_HOSTS", robots.host)
    monkeypatch.setenv("DUBAN_SECRET_KEY", KEY)
    monkeypatch.setattr(duban.cli, "open_runtime", lambda settings: open_runtime(settings, clock))

    async def run(*args: str, stdin: str = "") -> tuple[int, str, str]:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        code = await asyncio.to_thread(duban.cli.main, list(args))
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


async def test_add_list_test_set_and_remove(cli, robots, sessions, monkeypatch) -> None:
    url = robots.add("dingtalk", secret=DING_SECRET)
    code, out, err = await cli(
        "robots", "add", "--name", "发改委工作群", "--kind", "dingtalk", "--url", url,
        "--unit", "FGW", "--steps", "overdue,escalate", "--secret-stdin", stdin=DING_SECRET + "\n",
    )  # fmt: skip
    assert code == 0, err
    key = url.rsplit("=", 1)[1]
    assert "access_token=***" in out and key not in out
    async with sessions() as s:
        hook = await s.scalar(select(GroupWebhook))
        assert hook is not None and opened(hook, Sealer(KEY)) == (url, DING_SECRET)
        assert DING_SECRET not in (hook.secret or "") and key not in hook.url
    code, out, _ = await cli("robots", "list")
    assert code == 0 and "发改委工作群" in out and "逾期督办、升级督办" in out and "FGW" in out
    assert key not in out and DING_SECRET not in out
    code, out, _ = await cli("robots", "test", str(hook.id))
    assert code == 0 and "机器人已接收" in out and "errcode 0" in out
    code, out, _ = await cli(
        "robots", "set", str(hook.id), "--secret-stdin", stdin="SEC" + "e" * 64
    )
    assert code == 0
    code, out, _ = await cli("robots", "test", str(hook.id))
    assert code == 1 and "errcode 310000" in out and "sign not match" in out
    code, out, _ = await cli("robots", "set", str(hook.id), "--leadership", "--disable")
    async with sessions() as s:
        again = await s.get_one(GroupWebhook, hook.id)
        assert again.unit_id is None and not again.active and opened(again, Sealer(KEY))[0] == url
    code, out, _ = await cli("robots", "list")
    assert code == 0 and "领导群（全部单位）" in out and "停用" in out and "已设置" in out
    monkeypatch.setenv("DUBAN_OFFICE_LOCALE", "en")  # the office's language, not a mix of both
    code, out, _ = await cli("robots", "list")
    assert code == 0 and "Leadership group (every unit)" in out and "Disabled" in out
    assert "领导群" not in out and "停用" not in out
    monkeypatch.setenv("DUBAN_OFFICE_LOCALE", "zh")
    code, out, _ = await cli("robots", "remove", str(hook.id))
    assert code == 0 and "removed" in out
    async with sessions() as s:
        actions = (await s.scalars(select(AuditEvent.action).order_by(AuditEvent.id))).all()
        assert actions == ["create", "test_message", "update", "test_message", "update", "delete"]


async def test_bad_input_says_why_and_changes_nothing(cli, sessions, monkeypatch) -> None:
    code, _, err = await cli(
        "robots", "add", "--name", "群", "--kind", "wecom", "--unit", "FGW",
        "--url", "https://evil.example/cgi-bin/webhook/send?key=abcdefgh12",
    )  # fmt: skip
    assert code == 1 and "evil.example" in err and "not this kind of robot's" in err
    code, _, err = await cli(
        "robots", "add", "--name", "群", "--kind", "wecom", "--unit", "NOPE", "--url", "x"
    )
    assert code == 2 and "no unit with code NOPE" in err
    code, _, err = await cli("robots", "test", "42")
    assert code == 1 and "群机器人 #42 不存在" in err
    # Robots are sealed with the services' key: the built-in one is refused.
    monkeypatch.delenv("DUBAN_SECRET_KEY")
    code, _, err = await cli(
        "robots", "add", "--name", "群", "--kind", "wecom", "--unit", "FGW",
        "--url", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abcdefgh12",
    )  # fmt: skip
    assert code == 2 and "DUBAN_SECRET_KEY must be set" in err
    async with sessions() as s:
        assert (await s.scalars(select(GroupWebhook))).all() == []
