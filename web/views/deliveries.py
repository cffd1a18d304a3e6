"""The delivery log (发送记录): every notification with its attempts, failed ones first on
request, and "retry one" — the row goes back to pending and the notifier's sweeper sends it."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from models import Notification, NotificationStatus, Person
from notifier.channels.log import LogChannel
from supervision.access import Permission
from supervision.audit import Actor, record
from web.access import require
from web.app import DEPS, WebDeps
from web.views.common import PAGE_SIZE, clamp_page, int_or_none, path_id, redirect, render

STATUSES = tuple(s.value for s in NotificationStatus)


def logged_only(row: Notification) -> bool:
    """True for a row marked ``sent`` whose last attempt was the log channel's: nothing left
    the building (no Telegram token, no SMTP configured, or the demo), so the page must not
    show it as sent."""
    if row.status != NotificationStatus.SENT.value or not row.attempts_log:
        return False
    return max(row.attempts_log, key=lambda a: a.id).channel == LogChannel.kind


async def deliveries_page(request: web.Request) -> web.StreamResponse:
    """GET /deliveries?failed=1&status=&page=: newest first, with attempts."""
    require(request, Permission.VIEW_DELIVERIES)
    deps: WebDeps = request.app[DEPS]
    failed_only = request.query.get("failed") == "1"
    status = request.query.get("status", "")
    page = max(1, int_or_none(request.query.get("page")) or 1)
    query = select(Notification)
    if failed_only:
        query = query.where(Notification.status == NotificationStatus.FAILED)
    elif status in STATUSES:
        query = query.where(Notification.status == status)
    async with deps.sessions() as session:
        total = int(await session.scalar(select(func.count()).select_from(query.subquery())) or 0)
        page, pages = clamp_page(page, total)
        rows = (
            await session.scalars(
                query.options(selectinload(Notification.attempts_log))
                .order_by(Notification.id.desc())
                .offset((page - 1) * PAGE_SIZE)
                .limit(PAGE_SIZE)
            )
        ).all()
        names = dict(
            (
                await session.execute(
                    select(Person.id, Person.name).where(
                        Person.id.in_({r.recipient_id for r in rows if r.recipient_id})
                    )
                )
            ).all()
        )
    return render(
        request,
        "deliveries.html",
        {
            "rows": rows,
            "names": names,
            "failed_only": failed_only,
            "status": status,
            "statuses": STATUSES,
            "logged_only": logged_only,
            "page": page,
            "pages": pages,
            "total": total,
        },
    )


async def retry_one(request: web.Request) -> web.StreamResponse:
    """POST /deliveries/{id}/retry: put a failed notification back in the outbox."""
    me = require(request, Permission.RETRY_DELIVERIES)
    deps: WebDeps = request.app[DEPS]
    async with deps.sessions() as session, session.begin():
        row = await session.get(Notification, path_id(request), with_for_update=True)
        if row is None:
            raise web.HTTPNotFound(text="404: no such notification")
        if row.status != NotificationStatus.FAILED:
            raise web.HTTPConflict(text="409: only a failed notification can be retried")
        now = deps.clock.now()
        row.status = NotificationStatus.PENDING
        row.attempts = 0
        row.not_before = now
        row.next_attempt_at = None
        record(
            session,
            clock=deps.clock,
            actor=Actor.of(await session.get_one(Person, me.person_id)),
            entity="notification",
            entity_id=row.id,
            action="retry",
            from_state=NotificationStatus.FAILED,
            to_state=NotificationStatus.PENDING,
        )
    raise redirect("/deliveries?failed=1&msg=flash.retried")


def routes(app: web.Application) -> None:
    """Register the delivery log."""
    app.router.add_get("/deliveries", deliveries_page, name="deliveries")
    app.router.add_post("/deliveries/{id:\\d+}/retry", retry_one, name="delivery_retry")
