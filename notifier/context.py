"""Build the renderer's MessageContext for one outbox row from the database.

Reads the row's ids (assignment, item, recipient, webhook) and ``payload`` (``report_id``,
``extension_id``, ``bulletin_id``, review decision, invite link, a digest's ``members``) and
turns them into plain views; a 交办通知 also lists every unit on its item. Days left and the
light come from ``supervision.deadlines`` and ``supervision.light``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Final, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    ACTIVE_STATES,
    MILESTONE_STEPS,
    Assignment,
    AssignmentRole,
    Base,
    Bulletin,
    Channel,
    Extension,
    GroupWebhook,
    Item,
    Milestone,
    Notification,
    Person,
    Policy,
    Report,
    Source,
    StepKind,
    Unit,
)
from notifier.templating import (
    AssignmentView,
    BulletinMilestoneRow,
    BulletinOverdueItem,
    BulletinRow,
    BulletinView,
    DigestEntry,
    DigestView,
    ExtensionView,
    ItemUnitView,
    ItemView,
    MailReplyView,
    MessageContext,
    MilestoneView,
    ReportView,
    ReviewView,
)
from supervision.calendar import WorkCalendar
from supervision.clock import Clock, local_today
from supervision.deadlines import days_left
from supervision.invites import SEALED_LINK
from supervision.labels import co_marked, label, label_of, lang_of, step_label, words
from supervision.light import assignment_light, milestone_light
from supervision.policy import due_days_of, pick_policy, reply_within
from supervision.robots import opened
from supervision.sealing import SealBroken, Sealer

LADDER_STEPS: Final = frozenset(k.value for k in StepKind)
ACTIVE: Final = frozenset(s.value for s in ACTIVE_STATES)
#: the steps of a milestone's own ladder (payload ``milestone_id``)
MILESTONE_KINDS: Final = frozenset(k.value for k in MILESTONE_STEPS)
DIGEST: Final = "digest"  # a row that stands for several (payload ``members``): notifier.digest
#: recipients who act on the assignment themselves get the report / close / extend buttons
ACTING_ROLES: Final = frozenset({"owner", "liaison", "leader"})

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
    #: opens sealed payload values (the invite link); None: a sealed value cannot be shown
    sealer: Sealer | None = field(default=None, repr=False)


@dataclass(frozen=True)
class BuiltContext:
    """The template context plus what the channel needs besides the text."""

    context: MessageContext
    template_step: str
    recipient: Person | None
    assignment: Assignment | None
    #: Telegram: attach the report / close / extension buttons
    buttons: bool
    #: the group robot of a group row, when it still exists, and its URL and signing
    #: secret opened from their seals (`supervision.robots.opened`)
    webhook: GroupWebhook | None = None
    webhook_url: str | None = field(default=None, repr=False)
    webhook_secret: str | None = field(default=None, repr=False)
    #: values in the message that must not be kept or logged (the invite link)
    secrets: tuple[str, ...] = ()
    #: a milestone step's milestone (阶段性节点) and its item, for the re-check before sending
    milestone: Milestone | None = None
    item: Item | None = None


def template_step(row: Notification) -> str:
    """The template key of a row: the ladder step's own template, else its kind."""
    payload = row.payload or {}
    return str(payload.get("template") or payload.get("step") or row.kind)


def _as_date(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    if isinstance(value, str) and value:
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


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


def _milestone_row(m: dict[str, Any]) -> BulletinMilestoneRow:
    """One row of a bulletin's 节点按期率 (``Bulletin.data["milestones"]``)."""
    rate = m.get("on_time_rate")
    return BulletinMilestoneRow(
        unit_name=str(m.get("unit_name") or ""),
        completed=int(m.get("completed", 0)),
        on_time=int(m.get("on_time", 0)),
        late=int(m.get("late", 0)),
        open_overdue=int(m.get("open_overdue", 0)),
        on_time_rate=None if rate is None else float(rate),
    )


def _bulletin_view(bulletin: Bulletin, payload: dict[str, Any], locale: str) -> BulletinView:
    data = bulletin.data or {}
    rows = tuple(
        BulletinRow(
            rank=int(r.get("rank", n)),
            # 协办 rows are ranked apart after the 主办 rows; the label keeps them apart.
            unit_name=co_marked(str(r.get("unit_name", "")), str(r.get("role", "")), locale),
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
    given = data.get("milestones")
    figures: dict[str, Any] = given if isinstance(given, dict) else {}
    return BulletinView(
        milestones=tuple(
            _milestone_row(m) for m in figures.get("units", []) if isinstance(m, dict)
        ),
        milestone_totals=(
            _milestone_row(figures["totals"]) if isinstance(figures.get("totals"), dict) else None
        ),
        number=str(data.get("number") or payload.get("number") or bulletin.period),
        period_label=str(data.get("period_label") or bulletin.period),
        issued_on=_as_date(data.get("issued_on")) or bulletin.ends_on,
        rows=rows,
        overdue_items=overdue,
        praised_units=tuple(str(u) for u in data.get("praised_units", [])),
    )


def _ids(values: Iterable[Any]) -> set[int]:
    """The distinct integer ids among ``values`` (None and junk left out)."""
    out: set[int] = set()
    for value in values:
        if value is None:
            continue
        try:
            out.add(int(value))
        except (TypeError, ValueError):
            continue
    return out


_M = TypeVar("_M", bound=Base)


async def _by_id(session: AsyncSession, model: type[_M], ids: set[int]) -> dict[int, _M]:
    """``model`` rows by id, in one query (none for no ids)."""
    if not ids:
        return {}
    key = model.__mapper__.primary_key[0]
    rows = await session.scalars(select(model).where(key.in_(sorted(ids))))
    return {int(getattr(r, key.name)): r for r in rows}


@dataclass
class _Loaded:
    """Everything a batch of rows' contexts read, by id: a few queries for the whole batch."""

    people: dict[int, Person]
    assignments: dict[int, Assignment]
    items: dict[int, Item]
    units: dict[int, Unit]
    webhooks: dict[int, GroupWebhook]
    extensions: dict[int, Extension]
    reports: dict[int, Report]
    bulletins: dict[int, Bulletin]
    #: the latest report of each assignment (None: no report yet)
    last_reports: dict[int, Report | None]
    #: every policy as ``(source, urgent, policy)`` in id order, when any row names an item
    policies: list[tuple[Source | None, bool, Policy]]
    #: a 交办通知's item: its open assignments, lead first
    item_assignments: dict[int, list[Assignment]] = field(default_factory=dict)
    #: the rows folded into a digest row, by id
    members: dict[int, Notification] = field(default_factory=dict)
    #: the milestones (阶段性节点) milestone steps are about, by id
    milestones: dict[int, Milestone] = field(default_factory=dict)

    def policy(self, item: Item) -> Policy | None:
        return pick_policy(self.policies, item.source, item.urgent)

    def name(self, person_id: int | None) -> str:
        person = self.people.get(person_id) if person_id is not None else None
        return person.name if person else ""


def _member_ids(row: Notification) -> list[int]:
    """The ids of the rows a digest row stands for, in their order."""
    if row.kind != DIGEST:
        return []
    # The digest's own order (the numbers on its buttons), each id once.
    given = (row.payload or {}).get("members") or ()
    return list(dict.fromkeys(m for m in given if type(m) is int))


async def _load(session: AsyncSession, given: Sequence[Notification]) -> _Loaded:
    members = await _by_id(session, Notification, {m for row in given for m in _member_ids(row)})
    rows = [*given, *members.values()]
    payloads = [row.payload or {} for row in rows]
    assignments = await _by_id(session, Assignment, _ids(r.assignment_id for r in rows))
    item_assignments: dict[int, list[Assignment]] = {}
    notice_items = _ids(r.item_id for r in rows if r.kind == StepKind.ASSIGN)
    if notice_items:
        on_items = await session.scalars(
            select(Assignment)
            .where(Assignment.item_id.in_(sorted(notice_items)))
            .order_by(Assignment.item_id, Assignment.role.desc(), Assignment.id)  # lead first
        )
        for other in on_items:
            assignments.setdefault(other.id, other)
            if other.is_active:
                item_assignments.setdefault(other.item_id, []).append(other)
    webhooks = await _by_id(session, GroupWebhook, _ids(r.webhook_id for r in rows))
    extensions = await _by_id(session, Extension, _ids(p.get("extension_id") for p in payloads))
    reports = await _by_id(session, Report, _ids(p.get("report_id") for p in payloads))
    bulletins = await _by_id(session, Bulletin, _ids(p.get("bulletin_id") for p in payloads))
    item_ids = _ids(
        r.item_id or (a.item_id if (a := assignments.get(r.assignment_id or 0)) else None)
        for r in rows
    )
    items = await _by_id(session, Item, item_ids)
    milestones = await _by_id(
        session,
        Milestone,
        _ids(
            p.get("milestone_id")
            for r, p in zip(rows, payloads, strict=True)
            if r.kind in MILESTONE_KINDS
        ),
    )
    units = await _by_id(
        session,
        Unit,
        _ids([a.unit_id for a in assignments.values()] + [m.unit_id for m in milestones.values()]),
    )
    last_reports: dict[int, Report | None] = dict.fromkeys(assignments)
    if assignments:
        ranked = (
            select(
                Report.id,
                func.row_number()
                .over(
                    partition_by=Report.assignment_id,
                    order_by=(Report.created_at.desc(), Report.id.desc()),
                )
                .label("n"),
            )
            .where(Report.assignment_id.in_(sorted(assignments)))
            .subquery()
        )
        latest = await session.scalars(
            select(Report).join(ranked, Report.id == ranked.c.id).where(ranked.c.n == 1)
        )
        for report in latest:
            last_reports[report.assignment_id] = report
    people_ids = _ids(
        [r.recipient_id for r in rows]
        + [x for a in assignments.values() for x in (a.owner_id, a.leader_id)]
        + [r.author_id for r in (*reports.values(), *last_reports.values()) if r is not None]
        + [r.reviewed_by_id for r in reports.values()]
        + [x for e in extensions.values() for x in (e.requested_by_id, e.decided_by_id)]
        + [x for m in milestones.values() for x in (m.owner_id, m.leader_id)]
    )
    people = await _by_id(session, Person, people_ids)
    # The policies the items may follow (their sources' and the source-less ones), for the
    # default deadline and the days before the next step that messages state.
    sources = sorted({i.source for i in items.values()})
    policies = (
        [
            (p.source, p.urgent, p)
            for p in await session.scalars(
                select(Policy)
                .where(Policy.source.in_(sources) | Policy.source.is_(None))
                .order_by(Policy.id)
            )
        ]
        if items
        else []
    )
    return _Loaded(
        people=people,
        assignments=assignments,
        items=items,
        units=units,
        webhooks=webhooks,
        extensions=extensions,
        reports=reports,
        bulletins=bulletins,
        last_reports=last_reports,
        item_assignments=item_assignments,
        members=members,
        policies=policies,
        milestones=milestones,
    )


def _assignment_view(
    assignment: Assignment,
    item: Item | None,
    loaded: _Loaded,
    *,
    zh: bool,
    today: date,
    calendar: WorkCalendar,
    tz: ZoneInfo,
) -> AssignmentView:
    unit = loaded.units.get(assignment.unit_id)
    locale = "zh" if zh else "en"
    light = assignment_light(
        assignment,
        received_on=item.received_on if item else today,
        today=today,
        calendar=calendar,
        tz=tz,
    )
    return AssignmentView(
        unit_name=unit.name if unit else "",
        role=str(assignment.role),
        role_label=label_of(AssignmentRole, assignment.role, locale),
        due_on=assignment.due_on,
        due_weekday_label=(_WEEKDAYS_ZH if zh else _WEEKDAYS_EN)[assignment.due_on.weekday()],
        days_left=days_left(today, assignment.due_on, calendar),
        light=light.value,
        light_label=label(light, locale),
        owner_name=loaded.name(assignment.owner_id),
        leader_name=loaded.name(assignment.leader_id),
    )


def milestone_of(row: Notification, loaded: _Loaded) -> Milestone | None:
    """The milestone a milestone step's row is about (None for other rows, or if gone)."""
    if row.kind not in MILESTONE_KINDS:
        return None
    ids = _ids([(row.payload or {}).get("milestone_id")])
    return loaded.milestones.get(ids.pop()) if ids else None


def _milestone_view(
    milestone: Milestone, loaded: _Loaded, *, zh: bool, today: date, calendar: WorkCalendar
) -> MilestoneView:
    unit = loaded.units.get(milestone.unit_id)
    light = milestone_light(milestone, today=today, calendar=calendar)
    return MilestoneView(
        name=milestone.name,
        due_on=milestone.due_on,
        due_weekday_label=(_WEEKDAYS_ZH if zh else _WEEKDAYS_EN)[milestone.due_on.weekday()],
        days_left=days_left(today, milestone.due_on, calendar),
        unit_name=unit.name if unit else "",
        owner_name=loaded.name(milestone.owner_id),
        leader_name=loaded.name(milestone.leader_id),
        light=light.value,
        light_label=label(light, "zh" if zh else "en"),
    )


def _item_units(item: Item | None, loaded: _Loaded, zh: bool) -> tuple[ItemUnitView, ...]:
    """Every open assignment of a 交办通知's item: unit, 主办/协办 and responsible person."""
    if item is None:
        return ()
    out = []
    for a in loaded.item_assignments.get(item.id, ()):
        unit = loaded.units.get(a.unit_id)
        out.append(
            ItemUnitView(
                unit_name=unit.name if unit else "",
                role=str(a.role),
                role_label=label_of(AssignmentRole, a.role, "zh" if zh else "en"),
                owner_name=loaded.name(a.owner_id),
            )
        )
    return tuple(out)


def _milestone_entry(
    member: Notification,
    number: int,
    loaded: _Loaded,
    base: str,
    *,
    zh: bool,
    today: date,
    calendar: WorkCalendar,
) -> DigestEntry | None:
    """A milestone step folded into a digest; None once the milestone or its item is done."""
    milestone = milestone_of(member, loaded)
    item = loaded.items.get(milestone.item_id) if milestone is not None else None
    if milestone is None or not milestone.is_open or item is None or item.state not in ACTIVE:
        return None
    view = _milestone_view(milestone, loaded, zh=zh, today=today, calendar=calendar)
    return DigestEntry(
        number=number,
        step=template_step(member),
        step_label=step_label(member.kind, "zh" if zh else "en"),
        ref=item.ref,
        title=item.title,
        urgent=item.urgent,
        unit_name=view.unit_name,
        role="",
        role_label="",
        due_on=view.due_on,
        days_left=view.days_left,
        light=view.light,
        link=f"{base}/items/{item.id}",
        milestone=view.name,
    )


def _digest(
    row: Notification,
    loaded: _Loaded,
    *,
    config: ContextConfig,
    zh: bool,
    today: date,
    calendar: WorkCalendar,
) -> DigestView | None:
    """The messages a digest row stands for, numbered; work closed since is left out."""
    if row.kind != DIGEST:
        return None
    entries: list[DigestEntry] = []
    base = config.base_url.rstrip("/")
    # Numbered by position, gaps left where work closed since: the buttons carry these numbers.
    for number, member_id in enumerate(_member_ids(row), start=1):
        member = loaded.members.get(member_id)
        if member is None:
            continue
        if member.kind in MILESTONE_KINDS:
            entry = _milestone_entry(member, number, loaded, base, zh=zh, today=today,
                                     calendar=calendar)  # fmt: skip
            if entry is not None:
                entries.append(entry)
            continue
        a = loaded.assignments.get(member.assignment_id or 0)
        if a is None or not a.is_active:
            continue
        item = loaded.items.get(a.item_id)
        if item is None:
            continue
        view = _assignment_view(
            a, item, loaded, zh=zh, today=today, calendar=calendar, tz=config.tz
        )
        step = template_step(member)
        roles = {str(r) for r in (member.payload or {}).get("roles", [])}
        entries.append(
            DigestEntry(
                number=number,
                step=step,
                step_label=step_label(
                    str((member.payload or {}).get("step") or member.kind), "zh" if zh else "en"
                ),
                ref=item.ref,
                title=item.title,
                urgent=item.urgent,
                unit_name=view.unit_name,
                role=view.role,
                role_label=view.role_label,
                due_on=view.due_on,
                days_left=view.days_left,
                light=view.light,
                link=f"{base}/items/{item.id}",
                acts=bool(roles & ACTING_ROLES),
            )
        )
    return DigestView(
        kind=str((row.payload or {}).get("digest") or "daily"), entries=tuple(entries)
    )


def _make(
    row: Notification,
    loaded: _Loaded,
    *,
    config: ContextConfig,
    today: date,
    calendar: WorkCalendar,
) -> BuiltContext:
    """The context of one row from what :func:`_load` read (no I/O)."""
    payload: dict[str, Any] = dict(row.payload or {})
    locale = row.locale
    zh = lang_of(locale) != "en"
    recipient = loaded.people.get(row.recipient_id) if row.recipient_id else None
    assignment = loaded.assignments.get(row.assignment_id) if row.assignment_id else None
    item_id = row.item_id or (assignment.item_id if assignment else None)
    item = loaded.items.get(item_id) if item_id else None
    hook = loaded.webhooks.get(row.webhook_id) if row.webhook_id else None

    item_view = None
    policy = loaded.policy(item) if item is not None else None
    if item is not None:
        item_view = ItemView(
            ref=item.ref,
            title=item.title,
            source=str(item.source),  # plain str: views go to render workers without the ORM
            source_label=label_of(Source, item.source, locale),
            objective=item.objective,
            content=item.content,
            urgent=item.urgent,
            received_on=item.received_on,
            due_on=item.due_on,
            due_is_provisional=item.due_is_provisional,
            due_is_default=item.due_is_default,
            default_due_days=due_days_of(policy),
        )

    payload_report = (
        loaded.reports.get(int(payload["report_id"]))
        if payload.get("report_id") is not None
        else None
    )
    assignment_view = None
    report_view = None
    days_since_report = None
    if assignment is not None:
        report = payload_report or loaded.last_reports.get(assignment.id)
        last_report_on = report.created_at.astimezone(config.tz).date() if report else None
        assignment_view = _assignment_view(
            assignment, item, loaded, zh=zh, today=today, calendar=calendar, tz=config.tz
        )
        if report is not None:
            report_view = ReportView(
                kind=str(report.kind),
                text=report.text,
                created_at=report.created_at.astimezone(config.tz).replace(tzinfo=None),
                author_name=loaded.name(report.author_id),
            )
            if last_report_on is not None:
                days_since_report = calendar.workdays_between(last_report_on, today)

    milestone = milestone_of(row, loaded)
    milestone_view = (
        _milestone_view(milestone, loaded, zh=zh, today=today, calendar=calendar)
        if milestone is not None
        else None
    )
    recipient_name = recipient.name if recipient else ""
    if not recipient_name and row.webhook_id is not None:
        about = assignment_view or milestone_view  # a group robot is addressed as the unit
        recipient_name = about.unit_name if about else (hook.name if hook else "")

    extension_view = None
    requester_name = None
    extension = None
    if payload.get("extension_id") is not None:
        extension = loaded.extensions.get(int(payload["extension_id"]))
        if extension is not None:
            requester_name = loaded.name(extension.requested_by_id)
            extension_view = ExtensionView(
                reason=extension.reason,
                progress=extension.progress,
                old_due_on=extension.old_due_on,
                new_due_on=extension.new_due_on,
                requested_by=requester_name,
            )
    report = payload_report
    if requester_name is None and report is not None:
        requester_name = loaded.name(report.author_id)

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
                or (loaded.name(reviewer_id) if decided is not None else "")
            ),
        )

    bulletin_view = None
    if payload.get("bulletin_id") is not None:
        bulletin = loaded.bulletins.get(int(payload["bulletin_id"]))
        if bulletin is not None:
            bulletin_view = _bulletin_view(bulletin, payload, locale)

    mail_reply_view = None
    if payload.get("outcome") and row.kind == "mail_reply":
        mail_reply_view = MailReplyView(
            outcome=str(payload["outcome"]),
            command=str(payload.get("command") or "progress"),
            reason=str(payload.get("reason") or ""),
            subject=str(payload.get("reply_subject") or ""),
            report_number=payload_report.number if payload_report is not None else None,
        )

    step = template_step(row)
    is_ladder = row.kind in LADDER_STEPS
    roles = {str(r) for r in payload.get("roles", [])}
    acts = bool(roles & ACTING_ROLES) or (
        recipient is not None
        and assignment is not None
        and recipient.id in (assignment.owner_id, assignment.leader_id)
    )
    active = assignment is not None and assignment.is_active
    robot = opened(hook, config.sealer) if hook is not None else (None, None)
    invite_link = _invite_link(payload, config.sealer)
    context = MessageContext(
        step=step,
        recipient_name=recipient_name,
        item=item_view,
        assignment=assignment_view,
        milestone=milestone_view,
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
        invite_link=invite_link,
        invite_expires_on=_as_date(payload.get("invite_expires_on")),
        invite_app=label(Channel(str(payload.get("invite_app") or Channel.TELEGRAM)), locale),
        bulletin=bulletin_view,
        reason=str(payload["reason"]) if payload.get("reason") else None,
        mail_reply=mail_reply_view,
        item_units=_item_units(item, loaded, zh) if row.kind == StepKind.ASSIGN else (),
        recipient_roles=tuple(sorted(roles)),
        digest=_digest(row, loaded, config=config, zh=zh, today=today, calendar=calendar),
        reply_within_days=(
            reply_within([s for s in policy.steps if s.active], row.kind)
            if policy is not None and is_ladder
            else None
        ),
        words=words(locale),
    )
    return BuiltContext(
        context=context,
        template_step=step,
        recipient=recipient,
        assignment=assignment,
        buttons=is_ladder and acts and active,
        webhook=hook,
        webhook_url=robot[0],
        webhook_secret=robot[1],
        secrets=(invite_link,) if invite_link else (),
        milestone=milestone,
        item=item,
    )


def _invite_link(payload: dict[str, Any], sealer: Sealer | None) -> str | None:
    """The invite link of an invite row: opened from its seal (rows queued before links were
    sealed carry it in clear)."""
    sealed = payload.get(SEALED_LINK)
    if sealed:
        if sealer is None:
            raise SealBroken("the invite link is sealed and no secret key was given to open it")
        return sealer.open(str(sealed))
    return str(payload["invite_link"]) if payload.get("invite_link") else None


async def build_contexts(
    session: AsyncSession,
    rows: Sequence[Notification],
    *,
    config: ContextConfig,
    clock: Clock,
    calendar: WorkCalendar,
) -> list[BuiltContext | Exception]:
    """The contexts to render ``rows`` with, read in ``session`` in a few queries for all.

    One entry per row, in order; a row whose context cannot be built (bad data, a bug) gets
    the exception instead, so it cannot hold up the others.
    """
    loaded = await _load(session, rows)
    today = local_today(clock, config.tz)
    out: list[BuiltContext | Exception] = []
    for row in rows:
        try:
            out.append(_make(row, loaded, config=config, today=today, calendar=calendar))
        except Exception as exc:
            out.append(exc)
    return out


async def build_context(
    session: AsyncSession,
    row: Notification,
    *,
    config: ContextConfig,
    clock: Clock,
    calendar: WorkCalendar,
) -> BuiltContext:
    """The context to render ``row`` with, read in ``session``."""
    [built] = await build_contexts(session, [row], config=config, clock=clock, calendar=calendar)
    if isinstance(built, Exception):
        raise built
    return built
