"""What a claimed outbox row becomes: its cause re-checked, its message rendered and built.

The pure half of delivery (`notifier.delivery` claims, sends and records): reading the thread
roots of e-mail replies, rendering a batch in one call to the render workers, and building
the channel's `OutgoingMessage`. It writes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models import Notification, NotificationStatus
from notifier.channels.base import OutgoingMessage
from notifier.context import ACTIVE, DIGEST, LADDER_STEPS, MILESTONE_KINDS, BuiltContext
from notifier.templating import RenderedMessage, Renderer, RenderRequest, TemplateError
from supervision.outbox import EMAIL

__all__ = ["cause_gone", "outgoing_message", "render_all", "thread_roots"]


def cause_gone(row: Notification, built: BuiltContext) -> str | None:
    """Why a reminder must not go out any more (Grafana OnCall-style re-check), or None."""
    if row.recipient_id is not None and (built.recipient is None or not built.recipient.active):
        return "recipient is no longer active"
    if row.webhook_id is not None and (built.webhook is None or not built.webhook.active):
        return "group webhook removed or disabled"
    a = built.assignment
    if (
        row.kind in LADDER_STEPS
        and row.assignment_id is not None
        and (a is None or not a.is_active)
    ):
        return f"assignment is {a.state if a else 'deleted'}; reminder no longer needed"
    if row.kind in MILESTONE_KINDS:
        m, item = built.milestone, built.item
        if m is None or not m.is_open:
            return "milestone is done; reminder no longer needed"
        if item is None or item.state not in ACTIVE:
            return f"item is {item.state if item else 'deleted'}; reminder no longer needed"
    if row.kind == DIGEST and (built.context.digest is None or not built.context.digest.entries):
        return "every item of the digest is closed; digest no longer needed"
    return None


async def thread_roots(session: AsyncSession, rows: Sequence[Notification]) -> dict[int, str]:
    """By row id: the Message-ID of the first e-mail of its item already sent to its address."""
    wanted = {
        (r.thread_key, r.address) for r in rows if r.channel == EMAIL and r.thread_key and r.address
    }
    if not wanted:
        return {}
    found = await session.execute(
        select(Notification.thread_key, Notification.address, Notification.provider_message_id)
        .where(
            # A thread is one item's: its item id finds the candidates through the index.
            Notification.item_id.in_(sorted({r.item_id for r in rows if r.item_id is not None})),
            Notification.thread_key.in_(sorted({key for key, _ in wanted if key})),
            Notification.address.in_(sorted({address for _, address in wanted})),
            Notification.channel == EMAIL,
            Notification.status == NotificationStatus.SENT,
            # A real Message-ID, not the log channel's stand-in id.
            Notification.provider_message_id.like("<%"),
        )
        .order_by(Notification.sent_at, Notification.id)
    )
    first: dict[tuple[str | None, str | None], str] = {}
    for key, address, message_id in found:
        if (key, address) in wanted and message_id:
            first.setdefault((key, address), message_id)
    return {
        r.id: first[(r.thread_key, r.address)] for r in rows if (r.thread_key, r.address) in first
    }


async def render_all(
    rows: Sequence[Notification], builts: Sequence[BuiltContext | Exception], renderer: Renderer
) -> dict[int, RenderedMessage | TemplateError]:
    """By row id: the message of every row that will be sent, rendered in one call to the
    render workers (rows unreadable or whose cause is gone are left out)."""
    wanted = [
        (row, built)
        for row, built in zip(rows, builts, strict=True)
        if not isinstance(built, Exception) and cause_gone(row, built) is None
    ]
    requests = [
        RenderRequest(built.template_step, row.channel, row.locale, built.context)
        for row, built in wanted
    ]
    results = await renderer.render_many(requests)
    return {row.id: result for (row, _), result in zip(wanted, results, strict=True)}


def outgoing_message(
    row: Notification, built: BuiltContext, rendered: RenderedMessage, root: str | None
) -> OutgoingMessage:
    """The message a channel sends for ``row``; ``root`` is the Message-ID it answers (an
    answer to an inbound e-mail names that e-mail in its payload instead)."""
    payload = dict(row.payload or {})
    references: tuple[str, ...] = (root,) if root else ()
    if payload.get("in_reply_to"):
        root = str(payload["in_reply_to"])
        references = tuple(str(r) for r in payload.get("references") or [root])
    return OutgoingMessage(
        notification_id=row.id,
        kind=row.kind,
        channel=row.channel,
        address=row.address,
        text=rendered.text,
        subject=rendered.subject,
        html=rendered.html,
        locale=row.locale,
        recipient_name=built.context.recipient_name,
        assignment_id=row.assignment_id,
        buttons=built.buttons,
        payload=payload,
        in_reply_to=root,
        references=references,
        webhook_id=row.webhook_id,
        webhook_url=built.webhook_url,
        webhook_secret=built.webhook_secret,
        secrets=built.secrets,
    )
