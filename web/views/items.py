"""Items (督查事项): the filtered list, the detail page with one timeline, create, edit, cancel,
the default-deadline JSON endpoint, and reports / extension requests filed from the web."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import quote, urlencode

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from models import (
    Assignment,
    Attachment,
    Extension,
    Item,
    Origin,
    Person,
    Report,
    ReportKind,
    ReviewState,
    Source,
    Unit,
)
from supervision.access import Action, Permission, item_visible
from supervision.audit import Actor
from supervision.calendar_store import load_calendar
from supervision.clock import local_today
from supervision.deadlines import DeadlineError, default_due
from supervision.errors import DomainError, ValidationFailed
from supervision.item_list import (
    Cursor,
    ItemFilter,
    ItemPage,
    ItemRow,
    ItemSort,
    SortKey,
    page_items,
)
from supervision.item_schema import ItemInput
from supervision.items import ItemSpec, due_in_force, item_light, save_item
from supervision.labels import Sentence, days_phrase, refusals, say
from supervision.lifecycle import cancel_item
from supervision.light import Light
from supervision.milestones import list_milestones
from supervision.policy import due_working_days
from supervision.requests import report_or_request_completion, request_extension
from supervision.rework import MAX_REASON as MAX_REOPEN_REASON
from supervision.rework import reopen_item, transfer_assignment
from supervision.timeline import DB_STORAGE
from supervision.validation import validate
from web.access import require, require_item
from web.app import DEPS, WebDeps
from web.auth import Principal
from web.views.common import (
    PAGE_SIZE,
    clamp_page,
    date_or_none,
    int_or_none,
    lang_of,
    path_id,
    redirect,
    refused,
    render,
    text_field,
)
from web.views.timeline import timeline
from web.views.uploads import posted_files

LIGHTS = ("red", "yellow", "green", "grey")
FORM_FIELDS = (
    "ref",
    "title",
    "source",
    "received_on",
    "due_on",
    "objective",
    "content",
    "lead_unit",
    "owner",
    "leader",
)


@dataclass(slots=True)
class Filters:
    """The list filters, parsed from the query string."""

    unit: int | None = None
    source: str = ""
    light: str = ""
    due_from: date | None = None
    due_to: date | None = None
    q: str = ""
    page: int = 1
    after: int | None = None  # keyset cursor (`supervision.item_list.Cursor`): rows after it
    before: int | None = None  # or before it
    sort: ItemSort = dataclasses.field(default_factory=ItemSort)

    def sorted_by(self, key: str) -> str:
        """The query string that orders the list by column ``key`` from its first page: the
        column's own direction, reversed when the list is already ordered by it."""
        column = SortKey(key)
        if self.sort.key is column:
            direction = "asc" if self.sort.descending else "desc"
        else:
            direction = "desc" if ItemSort.of(key).descending else "asc"
        return self.query(sort=key, dir=direction, page="", after=None, before=None)

    def where(self, scope: Any) -> ItemFilter:
        """These filters for `supervision.item_list`, inside ``scope``."""
        return ItemFilter(
            scope=scope,
            unit_id=self.unit,
            source=self.source,
            light=Light(self.light) if self.light else None,
            due_from=self.due_from,
            due_to=self.due_to,
            text=self.q,
        )

    @property
    def cursor(self) -> Cursor | None:
        """The keyset cursor asked for (``after`` wins), if any."""
        if self.after is not None:
            return Cursor(self.after)
        return Cursor(self.before, before=True) if self.before is not None else None

    def query(self, **override: Any) -> str:
        """The query string for these filters with ``override`` applied."""
        values: dict[str, Any] = {
            "unit": self.unit or "",
            "source": self.source,
            "light": self.light,
            "due_from": self.due_from.isoformat() if self.due_from else "",
            "due_to": self.due_to.isoformat() if self.due_to else "",
            "q": self.q,
            "page": self.page if self.cursor is None else "",
            "after": self.after,
            "before": self.before if self.after is None else None,
            "sort": "" if self.sort == ItemSort() else self.sort.key.value,
            "dir": "" if self.sort == ItemSort() else ("desc" if self.sort.descending else "asc"),
        }
        values.update(override)
        return urlencode({k: v for k, v in values.items() if v not in ("", None)})


def parse_filters(query: Any) -> Filters:
    """Filters from a query string; unknown values are ignored."""
    source = query.get("source", "")
    light = query.get("light", "")
    return Filters(
        unit=int_or_none(query.get("unit")),
        source=source if source in {s.value for s in Source} else "",
        light=light if light in LIGHTS else "",
        due_from=date_or_none(query.get("due_from")),
        due_to=date_or_none(query.get("due_to")),
        q=str(query.get("q", "")).strip()[:200],
        page=max(1, int_or_none(query.get("page")) or 1),
        after=_item_id(query.get("after")),
        before=_item_id(query.get("before")),
        sort=ItemSort.of(str(query.get("sort", "")), str(query.get("dir", ""))),
    )


def _item_id(raw: object) -> int | None:
    """A cursor's item id; anything else (malformed, out of range) means no cursor."""
    value = int_or_none(raw)
    return value if value is not None and 0 < value < 2**31 else None


async def _units(session: AsyncSession, me: Principal | None = None) -> list[Unit]:
    query = select(Unit).order_by(Unit.code)
    if me is not None:
        query = me.scope.filter_units(query)
    return list((await session.scalars(query)).all())


async def items_list(request: web.Request) -> web.StreamResponse:
    """GET /items: the filtered, paged list (filtered, counted and paged in the database)."""
    me = require(request, Permission.VIEW)
    deps: WebDeps = request.app[DEPS]
    filters = parse_filters(request.query)
    where = filters.where(me.scope)
    async with deps.sessions() as session:
        calendar = await load_calendar(session)
        today = local_today(deps.clock, deps.config.tz)
        found = await page_items(
            session,
            where,
            today=today,
            calendar=calendar,
            tz=deps.config.tz,
            offset=(filters.page - 1) * PAGE_SIZE,
            limit=PAGE_SIZE,
            cursor=filters.cursor,
            sort=filters.sort,
        )
        total = found.total
        page, pages = clamp_page(filters.page, total)
        shown = found.rows
        if filters.cursor is None and page != filters.page:  # past the end: the last page
            shown = (
                await page_items(
                    session,
                    where,
                    today=today,
                    calendar=calendar,
                    tz=deps.config.tz,
                    offset=(page - 1) * PAGE_SIZE,
                    limit=PAGE_SIZE,
                    count=False,
                    sort=filters.sort,
                )
            ).rows
        links = _pager(filters, found, shown, page, pages)
        units = await _units(session, me)
    return render(
        request,
        "items/list.html",
        {
            "rows": shown,
            "filters": filters,
            "units": units,
            "sources": [s.value for s in Source],
            "lights": LIGHTS,
            "page": page,
            "pages": pages,
            "total": total,
            "links": links,
            "days": lambda n: days_phrase(n, lang_of(request)),
        },
    )


def _pager(
    filters: Filters, found: ItemPage, shown: list[ItemRow], page: int, pages: int
) -> dict[str, str]:
    """The pager's query strings: the next page by keyset cursor (after the last row shown);
    the previous one by number while pages are numbered, else by cursor (before the first)."""
    base = dataclasses.replace(filters, page=1, after=None, before=None)  # the sort stays
    cursor = filters.cursor
    if not shown:
        return {"first": base.query()} if cursor is not None else {}
    back = cursor is not None and cursor.before
    links: dict[str, str] = {}
    if (cursor is None and page < pages) or (cursor is not None and (back or found.more)):
        links["next"] = dataclasses.replace(base, after=shown[-1].id).query()
    if cursor is None:
        if page > 1:
            links["prev"] = dataclasses.replace(base, page=page - 1).query()
        return links
    links["first"] = base.query()
    if not back or found.more:
        links["prev"] = dataclasses.replace(base, before=shown[0].id).query()
    return links


# --- detail and timeline ----------------------------------------------------------------------


async def load_item(session: AsyncSession, me: Principal, item_id: int) -> Item:
    """The item with its assignments; 404 when it does not exist or is not visible."""
    await require_item(session, me, item_id)
    item = await session.scalar(
        select(Item)
        .where(Item.id == item_id)
        .options(
            selectinload(Item.assignments).selectinload(Assignment.unit),
            selectinload(Item.assignments).selectinload(Assignment.owner),
            selectinload(Item.assignments).selectinload(Assignment.leader),
            selectinload(Item.milestones),
        )
    )
    if item is None:
        raise web.HTTPNotFound(text="404: no such item")
    return item


async def detail_page(
    request: web.Request, item_id: int, *, errors: list[str] | None = None, status: int = 200
) -> web.Response:
    me = require(request, Permission.VIEW)
    deps: WebDeps = request.app[DEPS]
    async with deps.sessions() as session:
        item = await load_item(session, me, item_id)
        calendar = await load_calendar(session)
        today = local_today(deps.clock, deps.config.tz)
        light = item_light(item, today=today, calendar=calendar, tz=deps.config.tz)
        entries = await timeline(session, item, lang_of(request))
        stages = await list_milestones(
            session, scope=me.scope, item_id=item.id, today=today, calendar=calendar
        )
        choices = await _form_choices(session) if me.allows(Permission.EDIT_ITEMS) else {}
        reportable = [
            a.id for a in item.assignments if a.is_active and me.scope.can(Action.REPORT, a)
        ]
        asg_ids = [a.id for a in item.assignments]
        pending_reports: list[Report] = []
        pending_extensions: list[Extension] = []
        if me.allows(Permission.REVIEW) and asg_ids:
            pending_reports = list(
                (
                    await session.scalars(
                        select(Report).where(
                            Report.assignment_id.in_(asg_ids),
                            Report.kind == ReportKind.COMPLETION,
                            Report.review_state == ReviewState.PENDING,
                        )
                    )
                ).all()
            )
            pending_extensions = list(
                (
                    await session.scalars(
                        select(Extension).where(
                            Extension.assignment_id.in_(asg_ids),
                            Extension.state == ReviewState.PENDING,
                        )
                    )
                ).all()
            )
    return render(
        request,
        "items/detail.html",
        {
            "transfer": choices or None,  # 转办: the same units and people as the item form
            "item": item,
            "light": light,
            "due": due_in_force(item),
            "entries": entries,
            "reportable": reportable,
            "units": {a.id: a.unit.name for a in item.assignments},
            "pending_reports": pending_reports,
            "pending_extensions": pending_extensions,
            "milestones": stages,
            "choices": choices,
            "errors": errors or [],
        },
        status=status,
    )


async def item_detail(request: web.Request) -> web.StreamResponse:
    """GET /items/{id}: the item, its assignments and its timeline."""
    return await detail_page(request, path_id(request))


# --- create / edit ----------------------------------------------------------------------------


async def _form_choices(session: AsyncSession) -> dict[str, Any]:
    """The choices of the item form and the 转办 form: units, and the active people (the
    columns the forms show), also grouped by unit for the per-unit option groups."""
    people = (
        await session.execute(
            select(Person.id, Person.name, Person.email, Person.unit_id)
            .where(Person.active)
            .order_by(Person.name)
        )
    ).all()
    members: dict[int | None, list[Any]] = {}
    for person in people:
        members.setdefault(person.unit_id, []).append(person)
    return {
        "units": await _units(session),
        "people": people,
        "members": members,
        "sources": [s.value for s in Source],
    }


def _spec_from_form(form: Any, lang: str) -> tuple[ItemSpec | None, list[str], dict[str, Any]]:
    """An ItemSpec from the posted form, or the problems found (said in ``lang``); plus the
    raw values."""
    raw: dict[str, Any] = {name: text_field(form, name) for name in FORM_FIELDS}
    raw["urgent"] = form.get("urgent") == "on"
    raw["co_units"] = [v for v in form.getall("co_units", []) if isinstance(v, str)]
    raw["co_owners"] = [v for v in form.getall("co_owners", []) if isinstance(v, str)]
    problems: list[str] = []
    source = raw["source"]
    if source not in {s.value for s in Source}:
        problems.append(say(Sentence.SOURCE_UNKNOWN, lang, source=source))
    received = date_or_none(raw["received_on"])
    if received is None:
        problems.append(say(Sentence.RECEIVED_ON_BAD, lang))
    due = date_or_none(raw["due_on"])
    if raw["due_on"] and due is None:
        problems.append(say(Sentence.DUE_ON_BAD, lang))
    lead = int_or_none(raw["lead_unit"])
    if lead is None:
        problems.append(say(Sentence.LEAD_UNIT_REQUIRED, lang))
    co: list[int] = []
    for value in raw["co_units"]:
        unit_id = int_or_none(value)
        if unit_id is None:
            problems.append(say(Sentence.CO_UNIT_BAD, lang, value=value))
        else:
            co.append(unit_id)
    co_owners = _co_owners(raw["co_owners"], co, problems, lang)
    if problems or received is None or lead is None:
        return None, problems, raw
    fields = {
        "ref": raw["ref"],
        "title": raw["title"],
        "source": source,
        "received_on": received,
        "due_on": due,
        "urgent": bool(raw["urgent"]),
        "objective": raw["objective"],
        "content": raw["content"],
        "lead": {
            "unit_id": lead,
            "owner_id": int_or_none(raw["owner"]),
            "leader_id": int_or_none(raw["leader"]),
        },
        "co": [{"unit_id": u, "owner_id": co_owners.get(u)} for u in co if u != lead],
    }
    try:  # the item's own rules are the API's and the import's (supervision.item_schema)
        return validate(ItemInput, fields).spec(), [], raw
    except ValidationFailed as exc:
        return None, exc.errors, raw


def _co_owners(values: list[str], co: list[int], problems: list[str], lang: str) -> dict[int, int]:
    """The chosen co owners (协办责任人), ``unit:person`` values, by co unit.

    The form offers each unit's own people; whether the person really belongs to the unit is
    `save_item`'s rule, so a forged value is refused there.
    """
    owners: dict[int, int] = {}
    for value in values:
        unit_text, _, person_text = value.partition(":")
        unit_id, person_id = int_or_none(unit_text), int_or_none(person_text)
        if unit_id is None or person_id is None:
            problems.append(say(Sentence.CO_OWNER_BAD, lang, value=value))
        elif unit_id not in co:
            problems.append(say(Sentence.CO_OWNER_UNIT_NOT_CHOSEN, lang))
        elif unit_id in owners:
            problems.append(say(Sentence.CO_OWNER_TWICE, lang))
        else:
            owners[unit_id] = person_id
    return owners


def _raw_from_item(item: Item) -> dict[str, Any]:
    lead = next((a for a in item.assignments if a.role == "lead" and a.is_active), None)
    co = [a for a in item.assignments if a.role == "co" and a.is_active]
    return {
        "ref": item.ref,
        "title": item.title,
        "source": item.source,
        "received_on": item.received_on.isoformat(),
        "due_on": "" if item.due_is_default else item.due_on.isoformat(),
        "objective": item.objective,
        "content": item.content,
        "lead_unit": str(lead.unit_id) if lead else "",
        "owner": str(lead.owner_id or "") if lead else "",
        "leader": str(lead.leader_id or "") if lead else "",
        "urgent": item.urgent,
        "co_units": [str(a.unit_id) for a in co],
        "co_owners": [f"{a.unit_id}:{a.owner_id}" for a in co if a.owner_id is not None],
    }


async def _form_page(
    request: web.Request,
    raw: dict[str, Any],
    *,
    item: Item | None,
    errors: list[str] | None = None,
    status: int = 200,
) -> web.Response:
    deps: WebDeps = request.app[DEPS]
    async with deps.sessions() as session:
        choices = await _form_choices(session)
    return render(
        request,
        "items/form.html",
        {"raw": raw, "item": item, "errors": errors or [], **choices},
        status=status,
    )


async def item_new(request: web.Request) -> web.StreamResponse:
    """GET /items/new: the create form."""
    require(request, Permission.EDIT_ITEMS)
    deps: WebDeps = request.app[DEPS]
    today = local_today(deps.clock, deps.config.tz)
    raw: dict[str, Any] = dict.fromkeys(FORM_FIELDS, "")
    raw.update(
        source="instruction", received_on=today.isoformat(), urgent=False, co_units=[], co_owners=[]
    )
    return await _form_page(request, raw, item=None)


async def _save(request: web.Request, item: Item | None) -> web.StreamResponse:
    me = require(request, Permission.EDIT_ITEMS)
    deps: WebDeps = request.app[DEPS]
    form = await request.post()
    spec, problems, raw = _spec_from_form(form, lang_of(request))
    if item is not None:
        raw["ref"] = item.ref
        if spec is not None:
            spec = dataclasses.replace(spec, ref=item.ref)
    if spec is None:
        return await _form_page(request, raw, item=item, errors=problems, status=400)
    try:
        async with deps.sessions() as session, session.begin():
            if item is None and await session.scalar(select(Item.id).where(Item.ref == spec.ref)):
                raise DomainError(f"an item with ref {spec.ref!r} already exists")
            person = await session.get_one(Person, me.person_id)
            result = await save_item(session, spec, actor=Actor.of(person), clock=deps.clock)
            item_id = result.item.id
    except DomainError as exc:
        return await _form_page(request, raw, item=item, errors=refused(request, exc), status=400)
    raise redirect(f"/items/{item_id}?msg=flash.saved")


async def item_create(request: web.Request) -> web.StreamResponse:
    """POST /items/new: create an item."""
    return await _save(request, None)


async def item_edit(request: web.Request) -> web.StreamResponse:
    """GET /items/{id}/edit: the edit form."""
    me = require(request, Permission.EDIT_ITEMS)
    deps: WebDeps = request.app[DEPS]
    async with deps.sessions() as session:
        item = await load_item(session, me, path_id(request))
    return await _form_page(request, _raw_from_item(item), item=item)


async def item_update(request: web.Request) -> web.StreamResponse:
    """POST /items/{id}/edit: save changes."""
    me = require(request, Permission.EDIT_ITEMS)
    deps: WebDeps = request.app[DEPS]
    async with deps.sessions() as session:
        item = await load_item(session, me, path_id(request))
    return await _save(request, item)


async def item_cancel(request: web.Request) -> web.StreamResponse:
    """POST /items/{id}/cancel: cancel with a reason."""
    me = require(request, Permission.EDIT_ITEMS)
    deps: WebDeps = request.app[DEPS]
    item_id = path_id(request)
    form = await request.post()
    reason = text_field(form, "reason", 500)
    try:
        async with deps.sessions() as session, session.begin():
            item = await load_item(session, me, item_id)
            person = await session.get_one(Person, me.person_id)
            await cancel_item(
                session, item, actor=Actor.of(person), clock=deps.clock, reason=reason
            )
    except DomainError as exc:
        return await detail_page(request, item_id, errors=[str(exc)], status=400)
    raise redirect(f"/items/{item_id}?msg=flash.saved")


async def item_reopen(request: web.Request) -> web.StreamResponse:
    """POST /items/{id}/reopen: 退回重办, with a reason and a new deadline (confirmed)."""
    me = require(request, Permission.EDIT_ITEMS)
    deps: WebDeps = request.app[DEPS]
    item_id = path_id(request)
    form = await request.post()
    reason = text_field(form, "reason", MAX_REOPEN_REASON)
    due = date_or_none(text_field(form, "due_on"))
    problems: list[str] = []
    if form.get("confirm") != "on":
        problems.append(say(Sentence.REOPEN_CONFIRM, lang_of(request)))
    if due is None:
        problems.append(say(Sentence.REOPEN_DUE_REQUIRED, lang_of(request)))
    if problems:
        return await detail_page(request, item_id, errors=problems, status=400)
    assert due is not None
    try:
        async with deps.sessions() as session, session.begin():
            item = await load_item(session, me, item_id)
            person = await session.get_one(Person, me.person_id)
            await reopen_item(
                session,
                item,
                reason=reason,
                due_on=due,
                actor=Actor.of(person),
                clock=deps.clock,
                tz=deps.config.tz,
            )
    except DomainError as exc:
        return await detail_page(request, item_id, errors=refused(request, exc), status=400)
    raise redirect(f"/items/{item_id}?msg=flash.saved")


async def assignment_transfer(request: web.Request) -> web.StreamResponse:
    """POST /items/{id}/assignments/{aid}/transfer: 转办, with a reason (confirmed)."""
    me = require(request, Permission.EDIT_ITEMS)
    deps: WebDeps = request.app[DEPS]
    item_id = path_id(request)
    assignment_id = int(request.match_info["aid"])
    form = await request.post()
    reason = text_field(form, "reason", MAX_REOPEN_REASON)
    if form.get("confirm") != "on":
        return await detail_page(
            request, item_id, errors=[say(Sentence.TRANSFER_CONFIRM, lang_of(request))], status=400
        )
    try:
        async with deps.sessions() as session, session.begin():
            item = await load_item(session, me, item_id)
            assignment = next((a for a in item.assignments if a.id == assignment_id), None)
            if assignment is None:
                raise web.HTTPNotFound(text="404: no such assignment")
            person = await session.get_one(Person, me.person_id)
            await transfer_assignment(
                session,
                assignment,
                reason=reason,
                unit_id=int_or_none(form.get("unit_id")),
                owner_id=int_or_none(form.get("owner_id")),
                actor=Actor.of(person),
                clock=deps.clock,
            )
    except DomainError as exc:
        return await detail_page(request, item_id, errors=refused(request, exc), status=400)
    raise redirect(f"/items/{item_id}?msg=flash.saved")


async def default_due_json(request: web.Request) -> web.StreamResponse:
    """GET /items/default-due?received_on=&source=&urgent=: the deadline the rules give."""
    require(request, Permission.VIEW)
    deps: WebDeps = request.app[DEPS]
    received = date_or_none(request.query.get("received_on"))
    source = request.query.get("source", "")
    urgent = request.query.get("urgent", "") in ("1", "true", "on")
    if received is None or source not in {s.value for s in Source}:
        return web.json_response(
            {"error": "received_on (YYYY-MM-DD) and a known source are required"}, status=400
        )
    async with deps.sessions() as session:
        days = await due_working_days(session, source, urgent)
        calendar = await load_calendar(session)
    try:
        due = default_due(received, calendar, days)
    except DeadlineError as exc:
        return web.json_response({"error": str(exc)}, status=400)
    return web.json_response(
        {"due_on": due.day.isoformat(), "provisional": due.provisional, "working_days": days}
    )


# --- reports and extensions from the web ------------------------------------------------------


async def _assignment_for(
    session: AsyncSession, me: Principal, item_id: int, assignment_id: int
) -> tuple[Assignment, Person]:
    """The assignment to report on: 404 unless its item is in scope, 403 unless the person
    may report on it (`supervision.access.Scope.can`)."""
    await require_item(session, me, item_id)
    assignment = await session.get(Assignment, assignment_id)
    if assignment is None or assignment.item_id != item_id:
        raise web.HTTPNotFound(text="404: no such assignment")
    if not me.scope.can(Action.REPORT, assignment):
        raise web.HTTPForbidden(text="403: you may not report on this assignment")
    return assignment, await session.get_one(Person, me.person_id)


async def file_report_post(request: web.Request) -> web.StreamResponse:
    """POST /items/{id}/assignments/{aid}/report: a progress or completion report, with files."""
    me = require(request, Permission.VIEW)
    deps: WebDeps = request.app[DEPS]
    item_id, assignment_id = path_id(request), path_id(request, "aid")
    form = await request.post()
    text = text_field(form, "text", 20_000)
    kind = (
        ReportKind.COMPLETION if text_field(form, "kind") == "completion" else ReportKind.PROGRESS
    )
    uploads, problems = posted_files(form)
    try:
        async with deps.sessions() as session, session.begin():
            assignment, person = await _assignment_for(session, me, item_id, assignment_id)
            if problems:
                raise refusals(ValidationFailed, problems)
            files = [a for a, _ in uploads]
            report = await report_or_request_completion(
                session,
                kind=kind,
                assignment=assignment,
                person=person,
                text=text,
                clock=deps.clock,
                attachments=files,
                channel=Origin.WEB,
                milestone_id=int_or_none(form.get("milestone_id")),
            )
            stored = {a.file_id: a for a in report.attachments}
            for attachment, data in uploads:
                stored[attachment.file_id].content = data
    except DomainError as exc:
        return await detail_page(request, item_id, errors=refused(request, exc), status=400)
    raise redirect(f"/items/{item_id}?msg=flash.saved")


async def attachment_download(request: web.Request) -> web.StreamResponse:
    """GET /attachments/{id}: a web-uploaded file, for those who may see its item."""
    me = require(request, Permission.VIEW)
    deps: WebDeps = request.app[DEPS]
    async with deps.sessions() as session:
        row = (
            await session.execute(
                select(Attachment.file_name, Attachment.storage, Assignment.item_id)
                .join(Report, Report.id == Attachment.report_id)
                .join(Assignment, Assignment.id == Report.assignment_id)
                .where(Attachment.id == path_id(request))
            )
        ).first()
        if row is None or not await item_visible(session, me.scope, row.item_id):
            raise web.HTTPNotFound(text="404: no such file")
        if row.storage != DB_STORAGE:
            raise web.HTTPNotFound(text="404: this file is kept by Telegram, not here")
        content = await session.scalar(
            select(Attachment.content).where(Attachment.id == path_id(request))
        )
    if content is None:
        raise web.HTTPNotFound(text="404: no such file")
    name = row.file_name or "attachment"
    return web.Response(
        body=content,
        content_type="application/octet-stream",
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name, safe='')}",
            "Cache-Control": "private, no-store",
        },
    )


async def extension_post(request: web.Request) -> web.StreamResponse:
    """POST /items/{id}/assignments/{aid}/extension: ask for a later deadline."""
    me = require(request, Permission.VIEW)
    deps: WebDeps = request.app[DEPS]
    item_id, assignment_id = path_id(request), path_id(request, "aid")
    form = await request.post()
    new_due = date_or_none(form.get("new_due_on"))
    if new_due is None:
        said = say(Sentence.EXTENSION_DATE_BAD, lang_of(request))
        return await detail_page(request, item_id, errors=[said], status=400)
    try:
        async with deps.sessions() as session, session.begin():
            assignment, person = await _assignment_for(session, me, item_id, assignment_id)
            await request_extension(
                session,
                assignment=assignment,
                person=person,
                reason=text_field(form, "reason", 4000),
                progress=text_field(form, "progress", 4000),
                new_due_on=new_due,
                clock=deps.clock,
                tz=deps.config.tz,
                channel=Origin.WEB,
            )
    except DomainError as exc:
        return await detail_page(request, item_id, errors=refused(request, exc), status=400)
    raise redirect(f"/items/{item_id}?msg=flash.saved")


def routes(app: web.Application) -> None:
    """Register the item pages."""
    app.router.add_get("/items", items_list, name="items")
    app.router.add_get("/items/new", item_new, name="item_new")
    app.router.add_post("/items/new", item_create)
    app.router.add_get("/items/default-due", default_due_json, name="default_due")
    app.router.add_get("/items/{id:\\d+}", item_detail, name="item")
    app.router.add_get("/items/{id:\\d+}/edit", item_edit, name="item_edit")
    app.router.add_post("/items/{id:\\d+}/edit", item_update)
    app.router.add_post("/items/{id:\\d+}/cancel", item_cancel, name="item_cancel")
    app.router.add_post("/items/{id:\\d+}/reopen", item_reopen, name="item_reopen")
    app.router.add_post(
        "/items/{id:\\d+}/assignments/{aid:\\d+}/transfer",
        assignment_transfer,
        name="assignment_transfer",
    )
    app.router.add_post(
        "/items/{id:\\d+}/assignments/{aid:\\d+}/report", file_report_post, name="item_report"
    )
    app.router.add_post(
        "/items/{id:\\d+}/assignments/{aid:\\d+}/extension", extension_post, name="item_extension"
    )
    app.router.add_get("/attachments/{id:\\d+}", attachment_download, name="attachment")
