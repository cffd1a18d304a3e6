"""``GET /metrics``: Prometheus text exposition (format 0.0.4), unauthenticated for scrapers.

Imports `models/`, `supervision/` and `web.app` only. Everything about messages and reports
is counted from the database on each scrape, so the numbers are right whichever process sent
or filed them: delivery attempts by channel and outcome, outbox rows by channel and status,
pending rows and the age of the oldest, reports by channel and kind, open and overdue
assignments. The scan's duration is the one process-local figure: the process that runs the
scanner wraps its scan function with `record_scans`, which writes into the `ScanMetrics`
kept in ``WebDeps.extra["scan_metrics"]``; a web process without a scanner shows no scan
samples (the arq worker's scans are visible in its own logs).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any, Final, ParamSpec, TypeVar

from aiohttp import web
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    ACTIVE_STATES,
    Assignment,
    DeliveryAttempt,
    Notification,
    NotificationStatus,
    Report,
)
from supervision.clock import Clock, local_today
from supervision.outbox import first_due_at
from web.app import DEPS

__all__ = [
    "CONTENT_TYPE",
    "SCAN_METRICS_KEY",
    "ScanMetrics",
    "record_scans",
    "render_metrics",
    "setup_metrics",
]

log = logging.getLogger("duban.web.metrics")

CONTENT_TYPE: Final = "text/plain; version=0.0.4; charset=utf-8"
#: Where the composition root puts the process's `ScanMetrics` in ``WebDeps.extra``.
SCAN_METRICS_KEY: Final = "scan_metrics"


@dataclass
class ScanMetrics:
    """Process-local figures of the scanner in this process."""

    runs: int = 0
    failures: int = 0
    last_duration_s: float | None = None
    last_finished_at: float | None = None  # unix time
    rows_written: int = 0

    def observe(self, duration_s: float, finished_at: float, rows_written: int = 0) -> None:
        """Record one finished scan."""
        self.runs += 1
        self.last_duration_s = duration_s
        self.last_finished_at = finished_at
        self.rows_written += rows_written

    def fail(self) -> None:
        """Record a scan that raised."""
        self.failures += 1


P = ParamSpec("P")
R = TypeVar("R")


def record_scans(
    scan: Callable[P, Awaitable[R]], metrics: ScanMetrics, clock: Clock
) -> Callable[P, Awaitable[R]]:
    """Wrap a scan function so each call is timed into ``metrics`` (failures counted)."""

    async def timed(*args: P.args, **kwargs: P.kwargs) -> R:
        started = time.perf_counter()
        try:
            result = await scan(*args, **kwargs)
        except Exception:
            metrics.fail()
            raise
        elapsed = time.perf_counter() - started
        duration = getattr(result, "duration_s", None)
        rows = getattr(result, "rows_written", 0)
        metrics.observe(
            float(duration) if isinstance(duration, int | float) and duration > 0 else elapsed,
            clock.now().timestamp(),
            int(rows) if isinstance(rows, int) else 0,
        )
        return result

    return timed


# --- exposition -----------------------------------------------------------------------------


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _number(value: float) -> str:
    if isinstance(value, int) or float(value).is_integer():
        return str(int(value))
    return repr(float(value))


class Exposition:
    """Builds the text of one scrape, family by family."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def family(
        self,
        name: str,
        kind: str,
        help_text: str,
        samples: Iterable[tuple[dict[str, str], float]],
    ) -> None:
        """One metric family: HELP, TYPE and its samples."""
        if kind == "counter" and not name.endswith("_total"):
            raise ValueError(f"counter {name} must end with _total")
        self.lines.append(f"# HELP {name} {help_text}")
        self.lines.append(f"# TYPE {name} {kind}")
        for labels, value in samples:
            label_text = ",".join(f'{k}="{_escape(v)}"' for k, v in sorted(labels.items()))
            suffix = "{" + label_text + "}" if label_text else ""
            self.lines.append(f"{name}{suffix} {_number(value)}")

    def text(self) -> str:
        """The exposition, newline-terminated."""
        return "\n".join(self.lines) + "\n"


async def _grouped(session: AsyncSession, *columns: Any, where: Any = None) -> list[Any]:
    query = select(*columns, func.count()).group_by(*columns).order_by(*columns)
    if where is not None:
        query = query.where(where)
    return list((await session.execute(query)).all())


async def render_metrics(
    session: AsyncSession, *, clock: Clock, today: date, scan: ScanMetrics | None
) -> str:
    """The whole exposition for one scrape."""
    out = Exposition()
    attempts = await _grouped(session, DeliveryAttempt.channel, DeliveryAttempt.outcome)
    out.family(
        "duban_delivery_attempts_total",
        "counter",
        "Delivery attempts by channel and outcome (sent, transient, permanent, skipped).",
        (({"channel": c, "outcome": o}, n) for c, o, n in attempts),
    )
    rows = await _grouped(session, Notification.channel, Notification.status)
    out.family(
        "duban_notifications",
        "gauge",
        "Outbox rows by channel and current status.",
        (({"channel": c, "status": s}, n) for c, s, n in rows),
    )
    sent = await _grouped(
        session, Notification.channel, where=Notification.status == NotificationStatus.SENT
    )
    out.family(
        "duban_notifications_sent_total",
        "counter",
        "Messages delivered, by channel.",
        (({"channel": c}, n) for c, n in sent),
    )
    pending = await _grouped(
        session,
        Notification.channel,
        where=Notification.status.in_([NotificationStatus.PENDING, NotificationStatus.SENDING]),
    )
    out.family(
        "duban_outbox_pending",
        "gauge",
        "Outbox rows not yet sent (pending or sending), by channel.",
        (({"channel": c}, n) for c, n in pending),
    )
    now = clock.now()
    oldest = await first_due_at(session, by=now)
    age = max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0
    out.family(
        "duban_outbox_oldest_pending_age_seconds",
        "gauge",
        "Seconds since the oldest due row became sendable (its send window opened, its retry "
        "wait or lease ended; 0 when none is due).",
        [({}, age)],
    )
    reports = await _grouped(session, Report.channel, Report.kind)
    out.family(
        "duban_reports_filed_total",
        "counter",
        "Reports filed, by channel (chat, email, web, api) and kind.",
        (({"channel": c, "kind": k}, n) for c, k, n in reports),
    )
    states = await _grouped(session, Assignment.state, where=Assignment.state.in_(ACTIVE_STATES))
    out.family(
        "duban_assignments_active",
        "gauge",
        "Active assignments, by state.",
        (({"state": s}, n) for s, n in states),
    )
    overdue = await session.scalar(
        select(func.count(Assignment.id)).where(
            Assignment.state.in_(ACTIVE_STATES), Assignment.due_on < today
        )
    )
    out.family(
        "duban_assignments_overdue",
        "gauge",
        "Active assignments past their deadline (red light) today.",
        [({}, int(overdue or 0))],
    )
    if scan is not None:
        out.family(
            "duban_scan_runs_total",
            "counter",
            "Scans finished by this process.",
            [({}, scan.runs)],
        )
        out.family(
            "duban_scan_failures_total",
            "counter",
            "Scans that raised in this process.",
            [({}, scan.failures)],
        )
        out.family(
            "duban_scan_rows_written_total",
            "counter",
            "Outbox rows written by this process's scans.",
            [({}, scan.rows_written)],
        )
        if scan.last_duration_s is not None and scan.last_finished_at is not None:
            out.family(
                "duban_scan_last_duration_seconds",
                "gauge",
                "Duration of the last finished scan.",
                [({}, scan.last_duration_s)],
            )
            out.family(
                "duban_scan_last_finished_timestamp_seconds",
                "gauge",
                "Unix time when the last scan finished.",
                [({}, scan.last_finished_at)],
            )
    return out.text()


async def metrics(request: web.Request) -> web.StreamResponse:
    """The Prometheus scrape endpoint."""
    deps = request.app[DEPS]
    scan = deps.extra.get(SCAN_METRICS_KEY)
    async with deps.sessions() as session:
        body = await render_metrics(
            session,
            clock=deps.clock,
            today=local_today(deps.clock, deps.config.tz),
            scan=scan if isinstance(scan, ScanMetrics) else None,
        )
    return web.Response(body=body.encode(), headers={"Content-Type": CONTENT_TYPE})


def setup_metrics(app: web.Application) -> None:
    """Mount ``GET /metrics``."""
    app.router.add_get("/metrics", metrics)
