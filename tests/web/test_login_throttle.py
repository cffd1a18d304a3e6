"""Login throttling: counted atomically per account and per address, a wait and never a
refusal, argon2 off the event loop with bounded concurrency, X-Forwarded-For only when
trusted."""

from __future__ import annotations

import asyncio
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from models import LoginThrottle
from supervision.accounts import verify_password
from tests.web.conftest import PASSWORD, SECRET, Seed, Waits, Web, make_app
from web.app import WebConfig
from web.throttle import FREE_FAILURES, MAX_DELAY, LoginGuard, delay_for

#: On SQLite and PostgreSQL: the throttle counts with each dialect's upsert.
counting = pytest.mark.dialects

ADMIN = "admin@example.gov.cn"


async def client(sessions, clock, factory, *, guard=None, config=None) -> tuple[Web, Waits]:
    waits = Waits()
    guard = guard or LoginGuard(sleep=waits)
    app = make_app(sessions, clock, config=config, guard=guard)
    web_client = Web(await factory(app))
    await web_client.get("/login")
    return web_client, waits


def test_delay_grows_with_failures_and_is_bounded() -> None:
    assert [delay_for(n) for n in range(FREE_FAILURES)] == [0.0] * FREE_FAILURES
    assert delay_for(FREE_FAILURES) > 0
    assert delay_for(FREE_FAILURES + 1) == 2 * delay_for(FREE_FAILURES)
    assert delay_for(10_000) == MAX_DELAY


@counting
async def test_right_password_still_gets_in_after_ten_failures(
    sessions, clock, aiohttp_client_factory, seed: Seed
) -> None:
    web_client, waits = await client(sessions, clock, aiohttp_client_factory)
    for _ in range(10):
        clock.advance(timedelta(seconds=30))
        response = await web_client.post("/login", {"email": ADMIN, "password": "bad"})
        assert response.status == 401
    assert waits.delays == [delay_for(n) for n in range(FREE_FAILURES, 10)]
    waits.delays.clear()
    response = await web_client.post("/login", {"email": ADMIN, "password": PASSWORD})
    assert response.status == 303  # not refused: it waited, then got in
    assert waits.delays == [delay_for(10)]
    web_client.person_id = seed.admin
    assert (await web_client.get("/items")).status == 200
    # The right password cleared the account's count and gave back its own address count.
    async with sessions() as s:
        counts = {r.key: r.failures for r in await s.scalars(select(LoginThrottle))}
    assert f"account:{ADMIN}" not in counts
    assert counts["ip:127.0.0.1"] == 10


async def test_the_count_restarts_after_the_window(
    sessions, clock, aiohttp_client_factory, seed: Seed
) -> None:
    web_client, waits = await client(sessions, clock, aiohttp_client_factory)
    for _ in range(8):
        await web_client.post("/login", {"email": ADMIN, "password": "bad"})
    await web_client.post("/login", {"email": "ghost@example.gov.cn", "password": "bad"})
    clock.advance(timedelta(minutes=15, seconds=1))
    waits.delays.clear()
    assert (await web_client.post("/login", {"email": ADMIN, "password": PASSWORD})).status == 303
    assert waits.delays == []
    # The right password dropped the counts whose window had passed (the guessed e-mail's).
    async with sessions() as s:
        keys = set((await s.scalars(select(LoginThrottle.key))).all())
    assert keys == {"ip:127.0.0.1"}


async def test_guesses_from_many_addresses_slow_the_account(
    sessions, clock, aiohttp_client_factory, seed: Seed
) -> None:
    config = WebConfig(secret_key=SECRET, proxy_hops=1)
    web_client, waits = await client(sessions, clock, aiohttp_client_factory, config=config)
    for n in range(8):
        headers = {"X-Forwarded-For": f"198.51.100.{n}"}
        await web_client.post("/login", {"email": ADMIN, "password": "bad"}, headers=headers)
    assert waits.delays == [delay_for(n) for n in range(FREE_FAILURES, 8)]


async def test_guesses_at_many_accounts_slow_the_address(
    sessions, clock, aiohttp_client_factory, seed: Seed
) -> None:
    web_client, waits = await client(sessions, clock, aiohttp_client_factory)
    for n in range(8):
        await web_client.post("/login", {"email": f"user{n}@example.gov.cn", "password": "bad"})
    assert waits.delays == [delay_for(n) for n in range(FREE_FAILURES, 8)]


async def test_forwarded_for_is_ignored_unless_trusted(
    sessions, clock, aiohttp_client_factory, seed: Seed
) -> None:
    web_client, _ = await client(sessions, clock, aiohttp_client_factory)
    for n in range(3):
        headers = {"X-Forwarded-For": f"203.0.113.{n}"}
        await web_client.post("/login", {"email": ADMIN, "password": "bad"}, headers=headers)
    config = WebConfig(secret_key=SECRET, proxy_hops=1)
    proxied, _ = await client(sessions, clock, aiohttp_client_factory, config=config)
    # A client-supplied entry on the left is not trusted: the proxy's (rightmost) one is.
    headers = {"X-Forwarded-For": "10.9.9.9, 192.0.2.7"}
    await proxied.post("/login", {"email": ADMIN, "password": "bad"}, headers=headers)
    async with sessions() as s:
        counts = {r.key: r.failures for r in await s.scalars(select(LoginThrottle))}
    assert counts == {f"account:{ADMIN}": 4, "ip:127.0.0.1": 3, "ip:192.0.2.7": 1}


@counting
async def test_parallel_wrong_guesses_each_get_their_own_count(
    sessions, clock, aiohttp_client_factory, seed: Seed
) -> None:
    """Runs on PostgreSQL (requests truly in parallel) and SQLite."""
    web_client, waits = await client(sessions, clock, aiohttp_client_factory)
    token = web_client.token()
    wrong = {"email": ADMIN, "password": "bad", "csrf_token": token}
    responses = await asyncio.gather(*(web_client.post("/login", wrong) for _ in range(20)))
    assert [r.status for r in responses] == [401] * 20
    # Counted one at a time although they ran at once: 5 went free, the others waited more
    # and more (a read-then-write count would have let most of them through free).
    assert sorted(waits.delays) == sorted(delay_for(n) for n in range(FREE_FAILURES, 20))
    async with sessions() as s:
        counts = {r.key: r.failures for r in await s.scalars(select(LoginThrottle))}
    assert counts == {f"account:{ADMIN}": 20, "ip:127.0.0.1": 20}


async def test_healthz_answers_while_a_flood_of_logins_hashes(
    sessions, clock, aiohttp_client_factory, seed: Seed
) -> None:
    release = threading.Event()
    lock = threading.Lock()
    running = [0, 0]  # now, most at once
    two_running = threading.Event()

    def slow_verify(password_hash: str | None, password: str) -> bool:
        with lock:
            running[0] += 1
            running[1] = max(running[1], running[0])
            if running[0] == 2:
                two_running.set()
        release.wait(30)
        with lock:
            running[0] -= 1
        return verify_password(password_hash, password)

    guard = LoginGuard(concurrency=2, sleep=Waits(), verify=slow_verify)
    web_client, _ = await client(sessions, clock, aiohttp_client_factory, guard=guard)
    form = {"email": ADMIN, "password": "bad", "csrf_token": web_client.token()}
    flood = [asyncio.ensure_future(web_client.post("/login", form)) for _ in range(12)]
    assert await asyncio.to_thread(two_running.wait, 30)
    # Two checks are stuck in their threads and ten wait for a slot: the loop still answers.
    health = await web_client.get("/healthz")
    assert health.status == 200
    release.set()
    assert [r.status for r in await asyncio.gather(*flood)] == [401] * 12
    assert running[1] == 2


async def test_the_people_page_hashes_a_new_password_off_the_loop(
    sessions, clock, aiohttp_client_factory, seed: Seed
) -> None:
    from models import Person
    from supervision.accounts import hash_password

    threads: list[str] = []

    def recording_hash(password: str) -> str:
        threads.append(threading.current_thread().name)
        return hash_password(password)

    guard = LoginGuard(sleep=Waits(), hash=recording_hash)
    admin, _ = await client(sessions, clock, aiohttp_client_factory, guard=guard)
    assert (await admin.login(ADMIN, person_id=seed.admin)).status == 303
    form = {"name": "王五", "email": "wangwu@example.gov.cn", "roles": "viewer", "locale": "zh"}
    response = await admin.post("/people/new", {**form, "password": "a long enough password"})
    assert response.status == 303
    assert threads and threads[0] != threading.main_thread().name
    async with sessions() as s:
        person = await s.scalar(select(Person).where(Person.email == "wangwu@example.gov.cn"))
    assert person is not None and verify_password(person.password_hash, "a long enough password")
    response = await admin.post("/people/new", {**form, "password": "short"})
    assert response.status == 400 and "at least 8" in await response.text()
