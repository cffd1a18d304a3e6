"""GET /livez (the process answers) and GET /healthz (can Duban do its work now?).

``/healthz`` reports each part and answers 503 when any fails: the database (a read, and a
write rolled back), Redis when configured and, when the notifier's scan interval is known,
the scan and the delivery as the database shows them (how long the oldest due assignment
step and the oldest due outbox row have waited; whether a channel's latest attempts all
failed) and, in the process that runs them, the age and outcome of its last rounds. Every
query reads an index or a few rows; the database decides, so the answer is the same from any
process of a multi-process deployment. Imports ``models`` and ``supervision.clock`` only.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Protocol

from aiohttp import web
from sqlalchemy import func, insert, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models import Assignment, AuditEvent, DeliveryAttempt, Notification, NotificationStatus
from models.db import failure_text
from supervision.clock import Clock

log = logging.getLogger("duban.web")

#: ``WebDeps.extra`` key of the notifier rounds run by this process (single-process mode)
ROUNDS_KEY: Final = "notifier_rounds"
#: a part is failing once it is this many scan intervals behind
LAG_INTERVALS: Final = 2
#: latest attempts read to judge the channels, and how many failures in a row condemn one
RECENT_ATTEMPTS: Final = 50
FAILED_IN_A_ROW: Final = 5
PENDING, SENDING = NotificationStatus.PENDING, NotificationStatus.SENDING


class LastRound(Protocol):
    """One scan or delivery round: when it ended, whether it worked, what it did."""

    at: datetime
    ok: bool
    detail: str


class NotifierRounds(Protocol):
    """The last scan and delivery round run by this process (``notifier.runner.RoundLog``)."""

    scan: LastRound | None
    delivery: LastRound | None


async def livez(request: web.Request) -> web.Response:
    """The process is up and its event loop answers; nothing else is checked."""
    return web.json_response({"status": "ok"})


async def database_problem(session: AsyncSession, now: datetime) -> str | None:
    """None when the database can be read and written (the write is rolled back)."""
    try:
        await session.execute(text("SELECT 1"))
        await session.execute(
            insert(AuditEvent).values(
                at=now, actor_label="healthz", entity="health", entity_id=0, action="probe",
                detail={},
            )
        )  # fmt: skip
    except Exception as exc:  # any failure means unhealthy; say why
        return failure_text(exc)
    finally:
        with suppress(Exception):  # a dead connection cannot roll back; nothing was written
            await session.rollback()
    return None


async def scan_lag(session: AsyncSession, now: datetime) -> float:
    """Seconds the oldest due ladder step has waited for a scan (0: none is due)."""
    oldest = await session.scalar(
        select(func.min(Assignment.next_action_at)).where(Assignment.next_action_at <= now)
    )
    return max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0


async def delivery_lag(session: AsyncSession, now: datetime) -> float:
    """Seconds the oldest due outbox row has waited (first tries by ``not_before``; retries and
    lapsed leases by ``next_attempt_at``); 0 when none is due."""
    first = await session.scalar(
        select(func.min(Notification.not_before)).where(
            Notification.status == PENDING,
            Notification.not_before <= now,
            or_(
                Notification.next_attempt_at.is_(None),
                Notification.next_attempt_at < Notification.not_before,
            ),
        )
    )
    again = await session.scalar(
        select(func.min(Notification.next_attempt_at)).where(
            Notification.status.in_((PENDING, SENDING)),
            Notification.next_attempt_at <= now,
            Notification.next_attempt_at >= Notification.not_before,
        )
    )
    due = [t for t in (first, again) if t is not None]
    return max(0.0, (now - min(due)).total_seconds()) if due else 0.0


async def failing_channels(session: AsyncSession) -> dict[str, str]:
    """Channels whose latest attempts (at least ``FAILED_IN_A_ROW``) all failed transiently,
    with the last error: nothing gets through them now."""
    recent = (
        await session.execute(
            select(DeliveryAttempt.channel, DeliveryAttempt.outcome, DeliveryAttempt.error)
            .order_by(DeliveryAttempt.id.desc())
            .limit(RECENT_ATTEMPTS)
        )
    ).all()
    streak: dict[str, int] = defaultdict(int)
    last_error: dict[str, str] = {}
    ended: set[str] = set()
    for channel, outcome, error in recent:  # newest first
        if channel in ended or outcome in ("sending", "skipped"):
            continue
        if outcome != "transient":
            ended.add(channel)
            continue
        streak[channel] += 1
        last_error.setdefault(channel, error or "")
    return {
        channel: f"the last {n} attempts failed: {last_error[channel]}"
        for channel, n in streak.items()
        if n >= FAILED_IN_A_ROW
    }


def _round_problem(last: LastRound | None, now: datetime, limit: float) -> str | None:
    if last is None:
        return None  # none yet: the database checks speak for this process
    age = (now - last.at).total_seconds()
    if not last.ok:
        return f"the last round failed: {last.detail}"
    if age > limit:
        return f"no round for {age:.0f}s"
    return None


@dataclass
class Health:
    """The parts ``/healthz`` reports; ``scan_interval`` None leaves out scan and delivery."""

    sessions: async_sessionmaker[AsyncSession]
    clock: Clock
    redis: Any = None
    scan_interval: float | None = None
    rounds: NotifierRounds | None = None

    async def report(self) -> tuple[bool, dict[str, Any]]:
        """Whether every part is well, and the body: each part's state, the details."""
        now = self.clock.now()
        checks: dict[str, str] = {}
        details: dict[str, Any] = {}
        async with self.sessions() as session:
            problem = await database_problem(session, now)
            checks["database"] = "ok" if problem is None else "error"
            if problem is not None:
                log.warning("health: database check failed: %s", problem)
                details["database"] = problem
            elif self.scan_interval is not None:
                await self._notifier(session, now, checks, details)
        if self.redis is not None:
            try:
                await self.redis.ping()
                checks["redis"] = "ok"
            except Exception as exc:
                log.warning("health: redis check failed: %s", failure_text(exc))
                checks["redis"] = "error"
                details["redis"] = failure_text(exc)
        ok = all(v == "ok" for v in checks.values())
        body: dict[str, Any] = {"status": "ok" if ok else "error", "checks": checks}
        if details:
            body["details"] = details
        return ok, body

    async def _notifier(
        self, session: AsyncSession, now: datetime, checks: dict[str, str], details: dict[str, Any]
    ) -> None:
        """The scan and delivery parts, from the database and this process's rounds."""
        assert self.scan_interval is not None
        limit = LAG_INTERVALS * self.scan_interval
        rounds = self.rounds
        waited = {
            "scan": await scan_lag(session, now),
            "delivery": await delivery_lag(session, now),
        }
        what = {"scan": "step", "delivery": "message"}
        extra = {"scan": [], "delivery": list(_channel_problems(await failing_channels(session)))}
        for part in ("scan", "delivery"):
            last: LastRound | None = getattr(rounds, part) if rounds is not None else None
            problems = [
                p
                for p in (
                    f"a due {what[part]} has waited {waited[part]:.0f}s"
                    if waited[part] > limit
                    else None,
                    _round_problem(last, now, limit),
                    *extra[part],
                )
                if p
            ]
            checks[part] = "error" if problems else "ok"
            details[part] = {"oldest_due_waited_s": round(waited[part]), "problems": problems}
            if last is not None:
                details[part]["last_round"] = {
                    "age_s": round((now - last.at).total_seconds()),
                    "ok": last.ok,
                    "detail": last.detail,
                }


def _channel_problems(failing: dict[str, str]) -> list[str]:
    return [f"{channel}: {why}" for channel, why in sorted(failing.items())]
