"""GET /metrics: valid Prometheus exposition 0.0.4, numbers from the database, scan timing."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from models import DeliveryAttempt, Notification, Report
from testing import factories as f
from web.app import WebConfig, WebDeps, create_app
from web.metrics import SCAN_METRICS_KEY, Exposition, ScanMetrics, record_scans, setup_metrics

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\\\|\\"|\\n)*"'
SAMPLE = re.compile(rf"^({NAME})(?:\{{({LABEL}(?:,{LABEL})*)?\}})? (-?[0-9.eE+-]+|NaN|[+-]Inf)$")
HELP = re.compile(rf"^# HELP ({NAME}) .+$")
TYPE = re.compile(rf"^# TYPE ({NAME}) (counter|gauge|histogram|summary|untyped)$")


def parse(text: str) -> dict[str, dict[str, float]]:
    """Check every line against the exposition grammar; return {family: {labels: value}}."""
    assert text.endswith("\n")
    types: dict[str, str] = {}
    helped: set[str] = set()
    samples: dict[str, dict[str, float]] = {}
    for line in text.splitlines():
        if m := HELP.match(line):
            assert m[1] not in helped, f"HELP twice for {m[1]}"
            helped.add(m[1])
        elif m := TYPE.match(line):
            assert m[1] not in types, f"TYPE twice for {m[1]}"
            assert m[1] in helped, f"TYPE before HELP for {m[1]}"
            types[m[1]] = m[2]
            if m[2] == "counter":
                assert m[1].endswith("_total"), m[1]
            samples[m[1]] = {}
        else:
            m = SAMPLE.match(line)
            assert m, f"not a valid exposition line: {line!r}"
            assert m[1] in types, f"sample before its TYPE: {line!r}"
            samples[m[1]][m[2] or ""] = float(m[3])
    return samples


async def seed(sessions, clock) -> None:
    now = clock.now()
    async with sessions() as s, s.begin():
        unit = await f.unit(s)
        owner = await f.person(s, unit=unit)
        item = await f.item(s)
        late = await f.assignment(s, item=item, unit=unit, owner=owner, due_on=date(2026, 10, 30))
        item2 = await f.item(s)
        await f.assignment(s, item=item2, unit=unit, owner=owner)
        rows = []
        for n, (channel, status) in enumerate(
            [
                ("telegram", "sent"),
                ("telegram", "pending"),
                ("email", "pending"),
                ("email", "failed"),
            ]
        ):
            row = Notification(
                dedupe_key=f"k{n}",
                kind="remind",
                channel=channel,
                status=status,
                not_before=now - timedelta(minutes=10 * (n + 1)),
                recipient_id=owner.id,
            )
            s.add(row)
            rows.append(row)
        await s.flush()
        for row, outcome in [(rows[0], "transient"), (rows[0], "sent"), (rows[3], "permanent")]:
            s.add(
                DeliveryAttempt(
                    notification_id=row.id, channel=row.channel, started_at=now, outcome=outcome
                )
            )
        for channel, kind in [("chat", "progress"), ("chat", "progress"), ("api", "completion")]:
            s.add(Report(assignment_id=late.id, channel=channel, kind=kind, text="x"))


async def test_metrics_from_the_database(aiohttp_client_factory, sessions, clock):
    await seed(sessions, clock)
    scan = ScanMetrics()
    deps = WebDeps(
        config=WebConfig(secret_key="k"),
        sessions=sessions,
        clock=clock,
        extra={SCAN_METRICS_KEY: scan},
    )
    client = await aiohttp_client_factory(create_app(deps, [setup_metrics]))

    class Result:
        duration_s = 0.25
        rows_written = 7

    async def fake_scan(x: int) -> Result:
        return Result()

    timed = record_scans(fake_scan, scan, clock)
    await timed(1)

    async def broken_scan() -> None:
        raise RuntimeError("db down")

    with pytest.raises(RuntimeError):
        await record_scans(broken_scan, scan, clock)()

    resp = await client.get("/metrics")  # no login, no token
    assert resp.status == 200
    assert resp.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    m = parse(await resp.text())
    assert m["duban_delivery_attempts_total"] == {
        'channel="email",outcome="permanent"': 1,
        'channel="telegram",outcome="sent"': 1,
        'channel="telegram",outcome="transient"': 1,
    }
    assert m["duban_notifications"]['channel="email",status="failed"'] == 1
    assert m["duban_notifications_sent_total"] == {'channel="telegram"': 1}
    assert m["duban_outbox_pending"] == {'channel="email"': 1, 'channel="telegram"': 1}
    assert m["duban_outbox_oldest_pending_age_seconds"][""] == 30 * 60
    assert m["duban_reports_filed_total"] == {
        'channel="api",kind="completion"': 1,
        'channel="chat",kind="progress"': 2,
    }
    assert m["duban_assignments_active"] == {'state="open"': 2}
    assert m["duban_assignments_overdue"] == {"": 1}
    assert m["duban_scan_runs_total"] == {"": 1}
    assert m["duban_scan_failures_total"] == {"": 1}
    assert m["duban_scan_rows_written_total"] == {"": 7}
    assert m["duban_scan_last_duration_seconds"] == {"": 0.25}
    assert m["duban_scan_last_finished_timestamp_seconds"][""] == clock.now().timestamp()


async def test_without_a_scanner_there_are_no_scan_samples(aiohttp_client_factory, sessions):
    deps = WebDeps(config=WebConfig(secret_key="k"), sessions=sessions)
    client = await aiohttp_client_factory(create_app(deps, [setup_metrics]))
    m = parse(await (await client.get("/metrics")).text())
    assert not any(name.startswith("duban_scan") for name in m)
    assert m["duban_outbox_pending"] == {}
    assert m["duban_outbox_oldest_pending_age_seconds"] == {"": 0}


def test_labels_are_escaped_and_counters_named():
    out = Exposition()
    out.family("x_total", "counter", "help", [({"a": 'q"uo\\te\nline'}, 2)])
    parse(out.text())
    assert 'a="q\\"uo\\\\te\\nline"' in out.text()
    with pytest.raises(ValueError):
        Exposition().family("bad", "counter", "help", [])


async def test_a_row_waiting_for_its_retry_is_not_counted_as_waiting(
    aiohttp_client_factory, sessions, clock
):
    """The oldest-age gauge follows the outbox's one rule of when a row is due."""
    from sqlalchemy import update

    await seed(sessions, clock)
    async with sessions() as s, s.begin():  # the e-mail row (30 min) retries in 5 minutes
        await s.execute(
            update(Notification)
            .where(Notification.dedupe_key == "k2")
            .values(next_attempt_at=clock.now() + timedelta(minutes=5))
        )
    deps = WebDeps(config=WebConfig(secret_key="k"), sessions=sessions, clock=clock)
    client = await aiohttp_client_factory(create_app(deps, [setup_metrics]))
    m = parse(await (await client.get("/metrics")).text())
    assert m["duban_outbox_oldest_pending_age_seconds"][""] == 20 * 60
