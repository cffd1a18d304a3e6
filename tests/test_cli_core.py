"""``duban init``, errors as one line, and ``GET /healthz`` on the real app."""

from __future__ import annotations

import subprocess
import sys

from sqlalchemy import func, select

from duban.cli import main
from models import Person, Policy, Role
from models.db import create_sessionmaker
from web.app import WebConfig, WebDeps, create_app


def run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "duban.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def test_init_creates_admin_and_policies(tmp_path, monkeypatch):
    url = f"sqlite+aiosqlite:///{tmp_path}/x.db"
    monkeypatch.setenv("DUBAN_DATABASE_URL", url)
    assert (
        main(["init", "--admin-email", "Admin@Office.cn", "--admin-password", "s3cret-pass"]) == 0
    )
    assert main(["init"]) == 0  # idempotent

    import asyncio

    from models.db import create_engine

    async def check():
        engine = create_engine(url)
        async with create_sessionmaker(engine)() as s:
            admin = await s.scalar(select(Person).where(Person.email == "admin@office.cn"))
            policies = await s.scalar(select(func.count()).select_from(Policy))
        await engine.dispose()
        return admin, policies

    admin, policies = asyncio.run(check())
    assert admin is not None and Role.ADMIN in admin.roles
    assert admin.password_hash and "s3cret" not in admin.password_hash
    assert policies == 14


def test_errors_are_one_line(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "DUBAN_WEB_PORT": "0x"}
    res = run_cli("init", env=env)
    assert res.returncode == 2
    assert res.stderr.strip().count("\n") == 0
    assert "DUBAN_WEB_PORT" in res.stderr and "Traceback" not in res.stderr
    env = {"PATH": "/usr/bin:/bin", "DUBAN_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/y.db"}
    res = run_cli("init", "--admin-email", "a@b.cn", "--admin-password", "short", env=env)
    assert res.returncode == 1 and "at least 8" in res.stderr and "Traceback" not in res.stderr


def test_init_worker_and_mail_poll_import_only_what_they_use():
    # `duban init` and `duban worker` live in modules of other names (core, deliver): parsing
    # them imports that module only, not robots' aiogram or the web app of the others; the
    # mail reader's wiring needs neither (each took seconds of every start of these commands).
    probe = (
        "import sys, duban.cli;"
        "words = [sorted(duban.cli.build_parser(w)._subparsers._actions[-1].choices)"
        " for w in ('init', 'worker', 'mail')];"
        "import duban.mailbox;"
        "print(words, [m in sys.modules for m in ('aiogram', 'web.app', 'duban.process')])"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    words = [["init", "run"], ["deliver", "worker"], ["mail"]]
    assert out.stdout.strip() == f"{words} [False, False, False]"


async def test_healthz(aiohttp_client_factory, sessions):
    app = create_app(WebDeps(config=WebConfig(secret_key="k"), sessions=sessions))
    client = await aiohttp_client_factory(app)
    resp = await client.get("/healthz")
    assert resp.status == 200
    assert (await resp.json()) == {"status": "ok", "checks": {"database": "ok"}}


async def test_healthz_reports_redis_down(aiohttp_client_factory, sessions):
    from redis.asyncio import Redis

    redis = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    app = create_app(WebDeps(config=WebConfig(secret_key="k"), sessions=sessions, redis=redis))
    client = await aiohttp_client_factory(app)
    resp = await client.get("/healthz")
    assert resp.status == 503
    assert (await resp.json())["checks"] == {"database": "ok", "redis": "error"}
    await redis.aclose()
