"""Build the renderer's MessageContext for one outbox row from the database.

Reads the row's ids (assignment, item, recipient, webhook) and ``payload`` (``report_id``,
``extension_id``, ``bulletin_id``, review decision, invite link) and turns them into plain
views; days left and the light come from ``supervision.deadlines`` and ``supervision.light``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Final
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    Assignment,
    Bulletin,
    Extension,
    GroupWebhook,
    Item,
    Notification,
    Person,
    Report,
    Source,
    StepKind,
    Unit,
)
from notifier.templating import (
    AssignmentView,
    BulletinOverdueItem,
    BulletinRow,
    BulletinView,
    ExtensionView,
    ItemView,
    MessageContext,
    ReportView,
    ReviewView,
)
from supervision.calendar import WorkCalendar
from supervision.clock import Clock, local_today
from supervision.deadlines import days_left
from supervision.light import assignment_light
from supervision.policy import SOURCE_LABELS_ZH

LADDER_STEPS: Final = frozenset(k.value for k in StepKind)
#: recipients who act on the assignment themselves get the report / close / extend buttons
ACTING_ROLES: Final = frozenset({"owner", "liaison", "leader"})

SOURCE_LABELS_EN: Final = {
    Source.INSTRUCTION: "leader's instruction",
    Source.DOCUMENT: "document requirement",
    Source.MEETING: "meeting decision",
    Source.ANNUAL_TASK: "annual key task",
    Source.PROPOSAL: "deputies' proposal",
    Source.MAILBOX: "governor's mailbox",
    Source.OTHER: "other",
}
_WEEKDAYS_ZH: Final = ("星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日")
_WEEKDAYS_EN: Final = (
    "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday",
)  # fmt: skip


@dataclass(frozen=True)
class ContextConfig:
    """Office-wide values every message may show."""

    office_name: str = "督查室"
    base_url: str = "http://127.0.0.1:8080"
    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Shanghai"))


@dataclass(frozen=True)
class BuiltContext:
    """The template context plus what the channel needs besides the text."""

    context: MessageContext
    template_step: str
    recipient: Person | None
    assignment: Assignment | None
    #: Telegram: attach the report / close / extension buttons
    buttons: bool


def template_step(row: Notification) -> str:
    """The template key of a row: the ladder step's own template, else its kind."""
    payload = row.payload or {}
    return str(payload.get("template") or payload.get("step") or row.kind)


def _source_label(source: str, zh: bool) -> str:
    try:
        key = Source(source)
    except ValueError:
        return source
    return (SOURCE_LABELS_ZH if zh else SOURCE_LABELS_EN).get(key, source)


def _as_date(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    if isinstance(value, str) and value:
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


async def _name(session: AsyncSession, person_id: int | None) -> str:
    if person_id is None:
        return ""
    person = await session.get(Person, person_id)
    return person.name if person else ""


def _links(base: str, row: Notification, item: Item | None) -> dict[str, str]:
    payload = row.payload or {}
    links = {"web": base + "/"}
    if item is not None:
        links["item"] = f"{base}/items/{item.id}"
    if row.assignment_id is not None and item is not None:
        links["report"] = f"{base}/items/{item.id}#assignment-{row.assignment_id}"
    if payload.get("extension_id") is not None:
        links["extension"] = f"{base}/reviews"
        links["review"] = f"{base}/reviews"
    if payload.get("report_id") is not None:
        links["review"] = f"{base}/reviews"
    if payload.get("bulletin_id") is not None:
        links["bulletin"] = f"{base}/bulletins/{payload['bulletin_id']}"
    return links


async def _last_report(
    session: AsyncSession, assignment: Assignment, report_id: Any
) -> Report | None:
    if report_id is not None:
        report = await session.get(Report, int(report_id))
        if report is not None:
            return report
    return await session.scalar(
        select(Report)
        .where(Report.assignment_id == assignment.id)
        .order_by(Report.created_at.desc(), Report.id.desc())
        .limit(1)
    )


def _bulletin_view(bulletin: Bulletin, payload: dict[str, Any]) -> BulletinView:
    data = bulletin.data or {}
    rows = tuple(
        BulletinRow(
            rank=int(r.get("rank", n)),
            unit_name=str(r.get("unit_name", "")),
            assigned=int(r.get("assigned", 0)),
            closed_on_time=int(r.get("closed_on_time", 0)),
            overdue=int(r.get("overdue", 0)),
            extensions=int(r.get("extensions", 0)),
            on_time_rate=None if r.get("on_time_rate") is None else float(r["on_time_rate"]),
        )
        for n, r in enumerate(data.get("rows", []), start=1)
        if isinstance(r, dict)
    )
    overdue = tuple(
        BulletinOverdueItem(
            ref=str(o.get("ref", "")),
            title=str(o.get("title", "")),
            unit_name=str(o.get("unit_name", "")),
            due_on=_as_date(o.get("due_on")) or bulletin.ends_on,
            days_overdue=int(o.get("days_overdue", 0)),
        )
        for o in data.get("overdue_items", [])
        if isinstance(o, dict)
    )
    return BulletinView(
        number=str(data.get("number") or payload.get("number") or bulletin.period),
        period_label=str(data.get("period_label") or bulletin.period),
        issued_on=_as_date(data.get("issued_on")) or bulletin.ends_on,
        rows=rows,
        overdue_items=overdue,
        praised_units=tuple(str(u) for u in data.get("praised_units", [])),
    )


async def build_context(
    session: AsyncSession,
    row: Notification,
    *,
    config: ContextConfig,
    clock: Clock,
    calendar: WorkCalendar,
) -> BuiltContext:
    """The context to render ``row`` with, read in ``session``."""
    payload: dict[str, Any] = dict(row.payload or {})
    zh = row.locale != "en"
    today = local_today(clock, config.tz)
    recipient = await session.get(Person, row.recipient_id) if row.recipient_id else None
    assignment = await session.get(Assignment, row.assignment_id) if row.assignment_id else None
    item_id = row.item_id or (assignment.item_id if assignment else None)
    item = await session.get(Item, item_id) if item_id else None

    item_view = None
    if item is not None:
        item_view = ItemView(
            ref=item.ref,
            title=item.title,
            source=item.source,
            source_label=_source_label(item.source, zh),
            objective=item.objective,
            content=item.content,
            urgent=item.urgent,
            received_on=item.received_on,
            due_on=item.due_on,
            due_is_provisional=item.due_is_provisional,
        )

    assignment_view = None
    report_view = None
    days_since_report = None
    if assignment is not None:
        unit = await session.get(Unit, assignment.unit_id)
        report = await _last_report(session, assignment, payload.get("report_id"))
        last_report_on = report.created_at.astimezone(config.tz).date() if report else None
        weekday = assignment.due_on.weekday()
        assignment_view = AssignmentView(
            unit_name=unit.name if unit else "",
            role=assignment.role,
            role_label=("主办" if assignment.role == "lead" else "协办")
            if zh
            else ("lead unit" if assignment.role == "lead" else "co-operating unit"),
            due_on=assignment.due_on,
            due_weekday_label=(_WEEKDAYS_ZH if zh else _WEEKDAYS_EN)[weekday],
            days_left=days_left(today, assignment.due_on, calendar),
            light=assignment_light(
                assignment,
                received_on=item.received_on if item else today,
                today=today,
                calendar=calendar,
                tz=config.tz,
            ).value,
            owner_name=await _name(session, assignment.owner_id),
            leader_name=await _name(session, assignment.leader_id),
        )
        if report is not None:
            report_view = ReportView(
                kind=report.kind,
                text=report.text,
                created_at=report.created_at.astimezone(config.tz).replace(tzinfo=None),
                author_name=await _name(session, report.author_id),
            )
            if last_report_on is not None:
                days_since_report = calendar.workdays_between(last_report_on, today)

    recipient_name = recipient.name if recipient else ""
    if not recipient_name and row.webhook_id is not None:
        hook = await session.get(GroupWebhook, row.webhook_id)
        recipient_name = (
            assignment_view.unit_name if assignment_view else (hook.name if hook else "")
        )

    extension_view = None
    requester_name = None
    extension = None
    if payload.get("extension_id") is not None:
        extension = await session.get(Extension, int(payload["extension_id"]))
        if extension is not None:
            requester_name = await _name(session, extension.requested_by_id)
            extension_view = ExtensionView(
                reason=extension.reason,
                progress=extension.progress,
                old_due_on=extension.old_due_on,
                new_due_on=extension.new_due_on,
                requested_by=requester_name,
            )
    report = (
        await session.get(Report, int(payload["report_id"]))
        if payload.get("report_id") is not None
        else None
    )
    if requester_name is None and report is not None:
        requester_name = await _name(session, report.author_id)

    review_view = None
    if payload.get("decision"):
        # The decision is on the report or extension; the payload may add to it.
        decided = extension if extension is not None else report
        reviewer_id = (
            extension.decided_by_id
            if extension is not None
            else (report.reviewed_by_id if report is not None else None)
        )
        comment = payload.get("comment") or (
            extension.comment
            if extension is not None
            else (report.review_comment if report is not None else None)
        )
        review_view = ReviewView(
            subject=str(payload.get("subject") or payload.get("pending") or "completion"),
            decision=str(payload["decision"]),
            comment=str(comment or ""),
            reviewer_name=str(
                payload.get("reviewer_name")
                or (await _name(session, reviewer_id) if decided is not None else "")
            ),
        )

    bulletin_view = None
    if payload.get("bulletin_id") is not None:
        bulletin = await session.get(Bulletin, int(payload["bulletin_id"]))
        if bulletin is not None:
            bulletin_view = _bulletin_view(bulletin, payload)

    step = template_step(row)
    is_ladder = row.kind in LADDER_STEPS
    roles = {str(r) for r in payload.get("roles", [])}
    acts = bool(roles & ACTING_ROLES) or (
        recipient is not None
        and assignment is not None
        and recipient.id in (assignment.owner_id, assignment.leader_id)
    )
    active = assignment is not None and assignment.is_active
    context = MessageContext(
        step=step,
        recipient_name=recipient_name,
        item=item_view,
        assignment=assignment_view,
        last_report=report_view,
        office_name=config.office_name,
        reply_hint=row.channel == "telegram" and is_ladder and acts and active,
        links=_links(config.base_url.rstrip("/"), row, item),
        generated_on=today,
        days_since_report=days_since_report,
        report_interval_days=(
            int(payload["report_interval_days"]) if payload.get("report_interval_days") else None
        ),
        pending=str(payload["pending"]) if payload.get("pending") else None,
        requester_name=requester_name,
        extension=extension_view,
        review=review_view,
        invite_link=str(payload["invite_link"]) if payload.get("invite_link") else None,
        invite_expires_on=_as_date(payload.get("invite_expires_on")),
        bulletin=bulletin_view,
    )
    return BuiltContext(
        context=context,
        template_step=step,
        recipient=recipient,
        assignment=assignment,
        buttons=is_ladder and acts and active,
    )
