"""GET /livez and GET /healthz: every part reported, 503 when any fails (issue #16, 4)."""

from __future__ import annotations

from datetime import timedelta

from models import Assignment, Base, DeliveryAttempt, Notification
from models.db import create_engine, create_sessionmaker
from notifier.runner import LastRound, RoundLog
from testing.notifier_support import reminder
from web.app import WebConfig, WebDeps, create_app
from web.health import ROUNDS_KEY

INTERVAL = 60.0


async def health(client_factory, sessions, clock, *, rounds=None, interval=INTERVAL):
    extra = {ROUNDS_KEY: rounds} if rounds is not None else {}
    deps = WebDeps(
        config=WebConfig(secret_key="k", scan_interval_seconds=interval),
        sessions=sessions,
        clock=clock,
        extra=extra,
    )
    client = await client_factory(create_app(deps))
    resp = await client.get("/healthz")
    return resp.status, await resp.json()


async def test_livez_answers_without_asking_anything(aiohttp_client_factory, sessions):
    client = await aiohttp_client_factory(
        create_app(WebDeps(config=WebConfig(secret_key="k"), sessions=sessions))
    )
    resp = await client.get("/livez")
    assert resp.status == 200 and await resp.json() == {"status": "ok"}


async def test_all_parts_ok(aiohttp_client_factory, sessions, clock):
    await reminder(sessions, clock, channels=("chat",))  # due now: waited 0 s
    status, body = await health(aiohttp_client_factory, sessions, clock)
    assert status == 200
    assert body["checks"] == {"database": "ok", "scan": "ok", "delivery": "ok"}
    assert body["details"]["delivery"] == {"oldest_due_waited_s": 0, "problems": []}


async def test_an_unwritable_database_is_unhealthy(aiohttp_client_factory, tmp_path, clock):
    """SELECT 1 still works on a read-only SQLite file; only a write shows the fault."""
    path = tmp_path / "h.db"
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    read_only = create_engine(f"sqlite+aiosqlite:///file:{path}?mode=ro&uri=true")
    try:
        status, body = await health(
            aiohttp_client_factory, create_sessionmaker(read_only), clock, interval=None
        )
    finally:
        await read_only.dispose()
        await engine.dispose()
    assert status == 503 and body["checks"] == {"database": "error"}
    assert "attempt to write a readonly database" in body["details"]["database"]


async def test_a_message_waiting_two_scan_intervals_fails_delivery(
    aiohttp_client_factory, sessions, clock
):
    await reminder(sessions, clock, channels=("chat",))
    clock.advance(timedelta(seconds=3 * INTERVAL))  # due, and nothing delivered it
    status, body = await health(aiohttp_client_factory, sessions, clock)
    assert status == 503
    assert body["checks"]["delivery"] == "error" and body["checks"]["scan"] == "ok"
    assert body["details"]["delivery"]["problems"] == ["a due message has waited 180s"]


async def test_a_step_the_scan_has_not_taken_fails_the_scan(
    aiohttp_client_factory, sessions, clock
):
    case = await reminder(sessions, clock, channels=())
    async with sessions() as s, s.begin():
        a = await s.get_one(Assignment, case.assignment.id)
        a.next_action_at = clock.now() - timedelta(seconds=150)
    status, body = await health(aiohttp_client_factory, sessions, clock)
    assert status == 503 and body["checks"]["scan"] == "error"
    assert body["details"]["scan"]["problems"] == ["a due step has waited 150s"]


async def test_a_channel_whose_latest_attempts_all_failed_fails_delivery(
    aiohttp_client_factory, sessions, clock
):
    """SMTP down: every row waits for its retry (none is overdue), yet nothing gets through."""
    case = await reminder(sessions, clock, channels=("chat",))
    async with sessions() as s, s.begin():
        for outcome in ("sent", *["transient"] * 5):  # oldest first
            s.add(
                DeliveryAttempt(
                    notification_id=case.ids[0], channel="email", started_at=clock.now(),
                    outcome=outcome, error="SMTP unavailable: ConnectionRefusedError",
                )
            )  # fmt: skip
        row = await s.get_one(Notification, case.ids[0])
        row.next_attempt_at = clock.now() + timedelta(minutes=5)
    status, body = await health(aiohttp_client_factory, sessions, clock)
    assert status == 503
    assert body["details"]["delivery"]["problems"] == [
        "email: the last 5 attempts failed: SMTP unavailable: ConnectionRefusedError"
    ]


async def test_the_in_process_rounds_are_reported(aiohttp_client_factory, sessions, clock):
    rounds = RoundLog(
        scan=LastRound(at=clock.now() - timedelta(seconds=10), ok=True, detail="claimed 0"),
        delivery=LastRound(
            at=clock.now(),
            ok=False,
            detail="OperationalError: attempt to write a readonly database",
        ),
    )
    status, body = await health(aiohttp_client_factory, sessions, clock, rounds=rounds)
    assert status == 503 and body["checks"]["scan"] == "ok"
    assert body["details"]["delivery"]["problems"] == [
        "the last round failed: OperationalError: attempt to write a readonly database"
    ]
    assert body["details"]["scan"]["last_round"] == {"age_s": 10, "ok": True, "detail": "claimed 0"}
    rounds.delivery = LastRound(at=clock.now(), ok=True, detail="sent=3")
    clock.advance(timedelta(seconds=2 * INTERVAL + 1))  # no scan round for two intervals
    status, body = await health(aiohttp_client_factory, sessions, clock, rounds=rounds)
    assert status == 503 and body["details"]["scan"]["problems"] == ["no round for 131s"]


async def test_the_runner_records_its_rounds(sessions, clock):
    from notifier.config import NotifierConfig
    from notifier.runner import Runner
    from notifier.templating import Renderer
    from testing.notifier_support import limiter_for, registry

    async def broken_scan(sessions_, *, clock, tz, batch=500, calendar=None):
        raise ConnectionResetError("connection reset by peer")

    rounds = RoundLog()
    await reminder(sessions, clock, channels=("chat",))
    runner = Runner(
        NotifierConfig(), sessions, clock=clock, scan=broken_scan, channels=registry(),
        renderer=Renderer(), limiter=limiter_for(clock), log_to=rounds,
    )  # fmt: skip
    await runner.run_round()
    await runner.close()
    assert rounds.scan == LastRound(
        at=clock.now(), ok=False, detail="ConnectionResetError: connection reset by peer"
    )
    assert rounds.delivery == LastRound(at=clock.now(), ok=True, detail="sent=1")
